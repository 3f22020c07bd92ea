import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { startTimeInStat } from '../../src/cli/forward';
import { STARTER_WATCH } from '../../src/cli/run';

/** The shells the watch runs under as /bin/sh: dash here, bash (Fedora's sh), busybox ash (Alpine's). */
const SHELLS: [string, string[]][] = [
  ['/bin/sh', ['/bin/sh']],
  ['bash', ['bash']],
  ...(['/bin/busybox', '/usr/bin/busybox'].some((p) => existsSync(p)) ? [['busybox sh', ['busybox', 'sh']] as [string, string[]]] : []),
];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Field 22 of /proc/PID/stat. */
const startOf = (pid: number) => startTimeInStat(readFileSync(`/proc/${pid}/stat`, 'utf8'))!;

/** Whether `pid` has ended: gone, or a zombie its new parent has not reaped yet. */
function ended(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return true;
  }
  return stat[stat.lastIndexOf(')') + 2] === 'Z';
}

/** Whether each of `pids` has ended (`ended`), looked at every 10 ms for up to 10 s: a SIGKILLed process ends once it is scheduled, later on a busy machine. */
async function allEnded(...pids: number[]): Promise<boolean> {
  for (let i = 0; i < 1000 && !pids.every(ended); i++) await sleep(10);
  return pids.every(ended);
}

