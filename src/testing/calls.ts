/**
 * Expected calls and test-framework-agnostic assertions on what a fake port recorded.
 * A failed assertion throws an Error that lists both sides as readable calls
 * (`mount("tmpfs", "/r/tmp", "tmpfs", MS_NOSUID|MS_NODEV, NULL)`), from the first
 * difference on; Jest, node:test, Mocha and Vitest all report it as a failure.
 */
import { formatCall } from '../core/plan/format';
import { FakeSyscalls, QUERY_SYSCALLS, type SyscallArgs, type SyscallRecord, type SyscallRecordOf } from '../core/syscalls/fake';
import type { SyscallName } from '../core/syscalls/types';

/** One expected call: `call('mkdir', { path: '/r/x', mode: 0o755 })`. */
export function call<K extends SyscallName>(op: K, args: SyscallArgs[K]): SyscallRecordOf<K> {
  return { op, ...args } as unknown as SyscallRecordOf<K>;
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

/** Where recorded calls come from: a fake port, a runPlugin result, or a list of calls. */
export type CallSource = FakeSyscalls | { readonly calls: readonly SyscallRecord[] } | readonly SyscallRecord[];

function allCalls(source: CallSource): readonly SyscallRecord[] {
  if (source instanceof FakeSyscalls) return source.calls;
  return Array.isArray(source) ? source : (source as { readonly calls: readonly SyscallRecord[] }).calls;
}

/** The calls that change state, in order: all but stat, lstat, fstat, readlink, readdir and readFile. */
export function effectsOf(source: CallSource): SyscallRecord[] {
  return allCalls(source).filter((c) => !QUERY_SYSCALLS.has(c.op));
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

/** A call as text; the typed form too when two different calls would read the same (0 and 0n). */
function show(c: SyscallRecord, other?: SyscallRecord): string {
  const text = formatCall(c);
  if (other === undefined || formatCall(other) !== text) return text;
  return `${text}  ${JSON.stringify(c, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v))}`;
}

function assertList(what: string, actual: readonly SyscallRecord[], expected: readonly SyscallRecord[]): void {
  const length = Math.max(actual.length, expected.length);
  let first = -1;
  for (let i = 0; i < length && first < 0; i++) if (!same(actual[i], expected[i])) first = i;
  if (first < 0) return;
  const list = (calls: readonly SyscallRecord[], others: readonly SyscallRecord[]) =>
    calls.map((c, i) => `${i === first ? '>' : ' '} ${String(i).padStart(3)} ${show(c, i === first ? others[i] : undefined)}`).join('\n') || '    (none)';
  throw new Error(
    `${what} differ at #${first} (${actual.length} made, ${expected.length} expected)\n` +
      `expected:\n${list(expected, actual)}\nactual:\n${list(actual, expected)}`,
  );
}

/** Asserts that every recorded call, queries included, is exactly `expected`, in order. */
export function expectCalls(source: CallSource, expected: readonly SyscallRecord[]): void {
  assertList('calls', allCalls(source), expected);
}

/** Asserts that the calls that change state are exactly `expected`, in order (queries ignored). */
export function expectEffects(source: CallSource, expected: readonly SyscallRecord[]): void {
  assertList('effects', effectsOf(source), expected);
}
