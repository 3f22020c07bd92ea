import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigError,
  FakeSyscalls,
  MS_BIND,
  PluginError,
  fromOciSpec,
  loadBundle,
  makeConfig,
  makeMount,
  plan,
  readPluginsFile,
  runPipeline,
  sharedJoinedNamespaceProblem,
  sharedMountNamespaceProblem,
  sharedNamespaceProblem,
  validateConfig,
  writtenInJoined,
  DEFAULT_PLUGINS_FILE,
  type NamespaceType,
  type OciSpec,
  type PluginModule,
  type RootfsConfig,
} from 'mountkit/testing';
import { linuxSyscalls, type FsStat, type IdMapping, type LinuxSyscallsOptions, type SeccompArgCmp, type SeccompCompiled, type SeccompFilter, type SeccompRule, type Termios } from 'mountkit';
import { QUERY_SYSCALLS } from '../../src/core/syscalls/fake';
import { JAIL_STAND_IN_EXTRA } from '../helpers/jail-stand-in';

describe('sharedMountNamespaceProblem', () => {
  const host = 'mnt:[4026531841]';
  const own = 'mnt:[4026532000]';
  test.each<[string, string | undefined, (string | undefined)[], boolean]>([
    ['in the namespace of every ancestor', host, [host, host, host], true],
    ['PID 1 unreadable, the rest shared', host, [host, host, undefined], true],
    ['unshare -m node: the parent is outside', own, [host, host], false],
    ['unshare -m sh -c node: the grandparent is outside', own, [own, host, host], false],
    ['unshared in-process: the parent is outside', own, [host], false],
    ['no ancestor readable: cannot tell', host, [undefined, undefined], false],
    ['own namespace unreadable: cannot tell', undefined, [host], false],
    ['no ancestor (PID 1 itself)', host, [], false],
  ])('%s -> refused %s', (_what, self, ancestors, refused) => {
    const problem = sharedMountNamespaceProblem(self, ancestors);
    expect(problem === undefined ? false : problem.startsWith(`this process shares its mount namespace (${self}) with every process above it`)).toBe(refused);
  });
});

describe('sharedNamespaceProblem: a uts, ipc or network namespace the config lists (a user namespace, where its limits are written) must be one the process entered', () => {
  const host = 'uts:[4026531838]';
  const own = 'uts:[4026532001]';
  test.each<[string, string | undefined, (string | undefined)[], string | undefined]>([
    [
      'shared with every ancestor',
      host,
      [host, host],
      `this process shares its uts namespace (${host}) with every process above it, where the run would change the hostname and sysctls: enter the container's first (unshare, or setns(2) to the path given), or leave it out`,
    ],
    ['unshare -u node: the parent is outside', own, [host], undefined],
    ['nothing readable above', host, [undefined], undefined],
  ])('%s', (_what, self, ancestors, problem) => {
    expect(sharedNamespaceProblem('uts', self, ancestors)).toBe(problem);
  });

  test("a new pid namespace: the proc filesystem the run mounts would list the processes of the one it was started in, the host's", () => {
    const host = 'pid:[4026531836]';
    expect(sharedNamespaceProblem('pid', host, [host, host])).toBe(
      `this process shares its pid namespace (${host}) with every process above it, where the container's /proc would list every process of it: start this process in a new one (unshare --pid --fork), or leave it out`,
    );
    // unshare --pid --fork node: the unshare(1) process above it is in the host's.
    expect(sharedNamespaceProblem('pid', 'pid:[4026532003]', [host, host])).toBeUndefined();
  });

  test.each<[NamespaceType, string, string]>([
    [
      'cgroup',
      'cgroup:[4026531835]',
      "where the container's cgroup mount and /proc/self/cgroup would show its whole hierarchy: enter a new one first (unshare --cgroup), or leave it out",
    ],
    [
      'time',
      'time:[4026531834]',
      "where the container's CLOCK_MONOTONIC and CLOCK_BOOTTIME would be its clocks: start this process in a new one (unshare --time), or unshare(CLONE_NEWTIME) before the exec step, or leave it out",
    ],
  ])('a new %s namespace shared with every process above it is the host\'s; one of its own is not', (type, host, why) => {
    expect(sharedNamespaceProblem(type, host, [host, host])).toBe(`this process shares its ${type} namespace (${host}) with every process above it, ${why}`);
    expect(sharedNamespaceProblem(type, `${type}:[4026532004]`, [host, host])).toBeUndefined();
    expect(sharedNamespaceProblem(type, host, [undefined])).toBeUndefined();
  });

  test('a user namespace whose user.* sysctls the run would write: those of the one it was started in are the limits of every process there', () => {
    const initial = 'user:[4026531837]';
    expect(sharedNamespaceProblem('user', initial, [initial, initial])).toBe(
      `this process shares its user namespace (${initial}) with every process above it, where the run would change the sysctls: enter the container's first (unshare, or setns(2) to the path given), or leave it out`,
    );
    expect(sharedNamespaceProblem('user', 'user:[4026532002]', [initial])).toBeUndefined();
  });
});

