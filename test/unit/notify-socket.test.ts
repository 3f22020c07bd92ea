import { NOTIFY_DRAIN_MS, NOTIFY_POLL_MAX, NOTIFY_POLL_MS, NotifyRelay, notifyParentAccess, openRunRelay, readyLine, withNotifySocket } from '../../src/core/notify-socket';
import { AT_EMPTY_PATH, MOVE_MOUNT_F_EMPTY_PATH, MOVE_MOUNT_T_EMPTY_PATH, MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_SLAVE, O_CLOEXEC, O_DIRECTORY, O_PATH, OPEN_TREE_CLONE } from '../../src/core/constants';
import { tmpdir } from 'os';
import * as path from 'path';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { aclWithUser } from '../../src/core/posix-acl';
import { relayRemoval } from '../helpers/notify-removal';
import { makeConfig, makeMount } from '../../src/testing';

const PARENT = '/tmp/mountkit-notify-0123456789ab';
const DIR = `${PARENT}/notify`;
const SOCKET = `${DIR}/notify.sock`;
const HOST = '/run/systemd/notify';
/** How the relay holds its two directories open. */
const HELD = O_PATH | O_DIRECTORY | O_CLOEXEC;

/**
 * A fake with /tmp, umask 077, the caller's socket bound at HOST (its descriptor), and a
 * relay opened in PARENT whose warnings are kept: its socket's descriptor (`fd`) and
 * those of the two directories it holds (`held`: PARENT's, DIR's); calls recorded from
 * the relay's first.
 */
function setUp(host = HOST, access: { mode: number; owner?: number } = { mode: 0o700 }, copy = false): { sys: FakeSyscalls; hostFd: number; relay: NotifyRelay; fd: number; held: [number, number]; warnings: string[] } {
  const sys = new FakeSyscalls().addDir('/tmp', 0o1777).addDir('/run/systemd');
  const hostFd = sys.bindUnixDatagram(HOST);
  // A caller's umask that would leave the directory and the socket to their owner.
  sys.umask(0o077);
  sys.clearCalls();
  const warnings: string[] = [];
  const opened = jest.spyOn(sys, 'open');
  const bound = jest.spyOn(sys, 'bindUnixDatagram');
  const relay = NotifyRelay.open(sys, PARENT, host, (m) => warnings.push(m), access, copy);
  const held = opened.mock.results.map((r) => r.value as number) as [number, number];
  const fd = bound.mock.results[0].value as number;
  opened.mockRestore();
  bound.mockRestore();
  return { sys, hostFd, relay, fd, held, warnings };
}

/** What open makes before the run's directory's mode: its directories, each held open, and the socket, with their modes. */
const MADE = [
  { op: 'mkdir', path: PARENT, mode: 0o700 },
  { op: 'open', path: PARENT, flags: HELD, mode: 0 },
  { op: 'mkdir', path: DIR, mode: 0o755 },
  { op: 'open', path: DIR, flags: HELD, mode: 0 },
  { op: 'chmod', path: DIR, mode: 0o755 },
  { op: 'bindUnixDatagram', path: SOCKET },
  { op: 'chmod', path: SOCKET, mode: 0o777 },
];

/** The calls that remove the relay's socket and directories in PARENT, after its socket's close (`held`: PARENT's descriptor, DIR's). */
const removal = (held: readonly number[]): object[] => relayRemoval(PARENT, held);

/** Every datagram waiting on `fd`. */
function received(sys: FakeSyscalls, fd: number): string[] {
  const out: string[] = [];
  for (;;) {
    try {
      out.push(sys.recvFdMessage(fd).data);
    } catch {
      return out;
    }
  }
}

describe('readyLine', () => {
  test.each([
    ['READY=1', 'READY=1'],
    ['READY=1\n', 'READY=1'],
    ['STATUS=up\nREADY=1\nMAINPID=7', 'READY=1'],
    ['READY=1\nSTATUS=up', 'READY=1'],
    ['STATUS=starting', undefined],
    ['', undefined],
    [' READY=1', undefined],
    ['XREADY=1', undefined],
    ['RELOADING=1\nSTOPPING=1', undefined],
  ])('readyLine(%j) = %j: the first line that begins with READY=', (datagram, expected) => {
    expect(readyLine(datagram)).toBe(expected);
  });
});

