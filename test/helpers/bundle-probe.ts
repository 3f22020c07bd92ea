/**
 * Runs one case of test/unit/bundle-load.test.ts in a plain Node process
 * (`node -r test/helpers/ts-register.js test/helpers/bundle-probe.ts CASE ROOT [ROOT2]`)
 * and prints what it saw as JSON: the bundle loader works with Node's own module cache
 * and require, which Jest replaces inside a test.
 */
import * as fs from 'fs';
import { Module, createRequire } from 'module';
import * as path from 'path';
import { buildBundle, warmCodeCache } from '../../src/bundle/build';
import { BUNDLE_MANIFEST_FILE, bundleCacheFile } from '../../src/bundle/format';
import { cliMain, compileBundle, openBundle } from '../../src/bundle/load';

const nodeCache = (Module as unknown as { _cache: Record<string, NodeJS.Module | undefined> })._cache;
const runs = () => (globalThis as { __bundleRuns?: Record<string, number> }).__bundleRuns ?? {};
const [, , which, root, other] = process.argv;
const nodeRequire = createRequire(path.join(root, 'x.js'));

type A = { b: object; pkg: object; fs: unknown; byName(n: string): unknown; resolve(n: string): string };

const cases: Record<string, () => unknown> = {
  'bundle-first': () => {
    const { bundle } = compileBundle(root, buildBundle(root, ['dist/a.js']).script, undefined);
    const a = bundle.require('dist/a.js') as A;
    const cached = nodeCache[path.join(root, 'dist', 'b.js')];
    return {
      runs: runs(),
      cachedIsBundled: cached?.exports === a.b,
      cachedLoaded: cached?.loaded,
      packagePaths: cached?.paths.slice(0, 2),
      nodeGetsBundledFile: nodeRequire('./dist/b.js') === a.b,
      nodeGetsBundledPackage: nodeRequire('pkg') === a.pkg,
      builtinFromNode: a.fs === require('fs'),
      secondRequireSame: bundle.require('dist/a.js') === a,
      runsAfter: runs(),
    };
  },
  'node-first': () => {
    const fromNode = nodeRequire('./dist/b.js');
    const { bundle } = compileBundle(root, buildBundle(root, ['dist/a.js']).script, undefined);
    return { sameInstance: (bundle.require('dist/a.js') as A).b === fromNode, runs: runs() };
  },
  'computed-names': () => {
    const { bundle } = compileBundle(root, buildBundle(root, ['dist/a.js']).script, undefined);
    const a = bundle.require('dist/a.js') as A;
    return { os: a.byName('os') === require('os'), relative: a.byName('./b') === a.b, resolved: a.resolve('pkg') };
  },
  'module-tree': () => {
    const { bundle } = compileBundle(root, buildBundle(root, ['dist/a.js', 'dist/c.js']).script, undefined);
    const a = nodeCache[path.join(root, 'dist', 'a.js')];
    bundle.require('dist/a.js');
    const b = nodeCache[path.join(root, 'dist', 'b.js')];
    let message = '';
    try {
      bundle.require('dist/c.js');
    } catch (err) {
      message = (err as Error).message;
    }
    return {
      aWasNotLoadedBefore: a === undefined,
      bParentIsA: b?.parent === nodeCache[path.join(root, 'dist', 'a.js')],
      aChildren: nodeCache[path.join(root, 'dist', 'a.js')]?.children.map((c) => path.relative(root, c.filename)),
      missing: message,
    };
  },
  throws: () => {
    const { bundle } = compileBundle(root, buildBundle(root, ['dist/bad.js']).script, undefined);
    let message = '';
    try {
      bundle.require('dist/bad.js');
    } catch (err) {
      message = (err as Error).message;
    }
    return { message, cached: path.join(root, 'dist', 'bad.js') in nodeCache };
  },
  'code-cache': () => {
    const script = buildBundle(root, ['dist/a.js']).script;
    const cache = warmCodeCache(root, script, undefined);
    const same = compileBundle(root, script, cache);
    const refused = compileBundle(other, buildBundle(other, ['dist/b.js']).script, cache);
    return { same: same.cacheRejected, other: refused.cacheRejected, otherStillLoads: refused.bundle.require('dist/b.js') };
  },
  open: () => {
    const opened = openBundle(root);
    return opened.ok ? { ok: true, cacheRejected: opened.compiled.cacheRejected } : opened;
  },
  /**
   * Opens the bundle of `root` wherever its packages are, runs the module `other` (an id)
   * from it, and says, for what it exports as `pkg` and `other` (and other's `pkg`), the
   * file Node's cache has it under and whether Node's require from the module gives it.
   */
  layout: () => {
    const opened = openBundle(root);
    if (!opened.ok) return opened;
    const top = opened.compiled.bundle.require(other) as { pkg?: unknown; other?: { pkg: unknown } };
    const fileOf = (exports: unknown) => Object.keys(nodeCache).find((f) => nodeCache[f]?.exports === exports);
    const fromTop = createRequire(path.join(root, other));
    const seen: Record<string, unknown> = { ok: true, pkg: fileOf(top.pkg), pkgIsNodes: fromTop('pkg') === top.pkg };
    if (top.other) {
      const otherFile = fileOf(top.other)!;
      Object.assign(seen, { other: otherFile, otherIsNodes: fromTop('other') === top.other, otherPkg: fileOf(top.other.pkg), otherPkgIsNodes: createRequire(otherFile)('pkg') === top.other.pkg });
    }
    return { ...seen, runs: runs() };
  },
  'cli-main': () => {
    const attempt = (env: NodeJS.ProcessEnv) => {
      try {
        return cliMain(root, env) === (require('../../src/cli/main') as typeof import('../../src/cli/main')).main ? 'files' : 'bundle';
      } catch (err) {
        return `error: ${(err as Error).message}`;
      }
    };
    const result: Record<string, string> = { required: attempt({ MOUNTKIT_BUNDLE: '1' }), unset: attempt({}), off: attempt({ MOUNTKIT_BUNDLE: '0' }) };
    const manifest = path.join(root, BUNDLE_MANIFEST_FILE);
    if (fs.existsSync(manifest)) {
      const cacheFile = path.join(root, bundleCacheFile((JSON.parse(fs.readFileSync(manifest, 'utf8')) as { id: string }).id));
      fs.writeFileSync(cacheFile, Buffer.from('not a code cache'));
      result.refusedCache = attempt({ MOUNTKIT_BUNDLE: '1' });
      fs.rmSync(cacheFile);
      result.noCache = attempt({ MOUNTKIT_BUNDLE: '1' });
    }
    return { ...result, runs: runs() };
  },
};

process.stdout.write(JSON.stringify(cases[which]()));
