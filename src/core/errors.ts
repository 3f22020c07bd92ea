import { constants } from 'os';
import { inspect, types } from 'util';
import { MS_BIND, MS_MOVE, MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from './constants';
import type { Phase } from './plugin';

/**
 * Names the kernel's headers give only as another's alias (include/uapi/asm-generic/
 * errno.h: `#define EWOULDBLOCK EAGAIN`, `#define EDEADLOCK EDEADLK`) or not at all
 * (ENOTSUP, glibc's name for EOPNOTSUPP): an errno is named by its kernel name.
 */
const ALIASES = new Set(['EWOULDBLOCK', 'EDEADLOCK', 'ENOTSUP']);

/** errno number -> name (ENOENT), from Node's table of the platform's values. */
const ERRNO_NAMES = new Map<number, string>(
  Object.entries(constants.errno)
    .filter(([name]) => !ALIASES.has(name))
    .map(([name, num]) => [num as number, name]),
);

export function errnoName(errno: number): string {
  return ERRNO_NAMES.get(errno) ?? `E${errno}`;
}

export function errnoNumber(name: string): number {
  const n = (constants.errno as Record<string, number>)[name];
  if (n === undefined) throw new Error(`unknown errno name ${name}`);
  return n;
}

/**
 * Where an error of mountkit's lists its kinds: the `kind` of its class and of each class
 * above it. A registry symbol (Symbol.for) is one value in every copy of this module a
 * process loads, so `instanceof` knows an error another copy of mountkit made (a plugin
 * package's own dependency) for what it is: its exit status, its errno.
 */
const KINDS: unique symbol = Symbol.for('mountkit.errorKinds') as typeof KINDS;

/** The kinds up the class chain from `cls`: each class's own `kind`. */
function kindsOf(cls: unknown): string[] {
  const kinds: string[] = [];
  for (let c = cls; typeof c === 'function' && c !== Error; c = Object.getPrototypeOf(c)) {
    if (Object.prototype.hasOwnProperty.call(c, 'kind')) kinds.push((c as unknown as { kind: string }).kind);
  }
  return kinds;
}

/** Base of every error mountkit raises on purpose; anything else is a bug. */
export class MountkitError extends Error {
  static readonly kind: string = 'MountkitError';

  /** Process exit status the CLI uses for this error. */
  readonly exitCode: number = 1;

  /** Read from the prototype, only when another copy asks: a SyscallError is made often (an ENOENT a lookup expects), asked rarely. */
  get [KINDS](): string[] {
    return kindsOf(this.constructor);
  }

  /** As `instanceof` always answers, or, for an error of another copy of mountkit, whether it has this class's kind. */
  static [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || !Object.prototype.hasOwnProperty.call(this, 'kind')) return false;
    const kinds: unknown = (value as Record<symbol, unknown>)[KINDS];
    return Array.isArray(kinds) && kinds.includes((this as unknown as { kind: string }).kind);
  }
}

/** The configuration is wrong: names the field and the value. Exit status 2. */
export class ConfigError extends MountkitError {
  static override readonly kind: string = 'ConfigError';
  override readonly exitCode = 2;
  constructor(
    readonly field: string,
    readonly value: unknown,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    const shown = value === undefined ? undefined : shownValue(value);
    super(`${field}${shown === undefined ? '' : ' ' + shown}: ${reason}`, options);
    this.name = 'ConfigError';
  }
}

/** A plugin module could not be loaded or wired: names the module. Exit status 2. */
export class StartupError extends MountkitError {
  static override readonly kind: string = 'StartupError';
  override readonly exitCode = 2;
  constructor(
    readonly module: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`plugin module "${module}": ${reason}`, options);
    this.name = 'StartupError';
  }
}

/** Whether SyscallErrors capture a stack trace (syscallErrorStacks). */
let syscallStacks = false;

