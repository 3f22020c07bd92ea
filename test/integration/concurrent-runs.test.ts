/**
 * What a platform's runtime meets when it starts many runs at once and stops some of them:
 * signals that come while a run is still being prepared, and what a run killed halfway
 * leaves to the next ones.
 */
import { spawn } from 'child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, busyboxConfig as config, withBundleAsync } from '../conformance/harness';
import { BIN, LAUNCHER, REPO } from '../helpers/cli';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('these tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const SIGNAL_ON_CONNECT = path.join(__dirname, '..', 'helpers', 'signal-on-connect.py');
const CLOSED_STDERR = path.join(__dirname, '..', 'helpers', 'closed-stderr.py');
const CONFIG_STARTER = path.join(__dirname, '..', 'helpers', 'config-starter.py');
/** Runs its arguments under a seccomp filter answering each syscall its first argument names (NAME=ERRNO) with that errno: fsopen(2) refused, tmpcopyup mounts its tmpfs on the destination. */
const REFUSING = path.join(__dirname, '..', 'helpers', 'refusing-syscalls.js');

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` to its end, with `stdio` beyond the three pipes (descriptor 3 and up), and `feed` called once it has started. */
function outcome(argv: string[], opts: { env?: NodeJS.ProcessEnv; extra?: ('pipe' | 'ignore')[]; feed?: (child: import('child_process').ChildProcess) => void } = {}): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe', ...(opts.extra ?? [])], env: opts.env ?? process.env, cwd: REPO });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d));
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
    opts.feed?.(child);
  });
}

maybe('signals that come before the relaunch runs', () => {
  const RANGE = [{ containerID: 0, hostID: 100000, size: 65536 }];
  /** A container that answers SIGTERM and SIGHUP with their own status, and otherwise ends by itself within about 10 s. */
  const TRAPPING = 'trap "echo got-TERM; exit 3" TERM; trap "echo got-HUP; exit 4" HUP; echo ready; i=0; while [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; echo ended';

  test.each([
    ['SIGTERM', 15, 3, 'got-TERM'],
    ['SIGHUP', 1, 4, 'got-HUP'],
  ] as const)(
    "%s sent to mountkit while its first process connects the seccomp agent's socket for a new user namespace, before the relaunch starts, is held and reaches the container once its program runs, as runc holds it (it ended mountkit: nothing ran)",
    async (_name, signum, status, said) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-held-signal-'));
      const socket = path.join(dir, 'agent.sock');
      // The agent signals the process that connects (SO_PEERCRED): mountkit's first process, in prepareRelaunch.
      const agent = spawn('python3', [SIGNAL_ON_CONNECT, socket, String(signum)], { stdio: ['ignore', 'pipe', 'inherit'] });
      try {
        await new Promise<void>((resolve, reject) => {
          agent.stdout.once('data', () => resolve());
          agent.once('error', reject);
        });
        const c = config(['sh', '-c', TRAPPING]);
        c.linux = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: RANGE, gidMappings: RANGE };
        // A rule for a call the container never makes: the listener is sent, and nothing waits on the agent.
        c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: socket, syscalls: [{ names: ['acct'], action: 'SCMP_ACT_NOTIFY' }] };
        const r = await withBundleAsync(c, (bundle) => {
          chmodSync(bundle, 0o711);
          return outcome([LAUNCHER, 'run', '--bundle', bundle, '--seccomp-cache', 'off']);
        });
        expect({ status: r.status, signal: r.signal, stderr: r.stderr }).toEqual({ status, signal: null, stderr: '' });
        expect(r.stdout.split('\n').sort()).toEqual(['', 'ready', said].sort());
      } finally {
        agent.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test('a relaunch whose starter ended before passing config.json says so, and does not call the config empty', async () => {
    // What a starter killed right after starting the relaunch leaves it: descriptor 5, the config's socket, closed with nothing sent.
    const r = await outcome([process.execPath, BIN, 'run', '--bundle', '/nonexistent', '--seccomp-cache', 'off'], {
      env: { ...process.env, MOUNTKIT_RELAUNCHED: '1' },
      extra: ['ignore', 'ignore', 'pipe'],
      feed: (child) => (child.stdio as unknown as import('stream').Writable[])[5].end(),
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: the mountkit process that started this one ended before it passed config.json (descriptor 5 was closed empty)\n']);
  });

  test.each([
    ['shut down (a SIGKILL with its line read)', 'end'],
    ['reset (a SIGKILL with its line unread: ECONNRESET)', 'reset'],
  ])(
    'a relaunch whose starter ended while it wrote config.json (its socket %s) says so in one line, and does not call the config invalid JSON',
    async (_what, mode) => {
      // Its length, 12 bytes, then 8 of them.
      const r = await outcome(['python3', CONFIG_STARTER, mode, '12\n{"ociVer', process.execPath, BIN, 'run', '--bundle', '/nonexistent', '--seccomp-cache', 'off'], {
        env: { ...process.env, MOUNTKIT_RELAUNCHED: '1' },
      });
      expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'mountkit: the mountkit process that started this one ended before it passed all of config.json (descriptor 5 was closed after 8 of 12 bytes)\n']);
    },
  );

  test("config.json's text without the length a starter sends first: something else started the process with MOUNTKIT_RELAUNCHED set, and it is refused", async () => {
    const r = await outcome(['python3', CONFIG_STARTER, 'end', '{"ociVersion":"1.0.2"}', process.execPath, BIN, 'run', '--bundle', '/nonexistent', '--seccomp-cache', 'off'], {
      env: { ...process.env, MOUNTKIT_RELAUNCHED: '1' },
    });
    expect([r.status, r.stdout, r.stderr]).toEqual([1, '', "mountkit: MOUNTKIT_RELAUNCHED is set, which only mountkit's own relaunch sets: descriptor 5 is not the config it passes\n"]);
  });

  test("a run that fails once the signals are held, before its relaunch (the seccomp agent's socket is not there), exits 1 when its stderr is a pipe whose reader has gone, as before they were held: SIGPIPE, which Node ignores, got its default action back with their release and ended mountkit (141)", async () => {
    const c = config(['true']);
    c.linux = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: RANGE, gidMappings: RANGE };
    c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/nonexistent/agent.sock', syscalls: [{ names: ['acct'], action: 'SCMP_ACT_NOTIFY' }] };
    const r = await withBundleAsync(c, (bundle) => outcome(['python3', CLOSED_STDERR, LAUNCHER, 'run', '--bundle', bundle, '--seccomp-cache', 'off']));
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '1\n', '']);
  });
});

// Where fsopen(2) is refused (ENOSYS, as before Linux 5.2), the tmpfs is mounted on the destination and filled there.
maybe('tmpcopyup with many runs at once', () => {
  const refused = (argv: string[]) => [process.execPath, REFUSING, 'fsopen=ENOSYS', ...argv];
  const ON_TARGET = /tmpcopyup: mounted on the destination and copied there: the new mount API is refused/g;
  const onTarget = (stderr: string) => [...stderr.matchAll(ON_TARGET)].length;
  /** What mountkit's runs left in the host's /tmp (tmpcopyup once staged its tmpfs there). */
  const leftInTmp = () => readdirSync('/tmp').filter((name) => name.startsWith('.mountkit-'));
  /** A config whose mounts[index] is a tmpcopyup over /etc (a file put there by the test), after index - 2 small tmpfs mounts. */
  const copyUpAt = (index: number) => {
    const c = config(['cat', '/etc/copied']);
    for (let i = 2; i < index; i++) c.mounts.push({ destination: `/m${i}`, type: 'tmpfs', source: 'tmpfs', options: ['size=64k'] });
    c.mounts.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'size=1m'] });
    return c;
  };
  const withCopied = (c: Record<string, any>, fn: (bundle: string) => Promise<Outcome[]>) =>
    withBundleAsync(c, (bundle) => {
      writeFileSync(path.join(bundle, 'rootfs', 'etc', 'copied'), 'copied\n');
      return fn(bundle);
    });

  test('where fsopen is refused, runs of one bundle at once each mount their tmpfs on their own destination and fill it there: nothing is made in /tmp', async () => {
    const runs = 4;
    const before = leftInTmp();
    const results = await withCopied(copyUpAt(2), (bundle) =>
      Promise.all(Array.from({ length: runs }, () => outcome(refused([LAUNCHER, 'run', '--bundle', bundle, '--seccomp-cache', 'off', '--log-level', 'debug'])))),
    );
    expect(results.map((r) => [r.status, r.stdout, onTarget(r.stderr)])).toEqual(Array.from({ length: runs }, () => [0, 'copied\n', 1]));
    expect(leftInTmp()).toEqual(before);
  });

  test('where fsopen is there, runs of one bundle at once each copy into a detached tmpfs of their own', async () => {
    const runs = 4;
    const results = await withCopied(copyUpAt(2), (bundle) =>
      Promise.all(Array.from({ length: runs }, () => outcome([LAUNCHER, 'run', '--bundle', bundle, '--seccomp-cache', 'off', '--log-level', 'debug']))),
    );
    expect(results.map((r) => [r.status, r.stdout, onTarget(r.stderr)])).toEqual(Array.from({ length: runs }, () => [0, 'copied\n', 0]));
  });
});
