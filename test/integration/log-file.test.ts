/**
 * Runs that share a --log file: each line tells which run wrote it (the pid, as the host
 * sees it, and the container's id), and when, in both formats.
 */
import { spawn, spawnSync } from 'child_process';
import { accessSync, chmodSync, constants as fsConstants, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { ARG_NAMES } from '../../bench/syscall-list';
import { O_APPEND, O_CLOEXEC, O_CREAT, O_WRONLY } from '../../src/core/constants';
import { QUERY_SYSCALLS } from '../../src/core/syscalls/fake';
import type { SyscallName } from '../../src/core/syscalls/types';
import { BUSYBOX, busyboxConfig, makeBundle } from '../conformance/harness';
import { BIN, LAUNCHER } from '../helpers/cli';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('log file tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

/** RFC 3339 with a fraction of a second, in UTC, as the lines give their time. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z$/;
/** A text line of the log file: time, pid=, id=, then the line stderr would have. */
const TEXT_LINE = /^(\S+) pid=(\d+) id=(\S+) (mountkit (?:error|warn|info|debug)(?: \[[^\]]+\])?: .*)$/;

interface Line {
  time: string;
  pid: number;
  id: string;
  level: string;
  message: string;
}

function parse(format: 'text' | 'json', line: string): Line {
  if (format === 'json') {
    const l = JSON.parse(line) as Record<string, unknown>;
    return { time: String(l.time), pid: l.pid as number, id: String(l.id), level: String(l.level), message: String(l.msg) };
  }
  const m = TEXT_LINE.exec(line);
  if (!m) throw new Error(`not a log file line: ${JSON.stringify(line)}`);
  const [, level, message] = /^mountkit (\w+)(?: \[[^\]]+\])?: (.*)$/.exec(m[4])!;
  return { time: m[1], pid: Number(m[2]), id: m[3], level, message };
}

/** `bin/mountkit run ARGS`, waited for: its status, stdout and stderr. */
function mountkit(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return started([LAUNCHER], args);
}

/** The same through the Node entry. */
function node(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return started([process.execPath, BIN], args);
}

