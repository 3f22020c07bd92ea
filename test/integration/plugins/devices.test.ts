import { execFileSync } from 'child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { DeviceSpec } from '../../../src/core/config/model';
import { MS_BIND } from '../../../src/core/constants';
import { makeConfig, makeMount } from '../../helpers/config';
import { mountsAt, realRun, runAsRoot, tempDir } from '../../helpers/real-run';

const DEVICES = path.resolve(__dirname, '../../../src/plugins/devices');
const DEFAULT = path.resolve(__dirname, '../../../src/plugins/default');

const DEFAULT_NODES: [string, string][] = [
  ['null', '1:3'],
  ['random', '1:8'],
  ['full', '1:7'],
  ['tty', '5:0'],
  ['zero', '1:5'],
  ['urandom', '1:9'],
];
const LINKS: [string, string][] = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
];
const HAS_KCORE = existsSync('/proc/kcore');

function device(over: Partial<DeviceSpec> & Pick<DeviceSpec, 'path'>): DeviceSpec {
  return { type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0, ...over };
}

const devTmpfs = makeMount({ index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/dev', data: 'mode=755' });

runAsRoot('devices plugin, real /dev', () => {
  let t: ReturnType<typeof tempDir>;
  let rootfs: string;
  let dev: string;
  beforeEach(() => {
    t = tempDir();
    rootfs = path.join(t.dir, 'rootfs');
    dev = path.join(rootfs, 'dev');
    mkdirSync(rootfs);
  });
  afterEach(() => t.cleanup());

  test('on a tmpfs /dev: default nodes, config devices, ptmx and the links', () => {
    const config = makeConfig({
      rootfs,
      mounts: [devTmpfs],
      devices: [
        device({ path: '/dev/mynull', uid: 1000, gid: 1001, fileMode: 0o620 }),
        device({ path: '/dev/full', major: 1, minor: 7, uid: 1000, fileMode: 0o600 }),
        device({ path: '/dev/myfifo', type: 'p', major: 0, minor: 0, fileMode: 0o640 }),
        device({ path: '/dev/net/tun', major: 10, minor: 200 }),
        device({ path: '/dev/sticky', major: 1, minor: 5, fileMode: 0o1666 }),
      ],
    });
    const names = [...DEFAULT_NODES.map(([n]) => n), 'mynull', 'myfifo', 'net/tun', 'net', 'sticky', 'ptmx', ...LINKS.map(([n]) => n), 'core'];
    const r = realRun({ config, plugins: [DEFAULT, DEVICES], stat: names.map((n) => path.join(dev, n)), list: [dev] });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, dev)).toEqual([expect.objectContaining({ fstype: 'tmpfs' })]);
    const stat = (n: string) => r.stat[path.join(dev, n)];
    for (const [name, rdev] of DEFAULT_NODES.filter(([n]) => n !== 'full')) {
      expect([name, stat(name)]).toEqual([name, { kind: 'char', perm: 0o666, uid: 0, gid: 0, rdev }]);
    }
    expect(stat('full')).toEqual({ kind: 'char', perm: 0o600, uid: 1000, gid: 0, rdev: '1:7' });
    expect(stat('mynull')).toEqual({ kind: 'char', perm: 0o620, uid: 1000, gid: 1001, rdev: '1:3' });
    expect(stat('myfifo')).toMatchObject({ kind: 'fifo', perm: 0o640, uid: 0, gid: 0 });
    expect(stat('net')).toMatchObject({ kind: 'dir', perm: 0o755 });
    expect(stat('net/tun')).toEqual({ kind: 'char', perm: 0o666, uid: 0, gid: 0, rdev: '10:200' });
    // The sticky bit of fileMode is the node's too, as mknod(2) takes it (chown(2) clears only set-id bits).
    expect(stat('sticky')).toEqual({ kind: 'char', perm: 0o1666, uid: 0, gid: 0, rdev: '1:5' });
    expect(stat('ptmx')).toMatchObject({ kind: 'symlink' });
    for (const [name] of LINKS) expect([name, stat(name)]).toEqual([name, expect.objectContaining({ kind: 'symlink' })]);
    expect(stat('core')).toEqual(HAS_KCORE ? expect.objectContaining({ kind: 'symlink' }) : 'ENOENT');
    const expected = [...DEFAULT_NODES.map(([n]) => n), 'mynull', 'myfifo', 'net', 'sticky', 'ptmx', ...LINKS.map(([n]) => n), ...(HAS_KCORE ? ['core'] : [])];
    expect(r.list[dev]).toEqual(expected.sort());
  });

  test('on a /dev directory: an existing matching node is kept, an empty directory at ptmx replaced, link targets are exact', () => {
    mkdirSync(dev);
    execFileSync('mknod', ['-m', '600', path.join(dev, 'null'), 'c', '1', '3']);
    writeFileSync(path.join(dev, 'stdin'), 'image content');
    // An empty directory at ptmx is removed for the link, as runc removes it.
    mkdirSync(path.join(dev, 'ptmx'));
    const r = realRun({ config: makeConfig({ rootfs }), plugins: [DEVICES] });
    expect(r.error).toBeUndefined();
    // Nothing was mounted: what the run made is on disk, seen from here.
    expect(lstatSync(path.join(dev, 'null')).mode & 0o7777).toBe(0o600);
    expect(readlinkSync(path.join(dev, 'ptmx'))).toBe('pts/ptmx');
    for (const [name, target] of LINKS.filter(([n]) => n !== 'stdin')) expect([name, readlinkSync(path.join(dev, name))]).toEqual([name, target]);
    expect(lstatSync(path.join(dev, 'stdin')).isFile()).toBe(true);
    if (HAS_KCORE) expect(readlinkSync(path.join(dev, 'core'))).toBe('/proc/kcore');
  });

  test("an image's link at a device path to another filesystem's file is refused, though that file is no entry of the rootfs's own filesystem", () => {
    mkdirSync(dev);
    symlinkSync('/proc/sys/kernel/domainname', path.join(dev, 'null'));
    mkdirSync(path.join(rootfs, 'proc'));
    const procMount = makeMount({ index: 0, type: 'proc', source: 'proc', destination: '/proc' });
    const r = realRun({ config: makeConfig({ rootfs, mounts: [procMount] }), plugins: [path.resolve(DEVICES, '..', 'proc'), DEVICES] });
    expect(r.error).toMatchObject({ name: 'PluginError', message: 'dev: plugin device-nodes: device "/dev/null" already exists as file, expected char 1:3' });
  });

  test('an existing node of another kind is an error naming path, expected and found', () => {
    mkdirSync(dev);
    writeFileSync(path.join(dev, 'zero'), '');
    const r = realRun({ config: makeConfig({ rootfs }), plugins: [DEVICES] });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: 'dev: plugin device-nodes: device "/dev/zero" already exists as file, expected char 1:5',
    });
  });

  test('with a user namespace in the config, the host nodes are bind-mounted; a directory made for one is 0755', () => {
    const config = makeConfig({ rootfs, mounts: [devTmpfs], namespaces: [{ type: 'mount' }, { type: 'user' }], devices: [device({ path: '/dev/net/tun', major: 10, minor: 200 })] });
    const names = ['null', 'tty', 'net', 'net/tun'];
    const r = realRun({ config, plugins: [DEFAULT, DEVICES], stat: names.map((n) => path.join(dev, n)) });
    expect(r.error).toBeUndefined();
    for (const [name] of [...DEFAULT_NODES, ['net/tun']]) expect([name, mountsAt(r.mountinfo, path.join(dev, name))]).toEqual([name, [expect.anything()]]);
    expect(r.stat[path.join(dev, 'null')]).toMatchObject({ kind: 'char', rdev: '1:3' });
    expect(r.stat[path.join(dev, 'tty')]).toMatchObject({ kind: 'char', rdev: '5:0' });
    expect(r.stat[path.join(dev, 'net')]).toMatchObject({ kind: 'dir', perm: 0o755 });
    expect(r.stat[path.join(dev, 'net/tun')]).toMatchObject({ kind: 'char', rdev: '10:200' });
  });

  test('a bind mount on /dev: nothing is created in it', () => {
    const hostDev = path.join(t.dir, 'hostdev');
    mkdirSync(hostDev);
    chmodSync(hostDev, 0o755);
    const bind = makeMount({ index: 0, type: 'bind', source: hostDev, destination: '/dev', flags: MS_BIND });
    const r = realRun({ config: makeConfig({ rootfs, mounts: [bind] }), plugins: [DEFAULT, DEVICES], list: [dev] });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, dev)).toHaveLength(1);
    expect(r.list[dev]).toEqual([]);
    expect(readdirSync(hostDev)).toEqual([]);
  });
});
