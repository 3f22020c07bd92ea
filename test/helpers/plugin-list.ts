import { chmodSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { REPO } from './cli';

/**
 * The package's plugins.json with `own` added before builtin:exec (its last entry),
 * written to `dir`/plugins.json, readable by every user (a relaunch into a user namespace
 * reads it as that namespace's root); returns its path.
 */
export function defaultListWith(dir: string, own: Record<string, unknown>): string {
  const list = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: Record<string, unknown>[] };
  list.plugins.splice(list.plugins.length - 1, 0, own);
  const file = path.join(dir, 'plugins.json');
  writeFileSync(file, JSON.stringify(list));
  chmodSync(file, 0o644);
  return file;
}
