/**
 * `mountkit run`'s foreground console: a container with process.terminal and no
 * --console-socket gets a new pseudo-terminal of its own devpts, as with
 * --console-socket, whose master goes to the first process (the socketpair end passed
 * as the relaunch's console socket, core/relaunch.ts). That process copies the user's
 * input to it and its output back, as `runc run` does in the foreground:
 *
 * - The host's terminal is the first of stderr, stdout and stdin that is a terminal, else
 *   the controlling terminal (/dev/tty), as runc finds it. runc refuses to run without
 *   one; mountkit copies all the same, without the two steps that need it. So it does when
 *   it runs in the background of that terminal (its foreground process group is another):
 *   changing its modes would stop it (SIGTTOU) and take the terminal from the shell.
 * - That terminal is put in raw mode (core/termios.ts rawMode) while the container runs,
 *   so that every key goes to the container's terminal, whose line discipline echoes,
 *   edits and signals; its modes are put back at the end. The container's terminal gets
 *   its window size, and again at each SIGWINCH, where the host's has one (0x0, as under
 *   script(1) without a size, leaves process.consoleSize's).
 * - The container's terminal does not add a CR to a newline (ONLCR off, as runc sets
 *   it): the host terminal's own output processing does.
 * - Input goes from stdin to the master as it comes; output from the master to stdout.
 *   An end of stdin sends nothing (no EOF character), as under runc. Once the container
 *   has ended, what its terminal still holds is copied, and copying stops, even when a
 *   process it left behind (no pid namespace) keeps the terminal open.
 *
 * All of it runs in the first process, which has entered no namespace, on Node's event
 * loop: the master is non-blocking, so a container that reads no input never blocks it.
 */
import { readSync, writeSync } from 'fs';
import type { Readable } from 'stream';
import { closeConsole, copyWindowSize, releaseConsole, setUpConsole, takeConsole, type ConsoleEnds } from '../core/console-ends';
import type { Syscalls } from '../core/syscalls/types';
import { PASSED_SIGNALS, ignoreSignal } from './forward';
import { standardStream } from './output';

/** How long a write the container's terminal had no room for waits before it is tried again. */
const RETRY_MS = 10;
/**
 * What is copied at most once the container has ended: a process it left holding its
 * terminal (no pid namespace) may write without end, and copying stops all the same.
 */
const LAST_OUTPUT_MAX = 1024 * 1024;

export interface ConsoleRelay {
  /** The container has ended: copies what its terminal still holds, stops, and puts the host's terminal back. */
  end(): void;
}

/**
 * Takes the console (takeConsole) and copies between it and this process's standard
 * streams until `end`. Also puts the host's terminal back if this process exits first.
 */
export function relayConsole(sys: Syscalls, socket: number): ConsoleRelay {
  return copyTaken(sys, takeConsole(sys, socket));
}

/** copyConsole, the master closed and the host's terminal put back where it fails. */
function copyTaken(sys: Syscalls, ends: ConsoleEnds, onDone?: () => void): ConsoleRelay {
  try {
    return copyConsole(sys, ends, onDone);
  } catch (err) {
    closeConsole(sys, ends);
    throw err;
  }
}

