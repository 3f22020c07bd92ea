/**
 * Targets resolved inside the root and mounted by descriptor, against rootfs trees built
 * to escape: links at every path component of mount targets, device paths, masked and
 * read-only paths and the cwd, `..` in destinations, magic links, and a link swapped in
 * after the lookup. Each case runs both ways in-root lookups are made: openat2(2)
 * RESOLVE_IN_ROOT, and the component walk a kernel without openat2 gets (the port's
 * openat2 answering ENOSYS).
 *
 * Links lead to a `victim` directory next to the rootfs, outside it. Checked afterwards:
 * on the host, the victim tree is unchanged and nothing new lies next to the rootfs; in
 * the run's namespace, every mount the run made lies inside the rootfs.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC, MS_SHARED, O_DIRECTORY } from '../../src/core/constants';
import { openInRoot, resolveInRoot } from '../../src/core/in-root';
import { parseMountInfo } from '../../src/core/mountinfo';
import { isWithin } from '../../src/core/paths';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';
import { diffSnapshots, snapshotTree } from '../hardening/host-state';
import { makeConfig, makeMount } from '../helpers/config';
import { runInMountNamespace } from '../helpers/in-namespace';
import { OLD_ROOT_FD } from '../helpers/jail-rootfs';
import { encode, mountsAt, realRun, runAsRoot, tempDir, type RealRunRequest, type RealRunResult } from '../helpers/real-run';
import { WithoutOpenat2 } from '../helpers/older-kernel';

const plugin = (name: string) => path.resolve(__dirname, '../../src/plugins', name);
const HANDLERS = ['tmpfs', 'bind', 'default', 'proc', 'mqueue', 'cgroup'].map(plugin);
const JAILED = ['prepare-root', 'proc', 'default', 'devices', 'jail', 'after-jail', 'finalize'].map(plugin);

const procMount = makeMount({ index: 0, type: 'proc', source: 'proc', destination: '/proc', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC });
const devMount = makeMount({ index: 1, type: 'tmpfs', source: 'tmpfs', destination: '/dev', flags: MS_NOSUID, data: 'mode=755' });

const MODES = [
  ['openat2', false],
  ['the component walk', true],
] as const;

/** The mountpoints of a run's namespace that are not the host's. */
function newMountpoints(mountinfo: string, hostMountinfo: string): string[] {
  const host = new Set(parseMountInfo(hostMountinfo).map((m) => m.mountpoint));
  return parseMountInfo(mountinfo)
    .map((m) => m.mountpoint)
    .filter((p) => !host.has(p));
}

