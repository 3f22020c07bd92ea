/**
 * Detached idmapped copies of a bind source. MOUNT_ATTR_IDMAP is set only on a mount
 * that was never attached anywhere (mount_setattr(2)): open_tree(2) with OPEN_TREE_CLONE
 * makes one, mount_setattr(2) maps it, move_mount(2) attaches it. Mapping needs
 * CAP_SYS_ADMIN in the initial user namespace; attaching needs it only in the user
 * namespace that owns the mount namespace attached to, and a detached copy may be
 * attached in another mount namespace than the one it was copied from (do_move_mount,
 * fs/namespace.c). So for a container with a user namespace, mountkit's first process
 * makes the copies from the host (core/relaunch.ts) and the relaunched process, root in
 * that namespace only, attaches them, as runc 1.2 does; without one, the bind handler
 * makes and attaches them itself (src/plugins/bind/idmap.ts).
 */
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_IDMAP, MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_T_EMPTY_PATH, O_CLOEXEC, OPEN_TREE_CLONE } from './constants';
import { SyscallError } from './errors';
import type { Syscalls } from './syscalls/types';

/**
 * A detached copy of `source` (with its submounts when `rbind`: AT_RECURSIVE) mapped
 * through the user namespace open as `userns` (with AT_RECURSIVE when `recursive`, as
 * ridmap asks: every mount of the copy; else its top one). The descriptor is the
 * caller's to close.
 */
export function idmappedTree(sys: Syscalls, source: string, rbind: boolean, recursive: boolean, userns: number): number {
  const tree = sys.openTree(AT_FDCWD, source, OPEN_TREE_CLONE | O_CLOEXEC | (rbind ? AT_RECURSIVE : 0));
  try {
    mapTree(sys, tree, source, recursive, userns);
  } catch (err) {
    sys.close(tree);
    throw err;
  }
  return tree;
}

/**
 * MOUNT_ATTR_IDMAP on the detached copy of `source`. Its error names the source: a
 * detached mount's descriptor reads as "/" through /proc. EINVAL is mostly a filesystem
 * that does not support idmapped mounts (FS_ALLOW_IDMAP; ext4, xfs and btrfs do, tmpfs
 * since Linux 6.3), which the error says.
 */
function mapTree(sys: Syscalls, tree: number, source: string, recursive: boolean, userns: number): void {
  try {
    sys.mountSetattr(tree, '', AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), MOUNT_ATTR_IDMAP, 0n, 0n, userns);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new SyscallError(err.syscall, err.errno, [source], err.code === 'EINVAL' ? 'the filesystem may not support idmapped mounts on this kernel' : undefined);
  }
}

/** move_mount(2) of the mapped copy of `source` onto the target open as `targetFd`; its error names the source, as a detached mount's descriptor reads as "/" through /proc. */
export function attachTree(sys: Syscalls, tree: number, source: string, targetFd: number): void {
  try {
    sys.moveMount(tree, '', targetFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new SyscallError(err.syscall, err.errno, [source, ...err.paths.slice(1)]);
  }
}
