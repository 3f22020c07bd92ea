/**
 * bin/mountkit as root seals node's file for its Node (seal_node): the first process of
 * the new pid namespace binds the file read-only onto itself, in the container's own mount
 * namespace where rootfsPropagation allows it (seal_in_place: Node takes the bind off),
 * else in a throwaway mount namespace, then goes back to the container's (nsenter(1));
 * it opens the bind and becomes Node started from that descriptor, which then need not
 * re-execute itself from a copy (sealed-node.test.ts checks what the container finds). A
 * stand-in mount(8) first in PATH, which logs its arguments and then runs the real one,
 * tells whether the seal ran, and holds that process there for the watch's and forward's
 * rows; a stand-in nsenter(1) logs that the throwaway namespace was left.
 */
import { spawn, spawnSync } from 'child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, busyboxConfig, withBundle, withBundleAsync } from '../conformance/harness';
import { LAUNCHER } from '../helpers/cli';
import { LAUNCHER_SHELLS } from '../helpers/launcher-stand-ins';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('run tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const MOUNT = spawnSync('sh', ['-c', 'command -v mount'], { encoding: 'utf8' }).stdout.trim();
/** The node the launcher finds in PATH, its links followed, as the seal binds it. */
const NODE = realpathSync(spawnSync('sh', ['-c', 'command -v node'], { encoding: 'utf8' }).stdout.trim());

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls until `done` holds, for up to 10 s. */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await sleep(50);
  if (!done()) throw new Error('timed out');
}

