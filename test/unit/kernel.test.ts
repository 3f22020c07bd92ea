import 'reflect-metadata';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { delay, inject, injectAll, injectable } from 'tsyringe';
import { ConfigError, StartupError } from '../../src/core/errors';
import { createKernel, readPluginsFile, type PluginModule } from '../../src/core/kernel';
import { MOUNT_HANDLERS, PLUGIN_OPTIONS, SYSCALLS, type LifecycleStep, type MountHandler, type RunContext } from '../../src/core/plugin';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import type { MountSpec } from '../../src/core/config/model';
import type { Syscalls } from '../../src/core/syscalls/types';
import { makeConfig, makeMount } from '../helpers/config';
import { writePluginBesideOwnCopy } from '../helpers/plugin-copy';

const fixtures = path.join(__dirname, '..', 'fixtures', 'plugins');

@injectable()
class MarkerHandler implements MountHandler {
  readonly name = 'marker';
  readonly types = ['marker'];
  constructor(
    @inject(SYSCALLS) private readonly sys: Syscalls,
    @inject(PLUGIN_OPTIONS) private readonly options: { mode: number },
  ) {}
  mount(m: MountSpec, ctx: RunContext): void {
    this.sys.mkdir(ctx.config.rootfs + m.destination, this.options.mode);
  }
}

const markerPlugin: PluginModule = { register: (api) => api.handler(MarkerHandler) };

describe('kernel wiring', () => {
  test('modules from the list and from code are injected and dispatched; options and the port reach them', () => {
    const sys = new FakeSyscalls();
    sys.addDir('/r');
    const stepPlugin: PluginModule = {
      register: (api) => {
        const step: LifecycleStep = { name: 'touch', phase: 'finalize', run: () => sys.writeFile('/r/done', String(api.options.word)) };
        api.step(step);
      },
    };
    const kernel = createKernel({
      syscalls: sys,
      plugins: { plugins: [{ module: './echo-plugin.js', options: { colour: 'blue' } }, { module: './no-register.js', enabled: false }] },
      baseDir: fixtures,
      extra: [
        { module: 'marker', plugin: markerPlugin, options: { mode: 0o700 } },
        { module: 'touch', plugin: stepPlugin, options: { word: 'yes' } },
      ],
    });
    const mounts = [makeMount({ index: 0, type: 'marker', destination: '/m' }), makeMount({ index: 1, type: 'echo', destination: '/e' })];
    const config = makeConfig({ rootfs: '/r', mounts });
    let shared: Map<string, unknown> | undefined;
    kernel.orchestrator.run(config, { beforeJail: (ctx) => void (shared = ctx.shared), checkClaims: false });
    expect(sys.effects()).toEqual([
      { op: 'mkdir', path: '/r/m', mode: 0o700 },
      { op: 'writeFile', path: '/r/done', data: 'yes', mode: undefined },
    ]);
    expect(shared?.get('echo')).toEqual({ destination: '/e', options: { colour: 'blue' } });
  });
});

