import 'reflect-metadata';
import { FSCONFIG_CMD_CREATE, FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING, MS_BIND, MS_RDONLY, MS_REC, MS_SLAVE, O_CLOEXEC, O_PATH, O_WRONLY } from '../../../src/core/constants';
import { createKernel } from '../../../src/core/kernel';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { LifecycleStep } from '../../../src/core/plugin';
import { PROC_FILE_RESOLVE, PROC_ROOT_FLAGS } from '../../../src/core/procfs';
import { CURRENT_LABEL, PROC_FILESYSTEMS, SELINUXFS, selinuxEnabled } from '../../../src/core/selinux';
import type { RootfsConfig } from '../../../src/core/config/model';
import { ExecveCalled, FakeSyscalls } from '../../../src/core/syscalls/fake';
import { HandoverStep } from '../../../src/plugins/exec';
import { MaskedPathsStep } from '../../../src/plugins/finalize';
import { PrepareRootStep, SelinuxStateStep } from '../../../src/plugins/prepare-root';
import { makeConfig } from '../../helpers/config';
import { changes, viaFd } from '../../helpers/fd';

/**
 * Whether the host runs SELinux is the host's answer, asked before the jail, for the
 * steps after it too. The fake never changes what a path resolves to at pivot_root, so a
 * stand-in jail step changes the model instead: after it `/sys/fs/selinux` is what the
 * container's `/sys` shows, a fresh sysfs without selinuxfs (its selinuxfs unmounted), or
 * a selinuxfs of its own.
 */

const PROCESS_LABEL = 'system_u:system_r:container_t:s0:c1,c2';
const MOUNT_LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';
const STREAMS_BLOCKING = [0, 1, 2].map((fd) => ({ op: 'setBlocking', fd }));
/** The question's calls on a host that runs SELinux (core/selinux.ts): statfs(2) of /sys/fs/selinux by a descriptor, then this thread's label. */
const ASKED = (fd: number) => [
  { op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 },
  { op: 'fstatfs', fd },
  { op: 'close', fd },
  { op: 'readFile', path: CURRENT_LABEL },
];
/** The question's calls on a host without SELinux: no /sys/fs/selinux, no selinuxfs in the kernel. */
const ASKED_NONE = [
  { op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 },
  { op: 'readFile', path: PROC_FILESYSTEMS },
];

/** A jail that leaves `/sys/fs/selinux` as the container shows it: no selinuxfs (umount2(2), recorded), or one of its own. */
function standInJail(sys: FakeSyscalls, containerSays: boolean): LifecycleStep {
  return { name: 'jail', phase: 'jail', run: () => void (containerSays ? sys.addSelinuxfs() : sys.umount2(SELINUXFS, 0)) };
}

function host(selinux: boolean): FakeSyscalls {
  const sys = new FakeSyscalls();
  if (selinux) sys.addSelinuxfs();
  return sys;
}

function run(sys: FakeSyscalls, steps: LifecycleStep[], over: Partial<RootfsConfig>): void {
  new Orchestrator(sys, silentLogger, [], steps).run(makeConfig(over), { checkClaims: false });
}

