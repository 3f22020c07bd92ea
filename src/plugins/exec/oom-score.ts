import { inject, injectable } from 'tsyringe';
import { naming } from '../../core/errors';
import { SCORE_FILE } from '../../core/oom-score';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * process.oomScoreAdj: this process's /proc/self/oom_score_adj (proc(5)), which fork(2)
 * and execve(2) keep, so the container's program has it. runc writes it before anything
 * else (its parent, for its init), so a score the kernel refuses (lowering it needs
 * CAP_SYS_RESOURCE: EACCES) stops the run before any mount or hook; and runc's parent
 * runs the prestart and createRuntime hooks with its own score, its init the
 * createContainer and startContainer hooks with the container's.
 *
 * Both hold here. First in the run, while /proc is still the host's procfs, the score is
 * written (the kernel's check). `mountkit run` sends prestart and createRuntime hooks to
 * its first process (RootfsConfig.runtimeChannel), which runs them with its own score.
 * Without a runtime channel (an embedder's run) they run here: mountkit's own score is
 * then written back for them (always allowed: a process may return to a score it held,
 * and a holder of CAP_SYS_RESOURCE to any), and OomScoreAfterHooksStep writes the
 * container's again after them, before the createContainer hooks. In a user namespace
 * mountkit made, its first process set the score from the host before the relaunch
 * (core/oom-score.ts, presetOomScore), which then has it as its own.
 */

/** Set when mountkit's own score was written back for the runtime's hooks. */
const PENDING_KEY = 'exec.oom-score-pending';

@injectable()
export class OomScoreAdjStep implements LifecycleStep {
  readonly name = 'oom-score-adj';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const adj = ctx.config.process.oomScoreAdj;
    if (adj === undefined) return;
    naming(`process.oomScoreAdj ${adj}`, () => {
      // With a runtime channel the runtime's hooks run in the process at its other end, with that process's score.
      const { prestart, createRuntime } = ctx.config.hooks;
      const hooksHere = prestart.length + createRuntime.length > 0 && ctx.config.runtimeChannel === undefined;
      const own = hooksHere ? this.sys.readFile(SCORE_FILE).trim() : undefined;
      this.sys.writeFile(SCORE_FILE, String(adj));
      if (own === undefined) return;
      this.sys.writeFile(SCORE_FILE, own);
      ctx.shared.set(PENDING_KEY, true);
    });
  }
}

/** The container's score again after the runtime's hooks (OciHooksStep, earlier in this phase's `pre`), before the jail. */
@injectable()
export class OomScoreAfterHooksStep implements LifecycleStep {
  readonly name = 'oom-score-adj';
  readonly phase = 'before-jail' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const adj = ctx.config.process.oomScoreAdj;
    if (adj === undefined || ctx.shared.get(PENDING_KEY) !== true) return;
    naming(`process.oomScoreAdj ${adj}`, () => this.sys.writeFile(SCORE_FILE, String(adj)));
  }
}
