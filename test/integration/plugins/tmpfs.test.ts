import { spawnSync } from 'child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readlinkSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { MS_NOSUID, MS_RDONLY } from '../../../src/core/constants';
import { busyboxConfig, runMountkit, withBundle } from '../../conformance/harness';
import { makeConfig, makeMount } from '../../helpers/config';
import { mountsAt, realRun, runAsRoot, tempRootfs } from '../../helpers/real-run';

const TMPFS_PLUGIN = path.resolve(__dirname, '../../../src/plugins/tmpfs');

/** What mountkit's runs left in the host's /tmp (tmpcopyup once staged its tmpfs there; it must leave nothing). */
function leftInTmp(): string[] {
  return readdirSync('/tmp').filter((name) => name.startsWith('.mountkit-'));
}

/** A directory with the given mode, set after creation so the umask does not cut it. */
function dirWithMode(p: string, mode: number): void {
  mkdirSync(p, { recursive: true });
  chmodSync(p, mode);
}

/**
 * A chain of `depth` directories named d (mode 0750) under `top`, a file f holding "deep"
 * at its end, there for what `use` returns; made and removed a level at a time from the
 * working directory: its paths pass PATH_MAX (ENAMETOOLONG), which rmSync's recursive
 * walk would meet.
 */
function deepChain<T>(top: string, depth: number, use: () => T): T {
  const cwd = process.cwd();
  mkdirSync(top);
  try {
    process.chdir(top);
    for (let i = 0; i < depth; i++) {
      mkdirSync('d', 0o750);
      process.chdir('d');
    }
    writeFileSync('f', 'deep\n');
    process.chdir(cwd);
    return use();
  } finally {
    process.chdir(top);
    let made = 0;
    while (existsSync('d')) {
      process.chdir('d');
      made++;
    }
    if (existsSync('f')) unlinkSync('f');
    for (; made > 0; made--) {
      process.chdir('..');
      rmdirSync('d');
    }
    process.chdir(cwd);
  }
}