/** `onDone` runs once the container's terminal has given all it will (every descriptor of its peer closed). */
function copyConsole(sys: Syscalls, ends: ConsoleEnds, onDone?: () => void): ConsoleRelay {
  const { master } = ends;
  const { ReadStream } = require('tty') as typeof import('tty');
  const fromMaster: Readable = new ReadStream(master);
  // Set false as soon as the stream closes the master, before its 'close' event: the number may be another file's by then.
  let open = true;
  const restore = (): void => {
    try {
      releaseConsole(sys, ends);
    } catch {
      // The terminal is gone (hung up): nothing to put back.
    }
  };
  process.on('exit', restore);
  const output = (chunk: Buffer): void => {
    try {
      standardStream('stdout').write(chunk);
    } catch {
      // stdout is closed: the output has nowhere to go, as under runc.
    }
  };
  standardStream('stdout').on('error', () => undefined);

  // What the container's terminal holds, read at once until there is no more (EAGAIN) or
  // none to come (EIO: every descriptor of its peer is closed, pty(7)), `max` bytes at most.
  const drain = (max = Infinity): void => {
    const buf = Buffer.alloc(64 * 1024);
    for (let copied = 0; open && copied < max; ) {
      let n: number;
      try {
        n = readSync(master, buf, 0, buf.length, null);
      } catch {
        return;
      }
      if (n <= 0) return;
      output(Buffer.from(buf.subarray(0, n)));
      copied += n;
    }
  };
  fromMaster.on('data', output);
  // EIO once every descriptor of the container's terminal is closed: the end of its output.
  fromMaster.on('error', () => {
    open = false;
    onDone?.();
  });
  // libuv takes a hang-up after a short read for the end of the stream, but a pseudo-terminal
  // master gives at most a line discipline's buffer (4095 bytes) per read(2) and reports
  // POLLHUP once its peer is closed, with more still to read: read here, before the stream
  // closes the master (after its 'end' listeners).
  fromMaster.on('end', () => {
    drain();
    open = false;
    onDone?.();
  });
  fromMaster.on('close', () => {
    open = false;
  });

  // Input waits in `pending` while the container's terminal has no room (EAGAIN), and stdin
  // is paused meanwhile: what is typed or piped waits in the kernel, not here.
  const pending: Buffer[] = [];
  let retry: NodeJS.Timeout | undefined;
  const pump = (): void => {
    retry = undefined;
    while (open && pending.length) {
      let n: number;
      try {
        n = writeSync(master, pending[0]);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
          retry = setTimeout(pump, RETRY_MS);
          return;
        }
        // EIO: the container's terminal is closed; its input is dropped.
        break;
      }
      pending[0] = pending[0].subarray(n);
      if (!pending[0].length) pending.shift();
    }
    pending.length = 0;
    process.stdin.resume();
  };
  const input = (chunk: Buffer): void => {
    pending.push(chunk);
    process.stdin.pause();
    if (!retry) pump();
  };
  process.stdin.on('data', input);
  process.stdin.on('error', () => undefined);

  const resize = (): void => {
    try {
      if (open) copyWindowSize(sys, ends);
    } catch {
      // The container's terminal or the host's is gone.
    }
  };
  process.on('SIGWINCH', resize);

  return {
    end: () => {
      process.off('SIGWINCH', resize);
      process.stdin.off('data', input);
      process.stdin.pause();
      if (retry) clearTimeout(retry);
      if (open) {
        // What the container wrote last may not have been read yet.
        drain(LAST_OUTPUT_MAX);
        fromMaster.off('data', output);
        // Closes the master.
        fromMaster.destroy();
        open = false;
      }
      restore();
      process.off('exit', restore);
      process.stdin.destroy();
    },
  };
}

/**
 * Set by bin/mountkit for the relay it starts beside a run with a foreground console
 * (serveLauncherConsole), `PID:DIR`: the launcher's pid and the directory to make for the
 * socket; and, as LAUNCHER_CONSOLE_ENV, `PID:DIR` for the Node process it starts under
 * unshare(1), which connects there (connectLauncherRelay): the relay's pid and that
 * directory. Taken only in those processes.
 */
export const CONSOLE_RELAY_ENV = 'MOUNTKIT_CONSOLE_RELAY';
export const LAUNCHER_CONSOLE_ENV = 'MOUNTKIT_LAUNCHER_CONSOLE';

/** The relay's socket in `dir`. */
export const RELAY_SOCKET = 'console.sock';

/** CONSOLE_RELAY_ENV's or LAUNCHER_CONSOLE_ENV's value, `PID:DIR`: a pid and an absolute directory; undefined where it is not one. */
export function relayTarget(value: string | undefined): { pid: number; dir: string } | undefined {
  const m = value === undefined ? null : /^([1-9]\d{0,9}):(\/.+)$/.exec(value);
  return m ? { pid: Number(m[1]), dir: m[2] } : undefined;
}

/** SIGTERM (asm-generic/signal.h): the launcher's word that the run has ended, and this process's parent-death signal. */
const SIGTERM = 15;

/**
 * bin/mountkit's foreground console in one start-up: this process, started beside the
 * launcher's unshare(1), stays where mountkit was started and does for the console what
 * a relaunch's first process does, while the Node process under unshare(1) prepares the
 * container (one Node start-up there instead of two in a row). It listens in `dir`
 * (listenForRun) for the run's Node, which connects (connectLauncherRelay) and passes the
 * connection as a first process's console socket (RootfsConfig.hostSockets.console). On
 * the one connection it takes come the
 * console's master (one message, SCM_RIGHTS) and the console event, answered once the
 * console is set up (setUpConsole), as over the runtime channel, so that the program
 * starts on it. It then copies the console until the container's terminal has given all
 * it will: the container is PID 1 of a new pid namespace, so every holder of its
 * terminal ends with it. SIGTERM, the launcher's once the run has ended, ends it too, as
 * the container's end ends a relaunch's first process's copy: what the terminal still
 * holds is copied first. So does the launcher's end (SIGTERM is this process's
 * parent-death signal): a `mountkit run` killed leaves the container's terminal without
 * its master, as a `runc run` killed does. Resolves to 0, or 1 where no console was taken
 * (the run's Node says why, or the Node entry ran the run).
 */
