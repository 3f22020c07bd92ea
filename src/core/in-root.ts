/**
 * Paths inside a container root, opened as O_PATH descriptors: every symlink on the way
 * is followed as if the root were `/` (an absolute link starts again at the root, `..`
 * never goes above it, a link to a link is followed in turn, a dangling link leads to
 * where its target would be), so what is opened is always inside the root, and what is
 * done through the descriptor afterwards cannot be redirected by a link swapped in later
 * (CVE-2021-30465).
 *
 * The kernel does the lookup where it can: openat2(2) with RESOLVE_IN_ROOT (Linux 5.6).
 * A kernel without openat2 answers ENOSYS, a seccomp filter that does not know it EPERM
 * (openat2Refused); the port is then marked and every later lookup through it walks the
 * path one component at a time (openat O_PATH|O_NOFOLLOW, fstat, readlinkat of each
 * link), with the same results. A lookup that finds something missing
 * is walked too, to learn where the missing part would go.
 *
 * Where the lookup led (to vet it, or to tell the root itself) is asked of the kernel by
 * readlink of the descriptor's magic link. A lookup that wants it first tries openat2 with
 * RESOLVE_NO_SYMLINKS as well: when that succeeds no symlink was on the way, and the place
 * is the path itself, cleaned (see lexicalPath). A symlink on the way (or a magic link)
 * answers ELOOP, and the lookup is made again as it is without the flag. When it answers
 * ENOENT instead, and the parent opens the same way, only the last component is missing,
 * and nothing needs walking (see lookupInParent).
 *
 * Magic links (/proc/PID/fd/N, /proc/PID/root, ...) are never jumped through: openat2
 * refuses them (RESOLVE_NO_MAGICLINKS, ELOOP) and the walk reads them as ordinary links,
 * whose text then resolves inside the root like any other.
 */
import posix = require('path/posix');
import { O_CLOEXEC, O_DIRECTORY, O_EXCL, O_CREAT, O_NOFOLLOW, O_PATH, O_WRONLY, RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS } from './constants';
import { SyscallError, errnoNumber } from './errors';
import { MAXSYMLINKS, cleanPath, containerPath, isWithin } from './paths';
import type { Syscalls } from './syscalls/types';

/** openat2(2) resolve flags of every in-root lookup. */
export const IN_ROOT_RESOLVE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/**
 * The first attempt of a lookup that wants to know where it led: no symlink may be on the
 * way. openat2(2): RESOLVE_NO_SYMLINKS implies RESOLVE_NO_MAGICLINKS, fails with ELOOP
 * when a component is a symlink, and with O_PATH|O_NOFOLLOW opens a symlink in the last
 * component itself.
 */
export const IN_ROOT_NO_SYMLINKS = IN_ROOT_RESOLVE | RESOLVE_NO_SYMLINKS;

/** Open flags of every descriptor a lookup returns: a handle on the file, never on its data. */
const PATH_FLAGS = O_PATH | O_CLOEXEC;

/**
 * openat2(2) answers EAGAIN when a rename or mount elsewhere raced a `..` step of a
 * RESOLVE_IN_ROOT lookup; the call is simply made again, up to this many times.
 */
const OPENAT2_ATTEMPTS = 16;

/** Ports whose kernel has no openat2 (ENOSYS once) or may not call it: decided at the first lookup, kept for the process. */
const withoutOpenat2 = new WeakSet<Syscalls>();

/** The calling thread's descriptors in procfs (proc(5); /proc/thread-self since Linux 3.17). */
export const THREAD_SELF_FD = '/proc/thread-self/fd';

/** The magic link through which the kernel reaches the file open as `fd`. */
export function fdPath(fd: number): string {
  return `${THREAD_SELF_FD}/${fd}`;
}

/** A descriptor's magic link (/proc/self/fd/N or /proc/thread-self/fd/N) at the start of a path. */
const MAGIC_FD_LINK = /^(\/proc\/(?:self|thread-self)\/fd\/(\d+))(?:\/(.*))?$/;

/** The magic link `path` starts with, its descriptor, and the rest of the path after it; undefined for any other path. */
export function parseFdPath(path: string): { link: string; fd: number; rest: string } | undefined {
  const m = MAGIC_FD_LINK.exec(path);
  return m ? { link: m[1], fd: Number(m[2]), rest: m[3] ?? '' } : undefined;
}

