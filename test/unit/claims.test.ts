import 'reflect-metadata';
import { BUILTIN_MOUNT_TYPES, CLAIMS, builtinListRefusal, decidedByNames, unclaimed } from '../../src/core/claims';
import type { RootfsConfig } from '../../src/core/config/model';
import { MS_BIND, MS_RDONLY, MS_REC, MS_SLAVE } from '../../src/core/constants';
import { ConfigError, StartupError } from '../../src/core/errors';
import { Orchestrator } from '../../src/core/orchestrator';
import { DEFAULT_MOUNT_TYPE, MOUNT_HANDLERS, type LifecycleStep, type MountHandler } from '../../src/core/plugin';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { silentLogger } from '../../src/core/logger';
import { BUILTIN_PLUGINS } from '../../src/plugins';
import { createKernel } from '../../src/core/kernel';
import { BUILTIN_PLUGIN_NAMES, type PluginEntry } from '../../src/core/plugin-list';
import { makeConfig, makeMount } from '../helpers/config';
import { JAIL_STAND_IN } from '../helpers/jail-stand-in';

const hook = { path: '/bin/true', args: [], env: [] };
const device = { type: 'c' as const, path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 };

/** Each claim: a config that asks for it, the refusal's words when nothing handles it. */
const ASKING: readonly [string, Partial<RootfsConfig>, string][] = [
  ['linux.rootfsPropagation', { rootPropagation: MS_SLAVE | MS_REC }, 'linux.rootfsPropagation: no plugin in the plugin list sets the root\'s propagation (builtin:prepare-root does)'],
  ['linux.devices', { devices: [device] }, 'linux.devices: no plugin in the plugin list makes the device nodes, /dev/null and the other defaults among them (builtin:devices does)'],
  ['hostname', { hostname: 'web' }, 'hostname "web": no plugin in the plugin list sets the hostname (builtin:hostname does)'],
  ['domainname', { domainname: 'example.org' }, 'domainname "example.org": no plugin in the plugin list sets the domain name (builtin:hostname does)'],
  ['linux.namespaces.network', { namespaces: [{ type: 'network' }] }, 'linux.namespaces "network": no plugin in the plugin list brings a new network namespace\'s loopback up (builtin:network does)'],
  ['hooks.prestart', { hooks: { prestart: [hook], createRuntime: [] } }, 'hooks.prestart: no plugin in the plugin list runs them (builtin:hooks does)'],
  ['hooks.createRuntime', { hooks: { prestart: [], createRuntime: [hook] } }, 'hooks.createRuntime: no plugin in the plugin list runs them (builtin:hooks does)'],
  ['hooks.createContainer', { hooks: { prestart: [], createRuntime: [], createContainer: [hook] } }, 'hooks.createContainer: no plugin in the plugin list runs them (builtin:hooks does)'],
  ['root.path', { rootfs: '/b/rootfs' }, 'root.path "/b/rootfs": no plugin in the plugin list moves the process into the container\'s root (pivot_root(2), or chroot(2) with --no-pivot) (builtin:jail does)'],
  [
    'mounts.readonly',
    { mounts: [makeMount({ type: 'proc', destination: '/proc' }), makeMount({ type: 'tmpfs', destination: '/run', flags: MS_RDONLY, index: 1 })] },
    'mounts[1].options "ro": no plugin in the plugin list makes read-only tmpfs and /dev mounts read-only after the jail (builtin:finalize does)',
  ],
  ['root.readonly', { readonlyRootfs: true }, 'root.readonly true: no plugin in the plugin list makes the root read-only (builtin:finalize does)'],
  ['linux.sysctl', { sysctls: { 'net.ipv4.ip_forward': '1' } }, 'linux.sysctl: no plugin in the plugin list writes them (builtin:finalize does)'],
  ['linux.readonlyPaths', { readonlyPaths: ['/proc/sys'] }, 'linux.readonlyPaths: no plugin in the plugin list makes them read-only (builtin:finalize does)'],
  ['linux.maskedPaths', { maskedPaths: ['/proc/kcore'] }, 'linux.maskedPaths: no plugin in the plugin list masks them (builtin:finalize does)'],
];

const anyType = () => true;

/** The keys a list handles: root.path, which every config asks for, and `keys`. */
const jailed = (...keys: string[]) => new Set(['root.path', ...keys]);

