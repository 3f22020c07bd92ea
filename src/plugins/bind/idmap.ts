import type { MountIdmap, MountSpec } from '../../core/config/model';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  MOUNT_ATTR_IDMAP,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_REC,
  O_CLOEXEC,
  OPEN_TREE_CLONE,
} from '../../core/constants';
import { StepError, SyscallError } from '../../core/errors';
import { NO_MAPPINGS } from '../../core/idmap';
import { keptForRun } from '../../core/mounting';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * An idmapped bind of `m.source` onto the target open as `targetFd`, in place of the
 * mount(2) of a plain bind. MOUNT_ATTR_IDMAP is set on a detached copy only, one that
 * was never attached anywhere (mount_setattr(2)): open_tree(2) with OPEN_TREE_CLONE makes
 * it (with AT_RECURSIVE, of the source's whole tree for rbind), mount_setattr(2) maps it
 * (with AT_RECURSIVE for ridmap, every mount of the copy; else its top one), and
 * move_mount(2) attaches it at the target's descriptor. The flags, propagation and
 * recursive attributes come after, as for any bind.
 */
export function mountIdmapped(sys: Syscalls, m: MountSpec, idmap: MountIdmap, targetFd: number, shared: Map<string, unknown>): void {
  const { uidMappings: uid, gidMappings: gid } = idmap;
  if (!uid || !gid) throw new StepError(NO_MAPPINGS);
  // One user namespace per set of mappings for the run, as runc keeps one: each costs a helper process.
  const userns = keptForRun(shared, `userns ${JSON.stringify([uid, gid])}`, () => sys.userNamespace(uid, gid));
  const tree = sys.openTree(AT_FDCWD, m.source, OPEN_TREE_CLONE | O_CLOEXEC | ((m.flags & MS_REC) !== 0n ? AT_RECURSIVE : 0));
  try {
    mapTree(sys, tree, m.source, idmap.recursive, userns);
    attachTree(sys, tree, m.source, targetFd);
  } finally {
    sys.close(tree);
  }
}

/** move_mount(2) of the mapped copy onto the target; its error names the source, as a detached mount's descriptor reads as "/" through /proc. */
function attachTree(sys: Syscalls, tree: number, source: string, targetFd: number): void {
  try {
    sys.moveMount(tree, '', targetFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new SyscallError(err.syscall, err.errno, [source, ...err.paths.slice(1)]);
  }
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
