/**
 * Checks of a RootfsConfig that need the host, made before any namespace is entered and
 * anything is mounted: the loader (./oci.ts) checks what the JSON alone shows, this
 * step what the JSON asks of the machine. The host is queried through the syscall
 * port's stat and lstat only, so the checks run on the fake port in tests and change nothing.
 *
 * Every refusal is a ConfigError naming the field and the value.
 */
import os = require('os');
import { MS_PRIVATE, MS_REC, NAME_MAX, NEW_UTS_LEN, NGROUPS_MAX, NO_ID } from '../constants';
import { MAXSYMLINKS } from '../paths';
import { ConfigError, SyscallError } from '../errors';
import { containerIdProblem, defaultContainerId } from '../hooks';
import { TIMENS_OFFSETS } from '../namespaces';
import type { FileKind, FileStat, Syscalls } from '../syscalls/types';
import { hasNamespace, type NamespaceSpec, type NamespaceType, type RootfsConfig } from './model';
import { checkedModel } from './model-check';
import { refuseOverPathMax } from './json';
import { NO_MAPPINGS, idMappingsProblem, mapsContainerId } from '../idmap';
import { seccompProfile } from '../seccomp/profile';
import { NO_SELINUX, selinuxEnabledWithoutMounts } from '../selinux';
import { sysctlNamespace } from './sysctl';
import { sysctlFiles } from './sysctl-key';

/** What the checks may ask the host. */
export type HostQuery = Pick<Syscalls, 'stat' | 'lstat' | 'open' | 'fstatfs' | 'close' | 'readFile'>;

/** The files of the calling process's namespaces (namespaces(7), /proc/[pid]/ns/). */
const OWN_NAMESPACE_FILES: Readonly<Partial<Record<NamespaceType, string>>> = {
  network: '/proc/self/ns/net',
  ipc: '/proc/self/ns/ipc',
  uts: '/proc/self/ns/uts',
  user: '/proc/self/ns/user',
};

export interface ValidateOptions {
  /**
   * The calling process is already in the namespaces the config lists (runPipeline): one
   * joined by path is then its own, which is no sign of the host's, and the sysctls and
   * names are not refused for it (runPipeline checks instead that the process does not
   * share those namespaces with the processes above it), nor a new time namespace on a
   * kernel before 6.2 (validateTimeNamespace). Default false: the checks run
   * before any namespace is entered, as `mountkit run` makes them.
   */
  inNamespaces?: boolean;
  /**
   * The config's own types and ranges are checked already: it is the copy checkedModel
   * returned (runPipeline), or what the OCI loader made of config.json, which checks
   * them as it reads the JSON, with values the CLI checked as it parsed its arguments
   * (`mountkit run` and `plan`). Default false: checkedModel runs first. Checking again
   * costs about 10 us per mount on a cold process.
   */
  modelChecked?: boolean;
}

/**
 * Runs every check, in order; the first problem is thrown. The model's own types and
 * ranges come first (checkedModel; see ValidateOptions.modelChecked): a config built in
 * code has had no loader check them.
 */
export function validateConfig(config: RootfsConfig, host: HostQuery, opts: ValidateOptions = {}): void {
  if (!opts.modelChecked) checkedModel(config);
  validateContainerId(config);
  validateRootfs(config, host);
  validateUserNamespace(config, host, opts);
  validateIdmappedMounts(config);
  validateSysctls(config, host, opts);
  validateUtsNames(config, host, opts);
  if (config.seccomp) seccompProfile(config.seccomp);
  validateSelinuxLabel(config, host);
  validateConsole(config);
  validateTimeNamespace(config, host, undefined, opts);
  validateRootlessGroups(config);
  validateUserIds(config);
  validateNoPivot(config);
}

/**
 * The ids the container's process takes are ones the kernel can give: not (uid_t)-1 or
 * (gid_t)-1, which name no user or group (NO_ID), and no more supplementary groups than
 * setgroups(2) takes (NGROUPS_MAX), counted once each as they are passed. runc passes
 * them on, and its setuid(2), setgid(2) or setgroups(2) fails with EINVAL.
 */
