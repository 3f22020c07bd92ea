import {
  ConfigError,
  AT_FDCWD,
  ExecveCalled,
  FSCONFIG_SET_STRING,
  FakeSyscalls,
  MS_BIND,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  PLUGIN_OPTIONS,
  PluginError,
  SYSCALLS,
  call,
  effectsOf,
  expectCalls,
  expectEffects,
  fdPath,
  fromOciSpec,
  inject,
  injectable,
  makeConfig,
  makeMount,
  memoryLogger,
  mountCall,
  resolvedCalls,
  runHandler,
  runPlugin,
  type LifecycleStep,
  type MountHandler,
  type MountSpec,
  type PluginModule,
  type RunContext,
  type Syscalls,
  containerRoot,
  withMountTarget,
} from 'mountkit/testing';
import * as testing from 'mountkit/testing';

/** A handler as a plugin author writes it: constructor injection, effects through the port only. */
@injectable()
class MarkerHandler implements MountHandler {
  readonly name = 'marker';
  readonly types = ['marker'];
  constructor(
    @inject(SYSCALLS) private readonly sys: Syscalls,
    @inject(PLUGIN_OPTIONS) private readonly options: { mode?: number },
  ) {}
  mount(m: MountSpec, ctx: RunContext): void {
    const dir = ctx.config.rootfs + m.destination;
    this.sys.stat(ctx.config.rootfs);
    this.sys.mkdir(dir, this.options.mode ?? 0o755);
    this.sys.mount(m.source, dir, 'tmpfs', m.flags, null);
    ctx.log.info('marked', { dir });
  }
}

const markerPlugin: PluginModule = { register: (api) => api.handler(MarkerHandler) };
const rootfs = () => new FakeSyscalls().addDir('/bundle/rootfs');

