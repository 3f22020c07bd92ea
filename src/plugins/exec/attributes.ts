/**
 * The process attributes runc 1.2's init sets just before the identity and capabilities
 * change, as what their syscalls take: process.scheduler (sched_setattr(2)),
 * process.ioPriority (ioprio_set(2)) and linux.personality (personality(2)). Pure; the
 * handover makes the calls.
 */
import { LITTLE_ENDIAN } from '../../core/constants';
import type { IoPriority, PersonalitySpec, SchedulerSpec } from '../../core/config/model';

/** sched(7) policies, include/uapi/linux/sched.h. */
export const SCHED_POLICIES: Readonly<Record<SchedulerSpec['policy'], number>> = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
};

/** sched_setattr(2) flags, include/uapi/linux/sched.h. */
export const SCHED_FLAGS: ReadonlyMap<string, bigint> = new Map([
  ['SCHED_FLAG_RESET_ON_FORK', 0x01n],
  ['SCHED_FLAG_RECLAIM', 0x02n],
  ['SCHED_FLAG_DL_OVERRUN', 0x04n],
  ['SCHED_FLAG_KEEP_POLICY', 0x08n],
  ['SCHED_FLAG_KEEP_PARAMS', 0x10n],
  ['SCHED_FLAG_UTIL_CLAMP_MIN', 0x20n],
  ['SCHED_FLAG_UTIL_CLAMP_MAX', 0x40n],
]);

/**
 * struct sched_attr as SCHED_ATTR_SIZE_VER1 (56 bytes, include/uapi/linux/sched/types.h):
 * u32 size, u32 sched_policy, u64 sched_flags, s32 sched_nice, u32 sched_priority, u64
 * sched_runtime, sched_deadline, sched_period, u32 sched_util_min, sched_util_max (0).
 */
export const SCHED_ATTR_SIZE = 56;

export function schedAttr(s: SchedulerSpec): Uint8Array {
  const buf = new Uint8Array(SCHED_ATTR_SIZE);
  const view = new DataView(buf.buffer);
  const little = LITTLE_ENDIAN;
  let flags = 0n;
  for (const f of s.flags) flags |= SCHED_FLAGS.get(f) ?? 0n;
  view.setUint32(0, SCHED_ATTR_SIZE, little);
  view.setUint32(4, SCHED_POLICIES[s.policy], little);
  view.setBigUint64(8, flags, little);
  view.setInt32(16, s.nice, little);
  view.setUint32(20, s.priority, little);
  view.setBigUint64(24, s.runtime, little);
  view.setBigUint64(32, s.deadline, little);
  view.setBigUint64(40, s.period, little);
  return buf;
}

/** ioprio_set(2) `which`: the calling process itself when `who` is 0 (include/uapi/linux/ioprio.h). */
export const IOPRIO_WHO_PROCESS = 1;
/** IOPRIO_PRIO_VALUE(class, level): the class above IOPRIO_CLASS_SHIFT, the level below. */
const IOPRIO_CLASS_SHIFT = 13;
const IOPRIO_CLASSES: Readonly<Record<IoPriority['class'], number>> = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
};

/** The ioprio value of process.ioPriority. */
export function ioprioValue(p: IoPriority): number {
  return (IOPRIO_CLASSES[p.class] << IOPRIO_CLASS_SHIFT) | p.priority;
}

/** personality(2) execution domains, include/uapi/linux/personality.h: PER_LINUX and PER_LINUX32. */
const PERSONAS: Readonly<Record<PersonalitySpec['domain'], number>> = {
  LINUX: 0x0000,
  LINUX32: 0x0008,
};

export function personaValue(p: PersonalitySpec): number {
  return PERSONAS[p.domain];
}
