/**
 * NOTIFY_SOCKET (sd_notify(3)), as a systemd unit of Type=notify gives it: `mountkit run`
 * binds a socket of its own into the container at /run/notify/notify.sock, read-only, names
 * it in the program's NOTIFY_SOCKET, and passes the program's READY=1 on to the caller's
 * socket, then MAINPID with its own pid, from its own pid (what systemd checks), as
 * `runc run` does with the same bundle. The socket's directory is gone after the run.
 */
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, ROOTLESS_ID, SUBORDINATE_IDS, busyboxConfig, hostUsrLinks, removeRootlessInstall, rootlessLauncher, withBundleAsync, withHostUsr, withSubordinateIds } from '../conformance/harness';
import { BIN, LAUNCHER } from '../helpers/cli';
import { AT_EMPTY_PATH, O_CLOEXEC, OPEN_TREE_CLONE } from '../../src/core/constants';
import { aclWithUser } from '../../src/core/posix-acl';
import { RELAUNCH_FIRST_JOIN_FD } from '../../src/core/namespaces';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0 && spawnSync('python3', ['-c', '']).status === 0;
if (process.env.CI === 'true' && !available) throw new Error('notify tests need root, busybox-static and python3 (installed by .ci/run)');
const maybe = available ? describe : describe.skip;
const runcThere = spawnSync('runc', ['--version']).status === 0;

const RECEIVER = path.join(__dirname, '..', 'helpers', 'notify-receiver.py');
const REFUSING = path.join(__dirname, '..', 'helpers', 'refusing-syscalls.js');
/** newuidmap(1) and newgidmap(1) (the uidmap package, which .ci/run installs), for rootless maps of subordinate ids. */
const withUidmap = spawnSync('sh', ['-c', 'command -v newuidmap && command -v newgidmap'], { stdio: 'ignore' }).status === 0 ? test : test.skip;

/**
 * The program: python3 from the host's /usr (bound read-only) says what it was given
 * (NOTIFY_SOCKET, and /run/notify's line of its mountinfo: its root and options), then
 * sends its datagrams (`sends`) to NOTIFY_SOCKET, a moment apart, where it names one, and
 * ends with `status`.
 */
function program(sends: string[], status = 0): string[] {
  const script = `
import os, socket, time
where = os.environ.get("NOTIFY_SOCKET")
print("NOTIFY_SOCKET", where)
for line in open("/proc/self/mountinfo"):
    f = line.split()
    if f[4] == "/run/notify":
        print("mount", f[3], f[5])
if where:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    for d in ${JSON.stringify(sends)}:
        s.sendto(d.encode(), where)
        time.sleep(0.05)
raise SystemExit(${status})
`;
  return ['/usr/bin/python3', '-c', script];
}

/** A busybox bundle running program(sends, status), with the host's /usr read-only for python3. */
function notifyConfig(sends: string[], over: Record<string, unknown> = {}, status = 0): Record<string, any> {
  return withHostUsr(busyboxConfig(program(sends, status), over));
}

interface Datagram {
  data: string;
  pid: number | null;
}

/** The receiver on `socket`, once it listens: its datagrams so far, and its end. */
function listen(socket: string): Promise<{ receiver: ChildProcess; datagrams: () => Datagram[] }> {
  const receiver = spawn('python3', [RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  return new Promise((resolve, reject) => {
    receiver.on('error', reject);
    receiver.on('exit', (status) => reject(new Error(`notify-receiver.py ended (${status}) before listening`)));
    receiver.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.startsWith('listening\n')) {
        receiver.removeAllListeners('exit');
        resolve({ receiver, datagrams: () => out.split('\n').slice(1, -1).map((line) => JSON.parse(line) as Datagram) });
      }
    });
  });
}

/**
 * What the receiver at `socket` printed before a datagram of the test's own, sent after
 * the run has ended (datagrams to one socket are received in the order sent), waited for
 * up to 10 s.
 */
