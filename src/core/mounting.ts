/**
 * Building blocks the mount handlers share, all through the syscall port.
 */
import type { MountSpec } from './config/model';
import { AT_FDCWD, AT_RECURSIVE, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT } from './constants';
import { SyscallError, errnoNumber } from './errors';
import { cleanPath } from './paths';
import type { Syscalls } from './syscalls/types';

/** True when `path` exists (following links); false on ENOENT. */
export function exists(sys: Syscalls, path: string): boolean {
  try {
    sys.stat(path);
    return true;
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return false;
    throw err;
  }
}

/** mkdir -p: creates each missing directory; an existing non-directory component is ENOTDIR. */
export function mkdirAll(sys: Syscalls, path: string, mode: number): void {
  const parts = cleanPath(path).split('/').filter(Boolean);
  let current = '';
  for (const part of parts) {
    current += '/' + part;
    let kind: string | undefined;
    try {
      kind = sys.stat(current).kind;
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'ENOENT') throw err;
    }
    if (kind === undefined) sys.mkdir(current, mode);
    else if (kind !== 'dir') throw new SyscallError('mkdir', errnoNumber('ENOTDIR'), [current]);
  }
}

/** Creates a directory (isDir) or an empty file with its parents, unless something is there. */
export function createIfNotExists(sys: Syscalls, path: string, isDir: boolean): void {
  if (exists(sys, path)) return;
  if (isDir) {
    mkdirAll(sys, path, 0o755);
    return;
  }
  mkdirAll(sys, path.slice(0, path.lastIndexOf('/')) || '/', 0o755);
  sys.writeFile(path, '', 0o755);
}

export interface MountAt {
  source: string | null;
  target: string;
  fstype: string | null;
  flags: bigint;
  data: string | null;
}

/**
 * mount(2) followed by one propagation call per flag, as the kernel takes a propagation
 * change only in a call of its own (mount(2), "Changing the propagation type").
 *
 * `/dev` is never mounted read-only here: device nodes are created in it later, and the
 * finalize step remounts it read-only when asked.
 */
export function mountPropagate(sys: Syscalls, m: MountSpec, at: MountAt): void {
  const flags = cleanPath(m.destination) === '/dev' ? at.flags & ~MS_RDONLY : at.flags;
  sys.mount(at.source, at.target, at.fstype, flags, at.data || null);
  applyPropagation(sys, m, at.target);
}

/** The mount's propagation flags on an existing mount, one mount(2) call each, in order. */
export function applyPropagation(sys: Syscalls, m: MountSpec, target: string): void {
  for (const pflag of m.propagationFlags) sys.mount(null, target, null, pflag, null);
}

/**
 * The recursive attributes (rro, rnosuid, ...) with mount_setattr(2) AT_RECURSIVE, which
 * changes the mount and every mount below it; the last thing a handler does.
 */
export function applyRecursiveAttrs(sys: Syscalls, m: MountSpec, target: string): void {
  if (m.recAttrs) sys.mountSetattr(AT_FDCWD, target, AT_RECURSIVE, m.recAttrs.attrSet, m.recAttrs.attrClr, 0n);
}

/**
 * MS_BIND ignores every other flag on the first call (mount(2)), so a bind carrying ro,
 * nosuid, nodev, noexec or atime flags needs a remount with MS_REMOUNT|MS_BIND.
 */
export function bindNeedsRemount(flags: bigint): boolean {
  return (flags & ~(MS_REC | MS_REMOUNT | MS_BIND)) !== 0n;
}

export function remountBind(sys: Syscalls, target: string, flags: bigint): void {
  sys.mount(null, target, null, flags | MS_REMOUNT | MS_BIND, null);
}
