import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildBundle, warmCodeCache } from '../../src/bundle/build';
import { BUNDLE_FILE, BUNDLE_MANIFEST_FILE, bundleCacheFile, bundleHeader } from '../../src/bundle/format';

const REPO = path.resolve(__dirname, '..', '..');
const roots: string[] = [];

/** Writes `text` to `rel` under `dir`, making the directories on the way. */
function write(dir: string, rel: string, text: string): void {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

/** A statement counting the runs of the module `name` in globalThis.__bundleRuns. */
const count = (name: string) => `(globalThis.__bundleRuns ??= {})[${JSON.stringify(name)}] = (globalThis.__bundleRuns[${JSON.stringify(name)}] ?? 0) + 1;\n`;

/** A new temporary directory, removed after the tests. */
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-bundle-'));
  roots.push(dir);
  return dir;
}

/**
 * A package root with dist/a.js (requiring ./b, the package `pkg` and `fs`, and anything by
 * a computed name), dist/b.js, dist/bad.js (throws) and node_modules/pkg. Each module
 * counts its runs in globalThis.__bundleRuns.
 */
function fixture(): string {
  const root = tempDir();
  write(root, 'dist/a.js', `"use strict";\n${count('a')}exports.b = require("./b");\nexports.pkg = require("pkg");\nexports.fs = require("fs");\nexports.byName = (n) => require(n);\nexports.resolve = (n) => require.resolve(n);\n`);
  write(root, 'dist/b.js', `"use strict";\n${count('b')}exports.identity = {};\n`);
  write(root, 'dist/bad.js', `"use strict";\nthrow new Error("boom in bad.js");\n`);
  write(root, 'dist/c.js', `"use strict";\nrequire("not-installed-anywhere");\n`);
  write(root, 'node_modules/pkg/package.json', '{ "name": "pkg", "version": "1.0.0", "main": "index.js" }\n');
  write(root, 'node_modules/pkg/index.js', `${count('pkg')}exports.v = 1;\n`);
  return root;
}

/** The package `name` of `version` at `dir` under `base`, requiring `requires` by name; it counts its runs as name@version. */
function writePackage(base: string, dir: string, name: string, version: string, requires: string[] = []): void {
  write(base, `${dir}/package.json`, JSON.stringify({ name, version, main: 'index.js' }));
  write(base, `${dir}/index.js`, `${count(`${name}@${version}`)}${requires.map((r) => `exports[${JSON.stringify(r)}] = require(${JSON.stringify(r)});\n`).join('')}`);
}

/**
 * A package root with dist/n.js requiring `pkg` (1.0.0) and `other`, which requires `pkg`
 * too: its own copy of 2.0.0 in other/node_modules when `nestedCopy`, the top one otherwise.
 */
function nestedFixture(nestedCopy: boolean): string {
  const root = tempDir();
  write(root, 'dist/n.js', '"use strict";\nexports.pkg = require("pkg");\nexports.other = require("other");\n');
  writePackage(root, 'node_modules/pkg', 'pkg', '1.0.0');
  writePackage(root, 'node_modules/other', 'other', '1.0.0', ['pkg']);
  if (nestedCopy) writePackage(root, 'node_modules/other/node_modules/pkg', 'pkg', '2.0.0');
  return root;
}

/**
 * Moves the package root `root` (its bundle built) into a new directory `base`: to
 * base/node_modules/app as npm installs a dependency, or to base/packages/app as a
 * workspace of a checkout. Renaming keeps the files' times.
 */
function relocate(root: string, as: 'installed' | 'workspace'): { base: string; app: string } {
  const base = tempDir();
  const app = path.join(base, as === 'installed' ? 'node_modules/app' : 'packages/app');
  fs.mkdirSync(path.dirname(app), { recursive: true });
  fs.mkdirSync(path.join(base, 'node_modules'), { recursive: true });
  fs.renameSync(root, app);
  return { base, app };
}

/** Moves `from` to `to`, both relative to `base`, as npm's hoisting places a package elsewhere. */
function move(base: string, from: string, to: string): void {
  fs.mkdirSync(path.dirname(path.join(base, to)), { recursive: true });
  fs.renameSync(path.join(base, from), path.join(base, to));
}