function started([cmd, ...pre]: string[], args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, [...pre, 'run', '--seccomp-cache', 'off', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

maybe('runs sharing a --log file', () => {
  test.each(['text', 'json'] as const)('as %s: two runs at once, each line parsed, with its time, the pid the host sees and the id; the error that ends one run is its last line', async (format) => {
    // run-a runs; run-b fails after the jail (no such program), which it logs as an error.
    const a = makeBundle(busyboxConfig(['true']));
    const b = makeBundle(busyboxConfig(['no-such-program']));
    try {
      const log = path.join(a.dir, 'shared.log');
      const common = ['--log', log, '--log-format', format];
      // run-b at info: at debug the error on stderr has its stack after the line.
      const [ra, rb] = await Promise.all([mountkit(['--bundle', a.dir, ...common, '--log-level', 'debug', 'run-a']), mountkit(['--bundle', b.dir, ...common, '--log-level', 'info', 'run-b'])]);
      expect([ra.status, ra.stderr]).toEqual([0, '']);
      expect(rb.status).toBe(1);
      // The terminal's one line keeps its form: no time, no pid.
      expect(rb.stderr).toMatch(/^mountkit: finalize: plugin exec: process\.args\[0\] "no-such-program" .+\n$/);

      const lines = readFileSync(log, 'utf8').trimEnd().split('\n').map((line) => parse(format, line));
      const byId = (id: string) => lines.filter((l) => l.id === id);
      expect(new Set(lines.map((l) => l.id))).toEqual(new Set(['run-a', 'run-b']));
      for (const l of lines) {
        expect(l.time).toMatch(RFC3339);
        expect(new Date(l.time).toISOString()).toBe(l.time);
        // PID 1 of the run's pid namespace is a process the host counts otherwise.
        expect(Number.isInteger(l.pid) && l.pid > 1).toBe(true);
      }
      expect(byId('run-a').filter((l) => l.message.startsWith('phase prepare-root end'))).toHaveLength(1);
      // The namespaces the run made itself, by name (the launcher made the pid and mount ones).
      const entered = readFileSync(log, 'utf8').split('\n').find((l) => l.includes('run-a') && l.includes('namespaces entered'))!;
      expect(entered).toContain(format === 'json' ? '"joins":[],"unshare":["uts","ipc"]' : 'namespaces entered {"joins":[],"unshare":["uts","ipc"]}');
      const pids = (id: string) => new Set(byId(id).map((l) => l.pid));
      expect([...pids('run-a')].some((pid) => pids('run-b').has(pid))).toBe(false);
      const last = byId('run-b').at(-1)!;
      expect({ level: last.level, message: `mountkit: ${last.message}\n` }).toEqual({ level: 'error', message: rb.stderr });
    } finally {
      a.cleanup();
      b.cleanup();
    }
  }, 60_000);
});

maybe('a --log file with a user namespace', () => {
  const RANGE = [{ containerID: 0, hostID: 100000, size: 65536 }];

  test.each([
    ['bin/mountkit', 'text', 'launcher', 'true'],
    ['the Node entry', 'json', 'node', 'true'],
    ['bin/mountkit', 'json', 'launcher', 'no-such-program'],
    ['the Node entry', 'text', 'node', 'no-such-program'],
  ] as const)(
    "from %s, as %s (%s), running %s: the relaunch, the namespace's root (host uid 100000), writes to the file its first process opened, in a directory only root may search; the container gets no descriptor of it",
    async (_entry, format, entry, program) => {
      // The error that ends the run is mountkit's own when the program is not found.
      const c = busyboxConfig(program === 'true' ? ['sh', '-c', 'echo $(ls /proc/self/fd)'] : [program]);
      c.linux = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: RANGE, gidMappings: RANGE };
      const b = makeBundle(c);
      const logs = mkdtempSync(path.join(tmpdir(), 'mountkit-logs-'));
      try {
        // As under runc, the namespace's root must reach the rootfs; the log's directory stays root's alone.
        chmodSync(b.dir, 0o711);
        chmodSync(logs, 0o700);
        const log = path.join(logs, 'run.log');
        // At info for the error: at debug the error on stderr has its stack after the line.
        const args = ['--bundle', b.dir, '--log', log, '--log-format', format, '--log-level', program === 'true' ? 'debug' : 'info', 'userns-log'];
        const r = entry === 'launcher' ? await mountkit(args) : await node(args);
        // ls holds one descriptor of its own (its directory) besides 0, 1 and 2.
        expect(r.stdout).toBe(program === 'true' ? '0 1 2 3\n' : '');
        expect(statSync(log).uid).toBe(0);
        const lines = readFileSync(log, 'utf8').trimEnd().split('\n').map((line) => parse(format, line));
        expect(new Set(lines.map((l) => l.id))).toEqual(new Set(['userns-log']));
        if (program === 'true') {
          expect([r.status, r.stderr]).toEqual([0, '']);
          // Only the relaunch runs the phases.
          expect(lines.filter((l) => l.message.startsWith('phase finalize start'))).toHaveLength(1);
          return;
        }
        expect(r.status).toBe(1);
        expect(r.stderr).toMatch(/^mountkit: finalize: plugin exec: process\.args\[0\] "no-such-program" .+\n$/);
        const last = lines.at(-1)!;
        expect({ level: last.level, message: `mountkit: ${last.message}\n` }).toEqual({ level: 'error', message: r.stderr });
      } finally {
        b.cleanup();
        rmSync(logs, { recursive: true, force: true });
      }
    },
    60_000,
  );
});

/** Whether this process may write `file` (access(2) W_OK). */
function writable(file: string): boolean {
  try {
    accessSync(file, fsConstants.W_OK);
    return true;
  } catch {
    return false;
  }
}

maybe('mountkit plan --log, against a traced run (bench/preload.js)', () => {
  const PRELOAD = path.join(__dirname, '..', '..', 'bench', 'preload.js');

  test.each([
    ['a pid namespace (a relaunch)', [{ type: 'pid' }, { type: 'mount' }]],
    ['a mount namespace alone (no relaunch)', [{ type: 'mount' }]],
  ])('%s: the plan shows the --log file\'s calls as the traced run makes them: opened by the process that starts the run; after a relaunch, taken from descriptor 8 and 8 closed', (_, namespaces) => {
    const c = busyboxConfig(['true']);
    c.linux = { namespaces };
    const b = makeBundle(c);
    const logs = mkdtempSync(path.join(tmpdir(), 'mountkit-logs-'));
    try {
      const log = path.join(logs, 'run.log');
      const trace = path.join(logs, 'trace.jsonl');
      const run = spawnSync(process.execPath, ['-r', PRELOAD, BIN, 'run', '--bundle', b.dir, '--log', log], { env: { ...process.env, MOUNTKIT_BENCH_TRACE: trace, MOUNTKIT_BENCH_ARGS: '1' }, encoding: 'utf8' });
      expect([run.status, run.stderr]).toEqual([0, '']);
      // One line per process that made port calls: the run's starter and, after a relaunch, the relaunched one, which makes the execve.
      const processes = readFileSync(trace, 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as { calls: [string, string, string, unknown[]][] }).calls.map(([op, , , args]) => ({ op, args })));
      const plan = spawnSync(process.execPath, [BIN, 'plan', '--bundle', b.dir, '--format', 'json', '--log', log], { encoding: 'utf8' });
      expect(plan.status).toBe(0);
      const planned = (JSON.parse(plan.stdout) as { calls: { op: string; args: Record<string, unknown> }[] }).calls;
      const relaunch = planned.findIndex((p) => p.op === 'relaunch');
      const effect = (call: { op: string }) => !QUERY_SYSCALLS.has(call.op as SyscallName);
      // Descriptor numbers differ between a run and a plan: the calls by op and their other arguments.
      const blank = (args: Record<string, unknown>) => Object.fromEntries(Object.entries(args).map(([k, v]) => [k, ['fd', 'oldfd', 'newfd'].includes(k) && v !== 8 ? '*' : v]));
      const asPlanned = (calls: { op: string; args: unknown[] }[]) => calls.filter(effect).map((call) => ({ op: call.op, args: blank(Object.fromEntries(ARG_NAMES[call.op as SyscallName].map((name, i) => [name, call.args[i]]).filter(([, v]) => v !== undefined))) }));
      const ofPlan = (calls: { op: string; args: Record<string, unknown> }[]) => calls.map((call) => ({ op: call.op, args: blank(call.args) }));
      const starter = asPlanned(processes.find((p) => p.at(-1)?.op !== 'execve') ?? processes[0]);
      const opened = { op: 'open', args: { path: log, flags: O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, mode: 0o640 } };
      if (relaunch < 0) {
        // The process that runs the pipeline opens it before it enters the namespaces. Where
        // the container's root could write node (root, node on a writable mount), that
        // process first re-executes itself from a read-only copy of node's file
        // (src/core/sealed-node.ts): a trace of its own, which ends at that execve and opens
        // no log; the plan shows the run of the process re-executed.
        const sealedFirst = writable(process.execPath);
        expect(processes).toHaveLength(sealedFirst ? 2 : 1);
        if (sealedFirst) expect([processes[0].at(-1)?.op, asPlanned(processes[0]).some((call) => call.op === 'open' && call.args.path === log)]).toEqual(['execve', false]);
        expect(ofPlan(planned.slice(0, 3))).toEqual([{ op: 'cloexecFrom', args: { first: 3 } }, { op: 'dupCloexec', args: { fd: '*', lowest: 3 } }, opened]);
        expect(asPlanned(processes.at(-1)!).slice(0, 4)).toEqual(ofPlan(planned.slice(0, 4)));
        return;
      }
      // Then the first process becomes a child subreaper, before anything is started for the relaunch.
      expect(ofPlan(planned.slice(0, relaunch))).toEqual([{ op: 'cloexecFrom', args: { first: 3 } }, { op: 'dupCloexec', args: { fd: '*', lowest: 3 } }, opened, { op: 'setChildSubreaper', args: {} }]);
      expect(starter.slice(0, relaunch)).toEqual(ofPlan(planned.slice(0, relaunch)));
      const relaunched = asPlanned(processes.find((p) => p.at(-1)?.op === 'execve')!);
      const plannedRelaunched = ofPlan(planned.slice(relaunch + 1));
      expect(plannedRelaunched.slice(0, 6)).toEqual([
        { op: 'setParentDeathSignal', args: { signal: 9 } },
        { op: 'cloexecFrom', args: { first: 3 } },
        { op: 'dupCloexec', args: { fd: '*', lowest: 3 } },
        { op: 'dupCloexec', args: { fd: 8, lowest: 3 } },
        { op: 'close', args: { fd: 8 } },
        { op: 'setCloexec', args: { fd: '*' } },
      ]);
      expect(relaunched.slice(0, 6)).toEqual(plannedRelaunched.slice(0, 6));
    } finally {
      b.cleanup();
      rmSync(logs, { recursive: true, force: true });
    }
  }, 60_000);
});
