import { spawnSync } from 'child_process';
import * as path from 'path';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const TS_REGISTER = path.join(__dirname, 'ts-register.js');

export interface ChildRun {
  status: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `scriptBody` as a CommonJS script (`node -e`) in a new mount namespace made by
 * `unshare -m --propagation private`: unshare(1) turns every mount of the copy private
 * first, so nothing the script mounts propagates back to the host, and the namespace
 * (with its mounts) disappears when the script exits; `namespaces` are more unshare(1)
 * options (`--uts`). The script runs with the
 * repository root as its cwd, so `require('./src/...')` loads the TypeScript sources.
 */
export function runInMountNamespace(scriptBody: string, env: NodeJS.ProcessEnv = process.env, namespaces: readonly string[] = []): ChildRun {
  const r = spawnSync(
    'unshare',
    ['-m', ...namespaces, '--propagation', 'private', process.execPath, '-r', TS_REGISTER, '-e', scriptBody],
    { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 60_000 },
  );
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}
