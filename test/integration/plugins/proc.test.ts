import { mkdirSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY } from '../../../src/core/constants';
import { makeConfig, makeMount } from '../../helpers/config';
import { mountsAt, realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';

const PROC_PLUGIN = path.resolve(__dirname, '../../../src/plugins/proc');
const FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC;

runAsRoot('proc/sysfs handler, real mounts', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
  });
  afterEach(() => t.cleanup());

  test('proc on a missing /proc and read-only sysfs on an existing /sys, with their flags', () => {
    mkdirSync(path.join(rootfs, 'sys'));
    const mounts = [
      makeMount({ index: 0, type: 'proc', source: 'proc', destination: '/proc', flags: FLAGS }),
      makeMount({ index: 1, type: 'sysfs', source: 'sysfs', destination: '/sys', flags: FLAGS | MS_RDONLY }),
    ];
    const proc = path.join(rootfs, 'proc');
    const sys = path.join(rootfs, 'sys');
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [PROC_PLUGIN], list: [proc, sys] });
    expect(r.error).toBeUndefined();
    const [p] = mountsAt(r.mountinfo, proc);
    expect(p).toMatchObject({ fstype: 'proc', source: 'proc' });
    expect(p.options.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
    const [s] = mountsAt(r.mountinfo, sys);
    expect(s).toMatchObject({ fstype: 'sysfs', source: 'sysfs' });
    expect(s.options.split(',')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec']));
    expect(r.list[proc]).toEqual(expect.arrayContaining(['self', 'mounts', 'sys']));
    expect(r.list[sys]).toEqual(expect.arrayContaining(['class', 'fs', 'kernel']));
  });

  test('a symlink at <rootfs>/proc pointing outside is refused and nothing is mounted', () => {
    const outside = path.join(t.dir, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, path.join(rootfs, 'proc'));
    const mounts = [makeMount({ index: 0, type: 'proc', destination: '/proc', flags: FLAGS })];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [PROC_PLUGIN], list: [outside] });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: 'mounts: plugin proc mounts[0] "/proc": "/proc" must be a real directory, not a symlink',
    });
    expect(r.mountinfo.split('\n').filter((l) => l.includes(t.dir))).toEqual([]);
    expect(r.list[outside]).toEqual([]);
  });

  test('a symlinked parent pointing outside is resolved inside the rootfs', () => {
    const outside = path.join(t.dir, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, path.join(rootfs, 'link'));
    const mounts = [makeMount({ index: 0, type: 'proc', destination: '/link/proc', flags: FLAGS })];
    const inside = path.join(rootfs, outside, 'proc');
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [PROC_PLUGIN], list: [outside, inside] });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, inside)).toEqual([expect.objectContaining({ fstype: 'proc' })]);
    expect(r.list[inside]).toEqual(expect.arrayContaining(['self']));
    expect(r.list[outside]).toEqual([]);
  });

  test('a regular file at <rootfs>/sys is refused for sysfs', () => {
    const file = path.join(rootfs, 'sys');
    writeFileSync(file, '');
    const mounts = [makeMount({ index: 0, type: 'sysfs', destination: '/sys' })];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [PROC_PLUGIN], stat: [file] });
    expect(r.error?.message).toBe('mounts: plugin proc mounts[0] "/sys": "/sys" must be a real directory, not a regular file');
    expect(mountsAt(r.mountinfo, file)).toEqual([]);
    expect(r.stat[file]).toMatchObject({ kind: 'file' });
  });
});
