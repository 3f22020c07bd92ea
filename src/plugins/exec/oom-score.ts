import { inject, injectable } from 'tsyringe';
import { naming } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * process.oomScoreAdj: this process's /proc/self/oom_score_adj (proc(5)), which execve(2)
 * keeps, so the container's program has it. Written first, while /proc is still the
 * host's procfs rather than a directory of the image (runc writes it from its parent
 * process before its init runs). Lowering it needs CAP_SYS_RESOURCE (EACCES otherwise).
 */
@injectable()
export class OomScoreAdjStep implements LifecycleStep {
  readonly name = 'oom-score-adj';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const adj = ctx.config.process.oomScoreAdj;
    if (adj === undefined) return;
    naming(`process.oomScoreAdj ${adj}`, () => this.sys.writeFile('/proc/self/oom_score_adj', String(adj)));
  }
}
