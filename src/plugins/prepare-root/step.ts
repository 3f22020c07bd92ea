import { inject, injectable } from 'tsyringe';
import { MS_BIND, MS_PRIVATE, MS_REC } from '../../core/constants';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { rootPropagation, sharedParentOf } from './propagation';

/**
 * Makes the rootfs a mountpoint that can become the new root, in three calls that only
 * make sense together and in this order (one step rather than three, so that no other
 * step can come between them), then makes it the working directory:
 *  1. `/` gets its propagation (rslave by default), recursively;
 *  2. the mount holding the rootfs becomes private if it is still shared. The mount table
 *     is read after call 1 so that its shared:N tags show the propagation call 1 left;
 *  3. the rootfs is bound onto itself with MS_BIND|MS_REC: pivot_root(2) needs new_root
 *     to be a mountpoint, and so does MS_MOVE its source (mount(2)); MS_REC keeps the
 *     mounts already below it.
 *  4. chdir(2) into it (the new bind, the path's top mount now): a relative path the
 *     mounts give the kernel (a filesystem's source, overlay's lowerdir=) is then looked
 *     up from the rootfs, as under runc, whose init starts in it, and not from wherever
 *     mountkit was started.
 */
@injectable()
export class PrepareRootStep implements LifecycleStep {
  readonly name = 'prepare-root';
  readonly phase = 'prepare-root' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const rootfs = ctx.config.rootfs;
    this.sys.mount(null, '/', null, rootPropagation(ctx.config), null);
    const parent = sharedParentOf(ctx.mountTable(), rootfs);
    if (parent !== undefined) {
      ctx.log.debug('making the rootfs parent mount private', { mountpoint: parent });
      this.sys.mount(null, parent, null, MS_PRIVATE, null);
    }
    this.sys.mount(rootfs, rootfs, 'bind', MS_BIND | MS_REC, null);
    this.sys.chdir(rootfs);
  }
}