export function validateUserIds(config: Pick<RootfsConfig, 'process'>): void {
  const { uid, gid, additionalGids = [] } = config.process;
  if (uid === NO_ID) throw new ConfigError('process.user.uid', uid, 'is (uid_t)-1, which names no user: setuid(2) refuses it (EINVAL)');
  if (gid === NO_ID) throw new ConfigError('process.user.gid', gid, 'is (gid_t)-1, which names no group: setgid(2) refuses it (EINVAL)');
  const at = additionalGids.indexOf(NO_ID);
  if (at !== -1) throw new ConfigError(`process.user.additionalGids[${at}]`, NO_ID, 'is (gid_t)-1, which names no group: setgroups(2) refuses it (EINVAL)');
  const count = new Set(additionalGids).size;
  if (count > NGROUPS_MAX) throw new ConfigError('process.user.additionalGids', undefined, `holds ${count} groups, more than setgroups(2) takes (NGROUPS_MAX, ${NGROUPS_MAX}: EINVAL)`);
}

/**
 * The container's id is one runc would take (containerIdProblem): an id given
 * (RootfsConfig.id; `mountkit run` checks its argument as it parses it), else the default,
 * the bundle directory's name, which the hooks and the seccomp agent get as the id all
 * the same (a hook may make a path or a name of it). runc itself has no default: its
 * `run` refuses to go without an id.
 */
export function validateContainerId(config: Pick<RootfsConfig, 'id' | 'bundle'>): void {
  if (config.id !== undefined) {
    const problem = containerIdProblem(config.id);
    if (problem) throw new ConfigError('id', config.id, problem);
    return;
  }
  const id = defaultContainerId(config);
  const problem = containerIdProblem(id);
  if (problem) throw new ConfigError('container id', id, `${problem}; it is the bundle directory's name, the id when none is given (mountkit run ID)`);
}

/**
 * noPivot (--no-pivot) with a private root propagation, which runc refuses as unsafe
 * without pivot_root: MS_MOVE leaves the host's tree below the container's root in its
 * namespace, and with private propagation no unmount of the host's reaches that copy,
 * so the container would keep those mounts busy.
 */
export function validateNoPivot(config: Pick<RootfsConfig, 'noPivot' | 'rootPropagation'>): void {
  if (!config.noPivot) return;
  const word = config.rootPropagation === MS_PRIVATE ? 'private' : config.rootPropagation === (MS_PRIVATE | MS_REC) ? 'rprivate' : undefined;
  if (word) throw new ConfigError('linux.rootfsPropagation', word, 'is not safe without pivot_root (--no-pivot), as runc refuses it: the host mounts the container keeps would stay busy');
}

/** A rootless container keeps its user's supplementary groups: additional ones cannot be given, as runc refuses them ("cannot set any additional groups in a rootless container"). */
export function validateRootlessGroups(config: Pick<RootfsConfig, 'rootless' | 'process'>): void {
  const groups = config.process.additionalGids ?? [];
  if (config.rootless && groups.length) throw new ConfigError('process.user.additionalGids', JSON.stringify(groups), 'cannot be given in a rootless container (mountkit runs as a user other than root, whose own supplementary groups it keeps), as runc refuses them');
}

/** The file of the calling process's user namespace, missing when the kernel has none (CONFIG_USER_NS). */
const OWN_USER_NAMESPACE = '/proc/self/ns/user';

/**
 * The container's user namespace and its maps, as runc checks them: the kernel must have
 * user namespaces; maps are for a config with a user namespace, and come in pairs, each
 * one the kernel would take, with the container's root (id 0) mapped in both, the ids
 * mountkit prepares the rootfs as (runc refuses a config without it as well). Whether a
 * new namespace without maps can be had depends on where mountkit runs
 * (userNamespaceProblem); maps given with a namespace joined by path or already entered
 * are compared with its own when there (userNamespaceMapsProblem). One joined by path that
 * is mountkit's own cannot be joined: setns(2) refuses the caller's own user namespace
 * (EINVAL), as runc's fails there too; not inNamespaces (ValidateOptions), where it is
 * expected to be.
 */
