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
import { closeConsole, copyWindowSize, releaseConsole, takeConsole, type ConsoleEnds } from '../core/console-ends';
import type { Syscalls } from '../core/syscalls/types';
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
