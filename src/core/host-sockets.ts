/**
 * The unix sockets a run connects to by their host path: the console's
 * (RootfsConfig.consoleSocket) and the seccomp agent's (linux.seccomp.listenerPath).
 * connect(2) needs write permission on the socket file; in a user namespace mountkit
 * makes, its root is a host id that is not root when the maps say so, and a root-owned
 * socket is out of its reach. runc connects both from the host, so mountkit's first
 * process connects them before it relaunches itself into a user namespace and passes
 * them on (RootfsConfig.hostSockets); the steps take a passed one instead of connecting.
 */
import type { RootfsConfig } from './config/model';
import { seccompProfile } from './seccomp/profile';
import type { Syscalls } from './syscalls/types';

export type HostSocketRole = keyof NonNullable<RootfsConfig['hostSockets']>;

/** Each socket the run of `config` connects to, by role, with its path. */
export function hostSocketPaths(config: Pick<RootfsConfig, 'consoleSocket' | 'seccomp'>): [HostSocketRole, string][] {
  const paths: [HostSocketRole, string][] = [];
  if (config.consoleSocket !== undefined) paths.push(['console', config.consoleSocket]);
  const listener = config.seccomp && seccompProfile(config.seccomp).listener;
  if (listener) paths.push(['seccompAgent', listener.path]);
  return paths;
}

/** The socket of `role`: the descriptor passed for it, or a new connection to `path`. */
export function connectHostSocket(sys: Pick<Syscalls, 'connectUnix'>, config: Pick<RootfsConfig, 'hostSockets'>, role: HostSocketRole, path: string): number {
  return config.hostSockets?.[role] ?? sys.connectUnix(path);
}

/**
 * Whether `mountkit run` gives the container a foreground console: process.terminal
 * without --console-socket. As `runc run` does then, its first process, which stays where
 * mountkit was started, gets the console's master (a socketpair end passed as the
 * relaunch's console socket, RootfsConfig.hostSockets.console) and copies between it and
 * its own standard streams (src/cli/console-relay.ts). Not where a console socket was
 * passed: a process that started this one copies it (the relaunched process, or the one
 * bin/mountkit starts beside it, serveLauncherConsole).
 */
export function foregroundConsole(config: { process?: { terminal?: boolean }; consoleSocket?: string; hostSockets?: { console?: number } }): boolean {
  return config.process?.terminal === true && config.consoleSocket === undefined && config.hostSockets?.console === undefined;
}

/** Whether the run makes a console (plugins/exec/console.ts): one sent to --console-socket, or to a socket passed for it. */
export function hasConsole(config: Pick<RootfsConfig, 'consoleSocket' | 'hostSockets'>): boolean {
  return config.consoleSocket !== undefined || config.hostSockets?.console !== undefined;
}

/** Whether the console goes to the process that started this one (a console socket passed with no --console-socket), which is told over the runtime channel once it is sent. */
export function consoleToStarter(config: Pick<RootfsConfig, 'consoleSocket' | 'hostSockets'>): boolean {
  return config.consoleSocket === undefined && config.hostSockets?.console !== undefined;
}
