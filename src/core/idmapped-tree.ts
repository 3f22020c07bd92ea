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
 * first process makes it from inside the container's mount namespace (sendIdmappedCopy)
 * and the bind handler attaches it, as runc 1.2 does.
 */
import type { RootfsConfig } from './config/model';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  CLONE_NEWNS,
  MOUNT_ATTR_IDMAP,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_REC,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  OPEN_TREE_CLONE,
  ST_NODEV,
  ST_NOEXEC,
  ST_NOSUID,
  ST_RDONLY,
} from './constants';
import { CLONE_FS } from './namespaces';
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
 * since Linux 6.3), or one whose superblock belongs to the user namespace of the mapping
 * (a tmpfs the container mounted in its own): the kernel refuses to map a filesystem
 * through its own idmapping. The error says both.
 */
function mapTree(sys: Syscalls, tree: number, source: string, recursive: boolean, userns: number): void {
  try {
    sys.mountSetattr(tree, '', AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0), MOUNT_ATTR_IDMAP, 0n, 0n, userns);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new SyscallError(err.syscall, err.errno, [source], err.code === 'EINVAL' ? 'the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it' : undefined);
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
  /** The mount's own mappings; without them, the container's user namespace maps it. */
  mappings?: { uid: IdMapping[]; gid: IdMapping[] };
}

/**
 * The copy of the config's mount `index`. Only an idmapped bind of the config is copied
 * (EPERM otherwise): the relaunched process names a mount, never a path or mappings.
 */
export function idmapCopyRequest(config: Pick<RootfsConfig, 'mounts'>, index: number): IdmapCopyRequest {
  const m = config.mounts.find((mount) => mount.index === index);
  if (!m?.idmap || m.type !== 'bind') throw new SyscallError('open_tree', errnoNumber('EPERM'), [], `mounts[${index}] is no idmapped bind of the config`);
  const { uidMappings: uid, gidMappings: gid, recursive } = m.idmap;
  return { mount: index, source: m.source, rbind: (m.flags & MS_REC) !== 0n, recursive, ...(uid && gid ? { mappings: { uid, gid } } : {}) };
}

/** The mount flags a copy must keep of the host's source mount (statfs(2) f_flags). */
const RESTRICTIONS = ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC;

/**
 * This thread could not go back to its own mount namespace, root or directory after a
 * copy: it must not go on (every path it resolves would be the container's).
 */
export class NamespaceNotRestoredError extends Error {}

/**
 * Makes the copy `request` asks for inside the mount namespace of the relaunched process,
 * where it keeps the locks that namespace's mounts carry, as runc 1.2 makes it, and sends
 * it on `socket` tagged with its mount's index. That namespace is joined through
 * `container`: the process's pidfd (setns(2) of a pidfd joins that process's namespaces
 * and no other process's, whatever has its pid by then), or the namespace's file where
 * pidfds are refused (cli/container-process.ts). Everything else is opened here first,
 * on the host: the source (to
 * know it again), this thread's own namespace, root and directory, and the user namespace
 * that maps the copy (`containerUserns`, the container's, which the caller opened from
 * the config, or one made for the mount's own mappings). Then this thread leaves the
 * filesystem context it shares with Node's other threads (setns(2) refuses CLONE_NEWNS
 * to a thread that shares it), joins that namespace (which also sets its root and
 * directory to that namespace's), copies and maps the source there, and goes back to its
 * own namespace, root and directory; a way back that fails is a
 * NamespaceNotRestoredError. Nothing that namespace holds is run.
 *
 * What the path leads to there is the relaunched process's to arrange, as in runc: the
 * copy's top must be the file the host sees at the source (device and inode) with at
 * least the host mount's restrictions (read-only, nosuid, nodev, noexec), else EXDEV;
 * the submounts an rbind copies are what that namespace shows under it.
 */
export function sendIdmappedCopy(sys: Syscalls, request: IdmapCopyRequest, container: number | undefined, containerUserns: number, socket: number): void {
  if (container === undefined) throw new SyscallError('open_tree', errnoNumber('ESRCH'), [], 'the relaunched process is gone');
  const opened: number[] = [];
  const open = (fd: number): number => (opened.push(fd), fd);
  try {
    const sourceFd = open(sys.open(request.source, O_PATH | O_CLOEXEC, 0));
    const source = sys.fstat(sourceFd);
    const sourceFlags = sys.fstatfs(sourceFd).flags;
    const userns = request.mappings ? open(sys.userNamespace(request.mappings.uid, request.mappings.gid)) : containerUserns;
    const own = open(sys.open('/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC, 0));
    const root = open(sys.open('/', O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
    const cwd = open(sys.open('.', O_PATH | O_DIRECTORY | O_CLOEXEC, 0));
    sys.unshare(CLONE_FS);
    sys.setns(container, CLONE_NEWNS);
    let tree: number;
    try {
      tree = open(idmappedTree(sys, request.source, request.rbind, request.recursive, userns));
    } finally {
      goBack(sys, own, root, cwd);
    }
    const copy = sys.fstat(tree);
    const lost = sourceFlags & ~sys.fstatfs(tree).flags & RESTRICTIONS;
    if (copy.dev !== source.dev || copy.ino !== source.ino || lost !== 0n) {
      const what = lost !== 0n ? 'with fewer restrictions than the host mount' : 'another file';
      throw new SyscallError('open_tree', errnoNumber('EXDEV'), [request.source], `not the source the host sees: ${what} at its path in the container's mount namespace`);
    }
    sys.sendFdMessage(socket, tree, String(request.mount));
  } finally {
    for (const fd of opened.reverse()) sys.close(fd);
  }
}

/** This thread back in its mount namespace (`own`), root and directory; NamespaceNotRestoredError when it cannot be. */
function goBack(sys: Syscalls, own: number, root: number, cwd: number): void {
  try {
    sys.setns(own, CLONE_NEWNS);
    sys.fchdir(root);
    sys.chroot('.');
    sys.fchdir(cwd);
  } catch (err) {
    throw new NamespaceNotRestoredError(`this thread could not go back to its own mount namespace, root and directory after an idmapped copy: ${(err as Error).message}`);
  }
}
