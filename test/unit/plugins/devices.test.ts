import 'reflect-metadata';
import type { DeviceSpec, RootfsConfig } from '../../../src/core/config/model';
import { MS_BIND, S_IFBLK, S_IFCHR, S_IFIFO, makedev } from '../../../src/core/constants';
import { createKernel } from '../../../src/core/kernel';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { LifecycleStep, MountHandler, RunContext } from '../../../src/core/plugin';
import { FakeSyscalls, type SyscallRecord } from '../../../src/core/syscalls/fake';
import type { FileStat } from '../../../src/core/syscalls/types';
import * as devicesPlugin from '../../../src/plugins/devices';
import { DevSymlinksStep, DeviceNodesStep, PtmxStep } from '../../../src/plugins/devices';
import { DEFAULT_DEVICES, devicesToCreate, nodeKind, nodeMode } from '../../../src/plugins/devices/device-table';
import { IN_USER_NAMESPACE_KEY, inUserNamespace, uidMapIsInitial } from '../../../src/plugins/devices/userns';
import { makeConfig, makeMount } from '../../helpers/config';

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
    new Orchestrator(sys, silentLogger, [noopBind], steps).run(makeConfig({ rootfs: '/r', ...over }));
  return { sys, run };
}

/** The effects of creating one node with mknod and chown. */
function made(path: string, mode: number, major: number, minor: number, uid = 0, gid = 0): SyscallRecord[] {
  return [
    { op: 'mknod', path, mode, dev: makedev(major, minor) },
    { op: 'chown', path, uid, gid },
  ];
}

/** The effects of making the default nodes in /r/dev, in runc 1.1's order. */
function defaultsMade(except: string[] = []): SyscallRecord[] {
  return DEFAULT_DEVICES.filter((d) => !except.includes(d.path)).flatMap((d) => made(`/r${d.path}`, S_IFCHR | 0o666, d.major, d.minor));
}

function bound(path: string, withFile = true): SyscallRecord[] {
  return [
    ...(withFile ? [{ op: 'writeFile' as const, path: `/r${path}`, data: '', mode: 0o666 }] : []),
    { op: 'mount', source: path, target: `/r${path}`, fstype: 'bind', flags: MS_BIND, data: null },
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

  test('type bits in a fileMode built in code do not leak into the node type', () => {
    expect(nodeMode(device({ path: '/dev/x', type: 'c', fileMode: S_IFBLK | 0o600 }))).toBe(S_IFCHR | 0o600);
  });
});

