/**
 * bin/mountkit and a signal that comes after it has forked its job and before it has
 * written the job's go line, with stand-ins for unshare(1) and Node first in PATH as in
 * launcher-again.test.ts. The window lasts well under a millisecond, so the launcher is
 * run under ptrace(2) (test/helpers/signal-before-go.py), which stops it at the return
 * of the watch's fork and sends the signal there. Node's stand-in becomes a program that
 * catches SIGUSR1 (which the job ignores, as it ignores every signal passed on: `env
 * --default-signal` takes that back, as mountkit resets every signal for the container),
 * writes to OUT and exits 7 when it gets one, and exits 0 after 3 s without. It closes
 * the launcher's status pipe, which tells the launcher the program has started (mountkit's
 * execve(2) closes it), only once its trap is set: a shell's redirection closing it before
 * the execs told that while the signal was still ignored (it was dropped: exit 0) or
 * between env's reset and the trap (it ended the stand-in: exit 138), under load.
 */
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { LAUNCHER } from '../helpers/cli';
import { LAUNCHER_SHELLS, launcherStandIns } from '../helpers/launcher-stand-ins';

const SIGNAL_BEFORE_GO = path.join(__dirname, '..', 'helpers', 'signal-before-go.py');
const SIGUSR1 = 10;

const maybe = process.getuid?.() === 0 ? describe : describe.skip;

maybe('bin/mountkit and a signal before its job goes on', () => {
  let dir: string;
  let out: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-launcher-go-'));
    out = path.join(dir, 'out');
    const { bin } = launcherStandIns(dir);
    writeFileSync(
      path.join(bin, 'node'),
      [
        '#!/bin/sh',
        'exec env --default-signal=USR1 /bin/sh -c \'trap "echo got >\\"\\$OUT\\"; exit 7" USR1; exec 3>&-; i=0; while [ "$i" -lt 60 ]; do sleep 0.05; i=$((i + 1)); done; exit 0\'',
        '',
      ].join('\n'),
    );
    chmodSync(path.join(bin, 'node'), 0o755);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  // The trap queued it and forward() waited up to a second for the job's child, which the
  // job forks only after the go line the launcher had not written yet, and dropped it.
  test.each(LAUNCHER_SHELLS)('under %s, a signal between the fork of the job and its go line reaches the container once it has started', (_sh, shell) => {
    const env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, OUT: out };
    const r = spawnSync('python3', [SIGNAL_BEFORE_GO, String(SIGUSR1), ...shell, LAUNCHER, 'run', '--bundle', path.join(dir, 'bundle')], {
      env,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 7, stdout: '', stderr: '' });
    expect(existsSync(out) && readFileSync(out, 'utf8')).toBe('got\n');
  });
});
