import 'reflect-metadata';
import type { DeviceSpec, RootfsConfig } from '../../../src/core/config/model';
import * as posix from 'path/posix';
import { AT_EMPTY_PATH, AT_REMOVEDIR, MS_BIND, O_CLOEXEC, O_NOFOLLOW, O_PATH, RESOLVE_NO_XDEV, S_IFBLK, S_IFCHR, S_IFIFO, makedev } from '../../../src/core/constants';
import { IN_ROOT_NO_SYMLINKS } from '../../../src/core/in-root';
import { createKernel } from '../../../src/core/kernel';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { LifecycleStep, MountHandler, RunContext } from '../../../src/core/plugin';
import { FakeSyscalls, type SyscallRecord } from '../../../src/core/syscalls/fake';
import type { FileStat } from '../../../src/core/syscalls/types';
import * as devicesPlugin from '../../../src/plugins/devices';
import { DevSymlinksStep, DeviceNodesStep, PtmxStep } from '../../../src/plugins/devices';
import { DEFAULT_DEVICES, devicesToCreate, nodeKind, nodeMode } from '../../../src/plugins/devices/device-table';
import { IN_USER_NAMESPACE_KEY, inUserNamespace } from '../../../src/plugins/devices/userns';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, fdOf, fileMade, viaFd } from '../../helpers/fd';

const INITIAL_UID_MAP = '         0          0 4294967295\n';

function device(over: Partial<DeviceSpec> & Pick<DeviceSpec, 'path'>): DeviceSpec {
  return { type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0, ...over };
}

/** Does nothing: lets a config hold a /dev bind mount without a bind handler. */
const noopBind: MountHandler = { name: 'noop-bind', types: ['bind'], mount: () => undefined };

function setup(uidMap = INITIAL_UID_MAP) {
  const sys = new FakeSyscalls();
  sys.addDir('/r/dev');
  sys.addFile('/proc/self/uid_map', uidMap);
  // The host's nodes, the sources of the bind fallback.
  for (const d of DEFAULT_DEVICES) sys.addDevice(d.path, 'char', d.major, d.minor);
  sys.addDevice('/dev/fuse', 'char', 10, 229);
  const run = (over: Partial<RootfsConfig> = {}, steps: LifecycleStep[] = [new DeviceNodesStep(sys)]) =>
    new Orchestrator(sys, silentLogger, [noopBind], steps).run(makeConfig({ rootfs: '/r', ...over }), { checkClaims: false });
  return { sys, run };
}

/** The mknodat of a node at host path `path`, in its directory's descriptor. */
function mknodAt(sys: FakeSyscalls, path: string, mode: number, major: number, minor: number) {
  return { op: 'mknodat', dirfd: fdOf(sys, posix.dirname(path)), path: posix.basename(path), mode, dev: makedev(major, minor) } as const;
}

/** The changes of creating one node: mknodat, then fchownat of the node's own descriptor. */
function made(sys: FakeSyscalls, path: string, mode: number, major: number, minor: number, uid = 0, gid = 0) {
  return [mknodAt(sys, path, mode, major, minor), { op: 'fchownat', dirfd: fdOf(sys, path), path: '', uid, gid, flags: AT_EMPTY_PATH }];
}

/** The changes of making the default nodes in /r/dev, in runc 1.1's order. */
function defaultsMade(sys: FakeSyscalls, except: string[] = []) {
  return DEFAULT_DEVICES.filter((d) => !except.includes(d.path)).flatMap((d) => made(sys, `/r${d.path}`, S_IFCHR | 0o666, d.major, d.minor));
}

/** The changes of binding the host's node at `path`: an empty file made (unless there), then the bind through its descriptor. */
function bound(sys: FakeSyscalls, path: string, withFile = true) {
  return [
    ...(withFile ? [fileMade(sys, posix.dirname(`/r${path}`), posix.basename(path), 0o666)] : []),
    { op: 'mount', source: path, target: viaFd(sys, `/r${path}`), fstype: 'bind', flags: MS_BIND, data: null },
  ];
}

