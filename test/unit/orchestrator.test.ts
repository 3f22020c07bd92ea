import 'reflect-metadata';
import { ConfigError, PluginError, StepError, SyscallError, syscallErrorStacks } from '../../src/core/errors';
import { createInRoot, openInRoot } from '../../src/core/in-root';
import { MS_BIND, MS_RDONLY, MS_REC } from '../../src/core/constants';
import { silentLogger } from '../../src/core/logger';
import { containerRoot, keptForRun } from '../../src/core/mounting';
import { Orchestrator, sortSteps, type StepWhere } from '../../src/core/orchestrator';
import type { MountSpec } from '../../src/core/config/model';
import { DEFAULT_MOUNT_TYPE, ORDERS, PHASES, type LifecycleStep, type MountHandler, type Order, type Phase } from '../../src/core/plugin';
import { ExecveCalled, FakeSyscalls } from '../../src/core/syscalls/fake';
import { DefaultMountHandler } from '../../src/plugins/default/handler';
import { JAIL_STAND_IN } from '../helpers/jail-stand-in';
import { memoryLogger } from '../../src/testing/logger';
import { makeConfig, makeMount } from '../helpers/config';

function recordingStep(name: string, phase: Phase, order: Order | undefined, seen: string[]): LifecycleStep {
  return { name, phase, order, run: () => void seen.push(name) };
}

function recordingHandler(name: string, types: string[], seen: string[]): MountHandler {
  return { name, types, mount: (m) => void seen.push(`${name}:${m.destination}`) };
}

describe('step ordering', () => {
  // Every phase x order cell, registered in reverse so registration order cannot pass the test.
  const cells = PHASES.flatMap((phase) => ORDERS.map((order) => ({ phase, order })));

  test('phase, then pre/normal/post, whatever the registration order', () => {
    const seen: string[] = [];
    const steps = [...cells].reverse().map((c) => recordingStep(`${c.phase}/${c.order}`, c.phase, c.order, seen));
    new Orchestrator(new FakeSyscalls(), silentLogger, [], steps).run(makeConfig(), { checkClaims: false });
    expect(seen).toEqual(cells.map((c) => `${c.phase}/${c.order}`));
  });

  test('sortSteps alone (the order plans and orderedSteps give): phase, then pre/normal/post, whatever the registration order', () => {
    const steps = [...cells].reverse().map((c) => recordingStep(`${c.phase}/${c.order}`, c.phase, c.order, []));
    expect(sortSteps(steps).map((s) => s.name)).toEqual(cells.map((c) => `${c.phase}/${c.order}`));
  });

  test.each(cells)('$phase/$order: ties keep list order', ({ phase, order }) => {
    const a = recordingStep('a', phase, order, []);
    const b = recordingStep('b', phase, order, []);
    const c = recordingStep('c', phase, order, []);
    expect(sortSteps([b, c, a]).map((s) => s.name)).toEqual(['b', 'c', 'a']);
  });

  test('a step without order runs as normal', () => {
    const seen: string[] = [];
    const steps = [
      recordingStep('post', 'dev', 'post', seen),
      recordingStep('plain', 'dev', undefined, seen),
      recordingStep('pre', 'dev', 'pre', seen),
    ];
    new Orchestrator(new FakeSyscalls(), silentLogger, [], steps).run(makeConfig(), { checkClaims: false });
    expect(seen).toEqual(['pre', 'plain', 'post']);
  });

  test('the mount loop runs after the mounts phase pre steps and before its normal steps', () => {
    const seen: string[] = [];
    const config = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/tmp' })] });
    const steps = [recordingStep('normal', 'mounts', 'normal', seen), recordingStep('pre', 'mounts', 'pre', seen)];
    new Orchestrator(new FakeSyscalls(), silentLogger, [recordingHandler('tmpfs', ['tmpfs'], seen)], steps).run(config, { checkClaims: false });
    expect(seen).toEqual(['pre', 'tmpfs:/tmp', 'normal']);
  });

  test('the before-jail callback runs between the dev and jail phases', () => {
    const seen: string[] = [];
    const steps = [recordingStep('jail', 'jail', undefined, seen), recordingStep('dev', 'dev', undefined, seen)];
    new Orchestrator(new FakeSyscalls(), silentLogger, [], steps).run(makeConfig(), { checkClaims: false,
      beforeJail: () => void seen.push('callback'),
    });
    expect(seen).toEqual(['dev', 'callback', 'jail']);
  });
});