describe('notifyParentAccess', () => {
  test.each([
    [0, 0, { mode: 0o700 }],
    [1000, 1000, { mode: 0o700 }],
    [0, 100000, { mode: 0o700, owner: 100000 }],
    [1000, 100000, { mode: 0o700, searcher: 100000 }],
    [0, undefined, { mode: 0o711 }],
    [1000, undefined, { mode: 0o711 }],
  ])("euid %s, the relaunch binding as host uid %s: %j (only the relaunch searches it where it can be made so)", (euid, relaunchUid, expected) => {
    expect(notifyParentAccess(euid, relaunchUid)).toEqual(expected);
  });
});

describe('openRunRelay', () => {
  const maps = (hostID: number) => ({ uid: [{ containerID: 0, hostID, size: 65536 }], gid: [{ containerID: 0, hostID, size: 65536 }] });
  // Node's os.tmpdir(), made absolute, as the relay takes it.
  const tmp = path.resolve(tmpdir());

  const joinedAt = { userNamespacePath: '/run/userns/c1' };
  const makes = { userMappings: maps(100000) };
  // Where the kernel makes the copy (open_tree answers), root keeps the run's directory, whatever the maps.
  test.each([
    ['root, no user namespace: no copy', 0, {}, undefined, undefined, 0o700, 0, false, undefined],
    ['root making a user namespace whose root is host uid 100000', 0, makes, undefined, undefined, 0o700, 0, true, undefined],
    ['root joining a user namespace by a path whose maps are unknown', 0, joinedAt, undefined, undefined, 0o700, 0, true, undefined],
    ['root joining one whose uid maps take 0 to host uid 200000', 0, joinedAt, maps(200000).uid, undefined, 0o700, 0, true, undefined],
    ['root making one, before Linux 5.2 (open_tree: ENOSYS)', 0, makes, undefined, 'ENOSYS', 0o700, 100000, false, undefined],
    ['root making one, open_tree refused by a seccomp filter (EPERM)', 0, makes, undefined, 'EPERM', 0o700, 100000, false, undefined],
    ['root joining one by a path whose maps are unknown, no copy', 0, joinedAt, undefined, 'ENOSYS', 0o711, 0, false, undefined],
    ['root joining one whose uid maps (read from /proc/PID) take 0 to host uid 200000, no copy', 0, joinedAt, maps(200000).uid, 'ENOSYS', 0o700, 200000, false, undefined],
    ['root joining one whose uid maps take 0 to 0, no copy', 0, joinedAt, [{ containerID: 0, hostID: 0, size: 1 }], 'ENOSYS', 0o700, 0, false, undefined],
    ['root joining one whose uid maps map no root, no copy', 0, joinedAt, [{ containerID: 1, hostID: 200000, size: 10 }], 'ENOSYS', 0o711, 0, false, undefined],
    ['a rootless user whose container root is itself: no copy', 1000, { userMappings: maps(1000) }, undefined, undefined, 0o700, 1000, false, undefined],
    ['a rootless user whose container root is another host uid: no copy, an ACL entry lets that uid search it', 1000, { userMappings: maps(200000) }, undefined, undefined, 0o700, 1000, false, 200000],
    ['a rootless user joining one whose uid maps take 0 to itself: no copy', 1000, joinedAt, [{ containerID: 0, hostID: 1000, size: 1 }], undefined, 0o700, 1000, false, undefined],
  ])("%s: the run's directory under os.tmpdir(), of the mode and owner notifyParentAccess gives without a copy", (_, euid, plan, joined, refused, mode, owner, copied, searcher) => {
    const sys = new FakeSyscalls().addDir(tmp, 0o1777);
    if (refused !== undefined) sys.failOn('openTree', refused);
    const relay = openRunRelay(sys, plan, HOST, () => undefined, euid, joined);
    const parent = relay.dir.slice(0, -'/notify'.length);
    expect(path.dirname(parent)).toBe(tmp);
    expect(path.basename(parent)).toMatch(/^mountkit-notify-[0-9a-f]{12}$/);
    expect(sys.node(parent)).toMatchObject({ kind: 'dir', perm: mode });
    expect(sys.calls.filter((c) => c.op === 'chown')).toEqual(owner === euid ? [] : [{ op: 'chown', path: parent, uid: owner, gid: -1 }]);
    // Asked for by root entering a user namespace only (the rows with a copy or a refusal); a refusal leaves none.
    expect(sys.calls.filter((c) => c.op === 'openTree').length).toBe(copied || refused !== undefined ? 1 : 0);
    expect(relay.tree !== undefined).toBe(copied);
    // A user other than root lets the relaunch's other uid search it through an ACL.
    expect(sys.calls.filter((c) => c.op === 'lsetxattr')).toEqual(searcher === undefined ? [] : [{ op: 'lsetxattr', path: parent, name: 'system.posix_acl_access', value: aclWithUser(0o700, searcher, 1) }]);
    relay.close();
    expect(sys.node(parent)).toBeUndefined();
    expect(sys.openFds()).toEqual([]);
  });

  test("a rootless user whose container root is another host uid, on a filesystem without POSIX ACLs (EOPNOTSUPP): 0711, as where the uid is not known", () => {
    const sys = new FakeSyscalls().addDir(tmp, 0o1777).failOn('lsetxattr', 'EOPNOTSUPP');
    const relay = openRunRelay(sys, { userMappings: maps(200000) }, HOST, () => undefined, 1000);
    const parent = relay.dir.slice(0, -'/notify'.length);
    expect(sys.calls.slice(-3).map((c) => c.op)).toEqual(['chmod', 'lsetxattr', 'chmod']);
    expect(sys.node(parent)).toMatchObject({ perm: 0o711 });
    relay.close();
    expect(sys.openFds()).toEqual([]);
  });

  test("an ACL the kernel refuses otherwise (EPERM): open fails with it, and what it made is removed", () => {
    const sys = new FakeSyscalls().addDir(tmp, 0o1777).failOn('lsetxattr', 'EPERM');
    expect(() => openRunRelay(sys, { userMappings: maps(200000) }, HOST, () => undefined, 1000)).toThrow(/^lsetxattr .*EPERM/);
    expect(sys.calls.filter((c) => c.op === 'rmdir').length).toBe(1);
    expect(sys.openFds()).toEqual([]);
  });

  test('two relays: two names', () => {
    const sys = new FakeSyscalls().addDir(tmp, 0o1777);
    const [a, b] = [openRunRelay(sys, {}, HOST, () => undefined, 0), openRunRelay(sys, {}, HOST, () => undefined, 0)];
    expect(a.dir).not.toBe(b.dir);
    a.close();
    b.close();
  });
});