export function serveLauncherConsole(sys: Syscalls, launcher: number, dir: string): Promise<number> {
  return new Promise<number>((resolve) => {
    let relay: ConsoleRelay | undefined;
    let finished = false;
    let listener: RelayListener | undefined;
    // The run has ended (SIGTERM), or the container's terminal has (onDone): what it still holds is copied, and the host's terminal put back.
    // The SIGTERM listener stays to the exit: the launcher's may come meanwhile, and without one it would end this process before the terminal is put back.
    const done = (status: number): void => {
      if (finished) return;
      finished = true;
      relay?.end();
      listener?.close();
      resolve(status);
    };
    process.on('SIGTERM', () => done(relay ? 0 : 1));
    listener = listenForRun(sys, launcher, dir, (conn) => {
      // A descriptor of this process's own, blocking, for the port's calls (recvmsg(2) of the
      // master, which Node's streams would drop); libuv's, which its handle names (Node's net
      // gives no other way to it) and which it never read (pauseOnConnect), is closed.
      const socket = sys.dupCloexec(connectionFd(conn), 3);
      conn.destroy();
      try {
        sys.setBlocking(socket);
        relay = takeAndAnswer(sys, socket, () => done(0));
      } catch {
        done(1);
      }
    }, () => done(1));
  });
}

/** A relay's listening socket and directory: close() stops listening and removes both (once). */
export interface RelayListener {
  close(): void;
}

/**
 * What both of bin/mountkit's relays (serveLauncherConsole, cli/hooks-relay.ts) do first:
 * SIGTERM becomes this process's parent-death signal (its caller listens for it), `dir`
 * is made (mode 0700: only this user, or root, reaches in; the launcher named it after its
 * pid) and a unix socket listens there (RELAY_SOCKET) for the run's Node
 * (connectLauncherRelay). The connections taken (`connections`, one unless told: the
 * hooks relay's with a foreground console takes two) are given to `connected`, paused,
 * in their order; the socket and its directory are removed once the last is taken, before
 * it is given. `failed` runs where none can be taken: the
 * launcher is gone, `dir` exists (an earlier launcher of this pid's, or another user's:
 * the run's Node finds no socket and leaves the run to the Node entry) or the socket cannot
 * listen.
 */
export function listenForRun(sys: Pick<Syscalls, 'setParentDeathSignal'>, launcher: number, dir: string, connected: (conn: import('net').Socket) => void, failed: () => void, connections = 1): RelayListener {
  const fs = require('fs') as typeof import('fs');
  const net = require('net') as typeof import('net');
  const path = require('path') as typeof import('path');
  let made = false;
  let server: import('net').Server | undefined;
  const close = (): void => {
    server?.close();
    server = undefined;
    if (made) fs.rmSync(dir, { recursive: true, force: true });
    made = false;
  };
  // The signals bin/mountkit passes on to the container reach this process too when sent
  // to the process group (a terminal's Ctrl-C, timeout(1)), and Node set every disposition
  // back to its default as it started, the launcher's `trap ''` with them: ignored here, as
  // a relaunch's first process holds them, but SIGTERM, the launcher's word, which the
  // caller listens for.
  for (const sig of PASSED_SIGNALS) if (sig !== 'SIGTERM') process.on(sig, ignoreSignal);
  sys.setParentDeathSignal(SIGTERM);
  // A launcher gone before the signal was set sends none.
  if (process.ppid !== launcher) {
    failed();
    return { close };
  }
  try {
    fs.mkdirSync(dir, 0o700);
    made = true;
  } catch {
    failed();
    return { close };
  }
  server = net.createServer({ pauseOnConnect: true });
  server.on('error', failed);
  let taken = 0;
  server.on('connection', (conn) => {
    if (++taken >= connections) close();
    connected(conn);
  });
  server.listen(path.join(dir, RELAY_SOCKET));
  return { close };
}

/** The descriptor of an accepted connection: libuv's, which its handle names (Node's net gives no other way to it). */
export function connectionFd(conn: import('net').Socket): number {
  return (conn as unknown as { _handle: { fd: number } })._handle.fd;
}

/**
 * Receives the console's master on `socket`, which the run's Node sends once it has made
 * the console, after the jail (polled every 1 ms: the port's recvmsg(2) does not wait),
 * sets it up (setUpConsole), and answers the console event that follows it on the same
 * connection: `{"result":{}}`, or the failure. The master's message is read on its own: a
 * unix stream's recvmsg(2) ends after the data that carried descriptors
 * (net/unix/af_unix.c). Closes `socket`. An end of the connection without a master (the
 * run failed first) throws.
 */
