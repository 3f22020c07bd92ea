import 'reflect-metadata';
import type { HookSpec, RootfsConfig } from '../../../src/core/config/model';
import { createKernel } from '../../../src/core/kernel';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { LifecycleStep, RunContext } from '../../../src/core/plugin';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import type { CommandResult, CommandSpec } from '../../../src/core/syscalls/types';
import * as hooksPlugin from '../../../src/plugins/hooks';
import { OomScoreAdjStep, OomScoreAfterHooksStep } from '../../../src/plugins/exec';
import { CreateContainerHooksStep, OciHooksStep } from '../../../src/plugins/hooks';
import { CONTAINER_ID_KEY, CONTAINER_PID_KEY, containerIdProblem, hookCommand, hookFailure, ociState } from '../../../src/core/hooks';
import { memoryLogger } from '../../../src/testing/logger';
import { makeConfig } from '../../helpers/config';

function hook(path: string, over: Partial<HookSpec> = {}): HookSpec {
  return { path, args: [], env: [], ...over };
}

/** Puts values in ctx.shared before the hooks run, as an embedder's step would. */
function sharing(values: Record<string, unknown>): LifecycleStep {
  return {
    name: 'share',
    phase: 'prepare-root',
    run: (ctx: RunContext) => Object.entries(values).forEach(([k, v]) => ctx.shared.set(k, v)),
  };
}

function setup(shared: Record<string, unknown> = {}, log = silentLogger, over: Partial<RootfsConfig> = {}) {
  const sys = new FakeSyscalls();
  const run = (hooks: Partial<RootfsConfig['hooks']>) =>
    new Orchestrator(sys, log, [], [sharing(shared), new OciHooksStep(sys), new CreateContainerHooksStep(sys)]).run(
      makeConfig({ bundle: '/bundles/web-1', rootfs: '/bundles/web-1/rootfs', hooks: { prestart: [], createRuntime: [], ...hooks }, ...over }),
      { checkClaims: false },
    );
  return { sys, run };
}

const STATE = JSON.stringify({ ociVersion: '1.0.2', id: 'web-1', status: 'creating', pid: 0, bundle: '/bundles/web-1' });