const UMASK_ZERO: SyscallRecord = { op: 'umask', mask: 0 };
const UMASK_RESTORED: SyscallRecord = { op: 'umask', mask: 0o022 };

describe('device table', () => {
  test('the defaults are runc 1.1 specconv.AllowedDevices entries that have a path', () => {
    expect(DEFAULT_DEVICES.map((d) => [d.path, d.type, d.major, d.minor, d.fileMode, d.uid, d.gid])).toEqual([
      ['/dev/null', 'c', 1, 3, 0o666, 0, 0],
      ['/dev/random', 'c', 1, 8, 0o666, 0, 0],
      ['/dev/full', 'c', 1, 7, 0o666, 0, 0],
      ['/dev/tty', 'c', 5, 0, 0o666, 0, 0],
      ['/dev/zero', 'c', 1, 5, 0o666, 0, 0],
      ['/dev/urandom', 'c', 1, 9, 0o666, 0, 0],
    ]);
  });

  test.each([
    ['no config devices: the defaults', [], ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom']],
    ['config devices follow the defaults', ['/dev/fuse', '/dev/net/tun'], ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom', '/dev/fuse', '/dev/net/tun']],
    ['a config device replaces the default of its path', ['/dev/tty', '/dev/null'], ['/dev/random', '/dev/full', '/dev/zero', '/dev/urandom', '/dev/tty', '/dev/null']],
    ['paths compare cleaned', ['/dev//zero/'], ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/urandom', '/dev//zero/']],
    ['none at /dev/ptmx: the ptmx step makes its link there', ['/dev/ptmx', '/dev/fuse', '/dev//ptmx'], ['/dev/null', '/dev/random', '/dev/full', '/dev/tty', '/dev/zero', '/dev/urandom', '/dev/fuse']],
  ])('%s', (_name, paths, expected) => {
    expect(devicesToCreate(paths.map((path) => device({ path }))).map((d) => d.path)).toEqual(expected);
  });

  test('the config device wins with all its fields', () => {
    const tty = device({ path: '/dev/tty', major: 5, minor: 0, uid: 5, fileMode: 0o620 });
    expect(devicesToCreate([tty]).filter((d) => d.path === '/dev/tty')).toEqual([tty]);
  });

  test.each([
    ['c', S_IFCHR | 0o640, 'char'],
    ['u', S_IFCHR | 0o640, 'char'],
    ['b', S_IFBLK | 0o640, 'block'],
    ['p', S_IFIFO | 0o640, 'fifo'],
  ] as const)('type %s: mknod mode %o, kind %s', (type, mode, kind) => {
    expect(nodeMode(device({ path: '/dev/x', type, fileMode: 0o640 }))).toBe(mode);
    expect(nodeKind(type)).toBe(kind);
  });

  test.each([0o4666, 0o2660, 0o1666, 0o7777])('the set-id and sticky bits of fileMode %o are kept, as mknod(2) takes them', (fileMode) => {
    expect(nodeMode(device({ path: '/dev/x', type: 'c', fileMode }))).toBe(S_IFCHR | fileMode);
  });

  test('type bits in a fileMode built in code do not leak into the node type', () => {
    expect(nodeMode(device({ path: '/dev/x', type: 'c', fileMode: S_IFBLK | 0o600 }))).toBe(S_IFCHR | 0o600);
  });
});

describe('user namespace detection', () => {
  test('uid_map is read once per run and kept in ctx.shared', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/uid_map', '0 1000 1\n');
    const ctx = { shared: new Map<string, unknown>() } as unknown as RunContext;
    expect(inUserNamespace(sys, ctx)).toBe(true);
    expect(inUserNamespace(sys, ctx)).toBe(true);
    expect(sys.callsOf('readFile')).toEqual([{ op: 'readFile', path: '/proc/self/uid_map' }]);
    expect(ctx.shared.get(IN_USER_NAMESPACE_KEY)).toBe(true);
  });

  test('the user namespace link decides where it can be read, uid_map unread: a namespace nested with the identity map is not the initial one (mknod would be refused there)', () => {
    const nested = new FakeSyscalls().addSymlink('/proc/self/ns/user', 'user:[4026532179]').addFile('/proc/self/uid_map', INITIAL_UID_MAP).clearCalls();
    expect(inUserNamespace(nested, { shared: new Map<string, unknown>() } as unknown as RunContext)).toBe(true);
    expect(nested.calls).toEqual([{ op: 'readlink', path: '/proc/self/ns/user' }]);
    const initial = new FakeSyscalls().addSymlink('/proc/self/ns/user', 'user:[4026531837]').addFile('/proc/self/uid_map', '0 1000 1\n').clearCalls();
    expect(inUserNamespace(initial, { shared: new Map<string, unknown>() } as unknown as RunContext)).toBe(false);
  });

  test('an unreadable uid_map counts as the initial namespace, as in runc', () => {
    const sys = new FakeSyscalls();
    const ctx = { shared: new Map<string, unknown>() } as unknown as RunContext;
    expect(inUserNamespace(sys, ctx)).toBe(false);
  });
});

describe('device nodes step', () => {
  test('makes the defaults with umask 0, then restores the umask', () => {
    const { sys, run } = setup();
    run();
    expect(changes(sys)).toEqual([UMASK_ZERO, ...defaultsMade(sys), UMASK_RESTORED]);
    expect(sys.node('/r/dev/tty')).toMatchObject({ kind: 'char', perm: 0o666, rdev: makedev(5, 0) });
  });

  test('the full call list of one node: its directory opened in the root, mknodat there, the node opened, owned and checked', () => {
    const { sys, run } = setup();
    run({ devices: [device({ path: '/dev/fuse', major: 10, minor: 229 })] });
    const PATH = O_PATH | O_CLOEXEC;
    const fuse = sys.calls.findIndex((c) => c.op === 'openat2' && c.path === 'dev/fuse');
    // openat2 of the node answers ENOENT with no symlink on the way (RESOLVE_NO_SYMLINKS), so
    // only the node itself is missing once /dev opens: nothing is walked.
    expect(sys.calls.slice(fuse, fuse + 8)).toEqual([
      { op: 'openat2', dirfd: 100, path: 'dev/fuse', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openat2', dirfd: 100, path: 'dev', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      mknodAt(sys, '/r/dev/fuse', S_IFCHR | 0o666, 10, 229),
      { op: 'openat', dirfd: fdOf(sys, '/r/dev'), path: 'fuse', flags: PATH | O_NOFOLLOW, mode: 0 },
      { op: 'close', fd: fdOf(sys, '/r/dev') },
      { op: 'fchownat', dirfd: fdOf(sys, '/r/dev/fuse'), path: '', uid: 0, gid: 0, flags: AT_EMPTY_PATH },
      { op: 'fstat', fd: fdOf(sys, '/r/dev/fuse') },
      { op: 'close', fd: fdOf(sys, '/r/dev/fuse') },
    ]);
  });

  test('a node whose path is a dangling link is made where the link leads, inside the root', () => {
    const { sys, run } = setup();
    sys.addSymlink('/r/dev/fuse', '/dev/real-fuse');
    run({ devices: [device({ path: '/dev/fuse', major: 10, minor: 229 })] });
    expect(sys.node('/r/dev/real-fuse')).toMatchObject({ kind: 'char', rdev: makedev(10, 229) });
    expect(sys.node('/dev/real-fuse')).toBeUndefined();
  });

  test('config devices come after the defaults, with parents, owner and each type', () => {
    const { sys, run } = setup();
    run({
      devices: [
        device({ path: '/dev/net/tun', major: 10, minor: 200, uid: 1000, gid: 1001, fileMode: 0o620 }),
        device({ path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, gid: 6 }),
        device({ path: '/dev/ttyu', type: 'u', major: 4, minor: 64 }),
        device({ path: '/dev/myfifo', type: 'p', major: 0, minor: 0, fileMode: 0o600 }),
      ],
    });
    expect(changes(sys)).toEqual([
      UMASK_ZERO,
      ...defaultsMade(sys),
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/dev'), path: 'net', mode: 0o755 },
      ...made(sys, '/r/dev/net/tun', S_IFCHR | 0o620, 10, 200, 1000, 1001),
      ...made(sys, '/r/dev/sda', S_IFBLK | 0o660, 8, 0, 0, 6),
      ...made(sys, '/r/dev/ttyu', S_IFCHR | 0o666, 4, 64),
      ...made(sys, '/r/dev/myfifo', S_IFIFO | 0o600, 0, 0),
      UMASK_RESTORED,
    ]);
    expect(sys.node('/r/dev/net/tun')).toMatchObject({ kind: 'char', perm: 0o620, uid: 1000, gid: 1001, rdev: makedev(10, 200) });
    expect(sys.node('/r/dev/myfifo')).toMatchObject({ kind: 'fifo', perm: 0o600 });
  });

  test('a config device with a default path replaces the default', () => {
    const { sys, run } = setup();
    run({ devices: [device({ path: '/dev/tty', major: 5, minor: 0, uid: 5, fileMode: 0o620 })] });
    expect(changes(sys)).toEqual([UMASK_ZERO, ...defaultsMade(sys, ['/dev/tty']), ...made(sys, '/r/dev/tty', S_IFCHR | 0o620, 5, 0, 5), UMASK_RESTORED]);
  });

  test('of two config devices at one path, the node of the first is made and kept, as under runc (EEXIST for the second)', () => {
    const { sys, run } = setup();
    run({ devices: [device({ path: '/dev/zz', minor: 3 }), device({ path: '/dev//zz', minor: 5, fileMode: 0o600 })] });
    expect(changes(sys)).toEqual([UMASK_ZERO, ...defaultsMade(sys, []), ...made(sys, '/r/dev/zz', S_IFCHR | 0o666, 1, 3), UMASK_RESTORED]);
  });

  test('in a user namespace, each of two config devices at one path is bound, as runc binds each', () => {
    const { sys, run } = setup('0 1000 1\n');
    run({ devices: [device({ path: '/dev/fuse', major: 10, minor: 229 }), device({ path: '/dev/fuse', major: 10, minor: 229 })] });
    expect(sys.callsOf('mount').filter((c) => c.source === '/dev/fuse')).toHaveLength(2);
  });

  test('an existing node of the right type and number is accepted as it is, checked on its descriptor', () => {
    const { sys, run } = setup();
    sys.addDevice('/r/dev/null', 'char', 1, 3, 0o600);
    run();
    expect(changes(sys)).toEqual([UMASK_ZERO, ...defaultsMade(sys, ['/dev/null']), UMASK_RESTORED]);
    expect(sys.callsOf('fstat')[0]).toEqual({ op: 'fstat', fd: fdOf(sys, '/r/dev/null') });
    expect(sys.node('/r/dev/null')?.perm).toBe(0o600);
  });

  test.each([
    ['a regular file', (sys: FakeSyscalls) => sys.addFile('/r/dev/null'), 'file'],
    ['another device number', (sys: FakeSyscalls) => sys.addDevice('/r/dev/null', 'char', 1, 5), 'char 1:5'],
    ['a block device', (sys: FakeSyscalls) => sys.addDevice('/r/dev/null', 'block', 1, 3), 'block 1:3'],
  ])('an existing %s is refused, and the umask restored', (_name, prepare, found) => {
    const { sys, run } = setup();
    prepare(sys);
    expect(() => run()).toThrow(`dev: plugin device-nodes: device "/dev/null" already exists as ${found}, expected char 1:3`);
    expect(sys.openFds()).toEqual([]);
    expect(changes(sys).at(-1)).toEqual(UMASK_RESTORED);
  });

  test('an entry that is a mountpoint (a file the config bound there: /dev/urandom at /dev/random) is kept as it is, as runc keeps it; told by RESOLVE_NO_XDEV', () => {
    const { sys, run } = setup();
    sys.addDevice('/dev/urandom', 'char', 1, 9).addDevice('/r/dev/random', 'char', 1, 9).addFile('/zero-src').addFile('/r/dev/zero');
    sys.mount('/dev/urandom', '/r/dev/random', null, MS_BIND, null);
    sys.mount('/zero-src', '/r/dev/zero', null, MS_BIND, null);
    sys.clearCalls();
    run();
    expect(sys.node('/r/dev/zero')?.kind).toBe('file');
    expect(sys.callsOf('openat2').filter((c) => c.resolve === RESOLVE_NO_XDEV)).toEqual([
      { op: 'openat2', dirfd: fdOf(sys, '/r/dev'), path: 'random', flags: O_PATH | O_NOFOLLOW | O_CLOEXEC, mode: 0, resolve: RESOLVE_NO_XDEV },
      { op: 'openat2', dirfd: fdOf(sys, '/r/dev'), path: 'zero', flags: O_PATH | O_NOFOLLOW | O_CLOEXEC, mode: 0, resolve: RESOLVE_NO_XDEV },
    ]);
    expect(sys.openFds()).toEqual([]);
  });

  test("without openat2 (ENOSYS, or EPERM from a filter): a mountpoint is an entry whose filesystem is not its directory's", () => {
    for (const errno of ['ENOSYS', 'EPERM']) {
      const { sys, run } = setup();
      sys.addDevice('/r/dev/random', 'char', 1, 9).addSymlink('/r/dev/zero', 'random');
      sys.node('/r/dev/random')!.dev = 6n;
      sys.failOn('openat2', errno, { times: Infinity });
      // random, bound from another filesystem, is kept; zero, a link in /dev itself, is refused.
      expect(() => run()).toThrow('dev: plugin device-nodes: device "/dev/zero" already exists as char 1:9, expected char 1:5');
      expect(sys.openFds()).toEqual([]);
    }
  });

  test("an image's link to another filesystem is no mountpoint: a non-device it leads to is refused", () => {
    const { sys, run } = setup();
    sys.addDir('/r/proc/sys/kernel').addFile('/r/proc/sys/kernel/domainname').addSymlink('/r/dev/null', '/proc/sys/kernel/domainname');
    sys.mount('proc', '/r/proc', 'proc', 0n, null);
    expect(() => run()).toThrow('dev: plugin device-nodes: device "/dev/null" already exists as file, expected char 1:3');
    expect(sys.openFds()).toEqual([]);
  });

  test('a symlink in place of a node is followed inside the rootfs, never to the host', () => {
    const { sys, run } = setup();
    sys.addSymlink('/r/dev/null', '/elsewhere/null');
    run();
    expect(changes(sys).slice(0, 4)).toEqual([
      UMASK_ZERO,
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'elsewhere', mode: 0o755 },
      ...made(sys, '/r/elsewhere/null', S_IFCHR | 0o666, 1, 3),
    ]);
    expect(sys.node('/elsewhere/null')).toBeUndefined();
  });

  test('an existing FIFO is accepted whatever its device number', () => {
    const { sys, run } = setup();
    sys.mknod('/r/dev/p', S_IFIFO | 0o600, 0n);
    sys.clearCalls();
    run({ devices: [device({ path: '/dev/p', type: 'p', major: 4, minor: 2 })] });
    expect(changes(sys)).toEqual([UMASK_ZERO, ...defaultsMade(sys), UMASK_RESTORED]);
  });

  test('a node that does not read back as made is an error naming path, expected and found', () => {
    class Lying extends FakeSyscalls {
      override fstat(fd: number): FileStat {
        const st = super.fstat(fd);
        return this.pathOf(fd) === '/r/dev/zero' ? { ...st, rdev: makedev(9, 9) } : st;
      }
    }
    const sys = new Lying();
    sys.addDir('/r/dev').addFile('/proc/self/uid_map', INITIAL_UID_MAP);
    const run = () => new Orchestrator(sys, silentLogger, [], [new DeviceNodesStep(sys)]).run(makeConfig({ rootfs: '/r' }), { checkClaims: false });
    expect(run).toThrow('dev: plugin device-nodes: device "/dev/zero" was created as char 9:9, expected char 1:5');
    expect(changes(sys).slice(-3)).toEqual([...made(sys, '/r/dev/zero', S_IFCHR | 0o666, 1, 5), UMASK_RESTORED]);
  });

  test('mknod refused with EPERM: the host node is bind-mounted onto an empty file', () => {
    const { sys, run } = setup();
    sys.failOn('mknodat', 'EPERM', { path: '/r/dev/null' });
    run();
    expect(changes(sys)).toEqual([
      UMASK_ZERO,
      mknodAt(sys, '/r/dev/null', S_IFCHR | 0o666, 1, 3),
      ...bound(sys, '/dev/null'),
      ...defaultsMade(sys, ['/dev/null']),
      UMASK_RESTORED,
    ]);
    expect(sys.node('/r/dev/null')).toMatchObject({ kind: 'file', perm: 0o666 });
  });

  test('inside a user namespace every node is a bind of the host node, without mknod', () => {
    const { sys, run } = setup('0 1000 1\n');
    sys.addFile('/r/dev/zero');
    run({ devices: [device({ path: '/dev/fuse', major: 10, minor: 229 })] });
    expect(changes(sys)).toEqual([
      UMASK_ZERO,
      ...bound(sys, '/dev/null'),
      ...bound(sys, '/dev/random'),
      ...bound(sys, '/dev/full'),
      ...bound(sys, '/dev/tty'),
      ...bound(sys, '/dev/zero', false),
      ...bound(sys, '/dev/urandom'),
      ...bound(sys, '/dev/fuse'),
      UMASK_RESTORED,
    ]);
  });

  test("inside a user namespace a device's missing directory is made 0755, as runc's MkdirAll makes it, not with the node's 0666 (which no lookup could cross)", () => {
    const { sys, run } = setup('0 1000 1\n');
    sys.addDevice('/dev/net/tun', 'char', 10, 200);
    run({ devices: [device({ path: '/dev/net/tun', major: 10, minor: 200, fileMode: 0o600 })] });
    const tun = changes(sys).slice(-4);
    expect(tun).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/dev'), path: 'net', mode: 0o755 },
      fileMade(sys, '/r/dev/net', 'tun', 0o666),
      { op: 'mount', source: '/dev/net/tun', target: viaFd(sys, '/r/dev/net/tun'), fstype: 'bind', flags: MS_BIND, data: null },
      UMASK_RESTORED,
    ]);
    expect(sys.node('/r/dev/net')).toMatchObject({ kind: 'dir', perm: 0o755 });
  });

  test('a user namespace in the config means binds too, without reading uid_map', () => {
    const { sys, run } = setup();
    run({ namespaces: [{ type: 'mount' }, { type: 'user' }] });
    expect(sys.callsOf('mknodat')).toEqual([]);
    expect(sys.mounts.map((m) => m.target)).toEqual(DEFAULT_DEVICES.map((d) => `/r${d.path}`));
    expect(sys.callsOf('readFile')).toEqual([]);
  });

  test('a symlinked /dev resolves inside the rootfs', () => {
    const sys = new FakeSyscalls();
    sys.addDir('/r').addDir('/etc').addSymlink('/r/dev', '/../../etc').addFile('/proc/self/uid_map', INITIAL_UID_MAP);
    new Orchestrator(sys, silentLogger, [], [new DeviceNodesStep(sys)]).run(makeConfig({ rootfs: '/r' }), { checkClaims: false });
    expect(sys.callsOf('mkdirat')).toEqual([{ op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'etc', mode: 0o755 }]);
    expect(sys.callsOf('mknodat').map((c) => `${sys.pathOf(c.dirfd)}/${c.path}`)).toEqual(DEFAULT_DEVICES.map((d) => `/r/etc${d.path.slice(4)}`));
    expect(sys.node('/etc/null')).toBeUndefined();
  });

  test.each(['/etc/passwd', '/dev/../etc/x', '/dev'])('a device path %s outside /dev is refused before anything is made', (path) => {
    const { sys, run } = setup();
    expect(() => run({ devices: [device({ path })] })).toThrow(`dev: plugin device-nodes: device path "${path}" is not under /dev`);
    expect(changes(sys)).toEqual([UMASK_ZERO, ...defaultsMade(sys), UMASK_RESTORED]);
  });

  test.each([
    ['mkdirat', { path: '/r/dev/net' }, 'mkdirat "/r/dev/net": EACCES'],
    ['mknodat', { path: '/r/dev/net/tun' }, 'mknodat "/r/dev/net/tun": EACCES'],
    ['fchownat', { path: '/r/dev/net/tun' }, 'fchownat "/r/dev/net/tun": EACCES'],
  ] as const)('a failing %s is a PluginError, and the umask is restored', (op, opts, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES', opts);
    expect(() => run({ devices: [device({ path: '/dev/net/tun', major: 10, minor: 200 })] })).toThrow(`dev: plugin device-nodes: ${message}`);
    expect(changes(sys).at(-1)).toEqual(UMASK_RESTORED);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['openat', { path: '/r/dev/null', nth: 2 }, 'openat "/r/dev/null": EACCES'],
    ['mount', {}, 'mount "/dev/null" -> "/r/dev/null": EACCES'],
  ] as const)('a failing %s of the bind fallback is a PluginError, and the umask is restored', (op, opts, message) => {
    const { sys, run } = setup('0 1000 1\n');
    sys.failOn(op, 'EACCES', opts);
    expect(() => run()).toThrow(`dev: plugin device-nodes: ${message}`);
    expect(changes(sys).at(-1)).toEqual(UMASK_RESTORED);
    expect(sys.openFds()).toEqual([]);
  });
});

