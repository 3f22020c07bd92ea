import 'reflect-metadata';
import { MOUNT_ATTR_NOSUID, MOUNT_ATTR_RDONLY, MS_NODEV, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REC, MS_SHARED } from '../../../src/core/constants';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { DefaultMountHandler } from '../../../src/plugins/default';
import { makeConfig, makeMount } from '../../helpers/config';

function setup() {
  const sys = new FakeSyscalls();
  sys.addDir('/r/dev');
  const run = (...mounts: Parameters<typeof makeMount>[0][]) =>
    new Orchestrator(sys, silentLogger, [new DefaultMountHandler(sys)], []).run(
      makeConfig({ rootfs: '/r', mounts: mounts.map((m, index) => makeMount({ index, ...m })) }),
    );
  return { sys, run };
}

describe('default mount handler', () => {
  test('creates the target and mounts with flags and data', () => {
    const { sys, run } = setup();
    run({ type: 'devpts', source: 'devpts', destination: '/dev/pts', flags: MS_NOSUID, data: 'newinstance,ptmxmode=0666' });
    expect(sys.effects()).toEqual([
      { op: 'mkdir', path: '/r/dev/pts', mode: 0o755 },
      { op: 'mount', source: 'devpts', target: '/r/dev/pts', fstype: 'devpts', flags: MS_NOSUID, data: 'newinstance,ptmxmode=0666' },
    ]);
  });

  test('propagation flags follow, one call each, in order, then recursive attributes', () => {
    const { sys, run } = setup();
    run({
      type: 'overlay',
      destination: '/merged',
      propagationFlags: [MS_PRIVATE, MS_SHARED | MS_REC],
      recAttrs: { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, attrClr: 0n },
    });
    expect(sys.effects()).toEqual([
      { op: 'mkdir', path: '/r/merged', mode: 0o755 },
      { op: 'mount', source: 'overlay', target: '/r/merged', fstype: 'overlay', flags: 0n, data: null },
      { op: 'mount', source: null, target: '/r/merged', fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'mount', source: null, target: '/r/merged', fstype: null, flags: MS_SHARED | MS_REC, data: null },
      { op: 'mountSetattr', dirfd: -100, path: '/r/merged', atFlags: 0x8000, attrSet: 0x3n, attrClr: 0n, propagation: 0n },
    ]);
  });

  test('a symlinked destination resolves inside the rootfs', () => {
    const { sys, run } = setup();
    sys.addSymlink('/r/escape', '/../../etc');
    run({ type: 'tmpfs', destination: '/escape/x' });
    expect(sys.callsOf('mount').map((c) => c.target)).toEqual(['/r/etc/x']);
  });

  test('/dev is never mounted read-only on the first call', () => {
    const { sys, run } = setup();
    run({ type: 'devtmpfs', destination: '/dev', flags: MS_RDONLY | MS_NODEV });
    expect(sys.callsOf('mount')[0].flags).toBe(MS_NODEV);
  });

  test.each(['/proc', '/proc/sys', '/proc/self/x'])('%s is refused before anything is made', (destination) => {
    const { sys, run } = setup();
    expect(() => run({ type: 'tmpfs', destination })).toThrow(
      `mounts: plugin default mounts[0] "${destination}": "${destination}" cannot be mounted because it is inside /proc`,
    );
    expect(sys.effects()).toEqual([]);
  });

  test.each([
    ['mkdir', 'mkdir "/r/x": EACCES'],
    ['mount', 'mount "overlay" -> "/r/x": EACCES'],
  ] as const)('a failing %s is a PluginError naming mount, destination and syscall', (op, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES');
    expect(() => run({ type: 'overlay', destination: '/x' })).toThrow(`mounts: plugin default mounts[0] "/x": ${message}`);
  });

  test('a failing propagation call names the syscall', () => {
    const { sys, run } = setup();
    sys.failOn('mount', 'EINVAL', { nth: 2 });
    expect(() => run({ type: 'overlay', destination: '/x', propagationFlags: [MS_SHARED] })).toThrow(
      'mounts: plugin default mounts[0] "/x": mount "/r/x": EINVAL',
    );
  });
});