describe('hook state and command', () => {
  test.each([
    ['nothing shared: bundle name and pid 0', {}, { id: 'web-1', pid: 0 }],
    ['shared id and pid', { [CONTAINER_ID_KEY]: 'c0ffee', [CONTAINER_PID_KEY]: 4242 }, { id: 'c0ffee', pid: 4242 }],
  ])('%s', (_name, values, expected) => {
    expect(ociState(new Map(Object.entries(values)), { bundle: '/bundles/web-1' })).toEqual({
      ociVersion: '1.0.2',
      status: 'creating',
      bundle: '/bundles/web-1',
      ...expected,
    });
  });

  test.each([
    ['the config\'s id (mountkit run ID) over the bundle name', {}, { id: 'db-7', pid: 0 }],
    ['a shared id over the config\'s', { [CONTAINER_ID_KEY]: 'c0ffee' }, { id: 'c0ffee', pid: 0 }],
  ])('%s', (_name, values, expected) => {
    expect(ociState(new Map(Object.entries(values)), { bundle: '/bundles/web-1', id: 'db-7' })).toEqual({
      ociVersion: '1.0.2',
      status: 'creating',
      bundle: '/bundles/web-1',
      ...expected,
    });
  });

  test.each<[string, string | undefined]>([
    ['c0ffee', undefined],
    ['web_1.a+b,c-d', undefined],
    ['...', undefined],
    ['-', undefined],
    ['', 'must not be empty'],
    ['.', 'must not be . or .. (as runc takes an id)'],
    ['..', 'must not be . or .. (as runc takes an id)'],
    ['a/b', 'may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
    ['a b', 'may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
    ['a:b', 'may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
    ['caf\u00e9', 'may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
    ['a\nb', 'may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
  ])('container id %j: %s', (id, problem) => {
    expect(containerIdProblem(id)).toBe(problem);
  });

  test.each([
    [CONTAINER_ID_KEY, 7, 'shared "container.id" must be a string, got number'],
    [CONTAINER_PID_KEY, '7', 'shared "container.pid" must be a number, got string'],
  ])('a shared %s of the wrong type is refused', (key, value, message) => {
    expect(() => ociState(new Map([[key, value]]), { bundle: '/b' })).toThrow(message);
  });

  test.each([
    ['../x', 'shared "container.id" "../x": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'],
    ['..', 'shared "container.id" "..": must not be . or .. (as runc takes an id)'],
    ['', 'shared "container.id" "": must not be empty'],
  ])('a shared container.id %j that runc would refuse is refused, before any hook gets it', (id, message) => {
    expect(() => ociState(new Map([[CONTAINER_ID_KEY, id]]), { bundle: '/b', id: 'web-1' })).toThrow(message);
    const { sys, run } = setup({ [CONTAINER_ID_KEY]: id });
    expect(() => run({ prestart: [hook('/h1')] })).toThrow(`before-jail: plugin hooks: ${message}`);
    expect(sys.callsOf('runCommand')).toEqual([]);
  });

  test('the config\'s annotations, as runc gives them; none or an empty map leaves the field out', () => {
    const annotations = { 'org.example/owner': 'team-a', 'io.kubernetes.cri.sandbox-id': 'c0ffee' };
    expect(ociState(new Map(), { bundle: '/b', annotations })).toMatchObject({ annotations });
    expect(ociState(new Map(), { bundle: '/b', annotations: {} })).not.toHaveProperty('annotations');
    expect(ociState(new Map(), { bundle: '/b' })).not.toHaveProperty('annotations');
  });

  test.each<[string, HookSpec, CommandSpec]>([
    ['no args: argv[0] is the path', hook('/bin/h'), { path: '/bin/h', args: [], env: [], dir: '/b', stdin: '{}' }],
    [
      'args[0] is argv[0], the rest are the arguments',
      hook('/usr/bin/fix-mounts', { args: ['fix-mounts', 'a', 'b'], env: ['K=V'] }),
      { path: '/usr/bin/fix-mounts', args: ['a', 'b'], env: ['K=V'], dir: '/b', stdin: '{}', argv0: 'fix-mounts' },
    ],
    ['args of one: it is argv[0], with no arguments', hook('/usr/bin/fix-mounts', { args: ['fix'] }), { path: '/usr/bin/fix-mounts', args: [], env: [], dir: '/b', stdin: '{}', argv0: 'fix' }],
    ['timeout in seconds becomes milliseconds', hook('/bin/h', { timeout: 5 }), { path: '/bin/h', args: [], env: [], dir: '/b', stdin: '{}', timeoutMs: 5000 }],
  ])('%s', (_name, spec, expected) => {
    const state = { ociVersion: '1.0.2', id: 'x', status: 'creating' as const, pid: 0, bundle: '/b' };
    expect(hookCommand(spec, state)).toEqual({ ...expected, stdin: JSON.stringify(state) });
  });

  test.each<[string, string[] | undefined, string[] | undefined, string[] | undefined]>([
    ["no env and no default: no env in the command, which runs with its runner's (runc's runtime hooks get runc's)", undefined, undefined, undefined],
    ['no env: the default (a createContainer or startContainer hook: the container\'s)', undefined, ['PATH=/bin'], ['PATH=/bin']],
    ['an empty env is none, not the default (runc gives none)', [], ['PATH=/bin'], []],
    ['its own env', ['K=V'], ['PATH=/bin'], ['K=V']],
  ])('%s', (_name, env, defaultEnv, expected) => {
    const state = { ociVersion: '1.0.2', id: 'x', status: 'creating' as const, pid: 0, bundle: '/b' };
    const cmd = hookCommand({ path: '/bin/h', args: [], ...(env === undefined ? {} : { env }) }, state, '/b', defaultEnv);
    if (expected === undefined) expect(cmd).not.toHaveProperty('env');
    else expect(cmd.env).toEqual(expected);
  });

  test.each<[string, HookSpec, CommandResult, string | undefined]>([
    ['exit 0', hook('/h'), { status: 0, signal: null, output: 'chatty' }, undefined],
    ['exit 3 with output', hook('/h'), { status: 3, signal: null, output: 'boom\n' }, 'failed (exit status 3): boom'],
    ['exit 1 without output', hook('/h'), { status: 1, signal: null, output: '  ' }, 'failed (exit status 1)'],
    ['a signal', hook('/h'), { status: null, signal: 'SIGKILL', output: '' }, 'failed (killed by SIGKILL)'],
    ['a signal, with a timeout it did not reach', hook('/h', { timeout: 2 }), { status: null, signal: 'SIGTERM', output: '' }, 'failed (killed by SIGTERM)'],
    ['past its timeout: killed by SIGKILL', hook('/h', { timeout: 2 }), { status: null, signal: 'SIGKILL', output: 'slow', timedOut: true }, 'failed (ran past its timeout of 2s, killed by SIGKILL): slow'],
    ['past its timeout, though it ended with 0 (as runc fails it)', hook('/h', { timeout: 2 }), { status: 0, signal: null, output: '', timedOut: true }, 'failed (ran past its timeout of 2s, killed by SIGKILL)'],
    ['output of several lines, quoted on one', hook('/h'), { status: 3, signal: null, output: 'line1\nmountkit: a line of its own\n' }, 'failed (exit status 3): "line1\\nmountkit: a line of its own"'],
    ['a terminal escape, quoted', hook('/h'), { status: 1, signal: null, output: 'red \u001b[31mtext' }, 'failed (exit status 1): "red \\u001b[31mtext"'],
    ['DEL and a C1 control (CSI), escaped too', hook('/h'), { status: 1, signal: null, output: 'a\u007fb\u009b31mc' }, 'failed (exit status 1): "a\\u007fb\\u009b31mc"'],
  ])('%s', (_name, spec, result, expected) => {
    expect(hookFailure(spec, result)).toBe(expected);
  });
});

describe('hooks step', () => {
  test('prestart hooks run first, then createRuntime, each list in order, with the state on stdin, its pid the host\'s /proc/self', () => {
    const { sys, run } = setup();
    sys.addSymlink('/proc/self', '4711');
    run({
      createRuntime: [hook('/hooks/cr1', { args: ['cr1', '--x'], env: ['A=1'] }), hook('/hooks/cr2', { timeout: 3 })],
      prestart: [hook('/hooks/pre1')],
    });
    const state = STATE.replace('"pid":0', '"pid":4711');
    expect(sys.effects()).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/pre1', args: [], env: [], dir: '/bundles/web-1', stdin: state } },
      { op: 'runCommand', cmd: { path: '/hooks/cr1', args: ['--x'], env: ['A=1'], dir: '/bundles/web-1', stdin: state, argv0: 'cr1' } },
      { op: 'runCommand', cmd: { path: '/hooks/cr2', args: [], env: [], dir: '/bundles/web-1', stdin: state, timeoutMs: 3000 } },
    ]);
  });

  test('the state carries the shared container id and pid', () => {
    const { sys, run } = setup({ [CONTAINER_ID_KEY]: 'c0ffee', [CONTAINER_PID_KEY]: 4242 });
    run({ createRuntime: [hook('/h')] });
    expect(JSON.parse(sys.callsOf('runCommand')[0].cmd.stdin ?? '')).toEqual({
      ociVersion: '1.0.2',
      id: 'c0ffee',
      status: 'creating',
      pid: 4242,
      bundle: '/bundles/web-1',
    });
  });

  test('the state carries the config\'s annotations, to every hook of the run', () => {
    const annotations = { 'org.example/owner': 'team-a' };
    const { sys, run } = setup({}, silentLogger, { annotations });
    run({ prestart: [hook('/h1')], createContainer: [hook('/h2')] });
    expect(sys.callsOf('runCommand').map((c) => JSON.parse(c.cmd.stdin ?? '').annotations)).toEqual([annotations, annotations]);
  });

  test('no hooks: nothing runs', () => {
    const { sys, run } = setup({ [CONTAINER_ID_KEY]: 7 });
    run({});
    expect(sys.calls).toEqual([]);
  });

  test('a failing hook stops the run with its path and output; later hooks do not run', () => {
    const { sys, run } = setup();
    sys.commandResult = (cmd) => (cmd.path === '/hooks/bad' ? { status: 2, signal: null, output: 'no network\n' } : { status: 0, signal: null, output: '' });
    expect(() => run({ prestart: [hook('/hooks/ok'), hook('/hooks/bad')], createRuntime: [hook('/hooks/never')] })).toThrow(
      'before-jail: plugin hooks: hook prestart[1] "/hooks/bad" failed (exit status 2): no network',
    );
    expect(sys.callsOf('runCommand').map((c) => c.cmd.path)).toEqual(['/hooks/ok', '/hooks/bad']);
  });

  test('a hook killed at its timeout is a failure', () => {
    const { sys, run } = setup();
    sys.commandResult = { status: null, signal: 'SIGKILL', output: '', timedOut: true };
    expect(() => run({ createRuntime: [hook('/hooks/slow', { timeout: 1 })] })).toThrow(
      'before-jail: plugin hooks: hook createRuntime[0] "/hooks/slow" failed (ran past its timeout of 1s, killed by SIGKILL)',
    );
  });

  test('a hook that cannot be started names the hook and the syscall', () => {
    const { sys, run } = setup();
    sys.failOn('runCommand', 'ENOENT');
    expect(() => run({ createRuntime: [hook('/hooks/missing')] })).toThrow(
      'before-jail: plugin hooks: hook createRuntime[0] "/hooks/missing": runCommand "/hooks/missing": ENOENT',
    );
  });

  test('a shared value of the wrong type is a PluginError', () => {
    const { run } = setup({ [CONTAINER_PID_KEY]: '12' });
    expect(() => run({ prestart: [hook('/h')] })).toThrow('before-jail: plugin hooks: shared "container.pid" must be a number, got string');
  });
});

describe('createContainer hooks, in the container namespace', () => {
  const own = (status: string, pid: number) => JSON.stringify({ ociVersion: '1.0.2', id: 'web-1', status, pid, bundle: '/bundles/web-1' });

  test('they run after createRuntime, in the rootfs, with getpid() as the container pid and status "creating"', () => {
    const { sys, run } = setup({ [CONTAINER_PID_KEY]: 4242 });
    sys.pid = 77;
    run({ createRuntime: [hook('/hooks/cr')], createContainer: [hook('/hooks/cc1'), hook('/hooks/cc2', { env: ['B=2'] })] });
    expect(sys.effects()).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/cr', args: [], env: [], dir: '/bundles/web-1', stdin: STATE.replace('"pid":0', '"pid":4242') } },
      { op: 'runCommand', cmd: { path: '/hooks/cc1', args: [], env: [], dir: '/bundles/web-1/rootfs', stdin: own('creating', 77) } },
      { op: 'runCommand', cmd: { path: '/hooks/cc2', args: [], env: ['B=2'], dir: '/bundles/web-1/rootfs', stdin: own('creating', 77) } },
    ]);
  });

  test("one without env gets the container's process.env, as runc's init has it then; one with [] none", () => {
    const { sys, run } = setup({}, silentLogger, { process: { ...makeConfig().process, env: ['PATH=/bin', 'TERM=xterm'] } });
    run({ createContainer: [{ path: '/hooks/cc1', args: [] }, { path: '/hooks/cc2', args: [], env: [] }] });
    expect(sys.callsOf('runCommand').map((c) => c.cmd.env)).toEqual([['PATH=/bin', 'TERM=xterm'], []]);
  });

  test("under socket activation, one without env also gets LISTEN_FDS and LISTEN_PID=1 after process.env, as runc's init has them; one with its own env only that", () => {
    const { sys, run } = setup({}, silentLogger, { process: { ...makeConfig().process, env: ['PATH=/bin', 'LISTEN_FDS=9'] }, listenFds: 2 });
    sys.pid = 77;
    run({ createContainer: [{ path: '/hooks/cc1', args: [] }, { path: '/hooks/cc2', args: [], env: ['K=V'] }] });
    expect(sys.effects()).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/cc1', args: [], env: ['PATH=/bin', 'LISTEN_FDS=9', 'LISTEN_FDS=2', 'LISTEN_PID=1'], dir: '/bundles/web-1/rootfs', stdin: own('creating', 77) } },
      { op: 'runCommand', cmd: { path: '/hooks/cc2', args: [], env: ['K=V'], dir: '/bundles/web-1/rootfs', stdin: own('creating', 77) } },
    ]);
  });

  test('a failing createContainer hook stops the run in the before-jail phase', () => {
    const { sys, run } = setup();
    sys.failOn('runCommand', 'EACCES');
    expect(() => run({ createContainer: [hook('/hooks/cc')] })).toThrow('before-jail: plugin create-container-hooks: hook createContainer[0] "/hooks/cc": runCommand "/hooks/cc": EACCES');
  });

  test('startContainer hooks are not run here (the exec step runs them)', () => {
    const { sys, run } = setup();
    run({ startContainer: [hook('/bin/s')] });
    expect(sys.calls).toEqual([]);
  });

  test("with a user namespace, the runtime's hooks run in it, and one warning says so", () => {
    const log = memoryLogger();
    const { sys, run } = setup({}, log, { namespaces: [{ type: 'mount' }, { type: 'user' }] });
    run({ createRuntime: [hook('/hooks/net')], createContainer: [hook('/hooks/cc')] });
    expect(sys.callsOf('runCommand').map((c) => c.cmd.path)).toEqual(['/hooks/net', '/hooks/cc']);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([
      "hooks.prestart and hooks.createRuntime run in the container's user namespace, as its root, not as the host's root as under runc",
    ]);
    const quiet = memoryLogger();
    setup({}, quiet, { namespaces: [{ type: 'mount' }, { type: 'user' }] }).run({ createContainer: [hook('/hooks/cc')] });
    expect(quiet.entries.filter((e) => e.level === 'warn')).toEqual([]);
  });

  test("with a runtime channel, the runtime's hooks get the state the other end builds from the config: no shared id or pid", () => {
    const { sys, run } = setup({ [CONTAINER_ID_KEY]: 'c0ffee', [CONTAINER_PID_KEY]: 4242 }, silentLogger, { runtimeChannel: 3 });
    sys.pid = 7;
    run({ createRuntime: [hook('/hooks/net')], createContainer: [hook('/hooks/cc')] });
    expect(sys.callsOf('runCommand').map((c) => [c.cmd.path, JSON.parse(c.cmd.stdin!).id, JSON.parse(c.cmd.stdin!).pid])).toEqual([
      ['/hooks/net', 'web-1', 7],
      ['/hooks/cc', 'c0ffee', 7],
    ]);
  });

  test("with a channel to where mountkit was started (any relaunch), the runtime's hooks go there, and no warning; createContainer's stay here", () => {
    const log = memoryLogger();
    const { sys, run } = setup({}, log, { namespaces: [{ type: 'mount' }, { type: 'user' }], runtimeChannel: 3 });
    run({ prestart: [hook('/hooks/pre')], createRuntime: [hook('/hooks/net')], createContainer: [hook('/hooks/cc')] });
    expect(sys.callsOf('runCommand').map((c) => [c.cmd.path, c.cmd.via])).toEqual([
      ['/hooks/pre', 3],
      ['/hooks/net', 3],
      ['/hooks/cc', undefined],
    ]);
    expect(log.entries.filter((e) => e.level === 'warn')).toEqual([]);
  });

  test('without a runtime channel, poststart and poststop hooks are not run, and one warning says so; with one, they are left to its other end, silently', () => {
    const log = memoryLogger();
    const { sys, run } = setup({}, log);
    run({ poststart: [hook('/bin/a')], poststop: [hook('/bin/b')] });
    expect(sys.calls).toEqual([]);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual([
      "hooks.poststart and hooks.poststop not run: without a runtime channel, mountkit's process becomes the container's, and nothing of it is left to run them",
    ]);
    const quiet = memoryLogger();
    const relaunched = setup({}, quiet, { runtimeChannel: 3 });
    relaunched.run({ poststart: [hook('/bin/a')], poststop: [hook('/bin/b')] });
    expect([relaunched.sys.calls, quiet.entries.filter((e) => e.level === 'warn')]).toEqual([[], []]);
  });
});

