/**
 * How `mountkit run` gets into the container's namespaces: planLaunch (pure) turns the
 * config's linux.namespaces into a launch plan, enterNamespaces carries out its in-process
 * part through the syscall port (so `mountkit plan` records it like any other step).
 *
 * Node is multi-threaded, which decides the design (README.md, "Namespaces: how a
 * multi-threaded Node enters them"):
 * - unshare(2) and setns(2) change only the calling thread for mount, uts, ipc, net and
 *   cgroup namespaces; mountkit does all its filesystem work on the main thread and then
 *   execve(2)s, which keeps that thread's namespaces, so these are done in-process
 *   (joined by nsenter(1) instead with a user namespace, below).
 * - A new pid namespace applies to children only, and /proc must be mounted by a process
 *   inside it, so the process preparing the rootfs has to be started inside it: mountkit
 *   re-executes itself once under util-linux unshare(1) --pid (and a shell that forks it
 *   there, PID_NAMESPACE_PARENT), which then also creates the other namespaces for the
 *   whole process. A pid namespace joined by path is joined with setns(2) on the main
 *   thread first: that changes only where the thread's children are made
 *   (pid_namespaces(7)), and the relaunch is one of them.
 * - A user namespace can be made (unshare(2)) or joined (setns(2)) only by a
 *   single-threaded process, which Node never is: mountkit re-executes itself under
 *   nsenter(1), which joins the namespaces given by path and then the user namespace,
 *   and becomes its root, then unshare(1) for the other namespaces. The first process
 *   makes a new one with its maps (linux.uidMappings and gidMappings) written from the
 *   host, as runc's parent writes them, opens the namespaces to join, and passes them to
 *   the relaunch as descriptors (core/relaunch.ts). A user namespace mountkit already
 *   runs in (`unshare -Ur mountkit run`) stands for the one the config asks for.
 * - prestart, createRuntime, poststart and poststop hooks run in the runtime's
 *   namespaces (runtime-spec config.md), where mountkit was started; the process
 *   preparing the rootfs has left them by then. With such hooks mountkit always
 *   re-executes itself, and the first process, which stays there, runs them
 *   (hasRuntimeHooks). So it does for a foreground console (process.terminal without
 *   --console-socket), whose master the first process copies from there, as runc's does
 *   (staysWhereStarted).
 * mountkit always works in a mount namespace of its own, even when the config lists
 * none (then the jail is chroot, as runc's), so that no mount reaches the host.
 */
import {
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  O_CLOEXEC,
  O_RDONLY,
} from './constants';
import type { NamespaceSpec, NamespaceType, RootfsConfig } from './config/model';
import { ConfigError, SyscallError, naming } from './errors';
import { foregroundConsole, hostSocketPaths } from './host-sockets';
import { hostIdOf, idMapText, mapsContainerId, mapsOnlyOwnId, parseIdMapText, sameMappings } from './idmap';
import type { IdMapping, Syscalls } from './syscalls/types';

/** CLONE_NEWTIME, include/uapi/linux/sched.h (shares its value with CSIGNAL bits only in clone3). */
export const CLONE_NEWTIME = 0x00000080;

/** CLONE_FS, include/uapi/linux/sched.h: setns(2) into a mount namespace needs a filesystem context of the thread's own. */
export const CLONE_FS = 0x00000200;

interface NamespaceKind {
  flag: number;
  /** util-linux unshare(1)'s option making one; nsenter(1) joins one with the same option and `=PATH`. */
  unshareOption: string;
}

export const NAMESPACE_KINDS: Readonly<Record<NamespaceType, NamespaceKind>> = {
  mount: { flag: CLONE_NEWNS, unshareOption: '--mount' },
  pid: { flag: CLONE_NEWPID, unshareOption: '--pid' },
  uts: { flag: CLONE_NEWUTS, unshareOption: '--uts' },
  ipc: { flag: CLONE_NEWIPC, unshareOption: '--ipc' },
  network: { flag: CLONE_NEWNET, unshareOption: '--net' },
  user: { flag: CLONE_NEWUSER, unshareOption: '--user' },
  cgroup: { flag: CLONE_NEWCGROUP, unshareOption: '--cgroup' },
  time: { flag: CLONE_NEWTIME, unshareOption: '--time' },
};

/**
 * The file in /proc/PID/ns of each namespace type, the one a process is in; it is also
 * the name nsfs gives the namespace in a link to it ("net:[INODE]", ns_dname in fs/nsfs.c).
 */
export const NAMESPACE_FILES: Readonly<Record<NamespaceType, string>> = { mount: 'mnt', pid: 'pid', uts: 'uts', ipc: 'ipc', network: 'net', user: 'user', cgroup: 'cgroup', time: 'time' };

/** The namespace types whose CLONE_NEW* flags `flags` holds, in NAMESPACE_KINDS' order (for a log line). */
export function namespaceTypes(flags: number): NamespaceType[] {
  return (Object.keys(NAMESPACE_KINDS) as NamespaceType[]).filter((t) => (flags & NAMESPACE_KINDS[t].flag) !== 0);
}

export interface NamespaceJoin {
  type: NamespaceType;
  path: string;
  flag: number;
}