describe('startup errors name the module', () => {
  const kernelWith = (module: string) => () =>
    createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module }] }, baseDir: fixtures });

  test.each([
    ['./missing.js', /^plugin module "\.\/missing\.js": cannot be found from /],
    ['no-such-package-anywhere', /^plugin module "no-such-package-anywhere": cannot be found from /],
    ['./no-register.js', /^plugin module "\.\/no-register\.js": does not export a register\(api\) function \(as `register`, or as the `register` of its default export\)$/],
    ['./throws-on-load.js', /^plugin module "\.\/throws-on-load\.js": failed to load: boom at load$/],
    ['./needs-missing-dep.js', /^plugin module "\.\/needs-missing-dep\.js": failed to load: Cannot find module 'mountkit-fixture-no-such-dependency'[^\n]*$/],
    ['./throws-on-load-lines.js', /^plugin module "\.\/throws-on-load-lines\.js": failed to load: first line$/],
    ['builtin:nope', /^plugin module "builtin:nope": no built-in plugin of that name/],
    ['builtin:constructor', /^plugin module "builtin:constructor": no built-in plugin of that name/],
  ])('%s', (module, message) => {
    expect(kernelWith(module)).toThrow(StartupError);
    expect(kernelWith(module)).toThrow(message);
  });

  test("a module whose default export has register is registered (TypeScript's `export default`; an ES module's is in test/integration/cli.test.ts)", () => {
    const kernel = kernelWith('./default-export.js')();
    expect(kernel.orchestrator.handlerFor('default-export')?.name).toBe('default-export');
  });

  test('a module claiming a type listed twice is told so; one registering steps only may be, each entry with its options', () => {
    const twice = () =>
      createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module: './echo-plugin.js' }, { module: 'builtin:proc', enabled: false }, { module: './echo-plugin.js' }] }, baseDir: fixtures });
    expect(twice).toThrow('plugin module "./echo-plugin.js": mount type "echo" is claimed twice by this module: is it listed twice?');
    const words: unknown[] = [];
    const stepOnly: PluginModule = { register: (api) => api.step({ name: 'say', phase: 'dev', run: () => void words.push(api.options.word) }) };
    const kernel = createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'say', plugin: stepOnly, options: { word: 'a' } }, { module: 'say', plugin: stepOnly, options: { word: 'b' } }] });
    kernel.orchestrator.run(makeConfig(), { checkClaims: false });
    expect(words).toEqual(['a', 'b']);
  });

  test('a register that fails in a plugin that would load another copy of mountkit says so', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-copy-'));
    try {
      const copy = writePluginBesideOwnCopy(dir);
      const run = () => createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module: './plugin.js' }] }, baseDir: dir });
      expect(run).toThrow(
        `plugin module "./plugin.js": register failed: TypeInfo not known for "Thing"; mountkit as the plugin's directory finds it is ${copy}, this command's is ${path.resolve(__dirname, '..', '..')}: a plugin and the command must share one copy of mountkit`,
      );
      // One that finds no other copy is asked about the decorator, the other cause of that message.
      const alone = mkdtempSync(path.join(tmpdir(), 'mountkit-alone-'));
      try {
        writeFileSync(path.join(alone, 'plugin.js'), readFileSync(path.join(dir, 'plugin.js')));
        expect(() => createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module: './plugin.js' }] }, baseDir: alone })).toThrow(
          /^plugin module "\.\/plugin\.js": register failed: TypeInfo not known for "Thing"; is the class "Thing" decorated with @injectable\(\), and each of its constructor's parameters with @inject\(TOKEN\) \(a handler, a step, and every class they inject\)\?$/,
        );
      } finally {
        rmSync(alone, { recursive: true, force: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    [{ name: 'evil\nname', types: ['x'], mount: (): void => undefined }, 'mount handler "evil\\nname": a name must not hold whitespace or control characters'],
    [{ name: 'two words', types: ['x'], mount: (): void => undefined }, 'mount handler "two words": a name must not hold whitespace or control characters'],
    [{ name: 'x', types: ['ok', 'tab\there'], mount: (): void => undefined }, 'mount handler "x": mount type "tab\\there" holds whitespace or control characters'],
  ])('a handler whose name or type would break a one-line error: %j', (handler, message) => {
    const run = () =>
      createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'bad', plugin: { register: (api) => api.handler(handler as unknown as MountHandler) } }] });
    expect(run).toThrow(`plugin module "bad": ${message}`);
  });

  test('a step whose name holds a control character', () => {
    const step = { name: 'bell\u0007', phase: 'dev', run: (): void => undefined };
    const run = () =>
      createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'bad', plugin: { register: (api) => api.step(step as unknown as LifecycleStep) } }] });
    expect(run).toThrow('plugin module "bad": step "bell\\u0007": a name must not hold whitespace or control characters');
  });

  test('two handlers claiming one mount type', () => {
    const run = () =>
      createKernel({
        syscalls: new FakeSyscalls(),
        extra: [
          { module: 'first', plugin: markerPlugin },
          { module: 'second', plugin: markerPlugin },
        ],
        plugins: { plugins: [] },
      });
    expect(run).toThrow('plugin module "second": mount type "marker" is already claimed by "first"');
  });

  test.each([
    [{ types: ['x'], mount: (): void => undefined }, 'a mount handler needs a name (a non-empty string)'],
    [{ name: 'x', types: [], mount: (): void => undefined }, 'mount handler "x": types must be a non-empty list of mount types'],
    [{ name: 'x', types: ['ok', ''], mount: (): void => undefined }, 'mount handler "x": types must be a non-empty list of mount types'],
    [{ name: 'x', types: ['x'] }, 'mount handler "x": mount must be a function'],
  ])('a handler registered without what it needs: %j', (handler, message) => {
    const run = () =>
      createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'bad', plugin: { register: (api) => api.handler(handler as unknown as MountHandler) } }] });
    expect(run).toThrow(StartupError);
    expect(run).toThrow(`plugin module "bad": ${message}`);
  });

  test.each([
    [{ phase: 'mounts', run: (): void => undefined }, 'a lifecycle step needs a name (a non-empty string)'],
    [{ name: 's', phase: 'after-mounts', run: (): void => undefined }, 'step "s": phase "after-mounts" is not one of prepare-root, mounts, dev, before-jail, jail, after-jail, finalize'],
    [{ name: 's', phase: 'dev', order: 'late', run: (): void => undefined }, 'step "s": order "late" is not one of pre, normal, post'],
    [{ name: 's', phase: 'dev' }, 'step "s": run must be a function'],
    [{ name: 's', phase: 'finalize', handles: 'linux.maskedPaths', run: (): void => undefined }, 'step "s": handles must be a list of what the step carries out (linux.rootfsPropagation, linux.devices, hostname, domainname, linux.namespaces.network, hooks.prestart, hooks.createRuntime, hooks.createContainer, root.path, mounts.readonly, root.readonly, linux.sysctl, linux.readonlyPaths, linux.maskedPaths)'],
    [{ name: 's', phase: 'finalize', handles: ['linux.maskedpaths'], run: (): void => undefined }, 'step "s": handles "linux.maskedpaths" is not one of linux.rootfsPropagation, linux.devices, hostname, domainname, linux.namespaces.network, hooks.prestart, hooks.createRuntime, hooks.createContainer, root.path, mounts.readonly, root.readonly, linux.sysctl, linux.readonlyPaths, linux.maskedPaths'],
  ])('a step that would never run, cannot be named, or says it handles what no config asks: %j', (step, message) => {
    const run = () =>
      createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'bad', plugin: { register: (api) => api.step(step as unknown as LifecycleStep) } }] });
    expect(run).toThrow(StartupError);
    expect(run).toThrow(`plugin module "bad": ${message}`);
  });

  test("a handler class without @injectable() and with a constructor parameter: tsyringe's message, and the question of the decorator", () => {
    class Undecorated implements MountHandler {
      readonly name = 'undecorated';
      readonly types = ['undecorated'];
      constructor(readonly sys: Syscalls) {}
      mount(): void {}
    }
    const run = () => createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'mine', plugin: { register: (api) => api.handler(Undecorated) } }] });
    expect(run).toThrow(StartupError);
    expect(run).toThrow('plugin module "mine": register failed: TypeInfo not known for "Undecorated"; is the class "Undecorated" decorated with @injectable(), and each of its constructor\'s parameters with @inject(TOKEN) (a handler, a step, and every class they inject)?');
  });

  // The decorators below are applied as functions: their syntax here would emit design:paramtypes (this
  // repository's tsconfig has emitDecoratorMetadata), which a plugin built as docs/plugins.md builds it has not.
  const registering = (what: 'handler' | 'step', cls: new (...args: never[]) => MountHandler | LifecycleStep) => () =>
    createKernel({
      syscalls: new FakeSyscalls(),
      plugins: { plugins: [] },
      extra: [{ module: 'mine', plugin: { register: (api) => (what === 'handler' ? api.handler(cls as never) : api.step(cls as never)) } }],
    });
  const untokened = (position: string) =>
    `plugin module "mine": class ${position} has no @inject(TOKEN), so it would be given undefined: add @inject(SYSCALLS), @inject(LOGGER), @inject(PLUGIN_OPTIONS) or the token of what it needs`;

  test('a handler class with @injectable() whose only constructor parameter has no @inject (no emitDecoratorMetadata, as plugins are built): refused as it registers, naming the parameter', () => {
    class Untokened implements MountHandler {
      readonly name = 'untokened';
      readonly types = ['untokened'];
      constructor(readonly sys: Syscalls) {}
      mount(): void {}
    }
    injectable()(Untokened);
    expect(registering('handler', Untokened)).toThrow(StartupError);
    expect(registering('handler', Untokened)).toThrow(untokened('"Untokened": constructor parameter 1 (sys)'));
  });

  test('a class whose 2nd constructor parameter has no @inject beside a 1st with one: refused as it registers, in one line naming the module, the class and the parameter, not given undefined', () => {
    let built = 0;
    class Half implements MountHandler {
      readonly name = 'half';
      readonly types = ['half'];
      constructor(
        readonly sys: Syscalls,
        readonly options: Record<string, unknown>,
      ) {
        built++;
      }
      mount(): void {}
    }
    inject(SYSCALLS)(Half, undefined, 0);
    injectable()(Half);
    expect(registering('handler', Half)).toThrow(StartupError);
    expect(registering('handler', Half)).toThrow(untokened('"Half": constructor parameter 2 (options)'));
    expect(registering('handler', Half)).toThrow(/^[^\n]*$/);
    expect(built).toBe(0);

    // A step, and a 1st parameter without a token before a 2nd with one (tsyringe's list has a hole there).
    class FirstMissing implements LifecycleStep {
      readonly name = 'first-missing';
      readonly phase = 'dev';
      constructor(
        readonly log: unknown,
        readonly sys: Syscalls,
      ) {}
      run(): void {}
    }
    inject(SYSCALLS)(FirstMissing, undefined, 1);
    injectable()(FirstMissing);
    expect(registering('step', FirstMissing)).toThrow(untokened('"FirstMissing": constructor parameter 1 (log)'));
  });

  test('parameters that need no token: a default value, a rest one, a class type with emitDecoratorMetadata (the built-ins, this file); a parameter list not of plain names leaves the name out', () => {
    class Defaults implements MountHandler {
      readonly name = 'defaults';
      readonly types = ['defaults'];
      constructor(
        readonly sys: Syscalls,
        readonly mode = 0o755,
        ...rest: unknown[]
      ) {
        expect(rest).toEqual([]);
      }
      mount(): void {}
    }
    inject(SYSCALLS)(Defaults, undefined, 0);
    injectable()(Defaults);
    expect(() => registering('handler', Defaults)()).not.toThrow();

    // Built by its design:paramtypes type, as tsyringe does.
    @injectable()
    class Helper {
      readonly made = true;
    }
    @injectable()
    class WithHelper implements MountHandler {
      readonly name = 'with-helper';
      readonly types = ['with-helper'];
      constructor(
        @inject(SYSCALLS) readonly sys: Syscalls,
        readonly helper: Helper,
      ) {}
      mount(): void {}
    }
    const kernel = registering('handler', WithHelper)();
    expect(kernel.container.resolveAll<MountHandler>(MOUNT_HANDLERS).map((h) => (h as WithHelper).helper?.made)).toEqual([true]);

    class Destructured implements MountHandler {
      readonly name = 'destructured';
      readonly types = ['destructured'];
      readonly size: unknown;
      constructor(sys: Syscalls, { size }: { size?: unknown }) {
        void sys;
        this.size = size;
      }
      mount(): void {}
    }
    inject(SYSCALLS)(Destructured, undefined, 0);
    injectable()(Destructured);
    expect(registering('handler', Destructured)).toThrow(untokened('"Destructured": constructor parameter 2'));
  });

  test('a class a plugin class injects by class (@inject(Helper)), and the classes that one injects: a parameter without a token is refused in one line naming the path', () => {
    let built = 0;
    class Leaf {
      constructor(readonly opts: unknown) {
        built++;
      }
    }
    injectable()(Leaf);
    class Middle {
      constructor(
        readonly sys: Syscalls,
        readonly leaf: Leaf,
      ) {}
    }
    inject(SYSCALLS)(Middle, undefined, 0);
    inject(Leaf)(Middle, undefined, 1);
    injectable()(Middle);
    class Top implements MountHandler {
      readonly name = 'top';
      readonly types = ['top'];
      constructor(readonly middle: Middle) {}
      mount(): void {}
    }
    inject(Middle)(Top, undefined, 0);
    injectable()(Top);
    expect(registering('handler', Top)).toThrow(StartupError);
    expect(registering('handler', Top)).toThrow(untokened('"Top" -> "Middle" -> "Leaf": constructor parameter 1 (opts)'));
    expect(registering('handler', Top)).toThrow(/^[^\n]*$/);
    expect(built).toBe(0);

    // Through a step, @injectAll's descriptor, and delay(() => Class).
    class Lazy {
      constructor(readonly log: unknown) {}
    }
    injectable()(Lazy);
    class Collecting implements LifecycleStep {
      readonly name = 'collecting';
      readonly phase = 'dev';
      constructor(
        readonly all: unknown[],
        readonly lazy: Lazy,
      ) {}
      run(): void {}
    }
    injectAll(Leaf)(Collecting, undefined, 0);
    inject(delay(() => Lazy))(Collecting, undefined, 1);
    injectable()(Collecting);
    expect(registering('step', Collecting)).toThrow(untokened('"Collecting" -> "Leaf": constructor parameter 1 (opts)'));
  });

  test('class tokens that form a cycle end the walk; a class token the plugin registered a provider for is not followed', () => {
    class Ping {
      constructor(readonly pong: unknown) {}
    }
    class Pong {
      constructor(readonly ping: unknown) {}
    }
    inject(delay(() => Pong))(Ping, undefined, 0);
    injectable()(Ping);
    inject(delay(() => Ping))(Pong, undefined, 0);
    injectable()(Pong);
    class Cyclic implements MountHandler {
      readonly name = 'cyclic';
      readonly types = ['cyclic'];
      constructor(readonly ping: Ping) {}
      mount(): void {}
    }
    inject(Ping)(Cyclic, undefined, 0);
    injectable()(Cyclic);
    expect(() => registering('handler', Cyclic)()).not.toThrow();

    class Untokened {
      constructor(readonly value: unknown) {}
    }
    injectable()(Untokened);
    class Provided implements MountHandler {
      readonly name = 'provided';
      readonly types = ['provided'];
      constructor(readonly u: Untokened) {}
      mount(): void {}
    }
    inject(Untokened)(Provided, undefined, 0);
    injectable()(Provided);
    expect(registering('handler', Provided)).toThrow(untokened('"Provided" -> "Untokened": constructor parameter 1 (value)'));
    const kernel = createKernel({
      syscalls: new FakeSyscalls(),
      plugins: { plugins: [] },
      extra: [
        {
          module: 'mine',
          plugin: {
            register: (api) => {
              api.container.register(Untokened, { useValue: new Untokened('given') });
              api.handler(Provided);
            },
          },
        },
      ],
    });
    expect(kernel.container.resolveAll<MountHandler>(MOUNT_HANDLERS).map((h) => (h as Provided).u.value)).toEqual(['given']);
  });

  test("what the constructor of a class a plugin class injects throws: one line, the path to that class, then the error's own message", () => {
    class Mode {
      readonly mode: string;
      constructor(options: { mode?: unknown }) {
        if (typeof options.mode !== 'string') throw new ConfigError('options.mode', options.mode, 'must be an octal mode such as "755"');
        this.mode = options.mode;
      }
    }
    inject(PLUGIN_OPTIONS)(Mode, undefined, 0);
    injectable()(Mode);
    class Settings {
      constructor(readonly mode: Mode) {}
    }
    inject(Mode)(Settings, undefined, 0);
    injectable()(Settings);
    class Ram implements MountHandler {
      readonly name = 'ram';
      readonly types = ['ram'];
      constructor(
        readonly sys: Syscalls,
        readonly settings: Settings,
      ) {}
      mount(): void {}
    }
    inject(SYSCALLS)(Ram, undefined, 0);
    inject(Settings)(Ram, undefined, 1);
    injectable()(Ram);
    const run = () => createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'mine', plugin: { register: (api) => api.handler(Ram) }, options: { mode: 7 } }] });
    expect(run).toThrow(StartupError);
    expect(run).toThrow(/^plugin module "mine": register failed: class "Ram" -> "Settings" -> "Mode": options\.mode 7: must be an octal mode such as "755"$/);

    // An injected class without @injectable(): its question; a token nothing provides: the parameter.
    class Bare {
      constructor(readonly x: unknown) {}
    }
    class WithBare {
      constructor(readonly bare: Bare) {}
    }
    inject(Bare)(WithBare, undefined, 0);
    injectable()(WithBare);
    expect(registering('step', WithBare as never)).toThrow(
      'plugin module "mine": register failed: class "WithBare" -> "Bare": TypeInfo not known for "Bare"; is the class "Bare" decorated with @injectable(), and each of its constructor\'s parameters with @inject(TOKEN) (a handler, a step, and every class they inject)?',
    );
    class Unprovided implements MountHandler {
      readonly name = 'unprovided';
      readonly types = ['unprovided'];
      constructor(readonly clock: unknown) {}
      mount(): void {}
    }
    inject('clock')(Unprovided, undefined, 0);
    injectable()(Unprovided);
    expect(registering('handler', Unprovided)).toThrow(/^plugin module "mine": register failed: class "Unprovided", constructor parameter 1 \(clock\): Attempted to resolve unregistered dependency token: "clock"$/);
  });

  test('a register function that throws', () => {
    const run = () =>
      createKernel({
        syscalls: new FakeSyscalls(),
        plugins: { plugins: [] },
        extra: [{ module: 'bad', plugin: { register: () => { throw new Error('nope'); } } }],
      });
    expect(run).toThrow('plugin module "bad": register failed: nope');
  });
});

