import 'reflect-metadata';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MOUNT_ATTR_RDONLY,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_STRICTATIME,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  O_WRONLY,
  OPEN_TREE_CLONE,
  ST_NODEV,
  ST_NOEXEC,
  ST_NOSUID,
  ST_NOSYMFOLLOW,
  ST_RDONLY,
  ST_RELATIME,
} from '../../../src/core/constants';
import { createKernel } from '../../../src/core/kernel';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { DEFAULT_MOUNT_TYPE, type LifecycleStep, type MountHandler } from '../../../src/core/plugin';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { memoryLogger } from '../../../src/testing/logger';
import type { RootfsConfig } from '../../../src/core/config/model';
import * as finalize from '../../../src/plugins/finalize';
import { isNullDevice } from '../../../src/plugins/finalize/dev-null';
import { securityFlagsOf } from '../../../src/plugins/finalize/remount';
import { IN_ROOT_RESOLVE } from '../../../src/core/in-root';
import { PROC_FILE_RESOLVE, PROC_ROOT_FLAGS } from '../../../src/core/procfs';
import { makeConfig, makeMount } from '../../helpers/config';
import { validateSysctls } from '../../../src/core/config/validate';
import { changes, containerProcChecked, fdOf, viaFd } from '../../helpers/fd';

const RO_REMOUNT = MS_BIND | MS_REMOUNT | MS_RDONLY;

/** The container as the finalize steps see it after the jail, its procfs mounted at /proc. */
function container(): FakeSyscalls {
  const sys = containerFiles();
  sys.mount('proc', '/proc', 'proc', 0n, null);
  return sys.clearCalls();
}

/** `sys` with a mount at each of `paths`, as the mounts phase left them: mount(2) remounts the root of a mount only. */
function mountedAt(sys: FakeSyscalls, ...paths: string[]): FakeSyscalls {
  for (const path of paths) sys.addDir(path).addMountpoint(path);
  return sys;
}

function containerFiles(): FakeSyscalls {
  return new FakeSyscalls()
    .addDir('/proc/1/task/1/fd')
    .addSymlink('/proc/thread-self', '1/task/1')
    .addDevice('/dev/null', 'char', 1, 3)
    .addFile('/proc/kcore', 'host memory')
    .addFile('/proc/keys', 'host keys')
    .addDir('/proc/acpi')
    .addDir('/proc/scsi')
    .addDir('/sys/firmware')
    .addFile('/proc/sys/kernel/hostname', 'host')
    .addFile('/proc/sys/net/ipv4/conf/eth0.100/forwarding', '0')
    .addFile('/proc/sysrq-trigger');
}

/** The mounts phase belongs to other plugins: here the config's mounts are only read. */
const mountsElsewhere: MountHandler = { name: 'elsewhere', types: [DEFAULT_MOUNT_TYPE], mount: () => undefined };

/** The steps under test alone: what the config asks of other plugins (the devices of a /dev tmpfs) is left undone, as the testkit's runners leave it. */
function runSteps(sys: FakeSyscalls, steps: LifecycleStep[], over: Partial<RootfsConfig>): void {
  new Orchestrator(sys, silentLogger, [mountsElsewhere], steps).run(makeConfig(over), { checkClaims: false });
}

const remount = (target: string, flags = 0n) => ({ op: 'mount', source: null, target, fstype: null, flags: flags | RO_REMOUNT, data: null });

describe('finalize: readonly-mounts', () => {
  const run = (sys: FakeSyscalls, over: Partial<RootfsConfig>) => runSteps(sys, [new finalize.ReadonlyMountsStep(sys)], over);
  const devMount = (flags: bigint, index = 0) => makeMount({ index, type: 'tmpfs', destination: '/dev', flags });

  test("a read-only /dev is opened in the container for its mount's flags, then remounted read-only by its path (no magic link through the image's /proc) with its own flags", () => {
    const sys = mountedAt(container(), '/dev');
    run(sys, { mounts: [devMount(MS_NOSUID | MS_STRICTATIME | MS_RDONLY)] });
    expect(sys.calls).toEqual([
      { op: 'open', path: '/', flags: O_PATH | O_CLOEXEC | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: fdOf(sys, '/'), path: 'dev', flags: O_PATH | O_CLOEXEC, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'close', fd: fdOf(sys, '/') },
      { op: 'fstatfs', fd: fdOf(sys, '/dev') },
      { op: 'close', fd: fdOf(sys, '/dev') },
      remount('/dev', MS_NOSUID | MS_STRICTATIME),
    ]);
  });

  test("the flags the mount has are kept with the config's: a plugin's handler that added noexec to a tmpfs", () => {
    const sys = mountedAt(container(), '/scratch').addMountFlags('/scratch', ST_NOSUID | ST_NOEXEC | ST_NOSYMFOLLOW);
    run(sys, { mounts: [makeMount({ type: 'tmpfs', destination: '/scratch', flags: MS_NOSUID | MS_RDONLY })] });
    expect(changes(sys)).toEqual([remount('/scratch', MS_NOSUID | MS_NOEXEC | MS_NOSYMFOLLOW)]);
  });

  test('the destination is compared cleaned', () => {
    const sys = mountedAt(container(), '/dev');
    run(sys, { mounts: [makeMount({ type: 'tmpfs', destination: '/dev/../dev/', flags: MS_RDONLY })] });
    expect(changes(sys)).toEqual([remount('/dev')]);
  });

  test('a read-write /dev, or none, is left alone', () => {
    const sys = container();
    run(sys, { mounts: [] });
    run(sys, { mounts: [devMount(MS_NOSUID)] });
    expect(sys.effects()).toEqual([]);
  });

  test('every read-only tmpfs and every read-only mount at /dev, in the config order; other read-only mounts were made read-only when mounted', () => {
    const sys = mountedAt(container(), '/run', '/run/y', '/dev');
    run(sys, {
      mounts: [
        devMount(MS_NOSUID),
        makeMount({ index: 1, type: 'tmpfs', destination: '/run/', flags: MS_RDONLY | MS_NOEXEC }),
        makeMount({ index: 2, type: 'bind', destination: '/etc/hosts', flags: MS_BIND | MS_RDONLY }),
        makeMount({ index: 3, type: 'tmpfs', destination: '/tmp', flags: MS_NOSUID }),
        makeMount({ index: 4, type: 'bind', destination: '/dev', flags: MS_BIND | MS_REC | MS_RDONLY }),
        makeMount({ index: 5, type: 'proc', destination: '/proc', flags: MS_RDONLY }),
        makeMount({ index: 6, type: 'tmpfs', destination: '/run/x/../y', flags: MS_RDONLY }),
      ],
    });
    expect(changes(sys)).toEqual([remount('/run', MS_NOEXEC), remount('/dev', MS_BIND | MS_REC), remount('/run/y')]);
  });

  test('EBUSY is retried with a 100 ms pause between attempts', () => {
    const sys = mountedAt(container(), '/dev').failOn('mount', 'EBUSY', { times: 2 });
    run(sys, { mounts: [devMount(MS_RDONLY)] });
    const dev = remount('/dev');
    expect(changes(sys)).toEqual([dev, { op: 'sleep', ms: 100 }, dev, { op: 'sleep', ms: 100 }, dev]);
  });

  test('five busy attempts give up', () => {
    const sys = container().failOn('mount', 'EBUSY', { times: Infinity });
    expect(() => run(sys, { mounts: [devMount(MS_RDONLY)] })).toThrow(
      'finalize: plugin readonly-mounts: mount "/dev" read-only: EBUSY after 5 attempts',
    );
    expect(sys.callsOf('mount')).toHaveLength(5);
    expect(sys.callsOf('sleep')).toHaveLength(4);
  });

  test('any other error stops at once', () => {
    const sys = container().failOn('mount', 'EPERM');
    expect(() => run(sys, { mounts: [devMount(MS_RDONLY)] })).toThrow('finalize: plugin readonly-mounts: mount "/dev": EPERM');
    expect(changes(sys)).toEqual([remount('/dev')]);
    expect(sys.openFds()).toEqual([]);
  });
});

