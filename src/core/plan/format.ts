/**
 * Plans as data and as text. Pure: a recorded call becomes a JSON-safe object (bigints
 * and bytes as hexadecimal strings, flag words also by name) or one readable line.
 *
 * The JSON schema (PLAN_SCHEMA_VERSION) is documented in docs/plugins.md, "mountkit plan".
 */
import { capabilityName } from '../capabilities';
import { RLIMITS, RLIM_INFINITY } from '../rlimits';
import { signalName } from '../signal-name';
import { SOCK_FILTER_SIZE } from '../seccomp/enosys';
import { fdsNamedBy } from '../syscalls/named-fds';
import type { SeccompFilter, SyscallName } from '../syscalls/types';
import {
  AT_FLAGS,
  CLONE_FLAGS,
  DUP3_FLAGS,
  FSCONFIG_COMMANDS,
  FSMOUNT_FLAGS,
  FSOPEN_FLAGS,
  KEY_PERM_FLAGS,
  MFD_FLAGS,
  MODE_FLAGS,
  MOUNT_ATTR_FLAGS,
  MOUNT_FLAGS,
  MOVE_MOUNT_FLAGS,
  OPEN_FLAGS,
  OPEN_TREE_FLAGS,
  RESOLVE_FLAGS,
  SEAL_FLAGS,
  SECCOMP_FILTER_FLAGS,
  UMOUNT_FLAGS,
  formatDev,
  formatDirfd,
  formatFlags,
  type FlagTable,
} from './flags';
import type { Plan, PlanCall, PlanMode, PlanRecord } from './types';

/**
 * The version of the JSON document `planToJson` writes; it changes only when a field
 * changes meaning or goes away. 2: a command's `env` is left out when it runs with the
 * environment of the process that runs it (a hook without env), where 1 gave `[]`.
 * A field added keeps it (a call's `errno`, the plan's `mode`).
 */
export const PLAN_SCHEMA_VERSION = 2;

type Decoder = (value: never) => string;

const flags =
  (table: FlagTable): Decoder =>
  (value: bigint | number) =>
    formatFlags(value, table);
const mode = flags(MODE_FLAGS);
const dirfd = formatDirfd as Decoder;
const dev = formatDev as Decoder;
const plural = (n: number, one: string): string => `${n} ${one}${n === 1 ? '' : 's'}`;
/** A seccomp program by its length: its bytes are in the JSON. */
const program = ((bytes: Uint8Array) => plural(bytes.length / SOCK_FILTER_SIZE, 'instruction')) as Decoder;
/** A filter to build by its default action and size: its rules are in the JSON. */
const filter = ((f: SeccompFilter) => `default 0x${(f.defaultAction >>> 0).toString(16)}, ${plural(f.rules.length, 'rule')}, ${plural(f.architectures.length, 'added architecture')}`) as Decoder;

/** A signal by its name (signal(7)), as os.constants has them. */
const signal = ((n: number) => signalName(n) ?? String(n)) as Decoder;

/** A capability by its name (linux/capability.h): CAP_CHOWN for 0. */
const cap = capabilityName as Decoder;

const RLIMIT_NAMES: readonly string[] = [...RLIMITS.keys()];
/** A resource limit by its name (asm-generic/resource.h): RLIMIT_NOFILE for 7. */
const resource = ((n: number) => RLIMIT_NAMES[n] ?? String(n)) as Decoder;
/** A limit's value, RLIM_INFINITY by that name. */
const limit = ((n: bigint) => (n === RLIM_INFINITY ? 'RLIM_INFINITY' : String(n))) as Decoder;

