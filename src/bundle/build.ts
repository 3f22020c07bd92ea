/**
 * Writes the CLI bundle (format.ts) after tsc: `node dist/bundle/build.js`, the second
 * half of `npm run build`. Modules are found by following literal require() names from
 * dist/cli/main.js, resolved as Node resolves them (createRequire(file).resolve), so the
 * bundle holds the files a CLI run would load, koffi's native addon and winston aside.
 * Each script is held without its comments and indentation (compact.ts); the manifest
 * gives the sizes of the files as they are.
 *
 * The code cache is taken after a warm-up in this process: the bundle is loaded as the
 * CLI loads it and `mountkit plan` runs on examples/default, so the functions a run
 * needs are compiled into the cache, not only the module top levels.
 */
import { randomBytes } from 'crypto';
import fs = require('fs');
import { createRequire, isBuiltin } from 'module';
import path = require('path');
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
  packageNameOf,
  packageOf,
  type BundleManifest,
  type BundledFile,
  type BundledPackage,
} from './format';
import { compactModule } from './compact';
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

/** The package directory (packageDirOf) of an id, or '' for mountkit's own files. */
function ownerOf(id: string): string {
  return packageDirOf(id) ?? '';
}

/**
 * Whether the bundle can hold the module `name` resolved to from `requirer`: a module of
 * the requirer's own package, or of another package required by that package's name, the
 * one way the loader finds it again (BundledPackage). A relative path into another
 * package, or a package's require of mountkit's files, is left to Node.
 */
function crossesAsNode(requirer: string, name: string, target: string): boolean {
  const owner = ownerOf(target);
  if (owner === ownerOf(requirer)) return true;
  return owner !== '' && packageOf(name) === packageNameOf(owner);
}

/** The packages met while following requires, in the order they were first required. */
class PackageList {
  private readonly byDir = new Map<string, BundledPackage>();
  /** For each package, the package of each requirer already in its `from` ('' for mountkit's own). */
  private readonly requirers = new Map<string, Set<string>>();

  constructor(private readonly root: string) {}

  /** Notes that `requirer` requires the module `target` of another package. */
  required(requirer: string, target: string): void {
    const dir = ownerOf(target);
    let pkg = this.byDir.get(dir);
    if (!pkg) {
      const { version } = JSON.parse(fs.readFileSync(path.join(this.root, dir, 'package.json'), 'utf8')) as { version: string };
      pkg = { dir, name: packageNameOf(dir), version, from: [], files: [] };
      this.byDir.set(dir, pkg);
      this.requirers.set(dir, new Set());
    }
    const seen = this.requirers.get(dir)!;
    if (seen.has(ownerOf(requirer))) return;
    seen.add(ownerOf(requirer));
    pkg.from.push(requirer);
  }

  /** Adds a bundled file of a package met before. */
  addFile(id: string, size: number): void {
    const pkg = this.byDir.get(ownerOf(id))!;
    pkg.files.push({ path: id.slice(pkg.dir.length + 1), size });
  }

  list(): BundledPackage[] {
    return [...this.byDir.values()];
  }
}

/** Follows the literal requires from `entries` (ids of mountkit's own files) and returns the bundle script of build `id` and its manifest. */
export function buildBundle(root: string, entries: readonly string[] = [CLI_ENTRY], id = newBuildId()): BuiltBundle {
  const foreign = entries.find((e) => ownerOf(e) !== '');
  if (foreign) throw new Error(`${foreign}: a bundle starts from mountkit's own files`);
  const texts: string[] = [];
  const ids: string[] = [];
  const own: BundledFile[] = [];
  const packages = new PackageList(root);
  const seen = new Set<string>();
  const pending = [...entries];
  for (let next = pending.shift(); next !== undefined; next = pending.shift()) {
    if (seen.has(next)) continue;
    seen.add(next);
    const file = path.join(root, next);
    const text = fs.readFileSync(file, 'utf8');
    // Compacted first: its requires are the code's, not the ones a comment mentions.
    const code = next.endsWith('.json') ? text : compactModule(text);
    const deps: Record<string, string> = {};
    if (!next.endsWith('.json')) {
      const resolve = createRequire(file).resolve;
      for (const name of literalRequires(code)) {
        const pkg = packageOf(name);
        if (isBuiltin(name) || (pkg !== undefined && UNBUNDLED_PACKAGES.includes(pkg))) continue;
        let target: string;
        try {
          target = resolve(name);
        } catch {
          continue; // Not installed here (another platform's koffi package): required, and refused, at run time as before.
        }
        if (!isBundleable(target) || !target.startsWith(root + path.sep)) continue;
        const targetId = idOf(root, target);
        if (!crossesAsNode(next, name, targetId)) continue;
        if (ownerOf(targetId) !== ownerOf(next)) packages.required(next, targetId);
        deps[name] = targetId;
        pending.push(targetId);
      }
    }
    const size = fs.statSync(file).size;
    if (ownerOf(next) === '') own.push({ path: next, size });
    else packages.addFile(next, size);
    ids.push(next);
    texts.push(moduleEntry(next, deps, code));
  }
  const manifest: BundleManifest = { format: 3, id, files: own, packages: packages.list() };
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
  // Without indentation: every start reads and parses it.
  writeAtomically(path.join(root, BUNDLE_MANIFEST_FILE), JSON.stringify(built.manifest) + '\n');
  const dist = path.join(root, 'dist');
  for (const name of fs.readdirSync(dist)) {
    // Also cli.bundle.cache, the name before builds had ids.
    if (/^cli\.bundle\.(.+\.)?cache$/.test(name) && `dist/${name}` !== cacheFile) fs.rmSync(path.join(dist, name), { force: true });
  }
  process.stdout.write(`${BUNDLE_FILE}: ${built.ids.length} modules, ${built.script.length} bytes; code cache ${cache.length} bytes (build ${built.manifest.id})\n`);
}

if (require.main === module) main();
