import { spawnSync } from 'child_process';
import { linkSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'fs';
import { hostname } from 'os';
import * as path from 'path';
import type { RootfsConfig } from '../../../src/core/config/model';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_RDONLY } from '../../../src/core/constants';
import { parseMountInfo } from '../../../src/core/mountinfo';
import { makeConfig, makeMount } from '../../helpers/config';
import { encode, mountsAt, realRun, runAsRoot, tempDir } from '../../helpers/real-run';
import { hostMountsSelinuxfs } from '../../helpers/host-selinux';

const plugin = (name: string) => path.resolve(__dirname, '../../../src/plugins', name);
/** Everything a jailed run needs around finalize: proc for /proc, default for the /dev tmpfs, the nodes, the jail. */
const JAILED = ['prepare-root', 'proc', 'default', 'devices', 'jail', 'finalize'].map(plugin);
const REPO_ROOT = path.resolve(__dirname, '../../..');
const TS_REGISTER = path.resolve(__dirname, '../../helpers/ts-register.js');

const procMount = makeMount({ index: 0, type: 'proc', source: 'proc', destination: '/proc', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC });
const devMount = (flags: bigint) => makeMount({ index: 1, type: 'tmpfs', source: 'tmpfs', destination: '/dev', flags: MS_NOSUID | flags, data: 'mode=755' });

const optionsOf = (mountinfo: string, mountpoint: string) => mountsAt(mountinfo, mountpoint).at(-1)?.options.split(',') ?? [];

/**
 * Runs the jailed pipeline in a new mount AND uts namespace (realRun makes only a mount
 * namespace, and sysctl writes under /proc/sys/kernel/{hostname,domainname} are the only
 * ones a uts namespace keeps from the host), then reports what the container sees.
 */