describe('ptmx step', () => {
  function runPtmx(prepare: (sys: FakeSyscalls) => void = () => undefined) {
    const { sys, run } = setup();
    prepare(sys);
    run({}, [new PtmxStep(sys)]);
    return sys;
  }

  const ptmxCalls = (sys: FakeSyscalls) => [
    { op: 'unlinkat', dirfd: fdOf(sys, '/r/dev'), path: 'ptmx', flags: 0 },
    { op: 'symlinkat', target: 'pts/ptmx', dirfd: fdOf(sys, '/r/dev'), linkPath: 'ptmx' },
  ];

  test('no /dev/ptmx: a symlink to pts/ptmx, made by name in /dev', () => {
    const sys = runPtmx();
    expect(changes(sys)).toEqual(ptmxCalls(sys));
    expect(sys.node('/r/dev/ptmx')).toMatchObject({ kind: 'symlink', target: 'pts/ptmx' });
  });

  test('an existing node is replaced', () => {
    const sys = runPtmx((s) => s.addDevice('/r/dev/ptmx', 'char', 5, 2));
    expect(changes(sys)).toEqual(ptmxCalls(sys));
    expect(sys.node('/r/dev/ptmx')).toMatchObject({ kind: 'symlink', target: 'pts/ptmx' });
  });

  test('an existing symlink is removed itself, its target is left alone', () => {
    const sys = runPtmx((s) => s.addFile('/host/ptmx').addSymlink('/r/dev/ptmx', '/host/ptmx'));
    expect(sys.node('/host/ptmx')).toMatchObject({ kind: 'file' });
    expect(sys.node('/r/dev/ptmx')).toMatchObject({ kind: 'symlink', target: 'pts/ptmx' });
  });

  test('an empty directory is removed with AT_REMOVEDIR once unlinkat answers EISDIR, as runc removes it; one with entries stays, and stops the step', () => {
    const sys = runPtmx((s) => s.addDir('/r/dev/ptmx'));
    expect(changes(sys)).toEqual([
      { op: 'unlinkat', dirfd: fdOf(sys, '/r/dev'), path: 'ptmx', flags: 0 },
      { op: 'unlinkat', dirfd: fdOf(sys, '/r/dev'), path: 'ptmx', flags: AT_REMOVEDIR },
      { op: 'symlinkat', target: 'pts/ptmx', dirfd: fdOf(sys, '/r/dev'), linkPath: 'ptmx' },
    ]);
    expect(sys.node('/r/dev/ptmx')).toMatchObject({ kind: 'symlink', target: 'pts/ptmx' });
    const { sys: full, run } = setup();
    full.addFile('/r/dev/ptmx/kept');
    expect(() => run({}, [new PtmxStep(full)])).toThrow('dev: plugin ptmx: unlinkat "/r/dev/ptmx": ENOTEMPTY');
    expect(full.node('/r/dev/ptmx/kept')).toMatchObject({ kind: 'file' });
    expect(full.openFds()).toEqual([]);
  });

  test.each([
    ['unlinkat', 'unlinkat "/r/dev/ptmx": EACCES'],
    ['symlinkat', 'symlinkat "/r/dev/ptmx": EACCES'],
  ] as const)('a failing %s is a PluginError', (op, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES');
    expect(() => run({}, [new PtmxStep(sys)])).toThrow(`dev: plugin ptmx: ${message}`);
    expect(sys.openFds()).toEqual([]);
  });
});