export function validateUserNamespace(config: RootfsConfig, host: HostQuery, opts: ValidateOptions = {}): void {
  const user = config.namespaces.find((ns) => ns.type === 'user');
  const { uidMappings: uid, gidMappings: gid } = config;
  if (!user) {
    if (uid || gid) throw new ConfigError(uid ? 'linux.uidMappings' : 'linux.gidMappings', undefined, 'are for a user namespace, and linux.namespaces has none');
    return;
  }
  if (kindOf(host, OWN_USER_NAMESPACE) === undefined) throw new ConfigError('linux.namespaces', 'user', `needs user namespaces in the kernel (no ${OWN_USER_NAMESPACE})`);
  // Without a mount namespace of the container's (and without --no-pivot) the jail is
  // chroot(2), which changes only the root of the process: its root holds CAP_SYS_CHROOT
  // in the user namespace, enough to chroot(2) into a directory and walk `..` out of it
  // to every file of the mount namespace it is in (chroot(2), "This call does not change
  // the current working directory"), with the ids its map gives. runc 1.1.5 fails such a
  // config too (EPERM: its rootfs setup mounts in a mount namespace the user namespace
  // does not own).
  if (!config.noPivot && !hasNamespace(config, 'mount')) {
    throw new ConfigError('linux.namespaces', 'user', 'needs a mount namespace (type "mount") beside it: without one the jail is chroot(2), which root of the user namespace (CAP_SYS_CHROOT) can leave for the files outside the rootfs');
  }
  if (user.path && !opts.inNamespaces && joinsOwnNamespace(host, user)) {
    throw new ConfigError('linux.namespaces', user.path, "is mountkit's own user namespace, which setns(2) cannot join (EINVAL): leave the user namespace out to stay in it");
  }
  if (!uid && !gid) return;
  if (!uid || !gid) throw new ConfigError(uid ? 'linux.gidMappings' : 'linux.uidMappings', undefined, `are required with ${uid ? 'linux.uidMappings' : 'linux.gidMappings'}`);
  for (const [field, maps] of [['linux.uidMappings', uid], ['linux.gidMappings', gid]] as const) {
    const problem = idMappingsProblem(field, maps);
    if (problem) throw new ConfigError(problem.field, undefined, problem.reason);
    if (!mapsContainerId(maps, 0)) throw new ConfigError(field, undefined, "map no containerID 0: the container's root must be mapped");
  }
  // An id the maps leave out cannot be taken: setuid(2), setgid(2) and setgroups(2)
  // answer EINVAL for an id with no mapping. runc's init refuses the uid and gid before
  // trying, and fails at setgroups(2) for an additional gid; all three are refused here.
  const { uid: processUid, gid: processGid, additionalGids = [] } = config.process;
  if (!mapsContainerId(uid, processUid)) throw new ConfigError('process.user.uid', processUid, 'is not mapped by linux.uidMappings');
  if (!mapsContainerId(gid, processGid)) throw new ConfigError('process.user.gid', processGid, 'is not mapped by linux.gidMappings');
  const unmapped = additionalGids.findIndex((g) => !mapsContainerId(gid, g));
  if (unmapped !== -1) throw new ConfigError(`process.user.additionalGids[${unmapped}]`, additionalGids[unmapped], 'is not mapped by linux.gidMappings');
}

/**
 * A run by a user other than root needs a user namespace: without one, every namespace
 * and mount needs privileges such a user does not have (runc: "rootless container
 * requires user namespaces"). `run` checks it; a plan by such a user plans root's run of
 * a config without one (core/plan buildPlan).
 */
export function validateRootlessNamespaces(config: Pick<RootfsConfig, 'rootless' | 'namespaces'>): void {
  if (config.rootless && !config.namespaces.some((ns) => ns.type === 'user')) {
    throw new ConfigError('linux.namespaces', undefined, 'a container run by a user other than root needs a user namespace (type "user"), as runc requires');
  }
}

/** Linux 6.2 (fs/exec.c): execve(2) moves a process into the time namespace it made for its children. */
const TIMENS_ON_EXEC: readonly [number, number] = [6, 2];

/**
 * A time namespace, as runc 1.2 checks it: the kernel must have them, and offsets are for
 * a new one only (a namespace joined by path has its own, fixed once a process entered it).
 * A new one also needs Linux 6.2: mountkit's process makes it with unshare(2), which moves
 * only its children, and execs into the container; only from 6.2 does execve(2) move the
 * process too (`release` is the kernel's, uname(2)). Not inNamespaces (ValidateOptions):
 * that process is in the container's time namespace already, which a child of the one
 * that unshared it (`unshare --time --fork`) is on any kernel that has them.
 */
