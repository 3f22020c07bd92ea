/**
 * The syscall port: the only door from mountkit's plugins to the operating system.
 *
 * Every method is synchronous. After unshare(CLONE_NEWNS) only the calling (main)
 * thread is in the new mount namespace; libuv's thread pool is not, so nothing here
 * may be asynchronous (README.md, "Namespaces: how a multi-threaded Node enters them";
 * docs/plugins.md, "The interfaces").
 *
 * Every failure raises a SyscallError (see ../errors.ts) naming the syscall, the
 * errno and the path(s).
 *
 * Names are bytes to the kernel, not always valid UTF-8. Every string the port gives
 * (readlink, readlinkat, readdir, readFile) and takes (paths, names, file text, execve's
 * lists) is a surrogateescape string (../names.ts, PEP 383): valid UTF-8 as itself, and
 * each other byte B as the lone surrogate U+DC00+B, which stands for that byte.
 */

export type FileKind = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo' | 'socket';

export interface FileStat {
  kind: FileKind;
  /** Permission bits and set-id/sticky bits (mode & 0o7777). */
  perm: number;
  uid: number;
  gid: number;
  /** Device number of a char/block node, 0n otherwise. */
  rdev: bigint;
  /** Device of the filesystem holding the file. */
  dev: bigint;
  ino: bigint;
  size: number;
}

/** What fstatfs(2) reports of the filesystem holding a file. */
export interface FsStat {
  /** f_type: the filesystem's magic number (PROC_SUPER_MAGIC...), include/uapi/linux/magic.h. */
  type: number;
  /** f_flags: the mount's flags as ST_* bits (ST_RDONLY, ST_NOSUID...), include/linux/statfs.h. */
  flags: bigint;
}

/**
 * What statx(2) of an open file says of the mount it lies on (STATX_MNT_ID and
 * STATX_ATTR_MOUNT_ROOT, Linux 5.8): how afterMount (core/mounting.ts) tells the mount it
 * has just made from what a racing rename put at its place.
 */
export interface MountStat {
  kind: FileKind;
  /** The mount's id, as /proc/PID/mountinfo's first field: stx_mnt_id, or the `mnt_id:` of /proc/thread-self/fdinfo/N on a kernel before 5.8. */
  mntId: bigint;
  /** Whether the file is the root of its mount (STATX_ATTR_MOUNT_ROOT); undefined where the kernel does not tell (before 5.8). */
  mountRoot: boolean | undefined;
}

/** A command run around a mount (runc's PremountCmds/PostmountCmds). */
export interface CommandSpec {
  path: string;
  /** Arguments after argv[0]. */
  args: string[];
  /** The command's whole environment; absent, the environment of the process that runs it (the one at the end of `via`, when given). */
  env?: string[];
  dir: string;
  /** argv[0] when it is not `path` (OCI hooks give it as args[0]). */
  argv0?: string;
  /** The command's standard input, a file holding this (OCI hooks read the container state there). */
  stdin?: string;
  /** Kill the command (SIGKILL) if it still runs after this many milliseconds (at most 2^31-1). */
  timeoutMs?: number;
  /**
   * A socket to the process that started this one, which runs the command instead (on
   * the host, where runc runs the runtime's hooks) and answers with its result: one JSON
   * line each way (the command without `via`; the result, or the error it failed with).
   */
  via?: number;
}

/**
 * One line of a user namespace's uid_map or gid_map (user_namespaces(7)): `size` ids from
 * `containerID` inside the namespace are `hostID` and up in its parent.
 */
export interface IdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface CommandResult {
  status: number | null;
  signal: string | null;
  output: string;
  /** Killed (SIGKILL) because it ran past CommandSpec.timeoutMs. */
  timedOut?: boolean;
}

