/**
 * The limits the processes and threads mountkit starts are counted against, read before
 * they are started, and the cause of a start that failed on one.
 *
 * RLIMIT_NPROC bounds the tasks (processes and threads alike) of the caller's real uid,
 * counted across every process of that uid, a user namespace's tasks counted also for the
 * user that made it (setrlimit(2); kernel/fork.c copy_process, kernel/ucount.c
 * is_rlimit_overlimit); root in the initial user namespace is not held to it (INIT_USER).
 * A Node that cannot start a thread of its V8 platform's waits for it forever (Node 20,
 * src/node_platform.cc WorkerThreadsTaskRunner: a worker that failed to start is still
 * waited for), or aborts (its delayed-task thread): a relaunch of mountkit that would
 * meet the limit is refused before anything is started (checkRelaunchTasks), as one
 * line, rather than left hanging.
 *
 * A pids cgroup bounds the tasks in it, its descendants' counted (pids.current), by its
 * pids.max, root's too, and so does each cgroup above it (kernel/cgroup/pids.c
 * pids_try_charge): a relaunch that would meet one is refused the same way.
 *
 * A start that failed anyway (the limit met between the check and the start, or
 * RLIMIT_NOFILE) is named with the limit it met (spawnError).
 */
import { SyscallError, errnoNumber } from './errors';
import { parseMountInfo, type MountTable } from './mountinfo';
import { inInitialUserNamespace } from './namespaces';
import { NODE_OWN_TASKS, V8_DEFAULT_POOL_THREADS } from './node-tasks';
import { parseProcCgroup, type ProcCgroupEntry } from './proc-cgroup';
import { RLIMITS, RLIM_INFINITY } from './rlimits';
import type { Syscalls } from './syscalls/types';

/**
 * The tasks of a started Node (Node 20) where no --v8-pool-size is given: its main
 * thread, the V8 platform's delayed-task thread and its four workers, and the inspector's
 * thread for SIGUSR1 (without which Node goes on, after a line on stderr). nodeTasks
 * counts them for the options given.
 */
export const NODE_TASKS = NODE_OWN_TASKS + V8_DEFAULT_POOL_THREADS;

/**
 * The descriptors a start takes in this process (libuv's uv_spawn, Node 20): a
 * socketpair(2) for each piped standard stream and a pipe2(2) for the child's exec error.
 */
export const SPAWN_DESCRIPTORS = 4;

const RLIMIT_NOFILE = RLIMITS.get('RLIMIT_NOFILE')!;

/** Two soft limits of /proc/PID/limits (the values the kernel checks), each undefined when unlimited. */
export interface Limits {
  /** "Max processes": RLIMIT_NPROC. */
  nproc?: number;
  /** "Max open files": RLIMIT_NOFILE. */
  nofile?: number;
}

/**
 * The soft limits of RLIMIT_NPROC and RLIMIT_NOFILE in the text of /proc/PID/limits
 * (fs/proc/base.c proc_pid_limits: the name, then the soft and hard values, each a number
 * or "unlimited", then the unit).
 */
export function parseLimits(text: string): Limits {
  const soft = (name: string): number | undefined => {
    const value = new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(text)?.[1];
    return value !== undefined && /^[0-9]+$/.test(value) ? Number(value) : undefined;
  };
  const nproc = soft('Max processes');
  const nofile = soft('Max open files');
  return { ...(nproc === undefined ? {} : { nproc }), ...(nofile === undefined ? {} : { nofile }) };
}

/** The tasks in the whole system: the total after the slash in /proc/loadavg's fourth field (proc(5)), or undefined. */
export function systemTasks(loadavg: string): number | undefined {
  const total = /^\S+ \S+ \S+ \d+\/(\d+) /.exec(loadavg)?.[1];
  return total === undefined ? undefined : Number(total);
}

/** The tasks a process's /proc/PID/status counts (Threads:) when its real uid (the first of Uid:) is `uid`, else 0. */
export function statusTasks(status: string, uid: number): number {
  const real = /^Uid:\s+(\d+)/m.exec(status)?.[1];
  if (real === undefined || Number(real) !== uid) return 0;
  return Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
}