export function validateTimeNamespace(config: RootfsConfig, host: HostQuery, release = os.release(), opts: ValidateOptions = {}): void {
  const time = config.namespaces.find((ns) => ns.type === 'time');
  if (time && kindOf(host, TIMENS_OFFSETS) === undefined) throw new ConfigError('linux.namespaces', 'time', `needs time namespaces in the kernel (no ${TIMENS_OFFSETS})`);
  if (time && !time.path && !opts.inNamespaces) {
    const [major = 0, minor = 0] = release.split(/[.-]/).map(Number);
    const [needMajor, needMinor] = TIMENS_ON_EXEC;
    if (major < needMajor || (major === needMajor && minor < needMinor)) {
      throw new ConfigError('linux.namespaces', 'time', `a new one needs Linux ${needMajor}.${needMinor} or later, where execve(2) enters it; this kernel is ${release}`);
    }
  }
  if (!config.timeOffsets) return;
  if (!time) throw new ConfigError('linux.timeOffsets', undefined, 'needs a new time namespace in linux.namespaces');
  if (time.path) throw new ConfigError('linux.timeOffsets', undefined, `are for a new time namespace, not one joined by path (${time.path})`);
}

/** A console (RootfsConfig.consoleSocket, or a socket passed for it) is for a container with process.terminal, as runc refuses --console-socket for one without. */
export function validateConsole(config: RootfsConfig): void {
  if (config.process.terminal) return;
  if (config.consoleSocket !== undefined) throw new ConfigError('--console-socket', config.consoleSocket, 'is for a container with process.terminal: true');
  const passed = config.hostSockets?.console;
  if (passed !== undefined) throw new ConfigError('hostSockets.console', String(passed), 'is for a container with process.terminal: true');
}

/**
 * process.selinuxLabel needs SELinux on the host, as runc's validator checks (a label it
 * cannot give is refused, not dropped), asked as go-selinux asks it (core/selinux.ts)
 * without the mount table, which only the run reads: where only the table can tell (a
 * read-only selinuxfs at /sys/fs/selinux, one mounted elsewhere), prepare-root's
 * selinux-state step refuses it before any mount.
 */
export function validateSelinuxLabel(config: RootfsConfig, host: HostQuery): void {
  const label = config.process.selinuxLabel;
  if (label && selinuxEnabledWithoutMounts(host) === false) throw new ConfigError('process.selinuxLabel', label, NO_SELINUX);
}

/**
 * Idmapped binds (OCI runtime-spec 1.2, as runc 1.2 checks them): a bind mount only
 * (mount_setattr(2) maps a detached copy of a mount, which only open_tree(2) of a path
 * gives here), with uid and gid mappings of its own, each a map the kernel would take; in
 * a container with a user namespace a mount without its own is mapped through the
 * container's, as runc maps it. There mount_setattr(2), which idmaps only for a caller
 * with CAP_SYS_ADMIN in the user namespace that owns the filesystem (the initial one for
 * the host's), is made by mountkit's first process from inside the container's mount
 * namespace (core/idmapped-tree.ts, sendIdmappedCopy), as runc 1.2 makes it. Not in a
 * rootless container, where no process of mountkit's has that, as runc refuses them
 * there. Needs nothing of the host.
 */
export function validateIdmappedMounts(config: RootfsConfig): void {
  const userns = config.namespaces.some((ns) => ns.type === 'user');
  for (const m of config.mounts) {
    const idmap = m.idmap;
    if (!idmap) continue;
    const field = `mounts[${m.index}]`;
    if (m.type !== 'bind') throw new ConfigError(`${field}.type`, m.type, 'an idmapped mount (idmap, ridmap, uidMappings, gidMappings) must be a bind mount');
    if (config.rootless) {
      throw new ConfigError(field, m.destination, 'an idmapped mount in a rootless container: mount_setattr(2) idmaps a host filesystem only for a caller with CAP_SYS_ADMIN in the initial user namespace, and runc refuses them too');
    }
    const { uidMappings: uid, gidMappings: gid } = idmap;
    // The container's user namespace maps one without mappings of its own.
    if (!uid && !gid && userns) continue;
    if (!uid && !gid) throw new ConfigError(`${field}.options`, idmap.recursive ? 'ridmap' : 'idmap', NO_MAPPINGS);
    if (!uid || !gid) throw new ConfigError(`${field}.${uid ? 'gidMappings' : 'uidMappings'}`, undefined, `is required with ${field}.${uid ? 'uidMappings' : 'gidMappings'}`);
    const problem = idMappingsProblem(`${field}.uidMappings`, uid) ?? idMappingsProblem(`${field}.gidMappings`, gid);
    if (problem) throw new ConfigError(problem.field, undefined, problem.reason);
  }
}

