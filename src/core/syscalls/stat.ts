/**
 * stat(2) results as the port's FileStat: shared by the real port, the dry-run overlay
 * and the plan port, which all read the host through Node's synchronous fs calls.
 */
import type { BigIntStats } from 'fs';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../constants';
import type { FileKind, FileStat } from './types';

const KIND_BY_TYPE = new Map<number, FileKind>([
  [S_IFREG, 'file'],
  [S_IFDIR, 'dir'],
  [S_IFLNK, 'symlink'],
  [S_IFCHR, 'char'],
  [S_IFBLK, 'block'],
  [S_IFIFO, 'fifo'],
  [S_IFSOCK, 'socket'],
]);

/** The file kind of the S_IFMT bits of a mode, undefined for none. */
export function kindFromMode(mode: number): FileKind | undefined {
  return KIND_BY_TYPE.get(mode & S_IFMT);
}

export function toFileStat(st: BigIntStats): FileStat {
  const mode = Number(st.mode);
  return {
    kind: kindFromMode(mode) ?? 'file',
    perm: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    rdev: st.rdev,
    dev: st.dev,
    ino: st.ino,
    size: Number(st.size),
  };
}
