/**
 * `mountkit run` under a small RLIMIT_NPROC (`ulimit -u`) or RLIMIT_NOFILE (`ulimit -n`),
 * rootless and as root with a user namespace: every limit ends the run, with the container
 * run or with one line naming the call, the errno and the limit (exit 1), and nothing
 * left running; never a hang (a Node that cannot start its threads waits for them
 * forever) or a crash (Node short of descriptors). Each run is killed if it has not ended
 * after RUN_TIMEOUT_MS, so that a hang fails the test rather than the suite.
 *
 * The runs are by LIMITED_ID, a uid of this file's own: RLIMIT_NPROC counts every task of
 * a uid, so no other test's processes are counted with them, and what is left running
 * after a run is what that run left.
 */
import { spawnSync } from 'child_process';
import { chmodSync, chownSync, closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, realpathSync, rmdirSync, rmSync, writeFileSync } from 'fs';
import { availableParallelism, tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, busyboxConfig, removeRootlessInstall, rootlessLauncher, withBundle } from '../conformance/harness';
import { PID_NAMESPACE_PARENT, UNFORKED } from '../../src/core/namespaces';
import { libuvPoolThreads, nodeTasks, strtoll } from '../../src/core/node-tasks';
import { BIN, LAUNCHER } from '../helpers/cli';
import { ptySession } from '../helpers/console';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('task limit tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

/** A uid no other test runs as (nor anything on a Debian host): its tasks are this file's runs'. */
const LIMITED_ID = 61234;

/**
 * `sh -c SCRIPT sh DIR... -- COMMAND...`, run as root of a new user and mount namespace:
 * COMMAND chrooted into a tmpfs that root owns, with /usr, /etc, /proc, /dev and each DIR
 * bound in at the same path (merged /usr's /bin, /lib... as its links), as in a rootless
 * container, whose root owns its /. The mounts are the throwaway namespace's; the
 * directory the tmpfs covers is made in $TMPDIR (mktemp(1)).
 */
const UNSHARE_ROOTLESS_ROOT = [
  'sh',
  '-c',
  [
    'set -e',
    'root=$(mktemp -d)',
    'mount -t tmpfs -o mode=755 tmpfs "$root"',
    'for d in usr etc proc dev; do mkdir "$root/$d"; mount --rbind "/$d" "$root/$d"; done',
    'for l in bin lib lib32 lib64 libx32 sbin; do if [ -L "/$l" ]; then ln -s "$(readlink "/$l")" "$root/$l"; fi; done',
    'while [ "$1" != -- ]; do mkdir -p "$root$1"; mount --rbind "$1" "$root$1"; shift; done',
    'shift',
    'cd /',
    'exec chroot "$root" "$@"',
  ].join('\n'),
  'sh',
];

/** Runs a command as a uid with one capability in its effective set (ambient). */
const WITH_AMBIENT_CAP = path.join(__dirname, '..', 'helpers', 'with-ambient-cap.py');

/** Whether CAP_SYS_ADMIN (bit 21) is in this process's bounding set, so that another uid can be given it. */
const CAP_SYS_ADMIN_BOUND = ((BigInt(`0x${/^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`) >> 21n) & 1n) === 1n;

/** Long enough for any run on a loaded machine (one takes about half a second); a run still going then hangs. */
const RUN_TIMEOUT_MS = 30_000;

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The pids of the processes whose real uid is `uid`. */
function processesOf(uid: number): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    try {
      if (Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]) === uid) pids.push(Number(name));
    } catch {
      // Gone since it was listed.
    }
  }
  return pids;
}

/** Blocks the thread for `ms` between two looks at /proc. */
function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * What LIMITED_ID still runs once a run has ended, waited for up to 10 s (the starter's
 * watch ends on its own once mountkit has), then killed by pid, so that the next run
 * starts without them.
 */
function leftRunning(): number[] {
  const deadline = Date.now() + 10_000;
  let left = processesOf(LIMITED_ID);
  while (left.length && Date.now() < deadline) {
    pause(20);
    left = processesOf(LIMITED_ID);
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Ended meanwhile.
    }
  }
  return left;
}

/**
 * Runs `argv` under prlimit(1) setting `limit` (soft and hard), as LIMITED_ID unless `asRoot`
 * (setpriv(1)); one still running after RUN_TIMEOUT_MS is killed (SIGKILL) and reported so.
 */
function runLimited(limit: string, argv: string[], asRoot = false, before: string[] = [], env: NodeJS.ProcessEnv = process.env): Outcome & { left: number[] } {
  const user = asRoot ? [] : ['setpriv', `--reuid=${LIMITED_ID}`, `--regid=${LIMITED_ID}`, '--clear-groups'];
  const [cmd, ...args] = [...user, ...before, 'prlimit', limit, ...argv];
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, left: leftRunning() };
}

/** A bundle of `args` in new pid, mount and user namespaces, containerID 0 mapped to LIMITED_ID alone, owned by LIMITED_ID. */
function withLimitedBundle<T>(args: string[], fn: (dir: string) => T, launcherUserns = false): T {
  // hostID written first unless `launcherUserns`: the launcher's guess takes only maps
  // written containerID, hostID, size (bin/mountkit own_maps), so a rootless run of this
  // bundle goes through the Node entry and its relaunch, whose checks these tests hold to
  // the limits; with `launcherUserns` the launcher makes the user namespace itself.
  const maps = launcherUserns ? [{ containerID: 0, hostID: LIMITED_ID, size: 1 }] : [{ hostID: LIMITED_ID, containerID: 0, size: 1 }];
  const config = busyboxConfig(args, {
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: maps, gidMappings: maps },
  });
  return withBundle(config, (dir) => {
    spawnSync('chown', ['-R', `${LIMITED_ID}:${LIMITED_ID}`, dir]);
    return fn(dir);
  });
}

/**
 * Runs mountkit under each value of `limit` from `from` to `to`, stopping at the first run
 * that does not end; the outcomes by value.
 */
function sweep(limit: 'nproc' | 'nofile', from: number, to: number, argv: string[], asRoot = false): Map<number, Outcome & { left: number[] }> {
  const outcomes = new Map<number, Outcome & { left: number[] }>();
  for (let n = from; n <= to; n++) {
    const r = runLimited(`--${limit}=${n}`, argv, asRoot);
    outcomes.set(n, r);
    if (r.signal === 'SIGKILL') break;
  }
  return outcomes;
}

/** Each outcome as one comparable line: the limit, and the container's output or mountkit's error, status and what was left running. */
function told(outcomes: Map<number, Outcome & { left: number[] }>, ok: string): string[] {
  return [...outcomes].map(([n, r]) => {
    const said = r.status === 0 && r.stdout === ok && r.stderr === '' ? 'ran' : JSON.stringify({ status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr });
    return `${n}: ${said}${r.left.length ? ` left ${r.left.length} running` : ''}`;
  });
}

afterAll(() => {
  removeRootlessInstall();
});