describe('dev symlinks step', () => {
  const link = (sys: FakeSyscalls, target: string, name: string) => ({ op: 'symlinkat', target, dirfd: fdOf(sys, '/r/dev'), linkPath: name });
  const LINKS = (sys: FakeSyscalls) => [
    link(sys, '/proc/self/fd', 'fd'),
    link(sys, '/proc/self/fd/0', 'stdin'),
    link(sys, '/proc/self/fd/1', 'stdout'),
    link(sys, '/proc/self/fd/2', 'stderr'),
  ];

  test('without /proc/kcore: fd, stdin, stdout, stderr', () => {
    const { sys, run } = setup();
    run({}, [new DevSymlinksStep(sys)]);
    expect(changes(sys)).toEqual(LINKS(sys));
    expect(sys.callsOf('stat')).toContainEqual({ op: 'stat', path: '/proc/kcore' });
  });

  test('with /proc/kcore: /dev/core too', () => {
    const { sys, run } = setup();
    sys.addFile('/proc/kcore');
    run({}, [new DevSymlinksStep(sys)]);
    expect(changes(sys)).toEqual([...LINKS(sys), link(sys, '/proc/kcore', 'core')]);
  });

  test('an existing entry is kept', () => {
    const { sys, run } = setup();
    sys.addFile('/r/dev/stdin', 'mine');
    run({}, [new DevSymlinksStep(sys)]);
    expect(changes(sys)).toEqual(LINKS(sys));
    expect(sys.node('/r/dev/stdin')).toMatchObject({ kind: 'file', content: 'mine' });
    expect(sys.node('/r/dev/stdout')).toMatchObject({ kind: 'symlink', target: '/proc/self/fd/1' });
  });

  test('a failing symlink is a PluginError', () => {
    const { sys, run } = setup();
    sys.failOn('symlinkat', 'EACCES', { path: '/r/dev/stdout' });
    expect(() => run({}, [new DevSymlinksStep(sys)])).toThrow('dev: plugin dev-symlinks: symlinkat "/r/dev/stdout": EACCES');
  });
});