async function collect(socket: string, datagrams: () => Datagram[]): Promise<Datagram[]> {
  const end = `END ${process.pid}`;
  const sent = spawnSync('python3', ['-c', 'import socket, sys\np = sys.argv[1]\nsocket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(sys.argv[2].encode(), "\\0" + p[1:] if p.startswith("@") else p)', socket, end], { encoding: 'utf8' });
  if (sent.status !== 0) throw new Error(`the test's own datagram was not sent: ${sent.stderr}`);
  for (let waited = 0; !datagrams().some((d) => d.data === end) && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  const all = datagrams();
  const at = all.findIndex((d) => d.data === end);
  if (at < 0) throw new Error("the test's own datagram did not come");
  return all.slice(0, at);
}

interface NotifyRun {
  status: number | null;
  pid: number;
  stdout: string;
  stderr: string;
  datagrams: Datagram[];
  /** What the run left in its TMPDIR. */
  left: string[];
}

/**
 * `command` run with the bundle of `config`, NOTIFY_SOCKET set to `host` (none where
 * undefined) and a TMPDIR of its own (1777, which a rootless run may write); a receiver
 * listening at `host`'s path (`listenAt`, by default `host` itself) unless `listenAt` is
 * null. Asynchronous, so that the receiver's output is read meanwhile; killed after 20 s.
 * `during` is given the run's pid, the receiver's datagrams so far, the bundle and the
 * run's TMPDIR when the run's output first holds a line `sent`, and is waited for.
 */
async function notifyRun(config: object, command: (dir: string) => string[], host: string | undefined, listenAt: string | null = host ?? null, prepare?: (dir: string) => void, during?: (pid: number, datagrams: () => Datagram[], dir: string, tmp: string) => Promise<void>): Promise<NotifyRun> {
  const work = mkdtempSync(path.join(tmpdir(), 'mountkit-notify-test-'));
  const tmp = path.join(work, 'tmp');
  mkdirSync(tmp);
  chmodSync(work, 0o755);
  chmodSync(tmp, 0o1777);
  const at = (p: string): string => (p.startsWith('@') ? p : path.join(work, p));
  const listening = listenAt === null ? undefined : await listen(at(listenAt));
  try {
    return await withBundleAsync(config, async (dir) => {
      hostUsrLinks(path.join(dir, 'rootfs'));
      chmodSync(dir, 0o755);
      prepare?.(dir);
      const [file, ...args] = command(dir);
      const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmp };
      delete env.NOTIFY_SOCKET;
      if (host !== undefined) env.NOTIFY_SOCKET = at(host);
      const child = spawn(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let waited: Promise<void> | undefined;
      child.stdout!.on('data', (c: Buffer) => {
        const before = stdout;
        stdout += c.toString();
        if (during && listening && !/^sent$/m.test(before) && /^sent$/m.test(stdout)) waited = during(child.pid!, listening.datagrams, dir, tmp);
      });
      child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      clearTimeout(timer);
      await waited;
      const datagrams = listening ? await collect(at(listenAt!), listening.datagrams) : [];
      return { status, pid: child.pid!, stdout, stderr, datagrams, left: readdirSync(tmp) };
    });
  } finally {
    listening?.receiver.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
}

/** The program that sends READY=1, prints `sent` (notifyRun's `during` then runs) and waits for /go, which `during` makes. */
const READY_THEN_GO = [
  '/usr/bin/python3',
  '-c',
  `
import os, socket, time
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
print("sent", flush=True)
for _ in range(1000):
    if os.path.exists("/go"):
        break
    time.sleep(0.02)
`,
];
const WITH_PID = [{ type: 'pid' }, { type: 'mount' }];
const NO_PID = [{ type: 'mount' }];
/** /run/notify's line of the program's mountinfo as it prints it: the run's directory (under TMPDIR), read-only, nosuid, nodev, noexec. */
const MOUNT_LINE = /^mount \/[^ ]*\/mountkit-notify-[0-9a-f]{12}\/notify ro,nosuid,nodev,noexec,relatime$/m;

maybe("NOTIFY_SOCKET: the program's READY=1 reaches the caller's socket, then MAINPID", () => {
  afterAll(removeRootlessInstall);

  test.each([
    ['bin/mountkit, a pid namespace', LAUNCHER, WITH_PID],
    ['bin/mountkit, no pid namespace', LAUNCHER, NO_PID],
    ['the Node entry, a pid namespace', BIN, WITH_PID],
  ])('%s: the first READY= line of a datagram, then MAINPID, both from the pid the caller started; a STATUS= before and a READY= after are not passed on', async (_name, entry, namespaces) => {
    const config = notifyConfig(['STATUS=starting', 'STATUS=up\nREADY=1', 'READY=1'], { linux: { namespaces } });
    const cmd = entry === BIN ? (dir: string) => [process.execPath, BIN, 'run', '--bundle', dir] : (dir: string) => [LAUNCHER, 'run', '--bundle', dir];
    const r = await notifyRun(config, cmd, 'host.sock');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.datagrams).toEqual([
      { data: 'READY=1\n', pid: r.pid },
      { data: `MAINPID=${r.pid}\n`, pid: r.pid },
    ]);
    expect(r.stdout).toMatch(/^NOTIFY_SOCKET \/run\/notify\/notify\.sock$/m);
    expect(r.stdout).toMatch(MOUNT_LINE);
    expect(r.left).toEqual([]);
  });

  test('an abstract socket (@name) is sent to by name', async () => {
    const r = await notifyRun(notifyConfig(['READY=1']), (dir) => [LAUNCHER, 'run', '--bundle', dir], `@mountkit-notify-test-${process.pid}`);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
  });

  test("without NOTIFY_SOCKET the program gets none, and no /run/notify", async () => {
    const config = notifyConfig(['READY=1']);
    config.process.env.push('NOTIFY_SOCKET=');
    const r = await notifyRun(config, (dir) => [LAUNCHER, 'run', '--bundle', dir], undefined, null);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe('NOTIFY_SOCKET \n');
  });

  test("process.env's own NOTIFY_SOCKET gives way to the run's socket", async () => {
    const config = notifyConfig(['READY=1']);
    config.process.env.push('NOTIFY_SOCKET=/elsewhere');
    const r = await notifyRun(config, (dir) => [LAUNCHER, 'run', '--bundle', dir], 'host.sock');
    expect(r.stdout).toMatch(/^NOTIFY_SOCKET \/run\/notify\/notify\.sock$/m);
    expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
  });

  test('a program that ends without READY=: nothing is passed on, and the directory is gone', async () => {
    const r = await notifyRun(notifyConfig(['STATUS=starting']), (dir) => [LAUNCHER, 'run', '--bundle', dir], 'host.sock');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.datagrams).toEqual([]);
    expect(r.left).toEqual([]);
  });

  test("a caller's socket that refuses: one warning naming it, and the run goes on with the program's status", async () => {
    const config = notifyConfig(['READY=1'], {}, 3);
    const r = await notifyRun(config, (dir) => [LAUNCHER, 'run', '--bundle', dir], 'missing/host.sock', null);
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/^mountkit warn: NOTIFY_SOCKET: sendto "\/[^"]*\/missing\/host\.sock": ENOENT\n$/);
    expect(r.left).toEqual([]);
  });

  test('a run that cannot make its socket (TMPDIR missing) ends before the container, naming the call, errno and path', async () => {
    const r = await notifyRun(notifyConfig(['READY=1']), (dir) => ['env', 'TMPDIR=/nonexistent-mountkit-tmp', LAUNCHER, 'run', '--bundle', dir], 'host.sock');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^mountkit: mkdir "\/nonexistent-mountkit-tmp\/mountkit-notify-[0-9a-f]{12}": ENOENT\n$/);
    expect(r.stdout).toBe('');
    expect(r.datagrams).toEqual([]);
  });

  test("mountkit plan lists what the run does with it and makes none of it: the socket made before the relaunch, the bind at /run/notify, the program's NOTIFY_SOCKET, the removal at the end", async () => {
    const r = await notifyRun(notifyConfig(['READY=1'], { linux: { namespaces: NO_PID } }), (dir) => [LAUNCHER, 'plan', '--bundle', dir, '--format', 'json'], 'host.sock', null);
    expect([r.status, r.stderr]).toEqual([0, '']);
    type Call = { phase: string; plugin: string; op: string; args: Record<string, unknown>; result?: unknown; destination?: string; errno?: string };
    const calls = (JSON.parse(r.stdout) as { calls: Call[] }).calls;
    const relay = calls.filter((c) => c.plugin === 'notify-socket');
    const parent = String(relay[0]?.args.path);
    expect(parent).toMatch(/^\/[^ ]*\/tmp\/mountkit-notify-[0-9a-f]{12}$/);
    const [dir, socket] = [`${parent}/notify`, `${parent}/notify/notify.sock`];
    expect(relay.map((c) => [c.phase, c.op, c.args.path, c.errno])).toEqual([
      ['namespaces', 'mkdir', parent, undefined],
      ['namespaces', 'open', parent, undefined],
      ['namespaces', 'mkdir', dir, undefined],
      ['namespaces', 'open', dir, undefined],
      ['namespaces', 'chmod', dir, undefined],
      ['namespaces', 'bindUnixDatagram', socket, undefined],
      ['namespaces', 'chmod', socket, undefined],
      ['namespaces', 'chmod', parent, undefined],
      ['poststop', 'close', undefined, undefined],
      ['poststop', 'unlinkat', 'notify.sock', undefined],
      ['poststop', 'unlinkat', 'notify', undefined],
      ['poststop', 'rmdir', parent, undefined],
      ['poststop', 'close', undefined, undefined],
      ['poststop', 'close', undefined, undefined],
    ]);
    // The removal through the two directories held open since their mkdir.
    const [parentFd, dirFd] = [relay[1].result, relay[3].result];
    expect([relay[9].args.dirfd, relay[10].args.dirfd, relay[12].args.fd, relay[13].args.fd]).toEqual([dirFd, parentFd, dirFd, parentFd]);
    // A mount namespace alone, relaunched: the first process stays outside to read the socket.
    expect(calls.findIndex((c) => c.op === 'relaunch')).toBe(calls.indexOf(relay[7]) + 1);
    const bind = calls.filter((c) => c.plugin === 'bind' && c.destination === '/run/notify');
    expect(bind.some((c) => c.args.path === dir || c.args.source === dir)).toBe(true);
    expect(bind.filter((c) => c.errno !== undefined && c.errno !== 'ENOENT')).toEqual([]);
    const execve = calls.find((c) => c.op === 'execve');
    expect(execve?.args.envp).toContain('NOTIFY_SOCKET=/run/notify/notify.sock');
    expect(calls.indexOf(relay[8])).toBeGreaterThan(calls.indexOf(execve!));
    expect(r.left).toEqual([]);
  });

  test("rootless (runc spec --rootless's maps): the container's root sends through the run's socket, which the user made", async () => {
    const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
    const config = notifyConfig(['READY=1'], { linux: { namespaces: [...WITH_PID, { type: 'user' }], uidMappings: own, gidMappings: own } });
    const launcher = rootlessLauncher();
    const r = await notifyRun(config, (dir) => ['setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', launcher, 'run', '--bundle', dir], 'host.sock', undefined, (dir) => void spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
    expect(r.left).toEqual([]);
  });

  withUidmap("rootless with subordinate ids, the container's root host uid 100000 (not the user): the run's directory is the user's, 0700 with an ACL entry letting 100000 alone search it (0710 as ls shows it); another user may not pass", async () => {
    const maps = [{ containerID: 0, hostID: SUBORDINATE_IDS.first, size: SUBORDINATE_IDS.count }];
    const config = notifyConfig([], { linux: { namespaces: [...WITH_PID, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    config.process.args = READY_THEN_GO;
    const launcher = rootlessLauncher();
    // newuidmap(1) reads /etc/subuid: an overlay adds it in a mount namespace of the run's own, the host's /etc left as it is.
    const layers = mkdtempSync(path.join(tmpdir(), 'mountkit-notify-subids-'));
    let seen: { mode: number; acl: string; other: number | null } | undefined;
    try {
      const r = await notifyRun(
        config,
        (dir) => withSubordinateIds(layers, ['setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', launcher, 'run', '--bundle', dir]),
        'host.sock',
        undefined,
        (dir) => {
          mkdirSync(path.join(dir, 'rootfs', 'run', 'notify'), { recursive: true });
          spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        },
        async (_pid, _datagrams, dir, tmp) => {
          const parent = path.join(tmp, readdirSync(tmp)[0]);
          const acl = spawnSync('python3', ['-c', 'import os, sys; print(os.getxattr(sys.argv[1], "system.posix_acl_access").hex())', parent], { encoding: 'utf8' }).stdout.trim();
          const other = spawnSync('setpriv', ['--reuid=4242', '--regid=4242', '--clear-groups', 'stat', path.join(parent, 'notify')], { stdio: 'ignore' }).status;
          seen = { mode: statSync(parent).mode & 0o7777, acl, other };
          writeFileSync(path.join(dir, 'rootfs', 'go'), '');
        },
      );
      expect([r.status, r.stderr, r.stdout]).toEqual([0, '', 'sent\n']);
      expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
      expect(seen).toEqual({ mode: 0o710, acl: Buffer.from(aclWithUser(0o700, SUBORDINATE_IDS.first, 1)).toString('hex'), other: 1 });
      expect(r.left).toEqual([]);
    } finally {
      rmSync(layers, { recursive: true, force: true });
    }
  });

  test("root with a user namespace whose root is host uid 100000, and a TMPDIR inside a directory only root may search (0700): the relaunch attaches the copy of the socket's directory the first process made, and looks up no path to it", async () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const config = notifyConfig(['READY=1'], { linux: { namespaces: [...WITH_PID, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    const closed = mkdtempSync(path.join(tmpdir(), 'mountkit-notify-closed-'));
    try {
      const tmp = path.join(closed, 'tmp');
      mkdirSync(tmp);
      chmodSync(closed, 0o700);
      // The rootfs is root's, whom the namespace does not map: the mountpoint is made beforehand.
      const r = await notifyRun(config, (dir) => ['env', `TMPDIR=${tmp}`, LAUNCHER, 'run', '--bundle', dir], 'host.sock', undefined, (dir) => mkdirSync(path.join(dir, 'rootfs', 'run', 'notify'), { recursive: true }));
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
      expect(r.stdout).toMatch(MOUNT_LINE);
      expect(readdirSync(tmp)).toEqual([]);
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });

  test("root with a user namespace, TMPDIR on a shared mount (as systemd makes /; here a tmpfs in a throwaway namespace): the attached copy is a slave, not a peer of it, and the program holds no descriptor of it", async () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const config = notifyConfig([], { linux: { namespaces: [...WITH_PID, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    const script = `
import os, socket
socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])
for line in open("/proc/self/mountinfo"):
    f = line.split()
    if f[4] == "/run/notify":
        print("tags", " ".join(f[6:f.index("-")]))
links = []
for n in os.listdir("/proc/self/fd"):
    try:
        links.append(os.readlink("/proc/self/fd/" + n))
    except OSError:
        pass
print("held", [l for l in links if "mountkit-notify" in l])
`;
    config.process.args = ['/usr/bin/python3', '-c', script];
    const shared = 'mount -t tmpfs -o mode=1777 tmpfs "$TMPDIR" && mount --make-shared "$TMPDIR" && exec "$@"';
    const r = await notifyRun(config, (dir) => ['unshare', '-m', '--propagation', 'unchanged', 'sh', '-c', shared, 'sh', LAUNCHER, 'run', '--bundle', dir], 'host.sock', undefined, (dir) => mkdirSync(path.join(dir, 'rootfs', 'run', 'notify'), { recursive: true }));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toMatch(/^tags master:[0-9]+\nheld \[\]\n$/);
    expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
  });

  test("root with a user namespace where open_tree is refused with EPERM (a seccomp filter's answer): the relaunch binds the socket's directory by path, as before the copy", async () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const config = notifyConfig(['READY=1'], { linux: { namespaces: [...WITH_PID, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    const r = await notifyRun(config, (dir) => [process.execPath, REFUSING, 'open_tree=EPERM', LAUNCHER, 'run', '--bundle', dir], 'host.sock', undefined, (dir) => mkdirSync(path.join(dir, 'rootfs', 'run', 'notify'), { recursive: true }));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
    expect(r.stdout).toMatch(MOUNT_LINE);
    expect(r.left).toEqual([]);
  });

  test("root with a user namespace and a descriptor passed (--preserve-fds 1): the copy's descriptor comes before it in the relaunch, and the program gets the caller's file on 3", async () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const config = notifyConfig([], { linux: { namespaces: [...WITH_PID, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    config.process.args = ['/usr/bin/python3', '-c', 'import os, socket\nsocket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"READY=1", os.environ["NOTIFY_SOCKET"])\nprint(os.read(3, 100).decode())'];
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'mountkit-notify-passed-')), 'passed');
    try {
      writeFileSync(file, 'the caller\'s file');
      const r = await notifyRun(config, (dir) => ['sh', '-c', 'exec 3<"$1"; shift; exec "$@"', 'sh', file, LAUNCHER, 'run', '--preserve-fds', '1', '--bundle', dir], 'host.sock', undefined, (dir) => mkdirSync(path.join(dir, 'rootfs', 'run', 'notify'), { recursive: true }));
      expect([r.status, r.stderr, r.stdout]).toEqual([0, '', "the caller's file\n"]);
      expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
      expect(r.left).toEqual([]);
    } finally {
      rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  test("root joining a user namespace by path (/proc/PID/ns/user) whose root is host uid 100000: the run's directory stays root's (0700), the relaunch attaching the copy of the socket's directory, as where mountkit makes the namespace; maps beside the path that differ refused by plan as by run", async () => {
    // A process holding a user namespace of its own, whose maps this process (root) writes.
    const holder = spawn('unshare', ['-U', 'sleep', '30'], { stdio: 'ignore' });
    try {
      const nsPath = `/proc/${holder.pid}/ns/user`;
      const deadline = Date.now() + 5000;
      while (readlinkSync(nsPath) === readlinkSync('/proc/self/ns/user') || !readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').startsWith('sleep')) {
        if (Date.now() > deadline) throw new Error('the holder did not enter its user namespace');
      }
      writeFileSync(`/proc/${holder.pid}/uid_map`, '0 100000 65536\n');
      writeFileSync(`/proc/${holder.pid}/gid_map`, '0 100000 65536\n');
      const config = notifyConfig([], { linux: { namespaces: [...WITH_PID, { type: 'user', path: nsPath }] } });
      config.process.args = READY_THEN_GO;
      let parent: { mode: number; uid: number } | undefined;
      const r = await notifyRun(config, (dir) => [LAUNCHER, 'run', '--bundle', dir], 'host.sock', undefined, (dir) => mkdirSync(path.join(dir, 'rootfs', 'run', 'notify'), { recursive: true }), async (_pid, _datagrams, dir, tmp) => {
        const made = statSync(path.join(tmp, readdirSync(tmp)[0]));
        parent = { mode: made.mode & 0o7777, uid: made.uid };
        writeFileSync(path.join(dir, 'rootfs', 'go'), '');
      });
      expect([r.status, r.stderr, r.stdout]).toEqual([0, '', 'sent\n']);
      expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
      expect(parent).toEqual({ mode: 0o700, uid: 0 });
      expect(r.left).toEqual([]);
      // mountkit plan plans the copy as run makes it, and no chown.
      const planned = await notifyRun(config, (dir) => [LAUNCHER, 'plan', '--bundle', dir, '--format', 'json'], 'host.sock', null);
      expect([planned.status, planned.stderr]).toEqual([0, '']);
      const calls = (JSON.parse(planned.stdout) as { calls: { plugin: string; op: string; args: Record<string, unknown>; result?: unknown; destination?: string }[] }).calls;
      const relay = calls.filter((c) => c.plugin === 'notify-socket');
      expect(relay.filter((c) => c.op === 'chown')).toEqual([]);
      const copy = relay.find((c) => c.op === 'openTree');
      expect(copy?.args).toEqual({ dirfd: relay[3].result, path: '', flags: OPEN_TREE_CLONE | AT_EMPTY_PATH | O_CLOEXEC });
      // The relaunch attaches it from the descriptor it is given after the namespaces nsenter joins (none here), and binds nothing by path.
      const bind = calls.filter((c) => c.plugin === 'bind' && c.destination === '/run/notify');
      expect(bind.filter((c) => c.op === 'moveMount').map((c) => c.args.fromDirfd)).toEqual([RELAUNCH_FIRST_JOIN_FD]);
      expect(bind.filter((c) => c.op === 'mount' && c.args.source !== null)).toEqual([]);
      // Maps beside the path that are not the namespace's: refused by plan as by run, before anything is made.
      const wrong = [{ containerID: 0, hostID: 300000, size: 65536 }];
      const differing = { ...config, linux: { ...config.linux, uidMappings: wrong, gidMappings: wrong } };
      for (const command of ['plan', 'run']) {
        const refused = await notifyRun(differing, (dir) => [LAUNCHER, command, '--bundle', dir], 'host.sock', null);
        expect([command, refused.status, refused.stderr, refused.left]).toEqual([command, 2, `mountkit: linux.uidMappings: differ from the maps of the user namespace joined (${nsPath}): "0 100000 65536"\n`, []]);
      }
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test("root with a user namespace whose root is host uid 100000, where the kernel makes no copy (open_tree refused, as before Linux 5.2): the run's directory (0700) is that uid's, which swaps the socket's directory for a symlink during the run; the removal takes the socket from the directory it made and unlinks nothing the symlink leads to", async () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const config = notifyConfig([], { linux: { namespaces: [...WITH_PID, { type: 'user' }], uidMappings: maps, gidMappings: maps } });
    config.process.args = READY_THEN_GO;
    const elsewhere = mkdtempSync(path.join(tmpdir(), 'mountkit-notify-elsewhere-'));
    let swapped: ReturnType<typeof spawnSync> | undefined;
    let parent = '';
    let owner: number | undefined;
    try {
      writeFileSync(path.join(elsewhere, 'notify.sock'), 'kept');
      const r = await notifyRun(config, (dir) => [process.execPath, REFUSING, 'open_tree=ENOSYS', LAUNCHER, 'run', '--bundle', dir], 'host.sock', undefined, (dir) => mkdirSync(path.join(dir, 'rootfs', 'run', 'notify'), { recursive: true }), async (_pid, _datagrams, dir, tmp) => {
        parent = path.join(tmp, readdirSync(tmp)[0]);
        owner = statSync(parent).uid;
        // As the run's directory's owner: rename(2) of `notify` in it, then a symlink in its place.
        swapped = spawnSync('setpriv', ['--reuid=100000', '--regid=100000', '--clear-groups', 'sh', '-c', 'mv notify moved && ln -s "$1" notify', 'sh', elsewhere], { cwd: parent, encoding: 'utf8' });
        writeFileSync(path.join(dir, 'rootfs', 'go'), '');
      });
      expect([owner, swapped?.status, swapped?.stderr]).toEqual([100000, 0, '']);
      expect([r.status, r.stdout]).toEqual([0, 'sent\n']);
      expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
      expect(readFileSync(path.join(elsewhere, 'notify.sock'), 'utf8')).toBe('kept');
      // The socket went from the directory the run made, now `moved` (no warning for it); the symlink and that directory stay, each removal that failed a warning.
      expect(r.left).toEqual([path.basename(parent)]);
      expect(r.stderr).toBe(`mountkit warn: NOTIFY_SOCKET: the run's socket: unlinkat "notify": ENOTDIR\nmountkit warn: NOTIFY_SOCKET: the run's socket: rmdir "${parent}": ENOTEMPTY\n`);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test("what the program sends after READY= is taken off the socket: 30 datagrams more than the kernel's queue of 10 go through, and none is passed on", async () => {
    const r = await notifyRun(notifyConfig(['READY=1', ...Array.from({ length: 30 }, (_, i) => `STATUS=${i}`)]), (dir) => [LAUNCHER, 'run', '--bundle', dir], 'host.sock');
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
  });

  test('descriptors a datagram passes (FDSTORE=1, two of them) are not kept open by the first process', async () => {
    const script = `
import os, socket, time
a = os.open("/marker-a", os.O_RDONLY | os.O_CREAT)
b = os.open("/marker-b", os.O_RDONLY | os.O_CREAT)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.connect(os.environ["NOTIFY_SOCKET"])
socket.send_fds(s, [b"FDSTORE=1"], [a, b])
s.send(b"READY=1")
print("sent", flush=True)
for _ in range(1000):
    if os.path.exists("/go"):
        break
    time.sleep(0.02)
`;
    const config = notifyConfig([]);
    config.process.args = ['/usr/bin/python3', '-c', script];
    let held: string[] | undefined;
    // READY= passed on: the datagram before it has been read, and its descriptors dealt with.
    const r = await notifyRun(config, (dir) => [LAUNCHER, 'run', '--bundle', dir], 'host.sock', undefined, undefined, async (pid, datagrams, dir) => {
      for (let waited = 0; !datagrams().some((d) => d.data === 'READY=1\n') && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
      const fds = `/proc/${pid}/fd`;
      held = readdirSync(fds).flatMap((fd) => {
        try {
          return [readlinkSync(`${fds}/${fd}`)];
        } catch {
          return [];
        }
      });
      writeFileSync(path.join(dir, 'rootfs', 'go'), '');
    });
    expect([r.status, r.stderr, r.stdout]).toEqual([0, '', 'sent\n']);
    expect(r.datagrams.map((d) => d.data)).toEqual(['READY=1\n', `MAINPID=${r.pid}\n`]);
    expect(held).toBeDefined();
    expect(held!.filter((link) => link.includes('marker'))).toEqual([]);
  });

  (runcThere ? test : test.skip)('runc run, with the same bundle and program: the same datagrams, the same NOTIFY_SOCKET and the same mount options', async () => {
    const config = notifyConfig(['STATUS=starting', 'READY=1']);
    const id = `mountkit-notify-${process.pid}`;
    const runc = await notifyRun(config, (dir) => ['runc', 'run', '--bundle', dir, id], 'host.sock');
    const ours = await notifyRun(config, (dir) => [LAUNCHER, 'run', '--bundle', dir], 'host.sock');
    const shown = (r: NotifyRun): string[] => [r.stdout.replace(/^mount \S+ /m, 'mount DIR '), ...r.datagrams.map((d) => d.data.replace(String(r.pid), 'PID'))];
    expect([runc.status, ours.status]).toEqual([0, 0]);
    expect(shown(ours)).toEqual(shown(runc));
    expect(shown(ours)).toEqual(['NOTIFY_SOCKET /run/notify/notify.sock\nmount DIR ro,nosuid,nodev,noexec,relatime\n', 'READY=1\n', 'MAINPID=PID\n']);
  });
});
