/**
 * bin/mountkit finds its job, and the container under it, by pid: once the job is reaped,
 * the kernel may give its pid to any new process. Each case runs in a pid namespace of its
 * own (unshare --pid --fork --mount-proc), where writing /proc/sys/kernel/ns_last_pid
 * gives the next process the pid wanted, so that a reaped job's pid goes to another
 * process at once, as it would once the kernel had handed out every pid above it. The
 * harness cases run the launcher's own functions (taken from bin/mountkit by name) under
 * each shell; the last case runs the launcher itself under bash, with stand-ins for
 * unshare(1) and Node as in launcher-again.test.ts. A process that catches SIGUSR1
 * (CATCHER) writes its name to OUT when it gets one.
 */
import { spawnSync } from 'child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { LAUNCHER } from '../helpers/cli';
import { LAUNCHER_SHELLS, launcherStandIns } from '../helpers/launcher-stand-ins';


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
  let out: string;
  let catcher: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-launcher-pids-'));
    out = path.join(dir, 'out');
    catcher = path.join(dir, 'catcher');
    writeFileSync(out, '');
    writeFileSync(catcher, 'trap \'echo "$1" >>"$OUT"\' USR1\n: >"$OUT.$1"\nwhile :; do sleep 0.05; done\n');
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  test.each(LAUNCHER_SHELLS)(
    'under %s, a signal passed on reaches the child of the job holding the pipe (on 7, then on 3), and not the child of a process that got the job\'s pid once it was reaped',
    (_sh, shell) => {
      const harness = path.join(dir, 'harness');
      writeFileSync(
        harness,
        [
          launcherFunctions('job_holds', 'children', 'ours', 'handles', 'forward'),
          `next_pid() { ${NEXT_PID}; }`,
          // Until process $1 has a child that catches SIGUSR1 (kids); false after 5 s.
          'caught_child() {',
          '  tries=0',
          '  until children "$1"; [ -n "$kids" ] && handles "$kids" 10; do',
          '    [ "$tries" -lt 500 ] || return 1',
          '    sleep 0.01; tries=$((tries + 1))',
          '  done',
          '}',
          // Until OUT has $1 lines; false after 5 s.
          'got() {',
          '  tries=0',
          '  until [ "$(wc -l <"$OUT")" -ge "$1" ]; do',
          '    [ "$tries" -lt 500 ] || return 1',
          '    sleep 0.01; tries=$((tries + 1))',
          '  done',
          '}',
          'exec 6<<EOF',
          'mountkit',
          'EOF',
          'exec 7>/proc/self/fd/6',
          // The job as it is from its fork (6's pipe on 7), then after its exec (on 3); its child holds neither. (bash's would tell the kill below on stderr.)
          '{ /bin/sh "$CATCHER" kid 7>&- & wait; } 2>/dev/null 6<&- &',
          'child=$!',
          'caught_child "$child" || exit 3',
          'kid=$kids',
          'ours "$kid" && echo "the job holds the pipe on 7: its child is ours"',
          'forward 10',
          'got 1 || exit 4',
          'kill -s KILL "$kid"; wait "$child"',
          '{ /bin/sh "$CATCHER" kid 3>&- & wait; } 2>/dev/null 3>&7 6<&- 7>&- &',
          'child=$!',
          'exec 7>&-',
          'caught_child "$child" || exit 3',
          'kid=$kids',
          'ours "$kid" && echo "the job holds the pipe on 3: its child is ours"',
          'forward 10',
          'got 2 || exit 4',
          'kill -s KILL "$kid"; wait "$child"',
          // Reaped: its pid goes to a process of nobody's here, which holds nothing of this shell's.
          '( next_pid "$child"; { /bin/sh "$CATCHER" other & wait; } 6<&- & )',
          'caught_child "$child" || { echo "the job\'s pid was not given again"; exit 5; }',
          'ours "$kids" || echo "the job\'s pid is another process\'s: its child is not ours"',
          // forward sends before it returns, and the catcher writes within 50 ms of a signal.
          'forward 10',
          'sleep 0.5',
          '[ "$(wc -l <"$OUT")" = 2 ] || echo "a signal reached the child of the process that got the job\'s pid"',
          'exit 0',
          '',
        ].join('\n'),
      );
      const r = inPidNamespace([...shell, harness], { ...process.env, OUT: out, CATCHER: catcher });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 0,
        stdout: [
          'the job holds the pipe on 7: its child is ours',
          'the job holds the pipe on 3: its child is ours',
          "the job's pid is another process's: its child is not ours",
          '',
        ].join('\n'),
        stderr: '',
      });
      expect(readFileSync(out, 'utf8')).toBe('kid\nkid\n');
      expect(existsSync(`${out}.other`)).toBe(true);
    },
  );

  test.each(LAUNCHER_SHELLS)(
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

  // bash reaps a job as soon as it ends (its SIGCHLD handler), while the launcher still
  // waits for what holds its pipes: dash and busybox sh reap it only in its wait.
  test("under bash, the launcher's job reaped and its pid given to another process while the launcher waits: a signal then reaches none of that process's children, and the launcher ends", () => {
    const { bin, bundle } = launcherStandIns(dir);
    // Node's stand-in: the job's shell forks it, and the launcher forked the job. It leaves
    // a process holding what it holds (the launcher's pipes) and ends; once the job is
    // reaped, that process gives the job's pid to another, whose child catches SIGUSR1,
    // sends the launcher SIGUSR1, and ends half a second later.
    writeFileSync(
      path.join(bin, 'node'),
      [
        '#!/bin/sh',
        `next_pid() { ${NEXT_PID}; }`,
        'job=$PPID',
        'read -r _ _ _ launcher _ </proc/$job/stat',
        '(',
        '  while [ -e /proc/$job ]; do sleep 0.01; done',
        // The job ignores the signals passed on, and so does what it starts: a shell cannot trap one it was started ignoring.
        '  ( next_pid "$job"; { env --default-signal=USR1 /bin/sh "$CATCHER" other & wait; } 3>&- 4>&- & )',
        '  tries=0',
        '  until [ -e "$OUT.other" ]; do [ "$tries" -lt 500 ] || exit 1; sleep 0.01; tries=$((tries + 1)); done',
        // The kernel ends the list with no newline: read sets kids, and is false.
        '  read -r kids </proc/$job/task/$job/children',
        '  [ -z "$kids" ] || : >"$OUT.reused"',
        '  kill -s USR1 "$launcher"',
        '  sleep 0.5',
        ') </dev/null >/dev/null 2>&1 &',
        'echo started',
        '',
      ].join('\n'),
    );
    chmodSync(path.join(bin, 'node'), 0o755);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}`, OUT: out, CATCHER: catcher };
    const r = inPidNamespace(['bash', LAUNCHER, 'run', '--bundle', bundle], env);
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'started\n', stderr: '' });
    expect(existsSync(`${out}.reused`)).toBe(true);
    expect(readFileSync(out, 'utf8')).toBe('');
  });
});
