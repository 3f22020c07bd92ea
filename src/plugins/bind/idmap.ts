import type { MountIdmap, MountSpec, RootfsConfig } from '../../core/config/model';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  MOUNT_ATTR_IDMAP,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_REC,
  O_CLOEXEC,
  O_RDONLY,
  OPEN_TREE_CLONE,
} from '../../core/constants';
import { StepError, SyscallError } from '../../core/errors';
import type { Syscalls } from '../../core/syscalls/types';

/** The calling thread's user namespace, which is the container's once a `user` entry of linux.namespaces is entered (proc(5)). */
const OWN_USER_NAMESPACE = '/proc/thread-self/ns/user';

/**
 * An idmapped bind of `m.source` onto the target open as `targetFd`, in place of the
 * mount(2) of a plain bind. MOUNT_ATTR_IDMAP is set on a detached copy only, one that
 * was never attached anywhere (mount_setattr(2)): open_tree(2) with OPEN_TREE_CLONE makes
 * it (with AT_RECURSIVE, of the source's whole tree for rbind), mount_setattr(2) maps it
 * (with AT_RECURSIVE for ridmap, every mount of the copy; else its top one), and
 * move_mount(2) attaches it at the target's descriptor. The flags, propagation and
 * recursive attributes come after, as for any bind.
 */
export function mountIdmapped(sys: Syscalls, m: MountSpec, idmap: MountIdmap, config: RootfsConfig, targetFd: number): void {
  const userns = idmapNamespace(sys, idmap, config);
  try {
    const tree = sys.openTree(AT_FDCWD, m.source, OPEN_TREE_CLONE | O_CLOEXEC | ((m.flags & MS_REC) !== 0n ? AT_RECURSIVE : 0));
    try {
      mapTree(sys, tree, idmap.recursive, userns);
      sys.moveMount(tree, '', targetFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    } finally {
      sys.close(tree);
    }
  } finally {
    sys.close(userns);
  }
}

/**
 * The user namespace whose mappings the mount takes, open: a new one with the mount's own
 * mappings, or else the container's (validateIdmappedMounts checked there is one).
 */
function idmapNamespace(sys: Syscalls, idmap: MountIdmap, config: RootfsConfig): number {
  if (idmap.uidMappings && idmap.gidMappings) return sys.userNamespace(idmap.uidMappings, idmap.gidMappings);
  const user = config.namespaces.find((ns) => ns.type === 'user');
  if (!user) throw new StepError('an idmapped mount without uidMappings and gidMappings takes the container user namespace\'s, and there is none');
  return sys.open(user.path ?? OWN_USER_NAMESPACE, O_RDONLY | O_CLOEXEC, 0);
}

/**
 * MOUNT_ATTR_IDMAP on the detached copy. EINVAL is mostly a filesystem that does not
 * support idmapped mounts (FS_ALLOW_IDMAP; ext4, xfs and btrfs do, tmpfs since Linux 6.3),
 * which the error says.
 */
function mapTree(sys: Syscalls, tree: number, recursive: boolean, userns: number): void {
  try {
    sys.mountSetattr(tree, '', AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), MOUNT_ATTR_IDMAP, 0n, 0n, userns);
  } catch (err) {
    if (!(err instanceof SyscallError) || err.code !== 'EINVAL') throw err;
    throw new SyscallError(err.syscall, err.errno, err.paths, 'the filesystem may not support idmapped mounts on this kernel');
  }
}
