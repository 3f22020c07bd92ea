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
 * What is written is the staging tmpfs, mountkit's own private mount, by path.
 */
import posix = require('path/posix');
import { O_CLOEXEC, O_NOFOLLOW, O_PATH, S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { fdPath } from '../../core/in-root';
import type { FileKind, Syscalls } from '../../core/syscalls/types';

/** mknod(2) file type bits for the kinds that are neither files, directories nor symlinks. */
const NODE_TYPE: Readonly<Record<Exclude<FileKind, 'dir' | 'file' | 'symlink'>, number>> = {
  char: S_IFCHR,
  block: S_IFBLK,
  fifo: S_IFIFO,
  socket: S_IFSOCK,
};

/** How an entry is opened: never through a final symlink, never the file itself (no device open, no blocking fifo). */
const ENTRY_FLAGS = O_PATH | O_NOFOLLOW | O_CLOEXEC;

/**
 * Copies every entry of the directory open as `fromFd` into the existing directory `to`,
 * recursively. `shown` is how errors name that directory (its path in the container):
 * the port's openat names only the entry and fstat nothing.
 */
export function copyTree(sys: Syscalls, fromFd: number, to: string, shown: string): void {
  // The descriptor's magic link names the open directory itself, not a path that could be swapped.
  for (const name of sys.readdir(fdPath(fromFd))) copyEntry(sys, fromFd, name, posix.join(to, name), posix.join(shown, name));
}

function copyEntry(sys: Syscalls, dirfd: number, name: string, dest: string, shown: string): void {
  const fd = onEntry(shown, () => sys.openat(dirfd, name, ENTRY_FLAGS, 0));
  try {
    const st = onEntry(shown, () => sys.fstat(fd));
    // A new directory or node starts private to root and gets its owner and mode after, so
    // no other user can open it in between.
    if (st.kind === 'dir') sys.mkdir(dest, 0o700);
    // Through the magic link: the regular file fstat saw, opened again for reading.
    else if (st.kind === 'file') sys.copyFile(fdPath(fd), dest);
    // The link open as `fd` (an empty path): its text, never followed.
    else if (st.kind === 'symlink') sys.symlink(sys.readlinkat(fd, ''), dest);
    else sys.mknod(dest, NODE_TYPE[st.kind] | 0o600, st.rdev);
    sys.lchown(dest, st.uid, st.gid);
    // chown(2) clears S_ISUID and S_ISGID of an executable file, for root too since Linux
    // 2.2.13, so the mode comes after the owner. A symlink has no mode of its own, and
    // chmod(2) would follow it.
    if (st.kind !== 'symlink') sys.chmod(dest, st.perm);
    if (st.kind === 'dir') copyTree(sys, fd, dest, shown);
  } finally {
    sys.close(fd);
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
