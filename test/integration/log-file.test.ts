/**
 * Runs that share a --log file: each line tells which run wrote it (the pid, as the host
 * sees it, and the container's id), and when, in both formats.
 */
import { spawn } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, busyboxConfig, makeBundle } from '../conformance/harness';
import { LAUNCHER } from '../helpers/cli';

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
    return { time: String(l.timestamp), pid: l.pid as number, id: String(l.id), level: String(l.level), message: String(l.message) };
  }
  const m = TEXT_LINE.exec(line);
  if (!m) throw new Error(`not a log file line: ${JSON.stringify(line)}`);
  const [, level, message] = /^mountkit (\w+)(?: \[[^\]]+\])?: (.*)$/.exec(m[4])!;
  return { time: m[1], pid: Number(m[2]), id: m[3], level, message };
}

/** `bin/mountkit run ARGS`, waited for: its status, stdout and stderr. */
function mountkit(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(LAUNCHER, ['run', '--seccomp-cache', 'off', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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
