import { spawn, spawnSync } from 'child_process';
import { chmodSync, chownSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'fs';
import { constants as osConstants, tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, RUNC, busyboxConfig as config, ROOTLESS_ID, SUBORDINATE_IDS, makeBundle, withBundle, withBundleAsync, removeRootlessInstall, rootlessLauncher, runMountkit, runMountkitRootless, runRunc } from '../conformance/harness';
import { NO_MAPPINGS } from '../../src/core/idmap';
import { idMapToolsInPath } from '../../src/core/programs';
import { descendantsOf, runCountingNodes, runsNode, type CountedRun } from '../helpers/proc-tree';
import { BIN, LAUNCHER, REPO } from '../helpers/cli';
import { PROCESS } from '../helpers/launcher-roles';
import { ptySession, throughConsole } from '../helpers/console';
import { startSeccompAgent, type SeccompAgent } from '../helpers/seccomp-agent';
import { hostMountsSelinuxfs } from '../helpers/host-selinux';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('run tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;
/** newuidmap(1) and newgidmap(1) (uidmap, installed by .ci/run): the rootless tests of subordinate ids need them. */
const uidmapTools = idMapToolsInPath(process.env.PATH);
if (process.env.CI === 'true' && !(uidmapTools.uid && uidmapTools.gid)) throw new Error('rootless tests need newuidmap and newgidmap (uidmap, installed by .ci/run)');
const withUidmap = uidmapTools.uid && uidmapTools.gid ? test : test.skip;
/** Runs its arguments under a seccomp filter that refuses pidfds (ENOSYS). */
const WITHOUT_PIDFDS = path.join(__dirname, '..', 'helpers', 'without-pidfds.js');
const SLOW_PID_ONE = path.join(__dirname, '..', 'helpers', 'slow-pid-one.js');
const SLOW_STDERR = path.join(__dirname, '..', 'helpers', 'slow-stderr.js');
const SLOW_RELAUNCH = path.join(__dirname, '..', 'helpers', 'slow-relaunch.js');
const WITHOUT_CLOSE_RANGE = path.join(__dirname, '..', 'helpers', 'without-close-range.js');
/**
 * Whether this process may lower an OOM score below the lowest it has held: CAP_SYS_RESOURCE
 * (bit 24 of CapEff in /proc/self/status; proc(5)), which some sandboxes take from root.
 */
const canLowerScores = ((BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`) >> 24n) & 1n) === 1n;

/** The shells bin/mountkit is tested under: its own #!/bin/sh (dash here), bash (Fedora's sh) and busybox ash (Alpine's). */
const LAUNCHER_SHELLS: [string, string[]][] = [
  ['/bin/sh', []],
  ['bash', ['bash']],
  ['busybox sh', ['busybox', 'sh']],
];

/** A container shell's last words after its traps: at most about 10 s, so one that the signals do not reach ends by itself. */
const READY_THEN_WAIT = 'echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done';
/**
 * READY_THEN_WAIT with `traps` set once "ready" is written, for signals that wait for the
 * container's handler (sent while the rootfs is prepared): they then come after it. Set
 * before it, one could come between its trap and the echo on a slow machine.
 */
const readyThenTrapped = (traps: string): string => READY_THEN_WAIT.replace('echo ready; ', `echo ready; ${traps}; `);

/** What passes signals on to a container in a new pid namespace: the launcher under each shell, and the Node entry's relaunch. */
const SIGNAL_PASSERS: [string, string[]][] = [
  ...LAUNCHER_SHELLS.map(([sh, shell]): [string, string[]] => [`bin/mountkit under ${sh}`, [...shell, LAUNCHER]]),
  ['the Node entry (Node started again under unshare)', [process.execPath, BIN]],
];

/** signalled's start once PREPARING_HOOK runs. */
const HOOK_RUNNING = Symbol('hook running');

/** The createContainer hook that keeps mountkit preparing the rootfs for a second; HOOK_RUNNING finds it. */
const PREPARING_HOOK = { path: '/bin/sh', args: ['sh', '-c', 'sleep 1'] };

/** Whether PREPARING_HOOK runs under `pid`: mountkit, started and past Node's start-up, prepares the rootfs. */
function hookRunning(pid: number): boolean {
  return descendantsOf(pid).some((kid) => {
    try {
      return readFileSync(`/proc/${kid}/cmdline`, 'utf8') === 'sleep\x001\x00';
    } catch {
      return false;
    }
  });
}

type Signal = NodeJS.Signals | number;

/**
 * Starts `argv`, sends each of `signals` to it (an array of them: one after another at
 * once), each 300 ms after the one before, from when its stdout has shown `ready` lines
 * (0: from the start; HOOK_RUNNING: once PREPARING_HOOK runs, looked for every 20 ms),
 * and resolves with its exit status and output. With `group`, it starts in a process
 * group of its own, which gets the signals, as a terminal's Ctrl-C or timeout(1) sends
 * them.
 */
function signalled(
  argv: string[],
  ready: number | typeof HOOK_RUNNING,
  signals: (Signal | Signal[])[],
  group = false,
  gap = 300,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: group });
    let stdout = '';
    let stderr = '';
    let sent = false;
    let timer: NodeJS.Timeout | undefined;
    // One at a time: the container's shell runs a trap between its sleeps. Each timer is
    // set once the one before has fired: timers set at once can fire together when this
    // process is kept busy (a collection of a large heap), and signals that come at once
    // are another case (the last test of the signal ones).
    const sendFrom = (i: number) => {
      if (i === signals.length) return;
      timer = setTimeout(() => {
        for (const sig of [signals[i]].flat()) process.kill(group ? -child.pid! : child.pid!, sig);
        sendFrom(i + 1);
      }, gap);
    };
    const send = () => {
      sent = true;
      sendFrom(0);
    };
    child.on('close', () => clearTimeout(timer));
    if (ready === 0) send();
    if (ready === HOOK_RUNNING) {
      const look = setInterval(() => {
        if (sent || !hookRunning(child.pid!)) return;
        clearInterval(look);
        send();
      }, 20);
      child.on('close', () => clearInterval(look));
    }
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (!sent && typeof ready === 'number' && stdout.split('\n').length > ready) send();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Whether /proc/PID/status shows PID 1 of a pid namespace below this one (NSpid: the host's pid, ..., 1). */
function initOfChildNamespace(pid: number): boolean {
  try {
    const nspid = /^NSpid:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1].trim().split(/\s+/) ?? [];
    return nspid.length > 1 && nspid.at(-1) === '1';
  } catch {
    return false;
  }
}

/**
 * Starts `argv`, and once its stdout has its first line, finds the container (the
 * descendant that is PID 1 of a pid namespace of its own) and hands `act` its pid and
 * its parent's.
 */
function onceReady(argv: string[], act: (container: number, parent: number) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let acted = false;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (acted || !stdout.includes('\n')) return;
      acted = true;
      const container = descendantsOf(child.pid!).find(initOfChildNamespace);
      if (container === undefined) return reject(new Error(`no container below ${child.pid}`));
      act(container, Number(/^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${container}/status`, 'utf8'))![1]));
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * Starts `argv` with PID 1 of its pid namespace held before its script runs
 * (helpers/slow-pid-one.js), hands `act` the pid of that process's parent once it is
 * there, and resolves with the exit status and output when every holder of the output
 * has ended.
 */
function whilePidOneStarts(argv: string[], act: (parent: number) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return collecting(argv, { env: { ...process.env, NODE_OPTIONS: `--require ${SLOW_PID_ONE}` } }, (pid) => {
    const container = descendantsOf(pid).find(initOfChildNamespace);
    return container === undefined ? undefined : () => act(Number(/^PPid:\s*(\d+)$/m.exec(readFileSync(`/proc/${container}/status`, 'utf8'))![1]));
  });
}

/**
 * Starts `argv` in a process group of its own, with its relaunched Node held before its
 * script runs when it is not PID 1 of a pid namespace (helpers/slow-relaunch.js), hands
 * `act` that process group once the relaunched Node is there, and resolves with the exit
 * status and output when every holder of the output has ended.
 */
function whileRelaunchStarts(argv: string[], act: (group: number) => void): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return collecting(argv, { env: { ...process.env, NODE_OPTIONS: `--require ${SLOW_RELAUNCH}` }, detached: true }, (pid) => {
    // The relaunch runs Node once unshare(1) or nsenter(1) has executed it (from a read-only copy of Node's file).
    if (!descendantsOf(pid).some(runsNode)) return undefined;
    // Into the 1.5 s hold, as a user's Ctrl-C would come.
    return () => setTimeout(() => act(pid), 200);
  });
}

/**
 * Starts `argv` with its output collected, asks `found` every 10 ms, with the started
 * process's pid, until it answers with what to do then, does that once, and resolves with
 * the exit status and output when every holder of the output has ended.
 */
function collecting(argv: string[], options: { env: NodeJS.ProcessEnv; detached?: boolean }, found: (pid: number) => (() => void) | undefined): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], ...options });
    let stdout = '';
    let stderr = '';
    const look = setInterval(() => {
      const then = found(child.pid!);
      if (then === undefined) return;
      clearInterval(look);
      then();
    }, 10);
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => {
      clearInterval(look);
      resolve({ status, stdout, stderr });
    });
  });
}

/** bin/mountkit's command line under `shell` (none: its own #!/bin/sh). */
function underShell(shell: string[], args: string[]): [string, string[]] {
  const [cmd, ...rest] = [...shell, LAUNCHER, ...args];
  return [cmd, rest];
}