describe('withNotifySocket', () => {
  const config = makeConfig({ bundle: '/b', rootfs: '/b/rootfs', mounts: [makeMount({ type: 'tmpfs', destination: '/tmp', source: 'tmpfs' })] });

  test("binds the run's directory at /run/notify last, with runc's options, as the loader reads such a mount", () => {
    const mounts = withNotifySocket(config, DIR).mounts;
    expect(mounts).toHaveLength(2);
    expect(mounts[0]).toBe(config.mounts[0]);
    expect(mounts[1]).toMatchObject({ index: 1, type: 'bind', source: DIR, destination: '/run/notify', flags: MS_BIND | MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, propagationFlags: [], data: '' });
    expect(mounts[1].recAttrs).toBeUndefined();
    expect('tree' in mounts[1]).toBe(false);
  });

  test("with a held copy of the directory: the same mount, attached from that descriptor (MountSpec.tree), and made a slave (a copy of a shared mount of the first process's namespace would be its peer)", () => {
    const [plain, held] = [withNotifySocket(config, DIR).mounts, withNotifySocket(config, DIR, 11).mounts];
    expect(held).toEqual([plain[0], { ...plain[1], tree: 11, propagationFlags: [MS_SLAVE] }]);
  });

  test.each([
    [['PATH=/bin'], ['PATH=/bin', 'NOTIFY_SOCKET=/run/notify/notify.sock']],
    [[], ['NOTIFY_SOCKET=/run/notify/notify.sock']],
    [['NOTIFY_SOCKET=/elsewhere', 'PATH=/bin'], ['NOTIFY_SOCKET=/elsewhere', 'PATH=/bin', 'NOTIFY_SOCKET=/run/notify/notify.sock']],
  ])('the program environment %j becomes %j: the socket in the container appended, which the exec step keeps over an earlier one', (env, expected) => {
    const given = { ...config, process: { ...config.process, env } };
    expect(withNotifySocket(given, DIR).process.env).toEqual(expected);
    expect(given.process.env).toEqual(env);
  });
});