runAsRoot.each(MODES)('hostile rootfs, targets looked up in the root (%s)', (_mode, withoutOpenat2) => {
  let t: ReturnType<typeof tempDir>;
  let rootfs: string;
  let victim: string;
  let victimBefore: Map<string, string>;
  /** The host path inside the rootfs where an absolute host path `p` leads when followed in the root. */
  const inRoot = (p: string) => path.join(rootfs, p);

  beforeEach(() => {
    t = tempDir('mountkit-targets-');
    const dir = realpathSync(t.dir);
    rootfs = path.join(dir, 'rootfs');
    victim = path.join(dir, 'victim');
    mkdirSync(rootfs);
    mkdirSync(path.join(victim, 'sub'), { recursive: true });
    writeFileSync(path.join(victim, 'file'), 'host data\n');
    victimBefore = snapshotTree(victim);
  });

  afterEach(() => {
    // Nothing created, written or re-owned outside the rootfs, on the host.
    expect(diffSnapshots(victimBefore, snapshotTree(victim))).toEqual([]);
    expect(readdirSync(path.dirname(rootfs)).sort()).toEqual(['rootfs', 'victim']);
    t.cleanup();
  });

  const run = (req: Omit<RealRunRequest, 'withoutOpenat2'>): RealRunResult => {
    const host = readFileSync('/proc/self/mountinfo', 'utf8');
    const r = realRun({ ...req, withoutOpenat2 });
    // Without a jail the run's namespace still names host paths: every new mount is in the
    // rootfs. After one, the report is read in the container, whose namespace has nothing else.
    if (!req.plugins.includes(plugin('jail'))) {
      for (const p of newMountpoints(r.mountinfo, host)) expect([p, isWithin(rootfs, p)]).toEqual([p, true]);
    }
    return r;
  };

  test('mount targets: a link at every component (absolute, climbing "..", a link to a link, dangling) leads back into the rootfs, for every handler', () => {
    symlinkSync(victim, path.join(rootfs, 'abs'));
    mkdirSync(path.join(rootfs, 'd1'));
    symlinkSync('../'.repeat(12) + victim.slice(1), path.join(rootfs, 'd1/up'));
    symlinkSync('abs', path.join(rootfs, 'chain'));
    symlinkSync(path.join(victim, 'new'), path.join(rootfs, 'dangling'));
    mkdirSync(path.join(rootfs, 'd2'));
    symlinkSync(path.join(victim, 'file'), path.join(rootfs, 'd2/last'));
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', destination: '/abs/t0' }),
      makeMount({ index: 1, type: 'ramfs', source: 'ramfs', destination: '/d1/up/r1' }),
      makeMount({ index: 2, type: 'bind', source: path.join(victim, 'file'), destination: '/d2/last', flags: MS_BIND }),
      makeMount({ index: 3, type: 'proc', source: 'proc', destination: '/chain/p' }),
      makeMount({ index: 4, type: 'mqueue', source: 'mqueue', destination: '/dangling/mq' }),
      makeMount({ index: 5, type: 'bind', source: path.join(victim, 'sub'), destination: '/chain/sub', flags: MS_BIND | MS_REC }),
      makeMount({ index: 6, type: 'cgroup', source: 'cgroup', destination: '/abs/cg', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC }),
    ];
    const r = run({ config: makeConfig({ rootfs, mounts }), plugins: HANDLERS });
    expect(r.error).toBeUndefined();
    const mounted = parseMountInfo(r.mountinfo);
    const fstypeAt = (p: string) => mounted.filter((m) => m.mountpoint === p).map((m) => m.fstype);
    expect(fstypeAt(inRoot(`${victim}/t0`))).toEqual(['tmpfs']);
    expect(fstypeAt(inRoot(`${victim}/r1`))).toEqual(['ramfs']);
    // The last component, a link to the host file, is followed inside the rootfs, where the file is made.
    expect(fstypeAt(inRoot(`${victim}/file`))).toHaveLength(1);
    expect(fstypeAt(inRoot(`${victim}/p`))).toEqual(['proc']);
    expect(fstypeAt(inRoot(`${victim}/new/mq`))).toEqual(['mqueue']);
    expect(fstypeAt(inRoot(`${victim}/sub`))).toHaveLength(1);
    expect(fstypeAt(inRoot(`${victim}/cg`))[0]).toBe('tmpfs');
    expect(mounted.filter((m) => isWithin(inRoot(`${victim}/cg`), m.mountpoint)).length).toBeGreaterThan(1);
  });

  test('".." in destinations, alone and after links, stays inside the rootfs', () => {
    symlinkSync(victim, path.join(rootfs, 'abs'));
    const mounts = [
      makeMount({ index: 0, type: 'tmpfs', destination: '/../../../../../etc-x' }),
      makeMount({ index: 1, type: 'tmpfs', destination: '/a/../../b' }),
      makeMount({ index: 2, type: 'tmpfs', destination: '/abs/../../../../../../up' }),
      makeMount({ index: 3, type: 'bind', source: path.join(victim, 'sub'), destination: '/abs/../victim-too/..', flags: MS_BIND }),
    ];
    const r = run({ config: makeConfig({ rootfs, mounts }), plugins: HANDLERS });
    expect(r.error).toBeUndefined();
    const points = parseMountInfo(r.mountinfo).map((m) => m.mountpoint);
    expect(points).toEqual(expect.arrayContaining([inRoot('etc-x'), inRoot('b'), inRoot('up'), inRoot(path.dirname(victim))]));
  });

  test.each([
    ['a link to /proc', '/l/sys', (root: string) => symlinkSync('/proc', path.join(root, 'l'))],
    ['a link climbing into /proc', '/d/l/sys', (root: string) => (mkdirSync(path.join(root, 'd')), symlinkSync('../../../../proc', path.join(root, 'd/l')))],
  ])('a destination inside /proc once resolved (%s) is refused before anything is made', (_what, destination, plant) => {
    mkdirSync(path.join(rootfs, 'proc'));
    plant(rootfs);
    const r = run({ config: makeConfig({ rootfs, mounts: [makeMount({ index: 0, type: 'tmpfs', destination })] }), plugins: HANDLERS });
    expect(r.error?.message).toBe(`mounts: plugin tmpfs mounts[0] "${destination}": "/proc/sys" cannot be mounted because it is inside /proc`);
    expect(readdirSync(path.join(rootfs, 'proc'))).toEqual([]);
  });

  test('/proc and /sys must be real directories: a link there is refused, even to a directory inside the rootfs', () => {
    mkdirSync(path.join(rootfs, 'real'));
    symlinkSync('/real', path.join(rootfs, 'proc'));
    const r = run({ config: makeConfig({ rootfs, mounts: [procMount] }), plugins: HANDLERS });
    expect(r.error?.message).toBe('mounts: plugin proc mounts[0] "/proc": "/proc" must be a real directory, not a symlink');
    expect(parseMountInfo(r.mountinfo).filter((m) => m.fstype === 'proc' && isWithin(rootfs, m.mountpoint))).toEqual([]);
  });

  test('device paths: /dev a link out, nodes and their entries links out; nodes, links and ptmx are made inside', () => {
    symlinkSync(victim, path.join(rootfs, 'dev'));
    const r = run({ config: makeConfig({ rootfs }), plugins: [plugin('devices')], stat: [inRoot(`${victim}/null`), inRoot(`${victim}/ptmx`)] });
    expect(r.error).toBeUndefined();
    expect(r.stat[inRoot(`${victim}/null`)]).toMatchObject({ kind: 'char', rdev: '1:3' });
    expect(r.stat[inRoot(`${victim}/ptmx`)]).toMatchObject({ kind: 'symlink' });
  });

  test('device entries that are links out: a node is made where the link leads inside; ptmx replaces the link itself', () => {
    mkdirSync(path.join(rootfs, 'dev'));
    symlinkSync(path.join(victim, 'file'), path.join(rootfs, 'dev/null'));
    symlinkSync('../'.repeat(12) + victim.slice(1) + '/zero', path.join(rootfs, 'dev/zero'));
    symlinkSync(path.join(victim, 'file'), path.join(rootfs, 'dev/ptmx'));
    symlinkSync(path.join(victim, 'file'), path.join(rootfs, 'dev/stdout'));
    const r = run({
      config: makeConfig({ rootfs }),
      plugins: [plugin('devices')],
      stat: [inRoot(`${victim}/file`), inRoot(`${victim}/zero`), path.join(rootfs, 'dev/ptmx')],
    });
    expect(r.error).toBeUndefined();
    expect(r.stat[inRoot(`${victim}/file`)]).toMatchObject({ kind: 'char', rdev: '1:3' });
    expect(r.stat[inRoot(`${victim}/zero`)]).toMatchObject({ kind: 'char', rdev: '1:5' });
    expect(r.stat[path.join(rootfs, 'dev/ptmx')]).toMatchObject({ kind: 'symlink' });
  });

  test('device nodes bound from the host (a user namespace) onto entries that are links out: the empty files and binds are inside', () => {
    mkdirSync(path.join(rootfs, 'dev'));
    symlinkSync(path.join(victim, 'file'), path.join(rootfs, 'dev/null'));
    const r = run({
      config: makeConfig({ rootfs, namespaces: [{ type: 'mount' }, { type: 'user' }] }),
      plugins: [plugin('devices')],
      stat: [inRoot(`${victim}/file`)],
    });
    expect(r.error).toBeUndefined();
    expect(r.stat[inRoot(`${victim}/file`)]).toMatchObject({ kind: 'char', rdev: '1:3' });
    expect(parseMountInfo(r.mountinfo).filter((m) => m.mountpoint === inRoot(`${victim}/file`))).toHaveLength(1);
  });

  describe('after the jail', () => {
    beforeEach(() => {
      mkdirSync(path.join(rootfs, 'proc'));
      mkdirSync(inRoot(victim), { recursive: true });
      writeFileSync(inRoot(`${victim}/secret`), 'container secret\n');
      symlinkSync(victim, path.join(rootfs, 'abs'));
      symlinkSync('abs', path.join(rootfs, 'chain'));
    });

    test('masked and read-only paths with links at every component are applied where the links lead inside the container', () => {
      writeFileSync(inRoot(`${victim}/other`), 'container other\n');
      const config = makeConfig({
        rootfs,
        mounts: [procMount, devMount],
        maskedPaths: ['/chain/secret', '/abs/../victim/other', '/dangling/x'],
        readonlyPaths: ['/chain'],
      });
      symlinkSync('/nowhere', path.join(rootfs, 'dangling'));
      const r = run({ config, plugins: JAILED, read: [`${victim}/secret`, `${victim}/other`] });
      expect(r.error).toBeUndefined();
      // Read inside the container: masked by /dev/null.
      expect(r.read).toEqual({ [`${victim}/secret`]: '', [`${victim}/other`]: '' });
      const inside = parseMountInfo(r.mountinfo);
      expect(inside.filter((m) => m.mountpoint === `${victim}/secret` || m.mountpoint === `${victim}/other`)).toHaveLength(2);
      expect(inside.find((m) => m.mountpoint === victim)?.options.split(',')).toContain('ro');
    });

    test('a /dev/null that is a link to a writable /proc file is refused before any path is masked (CVE-2025-31133)', () => {
      const config = makeConfig({ rootfs, mounts: [procMount], maskedPaths: ['/chain/secret'] });
      mkdirSync(path.join(rootfs, 'dev'));
      symlinkSync('/proc/sys/kernel/core_pattern', path.join(rootfs, 'dev/null'));
      const r = run({ config, plugins: JAILED.filter((p) => !p.endsWith('devices')) });
      expect(r.error?.message).toBe('finalize: plugin masked-paths: /dev/null is a file, not the null device (char 1:3); refusing to mask paths with it');
      expect(parseMountInfo(r.mountinfo).filter((m) => m.mountpoint === `${victim}/secret`)).toEqual([]);
    });

    test('a cwd with links at every component is made where they lead inside the container', () => {
      symlinkSync('../'.repeat(12), inRoot(`${victim}/up`));
      const cwd = '/chain/up/cwd-made-here';
      const r = run({ config: makeConfig({ rootfs, mounts: [procMount, devMount], process: { ...makeConfig().process, cwd } }), plugins: JAILED });
      expect(r.error).toBeUndefined();
      expect(readdirSync(rootfs)).toContain('cwd-made-here');
    });

    test.each(['', '/sub', '/../victim/sub'])('a cwd through a leaked descriptor of a host directory (/proc/self/fd/N%s) is refused (CVE-2024-21626)', (rest) => {
      const cwd = `/proc/self/fd/${OLD_ROOT_FD}${rest}`;
      const keepVictim = `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const s = new LinuxSyscalls();
const fd = s.open(${JSON.stringify(victim)}, ${O_DIRECTORY}, 0);
s.dup3(fd, ${OLD_ROOT_FD}, 0);
s.close(fd);
`;
      const r = run({
        config: makeConfig({ rootfs, mounts: [procMount, devMount], process: { ...makeConfig().process, cwd } }),
        plugins: JAILED,
        beforeJail: keepVictim,
      });
      expect(r.error?.message).toMatch(/^after-jail: plugin cwd: /);
    });
  });
});

