import type { RootfsConfig } from '../../core/config/model';
import { MS_REC, MS_SLAVE } from '../../core/constants';
import { StepError } from '../../core/errors';
import { isShared, parentMountOf, type MountTable } from '../../core/mountinfo';
import { cleanPath } from '../../core/paths';

/**
 * The propagation `/` gets before anything is mounted: the configured one, else MS_SLAVE|MS_REC,
 * so that host mounts still reach the container while nothing made here reaches the host
 * (mount(2), "Changing the propagation type"; the OCI rootfsPropagation field).
 */
export function rootPropagation(config: RootfsConfig): bigint {
  return config.rootPropagation !== 0n ? config.rootPropagation : MS_SLAVE | MS_REC;
}

/**
 * The mountpoint of the mount holding `rootfs` (the rootfs itself when it is a mountpoint)
 * when that mount is shared, else undefined. It must become private: pivot_root(2) fails
 * with EINVAL when the parent mount of new_root is shared, and a bind of the rootfs under a
 * shared mount would propagate to the mount's peers outside the namespace.
 */
export function sharedParentOf(table: MountTable, rootfs: string): string | undefined {
  const parent = parentMountOf(table, cleanPath(rootfs));
  if (!parent) throw new StepError(`no mount holds the rootfs ${JSON.stringify(rootfs)} in /proc/self/mountinfo`);
  return isShared(parent) ? parent.mountpoint : undefined;
}
