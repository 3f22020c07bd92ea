import { asciiOnly, bundleHeader, bundleScript, isBundleManifest, isBundleable, literalRequires, moduleEntry, packageDirOf, packageNameOf, packageOf } from '../../src/bundle/format';

describe('literalRequires', () => {
  test.each([
    ['const a = require("./a");', ['./a']],
    ["const a = require('./a');", ['./a']],
    ['require("fs"); require("fs"); require("tslib")', ['fs', 'tslib']],
    ['const x = require( "./spaced" )', ['./spaced']],
    ['require(resolved); require(`./tpl`); require("a" + b)', []],
    ['require.resolve("./not-a-load"); myrequire("./other")', []],
    ['koffi = require("koffi"); // lazily, inside a function', ['koffi']],
  ])('%j -> %j', (text, names) => expect(literalRequires(text)).toEqual(names));
});

describe('packageOf', () => {
  test.each([
    ['tsyringe', 'tsyringe'],
    ['tslib/tslib.es6.js', 'tslib'],
    ['@koromix/koffi-linux-x64', '@koromix/koffi-linux-x64'],
    ['@scope/pkg/sub/file.js', '@scope/pkg'],
    ['./local', undefined],
    ['../up', undefined],
    ['/abs/file.js', undefined],
  ])('%j -> %j', (name, pkg) => expect(packageOf(name)).toBe(pkg));
});

describe('packageDirOf', () => {
  test.each([
    ['dist/cli/main.js', undefined],
    ['node_modules/tsyringe/dist/cjs/index.js', 'node_modules/tsyringe'],
    ['node_modules/@koromix/koffi-linux-x64/index.js', 'node_modules/@koromix/koffi-linux-x64'],
    ['node_modules/a/node_modules/b/index.js', 'node_modules/a/node_modules/b'],
  ])('%j -> %j', (id, dir) => expect(packageDirOf(id)).toBe(dir));
});

describe('isBundleable', () => {
  test.each([
    ['a.js', true],
    ['a.cjs', true],
    ['package.json', true],
    ['koffi.node', false],
    ['index.mjs', false],
  ])('%j -> %j', (file, ok) => expect(isBundleable(file)).toBe(ok));
});

describe('the bundle script', () => {
  type Fn = (...a: unknown[]) => void;
  /** Runs a bundle script the way load.ts does: its value is the array of entries. */
  function entries(script: string): Map<string, { deps: Record<string, string>; fn: Fn }> {
    // Indirect eval, as runInThisContext: the script's value is its one array expression.
    const list = (0, eval)(script) as [string, Record<string, string>, Fn][];
    return new Map(list.map(([id, deps, fn]) => [id, { deps, fn }]));
  }

  function run(fn: Fn): Record<string, unknown> {
    const mod = { exports: {} as Record<string, unknown> };
    fn.call(mod.exports, mod.exports, () => undefined, mod, '/f.js', '/');
    return mod.exports;
  }

  test('starts with the build id; a module keeps its text, its deps and its own strictness', () => {
    const script = bundleScript('b1', [
      moduleEntry('dist/a.js', { './b': 'dist/b.js' }, '"use strict";\nexports.strict = (function () { return this; })() === undefined;'),
      moduleEntry('dist/b.js', {}, 'exports.strict = (function () { return this; })() === undefined;'),
    ]);
    expect(script.startsWith(bundleHeader('b1'))).toBe(true);
    expect(bundleHeader('b1')).toBe('// mountkit CLI bundle b1\n');
    const defs = entries(script);
    expect([...defs.keys()]).toEqual(['dist/a.js', 'dist/b.js']);
    expect(defs.get('dist/a.js')!.deps).toEqual({ './b': 'dist/b.js' });
    expect(run(defs.get('dist/a.js')!.fn).strict).toBe(true);
    expect(run(defs.get('dist/b.js')!.fn).strict).toBe(false);
  });

  test('no name of the bundle is in scope of a module (a UMD header finds no define)', () => {
    const defs = entries(bundleScript('b1', [moduleEntry('dist/u.js', {}, 'exports.define = typeof define;')]));
    expect(run(defs.get('dist/u.js')!.fn)).toEqual({ define: 'undefined' });
  });

  test('JSON is parsed as JSON (a __proto__ key stays a key; JavaScript that is not JSON fails); a hashbang line is dropped', () => {
    const defs = entries(
      bundleScript('b1', [
        moduleEntry('p/package.json', {}, '\uFEFF{ "version": "1.2.3", "__proto__": { "x": 1 } }\n'),
        moduleEntry('p/bad.json', {}, '{ "a": 1, }'),
        moduleEntry('bin/x.js', {}, '#!/usr/bin/env node\nexports.ok = 1;'),
      ]),
    );
    const pkg = run(defs.get('p/package.json')!.fn);
    expect(pkg).toEqual(JSON.parse('{ "version": "1.2.3", "__proto__": { "x": 1 } }'));
    expect(Object.getPrototypeOf(pkg)).toBe(Object.prototype);
    expect(() => run(defs.get('p/bad.json')!.fn)).toThrow(SyntaxError);
    expect(run(defs.get('bin/x.js')!.fn)).toEqual({ ok: 1 });
  });
});