function takeAndAnswer(sys: Syscalls, socket: number, onDone: () => void): ConsoleRelay {
  const { readSync, writeSync } = require('fs') as typeof import('fs');
  const { channelMessage, errorReply } = require('../core/runtime-channel') as typeof import('../core/runtime-channel');
  const { SyscallError } = require('../core/errors') as typeof import('../core/errors');
  try {
    const master = receiveMaster(sys, socket);
    let relay: ConsoleRelay | undefined;
    let reply: object;
    try {
      relay = copyTaken(sys, setUpConsole(sys, master), onDone);
      reply = { result: {} };
    } catch (err) {
      reply = err instanceof SyscallError ? errorReply(err.syscall, err.code, err.paths, err.detail) : errorReply('ioctl', 'EIO', [], (err as Error).message);
    }
    let line = '';
    const buf = Buffer.alloc(256);
    while (!line.includes('\n')) {
      const n = readSync(socket, buf, 0, buf.length, null);
      if (n === 0) break;
      line += buf.toString('utf8', 0, n);
    }
    const message = line.includes('\n') ? channelMessage(line.slice(0, line.indexOf('\n'))) : undefined;
    if (message && 'event' in message && message.event === 'console') writeSync(socket, `${JSON.stringify(reply)}\n`);
    if (!relay) throw new Error('no console was taken');
    return relay;
  } finally {
    sys.close(socket);
  }
}

/** The master from `socket`'s first message, waited for; an end of the connection before it throws. */
function receiveMaster(sys: Pick<Syscalls, 'recvFdMessage'>, socket: number): number {
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      const { data, fd } = sys.recvFdMessage(socket);
      if (fd !== undefined) return fd;
      if (data === '') throw new Error('the connection ended before a console came');
    } catch (err) {
      if (!(err instanceof Error && (err as { code?: string }).code === 'EAGAIN')) throw err;
      Atomics.wait(pause, 0, 0, 1);
    }
  }
}

/** How long the run's Node waits for the relay to listen, in tries 1 ms apart: a relay that never does leaves the run to the Node entry. */
const RELAY_TRIES = 2000;

/**
 * The run's Node, under bin/mountkit's unshare(1): its connection to the relay (`relay`,
 * LAUNCHER_CONSOLE_ENV's value: its pid, as /proc shows it where the launcher runs, which
 * the run's Node still sees) listening in `relay.dir`, which may still be starting (tried
 * every 1 ms, RELAY_TRIES times, while the relay's /proc/PID/stat shows it running); undefined where it does not come, the relay has ended, or `dir` is not the
 * relay's kind (a directory of this process's euid, no one else's way in, in a parent
 * no one else may swap it in: another user could make one of that name first).
 * `overflowUid`: in a user namespace, what it shows for owners it does not map.
 */
export function connectLauncherRelay(sys: Pick<Syscalls, 'connectUnix'>, relay: { pid: number; dir: string }, euid: number, overflowUid?: number): number | undefined {
  const { lstatSync, readFileSync } = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let tries = 0; tries < RELAY_TRIES; tries++) {
    if (tries) {
      if (!running(() => readFileSync(`/proc/${relay.pid}/stat`, 'utf8'))) return undefined;
      Atomics.wait(pause, 0, 0, 1);
    }
    let st: import('fs').Stats;
    try {
      st = lstatSync(relay.dir);
    } catch {
      continue;
    }
    if (!st.isDirectory() || st.uid !== euid || (st.mode & 0o077) !== 0 || !keptFromOthers(lstatSync(path.dirname(relay.dir)), euid, overflowUid)) return undefined;
    try {
      return sys.connectUnix(path.join(relay.dir, RELAY_SOCKET));
    } catch {
      // Not listening yet.
    }
  }
  return undefined;
}

/**
 * Whether no one but root and `euid` can rename the relay's directory away and put
 * another in its place: its parent is theirs, and writable by no one else or sticky
 * (/tmp: only a file's owner, or the directory's, may rename it, inode(7)). In a user
 * namespace (`overflowUid` given), a sticky parent whose owner is not mapped there is
 * taken for root's: the namespace cannot tell root from another unmapped owner, and a
 * TMPDIR of another user's sticky directory is the caller's own choice.
 */
export function keptFromOthers(parent: { uid: number; mode: number }, euid: number, overflowUid?: number): boolean {
  const sticky = (parent.mode & 0o1000) !== 0;
  // In a user namespace, an owner it does not map shows as the overflow uid: root's /tmp, sticky, is taken for root's.
  const owner = parent.uid === 0 || parent.uid === euid || (sticky && parent.uid === overflowUid);
  return owner && ((parent.mode & 0o022) === 0 || sticky);
}

/** Whether the process whose /proc/PID/stat `read` gives is there and not a zombie (proc(5): the state after the name's closing parenthesis). */
export function running(read: () => string): boolean {
  let stat: string;
  try {
    stat = read();
  } catch {
    return false;
  }
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z' && state !== 'X';
}