/** How lookups through `sys` are made: 'walk' once openat2 has answered ENOSYS, or EPERM as a filtered call. */
export function inRootResolver(sys: Syscalls): 'openat2' | 'walk' {
  return withoutOpenat2.has(sys) ? 'walk' : 'openat2';
}

/** The components of a path, without empty and `.` ones; `..` is kept for the lookup to apply. */
export function pathParts(path: string): string[] {
  const parts: string[] = [];
  for (let start = 0; start <= path.length; ) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    if (end > start && !(end === start + 1 && path[start] === '.')) parts.push(path.slice(start, end));
    start = end + 1;
  }
  return parts;
}

/** By number: an errno's names share it (EAGAIN and EWOULDBLOCK). */
function isErrno(err: unknown, code: string): err is SyscallError {
  return err instanceof SyscallError && err.errno === errnoNumber(code);
}

/** What a lookup reached: the deepest existing file on the way, and the components after it that do not exist. */
interface Lookup {
  fd: number;
  missing: readonly string[];
  /** The path inside the root that `fd` was reached by, when no symlink was on the way (lexicalPath); else unknown. */
  inside?: string;
}

/** `missing` of a lookup that found everything. */
const NOTHING_MISSING: readonly string[] = Object.freeze([]);

/** How a lookup is made. */
interface LookupMode {
  /** A symlink in the last component is opened itself rather than followed. */
  nofollow: boolean;
  /** Learn where the lookup led (Lookup.inside) when no symlink is on the way. */
  lexical: boolean;
  /** Only an existing file will do: ENOENT from openat2 is the answer, with no walk to learn what is missing. */
  existing: boolean;
  /** What a walk throws for a component it cannot look a name up in (walk's `stuck`). */
  stuck?: Stuck;
}

/**
 * Opens the path of components `parts` (pathParts) inside the root open as `rootFd`. The
 * returned descriptor is the caller's to close.
 */
function lookup(sys: Syscalls, rootFd: number, parts: readonly string[], how: LookupMode): Lookup {
  if (!withoutOpenat2.has(sys)) {
    const rel = relative(parts);
    const flags = PATH_FLAGS | (how.nofollow ? O_NOFOLLOW : 0);
    if (how.lexical && namesAreExact(parts)) {
      try {
        return { fd: openat2Again(sys, rootFd, rel, flags, IN_ROOT_NO_SYMLINKS), missing: NOTHING_MISSING, inside: lexicalPath(parts) };
      } catch (err) {
        // ELOOP: a symlink or magic link is on the way, which the lookup below follows
        // (or refuses, for a magic link) as always. Any other answer is the one it would
        // get too: up to the component that failed, both lookups took the same steps.
        if (!isErrno(err, 'ELOOP')) {
          const inParent = isErrno(err, 'ENOENT') && !how.existing ? lookupInParent(sys, rootFd, parts) : undefined;
          return inParent ?? afterFailure(sys, rootFd, parts, how, err);
        }
      }
    }
    try {
      return { fd: openat2Again(sys, rootFd, rel, flags, IN_ROOT_RESOLVE), missing: NOTHING_MISSING };
    } catch (err) {
      return afterFailure(sys, rootFd, parts, how, err instanceof SyscallError && err.code === 'ELOOP' ? new SyscallError(err.syscall, err.errno, err.paths, LOOP) : err);
    }
  }
  return walk(sys, rootFd, parts, how.nofollow, how.stuck);
}

/** What an in-root openat2(2)'s ELOOP means: RESOLVE_NO_MAGICLINKS refused a magic link, or the lookup met more than MAXSYMLINKS links. */
const LOOP = `a magic link of /proc on the way, which a lookup inside the rootfs does not follow, or more than ${MAXSYMLINKS} symlinks`;

/** The components as openat2 takes them, relative to the root's descriptor. */
function relative(parts: readonly string[]): string {
  return parts.length ? parts.join('/') : '.';
}

/** openat2(2) in the root, made again while it answers EAGAIN (a rename or mount raced a `..` step), up to OPENAT2_ATTEMPTS times. */
function openat2Again(sys: Syscalls, rootFd: number, rel: string, flags: number, resolve: bigint): number {
  for (let attempt = 1; ; attempt++) {
    try {
      return sys.openat2(rootFd, rel, flags, 0, resolve);
    } catch (err) {
      if (!isErrno(err, 'EAGAIN') || attempt >= OPENAT2_ATTEMPTS) throw err;
    }
  }
}

