import type { MountTable } from '../../core/mountinfo';
import { cleanPath, isWithin } from '../../core/paths';

/** Filesystem types whose full mounts let a process mount them again (see below). */
const PSEUDO_FS_TYPES: ReadonlySet<string> = new Set(['proc', 'sysfs']);

/**
 * The mountpoints of full (root "/") proc and sysfs mounts outside the rootfs, in table
 * order (a parent before its children). In a user namespace the kernel allows a new proc
 * or sysfs mount only if a full one is already visible in the mount namespace
 * (fs/namespace.c, mount_too_revealing); after MS_MOVE+chroot the host's are still in
 * the namespace, so a no-pivot container could mount a procfs without the masks. runc 1.1
 * takes them away before the move.
 *
 * A mount whose mountpoint is the rootfs or lies below it (by path components, not by
 * string prefix) is the container's own and stays.
 */
export function hostPseudoMounts(table: MountTable, rootfs: string): string[] {
  const root = cleanPath(rootfs);
  return table
    .filter((m) => m.root === '/' && PSEUDO_FS_TYPES.has(m.fstype) && !isWithin(root, m.mountpoint))
    .map((m) => m.mountpoint);
}