describe('user namespace detection', () => {
  test.each([
    [INITIAL_UID_MAP, true],
    ['0 0 4294967295', true],
    ['0 1000 1\n', false],
    ['0 100000 65536\n', false],
    ['0 0 4294967295\n5 5 1\n', false],
    ['0 0 4294967294\n', false],
    ['', false],
  ])('uid_map %j is the initial namespace: %s', (map, expected) => {
    expect(uidMapIsInitial(map)).toBe(expected);
  });

  test('uid_map is read once per run and kept in ctx.shared', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/uid_map', '0 1000 1\n');
    const ctx = { shared: new Map<string, unknown>() } as unknown as RunContext;
    expect(inUserNamespace(sys, ctx)).toBe(true);
    expect(inUserNamespace(sys, ctx)).toBe(true);
    expect(sys.callsOf('readFile')).toEqual([{ op: 'readFile', path: '/proc/self/uid_map' }]);
    expect(ctx.shared.get(IN_USER_NAMESPACE_KEY)).toBe(true);
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
    expect(sys.effects()).toEqual([UMASK_ZERO, ...defaultsMade(), UMASK_RESTORED]);
    expect(sys.node('/r/dev/tty')).toMatchObject({ kind: 'char', perm: 0o666, rdev: makedev(5, 0) });
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
    expect(sys.effects()).toEqual([
      UMASK_ZERO,
      ...defaultsMade(),
      { op: 'mkdir', path: '/r/dev/net', mode: 0o755 },
      ...made('/r/dev/net/tun', S_IFCHR | 0o620, 10, 200, 1000, 1001),
      ...made('/r/dev/sda', S_IFBLK | 0o660, 8, 0, 0, 6),
      ...made('/r/dev/ttyu', S_IFCHR | 0o666, 4, 64),
      ...made('/r/dev/myfifo', S_IFIFO | 0o600, 0, 0),
      UMASK_RESTORED,
    ]);
    expect(sys.node('/r/dev/net/tun')).toMatchObject({ kind: 'char', perm: 0o620, uid: 1000, gid: 1001, rdev: makedev(10, 200) });
    expect(sys.node('/r/dev/myfifo')).toMatchObject({ kind: 'fifo', perm: 0o600 });
  });

  test('a config device with a default path replaces the default', () => {
    const { sys, run } = setup();
    run({ devices: [device({ path: '/dev/tty', major: 5, minor: 0, uid: 5, fileMode: 0o620 })] });
    expect(sys.effects()).toEqual([UMASK_ZERO, ...defaultsMade(['/dev/tty']), ...made('/r/dev/tty', S_IFCHR | 0o620, 5, 0, 5), UMASK_RESTORED]);
  });

  test('an existing node of the right type and number is accepted as it is', () => {
    const { sys, run } = setup();
    sys.addDevice('/r/dev/null', 'char', 1, 3, 0o600);
    run();
    expect(sys.effects()).toEqual([
      UMASK_ZERO,
      { op: 'mknod', path: '/r/dev/null', mode: S_IFCHR | 0o666, dev: makedev(1, 3) },
      ...defaultsMade(['/dev/null']),
      UMASK_RESTORED,
    ]);
    expect(sys.node('/r/dev/null')?.perm).toBe(0o600);
  });

  test.each([
    ['a regular file', (sys: FakeSyscalls) => sys.addFile('/r/dev/null'), 'file'],
    ['another device number', (sys: FakeSyscalls) => sys.addDevice('/r/dev/null', 'char', 1, 5), 'char 1:5'],
    ['a block device', (sys: FakeSyscalls) => sys.addDevice('/r/dev/null', 'block', 1, 3), 'block 1:3'],
  ])('an existing %s is refused, and the umask restored', (_name, prepare, found) => {
    const { sys, run } = setup();
    prepare(sys);
    expect(() => run()).toThrow(`dev: plugin device-nodes: device "/dev/null": "/r/dev/null" already exists as ${found}, expected char 1:3`);
    expect(sys.effects().at(-1)).toEqual(UMASK_RESTORED);
  });

  test('a symlink in place of a node is followed inside the rootfs, never to the host', () => {
    const { sys, run } = setup();
    sys.addSymlink('/r/dev/null', '/elsewhere/null');
    run();
    expect(sys.effects().slice(0, 4)).toEqual([
      UMASK_ZERO,
      { op: 'mkdir', path: '/r/elsewhere', mode: 0o755 },
      ...made('/r/elsewhere/null', S_IFCHR | 0o666, 1, 3),
    ]);
    expect(sys.node('/elsewhere/null')).toBeUndefined();
  });

  test('an existing FIFO is accepted whatever its device number', () => {
    const { sys, run } = setup();
    sys.mknod('/r/dev/p', S_IFIFO | 0o600, 0n);
    sys.clearCalls();
    run({ devices: [device({ path: '/dev/p', type: 'p', major: 4, minor: 2 })] });
    expect(sys.effects()).toEqual([UMASK_ZERO, ...defaultsMade(), { op: 'mknod', path: '/r/dev/p', mode: S_IFIFO | 0o666, dev: makedev(4, 2) }, UMASK_RESTORED]);
  });

  test('a node that does not read back as made is an error naming path, expected and found', () => {
    class Lying extends FakeSyscalls {
      override lstat(path: string): FileStat {
        const st = super.lstat(path);
        return path === '/r/dev/zero' ? { ...st, rdev: makedev(9, 9) } : st;
      }
    }
    const sys = new Lying();
    sys.addDir('/r/dev').addFile('/proc/self/uid_map', INITIAL_UID_MAP);
    const run = () => new Orchestrator(sys, silentLogger, [], [new DeviceNodesStep(sys)]).run(makeConfig({ rootfs: '/r' }));
    expect(run).toThrow('dev: plugin device-nodes: device "/dev/zero": "/r/dev/zero" was created as char 9:9, expected char 1:5');
    expect(sys.effects().slice(-3)).toEqual([...made('/r/dev/zero', S_IFCHR | 0o666, 1, 5), UMASK_RESTORED]);
  });

  test('mknod refused with EPERM: the host node is bind-mounted onto an empty file', () => {
    const { sys, run } = setup();
    sys.failOn('mknod', 'EPERM', { path: '/r/dev/null' });
    run();
    expect(sys.effects()).toEqual([
      UMASK_ZERO,
      { op: 'mknod', path: '/r/dev/null', mode: S_IFCHR | 0o666, dev: makedev(1, 3) },
      ...bound('/dev/null'),
      ...defaultsMade(['/dev/null']),
      UMASK_RESTORED,
    ]);
    expect(sys.node('/r/dev/null')).toMatchObject({ kind: 'file', perm: 0o666 });
  });

  test('inside a user namespace every node is a bind of the host node, without mknod', () => {
    const { sys, run } = setup('0 1000 1\n');
    sys.addFile('/r/dev/zero');
    run({ devices: [device({ path: '/dev/fuse', major: 10, minor: 229 })] });
    expect(sys.effects()).toEqual([
      UMASK_ZERO,
      ...bound('/dev/null'),
      ...bound('/dev/random'),
      ...bound('/dev/full'),
      ...bound('/dev/tty'),
      ...bound('/dev/zero', false),
      ...bound('/dev/urandom'),
      ...bound('/dev/fuse'),
      UMASK_RESTORED,
    ]);
  });

  test('a user namespace in the config means binds too, without reading uid_map', () => {
    const { sys, run } = setup();
    run({ namespaces: [{ type: 'mount' }, { type: 'user' }] });
    expect(sys.callsOf('mknod')).toEqual([]);
    expect(sys.callsOf('mount').map((c) => c.target)).toEqual(DEFAULT_DEVICES.map((d) => `/r${d.path}`));
    expect(sys.callsOf('readFile')).toEqual([]);
  });

  test('a symlinked /dev resolves inside the rootfs', () => {
    const sys = new FakeSyscalls();
    sys.addDir('/r').addDir('/etc').addSymlink('/r/dev', '/../../etc').addFile('/proc/self/uid_map', INITIAL_UID_MAP);
    new Orchestrator(sys, silentLogger, [], [new DeviceNodesStep(sys)]).run(makeConfig({ rootfs: '/r' }));
    expect(sys.callsOf('mkdir')).toEqual([{ op: 'mkdir', path: '/r/etc', mode: 0o755 }]);
    expect(sys.callsOf('mknod').map((c) => c.path)).toEqual(DEFAULT_DEVICES.map((d) => `/r/etc${d.path.slice(4)}`));
    expect(sys.node('/etc/null')).toBeUndefined();
  });

  test.each(['/etc/passwd', '/dev/../etc/x', '/dev'])('a device path %s outside /dev is refused before anything is made', (path) => {
    const { sys, run } = setup();
    expect(() => run({ devices: [device({ path })] })).toThrow(`dev: plugin device-nodes: device path "${path}" is not under /dev`);
    expect(sys.effects()).toEqual([UMASK_ZERO, ...defaultsMade(), UMASK_RESTORED]);
  });

  test.each([
    ['mkdir', { path: '/r/dev/net' }, 'mkdir "/r/dev/net": EACCES'],
    ['mknod', { path: '/r/dev/net/tun' }, 'mknod "/r/dev/net/tun": EACCES'],
    ['chown', { path: '/r/dev/net/tun' }, 'chown "/r/dev/net/tun": EACCES'],
  ] as const)('a failing %s is a PluginError, and the umask is restored', (op, opts, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES', opts);
    expect(() => run({ devices: [device({ path: '/dev/net/tun', major: 10, minor: 200 })] })).toThrow(`dev: plugin device-nodes: ${message}`);
    expect(sys.effects().at(-1)).toEqual(UMASK_RESTORED);
  });

  test.each([
    ['writeFile', 'writeFile "/r/dev/null": EACCES'],
    ['mount', 'mount "/dev/null" -> "/r/dev/null": EACCES'],
  ] as const)('a failing %s of the bind fallback is a PluginError, and the umask is restored', (op, message) => {
    const { sys, run } = setup('0 1000 1\n');
    sys.failOn(op, 'EACCES');
    expect(() => run()).toThrow(`dev: plugin device-nodes: ${message}`);
    expect(sys.effects().at(-1)).toEqual(UMASK_RESTORED);
  });
});