export interface Syscalls {
  mount(source: string | null, target: string, fstype: string | null, flags: bigint, data: string | null): void;
  umount2(target: string, flags: number): void;
  /**
   * mount_setattr(2) with the given `AT_*` flags; attributes are MOUNT_ATTR_* bits.
   * `usernsFd` is the user namespace of MOUNT_ATTR_IDMAP, read only with that attribute.
   */
  mountSetattr(dirfd: number, path: string, atFlags: number, attrSet: bigint, attrClr: bigint, propagation: bigint, usernsFd?: number): void;
  /** open_tree(2): with OPEN_TREE_CLONE, a new detached copy of the mount at `path` (AT_RECURSIVE: and of those below it). */
  openTree(dirfd: number, path: string, flags: number): number;
  /**
   * open_tree_attr(2) (Linux 6.15): open_tree(2), then the mount_setattr(2) attributes on
   * what it opened (with OPEN_TREE_CLONE the detached copy, before any other process can
   * see it; with AT_RECURSIVE on every mount of the copy). The copy is gone when the
   * attributes are refused. ENOSYS on an older kernel. No user namespace is passed
   * (userns_fd 0), so MOUNT_ATTR_IDMAP is not for this call: idmapped copies take
   * mountSetattr.
   */
  openTreeAttr(dirfd: number, path: string, flags: number, attrSet: bigint, attrClr: bigint, propagation: bigint): number;
  /** move_mount(2): attaches the detached or attached mount at `fromDirfd`/`fromPath` at `toDirfd`/`toPath`. */
  moveMount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): void;
  /**
   * fsopen(2) (Linux 5.2): a filesystem context for a new superblock of `fstype`, with
   * `flags` (FSOPEN_CLOEXEC). ENOSYS on an older kernel; EPERM without CAP_SYS_ADMIN in
   * the user namespace that owns this mount namespace. Errors name `fstype`.
   */
  fsopen(fstype: string, flags: number): number;
  /**
   * fsconfig(2) on the context open as `fd`: `cmd` FSCONFIG_SET_FLAG (`key`, no value),
   * FSCONFIG_SET_STRING (`key` and `value`, at most 255 bytes each) or FSCONFIG_CMD_CREATE
   * (neither), `aux` 0. Errors name the parameter (`key=value`, `key`) or the command, and
   * carry what the kernel wrote to the context's log about it.
   */
  fsconfig(fd: number, cmd: number, key: string | null, value: string | null, aux: number): void;
  /**
   * fsmount(2): a new mount of the superblock the context open as `fd` created, attached
   * nowhere, with the MOUNT_ATTR_* bits of `attrFlags`; `flags` FSMOUNT_CLOEXEC. Returns an
   * O_PATH descriptor of its root: the *at calls and its magic link reach into it, and
   * move_mount(2) attaches it. Errors carry what the kernel wrote to the context's log.
   */
  fsmount(fd: number, flags: number, attrFlags: bigint): number;
  /**
   * A descriptor (O_RDONLY|O_CLOEXEC) of a new user namespace, child of the caller's,
   * whose uid_map and gid_map hold the given lines: what MOUNT_ATTR_IDMAP takes. A
   * multithreaded process cannot unshare(2) one (user_namespaces(7)), so a short-lived
   * helper process makes it; the helper is gone when this returns.
   */
  userNamespace(uidMappings: readonly IdMapping[], gidMappings: readonly IdMapping[]): number;
  pivotRoot(newRoot: string, putOld: string): void;
  mknod(path: string, mode: number, dev: bigint): void;
  /** mknodat(2): `path` relative to the directory open as `dirfd`. */
  mknodat(dirfd: number, path: string, mode: number, dev: bigint): void;
  chown(path: string, uid: number, gid: number): void;
  /** fchownat(2); with AT_EMPTY_PATH and an empty `path`, the file open as `dirfd` itself. */
  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): void;
  lchown(path: string, uid: number, gid: number): void;
  chmod(path: string, mode: number): void;
  /** fchmod(2): the mode of the file open as `fd`; EBADF for an O_PATH descriptor, which fchmod(2) does not take. */
  fchmod(fd: number, mode: number): void;
  chdir(path: string): void;
  fchdir(fd: number): void;
  chroot(path: string): void;
  /** Sets the umask and returns the previous one. */
  umask(mask: number): number;
  open(path: string, flags: number, mode: number): number;
  openat(dirfd: number, path: string, flags: number, mode: number): number;
  /** openat2(2) with struct open_how { flags, mode, resolve }. */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: bigint): number;
  close(fd: number): void;
  dup3(oldfd: number, newfd: number, flags: number): void;
  /**
   * fcntl(2) F_DUPFD_CLOEXEC: a copy of `fd` (the same open file) on the lowest free
   * descriptor at or above `lowest`, close-on-exec. Returns the copy's number.
   */
  dupCloexec(fd: number, lowest: number): number;
  stat(path: string): FileStat;
  lstat(path: string): FileStat;
  fstat(fd: number): FileStat;
  fstatfs(fd: number): FsStat;
  /**
   * faccessat(2): whether `path` (from `dirfd`) may be used for `mode` (R_OK, W_OK, X_OK),
   * as the effective ids with AT_EACCESS in `flags`; throws the refusal (EACCES; EROFS for
   * W_OK on a read-only mount) and opens nothing.
   */
  faccessat(dirfd: number, path: string, mode: number, flags: number): void;
  /** statx(2) of the open file `fd` (AT_EMPTY_PATH) for its kind and the mount it lies on. */
  fstatMount(fd: number): MountStat;
  mkdir(path: string, mode: number): void;
  mkdirat(dirfd: number, path: string, mode: number): void;
  rmdir(path: string): void;
  unlink(path: string): void;
  /** unlinkat(2); AT_REMOVEDIR in `flags` removes a directory. */
  unlinkat(dirfd: number, path: string, flags: number): void;
  /** renameat(2): `oldPath` in the directory open as `oldDirfd` becomes `newPath` in the one open as `newDirfd`, replacing a file there. */
  renameat(oldDirfd: number, oldPath: string, newDirfd: number, newPath: string): void;
  symlink(target: string, linkPath: string): void;
  symlinkat(target: string, dirfd: number, linkPath: string): void;
  readlink(path: string): string;
  /** readlinkat(2); an empty `path` reads the link open as `dirfd` (O_PATH|O_NOFOLLOW). */
  readlinkat(dirfd: number, path: string): string;
  readdir(path: string): string[];
  readFile(path: string): string;
  /** Writes the whole file, creating it with `mode` (before umask) if missing. */
  writeFile(path: string, data: string, mode?: number): void;
  /** Copies a regular file's bytes to `dest` (created or truncated); no metadata. */
  copyFile(source: string, dest: string): void;
  /**
   * copy_file_range(2) of the bytes of the file open as `fdIn`, from its offset to its end,
   * onto the file open for writing as `fdOut` at its offset, in as many calls as it takes;
   * read(2) and write(2) instead where the first call answers that the kernel does not
   * copy between the two (EXDEV: another filesystem before Linux 5.3, or another type of
   * filesystem from 5.19; EINVAL, EOPNOTSUPP; ENOSYS before 4.5). Errors (copy_file_range,
   * read or write) name both files.
   */
  copyFileRange(fdIn: number, fdOut: number): void;
  /**
   * memfd_create(2) (Linux 3.17): a new regular file in memory that no directory holds,
   * open for reading and writing; its descriptor's link reads `/memfd:NAME (deleted)`.
   * `flags`: MFD_CLOEXEC, MFD_ALLOW_SEALING, MFD_EXEC (Linux 6.3; EINVAL before).
   */
  memfdCreate(name: string, flags: number): number;
  /**
   * fcntl(2) F_ADD_SEALS: adds F_SEAL_* `seals` to the memfd open as `fd`: EPERM for a
   * descriptor not open for writing and once the file has F_SEAL_SEAL (as one made
   * without MFD_ALLOW_SEALING has), EBUSY for F_SEAL_WRITE while a writable shared
   * mapping of it exists, EINVAL for a file that takes none.
   */
  addSeals(fd: number, seals: number): void;
  /**
   * fcntl(2) F_GET_SEALS of the file `path` leads to, opened read-only for it and closed
   * again (a memfd through /proc/PID/fd/N or /proc/PID/exe): its seals; EINVAL for a file
   * that takes none (one that is no memfd or tmpfs regular file), open(2)'s errors.
   */
  getSeals(path: string): number;
  /**
   * listxattr(2): the names of the extended attributes of the file at `path`, a final
   * symlink followed (a descriptor's magic link leads to the file open there); those the
   * caller may not see (trusted.* without CAP_SYS_ADMIN) are not listed.
   */
  listxattr(path: string): string[];
  /** getxattr(2): the value of the extended attribute `name` of the file at `path`, a final symlink followed, as its bytes. */
  getxattr(path: string, name: string): Uint8Array;
  /** lsetxattr(2): sets an extended attribute (text as its UTF-8 bytes, or bytes) without following a final symlink. */
  lsetxattr(path: string, name: string, value: string | Uint8Array): void;
  /** fsetxattr(2): sets an extended attribute (text as its UTF-8 bytes, or bytes) of the file open as `fd`; EBADF for an O_PATH descriptor. */
  fsetxattr(fd: number, name: string, value: string | Uint8Array): void;
  unshare(flags: number): void;
  /** close_range(2) with CLOSE_RANGE_CLOEXEC: every descriptor from `first` up closes on execve. */
  cloexecFrom(first: number): void;
  /** fcntl(2) F_SETFD FD_CLOEXEC: the descriptor `fd` closes on execve. */
  setCloexec(fd: number): void;
  /** fcntl(2) F_SETFD 0: the descriptor `fd` stays open through execve (FD_CLOEXEC is the only descriptor flag). */
  clearCloexec(fd: number): void;
  sethostname(name: string): void;
  setdomainname(name: string): void;
  /**
   * keyctl(2) KEYCTL_JOIN_SESSION_KEYRING: the calling thread's session keyring becomes
   * the keyring `name`, a new one unless one by that name exists that it may search, or a
   * new anonymous one for `null` (execve(2) gives the program the thread's keyrings); then
   * KEYCTL_DESCRIBE and KEYCTL_SETPERM add the `permissions` bits (KEY_*) to the keyring's
   * own. Returns its serial number. Errors name the keyring (ENOSYS: a kernel without keys).
   */
  joinSessionKeyring(name: string | null, permissions: number): number;
  /**
   * ioctl(2) SIOCGIFFLAGS, then SIOCSIFFLAGS with IFF_UP added, on an AF_INET datagram
   * socket (netdevice(7)): brings the interface `name` of this process's network
   * namespace up, its other flags kept; nothing more when it is up already. Errors name
   * the interface (ENODEV: none by that name).
   */
  setInterfaceUp(name: string): void;
  /** setgroups(2), setgid(2), setuid(2) through glibc, which applies them to every thread. */
  setgroups(gids: number[]): void;
  setgid(gid: number): void;
  setuid(uid: number): void;
  /**
   * setns(2): this thread joins the namespace open as `fd` (`nstype` 0, or its type), or,
   * when `fd` is a pidfd (Linux 5.8), the namespaces `nstype` names (none: EINVAL) of the
   * process it refers to (ESRCH once that has exited).
   */
  setns(fd: number, nstype: number): void;
  /**
   * The capability calls of this thread (capabilities(7)), which is the one that execs:
   * prctl(2) PR_CAPBSET_READ (whether `cap` is in the bounding set; EINVAL past the
   * kernel's last), PR_CAPBSET_DROP, PR_SET_KEEPCAPS, PR_CAP_AMBIENT (CLEAR_ALL, RAISE),
   * and capset(2) of the effective, permitted and inheritable sets as 64-bit masks.
   */
  capbsetRead(cap: number): boolean;
  capbsetDrop(cap: number): void;
  setKeepCaps(keep: boolean): void;
  capset(effective: bigint, permitted: bigint, inheritable: bigint): void;
  ambientClearAll(): void;
  ambientRaise(cap: number): void;
  /** prlimit(2) of this process: `resource`'s soft and hard limits (RLIM_INFINITY for none). */
  setrlimit(resource: number, soft: bigint, hard: bigint): void;
  /** prlimit(2) of this process: `resource`'s soft and hard limits now. */
  getrlimit(resource: number): { soft: bigint; hard: bigint };
  /** prctl(2) PR_SET_NO_NEW_PRIVS: execve(2) grants no privilege (set-id bits, file capabilities) from here on, for this process and its children. */
  setNoNewPrivs(): void;
  /**
   * prctl(2) PR_SET_DUMPABLE: whether this process may be ptraced, and its /proc/PID files
   * opened, by another process of its credentials without CAP_SYS_PTRACE
   * (ptrace_may_access); not dumpable, its /proc/PID files are root's. execve(2) decides it
   * again for the new program.
   */
  setDumpable(dumpable: boolean): void;
  /**
   * prctl(2) PR_SET_PDEATHSIG: `signal` comes to this process when the thread that forked
   * it ends. It is kept through execve(2) but of a set-id program, and cleared when the
   * process's credentials change (its effective or filesystem ids, or capabilities it did
   * not have before).
   */
  setParentDeathSignal(signal: number): void;
  /**
   * prctl(2) PR_SET_CHILD_SUBREAPER: a process whose parent ends while this one is among
   * its ancestors gets this one as its parent, not the pid namespace's init, and this one
   * may wait for it (Linux 3.4). Not inherited by children made by fork(2); kept across
   * execve(2).
   */
  setChildSubreaper(): void;
  /**
   * prctl(2) PR_SET_CHILD_SUBREAPER with 0: the processes whose parent ends from now on go
   * to the pid namespace's init (or a subreaper above this one); those this one already
   * has stay its children.
   */
  unsetChildSubreaper(): void;
  /**
   * waitid(2) P_PID `pid`, WEXITED: waits until that child of this process has ended and
   * reaps it, whatever it ended with. ECHILD when it is no child of this one (any more).
   */
  reapChild(pid: number): void;
  /**
   * waitid(2) P_PID `pid`, WEXITED | WNOHANG: reaps that child of this process if it has
   * ended (true), without waiting; false while it runs. ECHILD when it is no child of
   * this one (any more).
   */
  reapIfEnded(pid: number): boolean;
  /**
   * Builds a seccomp filter with libseccomp (seccomp_init, seccomp_arch_add,
   * seccomp_rule_add_array, seccomp_export_bpf) and returns its BPF program without
   * loading it. The library is loaded on first use, from the filesystem the process
   * sees then: call it before the jail. A port may keep what it built and give it again
   * for the same filter, library and kernel (`cache` tells).
   */
  seccompCompile(filter: SeccompFilter): SeccompCompiled;
  /**
   * seccomp(2) SECCOMP_SET_MODE_FILTER: this thread runs `program` (struct sock_filter
   * array) from here on, and so does what it execs. With SECCOMP_FILTER_FLAG_NEW_LISTENER
   * in `flags` it returns the listener's descriptor, else -1.
   */
  seccompLoad(program: Uint8Array, flags: number): number;
  /** socket(2) AF_UNIX SOCK_STREAM (close-on-exec) connected to the socket file at `path`. */
  connectUnix(path: string): number;
  /**
   * getsockopt(2) SO_PEERCRED on the connected unix socket `socket`: the pid of the process
   * that connected its peer (or made the pair), as of connect(2), in this process's pid
   * namespace (unix(7); 0 where that process is not visible here).
   */
  peerPid(socket: number): number;
  /**
   * Starts a thread that waits to send `data` on the connected `socket` with one
   * descriptor as SCM_RIGHTS (unix(7)), and returns its number. A seccomp filter loaded
   * after this call does not bind it. Call it before the jail: it loads what it needs from
   * the files the process sees then.
   */
  startFdSender(socket: number, data: string): number;
  /** Gives `fd` to the thread startFdSender started, which sends it with sendmsg(2); returns when it is sent. */
  sendFd(sender: number, fd: number): void;
  /**
   * getrandom(2) (Linux 3.17) of `length` bytes from the kernel's urandom source, with
   * `flags` (GRND_NONBLOCK: EAGAIN rather than waiting for the pool to be initialized at
   * boot). A short read or one a signal interrupts (EINTR) is read again until all are
   * there. ENOSYS from a kernel before 3.17, or a seccomp filter that answers so.
   */
  getrandom(length: number, flags: number): Uint8Array;
  /** getpid(2): this process's pid in its own pid namespace, which after execve is the container's. */
  getpid(): number;
  /**
   * pidfd_open(2): a descriptor (close-on-exec) that refers to the process `pid` is now,
   * whatever later takes its number once it has been reaped. ESRCH when there is none,
   * EINVAL for a thread that leads no thread group.
   */
  pidfdOpen(pid: number): number;
  /**
   * pidfd_send_signal(2) of `signal` (0 only checks) to the process `pidfd` refers to.
   * ESRCH once it has been reaped; a zombie still takes it, as kill(2) does.
   */
  pidfdSendSignal(pidfd: number, signal: number): void;
  /**
   * setsid(2): this process leads a new session and process group, without a controlling
   * terminal. EPERM when it already leads a process group.
   */
  setsid(): void;
  /** getsid(2) of this process: its session's id, its own pid when it leads the session. */
  getsid(): number;
  /**
   * ioctl(2) TIOCNOTTY on `fd`, this process's controlling terminal (open as /dev/tty): the
   * process gives it up and keeps its session and process group (tty_ioctl(4)). A
   * session leader would instead take it from the whole session and hang up its
   * foreground process group.
   */
  releaseTerminal(fd: number): void;
  /** sched_setattr(2) of this thread, which execve(2) keeps: `attr` is a struct sched_attr (its size in its first word), `flags` 0. */
  schedSetattr(attr: Uint8Array, flags: number): void;
  /** ioprio_set(2): the I/O scheduling class and priority (`ioprio`, IOPRIO_PRIO_VALUE) of `who` as `which` names it (IOPRIO_WHO_PROCESS, 0: this process). */
  ioprioSet(which: number, who: number, ioprio: number): void;
  /** personality(2): this process's execution domain, which execve(2) keeps (PER_LINUX, PER_LINUX32). */
  personality(persona: number): void;
  /** ioctl(2) TIOCSPTLCK 0 on a pseudo-terminal master: its peer may be opened (unlockpt(3)). */
  ptyUnlock(fd: number): void;
  /** ioctl(2) TIOCGPTPEER: opens the peer of the pseudo-terminal master `fd` with `flags` (O_RDWR|O_NOCTTY...), Linux 4.13 and later; returns its descriptor. */
  ptyPeer(fd: number, flags: number): number;
  /** ioctl(2) TIOCSWINSZ: the terminal's window size, in rows and columns. */
  setWindowSize(fd: number, rows: number, cols: number): void;
  /** ioctl(2) TIOCGPGRP: the process group in the foreground of the terminal `fd`, this process's controlling terminal (ENOTTY otherwise). */
  getForegroundGroup(fd: number): number;
  /** getpgrp(2): this process's process group. */
  getpgrp(): number;
  /** ioctl(2) TIOCGWINSZ: the terminal's window size, in rows and columns. */
  getWindowSize(fd: number): { rows: number; cols: number };
  /** ioctl(2) TCGETS: the terminal's modes (ENOTTY when `fd` is no terminal, which is how isatty(3) tells). */
  getTermios(fd: number): Termios;
  /** ioctl(2) TCSETS: the terminal's modes, at once (TCSANOW). On a pseudo-terminal master, they are its peer's (tty_ioctl(4)). */
  setTermios(fd: number, termios: Termios): void;
  /** fcntl(2) F_SETFL with O_NONBLOCK added: read(2) and write(2) on the open file `fd` refers to fail with EAGAIN instead of waiting, for every descriptor of it. */
  setNonBlocking(fd: number): void;
  /** fcntl(2) F_SETFL with O_NONBLOCK removed (F_GETFL first; no F_SETFL when it is not set): read(2) and write(2) on the open file `fd` refers to wait again, for every descriptor of it. */
  setBlocking(fd: number): void;
  /** ioctl(2) TIOCSCTTY 0: the terminal open as `fd` becomes the controlling terminal of this process's session, which it must lead. */
  setControllingTerminal(fd: number): void;
  /** sendmsg(2) on the connected unix socket `socket`: `data`, with descriptor `fd` as SCM_RIGHTS (unix(7)), from this thread. */
  sendFdMessage(socket: number, fd: number, data: string): void;
  /** socketpair(2) AF_UNIX SOCK_STREAM, both ends close-on-exec. */
  socketPair(): [number, number];
  /**
   * recvmsg(2) on the unix socket `socket`, without waiting (MSG_DONTWAIT; EAGAIN when
   * nothing is there): the data of one message and the descriptor it passed as SCM_RIGHTS
   * (received close-on-exec), if one; of a message passing more, the first (the kernel
   * releases the others). Empty data and no descriptor: the other end is closed.
   */
  recvFdMessage(socket: number): { data: string; fd?: number };
  /**
   * socket(2) AF_UNIX SOCK_DGRAM (close-on-exec) bound to `path` (bind(2) makes the
   * socket's file there, mode 0777 less the umask; EADDRINUSE where anything is at
   * `path`): recvFdMessage takes one datagram from it at each call.
   */
  bindUnixDatagram(path: string): number;
  /**
   * sendto(2) of `data` as one datagram, from a new AF_UNIX SOCK_DGRAM socket closed
   * after it, to the socket bound at `path`, or in the abstract namespace to the name
   * after a leading `@` (unix(7)). ECONNREFUSED where no socket is bound at a file;
   * EAGAIN, without waiting, where the receiver's queue is full (MSG_DONTWAIT).
   */
  sendUnixDatagram(path: string, data: string): void;
  /**
   * write(2) of the line `line` (its newline included) to the socket `fd`, then read(2) from
   * it until a newline: the line that came back, without it. From this thread, waiting; EPIPE
   * when the other end closes first.
   */
  exchange(fd: number, line: string): string;
  /** write(2) of all of `data` to the descriptor `fd` (a pipe or socket), from this thread, as often as it takes. */
  write(fd: number, data: string): void;
  /**
   * Readies this process's signals for execve(2), so that a seccomp filter loaded in
   * between meets none of those calls: every signal is set to be at its default in the new
   * program (one ignored now would stay ignored through execve). execve does it itself
   * when it was not called. execve still clears FD_CLOEXEC on the standard streams, last:
   * Node may reopen a terminal on one with FD_CLOEXEC when it first writes there.
   */
  prepareExec(): void;
  /** Replaces the process image; returns only by throwing. */
  execve(path: string, argv: string[], envp: string[]): never;
  /** Blocks the (only) thread for `ms` milliseconds: retries stay synchronous. */
  sleep(ms: number): void;
  /** Runs a command to completion and returns its combined output. */
  runCommand(cmd: CommandSpec): CommandResult;
  /**
   * runCommand, promised: the caller's event loop goes on while the command runs. Only for
   * a process that has entered no namespace (`mountkit run`'s first one): everything else
   * a run does is synchronous on the main thread. No `via`.
   */
  runCommandAsync(cmd: CommandSpec): Promise<CommandResult>;
}

