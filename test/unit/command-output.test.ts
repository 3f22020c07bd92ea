import { OUTPUT_KEPT, keptOutput } from '../../src/core/command-output';

const half = OUTPUT_KEPT / 2;

/** keptOutput of `bytes`, with the reads it made ([offset, length]). */
function kept(bytes: Buffer): { text: string; reads: [number, number][] } {
  const reads: [number, number][] = [];
  const text = keptOutput(bytes.length, (offset, length) => {
    reads.push([offset, length]);
    return bytes.subarray(offset, offset + length);
  });
  return { text, reads };
}

describe('keptOutput: a command output of any size as a result keeps it', () => {
  const euro = Buffer.from('€'); // e2 82 ac
  const clef = Buffer.from('𝄞'); // f0 9d 84 9e
  test.each<[string, Buffer, string, [number, number][]]>([
    ['empty: one read of nothing', Buffer.alloc(0), '', [[0, 0]]],
    ['up to OUTPUT_KEPT: whole, in one read', Buffer.from(`${'a'.repeat(OUTPUT_KEPT - 1)}\n`), `${'a'.repeat(OUTPUT_KEPT - 1)}\n`, [[0, OUTPUT_KEPT]]],
    [
      'one byte more: the first and last halves, with the byte between them left out',
      Buffer.from(`${'h'.repeat(half)}x${'t'.repeat(half)}`),
      `${'h'.repeat(half)}\n[1 bytes left out]\n${'t'.repeat(half)}`,
      [
        [0, half],
        [half + 1, half],
      ],
    ],
    [
      'far more: only the two halves are read',
      Buffer.concat([Buffer.from('start\n'), Buffer.alloc(10 * OUTPUT_KEPT, 'm'), Buffer.from('the error\n')]),
      `start\n${'m'.repeat(half - 6)}\n[${10 * OUTPUT_KEPT + 16 - OUTPUT_KEPT} bytes left out]\n${'m'.repeat(half - 10)}the error\n`,
      [
        [0, half],
        [10 * OUTPUT_KEPT + 16 - half, half],
      ],
    ],
    [
      'a character the head cuts (2 of its 3 bytes kept) is left out whole',
      Buffer.concat([Buffer.alloc(half - 2, 'h'), euro, Buffer.alloc(half, 't')]),
      `${'h'.repeat(half - 2)}\n[3 bytes left out]\n${'t'.repeat(half)}`,
      [
        [0, half],
        [half + 1, half],
      ],
    ],
    [
      'a character the tail cuts (its last 2 of 4 bytes) is left out whole',
      Buffer.concat([Buffer.alloc(half, 'h'), clef, Buffer.alloc(half - 2, 't')]),
      `${'h'.repeat(half)}\n[4 bytes left out]\n${'t'.repeat(half - 2)}`,
      [
        [0, half],
        [half + 2, half],
      ],
    ],
    [
      'a character ending the head exactly, and one starting the tail exactly, are kept',
      Buffer.concat([Buffer.alloc(half - 3, 'h'), euro, Buffer.from('x'), clef, Buffer.alloc(half - 4, 't')]),
      `${'h'.repeat(half - 3)}€\n[1 bytes left out]\n𝄞${'t'.repeat(half - 4)}`,
      [
        [0, half],
        [half + 1, half],
      ],
    ],
  ])('%s', (_what, bytes, text, reads) => {
    const r = kept(bytes);
    expect(r.text).toBe(text);
    expect(r.reads).toEqual(reads);
  });
});
