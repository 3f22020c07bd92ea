import { writeFileSync } from 'fs';
import * as path from 'path';
import { parseMountInfo } from '../../../src/core/mountinfo';
import { makeConfig } from '../../helpers/config';
import { AFTER_JAIL, JAIL, PREPARE_ROOT, PROC_MOUNT, fdMountId, jailRootfs, keepOldRootHook } from '../../helpers/jail-rootfs';
import { realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';

const PLUGINS = [PREPARE_ROOT, 'builtin:default', JAIL, AFTER_JAIL];
const process0 = makeConfig().process;

runAsRoot('after-jail, real runs', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
    jailRootfs(rootfs);
  });
  afterEach(() => t.cleanup());

  test('the cwd is made inside the new root; a stdin on the host /dev/null now holds the container one', () => {
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [PROC_MOUNT], process: { ...process0, cwd: '/work/deep/dir' } }),
      plugins: PLUGINS,
      beforeJail: keepOldRootHook(true),
      stat: ['/work/deep/dir', '/work/deep'],
      read: ['/proc/self/fdinfo/0', '/proc/self/fdinfo/1'],
    });
    expect(r.error).toBeUndefined();
    expect(r.stat['/work/deep/dir']).toMatchObject({ kind: 'dir', perm: 0o755 });
    expect(r.stat['/work/deep']).toMatchObject({ kind: 'dir', perm: 0o755 });
    // The container's dev/null is a node on the rootfs mount; the host's is on devtmpfs.
    const root = parseMountInfo(r.mountinfo).find((m) => m.mountpoint === '/')!;
    expect(fdMountId(r.read['/proc/self/fdinfo/0'])).toBe(root.id);
    // stdout is the report's pipe and stays so (the report arrived through it).
    expect(fdMountId(r.read['/proc/self/fdinfo/1'])).not.toBe(root.id);
  });

  test('a cwd below a regular file is a PluginError after the jail', () => {
    writeFileSync(path.join(rootfs, 'work/file'), '');
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [PROC_MOUNT], process: { ...process0, cwd: '/work/file/sub' } }),
      plugins: PLUGINS,
    });
    expect(r.error).toMatchObject({ name: 'PluginError', message: 'after-jail: plugin cwd: openat2 "/work/file": ENOTDIR (looking up "sub" in it)' });
  });
});
