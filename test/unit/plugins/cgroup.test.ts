import 'reflect-metadata';
import * as posix from 'path/posix';
import type { MountSpec } from '../../../src/core/config/model';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SLAVE,
} from '../../../src/core/constants';
import { ConfigError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/logger';
import { parseMountInfo } from '../../../src/core/mountinfo';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { MountHandler, RunContext } from '../../../src/core/plugin';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { CgroupMountHandler } from '../../../src/plugins/cgroup';
import {
  comountLinks,
  isUnifiedHost,
  ownCgroup2Dir,
  ownCgroupDir,
  parseProcCgroup,
  v1Hierarchies,
  v1MountArgs,
  type V1Hierarchy,
} from '../../../src/plugins/cgroup/hierarchy';
import { DefaultMountHandler } from '../../../src/plugins/default';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, fdOf, viaFd } from '../../helpers/fd';
import { procDestinationProblem } from '../../../src/core/paths';

/** The cgroup lines of this project's hybrid CI host's /proc/self/mountinfo. */
const HYBRID_MOUNTINFO = `
23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;

const HYBRID_CGROUP = `9:name=systemd:/
8:pids:/
7:blkio:/
6:freezer:/
5:devices:/
4:memory:/process_api/2611
3:cpuset:/
2:cpuacct:/
1:cpu:/
0::/
`;

/** A classic systemd hybrid layout: co-mounted controllers and their links on the host. */
const COMOUNT_MOUNTINFO = `
31 23 0:28 / /sys/fs/cgroup ro,nosuid,nodev,noexec - tmpfs tmpfs ro,mode=755
32 31 0:29 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:5 - cgroup2 cgroup2 rw,nsdelegate
33 31 0:30 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:6 - cgroup cgroup rw,xattr,name=systemd
34 31 0:31 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:7 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:8 - cgroup cgroup rw,net_cls,net_prio
36 31 0:33 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:9 - cgroup cgroup rw,memory
`;

const COMOUNT_CGROUP = `12:memory:/user.slice
4:net_cls,net_prio:/
3:cpu,cpuacct:/user.slice
1:name=systemd:/user.slice/session-2.scope
0::/user.slice/session-2.scope
`;

const UNIFIED_MOUNTINFO = `
23 1 0:22 / /sys rw,nosuid,nodev,noexec,relatime - sysfs sysfs rw
25 23 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
`;

const UNIFIED_CGROUP = '0::/user.slice/user-0.slice/session-1.scope\n';

const hybrid = () => v1Hierarchies(parseMountInfo(HYBRID_MOUNTINFO), parseProcCgroup(HYBRID_CGROUP));
const h = (mountpoint: string, controllers: string[], cgroupPath: string, root = '/'): V1Hierarchy => ({ mountpoint, root, controllers, cgroupPath });

describe('parseProcCgroup', () => {
  test('one entry per line; controllers split, v2 has none; colons in the path kept', () => {
    expect(parseProcCgroup('4:memory:/a\n3:cpu,cpuacct:/b:c\n1:name=systemd:/\n0::/user.slice\n')).toEqual([
      { id: 4, controllers: ['memory'], path: '/a' },
      { id: 3, controllers: ['cpu', 'cpuacct'], path: '/b:c' },
      { id: 1, controllers: ['name=systemd'], path: '/' },
      { id: 0, controllers: [], path: '/user.slice' },
    ]);
  });

  test.each(['4:memory', 'garbage'])('%j is refused', (line) => {
    expect(() => parseProcCgroup(`${line}\n`)).toThrow(`malformed /proc/self/cgroup line: ${JSON.stringify(line)}`);
  });
});

describe('v1Hierarchies', () => {
  test('this hybrid host: every cgroup (v1) mount in table order, cgroup2 left out', () => {
    expect(hybrid()).toEqual([
      h('/sys/fs/cgroup/cpu', ['cpu'], '/'),
      h('/sys/fs/cgroup/cpuacct', ['cpuacct'], '/'),
      h('/sys/fs/cgroup/cpuset', ['cpuset'], '/'),
      h('/sys/fs/cgroup/memory', ['memory'], '/process_api/2611'),
      h('/sys/fs/cgroup/devices', ['devices'], '/'),
      h('/sys/fs/cgroup/freezer', ['freezer'], '/'),
      h('/sys/fs/cgroup/blkio', ['blkio'], '/'),
      h('/sys/fs/cgroup/pids', ['pids'], '/'),
      h('/sys/fs/cgroup/systemd', ['name=systemd'], '/'),
    ]);
  });

  test('co-mounted controllers stay together; options that are not controllers are dropped', () => {
    expect(v1Hierarchies(parseMountInfo(COMOUNT_MOUNTINFO), parseProcCgroup(COMOUNT_CGROUP))).toEqual([
      h('/sys/fs/cgroup/systemd', ['name=systemd'], '/user.slice/session-2.scope'),
      h('/sys/fs/cgroup/cpu,cpuacct', ['cpu', 'cpuacct'], '/user.slice'),
      h('/sys/fs/cgroup/net_cls,net_prio', ['net_cls', 'net_prio'], '/'),
      h('/sys/fs/cgroup/memory', ['memory'], '/user.slice'),
    ]);
  });

  test('the first mount of a hierarchy wins; a controller the process is not in is ignored', () => {
    const table = parseMountInfo(`