maybe('a small RLIMIT_NPROC (ulimit -u)', () => {
  test('rootless: each limit from 1 up either runs the container or ends at once with one line, fork EAGAIN and the limit, exit 1; nothing left running; never a hang', () => {
    const outcomes = withLimitedBundle(['echo', 'ran'], (dir) => sweep('nproc', 1, 18, [rootlessLauncher(), 'run', '--bundle', dir, '--seccomp-cache', 'off']));
    // Refused while Node itself could not start (the launcher), then while the relaunch would not fit (the Node entry); then the container runs.
    const launcher = new RegExp(`^mountkit: fork: EAGAIN \\(RLIMIT_NPROC (\\d+): 1 processes and threads of uid ${LIMITED_ID}, and run needs 9 more to start Node\\)\\n$`);
    const relaunch = new RegExp(`^mountkit: fork: EAGAIN \\(RLIMIT_NPROC (\\d+): \\d+ processes and threads of uid ${LIMITED_ID}, and starting mountkit again in the container's namespaces takes 9 more\\)\\n$`);
    const lines = told(outcomes, 'ran\n');
    const kinds = [...outcomes].map(([n, r], i) => {
      if (lines[i] === `${n}: ran`) return 'ran';
      const refused = r.status === 1 && r.stdout === '' && !r.left.length;
      if (refused && launcher.exec(r.stderr)?.[1] === String(n)) return 'launcher';
      if (refused && relaunch.exec(r.stderr)?.[1] === String(n)) return 'relaunch';
      return lines[i];
    });
    expect(kinds.join(' ')).toMatch(/^(launcher )+(relaunch )+ran( ran)*$/);
  }, 180_000);

  test('rootless, the user namespace made by the launcher (one Node process): each limit from 1 up either runs the container or ends at once with the launcher\'s one line, exit 1; nothing left running; never a hang', () => {
    const outcomes = withLimitedBundle(['echo', 'ran'], (dir) => sweep('nproc', 1, 14, [rootlessLauncher(), 'run', '--bundle', dir, '--seccomp-cache', 'off']), true);
    const launcher = new RegExp(`^mountkit: fork: EAGAIN \\(RLIMIT_NPROC (\\d+): 1 processes and threads of uid ${LIMITED_ID}, and run needs 9 more to start Node\\)\\n$`);
    const lines = told(outcomes, 'ran\n');
    const kinds = [...outcomes].map(([n, r], i) => {
      if (lines[i] === `${n}: ran`) return 'ran';
      const refused = r.status === 1 && r.stdout === '' && !r.left.length;
      return refused && launcher.exec(r.stderr)?.[1] === String(n) ? 'launcher' : lines[i];
    });
    expect(kinds.join(' ')).toMatch(/^(launcher )+ran( ran)*$/);
  }, 180_000);

  test('root, with a user namespace: the relaunched process and the shell forking it are the only tasks counted there; too many for the limit, one line, exit 1; else the container runs', () => {
    const outcomes = withLimitedBundle(['echo', 'ran'], (dir) => sweep('nproc', 1, 9, [LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], true));
    const refused = (n: number) => ({
      status: 1,
      signal: null,
      stdout: '',
      stderr: `mountkit: fork: EAGAIN (RLIMIT_NPROC ${n}: starting mountkit again in the container's user namespace takes 8 processes and threads there)\n`,
      left: [],
    });
    const ran = { status: 0, signal: null, stdout: 'ran\n', stderr: '', left: [] };
    expect([...outcomes.values()]).toEqual([1, 2, 3, 4, 5, 6, 7].map(refused).concat([ran, ran]));
  }, 120_000);

  test('root is not held to it: the launcher checks nothing for it, and Node starts under any limit', () => {
    const r = runLimited('--nproc=1', [LAUNCHER, '--version'], true);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, expect.stringMatching(/^mountkit \S+\n$/), '']);
  });

  test('root of a user namespace other than the initial one, one that owns / (a rootless container\'s), is held to it as the kernel holds it: one line, exit 1, not a hang', () => {
    const launcher = rootlessLauncher();
    const install = path.resolve(launcher, '..', '..');
    const binds = [install, ...(path.dirname(process.execPath).startsWith('/usr/') ? [] : [path.dirname(process.execPath)])];
    // The directories UNSHARE_ROOTLESS_ROOT's tmpfs covers stay behind, empty, once its namespace is gone: they are made in one removed here.
    const rootDir = mkdtempSync(path.join(tmpdir(), 'mountkit-rootless-root-'));
    chownSync(rootDir, LIMITED_ID, LIMITED_ID);
    const env = { ...process.env, TMPDIR: rootDir };
    try {
      const r = runLimited('--nproc=3', [...UNSHARE_ROOTLESS_ROOT, ...binds, '--', '/bin/sh', launcher, '--version'], false, ['unshare', '--user', '--map-root-user', '--mount'], env);
      expect([r.status, r.stdout, r.stderr, r.left]).toEqual([1, '', expect.stringMatching(/^mountkit: fork: EAGAIN \(RLIMIT_NPROC 3: [12] processes and threads of uid 0, and Node needs 6 more to start\)\n$/), []]);
      const roomy = runLimited('--nproc=30', [...UNSHARE_ROOTLESS_ROOT, ...binds, '--', '/bin/sh', launcher, '--version'], false, ['unshare', '--user', '--map-root-user', '--mount'], env);
      expect([roomy.status, roomy.stdout, roomy.stderr]).toEqual([0, expect.stringMatching(/^mountkit \S+\n$/), '']);
    } finally {
      rmSync(rootDir, { recursive: true, force: true });
    }
  });

  test("root of a user namespace nested in a rootless one, its uid_map reading `0 0 1` (the parent's root, not kuid 0), is held to it as the kernel holds it: one line, exit 1, not a hang; nested in root's, spared", () => {
    const nested = ['unshare', '--user', '--map-root-user', 'unshare', '--user', '--map-root-user'];
    const r = runLimited('--nproc=3', ['/bin/sh', rootlessLauncher(), '--version'], false, nested);
    expect([r.status, r.stdout, r.stderr, r.left]).toEqual([1, '', expect.stringMatching(/^mountkit: fork: EAGAIN \(RLIMIT_NPROC 3: \d+ processes and threads of uid 0, and Node needs 6 more to start\)\n$/), []]);
    const byRoot = runLimited('--nproc=1', ['/bin/sh', LAUNCHER, '--version'], true, nested);
    expect([byRoot.status, byRoot.stdout, byRoot.stderr]).toEqual([0, expect.stringMatching(/^mountkit \S+\n$/), '']);
  });

  test("the Node entry as root of a user namespace nested in a rootless one (`0 0 1`, not kuid 0): its relaunch into a new pid namespace is refused in one line while the limit leaves it too few, never a hang; then the container runs", () => {
    const nested = ['unshare', '--user', '--map-root-user', 'unshare', '--user', '--map-root-user'];
    const config = busyboxConfig(['echo', 'ran'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } });
    const outcomes = withBundle(config, (dir) => {
      spawnSync('chown', ['-R', `${LIMITED_ID}:${LIMITED_ID}`, dir]);
      // From the limit Node itself starts under (its 7 tasks), which the Node entry does not check.
      const found = new Map<number, Outcome & { left: number[] }>();
      for (let n = 7; n <= 20; n++) {
        const r = runLimited(`--nproc=${n}`, [process.execPath, BIN, 'run', '--bundle', dir, '--seccomp-cache', 'off'], false, nested);
        found.set(n, r);
        if (r.signal === 'SIGKILL') break;
      }
      return found;
    });
    const relaunch = /^mountkit: fork: EAGAIN \(RLIMIT_NPROC (\d+): \d+ processes and threads of uid 0, and starting mountkit again in the container's namespaces takes 9 more\)\n$/;
    const lines = told(outcomes, 'ran\n');
    const kinds = [...outcomes].map(([n, r], i) => {
      if (lines[i] === `${n}: ran`) return 'ran';
      if (r.status === 1 && r.stdout === '' && !r.left.length && relaunch.exec(r.stderr)?.[1] === String(n)) return 'relaunch';
      return lines[i];
    });
    expect(kinds.join(' ')).toMatch(/^(relaunch )+ran( ran)*$/);
  }, 180_000);

  test('root of a user namespace whose uid 0 is root outside it (INIT_USER) is spared: Node starts under a limit of 1', () => {
    const r = runLimited('--nproc=1', ['/bin/sh', LAUNCHER, '--version'], true, ['unshare', '--user', '--map-root-user']);
    expect([r.status, r.stdout, r.stderr]).toEqual([0, expect.stringMatching(/^mountkit \S+\n$/), '']);
  });

  (CAP_SYS_ADMIN_BOUND ? test : test.skip)(`a user other than root with CAP_SYS_ADMIN (ambient) is spared, as the kernel spares it: Node starts under a limit of 1${CAP_SYS_ADMIN_BOUND ? '' : ' (skipped: CAP_SYS_ADMIN is not in the bounding set)'}`, () => {
    const r = spawnSync('python3', [WITH_AMBIENT_CAP, '21', String(LIMITED_ID), 'prlimit', '--nproc=1', '/bin/sh', rootlessLauncher(), '--version'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    expect([r.status, r.stdout, r.stderr, leftRunning()]).toEqual([0, expect.stringMatching(/^mountkit \S+\n$/), '', []]);
  });

  test('any command through the launcher: one line when Node could not start its threads (it would wait for them forever)', () => {
    const r = runLimited('--nproc=3', [rootlessLauncher(), '--version']);
    expect({ ...r, signal: undefined }).toEqual({
      status: 1,
      signal: undefined,
      stdout: '',
      stderr: `mountkit: fork: EAGAIN (RLIMIT_NPROC 3: 1 processes and threads of uid ${LIMITED_ID}, and Node needs 6 more to start)\n`,
      left: [],
    });
  });

  test("the port's user namespace helper that cannot be started: fork EAGAIN and the limit, at once", () => {
    // Node's own tasks fill the limit: the helper, unshare(1), is the one more.
    const linux = path.resolve(rootlessLauncher(), '..', '..', 'dist', 'core', 'syscalls', 'linux.js');
    const script = `const { LinuxSyscalls } = require(${JSON.stringify(linux)}); const maps = [{ containerID: 0, hostID: ${LIMITED_ID}, size: 1 }];
try { new LinuxSyscalls().userNamespace(maps, maps); console.log('made'); } catch (err) { console.log(err.message); }`;
    const r = runLimited('--nproc=7', [process.execPath, '-e', script]);
    expect([r.status, r.stdout, r.stderr, r.left]).toEqual([0, `fork "unshare": EAGAIN (RLIMIT_NPROC 7: 7 processes and threads of uid ${LIMITED_ID}, and starting a process takes 1 more)\n`, '', []]);
  });
});

