import { spawnSync } from 'child_process';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..', '..');
/** The Node entry: reads the config, and starts Node again under unshare(1) for a new pid namespace. */
export const BIN = path.join(REPO, 'bin', 'mountkit.js');
/** The command users run (package.json bin): a shell launcher in front of BIN. */
export const LAUNCHER = path.join(REPO, 'bin', 'mountkit');

export interface CliRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI (dist/, made by `npm install`/`npm ci` through the prepare script). */
export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; prefix?: string[] } = {}): CliRun {
  const [cmd, ...pre] = opts.prefix ?? [process.execPath];
  const r = spawnSync(cmd, [...pre, ...(opts.prefix ? [process.execPath] : []), BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? process.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