/**
 * The tasks of the real uid `uid` among the processes this /proc shows (a process gone
 * meanwhile is skipped); undefined when /proc cannot be listed. Those of other pid
 * namespaces, and of user namespaces whose ids map elsewhere, are not seen.
 */
export function tasksOfUid(sys: Syscalls, uid: number): number | undefined {
  let pids: string[];
  try {
    pids = sys.readdir('/proc');
  } catch {
    return undefined;
  }
  let count = 0;
  for (const pid of pids) {
    if (!/^[0-9]+$/.test(pid)) continue;
    try {
      count += statusTasks(sys.readFile(`/proc/${pid}/status`), uid);
    } catch {
      // Gone since it was listed.
    }
  }
  return count;
}

/** This process's limits; an empty set when /proc/self/limits cannot be read. */
function ownLimits(sys: Syscalls): Limits {
  try {
    return parseLimits(sys.readFile('/proc/self/limits'));
  } catch {
    return {};
  }
}

/**
 * Why `need` more tasks of the real uid `uid` would meet RLIMIT_NPROC, for `what`, or
 * undefined (no limit, room for them, or nothing to tell by). /proc/loadavg's count of
 * every task in the system bounds the uid's: its processes are listed only when that
 * count leaves no room.
 */
export function taskShortage(sys: Syscalls, uid: number, need: number, what: string): string | undefined {
  const { nproc } = ownLimits(sys);
  if (nproc === undefined) return undefined;
  let total: number | undefined;
  try {
    total = systemTasks(sys.readFile('/proc/loadavg'));
  } catch {
    total = undefined;
  }
  if (total !== undefined && total + need <= nproc) return undefined;
  const count = tasksOfUid(sys, uid);
  if (count === undefined || count + need <= nproc) return undefined;
  return `RLIMIT_NPROC ${nproc}: ${count} processes and threads of uid ${uid}, and ${what} takes ${need} more`;
}

/** A pids cgroup of this process: the mount of its hierarchy, and its path there ("/" for the root). */
export interface PidsCgroup {
  mount: string;
  path: string;
}

/** Where cgroup v2 is mounted: /sys/fs/cgroup, or on a hybrid host (systemd's layout, cgroup v1's hierarchies in a tmpfs there) /sys/fs/cgroup/unified. */
export const CGROUP2_MOUNT = '/sys/fs/cgroup';
export const HYBRID_CGROUP2_MOUNT = '/sys/fs/cgroup/unified';

/**
 * A file every directory of a cgroup v2 hierarchy has, its root too (cgroup-v2.rst,
 * "cgroup.controllers"), and the tmpfs a hybrid or cgroup v1 host mounts its hierarchies
 * in has not: cgroup v2 is mounted at CGROUP2_MOUNT when it is there. The mount table would tell for certain;
 * one stat(2) is what bin/mountkit can afford, which asks the same.
 */
export const CGROUP2_ROOT_FILE = `${CGROUP2_MOUNT}/cgroup.controllers`;

/** Where cgroup v1's pids hierarchy is mounted when pids is its one controller (systemd's layout, and OpenRC's). */
export const V1_PIDS_MOUNT = '/sys/fs/cgroup/pids';

/**
 * This process's pids cgroup in the text of /proc/self/cgroup ("ID:CONTROLLERS:PATH",
 * cgroups(7)): that of a cgroup v1 hierarchy with the pids controller when there is one,
 * else cgroup v2's ("0::PATH", mounted where `cgroup2Mount` says, asked only then). A
 * controller is bound to one hierarchy: a hybrid host's cgroup v2, whose line comes last,
 * has no pids controller when a v1 hierarchy has it. A hierarchy of pids alone
 * ("N:pids:PATH") is taken at V1_PIDS_MOUNT; one pids shares with other controllers
 * ("N:cpu,pids:PATH") where the mount table (`mountTable`, asked only then) shows it
 * (comountedPidsCgroup). Read as the cgroup plugin reads it (parseProcCgroup); a text
 * that does not parse names none.
 */
