/**
 * The names runtime-spec gives the process attributes of sched_setattr(2), ioprio_set(2)
 * and personality(2), with the kernel's number for each: one table each, which the OCI
 * loader takes the names from and the exec plugin the numbers.
 */

/** sched_setattr(2)'s limits: nice -20 to 19, a real-time priority 1 to 99. */
export const NICE_MIN = -20;
export const NICE_MAX = 19;
export const RT_PRIORITY_MAX = 99;
/** ioprio's highest level, 0 to 7 (IOPRIO_NR_LEVELS, include/uapi/linux/ioprio.h). */
export const IOPRIO_LEVEL_MAX = 7;

/** sched(7) policies, include/uapi/linux/sched.h. */
export const SCHED_POLICIES = {
  SCHED_OTHER: 0,
  SCHED_FIFO: 1,
  SCHED_RR: 2,
  SCHED_BATCH: 3,
  SCHED_ISO: 4,
  SCHED_IDLE: 5,
  SCHED_DEADLINE: 6,
} as const;
export type SchedPolicy = keyof typeof SCHED_POLICIES;

/** sched_setattr(2) flags, include/uapi/linux/sched.h. */
export const SCHED_FLAGS = {
  SCHED_FLAG_RESET_ON_FORK: 0x01n,
  SCHED_FLAG_RECLAIM: 0x02n,
  SCHED_FLAG_DL_OVERRUN: 0x04n,
  SCHED_FLAG_KEEP_POLICY: 0x08n,
  SCHED_FLAG_KEEP_PARAMS: 0x10n,
  SCHED_FLAG_UTIL_CLAMP_MIN: 0x20n,
  SCHED_FLAG_UTIL_CLAMP_MAX: 0x40n,
} as const;
export type SchedFlag = keyof typeof SCHED_FLAGS;

/** I/O scheduling classes, include/uapi/linux/ioprio.h. */
export const IOPRIO_CLASSES = {
  IOPRIO_CLASS_RT: 1,
  IOPRIO_CLASS_BE: 2,
  IOPRIO_CLASS_IDLE: 3,
} as const;
export type IoprioClass = keyof typeof IOPRIO_CLASSES;

/** personality(2) execution domains, include/uapi/linux/personality.h: PER_LINUX and PER_LINUX32. */
export const PERSONAS = {
  LINUX: 0x0000,
  LINUX32: 0x0008,
} as const;
export type PersonaDomain = keyof typeof PERSONAS;

/** The names of a table, in its order: what a config may write. */
export function namesOf<T extends object>(table: T): (keyof T & string)[] {
  return Object.keys(table) as (keyof T & string)[];
}