export interface LaunchPlan {
  /**
   * Command to re-execute mountkit under before anything else, or [] when this process
   * can enter everything itself. The re-executed process runs with plan.inner.
   */
  relaunch: string[];
  /** CLONE_* flags for unshare(2) on the main thread. */
  unshareFlags: number;
  /**
   * Namespaces to join with setns(2) on the main thread, in config order; with a
   * relaunch, the pid namespace joined by path before it.
   */
  joins: NamespaceJoin[];
  /**
   * With a relaunch into a new user namespace: its maps. The process relaunching makes it
   * (Syscalls.userNamespace) and gives the relaunch its descriptor as RELAUNCH_USERNS_FD.
   */
  userMappings?: UserNamespaceMappings;
  /** With a relaunch into a user namespace given by path: the path, which the process relaunching opens and passes as RELAUNCH_USERNS_FD. */
  userNamespacePath?: string;
  /**
   * With a relaunch into a user namespace: the namespaces given by path that nsenter(1)
   * joins before it (launcherJoins), which the process relaunching opens and passes from
   * RELAUNCH_FIRST_JOIN_FD on.
   */
  launcherJoins?: NamespaceJoin[];
}

/** The descriptor a relaunch into a user namespace gets it on; nsenter(1) joins it through /proc/self/fd. */
export const RELAUNCH_USERNS_FD = 4;

/** The variable PID_NAMESPACE_PARENT gives its child the shell's pid in, as /proc shows it (empty where it does not). */
export const PID_NAMESPACE_PARENT_ENV = 'MOUNTKIT_NAMESPACE_PARENT';

/**
 * The descriptor PID_NAMESPACE_PARENT keeps its standard error on: one digit, the only
 * kind dash redirects, which no relaunch is given.
 */
export const PARENT_STDERR_FD = 9;

/** What PID_NAMESPACE_PARENT says when it cannot fork: one line, no single quote (bin/mountkit has the script in single quotes). */
export const UNFORKED = 'mountkit: fork: the shell starting mountkit as PID 1 of the new pid namespace could not fork (no room for another task: RLIMIT_NPROC, a pids cgroup or kernel.threads-max)';

/** The first descriptor a relaunch into a user namespace gets the namespaces nsenter joins on, in config order: the first after PARENT_STDERR_FD. */
export const RELAUNCH_FIRST_JOIN_FD = 10;

/**
 * The namespaces given by path that nsenter(1) joins for a relaunch into a user
 * namespace: all but the pid one (joined before the relaunch) and the user one, in config
 * order.
 */
export function launcherJoins(namespaces: readonly NamespaceSpec[]): NamespaceJoin[] {
  return namespaces.filter((ns) => ns.path && ns.type !== 'pid' && ns.type !== 'user').map((ns) => ({ type: ns.type, path: ns.path!, flag: NAMESPACE_KINDS[ns.type].flag }));
}

/** A user namespace's maps (linux.uidMappings and gidMappings). */
export interface UserNamespaceMappings {
  uid: IdMapping[];
  gid: IdMapping[];
}

export interface LaunchContext {
  /** True in the process mountkit re-executed itself as (namespaces made by the launcher). */
  relaunched: boolean;
  /**
   * True when this process already runs in a user namespace that does not map every id
   * onto itself (identityUidMap), which stands for the config's: a rootless container's,
   * or one nested in it. Not one nested with the identity map, where mountkit makes the
   * config's as on the host (though it is not the initial namespace: inInitialUserNamespace).
   */
  inUserNamespace: boolean;
  /**
   * True when the bin/mountkit shell launcher started Node inside new pid and mount
   * namespaces, guessing from config.json that the container wants them
   * (see launcherGuessHolds).
   */
  startedInPidNamespace?: boolean;
  /**
   * True in a process relaunched under nsenter(1), which joined every namespace the config
   * gives by path but the pid one (joined before the relaunch).
   */
  joinedByLauncher?: boolean;
  /** The effective uid and gid mountkit runs as (absent: root). */
  euid?: number;
  egid?: number;
  /** Which of newuidmap(1) and newgidmap(1) are in PATH, with which a user other than root maps more than its own ids. */
  idMapTools?: { uid: boolean; gid: boolean };
}

/**
 * Whether the shell launcher's guess holds: the config asks for a new pid namespace, and
 * (given where this process stands) no user namespace that only a relaunch can make or
 * join, and nothing for a first process to do where mountkit was started
 * (staysWhereStarted), all of which the shell leaves to the Node entry.
 */
export function launcherGuessHolds(namespaces: readonly NamespaceSpec[], ctx?: LaunchContext, config: LaunchConfig = {}): boolean {
  if (ctx && userNamespaceByRelaunch(namespaces, ctx)) return false;
  if (staysWhereStarted(config)) return false;
  return namespaces.some((ns) => ns.type === 'pid' && !ns.path);
}

/**
 * Set by bin/mountkit when its unshare(1) made the user namespace too (--map-root-user),
 * for a run by a user other than root whose maps it took for that user's own: Node starts
 * in it as PID 1 of the new pid namespace, and the run is rootless (RootfsConfig.rootless).
 */
export const LAUNCHER_USERNS_ENV = 'MOUNTKIT_LAUNCHER_USERNS';

/**
 * Set by bin/mountkit for a user namespace it makes, and by `mountkit run` for its
 * relaunch, to the --seccomp-cache directory it found trusted from outside that namespace,
 * where the owners are known (LinuxSyscallsOptions.seccompCacheVouched); taken only from them.
 */
export const SECCOMP_CACHE_VOUCHED_ENV = 'MOUNTKIT_SECCOMP_CACHE_VOUCHED';

/**
 * Whether the user namespace the shell launcher made for a rootless run (uid and gid 0 as
 * the user's own, one id each, setgroups(2) denied) is the one a relaunch would make for
 * `config`: a new user namespace whose maps are those of the namespace this process runs
 * in (`own`: its uid_map and gid_map), no namespace given by path (a relaunch joins those
 * from where mountkit was started, before its user namespace), and a process.oomScoreAdj,
 * if any, not below this process's own score (`oomScore`, /proc/self/oom_score_adj): a
 * relaunch's first process writes a lower one from the host (oom-score.ts presetOomScore),
 * and a process without CAP_SYS_RESOURCE in the initial user namespace may only raise its
 * score, so the exec plugin's step can write it here as the relaunch would. Where not, the
 * launcher starts Node again the ordinary way.
 */
