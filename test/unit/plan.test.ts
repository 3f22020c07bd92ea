import 'reflect-metadata';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MNT_DETACH,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_STRICTATIME,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_BIND,
  MS_MOVE,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_PRIVATE,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  OPEN_TREE_CLONE,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_NOCTTY,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_WRONLY,
  RESOLVE_IN_ROOT,
  ST_NOEXEC,
  ST_NOSUID,
  ST_RDONLY,
  ST_RELATIME,
  ST_VALID,
  S_IFCHR,
  makedev,
} from '../../src/core/constants';
import { ConfigError, PluginError, StepError, SyscallError } from '../../src/core/errors';
import { pivotInto } from '../../src/plugins/jail/pivot';
import type { PluginModule } from '../../src/core/kernel';
import { CLONE_FS, PID_NAMESPACE_PARENT } from '../../src/core/namespaces';
import { containerRoot } from '../../src/core/mounting';
import { buildPlan, descriptorsOf, formatCall, formatPlanText, planToJson, PlanSyscalls, type Plan, type PlanKernelAnswers } from '../../src/core/plan';
import { planCallToJson } from '../../src/core/plan/format';
import type { LifecycleStep, MountHandler } from '../../src/core/plugin';
import { FakeSyscalls, type SyscallRecord } from '../../src/core/syscalls/fake';
import type { RootfsConfig } from '../../src/core/config/model';
import * as hooksPlugin from '../../src/plugins/hooks';
import { ConsoleSocketStep, ConsoleStep, SessionStep } from '../../src/plugins/exec';
import { eventLine } from '../../src/core/runtime-channel';
import { makeConfig, makeMount } from '../helpers/config';
import { caught, errorOf } from '../helpers/syscall-error';
import { JAIL_STAND_IN_EXTRA } from '../helpers/jail-stand-in';

const outside = { relaunched: false, inUserNamespace: false };

/** The newer mount calls all there (Linux 6.15 on, no seccomp filter), whatever this host has: the plan port's model is under test, not this kernel (plan-kernel.test.ts has the others). */
const EVERY_CALL: PlanKernelAnswers = {};


/** A plugin module with a tmpfs handler and one step in each of two phases, all making calls. */
const testPlugin: PluginModule = {
  register(api) {
    const handler: MountHandler = {
      name: 'tmpfs-test',
      types: ['tmpfs'],
      mount: (m, ctx) => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls')).mount('tmpfs', ctx.config.rootfs + m.destination, 'tmpfs', m.flags, null),
    };
    const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
    const dev: LifecycleStep = { name: 'dev-test', phase: 'dev', run: (ctx) => sys().mknod(ctx.config.rootfs + '/dev/null', S_IFCHR | 0o666, makedev(1, 3)) };
    const exec: LifecycleStep = { name: 'exec-test', phase: 'finalize', order: 'post', run: () => sys().execve('/bin/sh', ['sh'], []) };
    api.handler(handler);
    api.step(dev);
    api.step(exec);
  },
};

function fakeRoot(): FakeSyscalls {
  return new FakeSyscalls().addDir('/bundle/rootfs/tmp').addDir('/bundle/rootfs/dev').addDir('/proc/self').addFile('/proc/self/mountinfo', '');
}

function planOf(over: Parameters<typeof makeConfig>[0] = {}, sys = fakeRoot(), extra: PluginModule = testPlugin): Plan {
  const config = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/tmp', flags: MS_NOSUID })], ...over });
  return buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: extra }], launch: outside });
}