describe('dispatch by mount type', () => {
  const mounts = [
    makeMount({ index: 0, type: 'proc', destination: '/proc' }),
    makeMount({ index: 1, type: 'overlay', destination: '/merged' }),
    makeMount({ index: 2, type: 'tmpfs', destination: '/tmp' }),
  ];

  test('the claiming handler, else the default handler', () => {
    const seen: string[] = [];
    const handlers = [
      recordingHandler('default', ['*'], seen),
      recordingHandler('proc', ['proc', 'sysfs'], seen),
      recordingHandler('tmpfs', ['tmpfs'], seen),
    ];
    new Orchestrator(new FakeSyscalls(), silentLogger, handlers, []).run(makeConfig({ mounts }), { checkClaims: false });
    expect(seen).toEqual(['proc:/proc', 'default:/merged', 'tmpfs:/tmp']);
  });

  test("the before-jail callback's ctx.log tags its lines with the name its errors give it, as a step's are tagged with the step's", () => {
    const log = memoryLogger();
    new Orchestrator(new FakeSyscalls(), log, [], []).run(makeConfig(), { checkClaims: false, beforeJail: (ctx) => ctx.log.info('about to jail', { rootfs: ctx.config.rootfs }) });
    expect(log.entries.filter((e) => e.level === 'info')).toEqual([{ level: 'info', message: 'about to jail', meta: { plugin: 'before-jail-callback', rootfs: '/bundle/rootfs' } }]);
  });

  test('a relative destination, taken from / by the loader, is a warning naming the mount, before it is mounted', () => {
    const seen: string[] = [];
    const log = memoryLogger();
    const relative = makeMount({ index: 3, type: 'tmpfs', destination: '/mnt/rel', relativeDestination: 'mnt/rel' });
    new Orchestrator(new FakeSyscalls(), log, [recordingHandler('tmpfs', ['tmpfs'], seen)], []).run(makeConfig({ mounts: [mounts[2], relative] }), { checkClaims: false });
    expect(seen).toEqual(['tmpfs:/tmp', 'tmpfs:/mnt/rel']);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([
      'mounts[3].destination "mnt/rel" is relative: taken from / as "/mnt/rel" (runtime-spec 1.2), which runc calls deprecated',
    ]);
  });

  test("tmpcopyup on a mount whose handler does not list it in its extensions (a bind): a warning naming the mount and the handler, and the mount made as runc makes it, without", () => {
    const seen: string[] = [];
    const log = memoryLogger();
    const copied = (index: number, type: string, destination: string) => makeMount({ index, type, destination, extensions: { tmpcopyup: true } });
    const tmpfs: MountHandler = { ...recordingHandler('tmpfs', ['tmpfs'], seen), extensions: ['tmpcopyup'] };
    new Orchestrator(new FakeSyscalls(), log, [tmpfs, recordingHandler('bind', ['bind'], seen)], []).run(
      makeConfig({ mounts: [copied(0, 'tmpfs', '/run'), copied(1, 'bind', '/data'), makeMount({ index: 2, type: 'bind', destination: '/srv' })] }),
      { checkClaims: false },
    );
    expect(seen).toEqual(['tmpfs:/run', 'bind:/data', 'bind:/srv']);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([
      'mounts[1].options "tmpcopyup": ignored: plugin bind, which mounts type "bind", does not do it (builtin:tmpfs does, for a tmpfs)',
    ]);
  });

  test('tmpcopyup on a mount a plugin hands on (ctx.dispatch) to a handler that does not do it: the same warning, and the mount made without', () => {
    const seen: string[] = [];
    const log = memoryLogger();
    const wrapper: MountHandler = {
      name: 'wrapper',
      types: ['wrapped'],
      mount: (m, ctx) => ctx.dispatch(makeMount({ index: m.index, type: 'bind', destination: m.destination, extensions: { tmpcopyup: true } })),
    };
    const tmpfs: MountHandler = { ...recordingHandler('tmpfs', ['tmpfs'], seen), extensions: ['tmpcopyup'] };
    new Orchestrator(new FakeSyscalls(), log, [wrapper, tmpfs, recordingHandler('bind', ['bind'], seen)], []).run(
      makeConfig({ mounts: [makeMount({ index: 4, type: 'wrapped', destination: '/data' })] }),
      { checkClaims: false },
    );
    expect(seen).toEqual(['bind:/data']);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([
      'mounts[4].options "tmpcopyup": ignored: plugin bind, which mounts type "bind", does not do it (builtin:tmpfs does, for a tmpfs)',
    ]);
  });

  test('no handler and no default handler: the config is refused before any step or call, naming the mount and its type', () => {
    const sys = new FakeSyscalls();
    const step: LifecycleStep = { name: 'first', phase: 'prepare-root', run: () => void sys.umask(0) };
    const run = () => new Orchestrator(sys, silentLogger, [], [step, JAIL_STAND_IN]).run(makeConfig({ mounts }));
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(/^mounts\[0\]\.type "proc": no plugin in the plugin list handles this mount type \(builtin:proc does\)$/);
    expect(sys.calls).toEqual([]);
  });

  test("a built-in's mount type left to builtin:default alone (a list without builtin:bind): refused before any call, as that handler would give a read-only bind read-write", () => {
    const sys = new FakeSyscalls();
    const seen: string[] = [];
    const bind = makeMount({ type: 'bind', destination: '/usr', source: '/usr', flags: MS_BIND | MS_REC | MS_RDONLY, index: 1 });
    const config = makeConfig({ mounts: [makeMount({ type: 'devpts', destination: '/dev/pts' }), bind] });
    const run = () => new Orchestrator(sys, silentLogger, [new DefaultMountHandler(sys)], [JAIL_STAND_IN]).run(config);
    expect(run).toThrow(ConfigError);
    expect(run).toThrow(
      /^mounts\[1\]\.type "bind": no plugin in the plugin list handles this mount type \(builtin:bind does; builtin:default, which takes any other type, would mount it without what builtin:bind adds\)$/,
    );
    expect(sys.calls).toEqual([]);
    // With a handler claiming bind, the run goes on: bind is that handler's.
    const withBind = new Orchestrator(new FakeSyscalls(), silentLogger, [recordingHandler('bind', ['bind'], seen), new DefaultMountHandler(new FakeSyscalls())], []);
    expect(withBind.handlerFor('bind')?.name).toBe('bind');
    // A catch-all handler of a plugin's own (not builtin:default) is trusted with every type.
    new Orchestrator(sys, silentLogger, [recordingHandler('mine', [DEFAULT_MOUNT_TYPE], seen)], [JAIL_STAND_IN]).run(config);
    expect(seen).toEqual(['mine:/dev/pts', 'mine:/usr']);
    // What tells them apart is the handler's `generic`, not its class: one of a plugin's own saying so is refused the same way.
    const generic: MountHandler = { ...recordingHandler('plain', [DEFAULT_MOUNT_TYPE], seen), generic: true };
    expect(() => new Orchestrator(sys, silentLogger, [generic], [JAIL_STAND_IN]).run(config)).toThrow(/^mounts\[1\]\.type "bind": .*would mount it without what builtin:bind adds\)$/);
    expect(seen).toEqual(['mine:/dev/pts', 'mine:/usr']);
  });

  test('no handler and no default handler, claims not checked (the testkit\'s runners): a PluginError naming the mount, at that mount', () => {
    const run = () => new Orchestrator(new FakeSyscalls(), silentLogger, [], []).run(makeConfig({ mounts }), { checkClaims: false });
    expect(run).toThrow(PluginError);
    expect(run).toThrow('mounts: plugin orchestrator mounts[0] "/proc": no handler for mount type "proc": no plugin loaded claims it (builtin:proc does)');
    const other = () => new Orchestrator(new FakeSyscalls(), silentLogger, [], []).run(makeConfig({ mounts: [makeMount({ type: 'ramfs', destination: '/r' })] }), { checkClaims: false });
    expect(other).toThrow(/^mounts: plugin orchestrator mounts\[0\] "\/r": no handler for mount type "ramfs": no plugin loaded claims it \(builtin:default takes any type\)$/);
  });

  test('a mount handed on to a type no plugin loaded claims (the claims cannot see it) names the built-in that would take it', () => {
    const parent: MountHandler = { name: 'scratch', types: ['scratch'], mount: (m, ctx) => ctx.dispatch(makeMount({ index: m.index, type: 'tmpfs', destination: m.destination })) };
    const config = makeConfig({ mounts: [makeMount({ index: 2, type: 'scratch', destination: '/s' })] });
    const run = () => new Orchestrator(new FakeSyscalls(), silentLogger, [parent], []).run(config, { checkClaims: false });
    expect(run).toThrow(PluginError);
    expect(run).toThrow(/^mounts: plugin scratch mounts\[2\] "\/s": no handler for mount type "tmpfs": no plugin loaded claims it \(builtin:tmpfs does\)$/);
  });

  test('ctx.dispatch mounts a derived mount through its own handler', () => {
    const seen: string[] = [];
    const parent: MountHandler = {
      name: 'cgroup',
      types: ['cgroup'],
      mount: (m, ctx) => ctx.dispatch(makeMount({ type: 'tmpfs', destination: m.destination })),
    };
    const config = makeConfig({ mounts: [makeMount({ type: 'cgroup', destination: '/sys/fs/cgroup' })] });
    new Orchestrator(new FakeSyscalls(), silentLogger, [parent, recordingHandler('tmpfs', ['tmpfs'], seen)], []).run(config, { checkClaims: false });
    expect(seen).toEqual(['tmpfs:/sys/fs/cgroup']);
  });

  const handingOn = (fail?: () => never) => {
    const log = memoryLogger();
    const parent: MountHandler = {
      name: 'cgroup',
      types: ['cgroup'],
      mount: (m, ctx) => {
        ctx.log.debug('handing on');
        ctx.dispatch(makeMount({ index: m.index, type: 'tmpfs', destination: `${m.destination}/inner` }));
      },
    };
    const child: MountHandler = {
      name: 'my-tmpfs',
      types: ['tmpfs'],
      mount: (_m, ctx) => {
        ctx.log.debug('mounted');
        fail?.();
      },
    };
    const config = makeConfig({ mounts: [makeMount({ index: 3, type: 'cgroup', destination: '/sys/fs/cgroup' })] });
    const run = () => new Orchestrator(new FakeSyscalls(), log, [parent, child], []).run(config, { checkClaims: false });
    return { log, run };
  };

  test('with a silent logger (whose children are itself) a mount handed on is still named by its own handler, and one a handler hands to itself is not wrapped', () => {
    const inner = new StepError('inner');
    const self: MountHandler = {
      name: 'a',
      types: ['a', 'b'],
      mount: (m, ctx) => {
        if (m.type === 'a') ctx.dispatch(makeMount({ type: 'b', destination: m.destination }));
        else throw inner;
      },
    };
    const other: MountHandler = { name: 'c', types: ['c'], mount: (m, ctx) => (m.destination === '/x' ? ctx.dispatch(makeMount({ type: 'b', destination: m.destination })) : undefined) };
    const run = (...mounts: [string, string][]) => () =>
      new Orchestrator(new FakeSyscalls(), silentLogger, [self, other], []).run(makeConfig({ mounts: mounts.map(([type, destination], index) => makeMount({ index, type, destination })) }), { checkClaims: false });
    // Handler c's context is made first; a's own dispatch is still a's.
    expect(run(['c', '/y'], ['a', '/x'])).toThrow(/^mounts: plugin a mounts\[1\] "\/x": inner$/);
    expect(run(['a', '/y'], ['c', '/x'])).toThrow(/^mounts: plugin a mounts\[0\] "\/y": inner$/);
    expect(run(['c', '/x'])).toThrow(/^mounts: plugin c mounts\[0\] "\/x": handed to plugin a "\/x": inner$/);
  });

  test("the handler a mount is handed to logs as itself, not as the plugin that handed it on", () => {
    const { log, run } = handingOn();
    run();
    expect(log.entries.filter((e) => e.meta.plugin !== undefined).map((e) => [e.meta.plugin, e.message])).toEqual([
      ['cgroup', 'handing on'],
      ['my-tmpfs', 'mounted'],
    ]);
  });

  test("its failure names the configured mount, the plugin that handed it on, and the handler and destination it was handed to; a ConfigError there keeps exit status 2", () => {
    const { run } = handingOn(() => {
      throw new SyscallError('mount', 13, ['tmpfs', '/r/sys/fs/cgroup/inner']);
    });
    expect(run).toThrow('mounts: plugin cgroup mounts[3] "/sys/fs/cgroup": handed to plugin my-tmpfs "/sys/fs/cgroup/inner": mount "tmpfs" -> "/r/sys/fs/cgroup/inner": EACCES');
    const refused = handingOn(() => {
      throw new ConfigError('mounts[3].options', 'size=x', 'bad size');
    });
    expect(refused.run).toThrow(expect.objectContaining({ exitCode: 2, message: 'mounts: plugin cgroup mounts[3] "/sys/fs/cgroup": handed to plugin my-tmpfs "/sys/fs/cgroup/inner": mounts[3].options "size=x": bad size' }));
  });
});

