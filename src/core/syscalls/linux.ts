/**
 * The real syscall port: libc through koffi, and Node's synchronous `fs` calls where
 * Node already has them.
 *
 * Everything is synchronous on the main thread: after unshare(CLONE_NEWNS) only the
 * calling thread is in the new mount namespace, libuv's thread pool is not (README.md,
 * "Namespaces: how a multi-threaded Node enters them"; docs/plugins.md, "The interfaces").
 */
import fs = require('fs');
import { LITTLE_ENDIAN, MFD_CLOEXEC, O_NOCTTY, O_NONBLOCK } from '../constants';
import path = require('path');
import type * as Koffi from 'koffi';
import { StepError, SyscallError, errnoName, errnoNumber, mountDetail } from '../errors';
import { idMapText, mappingToolArgs, mapsOnlyOwnId } from '../idmap';
import { ANONYMOUS_SESSION_KEYRING, keyPermissions } from '../keyring';
import { ID_MAP_TOOLS, envRecord, executableFile, programInPath } from '../programs';
import { fdPath, parseFdPath } from '../in-root';
import { findPackage, versionIn } from '../packages';
import { decodeName, encodeName, nameBytes } from '../names';
import { FdSender } from './fd-sender';
import { CMSG_LEN_INT, SCM_RIGHTS_SPACE, scmRightsControl, scmRightsFd } from './scm-rights';
import { answerResult } from '../runtime-channel';
import { keptOutput } from '../command-output';
import { cacheKey } from '../seccomp/cache';
import { compileSeccomp, libseccompIdentity } from './libseccomp';
import { spawnError } from '../task-limits';
import { signalName } from '../signal-name';
import { recordAwaited, recordSpawned } from '../node-children';
import { compileCached } from './seccomp-cache';
import { STATX_MNT_ID, STATX_SIZE, STATX_TYPE, fromStatx, mountStatFromStatx } from './stat';
import { contextLogLine, fsconfigShown } from './fs-context';
import type { CommandResult, CommandSpec, FileStat, FsStat, IdMapping, MountStat, SeccompCompiled, SeccompFilter, Syscalls, Termios } from './types';
import type { LinuxSyscallsOptions } from './linux-options';

// When Node starts it resets the standard signals (1-31) it inherited ignored to SIG_DFL,
// then ignores these two (src/node.cc, PlatformInit). The real-time ones it leaves as it
// found them.
const NODE_IGNORED_SIGNALS: readonly NodeJS.Signals[] = ['SIGPIPE', 'SIGXFSZ'];
// The real-time signals a program may set (signal(7)): glibc keeps 32 and 33 for its
// threads, so its SIGRTMIN is 34; SIGRTMAX is the kernel's _NSIG, 64 (asm-generic/signal.h).
const SIGRTMIN = 34;
const SIGRTMAX = 64;
// The handler signal(2) takes for the default action (asm-generic/signal-defs.h).
const SIG_DFL = 0;

// fcntl(2), include/uapi/asm-generic/fcntl.h
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
/** open(2) and F_SETFL: every write(2) goes to the file's end. */
const O_APPEND = 0o2000;
// F_LINUX_SPECIFIC_BASE (1024) + 6, include/uapi/linux/fcntl.h
const F_DUPFD_CLOEXEC = 1030;
// F_LINUX_SPECIFIC_BASE + 9 and + 10
const F_ADD_SEALS = 1033;
const F_GET_SEALS = 1034;
const FD_CLOEXEC = 1;

// prctl(2) options, include/uapi/linux/prctl.h
const PR_SET_PDEATHSIG = 1;
const PR_SET_DUMPABLE = 4;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_SET_KEEPCAPS = 8;
const PR_CAPBSET_READ = 23;
const PR_CAPBSET_DROP = 24;
const PR_SET_NO_NEW_PRIVS = 38;
// waitid(2): idtype_t P_PID and the options WEXITED, WNOHANG, WNOWAIT (include/uapi/linux/wait.h); siginfo_t's size (SI_MAX_SIZE, asm-generic/siginfo.h).
const P_PID = 1;
const WEXITED = 4;
const WNOHANG = 1;
const WNOWAIT = 0x01000000;
const SIGINFO_SIZE = 128;
// Terminal ioctls, include/uapi/asm-generic/ioctls.h (x86_64, arm64).
/** Give up the controlling terminal. */
const TIOCNOTTY = 0x5422;
/** Make the terminal the session's controlling terminal. */
const TIOCSCTTY = 0x540e;
/** Set the window size: struct winsize { unsigned short ws_row, ws_col, ws_xpixel, ws_ypixel }. */
const TIOCSWINSZ = 0x5414;
/** Get the terminal's foreground process group (an int). */
const TIOCGPGRP = 0x540f;
/** Get the window size, the same struct. */
const TIOCGWINSZ = 0x5413;
/** Get and set (at once) the terminal's struct termios: four u32 flag words, u8 c_line, u8 c_cc[19]. */
const TCGETS = 0x5401;
const TCSETS = 0x5402;
const TERMIOS_SIZE = 36;
const TERMIOS_NCCS = 19;
/** _IOW('T', 0x31, int): lock (non-zero) or unlock (0) a pseudo-terminal's peer, unlockpt(3). */
const TIOCSPTLCK = 0x40045431;
/** _IO('T', 0x41): open the peer of a pseudo-terminal master (Linux 4.13). */
const TIOCGPTPEER = 0x5441;
const PR_CAP_AMBIENT = 47;
const PR_CAP_AMBIENT_RAISE = 2;
const PR_CAP_AMBIENT_CLEAR_ALL = 4;
// capset(2): struct __user_cap_header_struct { u32 version; int pid } and, for version 3,
// two struct __user_cap_data_struct { u32 effective, permitted, inheritable } (low word first), linux/capability.h.
const LINUX_CAPABILITY_VERSION_3 = 0x20080522;

/**
 * Numbers for syscalls glibc 2.36 has no wrapper for, and for the credential calls made
 * without glibc's wrapper (setgroups, setgid, setuid: LinuxSyscalls.setuid says why).
 * x86_64 keeps its own table (arch/x86/entry/syscalls/syscall_64.tbl); arm64 uses the
 * generic one (include/uapi/asm-generic/unistd.h). Syscalls added since 5.x share one
 * number everywhere.
 */
const SYSCALL_NUMBERS: Readonly<Record<string, Readonly<Record<RawSyscall, number>>>> = {
  x64: { setuid: 105, setgid: 106, setgroups: 116, pivot_root: 155, keyctl: 250, ioprio_set: 251, sched_setattr: 314, seccomp: 317, pidfd_send_signal: 424, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, pidfd_open: 434, close_range: 436, openat2: 437, mount_setattr: 442, open_tree_attr: 467 },
  arm64: { setuid: 146, setgid: 144, setgroups: 159, pivot_root: 41, keyctl: 219, ioprio_set: 30, sched_setattr: 274, seccomp: 277, pidfd_send_signal: 424, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, pidfd_open: 434, close_range: 436, openat2: 437, mount_setattr: 442, open_tree_attr: 467 },
};
type RawSyscall = 'setuid' | 'setgid' | 'setgroups' | 'pivot_root' | 'keyctl' | 'ioprio_set' | 'sched_setattr' | 'seccomp' | 'pidfd_send_signal' | 'open_tree' | 'move_mount' | 'fsopen' | 'fsconfig' | 'fsmount' | 'pidfd_open' | 'close_range' | 'openat2' | 'mount_setattr' | 'open_tree_attr';

// A filesystem context's log keeps the last 8 messages (fc_log's buffer, include/linux/fs_context.h);
// a read(2) shorter than the message fails with EMSGSIZE.
const CONTEXT_LOG_MESSAGES = 8;
const CONTEXT_LOG_MESSAGE_MAX = 4096;

// seccomp(2), include/uapi/linux/seccomp.h and linux/filter.h
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
/** struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
const SOCK_FILTER_SIZE = 8;

// unix(7), socket(2): include/linux/socket.h, include/uapi/linux/un.h
const AF_UNIX = 1;
const SOCK_STREAM = 1;
const SOCK_CLOEXEC = 0o2000000;
/** recvmsg(2) flags: do not wait; make the descriptors received close-on-exec. */
const MSG_DONTWAIT = 0x40;
const MSG_CMSG_CLOEXEC = 0x40000000;
/** What a received message's data may hold: the console's name, as a runtime sends it, is short. */
const RECV_DATA_MAX = 4096;
/** getsockopt(2) SOL_SOCKET SO_PEERCRED (include/uapi/asm-generic/socket.h): struct ucred, pid_t pid, uid_t uid, gid_t gid. */
const SOL_SOCKET = 1;
const SO_PEERCRED = 17;
const UCRED_SIZE = 12;

/** struct sockaddr_un: sa_family_t sun_family, then char sun_path[108]. */
const SUN_PATH_OFFSET = 2;
const SUN_PATH_MAX = 108;

