/**
 * The syscall list a run makes, in one JSON schema whatever produced it, and its
 * conversion to the line format bench/replay.c reads.
 *
 * Schema (`mountkit-syscalls/1`): `calls` is an array of records exactly as
 * FakeSyscalls records them (`{ op: 'mkdir', path: '/rootfs/dev', mode: 493 }`), bigints
 * as "0x..." hex strings, each with its outcome when the source knows it: `ret` (a
 * descriptor the call returned) and `errno` (the error code it failed with).
 * Sources: `trace`, recorded from a real run by bench/preload.js (every call, outcomes
 * known), and `plan`, from `mountkit plan --format json` (the calls that change state,
 * descriptors known, failures not).
 */
import type { PlanJson } from '../src/core/plan';
import { errnoNumber } from '../src/core/errors';
import { RELAUNCH_STARTER_FD } from '../src/core/relaunch';
import type { SyscallArgs } from '../src/core/syscalls/fake';
import type { SyscallName } from '../src/core/syscalls/types';

export const LIST_FORMAT = 'mountkit-syscalls/1';

export type ListedCall = { op: SyscallName; ret?: number; errno?: string } & Record<string, unknown>;

export interface SyscallList {
  format: typeof LIST_FORMAT;
  source: 'trace' | 'plan';
  /** True when every call carries its outcome: no `errno` means it succeeded. */
  outcomes: boolean;
  calls: ListedCall[];
}

