/**
 * Readers of parsed JSON values for the config loaders: each checks one value's type and
 * range and raises a ConfigError naming the field by its JSON path when it is wrong.
 * JSON null counts as absent, as it does for runtimes that decode into pointers and slices.
 */
import path = require('path');
import { PATH_MAX } from '../constants';
import { ConfigError, firstLine } from '../errors';

export type JsonObject = Record<string, unknown>;

/** The largest 32-bit unsigned value: uid_t, gid_t and the kernel's other u32 fields. */
export const UINT32_MAX = 0xffffffff;

export function fail(field: string, value: unknown, reason: string): never {
  throw new ConfigError(field, value, reason);
}

/** The type of a value as JSON names it, in words; a value no JSON text gives (a function, in a spec built in code) by its JavaScript type. */
export function jsonTypeWords(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Refuses a value of the wrong type, showing it and naming its type: `"0"` where a number
 * belongs reads as a string. Nothing where something is needed (a required field left
 * out, a hole in an array built in code) is refused as required.
 */
export function wrongType(field: string, value: unknown, want: string): never {
  throw value === undefined ? new ConfigError(field, undefined, 'is required') : new ConfigError(field, value, `must be ${want}, not ${jsonTypeWords(value)}`);
}

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isAbsent(v: unknown): v is undefined | null {
  return v === undefined || v === null;
}

export function optionalObject(v: unknown, field: string): JsonObject | undefined {
  if (isAbsent(v)) return undefined;
  if (!isObject(v)) wrongType(field, v, 'an object');
  return v;
}

export function object(v: unknown, field: string): JsonObject {
  return optionalObject(v, field) ?? fail(field, undefined, 'is required');
}

/** A string without NUL bytes: the kernel reads C strings, so a NUL would silently cut it. */
export function checkedString(v: unknown, field: string): string {
  if (typeof v !== 'string') wrongType(field, v, 'a string');
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

/**
 * An absolute path the kernel can take: PATH_MAX (linux/limits.h) counts its NUL, so at
 * most 4095 bytes; a longer one is ENAMETOOLONG however it resolves, and refused here
 * before any lookup (a cwd of thousands of `..` took time and memory growing as their
 * square before it failed).
 */
export function absolutePath(v: unknown, field: string): string {
  const p = requiredString(v, field);
  if (!path.posix.isAbsolute(p)) fail(field, p, 'must be an absolute path');
  refuseOverPathMax(p, field);
  return p;
}

/**
 * A path `field` gives, as mountkit takes it (a relative one resolved), shorter than
 * PATH_MAX bytes, as the kernel takes a path; shown as taken. (A UTF-16 unit is at most
 * 3 bytes of UTF-8, a lone surrogate written as U+FFFD: most paths need no count.)
 */
export function refuseOverPathMax(p: string, field: string): void {
  if (p.length * 3 >= PATH_MAX && Buffer.byteLength(p) >= PATH_MAX) fail(field, p, `is ${Buffer.byteLength(p)} bytes long: a path must be shorter than PATH_MAX (${PATH_MAX} bytes with its NUL)`);
}

export function optionalBoolean(v: unknown, field: string): boolean {
  if (isAbsent(v)) return false;
  if (typeof v !== 'boolean') wrongType(field, v, 'a boolean');
  return v;
}

/**
 * Whether `v` is a number of config.json: a double as JSON.parse reads it, or an integer
 * beyond the exact doubles as written, which the loader reads as a bigint (number-literals.ts).
 */
export function isNumber(v: unknown): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** Whether `v` is an integer: a bigint, or a number without a fraction. */
export function isInteger(v: number | bigint): boolean {
  return typeof v === 'bigint' || Number.isInteger(v);
}

/** A non-negative integer up to `max`; a bigint is beyond any `max` below 2^53 and refused as written. */
export function unsigned(v: unknown, field: string, max: number): number {
  if (!isNumber(v)) wrongType(field, v, 'a number');
  if (!isInteger(v) || v < 0) fail(field, v, 'must be a non-negative integer');
  if (v > max) fail(field, v, `must be at most ${max}`);
  return Number(v);
}

export function optionalUnsigned(v: unknown, field: string, max: number, fallback: number): number {
  return isAbsent(v) ? fallback : unsigned(v, field, max);
}

/** An object of strings (linux.sysctl, annotations) as its [key, value] pairs, in order; absent, none. */
export function stringEntries(v: unknown, field: string): [string, string][] {
  if (isAbsent(v)) return [];
  if (!isObject(v)) wrongType(field, v, 'an object of strings');
  return Object.entries(v).map(([key, value]): [string, string] => [key, checkedString(value, `${field}[${JSON.stringify(key)}]`)]);
}

export function stringArray(v: unknown, field: string): string[] | undefined {
  return checkedStringArray(v, field)?.slice();
}

/** stringArray's check without its copy: `v` itself, for a caller that reads it at once and keeps nothing of it (a mount's options). */
export function checkedStringArray(v: unknown, field: string): readonly string[] | undefined {
  if (isAbsent(v)) return undefined;
  if (!Array.isArray(v)) wrongType(field, v, 'an array of strings');
  // One indexed pass, with no callback: a config may hold thousands of these lists. An
  // item that is no string (a hole reads as undefined) is refused by its own field name.
  let bad = -1;
  for (let i = 0; i < v.length; i++) {
    const s: unknown = v[i];
    if (typeof s !== 'string') wrongType(`${field}[${i}]`, s, 'a string');
    if (bad < 0 && s.includes('\0')) bad = i;
  }
  // The element's field name is made only for the error.
  if (bad >= 0) checkedString(v[bad], `${field}[${bad}]`);
  return v as string[];
}

export function oneOf<T extends string>(v: unknown, field: string, allowed: readonly T[]): T {
  const s = requiredString(v, field);
  if (!(allowed as readonly string[]).includes(s)) fail(field, s, `must be one of ${allowed.join(', ')}`);
  return s as T;
}

export function list<T>(v: unknown, field: string, item: (v: unknown, field: string, index: number) => T): T[] {
  if (isAbsent(v)) return [];
  if (!Array.isArray(v)) wrongType(field, v, 'an array');
  return v.map((el, i) => item(el, `${field}[${i}]`, i));
}

export function absolutePathArray(v: unknown, field: string): string[] {
  return list(v, field, absolutePath);
}

/** Whitespace between JSON tokens (RFC 8259 section 2): space, tab, line feed, carriage return. */
const JSON_SPACE = /[ \t\n\r]*/y;

/**
 * A number where a value starts (RFC 8259 section 6), as far as it goes: each part its
 * own group, so that a number cut short is found where it stops (scalarEnd).
 */
const JSON_NUMBER = /(-?)(0|[1-9]\d*)?(\.\d*)?([eE][+-]?\d*)?/y;

/** The literal names a value may be (RFC 8259 section 3). */
const JSON_LITERALS = ['true', 'false', 'null'];

/** The end of the number or literal at `at`, or the offset of the first character it cannot have there as -1 - offset. */
function scalarEnd(text: string, at: number): number {
  const literal = JSON_LITERALS.find((l) => l[0] === text[at]);
  if (literal !== undefined) {
    for (let i = 1; i < literal.length; i++) if (text[at + i] !== literal[i]) return -1 - (at + i);
    return at + literal.length;
  }
  JSON_NUMBER.lastIndex = at;
  const m = JSON_NUMBER.exec(text)!;
  let end = at + m[1].length;
  // An integer part, then a fraction and an exponent each with at least one digit.
  if (m[2] === undefined) return -1 - end;
  end += m[2].length;
  for (const part of [m[3], m[4]]) {
    if (part === undefined) continue;
    const digits = part.replace(/^(\.|[eE][+-]?)/, '');
    end += part.length - digits.length;
    if (digits === '') return -1 - end;
    end += digits.length;
  }
  return end;
}

/** The end of the escape after the backslash at `at - 1` (RFC 8259 section 7), or the offset of its first wrong character as -1 - offset. */
function escapeEnd(text: string, at: number): number {
  if (at < text.length && '"\\/bfnrt'.includes(text[at])) return at + 1;
  if (text[at] !== 'u') return -1 - at;
  for (let i = 1; i <= 4; i++) if (!/[0-9a-fA-F]/.test(text[at + i] ?? '')) return -1 - (at + i);
  return at + 5;
}

/** Where the token at `at` ends: `re` matched there (sticky), or -1. */
function tokenEnd(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : -1;
}

/** The offset after the JSON string opening at `at`, or the offset of what it cannot hold there as -1 - offset. */
function stringEnd(text: string, at: number): number {
  for (let i = at + 1; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    // Control characters must be escaped.
    if (c < 0x20) return -1 - i;
    if (c !== 0x5c) {
      i++;
      continue;
    }
    const end = escapeEnd(text, i + 1);
    if (end < 0) return end;
    i = end;
  }
  return -1 - text.length;
}

/**
 * The offset of the first character where `text` stops being JSON (RFC 8259), text.length
 * when it ends early; undefined when it is valid. Nesting is kept on a stack of its own,
 * so no depth of arrays or objects overflows the call stack.
 */
export function syntaxErrorOffset(text: string): number | undefined {
  const open: string[] = [];
  let at = 0;
  let want: 'value' | 'value or ]' | 'key' | 'key or }' | 'after' = 'value';
  for (;;) {
    at = tokenEnd(JSON_SPACE, text, at);
    const c = text[at];
    if (want === 'after') {
      const top = open.at(-1);
      if (top === undefined) return at < text.length ? at : undefined;
      if (c === ',') want = top === '{' ? 'key' : 'value';
      else if (c === (top === '{' ? '}' : ']')) open.pop();
      else return at;
      at++;
      continue;
    }
    if ((want === 'key or }' && c === '}') || (want === 'value or ]' && c === ']')) {
      open.pop();
      want = 'after';
      at++;
      continue;
    }
    if (want === 'key' || want === 'key or }') {
      if (c !== '"') return at;
      const end = stringEnd(text, at);
      if (end < 0) return -1 - end;
      at = tokenEnd(JSON_SPACE, text, end);
      if (text[at] !== ':') return at;
      want = 'value';
      at++;
      continue;
    }
    if (c === '{' || c === '[') {
      open.push(c);
      want = c === '{' ? 'key or }' : 'value or ]';
      at++;
      continue;
    }
    const end = c === '"' ? stringEnd(text, at) : scalarEnd(text, at);
    if (end < 0) return -1 - end;
    want = 'after';
    at = end;
  }
}

/**
 * What follows "is not valid JSON" when JSON.parse refused `text`: where it stops being
 * JSON (syntaxErrorOffset) as a line and column counted from 1, as an editor shows them,
 * and what is there, on one line. JSON.parse's own message, which may quote lines of the
 * file and names no place in some cases, is shown only if the scan finds nothing (first
 * line).
 */
export function parseErrorAt(text: string, message: string): string {
  const offset = syntaxErrorOffset(text);
  if (offset === undefined) return `: ${firstLine(message)}`;
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  const found = offset >= text.length ? 'the text ends there' : `unexpected ${JSON.stringify(String.fromCodePoint(text.codePointAt(offset)!))}`;
  return ` at line ${line}, column ${column}: ${found}`;
}

/**
 * How a number beyond the exact doubles was read, in full (BigInt: JavaScript's own
 * shortest form would end in zeros): the value given may have been another.
 */
export function beyondExact(v: number): string {
  return `is read as ${BigInt(v)} (a JSON number is read as a double, exact up to ${Number.MAX_SAFE_INTEGER})`;
}

/** The largest uint64: RLIM_INFINITY, an all-ones mask. */
export const UINT64_MAX = 0xffffffffffffffffn;

/**
 * A uint64, up to UINT64_MAX as runc reads it. From config.json an integer beyond the
 * exact doubles comes as the bigint written (number-literals.ts). A number, as a spec
 * built in code gives it, is exact up to 2^53 - 1; 2^64, the double
 * 18446744073709551615 becomes, is taken as UINT64_MAX, and anything else beyond 2^53 - 1
 * would have been rounded, and is refused rather than used as another value.
 */
export function uint64(v: unknown, field: string): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n) fail(field, v, 'must be a non-negative integer');
    if (v > UINT64_MAX) fail(field, v, `must be at most ${UINT64_MAX}`);
    return v;
  }
  if (typeof v !== 'number') wrongType(field, v, 'a number');
  if (!Number.isInteger(v) || v < 0) fail(field, v, 'must be a non-negative integer');
  if (v === 2 ** 64) return UINT64_MAX;
  if (!Number.isSafeInteger(v)) fail(field, undefined, `${beyondExact(v)}: must be at most ${Number.MAX_SAFE_INTEGER}, or 18446744073709551615`);
  return BigInt(v);
}