describe('what a config asks of the run, and the steps that handle it (core/claims.ts)', () => {
  test('every claim is in the table below, once', () => {
    expect(CLAIMS.map((c) => c.key)).toEqual(ASKING.map(([key]) => key));
  });

  test.each(ASKING)('%s: refused when no step handles it, taken when one does', (key, over, words) => {
    const config = makeConfig(over);
    // Every config asks for root.path (a list without the jail is refused whatever else the config asks), so the others are tried with it handled.
    const refusal = unclaimed(config, key === 'root.path' ? new Set() : jailed(), anyType);
    expect(refusal).toBeInstanceOf(ConfigError);
    expect(refusal?.message).toBe(`${words}; add it, or a step of your own listing "${key}" in its handles`);
    expect(unclaimed(config, jailed(key), anyType)).toBeUndefined();
  });

  test.each([
    ['the testkit\'s default config', {}],
    ['an empty hostname and domain name', { hostname: '', domainname: '' }],
    ['a network namespace joined by path: its loopback is its maker\'s', { namespaces: [{ type: 'network' as const, path: '/run/netns/pod' }] }],
    ['devices with /dev bound whole from elsewhere: none are made', { devices: [device], mounts: [makeMount({ type: 'bind', destination: '/dev', source: '/dev', flags: MS_BIND | MS_REC })] }],
    ["no linux.devices and no mount at /dev: the image's /dev, as it is", { mounts: [makeMount({ type: 'proc', destination: '/proc' })] }],
    ['a read-only bind elsewhere than /dev: read-only from its own remount', { mounts: [makeMount({ type: 'bind', destination: '/data', source: '/srv', flags: MS_BIND | MS_RDONLY })] }],
    ['a read-write tmpfs', { mounts: [makeMount({ type: 'tmpfs', destination: '/run' })] }],
  ] as const)('asks for nothing: %s', (_what, over) => {
    expect(unclaimed(makeConfig(over as Partial<RootfsConfig>), jailed(), anyType)).toBeUndefined();
  });

  test('a filesystem the config mounts at /dev asks for the default devices, linux.devices empty: the mount named, by its position', () => {
    const config = makeConfig({ mounts: [makeMount({ type: 'proc', destination: '/proc' }), makeMount({ type: 'tmpfs', destination: '/dev/', index: 1 })] });
    expect(unclaimed(config, jailed(), anyType)?.message).toBe(
      'mounts[1].destination "/dev/": no plugin in the plugin list makes the device nodes, /dev/null and the other defaults among them (builtin:devices does); add it, or a step of your own listing "linux.devices" in its handles',
    );
    expect(unclaimed(config, jailed('linux.devices'), anyType)).toBeUndefined();
    // A mount below /dev is not /dev; linux.devices, when it has some, is named first.
    expect(unclaimed(makeConfig({ mounts: [makeMount({ type: 'devpts', destination: '/dev/pts' })] }), jailed(), anyType)).toBeUndefined();
    expect(unclaimed(makeConfig({ devices: [device], mounts: [makeMount({ type: 'tmpfs', destination: '/dev' })] }), jailed(), anyType)?.message).toMatch(/^linux\.devices: /);
  });

  test("a network namespace with an empty path is made new, as the loopback step reads it: its loopback is asked for", () => {
    // A model built in code (createKernel's orchestrator, unchecked); the OCI loader drops an empty path.
    const config = makeConfig({ namespaces: [{ type: 'network', path: '' }] });
    expect(unclaimed(config, jailed(), anyType)?.message).toMatch(/^linux\.namespaces "network": no plugin in the plugin list brings a new network namespace's loopback up/);
  });

  test('a mount type without a handler comes first, named by its position', () => {
    const config = makeConfig({ maskedPaths: ['/proc/kcore'], mounts: [makeMount({ type: 'proc', destination: '/proc' }), makeMount({ type: 'devpts', destination: '/dev/pts', index: 1 })] });
    expect(unclaimed(config, jailed(), (type) => type === 'proc')?.message).toBe('mounts[1].type "devpts": no plugin in the plugin list handles this mount type (builtin:default takes any type)');
  });

  test("a built-in's mount type that only builtin:default would take is refused, naming that built-in; any other type is the default handler's", () => {
    const config = makeConfig({ mounts: [makeMount({ type: 'devpts', destination: '/dev/pts' }), makeMount({ type: 'tmpfs', destination: '/run', index: 1 })] });
    const none = () => false;
    expect(unclaimed(config, jailed(), none, 'generic')?.message).toBe(
      'mounts[1].type "tmpfs": no plugin in the plugin list handles this mount type (builtin:tmpfs does; builtin:default, which takes any other type, would mount it without what builtin:tmpfs adds)',
    );
    expect(unclaimed(config, jailed(), (type) => type === 'tmpfs', 'generic')).toBeUndefined();
    // A catch-all handler of a plugin's own is trusted with every type.
    expect(unclaimed(config, jailed(), none, 'trusted')).toBeUndefined();
    // Without the default handler either, the built-in's name alone.
    expect(unclaimed(makeConfig({ mounts: [makeMount({ type: 'sysfs', destination: '/sys' })] }), jailed(), none)?.message).toBe('mounts[0].type "sysfs": no plugin in the plugin list handles this mount type (builtin:proc does)');
  });

  test('BUILTIN_MOUNT_TYPES is every type a built-in handler claims, with its built-in', () => {
    const claimed = new Map<string, string>();
    for (const name of Object.keys(BUILTIN_PLUGINS)) {
      const kernel = createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module: `builtin:${name}` }] } });
      const handlers = kernel.container.isRegistered(MOUNT_HANDLERS) ? kernel.container.resolveAll<MountHandler>(MOUNT_HANDLERS) : [];
      for (const type of handlers.flatMap((h) => h.types)) if (type !== DEFAULT_MOUNT_TYPE) claimed.set(type, name);
    }
    expect(new Map([...claimed].sort())).toEqual(new Map([...BUILTIN_MOUNT_TYPES].sort()));
  });

  test('the built-in plugins together handle every claim, each in the built-in the refusal names', () => {
    for (const claim of CLAIMS) {
      const sys = new FakeSyscalls();
      const kernel = createKernel({ syscalls: sys, plugins: { plugins: [{ module: `builtin:${claim.builtin}` }] } });
      const handles = kernel.orchestrator.orderedSteps().flatMap((s) => s.handles ?? []);
      expect([claim.key, handles.includes(claim.key)]).toEqual([claim.key, true]);
    }
    expect(Object.keys(BUILTIN_PLUGINS)).toEqual(expect.arrayContaining([...new Set(CLAIMS.map((c) => c.builtin))]));
  });
});

