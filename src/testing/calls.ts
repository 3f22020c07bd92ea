/**
 * Expected calls and test-framework-agnostic assertions on what a fake port recorded.
 * A failed assertion throws an Error that lists both sides as readable calls
 * (`mount("tmpfs", "/r/tmp", "tmpfs", MS_NOSUID|MS_NODEV, NULL)`), the first difference
 * marked, then what was made as the `call(...)` list an expected list takes, flags by the
 * names of mountkit's constants, after the import line it needs, to paste once read; Jest,
 * node:test, Mocha and Vitest all report it as a failure. A call that failed in a run of
 * runPlugin or runHandler shows its errno as the plan shows it (`openat2(...) = -1 ENOENT`).
 */
import * as CONSTANTS from '../core/constants';
import { noteFailures } from '../core/plan/failures';
import { decodeArgs, formatCall } from '../core/plan/format';
import type { PlanRecord } from '../core/plan/types';
import {
  DESCRIPTOR_ARGS,
  FakeSyscalls,
  QUERY_SYSCALLS,
  type DescriptorArg,
  type SyscallArgs,
  type SyscallRecord,
  type SyscallRecordOf,
} from '../core/syscalls/fake';
import { showNamedFds } from '../core/syscalls/named-fds';
import type { CommandSpec, SyscallName } from '../core/syscalls/types';

/** A call's arguments, or a recorded call, as resolvedCalls shows it: a descriptor argument may be the path the descriptor was open at. */
export type Resolved<T> = { [P in keyof T]: P extends DescriptorArg ? T[P] | string : T[P] extends CommandSpec ? ResolvedCommand : T[P] };

/** A command as resolvedCalls shows it: `via` may be the path of the socket it is run through. */
export type ResolvedCommand = Omit<CommandSpec, 'via'> & { via?: number | string };

/** A recorded call as resolvedCalls shows it (`{ op: 'mkdirat', dirfd: '/bundle/rootfs', path: 'data', mode: 0o755 }`). */
export type ResolvedRecord = Resolved<SyscallRecord>;

/**
 * One expected call: `call('mkdir', { path: '/r/x', mode: 0o755 })`; in a list compared
 * with resolvedCalls, a descriptor argument may be a path: `call('close', { fd: '/r/x' })`.
 */
export function call<K extends SyscallName>(op: K, args: SyscallArgs[K]): SyscallRecordOf<K>;
export function call<K extends SyscallName>(op: K, args: Resolved<SyscallArgs[K]>): Resolved<SyscallRecordOf<K>>;
export function call(op: SyscallName, args: object): object {
  return { op, ...args };
}

/** One expected mount(2) call; flags default to 0n, data to null. */
export function mountCall(
  source: string | null,
  target: string,
  fstype: string | null,
  flags: bigint = 0n,
  data: string | null = null,
): SyscallRecordOf<'mount'> {
  return call('mount', { source, target, fstype, flags, data });
}

/**
 * The errno name of each call that failed in a run of runPlugin, by its record and by the
 * record resolvedCalls makes of it: a lookup answering ENOENT before the directory is
 * made, as much as the call that ends the run.
 */
const failedCalls = new WeakMap<object, string>();

/** `sys` as runPlugin gives it to the kernel: the same fake, each call that fails noted in failedCalls. */
export function notingFailures(sys: FakeSyscalls): FakeSyscalls {
  return noteFailures(sys, failedCalls);
}

/** Where recorded calls come from: a fake port, a runPlugin result, or a list of calls. */
export type CallSource = FakeSyscalls | { readonly calls: readonly SyscallRecord[] } | readonly SyscallRecord[];

/** What the assertions take: a CallSource, or the calls resolvedCalls gives. */
export type AnyCallSource = CallSource | readonly ResolvedRecord[];

function allCalls(source: AnyCallSource): readonly ResolvedRecord[] {
  if (source instanceof FakeSyscalls) return source.calls;
  return Array.isArray(source) ? source : (source as { readonly calls: readonly SyscallRecord[] }).calls;
}

/** The calls that change state, in order: all but stat, lstat, fstat, readlink, readdir and readFile. */
export function effectsOf(source: CallSource): SyscallRecord[];
export function effectsOf(source: AnyCallSource): ResolvedRecord[];
export function effectsOf(source: AnyCallSource): ResolvedRecord[] {
  return allCalls(source).filter((c) => !QUERY_SYSCALLS.has(c.op));
}

