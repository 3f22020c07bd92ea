/**
 * The real syscall port against the running kernel. Needs root (CAP_SYS_ADMIN, CAP_MKNOD).
 *
 * Anything that mounts, pivots or chroots runs in a child under
 * `unshare -m --propagation private` (see ../helpers/in-namespace.ts); this process
 * only makes calls that leave the mount table alone.
 */
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';
import { SyscallError } from '../../src/core/errors';
import {
  AT_EMPTY_PATH,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  ECHO,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  ICANON,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  ONLCR,
  O_CLOEXEC,
  O_CREAT,
  O_NOCTTY,
  O_NONBLOCK,
  O_RDWR,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_WRONLY,
  PROC_SUPER_MAGIC,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  SYSFS_MAGIC,
  S_IFCHR,
  makedev,
} from '../../src/core/constants';
import { fdPath } from '../../src/core/in-root';
import { memfdCopy } from '../../src/core/sealed-node';
import type { MountInfo } from '../../src/core/mountinfo';
import { withoutOnlcr } from '../../src/core/termios';
import { runInMountNamespace } from '../helpers/in-namespace';

const describeAsRoot = process.getuid?.() === 0 || process.env.CI === 'true' ? describe : describe.skip;

/** What a child reports for a thrown error. */
interface ChildError {
  name: string;
  syscall?: string;
  code?: string;
  paths?: string[];
}
type Attempt<T = unknown> = { ok: T } | { error: ChildError };

/**
 * Loaded by every child: the port, the constants as `k`, `attempt` (returns a thrown
 * error as data) and `mountsUnder` (the namespace's own /proc/self/mountinfo below a dir).
 */
const PRELUDE = `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { parseMountInfo } = require('./src/core/mountinfo');
const k = require('./src/core/constants');
const sys = new LinuxSyscalls();
const attempt = (fn) => {
  try { return { ok: fn() ?? null }; }
  catch (e) { return { error: { name: e.name, syscall: e.syscall, code: e.code, paths: e.paths } }; }
};
const mountsUnder = (dir) => parseMountInfo(sys.readFile('/proc/self/mountinfo'))
  .filter((m) => m.mountpoint === dir || m.mountpoint.startsWith(dir + '/'));
`;