describe('NotifyRelay', () => {
  test('open makes the run\'s directory, the socket\'s in it and the socket, holds both directories open, and sets their modes past the umask, the run\'s directory\'s last', () => {
    const { sys, relay } = setUp();
    expect(sys.calls).toEqual([...MADE, { op: 'chmod', path: PARENT, mode: 0o700 }]);
    expect(relay.dir).toBe(DIR);
    expect(sys.node(PARENT)).toMatchObject({ kind: 'dir', perm: 0o700, uid: 0 });
    expect(sys.node(DIR)).toMatchObject({ kind: 'dir', perm: 0o755 });
    expect(sys.node(SOCKET)).toMatchObject({ kind: 'socket', perm: 0o777 });
    relay.close();
  });

  test("with a copy asked for: the socket's directory copied through its held descriptor (open_tree(2) OPEN_TREE_CLONE, AT_EMPTY_PATH) once the socket is made, the run's directory left this process's, 0700, whatever the access given; close closes the copy before the directories", () => {
    const { sys, relay, held, hostFd } = setUp(HOST, { mode: 0o711, owner: 100000 }, true);
    const tree = relay.tree!;
    expect(sys.calls).toEqual([...MADE, { op: 'openTree', dirfd: held[1], path: '', flags: OPEN_TREE_CLONE | AT_EMPTY_PATH | O_CLOEXEC }, { op: 'chmod', path: PARENT, mode: 0o700 }]);
    expect(sys.node(PARENT)).toMatchObject({ perm: 0o700, uid: 0 });
    // The copy is of the socket's directory: attached elsewhere, a bind of it.
    sys.addDir('/mnt/notify');
    const target = sys.open('/mnt/notify', O_PATH | O_CLOEXEC, 0);
    sys.moveMount(tree, '', target, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH);
    expect(sys.mounts.filter((m) => m.target === '/mnt/notify')).toEqual([{ source: DIR, target: '/mnt/notify', fstype: null, flags: MS_BIND, data: null }]);
    sys.umount2('/mnt/notify', 0);
    sys.close(target);
    sys.clearCalls();
    relay.close();
    expect(sys.calls.slice(1)).toEqual(relayRemoval(PARENT, held, tree));
    expect(sys.openFds()).toEqual([hostFd]);
  });

  test("releaseTree closes this process's copy once the relaunch holds its own; close then closes the directories alone, and a second release does nothing", () => {
    const { sys, relay, held, hostFd } = setUp(HOST, { mode: 0o700 }, true);
    const tree = relay.tree!;
    sys.clearCalls();
    relay.releaseTree();
    relay.releaseTree();
    expect(sys.calls).toEqual([{ op: 'close', fd: tree }]);
    expect(relay.tree).toBeUndefined();
    sys.clearCalls();
    relay.close();
    expect(sys.calls.slice(1)).toEqual(relayRemoval(PARENT, held));
    expect(sys.openFds()).toEqual([hostFd]);
  });

  test('a copy the kernel refuses otherwise than ENOSYS or EPERM (EMFILE): open fails with that error, and what it made is removed and closed', () => {
    const sys = new FakeSyscalls().addDir('/tmp', 0o1777);
    sys.failOn('openTree', 'EMFILE');
    expect(() => NotifyRelay.open(sys, PARENT, HOST, () => undefined, { mode: 0o700 }, true)).toThrow(/^open_tree .*EMFILE/);
    expect(sys.node(PARENT)).toBeUndefined();
    expect(sys.openFds()).toEqual([]);
  });

  test("the run's directory given to the relaunch's host uid: chowned last, once everything in it is made (its owner may rename what it holds)", () => {
    const { sys, relay, held } = setUp(HOST, { mode: 0o700, owner: 100000 });
    expect(sys.calls.slice(-3)).toEqual([
      { op: 'chmod', path: SOCKET, mode: 0o777 },
      { op: 'chmod', path: PARENT, mode: 0o700 },
      { op: 'chown', path: PARENT, uid: 100000, gid: -1 },
    ]);
    expect(sys.node(PARENT)).toMatchObject({ perm: 0o700, uid: 100000 });
    sys.clearCalls();
    relay.close();
    expect(sys.calls.slice(1)).toEqual(removal(held));
  });

  test("the socket's directory swapped for a symlink by the run's directory's owner: the removal takes the socket from the directory it made, and unlinks nothing the symlink leads to", () => {
    const { sys, hostFd, relay, fd, held, warnings } = setUp(HOST, { mode: 0o700, owner: 100000 });
    sys.addDir('/etc').addFile('/etc/notify.sock', 'kept');
    // What rename(2) of DIR to `moved`, then symlink(2) of /etc at DIR, make (the fake renames no directory).
    const entries = sys.node(PARENT)!.children!;
    entries.set('moved', entries.get('notify')!);
    entries.delete('notify');
    sys.addSymlink(DIR, '/etc');
    sys.clearCalls();
    relay.close();
    expect(sys.calls).toEqual([{ op: 'close', fd }, ...removal(held)]);
    expect(sys.node('/etc/notify.sock')).toMatchObject({ kind: 'file' });
    expect(sys.node(`${PARENT}/moved`)).toMatchObject({ kind: 'dir' });
    expect(sys.node(`${PARENT}/moved/notify.sock`)).toBeUndefined();
    expect(warnings).toEqual(['NOTIFY_SOCKET: the run\'s socket: unlinkat "notify": ENOTDIR', `NOTIFY_SOCKET: the run's socket: rmdir "${PARENT}": ENOTEMPTY`]);
    expect(sys.openFds()).toEqual([hostFd]);
  });

  const ALL_MADE = [['close', 'socket'], ['unlinkat', 'notify.sock'], ['unlinkat', 'notify'], ['rmdir', PARENT], ['close', 'DIR'], ['close', 'PARENT']];
  test.each([
    ['open', PARENT, [['rmdir', PARENT]]],
    ['mkdir', DIR, [['rmdir', PARENT], ['close', 'PARENT']]],
    ['open', DIR, [['unlinkat', 'notify'], ['rmdir', PARENT], ['close', 'PARENT']]],
    ['chmod', DIR, [['unlinkat', 'notify'], ['rmdir', PARENT], ['close', 'DIR'], ['close', 'PARENT']]],
    ['bindUnixDatagram', SOCKET, [['unlinkat', 'notify'], ['rmdir', PARENT], ['close', 'DIR'], ['close', 'PARENT']]],
    ['chmod', SOCKET, ALL_MADE],
    ['chmod', PARENT, ALL_MADE],
    ['chown', PARENT, ALL_MADE],
  ] as const)('a %s of %s that fails: what was made is removed again, the last first, the descriptors closed, and its error thrown', (op, failing, removed) => {
    const sys = new FakeSyscalls().addDir('/tmp', 0o1777).failOn(op, 'EACCES', { path: failing });
    const opened = jest.spyOn(sys, 'open');
    const bound = jest.spyOn(sys, 'bindUnixDatagram');
    const name = op === 'bindUnixDatagram' ? 'bind' : op;
    expect(() => NotifyRelay.open(sys, PARENT, HOST, () => undefined, { mode: 0o700, owner: 100000 })).toThrow(`${name} "${failing}": EACCES`);
    const fds = new Map<unknown, string>([[bound.mock.results[0]?.value, 'socket'], ...opened.mock.results.map((r, i): [unknown, string] => [r.value, ['PARENT', 'DIR'][i]])]);
    const failedAt = sys.calls.findIndex((c) => c.op === op && 'path' in c && c.path === failing);
    expect(sys.calls.slice(failedAt + 1).map((c) => [c.op, 'path' in c ? c.path : fds.get((c as { fd: number }).fd)])).toEqual(removed);
    expect(sys.node(PARENT)).toBeUndefined();
    expect(sys.openFds()).toEqual([]);
  });

  test('at the first READY= line: that line, then MAINPID, each a datagram; what comes after it is taken and dropped; end closes and removes the socket and its directory', () => {
    const { sys, hostFd, relay, fd, held, warnings } = setUp();
    relay.start(4242);
    sys.sendUnixDatagram(SOCKET, 'STATUS=starting');
    sys.sendUnixDatagram(SOCKET, 'STATUS=up\nREADY=1');
    sys.sendUnixDatagram(SOCKET, 'READY=1\nSTATUS=again');
    sys.clearCalls();
    relay.poll();
    const recv = { op: 'recvFdMessage', socket: fd };
    expect(sys.calls).toEqual([recv, recv, { op: 'sendUnixDatagram', path: HOST, data: 'READY=1\n' }, { op: 'sendUnixDatagram', path: HOST, data: 'MAINPID=4242\n' }, recv, recv]);
    expect(received(sys, hostFd)).toEqual(['READY=1\n', 'MAINPID=4242\n']);
    expect(warnings).toEqual([]);
    // A later READY= is dropped too, and the socket stays for the program's later sends.
    sys.sendUnixDatagram(SOCKET, 'READY=1');
    sys.sendUnixDatagram(SOCKET, 'WATCHDOG=1');
    sys.clearCalls();
    relay.end();
    expect(sys.calls).toEqual([recv, recv, recv, { op: 'close', fd }, ...removal(held)]);
    expect(received(sys, hostFd)).toEqual([]);
    expect(sys.node(PARENT)).toBeUndefined();
    // Closed: nothing more is read, and a second close does nothing.
    sys.clearCalls();
    relay.poll();
    relay.close();
    relay.end();
    expect(sys.calls).toEqual([]);
  });

  test("a close of the socket that fails: warned about, the rest removed all the same, and never closed again", () => {
    const { sys, relay, fd, held, warnings } = setUp();
    sys.failOn('close', 'EIO');
    sys.clearCalls();
    relay.close();
    expect(sys.calls.slice(1)).toEqual(removal(held));
    expect(warnings).toEqual(["NOTIFY_SOCKET: the run's socket: close: EIO"]);
    expect(sys.node(PARENT)).toBeUndefined();
    sys.clearCalls();
    relay.close();
    relay.end();
    expect(sys.calls.filter((c) => c.op === 'close' && c.fd === fd)).toEqual([]);
  });

  test('one look takes NOTIFY_POLL_MAX datagrams at most; the next takes the rest', () => {
    const { sys, hostFd, relay } = setUp();
    relay.start(8);
    for (let i = 0; i < NOTIFY_POLL_MAX; i++) sys.sendUnixDatagram(SOCKET, `STATUS=${i}`);
    sys.sendUnixDatagram(SOCKET, 'READY=1');
    sys.clearCalls();
    relay.poll();
    expect(sys.calls.map((c) => c.op)).toEqual(Array(NOTIFY_POLL_MAX).fill('recvFdMessage'));
    relay.poll();
    expect(received(sys, hostFd)).toEqual(['READY=1\n', 'MAINPID=8\n']);
    relay.close();
  });

  test('nothing waiting: one look (EAGAIN), nothing sent, the relay stays open', () => {
    const { sys, relay } = setUp();
    relay.start(7);
    sys.clearCalls();
    relay.poll();
    expect(sys.calls.map((c) => c.op)).toEqual(['recvFdMessage']);
    expect(sys.node(SOCKET)).toBeDefined();
    relay.close();
  });

  test('before start nothing is read; end then only closes', () => {
    const { sys, relay } = setUp();
    sys.sendUnixDatagram(SOCKET, 'READY=1');
    sys.clearCalls();
    relay.poll();
    relay.end();
    expect(sys.calls.map((c) => c.op)).toEqual(['close', 'unlinkat', 'unlinkat', 'rmdir', 'close', 'close']);
  });

  test('end reads what came before the container ended: a READY= sent last is passed on', () => {
    const { sys, hostFd, relay } = setUp();
    relay.start(99);
    sys.sendUnixDatagram(SOCKET, 'READY=1');
    relay.end();
    expect(received(sys, hostFd)).toEqual(['READY=1\n', 'MAINPID=99\n']);
    expect(sys.node(PARENT)).toBeUndefined();
  });

  test('a descriptor a datagram passes is closed', () => {
    const { sys, relay } = setUp();
    relay.start(5);
    const passed = 77;
    const recv = sys.recvFdMessage.bind(sys);
    let first = true;
    sys.recvFdMessage = (socket: number) => {
      const message = recv(socket);
      if (!first) return message;
      first = false;
      sys.inheritSocket(passed);
      return { ...message, fd: passed };
    };
    sys.sendUnixDatagram(SOCKET, 'FDSTORE=1');
    sys.clearCalls();
    relay.poll();
    expect(sys.calls.map((c) => [c.op, 'fd' in c ? c.fd : undefined])).toEqual([
      ['recvFdMessage', undefined],
      ['close', passed],
      ['recvFdMessage', undefined],
    ]);
    relay.close();
  });

  test.each([
    ['/run/missing/notify', 'NOTIFY_SOCKET: sendto "/run/missing/notify": ENOENT'],
    ['/tmp', 'NOTIFY_SOCKET: sendto "/tmp": ECONNREFUSED'],
    ['@gone', 'NOTIFY_SOCKET: sendto "@gone": ECONNREFUSED'],
  ])("a caller's socket %s that refuses: warned about once, nothing more sent", (host, warning) => {
    const { sys, relay, warnings } = setUp(host);
    relay.start(1);
    sys.sendUnixDatagram(SOCKET, 'READY=1');
    sys.sendUnixDatagram(SOCKET, 'READY=1');
    sys.clearCalls();
    relay.poll();
    expect(sys.calls.map((c) => c.op)).toEqual(['recvFdMessage', 'sendUnixDatagram', 'recvFdMessage', 'recvFdMessage']);
    expect(warnings).toEqual([warning]);
    relay.close();
  });

  test('an abstract caller socket (@name) is sent to by name', () => {
    const sys = new FakeSyscalls().addDir('/tmp', 0o1777);
    const hostFd = sys.bindUnixDatagram('@systemd-notify');
    const relay = NotifyRelay.open(sys, PARENT, '@systemd-notify', () => undefined, { mode: 0o700 });
    relay.start(3);
    sys.sendUnixDatagram(SOCKET, 'READY=1');
    relay.poll();
    expect(received(sys, hostFd)).toEqual(['READY=1\n', 'MAINPID=3\n']);
  });

  test('start reads on a timer every NOTIFY_POLL_MS, and after READY= every NOTIFY_DRAIN_MS; close stops it', () => {
    jest.useFakeTimers();
    try {
      const { sys, hostFd, relay } = setUp();
      relay.start(11);
      sys.sendUnixDatagram(SOCKET, 'READY=1');
      jest.advanceTimersByTime(NOTIFY_POLL_MS - 1);
      expect(received(sys, hostFd)).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(received(sys, hostFd)).toEqual(['READY=1\n', 'MAINPID=11\n']);
      sys.clearCalls();
      jest.advanceTimersByTime(NOTIFY_DRAIN_MS - 1);
      expect(sys.calls).toEqual([]);
      jest.advanceTimersByTime(1);
      expect(sys.calls.map((c) => c.op)).toEqual(['recvFdMessage']);
      expect(jest.getTimerCount()).toBe(1);
      relay.close();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
