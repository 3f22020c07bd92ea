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
  test.each<[number, bigint]>([
    [0, 0n],
    [1024, 1024n],
    [2 ** 53, 2n ** 53n],
    [18446744073709551615, RLIM_INFINITY],
    [2 ** 64, RLIM_INFINITY],
  ])('%d -> %s', (n, value) => expect(rlimitValue(n)).toBe(value));
});
