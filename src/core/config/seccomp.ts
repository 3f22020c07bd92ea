/**
 * OCI linux.seccomp -> SeccompSpec: the JSON's types. The names (actions, architectures,
 * operators, flags) and the rules between fields are checked where the profile becomes a
 * filter (core/seccomp/profile.ts), for configs built in code too.
 */
import path = require('path');
import type { SeccompArgSpec, SeccompSpec, SeccompSyscallSpec } from './model';
import { fail, isAbsent, list, object, optionalObject, optionalString, requiredString, stringArray, uint64, unsigned, UINT32_MAX } from './json';

const FIELD = 'linux.seccomp';

function optionalUint32(v: unknown, field: string): number | undefined {
  return isAbsent(v) ? undefined : unsigned(v, field, UINT32_MAX);
}

function parseArg(v: unknown, field: string): SeccompArgSpec {
  const a = object(v, field);
  return {
    index: unsigned(a.index, `${field}.index`, UINT32_MAX),
    value: uint64(a.value, `${field}.value`),
    valueTwo: isAbsent(a.valueTwo) ? 0n : uint64(a.valueTwo, `${field}.valueTwo`),
    op: requiredString(a.op, `${field}.op`),
  };
}

function parseSyscall(v: unknown, field: string): SeccompSyscallSpec {
  const s = object(v, field);
  const names = stringArray(s.names, `${field}.names`);
  if (names === undefined) fail(`${field}.names`, undefined, 'is required');
  const errnoRet = optionalUint32(s.errnoRet, `${field}.errnoRet`);
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
  if (defaultAction === '' && syscalls.length === 0) return undefined;
  if (defaultAction === '') fail(`${FIELD}.defaultAction`, undefined, 'is required with syscalls');
  const defaultErrnoRet = optionalUint32(s.defaultErrnoRet, `${FIELD}.defaultErrnoRet`);
  const flags = stringArray(s.flags, `${FIELD}.flags`);
  const listenerPath = optionalString(s.listenerPath, `${FIELD}.listenerPath`, '');
  const listenerMetadata = optionalString(s.listenerMetadata, `${FIELD}.listenerMetadata`, '');
  return {
    defaultAction,
    ...(defaultErrnoRet === undefined ? {} : { defaultErrnoRet }),
    architectures: stringArray(s.architectures, `${FIELD}.architectures`) ?? [],
    ...(flags === undefined ? {} : { flags }),
    ...(listenerPath ? { listenerPath: path.resolve(bundle, listenerPath) } : {}),
    ...(listenerMetadata ? { listenerMetadata } : {}),
    syscalls,
  };
}