export function launcherUserNamespaceHolds(
  config: Pick<RootfsConfig, 'namespaces' | 'uidMappings' | 'gidMappings'> & { process?: { oomScoreAdj?: number } },
  own: { uid: string; gid: string; oomScore?: number },
): boolean {
  const user = config.namespaces.find((ns) => ns.type === 'user');
  if (!user || config.namespaces.some((ns) => ns.path)) return false;
  const adj = config.process?.oomScoreAdj;
  if (adj !== undefined && (own.oomScore === undefined || adj < own.oomScore)) return false;
  if (!config.uidMappings || !config.gidMappings) return false;
  return sameMappings(config.uidMappings, parseIdMapText(own.uid)) && sameMappings(config.gidMappings, parseIdMapText(own.gid));
}

/** What the Node the shell launcher started finds of the user namespace it made for root (launcherRootUserNamespaceHolds). */
export interface LauncherRootNamespace {
  /** Its /proc/self/uid_map, gid_map and setgroups. */
  uid: string;
  gid: string;
  setgroups: string;
  /** This process's effective uid and gid there. */
  euid: number;
  egid: number;
  /** The owners of the standard streams that are pipes, as that namespace shows them (streams.ts pipeStreamOwners). */
  pipeOwners: readonly number[];
  /** The uid shown for an owner the namespace does not map (kernel.overflowuid). */
  overflowUid: number;
  /** Whether a --log or --pid-file was given, which a relaunch's first process opens on the host (cli/run.ts). */
  hostFiles: boolean;
  /** This process's /proc/self/oom_score_adj, read where the config has a process.oomScoreAdj. */
  oomScore?: number;
}

/**
 * Whether the user namespace the shell launcher made for root (bin/mountkit root_maps:
 * unshare --user, then the config's maps written from the host, setgroups(2) left
 * allowed) is the one a relaunch would make for `config`, with nothing left that a
 * relaunch's first process does from the host: launcherUserNamespaceHolds, this process
 * uid and gid 0 there (with its capabilities: its uid was mapped before its execve),
 * setgroups "allow", no socket connected from the host (hostSocketPaths: a console
 * socket, a seccomp agent's), no idmapped mount (its socket, core/relaunch.ts idmapSlot),
 * and no standard stream that is a pipe the relaunch would give to the container user's
 * host id (relaunch.ts, giveStreams): each is that user's already, which an owner shown
 * as the overflow uid does not tell. Where the namespace's uid 0 is not the host's
 * (the launcher started Node through setpriv(1)), this process has no capability over a
 * file of the host's root (capabilities(7): an inode whose owner the namespace does not
 * map), so no --log or --pid-file either, which a relaunch's first process opens there.
 * Where not, the launcher starts Node again the ordinary way.
 */
export function launcherRootUserNamespaceHolds(
  config: Pick<RootfsConfig, 'namespaces' | 'uidMappings' | 'gidMappings' | 'consoleSocket' | 'seccomp'> & {
    process: { oomScoreAdj?: number; uid: number };
    mounts?: readonly { idmap?: unknown }[];
  },
  own: LauncherRootNamespace,
): boolean {
  if (!launcherUserNamespaceHolds(config, own)) return false;
  if (own.euid !== 0 || own.egid !== 0 || own.setgroups.trim() !== 'allow') return false;
  if (hostSocketPaths(config).length > 0 || (config.mounts ?? []).some((m) => m.idmap !== undefined)) return false;
  if (own.hostFiles && hostIdOf(config.uidMappings!, 0) !== 0) return false;
  const uid = config.process.uid;
  if (hostIdOf(config.uidMappings!, uid) === undefined) return true;
  return own.pipeOwners.every((owner) => owner === uid && owner !== own.overflowUid);
}

/** What of the config, beyond its namespaces, decides the launch: a new user namespace's maps, the runtime's hooks (and a runtime channel passed for them), and a foreground console. */
export type LaunchConfig = Pick<RootfsConfig, 'uidMappings' | 'gidMappings' | 'consoleSocket' | 'hostSockets' | 'runtimeChannel' | 'notifySocket'> & {
  hooks?: Pick<RootfsConfig['hooks'], 'prestart' | 'createRuntime' | 'poststart' | 'poststop'>;
  process?: { terminal?: boolean };
};

/**
 * Whether the config has hooks the runtime-spec wants run in the runtime's namespaces:
 * prestart, createRuntime, poststart and poststop (config.md), which runc runs from its
 * process on the host. `mountkit run` always relaunches for them, and its first process,
 * which stays where mountkit was started, runs them (RootfsConfig.runtimeChannel,
 * core/runtime-hooks.ts): the process preparing the rootfs is in the container's
 * namespaces by then, and becomes the container.
 */
export function hasRuntimeHooks(config: LaunchConfig): boolean {
  const { prestart = [], createRuntime = [], poststart = [], poststop = [] } = config.hooks ?? {};
  return prestart.length + createRuntime.length + poststart.length + poststop.length > 0;
}

/**
 * Whether `mountkit run`'s first process has work where mountkit was started while the
 * container runs, and so always relaunches: the runtime's hooks (hasRuntimeHooks) with no
 * runtime channel passed (bin/mountkit's hooks relay serves one: cli/hooks-relay.ts), or
 * a foreground console to copy (foregroundConsole, core/host-sockets.ts), or the caller's
 * sd_notify(3) socket to serve (RootfsConfig.notifySocket, core/notify-socket.ts).
 */