/**
 * Makes SyscallErrors capture a stack trace (off by default): the CLI turns it on at
 * `--log-level debug`, whose error reports print the stack of an error that failed a
 * run outside the pipeline (entering a namespace, the host checks).
 */
export function syscallErrorStacks(on: boolean): void {
  syscallStacks = on;
}

/**
 * A syscall failed: names the syscall, errno and path(s).
 *
 * It carries no stack trace unless syscallErrorStacks is on. Most are answers the caller
 * expects and takes as one (ENOENT of a lookup, EEXIST of a mkdir), dozens per run, and
 * capturing a stack was most of their cost. One that fails a step reaches the user wrapped
 * in a PluginError naming the phase, plugin and mount, which has its own stack.
 */
export class SyscallError extends MountkitError {
  static override readonly kind: string = 'SyscallError';
  readonly code: string;
  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly paths: readonly string[] = [],
    readonly detail?: string,
  ) {
    const code = errnoName(errno);
    const where = paths.length ? ' ' + paths.map((p) => JSON.stringify(p)).join(' -> ') : '';
    const limit = Error.stackTraceLimit;
    if (!syscallStacks) Error.stackTraceLimit = 0;
    try {
      super(`${syscall}${where}: ${code}${detail ? ` (${detail})` : ''}`);
    } finally {
      Error.stackTraceLimit = limit;
    }
    this.name = 'SyscallError';
    this.code = code;
  }
}

/**
 * The SyscallError behind `err`: itself, or the first along its `cause` chain (a
 * PluginError's, or its StepError's, as a step that names what the call was for wraps
 * it); undefined where no syscall failed (a ConfigError, a plugin's own Error) or the
 * chain turns back on itself.
 */
export function syscallErrorOf(err: unknown): SyscallError | undefined {
  const seen = new Set<unknown>();
  for (let e = err; e instanceof Error && !seen.has(e); e = e.cause) {
    if (e instanceof SyscallError) return e;
    seen.add(e);
  }
  return undefined;
}

/** mount(2) flags whose call takes no filesystem type or data: a bind, a move, a propagation change (mount(2)). */
const NO_FILESYSTEM = MS_BIND | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE;

/**
 * What a failed mount(2) of a filesystem names beside its source and target: the type when
 * the source does not say it (a device, "none") and the data, which the kernel reads for
 * that type and whose bad option is the usual EINVAL (mount(2) has no log to say which);
 * nothing for a bind, a move or a propagation change, which read neither.
 */
export function mountDetail(source: string | null, fstype: string | null, flags: bigint, data: string | null): string | undefined {
  if ((flags & NO_FILESYSTEM) !== 0n) return undefined;
  const parts: string[] = [];
  if (fstype !== null && fstype !== '' && fstype !== source) parts.push(`type ${JSON.stringify(fstype)}`);
  if (data !== null && data !== '') parts.push(`data ${JSON.stringify(data.replace(SECRET_OPTION, '$1=***'))}`);
  return parts.length ? parts.join(', ') : undefined;
}

/**
 * Options whose value is a secret (cifs/smb3's password and password2, ceph's secret): an
 * error, which logs keep, shows *** in its place. cifs reads a doubled comma as a comma of
 * the value (smb3_fs_context_parse_monolithic(), fs/smb/client/fs_context.c), so the value
 * runs on past each ",,"; a key in another case is matched too, as a typo's EINVAL shows
 * the data all the same.
 */
const SECRET_OPTION = /(?<=^|,)(password2?|pass|secret)=(?:[^,]|,,)*/gi;

/** A step failed for a reason that is not a single syscall (a bad device node, a failing command). */
export class StepError extends MountkitError {
  static override readonly kind: string = 'StepError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StepError';
  }
}

/**
 * Runs `call`; a SyscallError it throws becomes a StepError that names what the call was
 * for (`process.oomScoreAdj -500: writeFile "/proc/self/oom_score_adj": EACCES`). Any
 * other error passes unchanged.
 */