/** The port's parameter names per method, in parameter order (the positional order of a call). */
export const ARG_NAMES: { readonly [K in SyscallName]: readonly (keyof SyscallArgs[K])[] } = {
  mount: ['source', 'target', 'fstype', 'flags', 'data'],
  umount2: ['target', 'flags'],
  mountSetattr: ['dirfd', 'path', 'atFlags', 'attrSet', 'attrClr', 'propagation', 'usernsFd'],
  openTree: ['dirfd', 'path', 'flags'],
  openTreeAttr: ['dirfd', 'path', 'flags', 'attrSet', 'attrClr', 'propagation'],
  moveMount: ['fromDirfd', 'fromPath', 'toDirfd', 'toPath', 'flags'],
  fsopen: ['fstype', 'flags'],
  fsconfig: ['fd', 'cmd', 'key', 'value', 'aux'],
  fsmount: ['fd', 'flags', 'attrFlags'],
  userNamespace: ['uidMappings', 'gidMappings'],
  pivotRoot: ['newRoot', 'putOld'],
  mknod: ['path', 'mode', 'dev'],
  mknodat: ['dirfd', 'path', 'mode', 'dev'],
  fchownat: ['dirfd', 'path', 'uid', 'gid', 'flags'],
  chown: ['path', 'uid', 'gid'],
  lchown: ['path', 'uid', 'gid'],
  chmod: ['path', 'mode'],
  fchmod: ['fd', 'mode'],
  chdir: ['path'],
  fchdir: ['fd'],
  chroot: ['path'],
  umask: ['mask'],
  open: ['path', 'flags', 'mode'],
  openat: ['dirfd', 'path', 'flags', 'mode'],
  openat2: ['dirfd', 'path', 'flags', 'mode', 'resolve'],
  close: ['fd'],
  dup3: ['oldfd', 'newfd', 'flags'],
  dupCloexec: ['fd', 'lowest'],
  stat: ['path'],
  lstat: ['path'],
  fstat: ['fd'],
  fstatfs: ['fd'],
  faccessat: ['dirfd', 'path', 'mode', 'flags'],
  fstatMount: ['fd'],
  mkdir: ['path', 'mode'],
  mkdirat: ['dirfd', 'path', 'mode'],
  rmdir: ['path'],
  unlink: ['path'],
  unlinkat: ['dirfd', 'path', 'flags'],
  renameat: ['oldDirfd', 'oldPath', 'newDirfd', 'newPath'],
  symlink: ['target', 'linkPath'],
  symlinkat: ['target', 'dirfd', 'linkPath'],
  readlink: ['path'],
  readlinkat: ['dirfd', 'path'],
  readdir: ['path'],
  readFile: ['path'],
  writeFile: ['path', 'data', 'mode'],
  copyFile: ['source', 'dest'],
  copyFileRange: ['fdIn', 'fdOut'],
  memfdCreate: ['name', 'flags'],
  addSeals: ['fd', 'seals'],
  getSeals: ['path'],
  listxattr: ['path'],
  getxattr: ['path', 'name'],
  lsetxattr: ['path', 'name', 'value'],
  fsetxattr: ['fd', 'name', 'value'],
  unshare: ['flags'],
  cloexecFrom: ['first'],
  setCloexec: ['fd'],
  clearCloexec: ['fd'],
  sethostname: ['name'],
  setInterfaceUp: ['name'],
  joinSessionKeyring: ['name', 'permissions'],
  setdomainname: ['name'],
  setgroups: ['gids'],
  setgid: ['gid'],
  setuid: ['uid'],
  setns: ['fd', 'nstype'],
  getpid: [],
  getrandom: ['length', 'flags'],
  pidfdOpen: ['pid'],
  pidfdSendSignal: ['pidfd', 'signal'],
  setsid: [],
  getsid: [],
  releaseTerminal: ['fd'],
  schedSetattr: ['attr', 'flags'],
  ioprioSet: ['which', 'who', 'ioprio'],
  personality: ['persona'],
  ptyUnlock: ['fd'],
  ptyPeer: ['fd', 'flags'],
  setWindowSize: ['fd', 'rows', 'cols'],
  getWindowSize: ['fd'],
  getTermios: ['fd'],
  setTermios: ['fd', 'termios'],
  setNonBlocking: ['fd'],
  setBlocking: ['fd'],
  setControllingTerminal: ['fd'],
  sendFdMessage: ['socket', 'fd', 'data'],
  socketPair: [],
  exchange: ['fd', 'line'],
  getForegroundGroup: ['fd'],
  getpgrp: [],
  recvFdMessage: ['socket'],
  bindUnixDatagram: ['path'],
  sendUnixDatagram: ['path', 'data'],
  write: ['fd', 'data'],
  setNoNewPrivs: [],
  setDumpable: ['dumpable'],
  setParentDeathSignal: ['signal'],
  setChildSubreaper: [],
  unsetChildSubreaper: [],
  reapChild: ['pid'],
  reapIfEnded: ['pid'],
  prepareExec: [],
  setrlimit: ['resource', 'soft', 'hard'],
  getrlimit: ['resource'],
  capbsetRead: ['cap'],
  capbsetDrop: ['cap'],
  setKeepCaps: ['keep'],
  capset: ['effective', 'permitted', 'inheritable'],
  seccompCompile: ['filter'],
  seccompLoad: ['program', 'flags'],
  connectUnix: ['path'],
  peerPid: ['socket'],
  startFdSender: ['socket', 'data'],
  sendFd: ['sender', 'fd'],
  ambientClearAll: [],
  ambientRaise: ['cap'],
  execve: ['path', 'argv', 'envp'],
  runCommand: ['cmd'],
  runCommandAsync: ['cmd'],
  sleep: ['ms'],
};

/** One trace call as the preload writes it: [op, startNs, endNs, args?, ret?, errno?]. */
export type TraceCall = [SyscallName, string, string, unknown[]?, (number | null)?, string?];

export interface TraceRecord {
  pid: number;
  /** performance.now() when the preload ran and at the execve: ms since the process started. */
  loadedMs: number;
  execMs: number;
  calls: TraceCall[];
}

/**
 * A write(2) on the runtime channel (RELAUNCH_STARTER_FD): the relaunched process's exec
 * event, last before the execve. replay.c runs without a channel, so lists leave it out.
 */
function onChannel(op: string, fd: unknown): boolean {
  return op === 'write' && fd === RELAUNCH_STARTER_FD;
}