maybe('mountkit run', () => {
  afterAll(removeRootlessInstall);

  test("the container's stdout, stderr and exit status are the command's; it is PID 1", () => {
    const r = withBundle(config(['sh', '-c', 'echo out $$; echo err >&2; exit 7']), (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 7, stdout: 'out 1\n', stderr: 'err\n' });
  });

  test.each([
    ['the shell launcher', 'launcher'],
    ['the Node entry (a relaunch)', 'node'],
  ] as const)("CAP_MKNOD without a user namespace (%s): the container can make a device node and open it, as no device cgroup stops it, and the run warns so, once", (_what, entry) => {
    const caps = ['CAP_MKNOD', 'CAP_DAC_OVERRIDE'];
    const c = config(['sh', '-c', 'mknod /dev/z c 1 5 && head -c 3 /dev/z | od -An -tx1']);
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
    const r = withBundle(c, (dir) => runMountkit(dir, [], entry));
    expect(r).toEqual({
      status: 0,
      stdout: ' 00 00 00\n',
      stderr:
        "mountkit warn: process.capabilities.bounding: CAP_MKNOD without a user namespace lets the container make and open any device node, the host's disks among them: " +
        "mountkit applies no device cgroup (linux.resources), where runc's allows only /dev/null, zero, full, random, urandom, tty, console, ptmx, pts/* and net/tun\n",
    });
  });

  test.each([
    ['the shell launcher', 'launcher'],
    ['the Node entry (a relaunch)', 'node'],
  ] as const)("linux.resources limits and linux.cgroupsPath are not applied, and the run says so, once (%s): the container runs in mountkit's own cgroup", (_what, entry) => {
    const c = config(['sh', '-c', 'echo ran']);
    c.linux.resources = { devices: [{ allow: false, access: 'rwm' }], memory: { limit: 100_000_000 }, pids: { limit: 50 } };
    c.linux.cgroupsPath = '/mountkit-test-never-made';
    const r = withBundle(c, (dir) => runMountkit(dir, [], entry));
    expect(r).toEqual({
      status: 0,
      stdout: 'ran\n',
      stderr:
        'mountkit warn: linux.resources.memory, linux.resources.pids, linux.cgroupsPath: not applied: mountkit makes no cgroup, ' +
        'so the container runs in the one mountkit was started in, without these limits (a runtime that embeds mountkit applies them)\n',
    });
    expect(readdirSync('/sys/fs/cgroup').some((controller) => existsSync(path.join('/sys/fs/cgroup', controller, 'mountkit-test-never-made')))).toBe(false);
  });

  test.each([
    ['the shell launcher, whose shell waits for the container: no Node is left to tell its end', 'launcher', ''],
    ['the Node entry, whose first process waits for the container', 'node', 'mountkit info: the container ended {"status":3}\n'],
  ] as const)('--log-level info (%s): the program to be started, and how the container ended', (_what, entry, end) => {
    const r = withBundle(config(['sh', '-c', 'exit 3']), (dir) => runMountkit(dir, ['--log-level', 'info'], entry));
    expect(r).toEqual({ status: 3, stdout: '', stderr: `mountkit info [exec]: starting the program {"path":"/bin/sh"}\n${end}` });
  });

  test('the Node entry alone (two Node start-ups for a pid namespace) gives the same container', () => {
    const r = withBundle(config(['sh', '-c', 'echo $$; echo $(ls /proc/self/fd)']), (dir) => runMountkit(dir, [], 'node'));
    expect(r).toEqual({ status: 0, stdout: '1\n0 1 2 3\n', stderr: '' });
  });

  test("the launcher's guess of a pid namespace is only a guess: a config that only mentions one runs without", () => {
    // A field mountkit ignores holds the text the launcher looks for.
    const c = config(['sh', '-c', 'echo $$; echo $(ls /proc/self/fd)'], { linux: { namespaces: [{ type: 'mount' }] }, x: { type: 'pid' } });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r.status).toBe(0);
    const [pid, fds] = r.stdout.trim().split('\n');
    expect(Number(pid)).toBeGreaterThan(1);
    expect(fds).toBe('0 1 2 3');
  });

  test('Node is not made to parse NODE_EXTRA_CA_CERTS for mountkit: not by the launcher, not by the relaunch', () => {
    // A file that is missing makes every Node start that reads the variable warn on stderr.
    const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem' };
    const warning = /Ignoring extra certs from `\/nonexistent\/ca\.pem`/g;
    expect(spawnSync(process.execPath, ['-e', '0'], { env, encoding: 'utf8' }).stderr).toMatch(warning);
    withBundle(config(['sh', '-c', 'echo $$']), (dir) => {
      const launcher = spawnSync(LAUNCHER, ['run', '--bundle', dir], { env, encoding: 'utf8' });
      expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([0, '1\n', '']);
      // The Node entry alone: the user's own Node start reads it; the one under unshare(1) does not.
      const node = spawnSync(process.execPath, [BIN, 'run', '--bundle', dir], { env, encoding: 'utf8' });
      expect([node.status, node.stdout, node.stderr.match(warning)?.length]).toEqual([0, '1\n', 1]);
    });
  });

  test.each([
    ...LAUNCHER_SHELLS.map(([sh, shell]): [string, string[]] => [`bin/mountkit under ${sh}`, [...shell, LAUNCHER]]),
    ['the Node entry', [process.execPath, BIN]],
  ])("%s gives the runtime hooks the environment it was started with, as runc gives its own: `_`, NODE_EXTRA_CA_CERTS and variables named like the launcher's own included", (_what, entry) => {
    const out = mkdtempSync(path.join(tmpdir(), 'mountkit-env-'));
    try {
      // Every name the launcher keeps its own values in (its mountkit_names), with values a shell could mangle.
      const own = /^mountkit_names='([^']*)'$/m.exec(readFileSync(LAUNCHER, 'utf8'))![1].split(' ');
      expect(own).toEqual(expect.arrayContaining(['bundle', 'command', 'main', 'line', 'ignored']));
      const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', MOUNTKIT_TEST_WORDS: 'a b\tc' };
      for (const name of own) env[name] = `given ${name} $HOME \\ '"`;
      // bash passes every command it starts `_` as that command's path, so no `_` the caller gives reaches Node through it.
      if (entry[0] !== 'bash') env._ = '/usr/local/bin/caller';
      // bash and busybox sh export SHLVL, their nesting depth, to what they start: the shell's own, as `_` is bash's.
      const shells = entry[0] === 'bash' || entry[0] === 'busybox' ? ['SHLVL'] : [];
      const c = config(['true']);
      // The hook's own shell exports PWD, its working directory (the bundle's, for a runtime hook).
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', 'env -0 -u PWD -u _ > "$0"; printf %s "${_-}" > "$0.underscore"', path.join(out, 'env')] }] };
      withBundle(c, (dir) => {
        const r = spawnSync(entry[0], [...entry.slice(1), 'run', '--bundle', dir], { env, encoding: 'utf8' });
        expect([r.status, r.stderr.replace(/^.*Ignoring extra certs.*\n/m, '')]).toEqual([0, '']);
      });
      const given = readFileSync(path.join(out, 'env'), 'utf8').split('\0').filter((l) => l !== '' && !shells.includes(l.split('=')[0])).sort();
      const { _: underscore, ...rest } = env;
      expect(given).toEqual(Object.entries(rest).map(([k, v]) => `${k}=${v}`).sort());
      if (underscore !== undefined) expect(readFileSync(path.join(out, 'env.underscore'), 'utf8')).toBe(underscore);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test('where pidfds are refused (a seccomp filter answering ENOSYS), the Node entry still passes signals on, by pid', async () => {
    const script = `trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM; ${READY_THEN_WAIT}`;
    const r = await withBundleAsync(config(['sh', '-c', script]), (dir) => signalled([process.execPath, WITHOUT_PIDFDS, process.execPath, BIN, 'run', '--bundle', dir], 1, ['SIGUSR1', 'SIGTERM']));
    expect(r).toEqual({ status: 7, stdout: 'ready\ngot USR1\ngot TERM\n', stderr: '' });
  });

  test.each(SIGNAL_PASSERS)('%s passes the signals it gets on to the container, as runc run does', async (_what, entry) => {
    const script = `trap "echo got USR1" USR1; trap "echo got HUP" HUP; trap "echo got TERM; exit 7" TERM; ${READY_THEN_WAIT}`;
    const r = await withBundleAsync(config(['sh', '-c', script]), (dir) => signalled([...entry, 'run', '--bundle', dir], 1, ['SIGUSR1', 'SIGHUP', 'SIGTERM']));
    expect(r).toEqual({ status: 7, stdout: 'ready\ngot USR1\ngot HUP\ngot TERM\n', stderr: '' });
  }, 30_000);

  test.each(SIGNAL_PASSERS)('%s passes SIGPWR, SIGTSTP and SIGCONT on too, as runc run does, rather than ending or stopping', async (_what, entry) => {
    const script = `trap "echo got PWR" PWR; trap "echo got TSTP" TSTP; trap "echo got CONT; exit 5" CONT; ${READY_THEN_WAIT}`;
    const r = await withBundleAsync(config(['sh', '-c', script]), (dir) => signalled([...entry, 'run', '--bundle', dir], 1, ['SIGPWR', 'SIGTSTP', 'SIGCONT']));
    expect(r).toEqual({ status: 5, stdout: 'ready\ngot PWR\ngot TSTP\ngot CONT\n', stderr: '' });
  }, 30_000);

  test.each(LAUNCHER_SHELLS)('bin/mountkit under %s passes SIGSTKFLT and the real-time signals on too (SIGRTMIN+3, systemd\'s halt)', async (_sh, shell) => {
    const script = `trap "echo got 16" 16; trap "echo got 37; exit 6" 37; ${READY_THEN_WAIT}`;
    const r = await withBundleAsync(config(['sh', '-c', script]), (dir) => signalled([...underShell(shell, ['run', '--bundle', dir]).flat()], 1, ['SIGSTKFLT', 37]));
    expect(r).toEqual({ status: 6, stdout: 'ready\ngot 16\ngot 37\n', stderr: '' });
  }, 30_000);

  test.each(SIGNAL_PASSERS)(
    '%s: signals that come while the rootfs is prepared wait for the container to handle them, in order (Node would open its inspector on SIGUSR1)',
    async (_what, entry) => {
      const c = config(['sh', '-c', readyThenTrapped('trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM')]);
      // The createContainer hook keeps mountkit preparing for a second; the signals come 300 and 600 ms into it.
      c.hooks = { createContainer: [PREPARING_HOOK] };
      const r = await withBundleAsync(c, (dir) => signalled([...entry, 'run', '--bundle', dir], HOOK_RUNNING, ['SIGUSR1', 'SIGTERM']));
      expect(r).toEqual({ status: 7, stdout: 'ready\ngot USR1\ngot TERM\n', stderr: '' });
    },
    30_000,
  );

  test.each(SIGNAL_PASSERS)(
    "%s: those signals reach the container too when its execve closes thousands of descriptors (which it does before it resets mountkit's handlers), in six runs one after another",
    async (_what, entry) => {
      const c = config(['sh', '-c', readyThenTrapped('trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM')]);
      c.hooks = { createContainer: [PREPARING_HOOK] };
      const runs = await withBundleAsync(c, (dir) => {
        // The package's plugins and, before the exec step, one that opens about 20000 files.
        const list = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: { module: string }[] };
        list.plugins.splice(list.plugins.findIndex((p) => p.module === 'builtin:exec'), 0, { module: path.join(REPO, 'test/fixtures/plugins/descriptor-hog.js') });
        const plugins = path.join(dir, 'plugins.json');
        writeFileSync(plugins, JSON.stringify(list));
        // Each run has one chance in four or so of looking at the container in that moment.
        // One after another: side by side on a loaded machine, a container's shell could
        // take longer than the half second a signal waits for its handler.
        const each = async () => {
          const seen = [];
          for (let i = 0; i < 6; i++) seen.push(await signalled([...entry, 'run', '--plugins', plugins, '--bundle', dir], HOOK_RUNNING, ['SIGUSR1', 'SIGTERM']));
          return seen;
        };
        return each();
      });
      expect(runs).toEqual(Array.from({ length: 6 }, () => ({ status: 7, stdout: 'ready\ngot USR1\ngot TERM\n', stderr: '' })));
    },
    60_000,
  );

  test.each(SIGNAL_PASSERS)(
    '%s: a signal waiting for the container\'s start still reaches it when 250 more come meanwhile, in four runs one after another (dash and busybox sh run a trap that comes inside another with $? as it was when that one began)',
    async (_what, entry) => {
      // SIGUSR1 comes while the createContainer hook runs, SIGHUP every 3 ms after it
      // (ignored by the container), then SIGTERM. The launcher under dash or busybox sh,
      // draining from its traps, took a HUP trap's $? for its own test of whether Node
      // had reached its execve, and lost SIGUSR1 in most runs.
      const c = config(['sh', '-c', readyThenTrapped('trap "" HUP; trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM')]);
      c.hooks = { createContainer: [PREPARING_HOOK] };
      const signals: Signal[] = ['SIGUSR1', ...Array<Signal>(250).fill('SIGHUP'), 'SIGTERM'];
      const runs = await withBundleAsync(c, async (dir) => {
        const seen = [];
        for (let i = 0; i < 4; i++) seen.push(await signalled([...entry, 'run', '--bundle', dir], HOOK_RUNNING, signals, false, 3));
        return seen;
      });
      expect(runs).toEqual(Array.from({ length: 4 }, () => ({ status: 7, stdout: 'ready\ngot USR1\ngot TERM\n', stderr: '' })));
    },
    90_000,
  );

  test.each(SIGNAL_PASSERS)(
    '%s: two signals sent at once (kill -USR1, then kill -TERM) both reach the running container, in six runs one after another (bash 5.2 drops the first in its wait)',
    async (_what, entry) => {
      // Either may come first (the kernel delivers pending signals lowest first, busybox sh
      // may run the second's trap first): the container ends once it has had both.
      const traps = 'trap "u=1; echo got USR1; [ -z \\"\\$t\\" ] || exit 7" USR1; trap "t=1; echo got TERM; [ -z \\"\\$u\\" ] || exit 7" TERM';
      const runs = await withBundleAsync(config(['sh', '-c', `${traps}; ${READY_THEN_WAIT}`]), async (dir) => {
        const seen = [];
        for (let i = 0; i < 6; i++) {
          const r = await signalled([...entry, 'run', '--bundle', dir], 1, [['SIGUSR1', 'SIGTERM']]);
          seen.push({ ...r, stdout: r.stdout.split('\n').sort().join('\n') });
        }
        return seen;
      });
      expect(runs).toEqual(Array.from({ length: 6 }, () => ({ status: 7, stdout: '\ngot TERM\ngot USR1\nready', stderr: '' })));
    },
    60_000,
  );

  test.each([
    ...SIGNAL_PASSERS.map(([what, entry]): [string, string[], object] => [what, entry, {}]),
    ['the Node entry with a poststop hook (its first process stays where mountkit was started)', [process.execPath, BIN], { hooks: { poststop: [{ path: '/bin/true' }] } }],
  ])('%s: a container killed by SIGKILL (kill -9, the OOM killer) ends the run with 137 and nothing on stderr, as runc run', async (_what, entry, over) => {
    const c = config(['sh', '-c', `${READY_THEN_WAIT}; echo survived`], over as Record<string, unknown>);
    const r = await withBundleAsync(c, (dir) => onceReady([...entry, 'run', '--bundle', dir], (container) => process.kill(container, 'SIGKILL')));
    expect(r).toEqual({ status: 137, stdout: 'ready\n', stderr: '' });
    const id = `mountkit-killed-${process.pid}`;
    const runc = await withBundleAsync(c, (dir) => onceReady([RUNC!, 'run', '--bundle', dir, id], (container) => process.kill(container, 'SIGKILL')));
    spawnSync(RUNC!, ['delete', '--force', id]);
    expect(runc).toEqual(r);
  }, 30_000);

  test.each(SIGNAL_PASSERS)("%s: the container's parent, the shell that forked it into its pid namespace, takes it along when it is killed", async (_what, entry) => {
    const r = await withBundleAsync(config(['sh', '-c', `${READY_THEN_WAIT}; echo survived`]), (dir) =>
      onceReady([...entry, 'run', '--bundle', dir], (_container, parent) => process.kill(parent, 'SIGKILL')),
    );
    // A container left running would keep the output open for its last words.
    expect([r.status, r.stdout]).toEqual([137, 'ready\n']);
  }, 30_000);

  test.each([
    ['the launcher', [LAUNCHER]],
    ['the Node entry, with runtime hooks (a first process and a relaunch)', [process.execPath, BIN]],
  ])('close_range(2) refused (EPERM, an older runtime\'s profile): %s marks what it was started with close-on-exec one by one, and runs', (_what, entry) => {
    const c = config(['sh', '-c', 'ls /proc/self/fd | tr "\\n" " "']);
    if (entry[0] !== LAUNCHER) c.hooks = { poststop: [{ path: '/bin/true' }] };
    const r = withBundle(c, (dir) =>
      spawnSync('bash', ['-c', 'exec 200</dev/null; exec "$@"', 'bash', process.execPath, WITHOUT_CLOSE_RANGE, ...entry, 'run', '--bundle', dir], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' }),
    );
    // ls holds one of its own (3).
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '0 1 2 3 ', '']);
  });

  test.each(LAUNCHER_SHELLS)('bin/mountkit under %s killed (SIGKILL) while its container runs: the container ends as it would, and nothing more reaches stderr', async (_sh, shell) => {
    const r = await withBundleAsync(config(['sh', '-c', 'echo ready; sleep 0.5; echo done']), (dir) =>
      new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
        const child = spawn(shell[0] ?? LAUNCHER, [...shell.slice(1), ...(shell.length ? [LAUNCHER] : []), 'run', '--bundle', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => {
          stdout += d;
          if (stdout === 'ready\n') child.kill('SIGKILL');
        });
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        child.on('error', reject);
        // Every holder of the output has ended: the container and what the launcher left behind.
        child.on('close', () => resolve({ stdout, stderr }));
      }),
    );
    expect(r).toEqual({ stdout: 'ready\ndone\n', stderr: '' });
  }, 30_000);

  /**
   * The Node entry's relaunches (src/cli/run.ts relaunch), each by its config over
   * busyboxConfig's and its options. The first three fork the container as PID 1 of a new
   * pid namespace (the shell unshare runs); in the others the relaunch becomes the
   * container. The user namespace's root is host id 100000 (searchable gives it the bundle).
   */
  const RELAUNCHES: [string, Record<string, unknown>, string[]][] = [
    ['a new pid namespace', {}, []],
    ['a new pid namespace, a descriptor passed (the channel moves before the execve), a poststop hook', { hooks: { poststop: [{ path: '/bin/true' }] } }, ['--preserve-fds', '1']],
    [
      'a new user namespace and a pid namespace (nsenter first)',
      { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] } },
      [],
    ],
    ['no pid namespace, a poststop hook', { linux: { namespaces: [{ type: 'mount' }] }, hooks: { poststop: [{ path: '/bin/true' }] } }, []],
    ['a pid namespace joined by path', { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: `/proc/${process.pid}/ns/pid` }] }, mounts: [] }, []],
  ];

  /**
   * Removes the cgroups runc made for the container `id` (no cgroupsPath: `/ID` in each
   * hierarchy), which `runc delete` cannot find once runc was killed before it saved its
   * state. A cgroup with a process in it cannot be removed (EBUSY): its init ends once the
   * hook is done, so each is tried again until then, for ten seconds at most.
   */
  async function removeCgroupsOf(id: string): Promise<void> {
    const root = '/sys/fs/cgroup';
    for (const dir of [path.join(root, id), ...readdirSync(root).map((h) => path.join(root, h, id))]) {
      for (let tries = 0; existsSync(dir); tries++) {
        try {
          rmdirSync(dir);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EBUSY' || tries === 200) throw err;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
    }
  }

  /**
   * Starts `argv` with a socket on descriptor 3 (for --preserve-fds 1) and SIGKILLs it
   * alone, no other process of its, once PREPARING_HOOK runs under it (`preparing`) or once
   * its stdout has a line (`running`); resolves with its output once every holder of that
   * output has ended. With `group`, it starts in a process group of its own, which gets the
   * SIGKILL, as timeout(1) -s KILL sends it.
   */
  function killedWhile(argv: string[], when: 'preparing' | 'running', group = false): Promise<{ status: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', 'pipe'], detached: group });
      let stdout = '';
      let stderr = '';
      let killed = false;
      const kill = () => {
        killed = true;
        if (group) process.kill(-child.pid!, 'SIGKILL');
        else child.kill('SIGKILL');
      };
      const look = setInterval(() => {
        if (!killed && when === 'preparing' && hookRunning(child.pid!)) kill();
      }, 20);
      child.stdout!.on('data', (d: Buffer) => {
        stdout += d;
        if (!killed && when === 'running' && stdout.includes('\n')) kill();
      });
      child.stderr!.on('data', (d: Buffer) => (stderr += d));
      child.on('error', reject);
      child.on('close', (status) => {
        clearInterval(look);
        resolve({ status, stdout, stderr });
      });
    });
  }

  /** The config of RELAUNCHES' `over` running `args`, with `hooks` added to its own. */
  const relaunchConfig = (args: string[], over: Record<string, unknown>, hooks: Record<string, unknown> = {}) => {
    const c = config(args, over);
    c.hooks = { ...c.hooks, ...hooks };
    return c;
  };

  /** The bundle `dir` searchable by the container's root, which a user namespace's may not be (config.json stays the host's). */
  const searchable = (dir: string) => {
    chmodSync(dir, 0o711);
    chmodSync(path.join(dir, 'config.json'), 0o600);
    return dir;
  };

  test.each(RELAUNCHES)(
    'the Node entry killed (SIGKILL) while the rootfs is prepared, %s: the relaunch ends with it and the container never starts, as under runc',
    async (_what, over, opts) => {
      const c = relaunchConfig(['sh', '-c', 'echo survived'], over, { createContainer: [PREPARING_HOOK] });
      const r = await withBundleAsync(c, (dir) => killedWhile([process.execPath, BIN, 'run', ...opts, '--bundle', searchable(dir)], 'preparing'));
      // A relaunch left running would print its container's words once the hook is done.
      expect(r).toEqual({ status: null, stdout: '', stderr: '' });
    },
    30_000,
  );

  test.each(RELAUNCHES)(
    'the Node entry killed (SIGKILL) with its whole process group (timeout -s KILL) while the rootfs is prepared, %s: the relaunch, in a session of its own, ends with it all the same',
    async (_what, over, opts) => {
      const c = relaunchConfig(['sh', '-c', 'echo survived'], over, { createContainer: [PREPARING_HOOK] });
      const r = await withBundleAsync(c, (dir) => killedWhile([process.execPath, BIN, 'run', ...opts, '--bundle', searchable(dir)], 'preparing', true));
      expect(r).toEqual({ status: null, stdout: '', stderr: '' });
    },
    30_000,
  );

  test('runc run killed (SIGKILL) while its createContainer hook runs: the container never starts (its init ends once the hook is done)', async () => {
    const c = relaunchConfig(['sh', '-c', 'echo survived'], {}, { createContainer: [PREPARING_HOOK] });
    const id = `mountkit-starter-${process.pid}`;
    const r = await withBundleAsync(c, (dir) => killedWhile([RUNC!, 'run', '--bundle', dir, id], 'preparing'));
    spawnSync(RUNC!, ['delete', '--force', id]);
    await removeCgroupsOf(id);
    expect(r).toEqual({ status: null, stdout: '', stderr: '' });
  }, 30_000);

  test.each(LAUNCHER_SHELLS)(
    'bin/mountkit under %s killed (SIGKILL) while the rootfs is prepared: its watch kills the container, which never starts, as under runc',
    async (_sh, shell) => {
      const c = relaunchConfig(['sh', '-c', 'echo survived'], {}, { createContainer: [PREPARING_HOOK] });
      const r = await withBundleAsync(c, (dir) => killedWhile([...shell, LAUNCHER, 'run', '--bundle', dir], 'preparing'));
      // A container left running would print its words once the hook is done; the watch holds the output too.
      expect(r).toEqual({ status: null, stdout: '', stderr: '' });
    },
    30_000,
  );

  test.each(LAUNCHER_SHELLS)(
    'bin/mountkit under %s killed (SIGKILL) before the shell unshare(1) runs has forked Node: its watch kills that shell, and nothing starts',
    async (_sh, shell) => {
      // An unshare(1) first in PATH that waits on a FIFO before it runs the real one: the
      // launcher's job, which becomes it, has no child until the FIFO is opened.
      const bin = mkdtempSync(path.join(tmpdir(), 'mountkit-held-unshare-'));
      try {
        const real = spawnSync('sh', ['-c', 'command -v unshare'], { encoding: 'utf8' }).stdout.trim();
        const fifo = path.join(bin, 'go');
        expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
        writeFileSync(path.join(bin, 'unshare'), `#!/bin/sh\nread -r _ <'${fifo}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
        const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
        const r = await withBundleAsync(config(['sh', '-c', 'echo survived']), async (dir) => {
          const child = spawn(shell[0] ?? LAUNCHER, [...shell.slice(1), ...(shell.length ? [LAUNCHER] : []), 'run', '--bundle', dir], { stdio: ['ignore', 'pipe', 'pipe'], env });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d));
          child.stderr.on('data', (d: Buffer) => (stderr += d));
          // Every holder of the output has ended.
          const closed = new Promise<number | null>((resolve, reject) => {
            child.on('error', reject);
            child.on('close', resolve);
          });
          /** Whether `pid` is the held unshare, not yet ended. */
          const held = (pid: number) => {
            try {
              return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(path.join(bin, 'unshare')) && !/^State:\s*Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
            } catch {
              return false;
            }
          };
          // The launcher is killed once the held unshare runs; the FIFO is opened once that
          // has ended, or after 5 s all the same, so that a container it would start prints.
          const heldLeft = await new Promise<boolean>((resolve) => {
            let pid: number | undefined;
            let polls = 0;
            const look = setInterval(() => {
              if (pid === undefined) {
                pid = descendantsOf(child.pid!).find(held);
                if (pid !== undefined) child.kill('SIGKILL');
                return;
              }
              if (held(pid) && ++polls < 250) return;
              clearInterval(look);
              const left = held(pid);
              try {
                // Without a reader, the open fails (ENXIO) rather than waiting for one.
                closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
              } catch {
                // The held unshare has ended.
              }
              resolve(left);
            }, 20);
          });
          return { status: await closed, stdout, stderr, held: heldLeft };
        });
        expect(r).toEqual({ status: null, stdout: '', stderr: '', held: false });
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    },
    30_000,
  );

  test.each(RELAUNCHES)(
    "the Node entry killed (SIGKILL) while its container runs, %s: the container goes on to its end, as runc's does (whose output ends with runc, its pipes' reader), and nothing more reaches stderr",
    async (_what, over, opts) => {
      const c = relaunchConfig(['sh', '-c', 'echo ready; sleep 0.5; echo done'], over);
      const r = await withBundleAsync(c, (dir) => killedWhile([process.execPath, BIN, 'run', ...opts, '--bundle', searchable(dir)], 'running'));
      expect(r).toEqual({ status: null, stdout: 'ready\ndone\n', stderr: '' });
    },
    30_000,
  );

  test.each(SIGNAL_PASSERS)('%s: the shell killed while mountkit starts, before its parent-death signal is set, stops it before the container starts', async (_what, entry) => {
    const r = await withBundleAsync(config(['sh', '-c', 'echo survived']), (dir) =>
      whilePidOneStarts([...entry, 'run', '--bundle', dir], (parent) => process.kill(parent, 'SIGKILL')),
    );
    // Killed before the program started: 1 and one line, as runc 1.1.5 ends; the Node entry's
    // first process tells it by the relaunch's missing exec event (cli/relaunch-end.ts),
    // bin/mountkit by its Node's (RootfsConfig.execNotice). bash reports its job killed by
    // a signal on a line of its own before (`line N: PID Killed ...`).
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/(^|\n)mountkit: unable to start the container's process: the process preparing the rootfs was killed by SIG[A-Z]+\n$/);
  }, 30_000);

  test.each(LAUNCHER_SHELLS)("bin/mountkit under %s gives the container its standard input (a shell's background job would get /dev/null)", (_sh, shell) => {
    const r = withBundle(config(['sh', '-c', 'read -r line; echo "read $line"']), (dir) =>
      spawnSync(...underShell(shell, ['run', '--bundle', dir]), { input: 'from stdin\n', encoding: 'utf8' }),
    );
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'read from stdin\n', '']);
  });

  test.each(LAUNCHER_SHELLS.flatMap(([sh, shell]) => [
    [sh, 'with', shell, undefined],
    [sh, 'without', shell, { linux: { namespaces: [{ type: 'mount' }] } }],
  ]))('bin/mountkit under %s, %s a pid namespace: the container ignores none of what its starter ignored (SIGHUP, SIGINT), as under runc', (_sh, _with, shell, over) => {
    const c = config(['grep', '^SigIgn', '/proc/self/status'], over as Record<string, unknown> | undefined);
    // Started from a shell that ignores SIGHUP and SIGINT, as nohup and a background job would.
    const cmd = [...(shell as string[]), LAUNCHER, 'run', '--bundle'].map((a) => `'${a}'`).join(' ');
    const r = withBundle(c, (dir) => spawnSync('sh', ['-c', `trap '' HUP INT; exec ${cmd} '${dir}'`], { encoding: 'utf8' }));
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'SigIgn:\t0000000000000000\n', '']);
  });

  test.each(LAUNCHER_SHELLS)('bin/mountkit under %s, started ignoring SIGHUP and SIGINT (nohup, a background job): it starts again with them at their default, so that no Node entry waits beside the container (one Node process prepared it), and SIGINT reaches the container', async (_sh, shell) => {
    const ignoring = (dir: string): string[] => ['sh', '-c', `trap '' HUP INT; exec ${[...shell, LAUNCHER, 'run', '--bundle', dir].map((a) => `'${a}'`).join(' ')}`];
    const counted = await withBundleAsync(config(['sh', '-c', 'echo ready; read -r line; echo "read $line"']), (dir) => runCountingNodes(ignoring(dir), process.env, 'ready\n'));
    expect(counted).toEqual({ status: 0, stdout: 'ready\nread go\n', stderr: '', nodes: 0 });
    // The launcher started again has the caller's environment: NODE_EXTRA_CA_CERTS, which the
    // first one set aside, back; a variable named like one of its own as it was given.
    const given = { ...process.env, NODE_EXTRA_CA_CERTS: '/nonexistent/ca.pem', pool: '7' };
    const environ = await withBundleAsync(config(['sh', '-c', 'echo ready; read -r line']), (dir) =>
      new Promise<string[]>((resolve, reject) => {
        const [cmd, ...args] = ignoring(dir);
        const child = spawn(cmd, args, { env: given, stdio: ['pipe', 'pipe', 'pipe'] });
        let seen: string[] = [];
        child.stdout.once('data', () => {
          seen = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
          child.stdin.end('go\n');
        });
        child.on('error', reject);
        child.on('close', () => resolve(seen));
      }),
    );
    expect(environ.filter((e) => /^(NODE_EXTRA_CA_CERTS|MOUNTKIT_NODE_EXTRA_CA_CERTS|pool)=/.test(e)).sort()).toEqual(['NODE_EXTRA_CA_CERTS=/nonexistent/ca.pem', 'pool=7']);
    const script = `trap "echo got INT; exit 7" INT; ${READY_THEN_WAIT}`;
    const r = await withBundleAsync(config(['sh', '-c', script]), (dir) => signalled(ignoring(dir), 1, ['SIGINT']));
    expect([r.status, r.stdout, r.stderr]).toEqual([7, 'ready\ngot INT\n', '']);
  }, 30_000);

  test('bin/mountkit started ignoring SIGINT with a hook the runtime runs: the Node entry (its first process waits beside the container), which passes the caller\'s own environment to the hook (a shell\'s exec would pass one of its making), and SIGINT reaches the container', async () => {
    const ignoring = (dir: string): string[] => ['sh', '-c', `trap '' INT; exec env 'odd.name=1' '${LAUNCHER}' run --bundle '${dir}'`];
    // The hook's own environment as its execve(2) gave it: a shell passes no such name on.
    const hook = { path: '/bin/sh', args: ['sh', '-c', 'tr "\\0" "\\n" </proc/$$/environ | grep -qx "odd.name=1"'] };
    const counted = await withBundleAsync(config(['sh', '-c', 'echo ready; read -r line; echo "read $line"'], { hooks: { poststop: [hook] } }), (dir) => runCountingNodes(ignoring(dir), process.env, 'ready\n'));
    expect(counted).toEqual({ status: 0, stdout: 'ready\nread go\n', stderr: '', nodes: 1 });
    const script = `trap "echo got INT; exit 7" INT; ${READY_THEN_WAIT}`;
    const r = await withBundleAsync(config(['sh', '-c', script], { hooks: { poststop: [hook] } }), (dir) => signalled(ignoring(dir), 1, ['SIGINT']));
    expect([r.status, r.stdout, r.stderr]).toEqual([7, 'ready\ngot INT\n', '']);
  }, 30_000);

  test.each(SIGNAL_PASSERS.flatMap(([what, entry]) => (['SIGHUP', 'SIGQUIT', 'SIGTERM'] as const).map((sig): [string, NodeJS.Signals, string[]] => [what, sig, entry])))(
    '%s: %s sent to the whole process group ends neither it nor what runs between it and the container',
    async (_what, sig, entry) => {
      // The container leads a session of its own, as under runc: it gets the signal once, passed on, and exits.
      const name = sig.slice(3);
      const script = `trap "echo got ${name}; exit 7" ${name}; ${READY_THEN_WAIT}`;
      const r = await withBundleAsync(config(['sh', '-c', script]), (dir) => signalled([...entry, 'run', '--bundle', dir], 1, [sig], true));
      expect([r.status, r.stdout, r.stderr]).toEqual([7, `ready\ngot ${name}\n`, '']);
    },
    30_000,
  );

  test.each([
    ['with a pid namespace: a session of its own (pgrp and session 1, the container\'s pid), as runc\'s init makes it', undefined, /^pid 1 pgrp 1 session 1 tty 0$/, LAUNCHER],
    ['without one, started by a shell: the shell\'s process group, so a Ctrl-C still reaches it', { linux: { namespaces: [{ type: 'mount' }] } }, /^pid (\d+) pgrp (?!\1 )\d+ session \d+ tty 0$/, LAUNCHER],
    [
      'without one, the Node entry\'s relaunch (a poststop hook): the session of its own it was started in (setsid: EPERM)',
      { linux: { namespaces: [{ type: 'mount' }] }, hooks: { poststop: [{ path: '/bin/true' }] } },
      /^pid (\d+) pgrp \1 session \1 tty 0$/,
      `${process.execPath} ${BIN}`,
    ],
  ])('under a terminal, a container without process.terminal has no controlling terminal (/dev/tty: ENXIO); %s', (_what, over, session, entry) => {
    const probe = 'read -r pid comm state ppid pgrp sid tty rest </proc/self/stat; echo "pid $pid pgrp $pgrp session $sid tty $tty"; echo x >/dev/tty';
    const c = config(['sh', '-c', probe], over);
    // script(1) runs the command on a new pseudo-terminal, its controlling terminal; the shell between does not exec mountkit.
    const r = withBundle(c, (dir) => spawnSync('script', ['-qec', `sh -c '${entry} run --seccomp-cache off --bundle ${dir}; exit $?'`, '/dev/null'], { encoding: 'utf8' }));
    const lines = r.stdout.replace(/\r/g, '').trim().split('\n');
    expect(lines[0]).toMatch(session);
    expect(lines.slice(1)).toEqual(["sh: can't create /dev/tty: No such device or address"]);
  });

  test.each([
    ['bin/mountkit', [LAUNCHER]],
    ['the Node entry', [process.execPath, BIN]],
  ])('%s, a pid namespace joined by path: a container ended by a signal gives 128+N', (_what, entry) => {
    const c = config(['sh', '-c', 'kill -TERM $$'], { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: `/proc/${process.pid}/ns/pid` }] } });
    c.mounts = [];
    const r = withBundle(c, (dir) => spawnSync(entry[0], [...entry.slice(1), 'run', '--bundle', dir], { encoding: 'utf8' }));
    expect([r.status, r.signal, r.stderr]).toEqual([143, null, '']);
  });

  test('a pid namespace joined by path whose init has exited: exit 2, one line naming it', async () => {
    // The namespace lives on through a descriptor of the holder's, after its init ended.
    const holder = spawn('sh', ['-c', 'unshare --pid --fork sleep 0.2 & p=$!; sleep 0.1; read k _ </proc/$p/task/$p/children; exec 9</proc/$k/ns/pid; sleep 0.3; echo held; sleep 5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      await new Promise((resolve) => holder.stdout.once('data', resolve));
      const nsPath = `/proc/${holder.pid}/fd/9`;
      const c = config(['true'], { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: nsPath }] } });
      c.mounts = [];
      const r = withBundle(c, (dir) => spawnSync(process.execPath, [BIN, 'run', '--bundle', dir], { encoding: 'utf8' }));
      expect([r.status, r.stderr]).toEqual([2, `mountkit: linux.namespaces "${nsPath}": the pid namespace has no init process left (fork: ENOMEM)\n`]);
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test("a pid namespace joined by path: the container is in it, and mountkit's own thread makes its later children at home again", async () => {
    // A pid namespace of its own, its init a sleep.
    const init = spawn('unshare', ['--pid', '--fork', '--kill-child', 'sleep', '10'], { stdio: 'ignore' });
    try {
      let inner: number | undefined;
      for (let i = 0; i < 100 && inner === undefined; i++) {
        inner = Number(readFileSync(`/proc/${init.pid}/task/${init.pid}/children`, 'utf8').trim()) || undefined;
        if (inner === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const nsPath = `/proc/${inner}/ns/pid`;
      const c = config(['sh', '-c', 'echo $$; read -r line'], { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: nsPath }] } });
      c.mounts = [];
      const r = await withBundleAsync(c, (dir) =>
        new Promise<{ pid: string; links: string[] }>((resolve, reject) => {
          const mk = spawn(process.execPath, [BIN, 'run', '--bundle', dir], { stdio: ['pipe', 'pipe', 'inherit'] });
          mk.on('error', reject);
          mk.stdout.once('data', (d: Buffer) => {
            const links = ['pid', 'pid_for_children'].map((n) => readlinkSync(`/proc/${mk.pid}/ns/${n}`));
            mk.stdin.end('done\n');
            mk.on('close', () => resolve({ pid: String(d).trim(), links }));
          });
        }),
      );
      // The sleep is PID 1 there; the container comes after it.
      expect(Number(r.pid)).toBeGreaterThan(1);
      expect(r.links[1]).toBe(r.links[0]);
      expect(readlinkSync(nsPath)).not.toBe(r.links[0]);
    } finally {
      init.kill('SIGKILL');
    }
  }, 30_000);

  test('a pid namespace joined by path: a signal to the whole process group while the rootfs is prepared waits for the container', async () => {
    const c = config(['sh', '-c', `trap "echo got TERM; exit 7" TERM; ${READY_THEN_WAIT}`], {
      linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: `/proc/${process.pid}/ns/pid` }] },
    });
    c.mounts = [];
    // The hook is in the process group too: it ignores the signal, as a hook under runc would have to.
    c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'trap "" TERM; sleep 1'] }] };
    const r = await withBundleAsync(c, (dir) => signalled([process.execPath, BIN, 'run', '--bundle', dir], HOOK_RUNNING, ['SIGTERM'], true));
    expect(r).toEqual({ status: 7, stdout: 'ready\ngot TERM\n', stderr: '' });
  }, 30_000);

  test.each(
    RELAUNCHES.filter(([what]) => what.startsWith('no pid namespace') || what.includes('joined by path')).flatMap(([what, over]) =>
      (['SIGINT', 'SIGHUP'] as const).map((sig): [string, NodeJS.Signals, Record<string, unknown>] => [what, sig, over]),
    ),
  )('the Node entry, %s: %s sent to the whole process group while the relaunched Node starts, before its listeners are there, waits for the container', async (_what, sig, over) => {
    const name = sig.slice(3);
    const c = relaunchConfig(['sh', '-c', `trap "echo got ${name}; exit 7" ${name}; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done`], over);
    const r = await withBundleAsync(c, (dir) => whileRelaunchStarts([process.execPath, BIN, 'run', '--bundle', dir], (group) => process.kill(-group, sig)));
    // The signal held is passed on once the program has started, which may be before its
    // shell has run the trap (its default action then ends it: 128+N), as under runc. A
    // relaunch the signal ended instead writes a line and never starts the program, which
    // would have run out its loop (0).
    expect(r.stderr).toBe('');
    expect([[7, `got ${name}\n`], [128 + osConstants.signals[sig], '']]).toContainEqual([r.status, r.stdout]);
  }, 30_000);

  test('the Node entry passes signals on in a pid namespace joined by path too', async () => {
    const script = `trap "echo got TERM; exit 7" TERM; ${READY_THEN_WAIT}`;
    const c = config(['sh', '-c', script], { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: `/proc/${process.pid}/ns/pid` }] } });
    c.mounts = [];
    const r = await withBundleAsync(c, (dir) => signalled([process.execPath, BIN, 'run', '--bundle', dir], 1, ['SIGTERM']));
    expect(r).toEqual({ status: 7, stdout: 'ready\ngot TERM\n', stderr: '' });
  }, 30_000);

  test('in one process (no pid namespace), SIGUSR1 while the rootfs is prepared does not open Node\'s inspector', async () => {
    const c = config(['sh', '-c', 'echo started'], { linux: { namespaces: [{ type: 'mount' }] } });
    c.hooks = { createContainer: [PREPARING_HOOK] };
    const r = await withBundleAsync(c, (dir) => signalled([process.execPath, BIN, 'run', '--bundle', dir], HOOK_RUNNING, ['SIGUSR1']));
    expect(r).toEqual({ status: 0, stdout: 'started\n', stderr: '' });
  }, 30_000);

  test.each(LAUNCHER_SHELLS)('bin/mountkit under %s: a pid namespace joined by path (a wrong guess) is joined before the relaunch', (_sh, shell) => {
    const c = config(['sh', '-c', 'echo $$; exit 4'], { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: `/proc/${process.pid}/ns/pid` }] } });
    c.mounts = [];
    const r = withBundle(c, (dir) => spawnSync(...underShell(shell, ['run', '--bundle', dir]), { encoding: 'utf8' }));
    expect([r.status, r.stderr]).toEqual([4, '']);
    expect(Number(r.stdout.trim())).toBeGreaterThan(1);
  });

  test.each([
    ['bin/mountkit (Node started in new pid and mount namespaces)', [LAUNCHER], 'pid'],
    ['the Node entry, relaunched under unshare(1)', [process.execPath, BIN], 'pid'],
    ['the Node entry, in one process', [process.execPath, BIN], 'uts'],
  ])('a mount namespace joined by path is copied, never changed: %s', (_entry, entry, other) => {
    // The joined namespace is a throwaway one's (unshare -m): its mount table must come out as it went in.
    const c = config(['sh', '-c', 'echo in; cat /proc/self/mountinfo | wc -l'], { linux: { namespaces: [{ type: other }, { type: 'mount', path: '/proc/SANDBOX/ns/mnt' }, { type: 'ipc' }] } });
    const r = withBundle(c, (dir) => {
      const script = [
        `sed -i "s|/proc/SANDBOX/|/proc/$$/|" ${dir}/config.json`,
        'before=$(md5sum </proc/self/mountinfo)',
        `"$@" run --bundle ${dir} --seccomp-cache off; echo "status $?"`,
        '[ "$before" = "$(md5sum </proc/self/mountinfo)" ] && echo same || echo changed',
      ].join('; ');
      return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...entry], { encoding: 'utf8', timeout: 60_000 });
    });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^in\n\d+\nstatus 0\nsame\n$/);
  });

  test.each([
    ['bin/mountkit (Node started in new pid and mount namespaces)', [LAUNCHER], 'pid'],
    ['the Node entry, relaunched under unshare(1)', [process.execPath, BIN], 'pid'],
    ['the Node entry, in one process', [process.execPath, BIN], 'uts'],
  ])('every namespace path is opened before the first join, as runc opens them: a network namespace file the joined mount namespace hides is joined all the same: %s', (_entry, entry, other) => {
    // The joined mount namespace (HOLDER's) has a tmpfs over the directory holding the
    // network namespace's file: looked up after that join, the path is not there.
    const c = config(['readlink', '/proc/self/ns/net'], { linux: { namespaces: [{ type: other }, { type: 'mount', path: '/proc/HOLDER/ns/mnt' }, { type: 'network', path: 'HIDDEN/net' }, { type: 'ipc' }] } });
    const r = withBundle(c, (dir) => {
      const hidden = path.join(dir, 'hidden');
      const script = [
        `mkdir ${hidden} && touch ${hidden}/net && unshare --net=${hidden}/net true`,
        `unshare -m --propagation private sh -c 'mount -t tmpfs tmpfs ${hidden} && touch ${dir}/ready && exec sleep 30' & holder=$!`,
        `while [ ! -e ${dir}/ready ]; do sleep 0.05; done`,
        `sed -i "s|/proc/HOLDER/|/proc/$holder/|; s|HIDDEN/|${hidden}/|" ${dir}/config.json`,
        `"$@" run --bundle ${dir} --seccomp-cache off; echo "status $?"`,
        `stat -L -c 'net:[%i]' ${hidden}/net`,
        'kill $holder',
      ].join('; ');
      return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', ...entry], { encoding: 'utf8', timeout: 60_000 });
    });
    expect(r.stderr).toBe('');
    const [joined, status, file] = r.stdout.split('\n');
    expect([status, joined]).toEqual(['status 0', file]);
    expect(file).toMatch(/^net:\[\d+\]$/);
  });

  test('--no-pivot with a shared root propagation: the rootfs moved onto / reaches no namespace sharing its /', () => {
    // In a throwaway namespace whose / is shared and whose rootfs is a mountpoint of its own (runc 1.1.5 moves it onto that namespace's / too).
    const c = config(['sh', '-c', 'echo in']);
    c.linux.rootfsPropagation = 'shared';
    const r = withBundle(c, (dir) => {
      const script = [
        'mount --make-rshared /',
        `mount --bind ${dir}/rootfs ${dir}/rootfs`,
        'before=$(md5sum </proc/self/mountinfo)',
        `"$@" run --no-pivot --bundle ${dir} --seccomp-cache off; echo "status $?"`,
        '[ "$before" = "$(md5sum </proc/self/mountinfo)" ] && echo same || echo changed',
      ].join('; ');
      return spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', LAUNCHER], { encoding: 'utf8', timeout: 60_000 });
    });
    expect([r.stdout, r.stderr]).toEqual(['in\nstatus 0\nsame\n', '']);
  });

  test('--no-pivot with a private root propagation is refused, as runc refuses it: exit 2, one line', () => {
    const c = config(['true']);
    c.linux.rootfsPropagation = 'rprivate';
    const r = withBundle(c, (dir) => runMountkit(dir, ['--no-pivot']));
    expect([r.status, r.stderr]).toEqual([2, 'mountkit: linux.rootfsPropagation "rprivate": is not safe without pivot_root (--no-pivot), as runc refuses it: the host mounts the container keeps would stay busy\n']);
  });

  // winston, loaded for --log, JSON and the info and debug levels, opens both streams when it loads; the default logger writes a warning on stderr.
  test.each([
    ['bin/mountkit', 'launcher', [], {}],
    ['the Node entry', 'node', [], {}],
    ['bin/mountkit --log-level debug', 'launcher', ['--log-level', 'debug'], {}],
    ['bin/mountkit --log FILE --log-format json', 'launcher', ['--log', '/dev/null', '--log-format', 'json'], {}],
    ['bin/mountkit with a warning on stderr', 'launcher', [], { personality: { domain: 'LINUX', flags: ['SHORT_INODE'] } }],
  ] as const)('%s: the container gets its piped stdout and stderr blocking, as under runc (Node makes a pipe O_NONBLOCK when it opens a stream on it)', (_entry, entry, extra, linux) => {
    const c = config(['sh', '-c', 'grep ^flags /proc/self/fdinfo/1; grep ^flags /proc/self/fdinfo/2 >&2']);
    Object.assign(c.linux, linux);
    const r = withBundle(c, (dir) => runMountkit(dir, [...extra], entry));
    expect(r.status).toBe(0);
    const flags = [r.stdout, r.stderr].map((out) => parseInt(/^flags:\s+([0-7]+)$/m.exec(out)?.[1] ?? 'x', 8));
    // O_NONBLOCK is 04000 (asm-generic/fcntl.h).
    expect(flags.map((f) => Number.isNaN(f) ? 'unread' : f & 0o4000)).toEqual([0, 0]);
  });

  // Node makes process.stderr in the first process the first time it destroys a socket (once the relaunch has read its config); helpers/slow-stderr.js holds that 1 s, as a busy machine may, until the container runs.
  test("a relaunch's container keeps its piped stderr blocking while it runs, however late the first process gets to Node's process.stderr", () => {
    const c = config(['sh', '-c', 'for i in 1 2 3 4 5 6 7 8; do grep ^flags /proc/self/fdinfo/2; sleep 0.25; done'], { hooks: { poststart: [{ path: '/bin/true' }] } });
    c.linux.namespaces = c.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'pid');
    const env = { ...process.env, NODE_OPTIONS: `--require ${SLOW_STDERR}` };
    const r = withBundle(c, (dir) => spawnSync(LAUNCHER, ['run', '--seccomp-cache', 'off', '--bundle', dir], { encoding: 'utf8', timeout: 60_000, env }));
    expect([r.status, r.stderr]).toEqual([0, '']);
    const flags = r.stdout.split('\n').filter(Boolean).map((line) => parseInt(/^flags:\s+([0-7]+)$/.exec(line)?.[1] ?? 'x', 8));
    // O_NONBLOCK is 04000 (asm-generic/fcntl.h).
    expect(flags.map((f) => (Number.isNaN(f) ? 'unread' : f & 0o4000))).toEqual(Array(8).fill(0));
  });

  // libuv opens a terminal again when Node makes a stream of it, and puts the new file over the descriptor: inside the run's mount namespace, on a devpts the jail detaches.
  test.each([
    ['at the default level, with a warning', [], { personality: { domain: 'LINUX', flags: ['SHORT_INODE'] } }, 'mountkit warn'],
    ['--log-level debug', ['--log-level', 'debug'], {}, 'mountkit debug'],
    ['--log-format json', ['--log-format', 'json'], { personality: { domain: 'LINUX', flags: ['SHORT_INODE'] } }, '"level":"warn"'],
  ] as const)('on a terminal, %s: the container gets the terminal file it was started with on 0, 1 and 2, as under runc', (_what, extra, linux, logged) => {
    const c = config(['sh', '-c', 'echo "links $(readlink /proc/$$/fd/0) $(readlink /proc/$$/fd/1) $(readlink /proc/$$/fd/2)"']);
    Object.assign(c.linux, linux);
    const r = withBundle(c, (dir) => ptySession(24, 80, [{ wait: 'never-shown' }], [LAUNCHER, 'run', '--seccomp-cache', 'off', '--bundle', dir, ...extra]));
    expect(r.status).toBe(0);
    expect(r.output).toContain(logged);
    const links = /^links (.*)\r$/m.exec(r.output)?.[1].split(' ');
    expect(links).toHaveLength(3);
    expect(links).toEqual([links![0], links![0], links![0]]);
  });

  test('/proc shows only the container processes; only 0, 1, 2 reach it', () => {
    const r = withBundle(config(['sh', '-c', 'ls /proc | grep -E "^[0-9]+$" | sort -n | head -1; echo $(ls /proc/self/fd)']), (dir) => runMountkit(dir));
    expect(r.status).toBe(0);
    // The shell is PID 1; ls itself holds one descriptor (its directory) besides 0, 1 and 2.
    expect(r.stdout).toBe('1\n0 1 2 3\n');
  });

  test('with --log FILE and hooks (more descriptors open in mountkit) still only 0, 1, 2 reach it', () => {
    const c = config(['sh', '-c', 'echo $(ls /proc/self/fd)']);
    c.hooks = {
      createRuntime: [{ path: '/bin/true' }],
      createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'exec 7>/dev/null; true'] }],
    };
    const b = makeBundle(c);
    try {
      const log = path.join(b.dir, 'run.log');
      const r = runMountkit(b.dir, ['--log', log, '--log-level', 'debug', '--log-format', 'json']);
      expect(r).toEqual({ status: 0, stdout: '0 1 2 3\n', stderr: '' });
      // The log was written while the container's descriptors were being set up: it was open.
      expect(readFileSync(log, 'utf8')).toMatch(/"msg":"phase finalize start"/);
    } finally {
      b.cleanup();
    }
  });

  test.each([
    ['bin/mountkit', [LAUNCHER]],
    ['the Node entry', [process.execPath, BIN]],
  ])('%s: the container starts with no signal ignored or blocked, whatever its starter ignored (HUP, INT, QUIT, a real-time one) and Node ignores (PIPE, XFSZ), as under runc', (_entry, entry) => {
    // grep itself, no shell: busybox sh as PID 1 ignores SIGQUIT.
    const r = withBundle(config(['grep', '-E', '^Sig(Ign|Blk)', '/proc/self/status']), (dir) =>
      spawnSync('sh', ['-c', `trap '' HUP INT QUIT 40; grep ^SigIgn /proc/self/status; exec "$@" run --bundle ${dir} --seccomp-cache off`, 'sh', ...entry], { encoding: 'utf8', timeout: 60_000 }),
    );
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
      status: 0,
      stdout: 'SigIgn:\t0000008000000007\nSigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n',
      stderr: '',
    });
  });

  /** The namespaces a process is in, by /proc/PID/ns link: what a hook and the container record. */
  const NS_KINDS = ['net', 'uts', 'ipc', 'pid', 'mnt', 'cgroup'];
  const recordNamespaces = (to: string) => `for n in ${NS_KINDS.join(' ')}; do readlink /proc/self/ns/$n; done > ${to}`;

  test.each([
    ['bin/mountkit, a new pid namespace', [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }], 'launcher'],
    ['the Node entry, a new pid namespace', [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }], 'node'],
    ['bin/mountkit, no pid namespace', [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }], 'launcher'],
    // A key written with an escape: the launcher's text search misses it, and Node sends it back ("again").
    ['bin/mountkit, hook keys its search misses', [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'ipc' }], 'launcher', true],
  ] as [string, object[], 'launcher' | 'node', boolean?][])(
    "%s: prestart and createRuntime hooks run in the namespaces mountkit was started in, as runc runs them, and find the container's network namespace through their state's pid; createContainer's run in the container's",
    (_name, namespaces, entry, escaped = false) => {
      const c = config(['sh', '-c', `${recordNamespaces('/out/container')}; readlink /proc/self/ns/net > /out/container.net`], { linux: { namespaces } });
      const r = withBundle(c, (dir) => {
        const out = path.join(dir, 'out');
        mkdirSync(out);
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind'] });
        const runtime = (name: string) => ({
          path: '/bin/sh',
          args: ['sh', '-c', `${recordNamespaces(`${out}/${name}`)}; pid=$(sed 's/.*"pid":\\([0-9]*\\).*/\\1/'); readlink /proc/$pid/ns/net > ${out}/${name}.net`],
        });
        c.hooks = { prestart: [runtime('prestart')], createRuntime: [runtime('createRuntime')], createContainer: [{ path: '/bin/sh', args: ['sh', '-c', recordNamespaces(`${out}/createContainer`)] }] };
        const text = JSON.stringify(c);
        writeFileSync(path.join(dir, 'config.json'), escaped ? text.replace('"prestart"', '"pre\\u0073tart"').replace('"createRuntime"', '"createRuntim\\u0065"') : text);
        const run = runMountkit(dir, [], entry);
        const read = (name: string) => readFileSync(path.join(out, name), 'utf8').trim().split('\n');
        return { ...run, prestart: read('prestart'), createRuntime: read('createRuntime'), createContainer: read('createContainer'), container: read('container'), seen: [read('prestart.net'), read('createRuntime.net'), read('container.net')] };
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      const own = NS_KINDS.map((n) => readlinkSync(`/proc/self/ns/${n}`));
      expect(r.prestart).toEqual(own);
      expect(r.createRuntime).toEqual(own);
      // The container's network, uts and ipc namespaces are new ones; createContainer's hook is in them, before the jail.
      expect(r.container.slice(0, 3).every((link, i) => link !== own[i])).toBe(true);
      expect(r.createContainer.slice(0, 3)).toEqual(r.container.slice(0, 3));
      expect(r.seen).toEqual([r.container.slice(0, 1), r.container.slice(0, 1), r.container.slice(0, 1)]);
    },
  );

  test('hostname, env and cwd come from the config', () => {
    const c = config(['sh', '-c', 'hostname; echo $GREETING; pwd'], { hostname: 'box' });
    c.process.env.push('GREETING=hi');
    c.process.cwd = '/made/for/you';
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 0, stdout: 'box\nhi\n/made/for/you\n', stderr: '' });
  });

  test('a signal ending the container ends mountkit the same way', () => {
    const c = config(['sh', '-c', 'kill -TERM $$; sleep 5'], { linux: { namespaces: [{ type: 'mount' }] } });
    const r = withBundle(c, (dir) => spawnSync(process.execPath, [BIN, 'run', '--bundle', dir], { encoding: 'utf8' }));
    expect([r.status, r.signal]).toEqual([null, 'SIGTERM']);
  });

  test('without a pid namespace the run stays in one process', () => {
    const c = config(['sh', '-c', 'echo $$'], { linux: { namespaces: [{ type: 'mount' }] } });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r.status).toBe(0);
    expect(Number(r.stdout.trim())).toBeGreaterThan(1);
  });

  test('inside a user namespace (unshare -Ur), device nodes are bound from the host', () => {
    const c = config(['sh', '-c', 'cat /proc/self/uid_map; grep -c " /dev/null " /proc/self/mountinfo; echo $$']);
    c.linux.namespaces.push({ type: 'user' });
    const r = withBundle(c, (dir) =>
      spawnSync('unshare', ['-Ur', process.execPath, BIN, 'run', '--bundle', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))).toEqual(['0 0 1', '1', '1', '']);
  });

  /**
   * `sh -c IDENTITY_USERNS sh COMMAND...`, as root: COMMAND in a new user namespace whose
   * uid_map and gid_map are the identity, written from here once unshare(1) has made it
   * (its sleep holds it), entered with nsenter(1), which keeps uid 0.
   */
  const IDENTITY_USERNS = [
    'unshare --user sleep 60 & holder=$!',
    'while [ "$(readlink /proc/$holder/ns/user)" = "$(readlink /proc/self/ns/user)" ]; do sleep 0.01; done',
    'echo "0 0 4294967295" >/proc/$holder/uid_map && echo "0 0 4294967295" >/proc/$holder/gid_map || { kill $holder; exit 125; }',
    'nsenter --user=/proc/$holder/ns/user "$@"; s=$?',
    'kill $holder',
    'exit $s',
  ].join('\n');

  test("inside a user namespace nested with the identity map (not the initial one, though its uid_map reads as that one's): device nodes are bound, in the plan as in the run (mknod(2) needs CAP_MKNOD in the initial namespace), and the config's user namespace is made with its maps as on the host", () => {
    const devices = config(['sh', '-c', 'grep -c " /dev/null " /proc/self/mountinfo']);
    const nested = (dir: string, ...args: string[]) =>
      spawnSync('sh', ['-c', IDENTITY_USERNS, 'sh', process.execPath, BIN, ...args, '--bundle', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    withBundle(devices, (dir) => {
      const r = nested(dir, 'run', '--seccomp-cache', 'off');
      expect([r.status, r.stdout, r.stderr]).toEqual([0, '1\n', '']);
      const planned = nested(dir, 'plan');
      expect(planned.status).toBe(0);
      expect(planned.stdout).not.toMatch(/mknodat\(/);
      expect(planned.stdout).toMatch(/mount\("\/dev\/null", .*MS_BIND/);
    });
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const user = config(['sh', '-c', 'cat /proc/self/uid_map'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    // The bundle searchable by the container's root, host id 100000.
    const r = withBundle(user, (dir) => {
      chmodSync(dir, 0o711);
      return nested(dir, 'run', '--seccomp-cache', 'off');
    });
    expect([r.status, r.stdout.trim().replace(/\s+/g, ' '), r.stderr]).toEqual([0, '0 100000 65536', '']);
  });

  test("inside a user namespace (unshare -Ur), the runtime's hooks run in it and in the other namespaces mountkit was started in, without a warning; createContainer's in the container's", () => {
    const out = mkdtempSync(path.join(tmpdir(), 'mountkit-userns-hooks-'));
    try {
      chmodSync(out, 0o777);
      const record = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `for n in user net uts; do readlink /proc/self/ns/$n; done > ${out}/${name}`] });
      const c = config(['true'], { hooks: { createRuntime: [record('createRuntime')], createContainer: [record('createContainer')], poststop: [record('poststop')] } });
      c.linux.namespaces.push({ type: 'user' }, { type: 'network' });
      const starter = `for n in user net uts; do readlink /proc/self/ns/$n; done > ${out}/starter; exec "$@"`;
      const r = withBundle(c, (dir) =>
        spawnSync('unshare', ['-Ur', 'sh', '-c', starter, 'sh', process.execPath, BIN, 'run', '--bundle', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      const read = (name: string) => readFileSync(path.join(out, name), 'utf8').trim().split('\n');
      const started = read('starter');
      expect(started[0]).not.toBe(readlinkSync('/proc/self/ns/user'));
      expect([read('createRuntime'), read('poststop')]).toEqual([started, started]);
      const container = read('createContainer');
      expect(container[0]).toBe(started[0]);
      expect(container.slice(1).every((link, i) => link !== started[i + 1])).toBe(true);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  describe('a user namespace mountkit makes or joins', () => {
    const RANGE = [{ containerID: 0, hostID: 100000, size: 65536 }];
    /** What the container sees of its ids, maps, capabilities and the owners of what mountkit made for it. */
    const PROBE = [
      'id -u; id -g',
      'cat /proc/self/uid_map /proc/self/gid_map',
      'grep -E "^Cap(Eff|Bnd)" /proc/self/status',
      'stat -c "%u:%g %n" /dev /dev/shm /dev/null',
      'echo $$',
    ].join('; ');
    const userConfig = (namespaces: Record<string, string>[], maps: Record<string, unknown> = { uidMappings: RANGE, gidMappings: RANGE }) => {
      const c = config(['sh', '-c', PROBE]);
      c.mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'nodev', 'mode=1777'] });
      c.linux = { namespaces, ...maps };
      return c;
    };
    const lines = (stdout: string) => stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));

    test.each([
      ['the shell launcher', 'launcher'],
      ['the Node entry', 'node'],
    ] as const)('a new one with a range of ids, from %s: the container is its root, with its capabilities, and what mountkit made is owned by that root', (_name, entry) => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }, { type: 'ipc' }]);
      const caps = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
      c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
      const r = withBundle(c, (dir) => {
        // As for runc: the namespace's root must reach the rootfs (search permission on the
        // bundle); config.json it need not read, mountkit's first process passes it on.
        chmodSync(dir, 0o711);
        chmodSync(path.join(dir, 'config.json'), 0o600);
        return runMountkit(dir, [], entry);
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(lines(r.stdout)).toEqual([
        '0',
        '0',
        '0 100000 65536',
        '0 100000 65536',
        // CAP_KILL (5) and CAP_NET_BIND_SERVICE (10), given as the namespace's root.
        'CapEff: 0000000000000420',
        'CapBnd: 0000000000000420',
        // The host's /dev/null is bound (no mknod in a user namespace); its owner, the host's root, is unmapped.
        '0:0 /dev',
        '0:0 /dev/shm',
        '65534:65534 /dev/null',
        '1',
        '',
      ]);
    });

    test.each([
      ['the shell launcher', 'launcher'],
      ['the Node entry', 'node'],
    ] as const)("a user other than root reopens its standard streams, the host's pipes, through /dev/stdout and /dev/stderr (given to its host id from the host), from %s", (_name, entry) => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      c.process.user = { uid: 1000, gid: 1000 };
      c.process.args = ['sh', '-c', 'echo out > /dev/stdout && echo err > /dev/stderr && stat -Lc %u /proc/self/fd/1'];
      const cmd = entry === 'launcher' ? '"$0" run --bundle "$1"' : 'node "$0" run --bundle "$1"';
      // stdout and stderr pipes made by a shell, owned by the host's root (Node's own stdio pipes are socket pairs, which open(2) through /proc refuses: ENXIO).
      const r = withBundle(c, (dir) => {
        chmodSync(dir, 0o711);
        return spawnSync('/bin/sh', ['-c', `{ ${cmd} 2>&1 1>&3 | cat >&2; } 3>&1 | cat`, entry === 'launcher' ? LAUNCHER : BIN, dir], { encoding: 'utf8' });
      });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'out\n1000\n', stderr: 'err\n' });
    });

    test('a new one without a pid namespace: the relaunch itself becomes the container', () => {
      const one = [{ containerID: 0, hostID: 0, size: 1 }];
      const c = userConfig([{ type: 'mount' }, { type: 'user' }], { uidMappings: one, gidMappings: one });
      // procfs can be mounted only from a pid namespace the user namespace owns (mount_namespaces(7)); runc refuses it too.
      c.mounts = c.mounts.filter((m: { type: string }) => m.type !== 'proc');
      c.process.args = ['sh', '-c', 'id -u; echo $$'];
      const r = withBundle(c, (dir) => runMountkit(dir));
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      const [uid, pid] = lines(r.stdout);
      expect(uid).toBe('0');
      expect(Number(pid)).toBeGreaterThan(1);
    });

    test("user.* sysctls are the limits of the container's user namespace: written there, in force there, the host's as they were", () => {
      const HOST = ['max_user_namespaces', 'max_inotify_watches'].map((name) => `/proc/sys/user/${name}`);
      const before = HOST.map((file) => readFileSync(file, 'utf8'));
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      // No user namespace may be made below it (ENOSPC); the watches' limit read back as written.
      c.process.args = ['sh', '-c', 'cat /proc/sys/user/max_user_namespaces /proc/sys/user/max_inotify_watches; unshare -U true 2>/dev/null; echo "unshare -U: $?"'];
      c.linux.sysctl = { 'user.max_user_namespaces': '0', 'user/max_inotify_watches': '1234' };
      const r = withBundle(c, (dir) => {
        chmodSync(dir, 0o711);
        return runMountkit(dir);
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(lines(r.stdout)).toEqual(['0', '1234', 'unshare -U: 1', '']);
      expect(HOST.map((file) => readFileSync(file, 'utf8'))).toEqual(before);

      // Without a user namespace they would be the host's: refused before anything is done.
      const without = userConfig([{ type: 'pid' }, { type: 'mount' }], {});
      without.linux.sysctl = { 'user.max_user_namespaces': '0' };
      const refused = withBundle(without, (dir) => runMountkit(dir));
      expect([refused.status, refused.stdout, refused.stderr]).toEqual([2, '', 'mountkit: linux.sysctl "user.max_user_namespaces": is isolated by the user namespace, which linux.namespaces does not list\n']);
      expect(HOST.map((file) => readFileSync(file, 'utf8'))).toEqual(before);
    });

    test("rootless: a user other than root sets the limits of its container's user namespace too (CAP_SYS_RESOURCE there is its root's)", () => {
      const before = readFileSync('/proc/sys/user/max_user_namespaces', 'utf8');
      const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], { uidMappings: own, gidMappings: own });
      c.process.args = ['cat', '/proc/sys/user/max_user_namespaces'];
      c.linux.sysctl = { 'user.max_user_namespaces': '5' };
      const r = withBundle(c, (dir) => {
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        return runMountkitRootless(dir);
      });
      expect([r.status, r.stdout, r.stderr]).toEqual([0, '5\n', '']);
      expect(readFileSync('/proc/sys/user/max_user_namespaces', 'utf8')).toBe(before);
    });

    /**
     * `mountkit run` of `dir` as ROOTLESS_ID through the shell launcher, whose container
     * reads a line of its standard input: once its standard output holds `ready`, the
     * Node processes of the run, the launcher's and its descendants (a starter waiting for its relaunch), are counted,
     * and the line is written.
     */
    const rootlessRun = (dir: string, ready: string): Promise<CountedRun> =>
      runCountingNodes(['setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', rootlessLauncher(), 'run', '--bundle', dir], process.env, ready);

    test("rootless with `runc spec --rootless`'s maps: the launcher makes the user namespace with the pid and mount ones, and the one Node it starts becomes the container (none waits for it); a config refused there is refused as by the Node entry, named (exit 2)", async () => {
      const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }, { type: 'ipc' }], { uidMappings: own, gidMappings: own });
      c.process.args = ['sh', '-c', 'id -u; id -g; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; echo $$; read line; echo "$line"'];
      const r = await withBundleAsync(c, (dir) => {
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        return rootlessRun(dir, 'deny\n1\n');
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(lines(r.stdout)).toEqual(['0', '0', `0 ${ROOTLESS_ID} 1`, `0 ${ROOTLESS_ID} 1`, 'deny', '1', 'go', '']);
      expect(r.nodes).toBe(0);

      // process.user.uid unmapped: refused in the namespace the launcher made as the Node entry refuses it where it was started.
      const unmapped = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], { uidMappings: own, gidMappings: own });
      unmapped.process.user = { uid: 1000, gid: 0 };
      const [launcher, entry] = withBundle(unmapped, (dir) => {
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        const asUser = (argv: string[]) => spawnSync('setpriv', [`--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', ...argv, 'run', '--bundle', dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        const launcherDir = path.dirname(rootlessLauncher());
        return [asUser([rootlessLauncher()]), asUser([process.execPath, path.join(launcherDir, 'mountkit.js')])];
      });
      expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([entry.status, entry.stdout, entry.stderr]);
      expect([launcher.status, launcher.stderr]).toEqual([2, expect.stringMatching(/^mountkit: process\.user\.uid.*\n$/)]);
    });

    test("rootless with `runc spec --rootless`'s maps and a foreground console: copied by the launcher's relay beside the one Node it starts in the user namespace (root's /tmp, sticky, shows there as the overflow uid's), whose directory is gone after", () => {
      const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }, { type: 'ipc' }], { uidMappings: own, gidMappings: own });
      c.process.terminal = true;
      c.process.args = ['sh', '-c', 'tty; id -u; cat /proc/self/uid_map'];
      c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] });
      const starts = mkdtempSync(path.join(tmpdir(), 'mountkit-rootless-starts-'));
      const relayDirs = () => readdirSync('/tmp').filter((name) => name.startsWith('mountkit-console-'));
      try {
        const preload = path.join(starts, 'count.js');
        const log = path.join(starts, 'log');
        const role = "process.env.MOUNTKIT_CONSOLE_RELAY ? 'relay' : process.env.MOUNTKIT_LAUNCHER_FD ? 'under unshare' : 'other'";
        writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(log)}, (${role}) + '\\n');\n`);
        writeFileSync(log, '');
        chmodSync(starts, 0o755);
        chmodSync(preload, 0o644);
        chmodSync(log, 0o666);
        const before = relayDirs();
        const r = withBundle(c, (dir) => {
          spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
          return spawnSync('setsid', ['-w', 'setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', rootlessLauncher(), 'run', '--bundle', dir], {
            encoding: 'utf8',
            input: '',
            env: { ...process.env, TMPDIR: '/tmp', NODE_OPTIONS: `--require ${preload}` },
          });
        });
        expect([r.status, r.stderr]).toEqual([0, '']);
        expect(lines(r.stdout)).toEqual(['/dev/pts/0', '0', `0 ${ROOTLESS_ID} 1`, '']);
        expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['relay', 'under unshare']);
        expect(relayDirs()).toEqual(before);
      } finally {
        rmSync(starts, { recursive: true, force: true });
      }
    });

    test("rootless with `runc spec --rootless`'s maps and a process.oomScoreAdj above the user's own score: still the one Node the launcher starts, which raises its own score to it (no capability needed) and becomes the container", async () => {
      const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], { uidMappings: own, gidMappings: own });
      const score = Math.min(1000, Number(readFileSync('/proc/self/oom_score_adj', 'utf8')) + 500);
      c.process.oomScoreAdj = score;
      c.process.args = ['sh', '-c', 'cat /proc/self/oom_score_adj; read line; echo "$line"'];
      const r = await withBundleAsync(c, (dir) => {
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        return rootlessRun(dir, `${score}\n`);
      });
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: `${score}\ngo\n`, stderr: '' });
      expect(r.nodes).toBe(0);
    });

    test("rootless with `runc spec --rootless`'s maps, a seccomp profile and a cache of the user's own: the launcher checks its path from the host (where / is root's, which the namespace shows as the overflow uid), and the runs store and read the record there; the Node entry's relaunch too", () => {
      const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], { uidMappings: own, gidMappings: own });
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['acct'], action: 'SCMP_ACT_ERRNO' }] };
      c.process.args = ['true'];
      const base = mkdtempSync(path.join(tmpdir(), 'mountkit-rootless-cache-'));
      try {
        chmodSync(base, 0o755);
        const cache = path.join(base, 'cache');
        mkdirSync(cache, { mode: 0o700 });
        chownSync(cache, ROOTLESS_ID, ROOTLESS_ID);
        const told = withBundle(c, (dir) => {
          spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
          const asUser = (argv: string[]) => {
            const r = spawnSync('setpriv', [`--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', ...argv, 'run', '--bundle', dir, '--seccomp-cache', cache, '--log-level', 'debug'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
            return [r.status, ...r.stderr.split('\n').filter((l) => l.includes('linux.seccomp:')).map((l) => l.replace(/^.*linux\.seccomp: /, '').replaceAll(/[0-9a-f]{64}/g, 'KEY'))];
          };
          const launcherDir = path.dirname(rootlessLauncher());
          return [asUser([rootlessLauncher()]), asUser([rootlessLauncher()]), asUser([process.execPath, path.join(launcherDir, 'mountkit.js')])];
        });
        expect(told).toEqual([
          [0, `no record; stored in the cache: ${cache}/KEY.json`],
          [0, `from the cache: ${cache}/KEY.json`],
          [0, `from the cache: ${cache}/KEY.json`],
        ]);
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    });

    test('one joined by path: the container is in it, as its root; maps beside the path must be its own', () => {
      // A process holding a user namespace of its own, mapped 0 -> 0 for one id, as `unshare -U --map-user=0` makes it.
      const holder = spawn('unshare', ['-U', '--map-user=0', '--map-group=0', 'sleep', '30'], { stdio: 'ignore' });
      try {
        const nsPath = `/proc/${holder.pid}/ns/user`;
        // unshare(1) execs sleep once the namespace is made and mapped.
        const deadline = Date.now() + 5000;
        while (readlinkSync(nsPath) === readlinkSync('/proc/self/ns/user') || !readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').startsWith('sleep')) {
          if (Date.now() > deadline) throw new Error('the holder did not enter its user namespace');
        }
        const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user', path: nsPath }], {});
        c.process.args = ['sh', '-c', 'readlink /proc/self/ns/user; id -u; cat /proc/self/uid_map'];
        const r = withBundle(c, (dir) => runMountkit(dir));
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
        expect(lines(r.stdout)).toEqual([readlinkSync(nsPath), '0', '0 0 1', '']);

        const other = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user', path: nsPath }]);
        const refused = withBundle(other, (dir) => runMountkit(dir));
        expect([refused.status, refused.stdout, refused.stderr]).toEqual([2, '', `mountkit: linux.uidMappings: differ from the maps of the user namespace joined (${nsPath}): "0 0 1"\n`]);

        // user.* sysctls are that namespace's limits, as runc 1.4 writes them there: a later container joining it reads them; the host's stay.
        const hostWatches = readFileSync('/proc/sys/user/max_inotify_watches', 'utf8');
        const limited = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user', path: nsPath }], {});
        limited.process.args = ['true'];
        limited.linux.sysctl = { 'user.max_inotify_watches': '4321' };
        const written = withBundle(limited, (dir) => runMountkit(dir));
        expect([written.status, written.stderr]).toEqual([0, '']);
        const reader = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user', path: nsPath }], {});
        reader.process.args = ['cat', '/proc/sys/user/max_inotify_watches'];
        const read = withBundle(reader, (dir) => runMountkit(dir));
        expect([read.status, read.stdout, read.stderr]).toEqual([0, '4321\n', '']);
        expect(readFileSync('/proc/sys/user/max_inotify_watches', 'utf8')).toBe(hostWatches);
      } finally {
        holder.kill('SIGKILL');
      }
    });

    test('a network namespace given by path is joined before the new user namespace (it belongs to the host); hooks get neither namespace descriptor', () => {
      // A process holding a network namespace of the host's user namespace, as a CNI plugin leaves one.
      const holder = spawn('unshare', ['--net', 'sleep', '30'], { stdio: 'ignore' });
      try {
        const netPath = `/proc/${holder.pid}/ns/net`;
        const deadline = Date.now() + 5000;
        while (readlinkSync(netPath) === readlinkSync('/proc/self/ns/net')) {
          if (Date.now() > deadline) throw new Error('the holder did not enter its network namespace');
        }
        const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: netPath }, { type: 'user' }]);
        c.process.args = ['sh', '-c', 'readlink /proc/self/ns/net; id -u'];
        // The hook lists the namespace descriptors it holds (a user namespace's would show as user:[...]).
        c.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'for f in /proc/$$/fd/*; do readlink "$f"; done | grep -c "^user:\\[" > "$0/hook-fds"; true', '/'] }] };
        const r = withBundle(c, (dir) => {
          chmodSync(dir, 0o711);
          const out = path.join(dir, 'out');
          mkdirSync(out);
          chmodSync(out, 0o777);
          c.hooks.createContainer[0].args[3] = out;
          writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
          return { ...runMountkit(dir), hookFds: readFileSync(path.join(out, 'hook-fds'), 'utf8') };
        });
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
        expect(lines(r.stdout)).toEqual([readlinkSync(netPath), '0', '']);
        expect(r.hookFds).toBe('0\n');
      } finally {
        holder.kill('SIGKILL');
      }
    });

    test("the console's and the seccomp agent's sockets, in a directory only the host's root reaches, are connected from the host, as runc connects them", async () => {
      // mkdtemp's 0700 directories, root's: the namespace's root (host id 100000) cannot connect(2) there.
      const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-userns-sockets-'));
      const agentSocket = path.join(dir, 'agent.sock');
      const report = path.join(dir, 'agent.json');
      let agent: SeccompAgent | undefined;
      try {
        agent = await startSeccompAgent(agentSocket, report, 18);
        const probe = 'tty; mkdir /dev/made; echo "mkdir $?"';
        const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
        c.process = { terminal: true, args: ['sh', '-c', probe], env: ['PATH=/bin'], cwd: '/' };
        c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] });
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: agentSocket, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
        let stdout = '';
        const seen = await throughConsole(path.join(dir, 'console'), (socket) =>
          withBundle(c, (bundle) => {
            chmodSync(bundle, 0o711);
            const r = runMountkit(bundle, ['--console-socket', socket]);
            stdout = r.stdout;
            return r;
          }),
        );
        // Every stream is the console: nothing reaches the host's stdout.
        expect(stdout).toBe('');
        expect(seen).toMatchObject({ message: '/dev/ptmx', fds: 1 });
        expect(seen.output).toEqual(['/dev/pts/0', "mkdir: can't create directory '/dev/made': Invalid cross-device link", 'mkdir 1']);
        expect(await agent.exited).toBe(0);
        expect(JSON.parse(readFileSync(report, 'utf8')).state).toMatchObject({ fds: ['seccompFd'], state: { status: 'creating' } });
      } finally {
        agent?.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    }, 30_000);

    test("process.oomScoreAdj is set from the host before the relaunch, and the container has it", () => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      c.process.oomScoreAdj = 300;
      c.process.args = ['cat', '/proc/self/oom_score_adj'];
      const r = withBundle(c, (dir) => {
        chmodSync(dir, 0o711);
        return runMountkit(dir);
      });
      expect([r.status, r.stdout, r.stderr]).toEqual([0, '300\n', '']);
    });

    /** A score below mountkit's own, with a createRuntime hook (run by the first process) writing the score it runs with to `out`/hook. */
    const lowerScore = (out: string) => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      c.process.oomScoreAdj = -999;
      c.process.args = ['cat', '/proc/self/oom_score_adj'];
      c.hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `cat /proc/self/oom_score_adj > ${out}/hook`] }] };
      return withBundle(c, (dir) => {
        chmodSync(dir, 0o711);
        return { ...runMountkit(dir), hook: existsSync(`${out}/hook`) ? readFileSync(`${out}/hook`, 'utf8') : undefined };
      });
    };
    const withOut = <T>(fn: (out: string) => T): T => {
      const out = mkdtempSync(path.join(tmpdir(), 'mountkit-oom-'));
      try {
        return fn(out);
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    };

    (canLowerScores ? test : test.skip)("a process.oomScoreAdj below mountkit's own, which the user namespace's root may not set: written from the host before the relaunch; the container has it, and the runtime's hooks run with mountkit's own again", () => {
      const own = readFileSync('/proc/self/oom_score_adj', 'utf8');
      const r = withOut(lowerScore);
      expect([r.status, r.stdout, r.stderr, r.hook]).toEqual([0, '-999\n', '', own]);
    });

    (canLowerScores ? test.skip : test)("a process.oomScoreAdj below mountkit's own, where mountkit's root has no CAP_SYS_RESOURCE: refused from the host before the relaunch, one line naming it, exit 1; no hook runs", () => {
      const r = withOut(lowerScore);
      expect([r.status, r.stdout, r.stderr, r.hook]).toEqual([1, '', 'mountkit: process.oomScoreAdj -999: write "/proc/self/oom_score_adj": EACCES\n', undefined]);
    });

    test('signals reach the container through nsenter and unshare, including those that come while the rootfs is prepared', async () => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      c.process.args = ['sh', '-c', readyThenTrapped('trap "echo got USR1" USR1; trap "echo got TERM; exit 7" TERM')];
      // The createContainer hook keeps mountkit preparing for a second; the signals come 300 and 600 ms into it.
      c.hooks = { createContainer: [PREPARING_HOOK] };
      const r = await withBundleAsync(c, (dir) => {
        chmodSync(dir, 0o711);
        return signalled([LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], HOOK_RUNNING, ['SIGUSR1', 'SIGTERM']);
      });
      expect(r).toEqual({ status: 7, stdout: 'ready\ngot USR1\ngot TERM\n', stderr: '' });
    }, 30_000);

    test('a namespace path that cannot be opened (exit 1) or is no namespace file (exit 2) is named by the first process before anything starts; a mount namespace path is refused with one (exit 2)', () => {
      const gone = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'network', path: '/proc/0/ns/net' }, { type: 'user' }]);
      const r = withBundle(gone, (dir) => runMountkit(dir));
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: linux.namespaces "network": open "/proc/0/ns/net": ENOENT\n']);
      const notNs = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'ipc', path: '/etc/hostname' }, { type: 'user' }]);
      const n = withBundle(notNs, (dir) => runMountkit(dir));
      expect([n.status, n.stdout, n.stderr]).toEqual([2, '', 'mountkit: linux.namespaces "/etc/hostname": is not a namespace file of type ipc (nsfs)\n']);
      const mount = userConfig([{ type: 'pid' }, { type: 'mount', path: '/proc/1/ns/mnt' }, { type: 'user' }]);
      const m = withBundle(mount, (dir) => runMountkit(dir));
      expect([m.status, m.stdout, m.stderr]).toEqual([
        2,
        '',
        'mountkit: linux.namespaces "user": a user namespace mountkit makes cannot go with a mount namespace given by path (/proc/1/ns/mnt): mountkit would start again in that namespace\'s tree\n',
      ]);
    });

    withUidmap('rootless: run by a user other than root, maps of ids /etc/subuid does not give it are refused by newuidmap(1), named, before anything is mounted (exit 1)', () => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      const r = withBundle(c, (dir) => {
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        return runMountkitRootless(dir);
      });
      expect([r.status, r.stdout]).toEqual([1, '']);
      // newuidmap names the range, for the helper process it was given (a wrong pid would be another process, or none).
      expect(r.stderr).toMatch(/^mountkit: the container's user namespace: write "\/proc\/(\d+)\/uid_map": EPERM \(newuidmap \1 0 100000 65536: exit status 1: newuidmap: uid range \[0-65536\) -> \[100000-165536\) not allowed\)\n$/);
    });

    test('rootless without newuidmap(1) and newgidmap(1) in PATH: maps of more than the user are refused before anything happens (exit 2)', () => {
      // A PATH with what the launcher and the Node entry run before the check, and no uidmap tool.
      const bin = mkdtempSync(path.join(tmpdir(), 'mountkit-path-'));
      try {
        chmodSync(bin, 0o755);
        for (const tool of ['grep']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
        symlinkSync(process.execPath, path.join(bin, 'node'));
        const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
        const r = withBundle(c, (dir) => {
          spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
          return runMountkitRootless(dir, false, bin);
        });
        expect([r.status, r.stdout]).toEqual([2, '']);
        expect(r.stderr).toBe(
          `mountkit: linux.namespaces "user": mountkit runs as uid ${ROOTLESS_ID} gid ${ROOTLESS_ID}, which may map only themselves: linux.uidMappings [{"containerID":0,"hostID":${ROOTLESS_ID},"size":1}] and linux.gidMappings [{"containerID":0,"hostID":${ROOTLESS_ID},"size":1}]; more ids need newuidmap(1) and newgidmap(1) in PATH (the uidmap package), which are not there\n`,
        );
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });

    withUidmap('rootless with subordinate ids: the maps /etc/subuid and /etc/subgid allow are written by newuidmap(1) and newgidmap(1); ids of the range own files in the container', () => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      const maps = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }, { containerID: 1, hostID: SUBORDINATE_IDS.first, size: 1000 }];
      c.linux.uidMappings = maps;
      c.linux.gidMappings = maps;
      c.process.args = ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; touch /dev/owned; chown 7:8 /dev/owned; stat -c "%u %g" /dev/owned'];
      // chown(2) to another id needs CAP_CHOWN in the namespace.
      c.process.capabilities = { bounding: ['CAP_CHOWN'], effective: ['CAP_CHOWN'], permitted: ['CAP_CHOWN'] };
      const r = withBundle(c, (dir) => {
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        return runMountkitRootless(dir, true);
      });
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.stdout.split('\n').map((l) => l.trim().replace(/\s+/g, ' '))).toEqual([`0 ${ROOTLESS_ID} 1`, `1 ${SUBORDINATE_IDS.first} 1000`, `0 ${ROOTLESS_ID} 1`, `1 ${SUBORDINATE_IDS.first} 1000`, 'allow', '7 8', '']);
    });

    withUidmap("rootless, maps the launcher's guess takes for its own (one grep of config.json's lines) but Node parses wider: the Node started in the launcher's user namespace answers \"again\", and the launcher starts the Node entry, whose run is the Node entry's own", () => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], { uidMappings: 'MAPS', gidMappings: 'MAPS' });
      c.process.args = ['cat', '/proc/self/uid_map', '/proc/self/gid_map'];
      // The subordinate ids' entry with a line break before each colon: grep(1) matches within a line, and sees the own entry alone.
      const maps = `[{"containerID": 0, "hostID": ${ROOTLESS_ID}, "size": 1}, {"containerID"\n: 1, "hostID"\n: ${SUBORDINATE_IDS.first}, "size"\n: 1000}]`;
      const text = JSON.stringify(c, null, 1).replace(/"MAPS"/g, maps);
      // A node first in PATH that notes, before it runs Node, the user namespace it was started in (the uid_map it reads) and the launcher's variables.
      const bin = mkdtempSync(path.join(tmpdir(), 'mountkit-again-node-'));
      const log = path.join(bin, 'started');
      try {
        chmodSync(bin, 0o755);
        writeFileSync(log, '', { mode: 0o666 });
        chmodSync(log, 0o666);
        writeFileSync(
          path.join(bin, 'node'),
          `#!/bin/sh\nread -r a b c </proc/self/uid_map\necho "$a $b $c fd=\${MOUNTKIT_LAUNCHER_FD-} userns=\${MOUNTKIT_LAUNCHER_USERNS-}" >>'${log}'\nexec '${process.execPath}' "$@"\n`,
          { mode: 0o755 },
        );
        const pathVar = `${bin}:${process.env.PATH}`;
        const [launcher, started, entry] = withBundle(c, (dir) => {
          writeFileSync(path.join(dir, 'config.json'), text);
          spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
          const r = runMountkitRootless(dir, true, pathVar);
          const seen = readFileSync(log, 'utf8');
          return [r, seen, runMountkitRootless(dir, true, pathVar, 'node')];
        });
        expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([entry.status, entry.stdout, entry.stderr]);
        expect([launcher.status, lines(launcher.stdout), launcher.stderr]).toEqual([0, [`0 ${ROOTLESS_ID} 1`, `1 ${SUBORDINATE_IDS.first} 1000`, `0 ${ROOTLESS_ID} 1`, `1 ${SUBORDINATE_IDS.first} 1000`, ''], '']);
        // Two Node starts: the first in the launcher's user namespace, told so, which found the parsed maps wider than that namespace's
        // (core/namespaces.ts launcherUserNamespaceHolds) and answered "again"; then the Node entry, on the host, which relaunches itself.
        expect(started).toBe(`0 ${ROOTLESS_ID} 1 fd=3 userns=1\n0 0 4294967295 fd= userns=\n`);
      } finally {
        rmSync(bin, { recursive: true, force: true });
      }
    });

    test("the runtime's hooks (prestart, poststart, poststop) run on the host, as runc runs them; createContainer's in the container's namespaces; a failure there is named as here", () => {
      // The runtime's hook writes where only the host's root may; the container's where anyone may.
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      c.process.args = ['true'];
      const r = withBundle(c, (dir) => {
        chmodSync(dir, 0o711);
        const rootOnly = path.join(dir, 'root-only');
        const anyone = path.join(dir, 'anyone');
        mkdirSync(rootOnly, { mode: 0o700 });
        mkdirSync(anyone);
        chmodSync(anyone, 0o777);
        const record = (to: string) => ({ path: '/bin/sh', args: ['sh', '-c', 'cat /proc/self/uid_map > "$0/uid_map"; pwd >> "$0/uid_map"', to] });
        const recordTo = (to: string, name: string) => ({ path: '/bin/sh', args: ['sh', '-c', 'cat /proc/self/uid_map > "$0/$1"; pwd >> "$0/$1"', to, name] });
        c.hooks = { prestart: [record(rootOnly)], createContainer: [record(anyone)], poststart: [recordTo(rootOnly, 'poststart')], poststop: [recordTo(rootOnly, 'poststop')] };
        writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
        const out = runMountkit(dir);
        const read = (d: string, name = 'uid_map') => readFileSync(path.join(d, name), 'utf8').replace(/[ \t]+/g, ' ').trim().split('\n').map((l) => l.trim());
        return { ...out, runtime: read(rootOnly), post: [read(rootOnly, 'poststart'), read(rootOnly, 'poststop')], container: read(anyone), dir };
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.runtime).toEqual(['0 0 4294967295', r.dir]);
      expect(r.post).toEqual([r.runtime, r.runtime]);
      expect(r.container).toEqual(['0 100000 65536', `${r.dir}/rootfs`]);

      const failing = userConfig([{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]);
      failing.hooks = { createRuntime: [{ path: '/nonexistent/hook' }] };
      const f = withBundle(failing, (dir) => {
        chmodSync(dir, 0o711);
        return runMountkit(dir);
      });
      expect([f.status, f.stdout, f.stderr]).toEqual([1, '', 'mountkit: before-jail: plugin hooks: hook createRuntime[0] "/nonexistent/hook": execve "/nonexistent/hook": ENOENT\n']);
    });

    test('maps without a user namespace are refused before anything happens', () => {
      const c = userConfig([{ type: 'pid' }, { type: 'mount' }]);
      const r = withBundle(c, (dir) => runMountkit(dir));
      expect([r.status, r.stdout, r.stderr]).toEqual([2, '', 'mountkit: linux.uidMappings: are for a user namespace, and linux.namespaces has none\n']);
    });
  });

  test.each([
    ['in a new pid namespace', config([])],
    ['in one process', config([], { linux: { namespaces: [{ type: 'mount' }] } })],
  ])('an idmapped bind %s: owners shown through the mappings, and the user namespace helper reaped before the container starts', (_case, c) => {
    // The shell's children before it starts any, read by a builtin: a helper left unreaped would be one, the container's zombie.
    c.process.args = ['sh', '-c', 'read c < /proc/$$/task/$$/children; echo "children [$c]"; stat -c "%u %g" /idm/f; grep " /idm " /proc/self/mountinfo | grep -c ",idmapped"'];
    c.mounts.push({ destination: '/idm', type: 'bind', source: 'src', options: ['bind', 'idmap'], uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }], gidMappings: [{ containerID: 0, hostID: 2000, size: 10 }] });
    const r = withBundle(c, (dir) => {
      mkdirSync(path.join(dir, 'src'));
      writeFileSync(path.join(dir, 'src/f'), 'owned by 5:6 on disk');
      chownSync(path.join(dir, 'src/f'), 5, 6);
      return runMountkit(dir);
    });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toBe('children []\n1005 2006\n1\n');
  });

  test("crun's idmap=uids=...;gids=... option: the bind is idmapped with the mappings it gives, as with the mount's uidMappings and gidMappings (it was taken as mount data, which a bind ignores)", () => {
    const c = config(['sh', '-c', 'stat -c "%u %g" /idm/f /idm/g; grep " /idm " /proc/self/mountinfo | grep -c ",idmapped"']);
    c.mounts.push({ destination: '/idm', type: 'bind', source: 'src', options: ['rbind', 'idmap=uids=0-1000-10#20-3000-1;gids=0-2000-10'] });
    const r = withBundle(c, (dir) => {
      mkdirSync(path.join(dir, 'src'));
      for (const [name, uid, gid] of [['f', 5, 6], ['g', 20, 7]] as const) {
        writeFileSync(path.join(dir, 'src', name), '');
        chownSync(path.join(dir, 'src', name), uid, gid);
      }
      return runMountkit(dir);
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '1005 2006\n3000 2007\n1\n', '']);
  });

  test('an idmapped bind without mappings of its own is a config error before anything happens: exit 2, one line', () => {
    const c = config(['true']);
    c.mounts.push({ destination: '/idm', type: 'bind', source: '/tmp', options: ['rbind', 'ridmap'] });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect([r.status, r.stderr]).toEqual([2, `mountkit: mounts[2].options "ridmap": ${NO_MAPPINGS}\n`]);
  });

  describe("idmapped binds in a container with a user namespace: each copy made by the first process from inside the container's mount namespace, attached by the relaunch", () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const own = [{ containerID: 0, hostID: 101000, size: 1 }];
    /** A bundle with `src` holding f (owned by 0) and g (by 1000), idmapped at /a through the container's maps and at /b through its own; run with `wrap` around mountkit. */
    function runIdmapped(probe: string, entry: 'launcher' | 'node', wrap?: (dir: string) => string[]) {
      const c = config(['sh', '-c', probe], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
      // CAP_SYS_ADMIN in the container's namespace, so that what its locks keep it from doing is tried.
      const caps = ['CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE'];
      c.process.capabilities = { bounding: caps, effective: caps, permitted: caps };
      c.mounts.push({ destination: '/a', type: 'bind', source: 'src', options: ['bind', 'idmap'] });
      c.mounts.push({ destination: '/b', type: 'bind', source: 'src', options: ['rbind', 'ridmap'], uidMappings: own, gidMappings: own });
      let made = '';
      const r = withBundle(c, (dir) => {
        // The source is out of the container's root's reach by path: only the copy made from the host gets it there.
        chmodSync(dir, 0o711);
        for (const mnt of ['a', 'b']) mkdirSync(path.join(dir, 'rootfs', mnt));
        mkdirSync(path.join(dir, 'src'), 0o700);
        for (const [name, id] of [['f', 0], ['g', 1000]] as const) {
          writeFileSync(path.join(dir, 'src', name), '');
          chownSync(path.join(dir, 'src', name), id, id);
        }
        const run = wrap ? spawnSync(wrap(dir)[0], [...wrap(dir).slice(1), LAUNCHER, 'run', '--bundle', dir], { encoding: 'utf8' }) : runMountkit(dir, [], entry);
        made = existsSync(path.join(dir, 'src/made')) ? spawnSync('stat', ['-c', '%u:%g', path.join(dir, 'src/made')], { encoding: 'utf8' }).stdout.trim() : '';
        return run;
      });
      return { r, made };
    }

    test.each([
      ['the shell launcher', 'launcher'],
      ['the Node entry', 'node'],
    ] as const)('from %s: owners through the container\'s maps or the mount\'s own, and a write mapped back', (_name, entry) => {
      const { r, made } = runIdmapped('stat -c "%u:%g %n" /a/f /a/g /b/f /b/g; touch /a/made; grep -c ",idmapped" /proc/self/mountinfo', entry);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout.split('\n')).toEqual([
        // Through the container's maps: on-disk ids are the container's (host root's file is its root's).
        '0:0 /a/f',
        '1000:1000 /a/g',
        // Through the mount's own: on-disk 0 is the host's 101000, the container's 1000; on-disk 1000 is no one's.
        '1000:1000 /b/f',
        '65534:65534 /b/g',
        '2',
        '',
      ]);
      // The container's root writes through the container's maps back as on-disk 0.
      expect(made).toBe('0:0');
    });

    test("where pidfds are refused (a seccomp filter answering ENOSYS): the user namespaces' helper named by its pid, each copy made through the container's /proc/PID/ns/mnt", () => {
      const { r, made } = runIdmapped('stat -c "%u:%g %n" /a/f /b/f; touch /a/made; grep -c ",idmapped" /proc/self/mountinfo', 'launcher', () => [process.execPath, WITHOUT_PIDFDS]);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toBe('0:0 /a/f\n1000:1000 /b/f\n2\n');
      expect(made).toBe('0:0');
    });

    test('a source under a read-only host mount stays read-only inside: the copy keeps the lock a user namespace puts on it, and a remount read-write is refused', () => {
      // In a mount namespace of its own around mountkit: the source bound read-only onto itself there.
      const wrap = (dir: string) => ['unshare', '-m', '--propagation', 'private', 'sh', '-c', `mount --bind "$1/src" "$1/src" && mount -o remount,bind,ro "$1/src" && shift && exec "$@"`, 'sh', dir];
      const { r, made } = runIdmapped('grep " /a " /proc/self/mountinfo | cut -d" " -f6; mount -o remount,rw,bind /a 2>/dev/null; echo "remount $?"; touch /a/made 2>/dev/null; echo "write $?"', 'launcher', wrap);
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(r.stdout).toBe('ro,relatime,idmapped\nremount 1\nwrite 1\n');
      expect(made).toBe('');
    });
  });

  test.each([
    ['in a new pid namespace', config([])],
    ['in one process', config([], { linux: { namespaces: [{ type: 'mount' }] } })],
  ])('createContainer and startContainer hooks run as runc runs them %s', (_case, c) => {
    const out = mkdtempSync(path.join(tmpdir(), 'mountkit-hooks-out-'));
    try {
      c.process.args = ['sh', '-c', 'echo pid $$'];
      c.process.env = ['PATH=/bin', 'GREETING=from the container'];
      c.process.cwd = '/tmp';
      c.process.user = { uid: 1000, gid: 1000 };
      chmodSync(out, 0o777);
      c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind'] });
      c.hooks = {
        // On the host's tree (before the jail), in the rootfs.
        createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/cc.json; pwd > ${out}/cc.cwd`] }],
        // In the container: its busybox sh, its user, cwd and environment, and /out as it sees it.
        startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /out/sc.json; pwd > /out/sc.cwd; echo "$GREETING" > /out/sc.env; id -u > /out/sc.uid; echo $(ls /proc/self/fd) > /out/sc.fds; test -x /bin/busybox'] }],
      };
      let rootfs = '';
      const r = withBundle(c, (dir) => {
        rootfs = path.join(dir, 'rootfs');
        return runMountkit(dir);
      });
      expect([r.status, r.stderr]).toEqual([0, '']);
      const pid = Number(/^pid (\d+)$/.exec(r.stdout.trim())?.[1]);
      const state = (name: string) => JSON.parse(readFileSync(path.join(out, name), 'utf8'));
      expect(state('cc.json')).toMatchObject({ status: 'creating', pid });
      expect(state('sc.json')).toMatchObject({ status: 'created', pid });
      expect(readFileSync(path.join(out, 'cc.cwd'), 'utf8')).toBe(`${rootfs}\n`);
      expect(readFileSync(path.join(out, 'sc.cwd'), 'utf8')).toBe('/tmp\n');
      expect(readFileSync(path.join(out, 'sc.env'), 'utf8')).toBe('from the container\n');
      expect(readFileSync(path.join(out, 'sc.uid'), 'utf8')).toBe('1000\n');
      // No descriptor of mountkit's reaches the hook: its stdio, and ls's own listing.
      expect(readFileSync(path.join(out, 'sc.fds'), 'utf8')).toBe('0 1 2 3\n');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  test.each([
    ['bin/mountkit', 'launcher'],
    ['the Node entry', 'node'],
  ] as const)("once the process prepared has the container's capabilities, another process of its user and capabilities cannot open its /proc files (%s): a startContainer hook, as another container's root would be", (_entry, entry) => {
    const c = config(['cat', '/dev/seen']);
    const probe = 'readlink /proc/$PPID/exe >/dev/null 2>&1 && echo exe reached || echo exe refused; readlink /proc/$PPID/fd/1 >/dev/null 2>&1 && echo fd reached || echo fd refused';
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', `(${probe}) > /dev/seen`] }] };
    const r = withBundle(c, (dir) => runMountkit(dir, [], entry));
    // Its exe is the host's node binary, its descriptors the caller's files (prctl(2) PR_SET_DUMPABLE, as runc's init).
    expect(r).toEqual({ status: 0, stdout: 'exe refused\nfd refused\n', stderr: '' });
  });

  describe('poststart and poststop hooks, run by the first process where mountkit was started', () => {
    /**
     * A hook that appends its name, its network namespace and its state to /out's log (the
     * host's path `out`) as one line, one write(2): the program appends to it at the same time.
     */
    const logging = (name: string, out: string, extra = '') => ({
      path: '/bin/sh',
      args: ['sh', '-c', `state=$(cat); echo "${name} $(readlink /proc/self/ns/net) $state" >> ${out}/log; ${extra}`],
    });
    /** A logged line's name, namespace and state. */
    const logged = (line: string) => {
      const [name, ns, ...state] = line.split(' ');
      return { name, ns, state: JSON.parse(state.join(' ')) as unknown };
    };
    const lines = (out: string) => readFileSync(path.join(out, 'log'), 'utf8').trim().split('\n');

    /** A run of `c` with the hooks `hooks` gives, which log to `out`/log; `wrap` goes before the Node entry. */
    function runLogged(c: Record<string, any>, hooks: (out: string) => Record<string, unknown>, entry: 'launcher' | 'node' = 'launcher', wrap?: string[]) {
      return withBundle(c, (dir) => {
        const out = path.join(dir, 'out');
        mkdirSync(out);
        chmodSync(out, 0o777);
        c.mounts.push({ destination: '/out', type: 'bind', source: out, options: ['rbind'] });
        c.hooks = hooks(out);
        writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
        const r = wrap ? spawnSync(wrap[0], [...wrap.slice(1), process.execPath, BIN, 'run', '--bundle', dir, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: 60_000 }) : runMountkit(dir, [], entry);
        return { status: r.status, stdout: r.stdout, stderr: r.stderr, log: existsSync(path.join(out, 'log')) ? lines(out) : [], dir };
      });
    }

    test.each([
      ['bin/mountkit, a new pid namespace', [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }], 'launcher'],
      ['the Node entry, a new pid namespace', [{ type: 'pid' }, { type: 'mount' }, { type: 'network' }], 'node'],
      ['bin/mountkit, no pid namespace', [{ type: 'mount' }, { type: 'network' }], 'launcher'],
    ] as [string, object[], 'launcher' | 'node'][])(
      '%s: poststart after the startContainer hooks, "running" with the container\'s pid; poststop once the container has ended, "stopped" without one; both in mountkit\'s namespaces',
      (_name, namespaces, entry) => {
        // The program waits (up to 10 s) for the poststart hook to have found it, then logs its end.
        const waitForPoststart = 'i=0; while [ ! -e /out/poststarted ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done';
        const c = config(['sh', '-c', `echo "program $(readlink /proc/self/ns/net)" >> /out/log; ${waitForPoststart}; echo "program ends" >> /out/log; exit 7`], { linux: { namespaces } });
        const r = runLogged(
          c,
          (out) => ({
            startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo startContainer >> /out/log'] }],
            poststart: [logging('poststart', out, `pid=$(echo "$state" | sed 's/.*"pid":\\([0-9]*\\).*/\\1/'); echo "found $(readlink /proc/$pid/ns/net)" >> ${out}/log; touch ${out}/poststarted`)],
            poststop: [logging('poststop', out)],
          }),
          entry,
        );
        expect([r.status, r.stdout, r.stderr]).toEqual([7, '', '']);
        const own = readlinkSync('/proc/self/ns/net');
        const program = r.log.find((l) => l.startsWith('program net:'))!;
        const containerNet = program.split(' ')[1];
        expect(containerNet).not.toBe(own);
        // The program's first line may come before or after poststart's: they run at once.
        const at = (prefix: string) => r.log.findIndex((l) => l.startsWith(prefix));
        expect(at('startContainer')).toBe(0);
        expect(at('poststart')).toBeGreaterThan(0);
        expect(r.log.slice(-2).map((l) => l.split(' ')[0])).toEqual(['program', 'poststop']);
        expect(r.log[r.log.length - 2]).toBe('program ends');
        expect(r.log[at('found')]).toBe(`found ${containerNet}`);
        const id = path.basename(r.dir);
        expect(logged(r.log[at('poststart')])).toEqual({ name: 'poststart', ns: own, state: { ociVersion: '1.0.2', id, status: 'running', pid: expect.any(Number), bundle: r.dir } });
        expect(logged(r.log[r.log.length - 1])).toEqual({ name: 'poststop', ns: own, state: { ociVersion: '1.0.2', id, status: 'stopped', bundle: r.dir } });
      },
    );

    test.each([
      ['a new pid namespace (the container is unshare\'s child)', [{ type: 'pid' }, { type: 'mount' }], undefined],
      // The kernel clears PR_SET_PDEATHSIG when credentials change: unshare's --kill-child does not reach it, its pidfd does.
      ['a new pid namespace and a program run as a user other than root', [{ type: 'pid' }, { type: 'mount' }], { uid: 1000, gid: 1000 }],
      ['no pid namespace (the container is the process started)', [{ type: 'mount' }], undefined],
    ])('with %s, a failing poststart hook stops the container and the later hooks: exit 1, one line naming it; the poststop hooks still run', (_name, namespaces, user) => {
      // What the program started in the background would write after the run, were it left
      // running: it holds mountkit's stdout, which the run waits for the end of.
      const c = config(['sh', '-c', '(sleep 2; echo "left running" >> /out/log) & sleep 5; echo "program ends" >> /out/log'], { linux: { namespaces } });
      if (user) c.process.user = user;
      const r = runLogged(c, (out) => ({
        poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no route; exit 3'] }, logging('second poststart', out)],
        poststop: [logging('poststop', out)],
      }));
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: hook poststart[0] "/bin/sh" failed (exit status 3): no route\n']);
      expect(r.log.map((l) => l.split(' ')[0])).toEqual(['poststop']);
    });

    test.each([
      ['a new pid namespace', [{ type: 'pid' }, { type: 'mount' }]],
      ['no pid namespace', [{ type: 'mount' }]],
    ])('where pidfds are refused (a seccomp filter answering ENOSYS), with %s: a failing poststart hook still stops the container (a user other than root), found and killed by pid', (_name, namespaces) => {
      const c = config(['sh', '-c', '(sleep 2; echo "left running" >> /out/log) & sleep 5; echo "program ends" >> /out/log'], { linux: { namespaces } });
      c.process.user = { uid: 1000, gid: 1000 };
      const r = runLogged(c, (out) => ({ poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'echo no route; exit 3'] }], poststop: [logging('poststop', out)] }), 'node', [process.execPath, WITHOUT_PIDFDS]);
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: hook poststart[0] "/bin/sh" failed (exit status 3): no route\n']);
      expect(r.log.map((l) => l.split(' ')[0])).toEqual(['poststop']);
    });

    test('with a pid namespace joined by path (the relaunch becomes the container), a failing poststart hook stops it: exit 1, one line naming it', () => {
      const c = config(['sh', '-c', 'sleep 5; echo "program ends" >> /out/log'], { linux: { namespaces: [{ type: 'mount' }, { type: 'pid', path: `/proc/${process.pid}/ns/pid` }] } });
      c.mounts = [];
      const r = runLogged(c, (out) => ({ poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }], poststop: [logging('poststop', out)] }));
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: hook poststart[0] "/bin/sh" failed (exit status 3)\n']);
      expect(r.log.map((l) => l.split(' ')[0])).toEqual(['poststop']);
    });

    /**
     * A bundle whose program writes its own pid as mountkit sees it to /out/pid (read from
     * the host's /proc, bound at /hostproc, by the shell's builtins: no fork) and ends, with
     * a poststart hook that writes its state to `out`/state; `hooks` adds others.
     */
    function pidWritingBundle(namespaces: object[], hooks: Record<string, unknown> = {}) {
      const c = config(['sh', '-c', 'read -r p _ </hostproc/self/stat; echo $p >/out/pid'], { linux: { namespaces } });
      const b = makeBundle(c);
      const out = path.join(b.dir, 'out');
      mkdirSync(out);
      c.mounts.push({ destination: '/hostproc', type: 'bind', source: '/proc', options: ['rbind'] }, { destination: '/out', type: 'bind', source: out, options: ['rbind'] });
      c.hooks = { ...hooks, poststart: [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${out}/state`] }] };
      writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(c));
      const statePid = () => (JSON.parse(readFileSync(path.join(out, 'state'), 'utf8')) as { pid?: number }).pid;
      return { ...b, out, statePid, programPid: () => Number(readFileSync(path.join(out, 'pid'), 'utf8')) };
    }

    test.each([
      ['a new pid namespace (the container is the child of the process mountkit starts)', [{ type: 'pid' }, { type: 'mount' }]],
      ['no pid namespace (the container is the process mountkit starts)', [{ type: 'mount' }]],
    ])("with %s, 20 runs of a program that ends at once: each poststart hook's state has the program's pid, never 0 (the test below meets that case every time)", (_name, namespaces) => {
      const b = pidWritingBundle(namespaces);
      try {
        // Each run's own files: one that wrote none leaves nothing to be read as its.
        const runs = Array.from({ length: 20 }, () => {
          for (const file of ['pid', 'state']) rmSync(path.join(b.out, file), { force: true });
          const r = runMountkit(b.dir);
          return { status: r.status, stderr: r.stderr, state: b.statePid(), program: b.programPid() };
        });
        expect(runs.filter((r) => r.status !== 0 || r.stderr !== '' || !(r.program > 0) || r.state !== r.program)).toEqual([]);
      } finally {
        b.cleanup();
      }
    }, 60_000);

    test.each([
      ['pidfds', []],
      ['pidfds refused (a seccomp filter answering ENOSYS)', [process.execPath, WITHOUT_PIDFDS]],
    ])('with %s and a new pid namespace, a container that has ended and been reaped before mountkit reads the "exec" event: the poststart state has its pid', async (_name, wrap) => {
      // The startContainer hook, the last step before the "exec" event, waits (up to 10 s) for
      // /out/go, written once mountkit is stopped (SIGSTOP); mountkit goes on (SIGCONT) once the
      // program has written its pid and its parent has reaped it (/proc/PID gone).
      const wait = 'touch /out/started; i=0; while [ ! -e /out/go ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done';
      const b = pidWritingBundle([{ type: 'pid' }, { type: 'mount' }], { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', wait] }] });
      const until = async (what: string, done: () => boolean) => {
        for (let i = 0; i < 1000 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
        if (!done()) throw new Error(`not seen: ${what}`);
      };
      const stateOf = (pid: number) => {
        try {
          return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
        } catch {
          return undefined;
        }
      };
      try {
        const [cmd, ...args] = [...wrap, process.execPath, BIN, 'run', '--bundle', b.dir, '--seccomp-cache', 'off'];
        const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => (stderr += d));
        const status = new Promise<number | null>((resolve) => child.on('close', resolve));
        try {
          await until('the startContainer hook', () => existsSync(path.join(b.out, 'started')));
          process.kill(child.pid!, 'SIGSTOP');
          await until('mountkit stopped', () => stateOf(child.pid!) === 'T');
          writeFileSync(path.join(b.out, 'go'), '');
          await until("the program's pid", () => /^[0-9]+\n$/.test(existsSync(path.join(b.out, 'pid')) ? readFileSync(path.join(b.out, 'pid'), 'utf8') : ''));
          await until('the program reaped', () => stateOf(b.programPid()) === undefined);
        } finally {
          process.kill(child.pid!, 'SIGCONT');
        }
        expect([await status, stderr, b.statePid()]).toEqual([0, '', b.programPid()]);
      } finally {
        b.cleanup();
      }
    }, 30_000);

    test('a signal that comes while the poststop hooks run (from the first of them) neither ends mountkit nor stops the others', () => {
      const c = config(['sh', '-c', 'exit 3']);
      const r = runLogged(c, (out) => ({
        poststop: [
          { path: '/bin/sh', args: ['sh', '-c', `kill -TERM $PPID; sleep 0.3; echo first >> ${out}/log`] },
          { path: '/bin/sh', args: ['sh', '-c', `echo second >> ${out}/log`] },
        ],
      }));
      expect([r.status, r.stdout, r.stderr, r.log]).toEqual([3, '', '', ['first', 'second']]);
    });

    test('bin/mountkit leaves a config with hooks the runtime runs to the Node entry at once: two Node start-ups, not a third after a wrong guess', () => {
      const starts = mkdtempSync(path.join(tmpdir(), 'mountkit-starts-'));
      try {
        const preload = path.join(starts, 'count.js');
        // Each Node start logs its process (PROCESS): a Node that re-executes itself from a read-only copy of its file (src/core/sealed-node.ts: bin/mountkit's, as root) starts again in the same process.
        writeFileSync(preload, `require('fs').appendFileSync(${JSON.stringify(path.join(starts, 'log'))}, ${PROCESS} + '\\n');\n`);
        const c = config(['true']);
        c.hooks = { poststop: [{ path: '/bin/true' }] };
        const r = withBundle(c, (dir) => spawnSync(LAUNCHER, ['run', '--bundle', dir], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: `--require ${preload}` } }));
        expect([r.status, r.stderr]).toEqual([0, '']);
        expect(new Set(readFileSync(path.join(starts, 'log'), 'utf8').split('\n').filter(Boolean)).size).toBe(2);
      } finally {
        rmSync(starts, { recursive: true, force: true });
      }
    });

    test("a failing poststop hook is a warning, the others still run, and the exit status stays the container's", () => {
      const c = config(['sh', '-c', 'exit 4']);
      const r = runLogged(c, (out) => ({ poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'echo busy; exit 2'] }, logging('poststop', out)] }));
      expect([r.status, r.stdout, r.stderr]).toEqual([4, '', 'mountkit warn: hook poststop[0] "/bin/sh" failed (exit status 2): busy\n']);
      expect(r.log[0]).toMatch(/^poststop /);
    });

    test('a hook is done when its own process ends: what it leaves running with its output (prestart, poststop) holds neither the run nor the next hook (runc 1.1.5 waits for it, past a timeout too)', () => {
      const left = mkdtempSync(path.join(tmpdir(), 'mountkit-hook-left-'));
      // Each hook leaves a sleep holding its standard output and error, its pid recorded.
      const leaving = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `sleep 30 & echo $! > ${left}/${name}`], timeout: 60 });
      const pids = () => readdirSync(left).map((name) => Number(readFileSync(path.join(left, name), 'utf8')));
      try {
        const r = runLogged(config(['true']), (out) => ({ prestart: [leaving('prestart'), logging('prestart', out)], poststop: [leaving('poststop'), logging('poststop', out)] }));
        expect([r.status, r.stdout, r.stderr, r.log.map((l) => l.split(' ')[0])]).toEqual([0, '', '', ['prestart', 'poststop']]);
        // Both sleeps outlived the run, which waited neither for them (30 s) nor for the hooks' timeout (60 s), which ends after them.
        expect(pids().map((pid) => spawnSync('kill', ['-0', String(pid)]).status)).toEqual([0, 0]);
      } finally {
        for (const pid of pids()) spawnSync('kill', [String(pid)]);
        rmSync(left, { recursive: true, force: true });
      }
    });

    test('the poststop hooks run after a run that failed before the program, as runc runs them when it destroys the container; a config error runs none', () => {
      const c = config(['true']);
      c.mounts.push({ destination: '/data', type: 'bind', source: '/nonexistent-source', options: ['rbind'] });
      const r = runLogged(c, (out) => ({ poststop: [logging('poststop', out)] }));
      expect([r.status, r.stderr]).toEqual([1, 'mountkit: mounts: plugin bind mounts[2] "/data": bind source "/nonexistent-source" does not exist\n']);
      expect(r.log[0]).toMatch(/^poststop /);
      const bad = config([], { hostname: 'no-uts' });
      const refused = runLogged(bad, (out) => ({ poststop: [logging('poststop', out)] }));
      expect([refused.status, refused.log]).toEqual([2, []]);
    });
  });

  test('a failing startContainer hook stops the run before the program: exit 1, one line naming it', () => {
    const c = config(['sh', '-c', 'echo the program ran']);
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'echo not ready; exit 3'] }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: finalize: plugin exec: hook startContainer[0] "/bin/sh" failed (exit status 3): not ready\n']);
  });

  test("a non-root process gets process.user's groups and umask, and can open its piped stdout again (/dev/stdout), as under runc", () => {
    const c = config(['sh', '-c', 'id -u; id -G; umask; echo again > /dev/stdout']);
    c.process.user = { uid: 1000, gid: 100, additionalGids: [5, 27], umask: 0o027 };
    // stdout a pipe made by a shell (Node's own stdio pipes are socket pairs, which open(2) through /proc refuses: ENXIO).
    const r = withBundle(c, (dir) => spawnSync('/bin/sh', ['-c', '"$0" run --bundle "$1" | cat', LAUNCHER, dir], { encoding: 'utf8' }));
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout).toBe('1000\n100 5 27\n0027\nagain\n');
  });

  test('process.capabilities: the container starts with the sets asked for; without them, with none (runc 1.0-1.2)', () => {
    const c = config(['sh', '-c', 'grep "^Cap" /proc/self/status']);
    c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: ['CAP_NET_BIND_SERVICE'], ambient: [] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    // Root's permitted and effective sets after execve are its inheritable and bounding sets (capabilities(7)).
    expect(r.stdout.replace(/\t/g, ' ')).toBe('CapInh: 0000000000000400\nCapPrm: 0000000000000420\nCapEff: 0000000000000420\nCapBnd: 0000000000000420\nCapAmb: 0000000000000000\n');
    const bare = withBundle(config(['sh', '-c', 'grep "^Cap" /proc/self/status']), (dir) => runMountkit(dir));
    expect(bare.stdout.replace(/\t/g, ' ')).toBe('CapInh: 0000000000000000\nCapPrm: 0000000000000000\nCapEff: 0000000000000000\nCapBnd: 0000000000000000\nCapAmb: 0000000000000000\n');
  });

  test.each([
    ['bin/mountkit', [LAUNCHER]],
    ['the Node entry', [process.execPath, BIN]],
  ])("process.capabilities without ambient ones (%s): an ambient set mountkit's caller gave it is cleared, which capset(2) keeps where the new sets allow it and root's execve(2) keeps too", (_entry, argv) => {
    const c = config(['sh', '-c', 'grep -E "^Cap(Inh|Amb)" /proc/self/status']);
    const caps = ['CAP_KILL', 'CAP_NET_BIND_SERVICE'];
    c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: [] };
    const r = withBundle(c, (dir) =>
      spawnSync('setpriv', ['--inh-caps', '+net_bind_service', '--ambient-caps', '+net_bind_service', '--', ...argv, 'run', '--bundle', dir, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: 60_000 }),
    );
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout.replace(/\t/g, ' ')).toBe('CapInh: 0000000000000420\nCapAmb: 0000000000000000\n');
  });

  test('process.capabilities for a non-root user: nothing after execve but its ambient set (capabilities(7))', () => {
    const c = config(['sh', '-c', 'grep -E "^Cap(Prm|Eff|Amb)" /proc/self/status']);
    c.process.user = { uid: 1000, gid: 1000 };
    c.process.capabilities = { bounding: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], effective: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], permitted: ['CAP_NET_BIND_SERVICE', 'CAP_KILL'], inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE'] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(r.stdout.replace(/\t/g, ' ')).toBe('CapPrm: 0000000000000400\nCapEff: 0000000000000400\nCapAmb: 0000000000000400\n');
  });

  test.each([
    ['bin/mountkit, a pid namespace', [], ['pid', 'mount', 'time']],
    ['the Node entry, a pid namespace (Node started again)', ['node'], ['pid', 'mount', 'time']],
    ['bin/mountkit, no pid namespace', [], ['mount', 'time']],
  ])('linux.timeOffsets in a new time namespace (as runc 1.2): %s; the container\'s boot clock is ahead by the offset', (_what, entry, types) => {
    const days = 10 * 86400;
    // Read by the shell itself, the process mountkit execs into (a child such as cat would be in the namespace whatever the shell is in).
    const c = config(['sh', '-c', 'while read -r line; do echo "$line"; done </proc/self/timens_offsets; read -r up idle </proc/uptime; echo "$up $idle"'], {
      linux: { namespaces: types.map((type) => ({ type })), timeOffsets: { monotonic: { secs: 3600, nanosecs: 0 }, boottime: { secs: days, nanosecs: 0 } } },
    });
    // /proc/uptime gives hundredths of a second: compared as whole hundredths, as a sum of floats may round below the same text.
    const hundredths = (text: string) => Math.round(Number(text) * 100);
    const before = hundredths(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    const r = withBundle(c, (dir) => runMountkit(dir, [], entry.length ? 'node' : 'launcher'));
    const after = hundredths(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    const [monotonic, boottime, uptime] = r.stdout.trim().split('\n');
    expect([monotonic.replace(/\s+/g, ' '), boottime.replace(/\s+/g, ' ')]).toEqual(['monotonic 3600 0', `boottime ${days} 0`]);
    const seen = hundredths(uptime.split(' ')[0]);
    expect(seen).toBeGreaterThanOrEqual(before + days * 100);
    expect(seen).toBeLessThanOrEqual(after + days * 100);
  });

  test.each([
    [{ policy: 'SCHED_BATCH', nice: 5 }, 'nice 5 policy 3'],
    // A real-time policy's priority p shows as -1 - p in the priority field.
    [{ policy: 'SCHED_FIFO', priority: 10, flags: ['SCHED_FLAG_RESET_ON_FORK'] }, 'nice 0 policy 1 priority -11'],
  ])('process.scheduler %j (as runc 1.2): the program runs with it (/proc/self/stat)', (scheduler, seen) => {
    const c = config(['sh', '-c', 'read -r line </proc/self/stat; set -- $line; echo "nice ${19} policy ${41} priority ${18}"']);
    c.process.scheduler = scheduler;
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.startsWith(seen)).toBe(true);
  });

  test('process.ioPriority and linux.personality (as runc 1.2): the program runs with them', () => {
    const c = config(['sh', '-c', 'ionice; uname -m; cat /proc/self/personality'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }], personality: { domain: 'LINUX32' } } });
    c.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 6 };
    const r = withBundle(c, (dir) => runMountkit(dir));
    const machine = process.arch === 'x64' ? 'i686' : 'armv8l';
    expect(r).toEqual({ status: 0, stdout: `best-effort: prio 6\n${machine}\n00000008\n`, stderr: '' });
  });

  test('hostname and domainname (runtime-spec 1.1, set as runc 1.2 sets it) in the container\'s uts namespace', () => {
    const r = withBundle(config(['cat', '/proc/sys/kernel/hostname', '/proc/sys/kernel/domainname'], { hostname: 'box', domainname: 'example.org' }), (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 0, stdout: 'box\nexample.org\n', stderr: '' });
  });

  test.each([
    ["the package's list", false],
    ['a list with builtin:hostname after builtin:finalize', true],
  ])("a kernel.domainname sysctl beside the domainname field (as runc 1.4 takes them), %s: the sysctl's value is the one the container sees; the host's stays", (_list, late) => {
    const hostDomain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const c = config(['sh', '-c', 'cat /proc/sys/kernel/domainname; uname -n'], { hostname: 'box', domainname: 'field.example' });
    c.linux.sysctl = { 'kernel.domainname': 'sysctl.example' };
    const r = withBundle(c, (dir) => {
      if (!late) return runMountkit(dir);
      const { plugins } = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: { module: string }[] };
      const hostname = plugins.splice(plugins.findIndex((p) => p.module === 'builtin:hostname'), 1);
      plugins.splice(plugins.findIndex((p) => p.module === 'builtin:finalize') + 1, 0, ...hostname);
      writeFileSync(path.join(dir, 'late-hostname.json'), JSON.stringify({ plugins }));
      return runMountkit(dir, ['--plugins', path.join(dir, 'late-hostname.json')]);
    });
    expect(r).toEqual({ status: 0, stdout: 'sysctl.example\nbox\n', stderr: '' });
    expect(readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(hostDomain);
  });

  test('linux.seccomp: the container runs under the profile (libseccomp loaded before the pivot_root); without it, under none', () => {
    const script = 'grep "^Seccomp:" /proc/self/status; mkdir /dev/made && echo made';
    const c = config(['sh', '-c', script]);
    c.root.readonly = true;
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect([r.status, r.stdout.replace(/\s+/g, ' ').trim(), r.stderr]).toEqual([1, 'Seccomp: 2', "mkdir: can't create directory '/dev/made': Permission denied\n"]);
    const bare = withBundle(config(['sh', '-c', script]), (dir) => runMountkit(dir));
    expect([bare.status, bare.stdout.replace(/\s+/g, ' ').trim(), bare.stderr]).toEqual([0, 'Seccomp: 0 made', '']);
  });

  test.each([false, true])(
    "linux.seccomp refusing SIGPIPE's rt_sigaction, noNewPrivileges %s: the container starts with every signal at its default, as under runc (mountkit readies them before the filter)",
    (noNewPrivileges) => {
      const c = config(['grep', '^SigIgn:', '/proc/self/status']);
      c.process.noNewPrivileges = noNewPrivileges;
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['rt_sigaction'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 13, op: 'SCMP_CMP_EQ' }] }] };
      const r = withBundle(c, (dir) => runMountkit(dir));
      expect(r).toEqual({ status: 0, stdout: 'SigIgn:\t0000000000000000\n', stderr: '' });
      expect(withBundle(c, (dir) => runRunc(dir))).toEqual(r);
    },
  );

  test("linux.seccomp refusing fcntl's F_SETFD (include/uapi/asm-generic/fcntl.h), which clears a stream's close-on-exec (Node sets it on a pipe): exit 1, one line naming it, nothing run (runc needs no such call; a container without its streams would be worse)", () => {
    const c = config(['sh', '-c', 'echo ran']);
    c.process.noNewPrivileges = true;
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['fcntl'], action: 'SCMP_ACT_ERRNO', args: [{ index: 1, value: 2, op: 'SCMP_CMP_EQ' }] }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^mountkit: finalize: plugin exec: fcntl "\/proc\/thread-self\/fd\/[012]": EPERM \(F_SETFD, clearing FD_CLOEXEC for execve\(2\)\)\n$/);
  });

  test('linux.seccomp refusing prlimit64 with a new limit, which sets the limits last: exit 1, one line naming the limit, nothing run (runc sets them outside its filter; Node runs under them)', () => {
    const c = config(['sh', '-c', 'echo ran']);
    c.process.noNewPrivileges = true;
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 512, hard: 512 }];
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['prlimit64'], action: 'SCMP_ACT_ERRNO', args: [{ index: 2, value: 0, op: 'SCMP_CMP_NE' }] }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 1, stdout: '', stderr: 'mountkit: finalize: plugin exec: process.rlimits[0] RLIMIT_NOFILE (soft 512, hard 512): prlimit: EPERM\n' });
  });

  test("linux.seccomp with noNewPrivileges refusing mkdir, which a startContainer hook calls and the program not: the hook runs under the filter and the run fails, as under runc 1.1.5 (its init loads such a filter before its exec FIFO's write and the startContainer hooks)", () => {
    const c = config(['true']);
    c.process.noNewPrivileges = true;
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'mkdir /dev/hook-made'] }] };
    const refused = "mkdir: can't create directory '/dev/hook-made': Operation not permitted";
    const [mountkit, runc] = withBundle(c, (dir) => [runMountkit(dir), runRunc(dir)]);
    expect([mountkit.status, mountkit.stdout]).toEqual([1, '']);
    expect(mountkit.stderr).toContain(refused);
    expect([runc.status, runc.stdout]).toEqual([1, '']);
    expect(runc.stderr).toContain(refused);
  });

  test('linux.seccomp with noNewPrivileges refusing write, in a run with a createRuntime hook (bin/mountkit\'s hooks relay), whose exec event is written under the filter: Node, unable to say so, dies by a signal and the run fails with one line, as runc 1.1.5 fails writing its exec FIFO under it', () => {
    const c = config(['true']);
    c.process.noNewPrivileges = true;
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['write'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] };
    c.hooks = { createRuntime: [{ path: '/bin/true' }] };
    const [mountkit, runc] = withBundle(c, (dir) => [runMountkit(dir), runRunc(dir)]);
    expect([mountkit.status, mountkit.stdout]).toEqual([1, '']);
    expect(mountkit.stderr).toMatch(/^mountkit: unable to start the container's process: the process preparing the rootfs was killed by SIG[A-Z]+\n$/);
    expect([runc.status, runc.stdout]).toEqual([1, '']);
  });

  // bin/mountkit's one Node process writes the exec event on the launcher's pipe last
  // before execve(2) (RootfsConfig.execNotice); without it, a signal that ended the job was
  // the container's own status (159 here, no message).
  test.each([
    ...LAUNCHER_SHELLS.map(([sh, shell]): [string, string[], object] => [`bin/mountkit under ${sh}`, [...shell, LAUNCHER], {}]),
    ['bin/mountkit with a poststop hook (its hooks relay)', [LAUNCHER], { hooks: { poststop: [{ path: '/bin/true' }] } }],
    ['the Node entry (a relaunch)', [process.execPath, BIN], {}],
  ])('linux.seccomp whose default SCMP_ACT_KILL_PROCESS kills the process preparing the rootfs at its first call under the filter, %s: status 1 and one line naming SIGSYS, as runc 1.1.5 exits 1', (_what, entry, over) => {
    const c = config(['true'], over as Record<string, unknown>);
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: [] };
    const [mountkit, runc] = withBundle(c, (dir) => [
      spawnSync(entry[0], [...entry.slice(1), 'run', '--bundle', dir, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] }),
      runRunc(dir),
    ]);
    expect([mountkit.status, mountkit.stdout, mountkit.stderr]).toEqual([1, '', "mountkit: unable to start the container's process: the process preparing the rootfs was killed by SIGSYS\n"]);
    expect([runc.status, runc.stdout]).toEqual([1, '']);
  });

  // The same line in the run's log, which containerd reads back (the message of its last
  // error line): bin/mountkit writes it as the Node entry's logger would (error_line).
  describe('linux.seccomp whose default SCMP_ACT_KILL_PROCESS kills the process preparing the rootfs, with a log: the error line in it as the Node entry logs it', () => {
    const ENTRIES: [string, string[]][] = [
      ...LAUNCHER_SHELLS.map(([sh, shell]): [string, string[]] => [`bin/mountkit under ${sh}`, [...shell, LAUNCHER]]),
      ['the Node entry (a relaunch)', [process.execPath, BIN]],
    ];
    const MESSAGE = "unable to start the container's process: the process preparing the rootfs was killed by SIGSYS";
    const TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

    /**
     * The run's status, stdout and stderr, and what its --log file holds: `options` come
     * before `run`, `@LOG` in them standing for the file's path; `id` after the bundle;
     * `named`, the name of the bundle's directory, one made in withBundle's.
     */
    function killedRun(entry: string[], options: string[], id: string[], named?: string): { status: number | null; pid: number; stdout: string; stderr: string; log: string | undefined } {
      const c = config(['true']);
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_KILL_PROCESS', architectures: [] };
      return withBundle(c, (dir) => {
        const bundle = named === undefined ? dir : path.join(dir, named);
        if (named !== undefined) {
          mkdirSync(bundle);
          renameSync(path.join(dir, 'config.json'), path.join(bundle, 'config.json'));
          renameSync(path.join(dir, 'rootfs'), path.join(bundle, 'rootfs'));
        }
        const log = path.join(dir, 'run.log');
        const args = options.map((o) => o.replace('@LOG', log));
        // A bundle directory named so is given with a trailing slash, which its name as the id leaves out.
        const r = spawnSync(entry[0], [...entry.slice(1), ...args, 'run', '--bundle', named === undefined ? bundle : `${bundle}/`, '--seccomp-cache', 'off', ...id], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
        return { status: r.status, pid: r.pid, stdout: r.stdout, stderr: r.stderr, log: existsSync(log) ? readFileSync(log, 'utf8') : undefined };
      });
    }

    test.each(ENTRIES)('--log FILE --log-format json, %s: stderr the text line, the file one JSON line (time, level, pid, id, msg)', (_what, entry) => {
      const r = killedRun(entry, ['--log', '@LOG', '--log-format', 'json'], ['mk-killed']);
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', `mountkit: ${MESSAGE}\n`]);
      expect(r.log).toMatch(/^[^\n]*\n$/);
      const line = JSON.parse(r.log!);
      expect(Object.keys(line)).toEqual(['time', 'level', 'pid', 'id', 'msg']);
      // The pid the caller started: the launcher's own, or the Node entry's first process.
      expect(line).toEqual({ time: expect.stringMatching(TIME), level: 'error', pid: r.pid, id: 'mk-killed', msg: MESSAGE });
    });

    test.each(ENTRIES)('--log=FILE (text), no id given, %s: the file\'s line has the time, pid, the bundle directory\'s name as id, then the error', (_what, entry) => {
      const r = killedRun(entry, ['--log=@LOG'], [], 'mk.bundle-2');
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', `mountkit: ${MESSAGE}\n`]);
      expect(r.log).toMatch(new RegExp(`^\\d{4}-\\S+Z pid=${r.pid} id=mk\\.bundle-2 mountkit error: ${MESSAGE}\n$`));
    });

    test.each(ENTRIES)('--log-format=json without --log, %s: stderr is the log, one JSON line and no text line', (_what, entry) => {
      const r = killedRun(entry, ['--log-format=json'], ['--', 'mk-json']);
      expect([r.status, r.stdout, r.log]).toEqual([1, '', undefined]);
      expect(r.stderr).toMatch(/^[^\n]*\n$/);
      expect(JSON.parse(r.stderr)).toEqual({ time: expect.stringMatching(TIME), level: 'error', pid: r.pid, id: 'mk-json', msg: MESSAGE });
    });
  });

  test('linux.seccomp from the cache: the first run keeps the program it built in --seccomp-cache, the next loads it from there and runs under it', () => {
    const cache = mkdtempSync(path.join(tmpdir(), 'mountkit-cli-cache-'));
    try {
      const c = config(['sh', '-c', 'grep "^Seccomp:" /proc/self/status; mkdir /dev/made && echo made']);
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] };
      const [first, second, off] = withBundle(c, (dir) => [
        runMountkit(dir, ['--seccomp-cache', cache, '--log-level', 'debug']),
        runMountkit(dir, ['--seccomp-cache', cache, '--log-level', 'debug']),
        runMountkit(dir, ['--seccomp-cache', 'off', '--log-level', 'debug']),
      ]);
      const [record] = readdirSync(cache);
      expect(record).toMatch(/^[0-9a-f]{64}\.json$/);
      const told = (r: { stderr: string }) => r.stderr.split('\n').filter((l) => l.includes('linux.seccomp: '));
      expect(told(first)).toEqual([expect.stringContaining(`linux.seccomp: no record; stored in the cache: ${cache}/${record}`)]);
      expect(told(second)).toEqual([expect.stringContaining(`linux.seccomp: from the cache: ${cache}/${record}`)]);
      expect(told(off)).toEqual([]);
      for (const r of [first, second, off]) {
        expect([r.status, r.stdout.replace(/\s+/g, ' ').trim()]).toEqual([1, 'Seccomp: 2']);
        expect(r.stderr).toContain("mkdir: can't create directory '/dev/made': Permission denied");
      }
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });

  test('--console-socket: a container with process.terminal gets a new pseudo-terminal of its devpts, sized, as its streams, /dev/console and controlling terminal; the master goes to the socket', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-console-'));
    try {
      const probe = 'tty; stty size; read -r pid comm state ppid pgrp sid tty rest </proc/self/stat; echo "session $sid tty $tty"; stat -c "%u %t:%T" /dev/console $(tty)';
      const c = config(['sh', '-c', probe], { process: { terminal: true, consoleSize: { height: 30, width: 100 }, user: { uid: 1000, gid: 1000 }, args: ['sh', '-c', probe], env: ['PATH=/bin'], cwd: '/' } });
      c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] });
      let stdout = '';
      const seen = await throughConsole(dir, (socket) => {
        const r = withBundle(c, (bundle) => runMountkit(bundle, ['--console-socket', socket]));
        stdout = r.stdout;
        return r;
      });
      expect(stdout).toBe('');
      expect(seen).toEqual({
        message: '/dev/ptmx',
        fds: 1,
        // 136:0 is /dev/pts/0 (Unix98 pty peers); the container's user owns its console, as runc gives it.
        output: ['/dev/pts/0', '30 100', `session 1 tty ${(136 << 8) | 0}`, '1000 88:0', '1000 88:0'],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test.each([
    ['the shell launcher (its Node started in the new pid namespace: no relaunch)', 'launcher'],
    ['the Node entry (a relaunch)', 'node'],
  ] as const)("--console-socket, %s: what mountkit writes after the console step (a warning, the error that ends the run) goes to its own stderr, none of it to the console", async (_what, entry) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-console-'));
    try {
      const warning = 'mountkit warn [exec]: linux.personality.flags ["X"] ignored, as runc ignores them\n';
      const terminal = (args: string[]) => {
        const c = config(args, { process: { terminal: true, args, env: ['PATH=/bin'], cwd: '/' } });
        c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] });
        // A warning the exec step logs after the console step, as runc ignores the flags with one.
        c.linux.personality = { domain: 'LINUX', flags: ['X'] };
        return c;
      };
      const stdout: string[] = [];
      const run = (args: string[]) => (socket: string) => {
        const r = withBundle(terminal(args), (bundle) => runMountkit(bundle, ['--console-socket', socket], entry));
        stdout.push(r.stdout);
        return r;
      };
      const seen = await throughConsole(path.join(dir, 'ran'), run(['sh', '-c', 'tty; ls /proc/self/fd']), { status: 0, stderr: warning });
      // The copy mountkit wrote to is not the container's: it has its three streams, and ls its directory.
      expect(seen.output).toEqual(['/dev/pts/0', '0  1  2  3']);
      // A program that is not there: the run's error, after the console step, as well.
      const error = 'mountkit: finalize: plugin exec: process.args[0] "nothere" is not found in PATH "/bin"\n';
      const failed = await throughConsole(path.join(dir, 'failed'), run(['nothere']), { status: 1, stderr: warning + error });
      expect(failed).toEqual({ message: '/dev/ptmx', fds: 1, output: [''] });
      expect(stdout).toEqual(['', '']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test('--console-socket with a FIFO at /dev/console (here from linux.devices): the console is bound over it, never opened for real, which would wait for a writer', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-console-'));
    try {
      const probe = 'tty; stat -c "%F %t:%T" /dev/console';
      const c = config(['sh', '-c', probe], { process: { terminal: true, args: ['sh', '-c', probe], env: ['PATH=/bin'], cwd: '/', user: { uid: 0, gid: 0 } } });
      c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] });
      c.linux.devices = [{ path: '/dev/console', type: 'p', fileMode: 0o600, uid: 0, gid: 0 }];
      // Under timeout(1), whose SIGKILL to its process group ends unshare, and so the relaunch (--kill-child): a run blocked in an open would never close its output.
      const bounded = (bundle: string, socket: string) => {
        const r = spawnSync('timeout', ['-s', 'KILL', '30', LAUNCHER, 'run', '--bundle', bundle, '--seccomp-cache', 'off', '--console-socket', socket], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        return { status: r.status, stderr: r.stderr };
      };
      const seen = await throughConsole(dir, (socket) => withBundle(c, (bundle) => bounded(bundle, socket)));
      expect(seen).toMatchObject({ message: '/dev/ptmx', fds: 1, output: ['/dev/pts/0', 'character special file 88:0'] });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  test('a user other than root with a config that has no user namespace: exit 2, one line naming linux.namespaces, from the shell launcher and the Node entry alike', () => {
    withBundle(config(['true']), (bundle) => {
      chmodSync(bundle, 0o755);
      for (const entry of [[LAUNCHER], [process.execPath, BIN]]) {
        const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', ...entry, 'run', '--bundle', bundle], { encoding: 'utf8', timeout: 60_000 });
        expect([r.status, r.stdout, r.stderr]).toEqual([2, '', 'mountkit: linux.namespaces: a container run by a user other than root needs a user namespace (type "user"), as runc requires\n']);
      }
    });
  });

  test('--console-socket for a container without process.terminal: exit 2, one line naming it, nothing mounted', () => {
    const r = withBundle(config(['true']), (dir) => runMountkit(dir, ['--console-socket', '/run/nothing.sock']));
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', 'mountkit: --console-socket "/run/nothing.sock": is for a container with process.terminal: true\n']);
  });

  test('SCMP_ACT_NOTIFY through the CLI bundle: the agent gets the listener, with the pid as the host sees it, and answers the container\'s mkdir', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-agent-'));
    const socket = path.join(dir, 'agent.sock');
    const report = path.join(dir, 'report.json');
    let agent: SeccompAgent | undefined;
    try {
      agent = await startSeccompAgent(socket, report, 18);
      const c = config(['sh', '-c', 'mkdir /dev/made; echo "mkdir $?"']);
      c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socket, syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY' }] };
      // The container id given after run (runc's `run <container-id>`) is the state's.
      const r = withBundle(c, (bundle) => runMountkit(bundle, ['agent-7']));
      expect([r.status, r.stdout, r.stderr]).toEqual([0, 'mkdir 1\n', "mkdir: can't create directory '/dev/made': Invalid cross-device link\n"]);
      expect(await agent.exited).toBe(0);
      const seen = JSON.parse(readFileSync(report, 'utf8'));
      // The container is PID 1 of its namespace; the agent, on the host, gets its host pid.
      expect(seen.state.pid).toBeGreaterThan(1);
      expect(seen.state).toMatchObject({ fds: ['seccompFd'], state: { id: 'agent-7', status: 'creating', pid: seen.state.pid } });
    } finally {
      agent?.kill();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('LSM labels this host cannot give stop the run before the program, as runc stops it: AppArmor\'s refusal (exit 1), a label without SELinux (exit 2)', () => {
    const apparmor = config(['sh', '-c', 'echo ran']);
    // A profile no host has: refused without AppArmor (EINVAL), and with it, where none is loaded by that name.
    apparmor.process.apparmorProfile = 'mountkit-test-no-such-profile';
    const a = withBundle(apparmor, (dir) => runMountkit(dir));
    expect({ status: a.status, stdout: a.stdout }).toEqual({ status: 1, stdout: '' });
    expect(a.stderr).toMatch(/^mountkit: finalize: plugin exec: process\.apparmorProfile "mountkit-test-no-such-profile": write "\/proc\/self\/attr\/(apparmor\/)?exec": E[A-Z]+( \(is AppArmor enabled, and the profile loaded\?\))?\n$/);
    const selinux = config(['sh', '-c', 'echo ran']);
    selinux.process.selinuxLabel = 'system_u:system_r:container_t:s0';
    const s = withBundle(selinux, (dir) => runMountkit(dir));
    if (hostMountsSelinuxfs()) return;
    expect([s.status, s.stdout, s.stderr]).toEqual([2, '', 'mountkit: process.selinuxLabel "system_u:system_r:container_t:s0": is set, but SELinux is disabled or not supported on this host\n']);
  });

  test('a seccomp profile error: exit 2, one line naming the field, before anything is mounted', () => {
    const c = config(['true']);
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_DENY' }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toMatch(/^mountkit: linux\.seccomp\.syscalls\[0\]\.action "SCMP_ACT_DENY": is not a seccomp action; known: SCMP_ACT_KILL, [A-Z_, ]+\n$/);
  });

  test('a low RLIMIT_NOFILE binds the container, not mountkit: its startContainer hook and its program still run', () => {
    const c = config(['sh', '-c', 'ulimit -Sn; ulimit -Hn']);
    c.process.rlimits = [{ type: 'RLIMIT_NOFILE', soft: 4, hard: 4 }];
    c.hooks = { startContainer: [{ path: '/bin/true' }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '4\n4\n', '']);
  });

  test('a new user namespace without maps is refused before anything happens, from either entry', () => {
    const c = config(['true']);
    c.linux.namespaces.push({ type: 'user' });
    for (const entry of ['launcher', 'node'] as const) {
      const r = withBundle(c, (dir) => runMountkit(dir, [], entry));
      expect([r.status, r.stdout, r.stderr]).toEqual([
        2,
        '',
        'mountkit: linux.namespaces "user": a new user namespace needs linux.uidMappings and linux.gidMappings, the maps mountkit writes for it (or a path to join one)\n',
      ]);
    }
  });

  test('the Node entry without unshare(1) in PATH: exit 1, one line naming it', () => {
    const r = withBundle(config(['true']), (dir) =>
      spawnSync(process.execPath, [BIN, 'run', '--bundle', dir], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } }),
    );
    expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: unshare (util-linux) is not found in PATH\n']);
  });

  test('bin/mountkit without unshare(1) in PATH leaves the run to the Node entry, which names it in one line', () => {
    const bin = mkdtempSync(path.join(tmpdir(), 'mountkit-path-'));
    try {
      for (const tool of ['node', 'grep', 'sh']) symlinkSync(spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
      const r = withBundle(config(['true']), (dir) => spawnSync('/bin/sh', [LAUNCHER, 'run', '--bundle', dir], { encoding: 'utf8', env: { ...process.env, PATH: bin } }));
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: unshare (util-linux) is not found in PATH\n']);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });

  test("MOUNTKIT_LAUNCHER_FD in the user's environment is no launcher's: the Node entry runs the container", () => {
    const c = config(['sh', '-c', 'echo ran']);
    c.linux.namespaces = [{ type: 'mount' }, { type: 'uts' }];
    const r = withBundle(c, (dir) => spawnSync(process.execPath, [BIN, 'run', '--bundle', dir], { encoding: 'utf8', env: { ...process.env, MOUNTKIT_LAUNCHER_FD: '1' } }));
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'ran\n', '']);
  });

  test('bin/mountkit run by a shell that found it through PATH (`bash mountkit`) finds its Node entry', () => {
    const r = spawnSync('bash', ['mountkit', '--version'], { cwd: tmpdir(), encoding: 'utf8', env: { ...process.env, PATH: `${path.dirname(LAUNCHER)}:${process.env.PATH}` } });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^mountkit \d+\.\d+\.\d+\n$/);
  });

  test('bin/mountkit with a FIFO for config.json reads it once, through the Node entry, as runc does', () => {
    const r = withBundle(config(['sh', '-c', 'exit 3']), (dir) => {
      const file = path.join(dir, 'config.json');
      renameSync(file, path.join(dir, 'text.json'));
      spawnSync('mkfifo', [file]);
      // The writer gives the text once, as a pipe would; it runs on its own while spawnSync holds this process.
      const writer = spawn('sh', ['-c', 'cat "$1" > "$2"', 'sh', path.join(dir, 'text.json'), file], { stdio: 'ignore' });
      try {
        // SIGKILL at the timeout: a launcher waiting for a Node that never reads passes SIGTERM on and goes on waiting.
        return spawnSync(LAUNCHER, ['run', '--bundle', dir], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      } finally {
        writer.kill();
      }
    });
    expect([r.status, r.stderr]).toEqual([3, '']);
  });

  test('a FIFO for config.json that never ends is read up to CONFIG_MAX_BYTES, then refused: exit 2, one line', () => {
    const r = withBundle(config(['true']), (dir) => {
      const file = path.join(dir, 'config.json');
      rmSync(file);
      spawnSync('mkfifo', [file]);
      const writer = spawn('sh', ['-c', 'exec cat /dev/zero > "$1"', 'sh', file], { stdio: 'ignore' });
      try {
        return spawnSync(LAUNCHER, ['run', '--bundle', dir], { encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
      } finally {
        writer.kill();
      }
    });
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(/^mountkit: config\.json "[^"]+\/config\.json": is \d+ bytes or more, more than the 67108864 mountkit reads\n$/)]);
  });

  test.each(LAUNCHER_SHELLS)('bin/mountkit under %s started with INT and QUIT ignored (a script\'s `mountkit run &`) still passes them on, through the Node entry', async (_sh, shell) => {
    const script = `trap "echo got INT" INT; trap "echo got QUIT; exit 8" QUIT; ${READY_THEN_WAIT}`;
    const r = await withBundleAsync(config(['sh', '-c', script]), (dir) =>
      signalled(['sh', '-c', `trap '' INT QUIT; exec "$@"`, 'sh', ...underShell(shell, ['run', '--bundle', dir]).flat()], 1, ['SIGINT', 'SIGQUIT']),
    );
    expect(r).toEqual({ status: 8, stdout: 'ready\ngot INT\ngot QUIT\n', stderr: '' });
  }, 30_000);

  test('a missing config.json is a config error: exit 2, one line', () => {
    const r = runMountkit('/nonexistent-bundle');
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^mountkit: config\.json "\/nonexistent-bundle\/config\.json": cannot be read \(ENOENT\)\n$/);
  });

  test('a missing bind source is a runtime error: exit 1, naming mount and source', () => {
    const c = config(['true']);
    c.mounts.push({ destination: '/data', type: 'bind', source: '/nonexistent-source', options: ['rbind'] });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('mountkit: mounts: plugin bind mounts[2] "/data": bind source "/nonexistent-source" does not exist\n');
  });

  test('a program missing from PATH is a runtime error', () => {
    const r = withBundle(config(['no-such-program']), (dir) => runMountkit(dir));
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('mountkit: finalize: plugin exec: process.args[0] "no-such-program" is not found in PATH "/bin"\n');
  });

  test("a program whose interpreter is missing (a #! line naming no file): execve's ENOENT says so, exit 1", () => {
    const r = withBundle(config(['/bin/orphan']), (dir) => {
      writeFileSync(path.join(dir, 'rootfs', 'bin', 'orphan'), '#!/no/such/interpreter\n', { mode: 0o755 });
      return runMountkit(dir);
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: finalize: plugin exec: execve "/bin/orphan": ENOENT (the file is there: the interpreter it names, its #! line\'s or an ELF program\'s loader, is not)\n']);
  });

  test('a cwd through a missing directory and ".." is reached, that directory made too, as under runc', () => {
    const c = config(['sh', '-c', 'pwd; ls -d /new']);
    c.process.cwd = '/new/../new2';
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 0, stdout: '/new2\n/new\n', stderr: '' });
  });

  test.each([
    ['no PATH in process.env', [], 'is not found: process.env has no PATH, or an empty one'],
    ['a relative PATH entry', ['PATH=bin'], 'is found relative to the working directory ("bin/true", through PATH "bin"), which runc refuses to run'],
  ])('a program named without a path, with %s, is a runtime error, as under runc', (_what, env, message) => {
    const c = config(['true']);
    c.process.env = env;
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect([r.status, r.stderr]).toEqual([1, `mountkit: finalize: plugin exec: process.args[0] "true" ${message}\n`]);
  });

  test('--log FILE with --log-level debug records the phases as JSON lines', () => {
    const b = makeBundle(config(['true']));
    try {
      const log = path.join(b.dir, 'run.log');
      const r = runMountkit(b.dir, ['--log', log, '--log-level', 'debug', '--log-format', 'json']);
      expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
      const lines = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      const phases = lines.filter((l) => /^phase .* end$/.test(l.msg)).map((l) => l.msg.split(' ')[1]);
      expect(phases).toEqual(['prepare-root', 'mounts', 'dev', 'before-jail', 'jail', 'after-jail']);
    } finally {
      b.cleanup();
    }
  });

  /**
   * The error containerd reports for a failed runtime command: the log file read as JSON
   * values one after another into a struct of Level, Msg and Time (Go's encoding/json
   * matches keys case-blind), the Msg of the last value whose Level is "error".
   */
  function containerdLastError(text: string): string {
    let msg = '';
    for (const line of text.trim().split('\n')) {
      const fields = Object.fromEntries(Object.entries(JSON.parse(line) as Record<string, unknown>).map(([k, v]) => [k.toLowerCase(), v]));
      if (typeof fields.time === 'string') expect(fields.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
      if (fields.level === 'error') msg = String(fields.msg ?? '').trim();
    }
    return msg;
  }

  test.each([
    ['a configuration error (exit 2), before any logger was made', 'json', (c: Record<string, any>): void => void (c.process.cwd = 'relative'), 2],
    ['an error after the jail (exit 1), through the logger opened before it', 'json', (c: Record<string, any>): void => void (c.process.args = ['no-such-program']), 1],
    ['the same as text', 'text', (c: Record<string, any>): void => void (c.process.args = ['no-such-program']), 1],
  ] as const)('--log FILE gets the error that ends the run, the line stderr has, as runc logs its own: %s', (_what, format, spoil, status) => {
    const c = config(['true']);
    spoil(c);
    const b = makeBundle(c);
    try {
      const log = path.join(b.dir, 'run.log');
      const r = runMountkit(b.dir, ['--log', log, '--log-format', format]);
      expect(r.status).toBe(status);
      expect(r.stderr).toMatch(/^mountkit: .+\n$/);
      const told = r.stderr.slice('mountkit: '.length, -1);
      const last = readFileSync(log, 'utf8').trimEnd().split('\n').at(-1)!;
      if (format === 'json') {
        expect(JSON.parse(last)).toMatchObject({ level: 'error', msg: told });
        expect(containerdLastError(readFileSync(log, 'utf8'))).toBe(told);
      }
      else expect(last).toMatch(new RegExp(`^\\S+ pid=\\d+ id=\\S+ mountkit error: ${told.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    } finally {
      b.cleanup();
    }
  });

  test('--log to a file that cannot take the error (/dev/full: ENOSPC) leaves the status and the error\'s one line on stderr as they are; one more line says the log is dropped', () => {
    const c = config(['true']);
    c.process.cwd = 'relative';
    const r = withBundle(c, (dir) => runMountkit(dir, ['--log', '/dev/full']));
    expect(r).toEqual({ status: 2, stdout: '', stderr: 'mountkit: process.cwd "relative": must be an absolute path\nmountkit: --log "/dev/full": write: ENOSPC; the rest of the log is dropped\n' });
  });

  test.each([
    ['bin/mountkit', 'text', 'launcher'],
    ['bin/mountkit', 'json', 'launcher'],
    ['the Node entry', 'text', 'node'],
    ['the Node entry', 'json', 'node'],
  ] as const)('--log to a file that cannot be written (/dev/full: ENOSPC), from %s, as %s, when a plugin warns: the container runs, and stderr is told once in one line (it ended the run as the plugin\'s failure)', (_name, format, entry) => {
    const c = config(['sh', '-c', 'echo ran']);
    c.process.capabilities = { bounding: ['CAP_KILL', 'CAP_BOGUS'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'] };
    const dropped = 'mountkit: --log "/dev/full": write: ENOSPC; the rest of the log is dropped\n';
    const r = withBundle(c, (dir) => {
      const run = runMountkit(dir, ['--log', '/dev/full', '--log-format', format], entry);
      const [cmd, ...pre] = entry === 'launcher' ? [LAUNCHER] : [process.execPath, BIN];
      const plan = spawnSync(cmd, [...pre, 'plan', '--bundle', dir, '--log', '/dev/full', '--log-format', format], { encoding: 'utf8', timeout: 60_000 });
      return { run, plan: [plan.status, plan.stderr] };
    });
    expect(r.run).toEqual({ status: 0, stdout: 'ran\n', stderr: dropped });
    expect(r.plan).toEqual([0, dropped]);
  });

  test('a tmpfs with acl (MS_POSIXACL, not data) mounts, as under runc', () => {
    const c = config(['sh', '-c', 'grep -c " /acl " /proc/self/mountinfo']);
    c.mounts.push({ destination: '/acl', type: 'tmpfs', source: 'tmpfs', options: ['acl', 'size=1m'] });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 0, stdout: '1\n', stderr: '' });
    expect(withBundle(c, (dir) => runRunc(dir))).toEqual(r);
  });

  test("'defaults' on a filesystem's mount (tmpfs, proc) sets no flag, as mount(8), crun and youki read it; runc (every version) passes it on as data, which those filesystems refuse (EINVAL)", () => {
    const c = config(['sh', '-c', 'grep -E " /(t|p2) " /proc/self/mountinfo | cut -d" " -f5,6']);
    c.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['defaults', 'size=1m'] }, { destination: '/p2', type: 'proc', source: 'proc', options: ['nosuid', 'defaults'] });
    expect(withBundle(c, (dir) => runMountkit(dir))).toEqual({ status: 0, stdout: '/t rw,relatime\n/p2 rw,nosuid,relatime\n', stderr: '' });
    const runc = withBundle(c, (dir) => runRunc(dir));
    expect(runc.status).toBe(1);
    expect(runc.stderr).toContain('data: defaults,size=1m: invalid argument');
  });

  test('tmpcopyup of a FIFO and of a sticky directory: mountkit copies both as they are, as crun does; runc fails on the FIFO (its copy makes none: lchown ENOENT), and 1.1.5 makes the directory under the umask (1755)', () => {
    const c = config(['sh', '-c', 'for f in /data/*; do stat -c "%n %F %a" "$f"; done']);
    c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    const run = (fifo: boolean, runtime: (bundle: string) => ReturnType<typeof runMountkit>) => {
      const b = makeBundle(c);
      try {
        mkdirSync(path.join(b.dir, 'rootfs', 'data', 'sticky'), { recursive: true });
        chmodSync(path.join(b.dir, 'rootfs', 'data', 'sticky'), 0o1777);
        if (fifo) expect(spawnSync('mkfifo', ['-m', '644', path.join(b.dir, 'rootfs', 'data', 'fifo')]).status).toBe(0);
        return runtime(b.dir);
      } finally {
        b.cleanup();
      }
    };
    expect(run(true, (dir) => runMountkit(dir))).toEqual({ status: 0, stdout: '/data/fifo fifo 644\n/data/sticky directory 1777\n', stderr: '' });
    const runc = run(true, (dir) => runRunc(dir));
    expect(runc.status).toBe(1);
    expect(runc.stderr).toMatch(/tmpcopyup: failed to copy \/data .*lchown \S+\/fifo: no such file or directory/);
    expect(run(false, (dir) => runRunc(dir))).toEqual({ status: 0, stdout: '/data/sticky directory 1755\n', stderr: '' });
  });

  test('a mount entry without a type that remounts (runtime-spec makes type optional) changes the mount at its destination, as under runc', () => {
    const c = config(['sh', '-c', 'grep " /dev/shm " /proc/self/mountinfo | cut -d" " -f6 | cut -d, -f1; touch /dev/shm/x']);
    c.mounts.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'size=1m'] }, { destination: '/dev/shm', source: '', options: ['remount', 'ro'] });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 1, stdout: 'ro\n', stderr: "touch: /dev/shm/x: Read-only file system\n" });
    expect(withBundle(c, (dir) => runRunc(dir))).toEqual(r);
  });

  test("a bind remount without a source (bind,remount,ro) makes the bind at its destination read-only, as under runc (the source, taken as the bundle's directory, is not read)", () => {
    const c = config(['sh', '-c', 'grep " /data " /proc/self/mountinfo | cut -d" " -f6; touch /data/x']);
    c.mounts.push({ destination: '/data', type: 'bind', source: 'rootfs/etc', options: ['rbind'] }, { destination: '/data', options: ['bind', 'remount', 'ro', 'nosuid'] });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 1, stdout: 'ro,nosuid,relatime\n', stderr: 'touch: /data/x: Read-only file system\n' });
    expect(withBundle(c, (dir) => runRunc(dir))).toEqual(r);
  });

  test('a remount without a type at /proc changes the procfs there, as under runc', () => {
    const c = config(['sh', '-c', 'grep " /proc " /proc/self/mountinfo | cut -d" " -f6']);
    c.mounts.push({ destination: '/proc', source: '', options: ['remount', 'ro', 'nosuid'] });
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^ro,nosuid\b/);
    expect(withBundle(c, (dir) => runRunc(dir))).toEqual(r);
  });

  test('a read-only bind at /dev is read-only before the mounts under it, as under runc: a tmpfs at /dev/shm fails (EROFS) and makes nothing in the source', () => {
    const source = mkdtempSync(path.join(tmpdir(), 'mountkit-dev-source-'));
    try {
      const c = config(['true']);
      c.mounts = [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'bind', source, options: ['rbind', 'ro'] },
        { destination: '/dev/shm', type: 'tmpfs', source: 'shm' },
      ];
      const r = withBundle(c, (dir) => runMountkit(dir));
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^mountkit: mounts: plugin tmpfs mounts\[2\] "\/dev\/shm": .*EROFS.*\n$/);
      expect(readdirSync(source)).toEqual([]);
      expect(withBundle(c, (dir) => runRunc(dir)).status).toBe(1);
      expect(readdirSync(source)).toEqual([]);
    } finally {
      rmSync(source, { recursive: true, force: true });
    }
  });

  test('--no-pivot jails with MS_MOVE and chroot and still runs the container', () => {
    const r = withBundle(config(['sh', '-c', 'cat /proc/self/mountinfo | head -1 | cut -d" " -f5']), (dir) => runMountkit(dir, ['--no-pivot']));
    expect(r).toEqual({ status: 0, stdout: '/\n', stderr: '' });
  });

  test('--plugins FILE replaces the plugin list', () => {
    const b = makeBundle(config(['true']));
    try {
      mkdirSync(path.join(b.dir, 'p'));
      writeFileSync(path.join(b.dir, 'p', 'plugins.json'), JSON.stringify({ plugins: [{ module: 'builtin:nope' }] }));
      const r = runMountkit(b.dir, ['--plugins', path.join(b.dir, 'p', 'plugins.json')]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^mountkit: plugin module "builtin:nope": no built-in plugin of that name/);
    } finally {
      b.cleanup();
    }
  });
});
