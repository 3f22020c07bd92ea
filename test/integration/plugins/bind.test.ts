import { spawnSync } from 'child_process';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { MOUNT_ATTR_RDONLY, MS_BIND, MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_PRIVATE, MS_RDONLY, MS_REC, MS_RELATIME, MS_SHARED, MS_SLAVE, MS_STRICTATIME } from '../../../src/core/constants';
import type { MountSpec } from '../../../src/core/config/model';
import { fromOciSpec } from '../../../src/core/config/oci';
import { makeConfig, makeMount } from '../../helpers/config';
import { kernelHasOpenTreeAttr } from '../../helpers/older-kernel';
import { encode, mountsAt, realRun, runAsRoot, tempDir } from '../../helpers/real-run';

const BIND_PLUGIN = path.resolve(__dirname, '../../../src/plugins/bind');
const DEFAULT_PLUGIN = path.resolve(__dirname, '../../../src/plugins/default');
const REPO = path.resolve(__dirname, '../../..');
/** open_tree_attr(2) is Linux 6.15's: before it, a bind's copy is made by open_tree(2) and given its flags by mount_setattr(2). */
const OPEN_TREE_ATTR = kernelHasOpenTreeAttr();

/**
 * Runs the bind handler on `config` inside a new user and mount namespace (unshare -Urm)
 * entered from a throwaway mount namespace in which `lockedDir` has a nosuid,nodev tmpfs
 * with a directory `d`: copied into a namespace of a less privileged user namespace, that
 * mount's flags are locked (mount_namespaces(7)). Reports the error and the mount table.
 */
function runInUserNamespace(lockedDir: string, config: ReturnType<typeof makeConfig>): { error?: string; mountinfo: string } {
  const script = `
require('reflect-metadata');
const fs = require('fs');
const { createKernel } = require('./src/core/kernel');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const req = JSON.parse(process.env.MOUNTKIT_REQ, (k, v) => (v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v));
const out = {};
try {
  createKernel({ syscalls: new LinuxSyscalls(), plugins: { plugins: [{ module: ${JSON.stringify(BIND_PLUGIN)} }] } }).orchestrator.run(req.config, { checkClaims: false });
} catch (e) {
  out.error = e.message;
}
out.mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
process.stdout.write(JSON.stringify(out));
`;
  const inner = 'mount -t tmpfs -o nosuid,nodev,size=1m tmpfs "$1" && mkdir "$1/d" && exec unshare -Urm --propagation private "$2" -r "$3" -e "$4"';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', inner, 'sh', lockedDir, process.execPath, path.join(REPO, 'test/helpers/ts-register.js'), script], {
    cwd: REPO,
    env: { ...process.env, MOUNTKIT_REQ: encode({ config }) },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`child failed (status ${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as { error?: string; mountinfo: string };
}

/**
 * The mounts at and below `rootfs` in `mountinfo`, in order, as comparable lines: each
 * mount's place, root, options, filesystem and source, and its peer group and master
 * numbered by first appearance (the kernel's numbers differ from one namespace to the next).
 */
function mountTable(mountinfo: string, rootfs: string): string[] {
  const groups = new Map<string, number>();
  const numbered = (optional: string) => optional.replace(/(shared|master):(\d+)/g, (_all, kind: string, n: string) => `${kind}:#${groups.get(n) ?? (groups.set(n, groups.size), groups.size - 1)}`);
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => line.split(' '))
    .map((f) => ({ f, sep: f.indexOf('-', 6) }))
    .filter(({ f }) => f[4] === rootfs || f[4].startsWith(rootfs + '/'))
    .map(({ f, sep }) => [f[4].slice(rootfs.length), f[3], f[5], numbered(f.slice(6, sep).join(' ')), ...f.slice(sep + 1)].join(' '));
}

