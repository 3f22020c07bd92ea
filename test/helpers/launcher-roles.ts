/**
 * bin/mountkit run of a bundle under setsid(1) (no terminal), each Node process it starts
 * logging what it is, by the variables the launcher gives it (a NODE_OPTIONS preload, read
 * before mountkit takes them): the console's relay, the hooks relay, the Node under
 * unshare(1), or another (the Node entry's). TMPDIR is a directory of the test's own,
 * where the relays make theirs; what is left there is returned.
 */
import { spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { withBundle } from '../conformance/harness';
import { LAUNCHER } from './cli';

const ROLE = "process.env.MOUNTKIT_CONSOLE_RELAY ? 'relay' : process.env.MOUNTKIT_HOOKS_RELAY ? 'hooks relay' : process.env.MOUNTKIT_LAUNCHER_FD ? 'under unshare' : 'other'";

/**
 * Which process a Node start is, as JavaScript for a preload: its pid namespace, its pid there and its start time
 * (field 22 of /proc/self/stat, which execve(2) keeps): a namespace's inode number is
 * given again once it is freed, and PID 1 is in every one.
 */
export const PROCESS = "require('fs').readlinkSync('/proc/self/ns/pid') + ':' + process.pid + ':' + require('fs').readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[19]";

/**
 * The roles the log's lines name, sorted, once per process: a Node that re-executes
 * itself from a read-only copy of its file (src/core/sealed-node.ts) starts again in the
 * same process, which is no other role.
 */
function rolesOnce(log: string): string[] {
  const byProcess = new Map<string, string>();
  for (const line of log.split('\n').filter(Boolean)) {
    const at = line.indexOf(' ');
    if (!byProcess.has(line.slice(0, at))) byProcess.set(line.slice(0, at), line.slice(at + 1));
  }
  return [...byProcess.values()].sort();
}

/**
 * `args` follow the bundle's (given the bundle's directory when a function); `prepare`
 * runs before the run, `after` after it, both given the bundle's directory, which the
 * result names (removed by then). `launcher` is the command run (setpriv(1) and a
 * launcher another user may read, for a rootless run).
 */
export function launcherRun(
  config: Record<string, any>,
  env: Record<string, string> = {},
  args: string[] | ((bundle: string) => string[]) = [],
  prepare?: (bundle: string) => void,
  after?: (bundle: string) => void,
  launcher: string[] = [LAUNCHER],
) {
  const starts = mkdtempSync(path.join(tmpdir(), 'mountkit-starts-'));
  const tmp = path.join(starts, 'tmp');
  try {
    mkdirSync(tmp);
    const preload = path.join(starts, 'count.js');
    const log = path.join(starts, 'log');
    writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(log)}, ${PROCESS} + ' ' + (${ROLE}) + '\\n');\n`);
    // Read, and the log written, by a Node that runs as another host id too (a relaunch in a user namespace of a range of ids).
    writeFileSync(log, '');
    chmodSync(starts, 0o755);
    chmodSync(preload, 0o644);
    chmodSync(log, 0o666);
    // Where a relay of another user's makes its directory, as in /tmp.
    chmodSync(tmp, 0o1777);
    const r = withBundle(config, (dir) => {
      prepare?.(dir);
      const extra = typeof args === 'function' ? args(dir) : args;
      const run = spawnSync('setsid', ['-w', ...launcher, 'run', '--seccomp-cache', 'off', '--bundle', dir, ...extra], { encoding: 'utf8', input: '', env: { ...process.env, TMPDIR: tmp, NODE_OPTIONS: `--require ${preload}`, ...env } });
      after?.(dir);
      return { ...run, bundle: dir };
    });
    return { ...r, starts: rolesOnce(readFileSync(log, 'utf8')), left: readdirSync(tmp) };
  } finally {
    rmSync(starts, { recursive: true, force: true });
  }
}