/** A stand-in for the relaunch: `script` under sh, with a socket on descriptor 3 as the runtime channel, and another on 4. */
async function relaunch(script: string): Promise<{ process: ChildProcess; kids: number[] }> {
  const child = spawn('/bin/sh', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit', 'pipe', 'pipe'] });
  // The shell forks its child, if it has one, at once.
  let kids: number[] = [];
  for (let i = 0; i < 100; i++) {
    await sleep(10);
    kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    if (kids.length || !script.endsWith('& wait')) break;
  }
  return { process: child, kids };
}

/**
 * Runs `script` (the watch) under `shell`, writes `lines` to it, sends it `signals`, ends
 * its standard input (as a killed starter's end closes it), and waits for it to exit.
 */
async function watch(shell: string[], lines: string, signals: NodeJS.Signals[] = [], script = STARTER_WATCH, env = process.env): Promise<number | null> {
  const w = spawn(shell[0], [...shell.slice(1), '-c', script, 'sh'], { stdio: ['pipe', 'inherit', 'inherit'], env });
  const exited = new Promise<number | null>((resolve) => w.on('exit', (code) => resolve(code)));
  w.stdin!.write(lines);
  for (const sig of signals) {
    await sleep(50);
    w.kill(sig);
  }
  await sleep(50);
  w.stdin!.destroy();
  return exited;
}

describe.each(SHELLS)('the starter\'s watch under %s (STARTER_WATCH)', (_sh, shell) => {
  const started: number[] = [];
  afterEach(() => {
    for (const pid of started.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Killed by the watch.
      }
    }
  });
  const stand = async (script: string) => {
    const r = await relaunch(script);
    started.push(...r.kids, r.process.pid!);
    return r;
  };
  /** The line naming the relaunch `pid`, which holds the channel it was spawned with (its descriptor 3) on `fds`. */
  const naming = (pid: number, forks: boolean, fds = '3 8', start = startOf(pid)) => `${pid} ${start} ${forks ? 1 : 0} ${readlinkSync(`/proc/${pid}/fd/3`)} ${fds}\n`;

  test('its starter ends after naming a relaunch that becomes the container, which holds the channel still (no line more): the relaunch is killed', async () => {
    const { process: x } = await stand('exec sleep 30');
    await watch(shell, naming(x.pid!, false));
    expect(await allEnded(x.pid!)).toBe(true);
  });

  test('it holds the channel on the number it moved it to (descriptors passed): it is killed', async () => {
    const { process: x } = await stand('exec sleep 30 8<&3 3<&-');
    await watch(shell, `${x.pid} ${startOf(x.pid!)} 0 ${readlinkSync(`/proc/${x.pid}/fd/8`)} 3 8\n`);
    expect(await allEnded(x.pid!)).toBe(true);
  });

  test.each([
    ['closed (its execve closed the channel)', 'exec sleep 30 3<&-'],
    ['another socket (one passed to the container, socket activation)', 'exec sleep 30 3<&4'],
  ])('the container holds the channel on none of them, its descriptor 3 %s: its program has started, which outlives its starter as under runc, and is left', async (_what, script) => {
    const { process: x } = await stand(script);
    // The channel as the starter read it when it spawned the relaunch: another socket of the same kind.
    const { process: y } = await stand('exec sleep 30');
    expect(await watch(shell, `${x.pid} ${startOf(x.pid!)} 0 ${readlinkSync(`/proc/${y.pid}/fd/3`)} 3 8\n`)).toBe(0);
    await sleep(50);
    expect(ended(x.pid!)).toBe(false);
  });

  test('stood down by a second line (its program has started, or it has ended): the relaunch is left', async () => {
    const { process: x } = await stand('exec sleep 30');
    expect(await watch(shell, `${naming(x.pid!, false)}\n`)).toBe(0);
    await sleep(50);
    expect(ended(x.pid!)).toBe(false);
  });

  test('its starter ends before naming one: nothing is killed', async () => {
    const { process: x } = await stand('exec sleep 30');
    expect(await watch(shell, '')).toBe(0);
    expect(ended(x.pid!)).toBe(false);
  });

  test("the pid named has another start time (the relaunch is gone, its pid is another process's): it is left", async () => {
    const { process: x } = await stand('exec sleep 30');
    expect(await watch(shell, naming(x.pid!, false, '3 8', String(Number(startOf(x.pid!)) - 1)))).toBe(0);
    await sleep(50);
    expect(ended(x.pid!)).toBe(false);
  });

  test.each([
    ['on 3 still', 'sleep 30 & wait'],
    ['on the number it moved it to (descriptors passed)', 'sleep 30 8<&3 3<&- & wait'],
  ])('a relaunch that forks the container, which holds the channel %s: both are killed', async (_what, script) => {
    const { process: x, kids } = await stand(script);
    expect(kids).toHaveLength(1);
    await watch(shell, naming(x.pid!, true));
    expect(await allEnded(kids[0], x.pid!)).toBe(true);
  });

  test('a relaunch that forks the container, whose descriptor 3 is closed (its program has started): both are left, though the shell holds the channel still', async () => {
    const { process: x, kids } = await stand('sleep 30 3<&- & wait');
    expect(await watch(shell, naming(x.pid!, true))).toBe(0);
    await sleep(50);
    expect([ended(kids[0]), ended(x.pid!)]).toEqual([false, false]);
  });

  test('a kernel without CONFIG_PROC_CHILDREN (no /proc/PID/task/PID/children): the container is found by its parent in /proc/PID/stat', async () => {
    const withoutChildren = STARTER_WATCH.split('/task/$pid/children').join('/task/$pid/none');
    expect(withoutChildren).not.toBe(STARTER_WATCH);
    const { process: x, kids } = await stand('sleep 30 & wait');
    await watch(shell, naming(x.pid!, true), [], withoutChildren);
    expect(await allEnded(kids[0], x.pid!)).toBe(true);
    const { process: y, kids: started } = await stand('sleep 30 3<&- & wait');
    expect(await watch(shell, naming(y.pid!, true), [], withoutChildren)).toBe(0);
    await sleep(50);
    expect([ended(started[0]), ended(y.pid!)]).toEqual([false, false]);
  });

  test('a relaunch that has not forked the container yet: it is killed', async () => {
    const { process: x } = await stand('exec sleep 30');
    await watch(shell, naming(x.pid!, true));
    expect(await allEnded(x.pid!)).toBe(true);
  });

  test('the container starts its program while the watch looks (its execve between the look that finds the channel and the kill): its program is continued, not killed, nor left stopped', async () => {
    // The program, once the stand-in is told to start it: `sleep 30` without the channel.
    const { process: x } = await stand("trap 'exec sleep 30 3<&-' USR1; while :; do sleep 0.01; done");
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-watch-'));
    try {
      // readlink(1) that, the first time, has the container start its program and then answers the channel it held, as a look that came just before the execve.
      const fake = path.join(dir, 'readlink');
      const real = spawnSync('/bin/sh', ['-c', 'command -v readlink'], { encoding: 'utf8' }).stdout.trim();
      const channel = readlinkSync(`/proc/${x.pid}/fd/3`);
      writeFileSync(fake, `#!/bin/sh\n[ -e ${dir}/looked ] && exec ${real} "$@"\n: > ${dir}/looked\nkill -USR1 ${x.pid}\nwhile [ -e /proc/${x.pid}/fd/3 ]; do sleep 0.01; done\necho '${channel}'\n`, { mode: 0o755 });
      // By its path: busybox sh runs its own applet for a name found in PATH.
      const looking = STARTER_WATCH.split('$(readlink ').join(`$(${fake} `);
      expect(looking).not.toBe(STARTER_WATCH);
      expect(await watch(shell, naming(x.pid!, false), [], looking)).toBe(0);
      expect(existsSync(path.join(dir, 'looked'))).toBe(true);
      await sleep(50);
      expect(ended(x.pid!)).toBe(false);
      // Running (S: sleeping in its sleep), not stopped (T).
      const stat = readFileSync(`/proc/${x.pid}/stat`, 'utf8');
      expect(stat[stat.lastIndexOf(')') + 2]).not.toBe('T');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the signals passed on, sent to the starter's process group (a terminal's Ctrl-C, hangup, timeout(1)), do not end the watch", async () => {
    const { process: x } = await stand('exec sleep 30');
    await watch(shell, naming(x.pid!, false), ['SIGINT', 'SIGHUP', 'SIGTERM', 'SIGQUIT']);
    expect(await allEnded(x.pid!)).toBe(true);
  });
});