maybe('a small RLIMIT_NOFILE (ulimit -n)', () => {
  /** One line, exit 1: a call named with its path, or the limit named, and EMFILE. */
  const EMFILE_LINE = /^mountkit: (?:[^\n]*\w+ "[^"\n]*": EMFILE[^\n]*|[^\n]*EMFILE \(RLIMIT_NOFILE [^\n]*)\n$/;

  test.each<[string, boolean]>([
    ['rootless', false],
    ['root, with a user namespace', true],
  ])('%s: each limit from 12 up either runs the container or ends with one line naming EMFILE (the launcher, the helper, the relaunch), exit 1; nothing left running; never a crash', (_who, asRoot) => {
    const outcomes = withLimitedBundle(['echo', 'ran'], (dir) => sweep('nofile', 12, 30, [asRoot ? LAUNCHER : rootlessLauncher(), 'run', '--bundle', dir, '--seccomp-cache', 'off'], asRoot));
    const lines = told(outcomes, 'ran\n');
    const failed = lines.filter((line, i) => {
      const r = [...outcomes.values()][i];
      return !(line.endsWith(': ran') || (r.status === 1 && r.stdout === '' && EMFILE_LINE.test(r.stderr) && !r.left.length));
    });
    expect(failed).toEqual([]);
    expect(lines[lines.length - 1]).toBe('30: ran');
    // Each step that takes descriptors fails for some limit: the launcher's check, the user namespace's helper, the relaunch.
    const errors = [...outcomes.values()].map((r) => r.stderr).join('');
    expect(errors).toMatch(/^mountkit: open: EMFILE \(RLIMIT_NOFILE \d+: \d+ descriptors are open, and Node needs 18 more to start\)$/m);
    expect(errors).toMatch(/^mountkit: the container's user namespace: spawn "unshare": EMFILE \(RLIMIT_NOFILE \d+: /m);
    expect(errors).toMatch(/^mountkit: spawn "\/bin\/sh": EMFILE \(RLIMIT_NOFILE \d+: /m);
  }, 300_000);

  test("rootless, the user namespace made by the launcher (one Node process): each limit from 12 up either runs the container or ends with one line naming EMFILE, in this order: the launcher's count, then the Node it started, at config.json, the proc mount and /dev/null's node; exit 1, nothing left running, never a hang", () => {
    let bundle = '';
    const outcomes = withLimitedBundle(
      ['echo', 'ran'],
      (dir) => {
        bundle = dir;
        return sweep('nofile', 12, 30, [rootlessLauncher(), 'run', '--bundle', dir, '--seccomp-cache', 'off']);
      },
      true,
    );
    // No helper and no relaunch (the existing sweep's spawn "unshare" and spawn "/bin/sh" lines): the one Node takes nothing after the launcher's check but what the run itself opens.
    const shapes: [string, (n: number) => string][] = [
      ['launcher', (n) => `mountkit: open: EMFILE (RLIMIT_NOFILE ${n}: 3 descriptors are open, and Node needs 18 more to start)\n`],
      ['config.json', () => `mountkit: open "${bundle}/config.json": EMFILE\n`],
      ['proc', () => `mountkit: mounts: plugin proc mounts[0] "/proc": openat2 "${bundle}/rootfs/proc": EMFILE\n`],
      ['/dev/null', () => `mountkit: dev: plugin device-nodes: openat "${bundle}/rootfs/dev/null": EMFILE\n`],
    ];
    const lines = told(outcomes, 'ran\n');
    const kinds = [...outcomes].map(([n, r], i) => {
      if (lines[i] === `${n}: ran`) return 'ran';
      const shape = r.status === 1 && r.stdout === '' && !r.left.length ? shapes.find(([, line]) => r.stderr === line(n)) : undefined;
      return shape ? shape[0] : lines[i];
    });
    expect(kinds.join(' ')).toMatch(/^(launcher )+(config\.json )+(proc )+(\/dev\/null )+ran( ran)*$/);
  }, 300_000);
});

/**
 * Runs `fn` with a directory, searchable by every user, whose `node` says the soft
 * RLIMIT_NOFILE it was started with: a PATH to run the launcher with when what it does
 * before it starts Node is what counts. Removed afterwards.
 */
function withFakeNode<T>(fn: (bin: string) => T): T {
  const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-fake-node-'));
  try {
    chmodSync(dir, 0o755);
    const bin = path.join(dir, 'bin');
    mkdirSync(bin, { mode: 0o755 });
    writeFileSync(path.join(bin, 'node'), '#!/bin/sh\necho "node, soft RLIMIT_NOFILE $(ulimit -S -n)"\n', { mode: 0o755 });
    return fn(bin);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The shells bin/mountkit is run under: its own #!/bin/sh (dash here), bash (Fedora's sh) and busybox ash (Alpine's). */
const LAUNCHER_SHELLS: [string, string[]][] = [
  ['/bin/sh', ['/bin/sh']],
  ['bash', ['bash']],
  ...(BUSYBOX ? [['busybox sh', [BUSYBOX, 'sh']] as [string, string[]]] : []),
];

/** The bundle of examples/default. */
const EXAMPLE = path.join(__dirname, '..', '..', 'examples', 'default');

/**
 * `shell LAUNCHER ...args` under RLIMIT_NOFILE `n` (soft and hard, or "SOFT:HARD"), with standard input,
 * output and error open and `extra` more descriptors on /dev/null from 3 up.
 */
function launcherUnder(n: number | string, shell: string[], args: string[], extra: number, stdout: 'pipe' | 'file' = 'pipe', env: NodeJS.ProcessEnv = process.env): Outcome {
  const nulls = Array.from({ length: extra }, () => openSync('/dev/null', 'r'));
  const file = stdout === 'file' ? path.join(mkdtempSync(path.join(tmpdir(), 'mountkit-limits-')), 'stdout') : undefined;
  const out = file === undefined ? 'pipe' : openSync(file, 'w+');
  try {
    const r = spawnSync('prlimit', [`--nofile=${n}`, ...shell, LAUNCHER, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', out, 'pipe', ...nulls], env });
    return { status: r.status, signal: r.signal, stdout: file === undefined ? r.stdout : readFileSync(file, 'utf8'), stderr: r.stderr };
  } finally {
    nulls.forEach((fd) => closeSync(fd));
    if (typeof out === 'number') closeSync(out);
    if (file !== undefined) rmSync(path.dirname(file), { recursive: true, force: true });
  }
}

describe('bin/mountkit under a small RLIMIT_NOFILE, each shell', () => {
  const version = /^mountkit \S+\n$/;
  const refused = /^mountkit: open: EMFILE \(RLIMIT_NOFILE \d+: \d+ descriptors are open, and Node needs \d+ more to start\)\n$/;

  // From the smallest limit each shell runs this file at (it keeps it on a descriptor from 10 up: 11, or 12 with 10 taken); 7 more open: every one from 3 to 9 the caller's.
  test.each(LAUNCHER_SHELLS.flatMap(([name, shell]) => [0, 7, 8].map((extra): [string, number, string[]] => [name, extra, shell])))(
    'under %s, with %i more descriptors open: each limit either runs Node or ends with one line naming RLIMIT_NOFILE, exit 1 (a shell that cannot keep a copy of a descriptor it redirects ended without a word)',
    (_name, extra, shell) => {
      const from = extra > 7 ? 12 : 11;
      const lines: string[] = [];
      for (let n = from; n <= 30; n++) {
        const r = launcherUnder(n, shell, ['--version'], extra);
        const ok = (r.status === 0 && version.test(r.stdout) && r.stderr === '') || (r.status === 1 && r.stdout === '' && refused.test(r.stderr));
        if (!ok) lines.push(`${n}: ${JSON.stringify(r)}`);
      }
      expect(lines).toEqual([]);
      expect(launcherUnder(30, shell, ['--version'], extra).stdout).toMatch(version);
    },
    60_000,
  );

  // dash keeps its descriptor of this file across exec when it opened it at 10 (0 to 9 the caller's): Node gets it. bash and busybox sh make theirs
  // close-on-exec, and busybox sh's was counted all the same.
  const keepsItsCopy = (shell: string[]) => {
    const file = shell[0].includes('/') ? shell[0] : spawnSync('sh', ['-c', 'command -v -- "$1"', 'sh', shell[0]], { encoding: 'utf8' }).stdout.trim();
    return path.basename(realpathSync(file)) === 'dash';
  };
  test.each(LAUNCHER_SHELLS)(
    'under %s, with every descriptor from 3 to 9 the caller\'s: the line counts those Node would get (the shell\'s own descriptor of this file only where exec keeps it), and Node runs from that count and the 16 it takes',
    (_name, shell) => {
      const open = keepsItsCopy(shell) ? 11 : 10;
      const line = (n: number) => `mountkit: open: EMFILE (RLIMIT_NOFILE ${n}: ${open} descriptors are open, and Node needs 16 more to start)\n`;
      // 11: the first descriptor not open is 11, the limit: counted before the soft limit is raised by one; then from the listing.
      // BASH_VERSION from the caller, a variable like any other under dash, changes nothing.
      const said = [launcherUnder(11, shell, ['--version'], 7), launcherUnder(open + 15, shell, ['--version'], 7), launcherUnder(open + 15, shell, ['--version'], 7, 'pipe', { ...process.env, BASH_VERSION: '1' })];
      expect(said.map((r) => [r.status, r.stdout, r.stderr])).toEqual([[1, '', line(11)], [1, '', line(open + 15)], [1, '', line(open + 15)]]);
      const at = launcherUnder(open + 16, shell, ['--version'], 7);
      expect([at.status, at.stdout, at.stderr]).toEqual([0, expect.stringMatching(version), '']);
    },
  );

  // What Node 20 takes as it starts (measured), besides standard input, output and error: 15 descriptors, and for --version 1 more when its output is a pipe or socket (Node makes it a stream).
  test.each(LAUNCHER_SHELLS.flatMap(([name, shell]) =>
    ([[['--version'], 'pipe', 19, version], [['--version'], 'file', 18, version], [['help'], 'pipe', 18, /^Usage: mountkit /], [['plan', '--bundle', EXAMPLE], 'pipe', 18, /prepare-root/]] as const).map(
      ([args, stdout, first, said]): [string, string, string, number, RegExp, string[], readonly string[]] => [args[0], name, stdout === 'pipe' ? 'socket' : 'file', first, said, shell, args],
    ),
  ))('`mountkit %s` under %s, its output a %s: asked only what Node takes, it runs from a limit of %i up, and is refused below', (_what, _name, output, first, said, shell, args) => {
    const stdout = output === 'file' ? 'file' : 'pipe';
    const below = launcherUnder(first - 1, shell, [...args], 0, stdout);
    expect([below.status, below.stdout, below.stderr]).toEqual([1, '', expect.stringMatching(refused)]);
    const at = launcherUnder(first, shell, [...args], 0, stdout);
    expect([at.status, at.stdout, at.stderr]).toEqual([0, expect.stringMatching(said), '']);
  });

  (available ? test.each(LAUNCHER_SHELLS) : test.skip.each(LAUNCHER_SHELLS))(
    'under %s, a soft limit of 12 below a hard one of 4096: the launcher raises it, as Node does, before its own redirections of `run` (dash closed descriptors, busybox sh ended), and the container runs',
    (_name, shell) => {
      const r = withBundle(busyboxConfig(['echo', 'ran']), (dir) =>
        spawnSync('prlimit', ['--nofile=12:4096', ...shell, LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] }),
      );
      expect([r.status, r.stdout, r.stderr]).toEqual([0, 'ran\n', '']);
    },
  );

  // Node under unshare also holds 3, 4 and 9 of the launcher's (its status pipe, the pipe whose end tells the launcher the job's, /dev/null): with 17 counted, it died of
  // an uncaught EMFILE at the limit that then passed.
  (available ? test.each(LAUNCHER_SHELLS) : test.skip.each(LAUNCHER_SHELLS))(
    'under %s, `run` of a new pid namespace (Node started under unshare): refused in one line counting 18 for Node below a limit of 21, then each limit runs the container or ends with one line naming EMFILE',
    (_name, shell) => {
      withBundle(busyboxConfig(['echo', 'ran']), (dir) => {
        const args = ['run', '--bundle', dir, '--seccomp-cache', 'off'];
        const below = launcherUnder(20, shell, args, 0);
        expect([below.status, below.stdout, below.stderr]).toEqual([1, '', 'mountkit: open: EMFILE (RLIMIT_NOFILE 20: 3 descriptors are open, and Node needs 18 more to start)\n']);
        const lines: string[] = [];
        for (let n = 21; n <= 30; n++) {
          const r = launcherUnder(n, shell, args, 0);
          const ok = (r.status === 0 && r.stdout === 'ran\n' && r.stderr === '') || (r.status === 1 && r.stdout === '' && /^mountkit: [^\n]*EMFILE[^\n]*\n$/.test(r.stderr));
          if (!ok) lines.push(`${n}: ${JSON.stringify(r)}`);
        }
        expect(lines).toEqual([]);
        const at = launcherUnder(30, shell, args, 0);
        expect([at.status, at.stdout, at.stderr]).toEqual([0, 'ran\n', '']);
      });
    },
    60_000,
  );

  // The soft limit the first descriptor above the one this file is read on (10, or 11 with 3 to 10 the caller's): no room to read the limits.
  test.each(LAUNCHER_SHELLS.flatMap(([name, shell]) => [0, 7, 8].map((extra): [string, number, string[]] => [name, extra, shell])))(
    'under %s, with %i more descriptors open, a soft limit that leaves no room to read the limits, below the hard one: raised in place, as Node would raise it, and Node runs; with a hard one too small, the line names the hard one; with none higher, the soft one (dash keeping this file across exec when 0 to 9 are the caller\'s made a shell started anew end in "Error 24")',
    (_name, extra, shell) => {
      const soft = extra > 7 ? 12 : 11;
      const roomy = launcherUnder(`${soft}:4096`, shell, ['--version'], extra);
      expect([roomy.status, roomy.stdout, roomy.stderr]).toEqual([0, expect.stringMatching(version), '']);
      const small = launcherUnder(`${soft}:14`, shell, ['--version'], extra);
      expect([small.status, small.stdout, small.stderr]).toEqual([1, '', expect.stringMatching(/^mountkit: open: EMFILE \(RLIMIT_NOFILE 14: \d+ descriptors are open, and Node needs 16 more to start\)\n$/)]);
      const at = launcherUnder(soft, shell, ['--version'], extra);
      expect([at.status, at.stdout, at.stderr]).toEqual([1, '', expect.stringMatching(new RegExp(`^mountkit: open: EMFILE \\(RLIMIT_NOFILE ${soft}: \\d+ descriptors are open, and Node needs 16 more to start\\)\\n$`))]);
    },
  );

  // bash does not export them, but a caller may: under dash they are variables like any other, which told dash for busybox sh (exec -a: not found, exit 127) or for bash.
  test.each(LAUNCHER_SHELLS.flatMap(([name, shell]) => ['RANDOM', 'BASH_VERSION'].map((variable): [string, string, string[]] => [name, variable, shell])))(
    'under %s, with %s in the environment, a soft limit that leaves no room to read the limits is raised all the same',
    (_name, variable, shell) => {
      const env = { ...process.env, [variable]: '1' };
      const roomy = launcherUnder('11:4096', shell, ['--version'], 0, 'pipe', env);
      expect([roomy.status, roomy.stdout, roomy.stderr]).toEqual([0, expect.stringMatching(version), '']);
      const small = launcherUnder('11:14', shell, ['--version'], 0, 'pipe', env);
      expect([small.status, small.stdout, small.stderr]).toEqual([1, '', expect.stringMatching(/^mountkit: open: EMFILE \(RLIMIT_NOFILE 14: \d+ descriptors are open, and Node needs 16 more to start\)\n$/)]);
    },
  );

  // ENFILE (the system's file table full) cannot be had here without filling the table of a shared machine: a listing refused with EACCES stands for it, by a
  // directory LIMITED_ID may search but not list (mode 0311: stat(2) finds 0, 1 and 2 in it) bound over the launcher's /proc/PID/fd, in a mount namespace of
  // its own. Raising the soft limit to the first descriptor not found lowered it: dash and busybox sh then failed a redirection of their own, bash started
  // itself anew for ever.
  (available ? test.each(LAUNCHER_SHELLS) : test.skip.each(LAUNCHER_SHELLS))(
    'under %s, a listing of /proc/self/fd refused with descriptors free below the soft limit: not for want of one, so nothing more is read, the soft limit is left as it was, and Node is started',
    (_name, shell) => {
      withFakeNode((bin) => {
        const fds = path.join(bin, '..', 'fd');
        mkdirSync(fds);
        for (const fd of ['0', '1', '2']) writeFileSync(path.join(fds, fd), '');
        chmodSync(fds, 0o311);
        const script = 'mount --bind "$0" "/proc/$$/fd" || exit 125; exec "$@"';
        const as = ['setpriv', `--reuid=${LIMITED_ID}`, `--regid=${LIMITED_ID}`, '--clear-groups', 'env', `PATH=${bin}:${process.env.PATH}`];
        const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, fds, 'prlimit', '--nofile=1000:4096', ...as, ...shell, rootlessLauncher(), '--version'], {
          encoding: 'utf8',
          timeout: RUN_TIMEOUT_MS,
          killSignal: 'SIGKILL',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        expect([r.status, r.signal, r.stdout, r.stderr]).toEqual([0, null, 'node, soft RLIMIT_NOFILE 1000\n', '']);
      });
    },
  );

  test.each(LAUNCHER_SHELLS)('`mountkit --version` under %s at a terminal: 2 more than for a file (libuv opens the terminal anew), from a limit of 20 up', (_name, shell) => {
    const at = (n: number) => ptySession(24, 80, [], ['prlimit', `--nofile=${n}`, ...shell, LAUNCHER, '--version']);
    expect(at(19)).toMatchObject({ status: 1, output: expect.stringMatching(/^mountkit: open: EMFILE \(RLIMIT_NOFILE 19: 3 descriptors are open, and Node needs 17 more to start\)\r\n$/) });
    expect(at(20)).toMatchObject({ status: 0, output: expect.stringMatching(/^mountkit \S+\r\n$/) });
  });
});

/**
 * Where this file may make a pids cgroup of its own, under its own cgroup: cgroup v2 at
 * /sys/fs/cgroup when it is cgroup2's mount, its cgroup's children have the pids
 * controller (cgroup.subtree_control) and it can write there; else cgroup v1's pids
 * hierarchy at /sys/fs/cgroup/pids (a hybrid host's, whose cgroup v2 has no pids
 * controller) when it can write there. Otherwise why not.
 */
function pidsParent(): { dir: string } | { why: string } {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((line) => line.split(' '));
  const fstype = (at: string) => mounts.find((f) => f[4] === at)?.[(mounts.find((g) => g[4] === at) ?? []).indexOf('-') + 1];
  const own = readFileSync('/proc/self/cgroup', 'utf8');
  const writable = (dir: string) => spawnSync('test', ['-w', dir]).status === 0;
  const v2 = /^0::(\/.*)$/m.exec(own)?.[1];
  if (fstype('/sys/fs/cgroup') === 'cgroup2' && v2 !== undefined) {
    const dir = path.join('/sys/fs/cgroup', v2);
    let controls = '';
    try {
      controls = readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8');
    } catch {
      // Not there: no controller for its children.
    }
    if (!/\bpids\b/.test(controls)) return { why: `the pids controller is not enabled for the children of ${dir} (cgroup.subtree_control)` };
    return writable(dir) ? { dir } : { why: `${dir} is not writable` };
  }
  const v1 = /^\d+:pids:(\/.*)$/m.exec(own)?.[1];
  if (fstype('/sys/fs/cgroup/pids') === 'cgroup' && v1 !== undefined) {
    const dir = path.join('/sys/fs/cgroup/pids', v1);
    return writable(dir) ? { dir } : { why: `${dir} is not writable` };
  }
  return { why: '/sys/fs/cgroup is no cgroup2 mount with the pids controller, and /sys/fs/cgroup/pids no cgroup v1 pids hierarchy' };
}

const PIDS_PARENT = available ? pidsParent() : { why: 'needs root and busybox-static' };

/**
 * Waits up to 10 s for pids.current of cgroup `dir` to read 0 once the tasks a run left
 * there are gone: the kernel can go on charging a task for a second or two after it has
 * been reaped, with no task left in the cgroup (seen on Linux 6.18 under load: 1 for 1.2
 * to 1.9 s after a run's Node had ended), and a run started meanwhile counts that charge
 * as its own check's and its forks' pids.max sees it.
 */
function pidsSettled(dir: string): void {
  const deadline = Date.now() + 10_000;
  while (readFileSync(path.join(dir, 'pids.current'), 'utf8').trim() !== '0' && Date.now() < deadline) pause(20);
}

/** The tasks in cgroup `dir` (cgroup.procs), waited for to end for up to 10 s, then killed by pid: what a run left. */
function leftInCgroup(dir: string): number[] {
  const procs = () => readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  const deadline = Date.now() + 10_000;
  let left = procs();
  while (left.length && Date.now() < deadline) {
    pause(20);
    left = procs();
  }
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Ended meanwhile.
    }
  }
  return left;
}

(available && 'dir' in PIDS_PARENT ? describe : describe.skip)(`a pids cgroup's pids.max (${'dir' in PIDS_PARENT ? PIDS_PARENT.dir : `skipped: ${PIDS_PARENT.why}`})`, () => {
  let cgroup: string;

  beforeAll(() => {
    cgroup = path.join((PIDS_PARENT as { dir: string }).dir, `mountkit-test-pids-${process.pid}`);
    mkdirSync(cgroup);
  });

  afterAll(() => {
    if (!cgroup) return;
    leftInCgroup(cgroup);
    // A cgroup goes once its last task has been reaped.
    for (let i = 0; i < 500; i++) {
      try {
        rmdirSync(cgroup);
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
        pause(20);
      }
    }
  });

  /** `mountkit run` of `dir` through the launcher, as root, started in the cgroup under each pids.max from `from` to `to`, with `env` added to the environment; stops at the first that does not end. */
  function sweepPids(dir: string, to: number, from = 1, env: NodeJS.ProcessEnv = {}): Map<number, Outcome & { left: number[] }> {
    const outcomes = new Map<number, Outcome & { left: number[] }>();
    for (let max = from; max <= to; max++) {
      pidsSettled(cgroup);
      writeFileSync(path.join(cgroup, 'pids.max'), String(max));
      const r = spawnSync('sh', ['-c', 'echo $$ >"$0/cgroup.procs" && exec "$@"', cgroup, '/bin/sh', LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], {
        encoding: 'utf8',
        timeout: RUN_TIMEOUT_MS,
        killSignal: 'SIGKILL',
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, ...env },
      });
      outcomes.set(max, { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, left: leftInCgroup(cgroup) });
      if (r.signal === 'SIGKILL') break;
    }
    return outcomes;
  }

  /** Each outcome: "launcher", "relaunch" or "console" (with libuv's `pool` threads, and `node` tasks of each Node) for the one line naming the cgroup's pids.max (exit 1, nothing left), "ran", or all of it. */
  function kinds(outcomes: Map<number, Outcome & { left: number[] }>, pool = 4, node = 7): string {
    const file = path.join(cgroup, 'pids.max').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return [...outcomes]
      .map(([max, r]) => {
        if (r.status === 0 && r.stdout === 'ran\n' && r.stderr === '' && !r.left.length) return 'ran';
        const refused = r.status === 1 && r.stdout === '' && !r.left.length;
        if (refused && new RegExp(`^mountkit: fork: EAGAIN \\(${file} ${max}: pids\\.current 1, and run needs ${node + 2} more to start Node\\)\\n$`).test(r.stderr)) return 'launcher';
        if (refused && new RegExp(`^mountkit: fork: EAGAIN \\(${file} ${max}: pids\\.current \\d+, and starting mountkit again in the container's namespaces takes ${node + 2} more\\)\\n$`).test(r.stderr)) return 'relaunch';
        if (refused && new RegExp(`^mountkit: fork: EAGAIN \\(${file} ${max}: pids\\.current \\d+, and starting mountkit again in the container's namespaces, and copying its console here, takes ${node + 2 + pool} more\\)\\n$`).test(r.stderr)) return 'console';
        return `${max}: ${JSON.stringify(r)}`;
      })
      .join(' ');
  }

  // What Node 20 takes as it starts, for each command but run (measured): 7 tasks, the one the launcher's shell is among them.
  test.each(LAUNCHER_SHELLS.flatMap(([name, shell]) =>
    ([[['help'], /^Usage: mountkit /], [['--version'], /^mountkit \S+\n$/], [['plan', '--bundle', EXAMPLE], /prepare-root/], [['frob'], /^$/]] as const).map(([args, said]): [string, string, string[], readonly string[], RegExp] => [args[0], name, shell, args, said])),
  )('`mountkit %s` through the launcher under %s: refused in one line while the cgroup leaves fewer than the 6 more tasks Node takes, then Node runs; never a hang, nothing left', (_what, _name, shell, args, said) => {
    const file = path.join(cgroup, 'pids.max').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const refused = new RegExp(`^mountkit: fork: EAGAIN \\(${file} (\\d+): pids\\.current 1, and Node needs 6 more to start\\)\\n$`);
    const kinds: string[] = [];
    for (let max = 1; max <= 8; max++) {
      pidsSettled(cgroup);
      writeFileSync(path.join(cgroup, 'pids.max'), String(max));
      const r = spawnSync('sh', ['-c', 'echo $$ >"$0/cgroup.procs" && exec "$@"', cgroup, ...shell, LAUNCHER, ...args], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
      const left = leftInCgroup(cgroup);
      const ran = (r.status === 0 && r.stderr === '') || (args[0] === 'frob' && r.status === 2 && /^mountkit: unknown command "frob"/.test(r.stderr));
      if (ran && said.test(r.stdout) && !left.length) kinds.push('ran');
      else if (r.status === 1 && r.stdout === '' && !left.length && refused.exec(r.stderr)?.[1] === String(max)) kinds.push('refused');
      else kinds.push(`${max}: ${JSON.stringify({ status: r.status, signal: r.signal, stdout: r.stdout.slice(0, 200), stderr: r.stderr, left })}`);
      if (r.signal === 'SIGKILL') break;
    }
    expect(kinds.join(' ')).toBe('refused refused refused refused refused refused ran ran');
  }, 120_000);

  test('a new pid namespace, through unshare from the launcher: refused in one line while the cgroup leaves fewer than the 9 tasks it takes, then the container runs; never a hang, nothing left', () => {
    const outcomes = withBundle(busyboxConfig(['echo', 'ran']), (dir) => sweepPids(dir, 12));
    expect(kinds(outcomes)).toMatch(/^(launcher ){9}ran( ran)*$/);
  }, 120_000);

  test("a foreground console the launcher leaves to the Node entry (too little room for its relay): refused in one line while the cgroup leaves too few tasks for the relaunch and the first process's pool, which copies the console (a thread it cannot start aborted it); then the container runs, through the relay from 21 on", () => {
    const c = busyboxConfig(['echo', 'ran']);
    c.process.terminal = true;
    c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] });
    const outcomes = withBundle(c, (dir) => sweepPids(dir, 22));
    expect(kinds(outcomes)).toMatch(/^(launcher ){9}(console ){10}ran ran ran$/);
  }, 180_000);

  test("the same with UV_THREADPOOL_SIZE=8, which the first process's pool then starts: refused in one line for 4 tasks more than with libuv's default (a pids.max of 20 to 23), where it would abort once it copies; then the container runs", () => {
    const c = busyboxConfig(['echo', 'ran']);
    c.process.terminal = true;
    c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] });
    const outcomes = withBundle(c, (dir) => sweepPids(dir, 25, 19, { UV_THREADPOOL_SIZE: '8' }));
    expect(kinds(outcomes, 8)).toMatch(/^(console ){5}ran ran$/);
  }, 120_000);

  test("a hook the port cannot start for the cgroup's pids.max: fork EAGAIN naming it, not execve, waiting (runHook) or not (runCommandAsync)", () => {
    // The script fills the cgroup's pids.max with its own Node's tasks: the hook's fork is the one more.
    const dist = path.join(__dirname, '..', '..', 'dist', 'core');
    const script = `const fs = require('fs'); const { LinuxSyscalls } = require(${JSON.stringify(path.join(dist, 'syscalls', 'linux.js'))});
const { runHook } = require(${JSON.stringify(path.join(dist, 'hooks.js'))});
const cgroup = process.argv[1]; fs.writeFileSync(cgroup + '/pids.max', fs.readFileSync(cgroup + '/pids.current', 'utf8').trim());
const sys = new LinuxSyscalls(); const cmd = { path: '/bin/true', args: [], stdin: '{}' };
try { runHook(sys, 'prestart[0]', { path: '/bin/true', args: ['true'] }, cmd); console.log('ran'); } catch (err) { console.log(err.message); }
sys.runCommandAsync(cmd).then(() => console.log('ran'), (err) => console.log(err.message));`;
    pidsSettled(cgroup);
    const r = spawnSync('sh', ['-c', 'echo $$ >"$0/cgroup.procs" && exec "$@"', cgroup, process.execPath, '-e', script, cgroup], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    writeFileSync(path.join(cgroup, 'pids.max'), 'max');
    const file = path.join(cgroup, 'pids.max').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const limit = `${file} (\\d+): pids\\.current \\1, and starting a process takes 1 more`;
    const lines = r.stdout.split('\n');
    expect([r.status, r.stderr, lines.length, leftInCgroup(cgroup)]).toEqual([0, '', 3, []]);
    expect(lines[0]).toMatch(new RegExp(`^hook prestart\\[0\\] "/bin/true": fork "/bin/true": EAGAIN \\(${limit}\\)$`));
    expect(lines[1]).toMatch(new RegExp(`^fork "/bin/true": EAGAIN \\(${limit}\\)$`));
  });

  test('with a user namespace, relaunched by the Node entry: the launcher, then the relaunch, refused in one line; then the container runs', () => {
    const outcomes = withLimitedBundle(['echo', 'ran'], (dir) => sweepPids(dir, 20));
    expect(kinds(outcomes)).toMatch(/^(launcher ){9}(relaunch )+ran( ran)*$/);
  }, 180_000);

  test("the same with NODE_OPTIONS giving V8's pool 8 workers: each Node starts 11 tasks, which the launcher and the relaunch count (13 more, where 9 would let a relaunch start that cannot start its workers)", () => {
    const outcomes = withLimitedBundle(['echo', 'ran'], (dir) => sweepPids(dir, 26, 1, { NODE_OPTIONS: '--v8-pool-size=8' }));
    expect(kinds(outcomes, 4, 11)).toMatch(/^(launcher ){13}(relaunch ){10}ran ran ran$/);
  }, 240_000);
});