export function staysWhereStarted(config: LaunchConfig): boolean {
  return (hasRuntimeHooks(config) && config.runtimeChannel === undefined) || foregroundConsole(config) || config.notifySocket !== undefined;
}

/**
 * The user namespace the config asks for when only a relaunch can give it: a new one
 * while this process is in the initial user namespace, or one joined by path (setns(2)
 * refuses a multithreaded caller with EINVAL); undefined in the relaunched process.
 */
function userNamespaceByRelaunch(namespaces: readonly NamespaceSpec[], ctx: LaunchContext): NamespaceSpec | undefined {
  const user = namespaces.find((ns) => ns.type === 'user');
  if (!user || ctx.relaunched) return undefined;
  return user.path || !ctx.inUserNamespace ? user : undefined;
}

/**
 * Whether the process that becomes the container is one mountkit started (the shell
 * launcher's unshare, or a relaunch), whose starter passes signals on to it, rather than
 * the process the user started: RootfsConfig.newSession.
 */
export function startedByMountkit(ctx: LaunchContext, plan: LaunchPlan): boolean {
  return ctx.relaunched || ctx.startedInPidNamespace === true || plan.relaunch.length > 0;
}

/**
 * A problem with the user namespace request, or undefined: a new one that mountkit must
 * make needs the maps to write (runc refuses it without them too). Run by a user other
 * than root (a rootless container), it may write maps that make that user the
 * namespace's root, one id each, itself (user_namespaces(7): an unprivileged writer maps
 * its own euid and egid, the latter with setgroups(2) denied); more ids need newuidmap(1)
 * and newgidmap(1) (LaunchContext.idMapTools), as runc uses them, which check them
 * against /etc/subuid and /etc/subgid. One this process already runs in stands for it,
 * and needs none.
 */
export function userNamespaceProblem(namespaces: readonly NamespaceSpec[], ctx: LaunchContext, mappings: Pick<RootfsConfig, 'uidMappings' | 'gidMappings'> = {}): string | undefined {
  const user = userNamespaceByRelaunch(namespaces, ctx);
  if (!user) return undefined;
  // nsenter(1) would join the mount namespace first, and the relaunch would start there, in another tree.
  const mount = namespaces.find((ns) => ns.type === 'mount' && ns.path);
  if (mount) return `a user namespace mountkit ${user.path ? 'joins' : 'makes'} cannot go with a mount namespace given by path (${mount.path}): mountkit would start again in that namespace's tree`;
  if (user.path) return undefined;
  if (!mappings.uidMappings || !mappings.gidMappings) return 'a new user namespace needs linux.uidMappings and linux.gidMappings, the maps mountkit writes for it (or a path to join one)';
  const { euid, egid } = ctx;
  if (euid !== undefined && euid !== 0) {
    const missing = [
      !mapsOnlyOwnId(mappings.uidMappings, euid) && !ctx.idMapTools?.uid ? 'newuidmap(1)' : undefined,
      !mapsOnlyOwnId(mappings.gidMappings, egid) && !ctx.idMapTools?.gid ? 'newgidmap(1)' : undefined,
    ].filter(Boolean);
    if (missing.length) {
      return `mountkit runs as uid ${euid} gid ${egid}, which may map only themselves: linux.uidMappings [{"containerID":0,"hostID":${euid},"size":1}] and linux.gidMappings [{"containerID":0,"hostID":${egid},"size":1}]; more ids need ${missing.join(' and ')} in PATH (the uidmap package), which ${missing.length > 1 ? 'are' : 'is'} not there`;
    }
  }
  return undefined;
}

/** The /proc/PID directory of a user namespace given as /proc/PID/ns/user, where its maps can be read from outside it. */
function procOfUserNamespace(path: string): string | undefined {
  return /^\/proc\/[0-9]+(?=\/ns\/user$)/.exec(path)?.[0];
}

/**
 * A user namespace mountkit does not make, one joined by path or the one it already runs
 * in, is checked as runc 1.2 checks a joined one: it must map the container's root
 * (containerID 0), and maps given beside it must be its own. Its maps are read with
 * `read`: for a path /proc/PID/ns/user, from /proc/PID in the first process, before the
 * relaunch enters it (ids as the host sees them, as runc reads them); for another path,
 * from /proc/self in the process the relaunch put in it (nsenter(1) fails on an unmapped
 * root first); for the namespace mountkit runs in, from /proc/self. A problem is a
 * ConfigError. Returns the uid maps of a namespace joined by path where they were read
 * from outside it (/proc/PID), which tell the host uid of its root (the run's
 * sd_notify(3) relay, core/notify-socket.ts openRunRelay); else undefined.
 */
export function checkUserNamespaceMaps(config: Pick<RootfsConfig, 'namespaces' | 'uidMappings' | 'gidMappings'>, ctx: LaunchContext, read: (file: string) => string): IdMapping[] | undefined {
  const user = config.namespaces.find((ns) => ns.type === 'user');
  if (!user) return undefined;
  const dir = mapsDir(user, ctx);
  if (!dir) return undefined;
  let joined: IdMapping[] | undefined;
  const where = user.path ? `the user namespace joined (${user.path})` : 'the user namespace mountkit runs in';
  for (const [field, maps, file] of [['linux.uidMappings', config.uidMappings, `${dir}/uid_map`], ['linux.gidMappings', config.gidMappings, `${dir}/gid_map`]] as const) {
    let text: string;
    try {
      text = read(file);
    } catch (err) {
      throw new ConfigError('linux.namespaces', user.path ?? 'user', `the maps of ${where} cannot be read (${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)})`);
    }
    const own = parseIdMapText(text);
    if (user.path && !mapsContainerId(own, 0)) throw new ConfigError('linux.namespaces', user.path, `maps no containerID 0 in ${file} (${JSON.stringify(idMapText(own).trim())}): the container's root must be mapped`);
    if (maps && !sameMappings(maps, own)) throw new ConfigError(field, undefined, `differ from the maps of ${where}: ${JSON.stringify(idMapText(own).trim())}`);
    if (field === 'linux.uidMappings' && user.path && dir !== '/proc/self') joined = own;
  }
  return joined;
}