/** The lookup errors of root.path that its value causes, and what they say of it. */
const ROOT_PATH_ERRORS: Readonly<Record<string, string>> = {
  ENAMETOOLONG: `holds a name longer than its filesystem takes (NAME_MAX, ${NAME_MAX} bytes, on most), which no lookup takes`,
  ELOOP: `passes through more than ${MAXSYMLINKS} symbolic links, or a loop of them`,
};

/**
 * root.path must be an existing directory reached through no symbolic link, as runc's
 * validator has it: a link on the way would be followed again at each later use of the
 * path, so whoever can change it between the checks and the mounts would choose the root.
 * A relative root.path is anchored in the bundle's own path, without links (oci.ts).
 */
export function validateRootfs(config: RootfsConfig, host: HostQuery): void {
  refuseOverPathMax(config.rootfs, 'root.path');
  let kind: FileKind | undefined;
  try {
    kind = kindOf(host, config.rootfs);
  } catch (err) {
    // What the path itself makes the lookup fail with, whoever looks.
    if (!(err instanceof SyscallError) || !(err.code in ROOT_PATH_ERRORS)) throw err;
    throw new ConfigError('root.path', config.rootfs, `${ROOT_PATH_ERRORS[err.code]}: ${err.syscall}: ${err.code}`);
  }
  if (kind === undefined) throw new ConfigError('root.path', config.rootfs, 'does not exist');
  if (kind !== 'dir') throw new ConfigError('root.path', config.rootfs, `is a ${kind}, not a directory`);
  const link = firstLinkOn(host, config.rootfs);
  if (link !== undefined) {
    throw new ConfigError('root.path', config.rootfs, `${link === config.rootfs ? 'is' : `passes through ${link}, which is`} a symbolic link (give the path it leads to)`);
  }
}

/** The first component of the absolute `path` that is a symbolic link, or undefined. */
function firstLinkOn(host: HostQuery, path: string): string | undefined {
  let prefix = '';
  for (const name of path.split('/')) {
    if (name === '') continue;
    prefix += `/${name}`;
    if (host.lstat(prefix).kind === 'symlink') return prefix;
  }
  return undefined;
}

/**
 * linux.sysctl, as runc validates it and more strictly: /proc/sys is only partly
 * namespaced, so a key is accepted only when the value it names is the container's own:
 *  1. the key names a file below /proc/sys (sysctlFiles);
 *  2. a namespace isolates it (sysctlNamespace) and the config lists that namespace;
 *  3. a namespace joined by path is not the one mountkit itself runs in (runc checks this
 *     for the network namespace; here for ipc and uts too, as writing through a joined
 *     host namespace would change the host's value all the same; not inNamespaces,
 *     where the process is in the joined one already);
 *  4. a user.* key is written in a user namespace joined by path as in a new one, as
 *     runc 1.4 and youki write it, and as a net key is written in a joined network
 *     namespace: its limits then bound every process its maker put there (a pod's);
 *     never mountkit's own, which check 3 refuses before the relaunch's setns(2) would
 *     fail on it (EINVAL for the caller's own user namespace, kernel/user_namespace.c
 *     userns_install);
 *  5. kernel.hostname is set by the OCI `hostname` field only, as runc has it (crun
 *     refuses it too). kernel.domainname is taken beside the `domainname` field, as
 *     runc 1.4 takes it: both name the uts namespace's one domain name (the sysctl
 *     file reads and writes the writer's uts namespace, kernel/utsname_sysctl.c), the
 *     field is set first (HostnameStep) and the sysctl after, so the sysctl's value is
 *     the one the container sees (crun takes the two only when they are equal);
 *  6. for a namespace made new, the file exists on the host (a key the kernel does not
 *     have is refused here rather than failing after the mounts): the first of the
 *     key's files the host has, as the write takes the first the container has. A
 *     namespace joined by path may have files the host's /proc/sys does not show
 *     (another network namespace's interfaces, as a CNI plugin makes them): its keys
 *     are left to the write, as runc leaves them.
 */
