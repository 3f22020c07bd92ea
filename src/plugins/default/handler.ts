import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { MS_REMOUNT } from '../../core/constants';
import { fdPath } from '../../core/in-root';
import { afterMount, containerRoot, mountOn, withMountTarget } from '../../core/mounting';
import { DEFAULT_MOUNT_TYPE, SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import { formatMountLabel, mountLabel } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Any mount type no other plugin claims (devpts, overlay, a FUSE type...): the target is
 * looked up inside the rootfs at mount time, since an earlier mount may have replaced a
 * path component with a symlink that leads out, and mounted through its descriptor. On a
 * host that runs SELinux the data gets linux.mountLabel as `context=`, as runc 1.1.5 gives
 * it to every mount of a type it has no case for (devpts in `runc spec`'s config): the
 * container's ptys are then its own label's, not devpts's default one.
 */
@injectable()
export class DefaultMountHandler implements MountHandler {
  readonly name = 'default';
  readonly types = [DEFAULT_MOUNT_TYPE];
  readonly generic = true;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    const root = containerRoot(this.sys, ctx);
    // A remount without a type changes the mount at /proc, which it may (runc lets any mount of an empty source there).
    const mayBeProc = () => m.type === '' && (m.flags & MS_REMOUNT) !== 0n;
    const label = mountLabel(this.sys, ctx);
    withMountTarget(this.sys, root, m.destination, { mayBeProc }, (t) => {
      // A remount without a type (config/oci.ts) passes none.
      mountOn(this.sys, m, { source: m.source, target: fdPath(t.fd), fstype: m.type || null, flags: m.flags, data: formatMountLabel(m.data, label) });
      afterMount(this.sys, root, m, t);
    });
  }
}