/** Where this process reads the maps checkUserNamespaceMaps checks, or undefined when it does not check them. */
function mapsDir(user: NamespaceSpec, ctx: LaunchContext): string | undefined {
  if (!user.path) return !ctx.relaunched && ctx.inUserNamespace ? '/proc/self' : undefined;
  const proc = procOfUserNamespace(user.path);
  if (!ctx.relaunched) return proc;
  return !proc && ctx.joinedByLauncher ? '/proc/self' : undefined;
}

/** The warning runc gives for maps beside a user namespace's path (checkUserNamespaceMaps compares them), or undefined. */
export function mapsBesidePath(config: Pick<RootfsConfig, 'namespaces' | 'uidMappings' | 'gidMappings'>): string | undefined {
  const user = config.namespaces.find((ns) => ns.type === 'user');
  if (!user?.path || (!config.uidMappings && !config.gidMappings)) return undefined;
  return `linux.uidMappings and gidMappings are the maps of the user namespace joined (${user.path}); only the path is needed`;
}

/**
 * Where and how this process enters the config's namespaces. `config` gives the maps of
 * a new user namespace (RootfsConfig.uidMappings and gidMappings), which the relaunch
 * that makes it carries (LaunchPlan.userMappings), the hooks and the console: with
 * runtime hooks or a foreground console (staysWhereStarted) there is always a relaunch,
 * so that the process that stays where mountkit started runs them, or copies it.
 */
export function planLaunch(namespaces: readonly NamespaceSpec[], ctx: LaunchContext, config: LaunchConfig = {}): LaunchPlan {
  const user = userNamespaceByRelaunch(namespaces, ctx);
  // The user namespace is the relaunch's to make or join, or the one this process runs in already stands for it.
  const wanted = namespaces.filter((ns) => ns.type !== 'user');
  const creates = wanted.filter((ns) => !ns.path).map((ns) => ns.type);
  if (!creates.includes('mount')) creates.push('mount');
  const joins = wanted.filter((ns) => ns.path).map((ns) => ({ type: ns.type, path: ns.path!, flag: NAMESPACE_KINDS[ns.type].flag }));

  const pid = wanted.find((ns) => ns.type === 'pid');
  if (user) return relaunchPlan(creates, joins, pid, user, config, ctx.euid !== undefined && ctx.euid !== 0);
  // A mount namespace given by path is joined, and the rootfs prepared in a new one made
  // from it after the join (mount_namespaces(7): a copy of its mounts), so that no mount of
  // the run reaches the joined one, which may be the host's.
  const copiesJoinedMount = joins.some((j) => j.type === 'mount') ? CLONE_NEWNS : 0;
  if (ctx.startedInPidNamespace) {
    // The shell launcher made the pid and mount namespaces; the rest are made here.
    const rest = creates.filter((t) => t !== 'pid' && t !== 'mount');
    return { relaunch: [], unshareFlags: rest.reduce((f, t) => f | NAMESPACE_KINDS[t].flag, copiesJoinedMount), joins };
  }
  // In the relaunched process the launcher made every new namespace but the time one (see below) and joined the pid one.
  if (ctx.relaunched) {
    if (ctx.joinedByLauncher) return { relaunch: [], unshareFlags: creates.includes('time') ? CLONE_NEWTIME : 0, joins: [] };
    return { relaunch: [], unshareFlags: (creates.includes('time') ? CLONE_NEWTIME : 0) | copiesJoinedMount, joins: joins.filter((j) => j.type !== 'pid') };
  }
  if (!pid && !staysWhereStarted(config)) return { relaunch: [], unshareFlags: creates.reduce((f, t) => f | NAMESPACE_KINDS[t].flag, 0), joins };
  return relaunchPlan(creates, joins, pid);
}

/**
 * The relaunch under unshare(1), which makes every new namespace but the time one in one
 * unshare(2). A user namespace, joined by path or made before with its maps
 * (RELAUNCH_USERNS_FD), is entered first by nsenter(1), which makes the process its root
 * (setgroups where allowed, setgid and setuid 0) so that unshare and Node keep their capabilities
 * through execve(2) (capabilities(7)); the namespaces unshare makes are then owned by it
 * (user_namespaces(7)). nsenter also joins the namespaces given by path but the pid one,
 * before the user namespace, as runc joins them before it makes one: setns(2) needs
 * CAP_SYS_ADMIN in the user namespace owning the target, which a host's namespace is not
 * once the process is in a new one (the relaunched process's joinedByLauncher). When
 * unshare makes the pid namespace, it runs PID_NAMESPACE_PARENT, whose child is PID 1
 * there.
 */