describe('buildPlan', () => {
  test("a mount its handler's validate refuses ends the plan with that ConfigError before the namespaces are entered", () => {
    const refusing: PluginModule = {
      register: (api) =>
        api.handler({
          name: 'ramfs',
          types: ['ramfs'],
          validate: (m) => {
            if (m.data !== '') throw new ConfigError('options', m.data, 'ramfs takes no size');
          },
          mount: () => undefined,
        }),
    };
    const config = makeConfig({ namespaces: [{ type: 'mount' }], mounts: [makeMount({ type: 'ramfs', destination: '/ram', data: 'size=1m' })] });
    const plan = buildPlan(config, { syscalls: fakeRoot(), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: refusing }], launch: outside });
    expect(plan.complete).toBe(false);
    expect(plan.error).toBeInstanceOf(ConfigError);
    expect((plan.error as Error).message).toBe('mounts[0] "/ram": plugin ramfs: options "size=1m": ramfs takes no size');
    // The launcher's own descriptors only: no unshare, nothing opened in the rootfs.
    expect(plan.calls.map((c) => c.record.op)).toEqual(['cloexecFrom', 'dupCloexec']);
  });

  test("the plugins' validate is asked once, with the config the run gets (its newSession)", () => {
    const seen: unknown[] = [];
    const checking: PluginModule = {
      register: (api) => {
        api.handler({ name: 'ramfs', types: ['ramfs'], validate: (m, c) => void seen.push(['ramfs', m.destination, c.newSession]), mount: () => undefined });
        api.step({ name: 'quota', phase: 'dev', validate: (c) => void seen.push(['quota', c.newSession]), run: () => undefined });
      },
    };
    const config = makeConfig({ namespaces: [{ type: 'mount' }], mounts: [makeMount({ type: 'ramfs', destination: '/ram' })] });
    const plan = buildPlan(config, { syscalls: fakeRoot(), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: checking }], launch: { ...outside, startedInPidNamespace: true } });
    expect(plan.error).toBeUndefined();
    expect(seen).toEqual([
      ['ramfs', '/ram', true],
      ['quota', true],
    ]);
  });

  test('every call carries its phase, plugin and mount; namespaces come first; execve ends the plan', () => {
    const plan = planOf({ namespaces: [{ type: 'mount' }, { type: 'ipc' }] });
    expect(plan.complete).toBe(true);
    expect(plan.error).toBeUndefined();
    expect(plan.calls).toEqual([
      // What mountkit was started with stays its own (cli/run.ts).
      { seq: 0, phase: 'namespaces', plugin: 'launcher', record: { op: 'cloexecFrom', first: 3 } },
      // mountkit's messages go to a copy of the stderr it was started with, close-on-exec (core/streams.ts keepStderr).
      { seq: 1, phase: 'namespaces', plugin: 'launcher', record: { op: 'dupCloexec', fd: 2, lowest: 3 } },
      { seq: 2, phase: 'namespaces', plugin: 'launcher', record: { op: 'unshare', flags: CLONE_NEWNS | CLONE_NEWIPC } },
      {
        seq: 3,
        phase: 'mounts',
        plugin: 'tmpfs-test',
        mountIndex: 0,
        destination: '/tmp',
        record: { op: 'mount', source: 'tmpfs', target: '/bundle/rootfs/tmp', fstype: 'tmpfs', flags: MS_NOSUID, data: null },
      },
      { seq: 4, phase: 'dev', plugin: 'dev-test', record: { op: 'mknod', path: '/bundle/rootfs/dev/null', mode: S_IFCHR | 0o666, dev: makedev(1, 3) } },
      { seq: 5, phase: 'finalize', plugin: 'exec-test', record: { op: 'execve', path: '/bin/sh', argv: ['sh'], envp: [] } },
    ]);
  });

  test('descriptors passed to the container: fstat(2) of each first, while they are the caller\'s, then all marked; one closed ends the plan with run\'s error, before any call', () => {
    const config = makeConfig({ mounts: [], namespaces: [{ type: 'mount' }], preserveFds: 2 });
    const plan = buildPlan(config, { syscalls: fakeRoot().inheritFile(3).inheritFile(4), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside, queries: true });
    expect(plan.calls.slice(0, 3).map((c) => [c.plugin, c.record])).toEqual([
      ['launcher', { op: 'fstat', fd: 3 }],
      ['launcher', { op: 'fstat', fd: 4 }],
      ['launcher', { op: 'cloexecFrom', first: 3 }],
    ]);
    const closed = buildPlan(config, { syscalls: fakeRoot().inheritFile(3), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside });
    expect(closed.calls).toEqual([]);
    expect((closed.error as Error).message).toBe('--preserve-fds 2: descriptor 4 is not open');
  });

  test("on its own port, the descriptors passed are this process's open ones: a count far past them ends at the first closed one, as run's fstat(2) of each does, having looked at no other", () => {
    // `first` is the lowest number free, so every one below it is open; `gap` the lowest after it, closed again.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-'));
    const file = path.join(dir, 'passed');
    fs.writeFileSync(file, '');
    const first = fs.openSync(file, 'r');
    const gap = fs.openSync(file, 'r');
    fs.closeSync(gap);
    try {
      const config = makeConfig({ mounts: [], namespaces: [{ type: 'mount' }], preserveFds: 100_000_000 });
      const plan = buildPlan(config, { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside, validate: false, queries: true });
      expect(plan.complete).toBe(false);
      expect(plan.error).toBeInstanceOf(ConfigError);
      expect((plan.error as Error).message).toBe(`--preserve-fds 100000000: descriptor ${gap} is not open`);
      expect(plan.calls.map((c) => c.record)).toEqual(Array.from({ length: gap - 2 }, (_fd, i) => ({ op: 'fstat', fd: 3 + i })));
      expect(first).toBeLessThan(gap);
    } finally {
      fs.closeSync(first);
      fs.rmSync(dir, { recursive: true });
    }
  });

  test('on its own port, a descriptor the caller had closed (closedFd, which bin/mountkit tells) ends the plan there, though this process has it open: the fstat(2) of each before it, then the run\'s error', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-'));
    const file = path.join(dir, 'passed');
    fs.writeFileSync(file, '');
    // The lowest number free: every one below it open, and it open too, as Node's own would be.
    const own = fs.openSync(file, 'r');
    try {
      const config = makeConfig({ mounts: [], namespaces: [{ type: 'mount' }], preserveFds: 100_000_000 });
      const plan = buildPlan(config, { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside, validate: false, queries: true, closedFd: own });
      expect(plan.complete).toBe(false);
      expect((plan.error as Error).message).toBe(`--preserve-fds 100000000: descriptor ${own} is not open`);
      expect(plan.calls.map((c) => c.record)).toEqual(Array.from({ length: own - 2 }, (_fd, i) => ({ op: 'fstat', fd: 3 + i })));
      // A count that stops below it is not changed by it: each passed one is looked at, then all marked, and the plan goes on.
      const within = buildPlan(makeConfig({ mounts: [], namespaces: [{ type: 'mount' }], preserveFds: own - 3 }), { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside, validate: false, queries: true, closedFd: own });
      expect(within.calls.slice(0, own - 2).map((c) => c.record)).toEqual([...Array.from({ length: own - 3 }, (_fd, i) => ({ op: 'fstat', fd: 3 + i })), { op: 'cloexecFrom', first: 3 }]);
    } finally {
      fs.closeSync(own);
      fs.rmSync(dir, { recursive: true });
    }
  });

  test('a pid namespace: the relaunch under unshare(1) first, then what the relaunched process does', () => {
    const plan = planOf({ namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }] });
    const fake = fakeRoot().addFile('/proc/1/ns/net');
    const joined = planOf({ namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }] }, fake);
    // The first process becomes a child subreaper before anything is started for the relaunch, as run does.
    expect(plan.calls[2]).toEqual({ seq: 2, phase: 'namespaces', plugin: 'launcher', record: { op: 'setChildSubreaper' } });
    expect(plan.calls[3]).toEqual({
      seq: 3,
      phase: 'namespaces',
      plugin: 'launcher',
      record: { op: 'relaunch', argv: ['unshare', '--pid', '--mount', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT] },
    });
    // The launcher made the new namespaces; the relaunched process, their PID 1, dies with the shell that forked it (SIGKILL),
    // keeps what it was started with to itself, the runtime channel too, and joins the network one by path.
    expect(joined.calls.slice(4, 11).map((c) => [c.phase, c.record])).toEqual([
      ['namespaces', { op: 'setParentDeathSignal', signal: 9 }],
      ['namespaces', { op: 'cloexecFrom', first: 3 }],
      // Its own copy of stderr, as the first process took one (100).
      ['namespaces', { op: 'dupCloexec', fd: 2, lowest: 3 }],
      ['namespaces', { op: 'setCloexec', fd: 3 }],
      ['namespaces', { op: 'open', path: '/proc/1/ns/net', flags: 0o2000000, mode: 0 }],
      ['namespaces', { op: 'setns', fd: 102, nstype: CLONE_NEWNET }],
      ['namespaces', { op: 'close', fd: 102 }],
    ]);
  });

  test('--log FILE with a relaunch: the first process opens it before the relaunch, the relaunched process takes its copy from descriptor 8 and closes 8, as run does', () => {
    const config = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/tmp', flags: MS_NOSUID })], namespaces: [{ type: 'pid' }, { type: 'mount' }] });
    const sys = fakeRoot().addDir('/var/log');
    const plan = buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside, log: '/var/log/run.log' });
    expect(plan.calls.slice(0, 11).map((c) => [c.phase, c.plugin, c.record])).toEqual([
      ['namespaces', 'launcher', { op: 'cloexecFrom', first: 3 }],
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 2, lowest: 3 }],
      ['namespaces', 'launcher', { op: 'open', path: '/var/log/run.log', flags: O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640 }],
      ['namespaces', 'launcher', { op: 'setChildSubreaper' }],
      ['namespaces', 'launcher', { op: 'relaunch', argv: ['unshare', '--pid', '--mount', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT] }],
      ['namespaces', 'launcher', { op: 'setParentDeathSignal', signal: 9 }],
      ['namespaces', 'launcher', { op: 'cloexecFrom', first: 3 }],
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 2, lowest: 3 }],
      // The log's copy above the numbers the passed descriptors take, then its number 8 freed.
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 8, lowest: 3 }],
      ['namespaces', 'launcher', { op: 'close', fd: 8 }],
      ['namespaces', 'launcher', { op: 'setCloexec', fd: 3 }],
    ]);
    expect(sys.node('/var/log/run.log')?.perm).toBe(0o640 & ~0o022);
    // The first process keeps its descriptor (101); the relaunched process's copy (103) leads to the same file, 8 is closed.
    expect([101, 103].map((fd) => [sys.openFds().includes(fd), sys.pathOf(fd)])).toEqual([
      [true, '/var/log/run.log'],
      [true, '/var/log/run.log'],
    ]);
    expect(sys.openFds()).not.toContain(8);
    expect(plan.complete).toBe(true);
  });

  test('--log FILE without a relaunch: opened before the namespaces are entered, kept; without --log, no open', () => {
    const config = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/tmp', flags: MS_NOSUID })], namespaces: [{ type: 'mount' }] });
    const plan = buildPlan(config, { syscalls: fakeRoot().addDir('/var/log'), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside, log: '/var/log/run.log' });
    expect(plan.calls.slice(0, 4).map((c) => c.record)).toEqual([
      { op: 'cloexecFrom', first: 3 },
      { op: 'dupCloexec', fd: 2, lowest: 3 },
      { op: 'open', path: '/var/log/run.log', flags: O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640 },
      { op: 'unshare', flags: CLONE_NEWNS },
    ]);
    expect(plan.calls.filter((c) => c.record.op === 'close' && (c.record as { fd: number }).fd === 101)).toEqual([]);
    const without = buildPlan(config, { syscalls: fakeRoot(), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside });
    expect(without.calls.slice(0, 3).map((c) => c.record.op)).toEqual(['cloexecFrom', 'dupCloexec', 'unshare']);
  });

  test('--log FILE that cannot be opened (its directory missing): a configuration error naming it, and the plan stops there', () => {
    const config = makeConfig({ namespaces: [{ type: 'pid' }, { type: 'mount' }] });
    const plan = buildPlan(config, { syscalls: fakeRoot(), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: testPlugin }], launch: outside, log: '/nowhere/run.log' });
    expect(plan.error).toBeInstanceOf(ConfigError);
    expect((plan.error as Error).message).toBe('--log "/nowhere/run.log": cannot be opened (ENOENT)');
    expect(plan.calls.map((c) => c.record.op)).toEqual(['cloexecFrom', 'dupCloexec', 'open']);
  });

  test('a pid namespace joined by path: joined here, then the relaunch (no fork), this thread back in its own, then the relaunched process', () => {
    const fake = fakeRoot().addFile('/proc/thread-self/ns/pid').addFile('/proc/9/ns/pid').addFile('/proc/9/ns/net');
    const plan = planOf({ namespaces: [{ type: 'pid', path: '/proc/9/ns/pid' }, { type: 'mount' }, { type: 'network', path: '/proc/9/ns/net' }] }, fake);
    expect(plan.calls.slice(0, 16).map((c) => [c.phase, c.plugin, c.record])).toEqual([
      ['namespaces', 'launcher', { op: 'cloexecFrom', first: 3 }],
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 2, lowest: 3 }],
      ['namespaces', 'launcher', { op: 'setChildSubreaper' }],
      ['namespaces', 'launcher', { op: 'open', path: '/proc/thread-self/ns/pid', flags: 0o2000000, mode: 0 }],
      ['namespaces', 'launcher', { op: 'open', path: '/proc/9/ns/pid', flags: 0o2000000, mode: 0 }],
      ['namespaces', 'launcher', { op: 'setns', fd: 102, nstype: CLONE_NEWPID }],
      ['namespaces', 'launcher', { op: 'close', fd: 102 }],
      ['namespaces', 'launcher', { op: 'relaunch', argv: ['unshare', '--mount', '--propagation', 'unchanged', '--'] }],
      ['namespaces', 'launcher', { op: 'setns', fd: 101, nstype: CLONE_NEWPID }],
      ['namespaces', 'launcher', { op: 'close', fd: 101 }],
      ['namespaces', 'launcher', { op: 'cloexecFrom', first: 3 }],
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 2, lowest: 3 }],
      ['namespaces', 'launcher', { op: 'setCloexec', fd: 3 }],
      ['namespaces', 'launcher', { op: 'open', path: '/proc/9/ns/net', flags: 0o2000000, mode: 0 }],
      ['namespaces', 'launcher', { op: 'setns', fd: 103, nstype: CLONE_NEWNET }],
      ['namespaces', 'launcher', { op: 'close', fd: 103 }],
    ]);
  });

  test("runtime hooks without a pid namespace: a relaunch all the same; the relaunched process sends them to its starter (descriptor 3), createContainer's it runs", () => {
    const hook = (p: string) => ({ path: p, args: [], env: [] });
    const config = makeConfig({ namespaces: [{ type: 'mount' }, { type: 'network' }], hooks: { prestart: [], createRuntime: [hook('/hooks/net')], createContainer: [hook('/hooks/cc')] } });
    const plan = buildPlan(config, { syscalls: fakeRoot(), plugins: { plugins: [{ module: 'builtin:network' }] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'hooks', plugin: hooksPlugin }], launch: outside });
    expect(plan.calls[3].record).toEqual({ op: 'relaunch', argv: ['unshare', '--mount', '--net', '--propagation', 'unchanged', '--'] });
    expect(plan.calls.filter((c) => c.record.op === 'runCommand').map((c) => [c.plugin, (c.record as { cmd: { path: string; via?: number } }).cmd.path, (c.record as { cmd: { via?: number } }).cmd.via])).toEqual([
      ['hooks', '/hooks/net', 3],
      ['create-container-hooks', '/hooks/cc', undefined],
    ]);
    // The relaunched process's first calls: what it was started with, the channel among it, is its own, no hook's.
    expect(plan.calls.slice(4, 7).map((c) => c.record)).toEqual([{ op: 'cloexecFrom', first: 3 }, { op: 'dupCloexec', fd: 2, lowest: 3 }, { op: 'setCloexec', fd: 3 }]);
    const none = buildPlan({ ...config, hooks: { prestart: [], createRuntime: [] } }, { syscalls: fakeRoot(), plugins: { plugins: [{ module: 'builtin:network' }] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'hooks', plugin: hooksPlugin }], launch: outside });
    expect(none.calls[2].record).toEqual({ op: 'unshare', flags: CLONE_NEWNS | CLONE_NEWNET });
  });

  test("a foreground console (process.terminal, no --console-socket): a relaunch with the socketpair's end on 6; the relaunched process sends the master there and tells its starter", () => {
    // The container's procfs as fakeRoot's /proc (its /proc/self a directory standing for the host's): thread-self leads to the thread's fd directory.
    const sys = fakeRoot().addDevpts('/dev/pts').addDir('/proc/1/task/1/fd').addSymlink('/proc/thread-self', '1/task/1');
    sys.mounts.push({ source: 'proc', target: '/proc', fstype: 'proc', flags: 0n, data: null });
    const consolePlugin: PluginModule = {
      register(api) {
        api.step(SessionStep);
        api.step(ConsoleSocketStep);
        api.step(ConsoleStep);
      },
    };
    const config = makeConfig({ namespaces: [{ type: 'mount' }], process: { ...makeConfig().process, terminal: true } });
    const plan = buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'exec', plugin: consolePlugin }], launch: outside });
    expect(plan.error).toBeUndefined();
    const records = plan.calls.map((c) => c.record);
    expect(records.slice(0, 11)).toEqual([
      { op: 'cloexecFrom', first: 3 },
      { op: 'dupCloexec', fd: 2, lowest: 3 },
      { op: 'setChildSubreaper' },
      { op: 'socketPair' },
      { op: 'relaunch', argv: ['unshare', '--mount', '--propagation', 'unchanged', '--'] },
      // The first process's copy of the relaunch's end; its own end (101) stays open for the master.
      { op: 'close', fd: 102 },
      // The relaunched process keeps a copy of its stderr before the console is put there, and takes the end passed on 6, then the runtime channel.
      { op: 'cloexecFrom', first: 3 },
      { op: 'dupCloexec', fd: 2, lowest: 3 },
      { op: 'setCloexec', fd: 6 },
      { op: 'setCloexec', fd: 3 },
      { op: 'setsid' },
    ]);
    const sent = records.findIndex((r) => r.op === 'sendFdMessage');
    expect(records.slice(sent, sent + 2)).toEqual([
      { op: 'sendFdMessage', socket: 6, fd: expect.any(Number), data: '/dev/ptmx' },
      { op: 'exchange', fd: 3, line: '{"event":"console"}\n' },
    ]);
    expect(records.filter((r) => r.op === 'connectUnix')).toEqual([]);
  });

  test("with a new pid namespace the container is its PID 1 in the createContainer hooks' state, with runtime hooks (a relaunch of the Node entry) or without", () => {
    const hook = { path: '/hooks/cc', args: [], env: [] };
    // The plan's own port, over a bundle on the host.
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-pid-'));
    try {
      fs.mkdirSync(path.join(bundle, 'rootfs'));
      const pidOf = (over: Partial<RootfsConfig['hooks']>) => {
        const config = makeConfig({ bundle, rootfs: path.join(bundle, 'rootfs'), mounts: [], namespaces: [{ type: 'pid' }, { type: 'mount' }], hooks: { prestart: [], createRuntime: [], createContainer: [hook], ...over } });
        const plan = buildPlan(config, { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'hooks', plugin: hooksPlugin }], launch: outside });
        const cc = plan.calls.find((c) => c.record.op === 'runCommand' && (c.record as { cmd: { path: string } }).cmd.path === '/hooks/cc');
        return (JSON.parse((cc!.record as { cmd: { stdin: string } }).cmd.stdin) as { pid: number }).pid;
      };
      expect([pidOf({}), pidOf({ poststop: [{ path: '/hooks/clean', args: [], env: [] }] })]).toEqual([1, 1]);
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  test("the container's session on the plan's own port after a relaunch: PID 1 of a new pid namespace makes its own; the relaunch that becomes the container leads the one it was started in, without a terminal", () => {
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-session-'));
    try {
      fs.mkdirSync(path.join(bundle, 'rootfs'));
      const sessionPlugin: PluginModule = { register: (api) => api.step(SessionStep) };
      const sessionCalls = (namespaces: RootfsConfig['namespaces']) => {
        const config = makeConfig({ bundle, rootfs: path.join(bundle, 'rootfs'), mounts: [], namespaces, hooks: { prestart: [], createRuntime: [], poststop: [{ path: '/hooks/clean', args: [], env: [] }] } });
        const plan = buildPlan(config, { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'exec', plugin: sessionPlugin }], launch: outside, queries: true });
        expect(plan.error).toBeUndefined();
        return plan.calls.filter((c) => c.plugin === 'session').map((c) => c.record);
      };
      expect(sessionCalls([{ type: 'pid' }, { type: 'mount' }])).toEqual([{ op: 'setsid' }]);
      // cli/run.ts spawns it in a session of its own: setsid refuses a group leader (EPERM), and it has no terminal to give up (ENXIO).
      expect(sessionCalls([{ type: 'mount' }])).toEqual([
        { op: 'setsid' },
        { op: 'open', path: '/dev/tty', flags: O_RDWR | O_NOCTTY | O_CLOEXEC, mode: 0 },
      ]);
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  const uuidFile = '/proc/sys/kernel/random/uuid';
  (fs.existsSync(uuidFile) ? test : test.skip)("kernel.random.uuid, which no plugin of mountkit's reads, reads the plan port's stand-ins in the container's procfs too, the same in every plan of a config", () => {
    const bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-uuid-'));
    try {
      fs.mkdirSync(path.join(bundle, 'rootfs', 'proc'), { recursive: true });
      const read: string[] = [];
      // A plugin of a user's that mounts the container's procfs and reads a random UUID there, twice.
      const uuidPlugin: PluginModule = {
        register(api) {
          const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
          api.step({
            name: 'uuid-test',
            phase: 'finalize',
            run: (ctx) => {
              sys().mount('proc', `${ctx.config.rootfs}/proc`, 'proc', 0n, null);
              for (let i = 0; i < 2; i++) read.push(sys().readFile(`${ctx.config.rootfs}${uuidFile}`));
            },
          });
        },
      };
      const config = makeConfig({ bundle, rootfs: path.join(bundle, 'rootfs'), mounts: [], namespaces: [{ type: 'mount' }] });
      for (let i = 0; i < 2; i++) expect(buildPlan(config, { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'uuid', plugin: uuidPlugin }], launch: outside }).error).toBeUndefined();
      const stand = ['00000000-0000-4000-8000-000000000001\n', '00000000-0000-4000-8000-000000000002\n'];
      expect(read).toEqual([...stand, ...stand]);
    } finally {
      fs.rmSync(bundle, { recursive: true, force: true });
    }
  });

  test('a pid namespace joined by path that cannot be opened: the plan stops before the relaunch', () => {
    const plan = planOf({ namespaces: [{ type: 'pid', path: '/proc/9/ns/pid' }, { type: 'mount' }] }, fakeRoot().addFile('/proc/thread-self/ns/pid'));
    expect(plan.complete).toBe(false);
    expect(plan.calls.map((c) => [c.record.op, (c.record as { path?: string }).path])).toEqual([
      ['cloexecFrom', undefined],
      ['dupCloexec', undefined],
      ['setChildSubreaper', undefined],
      ['open', '/proc/thread-self/ns/pid'],
      ['open', '/proc/9/ns/pid'],
      ['setns', undefined],
      ['close', undefined],
    ]);
  });

  test('joining a mount namespace by path gives the thread its own filesystem context first, once every namespace path is open', () => {
    const plan = planOf({ namespaces: [{ type: 'mount', path: '/proc/1/ns/mnt' }] }, fakeRoot().addFile('/proc/1/ns/mnt'));
    expect(plan.calls.slice(0, 5).map((c) => c.record)).toEqual([
      { op: 'cloexecFrom', first: 3 },
      { op: 'dupCloexec', fd: 2, lowest: 3 },
      { op: 'open', path: '/proc/1/ns/mnt', flags: 0o2000000, mode: 0 },
      { op: 'unshare', flags: CLONE_FS },
      { op: 'setns', fd: expect.any(Number), nstype: CLONE_NEWNS },
    ]);
  });

  test("the container's pid hooks read: 1 in a new pid namespace; else this process's, standing for the mountkit that runs it", () => {
    const pidOf = (namespaces: RootfsConfig['namespaces']) => {
      const plan = buildPlan(makeConfig({ rootfs: os.tmpdir(), namespaces, hooks: { prestart: [], createRuntime: [], createContainer: [{ path: '/bin/true', args: [], env: [] }] } }), {
        plugins: { plugins: [{ module: 'builtin:hooks' }] },
        extra: [JAIL_STAND_IN_EXTRA],
        launch: outside,
        validate: false,
      });
      const run = plan.calls.find((c) => c.record.op === 'runCommand')?.record;
      return run?.op === 'runCommand' ? JSON.parse(run.cmd.stdin ?? '{}').pid : undefined;
    };
    expect(pidOf([{ type: 'mount' }, { type: 'pid' }])).toBe(1);
    expect(pidOf([{ type: 'mount' }])).toBe(process.pid);
  });

  describe('the hooks the first process runs once the container has started and ended', () => {
    const hook = (p: string, ...args: string[]) => ({ path: p, args: [p, ...args], env: [] });
    const hooks = { prestart: [], createRuntime: [], poststart: [hook('/hooks/a', '1'), hook('/hooks/b')], poststop: [hook('/hooks/c')] };
    /** testPlugin's, with the exec step telling the runtime channel first, as the exec plugin's handover does. */
    const announcing: PluginModule = {
      register(api) {
        testPlugin.register(api);
        const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
        api.step({ name: 'announce', phase: 'finalize', run: (ctx) => sys().write(ctx.config.runtimeChannel!, eventLine('exec')) });
      },
    };
    const planned = (over: Parameters<typeof makeConfig>[0], sys = fakeRoot()) => planOf({ namespaces: [{ type: 'mount' }], hooks, ...over }, sys, announcing);
    const starterCalls = (plan: Plan) =>
      plan.calls
        .filter((c) => c.plugin === 'runtime-hooks')
        .map((c) => {
          const { op, cmd } = c.record as { op: string; cmd: { path: string; args: string[]; stdin?: string } };
          const { status, pid } = JSON.parse(cmd.stdin ?? '{}') as { status: string; pid?: number };
          return [c.phase, op, cmd.path, cmd.args, status, pid];
        });

    test('after the execve: the poststart hooks as they are run, not waited for, with the running state; then the poststop hooks with the stopped one', () => {
      const plan = planned({});
      expect(plan.complete).toBe(true);
      expect(plan.calls[3].record).toEqual({ op: 'relaunch', argv: ['unshare', '--mount', '--propagation', 'unchanged', '--'] });
      const execve = plan.calls.findIndex((c) => c.record.op === 'execve');
      expect(plan.calls.slice(execve + 1).map((c) => c.plugin)).toEqual(['runtime-hooks', 'runtime-hooks', 'runtime-hooks']);
      // The plan's stand-in for the container's pid: the port's.
      expect(starterCalls(plan)).toEqual([
        ['poststart', 'runCommandAsync', '/hooks/a', ['1'], 'running', 1],
        ['poststart', 'runCommandAsync', '/hooks/b', [], 'running', 1],
        ['poststop', 'runCommand', '/hooks/c', [], 'stopped', undefined],
      ]);
      expect(formatPlanText(plan).split('\n').slice(-3, -1).map((l) => l.replace(/^\s*\d+\s+/, '').replace(/\s+/g, ' '))).toEqual([
        'poststart runtime-hooks runCommandAsync(["/hooks/b"])',
        'poststop runtime-hooks runCommand(["/hooks/c"])',
      ]);
    });

    test('a run that would fail before its execve: no poststart hooks, the poststop hooks all the same', () => {
      const sys = fakeRoot();
      sys.failOn('mknod', 'EPERM');
      const plan = planned({}, sys);
      expect(plan.error).toBeInstanceOf(PluginError);
      expect(starterCalls(plan)).toEqual([['poststop', 'runCommand', '/hooks/c', [], 'stopped', undefined]]);
    });

    test('an execve that would fail after the exec event: the poststart hooks all the same, as the first process runs them at the event', () => {
      const sys = fakeRoot();
      sys.failOn('execve', 'ENOENT');
      const plan = planned({}, sys);
      expect(plan.error).toBeInstanceOf(PluginError);
      expect(starterCalls(plan).map(([phase, , path]) => [phase, path])).toEqual([
        ['poststart', '/hooks/a'],
        ['poststart', '/hooks/b'],
        ['poststop', '/hooks/c'],
      ]);
      // Without the event (no exec step telling it), none.
      expect(starterCalls(planOf({ namespaces: [{ type: 'mount' }], hooks })).map(([phase]) => phase)).toEqual(['poststop']);
    });

    test('a relaunch that never starts (a pid namespace that cannot be joined): neither', () => {
      const sys = fakeRoot().addFile('/proc/thread-self/ns/pid');
      const plan = planned({ namespaces: [{ type: 'pid', path: '/proc/9/ns/pid' }, { type: 'mount' }] }, sys);
      expect(plan.error).toBeDefined();
      expect(plan.calls.some((c) => c.record.op === 'relaunch')).toBe(false);
      expect(starterCalls(plan)).toEqual([]);
    });
  });

  test('a failing step ends the plan with the calls up to it and the error', () => {
    const sys = fakeRoot();
    sys.failOn('mknod', 'EPERM');
    const plan = planOf({}, sys);
    expect(plan.complete).toBe(false);
    expect(plan.error).toBeInstanceOf(PluginError);
    expect((plan.error as PluginError).message).toBe('dev: plugin dev-test: mknod "/bundle/rootfs/dev/null": EPERM');
    expect(plan.calls.map((c) => c.record.op)).toEqual(['cloexecFrom', 'dupCloexec', 'unshare', 'mount', 'mknod']);
  });

  test("after a failed mount the rootfs descriptor the run kept is closed by the orchestrator, and the plan says so, not the failed plugin", () => {
    const failing: PluginModule = {
      register(api) {
        const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
        api.handler({
          name: 'tmpfs-test',
          types: ['tmpfs'],
          mount: (_m, ctx) => {
            containerRoot(sys(), ctx);
            throw new StepError('refused');
          },
        });
      },
    };
    const plan = planOf({}, fakeRoot(), failing);
    expect((plan.error as PluginError).message).toBe('mounts: plugin tmpfs-test mounts[0] "/tmp": refused');
    expect(plan.calls.slice(-2).map((c) => [c.phase, c.plugin, c.record.op])).toEqual([
      ['mounts', 'tmpfs-test', 'open'],
      ['mounts', 'orchestrator', 'close'],
    ]);
  });

  test("no copy of stderr for mountkit's messages (no free descriptor): the plan ends there, with run's error, before any namespace", () => {
    const plan = planOf({}, fakeRoot().failOn('dupCloexec', 'EMFILE'));
    expect(plan.complete).toBe(false);
    expect((plan.error as Error).message).toBe('a copy of stderr for mountkit\'s messages: fcntl "F_DUPFD_CLOEXEC": EMFILE');
    expect(plan.calls.map((c) => [c.phase, c.plugin, c.record])).toEqual([
      ['namespaces', 'launcher', { op: 'cloexecFrom', first: 3 }],
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 2, lowest: 3 }],
    ]);
  });

  test('without an exec step the plan is complete at the end of the last phase', () => {
    const noExec: PluginModule = { register: (api) => api.step({ name: 'only', phase: 'jail', run: () => undefined }) };
    const plan = planOf({ mounts: [] }, fakeRoot(), noExec);
    expect(plan).toMatchObject({ complete: true, calls: [{ record: { op: 'cloexecFrom' } }, { record: { op: 'dupCloexec' } }, { record: { op: 'unshare' } }] });
  });

  test('queries are left out unless asked for', () => {
    const reader: PluginModule = {
      register: (api) =>
        api.step({ name: 'reader', phase: 'dev', run: () => void api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls')).stat('/bundle') }),
    };
    const config = makeConfig();
    const opts = { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'r', plugin: reader }], launch: outside };
    expect(buildPlan(config, { ...opts, syscalls: fakeRoot() }).calls.map((c) => c.record.op)).toEqual(['cloexecFrom', 'dupCloexec', 'unshare']);
    expect(buildPlan(config, { ...opts, syscalls: fakeRoot(), queries: true }).calls.map((c) => c.record.op)).toEqual(['cloexecFrom', 'dupCloexec', 'unshare', 'stat']);
  });

  test('the config is checked against the host first, as run checks it', () => {
    const sys = new FakeSyscalls();
    expect(() => buildPlan(makeConfig(), { syscalls: sys, plugins: { plugins: [] }, launch: outside })).toThrow(ConfigError);
    expect(() => buildPlan(makeConfig(), { syscalls: sys, plugins: { plugins: [] }, launch: outside })).toThrow('root.path "/bundle/rootfs": does not exist');
  });

  test('a plugin list no step of which moves the process into the root ends the plan before the namespaces are entered, as run refuses it', () => {
    const plan = buildPlan(makeConfig({ namespaces: [{ type: 'mount' }] }), { syscalls: fakeRoot(), plugins: { plugins: [] }, launch: outside });
    expect(plan.error).toBeInstanceOf(ConfigError);
    expect((plan.error as Error).message).toMatch(/^root\.path .*no plugin in the plugin list moves the process into the container's root/);
    expect(plan.calls.map((c) => c.record.op)).toEqual(['cloexecFrom', 'dupCloexec']);
  });

  test('without a launch given, /proc/self/uid_map decides whether a new user namespace is made', () => {
    const config = makeConfig({ namespaces: [{ type: 'user' }, { type: 'mount' }] });
    const opts = { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA] };
    const withUserNs = () => fakeRoot().addFile('/proc/self/ns/user');
    const inside = withUserNs().addFile('/proc/self/uid_map', '         0       1000          1\n');
    expect(buildPlan(config, { ...opts, syscalls: inside }).calls.map((c) => c.record)).toEqual([{ op: 'cloexecFrom', first: 3 }, { op: 'dupCloexec', fd: 2, lowest: 3 }, { op: 'unshare', flags: CLONE_NEWNS }]);
    const initial = withUserNs().addFile('/proc/self/uid_map', '         0          0 4294967295\n');
    expect(() => buildPlan(config, { ...opts, syscalls: initial })).toThrow(/a new user namespace needs linux\.uidMappings and linux\.gidMappings/);
    expect(() => buildPlan(config, { ...opts, syscalls: withUserNs() })).toThrow(/a new user namespace needs linux\.uidMappings and linux\.gidMappings/);
  });

  test('a new user namespace outside one: made with its maps, then the relaunch enters it; the relaunched process plans in it', () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    expect(() => planOf({ namespaces: [{ type: 'user' }, { type: 'mount' }] }, fakeRoot().addFile('/proc/self/ns/user'))).toThrow(/needs linux\.uidMappings/);
    const plan = planOf({ namespaces: [{ type: 'user' }, { type: 'mount' }], uidMappings: maps, gidMappings: maps }, fakeRoot().addFile('/proc/self/ns/user'));
    expect(plan.calls.slice(0, 11).map((c) => [c.phase, c.plugin, c.record])).toEqual([
      ['namespaces', 'launcher', { op: 'cloexecFrom', first: 3 }],
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 2, lowest: 3 }],
      ['namespaces', 'launcher', { op: 'setChildSubreaper' }],
      ['namespaces', 'launcher', { op: 'userNamespace', uidMappings: maps, gidMappings: maps }],
      ['namespaces', 'launcher', { op: 'relaunch', argv: ['nsenter', '--user=/proc/self/fd/4', '--preserve-credentials', '--setuid=0', '--setgid=0', '--', 'unshare', '--mount', '--propagation', 'unchanged', '--'] }],
      // The first process's copy, once the relaunch has its own.
      ['namespaces', 'launcher', { op: 'close', fd: 101 }],
      // The relaunched process: what it was started with is its own, its copy of stderr, the user namespace's descriptor (nsenter has entered it) closed, then the runtime channel.
      ['namespaces', 'launcher', { op: 'cloexecFrom', first: 3 }],
      ['namespaces', 'launcher', { op: 'dupCloexec', fd: 2, lowest: 3 }],
      ['namespaces', 'launcher', { op: 'close', fd: 4 }],
      ['namespaces', 'launcher', { op: 'setCloexec', fd: 3 }],
      ['mounts', 'tmpfs-test', expect.objectContaining({ op: 'mount' })],
    ]);
  });

  test('with a user namespace, the namespaces given by path are opened, the sockets connected and the OOM score written before the relaunch; the relaunched process takes the sockets', () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const sys = fakeRoot().addFile('/proc/self/ns/user').addFile('/var/run/netns/cni').addFile('/proc/self/oom_score_adj', '0\n').addFile('/nsfs/ns');
    // A namespace file as ip-netns(8) makes one: a bind of a file of an nsfs mount.
    sys.mount('nsfs', '/nsfs', 'nsfs', 0n, null);
    sys.mount('/nsfs/ns', '/var/run/netns/cni', null, MS_BIND, null);
    sys.clearCalls();
    const config = makeConfig({
      namespaces: [{ type: 'user' }, { type: 'mount' }, { type: 'network', path: '/var/run/netns/cni' }],
      uidMappings: maps,
      gidMappings: maps,
      consoleSocket: '/run/console.sock',
      process: { ...makeConfig().process, terminal: true, oomScoreAdj: -100 },
    });
    const plan = buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, launch: outside });
    expect(plan.calls.slice(0, 18).map((c) => c.record)).toEqual([
      { op: 'cloexecFrom', first: 3 },
      { op: 'dupCloexec', fd: 2, lowest: 3 },
      { op: 'setChildSubreaper' },
      { op: 'userNamespace', uidMappings: maps, gidMappings: maps },
      { op: 'open', path: '/var/run/netns/cni', flags: 0o2000000, mode: 0 },
      { op: 'connectUnix', path: '/run/console.sock' },
      { op: 'writeFile', path: '/proc/self/oom_score_adj', data: '-100' },
      {
        op: 'relaunch',
        argv: ['nsenter', '--net=/proc/self/fd/10', '--user=/proc/self/fd/4', '--preserve-credentials', '--setuid=0', '--setgid=0', '--', 'unshare', '--mount', '--propagation', 'unchanged', '--'],
      },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 102 },
      { op: 'close', fd: 103 },
      { op: 'writeFile', path: '/proc/self/oom_score_adj', data: '0' },
      // The relaunched process, as run's takeRelaunchDescriptors: the namespaces' descriptors closed, the socket taken, then the runtime channel.
      { op: 'cloexecFrom', first: 3 },
      { op: 'dupCloexec', fd: 2, lowest: 3 },
      { op: 'close', fd: 4 },
      { op: 'close', fd: 10 },
      { op: 'setCloexec', fd: 6 },
      { op: 'setCloexec', fd: 3 },
    ]);
  });

  test.each<[string, boolean, number, boolean | undefined]>([
    ['root, no user namespace', false, 0, undefined],
    ['root, a user namespace', true, 0, undefined],
    // That user's run refuses it (a user namespace needed): root's run is planned.
    ['a user other than root, no user namespace', false, 1000, undefined],
    ['a user other than root, a user namespace of its own ids', true, 1000, true],
  ])('planned by %s: the config the steps get is rootless only for a user other than root with a user namespace', (_name, userns, euid, rootless) => {
    const own = [{ containerID: 0, hostID: euid, size: 1 }];
    const config = makeConfig({ namespaces: [...(userns ? [{ type: 'user' as const }] : []), { type: 'mount' }], ...(userns ? { uidMappings: own, gidMappings: own } : {}) });
    const seen: (boolean | undefined)[] = [];
    const probe: PluginModule = { register: (api) => api.step({ name: 'probe', phase: 'dev', run: (ctx) => void seen.push(ctx.config.rootless) }) };
    const sys = fakeRoot().addFile('/proc/self/ns/user').addFile('/proc/self/uid_map', '         0          0 4294967295\n');
    buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'probe', plugin: probe }], launch: { ...outside, euid, egid: euid } });
    expect(seen).toEqual([rootless]);
  });

  test('a kernel without user namespaces refuses one, as run refuses it', () => {
    const maps = [{ containerID: 0, hostID: 0, size: 1 }];
    expect(() => planOf({ namespaces: [{ type: 'user' }, { type: 'mount' }], uidMappings: maps, gidMappings: maps })).toThrow(
      'linux.namespaces "user": needs user namespaces in the kernel (no /proc/self/ns/user)',
    );
  });
});

