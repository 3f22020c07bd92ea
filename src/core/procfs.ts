/**
 * The procfs files mountkit itself writes after the jail (linux.sysctl, the LSM exec
 * labels), opened so that neither the image nor the config can lead the write elsewhere
 * (CVE-2025-52881): after the jail, `/proc` is whatever the container's root holds there,
 * an image's own directory of symlinks when the config mounts no procfs, and mounts the
 * config made inside /proc (a bind over /proc/sys/..., a mask) may cover a file.
 *
 * The container's `/proc` is opened once per run (O_PATH|O_DIRECTORY, no symlink followed)
 * and must be the root of a procfs: fstatfs(2) f_type PROC_SUPER_MAGIC and inode
 * PROC_ROOT_INO (1), which no other directory of a procfs has, so not a bind of one of its
 * subdirectories either. Each file is then opened relative to it with openat2(2)
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS|RESOLVE_NO_XDEV: no symlink on
 * the way and no mount crossed, its last component's included, so the file is on that
 * same mount of that procfs (openat2(2), RESOLVE_NO_XDEV); no second fstatfs is needed.
 * `self` and `thread-self` are symlinks, which the lookup refuses: they are read once
 * (readlinkat of `thread-self` in the verified root: "PID/task/TID", the kernel's link to
 * the reading thread as that procfs's pid namespace numbers it, which need not be the
 * container's: a bind of the host's /proc numbers it as the host does, not as getpid(2)
 * does) and must name a thread-group leader (Node's JavaScript thread, the one mountkit
 * runs on, is), so that `self` is the same process.
 *
 * Without openat2 (ENOSYS before Linux 5.6, or a port in-root lookups found refusing it)
 * each component is opened with openat(2) O_PATH|O_NOFOLLOW and fstat(2)ed: no symlink,
 * and the same st_dev as the root (each procfs instance has its own), the file last with
 * O_NOFOLLOW. That refuses symlinks and mounts of anything but that procfs; a bind of
 * another file of the same procfs would pass, which only openat2 (or a mount id) tells.
 *
 * What is written is written through the descriptor (write(2)), all files opened first:
 * a refused one writes nothing.
 */
import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, PROC_SUPER_MAGIC, RESOLVE_BENEATH, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, RESOLVE_NO_XDEV } from './constants';
import { StepError, SyscallError } from './errors';
import { THREAD_SELF_FD, inRootResolver } from './in-root';
import { keptForRun } from './mounting';
import type { RunContext } from './plugin';
import type { Syscalls } from './syscalls/types';

/** The inode number of every procfs's root directory (PROC_ROOT_INO, fs/proc/internal.h). */
export const PROC_ROOT_INO = 1n;

/** How every procfs file is looked up below the verified root. */
export const PROC_FILE_RESOLVE = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

/** How the container's /proc itself is opened: a handle on the directory, never through a symlink. */
export const PROC_ROOT_FLAGS = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

/** The verified root in RunContext.shared, kept open (close-on-exec) for the rest of the run. */
const ROOT_KEY = 'procfs.root';

interface ProcRoot {
  fd: number;
  dev: bigint;
  /** This process's pid as the procfs numbers it (its thread is PID/task/PID), once read. */
  pid?: number;
}

/** A file mountkit writes: its path in the container's /proc and what it is for, in errors (`linux.sysctl "net.ipv4.ip_forward"`). */
export interface ProcWrite {
  path: string;
  data: string;
  what: string;
}

/** openProcFile's refusal of a path that leads to no file of the verified procfs. */
class NotProcFile extends StepError {}

function refused(what: string, path: string, found: string, cause?: SyscallError): StepError {
  return new NotProcFile(`${what}: ${JSON.stringify(path)} is not a procfs file (${found})`, cause && { cause });
}

/** The container's /proc, opened and verified once per run (see above). */
function procRoot(sys: Syscalls, ctx: RunContext, what: string, path: string): ProcRoot {
  const known = ctx.shared.get(ROOT_KEY) as ProcRoot | undefined;
  if (known) return known;
  let fd: number;
  try {
    fd = sys.open('/proc', PROC_ROOT_FLAGS, 0);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    const found = err.code === 'ENOTDIR' || err.code === 'ELOOP' ? 'a symlink or not a directory' : err.code === 'ENOENT' ? 'missing' : undefined;
    if (found) throw refused(what, path, `"/proc" is ${found}`, err);
    throw new StepError(`${what}: open "/proc": ${err.code}`, { cause: err });
  }
  try {
    const type = sys.fstatfs(fd).type;
    if (type !== PROC_SUPER_MAGIC) throw refused(what, path, `"/proc" is not a procfs: f_type 0x${type.toString(16)}`);
    const st = sys.fstat(fd);
    if (st.ino !== PROC_ROOT_INO) throw refused(what, path, `"/proc" is not the root of a procfs: inode ${st.ino}`);
    // Kept as the rootfs is (mounting.ts keptForRun): closed when the run ends without its execve.
    keptForRun(ctx.shared, ROOT_KEY, () => fd);
    const root: ProcRoot = { fd, dev: st.dev };
    ctx.shared.set(ROOT_KEY, root);
    return root;
  } catch (err) {
    sys.close(fd);
    throw err;
  }
}

