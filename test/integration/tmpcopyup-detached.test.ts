/**
 * tmpcopyup's detached tmpfs (fsopen(2), fsconfig(2), fsmount(2), move_mount(2)) against
 * the one mounted on the target with mount(2) and filled there, where the new mount API
 * is refused, on the running kernel: the container must see the same content and modes
 * either way, a bad option must fail either way in one line, neither may leave anything
 * in /tmp (a run killed while it copies, a copy that fails), and a symlink planted in the
 * tmpfs while it is filled (seen from a peer of a shared mount) must send no write outside
 * it. Needs root; every run is a child in a throwaway mount namespace.
 */
import { spawnSync } from 'child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { MountSpec } from '../../src/core/config/model';
import {
  MS_BIND,
  MS_DIRSYNC,
  MS_LAZYTIME,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from '../../src/core/constants';
import { parseMountInfo } from '../../src/core/mountinfo';
import { makeConfig, makeMount } from '../helpers/config';
import { NET_RAW_FILE_CAPS, USER_1234_ACL } from '../helpers/xattr-values';
import { REPO } from '../helpers/cli';
import { runInMountNamespace } from '../helpers/in-namespace';
import { encode, runAsRoot, tempDir } from '../helpers/real-run';

const TMPFS_PLUGIN = path.resolve(__dirname, '../../src/plugins/tmpfs');
const REFUSING = path.join(__dirname, '..', 'helpers', 'refusing-syscalls.js');
const TS_REGISTER = path.join(__dirname, '..', 'helpers', 'ts-register.js');

interface CopyUpRun {
  error?: string;
  /** The child's end: a signal when it was killed. */
  signal: string | null;
  mountinfo: string;
  /** Each path under the rootfs: kind, mode, owner and a file's text, as the run left it. */
  tree: Record<string, string>;
  /** The port calls that tell the two ways apart, in order, each once it returned. */
  ops: string[];
  /** What the `after` code returned. */
  after?: unknown;
}

/**
 * Runs the tmpfs plugin on `mounts` over `rootfs` in a child, whose port answers fsopen
 * with ENOSYS when `onTarget`. `setup` runs first in the child's namespace; with
 * `killAtCopy`, the child kills itself (SIGKILL) right after that many files are copied;
 * `atMount` runs right after each tmpfs mount(2) (given `require` and the target).
 * Its modules are all loaded before `setup` (which may cover /tmp, where they may be),
 * which is given `require` and `LinuxSyscalls`; `after` runs once the plugin is done,
 * given those and the rootfs, and what it returns is reported.
 * The child reports in a file in `reportDir` (a directory it sees as this process does);
 * `namespaces` are more unshare(1) options for it (`-U -r`: a user namespace, root mapped).
 */
function runCopyUp(rootfs: string, mounts: MountSpec[], opts: { onTarget: boolean; setup?: string; after?: string; atMount?: string; killAtCopy?: number; reportDir?: string; refuseFsopen?: string; namespaces?: string[] }): CopyUpRun {
  const script = `
const fs = require('fs');
const path = require('path');
require('reflect-metadata');
const { createKernel } = require('./src/core/kernel');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { withoutCalls } = require('./test/helpers/older-kernel');
const req = JSON.parse(process.env.MOUNTKIT_REQ, (key, v) => (v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v));
const out = { ops: [], tree: {} };
const Base = withoutCalls(LinuxSyscalls, req.onTarget ? ['fsopen'] : []);
class Watched extends Base {
  fsmount(...a) { const r = super.fsmount(...a); out.ops.push('fsmount'); return r; }
  moveMount(...a) { super.moveMount(...a); out.ops.push('move_mount'); }
  mount(source, target, fstype, flags, data) {
    super.mount(source, target, fstype, flags, data);
    if (fstype !== 'tmpfs') return;
    out.ops.push('mount');
    if (req.atMount) new Function('require', 'target', req.atMount)(require, target);
  }
  mkdir(p, mode) { super.mkdir(p, mode); out.ops.push('mkdir ' + p); }
  copyFileRange(a, b) {
    super.copyFileRange(a, b);
    out.ops.push('copy');
    if (out.ops.filter((o) => o === 'copy').length === req.killAtCopy) {
      fs.writeFileSync(req.report, JSON.stringify(out));
      process.kill(process.pid, 'SIGKILL');
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10000);
    }
  }
}
try {
  // The plugin is loaded before the setup, which may cover the directory it is in.
  const kernel = createKernel({ syscalls: new Watched(), plugins: { plugins: [{ module: req.plugin }] } });
  if (req.setup) new Function('require', 'LinuxSyscalls', req.setup)(require, LinuxSyscalls);
  kernel.orchestrator.run(req.config, { checkClaims: false });
  if (req.after) out.after = new Function('require', 'LinuxSyscalls', 'rootfs', req.after)(require, LinuxSyscalls, req.config.rootfs);
} catch (e) {
  out.error = e.message;
}
out.mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
const walk = (dir) => {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const s = fs.lstatSync(p);
    const kind = s.isSymbolicLink() ? 'link ' + fs.readlinkSync(p) : s.isDirectory() ? 'dir' : s.isFile() ? 'file ' + fs.readFileSync(p, 'utf8') : 'other';
    out.tree[path.relative(req.config.rootfs, p)] = kind + ' ' + (s.mode & 0o7777).toString(8) + ' ' + s.uid + ':' + s.gid;
    if (s.isDirectory()) walk(p);
  }
};
walk(req.config.rootfs);
fs.writeFileSync(req.report, JSON.stringify(out));
`;
  const t = opts.reportDir === undefined ? tempDir('mountkit-copyup-report-') : { dir: opts.reportDir, cleanup: () => undefined };
  try {
    const report = path.join(t.dir, 'report.json');
    const config = makeConfig({ rootfs, mounts });
    const env = { ...process.env, MOUNTKIT_REQ: encode({ config, plugin: TMPFS_PLUGIN, report, ...opts }) };
    // With `refuseFsopen`, the real port under a seccomp filter answering fsopen(2) with that errno.
    const r = opts.refuseFsopen === undefined ? runInMountNamespace(script, env, opts.namespaces) : underFilter(opts.refuseFsopen, script, env);
    if (r.signal === null && r.status !== 0) throw new Error(`child failed (status ${r.status}): ${r.stderr}`);
    const out = JSON.parse(readFileSync(report, 'utf8')) as Omit<CopyUpRun, 'signal'>;
    return { ...out, signal: r.signal };
  } finally {
    t.cleanup();
  }
}

/** runInMountNamespace's child, run under a seccomp filter answering fsopen(2) with `errno`. */
function underFilter(errno: string, script: string, env: NodeJS.ProcessEnv): { status: number | null; signal: string | null; stderr: string } {
  const argv = ['-m', '--propagation', 'private', process.execPath, REFUSING, `fsopen=${errno}`, process.execPath, '-r', TS_REGISTER, '-e', script];
  const r = spawnSync('unshare', argv, { cwd: REPO, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

/**
 * The mounts at and below `dirs`, as the container tells them apart: mountpoint, mount
 * options, propagation (peer groups numbered by first appearance, the same groups the
 * same numbers), type, source and superblock options, in mount order. Mount ids and
 * device numbers differ from run to run.
 */
function mountsUnder(mountinfo: string, dirs: string[]): string[] {
  const groups = new Map<string, number>();
  const group = (id: string) => groups.get(id) ?? (groups.set(id, groups.size + 1), groups.size);
  return parseMountInfo(mountinfo)
    .filter((m) => dirs.some((d) => m.mountpoint === d || m.mountpoint.startsWith(d + '/')))
    .map((m) => {
      const optional = m.optional.map((o) => o.replace(/^(shared|master):(\d+)$/, (_all, kind: string, id: string) => `${kind}:g${group(id)}`));
      return [m.mountpoint, m.options, ...optional, '-', m.fstype, m.source, m.superOptions].join(' ');
    });
}

runAsRoot('tmpcopyup: a detached tmpfs, and one mounted on the target where the new mount API is refused', () => {
  let t: ReturnType<typeof tempDir>;
  let rootfs: string;
  const at = (p: string) => path.join(rootfs, p);
  beforeEach(() => {
    t = tempDir('mountkit-copyup-');
    rootfs = path.join(t.dir, 'rootfs');
    for (const [dir, mode] of [['a', 0o755], ['b', 0o750], ['c', 0o1777], ['d', 0o711], ['e', 0o755], ['f', 0o700]] as const) {
      mkdirSync(at(dir), { recursive: true });
      chmodSync(at(dir), mode);
      writeFileSync(at(`${dir}/file`), `in ${dir}\n`);
      chmodSync(at(`${dir}/file`), 0o640);
      chownSync(at(`${dir}/file`), 1234, 4321);
      mkdirSync(at(`${dir}/sub`));
      chmodSync(at(`${dir}/sub`), 0o2750);
      writeFileSync(at(`${dir}/sub/setuid`), '#!/bin/sh\n');
      chmodSync(at(`${dir}/sub/setuid`), 0o4755);
      symlinkSync('../file', at(`${dir}/sub/link`));
    }
  });
  afterEach(() => t.cleanup());

  const copyUp = (index: number, destination: string, over: Partial<MountSpec> = {}) =>
    makeMount({ index, type: 'tmpfs', source: 'tmpfs', destination, extensions: { tmpcopyup: true }, ...over });

  const MOUNTS = () => [
    copyUp(0, '/a', { flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_STRICTATIME, data: 'size=1m,nr_inodes=100' }),
    copyUp(1, '/b', { flags: MS_NOATIME | MS_NODIRATIME, data: 'mode=0700,uid=1000,gid=1000', source: 'shm' }),
    copyUp(2, '/c', { flags: MS_RDONLY | MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME | MS_SILENT, data: 'size=2m' }),
    copyUp(3, '/d', { flags: MS_RELATIME | MS_NOSYMFOLLOW, propagationFlags: [MS_SHARED] }),
    copyUp(4, '/e', { propagationFlags: [MS_UNBINDABLE], source: '' }),
    copyUp(5, '/f', { propagationFlags: [MS_PRIVATE | MS_REC, MS_SHARED | MS_REC, MS_SLAVE] }),
  ];

  test('the same mounts (options, propagation, type, source, superblock options), content, modes and owners either way', () => {
    const detached = runCopyUp(rootfs, MOUNTS(), { onTarget: false });
    const onTarget = runCopyUp(rootfs, MOUNTS(), { onTarget: true });
    expect([detached.error, onTarget.error]).toEqual([undefined, undefined]);
    // Each took its own way, and neither made a directory anywhere.
    expect(detached.ops.filter((o) => o !== 'copy')).toEqual(Array.from({ length: 6 }, () => ['fsmount', 'move_mount']).flat());
    expect(onTarget.ops.filter((o) => o !== 'copy')).toEqual(Array.from({ length: 6 }, () => 'mount'));
    const mounts = mountsUnder(detached.mountinfo, [rootfs]);
    expect(mounts).toHaveLength(6);
    expect(mountsUnder(onTarget.mountinfo, [rootfs])).toEqual(mounts);
    // What the options asked for is there: the mount's flags, the superblock's, the data.
    expect(mounts[0]).toMatch(/^\S+\/a rw,nosuid,nodev,noexec - tmpfs tmpfs rw,size=1024k,nr_inodes=100,mode=755$/);
    expect(mounts[1]).toMatch(/^\S+\/b rw,noatime,nodiratime - tmpfs shm rw,mode=700,uid=1000,gid=1000/);
    expect(mounts[2]).toMatch(/^\S+\/c rw,relatime - tmpfs tmpfs rw,sync,dirsync,lazytime,size=2048k$/);
    expect(mounts[3]).toMatch(/^\S+\/d rw,relatime,nosymfollow shared:g1 - tmpfs tmpfs rw,mode=711$/);
    expect(mounts[4]).toMatch(/^\S+\/e rw,relatime unbindable - tmpfs {2}rw,/);
    expect(mounts[5]).toMatch(/^\S+\/f rw,relatime - tmpfs tmpfs /);
    expect(detached.tree).toEqual(onTarget.tree);
    expect(detached.tree).toMatchObject({ 'a/file': 'file in a\n 640 1234:4321', 'a/sub': 'dir 2750 0:0', 'a/sub/setuid': 'file #!/bin/sh\n 4755 0:0', 'a/sub/link': expect.stringMatching(/^link \.\.\/file /) });
    expect(detached.tree['c']).toMatch(/^dir 1777 /);
    for (const r of [detached, onTarget]) expect(r.mountinfo).not.toContain('.mountkit-');
  });

  test('extended attributes of files and directories are copied either way, after the owner and mode: file capabilities (security.capability) survive, a symlink keeps none', () => {
    const caps = NET_RAW_FILE_CAPS;
    const setup = `
const s = new LinuxSyscalls();
const r = ${JSON.stringify(rootfs)};
s.lsetxattr(r + '/a/file', 'security.capability', Uint8Array.from(${JSON.stringify(caps)}));
s.lsetxattr(r + '/a/file', 'trusted.t', 'file value');
s.lsetxattr(r + '/a/sub', 'trusted.d', Uint8Array.from([0, 1, 2, 255]));
s.lsetxattr(r + '/a/sub/setuid', 'user.u', 'u');
`;
    const after = `
const s = new LinuxSyscalls();
const out = {};
for (const p of ['a/file', 'a/sub', 'a/sub/setuid', 'a/sub/link']) {
  const full = rootfs + '/' + p;
  // The link's own attributes: listxattr(2) would follow it.
  const names = p.endsWith('link') ? [] : s.listxattr(full).sort();
  out[p] = names.map((n) => n + '=' + Buffer.from(s.getxattr(full, n)).toString('hex'));
}
return out;
`;
    const hex = (text: string) => Buffer.from(text).toString('hex');
    // tmpfs keeps user.* attributes from Linux 6.6 on (mm/shmem.c); before, the copy leaves them out.
    const [major, minor] = os.release().split('.').map(Number);
    const userXattrs = major > 6 || (major === 6 && minor >= 6);
    const expected = {
      'a/file': [`security.capability=${Buffer.from(caps).toString('hex')}`, `trusted.t=${hex('file value')}`],
      'a/sub': ['trusted.d=000102ff'],
      'a/sub/setuid': userXattrs ? [`user.u=${hex('u')}`] : [],
      'a/sub/link': [],
    };
    for (const onTarget of [false, true]) {
      const run = runCopyUp(rootfs, [copyUp(0, '/a')], { onTarget, setup, after });
      expect({ onTarget, error: run.error, after: run.after }).toEqual({ onTarget, error: undefined, after: expected });
      expect(run.tree).toMatchObject({ 'a/file': 'file in a\n 640 1234:4321', 'a/sub': 'dir 2750 0:0', 'a/sub/setuid': 'file #!/bin/sh\n 4755 0:0' });
    }
  });

  test("a directory's default ACL is set after its content is copied: an entry whose source has no ACL gets none from it (acl(5) inheritance)", () => {
    const acl = USER_1234_ACL;
    // The source's children were there before the default ACL: they have none of their own.
    const setup = `
const s = new LinuxSyscalls();
s.lsetxattr(${JSON.stringify(rootfs)} + '/a/sub', 'system.posix_acl_default', Uint8Array.from(${JSON.stringify(acl)}));
`;
    const after = `
const s = new LinuxSyscalls();
const out = {};
for (const p of ['a/sub', 'a/sub/setuid']) out[p] = s.listxattr(rootfs + '/' + p).filter((n) => n.startsWith('system.')).sort();
return out;
`;
    for (const onTarget of [false, true]) {
      const run = runCopyUp(rootfs, [copyUp(0, '/a')], { onTarget, setup, after });
      expect({ onTarget, error: run.error, after: run.after }).toEqual({ onTarget, error: undefined, after: { 'a/sub': ['system.posix_acl_default'], 'a/sub/setuid': [] } });
      expect(run.tree).toMatchObject({ 'a/sub': 'dir 2750 0:0', 'a/sub/setuid': 'file #!/bin/sh\n 4755 0:0' });
    }
  });

  test('an attribute the tmpfs refuses is left out, as runc copies none: without CAP_SETFCAP, security.capability (lsetxattr EPERM) is dropped and the run goes on', () => {
    const caps = NET_RAW_FILE_CAPS;
    // CAP_SETFCAP (31) leaves the effective set once the source has its attributes: setting
    // security.capability then fails EPERM (capabilities(7)), trusted.* still needs only CAP_SYS_ADMIN.
    const setup = `
const s = new LinuxSyscalls();
const r = ${JSON.stringify(rootfs)};
s.lsetxattr(r + '/a/file', 'security.capability', Uint8Array.from(${JSON.stringify(caps)}));
s.lsetxattr(r + '/a/file', 'trusted.t', 'kept');
const status = require('fs').readFileSync('/proc/self/status', 'utf8');
const set = (name) => BigInt('0x' + status.split(name + ':')[1].trim().split(String.fromCharCode(10))[0]);
s.capset(set('CapEff') & ~(1n << 31n), set('CapPrm'), set('CapInh'));
`;
    const after = `
const s = new LinuxSyscalls();
const full = rootfs + '/a/file';
return s.listxattr(full).sort().map((n) => n + '=' + Buffer.from(s.getxattr(full, n)).toString());
`;
    for (const onTarget of [false, true]) {
      const run = runCopyUp(rootfs, [copyUp(0, '/a')], { onTarget, setup, after });
      expect({ onTarget, error: run.error, after: run.after }).toEqual({ onTarget, error: undefined, after: ['trusted.t=kept'] });
      expect(run.tree).toMatchObject({ 'a/file': 'file in a\n 640 1234:4321' });
    }
  });

  test("an access ACL the tmpfs refuses (a named user not mapped in the run's user namespace: lsetxattr EINVAL) leaves the copy the owning group's permissions, not the mask its mode holds (acl(5))", () => {
    // Only root, the one id mapped in the child's user namespace (unshare -U -r), owns the source.
    const source = path.join(t.dir, 'acl-rootfs');
    mkdirSync(path.join(source, 'a/dir'), { recursive: true });
    writeFileSync(path.join(source, 'a/file'), 'acl\n');
    writeFileSync(path.join(source, 'a/plain'), 'no acl\n');
    const acl = USER_1234_ACL;
    // Set here, in the initial user namespace, where uid 1234 is mapped: a mount namespace of its own, nothing mounted.
    const set = runInMountNamespace(`
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const s = new LinuxSyscalls();
const r = ${JSON.stringify(source)};
for (const p of ['a/file', 'a/dir']) {
  s.chmod(r + '/' + p, p === 'a/file' ? 0o2770 : 0o770);
  s.lsetxattr(r + '/' + p, 'system.posix_acl_access', Uint8Array.from(${JSON.stringify(acl)}));
}
s.chmod(r + '/a/plain', 0o770);
`);
    expect(set.stderr).toBe('');
    const after = `
const s = new LinuxSyscalls();
const out = {};
for (const p of ['a/file', 'a/dir', 'a/plain']) out[p] = s.listxattr(rootfs + '/' + p).filter((n) => n.startsWith('system.'));
return out;
`;
    for (const onTarget of [false, true]) {
      const run = runCopyUp(source, [copyUp(0, '/a')], { onTarget, after, namespaces: ['-U', '-r'] });
      expect({ onTarget, error: run.error, after: run.after }).toEqual({ onTarget, error: undefined, after: { 'a/file': [], 'a/dir': [], 'a/plain': [] } });
      // The mask rwx was the group class bits; group::r-x is what the owning group had.
      expect(run.tree).toMatchObject({ 'a/file': 'file acl\n 2750 0:0', 'a/dir': 'dir 750 0:0', 'a/plain': 'file no acl\n 770 0:0' });
    }
  });

  /** The setup of a rootfs that is a shared mount of its own, bound at `peer`, which joins its peer group: a process there sees what is mounted in the rootfs. */
  const sharedWithPeer = (peer: string) => `
const k = require('./src/core/constants');
const s = new LinuxSyscalls();
s.mount(${JSON.stringify(rootfs)}, ${JSON.stringify(rootfs)}, null, k.MS_BIND, null);
s.mount(null, ${JSON.stringify(rootfs)}, null, k.MS_SHARED, null);
s.mount(${JSON.stringify(rootfs)}, ${JSON.stringify(peer)}, null, k.MS_BIND, null);
`;

  test('under a shared parent with a peer: the tmpfs propagates to the peer either way, and its own private flag, set once it is on the target, lasts either way, as on a tmpfs mounted without tmpcopyup', () => {
    const peer = path.join(t.dir, 'peer');
    mkdirSync(peer);
    const setup = sharedWithPeer(peer);
    const mounts = () => [copyUp(0, '/a', { propagationFlags: [MS_PRIVATE] }), copyUp(1, '/b', { data: 'size=1m' })];
    const detached = runCopyUp(rootfs, mounts(), { onTarget: false, setup });
    const onTarget = runCopyUp(rootfs, mounts(), { onTarget: true, setup });
    const plain = runCopyUp(rootfs, mounts().map((m) => ({ ...m, extensions: { ...m.extensions, tmpcopyup: false } })), { onTarget: true, setup });
    expect([detached.error, onTarget.error, plain.error]).toEqual([undefined, undefined, undefined]);
    expect(detached.ops).toContain('fsmount');
    const tmpfsLines = (r: CopyUpRun) => mountsUnder(r.mountinfo, [rootfs, peer]).filter((l) => / - tmpfs /.test(l)).map((l) => l.replace(/ - .*/, '').replace(t.dir, ''));
    // The private flag leaves the peer's copy alone in its group; the tmpfs without one stays shared with its copy.
    expect(tmpfsLines(onTarget)).toEqual(['/rootfs/a rw,relatime', '/peer/a rw,relatime shared:g2', '/rootfs/b rw,relatime shared:g3', '/peer/b rw,relatime shared:g3']);
    expect(tmpfsLines(detached)).toEqual(tmpfsLines(onTarget));
    expect(tmpfsLines(plain)).toEqual(tmpfsLines(onTarget));
  });

  test.each([
    ['file', 'the file copied there', 'openat "/a/file": EEXIST'],
    ['sub', 'the directory copied there', 'mkdirat "/a/sub": EEXIST'],
  ])('on the target under a shared parent, a symlink to a host directory planted in the tmpfs from the peer at %s (%s) before the copy makes it: the copy fails naming it, nothing is written outside the tmpfs, and the tmpfs is gone from the target and the peer', (name, _what, inner) => {
    const peer = path.join(t.dir, 'peer');
    const outside = path.join(t.dir, 'outside');
    mkdirSync(peer);
    mkdirSync(outside);
    // What a user of the peer's namespace may do once the tmpfs shows there: a link at a name the copy has still to make.
    const atMount = `require('fs').symlinkSync(${JSON.stringify(name === 'file' ? path.join(outside, 'written') : outside)}, ${JSON.stringify(path.join(peer, 'a', name))});`;
    const r = runCopyUp(rootfs, [copyUp(0, '/a')], { onTarget: true, setup: sharedWithPeer(peer), atMount });
    expect(r.ops.filter((o) => o !== 'copy')).toEqual(['mount']);
    expect(r.error).toBe(`mounts: plugin tmpfs mounts[0] "/a": tmpcopyup: copying "/a" into the tmpfs failed: ${inner}`);
    expect(readdirSync(outside)).toEqual([]);
    expect(mountsUnder(r.mountinfo, [rootfs, peer]).filter((l) => / - tmpfs /.test(l))).toEqual([]);
    // The image's directory shows again at the target.
    expect(r.tree['a/file']).toBe('file in a\n 640 1234:4321');
  });

  test.each([
    ['size=zz', `configuring the tmpfs failed: fsconfig "size=zz": EINVAL (tmpfs: Bad value for 'size')`],
    ['nosuchoption=1', `configuring the tmpfs failed: fsconfig "nosuchoption=1": EINVAL (tmpfs: Unknown parameter 'nosuchoption')`],
    // No SELinux here: context= is no option of tmpfs, as mount(2) answers too.
    ['context="system_u:object_r:tmp_t:s0:c1,c2"', `configuring the tmpfs failed: fsconfig "context=system_u:object_r:tmp_t:s0:c1,c2": EINVAL (tmpfs: Unknown parameter 'context')`],
  ])('a bad option (%s) fails either way in one line naming the syscall, errno and what it was given; nothing is mounted or left', (data, detachedError) => {
    const mounts = () => [copyUp(0, '/a', { data })];
    const detached = runCopyUp(rootfs, mounts(), { onTarget: false });
    const onTarget = runCopyUp(rootfs, mounts(), { onTarget: true });
    expect(detached.error).toBe(`mounts: plugin tmpfs mounts[0] "/a": tmpcopyup: ${detachedError}`);
    // mount(2) has no log: its error names the data the kernel was given, as mountDetail shows it.
    const onTargetError = `mount "tmpfs" -> ${JSON.stringify(at('a'))}: EINVAL (data ${JSON.stringify(`mode=0755,${data}`)})`;
    expect(onTarget.error).toBe(`mounts: plugin tmpfs mounts[0] "/a": tmpcopyup: mounting the tmpfs on "/a" failed: ${onTargetError}`);
    for (const r of [detached, onTarget]) {
      expect(mountsUnder(r.mountinfo, [rootfs])).toEqual([]);
      expect(r.ops.filter((o) => o.startsWith('mkdir'))).toEqual([]);
    }
  });
});

runAsRoot('tmpcopyup where a seccomp filter refuses fsopen(2)', () => {
  let t: ReturnType<typeof tempDir>;
  beforeEach(() => {
    t = tempDir('mountkit-copyup-filtered-');
    mkdirSync(path.join(t.dir, 'rootfs/data'), { recursive: true });
    writeFileSync(path.join(t.dir, 'rootfs/data/f'), 'kept\n');
  });
  afterEach(() => t.cleanup());

  test.each(['ENOSYS', 'EPERM'])('the real port meets %s and the tmpfs is mounted on the target and filled there, copied as ever', (errno) => {
    const mounts = [makeMount({ index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/data', extensions: { tmpcopyup: true } })];
    const r = runCopyUp(path.join(t.dir, 'rootfs'), mounts, { onTarget: false, refuseFsopen: errno });
    expect(r.error).toBeUndefined();
    expect(r.ops.filter((o) => o !== 'copy')).toEqual(['mount']);
    expect(r.tree['data/f']).toBe('file kept\n 644 0:0');
    expect(mountsUnder(r.mountinfo, [path.join(t.dir, 'rootfs')])).toEqual([expect.stringMatching(/\/data rw,relatime - tmpfs tmpfs rw,mode=755/)]);
  });
});

runAsRoot('LinuxSyscalls: fsopen, fsconfig, fsmount on the running kernel', () => {
  test("a bad parameter is one line naming it, with the kernel's word from the context's log; a context's magic link reads \"anon_inode:[fscontext]\", a detached mount's \"/\"", () => {
    const script = `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const k = require('./src/core/constants');
const s = new LinuxSyscalls();
const attempt = (fn) => { try { return { ok: fn() }; } catch (e) { return { error: e.message }; } };
const out = {};
out.nofs = attempt(() => s.fsopen('nosuchfs', k.FSOPEN_CLOEXEC));
const fd = s.fsopen('tmpfs', k.FSOPEN_CLOEXEC);
out.contextLink = s.readlink('/proc/thread-self/fd/' + fd);
out.badValue = attempt(() => s.fsconfig(fd, k.FSCONFIG_SET_STRING, 'size', 'zz', 0));
out.unknown = attempt(() => s.fsconfig(fd, k.FSCONFIG_SET_FLAG, 'nosuchflag', null, 0));
out.early = attempt(() => s.fsmount(fd, k.FSMOUNT_CLOEXEC, 0n));
s.fsconfig(fd, k.FSCONFIG_SET_STRING, 'size', '1m', 0);
s.fsconfig(fd, k.FSCONFIG_CMD_CREATE, null, null, 0);
out.late = attempt(() => s.fsconfig(fd, k.FSCONFIG_SET_STRING, 'mode', '700', 0));
const m = s.fsmount(fd, k.FSMOUNT_CLOEXEC, k.MOUNT_ATTR_NOSUID);
out.link = s.readlink('/proc/thread-self/fd/' + m);
out.again = attempt(() => s.fsmount(fd, k.FSMOUNT_CLOEXEC, 0n));
process.stdout.write(JSON.stringify(out));
`;
    const r = runInMountNamespace(script);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      nofs: { error: 'fsopen "nosuchfs": ENODEV' },
      contextLink: 'anon_inode:[fscontext]',
      badValue: { error: `fsconfig "size=zz": EINVAL (tmpfs: Bad value for 'size')` },
      unknown: { error: `fsconfig "nosuchflag": EINVAL (tmpfs: Unknown parameter 'nosuchflag')` },
      early: { error: 'fsmount: EINVAL' },
      late: { error: 'fsconfig "mode=700": EBUSY' },
      link: '/',
      again: { error: 'fsmount: EBUSY' },
    });
  });
});

runAsRoot('LinuxSyscalls: what the copy on the target stands on, on the running kernel', () => {
  test("a directory's descriptor opened before a tmpfs is mounted on it keeps showing the directory under it, through its magic link too; copyFileRange copies onto the tmpfs from another filesystem (read(2) and write(2) where copy_file_range(2) is refused), fchmod and fsetxattr set what the descriptor holds, and an O_PATH descriptor is EBADF to them, named", () => {
    const t = tempDir('mountkit-port-');
    try {
      mkdirSync(path.join(t.dir, 'dir'));
      writeFileSync(path.join(t.dir, 'dir/under'), 'from the disk\n');
      const script = `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const k = require('./src/core/constants');
const s = new LinuxSyscalls();
const dir = ${JSON.stringify(path.join(t.dir, 'dir'))};
const attempt = (fn) => { try { return fn(); } catch (e) { return e.message; } };
const under = s.open(dir, k.O_PATH | k.O_DIRECTORY | k.O_CLOEXEC, 0);
s.mount('tmpfs', '/proc/thread-self/fd/' + under, 'tmpfs', 0n, 'size=1m');
const top = s.open(dir, k.O_RDONLY | k.O_DIRECTORY | k.O_CLOEXEC, 0);
const from = s.open('/proc/thread-self/fd/' + s.openat(under, 'under', k.O_PATH | k.O_NOFOLLOW | k.O_CLOEXEC, 0), k.O_RDONLY | k.O_CLOEXEC, 0);
const made = s.openat(top, 'copy', k.O_WRONLY | k.O_CREAT | k.O_EXCL | k.O_NOFOLLOW | k.O_CLOEXEC, 0o600);
s.copyFileRange(from, made);
s.fchmod(made, 0o4750);
s.fsetxattr(made, 'trusted.t', 'v');
const pathFd = s.openat(top, 'copy', k.O_PATH | k.O_NOFOLLOW | k.O_CLOEXEC, 0);
process.stdout.write(JSON.stringify({
  under: s.readdir('/proc/thread-self/fd/' + under),
  top: s.readdir(dir),
  copy: require('fs').readFileSync(dir + '/copy', 'utf8'),
  mode: (require('fs').statSync(dir + '/copy').mode & 0o7777).toString(8),
  xattr: Buffer.from(s.getxattr(dir + '/copy', 'trusted.t')).toString(),
  fchmod: attempt(() => s.fchmod(pathFd, 0o600)),
  fsetxattr: attempt(() => s.fsetxattr(pathFd, 'trusted.t', 'w')),
  again: attempt(() => s.openat(top, 'copy', k.O_WRONLY | k.O_CREAT | k.O_EXCL | k.O_NOFOLLOW | k.O_CLOEXEC, 0o600)),
}));
`;
      const r = runInMountNamespace(script);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({
        under: ['under'],
        top: ['copy'],
        copy: 'from the disk\n',
        mode: '4750',
        xattr: 'v',
        fchmod: `fchmod ${JSON.stringify(path.join(t.dir, 'dir/copy'))}: EBADF`,
        fsetxattr: `fsetxattr ${JSON.stringify(path.join(t.dir, 'dir/copy'))}: EBADF`,
        again: 'openat "copy": EEXIST',
      });
    } finally {
      t.cleanup();
    }
  });
});

runAsRoot('LinuxSyscalls: which descriptor fsconfig and fsmount refuse, and how, on the running kernel (as FakeSyscalls answers)', () => {
  test('the arguments are checked before the descriptor; an O_PATH descriptor (the mount fsmount made among them) is EBADF, another that is no context EINVAL', () => {
    const script = `
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const k = require('./src/core/constants');
const s = new LinuxSyscalls();
const attempt = (fn) => { try { return fn(); } catch (e) { return e.message; } };
const pathFd = s.open('/', k.O_PATH | k.O_CLOEXEC, 0);
const readFd = s.open('/', k.O_RDONLY | k.O_CLOEXEC, 0);
const context = s.fsopen('tmpfs', k.FSOPEN_CLOEXEC);
s.fsconfig(context, k.FSCONFIG_CMD_CREATE, null, null, 0);
const mount = s.fsmount(context, k.FSMOUNT_CLOEXEC, 0n);
// A number no descriptor of this process has (past its table, or not open in it): a descriptor closed here may be reused by Node.
const closed = 1 << 20;
process.stdout.write(JSON.stringify({
  negative: attempt(() => s.fsconfig(-1, k.FSCONFIG_CMD_CREATE, null, null, 0)),
  closedValueOfFlag: attempt(() => s.fsconfig(closed, k.FSCONFIG_SET_FLAG, 'x', 'v', 0)),
  closedUnknownCommand: attempt(() => s.fsconfig(closed, 99, null, null, 0)),
  closed: attempt(() => s.fsconfig(closed, k.FSCONFIG_CMD_CREATE, null, null, 0)),
  pathFd: attempt(() => s.fsconfig(pathFd, k.FSCONFIG_SET_FLAG, 'ro', null, 0)),
  mountFd: attempt(() => s.fsconfig(mount, k.FSCONFIG_SET_FLAG, 'ro', null, 0)),
  readFd: attempt(() => s.fsconfig(readFd, k.FSCONFIG_SET_FLAG, 'ro', null, 0)),
  fsmountPathFd: attempt(() => s.fsmount(pathFd, 0, 0n)),
  fsmountReadFd: attempt(() => s.fsmount(readFd, 0, 0n)),
}));
`;
    const r = runInMountNamespace(script);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      negative: 'fsconfig "FSCONFIG_CMD_CREATE": EINVAL',
      closedValueOfFlag: 'fsconfig "x=v": EINVAL',
      closedUnknownCommand: 'fsconfig "fsconfig command 99": EOPNOTSUPP',
      closed: 'fsconfig "FSCONFIG_CMD_CREATE": EBADF',
      pathFd: 'fsconfig "ro": EBADF',
      mountFd: 'fsconfig "ro": EBADF',
      readFd: 'fsconfig "ro": EINVAL',
      fsmountPathFd: 'fsmount: EBADF',
      fsmountReadFd: 'fsmount: EINVAL',
    });
  });
});

runAsRoot('tmpcopyup: a run killed (SIGKILL) while it copies, or whose copy fails', () => {
  let t: ReturnType<typeof tempDir>;
  let own: { dir: string; cleanup: () => void };
  beforeEach(() => {
    t = tempDir('mountkit-copyup-killed-');
    // The /tmp of the run: the test's own directory, bound over /tmp in the run's
    // namespace, outside /tmp itself (which it covers) and kept after the run.
    const dir = mkdtempSync('/var/tmp/mountkit-copyup-tmp-');
    own = { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    const rootfs = path.join(own.dir, 'rootfs');
    mkdirSync(path.join(rootfs, 'data'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(path.join(rootfs, 'data', `f${i}`), `file ${i}\n`);
    mkdirSync(path.join(own.dir, 'tmp'));
  });
  afterEach(() => {
    own.cleanup();
    t.cleanup();
  });

  const run = (onTarget: boolean, over: { data?: string; killAtCopy?: number } = {}) =>
    runCopyUp(path.join(own.dir, 'rootfs'), [makeMount({ index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/data', data: over.data ?? 'size=1m', extensions: { tmpcopyup: true } })], {
      onTarget,
      killAtCopy: 'killAtCopy' in over ? over.killAtCopy : 5,
      reportDir: own.dir,
      setup: `new LinuxSyscalls().mount(${JSON.stringify(path.join(own.dir, 'tmp'))}, '/tmp', null, ${MS_BIND}n, null);`,
    });

  test('the detached tmpfs leaves nothing in /tmp: it was in no directory, and went with the last descriptor of it', () => {
    const r = run(false);
    expect(r.signal).toBe('SIGKILL');
    expect(r.ops).toEqual(['fsmount', 'copy', 'copy', 'copy', 'copy', 'copy']);
    expect(readdirSync(path.join(own.dir, 'tmp'))).toEqual([]);
  });

  test('on the target, a kill leaves nothing in /tmp either: nothing was made there, and the tmpfs went with the mount namespace', () => {
    const r = run(true);
    expect(r.signal).toBe('SIGKILL');
    expect(r.ops).toEqual(['mount', 'copy', 'copy', 'copy', 'copy', 'copy']);
    expect(readdirSync(path.join(own.dir, 'tmp'))).toEqual([]);
  });

  test.each([false, true])('a copy that fails (ENOSPC: a file past the size of the tmpfs; on the target: %s) leaves nothing in /tmp and nothing mounted at the target, in one line naming the copy', (onTarget) => {
    writeFileSync(path.join(own.dir, 'rootfs', 'data', 'big'), Buffer.alloc(64 * 1024, 1));
    const r = run(onTarget, { data: 'size=16k', killAtCopy: undefined });
    const copy = onTarget ? '"/data/big"' : '"fsmount:\\[tmpfs\\]/big"';
    expect(r.error).toMatch(new RegExp(`^mounts: plugin tmpfs mounts\\[0\\] "/data": tmpcopyup: copying "/data" into the tmpfs failed: (copy_file_range|write) ".*/rootfs/data/big" -> ${copy}: ENOSPC$`));
    expect(r.ops.filter((o) => o !== 'copy')).toEqual(onTarget ? ['mount'] : ['fsmount']);
    expect(mountsUnder(r.mountinfo, [path.join(own.dir, 'rootfs')])).toEqual([]);
    expect(readdirSync(path.join(own.dir, 'tmp'))).toEqual([]);
    expect(r.tree['data/big']).toMatch(/^file /);
  });
});