/**
 * `argv` in a mount namespace of its own (private propagation) where its process, which
 * keeps its pid through exec, reads `cgroup` as /proc/self/cgroup, and /sys/fs/cgroup
 * holds `files` (paths under it, and their text) alone: a cgroup layout faked with two
 * bind mounts; with `mountinfo`, a third makes it the process's /proc/self/mountinfo, and
 * with `status` its /proc/self/status. PATH starts with a directory whose `node` stands
 * in for Node (withFakeNode).
 */
function inCgroupLayout(cgroup: string, files: Record<string, string>, argv: (bin: string) => string[], mountinfo?: string, status?: string): Outcome {
  return withFakeNode((bin) => {
    const root = path.join(bin, '..');
    writeFileSync(path.join(root, 'cgroup'), cgroup);
    mkdirSync(path.join(root, 'sys'));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(root, 'sys', file)), { recursive: true });
      writeFileSync(path.join(root, 'sys', file), text);
    }
    if (mountinfo !== undefined) writeFileSync(path.join(root, 'mountinfo'), mountinfo);
    if (status !== undefined) writeFileSync(path.join(root, 'status'), status);
    const fakeMountinfo = mountinfo === undefined ? '' : ' && mount --bind "$0/mountinfo" "/proc/$$/mountinfo"';
    const fakeStatus = status === undefined ? '' : ' && mount --bind "$0/status" "/proc/$$/status"';
    const script = `mount --bind "$0/cgroup" "/proc/$$/cgroup" && mount --bind "$0/sys" /sys/fs/cgroup${fakeMountinfo}${fakeStatus} || exit 125; exec "$@"`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, root, 'env', `PATH=${bin}:${process.env.PATH}`, ...argv(bin)], {
      encoding: 'utf8',
      timeout: RUN_TIMEOUT_MS,
      killSignal: 'SIGKILL',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
  });
}

