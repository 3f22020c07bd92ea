/**
 * The real syscall port: libc through koffi, and Node's synchronous `fs` calls where
 * Node already has them.
 *
 * Everything is synchronous on the main thread: after unshare(CLONE_NEWNS) only the
 * calling thread is in the new mount namespace, libuv's thread pool is not (DESIGN.md).
 */
import * as fs from 'fs';
import type * as Koffi from 'koffi';
import { SyscallError, errnoNumber } from '../errors';
import { fdPath, parseFdPath } from '../in-root';
import { toFileStat } from './stat';
import type { CommandResult, CommandSpec, FileStat, FsStat, Syscalls } from './types';

// fcntl(2) and memfd_create(2), include/uapi/asm-generic/fcntl.h and linux/memfd.h
const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
const MFD_CLOEXEC = 1;

/**
 * Numbers for syscalls glibc 2.36 has no wrapper for. x86_64 keeps its own table
 * (arch/x86/entry/syscalls/syscall_64.tbl); arm64 uses the generic one
 * (include/uapi/asm-generic/unistd.h). Syscalls added since 5.x share one number everywhere.
 */
const SYSCALL_NUMBERS: Readonly<Record<string, Readonly<Record<RawSyscall, number>>>> = {
  x64: { pivot_root: 155, close_range: 436, openat2: 437, mount_setattr: 442 },
  arm64: { pivot_root: 41, close_range: 436, openat2: 437, mount_setattr: 442 },
};
type RawSyscall = 'pivot_root' | 'close_range' | 'openat2' | 'mount_setattr';

/** PATH_MAX (include/uapi/linux/limits.h): no link target is longer, with its NUL. */
const PATH_MAX = 4096;

// close_range(2) flag, include/uapi/linux/close_range.h
const CLOSE_RANGE_CLOEXEC = 1 << 2;

type Libc = ReturnType<typeof loadLibc>;
let koffi: typeof Koffi;
let cached: Libc | undefined;

/** Binds libc once per process, on first use, so importing this module needs no libc. */
function libc(): Libc {
  return (cached ??= loadLibc());
}

function loadLibc() {
  // Required here, not at the top: a process that never makes a libc call (the first
  // stage of a relaunched run, `plan`) does not load koffi at all.
  koffi = require('koffi') as typeof Koffi;
  const lib = koffi.load('libc.so.6');
  const fn = (decl: string) => lib.func(decl);
  // Anonymous structs: koffi keeps named types process-wide, and Jest loads this module once per test file.
  const openHow = koffi.struct({ flags: 'uint64_t', mode: 'uint64_t', resolve: 'uint64_t' });
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
  return {
    // glibc's mode_t is unsigned int and dev_t is 64 bits on x86_64 and arm64.
    mount: fn('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const char *data)'),
    umount2: fn('int umount2(const char *target, int flags)'),
    mknod: fn('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
    mknodat: fn('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)'),
    mkdirat: fn('int mkdirat(int dirfd, const char *path, uint32_t mode)'),
    symlinkat: fn('int symlinkat(const char *target, int dirfd, const char *linkpath)'),
    readlinkat: fn('long readlinkat(int dirfd, const char *path, _Out_ uint8_t *buf, size_t size)'),
    unlinkat: fn('int unlinkat(int dirfd, const char *path, int flags)'),
    fchownat: fn('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)'),
    fstatfs: lib.func('fstatfs', 'int', ['int', koffi.out(koffi.pointer(statfs))]),
    chdir: fn('int chdir(const char *path)'),
    fchdir: fn('int fchdir(int fd)'),
    chroot: fn('int chroot(const char *path)'),
    umask: fn('uint32_t umask(uint32_t mask)'),
    // open(2), openat(2) and fcntl(2) are variadic in C; each extra argument is passed as (type, value).
    open: fn('int open(const char *path, int flags, ...)'),
    openat: fn('int openat(int dirfd, const char *path, int flags, ...)'),
    fcntl: fn('int fcntl(int fd, int cmd, ...)'),
    close: fn('int close(int fd)'),
    dup3: fn('int dup3(int oldfd, int newfd, int flags)'),
    unshare: fn('int unshare(int flags)'),
    setns: fn('int setns(int fd, int nstype)'),
    execve: fn('int execve(const char *path, const char **argv, const char **envp)'),
    memfd_create: fn('int memfd_create(const char *name, unsigned int flags)'),
    sethostname: fn('int sethostname(const char *name, size_t len)'),
    setdomainname: fn('int setdomainname(const char *name, size_t len)'),
    setgroups: fn('int setgroups(size_t size, const uint32_t *list)'),
    setgid: fn('int setgid(uint32_t gid)'),
    setuid: fn('int setuid(uint32_t uid)'),
    lsetxattr: fn('int lsetxattr(const char *path, const char *name, const char *value, size_t size, int flags)'),
    syscall: fn('long syscall(long number, ...)'),
    openHowPtr: koffi.pointer(openHow),
    openHowSize: koffi.sizeof(openHow),
    mountAttrPtr: koffi.pointer(mountAttr),
    mountAttrSize: koffi.sizeof(mountAttr),
  };
}

/** libc returns -1 and sets errno on failure; errno must be read before any other libc call. */
function check(name: string, ret: number, paths: readonly string[]): number {
  if (ret < 0) {
    const errno = koffi.errno();
    throw new SyscallError(name, errno, named(paths));
  }
  return ret;
}

/** The path an *at call acts on, for its errors: an empty one (AT_EMPTY_PATH) is the descriptor's own file. */
function atPaths(dirfd: number, path: string): string[] {
  return [path === '' ? fdPath(dirfd) : path];
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
      const file = fs.readlinkSync(link.link, 'utf8');
      return link.rest ? `${file}/${link.rest}` : file;
    } catch {
      return p;
    }
  });
}

