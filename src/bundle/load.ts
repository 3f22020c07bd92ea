/**
 * Loads the CLI bundle (format.ts) at start-up, for bin/mountkit.js.
 *
 * Node's module cache stays the one registry of loaded modules: a bundled module is put
 * in it under its real file name before its code runs, as a child of the module that
 * required it, and a module Node already loaded from disk is taken from it rather than
 * run again. So a plugin that requires `mountkit` or `tsyringe` by name gets the very
 * instances the CLI uses (the same error classes for instanceof, the same tsyringe
 * container), whoever loaded them first; a require the bundle does not hold goes to
 * Node from the requiring module, as it would without the bundle.
 *
 * MOUNTKIT_BUNDLE=0 never uses the bundle; MOUNTKIT_BUNDLE=1 refuses to start without a
 * usable one whose code cache V8 accepted (what the tests use to prove it is used).
 * Unset, a missing, outdated or damaged bundle falls back to loading the files one by one.
 */
import fs = require('fs');
import { Module, isBuiltin } from 'module';
import vm = require('vm');
import { findPackage, versionIn, type FoundPackage } from '../core/packages';
import {
  BUNDLE_FILE,
  BUNDLE_MANIFEST_FILE,
  BUNDLE_SCRIPT_NAME,
  CLI_ENTRY,
  bundleCacheFile,
  bundleHeader,
  isBundleManifest,
  type BundleManifest,
  type BundledFile,
  type BundledPackage,
} from './format';

type ModuleFunction = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

/** One entry of the bundle script's array: id, literal requires, module function. */
type Entry = [string, Record<string, string>, ModuleFunction];

/** Node's module internals the loader shares with Node's own require. */
interface NodeModuleInternals {
  _cache: Record<string, NodeJS.Module | undefined>;
  _extensions: NodeJS.RequireExtensions;
  _nodeModulePaths(dir: string): string[];
  _resolveFilename(request: string, parent: NodeJS.Module, isMain: boolean, options?: { paths?: string[] }): string;
}
const nodeModules = Module as unknown as NodeModuleInternals;

export interface Bundle {
  /** The exports of the module `id` (package-relative), run from the bundle or taken from Node's cache. */
  require(id: string): unknown;
  /** Whether `id` is in the bundle. */
  has(id: string): boolean;
}

export interface CompiledBundle {
  script: vm.Script;
  bundle: Bundle;
  /** Whether V8 refused the code cache given (another Node or V8 flags); undefined when none was given. */
  cacheRejected: boolean | undefined;
}

/**
 * Compiles the bundle text (with V8's code cache of it, when given) and returns its loader.
 * `fileNames` gives each id's real file name (openBundle); an id it lacks is the file of
 * that name under `root`, as where the bundle was built.
 */
export function compileBundle(root: string, text: string, cachedData: Buffer | undefined, fileNames?: ReadonlyMap<string, string>): CompiledBundle {
  const script = new vm.Script(text, { filename: BUNDLE_SCRIPT_NAME, cachedData });
  const defs = new Map<string, Entry>();
  for (const entry of script.runInThisContext() as Entry[]) defs.set(entry[0], entry);

  // Ids are clean relative paths with `/` (build.ts) and `root` is absolute.
  const prefix = dirPrefix(root);
  const load = (id: string, parent?: NodeJS.Module): unknown => {
    const filename = fileNames?.get(id) ?? prefix + id;
    const cached = nodeModules._cache[filename];
    if (cached) return cached.exports;
    const def = defs.get(id);
    if (!def) return parent ? parent.require(filename) : require(filename);
    const dirname = filename.slice(0, filename.lastIndexOf('/'));
    // Module's constructor makes it a child of `parent`, as Node's require does.
    const mod = new Module(filename, parent) as NodeJS.Module;
    mod.filename = filename;
    // The node_modules directories a require of a package from this module searches, as Module.load sets them; made when first asked for.
    let paths: string[] | undefined;
    Object.defineProperty(mod, 'paths', {
      configurable: true,
      enumerable: true,
      get: () => (paths ??= nodeModules._nodeModulePaths(dirname)),
      set: (value: string[]) => void (paths = value),
    });
    nodeModules._cache[filename] = mod;
    try {
      def[2].call(mod.exports, mod.exports, requireFor(mod, def[1]), mod, filename, dirname);
    } catch (err) {
      delete nodeModules._cache[filename];
      throw err;
    }
    mod.loaded = true;
    return mod.exports;
  };

  /** The require() a bundled module gets: its literal names from the bundle, anything else from Node, on behalf of that module. */
  const requireFor = (mod: NodeJS.Module, deps: Record<string, string>): NodeJS.Require => {
    const req = ((name: string) => {
      const id = deps[name];
      if (id !== undefined) return load(id, mod);
      // A built-in is the same from any module: no lookup on this module's behalf is needed.
      return isBuiltin(name) ? require(name) : mod.require(name);
    }) as NodeJS.Require;
    req.resolve = ((name: string, options?: { paths?: string[] }) => nodeModules._resolveFilename(name, mod, false, options)) as NodeJS.RequireResolve;
    req.resolve.paths = (name: string) => (Module as unknown as { _resolveLookupPaths(r: string, p: NodeJS.Module): string[] | null })._resolveLookupPaths(name, mod);
    req.cache = nodeModules._cache as NodeJS.Require['cache'];
    req.extensions = nodeModules._extensions;
    req.main = require.main;
    return req;
  };

  return { script, bundle: { require: (id) => load(id), has: (id) => defs.has(id) }, cacheRejected: cachedData ? script.cachedDataRejected : undefined };
}