/**
 * A trace written with MOUNTKIT_BENCH_ARGS=1, as a syscall list; a call that is not a port
 * method (a trace of an older preload, which kept the port's own helpers) is refused by
 * name. The relaunched process's writes on the runtime channel are left out (onChannel).
 */
export function listFromTrace(trace: TraceRecord): SyscallList {
  const calls = trace.calls.filter(([op, , , args = []]) => !onChannel(op, args[0])).map(([op, , , args = [], ret, errno]) => {
    const call: ListedCall = { op };
    if (!Object.hasOwn(ARG_NAMES, op)) throw new Error(`trace of pid ${trace.pid}: ${JSON.stringify(op)} is not a port method`);
    ARG_NAMES[op].forEach((name, i) => {
      if (i < args.length) call[name as string] = args[i];
    });
    if (typeof ret === 'number') call.ret = ret;
    if (errno !== undefined) call.errno = errno;
    return call;
  });
  return { format: LIST_FORMAT, source: 'trace', outcomes: true, calls };
}

/** `mountkit plan --format json` as a syscall list: its relaunch record and the exec event on the runtime channel are left out (the replay runs under the launcher, without a channel). */
export function listFromPlan(plan: PlanJson): SyscallList {
  const calls = plan.calls
    .filter((c) => c.op !== 'relaunch' && !onChannel(c.op, c.args.fd))
    .map((c) => ({ op: c.op as SyscallName, ...c.args, ...(c.result === undefined ? {} : { ret: c.result }) }) as ListedCall);
  return { format: LIST_FORMAT, source: 'plan', outcomes: false, calls };
}

/**
 * The calls of a list from `mountkit plan` that the relaunched process makes, to compare
 * with a traced run, whose list is that process's: those after the first process's
 * (which end with the relaunch record, left out of the list), or all of them when the
 * plan has no relaunch.
 */
export function relaunchedCalls(plan: PlanJson, list: SyscallList): readonly ListedCall[] {
  const firstProcess = plan.calls.findIndex((c) => c.op === 'relaunch');
  return firstProcess < 0 ? list.calls : list.calls.slice(firstProcess);
}

/** Arguments that hold a descriptor; its number differs from run to run. */
const FD_ARGS: ReadonlySet<string> = new Set(['fd', 'dirfd', 'oldfd', 'newfd', 'fromDirfd', 'toDirfd']);

/** A call without its outcome and with descriptor numbers blanked, for comparing two runs. */
function callKey({ ret: _r, errno: _e, ...call }: ListedCall): string {
  return JSON.stringify(call, (key, value: unknown) => {
    if (FD_ARGS.has(key) && typeof value === 'number' && value >= 0) return '*';
    return typeof value === 'string' ? value.replace(/^\/proc\/(self|thread-self)\/fd\/\d+/, '/proc/$1/fd/*') : value;
  });
}

/** Where two lists first differ (op and arguments, descriptors aside), or undefined if equal. */
export function firstDifference(a: readonly ListedCall[], b: readonly ListedCall[]): number | undefined {
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) if (i >= a.length || i >= b.length || callKey(a[i]) !== callKey(b[i])) return i;
  return undefined;
}

/** How many calls two lists share in order (longest common subsequence) and how many each has alone. */
export function compareLists(a: readonly ListedCall[], b: readonly ListedCall[]): { common: number; onlyA: number; onlyB: number } {
  const ka = a.map(callKey);
  const kb = b.map(callKey);
  let prev = new Array<number>(kb.length + 1).fill(0);
  for (let i = 1; i <= ka.length; i++) {
    const row = new Array<number>(kb.length + 1).fill(0);
    for (let j = 1; j <= kb.length; j++) row[j] = ka[i - 1] === kb[j - 1] ? prev[j - 1] + 1 : Math.max(prev[j], row[j - 1]);
    prev = row;
  }
  const common = prev[kb.length];
  return { common, onlyA: a.length - common, onlyB: b.length - common };
}