/** syscall(2) for calls glibc does not wrap; `args` are koffi's (type, value) pairs. */
function raw(name: RawSyscall, paths: readonly string[], ...args: unknown[]): number {
  const numbers = SYSCALL_NUMBERS[process.arch];
  if (!numbers) throw new Error(`mountkit: no syscall numbers for ${process.arch}; supported: ${Object.keys(SYSCALL_NUMBERS).join(', ')}`);
  return check(name, libc().syscall(numbers[name], ...args), paths);
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

/** Reads a whole file through `fd` from offset 0 (pread), leaving the fd's offset alone. */
function preadAll(fd: number): string {
  const buf = Buffer.alloc(fs.fstatSync(fd).size);
  fs.readSync(fd, buf, 0, buf.length, 0);
  return buf.toString('utf8');
}

export class LinuxSyscalls implements Syscalls {
  mount(source: string | null, target: string, fstype: string | null, flags: bigint, data: string | null): void {
    // koffi converts a BigInt argument to unsigned long directly, bit 31 and above included.
    const paths = source === null ? [target] : [source, target];
    check('mount', libc().mount(source, target, fstype, flags, data), paths);
  }

  umount2(target: string, flags: number): void {
    check('umount2', libc().umount2(target, flags), [target]);
  }

  mountSetattr(dirfd: number, path: string, atFlags: number, attrSet: bigint, attrClr: bigint, propagation: bigint): void {
    const c = libc();
    // userns_fd is read only with MOUNT_ATTR_IDMAP in attr_set (mount_setattr(2)).
    const attr = { attr_set: attrSet, attr_clr: attrClr, propagation, userns_fd: 0n };
    raw('mount_setattr', atPaths(dirfd, path), 'int', dirfd, 'const char *', path, 'unsigned int', atFlags, c.mountAttrPtr, attr, 'size_t', c.mountAttrSize);
  }

  pivotRoot(newRoot: string, putOld: string): void {
    raw('pivot_root', [newRoot, putOld], 'const char *', newRoot, 'const char *', putOld);
  }

  mknod(path: string, mode: number, dev: bigint): void {
    check('mknod', libc().mknod(path, mode, dev), [path]);
  }

  mknodat(dirfd: number, path: string, mode: number, dev: bigint): void {
    check('mknodat', libc().mknodat(dirfd, path, mode, dev), [path]);
  }

  fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number): void {
    // uid_t and gid_t are unsigned: -1 ("leave unchanged", chown(2)) is 0xffffffff.
    check('fchownat', libc().fchownat(dirfd, path, uid >>> 0, gid >>> 0, flags), atPaths(dirfd, path));
  }

  chown(path: string, uid: number, gid: number): void {
    viaFs('chown', [path], () => fs.chownSync(path, uid, gid));
  }

  lchown(path: string, uid: number, gid: number): void {
    viaFs('lchown', [path], () => fs.lchownSync(path, uid, gid));
  }

  chmod(path: string, mode: number): void {
    viaFs('chmod', [path], () => fs.chmodSync(path, mode));
  }

  chdir(path: string): void {
    check('chdir', libc().chdir(path), [path]);
  }

  fchdir(fd: number): void {
    check('fchdir', libc().fchdir(fd), []);
  }

  chroot(path: string): void {
    check('chroot', libc().chroot(path), [path]);
  }

  umask(mask: number): number {
    // umask(2) always succeeds.
    return libc().umask(mask);
  }

  open(path: string, flags: number, mode: number): number {
    return check('open', libc().open(path, flags, 'uint32_t', mode), [path]);
  }

  openat(dirfd: number, path: string, flags: number, mode: number): number {
    return check('openat', libc().openat(dirfd, path, flags, 'uint32_t', mode), [path]);
  }

  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: bigint): number {
    const c = libc();
    const how = { flags: BigInt(flags), mode: BigInt(mode), resolve };
    return raw('openat2', [path], 'int', dirfd, 'const char *', path, c.openHowPtr, how, 'size_t', c.openHowSize);
  }

  close(fd: number): void {
    check('close', libc().close(fd), []);
  }

  dup3(oldfd: number, newfd: number, flags: number): void {
    check('dup3', libc().dup3(oldfd, newfd, flags), []);
  }

  stat(path: string): FileStat {
    return viaFs('stat', [path], () => toFileStat(fs.statSync(path, { bigint: true })));
  }

  lstat(path: string): FileStat {
    return viaFs('lstat', [path], () => toFileStat(fs.lstatSync(path, { bigint: true })));
  }

  fstat(fd: number): FileStat {
    return viaFs('fstat', [], () => toFileStat(fs.fstatSync(fd, { bigint: true })));
  }

  fstatfs(fd: number): FsStat {
    const out: { f_type?: bigint | number } = {};
    check('fstatfs', libc().fstatfs(fd, out), []);
    return { type: Number(out.f_type) };
  }

  mkdirat(dirfd: number, path: string, mode: number): void {
    check('mkdirat', libc().mkdirat(dirfd, path, mode), [path]);
  }

  mkdir(path: string, mode: number): void {
    viaFs('mkdir', [path], () => fs.mkdirSync(path, { mode }));
  }

  rmdir(path: string): void {
    viaFs('rmdir', [path], () => fs.rmdirSync(path));
  }

  unlink(path: string): void {
    viaFs('unlink', [path], () => fs.unlinkSync(path));
  }

  unlinkat(dirfd: number, path: string, flags: number): void {
    check('unlinkat', libc().unlinkat(dirfd, path, flags), [path]);
  }

  symlinkat(target: string, dirfd: number, linkPath: string): void {
    check('symlinkat', libc().symlinkat(target, dirfd, linkPath), [target, linkPath]);
  }

  symlink(target: string, linkPath: string): void {
    viaFs('symlink', [target, linkPath], () => fs.symlinkSync(target, linkPath));
  }

  readlink(path: string): string {
    return viaFs('readlink', [path], () => fs.readlinkSync(path, 'utf8'));
  }

  readlinkat(dirfd: number, path: string): string {
    // readlinkat(2) does not add a NUL; a result filling the whole buffer may be cut short.
    const buf = Buffer.alloc(PATH_MAX);
    const n = check('readlinkat', Number(libc().readlinkat(dirfd, path, buf, buf.length)), atPaths(dirfd, path));
    if (n >= buf.length) throw new SyscallError('readlinkat', errnoNumber('ENAMETOOLONG'), named(atPaths(dirfd, path)));
    return buf.subarray(0, n).toString('utf8');
  }

  readdir(path: string): string[] {
    return viaFs('readdir', [path], () => fs.readdirSync(path, 'utf8'));
  }

  readFile(path: string): string {
    return viaFs(null, [path], () => fs.readFileSync(path, 'utf8'));
  }

  cloexecFrom(first: number): void {
    raw('close_range', [], 'unsigned int', first, 'unsigned int', 0xffffffff, 'unsigned int', CLOSE_RANGE_CLOEXEC);
  }

  sethostname(name: string): void {
    check('sethostname', libc().sethostname(name, Buffer.byteLength(name)), [name]);
  }

  setdomainname(name: string): void {
    check('setdomainname', libc().setdomainname(name, Buffer.byteLength(name)), [name]);
  }

  setgroups(gids: number[]): void {
    check('setgroups', libc().setgroups(gids.length, gids), []);
  }

  setgid(gid: number): void {
    check('setgid', libc().setgid(gid), []);
  }

  setuid(uid: number): void {
    check('setuid', libc().setuid(uid), []);
  }

  sleep(ms: number): void {
    // Atomics.wait blocks the calling thread without leaving it, unlike a timer.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  }

  copyFile(source: string, dest: string): void {
    viaFs('copy_file_range', [source, dest], () => fs.copyFileSync(source, dest));
  }

  lsetxattr(path: string, name: string, value: string): void {
    check('lsetxattr', libc().lsetxattr(path, name, value, Buffer.byteLength(value), 0), [path]);
  }

  writeFile(path: string, data: string, mode = 0o666): void {
    viaFs(null, [path], () => fs.writeFileSync(path, data, { mode }));
  }

  unshare(flags: number): void {
    check('unshare', libc().unshare(flags), []);
  }

  setns(fd: number, nstype: number): void {
    check('setns', libc().setns(fd, nstype), []);
  }

  execve(path: string, argv: string[], envp: string[]): never {
    const c = libc();
    // Node marks fds 0-2 close-on-exec (/proc/self/fdinfo shows O_CLOEXEC on Node 20);
    // without clearing it the new image would start with no stdin, stdout or stderr.
    for (const fd of [0, 1, 2]) {
      const fdFlags = c.fcntl(fd, F_GETFD);
      if (fdFlags >= 0 && fdFlags & FD_CLOEXEC) c.fcntl(fd, F_SETFD, 'int', fdFlags & ~FD_CLOEXEC);
    }
    // koffi passes a JS array as `const char **`; execve(2) wants both lists NULL-terminated.
    // execve(2) returns only on failure.
    c.execve(path, [...argv, null], [...envp, null]);
    throw new SyscallError('execve', koffi.errno(), [path]);
  }

  runCommand(cmd: CommandSpec): CommandResult {
    const env = Object.fromEntries(
      cmd.env.map((kv) => {
        const eq = kv.indexOf('=');
        return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
      }),
    );
    // One file as both stdout and stderr keeps their interleaving, as the single pipe of
    // Go's CombinedOutput does for runc; a memfd also needs no reader while the child runs.
    const out = check('memfd_create', libc().memfd_create('mountkit-command', MFD_CLOEXEC), []);
    try {
      // Required here: child_process loads Node's net and stream modules (about 7 ms), which a run without hooks never uses.
      const { spawnSync } = require('child_process') as typeof import('child_process');
      const r = spawnSync(cmd.path, cmd.args, {
        env,
        cwd: cmd.dir || undefined,
        stdio: ['pipe', out, out],
        argv0: cmd.argv0,
        input: cmd.stdin,
        timeout: cmd.timeoutMs,
      });
      // A command that exits without reading its stdin leaves Node with EPIPE; the exit
      // status is known then, and is what counts (Go's os/exec ignores that EPIPE too).
      const stdinUnread = (r.error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE' && (r.status !== null || r.signal !== null);
      if (r.error && !stdinUnread) throw fromNode('execve', [cmd.path], r.error);
      return { status: r.status, signal: r.signal, output: preadAll(out) };
    } finally {
      fs.closeSync(out);
    }
  }
}