export function pidsCgroups(text: string, cgroup2Mount: () => string = () => CGROUP2_MOUNT, mountTable: () => MountTable = () => []): PidsCgroup[] {
  let entries: ProcCgroupEntry[];
  try {
    entries = parseProcCgroup(text);
  } catch {
    return [];
  }
  const v1 = entries.find((e) => e.id !== 0 && e.controllers.includes('pids') && e.path.startsWith('/'));
  if (v1 && v1.controllers.length === 1) return [{ mount: V1_PIDS_MOUNT, path: v1.path }];
  if (v1) {
    const comounted = comountedPidsCgroup(mountTable(), v1.path);
    return comounted ? [comounted] : [];
  }
  const v2 = entries.find((e) => e.id === 0 && e.controllers.length === 0 && e.path.startsWith('/'));
  return v2 ? [{ mount: cgroup2Mount(), path: v2.path }] : [];
}

/**
 * The cgroup `path` of the cgroup v1 hierarchy that has pids among other controllers, at
 * the first `cgroup` mount of the table whose super options name pids (the hierarchy's
 * controllers, kernel/cgroup/cgroup-v1.c cgroup1_show_options) and whose root (the
 * hierarchy's directory shown at its mountpoint) holds the cgroup: the mountpoint, and
 * the path below that root. Undefined where no mount shows it, or only a root above this
 * process's cgroup namespace ("/..", cgroup_namespaces(7)).
 */
export function comountedPidsCgroup(table: MountTable, path: string): PidsCgroup | undefined {
  for (const m of table) {
    if (m.fstype !== 'cgroup' || !m.superOptions.split(',').includes('pids')) continue;
    const root = m.root.replace(/\/+$/, '');
    if (root.split('/').includes('..')) continue;
    if (root === '') return { mount: m.mountpoint, path };
    if (path === root || path === `${root}/`) return { mount: m.mountpoint, path: '/' };
    if (path.startsWith(`${root}/`)) return { mount: m.mountpoint, path: path.slice(root.length) };
  }
  return undefined;
}

/** /proc/self/mountinfo's mounts; none where it cannot be read or parsed. */
function mountTableHere(sys: Syscalls): MountTable {
  try {
    return parseMountInfo(sys.readFile('/proc/self/mountinfo'));
  } catch {
    return [];
  }
}

/** Where cgroup v2 is mounted here: CGROUP2_MOUNT when it has CGROUP2_ROOT_FILE, else HYBRID_CGROUP2_MOUNT (where none is mounted, no pids.max is found there). */
function cgroup2MountHere(sys: Syscalls): string {
  try {
    sys.stat(CGROUP2_ROOT_FILE);
    return CGROUP2_MOUNT;
  } catch {
    return HYBRID_CGROUP2_MOUNT;
  }
}

/** The directories of `cgroup` and of each cgroup above it, up to its hierarchy's root, in that order. */
export function cgroupDirs(cgroup: PidsCgroup): string[] {
  const dirs: string[] = [];
  let dir = cgroup.mount + cgroup.path.replace(/\/+$/, '');
  for (;;) {
    dirs.push(dir);
    if (dir === cgroup.mount || !dir.startsWith(`${cgroup.mount}/`)) return dirs;
    dir = dir.slice(0, dir.lastIndexOf('/'));
  }
}

/** A pids.max or pids.current as a number; undefined for "max" (no limit) or anything else. */
function pidsValue(text: string): number | undefined {
  const value = text.trim();
  return /^[0-9]+$/.test(value) ? Number(value) : undefined;
}

/**
 * Why `need` more tasks would meet the pids.max of a cgroup of this process, or of one
 * above it, for `what`, or undefined (no such limit, room for them, or nothing to tell
 * by). The root cgroup has none, and a cgroup whose files cannot be read is passed over.
 */
export function pidsShortage(sys: Syscalls, need: number, what: string): string | undefined {
  let text: string;
  try {
    text = sys.readFile('/proc/self/cgroup');
  } catch {
    return undefined;
  }
  for (const cgroup of pidsCgroups(text, () => cgroup2MountHere(sys), () => mountTableHere(sys))) {
    for (const dir of cgroupDirs(cgroup)) {
      let max: number | undefined;
      let current: number | undefined;
      try {
        max = pidsValue(sys.readFile(`${dir}/pids.max`));
        if (max === undefined) continue;
        current = pidsValue(sys.readFile(`${dir}/pids.current`));
      } catch {
        continue;
      }
      if (current !== undefined && current + need > max) return `${dir}/pids.max ${max}: pids.current ${current}, and ${what} takes ${need} more`;
    }
  }
  return undefined;
}