/** Calls whose result is a descriptor later calls name. */
const FD_RESULTS: ReadonlySet<SyscallName> = new Set<SyscallName>(['open', 'openat', 'openat2', 'openTree', 'openTreeAttr']);

/** Calls replay.c does not make: commands, an idmapped bind's user namespace helper, tmpcopyup's detached tmpfs, the first process's pidfds, and the runtime channel's event. */
const NOT_REPLAYED: ReadonlyMap<SyscallName, string> = new Map<SyscallName, string>([
  ['runCommand', 'run commands'],
  ['runCommandAsync', 'run commands'],
  ['userNamespace', 'make user namespaces'],
  ['fsopen', "make tmpcopyup's detached tmpfs"],
  ['fsconfig', "make tmpcopyup's detached tmpfs"],
  ['fsmount', "make tmpcopyup's detached tmpfs"],
  ['pidfdOpen', 'open pidfds'],
  ['pidfdSendSignal', 'signal through pidfds'],
  ['write', 'write to the runtime channel'],
]);

function field(value: unknown): string[] {
  if (value === null || value === undefined) return ['-'];
  if (typeof value === 'string' && /^0x[0-9a-f]+$/.test(value)) return [value];
  if (typeof value === 'string') return ['"' + value.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n')];
  if (typeof value === 'number' || typeof value === 'bigint') return [String(value)];
  if (typeof value === 'boolean') return [value ? '1' : '0'];
  if (Array.isArray(value)) return [String(value.length), ...value.flatMap(field)];
  throw new Error(`the replay cannot take ${JSON.stringify(value)}`);
}

/**
 * The list as replay.c's input: OP TAB EXPECT {TAB FIELD}, one call a line (replay.c's
 * header describes the fields). With outcomes, a call without `errno` is expected to
 * succeed; without, only a call that returned a descriptor is. A string that looks like a hex bigint is the bigint;
 * no string argument of the port takes that shape in a run's list.
 */
export function toReplayLines(list: SyscallList): string {
  return list.calls
    .map((call) => {
      const { names, ret } = replayable(call);
      const fd = ret === undefined ? '' : `:${ret}`;
      const expect = call.errno !== undefined ? `err:${errnoNumber(call.errno)}` : fd || list.outcomes ? `ok${fd}` : '?';
      return [call.op, expect, ...names.flatMap((n) => field(call[n]))].join('\t');
    })
    .join('\n') + '\n';
}

/**
 * A call as both replays take it: refused when they cannot make it (NOT_REPLAYED); the
 * names of the arguments it has, in the port's order; the descriptor it returned, when
 * it is one later calls name (FD_RESULTS).
 */
function replayable(call: ListedCall): { names: string[]; ret: number | undefined } {
  const missing = NOT_REPLAYED.get(call.op);
  if (missing) throw new Error(`the replay does not ${missing} (${call.op})`);
  const names = (ARG_NAMES[call.op] as readonly string[]).filter((n) => n in call);
  return { names, ret: FD_RESULTS.has(call.op) ? call.ret : undefined };
}

/** One call as bench/replay-port.js takes it: [op, args in the port's order, positions of descriptor arguments, returned descriptor, errno]. */
export type PortCall = [SyscallName, unknown[], number[], number | null, string | null];

/**
 * A list with outcomes (a recorded run) as bench/replay-port.js's input: the calls
 * replay.c makes, with their arguments in the port's parameter order.
 */
export function toPortList(list: SyscallList): string {
  if (!list.outcomes) throw new Error('the port replay needs a list with outcomes (a recorded run)');
  const calls = list.calls.map((call): PortCall => {
    const { names, ret } = replayable(call);
    const fds = names.flatMap((n, i) => (FD_ARGS.has(n) ? [i] : []));
    return [call.op, names.map((n) => call[n]), fds, ret ?? null, call.errno ?? null];
  });
  return JSON.stringify(calls);
}
