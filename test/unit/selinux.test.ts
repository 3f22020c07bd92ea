import { O_CLOEXEC, O_PATH } from '../../src/core/constants';
import { silentLogger } from '../../src/core/logger';
import { parseMountInfo } from '../../src/core/mountinfo';
import {
  CURRENT_LABEL,
  PROC_FILESYSTEMS,
  SELINUXFS,
  SELINUX_ENABLED_KEY,
  formatMountLabel,
  hasSelinuxLabel,
  relabelTree,
  selinuxEnabled,
  selinuxEnabledAfterJail,
  selinuxEnabledWithoutMounts,
} from '../../src/core/selinux';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { hostMountsSelinuxfs } from '../helpers/host-selinux';
import type { RunContext } from '../../src/core/plugin';

describe('formatMountLabel', () => {
  test.each([
    ['', '', ''],
    ['mode=755', '', 'mode=755'],
    ['', 'system_u:object_r:container_file_t:s0', 'context="system_u:object_r:container_file_t:s0"'],
    ['mode=755', 'l', 'mode=755,context="l"'],
  ])('(%j, %j) -> %j', (data, label, expected) => expect(formatMountLabel(data, label)).toBe(expected));
});

describe('selinuxEnabled: as go-selinux\'s GetEnabled decides it for runc', () => {
  const LABEL = 'system_u:system_r:unconfined_t:s0-s0:c0.c1023';
  const FILESYSTEMS = 'nodev\tsysfs\nnodev\tproc\nnodev\tselinuxfs\n\text4\n';
  const probe = (path: string, fd: number) => [
    { op: 'open', path, flags: O_PATH | O_CLOEXEC, mode: 0 },
    { op: 'fstatfs', fd },
    { op: 'close', fd },
  ];
  const readLabel = { op: 'readFile', path: CURRENT_LABEL };
  const readFilesystems = { op: 'readFile', path: PROC_FILESYSTEMS };
  const line = (id: number, mountpoint: string, fstype: string, options = 'rw') => `${id} 1 0:${id} / ${mountpoint} ${options},nosuid,noexec,relatime - ${fstype} ${fstype} rw`;

  /** A run's context whose mount table is `lines` (RunContext.mountTable), counting how often it is asked. */
  function ctx(lines: string[] = []) {
    const asked = { mountTable: 0 };
    const c = {
      shared: new Map(),
      log: silentLogger,
      mountTable: () => (asked.mountTable++, parseMountInfo(lines.join('\n'))),
    } as unknown as RunContext;
    return { c, asked };
  }

  /** A host that runs SELinux: selinuxfs read-write at /sys/fs/selinux, and this thread's label. */
  function selinuxHost(label = `${LABEL}\0`): FakeSyscalls {
    return new FakeSyscalls().addSelinuxfs().addFile(CURRENT_LABEL, label).addFile(PROC_FILESYSTEMS, FILESYSTEMS);
  }

  test('a host that runs SELinux: a read-write selinuxfs at /sys/fs/selinux and a label; asked once per run', () => {
    const sys = selinuxHost();
    const { c, asked } = ctx();
    expect([selinuxEnabled(sys, c), selinuxEnabled(sys, c)]).toEqual([true, true]);
    expect(sys.calls).toEqual([...probe(SELINUXFS, 100), readLabel]);
    expect(asked.mountTable).toBe(0);
    expect(c.shared.get(SELINUX_ENABLED_KEY)).toBe(true);
  });

  test('a read-only selinuxfs (podman\'s in a nested container) is no SELinux: the mounts the run already read are searched, and none is read-write', () => {
    const sys = new FakeSyscalls().addSelinuxfs(SELINUXFS, true).addFile(CURRENT_LABEL, `${LABEL}\0`).addFile(PROC_FILESYSTEMS, FILESYSTEMS);
    const { c, asked } = ctx([line(20, '/', 'ext4'), line(21, '/sys', 'sysfs'), line(22, SELINUXFS, 'selinuxfs', 'ro')]);
    expect(selinuxEnabled(sys, c)).toBe(false);
    expect(sys.calls).toEqual([...probe(SELINUXFS, 100), readFilesystems, ...probe(SELINUXFS, 101)]);
    expect(asked.mountTable).toBe(1);
  });

  test('a read-write selinuxfs elsewhere in the mount table is found there, in the table\'s order, after the read-only one', () => {
    const sys = new FakeSyscalls().addSelinuxfs(SELINUXFS, true).addSelinuxfs('/selinux').addFile(CURRENT_LABEL, `${LABEL}\0`).addFile(PROC_FILESYSTEMS, FILESYSTEMS);
    const { c } = ctx([line(20, '/', 'ext4'), line(22, SELINUXFS, 'selinuxfs', 'ro'), line(23, '/selinux', 'selinuxfs')]);
    expect(selinuxEnabled(sys, c)).toBe(true);
    expect(sys.calls).toEqual([...probe(SELINUXFS, 100), readFilesystems, ...probe(SELINUXFS, 101), ...probe('/selinux', 102), readLabel]);
  });

  test('the label "kernel" (no policy loaded yet) is no SELinux', () => {
    const sys = selinuxHost('kernel\0');
    const { c } = ctx();
    expect(selinuxEnabled(sys, c)).toBe(false);
    expect(sys.calls).toEqual([...probe(SELINUXFS, 100), readLabel]);
  });

  test('no selinuxfs, and none in the kernel\'s filesystems: no SELinux, the mount table never asked', () => {
    const sys = new FakeSyscalls().addFile(PROC_FILESYSTEMS, 'nodev\tsysfs\nnodev\tproc\n\text4\n');
    const { c, asked } = ctx([line(20, '/', 'ext4')]);
    expect(selinuxEnabled(sys, c)).toBe(false);
    expect(sys.calls).toEqual([{ op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 }, readFilesystems]);
    expect(asked.mountTable).toBe(0);
  });

  test('an image\'s /sys/fs/selinux/enforce on a filesystem of its own is no selinuxfs', () => {
    const sys = new FakeSyscalls().addFile(`${SELINUXFS}/enforce`, '1').addFile(CURRENT_LABEL, `${LABEL}\0`);
    const { c } = ctx();
    expect(selinuxEnabled(sys, c)).toBe(false);
    expect(sys.calls).toEqual([...probe(SELINUXFS, 100), readFilesystems]);
  });

  test('a probe\'s errno other than ENOENT is no selinuxfs there, as go-selinux\'s statfs probe takes it; nothing fails', () => {
    const sys = selinuxHost().failOn('open', 'EACCES', { path: SELINUXFS, times: 2 });
    const { c } = ctx([line(22, SELINUXFS, 'selinuxfs')]);
    expect(selinuxEnabled(sys, c)).toBe(false);
    expect(sys.calls).toEqual([
      { op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 },
      readFilesystems,
      { op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 },
    ]);
    const statfsRefused = selinuxHost().failOn('fstatfs', 'EIO');
    expect(selinuxEnabled(statfsRefused, ctx().c)).toBe(false);
    expect(statfsRefused.openFds()).toEqual([]);
    const noFilesystems = selinuxHost().failOn('open', 'EACCES').failOn('readFile', 'EACCES', { path: PROC_FILESYSTEMS });
    expect(selinuxEnabled(noFilesystems, ctx([line(22, SELINUXFS, 'selinuxfs')]).c)).toBe(false);
  });

  test('an unreadable label is not "kernel": SELinux, as go-selinux takes the failed read', () => {
    const sys = selinuxHost().failOn('readFile', 'EINVAL', { path: CURRENT_LABEL });
    expect(selinuxEnabled(sys, ctx().c)).toBe(true);
    expect(sys.calls).toEqual([...probe(SELINUXFS, 100), readLabel]);
  });

  test('a failure that is no errno (a bug) is not taken for an answer', () => {
    const sys = selinuxHost();
    sys.fstatfs = () => {
      throw new TypeError('broken');
    };
    expect(() => selinuxEnabled(sys, ctx().c)).toThrow('broken');
  });
});

