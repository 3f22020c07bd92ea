import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildBundle, warmCodeCache } from '../../src/bundle/build';
import { BUNDLE_FILE, BUNDLE_MANIFEST_FILE, bundleCacheFile, bundleHeader } from '../../src/bundle/format';

const REPO = path.resolve(__dirname, '..', '..');
const roots: string[] = [];

/**
 * A package root with dist/a.js (requiring ./b, the package `pkg` and `fs`, and anything by
 * a computed name), dist/b.js, dist/bad.js (throws) and node_modules/pkg. Each module
 * counts its runs in globalThis.__bundleRuns.
 */
function fixture(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-bundle-'));
  roots.push(root);
  const write = (rel: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  const count = (name: string) => `(globalThis.__bundleRuns ??= {})[${JSON.stringify(name)}] = (globalThis.__bundleRuns[${JSON.stringify(name)}] ?? 0) + 1;\n`;
  write('dist/a.js', `"use strict";\n${count('a')}exports.b = require("./b");\nexports.pkg = require("pkg");\nexports.fs = require("fs");\nexports.byName = (n) => require(n);\nexports.resolve = (n) => require.resolve(n);\n`);
  write('dist/b.js', `"use strict";\n${count('b')}exports.identity = {};\n`);
  write('dist/bad.js', `"use strict";\nthrow new Error("boom in bad.js");\n`);
  write('dist/c.js', `"use strict";\nrequire("not-installed-anywhere");\n`);
  write('node_modules/pkg/package.json', '{ "name": "pkg", "version": "1.0.0", "main": "index.js" }\n');
  write('node_modules/pkg/index.js', `${count('pkg')}exports.v = 1;\n`);
  return root;
}

/** Writes the bundle files of `root` as `npm run build` does. */
function writeBundle(root: string, withCache: boolean): void {
  const built = buildBundle(root, ['dist/a.js'], 'b1');
  if (withCache) fs.writeFileSync(path.join(root, bundleCacheFile('b1')), warmCodeCache(root, built.script, undefined));
  fs.writeFileSync(path.join(root, BUNDLE_FILE), built.script);
  fs.writeFileSync(path.join(root, BUNDLE_MANIFEST_FILE), JSON.stringify(built.manifest));
}

/** One case of test/helpers/bundle-probe.ts, in a plain Node process: what it saw. */
function probe(which: string, ...args: string[]): Record<string, unknown> {
  const r = spawnSync(process.execPath, ['-r', path.join(REPO, 'test/helpers/ts-register.js'), path.join(REPO, 'test/helpers/bundle-probe.ts'), which, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bundle-probe ${which} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

afterAll(() => {
  for (const root of roots) fs.rmSync(root, { recursive: true, force: true });
});

describe('buildBundle', () => {
  test('follows literal requires into dist and node_modules, leaves built-ins and computed names to Node', () => {
    const built = buildBundle(fixture(), ['dist/a.js', 'dist/bad.js'], 'b1');
    expect(built.ids).toEqual(['dist/a.js', 'dist/bad.js', 'dist/b.js', 'node_modules/pkg/index.js']);
    expect(built.manifest).toEqual({ format: 2, id: 'b1', files: built.ids, packages: [{ dir: 'node_modules/pkg', version: '1.0.0' }] });
    expect(built.script.startsWith(bundleHeader('b1'))).toBe(true);
    expect(built.script).toContain('["dist/a.js", {"./b":"dist/b.js","pkg":"node_modules/pkg/index.js"}, function (exports, require, module, __filename, __dirname) {');
    expect(buildBundle(fixture(), ['dist/a.js']).manifest.id).not.toBe(buildBundle(fixture(), ['dist/a.js']).manifest.id);
  });
});

describe('compileBundle (in a plain Node process)', () => {
  test('a bundled module runs once, from the bundle, and is what Node returns for its file', () => {
    const root = fixture();
    expect(probe('bundle-first', root)).toEqual({
      runs: { a: 1, b: 1, pkg: 1 },
      cachedIsBundled: true,
      cachedLoaded: true,
      packagePaths: [path.join(root, 'dist', 'node_modules'), path.join(root, 'node_modules')],
      nodeGetsBundledFile: true,
      nodeGetsBundledPackage: true,
      builtinFromNode: true,
      secondRequireSame: true,
      runsAfter: { a: 1, b: 1, pkg: 1 },
    });
  });

  test('a module Node loaded from its file first is taken from Node, not run again', () => {
    expect(probe('node-first', fixture())).toEqual({ sameInstance: true, runs: { b: 1, a: 1, pkg: 1 } });
  });

  test('a name that is not a literal is required, and resolved, by Node from the module file', () => {
    const root = fixture();
    expect(probe('computed-names', root)).toEqual({ os: true, relative: true, resolved: path.join(root, 'node_modules', 'pkg', 'index.js') });
  });

  test("a bundled module is its requirer's child; a require the bundle lacks is Node's, with the require stack", () => {
    const root = fixture();
    expect(probe('module-tree', root)).toEqual({
      aWasNotLoadedBefore: true,
      bParentIsA: true,
      aChildren: ['dist/b.js', 'node_modules/pkg/index.js'],
      missing: expect.stringMatching(new RegExp(`^Cannot find module 'not-installed-anywhere'\nRequire stack:\n- ${path.join(root, 'dist', 'c.js')}`)),
    });
  });

  test('a module that throws is not left in the cache', () => {
    expect(probe('throws', fixture())).toEqual({ message: 'boom in bad.js', cached: false });
  });

  test("V8 takes the code cache made from the same text, and refuses another's", () => {
    expect(probe('code-cache', fixture(), fixture())).toEqual({ same: false, other: true, otherStillLoads: { identity: {} } });
  });
});

describe('openBundle', () => {
  test('opens a bundle whose packages are installed as they were built, with its code cache', () => {
    const root = fixture();
    writeBundle(root, true);
    expect(probe('open', root)).toEqual({ ok: true, cacheRejected: false });
  });

  test.each([
    ['no bundle', (root: string) => fs.rmSync(path.join(root, BUNDLE_FILE)), `${BUNDLE_FILE} cannot be read (ENOENT); run npm run build`],
    ['a manifest of another format', (root: string) => fs.writeFileSync(path.join(root, BUNDLE_MANIFEST_FILE), '{"format":1,"packages":[]}'), `${BUNDLE_MANIFEST_FILE} is missing or not a manifest of format 2; run npm run build`],
    ['a damaged manifest', (root: string) => fs.writeFileSync(path.join(root, BUNDLE_MANIFEST_FILE), 'null'), `${BUNDLE_MANIFEST_FILE} is missing or not a manifest of format 2; run npm run build`],
    [
      'a bundled file changed since (tsc alone)',
      (root: string) => fs.utimesSync(path.join(root, 'dist/b.js'), new Date(), new Date(Date.now() + 5000)),
      `dist/b.js changed after ${BUNDLE_FILE} was built; run npm run build`,
    ],
    [
      'a package updated since',
      (root: string) => fs.writeFileSync(path.join(root, 'node_modules/pkg/package.json'), '{ "name": "pkg", "version": "1.0.1" }'),
      'node_modules/pkg is 1.0.1, the bundle has 1.0.0; run npm run build',
    ],
    [
      'a package gone',
      (root: string) => fs.rmSync(path.join(root, 'node_modules/pkg'), { recursive: true }),
      'node_modules/pkg/index.js is missing (the bundle was built where the packages lay otherwise); the files are loaded one by one',
    ],
    [
      "another build's bundle (of the same length) with this manifest",
      (root: string) => fs.writeFileSync(path.join(root, BUNDLE_FILE), fs.readFileSync(path.join(root, BUNDLE_FILE), 'latin1').replace(bundleHeader('b1'), bundleHeader('b2'))),
      `${BUNDLE_FILE} is not the bundle of build b1 that ${BUNDLE_MANIFEST_FILE} names; run npm run build`,
    ],
    [
      'a truncated bundle',
      (root: string) => fs.writeFileSync(path.join(root, BUNDLE_FILE), fs.readFileSync(path.join(root, BUNDLE_FILE), 'latin1').slice(0, 200)),
      expect.stringMatching(new RegExp(`^${BUNDLE_FILE.replace(/\./g, '\\.')} does not compile: .+; run npm run build$`)),
    ],
  ])('refuses %s, saying why', (_what, spoil, reason) => {
    const root = fixture();
    writeBundle(root, true);
    spoil(root);
    expect(probe('open', root)).toEqual({ ok: false, reason });
  });
});

describe('cliMain', () => {
  test('the CLI main() from the bundle, from the files (MOUNTKIT_BUNDLE=0), or an error (MOUNTKIT_BUNDLE=1) naming why not', () => {
    const root = fixture();
    writeBundle(root, true);
    // The fixture's bundle has no dist/cli/main.js: taking main() from it fails with Node's own error, which shows it was tried.
    const seen = probe('cli-main', root);
    expect(seen).toEqual({
      required: expect.stringContaining(`error: Cannot find module '${path.join(root, 'dist/cli/main.js')}'`),
      unset: expect.stringContaining('error: Cannot find module'),
      off: 'files',
      refusedCache: `error: MOUNTKIT_BUNDLE=1: V8 refused code cache for ${BUNDLE_FILE}; run npm run build with this Node`,
      noCache: `error: MOUNTKIT_BUNDLE=1: V8 has no code cache for ${BUNDLE_FILE}; run npm run build with this Node`,
      runs: {},
    });
  });

  test('without a bundle, main() comes from the files unless MOUNTKIT_BUNDLE=1', () => {
    const seen = probe('cli-main', fixture());
    expect(seen.unset).toBe('files');
    expect(seen.required).toBe(`error: MOUNTKIT_BUNDLE=1: ${BUNDLE_FILE} cannot be read (ENOENT); run npm run build`);
  });
});
