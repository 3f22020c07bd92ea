import { mkdirSync, symlinkSync } from 'fs';
import * as path from 'path';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_SHARED } from '../../../src/core/constants';
import { makeConfig, makeMount } from '../../helpers/config';
import { mountsAt, realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';
import { hostMountsSelinuxfs } from '../../helpers/host-selinux';

const MQUEUE_PLUGIN = path.resolve(__dirname, '../../../src/plugins/mqueue');
const FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC;
/** The kernel refuses an unknown context= option on mqueue unless an LSM takes it. */
const hostHasSelinux = hostMountsSelinuxfs();

runAsRoot('mqueue handler, real mounts', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
  });
  afterEach(() => t.cleanup());

  test('mqueue with nosuid,nodev,noexec and propagation; a symlinked destination stays in the rootfs', () => {
    const outside = path.join(t.dir, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, path.join(rootfs, 'link'));
    const mounts = [
      makeMount({ index: 0, type: 'mqueue', source: 'mqueue', destination: '/dev/mqueue', flags: FLAGS, propagationFlags: [MS_SHARED] }),
      makeMount({ index: 1, type: 'mqueue', source: 'mqueue', destination: '/link/mq', flags: FLAGS }),
    ];
    const target = path.join(rootfs, 'dev/mqueue');
    const linked = path.join(rootfs, outside, 'mq');
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [MQUEUE_PLUGIN], stat: [target, path.join(outside, 'mq')] });
    expect(r.error).toBeUndefined();
    const [m] = mountsAt(r.mountinfo, target);
    expect(m).toMatchObject({ fstype: 'mqueue', source: 'mqueue' });
    expect(m.options.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec']));
    expect(m.optional).toMatch(/^shared:\d+$/);
    expect(r.stat[target]).toMatchObject({ kind: 'dir' });
    expect(mountsAt(r.mountinfo, linked)).toEqual([expect.objectContaining({ fstype: 'mqueue' })]);
    expect(r.stat[path.join(outside, 'mq')]).toBe('ENOENT');
  });

  (hostHasSelinux ? test.skip : test)('without SELinux on the host a config mount label is left out', () => {
    const mounts = [makeMount({ index: 0, type: 'mqueue', destination: '/dev/mqueue', flags: FLAGS })];
    const config = makeConfig({ rootfs, mounts, mountLabel: 'system_u:object_r:container_file_t:s0' });
    const r = realRun({ config, plugins: [MQUEUE_PLUGIN] });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, path.join(rootfs, 'dev/mqueue'))).toEqual([expect.objectContaining({ fstype: 'mqueue' })]);
  });
});