describe("the plugins' validate", () => {
  /** A handler that validates and mounts by recording, refusing the destinations in `refuse` with what `refusal` makes. */
  const checking = (seen: string[], refuse: string[] = [], refusal: (m: MountSpec) => unknown = (m) => new ConfigError('options', m.data, 'ramfs has no size limit')): MountHandler => ({
    name: 'ramfs',
    types: ['ramfs'],
    validate: (m, config) => {
      seen.push(`validate:${m.destination}:${config.rootfs}`);
      if (refuse.includes(m.destination)) throw refusal(m);
    },
    mount: (m) => void seen.push(`mount:${m.destination}`),
  });
  const mounts = [
    makeMount({ index: 0, type: 'ramfs', destination: '/a' }),
    makeMount({ index: 1, type: 'tmpfs', destination: '/t' }),
    makeMount({ index: 2, type: 'ramfs', destination: '/b', data: 'size=8m' }),
  ];
  const config = makeConfig({ mounts, rootfs: '/r' });

  test('checks every mount of its types, in order, before the first step and the first mount', () => {
    const seen: string[] = [];
    const steps = [recordingStep('first', 'prepare-root', 'pre', seen)];
    new Orchestrator(new FakeSyscalls(), silentLogger, [checking(seen), recordingHandler('tmpfs', ['tmpfs'], seen)], steps).run(config, { checkClaims: false });
    expect(seen).toEqual(['validate:/a:/r', 'validate:/b:/r', 'first', 'mount:/a', 'tmpfs:/t', 'mount:/b']);
  });

  test('a ConfigError refuses the run before any step or call: a ConfigError naming the mount, its destination and the plugin, exit status 2, the original as cause', () => {
    const seen: string[] = [];
    const sys = new FakeSyscalls();
    const step: LifecycleStep = { name: 'first', phase: 'prepare-root', run: () => void sys.umask(0) };
    const run = () => new Orchestrator(sys, silentLogger, [checking(seen, ['/b']), recordingHandler('tmpfs', ['tmpfs'], seen)], [step, JAIL_STAND_IN]).run(config);
    let thrown: unknown;
    try {
      run();
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ exitCode: 2, field: 'mounts[2]', value: '/b', message: 'mounts[2] "/b": plugin ramfs: options "size=8m": ramfs has no size limit' });
    expect((thrown as Error).cause).toBeInstanceOf(ConfigError);
    expect(seen).toEqual(['validate:/a:/r', 'validate:/b:/r']);
    expect(sys.calls).toEqual([]);
  });

  test('anything else it throws is a failure of the plugin in the mounts phase (exit status 1), before any call; a promise is refused', () => {
    const sys = new FakeSyscalls();
    const broken = new Orchestrator(sys, silentLogger, [checking([], ['/a'], () => new TypeError('oops')), recordingHandler('tmpfs', ['tmpfs'], [])], [JAIL_STAND_IN]);
    expect(() => broken.run(config)).toThrow(expect.objectContaining({ name: 'PluginError', exitCode: 1, message: 'mounts: plugin ramfs mounts[0] "/a": oops' }));
    const async = { name: 'ramfs', types: ['ramfs'], validate: async () => undefined, mount: () => undefined } as unknown as MountHandler;
    expect(() => new Orchestrator(sys, silentLogger, [async, recordingHandler('tmpfs', ['tmpfs'], [])], [JAIL_STAND_IN]).run(config)).toThrow(
      "mounts: plugin ramfs mounts[0] \"/a\": validate() returned a promise: a plugin's work must be done before it returns (synchronously)",
    );
    expect(sys.calls).toEqual([]);
  });

  test('checkConfig checks the claims, then the mounts; the run after it, of the same config, does not check it again', () => {
    const seen: string[] = [];
    const orchestrator = new Orchestrator(new FakeSyscalls(), silentLogger, [checking(seen, ['/a'])], [JAIL_STAND_IN]);
    // The claims first: the tmpfs mount no plugin of this list handles is what is refused.
    expect(() => orchestrator.checkConfig(config)).toThrow(/^mounts\[1\]\.type "tmpfs": no plugin/);
    expect(seen).toEqual([]);
    const fine = new Orchestrator(new FakeSyscalls(), silentLogger, [checking(seen), recordingHandler('tmpfs', ['tmpfs'], seen)], [JAIL_STAND_IN]);
    fine.checkConfig(config);
    fine.run(config);
    expect(seen).toEqual(['validate:/a:/r', 'validate:/b:/r', 'mount:/a', 'tmpfs:/t', 'mount:/b']);
  });

  test("steps' validate: after the handlers', in the order the steps run; a ConfigError keeps its field and names the plugin, before any call", () => {
    const seen: string[] = [];
    const sys = new FakeSyscalls();
    const checkingStep = (name: string, phase: Phase, refuse = false): LifecycleStep => ({
      name,
      phase,
      validate: (c) => {
        seen.push(`validate:${name}:${c.rootfs}`);
        if (refuse) throw new ConfigError('annotations["io.example/quota"]', 'lots', 'is not a size');
      },
      run: () => void sys.umask(0),
    });
    const steps = [checkingStep('late', 'finalize'), checkingStep('early', 'prepare-root')];
    new Orchestrator(sys, silentLogger, [checking(seen), recordingHandler('tmpfs', ['tmpfs'], seen)], steps).run(config, { checkClaims: false });
    expect(seen).toEqual(['validate:/a:/r', 'validate:/b:/r', 'validate:early:/r', 'validate:late:/r', 'mount:/a', 'tmpfs:/t', 'mount:/b']);
    seen.length = 0;
    sys.calls.length = 0;
    const refusing = [checkingStep('quota', 'dev', true), checkingStep('late', 'finalize')];
    const run = () => new Orchestrator(sys, silentLogger, [checking(seen), recordingHandler('tmpfs', ['tmpfs'], seen)], [...refusing, JAIL_STAND_IN]).run(config);
    expect(run).toThrow(expect.objectContaining({ name: 'ConfigError', exitCode: 2, field: 'annotations["io.example/quota"]', message: 'annotations["io.example/quota"] "lots": plugin quota: is not a size' }));
    expect(seen).toEqual(['validate:/a:/r', 'validate:/b:/r', 'validate:quota:/r']);
    expect(sys.calls).toEqual([]);
    const broken: LifecycleStep = { name: 'broken', phase: 'dev', validate: () => { throw new Error('oops'); }, run: () => undefined };
    expect(() => new Orchestrator(sys, silentLogger, [], [broken, JAIL_STAND_IN]).run(makeConfig())).toThrow(expect.objectContaining({ name: 'PluginError', exitCode: 1, message: 'dev: plugin broken: oops' }));
  });

  test('each run asks validate of its own config: another config sharing the mount list, or the same one changed since, is checked again', () => {
    const seen: string[] = [];
    const quota: LifecycleStep = {
      name: 'quota',
      phase: 'dev',
      validate: (c) => {
        seen.push(`validate:quota:${c.rootfs}`);
        if (c.annotations?.['io.example/quota'] === 'lots') throw new ConfigError('annotations["io.example/quota"]', 'lots', 'is not a size');
      },
      run: () => undefined,
    };
    const shared = [makeMount({ index: 0, type: 'ramfs', destination: '/a' })];
    const orchestrator = new Orchestrator(new FakeSyscalls(), silentLogger, [checking(seen, ['/no'])], [quota]);
    const first = makeConfig({ rootfs: '/r', mounts: shared });
    orchestrator.run(first, { checkClaims: false });
    expect(() => orchestrator.run(makeConfig({ rootfs: '/s', mounts: shared, annotations: { 'io.example/quota': 'lots' } }), { checkClaims: false })).toThrow(
      'annotations["io.example/quota"] "lots": plugin quota: is not a size',
    );
    expect(seen).toEqual(['validate:/a:/r', 'validate:quota:/r', 'mount:/a', 'validate:/a:/s', 'validate:quota:/s']);
    // An embedder's config changed in place between two runs.
    (shared as MountSpec[])[0] = makeMount({ index: 0, type: 'ramfs', destination: '/no' });
    expect(() => orchestrator.run(first, { checkClaims: false })).toThrow(expect.objectContaining({ name: 'ConfigError', field: 'mounts[0]', value: '/no' }));
  });

  test('a mount handed on (ctx.dispatch) is checked by its handler just before its mount; a refusal there keeps exit status 2 and mounts nothing', () => {
    const seen: string[] = [];
    const parent: MountHandler = { name: 'wrapper', types: ['wrapped'], mount: (m, ctx) => ctx.dispatch(makeMount({ index: m.index, type: 'ramfs', destination: `${m.destination}/in`, data: 'size=1m' })) };
    const wrapped = (destination: string) => makeConfig({ rootfs: '/r', mounts: [makeMount({ index: 4, type: 'wrapped', destination })] });
    new Orchestrator(new FakeSyscalls(), silentLogger, [parent, checking(seen, ['/no/in'])], []).run(wrapped('/w'), { checkClaims: false });
    expect(seen).toEqual(['validate:/w/in:/r', 'mount:/w/in']);
    seen.length = 0;
    const run = () => new Orchestrator(new FakeSyscalls(), silentLogger, [parent, checking(seen, ['/no/in'])], []).run(wrapped('/no'), { checkClaims: false });
    expect(run).toThrow(expect.objectContaining({ exitCode: 2, message: 'mounts: plugin wrapper mounts[4] "/no": handed to plugin ramfs "/no/in": options "size=1m": ramfs has no size limit' }));
    expect(seen).toEqual(['validate:/no/in:/r']);
  });
});

