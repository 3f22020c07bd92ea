/**
 * RootfsConfig: everything the rootfs code reads, independent of the OCI JSON.
 * Built by the OCI loader (./oci.ts) or directly in code by an embedder.
 */
import type { PidFileSpec } from '../pid-file';
import { cleanPath } from '../paths';
import type { CapabilityNames } from '../capabilities';
import type { CommandSpec, IdMapping } from '../syscalls/types';
import type { IoprioClass, PersonaDomain, SchedFlag, SchedPolicy } from '../process-attrs';

export interface MountExtensions {
  /** Copy the target directory's content into the new tmpfs before it appears. */
  tmpcopyup: boolean;
}

/** mount_setattr(2) attributes set recursively after the mount (rro, rnosuid, ...). */
export interface RecursiveAttrs {
  attrSet: bigint;
  attrClr: bigint;
}

/**
 * An idmapped bind (mount_setattr(2) MOUNT_ATTR_IDMAP): the files' owners as seen through
 * a user namespace's mappings, an id stored as `containerID + n` shown as `hostID + n`,
 * and written back the other way.
 */
export interface MountIdmap {
  /** ridmap: every mount of the bind's tree is mapped (AT_RECURSIVE); idmap: its top mount only. */
  recursive: boolean;
  /** The mount's own mappings (OCI mounts[].uidMappings); absent, the container's user namespace's. */
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

export interface MountSpec {
  /**
   * Position in config.mounts; errors name it as `mounts[i]`. A config built in code may
   * leave it 0 (makeMount): runPipeline and plan set it from the position (checkedModel).
   */
  index: number;
  /**
   * Filesystem type ("device" in runc); "bind" for any mount whose flags hold MS_BIND; ""
   * for a remount (MS_REMOUNT) config.json gives no type, which the default handler takes.
   */
  type: string;
  source: string;
  /**
   * Absolute path inside the container, cleaned. One built in code may be relative or
   * unclean: checkedModel cleans it as the loader cleans config.json's.
   */
  destination: string;
  /**
   * The destination as config.json (or a config built in code) wrote it when it was
   * relative, which `destination` takes from `/` (runtime-spec 1.2): the run warns about
   * it, as runc does.
   */
  relativeDestination?: string;
  /** Flags to set (MS_*). */
  flags: bigint;
  /** Flags the options explicitly cleared (rw, suid, ...), kept for bind remounts. */
  clearedFlags: bigint;
  /** Propagation flags, each applied with its own mount(2) call after the mount, in order. */
  propagationFlags: bigint[];
  /** Recursive attributes (rro, rnosuid, ...) or undefined when none were given. */
  recAttrs?: RecursiveAttrs;
  /** Filesystem-specific data, comma-joined (mode=755,size=65536k). */
  data: string;
  extensions: MountExtensions;
  /** SELinux relabel request ("z" shared, "Z" private), or "". */
  relabel: string;
  /** Set for an idmapped bind (options idmap or ridmap, or mappings given), undefined otherwise. */
  idmap?: MountIdmap;
  /**
   * A bind's detached copy of its source (open_tree(2) OPEN_TREE_CLONE), held open at this
   * descriptor, which the bind handler attaches with move_mount(2) in place of a bind of
   * `source` by path, then closes; `source` names it in errors. A copy of a shared mount
   * is a peer of it, wherever it is attached: `propagationFlags` (MS_SLAVE) cut that.
   * Not part of config.json: mountkit's relaunch gets the sd_notify socket's directory so
   * (core/notify-socket.ts withNotifySocket, which makes it a slave).
   */
  tree?: number;
  premountCmds: CommandSpec[];
  postmountCmds: CommandSpec[];
}

export type DeviceType = 'c' | 'b' | 'u' | 'p';

export interface DeviceSpec {
  type: DeviceType;
  /** Absolute path inside the container, under /dev. */
  path: string;
  major: number;
  minor: number;
  /** Permission bits of the node. */
  fileMode: number;
  uid: number;
  gid: number;
}

export type NamespaceType = 'mount' | 'pid' | 'uts' | 'ipc' | 'network' | 'user' | 'cgroup' | 'time';

export interface NamespaceSpec {
  type: NamespaceType;
  /** Join this namespace (a /proc/PID/ns/* path) instead of creating one. */
  path?: string;
}

/** process.ioPriority (runtime-spec 1.2): an I/O scheduling class and a level in it, 0 (highest) to 7. */
export interface IoPriority {
  class: IoprioClass;
  priority: number;
}

/** process.scheduler (runtime-spec 1.2): the policy and attributes sched_setattr(2) takes; names as written. */
export interface SchedulerSpec {
  policy: SchedPolicy;
  nice: number;
  priority: number;
  flags: SchedFlag[];
  /** SCHED_DEADLINE's parameters, in nanoseconds. */
  runtime: bigint;
  deadline: bigint;
  period: bigint;
}

/** linux.personality: the execution domain, and flags, which runc ignores with a warning as mountkit does. */
export interface PersonalitySpec {
  domain: PersonaDomain;
  flags: string[];
}

/** The clocks a time namespace offsets (time_namespaces(7)). */
export type OffsetClock = 'monotonic' | 'boottime';

/** One clock's offset in a new time namespace (linux.timeOffsets): seconds, and nanoseconds below 10^9. */
export interface TimeOffset {
  secs: number;
  nanosecs: number;
}

export interface ProcessSpec {
  args: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  /** Supplementary groups of the process (process.user.additionalGids); none when absent. */
  additionalGids?: number[];
  /** The process's umask (process.user.umask); 0022 when absent, as runc's. */
  umask?: number;
  /** process.noNewPrivileges: no execve from the container's process on grants privileges. */
  noNewPrivileges?: boolean;
  /** process.capabilities, by name as written; absent: the process keeps mountkit's. */
  capabilities?: CapabilityNames;
  /** process.rlimits: each set with prlimit(2) before the user changes; absent, the process keeps mountkit's. */
  rlimits?: RlimitSpec[];
  /** process.oomScoreAdj, -1000 to 1000: the process's /proc/self/oom_score_adj; absent, mountkit's. */
  oomScoreAdj?: number;
  /** process.apparmorProfile: the AppArmor profile the program runs under; absent or empty, none asked for. */
  apparmorProfile?: string;
  /** process.selinuxLabel: the SELinux label the program runs with; absent or empty, none asked for. */
  selinuxLabel?: string;
  terminal: boolean;
  /** process.scheduler: set with sched_setattr(2) before the capabilities change, as runc 1.2 sets it; absent, mountkit's. */
  scheduler?: SchedulerSpec;
  /** process.ioPriority: set with ioprio_set(2) before the capabilities change, as runc 1.2 sets it; absent, mountkit's. */
  ioPriority?: IoPriority;
  /** process.consoleSize: the console's window size, set when both are above 0 (runc's rule); only with a console (RootfsConfig.consoleSocket, or hostSockets.console). */
  consoleSize?: { height: number; width: number };
}

export interface RlimitSpec {
  /** As written: RLIMIT_NOFILE... */
  type: string;
  /** Its number (core/rlimits.ts). */
  resource: number;
  soft: bigint;
  hard: bigint;
}

/**
 * linux.seccomp (OCI runtime-spec config-linux.md): the filter the container's process
 * runs under. Names are kept as written (SCMP_ACT_ERRNO, SCMP_ARCH_X86_64,
 * SCMP_CMP_MASKED_EQ); core/seccomp/profile.ts checks them and turns them into a filter.
 */
export interface SeccompSpec {
  defaultAction: string;
  /** The errno of an SCMP_ACT_ERRNO or SCMP_ACT_TRACE default action; EPERM when absent. */
  defaultErrnoRet?: number;
  /** Architectures besides the native one whose syscalls the filter also judges. */
  architectures: string[];
  /** SECCOMP_FILTER_FLAG_* names; absent: SECCOMP_FILTER_FLAG_SPEC_ALLOW, as runc 1.2 and crun; [] none. */
  flags?: string[];
  /** The unix socket the listener of SCMP_ACT_NOTIFY rules is sent to. */
  listenerPath?: string;
  listenerMetadata?: string;
  syscalls: SeccompSyscallSpec[];
}

export interface SeccompSyscallSpec {
  names: string[];
  action: string;
  /** The errno of an SCMP_ACT_ERRNO or SCMP_ACT_TRACE action; EPERM when absent. */
  errnoRet?: number;
  args: SeccompArgSpec[];
}

export interface SeccompArgSpec {
  /** The syscall's argument, 0 to 5. */
  index: number;
  value: bigint;
  valueTwo: bigint;
  op: string;
}

export interface HookSpec {
  path: string;
  args: string[];
  /** The hook's whole environment; absent, a default that depends on its kind (core/hooks.ts, hookCommand), where `[]` is none. */
  env?: string[];
  timeout?: number;
}

export interface RootfsConfig {
  /** Absolute path of the bundle directory (relative bind sources are relative to it). */
  bundle: string;
  /**
   * The container's id, the `id` of the state hooks and the seccomp agent get (runc's
   * `run <container-id>`): ASCII letters, digits and `_ + , - .`, as runc takes it
   * (core/hooks.ts, containerIdProblem). Set by the CLI (`mountkit run ID`) or an
   * embedder; not part of config.json. Absent, the bundle directory's name.
   */
  id?: string;
  /** Absolute path of the root filesystem on the host. */
  rootfs: string;
  readonlyRootfs: boolean;
  mounts: MountSpec[];
  /** Devices the config asks for; the /dev step adds the defaults every runtime provides. */
  devices: DeviceSpec[];
  /** Propagation of `/` applied before anything (0n: the default, MS_SLAVE|MS_REC). */
  rootPropagation: bigint;
  noPivot: boolean;
  /** Keep the session keyring mountkit was started with rather than join one of the container's own (runc's --no-new-keyring; plugins/exec/keyring.ts). */
  noNewKeyring?: boolean;
  /**
   * Socket activation (sd_listen_fds(3)), as runc run passes it: this many listening
   * descriptors, from 3 on, reach the container's process at the same numbers, and its
   * environment gets LISTEN_FDS=<count> and LISTEN_PID=1 appended (core/passed-fds.ts). Set
   * by the CLI when LISTEN_PID is the pid of the process the user started; absent, none.
   */
  listenFds?: number;
  /**
   * runc's --preserve-fds: this many more descriptors, after the listening ones, reach the
   * container's process at the same numbers. Every other one stays closed, as now. No
   * hook gets any of them. Absent, none.
   */
  preserveFds?: number;
  /**
   * Where this process holds the passed descriptors (listenFds, preserveFds) until the
   * container's execve, which gives them their numbers from 3 on; absent, at those
   * numbers already. Set by the CLI in a process it relaunched, whose own descriptors
   * sit there (core/relaunch.ts relaunchPassedAt); not part of config.json.
   */
  passedFdsAt?: number;
  namespaces: NamespaceSpec[];
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctls: Record<string, string>;
  mountLabel: string;
  process: ProcessSpec;
  /**
   * OCI hooks. prestart, createRuntime and createContainer run at the before-jail point
   * (the first two at the other end of runtimeChannel when there is one), startContainer
   * just before the container's program; poststart and poststop run at the other end of
   * runtimeChannel (`mountkit run`'s first process), and without one are never run (the
   * process mountkit prepares becomes the container's). The last four may be left out
   * of a config built in code.
   */
  hooks: {
    prestart: HookSpec[];
    createRuntime: HookSpec[];
    createContainer?: HookSpec[];
    startContainer?: HookSpec[];
    poststart?: HookSpec[];
    poststop?: HookSpec[];
  };
  hostname: string;
  /** OCI `domainname` (runtime-spec 1.1): the container's NIS domain name, set in its uts namespace; absent or '', none. */
  domainname?: string;
  /** linux.seccomp: the exec plugin loads it last before the program, as runc does; absent, no filter. */
  seccomp?: SeccompSpec;
  /**
   * Whether the container's process leads a session of its own (setsid(2)), as runc's init
   * always makes it: no controlling terminal, and what is sent to its starter's process
   * group reaches it only when passed on. False when the process that becomes the
   * container is the one the user started, which then keeps its process group and only
   * gives up its controlling terminal. Set by the CLI; absent, true. Not with
   * process.terminal: with a console (consoleSocket, hostSockets.console) the container
   * leads the console's session, without one it keeps the terminal it was started on.
   */
  newSession?: boolean;
  /**
   * The runtime runs as a user other than root (runc's RootlessEUID): the container keeps
   * that user's supplementary groups, which setgroups(2) is never called to change, and
   * process.user.additionalGids are refused, as runc refuses them. Set by the CLI (its
   * relaunch is told so by the process that started it); absent, false.
   */
  rootless?: boolean;
  /**
   * A unix socket to send the container's console to (runc's --console-socket): with
   * process.terminal, a new pseudo-terminal is made in the container's devpts, its master
   * sent there and its peer made the process's standard streams and controlling terminal.
   * Absent, with no hostSockets.console either, a container with process.terminal keeps
   * the terminal it was started on (`mountkit run` passes one for its foreground
   * console). Set by the CLI (--console-socket) or an embedder; not part of config.json.
   */
  consoleSocket?: string;
  /**
   * The caller's sd_notify(3) socket (NOTIFY_SOCKET in `mountkit run`'s environment),
   * which the run's first process serves from where it was started, and so always
   * relaunches: the container gets a socket of the run's own (core/notify-socket.ts). Set
   * by the CLI; not part of config.json.
   */
  notifySocket?: string;
  /**
   * Descriptors already connected to the console socket and to the seccomp agent's
   * listenerPath, which the steps take instead of connecting (core/host-sockets.ts). Set
   * by the CLI in a process it relaunched into a user namespace, where the sockets may be
   * out of reach, and in the one bin/mountkit starts beside its console relay; not part of
   * config.json. A console socket here without consoleSocket is a process that copies the
   * console where mountkit was started (`mountkit run`'s foreground console,
   * consoleToStarter): the console is sent there all the same, and that process is told
   * over runtimeChannel, or without one over that socket, and its answer awaited.
   */
  hostSockets?: { console?: number; seccompAgent?: number };
  /**
   * A socket to the process that started this one, in the namespaces mountkit was started
   * in, which runs the runtime's hooks there, as runc runs them (core/runtime-channel.ts):
   * prestart and createRuntime as they are sent (CommandSpec.via), poststart when the
   * exec step tells it the program is next, poststop once this process has ended. Set by
   * the CLI in every process it relaunched, which is in the container's namespaces by the
   * time the hooks run; not part of config.json.
   */
  runtimeChannel?: number;
  /**
   * A descriptor the exec step writes the exec event's line to (`{"event":"exec"}`, one
   * write(2), core/runtime-channel.ts), last before execve(2) of the container's program,
   * after the runtime channel's: the process that started this one and reads it learns
   * that a signal which ends this process from then on ended the container's program,
   * not the preparation of its rootfs (bin/mountkit's pipe, MOUNTKIT_LAUNCHER_FD, in the
   * Node it starts inside the new pid namespace). A refused write fails the run, as one on
   * the runtime channel does. It must not be one of the numbers the passed descriptors
   * take. Set by the CLI; not part of config.json.
   */
  execNotice?: number;
  /**
   * runc's --pid-file, where the process mountkit prepares becomes the container's: the
   * exec step writes the pid there before the container's identity is taken, and removes
   * it when the program then does not start (core/pid-file.ts). Set by the CLI; not part
   * of config.json.
   */
  pidFile?: PidFileSpec;
  /**
   * The process at the other end of runtimeChannel writes a pid file (`mountkit run
   * --pid-file` in a relaunch): the exec step tells it the program is next even without
   * poststart hooks. Set by the CLI; not part of config.json.
   */
  pidFileByStarter?: boolean;
  /**
   * A socket on which the process at the other end of runtimeChannel sends the idmapped
   * copies of bind sources it makes from inside this process's mount namespace, where
   * this process, a user namespace's root, may not map them (core/idmapped-tree.ts): the
   * bind handler asks for each with the "idmap" event. Set by the CLI in a process it
   * relaunched into the container's user namespace (core/relaunch.ts); not part of
   * config.json.
   */
  idmapSocket?: number;
  /** linux.personality: set with personality(2) before the program, as runc 1.2 sets it; absent, mountkit's (PER_LINUX). */
  personality?: PersonalitySpec;
  /** linux.timeOffsets: the clocks' offsets in the container's new time namespace, written before anything enters it. */
  timeOffsets?: Partial<Record<OffsetClock, TimeOffset>>;
  /** The config's annotations: hooks and the seccomp agent get them in the container's state. */
  annotations?: Record<string, string>;
  /**
   * The fields of linux.resources that set a limit, and linux.cgroupsPath when given
   * (`linux.resources.memory`, ...): mountkit makes no cgroup and applies none of them; the
   * loader lists them for `run`'s warning. linux.resources.devices is not among them.
   */
  unappliedResources?: string[];
  /**
   * linux.uidMappings and linux.gidMappings: the maps of the container's new user
   * namespace, written by `mountkit run` from the host into the namespace it makes (as
   * runc's parent writes them); compared with the namespace's own when one is joined by
   * path or already entered.
   */
  uidMappings?: IdMapping[];
  gidMappings?: IdMapping[];
}

/** A mount with the defaults the loader gives what an OCI mount leaves out; `source` defaults to the type. */
export function mountSpec(fields: Partial<MountSpec> & Pick<MountSpec, 'type' | 'destination'>): MountSpec {
  return {
    index: 0,
    source: fields.type,
    flags: 0n,
    clearedFlags: 0n,
    propagationFlags: [],
    data: '',
    extensions: { tmpcopyup: false },
    relabel: '',
    premountCmds: [],
    postmountCmds: [],
    ...fields,
  };
}

export function hasNamespace(config: RootfsConfig, type: NamespaceType): boolean {
  return config.namespaces.some((ns) => ns.type === type);
}

/**
 * Whether mountkit sets up the container's /dev (device nodes, ptmx, links, reopening
 * stdio on its /dev/null): yes unless a bind mount provides /dev whole (runc's needsSetupDev).
 */
export function needsDevSetup(config: RootfsConfig): boolean {
  return !config.mounts.some((m) => m.type === 'bind' && cleanPath(m.destination) === '/dev');
}
