/**
 * Detached idmapped copies of a bind source. MOUNT_ATTR_IDMAP is set only on a mount of
 * an anonymous (detached) mount namespace (mount_setattr(2)): open_tree(2) with
 * OPEN_TREE_CLONE makes one, mount_setattr(2) maps it, move_mount(2) attaches it.
 * Mapping a filesystem needs CAP_SYS_ADMIN in the user namespace that owns it (the
 * initial one for the host's); attaching needs CAP_SYS_ADMIN only over the mount
 * namespace attached to, and a detached copy may be attached by a process of another
 * mount namespace than the one it was copied in (do_move_mount, fs/namespace.c). A copy
 * keeps the locks (MNT_LOCK_READONLY and the others, MNT_LOCKED submounts) of the mounts
 * it copies, which a mount namespace made in a user namespace puts on the host's, so it
 * is made in the container's mount namespace. Without a container user namespace the
 * bind handler makes and attaches it (src/plugins/bind/idmap.ts); with one, mountkit's
 * first process makes it from inside the container's mount namespace
 * (src/cli/idmap-copy.ts) and the bind handler attaches it, as runc 1.2 does.
 */
import type { RootfsConfig } from './config/model';
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_IDMAP, MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_T_EMPTY_PATH, MS_REC, O_CLOEXEC, O_RDONLY, OPEN_TREE_CLONE } from './constants';
import { SyscallError, errnoNumber } from './errors';
import type { IdMapping, Syscalls } from './syscalls/types';

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

/** An idmapped copy the first process makes for its relaunch: what to copy, how, and the mount it is for. */
export interface IdmapCopyRequest {
  mount: number;
  source: string;
  rbind: boolean;
  recursive: boolean;
  /** The mount's own mappings; without them, the user namespace at `userns` maps it. */
  mappings?: { uid: IdMapping[]; gid: IdMapping[] };
  userns: string;
}

/**
 * The copy of the config's mount `index` for the relaunched process `pid`, mapped through
 * the mount's own mappings or that process's user namespace. Only an idmapped bind of
 * the config is copied (EPERM otherwise): the relaunched process names a mount, never a
 * path.
 */
export function idmapCopyRequest(config: Pick<RootfsConfig, 'mounts'>, index: number, pid: number | undefined): IdmapCopyRequest {
  const m = config.mounts.find((mount) => mount.index === index);
  if (!m?.idmap || m.type !== 'bind') throw new SyscallError('open_tree', errnoNumber('EPERM'), [], `mounts[${index}] is no idmapped bind of the config`);
  if (pid === undefined) throw new SyscallError('open_tree', errnoNumber('ESRCH'), [], 'the relaunched process is gone');
  const { uidMappings: uid, gidMappings: gid, recursive } = m.idmap;
  return {
    mount: index,
    source: m.source,
    rbind: (m.flags & MS_REC) !== 0n,
    recursive,
    ...(uid && gid ? { mappings: { uid, gid } } : {}),
    userns: `/proc/${pid}/ns/user`,
  };
}

/** The copy `request` asks for, made here and sent on `socket` tagged with its mount's index; this process's descriptors of it closed. */
export function sendIdmappedCopy(sys: Syscalls, request: IdmapCopyRequest, socket: number): void {
  const userns = request.mappings ? sys.userNamespace(request.mappings.uid, request.mappings.gid) : sys.open(request.userns, O_RDONLY | O_CLOEXEC, 0);
  try {
    const tree = idmappedTree(sys, request.source, request.rbind, request.recursive, userns);
    try {
      sys.sendFdMessage(socket, tree, String(request.mount));
    } finally {
      sys.close(tree);
    }
  } finally {
    sys.close(userns);
  }
}