describe('ptmx step', () => {
  function runPtmx(prepare: (sys: FakeSyscalls) => void = () => undefined) {
    const { sys, run } = setup();
    prepare(sys);
    run({}, [new PtmxStep(sys)]);
    return sys;
  }

  test('no /dev/ptmx: a symlink to pts/ptmx', () => {
    const sys = runPtmx();
    expect(sys.effects()).toEqual([
      { op: 'unlink', path: '/r/dev/ptmx' },
      { op: 'symlink', target: 'pts/ptmx', linkPath: '/r/dev/ptmx' },
    ]);
    expect(sys.node('/r/dev/ptmx')).toMatchObject({ kind: 'symlink', target: 'pts/ptmx' });
  });

  test('an existing node is replaced', () => {
    const sys = runPtmx((s) => s.addDevice('/r/dev/ptmx', 'char', 5, 2));
    expect(sys.effects()).toEqual([
      { op: 'unlink', path: '/r/dev/ptmx' },
      { op: 'symlink', target: 'pts/ptmx', linkPath: '/r/dev/ptmx' },
    ]);
    expect(sys.node('/r/dev/ptmx')).toMatchObject({ kind: 'symlink', target: 'pts/ptmx' });
  });

  test('an existing symlink is removed itself, its target is left alone', () => {
    const sys = runPtmx((s) => s.addFile('/host/ptmx').addSymlink('/r/dev/ptmx', '/host/ptmx'));
    expect(sys.node('/host/ptmx')).toMatchObject({ kind: 'file' });
    expect(sys.node('/r/dev/ptmx')).toMatchObject({ kind: 'symlink', target: 'pts/ptmx' });
  });

  test.each([
    ['unlink', 'unlink "/r/dev/ptmx": EACCES'],
    ['symlink', 'symlink "pts/ptmx" -> "/r/dev/ptmx": EACCES'],
  ] as const)('a failing %s is a PluginError', (op, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES');
    expect(() => run({}, [new PtmxStep(sys)])).toThrow(`dev: plugin ptmx: ${message}`);
  });
});

