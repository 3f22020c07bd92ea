/**
 * How each contender runs once: mountkit's CLI (plain or under the bench preload),
 * `runc run`, `node -e 0`, and the C replay under the namespaces mountkit's relaunch makes.
 */
import { spawnSync } from 'child_process';
import { readFileSync, rmSync } from 'fs';
import * as path from 'path';
import { REPO, ROOTLESS_ID } from './bundles';
import { timeRun } from './measure';
import type { TraceCall, TraceRecord } from './syscall-list';

export const BIN = path.join(REPO, 'bin', 'mountkit.js');
/** The command users run (package.json bin): the shell launcher in front of BIN. */
export const LAUNCHER = path.join(REPO, 'bin', 'mountkit');
export const PRELOAD = path.join(__dirname, 'preload.js');
/**
 * Prefix of every runc and crun container id the bench and its children (mount-table-child.ts,
 * crun-child.ts, which get MOUNTKIT_BENCH_PID from main.ts) make; sweepRunc and sweepCrun
 * remove what is left. Each id goes on with its maker's pid and a serial number.
 */
export const RUNC_PREFIX = `mountkit-bench-${process.env.MOUNTKIT_BENCH_PID ?? process.pid}-`;

function ok<T extends { status: number | null; stderr: string }>(what: string, r: T): T {
  if (r.status !== 0) throw new Error(`${what} failed (status ${r.status}): ${r.stderr.trim()}`);
  return r;
}

/**
 * NODE_EXTRA_CA_CERTS as the bench found it. main.ts takes it out of process.env before
 * anything runs: Node parses the file it names at every start, so the floor would be
 * Node plus a CA bundle. Rows that show its effect add it back with withCaCerts().
 */
export const HARNESS_CA_CERTS = process.env.NODE_EXTRA_CA_CERTS;

export function withCaCerts(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return HARNESS_CA_CERTS === undefined ? env : { ...env, NODE_EXTRA_CA_CERTS: HARNESS_CA_CERTS };
}

export function nodeFloor(env: NodeJS.ProcessEnv = process.env): number {
  return ok('node -e 0', timeRun([process.execPath, '-e', '0'], env)).ms;
}

/** `mountkit run` as users start it (the launcher), or through the Node entry alone. */
export function mountkitRun(
  bundle: string,
  entry: 'launcher' | 'node' = 'launcher',
  cliBundle: 'require' | 'off' = 'require',
  baseEnv: NodeJS.ProcessEnv = process.env,
  extra: readonly string[] = [],
): number {
  const cmd = entry === 'launcher' ? [LAUNCHER] : [process.execPath, BIN];
  // MOUNTKIT_BUNDLE=1: a run that could not use the CLI bundle and its code cache fails rather than being measured (src/bundle/load.ts).
  const env = { ...baseEnv, MOUNTKIT_BUNDLE: cliBundle === 'require' ? '1' : '0' };
  return ok('mountkit run', timeRun([...cmd, 'run', '--bundle', bundle, ...extra], env)).ms;
}

let serial = 0;

/**
 * A foreground run of runc or crun (which deletes the container when its process exits),
 * `argv` of a new container id, timed; where it fails, `remove` of that id deletes what
 * it left before the failure is thrown.
 */
function foreground(what: string, argv: (id: string) => string[], remove: (id: string) => readonly string[]): number {
  const id = `${RUNC_PREFIX}${process.pid}-${serial++}`;
  const r = timeRun(argv(id));
  if (r.status !== 0) {
    const [cmd, ...args] = remove(id);
    spawnSync(cmd, args);
  }
  return ok(what, r).ms;
}

/**
 * The launcher alone: `mountkit run` by the launcher with `standIn` first in PATH, a
 * directory whose `node` is a copy of true(1), so that the Node it starts exits at once
 * with status 0: what the launcher itself costs a run (its grep(1), the job and the watch
 * it forks, unshare(1) and the shell in the new namespaces, the seal of node's file as
 * root, their end), without Node's start-up. The stand-in's first line ends at its 16th
 * byte (main.ts standInNode), where a real node's runs on for about a thousand more, which
 * the launcher reads one byte at a time under dash: about 2.4 ms it leaves out (bench/README).
 */
export function launcherAlone(bundle: string, standIn: string): number {
  return ok('the launcher with a stand-in node', timeRun([LAUNCHER, 'run', '--bundle', bundle], { ...process.env, PATH: `${standIn}:${process.env.PATH ?? ''}` })).ms;
}

