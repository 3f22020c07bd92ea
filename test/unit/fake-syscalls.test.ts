import { DEFAULT_TERMIOS, FakeSyscalls, ExecveCalled, countingBytes, type FakeNode } from '../../src/core/syscalls/fake';
import { SyscallError } from '../../src/core/errors';
import { caught, errorOf } from '../helpers/syscall-error';
import {
  AT_EMPTY_PATH,
  O_RDWR,
  AT_FDCWD,
  AT_RECURSIVE,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  EXT4_SUPER_MAGIC,
  F_SEAL_SEAL,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  GRND_NONBLOCK,
  MNT_DETACH,
  MNT_EXPIRE,
  MNT_FORCE,
  MOUNT_ATTR_IDMAP,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_BIND,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  MS_NOATIME,
  MS_NOSYMFOLLOW,
  MS_STRICTATIME,
  MS_SILENT,
  MS_UNBINDABLE,
  MS_SLAVE,
  MS_SHARED,
  MS_MOVE,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  OPEN_TREE_CLONE,
  O_PATH,
  O_RDONLY,
  O_TRUNC,
  O_WRONLY,
  PROC_SUPER_MAGIC,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFSOCK,
  CLONE_NEWNS,
  CLONE_NEWUSER,
  ST_NOATIME,
  ST_NODEV,
  ST_NOEXEC,
  ST_NOSUID,
  ST_RDONLY,
  ST_RELATIME,
  ST_VALID,
  TMPFS_MAGIC,
  makedev,
} from '../../src/core/constants';


describe('FakeSyscalls recording', () => {
  it('records every call in order, one plain object per call with the parameter names', () => {
    const sys = new FakeSyscalls().addDir('/rootfs/proc').addDir('/rootfs/dev').addMountpoint('/rootfs');
    const procFlags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    sys.mount('proc', '/rootfs/proc', 'proc', procFlags, null);
    sys.mkdir('/rootfs/dev/pts', 0o755);
    sys.mknod('/rootfs/dev/null', S_IFCHR | 0o666, makedev(1, 3));
    sys.symlink('/proc/self/fd', '/rootfs/dev/fd');
    sys.writeFile('/rootfs/etc-hostname', 'box');
    sys.writeFile('/rootfs/mode-file', 'x', 0o600);
    sys.stat('/rootfs/dev');
    sys.pivotRoot('/rootfs', '/rootfs');
    sys.umount2('/', MNT_DETACH);
    sys.chdir('/');

    expect(sys.calls).toStrictEqual([
      { op: 'mount', source: 'proc', target: '/rootfs/proc', fstype: 'proc', flags: 0xen, data: null },
      { op: 'mkdir', path: '/rootfs/dev/pts', mode: 0o755 },
      { op: 'mknod', path: '/rootfs/dev/null', mode: S_IFCHR | 0o666, dev: makedev(1, 3) },
      { op: 'symlink', target: '/proc/self/fd', linkPath: '/rootfs/dev/fd' },
      { op: 'writeFile', path: '/rootfs/etc-hostname', data: 'box' },
      { op: 'writeFile', path: '/rootfs/mode-file', data: 'x', mode: 0o600 },
      { op: 'stat', path: '/rootfs/dev' },
      { op: 'pivotRoot', newRoot: '/rootfs', putOld: '/rootfs' },
      { op: 'umount2', target: '/', flags: MNT_DETACH },
      { op: 'chdir', path: '/' },
    ]);
  });

  it('records the remaining methods with their shapes', () => {
    const sys = new FakeSyscalls().addDir('/d').addFile('/d/f', 'hi').addSymlink('/d/l', 'f').addMountpoint('/d');
    sys.commandResult = { status: 3, signal: null, output: 'out' };
    const fd = sys.open('/d', O_DIRECTORY, 0);
    sys.openat(fd, 'f', O_RDONLY, 0);
    sys.openat2(fd, 'f', O_RDONLY, 0, RESOLVE_IN_ROOT);
    sys.fstat(fd);
    sys.fchdir(fd);
    sys.dup3(fd, 0, 0);
    sys.close(fd);
    sys.chown('/d/f', 1, 2);
    sys.lchown('/d/l', 3, 4);
    sys.chmod('/d/f', 0o600);
    sys.chroot('/d');
    sys.umask(0o077);
    sys.readlink('/d/l');
    sys.readdir('/d');
    sys.readFile('/d/f');
    sys.lstat('/d/l');
    sys.unlink('/d/l');
    sys.mkdir('/d/e', 0o700);
    sys.rmdir('/d/e');
    sys.mountSetattr(AT_FDCWD, '/d', 0, 1n, 0n, 0n);
    sys.unshare(0x20000);
    sys.setns(7, 0);
    const result = sys.runCommand({ path: '/bin/true', args: ['true'], env: ['A=1'], dir: '/' });

    expect(result).toEqual({ status: 3, signal: null, output: 'out' });
    expect(sys.calls).toStrictEqual([
      { op: 'open', path: '/d', flags: O_DIRECTORY, mode: 0 },
      { op: 'openat', dirfd: 100, path: 'f', flags: O_RDONLY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'f', flags: O_RDONLY, mode: 0, resolve: RESOLVE_IN_ROOT },
      { op: 'fstat', fd: 100 },
      { op: 'fchdir', fd: 100 },
      { op: 'dup3', oldfd: 100, newfd: 0, flags: 0 },
      { op: 'close', fd: 100 },
      { op: 'chown', path: '/d/f', uid: 1, gid: 2 },
      { op: 'lchown', path: '/d/l', uid: 3, gid: 4 },
      { op: 'chmod', path: '/d/f', mode: 0o600 },
      { op: 'chroot', path: '/d' },
      { op: 'umask', mask: 0o077 },
      { op: 'readlink', path: '/d/l' },
      { op: 'readdir', path: '/d' },
      { op: 'readFile', path: '/d/f' },
      { op: 'lstat', path: '/d/l' },
      { op: 'unlink', path: '/d/l' },
      { op: 'mkdir', path: '/d/e', mode: 0o700 },
      { op: 'rmdir', path: '/d/e' },
      { op: 'mountSetattr', dirfd: AT_FDCWD, path: '/d', atFlags: 0, attrSet: 1n, attrClr: 0n, propagation: 0n },
      { op: 'unshare', flags: 0x20000 },
      { op: 'setns', fd: 7, nstype: 0 },
      { op: 'runCommand', cmd: { path: '/bin/true', args: ['true'], env: ['A=1'], dir: '/' } },
    ]);
  });

  it('effects() leaves out the read-only queries and callsOf() filters by op', () => {
    const sys = new FakeSyscalls().addFile('/f', 'x').addSymlink('/l', 'f');
    sys.stat('/f');
    sys.mkdir('/a', 0o755);
    sys.lstat('/l');
    sys.readlink('/l');
    sys.readdir('/');
    sys.readFile('/f');
    sys.fstat(sys.open('/f', O_RDONLY, 0));
    sys.mkdir('/b', 0o700);

    expect(sys.effects()).toEqual([
      { op: 'mkdir', path: '/a', mode: 0o755 },
      { op: 'open', path: '/f', flags: O_RDONLY, mode: 0 },
      { op: 'mkdir', path: '/b', mode: 0o700 },
    ]);
    expect(sys.callsOf('mkdir').map((c) => c.path)).toEqual(['/a', '/b']);
    expect(sys.calls).toHaveLength(9);
  });

  it('clearCalls() forgets the record but keeps the model', () => {
    const sys = new FakeSyscalls();
    sys.mkdir('/a', 0o755);
    sys.clearCalls();
    sys.mkdir('/a/b', 0o755);
    expect(sys.calls).toEqual([{ op: 'mkdir', path: '/a/b', mode: 0o755 }]);
  });

  it('keeps copies of argv, envp and commands, not the caller arrays', () => {
    const sys = new FakeSyscalls();
    const argv = ['sh'];
    expect(() => sys.execve('/bin/sh', argv, [])).toThrow(ExecveCalled);
    argv.push('-c');
    expect(sys.calls).toEqual([{ op: 'execve', path: '/bin/sh', argv: ['sh'], envp: [] }]);
  });
});

describe('FakeSyscalls getrandom', () => {
  test.each([
    [4, 1, [0, 0, 0, 1]],
    [4, 2, [0, 0, 0, 2]],
    [3, 0x10203, [1, 2, 3]],
    [2, 0x10203, [2, 3]],
    [0, 5, []],
  ])('countingBytes(%d, %d) -> %j', (length, n, bytes) => expect([...countingBytes(length, n)]).toEqual(bytes));

  it('gives the next count at each call, the same in every fake; a query, not an effect; randomBytes answers instead when set', () => {
    const answers = (sys: FakeSyscalls) => [sys.getrandom(16, GRND_NONBLOCK), sys.getrandom(2, 0)].map((b) => Buffer.from(b).toString('hex'));
    expect(answers(new FakeSyscalls())).toEqual(['00000000000000000000000000000001', '0002']);
    const sys = new FakeSyscalls();
    expect(answers(sys)).toEqual(answers(new FakeSyscalls()));
    expect(sys.calls).toEqual([
      { op: 'getrandom', length: 16, flags: GRND_NONBLOCK },
      { op: 'getrandom', length: 2, flags: 0 },
    ]);
    expect(sys.effects()).toEqual([]);
    sys.randomBytes = (length, nth) => new Uint8Array(length).fill(nth);
    expect([...sys.getrandom(3, 0)]).toEqual([3, 3, 3]);
  });

  it('EINVAL for a flag getrandom(2) does not know; failOn makes it fail as the real port names it', () => {
    const sys = new FakeSyscalls();
    expect(errorOf(() => sys.getrandom(16, 0x8))).toEqual({ syscall: 'getrandom', code: 'EINVAL', paths: [] });
    expect([...sys.getrandom(1, 0x7)]).toEqual([1]);
    sys.failOn('getrandom', 'ENOSYS');
    expect(errorOf(() => sys.getrandom(16, GRND_NONBLOCK))).toEqual({ syscall: 'getrandom', code: 'ENOSYS', paths: [] });
    expect(sys.calls).toHaveLength(3);
  });
});