describe('failed calls', () => {
  /** A step that looks up /ram in the rootfs, makes it when the lookup answers ENOENT, mounts on it, then detaches a mount that is not there. */
  const ram: PluginModule = {
    register(api) {
      const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
      api.step({
        name: 'ram',
        phase: 'dev',
        run: (ctx) => {
          const target = ctx.config.rootfs + '/ram';
          try {
            sys().close(sys().openat(-100, target, O_PATH | O_CLOEXEC, 0));
          } catch (err) {
            if (!(err instanceof SyscallError) || err.code !== 'ENOENT') throw err;
            sys().mkdir(target, 0o755);
          }
          sys().mount('tmpfs', target, 'tmpfs', MS_NOSUID, null);
          sys().umount2(ctx.config.rootfs + '/tmp', MNT_DETACH);
        },
      });
    },
  };
  const ramPlan = (): Plan => planOf({ mounts: [] }, fakeRoot(), ram);

  test('each call that failed carries its errno, the one the step handled and the one the run stops at; calls that succeeded carry none', () => {
    const plan = ramPlan();
    expect(plan.complete).toBe(false);
    expect(plan.calls.filter((c) => c.plugin === 'ram')).toEqual([
      { seq: 3, phase: 'dev', plugin: 'ram', record: { op: 'openat', dirfd: -100, path: '/bundle/rootfs/ram', flags: O_PATH | O_CLOEXEC, mode: 0 }, errno: 'ENOENT' },
      { seq: 4, phase: 'dev', plugin: 'ram', record: { op: 'mkdir', path: '/bundle/rootfs/ram', mode: 0o755 } },
      { seq: 5, phase: 'dev', plugin: 'ram', record: { op: 'mount', source: 'tmpfs', target: '/bundle/rootfs/ram', fstype: 'tmpfs', flags: MS_NOSUID, data: null } },
      // /bundle/rootfs/tmp is no mount's root: umount2(2) answers EINVAL.
      { seq: 6, phase: 'dev', plugin: 'ram', record: { op: 'umount2', target: '/bundle/rootfs/tmp', flags: MNT_DETACH }, errno: 'EINVAL' },
    ]);
  });

  test('text: a failed call returns -1 and its errno, as strace shows it; JSON: its errno', () => {
    const plan = ramPlan();
    const calls = plan.calls.filter((c) => c.plugin === 'ram');
    expect(formatPlanText({ ...plan, calls }).split('\n')).toEqual([
      '3  dev  ram  openat(AT_FDCWD, "/bundle/rootfs/ram", O_RDONLY|O_CLOEXEC|O_PATH, 0000) = -1 ENOENT',
      '4  dev  ram  mkdir("/bundle/rootfs/ram", 0755)',
      '5  dev  ram  mount("tmpfs", "/bundle/rootfs/ram", "tmpfs", MS_NOSUID, NULL)',
      '6  dev  ram  umount2("/bundle/rootfs/tmp", MNT_DETACH) = -1 EINVAL',
      'stops here: dev: plugin ram: umount2 "/bundle/rootfs/tmp": EINVAL',
      '',
    ]);
    expect(planToJson({ ...plan, calls }).calls.map(({ seq, op, errno }) => ({ seq, op, errno }))).toEqual([
      { seq: 3, op: 'openat', errno: 'ENOENT' },
      { seq: 4, op: 'mkdir', errno: undefined },
      { seq: 5, op: 'mount', errno: undefined },
      { seq: 6, op: 'umount2', errno: 'EINVAL' },
    ]);
    expect(Object.keys(planToJson({ ...plan, calls }).calls[1])).not.toContain('errno');
  });

  test("an injected failure (failOn) shows as the model's own do; the calls are those of the port the plan was given", () => {
    const sys = fakeRoot().failOn('mkdir', 'EEXIST');
    const plan = planOf({ mounts: [] }, sys, ram);
    expect(plan.calls.filter((c) => c.plugin === 'ram').map((c) => [c.record.op, c.errno])).toEqual([
      ['openat', 'ENOENT'],
      ['mkdir', 'EEXIST'],
    ]);
    expect((plan.error as Error).message).toBe('dev: plugin ram: mkdir "/bundle/rootfs/ram": EEXIST');
    expect(sys.effects().map((c) => c.op)).toEqual(plan.calls.map((c) => c.record.op));
  });

  test('a failed query shows with --queries only', () => {
    const queried: PluginModule = {
      register(api) {
        const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
        api.step({
          name: 'look',
          phase: 'dev',
          run: (ctx) => {
            try {
              sys().lstat(ctx.config.rootfs + '/missing');
            } catch {
              sys().mkdir(ctx.config.rootfs + '/missing', 0o755);
            }
          },
        });
      },
    };
    const config = makeConfig({ mounts: [] });
    const opts = { plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: queried }], launch: outside };
    const shown = (queries: boolean) =>
      buildPlan(config, { ...opts, syscalls: fakeRoot(), queries })
        .calls.filter((c) => c.plugin === 'look')
        .map((c) => [c.record.op, c.errno]);
    expect(shown(false)).toEqual([['mkdir', undefined]]);
    expect(shown(true)).toEqual([
      ['lstat', 'ENOENT'],
      ['mkdir', undefined],
    ]);
  });
});