describe('packageNameOf', () => {
  test.each([
    ['node_modules/tsyringe', 'tsyringe'],
    ['node_modules/@koromix/koffi-linux-x64', '@koromix/koffi-linux-x64'],
    ['node_modules/a/node_modules/b', 'b'],
    ['node_modules/a/node_modules/@s/b', '@s/b'],
  ])('%j -> %j', (dir, name) => expect(packageNameOf(dir)).toBe(name));
});

describe('isBundleManifest', () => {
  const pkg = { dir: 'node_modules/p', name: 'p', version: '1.0.0', from: ['dist/a.js'], files: [{ path: 'index.js', size: 10 }] };
  const good = { format: 3, id: 'b1', files: [{ path: 'dist/a.js', size: 0 }], packages: [pkg] };
  test.each([
    [good, true],
    [{ ...good, packages: [] }, true],
    [null, false],
    [{ ...good, format: 2 }, false],
    [{ ...good, id: 3 }, false],
    [{ ...good, files: 'dist/a.js' }, false],
    [{ ...good, files: ['dist/a.js'] }, false],
    [{ ...good, files: [{ path: 'dist/a.js' }] }, false],
    [{ ...good, files: [{ path: 'dist/a.js', size: -1 }] }, false],
    [{ ...good, files: [{ path: 'dist/a.js', size: 1.5 }] }, false],
    [{ ...good, packages: [{ dir: 'x', version: '1.0.0' }] }, false],
    [{ ...good, packages: [{ ...pkg, name: undefined }] }, false],
    [{ ...good, packages: [{ ...pkg, from: [] }] }, false],
    [{ ...good, packages: [{ ...pkg, from: 'dist/a.js' }] }, false],
    [{ ...good, packages: [{ ...pkg, files: [{ path: 'index.js', size: '10' }] }] }, false],
    [{ format: 3, id: 'b1', files: [] }, false],
  ])('%j -> %j', (v, ok) => expect(isBundleManifest(v)).toBe(ok));
});

describe('asciiOnly', () => {
  test.each([
    ['plain', 'plain'],
    ['// RFC 4122 \u00a7 4.4', '// RFC 4122 \\u00a7 4.4'],
    ['"Martign\u00e8ne"', '"Martign\\u00e8ne"'],
    ['"\u{1F600}"', '"\\ud83d\\ude00"'],
  ])('%j -> %j', (text, ascii) => expect(asciiOnly(text)).toBe(ascii));

  test('means the same text in a string literal and a regular expression', () => {
    const source = 'exports.s = "caf\u00e9 \u{1F600}"; exports.r = /^caf\u00e9$/.test("caf\u00e9");';
    const run = (text: string) => {
      const mod = { exports: {} as Record<string, unknown> };
      new Function('exports', text)(mod.exports);
      return mod.exports;
    };
    expect(/^[\x00-\x7f]*$/.test(asciiOnly(source))).toBe(true);
    expect(run(asciiOnly(source))).toEqual(run(source));
    expect(run(source)).toEqual({ s: 'caf\u00e9 \u{1F600}', r: true });
  });

  test('refuses a backslash before a character outside ASCII, whose escape would change its meaning', () => {
    expect(() => asciiOnly('x = "ab\\\u00e9"')).toThrow('a backslash before a character outside ASCII at offset 7 cannot be kept as it is');
  });

  test.each([['\u2028'], ['\u2029'], ['\ufeff'], ['\u00a0'], ['\u3000']])('refuses %j, whose escape would not mean the same', (c) => {
    expect(() => asciiOnly(`// a${c}b`)).toThrow(`U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at offset 4 (a line terminator or white space) cannot be written as an escape`);
  });

  test('a bundle script is ASCII', () => {
    expect(bundleScript('b1', [moduleEntry('a.js', {}, '// \u00a7\nexports.x = "\u00e8";')])).toMatch(/^[\x00-\x7f]*$/);
  });
});
