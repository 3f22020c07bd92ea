/**
 * The recursive copy behind tmpcopyup: the content of a directory, with owners and modes,
 * into another (the new tmpfs), through the syscall port only.
 *
 * It runs before the jail, in the host's root, on a directory of the image that someone
 * else may be able to write (a shared volume bound there). So the source is only ever
 * reached through descriptors: each entry is opened relative to its directory's
 * descriptor without following a symlink (O_PATH|O_NOFOLLOW: a symlink is opened as the
 * link, a device or fifo is not opened at all), examined with fstat, and read through
 * that descriptor; a directory is listed and walked through its own. An entry swapped for
 * a symlink after the listing is copied as that symlink, its text and never what it points
 * to, and a swap after the open changes nothing: the descriptor keeps the file that was
 * examined. An entry gone before it is opened fails the copy (openat ENOENT, naming it),
 * as crun's copy_recursive_fd_to_fd fails on any entry it cannot stat or open.
 *
 * What is written is the new tmpfs, mountkit's own private mount, by path: a staging
 * directory's, or the magic link of a detached mount's descriptor and the names below it.
 * Each entry gets its owner, mode and, for a regular file or directory, its extended
 * attributes (copyXattrs), as crun copies them; not its times, as neither runc nor crun
 * keeps them.
 */
