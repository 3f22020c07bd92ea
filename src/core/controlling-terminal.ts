/**
 * The process's controlling terminal, whatever it is, opened as /dev/tty (tty(4)): for
 * the session step, which gives it up, and `mountkit run`'s foreground console, which
 * sets the user's terminal raw through it when no standard stream is one.
 */
import { O_CLOEXEC, O_NOCTTY, O_RDWR } from './constants';
import { SyscallError } from './errors';
import type { Syscalls } from './syscalls/types';

const DEV_TTY = '/dev/tty';
/** What opening /dev/tty answers when there is no terminal: ENXIO without one, ENOENT without the node, EIO once it is hung up. */
const NO_TERMINAL = new Set(['ENXIO', 'ENOENT', 'EIO']);

/** The controlling terminal open as /dev/tty (close-on-exec, not made the controlling terminal again), or undefined without one. */
export function openControllingTerminal(sys: Pick<Syscalls, 'open'>): number | undefined {
  try {
    return sys.open(DEV_TTY, O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
  } catch (err) {
    if (err instanceof SyscallError && NO_TERMINAL.has(err.code)) return undefined;
    throw err;
  }
}
