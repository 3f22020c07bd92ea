import type { NamespaceSpec, RootfsConfig } from '../../src/core/config/model';
import { AT_EMPTY_PATH, AT_FDCWD, MS_BIND, O_CLOEXEC, O_RDONLY, OPEN_TREE_CLONE } from '../../src/core/constants';
import { planLaunch } from '../../src/core/namespaces';
import { RELAUNCH_LOG_FD, RELAUNCH_SOCKET_FDS, becomeSubreaper, idmapSlot, notifyTreeSlot, orWarn, prepareRelaunch, relaunchPassedAt, stopSubreaping, takeRelaunchDescriptors, takeRelaunchLog } from '../../src/core/relaunch';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig, makeMount } from '../helpers/config';

const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];
const first = { relaunched: false, inUserNamespace: false };

/** A fake with namespace files at `paths`: binds of a file of an nsfs mount, as namespace files are bound (ip-netns(8)). */
function withNamespaceFiles(sys: FakeSyscalls, ...paths: string[]): FakeSyscalls {
  sys.addFile('/nsfs/ns').mount('nsfs', '/nsfs', 'nsfs', 0n, null);
  for (const p of paths) sys.addFile(p).mount('/nsfs/ns', p, null, MS_BIND, null);
  return sys.clearCalls();
}

function userConfig(namespaces: NamespaceSpec[], over: Partial<RootfsConfig> = {}): RootfsConfig {
  return makeConfig({ namespaces, uidMappings: MAPS, gidMappings: MAPS, ...over });
}