/** A hybrid host's cgroups (systemd's layout): v1 hierarchies, the pids controller none of theirs, and cgroup v2 at /sys/fs/cgroup/unified, where /a holds 1 task of at most `max`. */
const hybridV2 = (max: number): Record<string, string> => ({
  'systemd/a/b/cgroup.procs': '',
  'unified/cgroup.controllers': 'pids\n',
  'unified/a/b/pids.max': 'max\n',
  'unified/a/b/pids.current': '1\n',
  'unified/a/pids.max': `${max}\n`,
  'unified/a/pids.current': '1\n',
});

maybe("the pids check on each cgroup layout (faked in a mount namespace of its own)", () => {
  test.each<[string, string, Record<string, string>, string | undefined]>([
    ['cgroup v2 at /sys/fs/cgroup', '0::/a/b\n', { 'cgroup.controllers': 'pids\n', 'a/b/pids.max': '3\n', 'a/b/pids.current': '1\n' }, '/sys/fs/cgroup/a/b/pids.max 3: pids.current 1'],
    ["a hybrid host whose pids controller is cgroup v2's, at /sys/fs/cgroup/unified: a cgroup above", '1:name=systemd:/a/b\n0::/a/b\n', hybridV2(4), '/sys/fs/cgroup/unified/a/pids.max 4: pids.current 1'],
    [
      "a hybrid host whose pids controller is a cgroup v1 hierarchy's: cgroup v2 not read",
      '3:pids:/a\n1:name=systemd:/a\n0::/a\n',
      { 'pids/a/pids.max': '2\n', 'pids/a/pids.current': '1\n', 'unified/cgroup.controllers': '', 'unified/a/pids.max': '1\n', 'unified/a/pids.current': '1\n' },
      '/sys/fs/cgroup/pids/a/pids.max 2: pids.current 1',
    ],
    ['a hybrid host with room in cgroup v2', '1:name=systemd:/a/b\n0::/a/b\n', hybridV2(7), undefined],
    ['cgroup v1 alone, no pids hierarchy: cgroup v2 mounted nowhere', '1:name=systemd:/a\n0::/a\n', { 'systemd/a/cgroup.procs': '', 'a/pids.max': '1\n', 'a/pids.current': '1\n' }, undefined],
  ])('bin/mountkit --version, %s: under each shell, refused in one line naming the pids.max met, or Node started', (_layout, cgroup, files, refused) => {
    const said = LAUNCHER_SHELLS.map(([, shell]) => {
      const r = inCgroupLayout(cgroup, files, () => [...shell, LAUNCHER, '--version']);
      return [r.status, r.stdout, r.stderr];
    });
    const expected = refused === undefined ? [0, expect.stringMatching(/^node, /), ''] : [1, '', `mountkit: fork: EAGAIN (${refused}, and Node needs 6 more to start)\n`];
    expect(said).toEqual(LAUNCHER_SHELLS.map(() => expected));
  });

  // NODE_OPTIONS' --v8-pool-size, as Node reads it (src/core/node-tasks.ts): Node starts 3
  // tasks and V8's workers. The fourth column: the CPUs this process may run on, given as
  // its /proc/self/status's Cpus_allowed_list (a pool below 1 has one fewer workers).
  const CPUS = availableParallelism();
  test.each<[string, number, number | undefined, string | undefined]>([
    ['--max-old-space-size=64', 6, 6, undefined],
    ['--v8-pool-size=8', 10, 10, undefined],
    ['--v8-pool-size=8', 11, undefined, undefined],
    ['--v8_pool_size 8', 10, 10, undefined],
    ['"--v8-pool-size=9"', 11, 11, undefined],
    ['--v8-pool-size=2 --v8-pool-size=1', 3, 3, undefined],
    ['--v8-pool-size=2 --v8-pool-size=1', 4, undefined, undefined],
    ['--v8-pool-size=-4294967295', 3, 3, undefined],
    ['--v8-pool-size=99999999999', 100_000, 1_215_752_193, undefined],
    ['--v8-pool-size=0', 2 + Math.max(CPUS - 1, 1), 2 + Math.max(CPUS - 1, 1), undefined],
    ['--v8-pool-size=abc', 8, 8, '0-3,8,10-11'],
    ['--v8-pool-size=abc', 9, undefined, '0-3,8,10-11'],
    ['--v8-pool-size=-1', 3, 3, '0'],
  ])('bin/mountkit --version with NODE_OPTIONS %p, pids.max %i (pids.current 1): under each shell, refused in one line for the tasks Node starts with (%p more) or Node started (CPUs %p)', (nodeOptions, max, refused, cpus) => {
    const files = { 'cgroup.controllers': 'pids\n', 'a/b/pids.max': `${max}\n`, 'a/b/pids.current': '1\n' };
    // A status as the launcher's shell has it, but for the CPUs given.
    const own = spawnSync('cat', ['/proc/self/status'], { encoding: 'utf8' }).stdout;
    const status = cpus === undefined ? undefined : own.replace(/^Cpus_allowed_list:.*$/m, `Cpus_allowed_list:\t${cpus}`);
    const said = LAUNCHER_SHELLS.map(([, shell]) => {
      const r = inCgroupLayout('0::/a/b\n', files, () => ['env', `NODE_OPTIONS=${nodeOptions}`, ...shell, LAUNCHER, '--version'], undefined, status);
      return [r.status, r.stdout, r.stderr];
    });
    const expected = refused === undefined ? [0, expect.stringMatching(/^node, /), ''] : [1, '', `mountkit: fork: EAGAIN (/sys/fs/cgroup/a/b/pids.max ${max}: pids.current 1, and Node needs ${refused} more to start)\n`];
    expect(said).toEqual(LAUNCHER_SHELLS.map(() => expected));
  });

  const CONSOLE = { process: { terminal: true }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };
  const HOOKS = { hooks: { poststop: [{ path: '/bin/true' }] }, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };
  // The third column: UV_THREADPOOL_SIZE, the threads of libuv's pool the relay starts (4 unset, 1 for "abc" or "0", 1024 for "-1", as libuv reads it).
  test.each<[string, number, string | undefined, string[], object, string | undefined]>([
    ['a foreground console', 20, undefined, ['node'], CONSOLE, undefined],
    ['a foreground console', 21, undefined, ['node', 'relay'], CONSOLE, undefined],
    ['a foreground console', 40, undefined, ['node', 'relay'], CONSOLE, undefined],
    ['a foreground console', 17, '1', ['node'], CONSOLE, undefined],
    ['a foreground console', 18, 'abc', ['node', 'relay'], CONSOLE, undefined],
    ['a foreground console', 24, '8x', ['node'], CONSOLE, undefined],
    ['a foreground console', 25, '8', ['node', 'relay'], CONSOLE, undefined],
    ['a foreground console', 1040, '-1', ['node'], CONSOLE, undefined],
    ['a foreground console', 1041, '1024', ['node', 'relay'], CONSOLE, undefined],
    ['runtime hooks', 21, undefined, ['node'], HOOKS, undefined],
    ['runtime hooks', 22, undefined, ['hooks relay', 'node'], HOOKS, undefined],
    ['runtime hooks', 18, '0', ['node'], HOOKS, undefined],
    ['runtime hooks', 19, '0', ['hooks relay', 'node'], HOOKS, undefined],
    ['runtime hooks', 19, '+2', ['node'], HOOKS, undefined],
    ['runtime hooks', 20, '+2', ['hooks relay', 'node'], HOOKS, undefined],
    // Node with 8 V8 workers (NODE_OPTIONS): 11 tasks, the run's 13.
    ['a foreground console', 28, undefined, ['node'], CONSOLE, '--v8-pool-size=8'],
    ['a foreground console', 29, undefined, ['node', 'relay'], CONSOLE, '--v8-pool-size=8'],
    ['runtime hooks', 29, undefined, ['node'], HOOKS, '--v8-pool-size=8'],
    ['runtime hooks', 30, undefined, ['hooks relay', 'node'], HOOKS, '--v8-pool-size=8'],
  ])("bin/mountkit run of %s, cgroup v2's pids.max %i (pids.current 1), UV_THREADPOOL_SIZE %p: under each shell, a relay beside the run only where the cgroup leaves room for its tasks (7, or what NODE_OPTIONS makes them) and libuv's pool (and a hook's) beside the run's 9, else the Node entry alone", (_what, max, poolSize, started, config, nodeOptions) => {
    const bundle = mkdtempSync(path.join(tmpdir(), 'mountkit-relay-room-'));
    try {
      chmodSync(bundle, 0o755);
      writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(config));
      const files = { 'cgroup.controllers': 'pids\n', 'a/b/pids.max': `${max}\n`, 'a/b/pids.current': '1\n' };
      const said = LAUNCHER_SHELLS.map(([, shell]) => {
        const r = inCgroupLayout('0::/a/b\n', files, (bin) => {
          // A stand-in that says which it is: a relay, which makes its directory as a relay does
          // once it runs, or a Node that would prepare the container, which waits for that
          // directory as the run's Node does (up to 5 s): the launcher's SIGTERM, sent once the
          // job has ended, then never finds a relay that has not yet said what it is.
          const standIn = [
            '#!/bin/sh',
            'if [ -n "${MOUNTKIT_CONSOLE_RELAY-}" ]; then echo relay; mkdir "${MOUNTKIT_CONSOLE_RELAY#*:}"',
            'elif [ -n "${MOUNTKIT_HOOKS_RELAY-}" ]; then echo hooks relay; mkdir "${MOUNTKIT_HOOKS_RELAY#*:}"',
            'else',
            '  relay=${MOUNTKIT_LAUNCHER_CONSOLE-${MOUNTKIT_LAUNCHER_HOOKS-}}',
            '  if [ -n "$relay" ]; then i=0; while [ ! -d "${relay#*:}" ] && [ $i -lt 500 ]; do sleep 0.01; i=$((i + 1)); done; rmdir "${relay#*:}"; fi',
            '  echo node',
            'fi',
            '',
          ];
          writeFileSync(path.join(bin, 'node'), standIn.join('\n'), { mode: 0o755 });
          // env(1) takes its -u options before the assignments.
          const unset = [...(poolSize === undefined ? ['-u', 'UV_THREADPOOL_SIZE'] : []), ...(nodeOptions === undefined ? ['-u', 'NODE_OPTIONS'] : [])];
          const set = [...(poolSize === undefined ? [] : [`UV_THREADPOOL_SIZE=${poolSize}`]), ...(nodeOptions === undefined ? [] : [`NODE_OPTIONS=${nodeOptions}`])];
          return ['env', ...unset, ...set, ...shell, LAUNCHER, 'run', '--bundle', bundle];
        });
        return [r.status, r.stdout.split('\n').filter(Boolean).sort(), r.stderr];
      });
      expect(said).toEqual(LAUNCHER_SHELLS.map(() => [0, started, '']));
    } finally {
      rmSync(bundle, { recursive: true, force: true });
    }
  });

  /** A mount table whose cgroup v1 hierarchies are `cpu,pids` (the hierarchy's directory `root` shown at `at`) and memory; cgroup v2 at unified. */
  const sharedPids = (at: string, root = '/') =>
    [
      '25 24 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755',
      '26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec shared:5 - cgroup2 cgroup2 rw,nsdelegate',
      '27 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec shared:6 - cgroup cgroup rw,memory',
      `28 25 0:26 ${root} ${at} rw,nosuid,nodev,noexec shared:7 - cgroup cgroup rw,cpu,pids`,
      '',
    ].join('\n');
  const SHARED_CGROUP = '4:cpu,pids:/a/b\n3:memory:/a/b\n1:name=systemd:/a/b\n0::/a/b\n';

  test.each<[string, string, Record<string, string>, string | undefined]>([
    ["systemd's name for it", sharedPids('/sys/fs/cgroup/cpu,pids'), { 'cpu,pids/a/b/pids.max': 'max\n', 'cpu,pids/a/pids.max': '3\n', 'cpu,pids/a/pids.current': '1\n' }, '/sys/fs/cgroup/cpu,pids/a/pids.max 3: pids.current 1'],
    ['another mountpoint, which shows the directory /a of the hierarchy', sharedPids('/sys/fs/cgroup/mixed', '/a'), { 'mixed/b/pids.max': '2\n', 'mixed/b/pids.current': '1\n' }, '/sys/fs/cgroup/mixed/b/pids.max 2: pids.current 1'],
    ['room in it: cgroup v2 not read', sharedPids('/sys/fs/cgroup/cpu,pids'), { 'cpu,pids/a/pids.max': '7\n', 'cpu,pids/a/pids.current': '1\n', 'unified/cgroup.controllers': '', 'unified/a/pids.max': '1\n', 'unified/a/pids.current': '1\n' }, undefined],
    ['its one mount shows another directory of it (/elsewhere): nothing read', sharedPids('/sys/fs/cgroup/cpu', '/elsewhere'), { 'cpu/a/pids.max': '1\n', 'cpu/a/pids.current': '1\n' }, undefined],
    [
      "a mountpoint holding a space, a tab, a newline and a backslash, which mountinfo writes as \\040, \\011, \\012 and \\134",
      sharedPids('/sys/fs/cgroup/cpu\\040pids\\011x\\012y\\134z'),
      { 'cpu pids\tx\ny\\z/a/pids.max': '3\n', 'cpu pids\tx\ny\\z/a/pids.current': '1\n' },
      '/sys/fs/cgroup/cpu pids\tx\ny\\z/a/pids.max 3: pids.current 1',
    ],
    ['a mountpoint showing the directory "/a" through a root written "/\\141" (no escape mountinfo makes): nothing read', sharedPids('/sys/fs/cgroup/mixed', '/\\141'), { 'mixed/b/pids.max': '2\n', 'mixed/b/pids.current': '1\n' }, undefined],
  ])('bin/mountkit --version, pids sharing a cgroup v1 hierarchy with cpu, %s: under each shell, the mount table tells where; refused in one line naming the pids.max met, or Node started', (_layout, mountinfo, files, refused) => {
    const said = LAUNCHER_SHELLS.map(([, shell]) => {
      const r = inCgroupLayout(SHARED_CGROUP, files, () => [...shell, LAUNCHER, '--version'], mountinfo);
      return [r.status, r.stdout, r.stderr];
    });
    const expected = refused === undefined ? [0, expect.stringMatching(/^node, /), ''] : [1, '', `mountkit: fork: EAGAIN (${refused}, and Node needs 6 more to start)\n`];
    expect(said).toEqual(LAUNCHER_SHELLS.map(() => expected));
  });

  test('bin/mountkit --version, pids sharing a cgroup v1 hierarchy with cpu, mounted showing a directory whose name holds a space (its root written /a\\040b): under each shell, the cgroup is found below it', () => {
    const said = LAUNCHER_SHELLS.map(([, shell]) => {
      const files = { 'mixed/c/pids.max': '2\n', 'mixed/c/pids.current': '1\n' };
      const r = inCgroupLayout('4:cpu,pids:/a b/c\n3:memory:/a b/c\n1:name=systemd:/a b/c\n0::/a b/c\n', files, () => [...shell, LAUNCHER, '--version'], sharedPids('/sys/fs/cgroup/mixed', '/a\\040b'));
      return [r.status, r.stdout, r.stderr];
    });
    expect(said).toEqual(LAUNCHER_SHELLS.map(() => [1, '', 'mountkit: fork: EAGAIN (/sys/fs/cgroup/mixed/c/pids.max 2: pids.current 1, and Node needs 6 more to start)\n']));
  });

  test("the Node entry's relaunch, pids sharing a cgroup v1 hierarchy with cpu: refused in one line naming its pids.max, found through the mount table", () => {
    withBundle(busyboxConfig(['true']), (dir) => {
      const files = { 'cpu,pids/a/b/pids.max': 'max\n', 'cpu,pids/a/pids.max': '9\n', 'cpu,pids/a/pids.current': '1\n' };
      const r = inCgroupLayout(SHARED_CGROUP, files, () => [process.execPath, BIN, 'run', '--bundle', dir, '--seccomp-cache', 'off'], sharedPids('/sys/fs/cgroup/cpu,pids'));
      expect(r).toEqual({
        status: 1,
        signal: null,
        stdout: '',
        stderr: "mountkit: fork: EAGAIN (/sys/fs/cgroup/cpu,pids/a/pids.max 9: pids.current 1, and starting mountkit again in the container's namespaces takes 9 more)\n",
      });
    });
  });

  test("the Node entry's relaunch into a new pid namespace, on a hybrid host whose pids controller is cgroup v2's: refused in one line naming /sys/fs/cgroup/unified's pids.max while it leaves fewer than the 9 tasks the relaunch takes", () => {
    withBundle(busyboxConfig(['true']), (dir) => {
      const run = (max: number) => inCgroupLayout('1:name=systemd:/a/b\n0::/a/b\n', hybridV2(max), () => [process.execPath, BIN, 'run', '--bundle', dir, '--seccomp-cache', 'off']);
      expect(run(9)).toEqual({
        status: 1,
        signal: null,
        stdout: '',
        stderr: "mountkit: fork: EAGAIN (/sys/fs/cgroup/unified/a/pids.max 9: pids.current 1, and starting mountkit again in the container's namespaces takes 9 more)\n",
      });
      expect(run(10)).toMatchObject({ status: 0, stderr: '' });
    });
  });
});

