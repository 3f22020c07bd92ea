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
  MS_MANDLOCK,
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
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_WRONLY,
  S_IFCHR,
  S_IFIFO,
  makedev,
} from '../../../src/core/constants';
import { IN_ROOT_NO_SYMLINKS, parseFdPath } from '../../../src/core/in-root';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { Logger } from '../../../src/core/plugin';
import type { FileStat } from '../../../src/core/syscalls/types';
import { FakeSyscalls, errorName, type FakeNode } from '../../../src/core/syscalls/fake';
import { TmpfsMountHandler } from '../../../src/plugins/tmpfs';
import { hasModeOption, withInheritedMode } from '../../../src/plugins/tmpfs/options';
import { makeConfig, makeMount } from '../../helpers/config';
import { NET_RAW_FILE_CAPS, USER_1234_ACL } from '../../helpers/xattr-values';
import { changes, changes as changesOf, fdOf, reopenedMountCalls, viaFd } from '../../helpers/fd';
import { procDestinationProblem } from '../../../src/core/paths';

/** The security.capability value the copies keep. */
const CAPS = Uint8Array.from(NET_RAW_FILE_CAPS);

/** The flags each copied file is made with, new and never through a symlink. */
const CREATE = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
/** The flags each copied directory is opened with once made. */
const MADE_DIR = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

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
  sys.addDir('/r');
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
    message: `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: copying "/x" into the tmpfs failed: ${inner}`,
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
      if (typeof value !== 'string' || key === 'op' || ((call.op === 'symlink' || call.op === 'symlinkat') && key === 'target')) continue;
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

  test("a mode= in the data wins over the directory's: the data as it is, and the directory's mode is not read", () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o700);
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m,mode=755' });
    expect(changes(sys)).toEqual([tmpfsMount(viaFd(sys, '/r/x'), 0n, 'size=1m,mode=755')]);
    expect(sys.calls.map((c) => c.op)).toEqual(['open', 'openat2', 'mount', 'close', 'close']);
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

  test('over a file no mode is taken from it: the mount fails (ENOTDIR) with the config\'s data alone', () => {
    const { sys, run } = setup();
    sys.addFile('/r/f', '', 0o644);
    expect(() => run({ type: 'tmpfs', destination: '/f', data: 'size=1m' })).toThrow(/: ENOTDIR \(data "size=1m"\)$/);
    expect(sys.callsOf('mount')).toEqual([tmpfsMount(viaFd(sys, '/r/f'), 0n, 'size=1m')]);
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
    sys.addSelinuxfs();
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
    test('the exact calls: a context given the source and the data, its superblock made, mounted detached, its context closed; the content copied; the mount moved onto the target; no mount(2) of it', () => {
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

    test("the tree is copied into the detached mount through its descriptor and descriptors opened from it, owners and modes kept; the target's own directory is read through its descriptor", () => {
      const { sys, run } = setup();
      addLowerTree(sys);
      run(copyUp);
      const made = (rest: string) => fdOf(sys, `${NEW}/${rest}`);
      const context = fdOf(sys, CONTEXT);
      const root = fdOf(sys, NEW);
      const owned = (fd: number, uid = 0, gid = 0) => ({ op: 'fchownat', dirfd: fd, path: '', uid, gid, flags: AT_EMPTY_PATH });
      expect(changes(sys)).toEqual([
        opened,
        setString(context, 'source', 'tmpfs'),
        setString(context, 'mode', '0750'),
        setString(context, 'size', '1m'),
        create(context),
        { op: 'fsmount', fd: context, flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_RELATIME },
        { op: 'openat', dirfd: root, path: 'a', flags: CREATE, mode: 0o600 },
        { op: 'copyFileRange', fdIn: fdOf(sys, '/r/x/a'), fdOut: made('a') },
        owned(made('a'), 1234, 1234),
        { op: 'fchmod', fd: made('a'), mode: 0o640 },
        { op: 'symlinkat', target: 'a', dirfd: root, linkPath: 'l' },
        owned(made('l')),
        { op: 'mknodat', dirfd: root, path: 'null', mode: S_IFCHR | 0o600, dev: makedev(1, 3) },
        owned(made('null')),
        { op: 'chmod', path: viaFd(sys, `${NEW}/null`), mode: 0o666 },
        { op: 'mkdirat', dirfd: root, path: 'sub', mode: 0o700 },
        { op: 'openat', dirfd: made('sub'), path: 'b', flags: CREATE, mode: 0o600 },
        { op: 'copyFileRange', fdIn: fdOf(sys, '/r/x/sub/b'), fdOut: made('sub/b') },
        owned(made('sub/b')),
        { op: 'fchmod', fd: made('sub/b'), mode: 0o4755 },
        // The directory's owner and mode once its content is copied.
        owned(made('sub')),
        { op: 'fchmod', fd: made('sub'), mode: 0o711 },
        { op: 'moveMount', fromDirfd: root, fromPath: '', toDirfd: fdOf(sys, '/r/x'), toPath: '', flags: BOTH_EMPTY },
      ]);
      // Nothing in the tmpfs is reached by a path below a descriptor.
      expect(sys.calls.filter((c) => Object.values(c).some((v) => typeof v === 'string' && parseFdPath(v)?.rest))).toEqual([]);
      const root0 = sys.newMountRoot('/r/x')!;
      expect(root0).toMatchObject({ kind: 'dir', perm: 0o750 });
      expect([...root0.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(root0.children!.get('a')).toMatchObject({ kind: 'file', content: 'alpha', perm: 0o640, uid: 1234, gid: 1234 });
      expect(root0.children!.get('l')).toMatchObject({ kind: 'symlink', target: 'a' });
      expect(root0.children!.get('null')).toMatchObject({ kind: 'char', rdev: makedev(1, 3), perm: 0o666 });
      expect(root0.children!.get('sub')).toMatchObject({ kind: 'dir', perm: 0o711 });
      expect(root0.children!.get('sub')!.children!.get('b')).toMatchObject({ kind: 'file', content: 'beta', perm: 0o4755 });
      // The lower directory is as it was.
      expect([...sys.node('/r/x')!.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(sys.openFds()).toEqual([]);
    });

    test("the mount's flags as attributes, the superblock's as flag parameters, read-only left to finalize, and an SELinux context= without its quotes", () => {
      const { sys, run } = setup({ mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' });
      sys.addSelinuxfs();
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

    test('propagation is set once the tmpfs is attached, with mount(2) through its descriptor, one call each, where it lasts below a shared mount; recursive attributes come last, on the target', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750);
      run({ ...copyUp, propagationFlags: [MS_SHARED, MS_PRIVATE | MS_REC], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } });
      const mount = fdOf(sys, NEW);
      expect(changes(sys).filter((c) => c.op !== 'fsconfig')).toEqual([
        opened,
        { op: 'fsmount', fd: fdOf(sys, CONTEXT), flags: FSMOUNT_CLOEXEC, attrFlags: MOUNT_ATTR_RELATIME },
        { op: 'moveMount', fromDirfd: mount, fromPath: '', toDirfd: fdOf(sys, '/r/x'), toPath: '', flags: BOTH_EMPTY },
        { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_SHARED, data: null },
        { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_PRIVATE | MS_REC, data: null },
        { op: 'mountSetattr', dirfd: fdOf(sys, '/r/x'), path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
      ]);
      expect(sys.pathOf(103)).toBe(NEW);
      expect(sys.openFds()).toEqual([]);
    });

    test('a propagation change the kernel refuses once the tmpfs is attached unmounts it through its descriptor and fails the mount naming the call; nothing stays open', () => {
      const { sys, run } = setup();
      sys.tmpfsShowsOwnTree = true;
      sys.addDir('/r/x', 0o750);
      sys.failOn('mount', 'EINVAL');
      expect(() => run({ ...copyUp, propagationFlags: [MS_PRIVATE] })).toThrow(
        // Attached, the tmpfs's descriptor is named by its place, as readlink(2) names it.
        `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: setting the propagation of the tmpfs on "/x" failed: mount "/r/x": EINVAL`,
      );
      const moved = sys.calls.findIndex((c) => c.op === 'moveMount');
      expect(sys.calls.slice(moved + 1)).toEqual([
        { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_PRIVATE, data: null },
        { op: 'umount2', target: '/proc/thread-self/fd/103', flags: MNT_DETACH },
        { op: 'close', fd: 103 },
        { op: 'close', fd: 101 },
        { op: 'close', fd: 100 },
      ]);
      expect(sys.pathOf(103)).toBe(NEW);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test.each(['ENOSYS', 'EPERM'])('fsopen answers %s (a kernel before 5.2, or a seccomp filter): the tmpfs is mounted on the target with mount(2) and filled there, the refusal logged', (errno) => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.tmpfsShowsOwnTree = true;
      sys.addDir('/r/x', 0o750);
      sys.failOn('fsopen', errno);
      run(copyUp);
      expect(changes(sys)).toEqual([opened, tmpfsMount(viaFd(sys, '/r/x'), 0n, 'mode=0750,size=1m')]);
      expect(log.debugs).toContainEqual(['tmpcopyup: mounted on the destination and copied there: the new mount API is refused', { error: `fsopen "tmpfs": ${errno}` }]);
      expect(sys.mounts.map((m) => [m.target, m.fstype])).toEqual([['/r/x', 'tmpfs']]);
      expect(sys.openFds()).toEqual([]);
    });

    test.each([
      ['fsmount refuses MOUNT_ATTR_NOSYMFOLLOW (a kernel before 5.14)', 'fsmount', 'EINVAL', { flags: MS_NOSYMFOLLOW }, 'fsmount: EINVAL'],
      ['fsconfig answers ENOSYS (a filter refusing it alone)', 'fsconfig', 'ENOSYS', {}, 'fsconfig "source=tmpfs": ENOSYS'],
      ['move_mount answers ENOSYS, after the copy', 'moveMount', 'ENOSYS', {}, 'move_mount "fsmount:[tmpfs]" -> "/r/x": ENOSYS'],
      ['fsconfig answers EPERM (a filter refusing it alone)', 'fsconfig', 'EPERM', {}, 'fsconfig "source=tmpfs": EPERM'],
      ['fsmount answers EPERM (a filter)', 'fsmount', 'EPERM', {}, 'fsmount: EPERM'],
      ['move_mount answers EPERM (a filter), after the copy', 'moveMount', 'EPERM', {}, 'move_mount "fsmount:[tmpfs]" -> "/r/x": EPERM'],
    ] as const)('%s: what was made is closed, and the tmpfs is mounted on the target', (_what, op, errno, over, error) => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.tmpfsShowsOwnTree = true;
      addLowerTree(sys);
      sys.failOn(op, errno);
      run({ ...copyUp, ...over });
      const refused = sys.calls.findIndex((c) => c.op === op);
      const after = sys.calls.slice(refused + 1);
      // Only closes between the refusal and the mount: every descriptor of the new API closed.
      expect(after.slice(0, after.findIndex((c) => c.op === 'mount')).map((c) => c.op)).toEqual(['close']);
      expect(log.debugs.map(([m, meta]) => [m, meta?.error])).toContainEqual(['tmpcopyup: mounted on the destination and copied there: the new mount API is refused', error]);
      expect(sys.callsOf('mount').filter((c) => c.fstype === 'tmpfs').map((c) => [c.target, c.data])).toEqual([[viaFd(sys, '/r/x'), expect.stringMatching(/^mode=0750/)]]);
      expect(sys.mounts.map((m) => [m.source, m.target])).toEqual([['tmpfs', '/r/x']]);
      // Anything the refused detached tmpfs got is gone with it: the tmpfs on the target holds the copy, once.
      expect([...sys.node('/r/x')!.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(sys.openFds()).toEqual([]);
    });

    test("fsconfig answers EINVAL to a value holding a comma (tmpfs's legacy context before Linux 5.4: an mpol= node list): staged, where mount(2) judges it; EINVAL to one without is the mount's error", () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x', 0o750);
      sys.failOn('fsconfig', 'EINVAL', { path: 'mpol=bind:0,2' });
      run({ ...copyUp, data: 'mpol=bind:0,2,size=1m' });
      expect(log.debugs.map(([m, meta]) => [m, meta?.error])).toContainEqual(['tmpcopyup: mounted on the destination and copied there: the new mount API is refused', 'fsconfig "mpol=bind:0,2": EINVAL']);
      expect(sys.callsOf('mount').find((c) => c.fstype === 'tmpfs')).toEqual(tmpfsMount(viaFd(sys, '/r/x'), 0n, 'mode=0750,mpol=bind:0,2,size=1m'));
      expect(sys.openFds()).toEqual([]);
      const other = setup();
      other.sys.addDir('/r/x', 0o750);
      other.sys.failOn('fsconfig', 'EINVAL', { path: 'size=1m' });
      expect(() => other.run({ ...copyUp, data: 'mpol=bind:0,2,size=1m' })).toThrow(/tmpcopyup: configuring the tmpfs failed: fsconfig "size=1m": EINVAL$/);
      expect(other.sys.callsOf('mount')).toEqual([]);
      // SELinux's options are its hook's, never the legacy context's: EINVAL to one is the mount's error.
      const selinux = setup();
      selinux.sys.addDir('/r/x', 0o750);
      selinux.sys.failOn('fsconfig', 'EINVAL', { path: 'context=a:b:c:s0:c1,c2' });
      expect(() => selinux.run({ ...copyUp, data: 'context="a:b:c:s0:c1,c2"' })).toThrow(/tmpcopyup: configuring the tmpfs failed: fsconfig "context=a:b:c:s0:c1,c2": EINVAL$/);
      expect(selinux.sys.callsOf('mount')).toEqual([]);
    });

    test('a flag the new API does not give as mount(2) does (mand): mounted on the target at once, no fsopen, the reason logged', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x', 0o750);
      run({ ...copyUp, flags: MS_MANDLOCK });
      expect(sys.callsOf('fsopen')).toEqual([]);
      expect(log.debugs).toContainEqual(['tmpcopyup: mounted on the destination and copied there: the new mount API does not make this mount as mount(2) does', { reason: 'mount flags 0x40' }]);
      expect(sys.callsOf('mount').find((c) => c.fstype === 'tmpfs')).toEqual(tmpfsMount(viaFd(sys, '/r/x'), MS_MANDLOCK, 'mode=0750,size=1m'));
    });

    test.each([
      ['fsopen', 'EIO', {}, undefined, 'opening a tmpfs context failed: fsopen "tmpfs": EIO'],
      ['fsconfig', 'EINVAL', {}, 'size=1m', 'configuring the tmpfs failed: fsconfig "size=1m": EINVAL'],
      ['fsconfig', 'ENOMEM', {}, 'FSCONFIG_CMD_CREATE', 'configuring the tmpfs failed: fsconfig "FSCONFIG_CMD_CREATE": ENOMEM'],
      ['fsmount', 'ENOMEM', {}, undefined, 'mounting the tmpfs failed: fsmount: ENOMEM'],
      ['fsmount', 'EINVAL', {}, undefined, 'mounting the tmpfs failed: fsmount: EINVAL'],
      ['copyFileRange', 'ENOSPC', {}, 'fsmount:[tmpfs]/a', 'copying "/x" into the tmpfs failed: copy_file_range "/r/x/a" -> "fsmount:[tmpfs]/a": ENOSPC'],
      ['mkdirat', 'ENOSPC', {}, 'fsmount:[tmpfs]/sub', 'copying "/x" into the tmpfs failed: mkdirat "fsmount:[tmpfs]/sub": ENOSPC'],
      ['fchmod', 'EPERM', {}, 'fsmount:[tmpfs]/sub/b', 'copying "/x" into the tmpfs failed: fchmod "fsmount:[tmpfs]/sub/b": EPERM'],
      ['chmod', 'EPERM', {}, 'fsmount:[tmpfs]/null', 'copying "/x" into the tmpfs failed: chmod "fsmount:[tmpfs]/null": EPERM'],
      ['moveMount', 'EINVAL', {}, undefined, 'moving the tmpfs onto "/x" failed: move_mount "fsmount:[tmpfs]" -> "/r/x": EINVAL'],
    ] as const)('a failing %s (%s) fails the mount in one line naming it, with no mount(2); nothing stays mounted, every descriptor is closed', (op, errno, over, path, inner) => {
      const { sys, run } = setup();
      addLowerTree(sys);
      sys.failOn(op, errno, path === undefined ? {} : { path });
      const thrown = thrownBy(() => run({ ...copyUp, ...over }));
      expect(thrown).toMatchObject({ name: 'PluginError', message: `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: ${inner}`, cause: { name: 'StepError', cause: { name: 'SyscallError', code: errno } } });
      expect((thrown as Error).message).not.toContain('\n');
      expect(sys.callsOf('mount')).toEqual([]);
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

  describe('tmpcopyup on the target itself, where fsopen(2) answers ENOSYS (a kernel before 5.2)', () => {
    const copyUp = { type: 'tmpfs', destination: '/x', data: 'size=1m', extensions: { tmpcopyup: true } };
    const ENTRY = O_PATH | O_NOFOLLOW | O_CLOEXEC;
    /** setup() on a kernel without the new mount API (every fsopen answers ENOSYS), whose tmpfs shows its own tree. */
    const setup = (over: Parameters<typeof setupWith>[0] = {}) => {
      const made = setupWith(over);
      made.sys.failOn('fsopen', 'ENOSYS', { times: Infinity });
      made.sys.tmpfsShowsOwnTree = true;
      return made;
    };
    /** The changes after each tmpcopyup's refused fsopen (its own test checks where it comes). */
    const changes = (sys: FakeSyscalls) => changesOf(sys).filter((c) => c.op !== 'fsopen');
    /** The descriptor of the tmpfs opened again after the mount (the second fstatMount after it checks it). */
    const tmpfsFd = (sys: FakeSyscalls) => {
      const after = sys.calls.slice(sys.calls.findIndex((c) => c.op === 'mount' && c.fstype === 'tmpfs'));
      return (after.filter((c) => c.op === 'fstatMount')[1] as { fd: number }).fd;
    };
    /** The unmount of the half-copied tmpfs, through its descriptor. */
    const unmounted = (sys: FakeSyscalls) => ({ op: 'umount2', target: `/proc/thread-self/fd/${tmpfsFd(sys)}`, flags: MNT_DETACH });
    /** The calls of the copy: from the first listing to the close of the tmpfs's descriptor. */
    function copyCalls(sys: FakeSyscalls) {
      const start = sys.calls.findIndex((c) => c.op === 'readdir');
      const root = tmpfsFd(sys);
      const end = sys.calls.findIndex((c, i) => i > start && c.op === 'close' && c.fd === root);
      return sys.calls.slice(start, end === -1 ? undefined : end);
    }

    test("the exact calls: the tmpfs mounted through the target's descriptor with its mode, opened again and checked, the tree copied from the target's descriptor (the directory under the tmpfs) into the tmpfs's, through descriptors only; nothing made outside the rootfs", () => {
      const { sys, run } = setup();
      addLowerTree(sys);
      const lower = sys.node('/r/x')!;
      run(copyUp);
      const PATH = O_PATH | O_CLOEXEC;
      const owned = (fd: number, uid = 0, gid = 0) => ({ op: 'fchownat', dirfd: fd, path: '', uid, gid, flags: AT_EMPTY_PATH });
      expect(sys.calls).toEqual([
        { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
        { op: 'openat2', dirfd: 100, path: 'x', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
        { op: 'fstat', fd: 101 },
        { op: 'fsopen', fstype: 'tmpfs', flags: FSOPEN_CLOEXEC },
        tmpfsMount('/proc/thread-self/fd/101', 0n, 'mode=0750,size=1m'),
        ...reopenedMountCalls('x', { root: 100, target: 101, parent: 102, reopened: 103 }),
        // The target's descriptor still shows the directory under the tmpfs.
        { op: 'readdir', path: '/proc/thread-self/fd/101' },
        { op: 'openat', dirfd: 101, path: 'a', flags: ENTRY, mode: 0 },
        { op: 'fstat', fd: 104 },
        { op: 'open', path: '/proc/thread-self/fd/104', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
        { op: 'openat', dirfd: 103, path: 'a', flags: CREATE, mode: 0o600 },
        { op: 'copyFileRange', fdIn: 105, fdOut: 106 },
        owned(106, 1234, 1234),
        { op: 'fchmod', fd: 106, mode: 0o640 },
        { op: 'listxattr', path: '/proc/thread-self/fd/104' },
        { op: 'close', fd: 106 },
        { op: 'close', fd: 105 },
        { op: 'close', fd: 104 },
        { op: 'openat', dirfd: 101, path: 'l', flags: ENTRY, mode: 0 },
        { op: 'fstat', fd: 107 },
        { op: 'readlinkat', dirfd: 107, path: '' },
        { op: 'symlinkat', target: 'a', dirfd: 103, linkPath: 'l' },
        { op: 'openat', dirfd: 103, path: 'l', flags: ENTRY, mode: 0 },
        { op: 'fstat', fd: 108 },
        owned(108),
        { op: 'close', fd: 108 },
        { op: 'close', fd: 107 },
        { op: 'openat', dirfd: 101, path: 'null', flags: ENTRY, mode: 0 },
        { op: 'fstat', fd: 109 },
        { op: 'mknodat', dirfd: 103, path: 'null', mode: S_IFCHR | 0o600, dev: makedev(1, 3) },
        { op: 'openat', dirfd: 103, path: 'null', flags: ENTRY, mode: 0 },
        { op: 'fstat', fd: 110 },
        owned(110),
        // An O_PATH descriptor's mode through its magic link, which leads to the node itself.
        { op: 'chmod', path: '/proc/thread-self/fd/110', mode: 0o666 },
        { op: 'close', fd: 110 },
        { op: 'close', fd: 109 },
        { op: 'openat', dirfd: 101, path: 'sub', flags: ENTRY, mode: 0 },
        { op: 'fstat', fd: 111 },
        { op: 'mkdirat', dirfd: 103, path: 'sub', mode: 0o700 },
        { op: 'openat', dirfd: 103, path: 'sub', flags: MADE_DIR, mode: 0 },
        { op: 'readdir', path: '/proc/thread-self/fd/111' },
        { op: 'openat', dirfd: 111, path: 'b', flags: ENTRY, mode: 0 },
        { op: 'fstat', fd: 113 },
        { op: 'open', path: '/proc/thread-self/fd/113', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
        { op: 'openat', dirfd: 112, path: 'b', flags: CREATE, mode: 0o600 },
        { op: 'copyFileRange', fdIn: 114, fdOut: 115 },
        owned(115),
        { op: 'fchmod', fd: 115, mode: 0o4755 },
        { op: 'listxattr', path: '/proc/thread-self/fd/113' },
        { op: 'close', fd: 115 },
        { op: 'close', fd: 114 },
        { op: 'close', fd: 113 },
        // The directory's owner and mode once its content is copied.
        owned(112),
        { op: 'fchmod', fd: 112, mode: 0o711 },
        { op: 'listxattr', path: '/proc/thread-self/fd/111' },
        { op: 'close', fd: 112 },
        { op: 'close', fd: 111 },
        { op: 'close', fd: 103 },
        { op: 'close', fd: 101 },
        { op: 'close', fd: 100 },
      ]);
      expect([101, 103, 104, 105, 106, 112].map((fd) => sys.pathOf(fd))).toEqual(['/r/x', '/r/x', '/r/x/a', '/r/x/a', '/r/x/a', '/r/x/sub']);
      expect(sys.mounts).toEqual([{ source: 'tmpfs', target: '/r/x', fstype: 'tmpfs', flags: 0n, data: 'mode=0750,size=1m' }]);
      // The destination shows the tmpfs, filled; the directory under it is as it was.
      const copy = sys.node('/r/x')!;
      expect(copy).not.toBe(lower);
      expect(copy).toMatchObject({ kind: 'dir', perm: 0o750 });
      expect([...copy.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(sys.node('/r/x/a')).toMatchObject({ kind: 'file', content: 'alpha', perm: 0o640, uid: 1234, gid: 1234 });
      expect(sys.node('/r/x/l')).toMatchObject({ kind: 'symlink', target: 'a' });
      expect(sys.node('/r/x/null')).toMatchObject({ kind: 'char', rdev: makedev(1, 3), perm: 0o666 });
      expect(sys.node('/r/x/sub')).toMatchObject({ kind: 'dir', perm: 0o711 });
      expect(sys.node('/r/x/sub/b')).toMatchObject({ kind: 'file', content: 'beta', perm: 0o4755 });
      expect([...lower.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(lower.children!.get('sub')!.children!.get('b')).not.toBe(sys.node('/r/x/sub/b'));
      expect(sys.openFds()).toEqual([]);
    });

    test('propagation is set on the tmpfs opened again, one call each, before the copy; recursive attributes come last, on the tmpfs opened again once more', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750).addFile('/r/x/f', 'f', 0o644);
      run({ ...copyUp, propagationFlags: [MS_SHARED, MS_PRIVATE | MS_REC], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } });
      expect(changes(sys)).toEqual([
        tmpfsMount(viaFd(sys, '/r/x'), 0n, 'mode=0750,size=1m'),
        { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_SHARED, data: null },
        { op: 'mount', source: null, target: '/proc/thread-self/fd/103', fstype: null, flags: MS_PRIVATE | MS_REC, data: null },
        { op: 'openat', dirfd: 103, path: 'f', flags: CREATE, mode: 0o600 },
        { op: 'copyFileRange', fdIn: 105, fdOut: 106 },
        { op: 'fchownat', dirfd: 106, path: '', uid: 0, gid: 0, flags: AT_EMPTY_PATH },
        { op: 'fchmod', fd: 106, mode: 0o644 },
        { op: 'mountSetattr', dirfd: 108, path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
      ]);
      expect([sys.pathOf(103), sys.pathOf(108)]).toEqual(['/r/x', '/r/x']);
      expect(sys.openFds()).toEqual([]);
    });

    test('read-only: mounted read-write and filled; finalize makes it read-only', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o755).addFile('/r/x/f', 'f', 0o644);
      run({ ...copyUp, flags: MS_RDONLY });
      expect(changes(sys).slice(0, 2)).toEqual([tmpfsMount(viaFd(sys, '/r/x'), 0n, 'mode=0755,size=1m'), { op: 'openat', dirfd: 103, path: 'f', flags: CREATE, mode: 0o600 }]);
      expect(sys.node('/r/x/f')).toMatchObject({ kind: 'file', content: 'f' });
    });

    test('the mount failing: nothing to undo, the error names the step and the mount', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750);
      sys.failOn('mount', 'EINVAL');
      expect(() => run(copyUp)).toThrow(/^mounts: plugin tmpfs mounts\[0\] "\/x": tmpcopyup: mounting the tmpfs on "\/x" failed: mount "tmpfs" -> "\/r\/x": EINVAL/);
      expect(changes(sys)).toEqual([tmpfsMount(viaFd(sys, '/r/x'), 0n, 'mode=0750,size=1m')]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test("the tmpfs not found at the target's place after the mount (a rename raced it): refused before anything is copied; the tmpfs, empty, has no descriptor to be unmounted by", () => {
      const { sys, run } = setup();
      addLowerTree(sys);
      const real = sys.fstatMount.bind(sys);
      jest.spyOn(sys, 'fstatMount').mockImplementation((fd) => ({ ...real(fd), mntId: real(101).mntId }));
      expect(() => run(copyUp)).toThrow(/^mounts: plugin tmpfs mounts\[0\] "\/x": mount destination "\/x" was replaced while it was mounted on: "\/x" is not the root of the new mount$/);
      expect(sys.callsOf('readdir')).toEqual([]);
      expect(sys.callsOf('umount2')).toEqual([]);
      expect(sys.node('/r/x')!.children!.size).toBe(0);
      expect(sys.openFds()).toEqual([]);
    });

    test.each([
      ['copyFileRange', '/r/x/a', {}, 'copy_file_range "/r/x/a" -> "/x/a": ENOSPC'],
      ['openat', '/r/x/a', { nth: 2 }, 'openat "/x/a": ENOSPC'],
      ['fchownat', '/r/x/a', {}, 'fchownat "/x/a": ENOSPC'],
      ['fchmod', '/r/x/a', {}, 'fchmod "/x/a": ENOSPC'],
      ['symlinkat', '/r/x/l', {}, 'symlinkat "a" -> "/x/l": ENOSPC'],
      ['mknodat', '/r/x/null', {}, 'mknodat "/x/null": ENOSPC'],
      ['chmod', '/r/x/null', {}, 'chmod "/x/null": ENOSPC'],
      ['mkdirat', '/r/x/sub', {}, 'mkdirat "/x/sub": ENOSPC'],
      ['copyFileRange', '/r/x/sub/b', {}, 'copy_file_range "/r/x/sub/b" -> "/x/sub/b": ENOSPC'],
      ['fchmod', '/r/x/sub', {}, 'fchmod "/x/sub": ENOSPC'],
    ] as const)('a failing copy step (%s of %s) unmounts the half-copied tmpfs through its descriptor, names the copy in one line; the directory under it shows again', (op, path, over, inner) => {
      const { sys, run } = setup();
      addLowerTree(sys);
      const lower = sys.node('/r/x')!;
      sys.failOn(op, 'ENOSPC', { path, ...over });
      const thrown = thrownBy(() => run(copyUp));
      expect(thrown).toMatchObject(copyFailed(inner, op, 'ENOSPC'));
      expect((thrown as Error).message).not.toContain('\n');
      expect(changes(sys).slice(-2)).toEqual([expect.objectContaining({ op }), unmounted(sys)]);
      expect(sys.mounts).toEqual([]);
      expect(sys.node('/r/x')).toBe(lower);
      expect([...lower.children!.keys()]).toEqual(['a', 'l', 'null', 'sub']);
      expect(sys.openFds()).toEqual([]);
    });

    test('propagation failing unmounts the tmpfs before anything is copied', () => {
      const { sys, run } = setup();
      addLowerTree(sys);
      sys.failOn('mount', 'EINVAL', { nth: 2 });
      expect(() => run({ ...copyUp, propagationFlags: [MS_SHARED] })).toThrow(/tmpcopyup: setting the propagation of the tmpfs on "\/x" failed: mount "\/r\/x": EINVAL/);
      expect(sys.callsOf('readdir')).toEqual([]);
      expect(changes(sys).slice(-1)).toEqual([unmounted(sys)]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test('an unmount that fails is logged, and the copy\'s error is what fails the run', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      addLowerTree(sys);
      sys.failOn('copyFileRange', 'EIO').failOn('umount2', 'EBUSY');
      expect(() => run(copyUp)).toThrow(`tmpcopyup: copying "/x" into the tmpfs failed: copy_file_range "/r/x/a" -> "/x/a": EIO`);
      expect(log.warnings).toEqual(['tmpcopyup: unmounting the half-copied tmpfs failed']);
      expect(sys.openFds()).toEqual([]);
    });

    describe('what another user may do to the tmpfs while it is filled (a peer of a shared mount) sends no write outside it', () => {
      /** A fake where another process acts right after the tmpfs is mounted on the target, or right after the copy makes `made`. */
      class PlantingFake extends FakeSyscalls {
        constructor(private readonly plant: { after: 'mount' | 'symlinkat' | 'mknodat'; act: (sys: FakeSyscalls) => void }) {
          super();
        }

        override mount(source: string | null, target: string, fstype: string | null, flags: bigint, data: string | null): void {
          super.mount(source, target, fstype, flags, data);
          if (this.plant.after === 'mount' && fstype === 'tmpfs') this.plant.act(this);
        }

        override symlinkat(target: string, dirfd: number, linkPath: string): void {
          super.symlinkat(target, dirfd, linkPath);
          if (this.plant.after === 'symlinkat') this.plant.act(this);
        }

        override mknodat(dirfd: number, path: string, mode: number, dev: bigint): void {
          super.mknodat(dirfd, path, mode, dev);
          if (this.plant.after === 'mknodat') this.plant.act(this);
        }
      }

      const hostUntouched = (sys: FakeSyscalls) => {
        expect(sys.node('/etc/shadow')).toMatchObject({ kind: 'file', content: 'SECRET', perm: 0o600, uid: 0 });
        expect([...sys.node('/hostdir')!.children!.keys()]).toEqual(['key']);
        expect(sys.node('/hostdir')).toMatchObject({ perm: 0o755, uid: 0 });
      };

      test.each([
        ['a file', 'a', '/etc/shadow', 'openat "/x/a": EEXIST', 'openat'],
        ['a directory', 'sub', '/hostdir', 'mkdirat "/x/sub": EEXIST', 'mkdirat'],
        ['a symlink', 'l', '/etc', 'symlinkat "/etc/shadow" -> "/x/l": EEXIST', 'symlinkat'],
        ['a node', 'p', '/etc/shadow', 'mknodat "/x/p": EEXIST', 'mknodat'],
      ] as const)("a symlink planted in the tmpfs at the name of %s still to be copied: the copy fails there naming it (EEXIST), nothing on the host is written, the tmpfs is unmounted", (_what, name, to, inner, op) => {
        const sys = new PlantingFake({ after: 'mount', act: (s) => s.addSymlink(`/r/x/${name}`, to) });
        const { run } = setup({ sys });
        addSmallTree(sys);
        expect(thrownBy(() => run(copyUp))).toMatchObject(copyFailed(inner, op, 'EEXIST'));
        hostUntouched(sys);
        expect(filesReached(sys).filter((p) => p.startsWith('/etc') || p.startsWith('/hostdir'))).toEqual([]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each([
        ['symlinkat', 'l', 'symlink'],
        ['mknodat', 'p', 'fifo'],
      ] as const)('a %s just made (%s) swapped for a set-uid file of another user: refused before it is given an owner or mode, the tmpfs unmounted', (after, name, kind) => {
        const sys = new PlantingFake({
          after,
          act: (s) => {
            s.node('/r/x')!.children!.delete(name);
            s.addFile(`/r/x/${name}`, '#!/bin/sh', 0o4755);
            Object.assign(s.node(`/r/x/${name}`)!, { uid: 1000, gid: 1000 });
          },
        });
        const { run } = setup({ sys });
        addSmallTree(sys);
        Object.assign(sys.node('/r/x/p')!, { perm: 0o4755 });
        expect(() => run(copyUp)).toThrow(`tmpcopyup: copying "/x" into the tmpfs failed: "/x/${name}" was replaced after it was made: it is a file, not the ${kind} made`);
        const swapped = sys.calls.findIndex((c) => c.op === after);
        expect(sys.calls.slice(swapped).filter((c) => c.op === 'fchownat' || c.op === 'chmod' || c.op === 'fchmod')).toEqual([]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });
    });

    describe('the copy goes through descriptors', () => {
      test('each entry is opened O_PATH|O_NOFOLLOW from its directory, fstat-ed and copied from its descriptor, then closed; each copy made in its directory\'s descriptor and set up through its own; owners, modes and extended attributes (of files and directories) kept', () => {
        const { sys, run } = setup();
        addSmallTree(sys);
        run(copyUp);
        const root = tmpfsFd(sys);
        const opened = (dirfd: number, name: string) => ({ op: 'openat', dirfd, path: name, flags: ENTRY, mode: 0 });
        const owned = (fd: number, uid = 0, gid = 0) => ({ op: 'fchownat', dirfd: fd, path: '', uid, gid, flags: AT_EMPTY_PATH });
        expect(copyCalls(sys)).toEqual([
          { op: 'readdir', path: '/proc/thread-self/fd/101' },
          opened(101, 'a'),
          { op: 'fstat', fd: 104 },
          { op: 'open', path: '/proc/thread-self/fd/104', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
          { op: 'openat', dirfd: root, path: 'a', flags: CREATE, mode: 0o600 },
          { op: 'copyFileRange', fdIn: 105, fdOut: 106 },
          owned(106, 1234, 1234),
          { op: 'fchmod', fd: 106, mode: 0o640 },
          { op: 'listxattr', path: '/proc/thread-self/fd/104' },
          { op: 'close', fd: 106 },
          { op: 'close', fd: 105 },
          { op: 'close', fd: 104 },
          opened(101, 'l'),
          { op: 'fstat', fd: 107 },
          { op: 'readlinkat', dirfd: 107, path: '' },
          { op: 'symlinkat', target: '/etc/shadow', dirfd: root, linkPath: 'l' },
          opened(root, 'l'),
          { op: 'fstat', fd: 108 },
          owned(108),
          { op: 'close', fd: 108 },
          { op: 'close', fd: 107 },
          opened(101, 'p'),
          { op: 'fstat', fd: 109 },
          { op: 'mknodat', dirfd: root, path: 'p', mode: S_IFIFO | 0o600, dev: 0n },
          opened(root, 'p'),
          { op: 'fstat', fd: 110 },
          owned(110, 5, 6),
          { op: 'chmod', path: '/proc/thread-self/fd/110', mode: 0o620 },
          { op: 'close', fd: 110 },
          { op: 'close', fd: 109 },
          opened(101, 'sub'),
          { op: 'fstat', fd: 111 },
          { op: 'mkdirat', dirfd: root, path: 'sub', mode: 0o700 },
          { op: 'openat', dirfd: root, path: 'sub', flags: MADE_DIR, mode: 0 },
          { op: 'readdir', path: '/proc/thread-self/fd/111' },
          opened(111, 'b'),
          { op: 'fstat', fd: 113 },
          { op: 'open', path: '/proc/thread-self/fd/113', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
          { op: 'openat', dirfd: 112, path: 'b', flags: CREATE, mode: 0o600 },
          { op: 'copyFileRange', fdIn: 114, fdOut: 115 },
          owned(115),
          { op: 'fchmod', fd: 115, mode: 0o4755 },
          { op: 'listxattr', path: '/proc/thread-self/fd/113' },
          { op: 'close', fd: 115 },
          { op: 'close', fd: 114 },
          { op: 'close', fd: 113 },
          owned(112, 7, 7),
          { op: 'fchmod', fd: 112, mode: 0o711 },
          { op: 'listxattr', path: '/proc/thread-self/fd/111' },
          { op: 'close', fd: 112 },
          { op: 'close', fd: 111 },
        ]);
        expect(sys.node('/r/x/a')).toMatchObject({ kind: 'file', content: 'alpha', perm: 0o640, uid: 1234, gid: 1234 });
        expect(sys.node('/r/x/l')).toMatchObject({ kind: 'symlink', target: '/etc/shadow' });
        expect(sys.node('/r/x/p')).toMatchObject({ kind: 'fifo', perm: 0o620, uid: 5, gid: 6 });
        expect(sys.node('/r/x/sub')).toMatchObject({ kind: 'dir', perm: 0o711, uid: 7, gid: 7 });
        expect(sys.node('/r/x/sub/b')).toMatchObject({ kind: 'file', content: 'beta', perm: 0o4755 });
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

      test("extended attributes of a file and a directory are read through the entry's descriptor and set through the copy's after its owner and mode (chown(2) removes security.capability), a directory's after its content (a default ACL is inherited); a symlink's and a fifo's are not read", () => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        run(copyUp);
        const calls = copyCalls(sys).filter((c) => ['listxattr', 'getxattr', 'fsetxattr', 'fchmod', 'fchownat', 'close'].includes(c.op));
        expect(calls).toEqual([
          { op: 'fchownat', dirfd: 106, path: '', uid: 1234, gid: 1234, flags: AT_EMPTY_PATH },
          { op: 'fchmod', fd: 106, mode: 0o640 },
          { op: 'listxattr', path: '/proc/thread-self/fd/104' },
          { op: 'getxattr', path: '/proc/thread-self/fd/104', name: 'user.k' },
          { op: 'fsetxattr', fd: 106, name: 'user.k', value: Buffer.from('v1') },
          { op: 'getxattr', path: '/proc/thread-self/fd/104', name: 'security.capability' },
          { op: 'fsetxattr', fd: 106, name: 'security.capability', value: CAPS },
          { op: 'close', fd: 106 },
          { op: 'close', fd: 105 },
          { op: 'close', fd: 104 },
          { op: 'fchownat', dirfd: 108, path: '', uid: 0, gid: 0, flags: AT_EMPTY_PATH },
          { op: 'close', fd: 108 },
          { op: 'close', fd: 107 },
          { op: 'fchownat', dirfd: 110, path: '', uid: 5, gid: 6, flags: AT_EMPTY_PATH },
          { op: 'close', fd: 110 },
          { op: 'close', fd: 109 },
          { op: 'fchownat', dirfd: 115, path: '', uid: 0, gid: 0, flags: AT_EMPTY_PATH },
          { op: 'fchmod', fd: 115, mode: 0o4755 },
          { op: 'listxattr', path: '/proc/thread-self/fd/113' },
          { op: 'close', fd: 115 },
          { op: 'close', fd: 114 },
          { op: 'close', fd: 113 },
          // The directory's after its content (a default ACL would be inherited).
          { op: 'fchownat', dirfd: 112, path: '', uid: 7, gid: 7, flags: AT_EMPTY_PATH },
          { op: 'fchmod', fd: 112, mode: 0o711 },
          { op: 'listxattr', path: '/proc/thread-self/fd/111' },
          { op: 'getxattr', path: '/proc/thread-self/fd/111', name: 'user.d' },
          { op: 'fsetxattr', fd: 112, name: 'user.d', value: Buffer.from('dv') },
          { op: 'close', fd: 112 },
          { op: 'close', fd: 111 },
        ]);
        expect([104, 106, 111, 112].map((fd) => sys.pathOf(fd))).toEqual(['/r/x/a', '/r/x/a', '/r/x/sub', '/r/x/sub']);
        expect([...sys.node('/r/x/a')!.xattrs]).toEqual([['user.k', Buffer.from('v1')], ['security.capability', CAPS]]);
        expect([...sys.node('/r/x/sub')!.xattrs]).toEqual([['user.d', Buffer.from('dv')]]);
        expect([...sys.node('/r/x/l')!.xattrs]).toEqual([]);
        expect([...sys.node('/r/x/p')!.xattrs]).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each(['EOPNOTSUPP', 'EINVAL', 'EPERM', 'EACCES'] as const)('an attribute the tmpfs refuses (fsetxattr %s) is left out, as runc copies none: the others are still set', (errno) => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        sys.failOn('fsetxattr', errno, { path: '/r/x/a' });
        run(copyUp);
        expect(sys.callsOf('fsetxattr').map((c) => [sys.pathOf(c.fd), c.name])).toEqual([
          ['/r/x/a', 'user.k'],
          ['/r/x/a', 'security.capability'],
          ['/r/x/sub', 'user.d'],
        ]);
        expect([...sys.node('/r/x/a')!.xattrs]).toEqual([['security.capability', CAPS]]);
        expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
        expect(sys.openFds()).toEqual([]);
      });

      /** An access ACL: user::rwx user:1234:rwx group::r-x mask::rwx other::---. */
      const ACCESS_ACL = Uint8Array.from(USER_1234_ACL);

      /** addTreeWithXattrs, the file's mode 2770 (group class bits: the mask rwx) and its access ACL after its other attributes. */
      function addTreeWithAcl(sys: FakeSyscalls, acl: Uint8Array = ACCESS_ACL): void {
        addTreeWithXattrs(sys);
        sys.node('/r/x/a')!.perm = 0o2770;
        sys.node('/r/x/a')!.xattrs.set('system.posix_acl_access', acl);
      }

      test.each(['EOPNOTSUPP', 'EINVAL', 'EPERM', 'EACCES'] as const)("an access ACL the tmpfs refuses (fsetxattr %s) leaves the copy's group bits those of ACL_GROUP_OBJ, not the mask the mode holds (acl(5)): fchmod after the refusal, the other bits kept", (errno) => {
        const { sys, run } = setup();
        addTreeWithAcl(sys);
        sys.failOn('fsetxattr', errno, { path: '/r/x/a', nth: 3 });
        run(copyUp);
        const calls = copyCalls(sys);
        const start = calls.findIndex((c) => c.op === 'copyFileRange');
        expect(calls.slice(start, calls.findIndex((c) => c.op === 'close'))).toEqual([
          { op: 'copyFileRange', fdIn: 105, fdOut: 106 },
          { op: 'fchownat', dirfd: 106, path: '', uid: 1234, gid: 1234, flags: AT_EMPTY_PATH },
          { op: 'fchmod', fd: 106, mode: 0o2770 },
          { op: 'listxattr', path: '/proc/thread-self/fd/104' },
          { op: 'getxattr', path: '/proc/thread-self/fd/104', name: 'user.k' },
          { op: 'fsetxattr', fd: 106, name: 'user.k', value: Buffer.from('v1') },
          { op: 'getxattr', path: '/proc/thread-self/fd/104', name: 'security.capability' },
          { op: 'fsetxattr', fd: 106, name: 'security.capability', value: CAPS },
          { op: 'getxattr', path: '/proc/thread-self/fd/104', name: 'system.posix_acl_access' },
          { op: 'fsetxattr', fd: 106, name: 'system.posix_acl_access', value: ACCESS_ACL },
          { op: 'fchmod', fd: 106, mode: 0o2750 },
        ]);
        expect(sys.node('/r/x/a')).toMatchObject({ perm: 0o2750, uid: 1234, gid: 1234 });
        expect([...sys.node('/r/x/a')!.xattrs]).toEqual([['user.k', Buffer.from('v1')], ['security.capability', CAPS]]);
        expect(sys.openFds()).toEqual([]);
      });

      test('an access ACL the tmpfs takes, or another attribute it refuses, changes no mode: no fchmod after the attributes', () => {
        const taken = setup();
        addTreeWithAcl(taken.sys);
        taken.run(copyUp);
        const other = setup();
        addTreeWithAcl(other.sys);
        other.sys.failOn('fsetxattr', 'EINVAL', { path: '/r/x/a', nth: 2 });
        other.run(copyUp);
        for (const { sys } of [taken, other]) {
          expect(sys.callsOf('fchmod').filter((c) => sys.pathOf(c.fd) === '/r/x/a')).toEqual([{ op: 'fchmod', fd: 106, mode: 0o2770 }]);
          expect(sys.node('/r/x/a')).toMatchObject({ perm: 0o2770 });
        }
        expect([...taken.sys.node('/r/x/a')!.xattrs].map(([n]) => n)).toEqual(['user.k', 'security.capability', 'system.posix_acl_access']);
      });

      test("a refused access ACL that is no ACL the kernel takes (version 1) leaves the copy no group bits: its mode's may be a mask wider than the owning group's", () => {
        const { sys, run } = setup();
        const bad = Uint8Array.from(ACCESS_ACL);
        bad[0] = 1;
        addTreeWithAcl(sys, bad);
        sys.failOn('fsetxattr', 'EINVAL', { path: '/r/x/a', nth: 3 });
        run(copyUp);
        expect(sys.callsOf('fchmod').filter((c) => sys.pathOf(c.fd) === '/r/x/a').map((c) => c.mode)).toEqual([0o2770, 0o2700]);
        expect(sys.node('/r/x/a')).toMatchObject({ perm: 0o2700 });
      });

      test('the fchmod after a refused access ACL failing fails the copy in one line naming the copy, the tmpfs unmounted', () => {
        const { sys, run } = setup();
        addTreeWithAcl(sys);
        sys.failOn('fsetxattr', 'EINVAL', { path: '/r/x/a', nth: 3 });
        sys.failOn('fchmod', 'EIO', { path: '/r/x/a', nth: 2 });
        const thrown = thrownBy(() => run(copyUp));
        expect(thrown).toMatchObject(copyFailed('fchmod "/x/a": EIO', 'fchmod', 'EIO'));
        expect((thrown as Error).message).not.toContain('\n');
        expect(changes(sys).slice(-1)).toEqual([unmounted(sys)]);
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
        expect(sys.callsOf('fsetxattr').map((c) => [sys.pathOf(c.fd), c.name])).toEqual([
          ['/r/x/a', 'security.capability'],
          ['/r/x/sub', 'user.d'],
        ]);
        expect([...sys.node('/r/x/a')!.xattrs]).toEqual([['security.capability', CAPS]]);
        expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
        expect(sys.openFds()).toEqual([]);
      });

      test('a source filesystem without extended attributes (listxattr EOPNOTSUPP) lists none: the copy goes on', () => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        sys.failOn('listxattr', 'EOPNOTSUPP', { path: '/r/x/a' });
        run(copyUp);
        expect(sys.callsOf('getxattr').map((c) => [sys.pathOf(parseFdPath(c.path)!.fd), c.name])).toEqual([['/r/x/sub', 'user.d']]);
        expect([...sys.node('/r/x/a')!.xattrs]).toEqual([]);
        expect(sys.mounts.map((m) => m.target)).toEqual(['/r/x']);
      });

      test.each([
        ['listxattr', '/r/x/a', 'EACCES', 'listxattr "/x/a": EACCES'],
        ['getxattr', '/r/x/sub', 'EIO', 'getxattr "/x/sub": EIO'],
        ['fsetxattr', '/r/x/a', 'ENOSPC', 'fsetxattr "/x/a": ENOSPC'],
        ['fsetxattr', '/r/x/sub', 'EIO', 'fsetxattr "/x/sub": EIO'],
      ] as const)('any other failing %s of %s fails the copy in one line naming the entry, the tmpfs unmounted', (op, path, errno, inner) => {
        const { sys, run } = setup();
        addTreeWithXattrs(sys);
        sys.failOn(op, errno, { path });
        const thrown = thrownBy(() => run(copyUp));
        expect(thrown).toMatchObject(copyFailed(inner, op, errno));
        expect((thrown as Error).message).not.toContain('\n');
        expect(changes(sys).slice(-1)).toEqual([unmounted(sys)]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      /** Replaces the entry `name` of the directory node `dir` (under the tmpfs, which paths no longer reach) with a symlink to `target`. */
      function swapUnder(s: FakeSyscalls, dir: FakeNode, name: string, target: string): void {
        s.addSymlink(`/swap/${name}`, target);
        dir.children!.set(name, s.node(`/swap/${name}`)!);
      }

      test('a file and a directory swapped for symlinks to host files after the listing are copied as those links: nothing on the host is read', () => {
        let lower: FakeNode | undefined;
        const sys = new RacingFake({
          after: 'readdir',
          path: '/r/x',
          race: (s) => {
            swapUnder(s, lower!, 'a', '/etc/shadow');
            swapUnder(s, lower!, 'sub', '/hostdir');
          },
        });
        const { run } = setup({ sys });
        addSmallTree(sys);
        lower = sys.node('/r/x')!;
        run(copyUp);
        expect(lower.children!.get('a')).toMatchObject({ kind: 'symlink', target: '/etc/shadow' });
        expect(sys.node('/r/x/a')).toMatchObject({ kind: 'symlink', target: '/etc/shadow' });
        expect(sys.node('/r/x/sub')).toMatchObject({ kind: 'symlink', target: '/hostdir' });
        const copied = [...sys.node('/r/x')!.children!].map(([name, n]) => [name, n.kind, n.content]);
        expect(copied).toEqual([
          ['a', 'symlink', ''],
          ['l', 'symlink', ''],
          ['p', 'fifo', ''],
          ['sub', 'symlink', ''],
        ]);
        expect(filesReached(sys).filter((p) => p.startsWith('/etc') || p.startsWith('/hostdir'))).toEqual([]);
        expect(sys.callsOf('copyFileRange')).toEqual([]);
        expect(sys.callsOf('readdir')).toEqual([{ op: 'readdir', path: viaFd(sys, '/r/x') }]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each([
        ['a file', 'a', '/etc/shadow'],
        ['a directory', 'sub', '/hostdir'],
      ] as const)('%s swapped for a symlink once examined is copied from its descriptor: what was examined, never the host file', (_what, name, target) => {
        let lower: FakeNode | undefined;
        const sys = new RacingFake({ after: 'examined', path: `/r/x/${name}`, race: (s) => swapUnder(s, lower!, name, target) });
        const { run } = setup({ sys });
        addSmallTree(sys);
        lower = sys.node('/r/x')!;
        run(copyUp);
        expect(lower.children!.get(name)?.kind).toBe('symlink');
        expect(sys.node('/r/x/a')).toMatchObject({ kind: 'file', content: 'alpha' });
        expect(sys.node('/r/x/sub')).toMatchObject({ kind: 'dir', perm: 0o711 });
        expect([...sys.node('/r/x/sub')!.children!.keys()]).toEqual(['b']);
        expect(sys.node('/r/x/sub/b')).toMatchObject({ kind: 'file', content: 'beta' });
        expect(filesReached(sys).filter((p) => p.startsWith('/etc') || p.startsWith('/hostdir'))).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test('an entry gone between the listing and its open fails the copy naming it; what was opened is closed, the tmpfs unmounted', () => {
        let lower: FakeNode | undefined;
        const sys = new RacingFake({ after: 'readdir', path: '/r/x/sub', race: () => lower!.children!.get('sub')!.children!.delete('b') });
        const { run } = setup({ sys });
        addSmallTree(sys);
        lower = sys.node('/r/x')!;
        expect(() => run(copyUp)).toThrow(`mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: copying "/x" into the tmpfs failed: openat "/x/sub/b": ENOENT`);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      test.each([
        ['openat', '/r/x/sub/b', 'ENOENT', 'openat "/x/sub/b": ENOENT'],
        ['openat', '/r/x/a', 'EMFILE', 'openat "/x/a": EMFILE'],
        ['open', '/r/x/a', 'EACCES', 'open "/x/a": EACCES'],
        ['fstat', '/r/x/p', 'EIO', 'fstat "/x/p": EIO'],
        ['readlinkat', '/r/x/l', 'EIO', 'readlinkat "/r/x/l": EIO'],
        ['readdir', '/r/x/sub', 'EACCES', 'readdir "/r/x/sub": EACCES'],
        ['readdir', '/r/x', 'EACCES', 'readdir "/r/x": EACCES'],
      ] as const)('a failing %s of %s on the source side fails the copy in one line naming it, every descriptor closed, the tmpfs unmounted', (op, path, errno, inner) => {
        const { sys, run } = setup();
        addSmallTree(sys);
        sys.failOn(op, errno, { path });
        const thrown = thrownBy(() => run(copyUp));
        expect(thrown).toMatchObject(copyFailed(inner, op, errno));
        expect((thrown as Error).message).not.toContain('\n');
        expect(changes(sys).slice(-1)).toEqual([unmounted(sys)]);
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });

      /** A chain of 3000 directories named d under /r/x (each 0750, owned by 9), a file f at its end: deeper than the JavaScript stack would go a call a level. */
      const CHAIN = '/d'.repeat(3000);
      const addChain = (sys: FakeSyscalls) => {
        sys.addDir(`/r/x${CHAIN}`, 0o750);
        for (let at = `/r/x${CHAIN}`; at !== '/r/x'; at = at.slice(0, -2)) Object.assign(sys.node(at)!, { uid: 9, gid: 9, perm: 0o750 });
        sys.addFile(`/r/x${CHAIN}/f`, 'deep', 0o640);
      };

      test('a chain of 3000 directories is copied whole, each with its owner and mode, every descriptor closed', () => {
        const { sys, run } = setup();
        addChain(sys);
        run(copyUp);
        expect(sys.node(`/r/x${CHAIN}/f`)).toMatchObject({ kind: 'file', content: 'deep', perm: 0o640 });
        expect(sys.node(`/r/x${CHAIN}`)).toMatchObject({ kind: 'dir', perm: 0o750, uid: 9, gid: 9 });
        expect(sys.node('/r/x/d')).toMatchObject({ kind: 'dir', perm: 0o750, uid: 9, gid: 9 });
        expect(sys.callsOf('mkdirat')).toHaveLength(3000);
        expect(sys.openFds()).toEqual([]);
      });

      test('a failure at the end of that chain names the whole path in one line, every level\'s descriptors closed, the tmpfs unmounted', () => {
        const { sys, run } = setup();
        addChain(sys);
        sys.failOn('openat', 'EIO', { path: `/r/x${CHAIN}/f` });
        const thrown = thrownBy(() => run(copyUp));
        expect(thrown).toMatchObject(copyFailed(`openat "/x${CHAIN}/f": EIO`, 'openat', 'EIO'));
        expect(sys.mounts).toEqual([]);
        expect(sys.openFds()).toEqual([]);
      });
    });
  });
});
