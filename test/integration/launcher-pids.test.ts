/**
 * bin/mountkit finds its job, and the container under it, by pid: once the job is reaped,
 * the kernel may give its pid to any new process. Each case runs in a pid namespace of its
 * own (unshare --pid --fork --mount-proc), where writing /proc/sys/kernel/ns_last_pid
 * gives the next process the pid wanted, so that a reaped job's pid goes to another
 * process at once, as it would once the kernel had handed out every pid above it. The
 * harness runs the launcher's own functions (taken from bin/mountkit by name) under each
 * shell.
 */
import { spawnSync } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { LAUNCHER } from '../helpers/cli';

const shells: [string, string[]][] = [
  ['/bin/sh', ['/bin/sh']],
  ['bash', ['bash']],
  ['busybox sh', ['busybox', 'sh']],
].filter(([, [cmd, ...args]]) => spawnSync(cmd, [...args, '-c', ':']).status === 0) as [string, string[]][];

const maybe = process.getuid?.() === 0 ? describe : describe.skip;

/** util-linux unshare(1), as PATH has it here: a case may put a stand-in first in the PATH it runs with. */
const UNSHARE = spawnSync('/bin/sh', ['-c', 'command -v unshare'], { encoding: 'utf8' }).stdout.trim();

/** The functions of bin/mountkit named, as the launcher defines them. */
function launcherFunctions(...names: string[]): string {
  const text = readFileSync(LAUNCHER, 'utf8');
  return names
    .map((name) => {
      const found = new RegExp(`^${name}\\(\\) \\{\\n[\\s\\S]*?^\\}\\n`, 'm').exec(text);
      if (!found) throw new Error(`bin/mountkit has no function ${name}`);
      return found[0];
    })
    .join('');
}

/** Runs `args` as PID 1's child in a pid namespace of its own, which ends with it (and everything in it). */
function inPidNamespace(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync(UNSHARE, ['--pid', '--fork', '--mount-proc', '--kill-child', '/bin/sh', '-c', '"$@"; exit $?', 'sh', ...args], {
    env,
    encoding: 'utf8',
    timeout: 20_000,
    killSignal: 'SIGKILL',
  });
}

/** Gives the next process this shell or any other forks pid $1, which must be free. */
const NEXT_PID = 'echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid';

maybe('bin/mountkit and a pid its job had', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-launcher-pids-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(shells)(
    "under %s, the wait for the job ends once the job is reaped, though its pid is another process's; a wait a trapped signal ends is made again, and gives the job's own status",
    (_sh, shell) => {
      const harness = path.join(dir, 'harness');
      writeFileSync(
        harness,
        [
          launcherFunctions('reap'),
          `next_pid() { ${NEXT_PID}; }`,
          "trap 'woke=1' USR1",
          '( sleep 0.5; exit 7 ) &',
          'child=$!',
          '( sleep 0.2; kill -s USR1 $$ ) &',
          'reap "$child"',
          'echo "a signal during the wait: $waited"',
          '( sleep 0.5 ) &',
          'child=$!',
          '( sleep 0.1; kill -s USR1 $$; sleep 0.1; kill -s KILL "$child" ) &',
          'reap "$child"',
          'echo "a signal during the wait, then the job killed: $waited"',
          // Reaped before the wait: by bash as the job ends (its SIGCHLD handler), by dash and busybox sh in the wait for a command.
          '( exit 5 ) &',
          'child=$!',
          '/bin/sleep 0.2',
          '( next_pid "$child"; /bin/sleep 30 & )',
          '[ -e "/proc/$child" ] || { echo "the job\'s pid was not given again"; exit 5; }',
          'reap "$child"',
          'echo "the job reaped, its pid another process\'s: $waited"',
          '',
        ].join('\n'),
      );
      const r = inPidNamespace([...shell, harness], process.env);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 0,
        stdout: ['a signal during the wait: 7', 'a signal during the wait, then the job killed: 137', "the job reaped, its pid another process's: 5", ''].join('\n'),
        stderr: '',
      });
    },
  );
});