/**
 * This process's cgroup in a cgroup v1 hierarchy of this host where pids shares with
 * other controllers, at the first mount of it showing the hierarchy's root, when it can
 * write there; else why not. None is mounted for the test: a new hierarchy with pids
 * would take the controller from the one it is bound to (kernel/cgroup/cgroup.c
 * rebind_subsystems: EBUSY from another v1 hierarchy, or from cgroup v2 once a cgroup
 * there uses it; else taken from cgroup v2 for the whole host), which no mount namespace
 * keeps to itself.
 */
function sharedPidsParent(): { dir: string } | { why: string } {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((line) => {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    return { root: f[3], at: f[4], fstype: f[sep + 1], controllers: (f[sep + 3] ?? '').split(',') };
  });
  // The kernel's controllers, by name (/proc/cgroups, first column): the super options name them among other options.
  const known = new Set(readFileSync('/proc/cgroups', 'utf8').split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split('\t')[0]));
  const shared = mounts.find((m) => m.fstype === 'cgroup' && m.root === '/' && m.controllers.includes('pids') && m.controllers.some((c) => c !== 'pids' && known.has(c)));
  if (!shared) return { why: 'no cgroup v1 hierarchy here has pids with another controller (/proc/self/mountinfo)' };
  const line = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((l) => /^\d+:[^:]*\bpids\b[^:]*:\//.test(l) && !/^\d+:pids:/.test(l));
  if (!line) return { why: `${shared.at} is no hierarchy of this process's (/proc/self/cgroup)` };
  const dir = path.join(shared.at, line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1));
  return spawnSync('test', ['-w', dir]).status === 0 ? { dir } : { why: `${dir} is not writable` };
}

