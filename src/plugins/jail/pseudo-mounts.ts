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
  return pseudoMountsOf(table, rootfs).map((m) => m.mountpoint);
}

/**
 * "/" and the mountpoints of the mounts the host's pseudo mounts sit on, each once, in
 * table order: an unmount reaches the mounts at the same place under every peer of the
 * unmounted mount's parent (mount_namespaces(7), "MS_SHARED"), whatever the propagation
 * of the mount itself, so those parents become slaves before the pseudo mounts go.
 */
export function pseudoMountParents(table: MountTable, rootfs: string): string[] {
  const parents = new Set(pseudoMountsOf(table, rootfs).map((m) => m.parent));
  const out = ['/'];
  for (const m of table) if (parents.has(m.id) && !out.includes(m.mountpoint)) out.push(m.mountpoint);
  return out;
}

function pseudoMountsOf(table: MountTable, rootfs: string): MountTable {
  const root = cleanPath(rootfs);
  return table.filter((m) => m.root === '/' && PSEUDO_FS_TYPES.has(m.fstype) && !isWithin(root, m.mountpoint));
}
