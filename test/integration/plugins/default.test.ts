import { mkdirSync, symlinkSync } from 'fs';
import * as path from 'path';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_RDONLY, MS_REMOUNT, MS_SHARED } from '../../../src/core/constants';
import { makeConfig, makeMount } from '../../helpers/config';
import { mountsAt, realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';
import { hostMountsSelinuxfs } from '../../helpers/host-selinux';

runAsRoot('default handler, real mounts', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
  });
  afterEach(() => t.cleanup());

  test('an unclaimed type is mounted with flags, data and propagation; a tmpfs leaves read-only to finalize', () => {
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', source: 'scratch', destination: '/a/b', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, data: 'size=1m,mode=700', propagationFlags: [MS_SHARED] }),
      makeMount({ index: 1, type: 'ramfs', source: 'ram', destination: '/c', flags: MS_NOSUID | MS_RDONLY }),
    ];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: ['builtin:default'], stat: [path.join(rootfs, 'a/b')] });
    expect(r.error).toBeUndefined();
    const [m] = mountsAt(r.mountinfo, path.join(rootfs, 'a/b'));
    expect(m).toMatchObject({ fstype: 'tmpfs', source: 'scratch' });
    expect(m.options.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
    expect(mountsAt(r.mountinfo, path.join(rootfs, 'c'))[0].options.split(',')).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    expect(m.superOptions).toContain('size=1024k');
    expect(m.optional).toMatch(/^shared:\d+$/);
    expect(r.stat[path.join(rootfs, 'a/b')]).toMatchObject({ kind: 'dir', perm: 0o700 });
  });

  test('a remount with propagation, and a bind remount made read-only, change the mounts already there (no new mount to find), as under runc', () => {
    const src = path.join(t.dir, 'src');
    mkdirSync(src);
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/mnt' }),
      makeMount({ index: 1, type: '', source: '', destination: '/mnt', flags: MS_REMOUNT | MS_NOSUID | MS_NOEXEC, propagationFlags: [MS_PRIVATE] }),
      makeMount({ index: 2, type: 'bind', source: src, destination: '/b', flags: MS_BIND }),
      makeMount({ index: 3, type: 'bind', source: src, destination: '/b', flags: MS_BIND | MS_REMOUNT | MS_RDONLY }),
    ];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: ['builtin:default', 'builtin:bind'] });
    expect(r.error).toBeUndefined();
    const [mnt] = mountsAt(r.mountinfo, path.join(rootfs, 'mnt'));
    expect(mnt.options.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'noexec']));
    expect(mnt.optional).toBe('');
    expect(mountsAt(r.mountinfo, path.join(rootfs, 'b')).map((m) => m.options.split(',')[0])).toEqual(['ro']);
  });

  (hostMountsSelinuxfs() ? test.skip : test)('without SELinux on the host a config mount label is left out of a devpts mount\'s data, which devpts would refuse (EINVAL)', () => {
    const mounts = [makeMount({ index: 0, type: 'devpts', source: 'devpts', destination: '/dev/pts', flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666,mode=0620' })];
    const r = realRun({ config: makeConfig({ rootfs, mounts, mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' }), plugins: ['builtin:default'] });
    expect(r.error).toBeUndefined();
    const [m] = mountsAt(r.mountinfo, path.join(rootfs, 'dev/pts'));
    expect(m).toMatchObject({ fstype: 'devpts', source: 'devpts' });
    expect(m.superOptions).not.toContain('context=');
  });

  test('a hostile absolute symlink in the destination lands inside the rootfs', () => {
    const outside = path.join(t.dir, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, path.join(rootfs, 'link'));
    const mounts = [makeMount({ index: 0, type: 'tmpfs', destination: '/link/x' })];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: ['builtin:default'], stat: [path.join(outside, 'x')] });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, path.join(rootfs, outside, 'x'))).toHaveLength(1);
    expect(r.stat[path.join(outside, 'x')]).toBe('ENOENT');
  });

  test('a failing mount is a PluginError and leaves nothing mounted', () => {
    const mounts = [makeMount({ index: 0, type: 'tmpfs', destination: '/bad', data: 'size=notanumber' })];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: ['builtin:default'] });
    expect(r.error).toMatchObject({ name: 'PluginError', message: `mounts: plugin default mounts[0] "/bad": mount "tmpfs" -> "${rootfs}/bad": EINVAL (data "size=notanumber")` });
    expect(mountsAt(r.mountinfo, path.join(rootfs, 'bad'))).toEqual([]);
  });
});