describe('dev symlinks step', () => {
  const LINKS: SyscallRecord[] = [
    { op: 'symlink', target: '/proc/self/fd', linkPath: '/r/dev/fd' },
    { op: 'symlink', target: '/proc/self/fd/0', linkPath: '/r/dev/stdin' },
    { op: 'symlink', target: '/proc/self/fd/1', linkPath: '/r/dev/stdout' },
    { op: 'symlink', target: '/proc/self/fd/2', linkPath: '/r/dev/stderr' },
  ];

  test('without /proc/kcore: fd, stdin, stdout, stderr', () => {
    const { sys, run } = setup();
    run({}, [new DevSymlinksStep(sys)]);
    expect(sys.effects()).toEqual(LINKS);
    expect(sys.callsOf('stat')).toContainEqual({ op: 'stat', path: '/proc/kcore' });
  });

  test('with /proc/kcore: /dev/core too', () => {
    const { sys, run } = setup();
    sys.addFile('/proc/kcore');
    run({}, [new DevSymlinksStep(sys)]);
    expect(sys.effects()).toEqual([...LINKS, { op: 'symlink', target: '/proc/kcore', linkPath: '/r/dev/core' }]);
  });

  test('an existing entry is kept', () => {
    const { sys, run } = setup();
    sys.addFile('/r/dev/stdin', 'mine');
    run({}, [new DevSymlinksStep(sys)]);
    expect(sys.effects()).toEqual(LINKS);
    expect(sys.node('/r/dev/stdin')).toMatchObject({ kind: 'file', content: 'mine' });
    expect(sys.node('/r/dev/stdout')).toMatchObject({ kind: 'symlink', target: '/proc/self/fd/1' });
  });

  test('a failing symlink is a PluginError', () => {
    const { sys, run } = setup();
    sys.failOn('symlink', 'EACCES', { path: '/r/dev/stdout' });
    expect(() => run({}, [new DevSymlinksStep(sys)])).toThrow('dev: plugin dev-symlinks: symlink "/proc/self/fd/1" -> "/r/dev/stdout": EACCES');
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
    expect(sys.effects().map((c) => c.op)).toEqual(['umask', ...defaultsMade().map((c) => c.op), 'umask', 'unlink', 'symlink', 'symlink', 'symlink', 'symlink', 'symlink']);
  });

  test('a bind mount on /dev skips every step', () => {
    const { sys, run } = setup();
    run({ mounts: [makeMount({ type: 'bind', source: '/dev', destination: '/dev/' })] }, [new DeviceNodesStep(sys), new PtmxStep(sys), new DevSymlinksStep(sys)]);
    expect(sys.calls).toEqual([]);
  });
});