/** This process's pid as the verified procfs numbers it, read from thread-self, which must be its leading thread. */
function thisPid(sys: Syscalls, root: ProcRoot, what: string, path: string): number {
  if (root.pid !== undefined) return root.pid;
  let text: string;
  try {
    text = sys.readlinkat(root.fd, 'thread-self');
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw refused(what, path, `"/proc/thread-self": ${err.code}`, err);
  }
  const m = /^([1-9]\d*)\/task\/([1-9]\d*)$/.exec(text);
  if (!m || m[1] !== m[2]) throw refused(what, path, `"/proc/thread-self" leads to ${JSON.stringify(text)}, not a process's leading thread (PID/task/PID)`);
  root.pid = Number(m[1]);
  return root.pid;
}

/** `path` (/proc/...) relative to the procfs root, `self` and `thread-self` replaced by this process's and thread's directories. */
function belowRoot(sys: Syscalls, root: ProcRoot, what: string, path: string): string {
  const rest = path.slice('/proc/'.length);
  const [first, ...others] = rest.split('/');
  if (first !== 'self' && first !== 'thread-self') return rest;
  const pid = thisPid(sys, root, what, path);
  return [first === 'self' ? `${pid}` : `${pid}/task/${pid}`, ...others].join('/');
}

/** Why a lookup below the root was refused, in words, for the error codes that mean it found no procfs file. */
function lookupRefusal(code: string): string | undefined {
  if (code === 'ELOOP') return 'a symlink on the way';
  if (code === 'EXDEV') return 'a mount crossed on the way';
  return undefined;
}