/** The arguments shown by name besides their value, per call. */
const DECODERS: Partial<Record<SyscallName, Readonly<Record<string, Decoder>>>> = {
  mount: { flags: flags(MOUNT_FLAGS) },
  umount2: { flags: flags(UMOUNT_FLAGS) },
  mountSetattr: {
    dirfd,
    atFlags: flags(AT_FLAGS),
    attrSet: flags(MOUNT_ATTR_FLAGS),
    attrClr: flags(MOUNT_ATTR_FLAGS),
    propagation: flags(MOUNT_FLAGS),
  },
  openTree: { dirfd, flags: flags(OPEN_TREE_FLAGS) },
  openTreeAttr: {
    dirfd,
    flags: flags(OPEN_TREE_FLAGS),
    attrSet: flags(MOUNT_ATTR_FLAGS),
    attrClr: flags(MOUNT_ATTR_FLAGS),
    propagation: flags(MOUNT_FLAGS),
  },
  moveMount: { fromDirfd: dirfd, toDirfd: dirfd, flags: flags(MOVE_MOUNT_FLAGS) },
  fsopen: { flags: flags(FSOPEN_FLAGS) },
  memfdCreate: { flags: flags(MFD_FLAGS) },
  addSeals: { seals: flags(SEAL_FLAGS) },
  fsconfig: { cmd: flags(FSCONFIG_COMMANDS) },
  fsmount: { flags: flags(FSMOUNT_FLAGS), attrFlags: flags(MOUNT_ATTR_FLAGS) },
  mknod: { mode, dev },
  mknodat: { dirfd, mode, dev },
  fchownat: { dirfd, flags: flags(AT_FLAGS) },
  chmod: { mode },
  fchmod: { mode },
  mkdir: { mode },
  mkdirat: { dirfd, mode },
  unlinkat: { dirfd, flags: flags(AT_FLAGS) },
  renameat: { oldDirfd: dirfd, newDirfd: dirfd },
  symlinkat: { dirfd },
  readlinkat: { dirfd },
  umask: { mask: mode },
  writeFile: { mode },
  open: { flags: flags(OPEN_FLAGS), mode },
  openat: { dirfd, flags: flags(OPEN_FLAGS), mode },
  openat2: { dirfd, flags: flags(OPEN_FLAGS), mode, resolve: flags(RESOLVE_FLAGS) },
  ptyPeer: { flags: flags(OPEN_FLAGS) },
  dup3: { flags: flags(DUP3_FLAGS) },
  unshare: { flags: flags(CLONE_FLAGS) },
  setns: { nstype: flags(CLONE_FLAGS) },
  seccompCompile: { filter },
  seccompLoad: { program, flags: flags(SECCOMP_FILTER_FLAGS) },
  setParentDeathSignal: { signal },
  capbsetRead: { cap },
  capbsetDrop: { cap },
  ambientRaise: { cap },
  setrlimit: { resource, soft: limit, hard: limit },
  getrlimit: { resource },
  joinSessionKeyring: { permissions: flags(KEY_PERM_FLAGS) },
};

/**
 * The descriptors a call names a file by, in the order of its arguments, AT_FDCWD aside:
 * its descriptor arguments (dup3's `newfd` too, whose file the call closes), the
 * /proc/self/fd/N and /proc/thread-self/fd/N magic links its paths start with, those in
 * mount(2)'s data and an fsconfig(2) value (`lowerdir=/proc/self/fd/5:/proc/self/fd/6`),
 * and a command's `via` (syscalls/named-fds.ts, as the testkit's resolvedCalls shows them).
 */
export function descriptorsOf(record: PlanRecord): number[] {
  return fdsNamedBy(record).filter((fd) => fd >= 0);
}

/** One call of a JSON plan. */
export interface PlanCallJson {
  seq: number;
  phase: string;
  plugin: string;
  mountIndex?: number;
  destination?: string;
  op: string;
  /** The call's arguments under the port's parameter names; bigints as "0x..." strings. */
  args: Record<string, unknown>;
  /** Flag words, modes, device numbers and AT_FDCWD by name ("MS_BIND|MS_REC"), for the arguments that have them. */
  decoded?: Record<string, string>;
  /** The descriptor an open call returned. */
  result?: number;
  /** The errno name of a call that failed ("ENOENT"), whether the run went on or stops there. */
  errno?: string;
  /** The path each descriptor the call names was opened at, by descriptor number. */
  fds?: Record<string, string>;
}

export interface PlanJson {
  version: number;
  /** `run` (mountkit run, its launcher included) or `embedded` (runPipeline); absent in documents written before it was added: `run`. */
  mode?: PlanMode;
  bundle: string;
  rootfs: string;
  /** True when the run would get to its end (execve, or the last phase without an exec step). */
  complete: boolean;
  /** Why the run would stop, when it would; the calls up to the failing one are listed. */
  error?: { name: string; message: string; phase?: string; plugin?: string; mountIndex?: number };
  calls: PlanCallJson[];
}

/** JSON-safe copy: bigints as "0x..." strings, everything else as is. */
export function jsonSafe(value: unknown): unknown {
  if (typeof value === 'bigint') return '0x' + value.toString(16);
  // Bytes (a seccomp program) as hexadecimal, in memory order.
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (Array.isArray(value)) return value.map(jsonSafe);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonSafe(v)]));
  }
  return value;
}

function argsOf(record: PlanRecord): [string, unknown][] {
  return Object.entries(record).filter(([k]) => k !== 'op');
}

/** The named arguments of a call ({ flags: "MS_BIND|MS_REC" }), or undefined when it has none. */
export function decodeArgs(record: PlanRecord): Record<string, string> | undefined {
  const decoders = DECODERS[record.op as SyscallName];
  if (!decoders) return undefined;
  const decoded = argsOf(record)
    .filter(([k, v]) => decoders[k] !== undefined && v !== undefined)
    .map(([k, v]) => [k, decoders[k](v as never)]);
  return decoded.length ? Object.fromEntries(decoded) : undefined;
}

