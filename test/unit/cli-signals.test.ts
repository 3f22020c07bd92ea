import { readFileSync } from 'fs';
import { ignoredSignals, starterIgnoredSignals, STARTER_PID_ENV } from '../../src/cli/signals';
import { ConfigError } from '../../src/core/errors';

const status = (mask: string) => `Name:\tsh\nSigBlk:\t0000000000000000\nSigIgn:\t${mask}\nSigCgt:\t0000000000010002\n`;

describe('the signals a starter ignores (/proc/PID/status SigIgn, bit N-1 for signal N)', () => {
  test.each([
    ['0000000000000000', []],
    ['0000000000000003', [1, 2]],
    ['0000000000000006', [2, 3]],
    // SIGPIPE (13) and SIGXFSZ (25) are Node's own, left out.
    ['0000000001001000', []],
    ['0000000001001001', [1]],
    ['8000000000000000', [64]],
    ['0000000080000000', [32]],
  ])('%s', (mask, expected) => expect(ignoredSignals(status(mask))).toEqual(expected));

  test('no SigIgn line', () => expect(ignoredSignals('Name:\tsh\n')).toBeUndefined());

  test('no starter named: undefined (the process keeps its own dispositions)', () => {
    expect(starterIgnoredSignals({})).toBeUndefined();
  });

  test("this process as the starter: what its status says", () => {
    expect(starterIgnoredSignals({ [STARTER_PID_ENV]: String(process.pid) })).toEqual(
      ignoredSignals(readFileSync('/proc/self/status', 'utf8')),
    );
  });

  test.each([
    ['abc', 'MOUNTKIT_STARTER_PID "abc": must be a process id'],
    ['0', 'MOUNTKIT_STARTER_PID "0": must be a process id'],
    ['999999999', 'MOUNTKIT_STARTER_PID "999999999": /proc/999999999/status cannot be read (ENOENT)'],
  ])('%s is refused', (pid, message) => {
    expect(() => starterIgnoredSignals({ [STARTER_PID_ENV]: pid })).toThrow(ConfigError);
    expect(() => starterIgnoredSignals({ [STARTER_PID_ENV]: pid })).toThrow(message);
  });
});
