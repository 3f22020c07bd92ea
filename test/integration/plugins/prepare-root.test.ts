import { MS_REC, MS_SHARED } from '../../../src/core/constants';
import { parentMountOf, parseMountInfo } from '../../../src/core/mountinfo';
import { makeConfig } from '../../helpers/config';
import { JAIL, PREPARE_ROOT, PROC_MOUNT, ROOTFS_ENTRIES, jailRootfs } from '../../helpers/jail-rootfs';
import { realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';

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
});
