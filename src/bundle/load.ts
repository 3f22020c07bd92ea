/**
 * Loads the CLI bundle (format.ts) at start-up, for bin/mountkit.js.
 *
 * Node's module cache stays the one registry of loaded modules: a bundled module is put
 * in it under its real file name before its code runs, and a module Node already loaded
 * from disk is taken from it rather than run again. So a plugin that requires `mountkit`
 * or `tsyringe` by name gets the very instances the CLI uses (the same error classes for
 * instanceof, the same tsyringe container), whoever loaded them first.
 *
 * MOUNTKIT_BUNDLE=0 never uses the bundle; MOUNTKIT_BUNDLE=1 refuses to start without a
 * usable one whose code cache V8 accepted (what the tests use to prove it is used).
 * Unset, a missing or outdated bundle falls back to loading the files one by one.
 */
import * as fs from 'fs';
import { Module, createRequire, isBuiltin } from 'module';
import * as path from 'path';
import * as vm from 'vm';
import { BUNDLE_CACHE_FILE, BUNDLE_FILE, BUNDLE_MANIFEST_FILE, CLI_ENTRY, type BundleManifest } from './format';

type ModuleFunction = (exports: unknown, require: NodeJS.Require, module: NodeJS.Module, filename: string, dirname: string) => void;

interface Definition {
  deps: Record<string, string>;
  fn: ModuleFunction;
}

/** Node's module cache (require.cache), keyed by absolute file name. */
interface NodeModuleInternals {
  _cache: Record<string, NodeJS.Module | undefined>;
  _nodeModulePaths(dir: string): string[];
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
  const script = new vm.Script(text, { filename: path.join(root, BUNDLE_FILE), cachedData });
  const defs = new Map<string, Definition>();
  const define = (id: string, deps: Record<string, string>, fn: ModuleFunction) => void defs.set(id, { deps, fn });
  (script.runInThisContext() as (d: typeof define) => void)(define);

  // Ids are clean relative paths with `/` (build.ts) and `root` is absolute: plain
  // concatenation gives the file name (path.join would normalize it again, for each module).
  const prefix = root.endsWith('/') ? root : `${root}/`;
  const load = (id: string): unknown => {
    const filename = prefix + id;
    const cached = nodeModules._cache[filename];
    if (cached) return cached.exports;
    const def = defs.get(id);
    if (!def) return createRequire(filename)(filename);
    const dirname = filename.slice(0, filename.lastIndexOf('/'));
    const mod = new Module(filename) as NodeJS.Module;
    mod.filename = filename;
    // The node_modules directories a `module.require()` of a package would search, as Module.load sets them; made when first asked for.
    let paths: string[] | undefined;
    Object.defineProperty(mod, 'paths', {
      configurable: true,
      enumerable: true,
      get: () => (paths ??= nodeModules._nodeModulePaths(dirname)),
      set: (value: string[]) => void (paths = value),
    });
    nodeModules._cache[filename] = mod;
    try {
      def.fn.call(mod.exports, mod.exports, requireFor(filename, def.deps), mod, filename, dirname);
    } catch (err) {
      delete nodeModules._cache[filename];
      throw err;
    }
    mod.loaded = true;
    return mod.exports;
  };

  /** The require() a bundled module gets: its literal names from the bundle, anything else from Node. */
  const requireFor = (filename: string, deps: Record<string, string>): NodeJS.Require => {
    let node: NodeJS.Require | undefined;
    const fromNode = () => (node ??= createRequire(filename));
    const req = ((name: string) => {
      const id = deps[name];
      if (id !== undefined) return load(id);
      // A built-in is the same from any module: no require() of this file's own is made for it.
      return isBuiltin(name) ? require(name) : fromNode()(name);
    }) as NodeJS.Require;
    req.resolve = ((name: string, options?: { paths?: string[] }) => fromNode().resolve(name, options)) as NodeJS.RequireResolve;
    req.cache = nodeModules._cache as NodeJS.Require['cache'];
    return req;
  };

  return { script, bundle: { require: load, has: (id) => defs.has(id) }, cacheRejected: cachedData ? script.cachedDataRejected : undefined };
}

/** Why a bundle cannot be used, or its loader. */
export type OpenedBundle = { ok: true; compiled: CompiledBundle } | { ok: false; reason: string };

/**
 * Opens the bundle under `root`: it is used only when every package it holds is still
 * installed where and as it was at build time (so the bundle never runs other code than
 * the files Node would load).
 */
export function openBundle(root: string): OpenedBundle {
  let manifest: BundleManifest;
  let text: string;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(root, BUNDLE_MANIFEST_FILE), 'utf8')) as BundleManifest;
    // ASCII only (format.ts): latin1 gives the same text without decoding UTF-8.
    text = fs.readFileSync(path.join(root, BUNDLE_FILE), 'latin1');
  } catch (err) {
    return { ok: false, reason: `${BUNDLE_FILE} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}); run npm run build` };
  }
  if (manifest.format !== 1) return { ok: false, reason: `${BUNDLE_MANIFEST_FILE} has format ${String(manifest.format)}, not 1` };
  for (const pkg of manifest.packages) {
    let version: string | undefined;
    try {
      version = (JSON.parse(fs.readFileSync(path.join(root, pkg.dir, 'package.json'), 'utf8')) as { version?: string }).version;
    } catch {
      version = undefined;
    }
    if (version !== pkg.version) return { ok: false, reason: `${pkg.dir} is ${version ?? 'missing'}, the bundle has ${pkg.version}; run npm run build` };
  }
  let cache: Buffer | undefined;
  try {
    cache = fs.readFileSync(path.join(root, BUNDLE_CACHE_FILE));
  } catch {
    cache = undefined;
  }
  return { ok: true, compiled: compileBundle(root, text, cache) };
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