const SHARED_PIDS_PARENT = available ? sharedPidsParent() : { why: 'needs root and busybox-static' };

(available && 'dir' in SHARED_PIDS_PARENT ? describe : describe.skip)(`a pids cgroup of a cgroup v1 hierarchy pids shares (${'dir' in SHARED_PIDS_PARENT ? SHARED_PIDS_PARENT.dir : `skipped: ${SHARED_PIDS_PARENT.why}`})`, () => {
  test.each(LAUNCHER_SHELLS)('bin/mountkit --version under %s in a cgroup of it whose pids.max leaves Node too few: refused in one line naming it, found through the mount table', (_name, shell) => {
    const cgroup = path.join((SHARED_PIDS_PARENT as { dir: string }).dir, `mountkit-test-shared-pids-${process.pid}`);
    mkdirSync(cgroup);
    try {
      writeFileSync(path.join(cgroup, 'pids.max'), '3');
      const r = spawnSync('sh', ['-c', 'echo $$ >"$0/cgroup.procs" && exec "$@"', cgroup, ...shell, LAUNCHER, '--version'], { encoding: 'utf8', timeout: RUN_TIMEOUT_MS, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', `mountkit: fork: EAGAIN (${cgroup}/pids.max 3: pids.current 1, and Node needs 6 more to start)\n`]);
    } finally {
      leftInCgroup(cgroup);
      for (let i = 0; i < 500; i++) {
        try {
          rmdirSync(cgroup);
          break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EBUSY') throw err;
          pause(20);
        }
      }
    }
  });
});

describe("the tasks Node starts with, as nodeTasks counts them (core/node-tasks.ts)", () => {
  // Each a Node of this machine reading its own /proc/self/status as it starts; none with a pool that could starve the machine.
  test.each<[string | undefined, string[]]>([
    [undefined, []],
    ['--max-old-space-size=64', []],
    ['--v8-pool-size=1', []],
    ['--v8_pool_size 3', []],
    ['"--v8-pool-size=9"', []],
    ['--v8-pool-size=8x', []],
    ['--v8-pool-size=2 --v8-pool-size=5', []],
    ['--v8-pool-size=0', []],
    ['--v8-pool-size=abc', []],
    ['--v8-pool-size=-1', []],
    ['--v8-pool-size=4294967297', []],
    ['--v8-pool-size=-4294967294', []],
    ['--v8-pool-size=2147483648', []],
    ['--title "a \\"b\\"" --v8-pool-size \\-3', []],
    ['--v8-po"ol-size=5"', []],
    ['--v8-pool-size=8', ['--v8-pool-size=2']],
    [undefined, ['--v8-pool-size', '3']],
  ])('NODE_OPTIONS %p, command line %p', (nodeOptions, execArgv) => {
    const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: nodeOptions };
    if (nodeOptions === undefined) delete env.NODE_OPTIONS;
    // As bin/mountkit starts Node: without NODE_EXTRA_CA_CERTS (kept aside in MOUNTKIT_NODE_EXTRA_CA_CERTS).
    delete env.NODE_EXTRA_CA_CERTS;
    const r = spawnSync(process.execPath, [...execArgv, '-e', 'process.stdout.write(/^Threads:\\s*(\\d+)$/m.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1])'], { env, encoding: 'utf8', timeout: RUN_TIMEOUT_MS });
    expect([r.status, r.stderr, Number(r.stdout)]).toEqual([0, '', nodeTasks(nodeOptions, execArgv, availableParallelism())]);
  });

  test("bin/mountkit's count of them from NODE_OPTIONS (v8_pool_tasks), and of libuv's pool from UV_THREADPOOL_SIZE (pool_threads), under each shell: nodeTasks's and libuvPoolThreads's, for 200 values; low_bits as strtoll's low 32 bits", () => {
    const script = readFileSync(LAUNCHER, 'utf8');
    const lowBits = /^low_bits\(\) \{\n[\s\S]*?\n\}\n/m.exec(script)![0];
    const pool = /^pool_threads\(\) \{\n[\s\S]*?\n\}\n/m.exec(script)![0];
    const count = lowBits + pool + /^node_tasks=7\nv8_pool_tasks\(\) \{\n[\s\S]*?\n\}\ncase \$\{NODE_OPTIONS-\} in .*\n/m.exec(script)![0];
    const values = ['', '--v8-pool-size=8', '--v8-pool-size 8', '"--v8-pool-size=9"', '--v8-pool-size "1 2"', '--v8-pool-size "open', '"--a\\', '--v8-pool-size= 7', ' --v8-pool-size=" +6"', '--v8-po"ol-size=5"', '--v8-pool-size=\t 12'];
    // Numbers of 1 to 21 digits, some negative, some with a tail: around each edge of atoll and of the int.
    for (const edge of ['2147483647', '2147483648', '4294967296', '4294967297', '9223372036854775806', '9223372036854775807', '9223372036854775808', '18446744073709551617']) values.push(`--v8-pool-size=${edge}`, `--v8-pool-size=-${edge}`);
    let seed = 7;
    const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
    while (values.length < 200) values.push(`--v8_pool-size=${['', '-', '+', ' '][next(4)]}${Array.from({ length: 1 + next(21) }, () => next(10)).join('')}${['', 'x', ' --a'][next(3)]}`);
    for (const [name, shell] of LAUNCHER_SHELLS) {
      const counted = values.map((value) => {
        const number = value.replace(/^--v8[-_]pool[-_]size=/, '');
        const r = spawnSync(shell[0], [...shell.slice(1), '-c', `set -u\n${count}pool_threads; low_bits "$1"; echo "$node_tasks $pool $low"`, 'sh', number], { env: { ...process.env, NODE_OPTIONS: value, UV_THREADPOOL_SIZE: number }, encoding: 'utf8' });
        return r.stdout;
      });
      const expected = values.map((value) => {
        const number = value.replace(/^--v8[-_]pool[-_]size=/, '');
        return `${nodeTasks(value, [], availableParallelism())} ${libuvPoolThreads(number)} ${BigInt.asUintN(32, strtoll(number))}\n`;
      });
      expect([name, counted]).toEqual([name, expected]);
    }
  });
});

maybe('the shell forking PID 1 of a new pid namespace (PID_NAMESPACE_PARENT)', () => {
  const [, c, script, name] = PID_NAMESPACE_PARENT;
  test.each<[string, string[]]>([
    ['/bin/sh', ['/bin/sh']],
    ['busybox sh', [BUSYBOX ?? 'busybox', 'sh']],
  ])('under %s, when it cannot fork: says so in one line on its standard error, exit 1; with room, the child\'s status', (_sh, shell) => {
    const unforked = runLimited('--nproc=1', [...shell, c, script, name, 'true']);
    expect([unforked.status, unforked.stdout, unforked.stderr]).toEqual([1, '', `${UNFORKED}\n`]);
    const forked = runLimited('--nproc=2', [...shell, c, script, name, 'sh', '-c', 'echo child; exit 7']);
    expect([forked.status, forked.stdout, forked.stderr]).toEqual([7, 'child\n', '']);
  });
});
