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
import * as fs from 'fs';
import { Module, isBuiltin } from 'module';
import * as vm from 'vm';
import { BUNDLE_FILE, BUNDLE_MANIFEST_FILE, BUNDLE_SCRIPT_NAME, CLI_ENTRY, bundleCacheFile, bundleHeader, isBundleManifest } from './format';

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

/** Compiles the bundle text (with V8's code cache of it, when given) and returns its loader. */
export function compileBundle(root: string, text: string, cachedData: Buffer | undefined): CompiledBundle {
  const script = new vm.Script(text, { filename: BUNDLE_SCRIPT_NAME, cachedData });
  const defs = new Map<string, Entry>();
  for (const entry of script.runInThisContext() as Entry[]) defs.set(entry[0], entry);

  // Ids are clean relative paths with `/` (build.ts) and `root` is absolute: plain
  // concatenation gives the file name (path.join would normalize it again, for each module).
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const load = (id: string, parent?: NodeJS.Module): unknown => {
    const filename = prefix + id;
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

function readOrUndefined(file: string, encoding?: BufferEncoding): string | Buffer | undefined {
  try {
    return encoding ? fs.readFileSync(file, encoding) : fs.readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Opens the bundle under `root`. It is used only when it runs what Node would load from
 * the files: it is the bundle its manifest names, no bundled file is newer than it (a
 * `tsc` alone, an edited package), and every package it holds is installed where and as
 * it was at build time. Anything else, a damaged file included, is a reason not to.
 */
export function openBundle(root: string): OpenedBundle {
  // File names by concatenation, as in compileBundle: a cold path.join costs more than the stat.
  const at = (file: string) => (root.endsWith('/') ? root : `${root}/`) + file;
  const manifestText = readOrUndefined(at(BUNDLE_MANIFEST_FILE), 'utf8') as string | undefined;
  let bundleTime: number;
  try {
    bundleTime = fs.statSync(at(BUNDLE_FILE)).mtimeMs;
  } catch (err) {
    return { ok: false, reason: `${BUNDLE_FILE} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); run npm run build` };
  }
  let manifest: unknown;
  try {
    manifest = manifestText === undefined ? undefined : JSON.parse(manifestText);
  } catch {
    manifest = undefined;
  }
  if (!isBundleManifest(manifest)) return { ok: false, reason: `${BUNDLE_MANIFEST_FILE} is missing or not a manifest of format 2; run npm run build` };
  for (const file of manifest.files) {
    const stat = fs.statSync(at(file), { throwIfNoEntry: false });
    if (!stat) return { ok: false, reason: `${file} is missing (the bundle was built where the packages lay otherwise); the files are loaded one by one` };
    if (stat.mtimeMs > bundleTime) return { ok: false, reason: `${file} changed after ${BUNDLE_FILE} was built; run npm run build` };
  }
  for (const pkg of manifest.packages) {
    const text = readOrUndefined(at(`${pkg.dir}/package.json`), 'utf8') as string | undefined;
    let version: unknown;
    try {
      version = text === undefined ? undefined : (JSON.parse(text) as { version?: unknown }).version;
    } catch {
      version = undefined;
    }
    if (version !== pkg.version) return { ok: false, reason: `${pkg.dir} is ${typeof version === 'string' ? version : 'missing'}, the bundle has ${pkg.version}; run npm run build` };
  }
  // ASCII only (format.ts): latin1 gives the same text without decoding UTF-8.
  const text = readOrUndefined(at(BUNDLE_FILE), 'latin1') as string | undefined;
  if (text === undefined || !text.startsWith(bundleHeader(manifest.id))) {
    return { ok: false, reason: `${BUNDLE_FILE} is not the bundle of build ${manifest.id} that ${BUNDLE_MANIFEST_FILE} names; run npm run build` };
  }
  const cache = readOrUndefined(at(bundleCacheFile(manifest.id))) as Buffer | undefined;
  try {
    return { ok: true, compiled: compileBundle(root, text, cache) };
  } catch (err) {
    return { ok: false, reason: `${BUNDLE_FILE} does not compile: ${(err as Error).message}; run npm run build` };
  }
}

/** The CLI's main(): from the bundle unless MOUNTKIT_BUNDLE=0 or it cannot be used, from dist/cli/main.js otherwise. */
export function cliMain(root: string, env: NodeJS.ProcessEnv = process.env): (argv: readonly string[]) => number {
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
