import { inject, injectable } from 'tsyringe';
import { needsDevSetup } from '../../core/config/model';
import { validateConsole } from '../../core/config/validate';
import { DEVPTS_SUPER_MAGIC, MS_BIND, O_CLOEXEC, O_CREAT, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_PATH, O_RDONLY, O_RDWR, makedev } from '../../core/constants';
import { StepError, SyscallError, naming } from '../../core/errors';
import { connectHostSocket, consoleToStarter, hasConsole } from '../../core/host-sockets';
import { answerResult, eventLine } from '../../core/runtime-channel';
import { fdPath } from '../../core/in-root';
import { closeKept, keptFd, keptForRun } from '../../core/mounting';
import { requireContainerProc } from '../../core/procfs';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * A console for a container with process.terminal, as runc makes one with
 * --console-socket: a new pseudo-terminal in the container's own devpts, whose master
 * goes to the socket (one message, the descriptor as SCM_RIGHTS) and whose peer becomes
 * the process's standard streams and controlling terminal. Two steps, as the socket's
 * path is the host's and the pseudo-terminal must be the container's:
 * ConsoleSocketStep connects first in the run; ConsoleStep makes the console right after
 * the jail, before the rootfs is finished (runc's order: after its mounts, before the
 * masks and read-only paths). The session step has already made this process a session
 * leader, which taking a controlling terminal needs.
 *
 * The socket may also be one passed for it with no --console-socket
 * (RootfsConfig.hostSockets.console): `mountkit run`'s foreground console, whose first
 * process holds the other end and copies the console (src/cli/console-relay.ts). It is
 * then told over the runtime channel once the master is there (its "console" event), or
 * over that socket where there is no channel (bin/mountkit's relay, which connected
 * nothing else), and the step waits for its answer: the console is taken and set up.
 */

/** The socket, among the descriptors kept for the run (closed by the orchestrator if the run fails first). */
const CONSOLE_SOCKET_KEY = 'exec.console-socket';
/** Set once the standard streams are the console: the handover gives them to the container's user. */
export const CONSOLE_KEY = 'exec.console';

/** The container's devpts master: /dev/pts/ptmx, character device 5:2, inode 2 of its devpts (fs/devpts/inode.c mknod_ptmx). */
const PTMX = '/dev/pts/ptmx';
const PTMX_DEV = makedev(5, 2);
const PTMX_INO = 2n;
/** What the message carries besides the descriptor: the master's name, as runc 1.1 sends it. */
const MESSAGE = '/dev/ptmx';
const DEV_CONSOLE = '/dev/console';
const STDIO_FDS = [0, 1, 2] as const;

@injectable()
export class ConsoleSocketStep implements LifecycleStep {
  readonly name = 'console';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (!hasConsole(ctx.config)) return;
    validateConsole(ctx.config);
    const socket = ctx.config.consoleSocket;
    const passed = ctx.config.hostSockets?.console;
    if (socket === undefined) keptForRun(ctx.shared, CONSOLE_SOCKET_KEY, () => passed!);
    else naming('--console-socket', () => keptForRun(ctx.shared, CONSOLE_SOCKET_KEY, () => connectHostSocket(this.sys, ctx.config, 'console', socket)));
  }
}

