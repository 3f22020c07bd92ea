import { inject, injectable } from 'tsyringe';
import { MS_BIND, MS_REC } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { cleanPath } from '../../core/paths';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { remountReadonly } from './remount';

/**
 * linux.readonlyPaths: each path is bound onto itself with the mounts below it, and the
 * new bind is made read-only; a path that does not exist is skipped.
 *
 * The bind gets its own flags, so the remount changes only the view at that path. The
 * kernel ignores MS_REC on the remount: mounts below the path keep their own flags
 * (runc 1.1 passes MS_REC as well). runc 1.2+ first reads the path's nosuid, nodev and
 * noexec with statfs(2) and keeps them, since a user namespace may not clear them;
 * mountkit's port has no statfs, so a remount that would clear a locked flag fails
 * with EPERM here.
 */
@injectable()
export class ReadonlyPathsStep implements LifecycleStep {
  readonly name = 'readonly-paths';
  readonly phase = 'finalize' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    for (const path of ctx.config.readonlyPaths.map(cleanPath)) {
      try {
        this.sys.mount(path, path, null, MS_BIND | MS_REC, null);
      } catch (err) {
        if (err instanceof SyscallError && err.code === 'ENOENT') continue;
        throw err;
      }
      remountReadonly(this.sys, path, MS_REC);
    }
  }
}
