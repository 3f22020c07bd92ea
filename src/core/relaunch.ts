/**
 * What mountkit's first process does from the host for a relaunch under nsenter(1) into a
 * user namespace (core/namespaces.ts), and how the relaunched process takes it. runc's
 * parent does the same things from the host for its init: it makes the user namespace
 * with its maps, opens the namespaces to join, connects the console's and the seccomp
 * agent's sockets, and writes the OOM score. The relaunched process runs as the
 * namespace's root, which may reach none of these.
 *
 * The relaunch gets them as descriptors, each at a fixed number (RELAUNCH_FDS); nsenter
 * joins the namespaces through /proc/self/fd. The relaunched process closes the
 * namespaces' descriptors first and takes the sockets (close-on-exec), so hooks and the
 * container get none of them.
 *
 * Any relaunch for a foreground console (core/host-sockets.ts foregroundConsole) gets
 * one more: the end of a socketpair as its console socket, whose other end the first
 * process keeps to receive the console's master, as runc run gives its init. A relaunch
 * into a user namespace with idmapped binds gets the end of another, the idmap socket
 * (idmapSlot), on which the first process sends the copies it makes for it.
 */
import { constants } from 'os';
import type { MountSpec, RootfsConfig } from './config/model';
import { NSFS_MAGIC, O_CLOEXEC, O_RDONLY } from './constants';
import { ConfigError, naming } from './errors';
import { foregroundConsole, hostSocketPaths, type HostSocketRole } from './host-sockets';
import { fdPath } from './in-root';
import { hostIdOf } from './idmap';
import { RELAUNCH_USERNS_FD, RELAUNCH_FIRST_JOIN_FD, launcherJoins, type LaunchPlan } from './namespaces';
import { presetOomScore } from './oom-score';
import { giveStreams } from './streams';
import type { Syscalls } from './syscalls/types';

/**
 * The relaunch's socket to the process that started it: held until its execve(2), which
 * tells that process the container's program has started (src/cli/forward.ts), and the
 * way the runtime's hooks go to where mountkit was started (RootfsConfig.runtimeChannel,
 * core/runtime-channel.ts).
 */
export const RELAUNCH_STARTER_FD = 3;

/**
 * The signal a relaunched mountkit that is PID 1 of the pid namespace its relaunch made
 * gives itself for its parent's end (Syscalls.setParentDeathSignal): the shell that
 * forked it there (PID_NAMESPACE_PARENT) ends when the run is given up.
 */
export const PARENT_DEATH_SIGNAL = constants.signals.SIGKILL;

/**
 * The first descriptor after the standard streams: `run` marks it and every later one
 * close-on-exec first thing, in every process, so that what it starts gets only what it
 * passes (the relaunch's descriptors, a command's streams).
 */
export const FIRST_INHERITED_FD = 3;

/** The relaunch's descriptor for each of the host's sockets, by role. */
export const RELAUNCH_SOCKET_FDS: Readonly<Record<HostSocketRole, number>> = { console: 6, seccompAgent: 7 };

/**
 * The relaunch's descriptor of the --log file, which its first process opened on the host
 * (cli/run.ts), as runc opens its log before it starts its init: the relaunch, as a user
 * namespace's root, may be a host id that cannot open it (EACCES), and never opens it by
 * path. Free among the relaunch's own: 4 the user namespace, 5 config.json, 6 and 7 the
 * sockets, 9 the pid namespace's shell's (namespaces.ts PARENT_STDERR_FD).
 */
export const RELAUNCH_LOG_FD = 8;

/** What names the --log file's descriptor in errors. */
const LOG_FILE = `the --log file, descriptor ${RELAUNCH_LOG_FD} from the process that started mountkit`;

/**
 * In the relaunched process: the --log file its starter passed on RELAUNCH_LOG_FD, as a
 * close-on-exec copy (fcntl(2) F_DUPFD_CLOEXEC) on the lowest free number from `lowest`,
 * and RELAUNCH_LOG_FD closed. Taken while every number a descriptor passed to the
 * container is dup3(2)ed onto is held (cli/run.ts), the copy lies above them: one left on
 * RELAUNCH_LOG_FD would be replaced by the caller's file there before the execve, and the
 * log's last lines (a failed execve's error) written into it. Returns the copy's number;
 * a descriptor that is not open (something else started this process with
 * MOUNTKIT_RELAUNCHED set) is refused, naming it.
 */
