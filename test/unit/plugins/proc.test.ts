import 'reflect-metadata';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_RDONLY,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_SLAVE,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
} from '../../../src/core/constants';
import { IN_ROOT_NO_SYMLINKS } from '../../../src/core/in-root';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import type { FileKind } from '../../../src/core/syscalls/types';
import { ProcMountHandler } from '../../../src/plugins/proc';
import { realDirectoryProblem } from '../../../src/plugins/proc/target';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, fdOf, viaFd } from '../../helpers/fd';

const NOSUID_NODEV_NOEXEC = MS_NOSUID | MS_NODEV | MS_NOEXEC;

function setup(over: { mountLabel?: string } = {}) {
  const sys = new FakeSyscalls();
  sys.addDir('/r');
  const run = (...mounts: Parameters<typeof makeMount>[0][]) =>
    new Orchestrator(sys, silentLogger, [new ProcMountHandler(sys)], []).run(
      makeConfig({ rootfs: '/r', ...over, mounts: mounts.map((m, index) => makeMount({ index, ...m })) }),
      { checkClaims: false },
    );
  return { sys, run };
}

describe('proc/sysfs mount handler', () => {
  test('an existing /proc is opened without following a link (and without one on the way, to know where it is), checked on its descriptor and mounted through it', () => {
    const { sys, run } = setup();
    sys.addDir('/r/proc');
    run({ type: 'proc', source: 'proc', destination: '/proc', flags: NOSUID_NODEV_NOEXEC });
    const PATH = O_PATH | O_CLOEXEC;
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'proc', flags: PATH | O_NOFOLLOW, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'fstat', fd: 101 },
      { op: 'mount', source: 'proc', target: '/proc/thread-self/fd/101', fstype: 'proc', flags: NOSUID_NODEV_NOEXEC, data: null },
      { op: 'close', fd: 101 },
      // The rootfs kept for the run, closed when the run ends.
      { op: 'close', fd: 100 },
    ]);
    expect(sys.pathOf(101)).toBe('/r/proc');
  });

  test('a missing /proc is created, then proc is mounted with its flags', () => {
    const { sys, run } = setup();
    run({ type: 'proc', source: 'proc', destination: '/proc', flags: NOSUID_NODEV_NOEXEC });
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'proc', mode: 0o755 },
      { op: 'mount', source: 'proc', target: viaFd(sys, '/r/proc'), fstype: 'proc', flags: NOSUID_NODEV_NOEXEC, data: null },
    ]);
    expect(sys.openFds()).toEqual([]);
  });

  test('missing parents are created too', () => {
    const { sys, run } = setup();
    run({ type: 'proc', destination: '/a/b/proc' });
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'a', mode: 0o755 },
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/a'), path: 'b', mode: 0o755 },
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/a/b'), path: 'proc', mode: 0o755 },
      { op: 'mount', source: 'proc', target: viaFd(sys, '/r/a/b/proc'), fstype: 'proc', flags: 0n, data: null },
    ]);
  });

  test('an existing /sys directory takes sysfs as is; data passes through, never a SELinux label', () => {
    const { sys, run } = setup({ mountLabel: 'system_u:object_r:container_file_t:s0' });
    sys.addSelinuxfs();
    sys.addDir('/r/sys');
    run({ type: 'sysfs', source: 'sysfs', destination: '/sys/', flags: NOSUID_NODEV_NOEXEC | MS_RDONLY, data: 'x=1' });
    expect(changes(sys)).toEqual([
      { op: 'mount', source: 'sysfs', target: viaFd(sys, '/r/sys'), fstype: 'sysfs', flags: NOSUID_NODEV_NOEXEC | MS_RDONLY, data: 'x=1' },
    ]);
  });

  test('propagation flags follow, one call each, in order, then recursive attributes', () => {
    const { sys, run } = setup();
    sys.addDir('/r/proc');
    run({
      type: 'proc',
      destination: '/proc',
      propagationFlags: [MS_PRIVATE, MS_SLAVE | MS_REC],
      recAttrs: { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC, attrClr: 0n },
    });
    // The mount is made through the descriptor opened before it (101); what follows goes
    // through the target's name opened again in its parent (102, `..` of 101), which
    // crosses into the new mount (103), checked to be it (afterMount).
    expect(changes(sys)).toEqual([
      { op: 'mount', source: 'proc', target: '/proc/thread-self/fd/101', fstype: 'proc', flags: 0n, data: null },
      { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_SLAVE | MS_REC, data: null },
      { op: 'mountSetattr', dirfd: 103, path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: 0x9n, attrClr: 0n, propagation: 0n },
    ]);
    expect([sys.pathOf(101), sys.pathOf(102), sys.pathOf(103)]).toEqual(['/r/proc', '/r', '/r/proc']);
    expect(sys.openFds()).toEqual([]);
  });

  test('the destination is cleaned and its parent resolved inside the rootfs', () => {
    const { sys, run } = setup();
    sys.addSymlink('/r/mnt', '/../../host');
    run({ type: 'proc', destination: '/mnt/./x/../proc//' });
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'host', mode: 0o755 },
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/host'), path: 'proc', mode: 0o755 },
      { op: 'mount', source: 'proc', target: viaFd(sys, '/r/host/proc'), fstype: 'proc', flags: 0n, data: null },
    ]);
    expect(sys.node('/host')).toBeUndefined();
  });

  test.each([
    ['/proc', 'proc', '/'],
    ['/proc', 'proc', '/r/proc-real'],
    ['/sys', 'sysfs', '../../../sys'],
  ])('a symlink at %s is refused for %s (pointing to %s) before anything is made', (destination, type, link) => {
    const { sys, run } = setup();
    sys.addDir('/r/proc-real');
    sys.addSymlink(`/r${destination}`, link);
    expect(() => run({ type, destination })).toThrow(
      `mounts: plugin proc mounts[0] "${destination}": "${destination}" must be a real directory, not a symlink`,
    );
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test('the refusal names the resolved container path when a parent was a link', () => {
    const { sys, run } = setup();
    sys.addSymlink('/r/mnt', 'inner');
    sys.addSymlink('/r/inner/proc', '/etc');
    expect(() => run({ type: 'proc', destination: '/mnt/proc' })).toThrow(
      'mounts: plugin proc mounts[0] "/mnt/proc": "/inner/proc" must be a real directory, not a symlink',
    );
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['proc', '/proc/sys/net', '"/proc/sys/net" cannot be mounted because it is inside /proc'],
    ['proc', '/proc/thread-self/fd', '"/proc/thread-self/fd" cannot be mounted because it is inside /proc'],
    ['sysfs', '/proc/sys', '"/proc/sys" cannot be mounted because it is inside /proc'],
    ['sysfs', '/proc', '"/proc" takes only a proc filesystem, or a bind of one'],
    ['proc', '/mnt/../proc/./sys', '"/proc/sys" cannot be mounted because it is inside /proc'],
  ])('%s at %s is refused before anything is made, as runc 1.2 refuses it', (type, destination, reason) => {
    const { sys, run } = setup();
    sys.addDir('/r/proc/sys/net');
    sys.addDir('/r/mnt');
    expect(() => run({ type, destination })).toThrow(`mounts: plugin proc mounts[0] ${JSON.stringify(destination)}: ${reason}`);
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test('a link in the image that leads into /proc is refused where it leads', () => {
    const { sys, run } = setup();
    sys.addDir('/r/proc/sys');
    sys.addSymlink('/r/mnt', '/proc/sys');
    expect(() => run({ type: 'proc', destination: '/mnt/net' })).toThrow('mounts: plugin proc mounts[0] "/mnt/net": "/proc/sys/net" cannot be mounted because it is inside /proc');
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['file', (sys: FakeSyscalls) => sys.addFile('/r/proc'), 'regular file'],
    ['char device', (sys: FakeSyscalls) => sys.addDevice('/r/proc', 'char', 1, 3), 'character device'],
  ])('a %s at the target is refused', (_what, make, word) => {
    const { sys, run } = setup();
    make(sys);
    expect(() => run({ type: 'proc', destination: '/proc' })).toThrow(
      `mounts: plugin proc mounts[0] "/proc": "/proc" must be a real directory, not a ${word}`,
    );
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['lookup of the target', 'openat2', {}, 'openat2 "/r/proc": EACCES'],
    ['fstat of the target', 'fstat', {}, 'fstat: EACCES'],
    ['mount', 'mount', {}, 'mount "proc" -> "/r/proc": EACCES'],
    ['propagation call', 'mount', { nth: 2 }, 'mount "/r/proc": EACCES'],
    ['mountSetattr', 'mountSetattr', {}, 'mount_setattr "/r/proc": EACCES'],
  ] as const)('a failing %s is a PluginError naming mount, destination and syscall', (_what, op, opts, message) => {
    const { sys, run } = setup();
    sys.addDir('/r/proc');
    sys.failOn(op, 'EACCES', { ...opts, path: '/r/proc' });
    expect(() =>
      run({ type: 'proc', destination: '/proc', propagationFlags: [MS_PRIVATE], recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n } }),
    ).toThrow(`mounts: plugin proc mounts[0] "/proc": ${message}`);
    expect(sys.openFds()).toEqual([]);
  });

  test('a failing mkdirat of a missing target names it', () => {
    const { sys, run } = setup();
    sys.failOn('mkdirat', 'EACCES');
    expect(() => run({ type: 'proc', destination: '/proc' })).toThrow('mounts: plugin proc mounts[0] "/proc": mkdirat "/r/proc": EACCES');
    expect(sys.openFds()).toEqual([]);
  });
});

describe('realDirectoryProblem', () => {
  test.each([
    ['dir', undefined],
    ['symlink', '"/proc" must be a real directory, not a symlink'],
    ['file', '"/proc" must be a real directory, not a regular file'],
    ['char', '"/proc" must be a real directory, not a character device'],
    ['block', '"/proc" must be a real directory, not a block device'],
    ['fifo', '"/proc" must be a real directory, not a fifo'],
    ['socket', '"/proc" must be a real directory, not a socket'],
  ] as const)('%s', (kind: FileKind, problem) => {
    expect(realDirectoryProblem('/proc', kind)).toBe(problem);
  });
});