/** Opens `rel` below the root with `flags` without openat2: one component at a time (see above). */
function walkOpen(sys: Syscalls, root: ProcRoot, rel: string, flags: number, what: string, path: string): number {
  const parts = rel.split('/');
  let dir = root.fd;
  const check = (fd: number, last: boolean) => {
    const st = sys.fstat(fd);
    if (st.kind === 'symlink') throw refused(what, path, 'a symlink on the way');
    if (st.dev !== root.dev) throw refused(what, path, 'a mount crossed on the way');
    const kind = (flags & O_DIRECTORY) !== 0 ? 'dir' : 'file';
    if (last && st.kind !== kind) throw refused(what, path, `a ${st.kind}`);
  };
  try {
    for (const [i, name] of parts.entries()) {
      const last = i === parts.length - 1;
      let fd: number;
      try {
        fd = sys.openat(dir, name, last ? flags | O_NOFOLLOW | O_CLOEXEC : O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
      } catch (err) {
        if (err instanceof SyscallError && err.code === 'ELOOP') throw refused(what, path, 'a symlink on the way', err);
        throw err;
      }
      if (dir !== root.fd) sys.close(dir);
      dir = fd;
      try {
        check(fd, last);
      } catch (err) {
        sys.close(fd);
        dir = root.fd;
        throw err;
      }
    }
    return dir;
  } catch (err) {
    if (dir !== root.fd) sys.close(dir);
    throw err;
  }
}

/**
 * Opens the procfs file `path` (/proc/...) of the container's verified /proc with `flags`
 * (O_WRONLY, O_RDONLY; O_PATH|O_DIRECTORY for a directory), close-on-exec; refuses it with a one-line StepError naming `what`
 * and `path` when it is not a file of that procfs. The descriptor is the caller's to close.
 */
export function openProcFile(sys: Syscalls, ctx: RunContext, path: string, flags: number, what: string): number {
  const root = procRoot(sys, ctx, what, path);
  const rel = belowRoot(sys, root, what, path);
  try {
    if (inRootResolver(sys) === 'walk') return walkOpen(sys, root, rel, flags, what, path);
    try {
      return sys.openat2(root.fd, rel, flags | O_CLOEXEC, 0, PROC_FILE_RESOLVE);
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ENOSYS') return walkOpen(sys, root, rel, flags, what, path);
      throw err;
    }
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    const found = lookupRefusal(err.code);
    if (found) throw refused(what, path, found, err);
    const message = `${what}: open ${JSON.stringify(path)}: ${err.code}`;
    throw err.code === 'ENOENT' ? new MissingProcFile(message, { cause: err }) : new StepError(message, { cause: err });
  }
}

/** openProcFile's failure for a file the verified procfs does not have (ENOENT below its root, not a missing /proc). */
class MissingProcFile extends StepError {}

/** Whether `err` is openProcFile's failure for a file the verified procfs does not have. */
export function isMissingProcFile(err: unknown): boolean {
  return err instanceof MissingProcFile;
}

/** write(2) of `w.data` through `fd`, which openProcFile opened for `w`; a refusal names `w.what` and `w.path`, `explain` may add a hint. */
export function writeProcFd(sys: Syscalls, fd: number, w: ProcWrite, explain?: (code: string) => string): void {
  try {
    sys.write(fd, w.data);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new StepError(`${w.what}: write ${JSON.stringify(w.path)}: ${err.code}${explain?.(err.code) ?? ''}`, { cause: err });
  }
}

/** Writes each of `writes` through a descriptor openProcFile gave, all of them opened (and checked) before the first write. */
export function writeProcFiles(sys: Syscalls, ctx: RunContext, writes: readonly ProcWrite[], flags: number): void {
  writeAllOpened(sys, writes.map((w) => () => ({ fd: openProcFile(sys, ctx, w.path, flags, w.what), write: w })));
}

/** A file opened for a ProcWrite: the descriptor, and the write with the path it was opened by. */
export interface OpenedProcWrite {
  fd: number;
  write: ProcWrite;
}

/**
 * Makes every opening of `opens`, in order, then each write through its descriptor
 * (writeProcFd), and closes them all, also when one fails: nothing is written unless
 * every file could be opened.
 */
export function writeAllOpened(sys: Syscalls, opens: readonly (() => OpenedProcWrite)[]): void {
  const opened: OpenedProcWrite[] = [];
  try {
    for (const open of opens) opened.push(open());
    for (const { fd, write } of opened) writeProcFd(sys, fd, write);
  } finally {
    for (const { fd } of opened) sys.close(fd);
  }
}

/** Where requireContainerProc's check passed, in RunContext.shared. */
const FD_DIR_KEY = 'procfs.fdDirChecked';

/**
 * After the jail, mountkit reaches its own descriptors by path, THREAD_SELF_FD/N (fdPath:
 * mounts by descriptor, the console, the close-on-exec listing), looked up in the
 * container's /proc, which the image decides when no procfs is mounted there: a directory
 * of links leading anywhere, even into a procfs the config binds elsewhere, or listing
 * anything. So before the first use, once per run, that directory is opened as
 * openProcFile opens a file: /proc the root of a procfs, thread-self this process's
 * leading thread, and its `fd` directory below that root with no symlink followed and no
 * mount crossed. Refused with one line saying what (`purpose`) needs it.
 */
export function requireContainerProc(sys: Syscalls, ctx: RunContext, purpose = 'mounting by descriptor after the jail'): void {
  if (ctx.shared.get(FD_DIR_KEY) === true) return;
  sys.close(openProcFile(sys, ctx, THREAD_SELF_FD, O_PATH | O_DIRECTORY, `${purpose} needs the container's procfs`));
  ctx.shared.set(FD_DIR_KEY, true);
}

/**
 * Whether requireContainerProc's check passes. A /proc that is missing or no procfs, or
 * one a call refused on the way (an LSM's EACCES, a seccomp profile's EPERM), is no error
 * here: the callers have a way without it (`instead`), which a debug line names with why.
 * Any other failure (EIO, EMFILE) ends the run, as it would on the way without it.
 */
export function hasContainerProc(sys: Syscalls, ctx: RunContext, instead: string): boolean {
  try {
    requireContainerProc(sys, ctx, 'reaching descriptors through /proc/thread-self/fd');
    return true;
  } catch (err) {
    if (!(err instanceof NotProcFile || err instanceof MissingProcFile || refusedOnTheWay(err))) throw err;
    ctx.log.debug(`${instead}: ${err.message}`);
    return false;
  }
}

/** Whether `err` is openProcFile's failure for a call refused (EACCES, EPERM) on the way to the file. */
function refusedOnTheWay(err: unknown): err is StepError {
  return err instanceof StepError && err.cause instanceof SyscallError && (err.cause.code === 'EACCES' || err.cause.code === 'EPERM');
}