function relaunchPlan(
  creates: NamespaceType[],
  joins: NamespaceJoin[],
  pid: NamespaceSpec | undefined,
  user?: NamespaceSpec,
  mappings: Pick<RootfsConfig, 'uidMappings' | 'gidMappings'> = {},
  rootless = false,
): LaunchPlan {
  // nsenter becomes the namespace's root with setgid(0) and setuid(0) given explicitly:
  // its own default would fail when setgroups(2) is denied where it starts and in the
  // namespace (inside such a namespace already), where these options leave the
  // supplementary groups as they are and go on. Run by a user other than root, it is
  // given no setgid: it would drop that user's supplementary groups where setgroups(2) is
  // allowed (a gid map newgidmap(1) wrote), which a rootless runc keeps; the relaunched
  // process takes gid 0 itself (takeRelaunchDescriptors).
  const becomeRoot = rootless ? ['--preserve-credentials', '--setuid=0'] : ['--preserve-credentials', '--setuid=0', '--setgid=0'];
  // --propagation unchanged: the prepare-root step sets / to rslave (or rootfsPropagation) first.
  // A new time namespace is left to the relaunched process: unshare(1)'s child would be in
  // it already, and its offsets (linux.timeOffsets) can be written only before that.
  const unshareArgs = creates.filter((t) => t !== 'time').map((t) => NAMESPACE_KINDS[t].unshareOption);
  const passed = user ? joins.filter((j) => j.type !== 'pid') : [];
  const fdPath = (fd: number) => `/proc/self/fd/${fd}`;
  const enter = user
    ? ['nsenter', ...passed.map((j, i) => `${NAMESPACE_KINDS[j.type].unshareOption}=${fdPath(RELAUNCH_FIRST_JOIN_FD + i)}`), `--user=${fdPath(RELAUNCH_USERNS_FD)}`, ...becomeRoot, '--']
    : [];
  const parent = pid && !pid.path ? PID_NAMESPACE_PARENT : [];
  const relaunch = [...enter, 'unshare', ...unshareArgs, '--propagation', 'unchanged', '--', ...parent];
  const plan: LaunchPlan = { relaunch, unshareFlags: 0, joins: joins.filter((j) => j.type === 'pid') };
  if (!user) return plan;
  plan.launcherJoins = passed;
  const { uidMappings: uid, gidMappings: gid } = mappings;
  if (user.path) plan.userNamespacePath = user.path;
  else if (uid && gid) plan.userMappings = { uid, gid };
  return plan;
}

/**
 * What unshare(1) runs when it makes a pid namespace, with the relaunch's command after
 * it: unshare(2) of CLONE_NEWPID leaves its caller where it was and puts the caller's
 * next child in the new namespace as its PID 1 (pid_namespaces(7)). This shell forks that
 * child, once, and exits with its status: 128+N when signal N ended it, as `runc run`
 * reports the container's end. unshare --fork, the other way to have that child, ends
 * itself with the container's signal instead, which it cannot do for SIGKILL (util-linux
 * 2.38 exits 1 with "sigprocmask unblock failed"). A shell tells a foreground command's
 * end by a signal on its standard error ("Killed"), which runc does not: the child gets
 * the shell's standard error through PARENT_STDERR_FD, where the shell's own is
 * /dev/null (and the child's too when there is none to copy); PARENT_STDERR_FD itself is
 * /dev/null in the child, which marks it close-on-exec, so that the number stays taken
 * while Node starts (cli/run.ts relaunch: what Node opens lies above the descriptors passed
 * to the container). The child is killed when
 * this shell ends: mountkit gives itself SIGKILL as its parent-death signal first
 * (cli/run.ts). A signal set after its parent's end is never sent (prctl(2)), so the
 * child is told the shell's pid in PID_NAMESPACE_PARENT_ENV and looks for it as its
 * parent once the signal is set. Both are /proc's: the child is PID 1 of its namespace,
 * where getppid(2) gives 0 for any parent outside it, and /proc/self/stat gives its
 * parent in /proc's pid namespace, the one the shell takes its own pid from: the name of
 * its one thread's directory in /proc/self/task (a glob, a getdents(2); `read` of
 * /proc/self/stat took a read(2) per byte, 0.1 ms of a run). Where /proc does not show
 * the shell (another pid namespace's), the variable is empty. A fork that
 * fails (EAGAIN at RLIMIT_NPROC, a pids cgroup's limit or kernel.threads-max; ENOMEM)
 * ends a shell at once, with status 2 and a message on its standard error, /dev/null
 * (dash: "Cannot fork"; bash first tries again for a while): its EXIT trap says so on
 * PARENT_STDERR_FD, and the status is 1. The shell does not tell which errno it was.
 */
export const PID_NAMESPACE_PARENT: readonly string[] = [
  '/bin/sh',
  '-c',
  `command exec ${PARENT_STDERR_FD}>&2 2>/dev/null || exec ${PARENT_STDERR_FD}>/dev/null 2>/dev/null; unforked() { echo "${UNFORKED}" >&${PARENT_STDERR_FD}; exit 1; }; trap unforked EXIT; mountkit_parent=; for mountkit_task in /proc/self/task/*; do [ -e "$mountkit_task" ] && mountkit_parent=\${mountkit_task##*/}; done; (${PID_NAMESPACE_PARENT_ENV}=$mountkit_parent exec "$@" 2>&${PARENT_STDERR_FD} ${PARENT_STDERR_FD}</dev/null); mountkit_status=$?; trap - EXIT; exit $mountkit_status`,
  'sh',
];

/** Whether the relaunch makes a pid namespace, and so the container is the child of the process it starts (PID_NAMESPACE_PARENT) rather than that process. */
export function relaunchForks(plan: Pick<LaunchPlan, 'relaunch'>): boolean {
  return plan.relaunch.includes('--pid');
}

