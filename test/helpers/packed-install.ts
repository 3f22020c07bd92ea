import { spawnSync, type SpawnSyncOptions } from 'child_process';
import { cpSync, existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { REPO } from './cli';

/** Runs a command to its end; a failure throws with its standard error. */
export function must(cmd: string, args: string[], opts: SpawnSyncOptions): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error ?? `status ${r.status}`}): ${r.stderr}`);
  return String(r.stdout);
}

/**
 * The dependencies the package brings, from the checkout's node_modules as `npm ci` left them:
 * every package-lock.json entry outside devDependencies, at the top of node_modules (one
 * nested below another comes with it), that is there (koffi's binary packages are optional,
 * one per platform). With them in place, `npm install` of the .tgz finds each dependency
 * satisfied and fetches nothing: `npm ci` caches abbreviated packuments, and an install of
 * a .tgz asks for the full ones, which only the registry has.
 */
function copyDependencies(project: string): void {
  const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
  for (const [at, entry] of Object.entries(lock.packages)) {
    if (!at.startsWith('node_modules/') || at.includes('/node_modules/', 1) || entry.dev) continue;
    if (existsSync(path.join(REPO, at))) cpSync(path.join(REPO, at), path.join(project, at), { recursive: true });
  }
}

/**
 * Installs mountkit into `project` (a folder with its package.json) as a user installs it
 * from a tarball: the checkout packed (`npm pack`, so the package holds what package.json
 * `files` lists) into `scratch`, the package's dependencies copied from the checkout
 * (copyDependencies) and the .tgz installed with `installFlags`. npm runs `--offline` with
 * an empty cache of its own in `scratch`: it takes nothing from the registry or the
 * machine's cache, and fails where it would need them.
 */
export function installPacked(project: string, scratch: string, installFlags: string[] = []): void {
  const npm = (args: string[], cwd: string) => must('npm', [...args, '--offline', '--no-audit', '--no-fund', '--cache', path.join(scratch, 'npm-cache')], { cwd });
  // --ignore-scripts: the .tgz takes dist/ as the checkout's build left it, rather than building it again there.
  const tarball = npm(['pack', '--ignore-scripts', '--pack-destination', scratch], REPO).trim().split('\n').pop()!;
  copyDependencies(project);
  npm(['install', ...installFlags, path.join(scratch, tarball)], project);
}