describe('selinux-state (prepare-root)', () => {
  test('runs after the rootfs is prepared, and asks the host only for a config with a label, once', () => {
    const sys = host(true);
    const step = new SelinuxStateStep(sys);
    expect([step.name, step.phase, step.order]).toEqual(['selinux-state', 'prepare-root', 'post']);
    run(sys, [step], {});
    expect(sys.calls).toEqual([]);
    run(sys, [step], { mountLabel: MOUNT_LABEL });
    expect(sys.calls).toEqual(ASKED(100));
  });

  test('the default plugin list runs it after the prepare-root step (whose mount table it may use) and before the mounts and the jail', () => {
    const names = createKernel({ syscalls: new FakeSyscalls() }).orchestrator.orderedSteps().map((s) => s.name);
    const at = names.indexOf('selinux-state');
    expect(names.indexOf('prepare-root')).toBe(at - 1);
    expect(names.indexOf('jail')).toBeGreaterThan(at);
  });

  test('a read-only selinuxfs is searched for among the mounts the prepare-root step read: /proc/self/mountinfo is read once in the run, and no label is asked', () => {
    const sys = host(false).addSelinuxfs(SELINUXFS, true).addDir('/rootfs').addFile(PROC_FILESYSTEMS, 'nodev\tproc\nnodev\tselinuxfs\n');
    sys.addFile('/proc/self/mountinfo', ['20 1 8:1 / / rw - ext4 /dev/sda1 rw', `22 20 0:22 / ${SELINUXFS} ro,nosuid,noexec,relatime - selinuxfs selinuxfs rw`].join('\n'));
    const config = makeConfig({ rootfs: '/rootfs', mountLabel: MOUNT_LABEL });
    new Orchestrator(sys, silentLogger, [], [new SelinuxStateStep(sys), new PrepareRootStep(sys)]).run(config, { checkClaims: false });
    expect(sys.calls).toEqual([
      { op: 'chdir', path: '/rootfs' },
      { op: 'mount', source: null, target: '/', fstype: null, flags: MS_REC | MS_SLAVE, data: null },
      { op: 'readFile', path: '/proc/self/mountinfo' },
      { op: 'mount', source: '/rootfs', target: '/rootfs', fstype: 'bind', flags: MS_BIND | MS_REC, data: null },
      { op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 },
      { op: 'fstatfs', fd: 100 },
      { op: 'close', fd: 100 },
      { op: 'readFile', path: PROC_FILESYSTEMS },
      { op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 },
      { op: 'fstatfs', fd: 101 },
      { op: 'close', fd: 101 },
    ]);
  });

  test('a failing probe is an answer, as go-selinux takes it, and does not stop the run', () => {
    const sys = host(true).failOn('open', 'EACCES', { path: SELINUXFS });
    run(sys, [new SelinuxStateStep(sys)], { mountLabel: MOUNT_LABEL });
    expect(sys.calls).toEqual([{ op: 'open', path: SELINUXFS, flags: O_PATH | O_CLOEXEC, mode: 0 }, { op: 'readFile', path: PROC_FILESYSTEMS }]);
  });
});

