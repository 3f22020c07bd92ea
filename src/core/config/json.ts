/**
 * Readers of parsed JSON values for the config loaders: each checks one value's type and
 * range and raises a ConfigError naming the field by its JSON path when it is wrong.
 * JSON null counts as absent, as it does for runtimes that decode into pointers and slices.
 */
import * as path from 'path';
import { ConfigError } from '../errors';

export type JsonObject = Record<string, unknown>;

/** The largest 32-bit unsigned value: uid_t, gid_t and the kernel's other u32 fields. */
export const UINT32_MAX = 0xffffffff;

export function fail(field: string, value: unknown, reason: string): never {
  throw new ConfigError(field, value, reason);
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isAbsent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

export function optionalObject(v: unknown, field: string): JsonObject | undefined {
  if (isAbsent(v)) return undefined;
  if (!isObject(v)) fail(field, undefined, 'must be an object');
  return v;
}

export function object(v: unknown, field: string): JsonObject {
  return optionalObject(v, field) ?? fail(field, undefined, 'is required');
}

/** A string without NUL bytes: the kernel reads C strings, so a NUL would silently cut it. */
export function checkedString(v: unknown, field: string, reason = 'must be a string'): string {
  if (typeof v !== 'string') fail(field, undefined, reason);
  if (v.includes('\0')) fail(field, v, 'must not contain a NUL byte');
  return v;
}

export function optionalString(v: unknown, field: string, fallback: string): string {
  return isAbsent(v) ? fallback : checkedString(v, field);
}

export function requiredString(v: unknown, field: string): string {
  if (isAbsent(v)) fail(field, undefined, 'is required');
  return checkedString(v, field);
}

export function absolutePath(v: unknown, field: string): string {
  const p = requiredString(v, field);
  if (!path.posix.isAbsolute(p)) fail(field, p, 'must be an absolute path');
  return p;
}

export function optionalBoolean(v: unknown, field: string): boolean {
  if (isAbsent(v)) return false;
  if (typeof v !== 'boolean') fail(field, undefined, 'must be a boolean');
  return v;
}

export function unsigned(v: unknown, field: string, max: number): number {
  if (typeof v !== 'number') fail(field, undefined, 'must be a number');
  if (!Number.isInteger(v) || v < 0) fail(field, v, 'must be a non-negative integer');
  if (v > max) fail(field, v, `must be at most ${max}`);
  return v;
}

export function optionalUnsigned(v: unknown, field: string, max: number, fallback: number): number {
  return isAbsent(v) ? fallback : unsigned(v, field, max);
}

/** An object of strings (linux.sysctl, annotations) as its [key, value] pairs, in order; absent, none. */
export function stringEntries(v: unknown, field: string): [string, string][] {
  if (isAbsent(v)) return [];
  if (!isObject(v)) fail(field, undefined, 'must be an object of strings');
  return Object.entries(v).map(([key, value]): [string, string] => [key, checkedString(value, `${field}[${JSON.stringify(key)}]`)]);
}

export function stringArray(v: unknown, field: string): string[] | undefined {
  if (isAbsent(v)) return undefined;
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) fail(field, undefined, 'must be an array of strings');
  // The element's field name is made only for the error: a config may hold thousands.
  const bad = (v as string[]).findIndex((s) => s.includes('\0'));
  if (bad >= 0) checkedString(v[bad], `${field}[${bad}]`);
  return (v as string[]).slice();
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  const s = requiredString(v, field);
  if (!(allowed as readonly string[]).includes(s)) fail(field, s, `must be one of ${allowed.join(', ')}`);
  return s as T;
}

export function list<T>(v: unknown, field: string, item: (v: unknown, field: string, index: number) => T): T[] {
  if (isAbsent(v)) return [];
  if (!Array.isArray(v)) fail(field, undefined, 'must be an array');
  return v.map((el, i) => item(el, `${field}[${i}]`, i));
}

export function absolutePathArray(v: unknown, field: string): string[] {
  return list(v, field, absolutePath);
}

/**
 * What follows "is not valid JSON" for JSON.parse's message: the place it names ("... in
 * JSON at position 41", V8's) as a line and column counted from 1, as an editor shows
 * them, then the message; or the message alone when it names none.
 */
export function parseErrorAt(text: string, message: string): string {
  const at = / in JSON at position (\d+)$/.exec(message);
  if (!at) return `: ${message}`;
  const offset = Math.min(Number(at[1]), text.length);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column}: ${message.slice(0, at.index)}`;
}

/**
 * How a number beyond the exact doubles was read, in full (BigInt: JavaScript's own
 * shortest form would end in zeros): the value given may have been another.
 */
export function beyondExact(v: number): string {
  return `is read as ${BigInt(v)} (a JSON number is read as a double, exact up to ${Number.MAX_SAFE_INTEGER})`;
}

/**
 * A uint64 as JSON.parse gives it: a number exact as a double (up to 2^53 - 1), or
 * 18446744073709551615 (UINT64_MAX), which it reads as 2^64. Anything else between would
 * arrive rounded, and is refused rather than used as another value; the loader refuses
 * the integers that round to 2^64 too (oci.ts, checkNearUint64Max).
 */
export function uint64(v: unknown, field: string): bigint {
  if (typeof v !== 'number') fail(field, undefined, 'must be a number');
  if (!Number.isInteger(v) || v < 0) fail(field, v, 'must be a non-negative integer');
  if (v === 2 ** 64) return 0xffffffffffffffffn;
  if (!Number.isSafeInteger(v)) fail(field, undefined, `${beyondExact(v)}: must be at most ${Number.MAX_SAFE_INTEGER}, or 18446744073709551615`);
  return BigInt(v);
}
