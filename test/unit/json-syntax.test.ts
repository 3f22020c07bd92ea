import fc from 'fast-check';
import { parseErrorAt, syntaxErrorOffset } from '../../src/core/config/json';

describe('syntaxErrorOffset: where a text stops being JSON (RFC 8259)', () => {
  test.each([
    ['{}', undefined],
    [' [1, -0.5e+3, "a\\"\\u00e9", true, false, null, {"k": []}] \n', undefined],
    ['{"root": {"path": "rootfs"},}', 28],
    ['{\n  "root": {\n    "path" "rootfs"\n  }\n}', 25],
    ['{"root"', 7],
    ['rootfs', 0],
    ['{"terminal": True}', 13],
    ['{"a": tru\n}', 9],
    ['tru', 3],
    ['nul1', 3],
    ['[1.]', 3],
    ['1e+', 3],
    ['-', 1],
    ['-x', 1],
    ['"\\u12G4"', 5],
    ['[01]', 2],
    ['{"a": 1} {}', 9],
    ['[1, 2', 5],
    ['[1,]', 3],
    ['{"a": 01}', 7],
    ['{"a": "tab\there"}', 10],
    ['{"a": "\\x"}', 8],
    ['{"a": "\\u12g4"}', 11],
    ['{"a": "open', 11],
    ['{1: 2}', 1],
    ['[' .repeat(100000) + ']'.repeat(100000), undefined],
    ['['.repeat(100000), 100000],
  ])('%j -> %j', (text, offset) => {
    expect(syntaxErrorOffset(text)).toBe(offset);
  });

  test('agrees with JSON.parse on any JSON value, and on any text, valid or not', () => {
    fc.assert(fc.property(fc.jsonValue(), (v) => syntaxErrorOffset(JSON.stringify(v, null, 1)) === undefined));
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1)))), (text) => {
        let valid = true;
        try {
          JSON.parse(text);
        } catch {
          valid = false;
        }
        return (syntaxErrorOffset(text) === undefined) === valid;
      }),
      { numRuns: 2000 },
    );
  });
});

describe('parseErrorAt: one line naming the line, the column and what is there', () => {
  test.each([
    ['{"terminal": True,\n "x": 1}', ' at line 1, column 14: unexpected "T"'],
    ['{\n  "a": tru\n}', ' at line 2, column 11: unexpected "\\n"'],
    ['{"a": 1} {}', ' at line 1, column 10: unexpected "{"'],
    ['{"root"', ' at line 1, column 8: the text ends there'],
    ['\ufffe{', ' at line 1, column 1: unexpected "\ufffe"'],
    ['{"a": "\u0001"}', ' at line 1, column 8: unexpected "\\u0001"'],
  ])('%j', (text, where) => {
    expect(parseErrorAt(text, 'ignored')).toBe(where);
  });
});