export function naming<T>(what: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new StepError(`${what}: ${err.message}`, { cause: err });
  }
}

export interface PluginErrorWhere {
  plugin: string;
  /** The pipeline phase the step or mount ran in (PHASES). */
  phase: Phase;
  mountIndex?: number;
  destination?: string;
}

/** Any failure inside a plugin, wrapped with where it happened; the original is `cause`. */
export class PluginError extends MountkitError {
  static override readonly kind: string = 'PluginError';
  readonly plugin: string;
  readonly phase: Phase;
  readonly mountIndex?: number;
  readonly destination?: string;
  override readonly exitCode: number;
  constructor(where: PluginErrorWhere, cause: unknown) {
    const mount =
      where.mountIndex === undefined ? '' : ` mounts[${where.mountIndex}] ${JSON.stringify(where.destination ?? '')}`;
    super(`${where.phase}: plugin ${where.plugin}${mount}: ${thrownMessage(cause)}`, { cause });
    this.name = 'PluginError';
    this.plugin = where.plugin;
    this.phase = where.phase;
    this.mountIndex = where.mountIndex;
    this.destination = where.destination;
    this.exitCode = configErrorWithin(cause) ? 2 : 1;
  }
}

/** Whether `err` is a ConfigError, or a StepError standing for one (a mount handed to another plugin). */
function configErrorWithin(err: unknown): boolean {
  return err instanceof ConfigError || (err instanceof StepError && configErrorWithin(err.cause));
}

/**
 * What a thrown value says: an Error's message; anything else (a plugin may throw a string
 * or a plain object, or an Error whose message is no string) on one line as util.inspect
 * shows it, rather than "[object Object]". A value that throws as it is read (a `message`
 * getter, a Proxy's trap) is named by its kind and what that read threw, one level deep:
 * an error about a plugin's error is never lost to a second one.
 */
export function thrownMessage(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    if (!(thrown instanceof Error)) return shownThrown(thrown);
    const message: unknown = thrown.message;
    return typeof message === 'string' ? message : shownThrown(message);
  } catch (err) {
    return `a thrown ${typeof thrown} that cannot be read (${readFailure(err)})`;
  }
}

/** What a read that threw `err` says: its own `message` when that is a string data property, read without a getter or a second trap's throw. */
function readFailure(err: unknown): string {
  if (typeof err === 'string') return err;
  try {
    const message: unknown = typeof err === 'object' && err !== null ? Object.getOwnPropertyDescriptor(err, 'message')?.value : undefined;
    return typeof message === 'string' ? message : typeof err;
  } catch {
    return typeof err;
  }
}

function shownThrown(value: unknown): string {
  return inspect(value, { breakLength: Infinity, depth: 2 });
}

/** The most of a value an error shows, as JSON: a string (a path, mostly) up to PATH_MAX and a little, anything else a glimpse. */
const SHOWN_STRING = 4200;
const SHOWN_OTHER = 80;

/**
 * A value as an error shows it, on one line, or undefined when it cannot be shown
 * without running code of the caller's: a string quoted as JSON, a number as JavaScript
 * writes it (Infinity, which JSON would show as null), a bigint in its digits, arrays and
 * plain objects as JSON writes them, cut (SHOWN_STRING, SHOWN_OTHER). The walk reads only
 * own data properties and stops at the cut, so a huge or cyclic value costs no more than
 * what is shown; a value that holds a Proxy, an accessor or an object of a class of its
 * own (a Date, a Map) is not shown at all, nor is a function or a symbol, which inside an
 * array or object are written as JSON writes them. A cut never splits a character written
 * as two UTF-16 units.
 */
