/**
 * `npm run bench`: mountkit beside runc and beside the floors (Node's own start-up, a C
 * program making the same syscalls, and the same calls through mountkit's port from a bare
 * Node loop), in one run. Prints medians and ratios and
 * writes bench/results.json. Targets are reported, never asserted.
 *
 * Options: --reps N (whole-run and pipeline rounds, default 30), --scale-reps N (default
 * 10), --only 1,2,3,4,5,6 (sections). Needs root, runc, busybox-static, cc, unshare(1) and
 * libseccomp; section 6 needs crun too, and is left out, saying so, without it.
 * Every mount happens in a throwaway namespace; the host's mount table is compared
 * before and after, and the temporary directory and runc containers are removed.
 */
import { spawnSync } from 'child_process';
import { chmodSync, chownSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync, writeSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { loadBundle } from '../src/core/config/oci';
import { planLaunch } from '../src/core/namespaces';
import type { PlanJson } from '../src/core/plan';
import { QUERY_SYSCALLS } from '../src/core/syscalls/fake';
import { REPO, ROOTLESS_ID, extraBinds, extraTmpfs, makeBundle, makeRootfs, makeRootlessBundle, withOwnModule, withSeccomp, withRuntimeHook, withTerminal, SUBORDINATE_BASE, withSubordinateUserNamespace, withSubordinateUserNamespaceAndScore, withUserNamespace, withUserNamespaceAndRuntimeHook, withoutPidNamespace, type SpecEdit } from './bundles';
import { interleave, median, round, slope, summarize, type Summary } from './measure';
import type { CrunResult } from './crun-child';
import type { TableResult } from './mount-table-child';
import { requireTimings, summarizeProfile, type CpuProfile } from './profile';
import {
  BIN,
  crunWrapped,
  differingOf,
  launcherAlone,
  HARNESS_CA_CERTS,
  mountinfoReads,
  mountkitRun,
  mountkitRunAtTerminal,
  mountkitRunRootless,
  nodeFloor,
  PORT_REPLAY,
  pipelineWindow,
  portTimeByOp,
  splitRun,
  splitSegments,
  replayRun,
  rootlessFloor,
  runcRun,
  runcRunRootless,
  sweepCrun,
  sweepRunc,
  terminalFloor,
  tracedRun,
  withCaCerts,
  type PipelineWindow,
  type ReplayTiming,
} from './runners';
import { LIST_FORMAT, compareLists, firstDifference, listFromPlan, listFromTrace, relaunchedCalls, toPortList, toReplayLines, type ListedCall, type SyscallList } from './syscall-list';

const RESULTS = path.join(__dirname, 'results.json');
const TS_REGISTER = path.join(REPO, 'test', 'helpers', 'ts-register.js');
const SCALE_COUNTS = [0, 10, 100, 1000];
const TABLE_SIZES = [10, 1000, 5000];

interface ListFile {
  list: SyscallList;
  /** A plan's list: the calls of the relaunched process (relaunchedCalls), which a traced run records. */
  relaunched?: readonly ListedCall[];
  /** The list in replay.c's format. */
  file: string;
  /** The list as bench/replay-port.js takes it; only a recorded run's (with outcomes). */
  portFile?: string;
}

interface ReplayKit {
  binary: string;
  /** unshare(1) as mountkit's relaunch runs it, with a private start. */
  launcher: string[];
  trace: ListFile;
  /** From `mountkit plan --format json`; an error message when the plan could not be had. */
  plan: ListFile | string;
}

/** A point of the extra-mounts tables: the same timings as a mount-table point, for `n` extra mounts. */
interface ScaleRow extends Omit<TableResult, 'entries'> {
  n: number;
  /** bench/replay-port.js of the same list: whole run and first call to execve. */
  portReplay: Summary;
  portReplayPipelineMs: number;
  replayMismatches: number;
  portReplayMismatches: number;
  /** The calls either replay described as having another outcome (differingOf). */
  replayDiffering: string[];
  /** Port calls and median ms inside the port, by op, in the traced runs. */
  portByOp: Map<string, { calls: number; ms: number }>;
}

interface Options {
  reps: number;
  scaleReps: number;
  only: Set<number>;
}

function parseOptions(argv: readonly string[]): Options {
  const opts: Options = { reps: 30, scaleReps: 10, only: new Set([1, 2, 3, 4, 5, 6]) };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === '--reps') opts.reps = positive(argv[i], value);
    else if (argv[i] === '--scale-reps') opts.scaleReps = positive(argv[i], value);
    else if (argv[i] === '--only') opts.only = new Set((value ?? '').split(',').map(Number));
    else throw new Error(`unknown option ${argv[i]} (--reps N, --scale-reps N, --only 1,2,3,4,5,6)`);
    i++;
  }
  return opts;
}