/**
 * After an openat2 lookup failed with `err`: ENOENT is walked to learn what is missing
 * (or is the answer, when only an existing file will do), ENOSYS or a filtered call's
 * EPERM marks the port and is walked; anything else is thrown.
 */
function afterFailure(sys: Syscalls, rootFd: number, parts: readonly string[], how: LookupMode, err: unknown): Lookup {
  if (!markedWithoutOpenat2(sys, rootFd, err)) {
    if (!isErrno(err, 'ENOENT')) throw err;
    if (how.existing) throw new SyscallError('openat', errnoNumber('ENOENT'), []);
  }
  return walk(sys, rootFd, parts, how.nofollow, how.stuck);
}

/**
 * Whether openat2's failure `err` says the call itself is refused (ENOSYS, or a filter's
 * EPERM: openat2Refused), in which case the port is marked to walk from now on.
 */
function markedWithoutOpenat2(sys: Syscalls, rootFd: number, err: unknown): boolean {
  if (!isErrno(err, 'ENOSYS') && !(isErrno(err, 'EPERM') && openat2Refused(sys, rootFd))) return false;
  withoutOpenat2.add(sys);
  return true;
}

/**
 * Whether openat2 itself is refused, rather than the lookup it made: a seccomp filter
 * that does not allow it may answer EPERM (Docker's default profile before 20.10,
 * systemd's SystemCallFilter with SystemCallErrorNumber=EPERM), not ENOSYS. Opening the
 * root's own `.` as O_PATH, with no resolve flag, needs no permission on the file (open(2),
 * O_PATH) and no search permission beyond the root's, which the lookup needed too; so
 * EPERM for it as well means the call is filtered. Any other answer leaves the first
 * EPERM as the lookup's.
 */