/**
 * A sysctl file that kuid 0 owns (fs/proc/proc_sysctl.c proc_sys_make_inode:
 * GLOBAL_ROOT_UID, changed only by the net, ipc and mqueue roots' set_ownership; ostype
 * is the uts table's, of the default root). stat(2) shows its owner as the reader's user
 * namespace maps kuid 0: the overflow uid where that namespace does not map it.
 */
export const ROOT_OWNED_SYSCTL = '/proc/sys/kernel/ostype';

/** Where the overflow uid is set, which stat(2) shows for an owner the reader's user namespace does not map (DEFAULT_OVERFLOWUID 65534 where it cannot be read). */
export const OVERFLOW_UID_SYSCTL = '/proc/sys/kernel/overflowuid';

const DEFAULT_OVERFLOWUID = 65534;

/** The overflow uid as `read` gives OVERFLOW_UID_SYSCTL's text; DEFAULT_OVERFLOWUID where it cannot be read or holds no number. */
export function overflowUidOf(read: (file: string) => string): number {
  try {
    const text = read(OVERFLOW_UID_SYSCTL).trim();
    return /^[0-9]+$/.test(text) ? Number(text) : DEFAULT_OVERFLOWUID;
  } catch {
    return DEFAULT_OVERFLOWUID;
  }
}

/** CAP_SYS_ADMIN and CAP_SYS_RESOURCE (linux/capability.h), as bits of /proc/PID/status's CapEff. */
const SPARING_CAPS = (1n << 21n) | (1n << 24n);

/** What tells whether the kernel spares a process from RLIMIT_NPROC; the last two undefined where they cannot be read. */
export interface NprocView {
  /** /proc/self/status. */
  status: string;
  /** /proc/self/uid_map; undefined where it cannot be read (a kernel without user namespaces has none). */
  uidMap?: string;
  /** readlink(2) of /proc/self/ns/user. */
  userNs?: string;
  /** The owner of ROOT_OWNED_SYSCTL as stat(2) shows it here: the uid kuid 0 is in this user namespace, or the overflow uid. */
  rootUid?: number;
  /** The overflow uid (OVERFLOW_UID_SYSCTL); default DEFAULT_OVERFLOWUID. */
  overflowUid?: number;
}

/**
 * Whether the kernel spares a process from RLIMIT_NPROC (kernel/fork.c copy_process):
 * when its real uid (the first of Uid:) is INIT_USER, kuid 0, or when it has
 * CAP_SYS_RESOURCE or CAP_SYS_ADMIN in the initial user namespace (capable(): CapEff
 * counts there only). Its user namespace is the initial one as inInitialUserNamespace
 * tells it (the link; without it, uid_map). Its real uid, mapped in its namespace, is kuid 0 when
 * it is the uid the root-owned sysctl shows (a mapped kuid 0 shows as its own uid, an
 * unmapped one as the overflow uid), which tells nothing for a uid that is the overflow
 * uid; without that, when uid_map maps it to 0, the parent namespace's uid, which is
 * kuid 0 only when the parent is the initial namespace.
 * Root of another user namespace, a rootless container's or one nested in it (whose
 * uid_map may read `0 0 1`), is held to the limit.
 */
export function sparedByKernel(view: NprocView): boolean {
  const real = /^Uid:\s+(\d+)/m.exec(view.status)?.[1];
  if (real === undefined) return false;
  const uid = Number(real);
  // No uid_map: a kernel without user namespaces, whose ids are all the initial namespace's.
  const text = view.uidMap?.trim();
  const ranges = text === undefined ? [[0, 0, 4294967295]] : text === '' ? [] : text.split('\n').map((line) => line.trim().split(/\s+/).map(Number));
  const range = ranges.find(([inside, , count]) => uid >= inside && uid < inside + count);
  // The sysctl's owner tells, but for a uid that is the overflow uid itself.
  const told = view.rootUid !== undefined && !(view.rootUid === uid && uid === (view.overflowUid ?? DEFAULT_OVERFLOWUID));
  if (range !== undefined && (told ? view.rootUid === uid : range[1] + uid - range[0] === 0)) return true;
  if (!inInitialUserNamespace(view.userNs, () => view.uidMap)) return false;
  const caps = /^CapEff:\s+([0-9a-f]+)$/m.exec(view.status)?.[1];
  return caps !== undefined && (BigInt(`0x${caps}`) & SPARING_CAPS) !== 0n;
}

