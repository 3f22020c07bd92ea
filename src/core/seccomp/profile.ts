/**
 * A seccomp profile (OCI linux.seccomp) -> the filter libseccomp builds and the flags
 * seccomp(2) loads it with, as runc reads a profile:
 *
 * - each name of a syscalls[] entry is a rule of its own, with the entry's action and
 *   comparisons; errnoRet (EPERM when absent) is the data of SCMP_ACT_ERRNO and
 *   SCMP_ACT_TRACE and of nothing else;
 * - a rule whose action, data included, is the default action is left out (libseccomp
 *   refuses it, EACCES);
 * - comparisons of different arguments make one rule (all must hold); when one argument
 *   is compared more than once, each comparison is a rule of its own (any may hold), as
 *   libseccomp takes one comparison per argument and rule (EINVAL);
 * - SCMP_ACT_NOTIFY needs listenerPath, and is refused as the default action and for
 *   write(2), as runc refuses them;
 * - flags absent means SECCOMP_FILTER_FLAG_SPEC_ALLOW (runc 1.2, crun): the container
 *   keeps the machine's speculative-store-bypass setting instead of the mitigation a
 *   seccomp filter otherwise forces on it;
 * - the syscalls newer than every one the profile names answer ENOSYS (the ENOSYS stub,
 *   ./enosys.ts) unless the default action lets them run.
 *
 * Every refusal is a ConfigError naming the field.
 */
import type { SeccompSpec, SeccompSyscallSpec } from '../config/model';
import { ConfigError, errnoNumber } from '../errors';
import type { SeccompArgCmp, SeccompFilter, SeccompRule } from '../syscalls/types';
import {
  ACTIONS,
  ARCHITECTURES,
  ERRNO_ACTIONS,
  FLAGS,
  OPERATORS,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_DATA,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_LOG,
  SECCOMP_RET_TRACE,
  SECCOMP_RET_USER_NOTIF,
  SYSCALL_ARGS,
} from './names';

const FIELD = 'linux.seccomp';

/** What an errnoRet is when absent. */
const EPERM = errnoNumber('EPERM');
const ENOSYS = errnoNumber('ENOSYS');

export interface SeccompProfile {
  filter: SeccompFilter;
  /** seccomp(2) flags. */
  flags: number;
  /** The flags in `flags` the profile did not ask for: left out where the kernel refuses them (EINVAL). */
  implicitFlags: number;
  /** Whether the ENOSYS stub goes before libseccomp's program. */
  enosysStub: boolean;
  /** Where the listener of SCMP_ACT_NOTIFY rules goes; absent without such rules. */
  listener?: { path: string; metadata: string };
  /** Fields that have no effect, for a warning. */
  ignored: string[];
}

function named<T>(table: ReadonlyMap<string, T>, name: string, field: string, what: string): T {
  const value = table.get(name);
  if (value === undefined) throw new ConfigError(field, name, `is not a ${what}; known: ${[...table.keys()].join(', ')}`);
  return value;
}

/** An errnoRet: SECCOMP_RET_DATA holds 16 bits. */
function errnoRet(value: number | undefined, field: string): number {
  if (value === undefined) return EPERM;
  if (!Number.isInteger(value) || value < 0 || value > SECCOMP_RET_DATA) throw new ConfigError(field, value, `must be an integer from 0 to ${SECCOMP_RET_DATA}`);
  return value;
}

/** An action with its data, and a note when an errnoRet is given to an action that returns none. */
function action(name: string, errno: number | undefined, field: string, errnoField: string, ignored: string[]): number {
  const base = named(ACTIONS, name, field, 'seccomp action');
  const data = errnoRet(errno, errnoField);
  if (ERRNO_ACTIONS.has(base)) return (base | data) >>> 0;
  if (errno !== undefined) ignored.push(`${errnoField} (${name} returns no errno)`);
  return base;
}

