import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  ConfigError,
  ExecveCalled,
  FakeSyscalls,
  MS_NODEV,
  MS_NOSUID,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  PlanSyscalls,
  PluginError,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  StartupError,
  fromOciSpec,
  makeConfig,
  makeMount,
  plan,
  planToJson,
  readPluginsFile,
  runPipeline,
  DEFAULT_PLUGINS_FILE,
  type EmbeddedPlanApiOptions,
  type OciSpec,
  type RootfsConfig,
  type RunPipelineOptions,
  type SyscallRecord,
} from 'mountkit/testing';
import { JAIL_STAND_IN_EXTRA } from '../helpers/jail-stand-in';

const port = () => new FakeSyscalls().addDir('/bundle/rootfs/tmp');

const small = (over: Partial<RootfsConfig> = {}) =>
  makeConfig({
    mounts: [makeMount({ type: 'tmpfs', destination: '/tmp', flags: MS_NOSUID | MS_NODEV, data: 'size=1m' })],
    hooks: { prestart: [{ path: '/bin/hook', args: ['hook', 'prestart'] }], createRuntime: [] },
    ...over,
  });

const list = { plugins: [{ module: 'builtin:tmpfs' }, { module: 'builtin:hooks' }] };
const IN_ROOT = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/** runPipeline on `sys`, which a plan's port ends by throwing at execve: every call it made, and where its first step started. */
function pipelineCalls(config: RootfsConfig, sys: FakeSyscalls, opts: RunPipelineOptions): { calls: SyscallRecord[]; firstStep: number } {
  let firstStep = -1;
  try {
    runPipeline(config, { ...opts, syscalls: sys, onStep: () => void (firstStep = firstStep < 0 ? sys.calls.length : firstStep) });
  } catch (err) {
    if (!(err instanceof ExecveCalled)) throw err;
  }
  return { calls: sys.calls, firstStep };
}

