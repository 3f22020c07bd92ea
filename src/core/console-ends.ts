/**
 * The foreground console's two ends as `mountkit run`'s first process takes them
 * (cli/console-relay.ts copies between them): the container's terminal, whose master the
 * relaunched process sends on the console's socket, and the user's terminal, as runc
 * finds it: the first of stderr, stdout and stdin that is a terminal, else the
 * controlling terminal (/dev/tty), and none when this process is in the background of it
 * (changing its modes would stop it with SIGTTOU). The user's terminal is set raw and
 * its window size copied; ONLCR is cleared on the container's, as runc clears it. Only
 * port calls: `mountkit plan` shows them too.
 */
import { openControllingTerminal } from './controlling-terminal';
import { StepError, SyscallError } from './errors';
import type { Syscalls, Termios } from './syscalls/types';
import { rawMode, withoutOnlcr } from './termios';

/** The standard streams runc looks at for the host's terminal, in its order. */
const HOST_TERMINAL_FDS = [2, 1, 0] as const;

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
  return setUpConsole(sys, master);
}

/**
 * The console's master as takeConsole sets it up once received: ONLCR cleared, the host's
 * terminal found, its window size copied and its modes made raw, the master non-blocking.
 * What fails closes the master and puts the host's terminal back.
 */
export function setUpConsole(sys: Syscalls, master: number): ConsoleEnds {
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