runAsRoot.each(MODES)('a link swapped in after the lookup (%s)', (_mode, withoutOpenat2) => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('mountkit-swap-')));
  afterEach(() => t.cleanup());

  test('a target opened by descriptor, then replaced by a link out, is still the one mounted on; by path the mount would follow the link', () => {
    const dir = realpathSync(t.dir);
    const rootfs = path.join(dir, 'rootfs');
    const victim = path.join(dir, 'victim');
    mkdirSync(path.join(rootfs, 'by-fd'), { recursive: true });
    mkdirSync(path.join(rootfs, 'by-path'));
    mkdirSync(victim);
    const script = `
const fs = require('fs');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { WithoutOpenat2 } = require('./test/helpers/older-kernel');
const { fdPath, openInRoot } = require('./src/core/in-root');
const { parseMountInfo } = require('./src/core/mountinfo');
const sys = ${withoutOpenat2 ? 'new WithoutOpenat2()' : 'new LinuxSyscalls()'};
const rootfs = ${JSON.stringify(rootfs)};
const victim = ${JSON.stringify(victim)};
const swap = (name) => { fs.renameSync(rootfs + '/' + name, rootfs + '/' + name + '.orig'); fs.symlinkSync(victim, rootfs + '/' + name); };
const fd = openInRoot(sys, rootfs, '/by-fd', ${O_DIRECTORY});
swap('by-fd');
sys.mount('tmpfs', fdPath(fd), 'tmpfs', 0n, 'size=1m');
sys.close(fd);
swap('by-path');
sys.mount('tmpfs', rootfs + '/by-path', 'tmpfs', 0n, 'size=2m');
const mounts = parseMountInfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
process.stdout.write(JSON.stringify(mounts.filter((m) => m.fstype === 'tmpfs' && m.mountpoint.startsWith(${JSON.stringify(dir)})).map((m) => [m.mountpoint, m.superOptions])));
`;
    const r = runInMountNamespace(script);
    expect(r.stderr).toBe('');
    const mounts = JSON.parse(r.stdout) as [string, string][];
    expect(mounts.map(([p, opts]) => [p, opts.split(',').find((o) => o.startsWith('size='))])).toEqual([
      [path.join(rootfs, 'by-fd.orig'), 'size=1024k'],
      // The control: the same swap against a mount by path reaches the victim.
      [victim, 'size=2048k'],
    ]);
  });
});