export function takeRelaunchLog(sys: Syscalls, lowest: number): number {
  return naming(LOG_FILE, () => {
    const fd = sys.dupCloexec(RELAUNCH_LOG_FD, lowest);
    sys.close(RELAUNCH_LOG_FD);
    return fd;
  });
}

/** The fields that name each socket in errors. */
const SOCKET_FIELDS: Readonly<Record<HostSocketRole, string>> = { console: '--console-socket', seccompAgent: 'linux.seccomp.listenerPath' };

/** What names the foreground console's socketpair in errors. */
const FOREGROUND_CONSOLE = "the console's socket (process.terminal without --console-socket)";

type RelaunchConfig = Pick<RootfsConfig, 'namespaces' | 'consoleSocket' | 'seccomp' | 'rootless'> & { process?: { terminal?: boolean }; mounts?: readonly MountSpec[] };

/** What names the idmap socket in errors. */
const IDMAP_SOCKET = 'the idmap socket (idmapped binds in a user namespace)';

/**
 * The descriptor a relaunch into a user namespace gets its idmap socket on, when the
 * config has idmapped binds: the one after the namespaces nsenter joins. Undefined
 * without them.
 */
export function idmapSlot(config: Pick<RootfsConfig, 'namespaces'> & { mounts?: readonly MountSpec[] }): number | undefined {
  if (!(config.mounts ?? []).some((m) => m.idmap !== undefined)) return undefined;
  return RELAUNCH_FIRST_JOIN_FD + launcherJoins(config.namespaces).length;
}

/**
 * The descriptor a relaunch into a user namespace gets the detached copy of the
 * sd_notify socket's directory on (core/notify-socket.ts NotifyRelay.tree), when its
 * first process made one: the one after the namespaces nsenter joins and the idmap
 * socket.
 */
export function notifyTreeSlot(config: Pick<RootfsConfig, 'namespaces'> & { mounts?: readonly MountSpec[] }): number {
  return RELAUNCH_FIRST_JOIN_FD + launcherJoins(config.namespaces).length + (idmapSlot(config) === undefined ? 0 : 1);
}

/**
 * Where a relaunch gets the descriptors passed to the container (core/passed-fds.ts),
 * which it moves to their numbers from 3 last before its execve (handOverPassed): after
 * its own, which sit there (RELAUNCH_STARTER_FD, CONFIG_FD, the sockets,
 * RELAUNCH_LOG_FD), and after the one the pid namespace's shell redirects (namespaces.ts
 * PARENT_STDERR_FD, 9): the first after the namespaces nsenter joins, the idmap socket
 * and the copy of the sd_notify socket's directory (`notifyTree`: notifyTreeSlot), from
 * RELAUNCH_FIRST_JOIN_FD on.
 */
export function relaunchPassedAt(config: Pick<RootfsConfig, 'namespaces'> & { mounts?: readonly MountSpec[] }, nsenter: boolean, notifyTree = false): number {
  if (!nsenter) return RELAUNCH_FIRST_JOIN_FD;
  return notifyTreeSlot(config) + (notifyTree ? 1 : 0);
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
  /**
   * For idmapped binds: this process's end of the idmap socket (idmapSlot), on which it
   * sends the relaunch the copies it makes, and its own descriptor of the container's user
   * namespace, which maps them (core/idmapped-tree.ts); the caller closes both.
   */
  idmap?: { socket: number; userns: number };
  /** Closes them here and writes this process's own OOM score back; what fails is returned, not thrown (the relaunch runs already). */
  release(): string[];
}

