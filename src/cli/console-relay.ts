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
import { openControllingTerminal } from '../core/controlling-terminal';
import { StepError, SyscallError } from '../core/errors';
import type { Syscalls, Termios } from '../core/syscalls/types';
import { rawMode, withoutOnlcr } from '../core/termios';

/** The standard streams runc looks at for the host's terminal, in its order. */
const HOST_TERMINAL_FDS = [2, 1, 0] as const;
/** How long a write the container's terminal had no room for waits before it is tried again. */
const RETRY_MS = 10;
/**
 * What is copied at most once the container has ended: a process it left holding its
 * terminal (no pid namespace) may write without end, and copying stops all the same.
 */
const LAST_OUTPUT_MAX = 1024 * 1024;

/** The console's master, and the host's terminal with its modes before raw mode (none without one). */
export interface ConsoleEnds {
  master: number;
  host?: { fd: number; saved: Termios; opened: boolean };
}

/**
 * Receives the console's master on `socket` (the relaunch said it is there, so this does
 * not wait) and closes the socket; clears ONLCR on it, finds the host's terminal, copies
 * its window size and sets it raw; makes the master non-blocking. What fails after the
 * master came closes it and puts the host's terminal back.
 */
export function takeConsole(sys: Syscalls, socket: number): ConsoleEnds {
  let master: number | undefined;
  try {
    master = sys.recvFdMessage(socket).fd;
  } finally {
    sys.close(socket);
  }
  if (master === undefined) throw new StepError("console: the relaunched process sent no console master on the console's socket");
  const ends: ConsoleEnds = { master };
  try {
    sys.setTermios(master, withoutOnlcr(sys.getTermios(master)));
    ends.host = hostTerminal(sys);
    if (ends.host) {
      copyWindowSize(sys, ends);
      sys.setTermios(ends.host.fd, rawMode(ends.host.saved));
    }
    sys.setNonBlocking(master);
    return ends;
  } catch (err) {
    closeConsole(sys, ends);
    throw err;
  }
}

/** releaseConsole, then the master closed, whatever the first fails with. */
export function closeConsole(sys: Syscalls, ends: ConsoleEnds): void {
  try {
    releaseConsole(sys, ends);
  } finally {
    sys.close(ends.master);
  }
}

/**
 * The host's terminal: the first standard stream that is one (TCGETS succeeds, as
 * isatty(3) tells), else /dev/tty opened, else none (ENXIO: no controlling terminal);
 * none either when this process is not in its foreground (a background job).
 */
function hostTerminal(sys: Syscalls): ConsoleEnds['host'] {
  for (const fd of HOST_TERMINAL_FDS) {
    const saved = termiosOf(sys, fd);
    if (saved) return inForeground(sys, fd) ? { fd, saved, opened: false } : undefined;
  }
  const fd = openControllingTerminal(sys);
  if (fd === undefined) return undefined;
  let kept = false;
  try {
    const saved = termiosOf(sys, fd);
    if (!saved || !inForeground(sys, fd)) return undefined;
    kept = true;
    return { fd, saved, opened: true };
  } finally {
    if (!kept) sys.close(fd);
  }
}

/**
 * Whether this process is in the foreground of the terminal `fd`: changing a terminal's
 * modes from a background process group stops it with SIGTTOU (termios(3)). A terminal
 * that is not this process's controlling one (ENOTTY) has no say over it: none either.
 */
function inForeground(sys: Syscalls, fd: number): boolean {
  try {
    return sys.getForegroundGroup(fd) === sys.getpgrp();
  } catch (err) {
    if (err instanceof SyscallError && err.code === 'ENOTTY') return false;
    throw err;
  }
}

/** The modes of `fd`, undefined when it is no terminal (ENOTTY) or not open (EBADF). */
function termiosOf(sys: Syscalls, fd: number): Termios | undefined {
  try {
    return sys.getTermios(fd);
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'ENOTTY' || err.code === 'EBADF' || err.code === 'EINVAL')) return undefined;
    throw err;
  }
}

/** The host terminal's window size on the container's, when it has one (rows and columns above 0). */
export function copyWindowSize(sys: Syscalls, ends: ConsoleEnds): void {
  if (!ends.host) return;
  const { rows, cols } = sys.getWindowSize(ends.host.fd);
  if (rows > 0 && cols > 0) sys.setWindowSize(ends.master, rows, cols);
}

/** Puts the host's terminal back as it was, and closes it when it was opened here. */
export function releaseConsole(sys: Syscalls, ends: ConsoleEnds): void {
  const host = ends.host;
  if (!host) return;
  ends.host = undefined;
  try {
    sys.setTermios(host.fd, host.saved);
  } finally {
    if (host.opened) sys.close(host.fd);
  }
}

export interface ConsoleRelay {
  /** The container has ended: copies what its terminal still holds, stops, and puts the host's terminal back. */
  end(): void;
}

/**
 * Takes the console (takeConsole) and copies between it and this process's standard
 * streams until `end`. Also puts the host's terminal back if this process exits first.
 */
export function relayConsole(sys: Syscalls, socket: number): ConsoleRelay {
  const ends = takeConsole(sys, socket);
  try {
    return copyConsole(sys, ends);
  } catch (err) {
    closeConsole(sys, ends);
    throw err;
  }
}

function copyConsole(sys: Syscalls, ends: ConsoleEnds): ConsoleRelay {
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
      process.stdout.write(chunk);
    } catch {
      // stdout is closed: the output has nowhere to go, as under runc.
    }
  };
  process.stdout.on('error', () => undefined);

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
  });
  // libuv takes a hang-up after a short read for the end of the stream, but a pseudo-terminal
  // master gives at most a line discipline's buffer (4095 bytes) per read(2) and reports
  // POLLHUP once its peer is closed, with more still to read: read here, before the stream
  // closes the master (after its 'end' listeners).
  fromMaster.on('end', () => {
    drain();
    open = false;
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
