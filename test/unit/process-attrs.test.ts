import { IOPRIO_CLASSES, IOPRIO_LEVEL_MAX, NICE_MAX, NICE_MIN, PERSONAS, RT_PRIORITY_MAX, SCHED_FLAGS, SCHED_POLICIES, namesOf } from '../../src/core/process-attrs';

describe("process attributes' kernel values, as the uapi headers give them", () => {
  test('sched(7): the policies (include/uapi/linux/sched.h) and sched_setattr(2) flags', () => {
    expect(SCHED_POLICIES).toEqual({ SCHED_OTHER: 0, SCHED_FIFO: 1, SCHED_RR: 2, SCHED_BATCH: 3, SCHED_ISO: 4, SCHED_IDLE: 5, SCHED_DEADLINE: 6 });
    // The flags are the bits from 0x01 up, in this order.
    const flags = ['RESET_ON_FORK', 'RECLAIM', 'DL_OVERRUN', 'KEEP_POLICY', 'KEEP_PARAMS', 'UTIL_CLAMP_MIN', 'UTIL_CLAMP_MAX'];
    expect(Object.entries(SCHED_FLAGS)).toEqual(flags.map((name, bit) => [`SCHED_FLAG_${name}`, 1n << BigInt(bit)]));
    expect([NICE_MIN, NICE_MAX, RT_PRIORITY_MAX]).toEqual([-20, 19, 99]);
  });

  test('ioprio_set(2): the classes (include/uapi/linux/ioprio.h) and the levels 0 to 7', () => {
    expect(IOPRIO_CLASSES).toEqual({ IOPRIO_CLASS_RT: 1, IOPRIO_CLASS_BE: 2, IOPRIO_CLASS_IDLE: 3 });
    expect(IOPRIO_LEVEL_MAX).toBe(7);
  });

  test('personality(2): the execution domains runc takes (include/uapi/linux/personality.h PER_LINUX, PER_LINUX32)', () => {
    expect(PERSONAS).toEqual({ LINUX: 0x0000, LINUX32: 0x0008 });
    expect(namesOf(PERSONAS)).toEqual(['LINUX', 'LINUX32']);
  });
});
