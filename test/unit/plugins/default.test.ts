import 'reflect-metadata';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MS_NODEV,
  MS_NOSUID,
  MS_NOEXEC,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
} from '../../../src/core/constants';
import { IN_ROOT_NO_SYMLINKS } from '../../../src/core/in-root';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { DefaultMountHandler } from '../../../src/plugins/default';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, fdOf, viaFd } from '../../helpers/fd';
import { procDestinationProblem } from '../../../src/core/paths';

const PATH = O_PATH | O_CLOEXEC;

function setup() {
  const sys = new FakeSyscalls();
  sys.addDir('/r/dev');
  const run = (...mounts: Parameters<typeof makeMount>[0][]) =>
    new Orchestrator(sys, silentLogger, [new DefaultMountHandler(sys)], []).run(
      makeConfig({ rootfs: '/r', mounts: mounts.map((m, index) => makeMount({ index, ...m })) }),
      { checkClaims: false },
    );
  return { sys, run };
}

describe('default mount handler', () => {
  test('looks the target up in the root, creates it in its parent, and mounts through its descriptor', () => {
    const { sys, run } = setup();
    run({ type: 'devpts', source: 'devpts', destination: '/dev/pts', flags: MS_NOSUID, data: 'newinstance,ptmxmode=0666' });
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      // Missing, and no symlink on the way (that would be ELOOP): only the last component is
      // missing once its parent opens, and /dev/pts is what the /proc check is shown.
      { op: 'openat2', dirfd: 100, path: 'dev/pts', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openat2', dirfd: 100, path: 'dev', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'mkdirat', dirfd: 101, path: 'pts', mode: 0o755 },
      { op: 'openat', dirfd: 101, path: 'pts', flags: PATH | O_NOFOLLOW, mode: 0 },
      { op: 'close', fd: 101 },
      { op: 'mount', source: 'devpts', target: '/proc/thread-self/fd/102', fstype: 'devpts', flags: MS_NOSUID, data: 'newinstance,ptmxmode=0666' },
      { op: 'close', fd: 102 },
      // The rootfs kept for the run, closed when the run ends.
      { op: 'close', fd: 100 },
    ]);
    expect(sys.pathOf(102)).toBe('/r/dev/pts');
    expect(sys.mounts).toEqual([{ source: 'devpts', target: '/r/dev/pts', fstype: 'devpts', flags: MS_NOSUID, data: 'newinstance,ptmxmode=0666' }]);
    expect(sys.openFds()).toEqual([]);
  });

  test('a remount without a type (runtime-spec makes it optional) changes the mount at the destination, with no filesystem type', () => {
    const { sys, run } = setup();
    sys.addDir('/r/dev/shm');
    // mount(2) remounts the root of a mount only (EINVAL elsewhere).
    sys.mount('tmpfs', '/r/dev/shm', 'tmpfs', 0n, null);
    sys.clearCalls();
    run({ type: '', source: '', destination: '/dev/shm', flags: MS_REMOUNT | MS_RDONLY });
    expect(changes(sys)).toEqual([{ op: 'mount', source: '', target: viaFd(sys, '/r/dev/shm'), fstype: null, flags: MS_REMOUNT | MS_RDONLY, data: null }]);
  });

  test('a remount with propagation acts on the mount it changed, through the target it was made through: no new mount is looked for', () => {
    const { sys, run } = setup();
    sys.addDir('/r/mnt');
    sys.mount('tmpfs', '/r/mnt', 'tmpfs', 0n, null);
    sys.clearCalls();
    run({ type: '', source: '', destination: '/mnt', flags: MS_REMOUNT | MS_NOSUID | MS_NOEXEC, propagationFlags: [MS_PRIVATE] });
    const target = '/proc/thread-self/fd/101';
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'mnt', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'mount', source: '', target, fstype: null, flags: MS_REMOUNT | MS_NOSUID | MS_NOEXEC, data: null },
      { op: 'mount', source: null, target, fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
    expect(sys.pathOf(101)).toBe('/r/mnt');
    expect(sys.openFds()).toEqual([]);
  });

  test('/proc takes a remount without a type (the procfs there changed, as runc lets it); any other mount there is refused', () => {
    const { sys, run } = setup();
    sys.addDir('/r/proc');
    sys.mount('proc', '/r/proc', 'proc', 0n, null);
    sys.clearCalls();
    run({ type: '', source: '', destination: '/proc', flags: MS_REMOUNT | MS_RDONLY | MS_NOSUID });
    expect(changes(sys)).toEqual([{ op: 'mount', source: '', target: viaFd(sys, '/r/proc'), fstype: null, flags: MS_REMOUNT | MS_RDONLY | MS_NOSUID, data: null }]);
    const other = setup();
    other.sys.addDir('/r/proc');
    expect(() => other.run({ type: 'overlay', source: '', destination: '/proc' })).toThrow('"/proc" takes only a proc filesystem, or a bind of one');
    expect(() => other.run({ type: '', source: '', destination: '/proc/sys', flags: MS_REMOUNT })).toThrow('"/proc/sys" cannot be mounted because it is inside /proc');
  });

  test('propagation flags follow on the new mount, looked up again, one call each, in order, then recursive attributes', () => {
    const { sys, run } = setup();
    run({
      type: 'overlay',
      destination: '/merged',
      propagationFlags: [MS_PRIVATE, MS_SHARED | MS_REC],
      recAttrs: { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, attrClr: 0n },
    });
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'merged', mode: 0o755 },
      { op: 'mount', source: 'overlay', target: '/proc/thread-self/fd/102', fstype: 'overlay', flags: 0n, data: null },
      { op: 'mount', source: null, target: '/proc/thread-self/fd/104', fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'mount', source: null, target: '/proc/thread-self/fd/104', fstype: null, flags: MS_SHARED | MS_REC, data: null },
      { op: 'mountSetattr', dirfd: 104, path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: 0x3n, attrClr: 0n, propagation: 0n },
    ]);
    // 102 was opened before the mount; 104 after it, by its name in its parent (103, `..` of
    // 102), through the new mount, and checked to be it (afterMount).
    expect([sys.pathOf(100), sys.pathOf(102), sys.pathOf(103), sys.pathOf(104)]).toEqual(['/r', '/r/merged', '/r', '/r/merged']);
    expect(sys.openFds()).toEqual([]);
  });

  test('no propagation and no attributes: the target is not looked up again', () => {
    const { sys, run } = setup();
    run({ type: 'overlay', destination: '/dev' });
    expect(sys.callsOf('openat2')).toHaveLength(1);
  });

  test('a symlinked destination resolves inside the rootfs', () => {
    const { sys, run } = setup();
    sys.addSymlink('/r/escape', '/../../etc');
    run({ type: 'tmpfs', destination: '/escape/x' });
    expect(sys.mounts.map((m) => m.target)).toEqual(['/r/etc/x']);
    expect(sys.node('/etc')).toBeUndefined();
  });

  test('/dev is never mounted read-only on the first call', () => {
    const { sys, run } = setup();
    run({ type: 'devtmpfs', destination: '/dev', flags: MS_RDONLY | MS_NODEV });
    expect(sys.callsOf('mount')).toEqual([{ op: 'mount', source: 'devtmpfs', target: viaFd(sys, '/r/dev'), fstype: 'devtmpfs', flags: MS_NODEV, data: null }]);
  });

  test.each(['/proc', '/proc/sys', '/proc/self/x', '/link/sys'])('%s (inside /proc once resolved) is refused before anything is made', (destination) => {
    const { sys, run } = setup();
    sys.addDir('/r/proc/self');
    sys.addSymlink('/r/link', '../proc');
    expect(() => run({ type: 'tmpfs', destination })).toThrow(
      `mounts: plugin default mounts[0] "${destination}": ${procDestinationProblem(destination.replace('/link', '/proc'))}`,
    );
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['mkdirat', 'mkdirat "/r/x": EACCES'],
    ['mount', 'mount "overlay" -> "/r/x": EACCES'],
  ] as const)('a failing %s is a PluginError naming mount, destination and syscall', (op, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES');
    expect(() => run({ type: 'overlay', destination: '/x' })).toThrow(`mounts: plugin default mounts[0] "/x": ${message}`);
    expect(sys.openFds()).toEqual([]);
  });

  test('a failing propagation call names the syscall and the file the descriptor holds', () => {
    const { sys, run } = setup();
    sys.failOn('mount', 'EINVAL', { nth: 2 });
    expect(() => run({ type: 'overlay', destination: '/x', propagationFlags: [MS_SHARED] })).toThrow(
      'mounts: plugin default mounts[0] "/x": mount "/r/x": EINVAL',
    );
    expect(sys.openFds()).toEqual([]);
  });
});

