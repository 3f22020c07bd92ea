/**
 * The recursive copy behind tmpcopyup: the content of a directory, with owners and modes,
 * into another (the new tmpfs), through the syscall port only.
 */
import * as posix from 'path/posix';
import { S_IFBLK, S_IFCHR, S_IFIFO, S_IFSOCK } from '../../core/constants';
import type { FileKind, Syscalls } from '../../core/syscalls/types';

/** mknod(2) file type bits for the kinds that are neither files, directories nor symlinks. */
const NODE_TYPE: Readonly<Record<Exclude<FileKind, 'dir' | 'file' | 'symlink'>, number>> = {
  char: S_IFCHR,
  block: S_IFBLK,
  fifo: S_IFIFO,
  socket: S_IFSOCK,
};

/**
 * Copies every entry of directory `from` into the existing directory `to`, recursively.
 * Entries are examined with lstat and never followed: a symlink is copied as a link with
 * the same target, wherever that points.
 */
export function copyTree(sys: Syscalls, from: string, to: string): void {
  for (const name of sys.readdir(from)) copyEntry(sys, posix.join(from, name), posix.join(to, name));
}

function copyEntry(sys: Syscalls, source: string, dest: string): void {
  const st = sys.lstat(source);
  // A new directory or node starts private to root and gets its owner and mode after, so
  // no other user can open it in between.
  if (st.kind === 'dir') sys.mkdir(dest, 0o700);
  else if (st.kind === 'file') sys.copyFile(source, dest);
  else if (st.kind === 'symlink') sys.symlink(sys.readlink(source), dest);
  else sys.mknod(dest, NODE_TYPE[st.kind] | 0o600, st.rdev);
  sys.lchown(dest, st.uid, st.gid);
  // chown(2) clears S_ISUID and S_ISGID of an executable file, for root too since Linux
  // 2.2.13, so the mode comes after the owner. A symlink has no mode of its own, and
  // chmod(2) would follow it.
  if (st.kind !== 'symlink') sys.chmod(dest, st.perm);
  if (st.kind === 'dir') copyTree(sys, source, dest);
}
