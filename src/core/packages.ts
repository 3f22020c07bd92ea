/**
 * Finding an installed npm package the way Node's require finds it, without Node's
 * resolver: a cold resolve of a package name costs about 1.7 ms at start-up (its package
 * reader and realpath cache are compiled on first use), a handful of stat calls here.
 */
import fs = require('fs');
import { Module } from 'module';

/** Node's module internals used for the lookup. */
interface NodeModuleLookup {
  _nodeModulePaths(dir: string): string[];
  /** The global folders searched after the node_modules directories: NODE_PATH, ~/.node_modules, ~/.node_libraries, PREFIX/lib/node. */
  globalPaths: string[];
}
const nodeModules = Module as unknown as NodeModuleLookup;

/** A package directory found (its real path), with the text of its package.json. */
export interface FoundPackage {
  dir: string;
  packageJson: string;
}

/**
 * The directory Node finds the package `name` in when a module in the directory `from`
 * requires it: `node_modules/NAME` with a package.json in the first of the node_modules
 * directories from `from` up to `/` (Module._nodeModulePaths, none whose own name is
 * node_modules), then in the global folders (NODE_PATH, ~/.node_modules, ...). The
 * package.json is read, not resolved: a package's "exports" may not export it. Node
 * loads a module under its real path, so the directory found is made real. `present`
 * remembers which node_modules directories exist, for several lookups in a row.
 */
export function findPackage(from: string, name: string, present = new Map<string, boolean>()): FoundPackage | undefined {
  for (const dirs of [nodeModules._nodeModulePaths(from), nodeModules.globalPaths]) {
    for (const dir of dirs) {
      let exists = present.get(dir);
      if (exists === undefined) present.set(dir, (exists = fs.existsSync(dir)));
      if (!exists) continue;
      let packageJson: string;
      try {
        packageJson = fs.readFileSync(`${dir}/${name}/package.json`, 'utf8');
      } catch {
        continue;
      }
      return { dir: fs.realpathSync.native(`${dir}/${name}`), packageJson };
    }
  }
  return undefined;
}

/** The version a package.json gives, or a description of why it gives none. */
export function versionIn(packageJson: string): string {
  try {
    const version = (JSON.parse(packageJson) as { version?: unknown }).version;
    return typeof version === 'string' ? version : 'of no version';
  } catch {
    return 'of a damaged package.json';
  }
}
