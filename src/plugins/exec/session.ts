import { inject, injectable } from 'tsyringe';
import { openControllingTerminal } from '../../core/controlling-terminal';
import { StepError, SyscallError } from '../../core/errors';
import { hasConsole } from '../../core/host-sockets';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * The container's session, first in the run, as runc's init makes it before anything
 * else (setsid(2)): without process.terminal, the container has no controlling terminal.
 * A program that can open its starter's terminal as /dev/tty can read the user's typing,
 * and on kernels that allow TIOCSTI to a process's own terminal (before Linux 6.2, or with
 * dev.tty.legacy_tiocsti) push input into the user's shell.
 *
 * When mountkit started the process that becomes the container (RootfsConfig.newSession),
 * it leads a session and process group of its own: signals sent to its starter's group (a
 * terminal's Ctrl-C, timeout(1)) reach it once, passed on by its starter, as under runc,
 * instead of twice. The Node entry's relaunch was started in one already (cli/run.ts), so
 * setsid answers EPERM there and the terminal it looks for is none (ENXIO). When it is the process the user started, it stays in its process
 * group, so that such signals still reach it, and only gives its terminal up (TIOCNOTTY);
 * so does a process that already leads its group, which setsid refuses (EPERM). A
 * session leader (mountkit run as the first program of a terminal: script -c, ssh -t)
 * keeps its terminal: giving it up would hang up the session's foreground process group,
 * and the session is the container's own, as under runc, whose terminal no process
 * outside the container reads. With process.terminal the container keeps the terminal it was started
 * on, unless it is given a console (console.ts: --console-socket, or `mountkit run`'s
 * foreground console), whose session this process then leads.
 */
@injectable()
export class SessionStep implements LifecycleStep {
  readonly name = 'session';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (ctx.config.process.terminal) {
      if (hasConsole(ctx.config)) this.leadSessionForConsole();
      return;
    }
    if (ctx.config.newSession !== false) {
      try {
        this.sys.setsid();
        return;
      } catch (err) {
        if (!(err instanceof SyscallError) || err.code !== 'EPERM') throw err;
        ctx.log.debug('setsid: EPERM, this process leads its process group (or, a relaunch cli/run.ts started, its session already); it gives up any controlling terminal instead');
      }
    }
    this.releaseTerminal(ctx);
  }

  /**
   * A console (console.ts) becomes the controlling terminal of a session this process
   * leads. A process that leads its session already (started by setsid(1)) is one; one
   * that only leads its process group (a command an interactive shell started, without a
   * pid namespace, which mountkit's launcher then runs in place) cannot become one.
   */
  private leadSessionForConsole(): void {
    let refused: SyscallError;
    try {
      this.sys.setsid();
      return;
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      refused = err;
    }
    if (refused.code !== 'EPERM') throw new StepError(`console: ${refused.message}`, { cause: refused });
    // EPERM: this process leads its process group; leading its session too, without a terminal, it is what a console needs.
    if (this.sys.getsid() === this.sys.getpid()) {
      const tty = openControllingTerminal(this.sys);
      if (tty === undefined) return;
      this.sys.close(tty);
      throw new StepError(
        'console: this process leads a session that has a controlling terminal (started as the first program of a terminal: script -c, ssh -t), which a console cannot replace; give the container a pid namespace',
      );
    }
    throw new StepError(
      'console: setsid: EPERM: this process leads its process group (a command an interactive shell started) and cannot lead the session a console needs; give the container a pid namespace, or start mountkit with setsid(1)',
    );
  }

  private releaseTerminal(ctx: RunContext): void {
    const tty = openControllingTerminal(this.sys);
    if (tty === undefined) return;
    try {
      if (this.sys.getsid() !== this.sys.getpid()) this.sys.releaseTerminal(tty);
      else ctx.log.debug('this process leads its session: it keeps its controlling terminal, which giving up would hang up the session');
    } finally {
      this.sys.close(tty);
    }
  }
}
