/**
 * OCI linux.seccomp -> SeccompSpec: the JSON's types. The names (actions, architectures,
 * operators, flags) and the rules between fields are checked where the profile becomes a
 * filter (core/seccomp/profile.ts), for configs built in code too.
 */
import path = require('path');
import type { SeccompArgSpec, SeccompSpec, SeccompSyscallSpec } from './model';
import { SECCOMP_RET_DATA, SYSCALL_ARGS } from '../seccomp/names';
import { fail, isAbsent, list, object, optionalObject, optionalString, requiredString, stringArray, uint64 } from './json';

const FIELD = 'linux.seccomp';

/**
 * An errnoRet: a Go uint in runc's runtime-spec, any uint64, of which SECCOMP_RET_DATA
 * holds 16 bits. runc 1.1.5 converts it to an int16 (libcontainer/seccomp's getAction),
 * so it applies another errno than a larger value says: 65537 is EPERM, 65536 is 0, a
 * syscall answered 0 without running (checked with runc run). mountkit refuses those
 * instead. Below 65536 the two agree: libseccomp 2.5 refuses 4095 and up (EINVAL).
 */
function optionalErrnoRet(v: unknown, field: string): number | undefined {
  if (isAbsent(v)) return undefined;
  const errno = uint64(v, field);
  if (errno > BigInt(SECCOMP_RET_DATA)) {
    fail(field, errno, `must be at most ${SECCOMP_RET_DATA}, the 16 bits of SECCOMP_RET_DATA: runc 1.1.5 keeps only the low 16 bits of a larger value, which is another errno (65536 is 0, a syscall answered 0 without running)`);
  }
  return Number(errno);
}

/**
 * A comparison's argument index: a Go uint in runc's runtime-spec, any uint64, and one
 * of a syscall's six arguments (0 to 5), as libseccomp takes it. runc refuses a larger
 * index when it adds the rule (libseccomp-golang's MakeCondition); mountkit does for
 * every rule, including those runc leaves out before (a syscall libseccomp does not
 * know, an action that is the default one).
 */
function argIndex(v: unknown, field: string): number {
  const index = uint64(v, field);
  if (index >= BigInt(SYSCALL_ARGS)) fail(field, index, `must be from 0 to ${SYSCALL_ARGS - 1}: a syscall has ${SYSCALL_ARGS} arguments`);
  return Number(index);
}

function parseArg(v: unknown, field: string): SeccompArgSpec {
  const a = object(v, field);
  return {
    index: argIndex(a.index, `${field}.index`),
    value: uint64(a.value, `${field}.value`),
    valueTwo: isAbsent(a.valueTwo) ? 0n : uint64(a.valueTwo, `${field}.valueTwo`),
    op: requiredString(a.op, `${field}.op`),
  };
}

function parseSyscall(v: unknown, field: string): SeccompSyscallSpec {
  const s = object(v, field);
  const names = stringArray(s.names, `${field}.names`);
  if (names === undefined) fail(`${field}.names`, undefined, 'is required');
  const errnoRet = optionalErrnoRet(s.errnoRet, `${field}.errnoRet`);
  return {
    names,
    action: requiredString(s.action, `${field}.action`),
    ...(errnoRet === undefined ? {} : { errnoRet }),
    args: list(s.args, `${field}.args`, parseArg),
  };
}

/**
 * linux.seccomp; absent, or without a default action and rules (as runc reads it), no
 * filter. A relative listenerPath is the bundle's, as runc, which runs in the bundle
 * directory, connects to it: not wherever mountkit was started.
 */
export function parseSeccomp(v: unknown, bundle: string): SeccompSpec | undefined {
  const s = optionalObject(v, FIELD);
  if (!s) return undefined;
  const syscalls = list(s.syscalls, `${FIELD}.syscalls`, parseSyscall);
  const defaultAction = optionalString(s.defaultAction, `${FIELD}.defaultAction`, '');
  // Every field is read before a profile without rules is dropped: runc decodes them all, and refuses a value of another type in any.
  const defaultErrnoRet = optionalErrnoRet(s.defaultErrnoRet, `${FIELD}.defaultErrnoRet`);
  const architectures = stringArray(s.architectures, `${FIELD}.architectures`) ?? [];
  const flags = stringArray(s.flags, `${FIELD}.flags`);
  const listenerPath = optionalString(s.listenerPath, `${FIELD}.listenerPath`, '');
  const listenerMetadata = optionalString(s.listenerMetadata, `${FIELD}.listenerMetadata`, '');
  if (defaultAction === '' && syscalls.length === 0) return undefined;
  if (defaultAction === '') fail(`${FIELD}.defaultAction`, undefined, 'is required with syscalls');
  return {
    defaultAction,
    ...(defaultErrnoRet === undefined ? {} : { defaultErrnoRet }),
    architectures,
    ...(flags === undefined ? {} : { flags }),
    ...(listenerPath ? { listenerPath: path.resolve(bundle, listenerPath) } : {}),
    ...(listenerMetadata ? { listenerMetadata } : {}),
    syscalls,
  };
}
