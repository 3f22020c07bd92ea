/**
 * bin/mountkit's "again" path, with stand-ins for unshare(1) and Node first in PATH, so
 * that nothing is mounted and no namespace is made: the stand-in unshare runs what comes
 * after its `--`, the first stand-in Node answers "again" on the launcher's descriptor as
 * mountkit does for a guess that was wrong, and the second one tells the children its
 * process has as it starts (a shell's read(2) of /proc, no fork). The launcher's pid
 * namespace path is taken by root only (it reads the effective uid). Its watch ends
 * about when the launcher starts Node again: were it not reaped first, about every
 * second run would show it, and each shell is run RUNS times.
 */
import { spawnSync } from 'child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { LAUNCHER } from '../helpers/cli';
import { LAUNCHER_SHELLS, launcherStandIns } from '../helpers/launcher-stand-ins';


const RUNS = 10;

const maybe = process.getuid?.() === 0 ? describe : describe.skip;

maybe('bin/mountkit started again ("again")', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-launcher-again-'));
    const { bin } = launcherStandIns(dir);
    writeFileSync(
      path.join(bin, 'node'),
      [
        '#!/bin/sh',
        'if [ -n "${MOUNTKIT_LAUNCHER_FD-}" ]; then',
        '  echo first',
        // CUT: "again" in two writes, the launcher (the parent of this process's parent) sent SIGUSR1 between them, once it would have read the first.
        '  if [ -n "${CUT-}" ]; then read -r _ _ _ launcher _ </proc/$PPID/stat; printf ag >&3; sleep 0.2; kill -USR1 "$launcher"; sleep 0.2; echo ain >&3; exit 0; fi',
        // CUTS: the same, with SIGUSR1 before the first write too, from descriptor 7, so that
        // the signal is passed on at once (to this process, which ignores it as the job does)
        // rather than once this process's execve has closed 3.
        '  if [ -n "${CUTS-}" ]; then read -r _ _ _ launcher _ </proc/$PPID/stat; exec 7>&3 3>&-; kill -USR1 "$launcher"; sleep 0.2; printf ag >&7; sleep 0.2; kill -USR1 "$launcher"; sleep 0.2; echo ain >&7; exit 0; fi',
        '  echo again >&3; exit 0',
        'fi',
        'read -r kids </proc/$$/task/$$/children',
        'echo "children: $kids"',
        '',
      ].join('\n'),
    );
    chmodSync(path.join(bin, 'node'), 0o755);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(LAUNCHER_SHELLS)('under %s, the Node started again has no child of the launcher (its watch is reaped first)', (_sh, shell) => {
    const env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` };
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(shell[0], [...shell.slice(1), LAUNCHER, 'run', '--bundle', path.join(dir, 'bundle')], { env, encoding: 'utf8', timeout: 20_000 });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'first\nchildren: \n', stderr: '' });
    }
  });

  // The launcher reads the lines once the job has ended, and waits on a pipe that carries none:
  // busybox sh's read drops the bytes it had read when a trapped signal ends it, and such a
  // line was lost there, as it was under dash before the launcher kept them.
  test.each(LAUNCHER_SHELLS.flatMap(([sh, shell]): [string, string, string, string[]][] => [
    [sh, 'a trapped signal between them', 'CUT', shell],
    [sh, 'a trapped signal before and between them, each passed on at once', 'CUTS', shell],
  ]))('under %s, "again" written in two parts, %s, still starts Node again', (_sh, _what, cut, shell) => {
    const env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, [cut]: '1' };
    const r = spawnSync(shell[0], [...shell.slice(1), LAUNCHER, 'run', '--bundle', path.join(dir, 'bundle')], { env, encoding: 'utf8', timeout: 20_000 });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'first\nchildren: \n', stderr: '' });
  });
});

maybe("every Node bin/mountkit starts keeps its inspector's websocket id off /json/list", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-launcher-inspector-'));
    const { bin } = launcherStandIns(dir);
    // Tells its first argument, and answers "again" where the launcher started it under unshare(1).
    writeFileSync(path.join(bin, 'node'), '#!/bin/sh\necho "node $1"\n[ -z "${MOUNTKIT_LAUNCHER_FD-}" ] || echo again >&3\n');
    chmodSync(path.join(bin, 'node'), 0o755);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['--version, the Node entry at once', ['--version'], 'node --inspect-publish-uid=stderr\n'],
    ['run: under unshare(1), then the Node entry again', ['run', '--bundle', 'BUNDLE'], 'node --inspect-publish-uid=stderr\nnode --inspect-publish-uid=stderr\n'],
  ])('%s', (_what, args, stdout) => {
    const env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` };
    const r = spawnSync(LAUNCHER, args.map((a) => (a === 'BUNDLE' ? path.join(dir, 'bundle') : a)), { env, encoding: 'utf8', timeout: 20_000 });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout, stderr: '' });
  });
});