describe('selinuxEnabledWithoutMounts: the answer where no mount table may be read (a check before the run)', () => {
  const probe = (path: string, fd: number) => [
    { op: 'open', path, flags: O_PATH | O_CLOEXEC, mode: 0 },
    { op: 'fstatfs', fd },
    { op: 'close', fd },
  ];
  const withSelinuxfs = 'nodev\tproc\nnodev\tselinuxfs\n';

  test.each([
    ['a read-write selinuxfs and a label: yes', (sys: FakeSyscalls) => sys.addSelinuxfs().addFile(CURRENT_LABEL, 'u:r:t:s0\0'), true, [...probe(SELINUXFS, 100), { op: 'readFile', path: CURRENT_LABEL }]],
    ['a read-write selinuxfs and the label "kernel": no', (sys: FakeSyscalls) => sys.addSelinuxfs().addFile(CURRENT_LABEL, 'kernel\0'), false, [...probe(SELINUXFS, 100), { op: 'readFile', path: CURRENT_LABEL }]],
    ['no selinuxfs in the kernel: no', (sys: FakeSyscalls) => sys.addFile(PROC_FILESYSTEMS, 'nodev\tproc\n'), false, [{ op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 }, { op: 'readFile', path: PROC_FILESYSTEMS }]],
    ['a read-only selinuxfs on a kernel with selinuxfs: only the mount table tells', (sys: FakeSyscalls) => sys.addSelinuxfs(SELINUXFS, true).addFile(PROC_FILESYSTEMS, withSelinuxfs), undefined, [...probe(SELINUXFS, 100), { op: 'readFile', path: PROC_FILESYSTEMS }]],
  ])('%s', (_what, host, expected, calls) => {
    const sys = new FakeSyscalls();
    host(sys);
    expect(selinuxEnabledWithoutMounts(sys)).toBe(expected);
    expect(sys.calls).toEqual(calls);
  });
});