describe('descriptorsOf', () => {
  test.each<[SyscallRecord, number[]]>([
    [{ op: 'mount', source: 'tmpfs', target: '/proc/thread-self/fd/12', fstype: 'tmpfs', flags: 0n, data: null }, [12]],
    [{ op: 'mount', source: '/proc/self/fd/3', target: '/proc/thread-self/fd/4/sub', fstype: null, flags: MS_BIND, data: null }, [3, 4]],
    [{ op: 'openat', dirfd: 7, path: 'dev', flags: 0, mode: 0 }, [7]],
    [{ op: 'openat', dirfd: -100, path: 'dev', flags: 0, mode: 0 }, []],
    [{ op: 'dup3', oldfd: 9, newfd: 0, flags: 0 }, [9, 0]],
    [{ op: 'close', fd: 5 }, [5]],
    [{ op: 'mkdir', path: '/proc/thread-self/fdinfo/5', mode: 0o755 }, []],
    [{ op: 'symlink', target: '/proc/self/fd/0', linkPath: '/r/dev/stdin' }, [0]],
    [{ op: 'moveMount', fromDirfd: 11, fromPath: '', toDirfd: 10, toPath: '', flags: 0x44 }, [11, 10]],
    [{ op: 'mountSetattr', dirfd: 11, path: '', atFlags: 0x1000, attrSet: MOUNT_ATTR_IDMAP, attrClr: 0n, propagation: 0n, usernsFd: 12 }, [11, 12]],
    // Inside mount data and an fsconfig value, each layer of a list; a command's via; dup3's newfd, whose file it closes.
    [{ op: 'mount', source: 'overlay', target: '/proc/thread-self/fd/4', fstype: 'overlay', flags: 0n, data: 'lowerdir=/proc/self/fd/5:/proc/thread-self/fd/6/sub,upperdir=/proc/self/fd/7' }, [4, 5, 6, 7]],
    [{ op: 'fsconfig', fd: 8, cmd: FSCONFIG_SET_STRING, key: 'lowerdir', value: '/proc/self/fd/5:/proc/self/fd/6', aux: 0 }, [8, 5, 6]],
    [{ op: 'runCommand', cmd: { path: '/hook', args: [], dir: '/', via: 9 } }, [9]],
    [{ op: 'dup3', oldfd: 9, newfd: 4, flags: 0 }, [9, 4]],
    [{ op: 'symlinkat', target: '/proc/self/fd/1', dirfd: 7, linkPath: 'stdout' }, [1, 7]],
  ])('%j -> %j', (record, fds) => expect(descriptorsOf(record)).toEqual(fds));
});

