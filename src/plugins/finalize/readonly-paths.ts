import { inject, injectable } from 'tsyringe';
import { MS_BIND, MS_REC } from '../../core/constants';
import { fdPath, openInRootIfExists, withInRoot } from '../../core/in-root';
import { hasContainerProc } from '../../core/procfs';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { remountReadonly, securityFlagsOf } from './remount';
import { readonlyBindWithoutProc } from './without-proc';

/**
 * linux.readonlyPaths: each path is bound onto itself with the mounts below it, and the
 * new bind is made read-only; a path that does not exist is skipped. The path is opened
 * inside the container's root as written (links and `..` followed, never out of it) and
 * bound through its descriptor; the remount looks it up
 * again, which reaches the new bind (the first descriptor shows what lies under it).
 *
 * The bind gets its own flags, so the remount changes only the view at that path. A bind
 * remount sets the mount's nosuid, nodev, noexec and nosymfollow to those given (mount(2),
 * "Remounting an existing mount"), so the new bind's are read first (fstatfs(2) on its
 * descriptor) and kept, as runc 1.1 and later keep the first three: `/dev/shm` made
 * read-only stays nosuid, nodev and noexec, a path under a `nosymfollow` volume follows no
 * symlink still, and a user namespace, which may not clear the first three where they are
 * locked, is not refused. The kernel ignores MS_REC on the remount: mounts below the path
 * keep their own flags (runc passes MS_REC as well). Where the container has no procfs
 * at /proc, the bind is a recursive copy made read-only before it is attached
 * (without-proc.ts), which keeps the copied flags as the remount does.
 */
@injectable()
export class ReadonlyPathsStep implements LifecycleStep {
  readonly name = 'readonly-paths';
  readonly handles = ['linux.readonlyPaths'];
  readonly phase = 'finalize' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const paths = ctx.config.readonlyPaths;
    if (paths.length === 0) return;
    const viaProc = hasContainerProc(this.sys, ctx, 'linux.readonlyPaths mounted by descriptor through the new mount API');
    for (const path of paths) {
      const fd = openInRootIfExists(this.sys, '/', path);
      if (fd === undefined) continue;
      try {
        if (!viaProc) {
          readonlyBindWithoutProc(this.sys, fd, path);
          continue;
        }
        this.sys.mount(fdPath(fd), fdPath(fd), null, MS_BIND | MS_REC, null);
      } finally {
        this.sys.close(fd);
      }
      withInRoot(this.sys, '/', path, (top) => remountReadonly(this.sys, fdPath(top), MS_REC | securityFlagsOf(this.sys.fstatfs(top).flags), path));
    }
  }
}