/**
 * Makes, opens and connects what `plan` (a relaunch under nsenter) passes on, in order:
 * the user namespace (made with its maps, or opened from its path; with maps, the
 * standard streams given to the container's user's host id), the namespaces nsenter
 * joins, the sockets; then the OOM score. For any relaunch with a foreground
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
  let idmap: { socket: number; userns?: number } | undefined;
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
      // Inside the namespace the streams' owner, this host's user, is unmapped: the
      // container's user (its root too) could neither reopen them nor be given them there
      // (EPERM). Pipes are given here, to the host's id of that user, as runc's own pipes
      // are its; they stay so on the host. Sockets are not: none can be opened again
      // through /proc (ENXIO), and a socket's owner is the uid its traffic is routed and
      // shown by. A console replaces the streams, and needs none.
      const hostUid = maps && !config.process.terminal ? hostIdOf(maps.uid, config.process.uid) : undefined;
      if (hostUid !== undefined) giveStreams(sys, hostUid, { sockets: false });
      (plan.launcherJoins ?? []).forEach((join, i) => openNamespace(RELAUNCH_FIRST_JOIN_FD + i, join.type, join.path));
      for (const [role, socket] of hostSocketPaths(config)) passed.set(RELAUNCH_SOCKET_FDS[role], naming(SOCKET_FIELDS[role], () => sys.connectUnix(socket)));
      const slot = idmapSlot(config);
      if (slot !== undefined) {
        const [here, there] = naming(IDMAP_SOCKET, () => sys.socketPair());
        idmap = { socket: here };
        passed.set(slot, there);
        // Opened again through its magic link: the relaunch's copy is closed once it has started.
        idmap.userns = naming("the container's user namespace", () => sys.open(fdPath(passed.get(RELAUNCH_USERNS_FD)!), O_RDONLY | O_CLOEXEC, 0));
      }
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
    closeIdmap(sys, idmap);
    release();
    throw err;
  }
  return { passed, release, ...(consoleEnd === undefined ? {} : { console: consoleEnd }), ...(idmap?.userns === undefined ? {} : { idmap: { socket: idmap.socket, userns: idmap.userns } }) };
}

/**
 * Runs `call`, a step the run goes on without: what it throws is told to `warn`, its
 * message followed by `lost` (what goes undone), and false is returned; true when it
 * succeeded.
 */
export function orWarn(warn: (message: string) => void, call: () => void, lost = ''): boolean {
  try {
    call();
    return true;
  } catch (err) {
    warn(`${(err as Error).message}${lost}`);
    return false;
  }
}

/**
 * Makes the first process of a relaunch a child subreaper (Syscalls.setChildSubreaper),
 * before anything is started for the relaunch, as runc run makes itself one: what the
 * relaunched process leaves running when it is killed (a createContainer hook) becomes
 * this process's child, which it waits for (cli/orphans.ts). False when the kernel
 * refuses it (before Linux 3.4, EINVAL; a seccomp filter's answer): `warn` is told, and
 * such processes are left to the pid namespace's init, as runc only warns then too.
 */
export function becomeSubreaper(sys: Pick<Syscalls, 'setChildSubreaper'>, warn: (message: string) => void): boolean {
  return orWarn(warn, () => sys.setChildSubreaper(), ' (PR_SET_CHILD_SUBREAPER): what the process preparing the rootfs leaves running if it is killed is not waited for');
}

/**
 * Ends what becomeSubreaper made (Syscalls.unsetChildSubreaper) once the container's
 * program has started: what the container leaves running when its parent ends goes to
 * the pid namespace's init again, as it would without mountkit's relaunch. A refusal is
 * told to `warn`: those come to this process then, which reaps them as they end to the
 * run's end (cli/orphans.ts reapOrphans).
 */
export function stopSubreaping(sys: Pick<Syscalls, 'unsetChildSubreaper'>, warn: (message: string) => void): void {
  orWarn(warn, () => sys.unsetChildSubreaper(), " (PR_SET_CHILD_SUBREAPER 0): what the container leaves running comes to mountkit's first process");
}

/** Closes this process's idmap socket end and user namespace descriptor (RelaunchDescriptors.idmap), when there are any. */
export function closeIdmap(sys: Syscalls, idmap: { socket?: number; userns?: number } | undefined): void {
  for (const fd of [idmap?.socket, idmap?.userns]) if (fd !== undefined) sys.close(fd);
}