50 1 0:29 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu
51 1 0:29 / /mnt/cpu-again rw - cgroup cgroup rw,cpu
52 1 0:40 / /sys/fs/cgroup/rdma rw - cgroup cgroup rw,rdma
`);
    expect(v1Hierarchies(table, parseProcCgroup('1:cpu:/docker/abc/x\n0::/\n'))).toEqual([h('/sys/fs/cgroup/cpu', ['cpu'], '/docker/abc/x', '/docker/abc')]);
  });

  test('a unified host has none', () => {
    expect(v1Hierarchies(parseMountInfo(UNIFIED_MOUNTINFO), parseProcCgroup(UNIFIED_CGROUP))).toEqual([]);
  });
});

describe('ownCgroupDir', () => {
  test.each([
    ['/sys/fs/cgroup/memory', '/', '/process_api/2611', '/sys/fs/cgroup/memory/process_api/2611'],
    ['/sys/fs/cgroup/cpu', '/', '/', '/sys/fs/cgroup/cpu'],
    ['/sys/fs/cgroup/cpu', '/docker/abc', '/docker/abc/x/y', '/sys/fs/cgroup/cpu/x/y'],
    ['/sys/fs/cgroup/cpu', '/docker/abc', '/docker/abc', '/sys/fs/cgroup/cpu'],
    ['/sys/fs/cgroup/cpu', '/docker/abc/', '/docker/abc/x/', '/sys/fs/cgroup/cpu/x'],
  ])('mountpoint %s showing %s, cgroup %s -> %s', (mountpoint, root, path, expected) => {
    expect(ownCgroupDir(mountpoint, root, path)).toBe(expected);
  });

  test.each([
    ['/docker/abc', '/docker/abcd'],
    ['/docker/abc', '/'],
  ])('a cgroup outside the mount root %s (%s) is refused', (root, path) => {
    expect(() => ownCgroupDir('/sys/fs/cgroup/cpu', root, path)).toThrow(
      `own cgroup "${path}" is outside the root "${root}" of the hierarchy mounted at "/sys/fs/cgroup/cpu"`,
    );
  });

  test('a root outside the cgroup namespace ("/..") is refused, not cleaned away', () => {
    expect(() => ownCgroupDir('/sys/fs/cgroup/unified', '/../..', '/')).toThrow(
      'the hierarchy mounted at "/sys/fs/cgroup/unified" shows "/../..", outside this process\'s cgroup namespace',
    );
  });
});

describe('comountLinks and v1MountArgs', () => {
  test('each controller of a co-mounted hierarchy links to it; single ones get none', () => {
    expect(comountLinks(['systemd', 'cpu,cpuacct', 'memory', 'net_cls,net_prio'])).toEqual([
      ['cpu', 'cpu,cpuacct'],
      ['cpuacct', 'cpu,cpuacct'],
      ['net_cls', 'net_cls,net_prio'],
      ['net_prio', 'net_cls,net_prio'],
    ]);
  });

  test.each([
    [['cpu'], { source: 'cgroup', data: 'cpu' }],
    [['cpu', 'cpuacct'], { source: 'cgroup', data: 'cpu,cpuacct' }],
    [['name=systemd'], { source: 'systemd', data: 'name=systemd' }],
  ])('controllers %j mount with %j', (controllers, expected) => {
    expect(v1MountArgs(h('/x', controllers, '/'))).toEqual(expected);
  });
});

describe('isUnifiedHost and ownCgroup2Dir', () => {
  test.each([
    { name: 'hybrid', mountinfo: HYBRID_MOUNTINFO, unified: false },
    { name: 'unified', mountinfo: UNIFIED_MOUNTINFO, unified: true },
    { name: 'no cgroup at all', mountinfo: '1 0 0:1 / / rw - ext4 /dev/sda rw\n', unified: false },
    { name: 'cgroup2 covered by a later tmpfs', mountinfo: `${UNIFIED_MOUNTINFO}26 25 0:40 / /sys/fs/cgroup rw - tmpfs tmpfs rw\n`, unified: false },
  ])('$name host: unified is $unified', ({ mountinfo, unified }) => {
    expect(isUnifiedHost(parseMountInfo(mountinfo))).toBe(unified);
  });

  test.each([
    ['hybrid', HYBRID_MOUNTINFO, HYBRID_CGROUP, '/sys/fs/cgroup/unified'],
    ['co-mounted hybrid', COMOUNT_MOUNTINFO, COMOUNT_CGROUP, '/sys/fs/cgroup/unified/user.slice/session-2.scope'],
    ['unified', UNIFIED_MOUNTINFO, UNIFIED_CGROUP, '/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope'],
  ])('%s host: the first cgroup2 mount plus the 0:: path', (_name, mountinfo, cgroup, expected) => {
    expect(ownCgroup2Dir(parseMountInfo(mountinfo), parseProcCgroup(cgroup))).toBe(expected);
  });

  test('without a 0:: line or a cgroup2 mount there is no own v2 cgroup', () => {
    expect(() => ownCgroup2Dir(parseMountInfo(HYBRID_MOUNTINFO), parseProcCgroup('1:cpu:/\n'))).toThrow(
      '/proc/self/cgroup has no cgroup v2 entry ("0::/path")',
    );
    expect(() => ownCgroup2Dir(parseMountInfo(HYBRID_MOUNTINFO.replace(/.*cgroup2.*\n/, '')), parseProcCgroup(HYBRID_CGROUP))).toThrow(
      'no cgroup2 filesystem in /proc/self/mountinfo',
    );
  });
});

// ---- the handler ----

/** runc spec's default cgroup mount: nosuid,noexec,nodev,relatime,ro. */
const DEFAULT_FLAGS = MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY;
const ROOT_FLAGS = MS_NOEXEC | MS_NOSUID | MS_NODEV;

/** A tmpfs or bind handler that records the mount it was given and mounts it with the default handler. */
function recording(name: string, sys: FakeSyscalls, seen: MountSpec[]): MountHandler {
  const inner = new DefaultMountHandler(sys);
  return { name, types: [name], mount: (m: MountSpec, ctx: RunContext) => (seen.push(m), inner.mount(m, ctx)) };
}

interface Host {
  mountinfo: string;
  cgroup: string;
  /** Host directories bind sources need. */
  dirs: string[];
}

const HYBRID_HOST: Host = {
  mountinfo: HYBRID_MOUNTINFO,
  cgroup: HYBRID_CGROUP,
  dirs: ['cpu', 'cpuacct', 'cpuset', 'memory/process_api/2611', 'devices', 'freezer', 'blkio', 'pids', 'systemd', 'unified'].map((d) => `/sys/fs/cgroup/${d}`),
};
const COMOUNT_HOST: Host = {
  mountinfo: COMOUNT_MOUNTINFO,
  cgroup: COMOUNT_CGROUP,
  dirs: ['systemd/user.slice/session-2.scope', 'cpu,cpuacct/user.slice', 'net_cls,net_prio', 'memory/user.slice', 'unified/user.slice/session-2.scope'].map((d) => `/sys/fs/cgroup/${d}`),
};
const UNIFIED_HOST: Host = { mountinfo: UNIFIED_MOUNTINFO, cgroup: UNIFIED_CGROUP, dirs: ['/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope'] };

function setup(host: Host = HYBRID_HOST, options: Record<string, unknown> = {}) {
  const sys = new FakeSyscalls();
  sys.addFile('/proc/self/mountinfo', host.mountinfo.trimStart());
  sys.addFile('/proc/self/cgroup', host.cgroup);
  for (const d of host.dirs) sys.addDir(d);
  // The rootfs's /sys/fs/cgroup exists, as a sysfs mounted at /sys provides it.
  sys.addDir('/r/sys/fs/cgroup');
  const seen: MountSpec[] = [];
  const handlers = [new CgroupMountHandler(sys, options), recording('tmpfs', sys, seen), recording('bind', sys, seen)];
  const run = (over: Partial<MountSpec> = {}, config: Parameters<typeof makeConfig>[0] = {}) =>
    new Orchestrator(sys, silentLogger, handlers, []).run(
      makeConfig({
        rootfs: '/r',
        mounts: [makeMount({ index: 0, type: 'cgroup', source: 'cgroup', destination: '/sys/fs/cgroup', flags: DEFAULT_FLAGS, ...over })],
        ...config,
      }),
      { checkClaims: false },
    );
  return { sys, seen, run };
}

/** The MountSpec the handler derives, with the fields a derived mount leaves empty. */
function spec(over: Partial<MountSpec> & Pick<MountSpec, 'type' | 'source' | 'destination' | 'flags'>): MountSpec {
  return makeMount({ index: 0, ...over });
}

/** What the default-handler stand-in does for a dispatched bind of `source` onto /r`dest`. */
function bindEffects(sys: FakeSyscalls, source: string, dest: string, flags: bigint, propagation: bigint[] = []) {
  return [
    { op: 'mkdirat', dirfd: fdOf(sys, posix.dirname(`/r${dest}`)), path: posix.basename(dest), mode: 0o755 },
    { op: 'mount', source, target: viaFd(sys, `/r${dest}`), fstype: 'bind', flags, data: null },
    ...propagation.map((p) => ({ op: 'mount', source: null, target: viaFd(sys, `/r${dest}`), fstype: null, flags: p, data: null })),
  ];
}

/** The symlinkat of a co-mount link `name` -> `target` in the rootfs's /sys/fs/cgroup. */
function link(sys: FakeSyscalls, name: string, target: string) {
  return { op: 'symlinkat', target, dirfd: fdOf(sys, '/r/sys/fs/cgroup'), linkPath: name };
}

/** Where each symlinkat made its link. */
function linkPaths(sys: FakeSyscalls): string[] {
  return sys.callsOf('symlinkat').map((c) => `${sys.pathOf(c.dirfd)}/${c.linkPath}`);
}

const setattr = (sys: FakeSyscalls, path: string) => ({
  op: 'mountSetattr',
  dirfd: fdOf(sys, path),
  path: '',
  atFlags: AT_EMPTY_PATH | AT_RECURSIVE,
  attrSet: MOUNT_ATTR_RDONLY,
  attrClr: 0n,
  propagation: 0n,
});

const HYBRID_BINDS: [string, string][] = [
  ['cpu', '/sys/fs/cgroup/cpu'],
  ['cpuacct', '/sys/fs/cgroup/cpuacct'],
  ['cpuset', '/sys/fs/cgroup/cpuset'],
  ['memory', '/sys/fs/cgroup/memory/process_api/2611'],
  ['devices', '/sys/fs/cgroup/devices'],
  ['freezer', '/sys/fs/cgroup/freezer'],
  ['blkio', '/sys/fs/cgroup/blkio'],
  ['pids', '/sys/fs/cgroup/pids'],
  ['systemd', '/sys/fs/cgroup/systemd'],
];

describe('cgroup v1 (hybrid host), no cgroup namespace', () => {
  test('a tmpfs, then the own cgroup of each hierarchy bound under it, through dispatch', () => {
    const { sys, seen, run } = setup();
    run();
    const bindFlags = MS_BIND | MS_REC | DEFAULT_FLAGS;
    expect(seen).toEqual([
      spec({ type: 'tmpfs', source: 'tmpfs', destination: '/sys/fs/cgroup', flags: ROOT_FLAGS, data: 'mode=755' }),
      ...HYBRID_BINDS.map(([name, source]) => spec({ type: 'bind', source, destination: `/sys/fs/cgroup/${name}`, flags: bindFlags })),
    ]);
    expect(changes(sys)).toEqual([
      { op: 'mount', source: 'tmpfs', target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: 'tmpfs', flags: ROOT_FLAGS, data: 'mode=755' },
      ...HYBRID_BINDS.flatMap(([name, source]) => bindEffects(sys, source, `/sys/fs/cgroup/${name}`, bindFlags)),
    ]);
  });

  test('the mount table and /proc/self/cgroup are read before anything is mounted', () => {
    const { sys, run } = setup();
    run();
    const firstEffect = sys.calls.findIndex((c) => c.op === 'mount');
    const reads = sys.callsOf('readFile').map((c) => c.path);
    expect(reads).toEqual(['/proc/self/mountinfo', '/proc/self/cgroup']);
    expect(sys.calls.slice(0, firstEffect).filter((c) => c.op === 'readFile')).toHaveLength(2);
  });

  test('propagation and cleared flags go to the tmpfs and every bind; nothing else of the mount does', () => {
    const { seen, run } = setup();
    run({ flags: MS_NOSUID, clearedFlags: MS_RDONLY, propagationFlags: [MS_SLAVE | MS_REC], data: 'ignored', relabel: 'z' });
    expect(seen[0]).toEqual(
      spec({ type: 'tmpfs', source: 'tmpfs', destination: '/sys/fs/cgroup', flags: ROOT_FLAGS, data: 'mode=755', propagationFlags: [MS_SLAVE | MS_REC] }),
    );
    expect(seen[4]).toEqual(
      spec({
        type: 'bind',
        source: '/sys/fs/cgroup/memory/process_api/2611',
        destination: '/sys/fs/cgroup/memory',
        flags: MS_BIND | MS_REC | MS_NOSUID,
        clearedFlags: MS_RDONLY,
        propagationFlags: [MS_SLAVE | MS_REC],
      }),
    );
  });

  test('co-mounted hierarchies: bound under their joined name, then one link per controller', () => {
    const { sys, seen, run } = setup(COMOUNT_HOST);
    run({ flags: MS_RDONLY, propagationFlags: [MS_PRIVATE] });
    const binds: [string, string][] = [
      ['systemd', '/sys/fs/cgroup/systemd/user.slice/session-2.scope'],
      ['cpu,cpuacct', '/sys/fs/cgroup/cpu,cpuacct/user.slice'],
      ['net_cls,net_prio', '/sys/fs/cgroup/net_cls,net_prio'],
      ['memory', '/sys/fs/cgroup/memory/user.slice'],
    ];
    expect(seen.map((m) => [m.type, m.source, m.destination])).toEqual([
      ['tmpfs', 'tmpfs', '/sys/fs/cgroup'],
      ...binds.map(([name, source]) => ['bind', source, `/sys/fs/cgroup/${name}`]),
    ]);
    expect(changes(sys)).toEqual([
      { op: 'mount', source: 'tmpfs', target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: 'tmpfs', flags: ROOT_FLAGS, data: 'mode=755' },
      { op: 'mount', source: null, target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: null, flags: MS_PRIVATE, data: null },
      ...binds.flatMap(([name, source]) => bindEffects(sys, source, `/sys/fs/cgroup/${name}`, MS_BIND | MS_REC | MS_RDONLY, [MS_PRIVATE])),
      link(sys, 'cpu', 'cpu,cpuacct'),
      link(sys, 'cpuacct', 'cpu,cpuacct'),
      link(sys, 'net_cls', 'net_cls,net_prio'),
      link(sys, 'net_prio', 'net_cls,net_prio'),
    ]);
    expect(sys.node('/r/sys/fs/cgroup/cpuacct')).toMatchObject({ kind: 'symlink', target: 'cpu,cpuacct' });
  });

  test('a link name already taken is left as it is', () => {
    const { sys, run } = setup(COMOUNT_HOST);
    sys.addDir('/r/sys/fs/cgroup/cpu');
    run();
    expect(linkPaths(sys)).toHaveLength(4);
    expect(sys.node('/r/sys/fs/cgroup/cpu')?.kind).toBe('dir');
    expect(sys.node('/r/sys/fs/cgroup/cpuacct')?.kind).toBe('symlink');
  });

  test('ro leaves the tmpfs writable, as runc 1.1 does; the readonlyRoot option remounts it read-only last', () => {
    const plain = setup();
    plain.run();
    expect(changes(plain.sys).filter((c) => c.op === 'mount' && (c.flags & MS_REMOUNT) !== 0n)).toEqual([]);

    const { sys, run } = setup(HYBRID_HOST, { readonlyRoot: true });
    run({ recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n } });
    expect(changes(sys).slice(-2)).toEqual([
      { op: 'mount', source: null, target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: null, flags: MS_BIND | MS_REMOUNT | MS_RDONLY | ROOT_FLAGS, data: null },
      setattr(sys, '/r/sys/fs/cgroup'),
    ]);
  });

  test('readonlyRoot does nothing for a writable mount', () => {
    const { sys, run } = setup(HYBRID_HOST, { readonlyRoot: true });
    run({ flags: MS_NOSUID });
    expect(changes(sys).filter((c) => c.op === 'mount' && (c.flags & MS_REMOUNT) !== 0n)).toEqual([]);
  });

  test('a symlinked destination resolves inside the rootfs for the links', () => {
    const { sys, run } = setup(COMOUNT_HOST);
    sys.addSymlink('/r/cg', '/../sys/fs/cgroup');
    run({ destination: '/cg' });
    expect(linkPaths(sys)[0]).toBe('/r/sys/fs/cgroup/cpu');
    expect(sys.node('/sys/fs/cgroup/cpuacct')).toBeUndefined();
  });
});

describe('cgroup v1 (hybrid host) in a cgroup namespace', () => {
  const cgroupns = { namespaces: [{ type: 'mount' as const }, { type: 'cgroup' as const }] };

  test('each hierarchy is mounted anew; a named one by its name; ro kept, other flags replaced', () => {
    const { sys, seen, run } = setup();
    run({ propagationFlags: [MS_SLAVE] }, cgroupns);
    expect(seen.map((m) => m.type)).toEqual(['tmpfs']);
    const flags = ROOT_FLAGS | MS_RDONLY;
    expect(changes(sys)).toEqual([
      { op: 'mount', source: 'tmpfs', target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: 'tmpfs', flags: ROOT_FLAGS, data: 'mode=755' },
      { op: 'mount', source: null, target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: null, flags: MS_SLAVE, data: null },
      ...HYBRID_BINDS.flatMap(([name]) => [
        { op: 'mkdirat', dirfd: fdOf(sys, '/r/sys/fs/cgroup'), path: name, mode: 0o755 },
        {
          op: 'mount',
          source: name === 'systemd' ? 'systemd' : 'cgroup',
          target: viaFd(sys, `/r/sys/fs/cgroup/${name}`),
          fstype: 'cgroup',
          flags,
          data: name === 'systemd' ? 'name=systemd' : name,
        },
      ]),
    ]);
  });

  test('co-mounted controllers are mounted together and linked; a writable mount stays writable', () => {
    const { sys, run } = setup(COMOUNT_HOST);
    run({ flags: MS_NOSUID }, cgroupns);
    expect(sys.mounts.slice(1).map((c) => [c.source, c.target, c.flags, c.data])).toEqual([
      ['systemd', '/r/sys/fs/cgroup/systemd', ROOT_FLAGS, 'name=systemd'],
      ['cgroup', '/r/sys/fs/cgroup/cpu,cpuacct', ROOT_FLAGS, 'cpu,cpuacct'],
      ['cgroup', '/r/sys/fs/cgroup/net_cls,net_prio', ROOT_FLAGS, 'net_cls,net_prio'],
      ['cgroup', '/r/sys/fs/cgroup/memory', ROOT_FLAGS, 'memory'],
    ]);
    expect(sys.callsOf('symlinkat').map((c) => [`${sys.pathOf(c.dirfd)}/${c.linkPath}`, c.target])).toEqual([
      ['/r/sys/fs/cgroup/cpu', 'cpu,cpuacct'],
      ['/r/sys/fs/cgroup/cpuacct', 'cpu,cpuacct'],
      ['/r/sys/fs/cgroup/net_cls', 'net_cls,net_prio'],
      ['/r/sys/fs/cgroup/net_prio', 'net_cls,net_prio'],
    ]);
  });

  test.each([
    ['mkdirat', 'mkdirat "/r/sys/fs/cgroup/cpu": EACCES'],
    ['mount', 'mount "cgroup" -> "/r/sys/fs/cgroup/cpu": EACCES'],
  ] as const)('a failing %s is a PluginError', (op, message) => {
    const { run, sys } = setup();
    sys.failOn(op, 'EACCES', { path: '/r/sys/fs/cgroup/cpu' });
    expect(() => run({}, cgroupns)).toThrow(`mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": ${message}`);
  });
});

