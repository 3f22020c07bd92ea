/**
 * bin/mountkit's runtime hooks in one start-up. A config with hooks the runtime runs
 * (prestart, createRuntime, poststart, poststop: core/namespaces.ts hasRuntimeHooks) used
 * to go to the Node entry, whose first process serves the runtime channel while its
 * relaunch prepares the container: two Node start-ups in a row. The launcher now starts
 * this relay beside the one Node it starts under unshare(1), so that both start-ups
 * overlap: the relay stays where mountkit was started and serves the runtime channel
 * (core/runtime-hooks.ts serveRuntimeChannel) as that first process does, the run's Node
 * connects to it (connectLauncherRelay) and passes the connection as its channel
 * (RootfsConfig.runtimeChannel), as a relaunch is given one.
 *
 * - The relay reads the config itself, from the run's own arguments (the launcher gives it
 *   them), and runs only the config's own hooks with the state it builds: the container's
 *   pid is the one the kernel names for the connection's other end (SO_PEERCRED, as of its
 *   connect(2)), Node under unshare(1), PID 1 of the container's pid namespace, which
 *   becomes the container's process at its execve(2).
 * - The hooks get the caller's environment (bin/mountkit copies it for the relay:
 *   cli/caller-env.ts) and none of its descriptors from 3 up, as the Node entry gives them.
 * - A --pid-file is written by the relay once the poststart hooks have run, with the pid
 *   they were given, as the Node entry's first process writes it; its directory is opened
 *   before the relay listens (one it cannot open: no relay, and the run's Node, which
 *   looks at it first, says so).
 * - With a foreground console (process.terminal without --console-socket) the relay also
 *   does what the console's relay does (console-relay.ts): the run's Node connects first
 *   for the console's master, before it enters any namespace, and passes that connection
 *   as its console socket (RootfsConfig.hostSockets.console); the console event then comes
 *   on the runtime channel, where the master is taken (relayConsole) and the console
 *   copied to the end, its last output before the poststop hooks, as the Node entry's
 *   first process does with both.
 * - A poststart hook that fails, or the pid file's write, stops the container (SIGKILL, by
 *   a pidfd where it can) and the relay ends with that error, which the launcher takes for
 *   the run's exit status. Its warnings and errors go to the --log file too, beside the
 *   run's Node's lines, as the Node entry's first process writes its own.
 * - SIGTERM, which the launcher sends once its job has ended, ends it: once the channel
 *   has been read to its end (the exec event the container's Node sent last before its
 *   execve(2), whose poststart hooks then run first), the poststop hooks run, and it ends.
 *   A SIGTERM that is the parent-death signal (the launcher was killed) ends it at once,
 *   as a killed `runc run` runs no poststop hook.
 *
 * A config the relay cannot read or no connection taken: it ends with 0 and says nothing
 * (the run's Node says what is wrong, or answers "again" and the Node entry runs it).
 */
import type { CliOptions } from './args';
import type { Syscalls } from '../core/syscalls/types';
import type { RootfsConfig } from '../core/config/model';
import type { RuntimeSide } from '../core/runtime-hooks';
import type { StarterPidFile } from '../core/pid-file';
import { connectionFd, listenForRun, relayConsole, type ConsoleRelay, type RelayListener } from './console-relay';

/**
 * Set by bin/mountkit for the hooks relay it starts beside a run, `PID:DIR` as
 * CONSOLE_RELAY_ENV's (the launcher's pid and the directory to make); and, as
 * LAUNCHER_HOOKS_ENV, `PID:DIR` for the Node it starts under unshare(1): the relay's pid
 * and that directory. Taken only in those processes.
 */
export const HOOKS_RELAY_ENV = 'MOUNTKIT_HOOKS_RELAY';
export const LAUNCHER_HOOKS_ENV = 'MOUNTKIT_LAUNCHER_HOOKS';

/**
 * The relay's status where it took the run's connection and the exec event never came
 * on it (the container's program did not start), having said nothing: no error of the
 * relay's own to the launcher, which tells a start that failed by the same event on its
 * pipe (RootfsConfig.execNotice) and, where a signal ended its job without it, ends the
 * run with the error the Node entry gives (cli/relaunch-end.ts), otherwise with its
 * job's status. Its other statuses: 0, or the error's it told (1 or 2,
 * MountkitError.exitCode).
 */
export const NOT_STARTED_STATUS = 3;

/** SIGKILL (asm-generic/signal.h): what stops the container when a poststart hook fails, as runc and crun stop it. */
const SIGKILL = 9;

/** What the relay needs of the run: its options (the config's hooks, bundle, id and annotations come from them) and its config, read as the run's Node reads it. */
export interface HooksRelayRun {
  opts: CliOptions;
  config: RootfsConfig;
  /** The --pid-file, its directory opened by the relay before it listens: written once the poststart hooks have run, with their pid. */
  pidFile?: StarterPidFile;
}

/**
 * Serves the runtime channel of the run's Node (serveRuntimeChannel) on the connection it
 * takes in `dir` (listenForRun; the second, after the console's, with a foreground
 * console) until the launcher's SIGTERM; resolves to 0, or rejects
 * with the error the run ends with (a poststart hook's). `warn` tells a poststop hook's
 * failure.
 */