describe('prepareRelaunch', () => {
  /** A standard stream `fd`: a pipe (the file under a pipefs mount) owned by `uid`, as the host gave it. */
  function pipeAt(sys: FakeSyscalls, fd: number, uid: number): void {
    sys.addFile(`/pipes/${fd}`).mount('pipefs', '/pipes', 'pipefs', 0n, null);
    sys.chown(`/pipes/${fd}`, uid, 0);
    sys.dup3(sys.open(`/pipes/${fd}`, O_RDONLY, 0), fd, 0);
    sys.clearCalls();
  }

  test("a new user namespace with maps and a user other than root: the streams that are the host's pipes are given to that user's host id, after the namespace is made; a terminal or file keeps its owner", () => {
    const config = userConfig([{ type: 'pid' }, { type: 'user' }], { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], process: { ...makeConfig().process, uid: 1000 } });
    const sys = new FakeSyscalls().addFile('/log');
    pipeAt(sys, 1, 0);
    sys.dup3(sys.open('/log', O_RDONLY, 0), 2, 0);
    sys.clearCalls();
    prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config);
    const ops = sys.calls.map((c) => c.op);
    expect(ops.indexOf('fchownat')).toBeGreaterThan(ops.indexOf('userNamespace'));
    expect(sys.callsOf('fchownat')).toEqual([{ op: 'fchownat', dirfd: 1, path: '', uid: 101000, gid: -1, flags: AT_EMPTY_PATH }]);
    // The container's root too: inside, the host's root is unmapped.
    const root = new FakeSyscalls();
    pipeAt(root, 1, 0);
    const asRoot = userConfig([{ type: 'pid' }, { type: 'user' }]);
    prepareRelaunch(root, planLaunch(asRoot.namespaces, first, asRoot), asRoot);
    expect(root.callsOf('fchownat')).toEqual([{ op: 'fchownat', dirfd: 1, path: '', uid: 100000, gid: -1, flags: AT_EMPTY_PATH }]);
  });

  test('not a socket (none can be opened again through /proc, and its owner is what its traffic is routed by), nor anything with a console, which replaces the streams', () => {
    const socket = new FakeSyscalls();
    socket.addFile('/sockets/1').mount('sockfs', '/sockets', 'sockfs', 0n, null);
    socket.dup3(socket.open('/sockets/1', O_RDONLY, 0), 1, 0);
    socket.clearCalls();
    const config = userConfig([{ type: 'pid' }, { type: 'user' }]);
    prepareRelaunch(socket, planLaunch(config.namespaces, first, config), config);
    expect(socket.callsOf('fchownat')).toEqual([]);
    const terminal = new FakeSyscalls();
    pipeAt(terminal, 1, 0);
    const withConsole = userConfig([{ type: 'pid' }, { type: 'user' }], { process: { ...makeConfig().process, terminal: true } });
    prepareRelaunch(terminal, planLaunch(withConsole.namespaces, first, withConsole), withConsole);
    expect(terminal.callsOf('fchownat')).toEqual([]);
  });

  test('for a relaunch under nsenter: the user namespace, the namespaces to join, the sockets, then the OOM score; each at the number the relaunch gets it on', () => {
    const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/a' }, { type: 'ipc', path: '/run/ipc/b' }], {
      consoleSocket: '/run/console.sock',
      process: { ...makeConfig().process, terminal: true, oomScoreAdj: -5 },
    });
    const sys = withNamespaceFiles(new FakeSyscalls().addFile('/proc/self/oom_score_adj', '10\n'), '/run/netns/a', '/run/ipc/b');
    const passed = prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config);
    expect(sys.calls.map((c) => c.op)).toEqual(['userNamespace', 'open', 'fstatfs', 'open', 'fstatfs', 'connectUnix', 'readFile', 'writeFile']);
    expect(sys.callsOf('open').map((c) => [c.path, c.flags])).toEqual([
      ['/run/netns/a', O_RDONLY | O_CLOEXEC],
      ['/run/ipc/b', O_RDONLY | O_CLOEXEC],
    ]);
    expect([...passed.passed]).toEqual([
      [4, 100],
      [10, 101],
      [11, 102],
      [RELAUNCH_SOCKET_FDS.console, 103],
    ]);
    sys.clearCalls();
    expect(passed.release()).toEqual([]);
    expect(sys.calls).toEqual([
      { op: 'close', fd: 100 },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 102 },
      { op: 'close', fd: 103 },
      { op: 'writeFile', path: '/proc/self/oom_score_adj', data: '10' },
    ]);
  });

  test('a user namespace given by path is opened, not made', () => {
    const config = makeConfig({ namespaces: [{ type: 'pid' }, { type: 'user', path: '/proc/7/ns/user' }] });
    const sys = withNamespaceFiles(new FakeSyscalls(), '/proc/7/ns/user');
    const passed = prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config);
    expect(sys.calls).toEqual([
      { op: 'open', path: '/proc/7/ns/user', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
      { op: 'fstatfs', fd: 100 },
    ]);
    expect([...passed.passed]).toEqual([[4, 100]]);
  });

  test('a foreground console (process.terminal, no --console-socket): a socketpair, one end passed on 6, the other kept; for any relaunch', () => {
    for (const namespaces of [[{ type: 'pid' }, { type: 'mount' }], [{ type: 'mount' }], [{ type: 'pid' }, { type: 'user' }]] as NamespaceSpec[][]) {
      const config = userConfig(namespaces, { process: { ...makeConfig().process, terminal: true } });
      const sys = new FakeSyscalls();
      const passed = prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config);
      const there = passed.passed.get(RELAUNCH_SOCKET_FDS.console);
      expect([sys.callsOf('socketPair').length, typeof passed.console, typeof there]).toEqual([1, 'number', 'number']);
      sys.clearCalls();
      passed.release();
      // The relaunch's end is closed here once it has its copy; this process's stays open for the console's master.
      const closed = sys.callsOf('close').map((c) => c.fd);
      expect([closed.includes(there!), closed.includes(passed.console!)]).toEqual([true, false]);
    }
  });

  test('a failure to make the socketpair is named, and closes what was made before it', () => {
    const config = userConfig([{ type: 'pid' }, { type: 'user' }], { process: { ...makeConfig().process, terminal: true } });
    const sys = new FakeSyscalls().failOn('socketPair', 'EMFILE');
    expect(() => prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config)).toThrow(
      "the console's socket (process.terminal without --console-socket): socketpair: EMFILE",
    );
    expect(sys.calls.slice(-1)).toEqual([{ op: 'close', fd: 100 }]);
  });

  test('nothing for a relaunch under unshare alone', () => {
    const config = makeConfig({ namespaces: [{ type: 'pid' }, { type: 'mount' }], consoleSocket: '/run/console.sock' });
    const sys = new FakeSyscalls();
    const passed = prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config);
    expect([sys.calls, [...passed.passed], passed.release()]).toEqual([[], [], []]);
  });

  test('a failure names its field and closes what was made and opened before it; the score was not written yet', () => {
    const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/a' }], {
      consoleSocket: '/run/console.sock',
      process: { ...makeConfig().process, terminal: true, oomScoreAdj: -5 },
    });
    const sys = withNamespaceFiles(new FakeSyscalls(), '/run/netns/a').failOn('connectUnix', 'EACCES');
    expect(() => prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config)).toThrow('--console-socket: connect "/run/console.sock": EACCES');
    expect(sys.calls.slice(-2)).toEqual([
      { op: 'close', fd: 100 },
      { op: 'close', fd: 101 },
    ]);
    expect(sys.callsOf('writeFile')).toEqual([]);
  });

  test('a path that is not a namespace file is refused, naming it, and closed', () => {
    const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/etc/hostname' }]);
    const sys = new FakeSyscalls().addFile('/etc/hostname');
    expect(() => prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config)).toThrow('linux.namespaces "/etc/hostname": is not a namespace file of type network (nsfs)');
    expect(sys.calls.slice(-2)).toEqual([
      { op: 'close', fd: 100 },
      { op: 'close', fd: 101 },
    ]);
  });

  test('a namespace path that cannot be opened is named by its type', () => {
    const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/gone' }]);
    expect(() => prepareRelaunch(new FakeSyscalls(), planLaunch(config.namespaces, first, config), config)).toThrow('linux.namespaces "network": open "/run/netns/gone": ENOENT');
  });
});