describe('plan formats', () => {
  const plan: Plan = {
    bundle: '/b',
    rootfs: '/b/rootfs',
    complete: false,
    error: new PluginError({ phase: 'mounts', plugin: 'bind', mountIndex: 1, destination: '/usr' }, new StepError('bind source "/x" does not exist')),
    calls: [
      { seq: 0, phase: 'namespaces', plugin: 'launcher', record: { op: 'relaunch', argv: ['unshare', '--pid', '--fork', '--'] } },
      { seq: 1, phase: 'prepare-root', plugin: 'prepare-root', record: { op: 'mount', source: null, target: '/', fstype: null, flags: 0x84000n, data: null } },
      { seq: 2, phase: 'mounts', plugin: 'bind', mountIndex: 1, destination: '/usr', record: { op: 'open', path: '/b/rootfs', flags: O_PATH | O_DIRECTORY, mode: 0 }, result: 7 },
      {
        seq: 3,
        phase: 'mounts',
        plugin: 'bind',
        mountIndex: 1,
        destination: '/usr',
        record: { op: 'mount', source: '/usr', target: '/proc/thread-self/fd/7', fstype: 'bind', flags: MS_BIND | MS_REC, data: null },
        fds: { 7: '/b/rootfs/usr' },
      },
    ],
  };

  test('JSON: version, bigints as hex strings, flags by name, descriptors, the error with where it happened', () => {
    const json = planToJson(plan);
    expect(JSON.parse(JSON.stringify(json))).toEqual({
      version: 2,
      mode: 'run',
      bundle: '/b',
      rootfs: '/b/rootfs',
      complete: false,
      error: {
        name: 'PluginError',
        message: 'mounts: plugin bind mounts[1] "/usr": bind source "/x" does not exist',
        phase: 'mounts',
        plugin: 'bind',
        mountIndex: 1,
      },
      calls: [
        { seq: 0, phase: 'namespaces', plugin: 'launcher', op: 'relaunch', args: { argv: ['unshare', '--pid', '--fork', '--'] } },
        {
          seq: 1,
          phase: 'prepare-root',
          plugin: 'prepare-root',
          op: 'mount',
          args: { source: null, target: '/', fstype: null, flags: '0x84000', data: null },
          decoded: { flags: 'MS_REC|MS_SLAVE' },
        },
        {
          seq: 2,
          phase: 'mounts',
          plugin: 'bind',
          mountIndex: 1,
          destination: '/usr',
          op: 'open',
          args: { path: '/b/rootfs', flags: O_PATH | O_DIRECTORY, mode: 0 },
          decoded: { flags: 'O_RDONLY|O_DIRECTORY|O_PATH', mode: '0000' },
          result: 7,
        },
        {
          seq: 3,
          phase: 'mounts',
          plugin: 'bind',
          mountIndex: 1,
          destination: '/usr',
          op: 'mount',
          args: { source: '/usr', target: '/proc/thread-self/fd/7', fstype: 'bind', flags: '0x5000', data: null },
          decoded: { flags: 'MS_BIND|MS_REC' },
          fds: { 7: '/b/rootfs/usr' },
        },
      ],
    });
  });

  test('text: one aligned line per call, then where the run would stop', () => {
    expect(formatPlanText(plan).split('\n')).toEqual([
      '0  namespaces    launcher               relaunch(["unshare","--pid","--fork","--"])',
      '1  prepare-root  prepare-root           mount(NULL, "/", NULL, MS_REC|MS_SLAVE, NULL)',
      '2  mounts        bind mounts[1] "/usr"  open("/b/rootfs", O_RDONLY|O_DIRECTORY|O_PATH, 0000) = 7',
      '3  mounts        bind mounts[1] "/usr"  mount("/usr", "/proc/thread-self/fd/7", "bind", MS_BIND|MS_REC, NULL)  # 7 = /b/rootfs/usr',
      'stops here: mounts: plugin bind mounts[1] "/usr": bind source "/x" does not exist',
      '',
    ]);
  });

  test('text: a failed call shows -1 and its errno before where its descriptors lead', () => {
    const failed: Plan['calls'][number] = { seq: 0, phase: 'mounts', plugin: 'tmpfs', record: { op: 'openat', dirfd: 7, path: 'ram', flags: O_PATH, mode: 0 }, errno: 'ENOENT', fds: { 7: '/b/rootfs' } };
    expect(formatPlanText({ ...plan, error: undefined, complete: true, calls: [failed] })).toBe('0  mounts  tmpfs  openat(7, "ram", O_RDONLY|O_PATH, 0000) = -1 ENOENT  # 7 = /b/rootfs\n');
    expect(planCallToJson(failed)).toEqual({
      seq: 0,
      phase: 'mounts',
      plugin: 'tmpfs',
      op: 'openat',
      args: { dirfd: 7, path: 'ram', flags: O_PATH, mode: 0 },
      decoded: { dirfd: '7', flags: 'O_RDONLY|O_PATH', mode: '0000' },
      errno: 'ENOENT',
      fds: { 7: '/b/rootfs' },
    });
  });

  test.each([
    ['/b/rootfs/usr', '# 7 = /b/rootfs/usr'],
    ['/b/rootfs/a b', '# 7 = "/b/rootfs/a b"'],
    ['/b/rootfs/a\tb\nc', '# 7 = "/b/rootfs/a\\tb\\nc"'],
    ['/b/rootfs/x, 8 = /etc', '# 7 = "/b/rootfs/x, 8 = /etc"'],
    ['/b/rootfs/q"\\', '# 7 = "/b/rootfs/q\\"\\\\"'],
    ['/b/rootfs/f\udcff', '# 7 = "/b/rootfs/f\\udcff"'],
  ])('text: the path %j a descriptor leads to stays on the call\'s line, quoted when it holds spaces, control characters, quotes or commas', (fdPath, comment) => {
    const lines = formatPlanText({ ...plan, error: undefined, complete: true, calls: [{ ...plan.calls[3], fds: { 7: fdPath } }] }).split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0].endsWith(`  ${comment}`)).toBe(true);
  });

  test.each<[SyscallRecord, string]>([
    [{ op: 'mknod', path: '/r/dev/null', mode: S_IFCHR | 0o666, dev: makedev(1, 3) }, 'mknod("/r/dev/null", S_IFCHR|0666, 1:3)'],
    [{ op: 'umask', mask: 0o022 }, 'umask(0022)'],
    [{ op: 'unshare', flags: CLONE_NEWNS | CLONE_NEWIPC }, 'unshare(CLONE_NEWNS|CLONE_NEWIPC)'],
    [{ op: 'openat', dirfd: -100, path: 'x', flags: O_RDONLY, mode: 0 }, 'openat(AT_FDCWD, "x", O_RDONLY, 0000)'],
    [{ op: 'writeFile', path: '/proc/sys/net/ipv4/ip_forward', data: '1' }, 'writeFile("/proc/sys/net/ipv4/ip_forward", "1")'],
    [{ op: 'runCommand', cmd: { path: '/hook', args: ['a', 'b'], env: ['X=1'], dir: '/' } }, 'runCommand(["/hook","a","b"])'],
    [{ op: 'setgroups', gids: [] }, 'setgroups([])'],
    [{ op: 'openTree', dirfd: -100, path: '/src', flags: OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE }, 'openTree(AT_FDCWD, "/src", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE)'],
    [
      { op: 'openTreeAttr', dirfd: -100, path: '/src', flags: OPEN_TREE_CLONE | O_CLOEXEC, attrSet: MOUNT_ATTR_RDONLY, attrClr: MOUNT_ATTR__ATIME, propagation: 0n },
      'openTreeAttr(AT_FDCWD, "/src", OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC, MOUNT_ATTR_RDONLY, MOUNT_ATTR__ATIME, 0)',
    ],
    [{ op: 'moveMount', fromDirfd: 11, fromPath: '', toDirfd: 10, toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH }, 'moveMount(11, "", 10, "", MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH)'],
    [{ op: 'fsopen', fstype: 'tmpfs', flags: FSOPEN_CLOEXEC }, 'fsopen("tmpfs", FSOPEN_CLOEXEC)'],
    [{ op: 'fsconfig', fd: 12, cmd: FSCONFIG_SET_STRING, key: 'size', value: '1m', aux: 0 }, 'fsconfig(12, FSCONFIG_SET_STRING, "size", "1m", 0)'],
    [{ op: 'fsconfig', fd: 12, cmd: FSCONFIG_SET_FLAG, key: 'sync', value: null, aux: 0 }, 'fsconfig(12, FSCONFIG_SET_FLAG, "sync", NULL, 0)'],
    [{ op: 'fsconfig', fd: 12, cmd: FSCONFIG_CMD_CREATE, key: null, value: null, aux: 0 }, 'fsconfig(12, FSCONFIG_CMD_CREATE, NULL, NULL, 0)'],
    [{ op: 'fsmount', fd: 12, flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME }, 'fsmount(12, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID|MOUNT_ATTR_STRICTATIME)'],
    [{ op: 'mountSetattr', dirfd: 11, path: '', atFlags: 0x1000, attrSet: MOUNT_ATTR_IDMAP, attrClr: 0n, propagation: 0n, usernsFd: 12 }, 'mountSetattr(11, "", AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, 0, 0, 12)'],
    [{ op: 'userNamespace', uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [] }, 'userNamespace([{"containerID":0,"hostID":1000,"size":10}], [])'],
    [{ op: 'seccompLoad', program: new Uint8Array(16), flags: 4 | 8 }, 'seccompLoad(2 instructions, SECCOMP_FILTER_FLAG_SPEC_ALLOW|SECCOMP_FILTER_FLAG_NEW_LISTENER)'],
    [
      { op: 'seccompCompile', filter: { defaultAction: 0x50001, architectures: [], rules: [{ syscall: 'read', action: 0x7fff0000, args: [], field: 'f' }], binaryTree: false, names: ['read'] } },
      'seccompCompile(default 0x50001, 1 rule, 0 added architectures)',
    ],
    [{ op: 'sendFd', sender: 1, fd: 6 }, 'sendFd(1, 6)'],
    [{ op: 'setParentDeathSignal', signal: 9 }, 'setParentDeathSignal(SIGKILL)'],
    [{ op: 'capbsetDrop', cap: 0 }, 'capbsetDrop(CAP_CHOWN)'],
    [{ op: 'capbsetRead', cap: 40 }, 'capbsetRead(CAP_CHECKPOINT_RESTORE)'],
    [{ op: 'ambientRaise', cap: 10 }, 'ambientRaise(CAP_NET_BIND_SERVICE)'],
    [{ op: 'capbsetDrop', cap: 63 }, 'capbsetDrop(CAP_63)'],
    [{ op: 'setrlimit', resource: 7, soft: 1024n, hard: 0xffffffffffffffffn }, 'setrlimit(RLIMIT_NOFILE, 1024, RLIM_INFINITY)'],
    [{ op: 'getrlimit', resource: 6 }, 'getrlimit(RLIMIT_NPROC)'],
    [{ op: 'getrlimit', resource: 99 }, 'getrlimit(99)'],
  ])('%j -> %s', (record, text) => expect(formatCall(record)).toBe(text));

  test('a seccomp program in JSON: its bytes as hexadecimal in memory order, its length and flags by name', () => {
    const record: SyscallRecord = { op: 'seccompLoad', program: Uint8Array.from([6, 0, 0, 0, 0, 0, 0xff, 0x7f]), flags: 0 };
    expect(planCallToJson({ seq: 0, phase: 'finalize', plugin: 'exec', record })).toEqual({
      seq: 0,
      phase: 'finalize',
      plugin: 'exec',
      op: 'seccompLoad',
      args: { program: '060000000000ff7f', flags: 0 },
      decoded: { program: '1 instruction', flags: '0' },
    });
  });
});