/**
 * In the relaunched process: closes the namespaces' descriptors when nsenter started it
 * (it has joined them) and, rootless, takes gid 0 there; takes the sockets its starter
 * passed (relaunchSockets), each checked to be one and marked close-on-exec, the idmap
 * socket and a mount's held copy (MountSpec.tree: a directory) likewise, and then the
 * runtime channel (RELAUNCH_STARTER_FD), which no hook or helper this process starts may
 * hold (Node 20
 * marks what it inherited close-on-exec at its start, which nothing promises). A
 * descriptor that is not what its starter passes is refused: something else started this
 * process with MOUNTKIT_RELAUNCHED set. Returns what the config gets for them.
 * `diesWithParent`: the process set PARENT_DEATH_SIGNAL, which is set again after the
 * rootless setgid(2), as a change of the effective gid clears it (prctl(2)).
 */
export function takeRelaunchDescriptors(sys: Syscalls, config: RelaunchConfig, nsenter: boolean, diesWithParent = false): Pick<RootfsConfig, 'runtimeChannel' | 'hostSockets' | 'idmapSocket'> {
  const namespaces = nsenter ? [RELAUNCH_USERNS_FD, ...launcherJoins(config.namespaces).map((_, i) => RELAUNCH_FIRST_JOIN_FD + i)] : [];
  for (const fd of namespaces) naming(`descriptor ${fd} from the process that started mountkit`, () => sys.close(fd));
  // A rootless relaunch was given no setgid by nsenter (namespaces.ts relaunchPlan), which
  // would have dropped the user's supplementary groups: the namespace's gid 0 without them.
  if (nsenter && config.rootless) {
    naming("the container's user namespace", () => sys.setgid(0));
    if (diesWithParent) sys.setParentDeathSignal(PARENT_DEATH_SIGNAL);
  }
  const taken: NonNullable<RootfsConfig['hostSockets']> = {};
  for (const [role, name] of relaunchSockets(config, nsenter)) {
    const fd = RELAUNCH_SOCKET_FDS[role];
    naming(`${name}, descriptor ${fd} from the process that started mountkit`, () => {
      if (sys.fstat(fd).kind !== 'socket') throw new Error(`${name}: descriptor ${fd} from the process that started mountkit is not a socket`);
      sys.setCloexec(fd);
    });
    taken[role] = fd;
  }
  const idmap = nsenter ? idmapSlot(config) : undefined;
  if (idmap !== undefined) {
    naming(`${IDMAP_SOCKET}, descriptor ${idmap} from the process that started mountkit`, () => {
      if (sys.fstat(idmap).kind !== 'socket') throw new Error(`${IDMAP_SOCKET}: descriptor ${idmap} from the process that started mountkit is not a socket`);
      sys.setCloexec(idmap);
    });
  }
  // A detached copy's descriptor is its root: a directory (the sd_notify socket's), the
  // root of its mount (STATX_ATTR_MOUNT_ROOT, where the kernel tells it: Linux 5.8).
  for (const m of config.mounts ?? []) {
    const tree = m.tree;
    if (tree === undefined) continue;
    const name = `mounts[${m.index}] ${JSON.stringify(m.destination)}: its copy, descriptor ${tree} from the process that started mountkit`;
    naming(name, () => {
      const held = sys.fstatMount(tree);
      if (held.kind !== 'dir' || held.mountRoot === false) throw new Error(`${name} is not ${held.kind === 'dir' ? "a mount's root" : 'a directory'}`);
      sys.setCloexec(tree);
    });
  }
  naming(`descriptor ${RELAUNCH_STARTER_FD} from the process that started mountkit`, () => sys.setCloexec(RELAUNCH_STARTER_FD));
  return { runtimeChannel: RELAUNCH_STARTER_FD, ...(Object.keys(taken).length ? { hostSockets: taken } : {}), ...(idmap === undefined ? {} : { idmapSocket: idmap }) };
}
