import { spawn, spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { Worker } from 'worker_threads';
import { PASSED_SIGNALS, childrenOf, forkingShellEnded, handlesSignal, holdSignals, maskHas, parentInStat, passSignals, startTimeInStat } from '../../src/cli/forward';
import type { ContainerProcess } from '../../src/cli/container-process';

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

describe("whether the shell that forked PID 1 has ended: the pid it passed is no longer PID 1's parent in /proc/self/stat", () => {
  const stat = (ppid: number) => `1850 (node) S ${ppid} 1850 1790 0 -1 4194560`;
  test.each([
    ['still its parent', '1849', stat(1849), false],
    ['reparented to the reaper (init)', '1849', stat(1), true],
    ['reparented to a subreaper', '1849', stat(1790), true],
    ['nothing passed (not started by the shell)', undefined, stat(1), false],
    ["passed empty (/proc did not show the shell's pid)", '', stat(1), false],
    ['passed something else than a pid', '12x', stat(1), false],
    ['passed 0', '0', stat(1), false],
    ['/proc/self/stat unreadable', '1849', undefined, false],
    ['/proc/self/stat without a parent field', '1849', '1850 (node)', false],
  ])('%s', (_name, passed, own, ended) => expect(forkingShellEnded(passed, own)).toBe(ended));
});

describe('the start time in /proc/PID/stat (field 22, the 20th after the name in parentheses)', () => {
  const rest = (start: string) => `S 1200 1234 1200 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 ${start} 2400000 200 18446744073709551615`;
  test.each([
    [`1234 (sh) ${rest('98765')}\n`, '98765'],
    [`1234 (my (odd) prog) ${rest('5')}`, '5'],
    ['1234 (sh) S 1200 1234', undefined],
    [`1234 (sh) ${rest('x')}`, undefined],
  ])('%j', (stat, start) => expect(startTimeInStat(stat)).toBe(start));

  test("this process's, read twice, is the same", () => {
    const read = () => startTimeInStat(readFileSync('/proc/self/stat', 'utf8'));
    expect(read()).toMatch(/^[0-9]+$/);
    expect(read()).toBe(read());
  });
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

  test("lists a child another thread of this process started: its parent is that thread, listed under the thread's own task", async () => {
    const worker = new Worker(
      `const { spawn } = require('child_process'); const { parentPort } = require('worker_threads');
       const c = spawn('sleep', ['5'], { stdio: 'ignore' }); parentPort.postMessage(c.pid);
       parentPort.on('message', () => { c.kill('SIGKILL'); c.on('exit', () => process.exit(0)); });`,
      { eval: true },
    );
    const pid = await new Promise<number>((resolve) => worker.once('message', resolve));
    try {
      expect(readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').split(' ')).not.toContain(String(pid));
      expect(childrenOf(process.pid)).toContain(pid);
    } finally {
      worker.postMessage('end');
      await new Promise((resolve) => worker.once('exit', resolve));
    }
  });
});

describe('maskHas (a SigIgn or SigCgt mask of /proc/PID/status: hex, bit N-1 for signal N)', () => {
  test.each<[string, number, boolean]>([
    ['0000000000000003', 1, true],
    ['0000000000000003', 2, true],
    ['0000000000000003', 3, false],
    ['8000000000000000', 64, true],
    ['0000000080000000', 32, true],
    ['1', 1, true],
  ])('%s has %d: %s', (mask, signum, expected) => expect(maskHas(mask, signum)).toBe(expected));
});

describe('holdSignals: the signals passed on, taken while the relaunch is being prepared', () => {
  /** Those Node ignores from its start: release leaves them a listener that does nothing (below). */
  const NODE_IGNORED: readonly NodeJS.Signals[] = ['SIGPIPE', 'SIGXFSZ'];
  const counts = () => PASSED_SIGNALS.filter((sig) => !NODE_IGNORED.includes(sig)).map((sig) => process.listenerCount(sig));

  test("SIGPIPE and SIGXFSZ, which Node ignores, do nothing still once released, where libuv gave them their default action (ending the process: a run that failed before its relaunch, with stderr a pipe whose reader had gone, ended by SIGPIPE); a second hold adds no listener more", () => {
    // In a Node of its own: this one's signals are what the test files before this one left.
    const script = [
      "const { readFileSync } = require('fs');",
      "const { handlesSignal, holdSignals } = require('./src/cli/forward');",
      // SigIgn or SigCgt (a listener is a handler) of SIGPIPE (13) and SIGXFSZ (25).
      "const handled = () => [13, 25].map((n) => handlesSignal(readFileSync('/proc/self/status', 'utf8'), n));",
      "const listeners = () => ['SIGPIPE', 'SIGXFSZ'].map((sig) => process.listenerCount(sig));",
      'const seen = [handled()];',
      'holdSignals().release();',
      'seen.push(handled(), listeners());',
      'holdSignals().release();',
      'seen.push(handled(), listeners());',
      'process.stdout.write(JSON.stringify(seen));',
    ].join('\n');
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'helpers', 'ts-register.js'), '-e', script], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual([[true, true], [true, true], [1, 1], [true, true], [1, 1]]);
  });

  test('each one that comes is kept, in the order they came, and given once; release takes its listeners off again', () => {
    const before = counts();
    const held = holdSignals();
    expect(counts()).toEqual(before.map((n) => n + 1));
    // What Node's signal watcher does when one comes.
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGHUP', 'SIGHUP');
    process.emit('SIGTERM', 'SIGTERM');
    expect(held.release()).toEqual(['SIGTERM', 'SIGHUP', 'SIGTERM']);
    expect(counts()).toEqual(before);
    process.emit('SIGINT', 'SIGINT');
    expect(held.release()).toEqual([]);
  });

  test('none came: release gives none', () => {
    expect(holdSignals().release()).toEqual([]);
  });
});

describe('passSignals', () => {
  test('listens for every passed signal until it is stopped, then leaves none of its listeners on (a signal without a listener has its default action again)', () => {
    const before = PASSED_SIGNALS.map((sig) => process.listenerCount(sig));
    // No signal comes: the container is never asked anything.
    const stop = passSignals({} as ContainerProcess, process.pid);
    expect(PASSED_SIGNALS.map((sig) => process.listenerCount(sig))).toEqual(before.map((n) => n + 1));
    stop();
    expect(PASSED_SIGNALS.map((sig) => process.listenerCount(sig))).toEqual(before);
  });
});
