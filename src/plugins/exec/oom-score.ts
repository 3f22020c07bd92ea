import { inject, injectable } from 'tsyringe';
import { naming } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * process.oomScoreAdj: this process's /proc/self/oom_score_adj (proc(5)), which fork(2)
 * and execve(2) keep, so the container's program has it. Written before the jail, while
 * /proc is still the host's procfs rather than a directory of the image, and after the
 * prestart and createRuntime hooks (OciHooksStep, earlier in this phase's `pre`): runc's
 * parent process runs those with its own score, its init the createContainer and
 * startContainer hooks with the container's. Lowering it needs CAP_SYS_RESOURCE (EACCES
 * otherwise).
 */
@injectable()
export class OomScoreAdjStep implements LifecycleStep {
  readonly name = 'oom-score-adj';
  readonly phase = 'before-jail' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const adj = ctx.config.process.oomScoreAdj;
    if (adj === undefined) return;
    naming(`process.oomScoreAdj ${adj}`, () => this.sys.writeFile('/proc/self/oom_score_adj', String(adj)));
  }
}
