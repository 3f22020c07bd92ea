/**
 * What mountkit's first process does from the host for a relaunch under nsenter(1) into a
 * user namespace (core/namespaces.ts), and how the relaunched process takes it. runc's
 * parent does the same things from the host for its init: it makes the user namespace
 * with its maps, opens the namespaces to join, connects the console's and the seccomp
 * agent's sockets, and writes the OOM score. The relaunched process runs as the
 * namespace's root, which may reach none of these.
 *
 * For each idmapped bind it also makes the detached idmapped copy of the source
 * (core/idmapped-tree.ts), mapped through the mount's own mappings or the container's
 * user namespace, which only a process with CAP_SYS_ADMIN in the initial user namespace
 * may map, as runc 1.2's parent makes them for its init.
 *
 * The relaunch gets them as descriptors, each at a fixed number (RELAUNCH_FDS); nsenter
 * joins the namespaces through /proc/self/fd. The relaunched process closes the
 * namespaces' descriptors first and takes the sockets and the copies (close-on-exec), so
 * hooks and the container get none of them.
 *
 * Any relaunch for a foreground console (core/host-sockets.ts foregroundConsole) gets
 * one more: the end of a socketpair as its console socket, whose other end the first
 * process keeps to receive the console's master, as runc run gives its init.
 */
import type { MountIdmap, MountSpec, RootfsConfig } from './config/model';
import { MS_REC, NSFS_MAGIC, O_CLOEXEC, O_RDONLY } from './constants';
import { ConfigError, naming } from './errors';
import { foregroundConsole, hostSocketPaths, type HostSocketRole } from './host-sockets';
import { idmappedTree } from './idmapped-tree';
import { RELAUNCH_USERNS_FD, RELAUNCH_FIRST_JOIN_FD, launcherJoins, type LaunchPlan } from './namespaces';
import { presetOomScore } from './oom-score';
import type { Syscalls } from './syscalls/types';

/**
 * The relaunch's socket to the process that started it: held until its execve(2), which
 * tells that process the container's program has started (src/cli/forward.ts), and the
 * way the runtime's hooks go to where mountkit was started (RootfsConfig.runtimeChannel,
 * core/runtime-channel.ts).
 */
export const RELAUNCH_STARTER_FD = 3;

/** The relaunch's descriptor for each of the host's sockets, by role. */
export const RELAUNCH_SOCKET_FDS: Readonly<Record<HostSocketRole, number>> = { console: 6, seccompAgent: 7 };

/** The fields that name each socket in errors. */
const SOCKET_FIELDS: Readonly<Record<HostSocketRole, string>> = { console: '--console-socket', seccompAgent: 'linux.seccomp.listenerPath' };

/** What names the foreground console's socketpair in errors. */
const FOREGROUND_CONSOLE = "the console's socket (process.terminal without --console-socket)";

type RelaunchConfig = Pick<RootfsConfig, 'namespaces' | 'consoleSocket' | 'seccomp' | 'rootless'> & { process?: { terminal?: boolean }; mounts?: readonly MountSpec[] };

/**
 * The idmapped binds of a relaunch into a user namespace, in config order, each with the
 * descriptor the relaunch gets its detached copy on: after the namespaces nsenter joins.
 */
export function idmapTreeSlots(config: Pick<RootfsConfig, 'namespaces'> & { mounts?: readonly MountSpec[] }): [MountSpec & { idmap: MountIdmap }, number][] {
  const first = RELAUNCH_FIRST_JOIN_FD + launcherJoins(config.namespaces).length;
  const idmapped = (config.mounts ?? []).filter((m): m is MountSpec & { idmap: MountIdmap } => m.idmap !== undefined);
  return idmapped.map((m, i) => [m, first + i]);
}

/** What names a mount's descriptor in errors. */
function mountField(m: MountSpec): string {
  return `mounts[${m.index}] ${JSON.stringify(m.destination)}`;
}

/**
 * The sockets a relaunch is given, by role, each with what names it in errors: under
 * nsenter the host's (hostSocketPaths), which its first process connects; for a
 * foreground console, the first process's socketpair end.
 */
