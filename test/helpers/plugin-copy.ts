/**
 * A plugin folder with a copy of mountkit of its own (node_modules/mountkit), whose
 * plugin.js fails to register with tsyringe's message for a class it cannot build: what
 * a plugin sees when it and the command load two copies of mountkit.
 */
import { mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';

/** Writes the copy and plugin.js into `dir`; returns the copy's directory. */
export function writePluginBesideOwnCopy(dir: string): string {
  const copy = path.join(dir, 'node_modules', 'mountkit');
  mkdirSync(copy, { recursive: true });
  writeFileSync(path.join(copy, 'package.json'), '{"name":"mountkit","version":"0.0.0"}');
  writeFileSync(path.join(dir, 'plugin.js'), 'exports.register = () => { throw new Error(\'TypeInfo not known for "Thing"\'); };');
  return copy;
}
