/**
 * The process attributes runc 1.2's init sets just before the identity and capabilities
 * change, as numbers for their syscalls: process.ioPriority (ioprio_set(2)) and
 * linux.personality (personality(2)). Pure; the handover makes the calls.
 */
import type { IoPriority, PersonalitySpec } from '../../core/config/model';

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