describe("plan(config, { mode: 'embedded' }): the calls runPipeline would make, in order", () => {
  test('a small config: no launcher; the mount; the prestart hook run here, not sent over a runtime channel; the before-jail callback run', () => {
    const seen: string[] = [];
    const result = plan(small(), {
      mode: 'embedded',
      syscalls: port(),
      plugins: list,
      extra: [JAIL_STAND_IN_EXTRA],
      beforeJail: (ctx) => {
        seen.push(`before jail ${ctx.config.rootfs}`);
        ctx.dispatch(makeMount({ type: 'tmpfs', destination: '/tmp', data: 'size=2m' }));
      },
    });
    expect(seen).toEqual(['before jail /bundle/rootfs']);
    expect(result).toMatchObject({ mode: 'embedded', bundle: '/bundle', rootfs: '/bundle/rootfs', complete: true });
    expect(result.error).toBeUndefined();
    const tmpfs = { phase: 'mounts', plugin: 'tmpfs', mountIndex: 0, destination: '/tmp' };
    const callback = { phase: 'before-jail', plugin: 'before-jail-callback' };
    expect(result.calls).toEqual([
      { seq: 0, ...tmpfs, record: { op: 'open', path: '/bundle/rootfs', flags: O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_PATH, mode: 0 } },
      { seq: 1, ...tmpfs, record: { op: 'openat2', dirfd: 100, path: 'tmp', flags: O_RDONLY | O_CLOEXEC | O_PATH, mode: 0, resolve: IN_ROOT } },
      { seq: 2, ...tmpfs, record: { op: 'mount', source: 'tmpfs', target: '/proc/thread-self/fd/101', fstype: 'tmpfs', flags: MS_NOSUID | MS_NODEV, data: 'mode=0755,size=1m' } },
      { seq: 3, ...tmpfs, record: { op: 'close', fd: 101 } },
      {
        seq: 4,
        phase: 'before-jail',
        plugin: 'hooks',
        record: {
          op: 'runCommand',
          cmd: { path: '/bin/hook', argv0: 'hook', args: ['prestart'], dir: '/bundle', stdin: '{"ociVersion":"1.0.2","id":"bundle","status":"creating","pid":1,"bundle":"/bundle"}' },
        },
      },
      { seq: 5, ...callback, record: { op: 'openat2', dirfd: 100, path: 'tmp', flags: O_RDONLY | O_CLOEXEC | O_PATH, mode: 0, resolve: IN_ROOT } },
      { seq: 6, ...callback, record: { op: 'mount', source: 'tmpfs', target: '/proc/thread-self/fd/102', fstype: 'tmpfs', flags: 0n, data: 'mode=0755,size=2m' } },
      { seq: 7, ...callback, record: { op: 'close', fd: 102 } },
      { seq: 8, phase: 'jail', plugin: 'jail-stand-in', record: { op: 'close', fd: 100 } },
    ]);
  });

  test('are the calls runPipeline makes on a port of its own, with the same options (queries included, from its first step)', () => {
    const opts = { plugins: list, extra: [JAIL_STAND_IN_EXTRA], beforeJail: () => undefined };
    const planned = plan(small(), { ...opts, mode: 'embedded', syscalls: port(), queries: true });
    const ran = pipelineCalls(small(), port(), opts);
    expect(planned.calls.map((c) => c.record)).toEqual(ran.calls.slice(ran.firstStep));
  });

  describe('linux.timeOffsets: read and written where runPipeline does, after the checks and before the first step', () => {
    const timed = () => small({ namespaces: [{ type: 'mount' }, { type: 'time' }], timeOffsets: { monotonic: { secs: 86400, nanosecs: 0 } } });
    const timePort = (held = 'monotonic 0 0\nboottime 0 0\n') => port().addProcfs().addFile('/proc/self/timens_offsets', held);
    const opts = { plugins: list, extra: [JAIL_STAND_IN_EXTRA] };
    const offsets = { phase: 'namespaces', plugin: 'time-offsets' };

    test('listed first, under namespaces (time-offsets), as runPipeline makes them', () => {
      const planned = plan(timed(), { ...opts, mode: 'embedded', syscalls: timePort(), queries: true });
      expect(planned.calls.slice(0, 3)).toMatchObject([
        { seq: 0, ...offsets, record: { op: 'readFile', path: '/proc/self/timens_offsets' } },
        { seq: 1, ...offsets, record: { op: 'writeFile', path: '/proc/self/timens_offsets', data: 'monotonic 86400 0\n' } },
        { seq: 2, phase: 'mounts', plugin: 'tmpfs' },
      ]);
      const ran = pipelineCalls(timed(), timePort(), opts);
      const read = ran.calls.findIndex((c) => c.op === 'readFile' && c.path === '/proc/self/timens_offsets');
      expect(read).toBeGreaterThanOrEqual(0);
      expect(planned.calls.map((c) => c.record)).toEqual(ran.calls.slice(read));
      // Without queries: the write alone.
      expect(plan(timed(), { ...opts, mode: 'embedded', syscalls: timePort() }).calls[0]).toMatchObject({ ...offsets, record: { op: 'writeFile' } });
    });

    test('held already: no write; refused (EACCES): thrown, as runPipeline throws it before its first step', () => {
      const held = plan(timed(), { ...opts, mode: 'embedded', syscalls: timePort('monotonic 86400 0\nboottime 0 0\n') });
      expect(held.calls.filter((c) => c.plugin === 'time-offsets')).toEqual([]);
      const refusing = () => timePort().failOn('writeFile', 'EACCES', { path: '/proc/self/timens_offsets' });
      let thrown: unknown;
      try {
        runPipeline(timed(), { ...opts, syscalls: refusing() });
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect(() => plan(timed(), { ...opts, mode: 'embedded', syscalls: refusing() })).toThrow(thrown as Error);
    });
  });

  test('the run mode of the same config starts with the launcher and sends the hook to the first process instead', () => {
    const result = plan(small(), { syscalls: port(), plugins: list, extra: [JAIL_STAND_IN_EXTRA], launch: { relaunched: false, inUserNamespace: false, euid: 0 } });
    expect(result.mode).toBe('run');
    expect(result.calls[0]).toMatchObject({ phase: 'namespaces', plugin: 'launcher' });
  });

  test("the JSON says which mode, at the same version; a plan of run's says run", () => {
    const embedded = planToJson(plan(small(), { mode: 'embedded', syscalls: port(), plugins: list, extra: [JAIL_STAND_IN_EXTRA] }));
    expect(embedded).toMatchObject({ version: 2, mode: 'embedded', complete: true });
    expect(embedded.calls.map((c) => c.phase)).not.toContain('namespaces');
    expect(planToJson({ bundle: '/b', rootfs: '/b/rootfs', complete: true, calls: [] })).toMatchObject({ version: 2, mode: 'run' });
  });
});

describe('an embedded plan of the default plugin list on a bundle on disk is what runPipeline does with it', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-embedded-'));
    for (const d of ['rootfs/bin', 'rootfs/proc', 'rootfs/tmp']) fs.mkdirSync(path.join(dir, d), { recursive: true });
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
    hooks: { prestart: [{ path: '/bin/true' }] },
    linux: { namespaces: [{ type: 'mount' }], maskedPaths: ['/proc/kcore'], readonlyPaths: ['/proc/sys'] },
  } satisfies OciSpec;

  test.each<[string, () => RunPipelineOptions]>([
    ['the default list', () => ({ plugins: DEFAULT_PLUGINS_FILE })],
    ['without exec, a callback', () => ({ plugins: { plugins: readPluginsFile(DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec') }, beforeJail: () => undefined })],
  ])('%s: the same calls, in the same order, up to the same end', (_what, opts) => {
    const config = fromOciSpec(spec, dir);
    const planned = plan(config, { ...opts(), mode: 'embedded', syscalls: new PlanSyscalls() });
    expect(planned.error).toBeUndefined();
    expect(planned.complete).toBe(true);
    const ran = new PlanSyscalls();
    pipelineCalls(config, ran, opts());
    expect(planned.calls.map((c) => c.record)).toEqual(ran.effects());
    expect(planned.calls.some((c) => c.phase === 'namespaces')).toBe(false);
  });

  test("the session as runPipeline leaves it (config.newSession absent: setsid), where run's plan has the process the user started give up its terminal", () => {
    // Without hooks, which run sends to a first process it relaunches itself from.
    const config = fromOciSpec({ ...spec, hooks: {} }, dir);
    const session = (p: ReturnType<typeof plan>) => p.calls.filter((c) => c.plugin === 'session').map((c) => c.record.op);
    const embedded = plan(config, { mode: 'embedded', plugins: DEFAULT_PLUGINS_FILE, syscalls: new PlanSyscalls() });
    const ofRun = plan(config, { plugins: DEFAULT_PLUGINS_FILE, syscalls: new PlanSyscalls(), launch: { relaunched: false, inUserNamespace: false, euid: 0 } });
    expect(session(embedded)[0]).toBe('setsid');
    expect(session(ofRun)).toEqual(['open']);
  });
});

describe('an embedded plan fails as runPipeline fails', () => {
  /** What runPipeline throws with these options on the same kind of port. */
  const thrown = (config: RootfsConfig, opts: RunPipelineOptions): unknown => {
    try {
      runPipeline(config, { syscalls: port(), ...opts });
    } catch (err) {
      return err;
    }
    throw new Error('runPipeline did not throw');
  };

  test.each<[string, RunPipelineOptions, typeof ConfigError | typeof StartupError]>([
    ['a module no built-in is', { plugins: { plugins: [{ module: 'builtin:nope' }] } }, StartupError],
    ['a list entry without its module', { plugins: { plugins: [{} as { module: string }] } }, ConfigError],
    ['a list without a step for root.path (no jail)', { plugins: list }, ConfigError],
  ])('a bad plugin list is thrown, as runPipeline throws it, before any call: %s', (_what, opts, type) => {
    const sys = port();
    const expected = thrown(small(), opts);
    expect(expected).toBeInstanceOf(type);
    expect(() => plan(small(), { ...opts, mode: 'embedded', syscalls: sys })).toThrow(expected as Error);
    expect(sys.effects()).toEqual([]);
  });

  test("which run's plan gives as plan.error for the list's claims, checked once the namespaces are entered", () => {
    const result = plan(small(), { syscalls: port(), plugins: list, launch: { relaunched: false, inUserNamespace: false, euid: 0 } });
    expect(result).toMatchObject({ mode: 'run', complete: false });
    expect(result.error).toBeInstanceOf(ConfigError);
  });

  test('a step that fails ends the plan with its PluginError, the calls up to it listed, as runPipeline throws it', () => {
    const failing = () => port().failOn('mount', 'ENODEV');
    const opts = { plugins: list, extra: [JAIL_STAND_IN_EXTRA] };
    const result = plan(small(), { ...opts, mode: 'embedded', syscalls: failing() });
    expect(result.complete).toBe(false);
    expect(result.error).toBeInstanceOf(PluginError);
    const ran = failing();
    expect((result.error as Error).message).toBe((thrown(small(), { ...opts, syscalls: ran }) as Error).message);
    expect(result.calls.map((c) => c.record)).toEqual(ran.effects());
    // The failing mount, its target closed, then the rootfs the orchestrator had open for the mounts.
    expect(result.calls.slice(-3)).toMatchObject([
      { phase: 'mounts', plugin: 'tmpfs', record: { op: 'mount' }, errno: 'ENODEV' },
      { phase: 'mounts', plugin: 'tmpfs', record: { op: 'close', fd: 101 } },
      { phase: 'mounts', plugin: 'orchestrator', record: { op: 'close', fd: 100 } },
    ]);
  });

  test('a before-jail callback that throws ends the plan as a PluginError naming it', () => {
    const result = plan(small(), {
      mode: 'embedded',
      syscalls: port(),
      plugins: list,
      extra: [JAIL_STAND_IN_EXTRA],
      beforeJail: () => {
        throw new Error('not ready');
      },
    });
    expect(result).toMatchObject({ complete: false, error: { phase: 'before-jail', plugin: 'before-jail-callback' } });
  });
});

describe("checkProcess: refused as runPipeline refuses on the real port in this process", () => {
  /** This process in a mount namespace of its own, in the host's namespaces of every other type, as every process above it. */
  const links = (file: string) => (file.startsWith('/proc/self/ns/mnt') ? 'mnt:[4026532100]' : `${path.basename(file)}:[4026531836]`);
  let readlink: jest.SpyInstance;
  beforeEach(() => {
    const real = require('fs') as typeof fs;
    const original = real.readlinkSync;
    readlink = jest.spyOn(real, 'readlinkSync').mockImplementation(((file: fs.PathLike, ...rest: []) => (/^\/proc\/\w+\/ns\//.test(String(file)) ? links(String(file)) : original(file, ...rest))) as typeof fs.readlinkSync);
  });
  afterEach(() => readlink.mockRestore());

  const opts: EmbeddedPlanApiOptions = { mode: 'embedded', syscalls: port(), plugins: list, extra: [JAIL_STAND_IN_EXTRA], checkProcess: true };

  test.each([
    ['pid', "this process shares its pid namespace (pid:[4026531836]) with every process above it, where the container's /proc would list every process of it"],
    ['cgroup', "this process shares its cgroup namespace (cgroup:[4026531836]) with every process above it"],
  ] as const)('a new %s namespace the config lists, shared with every process above it, is refused', (type, message) => {
    const config = small({ namespaces: [{ type: 'mount' }, { type }] });
    expect(() => plan(config, { ...opts, syscalls: port() })).toThrow(`linux.namespaces[1] "${type}": ${message}`);
    // Without checkProcess, as runPipeline given a port: planned.
    expect(plan(config, { ...opts, syscalls: port(), checkProcess: false }).complete).toBe(true);
  });

  test('a config listing none of them is planned', () => {
    expect(plan(small(), { ...opts, syscalls: port() }).complete).toBe(true);
  });
});