import posix = require('path/posix');
import { O_CLOEXEC, O_NOFOLLOW, O_PATH, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { fdPath } from '../../core/in-root';
import type { FileKind, Syscalls } from '../../core/syscalls/types';
import { modeWithoutAcl, POSIX_ACL_XATTR_ACCESS } from './posix-acl';

/** mknod(2) file type bits for the kinds that are neither files, directories nor symlinks. */
const NODE_TYPE: Readonly<Record<Exclude<FileKind, 'dir' | 'file' | 'symlink'>, number>> = {
  char: S_IFCHR,
  block: S_IFBLK,
  fifo: S_IFIFO,
  socket: S_IFSOCK,
};

/** How an entry is opened: never through a final symlink, never the file itself (no device open, no blocking fifo). */
const ENTRY_FLAGS = O_PATH | O_NOFOLLOW | O_CLOEXEC;

/** A place in the copy: the path it is reached at, and how errors name it. */
interface Place {
  path: string;
  shown: string;
}

/**
 * Copies every entry of the directory open as `fromFd` into the existing directory `to`,
 * recursively. `shown` is how errors name that directory (its path in the container):
 * the port's openat names only the entry and fstat nothing. `toShown` is how errors
 * name `to`, when not by that path (a magic link names the file as the kernel does: "/"
 * for a detached mount's root).
 */
export function copyTree(sys: Syscalls, fromFd: number, to: string, shown: string, toShown = to): void {
  copyInto(sys, fromFd, { path: to, shown: toShown }, shown);
}

function copyInto(sys: Syscalls, fromFd: number, to: Place, shown: string): void {
  // The descriptor's magic link names the open directory itself, not a path that could be swapped.
  for (const name of sys.readdir(fdPath(fromFd))) {
    copyEntry(sys, fromFd, name, { path: posix.join(to.path, name), shown: posix.join(to.shown, name) }, posix.join(shown, name));
  }
}

function copyEntry(sys: Syscalls, dirfd: number, name: string, dest: Place, shown: string): void {
  const fd = onEntry(shown, () => sys.openat(dirfd, name, ENTRY_FLAGS, 0));
  try {
    const st = onEntry(shown, () => sys.fstat(fd));
    const to = dest.path;
    // The link open as `fd` (an empty path): its text, never followed.
    const text = st.kind === 'symlink' ? sys.readlinkat(fd, '') : '';
    onDest(dest.shown, () => {
      // A new directory or node starts private to root and gets its owner and mode after, so
      // no other user can open it in between.
      if (st.kind === 'dir') sys.mkdir(to, 0o700);
      // Through the magic link: the regular file fstat saw, opened again for reading.
      else if (st.kind === 'file') sys.copyFile(fdPath(fd), to);
      else if (st.kind === 'symlink') sys.symlink(text, to);
      else sys.mknod(to, NODE_TYPE[st.kind] | 0o600, st.rdev);
      sys.lchown(to, st.uid, st.gid);
      // chown(2) clears S_ISUID and S_ISGID of an executable file, for root too since Linux
      // 2.2.13, so the mode comes after the owner. A symlink has no mode of its own, and
      // chmod(2) would follow it.
      if (st.kind !== 'symlink') sys.chmod(to, st.perm);
    });
    if (st.kind === 'dir') copyInto(sys, fd, dest, shown);
    // A directory's after its content: an entry made in a directory with a default ACL
    // (system.posix_acl_default) gets it as its own access ACL (acl(5)), which chmod(2)
    // only masks, so a copied entry whose source has none would gain its named entries.
    if (st.kind === 'dir' || st.kind === 'file') copyXattrs(sys, fd, dest, shown, st.perm);
  } finally {
    sys.close(fd);
  }
}

/**
 * The extended attributes of the regular file or directory open as `fd` (the kinds crun
 * copies them for), each set on its copy `dest` once that has its owner and mode (and, a
 * directory, its content):
 * chown(2) removes a file's security.capability (its file capabilities, capabilities(7)),
 * so one set before would be lost. They are read through the descriptor's magic link,
 * which getxattr(2) follows to the file open there. The source lists none where its
 * filesystem keeps none (EOPNOTSUPP).
 *
 * runc copies no attribute, so one that cannot be copied is left out (the copy is then
 * what runc makes) rather than failing a run runc completes:
 * - one the tmpfs refuses: EOPNOTSUPP for a namespace it does not keep (user.* before
 *   Linux 6.6), EINVAL for a value it does not take (both as crun leaves them); EPERM for
 *   one this process may not set (security.capability without CAP_SETFCAP,
 *   capabilities(7); security.ima and security.evm without CAP_SYS_ADMIN in the initial
 *   user namespace, security/integrity/); EACCES for one an LSM's policy refuses
 *   (SELinux's relabelto for security.selinux);
 * - one the source no longer has (ENODATA: removed since the listing);
 * - a security.capability whose root user is not root here or in a namespace above
 *   (EOVERFLOW, getxattr(2) in a user namespace): the kernel gives such file
 *   capabilities no effect in this namespace (security/commoncap.c).
 *
 * An access ACL left out leaves the copy the source's mode `perm`, whose group class bits
 * are, under an ACL with a mask, that mask (acl(5)): wider than the owning group's own
 * permissions, its ACL_GROUP_OBJ entry within the mask. The copy's group bits become
 * those (modeWithoutAcl), none where the value is no ACL the kernel would take.
 */
function copyXattrs(sys: Syscalls, fd: number, dest: Place, shown: string, perm: number): void {
  const from = fdPath(fd);
  let names: string[];
  try {
    names = onEntry(shown, () => sys.listxattr(from));
  } catch (err) {
    if (hasCode(err, 'EOPNOTSUPP')) return;
    throw err;
  }
  for (const name of names) {
    let value: Uint8Array;
    try {
      value = onEntry(shown, () => sys.getxattr(from, name));
    } catch (err) {
      if (hasCode(err, 'ENODATA') || hasCode(err, 'EOVERFLOW')) continue;
      throw err;
    }
    try {
      onDest(dest.shown, () => sys.lsetxattr(dest.path, name, value));
    } catch (err) {
      if (!SET_REFUSALS.some((code) => hasCode(err, code))) throw err;
      if (name === POSIX_ACL_XATTR_ACCESS) onDest(dest.shown, () => sys.chmod(dest.path, modeWithoutAcl(perm, value)));
    }
  }
}

/** The lsetxattr(2) failures that leave one attribute out of the copy (copyXattrs). */
const SET_REFUSALS = ['EOPNOTSUPP', 'EINVAL', 'EPERM', 'EACCES'] as const;

function hasCode(err: unknown, code: string): boolean {
  return err instanceof SyscallError && err.code === code;
}

/**
 * Runs `call`, the calls that make one copy, their SyscallError naming the copy as
 * `shown`: each names it last (mkdir, mknod, lchown and chmod alone; copy_file_range
 * after the source, symlink after the link's text).
 */
function onDest<T>(shown: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof SyscallError && err.paths.length > 0) {
      throw new SyscallError(err.syscall, err.errno, [...err.paths.slice(0, -1), shown], err.detail);
    }
    throw err;
  }
}

/** Runs `call`, a syscall on the entry `shown`, its SyscallError naming that entry. */
function onEntry<T>(shown: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof SyscallError) throw new SyscallError(err.syscall, err.errno, [shown], err.detail);
    throw err;
  }
}
