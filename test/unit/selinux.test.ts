import { formatMountLabel, hasSelinuxLabel, relabelTree, selinuxEnabled, selinuxEnabledAfterJail } from '../../src/core/selinux';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import type { RunContext } from '../../src/core/plugin';

describe('formatMountLabel', () => {
  test.each([
    ['', '', ''],
    ['mode=755', '', 'mode=755'],
    ['', 'system_u:object_r:container_file_t:s0', 'context="system_u:object_r:container_file_t:s0"'],
    ['mode=755', 'l', 'mode=755,context="l"'],
  ])('(%j, %j) -> %j', (data, label, expected) => expect(formatMountLabel(data, label)).toBe(expected));
});

describe('selinuxEnabled', () => {
  const ctx = () => ({ shared: new Map() }) as unknown as RunContext;

  test('is decided by selinuxfs and asked once per run', () => {
    const sys = new FakeSyscalls();
    const c = ctx();
    expect([selinuxEnabled(sys, c), selinuxEnabled(sys, c)]).toEqual([false, false]);
    expect(sys.callsOf('stat')).toHaveLength(1);
    sys.addFile('/sys/fs/selinux/enforce', '1');
    expect(selinuxEnabled(sys, ctx())).toBe(true);
  });
});

describe('selinuxEnabledAfterJail', () => {
  const ctx = () => ({ shared: new Map() }) as unknown as RunContext;

  test('gives the answer asked before the jail, and never asks a path itself', () => {
    const sys = new FakeSyscalls();
    sys.addFile('/sys/fs/selinux/enforce', '1');
    const c = ctx();
    expect(() => selinuxEnabledAfterJail(c, 'linux.mountLabel "l"')).toThrow(
      'linux.mountLabel "l": whether the host runs SELinux was not asked before the jail (the prepare-root plugin\'s selinux-state step asks it)',
    );
    expect(selinuxEnabled(sys, c)).toBe(true);
    sys.unlink('/sys/fs/selinux/enforce');
    expect(selinuxEnabledAfterJail(c, 'x')).toBe(true);
    expect(sys.callsOf('stat')).toHaveLength(1);
  });

  test.each([
    ['', '', false],
    ['m', '', true],
    ['', 'p', true],
  ])('hasSelinuxLabel: mountLabel %j, process.selinuxLabel %j -> %j', (mountLabel, selinuxLabel, expected) => {
    expect(hasSelinuxLabel({ mountLabel, process: { selinuxLabel } as never })).toBe(expected);
  });
});

describe('relabelTree', () => {
  test('labels every entry, without following links', () => {
    const sys = new FakeSyscalls();
    sys.addFile('/src/a');
    sys.addSymlink('/src/l', '/etc');
    relabelTree(sys, '/src', 'L');
    expect(sys.effects()).toEqual([
      { op: 'lsetxattr', path: '/src', name: 'security.selinux', value: 'L' },
      { op: 'lsetxattr', path: '/src/a', name: 'security.selinux', value: 'L' },
      { op: 'lsetxattr', path: '/src/l', name: 'security.selinux', value: 'L' },
    ]);
  });
});
