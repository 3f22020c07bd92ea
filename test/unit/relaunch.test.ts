import type { NamespaceSpec, RootfsConfig } from '../../src/core/config/model';
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_IDMAP, MS_BIND, MS_REC, OPEN_TREE_CLONE, O_CLOEXEC, O_RDONLY } from '../../src/core/constants';
import { planLaunch } from '../../src/core/namespaces';
import { RELAUNCH_SOCKET_FDS, idmapTreeSlots, prepareRelaunch, takeRelaunchDescriptors } from '../../src/core/relaunch';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig, makeMount } from '../helpers/config';

const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];
const first = { relaunched: false, inUserNamespace: false };

/** A fake with namespace files at `paths`: files with nsfs mounted over them, as namespace files are bound. */
function withNamespaceFiles(sys: FakeSyscalls, ...paths: string[]): FakeSyscalls {
  for (const p of paths) sys.addFile(p).mount('nsfs', p, 'nsfs', 0n, null);
  return sys.clearCalls();
}

function userConfig(namespaces: NamespaceSpec[], over: Partial<RootfsConfig> = {}): RootfsConfig {
  return makeConfig({ namespaces, uidMappings: MAPS, gidMappings: MAPS, ...over });
}

describe('prepareRelaunch', () => {
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
      [8, 101],
      [9, 102],
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

describe('idmapped binds in a container with a user namespace: their copies made from the host', () => {
  const OWN = [{ containerID: 0, hostID: 0, size: 1 }];
  const idmapped = (index: number, source: string, idmap: NonNullable<RootfsConfig['mounts'][number]['idmap']>, flags = MS_BIND) =>
    makeMount({ index, type: 'bind', source, destination: `/m${index}`, flags, idmap });
  const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/a' }], {
    mounts: [
      makeMount({ index: 0, type: 'tmpfs', destination: '/tmp' }),
      idmapped(1, '/srv/a', { recursive: false }),
      idmapped(2, '/srv/b', { recursive: true, uidMappings: OWN, gidMappings: OWN }, MS_BIND | MS_REC),
      idmapped(3, '/srv/c', { recursive: false, uidMappings: OWN, gidMappings: OWN }),
    ],
  });

  test('each gets the descriptor after the joined namespaces, in config order', () => {
    expect(idmapTreeSlots(config).map(([m, fd]) => [m.index, fd])).toEqual([
      [1, 9],
      [2, 10],
      [3, 11],
    ]);
  });

  test("a copy of each source, mapped through the container's user namespace or through one made once for each set of mappings of the mount's own, which is closed after", () => {
    const sys = withNamespaceFiles(new FakeSyscalls().addDir('/srv/a').addDir('/srv/b').addDir('/srv/c'), '/run/netns/a');
    const passed = prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config);
    expect(sys.calls.slice(3).map((c) => c.op)).toEqual(['openTree', 'mountSetattr', 'userNamespace', 'openTree', 'mountSetattr', 'openTree', 'mountSetattr', 'close']);
    expect([...passed.passed.keys()]).toEqual([4, 8, 9, 10, 11]);
    const [container, a, b, c] = [4, 9, 10, 11].map((n) => passed.passed.get(n)!);
    const own = sys.callsOf('mountSetattr')[1].usernsFd;
    expect(own).not.toBe(container);
    expect(sys.callsOf('openTree').map((t) => [t.dirfd, t.path, t.flags])).toEqual([
      [AT_FDCWD, '/srv/a', OPEN_TREE_CLONE | O_CLOEXEC],
      [AT_FDCWD, '/srv/b', OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE],
      [AT_FDCWD, '/srv/c', OPEN_TREE_CLONE | O_CLOEXEC],
    ]);
    expect(sys.callsOf('mountSetattr').map((m) => [m.dirfd, m.atFlags, m.attrSet, m.usernsFd])).toEqual([
      [a, AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, container],
      [b, AT_EMPTY_PATH | AT_RECURSIVE, MOUNT_ATTR_IDMAP, own],
      [c, AT_EMPTY_PATH, MOUNT_ATTR_IDMAP, own],
    ]);
    expect(sys.callsOf('userNamespace').slice(1).map((u) => [u.uidMappings, u.gidMappings])).toEqual([[OWN, OWN]]);
    expect(sys.calls.at(-1)).toEqual({ op: 'close', fd: own });
  });

  test('a copy that cannot be made is named by its mount; what was made and opened before it is closed', () => {
    const sys = withNamespaceFiles(new FakeSyscalls().addDir('/srv/a'), '/run/netns/a');
    expect(() => prepareRelaunch(sys, planLaunch(config.namespaces, first, config), config)).toThrow('mounts[2] "/m2": open_tree "/srv/b": ENOENT');
    expect(sys.openFds()).toEqual([]);
  });

  test('the relaunched process takes each (open, close-on-exec) for the bind handler, by mount index; one not open is refused, naming its mount', () => {
    const sys = new FakeSyscalls().addFile('/ns').addDir('/srv/a');
    for (const fd of [4, 8]) sys.dup3(sys.open('/ns', O_RDONLY, 0), fd, 0);
    for (const fd of [9, 10, 11]) sys.dup3(sys.openTree(AT_FDCWD, '/srv/a', OPEN_TREE_CLONE | O_CLOEXEC), fd, 0);
    sys.clearCalls();
    expect(takeRelaunchDescriptors(sys, config, true)).toEqual({ runtimeChannel: 3, idmapTrees: { 1: 9, 2: 10, 3: 11 } });
    expect(sys.calls.slice(2)).toEqual([
      { op: 'fstat', fd: 9 },
      { op: 'setCloexec', fd: 9 },
      { op: 'fstat', fd: 10 },
      { op: 'setCloexec', fd: 10 },
      { op: 'fstat', fd: 11 },
      { op: 'setCloexec', fd: 11 },
      { op: 'setCloexec', fd: 3 },
    ]);
    // Under unshare alone (no user namespace made from the host) there are none to take.
    expect(takeRelaunchDescriptors(new FakeSyscalls(), config, false)).toEqual({ runtimeChannel: 3 });
    const missing = new FakeSyscalls().addFile('/ns');
    for (const fd of [4, 8]) missing.dup3(missing.open('/ns', O_RDONLY, 0), fd, 0);
    expect(() => takeRelaunchDescriptors(missing, config, true)).toThrow('mounts[1] "/m1": its idmapped copy, descriptor 9 from the process that started mountkit: fstat');
  });
});