/** `argv` run by ROOTLESS_ID with its own group alone (setpriv(1), util-linux). */
function asRootless(argv: readonly string[]): string[] {
  return ['setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', ...argv];
}

/** setpriv(1) running true(1): what asRootless adds to a run. */
export function rootlessFloor(): number {
  return ok('setpriv true', timeRun(asRootless(['true']))).ms;
}

/** `mountkit run` by the launcher as ROOTLESS_ID, for a bundle of that user's (bundles.ts makeRootlessBundle). */
export function mountkitRunRootless(bundle: string): number {
  return ok('rootless mountkit run', timeRun(asRootless([LAUNCHER, 'run', '--bundle', bundle]), { ...process.env, MOUNTKIT_BUNDLE: '1' })).ms;
}

/** `runc run` as ROOTLESS_ID, its state under `root` (a directory that user owns). */
export function runcRunRootless(bundle: string, root: string): number {
  return foreground('rootless runc run', (id) => asRootless(['runc', '--root', root, 'run', '--bundle', bundle, id]), (id) => asRootless(['runc', '--root', root, 'delete', '--force', id]));
}

/**
 * `argv` as a user at a terminal runs it: under script(1), on a new pseudo-terminal of
 * its own, which it copies to its stdout (-e: the command's exit status). runc refuses a
 * foreground console without a terminal.
 */
function atTerminal(argv: readonly string[]): string[] {
  return ['script', '-qec', argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' '), '/dev/null'];
}

/** script(1) running true(1): what atTerminal adds to a run. */
export function terminalFloor(): number {
  return ok('script -c true', timeRun(atTerminal(['true']))).ms;
}

/** `mountkit run` by the launcher at a terminal (atTerminal), for a bundle with process.terminal: its foreground console. */
export function mountkitRunAtTerminal(bundle: string): number {
  return ok('mountkit run at a terminal', timeRun(atTerminal([LAUNCHER, 'run', '--bundle', bundle]), { ...process.env, MOUNTKIT_BUNDLE: '1' })).ms;
}

/**
 * `runc run` in the foreground: runc deletes the container when its process exits. At a
 * terminal (atTerminal) for a bundle with process.terminal. `global` are runc's options
 * before the command (--log), `extra` the run's (--pid-file).
 */
export function runcRun(bundle: string, terminal = false, global: readonly string[] = [], extra: readonly string[] = []): number {
  return foreground(
    'runc run',
    (id) => {
      const argv = ['runc', ...global, 'run', ...extra, '--bundle', bundle, id];
      return terminal ? atTerminal(argv) : argv;
    },
    (id) => ['runc', 'delete', '--force', id],
  );
}

/**
 * A shell line run before crun where crun 1.8 can run: on a hybrid host whose cgroup2
 * hierarchy has controllers it refuses every command ("cgroups in hybrid mode not
 * supported"), so that hierarchy is unmounted first, in a mount namespace of the line's own
 * (crunWrapped, which test/conformance/harness.ts runs crun with too).
 */
const UNMOUNT_UNIFIED = 'if grep -qs . /sys/fs/cgroup/unified/cgroup.controllers; then umount /sys/fs/cgroup/unified || exit 125; fi';

/** `argv` (crun and its arguments, or crun-child.ts) in a mount namespace of its own where crun can run. */
export function crunWrapped(argv: readonly string[]): [string, string[]] {
  return ['unshare', ['--mount', '--propagation', 'slave', 'sh', '-c', `${UNMOUNT_UNIFIED}; exec "$@"`, 'sh', ...argv]];
}

/**
 * `crun run` in the foreground (crun deletes the container when its process exits), timed
 * as it is, without crunWrapped: only from crun-child.ts, which has made its namespace one
 * where crun runs.
 */
export function crunRun(bundle: string): number {
  return foreground('crun run', (id) => ['crun', 'run', '--bundle', bundle, id], (id) => crunWrapped(['crun', 'delete', '--force', id]).flat());
}

/** Deletes any crun container the bench or its children left behind (crun-child.ts interrupted). */
export function sweepCrun(): void {
  const r = spawnSync(...crunWrapped(['crun', 'list', '-q']), { encoding: 'utf8' });
  for (const id of (r.stdout ?? '').split('\n')) {
    if (id.startsWith(RUNC_PREFIX)) spawnSync(...crunWrapped(['crun', 'delete', '--force', id]));
  }
}

/** Deletes any container this bench left behind (a run that was interrupted). */
export function sweepRunc(): void {
  const r = spawnSync('runc', ['list', '-q'], { encoding: 'utf8' });
  for (const id of (r.stdout ?? '').split('\n')) {
    if (id.startsWith(RUNC_PREFIX)) spawnSync('runc', ['delete', '--force', id]);
  }
}