/**
 * The kernel's struct termios (include/uapi/asm-generic/termbits.h, x86_64 and arm64):
 * four flag words, the line discipline and the 19 control characters (NCCS).
 */
export interface Termios {
  iflag: number;
  oflag: number;
  cflag: number;
  lflag: number;
  line: number;
  cc: number[];
}

/** One libseccomp rule: `action` when `syscall` is called with every comparison true. */
export interface SeccompRule {
  syscall: string;
  /** SECCOMP_RET_* with its data (an errno for SECCOMP_RET_ERRNO). */
  action: number;
  args: SeccompArgCmp[];
  /** The config field the rule comes from, for errors: linux.seccomp.syscalls[2]. */
  field: string;
}

/** struct scmp_arg_cmp: argument `arg` compared by `op` (enum scmp_compare); MASKED_EQ: (arg & datumA) == datumB. */
export interface SeccompArgCmp {
  arg: number;
  op: number;
  datumA: bigint;
  datumB: bigint;
}

export interface SeccompFilter {
  /** SECCOMP_RET_* for every syscall no rule matches. */
  defaultAction: number;
  /** Architectures (libseccomp's tokens, AUDIT_ARCH_* values) besides the native one, with the config field of each. */
  architectures: { arch: number; field: string }[];
  rules: SeccompRule[];
  /** libseccomp's binary-tree layout (SCMP_FLTATR_CTL_OPTIMIZE 2): fewer comparisons per syscall for long lists. */
  binaryTree: boolean;
  /** Every syscall name the profile lists, rules left out included: the ENOSYS stub's largest numbers come from them. */
  names: string[];
}

export interface SeccompCompiled {
  /** libseccomp's program: struct sock_filter { u16 code; u8 jt; u8 jf; u32 k } each, in host byte order. */
  program: Uint8Array;
  /** The native architecture's AUDIT_ARCH_* token. */
  nativeArch: number;
  /** Rule names libseccomp does not know on the native architecture: their rules were left out, as runc leaves them. */
  unknown: string[];
  /** For the native and each added architecture, the largest number one of `names` has there; one without any is left out. */
  lastSyscalls: { arch: number; nr: number }[];
  /** A port that keeps built programs (LinuxSyscallsOptions.seccompCache): whether this one came from there, or why not, in a line. */
  cache?: string;
}

/** Names of the port's methods, used to record and to inject failures. */
export type SyscallName = keyof Syscalls;