describe('hooks plugin', () => {
  test('registers two steps in the before-jail phase, named apart: the runtime\'s hooks first, the container\'s after', () => {
    const kernel = createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [] }, extra: [{ module: 'hooks', plugin: hooksPlugin }] });
    expect(kernel.orchestrator.orderedSteps().map((s) => [s.constructor.name, s.name, s.phase, s.order ?? 'normal'])).toEqual([
      ['OciHooksStep', 'hooks', 'before-jail', 'pre'],
      ['CreateContainerHooksStep', 'create-container-hooks', 'before-jail', 'normal'],
    ]);
  });

  test('with the built-in plugins, process.oomScoreAdj is written between the runtime\'s hooks and createContainer\'s, as runc\'s parent and init run them', () => {
    const kernel = createKernel({ syscalls: new FakeSyscalls() });
    const beforeJail = kernel.orchestrator.orderedSteps().filter((s) => s.phase === 'before-jail');
    expect(beforeJail.map((s) => s.constructor.name)).toEqual(['OciHooksStep', 'OomScoreAfterHooksStep', 'SetgroupsPolicyStep', 'CreateContainerHooksStep']);
  });

  test('the hooks see the score so: prestart and createRuntime mountkit\'s own, createContainer the container\'s', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/oom_score_adj', '0\n');
    // In plugins.json's order: the hooks plugin's two steps, then the exec plugin's.
    const steps = [new OciHooksStep(sys), new CreateContainerHooksStep(sys), new OomScoreAdjStep(sys), new OomScoreAfterHooksStep(sys)];
    const config = makeConfig({ hooks: { prestart: [hook('/p')], createRuntime: [hook('/r')], createContainer: [hook('/c')] } });
    config.process = { ...config.process, oomScoreAdj: 500 };
    const seen: string[] = [];
    sys.commandResult = (cmd) => {
      seen.push(`${cmd.path} ${sys.readFile('/proc/self/oom_score_adj').trim()}`);
      return { status: 0, signal: null, output: '' };
    };
    new Orchestrator(sys, silentLogger, [], steps).run(config, { checkClaims: false });
    expect(seen).toEqual(['/p 0', '/r 0', '/c 500']);
  });
});