describe('devices plugin', () => {
  test('registers nodes (pre), ptmx (normal) and links (post) in the dev phase', () => {
    const sys = new FakeSyscalls();
    const kernel = createKernel({ syscalls: sys, plugins: { plugins: [] }, extra: [{ module: 'devices', plugin: devicesPlugin }] });
    expect(kernel.orchestrator.orderedSteps().map((s) => [s.name, s.phase, s.order])).toEqual([
      ['device-nodes', 'dev', 'pre'],
      ['ptmx', 'dev', 'normal'],
      ['dev-symlinks', 'dev', 'post'],
    ]);
  });

  test('all steps together, in order', () => {
    const { sys, run } = setup();
    run({}, [new DevSymlinksStep(sys), new PtmxStep(sys), new DeviceNodesStep(sys)]);
    expect(changes(sys).map((c) => c.op)).toEqual(['umask', ...defaultsMade(sys).map((c) => c.op), 'umask', 'unlinkat', 'symlinkat', 'symlinkat', 'symlinkat', 'symlinkat', 'symlinkat']);
  });

  test('a bind mount on /dev skips every step', () => {
    const { sys, run } = setup();
    run({ mounts: [makeMount({ type: 'bind', source: '/dev', destination: '/dev/' })] }, [new DeviceNodesStep(sys), new PtmxStep(sys), new DevSymlinksStep(sys)]);
    expect(sys.calls).toEqual([]);
  });
});
