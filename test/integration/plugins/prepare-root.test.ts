import * as path from 'path';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_REC, MS_SHARED } from '../../../src/core/constants';
import { parentMountOf, parseMountInfo } from '../../../src/core/mountinfo';
import { SELINUX_ENABLED_KEY, SELINUXFS } from '../../../src/core/selinux';
import { makeConfig, makeMount } from '../../helpers/config';
import { JAIL, PLUGIN_DIR, PREPARE_ROOT, PROC_MOUNT, ROOTFS_ENTRIES, jailRootfs } from '../../helpers/jail-rootfs';
import { realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';
import { hostMountsSelinuxfs } from '../../helpers/host-selinux';

const RSHARED = MS_SHARED | MS_REC;

runAsRoot('prepare-root, real runs', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
  });
  afterEach(() => t.cleanup());

  test('default: every mount is a slave or private, and the rootfs is a bind mount of itself', () => {
    const r = realRun({ config: makeConfig({ rootfs }), plugins: [PREPARE_ROOT] });
    expect(r.error).toBeUndefined();
    const table = parseMountInfo(r.mountinfo);
    expect(table.filter((m) => m.optional.some((o) => o.startsWith('shared:')))).toEqual([]);
    const own = table.filter((m) => m.mountpoint === rootfs);
    expect(own).toHaveLength(1);
    expect(own[0].root).toBe(rootfs);
  });

  test('rootPropagation rshared: / is shared everywhere but the rootfs parent, made private; nothing propagates', () => {
    const r = realRun({ config: makeConfig({ rootfs, rootPropagation: RSHARED }), plugins: [PREPARE_ROOT] });
    expect(r.error).toBeUndefined();
    const table = parseMountInfo(r.mountinfo);
    const shared = (mountpoint: string) => table.find((m) => m.mountpoint === mountpoint)?.optional.some((o) => o.startsWith('shared:'));
    const parent = parentMountOf(
      table.filter((m) => m.mountpoint !== rootfs),
      rootfs,
    );
    expect(parent).toBeDefined();
    expect(shared(parent!.mountpoint)).toBe(false);
    expect(shared('/proc')).toBe(true);
    expect(shared('/sys')).toBe(true);
    // The bind was made from a private mount, so it is private and has no copies elsewhere.
    expect(table.filter((m) => m.mountpoint === rootfs).map((m) => m.optional)).toEqual([[]]);
    expect(table.filter((m) => m.root === rootfs)).toHaveLength(1);
  });

  test('rootPropagation rshared: pivot_root succeeds since the rootfs parent is no longer shared', () => {
    jailRootfs(rootfs);
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [PROC_MOUNT], rootPropagation: RSHARED }),
      plugins: [PREPARE_ROOT, 'builtin:default', JAIL],
      list: ['/'],
    });
    expect(r.error).toBeUndefined();
    expect(r.list['/']).toEqual(ROOTFS_ENTRIES);
  });

  describe('selinux-state: whether the host runs SELinux, as go-selinux decides it', () => {
    const LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';
    const FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC;
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/tmp', flags: FLAGS }),
      makeMount({ index: 1, type: 'mqueue', source: 'mqueue', destination: '/dev/mqueue', flags: FLAGS }),
      makeMount({ index: 2, type: 'devpts', source: 'devpts', destination: '/dev/pts', flags: MS_NOSUID | MS_NOEXEC, data: 'newinstance,ptmxmode=0666' }),
    ];
    const plugins = [PREPARE_ROOT, path.join(PLUGIN_DIR, 'tmpfs'), path.join(PLUGIN_DIR, 'mqueue'), 'builtin:default'];
    // The answer the run kept, checked before the jail: the test fails the run unless it is "no SELinux".
    const answeredNo = `const a = ctx.shared.get(${JSON.stringify(SELINUX_ENABLED_KEY)}); if (a !== false) throw new Error('SELinux answer: ' + a);`;
    const labelled = (r: { mountinfo: string }) => r.mountinfo.split('\n').filter((l) => l.includes(` ${rootfs}/`) && l.includes('context='));

    (hostMountsSelinuxfs() ? test.skip : test)('on this host without SELinux no mount gets linux.mountLabel: tmpfs, mqueue and devpts would refuse context= (EINVAL)', () => {
      const r = realRun({ config: makeConfig({ rootfs, mounts, mountLabel: LABEL }), plugins, beforeJail: answeredNo });
      expect(r.error).toBeUndefined();
      expect(parseMountInfo(r.mountinfo).filter((m) => m.mountpoint.startsWith(`${rootfs}/`)).map((m) => m.fstype)).toEqual(['tmpfs', 'mqueue', 'devpts']);
      expect(labelled(r)).toEqual([]);
    });

    (hostMountsSelinuxfs() ? test.skip : test)('a /sys/fs/selinux/enforce on a tmpfs (no selinuxfs) is no SELinux: no mount gets the label', () => {
      // In the run's throwaway namespace only: /sys/fs is a tmpfs there, with the file the old check took for SELinux.
      const setup = `const fs = require('fs'); const { LinuxSyscalls } = require('./src/core/syscalls/linux'); new LinuxSyscalls().mount('tmpfs', '/sys/fs', 'tmpfs', 0n, 'size=64k'); fs.mkdirSync('${SELINUXFS}'); fs.writeFileSync('${SELINUXFS}/enforce', '1');`;
      const r = realRun({ config: makeConfig({ rootfs, mounts, mountLabel: LABEL }), plugins, setup, beforeJail: answeredNo, read: [`${SELINUXFS}/enforce`] });
      expect(r.error).toBeUndefined();
      expect(r.read).toEqual({ [`${SELINUXFS}/enforce`]: '1' });
      expect(labelled(r)).toEqual([]);
    });
  });
});