describe('a plugin returning a promise', () => {
  // Jest fails a test that leaves an unhandled rejection; the refusal takes it.
  const rejected = () => Promise.reject(new Error('async failure'));
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => void unhandled.push(reason);
  beforeEach(() => {
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => void process.off('unhandledRejection', onUnhandled));
  const settle = () => new Promise((resolve) => setImmediate(resolve));

  test.each([
    ['a handler', 'mounts: plugin ramfs mounts[0] "/ram": mount() returned a promise', (result: () => Promise<unknown>) => ({ handlers: [{ name: 'ramfs', types: ['ramfs'], mount: result } as unknown as MountHandler], steps: [] })],
    ['a step', 'finalize: plugin late: run() returned a promise', (result: () => Promise<unknown>) => ({ handlers: [], steps: [{ name: 'late', phase: 'finalize', run: result } as unknown as LifecycleStep] })],
  ])('%s is refused (its work would go on outside the run, on threads outside its mount namespace), rejected or not, and later steps do not run', async (_what, prefix, make) => {
    for (const result of [rejected, () => Promise.resolve()]) {
      const seen: string[] = [];
      const { handlers, steps } = make(result);
      const config = makeConfig({ mounts: handlers.length ? [makeMount({ type: 'ramfs', destination: '/ram' })] : [] });
      const run = () => new Orchestrator(new FakeSyscalls(), silentLogger, handlers, [...steps, recordingStep('after', 'finalize', 'post', seen)]).run(config, { checkClaims: false });
      expect(run).toThrow(`${prefix}: a plugin's work must be done before it returns (synchronously)`);
      expect(seen).toEqual([]);
    }
    await settle();
    expect(unhandled).toEqual([]);
  });

  test('so are an async handler a mount is handed to, and a before-jail callback', async () => {
    const parent: MountHandler = { name: 'cgroup', types: ['cgroup'], mount: (m, ctx) => ctx.dispatch(makeMount({ type: 'ramfs', destination: m.destination })) };
    const child = { name: 'ramfs', types: ['ramfs'], mount: async () => undefined } as unknown as MountHandler;
    const config = makeConfig({ mounts: [makeMount({ type: 'cgroup', destination: '/c' })] });
    expect(() => new Orchestrator(new FakeSyscalls(), silentLogger, [parent, child], []).run(config, { checkClaims: false })).toThrow(
      'mounts: plugin cgroup mounts[0] "/c": handed to plugin ramfs "/c": mount() returned a promise',
    );
    expect(() => new Orchestrator(new FakeSyscalls(), silentLogger, [], []).run(makeConfig(), { checkClaims: false, beforeJail: rejected as unknown as () => void })).toThrow(
      'before-jail: plugin before-jail-callback: the callback returned a promise',
    );
    await settle();
    expect(unhandled).toEqual([]);
  });

  test("another thenable is refused too, without running its then", () => {
    const then = jest.fn();
    const step = { name: 's', phase: 'dev', run: () => ({ then }) } as unknown as LifecycleStep;
    expect(() => new Orchestrator(new FakeSyscalls(), silentLogger, [], [step]).run(makeConfig(), { checkClaims: false })).toThrow('dev: plugin s: run() returned a promise');
    expect(then).not.toHaveBeenCalled();
  });

  test('a value that is not a thenable passes', () => {
    for (const value of [0, 'x', {}, { then: 1 }, null]) {
      const step = { name: 's', phase: 'dev', run: () => value } as unknown as LifecycleStep;
      expect(() => new Orchestrator(new FakeSyscalls(), silentLogger, [], [step]).run(makeConfig(), { checkClaims: false })).not.toThrow();
    }
  });
});

describe('pre- and post-mount commands', () => {
  const cmd = (path: string) => ({ path, args: ['-c', 'x'], env: ['A=1'], dir: '/' });

  test('run around their mount, in order', () => {
    const sys = new FakeSyscalls();
    const seen: string[] = [];
    const config = makeConfig({
      mounts: [makeMount({ type: 'tmpfs', destination: '/tmp', premountCmds: [cmd('/pre')], postmountCmds: [cmd('/post')] })],
    });
    const handler: MountHandler = {
      name: 'tmpfs',
      types: ['tmpfs'],
      mount: () => void seen.push(`mount after ${sys.callsOf('runCommand').length} commands`),
    };
    new Orchestrator(sys, silentLogger, [handler], []).run(config, { checkClaims: false });
    expect(seen).toEqual(['mount after 1 commands']);
    expect(sys.callsOf('runCommand')).toEqual([
      { op: 'runCommand', cmd: cmd('/pre') },
      { op: 'runCommand', cmd: cmd('/post') },
    ]);
  });

  test('a failing command stops the run with its output', () => {
    const sys = new FakeSyscalls();
    sys.commandResult = { status: 3, signal: null, output: 'no space left\n' };
    const config = makeConfig({ mounts: [makeMount({ type: 'tmpfs', destination: '/tmp', premountCmds: [cmd('/pre')] })] });
    const handler = recordingHandler('tmpfs', ['tmpfs'], []);
    const run = () => new Orchestrator(sys, silentLogger, [handler], []).run(config, { checkClaims: false });
    expect(run).toThrow('mounts: plugin premount-command mounts[0] "/tmp": command ["/pre","-c","x"] failed (exit status 3): no space left');
  });
});

describe('error wrapping', () => {
  test('a step failure becomes a PluginError naming plugin and phase, the original as cause', () => {
    const original = new SyscallError('mount', 2, ['/rootfs/proc']);
    const step: LifecycleStep = { name: 'prepare-root', phase: 'prepare-root', run: () => { throw original; } };
    let caught: unknown;
    try {
      new Orchestrator(new FakeSyscalls(), silentLogger, [], [step]).run(makeConfig(), { checkClaims: false });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PluginError);
    const e = caught as PluginError;
    expect(e.message).toBe('prepare-root: plugin prepare-root: mount "/rootfs/proc": ENOENT');
    expect([e.plugin, e.phase, e.mountIndex, e.cause, e.exitCode]).toEqual(['prepare-root', 'prepare-root', undefined, original, 1]);
  });

  test('a SyscallError carries no stack trace; the PluginError wrapping it has the one through the orchestrator', () => {
    const original = new SyscallError('openat', 2, ['/r/x']);
    expect(original.stack).toBe('SyscallError: openat "/r/x": ENOENT');
    // The limit is put back: other errors still get their frames.
    expect(new Error('other').stack).toMatch(/\n\s+at /);
    const step: LifecycleStep = { name: 'dev', phase: 'dev', run: () => { throw original; } };
    let caught: unknown;
    try {
      new Orchestrator(new FakeSyscalls(), silentLogger, [], [step]).run(makeConfig(), { checkClaims: false });
    } catch (err) {
      caught = err;
    }
    const stack = (caught as PluginError).stack;
    expect(stack).toMatch(/^PluginError: dev: plugin dev: openat "\/r\/x": ENOENT\n\s+at /);
    expect(stack).toMatch(/\n\s+at Orchestrator\.run /);
  });

  test('with syscallErrorStacks on (the CLI at --log-level debug) a SyscallError has its frames', () => {
    syscallErrorStacks(true);
    try {
      expect(new SyscallError('unshare', 1).stack).toMatch(/^SyscallError: unshare: EPERM\n\s+at /);
    } finally {
      syscallErrorStacks(false);
    }
    expect(new SyscallError('unshare', 1).stack).toBe('SyscallError: unshare: EPERM');
  });

  test('a handler failure names the mount index and destination', () => {
    const handler: MountHandler = { name: 'bind', types: ['bind'], mount: () => { throw new StepError('bad'); } };
    const config = makeConfig({ mounts: [makeMount({ index: 4, type: 'bind', destination: '/data' })] });
    const run = () => new Orchestrator(new FakeSyscalls(), silentLogger, [handler], []).run(config, { checkClaims: false });
    expect(run).toThrow('mounts: plugin bind mounts[4] "/data": bad');
  });

  test.each([
    ['a string', 'went wrong', 'went wrong'],
    ['a plain object', { code: 'EWHAT', n: 1 }, "{ code: 'EWHAT', n: 1 }"],
    ['undefined', undefined, 'undefined'],
    ['an Error whose message is no string', Object.assign(new Error(), { message: { code: 5 } }), '{ code: 5 }'],
    ['an Error whose message getter throws', Object.defineProperty(new Error(), 'message', { get: () => { throw new TypeError('getter broke'); } }), 'a thrown object that cannot be read (getter broke)'],
    ['an Error whose message getter throws a string', Object.defineProperty(new Error(), 'message', { get: () => { throw 'no'; } }), 'a thrown object that cannot be read (no)'],
    [
      'an Error whose getter throws a Proxy that throws too',
      Object.defineProperty(new Error(), 'message', { get: () => { throw new Proxy({}, { getOwnPropertyDescriptor: () => { throw new Error('again'); } }); } }),
      'a thrown object that cannot be read (object)',
    ],
  ])('%s thrown by a plugin is named as it is, on one line', (_what, thrown, shown) => {
    const step: LifecycleStep = { name: 's', phase: 'dev', run: () => { throw thrown; } };
    expect(() => new Orchestrator(new FakeSyscalls(), silentLogger, [], [step]).run(makeConfig(), { checkClaims: false })).toThrow(`dev: plugin s: ${shown}`);
  });

  test('a ConfigError inside a plugin keeps exit status 2', () => {
    const step: LifecycleStep = { name: 's', phase: 'finalize', run: () => { throw new ConfigError('linux.sysctl', 'x', 'bad'); } };
    try {
      new Orchestrator(new FakeSyscalls(), silentLogger, [], [step]).run(makeConfig(), { checkClaims: false });
      throw new Error('not reached');
    } catch (err) {
      expect((err as PluginError).exitCode).toBe(2);
    }
  });

  test('later steps do not run after a failure', () => {
    const seen: string[] = [];
    const steps = [
      { name: 'bad', phase: 'dev' as const, run: () => { throw new Error('x'); } },
      recordingStep('after', 'jail', undefined, seen),
    ];
    expect(() => new Orchestrator(new FakeSyscalls(), silentLogger, [], steps).run(makeConfig(), { checkClaims: false })).toThrow(PluginError);
    expect(seen).toEqual([]);
  });
});

describe('run context', () => {
  test('the mount table is read once per run however often it is asked for', () => {
    const sys = new FakeSyscalls();
    sys.addFile('/proc/self/mountinfo', '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/vda rw\n');
    const ask: LifecycleStep = { name: 'ask', phase: 'mounts', run: (ctx) => void ctx.mountTable() };
    new Orchestrator(sys, silentLogger, [], [ask, { ...ask, phase: 'finalize' }, { ...ask, phase: 'dev' }]).run(makeConfig(), { checkClaims: false });
    expect(sys.callsOf('readFile')).toEqual([{ op: 'readFile', path: '/proc/self/mountinfo' }]);
  });

  test('onStep is told where the pipeline is: a mount\'s commands are a step where it has some', () => {
    const where: StepWhere[] = [];
    const cmd = { path: '/c', args: [], env: [], dir: '/' };
    const config = makeConfig({
      mounts: [
        makeMount({ index: 0, type: 'tmpfs', destination: '/tmp', premountCmds: [cmd], postmountCmds: [cmd] }),
        makeMount({ index: 1, type: 'tmpfs', destination: '/run' }),
      ],
    });
    const steps = [recordingStep('jail', 'jail', undefined, [])];
    new Orchestrator(new FakeSyscalls(), silentLogger, [recordingHandler('tmpfs', ['tmpfs'], [])], steps).run(config, { checkClaims: false,
      onStep: (w) => void where.push(w),
    });
    expect(where.map((w) => `${w.phase}/${w.plugin}/${w.mountIndex ?? '-'}`)).toEqual([
      'mounts/premount-command/0',
      'mounts/tmpfs/0',
      'mounts/postmount-command/0',
      'mounts/tmpfs/1',
      'jail/jail/-',
    ]);
  });
});

describe('the rootfs kept for the run (containerRoot)', () => {
  /** A handler that opens its destination from the kept rootfs, as the mount handlers do. */
  const lookingUp = (sys: FakeSyscalls): MountHandler => ({
    name: 'look',
    types: ['look'],
    mount: (m, ctx) => sys.close(openInRoot(sys, containerRoot(sys, ctx), m.destination)),
  });
  const setup = () => {
    const sys = new FakeSyscalls();
    sys.addDir('/r/a').addDir('/r/b');
    return sys;
  };
  const mounts = (...destinations: string[]) => destinations.map((destination, index) => makeMount({ index, type: 'look', destination }));
  const opensOfRoot = (sys: FakeSyscalls) => sys.callsOf('open').filter((c) => c.path === '/r');

  test('opened once for all the mounts, closed by the jail step before it runs, with no step of its own', () => {
    const sys = setup();
    const jail: LifecycleStep = { name: 'jail', phase: 'jail', run: () => void sys.umask(0) };
    const seen: StepWhere[] = [];
    new Orchestrator(sys, silentLogger, [lookingUp(sys)], [jail]).run(makeConfig({ rootfs: '/r', mounts: mounts('/a', '/b') }), { checkClaims: false, onStep: (w) => seen.push(w) });
    expect(opensOfRoot(sys)).toHaveLength(1);
    expect(sys.calls.slice(-2)).toEqual([
      { op: 'close', fd: 100 },
      { op: 'umask', mask: 0 },
    ]);
    expect(seen.filter((w) => w.phase === 'jail')).toEqual([{ phase: 'jail', plugin: 'jail' }]);
    expect(sys.openFds()).toEqual([]);
  });

  test('a run without a jail step closes it at its end; a failing close there is a PluginError', () => {
    const run = (sys: FakeSyscalls) => () => new Orchestrator(sys, silentLogger, [lookingUp(sys)], []).run(makeConfig({ rootfs: '/r', mounts: mounts('/a') }), { checkClaims: false });
    const sys = setup();
    run(sys)();
    expect(sys.calls.at(-1)).toEqual({ op: 'close', fd: 100 });
    expect(sys.openFds()).toEqual([]);
    // close 1 is of /a's descriptor, close 2 of the kept rootfs.
    expect(run(setup().failOn('close', 'EIO', { nth: 2 }))).toThrow('finalize: plugin orchestrator: close: EIO');
  });

  test('a run that fails before the jail closes it and reports its own failure, even when that close fails', () => {
    const sys = setup();
    // close 1 is of /a's descriptor, close 2 of the kept rootfs.
    sys.failOn('close', 'EBADF', { nth: 2 });
    const failing: MountHandler = {
      name: 'boom',
      types: ['boom'],
      mount: (_m, ctx) => {
        containerRoot(sys, ctx);
        throw new StepError('no space');
      },
    };
    const config = makeConfig({ rootfs: '/r', mounts: [...mounts('/a'), makeMount({ index: 1, type: 'boom', destination: '/b' })] });
    const run = () => new Orchestrator(sys, silentLogger, [lookingUp(sys), failing], []).run(config, { checkClaims: false });
    expect(run).toThrow('mounts: plugin boom mounts[1] "/b": no space');
    expect(sys.callsOf('close')).toEqual([
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
  });

  test('a run ended by execve closes nothing after it (what was kept is close-on-exec); one ended by a failure closes what it kept', () => {
    const keeping = (sys: FakeSyscalls): MountHandler => ({
      name: 'keep',
      types: ['keep'],
      mount: (_m, ctx) => void keptForRun(ctx.shared, 'ns', () => sys.open('/r/a', 0, 0)),
    });
    const exec = (sys: FakeSyscalls): LifecycleStep => ({ name: 'exec', phase: 'finalize', order: 'post', run: () => sys.execve('/bin/true', ['true'], []) });
    const config = makeConfig({ rootfs: '/r', mounts: [makeMount({ type: 'keep', destination: '/a' })] });
    const sys = setup();
    expect(() => new Orchestrator(sys, silentLogger, [keeping(sys)], [exec(sys)]).run(config, { checkClaims: false })).toThrow(ExecveCalled);
    expect(sys.calls.at(-1)).toMatchObject({ op: 'execve' });
    const failing = setup();
    const boom: LifecycleStep = { name: 'boom', phase: 'finalize', run: () => { throw new StepError('boom'); } };
    expect(() => new Orchestrator(failing, silentLogger, [keeping(failing)], [boom]).run(config, { checkClaims: false })).toThrow('finalize: plugin boom: boom');
    expect(failing.calls.at(-1)).toEqual({ op: 'close', fd: 100 });
  });

  test('a mount command may have mounted anything: the rootfs is opened again after it', () => {
    const sys = setup();
    const [a, b] = mounts('/a', '/b');
    const config = makeConfig({ rootfs: '/r', mounts: [a, { ...b, premountCmds: [{ path: '/pre', args: [], env: [], dir: '/' }] }] });
    new Orchestrator(sys, silentLogger, [lookingUp(sys)], []).run(config, { checkClaims: false });
    expect(sys.calls.map((c) => c.op)).toEqual(['open', 'openat2', 'close', 'close', 'runCommand', 'open', 'openat2', 'close', 'close']);
  });

  test('a mount target that is the rootfs itself makes it stale: the next mount opens it again', () => {
    const sys = setup();
    const covering: MountHandler = {
      name: 'cover',
      types: ['cover'],
      mount: (m, ctx) => sys.close(createInRoot(sys, containerRoot(sys, ctx), m.destination, { vet: () => undefined }).fd),
    };
    const config = makeConfig({ rootfs: '/r', mounts: [makeMount({ index: 0, type: 'cover', destination: '/' }), ...mounts('/a', '/b').map((m) => ({ ...m, index: m.index + 1 }))] });
    new Orchestrator(sys, silentLogger, [covering, lookingUp(sys)], []).run(config, { checkClaims: false });
    // Opened for the first mount, and once again for both of the others.
    expect(opensOfRoot(sys)).toHaveLength(2);
    expect(sys.openFds()).toEqual([]);
  });
});