describe('default mount handler and SELinux', () => {
  const LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';
  function run(selinux: boolean, mountLabel: string, failMount = false) {
    const sys = new FakeSyscalls();
    sys.addDir('/r/dev/pts');
    if (selinux) sys.addSelinuxfs();
    if (failMount) sys.failOn('mount', 'EACCES');
    sys.clearCalls();
    const mount = makeMount({ index: 0, type: 'devpts', source: 'devpts', destination: '/dev/pts', flags: MS_NOSUID, data: 'newinstance,ptmxmode=0666' });
    const go = () => new Orchestrator(sys, silentLogger, [new DefaultMountHandler(sys)], []).run(makeConfig({ rootfs: '/r', mountLabel, mounts: [mount] }), { checkClaims: false });
    return { sys, go };
  }

  test('on a host that runs SELinux the mount label goes into the data as context=, as runc gives it to a type it has no case for', () => {
    const { sys, go } = run(true, LABEL);
    go();
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'open', path: '/sys/fs/selinux', flags: O_PATH | O_CLOEXEC, mode: 0 },
      { op: 'fstatfs', fd: 101 },
      { op: 'close', fd: 101 },
      { op: 'readFile', path: '/proc/thread-self/attr/current' },
      { op: 'openat2', dirfd: 100, path: 'dev/pts', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'mount', source: 'devpts', target: '/proc/thread-self/fd/102', fstype: 'devpts', flags: MS_NOSUID, data: `newinstance,ptmxmode=0666,context="${LABEL}"` },
      { op: 'close', fd: 102 },
      { op: 'close', fd: 100 },
    ]);
  });

  test.each([
    ['a host without SELinux', false, LABEL, 1],
    ['no mount label', true, '', 0],
  ])('the data as given with %s', (_what, selinux, mountLabel, asked) => {
    const { sys, go } = run(selinux, mountLabel);
    go();
    expect(sys.callsOf('open').filter((c) => c.path === '/sys/fs/selinux')).toHaveLength(asked);
    expect(sys.callsOf('mount').map((c) => c.data)).toEqual(['newinstance,ptmxmode=0666']);
  });

  test('a refused labelled mount fails the run, not retried without the label', () => {
    const { sys, go } = run(true, LABEL, true);
    expect(go).toThrow('mounts: plugin default mounts[0] "/dev/pts": mount "devpts" -> "/r/dev/pts": EACCES');
    expect(sys.callsOf('mount')).toHaveLength(1);
  });
});