/** Writes the bundle files of `root` as `npm run build` does, from `entries`. */
function writeBundle(root: string, withCache: boolean, entries = ['dist/a.js']): void {
  const built = buildBundle(root, entries, 'b1');
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
    const root = fixture();
    const built = buildBundle(root, ['dist/a.js', 'dist/bad.js'], 'b1');
    expect(built.ids).toEqual(['dist/a.js', 'dist/bad.js', 'dist/b.js', 'node_modules/pkg/index.js']);
    const size = (id: string) => fs.statSync(path.join(root, id)).size;
    expect(built.manifest).toEqual({
      format: 3,
      id: 'b1',
      files: ['dist/a.js', 'dist/bad.js', 'dist/b.js'].map((id) => ({ path: id, size: size(id) })),
      packages: [{ dir: 'node_modules/pkg', name: 'pkg', version: '1.0.0', from: ['dist/a.js'], files: [{ path: 'index.js', size: size('node_modules/pkg/index.js') }] }],
    });
    expect(built.script.startsWith(bundleHeader('b1'))).toBe(true);
    expect(built.script).toContain('["dist/a.js", {"./b":"dist/b.js","pkg":"node_modules/pkg/index.js"}, function (exports, require, module, __filename, __dirname) {');
    expect(buildBundle(fixture(), ['dist/a.js']).manifest.id).not.toBe(buildBundle(fixture(), ['dist/a.js']).manifest.id);
  });

  test("a require a comment mentions is not followed: the module is bundled as the code requires it", () => {
    const root = fixture();
    write(root, 'dist/c.js', '"use strict";\n// Not require("./b") here: see require(\'pkg\').\n/* require("./bad") */\nmodule.exports = 1;\n');
    const built = buildBundle(root, ['dist/c.js'], 'b1');
    expect(built.ids).toEqual(['dist/c.js']);
    expect(built.manifest.packages).toEqual([]);
  });

  test('records each package once, with the first module requiring it from each package that does, and each copy of a package apart', () => {
    const root = nestedFixture(false);
    writePackage(root, 'node_modules/third', 'third', '1.0.0', ['other']);
    write(root, 'dist/m.js', '"use strict";\nrequire("third");\nrequire("pkg");\n');
    const shared = buildBundle(root, ['dist/n.js', 'dist/m.js'], 'b1').manifest.packages.map(({ dir, from }) => ({ dir, from }));
    expect(shared).toEqual([
      { dir: 'node_modules/pkg', from: ['dist/n.js', 'node_modules/other/index.js'] },
      { dir: 'node_modules/other', from: ['dist/n.js', 'node_modules/third/index.js'] },
      { dir: 'node_modules/third', from: ['dist/m.js'] },
    ]);
    const nested = buildBundle(nestedFixture(true), ['dist/n.js'], 'b1').manifest.packages.map(({ dir, name, version, from }) => ({ dir, name, version, from }));
    expect(nested).toEqual([
      { dir: 'node_modules/pkg', name: 'pkg', version: '1.0.0', from: ['dist/n.js'] },
      { dir: 'node_modules/other', name: 'other', version: '1.0.0', from: ['dist/n.js'] },
      { dir: 'node_modules/other/node_modules/pkg', name: 'pkg', version: '2.0.0', from: ['node_modules/other/index.js'] },
    ]);
  });

  test("holds each script without its comments and indentation, JSON as it is, and lists the files' own sizes", () => {
    const root = tempDir();
    const text = '"use strict";\n/**\n * What d.js is.\n */\nfunction d() {\n    // the answer\n    return require("./data.json").v;\n}\nexports.d = d;\n';
    write(root, 'dist/d.js', text);
    write(root, 'dist/data.json', '{ "v": 42 }\n');
    const built = buildBundle(root, ['dist/d.js'], 'b1');
    expect(built.script).toContain('function (exports, require, module, __filename, __dirname) {\n"use strict";\nfunction d() {\nreturn require("./data.json").v;\n}\nexports.d = d;\n\n}]');
    expect(built.script).toContain('module.exports = JSON.parse("{ \\"v\\": 42 }\\n");');
    expect(built.manifest.files).toEqual([
      { path: 'dist/d.js', size: Buffer.byteLength(text) },
      { path: 'dist/data.json', size: 12 },
    ]);
  });

  test("leaves to Node a relative path into a package's directory, and refuses to start from a package's file", () => {
    const root = fixture();
    write(root, 'dist/r.js', '"use strict";\nrequire("../node_modules/pkg/index.js");\n');
    const built = buildBundle(root, ['dist/r.js'], 'b1');
    expect(built.ids).toEqual(['dist/r.js']);
    expect(built.manifest.packages).toEqual([]);
    expect(() => buildBundle(root, ['node_modules/pkg/index.js'])).toThrow("node_modules/pkg/index.js: a bundle starts from mountkit's own files");
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
    ['no bundle', (root: string) => fs.rmSync(path.join(root, BUNDLE_FILE)), () => `${BUNDLE_FILE} cannot be read (ENOENT); run npm run build`],
    ['a manifest of another format', (root: string) => fs.writeFileSync(path.join(root, BUNDLE_MANIFEST_FILE), '{"format":2,"packages":[]}'), () => `${BUNDLE_MANIFEST_FILE} is missing or not a manifest of format 3; run npm run build`],
    ['a damaged manifest', (root: string) => fs.writeFileSync(path.join(root, BUNDLE_MANIFEST_FILE), 'null'), () => `${BUNDLE_MANIFEST_FILE} is missing or not a manifest of format 3; run npm run build`],
    [
      'a manifest requiring a package from a module it does not list',
      (root: string) => {
        const file = path.join(root, BUNDLE_MANIFEST_FILE);
        fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"from":["dist/a.js"]', '"from":["dist/x.js"]'));
      },
      () => `${BUNDLE_MANIFEST_FILE} has pkg required from dist/x.js, which it does not list before; run npm run build`,
    ],
    [
      'a bundled file changed since (tsc alone)',
      (root: string) => fs.utimesSync(path.join(root, 'dist/b.js'), new Date(), new Date(Date.now() + 5000)),
      (root: string) => `${root}/dist/b.js changed after ${BUNDLE_FILE} was built; run npm run build`,
    ],
    [
      'a bundled file of another size',
      (root: string) => fs.appendFileSync(path.join(root, 'node_modules/pkg/index.js'), '// edited\n'),
      (root: string) => `${root}/node_modules/pkg/index.js changed after ${BUNDLE_FILE} was built; run npm run build`,
    ],
    [
      'a package updated since',
      (root: string) => fs.writeFileSync(path.join(root, 'node_modules/pkg/package.json'), '{ "name": "pkg", "version": "1.0.1" }'),
      (root: string) => `pkg in ${root}/node_modules/pkg is 1.0.1, the bundle has 1.0.0; run npm run build`,
    ],
    [
      'a package gone',
      (root: string) => fs.rmSync(path.join(root, 'node_modules/pkg'), { recursive: true }),
      (root: string) => `pkg is not installed where ${root}/dist/a.js would find it; the files are loaded one by one`,
    ],
    [
      'a bundled file of a package gone',
      (root: string) => fs.rmSync(path.join(root, 'node_modules/pkg/index.js')),
      (root: string) => `${root}/node_modules/pkg/index.js is missing; the files are loaded one by one`,
    ],
    [
      "another build's bundle (of the same length) with this manifest",
      (root: string) => fs.writeFileSync(path.join(root, BUNDLE_FILE), fs.readFileSync(path.join(root, BUNDLE_FILE), 'latin1').replace(bundleHeader('b1'), bundleHeader('b2'))),
      () => `${BUNDLE_FILE} is not the bundle of build b1 that ${BUNDLE_MANIFEST_FILE} names; run npm run build`,
    ],
    [
      'a truncated bundle',
      (root: string) => fs.writeFileSync(path.join(root, BUNDLE_FILE), fs.readFileSync(path.join(root, BUNDLE_FILE), 'latin1').slice(0, 200)),
      () => expect.stringMatching(new RegExp(`^${BUNDLE_FILE.replace(/\./g, '\\.')} does not compile: .+; run npm run build$`)),
    ],
  ])('refuses %s, saying why', (_what, spoil, reason) => {
    const root = fixture();
    writeBundle(root, true);
    spoil(root);
    expect(probe('open', root)).toEqual({ ok: false, reason: reason(root) });
  });
});