/** The marks bench/preload.js writes in split mode (MOUNTKIT_BENCH_SPLIT), ms since the process started. */
export interface SplitMarks {
  pid: number;
  loadedMs: number;
  compile: [number, number] | null;
  topLevelMs: number;
  topLevelBeforeMountMs: number;
  firstCall: [number, number] | null;
  mountMs: number | null;
  execMs: number;
}

/** `mountkit run` as users start it (the launcher), under the preload's split marks: the run's wall time and the marks of the process that mounted. */
export function splitRun(bundle: string, splitFile: string): { ms: number; marks: SplitMarks } {
  rmSync(splitFile, { force: true });
  const env = { ...process.env, MOUNTKIT_BUNDLE: '1', MOUNTKIT_BENCH_SPLIT: splitFile, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} -r ${PRELOAD}`.trim() };
  const r = ok('mountkit run (split)', timeRun([LAUNCHER, 'run', '--bundle', bundle], env));
  const all = readFileSync(splitFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as SplitMarks);
  rmSync(splitFile, { force: true });
  const mounted = all.filter((m) => m.mountMs !== null && m.compile !== null && m.firstCall !== null);
  if (mounted.length !== 1) throw new Error(`expected one process of the split run to mount, got ${mounted.length}`);
  return { ms: r.ms, marks: mounted[0] };
}

/**
 * Where one split run's wall time went, in order, summing to `wallMs`: what is outside
 * Node (the launcher before it, the program and the exits after the execve), Node's own
 * start-up, the loader up to the bundle's compile, the compile, the modules' top levels,
 * the first port call, the rest before the first mount, and the first mount to the execve.
 */
export function splitSegments(wallMs: number, m: SplitMarks): [string, number][] {
  const compile = m.compile ?? [m.loadedMs, m.loadedMs];
  const first = m.firstCall ?? [compile[1], compile[1]];
  const mount = m.mountMs ?? m.execMs;
  return [
    ['outside Node: the launcher before it, the program and the exits after the execve', wallMs - m.execMs],
    ["Node's own start-up (to the preload)", m.loadedMs],
    ['the loader: bin/mountkit.js, the manifest, a stat of every bundled file, the bundle and its code cache read', compile[0] - m.loadedMs],
    ['the bundle compiled with its code cache', compile[1] - compile[0]],
    ["the bundled modules' top levels before the first mount", m.topLevelBeforeMountMs],
    ["the first port call (koffi's addon loaded, libc bound)", first[1] - first[0]],
    ['the rest before the first mount: config.json read and checked, the kernel built, the namespaces, JavaScript and calls', mount - compile[1] - m.topLevelBeforeMountMs - (first[1] - first[0])],
    ['the first mount to the execve: mounts, /dev, the jail, finalize, the process', m.execMs - mount],
  ];
}

export interface TracedRun {
  ms: number;
  /** The record of the process that made the execve (the relaunched one), then the others'. */
  records: TraceRecord[];
}

/** A mountkit run under the preload; `args` keeps every call's arguments (a list run). */
export function tracedRun(bundle: string, traceFile: string, opts: { args?: boolean; profileDir?: string } = {}): TracedRun {
  rmSync(traceFile, { force: true });
  const env: NodeJS.ProcessEnv = { ...process.env, MOUNTKIT_BENCH_TRACE: traceFile };
  if (opts.args) env.MOUNTKIT_BENCH_ARGS = '1';
  if (opts.profileDir) env.MOUNTKIT_BENCH_PROFILE = opts.profileDir;
  const r = ok('mountkit run (traced)', timeRun([process.execPath, '-r', PRELOAD, BIN, 'run', '--bundle', bundle], env));
  const records = readFileSync(traceFile, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as TraceRecord);
  rmSync(traceFile, { force: true });
  const execs = records.filter(endsInExecve);
  if (execs.length !== 1) throw new Error(`expected one traced process to execve, got ${execs.length}`);
  return { ms: r.ms, records: [...execs, ...records.filter((rec) => !endsInExecve(rec))] };
}

function endsInExecve(rec: TraceRecord): boolean {
  return rec.calls.length > 0 && rec.calls[rec.calls.length - 1][0] === 'execve';
}

const ns = (hex: string) => Number(BigInt(hex));

export interface PipelineWindow {
  /** First port call to the execve call, in the process that made the execve. */
  windowMs: number;
  /** Time spent inside port methods in that window (the rest is JavaScript between calls). */
  inPortMs: number;
  /** The first mount call to the execve call: the mounts, /dev, the jail, finalize and the process steps, without the start-up work before them (koffi loaded, config read, kernel built). */
  fromMountMs: number;
  /** ms since that process started: preload ran (Node's own start-up), first call, execve. */
  loadedMs: number;
  firstCallMs: number;
  execMs: number;
  calls: number;
}

export function pipelineWindow(run: TracedRun): PipelineWindow {
  const rec = run.records[0];
  const calls = rec.calls;
  const windowMs = (ns(calls[calls.length - 1][1]) - ns(calls[0][1])) / 1e6;
  const inPortMs = calls.slice(0, -1).reduce((s, c) => s + ns(c[2]) - ns(c[1]), 0) / 1e6;
  const firstMount = calls.find((c) => c[0] === 'mount') ?? calls[0];
  const fromMountMs = (ns(calls[calls.length - 1][1]) - ns(firstMount[1])) / 1e6;
  return { windowMs, inPortMs, fromMountMs, loadedMs: rec.loadedMs, firstCallMs: rec.execMs - windowMs, execMs: rec.execMs, calls: calls.length };
}

/** Time inside the port per op over a run's executing process: [op, calls, ms]. */
export function portTimeByOp(run: TracedRun): [string, number, number][] {
  const by = new Map<string, [number, number]>();
  for (const [op, start, end] of run.records[0].calls.slice(0, -1) as TraceCall[]) {
    const e = by.get(op) ?? [0, 0];
    by.set(op, [e[0] + 1, e[1] + (ns(end) - ns(start)) / 1e6]);
  }
  return [...by].map(([op, [n, ms]]) => [op, n, ms] as [string, number, number]).sort((a, b) => b[2] - a[2]);
}

/** readFile calls of a mountinfo file in every process of a run traced with args. */
export function mountinfoReads(run: TracedRun): number {
  return run.records
    .flatMap((r) => r.calls)
    .filter(([op, , , args]) => op === 'readFile' && typeof args?.[0] === 'string' && args[0].endsWith('/mountinfo')).length;
}

export interface ReplayTiming {
  /** First replayed call to the execve call. */
  windowMs: number;
  /** The whole process tree (unshare, replay, /bin/true) as seen from here. */
  ms: number;
  calls: number;
  mismatches: number;
  /** The first few of those calls as the replay described them (differingCalls). */
  differing: string[];
  /** replay-port.js only: how long its first call took (loading koffi's addon and binding libc). */
  firstCallMs?: number;
  /** The list's first mount call to the execve call (the whole window when the list has none). */
  fromMountMs: number;
}

/**
 * The calls a replay describes on stderr as having another outcome than in the recorded
 * run (replay.c's `replay: call N OP: ...` lines, replay-port.js's `replay-port: call N
 * ...`), without the program's name; its other lines are left out.
 */
export function differingCalls(stderr: string): string[] {
  return stderr.split('\n').flatMap((line) => {
    const m = /^replay(?:-port)?: (call \d+ .*)$/.exec(line);
    return m ? [m[1]] : [];
  });
}

/** What the replays `timings` described as differing (differingCalls), each once. */
export function differingOf(timings: readonly ReplayTiming[]): string[] {
  return [...new Set(timings.flatMap((t) => t.differing))];
}

/** bench/replay-port.js: the recorded calls through mountkit's port from a bare loop, as a command for replayRun. */
export const PORT_REPLAY: readonly string[] = [process.execPath, path.join(__dirname, 'replay-port.js')];

/**
 * One replay of `list` under `launcher` (unshare(1) argv ending in --): `replay` is
 * replay.c's binary (the list in its line format) or PORT_REPLAY (the list from toPortList).
 */
export function replayRun(replay: string | readonly string[], list: string, outFile: string, launcher: readonly string[]): ReplayTiming {
  rmSync(outFile, { force: true });
  const r = ok('replay', timeRun([...launcher, ...(typeof replay === 'string' ? [replay] : replay), list, outFile]));
  const [start, exec, calls, mismatches, firstEnd, mountStart] = readFileSync(outFile, 'utf8').trim().split(' ').map(Number);
  rmSync(outFile, { force: true });
  return {
    windowMs: (exec - start) / 1e6,
    ms: r.ms,
    calls,
    mismatches,
    differing: differingCalls(r.stderr),
    ...(firstEnd ? { firstCallMs: (firstEnd - start) / 1e6 } : {}),
    fromMountMs: (exec - (mountStart || start)) / 1e6,
  };
}