export function serveLauncherHooks(sys: Syscalls, launcher: number, dir: string, run: HooksRelayRun, warn: (message: string) => void): Promise<number> {
  const { serveRuntimeChannel } = require('../core/runtime-hooks') as typeof import('../core/runtime-hooks');
  const { execEventSeen } = require('../core/runtime-channel') as typeof import('../core/runtime-channel');
  const { writeStarterPidFile } = require('../core/pid-file') as typeof import('../core/pid-file');
  const { foregroundConsole } = require('../core/host-sockets') as typeof import('../core/host-sockets');
  const { pidFile } = run;
  // A foreground console too: the run's Node connects twice, for the console's master
  // first (before it enters any namespace), then for the runtime channel.
  const withConsole = foregroundConsole(run.config);
  return new Promise<number>((resolve, reject) => {
    let listener: RelayListener | undefined;
    let consoleSocket: number | undefined;
    let consoleRelay: ConsoleRelay | undefined;
    let runtime: RuntimeSide | undefined;
    let started: (() => boolean) | undefined;
    let read = false;
    let finished = false;
    // Node ends once nothing is left to wait for, and neither a signal listener nor a
    // promise is such a thing: the launcher's SIGTERM is waited for, however long the
    // container runs.
    const held = setInterval(() => undefined, 2 ** 31 - 1);
    const finish = (failure?: Error): void => {
      if (finished) return;
      finished = true;
      clearInterval(held);
      listener?.close();
      endConsole();
      if (failure) reject(failure);
      else resolve(started && !started() ? NOT_STARTED_STATUS : 0);
    };
    // What the container's terminal still holds is copied and the host's terminal put back (or the socket closed, no master taken).
    const endConsole = (): void => {
      consoleRelay?.end();
      consoleRelay = undefined;
      if (consoleSocket !== undefined) sys.close(consoleSocket);
      consoleSocket = undefined;
    };
    // Once the channel is read to its end, the console's last output is copied, then the
    // poststop hooks run (after the poststart hooks, if the exec event came).
    const stop = (): void => {
      endConsole();
      if (!runtime) return finish();
      const ended = runtime.ended();
      ended.then(finish, finish);
    };
    let terminated = false;
    process.on('SIGTERM', () => {
      if (terminated) return;
      terminated = true;
      // The parent-death signal: the launcher was killed.
      if (process.ppid !== launcher) return finish();
      // No connection taken, or its channel read to its end: now; else at its end.
      if (read || !runtime) stop();
    });
    listener = listenForRun(
      sys,
      launcher,
      dir,
      (socket) => {
        if (withConsole && consoleSocket === undefined && !runtime) {
          // A descriptor of this process's own for the port's recvmsg(2) of the master; libuv's is closed.
          try {
            consoleSocket = sys.dupCloexec(connectionFd(socket), 3);
          } catch {
            return finish();
          } finally {
            socket.destroy();
          }
          return;
        }
        let pid: number;
        try {
          pid = sys.peerPid(connectionFd(socket));
          // Both connections are the one process's.
          if (consoleSocket !== undefined && sys.peerPid(consoleSocket) !== pid) throw new Error('the console came from another process');
        } catch {
          socket.destroy();
          return finish();
        }
        const pidfd = openPidfd(sys, pid);
        runtime = serveRuntimeChannel(socket, {
          sys,
          config: run.config,
          container: () => pid,
          kill: () => killContainer(sys, pid, pidfd),
          warn,
          runAsync: (cmd) => sys.runCommandAsync(cmd),
          ...(pidFile === undefined ? {} : { started: (at: number | undefined) => writeStarterPidFile(sys, pidFile, at) }),
          // At the console event: the master, on the first connection (takeConsole closes it).
          ...(withConsole
            ? {
                console: () => {
                  const taken = consoleSocket;
                  consoleSocket = undefined;
                  if (taken === undefined) throw new Error('no console connection was taken');
                  consoleRelay = relayConsole(sys, taken);
                },
              }
            : {}),
        });
        started = execEventSeen(socket);
        socket.on('close', () => {
          read = true;
          if (terminated) stop();
        });
        socket.resume();
      },
      () => finish(),
      withConsole ? 2 : 1,
    );
  });
}

/** A pidfd of `pid`, or undefined where pidfds are refused (pidfd_open(2) came in Linux 5.3) or the process has ended. */
function openPidfd(sys: Pick<Syscalls, 'pidfdOpen'>, pid: number): number | undefined {
  try {
    return sys.pidfdOpen(pid);
  } catch {
    return undefined;
  }
}

/** SIGKILL to the container: by its pidfd where there is one (never another process that took its pid), else by its pid. */
function killContainer(sys: Pick<Syscalls, 'pidfdSendSignal'>, pid: number, pidfd: number | undefined): void {
  try {
    if (pidfd !== undefined) sys.pidfdSendSignal(pidfd, SIGKILL);
    else process.kill(pid, SIGKILL);
  } catch {
    // Ended already.
  }
}