/** `sys` as nsenter starts a relaunch with idmapped binds: a user namespace on 4, a joined namespace on 10, the idmap socket's end on 11. */
function withIdmapSocket(sys: FakeSyscalls): FakeSyscalls {
  sys.addFile('/ns');
  for (const fd of [4, 10]) sys.dup3(sys.open('/ns', O_RDONLY, 0), fd, 0);
  sys.dup3(sys.socketPair()[1], 11, 0);
  return sys;
}

describe('the idmap socket: idmapped binds in a container with a user namespace', () => {
  const idmapped = makeMount({ index: 4, type: 'bind', source: '/srv/a', destination: '/a', idmap: { recursive: false } });
  const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/a' }], { mounts: [makeMount({ index: 0, type: 'tmpfs', destination: '/tmp' }), idmapped] });

  test('its descriptor is the one after the joined namespaces, with idmapped binds only', () => {
    expect(idmapSlot(config)).toBe(11);
    expect(idmapSlot({ ...config, mounts: [] })).toBeUndefined();
  });

  test('the descriptors passed to the container come after it under nsenter, or after the joined namespaces without it', () => {
    expect(relaunchPassedAt(config, true)).toBe(12);
    expect(relaunchPassedAt({ ...config, mounts: [] }, true)).toBe(11);
    expect(relaunchPassedAt(config, false)).toBe(10);
  });

  test('under nsenter, a socketpair: one end passed at its slot, the other kept to send the copies; none without idmapped binds or nsenter', () => {
    const sys = withNamespaceFiles(new FakeSyscalls(), '/run/netns/a');
    const passed = prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config);
    // The streams looked at after the namespace (no pipe among them here: the fake's standard streams are not files).
    expect(sys.calls.map((c) => c.op)).toEqual(['userNamespace', 'fstat', 'fstat', 'fstat', 'open', 'fstatfs', 'socketPair', 'open']);
    expect([...passed.passed.keys()]).toEqual([4, 10, 11]);
    expect(sys.pathOf(passed.idmap!.socket)).toMatch(/^socket:\[pair 0 end 0\]$/);
    expect(sys.pathOf(passed.passed.get(11)!)).toMatch(/^socket:\[pair 0 end 1\]$/);
    // Its own descriptor of the container's user namespace, opened again through the one passed.
    expect(sys.calls.at(-1)).toEqual({ op: 'open', path: `/proc/thread-self/fd/${passed.passed.get(4)}`, flags: O_RDONLY | O_CLOEXEC, mode: 0 });
    expect(sys.openFds()).toContain(passed.idmap!.userns);
    const plain = prepareRelaunch(withNamespaceFiles(new FakeSyscalls(), '/run/netns/a'), planLaunch(config.namespaces, first, config), { ...config, mounts: [] });
    expect(plain.idmap).toBeUndefined();
    const unshared = makeConfig({ namespaces: [{ type: 'pid' }, { type: 'mount' }], mounts: [idmapped] });
    expect(prepareRelaunch(new FakeSyscalls(), planLaunch(unshared.namespaces, first, unshared), unshared).idmap).toBeUndefined();
  });

  test('a socketpair that cannot be made is named; what was made before it is closed', () => {
    const sys = withNamespaceFiles(new FakeSyscalls(), '/run/netns/a');
    sys.failOn('socketPair', 'EMFILE');
    expect(() => prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config)).toThrow('the idmap socket (idmapped binds in a user namespace): socketpair: EMFILE');
    expect(sys.openFds()).toEqual([]);
  });

  test('process.oomScoreAdj is set ahead for a relaunch under nsenter only (one under unshare(1) alone sets its own)', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/oom_score_adj', '0\n');
    const unshared = makeConfig({ namespaces: [{ type: 'pid' }, { type: 'mount' }], process: { ...makeConfig().process, oomScoreAdj: -500 } });
    prepareRelaunch(sys, planLaunch(unshared.namespaces, first, unshared), unshared);
    expect(sys.calls.filter((c) => c.op === 'readFile' || c.op === 'writeFile')).toEqual([]);
  });

  test('a later step that fails (process.oomScoreAdj refused) closes the idmap socket and the namespace opened for it too', () => {
    const sys = withNamespaceFiles(new FakeSyscalls(), '/run/netns/a').addFile('/proc/self/oom_score_adj', '0\n').failOn('writeFile', 'EACCES');
    const scored = { ...config, process: { ...config.process, oomScoreAdj: -500 } };
    expect(() => prepareRelaunch(sys, planLaunch(scored.namespaces, first, scored), scored)).toThrow(/^process\.oomScoreAdj -500: .*EACCES$/);
    expect(sys.openFds()).toEqual([]);
  });

  test('the relaunched process takes it under nsenter (a socket, close-on-exec); anything else there is refused', () => {
    const sys = withIdmapSocket(new FakeSyscalls().inheritSocket(3));
    sys.clearCalls();
    expect(takeRelaunchDescriptors(sys, config, true)).toEqual({ runtimeChannel: 3, idmapSocket: 11 });
    expect(sys.calls.slice(2)).toEqual([
      { op: 'fstat', fd: 11 },
      { op: 'setCloexec', fd: 11 },
      { op: 'setCloexec', fd: 3 },
    ]);
    const wrong = new FakeSyscalls().addFile('/ns');
    for (const fd of [4, 10, 11]) wrong.dup3(wrong.open('/ns', O_RDONLY, 0), fd, 0);
    expect(() => takeRelaunchDescriptors(wrong, config, true)).toThrow('the idmap socket (idmapped binds in a user namespace): descriptor 11 from the process that started mountkit is not a socket');
  });
});

