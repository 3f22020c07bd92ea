import { readFileSync } from 'fs';
import * as path from 'path';
import type { MountSpec } from '../../../src/core/config/model';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_RELATIME } from '../../../src/core/constants';
import { makeConfig, makeMount } from '../../helpers/config';
import { mountsAt, realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';

const PLUGINS = ['cgroup', 'bind', 'tmpfs', 'default'].map((name) => path.resolve(__dirname, '../../../src/plugins', name));

/**
 * What runc 1.1.5 shows under /sys/fs/cgroup for `runc spec`'s default config on this
 * project's hybrid host (cgroup v1 controllers, cgroup2 at /sys/fs/cgroup/unified), from
 * /proc/self/mountinfo inside the container: mountpoint, fstype, source, mount options,
 * superblock options. The hierarchy roots are left out: runc binds the cgroup it makes
 * for the container. No links: this host mounts no controllers together.
 */
const RUNC_1_1_5_HYBRID = [
  '/sys/fs/cgroup tmpfs tmpfs rw,nosuid,nodev,noexec,relatime rw,mode=755',
  '/sys/fs/cgroup/cpu cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,cpu',
  '/sys/fs/cgroup/cpuacct cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,cpuacct',
  '/sys/fs/cgroup/cpuset cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,cpuset',
  '/sys/fs/cgroup/memory cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,memory',
  '/sys/fs/cgroup/devices cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,devices',
  '/sys/fs/cgroup/freezer cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,freezer',
  '/sys/fs/cgroup/blkio cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,blkio',
  '/sys/fs/cgroup/pids cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,pids',
  '/sys/fs/cgroup/systemd cgroup cgroup ro,nosuid,nodev,noexec,relatime rw,name=systemd',
];

/**
 * The same from runc 1.1.5 with a cgroup namespace added to the default config: each
 * hierarchy mounted anew (every root is "/"), the named one with the source "systemd".
 */
const RUNC_1_1_5_HYBRID_CGROUPNS = RUNC_1_1_5_HYBRID.map((line) =>
  line.startsWith('/sys/fs/cgroup/systemd ') ? line.replace(' cgroup cgroup ', ' cgroup systemd ') : line,
);

/** The hierarchies of the host the table was taken on, in its mount order. */
const RUNC_HOST_HIERARCHIES = ['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'blkio', 'pids', 'systemd'];

const hostMountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
const hostHierarchies = hostMountinfo
  .split('\n')
  .map((line) => line.split(' '))
  .filter((f) => f[f.indexOf('-', 6) + 1] === 'cgroup' && path.dirname(f[4]) === '/sys/fs/cgroup')
  .map((f) => path.basename(f[4]));
const onRuncHost = hostHierarchies.join(',') === RUNC_HOST_HIERARCHIES.join(',') ? test : test.skip;

/** This process's cgroup per controller (a child inherits it), from /proc/self/cgroup. */
const ownCgroup = new Map(
  readFileSync('/proc/self/cgroup', 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap((line) => {
      const [, list, cgroupPath] = line.match(/^\d+:([^:]*):(.*)$/)!;
      return list.split(',').map((c): [string, string] => [c.replace(/^name=/, ''), cgroupPath]);
    }),
);

/** runc spec's /sys and /sys/fs/cgroup mounts. */
function runcSpecMounts(over: Partial<MountSpec> = {}): MountSpec[] {
  return [
    makeMount({ index: 0, type: 'sysfs', source: 'sysfs', destination: '/sys', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY }),
    makeMount({ index: 1, type: 'cgroup', source: 'cgroup', destination: '/sys/fs/cgroup', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY, ...over }),
  ];
}

/** The mounts at and below `dir`, in mount order, as "mountpoint-in-container fstype source options superoptions". */
function mountsUnder(mountinfo: string, rootfs: string, dir: string): { line: string; root: string }[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .filter((f) => f[4] === rootfs + dir || f[4].startsWith(rootfs + dir + '/'))
    .map((f) => {
      const sep = f.indexOf('-', 6);
      return { line: [f[4].slice(rootfs.length), f[sep + 1], f[sep + 2], f[5], f[sep + 3]].join(' '), root: f[3] };
    });
}

runAsRoot('cgroup handler, real mounts', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
  });
  afterEach(() => t.cleanup());

  onRuncHost('v1 without a cgroup namespace: what runc 1.1.5 shows, with this process own cgroups bound read-only', () => {
    const cg = path.join(rootfs, 'sys/fs/cgroup');
    const r = realRun({
      config: makeConfig({ rootfs, mounts: runcSpecMounts() }),
      plugins: PLUGINS,
      list: [cg],
      write: [path.join(cg, 'cpu/probe'), path.join(cg, 'probe')],
    });
    expect(r.error).toBeUndefined();
    const mounts = mountsUnder(r.mountinfo, rootfs, '/sys/fs/cgroup');
    expect(mounts.map((m) => m.line)).toEqual(RUNC_1_1_5_HYBRID);
    expect(mounts.slice(1).map((m) => m.root)).toEqual(RUNC_HOST_HIERARCHIES.map((name) => ownCgroup.get(name)));
    expect(r.list[cg]).toEqual([...RUNC_HOST_HIERARCHIES].sort());
    // The hierarchies are read-only; the tmpfs holding them stays writable, as in runc 1.1.
    expect(r.write).toEqual({ [path.join(cg, 'cpu/probe')]: 'EROFS', [path.join(cg, 'probe')]: 'ok' });
  });

  onRuncHost('v1 in a cgroup namespace: each hierarchy mounted anew, as runc 1.1.5 does', () => {
    const r = realRun({
      config: makeConfig({ rootfs, mounts: runcSpecMounts(), namespaces: [{ type: 'mount' }, { type: 'cgroup' }] }),
      plugins: PLUGINS,
    });
    expect(r.error).toBeUndefined();
    const mounts = mountsUnder(r.mountinfo, rootfs, '/sys/fs/cgroup');
    expect(mounts.map((m) => m.line)).toEqual(RUNC_1_1_5_HYBRID_CGROUPNS);
    // No cgroup namespace was entered here, so each shows its hierarchy's root.
    expect(mounts.slice(1).map((m) => m.root)).toEqual(RUNC_HOST_HIERARCHIES.map(() => '/'));
  });

  test('cgroup2: mounted itself with the mount flags; bad data is a PluginError', () => {
    const r = realRun({
      config: makeConfig({
        rootfs,
        mounts: [...runcSpecMounts({ type: 'cgroup2' }), makeMount({ index: 2, type: 'cgroup2', source: 'cgroup', destination: '/bad', data: 'no_such_option' })],
      }),
      plugins: PLUGINS,
      write: [path.join(rootfs, 'sys/fs/cgroup/probe')],
    });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: `mounts: plugin cgroup mounts[2] "/bad": mount "cgroup" -> "${rootfs}/bad": EINVAL (type "cgroup2", data "no_such_option")`,
    });
    const [m] = mountsAt(r.mountinfo, path.join(rootfs, 'sys/fs/cgroup'));
    expect(m).toMatchObject({ fstype: 'cgroup2', source: 'cgroup', root: '/', options: 'ro,nosuid,nodev,noexec,relatime' });
    expect(mountsUnder(r.mountinfo, rootfs, '/sys/fs/cgroup')).toHaveLength(1);
    expect(mountsAt(r.mountinfo, path.join(rootfs, 'bad'))).toEqual([]);
    expect(r.write).toEqual({ [path.join(rootfs, 'sys/fs/cgroup/probe')]: 'EROFS' });
  });
});