describe('a namespace the config joins by path is refused only where the run writes there', () => {
  const none = { sysctls: {}, hostname: '', domainname: undefined };
  test.each<[string, NamespaceType, Pick<RootfsConfig, 'sysctls' | 'hostname' | 'domainname'>, string | undefined]>([
    ['a network namespace, no sysctls (the loopback interface is brought up only in a new one)', 'network', none, undefined],
    ['a network namespace, a net sysctl', 'network', { ...none, sysctls: { 'net.ipv4.ip_forward': '1' } }, 'sysctls'],
    ['a network namespace, an ipc sysctl only', 'network', { ...none, sysctls: { 'kernel.shmmax': '1' } }, undefined],
    ['an ipc namespace, an fs.mqueue sysctl', 'ipc', { ...none, sysctls: { 'fs.mqueue.msg_max': '10' } }, 'sysctls'],
    ['a uts namespace, no hostname', 'uts', none, undefined],
    ['a uts namespace, a hostname', 'uts', { ...none, hostname: 'box' }, 'hostname'],
    ['a uts namespace, every name', 'uts', { sysctls: { 'kernel.domainname': 'lan' }, hostname: 'box', domainname: 'lan' }, 'hostname and domain name and sysctls'],
    ['a user namespace, a user.* sysctl', 'user', { ...none, sysctls: { 'user.max_user_namespaces': '3' } }, 'sysctls'],
    ['a user namespace, a net sysctl only', 'user', { ...none, sysctls: { 'net.ipv4.ip_forward': '1' } }, undefined],
  ])('%s', (_what, type, config, written) => {
    expect(writtenInJoined(config, type)).toBe(written);
  });

  const pod = 'net:[4026532001]';
  test.each<[string, string | undefined, string | undefined, (string | undefined)[], string | undefined]>([
    ["the pod's network namespace, shared with every process above, nothing written", undefined, pod, [pod, pod], undefined],
    [
      "the pod's network namespace, shared with every process above, its sysctls written",
      'sysctls',
      pod,
      [pod, pod],
      `joins by path (/proc/1/ns/net) the network namespace this process shares with every process above it (${pod}), where the run would change the sysctls: leave them out, or enter another first`,
    ],
    ['one the process entered, its sysctls written', 'sysctls', pod, ['net:[4026531840]'], undefined],
  ])('%s', (_what, written, self, ancestors, problem) => {
    expect(sharedJoinedNamespaceProblem('network', '/proc/1/ns/net', written, self, ancestors)).toBe(problem);
  });
});

