/**
 * Writes the CLI bundle (format.ts) after tsc: `node dist/bundle/build.js`, the second
 * half of `npm run build`. Modules are found by following literal require() names from
 * dist/cli/main.js, resolved as Node resolves them (createRequire(file).resolve), so the
 * bundle holds the files a CLI run would load, koffi's native addon and winston aside.
 *
 * The code cache is taken after a warm-up in this process: the bundle is loaded as the
 * CLI loads it and `mountkit plan` runs on examples/default, so the functions a run
 * needs are compiled into the cache, not only the module top levels.
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import { createRequire, isBuiltin } from 'module';
import * as path from 'path';
import {
  BUNDLE_FILE,
  BUNDLE_MANIFEST_FILE,
  CLI_ENTRY,
  UNBUNDLED_PACKAGES,
  bundleCacheFile,
  bundleScript,
  isBundleable,
  literalRequires,
  moduleEntry,
  packageDirOf,
  packageOf,
  type BundleManifest,
} from './format';
import { compileBundle } from './load';

export interface BuiltBundle {
  script: string;
  manifest: BundleManifest;
  /** Bundled ids, in the order they were found. */
  ids: string[];
}

/** The package-relative id of an absolute file. */
function idOf(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/');
}

/** A new build id: 48 random bits, to tell two builds of one checkout apart. */
export function newBuildId(): string {
  return randomBytes(6).toString('hex');
}

/** Follows the literal requires from `entries` (ids) and returns the bundle script of build `id` and its manifest. */
export function buildBundle(root: string, entries: readonly string[] = [CLI_ENTRY], id = newBuildId()): BuiltBundle {
  const texts: string[] = [];
  const ids: string[] = [];
  const packages = new Map<string, string>();
  const seen = new Set<string>();
  const pending = [...entries];
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    if (seen.has(next)) continue;
    seen.add(next);
    const file = path.join(root, next);
    const text = fs.readFileSync(file, 'utf8');
    const deps: Record<string, string> = {};
    if (!next.endsWith('.json')) {
      const resolve = createRequire(file).resolve;
      for (const name of literalRequires(text)) {
        const pkg = packageOf(name);
        if (isBuiltin(name) || (pkg !== undefined && UNBUNDLED_PACKAGES.includes(pkg))) continue;
        let target: string;
        try {
          target = resolve(name);
        } catch {
          continue; // Not installed here (another platform's koffi package): required, and refused, at run time as before.
        }
        if (!isBundleable(target) || !target.startsWith(root + path.sep)) continue;
        deps[name] = idOf(root, target);
        pending.push(deps[name]);
      }
    }
    const pkgDir = packageDirOf(next);
    if (pkgDir && !packages.has(pkgDir)) {
      const pkg = JSON.parse(fs.readFileSync(path.join(root, pkgDir, 'package.json'), 'utf8')) as { version: string };
      packages.set(pkgDir, pkg.version);
    }
    ids.push(next);
    texts.push(moduleEntry(next, deps, text));
  }
  const manifest: BundleManifest = { format: 2, id, files: ids, packages: [...packages].map(([dir, version]) => ({ dir, version })) };
  return { script: bundleScript(id, texts), manifest, ids };
}

/**
 * Loads the bundle in this process as the CLI would and runs `mountkit plan` on
 * `warmBundle` with its output dropped, then returns V8's code cache of the script.
 */
export function warmCodeCache(root: string, script: string, warmBundle: string | undefined): Buffer {
  const compiled = compileBundle(root, script, undefined);
  if (warmBundle) {
    const write = { out: process.stdout.write, err: process.stderr.write };
    process.stdout.write = process.stderr.write = () => true;
    try {
      const cli = compiled.bundle.require(CLI_ENTRY) as typeof import('../cli/main');
      cli.main(['plan', '--bundle', warmBundle, '--format', 'json']);
      cli.main(['plan', '--bundle', warmBundle]);
    } finally {
      process.stdout.write = write.out;
      process.stderr.write = write.err;
    }
  }
  return compiled.script.createCachedData();
}

/** Writes `data` to `file` through a temporary file renamed over it: a reader sees the old file or the new one, never part of one. */
function writeAtomically(file: string, data: string | Buffer): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

/**
 * `node dist/bundle/build.js`: writes the bundle, its code cache and its manifest under
 * dist/, in that order, each whole (writeAtomically): the manifest names the build, so a
 * CLI starting meanwhile finds a complete old build, or a bundle of another build than
 * its manifest's, which it does not use. Caches of earlier builds are removed last.
 */
export function main(): void {
  const root = path.resolve(__dirname, '..', '..');
  const built = buildBundle(root);
  const example = path.join(root, 'examples', 'default');
  const cache = warmCodeCache(root, built.script, fs.existsSync(path.join(example, 'config.json')) ? example : undefined);
  const cacheFile = bundleCacheFile(built.manifest.id);
  writeAtomically(path.join(root, cacheFile), cache);
  writeAtomically(path.join(root, BUNDLE_FILE), built.script);
  writeAtomically(path.join(root, BUNDLE_MANIFEST_FILE), JSON.stringify(built.manifest, null, 2) + '\n');
  const dist = path.join(root, 'dist');
  for (const name of fs.readdirSync(dist)) {
    if (/^cli\.bundle\..+\.cache$/.test(name) && `dist/${name}` !== cacheFile) fs.rmSync(path.join(dist, name), { force: true });
  }
  process.stdout.write(`${BUNDLE_FILE}: ${built.ids.length} modules, ${built.script.length} bytes; code cache ${cache.length} bytes (build ${built.manifest.id})\n`);
}

if (require.main === module) main();