describe('the orchestrator refuses such a config before its first step', () => {
  const config = makeConfig({ rootfs: '/r', maskedPaths: ['/proc/kcore'] });

  test('no call is made, no step runs', () => {
    const sys = new FakeSyscalls().addDir('/r');
    const ran: string[] = [];
    const first: LifecycleStep = { name: 'first', phase: 'prepare-root', order: 'pre', run: () => void ran.push('first') };
    const run = () => new Orchestrator(sys, silentLogger, [], [first, JAIL_STAND_IN]).run(config);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow('linux.maskedPaths: no plugin in the plugin list masks them (builtin:finalize does)');
    expect([ran, sys.calls]).toEqual([[], []]);
  });

  test('checkClaims alone: the refusal run() starts with, for a caller that changes something before the run; no call', () => {
    const sys = new FakeSyscalls().addDir('/r');
    const orchestrator = new Orchestrator(sys, silentLogger, [], [JAIL_STAND_IN]);
    expect(() => orchestrator.checkClaims(config)).toThrow('linux.maskedPaths: no plugin in the plugin list masks them (builtin:finalize does)');
    expect(() => orchestrator.checkClaims(makeConfig({ rootfs: '/r' }))).not.toThrow();
    expect(sys.calls).toEqual([]);
  });

  test('a step of the list that handles it (a plugin of the embedder\'s own) lets the run go on, and runs', () => {
    const sys = new FakeSyscalls().addDir('/r');
    const masked: string[] = [];
    const own: LifecycleStep = { name: 'own-masks', phase: 'finalize', handles: ['linux.maskedPaths'], run: (ctx) => void masked.push(...ctx.config.maskedPaths) };
    new Orchestrator(sys, silentLogger, [], [own, JAIL_STAND_IN]).run(config);
    expect(masked).toEqual(['/proc/kcore']);
  });

  test("a list without the jail: refused whatever the config, naming the rootfs (the container's process would otherwise run in the host's root, in a mount namespace of its own)", () => {
    const sys = new FakeSyscalls().addDir('/r/tmp').addMountpoint('/r');
    const kernel = createKernel({ syscalls: sys, plugins: { plugins: [{ module: 'builtin:tmpfs' }] } });
    const run = () => kernel.orchestrator.run(makeConfig({ rootfs: '/r', mounts: [makeMount({ type: 'tmpfs', destination: '/tmp' })] }));
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(
      'root.path "/r": no plugin in the plugin list moves the process into the container\'s root (pivot_root(2), or chroot(2) with --no-pivot) (builtin:jail does); add it, or a step of your own listing "root.path" in its handles',
    );
    expect(sys.calls).toEqual([]);
    // With builtin:jail in the list, the same config runs: mounted, then jailed.
    createKernel({ syscalls: sys, plugins: { plugins: [{ module: 'builtin:tmpfs' }, { module: 'builtin:jail' }] } }).orchestrator.run(makeConfig({ rootfs: '/r', mounts: [makeMount({ type: 'tmpfs', destination: '/tmp' })] }));
    expect(sys.calls.map((c) => c.op).filter((op) => op === 'mount' || op === 'pivotRoot').slice(0, 2)).toEqual(['mount', 'pivotRoot']);
  });

  test('the default plugin list handles all that a config like runc spec\'s asks for', () => {
    const sys = new FakeSyscalls();
    const kernel = createKernel({ syscalls: sys });
    const spec = makeConfig({
      hostname: 'runc',
      readonlyRootfs: true,
      namespaces: [{ type: 'network' }, { type: 'mount' }],
      maskedPaths: ['/proc/kcore'],
      readonlyPaths: ['/proc/sys'],
      mounts: [makeMount({ type: 'proc', destination: '/proc' })],
    });
    expect(unclaimed(spec, new Set(kernel.orchestrator.orderedSteps().flatMap((s) => s.handles ?? [])), (t) => kernel.orchestrator.handlerFor(t) !== undefined, 'generic')).toBeUndefined();
  });
});