function shownValue(value: unknown): string | undefined {
  if (typeof value === 'string') {
    // JSON writes each unit as one character or more: the first SHOWN_STRING units are all that can be shown.
    const text = JSON.stringify(value.slice(0, SHOWN_STRING + 1));
    return text.length <= SHOWN_STRING ? text : `${cutAt(text, SHOWN_STRING - 3)}... (${value.length} characters)`;
  }
  // An integer config.json writes beyond the exact doubles, in any number of digits.
  if (typeof value === 'bigint') {
    const digits = String(value);
    return digits.length <= SHOWN_OTHER ? digits : `${digits.slice(0, SHOWN_OTHER - 3)}... (${digits.length} characters)`;
  }
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  const out: string[] = [];
  const room = { left: SHOWN_OTHER + 1 };
  if (!writeValue(value, out, room)) return undefined;
  const text = out.join('');
  return text.length <= SHOWN_OTHER ? text : `${cutAt(text, SHOWN_OTHER - 3)}...`;
}

/**
 * The first `n` UTF-16 units of `text`, JSON that JSON.stringify wrote, fewer where the
 * cut would split a character of two units, or an escape (`\n`, `\u001b`): the text
 * then ends before it.
 */
function cutAt(text: string, n: number): string {
  const code = text.charCodeAt(n - 1);
  let end = code >= 0xd800 && code <= 0xdbff ? n - 1 : n;
  // Outside a string JSON has no backslash, and inside one each escape is \X or \uXXXX:
  // only the last escape begun before the cut can reach past it.
  const escape = lastEscapeBefore(text, end);
  if (escape >= 0 && escape + (text[escape + 1] === 'u' ? 6 : 2) > end) end = escape;
  return text.slice(0, end);
}

/** Where the last escape of JSON `text` begun before `end` begins, or -1: a backslash after an even number of them. */
function lastEscapeBefore(text: string, end: number): number {
  const last = text.lastIndexOf('\\', end - 1);
  if (last < 0) return -1;
  let first = last;
  while (first > 0 && text[first - 1] === '\\') first--;
  // A run of backslashes is escapes of two (\\) and, for an odd run, one begun by its last.
  return (last - first) % 2 === 0 ? last : last - 1;
}

/** Writes `value` as JSON onto `out` until `room` is used up; false when it holds what cannot be shown. */
function writeValue(value: unknown, out: string[], room: { left: number }): boolean {
  const put = (text: string): boolean => {
    out.push(text);
    room.left -= text.length;
    return true;
  };
  if (room.left <= 0) return true;
  if (value === null || value === undefined) return put('null');
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return put(String(value));
  if (typeof value === 'string') return put(JSON.stringify(value.length > room.left ? value.slice(0, room.left) : value));
  // As JSON writes them inside an array (alone, shownValue shows none).
  if (typeof value === 'function' || typeof value === 'symbol') return put('null');
  if (typeof value !== 'object' || types.isProxy(value)) return false;
  if (Array.isArray(value)) {
    put('[');
    for (let i = 0; i < value.length && room.left > 0; i++) {
      if (i > 0) put(',');
      const item = Object.getOwnPropertyDescriptor(value, i);
      if (item !== undefined && !('value' in item)) return false;
      if (!writeValue(item?.value, out, room)) return false;
    }
    return put(']');
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  put('{');
  let first = true;
  for (const key of Object.keys(value)) {
    if (room.left <= 0) break;
    const field = Object.getOwnPropertyDescriptor(value, key);
    if (field === undefined || !('value' in field)) return false;
    // Left out, as JSON leaves them out of an object.
    if (field.value === undefined || typeof field.value === 'function' || typeof field.value === 'symbol') continue;
    put(`${first ? '' : ','}${JSON.stringify(key)}:`);
    first = false;
    if (!writeValue(field.value, out, room)) return false;
  }
  return put('}');
}

/** The first line of a message: the CLI prints errors on one line (several lines are shown whole at debug level). */
export function firstLine(text: string): string {
  const end = text.indexOf('\n');
  return end === -1 ? text : text.slice(0, end);
}
