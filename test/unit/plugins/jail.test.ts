import 'reflect-metadata';
import type { NamespaceSpec } from '../../../src/core/config/model';
import { MNT_DETACH, MS_MOVE, MS_REC, MS_SLAVE, O_DIRECTORY, O_RDONLY } from '../../../src/core/constants';
import { silentLogger } from '../../../src/core/logger';
import { parseMountInfo } from '../../../src/core/mountinfo';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls, type FailOptions } from '../../../src/core/syscalls/fake';
import type { SyscallName } from '../../../src/core/syscalls/types';
import { JailStep, chooseJail, hostPseudoMounts, register, type JailStrategy } from '../../../src/plugins/jail';
import { pseudoMountParents } from '../../../src/plugins/jail/pseudo-mounts';
import { makeConfig } from '../../helpers/config';

const R = '/r';
const DIR = O_DIRECTORY | O_RDONLY;

/** One /proc/self/mountinfo line. */
function line(id: number, mountpoint: string, fstype: string, root = '/', parent = 1): string {
  return `${id} ${parent} 0:${id} ${root} ${mountpoint} rw,relatime - ${fstype} ${fstype} rw`;
}

function setup(over: Parameters<typeof makeConfig>[0] = {}, mountinfo: string[] = [line(1, '/', 'ext4')]) {
  const sys = new FakeSyscalls();
  // The rootfs is the root of a mount, as prepare-root's bind leaves it: pivot_root needs one.
  sys.addDir(R).addMountpoint(R);
  sys.addFile('/proc/self/mountinfo', mountinfo.join('\n') + '\n');
  const run = () => new Orchestrator(sys, silentLogger, [], [new JailStep(sys)]).run(makeConfig({ rootfs: R, ...over }));
  return { sys, run };
}

describe('chooseJail', () => {
  test.each<[string, boolean, NamespaceSpec[], JailStrategy]>([
    ['noPivot with a mount namespace', true, [{ type: 'mount' }], 'move-root'],
    ['noPivot without a mount namespace (runc checks noPivot first)', true, [], 'move-root'],
    ['a new mount namespace', false, [{ type: 'pid' }, { type: 'mount' }], 'pivot'],
    ['a joined mount namespace', false, [{ type: 'mount', path: '/proc/1/ns/mnt' }], 'pivot'],
    ['other namespaces but no mount namespace', false, [{ type: 'pid' }, { type: 'network' }], 'chroot'],
    ['no namespaces at all', false, [], 'chroot'],
  ])('%s', (_what, noPivot, namespaces, expected) => {
    expect(chooseJail(makeConfig({ noPivot, namespaces }))).toBe(expected);
  });
});

describe('hostPseudoMounts and pseudoMountParents', () => {
  const table = parseMountInfo(
    [
      line(1, '/', 'ext4'),
      line(2, '/proc', 'proc'),
      line(3, '/sys', 'sysfs'),
      line(4, '/sys/fs/cgroup', 'tmpfs'),
      line(5, '/r/proc', 'proc'),
      line(6, '/r', 'ext4'),
      line(7, '/r/sys/deep', 'sysfs'),
      line(8, '/r2/proc', 'proc'),
      line(9, '/host/sys-part', 'sysfs', '/kernel'),
      line(10, '/host/proc-sys', 'proc', '/sys'),
      line(11, '/sys/kernel/debug', 'debugfs'),
      line(13, '/var/lib', 'tmpfs'),
      line(12, '/var/lib/proc', 'proc', '/', 13),
    ].join('\n'),
  );
  test('full proc and sysfs mounts outside the rootfs, in table order', () => {
    expect(hostPseudoMounts(table, R)).toEqual(['/proc', '/sys', '/r2/proc', '/var/lib/proc']);
  });
  test('an unclean rootfs path is compared cleaned', () => {
    expect(hostPseudoMounts(table, '/r2/../r/')).toEqual(['/proc', '/sys', '/r2/proc', '/var/lib/proc']);
  });
  test('nothing when there is none', () => {
    expect(hostPseudoMounts(parseMountInfo(line(1, '/', 'ext4')), R)).toEqual([]);
  });
  test('the parents: / and the mounts the pseudo mounts outside the rootfs sit on, each once, in table order', () => {
    expect(pseudoMountParents(table, R)).toEqual(['/', '/var/lib']);
  });
  test('/ alone without pseudo mounts', () => {
    expect(pseudoMountParents(parseMountInfo(line(1, '/', 'ext4')), R)).toEqual(['/']);
  });
});