/** Why a bundle cannot be used, or its loader. */
export type OpenedBundle = { ok: true; compiled: CompiledBundle } | { ok: false; reason: string };

/** A file's text, or undefined when it cannot be read. */
function readText(file: string, encoding: 'utf8' | 'latin1'): string | undefined {
  try {
    return fs.readFileSync(file, encoding);
  } catch {
    return undefined;
  }
}

/** A file's bytes, or undefined when it cannot be read. */
function readBytes(file: string): Buffer | undefined {
  try {
    return fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/** `root` with one trailing `/`: file names under it by concatenation (a cold path.join costs more than a stat). */
function dirPrefix(root: string): string {
  return root.endsWith('/') ? root : `${root}/`;
}

type Located = { ok: true; found: FoundPackage } | { ok: false; reason: string };

/** Where `pkg` is for its requiring module `from`, an id whose file name is in `names` already. */
function locate(pkg: BundledPackage, from: string, names: ReadonlyMap<string, string>, present: Map<string, boolean>): Located {
  const requirer = names.get(from);
  if (requirer === undefined) return { ok: false, reason: `${BUNDLE_MANIFEST_FILE} has ${pkg.name} required from ${from}, which it does not list before; run npm run build` };
  const found = findPackage(requirer.slice(0, requirer.lastIndexOf('/')), pkg.name, present);
  return found ? { ok: true, found } : { ok: false, reason: `${pkg.name} is not installed where ${requirer} would find it; the files are loaded one by one` };
}

/**
 * Whether `root` is a package installed under node_modules rather than a checkout. npm
 * gives each file of a package it installs the time it wrote it as mtime, the bundle and
 * the files bundled alike, so there their order tells nothing of which was built first.
 */
function isInstalledPackage(root: string): boolean {
  return /\/node_modules\/(?:@[^/]+\/)?[^/]+\/?$/.test(root);
}

/** How openBundle compares a bundled file with the one built into the bundle. */
interface Staleness {
  bundleTime: number;
  /** Whether a file newer than the bundle is stale (a checkout, not an installed package). */
  byTime: boolean;
}

/**
 * Why the file `name` is not the one built into the bundle, or undefined: missing, of
 * another size, or newer than the bundle, as a `tsc` alone or an edit leaves it.
 */
function changed(name: string, file: BundledFile, staleness: Staleness): string | undefined {
  const stat = fs.statSync(name, { throwIfNoEntry: false });
  if (!stat) return `${name} is missing; the files are loaded one by one`;
  if (stat.size !== file.size || (staleness.byTime && stat.mtimeMs > staleness.bundleTime)) return `${name} changed after ${BUNDLE_FILE} was built; run npm run build`;
  return undefined;
}

/**
 * The real file name of every bundled id, each file as it was built: mountkit's files
 * under `prefix`, each package's in the directory Node finds it in from the module it was
 * first required from (whose package is found before it), at the version bundled. A
 * package required from several packages must be in one directory for all of them: the
 * bundle holds one copy of it.
 */
function fileNamesOf(prefix: string, manifest: BundleManifest, staleness: Staleness): { ok: true; names: Map<string, string> } | { ok: false; reason: string } {
  const names = new Map<string, string>();
  for (const f of manifest.files) {
    const name = prefix + f.path;
    const reason = changed(name, f, staleness);
    if (reason) return { ok: false, reason };
    names.set(f.path, name);
  }
  const present = new Map<string, boolean>();
  const dirs: string[] = [];
  for (const pkg of manifest.packages) {
    const at = locate(pkg, pkg.from[0], names, present);
    if (!at.ok) return at;
    const { dir, packageJson } = at.found;
    const version = versionIn(packageJson);
    if (version !== pkg.version) return { ok: false, reason: `${pkg.name} in ${dir} is ${version}, the bundle has ${pkg.version}; run npm run build` };
    for (const f of pkg.files) {
      const name = `${dir}/${f.path}`;
      const reason = changed(name, f, staleness);
      if (reason) return { ok: false, reason };
      names.set(`${pkg.dir}/${f.path}`, name);
    }
    dirs.push(dir);
  }
  for (let i = 0; i < manifest.packages.length; i++) {
    const pkg = manifest.packages[i];
    for (let j = 1; j < pkg.from.length; j++) {
      const at = locate(pkg, pkg.from[j], names, present);
      if (!at.ok) return at;
      if (at.found.dir !== dirs[i]) {
        return { ok: false, reason: `${pkg.name} is in ${dirs[i]} for ${names.get(pkg.from[0])} but in ${at.found.dir} for ${names.get(pkg.from[j])}, and the bundle has one copy; the files are loaded one by one` };
      }
    }
  }
  return { ok: true, names };
}

/**
 * Opens the bundle under `root`. It is used only when it runs what Node would load from
 * the files: it is the bundle its manifest names, every package it holds is found where
 * Node would find it at the version it was built with, and no bundled file changed since
 * (in a checkout, none is newer than the bundle: a `tsc` alone, an edited package).
 * Anything else, a damaged file included, is a reason not to.
 */
export function openBundle(root: string): OpenedBundle {
  const prefix = dirPrefix(root);
  const manifestText = readText(prefix + BUNDLE_MANIFEST_FILE, 'utf8');
  let bundleTime: number;
  try {
    bundleTime = fs.statSync(prefix + BUNDLE_FILE).mtimeMs;
  } catch (err) {
    return { ok: false, reason: `${BUNDLE_FILE} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); run npm run build` };
  }
  let manifest: unknown;
  try {
    manifest = manifestText === undefined ? undefined : JSON.parse(manifestText);
  } catch {
    manifest = undefined;
  }
  if (!isBundleManifest(manifest)) return { ok: false, reason: `${BUNDLE_MANIFEST_FILE} is missing or not a manifest of format 3; run npm run build` };
  const located = fileNamesOf(prefix, manifest, { bundleTime, byTime: !isInstalledPackage(root) });
  if (!located.ok) return located;
  // ASCII only (format.ts): latin1 gives the same text without decoding UTF-8.
  const text = readText(prefix + BUNDLE_FILE, 'latin1');
  if (text === undefined || !text.startsWith(bundleHeader(manifest.id))) {
    return { ok: false, reason: `${BUNDLE_FILE} is not the bundle of build ${manifest.id} that ${BUNDLE_MANIFEST_FILE} names; run npm run build` };
  }
  const cache = readBytes(prefix + bundleCacheFile(manifest.id));
  try {
    return { ok: true, compiled: compileBundle(root, text, cache, located.names) };
  } catch (err) {
    return { ok: false, reason: `${BUNDLE_FILE} does not compile: ${(err as Error).message}; run npm run build` };
  }
}

/** The CLI's main(): from the bundle unless MOUNTKIT_BUNDLE=0 or it cannot be used, from dist/cli/main.js otherwise. */
export function cliMain(root: string, env: NodeJS.ProcessEnv = process.env): (argv: readonly string[]) => number | Promise<number> {
  const mode = env.MOUNTKIT_BUNDLE;
  if (mode !== '0') {
    const opened = openBundle(root);
    if (opened.ok && mode === '1' && opened.compiled.cacheRejected !== false) {
      throw new Error(`MOUNTKIT_BUNDLE=1: V8 ${opened.compiled.cacheRejected ? 'refused' : 'has no'} code cache for ${BUNDLE_FILE}; run npm run build with this Node`);
    }
    if (opened.ok) return (opened.compiled.bundle.require(CLI_ENTRY) as typeof import('../cli/main')).main;
    if (mode === '1') throw new Error(`MOUNTKIT_BUNDLE=1: ${opened.reason}`);
  }
  return (require('../cli/main') as typeof import('../cli/main')).main;
}
