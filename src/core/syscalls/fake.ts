/**
 * A recording fake of the syscall port for unit tests: every call is kept in order as a
 * plain object, failures can be injected by op, path, position or count, and an
 * in-memory filesystem model answers the calls with the kernel's errors.
 *
 * Model scope: absolute paths resolve from the model's `/`, relative ones from the
 * current directory chdir or fchdir made (`/` before any); mount, pivot_root and chroot
 * never change what paths resolve to; permissions are stored, never checked (the caller
 * is root). `/proc/self/fd/N` and
 * `/proc/thread-self/fd/N` of a descriptor the fake opened are the magic links proc(5)
 * describes: a lookup through one continues at that descriptor's file, and readlink of
 * one gives the file's path. fstatfs reports the type of the mount made last at the
 * deepest mountpoint over the descriptor's path (a bind reports its source's), and the
 * model's own filesystem as ext4; its flags are those addMountFlags gave the deepest path
 * above the file (through a bind, above its source), else its mount's. The roots of mounts are
 * the model's `/`, the nodes mounts were made on and those addMountpoint named: a remount,
 * a propagation change, a move, mount_setattr, umount2 and pivot_root need one, and
 * rmdir and unlink refuse one (EBUSY). Each mount keeps what the kernel's checks read
 * (./mount-state.ts): its own read-only flag and other flags, its filesystem's superblock,
 * which its binds share, with the superblock's read-only flag, and its propagation. The
 * mounts the model holds from the start are read-write and private, with no flags, but
 * for those an overlay model gives their states (startingMountsBelow).
 */
import { ANONYMOUS_SESSION_KEYRING } from '../keyring';
import { MAXSYMLINKS, isWithin } from '../paths';
import { posix } from 'path';
import { CAPABILITIES } from '../capabilities';
import { SyscallError, errnoNumber, mountDetail } from '../errors';
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_NO_AUTOMOUNT,
  AT_RECURSIVE,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  CGROUP2_SUPER_MAGIC,
  CLONE_NEWNS,
  CLONE_NEWUSER,
  MNT_DETACH,
  MNT_EXPIRE,
  MNT_FORCE,
  UMOUNT_NOFOLLOW,
  CGROUP_SUPER_MAGIC,
  DEVPTS_SUPER_MAGIC,
  EXT4_SUPER_MAGIC,
  F_SEAL_GROW,
  F_ALL_SEALS,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  LITTLE_ENDIAN,
  MFD_ALLOW_SEALING,
  MQUEUE_MAGIC,
  MS_BIND,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_MOVE,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PROPAGATION,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SILENT,
  MS_STRICTATIME,
  NEW_UTS_LEN,
  NSFS_MAGIC,
  O_ACCMODE,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  OPEN_TREE_CLONE,
  O_PATH,
  NAME_MAX,
  O_RDONLY,
  O_TRUNC,
  PIPEFS_MAGIC,
  PROC_SUPER_MAGIC,
  RESOLVE_BENEATH,
  RESOLVE_CACHED,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV,
  S_IFMT,
  S_IFREG,
  SELINUX_MAGIC,
  SOCKFS_MAGIC,
  ST_RDONLY,
  ST_VALID,
  SYSFS_MAGIC,
  TMPFS_MAGIC,
  W_OK,
  __O_TMPFILE,
  makedev,
} from '../constants';
import { fdPath, parseFdPath } from '../in-root';
import { BPF_MAXINSNS, BPF_RET_K, SOCK_FILTER_SIZE, encodeProgram } from '../seccomp/enosys';
import { AUDIT_ARCH_X86_64, SECCOMP_FILTER_FLAG_NEW_LISTENER } from '../seccomp/names';
import { detachedMountName, fsconfigShown } from './fs-context';
import { fdsNamedBy } from './named-fds';
import { changedPropagation, cloneMount, copiedPropagation, isReadOnly, mountFlagsOf, newFilesystemMount, setattrFlags, statfsFlags, type MountState } from './mount-state';
import { kindFromMode } from './stat';
import type { CommandResult, CommandSpec, FileKind, FileStat, FsStat, IdMapping, MountStat, SeccompCompiled, SeccompFilter, SyscallName, Syscalls, Termios } from './types';

/** Arguments of each port method, under the interface's parameter names. */
export interface SyscallArgs {
  mount: { source: string | null; target: string; fstype: string | null; flags: bigint; data: string | null };
  umount2: { target: string; flags: number };
  /** `usernsFd` is present only when the caller passed one. */
  mountSetattr: { dirfd: number; path: string; atFlags: number; attrSet: bigint; attrClr: bigint; propagation: bigint; usernsFd?: number };
  openTree: { dirfd: number; path: string; flags: number };
  openTreeAttr: { dirfd: number; path: string; flags: number; attrSet: bigint; attrClr: bigint; propagation: bigint };
  moveMount: { fromDirfd: number; fromPath: string; toDirfd: number; toPath: string; flags: number };
  fsopen: { fstype: string; flags: number };
  fsconfig: { fd: number; cmd: number; key: string | null; value: string | null; aux: number };
  fsmount: { fd: number; flags: number; attrFlags: bigint };
  userNamespace: { uidMappings: readonly IdMapping[]; gidMappings: readonly IdMapping[] };
  pivotRoot: { newRoot: string; putOld: string };
  mknod: { path: string; mode: number; dev: bigint };
  mknodat: { dirfd: number; path: string; mode: number; dev: bigint };
  fchownat: { dirfd: number; path: string; uid: number; gid: number; flags: number };
  chown: { path: string; uid: number; gid: number };
  lchown: { path: string; uid: number; gid: number };
  chmod: { path: string; mode: number };
  fchmod: { fd: number; mode: number };
  chdir: { path: string };
  fchdir: { fd: number };
  chroot: { path: string };
  umask: { mask: number };
  open: { path: string; flags: number; mode: number };
  openat: { dirfd: number; path: string; flags: number; mode: number };
  openat2: { dirfd: number; path: string; flags: number; mode: number; resolve: bigint };
  close: { fd: number };
  dup3: { oldfd: number; newfd: number; flags: number };
  dupCloexec: { fd: number; lowest: number };
  stat: { path: string };
  lstat: { path: string };
  fstat: { fd: number };
  fstatfs: { fd: number };
  faccessat: { dirfd: number; path: string; mode: number; flags: number };
  fstatMount: { fd: number };
  mkdir: { path: string; mode: number };
  mkdirat: { dirfd: number; path: string; mode: number };
  rmdir: { path: string };
  unlink: { path: string };
  unlinkat: { dirfd: number; path: string; flags: number };
  renameat: { oldDirfd: number; oldPath: string; newDirfd: number; newPath: string };
  symlink: { target: string; linkPath: string };
  symlinkat: { target: string; dirfd: number; linkPath: string };
  readlink: { path: string };
  readlinkat: { dirfd: number; path: string };
  readdir: { path: string };
  readFile: { path: string };
  /** `mode` is present only when the caller passed one. */
  writeFile: { path: string; data: string; mode?: number };
  copyFile: { source: string; dest: string };
  copyFileRange: { fdIn: number; fdOut: number };
  memfdCreate: { name: string; flags: number };
  addSeals: { fd: number; seals: number };
  getSeals: { path: string };
  listxattr: { path: string };
  getxattr: { path: string; name: string };
  lsetxattr: { path: string; name: string; value: string | Uint8Array };
  fsetxattr: { fd: number; name: string; value: string | Uint8Array };
  unshare: { flags: number };
  cloexecFrom: { first: number };
  setCloexec: { fd: number };
  clearCloexec: { fd: number };
  sethostname: { name: string };
  setInterfaceUp: { name: string };
  joinSessionKeyring: { name: string | null; permissions: number };
  setdomainname: { name: string };
  setgroups: { gids: number[] };
  setgid: { gid: number };
  setuid: { uid: number };
  setns: { fd: number; nstype: number };
  getpid: Record<string, never>;
  getrandom: { length: number; flags: number };
  pidfdOpen: { pid: number };
  pidfdSendSignal: { pidfd: number; signal: number };
  setsid: Record<string, never>;
  getsid: Record<string, never>;
  releaseTerminal: { fd: number };
  schedSetattr: { attr: Uint8Array; flags: number };
  ioprioSet: { which: number; who: number; ioprio: number };
  personality: { persona: number };
  ptyUnlock: { fd: number };
  ptyPeer: { fd: number; flags: number };
  setWindowSize: { fd: number; rows: number; cols: number };
  getWindowSize: { fd: number };
  getTermios: { fd: number };
  setTermios: { fd: number; termios: Termios };
  setNonBlocking: { fd: number };
  setBlocking: { fd: number };
  setControllingTerminal: { fd: number };
  sendFdMessage: { socket: number; fd: number; data: string };
  socketPair: Record<string, never>;
  recvFdMessage: { socket: number };
  bindUnixDatagram: { path: string };
  sendUnixDatagram: { path: string; data: string };
  write: { fd: number; data: string };
  exchange: { fd: number; line: string };
  getForegroundGroup: { fd: number };
  getpgrp: Record<string, never>;
  setNoNewPrivs: Record<string, never>;
  setDumpable: { dumpable: boolean };
  setParentDeathSignal: { signal: number };
  setChildSubreaper: Record<string, never>;
  unsetChildSubreaper: Record<string, never>;
  reapChild: { pid: number };
  reapIfEnded: { pid: number };
  setrlimit: { resource: number; soft: bigint; hard: bigint };
  getrlimit: { resource: number };
  capbsetRead: { cap: number };
  capbsetDrop: { cap: number };
  setKeepCaps: { keep: boolean };
  capset: { effective: bigint; permitted: bigint; inheritable: bigint };
  seccompCompile: { filter: SeccompFilter };
  seccompLoad: { program: Uint8Array; flags: number };
  connectUnix: { path: string };
  peerPid: { socket: number };
  startFdSender: { socket: number; data: string };
  sendFd: { sender: number; fd: number };
  ambientClearAll: Record<string, never>;
  ambientRaise: { cap: number };
  prepareExec: Record<string, never>;
  execve: { path: string; argv: string[]; envp: string[] };
  runCommand: { cmd: CommandSpec };
  runCommandAsync: { cmd: CommandSpec };
  sleep: { ms: number };
}

type Flat<T> = { [P in keyof T]: T[P] };

/** One recorded call: `{ op: 'mkdir', path: '/rootfs/dev', mode: 0o755 }`. */
export type SyscallRecord = { [K in SyscallName]: Flat<{ op: K } & SyscallArgs[K]> }[SyscallName];
export type SyscallRecordOf<K extends SyscallName> = Extract<SyscallRecord, { op: K }>;

/**
 * Filesystems whose lookup does not check a name against NAME_MAX, so that a longer one is
 * only not found (ENOENT): procfs (proc_lookup, proc_pid_lookup), sysfs and cgroupfs
 * (kernfs_iop_lookup). mqueue's, simple_lookup, checks it, as tmpfs's does.
 */
const LONG_NAMES_NOT_FOUND: ReadonlySet<number> = new Set([PROC_SUPER_MAGIC, SYSFS_MAGIC, CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC]);

/** Calls that only read state; every other call is an effect (see `effects()`). */
export const QUERY_SYSCALLS: ReadonlySet<SyscallName> = new Set<SyscallName>([
  'stat',
  'lstat',
  'fstat',
  'fstatfs',
  'faccessat',
  'fstatMount',
  'readlink',
  'readlinkat',
  'getSeals',
  'listxattr',
  'getxattr',
  'readdir',
  'readFile',
  'getpid',
  'peerPid',
  'getrandom',
  'getsid',
  'getWindowSize',
  'getTermios',
  'getForegroundGroup',
  'getpgrp',
  'capbsetRead',
  'getrlimit',
  'seccompCompile',
]);

export { DESCRIPTOR_ARGS, type DescriptorArg } from './named-fds';

/**
 * A terminal's modes until setTermios sets others: the kernel's tty_std_termios
 * (drivers/tty/tty_io.c), which a new pseudo-terminal starts with: ICRNL IXON; OPOST
 * ONLCR; B38400 CS8 CREAD HUPCL; ISIG ICANON ECHO ECHOE ECHOK ECHOCTL ECHOKE IEXTEN;
 * INIT_C_CC (intr ^C, quit ^\\, erase ^?, kill ^U, eof ^D, vtime 0, vmin 1, ...).
 */
export const DEFAULT_TERMIOS: Readonly<Termios> = {
  iflag: 0o2400,
  oflag: 0o5,
  cflag: 0o2277,
  lflag: 0o105073,
  line: 0,
  cc: [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0, 0, 0],
};

/** A node of the model filesystem. */
export interface FakeNode {
  kind: FileKind;
  perm: number;
  uid: number;
  gid: number;
  /** Device number of a char/block node, 0n otherwise. */
  rdev: bigint;
  /** Device of the filesystem holding the node. */
  dev: bigint;
  ino: bigint;
  /** Content of a regular file. */
  content: string;
  /**
   * Target of a symlink; the text readlink(2) gives of a magic link modelled as the file
   * it leads to (a namespace's /proc/PID/ns/NAME in the plan port: "user:[INODE]").
   */
  target: string;
  /** Extended attributes: those set with lsetxattr, as given (text or bytes). */
  xattrs: Map<string, string | Uint8Array>;
  /** Entries of a directory. */
  children?: Map<string, FakeNode>;
  /**
   * A /proc magic link (proc(5): /proc/PID/root, cwd, exe, fd/N, ns/NAME): a lookup
   * through it jumps to the file it stands for, and RESOLVE_NO_MAGICLINKS refuses it.
   */
  magic?: boolean;
}

/** A mount made through the fake; `target` is the resolved path (a /proc/thread-self/fd/N target is the descriptor's). */
export interface MountEntry {
  source: string | null;
  target: string;
  fstype: string | null;
  flags: bigint;
  data: string | null;
}

export interface FailOptions {
  /** Fail from the nth matching call on (1-based), counting calls made after failOn(). */
  nth?: number;
  /**
   * Match only calls whose primary path is this path or matches this pattern: `path` for
   * most calls, target for mount/umount2, linkPath for symlink, newRoot for pivotRoot,
   * cmd.path for runCommand, the opened path for fd calls.
   */
  path?: string | RegExp;
  /** How many matching calls fail; default 1, Infinity for all. */
  times?: number;
}

/** Thrown by the fake's execve, which never returns: the test sees what would have run. */
export class ExecveCalled extends Error {
  constructor(
    readonly path: string,
    readonly argv: readonly string[],
    readonly envp: readonly string[],
  ) {
    super(`execve ${JSON.stringify(path)} ${JSON.stringify(argv)}`);
    this.name = 'ExecveCalled';
  }
}

/** The session id getsid answers for a process that does not lead its session: its starter's. */
export const STARTER_SESSION = 4000;

/** What readlink(2) of a pidfd's /proc/self/fd link answers (checked on Linux 6.18 in test/integration/linux-syscalls.test.ts). */
const PIDFD_NAME = 'anon_inode:[pidfd]';

/** What readlink(2) of an fsopen(2) descriptor's /proc/self/fd link answers (checked on Linux 6.18 in test/integration/tmpcopyup-detached.test.ts). */
const FSCONTEXT_NAME = 'anon_inode:[fscontext]';

/** The attributes mount_setattr(2) and open_tree_attr(2) know (MOUNT_SETATTR_VALID_FLAGS, fs/namespace.c). */
const SETATTR_VALID = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_IDMAP | MOUNT_ATTR_NOSYMFOLLOW;
/** The values of the MOUNT_ATTR__ATIME field. */
const ATIME_MODES: ReadonlySet<bigint> = new Set([MOUNT_ATTR_RELATIME, MOUNT_ATTR_NOATIME, MOUNT_ATTR_STRICTATIME]);
/** The attributes fsmount(2) takes (FSMOUNT_VALID_FLAGS, fs/namespace.c; MOUNT_ATTR_NOSYMFOLLOW since Linux 5.14). */
const FSMOUNT_ATTRS = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME | MOUNT_ATTR_NOSYMFOLLOW;

/** A new mount's MOUNT_ATTR_* bits as the mount(2) flags that give them, for its entry in `mounts`. */
const ATTR_MOUNT_FLAGS: readonly (readonly [bigint, bigint])[] = [
  [MOUNT_ATTR_RDONLY, MS_RDONLY],
  [MOUNT_ATTR_NOSUID, MS_NOSUID],
  [MOUNT_ATTR_NODEV, MS_NODEV],
  [MOUNT_ATTR_NOEXEC, MS_NOEXEC],
  [MOUNT_ATTR_NODIRATIME, MS_NODIRATIME],
  [MOUNT_ATTR_NOSYMFOLLOW, MS_NOSYMFOLLOW],
];

/** fsconfig(2) copies a key and a string value of at most 255 bytes (strndup_user(..., 256), fs/fsopen.c), EINVAL beyond. */
const FSCONFIG_STRING_MAX = 255;

/** The flags O_PATH keeps (O_PATH_FLAGS, fs/open.c). */
const O_PATH_FLAGS = O_DIRECTORY | O_NOFOLLOW | O_PATH | O_CLOEXEC;

/** The resolve bits openat2(2) knows (VALID_RESOLVE_FLAGS, fs/open.c). */
const RESOLVE_FLAGS = RESOLVE_NO_XDEV | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS | RESOLVE_BENEATH | RESOLVE_IN_ROOT | RESOLVE_CACHED;

/** Some x86_64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl), for seccompCompile. */
const FAKE_SYSCALL_NUMBERS: readonly [string, number][] = [
  ['read', 0],
  ['write', 1],
  ['open', 2],
  ['close', 3],
  ['getpid', 39],
  ['clone', 56],
  ['execve', 59],
  ['mkdir', 83],
  ['chmod', 90],
  ['personality', 135],
  ['mount', 165],
  ['mkdirat', 258],
  ['clone3', 435],
  ['openat2', 437],
];

/** fstatfs(2) f_type of the filesystem types the fake mounts; any other type reports 0. */
const FS_MAGIC: Readonly<Record<string, number>> = {
  proc: PROC_SUPER_MAGIC,
  sysfs: SYSFS_MAGIC,
  tmpfs: TMPFS_MAGIC,
  devpts: DEVPTS_SUPER_MAGIC,
  mqueue: MQUEUE_MAGIC,
  cgroup: CGROUP_SUPER_MAGIC,
  cgroup2: CGROUP2_SUPER_MAGIC,
  pipefs: PIPEFS_MAGIC,
  sockfs: SOCKFS_MAGIC,
  nsfs: NSFS_MAGIC,
  selinuxfs: SELINUX_MAGIC,
};

interface Step {
  name: string;
  node: FakeNode;
}

/** What a lookup found that exists: its resolved path, its node and the chain of steps down to it. */
interface Place {
  path: string;
  node: FakeNode;
  chain: Step[];
}

/** A resolved path: the chain of directories down to the parent, the last name, its node if it exists. */
interface Found {
  parent: Step[];
  name: string;
  node: FakeNode | undefined;
  /** The path ended with a slash: only a directory is there, or made there. */
  dirOnly?: boolean;
}

interface FailRule {
  op: SyscallName;
  errno: number;
  nth: number;
  path: string | RegExp | undefined;
  times: number;
  seen: number;
  fired: number;
}

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/** A command as the fake records it: its own copies of the lists, an absent env left absent. */
function copyCommand(cmd: CommandSpec): CommandSpec {
  return { ...cmd, args: [...cmd.args], ...(cmd.env === undefined ? {} : { env: [...cmd.env] }) };
}