describe('process.selinuxLabel after the jail', () => {
  function setup(selinux: boolean) {
    const sys = host(selinux);
    sys.addFile('/bin/sh', '', 0o755).addDir('/work').addFile('/proc/1/task/1/attr/exec');
    sys.addDir('/proc/1/task/1/fd').addSymlink('/proc/thread-self', '1/task/1').addSymlink('/proc/self', '1').mount('proc', '/proc', 'proc', 0n, null);
    sys.clearCalls();
    const config = { process: { args: ['sh'], env: ['PATH=/bin', 'HOME=/'], cwd: '/work', uid: 0, gid: 0, terminal: false, selinuxLabel: PROCESS_LABEL } };
    return { sys, config };
  }

  test('on a host with SELinux, a container /sys without selinuxfs (no mqueue mount asked first) still gets the label written', () => {
    const { sys, config } = setup(true);
    expect(() => run(sys, [new SelinuxStateStep(sys), standInJail(sys, false), new HandoverStep(sys)], config)).toThrow(ExecveCalled);
    expect(sys.calls.slice(0, 16)).toEqual([
      ...ASKED(100),
      { op: 'umount2', target: SELINUXFS, flags: 0 },
      { op: 'chdir', path: '/work' },
      ...STREAMS_BLOCKING,
      { op: 'open', path: '/proc', flags: PROC_ROOT_FLAGS, mode: 0 },
      { op: 'fstatfs', fd: 101 },
      { op: 'fstat', fd: 101 },
      { op: 'readlinkat', dirfd: 101, path: 'thread-self' },
      { op: 'openat2', dirfd: 101, path: '1/task/1/attr/exec', flags: O_WRONLY | O_CLOEXEC, mode: 0, resolve: PROC_FILE_RESOLVE },
      { op: 'write', fd: 102, data: PROCESS_LABEL },
      { op: 'close', fd: 102 },
    ]);
  });

  test('on a host without SELinux the label is refused once asked, before the rootfs\'s mounts and hooks, as runc\'s validator refuses it', () => {
    const { sys, config } = setup(false);
    expect(() => run(sys, [new SelinuxStateStep(sys), standInJail(sys, true), new HandoverStep(sys)], config)).toThrow(
      `prepare-root: plugin selinux-state: process.selinuxLabel "${PROCESS_LABEL}": is set, but SELinux is disabled or not supported on this host`,
    );
    expect(sys.calls).toEqual(ASKED_NONE);
  });

  test('on a host without SELinux, a container whose /sys shows a selinuxfs gets no label written: the exec step refuses by the answer from before the jail', () => {
    const { sys, config } = setup(false);
    // Asked before the jail by a mount, as a handler asks it in a run whose plugin list has no selinux-state step.
    const mountAsks: LifecycleStep = { name: 'labelled-mount', phase: 'mounts', run: (ctx) => void selinuxEnabled(sys, ctx) };
    expect(() => run(sys, [mountAsks, standInJail(sys, true), new HandoverStep(sys)], config)).toThrow(
      `finalize: plugin exec: process.selinuxLabel "${PROCESS_LABEL}": is set, but SELinux is disabled or not supported on this host`,
    );
    expect(sys.calls).toEqual([...ASKED_NONE, { op: 'chdir', path: '/work' }, ...STREAMS_BLOCKING]);
  });

  test('a run that did not ask before the jail fails before writing, rather than ask the container', () => {
    const { sys, config } = setup(true);
    expect(() => run(sys, [new HandoverStep(sys)], config)).toThrow(
      `finalize: plugin exec: process.selinuxLabel "${PROCESS_LABEL}": whether the host runs SELinux was not asked before the jail (the prepare-root plugin's selinux-state step asks it)`,
    );
    expect(sys.callsOf('write')).toEqual([]);
    expect(sys.callsOf('open').filter((c) => c.path === SELINUXFS)).toEqual([]);
  });
});