export function planCallToJson(call: PlanCall): PlanCallJson {
  const { record } = call;
  const out: PlanCallJson = {
    seq: call.seq,
    phase: call.phase,
    plugin: call.plugin,
    ...(call.mountIndex === undefined ? {} : { mountIndex: call.mountIndex }),
    ...(call.destination === undefined ? {} : { destination: call.destination }),
    op: record.op,
    args: jsonSafe(Object.fromEntries(argsOf(record))) as Record<string, unknown>,
  };
  const decoded = decodeArgs(record);
  if (decoded) out.decoded = decoded;
  if (call.result !== undefined) out.result = call.result;
  if (call.errno !== undefined) out.errno = call.errno;
  if (call.fds !== undefined) out.fds = { ...call.fds };
  return out;
}

export function planToJson(plan: Plan): PlanJson {
  const out: PlanJson = { version: PLAN_SCHEMA_VERSION, mode: plan.mode ?? 'run', bundle: plan.bundle, rootfs: plan.rootfs, complete: plan.complete, calls: [] };
  if (plan.error !== undefined) out.error = errorJson(plan.error);
  out.calls = plan.calls.map(planCallToJson);
  return out;
}

function errorJson(err: unknown): NonNullable<PlanJson['error']> {
  if (!(err instanceof Error)) return { name: 'Error', message: String(err) };
  const where = err as Error & { phase?: unknown; plugin?: unknown; mountIndex?: unknown };
  const out: NonNullable<PlanJson['error']> = { name: err.name, message: err.message };
  if (typeof where.phase === 'string') out.phase = where.phase;
  if (typeof where.plugin === 'string') out.plugin = where.plugin;
  if (typeof where.mountIndex === 'number') out.mountIndex = where.mountIndex;
  return out;
}

function argText(key: string, value: unknown, decoders: Readonly<Record<string, Decoder>> | undefined): string {
  const decoder = decoders?.[key];
  if (decoder && value !== undefined) return decoder(value as never);
  if (value === null) return 'NULL';
  if (typeof value === 'bigint') return '0x' + value.toString(16);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(jsonSafe(value));
}

/**
 * A call as C-like text, its arguments in the port's order with flags by name:
 * `mount("/usr", "/b/rootfs/usr", "bind", MS_BIND|MS_REC, NULL)`. A command shows its
 * argv only: `runCommand(["/hook", "arg"])`, `runCommandAsync(...)`.
 */
export function formatCall(record: PlanRecord): string {
  if (record.op === 'runCommand' || record.op === 'runCommandAsync') {
    const { cmd } = record;
    return `${record.op}(${JSON.stringify([cmd.argv0 ?? cmd.path, ...cmd.args])})`;
  }
  const decoders = DECODERS[record.op as SyscallName];
  return `${record.op}(${argsOf(record)
    .map(([k, v]) => argText(k, v, decoders))
    .join(', ')})`;
}

/** Where a call comes from, as text: `mounts bind mounts[1] "/usr"`. */
function origin(call: PlanCall): string {
  const mount = call.mountIndex === undefined ? '' : ` mounts[${call.mountIndex}]`;
  const dest = call.destination === undefined ? '' : ` ${JSON.stringify(call.destination)}`;
  return `${call.plugin}${mount}${dest}`;
}

/**
 * A path in a call's comment as it is, or quoted as JSON when it holds what would break
 * the line or the list (control characters, spaces, quotes, commas) or a byte that is no
 * valid UTF-8 (a lone surrogate, names.ts), which JSON shows as its escape, as in the call.
 */
function commentPath(path: string): string {
  return /^[^\s\x00-\x1f\x7f",\\\p{Cs}]*$/u.test(path) ? path : JSON.stringify(path);
}

/**
 * A call with what it returned and where its descriptors lead: `openat(109, "pts", ...) = 110  # 109 = /r/dev`;
 * one that failed returns -1 with its errno, as strace(1) shows it: `openat2(102, "proc", ...) = -1 ENOENT  # 102 = /r`.
 */
function callLine(call: PlanCall): string {
  const result = call.result !== undefined ? ` = ${call.result}` : call.errno !== undefined ? ` = -1 ${call.errno}` : '';
  const fds = Object.entries(call.fds ?? {}).map(([fd, path]) => `${fd} = ${commentPath(path)}`);
  return `${formatCall(call.record)}${result}${fds.length ? `  # ${fds.join(', ')}` : ''}`;
}

/**
 * One line per call: number, phase, plugin (and mount), the call; columns aligned. A plan
 * that would stop ends with a line naming the error.
 */
export function formatPlanText(plan: Plan): string {
  const rows = plan.calls.map((c) => [String(c.seq), c.phase, origin(c), callLine(c)]);
  const widths = [0, 1, 2].map((i) => Math.max(0, ...rows.map((r) => r[i].length)));
  const lines = rows.map((r) => [r[0].padStart(widths[0]), r[1].padEnd(widths[1]), r[2].padEnd(widths[2]), r[3]].join('  '));
  if (plan.error !== undefined) {
    lines.push(`stops here: ${plan.error instanceof Error ? plan.error.message : String(plan.error)}`);
  }
  return lines.map((l) => l + '\n').join('');
}
