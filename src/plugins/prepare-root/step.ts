import { inject, injectable } from 'tsyringe';
import { MS_BIND, MS_PRIVATE, MS_REC } from '../../core/constants';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { rootPropagation, sharedParentOf } from './propagation';

/**
 * Makes the rootfs the working directory, then a mountpoint that can become the new root,
 * in three calls that only make sense together and in this order (one step rather than
 * three, so that no other step can come between them):
 *  0. chdir(2) into the rootfs directory as it is, before the bind below covers it: a
 *     relative path the mounts give the kernel (a filesystem's source, overlay's
 *     lowerdir=) is then looked up from there, as under runc, whose init starts in that
 *     directory, below any mount the run makes on the way, and not from wherever mountkit
 *     was started;
 *  1. `/` gets its propagation (rslave by default), recursively;
 *  2. the mount holding the rootfs becomes private if it is still shared. The mount table
 *     is read after call 1 so that its shared:N tags show the propagation call 1 left;
 *  3. the rootfs is bound onto itself with MS_BIND|MS_REC: pivot_root(2) needs new_root
 *     to be a mountpoint, and so does MS_MOVE its source (mount(2)); MS_REC keeps the
 *     mounts already below it.
 */
@injectable()
export class PrepareRootStep implements LifecycleStep {
  readonly name = 'prepare-root';
  readonly handles = ['linux.rootfsPropagation'];
  readonly phase = 'prepare-root' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const rootfs = ctx.config.rootfs;
    this.sys.chdir(rootfs);
    this.sys.mount(null, '/', null, rootPropagation(ctx.config), null);
    const parent = sharedParentOf(ctx.mountTable(), rootfs);
    if (parent !== undefined) {
      ctx.log.debug('making the rootfs parent mount private', { mountpoint: parent });
      this.sys.mount(null, parent, null, MS_PRIVATE, null);
    }
    this.sys.mount(rootfs, rootfs, 'bind', MS_BIND | MS_REC, null);
  }
}