test('without readlink(1) in PATH, the links cannot be read: nothing is killed', async () => {
  const { process: x } = await relaunch('exec sleep 30');
  try {
    const line = `${x.pid} ${startOf(x.pid!)} 0 ${readlinkSync(`/proc/${x.pid}/fd/3`)} 3\n`;
    expect(await watch(['/bin/sh'], line, [], STARTER_WATCH, { PATH: '/nonexistent' })).toBe(0);
    await sleep(50);
    expect(ended(x.pid!)).toBe(false);
  } finally {
    x.kill('SIGKILL');
  }
});

describe('watchStarter', () => {
  /** A Node process that starts the watch and a stand-in relaunch, arms it, does `then` and ends; the relaunch's pid and whether it ended within `wait` ms. */
  function starter(then: string, wait: number): { relaunch: number; ended: boolean; status: number | null; signal: NodeJS.Signals | null } {
    const script = [
      "const { spawn } = require('child_process');",
      "const { watchStarter } = require('./src/cli/run');",
      'const watch = watchStarter();',
      "const x = spawn('sleep', ['30'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'], detached: true });",
      'x.unref();',
      'x.stdio[3].destroy();',
      'watch.arm(x.pid, false, [3]);',
      "require('fs').writeSync(1, `${x.pid}\\n`);",
      then,
    ].join('\n');
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'helpers', 'ts-register.js'), '-e', script], {
      cwd: path.join(__dirname, '..', '..'),
      encoding: 'utf8',
      timeout: 20_000,
    });
    const relaunch = Number(r.stdout.trim());
    const deadline = Date.now() + wait;
    while (!ended(relaunch) && Date.now() < deadline) spawnSync('sleep', ['0.02']);
    const gone = ended(relaunch);
    if (!gone) process.kill(relaunch, 'SIGKILL');
    return { relaunch, ended: gone, status: r.status, signal: r.signal };
  }

  test('its starter killed (SIGKILL, which no listener sees) while the relaunch it armed for prepares: the relaunch is killed', () => {
    const r = starter("process.kill(process.pid, 'SIGKILL');", 10_000);
    expect([r.signal, r.ended]).toEqual(['SIGKILL', true]);
  });

  test('stood down (the container has started, or the relaunch ended): its starter\'s end leaves the relaunch', () => {
    const r = starter("watch.release(); watch.release(); process.kill(process.pid, 'SIGKILL');", 300);
    expect([r.signal, r.ended]).toEqual(['SIGKILL', false]);
  });

  test('it never keeps its starter running: Node ends with nothing else to do, an end like any other for the watch, which kills the relaunch it was not stood down for', () => {
    const r = starter('', 10_000);
    expect([r.status, r.ended]).toEqual([0, true]);
  });
});