/** sparedByKernel for this process; false when /proc/self/status cannot be read. */
function sparedHere(sys: Syscalls): boolean {
  let status: string;
  try {
    status = sys.readFile('/proc/self/status');
  } catch {
    return false;
  }
  let uidMap: string | undefined;
  try {
    uidMap = sys.readFile('/proc/self/uid_map');
  } catch {
    // No user namespaces in this kernel: every id is the initial namespace's.
  }
  let userNs: string | undefined;
  try {
    userNs = sys.readlink('/proc/self/ns/user');
  } catch {
    // Not readable here: uid_map tells.
  }
  let rootUid: number | undefined;
  let overflowUid: number | undefined;
  try {
    rootUid = sys.stat(ROOT_OWNED_SYSCTL).uid;
    const overflow = sys.readFile(OVERFLOW_UID_SYSCTL).trim();
    if (/^[0-9]+$/.test(overflow)) overflowUid = Number(overflow);
  } catch {
    // No sysctl files here: uid_map tells.
  }
  return sparedByKernel({ status, uidMap, userNs, rootUid, overflowUid });
}

/** Who starts a relaunch: the real uid, and whether this process runs in a user namespace that stands for a new one (LaunchContext.inUserNamespace). */
export interface Starter {
  uid: number;
  inUserNamespace: boolean;
}

/**
 * What a relaunch makes (core/namespaces.ts LaunchPlan): whether it forks PID 1 of a new
 * pid namespace (relaunchForks), and whether it enters a user namespace; and, where this
 * process copies a foreground console meanwhile, the threads of the pool it starts for
 * that (node-tasks.ts libuvPoolThreads).
 */
export interface RelaunchShape {
  forks: boolean;
  userNamespace: boolean;
  consolePool?: number;
  /** The tasks its Node starts with (nodeTasks): NODE_TASKS where not given. */
  nodeTasks?: number;
}

/**
 * The tasks a relaunch starts: the starter's watch (a shell, cli/run.ts watchStarter),
 * and the process unshare(1) becomes, which is Node, or the shell forking Node as PID 1
 * of a new pid namespace (PID_NAMESPACE_PARENT): `inside` are those in the namespaces of
 * the relaunch, a user namespace among them.
 */
export function relaunchTasks(forks: boolean, node = NODE_TASKS): { inside: number; all: number } {
  const inside = forks ? 1 + node : node;
  return { inside, all: 1 + inside };
}

/**
 * Refuses a relaunch whose tasks would meet RLIMIT_NPROC or a pids cgroup's pids.max: a
 * fork(2) EAGAIN named with the limit, before anything is started. Root in the initial
 * user namespace is not held to RLIMIT_NPROC, but in a user namespace the relaunch
 * enters, whose tasks the limit counts there from none: for a new one, its maker's own
 * count is not held to it either (kernel/user_namespace.c enforced_nproc_rlimit); one
 * joined by path may hold tasks already, which are not counted here. Any other starter's
 * tasks of its uid are counted with the relaunch's, unless the kernel spares it as it
 * spares root (sparedByKernel) and the relaunch enters no user namespace. Every task of
 * the relaunch is counted in the cgroups, where this process's are already.
 */
