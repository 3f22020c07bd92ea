import { RLIMITS, RLIM_INFINITY, rlimitValue } from '../../src/core/rlimits';

describe('rlimit names and numbers (asm-generic/resource.h)', () => {
  test.each([
    ['RLIMIT_CPU', 0],
    ['RLIMIT_CORE', 4],
    ['RLIMIT_NPROC', 6],
    ['RLIMIT_NOFILE', 7],
    ['RLIMIT_RTTIME', 15],
  ])('%s is %i', (name, resource) => expect(RLIMITS.get(name)).toBe(resource));

  test('16 of them, numbered without a gap', () => {
    expect([...RLIMITS.values()]).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });
});

describe('rlimitValue', () => {
  test.each<[number, bigint | undefined]>([
    [0, 0n],
    [1024, 1024n],
    [2 ** 53 - 1, 2n ** 53n - 1n],
    // Past 2^53 - 1 JSON has rounded the number: 9223372036854775807 reads as 2^63.
    [2 ** 53, undefined],
    [9223372036854775807, undefined],
    [1e20, undefined],
    [-1, undefined],
    // RLIM_INFINITY as written.
    [18446744073709551615, RLIM_INFINITY],
  ])('%d -> %s', (n, value) => expect(rlimitValue(n)).toBe(value));
});
