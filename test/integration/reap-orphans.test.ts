/**
 * cli/orphans.ts reapOrphans with the real port in this process, a child subreaper for
 * the test (prctl(2) PR_SET_CHILD_SUBREAPER, unset after it): a sleep a shell put in the
 * background comes to this process when the shell ends, and is reaped at its SIGCHLD
 * (waitid(2) WNOHANG); a child Node started meanwhile keeps its status for libuv, and
 * Node runs its 'exit' with it; the listener gone at the stop, that Node ends on its own.
 */
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { readFileSync } from 'fs';
import { recordSpawned } from '../../src/core/node-children';
import { childrenOf } from '../../src/cli/forward';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The state letter of /proc/PID/stat (field 3), undefined once the process is gone. */
function stateOf(pid: number): string | undefined {
  try {
    return /\) (\S)/.exec(readFileSync(`/proc/${pid}/stat`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
}

/** Starts a shell (recorded as Node's) that puts `sleep SECONDS` in the background and ends; resolves to the sleep's pid once the shell has ended. */
async function orphan(seconds: number): Promise<number> {
  const sh = spawn('/bin/sh', ['-c', `sleep ${seconds} </dev/null >/dev/null 2>&1 & echo $!`], { stdio: ['ignore', 'pipe', 'ignore'] });
  recordSpawned(sh);
  let out = '';
  sh.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  await new Promise((resolve) => sh.on('close', resolve));
  return Number(out.trim());
}

describe('reapIfEnded and reapOrphans, for real', () => {
  const sys = new LinuxSyscalls();
  beforeAll(() => sys.setChildSubreaper());
  afterAll(() => sys.unsetChildSubreaper());

  test('reapIfEnded: false while the child runs, true once it has ended (reaped), then ECHILD', async () => {
    const pid = await orphan(0.3);
    expect(childrenOf(process.pid)).toContain(pid);
    expect(sys.reapIfEnded(pid)).toBe(false);
    for (let i = 0; i < 100 && stateOf(pid) !== 'Z'; i++) await sleep(20);
    expect(stateOf(pid)).toBe('Z');
    expect(sys.reapIfEnded(pid)).toBe(true);
    expect(stateOf(pid)).toBeUndefined();
    expect(() => sys.reapIfEnded(pid)).toThrow(`waitid "/proc/${pid}": ECHILD`);
  });

  /**
   * In a Node of its own: a Jest test's `process` is a copy on which a signal listener is
   * never called. The orphan is looked for before any sweep: only its SIGCHLD reaps it.
   * Node's child is looked at ended (a zombie) before libuv can reap it, the event loop
   * held by a busy wait: a sweep then passes it over, and Node gets its status.
   */
  test("an orphan is reaped at its SIGCHLD; Node's own child, ended and not yet reaped by libuv, is passed over and gets its 'exit' with its status", () => {
    const script = `
      const { spawn } = require('child_process');
      const { readFileSync } = require('fs');
      const { recordSpawned } = require('./src/core/node-children');
      const { reapOrphans } = require('./src/cli/orphans');
      const { LinuxSyscalls } = require('./src/core/syscalls/linux');
      const sys = new LinuxSyscalls();
      sys.setChildSubreaper();
      const warned = [];
      const reaper = reapOrphans(sys, (m) => warned.push(m));
      const state = (pid) => { try { return /\\) (\\S)/.exec(readFileSync('/proc/' + pid + '/stat', 'utf8'))[1]; } catch { return undefined; } };
      const sh = spawn('/bin/sh', ['-c', 'sleep 0.2 </dev/null >/dev/null 2>&1 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
      recordSpawned(sh);
      let out = '';
      sh.stdout.on('data', (chunk) => (out += chunk));
      sh.on('close', async () => {
        const orphan = Number(out.trim());
        for (let i = 0; i < 100 && state(orphan) !== undefined; i++) await new Promise((resolve) => setTimeout(resolve, 20));
        const orphanLeft = state(orphan) ?? 'reaped';
        const own = spawn('/bin/sh', ['-c', 'exit 7'], { stdio: 'ignore' });
        recordSpawned(own);
        for (const until = Date.now() + 5000; state(own.pid) !== 'Z' && Date.now() < until; );
        const ownEnded = state(own.pid);
        reaper.sweep();
        own.on('exit', (status) => {
          reaper.stop();
          process.stdout.write(JSON.stringify({ orphan: orphan > 0, orphanLeft, ownEnded, status, warned, listeners: process.listenerCount('SIGCHLD') }));
        });
      });
    `;
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'helpers', 'ts-register.js'), '-e', script], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect([r.signal, r.status, r.stderr]).toEqual([null, 0, '']);
    expect(JSON.parse(r.stdout)).toEqual({ orphan: true, orphanLeft: 'reaped', ownEnded: 'Z', status: 7, warned: [], listeners: 0 });
  });
});