function relaunchSockets(config: RelaunchConfig, nsenter: boolean): [HostSocketRole, string][] {
  const sockets: [HostSocketRole, string][] = nsenter ? hostSocketPaths(config).map(([role, path]) => [role, `${SOCKET_FIELDS[role]} ${JSON.stringify(path)}`]) : [];
  if (foregroundConsole(config)) sockets.unshift(['console', FOREGROUND_CONSOLE]);
  return sockets;
}

export interface RelaunchDescriptors {
  /** This process's descriptor for each of the relaunch's, by the relaunch's number. */
  passed: Map<number, number>;
  /** This process's end of the foreground console's socketpair, on which the relaunch sends the console's master; the caller closes it. */
  console?: number;
  /** Closes them here and writes this process's own OOM score back; what fails is returned, not thrown (the relaunch runs already). */
  release(): string[];
}

/**
 * Makes, opens and connects what `plan` (a relaunch under nsenter) passes on, in order:
 * the user namespace (made with its maps, or opened from its path), the namespaces
 * nsenter joins, the sockets; then the OOM score. For any relaunch with a foreground
 * console, the console's socketpair. Nothing else for another relaunch. A failure closes
 * what was opened and is thrown, named by its field.
 */
export function prepareRelaunch(sys: Syscalls, plan: LaunchPlan, config: Pick<RootfsConfig, 'namespaces' | 'consoleSocket' | 'seccomp' | 'process'> & { mounts?: readonly MountSpec[] }): RelaunchDescriptors {
  const passed = new Map<number, number>();
  let restoreScore: (() => void) | undefined;
  const release = (): string[] => {
    const failed: string[] = [];
    for (const fd of passed.values()) {
      try {
        sys.close(fd);
      } catch (err) {
        failed.push((err as Error).message);
      }
    }
    passed.clear();
    try {
      restoreScore?.();
    } catch (err) {
      failed.push((err as Error).message);
    }
    return failed;
  };
  const nsenter = plan.relaunch[0] === 'nsenter';
  let consoleEnd: number | undefined;
  try {
    if (nsenter) {
      const maps = plan.userMappings;
      const userPath = plan.userNamespacePath;
      // A namespace file: nsenter would otherwise name neither the field nor the path.
      const openNamespace = (at: number, type: string, path: string): void => {
        passed.set(at, naming(`linux.namespaces "${type}"`, () => sys.open(path, O_RDONLY | O_CLOEXEC, 0)));
        if (naming(`linux.namespaces "${type}"`, () => sys.fstatfs(passed.get(at)!).type) !== NSFS_MAGIC) {
          throw new ConfigError('linux.namespaces', path, `is not a namespace file of type ${type} (nsfs)`);
        }
      };
      if (maps) passed.set(RELAUNCH_USERNS_FD, naming("the container's user namespace", () => sys.userNamespace(maps.uid, maps.gid)));
      else if (userPath) openNamespace(RELAUNCH_USERNS_FD, 'user', userPath);
      (plan.launcherJoins ?? []).forEach((join, i) => openNamespace(RELAUNCH_FIRST_JOIN_FD + i, join.type, join.path));
      for (const [role, socket] of hostSocketPaths(config)) passed.set(RELAUNCH_SOCKET_FDS[role], naming(SOCKET_FIELDS[role], () => sys.connectUnix(socket)));
      makeIdmapTrees(sys, config, passed);
    }
    if (foregroundConsole(config)) {
      const [here, there] = naming(FOREGROUND_CONSOLE, () => sys.socketPair());
      consoleEnd = here;
      passed.set(RELAUNCH_SOCKET_FDS.console, there);
    }
    const adj = config.process.oomScoreAdj;
    if (nsenter && adj !== undefined) restoreScore = presetOomScore(sys, adj);
  } catch (err) {
    if (consoleEnd !== undefined) sys.close(consoleEnd);
    release();
    throw err;
  }
  return { passed, release, ...(consoleEnd === undefined ? {} : { console: consoleEnd }) };
}