function positive(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} needs a positive integer`);
  return n;
}

/** Whether `tool` is a command in PATH. */
function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}

function missingTools(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push('root');
  for (const tool of ['runc', 'cc', 'unshare']) if (!hasTool(tool)) missing.push(tool);
  if (!existsSync('/bin/busybox')) missing.push('/bin/busybox (busybox-static)');
  if (!existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) missing.push('dist/ (npm run build)');
  return missing;
}

function table(rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? String(round(c)) : c)));
  const widths = cells[0].map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const r of cells) console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  '));
}

const ratio = (a: number, b: number) => round(a / b);
const verdict = (value: number, target: number) => (value <= target ? `met (<= ${target}x)` : `not met (target <= ${target}x)`);

class Bench {
  private readonly template: string;
  private readonly bundles = new Map<string, string>();
  private serial = 0;
  private kit: ReplayKit | undefined;

  constructor(
    readonly tmp: string,
    readonly opts: Options,
    /** Filled section by section; written to bench/results.json even when a section fails. */
    readonly results: Record<string, unknown>,
  ) {
    // Searchable by others: the root of a user namespace of other host ids and the rootless user reach the bundles under it.
    chmodSync(tmp, 0o755);
    this.template = makeRootfs(tmp);
  }

  bundle(name: string, edit?: SpecEdit): string {
    let dir = this.bundles.get(name);
    if (!dir) {
      dir = makeBundle(path.join(this.tmp, `bundle-${name}`), this.template, edit);
      this.bundles.set(name, dir);
    }
    return dir;
  }

  file(name: string): string {
    return path.join(this.tmp, `${name}-${this.serial++}`);
  }

  wholeRun(): void {
    console.log(`\n1. Whole run: runc spec's default bundle, busybox rootfs, /bin/true (${this.opts.reps} interleaved rounds)`);
    const def = this.bundle('default');
    const noPid = this.bundle('no-pid', withoutPidNamespace);
    const userns = this.bundle('userns', withUserNamespace);
    const subordinate = this.bundle('userns-subordinate', withSubordinateUserNamespace);
    const scored = this.bundle('userns-subordinate-score', withSubordinateUserNamespaceAndScore);
    const hooked = this.bundle('hooked', withRuntimeHook);
    const usernsHooked = this.bundle('userns-hooked', withUserNamespaceAndRuntimeHook);
    // As containerd runs its runtime: a pid file, and a log file of JSON lines (one per tool, appended to by every round).
    const pidFile = this.file('ct.pid');
    const hostedMountkit = ['--pid-file', pidFile, '--log', this.file('mountkit.log'), '--log-format', 'json'];
    const runcLog = ['--log', this.file('runc.log'), '--log-format', 'json'];
    const terminal = this.bundle('terminal', withTerminal);
    const ownList = withOwnModule(path.join(this.tmp, 'own-module'));
    const { bundle: rootless, state: rootlessState } = this.rootless();
    const standIn = this.standInNode();
    const times = interleave(
      [
        { name: 'node -e 0', run: nodeFloor },
        { name: 'runc run', run: () => runcRun(def) },
        { name: 'mountkit run', run: () => mountkitRun(def) },
        { name: 'the launcher alone (mountkit run, its node a stand-in that exits at once)', run: () => launcherAlone(def, standIn) },
        { name: 'mountkit run through the Node entry alone (two Node processes)', run: () => mountkitRun(def, 'node') },
        { name: 'mountkit run, no pid namespace (one Node process)', run: () => mountkitRun(noPid) },
        { name: 'mountkit run without the CLI bundle (MOUNTKIT_BUNDLE=0)', run: () => mountkitRun(def, 'launcher', 'off') },
        { name: 'runc run, new user namespace', run: () => runcRun(userns) },
        { name: 'mountkit run, new user namespace (the launcher makes it and writes its maps, one Node process)', run: () => mountkitRun(userns) },
        { name: `runc run, new user namespace, 65536 ids from host id ${SUBORDINATE_BASE}`, run: () => runcRun(subordinate) },
        { name: `mountkit run, new user namespace, 65536 ids from host id ${SUBORDINATE_BASE} (the launcher makes it, Node started through setpriv, one Node process)`, run: () => mountkitRun(subordinate) },
        { name: 'mountkit run, the same with process.oomScoreAdj 500 (as Kubernetes gives every container; one Node process)', run: () => mountkitRun(scored) },
        { name: 'runc run, a createRuntime hook (/bin/true)', run: () => runcRun(hooked) },
        { name: 'mountkit run, a createRuntime hook (a relay beside one Node)', run: () => mountkitRun(hooked) },
        { name: 'mountkit run, a createRuntime hook, a module of its own in --plugins (the kernel built in both)', run: () => mountkitRun(hooked, 'launcher', 'require', process.env, ['--plugins', ownList]) },
        { name: 'runc run, a createRuntime hook, --pid-file and --log (JSON), as containerd runs it', run: () => runcRun(hooked, false, runcLog, ['--pid-file', pidFile]) },
        { name: 'mountkit run, the same (a relay beside one Node, which writes the pid file)', run: () => mountkitRun(hooked, 'launcher', 'require', process.env, hostedMountkit) },
        { name: 'mountkit run, new user namespace, a createRuntime hook (the launcher makes it; a relay beside one Node)', run: () => mountkitRun(usernsHooked) },
        { name: 'setpriv true, as nobody (what the next two add)', run: rootlessFloor },
        { name: 'runc run, rootless (runc spec --rootless, as nobody)', run: () => runcRunRootless(rootless, rootlessState) },
        { name: 'mountkit run, rootless (as nobody: the launcher makes the user namespace, one Node process)', run: () => mountkitRunRootless(rootless) },
        { name: 'script -qec true (a terminal for the next two)', run: terminalFloor },
        { name: 'runc run, process.terminal, at a terminal', run: () => runcRun(terminal, true) },
        { name: 'mountkit run, process.terminal, at a terminal (a relay beside one Node)', run: () => mountkitRunAtTerminal(terminal) },
        ...(HARNESS_CA_CERTS === undefined
          ? []
          : [
              { name: 'node -e 0 with NODE_EXTRA_CA_CERTS', run: () => nodeFloor(withCaCerts()) },
              { name: 'mountkit run with NODE_EXTRA_CA_CERTS', run: () => mountkitRun(def, 'launcher', 'require', withCaCerts()) },
            ]),
      ],
      this.opts.reps,
      2,
    );
    const s = new Map([...times].map(([k, v]) => [k, summarize(v)]));
    const node = s.get('node -e 0')!.median;
    const runc = s.get('runc run')!.median;
    table([
      ['', 'median ms', 'p25', 'p75', 'x node -e 0', 'x runc'],
      ...[...s].map(([k, v]) => [k, v.median, v.p25, v.p75, ratio(v.median, node), ratio(v.median, runc)]),
    ]);
    const mk = s.get('mountkit run')!.median;
    console.log(`  target mountkit <= 1.25x node -e 0: ${ratio(mk, node)}x, ${verdict(mk / node, 1.25)}`);
    this.results.wholeRun = { summaries: Object.fromEntries(s), mountkitOverNode: ratio(mk, node), mountkitOverRunc: ratio(mk, runc) };
  }

  /**
   * The rootless rows' bundle (bundles.ts makeRootlessBundle) and runc's state directory,
   * both ROOTLESS_ID's, under the bench's directory, which that user may search.
   */
  rootless(): { bundle: string; state: string } {
    const bundle = makeRootlessBundle(path.join(this.tmp, 'bundle-rootless'), this.template);
    const state = path.join(this.tmp, 'runc-rootless');
    mkdirSync(state);
    chownSync(state, ROOTLESS_ID, ROOTLESS_ID);
    return { bundle, state };
  }

  /** A directory whose `node` is a copy of true(1), for the launcher's row (runners.ts launcherAlone). */
  standInNode(): string {
    const dir = path.join(this.tmp, 'stand-in');
    const node = path.join(dir, 'node');
    mkdirSync(dir);
    // A copy named node, which the launcher seals as it seals node's file (a link to a file of another name it does not).
    copyFileSync('/bin/true', node);
    chmodSync(node, 0o755);
    // The launcher reads node's first line to look for "#!", one read(2) a byte under
    // dash: true(1)'s runs to byte 3948 on Debian 12 (node's to 1098). A newline at byte
    // 15, the last of e_ident's padding (EI_PAD), which neither execve(2) nor ld.so reads,
    // ends it there.
    const fd = openSync(node, 'r+');
    try {
      writeSync(fd, Buffer.from('\n'), 0, 1, 15);
    } finally {
      closeSync(fd);
    }
    return dir;
  }

  /**
   * What a real run of `bundle` did, as a syscall list and in replay.c's format, taken in
   * the steady state: the run before it made the mountpoints in the rootfs.
   */
  recordList(bundle: string): ListFile & { mountinfoReads: number } {
    mountkitRun(bundle);
    const run = tracedRun(bundle, this.file('trace'), { args: true });
    const list = listFromTrace(run.records[0]);
    const file = this.file('list.txt');
    writeFileSync(file, toReplayLines(list));
    const portFile = this.file('list.json');
    writeFileSync(portFile, toPortList(list));
    return { list, file, portFile, mountinfoReads: mountinfoReads(run) };
  }

  /** The C replay, built, and the default bundle's lists: as a real run made it, and as `mountkit plan` predicts it. */
  replayKit(): ReplayKit {
    if (this.kit) return this.kit;
    const def = this.bundle('default');
    const binary = path.join(this.tmp, 'replay');
    const cc = spawnSync('cc', ['-O2', '-Wall', '-Wextra', '-o', binary, path.join(__dirname, 'replay.c')], { encoding: 'utf8' });
    if (cc.status !== 0) throw new Error(`cc bench/replay.c failed: ${cc.stderr}`);
    const trace = this.recordList(def);
    const config = { ...loadBundle(def), noPivot: false };
    const launch = planLaunch(config.namespaces, { relaunched: false, inUserNamespace: false }).relaunch;
    const prop = launch.indexOf('--propagation');
    if (launch[0] !== 'unshare' || prop < 0) throw new Error(`unexpected launcher ${launch.join(' ')}`);
    // The replay's namespace starts private instead of unchanged: it cannot reach the host even if the list were wrong.
    const launcher = [...launch.slice(0, prop + 1), 'private', ...launch.slice(prop + 2)];
    this.kit = { binary, launcher, trace, plan: this.planList(def) };
    return this.kit;
  }

  /** `mountkit plan --format json` of `bundle` as a list, or why there is none. */
  planList(bundle: string): ListFile | string {
    // stdin as the runs have it; stdout, where the plan goes, cannot be their /dev/null.
    const r = spawnSync(process.execPath, [BIN, 'plan', '--format', 'json', '--bundle', bundle], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 256 << 20,
    });
    if (r.status !== 0) return `mountkit plan exited with ${r.status}: ${r.stderr.trim()}`;
    const plan = JSON.parse(r.stdout) as PlanJson;
    if (!plan.complete) return `the plan is not complete: ${plan.error?.message ?? 'no error given'}`;
    const list = listFromPlan(plan);
    const file = this.file('plan.txt');
    writeFileSync(file, toReplayLines(list));
    return { list, file, relaunched: relaunchedCalls(plan, list) };
  }

  pipelineVsReplay(): void {
    console.log(`\n2. Pipeline vs the syscall floor: first syscall to execve, mountkit vs bench/replay.c (${this.opts.reps} rounds)`);
    const def = this.bundle('default');
    const { binary, launcher, trace, plan } = this.replayKit();
    const windows: PipelineWindow[] = [];
    const replays: ReplayTiming[] = [];
    const portReplays: ReplayTiming[] = [];
    const planReplays: ReplayTiming[] = [];
    const byOp = new Map<string, number[]>();
    const replayOf = (list: ListFile, into: ReplayTiming[]) => () => {
      const r = replayRun(binary, list.file, this.file('replay-out'), launcher);
      into.push(r);
      return r.ms;
    };
    interleave(
      [
        {
          name: 'mountkit',
          run: () => {
            const run = tracedRun(def, this.file('timing'));
            windows.push(pipelineWindow(run));
            for (const [op, , ms] of portTimeByOp(run)) byOp.set(op, [...(byOp.get(op) ?? []), ms]);
            return run.ms;
          },
        },
        { name: 'replay', run: replayOf(trace, replays) },
        {
          name: 'port replay',
          run: () => {
            const r = replayRun(PORT_REPLAY, trace.portFile!, this.file('replay-out'), launcher);
            portReplays.push(r);
            return r.ms;
          },
        },
        ...(typeof plan === 'string' ? [] : [{ name: 'plan replay', run: replayOf(plan, planReplays) }]),
      ],
      this.opts.reps,
      2,
    );
    const pick = (k: keyof PipelineWindow) => summarize(windows.map((w) => w[k]));
    const mk = pick('windowMs');
    const inPort = pick('inPortMs');
    const jsBetween = summarize(windows.map((w) => w.windowMs - w.inPortMs));
    const rp = summarize(replays.map((r) => r.windowMs));
    const rpWhole = summarize(replays.map((r) => r.ms));
    const port = summarize(portReplays.map((r) => r.windowMs));
    const portFirst = summarize(portReplays.map((r) => r.firstCallMs ?? 0));
    const pr = planReplays.length ? summarize(planReplays.map((r) => r.windowMs)) : undefined;
    const mkRest = pick('fromMountMs');
    const portRest = summarize(portReplays.map((r) => r.fromMountMs));
    const rpRest = summarize(replays.map((r) => r.fromMountMs));
    const restCalls = trace.list.calls.length - Math.max(0, trace.list.calls.findIndex((c) => c.op === 'mount'));
    const mismatches = Math.max(...replays.map((r) => r.mismatches));
    const portMismatches = Math.max(...portReplays.map((r) => r.mismatches));
    const traceCalls = trace.list.calls.length;
    const effects = trace.list.calls.filter((c) => !QUERY_SYSCALLS.has(c.op));
    table([
      ['', 'median ms', 'p25', 'p75', 'calls'],
      ['mountkit: first syscall -> execve', mk.median, mk.p25, mk.p75, String(traceCalls)],
      ['  of which inside the port (koffi, Node fs)', inPort.median, inPort.p25, inPort.p75, ''],
      ['  of which JavaScript between calls', jsBetween.median, jsBetween.p25, jsBetween.p75, ''],
      ['the same calls through the port from a bare loop (replay-port.js)', port.median, port.p25, port.p75, String(traceCalls)],
      ['  of which its first call (koffi loaded, libc bound)', portFirst.median, portFirst.p25, portFirst.p75, ''],
      ['replay.c of the recorded run: first syscall -> execve', rp.median, rp.p25, rp.p75, String(traceCalls)],
      ...(pr && typeof plan !== 'string' ? [['replay.c of mountkit plan (effects only)', pr.median, pr.p25, pr.p75, String(plan.list.calls.length)]] : []),
      ['replay.c whole run (unshare, replay, /bin/true)', rpWhole.median, rpWhole.p25, rpWhole.p75, ''],
      ['from the first mount(2) to execve: mountkit', mkRest.median, mkRest.p25, mkRest.p75, String(restCalls)],
      ['  the bare loop through the port', portRest.median, portRest.p25, portRest.p75, String(restCalls)],
      ['  replay.c', rpRest.median, rpRest.p25, rpRest.p75, String(restCalls)],
    ]);
    console.log(`  replay of the recorded run: ${mismatches} calls with another outcome than in the run (replay-port.js: ${portMismatches})`);
    const differing = differingOf([...replays, ...portReplays]);
    for (const d of differing) console.log(`    ${d}`);
    console.log(`  target pipeline <= 1.5x replay: ${ratio(mk.median, rp.median)}x, ${verdict(mk.median / rp.median, 1.5)}`);
    console.log(`  the port from a bare loop: ${ratio(port.median, rp.median)}x replay.c; mountkit ${ratio(mk.median, port.median)}x the bare loop`);
    console.log(
      `  from the first mount(2): mountkit ${ratio(mkRest.median, rpRest.median)}x replay.c, ${ratio(mkRest.median, portRest.median)}x the bare loop` +
        ` (what comes before it in mountkit's window, ${round(mk.median - mkRest.median)} ms: koffi loaded, config read, kernel built)`,
    );
    const timeline = { loadedMs: pick('loadedMs'), firstCallMs: pick('firstCallMs'), execMs: pick('execMs') };
    console.log(
      `  the relaunched process (median ms since it started): Node start-up to preload ${timeline.loadedMs.median},` +
        ` first port call ${timeline.firstCallMs.median}, execve ${timeline.execMs.median}`,
    );
    const ops = [...byOp].map(([op, v]) => ({ op, ms: round(median(v)) })).sort((a, b) => b.ms - a.ms);
    console.log(`  port time by op (median ms): ${ops.slice(0, 8).map((o) => `${o.op} ${o.ms}`).join(', ')}`);
    let planVsRun: Record<string, unknown>;
    if (typeof plan === 'string') {
      console.log(`  mountkit plan: ${plan}`);
      planVsRun = { error: plan };
    } else {
      const planned = plan.relaunched ?? plan.list.calls;
      const diverges = firstDifference(effects, planned);
      const where = diverges === undefined ? 'none' : `call ${diverges} (run: ${effects[diverges]?.op ?? 'end'}, plan: ${planned[diverges]?.op ?? 'end'})`;
      const { common, onlyA, onlyB } = compareLists(effects, planned);
      console.log(
        `  mountkit plan vs the run's ${effects.length} effect calls (the relaunched process's): ${planned.length} planned, ${common} in common,` +
          ` ${onlyA} only in the run, ${onlyB} only in the plan; first difference: ${where}`,
      );
      planVsRun = { calls: planned.length, runEffects: effects.length, common, onlyInRun: onlyA, onlyInPlan: onlyB, firstDifference: diverges ?? null, replayWindow: pr ?? null };
    }
    this.results.pipeline = {
      mountkitWindow: mk,
      inPort,
      jsBetweenCalls: jsBetween,
      fromMount: { mountkit: mkRest, portReplay: portRest, replay: rpRest, calls: restCalls, ratio: ratio(mkRest.median, rpRest.median) },
      replayWindow: rp,
      replayWholeRun: rpWhole,
      portReplayWindow: port,
      portReplayFirstCall: portFirst,
      portReplayMismatches: portMismatches,
      ratio: ratio(mk.median, rp.median),
      calls: traceCalls,
      replayMismatches: mismatches,
      replayDiffering: differing,
      relaunchedProcess: timeline,
      portTimeByOp: ops,
      list: { format: LIST_FORMAT, source: trace.list.source, replayLauncher: launcher },
      plan: planVsRun,
    };
  }

  scaling(): void {
    console.log(`\n3. Scaling (${this.opts.scaleReps} interleaved rounds each)`);
    const kit = this.replayKit();
    const perKind: Record<string, unknown> = {};
    for (const [kind, edit] of [['tmpfs', extraTmpfs], ['bind', extraBinds]] as const) {
      const rows: ScaleRow[] = [];
      for (const n of SCALE_COUNTS) {
        const dir = n === 0 ? this.bundle('default') : this.bundle(`${kind}-${n}`, edit(n));
        const list = this.recordList(dir);
        const windows: number[] = [];
        const replays: ReplayTiming[] = [];
        const portReplays: ReplayTiming[] = [];
        const byOp = new Map<string, { calls: number; ms: number[] }>();
        const times = interleave(
          [
            { name: 'mountkit', run: () => mountkitRun(dir) },
            { name: 'runc', run: () => runcRun(dir) },
            {
              name: 'traced',
              run: () => {
                const run = tracedRun(dir, this.file('timing'));
                windows.push(pipelineWindow(run).windowMs);
                for (const [op, calls, ms] of portTimeByOp(run)) byOp.set(op, { calls, ms: [...(byOp.get(op)?.ms ?? []), ms] });
                return run.ms;
              },
            },
            {
              name: 'replay',
              run: () => {
                const r = replayRun(kit.binary, list.file, this.file('replay-out'), kit.launcher);
                replays.push(r);
                return r.ms;
              },
            },
            {
              name: 'port replay',
              run: () => {
                const r = replayRun(PORT_REPLAY, list.portFile!, this.file('replay-out'), kit.launcher);
                portReplays.push(r);
                return r.ms;
              },
            },
          ],
          this.opts.scaleReps,
        );
        rows.push({
          n,
          mountkit: summarize(times.get('mountkit')!),
          runc: summarize(times.get('runc')!),
          replay: summarize(times.get('replay')!),
          pipelineMs: round(median(windows)),
          replayPipelineMs: round(median(replays.map((r) => r.windowMs))),
          portReplay: summarize(times.get('port replay')!),
          portReplayPipelineMs: round(median(portReplays.map((r) => r.windowMs))),
          mountinfoReads: list.mountinfoReads,
          replayMismatches: Math.max(...replays.map((r) => r.mismatches)),
          portReplayMismatches: Math.max(...portReplays.map((r) => r.mismatches)),
          replayDiffering: differingOf([...replays, ...portReplays]),
          portByOp: new Map([...byOp].map(([op, v]) => [op, { calls: v.calls, ms: median(v.ms) }])),
        });
      }
      const [first, last] = [rows[0], rows[rows.length - 1]];
      const perMountOps = [...last.portByOp]
        .map(([op, v]) => {
          const base = first.portByOp.get(op) ?? { calls: 0, ms: 0 };
          return { op, calls: round((v.calls - base.calls) / last.n), us: round(((v.ms - base.ms) / last.n) * 1000) };
        })
        .filter((o) => o.calls > 0)
        .sort((a, b) => b.us - a.us);
      const per = (f: (r: ScaleRow) => number) => round(slope(rows.map((r) => ({ x: r.n, y: f(r) }))) * 1000);
      const perMount = {
        mountkit: per((r) => r.mountkit.median),
        runc: per((r) => r.runc.median),
        replay: per((r) => r.replay.median),
        mountkitPipeline: per((r) => r.pipelineMs),
        replayPipeline: per((r) => r.replayPipelineMs),
        portReplay: per((r) => r.portReplay.median),
        portReplayPipeline: per((r) => r.portReplayPipelineMs),
      };
      console.log(`  extra ${kind} mounts:`);
      table([
        ['extra mounts', 'mountkit ms', 'runc ms', 'replay ms', 'port loop ms', 'mountkit pipeline ms', 'replay pipeline ms', 'port loop pipeline ms', 'mountinfo reads'],
        ...rows.map((r) => [
          String(r.n),
          r.mountkit.median,
          r.runc.median,
          r.replay.median,
          r.portReplay.median,
          r.pipelineMs,
          r.replayPipelineMs,
          r.portReplayPipelineMs,
          String(r.mountinfoReads),
        ]),
        ['us per extra mount', perMount.mountkit, perMount.runc, perMount.replay, perMount.portReplay, perMount.mountkitPipeline, perMount.replayPipeline, perMount.portReplayPipeline, ''],
      ]);
      console.log(`  target mountkit per mount <= 0.5x runc's: ${ratio(perMount.mountkit, perMount.runc)}x, ${verdict(perMount.mountkit / perMount.runc, 0.5)}`);
      console.log(`  the same calls through the port from a bare loop (replay-port.js): ${ratio(perMount.portReplay, perMount.runc)}x runc's per mount`);
      const callsPerMount = round(perMountOps.reduce((s, o) => s + o.calls, 0));
      console.log(`  port calls per extra mount: ${callsPerMount}; ${perMountOps.map((o) => `${o.op} x${o.calls} ${o.us} us`).join(', ')}`);
      const mismatches = Math.max(...rows.map((r) => r.replayMismatches));
      if (mismatches) console.log(`  replay.c saw ${mismatches} outcomes differing from the recorded run`);
      const portMismatches = Math.max(...rows.map((r) => r.portReplayMismatches));
      if (portMismatches) console.log(`  replay-port.js saw ${portMismatches} outcomes differing from the recorded run`);
      for (const d of new Set(rows.flatMap((r) => r.replayDiffering))) console.log(`    ${d}`);
      perKind[kind] = { rows: rows.map(({ portByOp: _p, ...r }) => r), usPerMount: perMount, portCallsPerMount: perMountOps };
    }

    const hostNamespace = readlinkSync('/proc/self/ns/mnt');
    const tableRows: (TableResult & { target: number })[] = [];
    for (const size of TABLE_SIZES) {
      const current = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;
      const base = this.file('table');
      mkdirSync(base);
      const request = {
        hostNamespace,
        base,
        // One tmpfs holds the others, so the table grows by mounts + 1.
        mounts: Math.max(0, size - current - 1),
        bundle: this.bundle('default'),
        reps: this.opts.scaleReps,
        traceFile: this.file('trace'),
        replay: { binary: kit.binary, listFile: kit.trace.file, launcher: kit.launcher, outFile: this.file('replay-out') },
      };
      const r = spawnSync(
        'unshare',
        ['-m', '--propagation', 'private', process.execPath, '-r', TS_REGISTER, path.join(__dirname, 'mount-table-child.ts'), JSON.stringify(request)],
        { encoding: 'utf8', timeout: 600_000 },
      );
      if (r.status !== 0) throw new Error(`mount-table-child failed (status ${r.status}): ${r.stderr}`);
      tableRows.push({ target: size, ...(JSON.parse(r.stdout) as TableResult) });
    }
    const grow = (f: (r: TableResult) => number) => round(slope(tableRows.map((r) => ({ x: r.entries, y: f(r) }))) * 1000);
    const perThousand = {
      mountkit: grow((r) => r.mountkit.median),
      runc: grow((r) => r.runc.median),
      replay: grow((r) => r.replay.median),
      mountkitPipeline: grow((r) => r.pipelineMs),
      replayPipeline: grow((r) => r.replayPipelineMs),
    };
    console.log('  host mount table (built in a throwaway namespace; runs from inside it):');
    table([
      ['entries', 'mountkit ms', 'runc ms', 'replay ms', 'mountkit pipeline ms', 'replay pipeline ms', 'mountinfo reads'],
      ...tableRows.map((r) => [String(r.entries), r.mountkit.median, r.runc.median, r.replay.median, r.pipelineMs, r.replayPipelineMs, String(r.mountinfoReads)]),
      ['ms per 1000 entries', perThousand.mountkit, perThousand.runc, perThousand.replay, perThousand.mountkitPipeline, perThousand.replayPipeline, ''],
    ]);
    this.results.scaling = { extraMounts: perKind, hostTable: { rows: tableRows, msPer1000Entries: perThousand } };
  }

  /** `bin/mountkit run` of the default bundle, as users run it, cut at the preload's split marks: medians per segment. */
  startupSplit(): { wallMs: number; segmentsMs: Record<string, number> } {
    const def = this.bundle('default');
    const file = this.file('split');
    splitRun(def, file);
    const runs = Array.from({ length: this.opts.reps }, () => splitRun(def, file));
    const segments = runs.map((r) => splitSegments(r.ms, r.marks));
    const rows = segments[0].map(([name], i) => [name, round(median(segments.map((s) => s[i][1])))] as [string, number]);
    const wall = round(median(runs.map((r) => r.ms)));
    console.log(`  bin/mountkit run of the default bundle, cut at the bench preload's marks (${this.opts.reps} runs, median ms; the medians need not add up to the whole):`);
    table([['whole run (wall)', wall], ...rows]);
    return { wallMs: wall, segmentsMs: Object.fromEntries(rows) };
  }

  whereTimeGoes(): void {
    console.log('\n4. Where the time goes');
    const split = this.startupSplit();
    const profileDir = path.join(this.tmp, 'profiles');
    mkdirSync(profileDir);
    const def = this.bundle('default');
    tracedRun(def, this.file('trace'), { profileDir });
    const profiles = readdirSync(profileDir).map((f) => {
      const summary = summarizeProfile(JSON.parse(readFileSync(path.join(profileDir, f), 'utf8')) as CpuProfile);
      const role = f.startsWith('1-') ? 'relaunched process (pid 1: loads plugins, runs the pipeline)' : 'first process (parses, checks, relaunches)';
      return { role, ...summary };
    });
    for (const p of profiles.sort((a, b) => a.role.localeCompare(b.role))) {
      console.log(`  CPU profile, ${p.role}: ${p.totalMs} ms from the preload to execve/exit`);
      const list = (r: Record<string, number>) => Object.entries(r).slice(0, 8).map(([k, v]) => `${k} ${v}`).join(', ');
      console.log(`    self ms by category: ${list(p.self)}`);
      console.log(`    inclusive ms: ${list(p.inclusive)}`);
      console.log(`    hottest functions (self ms): ${p.top.slice(0, 5).map((t) => `${t.fn} ${t.ms} (${t.where})`).join('; ')}`);
    }
    const requires = requireTimings(5);
    console.log('  require() in a fresh Node (median of 5, ms):');
    table(requires.map((r) => [r.name, r.ms]));
    this.results.whereTimeGoes = { split, profiles, requireMs: requires };
  }

  /** The default bundle with and without a seccomp profile of Docker's size: what building and loading the filter adds to each runtime. */
  seccomp(): void {
    const names = allowedSyscalls(450);
    console.log(`\n5. Seccomp: the default bundle with a profile of ${names.length} allowed names, three architectures (${this.opts.reps} interleaved rounds)`);
    const def = this.bundle('default');
    const filtered = this.bundle('seccomp', withSeccomp(names));
    const subordinate = this.bundle('userns-subordinate', withSubordinateUserNamespace);
    // In that user namespace the cache's directories are the host root's, which it shows as the overflow uid: the launcher checks them from the host and says so.
    const subordinateFiltered = this.bundle('userns-subordinate-seccomp', (spec, bundle) => {
      withSubordinateUserNamespace(spec, bundle);
      withSeccomp(names)(spec, bundle);
    });
    // The cache as a run has it by default, in the bench's directory rather than /run; the untimed rounds fill it.
    const cached = ['--seccomp-cache', path.join(this.tmp, 'seccomp-cache')];
    const uncached = ['--seccomp-cache', 'off'];
    const ranged = `mountkit run, 65536 ids from host id ${SUBORDINATE_BASE}`;
    const rangedFiltered = `${ranged}, with the profile (from the cache, its path checked from the host)`;
    const times = interleave(
      [
        { name: 'runc run', run: () => runcRun(def) },
        { name: 'runc run, with the profile', run: () => runcRun(filtered) },
        { name: 'mountkit run', run: () => mountkitRun(def) },
        { name: 'mountkit run, with the profile (from the cache)', run: () => mountkitRun(filtered, 'launcher', 'require', process.env, cached) },
        { name: 'mountkit run, with the profile, --seccomp-cache off', run: () => mountkitRun(filtered, 'launcher', 'require', process.env, uncached) },
        { name: ranged, run: () => mountkitRun(subordinate) },
        { name: rangedFiltered, run: () => mountkitRun(subordinateFiltered, 'launcher', 'require', process.env, cached) },
      ],
      this.opts.reps,
      2,
    );
    const s = new Map([...times].map(([k, v]) => [k, summarize(v)]));
    const m = (k: string) => s.get(k)!.median;
    table([['', 'median ms', 'p25', 'p75'], ...[...s].map(([k, v]) => [k, v.median, v.p25, v.p75])]);
    const runcAdds = round(m('runc run, with the profile') - m('runc run'));
    const mountkitAdds = round(m('mountkit run, with the profile (from the cache)') - m('mountkit run'));
    const uncachedAdds = round(m('mountkit run, with the profile, --seccomp-cache off') - m('mountkit run'));
    const subordinateAdds = round(m(rangedFiltered) - m(ranged));
    console.log(`  the profile adds: runc ${runcAdds} ms, mountkit ${mountkitAdds} ms from the cache (${ratio(mountkitAdds, runcAdds)}x), ${uncachedAdds} ms building it (${ratio(uncachedAdds, runcAdds)}x), ${subordinateAdds} ms from the cache in a user namespace of 65536 ids from host id ${SUBORDINATE_BASE}`);
    this.results.seccomp = { names: names.length, summaries: Object.fromEntries(s), runcAddsMs: runcAdds, mountkitAddsMs: mountkitAdds, mountkitBuildingAddsMs: uncachedAdds, mountkitSubordinateAddsMs: subordinateAdds };
  }

  /**
   * crun, runc and mountkit on the default bundle and with 10, 100 and 1000 extra tmpfs
   * mounts and binds, all three timed from one mount namespace where crun can run
   * (crun-child.ts), interleaved: whole runs and the cost of one more mount.
   */
  besideCrun(): void {
    if (!hasTool('crun')) {
      console.log('\n6. Beside crun: left out, crun is not installed');
      this.results.besideCrun = { error: 'crun is not installed' };
      return;
    }
    const crunVersion = spawnSync('crun', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
    console.log(`\n6. Beside crun (${crunVersion}): the same bundles under crun, runc and mountkit, timed from a mount namespace where crun runs (${this.opts.scaleReps} interleaved rounds each)`);
    const bundles: [string, string][] = [['default', this.bundle('default')]];
    for (const [kind, edit] of [['tmpfs', extraTmpfs], ['bind', extraBinds]] as const) {
      for (const n of SCALE_COUNTS) if (n > 0) bundles.push([`${kind}-${n}`, this.bundle(`${kind}-${n}`, edit(n))]);
    }
    // Each bundle run once first: the destinations a run makes in the rootfs exist for every timed round, as in section 3.
    for (const [, dir] of bundles) mountkitRun(dir);
    const request = { hostNamespace: readlinkSync('/proc/self/ns/mnt'), bundles, reps: this.opts.scaleReps };
    const r = spawnSync(...crunWrapped([process.execPath, '-r', TS_REGISTER, path.join(__dirname, 'crun-child.ts'), JSON.stringify(request)]), { encoding: 'utf8', timeout: 1_800_000 });
    if (r.status !== 0) throw new Error(`crun-child failed (status ${r.status}): ${r.stderr}`);
    const result = JSON.parse(r.stdout) as CrunResult;
    table([
      ['bundle', 'crun ms', 'runc ms', 'mountkit ms', 'runc x crun', 'mountkit x crun'],
      ...Object.entries(result).map(([name, t]) => [name, t.crun.median, t.runc.median, t.mountkit.median, ratio(t.runc.median, t.crun.median), ratio(t.mountkit.median, t.crun.median)]),
    ]);
    const perMount: Record<string, Record<string, number>> = {};
    for (const kind of ['tmpfs', 'bind']) {
      const points = SCALE_COUNTS.map((n) => result[n === 0 ? 'default' : `${kind}-${n}`]);
      const per = (who: 'crun' | 'runc' | 'mountkit') => round(slope(points.map((p, i) => ({ x: SCALE_COUNTS[i], y: p[who].median }))) * 1000);
      perMount[kind] = { crun: per('crun'), runc: per('runc'), mountkit: per('mountkit') };
      const p = perMount[kind];
      console.log(`  us per extra ${kind}: crun ${p.crun}, runc ${p.runc}, mountkit ${p.mountkit} (mountkit ${ratio(p.mountkit, p.crun)}x crun's, ${ratio(p.mountkit, p.runc)}x runc's)`);
    }
    this.results.besideCrun = { crun: crunVersion, summaries: result, usPerExtraMount: perMount };
  }
}

