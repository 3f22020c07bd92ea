import { spawn } from 'child_process';
import { childrenOf, handlesSignal, parentInStat } from '../../src/cli/forward';

const status = (ign: string, cgt: string) => `Name:\tsh\nSigQ:\t0/1\nSigPnd:\t0000000000000000\nSigBlk:\t0000000000000000\nSigIgn:\t${ign}\nSigCgt:\t${cgt}\n`;

describe('whether a process catches or ignores a signal (/proc/PID/status, bit N-1 for signal N)', () => {
  test.each([
    ['neither', status('0000000000000000', '0000000000000000'), 15, false],
    ['caught', status('0000000000000000', '0000000000004000'), 15, true],
    ['ignored', status('0000000000000001', '0000000000000000'), 1, true],
    ['another one caught', status('0000000000000000', '0000000000000200'), 15, false],
    ['signal 64', status('8000000000000000', '0000000000000000'), 64, true],
    ['no such lines', 'Name:\tsh\n', 15, false],
  ])('%s', (_name, text, signum, expected) => expect(handlesSignal(text, signum)).toBe(expected));
});

describe('the parent in /proc/PID/stat (field 4, after the name in parentheses)', () => {
  test.each([
    ['1234 (sh) S 1200 1234 1200 0 -1 4194560', 1200],
    ['1234 (my prog) R 77 1234 1200', 77],
    ['1234 (a) b) (c) S 5 1234', 5],
    ['1234 (sh)', undefined],
  ])('%j', (stat, ppid) => expect(parentInStat(stat)).toBe(ppid));
});

describe('childrenOf', () => {
  test('lists a child this process started, and nothing for a pid that is gone', async () => {
    const child = spawn('sleep', ['5'], { stdio: 'ignore' });
    try {
      expect(childrenOf(process.pid)).toContain(child.pid);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((resolve) => child.on('exit', resolve));
    expect(childrenOf(child.pid!)).toEqual([]);
  });
});
