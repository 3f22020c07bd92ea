import { O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH, O_WRONLY, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS } from '../../src/core/constants';
import { THREAD_SELF_FD, parseFdPath } from '../../src/core/in-root';
import { PROC_FILE_RESOLVE, PROC_ROOT_FLAGS } from '../../src/core/procfs';
import type { FakeSyscalls, SyscallRecord } from '../../src/core/syscalls/fake';

/** The calls that open and close descriptors: the bookkeeping of lookups inside a root. */
const DESCRIPTOR_OPS: ReadonlySet<string> = new Set(['open', 'openat', 'openat2', 'close']);

/**
 * The effects that change the filesystem or the mounts (mkdirat, mknodat, symlinkat,
 * mount, an open with O_CREAT...), without the descriptor bookkeeping of in-root lookups,
 * which the in-root tests and each handler's full call list check.
 */
export function changes(sys: FakeSyscalls): SyscallRecord[] {
  return sys.effects().filter((c) => !DESCRIPTOR_OPS.has(c.op) || ('flags' in c && typeof c.flags === 'number' && (c.flags & O_CREAT) !== 0));
}

/** The openat that creates an empty file `name` of `mode` in the directory the fake opened at `dir` (makeFile). */
export function fileMade(sys: FakeSyscalls, dir: string, name: string, mode: number) {
  return { op: 'openat', dirfd: fdOf(sys, dir), path: name, flags: O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode } as const;
}

/**
 * Matches `/proc/thread-self/fd/N` (then `/rest` when given) where the fake opened
 * descriptor N at `path`: a mount or call made through the descriptor of that file.
 */
export function viaFd(sys: FakeSyscalls, path: string, rest = ''): string {
  const shown = `viaFd(${JSON.stringify(path)}${rest ? `, ${JSON.stringify(rest)}` : ''})`;
  const matcher = {
    asymmetricMatch: (actual: unknown) => {
      const link = typeof actual === 'string' ? parseFdPath(actual) : undefined;
      return link !== undefined && link.link.startsWith(THREAD_SELF_FD + '/') && link.rest === rest && sys.pathOf(link.fd) === path;
    },
    toString: () => shown,
    toAsymmetricMatcher: () => shown,
  };
  return matcher as unknown as string;
}

/** Matches a descriptor number the fake opened at `path`. */
export function fdOf(sys: FakeSyscalls, path: string): number {
  const matcher = {
    asymmetricMatch: (actual: unknown) => typeof actual === 'number' && sys.pathOf(actual) === path,
    toString: () => `fdOf(${JSON.stringify(path)})`,
    toAsymmetricMatcher: () => `fdOf(${JSON.stringify(path)})`,
  };
  return matcher as unknown as number;
}

/** The descriptors of afterMount's reopen of a directory target (core/mounting.ts reopenMounted). */
export interface ReopenFds {
  /** The rootfs kept for the run. */
  root: number;
  /** The target, opened before the mount. */
  target: number;
  /** The target's parent, `..` of its descriptor. */
  parent: number;
  /** The new mount, opened again. */
  reopened: number;
}

/**
 * The calls of afterMount's check of a mount made on a directory, before anything acts on
 * it: the target's kind and mount and where it lies now (the root's name once), its name
 * opened again in its own parent with no symlink followed, and what that reached checked
 * to be at the target's place and the root of another mount than the target's.
 */
export function reopenedMountCalls(name: string, fds: ReopenFds): SyscallRecord[] {
  const PATH = O_PATH | O_CLOEXEC;
  return [
    { op: 'fstatMount', fd: fds.target },
    { op: 'readlink', path: `${THREAD_SELF_FD}/${fds.target}` },
    { op: 'readlink', path: `${THREAD_SELF_FD}/${fds.root}` },
    { op: 'openat', dirfd: fds.target, path: '..', flags: PATH | O_DIRECTORY, mode: 0 },
    { op: 'openat2', dirfd: fds.parent, path: name, flags: PATH | O_NOFOLLOW, mode: 0, resolve: RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS },
    { op: 'close', fd: fds.parent },
    { op: 'readlink', path: `${THREAD_SELF_FD}/${fds.reopened}` },
    { op: 'fstatMount', fd: fds.reopened },
  ] as SyscallRecord[];
}

/**
 * The calls of core/procfs.ts's requireContainerProc on a fake whose /proc is addProcfs's
 * (pid 1): /proc opened and checked to be a procfs's root (kept open for the run, as
 * `root`), thread-self read, and the thread's `fd` directory opened below it (as `fdDir`)
 * and closed.
 */
export function containerProcChecked(root: number, fdDir: number) {
  return [
    { op: 'open', path: '/proc', flags: PROC_ROOT_FLAGS, mode: 0 },
    { op: 'fstatfs', fd: root },
    { op: 'fstat', fd: root },
    { op: 'readlinkat', dirfd: root, path: 'thread-self' },
    { op: 'openat2', dirfd: root, path: '1/task/1/fd', flags: O_PATH | O_DIRECTORY | O_CLOEXEC, mode: 0, resolve: PROC_FILE_RESOLVE },
    { op: 'close', fd: fdDir },
  ] as const;
}
