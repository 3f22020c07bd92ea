import 'reflect-metadata';
import * as v8 from 'v8';
import * as vm from 'vm';
import { buildPlan } from '../../src/core/plan';
import type { PluginModule } from '../../src/core/kernel';
import { eventLine } from '../../src/core/runtime-channel';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig } from '../helpers/config';

/**
 * A full garbage collection, synchronously: the gc function V8 gives a new context once
 * --expose-gc is set, which leaves this process's other contexts as they are.
 */
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** The bytes the heap holds after a full collection. */
function heapUsed(): number {
  gc();
  return process.memoryUsage().heapUsed;
}

/** Bytes each port made below holds beyond its model: 2^20 numbers, 8 MiB with 64-bit pointers (4 MiB compressed). */
const BALLAST = 2 ** 20;

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
  const sys = Object.assign(new FakeSyscalls().addDir('/bundle/rootfs').addDir('/proc/self').addFile('/proc/self/mountinfo', ''), { ballast: new Array<number>(BALLAST).fill(0) });
  const plan = buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [{ module: 'test', plugin: announcing }], launch: { relaunched: false, inUserNamespace: false } });
  return plan.calls.filter((c) => c.record.op === 'runCommandAsync').length;
}

describe('memory kept by repeated plans in one process', () => {
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
    // Eight ports kept would be eight ballasts; a plan keeps none, give or take less than one.
    expect(kept).toBeLessThan(BALLAST * 4);
  });
});