describe('readPluginsFile', () => {
  const withFile = (content: unknown) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-plugins-'));
    const file = path.join(dir, 'plugins.json');
    writeFileSync(file, JSON.stringify(content));
    return { file, cleanup: () => rmSync(dir, { recursive: true }) };
  };

  test.each([
    [{ plugins: [{ module: 'a', enable: false }] }, 'plugins[0].enable: is not a key of a plugin entry (module, enabled, options)'],
    [{ plugins: [{ module: 'a' }, { module: 'b', option: {} }] }, 'plugins[1].option: is not a key of a plugin entry (module, enabled, options)'],
    [{ plugins: ['builtin:proc'] }, 'plugins[0] "builtin:proc": must be an object'],
    [{ plugins: [{ module: '' }] }, 'plugins[0].module "": must be a non-empty string'],
    [{ plugins: [{ module: 'a', enabled: 'no' }] }, 'plugins[0].enabled "no": must be a boolean'],
    [{ plugin: [] }, 'plugins: is required'],
  ])('%j is refused, naming the file and the entry', (content, message) => {
    const { file, cleanup } = withFile(content);
    try {
      expect(() => readPluginsFile(file)).toThrow(`${file}: ${message}`);
    } finally {
      cleanup();
    }
  });

  test('an entry with every key it may have is read as written', () => {
    const { file, cleanup } = withFile({ plugins: [{ module: 'a', enabled: false, options: { x: 1 } }] });
    try {
      expect(readPluginsFile(file)).toEqual({ plugins: [{ module: 'a', enabled: false, options: { x: 1 } }] });
    } finally {
      cleanup();
    }
  });
});