describe('runPlugin and runHandler', () => {
  test('a handler class is built with the fake and the options injected; the calls come back', () => {
    const run = runHandler(
      { plugin: markerPlugin, options: { mode: 0o700 } },
      makeMount({ type: 'marker', source: 'm', destination: '/m', flags: MS_NOSUID }),
      { sys: rootfs() },
    );
    expect(run.calls).toEqual([
      { op: 'stat', path: '/bundle/rootfs' },
      { op: 'mkdir', path: '/bundle/rootfs/m', mode: 0o700 },
      mountCall('m', '/bundle/rootfs/m', 'tmpfs', MS_NOSUID),
    ]);
    expect(run.effects).toEqual(effectsOf(run.sys));
    expect(run.sys.mounts).toEqual([{ source: 'm', target: '/bundle/rootfs/m', fstype: 'tmpfs', flags: MS_NOSUID, data: null }]);
  });

  test('handlers given directly, as classes or instances, with options for the classes', () => {
    const seen: string[] = [];
    const instance: MountHandler = { name: 'seen', types: ['seen'], mount: (m) => void seen.push(m.destination) };
    const run = runPlugin({
      handlers: [MarkerHandler, instance],
      options: { mode: 0o711 },
      sys: rootfs(),
      config: makeConfig({ mounts: [makeMount({ type: 'marker', destination: '/a' }), makeMount({ type: 'seen', destination: '/b', index: 1 })] }),
    });
    expect(effectsOf(run)).toEqual([call('mkdir', { path: '/bundle/rootfs/a', mode: 0o711 }), mountCall('marker', '/bundle/rootfs/a', 'tmpfs')]);
    expect(seen).toEqual(['/b']);
  });

  test("runHandler's opts.options are the options of the plugin module under test, as they are a class's", () => {
    const mount = makeMount({ type: 'marker', destination: '/m' });
    expect(runHandler(markerPlugin, mount, { sys: rootfs(), options: { mode: 0o700 } }).effects[0]).toEqual(call('mkdir', { path: '/bundle/rootfs/m', mode: 0o700 }));
    expect(runHandler(MarkerHandler, mount, { sys: rootfs(), options: { mode: 0o700 } }).effects[0]).toEqual(call('mkdir', { path: '/bundle/rootfs/m', mode: 0o700 }));
    expect(() => runHandler({ plugin: markerPlugin, options: { mode: 0o700 } }, mount, { options: { mode: 0o711 } })).toThrow(
      /^runHandler: the plugin's options are given twice, as \{ plugin, options \} and as opts\.options: give them once$/,
    );
  });

  test("runPlugin's options without a handler or step to take them are refused, not dropped", () => {
    expect(() => runPlugin({ plugins: [markerPlugin], options: { mode: 0o700 } })).toThrow(
      /^runPlugin: options are the PLUGIN_OPTIONS of the classes in handlers and steps, and none is given: give a plugin module its options as \{ plugin, options \}$/,
    );
  });

  test('options with handler or step instances only are refused, not dropped: an instance is built already and takes no PLUGIN_OPTIONS', () => {
    const seen: string[] = [];
    const handler: MountHandler = { name: 'seen', types: ['seen'], mount: (m) => void seen.push(m.destination) };
    const step: LifecycleStep = { name: 'seen-step', phase: 'after-jail', run: () => void seen.push('step') };
    const mount = makeMount({ type: 'seen', destination: '/s' });
    const config = makeConfig({ mounts: [mount] });
    const refused = /^runPlugin: options are the PLUGIN_OPTIONS of the classes in handlers and steps, and those given are all instances, which the kernel does not build: give a class, or make the instance with its options$/;
    expect(() => runPlugin({ handlers: [handler], options: { mode: 0o700 }, config })).toThrow(refused);
    expect(() => runPlugin({ steps: [step], options: { mode: 0o700 }, config })).toThrow(refused);
    expect(() => runPlugin({ plugins: [markerPlugin], handlers: [handler], steps: [step], options: { mode: 0o700 }, config })).toThrow(refused);
    expect(() => runHandler(handler, mount, { options: { mode: 0o700 } })).toThrow(
      /^runHandler: options are given with a handler instance, which the kernel does not build, so they would reach nothing: give its class or its plugin module, or make the instance with its options$/,
    );
    expect(seen).toEqual([]);
    // Without options the same instances run.
    runPlugin({ handlers: [handler], steps: [step], config });
    runHandler(handler, mount);
    expect(seen).toEqual(['/s', 'step', '/s']);
  });

  test('a failing call is a PluginError naming phase, plugin and mount; the fake keeps the calls made', () => {
    const sys = rootfs().failOn('mount', 'EPERM');
    const mount = makeMount({ type: 'marker', destination: '/m', index: 3 });
    expect(() => runHandler(MarkerHandler, mount, { sys })).toThrow(PluginError);
    expect(() => runHandler(MarkerHandler, mount, { sys: rootfs().failOn('mount', 'EPERM') })).toThrow(
      'mounts: plugin marker mounts[3] "/m": mount "marker" -> "/bundle/rootfs/m": EPERM',
    );
    expect(sys.effects().map((c) => c.op)).toEqual(['mkdir', 'mount']);
  });

  test('built-ins load by name, and the exec step ends the run with the execve', () => {
    const sys = rootfs().addFile('/bin/true', '', 0o755);
    const run = runPlugin({ builtins: ['exec'], sys });
    expect(run.execve).toBeInstanceOf(ExecveCalled);
    expect(run.execve?.argv).toEqual(['/bin/true']);
    expect(run.effects.at(-1)).toEqual(call('execve', { path: '/bin/true', argv: ['/bin/true'], envp: ['HOME=/'] }));
  });

  test('a bad register is a startup error naming the module', () => {
    const bad: PluginModule = {
      register: () => {
        throw new ConfigError('options.size', -1, 'must be positive');
      },
    };
    expect(() => runPlugin({ plugins: [{ module: 'my-plugin', plugin: bad }] })).toThrow(
      'plugin module "my-plugin": register failed: options.size -1: must be positive',
    );
  });

  test('a step sees the before-jail callback run between dev and jail', () => {
    const seen: string[] = [];
    runPlugin({
      steps: [
        { name: 'dev', phase: 'dev', run: () => void seen.push('dev') },
        { name: 'jail', phase: 'jail', run: () => void seen.push('jail') },
      ],
      beforeJail: () => void seen.push('callback'),
    });
    expect(seen).toEqual(['dev', 'callback', 'jail']);
  });

  test('memoryLogger keeps what the plugin logged, with its plugin name', () => {
    const logger = memoryLogger();
    runHandler(markerPlugin, makeMount({ type: 'marker', destination: '/m' }), { sys: rootfs(), logger });
    expect(logger.entries).toContainEqual({ level: 'info', message: 'marked', meta: { plugin: 'marker', dir: '/bundle/rootfs/m' } });
  });
});