describe('cgroup v2', () => {
  test('type cgroup2 on a hybrid host: cgroup2 itself, with flags, data, propagation and recursive attributes', () => {
    const { sys, seen, run } = setup();
    run({ type: 'cgroup2', data: 'nsdelegate', propagationFlags: [MS_PRIVATE], recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n } });
    expect(seen).toEqual([]);
    expect(changes(sys)).toEqual([
      { op: 'mount', source: 'cgroup', target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: 'cgroup2', flags: DEFAULT_FLAGS, data: 'nsdelegate' },
      { op: 'mount', source: null, target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: null, flags: MS_PRIVATE, data: null },
      setattr(sys, '/r/sys/fs/cgroup'),
    ]);
  });

  test('type cgroup on a unified host is cgroup2; a missing target is made first', () => {
    const { sys, run } = setup(UNIFIED_HOST);
    run({ destination: '/new/cg' });
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'new', mode: 0o755 },
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/new'), path: 'cg', mode: 0o755 },
      { op: 'mount', source: 'cgroup', target: viaFd(sys, '/r/new/cg'), fstype: 'cgroup2', flags: DEFAULT_FLAGS, data: null },
    ]);
  });

  test.each(['EPERM', 'EBUSY'])('%s: the own cgroup v2 directory is bound instead, through dispatch', (errno) => {
    const { sys, seen, run } = setup(UNIFIED_HOST);
    sys.failOn('mount', errno);
    const recAttrs = { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n };
    run({ propagationFlags: [MS_SLAVE], recAttrs });
    const source = '/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope';
    expect(seen).toEqual([
      spec({ type: 'bind', source, destination: '/sys/fs/cgroup', flags: MS_BIND | DEFAULT_FLAGS, propagationFlags: [MS_SLAVE], recAttrs }),
    ]);
    expect(changes(sys)).toEqual([
      { op: 'mount', source: 'cgroup', target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: 'cgroup2', flags: DEFAULT_FLAGS, data: null },
      { op: 'mount', source, target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: 'bind', flags: MS_BIND | DEFAULT_FLAGS, data: null },
      { op: 'mount', source: null, target: viaFd(sys, '/r/sys/fs/cgroup'), fstype: null, flags: MS_SLAVE, data: null },
      setattr(sys, '/r/sys/fs/cgroup'),
    ]);
  });

  test('on a hybrid host the fallback binds from the cgroup2 mount at /sys/fs/cgroup/unified', () => {
    const { sys, seen, run } = setup(COMOUNT_HOST);
    sys.failOn('mount', 'EPERM');
    run({ type: 'cgroup2' });
    expect(seen.map((m) => m.source)).toEqual(['/sys/fs/cgroup/unified/user.slice/session-2.scope']);
  });

  test.each([
    ['mkdirat', { path: '/r/x' }, 'mkdirat "/r/x": EACCES'],
    ['mount', {}, 'mount "cgroup" -> "/r/x": EACCES'],
    ['mount', { nth: 2 }, 'mount "/r/x": EACCES'],
    ['mountSetattr', {}, 'mount_setattr "/r/x": EACCES'],
  ] as const)('a failing %s %j is a PluginError, with no fallback', (op, where, message) => {
    const { sys, seen, run } = setup(UNIFIED_HOST);
    sys.failOn(op, 'EACCES', where);
    expect(() => run({ destination: '/x', propagationFlags: [MS_PRIVATE], recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n } })).toThrow(
      `mounts: plugin cgroup mounts[0] "/x": ${message}`,
    );
    expect(seen).toEqual([]);
  });

  test('a failing fallback bind and a missing own cgroup are PluginErrors', () => {
    const bindFails = setup(UNIFIED_HOST);
    bindFails.sys.failOn('mount', 'EPERM', { times: 2 });
    expect(() => bindFails.run()).toThrow(
      'mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": handed to plugin bind "/sys/fs/cgroup": mount "/sys/fs/cgroup/user.slice/user-0.slice/session-1.scope" -> "/r/sys/fs/cgroup": EPERM',
    );
    const noEntry = setup({ ...UNIFIED_HOST, cgroup: '' });
    noEntry.sys.failOn('mount', 'EPERM');
    expect(() => noEntry.run()).toThrow('mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": /proc/self/cgroup has no cgroup v2 entry ("0::/path")');
  });
});