export function checkRelaunchTasks(sys: Syscalls, relaunch: RelaunchShape, starter: Starter): void {
  const { inside, all: relaunched } = relaunchTasks(relaunch.forks, relaunch.nodeTasks);
  const all = relaunched + (relaunch.consolePool ?? 0);
  const what = `starting mountkit again in the container's namespaces${relaunch.consolePool ? ', and copying its console here,' : ''}`;
  let shortage: string | undefined;
  if (starter.uid === 0 && !starter.inUserNamespace) {
    const { nproc } = relaunch.userNamespace ? ownLimits(sys) : {};
    if (nproc !== undefined && inside > nproc) shortage = `RLIMIT_NPROC ${nproc}: starting mountkit again in the container's user namespace takes ${inside} processes and threads there`;
  } else {
    shortage = taskShortage(sys, starter.uid, all, what);
    // Spared as root is (a capability, or root mapped onto root): no count, but inside a user namespace the relaunch enters.
    if (shortage !== undefined && !relaunch.userNamespace && sparedHere(sys)) shortage = undefined;
  }
  shortage ??= pidsShortage(sys, all, what);
  if (shortage) throw new SyscallError('fork', errnoNumber('EAGAIN'), [], shortage);
}

/** Whether `err` is a SyscallError of a descriptor table that is full: the process's (EMFILE) or the system's (ENFILE). */
function noDescriptorLeft(err: unknown): boolean {
  return err instanceof SyscallError && (err.code === 'EMFILE' || err.code === 'ENFILE');
}

/**
 * RLIMIT_NOFILE and how many descriptors below it are open, as /proc/self/fd lists them
 * (its own listing's not counted): all of them when none is left to read that with, the
 * limit then from getrlimit(2). Undefined when there is no limit or it cannot be told.
 */
export function openDescriptors(sys: Syscalls): { nofile: number; open: number } | undefined {
  let nofile: number | undefined;
  try {
    nofile = parseLimits(sys.readFile('/proc/self/limits')).nofile;
    if (nofile === undefined) return undefined;
    const listed = sys.readdir('/proc/self/fd').filter((fd) => /^[0-9]+$/.test(fd) && Number(fd) < nofile!).length;
    return { nofile, open: Math.max(0, listed - 1) };
  } catch (err) {
    if (!noDescriptorLeft(err)) return undefined;
  }
  if (nofile === undefined) {
    try {
      const { soft } = sys.getrlimit(RLIMIT_NOFILE);
      if (soft !== RLIM_INFINITY) nofile = Number(soft);
    } catch {
      return undefined;
    }
  }
  return nofile === undefined ? undefined : { nofile, open: nofile };
}

/**
 * The error of a start of `program` by Node's spawn that failed with `code` (undefined:
 * not known yet, Node tells it later, as an event), with the limit it met: the call
 * named is fork(2) for EAGAIN and ENOMEM, execve(2) for ENOENT and EACCES, and for
 * another, the descriptors libuv makes before the fork among them, the start as a whole
 * (libuv's spawn). Without a code: EMFILE when fewer than SPAWN_DESCRIPTORS descriptors
 * are free below RLIMIT_NOFILE, else EAGAIN.
 */
export function spawnError(sys: Syscalls, program: string, code: string | undefined, uid: number | undefined): SyscallError {
  const descriptors = code === undefined || code === 'EMFILE' ? openDescriptors(sys) : undefined;
  const errno = code ?? (descriptors !== undefined && descriptors.nofile - descriptors.open < SPAWN_DESCRIPTORS ? 'EMFILE' : 'EAGAIN');
  const name = errno === 'EAGAIN' || errno === 'ENOMEM' ? 'fork' : errno === 'ENOENT' || errno === 'EACCES' ? 'execve' : 'spawn';
  let detail: string | undefined;
  if (errno === 'EMFILE' && descriptors) {
    detail = `RLIMIT_NOFILE ${descriptors.nofile}: ${descriptors.open === descriptors.nofile ? 'every descriptor is' : `${descriptors.open} descriptors are`} open`;
  } else if (errno === 'EAGAIN' && uid !== undefined) {
    detail = taskShortage(sys, uid, 1, 'starting a process') ?? pidsShortage(sys, 1, 'starting a process') ?? 'no room for another task: RLIMIT_NPROC, a pids cgroup or kernel.threads-max';
  }
  let number: number;
  try {
    number = errnoNumber(errno);
  } catch {
    number = errnoNumber('EAGAIN');
  }
  return new SyscallError(name, number, [program], detail);
}
