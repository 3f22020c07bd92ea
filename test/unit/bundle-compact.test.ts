import { compactModule } from '../../src/bundle/compact';

/** What a module's text leaves in `exports` when run as a function body. */
function run(text: string): unknown {
  const exports: Record<string, unknown> = {};
  new Function('exports', text)(exports);
  return exports;
}

describe('compactModule', () => {
  test.each([
    ['// head\nconst x = 1; /* b */ const y = 2;', '\nconst x = 1; const y = 2;'],
    ['/**\n * doc\n */\nfunction f() {\n    return 1;\n}\n', '\nfunction f() {\nreturn 1;\n}\n'],
    ['"use strict";\nexports.a = 1;', '"use strict";\nexports.a = 1;'],
    ['s = "a // b"; t = \'/* c */\';', 's = "a // b"; t = \'/* c */\';'],
    ['t = `one\n    // two\n  ${ a /* c */ } end`;', 't = `one\n    // two\n  ${ a } end`;'],
    ['r = /a\\/*b/g; // x', 'r = /a\\/*b/g; '],
    ['x = a / b / c; // y\nz = 1', 'x = a / b / c;\nz = 1'],
    ['a = b - -c;', 'a = b - -c;'],
    ['if (a) {\n\t\tb();\n}', 'if (a) {\nb();\n}'],
    ['x = 1 /* one line */ + 2', 'x = 1 + 2'],
    ['', ''],
  ])('%j -> %j', (text, compact) => expect(compactModule(text)).toBe(compact));

  // A line terminator in the gap is what automatic semicolon insertion reads, also when it is inside a comment (ECMA-262 12.10).
  test.each([
    ['return across a comment holding a line break', 'exports.r = (function () { return /* gone\n */ 1; })();'],
    ['postfix ++ before a line break', 'let a = 1, b = 1;\na\n++b;\nexports.r = [a, b];'],
    ['a template keeping its spaces', 'exports.r = `x\n    y ${1 + /* gone */ 2}  z`;'],
    ['a regular expression and a division on one line', 'const a = 8, b = 2;\nexports.r = [a / b / 2, /\\/\\*x/.test("/*x")]; // gone'],
    ['a string holding comment marks', 'exports.r = "// not /* a */ comment";'],
    ['a comment as the last line, without a newline', 'exports.r = 1;\n// gone'],
  ])('keeps what the module does: %s', (_name, text) => {
    const compact = compactModule(text);
    expect(compact).not.toContain('gone');
    expect(run(compact)).toEqual(run(text));
  });

  // In a script (a CommonJS module, a Function body) `<!--` comments out the rest of its line, and `-->` a line it starts; the parser reads operators there.
  test.each([
    ['<!-- before a line the parser takes for a comment', 'exports.y = 0;\nexports.x = 1 <!-- a /*\nexports.y = 2; // */\n', { x: 1, y: 2 }],
    ['--> at the start of a line', 'exports.y = 0; /*\n*/ --> a /*\nexports.y = 2; // */\n', { y: 2 }],
  ])('a module that may hold an HTML-like comment is kept as it is: %s', (_name, text, exported) => {
    expect(run(text)).toEqual(exported);
    expect(run(compactModule(text))).toEqual(exported);
    expect(compactModule(text)).toBe(text);
  });
});