export function validateSysctls(config: RootfsConfig, host: HostQuery, opts: ValidateOptions = {}): void {
  for (const key of Object.keys(config.sysctls)) {
    const files = sysctlFiles(key);
    const type = sysctlNamespace(key);
    if (type === undefined) {
      throw new ConfigError('linux.sysctl', key, 'is not isolated by any namespace: writing it would change the host');
    }
    const ns = config.namespaces.find((n) => n.type === type);
    if (!ns) throw new ConfigError('linux.sysctl', key, `is isolated by the ${type} namespace, which linux.namespaces does not list`);
    if (!opts.inNamespaces && joinsOwnNamespace(host, ns)) {
      throw new ConfigError('linux.sysctl', key, `is isolated by the ${type} namespace, but linux.namespaces joins mountkit's own (${ns.path})`);
    }
    if (files.includes('/proc/sys/kernel/hostname')) {
      throw new ConfigError('linux.sysctl', key, 'conflicts with the hostname field, which sets it (runc refuses it too)');
    }
    if (ns.path) continue;
    const found = firstExisting(host, files);
    if (!found) throw new ConfigError('linux.sysctl', key, `does not exist: no ${files.map((f) => JSON.stringify(f)).join(' nor ')}`);
    if (found.kind !== 'file') throw new ConfigError('linux.sysctl', key, `${JSON.stringify(found.file)} is a ${found.kind}, not a sysctl file`);
  }
}

/** The first of `files` the host has, and its kind; undefined when it has none. */
function firstExisting(host: HostQuery, files: readonly string[]): { file: string; kind: FileKind } | undefined {
  for (const file of files) {
    const kind = kindOf(host, file);
    if (kind !== undefined) return { file, kind };
  }
  return undefined;
}

/**
 * `hostname` and `domainname` need a uts namespace in the config: without one,
 * sethostname(2) and setdomainname(2) would rename the host, which runc refuses too.
 */
export function requireUtsNamespace(config: Pick<RootfsConfig, 'hostname' | 'domainname' | 'namespaces'>): void {
  if (config.namespaces.some((n) => n.type === 'uts')) return;
  for (const [field, name] of Object.entries({ hostname: config.hostname, domainname: config.domainname })) {
    if (name) throw new ConfigError(field, name, 'needs a uts namespace in linux.namespaces');
  }
}

/**
 * `hostname` and `domainname` are at most NEW_UTS_LEN bytes each (runc finds a longer one
 * out at sethostname(2), in the container's init, after the mounts). They are set in the
 * container's uts namespace; one joined by path that is mountkit's own (joinsOwnNamespace)
 * is the host's, whose names they would change, as a sysctl there would (runc 1.1.5 sets
 * them there all the same). Not inNamespaces (ValidateOptions).
 */
export function validateUtsNames(config: Pick<RootfsConfig, 'hostname' | 'domainname' | 'namespaces'>, host: HostQuery, opts: ValidateOptions = {}): void {
  requireUtsNamespace(config);
  for (const [field, name] of Object.entries({ hostname: config.hostname, domainname: config.domainname })) {
    const bytes = name ? Buffer.byteLength(name) : 0;
    if (bytes > NEW_UTS_LEN) throw new ConfigError(field, name, `is ${bytes} bytes long, more than the ${NEW_UTS_LEN} a uts namespace keeps (set${field}(2) refuses it: EINVAL)`);
  }
  const ns = config.namespaces.find((n) => n.type === 'uts');
  if (!ns || opts.inNamespaces || !joinsOwnNamespace(host, ns)) return;
  const [field, value] = config.hostname ? ['hostname', config.hostname] : ['domainname', config.domainname];
  if (value) throw new ConfigError(field, value, `would rename the host: linux.namespaces joins mountkit's own uts namespace (${ns.path})`);
}

/**
 * Whether `ns` joins, by path, the namespace the calling process is in: both paths lead
 * to the same nsfs inode (device and inode number), as runc's isHostNetNS compares them.
 * A path that cannot be stat'ed is left to the later open(2) for setns(2), which names it.
 */
function joinsOwnNamespace(host: HostQuery, ns: NamespaceSpec): boolean {
  const own = OWN_NAMESPACE_FILES[ns.type];
  if (!ns.path || !own) return false;
  let joined: FileStat;
  try {
    joined = host.stat(ns.path);
  } catch (err) {
    if (err instanceof SyscallError) return false;
    throw err;
  }
  const current = host.stat(own);
  return joined.dev === current.dev && joined.ino === current.ino;
}

/** The kind of file at `path` (links followed), undefined when nothing is there. */
function kindOf(host: HostQuery, path: string): FileKind | undefined {
  try {
    return host.stat(path).kind;
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw err;
  }
}
