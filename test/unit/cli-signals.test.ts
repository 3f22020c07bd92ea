import { STARTER_SIGIGN_ENV, ignoredSignals, starterIgnoredSignals } from '../../src/cli/signals';
import { ConfigError } from '../../src/core/errors';

describe('the signals a starter ignores (SigIgn of /proc/PID/status, bit N-1 for signal N)', () => {
  test.each([
    ['0000000000000000', []],
    ['0000000000000003', [1, 2]],
    ['0000000000000006', [2, 3]],
    // SIGPIPE (13) and SIGXFSZ (25) start at their defaults, as under runc.
    ['0000000001001000', []],
    ['0000000001001001', [1]],
    ['8000000000000000', [64]],
    ['0000000080000000', [32]],
    ['1', [1]],
  ])('%s', (mask, expected) => expect(ignoredSignals(mask)).toEqual(expected));

  test('none given: undefined (execve keeps the process own dispositions)', () => {
    expect(starterIgnoredSignals({})).toBeUndefined();
  });

  test('given', () => expect(starterIgnoredSignals({ [STARTER_SIGIGN_ENV]: '0000000000000003' })).toEqual([1, 2]));

  test.each(['', 'xyz', '0x3', '00000000000000003', '00000000 00000003'])('%j is refused', (mask) => {
    expect(() => starterIgnoredSignals({ [STARTER_SIGIGN_ENV]: mask })).toThrow(ConfigError);
    expect(() => starterIgnoredSignals({ [STARTER_SIGIGN_ENV]: mask })).toThrow(
      `MOUNTKIT_STARTER_SIGIGN ${JSON.stringify(mask)}: must be a signal mask of 1 to 16 hex digits, as SigIgn in /proc/PID/status`,
    );
  });
});