describe('a plugin list and extra modules given in code are checked as plugins.json is', () => {
  const stepOnly: PluginModule = { register: (api) => api.step({ name: 'mine', phase: 'finalize', run: () => undefined }) };
  test.each<[string, Partial<Parameters<typeof createKernel>[0]>, string]>([
    ['enabled as the string "false" (the entry would load)', { plugins: { plugins: [{ module: 'builtin:exec', enabled: 'false' as unknown as boolean }] } }, 'plugins.plugins[0].enabled "false": must be a boolean'],
    ['a misspelt key (the entry would load)', { plugins: { plugins: [{ module: 'builtin:exec', enable: false } as never] } }, 'plugins.plugins[0].enable: is not a key of a plugin entry (module, enabled, options)'],
    ['an entry that is null', { plugins: { plugins: [null as never] } }, 'plugins.plugins[0] null: must be an object'],
    ['options that are a string', { plugins: { plugins: [{ module: 'builtin:tmpfs', options: 'x' as never }] } }, 'plugins.plugins[0].options "x": must be an object'],
    ['the entries without their object', { plugins: [{ module: 'builtin:tmpfs' }] as never }, 'plugins [{"module":"builtin:tmpfs"}]: must be a plugins file as an object, { plugins: [...] }'],
    ['extra as one module, not a list', { extra: { module: 'mine', plugin: stepOnly } as never }, 'extra {"module":"mine","plugin":{}}: must be an array of { module, plugin, options? }'],
    ['an extra module without a name', { extra: [{ module: '', plugin: stepOnly }] }, 'extra[0].module "": must be a non-empty string'],
    ['a misspelt key of an extra module (its options would be dropped)', { extra: [{ module: 'mine', plugin: stepOnly, option: { a: 1 } } as never] }, 'extra[0].option: is not a key of an extra module (module, plugin, options)'],
    ['an extra module given by name', { extra: [{ module: 'mine', plugin: 'builtin:tmpfs' as never }] }, 'plugin module "mine": has no register(api) function: `plugin` must be the module, an object with one'],
  ])('%s', (_what, opts, message) => {
    expect(() => createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, ...opts })).toThrow(message);
  });

  test('a list with enabled: false leaves the entry out', () => {
    const kernel = createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module: 'builtin:exec', enabled: false }] } });
    expect(kernel.orchestrator.orderedSteps()).toEqual([]);
  });
});