/** socket(2) AF_UNIX of `type` (close-on-exec), connected or bound (`call`) to `path`; closed again when that fails. */
function unixSocketAt(type: number, call: 'connect' | 'bind', path: string): number {
  const { addr, length } = unixAddress(call, path);
  const fd = check('socket', libc().socket(AF_UNIX, type | SOCK_CLOEXEC, 0), path);
  try {
    check(call, libc().seldom()[call](fd, addr, length), path);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * struct sockaddr_un for `path` and the length to pass with it: the path and its NUL, or
 * for `@name` a NUL and then the name, without one (an abstract address is the bytes the
 * length covers, unix(7)). ENAMETOOLONG where sun_path cannot hold it.
 */
function unixAddress(call: string, path: string): { addr: Buffer; length: number } {
  const abstract = path.startsWith('@');
  const name = nameBytes(abstract ? path.slice(1) : path);
  if (name.length + 1 > SUN_PATH_MAX) throw new SyscallError(call, errnoNumber('ENAMETOOLONG'), [path]);
  if (!abstract && name.includes(0)) throw new SyscallError(call, errnoNumber('EINVAL'), [path], 'a NUL byte in a string argument');
  const addr = Buffer.alloc(SUN_PATH_OFFSET + SUN_PATH_MAX);
  new DataView(addr.buffer, addr.byteOffset, addr.byteLength).setUint16(0, AF_UNIX, LITTLE_ENDIAN);
  name.copy(addr, SUN_PATH_OFFSET + (abstract ? 1 : 0));
  return { addr, length: SUN_PATH_OFFSET + name.length + 1 };
}

// keyctl(2) operations, include/uapi/linux/keyctl.h.
const KEYCTL_GET_KEYRING_ID = 0;
const KEYCTL_JOIN_SESSION_KEYRING = 1;
/** The calling thread's session keyring, as a special key id (include/uapi/linux/keyctl.h). */
const KEY_SPEC_SESSION_KEYRING = -3;
const KEYCTL_SETPERM = 5;
const KEYCTL_DESCRIBE = 6;
/** What KEYCTL_DESCRIBE is first given room for: "type;uid;gid;perm;description" with a short description. */
const KEY_DESCRIBE_GUESS = 256;

// netdevice(7): an interface's flags, read and set with ioctl(2) on any socket of its
// network namespace; include/uapi/linux/sockios.h, include/uapi/linux/if.h.
const AF_INET = 2;
const SOCK_DGRAM = 2;
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
/** struct ifreq: char ifr_name[IFNAMSIZ] (16, with its NUL), then a union whose short ifr_flags comes first; 40 bytes on 64-bit. */
const IFNAMSIZ = 16;
const IFREQ_SIZE = 40;
const IFR_FLAGS_OFFSET = 16;

/** PATH_MAX (include/uapi/linux/limits.h): no link target is longer, with its NUL. */
const PATH_MAX = 4096;

// close_range(2) flag, include/uapi/linux/close_range.h
const CLOSE_RANGE_CLOEXEC = 1 << 2;

// statx(2): include/uapi/linux/stat.h and include/uapi/linux/fcntl.h
const STATX_BASIC_STATS = 0x7ff;
const AT_FDCWD = -100;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_EMPTY_PATH = 0x1000;
const O_RDONLY = 0;
const O_CLOEXEC = 0o2000000;

/** struct open_how (include/uapi/linux/openat2.h): three u64, flags, mode and resolve. */
const OPEN_HOW_SIZE = 24;

/**
 * Memory the calls write into or read from, made once: every call is synchronous on the
 * one thread, and its result is taken out before the next call.
 */
const openHowBytes = new Uint8Array(OPEN_HOW_SIZE);
const scratch = {
  statx: Buffer.alloc(STATX_SIZE),
  link: Buffer.alloc(PATH_MAX),
  /** struct open_how, passed as its bytes and written through the view. */
  openHow: openHowBytes,
  openHowView: new DataView(openHowBytes.buffer),
};

type Libc = ReturnType<typeof loadLibc>;
let koffi: typeof Koffi;
/** The module koffi was loaded from, when it was its addon directly (koffiAddon): a thread of its own loads the same. */
let koffiFile: string | undefined;
let cached: Libc | undefined;

/** Binds libc once per process, on first use, so importing this module needs no libc. */
function libc(): Libc {
  return (cached ??= loadLibc());
}

/** mountkit's version, from its package.json (dist/core/syscalls/ or src/core/syscalls/ to the package's root). */
function mountkitVersion(): string {
  return versionIn(fs.readFileSync(`${__dirname}/../../../package.json`, 'utf8'));
}

/** musl's dynamic loader on the architectures with SYSCALL_NUMBERS: its presence means musl may be the libc here. */
const MUSL_LOADERS: Readonly<Record<string, string>> = { x64: '/lib/ld-musl-x86_64.so.1', arm64: '/lib/ld-musl-aarch64.so.1' };

/**
 * koffi's native addon, loaded as koffi's entry module loads it but without that
 * module's work at each start (about 2.5 ms): finding koffi's platform package
 * (`@koromix/koffi-PLATFORM-ARCH`), reading the node binary's ELF headers to choose its
 * glibc or musl build, checking the addon's version against koffi's own, and wrapping a
 * few functions in deprecation warnings. This port binds glibc's libc.so.6, so on a
 * system without musl's loader it takes the glibc build (`PLATFORM_ARCH/koffi.node`) of
 * the platform package koffi would find, when that package and the addon are of koffi's
 * version. Undefined otherwise (another layout, version, architecture, or musl present):
 * koffi's entry module then decides, as without this.
 */
export function koffiAddon(from: string): typeof Koffi | undefined {
  const { platform, arch } = process;
  const muslLoader = MUSL_LOADERS[arch];
  if (platform !== 'linux' || muslLoader === undefined || fs.existsSync(muslLoader)) return undefined;
  const present = new Map<string, boolean>();
  const entry = findPackage(from, 'koffi', present);
  const build = entry && findPackage(entry.dir, `@koromix/koffi-${platform}-${arch}`, present);
  if (!entry || !build) return undefined;
  const version = versionIn(entry.packageJson);
  // Checked before loading too: a loaded addon of another version could not be unloaded.
  if (versionIn(build.packageJson) !== version) return undefined;
  let addon: typeof Koffi & { version?: unknown };
  try {
    // Through require, so that a later require('koffi') (a plugin's) loads this same addon from Node's module cache.
    addon = require(`${build.dir}/${platform}_${arch}/koffi.node`) as typeof Koffi & { version?: unknown };
  } catch {
    return undefined;
  }
  if (addon.version !== version) return undefined;
  koffiFile = `${build.dir}/${platform}_${arch}/koffi.node`;
  return addon;
}

function loadLibc() {
  // Loaded here, not at the top: a process that never makes a libc call (the first
  // stage of a relaunched run, `plan`) does not load koffi at all.
  koffiFile = undefined;
  koffi = koffiAddon(__dirname) ?? (require('koffi') as typeof Koffi);
  const lib = koffi.load('libc.so.6');
  // Every string argument of a call that takes a `char *` (a variadic one may: syscall(2)
  // given 'const char *') or a `char **` (execve's lists) goes through cString: a name
  // keeps its bytes, and one with a NUL is refused.
  const fn = (decl: string, name = /(\w+)\(/.exec(decl)![1]) => {
    const call = lib.func(decl);
    if (!decl.includes('char *') && !decl.includes('...')) return call;
    const pass = (arg: unknown): unknown => (typeof arg === 'string' ? cString(name, arg) : Array.isArray(arg) ? arg.map((a: unknown) => (typeof a === 'string' ? cString(name, a) : a)) : arg);
    // Of the declaration's own arity where it has one: a rest parameter and a spread cost
    // about 0.1 us more per call (chdir(2): 0.90 against 0.80 us) in V8's interpreter and
    // baseline code, where most of a run's calls are made (bench/README.md, "Findings").
    switch (decl.includes('...') ? 0 : decl.split(',').length) {
      case 1:
        return (a: unknown) => call(pass(a)) as unknown;
      case 2:
        return (a: unknown, b: unknown) => call(pass(a), pass(b)) as unknown;
      case 3:
        return (a: unknown, b: unknown, c: unknown) => call(pass(a), pass(b), pass(c)) as unknown;
      case 4:
        return (a: unknown, b: unknown, c: unknown, d: unknown) => call(pass(a), pass(b), pass(c), pass(d)) as unknown;
      case 5:
        return (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown) => call(pass(a), pass(b), pass(c), pass(d), pass(e)) as unknown;
      case 6:
        return (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, f: unknown) => call(pass(a), pass(b), pass(c), pass(d), pass(e), pass(f)) as unknown;
      default:
        return (...args: unknown[]) => call(...args.map(pass)) as unknown;
    }
  };
  // Anonymous structs: koffi keeps named types process-wide, and Jest loads this module once per test file.
  // struct statfs of x86_64 and arm64 (every field 64 bits wide but f_fsid, two ints), bits/statfs.h.
  const statfs = koffi.struct({
    f_type: 'int64_t',
    f_bsize: 'int64_t',
    f_blocks: 'uint64_t',
    f_bfree: 'uint64_t',
    f_bavail: 'uint64_t',
    f_files: 'uint64_t',
    f_ffree: 'uint64_t',
    f_fsid: koffi.array('int32_t', 2),
    f_namelen: 'int64_t',
    f_frsize: 'int64_t',
    f_flags: 'int64_t',
    f_spare: koffi.array('int64_t', 4),
  });
  const mountAttr = koffi.struct({ attr_set: 'uint64_t', attr_clr: 'uint64_t', propagation: 'uint64_t', userns_fd: 'uint64_t' });
  // struct sock_fprog (linux/filter.h): the program's length in instructions and its address.
  const sockFprog = koffi.struct({ len: 'uint16_t', filter: 'void *' });
  return {
    // glibc's mode_t is unsigned int and dev_t is 64 bits on x86_64 and arm64.
    mount: fn('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: fn('int umount2(const char *target, int flags)'),
    mknodat: fn('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)'),
    mkdirat: fn('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
    symlinkat: fn('int symlinkat(const char *target, int dirfd, const char *linkpath)'),
    // A Buffer passed for a pointer is the memory the call writes to, with no copy.
    readlink: fn('long readlink(const char *path, uint8_t *buf, size_t size)'),
    readlinkat: fn('long readlinkat(int dirfd, const char *path, uint8_t *buf, size_t size)'),
    statx: fn('int statx(int dirfd, const char *path, int flags, unsigned int mask, uint8_t *buf)'),
    unlinkat: fn('int unlinkat(int dirfd, const char *path, int flags)'),
    fchownat: fn('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)'),
    fstatfs: lib.func('fstatfs', 'int', ['int', koffi.out(koffi.pointer(statfs))]),
    faccessat: fn('int faccessat(int dirfd, const char *path, int mode, int flags)'),
    chdir: fn('int chdir(const char *path)'),
    fchdir: fn('int fchdir(int fd)'),
    umask: fn('uint32_t umask(uint32_t mask)'),
    // open(2), openat(2) and fcntl(2) are variadic in C; each extra argument is passed as (type, value).
    open: fn('int open(const char *path, int flags, ...)'),
    openat: fn('int openat(int dirfd, const char *path, int flags, ...)'),
    fcntl: fn('int fcntl(int fd, int cmd, ...)'),
    close: fn('int close(int fd)'),
    dup3: fn('int dup3(int oldfd, int newfd, int flags)'),
    unshare: fn('int unshare(int flags)'),
    execve: fn('int execve(const char *path, const char **argv, const char **envp)'),
    signal: fn('intptr_t signal(int signum, intptr_t handler)'),
    sethostname: fn('int sethostname(const char *name, size_t len)'),
    // prctl(2) is variadic in glibc; each extra argument is passed as (type, value).
    prctl: fn('int prctl(int option, ...)'),
    setsid: fn('int setsid(void)'),
    ioctl: fn('int ioctl(int fd, unsigned long request, ...)'),
    capset: fn('int capset(const uint8_t *header, const uint8_t *data)'),
    // prlimit64 takes struct rlimit64, two u64, on every architecture.
    prlimit: fn('int prlimit64(int pid, int resource, const uint8_t *newLimit, uint8_t *oldLimit)'),
    syscall: fn('long syscall(long number, ...)'),
    // openat2 through syscall(2) declared with its four arguments, not as variadic: koffi
    // then prepares the call once rather than at each call, and a lookup makes one per
    // mount target. On x86_64 and arm64 (the SYSCALL_NUMBERS architectures) the integer
    // and pointer arguments of a variadic call are passed in the same registers as fixed
    // ones (System V AMD64 ABI 3.5.7, AAPCS64), and glibc's syscall() is assembly that
    // moves them from there into the kernel's registers (sysdeps/unix/sysv/linux/
    // {x86_64,aarch64}/syscall.S), reading nothing else: not %al, which only tells a
    // variadic x86_64 callee how many vector registers hold arguments.
    openat2: fn('long syscall(long number, int dirfd, const char *path, const uint8_t *how, size_t size)', 'openat2'),
    mountAttrPtr: koffi.pointer(mountAttr),
    sockFprogPtr: koffi.pointer(sockFprog),
    socket: fn('int socket(int domain, int type, int protocol)'),
    mountAttrSize: koffi.sizeof(mountAttr),
    // Bound at the first use of any of them (each declaration takes 10-20 us to bind):
    // calls that runc spec's default bundle does not make, such as a tmpcopyup's copy, a
    // console's or a relay's sockets, a hook's wait and a namespace joined by path.
    seldom: once(() => {
      // struct iovec and struct msghdr (x86_64, arm64), for sendmsg(2) and recvmsg(2).
      const iovec = koffi.struct({ base: 'void *', len: 'size_t' });
      const msghdr = koffi.struct({ name: 'void *', namelen: 'uint32_t', iov: koffi.pointer(iovec), iovlen: 'size_t', control: 'void *', controllen: 'size_t', flags: 'int' });
      return {
        mknod: fn('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
        chmod: fn('int chmod(const char *path, uint32_t mode)'),
        fchmod: fn('int fchmod(int fd, uint32_t mode)'),
        renameat: fn('int renameat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath)'),
        chroot: fn('int chroot(const char *path)'),
        setns: fn('int setns(int fd, int nstype)'),
        memfd_create: fn('int memfd_create(const char *name, unsigned int flags)'),
        setdomainname: fn('int setdomainname(const char *name, size_t len)'),
        waitpid: fn('int waitpid(int pid, int *status, int options)'),
        // idtype_t is an enum (an int); siginfo_t is 128 bytes on every Linux architecture (SI_MAX_SIZE).
        waitid: fn('int waitid(int idtype, uint32_t id, uint8_t *info, int options)'),
        // glibc 2.25's wrapper of getrandom(2); it answers ENOSYS where the kernel has no such call.
        getrandom: fn('long getrandom(uint8_t *buf, size_t length, unsigned int flags)'),
        personality: fn('int personality(unsigned long persona)'),
        getsid: fn('int getsid(int pid)'),
        getpgrp: fn('int getpgrp(void)'),
        listxattr: fn('long listxattr(const char *path, uint8_t *list, size_t size)'),
        getxattr: fn('long getxattr(const char *path, const char *name, uint8_t *value, size_t size)'),
        lsetxattr: fn('int lsetxattr(const char *path, const char *name, const uint8_t *value, size_t size, int flags)'),
        fsetxattr: fn('int fsetxattr(int fd, const char *name, const uint8_t *value, size_t size, int flags)'),
        // glibc 2.27's wrapper; null offsets: the files' own, which the call advances.
        copy_file_range: fn('long copy_file_range(int fdIn, int64_t *offIn, int fdOut, int64_t *offOut, size_t len, unsigned int flags)'),
        connect: fn('int connect(int fd, const uint8_t *addr, uint32_t len)'),
        bind: fn('int bind(int fd, const uint8_t *addr, uint32_t len)'),
        sendto: fn('long sendto(int fd, const uint8_t *buf, size_t len, int flags, const uint8_t *addr, uint32_t addrlen)'),
        getsockopt: fn('int getsockopt(int fd, int level, int name, uint8_t *value, uint32_t *length)'),
        sendmsg: lib.func('sendmsg', 'long', ['int', koffi.pointer(msghdr), 'int']),
        // The buffers a msghdr points to are passed without a copy: the kernel fills them in place.
        recvmsg: lib.func('recvmsg', 'long', ['int', koffi.pointer(msghdr), 'int']),
        socketpair: fn('int socketpair(int domain, int type, int protocol, uint8_t *sv)'),
      };
    }),
    // Bound at runCommand's first start, which most runs never make.
    spawn: once(() => ({
      // posix_spawn(3) and its objects (spawn.h), each passed as a Buffer of glibc's size
      // (SPAWN_FILE_ACTIONS_SIZE, SPAWNATTR_SIZE, SIGSET_SIZE); each returns its error
      // number rather than setting errno. The pid is written into a 4-byte Buffer.
      posix_spawn: fn('int posix_spawn(uint8_t *pid, const char *path, const uint8_t *fileActions, const uint8_t *attr, const char **argv, const char **envp)'),
      file_actions_init: fn('int posix_spawn_file_actions_init(uint8_t *fileActions)'),
      file_actions_adddup2: fn('int posix_spawn_file_actions_adddup2(uint8_t *fileActions, int fd, int newfd)'),
      file_actions_destroy: fn('int posix_spawn_file_actions_destroy(uint8_t *fileActions)'),
      // glibc 2.29's; undefined before it (runCommand then forks as Node does).
      file_actions_addchdir: optional(() => fn('int posix_spawn_file_actions_addchdir_np(uint8_t *fileActions, const char *path)')),
      attr_init: fn('int posix_spawnattr_init(uint8_t *attr)'),
      attr_setflags: fn('int posix_spawnattr_setflags(uint8_t *attr, short flags)'),
      attr_setsigdefault: fn('int posix_spawnattr_setsigdefault(uint8_t *attr, const uint8_t *set)'),
      attr_setsigmask: fn('int posix_spawnattr_setsigmask(uint8_t *attr, const uint8_t *set)'),
      attr_destroy: fn('int posix_spawnattr_destroy(uint8_t *attr)'),
      // struct pollfd, one: its int fd, short events and short revents.
      poll: fn('int poll(uint8_t *fds, unsigned long nfds, int timeout)'),
    })),
  };
}

/** `make`'s value, made at the first call. */
function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** `bind`'s function, or undefined where this libc has no such symbol (koffi throws at binding). */
function optional<T>(bind: () => T): T | undefined {
  try {
    return bind();
  } catch {
    return undefined;
  }
}

/** The NUL that ends a C string. */
const NUL = Buffer.from([0]);

/**
 * A string as koffi passes it for a `const char *`. koffi passes a JS string as its UTF-8
 * (V8 writes a lone surrogate as EF BF BD), and a Buffer as the memory it holds, which
 * must then end with the NUL. A name decodeName kept bytes of is passed as those bytes.
 * A C string ends at its first NUL byte: the kernel would act on a shorter path than the
 * one looked up and checked here, so a string holding one is refused with EINVAL before
 * the call, as Node's fs refuses such a path.
 */
function cString(name: string, arg: string): string | Buffer {
  if (arg.includes('\0')) throw new SyscallError(name, errnoNumber('EINVAL'), [arg], 'a NUL byte in a string argument');
  const encoded = encodeName(arg);
  return typeof encoded === 'string' ? encoded : Buffer.concat([encoded, NUL]);
}

/** The length in bytes of `text` as cString passes it, without the NUL. */
function byteLength(text: string): number {
  const encoded = encodeName(text);
  return typeof encoded === 'string' ? Buffer.byteLength(encoded) : encoded.length;
}

/**
 * libc returns -1 and sets errno on failure; errno must be read before any other libc
 * call. The paths an error names are passed as they are and only put in a list on
 * failure: most calls succeed, and the check runs for each.
 */
function check(name: string, ret: number, path?: string, second?: string): number {
  if (ret < 0) throw failure(name, koffi.errno(), path, second);
  return ret;
}

/** check() of an *at call, whose error names `path`, or the descriptor's own file for an empty one (AT_EMPTY_PATH). */
function checkAt(name: string, ret: number, dirfd: number, path: string): number {
  if (ret < 0) throw failure(name, koffi.errno(), path === '' ? fdPath(dirfd) : path);
  return ret;
}

function failure(name: string, errno: number, path?: string, second?: string): SyscallError {
  const paths = path === undefined ? [] : second === undefined ? [path] : [path, second];
  return new SyscallError(name, errno, named(paths));
}

/**
 * Paths as errors name them: one through a descriptor's magic link (/proc/thread-self/fd/N)
 * names the file the descriptor holds, which readlink(2) of the link gives (proc(5)).
 */
function named(paths: readonly string[]): string[] {
  return paths.map((p) => {
    const link = parseFdPath(p);
    if (!link) return p;
    try {
      const file = decodeName(fs.readlinkSync(link.link, { encoding: 'buffer' }));
      return link.rest ? `${file}/${link.rest}` : file;
    } catch {
      return p;
    }
  });
}

/**
 * What the kernel wrote to the log of the filesystem context open as `fd` (fsopen(2)),
 * read after a failure, as one line: each read(2) gives one message, and ENODATA ends
 * them. Reading takes them out of the log.
 */
function contextLog(fd: number): string | undefined {
  const messages: string[] = [];
  const buf = Buffer.alloc(CONTEXT_LOG_MESSAGE_MAX);
  for (let i = 0; i < CONTEXT_LOG_MESSAGES; i++) {
    let n: number;
    try {
      n = fs.readSync(fd, buf, 0, buf.length, null);
    } catch {
      break;
    }
    messages.push(buf.subarray(0, n).toString());
  }
  return contextLogLine(messages);
}

/** The number of a syscall glibc does not wrap, for syscall(2). */
function syscallNumber(name: RawSyscall): number {
  const numbers = SYSCALL_NUMBERS[process.arch];
  if (!numbers) throw new Error(`mountkit: no syscall numbers for ${process.arch}; supported: ${Object.keys(SYSCALL_NUMBERS).join(', ')}`);
  return numbers[name];
}

/** syscall(2) for calls glibc does not wrap; `args` are koffi's (type, value) pairs. The result is for check(). */
function raw(name: RawSyscall, ...args: unknown[]): number {
  return libc().syscall(syscallNumber(name), ...args);
}

/**
 * Runs a Node fs call and turns its error (errno negative, code 'ENOENT') into a
 * SyscallError. `name` null keeps Node's syscall name (open, read, write).
 */
function viaFs<T>(name: string | null, paths: readonly string[], call: () => T): T {
  try {
    return call();
  } catch (err) {
    throw fromNode(name, paths, err);
  }
}

function fromNode(name: string | null, paths: readonly string[], err: unknown): unknown {
  const e = err as NodeJS.ErrnoException;
  if (typeof e?.errno !== 'number') return err;
  return new SyscallError(name ?? e.syscall ?? 'unknown', Math.abs(e.errno), named(paths));
}

/**
 * The text of a link read into scratch.link, `n` bytes long, every byte kept (decodeName).
 * readlink(2) adds no NUL and cuts a longer text short: a result that fills the whole
 * buffer may be cut.
 */
function linkText(name: string, n: number, path: string): string {
  if (n >= scratch.link.length) throw new SyscallError(name, errnoNumber('ENAMETOOLONG'), named([path]));
  return decodeName(scratch.link.subarray(0, n));
}

/**
 * What listxattr(2) or getxattr(2) (`call`, given a buffer and its size) gives for `path`:
 * a size 0 asks how many bytes there are, and ERANGE says the list or value grew past
 * the buffer since, when the two calls are made again.
 */
function xattrBytes(name: string, path: string, call: (buf: Buffer | null, size: number) => number): Uint8Array {
  for (;;) {
    const size = check(name, call(null, 0), path);
    if (size === 0) return new Uint8Array(0);
    const buf = Buffer.alloc(size);
    const n = call(buf, size);
    if (n >= 0) return buf.subarray(0, n);
    const errno = koffi.errno();
    if (errno !== errnoNumber('ERANGE')) throw failure(name, errno, path);
  }
}

/** The most one copy_file_range(2) call is asked for: MAX_RW_COUNT, the most any read or write moves at once (INT_MAX rounded down to a page). */
const COPY_CHUNK = 0x7ffff000;

/** copy_file_range(2)'s answers for a pair of files it does not copy between (copyFileRange falls back to read and write). */
const COPY_REFUSALS = ['EXDEV', 'EINVAL', 'EOPNOTSUPP', 'ENOSYS'] as const;

/** Bytes read(2) and written at a time where copy_file_range(2) is refused. */
const READ_WRITE_CHUNK = 1 << 16;

/** The bytes of `fdIn` from its offset to its end onto `fdOut`, by read(2) and write(2), each error naming both files, as copy_file_range's. */
function copyByReadWrite(fdIn: number, fdOut: number): void {
  const buf = Buffer.alloc(READ_WRITE_CHUNK);
  const paths = [fdPath(fdIn), fdPath(fdOut)];
  for (;;) {
    const n = viaFs('read', paths, () => fs.readSync(fdIn, buf, 0, buf.length, null));
    if (n === 0) return;
    viaFs('write', paths, () => {
      for (let at = 0; at < n; ) at += fs.writeSync(fdOut, buf, at, n - at, null);
    });
  }
}

/** Blocks the calling thread for `ms` milliseconds without leaving it (Atomics.wait), unlike a timer. */
function blockFor(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** How long a user namespace helper may take to be in its namespace: unshare(1) starts in a few milliseconds. */
const HELPER_START_MS = 5000;

/** pidfd_open(2) of `pid` (its descriptor is close-on-exec); its error names the process's /proc directory. */
function openPidfd(pid: number): number {
  return check('pidfd_open', raw('pidfd_open', 'int', pid, 'unsigned int', 0), `/proc/${pid}`);
}

/**
 * Runs `fn` with the /proc directory of a helper process in a new user namespace of its
 * own (unshare(1) --user, then cat(1) waiting on a pipe from this process, so that it
 * ends with this process whatever happens), then kills and reaps the helper: this process
 * may become a container's, and a child left to it would be the container's zombie. The
 * helper stays a zombie, its pid taken, until reaped here; Node's event loop, which
 * would reap it too, does not run in between. A helper that cannot be started is named
 * with the limit it met, which `sys` reads (spawnError).
 */
function withUserNamespaceHelper<T>(sys: Syscalls, fn: (proc: string) => T): T {
  // Required here: child_process loads Node's net and stream modules, which a run without idmapped mounts never uses.
  const { spawn } = require('child_process') as typeof import('child_process');
  // The helper's stderr goes to a memfd, read when it fails: unshare(1) says there why.
  const errors = check('memfd_create', libc().seldom().memfd_create('mountkit-userns-helper', MFD_CLOEXEC));
  let helper: import('child_process').ChildProcess;
  try {
    helper = spawn('unshare', ['--user', '--', 'cat'], { stdio: ['pipe', 'ignore', errors] });
  } catch (err) {
    fs.closeSync(errors);
    throw fromNode('execve', ['unshare'], err);
  }
  // Node reports a failed start later, as an event, with its errno; the missing pid says it
  // now. Not in PATH is ENOENT; otherwise the process could not be made, for want of
  // descriptors (EMFILE) or of tasks (EAGAIN), which the limits tell apart (spawnError).
  helper.on('error', () => undefined);
  helper.unref();
  const pid = helper.pid;
  let pidfd = -1;
  try {
    if (pid === undefined) {
      if (programInPath('unshare', process.env.PATH, executableFile) === undefined) {
        throw new SyscallError('execve', errnoNumber('ENOENT'), ['unshare'], 'util-linux unshare(1) makes the user namespaces mountkit needs, and is not in PATH');
      }
      throw spawnError(sys, 'unshare', undefined, process.getuid?.());
    }
    try {
      pidfd = openPidfd(pid);
    } catch (err) {
      // Refused (before Linux 5.3, or by a seccomp filter): the helper, an unreaped child of
      // this process, is named by the pid spawn(2) gave, as this process's /proc counts it.
      if (!(err instanceof SyscallError) || (err.code !== 'ENOSYS' && err.code !== 'EPERM')) throw err;
    }
    const proc = `/proc/${pidfd >= 0 ? procPid(pidfd) : pid}`;
    awaitNewUserNamespace(proc, () => readOutput(errors));
    return fn(proc);
  } finally {
    // Each step runs whatever the one before did: the helper must not outlive this call.
    try {
      if (pid !== undefined) process.kill(pid, 'SIGKILL');
    } finally {
      if (pid !== undefined) libc().seldom().waitpid(pid, null, 0);
      if (pidfd >= 0) libc().close(pidfd);
      fs.closeSync(errors);
      helper.stdin?.destroy();
    }
  }
}

/**
 * The pid of the process a pidfd refers to, as this process's /proc counts it: the
 * procfs mounted may be another pid namespace's than the one spawn(2) answered in. A
 * pidfd's fdinfo gives it on its "Pid:" line, 0 when the procfs cannot see the process
 * (proc(5)).
 */
function procPid(pidfd: number): number {
  const path = `/proc/thread-self/fdinfo/${pidfd}`;
  const info = viaFs(null, [path], () => fs.readFileSync(path, 'utf8'));
  const pid = Number(/^Pid:\s*(-?\d+)$/m.exec(info)?.[1] ?? 0);
  if (pid <= 0) throw new SyscallError('pidfd_open', errnoNumber('ESRCH'), [path], 'the user namespace helper is not visible in this /proc');
  return pid;
}

/**
 * Waits, without leaving the thread, until the helper at `proc` is in a user namespace
 * other than this thread's; `said` gives what the helper wrote on stderr, for the error
 * when it exits first (unshare(2) refused: user.max_user_namespaces, a seccomp filter).
 */
function awaitNewUserNamespace(proc: string, said: () => string): void {
  const own = fs.readlinkSync('/proc/thread-self/ns/user');
  const deadline = Date.now() + HELPER_START_MS;
  for (;;) {
    if (viaFs('readlink', [`${proc}/ns/user`], () => fs.readlinkSync(`${proc}/ns/user`)) !== own) return;
    // /proc/PID/stat's third field is the state; Z: the helper has exited.
    const state = /\) (\S)/.exec(viaFs(null, [`${proc}/stat`], () => fs.readFileSync(`${proc}/stat`, 'utf8')))?.[1];
    if (state === 'Z') {
      const last = said().trim().split('\n').pop() || 'no message';
      throw new StepError(`the user namespace helper "unshare --user" exited before entering a new user namespace: ${last}`);
    }
    if (Date.now() > deadline) throw new StepError(`the user namespace helper "unshare --user" was not in a new user namespace after ${HELPER_START_MS} ms`);
    blockFor(1);
  }
}

/**
 * A command run by the process at the other end of the socket `via` (CommandSpec.via):
 * the command as one JSON line, then its answer, one JSON line: `{ result }`, or `{ error }`
 * with the syscall, errno name, paths and detail of the SyscallError it failed with there.
 */
function runVia(via: number, { via: _via, ...cmd }: CommandSpec): CommandResult {
  return answerResult<CommandResult>(exchangeLine(via, `${JSON.stringify(cmd)}\n`, [cmd.path], 'the command'))!;
}

/**
 * Writes `line` to the socket `fd` and reads until a newline: the line that comes back.
 * Whatever came after it is left unread: the other end answers one line at a time.
 */
function exchangeLine(fd: number, line: string, paths: readonly string[], what: string): string {
  viaFs('write', [], () => fs.writeSync(fd, line));
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    const n = viaFs('read', [], () => fs.readSync(fd, buf, 0, buf.length, null));
    if (n === 0) throw new SyscallError('read', errnoNumber('EPIPE'), [...paths], `the process that started mountkit did not answer for ${what}`);
    chunks.push(Buffer.from(buf.subarray(0, n)));
    if (buf.subarray(0, n).includes(0x0a)) break;
  }
  const text = Buffer.concat(chunks).toString('utf8');
  return text.slice(0, text.indexOf('\n'));
}

/**
 * Where a command's output goes: one file as both stdout and stderr keeps their
 * interleaving (runc 1.1.5 reads them apart, and shows stdout, then stderr); a memfd
 * also needs no reader while the command, or what it leaves running, writes. Its open
 * file, which the command's stdout and stderr share, is O_APPEND: each of their writes
 * goes to the file's end (write(2)), as into a pipe, also after the command opened the
 * file again through /proc/self/fd (`>> /dev/stderr` then adds to it, as it adds to a
 * pipe; `> /dev/stderr`'s O_TRUNC still empties it, which a pipe ignores).
 */
function commandOutput(): number {
  const fd = check('memfd_create', libc().seldom().memfd_create('mountkit-command', MFD_CLOEXEC));
  try {
    check('fcntl', libc().fcntl(fd, F_SETFL, 'int', O_APPEND), 'F_SETFL');
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** A signal listener that does nothing: the signal is caught, and so at its default after execve(2). */
function ignoreSignal(): void {}

/**
 * A command's standard input: a memfd holding `text`, at offset 0. A file, where Node's
 * 'pipe' is a socketpair(2), which open(2) of /dev/stdin refuses (ENXIO) as runc's pipe
 * is not refused; and it needs no writer while the command runs, however much it holds.
 */
function commandInput(text: string): number {
  const fd = check('memfd_create', libc().seldom().memfd_create('mountkit-input', MFD_CLOEXEC));
  const data = nameBytes(text);
  try {
    // pwrite(2) leaves the offset the command starts reading at, 0, alone.
    for (let at = 0; at < data.length; ) at += viaFs('write', [], () => fs.writeSync(fd, data, at, data.length - at, at));
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Why `cmd` did not start, from Node's spawn error: an ENOENT is the working directory's
 * when that is gone (the child's chdir(2) failed before its execve(2)); an EAGAIN or
 * ENOMEM is the fork's (libuv's uv_spawn forks on Linux: clone(2) is refused EAGAIN at
 * RLIMIT_NPROC or a pids cgroup's pids.max, ENOMEM in a pid namespace whose init is gone;
 * execve(2) gives EAGAIN only after a set*uid(2) call, which the child makes none of),
 * named with the limit `sys` reads (spawnError); anything else is the program's.
 */
function startFailure(sys: Syscalls, cmd: CommandSpec, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' && cmd.dir && !fs.existsSync(cmd.dir)) {
    return new SyscallError('chdir', errnoNumber('ENOENT'), [cmd.dir], "the command's working directory");
  }
  if (code === 'EAGAIN' || code === 'ENOMEM') return spawnError(sys, cmd.path, code, process.getuid?.());
  return fromNode('execve', [cmd.path], err);
}

// posix_spawn(3)'s objects on glibc (x86_64, arm64), and the attribute flags used (spawn.h); poll(2)'s POLLIN and struct pollfd's size.
const SPAWN_FILE_ACTIONS_SIZE = 80;
const SPAWNATTR_SIZE = 336;
const SIGSET_SIZE = 128;
const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POLLIN = 0x1;
const POLLFD_SIZE = 8;
/** The shell execvp(3) runs a file in no binary format with (glibc's _PATH_BSHELL). */
const SHELL = '/bin/sh';

/**
 * The start of `cmd` for runCommand and runCommandAsync, with `input` as its standard
 * input and `out` as its stdout and stderr, through posix_spawn(3): glibc makes the
 * child with clone(2) CLONE_VM|CLONE_VFORK, which copies no page tables, where Node's
 * spawn forks the whole process (libuv's fork(2): 1.5 ms for a fresh Node of 42 MB, 4 at
 * 86 MB) and first loads Node's net and stream modules. The child is started as libuv
 * starts one: every signal at its default disposition and none blocked, the descriptors
 * given on 0, 1 and 2 (dup2 clears their close-on-exec flag), in `cmd.dir` when given,
 * with the environment given (the process's when none). Its pid, left for the caller to
 * wait for (awaitCommand, awaitCommandAsync). A file in no binary format runs with
 * /bin/sh, as execvp(3) runs it for Node. Undefined, nothing started, where Node's spawn
 * is used instead: a path without a slash (libuv searches the child's PATH, posix_spawnp
 * the caller's), a descriptor below 3 (dup2 onto itself would keep close-on-exec), a
 * directory without glibc 2.29's posix_spawn_file_actions_addchdir_np, a start refused
 * EPERM (below).
 */
function spawnCommand(sys: Syscalls, cmd: CommandSpec, input: number, out: number): number | undefined {
  if (!cmd.path.includes('/') || input < 3 || out < 3) return undefined;
  const c = libc().spawn();
  if (cmd.dir && c.file_actions_addchdir === undefined) return undefined;
  const actions = Buffer.alloc(SPAWN_FILE_ACTIONS_SIZE);
  const attr = Buffer.alloc(SPAWNATTR_SIZE);
  spawnCheck('posix_spawn_file_actions_init', c.file_actions_init(actions));
  try {
    spawnCheck('posix_spawnattr_init', c.attr_init(attr));
    try {
      for (const [fd, to] of [[input, 0], [out, 1], [out, 2]]) spawnCheck('posix_spawn_file_actions_adddup2', c.file_actions_adddup2(actions, fd, to));
      if (cmd.dir) spawnCheck('posix_spawn_file_actions_addchdir_np', c.file_actions_addchdir!(actions, cmd.dir));
      // Every one of Linux's 64 signals, glibc's own two (32 and 33, which sigfillset(3)
      // leaves out and its child would otherwise start ignoring) among them.
      const all = Buffer.alloc(SIGSET_SIZE);
      all.fill(0xff, 0, 8);
      spawnCheck('posix_spawnattr_setsigdefault', c.attr_setsigdefault(attr, all));
      // An empty set: no bit set.
      spawnCheck('posix_spawnattr_setsigmask', c.attr_setsigmask(attr, Buffer.alloc(SIGSET_SIZE)));
      spawnCheck('posix_spawnattr_setflags', c.attr_setflags(attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
      const env = Object.entries(cmd.env === undefined ? process.env : envRecord(cmd.env)).map(([key, value]) => `${key}=${value ?? ''}`);
      const pidBytes = Buffer.alloc(4);
      // koffi passes a JS array as `const char **`; both lists end with NULL.
      const spawn = (file: string, argv: readonly string[]): number => c.posix_spawn(pidBytes, file, actions, attr, [...argv, null], [...env, null]) as number;
      let errno = spawn(cmd.path, [cmd.argv0 ?? cmd.path, ...cmd.args]);
      // A file in no format the kernel runs (a script without its #! line) runs with the
      // shell, as execvp(3) runs it for Node's spawn: /bin/sh given the file, argv[0] dropped.
      if (errno === errnoNumber('ENOEXEC')) errno = spawn(SHELL, [SHELL, cmd.path, ...cmd.args]);
      // glibc 2.34's posix_spawn tries clone3(2) first and takes only ENOSYS for its absence:
      // a seccomp filter that refuses it with EPERM (one written before clone3, this
      // process's or the container's before a startContainer hook) leaves the fork to Node.
      if (errno === errnoNumber('EPERM')) return undefined;
      if (errno !== 0) throw startFailure(sys, cmd, Object.assign(new Error(), { code: errnoName(errno), errno: -errno }));
      return pidBytes.readInt32LE(0);
    } finally {
      c.attr_destroy(attr);
    }
  } finally {
    c.file_actions_destroy(actions);
  }
}

/** A posix_spawn(3) helper's result: its error number, when not 0, as a SyscallError. */
function spawnCheck(name: string, errno: number): void {
  if (errno !== 0) throw new SyscallError(name, errno, []);
}

/**
 * The end of the child `pid`, reaped: its status, or the signal that ended it named as
 * Node names it ('' for one os.constants.signals lacks). With `timeoutMs`, one still
 * running then is killed (SIGKILL) and told as timed out. The wait for it is poll(2) on a
 * pidfd, readable once the process has ended (pidfd_open(2)); where pidfd_open is
 * refused (before Linux 5.3, or by a seccomp filter), waitid(2) WNOHANG|WNOWAIT each millisecond.
 */
function awaitCommand(pid: number, timeoutMs: number | undefined): Omit<CommandResult, 'output'> {
  let timedOut = false;
  if (timeoutMs !== undefined) {
    let ends: boolean;
    try {
      ends = endsWithin(pid, timeoutMs);
    } catch (err) {
      killAndReap(pid, err);
      throw err;
    }
    // An unreaped child: its pid cannot be another process's.
    if (!ends) process.kill(pid, 'SIGKILL');
    timedOut = !ends;
  }
  return commandEnd(reapStatus(pid), timedOut);
}

/**
 * awaitCommand, promised, while the event loop goes on (runCommandAsync): whether the
 * child `pid` has ended (hasEnded) is looked at each SIGCHLD, which its end sends this
 * process, and at a timer backing off from 1 to ASYNC_LOOK_MS, which keeps Node running
 * meanwhile and finds the end where the signal is not seen (a listener on Jest's
 * sandboxed `process`). With `timeoutMs`, one still running then gets SIGKILL and is
 * told as timed out (a kill refused ends the wait with its error, the child left to the
 * orphans' reaper; so does a look that finds it reaped by another wait, ECHILD). The
 * child is reaped here, on the main thread, once it has ended: until then its pid
 * cannot be another process's, which the kill could reach; and it is recorded as
 * awaited meanwhile (core/node-children.ts), so that the orphans' reaper passes it over.
 */
function awaitCommandAsync(pid: number, timeoutMs: number | undefined): Promise<Omit<CommandResult, 'output'>> {
  const forget = recordAwaited(pid);
  return new Promise((resolve, reject) => {
    let timedOut = false;
    let waiting = true;
    let delay = 1;
    let poll: NodeJS.Timeout | undefined;
    // A command that has ended by then, its SIGCHLD not handled yet, is not told as timed out.
    const expire = (): void => {
      look();
      if (!waiting) return;
      timedOut = true;
      try {
        process.kill(pid, 'SIGKILL');
      } catch (err) {
        stop();
        reject(fromNode('kill', [`/proc/${pid}`], err));
      }
    };
    const killer = timeoutMs === undefined ? undefined : setTimeout(expire, timeoutMs);
    const stop = (): void => {
      waiting = false;
      clearTimeout(killer);
      clearTimeout(poll);
      process.off('SIGCHLD', look);
      forget();
    };
    function look(): void {
      if (!waiting) return;
      let ended: boolean;
      try {
        ended = hasEnded(pid);
      } catch (err) {
        // waitid(2)'s ECHILD: reaped by another wait, its pid perhaps another process's now; left alone.
        stop();
        reject(err);
        return;
      }
      if (!ended) return;
      stop();
      try {
        resolve(commandEnd(reapStatus(pid), timedOut));
      } catch (err) {
        reject(err);
      }
    }
    const tick = (): void => {
      look();
      if (!waiting) return;
      delay = Math.min(delay * 2, ASYNC_LOOK_MS);
      poll = setTimeout(tick, delay);
    };
    process.on('SIGCHLD', look);
    poll = setTimeout(tick, delay);
  });
}

/** The longest runCommandAsync's timer waits between two looks at a command that has not ended. */
const ASYNC_LOOK_MS = 64;

/**
 * A child whose wait failed with `err`, neither left running nor unreaped (a kill of an
 * unreaped child reaches no other process); but one waitid(2) found no child of this
 * process (ECHILD: reaped by another wait) is left alone, its pid perhaps another's now.
 */
function killAndReap(pid: number, err: unknown): void {
  if (err instanceof SyscallError && err.code === 'ECHILD') return;
  process.kill(pid, 'SIGKILL');
  reapStatus(pid);
}

/** Whether the child `pid` has ended, left unreaped (WNOWAIT). */
function hasEnded(pid: number): boolean {
  return waitEnded(pid, WNOWAIT);
}

/**
 * waitid(2) of the child `pid` without waiting (WEXITED|WNOHANG, and `flags`): whether it
 * had ended. Linux writes si_signo (the first int of siginfo_t) SIGCHLD when it found the
 * child ended, 0 when it had not (kernel/exit.c, waitid).
 */
function waitEnded(pid: number, flags: number): boolean {
  const info = Buffer.alloc(SIGINFO_SIZE);
  for (;;) {
    if (libc().seldom().waitid(P_PID, pid, info, WEXITED | WNOHANG | flags) === 0) return new Int32Array(info.buffer, info.byteOffset, 1)[0] !== 0;
    const errno = koffi.errno();
    if (errno !== errnoNumber('EINTR')) throw failure('waitid', errno, `/proc/${pid}`);
  }
}

/** A command's result from the wait(2) status its reaping read: the low 7 bits are the signal that ended it, 0 for an exit, whose status is the next 8. */
function commandEnd(wait: number, timedOut: boolean): Omit<CommandResult, 'output'> {
  const signum = wait & 0x7f;
  const end = signum === 0 ? { status: (wait >> 8) & 0xff, signal: null } : { status: null, signal: signalName(signum) ?? '' };
  return timedOut ? { ...end, timedOut } : end;
}

/** The wait(2) status of the child `pid`, reaped with waitpid(2) once it has ended. */
function reapStatus(pid: number): number {
  const status = Buffer.alloc(4);
  for (;;) {
    if (libc().seldom().waitpid(pid, status, 0) === pid) return status.readInt32LE(0);
    const errno = koffi.errno();
    // A signal handled meanwhile (libuv's, installed with SA_RESTART, restarts it; one without would not).
    if (errno !== errnoNumber('EINTR')) throw failure('waitpid', errno, `/proc/${pid}`);
  }
}

/** Whether the child `pid` ends within `timeoutMs`, left unreaped. */
function endsWithin(pid: number, timeoutMs: number): boolean {
  const deadline = performance.now() + timeoutMs;
  let pidfd = -1;
  try {
    pidfd = openPidfd(pid);
  } catch (err) {
    if (!(err instanceof SyscallError) || (err.code !== 'ENOSYS' && err.code !== 'EPERM')) throw err;
  }
  try {
    const fds = Buffer.alloc(POLLFD_SIZE);
    fds.writeInt32LE(pidfd, 0);
    fds.writeInt16LE(POLLIN, 4);
    for (;;) {
      const left = Math.ceil(deadline - performance.now());
      if (pidfd < 0) {
        if (hasEnded(pid)) return true;
        if (left <= 0) return false;
        blockFor(1);
        continue;
      }
      if (left <= 0) return false;
      const ready = libc().spawn().poll(fds, 1, Math.min(left, LONGEST_TIMEOUT_MS));
      if (ready > 0) return true;
      if (ready < 0 && koffi.errno() !== errnoNumber('EINTR')) throw failure('poll', koffi.errno(), `/proc/${pid}`);
    }
  } finally {
    if (pidfd >= 0) libc().close(pidfd);
  }
}

/** setTimeout's limit (2^31-1 ms, about 24.8 days); Node takes a longer timeout as 1 ms. */
const LONGEST_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * What runCommand and runCommandAsync give Node's spawn for `cmd`, reading `input` and its
 * output going to `out`. Its timeout (timeoutOf) is theirs to set: a command still running
 * then gets SIGKILL, as runc kills a hook: it cannot trap that and go on, or end with 0.
 */
function spawnOptions(cmd: CommandSpec, input: number, out: number): import('child_process').SpawnOptions & { stdio: [number, number, number] } {
  return { env: cmd.env === undefined ? { ...process.env } : envRecord(cmd.env), cwd: cmd.dir || undefined, stdio: [input, out, out], argv0: cmd.argv0 };
}

function timeoutOf(cmd: CommandSpec): number | undefined {
  return cmd.timeoutMs === undefined ? undefined : Math.min(cmd.timeoutMs, LONGEST_TIMEOUT_MS);
}

/**
 * prctl(2) with its four unsigned long arguments, those not given 0: the options used
 * here require the unused ones to be 0 (PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT).
 */
function prctl(option: number, ...args: number[]): number {
  const words = [0, 1, 2, 3].flatMap((i) => ['unsigned long', args[i] ?? 0]);
  return libc().prctl(option, ...words);
}

/**
 * What a command wrote to the file `fd` (commandOutput), as its result keeps it
 * (keptOutput: never more than OUTPUT_KEPT bytes of it, however large it is), read with
 * pread(2), which leaves the descriptor's offset alone.
 */
function readOutput(fd: number): string {
  return keptOutput(fs.fstatSync(fd).size, (offset, length) => {
    const buf = Buffer.alloc(length);
    let got = 0;
    for (let n = -1; got < length && n !== 0; got += n) n = fs.readSync(fd, buf, got, length - got, offset + got);
    return buf.subarray(0, got);
  });
}

export type { LinuxSyscallsOptions };

export class LinuxSyscalls implements Syscalls {
  private readonly seccompCache: string | undefined;
  private readonly seccompCacheVouched: boolean;
  /** The threads startFdSender started; a sender's number is its place here, from 1. */
  private readonly fdSenders: FdSender[] = [];
  /** Whether prepareExec has run: execve then makes no other call. */
  private readyForExec = false;

  constructor(opts: LinuxSyscallsOptions = {}) {
    // Resolved now, as the caller meant it: the cache is used after the process has moved.
    this.seccompCache = opts.seccompCache === undefined ? undefined : path.resolve(opts.seccompCache);
    this.seccompCacheVouched = opts.seccompCacheVouched === true;
  }

  mount(source: string | null, target: string, fstype: string | null, flags: bigint, data: string | null): void {
    // koffi converts a BigInt argument to unsigned long directly, bit 31 and above included.
    const ret = libc().mount(source, target, fstype, flags, data);
    if (ret < 0) {
      const errno = koffi.errno();
      throw new SyscallError('mount', errno, named(source === null ? [target] : [source, target]), mountDetail(source, fstype, flags, data));
    }
  }

  umount2(target: string, flags: number): void {
    check('umount2', libc().umount2(target, flags), target);
  }

  mountSetattr(dirfd: number, path: string, atFlags: number, attrSet: bigint, attrClr: bigint, propagation: bigint, usernsFd = 0): void {
    const c = libc();
    // userns_fd is read only with MOUNT_ATTR_IDMAP in attr_set (mount_setattr(2)).
    const attr = { attr_set: attrSet, attr_clr: attrClr, propagation, userns_fd: BigInt(usernsFd) };
    checkAt('mount_setattr', raw('mount_setattr', 'int', dirfd, 'const char *', path, 'unsigned int', atFlags, c.mountAttrPtr, attr, 'size_t', c.mountAttrSize), dirfd, path);
  }

  openTree(dirfd: number, path: string, flags: number): number {
    return checkAt('open_tree', raw('open_tree', 'int', dirfd, 'const char *', path, 'unsigned int', flags), dirfd, path);
  }

  openTreeAttr(dirfd: number, path: string, flags: number, attrSet: bigint, attrClr: bigint, propagation: bigint): number {
    const c = libc();
    const attr = { attr_set: attrSet, attr_clr: attrClr, propagation, userns_fd: 0n };
    return checkAt('open_tree_attr', raw('open_tree_attr', 'int', dirfd, 'const char *', path, 'unsigned int', flags, c.mountAttrPtr, attr, 'size_t', c.mountAttrSize), dirfd, path);
  }

  moveMount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): void {
    const ret = raw('move_mount', 'int', fromDirfd, 'const char *', fromPath, 'int', toDirfd, 'const char *', toPath, 'unsigned int', flags);
    if (ret < 0) throw failure('move_mount', koffi.errno(), fromPath === '' ? fdPath(fromDirfd) : fromPath, toPath === '' ? fdPath(toDirfd) : toPath);
  }

  fsopen(fstype: string, flags: number): number {
    return check('fsopen', raw('fsopen', 'const char *', fstype, 'unsigned int', flags), fstype);
  }

  fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux: number): void {
    const ret = raw('fsconfig', 'int', fd, 'unsigned int', cmd, 'const char *', key, 'const char *', value, 'int', aux);
    if (ret < 0) {
      const errno = koffi.errno();
      throw new SyscallError('fsconfig', errno, [fsconfigShown(cmd, key, value)], contextLog(fd));
    }
  }

  fsmount(fd: number, flags: number, attrFlags: bigint): number {
    const ret = raw('fsmount', 'int', fd, 'unsigned int', flags, 'unsigned int', Number(attrFlags));
    if (ret < 0) {
      const errno = koffi.errno();
      throw new SyscallError('fsmount', errno, [], contextLog(fd));
    }
    return ret;
  }

  userNamespace(uidMappings: readonly IdMapping[], gidMappings: readonly IdMapping[]): number {
    return withUserNamespaceHelper(this, (proc) => {
      // A process with CAP_SETUID and CAP_SETGID in the parent namespace may write any
      // lines, once each, in one write(2), with no setgroups(2) restriction (user_namespaces(7)).
      // A user other than root (without them) may map its own ids only, and its gid_map
      // only once setgroups(2) is denied there (Linux 3.19), as runc denies it for a
      // rootless container. Refused more (EPERM), it has newuidmap(1) and newgidmap(1)
      // write them, as runc does; setgroups(2) then stays allowed, as under runc.
      const root = process.geteuid?.() === 0;
      this.writeIdMap(proc, 'uid', uidMappings, root);
      if (!root && mapsOnlyOwnId(gidMappings, process.getegid?.())) this.writeFile(`${proc}/setgroups`, 'deny');
      this.writeIdMap(proc, 'gid', gidMappings, root);
      return this.open(`${proc}/ns/user`, O_RDONLY | O_CLOEXEC, 0);
    });
  }

  /** /proc/PID/uid_map or gid_map written, or by its uidmap tool when that is refused (EPERM) to a user other than root. */
  private writeIdMap(proc: string, kind: 'uid' | 'gid', mappings: readonly IdMapping[], root: boolean): void {
    try {
      this.writeFile(`${proc}/${kind}_map`, idMapText(mappings));
      return;
    } catch (err) {
      if (root || !(err instanceof SyscallError) || err.code !== 'EPERM') throw err;
    }
    const name = ID_MAP_TOOLS[kind];
    const tool = programInPath(name, process.env.PATH, executableFile);
    if (!tool) throw new SyscallError('write', errnoNumber('EPERM'), [`${proc}/${kind}_map`], `a user other than root maps more than its own ${kind} with ${name}(1), which is not in PATH`);
    const args = mappingToolArgs(Number(proc.slice('/proc/'.length)), mappings);
    const r = this.runCommand({ path: tool, args, env: [], dir: '/' });
    if (r.status === 0) return;
    const output = r.output.trim().split('\n').join('; ');
    const ended = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
    throw new SyscallError('write', errnoNumber('EPERM'), [`${proc}/${kind}_map`], `${name} ${args.join(' ')}: ${ended}${output ? `: ${output}` : ''}`);
  }

  pivotRoot(newRoot: string, putOld: string): void {
    check('pivot_root', raw('pivot_root', 'const char *', newRoot, 'const char *', putOld), newRoot, putOld);
  }

  mknod(path: string, mode: number, dev: bigint): void {
    check('mknod', libc().seldom().mknod(path, mode, dev), path);
  }

  mknodat(dirfd: number, path: string, mode: number, dev: bigint): void {
    check('mknodat', libc().mknodat(dirfd, path, mode, dev), path);
  }

  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): void {
    // uid_t and gid_t are unsigned: -1 ("leave unchanged", chown(2)) is 0xffffffff.
    checkAt('fchownat', libc().fchownat(dirfd, path, uid >>> 0, gid >>> 0, flags), dirfd, path);
  }

  chown(path: string, uid: number, gid: number): void {
    viaFs('chown', [path], () => fs.chownSync(encodeName(path), uid, gid));
  }

  lchown(path: string, uid: number, gid: number): void {
    viaFs('lchown', [path], () => fs.lchownSync(encodeName(path), uid, gid));
  }

  chmod(path: string, mode: number): void {
    check('chmod', libc().seldom().chmod(path, mode), path);
  }

  fchmod(fd: number, mode: number): void {
    check('fchmod', libc().seldom().fchmod(fd, mode), fdPath(fd));
  }

  chdir(path: string): void {
    check('chdir', libc().chdir(path), path);
  }

  fchdir(fd: number): void {
    check('fchdir', libc().fchdir(fd));
  }

  chroot(path: string): void {
    check('chroot', libc().seldom().chroot(path), path);
  }

  umask(mask: number): number {
    // umask(2) always succeeds.
    return libc().umask(mask);
  }

  open(path: string, flags: number, mode: number): number {
    return check('open', libc().open(path, flags, 'uint32_t', mode), path);
  }

  openat(dirfd: number, path: string, flags: number, mode: number): number {
    return check('openat', libc().openat(dirfd, path, flags, 'uint32_t', mode), path);
  }

  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: bigint): number {
    // open_how's flags and mode are u64 that take an int and a mode_t (openat2(2)): the
    // low half as unsigned, the high half zero.
    const how = scratch.openHowView;
    how.setUint32(0, flags >>> 0, true);
    how.setUint32(4, 0, true);
    how.setUint32(8, mode >>> 0, true);
    how.setUint32(12, 0, true);
    how.setBigUint64(16, resolve, true);
    const ret = libc().openat2(syscallNumber('openat2'), dirfd, path, scratch.openHow, OPEN_HOW_SIZE);
    return check('openat2', ret, path);
  }

  close(fd: number): void {
    // A sender still waiting to send on this socket ends with it.
    for (const sender of this.fdSenders) if (sender.socket === fd) sender.cancel();
    check('close', libc().close(fd));
  }

  dup3(oldfd: number, newfd: number, flags: number): void {
    check('dup3', libc().dup3(oldfd, newfd, flags));
  }

  dupCloexec(fd: number, lowest: number): number {
    return check('fcntl', libc().fcntl(fd, F_DUPFD_CLOEXEC, 'int', lowest), 'F_DUPFD_CLOEXEC');
  }

  // stat, lstat and fstat are statx(2) calls, as Node's are (libuv), read straight into a FileStat.
  stat(path: string): FileStat {
    check('stat', libc().statx(AT_FDCWD, path, 0, STATX_BASIC_STATS, scratch.statx), path);
    return fromStatx(scratch.statx);
  }

  lstat(path: string): FileStat {
    check('lstat', libc().statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, scratch.statx), path);
    return fromStatx(scratch.statx);
  }

  fstat(fd: number): FileStat {
    check('fstat', libc().statx(fd, '', AT_EMPTY_PATH, STATX_BASIC_STATS, scratch.statx));
    return fromStatx(scratch.statx);
  }

  fstatMount(fd: number): MountStat {
    check('statx', libc().statx(fd, '', AT_EMPTY_PATH, STATX_TYPE | STATX_MNT_ID, scratch.statx));
    // Before Linux 5.8 stx_mnt_id is not filled: /proc/thread-self/fdinfo/N has it (since 3.15).
    return mountStatFromStatx(scratch.statx, () => {
      const path = `/proc/thread-self/fdinfo/${fd}`;
      const id = /^mnt_id:\s*(\d+)$/m.exec(viaFs(null, [path], () => fs.readFileSync(path, 'utf8')))?.[1];
      if (id === undefined) throw new SyscallError('statx', errnoNumber('ENOSYS'), [path]);
      return BigInt(id);
    });
  }

  fstatfs(fd: number): FsStat {
    const out: { f_type?: bigint | number; f_flags?: bigint | number } = {};
    check('fstatfs', libc().fstatfs(fd, out));
    return { type: Number(out.f_type), flags: BigInt(out.f_flags ?? 0) };
  }

  faccessat(dirfd: number, path: string, mode: number, flags: number): void {
    checkAt('faccessat', libc().faccessat(dirfd, path, mode, flags), dirfd, path);
  }

  mkdirat(dirfd: number, path: string, mode: number): void {
    check('mkdirat', libc().mkdirat(dirfd, path, mode), path);
  }

  mkdir(path: string, mode: number): void {
    viaFs('mkdir', [path], () => fs.mkdirSync(encodeName(path), { mode }));
  }

  rmdir(path: string): void {
    viaFs('rmdir', [path], () => fs.rmdirSync(encodeName(path)));
  }

  unlink(path: string): void {
    viaFs('unlink', [path], () => fs.unlinkSync(encodeName(path)));
  }

  unlinkat(dirfd: number, path: string, flags: number): void {
    check('unlinkat', libc().unlinkat(dirfd, path, flags), path);
  }

  renameat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string): void {
    check('renameat', libc().seldom().renameat(oldDirfd, oldPath, newDirfd, newPath), oldPath, newPath);
  }

  symlinkat(target: string, dirfd: number, linkPath: string): void {
    check('symlinkat', libc().symlinkat(target, dirfd, linkPath), target, linkPath);
  }

  symlink(target: string, linkPath: string): void {
    viaFs('symlink', [target, linkPath], () => fs.symlinkSync(encodeName(target), encodeName(linkPath)));
  }

  readlink(path: string): string {
    const buf = scratch.link;
    return linkText('readlink', check('readlink', Number(libc().readlink(path, buf, buf.length)), path), path);
  }

  readlinkat(dirfd: number, path: string): string {
    const buf = scratch.link;
    return linkText('readlinkat', checkAt('readlinkat', Number(libc().readlinkat(dirfd, path, buf, buf.length)), dirfd, path), path === '' ? fdPath(dirfd) : path);
  }

  // Names read from the kernel keep every byte (decodeName), and so does a file's text:
  // /proc/self/mountinfo, /proc/self/cgroup and /etc/passwd hold names, and text that is
  // valid UTF-8 reads as Node's 'utf8' reads it.
  readdir(path: string): string[] {
    return viaFs('readdir', [path], () => fs.readdirSync(encodeName(path), { encoding: 'buffer' })).map(decodeName);
  }

  readFile(path: string): string {
    return decodeName(viaFs(null, [path], () => fs.readFileSync(encodeName(path))));
  }

  cloexecFrom(first: number): void {
    check('close_range', raw('close_range', 'unsigned int', first, 'unsigned int', 0xffffffff, 'unsigned int', CLOSE_RANGE_CLOEXEC));
  }

  setCloexec(fd: number): void {
    // FD_CLOEXEC is the only descriptor flag (fcntl(2)): setting it alone keeps nothing else from being set.
    check('fcntl', libc().fcntl(fd, F_SETFD, 'int', FD_CLOEXEC));
  }

  clearCloexec(fd: number): void {
    check('fcntl', libc().fcntl(fd, F_SETFD, 'int', 0));
  }

  memfdCreate(name: string, flags: number): number {
    return check('memfd_create', libc().seldom().memfd_create(name, flags), name);
  }

  addSeals(fd: number, seals: number): void {
    check('fcntl', libc().fcntl(fd, F_ADD_SEALS, 'int', seals), fdPath(fd));
  }

  getSeals(path: string): number {
    // A FIFO or a terminal at `path` is not waited for or taken as the controlling terminal.
    const fd = this.open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
    try {
      return check('fcntl', libc().fcntl(fd, F_GET_SEALS), path);
    } finally {
      this.close(fd);
    }
  }

  sethostname(name: string): void {
    check('sethostname', libc().sethostname(name, byteLength(name)), name);
  }

  setdomainname(name: string): void {
    check('setdomainname', libc().seldom().setdomainname(name, byteLength(name)), name);
  }

  joinSessionKeyring(name: string | null, permissions: number): number {
    const named = name ?? ANONYMOUS_SESSION_KEYRING;
    let serial = check('keyctl', raw('keyctl', 'int', KEYCTL_JOIN_SESSION_KEYRING, 'const char *', name), named);
    // 0: the keyring of that name is this thread's session keyring already; its serial is asked for.
    if (serial === 0) serial = check('keyctl', raw('keyctl', 'int', KEYCTL_GET_KEYRING_ID, 'int', KEY_SPEC_SESSION_KEYRING, 'int', 0), named);
    // KEYCTL_DESCRIBE returns the text's size with its NUL, and copies it only into a buffer that holds it all.
    const describe = (into: Buffer): number => check('keyctl', raw('keyctl', 'int', KEYCTL_DESCRIBE, 'int', serial, 'void *', into, 'size_t', into.length), named);
    let buf = Buffer.alloc(KEY_DESCRIBE_GUESS);
    let size = describe(buf);
    if (size > buf.length) size = describe((buf = Buffer.alloc(size)));
    const perm = keyPermissions(buf.subarray(0, size - 1).toString());
    if (perm === undefined) throw new SyscallError('keyctl', errnoNumber('EINVAL'), [named], 'KEYCTL_DESCRIBE gave no permissions');
    check('keyctl', raw('keyctl', 'int', KEYCTL_SETPERM, 'int', serial, 'unsigned int', (perm | permissions) >>> 0), named);
    return serial;
  }

  setInterfaceUp(name: string): void {
    const bytes = Buffer.from(name);
    // The kernel cuts a longer ifr_name to IFNAMSIZ-1 bytes, which could name another interface.
    if (bytes.length >= IFNAMSIZ || bytes.length === 0 || bytes.includes(0)) throw new SyscallError('ioctl', errnoNumber('ENODEV'), [name]);
    const c = libc();
    const fd = check('socket', c.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), name);
    try {
      const req = Buffer.alloc(IFREQ_SIZE);
      bytes.copy(req, 0);
      check('ioctl', c.ioctl(fd, SIOCGIFFLAGS, 'void *', req), name);
      const view = new DataView(req.buffer, req.byteOffset, req.byteLength);
      const flags = view.getUint16(IFR_FLAGS_OFFSET, LITTLE_ENDIAN);
      if (flags & IFF_UP) return;
      view.setUint16(IFR_FLAGS_OFFSET, flags | IFF_UP, LITTLE_ENDIAN);
      check('ioctl', c.ioctl(fd, SIOCSIFFLAGS, 'void *', req), name);
    } finally {
      fs.closeSync(fd);
    }
  }

  // The kernel keeps credentials per thread (credentials(7)); glibc's setgroups, setgid
  // and setuid change every thread of the process, signalling each and waiting for it
  // (nptl(7)): about 100 us per call in a Node process's seven threads, against 1 us for
  // the syscall. These change the calling thread's alone, Node's main thread, the one
  // that makes every call of a run and execs the container: execve(2) ends the other
  // threads and the program gets the caller's credentials. runc makes these calls for its
  // locked OS thread alone the same way; crun has one thread.
  setgroups(gids: number[]): void {
    check('setgroups', raw('setgroups', 'size_t', gids.length, 'const uint32_t *', Uint32Array.from(gids)));
  }

  setgid(gid: number): void {
    check('setgid', raw('setgid', 'uint32_t', gid));
  }

  setuid(uid: number): void {
    check('setuid', raw('setuid', 'uint32_t', uid));
  }

  sleep(ms: number): void {
    blockFor(ms);
  }

  copyFile(source: string, dest: string): void {
    viaFs('copy_file_range', [source, dest], () => fs.copyFileSync(encodeName(source), encodeName(dest)));
  }

  copyFileRange(fdIn: number, fdOut: number): void {
    const c = libc().seldom();
    for (let first = true; ; first = false) {
      const n = Number(c.copy_file_range(fdIn, null, fdOut, null, COPY_CHUNK, 0));
      if (n === 0) return;
      if (n > 0) continue;
      const errno = koffi.errno();
      if (errno === errnoNumber('EINTR')) continue;
      // Nothing is copied yet when the first call refuses the pair.
      if (first && COPY_REFUSALS.some((code) => errnoNumber(code) === errno)) {
        copyByReadWrite(fdIn, fdOut);
        return;
      }
      throw failure('copy_file_range', errno, fdPath(fdIn), fdPath(fdOut));
    }
  }

  listxattr(path: string): string[] {
    const list = xattrBytes('listxattr', path, (buf, size) => Number(libc().seldom().listxattr(path, buf, size)));
    // The names, each ending with a NUL (listxattr(2)).
    return list.length === 0 ? [] : decodeName(list.subarray(0, list.length - 1)).split('\0');
  }

  getxattr(path: string, name: string): Uint8Array {
    return xattrBytes('getxattr', path, (buf, size) => Number(libc().seldom().getxattr(path, name, buf, size)));
  }

  lsetxattr(path: string, name: string, value: string | Uint8Array): void {
    const bytes = typeof value === 'string' ? nameBytes(value) : value;
    check('lsetxattr', libc().seldom().lsetxattr(path, name, bytes, bytes.length, 0), path);
  }

  fsetxattr(fd: number, name: string, value: string | Uint8Array): void {
    const bytes = typeof value === 'string' ? nameBytes(value) : value;
    check('fsetxattr', libc().seldom().fsetxattr(fd, name, bytes, bytes.length, 0), fdPath(fd));
  }

  writeFile(path: string, data: string, mode = 0o666): void {
    viaFs(null, [path], () => fs.writeFileSync(encodeName(path), encodeName(data), { mode }));
  }

  unshare(flags: number): void {
    check('unshare', libc().unshare(flags));
  }

  setns(fd: number, nstype: number): void {
    check('setns', libc().seldom().setns(fd, nstype));
  }

  getpid(): number {
    return process.pid;
  }

  getrandom(length: number, flags: number): Uint8Array {
    const buf = Buffer.alloc(length);
    // A read of up to 256 bytes once the pool is initialized gives them all and is never
    // interrupted (getrandom(2)); a longer one, or one that waited, may be either.
    for (let got = 0; got < length; ) {
      const n = libc().seldom().getrandom(buf.subarray(got), length - got, flags);
      if (n < 0) {
        const errno = koffi.errno();
        if (errno === errnoNumber('EINTR')) continue;
        throw failure('getrandom', errno);
      }
      got += n;
    }
    return new Uint8Array(buf.buffer, buf.byteOffset, length);
  }

  pidfdOpen(pid: number): number {
    return openPidfd(pid);
  }

  pidfdSendSignal(pidfd: number, signal: number): void {
    check('pidfd_send_signal', raw('pidfd_send_signal', 'int', pidfd, 'int', signal, 'void *', null, 'unsigned int', 0), fdPath(pidfd));
  }

  seccompCompile(filter: SeccompFilter): SeccompCompiled {
    if (this.seccompCache === undefined) return this.compileSeccomp(filter);
    libc();
    return compileCached(this.seccompCache, () => cacheKey(filter, libseccompIdentity(koffi), mountkitVersion()), () => this.compileSeccomp(filter), this.seccompCacheVouched);
  }

  private compileSeccomp(filter: SeccompFilter): SeccompCompiled {
    const c = libc().seldom();
    // libseccomp writes the program to a descriptor: a memfd keeps it in memory, and needs no reader while it writes.
    const scratch = check('memfd_create', c.memfd_create('mountkit-seccomp', MFD_CLOEXEC));
    try {
      return compileSeccomp(koffi, filter, scratch);
    } finally {
      fs.closeSync(scratch);
    }
  }

  seccompLoad(program: Uint8Array, flags: number): number {
    const c = libc();
    // Told now, while this thread may still wake them: after the load it makes no syscall until a listener is sent (fd-sender.ts).
    for (const sender of this.fdSenders) sender.arm();
    const fprog = { len: program.length / SOCK_FILTER_SIZE, filter: program };
    const ret = check('seccomp', raw('seccomp', 'unsigned int', SECCOMP_SET_MODE_FILTER, 'unsigned int', flags, c.sockFprogPtr, fprog));
    return flags & SECCOMP_FILTER_FLAG_NEW_LISTENER ? ret : -1;
  }

  connectUnix(path: string): number {
    return unixSocketAt(SOCK_STREAM, 'connect', path);
  }

  bindUnixDatagram(path: string): number {
    return unixSocketAt(SOCK_DGRAM, 'bind', path);
  }

  sendUnixDatagram(path: string, data: string): void {
    const { addr, length } = unixAddress('sendto', path);
    const payload = nameBytes(data);
    const fd = check('socket', libc().socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0), path);
    try {
      // A datagram goes whole or not at all (unix(7)); a send a signal interrupted is made
      // again. MSG_DONTWAIT: a receiver whose queue is full is EAGAIN, not a wait.
      let n: number;
      do n = Number(libc().seldom().sendto(fd, payload, payload.length, MSG_DONTWAIT, addr, length));
      while (n < 0 && koffi.errno() === errnoNumber('EINTR'));
      check('sendto', n, path);
    } finally {
      fs.closeSync(fd);
    }
  }

  peerPid(socket: number): number {
    const cred = Buffer.alloc(UCRED_SIZE);
    const length = new Uint32Array([UCRED_SIZE]);
    check('getsockopt', libc().seldom().getsockopt(socket, SOL_SOCKET, SO_PEERCRED, cred, length), fdPath(socket), 'SO_PEERCRED');
    return cred.readInt32LE(0);
  }

  startFdSender(socket: number, data: string): number {
    libc();
    const sender = FdSender.start(koffiFile ?? require.resolve('koffi'), socket, data, fdPath(socket), LITTLE_ENDIAN);
    this.fdSenders.push(sender);
    return this.fdSenders.length;
  }

  sendFd(sender: number, fd: number): void {
    const thread = this.fdSenders[sender - 1];
    if (!thread) throw new SyscallError('sendmsg', errnoNumber('EBADF'), [], `no sender thread ${sender}`);
    thread.send(fd);
  }


  capbsetRead(cap: number): boolean {
    return check('prctl', prctl(PR_CAPBSET_READ, cap)) === 1;
  }

  capbsetDrop(cap: number): void {
    check('prctl', prctl(PR_CAPBSET_DROP, cap));
  }

  setKeepCaps(keep: boolean): void {
    check('prctl', prctl(PR_SET_KEEPCAPS, keep ? 1 : 0));
  }

  capset(effective: bigint, permitted: bigint, inheritable: bigint): void {
    const header = Buffer.alloc(8);
    header.writeUInt32LE(LINUX_CAPABILITY_VERSION_3, 0);
    const data = Buffer.alloc(24);
    [effective, permitted, inheritable].forEach((mask, i) => {
      data.writeUInt32LE(Number(mask & 0xffffffffn), i * 4);
      data.writeUInt32LE(Number(mask >> 32n), 12 + i * 4);
    });
    check('capset', libc().capset(header, data));
  }

  ambientClearAll(): void {
    check('prctl', prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL));
  }

  ambientRaise(cap: number): void {
    check('prctl', prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap));
  }

  setrlimit(resource: number, soft: bigint, hard: bigint): void {
    const limit = Buffer.alloc(16);
    limit.writeBigUInt64LE(soft, 0);
    limit.writeBigUInt64LE(hard, 8);
    check('prlimit', libc().prlimit(0, resource, limit, null));
  }

  getrlimit(resource: number): { soft: bigint; hard: bigint } {
    const limit = Buffer.alloc(16);
    check('prlimit', libc().prlimit(0, resource, null, limit));
    return { soft: limit.readBigUInt64LE(0), hard: limit.readBigUInt64LE(8) };
  }

  setNoNewPrivs(): void {
    check('prctl', prctl(PR_SET_NO_NEW_PRIVS, 1));
  }

  setDumpable(dumpable: boolean): void {
    check('prctl', prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0));
  }

  setParentDeathSignal(signal: number): void {
    check('prctl', prctl(PR_SET_PDEATHSIG, signal));
  }

  setChildSubreaper(): void {
    check('prctl', prctl(PR_SET_CHILD_SUBREAPER, 1));
  }

  unsetChildSubreaper(): void {
    check('prctl', prctl(PR_SET_CHILD_SUBREAPER, 0));
  }

  reapChild(pid: number): void {
    const info = Buffer.alloc(SIGINFO_SIZE);
    for (;;) {
      if (libc().seldom().waitid(P_PID, pid, info, WEXITED) === 0) return;
      const errno = koffi.errno();
      // A signal handled meanwhile (libuv's, installed with SA_RESTART, restarts it; one without would not).
      if (errno !== errnoNumber('EINTR')) throw failure('waitid', errno, `/proc/${pid}`);
    }
  }

  reapIfEnded(pid: number): boolean {
    return waitEnded(pid, 0);
  }

  setsid(): void {
    check('setsid', libc().setsid());
  }

  getsid(): number {
    return check('getsid', libc().seldom().getsid(0));
  }

  releaseTerminal(fd: number): void {
    check('ioctl', libc().ioctl(fd, TIOCNOTTY), 'TIOCNOTTY');
  }

  schedSetattr(attr: Uint8Array, flags: number): void {
    check('sched_setattr', raw('sched_setattr', 'int', 0, 'uint8_t *', attr, 'unsigned int', flags));
  }

  ioprioSet(which: number, who: number, ioprio: number): void {
    check('ioprio_set', raw('ioprio_set', 'int', which, 'int', who, 'int', ioprio));
  }

  personality(persona: number): void {
    check('personality', libc().seldom().personality(persona));
  }

  ptyUnlock(fd: number): void {
    check('ioctl', libc().ioctl(fd, TIOCSPTLCK, 'int *', [0]), 'TIOCSPTLCK');
  }

  ptyPeer(fd: number, flags: number): number {
    return check('ioctl', libc().ioctl(fd, TIOCGPTPEER, 'unsigned long', flags), 'TIOCGPTPEER');
  }

  setWindowSize(fd: number, rows: number, cols: number): void {
    const size = Buffer.alloc(8);
    new DataView(size.buffer, size.byteOffset, 8).setUint16(0, rows, LITTLE_ENDIAN);
    new DataView(size.buffer, size.byteOffset, 8).setUint16(2, cols, LITTLE_ENDIAN);
    check('ioctl', libc().ioctl(fd, TIOCSWINSZ, 'void *', size), 'TIOCSWINSZ');
  }

  getForegroundGroup(fd: number): number {
    const pgrp = Buffer.alloc(4);
    check('ioctl', libc().ioctl(fd, TIOCGPGRP, 'void *', pgrp), 'TIOCGPGRP');
    return new DataView(pgrp.buffer, pgrp.byteOffset, 4).getInt32(0, LITTLE_ENDIAN);
  }

  getpgrp(): number {
    return check('getpgrp', libc().seldom().getpgrp());
  }

  getWindowSize(fd: number): { rows: number; cols: number } {
    const size = Buffer.alloc(8);
    check('ioctl', libc().ioctl(fd, TIOCGWINSZ, 'void *', size), 'TIOCGWINSZ');
    const view = new DataView(size.buffer, size.byteOffset, 8);
    return { rows: view.getUint16(0, LITTLE_ENDIAN), cols: view.getUint16(2, LITTLE_ENDIAN) };
  }

  getTermios(fd: number): Termios {
    const buf = Buffer.alloc(TERMIOS_SIZE);
    check('ioctl', libc().ioctl(fd, TCGETS, 'void *', buf), 'TCGETS');
    const view = new DataView(buf.buffer, buf.byteOffset, TERMIOS_SIZE);
    const word = (i: number): number => view.getUint32(i * 4, LITTLE_ENDIAN);
    return { iflag: word(0), oflag: word(1), cflag: word(2), lflag: word(3), line: buf[16], cc: [...buf.subarray(17, 17 + TERMIOS_NCCS)] };
  }

  setTermios(fd: number, termios: Termios): void {
    const buf = Buffer.alloc(TERMIOS_SIZE);
    const view = new DataView(buf.buffer, buf.byteOffset, TERMIOS_SIZE);
    [termios.iflag, termios.oflag, termios.cflag, termios.lflag].forEach((w, i) => view.setUint32(i * 4, w >>> 0, LITTLE_ENDIAN));
    buf[16] = termios.line;
    termios.cc.slice(0, TERMIOS_NCCS).forEach((c, i) => (buf[17 + i] = c));
    check('ioctl', libc().ioctl(fd, TCSETS, 'void *', buf), 'TCSETS');
  }

  setNonBlocking(fd: number): void {
    const c = libc();
    const flags = check('fcntl', c.fcntl(fd, F_GETFL), 'F_GETFL');
    if (!(flags & O_NONBLOCK)) check('fcntl', c.fcntl(fd, F_SETFL, 'int', flags | O_NONBLOCK), 'F_SETFL');
  }

  setBlocking(fd: number): void {
    const c = libc();
    const flags = check('fcntl', c.fcntl(fd, F_GETFL), 'F_GETFL');
    if (flags & O_NONBLOCK) check('fcntl', c.fcntl(fd, F_SETFL, 'int', flags & ~O_NONBLOCK), 'F_SETFL');
  }

  setControllingTerminal(fd: number): void {
    check('ioctl', libc().ioctl(fd, TIOCSCTTY, 'unsigned long', 0), 'TIOCSCTTY');
  }

  sendFdMessage(socket: number, fd: number, data: string): void {
    const c = libc().seldom();
    const payload = nameBytes(data);
    const control = scmRightsControl(fd, LITTLE_ENDIAN);
    // A stream socket may take part of the data; the descriptor goes with its first byte. A send a signal interrupted is made again.
    for (let at = 0; at < payload.length; ) {
      const first = at === 0;
      const rest = payload.subarray(at);
      const n = Number(c.sendmsg(socket, { name: null, namelen: 0, iov: { base: rest, len: rest.length }, iovlen: 1, control: first ? control : null, controllen: first ? SCM_RIGHTS_SPACE : 0, flags: 0 }, 0));
      if (n < 0 && koffi.errno() === errnoNumber('EINTR')) continue;
      check('sendmsg', n);
      if (n === 0) throw new SyscallError('sendmsg', errnoNumber('EIO'), [], 'the socket took nothing');
      at += n;
    }
  }

  exchange(fd: number, line: string): string {
    return exchangeLine(fd, line, [], 'a message');
  }

  socketPair(): [number, number] {
    const sv = Buffer.alloc(8);
    check('socketpair', libc().seldom().socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
    const view = new DataView(sv.buffer, sv.byteOffset, 8);
    return [view.getInt32(0, LITTLE_ENDIAN), view.getInt32(4, LITTLE_ENDIAN)];
  }

  recvFdMessage(socket: number): { data: string; fd?: number } {
    const data = Buffer.alloc(RECV_DATA_MAX);
    const control = Buffer.alloc(SCM_RIGHTS_SPACE);
    // Room for one descriptor: a message passing more (a datagram's FDSTORE=1) leaves none of the others open here.
    const msg = { name: null, namelen: 0, iov: { base: data, len: data.length }, iovlen: 1, control, controllen: CMSG_LEN_INT, flags: 0 };
    let n: number;
    do n = Number(libc().seldom().recvmsg(socket, msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC));
    while (n < 0 && koffi.errno() === errnoNumber('EINTR'));
    check('recvmsg', n);
    const fd = scmRightsFd(control, LITTLE_ENDIAN);
    return { data: decodeName(data.subarray(0, n)), ...(fd === undefined ? {} : { fd }) };
  }

  write(fd: number, data: string): void {
    const bytes = nameBytes(data);
    // A pipe or stream socket may take part of it (write(2)).
    viaFs('write', [], () => {
      for (let at = 0; at < bytes.length; ) at += fs.writeSync(fd, bytes, at);
    });
  }

  prepareExec(): void {
    const c = libc();
    // execve(2) keeps an ignored disposition and resets a caught one to the default
    // (signal(7)). The container starts with every signal at its default, as runc's does
    // (runc catches every signal, so its init and the container start with none ignored),
    // whatever mountkit's starter ignored. Node's own two are caught from here on by a
    // listener that does nothing, so that a write to a closed pipe still fails with EPIPE
    // rather than ending mountkit (a startContainer hook that does not read its state);
    // the real-time ones, which Node neither catches nor ignores, go to the default.
    for (const sig of NODE_IGNORED_SIGNALS) process.on(sig, ignoreSignal);
    for (let signum = SIGRTMIN; signum <= SIGRTMAX; signum++) c.signal(signum, SIG_DFL);
    this.readyForExec = true;
  }

  execve(path: string, argv: string[], envp: string[]): never {
    if (!this.readyForExec) this.prepareExec();
    const c = libc();
    // Node may mark fds 0-2 close-on-exec (/proc/self/fdinfo shows O_CLOEXEC on Node 20),
    // and libuv sets it on a terminal it reopens there when Node first writes to it:
    // cleared last, where set (a seccomp filter may refuse F_SETFD, which runc never
    // calls). FD_CLOEXEC is the only descriptor flag (fcntl(2)). A refusal fails the run:
    // the program would start with no stdin, stdout or stderr, and its next open(2) would
    // take their place.
    for (const fd of [0, 1, 2]) {
      const fdFlags = c.fcntl(fd, F_GETFD);
      if (fdFlags < 0 || !(fdFlags & FD_CLOEXEC)) continue;
      if (c.fcntl(fd, F_SETFD, 'int', 0) < 0) throw new SyscallError('fcntl', koffi.errno(), [fdPath(fd)], 'F_SETFD, clearing FD_CLOEXEC for execve(2)');
    }
    // koffi passes a JS array as `const char **`; execve(2) wants both lists NULL-terminated.
    // execve(2) returns only on failure.
    c.execve(path, [...argv, null], [...envp, null]);
    throw new SyscallError('execve', koffi.errno(), [path]);
  }

  runCommand(cmd: CommandSpec): CommandResult {
    if (cmd.via !== undefined) return runVia(cmd.via, cmd);
    const out = commandOutput();
    let input: number | undefined;
    try {
      input = commandInput(cmd.stdin ?? '');
      const pid = spawnCommand(this, cmd, input, out);
      if (pid !== undefined) return { ...awaitCommand(pid, timeoutOf(cmd)), output: readOutput(out) };
      // Required here: child_process loads Node's net and stream modules (about 7 ms), which a run without hooks never uses.
      const { spawnSync } = require('child_process') as typeof import('child_process');
      const r = spawnSync(cmd.path, cmd.args, { ...spawnOptions(cmd, input, out), timeout: timeoutOf(cmd), killSignal: 'SIGKILL' });
      // One its timeout killed leaves ETIMEDOUT; its end is known then, and is what counts:
      // a timeout is told by the signal, as runCommandAsync tells it.
      const ended = r.status !== null || r.signal !== null;
      const code = (r.error as NodeJS.ErrnoException | undefined)?.code;
      if (r.error && !(ended && code === 'ETIMEDOUT')) throw startFailure(this, cmd, r.error);
      return { status: r.status, signal: r.signal, output: readOutput(out), ...(code === 'ETIMEDOUT' ? { timedOut: true } : {}) };
    } finally {
      if (input !== undefined) fs.closeSync(input);
      fs.closeSync(out);
    }
  }

  /**
   * runCommand without waiting: for `mountkit run`'s first process, which has entered no
   * namespace, so that its event loop goes on (a console copied, signals passed on) while
   * a poststart hook runs. The same start, options and output: one memfd, which needs no
   * reader, so what the command leaves running may go on writing to it; a command by path
   * through posix_spawn(3) (spawnCommand, awaitCommandAsync), else Node's spawn. No `via`.
   */
  runCommandAsync(cmd: CommandSpec): Promise<CommandResult> {
    if (cmd.via !== undefined) return Promise.reject(new SyscallError('execve', errnoNumber('EINVAL'), [cmd.path], 'a command for another process is sent with runCommand'));
    const out = commandOutput();
    let input: number;
    try {
      input = commandInput(cmd.stdin ?? '');
    } catch (err) {
      fs.closeSync(out);
      return Promise.reject(err);
    }
    let pid: number | undefined;
    try {
      pid = spawnCommand(this, cmd, input, out);
    } catch (err) {
      fs.closeSync(input);
      fs.closeSync(out);
      return Promise.reject(err);
    }
    if (pid === undefined) return this.spawnCommandAsync(cmd, input, out);
    // The child has its own copy from here on.
    fs.closeSync(input);
    return awaitCommandAsync(pid, timeoutOf(cmd))
      .then((end) => ({ ...end, output: readOutput(out) }))
      .finally(() => fs.closeSync(out));
  }

  /** runCommandAsync of `cmd` through Node's spawn, reading `input` (closed here) and writing to `out` (closed once it has ended). */
  private spawnCommandAsync(cmd: CommandSpec, input: number, out: number): Promise<CommandResult> {
    const { spawn } = require('child_process') as typeof import('child_process');
    let child: import('child_process').ChildProcess;
    try {
      // The timeout is this process's own timer below, which tells that it fired.
      child = spawn(cmd.path, cmd.args, spawnOptions(cmd, input, out));
      // Before the event loop runs again: a reaper of this process's orphans passes it over (core/node-children.ts).
      recordSpawned(child);
    } catch (err) {
      fs.closeSync(out);
      return Promise.reject(startFailure(this, cmd, err));
    } finally {
      // The child has its own copy from here on.
      fs.closeSync(input);
    }
    return new Promise((resolve, reject) => {
      const ms = timeoutOf(cmd);
      let timedOut = false;
      // Armed once the command runs: one that never starts has no exit to clear it, and the
      // timer would keep this process waiting for as long as the timeout.
      let timer: NodeJS.Timeout | undefined;
      child.on('spawn', () => {
        if (ms === undefined) return;
        timer = setTimeout(() => {
          timedOut = true;
          child.kill('SIGKILL');
        }, ms);
      });
      child.on('error', (err) => {
        // Not started, and no exit follows; a later error (a failed kill) changes nothing.
        if (child.pid !== undefined) return;
        fs.closeSync(out);
        reject(startFailure(this, cmd, err));
      });
      child.on('exit', (status, signal) => {
        if (timer !== undefined) clearTimeout(timer);
        try {
          resolve({ status, signal, output: readOutput(out), ...(timedOut ? { timedOut: true } : {}) });
        } finally {
          fs.closeSync(out);
        }
      });
    });
  }
}
