import { makeBundle } from '../conformance/harness';
import { EMBEDDING_SPEC, describeEmbedding } from '../helpers/embedding';
import { runInMountNamespace } from '../helpers/in-namespace';

/**
 * An embedded plan (`plan(config, { mode: 'embedded' })`) made in the process that then
 * runs runPipeline, in a throwaway mount namespace: with checkProcess it is refused where
 * runPipeline is refused, and where it is not, its calls are those the real run makes.
 */
const spec = { ...EMBEDDING_SPEC, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };

/**
 * Plans with checkProcess (after unshare(CLONE_NEWTIME) with UNSHARE_TIME), then runs runPipeline on the real port wrapped to record the
 * name of every call that changes something; prints both lists, or the refusal.
 */
const script = `
const mk = require('./src/index');
if (process.env.UNSHARE_TIME) mk.linuxSyscalls().unshare(mk.CLONE_NEWTIME);
const { QUERY_SYSCALLS } = require('./src/core/syscalls/fake');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
const config = mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE);
let planned;
try {
  planned = mk.plan(config, { mode: 'embedded', checkProcess: true, plugins: { plugins } });
} catch (e) {
  process.stdout.write(JSON.stringify({ refused: e.name + ': ' + e.message }));
  process.exit(0);
}
const real = mk.linuxSyscalls();
const made = [];
const recording = new Proxy(real, {
  get(target, key) {
    const value = Reflect.get(target, key);
    if (typeof value !== 'function') return value;
    return (...args) => {
      if (!QUERY_SYSCALLS.has(key)) made.push(key);
      return value.apply(target, args);
    };
  },
});
mk.runPipeline(config, { plugins: { plugins }, syscalls: recording });
process.stdout.write(JSON.stringify({ complete: planned.complete, mode: planned.mode, planned: planned.calls.map((c) => c.record.op), made }));
`;

describeEmbedding('an embedded plan in the process that runs runPipeline', () => {
  test("checkProcess: refused in the pid namespace the process was started in, as runPipeline is; in one of its own, the plan's calls are the run's", () => {
    const b = makeBundle(spec);
    try {
      const env = { ...process.env, SPEC: JSON.stringify(spec), BUNDLE: b.dir };
      const shared = runInMountNamespace(script, env);
      expect(shared.stderr).toBe('');
      expect(JSON.parse(shared.stdout).refused).toMatch(
        /^ConfigError: linux\.namespaces\[0\] "pid": this process shares its pid namespace \(pid:\[\d+\]\) with every process above it, where the container's \/proc would list every process of it: /,
      );
      const own = runInMountNamespace(script, env, ['--pid', '--fork']);
      expect(own.stderr).toBe('');
      const { complete, mode, planned, made } = JSON.parse(own.stdout) as { complete: boolean; mode: string; planned: string[]; made: string[] };
      expect([complete, mode]).toEqual([true, 'embedded']);
      expect(made).toContain('pivotRoot');
      expect(planned).toEqual(made);
    } finally {
      b.cleanup();
    }
  });

  test('linux.timeOffsets in a time namespace the process made: the plan lists the write of /proc/self/timens_offsets first, where the run makes it', () => {
    const timeSpec = { ...spec, linux: { namespaces: [...spec.linux.namespaces, { type: 'time' }], timeOffsets: { monotonic: { secs: 86400, nanosecs: 0 } } } };
    const b = makeBundle(timeSpec);
    try {
      const r = runInMountNamespace(script, { ...process.env, SPEC: JSON.stringify(timeSpec), BUNDLE: b.dir, UNSHARE_TIME: '1' }, ['--pid', '--fork']);
      expect(r.stderr).toBe('');
      const { complete, planned, made } = JSON.parse(r.stdout) as { complete: boolean; planned: string[]; made: string[] };
      expect(complete).toBe(true);
      expect(made[0]).toBe('writeFile');
      expect(planned).toEqual(made);
    } finally {
      b.cleanup();
    }
  });
});
