import 'reflect-metadata';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MNT_DETACH,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_BIND,
  MS_MANDLOCK,
  MS_MOVE,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_SHARED,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  O_CLOEXEC,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_PATH,
  S_IFCHR,
  S_IFIFO,
  makedev,
} from '../../../src/core/constants';
import { IN_ROOT_NO_SYMLINKS, parseFdPath } from '../../../src/core/in-root';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { Logger } from '../../../src/core/plugin';
import type { FileStat } from '../../../src/core/syscalls/types';
import { FakeSyscalls, countingBytes, errorName } from '../../../src/core/syscalls/fake';
import { TmpfsMountHandler } from '../../../src/plugins/tmpfs';
import { hexOf, stagingPath } from '../../../src/plugins/tmpfs/copyup';
import { GRND_NONBLOCK, RANDOM_UUID_FILE } from '../../../src/core/constants';
import { hasModeOption, withInheritedMode } from '../../../src/plugins/tmpfs/options';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, changes as changesOf, fdOf, reopenedMountCalls, viaFd } from '../../helpers/fd';
import { procDestinationProblem } from '../../../src/core/paths';

/** The 16 bytes the fake's getrandom gives here (each call of the real one gives others). */
const RANDOM = Uint8Array.from(Buffer.from('0f8e2a6c3b1d4e5f9a7bc2d4e6f80123', 'hex'));
const STAGING = '/tmp/.mountkit-tmpcopyup-0-0f8e2a6c3b1d4e5f9a7bc2d4e6f80123';

/** A logger that keeps the warnings, for the cleanup paths that only warn, and the debug lines with their fields. */
function recordingLogger(): Logger & { warnings: string[]; debugs: [string, Record<string, unknown> | undefined][] } {
  const warnings: string[] = [];
  const debugs: [string, Record<string, unknown> | undefined][] = [];
  const log: Logger & { warnings: string[]; debugs: typeof debugs } = {
    warnings,
    debugs,
    error: () => undefined,
    warn: (message) => warnings.push(message),
    info: () => undefined,
    debug: (message, meta) => debugs.push([message, meta]),
    child: () => log,
  };
  return log;
}

function setupWith(over: { mountLabel?: string; log?: Logger; sys?: FakeSyscalls } = {}) {
  const { log = silentLogger, sys = new FakeSyscalls(), ...config } = over;
  // No kernel.random.uuid: getrandom(2) alone names the staging directory.
  sys.addDir('/r').addDir('/tmp', 0o1777);
  sys.randomBytes = (length) => RANDOM.slice(0, length);
  const run = (...mounts: Parameters<typeof makeMount>[0][]) =>
    new Orchestrator(sys, log, [new TmpfsMountHandler(sys)], []).run(
      makeConfig({ rootfs: '/r', ...config, mounts: mounts.map((m, index) => makeMount({ index, ...m })) }),
      { checkClaims: false },
    );
  return { sys, run };
}

const setup = setupWith;

/** What `fn` threw (undefined when it returned). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** The failure of mounts[0]'s tmpcopyup at "/x": `inner`, from `op` answering `errno`. */
function copyFailed(inner: string, op: Parameters<typeof errorName>[0], errno: string) {
  return {
    name: 'PluginError',
    message: `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: copying "/x" failed: ${inner}`,
    cause: { name: 'StepError', cause: { name: 'SyscallError', syscall: errorName(op), code: errno } },
  };
}

/** The lower directory tmpcopyup copies: a file owned by 1234, a symlink, a subdirectory, a device. */
function addLowerTree(sys: FakeSyscalls): void {
  sys.addDir('/r/x', 0o750);
  sys.addFile('/r/x/a', 'alpha', 0o640);
  sys.node('/r/x/a')!.uid = 1234;
  sys.node('/r/x/a')!.gid = 1234;
  sys.addSymlink('/r/x/l', 'a');
  sys.addDevice('/r/x/null', 'char', 1, 3, 0o666);
  sys.addDir('/r/x/sub', 0o711);
  sys.addFile('/r/x/sub/b', 'beta', 0o4755);
}

/**
 * The tree of the descriptor tests: a file owned by 1234, a symlink to a host file, a fifo
 * owned by 5:6, a subdirectory owned by 7 with a set-uid file; and the host's secrets
 * outside the rootfs, which nothing may read.
 */
function addSmallTree(sys: FakeSyscalls): void {
  sys.addFile('/etc/shadow', 'SECRET', 0o600).addFile('/hostdir/key', 'SECRET', 0o600);
  sys.addDir('/r/x', 0o750);
  sys.addFile('/r/x/a', 'alpha', 0o640);
  Object.assign(sys.node('/r/x/a')!, { uid: 1234, gid: 1234 });
  sys.addSymlink('/r/x/l', '/etc/shadow');
  sys.addFile('/r/x/p', '', 0o620);
  Object.assign(sys.node('/r/x/p')!, { kind: 'fifo', uid: 5, gid: 6 });
  sys.addDir('/r/x/sub', 0o711);
  Object.assign(sys.node('/r/x/sub')!, { uid: 7, gid: 7 });
  sys.addFile('/r/x/sub/b', 'beta', 0o4755);
}

/** Replaces the entry at `path` (a directory too) with a symlink to `target`, as another process could. */
function swapForSymlink(sys: FakeSyscalls, path: string, target: string): void {
  sys.node(path.slice(0, path.lastIndexOf('/')))!.children!.delete(path.slice(path.lastIndexOf('/') + 1));
  sys.addSymlink(path, target);
}

/**
 * A fake where another process acts at a chosen moment: `race(sys)` runs once, right after
 * `path` is listed (readdir), or examined (fstat of a descriptor of it, or lstat of a path
 * to it, which the copy once used).
 */
class RacingFake extends FakeSyscalls {
  constructor(
    private readonly when: { after: 'readdir' | 'examined'; path: string; race: (sys: FakeSyscalls) => void },
    private raced = false,
  ) {
    super();
  }

  override readdir(path: string): string[] {
    const names = super.readdir(path);
    if (this.when.after === 'readdir' && this.shown(path) === this.when.path) this.fire();
    return names;
  }

  override fstat(fd: number): FileStat {
    const st = super.fstat(fd);
    if (this.when.after === 'examined' && this.pathOf(fd) === this.when.path) this.fire();
    return st;
  }

  override lstat(path: string): FileStat {
    const st = super.lstat(path);
    if (this.when.after === 'examined' && this.shown(path) === this.when.path) this.fire();
    return st;
  }

  /** `path` with a descriptor's magic link replaced by the path the descriptor was opened at. */
  private shown(path: string): string {
    const link = parseFdPath(path);
    return link ? [this.pathOf(link.fd), link.rest].filter(Boolean).join('/') : path;
  }

  private fire(): void {
    if (this.raced) return;
    this.raced = true;
    this.when.race(this);
  }
}

/** Every file a recorded call reached through a descriptor, or named by path: none may be a host secret. */
function filesReached(sys: FakeSyscalls): string[] {
  const reached: string[] = [];
  for (const call of sys.calls) {
    for (const [key, value] of Object.entries(call)) {
      if ((key === 'fd' || key === 'dirfd') && typeof value === 'number') reached.push(sys.pathOf(value) ?? `fd ${value}`);
      if (typeof value !== 'string' || key === 'op' || (call.op === 'symlink' && key === 'target')) continue;
      const link = parseFdPath(value);
      reached.push(link ? [sys.pathOf(link.fd), link.rest].filter(Boolean).join('/') : value);
    }
  }
  return reached;
}

const tmpfsMount = (target: string, flags = 0n, data: string | null = null) =>
  ({ op: 'mount', source: 'tmpfs', target, fstype: 'tmpfs', flags, data }) as const;

describe('hasModeOption', () => {
  test.each([
    ['', false],
    ['size=1m', false],
    ['mode=755', true],
    ['size=1m,mode=1777', true],
    ['uid=0,mode=0700,gid=0', true],
    ['mode', false],
    ['modex=1', false],
    ['nomode=1', false],
    ['MODE=755', false],
    [' mode=755', false],
    ['context="system_u:object_r:x:s0:c1,c2",size=1m', false],
  ])('%j -> %s', (data, expected) => {
    expect(hasModeOption(data)).toBe(expected);
  });
});

describe('withInheritedMode', () => {
  test.each([
    [0o755, '', 'mode=0755'],
    [0o1777, 'size=1m', 'mode=1777,size=1m'],
    [0o2750, 'size=1m,mode=700', 'size=1m,mode=700'],
    [0o4711, 'uid=0', 'mode=4711,uid=0'],
    [0o7, '', 'mode=0007'],
    [0o100755, '', 'mode=0755'],
  ])('%o with %j -> %j', (perm, data, expected) => {
    expect(withInheritedMode(perm, data)).toBe(expected);
  });
});