/** The names libseccomp gives this machine's syscalls numbered below `limit` but the few Docker's profile leaves out. */
function allowedSyscalls(limit: number): string[] {
  const koffi = require('koffi') as typeof import('koffi');
  const nameOf = koffi.load('libseccomp.so.2').func('const char *seccomp_syscall_resolve_num_arch(uint32_t arch, int num)');
  const denied = new Set(['mount', 'umount2', 'pivot_root', 'ptrace', 'reboot', 'kexec_load', 'init_module', 'finit_module', 'delete_module', 'swapon', 'swapoff']);
  const names: string[] = [];
  for (let nr = 0; nr < limit; nr++) {
    const name = nameOf(0, nr) as string | null;
    if (name && !denied.has(name)) names.push(name);
  }
  return names;
}

function machine(): Record<string, unknown> {
  const runc = spawnSync('runc', ['--version'], { encoding: 'utf8' }).stdout?.split('\n')[0] ?? '';
  return { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, kernel: os.release(), runc };
}

function main(): number {
  const opts = parseOptions(process.argv.slice(2));
  delete process.env.NODE_EXTRA_CA_CERTS;
  delete process.env.MOUNTKIT_NODE_EXTRA_CA_CERTS;
  const missing = missingTools();
  if (missing.length) {
    console.error(`bench: needs ${missing.join(', ')}`);
    return 2;
  }
  const hostMounts = readFileSync('/proc/self/mountinfo', 'utf8');
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'mountkit-bench-'));
  // The children's runc and crun containers share the bench's id prefix (runners.ts RUNC_PREFIX), which the sweeps look for.
  process.env.MOUNTKIT_BENCH_PID = String(process.pid);
  const crun = hasTool('crun');
  const cleanup = () => {
    sweepRunc();
    if (crun) sweepCrun();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const started = Date.now();
  const results: Record<string, unknown> = {};
  let status = 0;
  try {
    const bench = new Bench(tmp, opts, results);
    if (opts.only.has(1)) bench.wholeRun();
    if (opts.only.has(2)) bench.pipelineVsReplay();
    if (opts.only.has(3)) bench.scaling();
    if (opts.only.has(4)) bench.whereTimeGoes();
    if (opts.only.has(5)) bench.seccomp();
    if (opts.only.has(6)) bench.besideCrun();
  } catch (err) {
    console.error(`bench: ${(err as Error).stack ?? String(err)}`);
    results.error = String((err as Error).message ?? err);
    status = 1;
  } finally {
    cleanup();
  }
  if (readFileSync('/proc/self/mountinfo', 'utf8') !== hostMounts) {
    console.error('bench: the host mount table changed during the run');
    status = 1;
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(RESULTS, JSON.stringify({ date: new Date().toISOString(), seconds, machine: machine(), options: { ...opts, only: [...opts.only] }, ...results }, null, 2) + '\n');
  console.log(`\nbench: ${seconds} s; results in ${path.relative(process.cwd(), RESULTS)}`);
  return status;
}

process.exitCode = main();
