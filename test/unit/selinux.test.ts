import { formatMountLabel, relabelTree, selinuxEnabled } from '../../src/core/selinux';
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
