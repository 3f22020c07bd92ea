/**
 * The masked and read-only paths where the container has no procfs at /proc: after the
 * jail mountkit reaches a descriptor by path through the container's /proc
 * (requireContainerProc), which a config without a proc mount leaves an image's empty
 * directory. runc 1.1 mounts those paths by name there; here they are mounted by
 * descriptor without a path at all, through the new mount API: open_tree(2) with
 * OPEN_TREE_CLONE and AT_EMPTY_PATH copies the mount at a descriptor (a bind of it, with
 * its submounts under AT_RECURSIVE) as a detached tree, mount_setattr(2) changes the
 * copy's flags, fsopen(2), fsconfig(2) and fsmount(2) make a new filesystem's mount, and
 * move_mount(2) with MOVE_MOUNT_F_EMPTY_PATH and MOVE_MOUNT_T_EMPTY_PATH attaches one
 * descriptor's mount onto another's place (Linux 5.2; mount_setattr(2) 5.12). A kernel
 * without them refuses with ENOSYS, which the error names with what was asked.
 */
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MOUNT_ATTR_RDONLY,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  O_CLOEXEC,
  OPEN_TREE_CLONE,
} from '../../core/constants';
import { SyscallError } from '../../core/errors';
import type { Syscalls } from '../../core/syscalls/types';

/** The detail of an ENOSYS here. */
const NO_MOUNT_API = 'no usable procfs at /proc in the container, and no new mount API in this kernel to mount by descriptor without one: Linux 5.2, mount_setattr(2) 5.12';

/**
 * `fn`, whose SyscallError names `path` (a detached mount's descriptor names none) and,
 * for ENOSYS, what the kernel lacks; an fsconfig(2) error keeps the parameter it named
 * and the filesystem's own message (a `context` SELinux refused) in its detail.
 */
function naming<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new SyscallError(err.syscall, err.errno, [path], detailOf(err));
  }
}

/** What a SyscallError renamed by naming() keeps beside the path. */
function detailOf(err: SyscallError): string | undefined {
  if (err.code === 'ENOSYS') return NO_MOUNT_API;
  // fsconfig(2)'s error names the parameter where a path would be.
  if (err.syscall === 'fsconfig') return [...err.paths, err.detail].filter(Boolean).join('; ');
  return err.detail;
}

/** Attaches the detached mount `tree` onto the place `targetFd` is open on. */
function attach(sys: Syscalls, tree: number, targetFd: number): void {
  sys.moveMount(tree, '', targetFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
}

/** A bind of the mount `sourceFd` is open on (its file or directory alone) onto the place `targetFd` is open on, `path` in the container. */
export function bindWithoutProc(sys: Syscalls, sourceFd: number, targetFd: number, path: string): void {
  naming(path, () => {
    const tree = sys.openTree(sourceFd, '', OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH);
    try {
      attach(sys, tree, targetFd);
    } finally {
      sys.close(tree);
    }
  });
}

/**
 * A read-only tmpfs on the directory `targetFd` is open on, `path` in the container: its
 * source named `tmpfs` as mount(2) names it, the superblock read-only ("ro") and its
 * mount too (MOUNT_ATTR_RDONLY), as mount(2) with MS_RDONLY makes both; with the SELinux
 * `context` given. Returns the attached mount's
 * descriptor, the caller's to close, which bindWithoutProc copies for the next directory.
 */
export function readonlyTmpfsWithoutProc(sys: Syscalls, targetFd: number, path: string, context: string | undefined): number {
  return naming(path, () => {
    const fsfd = sys.fsopen('tmpfs', FSOPEN_CLOEXEC);
    let mount: number;
    try {
      sys.fsconfig(fsfd, FSCONFIG_SET_STRING, 'source', 'tmpfs', 0);
      sys.fsconfig(fsfd, FSCONFIG_SET_FLAG, 'ro', null, 0);
      if (context !== undefined) sys.fsconfig(fsfd, FSCONFIG_SET_STRING, 'context', context, 0);
      sys.fsconfig(fsfd, FSCONFIG_CMD_CREATE, null, null, 0);
      mount = sys.fsmount(fsfd, FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY);
    } finally {
      sys.close(fsfd);
    }
    try {
      attach(sys, mount, targetFd);
    } catch (err) {
      sys.close(mount);
      throw err;
    }
    return mount;
  });
}

/**
 * The place `fd` is open on, `path` in the container, bound onto itself with the mounts
 * below it and the new bind made read-only: a recursive copy, whose top mount alone
 * gets MOUNT_ATTR_RDONLY (its other flags are the copied mount's), attached there. Two
 * differences from a bind and then a remount: the copy is read-only before it is
 * attached, so where the parent mount is shared its peers receive it read-only too; and
 * move_mount(2) refuses (ELOOP, check_for_nsfs_mounts()) a copy holding a bind of a mount
 * namespace's file, which mount(2) would copy.
 */
export function readonlyBindWithoutProc(sys: Syscalls, fd: number, path: string): void {
  naming(path, () => {
    const tree = sys.openTree(fd, '', OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
    try {
      sys.mountSetattr(tree, '', AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0n, 0n);
      attach(sys, tree, fd);
    } finally {
      sys.close(tree);
    }
  });
}
