import * as posix from 'path/posix';
import { SyscallError } from '../../core/errors';
import { cleanPath, secureJoin } from '../../core/paths';
import type { FileKind, Syscalls } from '../../core/syscalls/types';

const KIND_WORDS: Readonly<Record<FileKind, string>> = {
  file: 'regular file',
  dir: 'directory',
  symlink: 'symlink',
  char: 'character device',
  block: 'block device',
  fifo: 'fifo',
  socket: 'socket',
};

/**
 * The host path of a proc or sysfs target: the parent resolved inside the rootfs, the
 * final component joined as written, so that a symlink there is seen rather than followed.
 */
export function procTargetPath(sys: Pick<Syscalls, 'lstat' | 'readlink'>, rootfs: string, destination: string): string {
  const dest = cleanPath(destination);
  return posix.join(secureJoin(sys, rootfs, posix.dirname(dest)), posix.basename(dest));
}

/**
 * Why an existing node of kind `kind` at container path `inside` may not take a proc or
 * sysfs mount, or undefined when it may. Only a real directory may: mounting through a
 * symlink would put the filesystem wherever the link points (CVE-2019-19921).
 */
export function realDirectoryProblem(inside: string, kind: FileKind): string | undefined {
  if (kind === 'dir') return undefined;
  return `${JSON.stringify(inside)} must be a real directory, not a ${KIND_WORDS[kind]}`;
}

/** The kind of the node at `path` without following a final symlink; undefined on ENOENT. */
export function kindAt(sys: Pick<Syscalls, 'lstat'>, path: string): FileKind | undefined {
  try {
    return sys.lstat(path).kind;
  } catch (err) {
    if (err instanceof SyscallError && err.code === 'ENOENT') return undefined;
    throw err;
  }
}
