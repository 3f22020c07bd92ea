/**
 * The process attributes runc's init sets just before the identity and capabilities
 * change (runc 1.2 and later; 1.2 set the personality only after them), as what their
 * syscalls take: process.scheduler (sched_setattr(2)), process.ioPriority (ioprio_set(2))
 * and linux.personality (personality(2)). Pure; the handover makes the calls.
 */
import { LITTLE_ENDIAN } from '../../core/constants';
import type { IoPriority, PersonalitySpec, SchedulerSpec } from '../../core/config/model';
import { IOPRIO_CLASSES, PERSONAS, SCHED_FLAGS, SCHED_POLICIES } from '../../core/process-attrs';

/**
 * struct sched_attr as SCHED_ATTR_SIZE_VER1 (56 bytes, include/uapi/linux/sched/types.h):
 * u32 size, u32 sched_policy, u64 sched_flags, s32 sched_nice, u32 sched_priority, u64
 * sched_runtime, sched_deadline, sched_period, u32 sched_util_min, sched_util_max (0).
 */
export const SCHED_ATTR_SIZE = 56;

export function schedAttr(s: SchedulerSpec): Uint8Array {
  const buf = new Uint8Array(SCHED_ATTR_SIZE);
  const view = new DataView(buf.buffer);
  let flags = 0n;
  for (const f of s.flags) flags |= SCHED_FLAGS[f];
  view.setUint32(0, SCHED_ATTR_SIZE, LITTLE_ENDIAN);
  view.setUint32(4, SCHED_POLICIES[s.policy], LITTLE_ENDIAN);
  view.setBigUint64(8, flags, LITTLE_ENDIAN);
  view.setInt32(16, s.nice, LITTLE_ENDIAN);
  view.setUint32(20, s.priority, LITTLE_ENDIAN);
  view.setBigUint64(24, s.runtime, LITTLE_ENDIAN);
  view.setBigUint64(32, s.deadline, LITTLE_ENDIAN);
  view.setBigUint64(40, s.period, LITTLE_ENDIAN);
  return buf;
}

/** ioprio_set(2) `which`: the calling process itself when `who` is 0 (include/uapi/linux/ioprio.h). */
export const IOPRIO_WHO_PROCESS = 1;
/** IOPRIO_PRIO_VALUE(class, level): the class above IOPRIO_CLASS_SHIFT, the level below. */
const IOPRIO_CLASS_SHIFT = 13;

/** The ioprio value of process.ioPriority. */
export function ioprioValue(p: IoPriority): number {
  return (IOPRIO_CLASSES[p.class] << IOPRIO_CLASS_SHIFT) | p.priority;
}

export function personaValue(p: PersonalitySpec): number {
  return PERSONAS[p.domain];
}