/** Runs `body` (a function body that returns JSON-able data; bigints become strings) with `dir` defined. */
function inChild<T>(dir: string, body: string): T {
  const script = [
    PRELUDE,
    `const dir = ${JSON.stringify(dir)};`,
    `const result = (() => {\n${body}\n})();`,
    `process.stdout.write(JSON.stringify(result, (_key, v) => (typeof v === 'bigint' ? String(v) : v)));`,
  ].join('\n');
  const r = runInMountNamespace(script);
  if (r.status !== 0) throw new Error(`child exited with ${r.status ?? r.signal}:\n${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function errorOf(fn: () => unknown): SyscallError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SyscallError) return err;
    throw err;
  }
  throw new Error('expected a SyscallError, nothing was thrown');
}

function fields(err: SyscallError): ChildError {
  return { name: err.name, syscall: err.syscall, code: err.code, paths: [...err.paths] };
}

describeAsRoot('LinuxSyscalls against the kernel', () => {
  const sys = new LinuxSyscalls();
  let base: string;
  let ownMountNs: string;
  let caseNo = 0;
  /** A fresh empty directory per case, on the host's /tmp (children mount over it). */
  const freshDir = (): string => {
    const dir = path.join(base, `case-${++caseNo}`);
    fs.mkdirSync(dir);
    return dir;
  };

  beforeAll(() => {
    ownMountNs = fs.readlinkSync('/proc/self/ns/mnt');
    // realpath: mountinfo shows resolved paths.
    base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-linux-')));
  });
  afterAll(() => {
    fs.rmSync(base, { recursive: true, force: true });
  });

  describe('in a child mount namespace', () => {
    it('fstatMount: a descriptor opened before a mount stays on the mount below; one opened after is the root of the new mount, whose id mountinfo gives', () => {
      const dir = freshDir();
      fs.mkdirSync(path.join(dir, 'm'));
      const r = inChild<{ before: unknown; after: unknown; inside: unknown; file: unknown; mountinfoId: string }>(
        dir,
        `const before = sys.open(dir + '/m', k.O_PATH | k.O_CLOEXEC, 0);
sys.mount('tmpfs', dir + '/m', 'tmpfs', 0n, 'size=1m');
sys.writeFile(dir + '/m/f', 'x');
const after = sys.open(dir + '/m', k.O_PATH | k.O_CLOEXEC, 0);
const file = sys.open(dir + '/m/f', k.O_PATH | k.O_CLOEXEC, 0);
const parent = sys.open(dir, k.O_PATH | k.O_CLOEXEC, 0);
const out = { before: sys.fstatMount(before), after: sys.fstatMount(after), file: sys.fstatMount(file), inside: sys.fstatMount(parent),
  mountinfoId: String(mountsUnder(dir + '/m')[0].id) };
return out;`,
      );
      expect(r.after).toEqual({ kind: 'dir', mntId: r.mountinfoId, mountRoot: true });
      expect(r.file).toEqual({ kind: 'file', mntId: r.mountinfoId, mountRoot: false });
      expect(r.before).toEqual({ kind: 'dir', mntId: (r.inside as { mntId: string }).mntId, mountRoot: false });
      expect((r.before as { mntId: string }).mntId).not.toBe(r.mountinfoId);
    });

    it('mounts a tmpfs with flags and data, seen in the namespace own mountinfo', () => {
      const dir = freshDir();
      const r = inChild<{ mounts: MountInfo[]; perm: number; kind: string }>(
        dir,
        `sys.mount('tmpfs', dir, 'tmpfs', k.MS_NOSUID | k.MS_NODEV, 'size=1m,mode=750');
         const st = sys.stat(dir);
         return { mounts: mountsUnder(dir), perm: st.perm, kind: st.kind };`,
      );
      expect(r.mounts).toHaveLength(1);
      const [m] = r.mounts;
      expect(m).toMatchObject({ mountpoint: dir, fstype: 'tmpfs', source: 'tmpfs' });
      expect(m.options.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev']));
      // tmpfs reports size in KiB: 1m -> size=1024k (mm/shmem.c shmem_show_options).
      expect(m.superOptions.split(',')).toEqual(expect.arrayContaining(['size=1024k', 'mode=750']));
      expect(r).toMatchObject({ kind: 'dir', perm: 0o750 });
    });

    it('leaves the host mount table untouched', () => {
      const dir = freshDir();
      const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
      const inside = inChild<number>(dir, `sys.mount('tmpfs', dir, 'tmpfs', 0n, null); return mountsUnder(dir).length;`);
      expect(inside).toBe(1);
      expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).toBe(before);
      expect(before).not.toContain(dir);
    });

    it('reports mount failures as SyscallError with errno name and paths', () => {
      const dir = freshDir();
      const missing = path.join(dir, 'missing');
      const r = inChild<Record<string, Attempt>>(
        dir,
        `return {
           missingTarget: attempt(() => sys.mount('tmpfs', ${JSON.stringify(missing)}, 'tmpfs', 0n, null)),
           badData: attempt(() => sys.mount('tmpfs', dir, 'tmpfs', 0n, 'size=abc')),
           twoPropagations: attempt(() => sys.mount(null, dir, null, k.MS_SHARED | k.MS_PRIVATE, null)),
           mounts: mountsUnder(dir),
         };`,
      );
      expect(r.missingTarget).toEqual({
        error: { name: 'SyscallError', syscall: 'mount', code: 'ENOENT', paths: ['tmpfs', missing] },
      });
      // tmpfs rejects an unparsable size= (shmem_parse_one -> -EINVAL).
      expect(r.badData).toEqual({ error: { name: 'SyscallError', syscall: 'mount', code: 'EINVAL', paths: ['tmpfs', dir] } });
      // mount(2): only one propagation type per call, otherwise EINVAL.
      expect(r.twoPropagations).toEqual({ error: { name: 'SyscallError', syscall: 'mount', code: 'EINVAL', paths: [dir] } });
      expect(r.mounts).toEqual([]);
    });

    it('unmounts with umount2: EBUSY while a file is open, MNT_DETACH lazily, EINVAL on a non-mount', () => {
      const dir = freshDir();
      const r = inChild<Record<string, unknown>>(
        dir,
        `sys.mount('tmpfs', dir, 'tmpfs', 0n, null);
         const fd = sys.open(dir + '/held', k.O_WRONLY | k.O_CREAT | k.O_CLOEXEC, 0o600);
         const busy = attempt(() => sys.umount2(dir, 0));
         sys.umount2(dir, k.MNT_DETACH);
         const afterDetach = mountsUnder(dir).length;
         sys.close(fd);
         sys.mount('tmpfs', dir, 'tmpfs', 0n, null);
         sys.umount2(dir, 0);
         return { busy, afterDetach, afterUmount: mountsUnder(dir).length, notMounted: attempt(() => sys.umount2(dir, 0)) };`,
      );
      expect(r).toEqual({
        busy: { error: { name: 'SyscallError', syscall: 'umount2', code: 'EBUSY', paths: [dir] } },
        afterDetach: 0,
        afterUmount: 0,
        notMounted: { error: { name: 'SyscallError', syscall: 'umount2', code: 'EINVAL', paths: [dir] } },
      });
    });

    it('changes mount attributes with mount_setattr', () => {
      const dir = freshDir();
      const r = inChild<{ options: string[]; write: Attempt; missing: Attempt }>(
        dir,
        `sys.mount('tmpfs', dir, 'tmpfs', 0n, null);
         sys.mountSetattr(k.AT_FDCWD, dir, 0, k.MOUNT_ATTR_RDONLY | k.MOUNT_ATTR_NOEXEC, 0n, 0n);
         return {
           options: mountsUnder(dir)[0].options.split(','),
           write: attempt(() => sys.writeFile(dir + '/f', 'x')),
           missing: attempt(() => sys.mountSetattr(k.AT_FDCWD, dir + '/missing', 0, k.MOUNT_ATTR_RDONLY, 0n, 0n)),
         };`,
      );
      expect(r.options).toEqual(expect.arrayContaining(['ro', 'noexec']));
      expect(r.write).toEqual({ error: { name: 'SyscallError', syscall: 'open', code: 'EROFS', paths: [`${dir}/f`] } });
      expect(r.missing).toEqual({
        error: { name: 'SyscallError', syscall: 'mount_setattr', code: 'ENOENT', paths: [`${dir}/missing`] },
      });
    });

    it('pivot_root: EINVAL when new_root is not a mount point; jails into a tmpfs', () => {
      const dir = freshDir();
      const bad = inChild<Attempt>(
        dir,
        `sys.mount('tmpfs', dir, 'tmpfs', 0n, null);
         sys.mkdir(dir + '/sub', 0o755);
         sys.mkdir(dir + '/sub/old', 0o755);
         return attempt(() => sys.pivotRoot(dir + '/sub', dir + '/sub/old'));`,
      );
      // pivot_root(2): EINVAL "new_root is not a mount point".
      expect(bad).toEqual({
        error: { name: 'SyscallError', syscall: 'pivot_root', code: 'EINVAL', paths: [`${dir}/sub`, `${dir}/sub/old`] },
      });

      const jailed = inChild<{ root: string[]; marker: string }>(
        dir,
        `sys.mount('tmpfs', dir, 'tmpfs', 0n, null);
         sys.mkdir(dir + '/old', 0o755);
         sys.writeFile(dir + '/marker', 'new root');
         sys.pivotRoot(dir, dir + '/old');
         sys.chdir('/');
         sys.umount2('/old', k.MNT_DETACH);
         sys.rmdir('/old');
         return { root: sys.readdir('/'), marker: sys.readFile('/marker') };`,
      );
      expect(jailed).toEqual({ root: ['marker'], marker: 'new root' });
    });

    it('chroot, chdir and fchdir', () => {
      const dir = freshDir();
      const r = inChild<Record<string, unknown>>(
        dir,
        `sys.mount('tmpfs', dir, 'tmpfs', 0n, null);
         sys.mkdir(dir + '/sub', 0o755);
         sys.writeFile(dir + '/sub/marker', 'in sub');
         const fd = sys.open(dir + '/sub', k.O_RDONLY | k.O_DIRECTORY | k.O_CLOEXEC, 0);
         sys.chdir('/');
         sys.fchdir(fd);
         const viaFchdir = sys.readFile('marker');
         const missing = attempt(() => sys.chroot(dir + '/missing'));
         sys.chroot(dir);
         sys.chdir('/sub');
         return { viaFchdir, missing, inRoot: sys.readdir('/'), relative: sys.readFile('marker') };`,
      );
      expect(r).toEqual({
        viaFchdir: 'in sub',
        missing: { error: { name: 'SyscallError', syscall: 'chroot', code: 'ENOENT', paths: [`${dir}/missing`] } },
        inRoot: ['sub'],
        relative: 'in sub',
      });
    });

    it('mknod makes a char device 1:3 that works as /dev/null', () => {
      const dir = freshDir();
      const node = `${dir}/null`;
      const r = inChild<Record<string, unknown>>(
        dir,
        `sys.mount('tmpfs', dir, 'tmpfs', 0n, null);
         sys.umask(0);
         sys.mknod(dir + '/null', k.S_IFCHR | 0o666, k.makedev(1, 3));
         const st = sys.stat(dir + '/null');
         sys.writeFile(dir + '/null', 'discarded');
         return {
           kind: st.kind, perm: st.perm, rdev: st.rdev,
           content: sys.readFile(dir + '/null'),
           again: attempt(() => sys.mknod(dir + '/null', k.S_IFCHR | 0o666, k.makedev(1, 3))),
         };`,
      );
      expect(r).toEqual({
        kind: 'char',
        perm: 0o666,
        rdev: String(makedev(1, 3)),
        content: '',
        again: { error: { name: 'SyscallError', syscall: 'mknod', code: 'EEXIST', paths: [node] } },
      });
    });

    it('unshare(CLONE_NEWUSER) fails with EINVAL in multithreaded node; setns on a bad fd is EBADF', () => {
      const r = inChild<Record<string, Attempt>>(
        freshDir(),
        `return {
           userns: attempt(() => sys.unshare(k.CLONE_NEWUSER)),
           mntns: attempt(() => sys.unshare(k.CLONE_NEWNS)),
           setns: attempt(() => sys.setns(-1, k.CLONE_NEWNS)),
         };`,
      );
      // unshare(2): EINVAL "CLONE_NEWUSER was specified ... and the caller is multithreaded".
      expect(r).toEqual({
        userns: { error: { name: 'SyscallError', syscall: 'unshare', code: 'EINVAL', paths: [] } },
        mntns: { ok: null },
        setns: { error: { name: 'SyscallError', syscall: 'setns', code: 'EBADF', paths: [] } },
      });
    });

    it('execve replaces the process with argv, envp and stdio; a missing binary is ENOENT', () => {
      const run = runInMountNamespace(
        `${PRELUDE}
         const failed = attempt(() => sys.execve('/nonexistent/bin', ['bin'], []));
         process.stdout.write(JSON.stringify(failed) + '\\n');
         sys.execve('/bin/sh', ['sh', '-c', 'printf "%s %s %s" "$0" "$1" "$X"', 'zero', 'one'], ['X=from-envp']);`,
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const [failed, replaced] = run.stdout.split('\n');
      expect(JSON.parse(failed)).toEqual({
        error: { name: 'SyscallError', syscall: 'execve', code: 'ENOENT', paths: ['/nonexistent/bin'] },
      });
      expect(replaced).toBe('zero one from-envp');
    });

    it("setgroups, setgid and setuid change the calling thread's credentials alone, which execve gives the program; a refused call names itself", () => {
      const ids = (status: string) =>
        status
          .split('\n')
          .filter((l) => /^(Uid|Gid|Groups):/.test(l))
          .map((l) => l.replace(/\s+/g, ' ').trim())
          .join('; ');
      const run = runInMountNamespace(
        `${PRELUDE}
         const fs = require('fs');
         const ids = ${ids.toString()};
         const before = ids(fs.readFileSync('/proc/thread-self/status', 'utf8'));
         const tooMany = attempt(() => sys.setgroups(Array.from({ length: 65537 }, (_, i) => i)));
         sys.setgroups([4243, 4244]);
         sys.setgid(4242);
         sys.setuid(4241);
         const back = attempt(() => sys.setuid(0));
         const main = ids(fs.readFileSync('/proc/thread-self/status', 'utf8'));
         const others = fs.readdirSync('/proc/self/task').filter((t) => t !== String(process.pid)).map((t) => ids(fs.readFileSync('/proc/self/task/' + t + '/status', 'utf8')));
         fs.writeSync(1, JSON.stringify({ before, tooMany, back, main, others }) + '\\n');
         sys.execve('/bin/sh', ['sh', '-c', 'grep -E "^(Uid|Gid|Groups):" /proc/$$/status; ls /proc/$$/task | wc -l'], []);`,
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const [first, ...program] = run.stdout.trim().split('\n');
      const r = JSON.parse(first) as { before: string; tooMany: Attempt; back: Attempt; main: string; others: string[] };
      // setgroups(2): EINVAL for more than NGROUPS_MAX (65536); setuid(2): EPERM for an unprivileged caller.
      expect(r.tooMany).toEqual({ error: { name: 'SyscallError', syscall: 'setgroups', code: 'EINVAL', paths: [] } });
      expect(r.back).toEqual({ error: { name: 'SyscallError', syscall: 'setuid', code: 'EPERM', paths: [] } });
      expect(r.main).toBe('Uid: 4241 4241 4241 4241; Gid: 4242 4242 4242 4242; Groups: 4243 4244');
      // Node's other threads (V8's workers, libuv's) keep the starter's: glibc's wrappers would have changed them too.
      expect(r.before).toMatch(/^Uid: 0 0 0 0; Gid: 0 0 0 0; Groups:/);
      expect(r.others.length).toBeGreaterThan(0);
      for (const other of r.others) expect(other).toBe(r.before);
      // The program (the shell, $$) has the caller's credentials and its one thread.
      expect(ids(program.slice(0, 3).join('\n'))).toBe(r.main);
      expect(program[3].trim()).toBe('1');
    });
  });

  describe('names that are not valid UTF-8 keep their bytes (decodeName, encodeName)', () => {
    /** A path of `dir` and a name given as its bytes (latin1: one byte per character). */
    const bytePath = (dir: string, latin1: string) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(latin1, 'latin1')]);

    it('readdir, readlink and readlinkat give such names as lone surrogates, the calls given them act on the same bytes, and an error names one on a line', () => {
      const dir = freshDir();
      fs.writeFileSync(bytePath(dir, 'f\xff'), 'data');
      fs.symlinkSync(Buffer.from('t\xfe', 'latin1'), bytePath(dir, 'lnk'));
      expect(sys.readdir(dir).sort()).toEqual(['f\udcff', 'lnk']);
      expect(sys.readlink(`${dir}/lnk`)).toBe('t\udcfe');
      const dirFd = sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      try {
        expect(sys.readlinkat(dirFd, 'lnk')).toBe('t\udcfe');
        const fd = sys.openat(dirFd, 'f\udcff', O_RDONLY | O_CLOEXEC, 0);
        expect(fs.readFileSync(fd, 'utf8')).toBe('data');
        sys.close(fd);
        const inRoot = sys.openat2(dirFd, '/f\udcff', O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT);
        expect(sys.fstat(inRoot).kind).toBe('file');
        sys.close(inRoot);
        sys.symlinkat(sys.readlinkat(dirFd, 'lnk'), dirFd, 'copy\udcfd');
        sys.mkdirat(dirFd, 'd\udc80', 0o755);
      } finally {
        sys.close(dirFd);
      }
      sys.symlink(sys.readlink(`${dir}/lnk`), `${dir}/copy2\udcfd`);
      sys.mkdir(`${dir}/e\udc80`, 0o755);
      sys.copyFile(`${dir}/f\udcff`, `${dir}/g\udcff`);
      expect(sys.stat(`${dir}/g\udcff`).kind).toBe('file');
      expect(fs.readlinkSync(bytePath(dir, 'copy\xfd'), { encoding: 'buffer' })).toEqual(Buffer.from('t\xfe', 'latin1'));
      expect(fs.readlinkSync(bytePath(dir, 'copy2\xfd'), { encoding: 'buffer' })).toEqual(Buffer.from('t\xfe', 'latin1'));
      expect(fs.statSync(bytePath(dir, 'd\x80')).isDirectory()).toBe(true);
      expect(fs.statSync(bytePath(dir, 'e\x80')).isDirectory()).toBe(true);
      sys.unlink(`${dir}/f\udcff`);
      sys.rmdir(`${dir}/e\udc80`);
      expect(fs.readdirSync(dir, { encoding: 'buffer' }).map((b) => b.toString('latin1')).sort()).toEqual(['copy2\xfd', 'copy\xfd', 'd\x80', 'g\xff', 'lnk']);
      // An error names such a path on one line, the byte as its surrogate's JSON escape.
      const err = errorOf(() => sys.open(`${dir}/f\udcff`, O_RDONLY | O_CLOEXEC, 0));
      expect(fields(err)).toEqual({ name: 'SyscallError', syscall: 'open', code: 'ENOENT', paths: [`${dir}/f\udcff`] });
      expect(err.message).toBe(`open "${dir}/f\\udcff": ENOENT`);
    });

    it('readFile keeps the bytes of a text that is not valid UTF-8, and writeFile writes them back', () => {
      const dir = freshDir();
      const passwd = Buffer.concat([Buffer.from('u:x:0:0::'), Buffer.from('/h\xffome', 'latin1'), Buffer.from(':/bin/sh\n')]);
      fs.writeFileSync(`${dir}/passwd`, passwd);
      const text = sys.readFile(`${dir}/passwd`);
      expect(text).toBe('u:x:0:0::/h\udcffome:/bin/sh\n');
      sys.writeFile(`${dir}/again`, text);
      expect(fs.readFileSync(`${dir}/again`)).toEqual(passwd);
      // write(2) through a descriptor (the procfs writes) as well.
      const fd = sys.open(`${dir}/written`, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600);
      try {
        sys.write(fd, text);
      } finally {
        sys.close(fd);
      }
      expect(fs.readFileSync(`${dir}/written`)).toEqual(passwd);
    });

    it('a mount at such a directory: mountinfo names it, and umount2 of that name unmounts it', () => {
      const dir = freshDir();
      fs.mkdirSync(bytePath(dir, 'm\xff'));
      const r = inChild<{ mounted: string[]; after: number }>(
        dir,
        `sys.mount('tmpfs', dir + '/m\\udcff', 'tmpfs', 0n, null);
         const mounted = mountsUnder(dir).map((m) => m.mountpoint);
         sys.umount2(mounted[0], 0);
         return { mounted, after: mountsUnder(dir).length };`,
      );
      expect(r).toEqual({ mounted: [`${dir}/m\udcff`], after: 0 });
    });

    it('execve passes argv and envp strings holding such names as their bytes', () => {
      const dir = freshDir();
      const run = runInMountNamespace(
        `${PRELUDE}
         sys.execve('/bin/sh', ['sh', '-c', 'printf %s "$1" > "$2/arg"; printf %s "$HOME" > "$2/home"', 'sh', 'a\\udcffb', ${JSON.stringify(dir)}], ['HOME=/h\\udcffome']);`,
      );
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(fs.readFileSync(`${dir}/arg`)).toEqual(Buffer.from('a\xffb', 'latin1'));
      expect(fs.readFileSync(`${dir}/home`)).toEqual(Buffer.from('/h\xffome', 'latin1'));
    });
  });

  describe('in this process (no mounts)', () => {
    it('stat, lstat, symlink and readlink, with ENOENT/EEXIST/EINVAL naming the path', () => {
      const dir = freshDir();
      const file = path.join(dir, 'file');
      const link = path.join(dir, 'link');
      const missing = path.join(dir, 'missing');
      fs.writeFileSync(file, 'abc');
      sys.symlink('file', link);

      expect(sys.stat(link)).toMatchObject({ kind: 'file', size: 3, uid: 0, gid: 0, rdev: 0n });
      expect(sys.lstat(link).kind).toBe('symlink');
      expect(sys.stat(link).ino).toBe(sys.stat(file).ino);
      expect(sys.readlink(link)).toBe('file');
      expect(sys.readdir(dir).sort()).toEqual(['file', 'link']);

      expect(fields(errorOf(() => sys.stat(missing)))).toEqual({ name: 'SyscallError', syscall: 'stat', code: 'ENOENT', paths: [missing] });
      expect(fields(errorOf(() => sys.lstat(missing)))).toEqual({ name: 'SyscallError', syscall: 'lstat', code: 'ENOENT', paths: [missing] });
      expect(fields(errorOf(() => sys.readlink(missing)))).toMatchObject({ code: 'ENOENT', paths: [missing] });
      // readlink(2): EINVAL "The named file is not a symbolic link".
      expect(fields(errorOf(() => sys.readlink(file)))).toMatchObject({ syscall: 'readlink', code: 'EINVAL', paths: [file] });
      expect(fields(errorOf(() => sys.symlink('elsewhere', link)))).toEqual({
        name: 'SyscallError',
        syscall: 'symlink',
        code: 'EEXIST',
        paths: ['elsewhere', link],
      });
      expect(errorOf(() => sys.stat(missing)).message).toBe(`stat ${JSON.stringify(missing)}: ENOENT`);
    });

    it('pidfdOpen and pidfdSendSignal: a close-on-exec pidfd; signal 0 checks, SIGKILL ends the process, ESRCH once it has been reaped, not while a zombie; an ESRCH open names the process', async () => {
      const child = spawn('sleep', ['30'], { stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
      const pidfd = sys.pidfdOpen(child.pid!);
      try {
        expect(fs.readlinkSync(fdPath(pidfd))).toBe('anon_inode:[pidfd]');
        expect(fs.readFileSync(`/proc/self/fdinfo/${pidfd}`, 'utf8')).toMatch(new RegExp(`^Pid:\\s+${child.pid}$`, 'm'));
        // flags: O_CLOEXEC is 02000000 (octal, as fdinfo shows it).
        expect(Number.parseInt(/^flags:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${pidfd}`, 'utf8'))![1], 8) & O_CLOEXEC).toBe(O_CLOEXEC);
        sys.pidfdSendSignal(pidfd, 0);
        sys.pidfdSendSignal(pidfd, os.constants.signals.SIGKILL);
        expect(await exited).toBe('SIGKILL');
        expect(fields(errorOf(() => sys.pidfdSendSignal(pidfd, 0)))).toMatchObject({ syscall: 'pidfd_send_signal', code: 'ESRCH' });
      } finally {
        sys.close(pidfd);
      }
      // A zombie still takes a signal: a child of `sleep 31` (the shell exec'd into it), which never reaps it.
      const parent = spawn('sh', ['-c', 'sleep 30 & echo $!; exec sleep 31'], { stdio: ['ignore', 'pipe', 'ignore'] });
      try {
        const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
        // `$!` is known before the forked shell has exec'd sleep, and the shell reaps a child that ends before it execs `sleep 31`.
        const comm = (pid: number) => fs.readFileSync(`/proc/${pid}/comm`, 'utf8');
        for (let i = 0; i < 200 && (comm(zombie) !== 'sleep\n' || comm(parent.pid!) !== 'sleep\n'); i++) await new Promise((r) => setTimeout(r, 10));
        const fd = sys.pidfdOpen(zombie);
        try {
          sys.pidfdSendSignal(fd, os.constants.signals.SIGKILL);
          for (let i = 0; i < 200 && !/^\S+ \(.*\) Z /.test(fs.readFileSync(`/proc/${zombie}/stat`, 'utf8')); i++) await new Promise((r) => setTimeout(r, 10));
          expect(fs.readFileSync(`/proc/${zombie}/stat`, 'utf8')).toMatch(/^\S+ \(sleep\) Z /);
          sys.pidfdSendSignal(fd, 0);
        } finally {
          sys.close(fd);
        }
      } finally {
        parent.kill('SIGKILL');
      }
      // A pid above /proc/sys/kernel/pid_max (at most 2^22) names no process.
      expect(fields(errorOf(() => sys.pidfdOpen(1 << 23)))).toEqual({ name: 'SyscallError', syscall: 'pidfd_open', code: 'ESRCH', paths: [`/proc/${1 << 23}`] });
    });

    it('socketPair, sendFdMessage and recvFdMessage: the descriptor arrives close-on-exec with its data; nothing there is EAGAIN; a closed peer gives empty data', () => {
      const dir = freshDir();
      fs.writeFileSync(path.join(dir, 'file'), 'content');
      const [a, b] = sys.socketPair();
      const file = sys.open(path.join(dir, 'file'), O_RDONLY | O_CLOEXEC, 0);
      try {
        expect(fields(errorOf(() => sys.recvFdMessage(a)))).toMatchObject({ syscall: 'recvmsg', code: 'EAGAIN' });
        sys.sendFdMessage(b, file, '/dev/ptmx');
        const got = sys.recvFdMessage(a);
        expect(got.data).toBe('/dev/ptmx');
        expect(got.fd).not.toBe(file);
        expect(fs.readFileSync(fdPath(got.fd!), 'utf8')).toBe('content');
        // fdinfo's flags are octal; O_CLOEXEC shows there.
        expect(Number.parseInt(/^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${got.fd}`, 'utf8'))![1], 8) & O_CLOEXEC).toBe(O_CLOEXEC);
        sys.close(got.fd!);
        sys.close(b);
        expect(sys.recvFdMessage(a)).toEqual({ data: '' });
      } finally {
        sys.close(file);
        sys.close(a);
      }
    });

    it('exchange writes its line and returns the one that comes back, EPIPE when the other end closed; getpgrp is this process group; TIOCGPGRP of a file is ENOTTY', () => {
      const [a, b] = sys.socketPair();
      const master = sys.open('/dev/ptmx', O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
      try {
        fs.writeSync(b, 'answer\nnext');
        expect(sys.exchange(a, 'question\n')).toBe('answer');
        const buf = Buffer.alloc(64);
        expect(buf.subarray(0, fs.readSync(b, buf)).toString()).toBe('question\n');
        sys.close(b);
        expect(fields(errorOf(() => sys.exchange(a, 'again\n')))).toMatchObject({ syscall: expect.stringMatching(/^(read|write)$/), code: expect.stringMatching(/^(EPIPE|ECONNRESET)$/) });
        // /proc/self/stat field 5 (the second after the parenthesised name and state) is the process group.
        const stat = fs.readFileSync('/proc/self/stat', 'utf8');
        expect(sys.getpgrp()).toBe(Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]));
        // A master answers for its peer, which no session has: no foreground group (0). A file is no terminal.
        expect(sys.getForegroundGroup(master)).toBe(0);
        const file = sys.open('/proc/self/status', O_RDONLY | O_CLOEXEC, 0);
        try {
          expect(fields(errorOf(() => sys.getForegroundGroup(file)))).toMatchObject({ syscall: 'ioctl', code: 'ENOTTY' });
        } finally {
          sys.close(file);
        }
      } finally {
        sys.close(master);
        sys.close(a);
      }
    });

    it("a pseudo-terminal's modes and window size: TCGETS, TCSETS and TIOCGWINSZ; setNonBlocking and setBlocking; a file is no terminal (ENOTTY)", () => {
      const master = sys.open('/dev/ptmx', O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
      const file = sys.open('/proc/self/status', O_RDONLY | O_CLOEXEC, 0);
      try {
        const t = sys.getTermios(master);
        expect(t.cc).toHaveLength(19);
        expect([t.lflag & ICANON, t.lflag & ECHO, t.oflag & ONLCR]).toEqual([ICANON, ECHO, ONLCR]);
        sys.setTermios(master, withoutOnlcr(t));
        expect(sys.getTermios(master)).toEqual({ ...t, oflag: t.oflag & ~ONLCR });
        sys.setWindowSize(master, 40, 132);
        expect(sys.getWindowSize(master)).toEqual({ rows: 40, cols: 132 });
        const flags = () => Number.parseInt(/^flags:\s*([0-7]+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${master}`, 'utf8'))![1], 8);
        const before = flags();
        sys.setNonBlocking(master);
        expect(flags()).toBe(before | O_NONBLOCK);
        sys.setBlocking(master);
        sys.setBlocking(master);
        expect(flags()).toBe(before & ~O_NONBLOCK);
        expect(fields(errorOf(() => sys.setBlocking(999)))).toMatchObject({ syscall: 'fcntl', code: 'EBADF' });
        expect(fields(errorOf(() => sys.getTermios(file)))).toMatchObject({ syscall: 'ioctl', code: 'ENOTTY' });
      } finally {
        sys.close(file);
        sys.close(master);
      }
    });

    it('refuses a string argument with a NUL byte (EINVAL) instead of letting C cut it short', () => {
      const dir = freshDir();
      const fd = sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      try {
        fs.mkdirSync(path.join(dir, 'a'));
        expect(fields(errorOf(() => sys.mkdirat(fd, 'a\0/../b', 0o755)))).toEqual({ name: 'SyscallError', syscall: 'mkdirat', code: 'EINVAL', paths: ['a\0/../b'] });
        expect(fields(errorOf(() => sys.openat2(fd, 'a\0/../b', O_PATH | O_CLOEXEC, 0, RESOLVE_IN_ROOT)))).toMatchObject({ syscall: 'openat2', code: 'EINVAL' });
        expect(fields(errorOf(() => sys.stat(path.join(dir, 'a\0x'))))).toMatchObject({ code: 'EINVAL' });
        expect(fs.readdirSync(dir)).toEqual(['a']);
      } finally {
        sys.close(fd);
      }
    });

    it('stat, lstat and fstat (statx) give what Node stat calls give: kind, mode, owner, devices, inode, size', () => {
      const dir = freshDir();
      const file = path.join(dir, 'file');
      const link = path.join(dir, 'link');
      fs.writeFileSync(file, 'x'.repeat(70000));
      fs.chmodSync(file, 0o4751);
      fs.chownSync(file, 1234, 5678);
      fs.symlinkSync('file', link);
      const node = (st: fs.BigIntStats) => ({
        mode: Number(st.mode),
        uid: Number(st.uid),
        gid: Number(st.gid),
        rdev: st.rdev,
        dev: st.dev,
        ino: st.ino,
        size: Number(st.size),
      });
      const port = (st: ReturnType<LinuxSyscalls['stat']>) => ({
        mode: st.perm | { file: 0o100000, dir: 0o040000, symlink: 0o120000, char: 0o020000 }[st.kind as 'file' | 'dir' | 'symlink' | 'char'],
        uid: st.uid,
        gid: st.gid,
        rdev: st.rdev,
        dev: st.dev,
        ino: st.ino,
        size: st.size,
      });
      for (const p of [file, dir, '/dev/null']) expect(port(sys.stat(p))).toEqual(node(fs.statSync(p, { bigint: true })));
      expect(port(sys.stat(link))).toEqual(node(fs.statSync(file, { bigint: true })));
      expect(port(sys.lstat(link))).toEqual(node(fs.lstatSync(link, { bigint: true })));
      expect(sys.stat('/dev/null')).toMatchObject({ kind: 'char', rdev: makedev(1, 3) });
      const fd = sys.open(file, O_PATH | O_CLOEXEC, 0);
      try {
        // An O_PATH descriptor can be stat'ed (open(2)).
        expect(port(sys.fstat(fd))).toEqual(node(fs.statSync(file, { bigint: true })));
      } finally {
        sys.close(fd);
      }
      expect(fields(errorOf(() => sys.fstat(fd)))).toEqual({ name: 'SyscallError', syscall: 'fstat', code: 'EBADF', paths: [] });
    });

    it('mkdir, rmdir, unlink, readdir, readFile and writeFile', () => {
      const dir = freshDir();
      const sub = path.join(dir, 'sub');
      sys.mkdir(sub, 0o700);
      expect(sys.stat(sub)).toMatchObject({ kind: 'dir', perm: 0o700 });
      expect(fields(errorOf(() => sys.mkdir(sub, 0o700)))).toMatchObject({ syscall: 'mkdir', code: 'EEXIST', paths: [sub] });

      const file = path.join(sub, 'f');
      sys.writeFile(file, 'one', 0o640);
      expect(sys.stat(file).perm).toBe(0o640);
      sys.writeFile(file, 'two');
      expect(sys.readFile(file)).toBe('two');
      expect(fields(errorOf(() => sys.readFile(path.join(sub, 'none'))))).toMatchObject({ syscall: 'open', code: 'ENOENT' });
      expect(fields(errorOf(() => sys.rmdir(sub)))).toMatchObject({ syscall: 'rmdir', code: 'ENOTEMPTY', paths: [sub] });
      expect(fields(errorOf(() => sys.readdir(file)))).toMatchObject({ syscall: 'readdir', code: 'ENOTDIR', paths: [file] });

      sys.unlink(file);
      expect(fields(errorOf(() => sys.unlink(file)))).toMatchObject({ syscall: 'unlink', code: 'ENOENT', paths: [file] });
      sys.rmdir(sub);
      expect(sys.readdir(dir)).toEqual([]);
    });

    it('chmod keeps set-id bits; chown follows symlinks, lchown does not', () => {
      const dir = freshDir();
      const file = path.join(dir, 'f');
      const link = path.join(dir, 'l');
      fs.writeFileSync(file, '');
      fs.symlinkSync(file, link);
      sys.chmod(file, 0o4750);
      expect(sys.stat(file).perm).toBe(0o4750);
      sys.lchown(link, 1001, 1002);
      expect(sys.lstat(link)).toMatchObject({ uid: 1001, gid: 1002 });
      expect(sys.stat(file)).toMatchObject({ uid: 0, gid: 0 });
      sys.chown(link, 1003, 1004);
      expect(sys.stat(file)).toMatchObject({ uid: 1003, gid: 1004 });
      expect(fields(errorOf(() => sys.chmod(path.join(dir, 'x'), 0o600)))).toMatchObject({ syscall: 'chmod', code: 'ENOENT' });
      expect(fields(errorOf(() => sys.chown(path.join(dir, 'x'), 0, 0)))).toMatchObject({ syscall: 'chown', code: 'ENOENT' });
    });

    it('open, openat, fstat, dup3 and close', () => {
      const dir = freshDir();
      const dfd = sys.open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
      try {
        expect(sys.fstat(dfd).kind).toBe('dir');
        const fd = sys.openat(dfd, 'created', O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600);
        expect(sys.fstat(fd)).toMatchObject({ kind: 'file', perm: 0o600 });
        // dup3(2): EINVAL when oldfd equals newfd.
        expect(fields(errorOf(() => sys.dup3(fd, fd, 0)))).toMatchObject({ syscall: 'dup3', code: 'EINVAL' });
        sys.close(fd);
        expect(fields(errorOf(() => sys.close(fd)))).toMatchObject({ syscall: 'close', code: 'EBADF' });
        expect(fields(errorOf(() => sys.openat(dfd, 'created', O_WRONLY | O_CREAT | O_EXCL, 0o600)))).toEqual({
          name: 'SyscallError',
          syscall: 'openat',
          code: 'EEXIST',
          paths: ['created'],
        });
      } finally {
        sys.close(dfd);
      }
      expect(fields(errorOf(() => sys.open(path.join(dir, 'missing'), O_RDONLY, 0)))).toMatchObject({ syscall: 'open', code: 'ENOENT' });
      expect(fields(errorOf(() => sys.chdir(path.join(dir, 'missing'))))).toMatchObject({ syscall: 'chdir', code: 'ENOENT' });
    });

    it('openat2 with RESOLVE_IN_ROOT resolves absolute symlinks and .. inside the root', () => {
      const root = freshDir();
      fs.mkdirSync(path.join(root, 'etc'));
      fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'inside the root');
      fs.symlinkSync('/etc/passwd', path.join(root, 'abs'));
      fs.symlinkSync('../../../../../etc/passwd', path.join(root, 'up'));
      const rootfd = sys.open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
      const read = (p: string, resolve: bigint): string => {
        const fd = sys.openat2(rootfd, p, O_RDONLY | O_CLOEXEC, 0, resolve);
        try {
          return fs.readFileSync(fd, 'utf8');
        } finally {
          sys.close(fd);
        }
      };
      try {
        expect(read('abs', RESOLVE_IN_ROOT)).toBe('inside the root');
        expect(read('up', RESOLVE_IN_ROOT)).toBe('inside the root');
        expect(read('/etc/passwd', RESOLVE_IN_ROOT)).toBe('inside the root');
        // openat2(2): RESOLVE_BENEATH fails with EXDEV where RESOLVE_IN_ROOT would clamp.
        expect(fields(errorOf(() => read('abs', RESOLVE_BENEATH)))).toEqual({
          name: 'SyscallError',
          syscall: 'openat2',
          code: 'EXDEV',
          paths: ['abs'],
        });
        expect(fields(errorOf(() => read('missing', RESOLVE_IN_ROOT)))).toMatchObject({ code: 'ENOENT', paths: ['missing'] });
      } finally {
        sys.close(rootfd);
      }
    });

    it('the *at calls act in the directory of a descriptor; an empty path with AT_EMPTY_PATH is the descriptor itself', () => {
      const dir = freshDir();
      const dfd = sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      const previous = sys.umask(0);
      try {
        sys.mkdirat(dfd, 'sub', 0o710);
        expect(sys.stat(path.join(dir, 'sub'))).toMatchObject({ kind: 'dir', perm: 0o710 });
        sys.mknodat(dfd, 'null', S_IFCHR | 0o640, makedev(1, 3));
        expect(sys.lstat(path.join(dir, 'null'))).toMatchObject({ kind: 'char', perm: 0o640, rdev: makedev(1, 3) });
        sys.symlinkat('/etc/passwd', dfd, 'link');
        expect(sys.readlinkat(dfd, 'link')).toBe('/etc/passwd');
        // readlinkat(2): an empty path reads the link an O_PATH|O_NOFOLLOW descriptor holds.
        const lfd = sys.openat(dfd, 'link', O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
        try {
          expect(sys.fstat(lfd).kind).toBe('symlink');
          expect(sys.readlinkat(lfd, '')).toBe('/etc/passwd');
          sys.fchownat(lfd, '', 1005, 1006, AT_EMPTY_PATH);
          expect(sys.lstat(path.join(dir, 'link'))).toMatchObject({ uid: 1005, gid: 1006 });
          expect(sys.stat('/etc/passwd')).toMatchObject({ uid: 0, gid: 0 });
          // On a descriptor of anything but a link it is ENOENT.
          expect(fields(errorOf(() => sys.readlinkat(dfd, '')))).toMatchObject({ syscall: 'readlinkat', code: 'ENOENT', paths: [dir] });
        } finally {
          sys.close(lfd);
        }
        sys.fchownat(dfd, 'sub', 1007, -1, AT_SYMLINK_NOFOLLOW);
        expect(sys.stat(path.join(dir, 'sub'))).toMatchObject({ uid: 1007, gid: 0 });
        sys.unlinkat(dfd, 'link', 0);
        sys.unlinkat(dfd, 'sub', AT_REMOVEDIR);
        expect(sys.readdir(dir)).toEqual(['null']);
        expect(fields(errorOf(() => sys.mkdirat(dfd, 'null', 0o700)))).toEqual({ name: 'SyscallError', syscall: 'mkdirat', code: 'EEXIST', paths: ['null'] });
        expect(fields(errorOf(() => sys.unlinkat(dfd, 'none', 0)))).toMatchObject({ syscall: 'unlinkat', code: 'ENOENT', paths: ['none'] });
        expect(fields(errorOf(() => sys.symlinkat('x', dfd, 'null')))).toMatchObject({ syscall: 'symlinkat', code: 'EEXIST', paths: ['x', 'null'] });
      } finally {
        sys.umask(previous);
        sys.close(dfd);
      }
    });

    it('fstatfs gives the filesystem magic number', () => {
      const proc = sys.open('/proc/thread-self/fd', O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      const sysfs = sys.open('/sys', O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      try {
        expect(sys.fstatfs(proc).type).toBe(PROC_SUPER_MAGIC);
        expect(sys.fstatfs(sysfs).type).toBe(SYSFS_MAGIC);
      } finally {
        sys.close(proc);
        sys.close(sysfs);
      }
      expect(fields(errorOf(() => sys.fstatfs(9999)))).toMatchObject({ syscall: 'fstatfs', code: 'EBADF' });
    });

    it('an error through a magic link, or of an *at call on AT_EMPTY_PATH, names the file the descriptor holds', () => {
      const dir = freshDir();
      fs.mkdirSync(path.join(dir, 'x'));
      const dfd = sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      try {
        expect(fields(errorOf(() => sys.mkdir(`${fdPath(dfd)}/x`, 0o700)))).toMatchObject({ syscall: 'mkdir', code: 'EEXIST', paths: [`${dir}/x`] });
        expect(fields(errorOf(() => sys.chdir(fdPath(dfd) + '/none')))).toMatchObject({ code: 'ENOENT', paths: [`${dir}/none`] });
        // fchownat(2) on a descriptor without AT_EMPTY_PATH: ENOENT for the empty name.
        expect(fields(errorOf(() => sys.fchownat(dfd, '', 0, 0, 0)))).toMatchObject({ syscall: 'fchownat', code: 'ENOENT', paths: [dir] });
      } finally {
        sys.close(dfd);
      }
    });

    it('umask sets the mask and returns the previous one', () => {
      const previous = sys.umask(0o027);
      try {
        expect(sys.umask(0o077)).toBe(0o027);
        const dir = path.join(freshDir(), 'd');
        sys.mkdir(dir, 0o777);
        expect(sys.stat(dir).perm).toBe(0o700);
      } finally {
        expect(sys.umask(previous)).toBe(0o077);
      }
    });

    it('runCommand returns interleaved stdout and stderr, status, env and cwd', () => {
      const dir = freshDir();
      const r = sys.runCommand({
        path: '/bin/sh',
        args: ['-c', 'echo out1; echo err1 >&2; echo out2; pwd; echo "$A|$B"; exit 3'],
        env: ['A=1', 'B=x=y'],
        dir,
      });
      expect(r).toEqual({ status: 3, signal: null, output: `out1\nerr1\nout2\n${dir}\n1|x=y\n` });
    });

    it('runCommand reports a signal, and a missing binary as execve ENOENT', () => {
      expect(sys.runCommand({ path: '/bin/sh', args: ['-c', 'kill -TERM $$'], env: [], dir: '' })).toEqual({
        status: null,
        signal: 'SIGTERM',
        output: '',
      });
      expect(fields(errorOf(() => sys.runCommand({ path: '/nonexistent/cmd', args: [], env: [], dir: '' })))).toEqual({
        name: 'SyscallError',
        syscall: 'execve',
        code: 'ENOENT',
        paths: ['/nonexistent/cmd'],
      });
    });

    it('joinSessionKeyring: a named keyring with the bits added, the same serial when it is joined already (the kernel answers 0), a new anonymous one for null', () => {
      // In a child: the keyrings it joins end with it. /proc/keys: serial flags usage timeout perm uid gid type description.
      const name = `_ses.mk-port-${process.pid}`;
      const r = inChild<{ first: number; again: number; anonymous: number; keys: string[][] }>(
        os.tmpdir(),
        `const first = sys.joinSessionKeyring(${JSON.stringify(name)}, 0x80000);
        const again = sys.joinSessionKeyring(${JSON.stringify(name)}, 0x80000);
        const anonymous = sys.joinSessionKeyring(null, 0x8);
        const keys = require('fs').readFileSync('/proc/keys', 'utf8').split('\\n').map((l) => l.trim().split(/\\s+/));
        return { first, again, anonymous, keys };`,
      );
      const line = (serial: number) => r.keys.find((f) => parseInt(f[0], 16) === serial)?.slice(4, 9);
      expect(r.again).toBe(r.first);
      expect(r.anonymous).not.toBe(r.first);
      expect(line(r.first)).toEqual(['3f1b0000', '0', '0', 'keyring', `${name}:`]);
      expect(line(r.anonymous)).toEqual(['3f030008', '0', '0', 'keyring', '_ses:']);
    });

    it('memfdCreate, addSeals and getSeals: a file no directory holds, sealed against writes (EPERM), whose seals are read back; EINVAL of a file that takes none, EPERM for a memfd made without MFD_ALLOW_SEALING', () => {
      const sealed = sys.memfdCreate('mk-port', MFD_CLOEXEC | MFD_ALLOW_SEALING);
      const plain = sys.memfdCreate('mk-plain', MFD_CLOEXEC);
      const file = sys.open('/proc/self/status', O_RDONLY | O_CLOEXEC, 0);
      try {
        expect(fs.readlinkSync(`/proc/self/fd/${sealed}`)).toBe('/memfd:mk-port (deleted)');
        fs.writeSync(sealed, 'bytes');
        expect(sys.getSeals(`/proc/self/fd/${sealed}`)).toBe(0);
        sys.addSeals(sealed, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
        expect(sys.getSeals(`/proc/self/fd/${sealed}`)).toBe(F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
        expect(() => fs.writeSync(sealed, 'more')).toThrow(expect.objectContaining({ code: 'EPERM' }));
        expect(fs.readFileSync(`/proc/self/fd/${sealed}`, 'utf8')).toBe('bytes');
        expect(() => sys.addSeals(sealed, F_SEAL_WRITE)).toThrow(expect.objectContaining({ name: 'SyscallError', code: 'EPERM', message: 'fcntl "/memfd:mk-port (deleted)": EPERM' }));
        expect(() => sys.addSeals(plain, F_SEAL_WRITE)).toThrow(expect.objectContaining({ code: 'EPERM' }));
        expect(() => sys.getSeals('/proc/self/status')).toThrow(expect.objectContaining({ code: 'EINVAL', message: 'fcntl "/proc/self/status": EINVAL' }));
        expect(() => sys.getSeals('/nonexistent')).toThrow(expect.objectContaining({ code: 'ENOENT', message: 'open "/nonexistent": ENOENT' }));
      } finally {
        for (const fd of [sealed, plain, file]) sys.close(fd);
      }
    });

    it("memfdCopy: Node's own file in a sealed memfd of its size, which no write changes and which runs as node", () => {
      const copy = memfdCopy(sys);
      try {
        const link = `/proc/${process.pid}/fd/${copy}`;
        expect(fs.readlinkSync(link)).toBe('/memfd:node (deleted)');
        expect(fs.fstatSync(copy).size).toBe(fs.statSync('/proc/self/exe').size);
        expect(sys.getSeals(link)).toBe(F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL);
        expect(() => fs.writeSync(copy, 'x', 0)).toThrow(expect.objectContaining({ code: 'EPERM' }));
        const r = spawnSync(link, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 20_000 });
        expect([r.status, r.stdout.trim()]).toEqual([0, process.versions.node]);
      } finally {
        sys.close(copy);
      }
    });

    it('stayed in the mount namespace it started in', () => {
      expect(fs.readlinkSync('/proc/self/ns/mnt')).toBe(ownMountNs);
    });
  });
});