describe('runPipeline: the config is checked, and the run reads the copy checked', () => {
  const proc = () => new FakeSyscalls().addDir('/bundle/rootfs');

  test.each<[string, Partial<RootfsConfig>, string]>([
    ['a uid of NaN, which setuid(2) would get as 0', { process: { ...makeConfig().process, uid: NaN } }, 'process.user.uid NaN: must be an integer from 0 to 4294967295'],
    ['a sysctl no namespace isolates, which would be written on the host', { sysctls: { 'vm.swappiness': '0' } }, 'linux.sysctl "vm.swappiness": is not isolated by any namespace: writing it would change the host'],
    ['a rootfs reached through a symbolic link', { rootfs: '/link/rootfs' }, 'root.path "/link/rootfs": passes through /link, which is a symbolic link (give the path it leads to)'],
  ])('refused before any call that changes anything: %s', (_what, over, message) => {
    const sys = proc().addSymlink('/link', '/bundle');
    const run = () => runPipeline(makeConfig(over), { syscalls: sys, plugins: { plugins: [{ module: 'builtin:finalize' }, { module: 'builtin:exec' }] } });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(message);
    expect(sys.effects()).toEqual([]);
  });

  test('a config without a program (a spec without `process`) is refused before the first step where the list has builtin:exec, and runs where it has not', () => {
    const config = fromOciSpec({ root: { path: 'rootfs' } }, '/bundle');
    const sys = proc();
    const run = () => runPipeline(config, { syscalls: sys, plugins: { plugins: [{ module: 'builtin:finalize' }, { module: 'builtin:exec' }] }, extra: [JAIL_STAND_IN_EXTRA] });
    expect(run).toThrow(ConfigError);
    expect(run).toThrow('process.args: must name the program to run: the plugin list has builtin:exec, which runs it last (leave it out to keep the process)');
    expect(sys.effects()).toEqual([]);
    expect(() => runPipeline(config, { syscalls: sys, plugins: { plugins: [{ module: 'builtin:finalize' }] }, extra: [JAIL_STAND_IN_EXTRA] })).not.toThrow();
    // Its embedded plan throws it too, as what runPipeline throws before its first step.
    const planned = () => plan(config, { mode: 'embedded', syscalls: proc(), plugins: { plugins: [{ module: 'builtin:finalize' }, { module: 'builtin:exec' }] }, extra: [JAIL_STAND_IN_EXTRA] });
    expect(planned).toThrow('process.args: must name the program to run: the plugin list has builtin:exec');
  });

  test('a time namespace made new, which the process is in already, is taken on Linux 6.1, where `run` needs execve(2) to enter it (6.2)', () => {
    const release = jest.spyOn(require('os') as typeof os, 'release').mockReturnValue('6.1.0-21-amd64');
    try {
      const sys = proc().addProcfs().addFile('/proc/self/timens_offsets', 'monotonic 0 0\nboottime 0 0\n');
      const config = makeConfig({ namespaces: [{ type: 'mount' }, { type: 'time' }] });
      expect(() => validateConfig(config, sys)).toThrow('a new one needs Linux 6.2 or later');
      expect(() => runPipeline(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA] })).not.toThrow();
    } finally {
      release.mockRestore();
    }
  });

  test('a sysctl of a network namespace joined by path, which the process is in already, is written', () => {
    const sys = proc().addProcfs().addFile('/proc/sys/net/ipv4/ip_forward', '0').addFile('/proc/self/ns/net').addSymlink('/run/netns/c', '/proc/self/ns/net');
    const config = makeConfig({ namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/c' }], sysctls: { 'net.ipv4.ip_forward': '1' } });
    runPipeline(config, { syscalls: sys, plugins: { plugins: [{ module: 'builtin:finalize' }] }, extra: [JAIL_STAND_IN_EXTRA] });
    expect(sys.node('/proc/sys/net/ipv4/ip_forward')?.content).toBe('1');
  });

  test('a user.* sysctl of a new user namespace, which the process is in already, is written', () => {
    const sys = proc().addProcfs().addFile('/proc/self/ns/user').addFile('/proc/sys/user/max_user_namespaces', '2147483647');
    const config = makeConfig({ namespaces: [{ type: 'mount' }, { type: 'user' }], sysctls: { 'user.max_user_namespaces': '3' } });
    runPipeline(config, { syscalls: sys, plugins: { plugins: [{ module: 'builtin:finalize' }] }, extra: [JAIL_STAND_IN_EXTRA] });
    expect(sys.node('/proc/sys/user/max_user_namespaces')?.content).toBe('3');
  });

  test("each field is read once, and what a plugin changes in ctx.config never reaches the caller's object", () => {
    const given = makeConfig();
    let reads = 0;
    Object.defineProperty(given.process, 'uid', { get: () => (reads++ === 0 ? 1000 : 0), enumerable: true });
    const seen: unknown[] = [];
    const step: PluginModule = {
      register: (api) =>
        api.step({
          name: 'reader',
          phase: 'jail',
          run: (ctx) => {
            seen.push(ctx.config.process.uid, ctx.config === given);
            ctx.config.process.env.push('ADDED=1');
          },
        }),
    };
    runPipeline(given, { syscalls: proc(), plugins: { plugins: [] }, extra: [{ module: 'embedder', plugin: step }, JAIL_STAND_IN_EXTRA] });
    expect(seen).toEqual([1000, false]);
    expect(reads).toBe(1);
    expect(given.process.env).toEqual([]);
  });
});