describe('jail step: pivot_root', () => {
  const pivotEffects = [
    { op: 'chdir', path: R },
    { op: 'open', path: '/', flags: DIR, mode: 0 },
    { op: 'open', path: R, flags: DIR, mode: 0 },
    { op: 'fchdir', fd: 101 },
    { op: 'pivotRoot', newRoot: '.', putOld: '.' },
    { op: 'fchdir', fd: 100 },
    { op: 'mount', source: null, target: '.', fstype: null, flags: MS_SLAVE | MS_REC, data: null },
    { op: 'umount2', target: '.', flags: MNT_DETACH },
    { op: 'chdir', path: '/' },
    { op: 'close', fd: 101 },
    { op: 'close', fd: 100 },
  ];

  test('chdir into the rootfs, pivot ".", "." between the two directory fds, detach the old root', () => {
    const { sys, run } = setup();
    run();
    expect(sys.effects()).toEqual(pivotEffects);
  });

  const closes = [
    { op: 'close', fd: 101 },
    { op: 'close', fd: 100 },
  ];
  test.each<[string, SyscallName, string, FailOptions, string, object[]]>([
    ['chdir into the rootfs', 'chdir', 'ENOENT', { path: R }, `chdir "${R}": ENOENT`, []],
    ['open of the old root', 'open', 'EACCES', { path: '/' }, 'open "/": EACCES', []],
    ['open of the new root', 'open', 'ENOTDIR', { path: R }, `open "${R}": ENOTDIR`, [{ op: 'close', fd: 100 }]],
    ['fchdir into the new root', 'fchdir', 'EBADF', { nth: 1 }, 'fchdir: EBADF', closes],
    ['pivot_root', 'pivotRoot', 'EINVAL', {}, 'pivot_root "." -> ".": EINVAL', closes],
    ['fchdir back to the old root', 'fchdir', 'EBADF', { nth: 2 }, 'fchdir: EBADF', closes],
    ['rslave of the old root', 'mount', 'EINVAL', {}, 'mount ".": EINVAL', closes],
    ['detach of the old root', 'umount2', 'EBUSY', {}, 'umount2 ".": EBUSY', closes],
    ['chdir to the new /', 'chdir', 'ENOENT', { path: '/' }, 'chdir "/": ENOENT', closes],
  ])('a failing %s is a PluginError; the fds opened are closed', (_what, op, errno, opts, message, tail) => {
    const { sys, run } = setup();
    sys.failOn(op, errno, opts);
    expect(() => run()).toThrow(`jail: plugin jail: ${message}`);
    const effects = sys.effects();
    const failedAt = effects.length - tail.length;
    expect(effects.slice(0, failedAt)).toEqual(pivotEffects.slice(0, failedAt));
    expect(effects.slice(failedAt)).toEqual(tail);
  });

  test('a failing close of the new root still closes the old one', () => {
    const { sys, run } = setup();
    sys.failOn('close', 'EIO', { nth: 1 });
    expect(() => run()).toThrow('jail: plugin jail: close: EIO');
    expect(sys.effects()).toEqual(pivotEffects);
  });

  test('a failing close of the old root is reported', () => {
    const { sys, run } = setup();
    sys.failOn('close', 'EIO', { nth: 2 });
    expect(() => run()).toThrow('jail: plugin jail: close: EIO');
    expect(sys.effects()).toEqual(pivotEffects);
  });
});

