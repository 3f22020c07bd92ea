import { spawnSync } from 'child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'fs';
import * as path from 'path';

/**
 * What bin/mountkit's tests run it with so that nothing is mounted and no namespace is
 * made: in `dir`, a `bin` holding a stand-in unshare(1) that runs what comes after its
 * `--` (each test writes its own stand-in `node` there, and puts `bin` first in PATH),
 * and a `bundle` whose config.json asks for a pid and a mount namespace, which takes the
 * launcher's pid namespace path.
 */
export function launcherStandIns(dir: string): { bin: string; bundle: string } {
  const bin = path.join(dir, 'bin');
  const bundle = path.join(dir, 'bundle');
  mkdirSync(bin);
  mkdirSync(bundle);
  writeFileSync(path.join(bundle, 'config.json'), '{"linux": {"namespaces": [{"type": "pid"}, {"type": "mount"}]}}');
  writeFileSync(path.join(bin, 'unshare'), '#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n');
  chmodSync(path.join(bin, 'unshare'), 0o755);
  return { bin, bundle };
}

/** The shells the launcher is run under (dash as /bin/sh here, bash, busybox sh), as a name and the command that starts one; those this machine has. */
export const LAUNCHER_SHELLS: [string, string[]][] = (
  [
    ['/bin/sh', ['/bin/sh']],
    ['bash', ['bash']],
    ['busybox sh', ['busybox', 'sh']],
  ] as [string, string[]][]
).filter(([, [cmd, ...args]]) => spawnSync(cmd, [...args, '-c', ':']).status === 0);