describe('PlanSyscalls', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-'));
    for (const d of ['rootfs/proc', 'rootfs/data', 'rootfs/etc', 'src']) fs.mkdirSync(path.join(tmp, d), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'rootfs/etc/hostname'), 'image\n');
    fs.writeFileSync(path.join(tmp, 'rootfs/data/under'), 'hidden by a mount\n');
    fs.writeFileSync(path.join(tmp, 'src/file'), 'bound\n');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test("a call's descriptors name where they were open at that call, not where a number given again later was opened", () => {
    const rootfs = path.join(tmp, 'rootfs');
    const twice: PluginModule = {
      register: (api) =>
        api.step({
          name: 'twice',
          phase: 'dev',
          run: () => {
            const sys = api.container.resolve<PlanSyscalls>(Symbol.for('mountkit.Syscalls'));
            const data = sys.open(path.join(rootfs, 'data'), O_PATH | O_CLOEXEC, 0);
            const etc = sys.open(path.join(rootfs, 'etc'), O_PATH | O_CLOEXEC, 0);
            sys.fchownat(etc, '', 0, 0, AT_EMPTY_PATH);
            // The number etc had now holds data.
            sys.dup3(data, etc, O_CLOEXEC);
            sys.fchownat(etc, '', 0, 0, AT_EMPTY_PATH);
          },
        }),
    };
    const plan = buildPlan(makeConfig({ bundle: tmp, rootfs }), { syscalls: new PlanSyscalls(undefined, EVERY_CALL), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 't', plugin: twice }], launch: outside });
    const chowns = plan.calls.filter((c) => c.record.op === 'fchownat');
    const [first, second] = chowns.map((c) => (c.record as { dirfd: number }).dirfd);
    expect(first).toBe(second);
    expect(chowns.map((c) => c.fds)).toEqual([{ [first]: path.join(rootfs, 'etc') }, { [first]: path.join(rootfs, 'data') }]);
  });

  test("the descriptors named inside mount data, an fsconfig value and a command's via are annotated too, each with the path it had at that call", () => {
    const rootfs = path.join(tmp, 'rootfs');
    const layers: PluginModule = {
      register: (api) =>
        api.step({
          name: 'layers',
          phase: 'dev',
          run: () => {
            const sys = api.container.resolve<PlanSyscalls>(Symbol.for('mountkit.Syscalls'));
            const lower = sys.open(path.join(tmp, 'src'), O_PATH | O_CLOEXEC, 0);
            const data = sys.open(path.join(rootfs, 'data'), O_PATH | O_CLOEXEC, 0);
            sys.mount('overlay', `/proc/thread-self/fd/${data}`, 'overlay', MS_NOSUID, `lowerdir=/proc/self/fd/${lower}:/proc/thread-self/fd/${data}/sub,index=off`);
            const ctx = sys.fsopen('overlay', FSOPEN_CLOEXEC);
            sys.fsconfig(ctx, FSCONFIG_SET_STRING, 'lowerdir', `/proc/self/fd/${lower}`, 0);
            sys.runCommand({ path: '/hook', args: [], dir: '/', via: lower });
            // The number lower had now holds etc: a later call names etc by it.
            const etc = sys.open(path.join(rootfs, 'etc'), O_PATH | O_CLOEXEC, 0);
            sys.dup3(etc, lower, O_CLOEXEC);
            sys.fsconfig(ctx, FSCONFIG_SET_STRING, 'lowerdir', `/proc/self/fd/${lower}`, 0);
          },
        }),
    };
    const plan = buildPlan(makeConfig({ bundle: tmp, rootfs, mounts: [] }), { syscalls: new PlanSyscalls(undefined, EVERY_CALL), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 't', plugin: layers }], launch: outside });
    const calls = plan.calls.filter((c) => c.plugin === 'layers').map((c, seq) => ({ ...c, seq }));
    const [lower, data, ctx, etc] = [calls[0].result, calls[1].result, calls[3].result, calls[6].result];
    expect(formatPlanText({ ...plan, calls }).split('\n')).toEqual([
      `0  dev  layers  open(${JSON.stringify(path.join(tmp, 'src'))}, O_RDONLY|O_CLOEXEC|O_PATH, 0000) = ${lower}`,
      `1  dev  layers  open(${JSON.stringify(rootfs + '/data')}, O_RDONLY|O_CLOEXEC|O_PATH, 0000) = ${data}`,
      `2  dev  layers  mount("overlay", "/proc/thread-self/fd/${data}", "overlay", MS_NOSUID, "lowerdir=/proc/self/fd/${lower}:/proc/thread-self/fd/${data}/sub,index=off")  # ${lower} = ${tmp}/src, ${data} = ${rootfs}/data`,
      `3  dev  layers  fsopen("overlay", FSOPEN_CLOEXEC) = ${ctx}`,
      `4  dev  layers  fsconfig(${ctx}, FSCONFIG_SET_STRING, "lowerdir", "/proc/self/fd/${lower}", 0)  # ${lower} = ${tmp}/src, ${ctx} = anon_inode:[fscontext]`,
      `5  dev  layers  runCommand(["/hook"])  # ${lower} = ${tmp}/src`,
      `6  dev  layers  open(${JSON.stringify(rootfs + '/etc')}, O_RDONLY|O_CLOEXEC|O_PATH, 0000) = ${etc}`,
      `7  dev  layers  dup3(${etc}, ${lower}, O_CLOEXEC)  # ${lower} = ${tmp}/src, ${etc} = ${rootfs}/etc`,
      `8  dev  layers  fsconfig(${ctx}, FSCONFIG_SET_STRING, "lowerdir", "/proc/self/fd/${lower}", 0)  # ${lower} = ${rootfs}/etc, ${ctx} = anon_inode:[fscontext]`,
      '',
    ]);
    expect(planToJson({ ...plan, calls }).calls.map((c) => c.fds)).toEqual([
      undefined,
      undefined,
      { [data!]: `${rootfs}/data`, [lower!]: `${tmp}/src` },
      undefined,
      { [lower!]: `${tmp}/src`, [ctx!]: 'anon_inode:[fscontext]' },
      { [lower!]: `${tmp}/src` },
      undefined,
      { [etc!]: `${rootfs}/etc`, [lower!]: `${tmp}/src` },
      { [lower!]: `${rootfs}/etc`, [ctx!]: 'anon_inode:[fscontext]' },
    ]);
  });

  test('a bind shows its source at the target, a new filesystem an empty directory, proc the kernel view', () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    sys.mount(path.join(tmp, 'src'), path.join(r, 'data'), null, MS_BIND, null);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['file']);
    sys.mount('tmpfs', path.join(r, 'data'), 'tmpfs', 0n, null);
    expect(sys.readdir(path.join(r, 'data'))).toEqual([]);
    sys.mount('proc', path.join(r, 'proc'), 'proc', 0n, null);
    // Its self and thread-self lead to the process as the plan numbers it (getpid), not to this one's host pid.
    expect([sys.readlink(path.join(r, 'proc/self')), sys.readlink(path.join(r, 'proc/thread-self'))]).toEqual([`${sys.getpid()}`, `${sys.getpid()}/task/${sys.getpid()}`]);
    expect(sys.readdir(path.join(r, 'proc/sys')).length).toBeGreaterThan(0);
    // A mount inside the container's procfs does not reach the host's in the model.
    sys.mount('tmpfs', path.join(r, 'proc/sys'), 'tmpfs', 0n, null);
    expect(sys.readdir(path.join(r, 'proc/sys'))).toEqual([]);
    expect(sys.readdir('/proc/sys')).toEqual(expect.arrayContaining(['kernel']));
  });

  test('the mounts below an MS_REC bind\'s source show at the target with their state (a read-only one refuses there too), listed as mounts of their own; a remount without MS_BIND makes the superblock read-only for every bind of it', () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    const src = path.join(tmp, 'src');
    sys.mkdir(path.join(src, 'ro'), 0o755);
    sys.mount('tmpfs', path.join(src, 'ro'), 'tmpfs', MS_RDONLY, null);
    sys.mount(src, path.join(r, 'data'), null, MS_BIND | MS_REC, null);
    expect(sys.mounts.map((m) => m.target)).toEqual([path.join(src, 'ro'), path.join(r, 'data'), path.join(r, 'data/ro')]);
    expect(() => sys.mkdir(path.join(r, 'data/ro/x'), 0o755)).toThrow('EROFS');
    sys.mkdir(path.join(r, 'data/x'), 0o755);
    // The bind's superblock is the host's: a remount of it without MS_BIND reaches its source as well.
    sys.mount(null, path.join(r, 'data'), null, MS_REMOUNT | MS_RDONLY, null);
    expect(() => sys.mkdir(path.join(src, 'y'), 0o755)).toThrow('EROFS');
    expect(() => sys.umount2(path.join(r, 'data'), 0)).toThrow('EBUSY');
    sys.umount2(path.join(r, 'data'), MNT_DETACH);
    expect(sys.mounts.map((m) => m.target)).toEqual([path.join(src, 'ro')]);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['under']);
  });

  test("a mount fsmount made shows at the target move_mount puts it, with what was made through its descriptor; the image's directory shows again once it is unmounted (tmpcopyup's detached tmpfs)", () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    const context = sys.fsopen('tmpfs', FSOPEN_CLOEXEC);
    sys.fsconfig(context, FSCONFIG_SET_STRING, 'mode', '0711', 0);
    sys.fsconfig(context, FSCONFIG_CMD_CREATE, null, null, 0);
    const mount = sys.fsmount(context, FSMOUNT_CLOEXEC, 0n);
    sys.close(context);
    sys.writeFile(`/proc/thread-self/fd/${mount}/copied`, 'into the tmpfs');
    expect([sys.resultOf(sys.calls[0]), sys.openedPath(context), sys.openedPath(mount)]).toEqual([context, 'anon_inode:[fscontext]', 'fsmount:[tmpfs]']);
    const target = sys.open(path.join(r, 'data'), O_PATH | O_DIRECTORY, 0);
    sys.moveMount(mount, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['copied']);
    expect(sys.readFile(path.join(r, 'data/copied'))).toBe('into the tmpfs');
    expect(sys.stat(path.join(r, 'data')).perm).toBe(0o711);
    sys.umount2(path.join(r, 'data'), MNT_DETACH);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['under']);
  });

  test("MS_MOVE takes a tree to the target's place, what it hid showing again at the source's; umount2 shows again what a tree hid (a tmpfs filled on a directory of its own, then moved)", () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    const staging = path.join(tmp, 'staging');
    sys.mkdir(staging, 0o700);
    sys.mount(staging, staging, null, MS_BIND, null);
    sys.mount('tmpfs', staging, 'tmpfs', 0n, null);
    sys.writeFile(path.join(staging, 'copied'), 'into the tmpfs');
    sys.mount(staging, path.join(r, 'data'), null, MS_MOVE, null);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['copied']);
    expect(sys.readdir(staging)).toEqual([]);
    sys.umount2(staging, MNT_DETACH);
    sys.rmdir(staging);
    expect(sys.node(staging)).toBeUndefined();
    // The moved tmpfs unmounted: the image's directory again.
    sys.umount2(path.join(r, 'data'), MNT_DETACH);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['under']);
  });

  test("a mount inside a bind's tree is the bind's alone: the source keeps what it had, other files stay shared; the rootfs bound onto itself stays one tree", () => {
    fs.mkdirSync(path.join(tmp, 'src/sub/deep'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'src/sub/deep/kept'), 'source\n');
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    // The rootfs onto itself, a descriptor of it kept (as the mounts phase keeps one), then a bind into it.
    sys.mount(r, r, 'bind', MS_BIND | MS_REC, null);
    const rootFd = sys.open(r, O_PATH | O_DIRECTORY, 0);
    sys.mount(path.join(tmp, 'src'), path.join(r, 'data'), null, MS_BIND | MS_REC, null);
    sys.mount('tmpfs', path.join(r, 'data/sub/deep'), 'tmpfs', 0n, null);
    expect(sys.readdir(path.join(r, 'data/sub/deep'))).toEqual([]);
    expect(sys.readdir(path.join(tmp, 'src/sub/deep'))).toEqual(['kept']);
    // What the mount did not cover is still the source's, in the directories on its way too:
    // a file written, a directory made and a mode changed through the bind show at the source.
    sys.writeFile(path.join(r, 'data/file'), 'through the bind');
    sys.mkdir(path.join(r, 'data/sub/made'), 0o700);
    sys.chmod(path.join(r, 'data/sub'), 0o711);
    expect(sys.readFile(path.join(tmp, 'src/file'))).toBe('through the bind');
    expect(sys.readdir(path.join(tmp, 'src/sub')).sort()).toEqual(['deep', 'made']);
    expect(sys.stat(path.join(tmp, 'src/sub')).perm).toBe(0o711);
    // The kept descriptor of the rootfs reaches the bind and the mount in it.
    expect(sys.openat2(rootFd, 'data/sub/deep', O_PATH, 0, 0n)).toBeGreaterThan(0);
    expect(sys.readdir(`/proc/thread-self/fd/${rootFd}/data/sub`).sort()).toEqual(['deep', 'made']);
  });

  test('two binds of one source are each their own: a mount in one, also after a chroot, shows in neither the other nor the source', () => {
    fs.mkdirSync(path.join(tmp, 'src/sub/deep'), { recursive: true });
    fs.writeFileSync(path.join(tmp, 'src/sub/deep/kept'), 'source\n');
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    sys.mount(path.join(tmp, 'src'), path.join(r, 'data'), null, MS_BIND | MS_REC, null);
    sys.mount(path.join(tmp, 'src'), path.join(r, 'etc'), null, MS_BIND | MS_REC, null);
    sys.chroot(r);
    sys.mount('tmpfs', '/data/sub/deep', 'tmpfs', 0n, null);
    expect(sys.readdir('/data/sub/deep')).toEqual([]);
    expect(sys.readdir('/etc/sub/deep')).toEqual(['kept']);
  });

  test('an idmapped bind: the detached copy attached shows its source at the target; open_tree and the namespace are results with paths', () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    const userns = sys.userNamespace([{ containerID: 0, hostID: 1000, size: 1 }], [{ containerID: 0, hostID: 1000, size: 1 }]);
    const tree = sys.openTree(-100, path.join(tmp, 'src'), OPEN_TREE_CLONE | O_CLOEXEC);
    const target = sys.openat2(-100, path.join(r, 'data'), O_PATH, 0, 0n);
    sys.mountSetattr(tree, '', 0x1000, MOUNT_ATTR_IDMAP, 0n, 0n, userns);
    sys.moveMount(tree, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['file']);
    expect([sys.resultOf(sys.calls[0]), sys.resultOf(sys.calls[1])]).toEqual([userns, tree]);
    expect(sys.openedPath(tree)).toBe(path.join(tmp, 'src'));
    expect(sys.openedPath(userns)).toMatch(/^user:\[\d+\]$/);
  });

  test("the capability reads answer as the host's kernel does: its last capability, this process's bounding set", () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'));
    const bnd = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
    expect(sys.lastCap).toBe(last);
    for (let cap = 0; cap <= last; cap++) expect(sys.capbsetRead(cap)).toBe(((bnd >> BigInt(cap)) & 1n) === 1n);
    expect(() => sys.capbsetRead(last + 1)).toThrow('prctl: EINVAL');
  });

  test('inheritOpen: the descriptors from the first given that this process holds, up to the count, none past the first closed one', () => {
    const file = path.join(tmp, 'rootfs/etc/hostname');
    // The lowest numbers free: every one from `first` up to `gap` is open, `gap` closed again, `after` open past it.
    const first = fs.openSync(file, 'r');
    const gap = fs.openSync(file, 'r');
    const after = fs.openSync(file, 'r');
    fs.closeSync(gap);
    try {
      expect(after).toBeGreaterThan(gap);
      const range = (from: number, to: number) => Array.from({ length: to - from }, (_fd, i) => from + i);
      expect(new PlanSyscalls(undefined, EVERY_CALL).inheritOpen(gap, after - gap + 1).openFds()).toEqual([]);
      expect(new PlanSyscalls(undefined, EVERY_CALL).inheritOpen(first, 1).openFds()).toEqual([first]);
      expect(new PlanSyscalls(undefined, EVERY_CALL).inheritOpen(first, 100_000_000).openFds()).toEqual(range(first, gap));
      const sys = new PlanSyscalls(undefined, EVERY_CALL).inheritOpen(first, gap - first);
      expect(sys.fstat(first).kind).toBe('file');
      expect(() => sys.fstat(gap)).toThrow('fstat: EBADF');
      expect(sys.calls.map((c) => c.op)).toEqual(['fstat', 'fstat']);
    } finally {
      for (const fd of [first, after]) fs.closeSync(fd);
    }
  });

  test("the standard descriptors' filesystem is the host's (a pipe's pipefs), as their fstat is", () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    expect(sys.fstatfs(1).type).toBe(Number(fs.statfsSync('/proc/self/fd/1').type));
    expect(() => sys.fstatfs(7)).toThrow('fstatfs: EBADF');
  });

  test('pivot_root and chroot make the rootfs the model root; host descriptors 0-2 are the host fstat', () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    // The root of a mount, as prepare-root's bind leaves it: pivot_root needs one.
    sys.addMountpoint(r);
    sys.chdir(r);
    const old = sys.open('/', O_DIRECTORY, 0);
    const root = sys.open(r, O_DIRECTORY, 0);
    sys.fchdir(root);
    sys.pivotRoot('.', '.');
    sys.fchdir(old);
    expect(sys.readFile('/etc/hostname')).toBe('image\n');
    expect(sys.readdir('/')).toEqual(['data', 'etc', 'proc']);
    expect(sys.resultOf(sys.calls[2])).toBe(root);
    expect(sys.openedPath(root)).toBe(r);
    const chrooted = new PlanSyscalls(undefined, EVERY_CALL);
    chrooted.chdir(path.join(tmp, 'src'));
    chrooted.chroot('.');
    expect(chrooted.readdir('/')).toEqual(['file']);
    expect(sys.fstat(1).ino).toBe(fs.fstatSync(1, { bigint: true }).ino);
  });

  test("onHost: the first process's calls after the jail resolve a path from the host's root, and the container's root is the model's again after them", () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const src = path.join(tmp, 'src');
    sys.chroot(path.join(tmp, 'rootfs'));
    expect(caught(() => sys.readdir(src)).code).toBe('ENOENT');
    expect(sys.onHost(() => sys.readdir(src))).toEqual(['file']);
    expect(sys.readdir('/')).toEqual(['data', 'etc', 'proc']);
    expect(() => sys.onHost(() => sys.readdir(path.join(tmp, 'nope')))).toThrow('ENOENT');
    expect(sys.readdir('/')).toEqual(['data', 'etc', 'proc']);
    // Before any jail, the host's root is the model's.
    expect(new PlanSyscalls(undefined, EVERY_CALL).onHost(() => 1)).toBe(1);
  });

  test('a mount on the root after the jail (maskedPaths ["/"]) is not entered by a walk that starts there: "/" and "/etc" stay the rootfs; ".." from the root enters the last one mounted, as the kernel does', () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    // The root of a mount, as prepare-root's bind leaves it: pivot_root needs one.
    sys.addMountpoint(r);
    sys.chdir(r);
    sys.pivotRoot('.', '.');
    sys.chdir('/');
    // As the mask step makes it: a descriptor of "/", the tmpfs mounted through its magic link.
    const root = sys.openat2(sys.open('/', O_DIRECTORY | O_PATH, 0), '.', O_PATH, 0, RESOLVE_IN_ROOT);
    sys.mount('tmpfs', `/proc/thread-self/fd/${root}`, 'tmpfs', MS_RDONLY, null);
    expect(sys.readdir('/')).toEqual(['data', 'etc', 'proc']);
    expect(sys.readFile('/etc/hostname')).toBe('image\n');
    expect(sys.readdir('/..')).toEqual([]);
    expect(sys.readdir('/etc/..')).toEqual([]);
    expect(() => sys.readFile('/../etc/hostname')).toThrow('readFile "/../etc/hostname": ENOENT');
    // From the descriptor of "/" alike; RESOLVE_IN_ROOT's ".." stays at its directory and enters what is mounted there.
    expect(sys.pathOf(sys.openat2(root, 'etc', O_PATH, 0, RESOLVE_IN_ROOT))).toBe('/etc');
    expect(() => sys.openat2(root, '../etc', O_PATH, 0, RESOLVE_IN_ROOT)).toThrow('openat2 "../etc": ENOENT');
    // A second mount on "/" goes on top of the first (read-only, the mask's); the root is still a mount's root, remounted as ever.
    expect(() => sys.writeFile('/../first', '')).toThrow('writeFile "/../first": EROFS');
    sys.mount('tmpfs', '/', 'tmpfs', 0n, null);
    sys.writeFile('/../second', '');
    expect(sys.readdir('/..')).toEqual(['second']);
    expect(sys.readdir('/')).toEqual(['data', 'etc', 'proc']);
    sys.mount(null, '/', null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
    expect(sys.calls.at(-1)).toEqual({ op: 'mount', source: null, target: '/', fstype: null, flags: MS_REMOUNT | MS_BIND | MS_RDONLY, data: null });
  });

  test('a change below a read-only mount is EROFS, as in a run: the flag is the mount\'s own (a bind\'s, not its source\'s), a mount inside has its own, and what a mount covers keeps its own', () => {
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    const r = path.join(tmp, 'rootfs');
    sys.mount(path.join(tmp, 'src'), path.join(r, 'data'), null, MS_BIND, null);
    sys.mount(null, path.join(r, 'data'), null, MS_REMOUNT | MS_BIND | MS_RDONLY, null);
    expect(() => sys.mkdir(path.join(r, 'data/sub'), 0o755)).toThrow(`mkdir "${path.join(r, 'data/sub')}": EROFS`);
    expect(() => sys.writeFile(path.join(r, 'data/file'), 'changed')).toThrow('EROFS');
    // The source is not the bind: still writable.
    sys.mkdir(path.join(tmp, 'src/sub'), 0o755);
    expect(sys.readdir(path.join(r, 'data'))).toEqual(['file', 'sub']);
    // A bind of the read-only bind is read-only; unmounted, the directory it covered is writable as it was.
    sys.mount(path.join(r, 'data'), path.join(r, 'proc'), null, MS_BIND, null);
    expect(() => sys.mkdir(path.join(r, 'proc/x'), 0o755)).toThrow('EROFS');
    sys.umount2(path.join(r, 'proc'), 0);
    sys.mkdir(path.join(r, 'proc/x'), 0o755);
    // A tmpfs on a directory of the read-only bind is writable; a read-only one on /etc covers it, and gone, /etc is writable again.
    sys.mount('tmpfs', path.join(r, 'data/sub'), 'tmpfs', 0n, null);
    sys.writeFile(path.join(r, 'data/sub/new'), 'x');
    sys.mount('tmpfs', path.join(r, 'etc'), 'tmpfs', MS_RDONLY, null);
    expect(() => sys.mkdir(path.join(r, 'etc/x'), 0o755)).toThrow('EROFS');
    sys.umount2(path.join(r, 'etc'), 0);
    sys.mkdir(path.join(r, 'etc/x'), 0o755);
    expect(sys.readdir(path.join(r, 'etc'))).toEqual(['hostname', 'x']);
    // A detached copy of the read-only bind, attached through a descriptor of its target, is read-only there.
    const copy = sys.openTree(-100, path.join(r, 'data'), OPEN_TREE_CLONE);
    const target = sys.openat2(-100, path.join(r, 'etc/x'), O_PATH, 0, 0n);
    sys.moveMount(copy, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.readdir(path.join(r, 'etc/x'))).toEqual(['file', 'sub']);
    expect(() => sys.mkdir(path.join(r, 'etc/x/y'), 0o755)).toThrow('EROFS');
    sys.mkdir(path.join(r, 'etc/y'), 0o755);
  });

  test('nothing on the host changes', () => {
    const list = () => fs.readdirSync(tmp, { recursive: true }).map(String).sort();
    const before = list();
    const sys = new PlanSyscalls(undefined, EVERY_CALL);
    sys.mount('tmpfs', path.join(tmp, 'rootfs/data'), 'tmpfs', 0n, null);
    sys.mkdir(path.join(tmp, 'rootfs/data/new'), 0o755);
    sys.chroot(path.join(tmp, 'rootfs'));
    sys.writeFile('/etc/hostname', 'changed');
    expect(list()).toEqual(before);
    expect(fs.readFileSync(path.join(tmp, 'rootfs/etc/hostname'), 'utf8')).toBe('image\n');
    expect(fs.readFileSync(path.join(tmp, 'rootfs/data/under'), 'utf8')).toBe('hidden by a mount\n');
  });
});