function openat2Refused(sys: Syscalls, rootFd: number): boolean {
  let fd: number;
  try {
    fd = sys.openat2(rootFd, '.', PATH_FLAGS, 0, 0n);
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
  sys.close(fd);
  return false;
}

/**
 * After a lookup with RESOLVE_NO_SYMLINKS answered ENOENT: its parent, opened the same
 * way, with the last component as what is missing; undefined when a directory before it
 * is missing too (ENOENT), a link was put on the way meanwhile (ELOOP) or the last
 * component is `..`, and the walk finds out. That first ENOENT was no dangling symlink,
 * which would have been ELOOP: the last component is not there at all, as the walk would
 * have found it, one openat and fstat per directory later.
 */
function lookupInParent(sys: Syscalls, rootFd: number, parts: readonly string[]): Lookup | undefined {
  const name = parts[parts.length - 1];
  if (name === undefined || name === '..') return undefined;
  const parent = parts.slice(0, -1);
  let fd: number;
  try {
    fd = openat2Again(sys, rootFd, relative(parent), PATH_FLAGS, IN_ROOT_NO_SYMLINKS);
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ELOOP')) return undefined;
    throw err;
  }
  return { fd, missing: [name], inside: lexicalPath(parent) };
}

/**
 * Whether the names in `parts` are the names the kernel's lookup reaches, so that
 * lexicalPath can stand for the readlink of where it led. A directory with case-folded
 * names (ext4 and f2fs casefold, `chattr +F`) finds `proc` when asked for `PROC` or `Proc`
 * (and on some kernels also with ignorable code points such as U+200B added), and the one
 * place a lookup's result is judged by name is under /proc (procDestinationProblem). So a
 * name outside ASCII, or `proc` in another case, is looked up as if it held a symlink:
 * the kernel's name of the result is read.
 */
export function namesAreExact(parts: readonly string[]): boolean {
  for (let i = 0; i < parts.length; i++) {
    const name = parts[i];
    if (/[^\x00-\x7f]/.test(name)) return false;
    if (name.length === 4 && name !== 'proc' && name.toLowerCase() === 'proc') return false;
  }
  return true;
}

/**
 * Where the components `parts` lead inside the root when no symlink is on the way: each
 * `..` goes back to the directory the one before it was looked up in (a directory's `..`
 * is its parent, path_resolution(7); at a mount's root, the parent of the mountpoint), and
 * stays at the root there (openat2(2), RESOLVE_IN_ROOT). A rename or mount during a lookup
 * with `..` makes RESOLVE_IN_ROOT answer EAGAIN rather than go elsewhere. This is the path
 * readlink of the descriptor's magic link gives, without the root's own name.
 */
export function lexicalPath(parts: readonly string[]): string {
  const kept: string[] = [];
  for (let i = 0; i < parts.length; i++) {
    if (parts[i] !== '..') kept.push(parts[i]);
    else kept.pop();
  }
  return '/' + kept.join('/');
}

/**
 * The component-by-component lookup. Each component is opened O_PATH|O_NOFOLLOW from the
 * directory before it; a symlink is read (readlinkat on its own descriptor) and its target
 * put in front of the components still to go, after going back to the root if it is
 * absolute. The directories on the way stay open, so `..` goes back to the directory the
 * lookup came from (never above the root), as the kernel's lookup does. Once a component
 * is missing, the rest is only collected: `..` then drops the last missing component.
 * A component that cannot be opened for another reason is thrown as `stuck` makes it, when
 * given.
 */
function walk(sys: Syscalls, rootFd: number, parts: readonly string[], nofollow: boolean, stuck?: Stuck): Lookup {
  const stack: number[] = [];
  const missing: string[] = [];
  const pending = parts.slice().reverse();
  let links = 0;
  try {
    for (let part = pending.pop(); part !== undefined; part = pending.pop()) {
      if (part === '..') {
        if (missing.length) missing.pop();
        else if (stack.length) sys.close(stack.pop()!);
        continue;
      }
      if (missing.length) {
        missing.push(part);
        continue;
      }
      let fd: number;
      try {
        fd = sys.openat(stack.length ? stack[stack.length - 1] : rootFd, part, PATH_FLAGS | O_NOFOLLOW, 0);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) {
          missing.push(part);
          continue;
        }
        throw stuck && err instanceof SyscallError ? stuck(stack.length ? stack[stack.length - 1] : rootFd, part, err) : err;
      }
      // On the stack before fstat, so that the finally below closes it if fstat fails.
      stack.push(fd);
      if ((pending.length > 0 || !nofollow) && sys.fstat(fd).kind === 'symlink') {
        stack.pop();
        let target: string;
        try {
          target = sys.readlinkat(fd, '');
        } finally {
          sys.close(fd);
        }
        // path_resolution(7): more than MAXSYMLINKS links in one lookup is ELOOP.
        if (++links > MAXSYMLINKS) throw new SyscallError('openat', errnoNumber('ELOOP'), [part]);
        if (target.startsWith('/')) while (stack.length) sys.close(stack.pop()!);
        pending.push(...pathParts(target).reverse());
      }
    }
    return { fd: stack.pop() ?? sys.openat(rootFd, '.', PATH_FLAGS, 0), missing };
  } finally {
    for (const fd of stack) sys.close(fd);
  }
}

/**
 * What a walk throws when `name` cannot be looked up in the file open as `dirFd` (the
 * root's descriptor, or one the walk opened) for any reason but ENOENT: `err`, its openat.
 */
type Stuck = (dirFd: number, name: string, err: SyscallError) => unknown;

/**
 * A root directory open for lookups: its host path (trusted), its O_PATH descriptor and,
 * once read, the kernel's name of it (readlink of its magic link).
 */
export interface RootDir {
  readonly path: string;
  readonly fd: number;
  name?: string;
  /**
   * Set when createInRoot (how mount targets are opened) led to the root directory
   * itself: a mount made there next would cover it, and a descriptor opened before a
   * mount keeps showing the directory under it, so from then on every lookup opens the
   * path again, which reaches the mount on top, as a lookup from a path always does.
   */
  stale?: boolean;
}

/** Where lookups start: a root directory's host path, opened for each call, or one kept open across calls. */
export type Root = string | RootDir;

/** Opens the root directory `path` (a trusted host path) for lookups; its descriptor is the caller's to close. */
export function openRootDir(sys: Syscalls, path: string): RootDir {
  return { path, fd: sys.open(path, PATH_FLAGS | O_DIRECTORY, 0) };
}

/** The host path of a root. */
function rootPath(root: Root): string {
  return typeof root === 'string' ? root : root.path;
}