runAsRoot('bind handler, real mounts', () => {
  let t: ReturnType<typeof tempDir>;
  let rootfs: string;
  let src: string;
  let file: string;
  const inRoot = (p: string) => path.join(rootfs, p);
  /** Bind mounts of the source directory unless told otherwise, indexed in order. */
  const binds = (...mounts: (Partial<MountSpec> & Pick<MountSpec, 'destination'>)[]) =>
    mounts.map((m, index) => makeMount({ index, type: 'bind', source: src, flags: MS_BIND, ...m }));
  const run = (mounts: MountSpec[], checks: Omit<Parameters<typeof realRun>[0], 'config' | 'plugins'> = {}, plugins = [BIND_PLUGIN]) =>
    realRun({ config: makeConfig({ bundle: t.dir, rootfs, mounts }), plugins, ...checks });

  beforeEach(() => {
    t = tempDir();
    rootfs = path.join(t.dir, 'rootfs');
    src = path.join(t.dir, 'src');
    file = path.join(t.dir, 'file.txt');
    mkdirSync(rootfs);
    mkdirSync(src);
    writeFileSync(path.join(src, 'hello'), 'from the source');
    writeFileSync(file, 'a bound file');
  });
  afterEach(() => t.cleanup());

  test('binds show the source; ro, nosuid, nodev, noexec take effect', () => {
    const r = run(
      binds(
        { destination: '/data' },
        { destination: '/ro', flags: MS_BIND | MS_RDONLY },
        { destination: '/locked', flags: MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC },
        { destination: '/etc/hosts', source: file },
        { destination: '/typed', flags: MS_RDONLY },
      ),
      {
        read: [inRoot('data/hello'), inRoot('ro/hello'), inRoot('etc/hosts')],
        write: [inRoot('data/new'), inRoot('ro/new'), inRoot('typed/new')],
        stat: [inRoot('etc/hosts')],
      },
    );
    expect(r.error).toBeUndefined();
    expect(r.read).toEqual({
      [inRoot('data/hello')]: 'from the source',
      [inRoot('ro/hello')]: 'from the source',
      [inRoot('etc/hosts')]: 'a bound file',
    });
    const options = (dest: string) => mountsAt(r.mountinfo, inRoot(dest)).map((m) => m.options.split(','));
    expect(options('data')).toEqual([expect.arrayContaining(['rw'])]);
    expect(options('data')[0]).not.toEqual(expect.arrayContaining(['nosuid']));
    expect(options('ro')).toEqual([expect.arrayContaining(['ro'])]);
    expect(options('locked')).toEqual([expect.arrayContaining(['rw', 'nosuid', 'nodev', 'noexec'])]);
    expect(options('typed')).toEqual([expect.arrayContaining(['ro'])]);
    expect(r.write).toEqual({ [inRoot('data/new')]: 'ok', [inRoot('ro/new')]: 'EROFS', [inRoot('typed/new')]: 'EROFS' });
    expect(r.stat[inRoot('etc/hosts')]).toMatchObject({ kind: 'file' });
    expect(mountsAt(r.mountinfo, inRoot('etc/hosts'))).toHaveLength(1);
  });

  test('rbind takes the submounts of the source; bind does not', () => {
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', source: 'subfs', destination: '/a/sub' }),
      makeMount({ index: 1, type: 'bind', source: inRoot('a'), destination: '/b', flags: MS_BIND | MS_REC }),
      makeMount({ index: 2, type: 'bind', source: inRoot('a'), destination: '/c', flags: MS_BIND }),
    ];
    const r = run(mounts, {}, [BIND_PLUGIN, DEFAULT_PLUGIN]);
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, inRoot('b'))).toHaveLength(1);
    expect(mountsAt(r.mountinfo, inRoot('b/sub'))).toEqual([expect.objectContaining({ fstype: 'tmpfs', source: 'subfs' })]);
    expect(mountsAt(r.mountinfo, inRoot('c'))).toHaveLength(1);
    expect(mountsAt(r.mountinfo, inRoot('c/sub'))).toEqual([]);
  });

  test('hostile symlinks in the destination land inside the rootfs and nothing appears outside', () => {
    const outside = path.join(t.dir, 'outside');
    mkdirSync(outside);
    mkdirSync(inRoot('dir'));
    symlinkSync(outside, inRoot('link'));
    // On the host, dir/up leads to the test's temporary directory, one level above the rootfs.
    symlinkSync('../..', inRoot('dir/up'));
    const r = run(binds({ destination: '/link/x' }, { destination: '/dir/up/y' }), {
      stat: [path.join(outside, 'x'), path.join(t.dir, 'y'), inRoot(path.join(outside, 'x')), inRoot('y')],
    });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, inRoot(path.join(outside, 'x')))).toHaveLength(1);
    expect(mountsAt(r.mountinfo, inRoot('y'))).toHaveLength(1);
    expect(mountsAt(r.mountinfo, path.join(outside, 'x'))).toEqual([]);
    expect(mountsAt(r.mountinfo, path.join(t.dir, 'y'))).toEqual([]);
    expect(r.stat[path.join(outside, 'x')]).toBe('ENOENT');
    expect(r.stat[path.join(t.dir, 'y')]).toBe('ENOENT');
    expect(r.stat[inRoot(path.join(outside, 'x'))]).toMatchObject({ kind: 'dir' });
  });

  test('/proc/meminfo may be bound; any other path under /proc is refused and nothing is made', () => {
    const r = run(binds({ destination: '/proc/meminfo', source: file }, { destination: '/proc/sys' }), {
      read: [inRoot('proc/meminfo')],
      stat: [inRoot('proc/sys')],
    });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: 'mounts: plugin bind mounts[1] "/proc/sys": "/proc/sys" cannot be mounted because it is inside /proc',
    });
    expect(r.read[inRoot('proc/meminfo')]).toBe('a bound file');
    expect(mountsAt(r.mountinfo, inRoot('proc/meminfo'))).toHaveLength(1);
    expect(mountsAt(r.mountinfo, inRoot('proc/sys'))).toEqual([]);
    expect(r.stat[inRoot('proc/sys')]).toBe('ENOENT');
  });

  test('/proc takes a bind of a procfs (as runc allows it), and no bind of anything else', () => {
    const r = run(binds({ destination: '/proc', source: '/proc', flags: MS_BIND | MS_REC }));
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, inRoot('proc'))[0]).toMatchObject({ fstype: 'proc', root: '/' });
    const refused = run(binds({ destination: '/proc' }));
    expect(refused.error).toMatchObject({ name: 'PluginError', message: 'mounts: plugin bind mounts[0] "/proc": "/proc" takes only a proc filesystem, or a bind of one' });
    expect(mountsAt(refused.mountinfo, inRoot('proc'))).toEqual([]);
  });

  test('a missing source is named and nothing is made', () => {
    const missing = path.join(t.dir, 'nope');
    const r = run(binds({ destination: '/x', source: missing }), { stat: [inRoot('x')] });
    expect(r.error).toMatchObject({ name: 'PluginError', message: `mounts: plugin bind mounts[0] "/x": bind source "${missing}" does not exist` });
    expect(r.stat[inRoot('x')]).toBe('ENOENT');
  });

  test('an existing target: the source is not stat-ed; a missing one is named by the call that looks it up first, mount(2) or open_tree, and nothing is mounted', () => {
    mkdirSync(inRoot('plain'));
    mkdirSync(inRoot('ro'));
    writeFileSync(inRoot('hosts'), '');
    const made = run(binds({ destination: '/plain' }, { destination: '/ro', flags: MS_BIND | MS_RDONLY }, { destination: '/hosts', source: file }), { countCalls: ['stat'], read: [inRoot('hosts')] });
    expect(made.error).toBeUndefined();
    expect(made.calls).toEqual({ stat: 0 });
    expect(made.read[inRoot('hosts')]).toBe('a bound file');
    expect(mountsAt(made.mountinfo, inRoot('ro'))[0].options.split(',')).toContain('ro');
    const missing = path.join(t.dir, 'nope');
    for (const [destination, flags] of [['/plain', MS_BIND], ['/ro', MS_BIND | MS_RDONLY]] as const) {
      const r = run(binds({ destination, source: missing, flags }));
      expect(r.error).toMatchObject({ name: 'PluginError', message: `mounts: plugin bind mounts[0] "${destination}": bind source "${missing}" does not exist` });
      expect(mountsAt(r.mountinfo, inRoot(destination.slice(1)))).toEqual([]);
    }
  });

  test.each([
    ['a bind', 0n],
    ['an rbind (whose copy mount_setattr refuses the flags)', MS_REC],
  ])('in a user namespace, %s of a mount whose nosuid and nodev are locked is remounted read-only with them kept (runc 1.2)', (_what, rec) => {
    const locked = path.join(t.dir, 'locked');
    mkdirSync(locked);
    const source = path.join(locked, 'd');
    const config = (extra: Partial<MountSpec>) =>
      makeConfig({ bundle: t.dir, rootfs, mounts: [makeMount({ index: 0, type: 'bind', source, destination: '/ro', flags: MS_BIND | MS_RDONLY | rec, ...extra })] });
    const kept = runInUserNamespace(locked, config({}));
    expect(kept.error).toBeUndefined();
    const [ro] = mountsAt(kept.mountinfo, inRoot('ro'));
    expect(ro.options.split(',')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev']));
    // Asking for suid, which the kernel keeps off, is the kernel's refusal, which says so.
    const refused = runInUserNamespace(locked, config({ clearedFlags: MS_NOSUID }));
    expect(refused.error).toBe(
      `mounts: plugin bind mounts[0] "/ro": mount "${inRoot('ro')}": EPERM (suid (the source's mount is nosuid): a mount from a more privileged mount namespace keeps these flags locked in a user namespace)`,
    );
  });

  test('an idmapped bind shows the owners through its mappings and writes through them back; the source itself is unchanged', () => {
    // On disk: hello is root's (the test's). Through the mount: stored 0 is 1000 (uid) and 2000 (gid); root writing stores 10.
    const idmap = {
      recursive: false,
      uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 10, hostID: 0, size: 1 }],
      gidMappings: [{ containerID: 0, hostID: 2000, size: 10 }, { containerID: 10, hostID: 0, size: 1 }],
    };
    const r = run(binds({ destination: '/idm', flags: MS_BIND | MS_NOSUID, idmap }), {
      write: [inRoot('idm/new')],
      stat: [inRoot('idm/hello'), path.join(src, 'hello')],
    });
    expect(r.error).toBeUndefined();
    expect(mountsAt(r.mountinfo, inRoot('idm')).map((m) => m.options.split(','))).toEqual([expect.arrayContaining(['rw', 'nosuid', 'idmapped'])]);
    expect(r.write).toEqual({ [inRoot('idm/new')]: 'ok' });
    expect(r.stat[inRoot('idm/hello')]).toMatchObject({ uid: 1000, gid: 2000 });
    expect(r.stat[path.join(src, 'hello')]).toMatchObject({ uid: 0, gid: 0 });
    // The file written stays in the source directory on the host, with the id stored.
    expect(statSync(path.join(src, 'new'))).toMatchObject({ uid: 10, gid: 10 });
  });

  test('an rbind with ridmap maps every mount of its tree; with idmap, only the top one', () => {
    const ids = [{ containerID: 0, hostID: 1000, size: 10 }];
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', source: 'subfs', destination: '/a/sub' }),
      makeMount({ index: 1, type: 'bind', source: inRoot('a'), destination: '/b', flags: MS_BIND | MS_REC, idmap: { recursive: true, uidMappings: ids, gidMappings: ids } }),
      makeMount({ index: 2, type: 'bind', source: inRoot('a'), destination: '/c', flags: MS_BIND | MS_REC, idmap: { recursive: false, uidMappings: ids, gidMappings: ids } }),
    ];
    const r = run(mounts, { stat: [inRoot('b/sub'), inRoot('c/sub')] }, [BIND_PLUGIN, DEFAULT_PLUGIN]);
    expect(r.error).toBeUndefined();
    const idmapped = (dest: string) => mountsAt(r.mountinfo, inRoot(dest)).map((m) => m.options.split(',').includes('idmapped'));
    expect([idmapped('b'), idmapped('b/sub'), idmapped('c'), idmapped('c/sub')]).toEqual([[true], [true], [true], [false]]);
    expect(r.stat[inRoot('b/sub')]).toMatchObject({ uid: 1000 });
    expect(r.stat[inRoot('c/sub')]).toMatchObject({ uid: 0 });
  });

  test('an idmapped bind whose user namespace helper cannot start (no unshare(1) in PATH) names it, and mounts nothing', () => {
    const ids = [{ containerID: 0, hostID: 1000, size: 10 }];
    const r = realRun({
      config: makeConfig({ bundle: t.dir, rootfs, mounts: binds({ destination: '/idm', idmap: { recursive: false, uidMappings: ids, gidMappings: ids } }) }),
      plugins: [BIND_PLUGIN],
      env: { PATH: '/nonexistent' },
    });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: 'mounts: plugin bind mounts[0] "/idm": execve "unshare": ENOENT (util-linux unshare(1) makes the user namespaces mountkit needs, and is not in PATH)',
    });
    expect(mountsAt(r.mountinfo, inRoot('idm'))).toEqual([]);
  });

  test('an idmapped bind whose user namespace helper exits first (unshare(2) refused) quotes its message, and mounts nothing', () => {
    const ids = [{ containerID: 0, hostID: 1000, size: 10 }];
    const bin = path.join(t.dir, 'bin');
    mkdirSync(bin);
    // A stand-in for util-linux unshare(1) where user namespaces are refused (user.max_user_namespaces=0).
    writeFileSync(path.join(bin, 'unshare'), '#!/bin/sh\necho "unshare: unshare failed: No space left on device" >&2\nexit 1\n', { mode: 0o755 });
    const r = realRun({
      config: makeConfig({ bundle: t.dir, rootfs, mounts: binds({ destination: '/idm', idmap: { recursive: false, uidMappings: ids, gidMappings: ids } }) }),
      plugins: [BIND_PLUGIN],
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: 'mounts: plugin bind mounts[0] "/idm": the user namespace helper "unshare --user" exited before entering a new user namespace: unshare: unshare failed: No space left on device',
    });
    expect(mountsAt(r.mountinfo, inRoot('idm'))).toEqual([]);
  });

  test('destinations through a link to a name that is not valid UTF-8: a file bind ro, a directory rbind ro and a missing tmpfs destination are made at that name', () => {
    const latin1 = (p: string) => Buffer.from(inRoot(p), 'latin1');
    mkdirSync(latin1('\xfe/d'), { recursive: true });
    writeFileSync(latin1('\xfe/hosts'), 'image hosts');
    symlinkSync(Buffer.from('\xfe', 'latin1'), inRoot('l2'));
    const mounts = [
      ...binds({ destination: '/l2/hosts', source: file, flags: MS_BIND | MS_RDONLY }, { destination: '/l2/d', flags: MS_BIND | MS_REC | MS_RDONLY }),
      makeMount({ index: 2, type: 'tmpfs', source: 'tmpfs', destination: '/l2/x' }),
    ];
    const r = run(mounts, { read: [inRoot('\udcfe/hosts'), inRoot('\udcfe/d/hello')], stat: [inRoot('\udcfe/x'), inRoot('\ufffd')] }, [BIND_PLUGIN, DEFAULT_PLUGIN]);
    expect(r.error).toBeUndefined();
    const options = (dest: string) => mountsAt(r.mountinfo, inRoot(dest)).map((m) => m.options.split(',')[0]);
    expect([options('\udcfe/hosts'), options('\udcfe/d'), options('\udcfe/x')]).toEqual([['ro'], ['ro'], ['rw']]);
    expect(r.read).toEqual({ [inRoot('\udcfe/hosts')]: 'a bound file', [inRoot('\udcfe/d/hello')]: 'from the source' });
    expect(r.stat[inRoot('\udcfe/x')]).toMatchObject({ kind: 'dir' });
    expect(r.stat[inRoot('\ufffd')]).toBe('ENOENT');
  });

  test('an absolute source is resolved by the kernel as written: `..` after a link is the target\'s parent; a trailing slash after a file is ENOTDIR', () => {
    // lnk -> deep/inner: lnk/.. is deep, so lnk/../data-top is deep/data-top, not the bundle's data-top.
    mkdirSync(path.join(t.dir, 'deep/inner'), { recursive: true });
    mkdirSync(path.join(t.dir, 'deep/data-top'));
    writeFileSync(path.join(t.dir, 'deep/data-top/which'), 'deep');
    mkdirSync(path.join(t.dir, 'data-top'));
    writeFileSync(path.join(t.dir, 'data-top/which'), 'top');
    symlinkSync('deep/inner', path.join(t.dir, 'lnk'));
    // The mounts as the OCI loader gives them from config.json.
    const fromConfig = (source: string, destination: string) => fromOciSpec({ root: { path: 'rootfs' }, mounts: [{ destination, type: 'bind', source, options: ['bind'] }] }, t.dir).mounts;
    const viaLink = run(fromConfig(`${t.dir}/lnk/../data-top`, '/d'), { read: [inRoot('d/which')] });
    expect(viaLink.error).toBeUndefined();
    expect(viaLink.read).toEqual({ [inRoot('d/which')]: 'deep' });

    const slash = run(fromConfig(`${file}/`, '/f'));
    expect(slash.error?.message).toBe(`mounts: plugin bind mounts[0] "/f": stat ${JSON.stringify(`${file}/`)}: ENOTDIR`);
    expect(mountsAt(slash.mountinfo, inRoot('f'))).toEqual([]);
  });

  test('a bind with steps after its mount is a copy attached (open_tree, move_mount), acted on through its descriptor, a bind\'s flags given to its copy (open_tree_attr, or mount_setattr before 6.15 and for an rbind): the same mount table as a remount of the copy (before 5.12), and as mount(2) and its check make', () => {
    mkdirSync(inRoot('etc'));
    // The source a shared tmpfs with a submount: a copy of it joins its peer group as MS_BIND's does.
    // A second source, noatime,nodiratime,nosuid: a bind keeps its atime mode where no atime flag is given.
    const natime = path.join(t.dir, 'natime');
    mkdirSync(natime);
    const setup = `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const sys = new LinuxSyscalls();
sys.mount('srcfs', ${JSON.stringify(src)}, 'tmpfs', 0n, 'size=1m');
sys.mount(null, ${JSON.stringify(src)}, null, ${MS_SHARED}n, null);
sys.mkdir(${JSON.stringify(path.join(src, 'sub'))}, 0o755);
sys.mount('subfs', ${JSON.stringify(path.join(src, 'sub'))}, 'tmpfs', 0n, 'size=1m');
sys.mount('natimefs', ${JSON.stringify(natime)}, 'tmpfs', ${MS_NOATIME | MS_NODIRATIME | MS_NOSUID}n, 'size=1m');
`;
    const mounts = binds(
      { destination: '/ro', flags: MS_BIND | MS_RDONLY },
      { destination: '/locked', flags: MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC },
      { destination: '/rro', flags: MS_BIND | MS_REC | MS_RDONLY },
      { destination: '/private', flags: MS_BIND | MS_REC, propagationFlags: [MS_PRIVATE | MS_REC] },
      { destination: '/slave', flags: MS_BIND, propagationFlags: [MS_SLAVE] },
      { destination: '/attrs', flags: MS_BIND | MS_REC, recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n } },
      { destination: '/etc/hosts', source: file, flags: MS_BIND | MS_RDONLY },
      { destination: '/kept', source: natime, flags: MS_BIND | MS_NODEV },
      { destination: '/relatime', source: natime, flags: MS_BIND | MS_RELATIME },
      { destination: '/strict', source: natime, flags: MS_BIND | MS_STRICTATIME | MS_NOSUID },
      { destination: '/nodiratime', flags: MS_BIND | MS_NODIRATIME | MS_NOSYMFOLLOW },
    );
    const countCalls = ['openTreeAttr', 'openTree', 'mountSetattr', 'moveMount', 'mount', 'fstatMount'];
    const config = makeConfig({ bundle: t.dir, rootfs, mounts });
    const copies = run(mounts, { setup, countCalls, write: [inRoot('ro/x'), inRoot('rro/sub/x'), inRoot('attrs/sub/x'), inRoot('private/x')] });
    const setOnCopies = realRun({ config, plugins: [BIND_PLUGIN], setup, countCalls, withoutOpenTreeAttr: true });
    // Before 5.12 there are no recursive attributes (mount_setattr): /attrs is left out.
    const withoutAttrs = mounts.filter((m) => m.destination !== '/attrs').map((m, index) => ({ ...m, index }));
    const remounted = realRun({ config: makeConfig({ bundle: t.dir, rootfs, mounts: withoutAttrs }), plugins: [BIND_PLUGIN], setup, countCalls, withoutMountSetattr: true });
    const plain = realRun({ config, plugins: [BIND_PLUGIN], setup, countCalls, withoutOpenTree: true });
    expect(copies.error).toBeUndefined();
    expect(setOnCopies.error).toBeUndefined();
    expect(remounted.error).toBeUndefined();
    expect(plain.error).toBeUndefined();
    // Before 6.15 (open_tree_attr ENOSYS, once): every copy by open_tree, the eight with flags given them by
    // mount_setattr (and /attrs its recursive attributes), mount(2) for the two propagation changes.
    const before615 = { openTreeAttr: 1, openTree: 11, mountSetattr: 9, moveMount: 11, mount: 2, fstatMount: 0 };
    // Copies: a bind with flags made with them (seven), an rbind or a bind with steps alone by open_tree (four),
    // mount_setattr for the rbind's flags and /attrs, mount(2) for the propagation changes, nothing opened again.
    expect(copies.calls).toEqual(OPEN_TREE_ATTR ? { openTreeAttr: 7, openTree: 4, mountSetattr: 2, moveMount: 11, mount: 2, fstatMount: 0 } : before615);
    expect(setOnCopies.calls).toEqual(before615);
    // Before 5.12 (mount_setattr ENOSYS, once), ten copies, eight remounts through them.
    expect(remounted.calls).toEqual({ openTreeAttr: 1, openTree: 10, mountSetattr: 1, moveMount: 10, mount: 10, fstatMount: 0 });
    // Without open_tree (ENOSYS, once each: the run's later binds try neither), mount(2) and two statx of each bind's check.
    expect(plain.calls).toEqual({ openTreeAttr: 1, openTree: 1, mountSetattr: 1, moveMount: 0, mount: 21, fstatMount: 22 });
    const table = mountTable(copies.mountinfo, rootfs);
    expect(table).toEqual(mountTable(setOnCopies.mountinfo, rootfs));
    expect(table.filter((line) => !line.startsWith('/attrs'))).toEqual(mountTable(remounted.mountinfo, rootfs));
    expect(table).toEqual(mountTable(plain.mountinfo, rootfs));
    const at = (dest: string) => table.filter((line) => line.startsWith(dest + ' '));
    expect(at('/ro')).toEqual([expect.stringMatching(/^\/ro \/ ro,relatime shared:#0 tmpfs srcfs /)]);
    expect(at('/locked')).toEqual([expect.stringMatching(/^\/locked \/ rw,nosuid,nodev,noexec,relatime shared:#0 /)]);
    // ro on an rbind is its top mount's (runc's remount); MOUNT_ATTR_RDONLY with AT_RECURSIVE is every mount's.
    expect(at('/rro/sub')).toEqual([expect.stringMatching(/^\/rro\/sub \/ rw,relatime shared:#1 /)]);
    expect(at('/attrs/sub')).toEqual([expect.stringMatching(/^\/attrs\/sub \/ ro,relatime shared:#1 /)]);
    expect(at('/private')).toEqual([expect.stringMatching(/^\/private \/ rw,relatime  tmpfs /)]);
    expect(at('/slave')).toEqual([expect.stringMatching(/^\/slave \/ rw,relatime master:#0 /)]);
    expect(at('/etc/hosts')).toEqual([expect.stringMatching(/^\/etc\/hosts \S+\/file\.txt ro,relatime /)]);
    // No atime flag given: the source's noatime,nodiratime kept; nosuid cleared, as a remount clears it.
    expect(at('/kept')).toEqual([expect.stringMatching(/^\/kept \/ rw,nodev,noatime,nodiratime  tmpfs natimefs /)]);
    expect(at('/relatime')).toEqual([expect.stringMatching(/^\/relatime \/ rw,relatime  tmpfs natimefs /)]);
    expect(at('/strict')).toEqual([expect.stringMatching(/^\/strict \/ rw,nosuid  tmpfs natimefs /)]);
    expect(at('/nodiratime')).toEqual([expect.stringMatching(/^\/nodiratime \/ rw,nodiratime,relatime,nosymfollow shared:#0 /)]);
    expect(copies.write).toEqual({ [inRoot('ro/x')]: 'EROFS', [inRoot('rro/sub/x')]: 'ok', [inRoot('attrs/sub/x')]: 'EROFS', [inRoot('private/x')]: 'ok' });
  });

  test("a bind's flags given to its copy (open_tree_attr, or mount_setattr before 6.15 and for an rbind) reach the copy propagation makes of it in a peer of the target's mount; a remount after the attach (before 5.12, and runc's) changes the bind alone", () => {
    // /mnt a shared tmpfs whose peer is outside the rootfs: a bind made on /mnt/data is copied to peer/data.
    const peer = path.join(t.dir, 'peer');
    mkdirSync(peer);
    mkdirSync(inRoot('mnt'));
    const setup = `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const sys = new LinuxSyscalls();
sys.mount('mntfs', ${JSON.stringify(inRoot('mnt'))}, 'tmpfs', 0n, 'size=1m');
sys.mount(null, ${JSON.stringify(inRoot('mnt'))}, null, ${MS_SHARED}n, null);
sys.mount(${JSON.stringify(inRoot('mnt'))}, ${JSON.stringify(peer)}, null, ${MS_BIND}n, null);
`;
    const mounts = binds({ destination: '/mnt/data', flags: MS_BIND | MS_RDONLY | MS_NOSUID }, { destination: '/mnt/rdata', flags: MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID });
    const flags = (r: ReturnType<typeof run>) =>
      ['mnt/data', 'mnt/rdata'].flatMap((at) => [inRoot(at), path.join(peer, at.slice('mnt/'.length))]).map((at) => mountsAt(r.mountinfo, at).map((m) => m.options.split(',').filter((o) => o === 'ro' || o === 'rw' || o === 'nosuid').join(',')));
    const copy = run(mounts, { setup });
    const setOnCopy = run(mounts, { setup, withoutOpenTreeAttr: true });
    const remounted = run(mounts, { setup, withoutMountSetattr: true });
    expect([copy.error, setOnCopy.error, remounted.error]).toEqual([undefined, undefined, undefined]);
    // Each bind, then its copy in the peer.
    const everywhere = [['ro,nosuid'], ['ro,nosuid'], ['ro,nosuid'], ['ro,nosuid']];
    expect(flags(copy)).toEqual(everywhere);
    expect(flags(setOnCopy)).toEqual(everywhere);
    expect(flags(remounted)).toEqual([['ro,nosuid'], ['rw'], ['ro,nosuid'], ['rw']]);
  });

  test('a directory copy onto an existing file: move_mount refuses it (EINVAL), and mount(2) gives the error, as runc\'s', () => {
    writeFileSync(inRoot('f'), '');
    const r = run(binds({ destination: '/f', flags: MS_BIND | MS_RDONLY }), { countCalls: ['openTreeAttr', 'openTree', 'moveMount', 'mount'] });
    expect(r.error).toMatchObject({ name: 'PluginError', message: `mounts: plugin bind mounts[0] "/f": mount "${src}" -> "${inRoot('f')}": ENOTDIR` });
    // The copy made with its flags (by open_tree(2) and mount_setattr(2) before 6.15), attached: refused.
    expect(r.calls).toEqual({ openTreeAttr: 1, openTree: OPEN_TREE_ATTR ? 0 : 1, moveMount: 1, mount: 1 });
    expect(mountsAt(r.mountinfo, inRoot('f'))).toEqual([]);
  });

  test('a directory onto an existing file is refused by the kernel', () => {
    writeFileSync(inRoot('f'), '');
    const r = run(binds({ destination: '/f' }));
    expect(r.error).toMatchObject({ name: 'PluginError', message: `mounts: plugin bind mounts[0] "/f": mount "${src}" -> "${inRoot('f')}": ENOTDIR` });
    expect(mountsAt(r.mountinfo, inRoot('f'))).toEqual([]);
  });
});