describe('expectCalls and expectEffects', () => {
  const made = () => {
    const sys = rootfs().addDir('/src');
    sys.stat('/bundle/rootfs');
    sys.mkdir('/bundle/rootfs/x', 0o755);
    sys.mount('/src', '/bundle/rootfs/x', 'bind', MS_BIND, null);
    return sys;
  };

  test('equal lists pass; effects leave queries out', () => {
    const sys = made();
    expectEffects(sys, [call('mkdir', { path: '/bundle/rootfs/x', mode: 0o755 }), mountCall('/src', '/bundle/rootfs/x', 'bind', MS_BIND)]);
    expectCalls(sys, [
      call('stat', { path: '/bundle/rootfs' }),
      call('mkdir', { path: '/bundle/rootfs/x', mode: 0o755 }),
      mountCall('/src', '/bundle/rootfs/x', 'bind', MS_BIND),
    ]);
  });

  test('a difference throws with both lists as calls, the first difference marked', () => {
    expect(() => expectEffects(made(), [call('mkdir', { path: '/bundle/rootfs/x', mode: 0o700 })])).toThrow(
      [
        'effects differ at #0 (2 made, 1 expected)',
        'expected:',
        '>   0 mkdir("/bundle/rootfs/x", 0700)',
        'actual:',
        '>   0 mkdir("/bundle/rootfs/x", 0755)',
        '    1 mount("/src", "/bundle/rootfs/x", "bind", MS_BIND, NULL)',
      ].join('\n'),
    );
  });

  test('a missing call and a number where a bigint belongs are differences too', () => {
    expect(() => expectEffects(made(), [call('mkdir', { path: '/bundle/rootfs/x', mode: 0o755 })])).toThrow('effects differ at #1 (2 made, 1 expected)');
    const wrongType = { op: 'mount', source: '/src', target: '/bundle/rootfs/x', fstype: 'bind', flags: 0x1000, data: null } as never;
    expect(() => expectEffects(made(), [call('mkdir', { path: '/bundle/rootfs/x', mode: 0o755 }), wrongType])).toThrow(/"flags":4096.*\n.*"flags":"4096n"/s);
  });

  test('a key one side has and the other lacks is a difference, either way (an idmapped mount_setattr without its user namespace)', () => {
    const setattr = { op: 'mountSetattr', dirfd: 5, path: '', atFlags: 0x1000, attrSet: 0x100000n, attrClr: 0n, propagation: 0n } as const;
    const withNs = [{ ...setattr, usernsFd: 7 }] as never;
    const without = [setattr] as never;
    for (const check of [expectCalls, expectEffects]) {
      expect(() => check(without, withNs)).toThrow(/differ at #0 \(1 made, 1 expected\)/);
      expect(() => check(withNs, without)).toThrow(/differ at #0 \(1 made, 1 expected\)/);
      // A key that holds undefined counts as absent, as toEqual counts it.
      expect(() => check([{ ...setattr, usernsFd: undefined }] as never, without)).not.toThrow();
    }
  });
});

describe("a failed assertion shows each call of runPlugin's that failed with its errno, as the plan does", () => {
  /** The handler's usual shape (docs/plugins.md): a target made in the rootfs, mounted through its descriptor. */
  @injectable()
  class NestedHandler implements MountHandler {
    readonly name = 'nested';
    readonly types = ['nested'];
    constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}
    mount(m: MountSpec, ctx: RunContext): void {
      withMountTarget(this.sys, containerRoot(this.sys, ctx), m.destination, {}, (t) => this.sys.mount(m.source, fdPath(t.fd), 'tmpfs', MS_NOSUID, null));
    }
  }
  const listing = (check: () => void): string[] => {
    try {
      check();
    } catch (err) {
      return (err as Error).message.split('\n');
    }
    throw new Error('the assertion passed');
  };
  const actualPart = (lines: string[]) => lines.slice(lines.indexOf('actual:') + 1, lines.indexOf('actual, as an expected list:'));

  test("the lookups a missing target's directories answer ENOENT, in the calls and in resolvedCalls; the paste has no outcome", () => {
    const run = runHandler(NestedHandler, makeMount({ type: 'nested', destination: '/a/b' }));
    for (const source of [run, resolvedCalls(run)]) {
      const actual = actualPart(listing(() => expectCalls(source, [])));
      const failed = actual.filter((line) => line.includes(' = -1 '));
      expect(failed.length).toBeGreaterThan(0);
      expect(failed.every((line) => /^  +\d+ openat2?\(.*\) = -1 ENOENT$/.test(line))).toBe(true);
      expect(actual.filter((line) => line.includes('mount(')).every((line) => !line.includes(' = '))).toBe(true);
    }
    const lines = listing(() => expectCalls(run, []));
    expect(lines.slice(lines.indexOf('actual, as an expected list:')).join('\n')).not.toContain('= -1');
  });

  test('the call that ends the run too, with the errno the fake was told to fail it with', () => {
    const sys = new FakeSyscalls().addDir('/bundle/rootfs/t').failOn('mount', 'EBUSY');
    expect(() => runHandler(NestedHandler, makeMount({ type: 'nested', destination: '/t' }), { sys })).toThrow(PluginError);
    const actual = actualPart(listing(() => expectEffects(sys, [])));
    expect(actual.filter((line) => line.includes(' = -1 '))).toEqual([expect.stringMatching(/^ +\d+ mount\("nested", "\/proc\/thread-self\/fd\/\d+", "tmpfs", MS_NOSUID, NULL\) = -1 EBUSY$/)]);
  });

  test('calls made on a fake outside runPlugin show none', () => {
    const sys = new FakeSyscalls();
    expect(() => sys.mkdir('/missing/x', 0o755)).toThrow('ENOENT');
    expect(actualPart(listing(() => expectCalls(sys, [])))).toEqual(['>   0 mkdir("/missing/x", 0755)']);
  });
});

describe("runPlugin's default fake", () => {
  test("holds the config's rootfs, so a handler's target is made there", () => {
    const run = runHandler(ThroughFdHandler, makeMount({ type: 'through-fd', destination: '/t' }));
    expect(run.sys.mounts.map((m) => m.target)).toContain('/bundle/rootfs/t');
    expectEffects(resolvedCalls(run).filter((c) => c.op === 'mkdirat'), [call('mkdirat', { dirfd: '/bundle/rootfs', path: 't', mode: 0o755 })]);
  });

  test("and another config's rootfs when one is given, nothing else", () => {
    const config = { ...makeConfig(), rootfs: '/b2/root' };
    const run = runHandler(ThroughFdHandler, makeMount({ type: 'through-fd', destination: '/t' }), { config });
    expect(run.sys.node('/b2/root/t')?.kind).toBe('dir');
    expect(run.sys.node('/bundle')).toBeUndefined();
  });
});

describe('a failed assertion gives what was made as an expected list', () => {
  /** The list a failed assertion ends with, made again with what its import line names from the testkit. */
  const pasted = (source: Parameters<typeof expectCalls>[0]): unknown[] => {
    let message = '';
    try {
      expectCalls(source, []);
    } catch (err) {
      message = (err as Error).message;
    }
    const at = message.indexOf('actual, as an expected list:\n');
    expect(at).toBeGreaterThan(0);
    const [importLine, ...list] = message.slice(message.indexOf('\n', at) + 1).split('\n');
    const names = /^import \{ (.*) \} from 'mountkit\/testing';$/.exec(importLine)![1].split(', ');
    const values = names.map((name) => (testing as Record<string, unknown>)[name]);
    expect(values.every((v) => v !== undefined)).toBe(true);
    return new Function(...names, `return ${list.join('\n')};`)(...values) as unknown[];
  };

  test('the text of the list', () => {
    const sys = rootfs().addDir('/src');
    sys.umask(0o22);
    sys.mkdir('/bundle/rootfs/x', 0o755);
    sys.mount('/src', '/bundle/rootfs/x', 'bind', MS_BIND | MS_REC, null);
    expect(() => expectEffects(sys, [])).toThrow(
      [
        'actual, as an expected list:',
        "import { call, MS_BIND, MS_REC } from 'mountkit/testing';",
        '[',
        '  call("umask", { mask: 0o22 }),',
        '  call("mkdir", { path: "/bundle/rootfs/x", mode: 0o755 }),',
        '  call("mount", { source: "/src", target: "/bundle/rootfs/x", fstype: "bind", flags: MS_BIND | MS_REC, data: null }),',
        ']',
      ].join('\n'),
    );
  });

  test('pasted back, it passes: numbers and bigints, bytes, lists, mappings, paths for descriptors', () => {
    const records = [
      call('openat2', { dirfd: '/bundle/rootfs', path: 'a b/"c"', flags: O_PATH | O_CLOEXEC, mode: 0, resolve: 0x16n }),
      call('mount', { source: null, target: '/r', fstype: null, flags: 0n, data: null }),
      call('mountSetattr', { dirfd: 4, path: '', atFlags: 0x1000, attrSet: 1n, attrClr: 0x100000n, propagation: 0n }),
      call('lsetxattr', { path: '/r/f', name: 'user.x', value: new Uint8Array([0, 255, 7]) }),
      call('setrlimit', { resource: 7, soft: 1024n, hard: 0xffffffffffffffffn }),
      call('userNamespace', { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [] }),
      call('execve', { path: '/bin/sh', argv: ['/bin/sh', '-c', 'echo \'$x\'\n'], envp: [] }),
      call('mknod', { path: '/r/dev/null', mode: 0o20666, dev: 0x103n }),
      // A bit no constant names, beside one that has a name; bit 31 of a number word, which `|` would make negative.
      call('mount', { source: 'x', target: '/r/x', fstype: 'x', flags: MS_NOSUID | 0x10000000000n, data: null }),
      call('open', { path: '/r', flags: O_PATH | 0x80000000, mode: 0 }),
      call('open', { path: '/r', flags: 0x80000000, mode: 0 }),
    ] as Parameters<typeof expectCalls>[1];
    const again = pasted(records);
    expect(again).toEqual(records);
    expectCalls(records, again as typeof records);
  });

  test("a run's resolved calls, pasted back, pass", () => {
    const run = runHandler(ThroughFdHandler, makeMount({ type: 'through-fd', destination: '/t' }), { sys: rootfs() });
    const calls = resolvedCalls(run);
    expect(calls.length).toBeGreaterThan(3);
    expectCalls(calls, pasted(calls) as typeof calls);
  });
});

/** A handler that mounts through descriptors, as withMountTarget does: the calls name descriptor numbers. */
@injectable()
class ThroughFdHandler implements MountHandler {
  readonly name = 'through-fd';
  readonly types = ['through-fd'];
  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}
  mount(m: MountSpec, ctx: RunContext): void {
    const root = this.sys.open(ctx.config.rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
    const name = m.destination.slice(1);
    this.sys.mkdirat(root, name, 0o755);
    const target = this.sys.openat(root, name, O_PATH | O_CLOEXEC, 0);
    this.sys.close(root);
    this.sys.mount('tmpfs', fdPath(target), 'tmpfs', MS_NOSUID, null);
    this.sys.close(target);
  }
}

describe('resolvedCalls', () => {
  const mount = makeMount({ type: 'through-fd', destination: '/t' });
  const expected = [
    call('open', { path: '/bundle/rootfs', flags: O_PATH | O_DIRECTORY | O_CLOEXEC, mode: 0 }),
    call('mkdirat', { dirfd: '/bundle/rootfs', path: 't', mode: 0o755 }),
    call('openat', { dirfd: '/bundle/rootfs', path: 't', flags: O_PATH | O_CLOEXEC, mode: 0 }),
    call('close', { fd: '/bundle/rootfs' }),
    mountCall('tmpfs', '/bundle/rootfs/t', 'tmpfs', MS_NOSUID),
    call('close', { fd: '/bundle/rootfs/t' }),
  ];

  test('the exact calls, each descriptor shown as the path it was open at, whatever numbers the fake gave', () => {
    const run = runHandler(ThroughFdHandler, mount, { sys: rootfs() });
    expectCalls(resolvedCalls(run), expected);
    expectCalls(resolvedCalls(run.sys), expected);
    // The recorded calls themselves keep the numbers; the mount's target reads as sys.mounts has it.
    expect(run.calls[1]).toEqual(call('mkdirat', { dirfd: 100, path: 't', mode: 0o755 }));
    expect(run.calls[4]).toEqual(mountCall('tmpfs', '/proc/thread-self/fd/101', 'tmpfs', MS_NOSUID));
    expect(resolvedCalls(run)[4]).toMatchObject({ target: run.sys.mounts[0].target });

    // Descriptors opened before the run: other numbers, the same list.
    const busy = rootfs().addDir('/elsewhere');
    for (let i = 0; i < 5; i++) busy.open('/elsewhere', O_PATH, 0);
    busy.clearCalls();
    const again = runHandler(ThroughFdHandler, mount, { sys: busy });
    expect(again.calls[1]).toEqual(call('mkdirat', { dirfd: 105, path: 't', mode: 0o755 }));
    expectCalls(resolvedCalls(again), expected);
    expectEffects(resolvedCalls(again), expected);
  });

  test('a descriptor is the path it held when the call was made: a number given again, one closed, a standard stream', () => {
    const sys = new FakeSyscalls().addDir('/a').addDir('/b/c');
    const a = sys.open('/a', O_PATH, 0);
    const b = sys.open('/b', O_PATH, 0);
    sys.close(a);
    expect(() => sys.fstat(a)).toThrow('EBADF');
    const copy = sys.dupCloexec(b, a);
    expect(copy).toBe(a);
    sys.fstat(copy);
    sys.stat(`/proc/self/fd/${b}/c`);
    sys.symlinkat(fdPath(b), copy, 'link');
    sys.mkdirat(AT_FDCWD, 'x', 0o700);
    sys.setCloexec(2);
    expectCalls(resolvedCalls(sys), [
      call('open', { path: '/a', flags: O_PATH, mode: 0 }),
      call('open', { path: '/b', flags: O_PATH, mode: 0 }),
      call('close', { fd: '/a' }),
      call('fstat', { fd: a }),
      call('dupCloexec', { fd: '/b', lowest: a }),
      call('fstat', { fd: '/b' }),
      call('stat', { path: '/b/c' }),
      call('symlinkat', { target: fdPath(b), dirfd: '/b', linkPath: 'link' }),
      call('mkdirat', { dirfd: AT_FDCWD, path: 'x', mode: 0o700 }),
      call('setCloexec', { fd: 2 }),
    ]);
  });

  test("a magic link inside mount data or an fsconfig value, and a command's via, are the paths their descriptors held then", () => {
    const sys = new FakeSyscalls().addDir('/layers/a').addDir('/layers/b/sub').addDir('/m').addDir('/other');
    const a = sys.open('/layers/a', O_PATH | O_CLOEXEC, 0);
    const b = sys.open('/layers/b', O_PATH | O_CLOEXEC, 0);
    const [ours] = sys.socketPair();
    const data = `lowerdir=/proc/self/fd/${a}:/proc/thread-self/fd/${b}/sub:/proc/self/fd/99,upperdir=/proc/self/fd/${a}0`;
    sys.mount('overlay', '/m', 'overlay', 0n, data);
    const context = sys.fsopen('overlay', 0);
    sys.fsconfig(context, FSCONFIG_SET_STRING, 'lowerdir', `${fdPath(a)}:${fdPath(b)}`, 0);
    const hook = { path: '/hook', args: ['x'], dir: '/', via: ours };
    sys.runCommand(hook);
    sys.runCommand({ ...hook, via: 3 });
    // A number given again later leads elsewhere; the calls before name the path it held then.
    sys.close(a);
    expect(sys.dupCloexec(sys.open('/other', O_PATH, 0), a)).toBe(a);
    sys.mount('overlay', '/m', 'overlay', 0n, `lowerdir=/proc/self/fd/${a}`);
    expectEffects(resolvedCalls(sys), [
      call('open', { path: '/layers/a', flags: O_PATH | O_CLOEXEC, mode: 0 }),
      call('open', { path: '/layers/b', flags: O_PATH | O_CLOEXEC, mode: 0 }),
      call('socketPair', {}),
      mountCall('overlay', '/m', 'overlay', 0n, `lowerdir=/layers/a:/layers/b/sub:/proc/self/fd/99,upperdir=/proc/self/fd/${a}0`),
      call('fsopen', { fstype: 'overlay', flags: 0 }),
      call('fsconfig', { fd: 'anon_inode:[fscontext]', cmd: FSCONFIG_SET_STRING, key: 'lowerdir', value: '/layers/a:/layers/b', aux: 0 }),
      call('runCommand', { cmd: { ...hook, via: 'socket:[pair 0 end 0]' } }),
      call('runCommand', { cmd: { ...hook, via: 3 } }),
      call('close', { fd: '/layers/a' }),
      call('open', { path: '/other', flags: O_PATH, mode: 0 }),
      call('dupCloexec', { fd: '/other', lowest: a }),
      mountCall('overlay', '/m', 'overlay', 0n, 'lowerdir=/other'),
    ]);
    // The recorded calls keep the numbers.
    expect(sys.callsOf('mount')[0].data).toBe(data);
    expect(sys.callsOf('runCommand')[0].cmd.via).toBe(ours);
  });

  test('a difference shows the paths quoted, as every path is', () => {
    const run = runHandler(ThroughFdHandler, mount, { sys: rootfs() });
    expect(() => expectEffects(resolvedCalls(run), [expected[0], call('mkdirat', { dirfd: '/bundle/rootfs', path: 't', mode: 0o700 })])).toThrow(
      [
        'effects differ at #1 (6 made, 2 expected)',
        'expected:',
        '    0 open("/bundle/rootfs", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0000)',
        '>   1 mkdirat("/bundle/rootfs", "t", 0700)',
        'actual:',
        '    0 open("/bundle/rootfs", O_RDONLY|O_DIRECTORY|O_CLOEXEC|O_PATH, 0000)',
        '>   1 mkdirat("/bundle/rootfs", "t", 0755)',
        '    2 openat("/bundle/rootfs", "t", O_RDONLY|O_CLOEXEC|O_PATH, 0000)',
        '    3 close("/bundle/rootfs")',
        '    4 mount("tmpfs", "/bundle/rootfs/t", "tmpfs", MS_NOSUID, NULL)',
        '    5 close("/bundle/rootfs/t")',
      ].join('\n'),
    );
  });
});

describe('config builders', () => {
  test('makeConfig is a valid minimal config; makeMount fills what the loader would', () => {
    expect(makeConfig({ hostname: 'h' })).toMatchObject({ bundle: '/bundle', rootfs: '/bundle/rootfs', namespaces: [{ type: 'mount' }], hostname: 'h' });
    expect(makeMount({ type: 'tmpfs', destination: '/tmp' })).toEqual({
      index: 0,
      type: 'tmpfs',
      source: 'tmpfs',
      destination: '/tmp',
      flags: 0n,
      clearedFlags: 0n,
      propagationFlags: [],
      data: '',
      extensions: { tmpcopyup: false },
      relabel: '',
      premountCmds: [],
      postmountCmds: [],
    });
  });

  test("mounts as config.json writes them, through fromOciSpec with makeConfig's bundle, are makeMount's with the loader's parsing", () => {
    const { mounts } = fromOciSpec({ root: { path: 'rootfs' }, mounts: [{ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=4m'] }, { destination: '/d', source: 'data', options: ['rbind', 'ro'] }] }, makeConfig().bundle);
    expect(mounts).toEqual([
      makeMount({ index: 0, type: 'tmpfs', destination: '/t', flags: MS_NOSUID, data: 'size=4m' }),
      makeMount({ index: 1, type: 'bind', source: '/bundle/data', destination: '/d', flags: MS_BIND | MS_REC | MS_RDONLY }),
    ]);
    // They run with the testkit as any other, in makeConfig's rootfs.
    const run = runHandler(markerPlugin, makeMount({ ...mounts[0], type: 'marker' }), { sys: rootfs() });
    expect(run.sys.mounts).toEqual([{ source: 'tmpfs', target: '/bundle/rootfs/t', fstype: 'tmpfs', flags: MS_NOSUID, data: null }]);
  });
});