describe('masked directories: the tmpfs gets linux.mountLabel on a host with SELinux, as runc gives it', () => {
  function container(selinux: boolean): FakeSyscalls {
    const sys = host(selinux)
      .addDir('/proc/1/task/1/fd')
      .addSymlink('/proc/thread-self', '1/task/1')
      .addDevice('/dev/null', 'char', 1, 3)
      .addFile('/proc/kcore', 'host memory')
      .addDir('/proc/acpi')
      .addDir('/proc/scsi');
    sys.mount('proc', '/proc', 'proc', 0n, null);
    return sys.clearCalls();
  }
  const masks = ['/proc/kcore', '/proc/acpi', '/proc/scsi'];
  const bindNull = (sys: FakeSyscalls) => ({ op: 'mount', source: viaFd(sys, '/dev/null'), target: viaFd(sys, '/proc/kcore'), fstype: null, flags: MS_BIND, data: null });
  const tmpfs = (sys: FakeSyscalls, data: string | null) => ({ op: 'mount', source: 'tmpfs', target: viaFd(sys, '/proc/acpi'), fstype: 'tmpfs', flags: MS_RDONLY, data });
  const bindTmpfs = (sys: FakeSyscalls) => ({ op: 'mount', source: viaFd(sys, '/proc/acpi'), target: viaFd(sys, '/proc/scsi'), fstype: null, flags: MS_BIND, data: null });

  test('the host\'s answer from before the jail: context= on the tmpfs, which the other directory\'s bind shares; files get /dev/null', () => {
    const sys = container(true);
    run(sys, [new SelinuxStateStep(sys), standInJail(sys, false), new MaskedPathsStep(sys)], { mountLabel: MOUNT_LABEL, maskedPaths: masks });
    expect(sys.calls.slice(0, 4)).toEqual(ASKED(100));
    expect(changes(sys)).toEqual([{ op: 'umount2', target: SELINUXFS, flags: 0 }, bindNull(sys), tmpfs(sys, `context="${MOUNT_LABEL}"`), bindTmpfs(sys)]);
  });

  test.each([
    ['a host without SELinux (tmpfs refuses context=), whatever the image\'s /sys shows', false, true, MOUNT_LABEL, 1],
    ['no mount label', true, false, '', 0],
  ])('no data with %s', (_what, selinux, containerSays, mountLabel, asked) => {
    const sys = container(selinux);
    run(sys, [new SelinuxStateStep(sys), standInJail(sys, containerSays), new MaskedPathsStep(sys)], { mountLabel, maskedPaths: masks });
    expect(sys.callsOf('open').filter((c) => c.path === SELINUXFS)).toHaveLength(asked);
    expect(changes(sys).filter((c) => c.op === 'mount')).toEqual([bindNull(sys), tmpfs(sys, null), bindTmpfs(sys)]);
  });

  test('a run that did not ask before the jail masks nothing, rather than ask the container', () => {
    const sys = container(true);
    expect(() => run(sys, [new MaskedPathsStep(sys)], { mountLabel: MOUNT_LABEL, maskedPaths: masks })).toThrow(
      `finalize: plugin masked-paths: linux.mountLabel "${MOUNT_LABEL}" for linux.maskedPaths: whether the host runs SELinux was not asked before the jail (the prepare-root plugin's selinux-state step asks it)`,
    );
    expect(sys.calls).toEqual([]);
  });

  test('without a procfs at /proc the tmpfs is made by fsmount(2), its label given as the context parameter', () => {
    const sys = host(true).addDevice('/dev/null', 'char', 1, 3).addDir('/proc/acpi').addDir('/proc/scsi').clearCalls();
    run(sys, [new SelinuxStateStep(sys), standInJail(sys, false), new MaskedPathsStep(sys)], { mountLabel: MOUNT_LABEL, maskedPaths: ['/proc/acpi', '/proc/scsi'] });
    expect(sys.callsOf('fsconfig').map((c) => [c.cmd, c.key, c.value])).toEqual([
      [FSCONFIG_SET_STRING, 'source', 'tmpfs'],
      [FSCONFIG_SET_FLAG, 'ro', null],
      [FSCONFIG_SET_STRING, 'context', MOUNT_LABEL],
      [FSCONFIG_CMD_CREATE, null, null],
    ]);
    expect(sys.callsOf('mount')).toEqual([]);
    expect(sys.callsOf('moveMount')).toHaveLength(2);
  });

  test('without a procfs at /proc, a refused label fails the run naming the path and the parameter', () => {
    const sys = host(true).addDevice('/dev/null', 'char', 1, 3).addDir('/proc/acpi').failOn('fsconfig', 'EINVAL', { nth: 3 }).clearCalls();
    expect(() => run(sys, [new SelinuxStateStep(sys), standInJail(sys, false), new MaskedPathsStep(sys)], { mountLabel: MOUNT_LABEL, maskedPaths: ['/proc/acpi'] })).toThrow(
      `finalize: plugin masked-paths: fsconfig "/proc/acpi": EINVAL (context=${MOUNT_LABEL})`,
    );
    expect(sys.openFds()).toEqual([]);
  });

  test('a refused labelled tmpfs fails the run naming the mount', () => {
    const sys = container(true).failOn('mount', 'EINVAL', { nth: 2 });
    expect(() => run(sys, [new SelinuxStateStep(sys), new MaskedPathsStep(sys)], { mountLabel: MOUNT_LABEL, maskedPaths: masks })).toThrow(
      'finalize: plugin masked-paths: mount "tmpfs" -> "/proc/acpi": EINVAL',
    );
  });
});