describe('jail step: MS_MOVE and chroot (noPivot)', () => {
  const mountinfo = [
    line(1, '/', 'ext4'),
    line(2, '/proc', 'proc'),
    line(3, '/sys', 'sysfs'),
    line(4, '/sys/fs/cgroup', 'tmpfs'),
    line(5, '/gone/proc', 'proc'),
    line(6, '/r', 'ext4'),
    line(7, '/r/proc', 'proc'),
  ];
  const slave = (target: string) => ({ op: 'mount', source: null, target, fstype: null, flags: MS_SLAVE | MS_REC, data: null });
  const detach = (target: string) => ({ op: 'umount2', target, flags: MNT_DETACH });
  const tmpfs = (target: string) => ({ op: 'mount', source: 'tmpfs', target, fstype: 'tmpfs', flags: 0n, data: null });
  const rootSlave = { op: 'mount', source: null, target: '/', fstype: null, flags: MS_SLAVE, data: null };
  const move = { op: 'mount', source: R, target: '/', fstype: null, flags: MS_MOVE, data: null };
  const chroot = [
    { op: 'chroot', path: '.' },
    { op: 'chdir', path: '/' },
  ];

  function noPivot() {
    const s = setup({ noPivot: true }, mountinfo);
    s.sys.addDir('/proc').addDir('/sys/fs/cgroup').addDir('/r/proc');
    // The mounts the table lists are there (but for the vanished one): mount(2) changes and moves a mount at its root only.
    for (const m of parseMountInfo(mountinfo.join('\n'))) if (s.sys.node(m.mountpoint)) s.sys.addMountpoint(m.mountpoint);
    return s;
  }

  test('host proc and sysfs are detached (a vanished one skipped), / made a slave (its peers would get the move), the rootfs moved onto /, then chroot', () => {
    const { sys, run } = noPivot();
    run();
    expect(sys.effects()).toEqual([
      { op: 'chdir', path: R },
      rootSlave,
      slave('/proc'),
      detach('/proc'),
      slave('/sys'),
      detach('/sys'),
      slave('/gone/proc'),
      move,
      ...chroot,
    ]);
  });

  test.each(['EINVAL', 'EPERM'])('a mount that cannot be unmounted (%s) is covered with a tmpfs', (errno) => {
    const { sys, run } = noPivot();
    sys.failOn('umount2', errno, { path: '/sys' });
    run();
    expect(sys.effects()).toEqual([
      { op: 'chdir', path: R },
      rootSlave,
      slave('/proc'),
      detach('/proc'),
      slave('/sys'),
      detach('/sys'),
      tmpfs('/sys'),
      slave('/gone/proc'),
      move,
      ...chroot,
    ]);
  });

  const all = [{ op: 'chdir', path: R }, rootSlave, slave('/proc'), detach('/proc'), slave('/sys'), detach('/sys'), slave('/gone/proc'), move, ...chroot];
  test.each<[string, SyscallName, string, FailOptions, string, number]>([
    ['slave of /', 'mount', 'EINVAL', { path: '/' }, 'mount "/": EINVAL', 2],
    ['rslave of a host mount', 'mount', 'EACCES', { path: '/proc' }, 'mount "/proc": EACCES', 3],
    ['unmount of a host mount', 'umount2', 'EBUSY', { path: '/proc' }, 'umount2 "/proc": EBUSY', 4],
    ['move of the rootfs', 'mount', 'EINVAL', { path: '/', nth: 2 }, `mount "${R}" -> "/": EINVAL`, 8],
    ['chroot', 'chroot', 'EPERM', {}, 'chroot ".": EPERM', 9],
    ['chdir to the new /', 'chdir', 'ENOENT', { path: '/' }, 'chdir "/": ENOENT', 10],
  ])('a failing %s is a PluginError and nothing follows it', (_what, op, errno, opts, message, made) => {
    const { sys, run } = noPivot();
    sys.failOn(op, errno, opts);
    expect(() => run()).toThrow(`jail: plugin jail: ${message}`);
    expect(sys.effects()).toEqual(all.slice(0, made));
  });

  test('a failing tmpfs cover is a PluginError and nothing follows it', () => {
    const { sys, run } = noPivot();
    sys.failOn('umount2', 'EPERM', { path: '/sys' });
    sys.failOn('mount', 'ENOSPC', { path: '/sys', nth: 2 });
    expect(() => run()).toThrow('jail: plugin jail: mount "tmpfs" -> "/sys": ENOSPC');
    expect(sys.effects()).toEqual([...all.slice(0, 6), tmpfs('/sys')]);
  });
});

describe('jail step: chroot (no mount namespace)', () => {
  test('chdir into the rootfs, chroot ".", chdir "/"', () => {
    const { sys, run } = setup({ namespaces: [{ type: 'pid' }] });
    run();
    expect(sys.effects()).toEqual([
      { op: 'chdir', path: R },
      { op: 'chroot', path: '.' },
      { op: 'chdir', path: '/' },
    ]);
  });

  test('a failing chroot is a PluginError and the cwd stays', () => {
    const { sys, run } = setup({ namespaces: [] });
    sys.failOn('chroot', 'EPERM');
    expect(() => run()).toThrow('jail: plugin jail: chroot ".": EPERM');
    expect(sys.effects()).toEqual([
      { op: 'chdir', path: R },
      { op: 'chroot', path: '.' },
    ]);
  });
});

test('register adds the jail step', () => {
  const steps: unknown[] = [];
  register({ step: (s: unknown) => steps.push(s) } as unknown as Parameters<typeof register>[0]);
  expect(steps).toEqual([JailStep]);
  expect(new JailStep(new FakeSyscalls())).toMatchObject({ name: 'jail', phase: 'jail', order: 'normal' });
});