describe('FakeSyscalls failure injection', () => {
  it('failOn records the call, then throws SyscallError naming the syscall, errno and paths', () => {
    const sys = new FakeSyscalls().addDir('/rootfs/proc').failOn('mount', 'EPERM');
    expect(errorOf(() => sys.mount('proc', '/rootfs/proc', 'proc', 0n, null))).toEqual({
      syscall: 'mount',
      code: 'EPERM',
      paths: ['proc', '/rootfs/proc'],
    });
    expect(sys.calls).toEqual([
      { op: 'mount', source: 'proc', target: '/rootfs/proc', fstype: 'proc', flags: 0n, data: null },
    ]);
    expect(sys.mounts).toEqual([]);
    sys.mount('proc', '/rootfs/proc', 'proc', 0n, null);
    expect(sys.mounts).toHaveLength(1);
  });

  it('accepts an errno number', () => {
    const sys = new FakeSyscalls().failOn('unshare', 1);
    expect(caught(() => sys.unshare(0)).code).toBe('EPERM');
  });

  it('failOn nth fails only the nth call of that op', () => {
    const sys = new FakeSyscalls().failOn('mkdir', 'ENOSPC', { nth: 2 });
    sys.stat('/');
    sys.mkdir('/a', 0o755);
    expect(errorOf(() => sys.mkdir('/b', 0o755))).toEqual({ syscall: 'mkdir', code: 'ENOSPC', paths: ['/b'] });
    sys.mkdir('/c', 0o755);
    expect(sys.node('/b')).toBeUndefined();
    expect(sys.node('/c')?.kind).toBe('dir');
  });

  it('failOn path matches the primary path, as a string or a pattern', () => {
    const sys = new FakeSyscalls()
      .addDir('/r/a')
      .addDir('/r/b')
      .addDir('/r/dev')
      .failOn('mount', 'EBUSY', { path: '/r/b/' })
      .failOn('symlink', 'EROFS', { path: /\/dev\// });
    sys.mount('tmpfs', '/r/a', 'tmpfs', 0n, null);
    expect(caught(() => sys.mount('tmpfs', '/r/b', 'tmpfs', 0n, null)).code).toBe('EBUSY');
    sys.symlink('/proc/self/fd', '/r/fd');
    expect(errorOf(() => sys.symlink('/proc/self/fd/0', '/r/dev/stdin'))).toEqual({
      syscall: 'symlink',
      code: 'EROFS',
      paths: ['/proc/self/fd/0', '/r/dev/stdin'],
    });
  });

  it('failOn times repeats the failure, Infinity forever; nth counts only matching calls', () => {
    const sys = new FakeSyscalls().failOn('chmod', 'EPERM', { path: '/x', nth: 2, times: 2 });
    sys.addFile('/x').addFile('/y');
    sys.chmod('/y', 0o600);
    sys.chmod('/x', 0o600);
    expect(() => sys.chmod('/x', 0o600)).toThrow(SyscallError);
    sys.chmod('/y', 0o600);
    expect(() => sys.chmod('/x', 0o600)).toThrow(SyscallError);
    sys.chmod('/x', 0o600);

    const always = new FakeSyscalls().failOn('umask', 'EINVAL', { times: Infinity });
    for (let i = 0; i < 5; i++) expect(() => always.umask(0)).toThrow(SyscallError);
  });

  it('failOn matches fd calls by the path the fd was opened with', () => {
    const sys = new FakeSyscalls().addDir('/rootfs').failOn('fchdir', 'EACCES', { path: '/rootfs' });
    const fd = sys.open('/rootfs', O_DIRECTORY, 0);
    expect(errorOf(() => sys.fchdir(fd))).toEqual({ syscall: 'fchdir', code: 'EACCES', paths: [] });
  });

  it('failAt fails the effect call at that position, queries not counted', () => {
    const sys = new FakeSyscalls().failAt(2, 'EIO');
    sys.mkdir('/a', 0o755);
    sys.stat('/a');
    sys.mkdir('/b', 0o755);
    expect(errorOf(() => sys.writeFile('/a/f', 'x'))).toEqual({ syscall: 'writeFile', code: 'EIO', paths: ['/a/f'] });
    expect(sys.effects()).toHaveLength(3);
    expect(sys.effects()[2]).toEqual({ op: 'writeFile', path: '/a/f', data: 'x' });
    expect(sys.node('/a/f')).toBeUndefined();
    sys.writeFile('/a/f', 'x');
  });

  it('supports a "failure at every step" loop', () => {
    const steps = (sys: FakeSyscalls): void => {
      sys.mkdir('/rootfs', 0o755);
      sys.mount('tmpfs', '/rootfs', 'tmpfs', 0n, 'size=1m');
      sys.mkdir('/rootfs/dev', 0o755);
      sys.mknod('/rootfs/dev/null', S_IFCHR | 0o666, makedev(1, 3));
    };
    const clean = new FakeSyscalls();
    steps(clean);
    const n = clean.effects().length;
    for (let i = 0; i < n; i++) {
      const sys = new FakeSyscalls().failAt(i, 'EIO');
      expect(() => steps(sys)).toThrow(SyscallError);
      expect(sys.effects()).toEqual(clean.effects().slice(0, i + 1));
    }
  });

  it('rejects an unknown errno name when the rule is made', () => {
    expect(() => new FakeSyscalls().failOn('mount', 'ENOTANERRNO')).toThrow(/unknown errno/);
  });
});

describe('FakeSyscalls filesystem model', () => {
  it('starts with / as a 0755 dir, builders create parents', () => {
    const sys = new FakeSyscalls()
      .addFile('/etc/hosts', '127.0.0.1 localhost\n')
      .addDevice('/dev/sda', 'block', 8, 0, 0o660)
      .addDevice('/dev/null', 'char', 1, 3)
      .addSymlink('/dev/fd', '/proc/self/fd')
      .addDir('/secret', 0o700);
    expect(sys.stat('/')).toMatchObject({ kind: 'dir', perm: 0o755, uid: 0, gid: 0 });
    expect(sys.stat('/etc')).toMatchObject({ kind: 'dir', perm: 0o755 });
    expect(sys.stat('/etc/hosts')).toMatchObject({ kind: 'file', perm: 0o644, size: 20 });
    expect(sys.stat('/dev/sda')).toMatchObject({ kind: 'block', perm: 0o660, rdev: makedev(8, 0) });
    expect(sys.stat('/dev/null')).toMatchObject({ kind: 'char', perm: 0o666, rdev: makedev(1, 3) });
    expect(sys.lstat('/dev/fd')).toMatchObject({ kind: 'symlink', perm: 0o777 });
    expect(sys.stat('/secret').perm).toBe(0o700);
    expect(sys.readdir('/dev')).toEqual(['fd', 'null', 'sda']);
    expect(sys.readFile('/etc/hosts')).toBe('127.0.0.1 localhost\n');
  });

  it.each([
    ['a directory of the base filesystem', '', 'ENAMETOOLONG'],
    ['a tmpfs', 'tmpfs', 'ENAMETOOLONG'],
    ['an mqueue', 'mqueue', 'ENAMETOOLONG'],
    ['a procfs', 'proc', 'ENOENT'],
    ['a sysfs', 'sysfs', 'ENOENT'],
    ['a cgroup2', 'cgroup2', 'ENOENT'],
  ])('a name over NAME_MAX (256 bytes) in %s (type "%s"): %s, as its lookup answers; 255 bytes: ENOENT', (_what, fstype, code) => {
    const sys = new FakeSyscalls().addDir('/m');
    if (fstype) sys.mount(fstype, '/m', fstype, 0n, null);
    expect(() => sys.stat(`/m/${'n'.repeat(256)}`)).toThrow(expect.objectContaining({ code }));
    expect(() => sys.stat(`/m/${'n'.repeat(255)}`)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });

  it('gives distinct inode numbers', () => {
    const sys = new FakeSyscalls().addFile('/a').addFile('/b');
    expect(sys.stat('/a').ino).not.toBe(sys.stat('/b').ino);
  });

  it('mkdir: EEXIST if the path exists, ENOENT without the parent, ENOTDIR under a file; umask applies', () => {
    const sys = new FakeSyscalls().addDir('/a').addFile('/f');
    expect(errorOf(() => sys.mkdir('/a', 0o755))).toEqual({ syscall: 'mkdir', code: 'EEXIST', paths: ['/a'] });
    expect(errorOf(() => sys.mkdir('/x/y', 0o755))).toEqual({ syscall: 'mkdir', code: 'ENOENT', paths: ['/x/y'] });
    expect(caught(() => sys.mkdir('/f/y', 0o755)).code).toBe('ENOTDIR');
    sys.mkdir('/a/b', 0o777);
    expect(sys.stat('/a/b').perm).toBe(0o755);
    expect(sys.umask(0)).toBe(0o022);
    sys.mkdir('/a/c', 0o777);
    expect(sys.stat('/a/c').perm).toBe(0o777);
    expect(sys.umask(0o022)).toBe(0);
  });

  it('mkdir does not follow a final symlink, even a dangling one', () => {
    const sys = new FakeSyscalls().addSymlink('/l', '/nowhere');
    expect(caught(() => sys.mkdir('/l', 0o755)).code).toBe('EEXIST');
    expect(sys.node('/nowhere')).toBeUndefined();
  });

  it('rmdir and unlink', () => {
    const sys = new FakeSyscalls().addFile('/d/f').addDir('/e').addSymlink('/l', '/d');
    expect(caught(() => sys.rmdir('/d')).code).toBe('ENOTEMPTY');
    expect(caught(() => sys.rmdir('/d/f')).code).toBe('ENOTDIR');
    expect(caught(() => sys.rmdir('/l')).code).toBe('ENOTDIR');
    expect(caught(() => sys.rmdir('/missing')).code).toBe('ENOENT');
    expect(caught(() => sys.rmdir('/')).code).toBe('EBUSY');
    expect(caught(() => sys.unlink('/e')).code).toBe('EISDIR');
    expect(caught(() => sys.unlink('/missing')).code).toBe('ENOENT');
    sys.unlink('/l');
    expect(sys.node('/d')?.kind).toBe('dir');
    sys.unlink('/d/f');
    sys.rmdir('/d');
    expect(sys.readdir('/')).toEqual(['e']);
  });

  it('symlink: EEXIST, ENOENT without the parent; readlink EINVAL on a non-link', () => {
    const sys = new FakeSyscalls().addFile('/f');
    sys.symlink('f', '/l');
    expect(sys.readlink('/l')).toBe('f');
    expect(errorOf(() => sys.symlink('x', '/l'))).toEqual({ syscall: 'symlink', code: 'EEXIST', paths: ['x', '/l'] });
    expect(caught(() => sys.symlink('x', '/f')).code).toBe('EEXIST');
    expect(caught(() => sys.symlink('x', '/no/l')).code).toBe('ENOENT');
    expect(errorOf(() => sys.readlink('/f'))).toEqual({ syscall: 'readlink', code: 'EINVAL', paths: ['/f'] });
    expect(caught(() => sys.readlink('/missing')).code).toBe('ENOENT');
  });

  it('mknod: the kind comes from the S_IFMT bits, rdev only for devices', () => {
    const sys = new FakeSyscalls().addDir('/dev');
    sys.mknod('/dev/null', S_IFCHR | 0o666, makedev(1, 3));
    sys.mknod('/dev/loop0', S_IFBLK | 0o660, makedev(7, 0));
    sys.mknod('/dev/fifo', S_IFIFO | 0o644, makedev(1, 1));
    sys.mknod('/dev/sock', S_IFSOCK | 0o644, 0n);
    sys.mknod('/dev/plain', 0o644, 0n);
    expect(sys.stat('/dev/null')).toMatchObject({ kind: 'char', perm: 0o644, rdev: makedev(1, 3) });
    expect(sys.stat('/dev/loop0')).toMatchObject({ kind: 'block', perm: 0o640, rdev: makedev(7, 0) });
    expect(sys.stat('/dev/fifo')).toMatchObject({ kind: 'fifo', rdev: 0n });
    expect(sys.stat('/dev/sock').kind).toBe('socket');
    expect(sys.stat('/dev/plain').kind).toBe('file');
    expect(caught(() => sys.mknod('/dev/null', S_IFCHR | 0o666, makedev(1, 3))).code).toBe('EEXIST');
    expect(caught(() => sys.mknod('/dev/d', S_IFDIR | 0o755, 0n)).code).toBe('EINVAL');
    expect(caught(() => sys.mknod('/dev/l', S_IFLNK | 0o777, 0n)).code).toBe('EINVAL');
    expect(caught(() => sys.mknod('/nodev/null', S_IFCHR, 0n)).code).toBe('ENOENT');
  });

  it('chmod, chown follow symlinks; lchown does not; -1 keeps an id', () => {
    const sys = new FakeSyscalls().addFile('/f').addSymlink('/l', 'f');
    sys.chmod('/l', 0o4755);
    sys.chown('/l', 1000, 1001);
    sys.lchown('/l', 7, -1);
    sys.chown('/f', -1, 5);
    expect(sys.stat('/f')).toMatchObject({ perm: 0o4755, uid: 1000, gid: 5 });
    expect(sys.lstat('/l')).toMatchObject({ uid: 7, gid: 0 });
    expect(caught(() => sys.chmod('/missing', 0o644)).code).toBe('ENOENT');
  });

  it('writeFile creates or replaces a file, follows symlinks; ENOENT/EISDIR', () => {
    const sys = new FakeSyscalls().addDir('/etc').addSymlink('/link', '/etc/target');
    sys.writeFile('/etc/a', 'one');
    sys.writeFile('/etc/a', 'two', 0o600);
    sys.writeFile('/etc/b', 'b', 0o666);
    sys.writeFile('/link', 'via link');
    expect(sys.readFile('/etc/a')).toBe('two');
    expect(sys.stat('/etc/a')).toMatchObject({ kind: 'file', perm: 0o644, size: 3 });
    expect(sys.stat('/etc/b').perm).toBe(0o644);
    expect(sys.readFile('/etc/target')).toBe('via link');
    expect(caught(() => sys.writeFile('/nodir/f', 'x')).code).toBe('ENOENT');
    expect(errorOf(() => sys.writeFile('/etc', 'x'))).toEqual({
      syscall: 'writeFile',
      code: 'EISDIR',
      paths: ['/etc'],
    });
  });

  it('readFile: ENOENT, EISDIR; devices read empty; readdir ENOTDIR', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/mountinfo', '22 1 0:21 / / rw - ext4 /dev/sda1 rw\n');
    sys.addDevice('/dev/null', 'char', 1, 3);
    expect(sys.readFile('/proc/self/mountinfo')).toContain('ext4');
    expect(errorOf(() => sys.readFile('/nope'))).toEqual({ syscall: 'readFile', code: 'ENOENT', paths: ['/nope'] });
    expect(caught(() => sys.readFile('/proc')).code).toBe('EISDIR');
    expect(sys.readFile('/dev/null')).toBe('');
    expect(caught(() => sys.readdir('/dev/null')).code).toBe('ENOTDIR');
    expect(caught(() => sys.readdir('/nope')).code).toBe('ENOENT');
  });

  describe('symlink resolution', () => {
    const sys = new FakeSyscalls()
      .addFile('/target/file', 'content')
      .addSymlink('/abs', '/target')
      .addSymlink('/a/b/rel', '../../target')
      .addSymlink('/a/b/dotdot', '..')
      .addSymlink('/a/chain1', 'chain2')
      .addSymlink('/a/chain2', '/abs/file')
      .addSymlink('/dangling', '/missing/file')
      .addSymlink('/loop1', '/loop2')
      .addSymlink('/loop2', '/loop1')
      .addSymlink('/self', 'self')
      .addFile('/plain');

    it('stat follows absolute links from / and relative links from the link dir', () => {
      expect(sys.stat('/abs').kind).toBe('dir');
      expect(sys.stat('/abs/file').kind).toBe('file');
      expect(sys.stat('/a/b/rel/file').kind).toBe('file');
      expect(sys.readFile('/a/chain1')).toBe('content');
      expect(sys.lstat('/a/chain1').kind).toBe('symlink');
    });

    it('.. is taken from the resolved directory', () => {
      expect(sys.stat('/abs/..').ino).toBe(sys.stat('/').ino);
      expect(sys.stat('/a/b/dotdot').ino).toBe(sys.stat('/a').ino);
      expect(sys.stat('/a/b/dotdot/b/rel/../abs/file').kind).toBe('file');
      expect(sys.stat('/../../target/./file').kind).toBe('file');
      expect(sys.stat('target//file').kind).toBe('file');
    });

    it('.. enters what a subclass says is mounted on the directory it lands on (mountedOn), at the root and at RESOLVE_IN_ROOT\'s floor too; a walk starting there does not', () => {
      /** A model with a tree mounted on its root since (the plan port grafts one so). */
      class Stacked extends FakeSyscalls {
        readonly onRoot: FakeNode = this.newNode('dir', 0o755);
        protected override mountedOn(dir: FakeNode): FakeNode | undefined {
          return dir === this.root ? this.onRoot : undefined;
        }
      }
      const stacked = new Stacked().addFile('/etc/hostname', 'image');
      expect(stacked.readdir('/')).toEqual(['etc']);
      expect(stacked.readFile('/etc/hostname')).toBe('image');
      expect(stacked.readdir('/..')).toEqual([]);
      expect(stacked.readdir('/etc/..')).toEqual([]);
      expect(errorOf(() => stacked.stat('/../etc'))).toEqual({ syscall: 'stat', code: 'ENOENT', paths: ['/../etc'] });
      const root = stacked.open('/', O_PATH | O_DIRECTORY, 0);
      expect(stacked.pathOf(stacked.openat2(root, 'etc', O_PATH, 0, RESOLVE_IN_ROOT))).toBe('/etc');
      expect(caught(() => stacked.openat2(root, '../etc', O_PATH, 0, RESOLVE_IN_ROOT)).code).toBe('ENOENT');
      // The fake itself grafts nothing: ".." at the root stays there.
      expect(sys.stat('/../target').kind).toBe('dir');
    });

    it('a dangling link: lstat works, stat ENOENT', () => {
      expect(sys.lstat('/dangling').kind).toBe('symlink');
      expect(errorOf(() => sys.stat('/dangling'))).toEqual({ syscall: 'stat', code: 'ENOENT', paths: ['/dangling'] });
    });

    it('ELOOP after 40 links', () => {
      expect(errorOf(() => sys.stat('/loop1'))).toEqual({ syscall: 'stat', code: 'ELOOP', paths: ['/loop1'] });
      expect(caught(() => sys.stat('/self/x')).code).toBe('ELOOP');
      expect(sys.lstat('/loop1').kind).toBe('symlink');

      const deep = new FakeSyscalls().addFile('/f');
      for (let i = 0; i < 40; i++) deep.addSymlink(`/l${i}`, i === 0 ? '/f' : `/l${i - 1}`);
      expect(deep.stat('/l39').kind).toBe('file');
      deep.addSymlink('/l40', '/l39');
      expect(caught(() => deep.stat('/l40')).code).toBe('ELOOP');
    });

    it('a file in the middle of a path is ENOTDIR', () => {
      expect(caught(() => sys.stat('/plain/x')).code).toBe('ENOTDIR');
    });

    it('node() looks up without recording', () => {
      const before = sys.calls.length;
      expect(sys.node('/abs')?.kind).toBe('symlink');
      expect(sys.node('/abs', true)?.kind).toBe('dir');
      expect(sys.node('/missing/x')).toBeUndefined();
      expect(sys.calls).toHaveLength(before);
    });
  });

  it('builders follow symlinked parents and refuse to replace a directory', () => {
    const sys = new FakeSyscalls().addDir('/real').addSymlink('/link', '/real').addFile('/link/f', 'x');
    expect(sys.readFile('/real/f')).toBe('x');
    expect(() => sys.addFile('/real', 'x')).toThrow(/is a directory/);
    expect(() => sys.addDir('/real/f/sub')).toThrow(/not a directory/);
  });

  describe('mounts', () => {
    it('ENOENT on a missing target or bind source, the list follows binds, moves and umount2', () => {
      // The model's paths do not move with a mount: /new/sys is there for what the kernel would show after the move.
      const sys = new FakeSyscalls().addDir('/rootfs/proc').addDir('/rootfs/sys').addDir('/host/data').addDir('/new/sys');
      expect(errorOf(() => sys.mount('proc', '/rootfs/nope', 'proc', 0n, null))).toEqual({
        syscall: 'mount',
        code: 'ENOENT',
        paths: ['proc', '/rootfs/nope'],
      });
      expect(caught(() => sys.mount('/host/nope', '/rootfs/sys', null, MS_BIND, null)).code).toBe('ENOENT');
      sys.mount(null, '/', null, MS_REC | MS_PRIVATE, null);
      sys.mount('/rootfs', '/rootfs', null, MS_BIND | MS_REC, null);
      sys.mount('proc', '/rootfs/proc', 'proc', 0n, null);
      sys.mount('/host/data', '/rootfs/sys', null, MS_BIND, null);
      sys.mount('/host/data', '/rootfs/sys', null, MS_BIND | MS_REMOUNT | MS_RDONLY, null);
      expect(sys.mounts).toEqual([
        { source: '/rootfs', target: '/rootfs', fstype: null, flags: MS_BIND | MS_REC, data: null },
        { source: 'proc', target: '/rootfs/proc', fstype: 'proc', flags: 0n, data: null },
        { source: '/host/data', target: '/rootfs/sys', fstype: null, flags: MS_BIND, data: null },
      ]);
      sys.mount('/rootfs', '/new', null, MS_MOVE, null);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/new', '/new/proc', '/new/sys']);
      sys.umount2('/new/sys', MNT_DETACH);
      expect(caught(() => sys.umount2('/not/mounted', 0)).code).toBe('ENOENT');
      expect(sys.mounts.map((m) => m.target)).toEqual(['/new', '/new/proc']);
    });

    it.each([
      ['onto /', '/', ['/', '/proc']],
      ['onto a directory', '/new', ['/new', '/new/proc']],
      ['onto a directory named with a trailing slash', '/new/', ['/new', '/new/proc']],
    ])('MS_MOVE %s: the mount and those on it keep their places below the target', (_, target, targets) => {
      const sys = new FakeSyscalls().addDir('/r/proc').addDir('/new');
      sys.mount('/r', '/r', null, MS_BIND | MS_REC, null);
      sys.mount('proc', '/r/proc', 'proc', 0n, null);
      sys.mount('/r', target, null, MS_MOVE, null);
      expect(sys.mounts.map((m) => m.target)).toEqual(targets);
    });

    /** A model with a directory and a file, each with a mount on it, and a directory and a file without. */
    const kinds = (): FakeSyscalls => {
      const sys = new FakeSyscalls().addDir('/m').addFile('/mf').addDir('/d').addFile('/f').addFile('/f2').addSymlink('/ld', '/d');
      sys.mount('tmpfs', '/m', 'tmpfs', 0n, null);
      sys.mount('/f2', '/mf', null, MS_BIND, null);
      return sys.clearCalls();
    };
    /** What a failed call may leave: the mounts as they were, and its call recorded. */
    const unchanged = (sys: FakeSyscalls, call: () => unknown, code: string): void => {
      const mounts = structuredClone(sys.mounts);
      expect(caught(call).code).toBe(code);
      expect(sys.mounts).toEqual(mounts);
      expect(sys.calls).toHaveLength(1);
    };

    it.each<[string, (sys: FakeSyscalls) => unknown]>([
      ['a bind of a directory onto a file', (sys) => sys.mount('/d', '/f', null, MS_BIND, null)],
      ['a recursive bind of a directory onto a file', (sys) => sys.mount('/d', '/f', null, MS_BIND | MS_REC, null)],
      ['a bind of a file onto a directory', (sys) => sys.mount('/f', '/d', null, MS_BIND, null)],
      ['a bind of a file onto a directory named by a symlink', (sys) => sys.mount('/f', '/ld', null, MS_BIND, null)],
      ['a tmpfs onto a file', (sys) => sys.mount('tmpfs', '/f', 'tmpfs', 0n, null)],
      ['a proc onto a file', (sys) => sys.mount('proc', '/f', 'proc', 0n, null)],
      ['a tmpfs onto a file named by its descriptor', (sys) => sys.mount('tmpfs', `/proc/thread-self/fd/${sys.open('/f', O_PATH, 0)}`, 'tmpfs', 0n, null)],
      ['a bind of a directory onto a file named by its descriptor', (sys) => sys.mount('/d', `/proc/self/fd/${sys.open('/f', O_PATH, 0)}`, null, MS_BIND, null)],
    ])('ENOTDIR for a mount onto a target of the other kind, as the kernel answers: %s', (_, call) => {
      const sys = kinds();
      const mounts = structuredClone(sys.mounts);
      expect(caught(() => call(sys)).code).toBe('ENOTDIR');
      expect(sys.mounts).toEqual(mounts);
    });

    it('a file onto a file, a directory onto a directory: mounted', () => {
      const sys = kinds();
      sys.mount('/f2', '/f', null, MS_BIND, null);
      sys.mount('/d', '/m', null, MS_BIND, null);
      sys.addDevice('/null', 'char', 1, 3).mount('/null', '/f2', null, MS_BIND, null);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/m', '/mf', '/f', '/m', '/f2']);
    });

    it.each<[string, string, bigint, string]>([
      ['MS_REMOUNT of a directory no mount is on', '/d', MS_REMOUNT | MS_RDONLY, 'EINVAL'],
      ['MS_REMOUNT|MS_BIND of a directory no mount is on', '/d', MS_REMOUNT | MS_BIND | MS_RDONLY, 'EINVAL'],
      ['MS_REMOUNT|MS_BIND of a file no mount is on', '/f', MS_REMOUNT | MS_BIND | MS_RDONLY, 'EINVAL'],
      ['MS_REMOUNT|MS_BIND of a missing path', '/nope', MS_REMOUNT | MS_BIND, 'ENOENT'],
      ['MS_PRIVATE of a directory no mount is on', '/d', MS_PRIVATE, 'EINVAL'],
      ['MS_SLAVE|MS_REC of a directory no mount is on', '/d', MS_SLAVE | MS_REC, 'EINVAL'],
      ['MS_SHARED of a missing path', '/nope', MS_SHARED, 'ENOENT'],
      ['MS_PRIVATE|MS_SHARED of a mount', '/m', MS_PRIVATE | MS_SHARED, 'EINVAL'],
      ['MS_UNBINDABLE|MS_SLAVE|MS_REC of a mount', '/m', MS_UNBINDABLE | MS_SLAVE | MS_REC, 'EINVAL'],
      ['MS_PRIVATE|MS_RDONLY of a mount', '/m', MS_PRIVATE | MS_RDONLY, 'EINVAL'],
      ['MS_PRIVATE|MS_NOSUID of a mount', '/m', MS_PRIVATE | MS_NOSUID, 'EINVAL'],
      ['MS_PRIVATE|MS_MOVE of a mount', '/m', MS_PRIVATE | MS_MOVE, 'EINVAL'],
    ])('%s: %s, as the kernel answers', (_, target, flags, code) => {
      const sys = kinds();
      unchanged(sys, () => sys.mount(null, target, null, flags, null), code);
    });

    it('remounts and propagation changes of the root of a mount (a file\'s too, the model\'s /, one addMountpoint named) are made; MS_REC and MS_SILENT go with a propagation type', () => {
      const sys = kinds().addDir('/host/proc').addMountpoint('/host/proc');
      sys.mount(null, '/m', null, MS_REMOUNT | MS_RDONLY, null);
      sys.mount(null, '/mf', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
      sys.mount(null, '/', null, MS_SLAVE | MS_REC, null);
      sys.mount(null, '/m', null, MS_PRIVATE | MS_REC | MS_SILENT, null);
      sys.mount(null, '/host/proc', null, MS_SLAVE | MS_REC, null);
      sys.mount(null, `/proc/thread-self/fd/${sys.open('/m', O_PATH, 0)}`, null, MS_SHARED, null);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/m', '/mf']);
    });

    it.each<[string, (sys: FakeSyscalls) => unknown, string]>([
      ['a directory no mount is on', (sys) => sys.mountSetattr(AT_FDCWD, '/d', 0, MOUNT_ATTR_NOSUID, 0n, 0n), 'EINVAL'],
      ['a directory no mount is on, recursively', (sys) => sys.mountSetattr(AT_FDCWD, '/d', AT_RECURSIVE, 0n, 0n, MS_PRIVATE), 'EINVAL'],
      ['a descriptor of a directory no mount is on', (sys) => sys.mountSetattr(sys.open('/d', O_PATH, 0), '', AT_EMPTY_PATH, MOUNT_ATTR_NOSUID, 0n, 0n), 'EINVAL'],
      ['an empty path without AT_EMPTY_PATH', (sys) => sys.mountSetattr(sys.open('/m', O_PATH, 0), '', 0, MOUNT_ATTR_NOSUID, 0n, 0n), 'ENOENT'],
      ['a missing path', (sys) => sys.mountSetattr(AT_FDCWD, '/nope', 0, MOUNT_ATTR_NOSUID, 0n, 0n), 'ENOENT'],
      ['two propagation types', (sys) => sys.mountSetattr(AT_FDCWD, '/m', 0, 0n, 0n, MS_PRIVATE | MS_SHARED), 'EINVAL'],
      ['MS_REC as propagation (AT_RECURSIVE says it)', (sys) => sys.mountSetattr(AT_FDCWD, '/m', 0, 0n, 0n, MS_PRIVATE | MS_REC), 'EINVAL'],
      ['an unknown flag', (sys) => sys.mountSetattr(AT_FDCWD, '/m', 0x1, MOUNT_ATTR_NOSUID, 0n, 0n), 'EINVAL'],
      // build_mount_kattr() before the lookup (checked on Linux 6.18): EINVAL for a missing path too.
      ['an unknown attribute', (sys) => sys.mountSetattr(AT_FDCWD, '/nope', 0, 0x1000n, 0n, 0n), 'EINVAL'],
      ['an atime mode set without MOUNT_ATTR__ATIME cleared', (sys) => sys.mountSetattr(AT_FDCWD, '/nope', 0, MOUNT_ATTR_NOATIME, 0n, 0n), 'EINVAL'],
      ['part of MOUNT_ATTR__ATIME cleared', (sys) => sys.mountSetattr(AT_FDCWD, '/nope', 0, 0n, MOUNT_ATTR_NOATIME, 0n), 'EINVAL'],
    ])('mount_setattr of %s: %s, as the kernel answers', (_, call, code) => {
      const sys = kinds();
      const mounts = structuredClone(sys.mounts);
      expect(errorOf(() => call(sys))).toMatchObject({ syscall: 'mount_setattr', code });
      expect(sys.mounts).toEqual(mounts);
    });

    it('mount_setattr with nothing to change succeeds before any lookup; of the root of a mount, it is made', () => {
      const sys = kinds();
      sys.mountSetattr(AT_FDCWD, '/nope', 0, 0n, 0n, 0n);
      sys.mountSetattr(AT_FDCWD, '', 0, 0n, 0n, 0n);
      sys.mountSetattr(AT_FDCWD, '/m', AT_RECURSIVE, MOUNT_ATTR_NOSUID, 0n, MS_PRIVATE);
      sys.mountSetattr(sys.open('/mf', O_PATH, 0), '', AT_EMPTY_PATH, 0n, MOUNT_ATTR_NOSUID, 0n);
      expect(sys.callsOf('mountSetattr')).toHaveLength(4);
    });

    /** A tmpfs at /m with a tmpfs at /m/sub on it, a bind of /f2 at /mf, and a directory /d nothing is mounted on. */
    const nested = (): FakeSyscalls => {
      const sys = new FakeSyscalls().addDir('/m/sub').addDir('/d/e').addFile('/mf').addFile('/f2').addFile('/d/f');
      sys.mount('tmpfs', '/m', 'tmpfs', 0n, null);
      sys.mount('tmpfs', '/m/sub', 'tmpfs', 0n, null);
      sys.mount('/f2', '/mf', null, MS_BIND, null);
      return sys.clearCalls();
    };

    it.each<[string, (sys: FakeSyscalls) => unknown, string]>([
      ['umount2 of a mount with a mount on it', (sys) => sys.umount2('/m', 0), 'EBUSY'],
      ['umount2 of a mount with a mount on it, MNT_FORCE', (sys) => sys.umount2('/m', MNT_FORCE), 'EBUSY'],
      ['umount2 MNT_EXPIRE|MNT_DETACH', (sys) => sys.umount2('/m/sub', MNT_EXPIRE | MNT_DETACH), 'EINVAL'],
      ['umount2 MNT_EXPIRE|MNT_FORCE', (sys) => sys.umount2('/m/sub', MNT_EXPIRE | MNT_FORCE), 'EINVAL'],
      ['umount2 with an unknown flag', (sys) => sys.umount2('/m/sub', 0x100), 'EINVAL'],
      ['umount2 of a directory nothing is mounted on', (sys) => sys.umount2('/d', 0), 'EINVAL'],
      ['umount2 of a missing path', (sys) => sys.umount2('/nope', MNT_DETACH), 'ENOENT'],
      ['MS_MOVE of a directory nothing is mounted on', (sys) => sys.mount('/d', '/m/sub', null, MS_MOVE, null), 'EINVAL'],
      ['MS_MOVE of a missing path', (sys) => sys.mount('/nope', '/d', null, MS_MOVE, null), 'ENOENT'],
      ['MS_MOVE without a source', (sys) => sys.mount(null, '/d', null, MS_MOVE, null), 'EINVAL'],
      ['MS_BIND without a source', (sys) => sys.mount('', '/d', null, MS_BIND, null), 'EINVAL'],
      ['move_mount of a directory nothing is mounted on', (sys) => sys.moveMount(AT_FDCWD, '/d', AT_FDCWD, '/m/sub', 0), 'EINVAL'],
      // do_move_mount()'s checks (fs/namespace.c), each checked on Linux 6.18 (fake-vs-kernel.test.ts).
      ['MS_MOVE of a directory\'s mount onto a file', (sys) => sys.mount('/m/sub', '/d/f', null, MS_MOVE, null), 'EINVAL'],
      ['MS_MOVE of a file\'s mount onto a directory', (sys) => sys.mount('/mf', '/d/e', null, MS_MOVE, null), 'EINVAL'],
      ['move_mount of a file\'s mount onto a directory', (sys) => sys.moveMount(AT_FDCWD, '/mf', AT_FDCWD, '/d/e', 0), 'EINVAL'],
      ['MS_MOVE of a mount onto itself', (sys) => sys.mount('/m/sub', '/m/sub', null, MS_MOVE, null), 'ELOOP'],
      ['MS_MOVE of a mount below itself', (sys) => sys.mount('/m', '/m/sub', null, MS_MOVE, null), 'ELOOP'],
      ['move_mount of a mount below itself', (sys) => sys.moveMount(AT_FDCWD, '/m', AT_FDCWD, '/m/sub', 0), 'ELOOP'],
      [
        'MS_MOVE of a mount whose parent is shared',
        (sys) => {
          sys.mount(null, '/m', null, MS_SHARED, null);
          sys.mount('/m/sub', '/d', null, MS_MOVE, null);
        },
        'EINVAL',
      ],
      [
        'MS_BIND of an unbindable mount',
        (sys) => {
          sys.mount(null, '/m/sub', null, MS_UNBINDABLE, null);
          sys.mount('/m/sub', '/d', null, MS_BIND, null);
        },
        'EINVAL',
      ],
      [
        'MS_BIND|MS_REC of a directory on an unbindable mount, onto a file',
        (sys) => {
          sys.mount(null, '/', null, MS_UNBINDABLE, null);
          sys.mount('/d/e', '/mf', null, MS_BIND | MS_REC, null);
        },
        'EINVAL',
      ],
      [
        'open_tree OPEN_TREE_CLONE of an unbindable mount',
        (sys) => {
          sys.mount(null, '/m', null, MS_UNBINDABLE, null);
          sys.openTree(AT_FDCWD, '/m', OPEN_TREE_CLONE);
        },
        'EINVAL',
      ],
      ['rmdir of a mountpoint', (sys) => sys.rmdir('/m/sub'), 'EBUSY'],
      ['rmdir of /', (sys) => sys.rmdir('/'), 'EBUSY'],
      ['unlink of a file a bind is on', (sys) => sys.unlink('/mf'), 'EBUSY'],
      ['unlinkat of a file a bind is on', (sys) => sys.unlinkat(AT_FDCWD, '/mf', 0), 'EBUSY'],
      ['unlinkat AT_REMOVEDIR of a mountpoint', (sys) => sys.unlinkat(AT_FDCWD, '/m/sub', AT_REMOVEDIR), 'EBUSY'],
      ['rmdir of dir/.', (sys) => sys.rmdir('/d/e/.'), 'EINVAL'],
      ['unlinkat AT_REMOVEDIR of dir/.', (sys) => sys.unlinkat(AT_FDCWD, '/d/e/.', AT_REMOVEDIR), 'EINVAL'],
      ['rmdir of dir/..', (sys) => sys.rmdir('/d/e/..'), 'ENOTEMPTY'],
      ['rmdir of missing/.', (sys) => sys.rmdir('/nope/.'), 'ENOENT'],
      ['unlink of dir/.', (sys) => sys.unlink('/d/e/.'), 'EISDIR'],
      ['unlink of /', (sys) => sys.unlink('/'), 'EISDIR'],
    ])('%s: %s, as the kernel answers, and nothing changes', (_, call, code) => {
      const sys = nested();
      const mounts = structuredClone(sys.mounts);
      expect(caught(() => call(sys)).code).toBe(code);
      expect(sys.mounts).toEqual(mounts);
      expect(sys.readdir('/d')).toEqual(['e', 'f']);
      expect(sys.readdir('/d/e')).toEqual([]);
      expect(sys.node('/mf')?.kind).toBe('file');
      expect(sys.node('/m/sub')?.kind).toBe('dir');
    });

    it('umount2 MNT_DETACH takes the mounts on the mount along; then the mountpoints can be removed, and are no mounts\' roots', () => {
      const sys = nested();
      sys.mount('tmpfs', '/d', 'tmpfs', 0n, null);
      sys.umount2('/m', MNT_DETACH);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/mf', '/d']);
      expect(caught(() => sys.umount2('/m/sub', 0)).code).toBe('EINVAL');
      expect(caught(() => sys.mount(null, '/m', null, MS_PRIVATE, null)).code).toBe('EINVAL');
      sys.rmdir('/m/sub');
      sys.umount2('/mf', 0);
      sys.unlink('/mf');
      expect(sys.readdir('/')).toEqual(['d', 'f2', 'm']);
    });

    it('MS_MOVE of a file\'s mount onto a file, and of a directory\'s below a shared mount, which makes the moved mounts shared: made', () => {
      // The model shows no mount's tree at its new place: /d/e/sub is where /m/sub goes.
      const sys = nested().addFile('/d/g').addDir('/d/e/sub');
      sys.mount('/mf', '/d/g', null, MS_MOVE, null);
      sys.mount('tmpfs', '/d', 'tmpfs', 0n, null);
      sys.mount(null, '/d', null, MS_SHARED, null);
      sys.mount('/m', '/d/e', null, MS_MOVE, null);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/d/e', '/d/e/sub', '/d/g', '/d']);
      // Shared, /d/e/sub cannot be moved from it, nor an unbindable mount below a shared one.
      expect(caught(() => sys.mount('/d/e/sub', '/m', null, MS_MOVE, null)).code).toBe('EINVAL');
      sys.mount(null, '/d/e', null, MS_PRIVATE, null);
      sys.mount(null, '/d/e/sub', null, MS_UNBINDABLE, null);
      sys.mount('/d/e/sub', '/m', null, MS_MOVE, null);
      sys.mount(null, '/d', null, MS_PRIVATE, null);
      sys.mount('/m', '/d/e/sub', null, MS_MOVE, null);
      sys.mount(null, '/d/e', null, MS_SHARED, null);
      sys.mount(null, '/d/e/sub', null, MS_PRIVATE, null);
      sys.mount(null, '/d/e/sub', null, MS_UNBINDABLE, null);
      sys.mount('tmpfs', '/m', 'tmpfs', 0n, null);
      expect(errorOf(() => sys.mount('/d/e/sub', '/m', null, MS_MOVE, null))).toEqual({ syscall: 'mount', code: 'EINVAL', paths: ['/d/e/sub', '/m'] });
    });

    it('MS_BIND|MS_REC takes the mounts below the source along, each with its own flags and superblock, but an unbindable one and those on it; MS_BIND alone takes none', () => {
      const sys = new FakeSyscalls().addDir('/s/a').addDir('/s/b/in').addDir('/s/c/on').addDir('/t/a').addDir('/t/b/in').addDir('/t/c/on').addDir('/u');
      sys.refuseReadOnlyWrites = true;
      sys.mount('tmpfs', '/s', 'tmpfs', 0n, null);
      sys.mount('tmpfs', '/s/a', 'tmpfs', MS_RDONLY, null);
      sys.mount('tmpfs', '/s/b', 'tmpfs', 0n, null);
      sys.mount('tmpfs', '/s/b/in', 'tmpfs', 0n, 'size=1m');
      sys.mount(null, '/s/b', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
      sys.mount('tmpfs', '/s/c', 'tmpfs', 0n, null);
      sys.mount(null, '/s/c', null, MS_UNBINDABLE, null);
      sys.mount('tmpfs', '/s/c/on', 'tmpfs', 0n, null);
      sys.mount('/s', '/t', null, MS_BIND | MS_REC, null);
      sys.mount('/s', '/u', null, MS_BIND, null);
      expect(sys.mounts.slice(6)).toEqual([
        { source: '/s', target: '/t', fstype: null, flags: MS_BIND | MS_REC, data: null },
        { source: 'tmpfs', target: '/t/a', fstype: 'tmpfs', flags: MS_RDONLY, data: null },
        { source: 'tmpfs', target: '/t/b', fstype: 'tmpfs', flags: 0n, data: null },
        { source: 'tmpfs', target: '/t/b/in', fstype: 'tmpfs', flags: 0n, data: 'size=1m' },
        { source: '/s', target: '/u', fstype: null, flags: MS_BIND, data: null },
      ]);
      // Read-only by its superblock, by its own flag; writable; on /t's own mount where the unbindable one is left out.
      expect(caught(() => sys.mkdir('/t/a/x', 0o755)).code).toBe('EROFS');
      expect(caught(() => sys.mkdir('/t/b/x', 0o755)).code).toBe('EROFS');
      sys.mkdir('/t/b/in/x', 0o755);
      sys.mkdir('/t/c/x', 0o755);
      expect(sys.fstatfs(sys.open('/t/b/in', O_PATH, 0)).type).toBe(TMPFS_MAGIC);
      // The copies are mounts of their own: the copy of /s/b made writable leaves /s/b as it was.
      sys.mount(null, '/t/b', null, MS_REMOUNT | MS_BIND, null);
      sys.mkdir('/t/b/x', 0o755);
      expect(caught(() => sys.mkdir('/s/b/x2', 0o755)).code).toBe('EROFS');
      expect(errorOf(() => sys.umount2('/t', 0))).toEqual({ syscall: 'umount2', code: 'EBUSY', paths: ['/t'] });
      sys.umount2('/t', MNT_DETACH);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/s', '/s/a', '/s/b', '/s/b/in', '/s/c', '/s/c/on', '/u']);
      expect(caught(() => sys.umount2('/t/a', 0)).code).toBe('EINVAL');
    });

    it('a recursive copy (open_tree AT_RECURSIVE) takes the mounts below its source along when it is attached; one without AT_RECURSIVE none', () => {
      const sys = new FakeSyscalls().addDir('/s/a').addDir('/t/a').addDir('/u/a');
      sys.refuseReadOnlyWrites = true;
      sys.mount('tmpfs', '/s/a', 'tmpfs', MS_RDONLY, null);
      const recursive = sys.openTree(AT_FDCWD, '/s', OPEN_TREE_CLONE | AT_RECURSIVE);
      const alone = sys.openTree(AT_FDCWD, '/s', OPEN_TREE_CLONE);
      sys.moveMount(recursive, '', AT_FDCWD, '/t', MOVE_MOUNT_F_EMPTY_PATH);
      sys.moveMount(alone, '', AT_FDCWD, '/u', MOVE_MOUNT_F_EMPTY_PATH);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/s/a', '/t', '/t/a', '/u']);
      expect(caught(() => sys.mkdir('/t/a/x', 0o755)).code).toBe('EROFS');
      sys.mkdir('/u/a/x', 0o755);
    });

    it('open_tree_attr: one call, the copy made with the attributes (with AT_RECURSIVE, the mounts below it too), its source unchanged; refused attributes close the copy', () => {
      const sys = new FakeSyscalls().addDir('/s/a').addDir('/t/a').addDir('/u/a');
      sys.refuseReadOnlyWrites = true;
      sys.mount('tmpfs', '/s/a', 'tmpfs', 0n, null);
      const open = sys.openFds();
      expect(caught(() => sys.openTreeAttr(AT_FDCWD, '/s', OPEN_TREE_CLONE, MOUNT_ATTR_NOATIME, 0n, 0n))).toMatchObject({ syscall: 'open_tree_attr', code: 'EINVAL' });
      expect(sys.openFds()).toEqual(open);
      const all = sys.openTreeAttr(AT_FDCWD, '/s', OPEN_TREE_CLONE | AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0n, 0n);
      const top = sys.openTreeAttr(AT_FDCWD, '/s', OPEN_TREE_CLONE, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, 0n, 0n);
      expect(sys.calls.map((c) => c.op)).toEqual(['mount', 'openTreeAttr', 'openTreeAttr', 'openTreeAttr']);
      sys.moveMount(all, '', AT_FDCWD, '/t', MOVE_MOUNT_F_EMPTY_PATH);
      sys.moveMount(top, '', AT_FDCWD, '/u', MOVE_MOUNT_F_EMPTY_PATH);
      expect(caught(() => sys.mkdir('/t/a/x', 0o755)).code).toBe('EROFS');
      expect(caught(() => sys.mkdir('/u/x', 0o755)).code).toBe('EROFS');
      expect(sys.fstatfs(sys.open('/u', O_PATH, 0)).flags & ST_NOSUID).toBe(ST_NOSUID);
      sys.mkdir('/s/a/x', 0o755);
      sys.mkdir('/s/x', 0o755);
    });

    it('fstatMount: a descriptor keeps the mount on top at its path when it was opened; each mount has an id, the model\'s own filesystem 1', () => {
      const sys = new FakeSyscalls().addDir('/m/d').addFile('/f');
      const before = sys.open('/m', O_PATH, 0);
      const file = sys.open('/f', O_PATH, 0);
      const root = sys.open('/', O_PATH, 0);
      sys.mount('tmpfs', '/m', 'tmpfs', 0n, null);
      const after = sys.open('/m', O_PATH, 0);
      const below = sys.openat(after, 'd', O_PATH, 0);
      sys.mount('tmpfs', '/m', 'tmpfs', 0n, null);
      const top = sys.open('/m', O_PATH, 0);
      expect([before, file, root, after, below, top].map((fd) => sys.fstatMount(fd))).toEqual([
        { kind: 'dir', mntId: 1n, mountRoot: false },
        { kind: 'file', mntId: 1n, mountRoot: false },
        { kind: 'dir', mntId: 1n, mountRoot: true },
        { kind: 'dir', mntId: 2n, mountRoot: true },
        { kind: 'dir', mntId: 2n, mountRoot: false },
        { kind: 'dir', mntId: 3n, mountRoot: true },
      ]);
      expect(sys.calls.filter((c) => c.op === 'fstatMount')).toHaveLength(6);
      expect(errorOf(() => sys.fstatMount(999))).toMatchObject({ syscall: 'statx', code: 'EBADF' });
    });

    it('umount2 removes the last mount at that target, resolved through symlinks', () => {
      const sys = new FakeSyscalls().addDir('/m').addSymlink('/alias', '/m');
      sys.mount('tmpfs', '/m', 'tmpfs', 0n, 'size=1m');
      sys.mount('tmpfs', '/alias', 'tmpfs', 0n, 'size=2m');
      expect(sys.mounts.map((m) => m.target)).toEqual(['/m', '/m']);
      sys.umount2('/alias', 0);
      expect(sys.mounts).toEqual([{ source: 'tmpfs', target: '/m', fstype: 'tmpfs', flags: 0n, data: 'size=1m' }]);
    });

    it('chroot, chdir, unshare, setns, and mount_setattr with nothing to change succeed and change nothing', () => {
      const sys = new FakeSyscalls().addDir('/y');
      sys.chroot('/y');
      sys.chdir('/y');
      sys.unshare(0);
      sys.setns(3, 0);
      sys.mountSetattr(AT_FDCWD, '/w', 0, 0n, 0n, 0n);
      expect(sys.effects()).toHaveLength(5);
      expect(sys.readdir('/')).toEqual(['y']);
    });

    it('relative paths start at the current directory chdir or fchdir made, / before any; fchdir of what is not a directory is ENOTDIR', () => {
      const sys = new FakeSyscalls().addDir('/a/b').addFile('/a/f', 'x');
      sys.mkdir('top', 0o755);
      sys.chdir('/a');
      sys.mkdir('c', 0o755);
      sys.mkdirat(AT_FDCWD, 'd', 0o755);
      expect(sys.pathOf(sys.open('f', O_RDONLY, 0))).toBe('/a/f');
      sys.fchdir(sys.open('/a/b', O_PATH | O_DIRECTORY, 0));
      sys.writeFile('g', 'y');
      sys.symlink('../f', 'l');
      expect(sys.readFile('l')).toBe('x');
      expect(errorOf(() => sys.mkdir('../c', 0o755))).toEqual({ syscall: 'mkdir', code: 'EEXIST', paths: ['../c'] });
      expect(errorOf(() => sys.fchdir(sys.open('/a/f', O_RDONLY, 0)))).toEqual({ syscall: 'fchdir', code: 'ENOTDIR', paths: [] });
      expect(['/top', '/a/c', '/a/d', '/a/b/g', '/a/b/l'].map((p) => sys.node(p)?.kind)).toEqual(['dir', 'dir', 'dir', 'file', 'symlink']);
    });

    /** /new, a mount with a directory and a file in it; /plain, a directory on the mount of /; /m, another mount with a directory. */
    const pivoting = (): FakeSyscalls => {
      const sys = new FakeSyscalls().addDir('/new/old').addFile('/new/file').addDir('/plain/old').addDir('/m/d').addFile('/f');
      sys.mount('/new', '/new', null, MS_BIND, null);
      sys.mount('tmpfs', '/m', 'tmpfs', 0n, null);
      return sys.clearCalls();
    };
    it.each<[string, string, string, string]>([
      ['a missing new_root', '/nope', '/nope/old', 'ENOENT'],
      ['a missing put_old', '/new', '/new/nope', 'ENOENT'],
      ['a file as new_root', '/f', '/f', 'ENOTDIR'],
      ['a file as put_old', '/new', '/new/file', 'ENOTDIR'],
      ['new_root on the mount of the current root', '/plain', '/plain/old', 'EBUSY'],
      ['new_root the current root', '/', '/new/old', 'EBUSY'],
      ['put_old on the mount of the current root', '/new', '/plain/old', 'EBUSY'],
      ['new_root a directory of another mount, not its root', '/m/d', '/m/d', 'EINVAL'],
      ['put_old not at or below new_root', '/new', '/m/d', 'EINVAL'],
    ])('pivot_root with %s: %s, as the kernel answers', (_, newRoot, putOld, code) => {
      const sys = pivoting();
      expect(errorOf(() => sys.pivotRoot(newRoot, putOld))).toEqual({ syscall: 'pivot_root', code, paths: [newRoot, putOld] });
    });

    it('pivot_root into the root of a mount, put_old at or below it, is made; relative paths start at the current directory chdir or fchdir made', () => {
      const sys = pivoting();
      sys.pivotRoot('/new', '/new/old');
      sys.pivotRoot('/new', '/new');
      sys.chdir('/new');
      // runc's pivot_root(".", "."): both the current directory.
      sys.pivotRoot('.', '.');
      sys.pivotRoot('.', 'old');
      sys.fchdir(sys.open('/new/old', O_DIRECTORY, 0));
      sys.pivotRoot('..', '.');
      expect(sys.callsOf('pivotRoot')).toHaveLength(5);
    });

    it.each<[string, string, (sys: FakeSyscalls) => void, string, string]>([
      ['"." before any chdir: the model\'s /', 'EBUSY', () => undefined, '.', '.'],
      ['"." in a directory on the mount of the current root', 'EBUSY', (sys) => sys.chdir('/plain'), '.', '.'],
      ['"." in a directory of another mount, not its root', 'EINVAL', (sys) => sys.chdir('/m/d'), '.', '.'],
      ['a put_old missing below "."', 'ENOENT', (sys) => sys.chdir('/new'), '.', 'nope'],
      ['a put_old file below "."', 'ENOTDIR', (sys) => sys.fchdir(sys.open('/new', O_PATH | O_DIRECTORY, 0)), '.', 'file'],
      ['put_old ".." of new_root', 'EBUSY', (sys) => sys.chdir('/new/old'), '..', '../..'],
    ])('pivot_root with relative paths, %s: %s, named as given', (_, code, cd, newRoot, putOld) => {
      const sys = pivoting();
      cd(sys);
      expect(errorOf(() => sys.pivotRoot(newRoot, putOld))).toEqual({ syscall: 'pivot_root', code, paths: [newRoot, putOld] });
    });

    it('chdir and chroot of a path that is missing are ENOENT, of one that is no directory ENOTDIR, as the kernel answers; the current directory stays', () => {
      const sys = pivoting().addSymlink('/to-file', '/f').addSymlink('/dangling', '/nope').addSymlink('/to-dir', '/new');
      sys.chdir('/plain');
      for (const op of ['chdir', 'chroot'] as const) {
        expect(errorOf(() => sys[op]('/nope'))).toEqual({ syscall: op, code: 'ENOENT', paths: ['/nope'] });
        expect(errorOf(() => sys[op]('/nope/deeper'))).toEqual({ syscall: op, code: 'ENOENT', paths: ['/nope/deeper'] });
        expect(errorOf(() => sys[op]('/dangling'))).toEqual({ syscall: op, code: 'ENOENT', paths: ['/dangling'] });
        expect(errorOf(() => sys[op]('/f'))).toEqual({ syscall: op, code: 'ENOTDIR', paths: ['/f'] });
        expect(errorOf(() => sys[op]('/to-file'))).toEqual({ syscall: op, code: 'ENOTDIR', paths: ['/to-file'] });
        expect(errorOf(() => sys[op]('/f/x'))).toEqual({ syscall: op, code: 'ENOTDIR', paths: ['/f/x'] });
        expect(errorOf(() => sys[op]('missing'))).toEqual({ syscall: op, code: 'ENOENT', paths: ['missing'] });
      }
      sys.mkdir('made', 0o755);
      expect(sys.node('/plain/made')?.kind).toBe('dir');
      sys.chdir('/to-dir');
      sys.chroot('.');
      sys.mkdir('made', 0o755);
      expect(sys.node('/new/made')?.kind).toBe('dir');
      expect(sys.callsOf('chdir').map((c) => c.path)).toEqual(['/plain', '/nope', '/nope/deeper', '/dangling', '/f', '/to-file', '/f/x', 'missing', '/to-dir']);
    });

    it('after an fchdir to a standard stream, which the model holds no directory for, relative paths start at / and pivot_root does not check them', () => {
      const sys = pivoting();
      sys.chdir('/new');
      sys.fchdir(0);
      sys.pivotRoot('.', '.');
      sys.mkdir('made', 0o755);
      expect(sys.node('/made')?.kind).toBe('dir');
      sys.chdir('/new');
      sys.mkdir('made', 0o755);
      expect(sys.node('/new/made')?.kind).toBe('dir');
    });

    it.each<[string, string, string, string, (sys: FakeSyscalls) => void]>([
      ['the parent of new_root\'s mount shared', 'EINVAL', '/new', '/new', (sys) => sys.mount(null, '/', null, MS_SHARED, null)],
      ['new_root\'s mount shared, put_old on it', 'EINVAL', '/new', '/new/old', (sys) => sys.mount(null, '/new', null, MS_SHARED, null)],
      [
        'new_root\'s mount shared, put_old a private mount below it',
        'made',
        '/new',
        '/new/old',
        (sys) => {
          sys.mount(null, '/new', null, MS_SHARED, null);
          sys.mount('tmpfs', '/new/old', 'tmpfs', 0n, null);
          // Mounted below a shared mount, it is shared too, until made private.
          sys.mount(null, '/new/old', null, MS_PRIVATE, null);
        },
      ],
      [
        'put_old a shared mount below new_root',
        'EINVAL',
        '/new',
        '/new/old',
        (sys) => {
          sys.mount('tmpfs', '/new/old', 'tmpfs', 0n, null);
          sys.mount(null, '/new/old', null, MS_SHARED, null);
        },
      ],
      [
        'put_old a mount made below a shared new_root, which is shared too',
        'EINVAL',
        '/new',
        '/new/old',
        (sys) => {
          sys.mount(null, '/new', null, MS_SHARED, null);
          sys.mount('tmpfs', '/new/old', 'tmpfs', 0n, null);
        },
      ],
      [
        'the parent made a slave after shared (what prepare-root does to /)',
        'made',
        '/new',
        '/new',
        (sys) => {
          sys.mount(null, '/', null, MS_SHARED | MS_REC, null);
          sys.mount(null, '/', null, MS_SLAVE | MS_REC, null);
        },
      ],
      [
        'new_root a bind made below a shared mount, which is shared too, put_old on it',
        'EINVAL',
        '/m/d',
        '/m/d',
        (sys) => {
          sys.mount(null, '/m', null, MS_SHARED, null);
          sys.mount('/new', '/m/d', null, MS_BIND, null);
          sys.mount(null, '/m', null, MS_PRIVATE, null);
        },
      ],
      ['the parent of new_root\'s mount unbindable', 'made', '/new', '/new', (sys) => sys.mount(null, '/', null, MS_UNBINDABLE, null)],
    ])('pivot_root with %s: %s, as the kernel answers (checked on Linux 6.18, fake-vs-kernel.test.ts)', (_, code, newRoot, putOld, before) => {
      const sys = pivoting();
      before(sys);
      if (code === 'made') sys.pivotRoot(newRoot, putOld);
      else expect(errorOf(() => sys.pivotRoot(newRoot, putOld))).toEqual({ syscall: 'pivot_root', code, paths: [newRoot, putOld] });
    });
  });

  describe('read-only mounts (refuseReadOnlyWrites)', () => {
    /** A model refusing changes below read-only mounts, with /ro and /rw to mount on. */
    function refusing(): FakeSyscalls {
      const sys = new FakeSyscalls().addDir('/ro/sub').addFile('/ro/file', 'x').addDevice('/ro/null', 'char', 1, 3).addDir('/rw').addDir('/src');
      sys.refuseReadOnlyWrites = true;
      return sys;
    }

    it('a filesystem mounted MS_RDONLY: a change below it is EROFS, after EEXIST and ENOENT of the path; reading, and writing a device, are not changes', () => {
      const sys = refusing();
      sys.mount('tmpfs', '/ro', 'tmpfs', MS_RDONLY, null);
      sys.clearCalls();
      expect(errorOf(() => sys.mkdir('/ro/new', 0o755))).toEqual({ syscall: 'mkdir', code: 'EROFS', paths: ['/ro/new'] });
      expect(caught(() => sys.mkdir('/ro/sub', 0o755)).code).toBe('EEXIST');
      expect(caught(() => sys.mkdir('/ro/missing/new', 0o755)).code).toBe('ENOENT');
      expect(caught(() => sys.open('/ro/created', O_WRONLY | O_CREAT, 0o644)).code).toBe('EROFS');
      expect(caught(() => sys.open('/ro/file', O_WRONLY, 0)).code).toBe('EROFS');
      expect(caught(() => sys.open('/ro/file', O_RDONLY | O_TRUNC, 0)).code).toBe('EROFS');
      expect(caught(() => sys.writeFile('/ro/file', 'y')).code).toBe('EROFS');
      expect(caught(() => sys.symlink('/x', '/ro/link')).code).toBe('EROFS');
      expect(caught(() => sys.mknod('/ro/node', S_IFCHR | 0o666, makedev(1, 3))).code).toBe('EROFS');
      expect(caught(() => sys.chmod('/ro/file', 0o600)).code).toBe('EROFS');
      expect(caught(() => sys.chown('/ro/file', 1, 1)).code).toBe('EROFS');
      expect(caught(() => sys.lsetxattr('/ro/file', 'user.x', 'y')).code).toBe('EROFS');
      // The parent's mount is checked before the name is looked up (do_unlinkat).
      expect(caught(() => sys.unlink('/ro/missing')).code).toBe('EROFS');
      expect(caught(() => sys.rmdir('/ro/sub')).code).toBe('EROFS');
      expect(sys.readFile('/ro/file')).toBe('x');
      expect(sys.open('/ro/file', O_RDONLY | O_CREAT, 0o644)).toBeGreaterThan(0);
      expect(sys.open('/ro/null', O_RDWR, 0)).toBeGreaterThan(0);
      sys.writeFile('/ro/null', 'dropped');
      expect(sys.calls.map((c) => c.op)).toEqual(['mkdir', 'mkdir', 'mkdir', 'open', 'open', 'open', 'writeFile', 'symlink', 'mknod', 'chmod', 'chown', 'lsetxattr', 'unlink', 'rmdir', 'readFile', 'open', 'open', 'writeFile']);
      expect(sys.node('/ro/file')?.content).toBe('x');
      // Off (the default), nothing is refused.
      const lenient = new FakeSyscalls().addDir('/ro');
      lenient.mount('tmpfs', '/ro', 'tmpfs', MS_RDONLY, null);
      lenient.mkdir('/ro/new', 0o755);
      expect(lenient.node('/ro/new')?.kind).toBe('dir');
    });

    it('a bind ignores MS_RDONLY and takes its source mount\'s flag; a remount sets it, a mount inside is its own, and umount2 shows the one below again', () => {
      const sys = refusing();
      sys.mount('/src', '/rw', null, MS_BIND | MS_RDONLY, null);
      sys.mkdir('/rw/made', 0o755);
      sys.mount(null, '/rw', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
      expect(caught(() => sys.mkdir('/rw/again', 0o755)).code).toBe('EROFS');
      // A mount inside the read-only one is writable, and a bind of the read-only one is read-only.
      sys.mount('tmpfs', '/rw/made', 'tmpfs', 0n, null);
      sys.mkdir('/rw/made/inside', 0o755);
      sys.mount('/rw', '/ro', null, MS_BIND, null);
      expect(caught(() => sys.writeFile('/ro/file', 'y')).code).toBe('EROFS');
      // A writable tmpfs on top at /ro, then gone: the read-only bind below again.
      sys.mount('tmpfs', '/ro', 'tmpfs', 0n, null);
      sys.writeFile('/ro/file', 'y');
      sys.umount2('/ro', 0);
      expect(caught(() => sys.writeFile('/ro/file', 'z')).code).toBe('EROFS');
      sys.mount(null, '/rw', null, MS_REMOUNT | MS_BIND, null);
      sys.mkdir('/rw/again', 0o755);
    });

    it('a remount without MS_BIND makes the superblock read-only: every bind of it refuses, a bind remount read-write of one does not lift it, a remount read-write without MS_BIND does, for the mounts whose own flag it clears (checked on Linux 6.18)', () => {
      const sys = refusing().addDir('/rw/a').addDir('/ro/b');
      sys.mount('tmpfs', '/src', 'tmpfs', 0n, null);
      sys.mount('/src', '/rw', null, MS_BIND, null);
      sys.mount(null, '/src', null, MS_REMOUNT | MS_RDONLY, null);
      expect(errorOf(() => sys.mkdir('/rw/a/x', 0o755))).toEqual({ syscall: 'mkdir', code: 'EROFS', paths: ['/rw/a/x'] });
      expect(caught(() => sys.mkdir('/src/x', 0o755)).code).toBe('EROFS');
      // A bind made after it, and a detached copy, are read-only by the superblock too.
      sys.mount('/rw', '/ro', null, MS_BIND, null);
      expect(caught(() => sys.writeFile('/ro/file', 'y')).code).toBe('EROFS');
      sys.mount(null, '/rw', null, MS_REMOUNT | MS_BIND, null);
      expect(caught(() => sys.mkdir('/rw/a/x', 0o755)).code).toBe('EROFS');
      // Without MS_BIND: the superblock and this mount's own flag read-write, /src's own flag still set.
      sys.mount(null, '/rw', null, MS_REMOUNT, null);
      sys.mkdir('/rw/a/x', 0o755);
      sys.writeFile('/ro/file', 'y');
      expect(caught(() => sys.mkdir('/src/x', 0o755)).code).toBe('EROFS');
      expect(sys.calls.filter((c) => c.op === 'mkdir').length).toBe(5);
    });

    it('a filesystem mounted MS_RDONLY is read-only by its superblock: a bind remount read-write, mount_setattr clearing MOUNT_ATTR_RDONLY and a bind with MS_RDONLY leave it so; a remount read-write without MS_BIND lifts it (checked on Linux 6.18)', () => {
      const sys = refusing();
      sys.mount('tmpfs', '/src', 'tmpfs', MS_RDONLY, null);
      sys.mount(null, '/src', null, MS_REMOUNT | MS_BIND, null);
      expect(caught(() => sys.mkdir('/src/x', 0o755)).code).toBe('EROFS');
      sys.mountSetattr(AT_FDCWD, '/src', 0, 0n, MOUNT_ATTR_RDONLY, 0n);
      expect(caught(() => sys.mkdir('/src/x', 0o755)).code).toBe('EROFS');
      const copy = sys.openTree(AT_FDCWD, '/src', OPEN_TREE_CLONE);
      sys.mountSetattr(copy, '', AT_EMPTY_PATH, 0n, MOUNT_ATTR_RDONLY, 0n);
      sys.moveMount(copy, '', AT_FDCWD, '/rw', MOVE_MOUNT_F_EMPTY_PATH);
      expect(caught(() => sys.mkdir('/rw/x', 0o755)).code).toBe('EROFS');
      sys.mount(null, '/src', null, MS_REMOUNT, null);
      sys.mkdir('/src/x', 0o755);
      sys.mkdir('/rw/y', 0o755);
      // MS_RDONLY on a bind is ignored (mount(2)): the bind of the writable filesystem is writable.
      sys.mount('/src', '/ro/sub', null, MS_BIND | MS_RDONLY, null);
      sys.mkdir('/ro/sub/z', 0o755);
    });

    it('fsconfig\'s "ro" flag makes the new filesystem\'s superblock read-only, MOUNT_ATTR_RDONLY the mount only', () => {
      const sys = refusing();
      const context = (ro: boolean): number => {
        const fd = sys.fsopen('tmpfs', FSOPEN_CLOEXEC);
        if (ro) sys.fsconfig(fd, FSCONFIG_SET_FLAG, 'ro', null, 0);
        sys.fsconfig(fd, FSCONFIG_CMD_CREATE, null, null, 0);
        return fd;
      };
      sys.moveMount(sys.fsmount(context(true), FSMOUNT_CLOEXEC, 0n), '', AT_FDCWD, '/rw', MOVE_MOUNT_F_EMPTY_PATH);
      sys.mountSetattr(AT_FDCWD, '/rw', 0, 0n, MOUNT_ATTR_RDONLY, 0n);
      expect(caught(() => sys.mkdir('/rw/x', 0o755)).code).toBe('EROFS');
      sys.moveMount(sys.fsmount(context(false), FSMOUNT_CLOEXEC, MOUNT_ATTR_RDONLY), '', AT_FDCWD, '/src', MOVE_MOUNT_F_EMPTY_PATH);
      expect(caught(() => sys.mkdir('/src/x', 0o755)).code).toBe('EROFS');
      sys.mountSetattr(AT_FDCWD, '/src', 0, 0n, MOUNT_ATTR_RDONLY, 0n);
      sys.mkdir('/src/x', 0o755);
    });

    it('making a mount read-only while a regular file is open for writing through it is EBUSY: a bind remount of that mount, mount_setattr, a remount of its superblock through any bind of it (checked on Linux 6.18)', () => {
      const sys = refusing();
      sys.mount('tmpfs', '/src', 'tmpfs', 0n, null);
      sys.mount('/src', '/rw', null, MS_BIND, null);
      sys.addFile('/src/f').addDevice('/src/null', 'char', 1, 3);
      const writing = sys.open('/src/f', O_WRONLY, 0);
      // Opened for reading, a device opened for writing, a file of another mount: no write access to this one.
      sys.open('/src/f', O_RDONLY, 0);
      sys.open('/src/null', O_RDWR, 0);
      sys.open('/ro/file', O_RDWR, 0);
      sys.clearCalls();
      expect(errorOf(() => sys.mount(null, '/src', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null))).toEqual({ syscall: 'mount', code: 'EBUSY', paths: ['/src'] });
      expect(caught(() => sys.mount(null, '/src', null, MS_REMOUNT | MS_RDONLY, null)).code).toBe('EBUSY');
      expect(caught(() => sys.mountSetattr(AT_FDCWD, '/src', 0, MOUNT_ATTR_RDONLY, 0n, 0n)).code).toBe('EBUSY');
      // The bind is another mount: its own flag can be set; not its superblock's, which /src's writer holds.
      sys.mount(null, '/rw', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
      expect(caught(() => sys.mount(null, '/rw', null, MS_REMOUNT | MS_RDONLY, null)).code).toBe('EBUSY');
      sys.close(writing);
      sys.mount(null, '/rw', null, MS_REMOUNT | MS_RDONLY, null);
      expect(caught(() => sys.open('/src/f', O_WRONLY, 0)).code).toBe('EROFS');
    });

    it('a directory bound onto itself takes the flag of the mount it was on: below a read-only one, the bind is read-only', () => {
      const sys = refusing();
      sys.mount('/src', '/rw', null, MS_BIND, null);
      sys.mkdir('/rw/sub', 0o755);
      sys.mount(null, '/rw', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
      sys.mount('/rw/sub', '/rw/sub', null, MS_BIND, null);
      expect(errorOf(() => sys.mkdir('/rw/sub/x', 0o755))).toEqual({ syscall: 'mkdir', code: 'EROFS', paths: ['/rw/sub/x'] });
      // Remounted without MS_RDONLY it is writable (the filesystem is), while the mount it was bound from is not.
      sys.mount(null, '/rw/sub', null, MS_REMOUNT | MS_BIND, null);
      sys.mkdir('/rw/sub/x', 0o755);
      expect(caught(() => sys.mkdir('/rw/y', 0o755)).code).toBe('EROFS');
    });

    it('mount_setattr MOUNT_ATTR_RDONLY, with AT_RECURSIVE on the mounts below too, and cleared again; MS_MOVE takes the flag along', () => {
      const sys = refusing();
      sys.mount('tmpfs', '/rw', 'tmpfs', 0n, null);
      sys.mkdir('/rw/sub', 0o755);
      sys.mount('tmpfs', '/rw/sub', 'tmpfs', 0n, null);
      const fd = sys.open('/rw', O_PATH | O_DIRECTORY, 0);
      sys.mountSetattr(fd, '', AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0n, 0n);
      expect(caught(() => sys.mkdir('/rw/x', 0o755)).code).toBe('EROFS');
      sys.mkdir('/rw/sub/x', 0o755);
      sys.mountSetattr(fd, '', AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0n, 0n);
      expect(caught(() => sys.mkdir('/rw/sub/y', 0o755)).code).toBe('EROFS');
      sys.mountSetattr(fd, '', AT_EMPTY_PATH | AT_RECURSIVE, 0n, MOUNT_ATTR_RDONLY, 0n);
      sys.mkdir('/rw/sub/y', 0o755);
      sys.mount('tmpfs', '/src', 'tmpfs', MS_RDONLY, null);
      sys.mount('/src', '/ro/sub', null, MS_MOVE, null);
      expect(caught(() => sys.mkdir('/ro/sub/x', 0o755)).code).toBe('EROFS');
      sys.mkdir('/src/x', 0o755);
    });

    it('a detached copy (open_tree) has its source mount\'s flag, which mount_setattr changes before it is attached; fchownat and copyFile are changes too', () => {
      const sys = refusing();
      // Read-only by the mount's own flag: a tmpfs mounted MS_RDONLY is read-only by its superblock too, which no copy clears.
      sys.mount('tmpfs', '/src', 'tmpfs', 0n, null);
      sys.mount(null, '/src', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
      const copy = sys.openTree(AT_FDCWD, '/src', OPEN_TREE_CLONE);
      sys.moveMount(copy, '', AT_FDCWD, '/rw', MOVE_MOUNT_F_EMPTY_PATH);
      expect(caught(() => sys.mkdir('/rw/x', 0o755)).code).toBe('EROFS');
      const writable = sys.openTree(AT_FDCWD, '/src', OPEN_TREE_CLONE);
      sys.mountSetattr(writable, '', AT_EMPTY_PATH, 0n, MOUNT_ATTR_RDONLY, 0n);
      sys.moveMount(writable, '', AT_FDCWD, '/ro/sub', MOVE_MOUNT_F_EMPTY_PATH);
      sys.mkdir('/ro/sub/x', 0o755);
      const readOnly = sys.openTree(AT_FDCWD, '/ro/sub', OPEN_TREE_CLONE);
      sys.mountSetattr(readOnly, '', AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0n, 0n);
      sys.moveMount(readOnly, '', AT_FDCWD, '/ro/sub/x', MOVE_MOUNT_F_EMPTY_PATH);
      expect(caught(() => sys.mkdir('/ro/sub/x/y', 0o755)).code).toBe('EROFS');
      const fd = sys.open('/src', O_PATH | O_DIRECTORY, 0);
      expect(caught(() => sys.fchownat(fd, '', 0, 0, AT_EMPTY_PATH)).code).toBe('EROFS');
      expect(caught(() => sys.fchownat(AT_FDCWD, '/src', 0, 0, 0)).code).toBe('EROFS');
      sys.addFile('/rw-file', 'x');
      expect(caught(() => sys.copyFile('/rw-file', '/src/copy')).code).toBe('EROFS');
    });
  });

  describe('open, openat, openat2, fstat', () => {
    it('fds start at 100; ENOENT without O_CREAT; O_CREAT creates with the umask', () => {
      const sys = new FakeSyscalls().addFile('/f', 'abc');
      expect(sys.open('/f', O_RDONLY, 0)).toBe(100);
      expect(errorOf(() => sys.open('/g', O_RDONLY, 0))).toEqual({ syscall: 'open', code: 'ENOENT', paths: ['/g'] });
      expect(sys.open('/g', O_WRONLY | O_CREAT, 0o666)).toBe(101);
      expect(sys.stat('/g')).toMatchObject({ kind: 'file', perm: 0o644 });
      expect(caught(() => sys.open('/g', O_CREAT | O_EXCL, 0o666)).code).toBe('EEXIST');
      expect(caught(() => sys.open('/f', O_DIRECTORY, 0)).code).toBe('ENOTDIR');
      expect(caught(() => sys.open('/', O_CREAT, 0o666)).code).toBe('EISDIR');
      expect(caught(() => sys.open('/no/g', O_CREAT, 0o666)).code).toBe('ENOENT');
      sys.open('/f', O_WRONLY | O_TRUNC, 0);
      expect(sys.readFile('/f')).toBe('');
    });

    describe('openat2 through a magic link: ELOOP with RESOLVE_NO_MAGICLINKS or RESOLVE_NO_SYMLINKS, as the kernel answers', () => {
      const magic = (): { sys: FakeSyscalls; fd: number } => {
        const sys = new FakeSyscalls().addFile('/etc/passwd').addDir('/d').addMagicLink('/proc/1/root', '/').addSymlink('/proc/self', '1').addSymlink('/evil', '/proc/self/root/etc');
        return { sys, fd: sys.open('/d', O_PATH, 0) };
      };
      it.each([
        ['a descriptor\'s /proc/self/fd/N', (fd: number) => `/proc/self/fd/${fd}`, RESOLVE_NO_MAGICLINKS],
        ['a descriptor\'s /proc/thread-self/fd/N', (fd: number) => `/proc/thread-self/fd/${fd}`, RESOLVE_NO_MAGICLINKS],
        ['below a descriptor\'s /proc/self/fd/N', (fd: number) => `/proc/self/fd/${fd}/.`, RESOLVE_NO_MAGICLINKS],
        ['a descriptor\'s /proc/self/fd/N, RESOLVE_NO_SYMLINKS', (fd: number) => `/proc/self/fd/${fd}`, RESOLVE_NO_SYMLINKS],
        ['/proc/PID/root', () => '/proc/1/root/etc/passwd', RESOLVE_NO_MAGICLINKS],
        ['/proc/self/root', () => '/proc/self/root/etc', RESOLVE_NO_MAGICLINKS],
        ['a symlink to /proc/self/root/etc', () => '/evil/passwd', RESOLVE_NO_MAGICLINKS],
        ['a symlink to /proc/self/root/etc, RESOLVE_IN_ROOT', () => '/evil/passwd', RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS],
      ])('%s', (_, path, resolve) => {
        const { sys, fd } = magic();
        const root = sys.open('/', O_PATH, 0);
        const before = sys.openFds();
        expect(errorOf(() => sys.openat2(root, path(fd), O_PATH, 0, resolve))).toMatchObject({ syscall: 'openat2', code: 'ELOOP' });
        expect(sys.openFds()).toEqual(before);
      });

      it('without it, the same lookups go through; /proc/self, an ordinary symlink, is followed with RESOLVE_NO_MAGICLINKS; the last component not followed (O_NOFOLLOW) is not refused', () => {
        const { sys, fd } = magic();
        expect(sys.pathOf(sys.openat2(AT_FDCWD, `/proc/self/fd/${fd}`, O_PATH, 0, 0n))).toBe('/d');
        expect(sys.pathOf(sys.openat2(AT_FDCWD, '/evil/passwd', O_RDONLY, 0, 0n))).toBe('/etc/passwd');
        expect(sys.pathOf(sys.openat2(AT_FDCWD, '/proc/self/root', O_PATH | O_NOFOLLOW, 0, RESOLVE_NO_MAGICLINKS))).toBe('/proc/1/root');
        expect(sys.pathOf(sys.openat2(AT_FDCWD, '/proc/self', O_PATH | O_DIRECTORY, 0, RESOLVE_NO_MAGICLINKS))).toBe('/proc/1');
      });
    });

    it.each<[string, number, number, bigint]>([
      ['a mode without O_CREAT', O_RDONLY, 0o644, 0n],
      ['a mode beyond 07777 with O_CREAT', O_CREAT | O_WRONLY, 0o100644, 0n],
      ['an unknown resolve bit', O_RDONLY, 0, 0x100n],
      ['RESOLVE_IN_ROOT with RESOLVE_BENEATH', O_RDONLY, 0, RESOLVE_IN_ROOT | RESOLVE_BENEATH],
      ['O_PATH|O_CREAT', O_PATH | O_CREAT, 0o644, 0n],
      ['O_PATH|O_CREAT, mode 0', O_PATH | O_CREAT, 0, 0n],
      ['O_PATH|O_RDWR', O_PATH | O_RDWR, 0, 0n],
    ])('openat2 with %s: EINVAL, as the kernel answers, and nothing is made', (_, flags, mode, resolve) => {
      const sys = new FakeSyscalls().addDir('/d');
      const dir = sys.open('/d', O_PATH, 0);
      expect(errorOf(() => sys.openat2(dir, 'new', flags, mode, resolve))).toEqual({ syscall: 'openat2', code: 'EINVAL', paths: ['new'] });
      expect(sys.readdir('/d')).toEqual([]);
      expect(sys.openFds()).toEqual([dir]);
    });

    it('open and openat with O_PATH ignore O_CREAT, as the kernel does: ENOENT, nothing made; openat2 takes O_PATH with O_DIRECTORY, O_NOFOLLOW and O_CLOEXEC', () => {
      const sys = new FakeSyscalls().addDir('/d');
      expect(caught(() => sys.open('/d/new', O_PATH | O_CREAT, 0o644)).code).toBe('ENOENT');
      expect(caught(() => sys.openat(AT_FDCWD, '/d/new', O_PATH | O_CREAT | O_EXCL, 0o644)).code).toBe('ENOENT');
      expect(sys.readdir('/d')).toEqual([]);
      expect(sys.pathOf(sys.openat2(AT_FDCWD, '/d', O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0, 0n))).toBe('/d');
    });

    it.each<[string, (sys: FakeSyscalls) => unknown, string]>([
      ['open of a file/', (sys) => sys.open('/f/', O_RDONLY, 0), 'ENOTDIR'],
      ['open O_PATH of a file/', (sys) => sys.open('/f/', O_PATH, 0), 'ENOTDIR'],
      ['openat2 of a file/.', (sys) => sys.openat2(AT_FDCWD, '/f/.', O_RDONLY, 0, 0n), 'ENOTDIR'],
      ['stat of a file/', (sys) => sys.stat('/f/'), 'ENOTDIR'],
      ['lstat of a symlink to a file/', (sys) => sys.lstat('/lf/'), 'ENOTDIR'],
      ['unlink of a file/', (sys) => sys.unlink('/f/'), 'ENOTDIR'],
      ['rmdir of a file/', (sys) => sys.rmdir('/f/'), 'ENOTDIR'],
      ['mount onto a file/', (sys) => sys.mount('tmpfs', '/f/', 'tmpfs', 0n, null), 'ENOTDIR'],
      ['open O_CREAT of missing/', (sys) => sys.open('/new/', O_CREAT | O_WRONLY, 0o644), 'EISDIR'],
      ['mknod of missing/', (sys) => sys.mknod('/new/', S_IFCHR | 0o666, makedev(1, 3)), 'ENOENT'],
      ['symlink at missing/', (sys) => sys.symlink('x', '/new/'), 'ENOENT'],
    ])('a trailing slash asks for a directory: %s is %s, as the kernel answers, and nothing changes', (_, call, code) => {
      const sys = new FakeSyscalls().addFile('/f', 'x').addSymlink('/lf', '/f').addDir('/d').addSymlink('/ld', '/d');
      expect(caught(() => call(sys)).code).toBe(code);
      expect(sys.readdir('/')).toEqual(['d', 'f', 'ld', 'lf']);
      expect(sys.mounts).toEqual([]);
    });

    it('a trailing slash on a directory or a symlink to one: found (lstat follows the symlink), made by mkdir', () => {
      const sys = new FakeSyscalls().addDir('/d').addSymlink('/ld', '/d');
      expect(sys.lstat('/ld/').kind).toBe('dir');
      expect(sys.pathOf(sys.open('/ld/', O_PATH, 0))).toBe('/d');
      sys.mkdir('/new/', 0o755);
      sys.rmdir('/new/');
      expect(sys.readdir('/')).toEqual(['d', 'ld']);
    });

    it('O_NOFOLLOW refuses a final symlink with ELOOP', () => {
      const sys = new FakeSyscalls().addFile('/f').addSymlink('/l', '/f');
      expect(caught(() => sys.open('/l', O_NOFOLLOW, 0)).code).toBe('ELOOP');
      expect(sys.open('/l', O_RDONLY, 0)).toBe(100);
    });

    it('close, dup3, setCloexec and fchdir refuse a descriptor the process does not have open with EBADF, as the kernel does: one never given, one closed (a second close); 0, 1 and 2 are open, and so is an inherited socket', () => {
      const sys = new FakeSyscalls().addDir('/d');
      const fd = sys.open('/d', O_RDONLY, 0);
      sys.setCloexec(fd);
      sys.fchdir(fd);
      sys.close(fd);
      expect(errorOf(() => sys.close(fd))).toEqual({ syscall: 'close', code: 'EBADF', paths: [] });
      expect(errorOf(() => sys.dup3(fd, 7, 0))).toEqual({ syscall: 'dup3', code: 'EBADF', paths: [] });
      expect(errorOf(() => sys.setCloexec(fd))).toEqual({ syscall: 'fcntl', code: 'EBADF', paths: [] });
      expect(errorOf(() => sys.fchdir(fd))).toEqual({ syscall: 'fchdir', code: 'EBADF', paths: [] });
      expect(errorOf(() => sys.close(9999))).toEqual({ syscall: 'close', code: 'EBADF', paths: [] });
      sys.setCloexec(2);
      sys.inheritSocket(3).setCloexec(3);
      expect(sys.pathOf(3)).toBe('socket:[inherited 3]');
      sys.close(3);
      expect(sys.openFds()).toEqual([]);
    });

    it('the standard streams are open until closed: a copy of one is open, a second close of one is EBADF, a dup3 onto one opens it again', () => {
      const sys = new FakeSyscalls();
      sys.dup3(1, 5, 0);
      sys.setCloexec(5);
      sys.close(5);
      sys.close(2);
      expect(errorOf(() => sys.close(2))).toEqual({ syscall: 'close', code: 'EBADF', paths: [] });
      expect(errorOf(() => sys.dup3(2, 6, 0))).toEqual({ syscall: 'dup3', code: 'EBADF', paths: [] });
      sys.dup3(0, 2, 0);
      sys.close(2);
      expect(sys.openFds()).toEqual([]);
    });

    it('sethostname and setdomainname refuse a name longer than 64 bytes with EINVAL, as the kernel does', () => {
      const sys = new FakeSyscalls();
      sys.sethostname('h'.repeat(64));
      sys.setdomainname('d'.repeat(64));
      expect(errorOf(() => sys.sethostname('h'.repeat(65)))).toEqual({ syscall: 'sethostname', code: 'EINVAL', paths: ['h'.repeat(65)] });
      expect(errorOf(() => sys.setdomainname('é'.repeat(33)))).toEqual({ syscall: 'setdomainname', code: 'EINVAL', paths: ['é'.repeat(33)] });
    });

    it('fstat returns the stat of the opened node; EBADF for an unknown fd', () => {
      const sys = new FakeSyscalls().addDevice('/dev/null', 'char', 1, 3).addSymlink('/null', '/dev/null');
      const fd = sys.open('/null', O_RDONLY, 0);
      expect(sys.fstat(fd)).toEqual(sys.stat('/dev/null'));
      expect(errorOf(() => sys.fstat(5))).toEqual({ syscall: 'fstat', code: 'EBADF', paths: [] });
      sys.dup3(fd, 0, 0);
      expect(sys.fstat(0).kind).toBe('char');
      sys.close(fd);
      expect(caught(() => sys.fstat(fd)).code).toBe('EBADF');
    });

    it('openat resolves relative paths from dirfd, absolute ones from /', () => {
      const sys = new FakeSyscalls().addFile('/rootfs/etc/passwd', 'root').addFile('/etc/passwd', 'host');
      const dir = sys.open('/rootfs', O_DIRECTORY, 0);
      expect(sys.fstat(sys.openat(dir, 'etc/passwd', O_RDONLY, 0)).ino).toBe(sys.stat('/rootfs/etc/passwd').ino);
      expect(sys.fstat(sys.openat(dir, '/etc/passwd', O_RDONLY, 0)).ino).toBe(sys.stat('/etc/passwd').ino);
      expect(sys.fstat(sys.openat(AT_FDCWD, 'etc/passwd', O_RDONLY, 0)).ino).toBe(sys.stat('/etc/passwd').ino);
      expect(caught(() => sys.openat(42, 'etc/passwd', O_RDONLY, 0)).code).toBe('EBADF');
    });

    it('openat2 RESOLVE_IN_ROOT keeps absolute links and .. inside dirfd', () => {
      const sys = new FakeSyscalls()
        .addFile('/rootfs/etc/passwd', 'root')
        .addFile('/etc/passwd', 'host')
        .addSymlink('/rootfs/escape', '/etc/passwd')
        .addSymlink('/rootfs/up', '../../../etc/passwd');
      const dir = sys.open('/rootfs', O_DIRECTORY, 0);
      const inRoot = sys.stat('/rootfs/etc/passwd').ino;
      for (const path of ['escape', 'up', '/etc/passwd', '../etc/passwd']) {
        expect(sys.fstat(sys.openat2(dir, path, O_RDONLY, 0, RESOLVE_IN_ROOT)).ino).toBe(inRoot);
      }
      expect(sys.fstat(sys.openat(dir, 'escape', O_RDONLY, 0)).ino).toBe(sys.stat('/etc/passwd').ino);
    });

    it('openat2 RESOLVE_NO_SYMLINKS: ELOOP for a symlink it would follow, the link itself with O_PATH|O_NOFOLLOW', () => {
      const sys = new FakeSyscalls().addFile('/rootfs/etc/passwd', 'root').addSymlink('/rootfs/etc/link', 'passwd').addSymlink('/rootfs/e', 'etc');
      const dir = sys.open('/rootfs', O_DIRECTORY, 0);
      const resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS;
      expect(sys.fstat(sys.openat2(dir, 'etc/../etc/passwd', O_RDONLY, 0, resolve)).ino).toBe(sys.stat('/rootfs/etc/passwd').ino);
      expect(caught(() => sys.openat2(dir, 'e/passwd', O_RDONLY, 0, resolve)).code).toBe('ELOOP');
      expect(caught(() => sys.openat2(dir, 'etc/link', O_PATH, 0, resolve)).code).toBe('ELOOP');
      expect(sys.fstat(sys.openat2(dir, 'etc/link', O_PATH | O_NOFOLLOW, 0, resolve)).kind).toBe('symlink');
      expect(caught(() => sys.openat2(dir, 'e/link', O_PATH | O_NOFOLLOW, 0, resolve)).code).toBe('ELOOP');
      // A missing component before any link answers as without the flag.
      expect(caught(() => sys.openat2(dir, 'none/e', O_PATH, 0, resolve)).code).toBe('ENOENT');
      // Without RESOLVE_IN_ROOT a magic link is one too.
      const fd = sys.open('/rootfs/etc', O_PATH, 0);
      expect(caught(() => sys.openat2(AT_FDCWD, `/proc/self/fd/${fd}/passwd`, O_PATH, 0, RESOLVE_NO_SYMLINKS)).code).toBe('ELOOP');
      expect(sys.openat2(AT_FDCWD, `/proc/self/fd/${fd}/passwd`, O_PATH, 0, 0n)).toBeGreaterThan(0);
    });
  });

  it('umask returns the previous mask, starting at 0o022', () => {
    const sys = new FakeSyscalls();
    expect(sys.umask(0o077)).toBe(0o022);
    expect(sys.umask(0o022)).toBe(0o077);
  });

  it('execve records and throws ExecveCalled with what would have run', () => {
    const sys = new FakeSyscalls();
    let thrown: unknown;
    try {
      sys.execve('/bin/sh', ['sh', '-c', 'true'], ['PATH=/bin']);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ExecveCalled);
    expect(thrown).toMatchObject({ path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin'] });
    expect(sys.effects()).toEqual([{ op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin'] }]);
  });

  it('an injected execve failure throws SyscallError instead', () => {
    const sys = new FakeSyscalls().failOn('execve', 'ENOENT');
    expect(errorOf(() => sys.execve('/bin/nope', [], []))).toEqual({
      syscall: 'execve',
      code: 'ENOENT',
      paths: ['/bin/nope'],
    });
  });

  it('runCommand returns the default result, or what a function computes', () => {
    const sys = new FakeSyscalls();
    const cmd = { path: '/bin/echo', args: ['echo', 'hi'], env: [], dir: '' };
    expect(sys.runCommand(cmd)).toEqual({ status: 0, signal: null, output: '' });
    sys.commandResult = (c) => ({ status: 1, signal: null, output: c.args.join(' ') });
    expect(sys.runCommand(cmd)).toEqual({ status: 1, signal: null, output: 'echo hi' });
  });
});

describe('FakeSyscalls descriptors: *at calls, magic links, fstatfs', () => {
  const PATH = O_PATH | O_CLOEXEC;

  it("a new descriptor skips the numbers an inherited one holds (a caller's passed ones up to and past the fake's first, 100), and the fake never gives one out twice", () => {
    const sys = new FakeSyscalls().addDir('/r');
    for (let fd = 98; fd <= 101; fd++) sys.inheritFile(fd);
    const first = sys.open('/r', O_PATH | O_CLOEXEC | O_DIRECTORY, 0);
    sys.close(first);
    const second = sys.pidfdOpen(42);
    expect([first, second]).toEqual([102, 103]);
    expect(sys.readlink('/proc/self/fd/100')).toBe('file:[inherited 100]');
  });

  it('pidfdOpen: a descriptor named as the kernel names a pidfd, matched by the process directory; pidfdSendSignal takes only a pidfd (EBADF otherwise)', () => {
    const sys = new FakeSyscalls().addDir('/r');
    const pidfd = sys.pidfdOpen(42);
    expect(sys.readlink(`/proc/self/fd/${pidfd}`)).toBe('anon_inode:[pidfd]');
    sys.pidfdSendSignal(pidfd, 9);
    const dir = sys.open('/r', PATH | O_DIRECTORY, 0);
    expect(errorOf(() => sys.pidfdSendSignal(dir, 0))).toEqual({ syscall: 'pidfd_send_signal', code: 'EBADF', paths: ['/r'] });
    sys.close(pidfd);
    expect(errorOf(() => sys.pidfdSendSignal(pidfd, 0))).toMatchObject({ syscall: 'pidfd_send_signal', code: 'EBADF' });
    sys.failOn('pidfdOpen', 'ESRCH', { path: '/proc/43' });
    expect(sys.readlink(`/proc/self/fd/${sys.pidfdOpen(42)}`)).toBe('anon_inode:[pidfd]');
    expect(errorOf(() => sys.pidfdOpen(43))).toEqual({ syscall: 'pidfd_open', code: 'ESRCH', paths: ['/proc/43'] });
    expect(sys.callsOf('pidfdSendSignal').map((c) => c.signal)).toEqual([9, 0, 0]);
  });

  it('the *at calls act in the directory of dirfd, record the name as given, and are matched and named by the joined path', () => {
    const sys = new FakeSyscalls().addDir('/r/dev');
    const dev = sys.open('/r/dev', PATH | O_DIRECTORY, 0);
    sys.umask(0);
    sys.mkdirat(dev, 'pts', 0o755);
    sys.mknodat(dev, 'null', S_IFCHR | 0o666, makedev(1, 3));
    sys.symlinkat('pts/ptmx', dev, 'ptmx');
    expect(sys.readlinkat(dev, 'ptmx')).toBe('pts/ptmx');
    expect(sys.node('/r/dev/pts')).toMatchObject({ kind: 'dir', perm: 0o755 });
    expect(sys.node('/r/dev/null')).toMatchObject({ kind: 'char', rdev: makedev(1, 3), perm: 0o666 });
    sys.unlinkat(dev, 'ptmx', 0);
    sys.unlinkat(dev, 'pts', AT_REMOVEDIR);
    expect(sys.readdir('/r/dev')).toEqual(['null']);
    expect(errorOf(() => sys.unlinkat(dev, 'null', AT_REMOVEDIR))).toEqual({ syscall: 'unlinkat', code: 'ENOTDIR', paths: ['null'] });
    expect(errorOf(() => sys.mkdirat(dev, 'null', 0o700))).toEqual({ syscall: 'mkdirat', code: 'EEXIST', paths: ['null'] });
    sys.failOn('mkdirat', 'EROFS', { path: '/r/dev/shm' });
    expect(errorOf(() => sys.mkdirat(dev, 'shm', 0o700))).toEqual({ syscall: 'mkdirat', code: 'EROFS', paths: ['shm'] });
    expect(errorOf(() => sys.mkdirat(42, 'x', 0o700))).toMatchObject({ code: 'EBADF' });
  });

  it("a file outside every directory (a pseudo-terminal's peer, a socket) opened again through its magic link keeps its name: it is the same terminal", () => {
    const sys = new FakeSyscalls().addDevpts('/dev/pts');
    const master = sys.open('/dev/pts/ptmx', O_RDWR | O_CLOEXEC, 0);
    sys.ptyUnlock(master);
    const peer = sys.ptyPeer(master, O_RDWR | O_CLOEXEC);
    const again = sys.open(`/proc/self/fd/${peer}`, O_RDWR | O_CLOEXEC, 0);
    expect(sys.readlink(`/proc/self/fd/${again}`)).toBe('/dev/pts/0');
    sys.setWindowSize(again, 24, 80);
    expect(sys.getWindowSize(again)).toEqual({ rows: 24, cols: 80 });
    const socket = sys.connectUnix('/run/a.sock');
    expect(sys.readlink(`/proc/self/fd/${sys.open(`/proc/self/fd/${socket}`, O_PATH | O_CLOEXEC, 0)}`)).toBe('socket:/run/a.sock');
  });

  it("peerPid: the pid a test set for a socket, else the fake's own; ENOTSOCK for a descriptor that is no socket, EBADF for none, naming it as the real port does", () => {
    const sys = new FakeSyscalls().addFile('/f', 'x', 0o644);
    const socket = sys.connectUnix('/run/a.sock');
    const [end] = sys.socketPair();
    sys.peerPids.set(socket, 4242);
    expect([sys.peerPid(socket), sys.peerPid(end)]).toEqual([4242, sys.pid]);
    const file = sys.open('/f', O_RDONLY | O_CLOEXEC, 0);
    expect(errorOf(() => sys.peerPid(file))).toEqual({ syscall: 'getsockopt', code: 'ENOTSOCK', paths: ['/f'] });
    expect(errorOf(() => sys.peerPid(99))).toMatchObject({ syscall: 'getsockopt', code: 'EBADF' });
  });

  it('fchmod, fsetxattr and copyFileRange act on the files open as their descriptors, never an O_PATH one (EBADF), and name them as the real port does', () => {
    const sys = new FakeSyscalls().addDir('/d').addFile('/d/src', 'bytes', 0o644);
    const dir = sys.open('/d', O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    const from = sys.open('/d/src', O_RDONLY | O_CLOEXEC, 0);
    const to = sys.openat(dir, 'copy', O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600);
    sys.copyFileRange(from, to);
    sys.fchmod(to, 0o4755);
    sys.fsetxattr(to, 'user.k', 'v');
    sys.fchmod(dir, 0o711);
    expect(sys.node('/d/copy')).toMatchObject({ kind: 'file', content: 'bytes', perm: 0o4755 });
    expect([...sys.node('/d/copy')!.xattrs]).toEqual([['user.k', 'v']]);
    expect(sys.node('/d')).toMatchObject({ perm: 0o711 });
    // A descriptor not open for writing takes no bytes; an O_PATH one takes none of the three.
    expect(errorOf(() => sys.copyFileRange(to, from))).toEqual({ syscall: 'copy_file_range', code: 'EBADF', paths: ['/d/copy', '/d/src'] });
    const path = sys.open('/d/copy', O_PATH | O_CLOEXEC, 0);
    expect(errorOf(() => sys.fchmod(path, 0o600))).toEqual({ syscall: 'fchmod', code: 'EBADF', paths: ['/d/copy'] });
    expect(errorOf(() => sys.fsetxattr(path, 'user.k', 'w'))).toEqual({ syscall: 'fsetxattr', code: 'EBADF', paths: ['/d/copy'] });
    expect(errorOf(() => sys.copyFileRange(path, to))).toMatchObject({ syscall: 'copy_file_range', code: 'EBADF' });
    expect(errorOf(() => sys.copyFileRange(dir, to))).toMatchObject({ syscall: 'copy_file_range', code: 'EISDIR' });
    sys.failOn('copyFileRange', 'ENOSPC', { path: '/d/copy' }).failOn('fsetxattr', 'EOPNOTSUPP', { path: '/d/copy' });
    expect(errorOf(() => sys.copyFileRange(from, to))).toEqual({ syscall: 'copy_file_range', code: 'ENOSPC', paths: ['/d/src', '/d/copy'] });
    expect(errorOf(() => sys.fsetxattr(to, 'user.x', 'y'))).toEqual({ syscall: 'fsetxattr', code: 'EOPNOTSUPP', paths: ['/d/copy'] });
    expect(sys.node('/d/copy')!.content).toBe('bytes');
  });

  it('tmpfsShowsOwnTree: a tmpfs mount(2) makes shows an empty tree of its own to lookups after it, a descriptor opened before keeps the directory under it, and umount2 shows that again; off, the mount hides nothing', () => {
    const sys = new FakeSyscalls().addDir('/m', 0o750).addFile('/m/old', 'under');
    sys.tmpfsShowsOwnTree = true;
    const before = sys.open('/m', O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    sys.mount('tmpfs', `/proc/self/fd/${before}`, 'tmpfs', 0n, 'size=1m,mode=0711,uid=5,gid=6');
    expect(sys.readdir('/m')).toEqual([]);
    expect(sys.node('/m')).toMatchObject({ kind: 'dir', perm: 0o711, uid: 5, gid: 6 });
    expect(sys.readdir(`/proc/self/fd/${before}`)).toEqual(['old']);
    const after = sys.open('/m', O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    sys.mkdirat(after, 'new', 0o700);
    expect(sys.fstatMount(after).mntId).not.toBe(sys.fstatMount(before).mntId);
    sys.umount2(`/proc/self/fd/${after}`, MNT_DETACH);
    expect(sys.readdir('/m')).toEqual(['old']);
    expect(sys.mounts).toEqual([]);
    const plain = new FakeSyscalls().addDir('/m').addFile('/m/old', 'under');
    plain.mount('tmpfs', '/m', 'tmpfs', 0n, null);
    expect(plain.readdir('/m')).toEqual(['old']);
  });

  it('a link opened O_PATH|O_NOFOLLOW is the link: fstat shows it, readlinkat and fchownat with an empty path act on it', () => {
    const sys = new FakeSyscalls().addFile('/target').addSymlink('/link', '/target');
    const fd = sys.openat(AT_FDCWD, '/link', PATH | O_NOFOLLOW, 0);
    expect(sys.fstat(fd).kind).toBe('symlink');
    expect(sys.readlinkat(fd, '')).toBe('/target');
    sys.fchownat(fd, '', 7, 8, AT_EMPTY_PATH);
    expect(sys.node('/link')).toMatchObject({ uid: 7, gid: 8 });
    expect(sys.node('/target')).toMatchObject({ uid: 0, gid: 0 });
    sys.fchownat(AT_FDCWD, '/link', 9, -1, 0);
    expect(sys.node('/target')).toMatchObject({ uid: 9, gid: 0 });
    const dir = sys.open('/', PATH | O_DIRECTORY, 0);
    expect(errorOf(() => sys.readlinkat(dir, ''))).toEqual({ syscall: 'readlinkat', code: 'ENOENT', paths: ['/'] });
  });

  it('a descriptor keeps its file when the name is swapped for a symlink: readdir and copyFile through its magic link reach that file, the name reaches the link', () => {
    const sys = new FakeSyscalls().addDir('/d').addFile('/d/f', 'mine').addDir('/d/sub').addFile('/d/sub/g', 'inner');
    sys.addFile('/secret', 'SECRET').addDir('/hostdir').addFile('/hostdir/h', 'host');
    const dir = sys.open('/d', PATH | O_DIRECTORY, 0);
    const file = sys.openat(dir, 'f', PATH | O_NOFOLLOW, 0);
    const sub = sys.openat(dir, 'sub', PATH | O_NOFOLLOW, 0);
    // Another process swaps both names for symlinks to host files.
    sys.node('/d')!.children!.delete('f');
    sys.node('/d')!.children!.delete('sub');
    sys.addSymlink('/d/f', '/secret').addSymlink('/d/sub', '/hostdir');
    expect(sys.readdir(`/proc/thread-self/fd/${sub}`)).toEqual(['g']);
    sys.copyFile(`/proc/thread-self/fd/${file}`, '/copy');
    expect(sys.node('/copy')).toMatchObject({ kind: 'file', content: 'mine' });
    // By name from the directory's descriptor: O_PATH|O_NOFOLLOW opens the link itself, plain O_NOFOLLOW refuses it.
    const link = sys.openat(dir, 'f', PATH | O_NOFOLLOW, 0);
    expect(sys.fstat(link).kind).toBe('symlink');
    expect(sys.readlinkat(link, '')).toBe('/secret');
    expect(errorOf(() => sys.openat(dir, 'sub', O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0))).toEqual({ syscall: 'openat', code: 'ELOOP', paths: ['sub'] });
    // Without the descriptor, a path through the name follows the link to the host.
    expect(sys.readdir(`/proc/thread-self/fd/${dir}/sub`)).toEqual(['h']);
    for (const fd of [link, sub, file, dir]) sys.close(fd);
    expect(sys.openFds()).toEqual([]);
  });

  it('/proc/thread-self/fd/N and /proc/self/fd/N lead to the file of descriptor N; readlink gives its path; errors name that path', () => {
    const sys = new FakeSyscalls().addDir('/r/x').addFile('/r/x/f', 'F');
    const fd = sys.open('/r/x', PATH | O_DIRECTORY, 0);
    expect(sys.readlink(`/proc/thread-self/fd/${fd}`)).toBe('/r/x');
    expect(sys.readFile(`/proc/self/fd/${fd}/f`)).toBe('F');
    sys.mount('tmpfs', `/proc/thread-self/fd/${fd}`, 'tmpfs', 0n, null);
    expect(sys.mounts).toEqual([{ source: 'tmpfs', target: '/r/x', fstype: 'tmpfs', flags: 0n, data: null }]);
    sys.failOn('mount', 'EPERM', { path: '/r/x' });
    expect(errorOf(() => sys.mount(null, `/proc/thread-self/fd/${fd}`, null, MS_PRIVATE, null))).toEqual({ syscall: 'mount', code: 'EPERM', paths: ['/r/x'] });
    sys.close(fd);
    // A closed descriptor's link leads nowhere; pathOf still tells where it was opened.
    expect(errorOf(() => sys.stat(`/proc/thread-self/fd/${fd}`))).toMatchObject({ code: 'ENOENT' });
    expect(sys.pathOf(fd)).toBe('/r/x');
    expect(sys.openFds()).toEqual([]);
  });

  it('pathAtCall: where each descriptor a call names was open when it was made, not what its number held before or after', () => {
    const sys = new FakeSyscalls().addDir('/r/x').addDir('/s');
    const x = sys.open('/r/x', PATH | O_DIRECTORY, 0);
    const s = sys.open('/s', PATH | O_DIRECTORY, 0);
    sys.mount('tmpfs', `/proc/thread-self/fd/${x}`, 'tmpfs', 0n, null);
    sys.dup3(s, x, 0);
    sys.mkdirat(x, 'd', 0o755);
    const [, , mount, dup3, mkdirat] = sys.calls;
    expect([sys.pathAtCall(x, mount), sys.pathAtCall(x, dup3), sys.pathAtCall(s, dup3), sys.pathAtCall(x, mkdirat)]).toEqual(['/r/x', '/r/x', '/s', '/s']);
    // A number the call does not name, and a descriptor the process did not have open then, give nothing.
    sys.close(s);
    expect([sys.pathAtCall(s, mount), sys.pathAtCall(0, dup3)]).toEqual([undefined, undefined]);
    expect(errorOf(() => sys.fstat(s))).toMatchObject({ code: 'EBADF' });
    expect(sys.pathAtCall(s, sys.calls[sys.calls.length - 1])).toBeUndefined();
  });

  it('openat2 RESOLVE_IN_ROOT does not take a path under dirfd for a magic link', () => {
    const sys = new FakeSyscalls().addDir('/r/proc/self/fd').addDir('/secret');
    const secret = sys.open('/secret', PATH | O_DIRECTORY, 0);
    const root = sys.open('/r', PATH | O_DIRECTORY, 0);
    expect(errorOf(() => sys.openat2(root, `/proc/self/fd/${secret}`, PATH, 0, RESOLVE_IN_ROOT))).toMatchObject({ code: 'ENOENT' });
  });

  it('fstatfs: the type of the deepest mount over the descriptor, a bind its source type, ext4 where nothing is mounted', () => {
    const sys = new FakeSyscalls().addDir('/r/proc/sys').addDir('/r/dev').addDir('/r/data').addDir('/host');
    const type = (p: string) => sys.fstatfs(sys.open(p, PATH, 0)).type;
    expect(type('/r/proc/sys')).toBe(EXT4_SUPER_MAGIC);
    sys.mount('proc', '/r/proc', 'proc', 0n, null);
    sys.mount('tmpfs', '/r/dev', 'tmpfs', 0n, null);
    sys.mount('/r/proc/sys', '/r/data', null, MS_BIND, null);
    sys.mount('overlay', '/host', 'overlay', 0n, null);
    expect([type('/r/proc/sys'), type('/r/dev'), type('/r/data'), type('/host'), type('/r')]).toEqual([PROC_SUPER_MAGIC, TMPFS_MAGIC, PROC_SUPER_MAGIC, 0, EXT4_SUPER_MAGIC]);
    expect(errorOf(() => sys.fstatfs(42))).toEqual({ syscall: 'fstatfs', code: 'EBADF', paths: [] });
  });

  it('fstatfs flags: those addMountFlags gave the deepest path above, not across a mountpoint; a bind its source flags; else the mount\'s own', () => {
    const sys = new FakeSyscalls().addDir('/host/src/sub').addDir('/r/x').addDir('/r/t/in').addMountFlags('/host', 0x6n).addMountFlags('/r', 0x1000n);
    const flags = (p: string) => sys.fstatfs(sys.open(p, PATH, 0)).flags;
    sys.mount('/host/src', '/r/x', null, MS_BIND, null);
    sys.mount('tmpfs', '/r/t', 'tmpfs', MS_NOSUID | MS_NOATIME, null);
    expect([flags('/host/src/sub'), flags('/r/x'), flags('/r'), flags('/r/t/in'), flags('/')]).toEqual([0x6n, 0x6n, 0x1000n, ST_VALID | ST_NOSUID | ST_NOATIME, ST_VALID]);
  });

  it('MS_MOVE takes the mount on top and what was mounted on it since, not what it covered', () => {
    const sys = new FakeSyscalls().addDir('/stage').addDir('/dest');
    sys.mount('/stage', '/stage', null, MS_BIND, null);
    sys.mount('tmpfs', '/stage', 'tmpfs', 0n, null);
    sys.mount('/stage', '/dest', null, MS_MOVE, null);
    expect(sys.mounts.map((m) => [m.target, m.fstype])).toEqual([
      ['/stage', null],
      ['/dest', 'tmpfs'],
    ]);
  });
});

describe('FakeSyscalls: detached mounts (open_tree, move_mount, MOUNT_ATTR_IDMAP)', () => {
  const ids = [{ containerID: 0, hostID: 1000, size: 1 }];

  test('a detached copy is attached once, as a bind of its source; MOUNT_ATTR_IDMAP needs it detached and an open user namespace', () => {
    const sys = new FakeSyscalls().addDir('/src').addDir('/r/t');
    const userns = sys.userNamespace(ids, ids);
    const tree = sys.openTree(AT_FDCWD, '/src', OPEN_TREE_CLONE | O_CLOEXEC);
    const target = sys.open('/r/t', O_PATH, 0);
    expect(() => sys.mountSetattr(tree, '', AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, 0n, 0n, 999)).toThrow('mount_setattr "/src": EBADF');
    sys.mountSetattr(tree, '', AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, 0n, 0n, userns);
    sys.moveMount(tree, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.mounts).toEqual([{ source: '/src', target: '/r/t', fstype: null, flags: MS_BIND, data: null }]);
    // Attached now: no longer mappable, and named by its place, as readlink(2) names it.
    expect(() => sys.mountSetattr(tree, '', AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, 0n, 0n, userns)).toThrow('mount_setattr "/r/t": EINVAL');
    expect(() => sys.mount(null, `/proc/self/fd/${tree}`, null, MS_BIND | MS_REMOUNT | MS_NOSUID, null)).not.toThrow();
    sys.failOn('mount', 'EPERM');
    expect(() => sys.mount(null, `/proc/self/fd/${tree}`, null, MS_BIND | MS_REMOUNT | MS_NOSUID, null)).toThrow('mount "/r/t": EPERM');
  });

  test('open_tree: AT_RECURSIVE without OPEN_TREE_CLONE is EINVAL; AT_SYMLINK_NOFOLLOW takes the link itself; a dup3 copy is the same tree', () => {
    const sys = new FakeSyscalls().addDir('/src').addSymlink('/link', '/src').addDir('/t');
    expect(() => sys.openTree(AT_FDCWD, '/src', AT_RECURSIVE)).toThrow('open_tree "/src": EINVAL');
    expect(sys.pathOf(sys.openTree(AT_FDCWD, '/link', OPEN_TREE_CLONE | AT_SYMLINK_NOFOLLOW))).toBe('/link');
    const tree = sys.openTree(AT_FDCWD, '/link', OPEN_TREE_CLONE | AT_RECURSIVE);
    expect(sys.pathOf(tree)).toBe('/src');
    sys.dup3(tree, 50, 0);
    sys.moveMount(50, '', sys.open('/t', O_PATH, 0), '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.mounts).toEqual([{ source: '/src', target: '/t', fstype: null, flags: MS_BIND | MS_REC, data: null }]);
  });

  test('a copy closed is gone: its descriptor attaches nothing (EBADF, as the kernel answers a closed one); a dup3 copy of it still attaches it', () => {
    const sys = new FakeSyscalls().addDir('/src').addDir('/t');
    const tree = sys.openTree(AT_FDCWD, '/src', OPEN_TREE_CLONE | O_CLOEXEC);
    sys.dup3(tree, 50, 0);
    sys.close(tree);
    const target = sys.open('/t', O_PATH, 0);
    expect(caught(() => sys.moveMount(tree, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH))).toMatchObject({ syscall: 'move_mount', code: 'EBADF' });
    expect(sys.mounts).toEqual([]);
    sys.moveMount(50, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.mounts).toEqual([{ source: '/src', target: '/t', fstype: null, flags: MS_BIND, data: null }]);
  });
});

describe('FakeSyscalls: getSeals, as the real port opens the file and asks fcntl(2)', () => {
  test('a path that leads nowhere is the open(2) refusing it, a file that takes no seals the fcntl(2); a tmpfs file through a magic link has F_SEAL_SEAL', () => {
    const sys = new FakeSyscalls().addDir('/d').addFile('/d/f', 'x').addDir('/t');
    sys.mount('tmpfs', '/t', 'tmpfs', 0n, null);
    sys.writeFile('/t/f', 'x');
    expect(() => sys.getSeals('/nope/x')).toThrow('open "/nope/x": ENOENT');
    expect(() => sys.getSeals('/d/missing')).toThrow('open "/d/missing": ENOENT');
    expect(() => sys.getSeals('/d/f')).toThrow('fcntl "/d/f": EINVAL');
    const fd = sys.open('/t/f', O_RDONLY | O_CLOEXEC, 0);
    expect([sys.getSeals('/t/f'), sys.getSeals(`/proc/self/fd/${fd}`)]).toEqual([F_SEAL_SEAL, F_SEAL_SEAL]);
  });
});

describe('FakeSyscalls: new mounts (fsopen, fsconfig, fsmount, move_mount)', () => {
  /** A tmpfs context with `params` set and its superblock made. */
  function created(sys: FakeSyscalls, params: [string, string | null][] = []): number {
    const fd = sys.fsopen('tmpfs', FSOPEN_CLOEXEC);
    for (const [key, value] of params) sys.fsconfig(fd, value === null ? FSCONFIG_SET_FLAG : FSCONFIG_SET_STRING, key, value, 0);
    sys.fsconfig(fd, FSCONFIG_CMD_CREATE, null, null, 0);
    return fd;
  }

  test("a new mount is attached where move_mount puts it, as a mount of its context's source, type, parameters and attributes; what is made through its descriptor is in its own root", () => {
    const sys = new FakeSyscalls().addDir('/r/t');
    sys.addFile('/r/t/old', 'below');
    const fd = created(sys, [['source', 'tmpfs'], ['mode', '0750'], ['size', '1m'], ['noswap', null]]);
    const mount = sys.fsmount(fd, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_STRICTATIME | MOUNT_ATTR_NOSYMFOLLOW);
    sys.close(fd);
    expect([sys.pathOf(fd), sys.pathOf(mount), sys.readlink(`/proc/self/fd/${mount}`)]).toEqual(['anon_inode:[fscontext]', 'fsmount:[tmpfs]', 'fsmount:[tmpfs]']);
    expect(sys.fstat(mount)).toMatchObject({ kind: 'dir', perm: 0o750 });
    sys.mkdir(`/proc/thread-self/fd/${mount}/sub`, 0o700);
    sys.writeFile(`/proc/thread-self/fd/${mount}/sub/f`, 'new');
    const target = sys.open('/r/t', O_PATH, 0);
    sys.moveMount(mount, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.mounts).toEqual([{ source: 'tmpfs', target: '/r/t', fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV | MS_STRICTATIME | MS_NOSYMFOLLOW, data: 'mode=0750,size=1m,noswap' }]);
    const root = sys.newMountRoot('/r/t')!;
    expect([...root.children!.keys()]).toEqual(['sub']);
    expect(root.children!.get('sub')!.children!.get('f')).toMatchObject({ kind: 'file', content: 'new' });
    // The plain fake's mounts hide nothing: the path shows what was there.
    expect(sys.node('/r/t/old')).toMatchObject({ content: 'below' });
  });

  test('a tmpfs root without mode= is 1777, another type 0755; noatime and relatime as the flags of the entry; MOUNT_ATTR_RDONLY makes it read-only', () => {
    const sys = new FakeSyscalls().addDir('/a').addDir('/b');
    sys.refuseReadOnlyWrites = true;
    const tmpfs = sys.fsmount(created(sys), 0, MOUNT_ATTR_NOATIME | MOUNT_ATTR_RDONLY);
    expect(sys.fstat(tmpfs).perm).toBe(0o1777);
    expect(errorOf(() => sys.mkdir(`/proc/self/fd/${tmpfs}/x`, 0o755))).toEqual({ syscall: 'mkdir', code: 'EROFS', paths: ['fsmount:[tmpfs]/x'] });
    const other = sys.fsopen('ramfs', 0);
    sys.fsconfig(other, FSCONFIG_CMD_CREATE, null, null, 0);
    const ramfs = sys.fsmount(other, 0, 0n);
    expect(sys.fstat(ramfs).perm).toBe(0o755);
    sys.moveMount(tmpfs, '', AT_FDCWD, '/a', MOVE_MOUNT_F_EMPTY_PATH);
    sys.moveMount(ramfs, '', AT_FDCWD, '/b', MOVE_MOUNT_F_EMPTY_PATH);
    expect(sys.mounts).toEqual([
      { source: null, target: '/a', fstype: 'tmpfs', flags: MS_RDONLY | MS_NOATIME, data: null },
      { source: null, target: '/b', fstype: 'ramfs', flags: 0n, data: null },
    ]);
    expect(errorOf(() => sys.mkdir('/a/x', 0o755))).toEqual({ syscall: 'mkdir', code: 'EROFS', paths: ['/a/x'] });
  });

  test.each([
    ['fsopen with a flag other than FSOPEN_CLOEXEC', (sys: FakeSyscalls) => sys.fsopen('tmpfs', 2), { syscall: 'fsopen', code: 'EINVAL', paths: ['tmpfs'] }],
    ['fsconfig of a closed descriptor', (sys: FakeSyscalls) => sys.fsconfig(99, FSCONFIG_CMD_CREATE, null, null, 0), { syscall: 'fsconfig', code: 'EBADF', paths: ['FSCONFIG_CMD_CREATE'] }],
    ['fsconfig of a descriptor that is no context', (sys: FakeSyscalls) => sys.fsconfig(sys.open('/f', O_RDONLY, 0), FSCONFIG_SET_FLAG, 'ro', null, 0), { syscall: 'fsconfig', code: 'EINVAL', paths: ['ro'] }],
    // fdget() gives no O_PATH file: the kernel answers as for a descriptor not open.
    ['fsconfig of an O_PATH descriptor', (sys: FakeSyscalls) => sys.fsconfig(sys.open('/a', O_PATH, 0), FSCONFIG_SET_FLAG, 'ro', null, 0), { syscall: 'fsconfig', code: 'EBADF', paths: ['ro'] }],
    ['fsconfig of the mount fsmount made (an O_PATH descriptor)', (sys: FakeSyscalls) => sys.fsconfig(sys.fsmount(created(sys), 0, 0n), FSCONFIG_SET_FLAG, 'ro', null, 0), { syscall: 'fsconfig', code: 'EBADF', paths: ['ro'] }],
    // The arguments are checked before the descriptor.
    ['fsconfig of a negative descriptor', (sys: FakeSyscalls) => sys.fsconfig(-1, FSCONFIG_CMD_CREATE, null, null, 0), { syscall: 'fsconfig', code: 'EINVAL', paths: ['FSCONFIG_CMD_CREATE'] }],
    ['fsconfig of a closed descriptor with a value FSCONFIG_SET_FLAG does not take', (sys: FakeSyscalls) => sys.fsconfig(99, FSCONFIG_SET_FLAG, 'x', 'v', 0), { syscall: 'fsconfig', code: 'EINVAL', paths: ['x=v'] }],
    ['fsconfig of a closed descriptor with an unknown command', (sys: FakeSyscalls) => sys.fsconfig(99, 99, null, null, 0), { syscall: 'fsconfig', code: 'EOPNOTSUPP', paths: ['fsconfig command 99'] }],
    ['fsmount of an O_PATH descriptor', (sys: FakeSyscalls) => sys.fsmount(sys.open('/a', O_PATH, 0), 0, 0n), { syscall: 'fsmount', code: 'EBADF', paths: [] }],
    ['fsmount of a descriptor that is no context', (sys: FakeSyscalls) => sys.fsmount(sys.open('/f', O_RDONLY, 0), 0, 0n), { syscall: 'fsmount', code: 'EINVAL', paths: [] }],
    ['FSCONFIG_SET_FLAG with a value', (sys: FakeSyscalls) => sys.fsconfig(sys.fsopen('tmpfs', 0), FSCONFIG_SET_FLAG, 'noswap', 'x', 0), { syscall: 'fsconfig', code: 'EINVAL', paths: ['noswap=x'] }],
    ['FSCONFIG_SET_STRING without one', (sys: FakeSyscalls) => sys.fsconfig(sys.fsopen('tmpfs', 0), FSCONFIG_SET_STRING, 'size', null, 0), { syscall: 'fsconfig', code: 'EINVAL', paths: ['size'] }],
    ['FSCONFIG_CMD_CREATE with a key', (sys: FakeSyscalls) => sys.fsconfig(sys.fsopen('tmpfs', 0), FSCONFIG_CMD_CREATE, 'size', null, 0), { syscall: 'fsconfig', code: 'EINVAL', paths: ['size'] }],
    ['an unknown command', (sys: FakeSyscalls) => sys.fsconfig(sys.fsopen('tmpfs', 0), 99, null, null, 0), { syscall: 'fsconfig', code: 'EOPNOTSUPP', paths: ['fsconfig command 99'] }],
    ['a value past 255 bytes', (sys: FakeSyscalls) => sys.fsconfig(sys.fsopen('tmpfs', 0), FSCONFIG_SET_STRING, 'size', '1'.repeat(256), 0), { syscall: 'fsconfig', code: 'EINVAL', paths: [`size=${'1'.repeat(256)}`] }],
    ['a second source', (sys: FakeSyscalls) => created(sys, [['source', 'a'], ['source', 'b']]), { syscall: 'fsconfig', code: 'EINVAL', paths: ['source=b'] }],
    ['a parameter once the superblock is made', (sys: FakeSyscalls) => sys.fsconfig(created(sys), FSCONFIG_SET_STRING, 'size', '1m', 0), { syscall: 'fsconfig', code: 'EBUSY', paths: ['size=1m'] }],
    ['fsmount before FSCONFIG_CMD_CREATE', (sys: FakeSyscalls) => sys.fsmount(sys.fsopen('tmpfs', 0), 0, 0n), { syscall: 'fsmount', code: 'EINVAL', paths: [] }],
    [
      'a second fsmount of one context',
      (sys: FakeSyscalls) => {
        const fd = created(sys);
        sys.fsmount(fd, 0, 0n);
        return sys.fsmount(fd, 0, 0n);
      },
      { syscall: 'fsmount', code: 'EBUSY', paths: [] },
    ],
    ['fsmount with an attribute it does not take', (sys: FakeSyscalls) => sys.fsmount(created(sys), 0, MOUNT_ATTR_IDMAP), { syscall: 'fsmount', code: 'EINVAL', paths: [] }],
    ['fsmount with two atimes', (sys: FakeSyscalls) => sys.fsmount(created(sys), 0, MOUNT_ATTR_NOATIME | MOUNT_ATTR_STRICTATIME), { syscall: 'fsmount', code: 'EINVAL', paths: [] }],
    ['fsmount with a flag other than FSMOUNT_CLOEXEC', (sys: FakeSyscalls) => sys.fsmount(created(sys), 2, 0n), { syscall: 'fsmount', code: 'EINVAL', paths: [] }],
    // do_move_mount() compares the kinds: EINVAL, where mount(2)'s graft_tree() answers ENOTDIR (checked on Linux 6.18).
    ['move_mount of a new mount onto a file', (sys: FakeSyscalls) => sys.moveMount(sys.fsmount(created(sys), 0, 0n), '', AT_FDCWD, '/f', MOVE_MOUNT_F_EMPTY_PATH), { syscall: 'move_mount', code: 'EINVAL', paths: ['fsmount:[tmpfs]', '/f'] }],
  ] as const)('%s: the kernel\'s errno, named', (_what, call, expected) => {
    const sys = new FakeSyscalls().addDir('/a').addFile('/f');
    expect(errorOf(() => call(sys))).toEqual(expected);
  });

  test('closing the last descriptor of a mount never attached unmounts it: its number attaches nothing after', () => {
    const sys = new FakeSyscalls().addDir('/a');
    const mount = sys.fsmount(created(sys), 0, 0n);
    sys.close(mount);
    expect(errorOf(() => sys.moveMount(mount, '', AT_FDCWD, '/a', MOVE_MOUNT_F_EMPTY_PATH))).toMatchObject({ syscall: 'move_mount', code: 'EBADF' });
    expect(sys.mounts).toEqual([]);
  });
});

describe('FakeSyscalls: mount flags, a new mount namespace, the old root after pivot_root', () => {
  const flags = (sys: FakeSyscalls, p: string) => sys.fstatfs(sys.open(p, O_PATH, 0)).flags;

  it("a mount's flags: a new filesystem's from mount(2), relatime unless told; a bind's its source's, MS_RDONLY ignored; a bind remount sets them to those given, keeping the atime ones when given none; mount_setattr sets and clears them; fstatfs reports them", () => {
    const sys = new FakeSyscalls().addDir('/m').addDir('/b').addDir('/r');
    sys.mount('tmpfs', '/m', 'tmpfs', MS_NOEXEC | MS_NOSUID | MS_NOATIME, null);
    sys.mount('tmpfs', '/r', 'tmpfs', MS_NODEV, null);
    sys.mount('/m', '/b', null, MS_BIND | MS_RDONLY, null);
    expect([flags(sys, '/m'), flags(sys, '/b'), flags(sys, '/r')]).toEqual([ST_VALID | ST_NOEXEC | ST_NOSUID | ST_NOATIME, ST_VALID | ST_NOEXEC | ST_NOSUID | ST_NOATIME, ST_VALID | ST_NODEV | ST_RELATIME]);
    sys.mount(null, '/b', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
    expect([flags(sys, '/b'), flags(sys, '/m')]).toEqual([ST_VALID | ST_RDONLY | ST_NOATIME, ST_VALID | ST_NOEXEC | ST_NOSUID | ST_NOATIME]);
    sys.mountSetattr(AT_FDCWD, '/b', 0, MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NODEV | MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, 0n);
    expect(flags(sys, '/b')).toBe(ST_VALID | ST_RDONLY | ST_NOEXEC | ST_NODEV);
    sys.mount(null, '/r', null, MS_REMOUNT | MS_STRICTATIME, null);
    expect(flags(sys, '/r')).toBe(ST_VALID);
  });

  it('execve of a file on a noexec mount is EACCES (do_open_execat, fs/exec.c), recorded; elsewhere, and once a bind remount has cleared noexec, it ends the run', () => {
    const sys = new FakeSyscalls().addFile('/m/prog').addFile('/prog');
    sys.mount('tmpfs', '/m', 'tmpfs', MS_NOEXEC, null);
    sys.clearCalls();
    expect(errorOf(() => sys.execve('/m/prog', ['prog'], []))).toEqual({ syscall: 'execve', code: 'EACCES', paths: ['/m/prog'] });
    expect(sys.effects()).toEqual([{ op: 'execve', path: '/m/prog', argv: ['prog'], envp: [] }]);
    expect(() => sys.execve('/prog', ['prog'], [])).toThrow(ExecveCalled);
    sys.mount(null, '/m', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
    expect(() => sys.execve('/m/prog', ['prog'], [])).toThrow(ExecveCalled);
  });

  it('unshare(CLONE_NEWNS): the mounts become the new namespace\'s copies, an unbindable one bindable; with CLONE_NEWUSER, a shared one a slave (checked on Linux 6.18)', () => {
    const sys = new FakeSyscalls().addDir('/u').addDir('/t').addDir('/s/m').addDir('/s/n').addDir('/q');
    sys.mount('tmpfs', '/u', 'tmpfs', 0n, null);
    sys.mount(null, '/u', null, MS_UNBINDABLE, null);
    sys.mount('tmpfs', '/s', 'tmpfs', 0n, null);
    sys.mount(null, '/s', null, MS_SHARED, null);
    sys.mount('tmpfs', '/s/m', 'tmpfs', 0n, null);
    const bind = () => sys.mount('/u', '/t', null, MS_BIND, null);
    const move = () => sys.mount('/s/m', '/q', null, MS_MOVE, null);
    expect([caught(bind).code, caught(move).code]).toEqual(['EINVAL', 'EINVAL']);
    sys.unshare(CLONE_NEWNS);
    bind();
    expect(caught(move).code).toBe('EINVAL');
    sys.unshare(CLONE_NEWNS | CLONE_NEWUSER);
    // A mount made there (not one copied, which the copy locks to its parent) moves from below the slave.
    sys.mount('tmpfs', '/s/n', 'tmpfs', 0n, null);
    sys.mount('/s/n', '/q', null, MS_MOVE, null);
    expect(sys.mounts.map((m) => m.target)).toEqual(['/u', '/s', '/s/m', '/t', '/q']);
  });

  it("after pivot_root, the jail's MS_SLAVE|MS_REC on the old root reaches the old root's mounts only: a shared mount in the new root stays shared (checked on Linux 6.18)", () => {
    const sys = new FakeSyscalls().addDir('/new/s/m').addDir('/new/q').addDir('/host/x').addDir('/other');
    sys.mount('/new', '/new', null, MS_BIND | MS_REC, null);
    sys.mount('tmpfs', '/new/s', 'tmpfs', 0n, null);
    sys.mount(null, '/new/s', null, MS_SHARED, null);
    sys.mount('tmpfs', '/new/s/m', 'tmpfs', 0n, null);
    sys.mount('tmpfs', '/host', 'tmpfs', 0n, null);
    sys.mount(null, '/host', null, MS_SHARED, null);
    sys.mount('tmpfs', '/host/x', 'tmpfs', 0n, null);
    const oldRoot = sys.open('/', O_DIRECTORY | O_RDONLY, 0);
    sys.chdir('/new');
    sys.pivotRoot('.', '.');
    sys.fchdir(oldRoot);
    sys.mount(null, '.', null, MS_SLAVE | MS_REC, null);
    // A mount whose parent is shared is not moved (EINVAL): /new/s still is, /host no longer.
    expect(errorOf(() => sys.mount('/new/s/m', '/new/q', null, MS_MOVE, null))).toEqual({ syscall: 'mount', code: 'EINVAL', paths: ['/new/s/m', '/new/q'] });
    sys.mount('/host/x', '/other', null, MS_MOVE, null);
  });
});

describe('FakeSyscalls: socket pairs and terminals', () => {
  test('a message sent with a descriptor on one end of a socketPair is received on the other, once; EAGAIN when there is none', () => {
    const sys = new FakeSyscalls().addFile('/dev/pts/ptmx');
    const [a, b] = sys.socketPair();
    expect(() => sys.recvFdMessage(a)).toThrow(/^recvmsg "socket:\[pair 0 end 0\]": EAGAIN$/);
    const master = sys.open('/dev/pts/ptmx', O_RDWR, 0);
    sys.sendFdMessage(b, master, '/dev/ptmx');
    const got = sys.recvFdMessage(a);
    expect(got).toEqual({ data: '/dev/ptmx', fd: expect.any(Number) });
    expect([got.fd === master, sys.pathOf(got.fd!)]).toEqual([false, '/dev/pts/ptmx']);
    expect(() => sys.recvFdMessage(a)).toThrow(/^recvmsg "socket:\[pair 0 end 0\]": EAGAIN$/);
    expect(() => sys.recvFdMessage(999)).toThrow(/^recvmsg: EBADF$/);
  });

  test("each pair's messages are its own, in order, whichever pair is read first; a duplicated or inherited end is the same end; the file sent is the one received", () => {
    const sys = new FakeSyscalls().addDir('/srv').addFile('/f');
    const [a, b] = sys.socketPair();
    const [c, d] = sys.socketPair();
    const dir = sys.open('/srv', O_RDONLY, 0);
    const file = sys.open('/f', O_RDONLY, 0);
    sys.sendFdMessage(b, dir, 'first on a');
    sys.sendFdMessage(d, file, 'on c');
    sys.sendFdMessage(b, file, 'second on a');
    sys.dup3(a, 40, 0);
    sys.inheritDescriptor(41, c);
    expect(sys.recvFdMessage(41).data).toBe('on c');
    expect(sys.recvFdMessage(40).data).toBe('first on a');
    const second = sys.recvFdMessage(a);
    expect(second.data).toBe('second on a');
    expect(sys.fstat(second.fd!).kind).toBe('file');
    expect(() => sys.recvFdMessage(c)).toThrow(/EAGAIN/);
  });

  test('exchange answers the queued lines, then the console event\'s answer; getpgrp and a terminal\'s foreground group are what the fake holds', () => {
    const sys = new FakeSyscalls().addFile('/dev/pts/3').addFile('/file');
    sys.exchangeAnswers.push('{"result":7}');
    expect([sys.exchange(3, 'a\n'), sys.exchange(3, 'b\n')]).toEqual(['{"result":7}', '{"result":{}}']);
    expect(sys.callsOf('exchange')).toEqual([{ op: 'exchange', fd: 3, line: 'a\n' }, { op: 'exchange', fd: 3, line: 'b\n' }]);
    sys.processGroup = 40;
    sys.foregroundGroup = 41;
    expect([sys.getpgrp(), sys.getForegroundGroup(sys.open('/dev/pts/3', O_RDWR, 0))]).toEqual([40, 41]);
    expect(() => sys.getForegroundGroup(sys.open('/file', O_RDONLY, 0))).toThrow('ioctl "/file": ENOTTY');
  });

  test("a terminal's modes start as the kernel's defaults and are what setTermios set; its size is what setWindowSize set; no terminal is ENOTTY", () => {
    const sys = new FakeSyscalls().addFile('/dev/pts/ptmx').addFile('/file');
    const master = sys.open('/dev/pts/ptmx', O_RDWR, 0);
    expect(sys.getTermios(master)).toEqual(DEFAULT_TERMIOS);
    sys.setTermios(master, { ...DEFAULT_TERMIOS, oflag: 1 });
    expect(sys.getTermios(master).oflag).toBe(1);
    expect(sys.getWindowSize(master)).toEqual({ rows: 0, cols: 0 });
    sys.setWindowSize(master, 40, 132);
    expect(sys.getWindowSize(master)).toEqual({ rows: 40, cols: 132 });
    const file = sys.open('/file', O_RDONLY, 0);
    expect(() => sys.getTermios(file)).toThrow('ioctl "/file": ENOTTY');
    expect(() => sys.setTermios(file, DEFAULT_TERMIOS)).toThrow('ioctl "/file": ENOTTY');
    expect(() => sys.getWindowSize(999)).toThrow('ioctl: EBADF');
    sys.setNonBlocking(file);
    expect([...sys.nonBlocking]).toEqual([file]);
    expect(() => sys.setNonBlocking(999)).toThrow('fcntl: EBADF');
    sys.setBlocking(file);
    sys.setBlocking(2);
    expect([...sys.nonBlocking]).toEqual([]);
    expect(() => sys.setBlocking(999)).toThrow('fcntl: EBADF');
    sys.close(0);
    expect(() => sys.setBlocking(0)).toThrow('fcntl: EBADF');
  });
});

describe('FakeSyscalls: runCommandAsync', () => {
  test('records the command and promises commandResult; an injected failure rejects', async () => {
    const sys = new FakeSyscalls();
    sys.commandResult = { status: 4, signal: null, output: 'x' };
    const cmd = { path: '/hooks/a', args: ['-v'], env: [], dir: '/b' };
    await expect(sys.runCommandAsync(cmd)).resolves.toEqual({ status: 4, signal: null, output: 'x' });
    expect(sys.calls).toEqual([{ op: 'runCommandAsync', cmd }]);
    sys.failOn('runCommandAsync', 'ENOENT');
    await expect(sys.runCommandAsync(cmd)).rejects.toThrow('ENOENT');
  });
});
