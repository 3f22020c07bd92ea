import { configFrame, readConfigFrame } from '../../src/cli/config-frame';

describe("config.json's text from a relaunch's starter, after its length", () => {
  test.each([
    ['{}', '2\n{}'],
    ['', '0\n'],
    // The length is in bytes, not characters.
    ['{"a":"é"}', '10\n{"a":"é"}'],
  ])('configFrame(%j) is %j, and reads back whole', (text, frame) => {
    expect(configFrame(text).toString('utf8')).toBe(frame);
    expect(readConfigFrame(configFrame(text))).toEqual({ text });
  });

  test.each([
    ['the length in part', '1', { short: true, got: 0 }],
    ['the length alone', '12\n', { short: true, got: 0, of: 12 }],
    ['part of the text', '12\n{"ociVer', { short: true, got: 8, of: 12 }],
    // A character cut in two counts its bytes.
    ['a character cut in two', '10\n{"a":"\xc3', { short: true, got: 7, of: 10 }],
  ] as const)('the starter ended after %s: short, with the bytes that came', (_what, data, frame) => {
    expect(readConfigFrame(Buffer.from(data, 'latin1'))).toEqual(frame);
  });

  test.each([
    ['a config.json without its length', '{"ociVersion":"1.0.2"}'],
    ['a length that is no count', '+2\n{}'],
    ['a length with a leading zero', '02\n{}'],
    ['a length past a safe integer', '12345678901234567\n{}'],
    ['digits past a safe integer, without a newline', '12345678901234567'],
    ['more than the length', '1\n{}'],
    ['text before a newline', 'x\n'],
  ])('%s: not what a starter sends', (_what, data) => {
    expect(readConfigFrame(Buffer.from(data))).toEqual({ invalid: true });
  });
});