/**
 * Runs `fn` with `root` open: a kept RootDir as it is unless stale, a path opened for the
 * call and closed after it. A failure names the path asked for, `unsafe`, as a host path,
 * with the syscall and errno that failed.
 */
function fromRoot<T>(sys: Syscalls, root: Root, unsafe: string, fn: (dir: RootDir) => T): T {
  try {
    if (typeof root !== 'string' && !root.stale) return fn(root);
    const dir = openRootDir(sys, rootPath(root));
    try {
      return fn(dir);
    } finally {
      sys.close(dir.fd);
    }
  } catch (err) {
    throw naming(root, unsafe, err);
  }
}

/**
 * Errors fromRoot passes on as they are: those naming the component of a path that failed
 * (createInRoot), as a host path, rather than the whole path, and a caller's own
 * (CreateOptions.vet and beforeMake), which name what that caller's call named.
 */
const alreadyNamed = new WeakSet<SyscallError>();

/** A SyscallError of a lookup as one naming the path asked for, as a host path, with its detail; one already named (alreadyNamed), or anything else, as it is. */
function naming(root: Root, unsafe: string, err: unknown): unknown {
  if (!(err instanceof SyscallError) || alreadyNamed.has(err)) return err;
  return new SyscallError(err.syscall, err.errno, [posix.join(rootPath(root), cleanPath(unsafe))], err.detail);
}

/**
 * Opens `unsafe` inside `root` as an O_PATH descriptor, for the caller to close. With
 * O_NOFOLLOW in `flags` a symlink in the last component is opened itself; with O_DIRECTORY
 * anything but a directory is ENOTDIR. Something missing on the way is ENOENT.
 */
export function openInRoot(sys: Syscalls, root: Root, unsafe: string, flags = 0): number {
  return fromRoot(sys, root, unsafe, (dir) => {
    const found = lookup(sys, dir.fd, pathParts(unsafe), { nofollow: (flags & O_NOFOLLOW) !== 0, lexical: false, existing: true });
    try {
      if (found.missing.length) throw new SyscallError('openat', errnoNumber('ENOENT'), []);
      if ((flags & O_DIRECTORY) !== 0 && sys.fstat(found.fd).kind !== 'dir') throw new SyscallError('openat', errnoNumber('ENOTDIR'), []);
    } catch (err) {
      sys.close(found.fd);
      throw err;
    }
    return found.fd;
  });
}