describe('selinuxEnabledAfterJail', () => {
  const ctx = () => ({ shared: new Map(), log: silentLogger }) as unknown as RunContext;

  test('gives the answer asked before the jail, and never asks a path itself', () => {
    const sys = new FakeSyscalls().addSelinuxfs();
    const c = ctx();
    expect(() => selinuxEnabledAfterJail(c, 'linux.mountLabel "l"')).toThrow(
      'linux.mountLabel "l": whether the host runs SELinux was not asked before the jail (the prepare-root plugin\'s selinux-state step asks it)',
    );
    expect(selinuxEnabled(sys, c)).toBe(true);
    sys.umount2(SELINUXFS, 0);
    sys.clearCalls();
    expect(selinuxEnabledAfterJail(c, 'x')).toBe(true);
    expect(sys.calls).toEqual([]);
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

describe("hostMountsSelinuxfs: the integration tests' guard for a host without SELinux", () => {
  const line = (id: number, mountpoint: string, fstype: string, source: string): string => `${id} 1 0:${id} / ${mountpoint} rw,relatime shared:1 - ${fstype} ${source} rw`;
  test.each([
    ['no selinuxfs', [line(21, '/', 'ext4', '/dev/vda'), line(22, '/sys', 'sysfs', 'sysfs')], false],
    ['selinuxfs at its usual place', [line(21, '/', 'ext4', '/dev/vda'), line(23, '/sys/fs/selinux', 'selinuxfs', 'selinuxfs')], true],
    ['selinuxfs elsewhere', [line(21, '/', 'ext4', '/dev/vda'), line(24, '/mnt/se', 'selinuxfs', 'none')], true],
    ['a tmpfs at /sys/fs/selinux (an enforce file on it says nothing)', [line(25, '/sys/fs/selinux', 'tmpfs', 'selinuxfs')], false],
    ['a mountpoint named selinuxfs', [line(26, '/selinuxfs', 'tmpfs', 'tmpfs')], false],
  ])('%s', (_name, lines, expected) => {
    expect(hostMountsSelinuxfs(lines.join('\n') + '\n')).toBe(expected);
  });
});
