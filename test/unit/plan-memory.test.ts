import 'reflect-metadata';
import * as v8 from 'v8';
import * as vm from 'vm';
import { runPipeline } from '../../src/api/pipeline';
import { MS_BIND } from '../../src/core/constants';
import { buildPlan } from '../../src/core/plan';
import { createKernel, type PluginModule } from '../../src/core/kernel';
import { eventLine } from '../../src/core/runtime-channel';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig, makeMount } from '../helpers/config';
import { JAIL_STAND_IN_EXTRA } from '../helpers/jail-stand-in';

/**
 * A full garbage collection, synchronously, with no command-line flag: V8 gives a `gc`
 * function to the contexts made after --expose-gc is set, as to this one made for it
 * (as jest's own leak detector gets one). The flag is set back at once: V8 writes a hash
 * of its flags into every code cache and refuses a cache whose hash is not its own, so
 * with the flag left on, the code caches later suites of this process make
 * (bundle-load.test.ts) would be refused by the plain Node processes they are made for.
 */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
v8.setFlagsFromString('--no-expose-gc');

/** The bytes the heap holds after a full collection. */
function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * The length of the ballast each port below holds beyond its model: 2^20 numbers, 8 MiB
 * (4 MiB with compressed pointers), so that `BALLAST * 4` bytes are less than one port kept.
 */
const BALLAST = 2 ** 20;

/** `sys` holding a ballast of BALLAST numbers, which shows in the heap as long as the port is kept. */
function ballasted(sys: FakeSyscalls): FakeSyscalls {
  return Object.assign(sys, { ballast: new Array<number>(BALLAST).fill(0) });
}

/** An exec step that tells the runtime channel first, as the exec plugin's handover does, then calls execve. */
const announcing: PluginModule = {
  register(api) {
    const sys = () => api.container.resolve<FakeSyscalls>(Symbol.for('mountkit.Syscalls'));
    api.step({ name: 'announce', phase: 'finalize', run: (ctx) => sys().write(ctx.config.runtimeChannel!, eventLine('exec')) });
    api.step({ name: 'exec-test', phase: 'finalize', order: 'post', run: () => sys().execve('/bin/sh', ['sh'], []) });
  },
};

const hook = { path: '/hooks/a', args: ['/hooks/a'], env: [] };

/** A plan whose first process runs a poststart hook (runCommandAsync) and a poststop one; its port is made here and dropped on return. */
function planWithHooks(): number {
  const config = makeConfig({ namespaces: [{ type: 'mount' }], hooks: { prestart: [], createRuntime: [], poststart: [hook], poststop: [hook] } });
  const sys = ballasted(new FakeSyscalls().addDir('/bundle/rootfs').addDir('/proc/self').addFile('/proc/self/mountinfo', ''));
  const plan = buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, { module: 'test', plugin: announcing }], launch: { relaunched: false, inUserNamespace: false } });
  return plan.calls.filter((c) => c.record.op === 'runCommandAsync').length;
}

/** What an embedder does on each request: a kernel of every built-in plugin, and the pipeline run with one; the port made here and dropped on return. */
function kernelAndPipeline(): number {
  const sys = ballasted(new FakeSyscalls().addDir('/bundle/rootfs/data').addDir('/src'));
  createKernel({ syscalls: sys });
  let steps = 0;
  const extra: PluginModule = { register: (api) => api.step({ name: 'counted', phase: 'jail', run: () => void steps++ }) };
  runPipeline(makeConfig({ mounts: [makeMount({ type: 'bind', source: '/src', destination: '/data', flags: MS_BIND })] }), {
    syscalls: sys,
    plugins: { plugins: [{ module: 'builtin:bind' }] },
    extra: [JAIL_STAND_IN_EXTRA, { module: 'embedder', plugin: extra }],
    beforeJail: () => void steps++,
  });
  return steps;
}

describe('memory kept by repeated plans and runs in one process', () => {
  test("a plan keeps nothing of its port once returned, though the poststart hooks' promises have not settled", () => {
    // Each poststart hook's promise (runCommandAsync) settles at the next microtask
    // checkpoint, which a caller planning in a loop does not reach between plans: all of
    // this runs in one job.
    planWithHooks();
    const before = heapUsed();
    let hooks = 0;
    for (let i = 0; i < 8; i++) hooks += planWithHooks();
    const kept = heapUsed() - before;
    expect(hooks).toBe(8);
    // Eight ports kept would be eight ballasts, 32 MiB at least.
    expect(kept).toBeLessThan(BALLAST * 4);
  });

  test('kernels built and pipelines run on a port keep nothing of it once dropped', () => {
    // The kernel's containers are children of tsyringe's global one, which holds none of them.
    kernelAndPipeline();
    const before = heapUsed();
    let steps = 0;
    for (let i = 0; i < 8; i++) steps += kernelAndPipeline();
    const kept = heapUsed() - before;
    expect(steps).toBe(16);
    expect(kept).toBeLessThan(BALLAST * 4);
  });
});