runAsRoot('tmpfs handler, real mounts', () => {
  let t: ReturnType<typeof tempRootfs>;
  let rootfs: string;
  const at = (p: string) => path.join(rootfs, p);
  beforeEach(() => {
    t = tempRootfs();
    rootfs = t.rootfs;
  });
  afterEach(() => t.cleanup());

  test("size= and mode= reach the superblock; an existing directory's mode is the superblock's mode= unless the data gives one; a read-only one is left read-write for finalize", () => {
    dirWithMode(at('sticky'), 0o1777);
    dirWithMode(at('private'), 0o750);
    dirWithMode(at('given'), 0o750);
    dirWithMode(at('ro'), 0o750);
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', destination: '/fresh/dir', data: 'size=1m,mode=700' }),
      makeMount({ index: 1, type: 'tmpfs', destination: '/sticky' }),
      makeMount({ index: 2, type: 'tmpfs', destination: '/private', data: 'size=2m' }),
      makeMount({ index: 3, type: 'tmpfs', destination: '/given', data: 'mode=711' }),
      makeMount({ index: 4, type: 'tmpfs', destination: '/ro', flags: MS_RDONLY | MS_NOSUID }),
    ];
    const stat = ['fresh/dir', 'sticky', 'private', 'given', 'ro'].map(at);
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [TMPFS_PLUGIN], stat, write: [at('ro/x'), at('private/x')] });
    expect(r.error).toBeUndefined();

    const [fresh] = mountsAt(r.mountinfo, at('fresh/dir'));
    expect(fresh.fstype).toBe('tmpfs');
    expect(fresh.superOptions.split(',')).toEqual(expect.arrayContaining(['size=1024k', 'mode=700']));
    expect(r.stat[at('fresh/dir')]).toMatchObject({ kind: 'dir', perm: 0o700 });

    expect(mountsAt(r.mountinfo, at('sticky'))).toHaveLength(1);
    expect(r.stat[at('sticky')]).toMatchObject({ perm: 0o1777 });
    expect(mountsAt(r.mountinfo, at('private'))[0].superOptions.split(',')).toEqual(expect.arrayContaining(['size=2048k', 'mode=750']));
    expect(r.stat[at('private')]).toMatchObject({ perm: 0o750 });
    expect(mountsAt(r.mountinfo, at('given'))[0].superOptions).toContain('mode=711');
    expect(r.stat[at('given')]).toMatchObject({ perm: 0o711 });

    const [ro] = mountsAt(r.mountinfo, at('ro'));
    expect(ro.options.split(',')).toEqual(expect.arrayContaining(['rw', 'nosuid']));
    expect(ro.superOptions.split(',')).toEqual(expect.arrayContaining(['rw', 'mode=750']));
    expect(r.stat[at('ro')]).toMatchObject({ perm: 0o750 });
    expect(r.write).toEqual({ [at('ro/x')]: 'ok', [at('private/x')]: 'ok' });
  });

  test('tmpcopyup: content, modes, owners and links are copied into the tmpfs, which appears only at the destination', () => {
    dirWithMode(at('data'), 0o750);
    writeFileSync(at('data/f'), 'hello');
    chmodSync(at('data/f'), 0o640);
    chownSync(at('data/f'), 1234, 1234);
    dirWithMode(at('data/sub'), 0o711);
    writeFileSync(at('data/sub/g'), 'inner');
    symlinkSync('f', at('data/link'));
    symlinkSync('/nowhere/at/all', at('data/dangling'));
    dirWithMode(at('rodata'), 0o755);
    writeFileSync(at('rodata/h'), 'read-only');
    const before = leftInTmp();

    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', destination: '/data', data: 'size=1m', extensions: { tmpcopyup: true } }),
      makeMount({ index: 1, type: 'tmpfs', destination: '/rodata', flags: MS_RDONLY, extensions: { tmpcopyup: true } }),
    ];
    const r = realRun({
      config: makeConfig({ rootfs, mounts }),
      plugins: [TMPFS_PLUGIN],
      stat: ['data', 'data/f', 'data/sub', 'data/sub/g', 'data/link', 'data/dangling'].map(at),
      read: ['data/f', 'data/sub/g', 'data/link', 'rodata/h'].map(at),
      list: [at('data')],
      write: [at('data/new'), at('rodata/new')],
    });
    expect(r.error).toBeUndefined();

    expect(mountsAt(r.mountinfo, at('data'))).toEqual([expect.objectContaining({ fstype: 'tmpfs', source: 'tmpfs' })]);
    expect(mountsAt(r.mountinfo, at('rodata'))[0].options.split(',')).toContain('rw');
    expect(r.mountinfo).not.toContain('.mountkit-');
    expect(r.stat[at('data')]).toMatchObject({ kind: 'dir', perm: 0o750 });
    expect(r.stat[at('data/f')]).toMatchObject({ kind: 'file', perm: 0o640, uid: 1234, gid: 1234 });
    expect(r.stat[at('data/sub')]).toMatchObject({ kind: 'dir', perm: 0o711 });
    expect(r.stat[at('data/link')]).toMatchObject({ kind: 'symlink' });
    expect(r.stat[at('data/dangling')]).toMatchObject({ kind: 'symlink' });
    expect(r.read).toEqual({ [at('data/f')]: 'hello', [at('data/sub/g')]: 'inner', [at('data/link')]: 'hello', [at('rodata/h')]: 'read-only' });
    expect(r.list[at('data')]).toEqual(['dangling', 'f', 'link', 'sub']);
    // Writes went to the tmpfs: the lower directory, seen from the host, never got them.
    expect(r.write).toEqual({ [at('data/new')]: 'ok', [at('rodata/new')]: 'ok' });
    expect(existsSync(at('data/new'))).toBe(false);
    expect(leftInTmp()).toEqual(before);
  });

  test.each([
    ['detached', false],
    ['on the target (fsopen answering ENOSYS)', true],
  ])('tmpcopyup (%s) copies FIFOs, device nodes and sockets as nodes, and directory modes the umask would cut (1777, 2775, 0777) whole', (_how, withoutFsopen) => {
    // runc (every version) fails on the first three: its copy (mrunalp/fileutils) makes no
    // FIFO or socket and no character device, and its lchown of the missing copy is ENOENT.
    // runc 1.1.5 also makes each directory with mkdir(2) under the umask and no chmod after
    // (1777 becomes 1755), which fileutils 0.5.1 (runc 1.1.15, 1.2) corrects.
    dirWithMode(at('data'), 0o755);
    const made = spawnSync('sh', ['-c', 'mkfifo -m 620 "$1/fifo" && mknod -m 640 "$1/null" c 1 3 && python3 -c "import os, stat, sys; os.mknod(sys.argv[1], stat.S_IFSOCK | 0o600)" "$1/sock" && chown 5:6 "$1/fifo"', 'sh', at('data')], { encoding: 'utf8' });
    expect(made.stderr).toBe('');
    dirWithMode(at('data/sticky'), 0o1777);
    dirWithMode(at('data/setgid'), 0o2775);
    dirWithMode(at('data/open'), 0o777);
    const names = ['fifo', 'null', 'sock', 'sticky', 'setgid', 'open'];
    const mounts = [makeMount({ index: 0, type: 'tmpfs', destination: '/data', extensions: { tmpcopyup: true } })];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [TMPFS_PLUGIN], stat: names.map((n) => at(`data/${n}`)), withoutFsopen });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, at('data'))).toEqual([expect.objectContaining({ fstype: 'tmpfs' })]);
    expect(names.map((n) => r.stat[at(`data/${n}`)])).toEqual([
      expect.objectContaining({ kind: 'fifo', perm: 0o620, uid: 5, gid: 6 }),
      expect.objectContaining({ kind: 'char', perm: 0o640, rdev: '1:3' }),
      expect.objectContaining({ kind: 'socket', perm: 0o600 }),
      expect.objectContaining({ kind: 'dir', perm: 0o1777 }),
      expect.objectContaining({ kind: 'dir', perm: 0o2775 }),
      expect.objectContaining({ kind: 'dir', perm: 0o777 }),
    ]);
  });

  test('tmpcopyup copies a tree deeper than the JavaScript stack goes and PATH_MAX spans (3000 levels), each directory with its mode', () => {
    // Three steps of 1000 levels, each a relative path within PATH_MAX (a step a level would take seconds: busybox's cd -P reads its working directory after each).
    const thousand = 'd/'.repeat(1000);
    const walk = `cd /data && cd -P ${thousand} && cd -P ${thousand} && cd -P ${thousand} && cat f && stat -c "%a %u" .`;
    const c = busyboxConfig(['sh', '-c', walk]);
    c.mounts.push({ destination: '/data', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    const r = withBundle(c, (dir) => deepChain(path.join(dir, 'rootfs', 'data'), 3000, () => runMountkit(dir)));
    expect([r.status, r.stdout, r.stderr]).toEqual([0, 'deep\n750 0\n', '']);
  });

  test('tmpcopyup copies names and link targets that are not valid UTF-8 with their bytes', () => {
    const latin1 = (p: string) => Buffer.from(at(p), 'latin1');
    mkdirSync(at('data'));
    writeFileSync(latin1('data/f\xff'), 'hello');
    mkdirSync(latin1('data/d\xfe'));
    writeFileSync(latin1('data/d\xfe/g\x80'), 'inner');
    symlinkSync(Buffer.from('t\xfe', 'latin1'), at('data/lnk'));
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [makeMount({ index: 0, type: 'tmpfs', destination: '/data', extensions: { tmpcopyup: true } })] }),
      plugins: [TMPFS_PLUGIN],
      read: [at('data/f\udcff'), at('data/d\udcfe/g\udc80')],
      list: [at('data')],
      links: [at('data/lnk')],
    });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, at('data'))).toHaveLength(1);
    expect(r.list[at('data')]).toEqual(['d\udcfe', 'f\udcff', 'lnk']);
    expect(r.read).toEqual({ [at('data/f\udcff')]: 'hello', [at('data/d\udcfe/g\udc80')]: 'inner' });
    expect(r.links).toEqual({ [at('data/lnk')]: 't\udcfe' });
  });

  describe('tmpcopyup reads the image directory only through descriptors: host files its symlinks point to are never copied', () => {
    let secret: string;
    let hostDir: string;
    beforeEach(() => {
      // The host's sentinels, outside the rootfs.
      secret = path.join(t.dir, 'host-secret');
      writeFileSync(secret, 'HOST-SECRET');
      hostDir = path.join(t.dir, 'hostdir');
      mkdirSync(hostDir);
      writeFileSync(path.join(hostDir, 'key'), 'HOST-KEY');
      dirWithMode(at('data'), 0o755);
      writeFileSync(at('data/a'), 'alpha');
      dirWithMode(at('data/sub'), 0o711);
      writeFileSync(at('data/sub/g'), 'inner');
    });
    const copyUp = () => [makeMount({ index: 0, type: 'tmpfs', destination: '/data', data: 'size=1m', extensions: { tmpcopyup: true } })];

    test('a symlink to a host file or directory is copied as the link', () => {
      symlinkSync(secret, at('data/secret'));
      symlinkSync(hostDir, at('data/hostdir'));
      const r = realRun({
        config: makeConfig({ rootfs, mounts: copyUp() }),
        plugins: [TMPFS_PLUGIN],
        stat: ['data/secret', 'data/hostdir'].map(at),
        list: [at('data')],
      });
      expect(r.error).toBeUndefined();
      expect(mountsAt(r.mountinfo, at('data'))).toEqual([expect.objectContaining({ fstype: 'tmpfs' })]);
      expect(r.list[at('data')]).toEqual(['a', 'hostdir', 'secret', 'sub']);
      expect(r.stat[at('data/secret')]).toMatchObject({ kind: 'symlink' });
      expect(r.stat[at('data/hostdir')]).toMatchObject({ kind: 'symlink' });
    });

    // The swap happens for real, in the rootfs, right after the copy examines the entry
    // (RacingSyscalls): deterministic where another container would have to win a race.
    test.each([
      ['a file', 'data/a', 'data/a.moved', () => secret, { stat: 'file', read: 'alpha' }],
      ['a directory', 'data/sub', 'data/sub.moved', () => hostDir, { stat: 'dir', list: ['g'] }],
    ] as const)('%s swapped for a symlink to the host once examined: the tmpfs holds what was examined, nothing of the host', (_what, entry, moved, swapTo, kept) => {
      const r = realRun({
        config: makeConfig({ rootfs, mounts: copyUp() }),
        plugins: [TMPFS_PLUGIN],
        race: { path: at(entry), movedTo: at(moved), swapTo: swapTo() },
        stat: ['data/a', 'data/sub'].map(at),
        read: ['data/a'].map(at),
        list: ['data', 'data/sub'].map(at),
      });
      expect(r.error).toBeUndefined();
      expect(mountsAt(r.mountinfo, at('data'))).toEqual([expect.objectContaining({ fstype: 'tmpfs' })]);
      expect(r.list[at('data')]).toEqual(['a', 'sub']);
      expect(r.stat[at(entry)]).toMatchObject({ kind: kept.stat });
      expect(r.read[at('data/a')]).toBe('alpha');
      expect(r.list[at('data/sub')]).toEqual(['g']);
      // The swap did happen: the rootfs, under the tmpfs, has the symlink now.
      expect(readlinkSync(at(entry))).toBe(swapTo());
    });
  });

  test.each([
    // copy_file_range(2) between two types of filesystem is EXDEV from Linux 5.19: read(2) and write(2) then.
    ['detached', false, /^mounts: plugin tmpfs mounts\[0\] "\/data": tmpcopyup: copying "\/data" into the tmpfs failed: (copy_file_range|write) ".*\/rootfs\/data\/big" -> "fsmount:\[tmpfs\]\/big": ENOSPC$/],
    ['on the target (fsopen answering ENOSYS)', true, /^mounts: plugin tmpfs mounts\[0\] "\/data": tmpcopyup: copying "\/data" into the tmpfs failed: (copy_file_range|write) ".*\/rootfs\/data\/big" -> "\/data\/big": ENOSPC$/],
  ])('tmpcopyup that runs out of space, %s, fails in one line naming the copy, leaving nothing mounted and nothing in /tmp', (_how, withoutFsopen, message) => {
    dirWithMode(at('data'), 0o755);
    writeFileSync(at('data/big'), Buffer.alloc(64 * 1024, 0x61));
    const before = leftInTmp();
    const mounts = [makeMount({ index: 0, type: 'tmpfs', destination: '/data', data: 'size=4k', extensions: { tmpcopyup: true } })];
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [TMPFS_PLUGIN], list: [at('data')], withoutFsopen });

    expect(r.error?.name).toBe('PluginError');
    expect(r.error?.message).toMatch(message);
    expect(mountsAt(r.mountinfo, at('data'))).toEqual([]);
    expect(r.mountinfo).not.toContain('.mountkit-');
    expect(r.list[at('data')]).toEqual(['big']);
    expect(leftInTmp()).toEqual(before);
  });
});
