import 'reflect-metadata';
import { Orchestrator } from '../../../src/core/orchestrator';
import { ExecveCalled, FakeSyscalls } from '../../../src/core/syscalls/fake';
import { HandoverStep } from '../../../src/plugins/exec';
import { IOPRIO_WHO_PROCESS, SCHED_ATTR_SIZE, ioprioValue, personaValue, schedAttr } from '../../../src/plugins/exec/attributes';
import { memoryLogger } from '../../../src/testing/logger';
import type { RootfsConfig, SchedulerSpec } from '../../../src/core/config/model';
import { makeConfig } from '../../helpers/config';

describe('process.scheduler as a struct sched_attr (56 bytes, SCHED_ATTR_SIZE_VER1)', () => {
  const spec = (over: Partial<SchedulerSpec>): SchedulerSpec => ({ policy: 'SCHED_OTHER', nice: 0, priority: 0, flags: [], runtime: 0n, deadline: 0n, period: 0n, ...over });
  const fields = (attr: Uint8Array) => {
    const v = new DataView(attr.buffer);
    return { size: v.getUint32(0, true), policy: v.getUint32(4, true), flags: v.getBigUint64(8, true), nice: v.getInt32(16, true), priority: v.getUint32(20, true), runtime: v.getBigUint64(24, true), deadline: v.getBigUint64(32, true), period: v.getBigUint64(40, true), rest: [...attr.slice(48)] };
  };
  test.each<[Partial<SchedulerSpec>, Partial<ReturnType<typeof fields>>]>([
    [{ policy: 'SCHED_BATCH', nice: -5 }, { size: 56, policy: 3, nice: -5, flags: 0n }],
    [{ policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_KEEP_PARAMS'] }, { policy: 1, priority: 10, flags: 0x11n }],
    [{ policy: 'SCHED_DEADLINE', runtime: 10_000_000n, deadline: 30_000_000n, period: 2n ** 40n }, { policy: 6, runtime: 10_000_000n, deadline: 30_000_000n, period: 2n ** 40n }],
    [{ policy: 'SCHED_IDLE' }, { policy: 5, rest: [0, 0, 0, 0, 0, 0, 0, 0] }],
  ])('%j', (over, expected) => {
    const attr = schedAttr(spec(over));
    expect(attr.length).toBe(SCHED_ATTR_SIZE);
    expect(fields(attr)).toMatchObject(expected);
  });
});

describe('process.ioPriority and linux.personality as numbers', () => {
  test.each([
    [{ class: 'IOPRIO_CLASS_RT' as const, priority: 0 }, 0x2000],
    [{ class: 'IOPRIO_CLASS_BE' as const, priority: 6 }, 0x4006],
    [{ class: 'IOPRIO_CLASS_IDLE' as const, priority: 7 }, 0x6007],
  ])('ioprioValue(%j) = %i: the class above bit 13, the level below', (p, value) => expect(ioprioValue(p)).toBe(value));

  test.each([
    ['LINUX' as const, 0],
    ['LINUX32' as const, 8],
  ])('personaValue(%s) = %i (PER_LINUX, PER_LINUX32)', (domain, value) => expect(personaValue({ domain, flags: [] })).toBe(value));
});

describe('the handover sets them before the identity and capabilities change, as runc 1.2\'s init', () => {
  function run(over: Partial<RootfsConfig>, process: Partial<RootfsConfig['process']> = {}) {
    const sys = new FakeSyscalls().addFile('/bin/sh', '', 0o755);
    const base = makeConfig();
    const config = makeConfig({ ...over, process: { ...base.process, args: ['sh'], env: ['PATH=/bin', 'HOME=/'], uid: 1000, gid: 1000, ...process } });
    const log = memoryLogger();
    const go = () => new Orchestrator(sys, log, [], [new HandoverStep(sys)]).run(config, { checkClaims: false });
    return { sys, log, go };
  }

  test('sched_setattr, then ioprio_set on this process, then personality, before setgroups', () => {
    const scheduler: SchedulerSpec = { policy: 'SCHED_BATCH', nice: 5, priority: 0, flags: [], runtime: 0n, deadline: 0n, period: 0n };
    const { sys, go } = run({ personality: { domain: 'LINUX32', flags: [] } }, { ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 6 }, scheduler });
    expect(go).toThrow(ExecveCalled);
    const ops = sys.effects().map((c) => c.op);
    expect(ops.slice(0, 9)).toEqual(['chdir', 'setBlocking', 'setBlocking', 'setBlocking', 'schedSetattr', 'ioprioSet', 'personality', 'setDumpable', 'setgroups']);
    expect(sys.callsOf('schedSetattr')).toEqual([{ op: 'schedSetattr', attr: schedAttr(scheduler), flags: 0 }]);
    expect(sys.callsOf('ioprioSet')).toEqual([{ op: 'ioprioSet', which: IOPRIO_WHO_PROCESS, who: 0, ioprio: 0x4006 }]);
    expect([sys.ioPriority, sys.persona]).toEqual([0x4006, 8]);
  });

  test('none given: no call', () => {
    const { sys, go } = run({});
    expect(go).toThrow(ExecveCalled);
    expect(sys.calls.filter((c) => c.op === 'schedSetattr' || c.op === 'ioprioSet' || c.op === 'personality')).toEqual([]);
  });

  test('the fake answers as sched_setattr(2): a real-time policy without a priority is EINVAL, a short struct E2BIG', () => {
    const sys = new FakeSyscalls();
    const fifo0: SchedulerSpec = { policy: 'SCHED_FIFO', nice: 0, priority: 0, flags: [], runtime: 0n, deadline: 0n, period: 0n };
    expect(() => sys.schedSetattr(schedAttr(fifo0), 0)).toThrow('sched_setattr: EINVAL');
    expect(() => sys.schedSetattr(schedAttr({ ...fifo0, priority: 1 }), 0)).not.toThrow();
    const short = schedAttr({ ...fifo0, priority: 1 });
    new DataView(short.buffer).setUint32(0, 40, true);
    expect(() => sys.schedSetattr(short, 0)).toThrow('sched_setattr: E2BIG');
  });

  test('personality flags are ignored with a warning, as runc ignores them', () => {
    const { log, go } = run({ personality: { domain: 'LINUX', flags: ['ADDR_NO_RANDOMIZE'] } });
    expect(go).toThrow(ExecveCalled);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual(['linux.personality.flags ["ADDR_NO_RANDOMIZE"] ignored, as runc ignores them']);
  });

  test('a refusal stops the run before execve, naming the field (personality(2) never fails)', () => {
    const rt = run({}, { ioPriority: { class: 'IOPRIO_CLASS_RT', priority: 0 } });
    rt.sys.failOn('ioprioSet', 'EPERM');
    expect(rt.go).toThrow('finalize: plugin exec: process.ioPriority: ioprio_set: EPERM');
    expect(rt.sys.callsOf('execve')).toEqual([]);
    const fifo = run({}, { scheduler: { policy: 'SCHED_FIFO', nice: 0, priority: 50, flags: [], runtime: 0n, deadline: 0n, period: 0n } });
    fifo.sys.failOn('schedSetattr', 'EPERM');
    expect(fifo.go).toThrow('finalize: plugin exec: process.scheduler: sched_setattr: EPERM');

  });
});
