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