/**
 * The detached idmapped copy of each idmapped bind's source, at its slot in `passed`
 * (idmapTreeSlots): mapped through the mount's own mappings, with one user namespace per
 * set of them, made here and closed once the copies are made, or through the container's
 * (RELAUNCH_USERNS_FD, made with its maps or opened from its path), as runc maps one
 * without mappings of its own.
 */
function makeIdmapTrees(sys: Syscalls, config: Parameters<typeof idmapTreeSlots>[0], passed: Map<number, number>): void {
  const own = new Map<string, number>();
  try {
    for (const [m, slot] of idmapTreeSlots(config)) {
      const { uidMappings: uid, gidMappings: gid, recursive } = m.idmap;
      naming(mountField(m), () => {
        let userns = passed.get(RELAUNCH_USERNS_FD)!;
        if (uid && gid) {
          const key = JSON.stringify([uid, gid]);
          if (!own.has(key)) own.set(key, sys.userNamespace(uid, gid));
          userns = own.get(key)!;
        }
        passed.set(slot, idmappedTree(sys, m.source, (m.flags & MS_REC) !== 0n, recursive, userns));
      });
    }
  } finally {
    for (const fd of own.values()) sys.close(fd);
  }
}

/**
 * In the relaunched process: closes the namespaces' descriptors when nsenter started it
 * (it has joined them) and, rootless, takes gid 0 there; takes the sockets its starter
 * passed (relaunchSockets), each checked to be one and marked close-on-exec, under
 * nsenter the idmapped copies (idmapTreeSlots), each checked to be open and marked
 * close-on-exec, and then
 * the runtime channel
 * (RELAUNCH_STARTER_FD), which no hook or helper this process starts may hold (Node 20
 * marks what it inherited close-on-exec at its start, which nothing promises). A
 * descriptor that is not what its starter passes is refused: something else started this
 * process with MOUNTKIT_RELAUNCHED set. Returns what the config gets for them.
 */
export function takeRelaunchDescriptors(sys: Syscalls, config: RelaunchConfig, nsenter: boolean): Pick<RootfsConfig, 'runtimeChannel' | 'hostSockets' | 'idmapTrees'> {
  const namespaces = nsenter ? [RELAUNCH_USERNS_FD, ...launcherJoins(config.namespaces).map((_, i) => RELAUNCH_FIRST_JOIN_FD + i)] : [];
  for (const fd of namespaces) naming(`descriptor ${fd} from the process that started mountkit`, () => sys.close(fd));
  // A rootless relaunch was given no setgid by nsenter (namespaces.ts relaunchPlan), which
  // would have dropped the user's supplementary groups: the namespace's gid 0 without them.
  if (nsenter && config.rootless) naming("the container's user namespace", () => sys.setgid(0));
  const taken: NonNullable<RootfsConfig['hostSockets']> = {};
  for (const [role, name] of relaunchSockets(config, nsenter)) {
    const fd = RELAUNCH_SOCKET_FDS[role];
    naming(`${name}, descriptor ${fd} from the process that started mountkit`, () => {
      if (sys.fstat(fd).kind !== 'socket') throw new Error(`${name}: descriptor ${fd} from the process that started mountkit is not a socket`);
      sys.setCloexec(fd);
    });
    taken[role] = fd;
  }
  const trees: Record<number, number> = {};
  for (const [m, fd] of nsenter ? idmapTreeSlots(config) : []) {
    // fstat(2) answers EBADF for a descriptor not open: no copy was passed there.
    naming(`${mountField(m)}: its idmapped copy, descriptor ${fd} from the process that started mountkit`, () => {
      sys.fstat(fd);
      sys.setCloexec(fd);
    });
    trees[m.index] = fd;
  }
  naming(`descriptor ${RELAUNCH_STARTER_FD} from the process that started mountkit`, () => sys.setCloexec(RELAUNCH_STARTER_FD));
  return { runtimeChannel: RELAUNCH_STARTER_FD, ...(Object.keys(taken).length ? { hostSockets: taken } : {}), ...(Object.keys(trees).length ? { idmapTrees: trees } : {}) };
}