/**
 * The name a failure of `op` carries, as LinuxSyscalls names it: the kernel's name where
 * the port method has another one, so an error text in a unit test is the real one.
 */
const KERNEL_NAMES: Readonly<Record<string, string>> = {
  pivotRoot: 'pivot_root',
  mountSetattr: 'mount_setattr',
  openTree: 'open_tree',
  openTreeAttr: 'open_tree_attr',
  moveMount: 'move_mount',
  fstatMount: 'statx',
  userNamespace: 'unshare',
  pidfdOpen: 'pidfd_open',
  pidfdSendSignal: 'pidfd_send_signal',
  cloexecFrom: 'close_range',
  setCloexec: 'fcntl',
  clearCloexec: 'fcntl',
  dupCloexec: 'fcntl',
  setNoNewPrivs: 'prctl',
  setDumpable: 'prctl',
  setParentDeathSignal: 'prctl',
  setChildSubreaper: 'prctl',
  unsetChildSubreaper: 'prctl',
  reapChild: 'waitid',
  reapIfEnded: 'waitid',
  setInterfaceUp: 'ioctl',
  joinSessionKeyring: 'keyctl',
  releaseTerminal: 'ioctl',
  ioprioSet: 'ioprio_set',
  schedSetattr: 'sched_setattr',
  ptyUnlock: 'ioctl',
  ptyPeer: 'ioctl',
  setWindowSize: 'ioctl',
  getWindowSize: 'ioctl',
  getForegroundGroup: 'ioctl',
  exchange: 'read',
  getTermios: 'ioctl',
  setTermios: 'ioctl',
  setNonBlocking: 'fcntl',
  setBlocking: 'fcntl',
  socketPair: 'socketpair',
  recvFdMessage: 'recvmsg',
  bindUnixDatagram: 'bind',
  sendUnixDatagram: 'sendto',
  setControllingTerminal: 'ioctl',
  sendFdMessage: 'sendmsg',
  setrlimit: 'prlimit',
  getrlimit: 'prlimit',
  capbsetRead: 'prctl',
  capbsetDrop: 'prctl',
  setKeepCaps: 'prctl',
  ambientClearAll: 'prctl',
  ambientRaise: 'prctl',
  copyFile: 'copy_file_range',
  copyFileRange: 'copy_file_range',
  memfdCreate: 'memfd_create',
  addSeals: 'fcntl',
  getSeals: 'fcntl',
  seccompCompile: 'seccomp_export_bpf',
  seccompLoad: 'seccomp',
  connectUnix: 'connect',
  peerPid: 'getsockopt',
  startFdSender: 'sendmsg',
  sendFd: 'sendmsg',
};

export function errorName(op: string): string {
  return KERNEL_NAMES[op] ?? op;
}

/** What an error of the real port adds to a call's name, paths and errno: mount(2)'s type and data (mountDetail). */
function errorDetail(rec: SyscallRecord): string | undefined {
  return rec.op === 'mount' ? mountDetail(rec.source, rec.fstype, rec.flags, rec.data) : undefined;
}

/** What a descriptor holds: the path its magic link names, the directories to its file, and whether it is an O_PATH one. */
interface FdEntry {
  path: string;
  chain: Step[];
  pathOnly?: boolean;
  /** The mount a regular file open for writing holds write access to (mnt_get_write_access() in do_dentry_open(), fs/open.c). */
  writing?: MountState;
  /** Open with O_WRONLY or O_RDWR, whatever the file (FMODE_WRITE). */
  forWriting?: boolean;
}

/** A mount below a copied one that a recursive copy takes along (copy_tree(), fs/namespace.c): where it is below it, its entry and state. */
interface Submount {
  below: string;
  entry: Omit<MountEntry, 'target'>;
  state: MountState;
  bindSource?: string;
  /** The root of the filesystem of a mount fsmount made (newMountRoot). */
  root?: FakeNode;
}

/** A mount the model held from the start (startingMountsBelow): its mountpoint, what its entry would be, its state. */
export interface StartingMount {
  target: string;
  entry: Omit<MountEntry, 'target'>;
  state: MountState;
}

/** A detached copy open_tree(OPEN_TREE_CLONE) made: the path copied, whether a directory, its state, and with AT_RECURSIVE the mounts below it. */
interface DetachedTree {
  source: string;
  dir: boolean;
  recursive: boolean;
  state: MountState;
  submounts: Submount[];
}

/** A mount fsmount made, not attached yet: the entry it becomes, the root of its filesystem, its state. */
interface NewMount {
  entry: Omit<MountEntry, 'target'>;
  root: FakeNode;
  state: MountState;
}

/** A descriptor's entry for a file outside every directory (a namespace, a socket, a pipe), named `path` by its magic link. */
function detached(path: string, node: FakeNode): { path: string; chain: Step[] } {
  return { path, chain: [{ name: path, node }] };
}

