import { parseMountInfo } from '../../../src/core/mountinfo';
import { makeConfig } from '../../helpers/config';
import {
  AFTER_JAIL,
  JAIL,
  OLD_ROOT_FD,
  PREPARE_ROOT,
  PROC_MOUNT,
  ROOTFS_ENTRIES,
  fdMountId,
  jailRootfs,
  keepOldRootHook,
} from '../../helpers/jail-rootfs';
import { realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';

const OLD_ROOT = `/proc/self/fd/${OLD_ROOT_FD}`;
const OLD_ROOT_INFO = `/proc/self/fdinfo/${OLD_ROOT_FD}`;

runAsRoot('jail, real runs', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
    jailRootfs(rootfs);
  });
  afterEach(() => t.cleanup());

  const run = (over: Parameters<typeof makeConfig>[0], plugins = [PREPARE_ROOT, 'builtin:default', JAIL, AFTER_JAIL]) =>
    realRun({
      config: makeConfig({ rootfs, mounts: [PROC_MOUNT], ...over }),
      plugins,
      beforeJail: keepOldRootHook(),
      list: ['/', `${OLD_ROOT}/proc`],
      read: [OLD_ROOT_INFO],
    });

  test('pivot_root: / is the rootfs, the old root is unmounted, only the rootfs and its mounts remain', () => {
    const r = run({ namespaces: [{ type: 'mount' }] });
    expect(r.error).toBeUndefined();
    expect(r.list['/']).toEqual(ROOTFS_ENTRIES);
    const table = parseMountInfo(r.mountinfo);
    expect(table.map((m) => [m.mountpoint, m.fstype])).toEqual([
      ['/', 'ext4'],
      ['/kproc', 'proc'],
    ]);
    expect(table[0].root).toBe(rootfs);
    // The old root is neither listed nor the parent of the new one: it was detached.
    const oldRoot = fdMountId(r.read[OLD_ROOT_INFO]);
    expect(table.map((m) => m.id)).not.toContain(oldRoot);
    expect(table[0].parent).not.toBe(oldRoot);
  });

  test('noPivot: the rootfs is moved onto / and chrooted into; the host proc and sysfs were taken away first', () => {
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [PROC_MOUNT], noPivot: true }),
      plugins: [PREPARE_ROOT, 'builtin:default', JAIL],
      beforeJail: keepOldRootHook(),
      list: ['/', `${OLD_ROOT}/proc`, `${OLD_ROOT}/sys`],
      read: [OLD_ROOT_INFO],
    });
    expect(r.error).toBeUndefined();
    expect(r.list['/']).toEqual(ROOTFS_ENTRIES);
    const table = parseMountInfo(r.mountinfo);
    expect(table.map((m) => [m.mountpoint, m.fstype])).toEqual([
      ['/', 'ext4'],
      ['/kproc', 'proc'],
    ]);
    // MS_MOVE stacks the rootfs on the old root, which stays mounted underneath...
    expect(table[0].parent).toBe(fdMountId(r.read[OLD_ROOT_INFO]));
    // ...without its proc and sysfs: their mountpoints are bare directories now.
    expect(r.list[`${OLD_ROOT}/proc`]).toEqual([]);
    expect(r.list[`${OLD_ROOT}/sys`]).toEqual([]);
  });

  test('noPivot: a host proc mounted at a path that is not valid UTF-8 is taken away too (its mountinfo name keeps its bytes)', () => {
    // The host's proc, as the child's namespace has it, mounted again at t.dir/hp\xff/proc before the run.
    const hostProc = `${t.dir}/hp\udcff/proc`;
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [PROC_MOUNT], noPivot: true }),
      plugins: [PREPARE_ROOT, 'builtin:default', JAIL],
      // Made with its bytes by mkdir(1) and mount(8), not through the port under test.
      setup: `require('child_process').execFileSync('sh', ['-c', 'p="$1/hp$(printf "\\\\377")/proc" && mkdir -p "$p" && mount -t proc proc "$p"', 'sh', ${JSON.stringify(t.dir)}]);`,
      beforeJail: keepOldRootHook(),
      list: [`${OLD_ROOT}${hostProc}`],
      read: [OLD_ROOT_INFO],
    });
    expect(r.error).toBeUndefined();
    expect(r.list[`${OLD_ROOT}${hostProc}`]).toEqual([]);
    expect(parseMountInfo(r.mountinfo).map((m) => [m.mountpoint, m.fstype])).toEqual([
      ['/', 'ext4'],
      ['/kproc', 'proc'],
    ]);
  });

  test('no mount namespace in the config: chroot; / is the rootfs, the old root still holds its mounts', () => {
    const r = run({ namespaces: [{ type: 'pid' }] });
    expect(r.error).toBeUndefined();
    expect(r.list['/']).toEqual(ROOTFS_ENTRIES);
    const table = parseMountInfo(r.mountinfo);
    expect(table.map((m) => m.mountpoint)).toEqual(['/', '/kproc']);
    expect(table[0].parent).toBe(fdMountId(r.read[OLD_ROOT_INFO]));
    expect(r.list[`${OLD_ROOT}/proc`]).toEqual(expect.arrayContaining(['self', 'mounts']));
  });

  test('pivot_root of a rootfs that is not a mountpoint fails as a PluginError and leaves the root alone', () => {
    const r = run({ namespaces: [{ type: 'mount' }] }, ['builtin:default', JAIL]);
    // pivot_root(2): EBUSY when new_root is on the current root mount, EINVAL when it is not a mountpoint.
    expect(r.error?.name).toBe('PluginError');
    expect(r.error?.message).toMatch(/^jail: plugin jail: pivot_root "\." -> "\.": (EBUSY|EINVAL)$/);
    expect(r.list['/']).toEqual(expect.arrayContaining(['proc', 'sys', 'tmp']));
  });
});
