/**
 * The runtime's hooks (prestart, createRuntime, poststart, poststop) through bin/mountkit
 * in one Node start-up: a relay beside the Node that prepares the container serves its
 * runtime channel (src/cli/hooks-relay.ts), run for real.
 */
import { spawn, spawnSync } from 'child_process';
import { chmodSync, mkdirSync, readFileSync, readdirSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, ROOTLESS_ID, busyboxConfig, removeRootlessInstall, rootlessLauncher, withBundleAsync } from '../conformance/harness';
import { LAUNCHER } from '../helpers/cli';
import { launcherRun } from '../helpers/launcher-roles';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('hooks relay tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

/** A hook that keeps, in the bundle's out/NAME, its state and what it was given: the caller's FOO, and the pid namespace of the state's pid. */
const keep = (name: string) => ({
  path: '/bin/sh',
  args: ['sh', '-c', `s=$(cat); p=$(echo "$s" | sed -n 's/.*"pid":\\([0-9]*\\).*/\\1/p'); { echo "$s"; echo "foo=$FOO"; [ -z "$p" ] || readlink /proc/$p/ns/pid || :; } 2>/dev/null > out/${name}`],
});

/** What the hooks kept, by name. */
function kept(bundle: string): Record<string, string[]> {
  const out = path.join(bundle, 'out');
  return Object.fromEntries(readdirSync(out).map((name) => [name, readFileSync(path.join(out, name), 'utf8').split('\n').filter(Boolean)]));
}

/** What keep() kept: the createRuntime hook in the container's pid namespace `ns`, the poststart hook given the same pid, the poststop hook the stopped state. */
function expectHookStates(seen: Record<string, string[]>, ns: string): void {
  const [pid] = /"pid":(\d+)/.exec(seen.cr[0])!.slice(1);
  expect(seen.cr.slice(1)).toEqual(['foo=', ns]);
  expect(seen.ps[0]).toContain(`"status":"running","pid":${pid},`);
  expect(seen.pst[0]).toContain('"status":"stopped"');
}

maybe("bin/mountkit's hooks relay", () => {
  afterAll(() => removeRootlessInstall());

  test("the four runtime hooks run by a relay beside the one Node process that prepares the container (no relaunch), in the caller's environment, with the container's pid as the host sees it; the relay's directory is gone after", () => {
    const c = busyboxConfig(['sh', '-c', 'readlink /proc/self/ns/pid']);
    c.hooks = { prestart: [keep('pre')], createRuntime: [keep('cr')], poststart: [keep('ps')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, { FOO: 'bar' }, ['hr-1'], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    expect(r.left).toEqual([]);
    const ns = r.stdout.trim();
    expect(ns).toMatch(/^pid:\[\d+\]$/);
    const [pid] = /"pid":(\d+)/.exec(seen.pre[0])!.slice(1);
    const state = (status: string, withPid = true) => JSON.stringify({ ociVersion: '1.0.2', id: 'hr-1', status, ...(withPid ? { pid: Number(pid) } : {}), bundle: r.bundle });
    expect(seen).toEqual({
      pre: [state('creating'), 'foo=bar', ns],
      cr: [state('creating'), 'foo=bar', ns],
      // The container has ended by the time the poststart hook reads its namespace, or not.
      ps: [state('running'), 'foo=bar', ...(seen.ps.length === 3 ? [ns] : [])],
      pst: [state('stopped', false), 'foo=bar'],
    });
    expect(Number(pid)).toBeGreaterThan(1);
  });

  test("in a user namespace whose maps take 0 to 0 (the launcher's unshare --user): the relay runs the hooks, with the pid of the container's Node as the host sees it", () => {
    const c = busyboxConfig(['sh', '-c', 'readlink /proc/self/ns/pid']);
    const WIDE = [{ containerID: 0, hostID: 0, size: 65536 }];
    c.linux = { ...c.linux, namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: WIDE, gidMappings: WIDE };
    c.hooks = { createRuntime: [keep('cr')], poststart: [keep('ps')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, {}, [], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    expectHookStates(seen, r.stdout.trim());
  });

  test('in a user namespace whose maps take 0 to 0, with a namespace given by path (whose "path" the launcher takes for a hook\'s): the Node it started answers "again", and the Node entry runs each hook once', () => {
    const c = busyboxConfig(['true']);
    const WIDE = [{ containerID: 0, hostID: 0, size: 65536 }];
    c.linux = { ...c.linux, namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }, { type: 'network', path: '/proc/self/ns/net' }], uidMappings: WIDE, gidMappings: WIDE };
    c.hooks = { createRuntime: [keep('cr')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, {}, [], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['hooks relay', 'other', 'other', 'under unshare']);
    expect(Object.keys(seen).sort()).toEqual(['cr', 'pst']);
    expect(r.left).toEqual([]);
  });

  test('in a user namespace whose maps leave host id 0 out (Node would run as host id 100000, which cannot reach the relay\'s directory): the Node entry at once, no relay', () => {
    const c = busyboxConfig(['true']);
    const RANGE = [{ containerID: 0, hostID: 100000, size: 65536 }];
    c.linux = { ...c.linux, namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: RANGE, gidMappings: RANGE };
    c.hooks = { createRuntime: [keep('cr')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(
      c,
      {},
      [],
      (dir) => {
        chmodSync(dir, 0o711);
        mkdirSync(path.join(dir, 'out'));
      },
      (dir) => (seen = kept(dir)),
    );
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['other', 'other']);
    expect(Object.keys(seen).sort()).toEqual(['cr', 'pst']);
  });

  test("rootless, with `runc spec --rootless`'s maps (the launcher's unshare --map-root-user): the user's relay runs the hooks as that user, with the pid of the container's Node as the host sees it", () => {
    const c = busyboxConfig(['sh', '-c', 'id -u; readlink /proc/self/ns/pid']);
    const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
    c.linux = { ...c.linux, namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: own, gidMappings: own };
    const who = { path: '/bin/sh', args: ['sh', '-c', 'id -u > out/who'] };
    c.hooks = { createRuntime: [keep('cr'), who], poststart: [keep('ps')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(
      c,
      {},
      [],
      (dir) => {
        mkdirSync(path.join(dir, 'out'));
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
      },
      (dir) => (seen = kept(dir)),
      ['setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', rootlessLauncher()],
    );
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    const [uid, ns] = r.stdout.trim().split('\n');
    expect(uid).toBe('0');
    expect(seen.who).toEqual([String(ROOTLESS_ID)]);
    expectHookStates(seen, ns);
    expect(r.left).toEqual([]);
  });

  test("with a foreground console: the one relay copies it too (the run's Node connects twice, the console first), and runs the hooks; its directory is gone after", () => {
    const c = busyboxConfig(['sh', '-c', 'tty; readlink /proc/self/ns/pid']);
    c.process.terminal = true;
    c.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] });
    c.hooks = { createRuntime: [keep('cr')], poststart: [keep('ps')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, {}, [], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    const [tty, ns] = r.stdout.trim().split(/\r?\n/);
    expect(tty).toBe('/dev/pts/0');
    expectHookStates(seen, ns);
    expect(r.left).toEqual([]);
  });

  test.each([
    ['a failing poststart hook', [{ path: '/bin/sh', args: ['sh', '-c', 'exit 3'] }], 'mountkit: hook poststart[0] "/bin/sh" failed (exit status 3)\n'],
    [
      // One before it ended, leaving a process of its own in the background, and succeeded.
      'a poststart hook still running at its timeout (killed by SIGKILL: it cannot trap that)',
      [
        { path: '/bin/sh', args: ['sh', '-c', '(sleep 0.3 &) ; echo left'] },
        { path: '/bin/sh', args: ['sh', '-c', 'trap "exit 0" TERM; echo started; sleep 20 & wait'], timeout: 1 },
      ],
      'mountkit: hook poststart[1] "/bin/sh" failed (ran past its timeout of 1s, killed by SIGKILL): started\n',
    ],
  ])('%s stops the container (SIGKILL) and ends the run with its error, exit 1; the poststop hooks still run', (_what, poststart, stderr) => {
    const c = busyboxConfig(['sh', '-c', 'sleep 5; echo survived']);
    c.hooks = { poststart, poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, {}, [], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe(stderr);
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    expect(Object.keys(seen)).toEqual(['pst']);
  });

  test("a signal sent to mountkit's process group (Ctrl-C) reaches the container, not the relay, which runs the poststop hooks once the container has ended", async () => {
    const c = busyboxConfig(['sh', '-c', 'trap "echo got INT; exit 5" INT; echo ready; while :; do sleep 0.05; done']);
    c.hooks = { createRuntime: [{ path: '/bin/true' }], poststop: [keep('pst')] };
    const r = await withBundleAsync(c, async (dir) => {
      mkdirSync(path.join(dir, 'out'));
      const child = spawn(LAUNCHER, ['run', '--seccomp-cache', 'off', '--bundle', dir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out === 'ready\n') process.kill(-child.pid!, 'SIGINT');
      });
      const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      return { status, out, err, seen: kept(dir) };
    });
    expect([r.status, r.out, r.err]).toEqual([5, 'ready\ngot INT\n', '']);
    expect(r.seen.pst).toEqual([expect.stringContaining('"status":"stopped"'), 'foo=']);
  }, 30_000);

  test('a relay that cannot make its directory (TMPDIR unwritable) leaves the run to the Node entry at once, which runs each hook once', () => {
    const c = busyboxConfig(['true']);
    c.hooks = { createRuntime: [keep('cr')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, { TMPDIR: '/proc' }, [], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stderr, r.stdout]).toEqual([0, '', '']);
    // The relay, the Node under unshare(1) that answered "again", the Node entry and its relaunch.
    expect(r.starts).toEqual(['hooks relay', 'other', 'other', 'under unshare']);
    expect(Object.keys(seen).sort()).toEqual(['cr', 'pst']);
  });

  test("with --pid-file: the relay writes it after the poststart hooks (none finds it), holding the pid they were given, the container's as the caller sees it", () => {
    const c = busyboxConfig(['true']);
    const look = { path: '/bin/sh', args: ['sh', '-c', '[ -e out/ct.pid ] && echo there > out/look || echo absent > out/look'] };
    c.hooks = { poststart: [keep('ps'), look], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, {}, (dir) => ['--pid-file', path.join(dir, 'out', 'ct.pid')], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    const [pid] = /"pid":(\d+)/.exec(seen.ps[0])!.slice(1);
    expect(seen.look).toEqual(['absent']);
    expect(seen['ct.pid']).toEqual([pid]);
    expect(Object.keys(seen).sort()).toEqual(['ct.pid', 'look', 'ps', 'pst']);
  });

  test("with --log: the run's Node's lines and the relay's (a failing poststop hook's warning) in the one file, each with its own pid", () => {
    const c = busyboxConfig(['true']);
    c.hooks = { createRuntime: [keep('cr')], poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }] };
    let lines: { pid: number; level: string; msg: string }[] = [];
    let seen: Record<string, string[]> = {};
    const r = launcherRun(
      c,
      {},
      (dir) => ['--log', path.join(dir, 'out', 'run.log'), '--log-format', 'json', '--log-level', 'debug'],
      (dir) => mkdirSync(path.join(dir, 'out')),
      (dir) => {
        lines = readFileSync(path.join(dir, 'out', 'run.log'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as { pid: number; level: string; msg: string });
        seen = kept(dir);
      },
    );
    const warning = 'hook poststop[0] "/bin/sh" failed (exit status 4)';
    // With --log, the lines go to the file alone.
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    const container = Number(/"pid":(\d+)/.exec(seen.cr[0])![1]);
    const last = lines.at(-1)!;
    expect({ level: last.level, msg: last.msg }).toEqual({ level: 'warn', msg: warning });
    // The run's Node is the container's process: its lines carry the pid the hooks were given; the relay's its own.
    expect(lines.filter((l) => l.msg.startsWith('phase prepare-root end')).map((l) => l.pid)).toEqual([container]);
    expect(last.pid).not.toBe(container);
    expect(new Set(lines.map((l) => l.pid)).size).toBe(2);
  });

  test.each([
    ['--log', '/nope/run.log'],
    ['--pid-file', '/nope/ct.pid'],
  ])('%s in a directory that is not there: the run\'s Node refuses it before it connects to the relay, one line, exit 2; no hook runs, no Node entry', (option, file) => {
    const c = busyboxConfig(['true']);
    c.hooks = { prestart: [keep('pre')], poststop: [keep('pst')] };
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, {}, [option, file], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toMatch(new RegExp(`^mountkit: ${option} "${file}": [^\n]*ENOENT[^\n]*\n$`));
    expect(r.starts).toEqual(['hooks relay', 'under unshare']);
    expect(seen).toEqual({});
    expect(r.left).toEqual([]);
  });

  test('a config error: the run\'s Node says it, exit 2; the relay says nothing and no hook runs', () => {
    const c = busyboxConfig(['true']);
    c.hooks = { poststop: [keep('pst')] };
    c.process.cwd = 'relative';
    let seen: Record<string, string[]> = {};
    const r = launcherRun(c, {}, [], (dir) => mkdirSync(path.join(dir, 'out')), (dir) => (seen = kept(dir)));
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^mountkit: process\.cwd/), '']);
    expect(seen).toEqual({});
  });
});
