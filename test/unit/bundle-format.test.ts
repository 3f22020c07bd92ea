import { asciiOnly, bundleScript, isBundleable, literalRequires, moduleFunction, packageDirOf, packageOf } from '../../src/bundle/format';

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
  /** Runs a bundle script the way load.ts does: its completion value called with define(). */
  function defineAll(script: string): Map<string, { deps: Record<string, string>; fn: (...a: unknown[]) => void }> {
    const defs = new Map<string, { deps: Record<string, string>; fn: (...a: unknown[]) => void }>();
    // Indirect eval, as runInThisContext: the script is one function expression.
    const outer = (0, eval)(script) as (define: (id: string, deps: Record<string, string>, fn: (...a: unknown[]) => void) => void) => void;
    outer((id, deps, fn) => defs.set(id, { deps, fn }));
    return defs;
  }

  function run(fn: (...a: unknown[]) => void): Record<string, unknown> {
    const mod = { exports: {} as Record<string, unknown> };
    fn.call(mod.exports, mod.exports, () => undefined, mod, '/f.js', '/');
    return mod.exports;
  }

  test('a module keeps its text, its deps and its own strictness', () => {
    const script = bundleScript([
      moduleFunction('dist/a.js', { './b': 'dist/b.js' }, '"use strict";\nexports.strict = (function () { return this; })() === undefined;'),
      moduleFunction('dist/b.js', {}, 'exports.strict = (function () { return this; })() === undefined;'),
    ]);
    const defs = defineAll(script);
    expect([...defs.keys()]).toEqual(['dist/a.js', 'dist/b.js']);
    expect(defs.get('dist/a.js')!.deps).toEqual({ './b': 'dist/b.js' });
    expect(run(defs.get('dist/a.js')!.fn).strict).toBe(true);
    expect(run(defs.get('dist/b.js')!.fn).strict).toBe(false);
  });

  test('JSON becomes module.exports, a hashbang line is dropped', () => {
    const defs = defineAll(bundleScript([moduleFunction('p/package.json', {}, '{ "version": "1.2.3" }\n'), moduleFunction('bin/x.js', {}, '#!/usr/bin/env node\nexports.ok = 1;')]));
    expect(run(defs.get('p/package.json')!.fn)).toEqual({ version: '1.2.3' });
    expect(run(defs.get('bin/x.js')!.fn)).toEqual({ ok: 1 });
  });
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

  test('a bundle script is ASCII', () => {
    expect(bundleScript([moduleFunction('a.js', {}, '// \u00a7\nexports.x = "\u00e8";')])).toMatch(/^[\x00-\x7f]*$/);
  });
});