describe('plan checks a config built in code as runPipeline does', () => {
  test('a uid of NaN is a ConfigError; with validate: false it is planned as given', () => {
    const config = makeConfig({ process: { ...makeConfig().process, uid: NaN } });
    const sys = new FakeSyscalls().addDir('/bundle/rootfs');
    const launch = { relaunched: false, inUserNamespace: false, euid: 0 };
    expect(() => plan(config, { syscalls: sys, plugins: { plugins: [] }, launch })).toThrow('process.user.uid NaN: must be an integer from 0 to 4294967295');
    expect(plan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA], launch, validate: false }).complete).toBe(true);
  });
});

describe('plan of the API takes closedFd, as the CLI\'s plan takes it from bin/mountkit', () => {
  test('a descriptor the caller had closed ends the plan there, though this process has it open', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-api-closed-'));
    // The lowest number free, open here as Node's own would be once it has started.
    const own = fs.openSync(path.join(dir, 'f'), 'w');
    try {
      const config = makeConfig({ mounts: [], namespaces: [{ type: 'mount' }], preserveFds: 100_000_000 });
      const result = plan(config, { plugins: { plugins: [] }, launch: { relaunched: false, inUserNamespace: false, euid: 0 }, validate: false, closedFd: own });
      expect(result.complete).toBe(false);
      expect((result.error as Error).message).toBe(`--preserve-fds 100000000: descriptor ${own} is not open`);
    } finally {
      fs.closeSync(own);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('plan names each mount of a config built with makeMount by its position', () => {
  test('the second mount is mounts[1], with its own destination, in the calls and in the error', () => {
    const config = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/a' }), makeMount({ type: 'tmpfs', destination: '/b' })] });
    const sys = new FakeSyscalls().addDir('/bundle/rootfs/a').addDir('/bundle/rootfs/b').failOn('mount', 'EINVAL', { nth: 2 });
    const result = plan(config, { syscalls: sys, plugins: { plugins: [{ module: 'builtin:tmpfs' }] }, extra: [JAIL_STAND_IN_EXTRA], launch: { relaunched: false, inUserNamespace: false, euid: 0 } });
    expect(result.calls.filter((c) => c.record.op === 'mount').map((c) => [c.mountIndex, c.destination])).toEqual([
      [0, '/a'],
      [1, '/b'],
    ]);
    expect((result.error as Error).message).toBe('mounts: plugin tmpfs mounts[1] "/b": mount "tmpfs" -> "/bundle/rootfs/b": EINVAL (data "mode=0755")');
  });
});

describe('runPipeline', () => {
  test('runs every phase on the port given, with extra plugins and the before-jail callback', () => {
    const sys = new FakeSyscalls().addDir('/bundle/rootfs/data').addDir('/src');
    const seen: string[] = [];
    const extra: PluginModule = {
      register: (api) =>
        api.step({ name: 'after', phase: 'jail', run: () => void seen.push('jail step') }),
    };
    runPipeline(makeConfig({ mounts: [makeMount({ type: 'bind', source: '/src', destination: '/data', flags: MS_BIND })] }), {
      syscalls: sys,
      plugins: { plugins: [{ module: 'builtin:bind' }] },
      extra: [{ module: 'embedder', plugin: extra }, JAIL_STAND_IN_EXTRA],
      beforeJail: (ctx) => void seen.push(`callback ${ctx.config.rootfs}`),
    });
    expect(seen).toEqual(['callback /bundle/rootfs', 'jail step']);
    expect(sys.mounts).toEqual([{ source: '/src', target: '/bundle/rootfs/data', fstype: 'bind', flags: MS_BIND, data: null }]);
  });

  describe('linux.timeOffsets: written to the new time namespace the exec step enters, before the first step', () => {
    const timeConfig = () => makeConfig({ namespaces: [{ type: 'mount' }, { type: 'time' }], timeOffsets: { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: 7, nanosecs: 1 } } });
    const timeSys = () => new FakeSyscalls().addDir('/bundle/rootfs').addProcfs().addFile('/proc/self/timens_offsets', 'monotonic          0         0\nboottime           0         0\n');
    const marker: PluginModule = { register: (api) => api.step({ name: 'first', phase: 'prepare-root', run: (ctx) => void ctx.log.debug('first step') }) };

    test('read and written after the checks, before the first step', () => {
      const sys = timeSys();
      const at: number[] = [];
      runPipeline(timeConfig(), { syscalls: sys, plugins: { plugins: [] }, extra: [{ module: 'marker', plugin: marker }, JAIL_STAND_IN_EXTRA], onStep: () => void at.push(sys.calls.length) });
      // The last two calls before the first step; validateConfig's stat of the file comes before them.
      expect(sys.calls.slice(0, at[0]).filter((c) => 'path' in c && c.path === '/proc/self/timens_offsets')).toEqual([
        { op: 'stat', path: '/proc/self/timens_offsets' },
        { op: 'readFile', path: '/proc/self/timens_offsets' },
        { op: 'writeFile', path: '/proc/self/timens_offsets', data: 'monotonic 86400 0\nboottime 7 1\n' },
      ]);
      expect(sys.calls.slice(at[0] - 2, at[0]).map((c) => c.op)).toEqual(['readFile', 'writeFile']);
      expect(sys.callsOf('writeFile')).toHaveLength(1);
      expect(sys.node('/proc/self/timens_offsets')?.content).toBe('monotonic 86400 0\nboottime 7 1\n');
    });

    test('a namespace a process has entered (EACCES) is refused before the first step', () => {
      const sys = timeSys().failOn('writeFile', 'EACCES', { path: '/proc/self/timens_offsets' });
      const steps: unknown[] = [];
      const run = () => runPipeline(timeConfig(), { syscalls: sys, plugins: { plugins: [] }, extra: [{ module: 'marker', plugin: marker }, JAIL_STAND_IN_EXTRA], onStep: (w) => void steps.push(w) });
      expect(run).toThrow(ConfigError);
      expect(steps).toEqual([]);
      expect(sys.calls.at(-1)).toEqual({ op: 'writeFile', path: '/proc/self/timens_offsets', data: 'monotonic 86400 0\nboottime 7 1\n' });
    });

    test("a mount its handler's validate refuses writes nothing", () => {
      const sys = timeSys();
      const refusing: PluginModule = { register: (api) => api.handler({ name: 'ramfs', types: ['ramfs'], validate: () => { throw new ConfigError('options', 'size=1m', 'ramfs takes no size'); }, mount: () => undefined }) };
      const config = { ...timeConfig(), mounts: [makeMount({ type: 'ramfs', destination: '/ram' })] };
      const steps: unknown[] = [];
      const run = () => runPipeline(config, { syscalls: sys, plugins: { plugins: [] }, extra: [{ module: 'ramfs', plugin: refusing }, JAIL_STAND_IN_EXTRA], onStep: (w) => void steps.push(w) });
      expect(run).toThrow('mounts[0] "/ram": plugin ramfs: options "size=1m": ramfs takes no size');
      expect(steps).toEqual([]);
      expect(sys.callsOf('writeFile')).toEqual([]);
    });

    test('a plugin list refused for its claims writes nothing', () => {
      const sys = timeSys();
      expect(() => runPipeline(timeConfig(), { syscalls: sys, plugins: { plugins: [] } })).toThrow('root.path "/bundle/rootfs": no plugin in the plugin list moves the process');
      expect(sys.callsOf('readFile').filter((c) => c.path === '/proc/self/timens_offsets')).toEqual([]);
      expect(sys.callsOf('writeFile')).toEqual([]);
    });
  });

  test('a failing step is a PluginError', () => {
    const sys = new FakeSyscalls().addDir('/bundle/rootfs');
    const config = makeConfig({ mounts: [makeMount({ type: 'bind', source: '/missing', destination: '/data' })] });
    expect(() => runPipeline(config, { syscalls: sys, plugins: { plugins: [{ module: 'builtin:bind' }] }, extra: [JAIL_STAND_IN_EXTRA] })).toThrow(PluginError);
  });

  describe("a plugins file that cannot be read or parsed is named as config.json is, not by the CLI's flag, before any call that changes anything", () => {
    let dir: string;
    beforeEach(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-api-'));
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    test.each<[string, string | undefined, string]>([
      ['missing', undefined, 'cannot be read (ENOENT)'],
      ['not JSON', '{ "plugins": [\n  { "module": "builtin:proc" },\n]\n}\n', 'is not valid JSON at line 3, column 1: unexpected "]"'],
      ['a directory', '', 'cannot be read (EISDIR)'],
    ])('%s', (_what, content, reason) => {
      const file = path.join(dir, 'plugins.json');
      if (content === '') fs.mkdirSync(file);
      else if (content !== undefined) fs.writeFileSync(file, content);
      const sys = new FakeSyscalls().addDir('/bundle/rootfs');
      let err: unknown;
      try {
        runPipeline(makeConfig(), { syscalls: sys, plugins: file });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ field: 'plugins.json', value: file, message: `plugins.json ${JSON.stringify(file)}: ${reason}`, exitCode: 2 });
      expect(sys.calls.filter((c) => !QUERY_SYSCALLS.has(c.op))).toEqual([]);
    });
  });
});

describe('loadBundle, fromOciSpec and plan', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-api-'));
    for (const d of ['rootfs/bin', 'rootfs/proc', 'rootfs/dev', 'rootfs/tmp']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    fs.writeFileSync(path.join(dir, 'rootfs/bin/app'), '#!/bin/app\n', { mode: 0o755 });
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const spec = {
    ociVersion: '1.0.2',
    process: { args: ['app'], env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
    ],
    linux: { namespaces: [{ type: 'mount' }] },
  } satisfies OciSpec;

  test('a spec built in code and the same spec in a bundle give the same config', () => {
    fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
    expect(loadBundle(dir)).toEqual(fromOciSpec(spec, dir));
    expect(() => fromOciSpec({ ...spec, root: {} }, dir)).toThrow(ConfigError);
  });

  test('OciSpec takes what the loader takes: nulls for absent fields, fields it does not read, a bigint uint64', () => {
    const loose = {
      ...spec,
      hostname: null,
      mounts: [...spec.mounts, { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: null }],
      process: { ...spec.process, rlimits: [{ type: 'RLIMIT_NOFILE', hard: 18446744073709551615n, soft: 1024 }] },
      linux: { namespaces: [{ type: 'mount', path: null }], resources: { pids: { limit: 64 } } },
    } satisfies OciSpec;
    const config = fromOciSpec(loose, dir);
    expect(config.hostname).toBe('');
    expect(config.mounts[2]).toMatchObject({ destination: '/run', type: 'tmpfs' });
    expect(config.process.rlimits).toEqual([{ type: 'RLIMIT_NOFILE', resource: expect.any(Number), hard: 18446744073709551615n, soft: 1024n }]);
  });

  test('plan: the built-in plugins on the host, read-only; the program is found inside the rootfs', () => {
    const config = fromOciSpec(spec, dir);
    const result = plan(config, { plugins: DEFAULT_PLUGINS_FILE, launch: { relaunched: false, inUserNamespace: false } });
    expect(result.error).toBeUndefined();
    expect(result.complete).toBe(true);
    expect(result.calls.slice(0, 3)).toMatchObject([
      { phase: 'namespaces', plugin: 'launcher', record: { op: 'cloexecFrom', first: 3 } },
      { phase: 'namespaces', plugin: 'launcher', record: { op: 'dupCloexec', fd: 2, lowest: 3 }, result: 100 },
      { phase: 'namespaces', plugin: 'launcher', record: { op: 'unshare' } },
    ]);
    expect(result.calls.find((c) => c.record.op === 'mount' && c.record.fstype === 'tmpfs')).toMatchObject({ phase: 'mounts', plugin: 'tmpfs', mountIndex: 1, destination: '/tmp' });
    // After the jail the rootfs is "/": the exec step finds /bin/app of the image, which the host does not have.
    expect(result.calls.at(-1)).toMatchObject({ phase: 'finalize', plugin: 'exec', record: { op: 'execve', path: '/bin/app', argv: ['app'] } });
    expect(fs.readdirSync(path.join(dir, 'rootfs')).sort()).toEqual(['bin', 'dev', 'proc', 'tmp']);
  });

  test('plan: a plugin list given as an object, without exec, ends after finalize', () => {
    const list = readPluginsFile(DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
    const result = plan(fromOciSpec(spec, dir), { plugins: { plugins: list }, launch: { relaunched: false, inUserNamespace: false } });
    expect(result.complete).toBe(true);
    expect(result.calls.some((c) => c.record.op === 'execve')).toBe(false);
    expect(result.calls.at(-1)).toMatchObject({ phase: 'finalize', plugin: 'umask' });
  });
});

describe('what a port implementer and an embedder import from mountkit', () => {
  test("the types the Syscalls interface uses are exported, and linuxSyscalls takes LinuxSyscalls' options", () => {
    const stat: FsStat = { type: 0x01021994, flags: 0n };
    const mapping: IdMapping = { containerID: 0, hostID: 1000, size: 1 };
    const filter: Pick<SeccompFilter, 'defaultAction'> = { defaultAction: 0 };
    const rule: Pick<SeccompRule, 'syscall'> = { syscall: 'read' };
    const termios: Partial<Termios> = {};
    const compiled: Partial<SeccompCompiled> = {};
    const cmp: Partial<SeccompArgCmp> = {};
    const opts: LinuxSyscallsOptions = { seccompCache: path.join(os.tmpdir(), 'mountkit-seccomp-unused') };
    expect([stat.flags, mapping.size, filter.defaultAction, rule.syscall, termios, compiled, cmp]).toEqual([0n, 1, 0, 'read', {}, {}, {}]);
    // The options reach the port: the cache directory it keeps, resolved as given.
    expect(linuxSyscalls(opts)).toMatchObject({ seccompCache: opts.seccompCache });
    expect(linuxSyscalls({ seccompCache: 'relative/cache' })).toMatchObject({ seccompCache: path.resolve('relative/cache') });
  });
});