/** `path` without `.`, doubled or trailing slashes, for comparing paths as written. */
function tidy(path: string): string {
  const p = posix.normalize(path);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** The first descriptor the fake hands out: open, openat and the others return 100, 101, and so on. */
const FIRST_FAKE_FD = 100;

/** The flags getrandom(2) knows (include/uapi/linux/random.h): GRND_NONBLOCK, GRND_RANDOM, GRND_INSECURE (Linux 5.6). */
const GRND_FLAGS = 0x7;

/** `length` bytes holding `n` big-endian, the bytes before it zero. */
export function countingBytes(length: number, n: number): Uint8Array {
  const bytes = new Uint8Array(length);
  for (let i = length - 1, rest = n; i >= 0 && rest > 0; i--, rest = Math.floor(rest / 256)) bytes[i] = rest % 256;
  return bytes;
}

function toErrno(errno: string | number): number {
  return typeof errno === 'number' ? errno : errnoNumber(errno);
}

/**
 * The ports FakeSyscalls' constructor made, its subclasses' included (DryRunSyscalls,
 * PlanSyscalls): mountkit's models, which perform nothing. Kept by identity, so that a
 * Proxy of one, which instanceof takes for it, is not one (isModelPort).
 */
const MODEL_PORTS = new WeakSet<object>();

/** Whether `port` is one of mountkit's models (MODEL_PORTS): not a Proxy of one, nor an object of its prototype made otherwise. */
export function isModelPort(port: unknown): boolean {
  return typeof port === 'object' && port !== null && MODEL_PORTS.has(port);
}

export class FakeSyscalls implements Syscalls {
  constructor() {
    MODEL_PORTS.add(this);
  }

  /** Every call, in order. */
  readonly calls: SyscallRecord[] = [];
  /** Mounts made (not remounts or propagation changes), oldest first. */
  readonly mounts: MountEntry[] = [];
  /** What getpid returns: 1, the container's pid in a new pid namespace, unless set. */
  pid = 1;
  /**
   * What getrandom answers its `nth` call (from 1) for `length` bytes: by default `nth`
   * as a big-endian number filling them, so every call gives other bytes and every run
   * of the same calls the same ones (`00...01`, then `00...02`).
   */
  randomBytes: (length: number, nth: number) => Uint8Array = countingBytes;
  /** The process's resource limits by resource, as setrlimit left them; 1024 soft and 4096 hard where none was set. */
  readonly limits = new Map<number, { soft: bigint; hard: bigint }>();
  /** The kernel's last capability: capbsetRead answers EINVAL past it. */
  lastCap = CAPABILITIES.size - 1;
  /** The bounding set capbsetRead answers from; capbsetDrop takes capabilities out of it. */
  readonly bounding = new Set<number>(CAPABILITIES.values());
  /**
   * The syscall numbers seccompCompile knows on its native architecture (x86_64's): a rule
   * for another name is left out and listed as unknown, as libseccomp's answer makes it.
   */
  readonly seccompNumbers = new Map<string, number>(FAKE_SYSCALL_NUMBERS);
  /** The filters seccompLoad loaded, oldest first. */
  readonly seccompFilters: { program: Uint8Array; flags: number }[] = [];
  /** Whether setNoNewPrivs was called: seccompLoad needs it or CAP_SYS_ADMIN. */
  noNewPrivs = false;
  /**
   * The process's session: its id (getsid), whether the process leads its process group
   * (setsid then fails with EPERM) and whether it has a controlling terminal (without
   * one, opening /dev/tty fails with ENXIO). By default a child of another process's
   * session with a terminal, as a process an interactive shell started.
   */
  session = { sid: STARTER_SESSION, groupLeader: false, terminal: true };
  /** The effective capabilities capset left; undefined before any capset (all of root's). */
  effective: bigint | undefined;
  /**
   * Whether a change below a read-only mount fails with EROFS, as the kernel refuses it
   * (mnt_want_write(), fs/namespace.c). Off unless set: this model's mounts hide nothing
   * (a new filesystem shows the old entries of the directory it is mounted on), so a
   * read-only mount of a filesystem whose own content holds what a step looks for (a
   * sysfs and its fs/cgroup) would refuse a mkdir that only the model needs. The plan
   * port, whose mounts show their own trees, sets it; the read-only state of each mount
   * is kept either way. With it set, making a mount read-only while a regular file is
   * open for writing through it is EBUSY, as the kernel refuses it (mnt_hold_writers()).
   */
  refuseReadOnlyWrites = false;
  /**
   * Whether a tmpfs mount(2) makes shows a tree of its own, empty, as the kernel's does
   * (tmpfs(5)): a lookup made after the mount meets its root, while a descriptor opened
   * before keeps the directory under it, and umount2 shows that again. Off unless set:
   * this model's mounts hide nothing (see refuseReadOnlyWrites), and a test gives a mount
   * its content by adding it under the mountpoint. tmpcopyup, where the new mount API is
   * refused, fills the tmpfs it mounts on the destination with what that directory held,
   * which needs it.
   */
  tmpfsShowsOwnTree = false;
  /** What runCommand returns. */
  commandResult: CommandResult | ((cmd: CommandSpec) => CommandResult) = { status: 0, signal: null, output: '' };

  /** getrandom calls answered so far. */
  private randomCalls = 0;
  private nextIno = 1n;
  protected root: FakeNode = this.newNode('dir', 0o755);
  private mask = 0o022;
  /** The current directory chdir or fchdir made, as the chain of directories down to it; undefined: the model's `/`, or unknown (workDirLost). */
  private workDir: Step[] | undefined;
  /** Whether a chdir to what the model does not hold as a directory left the current directory unknown: relative paths start at `/` then. */
  private workDirLost = false;
  private nextFd = FIRST_FAKE_FD;
  private readonly fds = new Map<number, FdEntry>();
  /** Every descriptor's path when it was opened. */
  private readonly fdPaths = new Map<number, string>();
  /** The detached copies open_tree(OPEN_TREE_CLONE) made, by descriptor. */
  private readonly trees = new Map<number, DetachedTree>();
  /** The seals of each file memfdCreate made (F_SEAL_*); a tmpfs file's F_SEAL_SEAL, which it has from its making and which lets none be added, is heldSeals'. */
  private readonly seals = new Map<FakeNode, number>();
  /** The filesystem contexts fsopen made, by descriptor: the parameters fsconfig gave and how far the context got. */
  private readonly contexts = new Map<number, { fstype: string; source: string | null; params: string[]; created: boolean; mounted: boolean }>();
  /** The mounts fsmount made that move_mount has not attached, by descriptor: the entry each becomes, its root and state. */
  private readonly newMounts = new Map<number, NewMount>();
  /** What each mount newFilesystemRoot gave a root of its own covers: the directory under it, by its name in its parent. */
  private readonly coveredBy = new WeakMap<MountEntry, { parent: FakeNode; name: string; root: FakeNode; under: FakeNode }>();
  /** The root of the filesystem of each mount fsmount made, by the entry move_mount attached it as. */
  protected readonly newMountRoots = new WeakMap<MountEntry, FakeNode>();
  /** Each mount's id (fstatMount), given when it is made; the model's own filesystem is mount 1. */
  private readonly mountIds = new WeakMap<MountEntry, bigint>();
  private nextMountId = 2n;
  /** The mount each descriptor was opened on (fstatMount): the one on top at its path then, as a descriptor keeps showing what it was opened on. */
  private readonly fdMounts = new Map<number, { id: bigint; root: boolean }>();
  /** The resolved source of each bind mount, for fstatfs. */
  private readonly bindSources = new WeakMap<MountEntry, string>();
  /** The standard streams (0, 1, 2) closed and not made again by a dup3 onto them. */
  private readonly closedStreams = new Set<number>();
  /** The root directories (or files) of the mounts in the model: isMountRoot. */
  protected readonly mountRoots = new WeakSet<FakeNode>();
  /**
   * The mounts whose root each node is, oldest first: the last is the one a walk meets
   * there, the others are those it covers. What is below a mount's root, up to the next
   * mount's, is on that mount: read-only by its own flag or its superblock's, which
   * refuse a change with EROFS (mnt_want_write(), fs/namespace.c). The model's `/` and the
   * roots addMountpoint named start with one of their own, read-write and private.
   */
  private readonly mountStacks = new WeakMap<FakeNode, MountState[]>();
  /** The state of each mount made, the same object as in its root's stack. */
  private readonly entryStates = new WeakMap<MountEntry, MountState>();
  /** The new root of the last pivot_root(2), as the fake resolved it: its mount is no longer below the old root's. */
  private pivotedRoot: string | undefined;
  /** statfs f_flags by path, from addMountFlags. */
  private readonly mountFlags = new Map<string, bigint>();
  /** Where the open descriptors each call named were open when it was made (pathAtCall). */
  private readonly namedFds = new WeakMap<SyscallRecord, Map<number, string>>();
  private readonly rules: FailRule[] = [];
  private readonly failPositions = new Map<number, number>();
  private effectCount = 0;

  // ---- inspection and failure injection ----

  /** The calls that change state: all but stat, lstat, fstat, readlink, readdir, readFile. */
  effects(): SyscallRecord[] {
    return this.calls.filter((c) => !QUERY_SYSCALLS.has(c.op));
  }

  callsOf<K extends SyscallName>(op: K): SyscallRecordOf<K>[] {
    return this.calls.filter((c): c is SyscallRecordOf<K> => c.op === op);
  }

  /** Forgets the recorded calls; `failAt` positions count from here on. */
  clearCalls(): this {
    this.calls.length = 0;
    this.effectCount = 0;
    return this;
  }

  /** Makes matching calls of `op` throw SyscallError(op, errno) after they are recorded. */
  failOn(op: SyscallName, errno: string | number, opts: FailOptions = {}): this {
    const { nth = 1, path, times = 1 } = opts;
    this.rules.push({ op, errno: toErrno(errno), nth, path, times, seen: 0, fired: 0 });
    return this;
  }

  /** Makes the effect call at `index` (0-based position in `effects()`) throw SyscallError. */
  failAt(index: number, errno: string | number): this {
    this.failPositions.set(index, toErrno(errno));
    return this;
  }

  // ---- model builders (not recorded) ----

  addDir(path: string, perm = 0o755): this {
    this.ensureDir(path).perm = perm;
    return this;
  }

  addFile(path: string, content = '', perm = 0o644): this {
    this.place(path, 'file', perm).content = content;
    return this;
  }

  addSymlink(path: string, target: string): this {
    this.place(path, 'symlink', 0o777).target = target;
    return this;
  }

  /**
   * A /proc magic link at `path` (its /proc/PID/root, say), leading to `target` as a
   * symlink would, which openat2's RESOLVE_NO_MAGICLINKS refuses; a `target` that is a
   * descriptor's /proc/thread-self/fd/N leads to that descriptor's file (/proc/PID/exe of
   * a process run from a memfd).
   */
  addMagicLink(path: string, target: string): this {
    const node = this.place(path, 'symlink', 0o777);
    node.target = target;
    node.magic = true;
    return this;
  }

  addDevice(path: string, type: 'char' | 'block', major: number, minor: number, perm = 0o666): this {
    this.place(path, type, perm).rdev = makedev(major, minor);
    return this;
  }

  /**
   * A devpts mounted at `dir` with its ptmx, character device 5:2 and inode 2 of that
   * devpts (fs/devpts/inode.c), as the kernel makes it: what a console is opened from.
   */
  addDevpts(dir: string): this {
    this.ensureDir(dir);
    const ptmx = this.place(`${tidy(dir)}/ptmx`, 'char', 0o666);
    ptmx.rdev = makedev(5, 2);
    ptmx.ino = 2n;
    this.addMount({ source: 'devpts', target: tidy(dir), fstype: 'devpts', flags: 0n, data: null });
    this.mountRoots.add(this.ensureDir(dir));
    return this;
  }

  /**
   * A mount the process's mount namespace holds from the start at `path` (the host's
   * /proc, say), not in `mounts`: the root of a mount, which a remount, a propagation
   * change, an MS_MOVE or mount_setattr needs (EINVAL elsewhere, as the kernel answers).
   */
  addMountpoint(path: string): this {
    const node = this.node(path, true);
    if (!node) throw new Error(`FakeSyscalls: ${posix.resolve('/', path)} does not exist`);
    this.mountRoots.add(node);
    return this;
  }

  /**
   * A procfs mounted at `dir` (default /proc) as the process `pid` reads it: its `self`
   * link to `PID`, its `thread-self` link to `PID/task/PID` (the process's leading thread)
   * and that thread's `fd` directory, through which mountkit reaches its descriptors after
   * the jail (requireContainerProc); the root is inode 1, as every procfs's.
   */
  addProcfs(dir = '/proc', pid = this.pid): this {
    const root = tidy(dir);
    this.ensureDir(`${root}/${pid}/task/${pid}/fd`);
    this.addSymlink(`${root}/self`, `${pid}`).addSymlink(`${root}/thread-self`, `${pid}/task/${pid}`);
    this.addMount({ source: 'proc', target: root, fstype: 'proc', flags: 0n, data: null });
    return this;
  }

  /**
   * A selinuxfs mounted at `dir` (default /sys/fs/selinux), as on a host that runs SELinux,
   * with its `enforce` file; `readOnly`, mounted read-only (ST_RDONLY), as podman gives the
   * host's to a nested container.
   */
  addSelinuxfs(dir = '/sys/fs/selinux', readOnly = false): this {
    const root = tidy(dir);
    this.addFile(`${root}/enforce`, '1');
    this.addMount({ source: 'selinuxfs', target: root, fstype: 'selinuxfs', flags: readOnly ? MS_RDONLY : 0n, data: null });
    this.mountRoots.add(this.ensureDir(root));
    if (readOnly) this.addMountFlags(root, ST_VALID | ST_RDONLY);
    return this;
  }

  /** The statfs f_flags (ST_* bits) fstatfs reports for files at and below `path`: a mount's flags. */
  addMountFlags(path: string, stFlags: bigint): this {
    this.mountFlags.set(tidy(path), stFlags);
    return this;
  }

  /**
   * The path a descriptor the fake handed out was resolved to when it was opened, closed
   * since or not (the fake never reuses a number); undefined for one it never gave. Not recorded.
   */
  pathOf(fd: number): string | undefined {
    return this.fdPaths.get(fd);
  }

  /**
   * The path descriptor `fd` was open at when `call`, one of this fake's recorded calls,
   * was made, for a descriptor the call names (a descriptor argument, DESCRIPTOR_ARGS; a
   * /proc/self/fd/N or /proc/thread-self/fd/N path, also one in mount data or an fsconfig
   * value; a command's `via`: named-fds.ts); undefined when it was not open
   * then. Unlike pathOf, a number closed and given again later does not change the answer.
   */
  pathAtCall(fd: number, call: SyscallRecord): string | undefined {
    return this.namedFds.get(call)?.get(fd);
  }

  /** The descriptors the fake handed out that are still open, in order; not recorded. */
  openFds(): number[] {
    return [...this.fds.keys()].sort((a, b) => a - b);
  }

  /**
   * Descriptor `fd`, held by a detached mount attached since at its path, made to hold
   * what a lookup of that path reaches now, as the kernel's file holds the mount itself: a
   * port that puts a tree of its own at the place after moveMount (the plan's) calls it.
   * Not recorded.
   */
  protected holdAttached(fd: number): void {
    const held = this.fds.get(fd);
    if (!held) return;
    const found = this.walk({ op: 'lstat', path: held.path }, held.path, true);
    this.fds.set(fd, { ...held, chain: this.chainOf(found) });
  }

  /** The model node at `path` (symlinks followed if `follow`), undefined if missing; not recorded. */
  node(path: string, follow = false): FakeNode | undefined {
    try {
      return this.walk({ op: 'lstat', path }, path, follow).node;
    } catch (err) {
      if (err instanceof SyscallError) return undefined;
      throw err;
    }
  }

  // ---- the port ----

  mount(source: string | null, target: string, fstype: string | null, flags: bigint, data: string | null): void {
    const rec = this.record('mount', { source, target, fstype, flags, data });
    const to = this.placeOf(rec, this.walk(rec, target, true));
    // path_mount() (fs/namespace.c) tries, in order: remount, bind, propagation change, move, new mount.
    // do_remount() and do_reconfigure_mnt(): EINVAL unless the target is the root of a mount.
    if ((flags & MS_REMOUNT) !== 0n) {
      if (!this.isMountRoot(to.node)) throw this.fail(rec, 'EINVAL');
      this.remount(rec, this.mountStateAt(to.node), flags);
      return;
    }
    if ((flags & MS_BIND) === 0n && (flags & MS_PROPAGATION) !== 0n) {
      this.changeType(rec, to, flags);
      return;
    }
    // do_loopback() and do_move_mount_old(): EINVAL without a source.
    if ((flags & (MS_BIND | MS_MOVE)) !== 0n && !source) throw this.fail(rec, 'EINVAL');
    const from = source && (flags & (MS_BIND | MS_MOVE)) !== 0n ? this.placeOf(rec, this.walk(rec, source, true)) : undefined;
    if (from && (flags & MS_BIND) === 0n) {
      this.moveAttached(rec, from, to);
      return;
    }
    // The mount the source is on before this mount is made: a directory bound onto itself
    // below a read-only mount is read-only. An unbindable one is not copied (EINVAL,
    // __do_loopback(), checked on Linux 6.18), before the kinds are compared.
    const sourceMount = from && this.mountOver(from.chain).state;
    if (sourceMount?.propagation.unbindable) throw this.fail(rec, 'EINVAL');
    // graft_tree(): a directory goes onto a directory and anything else onto a non-directory
    // only, ENOTDIR otherwise; a new filesystem's root is a directory.
    if ((to.node.kind === 'dir') !== (from === undefined || from.node.kind === 'dir')) throw this.fail(rec, 'ENOTDIR');
    // A bind copies its source mount's flags, read-only among them, and ignores MS_RDONLY
    // (clone_mnt(), fs/namespace.c; mount(2)); a new filesystem is read-only with it, both
    // its superblock and the mount, and has the other flags given. MS_REC takes the mounts
    // below the source along.
    const state = sourceMount ? cloneMount(sourceMount) : newFilesystemMount((flags & MS_RDONLY) !== 0n, undefined, mountFlagsOf(flags));
    const entry = { source, target: to.path, fstype, flags, data };
    if (from) this.bindSources.set(entry, from.path);
    const fresh = from ? undefined : this.newFilesystemRoot(fstype, data);
    this.attachTree(fresh ? this.cover(to, entry, fresh) : to, entry, state, from && sourceMount && (flags & MS_REC) !== 0n ? this.submountsOf(from.path, sourceMount) : []);
  }

  /**
   * The root directory of a new filesystem of type `fstype` mounted with `data`, where the
   * model shows that filesystem's own tree rather than the directory it is mounted on:
   * with tmpfsShowsOwnTree, a tmpfs, empty (tmpfs(5)), of the `mode=` (1777 without one),
   * `uid=` and `gid=` the data gives. Undefined for every other mount, which shows what the
   * directory under it holds.
   */
  protected newFilesystemRoot(fstype: string | null, data: string | null): FakeNode | undefined {
    if (fstype !== 'tmpfs' || !this.tmpfsShowsOwnTree) return undefined;
    const option = (key: string) => (data ?? '').split(',').map((p) => new RegExp(`^${key}=([0-9]+)$`).exec(p)?.[1]).find((v) => v !== undefined);
    const mode = option('mode');
    const root = this.newNode('dir', mode !== undefined ? parseInt(mode, 8) : 0o1777);
    root.uid = Number(option('uid') ?? 0);
    root.gid = Number(option('gid') ?? 0);
    return root;
  }

  /**
   * `root` put at the place `to` as the root of the mount `entry`, hiding what is there: a
   * lookup by the name meets it, while a descriptor opened before keeps what it held
   * (umount2 shows that again). A mount on the model's `/` covers nothing.
   */
  private cover(to: Place, entry: MountEntry, root: FakeNode): Place {
    if (to.chain.length < 2) return to;
    const parent = this.last(to.chain.slice(0, -1));
    const name = to.chain[to.chain.length - 1].name;
    this.entries(parent).set(name, root);
    this.coveredBy.set(entry, { parent, name, root, under: to.node });
    return { path: to.path, node: root, chain: [...to.chain.slice(0, -1), { name, node: root }] };
  }

  /** The mount made last at the resolved path `path`, if one was made there. */
  private topMountAt(path: string): MountEntry | undefined {
    for (let i = this.mounts.length - 1; i >= 0; i--) if (this.mounts[i].target === path) return this.mounts[i];
    return undefined;
  }

  /** What a lookup found that exists: its resolved path, node and the chain of steps to it. */
  private placeOf(rec: SyscallRecord, found: Found): Place {
    return { path: this.pathFound(rec, found), node: found.node!, chain: this.chainOf(found) };
  }

  /** place() of what an *at call names: `path` from `dirfd`, or with `empty` and an empty path, the descriptor's own file. */
  private placeAt(rec: SyscallRecord, dirfd: number, path: string, empty: boolean, follow = true): Place {
    if (path === '' && empty) {
      const entry = this.fds.get(dirfd);
      if (!entry) throw this.fail(rec, 'EBADF');
      return { path: entry.path, node: this.last(entry.chain), chain: entry.chain };
    }
    return this.placeOf(rec, this.walkAt(rec, dirfd, path, follow));
  }

  /**
   * The mount on top at the mount root `node`. One the model holds from the start (its
   * `/`, an addMountpoint, a host's mount) is read-write and private until changed.
   */
  protected mountStateAt(node: FakeNode): MountState {
    const stack = this.mountStacks.get(node) ?? [];
    if (stack.length === 0) stack.push(newFilesystemMount(false));
    this.mountStacks.set(node, stack);
    return stack[stack.length - 1];
  }

  /** The state of the mount made as `entry`; undefined for an entry a builder added (addDevpts, addProcfs). */
  protected entryState(entry: MountEntry): MountState | undefined {
    return this.entryStates.get(entry);
  }

  /**
   * `state` on top at `node`, once: over the mounts put there before, or over the one
   * the model held there from the start when `node` is the root of one (`over`).
   */
  protected pushMountState(node: FakeNode, state: MountState, over = this.isMountRoot(node)): void {
    const stack = this.mountStacks.get(node) ?? (over ? [newFilesystemMount(false)] : []);
    if (stack[stack.length - 1] !== state) stack.push(state);
    this.mountStacks.set(node, stack);
  }

  /** Takes the mount on top at `node` off it; undefined when none was put there. */
  protected popMountState(node: FakeNode): MountState | undefined {
    return this.mountStacks.get(node)?.pop();
  }

  /** Takes `state` out of the mounts at `node`, wherever it is among them. */
  private dropMountState(node: FakeNode, state: MountState | undefined): void {
    const stack = this.mountStacks.get(node);
    const i = state === undefined || !stack ? -1 : stack.lastIndexOf(state);
    if (i >= 0) stack!.splice(i, 1);
  }

  /** Whether `node` is the root of a mount left with none of the mounts put on it: the model's `/` never is. */
  private bare(node: FakeNode): boolean {
    return node !== this.root && (this.mountStacks.get(node)?.length ?? 0) === 0;
  }

  /** `entry` made on top at its root `node` (when the model holds one) with `state`. */
  private attachMount(entry: MountEntry, node: FakeNode | undefined, state: MountState): void {
    this.addMount(entry);
    this.entryStates.set(entry, state);
    if (!node) return;
    this.pushMountState(node, state);
    this.mountRoots.add(node);
  }

  /**
   * Attaches a mount made at `to` (a new filesystem, a bind, a detached copy) as `entry`
   * with `state`, and the mounts a recursive copy takes along, each at its place below it.
   * Below a shared mount every one of them is shared too (attach_recursive_mnt(),
   * fs/namespace.c).
   */
  private attachTree(to: Place, entry: MountEntry, state: MountState, submounts: readonly Submount[]): void {
    const shared = this.mountOver(to.chain).state.propagation.shared;
    if (shared) state.propagation.shared = true;
    this.attachMount(entry, to.node, state);
    for (const sub of submounts) {
      const copy = { ...sub.entry, target: posix.join(to.path, sub.below) };
      if (sub.bindSource !== undefined) this.bindSources.set(copy, sub.bindSource);
      if (sub.root !== undefined) this.newMountRoots.set(copy, sub.root);
      if (shared) sub.state.propagation.shared = true;
      this.attachMount(copy, this.submountRoot(copy.target), sub.state);
    }
  }

  /** The node a mount a recursive copy took along is attached on: what the resolved `target` names in the model. */
  protected submountRoot(target: string): FakeNode | undefined {
    return this.node(target, true);
  }

  /**
   * The mounts made below the resolved `path` since the mount it is on, oldest first: those
   * on that mount, or on them, below it. After pivot_root(2) the new root's mount and those
   * on it are no longer below the old root's: they are below `path` only when it is in
   * the new root (the fake's paths stay as they were).
   */
  private mountsBelow(path: string): MountEntry[] {
    let over = -1;
    for (let i = this.mounts.length - 1; i >= 0 && over < 0; i--) {
      const t = this.mounts[i].target;
      if (t === path || t === '/' || path.startsWith(`${t}/`)) over = i;
    }
    const pivoted = this.pivotedRoot !== undefined && !isWithin(this.pivotedRoot, path) ? this.pivotedRoot : undefined;
    return this.mounts.filter((m, i) => i > over && m.target !== path && isWithin(path, m.target) && (pivoted === undefined || !isWithin(pivoted, m.target)));
  }

  /**
   * The mounts the model held from the start that are on the mount `on` (whose state it
   * is) below the resolved `path`, or on them, each after the one it is on; none here. An
   * overlay model holds the host's (DryRunSyscalls): MS_REC reaches them as it reaches
   * those made since.
   */
  protected startingMountsBelow(_on: MountState, _path: string): StartingMount[] {
    return [];
  }

  /**
   * What a recursive copy of the resolved `path` on the mount `on` takes along (copy_tree(),
   * fs/namespace.c; checked on Linux 6.18): every mount below it, the model's own from the
   * start first, with its own flags, superblock and a peer of a shared one, but for an
   * unbindable one and those on it.
   */
  private submountsOf(path: string, on: MountState): Submount[] {
    const skipped: string[] = [];
    const out: Submount[] = [];
    const below: (StartingMount & { made?: MountEntry })[] = [
      ...this.startingMountsBelow(on, path),
      ...this.mountsBelow(path).map((m) => ({ target: m.target, entry: m, made: m, state: this.entryStates.get(m) ?? newFilesystemMount(false) })),
    ];
    for (const { target, entry: m, made, state } of below) {
      if (skipped.some((s) => isWithin(s, target))) continue;
      if (state.propagation.unbindable) {
        skipped.push(target);
        continue;
      }
      const sub: Submount = { below: target.slice(path === '/' ? 1 : path.length + 1), entry: { source: m.source, fstype: m.fstype, flags: m.flags, data: m.data }, state: cloneMount(state) };
      const bindSource = made && this.bindSources.get(made);
      if (bindSource !== undefined) sub.bindSource = bindSource;
      const root = made && this.newMountRoots.get(made);
      if (root !== undefined) sub.root = root;
      out.push(sub);
    }
    return out;
  }

  /**
   * A remount of the mount `state` with `flags`: read-only or not, with MS_BIND its own
   * flag only (do_reconfigure_mnt()); without, its superblock's, for every mount of it,
   * and its own too (do_remount(), fs/namespace.c; both checked on Linux 6.18). Either way
   * the mount's other flags become those given, its atime flags kept when none is
   * (mountFlagsOf): a bind remounted with MS_RDONLY alone loses its nosuid and noexec.
   */
  private remount(rec: SyscallRecord, state: MountState, flags: bigint): void {
    const readOnly = (flags & MS_RDONLY) !== 0n;
    const bind = (flags & MS_BIND) !== 0n;
    if (readOnly) this.noWriters(rec, state, !bind);
    if (!bind) state.sb.readOnly = readOnly;
    state.readOnly = readOnly;
    state.flags = mountFlagsOf(flags, state.flags);
  }

  /**
   * EBUSY for making the mount `state` read-only (`wholeSb`: its superblock) while a file
   * is open for writing through it (mnt_hold_writers(), sb_prepare_remount_readonly(),
   * fs/namespace.c; checked on Linux 6.18), where read-only mounts refuse writes.
   */
  private noWriters(rec: SyscallRecord, state: MountState, wholeSb: boolean): void {
    if (!this.refuseReadOnlyWrites) return;
    for (const fd of this.fds.values()) if (fd.writing && (wholeSb ? fd.writing.sb === state.sb : fd.writing === state)) throw this.fail(rec, 'EBUSY');
  }

  /** The chain of steps to what `path` names (symlinks followed), undefined when it is missing; not recorded. */
  private existingChain(path: string): Step[] | undefined {
    try {
      const found = this.walk({ op: 'stat', path }, path, true);
      return found.node === undefined ? undefined : this.chainOf(found);
    } catch (err) {
      if (err instanceof SyscallError) return undefined;
      throw err;
    }
  }

  /** The chain of steps a walk found, the found node's own last when it exists. */
  private chainOf(found: Found): Step[] {
    return found.node === undefined || found.name === '' ? found.parent : [...found.parent, { name: found.name, node: found.node }];
  }

  /** The path `chain` stands for: a file outside every directory (a pseudo-terminal's peer, a socket), reached through its magic link, keeps its name. */
  private chainPath(chain: readonly Step[]): string {
    return chain[0].name === '' ? '/' + chain.slice(1).map((s) => s.name).join('/') : chain.map((s) => s.name).join('/');
  }

  /**
   * The mount what `chain` leads to is on: the one on top at the last mount root on the
   * chain (the model's `/` at the latest); and its parent, the mount it covers there or
   * else the one that root's directory is on. The parent of the model's `/` is not held.
   */
  private mountOver(chain: readonly Step[]): { state: MountState; parent: MountState | undefined } {
    for (let i = chain.length - 1; i >= 0; i--) {
      const node = chain[i].node;
      if (!this.isMountRoot(node)) continue;
      const state = this.mountStateAt(node);
      const stack = this.mountStacks.get(node)!;
      if (stack.length > 1) return { state, parent: stack[stack.length - 2] };
      return { state, parent: i > 0 ? this.mountOver(chain.slice(0, i)).state : undefined };
    }
    return { state: this.mountStateAt(this.modelRoot()), parent: undefined };
  }

  /** Whether what `chain` leads to is on a read-only mount: its own flag or its superblock's. */
  private onReadOnlyMount(chain: readonly Step[]): boolean {
    return isReadOnly(this.mountOver(chain).state);
  }

  /** EROFS for a change to what `chain` leads to on a read-only mount. */
  private writable(rec: SyscallRecord, chain: readonly Step[]): void {
    if (this.refuseReadOnlyWrites && this.onReadOnlyMount(chain)) throw this.fail(rec, 'EROFS');
  }

  /**
   * An existing file opened for writing (or truncated): EROFS for a regular file on a
   * read-only mount, while a device, a FIFO or a socket is written through to what it
   * is (do_dentry_open(), fs/open.c: special_file() takes no write access to the mount).
   */
  private openedForWriting(rec: SyscallRecord, chain: readonly Step[]): void {
    if (this.last(chain as Step[]).kind === 'file') this.writable(rec, chain);
  }

  /**
   * do_change_type() (fs/namespace.c): EINVAL unless the target is the root of a mount and
   * the flags name one propagation type, beside MS_REC and MS_SILENT only; the type set
   * on the mount, with MS_REC on every mount below it too.
   */
  private changeType(rec: SyscallRecord, to: Place, flags: bigint): void {
    const type = flags & ~(MS_REC | MS_SILENT);
    if (!this.isMountRoot(to.node) || (type & (type - 1n)) !== 0n) throw this.fail(rec, 'EINVAL');
    for (const state of this.mountAndBelow(to, (flags & MS_REC) !== 0n)) state.propagation = changedPropagation(state.propagation, type);
  }

  /** The mount whose root `at` is, and with `recursive` those below it: the model's own from the start, those made since. */
  private mountAndBelow(at: Place, recursive: boolean): MountState[] {
    const state = this.mountStateAt(at.node);
    if (!recursive) return [state];
    const below = this.mountsBelow(at.path).map((m) => this.entryStates.get(m));
    return [state, ...this.startingMountsBelow(state, at.path).map((m) => m.state), ...below.filter((s): s is MountState => s !== undefined)];
  }

  /** A mount on top at its target, with an id of its own. */
  private addMount(entry: MountEntry): void {
    this.mounts.push(entry);
    this.mountIds.set(entry, this.nextMountId++);
  }

  /**
   * The tree mounted on top of directory `dir`, which ".." landing on it enters, when a
   * walk holds `dir` itself (its start, a descriptor's directory); none here, where a
   * mount hides nothing (the plan port grafts trees).
   */
  protected mountedOn(_dir: FakeNode): FakeNode | undefined {
    return undefined;
  }

  /**
   * Whether `node` is the root of a mount: the model's `/`, the target of a mount made
   * here or one addMountpoint named (a view of a bind's source shows the source's).
   */
  /** The root of the model's own filesystem, what a chain with no mount root on it is on: `/`, here. */
  protected modelRoot(): FakeNode {
    return this.root;
  }

  protected isMountRoot(node: FakeNode): boolean {
    return node === this.root || this.mountRoots.has(node);
  }

  /** The mount on top at `path` or above it (its id, and whether `path` is its root); the model's own filesystem, mount 1, below every mount. */
  private mountAt(path: string): { id: bigint; root: boolean } {
    for (let i = this.mounts.length - 1; i >= 0; i--) {
      const m = this.mounts[i];
      if (path === m.target || path.startsWith(m.target === '/' ? '/' : `${m.target}/`)) return { id: this.mountIds.get(m) ?? 0n, root: path === m.target };
    }
    return { id: 1n, root: path === '/' };
  }

  /**
   * MS_MOVE, or move_mount(2) of an attached mount, from `from` to `to`, with do_move_mount()'s
   * checks (fs/namespace.c; each checked on Linux 6.18), in its order: EINVAL unless `from`
   * is the root of a mount, for a directory onto a non-directory or the reverse, for a
   * mount whose parent is shared, and for a tree holding an unbindable mount moved below a
   * shared one; ELOOP onto the mount itself or below it. Below a shared mount the tree
   * moved becomes shared.
   */
  private moveAttached(rec: SyscallRecord, from: Place, to: Place): void {
    if (!this.isMountRoot(from.node)) throw this.fail(rec, 'EINVAL');
    if ((from.node.kind === 'dir') !== (to.node.kind === 'dir')) throw this.fail(rec, 'EINVAL');
    const moved = this.mountOver(from.chain);
    if (moved.parent?.propagation.shared) throw this.fail(rec, 'EINVAL');
    const tree = this.mountAndBelow(from, true);
    const shared = this.mountOver(to.chain).state.propagation.shared;
    if (shared && tree.some((s) => s.propagation.unbindable)) throw this.fail(rec, 'EINVAL');
    if (to.path === from.path || to.path.startsWith(from.path === '/' ? '/' : `${from.path}/`)) throw this.fail(rec, 'ELOOP');
    this.moveMounts(from.path, to.path, moved.state);
    if (shared) for (const s of tree) s.propagation.shared = true;
  }

  /**
   * MS_MOVE takes the mount on top at `from` (whose state is `top`) and the mounts made on
   * it since to `at`; what it covered stays where it is.
   */
  private moveMounts(from: string, at: string, top: MountState): void {
    const i = this.mounts.map((m) => m.target).lastIndexOf(from);
    const moved = i < 0 ? [] : this.mounts.filter((m, j) => j >= i && (m.target === from || m.target.startsWith(from + '/')));
    // A mount the model held from the start (addMountpoint) moves as its state only.
    const before = i < 0 ? [from] : moved.map((m) => m.target);
    const states = i < 0 ? [top] : moved.map((m) => this.entryStates.get(m));
    for (const m of moved) m.target = posix.join(at, m.target.slice(from.length));
    this.moveMountRoots(before, i < 0 ? [at] : moved.map((m) => m.target), states);
  }

  /**
   * The roots of moved mounts, from the paths `before` to `after`, each with its state
   * (its flags go along): a path stays a root only while another mount is there.
   */
  protected moveMountRoots(before: readonly string[], after: readonly string[], states: readonly (MountState | undefined)[]): void {
    before.forEach((path, i) => {
      const node = this.node(path, true);
      if (node) this.dropMountState(node, states[i]);
    });
    for (const path of before) {
      const node = this.node(path, true);
      if (node && this.bare(node)) this.mountRoots.delete(node);
    }
    after.forEach((path, i) => {
      const node = this.node(path, true);
      if (!node) return;
      const state = states[i];
      if (state) this.pushMountState(node, state);
      this.mountRoots.add(node);
    });
  }

  umount2(target: string, flags: number): void {
    const rec = this.record('umount2', { target, flags });
    // umount2(2): EINVAL for an unknown flag, and for MNT_EXPIRE with MNT_FORCE or MNT_DETACH.
    if ((flags & ~(MNT_FORCE | MNT_DETACH | MNT_EXPIRE | UMOUNT_NOFOLLOW)) !== 0) throw this.fail(rec, 'EINVAL');
    if ((flags & MNT_EXPIRE) !== 0 && (flags & (MNT_FORCE | MNT_DETACH)) !== 0) throw this.fail(rec, 'EINVAL');
    const found = this.walk(rec, target, (flags & UMOUNT_NOFOLLOW) === 0);
    const at = this.pathFound(rec, found);
    // EINVAL unless the path is the root of a mount.
    if (!this.isMountRoot(found.node!)) throw this.fail(rec, 'EINVAL');
    const i = this.mounts.map((m) => m.target).lastIndexOf(at);
    // A mount the process started with: the model holds nothing it knows to be on it. What it covered, if the model holds one, shows again.
    if (i < 0) {
      if (found.node !== this.root) {
        this.mountStacks.get(found.node!)?.pop();
        if (this.bare(found.node!)) {
          this.mountRoots.delete(found.node!);
          this.mountStacks.delete(found.node!);
        }
      }
      return;
    }
    const on = this.mounts.filter((m, j) => j > i && m.target !== at && m.target.startsWith(at === '/' ? '/' : `${at}/`));
    // EBUSY while mounts are on it, unless MNT_DETACH takes them along (umount_tree).
    if (on.length > 0 && (flags & MNT_DETACH) === 0) throw this.fail(rec, 'EBUSY');
    const gone = new Set([this.mounts[i], ...on]);
    for (let j = this.mounts.length - 1; j >= 0; j--) if (gone.has(this.mounts[j])) this.mounts.splice(j, 1);
    for (const m of gone) {
      // A filesystem that covered its directory shows it again.
      const cover = this.coveredBy.get(m);
      if (cover && this.entries(cover.parent).get(cover.name) === cover.root) this.entries(cover.parent).set(cover.name, cover.under);
      const node = cover?.root ?? this.node(m.target, true);
      if (!node) continue;
      // What shows again is the mount below, with its own flags, or none made here.
      this.dropMountState(node, this.entryStates.get(m));
      if (this.bare(node) && this.topMountAt(m.target) === undefined) this.mountRoots.delete(node);
    }
  }

  mountSetattr(dirfd: number, path: string, atFlags: number, attrSet: bigint, attrClr: bigint, propagation: bigint, usernsFd?: number): void {
    const args = { dirfd, path, atFlags, attrSet, attrClr, propagation };
    const rec = this.record('mountSetattr', usernsFd === undefined ? args : { ...args, usernsFd });
    // mount_setattr(2), in the kernel's order: unknown flags, then nothing to change (a success before any lookup).
    if ((atFlags & ~(AT_EMPTY_PATH | AT_RECURSIVE | AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT)) !== 0) throw this.fail(rec, 'EINVAL');
    if (attrSet === 0n && attrClr === 0n && propagation === 0n) return;
    this.checkAttr(rec, attrSet, attrClr, propagation);
    this.setAttr(rec, dirfd, path, atFlags, attrSet, attrClr, propagation, usernsFd);
  }

  /**
   * build_mount_kattr()'s checks, which need no lookup (fs/namespace.c), each EINVAL: at
   * most one propagation type, MS_REC not among them; no attribute the call does not
   * know; the atime mode, a value and not a bit, set only with the whole
   * MOUNT_ATTR__ATIME cleared, and one of the three modes.
   */
  private checkAttr(rec: SyscallRecord, attrSet: bigint, attrClr: bigint, propagation: bigint): void {
    if ((propagation & ~MS_PROPAGATION) !== 0n || (propagation & (propagation - 1n)) !== 0n) throw this.fail(rec, 'EINVAL');
    if (((attrSet | attrClr) & ~SETATTR_VALID) !== 0n) throw this.fail(rec, 'EINVAL');
    const atimeCleared = attrClr & MOUNT_ATTR__ATIME;
    const atime = attrSet & MOUNT_ATTR__ATIME;
    if (atimeCleared === 0n ? atime !== 0n : atimeCleared !== MOUNT_ATTR__ATIME || !ATIME_MODES.has(atime)) throw this.fail(rec, 'EINVAL');
  }

  /** mount_setattr(2)'s change, after its checks of the arguments, recorded as `rec`. */
  private setAttr(rec: SyscallRecord, dirfd: number, path: string, atFlags: number, attrSet: bigint, attrClr: bigint, propagation: bigint, usernsFd?: number): void {
    // MOUNT_ATTR_IDMAP maps by an open user namespace (EBADF), only a detached mount never attached (EINVAL).
    const idmap = (attrSet & MOUNT_ATTR_IDMAP) !== 0n;
    if (idmap && (usernsFd === undefined || !this.fds.has(usernsFd))) throw this.fail(rec, 'EBADF');
    const empty = path === '' && (atFlags & AT_EMPTY_PATH) !== 0;
    const node = empty ? this.fdNode(rec, dirfd) : this.walkAt(rec, dirfd, path, (atFlags & AT_SYMLINK_NOFOLLOW) === 0).node;
    if (!node) throw this.fail(rec, 'ENOENT');
    const tree = empty ? this.trees.get(dirfd) : undefined;
    // do_mount_setattr(): EINVAL unless the path is the root of a mount.
    if (!tree && (idmap || !this.isMountRoot(node))) throw this.fail(rec, 'EINVAL');
    // MOUNT_ATTR_RDONLY set or cleared, and the propagation type: on the mount, and with AT_RECURSIVE on those below it too.
    const readOnly = (attrSet & MOUNT_ATTR_RDONLY) !== 0n ? true : (attrClr & MOUNT_ATTR_RDONLY) !== 0n ? false : undefined;
    const recursive = (atFlags & AT_RECURSIVE) !== 0;
    const states = tree
      ? [tree.state, ...(recursive ? tree.submounts.map((s) => s.state) : [])]
      : this.mountAndBelow(this.placeAt(rec, dirfd, path, empty, (atFlags & AT_SYMLINK_NOFOLLOW) === 0), recursive);
    if (readOnly) for (const state of states) if (!state.readOnly) this.noWriters(rec, state, false);
    const { set, clear } = setattrFlags(attrSet, attrClr);
    for (const state of states) {
      if (readOnly !== undefined) state.readOnly = readOnly;
      state.flags = (state.flags & ~clear) | set;
      if (propagation !== 0n) state.propagation = changedPropagation(state.propagation, propagation);
    }
  }

  openTree(dirfd: number, path: string, flags: number): number {
    return this.openTreeAs(this.record('openTree', { dirfd, path, flags }), dirfd, path, flags);
  }

  openTreeAttr(dirfd: number, path: string, flags: number, attrSet: bigint, attrClr: bigint, propagation: bigint): number {
    const rec = this.record('openTreeAttr', { dirfd, path, flags, attrSet, attrClr, propagation });
    // open_tree_attr(2): the lookup and the copy first, then the attributes checked and set
    // on what was opened (the copy's mounts with AT_RECURSIVE); a refusal closes it
    // (checked on Linux 6.18: a missing path is ENOENT whatever the attributes).
    const fd = this.openTreeAs(rec, dirfd, path, flags);
    if (attrSet === 0n && attrClr === 0n && propagation === 0n) return fd;
    try {
      this.checkAttr(rec, attrSet, attrClr, propagation);
      this.setAttr(rec, fd, '', AT_EMPTY_PATH | (flags & AT_RECURSIVE), attrSet, attrClr, propagation);
    } catch (err) {
      this.dropDescriptor(fd);
      throw err;
    }
    return fd;
  }

  /** open_tree(2) recorded as `rec`. */
  private openTreeAs(rec: SyscallRecord, dirfd: number, path: string, flags: number): number {
    // open_tree(2): AT_RECURSIVE only with OPEN_TREE_CLONE; a final symlink followed unless AT_SYMLINK_NOFOLLOW.
    if ((flags & AT_RECURSIVE) !== 0 && (flags & OPEN_TREE_CLONE) === 0) throw this.fail(rec, 'EINVAL');
    const follow = (flags & AT_SYMLINK_NOFOLLOW) === 0;
    const at = this.placeAt(rec, dirfd, path, (flags & AT_EMPTY_PATH) !== 0, follow);
    // The copy has its source mount's flags (clone_mnt(), fs/namespace.c); an unbindable mount is not copied (EINVAL, checked on Linux 6.18).
    const source = this.mountOver(at.chain).state;
    const clone = (flags & OPEN_TREE_CLONE) !== 0;
    if (clone && source.propagation.unbindable) throw this.fail(rec, 'EINVAL');
    const fd = this.openIn(rec, at.path, follow ? O_PATH : O_PATH | O_NOFOLLOW, 0, [this.rootStep()], 1);
    const recursive = (flags & AT_RECURSIVE) !== 0;
    if (clone) this.trees.set(fd, { source: at.path, dir: at.node.kind === 'dir', recursive, state: cloneMount(source), submounts: recursive ? this.submountsOf(at.path, source) : [] });
    return fd;
  }

  moveMount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): void {
    const rec = this.record('moveMount', { fromDirfd, fromPath, toDirfd, toPath, flags });
    const to = this.placeAt(rec, toDirfd, toPath, (flags & MOVE_MOUNT_T_EMPTY_PATH) !== 0);
    const detachedFrom = fromPath === '' && (flags & MOVE_MOUNT_F_EMPTY_PATH) !== 0;
    const fresh = detachedFrom ? this.newMounts.get(fromDirfd) : undefined;
    const tree = detachedFrom ? this.trees.get(fromDirfd) : undefined;
    // A detached mount or tree is attached once (move_mount(2)); an attached mount moves as with MS_MOVE.
    if (!fresh && !tree) {
      this.moveAttached(rec, this.placeAt(rec, fromDirfd, fromPath, detachedFrom), to);
      return;
    }
    // do_move_mount(): a directory onto a directory only, EINVAL otherwise (checked on Linux 6.18); a detached mount's root is a directory.
    if ((to.node.kind === 'dir') !== (fresh ? true : tree!.dir)) throw this.fail(rec, 'EINVAL');
    if (fresh) {
      this.newMounts.delete(fromDirfd);
      const entry = { ...fresh.entry, target: to.path };
      this.newMountRoots.set(entry, fresh.root);
      this.attachTree(to, entry, fresh.state, []);
    } else {
      // Attached, it is detached no more through any descriptor of it (an inherited one too).
      for (const [fd, held] of this.trees) if (held === tree) this.trees.delete(fd);
      const entry = { source: tree!.source, target: to.path, fstype: null, flags: tree!.recursive ? MS_BIND | MS_REC : MS_BIND, data: null };
      this.bindSources.set(entry, tree!.source);
      this.attachTree(to, entry, tree!.state, tree!.submounts);
    }
    // The descriptor names the mount it was made with, attached now: its magic link leads to
    // the mount's root where it is (d_path()), and a mount(2) or umount2(2) through it acts
    // on it. pathOf() still tells where it was opened.
    const held = this.fds.get(fromDirfd)!;
    this.fds.set(fromDirfd, { ...held, path: to.path, chain: to.chain });
  }

  /** The root of the filesystem fsmount made that move_mount attached last at the resolved path `target`, if one is there; not recorded. */
  newMountRoot(target: string): FakeNode | undefined {
    const entry = this.topMountAt(posix.resolve('/', target));
    return entry && this.newMountRoots.get(entry);
  }

  fsopen(fstype: string, flags: number): number {
    const rec = this.record('fsopen', { fstype, flags });
    if ((flags & ~FSOPEN_CLOEXEC) !== 0) throw this.fail(rec, 'EINVAL');
    const fd = this.detachedFd(FSCONTEXT_NAME, this.newNode('file', 0o600));
    this.contexts.set(fd, { fstype, source: null, params: [], created: false, mounted: false });
    return fd;
  }

  /**
   * fsconfig(2) (fs/fsopen.c), in the kernel's order: a negative descriptor (EINVAL); the
   * arguments each command takes, and no others (EINVAL; an unknown command EOPNOTSUPP),
   * before the descriptor is looked at; a descriptor that is not open or is an O_PATH one
   * (EBADF: fdget() gives no O_PATH file), or no context (EINVAL); a key or string past
   * 255 bytes (EINVAL); a context whose superblock is made already (EBUSY). A second
   * `source` is EINVAL (vfs_parse_fs_param_source()). The fake checks no filesystem's own
   * parameters: a failure of one is injected (failOn).
   */
  fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux: number): void {
    const rec = this.record('fsconfig', { fd, cmd, key, value, aux });
    if (fd < 0) throw this.fail(rec, 'EINVAL');
    const takes = cmd === FSCONFIG_SET_FLAG ? { key: true, value: false } : cmd === FSCONFIG_SET_STRING ? { key: true, value: true } : cmd === FSCONFIG_CMD_CREATE ? { key: false, value: false } : undefined;
    if (!takes) throw this.fail(rec, 'EOPNOTSUPP');
    if ((key !== null) !== takes.key || (value !== null) !== takes.value || aux !== 0) throw this.fail(rec, 'EINVAL');
    this.fileDescriptor(rec, fd);
    const context = this.contexts.get(fd);
    if (!context) throw this.fail(rec, 'EINVAL');
    if ([key, value].some((s) => s !== null && Buffer.byteLength(s) > FSCONFIG_STRING_MAX)) throw this.fail(rec, 'EINVAL');
    if (context.created) throw this.fail(rec, 'EBUSY');
    if (cmd === FSCONFIG_CMD_CREATE) context.created = true;
    else if (key === 'source') {
      if (context.source !== null) throw this.fail(rec, 'EINVAL');
      context.source = value ?? '';
    } else context.params.push(fsconfigShown(cmd, key, value));
  }

  /**
   * fsmount(2): EINVAL for a flag other than FSMOUNT_CLOEXEC, an attribute it does not take
   * or an atime that is none of the three; then EBADF for a descriptor that is not open or
   * is an O_PATH one (a mount fsmount made among them), EINVAL for one that is no
   * context, and before FSCONFIG_CMD_CREATE (no root yet); EBUSY for a second one (checked on Linux 6.18, test/integration/tmpcopyup-detached.test.ts). The new
   * mount's root is a directory of the `mode=` a tmpfs was given (1777 without one,
   * tmpfs(5)), 0755 for other types, on a mount of its own.
   */
  fsmount(fd: number, flags: number, attrFlags: bigint): number {
    const rec = this.record('fsmount', { fd, flags, attrFlags });
    if ((flags & ~FSMOUNT_CLOEXEC) !== 0 || (attrFlags & ~FSMOUNT_ATTRS) !== 0n) throw this.fail(rec, 'EINVAL');
    const atime = attrFlags & MOUNT_ATTR__ATIME;
    if (atime !== MOUNT_ATTR_RELATIME && atime !== MOUNT_ATTR_NOATIME && atime !== MOUNT_ATTR_STRICTATIME) throw this.fail(rec, 'EINVAL');
    this.fileDescriptor(rec, fd);
    const context = this.contexts.get(fd);
    if (!context) throw this.fail(rec, 'EINVAL');
    if (!context.created) throw this.fail(rec, 'EINVAL');
    if (context.mounted) throw this.fail(rec, 'EBUSY');
    context.mounted = true;
    const mode = context.params.map((p) => /^mode=([0-7]+)$/.exec(p)?.[1]).find((m) => m !== undefined);
    const root = this.newNode('dir', mode !== undefined ? parseInt(mode, 8) : context.fstype === 'tmpfs' ? 0o1777 : 0o755);
    // Its own flags from the attributes, its superblock's from the context's last "ro" or "rw" flag (vfs_parse_sb_flag(), fs/fs_context.c).
    const sbReadOnly = context.params.filter((p) => p === 'ro' || p === 'rw').pop() === 'ro';
    let msFlags = atime === MOUNT_ATTR_NOATIME ? MS_NOATIME : atime === MOUNT_ATTR_STRICTATIME ? MS_STRICTATIME : 0n;
    for (const [attr, flag] of ATTR_MOUNT_FLAGS) if ((attrFlags & attr) !== 0n) msFlags |= flag;
    const state = newFilesystemMount((attrFlags & MOUNT_ATTR_RDONLY) !== 0n, sbReadOnly, mountFlagsOf(msFlags));
    this.pushMountState(root, state);
    this.mountRoots.add(root);
    const data = context.params.length === 0 ? null : context.params.join(',');
    // The mount's root as an O_PATH file (fsmount(2)).
    const mountFd = this.detachedFd(detachedMountName(context.fstype), root, true);
    this.newMounts.set(mountFd, { entry: { source: context.source, fstype: context.fstype, flags: msFlags, data }, root, state });
    return mountFd;
  }

  userNamespace(uidMappings: readonly IdMapping[], gidMappings: readonly IdMapping[]): number {
    this.record('userNamespace', { uidMappings, gidMappings });
    // The nsfs file of the new namespace, outside every directory (readlink of its magic link is "user:[INODE]").
    const node = this.newNode('file', 0o444);
    return this.detachedFd(`user:[${node.ino}]`, node);
  }

  /** A descriptor of a file outside every directory (a namespace, a socket), named `path` by its magic link. */
  private detachedFd(path: string, node: FakeNode, pathOnly = false): number {
    const fd = this.newFd();
    this.setFd(fd, pathOnly ? { ...detached(path, node), pathOnly } : detached(path, node));
    return fd;
  }

  /**
   * The number a new descriptor gets: the next one the fake has not given out (it never
   * reuses one, so that a plan names each file once) that is not held either, as an
   * inherited one may be (open(2) returns the lowest free number).
   */
  private newFd(): number {
    while (this.fds.has(this.nextFd)) this.nextFd++;
    return this.nextFd++;
  }

  private setFd(fd: number, entry: FdEntry): void {
    this.fds.set(fd, entry);
    this.fdPaths.set(fd, entry.path);
  }

  pivotRoot(newRoot: string, putOld: string): void {
    const rec = this.record('pivotRoot', { newRoot, putOld });
    // A relative path starts at the current directory (runc's pivot_root(".", ".")), not known after a chdir to what the model lacks.
    if (this.workDirLost && (!newRoot.startsWith('/') || !putOld.startsWith('/'))) return;
    // pivot_root(2) (fs/namespace.c), in the kernel's order: both are directories
    // (ENOENT, ENOTDIR); put_old's mount, or the parent of new_root's mount, shared
    // (EINVAL; so is the parent of the current root's mount, which the model does not
    // hold); neither on the mount of the current root (EBUSY); new_root the root of a
    // mount, put_old at or below it (EINVAL). Each checked on Linux 6.18.
    const to = this.lookupDir(rec, newRoot);
    const old = this.lookupDir(rec, putOld);
    if (this.mountOver(old.chain).state.propagation.shared || this.mountOver(to.chain).parent?.propagation.shared) throw this.fail(rec, 'EINVAL');
    const rootMount = this.mountAt('/').id;
    const onRoot = (at: Place) => at.node === this.root || (!this.isMountRoot(at.node) && this.mountAt(at.path).id === rootMount);
    if (onRoot(to) || onRoot(old)) throw this.fail(rec, 'EBUSY');
    if (!this.isMountRoot(to.node)) throw this.fail(rec, 'EINVAL');
    if (old.path !== to.path && !old.path.startsWith(`${to.path}/`)) throw this.fail(rec, 'EINVAL');
    this.pivotedRoot = to.path;
  }

  /** lookup(), ENOTDIR for what is not a directory (LOOKUP_DIRECTORY). */
  private lookupDir(rec: SyscallRecord, path: string): Place {
    const at = this.placeOf(rec, this.walk(rec, path, true));
    if (at.node.kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
    return at;
  }

  mknod(path: string, mode: number, dev: bigint): void {
    const rec = this.record('mknod', { path, mode, dev });
    // mknod(2): a zero file type means S_IFREG; directories and symlinks are EINVAL.
    const kind = kindFromMode(mode & S_IFMT || S_IFREG);
    if (kind === undefined || kind === 'dir' || kind === 'symlink') throw this.fail(rec, 'EINVAL');
    const node = this.create(rec, this.walk(rec, path, false), kind, mode & ~this.mask);
    if (kind === 'char' || kind === 'block') node.rdev = dev;
  }

  mknodat(dirfd: number, path: string, mode: number, dev: bigint): void {
    const rec = this.record('mknodat', { dirfd, path, mode, dev });
    const kind = kindFromMode(mode & S_IFMT || S_IFREG);
    if (kind === undefined || kind === 'dir' || kind === 'symlink') throw this.fail(rec, 'EINVAL');
    const node = this.create(rec, this.walkAt(rec, dirfd, path, false), kind, mode & ~this.mask);
    if (kind === 'char' || kind === 'block') node.rdev = dev;
  }

  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): void {
    const rec = this.record('fchownat', { dirfd, path, uid, gid, flags });
    let chain: Step[];
    if (path === '' && (flags & AT_EMPTY_PATH) !== 0) {
      this.fdNode(rec, dirfd);
      chain = this.fds.get(dirfd)!.chain;
    } else {
      const found = this.walkAt(rec, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) === 0);
      if (!found.node) throw this.fail(rec, 'ENOENT');
      chain = this.chainOf(found);
    }
    const node = this.last(chain);
    this.writable(rec, chain);
    if (uid !== -1) node.uid = uid;
    if (gid !== -1) node.gid = gid;
  }

  chown(path: string, uid: number, gid: number): void {
    this.setOwner(this.record('chown', { path, uid, gid }), true);
  }

  lchown(path: string, uid: number, gid: number): void {
    this.setOwner(this.record('lchown', { path, uid, gid }), false);
  }

  chmod(path: string, mode: number): void {
    const rec = this.record('chmod', { path, mode });
    this.changed(rec, path, true).perm = mode & 0o7777;
  }

  fchmod(fd: number, mode: number): void {
    const rec = this.record('fchmod', { fd, mode });
    this.fileDescriptor(rec, fd);
    const entry = this.fds.get(fd)!;
    this.writable(rec, entry.chain);
    this.last(entry.chain).perm = mode & 0o7777;
  }

  /**
   * The current directory, where relative paths start: a directory of the model (checked
   * on Linux 6.18 by test/integration/fake-vs-kernel.test.ts).
   */
  chdir(path: string): void {
    const rec = this.record('chdir', { path });
    this.setWorkDir(this.chainOf(this.directoryAt(rec, path)));
  }

  /** The directory chdir(2) and chroot(2) go to: ENOENT for a path that does not exist, ENOTDIR for one that is no directory (the call then changes nothing). */
  private directoryAt(rec: SyscallRecord, path: string): Found {
    const found = this.walk(rec, path, true);
    if (!found.node) throw this.fail(rec, 'ENOENT');
    if (found.node.kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
    return found;
  }

  /** fchdir(2): EBADF for a descriptor that is not open, ENOTDIR for one of what is not a directory. */
  fchdir(fd: number): void {
    const rec = this.record('fchdir', { fd });
    this.openDescriptor(rec, fd);
    const entry = this.fds.get(fd);
    // A standard stream the model holds no file for: not a directory it knows.
    if (!entry) return this.setWorkDir(undefined);
    if (this.last(entry.chain).kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
    this.setWorkDir(entry.chain);
  }

  /** The current directory as the chain of directories down to it, or unknown (undefined). */
  private setWorkDir(chain: Step[] | undefined): void {
    this.workDir = chain && [...chain];
    this.workDirLost = chain === undefined;
  }

  /** Where a path starts: the model's root for an absolute one, else the current directory (the root while it is unknown). */
  private startOf(path: string): Step[] {
    return path.startsWith('/') || this.workDir === undefined ? [this.rootStep()] : this.workDir;
  }

  /** The current directory's path, as a descriptor of it would name it. */
  private workDirPath(): string {
    const chain = this.workDir ?? [this.rootStep()];
    return chain[0].name === '' ? '/' + chain.slice(1).map((s) => s.name).join('/') : chain.map((s) => s.name).join('/');
  }

  /** chroot(2): the directory checked as chdir(2) checks it; the model's `/` stays where it was (PlanSyscalls moves it). */
  chroot(path: string): void {
    this.directoryAt(this.record('chroot', { path }), path);
  }

  umask(mask: number): number {
    this.record('umask', { mask });
    const previous = this.mask;
    this.mask = mask & 0o777;
    return previous;
  }

  open(path: string, flags: number, mode: number): number {
    const rec = this.record('open', { path, flags, mode });
    // /dev/tty is the process's controlling terminal (tty(4)).
    if (path === '/dev/tty' && !this.session.terminal) throw this.fail(rec, 'ENXIO');
    return this.openIn(rec, path, flags, mode, this.startOf(path), 1);
  }

  openat(dirfd: number, path: string, flags: number, mode: number): number {
    const rec = this.record('openat', { dirfd, path, flags, mode });
    return this.openIn(rec, path, flags, mode, this.dirChain(rec, dirfd, path), 1);
  }

  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: bigint): number {
    const rec = this.record('openat2', { dirfd, path, flags, mode, resolve });
    // build_open_flags() (fs/open.c), which open(2) and openat(2) pass leniently and
    // openat2(2) strictly: EINVAL for unknown resolve bits, RESOLVE_BENEATH with
    // RESOLVE_IN_ROOT, a mode without O_CREAT or O_TMPFILE (or beyond 07777 with one),
    // and O_PATH with a flag other than O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC.
    if ((resolve & ~RESOLVE_FLAGS) !== 0n) throw this.fail(rec, 'EINVAL');
    if ((resolve & RESOLVE_BENEATH) !== 0n && (resolve & RESOLVE_IN_ROOT) !== 0n) throw this.fail(rec, 'EINVAL');
    if ((flags & (O_CREAT | __O_TMPFILE)) !== 0 ? (mode & ~0o7777) !== 0 : mode !== 0) throw this.fail(rec, 'EINVAL');
    if ((flags & O_PATH) !== 0 && (flags & ~O_PATH_FLAGS) !== 0) throw this.fail(rec, 'EINVAL');
    const from = this.dirChain(rec, dirfd, path);
    // RESOLVE_IN_ROOT: "/" and ".." stop at dirfd, as if chrooted there (openat2(2)).
    const inRoot = (resolve & RESOLVE_IN_ROOT) !== 0n && dirfd !== AT_FDCWD;
    const fd = this.openIn(rec, path, flags, mode, from, inRoot ? from.length : 1, resolve);
    // RESOLVE_NO_XDEV: EXDEV for a lookup that crosses onto or off a mount, its last component's included.
    if ((resolve & RESOLVE_NO_XDEV) !== 0n && this.mountsOver(this.fds.get(fd)!.path) !== this.mountsOver(this.atPath(dirfd, ''))) {
      this.fds.delete(fd);
      throw this.fail(rec, 'EXDEV');
    }
    return fd;
  }

  /** The mounts at `path` or above it, as a key: two paths with the same are on one mount. */
  private mountsOver(path: string): string {
    return this.mounts
      .map((m, i) => (path === m.target || path.startsWith(m.target === '/' ? '/' : `${m.target}/`) ? i : -1))
      .filter((i) => i !== -1)
      .join(',');
  }

  close(fd: number): void {
    this.openDescriptor(this.record('close', { fd }), fd);
    this.dropDescriptor(fd);
    if (fd <= 2) this.closedStreams.add(fd);
  }

  /**
   * `fd` no longer held: the last descriptor of a context frees it, and of a mount or copy
   * never attached unmounts it (dissolve_on_fput()); a dup3 copy of a copy keeps it. Its
   * path stays for pathOf.
   */
  private dropDescriptor(fd: number): void {
    this.fds.delete(fd);
    this.contexts.delete(fd);
    this.newMounts.delete(fd);
    this.trees.delete(fd);
  }

  /**
   * EBADF for a descriptor this process does not have open: one the fake never gave (nor
   * was told of), or closed since. 0, 1 and 2, the standard streams, are open until closed.
   */
  private openDescriptor(rec: SyscallRecord, fd: number): void {
    if (fd <= 2 ? this.closedStreams.has(fd) && !this.fds.has(fd) : !this.fds.has(fd)) throw this.fail(rec, 'EBADF');
  }

  /** As fdget() takes a descriptor: EBADF for one that is not open, and for an O_PATH one (fs/file.c __fget_light() skips FMODE_PATH files). */
  private fileDescriptor(rec: SyscallRecord, fd: number): void {
    this.openDescriptor(rec, fd);
    if (this.fds.get(fd)?.pathOnly) throw this.fail(rec, 'EBADF');
  }

  /**
   * Descriptor `fd` of a process started with a socket there that the fake did not make
   * (a runtime channel its starter passed, as a spawn passes one); no call is recorded.
   */
  inheritSocket(fd: number): this {
    this.setFd(fd, detached(`socket:[inherited ${fd}]`, this.newNode('socket', 0o777)));
    return this;
  }

  /**
   * Descriptor `fd` of a process started with a file there that the fake did not make
   * (one mountkit's caller passes the container, core/passed-fds.ts); no call is recorded.
   */
  inheritFile(fd: number): this {
    this.setFd(fd, detached(`file:[inherited ${fd}]`, this.newNode('file', 0o600)));
    return this;
  }

  /** Descriptor `fd` of a process started with a copy of `from` there (as a spawn passes one); no call is recorded. */
  inheritDescriptor(fd: number, from: number): this {
    const entry = this.fds.get(from);
    if (entry) {
      this.fds.set(fd, entry);
      this.fdPaths.set(fd, entry.path);
    }
    // A detached copy (open_tree(2) OPEN_TREE_CLONE) is the open file's: either descriptor attaches it.
    const tree = this.trees.get(from);
    if (tree) this.trees.set(fd, tree);
    return this;
  }

  dup3(oldfd: number, newfd: number, flags: number): void {
    const rec = this.record('dup3', { oldfd, newfd, flags });
    this.openDescriptor(rec, oldfd);
    if (newfd <= 2) this.closedStreams.delete(newfd);
    // A standard stream the model holds no file for (a pipe outside every directory): its copy is open all the same.
    const entry = this.fds.get(oldfd) ?? detached(`pipe:[stream ${oldfd}]`, this.newNode('fifo', 0o600));
    this.setFd(newfd, entry);
    const onMount = this.fdMounts.get(oldfd);
    if (onMount) this.fdMounts.set(newfd, onMount);
    const tree = this.trees.get(oldfd);
    if (tree) this.trees.set(newfd, tree);
  }

  /**
   * The copy is the first number free in the model at or above both `lowest` and the
   * fake's first descriptor (100): below that, the model does not know what the process
   * holds.
   */
  dupCloexec(fd: number, lowest: number): number {
    const rec = this.record('dupCloexec', { fd, lowest });
    this.openDescriptor(rec, fd);
    const entry = this.fds.get(fd) ?? detached(`pipe:[stream ${fd}]`, this.newNode('fifo', 0o600));
    let copy = Math.max(lowest, FIRST_FAKE_FD);
    while (this.fds.has(copy)) copy++;
    this.setFd(copy, entry);
    const onMount = this.fdMounts.get(fd);
    if (onMount) this.fdMounts.set(copy, onMount);
    return copy;
  }

  stat(path: string): FileStat {
    return this.statOf(this.existing(this.record('stat', { path }), path, true));
  }

  lstat(path: string): FileStat {
    return this.statOf(this.existing(this.record('lstat', { path }), path, false));
  }

  fstat(fd: number): FileStat {
    const rec = this.record('fstat', { fd });
    const st = this.statOf(this.fdNode(rec, fd));
    // The root of a procfs is inode PROC_ROOT_INO (1) whatever the directory under it.
    const path = this.fds.get(fd)?.path;
    return path !== undefined && this.isProcRoot(path, new Set()) ? { ...st, ino: 1n } : st;
  }

  /** Whether `path` is the root of a procfs mount: a proc mount made there, or a bind of one's root. */
  private isProcRoot(path: string, seen: Set<MountEntry>): boolean {
    const top = this.topMountOver(path, seen);
    if (top === undefined) return false;
    const bindSource = this.bindSources.get(top);
    if (bindSource !== undefined) return this.isProcRoot(bindSource + path.slice(top.target === '/' ? 0 : top.target.length), new Set([...seen, top]));
    return top.target === path && top.fstype === 'proc';
  }

  /** The file's kind, and the mount on top at its path when it was opened (mountAt); a file outside every directory is on no mount of the model (0). */
  fstatMount(fd: number): MountStat {
    const rec = this.record('fstatMount', { fd });
    const kind = this.fdNode(rec, fd).kind;
    // A detached copy's descriptor is its mount's root (open_tree(2) OPEN_TREE_CLONE).
    const onMount = this.fdMounts.get(fd) ?? { id: 0n, root: false };
    return { kind, mntId: onMount.id, mountRoot: onMount.root || this.trees.has(fd) };
  }

  fstatfs(fd: number): FsStat {
    const rec = this.record('fstatfs', { fd });
    const entry = this.fds.get(fd);
    if (!entry) throw this.fail(rec, 'EBADF');
    return { type: this.fsTypeAt(entry.path, new Set()), flags: this.mountFlagsAt(entry.path, new Set()) ?? statfsFlags(this.mountOver(entry.chain).state) };
  }

  /**
   * faccessat(2) as root: ENOENT for a path that leads nowhere, and for W_OK, EROFS when
   * it leads to a regular file or directory on a read-only mount (do_faccessat(),
   * fs/open.c: a device, FIFO or socket is written through to what it is); anything else
   * is allowed.
   */
  faccessat(dirfd: number, path: string, mode: number, flags: number): void {
    const rec = this.record('faccessat', { dirfd, path, mode, flags });
    const found = this.walkAt(rec, dirfd, path, (flags & AT_SYMLINK_NOFOLLOW) === 0);
    if (!found.node) throw this.fail(rec, 'ENOENT');
    const chain = this.chainOf(found);
    const kind = this.last(chain).kind;
    if ((mode & W_OK) !== 0 && (kind === 'file' || kind === 'dir') && this.onReadOnlyMount(chain)) throw this.fail(rec, 'EROFS');
  }

  mkdir(path: string, mode: number): void {
    const rec = this.record('mkdir', { path, mode });
    this.create(rec, this.walk(rec, path, false), 'dir', mode & ~this.mask);
  }

  mkdirat(dirfd: number, path: string, mode: number): void {
    const rec = this.record('mkdirat', { dirfd, path, mode });
    this.create(rec, this.walkAt(rec, dirfd, path, false), 'dir', mode & ~this.mask);
  }

  rmdir(path: string): void {
    const rec = this.record('rmdir', { path });
    this.remove(rec, path, this.walk(rec, path, false), true);
  }

  unlink(path: string): void {
    const rec = this.record('unlink', { path });
    this.remove(rec, path, this.walk(rec, path, false), false);
  }

  unlinkat(dirfd: number, path: string, flags: number): void {
    const rec = this.record('unlinkat', { dirfd, path, flags });
    this.remove(rec, path, this.walkAt(rec, dirfd, path, false), (flags & AT_REMOVEDIR) !== 0);
  }

  /**
   * renameat(2) of a file or symlink (a directory is EISDIR here, which the fake does not
   * move): missing (ENOENT); the new name replaces a file or symlink there, not a
   * directory (EISDIR); both names on writable mounts.
   */
  renameat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string): void {
    const rec = this.record('renameat', { oldDirfd, oldPath, newDirfd, newPath });
    const from = this.walkAt(rec, oldDirfd, oldPath, false);
    const to = this.walkAt(rec, newDirfd, newPath, false);
    this.writable(rec, from.parent);
    this.writable(rec, to.parent);
    const node = from.node;
    if (!node) throw this.fail(rec, 'ENOENT');
    if (node.kind === 'dir' || to.node?.kind === 'dir') throw this.fail(rec, 'EISDIR');
    this.entries(this.last(from.parent)).delete(from.name);
    this.entries(this.last(to.parent)).set(to.name, node);
  }

  /**
   * rmdir(2) (`dir`) or unlink(2) of what `path` found (do_rmdir, do_unlinkat, fs/namei.c):
   * missing (ENOENT); a last component ".", ".." or "/" is EINVAL, ENOTEMPTY and EBUSY for
   * rmdir, EISDIR for unlink; then the kind (ENOTDIR, EISDIR), a mountpoint (EBUSY), entries
   * (ENOTEMPTY).
   */
  private remove(rec: SyscallRecord, path: string, found: Found, dir: boolean): void {
    const node = found.node;
    const last = path.split('/').filter((c) => c !== '').pop();
    const special = last === undefined ? 'EBUSY' : last === '.' ? 'EINVAL' : last === '..' ? 'ENOTEMPTY' : undefined;
    // The parent's mount must be writable before the name is looked up (mnt_want_write() in do_rmdir() and do_unlinkat()).
    if (special === undefined) this.writable(rec, found.parent);
    if (!node) throw this.fail(rec, 'ENOENT');
    if (special !== undefined) throw this.fail(rec, dir ? special : 'EISDIR');
    if (dir && node.kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
    if (!dir && node.kind === 'dir') throw this.fail(rec, 'EISDIR');
    if (this.isMountRoot(node)) throw this.fail(rec, 'EBUSY');
    if (dir && this.entries(node).size > 0) throw this.fail(rec, 'ENOTEMPTY');
    this.entries(this.last(found.parent)).delete(found.name);
  }

  symlink(target: string, linkPath: string): void {
    const rec = this.record('symlink', { target, linkPath });
    this.create(rec, this.walk(rec, linkPath, false), 'symlink', 0o777).target = target;
  }

  symlinkat(target: string, dirfd: number, linkPath: string): void {
    const rec = this.record('symlinkat', { target, dirfd, linkPath });
    this.create(rec, this.walkAt(rec, dirfd, linkPath, false), 'symlink', 0o777).target = target;
  }

  readlink(path: string): string {
    const rec = this.record('readlink', { path });
    const magic = this.magicLink(path);
    if (magic && magic.rest === '') return magic.entry.path;
    const node = this.existing(rec, path, false);
    if (node.kind === 'symlink' || (node.magic && node.target !== '')) return node.target;
    throw this.fail(rec, 'EINVAL');
  }

  readlinkat(dirfd: number, path: string): string {
    const rec = this.record('readlinkat', { dirfd, path });
    const node = path === '' ? this.fdNode(rec, dirfd) : this.walkAt(rec, dirfd, path, false).node;
    if (!node) throw this.fail(rec, 'ENOENT');
    if (node.kind !== 'symlink') throw this.fail(rec, path === '' ? 'ENOENT' : 'EINVAL');
    return node.target;
  }

  readdir(path: string): string[] {
    const rec = this.record('readdir', { path });
    const node = this.existing(rec, path, true);
    if (node.kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
    return [...this.entries(node).keys()].sort();
  }

  readFile(path: string): string {
    const rec = this.record('readFile', { path });
    const node = this.existing(rec, path, true);
    if (node.kind === 'dir') throw this.fail(rec, 'EISDIR');
    return node.kind === 'file' ? node.content : '';
  }

  writeFile(path: string, data: string, mode?: number): void {
    const rec = this.record('writeFile', mode === undefined ? { path, data } : { path, data, mode });
    const found = this.walk(rec, path, true);
    const node = found.node ?? this.create(rec, found, 'file', (mode ?? 0o666) & ~this.mask);
    if (node.kind === 'dir') throw this.fail(rec, 'EISDIR');
    if (found.node) this.openedForWriting(rec, this.chainOf(found));
    if (this.sealRefuses(node, true, data.length, data.length)) throw this.fail(rec, 'EPERM');
    if (node.kind === 'file') node.content = data;
  }

  copyFile(source: string, dest: string): void {
    const rec = this.record('copyFile', { source, dest });
    const from = this.existing(rec, source, true);
    if (from.kind === 'dir') throw this.fail(rec, 'EISDIR');
    const found = this.walk(rec, dest, true);
    const node = found.node ?? this.create(rec, found, 'file', 0o666 & ~this.mask);
    if (node.kind === 'dir') throw this.fail(rec, 'EISDIR');
    if (found.node) this.openedForWriting(rec, this.chainOf(found));
    if (this.sealRefuses(node, true, from.content.length, from.content.length)) throw this.fail(rec, 'EPERM');
    node.content = from.content;
  }

  /**
   * copy_file_range(2) of a whole file onto another, as the real port makes it: EBADF for
   * a descriptor that is not open or an O_PATH one; then (generic_file_rw_checks(),
   * fs/read_write.c) EISDIR when either is a directory, and EBADF for an `fdOut` not open
   * for writing. The kernel's EINVAL for another kind of file (a FIFO, a device) is no
   * error: the port copies by read(2) and write(2) then. The copy's bytes follow what a
   * regular `fdOut` held (both offsets at their start here, as the copy's are), as far as
   * its seals let them.
   */
  copyFileRange(fdIn: number, fdOut: number): void {
    const rec = this.record('copyFileRange', { fdIn, fdOut });
    this.fileDescriptor(rec, fdIn);
    this.fileDescriptor(rec, fdOut);
    const to = this.fds.get(fdOut)!;
    const from = this.fdNode(rec, fdIn);
    const node = this.last(to.chain);
    if (from.kind === 'dir' || node.kind === 'dir') throw this.fail(rec, 'EISDIR');
    if (!to.forWriting) throw this.fail(rec, 'EBADF');
    if (node.kind !== 'file') return;
    if (this.sealRefuses(node, false, from.content.length, node.content.length + from.content.length)) throw this.fail(rec, 'EPERM');
    node.content += from.content;
  }

  /**
   * memfd_create(2): a regular file of no directory, open for reading and writing (its
   * link `/memfd:NAME (deleted)`), close-on-exec with MFD_CLOEXEC (the fake keeps no
   * descriptor flags). Made without MFD_ALLOW_SEALING it has F_SEAL_SEAL, so no seal can
   * be added (mm/memfd.c).
   */
  memfdCreate(name: string, flags: number): number {
    this.record('memfdCreate', { name, flags });
    const node = this.newNode('file', 0o777);
    this.seals.set(node, (flags & MFD_ALLOW_SEALING) !== 0 ? 0 : F_SEAL_SEAL);
    const fd = this.newFd();
    this.setFd(fd, { ...detached(`/memfd:${name} (deleted)`, node), writing: newFilesystemMount(false), forWriting: true });
    return fd;
  }

  /**
   * fcntl(2) F_ADD_SEALS (memfd_add_seals(), mm/memfd.c): EPERM for a descriptor not open
   * for writing, whatever its file, before anything else; EINVAL for a bit outside
   * F_ALL_SEALS, then for a file that takes no seals (heldSeals: a device open for
   * writing too); EPERM once it has F_SEAL_SEAL; EBADF for an O_PATH descriptor (fcntl(2)
   * takes only the descriptor commands on one).
   */
  addSeals(fd: number, seals: number): void {
    const rec = this.record('addSeals', { fd, seals });
    this.fileDescriptor(rec, fd);
    const entry = this.fds.get(fd)!;
    if (!entry.forWriting) throw this.fail(rec, 'EPERM');
    if ((seals & ~F_ALL_SEALS) !== 0) throw this.fail(rec, 'EINVAL');
    const held = this.heldSeals(rec, this.fdNode(rec, fd), entry.path);
    if ((held & F_SEAL_SEAL) !== 0) throw this.fail(rec, 'EPERM');
    this.seals.set(this.fdNode(rec, fd), held | seals);
  }

  /** fcntl(2) F_GET_SEALS of the file `path` leads to (ENOENT for none): EINVAL for a file that takes no seals (heldSeals). */
  getSeals(path: string): number {
    const rec = this.record('getSeals', { path });
    let found: Found;
    try {
      found = this.walk(rec, path, true);
    } catch (err) {
      // The real port's open(2) of the file is what fails.
      if (err instanceof SyscallError) throw new SyscallError('open', err.errno, err.paths);
      throw err;
    }
    if (!found.node) throw new SyscallError('open', errnoNumber('ENOENT'), this.errorPaths(rec));
    // Through a magic link (/proc/self/exe), the file it leads to, on its own filesystem.
    return this.heldSeals(rec, found.node, this.chainPath(this.chainOf(found)));
  }

  /**
   * The seals of `node`, the file at `path` (memfd_fcntl(), mm/memfd.c): a memfd's, and a
   * tmpfs regular file's, which has F_SEAL_SEAL alone from its making (shmem_get_inode(),
   * mm/shmem.c); EINVAL for any other file.
   */
  private heldSeals(rec: SyscallRecord, node: FakeNode, path: string): number {
    const held = this.seals.get(node);
    if (held !== undefined) return held;
    if (node.kind === 'file' && this.fsTypeAt(path, new Set()) === TMPFS_MAGIC) return F_SEAL_SEAL;
    throw this.fail(rec, 'EINVAL');
  }

  listxattr(path: string): string[] {
    const rec = this.record('listxattr', { path });
    return [...this.existing(rec, path, true).xattrs.keys()];
  }

  getxattr(path: string, name: string): Uint8Array {
    const rec = this.record('getxattr', { path, name });
    const value = this.existing(rec, path, true).xattrs.get(name);
    // ENODATA: the file has no attribute of that name (getxattr(2)).
    if (value === undefined) throw this.fail(rec, 'ENODATA');
    return typeof value === 'string' ? Buffer.from(value) : value;
  }

  lsetxattr(path: string, name: string, value: string | Uint8Array): void {
    const rec = this.record('lsetxattr', { path, name, value });
    this.changed(rec, path, false).xattrs.set(name, value);
  }

  fsetxattr(fd: number, name: string, value: string | Uint8Array): void {
    const rec = this.record('fsetxattr', { fd, name, value });
    this.fileDescriptor(rec, fd);
    const entry = this.fds.get(fd)!;
    this.writable(rec, entry.chain);
    this.last(entry.chain).xattrs.set(name, value);
  }

  sleep(ms: number): void {
    this.record('sleep', { ms });
  }

  unshare(flags: number): void {
    this.record('unshare', { flags });
    if ((flags & CLONE_NEWNS) !== 0) this.copyMountNamespace((flags & CLONE_NEWUSER) !== 0);
  }

  /**
   * The model's mounts become those of a new mount namespace, copies of them
   * (copiedPropagation): `lessPrivileged`, one owned by a new user namespace. Here the
   * mounts made (entries of `mounts`); an overlay model's starting ones too.
   */
  protected copyMountNamespace(lessPrivileged: boolean): void {
    for (const m of this.mounts) {
      const state = this.entryStates.get(m);
      if (state) state.propagation = copiedPropagation(state.propagation, lessPrivileged);
    }
  }

  cloexecFrom(first: number): void {
    this.record('cloexecFrom', { first });
  }

  setCloexec(fd: number): void {
    this.openDescriptor(this.record('setCloexec', { fd }), fd);
  }

  clearCloexec(fd: number): void {
    this.openDescriptor(this.record('clearCloexec', { fd }), fd);
  }

  sethostname(name: string): void {
    this.utsName(this.record('sethostname', { name }), name);
  }

  setdomainname(name: string): void {
    this.utsName(this.record('setdomainname', { name }), name);
  }

  /** The session keyring joined last (joinSessionKeyring): its name ('_ses' for an anonymous one), serial and the permissions added; none joined yet, undefined. */
  sessionKeyring: { name: string; serial: number; permissions: number } | undefined;
  private nextKeySerial = 0x2f000000;

  joinSessionKeyring(name: string | null, permissions: number): number {
    const rec = this.record('joinSessionKeyring', { name, permissions });
    // keyrings(7): a description is at most 4095 bytes.
    if (name === '' || (name !== null && Buffer.byteLength(name) > 4095)) throw this.fail(rec, 'EINVAL');
    // The kernel's join answers 0 for the keyring the thread has already; the port then asks for its serial.
    const serial = name !== null && this.sessionKeyring?.name === name ? this.sessionKeyring.serial : this.nextKeySerial++;
    this.sessionKeyring = { name: name ?? ANONYMOUS_SESSION_KEYRING, serial, permissions };
    return serial;
  }

  /** ENODEV for an interface other than the loopback one, the only one a new network namespace has (network_namespaces(7)). */
  setInterfaceUp(name: string): void {
    const rec = this.record('setInterfaceUp', { name });
    if (name !== 'lo') throw this.fail(rec, 'ENODEV');
  }

  /** sethostname(2) and setdomainname(2): EINVAL for a name longer than NEW_UTS_LEN bytes. */
  private utsName(rec: SyscallRecord, name: string): void {
    if (Buffer.byteLength(name) > NEW_UTS_LEN) throw this.fail(rec, 'EINVAL');
  }

  setgroups(gids: number[]): void {
    this.record('setgroups', { gids: [...gids] });
  }

  setgid(gid: number): void {
    this.record('setgid', { gid });
  }

  setuid(uid: number): void {
    this.record('setuid', { uid });
  }

  setns(fd: number, nstype: number): void {
    this.record('setns', { fd, nstype });
  }

  getpid(): number {
    this.record('getpid', {});
    return this.pid;
  }

  /** getrandom(2) answers EINVAL for a flag it does not know. */
  getrandom(length: number, flags: number): Uint8Array {
    const rec = this.record('getrandom', { length, flags });
    if ((flags & ~GRND_FLAGS) !== 0) throw this.fail(rec, 'EINVAL');
    return this.randomBytes(length, ++this.randomCalls);
  }

  /** A descriptor named as the kernel names a pidfd; failOn('pidfdOpen', 'ESRCH') makes a process gone. */
  pidfdOpen(pid: number): number {
    this.record('pidfdOpen', { pid });
    return this.detachedFd(PIDFD_NAME, this.newNode('file', 0o600));
  }

  pidfdSendSignal(pidfd: number, signal: number): void {
    const rec = this.record('pidfdSendSignal', { pidfd, signal });
    if (this.fds.get(pidfd)?.path !== PIDFD_NAME) throw this.fail(rec, 'EBADF');
  }

  setsid(): void {
    const rec = this.record('setsid', {});
    if (this.session.groupLeader) throw this.fail(rec, 'EPERM');
    this.session = { sid: this.pid, groupLeader: true, terminal: false };
  }

  getsid(): number {
    this.record('getsid', {});
    return this.session.sid;
  }

  releaseTerminal(fd: number): void {
    const rec = this.record('releaseTerminal', { fd });
    if (this.fds.get(fd)?.path !== '/dev/tty') throw this.fail(rec, 'ENOTTY');
    // A session leader would take the terminal from the whole session instead.
    this.session = { ...this.session, terminal: false };
  }

  setNoNewPrivs(): void {
    this.record('setNoNewPrivs', {});
    this.noNewPrivs = true;
  }

  setDumpable(dumpable: boolean): void {
    this.record('setDumpable', { dumpable });
  }

  setParentDeathSignal(signal: number): void {
    this.record('setParentDeathSignal', { signal });
  }

  setChildSubreaper(): void {
    this.record('setChildSubreaper', {});
  }

  unsetChildSubreaper(): void {
    this.record('unsetChildSubreaper', {});
  }

  /** failOn('reapChild', 'ECHILD') makes a pid no child of this process. */
  reapChild(pid: number): void {
    this.record('reapChild', { pid });
  }

  /** The children reapIfEnded finds ended, by pid; each is reaped once (true), any other runs still (false). failOn('reapIfEnded', 'ECHILD') makes a pid no child of this process. */
  readonly endedChildren = new Set<number>();

  reapIfEnded(pid: number): boolean {
    this.record('reapIfEnded', { pid });
    return this.endedChildren.delete(pid);
  }

  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    const rec = this.record('setrlimit', { resource, soft, hard });
    if (soft > hard) throw this.fail(rec, 'EINVAL');
    this.limits.set(resource, { soft, hard });
  }

  getrlimit(resource: number): { soft: bigint; hard: bigint } {
    this.record('getrlimit', { resource });
    return this.limits.get(resource) ?? { soft: 1024n, hard: 4096n };
  }

  capbsetRead(cap: number): boolean {
    const rec = this.record('capbsetRead', { cap });
    if (cap < 0 || cap > this.lastCap) throw this.fail(rec, 'EINVAL');
    return this.bounding.has(cap);
  }

  capbsetDrop(cap: number): void {
    const rec = this.record('capbsetDrop', { cap });
    if (cap < 0 || cap > this.lastCap) throw this.fail(rec, 'EINVAL');
    this.bounding.delete(cap);
  }

  setKeepCaps(keep: boolean): void {
    this.record('setKeepCaps', { keep });
  }

  capset(effective: bigint, permitted: bigint, inheritable: bigint): void {
    this.record('capset', { effective, permitted, inheritable });
    this.effective = effective;
  }

  /**
   * libseccomp's work modelled: the program is one instruction returning the default
   * action; rules of names not in seccompNumbers are listed as unknown; the largest
   * numbers are the native architecture's only, when the filter lists it.
   */
  seccompCompile(filter: SeccompFilter): SeccompCompiled {
    this.record('seccompCompile', { filter });
    const unknown = [...new Set(filter.rules.map((r) => r.syscall).filter((name) => !this.seccompNumbers.has(name)))];
    const nr = Math.max(0, ...filter.names.map((name) => this.seccompNumbers.get(name) ?? 0));
    return {
      program: encodeProgram([{ code: BPF_RET_K, jt: 0, jf: 0, k: filter.defaultAction }]),
      nativeArch: AUDIT_ARCH_X86_64,
      unknown,
      lastSyscalls: nr > 0 && filter.architectures.some((a) => a.arch === AUDIT_ARCH_X86_64) ? [{ arch: AUDIT_ARCH_X86_64, nr }] : [],
    };
  }

  /**
   * seccomp(2)'s checks: a program of 1 to BPF_MAXINSNS whole instructions (EINVAL), and
   * no_new_privs or CAP_SYS_ADMIN (EACCES). A listener is a new descriptor.
   */
  seccompLoad(program: Uint8Array, flags: number): number {
    const rec = this.record('seccompLoad', { program, flags });
    const length = program.length / SOCK_FILTER_SIZE;
    if (!Number.isInteger(length) || length < 1 || length > BPF_MAXINSNS) throw this.fail(rec, 'EINVAL');
    const sysAdmin = this.effective === undefined || (this.effective & (1n << BigInt(CAPABILITIES.get('CAP_SYS_ADMIN')!))) !== 0n;
    if (!this.noNewPrivs && !sysAdmin) throw this.fail(rec, 'EACCES');
    this.seccompFilters.push({ program, flags });
    if (!(flags & SECCOMP_FILTER_FLAG_NEW_LISTENER)) return -1;
    return this.detachedFd('anon_inode:seccomp notify', this.newNode('file', 0o600));
  }

  /** A connected socket: a new descriptor, whether or not anything is at `path` in the model. */
  connectUnix(path: string): number {
    this.record('connectUnix', { path });
    return this.detachedFd(`socket:${path}`, this.newNode('socket', 0o777));
  }

  /** What peerPid returns for a socket descriptor (set by a test); a socket without one gives this fake's own pid, as a pair made here would. */
  readonly peerPids = new Map<number, number>();

  /** getsockopt(2) SO_PEERCRED: ENOTSOCK for a descriptor that is no socket. */
  peerPid(socket: number): number {
    const rec = this.record('peerPid', { socket });
    const open = this.fds.get(socket);
    if (!open) throw this.fail(rec, 'EBADF');
    if (!open.path.startsWith('socket:')) throw this.fail(rec, 'ENOTSOCK');
    return this.peerPids.get(socket) ?? this.pid;
  }

  /**
   * Pseudo-terminals: a master is a descriptor opened at a path ending in /ptmx; ptyUnlock
   * unlocks it, ptyPeer then opens its peer at /dev/pts/N (N from 0, in order), EIO while
   * it is locked. setWindowSize records the size of a terminal's descriptor.
   */
  readonly ptys = new Map<number, { unlocked: boolean; peer?: number; rows?: number; cols?: number }>();
  /** What sendFdMessage sent: the socket, the path of the descriptor sent, the data. */
  readonly sentMessages: { socket: number; path: string; data: string }[] = [];

  /** What schedSetattr, ioprioSet and personality last set: the struct sched_attr, the I/O priority value and the execution domain. */
  schedAttr: Uint8Array | undefined;
  ioPriority: number | undefined;
  persona = 0;

  schedSetattr(attr: Uint8Array, flags: number): void {
    const rec = this.record('schedSetattr', { attr, flags });
    const view = new DataView(attr.buffer, attr.byteOffset, attr.byteLength);
    // sched_setattr(2): the struct's first word is its size, 0 read as SCHED_ATTR_SIZE_VER0 (48); a smaller one is E2BIG.
    const size = view.getUint32(0, LITTLE_ENDIAN) || 48;
    if (size < 48 || size > attr.length) throw this.fail(rec, 'E2BIG');
    // A real-time policy (SCHED_FIFO 1, SCHED_RR 2) takes a priority from 1 to 99, any other 0; nice is -20 to 19.
    const policy = view.getUint32(4, LITTLE_ENDIAN);
    const priority = view.getUint32(20, LITTLE_ENDIAN);
    const nice = view.getInt32(16, LITTLE_ENDIAN);
    const realTime = policy === 1 || policy === 2;
    if (flags !== 0 || policy > 6 || (realTime ? priority < 1 || priority > 99 : priority !== 0) || nice < -20 || nice > 19) throw this.fail(rec, 'EINVAL');
    this.schedAttr = attr;
  }

  ioprioSet(which: number, who: number, ioprio: number): void {
    const rec = this.record('ioprioSet', { which, who, ioprio });
    // IOPRIO_WHO_PROCESS, IOPRIO_WHO_PGRP, IOPRIO_WHO_USER; classes NONE (0) to IDLE (3), levels 0 to 7 (include/uapi/linux/ioprio.h).
    if (which < 1 || which > 3 || ioprio >> 13 > 3 || (ioprio & 0x1fff) > 7) throw this.fail(rec, 'EINVAL');
    this.ioPriority = ioprio;
  }

  /** personality(2) does not fail: an execution domain the kernel lacks leaves PER_LINUX's. */
  personality(persona: number): void {
    this.record('personality', { persona });
    this.persona = persona;
  }

  private isTerminal(fd: number): boolean {
    const path = this.fds.get(fd)?.path ?? '';
    return path.endsWith('/ptmx') || /\/dev\/pts\/\d+$/.test(path) || path === '/dev/tty';
  }

  ptyUnlock(fd: number): void {
    const rec = this.record('ptyUnlock', { fd });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.fds.get(fd)!.path.endsWith('/ptmx')) throw this.fail(rec, 'ENOTTY');
    this.ptys.set(fd, { ...this.ptys.get(fd), unlocked: true });
  }

  ptyPeer(fd: number, flags: number): number {
    const rec = this.record('ptyPeer', { fd, flags });
    const pty = this.ptys.get(fd);
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.fds.get(fd)!.path.endsWith('/ptmx')) throw this.fail(rec, 'ENOTTY');
    if (!pty?.unlocked) throw this.fail(rec, 'EIO');
    const n = [...this.ptys.values()].filter((p) => p.peer !== undefined).length;
    const peer = this.detachedFd(`/dev/pts/${n}`, this.newNode('char', 0o620));
    this.ptys.set(fd, { ...pty, peer });
    return peer;
  }

  setWindowSize(fd: number, rows: number, cols: number): void {
    const rec = this.record('setWindowSize', { fd, rows, cols });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.isTerminal(fd)) throw this.fail(rec, 'ENOTTY');
    this.ptys.set(fd, { unlocked: false, ...this.ptys.get(fd), rows, cols });
  }

  getWindowSize(fd: number): { rows: number; cols: number } {
    const rec = this.record('getWindowSize', { fd });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.isTerminal(fd)) throw this.fail(rec, 'ENOTTY');
    const pty = this.ptys.get(fd);
    return { rows: pty?.rows ?? 0, cols: pty?.cols ?? 0 };
  }

  /** The modes of each terminal descriptor setTermios set; one never set has DEFAULT_TERMIOS. */
  readonly termios = new Map<number, Termios>();

  getTermios(fd: number): Termios {
    const rec = this.record('getTermios', { fd });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.isTerminal(fd)) throw this.fail(rec, 'ENOTTY');
    const t = this.termios.get(fd) ?? DEFAULT_TERMIOS;
    return { ...t, cc: [...t.cc] };
  }

  setTermios(fd: number, termios: Termios): void {
    const rec = this.record('setTermios', { fd, termios: { ...termios, cc: [...termios.cc] } });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.isTerminal(fd)) throw this.fail(rec, 'ENOTTY');
    this.termios.set(fd, { ...termios, cc: [...termios.cc] });
  }

  /** Descriptors setNonBlocking marked, and setBlocking has not unmarked since. */
  readonly nonBlocking = new Set<number>();

  setNonBlocking(fd: number): void {
    const rec = this.record('setNonBlocking', { fd });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    this.nonBlocking.add(fd);
  }

  setBlocking(fd: number): void {
    this.openDescriptor(this.record('setBlocking', { fd }), fd);
    this.nonBlocking.delete(fd);
  }

  setControllingTerminal(fd: number): void {
    const rec = this.record('setControllingTerminal', { fd });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.isTerminal(fd)) throw this.fail(rec, 'ENOTTY');
    // tty_ioctl(4): only a session leader without a controlling terminal may take one.
    if (this.session.sid !== this.pid || this.session.terminal) throw this.fail(rec, 'EPERM');
    this.session = { ...this.session, terminal: true };
  }

  sendFdMessage(socket: number, fd: number, data: string): void {
    const rec = this.record('sendFdMessage', { socket, fd, data });
    if (!this.fds.has(socket) || !this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    const sent = this.fds.get(fd)!;
    this.sentMessages.push({ socket, path: sent.path, data });
    this.sentFrom.push({ socket: this.fds.get(socket)!, node: sent.chain[sent.chain.length - 1]?.node, tree: this.trees.get(fd) });
  }

  /** A regular file open as `fd` takes `data` as its whole content (as a procfs file does); a pipe or socket only records it. */
  write(fd: number, data: string): void {
    const rec = this.record('write', { fd, data });
    const entry = this.fds.get(fd);
    const node = entry?.chain[entry.chain.length - 1]?.node;
    if (node && this.sealRefuses(node, false, data.length, Math.max(node.content.length, data.length))) throw this.fail(rec, 'EPERM');
    if (node?.kind === 'file') node.content = data;
  }

  /**
   * Whether a seal of `node` (a memfd's) refuses writing `bytes` bytes to it, after a
   * truncation to none where `truncate` (O_TRUNC), leaving it `size` bytes long: EPERM
   * from F_SEAL_WRITE or F_SEAL_FUTURE_WRITE for any byte written (shmem_write_begin(),
   * mm/shmem.c), from F_SEAL_SHRINK for a truncation of bytes it has and from
   * F_SEAL_GROW for a size above the one it had (shmem_setattr(), and the write's own
   * check).
   */
  private sealRefuses(node: FakeNode, truncate: boolean, bytes: number, size: number): boolean {
    const seals = this.seals.get(node) ?? 0;
    const before = truncate ? 0 : node.content.length;
    return (
      (bytes > 0 && (seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE)) !== 0) ||
      (truncate && node.content.length > 0 && (seals & F_SEAL_SHRINK) !== 0) ||
      (size > before && (seals & F_SEAL_GROW) !== 0)
    );
  }

  /** What exchange answers, one line each call in order; `{"result":{}}` (the console event's answer) once they are used up. */
  readonly exchangeAnswers: string[] = [];

  exchange(fd: number, line: string): string {
    this.record('exchange', { fd, line });
    return this.exchangeAnswers.shift() ?? '{"result":{}}';
  }

  /** What getpgrp answers, and the foreground process group of every terminal. */
  processGroup = 1;
  foregroundGroup = 1;

  getpgrp(): number {
    this.record('getpgrp', {});
    return this.processGroup;
  }

  getForegroundGroup(fd: number): number {
    const rec = this.record('getForegroundGroup', { fd });
    if (!this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    if (!this.isTerminal(fd)) throw this.fail(rec, 'ENOTTY');
    return this.foregroundGroup;
  }

  /**
   * Each end of a socketPair, by the open file its descriptors share (a duplicate or an
   * inherited copy is the same end), with its peer.
   */
  private readonly socketPeers = new Map<object, object>();
  /** For each of sentMessages: the socket's open file it was sent on, and the file it passed (a detached tree's source too). */
  private readonly sentFrom: { socket: object; node?: FakeNode; tree?: DetachedTree }[] = [];
  /** The indexes of the sentMessages recvFdMessage has taken. */
  private readonly received = new Set<number>();

  socketPair(): [number, number] {
    this.record('socketPair', {});
    const n = this.socketPeers.size / 2;
    const ends: [number, number] = [this.detachedFd(`socket:[pair ${n} end 0]`, this.newNode('socket', 0o777)), this.detachedFd(`socket:[pair ${n} end 1]`, this.newNode('socket', 0o777))];
    const [a, b] = ends.map((fd) => this.fds.get(fd)!);
    this.socketPeers.set(a, b);
    this.socketPeers.set(b, a);
    return ends;
  }

  /**
   * The next message sendFdMessage sent on the peer of `socket` (a socketPair end): its
   * data and a new descriptor of the file it passed, at its path. EAGAIN when there is none.
   */
  recvFdMessage(socket: number): { data: string; fd?: number } {
    const rec = this.record('recvFdMessage', { socket });
    const file = this.fds.get(socket);
    if (!file) throw this.fail(rec, 'EBADF');
    const queue = this.datagrams.get(this.last(file.chain));
    if (queue) {
      if (queue.length === 0) throw this.fail(rec, 'EAGAIN');
      return { data: queue.shift()! };
    }
    const peer = this.socketPeers.get(file);
    const at = this.sentFrom.findIndex((m, i) => !this.received.has(i) && m.socket === peer);
    if (peer === undefined || at < 0) throw this.fail(rec, 'EAGAIN');
    this.received.add(at);
    const { node, tree } = this.sentFrom[at];
    const fd = this.detachedFd(this.sentMessages[at].path, node ?? this.newNode('char', 0o620));
    // A detached tree (open_tree) stays one through the socket, to be attached.
    if (tree) this.trees.set(fd, tree);
    return { data: this.sentMessages[at].data, fd };
  }

  /** The datagrams sent to each socket bindUnixDatagram bound (by its file), not yet received, in order. */
  private readonly datagrams = new Map<FakeNode, string[]>();
  /** The sockets bound in the abstract namespace, by name (`@` and the name). */
  private readonly abstractSockets = new Map<string, FakeNode>();

  /** A socket bound at `path`: its file made as mknod(2) would make it (EEXIST there is the kernel's EADDRINUSE). */
  bindUnixDatagram(path: string): number {
    const rec = this.record('bindUnixDatagram', { path });
    let node: FakeNode;
    if (path.startsWith('@')) {
      const bound = this.abstractSockets.get(path);
      // An abstract name is freed with its socket's last descriptor (unix(7)).
      if (bound && this.heldOpen(bound)) throw this.fail(rec, 'EADDRINUSE');
      node = this.newNode('socket', 0o777);
      this.abstractSockets.set(path, node);
    } else {
      const found = this.walk(rec, path, false);
      if (found.node) throw this.fail(rec, 'EADDRINUSE');
      node = this.create(rec, found, 'socket', 0o777 & ~this.mask);
    }
    this.datagrams.set(node, []);
    return this.detachedFd(`socket:${path}`, node);
  }

  /** Whether a descriptor this process has open refers to `node`. */
  private heldOpen(node: FakeNode): boolean {
    for (const file of this.fds.values()) if (this.last(file.chain) === node) return true;
    return false;
  }

  /** Queued on the socket bound at `path`, which recvFdMessage takes it from: ENOENT where nothing is there, ECONNREFUSED at a file no socket is bound to. */
  sendUnixDatagram(path: string, data: string): void {
    const rec = this.record('sendUnixDatagram', { path, data });
    const node = path.startsWith('@') ? this.abstractSockets.get(path) : this.walk(rec, path, true).node;
    if (!node) throw this.fail(rec, path.startsWith('@') ? 'ECONNREFUSED' : 'ENOENT');
    const queue = this.datagrams.get(node);
    // unix_find_bsd(): a file that is no socket, or one no open socket is bound to, refuses.
    if (!queue || !this.heldOpen(node)) throw this.fail(rec, 'ECONNREFUSED');
    queue.push(data);
  }

  /** The sender threads startFdSender started, by number: their socket and data, and the descriptor sent once sendFd ran. */
  readonly fdSenders = new Map<number, { socket: number; data: string; sent?: number }>();

  startFdSender(socket: number, data: string): number {
    const rec = this.record('startFdSender', { socket, data });
    if (!this.fds.has(socket)) throw this.fail(rec, 'EBADF');
    const sender = this.fdSenders.size + 1;
    this.fdSenders.set(sender, { socket, data });
    return sender;
  }

  sendFd(sender: number, fd: number): void {
    const rec = this.record('sendFd', { sender, fd });
    const thread = this.fdSenders.get(sender);
    if (!thread || thread.sent !== undefined || !this.fds.has(thread.socket) || !this.fds.has(fd)) throw this.fail(rec, 'EBADF');
    thread.sent = fd;
  }

  ambientClearAll(): void {
    this.record('ambientClearAll', {});
  }

  ambientRaise(cap: number): void {
    this.record('ambientRaise', { cap });
  }

  prepareExec(): void {
    this.record('prepareExec', {});
  }

  /**
   * Ends the run (ExecveCalled), but for a program on a mount with noexec, which the
   * kernel refuses to run (EACCES: path_noexec() in do_open_execat(), fs/exec.c).
   */
  execve(path: string, argv: string[], envp: string[]): never {
    const rec = this.record('execve', { path, argv: [...argv], envp: [...envp] });
    const chain = this.existingChain(path);
    if (chain && this.last(chain).kind === 'file' && (this.mountOver(chain).state.flags & MS_NOEXEC) !== 0n) throw this.fail(rec, 'EACCES');
    throw new ExecveCalled(path, [...argv], [...envp]);
  }

  runCommand(cmd: CommandSpec): CommandResult {
    this.record('runCommand', { cmd: copyCommand(cmd) });
    const result = this.commandResult;
    return typeof result === 'function' ? result(cmd) : { ...result };
  }

  /** runCommand's answer (commandResult), promised; an injected failure rejects it. */
  runCommandAsync(cmd: CommandSpec): Promise<CommandResult> {
    try {
      this.record('runCommandAsync', { cmd: copyCommand(cmd) });
    } catch (err) {
      return Promise.reject(err);
    }
    const result = this.commandResult;
    return Promise.resolve(typeof result === 'function' ? result(cmd) : { ...result });
  }

  // ---- extension points for overlay models (DryRunSyscalls) ----

  /** The entries of a directory node. */
  protected entries(dir: FakeNode): Map<string, FakeNode> {
    return (dir.children ??= new Map());
  }

  /** f_type where the fake mounted nothing: the model's own filesystem, reported as ext4. */
  protected baseFsType(_path: string): number {
    return EXT4_SUPER_MAGIC;
  }

  /** st_size of a node. */
  protected sizeOf(node: FakeNode): number {
    if (node.kind === 'file') return Buffer.byteLength(node.content);
    if (node.kind === 'symlink') return Buffer.byteLength(node.target);
    return node.kind === 'dir' ? 4096 : 0;
  }

  protected statOf(node: FakeNode): FileStat {
    const { kind, perm, uid, gid, rdev, dev, ino } = node;
    return { kind, perm, uid, gid, rdev, dev, ino, size: this.sizeOf(node) };
  }

  protected newNode(kind: FileKind, perm: number): FakeNode {
    const ino = this.nextIno++;
    const node: FakeNode = { kind, perm: perm & 0o7777, uid: 0, gid: 0, rdev: 0n, dev: 0n, ino, content: '', target: '', xattrs: new Map() };
    if (kind === 'dir') node.children = new Map();
    return node;
  }

  // ---- recording and failure injection, in one place ----

  /** Records a call, then throws if an injected failure matches it. */
  private record<K extends SyscallName>(op: K, args: SyscallArgs[K]): SyscallRecordOf<K> {
    const rec = { op, ...args } as unknown as SyscallRecordOf<K>;
    const position = QUERY_SYSCALLS.has(op) ? -1 : this.effectCount++;
    this.calls.push(rec);
    this.noteNamedFds(rec);
    let errno: number | undefined;
    for (const rule of this.rules) {
      if (rule.op !== op || !this.pathMatches(rule.path, rec)) continue;
      rule.seen += 1;
      if (errno === undefined && rule.seen >= rule.nth && rule.fired < rule.times) {
        rule.fired += 1;
        errno = rule.errno;
      }
    }
    errno ??= this.failPositions.get(position);
    if (errno !== undefined) throw new SyscallError(errorName(op), errno, this.errorPaths(rec), errorDetail(rec));
    return rec;
  }

  /** Keeps where the open descriptors `rec` names are open, before the call changes them (pathAtCall). */
  private noteNamedFds(rec: SyscallRecord): void {
    let named: Map<number, string> | undefined;
    for (const fd of fdsNamedBy(rec)) {
      const entry = this.fds.get(fd);
      if (entry) (named ??= new Map()).set(fd, entry.path);
    }
    if (named) this.namedFds.set(rec, named);
  }

  private pathMatches(pattern: string | RegExp | undefined, rec: SyscallRecord): boolean {
    if (pattern === undefined) return true;
    const primary = this.primaryPath(rec);
    if (primary === undefined) return false;
    const path = this.named(primary);
    if (typeof pattern === 'string') return tidy(pattern) === tidy(path);
    pattern.lastIndex = 0;
    return pattern.test(path);
  }

  private primaryPath(rec: SyscallRecord): string | undefined {
    switch (rec.op) {
      case 'mount':
      case 'umount2':
        return rec.target;
      case 'pivotRoot':
        return rec.newRoot;
      case 'symlink':
        return rec.linkPath;
      case 'copyFile':
        return rec.dest;
      case 'copyFileRange':
        return this.fds.get(rec.fdOut)?.path;
      case 'runCommand':
      case 'runCommandAsync':
        return rec.cmd.path;
      case 'openat':
      case 'openat2':
      case 'mkdirat':
      case 'mknodat':
      case 'unlinkat':
      case 'readlinkat':
      case 'fchownat':
      case 'mountSetattr':
      case 'openTree':
      case 'openTreeAttr':
        return this.atPath(rec.dirfd, rec.path);
      case 'moveMount':
        return this.atPath(rec.toDirfd, rec.toPath);
      case 'renameat':
        return this.atPath(rec.newDirfd, rec.newPath);
      case 'fsopen':
        return rec.fstype;
      case 'fsconfig':
        return fsconfigShown(rec.cmd, rec.key, rec.value);
      case 'symlinkat':
        return this.atPath(rec.dirfd, rec.linkPath);
      case 'sethostname':
      case 'setdomainname':
      case 'setInterfaceUp':
        // The real port names the name, as a path.
        return rec.name;
      case 'joinSessionKeyring':
        // An anonymous keyring by the name the kernel gives it.
        return rec.name ?? ANONYMOUS_SESSION_KEYRING;
      case 'pidfdOpen':
      case 'reapChild':
      case 'reapIfEnded':
        // The real port names the process's directory.
        return `/proc/${rec.pid}`;
      case 'pidfdSendSignal':
        return this.fds.get(rec.pidfd)?.path;
      case 'peerPid':
        return this.fds.get(rec.socket)?.path;
      case 'fchdir':
      case 'fstatfs':
      case 'fstat':
      case 'fstatMount':
      case 'fsmount':
      case 'fchmod':
      case 'fsetxattr':
      case 'close':
      case 'setns':
      case 'setCloexec':
      case 'clearCloexec':
      case 'addSeals':
      case 'releaseTerminal':
      case 'ptyUnlock':
      case 'ptyPeer':
      case 'setWindowSize':
      case 'getWindowSize':
      case 'getForegroundGroup':
      case 'exchange':
      case 'getTermios':
      case 'setTermios':
      case 'setNonBlocking':
      case 'setBlocking':
      case 'setControllingTerminal':
      case 'sendFdMessage':
      case 'write':
        return this.fds.get(rec.fd)?.path;
      case 'recvFdMessage':
        return this.fds.get(rec.socket)?.path;
      case 'bindUnixDatagram':
      case 'sendUnixDatagram':
        return rec.path;
      case 'dup3':
        return this.fds.get(rec.oldfd)?.path;
      case 'dupCloexec':
        return this.fds.get(rec.fd)?.path;
      case 'umask':
      case 'socketPair':
      case 'getpgrp':
      case 'unshare':
      case 'sleep':
      case 'cloexecFrom':
      case 'setgroups':
      case 'setgid':
      case 'setuid':
      case 'userNamespace':
      case 'getpid':
      case 'getrandom':
      case 'ioprioSet':
      case 'schedSetattr':
      case 'personality':
      case 'setsid':
      case 'getsid':
      case 'setNoNewPrivs':
      case 'setDumpable':
      case 'setParentDeathSignal':
      case 'setChildSubreaper':
      case 'unsetChildSubreaper':
      case 'prepareExec':
      case 'setrlimit':
      case 'getrlimit':
      case 'capbsetRead':
      case 'capbsetDrop':
      case 'setKeepCaps':
      case 'capset':
      case 'ambientClearAll':
      case 'ambientRaise':
      case 'seccompCompile':
      case 'seccompLoad':
      case 'startFdSender':
      case 'sendFd':
        return undefined;
      case 'memfdCreate':
        return rec.name;
      default:
        return rec.path;
    }
  }

  /** The paths a SyscallError names, as the real port names them. */
  private errorPaths(rec: SyscallRecord): string[] {
    return this.rawErrorPaths(rec).map((p) => this.named(p));
  }

  private rawErrorPaths(rec: SyscallRecord): string[] {
    switch (rec.op) {
      case 'mount':
        return rec.source === null ? [rec.target] : [rec.source, rec.target];
      case 'pivotRoot':
        return [rec.newRoot, rec.putOld];
      case 'symlink':
        return [rec.target, rec.linkPath];
      case 'copyFile':
        return [rec.source, rec.dest];
      // The real port names the files open as the descriptors.
      case 'copyFileRange':
        return [fdPath(rec.fdIn), fdPath(rec.fdOut)];
      case 'fchmod':
      case 'fsetxattr':
        return [fdPath(rec.fd)];
      case 'symlinkat':
        return [rec.target, rec.linkPath];
      case 'openat':
      case 'openat2':
      case 'mkdirat':
      case 'mknodat':
      case 'unlinkat':
      case 'readlinkat':
      case 'fchownat':
      case 'mountSetattr':
      case 'openTree':
      case 'openTreeAttr':
        // An empty path (AT_EMPTY_PATH) is the descriptor's own file.
        return [rec.path === '' ? fdPath(rec.dirfd) : rec.path];
      case 'moveMount':
        return [rec.fromPath === '' ? fdPath(rec.fromDirfd) : rec.fromPath, rec.toPath === '' ? fdPath(rec.toDirfd) : rec.toPath];
      case 'renameat':
        return [rec.oldPath, rec.newPath];
      case 'fchdir':
      case 'fstat':
      case 'fstatMount':
      case 'fstatfs':
      case 'fsmount':
      case 'close':
      case 'setns':
      case 'dup3':
      case 'sendFdMessage':
      case 'write':
        return [];
      case 'releaseTerminal':
        return ['TIOCNOTTY'];
      // The real port names the request.
      case 'ptyUnlock':
        return ['TIOCSPTLCK'];
      case 'ptyPeer':
        return ['TIOCGPTPEER'];
      case 'setWindowSize':
        return ['TIOCSWINSZ'];
      case 'dupCloexec':
        return ['F_DUPFD_CLOEXEC'];
      case 'addSeals':
        return [fdPath(rec.fd)];
      case 'setControllingTerminal':
        return ['TIOCSCTTY'];
      default: {
        const path = this.primaryPath(rec);
        return path === undefined ? [] : [path];
      }
    }
  }

  private fail(rec: SyscallRecord, code: string): SyscallError {
    return new SyscallError(errorName(rec.op), errnoNumber(code), this.errorPaths(rec), errorDetail(rec));
  }

  /** The path an *at call names: `path` joined onto the directory open as `dirfd`, when the fake knows it. */
  private atPath(dirfd: number, path: string): string {
    const dir = dirfd === AT_FDCWD ? this.workDirPath() : this.fds.get(dirfd)?.path;
    if (dir === undefined || path.startsWith('/')) return path;
    return path === '' ? dir : posix.join(dir, path);
  }

  /** The descriptor's magic link when `path` goes through one of an open descriptor, with the rest of the path. */
  private magicLink(path: string): { entry: { path: string; chain: Step[] }; rest: string } | undefined {
    const link = parseFdPath(path);
    const entry = link && this.fds.get(link.fd);
    return entry && link && { entry, rest: link.rest };
  }

  /**
   * A path as errors name it: one through a descriptor's magic link names the descriptor's
   * file where it is now, as the real port does (readlink(2) of the link): a detached
   * mount attached since is named by its place.
   */
  private named(path: string): string {
    const link = parseFdPath(path);
    const opened = link && (this.fds.get(link.fd)?.path ?? this.fdPaths.get(link.fd));
    return opened === undefined || !link ? path : link.rest === '' ? opened : posix.join(opened, link.rest);
  }

  private fdNode(rec: SyscallRecord, fd: number): FakeNode {
    const entry = this.fds.get(fd);
    if (!entry) throw this.fail(rec, 'EBADF');
    return this.last(entry.chain);
  }

  /** Resolves `path` from the directory open as `dirfd` (AT_FDCWD: `/`). */
  private walkAt(rec: SyscallRecord, dirfd: number, path: string, follow: boolean): Found {
    return this.walk(rec, path, follow, this.dirChain(rec, dirfd, path), 1);
  }

  /**
   * The flags addMountFlags gave the deepest path at or above `path`, up to the mountpoint
   * of the mount over it (a mount's flags are its own); a bind followed to its source.
   * Undefined where it gave none: the flags of the mount's state then.
   */
  private mountFlagsAt(path: string, seen: Set<MountEntry>): bigint | undefined {
    const top = this.topMountOver(path, seen);
    const bindSource = top && this.bindSources.get(top);
    if (top && bindSource !== undefined) return this.mountFlagsAt(bindSource + path.slice(top.target === '/' ? 0 : top.target.length), new Set([...seen, top]));
    const stop = top?.target ?? '/';
    for (let p = path; ; p = posix.dirname(p)) {
      const flags = this.mountFlags.get(p);
      if (flags !== undefined) return flags;
      if (p === stop || p === '/') return undefined;
    }
  }

  /** The mount made last at the deepest mountpoint over `path`, of those not in `seen`. */
  private topMountOver(path: string, seen: Set<MountEntry>): MountEntry | undefined {
    const over = this.mounts.filter((m) => !seen.has(m) && (m.target === '/' || m.target === path || path.startsWith(m.target + '/')));
    const depth = (m: MountEntry) => (m.target === '/' ? 0 : m.target.split('/').length);
    return over.reduce<MountEntry | undefined>((best, m) => (best === undefined || depth(m) >= depth(best) ? m : best), undefined);
  }

  /** f_type at `path`: the deepest mountpoint over it, the mount made last there; binds report their source's. */
  private fsTypeAt(path: string, seen: Set<MountEntry>): number {
    const top = this.topMountOver(path, seen);
    if (top === undefined) return this.baseFsType(path);
    const bindSource = this.bindSources.get(top);
    if (bindSource !== undefined) return this.fsTypeAt(bindSource + path.slice(top.target === '/' ? 0 : top.target.length), new Set([...seen, top]));
    return FS_MAGIC[top.fstype ?? ''] ?? 0;
  }

  // ---- path walking ----

  private rootStep(): Step {
    return { name: '', node: this.root };
  }

  private last(chain: Step[]): FakeNode {
    return chain[chain.length - 1].node;
  }

  /**
   * Resolves `path` from `from` (absolute paths and symlinks from its first `floor`
   * steps, which ".." never leaves), following a final symlink only if `follow`. With
   * openat2's `resolve` bits, a link it would follow is ELOOP instead (openat2(2)): any
   * with RESOLVE_NO_SYMLINKS, a magic link with it or RESOLVE_NO_MAGICLINKS.
   */
  private walk(rec: SyscallRecord, path: string, follow: boolean, from: Step[] = this.startOf(path), floor = 1, resolve = 0n): Found {
    if (path === '') throw this.fail(rec, 'ENOENT');
    // A trailing slash (or "/.") asks for a directory: a final symlink is followed, and
    // anything else found is ENOTDIR (path_resolution(7)).
    if (path.length > 1 && (path.endsWith('/') || path.endsWith('/.'))) {
      const found = this.walk(rec, path.replace(/\/+\.?$/, '') || '/', true, from, floor, resolve);
      if (found.node && found.node.kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
      return { ...found, dirOnly: true };
    }
    const noSymlinks = (resolve & RESOLVE_NO_SYMLINKS) !== 0n;
    const noMagicLinks = noSymlinks || (resolve & RESOLVE_NO_MAGICLINKS) !== 0n;
    const magic = this.magicLink(path);
    // A magic link jumps to the descriptor's file (nd_jump_link, fs/namei.c); as the last
    // component without following, it is the link itself, which the model does not hold.
    if (magic && floor === 1 && (follow || magic.rest !== '')) {
      if (noMagicLinks) throw this.fail(rec, 'ELOOP');
      return this.walk(rec, magic.rest || '.', follow, magic.entry.chain, 1);
    }
    let chain = path.startsWith('/') ? from.slice(0, floor) : [...from];
    const pending = components(path).reverse();
    let links = 0;
    for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
      if (name === '..') {
        if (chain.length > floor) chain.pop();
        // ".." enters what was mounted on the directory it lands on since the walk had
        // it, at its floor too (follow_dotdot(), then step_into(), fs/namei.c).
        const at = chain[chain.length - 1];
        const on = this.mountedOn(at.node);
        if (on) chain[chain.length - 1] = { name: at.name, node: on };
        continue;
      }
      const dir = this.last(chain);
      if (dir.kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
      // The filesystem's lookup refuses a name longer than it takes (ext4_lookup, tmpfs's
      // simple_lookup and the like); those of LONG_NAMES_NOT_FOUND find no such entry.
      // (A UTF-16 unit is at most 3 bytes of UTF-8: most names need no count.)
      if (name.length * 3 > NAME_MAX && Buffer.byteLength(name) > NAME_MAX && !LONG_NAMES_NOT_FOUND.has(this.fsTypeAt(this.chainPath(chain), new Set()))) throw this.fail(rec, 'ENAMETOOLONG');
      const node = this.entries(dir).get(name);
      const final = pending.length === 0;
      if (!node) {
        if (final) return { parent: chain, name, node: undefined };
        throw this.fail(rec, 'ENOENT');
      }
      if (node.magic && noMagicLinks && (follow || !final)) throw this.fail(rec, 'ELOOP');
      if (node.kind === 'symlink' && (follow || !final)) {
        if (noSymlinks || ++links > MAXSYMLINKS) throw this.fail(rec, 'ELOOP');
        // A magic link whose file is one a descriptor holds (/proc/PID/exe of a process run from a memfd) jumps to it.
        const jump = node.magic ? this.magicLink(node.target) : undefined;
        if (jump) {
          chain = [...jump.entry.chain];
          pending.push(...components(jump.rest).reverse());
          continue;
        }
        if (node.target.startsWith('/')) chain = chain.slice(0, floor);
        pending.push(...components(node.target).reverse());
        continue;
      }
      chain.push({ name, node });
    }
    if (chain.length === 1) return { parent: chain, name: '', node: chain[0].node };
    const end = chain[chain.length - 1];
    return { parent: chain.slice(0, -1), name: end.name, node: end.node };
  }

  private existing(rec: SyscallRecord, path: string, follow: boolean): FakeNode {
    const node = this.walk(rec, path, follow).node;
    if (!node) throw this.fail(rec, 'ENOENT');
    return node;
  }

  /** existing(), for a call that changes the file's inode (its mode, owner, attributes): EROFS on a read-only mount. */
  private changed(rec: SyscallRecord, path: string, follow: boolean): FakeNode {
    const found = this.walk(rec, path, follow);
    if (!found.node) throw this.fail(rec, 'ENOENT');
    this.writable(rec, this.chainOf(found));
    return found.node;
  }

  /** The absolute path of what a lookup found; ENOENT when it found nothing. */
  private pathFound(rec: SyscallRecord, found: Found): string {
    if (!found.node) throw this.fail(rec, 'ENOENT');
    return '/' + [...found.parent.slice(1).map((s) => s.name), found.name].filter((n) => n !== '').join('/');
  }

  private create(rec: SyscallRecord, found: Found, kind: FileKind, perm: number): FakeNode {
    if (found.node) throw this.fail(rec, 'EEXIST');
    // Only mkdir(2) makes a name given with a trailing slash; open(2) with O_CREAT is EISDIR, mknod(2) and symlink(2) ENOENT.
    if (found.dirOnly && kind !== 'dir') throw this.fail(rec, kind === 'file' ? 'EISDIR' : 'ENOENT');
    // A name is made only on a writable mount; one there already is EEXIST first (filename_create(), fs/namei.c).
    this.writable(rec, found.parent);
    const node = this.newNode(kind, perm);
    this.entries(this.last(found.parent)).set(found.name, node);
    return node;
  }

  private setOwner(rec: SyscallRecordOf<'chown'> | SyscallRecordOf<'lchown'>, follow: boolean): void {
    const node = this.changed(rec, rec.path, follow);
    // chown(2): an id of -1 leaves it unchanged.
    if (rec.uid !== -1) node.uid = rec.uid;
    if (rec.gid !== -1) node.gid = rec.gid;
  }

  /** The directory chain relative paths start from: dirfd's, or `/` for AT_FDCWD. */
  private dirChain(rec: SyscallRecord, dirfd: number, path: string): Step[] {
    if (dirfd === AT_FDCWD) return this.startOf(path);
    const entry = this.fds.get(dirfd);
    if (entry) return entry.chain;
    if (path.startsWith('/')) return [this.rootStep()];
    throw this.fail(rec, 'EBADF');
  }

  private openIn(rec: SyscallRecord, path: string, flags: number, mode: number, from: Step[], floor: number, resolve = 0n): number {
    // open(2): with O_PATH, flags other than O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC are ignored (nothing is created).
    if ((flags & O_PATH) !== 0) flags &= O_PATH_FLAGS;
    const creating = (flags & O_CREAT) !== 0;
    const exclusive = creating && (flags & O_EXCL) !== 0;
    // open(2): O_CREAT|O_EXCL never follows a final symlink; O_NOFOLLOW refuses one.
    const found = this.walk(rec, path, !exclusive && (flags & O_NOFOLLOW) === 0, from, floor, resolve);
    if (found.node && exclusive) throw this.fail(rec, 'EEXIST');
    if (!found.node && !creating) throw this.fail(rec, 'ENOENT');
    const node = found.node ?? this.create(rec, found, 'file', mode & ~this.mask);
    if (node.kind === 'symlink' && (flags & O_PATH) === 0) throw this.fail(rec, 'ELOOP');
    if ((flags & O_DIRECTORY) !== 0 && node.kind !== 'dir') throw this.fail(rec, 'ENOTDIR');
    if (creating && node.kind === 'dir') throw this.fail(rec, 'EISDIR');
    if (found.node && ((flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0)) this.openedForWriting(rec, this.chainOf(found));
    if ((flags & O_TRUNC) !== 0 && node.kind === 'file') {
      if (this.sealRefuses(node, true, 0, 0)) throw this.fail(rec, 'EPERM');
      node.content = '';
    }
    const chain = found.name === '' ? found.parent : [...found.parent, { name: found.name, node }];
    const fd = this.newFd();
    const opened = this.chainPath(chain);
    const entry: FdEntry = (flags & O_PATH) !== 0 ? { path: opened, chain, pathOnly: true } : { path: opened, chain };
    if ((flags & O_PATH) === 0 && (flags & O_ACCMODE) !== O_RDONLY) {
      entry.forWriting = true;
      // A regular file open for writing holds write access to its mount (a device, a FIFO or a socket none).
      if (node.kind === 'file') entry.writing = this.mountOver(chain).state;
    }
    this.fds.set(fd, entry);
    this.fdPaths.set(fd, opened);
    this.fdMounts.set(fd, this.mountAt(opened));
    return fd;
  }

  // ---- builders' helpers ----

  private ensureDir(path: string): FakeNode {
    const abs = posix.resolve('/', path);
    if (abs === '/') return this.root;
    const parent = this.ensureDir(posix.dirname(abs));
    const name = posix.basename(abs);
    const existing = this.entries(parent).get(name);
    let node = existing?.kind === 'symlink' ? this.node(abs, true) : existing;
    if (!existing) this.entries(parent).set(name, (node = this.newNode('dir', 0o755)));
    if (node?.kind !== 'dir') throw new Error(`FakeSyscalls: ${abs} exists and is not a directory`);
    return node;
  }

  private place(path: string, kind: FileKind, perm: number): FakeNode {
    const abs = posix.resolve('/', path);
    const parent = this.ensureDir(posix.dirname(abs));
    const name = posix.basename(abs);
    if (abs === '/' || this.entries(parent).get(name)?.kind === 'dir') {
      throw new Error(`FakeSyscalls: ${abs} is a directory`);
    }
    const node = this.newNode(kind, perm);
    this.entries(parent).set(name, node);
    return node;
  }
}