describe('failures', () => {
  test.each([
    ['/proc/self/mountinfo', 'readFile "/proc/self/mountinfo": EACCES'],
    ['/proc/self/cgroup', 'readFile "/proc/self/cgroup": EACCES'],
  ])('reading %s fails before anything is made', (path, message) => {
    const { sys, run } = setup();
    sys.failOn('readFile', 'EACCES', { path });
    expect(() => run()).toThrow(`mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": ${message}`);
    expect(changes(sys)).toEqual([]);
  });

  test.each([
    ['the tmpfs mount', { path: '/r/sys/fs/cgroup' }, 'handed to plugin tmpfs "/sys/fs/cgroup": mount "tmpfs" -> "/r/sys/fs/cgroup": EACCES'],
    ['a bind mount', { path: '/r/sys/fs/cgroup/memory' }, 'handed to plugin bind "/sys/fs/cgroup/memory": mount "/sys/fs/cgroup/memory/process_api/2611" -> "/r/sys/fs/cgroup/memory": EACCES'],
  ])('%s failing in the dispatched handler is a PluginError of this mount naming that handler and its destination', (_what, where, message) => {
    const { sys, run } = setup();
    sys.failOn('mount', 'EACCES', where);
    expect(() => run()).toThrow(`mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": ${message}`);
  });

  test('a failing link (other than EEXIST) and a failing read-only remount are PluginErrors', () => {
    const comount = setup(COMOUNT_HOST);
    comount.sys.failOn('symlinkat', 'EROFS');
    expect(() => comount.run()).toThrow('mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": symlinkat "/r/sys/fs/cgroup/cpu": EROFS');
    const remount = setup(HYBRID_HOST, { readonlyRoot: true });
    remount.sys.failOn('mount', 'EINVAL', { path: '/r/sys/fs/cgroup', nth: 2 });
    expect(() => remount.run()).toThrow('mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": mount "/r/sys/fs/cgroup": EINVAL');
  });

  test('an own cgroup outside its hierarchy root is refused before anything is made', () => {
    const { sys, run } = setup({
      mountinfo: '50 1 0:29 /docker/abc /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n',
      cgroup: '1:cpu:/other\n',
      dirs: [],
    });
    expect(() => run()).toThrow('mounts: plugin cgroup mounts[0] "/sys/fs/cgroup": own cgroup "/other" is outside the root "/docker/abc"');
    expect(changes(sys)).toEqual([]);
  });

  test.each(['/proc', '/proc/sys/fs/cgroup'])('%s is refused before anything is made', (destination) => {
    const { sys, run } = setup();
    expect(() => run({ destination })).toThrow(
      `mounts: plugin cgroup mounts[0] "${destination}": ${procDestinationProblem(destination)}`,
    );
    expect(changes(sys)).toEqual([]);
  });

  test('a non-boolean readonlyRoot option is a ConfigError', () => {
    expect(() => new CgroupMountHandler(new FakeSyscalls(), { readonlyRoot: 'yes' })).toThrow(ConfigError);
    expect(() => new CgroupMountHandler(new FakeSyscalls(), { readonlyRoot: 'yes' })).toThrow('options.readonlyRoot "yes": must be a boolean');
  });
});
