import type { FileKind } from '../../core/syscalls/types';

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
 * Why an existing node of kind `kind` at container path `inside` may not take a proc or
 * sysfs mount, or undefined when it may. Only a real directory may: mounting through a
 * symlink would put the filesystem wherever the link points (CVE-2019-19921).
 */
export function realDirectoryProblem(inside: string, kind: FileKind): string | undefined {
  if (kind === 'dir') return undefined;
  return `${JSON.stringify(inside)} must be a real directory, not a ${KIND_WORDS[kind]}`;
}