runAsRoot('tmpcopyup with a shared rootfsPropagation', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('mountkit-shared-')));
  afterEach(() => t.cleanup());

  /**
   * Runs prepare-root and tmpfs on a tmpcopyup at /data with `/` shared and a peer of
   * /tmp, the mount table seen while the content is copied; `onTarget`: fsopen answers
   * ENOSYS, as before Linux 5.2, and the tmpfs is mounted on the target and filled there.
   */
  function runShared(onTarget: boolean) {
    const dir = realpathSync(t.dir);
    // The rootfs lies on a mount of its own (made in the child), which prepare-root makes
    // private; `/`, where /tmp is, stays shared.
    const fsDir = path.join(dir, 'fs');
    const rootfs = path.join(fsDir, 'rootfs');
    const peer = path.join(dir, 'peer');
    mkdirSync(fsDir);
    mkdirSync(peer);
    const config = makeConfig({
      rootfs,
      rootPropagation: MS_SHARED | MS_REC,
      mounts: [makeMount({ index: 0, type: 'tmpfs', destination: '/data', extensions: { tmpcopyup: true } })],
    });
    // `/` becomes shared and /tmp gets a peer (a bind of it, which joins its peer group),
    // standing for the host's namespace: a mount under /tmp that propagates shows up there.
    const script = `
const fs = require('fs');
require('reflect-metadata');
const { createKernel } = require('./src/core/kernel');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const k = require('./src/core/constants');
const req = JSON.parse(process.env.MOUNTKIT_REQ, (key, v) => (v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v));
const during = [];
class Watching extends require('./test/helpers/older-kernel').withoutCalls(LinuxSyscalls, req.onTarget ? ['fsopen'] : []) {
  copyFileRange(a, b) { during.push(fs.readFileSync('/proc/self/mountinfo', 'utf8')); return super.copyFileRange(a, b); }
}
const sys = new Watching();
sys.mount('tmpfs', ${JSON.stringify(fsDir)}, 'tmpfs', 0n, null);
fs.mkdirSync(${JSON.stringify(path.join(rootfs, 'data'))}, { recursive: true });
fs.writeFileSync(${JSON.stringify(path.join(rootfs, 'data/kept'))}, 'lower\\n');
sys.mount(null, '/', null, k.MS_SHARED | k.MS_REC, null);
sys.mount('/tmp', ${JSON.stringify(peer)}, null, k.MS_BIND, null);
const out = {};
try {
  createKernel({ syscalls: sys, plugins: { plugins: req.plugins.map((module) => ({ module })) } }).orchestrator.run(req.config, { checkClaims: false });
} catch (e) { out.error = e.message; }
out.during = during;
out.after = fs.readFileSync('/proc/self/mountinfo', 'utf8');
out.peer = fs.readdirSync(${JSON.stringify(peer)}).filter((n) => n.startsWith('.mountkit-'));
out.kept = fs.readFileSync(${JSON.stringify(path.join(rootfs, 'data/kept'))}, 'utf8');
process.stdout.write(JSON.stringify(out));
`;
    const r = runInMountNamespace(script, { ...process.env, MOUNTKIT_REQ: encode({ config, plugins: ['prepare-root', 'tmpfs'].map(plugin), onTarget }) });
    expect(r.stderr).toBe('');
    return { out: JSON.parse(r.stdout) as { error?: string; during: string[]; after: string; peer: string[]; kept: string }, rootfs, peer };
  }

  test('on the target, the tmpfs is mounted at the target, under the private rootfs, while the content is copied: nothing of it in /tmp or its peer, and nothing made there', () => {
    const before = readdirSync('/tmp').filter((n) => n.startsWith('.mountkit-'));
    const { out, rootfs } = runShared(true);
    expect(out.error).toBeUndefined();
    expect(out.kept).toBe('lower\n');
    expect(out.during).toHaveLength(1);
    const during = parseMountInfo(out.during[0]);
    const after = parseMountInfo(out.after);
    // While copying, the tmpfs is at the target already (the copy writes into it there), and in /tmp and the peer there is nothing.
    expect(during.filter((m) => m.mountpoint === path.join(rootfs, 'data')).map((m) => m.fstype)).toEqual(['tmpfs']);
    expect(during.filter((m) => m.mountpoint.includes('.mountkit-') || (m.mountpoint.endsWith('/data') && m.mountpoint !== path.join(rootfs, 'data')))).toEqual([]);
    expect(after.filter((m) => m.mountpoint === path.join(rootfs, 'data')).map((m) => m.fstype)).toEqual(['tmpfs']);
    expect(after.length).toBe(during.length);
    expect(out.peer).toEqual([]);
    expect(readdirSync('/tmp').filter((n) => n.startsWith('.mountkit-'))).toEqual(before);
  });

  test('detached, the tmpfs is in no mount table while the content is copied, then on the target alone; nothing in /tmp or its peer', () => {
    const { out, rootfs, peer } = runShared(false);
    expect(out.error).toBeUndefined();
    expect(out.kept).toBe('lower\n');
    expect(out.during).toHaveLength(1);
    const before = parseMountInfo(out.during[0]);
    const after = parseMountInfo(out.after);
    // While copying: nothing at the target, in /tmp or at the peer; after, one mount more, the tmpfs at the target.
    expect(before.filter((m) => m.mountpoint === path.join(rootfs, 'data') || m.mountpoint.includes('.mountkit-tmpcopyup-') || m.mountpoint.startsWith(peer + '/'))).toEqual([]);
    expect(after.filter((m) => m.mountpoint === path.join(rootfs, 'data')).map((m) => m.fstype)).toEqual(['tmpfs']);
    expect(after.length).toBe(before.length + 1);
    expect(out.peer).toEqual([]);
  });
});