describe("the copy of the sd_notify socket's directory (core/notify-socket.ts), given to a relaunch into a user namespace", () => {
  const joins: { type: string; path?: string }[] = [{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/a' }];
  const idmapped = makeMount({ index: 1, type: 'bind', source: '/srv/a', destination: '/a', idmap: { recursive: false } });
  const held = (tree: number) => makeMount({ index: 2, type: 'bind', source: '/tmp/mountkit-notify-0123456789ab/notify', destination: '/run/notify', tree });

  test.each([
    ['no idmapped bind', [], 11, 12],
    ['an idmapped bind (its socket before it)', [idmapped], 12, 13],
  ])('%s: its descriptor after the joined namespaces and the idmap socket, and the descriptors passed to the container after it', (_what, mounts, slot, passedAt) => {
    const config = userConfig(joins as never, { mounts });
    expect(notifyTreeSlot(config)).toBe(slot);
    expect(relaunchPassedAt(config, true, true)).toBe(passedAt);
    expect(relaunchPassedAt(config, true)).toBe(passedAt - 1);
    // Without nsenter (no user namespace) no copy is given.
    expect(relaunchPassedAt(config, false, true)).toBe(10);
  });

  test('the relaunched process takes it (a directory, close-on-exec) after the idmap socket; anything else there is refused, naming the mount and the descriptor', () => {
    const config = userConfig(joins as never, { mounts: [idmapped, held(12)] });
    const sys = withIdmapSocket(new FakeSyscalls().addDir('/tmp/mountkit-notify-0123456789ab/notify').inheritSocket(3));
    sys.dup3(sys.openTree(AT_FDCWD, '/tmp/mountkit-notify-0123456789ab/notify', OPEN_TREE_CLONE | O_CLOEXEC), 12, 0);
    sys.clearCalls();
    expect(takeRelaunchDescriptors(sys, config, true)).toEqual({ runtimeChannel: 3, idmapSocket: 11 });
    expect(sys.calls.slice(2)).toEqual([
      { op: 'fstat', fd: 11 },
      { op: 'setCloexec', fd: 11 },
      { op: 'fstatMount', fd: 12 },
      { op: 'setCloexec', fd: 12 },
      { op: 'setCloexec', fd: 3 },
    ]);
    const wrong = withIdmapSocket(new FakeSyscalls().addFile('/file'));
    wrong.dup3(wrong.open('/file', O_RDONLY, 0), 12, 0);
    expect(() => takeRelaunchDescriptors(wrong, config, true)).toThrow('mounts[2] "/run/notify": its copy, descriptor 12 from the process that started mountkit is not a directory');
    // A directory that is not the root of a mount (one opened by path, not a detached copy).
    const dir = withIdmapSocket(new FakeSyscalls().addDir('/srv'));
    dir.dup3(dir.open('/srv', O_RDONLY, 0), 12, 0);
    expect(() => takeRelaunchDescriptors(dir, config, true)).toThrow(`mounts[2] "/run/notify": its copy, descriptor 12 from the process that started mountkit is not a mount's root`);
    expect(() => takeRelaunchDescriptors(withIdmapSocket(new FakeSyscalls()), config, true)).toThrow('mounts[2] "/run/notify": its copy, descriptor 12 from the process that started mountkit: statx: EBADF');
  });
});

describe('takeRelaunchDescriptors', () => {
  /** A process started as the relaunch is: the user namespace on 4, a joined namespace on 10, the console socket on 6. */
  function relaunched(socketAt6 = true): FakeSyscalls {
    const sys = new FakeSyscalls().addFile('/ns').addFile('/file').inheritSocket(3);
    sys.dup3(sys.open('/ns', O_RDONLY, 0), 4, 0);
    sys.dup3(sys.open('/ns', O_RDONLY, 0), 10, 0);
    sys.dup3(socketAt6 ? sys.connectUnix('/run/console.sock') : sys.open('/file', O_RDONLY, 0), 6, 0);
    return sys.clearCalls();
  }
  const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/a' }], { consoleSocket: '/run/console.sock' });

  test("under nsenter: the namespaces' descriptors are closed, the socket checked and marked close-on-exec, then the runtime channel", () => {
    const sys = relaunched();
    expect(takeRelaunchDescriptors(sys, config, true)).toEqual({ runtimeChannel: 3, hostSockets: { console: 6 } });
    expect(sys.calls).toEqual([
      { op: 'close', fd: 4 },
      { op: 'close', fd: 10 },
      { op: 'fstat', fd: 6 },
      { op: 'setCloexec', fd: 6 },
      { op: 'setCloexec', fd: 3 },
    ]);
  });

  test('rootless under nsenter: gid 0 taken after the namespaces\' descriptors are closed (nsenter was given no setgid)', () => {
    const sys = relaunched();
    takeRelaunchDescriptors(sys, { ...config, rootless: true }, true);
    expect(sys.calls.slice(0, 3)).toEqual([
      { op: 'close', fd: 4 },
      { op: 'close', fd: 10 },
      { op: 'setgid', gid: 0 },
    ]);
    const unshared = relaunched();
    takeRelaunchDescriptors(unshared, { ...config, rootless: true }, false);
    expect(unshared.callsOf('setgid')).toEqual([]);
    // PID 1 of a new pid namespace sets its parent-death signal again: the egid change cleared it.
    const pidOne = relaunched();
    takeRelaunchDescriptors(pidOne, { ...config, rootless: true }, true, true);
    expect(pidOne.calls.slice(2, 4)).toEqual([
      { op: 'setgid', gid: 0 },
      { op: 'setParentDeathSignal', signal: 9 },
    ]);
    const asRoot = relaunched();
    takeRelaunchDescriptors(asRoot, config, true, true);
    expect(asRoot.callsOf('setParentDeathSignal')).toEqual([]);
  });

  test('under unshare alone: only the runtime channel; the console socket is connected by the console step', () => {
    const sys = relaunched();
    expect(takeRelaunchDescriptors(sys, config, false)).toEqual({ runtimeChannel: 3 });
    expect(sys.calls).toEqual([{ op: 'setCloexec', fd: 3 }]);
  });

  test("a foreground console (process.terminal, no --console-socket): the starter's socketpair end on 6, under unshare as under nsenter", () => {
    const terminal = makeConfig({ namespaces: [{ type: 'pid' }, { type: 'mount' }], process: { ...makeConfig().process, terminal: true } });
    const sys = relaunched();
    expect(takeRelaunchDescriptors(sys, terminal, false)).toEqual({ runtimeChannel: 3, hostSockets: { console: 6 } });
    expect(sys.calls).toEqual([
      { op: 'fstat', fd: 6 },
      { op: 'setCloexec', fd: 6 },
      { op: 'setCloexec', fd: 3 },
    ]);
    expect(() => takeRelaunchDescriptors(relaunched(false), terminal, false)).toThrow(
      "the console's socket (process.terminal without --console-socket): descriptor 6 from the process that started mountkit is not a socket",
    );
  });

  test('a descriptor that is not the socket its starter passes is refused, naming it', () => {
    expect(() => takeRelaunchDescriptors(relaunched(false), config, true)).toThrow(
      '--console-socket "/run/console.sock": descriptor 6 from the process that started mountkit is not a socket',
    );
  });
});

describe('takeRelaunchLog', () => {
  test('the --log file its starter opened on 8 is moved to a close-on-exec copy on the lowest free number from the one given, and 8 closed', () => {
    const sys = new FakeSyscalls().addFile('/run.log');
    const opened = sys.open('/run.log', O_RDONLY, 0);
    sys.dup3(opened, RELAUNCH_LOG_FD, 0);
    sys.close(opened);
    sys.clearCalls();
    const fd = takeRelaunchLog(sys, 3);
    expect(sys.calls).toEqual([
      { op: 'dupCloexec', fd: 8, lowest: 3 },
      { op: 'close', fd: 8 },
    ]);
    expect(sys.openFds()).toEqual([fd]);
    expect(fd).not.toBe(RELAUNCH_LOG_FD);
  });

  test('nothing open on 8 (a process started with MOUNTKIT_RELAUNCHED set by something else) is refused, naming it, and nothing is closed', () => {
    const sys = new FakeSyscalls();
    expect(() => takeRelaunchLog(sys, 3)).toThrow('the --log file, descriptor 8 from the process that started mountkit: fcntl');
    expect(sys.callsOf('close')).toEqual([]);
  });
});

describe('orWarn: a step the run goes on without', () => {
  test.each<[string, () => void, string, boolean, string[]]>([
    ['done: true, nothing told', () => undefined, ' (lost)', true, []],
    ['thrown: false, its message told with what goes undone', () => { throw new Error('waitid: EPERM'); }, ' (lost)', false, ['waitid: EPERM (lost)']],
    ['thrown, nothing said of what goes undone: its message alone', () => { throw new Error('waitid: EPERM'); }, '', false, ['waitid: EPERM']],
  ])('%s', (_, call, lost, done, told) => {
    const warned: string[] = [];
    expect(orWarn((m) => warned.push(m), call, lost)).toBe(done);
    expect(warned).toEqual(told);
  });
});

describe('becomeSubreaper: the first process of a relaunch', () => {
  test('prctl(2) PR_SET_CHILD_SUBREAPER, one call, nothing told', () => {
    const sys = new FakeSyscalls();
    const warned: string[] = [];
    expect(becomeSubreaper(sys, (m) => warned.push(m))).toBe(true);
    expect(sys.calls).toEqual([{ op: 'setChildSubreaper' }]);
    expect(warned).toEqual([]);
  });

  test('refused (a kernel before 3.4, a seccomp filter): a warning naming prctl and its errno, and the run goes on without waiting', () => {
    const sys = new FakeSyscalls().failOn('setChildSubreaper', 'EINVAL');
    const warned: string[] = [];
    expect(becomeSubreaper(sys, (m) => warned.push(m))).toBe(false);
    expect(sys.calls).toEqual([{ op: 'setChildSubreaper' }]);
    expect(warned).toEqual(['prctl: EINVAL (PR_SET_CHILD_SUBREAPER): what the process preparing the rootfs leaves running if it is killed is not waited for']);
  });
});

describe("stopSubreaping: once the container's program has started", () => {
  test('prctl(2) PR_SET_CHILD_SUBREAPER 0, one call, nothing told', () => {
    const sys = new FakeSyscalls();
    const warned: string[] = [];
    stopSubreaping(sys, (m) => warned.push(m));
    expect(sys.calls).toEqual([{ op: 'unsetChildSubreaper' }]);
    expect(warned).toEqual([]);
  });

  test('refused: a warning naming prctl and its errno, and the run goes on', () => {
    const sys = new FakeSyscalls().failOn('unsetChildSubreaper', 'EPERM');
    const warned: string[] = [];
    stopSubreaping(sys, (m) => warned.push(m));
    expect(sys.calls).toEqual([{ op: 'unsetChildSubreaper' }]);
    expect(warned).toEqual(["prctl: EPERM (PR_SET_CHILD_SUBREAPER 0): what the container leaves running comes to mountkit's first process"]);
  });
});