maybe('bin/mountkit seals node\'s file for its Node (root)', () => {
  let dir: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  /** The stand-in mount(8): logs "start" and its arguments, sleeps `seconds`, runs the real one and logs "end" and its status. */
  function standIn(seconds: number): void {
    writeFileSync(path.join(dir, 'bin', 'mount'), `#!/bin/sh\necho "start $*" >>"$SEAL_LOG"\nsleep ${seconds}\n${MOUNT} "$@"\nstatus=$?\necho "end $status" >>"$SEAL_LOG"\nexit $status\n`);
    chmodSync(path.join(dir, 'bin', 'mount'), 0o755);
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-launcher-seal-'));
    mkdirSync(path.join(dir, 'bin'));
    log = path.join(dir, 'log');
    env = { ...process.env, PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, SEAL_LOG: log };
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const logged = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');

  /** The stand-in nsenter(1): logs "nsenter" and runs the real one. */
  function nsenterStandIn(): void {
    const real = spawnSync('sh', ['-c', 'command -v nsenter'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(path.join(dir, 'bin', 'nsenter'), `#!/bin/sh\necho nsenter >>"$SEAL_LOG"\nexec ${real} "$@"\n`, { mode: 0o755 });
  }

  test('node on a writable mount: the process that becomes Node binds it read-only, once, and the run goes on', () => {
    standIn(0);
    const r = withBundle(busyboxConfig(['echo', 'ran']), (bundle) => spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }));
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n`);
  });

  // The bind made in the container's own namespace would show in it, and in a bind of
  // node's directory into the rootfs, had Node not taken it off.
  test("sealed in place (no rootfsPropagation): no throwaway namespace, no nsenter(1); a container that binds node's directory from the host sees no mount at node's file; the host's mount table untouched", () => {
    standIn(0);
    nsenterStandIn();
    const base = path.basename(NODE);
    const mounts = [...busyboxConfig([]).mounts, { destination: '/hostbin', type: 'bind', source: path.dirname(NODE), options: ['rbind', 'ro'] }];
    const config = busyboxConfig(['sh', '-c', `grep -c " /hostbin/${base} " /proc/self/mountinfo; test -f /hostbin/${base} && echo there`], { mounts });
    const before = readFileSync('/proc/self/mountinfo', 'utf8');
    const r = withBundle(config, (bundle) => spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }));
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '0\nthere\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n`);
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(before);
  });

  // In place only where the container's namespace made --propagation slave ends as runc's
  // would: prepare-root gives / the config's propagation after.
  test.each<[string, string | undefined, boolean]>([
    ['unset', undefined, true],
    ['rslave', 'rslave', true],
    ['rprivate', 'rprivate', true],
    ['shared (runc keeps the host\'s peer groups)', 'shared', false],
    ['rshared', 'rshared', false],
    ['slave (not recursive: the submounts keep the host\'s propagation)', 'slave', false],
    ['private', 'private', false],
  ])('rootfsPropagation %s: sealed in place %p, and the run goes on', (_what, value, inPlace) => {
    standIn(0);
    nsenterStandIn();
    const config = busyboxConfig(['echo', 'ran'], { linux: { ...busyboxConfig([]).linux, ...(value === undefined ? {} : { rootfsPropagation: value }) } });
    const r = withBundle(config, (bundle) => spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }));
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n${inPlace ? '' : 'nsenter\n'}`);
  });

  // An unbindable / refuses the bind of the rootfs onto itself (EINVAL), under runc too.
  test('rootfsPropagation runbindable: sealed in place, and the run fails at prepare-root as runc\'s does', () => {
    standIn(0);
    nsenterStandIn();
    const config = busyboxConfig(['echo', 'ran'], { linux: { ...busyboxConfig([]).linux, rootfsPropagation: 'runbindable' } });
    const r = withBundle(config, (bundle) => spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }));
    expect({ status: r.status, stdout: r.stdout }).toEqual({ status: 1, stdout: '' });
    expect(r.stderr).toMatch(/^mountkit: prepare-root: plugin prepare-root: mount "[^"]+\/rootfs" -> "[^"]+\/rootfs": EINVAL\n$/);
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n`);
  });

  test.each<[string, Record<string, unknown>]>([
    ['a \\u escape anywhere in config.json (which could write the key)', { annotations: { note: 'bell \u0007' } }],
    ['the key found twice (an annotation of that name too)', { annotations: { rootfsPropagation: 'rslave' } }],
  ])('%s: sealed in a throwaway namespace, as for a value it does not know', (_what, over) => {
    standIn(0);
    nsenterStandIn();
    const config = busyboxConfig(['echo', 'ran'], { ...over, linux: { ...busyboxConfig([]).linux, rootfsPropagation: 'rslave' } });
    const r = withBundle(config, (bundle) => spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }));
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\nnsenter\n`);
  });

  // Without a pid namespace the launcher's own process becomes Node: nsenter(1) goes back
  // by the root, working directory and namespace it held on descriptors. Here the
  // working directory, the bundle, is a bind (made in a private namespace of the
  // test's) of a directory hidden since under a tmpfs: a working directory opened again
  // by its path in the throwaway namespace is the copy of that bind there, whose path
  // (getcwd(2), once its namespace is gone) is the hidden directory's.
  test('no pid namespace: the launcher\'s own process binds it read-only, once, and Node runs in the working directory it was started in', () => {
    standIn(0);
    const config = busyboxConfig(['echo', 'ran'], { linux: { namespaces: [{ type: 'mount' }] } });
    const view = path.join(dir, 'view');
    mkdirSync(view);
    const script = '"$1" --bind . "$2" && "$1" -t tmpfs tmpfs . && cd "$2" && shift 2 && exec "$@"';
    const r = withBundle(config, (bundle) =>
      spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', MOUNT, view, LAUNCHER, 'run'], { cwd: bundle, env, encoding: 'utf8', timeout: 20_000 }),
    );
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n`);
  });

  // Started under chroot(2): the root nsenter(1) goes back to is the one the launcher held
  // on descriptor 5, not its namespace's. In a private namespace of the test's, / is bound
  // (recursively) onto a directory and a tmpfs mounted on the bind's view of another,
  // `hid`, which holds a copy of the bundle: the launcher, chrooted there, is given the
  // bundle by its absolute path, which outside that root leads to `hid` itself, empty.
  test("no pid namespace, the launcher started under chroot(2): Node runs in the root it was started in", () => {
    standIn(0);
    const config = busyboxConfig(['echo', 'ran'], { linux: { namespaces: [{ type: 'mount' }] } });
    const root = path.join(dir, 'root');
    const hid = path.join(dir, 'hid');
    mkdirSync(root);
    mkdirSync(hid);
    const script = '"$1" --rbind / "$2" && "$1" -t tmpfs tmpfs "$2$3" && cp -a "$4" "$2$3/b" && exec chroot "$2" "$5" run --bundle "$3/b"';
    const r = withBundle(config, (bundle) =>
      spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', MOUNT, root, hid, bundle, LAUNCHER], { env, encoding: 'utf8', timeout: 20_000 }),
    );
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n`);
  });

  // Root's maps taking 0 to 0: the launcher's unshare(1) makes the user namespace, and the
  // seal is made in it (its mount namespaces are that namespace's), once the maps are written.
  test('a user namespace the launcher makes with maps taking host ids 0 to 65535: node is sealed there, once, and the run goes on', () => {
    standIn(0);
    const maps = [{ containerID: 0, hostID: 0, size: 65536 }];
    const config = busyboxConfig(['echo', 'ran'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    const r = withBundle(config, (bundle) => spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }));
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n`);
  });

  // A mount copied into a user namespace's mount namespace keeps its nosuid, nodev and
  // atime flags locked: a remount of the bind that would clear nosuid or nodev is EPERM,
  // which -o asks for them too avoids; a remount that names no atime flag keeps the
  // mount's (fs/namespace.c), locked or not. Here node's directory is a bind with the
  // row's flags, made in a private namespace of the test's.
  test.each([
    ['nosuid,nodev'],
    ['noatime,nodiratime'],
    ['strictatime'],
  ])("a user namespace the launcher makes (maps taking 0 to 0), node's mount %s (locked there): the bind is made read-only, and the run goes on", (flags) => {
    standIn(0);
    const maps = [{ containerID: 0, hostID: 0, size: 65536 }];
    const config = busyboxConfig(['echo', 'ran'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    const script = '"$1" --bind "$2" "$2" && "$1" -o "remount,bind,$3" "$2" && shift 3 && exec "$@"';
    const r = withBundle(config, (bundle) =>
      spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', script, 'sh', MOUNT, path.dirname(NODE), flags, LAUNCHER, 'run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }),
    );
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\nend 0\n`);
  });

  // Started as /proc/self/fd/7, a wrapper that tells what to run by its name (snap's,
  // volta's, mise's: links to a program of another name) or a script's $0 would read "7".
  test.each([
    ['a link to a file of another name (as snap, volta and mise make node)', 'link'],
    ['a script (as nodenv and asdf make node)', 'script'],
  ])('node in PATH that is %s: nothing is sealed, and the run goes on', (_what, kind) => {
    standIn(0);
    const own = path.join(dir, 'own');
    mkdirSync(own);
    if (kind === 'link') {
      copyFileSync(NODE, path.join(own, 'node-shim'));
      chmodSync(path.join(own, 'node-shim'), 0o755);
      symlinkSync(path.join(own, 'node-shim'), path.join(own, 'node'));
    } else {
      writeFileSync(path.join(own, 'node'), `#!/bin/sh\nexec ${NODE} "$@"\n`, { mode: 0o755 });
    }
    const r = withBundle(busyboxConfig(['echo', 'ran']), (bundle) =>
      spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env: { ...env, PATH: `${own}:${env.PATH}` }, encoding: 'utf8', timeout: 20_000 }),
    );
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe('');
  });

  // busybox's mount makes a bind of one mount(2), whose MS_RDONLY the kernel does not take.
  // Sealed in place, umount(8) beside mount(8) takes that bind off again at once.
  test('a mount(8) whose bind comes out writable: Node is started by name and re-executes itself', () => {
    writeFileSync(path.join(dir, 'bin', 'mount'), `#!/bin/sh\necho "start $*" >>"$SEAL_LOG"\nexec ${MOUNT} -n --bind -- "$6" "$7"\n`, { mode: 0o755 });
    const umount = spawnSync('sh', ['-c', 'command -v umount'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(path.join(dir, 'bin', 'umount'), `#!/bin/sh\necho "umount $*" >>"$SEAL_LOG"\nexec ${umount} "$@"\n`, { mode: 0o755 });
    const r = withBundle(busyboxConfig(['echo', 'ran']), (bundle) => spawnSync(LAUNCHER, ['run', '--bundle', bundle], { env, encoding: 'utf8', timeout: 20_000 }));
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe(`start -n --bind -o ro,nosuid,nodev -- ${NODE} ${NODE}\numount -n -l -- ${NODE}\n`);
  });

  test('node on a read-only mount already (a private namespace of this test\'s): nothing is sealed', () => {
    standIn(0);
    const r = withBundle(busyboxConfig(['echo', 'ran']), (bundle) =>
      spawnSync('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', `${MOUNT} --bind -o ro -- "$1" "$1" && shift && exec "$@"`, 'sh', NODE, LAUNCHER, 'run', '--bundle', bundle], {
        env,
        encoding: 'utf8',
        timeout: 20_000,
      }),
    );
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
    expect(logged()).toBe('');
  });

  // The process that seals node's file is the job's child, holding the launcher's pipe
  // until Node execs the program: the watch kills it, and its namespace with it.
  test.each(LAUNCHER_SHELLS)('under %s, the launcher killed while node is sealed: the container never starts', async (_sh, shell) => {
    standIn(2);
    const started = await withBundleAsync(busyboxConfig(['sh', '-c', 'echo started >/started']), async (bundle) => {
      const launcher = spawn(shell[0], [...shell.slice(1), LAUNCHER, 'run', '--bundle', bundle], { env, stdio: 'ignore' });
      await until(() => logged().startsWith('start'));
      launcher.kill('SIGKILL');
      // Past the stand-in's sleep, and long enough for a run that went on to start the container (about 0.1 s).
      await sleep(3500);
      return existsSync(path.join(bundle, 'rootfs', 'started'));
    });
    expect(started).toBe(false);
    expect(logged()).not.toMatch(/end/);
  });

  // forward() waits for the job's child to exec the program: the sealing process is that child from its fork.
  test.each(LAUNCHER_SHELLS)('under %s, a signal that comes while node is sealed reaches the container once it has started', async (_sh, shell) => {
    standIn(0.5);
    const program = 'trap "echo got; exit 7" USR1; i=0; while [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done; exit 0';
    const r = await withBundleAsync(busyboxConfig(['sh', '-c', program]), async (bundle) => {
      const launcher = spawn(shell[0], [...shell.slice(1), LAUNCHER, 'run', '--bundle', bundle], { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      launcher.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
      launcher.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      const status = new Promise<number | null>((resolve) => launcher.on('close', (code) => resolve(code)));
      await until(() => logged().startsWith('start'));
      launcher.kill('SIGUSR1');
      return { status: await status, stdout, stderr };
    });
    expect(r).toEqual({ status: 7, stdout: 'got\n', stderr: '' });
    expect(logged()).toMatch(/end 0\n$/);
  });
});