/**
 * readlink(2) of /proc/PID/ns/user in the initial user namespace: a namespace is known by
 * its nsfs inode, and the initial one's is fixed, PROC_USER_INIT_INO 0xEFFFFFFD
 * (include/linux/proc_ns.h, since Linux 3.8), where every other one gets one from
 * proc_alloc_inum.
 */
export const INITIAL_USER_NS_LINK = 'user:[4026531837]';

/** The initial user namespace's uid_map: the whole 32-bit id range mapped onto itself (user_namespaces(7)). */
const IDENTITY_UID_MAP = /^\s*0\s+0\s+4294967295\s*$/;

/**
 * Whether a user namespace maps every id onto the same id of its parent, from its
 * uid_map: the identity map, or none (undefined: a kernel without user namespaces has no
 * uid_map, and no namespace but the initial one). The launch's question
 * (LaunchContext.inUserNamespace): a new user namespace's maps must name ids mapped in
 * the namespace they are written from (user_namespaces(7)), here every one, so mountkit
 * makes the config's there as on the host; in any other namespace, the one mountkit runs
 * in stands for the config's. Whether capabilities count as in the initial namespace is
 * another question: inInitialUserNamespace.
 */
export function identityUidMap(uidMap: string | undefined): boolean {
  return uidMap === undefined || IDENTITY_UID_MAP.test(uidMap);
}

/**
 * Whether a process is in the initial user namespace, from readlink(2) of its
 * /proc/PID/ns/user (`link`), or, where that cannot be read (no procfs mounted), its
 * uid_map (asked only then; undefined where it cannot be read either).
 *
 * The link is the namespace itself: INITIAL_USER_NS_LINK there, another inode in any
 * other. uid_map tells less (identityUidMap): the initial namespace's is the identity
 * map, and so is that of a namespace nested in it whose maps were written with the whole
 * range (by a process with CAP_SETUID over it), which uid_map alone takes for the initial
 * one, though capable() counts a capability in the initial namespace only (mknod(2) of a
 * device, fs/namei.c vfs_mknod; the RLIMIT_NPROC CAP_SYS_RESOURCE and CAP_SYS_ADMIN
 * spare, kernel/fork.c copy_process). A namespace nested in a rootless one, whose
 * uid_map reads `0 0 1` (its parent's uid 0, the rootless container's root, itself a
 * host user's id), or any other partial map, or none yet (a fresh namespace), is another
 * namespace by either test: both are right there, and whether its uid 0 is kuid 0 is
 * another question again (task-limits.ts sparedByKernel). Without either the link or
 * uid_map (a kernel without user namespaces), the initial namespace, the only one, as
 * runc 1.1 (userns.RunningInUserNS) counts it.
 */
export function inInitialUserNamespace(link: string | undefined, uidMap: () => string | undefined): boolean {
  if (link !== undefined) return link === INITIAL_USER_NS_LINK;
  return identityUidMap(uidMap());
}

/**
 * inInitialUserNamespace for this process, read through the port: readlink(2) of
 * /proc/self/ns/user, and only where that fails, /proc/self/uid_map (a read the port
 * refuses, a SyscallError, counting as none).
 */
export function inInitialUserNamespaceHere(sys: Pick<Syscalls, 'readlink' | 'readFile'>): boolean {
  const read = (fn: () => string): string | undefined => {
    try {
      return fn();
    } catch (err) {
      if (err instanceof SyscallError) return undefined;
      throw err;
    }
  };
  return inInitialUserNamespace(
    read(() => sys.readlink('/proc/self/ns/user')),
    () => read(() => sys.readFile('/proc/self/uid_map')),
  );
}

/**
 * The in-process part of a launch plan, on the main thread: joins each namespace by path
 * (setns(2) on a descriptor of it; a mount namespace first needs the thread's own
 * filesystem context, unshare(CLONE_FS)), then creates the new ones with one unshare(2).
 * Every path is opened before the first join, as runc opens them: setns(2) into a mount
 * namespace moves the thread's root and working directory to that namespace's root, where
 * a later path (a /proc/PID of the host's pid namespace, a /run/netns file) would be
 * looked up in that namespace's mounts instead.
 */
export function enterNamespaces(sys: Syscalls, plan: LaunchPlan, timeOffsets?: RootfsConfig['timeOffsets']): void {
  // Named by the entry's type, as relaunch.ts names a path it cannot open.
  const entry = (join: NamespaceJoin) => `linux.namespaces ${JSON.stringify(join.type)}`;
  const fds: number[] = [];
  try {
    for (const join of plan.joins) fds.push(naming(entry(join), () => sys.open(join.path, O_RDONLY | O_CLOEXEC, 0)));
    plan.joins.forEach((join, i) => {
      if (join.flag === CLONE_NEWNS) sys.unshare(CLONE_FS);
      // setns(2) takes a descriptor: its error is given the path, and EINVAL what the file is.
      naming(entry(join), () => {
        try {
          sys.setns(fds[i], join.flag);
        } catch (err) {
          if (!(err instanceof SyscallError)) throw err;
          throw new SyscallError(err.syscall, err.errno, [join.path], err.code === 'EINVAL' ? (wrongKind(sys, fds[i], join.type) ?? err.detail) : err.detail);
        }
      });
    });
  } finally {
    for (const fd of fds) sys.close(fd);
  }
  if (plan.unshareFlags) sys.unshare(plan.unshareFlags);
  // unshare(CLONE_NEWTIME) leaves this process where it is and makes the namespace its
  // children (and its next execve) enter; its offsets can be written until a process has.
  const offsets = timeOffsetsText(timeOffsets);
  if (plan.unshareFlags & CLONE_NEWTIME && offsets) naming('linux.timeOffsets', () => sys.writeFile(TIMENS_OFFSETS, offsets));
}

