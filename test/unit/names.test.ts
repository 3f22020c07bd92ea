import * as fc from 'fast-check';
import { decodeName, encodeName, wellFormed } from '../../src/core/names';

const bytes = (...b: number[]) => Buffer.from(b);
const asBytes = (encoded: string | Buffer) => (typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : encoded);

describe('decodeName', () => {
  test.each<[string, Buffer, string]>([
    ['empty', bytes(), ''],
    ['ASCII', Buffer.from('/etc/hosts'), '/etc/hosts'],
    ['two-, three- and four-byte UTF-8', Buffer.from('é€😀'), 'é€😀'],
    ['U+FFFD written as its bytes', bytes(0xef, 0xbf, 0xbd), '\ufffd'],
    ['a lone byte 0xff', bytes(0x66, 0xff), 'f\udcff'],
    ['a lone byte 0xfe as a whole name', bytes(0xfe), '\udcfe'],
    ['a lone continuation byte', bytes(0x80), '\udc80'],
    ['a cut two-byte sequence', bytes(0xc3, 0x41), '\udcc3A'],
    ['a cut three-byte sequence, then ASCII', bytes(0xe2, 0x82, 0x41), '\udce2\udc82A'],
    ['a cut sequence at the end', bytes(0x61, 0xf0, 0x9f, 0x98), 'a\udcf0\udc9f\udc98'],
    ['an overlong "/" (C0 AF)', bytes(0xc0, 0xaf), '\udcc0\udcaf'],
    ['an overlong three-byte form (E0 80 AF)', bytes(0xe0, 0x80, 0xaf), '\udce0\udc80\udcaf'],
    ['a surrogate written in UTF-8 (ED A0 80)', bytes(0xed, 0xa0, 0x80), '\udced\udca0\udc80'],
    ['past U+10FFFF (F4 90 80 80)', bytes(0xf4, 0x90, 0x80, 0x80), '\udcf4\udc90\udc80\udc80'],
    ['an invalid byte between valid characters', bytes(0xc3, 0xa9, 0xff, 0xc3, 0xa9), 'é\udcffé'],
    ['Latin-1 "h\\377ome"', Buffer.from('/h\xffome', 'latin1'), '/h\udcffome'],
  ])('%s', (_what, input, text) => {
    expect(decodeName(input)).toBe(text);
    expect(asBytes(encodeName(text))).toEqual(input);
  });

  test('a Uint8Array view decodes only its own bytes', () => {
    const whole = bytes(0x61, 0xff, 0x62, 0xfe);
    expect(decodeName(new Uint8Array(whole.buffer, whole.byteOffset + 1, 2))).toBe('\udcffb');
  });
});

describe('encodeName', () => {
  test.each<[string, string]>([
    ['ASCII', '/etc/hosts'],
    ['valid UTF-8 with U+FFFD', '/a\ufffdb'],
    ['a surrogate pair whose low half lies in U+DC80-U+DCFF (U+1F4A9)', '/\ud83d\udca9'],
  ])('%s: the string itself', (_what, name) => expect(encodeName(name)).toBe(name));

  test.each<[string, string, Buffer]>([
    ['one escaped byte', 'f\udcff', bytes(0x66, 0xff)],
    ['escapes around a pair', '\udcfe\ud83d\udca9\udc80', Buffer.concat([bytes(0xfe), Buffer.from('💩'), bytes(0x80)])],
    ['other lone surrogates beside an escape: EF BF BD, as V8 writes them', '\ud800a\udc7f\udcff', bytes(0xef, 0xbf, 0xbd, 0x61, 0xef, 0xbf, 0xbd, 0xff)],
  ])('%s: its bytes', (_what, name, expected) => expect(encodeName(name)).toEqual(expected));

  test('gives back every byte sequence decodeName was given', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (input) => {
        expect(asBytes(encodeName(decodeName(input)))).toEqual(Buffer.from(input));
      }),
      { numRuns: 5000 },
    );
  });

  test('gives back byte sequences built from UTF-8 pieces and stray bytes', () => {
    const piece = fc.oneof(fc.string({ unit: 'grapheme' }).map((s) => Buffer.from(s)), fc.uint8Array({ minLength: 1, maxLength: 3 }).map((b) => Buffer.from(b)));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 8 }), (pieces) => {
        const input = Buffer.concat(pieces);
        expect(asBytes(encodeName(decodeName(input)))).toEqual(input);
      }),
      { numRuns: 3000 },
    );
  });

  test('valid UTF-8 decodes as Node decodes it, and encodes as the string itself', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        expect(decodeName(Buffer.from(text))).toBe(text);
        expect(encodeName(text)).toBe(text);
      }),
    );
  });
});

describe('wellFormed', () => {
  test.each<[string, string]>([
    ['/a\ud800b', '/a\ufffdb'],
    ['/a\udcffb', '/a\ufffdb'],
    ['\udc80\ud800', '\ufffd\ufffd'],
    ['/\ud83d\udca9', '/\ud83d\udca9'],
    ['/plain', '/plain'],
  ])('%j -> %j', (input, expected) => expect(wellFormed(input)).toBe(expected));
});