function comparisons(entry: SeccompSyscallSpec, field: string): SeccompArgCmp[][] {
  const cmps = entry.args.map((a, j): SeccompArgCmp => {
    const f = `${field}.args[${j}]`;
    if (!Number.isInteger(a.index) || a.index < 0 || a.index >= SYSCALL_ARGS) throw new ConfigError(`${f}.index`, a.index, `must be from 0 to ${SYSCALL_ARGS - 1}: a syscall has ${SYSCALL_ARGS} arguments`);
    return { arg: a.index, op: named(OPERATORS, a.op, `${f}.op`, 'seccomp operator'), datumA: a.value, datumB: a.valueTwo };
  });
  if (cmps.length === 0) return [[]];
  const repeated = cmps.some((c, j) => cmps.findIndex((o) => o.arg === c.arg) !== j);
  return repeated ? cmps.map((c) => [c]) : [cmps];
}

/** Checks `spec` and converts it; throws a ConfigError naming the first field in error. */
export function seccompProfile(spec: SeccompSpec): SeccompProfile {
  const ignored: string[] = [];
  const defaultAction = action(spec.defaultAction, spec.defaultErrnoRet, `${FIELD}.defaultAction`, `${FIELD}.defaultErrnoRet`, ignored);
  if (defaultAction === SECCOMP_RET_USER_NOTIF) throw new ConfigError(`${FIELD}.defaultAction`, spec.defaultAction, 'cannot be the default action, as in runc: every syscall would wait for the agent');
  const architectures = spec.architectures.map((name, i) => {
    const field = `${FIELD}.architectures[${i}]`;
    return { arch: named(ARCHITECTURES, name, field, 'seccomp architecture'), field };
  });
  let flags = 0;
  spec.flags?.forEach((name, i) => (flags |= named(FLAGS, name, `${FIELD}.flags[${i}]`, 'seccomp flag')));
  const implicitFlags = spec.flags === undefined ? SECCOMP_FILTER_FLAG_SPEC_ALLOW : 0;
  // TSYNC would put the filter on every thread of mountkit's, and only the one that execs becomes the container: accepted, not passed on (as runc does).
  flags = (flags | implicitFlags) & ~SECCOMP_FILTER_FLAG_TSYNC;

  const rules: SeccompRule[] = [];
  const names: string[] = [];
  let notify = false;
  spec.syscalls.forEach((entry, i) => {
    const field = `${FIELD}.syscalls[${i}]`;
    const act = action(entry.action, entry.errnoRet, `${field}.action`, `${field}.errnoRet`, ignored);
    const argSets = comparisons(entry, field);
    if (act === SECCOMP_RET_USER_NOTIF) {
      notify = true;
      if (entry.names.includes('write')) throw new ConfigError(`${field}.action`, entry.action, 'cannot be the action for write, as in runc');
    }
    entry.names.forEach((name, j) => {
      if (name === '') throw new ConfigError(`${field}.names[${j}]`, name, 'must name a syscall');
      names.push(name);
      if (act === defaultAction) return;
      for (const args of argSets) rules.push({ syscall: name, action: act, args, field });
    });
  });

  let listener: SeccompProfile['listener'];
  if (notify) {
    if (!spec.listenerPath) throw new ConfigError(`${FIELD}.listenerPath`, undefined, 'is required with SCMP_ACT_NOTIFY: the listener is sent there');
    listener = { path: spec.listenerPath, metadata: spec.listenerMetadata ?? '' };
    flags |= SECCOMP_FILTER_FLAG_NEW_LISTENER;
  } else if (flags & SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV) {
    // seccomp(2) refuses WAIT_KILLABLE_RECV without NEW_LISTENER (EINVAL).
    ignored.push(`${FIELD}.flags SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (no SCMP_ACT_NOTIFY rule)`);
    flags &= ~SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
  }

  const base = (defaultAction & ~SECCOMP_RET_DATA) >>> 0;
  const lets = base === SECCOMP_RET_ALLOW || base === SECCOMP_RET_LOG || base === SECCOMP_RET_TRACE;
  const enosysStub = !lets && defaultAction !== (SECCOMP_RET_ERRNO | ENOSYS);
  return {
    // runc 1.2 asks for the tree past 32 names; counting the rules added spares a filter of none the layout.
    filter: { defaultAction, architectures, rules, binaryTree: rules.length > 32, names },
    flags,
    implicitFlags,
    enosysStub,
    ...(listener ? { listener } : {}),
    ignored,
  };
}