describe('openBundle where npm puts the packages (in a plain Node process)', () => {
  test("a package hoisted to a parent's node_modules (npm's install of a dependency) is found there, as Node finds it", () => {
    const root = fixture();
    writeBundle(root, true);
    const { base, app } = relocate(root, 'installed');
    move(base, 'node_modules/app/node_modules/pkg', 'node_modules/pkg');
    expect(probe('layout', app, 'dist/a.js')).toEqual({ ok: true, pkg: path.join(base, 'node_modules/pkg/index.js'), pkgIsNodes: true, runs: { a: 1, b: 1, pkg: 1 } });
  });

  test('hoisted in a checkout (a workspace): found there, and a bundled file there newer than the bundle is refused', () => {
    const root = fixture();
    writeBundle(root, true);
    const { base, app } = relocate(root, 'workspace');
    move(base, 'packages/app/node_modules/pkg', 'node_modules/pkg');
    expect(probe('layout', app, 'dist/a.js')).toEqual({ ok: true, pkg: path.join(base, 'node_modules/pkg/index.js'), pkgIsNodes: true, runs: { a: 1, b: 1, pkg: 1 } });
    fs.utimesSync(path.join(base, 'node_modules/pkg/index.js'), new Date(), new Date(Date.now() + 5000));
    expect(probe('open', app)).toEqual({ ok: false, reason: `${base}/node_modules/pkg/index.js changed after ${BUNDLE_FILE} was built; run npm run build` });
  });

  test('installed under node_modules, where npm gives each file the time it wrote it: a newer file is taken, one of another size is not', () => {
    const root = fixture();
    writeBundle(root, true);
    const { base, app } = relocate(root, 'installed');
    move(base, 'node_modules/app/node_modules/pkg', 'node_modules/pkg');
    fs.utimesSync(path.join(app, 'dist/a.js'), new Date(), new Date(Date.now() + 5000));
    expect(probe('open', app)).toEqual({ ok: true, cacheRejected: false });
    fs.appendFileSync(path.join(base, 'node_modules/pkg/index.js'), '// edited\n');
    expect(probe('open', app)).toEqual({ ok: false, reason: `${base}/node_modules/pkg/index.js changed after ${BUNDLE_FILE} was built; run npm run build` });
  });

  test('a package nested under the package requiring it, another version than the top-level copy: the nested one, as Node finds it', () => {
    const root = nestedFixture(true);
    writeBundle(root, true, ['dist/n.js']);
    const { base, app } = relocate(root, 'installed');
    move(base, 'node_modules/app/node_modules/other', 'node_modules/other');
    writePackage(base, 'node_modules/pkg', 'pkg', '3.0.0');
    expect(probe('layout', app, 'dist/n.js')).toEqual({
      ok: true,
      pkg: path.join(app, 'node_modules/pkg/index.js'),
      pkgIsNodes: true,
      other: path.join(base, 'node_modules/other/index.js'),
      otherIsNodes: true,
      otherPkg: path.join(base, 'node_modules/other/node_modules/pkg/index.js'),
      otherPkgIsNodes: true,
      runs: { 'pkg@1.0.0': 1, 'other@1.0.0': 1, 'pkg@2.0.0': 1 },
    });
    fs.rmSync(path.join(base, 'node_modules/other/node_modules'), { recursive: true });
    expect(probe('open', app)).toEqual({ ok: false, reason: `pkg in ${base}/node_modules/pkg is 3.0.0, the bundle has 2.0.0; run npm run build` });
  });

  test('a package missing from every node_modules on the way up is refused, naming the module requiring it', () => {
    const root = fixture();
    writeBundle(root, true);
    const { app } = relocate(root, 'installed');
    fs.rmSync(path.join(app, 'node_modules/pkg'), { recursive: true });
    expect(probe('open', app)).toEqual({ ok: false, reason: `pkg is not installed where ${app}/dist/a.js would find it; the files are loaded one by one` });
  });

  test('one bundled copy that Node would find in two places from two requiring packages is refused', () => {
    const root = nestedFixture(false);
    writeBundle(root, true, ['dist/n.js']);
    const { base, app } = relocate(root, 'installed');
    move(base, 'node_modules/app/node_modules/other', 'node_modules/other');
    fs.cpSync(path.join(app, 'node_modules/pkg'), path.join(base, 'node_modules/other/node_modules/pkg'), { recursive: true, preserveTimestamps: true });
    expect(probe('open', app)).toEqual({
      ok: false,
      reason: `pkg is in ${app}/node_modules/pkg for ${app}/dist/n.js but in ${base}/node_modules/other/node_modules/pkg for ${base}/node_modules/other/index.js, and the bundle has one copy; the files are loaded one by one`,
    });
  });

  test('a package reached through a symbolic link (pnpm, npm link) is under its real path, as Node has it', () => {
    const root = fixture();
    writeBundle(root, true);
    const { base, app } = relocate(root, 'installed');
    move(base, 'node_modules/app/node_modules/pkg', 'store/pkg');
    fs.symlinkSync('../store/pkg', path.join(base, 'node_modules/pkg'));
    expect(probe('layout', app, 'dist/a.js')).toEqual({ ok: true, pkg: path.join(base, 'store/pkg/index.js'), pkgIsNodes: true, runs: { a: 1, b: 1, pkg: 1 } });
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