describe('finalize: sysctl', () => {
  /** The calls of opening the container's /proc (descriptor 100) and verifying it is a procfs's root. */
  const ROOT_CHECK = [
    { op: 'open', path: '/proc', flags: PROC_ROOT_FLAGS, mode: 0 },
    { op: 'fstatfs', fd: 100 },
    { op: 'fstat', fd: 100 },
  ];
  const openBelow = (path: string) => ({ op: 'openat2', dirfd: 100, path, flags: O_WRONLY | O_CLOEXEC, mode: 0, resolve: PROC_FILE_RESOLVE });

  test('values are written in the config order, each through a descriptor opened below the verified procfs root, all opened first', () => {
    const sys = container().addFile('/proc/sys/net/ipv4/ip_forward', '0');
    runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'kernel.hostname': 'box', 'net/ipv4.ip_forward': '1' } });
    expect(sys.calls).toEqual([
      ...ROOT_CHECK,
      openBelow('sys/kernel/hostname'),
      // Mixed separators, read as runc reads them: its file is there, sysctl(8)'s reading (net/ipv4.ip_forward) is not tried.
      openBelow('sys/net/ipv4/ip_forward'),
      { op: 'write', fd: 101, data: 'box' },
      { op: 'write', fd: 102, data: '1' },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 102 },
      // The verified root, kept for the run, closed at its end (a run without execve).
      { op: 'close', fd: 100 },
    ]);
    expect(sys.node('/proc/sys/kernel/hostname')?.content).toBe('box');
    expect(sys.node('/proc/sys/net/ipv4/ip_forward')?.content).toBe('1');
  });

  test.each(['net/ipv4/conf/eth0.100/forwarding', 'net.ipv4.conf.eth0/100.forwarding'])(
    'a dotted interface name (%s): runc\'s reading is missing (ENOENT), sysctl(8)\'s is opened and written',
    (key) => {
      const sys = container();
      runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'kernel.hostname': 'box', [key]: '1' } });
      expect(sys.calls).toEqual([
        ...ROOT_CHECK,
        openBelow('sys/kernel/hostname'),
        openBelow('sys/net/ipv4/conf/eth0/100/forwarding'),
        openBelow('sys/net/ipv4/conf/eth0.100/forwarding'),
        { op: 'write', fd: 101, data: 'box' },
        { op: 'write', fd: 102, data: '1' },
        { op: 'close', fd: 101 },
        { op: 'close', fd: 102 },
        { op: 'close', fd: 100 },
      ]);
      expect(sys.node('/proc/sys/net/ipv4/conf/eth0.100/forwarding')?.content).toBe('1');
    },
  );

  describe('kernel.domainname beside the domainname field (taken as runc 1.4 takes them)', () => {
    /** The hostname and sysctl steps of the built-in plugins, in the order the kernel runs them for `modules` (the package's list by default). */
    function namesAndSysctls(sys: FakeSyscalls, modules?: string[]) {
      const plugins = modules === undefined ? {} : { plugins: { plugins: modules.map((module) => ({ module })) } };
      const steps = createKernel({ syscalls: sys, ...plugins }).orchestrator.orderedSteps().filter((s) => s.name === 'hostname' || s.name === 'sysctl');
      return new Orchestrator(sys, silentLogger, [mountsElsewhere], steps);
    }
    /** The config, checked as every entry point checks it first (the check's reads are not the run's calls). */
    function validated(sys: FakeSyscalls, over: Partial<RootfsConfig> = {}): RootfsConfig {
      const config = makeConfig({ ...names, ...over });
      validateSysctls(config, sys);
      sys.clearCalls();
      return config;
    }
    const names: Partial<RootfsConfig> = { namespaces: [{ type: 'mount' }, { type: 'uts' }], domainname: 'field.example', sysctls: { 'kernel.domainname': 'sysctl.example' } };
    const sysctlWrite = [...ROOT_CHECK, openBelow('sys/kernel/domainname'), { op: 'write', fd: 101, data: 'sysctl.example' }, { op: 'close', fd: 101 }, { op: 'close', fd: 100 }];

    test.each([
      ["the package's list", undefined],
      ['a list with builtin:hostname after builtin:finalize (the two steps share phase and order)', ['builtin:finalize', 'builtin:hostname']],
      ['the reverse', ['builtin:hostname', 'builtin:finalize']],
    ])("%s: the sysctl's write alone, whose value the container keeps (runc sets the field first, which the write replaces)", (_list, modules) => {
      const sys = container().addFile('/proc/sys/kernel/domainname', '(none)');
      namesAndSysctls(sys, modules).run(validated(sys), { checkClaims: false });
      expect(sys.calls).toEqual(sysctlWrite);
      expect(sys.node('/proc/sys/kernel/domainname')?.content).toBe('sysctl.example');
    });

    test('in its path form (kernel/domainname) too; the hostname is set still', () => {
      const sys = container().addFile('/proc/sys/kernel/domainname', '(none)');
      namesAndSysctls(sys).run(validated(sys, { hostname: 'box', sysctls: { 'kernel/domainname': 'sysctl.example' } }), { checkClaims: false });
      expect(sys.calls).toEqual([{ op: 'sethostname', name: 'box' }, ...sysctlWrite]);
    });

    test("a write the kernel refuses stops the run naming the sysctl, the field's name never set", () => {
      const sys = container().addFile('/proc/sys/kernel/domainname', '(none)').failOn('write', 'EINVAL');
      expect(() => namesAndSysctls(sys).run(validated(sys), { checkClaims: false })).toThrow(/^finalize: plugin sysctl: .*EINVAL/);
      expect(sys.calls.map((c) => c.op)).not.toContain('setdomainname');
      expect(sys.node('/proc/sys/kernel/domainname')?.content).toBe('(none)');
    });
  });

  test("user.* keys (the limits of the container's user namespace) are opened and written as any other, in the config's order", () => {
    const sys = container().addFile('/proc/sys/user/max_user_namespaces', '2147483647').addFile('/proc/sys/user/max_inotify_watches', '2147483647');
    runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'user.max_user_namespaces': '3', 'kernel.hostname': 'box', 'user/max_inotify_watches': '1024' } });
    expect(sys.calls).toEqual([
      ...ROOT_CHECK,
      openBelow('sys/user/max_user_namespaces'),
      openBelow('sys/kernel/hostname'),
      openBelow('sys/user/max_inotify_watches'),
      { op: 'write', fd: 101, data: '3' },
      { op: 'write', fd: 102, data: 'box' },
      { op: 'write', fd: 103, data: '1024' },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 102 },
      { op: 'close', fd: 103 },
      { op: 'close', fd: 100 },
    ]);
    expect([sys.node('/proc/sys/user/max_user_namespaces')?.content, sys.node('/proc/sys/user/max_inotify_watches')?.content]).toEqual(['3', '1024']);
  });

  test('a user.* key refused by the kernel fails naming it and its file, before anything is written: EACCES without CAP_SYS_RESOURCE in the user namespace, EINVAL for a value outside 0..INT_MAX', () => {
    const denied = container().addFile('/proc/sys/user/max_user_namespaces', '2147483647').failOn('openat2', 'EACCES', { path: /user\/max_user_namespaces$/ });
    expect(() => runSteps(denied, [new finalize.SysctlsStep(denied)], { sysctls: { 'kernel.hostname': 'box', 'user.max_user_namespaces': '3' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "user.max_user_namespaces": open "/proc/sys/user/max_user_namespaces": EACCES',
    );
    expect(denied.calls).toEqual([...ROOT_CHECK, openBelow('sys/kernel/hostname'), openBelow('sys/user/max_user_namespaces'), { op: 'close', fd: 101 }, { op: 'close', fd: 100 }]);
    expect(denied.node('/proc/sys/kernel/hostname')?.content).toBe('host');
    const invalid = container().addFile('/proc/sys/user/max_user_namespaces', '2147483647').failOn('write', 'EINVAL');
    expect(() => runSteps(invalid, [new finalize.SysctlsStep(invalid)], { sysctls: { 'user.max_user_namespaces': '2147483648' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "user.max_user_namespaces": write "/proc/sys/user/max_user_namespaces": EINVAL',
    );
    expect(invalid.node('/proc/sys/user/max_user_namespaces')?.content).toBe('2147483647');
    expect(invalid.openFds()).toEqual([]);
  });

  test('without openat2 the fallback is the same: the walk of runc\'s reading stops at the missing name', () => {
    const sys = container().failOn('openat2', 'ENOSYS', { times: Infinity });
    runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'net/ipv4/conf/eth0.100/forwarding': '1' } });
    const opened = sys.callsOf('openat').map((c) => (c as { path: string }).path);
    expect(opened).toEqual(['sys', 'net', 'ipv4', 'conf', 'eth0', 'sys', 'net', 'ipv4', 'conf', 'eth0.100', 'forwarding']);
    expect(sys.node('/proc/sys/net/ipv4/conf/eth0.100/forwarding')?.content).toBe('1');
    expect(sys.openFds()).toEqual([]);
  });

  test('a file on the way of runc\'s reading (ENOTDIR) is no file either: sysctl(8)\'s is opened', () => {
    const sys = container().addFile('/proc/sys/net/ipv4/ip_forward', '0').addFile('/proc/sys/net/ipv4/ip_forward.x', '0');
    runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'net/ipv4/ip_forward.x': '1' } });
    expect(sys.callsOf('openat2')).toEqual([openBelow('sys/net/ipv4/ip_forward/x'), openBelow('sys/net/ipv4/ip_forward.x')]);
    expect([sys.node('/proc/sys/net/ipv4/ip_forward')?.content, sys.node('/proc/sys/net/ipv4/ip_forward.x')?.content]).toEqual(['0', '1']);
  });

  test('a key whose files are both missing fails naming both, before anything is written', () => {
    const sys = container();
    expect(() => runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'kernel.hostname': 'box', 'net/ipv4.no_such': '1' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "net/ipv4.no_such": open "/proc/sys/net/ipv4/no_such": ENOENT, nor "/proc/sys/net/ipv4.no_such": ENOENT',
    );
    expect(sys.calls).toEqual([
      ...ROOT_CHECK,
      openBelow('sys/kernel/hostname'),
      openBelow('sys/net/ipv4/no_such'),
      openBelow('sys/net/ipv4.no_such'),
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
    expect(sys.node('/proc/sys/kernel/hostname')?.content).toBe('host');
  });

  test('a refusal of runc\'s file (a symlink, a mount, EACCES) is no reason to try sysctl(8)\'s: it ends the step', () => {
    const sys = container().addFile('/data/target', 'host').addDir('/proc/sys/net/ipv4').addSymlink('/proc/sys/net/ipv4/ip_forward', '/data/target').addFile('/proc/sys/net/ipv4.ip_forward', '0');
    sys.clearCalls();
    expect(() => runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'net/ipv4.ip_forward': '1' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "net/ipv4.ip_forward": "/proc/sys/net/ipv4/ip_forward" is not a procfs file (a symlink on the way)',
    );
    expect(sys.calls).toEqual([...ROOT_CHECK, openBelow('sys/net/ipv4/ip_forward'), { op: 'close', fd: 100 }]);
    const denied = container().addFile('/proc/sys/net/ipv4/ip_forward', '0').addFile('/proc/sys/net/ipv4.ip_forward', '0').failOn('openat2', 'EACCES');
    expect(() => runSteps(denied, [new finalize.SysctlsStep(denied)], { sysctls: { 'net/ipv4.ip_forward': '1' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "net/ipv4.ip_forward": open "/proc/sys/net/ipv4/ip_forward": EACCES',
    );
    expect(denied.callsOf('openat2')).toHaveLength(1);
    expect([sys.node('/data/target')?.content, denied.node('/proc/sys/net/ipv4.ip_forward')?.content]).toEqual(['host', '0']);
  });

  /** The hunt's image: no procfs mounted, /proc/sys/net/ipv4/ip_forward a symlink to a host directory's file bound at /data. */
  function hostile(sys: FakeSyscalls): FakeSyscalls {
    return sys.addFile('/data/target', 'host').addSymlink('/proc/sys/net/ipv4/ip_forward', '/data/target').clearCalls();
  }
  const sysctls = { 'kernel.hostname': 'box', 'net.ipv4.ip_forward': '1' };
  const refusal = (found: string) => `finalize: plugin sysctl: linux.sysctl "net.ipv4.ip_forward": "/proc/sys/net/ipv4/ip_forward" is not a procfs file (${found}`;

  test('without a procfs at /proc (the image\'s own directory) nothing is opened below it, nothing is written', () => {
    const sys = hostile(containerFiles());
    expect(() => runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'net.ipv4.ip_forward': '1' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "net.ipv4.ip_forward": "/proc/sys/net/ipv4/ip_forward" is not a procfs file ("/proc" is not a procfs: f_type 0xef53)',
    );
    expect(sys.calls).toEqual([...ROOT_CHECK.slice(0, 2), { op: 'close', fd: 100 }]);
    expect(sys.node('/data/target')?.content).toBe('host');
  });

  test('a symlink in a procfs (or on the way) is refused before any value is written, the earlier keys\' included', () => {
    const sys = hostile(container());
    expect(() => runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls })).toThrow(refusal('a symlink on the way'));
    expect(sys.calls).toEqual([...ROOT_CHECK, openBelow('sys/kernel/hostname'), openBelow('sys/net/ipv4/ip_forward'), { op: 'close', fd: 101 }, { op: 'close', fd: 100 }]);
    expect(sys.openFds()).toEqual([]);
    expect([sys.node('/data/target')?.content, sys.node('/proc/sys/kernel/hostname')?.content]).toEqual(['host', 'host']);
  });

  test('a mount inside /proc on the way (a config\'s mount, a mask) is refused', () => {
    const sys = container().addFile('/proc/sys/net/ipv4/ip_forward', '0');
    sys.mount('tmpfs', '/proc/sys/net', 'tmpfs', 0n, null);
    sys.clearCalls();
    expect(() => runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls })).toThrow(refusal('a mount crossed on the way'));
    expect(sys.callsOf('write')).toEqual([]);
  });

  test('/proc a bind of a procfs directory other than its root, or a symlink, is refused', () => {
    const bound = containerFiles().addDir('/host/proc/sys/net/ipv4');
    bound.mount('proc', '/host/proc', 'proc', 0n, null);
    bound.mount('/host/proc/sys', '/proc', null, MS_BIND, null);
    bound.clearCalls();
    expect(() => runSteps(bound, [new finalize.SysctlsStep(bound)], { sysctls })).toThrow(/is not a procfs file \("\/proc" is not the root of a procfs: inode \d+\)$/);
    const linked = new FakeSyscalls().addDir('/elsewhere').addSymlink('/proc', '/elsewhere');
    expect(() => runSteps(linked, [new finalize.SysctlsStep(linked)], { sysctls })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "kernel.hostname": "/proc/sys/kernel/hostname" is not a procfs file ("/proc" is a symlink or not a directory)',
    );
  });

  test('without openat2 (ENOSYS) each component is opened without following a symlink and checked to be on the procfs', () => {
    const sys = container().failOn('openat2', 'ENOSYS');
    runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'kernel.hostname': 'box' } });
    const step = (dirfd: number, path: string, flags = O_PATH) => ({ op: 'openat', dirfd, path, flags: flags | O_NOFOLLOW | O_CLOEXEC, mode: 0 });
    expect(sys.calls).toEqual([
      ...ROOT_CHECK,
      openBelow('sys/kernel/hostname'),
      step(100, 'sys'),
      { op: 'fstat', fd: 101 },
      step(101, 'kernel'),
      { op: 'close', fd: 101 },
      { op: 'fstat', fd: 102 },
      step(102, 'hostname', O_WRONLY),
      { op: 'close', fd: 102 },
      { op: 'fstat', fd: 103 },
      { op: 'write', fd: 103, data: 'box' },
      { op: 'close', fd: 103 },
      { op: 'close', fd: 100 },
    ]);
    expect(sys.node('/proc/sys/kernel/hostname')?.content).toBe('box');
    const linked = hostile(container()).failOn('openat2', 'ENOSYS');
    expect(() => runSteps(linked, [new finalize.SysctlsStep(linked)], { sysctls })).toThrow(refusal('a symlink on the way'));
    expect(linked.callsOf('write')).toEqual([]);
  });

  test('a bad key is a ConfigError before anything is written', () => {
    const sys = container();
    let error: unknown;
    try {
      runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'kernel.hostname': 'box', 'kernel/../../x': '1' } });
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({
      name: 'PluginError',
      exitCode: 2,
      message: 'finalize: plugin sysctl: linux.sysctl "kernel/../../x": must name a file below /proc/sys: no ".." component',
    });
    expect(sys.effects()).toEqual([]);
  });

  test('a failing open or write names the key and the file', () => {
    const sys = container().failOn('openat2', 'EROFS');
    expect(() => runSteps(sys, [new finalize.SysctlsStep(sys)], { sysctls: { 'kernel.hostname': 'box' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "kernel.hostname": open "/proc/sys/kernel/hostname": EROFS',
    );
    const refused = container().failOn('write', 'EINVAL');
    expect(() => runSteps(refused, [new finalize.SysctlsStep(refused)], { sysctls: { 'kernel.hostname': 'box' } })).toThrow(
      'finalize: plugin sysctl: linux.sysctl "kernel.hostname": write "/proc/sys/kernel/hostname": EINVAL',
    );
    expect(refused.callsOf('close')).toEqual([{ op: 'close', fd: 101 }, { op: 'close', fd: 100 }]);
    expect(refused.openFds()).toEqual([]);
  });
});

describe('finalize: masked-paths', () => {
  const run = (sys: FakeSyscalls, maskedPaths: string[]) => runSteps(sys, [new finalize.MaskedPathsStep(sys)], { maskedPaths });
  const bindNull = (sys: FakeSyscalls, target: string) => ({ op: 'mount', source: viaFd(sys, '/dev/null'), target: viaFd(sys, target), fstype: null, flags: MS_BIND, data: null });

  test('files get /dev/null, opened and checked once; directories share one read-only tmpfs; all through descriptors', () => {
    const sys = container();
    run(sys, ['/proc/kcore', '/proc/acpi', '/proc/keys', '/proc/scsi', '/sys/firmware']);
    expect(changes(sys)).toEqual([
      bindNull(sys, '/proc/kcore'),
      { op: 'mount', source: 'tmpfs', target: viaFd(sys, '/proc/acpi'), fstype: 'tmpfs', flags: MS_RDONLY, data: null },
      bindNull(sys, '/proc/keys'),
      { op: 'mount', source: viaFd(sys, '/proc/acpi'), target: viaFd(sys, '/proc/scsi'), fstype: null, flags: MS_BIND, data: null },
      { op: 'mount', source: viaFd(sys, '/proc/acpi'), target: viaFd(sys, '/sys/firmware'), fstype: null, flags: MS_BIND, data: null },
    ]);
    // The container's /proc is checked first; /dev/null is looked up once and checked on its descriptor before the first bind.
    expect(sys.calls.slice(0, 6)).toEqual(containerProcChecked(100, 101));
    expect(sys.callsOf('openat2').map((c) => c.path)).toEqual(['1/task/1/fd', 'proc/kcore', 'dev/null', 'proc/acpi', 'proc/acpi', 'proc/keys', 'proc/scsi', 'sys/firmware']);
    const devNull = sys.calls.findIndex((c) => c.op === 'openat2' && c.path === 'dev/null');
    expect(sys.calls.slice(devNull + 1, devNull + 3)).toEqual([{ op: 'close', fd: fdOf(sys, '/') }, { op: 'fstat', fd: fdOf(sys, '/dev/null') }]);
    // The binds come from the tmpfs: /proc/acpi looked up again after the mount, not the descriptor mounted on.
    const mounts = sys.callsOf('mount');
    expect(mounts[3].source).not.toBe(mounts[1].target);
    expect(sys.openFds()).toEqual([]);
  });

  test('missing paths are skipped; a file named again (another spelling, a link to it) is masked again, as runc 1.1.5 masks it (the kernel stacks the second bind on the first)', () => {
    const sys = container().addSymlink('/proc/again', 'kcore');
    run(sys, ['/proc/timer_list', '/proc/kcore', '/proc//kcore/', '/nothing/here', '/proc/again', '/sys/../proc/kcore']);
    expect(changes(sys)).toEqual([bindNull(sys, '/proc/kcore'), bindNull(sys, '/proc/kcore'), bindNull(sys, '/proc/kcore'), bindNull(sys, '/proc/kcore')]);
  });

  test('a file with two names (hard links) is masked at each: a mount covers one name, whatever inode the other shows', () => {
    const sys = container().addFile('/etc/secret', 'the secret');
    const etc = sys.node('/etc')!.children!;
    etc.set('also', etc.get('secret')!);
    const inode = (path: string) => {
      const fd = sys.open(path, O_PATH, 0);
      const { dev, ino } = sys.fstat(fd);
      sys.close(fd);
      return `${dev}:${ino}`;
    };
    expect(inode('/etc/also')).toBe(inode('/etc/secret'));
    sys.clearCalls();
    run(sys, ['/etc/secret', '/etc/also']);
    expect(changes(sys)).toEqual([bindNull(sys, '/etc/secret'), bindNull(sys, '/etc/also')]);
  });

  test('only directories: /dev/null is never looked at', () => {
    const sys = container();
    run(sys, ['/proc/acpi']);
    expect(changes(sys)).toEqual([{ op: 'mount', source: 'tmpfs', target: viaFd(sys, '/proc/acpi'), fstype: 'tmpfs', flags: MS_RDONLY, data: null }]);
    expect(sys.callsOf('openat2').map((c) => c.path)).toEqual(['1/task/1/fd', 'proc/acpi', 'proc/acpi']);
  });

  test('a device or a link to a file is masked as a file, the link followed inside the root', () => {
    const sys = container().addDevice('/dev/mem', 'char', 1, 1).addSymlink('/proc/link', '/../../proc/kcore');
    run(sys, ['/dev/mem', '/proc/link']);
    expect(changes(sys)).toEqual([bindNull(sys, '/dev/mem'), bindNull(sys, '/proc/kcore')]);
  });

  test.each([
    ['a regular file', (s: FakeSyscalls) => s.addFile('/dev/null', ''), '/dev/null is a file, not the null device (char 1:3)'],
    ['a link to a /proc file', (s: FakeSyscalls) => s.addSymlink('/dev/null', '/proc/sys/kernel/hostname'), '/dev/null is a file, not the null device (char 1:3)'],
    ['another device', (s: FakeSyscalls) => s.addDevice('/dev/null', 'char', 1, 5), '/dev/null is char device 1:5, not the null device (char 1:3)'],
  ])('a /dev/null that is %s is refused before any file is masked', (_what, plant, message) => {
    const sys = container();
    sys.node('/dev')?.children?.delete('null');
    plant(sys);
    expect(() => run(sys, ['/proc/acpi', '/proc/kcore'])).toThrow(
      `finalize: plugin masked-paths: ${message}; refusing to mask paths with it`,
    );
    expect(sys.callsOf('mount').filter((c) => c.fstype !== 'tmpfs')).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test('a missing /dev/null is the lookup error', () => {
    const sys = container();
    sys.node('/dev')?.children?.delete('null');
    expect(() => run(sys, ['/proc/kcore'])).toThrow('finalize: plugin masked-paths: openat "/dev/null": ENOENT');
    expect(sys.openFds()).toEqual([]);
  });

  describe('without a procfs at /proc (a config without a proc mount): the same mounts through the new mount API, by descriptor, nothing looked up through /proc', () => {
    const attach = (from: number, to: number) => ({ op: 'moveMount', fromDirfd: from, fromPath: '', toDirfd: to, toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH });
    const copy = (fd: number) => ({ op: 'openTree', dirfd: fd, path: '', flags: OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH });
    const MOUNT_API = new Set(['openTree', 'moveMount', 'fsopen', 'fsconfig', 'fsmount', 'mountSetattr', 'mount']);

    test("files get a copy of /dev/null's mount, directories one tmpfs read-only (superblock and mount) and copies of it, each attached onto the path's descriptor", () => {
      const sys = containerFiles().clearCalls();
      run(sys, ['/proc/kcore', '/proc/acpi', '/proc/keys', '/proc/scsi']);
      // 105 the copy of /dev/null's mount, 109 the tmpfs's mount, 112 and 115 the later copies.
      expect(sys.calls.filter((c) => MOUNT_API.has(c.op))).toEqual([
        copy(fdOf(sys, '/dev/null')),
        attach(105, fdOf(sys, '/proc/kcore')),
        { op: 'fsopen', fstype: 'tmpfs', flags: FSOPEN_CLOEXEC },
        { op: 'fsconfig', fd: 108, cmd: FSCONFIG_SET_STRING, key: 'source', value: 'tmpfs', aux: 0 },
        { op: 'fsconfig', fd: 108, cmd: FSCONFIG_SET_FLAG, key: 'ro', value: null, aux: 0 },
        { op: 'fsconfig', fd: 108, cmd: FSCONFIG_CMD_CREATE, key: null, value: null, aux: 0 },
        { op: 'fsmount', fd: 108, flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_RDONLY },
        attach(109, fdOf(sys, '/proc/acpi')),
        copy(fdOf(sys, '/dev/null')),
        attach(112, fdOf(sys, '/proc/keys')),
        copy(109),
        attach(115, fdOf(sys, '/proc/scsi')),
      ]);
      // /proc was looked at once (not a procfs) and never below.
      expect(sys.calls.filter((c) => 'path' in c && typeof c.path === 'string' && c.path.startsWith('/proc'))).toEqual([{ op: 'open', path: '/proc', flags: PROC_ROOT_FLAGS, mode: 0 }]);
      expect(sys.openFds()).toEqual([]);
    });

    const notProcfs = `reaching descriptors through /proc/thread-self/fd needs the container's procfs: "/proc/thread-self/fd" is not a procfs file ("/proc" is not a procfs: f_type 0xef53)`;
    test.each<[string, (sys: FakeSyscalls) => LifecycleStep, Partial<RootfsConfig>, string, string | undefined, string]>([
      ['masked paths, no procfs', (sys) => new finalize.MaskedPathsStep(sys), { maskedPaths: ['/proc/kcore'] }, 'linux.maskedPaths', undefined, notProcfs],
      ['read-only paths, no procfs', (sys) => new finalize.ReadonlyPathsStep(sys), { readonlyPaths: ['/proc/acpi'] }, 'linux.readonlyPaths', undefined, notProcfs],
      [
        'masked paths, /proc refused (an LSM)',
        (sys) => new finalize.MaskedPathsStep(sys),
        { maskedPaths: ['/proc/kcore'] },
        'linux.maskedPaths',
        'EACCES',
        `reaching descriptors through /proc/thread-self/fd needs the container's procfs: open "/proc": EACCES`,
      ],
    ])("%s: a debug line says why the container's /proc is not used, and the paths are mounted without it", (_what, step, over, field, refused, why) => {
      const sys = containerFiles();
      if (refused) sys.failOn('open', refused, { path: '/proc' });
      const log = memoryLogger();
      new Orchestrator(sys, log, [mountsElsewhere], [step(sys)]).run(makeConfig(over), { checkClaims: false });
      expect(log.entries.filter((e) => e.message.includes('/proc')).map((e) => [e.level, e.message])).toEqual([['debug', `${field} mounted by descriptor through the new mount API: ${why}`]]);
      expect(sys.callsOf('moveMount')).toHaveLength(1);
    });

    test('any other failure on the way to /proc (EIO) ends the step, as a fault would on the way without it', () => {
      const sys = containerFiles().failOn('open', 'EIO', { path: '/proc' });
      expect(() => run(sys, ['/proc/kcore'])).toThrow(`finalize: plugin masked-paths: reaching descriptors through /proc/thread-self/fd needs the container's procfs: open "/proc": EIO`);
      expect(sys.callsOf('moveMount')).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test.each([
      ['openTree', 'ENOSYS', '/proc/kcore', 'open_tree "/proc/kcore": ENOSYS (no usable procfs at /proc in the container, and no new mount API in this kernel to mount by descriptor without one: Linux 5.2, mount_setattr(2) 5.12)'],
      ['moveMount', 'EPERM', '/proc/kcore', 'move_mount "/proc/kcore": EPERM'],
      ['fsopen', 'ENODEV', '/proc/acpi', 'fsopen "/proc/acpi": ENODEV'],
      ['fsconfig', 'EINVAL', '/proc/acpi', 'fsconfig "/proc/acpi": EINVAL (source=tmpfs)'],
      ['fsmount', 'ENOMEM', '/proc/acpi', 'fsmount "/proc/acpi": ENOMEM'],
      ['moveMount', 'ENOENT', '/proc/acpi', 'move_mount "/proc/acpi": ENOENT'],
    ] as const)('a failing %s (%s) on %s stops the step naming the path, every descriptor closed', (op, errno, path, message) => {
      const sys = containerFiles().failOn(op, errno);
      expect(() => run(sys, [path])).toThrow(`finalize: plugin masked-paths: ${message}`);
      expect(sys.openFds()).toEqual([]);
    });
  });

  describe('the container\'s /proc must lead to this thread\'s own descriptors before anything is mounted through it', () => {

    test.each([
      [
        "the image's /proc, its thread-self a link into a procfs the config mounts elsewhere",
        (s: FakeSyscalls) => s.addDir('/elsewhere/7/task/7/fd').addSymlink('/proc/thread-self', '/elsewhere/7/task/7').mount('proc', '/elsewhere', 'proc', 0n, null),
        '"/proc" is not a procfs: f_type 0xef53',
      ],
      [
        'a bind of a directory of a procfs',
        (s: FakeSyscalls) => {
          s.addDir('/host/proc/1/task/1/fd').mount('proc', '/host/proc', 'proc', 0n, null);
          s.mount('/host/proc/1', '/proc', null, MS_BIND, null);
        },
        '"/proc" is not the root of a procfs: inode',
      ],
      ['a thread-self naming a thread that leads no process', (s: FakeSyscalls) => s.addDir('/proc/1/task/2/fd').addSymlink('/proc/thread-self', '1/task/2').mount('proc', '/proc', 'proc', 0n, null), '"/proc/thread-self" leads to "1/task/2"'],
      ['the thread\'s fd directory covered by a mount', (s: FakeSyscalls) => s.addProcfs().mount('tmpfs', '/proc/1/task/1/fd', 'tmpfs', 0n, null), 'a mount crossed on the way'],
    ])('%s: not used (%s), the path masked without it', (_what, plant, _found) => {
      const sys = containerFiles();
      sys.node('/proc')?.children?.delete('thread-self');
      plant(sys);
      sys.clearCalls();
      run(sys, ['/proc/kcore']);
      expect(sys.callsOf('mount')).toEqual([]);
      expect(sys.callsOf('moveMount').map((c) => sys.pathOf(c.toDirfd))).toEqual(['/proc/kcore']);
      expect(sys.openFds()).toEqual([]);
    });

    test('without openat2 (ENOSYS) the fd directory is walked to, one component at a time, and taken as a directory of that procfs', () => {
      const sys = container().failOn('openat2', 'ENOSYS');
      run(sys, ['/proc/kcore']);
      expect(sys.callsOf('openat').slice(0, 4).map((c) => c.path)).toEqual(['1', 'task', '1', 'fd']);
      expect(changes(sys)).toEqual([bindNull(sys, '/proc/kcore')]);
      expect(sys.openFds()).toEqual([]);
    });
  });

  test.each([
    ['openat2', 'EACCES', 'openat2 "/proc/kcore": EACCES'],
    ['mount', 'EPERM', 'mount "/dev/null" -> "/proc/kcore": EPERM'],
  ] as const)('a failing %s stops the step', (op, errno, message) => {
    const sys = container().failOn(op, errno, { path: '/proc/kcore' });
    expect(() => run(sys, ['/proc/kcore'])).toThrow(`finalize: plugin masked-paths: ${message}`);
    expect(sys.openFds()).toEqual([]);
  });

  test('a failing tmpfs or shared bind stops the step', () => {
    const tmpfs = container().failOn('mount', 'ENOMEM', { path: '/proc/acpi' });
    expect(() => run(tmpfs, ['/proc/acpi'])).toThrow('finalize: plugin masked-paths: mount "tmpfs" -> "/proc/acpi": ENOMEM');
    const bind = container().failOn('mount', 'EINVAL', { path: '/proc/scsi' });
    expect(() => run(bind, ['/proc/acpi', '/proc/scsi'])).toThrow('finalize: plugin masked-paths: mount "/proc/acpi" -> "/proc/scsi": EINVAL');
    expect(bind.openFds()).toEqual([]);
  });

  test('isNullDevice', () => {
    expect(isNullDevice({ kind: 'char', rdev: 0x103n })).toBe(true);
    expect(isNullDevice({ kind: 'block', rdev: 0x103n })).toBe(false);
    expect(isNullDevice({ kind: 'char', rdev: 0x105n })).toBe(false);
    expect(isNullDevice({ kind: 'file', rdev: 0n })).toBe(false);
  });
});

describe('finalize: readonly-paths', () => {
  const run = (sys: FakeSyscalls, readonlyPaths: string[]) => runSteps(sys, [new finalize.ReadonlyPathsStep(sys)], { readonlyPaths });
  const rbind = (sys: FakeSyscalls, path: string) => ({ op: 'mount', source: viaFd(sys, path), target: viaFd(sys, path), fstype: null, flags: MS_BIND | MS_REC, data: null });

  test('each path is bound onto itself through its descriptor, then the new bind, looked up again, remounted read-only', () => {
    const sys = container();
    run(sys, ['/proc/sys', '/proc/sysrq-trigger/']);
    expect(changes(sys)).toEqual([
      rbind(sys, '/proc/sys'),
      remount(viaFd(sys, '/proc/sys'), MS_REC),
      rbind(sys, '/proc/sysrq-trigger'),
      remount(viaFd(sys, '/proc/sysrq-trigger'), MS_REC),
    ]);
    const [bound, remounted] = sys.callsOf('mount');
    expect(remounted.target).not.toBe(bound.target);
    expect(sys.openFds()).toEqual([]);
  });

  test("the remount keeps the bind's nosuid, nodev, noexec and nosymfollow (statfs), and no other flag it reports", () => {
    const sys = container()
      .addMountFlags('/proc/sys', ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RDONLY | ST_RELATIME)
      .addMountFlags('/proc/sysrq-trigger', ST_NOEXEC | ST_NOSYMFOLLOW);
    run(sys, ['/proc/sys', '/proc/sysrq-trigger']);
    expect(changes(sys)).toEqual([
      rbind(sys, '/proc/sys'),
      remount(viaFd(sys, '/proc/sys'), MS_REC | MS_NOSUID | MS_NODEV | MS_NOEXEC),
      rbind(sys, '/proc/sysrq-trigger'),
      remount(viaFd(sys, '/proc/sysrq-trigger'), MS_REC | MS_NOEXEC | MS_NOSYMFOLLOW),
    ]);
    expect(sys.callsOf('fstatfs').map((c) => sys.pathOf(c.fd))).toEqual(['/proc', '/proc/sys', '/proc/sysrq-trigger']);
  });

  test.each([
    [0n, 0n],
    [ST_RDONLY, 0n],
    [ST_NOSUID, MS_NOSUID],
    [ST_NODEV, MS_NODEV],
    [ST_NOEXEC, MS_NOEXEC],
    [ST_NOSYMFOLLOW, MS_NOSYMFOLLOW],
    [ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RDONLY | ST_RELATIME, MS_NOSUID | MS_NODEV | MS_NOEXEC],
  ])('securityFlagsOf(0x%s) = 0x%s', (st, expected) => {
    expect(securityFlagsOf(st)).toBe(expected);
  });

  test('a missing path is skipped', () => {
    const sys = container();
    run(sys, ['/proc/bus', '/proc/sys']);
    expect(changes(sys)).toEqual([rbind(sys, '/proc/sys'), remount(viaFd(sys, '/proc/sys'), MS_REC)]);
  });

  test('EBUSY on the remount is retried', () => {
    const sys = container().failOn('mount', 'EBUSY', { nth: 2, times: 1 });
    run(sys, ['/proc/sys']);
    const again = remount(viaFd(sys, '/proc/sys'), MS_REC);
    expect(changes(sys)).toEqual([rbind(sys, '/proc/sys'), again, { op: 'sleep', ms: 100 }, again]);
  });

  test.each([
    [1, 'mount "/proc/sys" -> "/proc/sys": EACCES'],
    [2, 'mount "/proc/sys": EACCES'],
  ])('a failing mount call %i stops the step', (nth, message) => {
    const sys = container().failOn('mount', 'EACCES', { nth });
    expect(() => run(sys, ['/proc/sys', '/proc/sysrq-trigger'])).toThrow(`finalize: plugin readonly-paths: ${message}`);
    expect(sys.callsOf('mount')).toHaveLength(nth);
    expect(sys.openFds()).toEqual([]);
  });

  test('without a procfs at /proc: a recursive copy of the mount at the path, its top made read-only (its other flags the copied ones), attached onto the path by descriptor', () => {
    const sys = mountedAt(containerFiles(), '/proc/sys').clearCalls();
    run(sys, ['/proc/sys', '/proc/bus']);
    expect(sys.calls.filter((c) => ['openTree', 'mountSetattr', 'moveMount', 'mount'].includes(c.op))).toEqual([
      { op: 'openTree', dirfd: fdOf(sys, '/proc/sys'), path: '', flags: OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE },
      { op: 'mountSetattr', dirfd: 103, path: '', atFlags: AT_EMPTY_PATH, attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n, propagation: 0n },
      { op: 'moveMount', fromDirfd: 103, fromPath: '', toDirfd: fdOf(sys, '/proc/sys'), toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
    ]);
    expect(sys.calls.filter((c) => 'path' in c && typeof c.path === 'string' && c.path.startsWith('/proc'))).toEqual([{ op: 'open', path: '/proc', flags: PROC_ROOT_FLAGS, mode: 0 }]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['openTree', 'ENOSYS', 'open_tree "/proc/sys": ENOSYS (no usable procfs at /proc in the container, and no new mount API in this kernel to mount by descriptor without one: Linux 5.2, mount_setattr(2) 5.12)'],
    ['mountSetattr', 'ENOSYS', 'mount_setattr "/proc/sys": ENOSYS (no usable procfs at /proc in the container, and no new mount API in this kernel to mount by descriptor without one: Linux 5.2, mount_setattr(2) 5.12)'],
    ['moveMount', 'EPERM', 'move_mount "/proc/sys": EPERM'],
  ] as const)('without a procfs at /proc, a failing %s (%s) stops the step naming the path, every descriptor closed', (op, errno, message) => {
    const sys = containerFiles().failOn(op, errno);
    expect(() => run(sys, ['/proc/sys'])).toThrow(`finalize: plugin readonly-paths: ${message}`);
    expect(sys.callsOf('moveMount')).toHaveLength(op === 'moveMount' ? 1 : 0);
    expect(sys.openFds()).toEqual([]);
  });

  test('with masked paths too, the container /proc is checked once per run', () => {
    const sys = container();
    runSteps(sys, [new finalize.ReadonlyPathsStep(sys), new finalize.MaskedPathsStep(sys)], { readonlyPaths: ['/proc/sys'], maskedPaths: ['/proc/kcore'] });
    expect(sys.calls.filter((c) => c.op === 'readlinkat' || (c.op === 'openat2' && c.path === '1/task/1/fd'))).toHaveLength(2);
    expect(sys.callsOf('fstatfs').filter((c) => sys.pathOf(c.fd) === '/proc')).toHaveLength(1);
  });
});

describe('finalize: readonly-rootfs and umask', () => {
  test('a read-only root is remounted read-only without MS_REC', () => {
    const sys = container();
    runSteps(sys, [new finalize.ReadonlyRootfsStep(sys)], { readonlyRootfs: true });
    expect(sys.effects()).toEqual([remount('/')]);
  });

  test('a read-write root is left alone', () => {
    const sys = container();
    runSteps(sys, [new finalize.ReadonlyRootfsStep(sys)], { readonlyRootfs: false });
    expect(sys.effects()).toEqual([]);
  });

  test('EBUSY twice then success: two pauses', () => {
    const sys = container().failOn('mount', 'EBUSY', { times: 2 });
    runSteps(sys, [new finalize.ReadonlyRootfsStep(sys)], { readonlyRootfs: true });
    expect(sys.effects()).toEqual([remount('/'), { op: 'sleep', ms: 100 }, remount('/'), { op: 'sleep', ms: 100 }, remount('/')]);
  });

  test('EBUSY five times is an error; another errno is passed on', () => {
    const busy = container().failOn('mount', 'EBUSY', { times: 5 });
    expect(() => runSteps(busy, [new finalize.ReadonlyRootfsStep(busy)], { readonlyRootfs: true })).toThrow(
      'finalize: plugin readonly-rootfs: mount "/" read-only: EBUSY after 5 attempts',
    );
    const perm = container().failOn('mount', 'EPERM', { times: Infinity });
    expect(() => runSteps(perm, [new finalize.ReadonlyRootfsStep(perm)], { readonlyRootfs: true })).toThrow(
      'finalize: plugin readonly-rootfs: mount "/": EPERM',
    );
    expect(perm.callsOf('mount')).toHaveLength(2);
    expect(perm.openFds()).toEqual([]);
    const io = container().failOn('mount', 'EIO');
    expect(() => runSteps(io, [new finalize.ReadonlyRootfsStep(io)], { readonlyRootfs: true })).toThrow('finalize: plugin readonly-rootfs: mount "/": EIO');
    expect(io.callsOf('mount')).toHaveLength(1);
  });

  test("EPERM (flags a user namespace locked): once more, with the nosuid, nodev and noexec fstatfs reports for / kept, as runc retries with statfs's", () => {
    const sys = container().addMountFlags('/', ST_NOSUID | ST_NODEV | ST_RELATIME).failOn('mount', 'EPERM', { times: 1 });
    runSteps(sys, [new finalize.ReadonlyRootfsStep(sys)], { readonlyRootfs: true });
    expect(sys.callsOf('mount')).toEqual([remount('/'), remount('/', MS_NOSUID | MS_NODEV)]);
    expect(sys.callsOf('open')).toEqual([{ op: 'open', path: '/', flags: O_PATH | O_DIRECTORY | O_CLOEXEC, mode: 0 }]);
    expect(sys.callsOf('fstatfs').at(-1)).toEqual({ op: 'fstatfs', fd: fdOf(sys, '/') });
    expect(sys.openFds()).toEqual([]);
  });

  test('umask 0022 by default', () => {
    const sys = container();
    sys.umask(0o077);
    sys.clearCalls();
    runSteps(sys, [new finalize.UmaskStep(sys)], {});
    expect(sys.effects()).toEqual([{ op: 'umask', mask: 0o022 }]);
    expect(sys.umask(0)).toBe(0o022);
  });

  test("process.user.umask instead of 0022 when the config names one", () => {
    const sys = container();
    sys.clearCalls();
    runSteps(sys, [new finalize.UmaskStep(sys)], { process: { ...makeConfig().process, umask: 0o077 } });
    expect(sys.effects()).toEqual([{ op: 'umask', mask: 0o077 }]);
  });
});

describe('finalize: the whole phase through the kernel', () => {
  const full: Partial<RootfsConfig> = {
    readonlyRootfs: true,
    mounts: [makeMount({ type: 'tmpfs', destination: '/dev', flags: MS_NOSUID | MS_NOEXEC | MS_RDONLY })],
    maskedPaths: ['/proc/kcore', '/proc/acpi'],
    readonlyPaths: ['/proc/sys'],
    sysctls: { 'kernel.hostname': 'box' },
  };

  function kernel(sys: FakeSyscalls) {
    return createKernel({
      syscalls: sys,
      plugins: { plugins: [] },
      extra: [
        { module: 'elsewhere', plugin: { register: (api) => api.handler(mountsElsewhere) } },
        { module: 'finalize', plugin: finalize },
      ],
    }).orchestrator;
  }

  test('the registered steps run as runc 1.1 runs them: ro tmpfs and /dev mounts, ro rootfs, sysctl, readonly paths, masks, umask', () => {
    const sys = mountedAt(container(), '/dev');
    const orchestrator = kernel(sys);
    expect(orchestrator.orderedSteps().map((s) => [s.name, s.phase, s.order])).toEqual([
      ['readonly-mounts', 'finalize', 'pre'],
      ['readonly-rootfs', 'finalize', 'pre'],
      ['sysctl', 'finalize', 'pre'],
      ['readonly-paths', 'finalize', 'normal'],
      ['masked-paths', 'finalize', 'normal'],
      ['umask', 'finalize', 'post'],
    ]);
    orchestrator.run(makeConfig(full), { checkClaims: false });
    expect(changes(sys)).toEqual([
      remount('/dev', MS_NOSUID | MS_NOEXEC),
      remount('/'),
      { op: 'write', fd: fdOf(sys, '/proc/sys/kernel/hostname'), data: 'box' },
      { op: 'mount', source: viaFd(sys, '/proc/sys'), target: viaFd(sys, '/proc/sys'), fstype: null, flags: MS_BIND | MS_REC, data: null },
      remount(viaFd(sys, '/proc/sys'), MS_REC),
      { op: 'mount', source: viaFd(sys, '/dev/null'), target: viaFd(sys, '/proc/kcore'), fstype: null, flags: MS_BIND, data: null },
      { op: 'mount', source: 'tmpfs', target: viaFd(sys, '/proc/acpi'), fstype: 'tmpfs', flags: MS_RDONLY, data: null },
      { op: 'umask', mask: 0o022 },
    ]);
  });

  test('an empty config only sets the umask', () => {
    const sys = container();
    kernel(sys).run(makeConfig(), { checkClaims: false });
    expect(sys.calls).toEqual([{ op: 'umask', mask: 0o022 }]);
  });

  test('a failure stops the phase: later steps do not run', () => {
    const sys = mountedAt(container(), '/dev').failOn('write', 'EACCES');
    expect(() => kernel(sys).run(makeConfig(full), { checkClaims: false })).toThrow('finalize: plugin sysctl: linux.sysctl "kernel.hostname": write "/proc/sys/kernel/hostname": EACCES');
    expect(changes(sys).map((c) => c.op)).toEqual(['mount', 'mount', 'write']);
  });
});
