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
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { LAUNCHER } from '../helpers/cli';

const shells: [string, string[]][] = [
  ['/bin/sh', ['/bin/sh']],
  ['bash', ['bash']],
  ['busybox sh', ['busybox', 'sh']],
].filter(([, [cmd, ...args]]) => spawnSync(cmd, [...args, '-c', ':']).status === 0) as [string, string[]][];

const RUNS = 10;

const maybe = process.getuid?.() === 0 ? describe : describe.skip;

maybe('bin/mountkit started again ("again")', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-launcher-again-'));
    const bin = path.join(dir, 'bin');
    const bundle = path.join(dir, 'bundle');
    mkdirSync(bin);
    mkdirSync(bundle);
    writeFileSync(path.join(bundle, 'config.json'), '{"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}');
    writeFileSync(path.join(bin, 'unshare'), '#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n');
    writeFileSync(
      path.join(bin, 'node'),
      '#!/bin/sh\nif [ -n "${MOUNTKIT_LAUNCHER_FD-}" ]; then echo first; echo again >&3; exit 0; fi\nread -r kids </proc/$$/task/$$/children\necho "children: $kids"\n',
    );
    chmodSync(path.join(bin, 'unshare'), 0o755);
    chmodSync(path.join(bin, 'node'), 0o755);
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(shells)('under %s, the Node started again has no child of the launcher (its watch is reaped first)', (_sh, shell) => {
    const env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}` };
    for (let i = 0; i < RUNS; i++) {
      const r = spawnSync(shell[0], [...shell.slice(1), LAUNCHER, 'run', '--bundle', path.join(dir, 'bundle')], { env, encoding: 'utf8', timeout: 20_000 });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'first\nchildren: \n', stderr: '' });
    }
  });
});