/**
 * Why setns(2) gave EINVAL for `fd`, where its file is no namespace of `type`
 * (wrongNamespaceFile): undefined where its link in /proc/self/fd cannot be read (a
 * /proc of another pid namespace after a mount namespace joined).
 */
function wrongKind(sys: Pick<Syscalls, 'readlink'>, fd: number, type: NamespaceType): string | undefined {
  try {
    return wrongNamespaceFile(sys.readlink(`/proc/self/fd/${fd}`), type);
  } catch (err) {
    if (err instanceof SyscallError) return undefined;
    throw err;
  }
}

/**
 * What a descriptor's magic link (`link`, readlink(2) of /proc/self/fd/N) says of a file
 * setns(2) was to join as a `type` namespace: nsfs names a namespace "TYPE:[INODE]"
 * (NAMESPACE_FILES), any other file reads as its path. Undefined where it is a `type`
 * namespace: the EINVAL has another cause (a pid namespace that is no descendant of this
 * process's).
 */
export function wrongNamespaceFile(link: string, type: NamespaceType): string | undefined {
  const name = /^([a-z]+):\[\d+\]$/.exec(link)?.[1];
  const kind = (Object.keys(NAMESPACE_FILES) as NamespaceType[]).find((t) => NAMESPACE_FILES[t] === name);
  if (kind === type) return undefined;
  return kind ? `namespace type ${kind}, not ${type}` : 'not a namespace file';
}

/**
 * Starts the relaunch (`start`) from the pid namespace a plan with a relaunch joins by
 * path, or from this one when it joins none. setns(2) into a pid namespace makes this
 * thread's later children in it (pid_namespaces(7)), the relaunch among them. While it
 * does, the kernel refuses to start a thread (clone(2): EINVAL), which libuv does on its
 * pool's first use, so the thread goes back to its own pid namespace right after.
 */
export function fromJoinedPidNamespace<T>(sys: Syscalls, plan: LaunchPlan, start: () => T): T {
  if (!plan.joins.length) return start();
  const own = sys.open('/proc/thread-self/ns/pid', O_RDONLY | O_CLOEXEC, 0);
  try {
    enterNamespaces(sys, plan);
    return start();
  } finally {
    sys.setns(own, CLONE_NEWPID);
    sys.close(own);
  }
}

/** Where the time namespace for this process's children takes its offsets; missing when the kernel has no time namespaces. */
export const TIMENS_OFFSETS = '/proc/self/timens_offsets';

/**
 * /proc/PID/timens_offsets as the kernel shows it, a line "CLOCK SECS NANOSECS" per clock
 * with the numbers padded (kernel/time/namespace.c show_offset): each clock's offset as
 * "SECS NANOSECS", by its name.
 */
export function parseTimensOffsets(text: string): Map<string, string> {
  const held = new Map<string, string>();
  for (const line of text.split('\n')) {
    const [clock, secs, nanosecs] = line.trim().split(/\s+/);
    if (clock && secs !== undefined && nanosecs !== undefined) held.set(clock, `${Number(secs)} ${Number(nanosecs)}`);
  }
  return held;
}

/**
 * linux.timeOffsets for a process that is in the container's namespaces already
 * (runPipeline): the offsets of the time namespace its next execve(2) enters, which
 * /proc/self/timens_offsets shows and takes (the kernel reads and writes those of
 * /proc/self/ns/time_for_children). Nothing is written where that namespace has them
 * already, comparing the clocks listed only (a write leaves the others as they are):
 * `unshare --time --monotonic=SECS` made it so, or the offsets are all 0 in a new one made
 * from the host's. The offsets of a namespace that a process has entered are fixed: the
 * kernel answers EACCES to any write (time_namespaces(7)), a ConfigError that says where
 * to give them instead. Any other failure (EPERM without CAP_SYS_TIME over the
 * namespace's user namespace, ENOENT on a kernel without time namespaces) names the field.
 */
export function applyTimeOffsets(sys: Pick<Syscalls, 'readFile' | 'writeFile'>, offsets: RootfsConfig['timeOffsets']): void {
  const wanted = timeOffsetsText(offsets);
  if (!wanted) return;
  const text = naming('linux.timeOffsets', () => sys.readFile(TIMENS_OFFSETS));
  const held = parseTimensOffsets(text);
  if (Object.entries(offsets ?? {}).every(([clock, o]) => held.get(clock) === `${o.secs} ${o.nanosecs}`)) return;
  naming('linux.timeOffsets', () => {
    try {
      sys.writeFile(TIMENS_OFFSETS, wanted);
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EACCES') throw err;
      const fixed = [...held].map(([clock, o]) => `${clock} ${o}`).join(', ');
      throw new ConfigError(
        'linux.timeOffsets',
        undefined,
        `the time namespace this process's next execve enters has had a process in it, which fixed its offsets (${fixed}; ${err.message}): ` +
          'give them where it is made (unshare --time --monotonic=SECS --boottime=SECS), or write them to /proc/self/timens_offsets after unshare(CLONE_NEWTIME) and before any process enters it, or leave them out',
      );
    }
  });
}

/** linux.timeOffsets as /proc/PID/timens_offsets takes them: a line "CLOCK SECS NANOSECS" per clock (time_namespaces(7)); '' for none. */
export function timeOffsetsText(offsets: RootfsConfig['timeOffsets']): string {
  return Object.entries(offsets ?? {})
    .map(([clock, o]) => `${clock} ${o.secs} ${o.nanosecs}\n`)
    .join('');
}