describe.each(MODES)('in-root lookup on the kernel (%s)', (_mode, withoutOpenat2) => {
  const sys = withoutOpenat2 ? new WithoutOpenat2() : new LinuxSyscalls();
  let t: ReturnType<typeof tempDir>;
  let root: string;
  let outside: string;
  beforeAll(() => {
    t = tempDir('mountkit-lookup-');
    const dir = realpathSync(t.dir);
    root = path.join(dir, 'root');
    outside = path.join(dir, 'outside');
    mkdirSync(path.join(root, 'etc'), { recursive: true });
    mkdirSync(path.join(root, 'usr/lib'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(path.join(root, 'etc/passwd'), 'inside\n');
    writeFileSync(path.join(outside, 'passwd'), 'outside\n');
    symlinkSync(outside, path.join(root, 'abs'));
    symlinkSync('../'.repeat(12) + outside.slice(1), path.join(root, 'up'));
    symlinkSync('/etc', path.join(root, 'etc-abs'));
    symlinkSync('etc-abs', path.join(root, 'chain'));
    symlinkSync('../../etc', path.join(root, 'usr/lib/back'));
    symlinkSync(path.join(outside, 'nowhere'), path.join(root, 'dangling'));
    symlinkSync('loop2', path.join(root, 'loop1'));
    symlinkSync('loop1', path.join(root, 'loop2'));
  });
  afterAll(() => t.cleanup());

  test.each([
    ['/etc/passwd', '/etc/passwd'],
    ['/../../../etc/passwd', '/etc/passwd'],
    ['/chain/passwd', '/etc/passwd'],
    ['/usr/lib/back/passwd', '/etc/passwd'],
    ['/etc-abs/../etc/passwd', '/etc/passwd'],
  ])('%s opens the rootfs file at %s', (unsafe, inside) => {
    const fd = openInRoot(sys, root, unsafe);
    try {
      expect(sys.readlink(`/proc/self/fd/${fd}`)).toBe(path.join(root, inside));
    } finally {
      sys.close(fd);
    }
  });

  test.each([
    ['/abs/passwd', 'passwd'],
    ['/up/passwd', 'passwd'],
    ['/dangling/x', 'nowhere/x'],
  ])('%s (a link out) leads inside, where nothing is: ENOENT; resolveInRoot names the path inside the root', (unsafe, below) => {
    expect(() => openInRoot(sys, root, unsafe)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(resolveInRoot(sys, root, unsafe)).toBe(path.join(outside, below));
  });

  test('a symlink loop is ELOOP', () => {
    expect(() => openInRoot(sys, root, '/loop1/x')).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  });
});

/**
 * CVE-2025-52881 (runc's reopenAfterMount): the steps after a mount (a bind's remount
 * with its flags, propagation, recursive attributes) must act on the mount just made.
 * Here the co-tenant's swap of the reproducer (`rename V/sub V/old; ln -s /ro V/sub`)
 * is made by the port itself, for real, at the one moment it wins: after the target's
 * lookup, just before the bind is made on its descriptor (a copy of the source made
 * with its flags, given them by mount_setattr(2) before Linux 6.15, or before 5.12
 * without them, attached; or, without open_tree(2), mount(2)). The mount then lands on
 * V/old, and a second lookup of /data/sub by name would follow the link to /ro and
 * remount it `rw,nosuid`.
 */
runAsRoot.each(MODES)('a target swapped for a link between its lookup and its mount (%s)', (_mode, withoutOpenat2) => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => (t = tempDir('mountkit-remount-race-')));
  afterEach(() => t.cleanup());

  test.each<[string, string[], boolean]>([
    ['a copy made with its flags, attached', [], true],
    ['a copy given its flags by mount_setattr, attached, before Linux 6.15: without open_tree_attr', ['openTreeAttr'], true],
    ['a copy attached, before Linux 5.12: without mount_setattr', ['mountSetattr'], false],
    ['mount(2), without open_tree', ['openTree'], false],
  ])('the remount meant for /data/sub (%s) never reaches /ro: the run refuses, naming the destination, and /ro stays ro', (_how, missing, flagsOnCopy) => {
    const dir = realpathSync(t.dir);
    const rootfs = path.join(dir, 'rootfs');
    for (const d of ['R', 'V/sub', 'SRC', 'rootfs/ro', 'rootfs/data']) mkdirSync(path.join(dir, d), { recursive: true });
    const bind = (index: number, source: string, destination: string, flags: bigint) => makeMount({ index, type: 'bind', source: path.join(dir, source), destination, flags });
    const config = makeConfig({
      bundle: dir,
      rootfs,
      mounts: [bind(0, 'R', '/ro', MS_BIND | MS_REC | MS_RDONLY), bind(1, 'V', '/data', MS_BIND | MS_REC), bind(2, 'SRC', '/data/sub', MS_BIND | MS_NOSUID)],
    });
    const script = `
const fs = require('fs');
require('reflect-metadata');
const { createKernel } = require('./src/core/kernel');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { withoutCalls } = require('./test/helpers/older-kernel');
const req = JSON.parse(process.env.MOUNTKIT_REQ, (k, v) => (v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v));
// The co-tenant's swap, made at the moment it wins: after the lookup of /data/sub, before its bind is made.
let swapped = false;
function swap(source) {
  if (swapped || source !== req.dir + '/SRC') return;
  swapped = true;
  fs.renameSync(req.dir + '/V/sub', req.dir + '/V/old');
  fs.symlinkSync('/ro', req.dir + '/V/sub');
}
class Swapping extends LinuxSyscalls {
  openTree(dirfd, path, flags) {
    swap(path);
    return super.openTree(dirfd, path, flags);
  }
  openTreeAttr(dirfd, path, flags, attrSet, attrClr, propagation) {
    swap(path);
    return super.openTreeAttr(dirfd, path, flags, attrSet, attrClr, propagation);
  }
  mount(source, target, fstype, flags, data) {
    if (target.startsWith('/proc/thread-self/fd/')) swap(source);
    return super.mount(source, target, fstype, flags, data);
  }
}
// A call the kernel lacks is refused before the swap could be made at it.
const Port = withoutCalls(Swapping, [req.withoutOpenat2 && 'openat2', ...req.missing].filter(Boolean));
const out = {};
try {
  const kernel = createKernel({ syscalls: new Port(), plugins: { plugins: req.plugins.map((module) => ({ module })) } });
  kernel.orchestrator.run(req.config, { checkClaims: false });
} catch (e) {
  out.error = e.name + ': ' + e.message;
}
out.mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
try { fs.writeFileSync(req.dir + '/rootfs/ro/PWNED', 'pwned'); out.write = 'ok'; } catch (e) { out.write = e.code; }
process.stdout.write(JSON.stringify(out));
`;
    const r = runInMountNamespace(script, { ...process.env, MOUNTKIT_REQ: encode({ config, dir, withoutOpenat2, missing, plugins: [plugin('prepare-root'), plugin('bind')] }) });
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { error?: string; mountinfo: string; write: string };
    // /ro is the read-only bind it was made, unchanged: no remount reached it.
    const ro = mountsAt(out.mountinfo, path.join(rootfs, 'ro'));
    expect(ro).toHaveLength(1);
    expect(ro[0].options.split(',')).toEqual(expect.arrayContaining(['ro']));
    expect(ro[0].options.split(',')).not.toContain('nosuid');
    expect(out.write).toBe('EROFS');
    expect(out.error).toMatch(/mount destination "\/data\/sub" was replaced while it was mounted on: it is now at "\/data\/old", not "\/data\/sub"/);
    expect(out.error).not.toMatch(/\n/);
    // The bind landed on the renamed target, where the lookup's descriptor held it, and was left as mounted (with
    // the flags its copy was made with, where it was): no remount acted on it either.
    expect(mountsAt(out.mountinfo, path.join(rootfs, 'data/old')).map((m) => m.options.split(',').includes('nosuid'))).toEqual([flagsOnCopy]);
    expect(existsSync(path.join(dir, 'R', 'PWNED'))).toBe(false);
  });
});