/**
 * The calls a fake recorded (of a runPlugin result: the calls it returned), each with the
 * descriptors it names shown as the path each was open at when the call was made, the
 * way `sys.mounts` shows targets: a descriptor argument (`dirfd`, `fd`, `oldfd`...)
 * becomes that path, a `/proc/thread-self/fd/N` or `/proc/self/fd/N` path that path
 * with the rest of the path joined on. So a list of calls asserts no descriptor number:
 * `mount("tmpfs", "/bundle/rootfs/tmp", ...)`, `mkdirat("/bundle/rootfs", "tmp", 0755)`,
 * `close("/bundle/rootfs/tmp")`. The same holds for such a link inside a filesystem's
 * options, mount(2)'s `data` and an fsconfig(2) value (`lowerdir=/bundle/layers/a:...`
 * for `lowerdir=/proc/self/fd/5:...`), and for a command's `cmd.via`. AT_FDCWD, and a
 * descriptor that was not open then (a standard stream, one already closed), stay
 * numbers; a symlink's target is its text.
 */
export function resolvedCalls(source: FakeSyscalls | { readonly sys: FakeSyscalls; readonly calls?: readonly SyscallRecord[] }): ResolvedRecord[] {
  const sys = source instanceof FakeSyscalls ? source : source.sys;
  const calls = source instanceof FakeSyscalls ? source.calls : (source.calls ?? sys.calls);
  return calls.map((c) => {
    const resolved = showNamedFds<ResolvedRecord>(c, (fd) => sys.pathAtCall(fd, c));
    const errno = failedCalls.get(c);
    if (errno !== undefined) failedCalls.set(resolved, errno);
    return resolved;
  });
}

/** Equality as Jest's toEqual sees records: bigints by value, a key holding undefined counts as absent. */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]));
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  const keys = (o: object) => Object.keys(o).filter((k) => (o as Record<string, unknown>)[k] !== undefined).sort();
  const ka = keys(a);
  const kb = keys(b);
  return same(ka, kb) && ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/**
 * A call as C-like text. A descriptor argument resolvedCalls made a path is quoted as
 * every path is, also where the call's text would show a number by name (AT_FDCWD).
 */
function callText(c: ResolvedRecord): string {
  const decoded = decodeArgs(c as PlanRecord);
  const quoted = Object.entries(c).map(([k, v]: [string, unknown]) => [k, typeof v === 'string' && DESCRIPTOR_ARGS.has(k) && decoded?.[k] !== undefined ? JSON.stringify(v) : v]);
  return formatCall(Object.fromEntries(quoted) as PlanRecord);
}