/** openInRoot, or undefined when something on the way is missing (ENOENT). */
export function openInRootIfExists(sys: Syscalls, root: Root, unsafe: string, flags = 0): number | undefined {
  try {
    return openInRoot(sys, root, unsafe, flags);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

/** Runs `fn` with `unsafe` opened inside `root` (see openInRoot), closing it afterwards. */
export function withInRoot<T>(sys: Syscalls, root: Root, unsafe: string, fn: (fd: number) => T, flags = 0): T {
  const fd = openInRoot(sys, root, unsafe, flags);
  try {
    return fn(fd);
  } finally {
    sys.close(fd);
  }
}

/**
 * The path inside `root` that `unsafe` leads to, links followed as openInRoot follows
 * them (with O_NOFOLLOW in `flags`, all but one in the last component); a missing part is
 * added as written (`..` in it dropping the component before). Nothing is created. Always
 * `/` or below.
 */
export function resolveInRoot(sys: Syscalls, root: Root, unsafe: string, flags = 0): string {
  return fromRoot(sys, root, unsafe, (dir) => {
    const found = lookup(sys, dir.fd, pathParts(unsafe), { nofollow: (flags & O_NOFOLLOW) !== 0, lexical: true, existing: false });
    try {
      return withMissing(found.inside ?? pathInside(sys, dir, found.fd), found.missing);
    } finally {
      sys.close(found.fd);
    }
  });
}

/**
 * Runs `fn` with the parent directory of `unsafe` opened inside `root` and the last
 * component's name, for calls that act on a name in a directory (symlinkat, unlinkat,
 * mknodat) and must not follow a link there. The parent must exist. A failure names the
 * whole path.
 */
export function withParentInRoot<T>(sys: Syscalls, root: Root, unsafe: string, fn: (dirFd: number, name: string) => T): T {
  const parts = pathParts(unsafe);
  const name = parts.pop();
  if (name === undefined || name === '..') throw new SyscallError('openat', errnoNumber('EINVAL'), [posix.join(rootPath(root), unsafe)]);
  return withInRoot(
    sys,
    root,
    parts.join('/'),
    (dirFd) => {
      try {
        return fn(dirFd, name);
      } catch (err) {
        throw naming(root, unsafe, err);
      }
    },
    O_DIRECTORY,
  );
}

/** Makes the last component of a path, named `name`, in the directory open as `dirFd`. */
export type MakeEntry = (dirFd: number, name: string) => void;

export interface CreateOptions {
  /** Makes the last component when it is missing; default: a directory of `dirMode`. */
  make?: MakeEntry;
  /** Mode of the directories made on the way (before the umask); default 0755. */
  dirMode?: number;
  /** A symlink in the last component is opened itself rather than followed. */
  nofollow?: boolean;
  /**
   * Called before anything is made with the path inside the root that the lookup leads
   * to (where the existing part lies, as the kernel names it, with the missing components
   * added); throwing stops the creation, with the caller's error as it is.
   */
  vet?: (inside: string) => void;
  /**
   * Called once when something is missing, after `vet` and before anything is made;
   * throwing stops the creation, with the caller's error as it is. For a `make` whose
   * choice costs a call (a bind's target made as its source's kind, which only a missing
   * target needs).
   */
  beforeMake?: () => void;
}

export interface Created {
  /** O_PATH descriptor of what is now at the path; the caller's to close. */
  fd: number;
  /** Whether the last component was made by this call. */
  made: boolean;
  /** Where the lookup led inside the root, when it was learned (a lookup with `vet`): the path `vet` was given. */
  inside?: string;
}

/**
 * Opens `unsafe` inside `root` as openInRoot does, making what is missing first: the
 * directories on the way (mkdirat in the directory before each, then opened with
 * O_NOFOLLOW|O_DIRECTORY, so a link put there meanwhile fails the call rather than being
 * followed) and the last component with `make`. Where a missing component lies is where
 * the lookup led, so a dangling link is created through, inside the root.
 */
export function createInRoot(sys: Syscalls, root: Root, unsafe: string, opts: CreateOptions = {}): Created {
  return fromRoot(sys, root, unsafe, (dir) => {
    const parts = pathParts(unsafe);
    const nofollow = opts.nofollow ?? false;
    const mayReachRoot = typeof root !== 'string' && mayBeRoot(parts, nofollow);
    let found: Lookup;
    try {
      found = lookup(sys, dir.fd, parts, { nofollow, lexical: opts.vet !== undefined || mayReachRoot, existing: false, stuck: blockedAt(sys, root, dir) });
    } catch (err) {
      throw blockedOnTheWay(sys, root, dir, parts, nofollow, err);
    }
    const missing = found.missing;
    let fd = found.fd;
    let inside: string | undefined;
    // Where the deepest existing file on the way lies inside the root, when known.
    let base = found.inside;
    try {
      // Only an existing file can be the root.
      const watch = mayReachRoot && missing.length === 0;
      if (opts.vet || watch) {
        base ??= pathInside(sys, dir, fd);
        inside = withMissing(base, missing);
        if (watch && inside === '/' && typeof root !== 'string') root.stale = true;
        if (opts.vet) {
          try {
            opts.vet(inside);
          } catch (err) {
            throw callersOwn(err);
          }
        }
      }
      if (missing.length === 0) return { fd, made: false, inside };
      if (opts.beforeMake) {
        try {
          opts.beforeMake();
        } catch (err) {
          throw callersOwn(err);
        }
      }
      const dirMode = opts.dirMode ?? 0o755;
      for (let i = 0; i < missing.length; i++) {
        const name = missing[i];
        const last = i === missing.length - 1;
        let next: number;
        try {
          if (!last) mkdirIfMissing(sys, fd, name, dirMode);
          else if (opts.make) opts.make(fd, name);
          else sys.mkdirat(fd, name, dirMode);
          next = sys.openat(fd, name, PATH_FLAGS | O_NOFOLLOW | (last ? 0 : O_DIRECTORY), 0);
        } catch (err) {
          throw namingMade(sys, root, dir, base === undefined ? undefined : withMissing(base, missing.slice(0, i + 1)), fd, name, err);
        }
        sys.close(fd);
        fd = next;
      }
      return { fd, made: true, inside };
    } catch (err) {
      sys.close(fd);
      throw err;
    }
  });
}

/**
 * Whether a lookup of the components `parts` may lead to the root itself, for a kept root
 * to learn it (RootDir.stale). A file reached by a last component that is a name, not
 * followed (nofollow), is an entry of a directory, which the root is not.
 */
function mayBeRoot(parts: readonly string[], nofollow: boolean): boolean {
  const last = parts[parts.length - 1];
  return !nofollow || last === undefined || last === '..';
}

/** A path inside the root with the missing components of a lookup added as written (`..` dropping the one before). */
function withMissing(inside: string, missing: readonly string[]): string {
  return missing.length ? posix.join(inside, ...missing) : inside;
}

/**
 * The path of the file open as `fd` inside the root `dir`: the kernel's names of both
 * (readlink of their magic links, which are canonical whatever path the root was opened
 * by), the root's taken off the front. The file's name is read at every call: it is what
 * shows where the lookup led, and containerPath refuses a name outside the root. The
 * root's is read once per RootDir: it names the directory of a trusted host path, which
 * nothing the container's files control can move while the descriptor is kept.
 */
function pathInside(sys: Syscalls, dir: RootDir, fd: number): string {
  dir.name ??= sys.readlink(fdPath(dir.fd));
  return containerPath(dir.name, sys.readlink(fdPath(fd)));
}

/**
 * A creation step's SyscallError as one naming the component it made or opened, as a host
 * path, as runc names the directory its MkdirAll could not make: `inside`, its path inside
 * the root when the lookup learned it, else the kernel's name of its directory, open as
 * `dirFd` (readlink of its magic link), and `name`. Anything else, or a directory that
 * cannot be named, leaves `err` as it is.
 */
function namingMade(sys: Syscalls, root: Root, dir: RootDir, inside: string | undefined, dirFd: number, name: string, err: unknown): unknown {
  if (!(err instanceof SyscallError)) return err;
  let path: string;
  try {
    path = inside ?? posix.join(pathInside(sys, dir, dirFd), name);
  } catch {
    return err;
  }
  return componentError(err.syscall, err.errno, posix.join(rootPath(root), path), err.detail);
}

/** `err`, thrown by a caller's own step inside createInRoot (CreateOptions.vet, beforeMake): a SyscallError names what its call named (alreadyNamed). */
function callersOwn(err: unknown): unknown {
  if (err instanceof SyscallError) alreadyNamed.add(err);
  return err;
}

/** A SyscallError naming one component, which fromRoot passes on as it is (alreadyNamed). */
function componentError(syscall: string, errno: number, hostPath: string, detail?: string): SyscallError {
  const err = new SyscallError(syscall, errno, [hostPath], detail);
  alreadyNamed.add(err);
  return err;
}

/**
 * A walk's `stuck` for createInRoot: an openat that failed with ENOTDIR (a file on the way
 * where a directory has to be: path_resolution(7)) or EACCES (a directory on the way
 * without search permission) names the file it could not look the next name up in, as a
 * host path (the kernel's name of it, readlink of its magic link), and that name; as runc
 * names the component its MkdirAll stopped at. Another errno, or a file that cannot be
 * named, leaves the failure as it is. `as` gives the syscall named: by default the one
 * that failed.
 */
function blockedAt(sys: Syscalls, root: Root, dir: RootDir, as?: SyscallError): Stuck {
  return (dirFd, name, err) => {
    if (!(isErrno(err, 'ENOTDIR') || isErrno(err, 'EACCES')) || (as && as.errno !== err.errno)) return err;
    let inside: string;
    try {
      inside = pathInside(sys, dir, dirFd);
    } catch {
      return err;
    }
    return componentError((as ?? err).syscall, err.errno, posix.join(rootPath(root), inside), `looking up ${JSON.stringify(name)} in it`);
  };
}

/**
 * An openat2 lookup's failure `err` as one naming the component that stopped it
 * (blockedAt), found by walking the path one component at a time. The walk finding
 * nothing in the way (the tree changed meanwhile), another errno, or a failure a walk
 * already named, leaves `err` as it is.
 */
function blockedOnTheWay(sys: Syscalls, root: Root, dir: RootDir, parts: readonly string[], nofollow: boolean, err: unknown): unknown {
  if (!(err instanceof SyscallError) || alreadyNamed.has(err) || !(isErrno(err, 'ENOTDIR') || isErrno(err, 'EACCES'))) return err;
  try {
    sys.close(walk(sys, dir.fd, parts, nofollow, blockedAt(sys, root, dir, err)).fd);
  } catch (blocked) {
    if (blocked instanceof SyscallError && alreadyNamed.has(blocked)) return blocked;
  }
  return err;
}

/** mkdirat(2) that takes EEXIST as done: a directory made meanwhile by someone else is used (opened with O_NOFOLLOW after). */
function mkdirIfMissing(sys: Syscalls, dirFd: number, name: string, mode: number): void {
  try {
    sys.mkdirat(dirFd, name, mode);
  } catch (err) {
    if (!isErrno(err, 'EEXIST')) throw err;
  }
}

/**
 * Makes an empty regular file of `mode` (before the umask): O_CREAT|O_EXCL never follows
 * a link and fails on anything already there (open(2)).
 */
export function makeFile(sys: Syscalls, mode: number): MakeEntry {
  return (dirFd, name) => sys.close(sys.openat(dirFd, name, O_CREAT | O_EXCL | O_NOFOLLOW | O_WRONLY | O_CLOEXEC, mode));
}

/** Where a mount target lies now: the kernel's name of it (readlink of its magic link) and that path inside the root. */
export interface TargetPlace {
  /** readlink(2) of the target's /proc/thread-self/fd/N, as the kernel names it now. */
  path: string;
  /** `path` inside the root (containerPath); undefined when the kernel's name lies outside it. */
  inside: string | undefined;
}

/**
 * Where the file open as `target` lies now inside `root`: readlink of its magic link (and
 * of the root's, once per RootDir). For afterMount (mounting.ts), after a mount on it.
 */
export function targetPlace(sys: Syscalls, root: Root, target: number, unsafe: string): TargetPlace {
  return fromRoot(sys, root, unsafe, (dir) => {
    const path = sys.readlink(fdPath(target));
    dir.name ??= sys.readlink(fdPath(dir.fd));
    return { path, inside: isWithin(dir.name, path) ? containerPath(dir.name, path) : undefined };
  });
}

/**
 * Opens, after a mount on the directory open as `target`, what its place shows now: the
 * entry named as the target is now (`place.path`'s last component) in the target's own
 * parent directory (`..` of its descriptor, the directory the kernel holds it in, not one
 * looked up by name), with no symlink or magic link followed (openat2 RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS, ELOOP on a symlink; openat O_NOFOLLOW of the one name where the
 * kernel has no openat2), crossing into the mounts on it: the new mount's root, unless
 * something else was put there. A file target (`dir` false) has no `..`: its place is
 * opened from the root by `place.inside`, the kernel's symlink-free name, with
 * RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS (the walk follows links where there is no openat2:
 * the caller compares the result's name). The descriptor is the caller's to close.
 */
export function reopenTarget(sys: Syscalls, root: Root, target: number, dir: boolean, place: TargetPlace & { inside: string }, unsafe: string): number {
  if (dir && place.inside !== '/') {
    const name = posix.basename(place.path);
    const parent = sys.openat(target, '..', PATH_FLAGS | O_DIRECTORY, 0);
    try {
      if (withoutOpenat2.has(sys)) return sys.openat(parent, name, PATH_FLAGS | O_NOFOLLOW, 0);
      return openat2Again(sys, parent, name, PATH_FLAGS | O_NOFOLLOW, RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    } finally {
      sys.close(parent);
    }
  }
  return fromRoot(sys, root, unsafe, (rootDir) => {
    const parts = pathParts(place.inside);
    if (!withoutOpenat2.has(sys)) {
      try {
        return openat2Again(sys, rootDir.fd, relative(parts), PATH_FLAGS | O_NOFOLLOW, IN_ROOT_NO_SYMLINKS);
      } catch (err) {
        if (!markedWithoutOpenat2(sys, rootDir.fd, err)) throw err;
      }
    }
    const found = walk(sys, rootDir.fd, parts, true);
    if (found.missing.length) {
      sys.close(found.fd);
      throw new SyscallError('openat', errnoNumber('ENOENT'), []);
    }
    return found.fd;
  });
}