@injectable()
export class ConsoleStep implements LifecycleStep {
  readonly name = 'console';
  readonly phase = 'after-jail' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const socket = keptFd(ctx.shared, CONSOLE_SOCKET_KEY);
    if (socket === undefined) return;
    const toStarter = consoleToStarter(ctx.config);
    const named = toStarter ? "the console's socket" : `--console-socket ${JSON.stringify(ctx.config.consoleSocket)}`;
    requireContainerProc(this.sys, ctx, 'the console');
    const master = this.openMaster();
    let peer: number | undefined;
    try {
      naming(`console ${PTMX}`, () => this.sys.ptyUnlock(master));
      peer = naming(`console ${PTMX}`, () => this.openPeer(master));
      const size = ctx.config.process.consoleSize;
      if (size && size.height > 0 && size.width > 0) naming('process.consoleSize', () => this.sys.setWindowSize(master, size.height, size.width));
      // Programs that write to /dev/console reach the container's console, as under runc; a /dev bound from the host is left alone.
      if (needsDevSetup(ctx.config)) this.mountConsole(peer);
      naming(named, () => this.sys.sendFdMessage(socket, master, MESSAGE));
      // The first process takes it and sets it up (its window size, the user's terminal raw) before the program can write to it.
      // It is told over the runtime channel, or, without one, over the console's socket (bin/mountkit's relay).
      if (toStarter) {
        const channel = ctx.config.runtimeChannel ?? socket;
        naming(channel === socket ? "the console's socket: the console" : 'the runtime channel: the console', () => answerResult(this.sys.exchange(channel, eventLine('console'))));
      }
      for (const fd of STDIO_FDS) this.sys.dup3(peer, fd, 0);
      naming('console', () => this.sys.setControllingTerminal(0));
      ctx.shared.set(CONSOLE_KEY, true);
    } finally {
      if (peer !== undefined) this.sys.close(peer);
      this.sys.close(master);
      closeKept(this.sys, ctx.shared, CONSOLE_SOCKET_KEY);
    }
  }

  /**
   * A new pseudo-terminal from the container's devpts. What is at /dev/pts/ptmx is the
   * image's until checked, and opening a device can act (a watchdog starts counting), so
   * it is opened O_PATH, checked to be devpts's own ptmx (a character device 5:2 of a
   * devpts, inode 2, not the host's /dev/ptmx reached through a node the image made), and
   * only then opened for real through that descriptor, as runc does.
   */
  private openMaster(): number {
    const handle = naming(`console ${PTMX}`, () => this.sys.open(PTMX, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0));
    try {
      const st = this.sys.fstat(handle);
      const type = this.sys.fstatfs(handle).type;
      if (type !== DEVPTS_SUPER_MAGIC || st.kind !== 'char' || st.rdev !== PTMX_DEV || st.ino !== PTMX_INO) {
        throw new StepError(`console: ${PTMX} is not the ptmx of a devpts (f_type 0x${type.toString(16)}, inode ${st.ino}): a console needs a devpts mounted at /dev/pts`);
      }
      return naming(`console ${PTMX}`, () => this.sys.open(fdPath(handle), O_RDWR | O_NOCTTY | O_CLOEXEC, 0));
    } finally {
      this.sys.close(handle);
    }
  }

  /**
   * The peer of the master, opened as open(2) opens a file. TIOCGPTPEER makes the file
   * with the flags it is given as they are (drivers/tty/pty.c, ptm_open_peer): O_CLOEXEC
   * stays in the file's flags, which F_GETFL and /proc/PID/fdinfo show to the container,
   * and O_LARGEFILE is not added. open(2) drops O_CLOEXEC from them and, on a 64-bit
   * kernel, adds O_LARGEFILE, so the peer is opened again through its descriptor: the
   * streams then have O_RDWR|O_LARGEFILE, as runc's open of /dev/pts/N gives them.
   */
  private openPeer(master: number): number {
    const peer = this.sys.ptyPeer(master, O_RDWR | O_NOCTTY | O_CLOEXEC);
    try {
      return this.sys.open(fdPath(peer), O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
    } finally {
      this.sys.close(peer);
    }
  }

  /** The console's peer bound over /dev/console (made 0666 if missing), through descriptors. */
  private mountConsole(peer: number): void {
    const target = naming(`console ${DEV_CONSOLE}`, () => this.consoleTarget());
    try {
      this.sys.mount(fdPath(peer), fdPath(target), null, MS_BIND, null);
    } finally {
      this.sys.close(target);
    }
  }

  /**
   * /dev/console as a descriptor to bind over. What the image put there is opened O_PATH,
   * which opens nothing for real: opening a FIFO for reading waits for a writer (fifo(7)),
   * and opening a device can act on it. A symbolic link there is refused, as the bind would
   * follow it. A missing one is made as an empty file, O_EXCL so that it is the file made.
   */
  private consoleTarget(): number {
    let fd: number;
    try {
      fd = this.sys.open(DEV_CONSOLE, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'ENOENT') throw err;
      return this.sys.open(DEV_CONSOLE, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666);
    }
    if (this.sys.fstat(fd).kind === 'symlink') {
      this.sys.close(fd);
      throw new StepError(`${DEV_CONSOLE} is a symbolic link; the console is bound over a file there, never through a link`);
    }
    return fd;
  }
}