/** A call as text; the typed form too when two different calls would read the same (0 and 0n). */
function show(c: ResolvedRecord, other?: ResolvedRecord): string {
  const text = callText(c);
  if (other === undefined || callText(other) !== text) return text;
  return `${text}  ${JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
}

/** A failed call's outcome as strace(1) and the plan show it (` = -1 ENOENT`); nothing for any other. */
function outcome(c: ResolvedRecord): string {
  const errno = failedCalls.get(c);
  return errno === undefined ? '' : ` = -1 ${errno}`;
}

/** Keys whose numbers read as file modes (octal: `mode`, umask's `mask`); flags and attributes read as hexadecimal. */
const MODE_KEY = /^(?:mode|mask)$/;
const FLAGS_KEY = /(?:flags|Flags|attr|Attr|Set|Clr|resolve|propagation)$/;

/** A value as TypeScript source that makes it again: bigints as literals with `n`, modes in octal, bytes as a Uint8Array. */
function valueSource(key: string, value: unknown): string {
  if (typeof value === 'bigint') return value < 10n ? `${value}n` : `0x${value.toString(16)}n`;
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
    if (MODE_KEY.test(key)) return `0o${value.toString(8)}`;
    if (FLAGS_KEY.test(key)) return `0x${value.toString(16)}`;
  }
  if (value instanceof Uint8Array) return `new Uint8Array([${Array.from(value).join(', ')}])`;
  if (Array.isArray(value)) return `[${value.map((v) => valueSource(key, v)).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return objectSource(value as Record<string, unknown>);
  return value === undefined ? 'undefined' : JSON.stringify(value);
}

/** An object literal of `o`'s defined fields, each value as `source` writes it (valueSource by default). */
function objectSource(o: Record<string, unknown>, source: (key: string) => string = (k) => valueSource(k, o[k])): string {
  const fields = Object.keys(o).filter((k) => o[k] !== undefined);
  return fields.length ? `{ ${fields.map((k) => `${/^[A-Za-z_$][\w$]*$/.test(k) ? k : JSON.stringify(k)}: ${source(k)}`).join(', ')} }` : '{}';
}

/** A name of one of the constants mountkit (and so mountkit/testing) exports, and its value. */
const CONSTANT_VALUES: ReadonlyMap<string, unknown> = new Map(Object.entries(CONSTANTS));

/**
 * A flag word as TypeScript source made of the constants `mountkit/testing` exports
 * (`MS_NOSUID | MS_NODEV`, `S_IFCHR | 0o666`), from its decoded form (the plan's
 * `MS_NOSUID|MS_NODEV`), the names it uses added to `used`; undefined where a name is no
 * such constant of the value's type, where it uses no name, or where the expression
 * would not make the value again (a number with bit 31 set, which `|` makes negative).
 */
function namedSource(decoded: string, value: number | bigint, used: Set<string>): string | undefined {
  const terms: { text: string; term: number | bigint }[] = [];
  for (const part of decoded.split('|')) {
    let term: number | bigint;
    let text: string;
    if (CONSTANT_VALUES.has(part)) {
      term = CONSTANT_VALUES.get(part) as number | bigint;
      text = part;
    } else if (/^0x[0-9a-f]+$|^0[0-7]*$/.test(part)) {
      const n = part.startsWith('0x') ? BigInt(part) : BigInt(`0o${part.slice(1) || '0'}`);
      term = typeof value === 'bigint' ? n : Number(n);
      text = `${part.startsWith('0x') ? part : `0o${n.toString(8)}`}${typeof value === 'bigint' ? 'n' : ''}`;
    } else return undefined;
    if (typeof term !== typeof value) return undefined;
    terms.push({ text, term });
  }
  // A name or a remainder of 0 (O_RDONLY, a mode's 0000) only where it is all there is.
  const kept = terms.length > 1 ? terms.filter((t) => t.term !== 0 && t.term !== 0n) : terms;
  // Without a name it reads as valueSource writes it (0n, 0o755, 0x400).
  if (!kept.some((t) => CONSTANT_VALUES.has(t.text))) return undefined;
  // The expression's value as TypeScript gives it: `|` of numbers is 32-bit and signed.
  const made = kept.slice(1).reduce<number | bigint>((acc, t) => (typeof acc === 'bigint' ? acc | (t.term as bigint) : acc | (t.term as number)), kept[0].term);
  if (made !== value) return undefined;
  for (const t of kept) if (CONSTANT_VALUES.has(t.text)) used.add(t.text);
  return kept.map((t) => t.text).join(' | ');
}

/**
 * A recorded call as the `call(...)` expression an expected list takes, each flag word
 * and file mode the plan decodes by name written with mountkit's constants, whose names
 * go into `used` (descriptors and plain numbers as they are).
 */
function callSource(c: ResolvedRecord, used: Set<string>): string {
  const { op, ...args } = c as ResolvedRecord & Record<string, unknown>;
  const decoded = decodeArgs(c as PlanRecord) ?? {};
  const source = (k: string): string => {
    const v = args[k];
    const named = (typeof v === 'number' || typeof v === 'bigint') && !DESCRIPTOR_ARGS.has(k) && decoded[k] !== undefined ? namedSource(decoded[k], v, used) : undefined;
    return named ?? valueSource(k, v);
  };
  return `call(${JSON.stringify(op)}, ${objectSource(args, source)})`;
}

/** What was made as the expected list to paste, after the import it needs. */
function pasteSource(actual: readonly ResolvedRecord[]): string {
  const used = new Set<string>();
  const list = actual.map((c) => `  ${callSource(c, used)},\n`).join('');
  return `import { ${['call', ...[...used].sort()].join(', ')} } from 'mountkit/testing';\n[\n${list}]`;
}

function assertList(what: string, actual: readonly ResolvedRecord[], expected: readonly ResolvedRecord[]): void {
  const length = Math.max(actual.length, expected.length);
  let first = -1;
  for (let i = 0; i < length && first < 0; i++) if (!same(actual[i], expected[i])) first = i;
  if (first < 0) return;
  const list = (calls: readonly ResolvedRecord[], others: readonly ResolvedRecord[]) =>
    calls.map((c, i) => `${i === first ? '>' : ' '} ${String(i).padStart(3)} ${show(c, i === first ? others[i] : undefined)}${outcome(c)}`).join('\n') || '    (none)';
  throw new Error(
    `${what} differ at #${first} (${actual.length} made, ${expected.length} expected)\n` +
      `expected:\n${list(expected, actual)}\nactual:\n${list(actual, expected)}\n` +
      `actual, as an expected list:\n${pasteSource(actual)}`,
  );
}

/** Asserts that every recorded call, queries included, is exactly `expected`, in order. */
export function expectCalls(source: AnyCallSource, expected: readonly ResolvedRecord[]): void {
  assertList('calls', allCalls(source), expected);
}

/** Asserts that the calls that change state are exactly `expected`, in order (queries ignored). */
export function expectEffects(source: AnyCallSource, expected: readonly ResolvedRecord[]): void {
  assertList('effects', effectsOf(source), expected);
}