describe("builtinListRefusal: what the kernel would refuse in a list of built-ins, from their names alone (run's first process, before a relaunch)", () => {
  const DEFAULT_LIST = Object.keys(BUILTIN_PLUGINS);
  const entries = (names: readonly string[]): PluginEntry[] => names.map((name) => ({ module: `builtin:${name}` }));
  /** What the kernel refuses for `list` and `config`: loading and registering it, then its claims; undefined when it runs. */
  const kernelRefusal = (list: PluginEntry[], config: RootfsConfig): string | undefined => {
    try {
      createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: list } }).orchestrator.checkClaims(config);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  };
  const configs: [string, RootfsConfig][] = [
    ...ASKING.map(([key, over]): [string, RootfsConfig] => [key, makeConfig(over)]),
    ['a bind, a proc, a devpts, a cgroup2', makeConfig({ mounts: [makeMount({ type: 'bind', destination: '/d', flags: MS_BIND }), makeMount({ type: 'proc', destination: '/proc', index: 1 }), makeMount({ type: 'devpts', destination: '/dev/pts', index: 2 }), makeMount({ type: 'cgroup2', destination: '/sys/fs/cgroup', index: 3 })] })],
    ['nothing but the root', makeConfig()],
  ];
  const lists: [string, string[]][] = [
    ['the default list', DEFAULT_LIST],
    ...DEFAULT_LIST.map((left): [string, string[]] => [`without ${left}`, DEFAULT_LIST.filter((n) => n !== left)]),
    ['without default and bind', DEFAULT_LIST.filter((n) => n !== 'default' && n !== 'bind')],
    ['jail alone', ['jail']],
    ['empty', []],
  ];

  test.each(lists)('%s: the refusal the kernel gives, for every config, or none where it runs', (_what, names) => {
    for (const [what, config] of configs) expect([what, builtinListRefusal(config, entries(names))?.message]).toEqual([what, kernelRefusal(entries(names), config)]);
  });

  test('an entry disabled is left out, as the kernel leaves it out', () => {
    const list: PluginEntry[] = [...entries(DEFAULT_LIST.filter((n) => n !== 'finalize')), { module: 'builtin:finalize', enabled: false }];
    const config = makeConfig({ readonlyRootfs: true });
    expect(builtinListRefusal(config, list)?.message).toBe(kernelRefusal(list, config));
    expect(builtinListRefusal(config, list)?.message).toMatch(/^root\.readonly true: no plugin in the plugin list makes the root read-only/);
  });

  test('a built-in of no such name: the StartupError loading it gives, the first in the list, before any claim', () => {
    const list = entries(['jial', 'proc', 'nope']);
    const refusal = builtinListRefusal(makeConfig(), list);
    expect(refusal).toBeInstanceOf(StartupError);
    expect(refusal?.message).toBe(kernelRefusal(list, makeConfig()));
    expect(refusal?.message).toBe('plugin module "builtin:jial": no built-in plugin of that name (known: proc, mqueue, tmpfs, bind, cgroup, default, hostname, network, prepare-root, devices, hooks, jail, after-jail, finalize, exec)');
  });

  test.each<[string, PluginEntry[]]>([
    ['a module of its own, which may handle anything', [{ module: './own.js' }, ...entries(['proc'])]],
    ['a package', [{ module: 'mountkit-plugin-overlay' }]],
    ['a handler built-in listed twice, which the kernel refuses as it registers the second', entries(['bind', 'jail', 'bind'])],
    ['an entry with options, which builtin:cgroup checks as it registers', [{ module: 'builtin:cgroup', options: { readonlyRoot: 'yes' } }]],
  ])('left to the kernel: %s', (_what, list) => {
    expect(builtinListRefusal(makeConfig({ maskedPaths: ['/proc/kcore'] }), list)).toBeUndefined();
  });

  test('options of no keys are none; a step built-in listed twice is no handler listed twice', () => {
    const list: PluginEntry[] = [{ module: 'builtin:proc', options: {} }, ...entries(['hooks', 'hooks'])];
    expect(builtinListRefusal(makeConfig(), list)?.message).toBe(kernelRefusal(list, makeConfig()));
  });

  test.each<[string, PluginEntry[], boolean]>([
    ['the default list', entries(DEFAULT_LIST), true],
    ['empty', [], true],
    ['a module of its own disabled', [{ module: './own.js', enabled: false }, ...entries(['jail'])], true],
    ['options of no keys, a step built-in listed twice', [{ module: 'builtin:proc', options: {} }, ...entries(['hooks', 'hooks'])], true],
    ['a module of its own', [...entries(['proc']), { module: './own.js' }], false],
    ['a package', [{ module: 'mountkit-plugin-overlay' }], false],
    ['a handler built-in listed twice', entries(['bind', 'jail', 'bind']), false],
    ['builtin:default listed twice', entries(['default', 'default']), false],
    ['an entry with options', [{ module: 'builtin:cgroup', options: { readonlyRoot: 'yes' } }], false],
  ])('decidedByNames, %s: %s', (_what, list, decided) => {
    expect(decidedByNames(list)).toBe(decided);
  });

  test('no built-in has a validate, which a list decided by its names would leave unasked before a relaunch', () => {
    const kernel = createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: entries(DEFAULT_LIST) } });
    const handlers = [...BUILTIN_MOUNT_TYPES.keys(), 'some-other-type'].map((type) => kernel.orchestrator.handlerFor(type));
    expect(handlers.filter((h) => h === undefined)).toEqual([]);
    const withValidate = [...handlers, ...kernel.orchestrator.orderedSteps()].filter((p) => p !== undefined && 'validate' in p).map((p) => p?.name);
    expect(withValidate).toEqual([]);
  });

  test('each built-in handles exactly the keys CLAIMS names it for, and BUILTIN_PLUGIN_NAMES are the built-ins, in order', () => {
    for (const name of DEFAULT_LIST) {
      const kernel = createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module: `builtin:${name}` }] } });
      const handles = kernel.orchestrator.orderedSteps().flatMap((s) => s.handles ?? []);
      expect([name, new Set(handles)]).toEqual([name, new Set(CLAIMS.filter((c) => c.builtin === name).map((c) => c.key))]);
    }
    expect(BUILTIN_PLUGIN_NAMES).toEqual(DEFAULT_LIST);
  });
});