describe('register must be synchronous', () => {
  test('a register that returns a promise stops start-up, and its rejection goes nowhere else', async () => {
    const rejected: unknown[] = [];
    const onRejection = (reason: unknown) => rejected.push(reason);
    process.on('unhandledRejection', onRejection);
    try {
      const late: PluginModule = {
        register: async (api) => {
          await Promise.resolve();
          api.handler({ name: 'late', types: ['late'], mount: () => undefined });
        },
      };
      expect(() => createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'async-plugin', plugin: late }] })).toThrow(
        new StartupError('async-plugin', 'register returned a promise: a plugin adds its handlers and steps before register returns (synchronously)'),
      );
      await new Promise((resolve) => setImmediate(resolve));
      expect(rejected).toEqual([]);
    } finally {
      process.off('unhandledRejection', onRejection);
    }
  });

  test('a handler or step added after register returned is refused, naming the module', () => {
    let kept: Parameters<PluginModule['register']>[0] | undefined;
    createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'keeper', plugin: { register: (api) => void (kept = api) } }] });
    expect(() => kept!.handler({ name: 'late', types: ['late'], mount: () => undefined })).toThrow('plugin module "keeper": added a mount handler after register returned: the run was set up without it');
    expect(() => kept!.step({ name: 'late', phase: 'finalize', run: () => undefined })).toThrow('plugin module "keeper": added a lifecycle step after register returned: the run was set up without it');
  });
});
