/**
 * The standard streams a process's user is given, so that it can open them again
 * (/dev/stdout, /proc/self/fd/1: opening a pipe through its link checks the pipe's owner
 * and mode, 0600 for the process that made it), as runc gives them (fixStdioPermissions).
 */
import { AT_EMPTY_PATH, DEVPTS_SUPER_MAGIC, PIPEFS_MAGIC, SOCKFS_MAGIC } from './constants';
import { SyscallError, naming } from './errors';
import type { Syscalls } from './syscalls/types';

/** The standard streams: stdin, stdout, stderr. */
export const STREAMS = [0, 1, 2];

/**
 * Errors that leave a stream with its owner, as runc leaves it: closed (EBADF), an owner
 * not mapped here or a chown this process may not make (EPERM), a user not mapped here
 * (EINVAL), a read-only filesystem (EROFS).
 */
const STREAM_LEFT_ALONE: ReadonlySet<string> = new Set(['EBADF', 'EPERM', 'EINVAL', 'EROFS']);

/** The error that leaves a closed stream out (EBADF). */
const CLOSED: ReadonlySet<string> = new Set(['EBADF']);

/** Calls `each` with each standard stream in order; a SyscallError whose errno is in `tolerated` leaves that stream and goes on, anything else is thrown. */
function eachStream(tolerated: ReadonlySet<string>, each: (fd: number) => void): void {
  for (const fd of STREAMS) {
    try {
      each(fd);
    } catch (err) {
      if (!(err instanceof SyscallError) || !tolerated.has(err.code)) throw err;
    }
  }
}

/** Which streams giveStreams gives: pipes always, sockets unless `sockets` is false, the container's console (a devpts terminal) with `console`. */
export interface StreamKinds {
  sockets?: boolean;
  console?: boolean;
}

/**
 * Makes `uid` the owner of each standard stream that is a pipe or a socket, and with
 * `console` of a devpts terminal. Only the owner changes. Unlike runc, a stream that is a
 * terminal or a file keeps its owner: those are the host's (fstatfs(2) tells a pipe's
 * pipefs and a socket's sockfs, which hold nothing else), but for the container's own
 * console, which its user must be able to use. A stream already the user's is left as
 * it is; a refused chown (STREAM_LEFT_ALONE) leaves it too.
 */
export function giveStreams(sys: Syscalls, uid: number, kinds: StreamKinds = {}): void {
  const { sockets = true, console = false } = kinds;
  eachStream(STREAM_LEFT_ALONE, (fd) => {
    if (sys.fstat(fd).uid === uid) return;
    const type = sys.fstatfs(fd).type;
    if (type !== PIPEFS_MAGIC && !(sockets && type === SOCKFS_MAGIC) && !(console && type === DEVPTS_SUPER_MAGIC)) return;
    sys.fchownat(fd, '', uid, -1, AT_EMPTY_PATH);
  });
}

/**
 * The owners of the standard streams that are pipes, those giveStreams gives without
 * `sockets` (a relaunch's), as this process's user namespace shows them; a closed one
 * (EBADF) is left out.
 */
export function pipeStreamOwners(sys: Syscalls): number[] {
  const owners: number[] = [];
  eachStream(CLOSED, (fd) => {
    const uid = sys.fstat(fd).uid;
    if (sys.fstatfs(fd).type === PIPEFS_MAGIC) owners.push(uid);
  });
  return owners;
}

/**
 * Takes O_NONBLOCK off each standard stream, so the container's program gets them
 * blocking, as under `runc run` (which gives it pipes of its own) and as the relaunched
 * process starts with them (libuv clears O_NONBLOCK on 0, 1 and 2 of every child it
 * spawns, on the caller's file too). Node sets the flag on a pipe or socket the first
 * time it makes process.stdout or process.stderr of it (the logger keeps it from doing
 * so in a run: core/logger.ts), and the flag belongs to the open file, shared by every
 * process holding it: a program whose reader lags would have its write(2) fail with
 * EAGAIN (`cat: write error: Resource temporarily unavailable`). A closed stream (EBADF)
 * is left closed.
 *
 * The caller's descriptors of those files are made blocking with them, also where the
 * caller made one non-blocking itself: such a file stays blocking after a run that
 * becomes the container in place (a relaunch's first process puts back the flags its 0, 1
 * and 2 had as its Node exits, as Node does). runc run's pipes, copied by runc, leave the caller's files alone,
 * but need a process that outlives the execve(2); runc run -d and crun pass the files
 * through untouched, so a non-blocking one stays non-blocking for the container, whose
 * writes then fail with EAGAIN: a program that expects blocking streams is served first.
 */
export function blockStreams(sys: Syscalls): void {
  eachStream(CLOSED, (fd) => sys.setBlocking(fd));
}

/** The standard error stream's descriptor. */
const STDERR = 2;

/**
 * In `run`'s first process, before it starts the relaunch: Node's process.stderr made
 * (`open`) while stderr is a pipe or a socket, and that made blocking again. Node makes
 * it the first time it destroys a socket of its own (net.Socket's _destroy compares the
 * socket with it), which the first process does once the relaunch has read its config,
 * and making it sets O_NONBLOCK on the pipe or socket, for every process holding it: the
 * container too, whose handover may have made its streams blocking before
 * (blockStreams). Made here, no later making can happen while the relaunch runs. A
 * terminal or a file is left to Node (it opens a terminal again over the descriptor,
 * which the relaunch would get instead of the caller's; a file it leaves as it is), and
 * a closed stderr closed.
 */
export function openStderrBeforeRelaunch(sys: Syscalls, open: () => void): void {
  let type: number;
  try {
    type = sys.fstatfs(STDERR).type;
  } catch (err) {
    if (!(err instanceof SyscallError) || err.code !== 'EBADF') throw err;
    return;
  }
  if (type !== PIPEFS_MAGIC && type !== SOCKFS_MAGIC) return;
  open();
  sys.setBlocking(STDERR);
}

/**
 * A copy of stderr for mountkit's own messages (its logger, the error that ends a run),
 * close-on-exec (fcntl(2) F_DUPFD_CLOEXEC), on the lowest free descriptor from `lowest`
 * up. The run may put another file on descriptor 2 before the container's execve(2): the
 * console step the container's terminal, the after-jail step the container's /dev/null
 * in place of the host's. What mountkit writes to the copy still goes to the stderr it
 * was started with, as runc's init sends its log lines to runc over a pipe of their own;
 * execve closes the copy, so the container's program never gets it. Taken before any
 * step runs, where no descriptor the container is given will be put (`lowest` and the
 * numbers already held: cli/run.ts).
 */
export function keepStderr(sys: Syscalls, lowest: number): number {
  return naming("a copy of stderr for mountkit's messages", () => sys.dupCloexec(STDERR, lowest));
}
