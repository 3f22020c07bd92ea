/**
 * bench/replay-port.js, the bench's floor of a Node program making mountkit's calls: it
 * replays a recorded list through the real port (dist/, built by `npm ci`), maps the
 * recorded descriptors to its own, counts outcomes other than the recorded ones, and
 * execve(2)s last. Run in a throwaway mount namespace, as the bench runs it.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { O_CLOEXEC, O_DIRECTORY, O_PATH } from '../../src/core/constants';
import type { PortCall } from '../../bench/syscall-list';
import { mountsAt, tempDir } from '../helpers/real-run';

const REPLAY = path.join(__dirname, '..', '..', 'bench', 'replay-port.js');

/** It mounts, in a mount namespace of its own: root and unshare(1). */
const available = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v unshare']).status === 0;
if (process.env.CI === 'true' && !available) throw new Error('the port replay test needs root and unshare(1)');
const maybe = available ? describe : describe.skip;

interface Replayed {
  status: number | null;
  stderr: string;
  /** The OUT line's fields: start, exec, calls, mismatches, first call's end. */
  out: number[];
  /** What the execve'd program found in its mountinfo. */
  mountinfo: string;
  /** The argument after its script it was given: a magic link of a recorded descriptor. */
  link: string;
}

maybe('bench/replay-port.js', () => {
  let dir: string;
  let cleanup: () => void;
  beforeEach(() => ({ dir, cleanup } = tempDir('mountkit-replay-port-')));
  afterEach(() => cleanup());

  function replay(calls: PortCall[]): Replayed {
    const list = path.join(dir, 'list.json');
    const outFile = path.join(dir, 'out');
    fs.writeFileSync(list, JSON.stringify(calls));
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', process.execPath, REPLAY, list, outFile], { encoding: 'utf8', timeout: 60_000 });
    const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
    return { status: r.status, stderr: r.stderr, out: read(outFile).trim().split(' ').map(Number), mountinfo: read(path.join(dir, 'mountinfo')), link: read(path.join(dir, 'link')).trim() };
  }

  /** Recorded as a run would have them: descriptors 40 and 41, which this process will not get. */
  const calls = (target: string, statExpect: string | null): PortCall[] => [
    ['open', [dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0], [], 40, null],
    ['mkdirat', [40, 'd', 0o755], [0], null, null],
    ['openat2', [40, 'd', O_PATH | O_CLOEXEC, 0, '0x0'], [0], 41, null],
    ['mount', ['tmpfs', '/proc/thread-self/fd/41', 'tmpfs', '0x6', 'size=4k'], [], null, null],
    ['close', [41], [0], null, null],
    ['close', [40], [0], null, null],
    ['stat', [target], [], null, statExpect],
    ['execve', ['/bin/sh', ['sh', '-c', `cat /proc/self/mountinfo > ${dir}/mountinfo; echo "$0" > ${dir}/link`, '/proc/thread-self/fd/41'], []], [], null, null],
  ];

  test('makes the calls with its own descriptors, checks each outcome and ends in the execve', () => {
    const r = replay(calls(path.join(dir, 'nope'), 'ENOENT'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const [start, exec, count, mismatches, firstEnd] = r.out;
    expect([count, mismatches]).toEqual([8, 0]);
    expect(start).toBeLessThan(firstEnd);
    expect(firstEnd).toBeLessThanOrEqual(exec);
    // The mount went through the magic link of this process's descriptor, with the flags of 0x6 (nosuid, nodev).
    expect(mountsAt(r.mountinfo, path.join(dir, 'd'))).toEqual([expect.objectContaining({ fstype: 'tmpfs', options: expect.stringMatching(/nosuid,nodev/) })]);
    // A magic link in execve's argv names this process's descriptor too, as replay.c maps it.
    const [, fd] = /^\/proc\/thread-self\/fd\/(\d+)$/.exec(r.link) ?? [];
    expect(Number(fd)).toBeGreaterThan(2);
    expect(Number(fd)).not.toBe(41);
  });

  test('an outcome other than the recorded one is counted and named', () => {
    const r = replay(calls(dir, 'ENOENT'));
    expect(r.status).toBe(0);
    expect(r.out[3]).toBe(1);
    expect(r.stderr).toBe('replay-port: call 6 stat: recorded ENOENT, got success\n');
  });
});