function runInUtsNamespace(config: RootfsConfig): Record<string, unknown> {
  const script = `
const fs = require('fs');
const os = require('os');
require('reflect-metadata');
const { createKernel } = require('./src/core/kernel');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const req = JSON.parse(process.env.MOUNTKIT_REQ, (k, v) => (v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v));
const out = {};
process.umask(0o077);
try {
  const kernel = createKernel({ syscalls: new LinuxSyscalls(), plugins: { plugins: req.plugins.map((module) => ({ module })) } });
  kernel.orchestrator.run(req.config, { checkClaims: false });
} catch (e) {
  out.error = e.message;
}
out.umask = process.umask();
out.hostname = os.hostname();
out.domainname = fs.readFileSync('/proc/sys/kernel/domainname', 'utf8').trim();
try { fs.writeFileSync('/proc/sys/kernel/hostname', 'again'); out.rewrite = 'ok'; } catch (e) { out.rewrite = e.code; }
out.mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
process.stdout.write(JSON.stringify(out));
`;
  const r = spawnSync(
    'unshare',
    ['-m', '-u', '--propagation', 'private', process.execPath, '-r', TS_REGISTER, '-e', script],
    { cwd: REPO_ROOT, env: { ...process.env, MOUNTKIT_REQ: encode({ config, plugins: JAILED }) }, encoding: 'utf8', timeout: 60_000 },
  );
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

runAsRoot('finalize, real mounts after a jail', () => {
  let t: ReturnType<typeof tempDir>;
  let rootfs: string;
  beforeEach(() => {
    t = tempDir();
    rootfs = path.join(t.dir, 'rootfs');
    for (const dir of ['proc', 'dev', 'ro/sub', 'rw', 'masked-dir', 'masked-dir2']) mkdirSync(path.join(rootfs, dir), { recursive: true });
    writeFileSync(path.join(rootfs, 'masked-file'), 'secret');
    writeFileSync(path.join(rootfs, 'masked-dir/inside'), 'secret');
    writeFileSync(path.join(rootfs, 'ro/file'), 'kept');
  });
  afterEach(() => t.cleanup());

  test('read-only /dev, masked files and directories, read-only paths; the rest stays writable', () => {
    const config = makeConfig({
      rootfs,
      mounts: [procMount, devMount(MS_RDONLY)],
      maskedPaths: ['/masked-file', '/masked-dir', '/missing', '/masked-dir2', '/proc/timer_list', '/proc/acpi'],
      readonlyPaths: ['/ro', '/missing-too'],
    });
    const r = realRun({
      config,
      plugins: JAILED,
      read: ['/masked-file', '/proc/timer_list', '/ro/file'],
      list: ['/masked-dir', '/masked-dir2', '/proc/acpi'],
      stat: ['/dev/null'],
      write: ['/dev/new', '/masked-dir/new', '/masked-dir2/new', '/ro/new', '/ro/sub/new', '/rw/new', '/new'],
    });
    expect(r.error).toBeUndefined();
    expect(r.stat['/dev/null']).toMatchObject({ kind: 'char', rdev: '1:3' });
    expect(optionsOf(r.mountinfo, '/dev')).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    expect(readFileSync('/proc/timer_list', 'utf8')).not.toBe('');
    expect(r.read).toEqual({ '/masked-file': '', '/proc/timer_list': '', '/ro/file': 'kept' });
    expect(r.list).toEqual({ '/masked-dir': [], '/masked-dir2': [], '/proc/acpi': [] });
    // Both directory masks are the same read-only tmpfs superblock.
    const table = parseMountInfo(r.mountinfo);
    const [dir, dir2] = ['/masked-dir', '/masked-dir2'].map((p) => table.filter((m) => m.mountpoint === p));
    expect(dir).toEqual([expect.objectContaining({ fstype: 'tmpfs', source: 'tmpfs', options: expect.stringMatching(/^ro,/) })]);
    expect(dir2).toEqual([expect.objectContaining({ fstype: 'tmpfs', majorMinor: dir[0].majorMinor, options: expect.stringMatching(/^ro,/) })]);
    expect(mountsAt(r.mountinfo, '/masked-file')).toHaveLength(1);
    expect(mountsAt(r.mountinfo, '/missing')).toEqual([]);
    expect(optionsOf(r.mountinfo, '/ro')).toContain('ro');
    expect(mountsAt(r.mountinfo, '/missing-too')).toEqual([]);
    expect(optionsOf(r.mountinfo, '/')).toContain('rw');
    expect(r.write).toEqual({
      '/dev/new': 'EROFS',
      '/masked-dir/new': 'EROFS',
      '/masked-dir2/new': 'EROFS',
      '/ro/new': 'EROFS',
      '/ro/sub/new': 'EROFS',
      '/rw/new': 'ok',
      '/new': 'ok',
    });
  });

  (hostMountsSelinuxfs() ? test.skip : test)('with linux.mountLabel on this host without SELinux, masked directories are the same read-only tmpfs, with no context=, an image\'s own /sys/fs/selinux/enforce notwithstanding', () => {
    // After the jail /sys is the image's: its file must not make the masks' tmpfs take context=, which tmpfs refuses (EINVAL) without SELinux.
    mkdirSync(path.join(rootfs, 'sys/fs/selinux'), { recursive: true });
    writeFileSync(path.join(rootfs, 'sys/fs/selinux/enforce'), '1');
    const config = makeConfig({ rootfs, mounts: [procMount, devMount(0n)], maskedPaths: ['/masked-dir', '/masked-dir2', '/masked-file'], mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' });
    const r = realRun({ config, plugins: JAILED, list: ['/masked-dir', '/masked-dir2'], read: ['/masked-file'], write: ['/masked-dir/new'] });
    expect(r.error).toBeUndefined();
    expect([r.list, r.read, r.write]).toEqual([{ '/masked-dir': [], '/masked-dir2': [] }, { '/masked-file': '' }, { '/masked-dir/new': 'EROFS' }]);
    const lines = r.mountinfo.split('\n').filter((l) => / \/(masked-dir2?|dev) /.test(l));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toContain('context=');
  });

  test('a hard link of a masked file and a directory bound at a second place are masked too: a mount covers one place, not an inode', () => {
    linkSync(path.join(rootfs, 'masked-file'), path.join(rootfs, 'hard-link'));
    mkdirSync(path.join(t.dir, 'volume'));
    writeFileSync(path.join(t.dir, 'volume/inside'), 'secret');
    const volume = (index: number, destination: string) => makeMount({ index, type: 'bind', source: path.join(t.dir, 'volume'), destination, flags: MS_BIND });
    const config = makeConfig({
      rootfs,
      mounts: [procMount, devMount(0n), volume(2, '/rw'), volume(3, '/masked-dir2')],
      maskedPaths: ['/masked-file', '/hard-link', '/rw', '/masked-dir2'],
    });
    const r = realRun({ config, plugins: [...JAILED, plugin('bind')], read: ['/masked-file', '/hard-link'], list: ['/rw', '/masked-dir2'] });
    expect(r.error).toBeUndefined();
    expect(r.read).toEqual({ '/masked-file': '', '/hard-link': '' });
    expect(r.list).toEqual({ '/rw': [], '/masked-dir2': [] });
  });

  test('read-only tmpfs mounts, nested mounts and tmpcopyup in them, and every read-only /dev, are made read-only after the jail, their superblocks left read-write', () => {
    mkdirSync(path.join(rootfs, 'copy'));
    writeFileSync(path.join(rootfs, 'copy/file'), 'copied');
    const mounts = [
      procMount,
      devMount(0n),
      makeMount({ index: 2, type: 'tmpfs', source: 'tmpfs', destination: '/t', flags: MS_RDONLY | MS_NOSUID }),
      makeMount({ index: 3, type: 'tmpfs', source: 'tmpfs', destination: '/t/inner' }),
      makeMount({ index: 4, type: 'tmpfs', source: 'tmpfs', destination: '/copy', flags: MS_RDONLY, extensions: { tmpcopyup: true } }),
      makeMount({ index: 5, type: 'tmpfs', source: 'tmpfs', destination: '/dev', flags: MS_RDONLY | MS_NOSUID, data: 'mode=755' }),
    ];
    const r = realRun({
      config: makeConfig({ rootfs, mounts }),
      plugins: [...JAILED.slice(0, 2), plugin('tmpfs'), ...JAILED.slice(2)],
      read: ['/copy/file'],
      stat: ['/dev/null'],
      write: ['/t/x', '/t/inner/x', '/copy/x', '/dev/x'],
    });
    expect(r.error).toBeUndefined();
    const top = (mountpoint: string) => mountsAt(r.mountinfo, mountpoint).at(-1)!;
    for (const mountpoint of ['/t', '/copy', '/dev']) {
      expect(top(mountpoint).options.split(',')).toContain('ro');
      expect(top(mountpoint).superOptions.split(',')).toContain('rw');
    }
    expect(top('/t').options.split(',')).toContain('nosuid');
    expect(top('/t/inner').options.split(',')).toContain('rw');
    expect(r.read).toEqual({ '/copy/file': 'copied' });
    expect(r.stat['/dev/null']).toMatchObject({ kind: 'char', rdev: '1:3' });
    expect(r.write).toEqual({ '/t/x': 'EROFS', '/t/inner/x': 'ok', '/copy/x': 'EROFS', '/dev/x': 'EROFS' });
  });

  test("without a procfs in the container, an image's /proc/thread-self/fd links cannot send the read-only remount of a tmpfs elsewhere", () => {
    const fds = path.join(rootfs, 'proc/thread-self/fd');
    mkdirSync(fds, { recursive: true });
    for (let fd = 0; fd < 64; fd++) symlinkSync('/dev', path.join(fds, String(fd)));
    // The test reads the mount table through /proc/self: a procfs mounted elsewhere, which the image's /proc leads to.
    symlinkSync('/elsewhere/self', path.join(rootfs, 'proc/self'));
    const elsewhere = makeMount({ index: 0, type: 'proc', source: 'proc', destination: '/elsewhere', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC });
    const mounts = [elsewhere, devMount(0n), makeMount({ index: 2, type: 'tmpfs', source: 'tmpfs', destination: '/mnt', flags: MS_RDONLY | MS_NOSUID })];
    const r = realRun({ config: makeConfig({ rootfs, mounts, maskedPaths: [], readonlyPaths: [] }), plugins: JAILED, write: ['/mnt/x', '/dev/x'] });
    expect(r.error).toBeUndefined();
    expect(optionsOf(r.mountinfo, '/mnt')).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    expect(optionsOf(r.mountinfo, '/dev')).toContain('rw');
    expect(r.write).toEqual({ '/mnt/x': 'EROFS', '/dev/x': 'ok' });
  });

  // No proc mount at /proc: the test reads the mount table through /proc/self, which the
  // image leads to a procfs the config mounts at /elsewhere.
  const elsewhere = makeMount({ index: 0, type: 'proc', source: 'proc', destination: '/elsewhere', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC });

  test('without a procfs at /proc, masked files and directories and read-only paths are mounted by descriptor through the new mount API, as with one', () => {
    symlinkSync('/elsewhere/self', path.join(rootfs, 'proc/self'));
    const mounts = [
      elsewhere,
      devMount(0n),
      makeMount({ index: 2, type: 'tmpfs', source: 'tmpfs', destination: '/rw', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW }),
      makeMount({ index: 3, type: 'tmpfs', source: 'tmpfs', destination: '/rw/inner' }),
    ];
    const r = realRun({
      config: makeConfig({ rootfs, mounts, maskedPaths: ['/masked-file', '/masked-dir', '/missing', '/masked-dir2'], readonlyPaths: ['/ro', '/rw', '/missing-too'] }),
      plugins: [...JAILED.slice(0, 2), plugin('tmpfs'), ...JAILED.slice(2)],
      read: ['/masked-file', '/ro/file'],
      list: ['/masked-dir', '/masked-dir2'],
      write: ['/masked-dir/new', '/masked-dir2/new', '/ro/new', '/ro/sub/new', '/rw/new', '/rw/inner/new', '/new'],
    });
    expect(r.error).toBeUndefined();
    expect(r.read).toEqual({ '/masked-file': '', '/ro/file': 'kept' });
    expect(r.list).toEqual({ '/masked-dir': [], '/masked-dir2': [] });
    const table = parseMountInfo(r.mountinfo);
    const [dir, dir2] = ['/masked-dir', '/masked-dir2'].map((p) => table.filter((m) => m.mountpoint === p));
    // One tmpfs for both, read-only in its superblock and its mounts, as mount(2) with MS_RDONLY makes it.
    expect(dir).toEqual([expect.objectContaining({ fstype: 'tmpfs', source: 'tmpfs', options: expect.stringMatching(/^ro,/), superOptions: expect.stringMatching(/^ro(,|$)/) })]);
    expect(dir2).toEqual([expect.objectContaining({ fstype: 'tmpfs', majorMinor: dir[0].majorMinor, options: expect.stringMatching(/^ro,/) })]);
    // The file's mask is the container's /dev/null: a mount of /dev's tmpfs at its null.
    expect(table.filter((m) => m.mountpoint === '/masked-file')).toEqual([expect.objectContaining({ root: '/null', majorMinor: table.filter((m) => m.mountpoint === '/dev').at(-1)!.majorMinor })]);
    expect(mountsAt(r.mountinfo, '/missing')).toEqual([]);
    expect(mountsAt(r.mountinfo, '/missing-too')).toEqual([]);
    expect(optionsOf(r.mountinfo, '/ro')).toContain('ro');
    // The copy keeps the flags of the mount it copies; the mount below it its own.
    expect(optionsOf(r.mountinfo, '/rw')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec', 'nosymfollow']));
    expect(optionsOf(r.mountinfo, '/rw/inner')).toContain('rw');
    expect(r.write).toEqual({
      '/masked-dir/new': 'EROFS',
      '/masked-dir2/new': 'EROFS',
      '/ro/new': 'EROFS',
      '/ro/sub/new': 'EROFS',
      '/rw/new': 'EROFS',
      '/rw/inner/new': 'ok',
      '/new': 'ok',
    });
  });

  test("without a procfs at /proc, an image's /proc/thread-self leading into a procfs mounted elsewhere (another process's thread) is not used: the path is masked by its own descriptor", () => {
    // /elsewhere numbers processes as the run's pid namespace does (no new one here): 1 is another process, whose descriptors a mount through that link would land on.
    symlinkSync('/elsewhere/1/task/1', path.join(rootfs, 'proc/thread-self'));
    symlinkSync('/elsewhere/self', path.join(rootfs, 'proc/self'));
    const r = realRun({ config: makeConfig({ rootfs, mounts: [elsewhere, devMount(0n)], maskedPaths: ['/masked-file'], readonlyPaths: [] }), plugins: JAILED, read: ['/masked-file'] });
    expect(r.error).toBeUndefined();
    expect(r.read).toEqual({ '/masked-file': '' });
    // The mounts the run made after /dev: the mask alone.
    const table = parseMountInfo(r.mountinfo);
    expect(table.slice(table.findIndex((m) => m.mountpoint === '/dev') + 1).map((m) => m.mountpoint)).toEqual(['/masked-file']);
  });

  test("a read-only tmpfs keeps the flags a plugin's handler added to its mount (noexec), with the config's", () => {
    const mounts = [procMount, devMount(0n), makeMount({ index: 2, type: 'tmpfs', source: 'tmpfs', destination: '/t', flags: MS_RDONLY | MS_NOSUID })];
    const noexecTmpfs = path.resolve(__dirname, '../../fixtures/plugins/noexec-tmpfs.js');
    const r = realRun({ config: makeConfig({ rootfs, mounts }), plugins: [...JAILED.slice(0, 2), noexecTmpfs, ...JAILED.slice(2)] });
    expect(r.error).toBeUndefined();
    expect(optionsOf(r.mountinfo, '/t')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'noexec']));
  });

  test("a read-only path keeps its mount's nosuid, nodev, noexec and nosymfollow: a symlink there is still not followed", () => {
    const tmpfs = makeMount({ index: 2, type: 'tmpfs', source: 'tmpfs', destination: '/rw', flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW });
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [procMount, devMount(0n), tmpfs], readonlyPaths: ['/rw', '/dev'] }),
      plugins: JAILED,
      beforeJail: `require('fs').symlinkSync('/ro/file', ${JSON.stringify(path.join(rootfs, 'rw/link'))});`,
      read: ['/rw/link'],
    });
    expect(r.error).toBeUndefined();
    expect(optionsOf(r.mountinfo, '/rw')).toEqual(expect.arrayContaining(['ro', 'nosuid', 'nodev', 'noexec', 'nosymfollow']));
    expect(r.read).toEqual({ '/rw/link': 'ELOOP' });
    expect(optionsOf(r.mountinfo, '/dev')).toEqual(expect.arrayContaining(['ro', 'nosuid']));
    expect(optionsOf(r.mountinfo, '/dev')).not.toContain('nodev');
  });

  test('a read-only rootfs: / is ro, writing /x is EROFS, a read-write /dev stays writable', () => {
    const r = realRun({
      config: makeConfig({ rootfs, readonlyRootfs: true, mounts: [procMount, devMount(0n)] }),
      plugins: JAILED,
      write: ['/x', '/rw/x', '/dev/x'],
    });
    expect(r.error).toBeUndefined();
    expect(optionsOf(r.mountinfo, '/')).toContain('ro');
    expect(optionsOf(r.mountinfo, '/dev')).toContain('rw');
    expect(r.write).toEqual({ '/x': 'EROFS', '/rw/x': 'EROFS', '/dev/x': 'ok' });
  });

  test('a /dev/null that is a regular file is refused and nothing is masked', () => {
    writeFileSync(path.join(rootfs, 'dev/null'), '');
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [procMount], maskedPaths: ['/masked-dir', '/masked-file'] }),
      plugins: JAILED.filter((p) => !p.endsWith('devices')),
      read: ['/masked-file'],
    });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: 'finalize: plugin masked-paths: /dev/null is a file, not the null device (char 1:3); refusing to mask paths with it',
    });
    expect(r.read['/masked-file']).toBe('secret');
    expect(mountsAt(r.mountinfo, '/masked-file')).toEqual([]);
  });

  test('a file open for writing on /dev keeps it busy: five attempts, then an error', () => {
    const started = Date.now();
    const r = realRun({
      config: makeConfig({ rootfs, mounts: [procMount, devMount(MS_RDONLY)] }),
      plugins: JAILED,
      beforeJail: `globalThis.heldOpen = require('fs').openSync(${JSON.stringify(path.join(rootfs, 'dev/held'))}, 'w');`,
    });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: 'finalize: plugin readonly-mounts: mount "/dev" read-only: EBUSY after 5 attempts',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(optionsOf(r.mountinfo, '/dev')).toContain('rw');
  });

  test('sysctls are written in the container before /proc/sys turns read-only; umask 0022', () => {
    const hostName = hostname();
    const hostDomain = readFileSync('/proc/sys/kernel/domainname', 'utf8');
    const out = runInUtsNamespace(
      makeConfig({
        rootfs,
        mounts: [procMount],
        readonlyPaths: ['/proc/sys'],
        sysctls: { 'kernel.hostname': 'mk-finalize', 'kernel/domainname': 'mk-domain' },
      }),
    );
    expect(out).toMatchObject({ hostname: 'mk-finalize', domainname: 'mk-domain', rewrite: 'EROFS', umask: 0o022 });
    expect(out.error).toBeUndefined();
    expect(optionsOf(out.mountinfo as string, '/proc/sys')).toContain('ro');
    expect(hostname()).toBe(hostName);
    expect(readFileSync('/proc/sys/kernel/domainname', 'utf8')).toBe(hostDomain);
  });
});