describe("PlanSyscalls: the host's mounts (a mountinfo given for the host)", () => {
  let tmp: string;
  let r: string;
  let host: string;
  beforeEach(() => {
    tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-plan-host-')));
    r = path.join(tmp, 'rootfs');
    host = path.join(tmp, 'host');
    for (const d of ['rootfs/data/m', 'rootfs/etc', 'rootfs/sys', 'host/ro', 'host/sbro', 'host/ub', 'host/st', 'host/sh']) fs.mkdirSync(path.join(tmp, d), { recursive: true });
    for (const d of ['ro', 'ub']) fs.writeFileSync(path.join(host, d, 'inside'), 'on the mount\n');
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** The host's mountinfo as the port is given it: / and, in the test's directory, the mounts named. */
  const mountinfo = (...lines: string[]) => ['1 0 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw', ...lines].join('\n') + '\n';
  const hostMounts = () =>
    mountinfo(
      `2 1 0:40 / ${host}/ro ro,nosuid,relatime - tmpfs tmpfs rw`,
      `3 1 0:41 / ${host}/sbro rw,noexec,relatime - tmpfs tmpfs ro`,
      `4 1 0:42 / ${host}/ub rw,relatime unbindable - tmpfs tmpfs rw`,
      `6 5 0:44 / ${host}/st rw,relatime - tmpfs tmpfs rw`,
      `5 1 0:43 / ${host}/st ro,relatime - tmpfs tmpfs rw`,
      `7 1 0:45 / ${host}/sh rw,relatime shared:2 - tmpfs tmpfs rw`,
    );
  const flags = (sys: PlanSyscalls, p: string) => sys.fstatfs(sys.open(p, O_PATH, 0)).flags;

  test('each has the state its line shows: read-only by its own flag or its superblock\'s (EROFS below it), its flags as fstatfs reports them; mounts stacked at one place, the last on top, umount2 showing the one below', () => {
    const sys = new PlanSyscalls(hostMounts(), EVERY_CALL);
    expect(errorOf(() => sys.mkdir(`${host}/ro/x`, 0o755))).toEqual({ syscall: 'mkdir', code: 'EROFS', paths: [`${host}/ro/x`] });
    expect(caught(() => sys.mkdir(`${host}/sbro/x`, 0o755)).code).toBe('EROFS');
    sys.mkdir(`${host}/x`, 0o755);
    expect([flags(sys, `${host}/ro`), flags(sys, `${host}/sbro`), flags(sys, host)]).toEqual([ST_VALID | ST_RDONLY | ST_NOSUID | ST_RELATIME, ST_VALID | ST_RDONLY | ST_NOEXEC | ST_RELATIME, ST_VALID | ST_RELATIME]);
    // 6 is stacked on 5: read-write; 5 under it is read-only; then the directory.
    sys.mkdir(`${host}/st/a`, 0o755);
    sys.umount2(`${host}/st`, 0);
    expect(caught(() => sys.mkdir(`${host}/st/b`, 0o755)).code).toBe('EROFS');
    sys.umount2(`${host}/st`, 0);
    sys.mkdir(`${host}/st/b`, 0o755);
    expect(caught(() => sys.umount2(`${host}/st`, 0)).code).toBe('EINVAL');
  });

  test('MS_BIND|MS_REC copies the mounts below the source, each with a state of its own, but an unbindable one; MS_BIND alone copies none: where they are it shows what they cover, an empty directory', () => {
    const sys = new PlanSyscalls(hostMounts(), EVERY_CALL);
    sys.mount(host, `${r}/data`, null, MS_BIND | MS_REC, null);
    expect(sys.mounts.map((m) => m.target)).toEqual([`${r}/data`, ...['ro', 'sbro', 'st', 'st', 'sh'].map((d) => `${r}/data/${d}`)]);
    expect(sys.readdir(`${r}/data/ro`)).toEqual(['inside']);
    expect(caught(() => sys.mkdir(`${r}/data/ro/x`, 0o755)).code).toBe('EROFS');
    expect(flags(sys, `${r}/data/ro`)).toBe(ST_VALID | ST_RDONLY | ST_NOSUID | ST_RELATIME);
    // The copy's own flag: remounted read-write, the host's mount stays read-only.
    sys.mount(null, `${r}/data/ro`, null, MS_REMOUNT | MS_BIND, null);
    sys.mkdir(`${r}/data/ro/x`, 0o755);
    expect(caught(() => sys.mkdir(`${host}/ro/y`, 0o755)).code).toBe('EROFS');
    // Not copied: the unbindable one, where the bind shows what it covers.
    expect(sys.readdir(`${r}/data/ub`)).toEqual([]);
    expect(caught(() => sys.umount2(`${r}/data/ub`, 0)).code).toBe('EINVAL');
    sys.mount(host, `${r}/etc`, null, MS_BIND, null);
    expect(sys.mounts.map((m) => m.target).slice(6)).toEqual([`${r}/etc`]);
    expect(sys.readdir(`${r}/etc/ro`)).toEqual([]);
    sys.mkdir(`${r}/etc/ro/x`, 0o755);
    sys.mkdir(`${r}/etc/sbro/x`, 0o755);
    expect(caught(() => sys.umount2(`${r}/etc/ro`, 0)).code).toBe('EINVAL');
    // Unmounted, a copy leaves what the bind shows there without it: the directory the other bind made x in.
    sys.umount2(`${r}/data/ro`, 0);
    expect(sys.readdir(`${r}/data/ro`)).toEqual(['x']);
    sys.mkdir(`${r}/data/ro/z`, 0o755);
  });

  test('an MS_REC propagation change reaches the host\'s mounts below; mountinfo read through the port shows the propagation the model holds, from the one text it was given', () => {
    const text = hostMounts();
    const sys = new PlanSyscalls(text, EVERY_CALL);
    const line = (mountpoint: string) => sys.readFile('/proc/self/mountinfo').split('\n').find((l) => l.split(' ')[4] === mountpoint);
    expect(sys.readFile('/proc/self/mountinfo')).toBe(text);
    sys.mount(null, '/', null, MS_SLAVE | MS_REC, null);
    expect([line('/'), line(`${host}/sh`), line(`${host}/ub`)]).toEqual([
      '1 0 254:0 / / rw,relatime master:1 - ext4 /dev/vda rw',
      `7 1 0:45 / ${host}/sh rw,relatime master:2 - tmpfs tmpfs rw`,
      `4 1 0:42 / ${host}/ub rw,relatime unbindable - tmpfs tmpfs rw`,
    ]);
    // Shared again, in a group of its own (the first number past those the text holds).
    sys.mount(null, `${host}/sh`, null, MS_SHARED, null);
    expect(line(`${host}/sh`)).toBe(`7 1 0:45 / ${host}/sh rw,relatime shared:3 master:2 - tmpfs tmpfs rw`);
    sys.mount(null, '/', null, MS_PRIVATE | MS_REC, null);
    sys.mount(null, `${host}/ro`, null, MS_SHARED, null);
    expect([line('/'), line(`${host}/sh`), line(`${host}/ub`), line(`${host}/ro`)]).toEqual([
      '1 0 254:0 / / rw,relatime - ext4 /dev/vda rw',
      `7 1 0:45 / ${host}/sh rw,relatime - tmpfs tmpfs rw`,
      `4 1 0:42 / ${host}/ub rw,relatime - tmpfs tmpfs rw`,
      `2 1 0:40 / ${host}/ro ro,nosuid,relatime shared:4 - tmpfs tmpfs rw`,
    ]);
  });

  test('a proc or sysfs mounted anew holds none of the host\'s mounts: where one is below the host\'s /proc or /sys, an empty directory of its own', () => {
    const sys = new PlanSyscalls(mountinfo('2 1 0:22 / /sys rw,nosuid,relatime - sysfs sysfs rw', '3 2 0:28 / /sys/fs/cgroup ro,nosuid,relatime - tmpfs tmpfs ro'), EVERY_CALL);
    sys.mount('sysfs', `${r}/sys`, 'sysfs', 0n, null);
    expect(sys.readdir(`${r}/sys/fs/cgroup`)).toEqual([]);
    sys.mkdir(`${r}/sys/fs/cgroup/x`, 0o755);
    expect(caught(() => sys.umount2(`${r}/sys/fs/cgroup`, 0)).code).toBe('EINVAL');
    expect(sys.readdir('/sys/fs/cgroup')).toEqual(fs.readdirSync('/sys/fs/cgroup'));
    expect(caught(() => sys.mkdir('/sys/fs/cgroup/mountkit-planned', 0o755)).code).toBe('EROFS');
  });

  test("after the jail's pivot_root, its MS_SLAVE|MS_REC on the old root reaches the host's mounts and not the container's: a shared one there stays shared (checked on Linux 6.18)", () => {
    const sys = new PlanSyscalls(hostMounts(), EVERY_CALL);
    // prepare-root's calls: the host's shared / made a slave (pivot_root refuses a new root on a shared mount), the rootfs bound onto itself.
    sys.mount(null, '/', null, MS_SLAVE | MS_REC, null);
    sys.mount(r, r, null, MS_BIND | MS_REC, null);
    sys.mount('tmpfs', `${r}/data`, 'tmpfs', 0n, null);
    sys.mount(null, `${r}/data`, null, MS_SHARED, null);
    sys.mkdir(`${r}/data/m`, 0o755);
    sys.mount('tmpfs', `${r}/data/m`, 'tmpfs', 0n, null);
    sys.chdir(r);
    pivotInto(sys, r);
    // A mount whose parent is shared is not moved (EINVAL).
    expect(caught(() => sys.mount('/data/m', '/etc', null, MS_MOVE, null)).code).toBe('EINVAL');
  });

  test('the relaunch, and unshare(CLONE_NEWNS), make the host\'s mounts the copies a new mount namespace holds: an unbindable one is bound there, where it is not before (EINVAL)', () => {
    const bindPlugin: PluginModule = {
      register(api) {
        const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
        api.step({ name: 'bind-test', phase: 'mounts', run: (ctx) => sys().mount(`${host}/ub`, `${ctx.config.rootfs}/data`, null, MS_BIND, null) });
      },
    };
    const planned = (namespaces: RootfsConfig['namespaces']) => {
      const config = makeConfig({ bundle: tmp, rootfs: r, mounts: [], namespaces });
      const plan = buildPlan(config, { syscalls: new PlanSyscalls(hostMounts(), EVERY_CALL), plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'bind', plugin: bindPlugin }], launch: outside });
      return [plan.calls.find((c) => c.record.op === 'relaunch' || c.record.op === 'unshare')?.record.op, plan.error === undefined ? 'made' : (plan.error as PluginError & { cause: SyscallError }).cause.code];
    };
    expect(caught(() => new PlanSyscalls(hostMounts(), EVERY_CALL).mount(`${host}/ub`, `${r}/data`, null, MS_BIND, null)).code).toBe('EINVAL');
    expect(planned([{ type: 'pid' }, { type: 'mount' }])).toEqual(['relaunch', 'made']);
    expect(planned([{ type: 'mount' }])).toEqual(['unshare', 'made']);
  });
});