describe('stagingPath', () => {
  test.each([
    [0, '0f8e2a6c3b1d4e5f9a7bc2d4e6f80123', '/tmp/.mountkit-tmpcopyup-0-0f8e2a6c3b1d4e5f9a7bc2d4e6f80123'],
    [7, '00000000000040008000000000000000', '/tmp/.mountkit-tmpcopyup-7-00000000000040008000000000000000'],
  ])('mounts[%d] with %s -> %s', (index, random, expected) => {
    expect(stagingPath(index, random)).toBe(expected);
  });
});

describe('hexOf: the random part of a staging name, from getrandom', () => {
  test.each([
    [[], ''],
    [[0], '00'],
    [[0x0f, 0xa0, 0xff, 1], '0fa0ff01'],
    [[...RANDOM], '0f8e2a6c3b1d4e5f9a7bc2d4e6f80123'],
  ])('%j -> %j', (bytes, hex) => expect(hexOf(Uint8Array.from(bytes))).toBe(hex));
});

describe('tmpfs mount handler', () => {
  test('a missing target is created with its parents inside the root, then tmpfs is mounted through its descriptor', () => {
    const { sys, run } = setup();
    run({ type: 'tmpfs', destination: '/a/b', flags: MS_NOSUID | MS_NODEV, data: 'size=65536k' });
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'a', mode: 0o755 },
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/a'), path: 'b', mode: 0o755 },
      tmpfsMount(viaFd(sys, '/r/a/b'), MS_NOSUID | MS_NODEV, 'size=65536k'),
    ]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['1777', 0o1777],
    ['0700', 0o700],
    ['2750', 0o2750],
  ])('an existing directory gives its mode %s (fstat of its descriptor) as the first mode= of the data', (octal, perm) => {
    const { sys, run } = setup();
    sys.addDir('/r/x', perm);
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m' });
    const PATH = O_PATH | O_CLOEXEC;
    // The rootfs is opened once for the run. The lookup meets no symlink, so where it led
    // (for the /proc check) is /x itself, with no readlink; nothing is looked up after the mount.
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'x', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'fstat', fd: 101 },
      tmpfsMount('/proc/thread-self/fd/101', 0n, `mode=${octal},size=1m`),
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
  });

  test("a mode= in the data wins over the directory's: the data as it is", () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o700);
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m,mode=755' });
    expect(changes(sys)).toEqual([tmpfsMount(viaFd(sys, '/r/x'), 0n, 'size=1m,mode=755')]);
  });

  test('propagation flags follow the mount one call each, then recursive attributes', () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o750);
    run({
      type: 'tmpfs',
      destination: '/x',
      propagationFlags: [MS_PRIVATE, MS_SHARED | MS_REC],
      recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n },
    });
    expect(changes(sys)).toEqual([
      tmpfsMount('/proc/thread-self/fd/101', 0n, 'mode=0750'),
      { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_SHARED | MS_REC, data: null },
      { op: 'mountSetattr', dirfd: 103, path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
    ]);
    // Every call after the mount: the new tmpfs opened again by the target's name in the
    // target's own parent (102), no symlink followed, and checked to be the root of another
    // mount than the target's at the target's place, before anything acts on it (103).
    expect(sys.calls.slice(sys.calls.findIndex((c) => c.op === 'mount') + 1)).toEqual([
      ...reopenedMountCalls('x', { root: 100, target: 101, parent: 102, reopened: 103 }),
      { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_SHARED | MS_REC, data: null },
      { op: 'mountSetattr', dirfd: 103, path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
      { op: 'close', fd: 103 },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
    expect([sys.pathOf(101), sys.pathOf(102), sys.pathOf(103)]).toEqual(['/r/x', '/r', '/r/x']);
  });

  test('propagation is refused, nothing acts, when the tmpfs is not what the target\'s place shows now', () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o750);
    const real = sys.fstatMount.bind(sys);
    // The file opened again reported on the target's own mount: something put at its place, no mount on it.
    jest.spyOn(sys, 'fstatMount').mockImplementation((fd) => ({ ...real(fd), mntId: real(101).mntId }));
    expect(() => run({ type: 'tmpfs', destination: '/x', propagationFlags: [MS_SHARED] })).toThrow(
      /mount destination "\/x" was replaced while it was mounted on: "\/x" is not the root of the new mount$/,
    );
    expect(sys.callsOf('mount')).toEqual([tmpfsMount('/proc/thread-self/fd/101', 0n, 'mode=0750')]);
    expect(sys.openFds()).toEqual([]);
  });

  test('read-only, over an existing directory or not, is mounted read-write: finalize makes it read-only', () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o750);
    run({ type: 'tmpfs', destination: '/x', flags: MS_RDONLY | MS_NOSUID, data: 'size=1m' });
    expect(changes(sys)).toEqual([tmpfsMount('/proc/thread-self/fd/101', MS_NOSUID, 'mode=0750,size=1m')]);
  });

  test('read-only over a new directory, or with its own mode=, is mounted read-write too', () => {
    const { sys, run } = setup();
    run({ type: 'tmpfs', destination: '/x', flags: MS_RDONLY });
    expect(changes(sys)).toEqual([{ op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'x', mode: 0o755 }, tmpfsMount(viaFd(sys, '/r/x'), 0n)]);
    const { sys: sys2, run: run2 } = setup();
    sys2.addDir('/r/y', 0o700);
    run2({ type: 'tmpfs', destination: '/y', flags: MS_RDONLY, data: 'mode=700' });
    expect(changes(sys2)).toEqual([tmpfsMount(viaFd(sys2, '/r/y'), 0n, 'mode=700')]);
  });

  test('a read-only /dev is never remounted read-only here: the device nodes come later', () => {
    const { sys, run } = setup();
    sys.addDir('/r/dev', 0o755);
    run({ type: 'tmpfs', destination: '/dev', flags: MS_RDONLY | MS_NOSUID });
    expect(changes(sys)).toEqual([tmpfsMount(viaFd(sys, '/r/dev'), MS_NOSUID, 'mode=0755')]);
  });

  test('with SELinux on and a mount label, the data carries context=', () => {
    const { sys, run } = setup({ mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' });
    sys.addFile('/sys/fs/selinux/enforce', '1');
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m' });
    expect(sys.callsOf('mount')).toEqual([
      tmpfsMount(viaFd(sys, '/r/x'), 0n, 'size=1m,context="system_u:object_r:container_file_t:s0:c1,c2"'),
    ]);
  });

  test('without SELinux the mount label is ignored', () => {
    const { sys, run } = setup({ mountLabel: 'system_u:object_r:container_file_t:s0' });
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m' });
    expect(sys.callsOf('mount')).toEqual([tmpfsMount(viaFd(sys, '/r/x'), 0n, 'size=1m')]);
  });

  test('a symlinked destination resolves inside the rootfs', () => {
    const { sys, run } = setup();
    sys.addDir('/r/etc');
    sys.addSymlink('/r/escape', '/../../etc');
    run({ type: 'tmpfs', destination: '/escape/x' });
    expect(sys.mounts.map((m) => m.target)).toEqual(['/r/etc/x']);
  });

  test.each(['/proc', '/proc/sys', '/sys/../proc/x'])('%s is refused before anything is made', (destination) => {
    const { sys, run } = setup();
    expect(() => run({ type: 'tmpfs', destination })).toThrow(
      `mounts: plugin tmpfs mounts[0] "${destination}": ${procDestinationProblem(destination.replace('/sys/..', ''))}`,
    );
    expect(changes(sys)).toEqual([]);
  });

  test.each([
    ['mkdirat', 'mkdirat "/r/x": EACCES'],
    ['mount', 'mount "tmpfs" -> "/r/x": EACCES'],
  ] as const)('a failing %s on a missing target is a PluginError naming mount, destination and syscall', (op, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES');
    expect(() => run({ type: 'tmpfs', destination: '/x' })).toThrow(`mounts: plugin tmpfs mounts[0] "/x": ${message}`);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['fstat', 'fstat: EIO'],
    ['mount', 'mount "tmpfs" -> "/r/x": EIO'],
  ] as const)('on an existing target a failing %s is a PluginError', (op, message) => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o700);
    sys.failOn(op, 'EIO');
    expect(() => run({ type: 'tmpfs', destination: '/x', flags: MS_RDONLY })).toThrow(`mounts: plugin tmpfs mounts[0] "/x": ${message}`);
    expect(sys.openFds()).toEqual([]);
  });

  describe('tmpcopyup on a detached tmpfs: fsopen(2), fsconfig(2), fsmount(2), move_mount(2)', () => {
    const copyUp = { type: 'tmpfs', destination: '/x', data: 'size=1m', extensions: { tmpcopyup: true } };
    /** The detached mount's descriptor, as the fake names it (the kernel's readlink answers "/"). */
    const NEW = 'fsmount:[tmpfs]';
    const CONTEXT = 'anon_inode:[fscontext]';
    const PATH = O_PATH | O_CLOEXEC;
    const BOTH_EMPTY = MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH;
    const opened = { op: 'fsopen', fstype: 'tmpfs', flags: FSOPEN_CLOEXEC };
    const setString = (fd: number, key: string, value: string) => ({ op: 'fsconfig', fd, cmd: FSCONFIG_SET_STRING, key, value, aux: 0 });
    const setFlag = (fd: number, key: string) => ({ op: 'fsconfig', fd, cmd: FSCONFIG_SET_FLAG, key, value: null, aux: 0 });
    const create = (fd: number) => ({ op: 'fsconfig', fd, cmd: FSCONFIG_CMD_CREATE, key: null, value: null, aux: 0 });
    /** The staging calls of the fallback, for mounts[0] at /x over a directory of `mode`. */
    const staged = (sys: FakeSyscalls, mode: string) => [
      { op: 'mkdir', path: STAGING, mode: 0o700 },
      { op: 'mount', source: STAGING, target: STAGING, fstype: null, flags: MS_BIND, data: null },
      { op: 'mount', source: null, target: STAGING, fstype: null, flags: MS_PRIVATE, data: null },
      tmpfsMount(STAGING, 0n, `mode=${mode},size=1m`),
      { op: 'mount', source: STAGING, target: viaFd(sys, '/r/x'), fstype: null, flags: MS_MOVE, data: null },
      { op: 'umount2', target: STAGING, flags: MNT_DETACH },
      { op: 'rmdir', path: STAGING },
    ];

    test('the exact calls: a context given the source and the data, its superblock made, mounted detached, its context closed; the content copied; the mount moved onto the target; no staging directory, no random name', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750);
      run(copyUp);
      expect(sys.calls).toEqual([
        { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
        { op: 'openat2', dirfd: 100, path: 'x', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
        { op: 'fstat', fd: 101 },
        opened,
        setString(102, 'source', 'tmpfs'),
        setString(102, 'mode', '0750'),
        setString(102, 'size', '1m'),
        create(102),
        { op: 'fsmount', fd: 102, flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_RELATIME },
        { op: 'close', fd: 102 },
        { op: 'readdir', path: '/proc/thread-self/fd/101' },
        { op: 'moveMount', fromDirfd: 103, fromPath: '', toDirfd: 101, toPath: '', flags: BOTH_EMPTY },
        { op: 'close', fd: 103 },
        { op: 'close', fd: 101 },
        { op: 'close', fd: 100 },
      ]);
      expect([sys.pathOf(102), sys.pathOf(103)]).toEqual([CONTEXT, NEW]);
      expect(sys.mounts).toEqual([{ source: 'tmpfs', target: '/r/x', fstype: 'tmpfs', flags: 0n, data: 'mode=0750,size=1m' }]);
      expect(sys.openFds()).toEqual([]);
    });

    test("the tree is copied into the detached mount through its descriptor's magic link, owners and modes kept; the target's own directory is read through its descriptor", () => {
      const { sys, run } = setup();
      addLowerTree(sys);
      run(copyUp);
      const lower = (name: string) => viaFd(sys, `/r/x/${name}`);
      const made = (rest: string) => viaFd(sys, NEW, rest);
      const context = fdOf(sys, CONTEXT);
      expect(changes(sys)).toEqual([
        opened,
        setString(context, 'source', 'tmpfs'),
        setString(context, 'mode', '0750'),
        setString(context, 'size', '1m'),
        create(context),
        { op: 'fsmount', fd: context, flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_RELATIME },
        { op: 'copyFile', source: lower('a'), dest: made('a') },
        { op: 'lchown', path: made('a'), uid: 1234, gid: 1234 },
        { op: 'chmod', path: made('a'), mode: 0o640 },
        { op: 'symlink', target: 'a', linkPath: made('l') },
        { op: 'lchown', path: made('l'), uid: 0, gid: 0 },
        { op: 'mknod', path: made('null'), mode: S_IFCHR | 0o600, dev: makedev(1, 3) },
        { op: 'lchown', path: made('null'), uid: 0, gid: 0 },
        { op: 'chmod', path: made('null'), mode: 0o666 },
        { op: 'mkdir', path: made('sub'), mode: 0o700 },
        { op: 'lchown', path: made('sub'), uid: 0, gid: 0 },
        { op: 'chmod', path: made('sub'), mode: 0o711 },
        { op: 'copyFile', source: lower('sub/b'), dest: made('sub/b') },
        { op: 'lchown', path: made('sub/b'), uid: 0, gid: 0 },
        { op: 'chmod', path: made('sub/b'), mode: 0o4755 },
        { op: 'moveMount', fromDirfd: fdOf(sys, NEW), fromPath: '', toDirfd: fdOf(sys, '/r/x'), toPath: '', flags: BOTH_EMPTY },
      ]);
      const root = sys.newMountRoot('/r/x')!;
      expect(root).toMatchObject({ kind: 'dir', perm: 0o750 });
      expect([...root.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(root.children!.get('a')).toMatchObject({ kind: 'file', content: 'alpha', perm: 0o640, uid: 1234, gid: 1234 });
      expect(root.children!.get('l')).toMatchObject({ kind: 'symlink', target: 'a' });
      expect(root.children!.get('null')).toMatchObject({ kind: 'char', rdev: makedev(1, 3), perm: 0o666 });
      expect(root.children!.get('sub')!.children!.get('b')).toMatchObject({ kind: 'file', content: 'beta', perm: 0o4755 });
      // The lower directory is as it was.
      expect([...sys.node('/r/x')!.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(sys.openFds()).toEqual([]);
    });

    test("the mount's flags as attributes, the superblock's as flag parameters, read-only left to finalize, and an SELinux context= without its quotes", () => {
      const { sys, run } = setup({ mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' });
      sys.addFile('/sys/fs/selinux/enforce', '1');
      sys.addDir('/r/x', 0o750);
      run({ ...copyUp, flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_STRICTATIME | MS_RDONLY | MS_SYNCHRONOUS });
      const context = fdOf(sys, CONTEXT);
      expect(changes(sys).filter((c) => c.op === 'fsconfig' || c.op === 'fsmount')).toEqual([
        setString(context, 'source', 'tmpfs'),
        setFlag(context, 'sync'),
        setString(context, 'context', 'system_u:object_r:container_file_t:s0:c1,c2'),
        setString(context, 'mode', '0750'),
        setString(context, 'size', '1m'),
        create(context),
        { op: 'fsmount', fd: context, flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_STRICTATIME },
      ]);
    });

    test('propagation is set on the detached mount with mount_setattr, one call each, before the copy and the move; recursive attributes come last, on the target', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750);
      run({ ...copyUp, propagationFlags: [MS_SHARED, MS_PRIVATE | MS_REC], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } });
      const mount = fdOf(sys, NEW);
      expect(changes(sys).filter((c) => c.op !== 'fsconfig')).toEqual([
        opened,
        { op: 'fsmount', fd: fdOf(sys, CONTEXT), flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_RELATIME },
        { op: 'mountSetattr', dirfd: mount, path: '', atFlags: AT_EMPTY_PATH, attrSet: 0n, attrClr: 0n, propagation: MS_SHARED },
        { op: 'mountSetattr', dirfd: mount, path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: 0n, attrClr: 0n, propagation: MS_PRIVATE },
        { op: 'moveMount', fromDirfd: mount, fromPath: '', toDirfd: fdOf(sys, '/r/x'), toPath: '', flags: BOTH_EMPTY },
        { op: 'mountSetattr', dirfd: fdOf(sys, '/r/x'), path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
      ]);
      expect(sys.callsOf('mount')).toEqual([]);
    });

    test.each(['ENOSYS', 'EPERM'])('fsopen answers %s (a kernel before 5.2, or a seccomp filter): the tmpfs is staged in /tmp as before, the refusal logged', (errno) => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x', 0o750);
      sys.failOn('fsopen', errno);
      run(copyUp);
      expect(changes(sys)).toEqual([opened, ...staged(sys, '0750')]);
      expect(log.debugs).toContainEqual(['tmpcopyup: staged in /tmp: the new mount API is refused', { error: `fsopen "tmpfs": ${errno}` }]);
      expect(sys.mounts.map((m) => [m.target, m.fstype])).toEqual([['/r/x', 'tmpfs']]);
      expect(sys.openFds()).toEqual([]);
    });

    test.each([
      ['mount_setattr answers ENOSYS (a kernel before 5.12), with propagation flags', 'mountSetattr', 'ENOSYS', { propagationFlags: [MS_PRIVATE] as bigint[] }, 'mount_setattr "fsmount:[tmpfs]": ENOSYS'],
      ['fsmount refuses MOUNT_ATTR_NOSYMFOLLOW (a kernel before 5.14)', 'fsmount', 'EINVAL', { flags: MS_NOSYMFOLLOW }, 'fsmount: EINVAL'],
      ['fsconfig answers ENOSYS (a filter refusing it alone)', 'fsconfig', 'ENOSYS', {}, 'fsconfig "source=tmpfs": ENOSYS'],
      ['move_mount answers ENOSYS, after the copy', 'moveMount', 'ENOSYS', {}, 'move_mount "fsmount:[tmpfs]" -> "/r/x": ENOSYS'],
      ['fsconfig answers EPERM (a filter refusing it alone)', 'fsconfig', 'EPERM', {}, 'fsconfig "source=tmpfs": EPERM'],
      ['fsmount answers EPERM (a filter)', 'fsmount', 'EPERM', {}, 'fsmount: EPERM'],
      ['mount_setattr answers EPERM (a filter), with propagation flags', 'mountSetattr', 'EPERM', { propagationFlags: [MS_PRIVATE] as bigint[] }, 'mount_setattr "fsmount:[tmpfs]": EPERM'],
      ['move_mount answers EPERM (a filter), after the copy', 'moveMount', 'EPERM', {}, 'move_mount "fsmount:[tmpfs]" -> "/r/x": EPERM'],
    ] as const)('%s: what was made is closed, and the tmpfs is staged', (_what, op, errno, over, error) => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x', 0o750);
      sys.failOn(op, errno);
      run({ ...copyUp, ...over });
      const refused = sys.calls.findIndex((c) => c.op === op);
      const after = sys.calls.slice(refused + 1);
      // Only closes between the refusal and the staging directory: every descriptor of the new API closed.
      expect(after.slice(0, after.findIndex((c) => c.op === 'getrandom')).map((c) => c.op)).toEqual(['close']);
      expect(log.debugs.map(([m, meta]) => [m, meta?.error])).toContainEqual(['tmpcopyup: staged in /tmp: the new mount API is refused', error]);
      expect(sys.callsOf('mkdir')).toEqual([{ op: 'mkdir', path: STAGING, mode: 0o700 }]);
      expect(sys.mounts.map((m) => [m.source, m.target])).toEqual([['tmpfs', '/r/x']]);
      expect(sys.openFds()).toEqual([]);
    });

    test("fsconfig answers EINVAL to a value holding a comma (tmpfs's legacy context before Linux 5.4: an mpol= node list): staged, where mount(2) judges it; EINVAL to one without is the mount's error", () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x', 0o750);
      sys.failOn('fsconfig', 'EINVAL', { path: 'mpol=bind:0,2' });
      run({ ...copyUp, data: 'mpol=bind:0,2,size=1m' });
      expect(log.debugs.map(([m, meta]) => [m, meta?.error])).toContainEqual(['tmpcopyup: staged in /tmp: the new mount API is refused', 'fsconfig "mpol=bind:0,2": EINVAL']);
      expect(sys.callsOf('mount').find((c) => c.fstype === 'tmpfs')).toEqual(tmpfsMount(STAGING, 0n, 'mode=0750,mpol=bind:0,2,size=1m'));
      expect(sys.openFds()).toEqual([]);
      const other = setup();
      other.sys.addDir('/r/x', 0o750);
      other.sys.failOn('fsconfig', 'EINVAL', { path: 'size=1m' });
      expect(() => other.run({ ...copyUp, data: 'mpol=bind:0,2,size=1m' })).toThrow(/tmpcopyup: configuring the tmpfs failed: fsconfig "size=1m": EINVAL$/);
      expect(other.sys.callsOf('getrandom')).toEqual([]);
      // SELinux's options are its hook's, never the legacy context's: EINVAL to one is the mount's error.
      const selinux = setup();
      selinux.sys.addDir('/r/x', 0o750);
      selinux.sys.failOn('fsconfig', 'EINVAL', { path: 'context=a:b:c:s0:c1,c2' });
      expect(() => selinux.run({ ...copyUp, data: 'context="a:b:c:s0:c1,c2"' })).toThrow(/tmpcopyup: configuring the tmpfs failed: fsconfig "context=a:b:c:s0:c1,c2": EINVAL$/);
      expect(selinux.sys.callsOf('getrandom')).toEqual([]);
    });

    test('a flag the new API does not give as mount(2) does (mand): staged at once, no fsopen, the reason logged', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x', 0o750);
      run({ ...copyUp, flags: MS_MANDLOCK });
      expect(sys.callsOf('fsopen')).toEqual([]);
      expect(log.debugs).toContainEqual(['tmpcopyup: staged in /tmp: the new mount API does not make this mount as mount(2) does', { reason: 'mount flags 0x40' }]);
      expect(sys.callsOf('mount').find((c) => c.fstype === 'tmpfs')).toEqual(tmpfsMount(STAGING, MS_MANDLOCK, 'mode=0750,size=1m'));
    });

    test.each([
      ['fsopen', 'EIO', {}, undefined, 'opening a tmpfs context failed: fsopen "tmpfs": EIO'],
      ['fsconfig', 'EINVAL', {}, 'size=1m', 'configuring the tmpfs failed: fsconfig "size=1m": EINVAL'],
      ['fsconfig', 'ENOMEM', {}, 'FSCONFIG_CMD_CREATE', 'configuring the tmpfs failed: fsconfig "FSCONFIG_CMD_CREATE": ENOMEM'],
      ['fsmount', 'ENOMEM', {}, undefined, 'mounting the tmpfs failed: fsmount: ENOMEM'],
      ['fsmount', 'EINVAL', {}, undefined, 'mounting the tmpfs failed: fsmount: EINVAL'],
      ['mountSetattr', 'EINVAL', { propagationFlags: [MS_SHARED] as bigint[] }, undefined, 'setting the propagation of the tmpfs for "/x" failed: mount_setattr "fsmount:[tmpfs]": EINVAL'],
      ['copyFile', 'ENOSPC', {}, 'fsmount:[tmpfs]/a', 'copying "/x" into the tmpfs failed: copy_file_range "/r/x/a" -> "fsmount:[tmpfs]/a": ENOSPC'],
      ['mkdir', 'ENOSPC', {}, 'fsmount:[tmpfs]/sub', 'copying "/x" into the tmpfs failed: mkdir "fsmount:[tmpfs]/sub": ENOSPC'],
      ['chmod', 'EPERM', {}, 'fsmount:[tmpfs]/sub/b', 'copying "/x" into the tmpfs failed: chmod "fsmount:[tmpfs]/sub/b": EPERM'],
      ['moveMount', 'EINVAL', {}, undefined, 'moving the tmpfs onto "/x" failed: move_mount "fsmount:[tmpfs]" -> "/r/x": EINVAL'],
    ] as const)('a failing %s (%s) fails the mount in one line naming it, with no staging; nothing stays mounted, every descriptor is closed', (op, errno, over, path, inner) => {
      const { sys, run } = setup();
      addLowerTree(sys);
      sys.failOn(op, errno, path === undefined ? {} : { path });
      const thrown = thrownBy(() => run({ ...copyUp, ...over }));
      expect(thrown).toMatchObject({ name: 'PluginError', message: `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: ${inner}`, cause: { name: 'StepError', cause: { name: 'SyscallError', code: errno } } });
      expect((thrown as Error).message).not.toContain('\n');
      expect(sys.calls.filter((c) => c.op === 'getrandom' || c.op === 'rmdir' || (c.op === 'mkdir' && c.path.startsWith('/tmp')))).toEqual([]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test("a close that fails is logged, not fatal: the kernel releases the descriptor all the same (close(2))", () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x');
      sys.failOn('close', 'EIO', { path: CONTEXT });
      run(copyUp);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
      expect(log.warnings).toEqual(['tmpcopyup: close of a descriptor of the tmpfs failed']);
    });
  });

  describe('tmpcopyup staged in /tmp, where fsopen(2) answers ENOSYS (a kernel before 5.2)', () => {
    const copyUp = { type: 'tmpfs', destination: '/x', data: 'size=1m', extensions: { tmpcopyup: true } };
    /** setup() on a kernel without the new mount API: every fsopen answers ENOSYS. */
    const setup = (over: Parameters<typeof setupWith>[0] = {}) => {
      const made = setupWith(over);
      made.sys.failOn('fsopen', 'ENOSYS', { times: Infinity });
      return made;
    };
    /** The changes after each tmpcopyup's refused fsopen (its own test checks where it comes). */
    const changes = (sys: FakeSyscalls) => changesOf(sys).filter((c) => c.op !== 'fsopen');
    const privateStaging = [
      { op: 'mkdir', path: STAGING, mode: 0o700 },
      { op: 'mount', source: STAGING, target: STAGING, fstype: null, flags: MS_BIND, data: null },
      { op: 'mount', source: null, target: STAGING, fstype: null, flags: MS_PRIVATE, data: null },
    ];
    const unbind = { op: 'umount2', target: STAGING, flags: MNT_DETACH };
    const removeStaging = { op: 'rmdir', path: STAGING };

    test("binds a private staging directory, mounts on it with the target's mode, copies the tree through the target descriptor, moves the tmpfs onto that descriptor, cleans up", () => {
      const { sys, run } = setup();
      addLowerTree(sys);
      run(copyUp);
      // Each source file is read through its own descriptor, never by a path below the target's.
      const lower = (name: string) => viaFd(sys, `/r/x/${name}`);
      expect(changes(sys)).toEqual([
        ...privateStaging,
        tmpfsMount(STAGING, 0n, 'mode=0750,size=1m'),
        { op: 'copyFile', source: lower('a'), dest: `${STAGING}/a` },
        { op: 'lchown', path: `${STAGING}/a`, uid: 1234, gid: 1234 },
        { op: 'chmod', path: `${STAGING}/a`, mode: 0o640 },
        { op: 'symlink', target: 'a', linkPath: `${STAGING}/l` },
        { op: 'lchown', path: `${STAGING}/l`, uid: 0, gid: 0 },
        { op: 'mknod', path: `${STAGING}/null`, mode: S_IFCHR | 0o600, dev: makedev(1, 3) },
        { op: 'lchown', path: `${STAGING}/null`, uid: 0, gid: 0 },
        { op: 'chmod', path: `${STAGING}/null`, mode: 0o666 },
        { op: 'mkdir', path: `${STAGING}/sub`, mode: 0o700 },
        { op: 'lchown', path: `${STAGING}/sub`, uid: 0, gid: 0 },
        { op: 'chmod', path: `${STAGING}/sub`, mode: 0o711 },
        { op: 'copyFile', source: lower('sub/b'), dest: `${STAGING}/sub/b` },
        { op: 'lchown', path: `${STAGING}/sub/b`, uid: 0, gid: 0 },
        { op: 'chmod', path: `${STAGING}/sub/b`, mode: 0o4755 },
        { op: 'mount', source: STAGING, target: viaFd(sys, '/r/x'), fstype: null, flags: MS_MOVE, data: null },
        unbind,
        removeStaging,
      ]);
      expect(sys.mounts.map((m) => [m.target, m.fstype])).toEqual([['/r/x', 'tmpfs']]);
      // The fake's mounts never change what paths resolve to, so the copies stay visible at the staging path.
      expect(sys.node(`${STAGING}/a`)).toMatchObject({ kind: 'file', content: 'alpha', perm: 0o640, uid: 1234 });
      expect(sys.node(`${STAGING}/l`)).toMatchObject({ kind: 'symlink', target: 'a' });
      expect(sys.node(`${STAGING}/sub/b`)).toMatchObject({ kind: 'file', content: 'beta', perm: 0o4755 });
      expect(sys.openFds()).toEqual([]);
    });

    test('propagation is set on the staging mount, which MS_MOVE carries to the target; recursive attributes come last', () => {
      const { sys, run } = setup();
      run({ ...copyUp, propagationFlags: [MS_SHARED], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } });
      expect(changes(sys)).toEqual([
        { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'x', mode: 0o755 },
        ...privateStaging,
        tmpfsMount(STAGING, 0n, 'size=1m'),
        { op: 'mount', source: null, target: STAGING, fstype: null, flags: MS_SHARED, data: null },
        { op: 'mount', source: STAGING, target: viaFd(sys, '/r/x'), fstype: null, flags: MS_MOVE, data: null },
        unbind,
        removeStaging,
        { op: 'mountSetattr', dirfd: fdOf(sys, '/r/x'), path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
      ]);
    });

    test('read-only: copied into a writable tmpfs and moved; finalize makes it read-only', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o755);
      run({ ...copyUp, flags: MS_RDONLY });
      expect(changes(sys)).toEqual([
        ...privateStaging,
        tmpfsMount(STAGING, 0n, 'mode=0755,size=1m'),
        { op: 'mount', source: STAGING, target: viaFd(sys, '/r/x'), fstype: null, flags: MS_MOVE, data: null },
        unbind,
        removeStaging,
      ]);
    });

    test('the staging name has a random part, 16 bytes of getrandom(GRND_NONBLOCK) just before its mkdir', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x');
      run(copyUp);
      expect(sys.calls.filter((c) => c.op === 'getrandom' || c.op === 'readFile' || c.op === 'mkdir' || c.op === 'rmdir')).toEqual([
        { op: 'getrandom', length: 16, flags: GRND_NONBLOCK },
        { op: 'mkdir', path: STAGING, mode: 0o700 },
        removeStaging,
      ]);
    });

    test("without the fake's own bytes, each getrandom gives the next count: a plan's names are the same in every plan", () => {
      const { sys, run } = setup();
      sys.randomBytes = countingBytes;
      sys.addDir('/r/x').addDir('/r/y');
      run({ ...copyUp, index: 0 }, { ...copyUp, destination: '/y', index: 1 });
      expect(sys.callsOf('mkdir').map((c) => c.path)).toEqual([
        '/tmp/.mountkit-tmpcopyup-0-00000000000000000000000000000001',
        '/tmp/.mountkit-tmpcopyup-1-00000000000000000000000000000002',
      ]);
    });

    test('a taken staging name (a directory or a planted symlink) is skipped for another random one', () => {
      const { sys, run } = setup();
      sys.randomBytes = (length, nth) => Uint8Array.from({ length }, (_, i) => (i === length - 1 ? 9 + nth : 0));
      const named = (last: string) => `/tmp/.mountkit-tmpcopyup-1-0000000000000000000000000000000${last}`;
      sys.addDir(named('a'));
      sys.addSymlink(named('b'), '/etc');
      run({ type: 'tmpfs', destination: '/y' }, { ...copyUp, index: 1 });
      expect(sys.calls.filter((c) => c.op === 'getrandom' || c.op === 'mkdir').map((c) => [c.op, c.op === 'mkdir' ? c.path : c.length])).toEqual([
        ['getrandom', 16],
        ['mkdir', named('a')],
        ['getrandom', 16],
        ['mkdir', named('b')],
        ['getrandom', 16],
        ['mkdir', named('c')],
      ]);
      expect(sys.callsOf('rmdir')).toEqual([{ op: 'rmdir', path: named('c') }]);
      expect(sys.node(named('a'))?.kind).toBe('dir');
      expect(sys.node(named('b'))?.kind).toBe('symlink');
    });

    test.each(['ENOSYS', 'EPERM', 'EAGAIN', 'EINVAL'])('getrandom answers %s: the mount fails naming it, nothing else is read and no staging directory is made', (errno) => {
      const { sys, run } = setup();
      // A kernel.random.uuid there is not read: no other source is tried.
      sys.addDir('/r/x').addFile(RANDOM_UUID_FILE, '0f8e2a6c-3b1d-4e5f-9a7b-c2d4e6f80123\n', 0o444);
      sys.failOn('getrandom', errno);
      expect(() => run(copyUp)).toThrow(`mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: creating a staging directory failed: getrandom: ${errno}`);
      expect(sys.calls.filter((c) => c.op === 'getrandom' || c.op === 'readFile' || c.op === 'mkdir')).toEqual([{ op: 'getrandom', length: 16, flags: GRND_NONBLOCK }]);
      expect(changes(sys)).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test('creating the staging directory fails with anything but EEXIST: nothing to clean up', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x');
      sys.failOn('mkdir', 'EACCES', { path: STAGING });
      expect(() => run(copyUp)).toThrow(
        `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: creating a staging directory failed: mkdir "${STAGING}": EACCES`,
      );
      expect(changes(sys)).toEqual([{ op: 'mkdir', path: STAGING, mode: 0o700 }]);
      expect(sys.openFds()).toEqual([]);
    });

    test.each([
      [1, 'making the staging directory a private mount', `mount "${STAGING}" -> "${STAGING}": EINVAL`, [privateStaging[1], removeStaging]],
      [2, 'making the staging directory a private mount', `mount "${STAGING}": EINVAL`, [...privateStaging.slice(1), unbind, removeStaging]],
    ] as const)('the private bind fails (mount %d): what was bound is detached, the directory removed', (nth, what, inner, tail) => {
      const { sys, run } = setup();
      sys.addDir('/r/x');
      sys.failOn('mount', 'EINVAL', { nth });
      expect(() => run(copyUp)).toThrow(`mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: ${what} failed: ${inner}`);
      expect(changes(sys)).toEqual([privateStaging[0], ...tail]);
      expect(sys.mounts).toEqual([]);
    });

    test('the staging mount fails: only the private bind is detached, the directory removed', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x');
      sys.failOn('mount', 'EINVAL', { nth: 3 });
      expect(() => run(copyUp)).toThrow(
        `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: mounting on the staging directory failed: mount "tmpfs" -> "${STAGING}": EINVAL`,
      );
      expect(log.warnings).toEqual([]);
      expect(changes(sys)).toEqual([...privateStaging, tmpfsMount(STAGING, 0n, 'mode=0755,size=1m'), unbind, removeStaging]);
      expect(sys.mounts).toEqual([]);
    });

    test.each([
      ['copyFile', `${STAGING}/a`, `copy_file_range "/r/x/a" -> "${STAGING}/a": ENOSPC`],
      ['lchown', `${STAGING}/a`, `lchown "${STAGING}/a": ENOSPC`],
      ['chmod', `${STAGING}/a`, `chmod "${STAGING}/a": ENOSPC`],
      ['symlink', `${STAGING}/l`, `symlink "a" -> "${STAGING}/l": ENOSPC`],
      ['mknod', `${STAGING}/null`, `mknod "${STAGING}/null": ENOSPC`],
      ['mkdir', `${STAGING}/sub`, `mkdir "${STAGING}/sub": ENOSPC`],
      ['copyFile', `${STAGING}/sub/b`, `copy_file_range "/r/x/sub/b" -> "${STAGING}/sub/b": ENOSPC`],
    ] as const)('a failing copy step (%s %s) detaches the staging mounts, removes the directory, names the copy', (op, path, inner) => {
      const { sys, run } = setup();
      addLowerTree(sys);
      sys.failOn(op, 'ENOSPC', { path });
      expect(thrownBy(() => run(copyUp))).toMatchObject(copyFailed(inner, op, 'ENOSPC'));
      const effects = changes(sys);
      expect(effects.slice(-4)).toEqual([expect.objectContaining({ op }), unbind, unbind, removeStaging]);
      expect(effects.filter((c) => c.op === 'mount' && c.flags === MS_MOVE)).toEqual([]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    describe('the copy goes through descriptors', () => {
      const ENTRY = O_PATH | O_NOFOLLOW | O_CLOEXEC;

      /** The calls between the staging mount and the move: the copy. */
      function copyCalls(sys: FakeSyscalls) {
        const start = sys.calls.findIndex((c) => c.op === 'mount' && c.fstype === 'tmpfs') + 1;
        const end = sys.calls.findIndex((c) => c.op === 'mount' && c.flags === MS_MOVE);
        return sys.calls.slice(start, end === -1 ? undefined : end);
      }

      test('each entry is opened O_PATH|O_NOFOLLOW from its directory, fstat-ed and copied from its descriptor, then closed; owners, modes and extended attributes (of files and directories) kept', () => {
        const { sys, run } = setup();
        addSmallTree(sys);
        run(copyUp);
        const fd = (path: string) => fdOf(sys, path);
        const opened = (dir: string, name: string) => ({ op: 'openat', dirfd: fd(dir), path: name, flags: ENTRY, mode: 0 });
        expect(copyCalls(sys)).toEqual([
          { op: 'readdir', path: viaFd(sys, '/r/x') },
          opened('/r/x', 'a'),
          { op: 'fstat', fd: fd('/r/x/a') },
          { op: 'copyFile', source: viaFd(sys, '/r/x/a'), dest: `${STAGING}/a` },
          { op: 'lchown', path: `${STAGING}/a`, uid: 1234, gid: 1234 },
          { op: 'chmod', path: `${STAGING}/a`, mode: 0o640 },
          { op: 'listxattr', path: viaFd(sys, '/r/x/a') },
          { op: 'close', fd: fd('/r/x/a') },
          opened('/r/x', 'l'),
          { op: 'fstat', fd: fd('/r/x/l') },
          { op: 'readlinkat', dirfd: fd('/r/x/l'), path: '' },
          { op: 'symlink', target: '/etc/shadow', linkPath: `${STAGING}/l` },
          { op: 'lchown', path: `${STAGING}/l`, uid: 0, gid: 0 },
          { op: 'close', fd: fd('/r/x/l') },
          opened('/r/x', 'p'),
          { op: 'fstat', fd: fd('/r/x/p') },
          { op: 'mknod', path: `${STAGING}/p`, mode: S_IFIFO | 0o600, dev: 0n },
          { op: 'lchown', path: `${STAGING}/p`, uid: 5, gid: 6 },
          { op: 'chmod', path: `${STAGING}/p`, mode: 0o620 },
          { op: 'close', fd: fd('/r/x/p') },
          opened('/r/x', 'sub'),
          { op: 'fstat', fd: fd('/r/x/sub') },
          { op: 'mkdir', path: `${STAGING}/sub`, mode: 0o700 },
          { op: 'lchown', path: `${STAGING}/sub`, uid: 7, gid: 7 },
          { op: 'chmod', path: `${STAGING}/sub`, mode: 0o711 },
          { op: 'readdir', path: viaFd(sys, '/r/x/sub') },
          opened('/r/x/sub', 'b'),
          { op: 'fstat', fd: fd('/r/x/sub/b') },
          { op: 'copyFile', source: viaFd(sys, '/r/x/sub/b'), dest: `${STAGING}/sub/b` },
          { op: 'lchown', path: `${STAGING}/sub/b`, uid: 0, gid: 0 },
          { op: 'chmod', path: `${STAGING}/sub/b`, mode: 0o4755 },
          { op: 'listxattr', path: viaFd(sys, '/r/x/sub/b') },
          { op: 'close', fd: fd('/r/x/sub/b') },
          { op: 'listxattr', path: viaFd(sys, '/r/x/sub') },
          { op: 'close', fd: fd('/r/x/sub') },
        ]);
        expect(sys.node(`${STAGING}/a`)).toMatchObject({ kind: 'file', content: 'alpha', perm: 0o640, uid: 1234, gid: 1234 });
        expect(sys.node(`${STAGING}/l`)).toMatchObject({ kind: 'symlink', target: '/etc/shadow' });
        expect(sys.node(`${STAGING}/p`)).toMatchObject({ kind: 'fifo', perm: 0o620, uid: 5, gid: 6 });
        expect(sys.node(`${STAGING}/sub`)).toMatchObject({ kind: 'dir', perm: 0o711, uid: 7, gid: 7 });
        expect(sys.node(`${STAGING}/sub/b`)).toMatchObject({ kind: 'file', content: 'beta', perm: 0o4755 });
        expect(filesReached(sys).filter((p) => p.startsWith('/etc') || p.startsWith('/hostdir'))).toEqual([]);
        expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
        expect(sys.openFds()).toEqual([]);
      });

      /** addSmallTree with extended attributes: two on the file (file capabilities, as bytes, and a user one), one on the directory, one each on the symlink and the fifo. */
      function addTreeWithXattrs(sys: FakeSyscalls): void {
        addSmallTree(sys);
        sys.node('/r/x/a')!.xattrs.set('user.k', 'v1').set('security.capability', CAPS);
        sys.node('/r/x/sub')!.xattrs.set('user.d', 'dv');
        sys.node('/r/x/l')!.xattrs.set('trusted.l', 'lv');
        sys.node('/r/x/p')!.xattrs.set('trusted.p', 'pv');
      }

      /** A security.capability value: VFS_CAP_REVISION_2 with CAP_NET_RAW permitted and effective (linux/capability.h). */
      const CAPS = Uint8Array.from([1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);

      test("extended attributes of a file and a directory are read through the entry's descriptor and set on the copy after its owner and mode (chown(2) removes security.capability), a directory's after its content (a default ACL is inherited); a symlink's and a fifo's are not read", () => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        run(copyUp);
        const fd = (path: string) => fdOf(sys, path);
        const opened = (dir: string, name: string) => ({ op: 'openat', dirfd: fd(dir), path: name, flags: ENTRY, mode: 0 });
        expect(copyCalls(sys)).toEqual([
          { op: 'readdir', path: viaFd(sys, '/r/x') },
          opened('/r/x', 'a'),
          { op: 'fstat', fd: fd('/r/x/a') },
          { op: 'copyFile', source: viaFd(sys, '/r/x/a'), dest: `${STAGING}/a` },
          { op: 'lchown', path: `${STAGING}/a`, uid: 1234, gid: 1234 },
          { op: 'chmod', path: `${STAGING}/a`, mode: 0o640 },
          { op: 'listxattr', path: viaFd(sys, '/r/x/a') },
          { op: 'getxattr', path: viaFd(sys, '/r/x/a'), name: 'user.k' },
          { op: 'lsetxattr', path: `${STAGING}/a`, name: 'user.k', value: Buffer.from('v1') },
          { op: 'getxattr', path: viaFd(sys, '/r/x/a'), name: 'security.capability' },
          { op: 'lsetxattr', path: `${STAGING}/a`, name: 'security.capability', value: CAPS },
          { op: 'close', fd: fd('/r/x/a') },
          opened('/r/x', 'l'),
          { op: 'fstat', fd: fd('/r/x/l') },
          { op: 'readlinkat', dirfd: fd('/r/x/l'), path: '' },
          { op: 'symlink', target: '/etc/shadow', linkPath: `${STAGING}/l` },
          { op: 'lchown', path: `${STAGING}/l`, uid: 0, gid: 0 },
          { op: 'close', fd: fd('/r/x/l') },
          opened('/r/x', 'p'),
          { op: 'fstat', fd: fd('/r/x/p') },
          { op: 'mknod', path: `${STAGING}/p`, mode: S_IFIFO | 0o600, dev: 0n },
          { op: 'lchown', path: `${STAGING}/p`, uid: 5, gid: 6 },
          { op: 'chmod', path: `${STAGING}/p`, mode: 0o620 },
          { op: 'close', fd: fd('/r/x/p') },
          opened('/r/x', 'sub'),
          { op: 'fstat', fd: fd('/r/x/sub') },
          { op: 'mkdir', path: `${STAGING}/sub`, mode: 0o700 },
          { op: 'lchown', path: `${STAGING}/sub`, uid: 7, gid: 7 },
          { op: 'chmod', path: `${STAGING}/sub`, mode: 0o711 },
          { op: 'readdir', path: viaFd(sys, '/r/x/sub') },
          opened('/r/x/sub', 'b'),
          { op: 'fstat', fd: fd('/r/x/sub/b') },
          { op: 'copyFile', source: viaFd(sys, '/r/x/sub/b'), dest: `${STAGING}/sub/b` },
          { op: 'lchown', path: `${STAGING}/sub/b`, uid: 0, gid: 0 },
          { op: 'chmod', path: `${STAGING}/sub/b`, mode: 0o4755 },
          { op: 'listxattr', path: viaFd(sys, '/r/x/sub/b') },
          { op: 'close', fd: fd('/r/x/sub/b') },
          // The directory's after its content (a default ACL would be inherited).
          { op: 'listxattr', path: viaFd(sys, '/r/x/sub') },
          { op: 'getxattr', path: viaFd(sys, '/r/x/sub'), name: 'user.d' },
          { op: 'lsetxattr', path: `${STAGING}/sub`, name: 'user.d', value: Buffer.from('dv') },
          { op: 'close', fd: fd('/r/x/sub') },
        ]);
        expect([...sys.node(`${STAGING}/a`)!.xattrs]).toEqual([['user.k', Buffer.from('v1')], ['security.capability', CAPS]]);
        expect([...sys.node(`${STAGING}/sub`)!.xattrs]).toEqual([['user.d', Buffer.from('dv')]]);
        expect([...sys.node(`${STAGING}/l`)!.xattrs]).toEqual([]);
        expect([...sys.node(`${STAGING}/p`)!.xattrs]).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each(['EOPNOTSUPP', 'EINVAL', 'EPERM', 'EACCES'] as const)('an attribute the tmpfs refuses (lsetxattr %s) is left out, as runc copies none: the others are still set', (errno) => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        sys.failOn('lsetxattr', errno, { path: `${STAGING}/a` });
        run(copyUp);
        expect(sys.callsOf('lsetxattr').map((c) => [c.path, c.name])).toEqual([
          [`${STAGING}/a`, 'user.k'],
          [`${STAGING}/a`, 'security.capability'],
          [`${STAGING}/sub`, 'user.d'],
        ]);
        expect([...sys.node(`${STAGING}/a`)!.xattrs]).toEqual([['security.capability', CAPS]]);
        expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
        expect(sys.openFds()).toEqual([]);
      });

      /** An access ACL (linux/posix_acl_xattr.h): user::rwx user:1234:rwx group::r-x mask::rwx other::---. */
      const ACCESS_ACL = (() => {
        const entries = [[0x01, 7, 0xffffffff], [0x02, 7, 1234], [0x04, 5, 0xffffffff], [0x10, 7, 0xffffffff], [0x20, 0, 0xffffffff]];
        const b = Buffer.alloc(4 + entries.length * 8);
        b.writeUInt32LE(2, 0);
        entries.forEach(([tag, perm, id], i) => {
          b.writeUInt16LE(tag, 4 + i * 8);
          b.writeUInt16LE(perm, 6 + i * 8);
          b.writeUInt32LE(id, 8 + i * 8);
        });
        return Uint8Array.from(b);
      })();

      /** addTreeWithXattrs, the file's mode 2770 (group class bits: the mask rwx) and its access ACL after its other attributes. */
      function addTreeWithAcl(sys: FakeSyscalls, acl: Uint8Array = ACCESS_ACL): void {
        addTreeWithXattrs(sys);
        sys.node('/r/x/a')!.perm = 0o2770;
        sys.node('/r/x/a')!.xattrs.set('system.posix_acl_access', acl);
      }

      test.each(['EOPNOTSUPP', 'EINVAL', 'EPERM', 'EACCES'] as const)("an access ACL the tmpfs refuses (lsetxattr %s) leaves the copy's group bits those of ACL_GROUP_OBJ, not the mask the mode holds (acl(5)): chmod after the refusal, the other bits kept", (errno) => {
        const { sys, run } = setup();
        addTreeWithAcl(sys);
        sys.failOn('lsetxattr', errno, { path: `${STAGING}/a`, nth: 3 });
        run(copyUp);
        const fd = (path: string) => fdOf(sys, path);
        const calls = copyCalls(sys);
        const start = calls.findIndex((c) => c.op === 'copyFile');
        expect(calls.slice(start, calls.findIndex((c) => c.op === 'close'))).toEqual([
          { op: 'copyFile', source: viaFd(sys, '/r/x/a'), dest: `${STAGING}/a` },
          { op: 'lchown', path: `${STAGING}/a`, uid: 1234, gid: 1234 },
          { op: 'chmod', path: `${STAGING}/a`, mode: 0o2770 },
          { op: 'listxattr', path: viaFd(sys, '/r/x/a') },
          { op: 'getxattr', path: viaFd(sys, '/r/x/a'), name: 'user.k' },
          { op: 'lsetxattr', path: `${STAGING}/a`, name: 'user.k', value: Buffer.from('v1') },
          { op: 'getxattr', path: viaFd(sys, '/r/x/a'), name: 'security.capability' },
          { op: 'lsetxattr', path: `${STAGING}/a`, name: 'security.capability', value: CAPS },
          { op: 'getxattr', path: viaFd(sys, '/r/x/a'), name: 'system.posix_acl_access' },
          { op: 'lsetxattr', path: `${STAGING}/a`, name: 'system.posix_acl_access', value: ACCESS_ACL },
          { op: 'chmod', path: `${STAGING}/a`, mode: 0o2750 },
        ]);
        expect(calls[calls.findIndex((c) => c.op === 'close')]).toEqual({ op: 'close', fd: fd('/r/x/a') });
        expect(sys.node(`${STAGING}/a`)).toMatchObject({ perm: 0o2750, uid: 1234, gid: 1234 });
        expect([...sys.node(`${STAGING}/a`)!.xattrs]).toEqual([['user.k', Buffer.from('v1')], ['security.capability', CAPS]]);
        expect(sys.openFds()).toEqual([]);
      });

      test("an access ACL the tmpfs takes, or another attribute it refuses, changes no mode: no chmod after the attributes", () => {
        const taken = setup();
        addTreeWithAcl(taken.sys);
        taken.run(copyUp);
        const other = setup();
        addTreeWithAcl(other.sys);
        other.sys.failOn('lsetxattr', 'EINVAL', { path: `${STAGING}/a`, nth: 2 });
        other.run(copyUp);
        for (const { sys } of [taken, other]) {
          expect(sys.callsOf('chmod').filter((c) => c.path === `${STAGING}/a`)).toEqual([{ op: 'chmod', path: `${STAGING}/a`, mode: 0o2770 }]);
          expect(sys.node(`${STAGING}/a`)).toMatchObject({ perm: 0o2770 });
        }
        expect([...taken.sys.node(`${STAGING}/a`)!.xattrs].map(([n]) => n)).toEqual(['user.k', 'security.capability', 'system.posix_acl_access']);
      });

      test("a refused access ACL that is no ACL the kernel takes (version 1) leaves the copy no group bits: its mode's may be a mask wider than the owning group's", () => {
        const { sys, run } = setup();
        const bad = Uint8Array.from(ACCESS_ACL);
        bad[0] = 1;
        addTreeWithAcl(sys, bad);
        sys.failOn('lsetxattr', 'EINVAL', { path: `${STAGING}/a`, nth: 3 });
        run(copyUp);
        expect(sys.callsOf('chmod').filter((c) => c.path === `${STAGING}/a`).map((c) => c.mode)).toEqual([0o2770, 0o2700]);
        expect(sys.node(`${STAGING}/a`)).toMatchObject({ perm: 0o2700 });
      });

      test('the chmod after a refused access ACL failing fails the copy in one line naming the copy, the staging mounts undone', () => {
        const { sys, run } = setup();
        addTreeWithAcl(sys);
        sys.failOn('lsetxattr', 'EINVAL', { path: `${STAGING}/a`, nth: 3 });
        sys.failOn('chmod', 'EIO', { path: `${STAGING}/a`, nth: 2 });
        const thrown = thrownBy(() => run(copyUp));
        expect(thrown).toMatchObject(copyFailed(`chmod "${STAGING}/a": EIO`, 'chmod', 'EIO'));
        expect((thrown as Error).message).not.toContain('\n');
        expect(changes(sys).slice(-3)).toEqual([unbind, unbind, removeStaging]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each(['ENODATA', 'EOVERFLOW'] as const)('an attribute the source does not give (getxattr %s: removed since the listing, or file capabilities of another user namespace) is left out: the others are still copied', (errno) => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        sys.failOn('getxattr', errno, { path: '/r/x/a' });
        run(copyUp);
        expect(sys.callsOf('getxattr').map((c) => [sys.pathOf(parseFdPath(c.path)!.fd), c.name])).toEqual([
          ['/r/x/a', 'user.k'],
          ['/r/x/a', 'security.capability'],
          ['/r/x/sub', 'user.d'],
        ]);
        expect(sys.callsOf('lsetxattr').map((c) => [c.path, c.name])).toEqual([
          [`${STAGING}/a`, 'security.capability'],
          [`${STAGING}/sub`, 'user.d'],
        ]);
        expect([...sys.node(`${STAGING}/a`)!.xattrs]).toEqual([['security.capability', CAPS]]);
        expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
        expect(sys.openFds()).toEqual([]);
      });

      test('a source filesystem without extended attributes (listxattr EOPNOTSUPP) lists none: the copy goes on', () => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        sys.failOn('listxattr', 'EOPNOTSUPP', { path: '/r/x/a' });
        run(copyUp);
        expect(sys.callsOf('getxattr').map((c) => [sys.pathOf(parseFdPath(c.path)!.fd), c.name])).toEqual([['/r/x/sub', 'user.d']]);
        expect([...sys.node(`${STAGING}/a`)!.xattrs]).toEqual([]);
        expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
      });

      test.each([
        ['listxattr', '/r/x/a', 'EACCES', 'listxattr "/x/a": EACCES'],
        ['getxattr', '/r/x/sub', 'EIO', 'getxattr "/x/sub": EIO'],
        ['lsetxattr', `${STAGING}/a`, 'ENOSPC', `lsetxattr "${STAGING}/a": ENOSPC`],
        ['lsetxattr', `${STAGING}/sub`, 'EIO', `lsetxattr "${STAGING}/sub": EIO`],
      ] as const)('any other failing %s of %s fails the copy in one line naming the entry, the staging mounts undone', (op, path, errno, inner) => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        sys.failOn(op, errno, { path });
        const thrown = thrownBy(() => run(copyUp));
        expect(thrown).toMatchObject(copyFailed(inner, op, errno));
        expect((thrown as Error).message).not.toContain('\n');
        expect(changes(sys).slice(-3)).toEqual([unbind, unbind, removeStaging]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test('a file and a directory swapped for symlinks to host files after the listing are copied as those links: nothing on the host is read', () => {
        const sys = new RacingFake({
          after: 'readdir',
          path: '/r/x',
          race: (s) => {
            swapForSymlink(s, '/r/x/a', '/etc/shadow');
            swapForSymlink(s, '/r/x/sub', '/hostdir');
          },
        });
        const { run } = setup({ sys });
        addSmallTree(sys);
        run(copyUp);
        expect(sys.node(`${STAGING}/a`)).toMatchObject({ kind: 'symlink', target: '/etc/shadow' });
        expect(sys.node(`${STAGING}/sub`)).toMatchObject({ kind: 'symlink', target: '/hostdir' });
        const copied = [...sys.node(STAGING)!.children!].map(([name, n]) => [name, n.kind, n.content]);
        expect(copied).toEqual([
          ['a', 'symlink', ''],
          ['l', 'symlink', ''],
          ['p', 'fifo', ''],
          ['sub', 'symlink', ''],
        ]);
        expect(filesReached(sys).filter((p) => p.startsWith('/etc') || p.startsWith('/hostdir'))).toEqual([]);
        expect(sys.callsOf('copyFile')).toEqual([]);
        expect(sys.callsOf('readdir')).toEqual([{ op: 'readdir', path: viaFd(sys, '/r/x') }]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each([
        ['a file', '/r/x/a', (s: FakeSyscalls) => swapForSymlink(s, '/r/x/a', '/etc/shadow')],
        ['a directory', '/r/x/sub', (s: FakeSyscalls) => swapForSymlink(s, '/r/x/sub', '/hostdir')],
      ] as const)('%s swapped for a symlink once examined is copied from its descriptor: what was examined, never the host file', (_what, dir, race) => {
        const sys = new RacingFake({ after: 'examined', path: dir, race });
        const { run } = setup({ sys });
        addSmallTree(sys);
        run(copyUp);
        expect(sys.node(dir)?.kind).toBe('symlink');
        expect(sys.node(`${STAGING}/a`)).toMatchObject({ kind: 'file', content: 'alpha' });
        expect(sys.node(`${STAGING}/sub`)).toMatchObject({ kind: 'dir', perm: 0o711 });
        expect([...sys.node(`${STAGING}/sub`)!.children!.keys()]).toEqual(['b']);
        expect(sys.node(`${STAGING}/sub/b`)).toMatchObject({ kind: 'file', content: 'beta' });
        expect(filesReached(sys).filter((p) => p.startsWith('/etc') || p.startsWith('/hostdir'))).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test('an entry gone between the listing and its open fails the copy naming it; what was opened is closed, nothing is moved', () => {
        const sys = new RacingFake({ after: 'readdir', path: '/r/x/sub', race: (s) => s.node('/r/x/sub')!.children!.delete('b') });
        const { run } = setup({ sys });
        addSmallTree(sys);
        expect(() => run(copyUp)).toThrow(`mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: copying "/x" failed: openat "/x/sub/b": ENOENT`);
        expect(sys.callsOf('mount').filter((c) => c.flags === MS_MOVE)).toEqual([]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each([
        ['openat', '/r/x/sub/b', 'ENOENT', 'openat "/x/sub/b": ENOENT'],
        ['openat', '/r/x/a', 'EMFILE', 'openat "/x/a": EMFILE'],
        ['fstat', '/r/x/p', 'EIO', 'fstat "/x/p": EIO'],
        ['readlinkat', '/r/x/l', 'EIO', 'readlinkat "/r/x/l": EIO'],
        ['readdir', '/r/x/sub', 'EACCES', 'readdir "/r/x/sub": EACCES'],
        ['readdir', '/r/x', 'EACCES', 'readdir "/r/x": EACCES'],
        ['copyFile', `${STAGING}/sub/b`, 'EIO', `copy_file_range "/r/x/sub/b" -> "${STAGING}/sub/b": EIO`],
      ] as const)('a failing %s of %s on the source side fails the copy in one line naming it, every descriptor closed', (op, path, errno, inner) => {
        const { sys, run } = setup();
        addSmallTree(sys);
        sys.failOn(op, errno, { path });
        const thrown = thrownBy(() => run(copyUp));
        expect(thrown).toMatchObject(copyFailed(inner, op, errno));
        expect((thrown as Error).message).not.toContain('\n');
        expect(changes(sys).slice(-3)).toEqual([unbind, unbind, removeStaging]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });
    });

    test('a failing move detaches the staging mounts and removes the directory', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750);
      sys.failOn('mount', 'EINVAL', { path: '/r/x' });
      expect(() => run(copyUp)).toThrow(
        `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: moving the tmpfs onto "/x" failed: mount "${STAGING}" -> "/r/x": EINVAL`,
      );
      expect(changes(sys)).toEqual([
        ...privateStaging,
        tmpfsMount(STAGING, 0n, 'mode=0750,size=1m'),
        { op: 'mount', source: STAGING, target: viaFd(sys, '/r/x'), fstype: null, flags: MS_MOVE, data: null },
        unbind,
        unbind,
        removeStaging,
      ]);
      expect(sys.mounts).toEqual([]);
    });

    test('a failing detach is logged and the original error is what fails the run', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      addLowerTree(sys);
      sys.failOn('copyFile', 'EIO').failOn('umount2', 'EBUSY');
      expect(() => run(copyUp)).toThrow(`tmpcopyup: copying "/x" failed: copy_file_range "/r/x/a" -> "${STAGING}/a": EIO`);
      expect(changes(sys).slice(-3)).toEqual([unbind, unbind, removeStaging]);
      // The second detach took the tmpfs on top; the bind under it stays, and rmdir(2) of a mountpoint is EBUSY.
      expect(log.warnings).toEqual(['tmpcopyup: detaching a staging mount failed', 'tmpcopyup: removing the staging directory failed']);
    });

    test('a staging directory that cannot be removed is logged, not fatal', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x');
      sys.failOn('rmdir', 'EBUSY');
      run(copyUp);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
      expect(log.warnings).toEqual(['tmpcopyup: removing the staging directory failed']);
    });
  });
});