describe('takeRelaunchDescriptors', () => {
  /** A process started as the relaunch is: the user namespace on 4, a joined namespace on 8, the console socket on 6. */
  function relaunched(socketAt6 = true): FakeSyscalls {
    const sys = new FakeSyscalls().addFile('/ns').addFile('/file');
    sys.dup3(sys.open('/ns', O_RDONLY, 0), 4, 0);
    sys.dup3(sys.open('/ns', O_RDONLY, 0), 8, 0);
    sys.dup3(socketAt6 ? sys.connectUnix('/run/console.sock') : sys.open('/file', O_RDONLY, 0), 6, 0);
    return sys.clearCalls();
  }
  const config = userConfig([{ type: 'pid' }, { type: 'user' }, { type: 'network', path: '/run/netns/a' }], { consoleSocket: '/run/console.sock' });

  test("under nsenter: the namespaces' descriptors are closed, the socket checked and marked close-on-exec, then the runtime channel", () => {
    const sys = relaunched();
    expect(takeRelaunchDescriptors(sys, config, true)).toEqual({ runtimeChannel: 3, hostSockets: { console: 6 } });
    expect(sys.calls).toEqual([
      { op: 'close', fd: 4 },
      { op: 'close', fd: 8 },
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
      { op: 'close', fd: 8 },
      { op: 'setgid', gid: 0 },
    ]);
    const unshared = relaunched();
    takeRelaunchDescriptors(unshared, { ...config, rootless: true }, false);
    expect(unshared.callsOf('setgid')).toEqual([]);
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
