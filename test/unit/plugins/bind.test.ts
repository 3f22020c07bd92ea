import 'reflect-metadata';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SLAVE,
  MS_UNBINDABLE,
  MS_STRICTATIME,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  ST_NOATIME,
  ST_NODEV,
  ST_NODIRATIME,
  ST_NOEXEC,
  ST_NOSUID,
  ST_NOSYMFOLLOW,
  ST_RDONLY,
  ST_RELATIME,
  MS_NOSYMFOLLOW,
  AT_FDCWD,
  MOUNT_ATTR_IDMAP,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  OPEN_TREE_CLONE,
  O_NOFOLLOW,
} from '../../../src/core/constants';
import { NO_MAPPINGS } from '../../../src/core/idmap';
import { IN_ROOT_NO_SYMLINKS } from '../../../src/core/in-root';
import type { RootfsConfig } from '../../../src/core/config/model';
import { silentLogger } from '../../../src/core/logger';
import { memoryLogger } from '../../../src/testing/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls, type FailOptions } from '../../../src/core/syscalls/fake';
import type { SyscallName } from '../../../src/core/syscalls/types';
import { BindMountHandler } from '../../../src/plugins/bind';
import { bindFlags } from '../../../src/plugins/bind/handler';
import { remountAttrs } from '../../../src/plugins/bind/attr';
import { LOCKABLE_FLAGS, keepLockedFlags, lockedChange } from '../../../src/plugins/bind/locked';
import { mountFlagsOfStatfs } from '../../../src/core/statfs-flags';
import { relabelMode, relabelProblem, relabelTarget, sharedLabel } from '../../../src/plugins/bind/relabel';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, fdOf, fileMade, reopenedMountCalls, viaFd } from '../../helpers/fd';

type MountOver = Omit<Parameters<typeof makeMount>[0], 'type'>;

const LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';

/** A rootfs at /r and bind sources outside it: a directory with one file, and a file. */
function setup() {
  const sys = new FakeSyscalls();
  sys.addDir('/r');
  sys.addFile('/src/dir/a', 'A');
  sys.addFile('/src/file', 'F');
  const run = (mounts: MountOver[], over: Partial<RootfsConfig> = {}) =>
    new Orchestrator(sys, silentLogger, [new BindMountHandler(sys)], []).run(
      makeConfig({ rootfs: '/r', ...over, mounts: mounts.map((m, index) => makeMount({ index, type: 'bind', source: '/src/dir', flags: MS_BIND, ...m })) }),
      { checkClaims: false },
    );
  return { sys, run };
}

const bind = (target: string, flags: bigint, source = '/src/dir', data: string | null = null) => ({
  op: 'mount' as const,
  source,
  target,
  fstype: 'bind',
  flags,
  data,
});
const remount = (target: string, flags: bigint) => ({ op: 'mount' as const, source: null, target, fstype: null, flags: flags | MS_REMOUNT, data: null });

/**
 * A bind made as a copy of `source` attached onto the target the fake opened at `target`
 * (attach.ts): open_tree(2) OPEN_TREE_CLONE (AT_RECURSIVE for rbind), move_mount(2); with
 * `setFlags`, mount_setattr(2) between them giving the copy's top mount the attributes a
 * remount with those flags gives (an rbind's flags, or a bind's before Linux 6.15).
 */
const attached = (sys: FakeSyscalls, target: string, flags: bigint, source = '/src/dir', setFlags?: bigint) => [
  { op: 'openTree' as const, dirfd: AT_FDCWD, path: source, flags: OPEN_TREE_CLONE | O_CLOEXEC | ((flags & MS_REC) !== 0n ? AT_RECURSIVE : 0) },
  ...(setFlags === undefined ? [] : [setOnCopy(sys, setFlags, source)]),
  { op: 'moveMount' as const, fromDirfd: fdOf(sys, source), fromPath: '', toDirfd: fdOf(sys, target), toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
];

/** mount_setattr(2) of the detached copy of `source` (its top mount: no AT_RECURSIVE) with the attributes a remount with `flags` gives (attr.ts). */
const setOnCopy = (sys: FakeSyscalls, flags: bigint, source = '/src/dir') => ({
  op: 'mountSetattr' as const,
  dirfd: fdOf(sys, source),
  path: '',
  atFlags: AT_EMPTY_PATH,
  ...remountAttrs(flags),
  propagation: 0n,
});

/** A bind (not rbind) with `flags` made as a copy of `source` with them (open_tree_attr(2)) attached onto the target the fake opened at `target`. */
const attachedWithFlags = (sys: FakeSyscalls, target: string, flags: bigint, source = '/src/dir') => [
  copyWithFlags(source, flags),
  { op: 'moveMount' as const, fromDirfd: fdOf(sys, source), fromPath: '', toDirfd: fdOf(sys, target), toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
];

/**
 * Matches a call made through the attached copy of `source`: the fake's pathOf tells
 * where a descriptor was opened, and the copy's was opened at its source.
 */
const viaCopy = (sys: FakeSyscalls, source = '/src/dir') => viaFd(sys, source);

/** open_tree(2) and open_tree_attr(2) refused (ENOSYS: a kernel before 5.2), so every bind of the run is made with mount(2) and checked after it. */
const withoutCopies = (sys: FakeSyscalls) => sys.failOn('openTreeAttr', 'ENOSYS').failOn('openTree', 'ENOSYS');

/** open_tree_attr(2) refused (ENOSYS: a kernel from 5.2 to 6.14), so a bind's flags are given to its copy by mount_setattr(2). */
const withoutAttrCopies = (sys: FakeSyscalls) => sys.failOn('openTreeAttr', 'ENOSYS');

/** open_tree_attr(2) and mount_setattr(2) refused (ENOSYS: a kernel from 5.2 to 5.11), so a bind's flags are given by a remount after its copy is attached. */
const withoutSetattr = (sys: FakeSyscalls) => sys.failOn('openTreeAttr', 'ENOSYS').failOn('mountSetattr', 'ENOSYS');

/** open_tree_attr(2) of `source` with the attributes a remount with `flags` gives (attr.ts), as attach.ts calls it for a bind (not rbind). */
const copyWithFlags = (source: string, flags: bigint) => ({ op: 'openTreeAttr' as const, dirfd: AT_FDCWD, path: source, flags: OPEN_TREE_CLONE | O_CLOEXEC, ...remountAttrs(flags), propagation: 0n });

/**
 * The calls a bind of /src/dir at an existing /data makes before its mount: the source's
 * stat, the rootfs opened (100), the target looked up in it (101), and open_tree(2) of the
 * source, which makes the copy (102) or is refused.
 */
const beforeDataBind = [
  { op: 'open', path: '/r', flags: O_PATH | O_CLOEXEC | O_DIRECTORY, mode: 0 },
  { op: 'openat2', dirfd: 100, path: 'data', flags: O_PATH | O_CLOEXEC, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
  { op: 'openTree', dirfd: AT_FDCWD, path: '/src/dir', flags: OPEN_TREE_CLONE | O_CLOEXEC },
];

describe('bind mount handler', () => {
  test.each([
    ['a word no table knows (a misspelt "rdonly")', 'rdonly', ['mounts[0].options "rdonly": ignored: no option of a bind, whose mount(2) reads no filesystem data']],
    ['no such word', '', []],
  ])('%s: a warning naming the mount and the words, the bind made as without them', (_what, data, warnings) => {
    const sys = new FakeSyscalls().addDir('/r/data').addDir('/src/dir');
    const logger = memoryLogger();
    new Orchestrator(sys, logger, [new BindMountHandler(sys)], []).run(makeConfig({ rootfs: '/r', mounts: [makeMount({ index: 0, type: 'bind', source: '/src/dir', destination: '/data', flags: MS_BIND, data })] }), { checkClaims: false });
    expect(logger.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual(warnings);
    expect(sys.mounts.map((m) => [m.source, m.target, m.flags])).toEqual([['/src/dir', '/r/data', MS_BIND]]);
  });

  test('a directory bind creates a directory target, the source stat-ed just before anything is made, and makes one mount', () => {
    const { sys, run } = setup();
    run([{ destination: '/data/x' }]);
    expect(sys.calls.filter((c) => c.op === 'stat')).toEqual([{ op: 'stat', path: '/src/dir' }]);
    expect(sys.calls[sys.calls.findIndex((c) => c.op === 'mkdirat') - 1]).toEqual({ op: 'stat', path: '/src/dir' });
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'data', mode: 0o755 },
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/data'), path: 'x', mode: 0o755 },
      bind(viaFd(sys, '/r/data/x'), MS_BIND),
    ]);
  });

  test('an existing target is used as it is, and the source is not stat-ed', () => {
    const { sys, run } = setup();
    sys.addDir('/r/data');
    run([{ destination: '/data' }]);
    expect(changes(sys)).toEqual([bind(viaFd(sys, '/r/data'), MS_BIND)]);
    expect(sys.calls.filter((c) => c.op === 'stat')).toEqual([]);
  });

  test('the full call list: target lookup and proc check (an existing target: no stat of the source), a copy of the source made with the bind\'s flags (open_tree_attr), attached through the target descriptor, the target\'s place checked; no remount', () => {
    const { sys, run } = setup();
    sys.addDir('/r/data');
    run([{ destination: '/data', flags: MS_BIND | MS_RDONLY }]);
    expect(sys.calls).toEqual([
      ...beforeDataBind.slice(0, 2),
      copyWithFlags('/src/dir', MS_BIND | MS_RDONLY),
      { op: 'moveMount', fromDirfd: 102, fromPath: '', toDirfd: 101, toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
      // The target still where its lookup led (the root's name read once).
      { op: 'readlink', path: '/proc/thread-self/fd/101' },
      { op: 'readlink', path: '/proc/thread-self/fd/100' },
      { op: 'close', fd: 102 },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
    expect(copyWithFlags('/src/dir', MS_BIND | MS_RDONLY)).toMatchObject({ attrSet: MOUNT_ATTR_RDONLY, attrClr: MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW });
    expect([sys.pathOf(101), sys.pathOf(102)]).toEqual(['/r/data', '/src/dir']);
    expect(sys.mounts).toEqual([{ source: '/src/dir', target: '/r/data', fstype: null, flags: MS_BIND, data: null }]);
    sys.refuseReadOnlyWrites = true;
    expect(() => sys.mkdir('/r/data/x', 0o755)).toThrow(/EROFS/);
  });

  test.each<[string, (sys: FakeSyscalls) => FakeSyscalls, boolean]>([
    ["before Linux 6.15 (open_tree_attr: ENOSYS): a copy of the source given the bind's flags (mount_setattr, its top mount), attached through the target descriptor, the target's place checked; no remount; the next bind tries no open_tree_attr", withoutAttrCopies, false],
    ["before Linux 5.12 (open_tree_attr and mount_setattr: ENOSYS): a copy of the source attached through the target descriptor, the target's place checked, remount through the copy; the next bind tries neither call", withoutSetattr, true],
  ])('%s: the full call list', (_kernel, older, remounted) => {
    const { sys, run } = setup();
    sys.addDir('/r/data');
    sys.addDir('/r/more');
    older(sys);
    run([
      { destination: '/data', flags: MS_BIND | MS_RDONLY },
      { destination: '/more', flags: MS_BIND | MS_NOSUID },
    ]);
    const more = [
      { op: 'openat2', dirfd: 100, path: 'more', flags: O_PATH | O_CLOEXEC, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openTree', dirfd: AT_FDCWD, path: '/src/dir', flags: OPEN_TREE_CLONE | O_CLOEXEC },
    ];
    expect(sys.calls.slice(0, 13)).toEqual([
      ...beforeDataBind.slice(0, 2),
      copyWithFlags('/src/dir', MS_BIND | MS_RDONLY),
      beforeDataBind[2],
      { op: 'mountSetattr', dirfd: 102, path: '', atFlags: AT_EMPTY_PATH, ...remountAttrs(MS_BIND | MS_RDONLY), propagation: 0n },
      { op: 'moveMount', fromDirfd: 102, fromPath: '', toDirfd: 101, toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
      { op: 'readlink', path: '/proc/thread-self/fd/101' },
      { op: 'readlink', path: '/proc/thread-self/fd/100' },
      ...(remounted ? [remount('/proc/thread-self/fd/102', MS_BIND | MS_RDONLY)] : []),
      { op: 'close', fd: 102 },
      { op: 'close', fd: 101 },
      ...more,
      ...(remounted ? [] : [setOnCopy(sys, MS_BIND | MS_NOSUID)]),
    ]);
    expect(sys.callsOf('openTreeAttr')).toHaveLength(1);
    expect(sys.callsOf('mountSetattr')).toHaveLength(remounted ? 1 : 2);
    expect(sys.callsOf('mount')).toEqual(remounted ? [remount('/proc/thread-self/fd/102', MS_BIND | MS_RDONLY), remount(viaCopy(sys), MS_BIND | MS_NOSUID)] : []);
    sys.refuseReadOnlyWrites = true;
    expect(() => sys.mkdir('/r/data/x', 0o755)).toThrow(/EROFS/);
  });

  test('without open_tree (ENOSYS), the full call list: mount through the descriptor, the new mount opened again from the target\'s parent and checked, remount through it', () => {
    const { sys, run } = setup();
    sys.addDir('/r/data');
    withoutCopies(sys);
    run([{ destination: '/data', flags: MS_BIND | MS_RDONLY }]);
    expect(sys.calls).toEqual([
      ...beforeDataBind.slice(0, 2),
      copyWithFlags('/src/dir', MS_BIND | MS_RDONLY),
      beforeDataBind[2],
      bind('/proc/thread-self/fd/101', MS_BIND | MS_RDONLY),
      // afterMount's check that 103 is the new bind.
      ...reopenedMountCalls('data', { root: 100, target: 101, parent: 102, reopened: 103 }),
      remount('/proc/thread-self/fd/103', MS_BIND | MS_RDONLY),
      { op: 'close', fd: 103 },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
    expect([sys.pathOf(101), sys.pathOf(102), sys.pathOf(103)]).toEqual(['/r/data', '/r', '/r/data']);
  });

  /**
   * The calls after a file bind's mount of /src/file at /etc/hosts with nosuid (root 100,
   * target 101): the mount opened again from the root by `reopen` (its last call opening
   * it as `reopened`), checked, and remounted through it.
   */
  function fileBindAfterMount(reopen: object[], reopened: number) {
    return [
      { op: 'fstatMount', fd: 101 },
      { op: 'readlink', path: '/proc/thread-self/fd/101' },
      { op: 'readlink', path: '/proc/thread-self/fd/100' },
      { op: 'openat2', dirfd: 100, path: 'etc/hosts', flags: O_PATH | O_CLOEXEC | O_NOFOLLOW, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      ...reopen,
      { op: 'readlink', path: `/proc/thread-self/fd/${reopened}` },
      { op: 'fstatMount', fd: reopened },
      remount(`/proc/thread-self/fd/${reopened}`, MS_BIND | MS_NOSUID),
      { op: 'close', fd: reopened },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ];
  }

  test('without open_tree, a file bind\'s mount is opened again from the root by the target\'s name, no symlink followed, and checked the same way', () => {
    const { sys, run } = setup();
    sys.addFile('/r/etc/hosts');
    withoutCopies(sys);
    run([{ source: '/src/file', destination: '/etc/hosts', flags: MS_BIND | MS_NOSUID }]);
    expect(sys.calls.slice(sys.calls.findIndex((c) => c.op === 'mount') + 1)).toEqual(fileBindAfterMount([], 102));
  });

  test('without open_tree, a file bind\'s mount opened again where openat2 is refused (ENOSYS) is walked to, one component at a time, no symlink followed', () => {
    const { sys, run } = setup();
    sys.addFile('/r/etc/hosts');
    withoutCopies(sys);
    sys.failOn('openat2', 'ENOSYS', { path: '/r/etc/hosts', nth: 2 });
    run([{ source: '/src/file', destination: '/etc/hosts', flags: MS_BIND | MS_NOSUID }]);
    const PATH = O_PATH | O_CLOEXEC;
    expect(sys.calls.slice(sys.calls.findIndex((c) => c.op === 'mount') + 1)).toEqual(
      fileBindAfterMount(
        [
          { op: 'openat', dirfd: 100, path: 'etc', flags: PATH | O_NOFOLLOW, mode: 0 },
          { op: 'fstat', fd: 102 },
          { op: 'openat', dirfd: 102, path: 'hosts', flags: PATH | O_NOFOLLOW, mode: 0 },
          { op: 'close', fd: 102 },
        ],
        103,
      ),
    );
  });

  test('any other refusal of that openat2 (EACCES) fails the mount, naming it, with nothing walked or remounted', () => {
    const { sys, run } = setup();
    sys.addFile('/r/etc/hosts');
    withoutCopies(sys);
    sys.failOn('openat2', 'EACCES', { path: '/r/etc/hosts', nth: 2 });
    expect(() => run([{ source: '/src/file', destination: '/etc/hosts', flags: MS_BIND | MS_NOSUID }])).toThrow(/mounts\[0\] "\/etc\/hosts": openat2 "[^"]*hosts": EACCES$/);
    expect(sys.callsOf('openat')).toEqual([]);
    expect(sys.callsOf('mount')).toHaveLength(1);
    expect(sys.openFds()).toEqual([]);
  });

  describe('without open_tree, the mount opened again after the mount must be the new bind (CVE-2025-52881)', () => {
    test('a symlink at the target\'s name now (ELOOP) is refused before anything acts on what it leads to', () => {
      const { sys, run } = setup();
      sys.addDir('/r/data');
      withoutCopies(sys);
      sys.failOn('openat2', 'ELOOP', { path: '/r/data', nth: 2 });
      expect(() => run([{ destination: '/data', flags: MS_BIND | MS_RDONLY | MS_NOSUID }])).toThrow(
        /mount destination "\/data" was replaced while it was mounted on: ELOOP opening "\/data" again$/,
      );
      expect(sys.callsOf('mount')).toEqual([bind('/proc/thread-self/fd/101', MS_BIND | MS_RDONLY | MS_NOSUID)]);
      expect(sys.openFds()).toEqual([]);
    });

    test('what is at the target\'s place now on the target\'s own mount (not the new one) is refused, and closed', () => {
      const { sys, run } = setup();
      sys.addDir('/r/data');
      withoutCopies(sys);
      const real = sys.fstatMount.bind(sys);
      // The second answer (the file opened again) as if no mount were on it: the one the target lies on.
      let first: bigint | undefined;
      jest.spyOn(sys, 'fstatMount').mockImplementation((fd) => {
        const st = real(fd);
        first ??= st.mntId;
        return { ...st, mntId: first };
      });
      expect(() => run([{ destination: '/data', flags: MS_BIND | MS_RDONLY }])).toThrow(
        /mount destination "\/data" was replaced while it was mounted on: "\/data" is not the root of the new mount$/,
      );
      expect(sys.calls.slice(sys.calls.findIndex((c) => c.op === 'mount') + 1)).toEqual([
        ...reopenedMountCalls('data', { root: 100, target: 101, parent: 102, reopened: 103 }),
        // Refused: no remount; the descriptors closed.
        { op: 'close', fd: 103 },
        { op: 'close', fd: 101 },
        { op: 'close', fd: 100 },
      ]);
    });

    test('a file there now that is no mount\'s root is refused', () => {
      const { sys, run } = setup();
      sys.addDir('/r/data');
      withoutCopies(sys);
      const real = sys.fstatMount.bind(sys);
      jest.spyOn(sys, 'fstatMount').mockImplementation((fd) => ({ ...real(fd), mountRoot: sys.pathOf(fd) === '/r/data' && fd !== 101 ? false : real(fd).mountRoot }));
      expect(() => run([{ destination: '/data', flags: MS_BIND | MS_NOSUID }])).toThrow(/was replaced while it was mounted on: "\/data" is not the root of the new mount$/);
      expect(sys.callsOf('mount')).toHaveLength(1);
    });

    test('what was opened again, named otherwise by the kernel than the target (moved meanwhile), is refused', () => {
      const { sys, run } = setup();
      sys.addDir('/r/data');
      withoutCopies(sys);
      const real = sys.readlink.bind(sys);
      jest.spyOn(sys, 'readlink').mockImplementation((path) => (path === '/proc/thread-self/fd/103' ? '/r/elsewhere' : real(path)));
      expect(() => run([{ destination: '/data', flags: MS_BIND | MS_RDONLY }])).toThrow(
        /mount destination "\/data" was replaced while it was mounted on: "\/data" opened again is "\/r\/elsewhere"$/,
      );
      expect(sys.callsOf('mount')).toHaveLength(1);
      expect(sys.openFds()).toEqual([]);
    });

    test('a target renamed before the mount took the mount away from the destination: refused', () => {
      const { sys, run } = setup();
      sys.addDir('/r/data');
      withoutCopies(sys);
      const real = sys.readlink.bind(sys);
      jest.spyOn(sys, 'readlink').mockImplementation((path) => (path === '/proc/thread-self/fd/101' ? '/r/old' : real(path)));
      expect(() => run([{ destination: '/data', flags: MS_BIND | MS_RDONLY }])).toThrow(
        /mount destination "\/data" was replaced while it was mounted on: it is now at "\/old", not "\/data"$/,
      );
      expect(sys.callsOf('openat2')).toHaveLength(1);
    });
  });

  describe('a copy attached: the steps act on it through its descriptor, the target\'s place checked first', () => {
    test.each<[string, string, string, bigint[]]>([
      ['renamed inside the root before the attach took the copy away from the destination', '/r/old', 'it is now at "/old", not "/data"', [MS_PRIVATE]],
      ['moved out of the root', '/elsewhere', 'it is now "/elsewhere", outside the root', [MS_PRIVATE]],
      ['renamed before the attach, where the copy had its flags and no step follows', '/r/old', 'it is now at "/old", not "/data"', []],
    ])('a target %s: refused before any step, every descriptor closed', (_case, now, why, propagationFlags) => {
      const { sys, run } = setup();
      sys.addDir('/r/data');
      const real = sys.readlink.bind(sys);
      jest.spyOn(sys, 'readlink').mockImplementation((path) => (path === '/proc/thread-self/fd/101' ? now : real(path)));
      expect(() => run([{ destination: '/data', flags: MS_BIND | MS_RDONLY, propagationFlags }])).toThrow(`mounts: plugin bind mounts[0] "/data": mount destination "/data" was replaced while it was mounted on: ${why}`);
      expect(changes(sys)).toEqual(attachedWithFlags(sys, '/r/data', MS_BIND | MS_RDONLY));
      expect(sys.openFds()).toEqual([]);
    });

    test('a target that is now inside /proc is refused by the proc check, before any step', () => {
      const { sys, run } = setup();
      sys.addDir('/r/data');
      const real = sys.readlink.bind(sys);
      jest.spyOn(sys, 'readlink').mockImplementation((path) => (path === '/proc/thread-self/fd/101' ? '/r/proc/sys' : real(path)));
      expect(() => run([{ destination: '/data', flags: MS_BIND | MS_NOSUID }])).toThrow('mounts: plugin bind mounts[0] "/data": "/proc/sys" cannot be mounted because it is inside /proc');
      expect(sys.callsOf('mount')).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test('a bind with no step after its mount is one mount(2) call: no copy', () => {
      const { sys, run } = setup();
      sys.addDir('/r/d');
      run([{ destination: '/d', flags: MS_BIND | MS_REC }]);
      expect(sys.callsOf('openTree')).toEqual([]);
      expect(changes(sys)).toEqual([bind(viaFd(sys, '/r/d'), MS_BIND | MS_REC)]);
    });

    test.each<[string, SyscallName[], string, string[]]>([
      ['open_tree and open_tree_attr refused (ENOSYS, a kernel before 5.2)', ['openTreeAttr', 'openTree'], 'ENOSYS', ['openTreeAttr', 'openTree']],
      ['open_tree and open_tree_attr refused by a seccomp filter (EPERM)', ['openTreeAttr', 'openTree'], 'EPERM', ['openTreeAttr', 'openTree']],
      ['move_mount refused by a seccomp filter (EPERM)', ['moveMount'], 'EPERM', ['openTreeAttr', 'moveMount']],
      ['move_mount refused by a security module (EACCES)', ['moveMount'], 'EACCES', ['openTreeAttr', 'moveMount']],
    ])('%s: the bind is made with mount(2) and checked after it, and so is every later bind of the run, without another try', (_case, ops, errno, tried) => {
      const { sys, run } = setup();
      sys.addDir('/r/a').addDir('/r/b');
      for (const op of ops) sys.failOn(op, errno);
      run([
        { destination: '/a', flags: MS_BIND | MS_NOSUID },
        { destination: '/b', flags: MS_BIND | MS_NOSUID },
      ]);
      expect(changes(sys).map((c) => c.op)).toEqual([...tried, 'mount', 'mount', 'mount', 'mount']);
      expect(sys.callsOf('fstatMount')).toHaveLength(4);
      expect(sys.mounts.map((m) => m.target)).toEqual(['/r/a', '/r/b']);
      expect(sys.openFds()).toEqual([]);
    });

    test('a directory copy onto a file target (move_mount: EINVAL) is closed, and mount(2) refuses the bind with its own error (ENOTDIR); a later bind tries a copy again', () => {
      const { sys, run } = setup();
      sys.addFile('/r/f');
      sys.addDir('/r/d');
      expect(() => run([{ destination: '/f', flags: MS_BIND | MS_RDONLY }])).toThrow(/mounts\[0\] "\/f": mount "\/src\/dir" -> "\/r\/f": ENOTDIR$/);
      expect(changes(sys)).toEqual([...attachedWithFlags(sys, '/r/f', MS_BIND | MS_RDONLY), bind(viaFd(sys, '/r/f'), MS_BIND | MS_RDONLY)]);
      expect(sys.callsOf('close').map((c) => c.fd)).toContain(sys.callsOf('moveMount')[0].fromDirfd);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
      sys.clearCalls();
      run([{ destination: '/d', flags: MS_BIND | MS_RDONLY }]);
      expect(changes(sys)).toEqual(attachedWithFlags(sys, '/r/d', MS_BIND | MS_RDONLY));
    });

    test.each<[SyscallName, bigint, string]>([
      ['openTreeAttr', MS_RDONLY, 'open_tree_attr "/src/dir": EIO'],
      ['openTree', MS_REC | MS_RDONLY, 'open_tree "/src/dir": EIO'],
      ['moveMount', MS_RDONLY, 'move_mount "/src/dir" -> "/r/d": EIO'],
    ])('any other error of %s (EIO) is the bind\'s, naming the call; nothing is mounted or left open', (op, flags, message) => {
      const { sys, run } = setup();
      sys.addDir('/r/d');
      sys.failOn(op, 'EIO');
      expect(() => run([{ destination: '/d', flags: MS_BIND | flags }])).toThrow(`mounts: plugin bind mounts[0] "/d": ${message}`);
      expect(sys.callsOf('mount')).toEqual([]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test('an open_tree failure other than a refusal (EINVAL, an unbindable source) leaves it to mount(2), which says the same', () => {
      const { sys, run } = setup();
      sys.addDir('/r/d');
      sys.addDir('/unbindable');
      sys.mount('/unbindable', '/unbindable', null, MS_BIND, null);
      sys.mount(null, '/unbindable', null, MS_UNBINDABLE, null);
      sys.clearCalls();
      expect(() => run([{ source: '/unbindable', destination: '/d', flags: MS_BIND | MS_RDONLY }])).toThrow(/mounts\[0\] "\/d": mount "\/unbindable" -> "\/r\/d": EINVAL$/);
      expect(changes(sys).map((c) => c.op)).toEqual(['openTreeAttr', 'openTree', 'mount']);
      expect(sys.openFds()).toEqual([]);
    });
  });

  test('a file bind creates an empty file target with its parents', () => {
    const { sys, run } = setup();
    run([{ source: '/src/file', destination: '/etc/hosts' }]);
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'etc', mode: 0o755 },
      fileMade(sys, '/r/etc', 'hosts', 0o755),
      bind(viaFd(sys, '/r/etc/hosts'), MS_BIND, '/src/file'),
    ]);
    expect(sys.node('/r/etc/hosts')).toMatchObject({ kind: 'file', content: '' });
  });

  test('a symlinked source is judged by what it points to', () => {
    const { sys, run } = setup();
    sys.addSymlink('/src/link', '/src/dir');
    run([{ source: '/src/link', destination: '/d' }]);
    expect(changes(sys)).toEqual([{ op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'd', mode: 0o755 }, bind(viaFd(sys, '/r/d'), MS_BIND, '/src/link')]);
  });

  test('a target of the other kind is left for mount(2) to refuse (ENOTDIR)', () => {
    const { sys, run } = setup();
    sys.addFile('/r/f');
    expect(() => run([{ destination: '/f' }])).toThrow(/mounts\[0\] "\/f": mount "\/src\/dir" -> "\/r\/f": ENOTDIR$/);
    expect(changes(sys)).toEqual([bind(viaFd(sys, '/r/f'), MS_BIND)]);
    expect(sys.mounts).toEqual([]);
  });

  test('rbind keeps MS_REC and needs no remount', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([{ destination: '/d', flags: MS_BIND | MS_REC }]);
    expect(changes(sys)).toEqual([bind(viaFd(sys, '/r/d'), MS_BIND | MS_REC)]);
  });

  test('a read-only bind is a copy made read-only (open_tree_attr), then attached; data, which MS_BIND ignores, goes nowhere', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([{ destination: '/d', flags: MS_BIND | MS_RDONLY, data: 'x=1' }]);
    expect(changes(sys)).toEqual(attachedWithFlags(sys, '/r/d', MS_BIND | MS_RDONLY));
  });

  test('before Linux 6.15, a read-only bind is a copy made read-only by mount_setattr, then attached', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    withoutAttrCopies(sys);
    run([{ destination: '/d', flags: MS_BIND | MS_RDONLY, data: 'x=1' }]);
    expect(changes(sys)).toEqual([copyWithFlags('/src/dir', MS_BIND | MS_RDONLY), ...attached(sys, '/r/d', MS_BIND, '/src/dir', MS_BIND | MS_RDONLY)]);
  });

  test('before Linux 5.12, a read-only bind is a copy attached, then remounted with MS_REMOUNT|MS_BIND through it', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    withoutSetattr(sys);
    run([{ destination: '/d', flags: MS_BIND | MS_RDONLY, data: 'x=1' }]);
    expect(changes(sys)).toEqual([copyWithFlags('/src/dir', MS_BIND | MS_RDONLY), ...attached(sys, '/r/d', MS_BIND, '/src/dir', MS_BIND | MS_RDONLY), remount(viaCopy(sys), MS_BIND | MS_RDONLY)]);
  });

  test('without open_tree, a read-only bind is remounted with MS_REMOUNT|MS_BIND; data goes to the first call only', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    withoutCopies(sys);
    run([{ destination: '/d', flags: MS_BIND | MS_RDONLY, data: 'x=1' }]);
    expect(changes(sys)).toEqual([
      copyWithFlags('/src/dir', MS_BIND | MS_RDONLY),
      { op: 'openTree', dirfd: AT_FDCWD, path: '/src/dir', flags: OPEN_TREE_CLONE | O_CLOEXEC },
      bind(viaFd(sys, '/r/d'), MS_BIND | MS_RDONLY, '/src/dir', 'x=1'),
      remount(viaFd(sys, '/r/d'), MS_BIND | MS_RDONLY),
    ]);
  });

  const OWN = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC | MOUNT_ATTR_NOSYMFOLLOW;
  const ATIME = MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME;
  test.each([
    ['nosuid', MS_NOSUID, MOUNT_ATTR_NOSUID, OWN & ~MOUNT_ATTR_NOSUID],
    ['nodev', MS_NODEV, MOUNT_ATTR_NODEV, OWN & ~MOUNT_ATTR_NODEV],
    ['noexec', MS_NOEXEC, MOUNT_ATTR_NOEXEC, OWN & ~MOUNT_ATTR_NOEXEC],
    ['nosuid,nodev,noexec', MS_NOSUID | MS_NODEV | MS_NOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSYMFOLLOW],
    ['noatime', MS_NOATIME, MOUNT_ATTR_NOATIME, OWN | ATIME],
    ['nodiratime', MS_NODIRATIME, MOUNT_ATTR_RELATIME | MOUNT_ATTR_NODIRATIME, OWN | MOUNT_ATTR__ATIME],
    ['relatime', MS_RELATIME, MOUNT_ATTR_RELATIME, OWN | ATIME],
    ['strictatime', MS_STRICTATIME, MOUNT_ATTR_STRICTATIME, OWN | ATIME],
  ])('%s is given to the copy as it is made (open_tree_attr): no remount', (_words, extra, attrSet, attrClr) => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([{ destination: '/d', flags: MS_BIND | extra }]);
    expect(changes(sys)).toEqual(attachedWithFlags(sys, '/r/d', MS_BIND | extra));
    expect(sys.callsOf('openTreeAttr')[0]).toMatchObject({ attrSet, attrClr });
  });

  test.each([
    ['nosuid before Linux 6.15', MS_NOSUID, withoutAttrCopies],
    ['noatime before Linux 6.15', MS_NOATIME, withoutAttrCopies],
    ["rbind,ro,nosuid (an rbind's copy, whose attributes from open_tree_attr would go to every mount below it too)", MS_REC | MS_RDONLY | MS_NOSUID, () => undefined],
  ])('%s: given to the copy\'s top mount by mount_setattr before it is attached; no remount', (words, extra, kernel) => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    kernel(sys);
    run([{ destination: '/d', flags: MS_BIND | extra }]);
    const tried = words.startsWith('rbind') ? [] : [copyWithFlags('/src/dir', MS_BIND | extra)];
    expect(changes(sys)).toEqual([...tried, ...attached(sys, '/r/d', MS_BIND | extra, '/src/dir', MS_BIND | extra)]);
  });

  test.each([
    ['nosuid', MS_NOSUID],
    ['rbind,ro,nosuid', MS_REC | MS_RDONLY | MS_NOSUID],
  ])('%s is applied by the remount before Linux 5.12 (mount_setattr: ENOSYS)', (words, extra) => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    withoutSetattr(sys);
    run([{ destination: '/d', flags: MS_BIND | extra }]);
    const tried = words.startsWith('rbind') ? [] : [copyWithFlags('/src/dir', MS_BIND | extra)];
    expect(changes(sys)).toEqual([...tried, ...attached(sys, '/r/d', MS_BIND | extra, '/src/dir', MS_BIND | extra), remount(viaCopy(sys), MS_BIND | extra)]);
  });

  describe("a bind remount whose config gave no source (the loader gives it the bundle's directory, as runc)", () => {
    const REMOUNT_RO = MS_BIND | MS_REMOUNT | MS_RDONLY;

    test('changes the bind already at the destination: the remount through the target, then the flags again, nothing opened again or stat-ed', () => {
      const { sys, run } = setup();
      sys.addDir('/bundle');
      sys.addDir('/r/d');
      run([{ destination: '/d' }, { destination: '/d', source: '/bundle', flags: REMOUNT_RO }]);
      const PATH = O_PATH | O_CLOEXEC;
      expect(sys.calls.slice(sys.calls.findIndex((c) => c.op === 'mount' && c.source === '/bundle') - 1)).toEqual([
        // The root (100) stays open from the first mount; the first target (101) is closed.
        { op: 'openat2', dirfd: 100, path: 'd', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
        bind('/proc/thread-self/fd/102', REMOUNT_RO, '/bundle'),
        remount('/proc/thread-self/fd/102', REMOUNT_RO),
        { op: 'close', fd: 102 },
        { op: 'close', fd: 100 },
      ]);
      // One mount, the first bind, now read-only: a change below it is refused.
      expect(sys.mounts.map((m) => m.target)).toEqual(['/r/d']);
      sys.refuseReadOnlyWrites = true;
      expect(() => sys.mkdir('/r/d/x', 0o755)).toThrow(/EROFS/);
    });

    test('with no mount at the destination, the remount fails (EINVAL), naming the mount', () => {
      const { sys, run } = setup();
      sys.addDir('/bundle');
      sys.addDir('/r/d');
      expect(() => run([{ destination: '/d', source: '/bundle', flags: REMOUNT_RO }])).toThrow(/mounts\[0\] "\/d": mount "\/bundle" -> "\/r\/d": EINVAL$/);
      expect(changes(sys)).toEqual([bind(viaFd(sys, '/r/d'), REMOUNT_RO, '/bundle')]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });
  });

  test('type bind without MS_BIND in its flags is still a bind', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([{ destination: '/d', flags: MS_RDONLY }]);
    expect(changes(sys)).toEqual(attachedWithFlags(sys, '/r/d', MS_BIND | MS_RDONLY));
  });

  test('a bind (not rbind) with flags, propagation and recursive attributes: the copy made with the flags, then the propagation through it, then the attributes; no remount', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([{ destination: '/d', flags: MS_BIND | MS_RDONLY, propagationFlags: [MS_SLAVE], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } }]);
    expect(changes(sys)).toEqual([
      ...attachedWithFlags(sys, '/r/d', MS_BIND | MS_RDONLY),
      { op: 'mount', source: null, target: viaCopy(sys), fstype: null, flags: MS_SLAVE, data: null },
      { op: 'mountSetattr', dirfd: fdOf(sys, '/src/dir'), path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
    ]);
  });

  test.each([
    ['EACCES (a directory on the source\'s path not searchable)', 'EACCES'],
    ['EINVAL', 'EINVAL'],
  ])('open_tree_attr refused with %s for one bind: that bind is a copy remounted, and the next bind tries open_tree_attr again', (_why, errno) => {
    const { sys, run } = setup();
    sys.addDir('/r/a').addDir('/r/b');
    sys.failOn('openTreeAttr', errno, { times: 1 });
    run([
      { destination: '/a', flags: MS_BIND | MS_NOSUID },
      { destination: '/b', flags: MS_BIND | MS_NOSUID },
    ]);
    expect(changes(sys).map((c) => c.op)).toEqual(['openTreeAttr', 'openTree', 'moveMount', 'mount', 'openTreeAttr', 'moveMount']);
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['EPERM (a flag a user namespace locked, or a seccomp filter): the next one tries it again', 'EPERM', ['openTree', 'mountSetattr', 'moveMount']],
    ['EACCES (a security module): the next one tries it again', 'EACCES', ['openTree', 'mountSetattr', 'moveMount']],
    ['EINVAL (an attribute the kernel does not know: MOUNT_ATTR_NOSYMFOLLOW before 5.14): noted for the run, the next one remounted too', 'EINVAL', ['openTree', 'moveMount', 'mount']],
    ['ENOSYS (before 5.12): noted for the run, the next one remounted too', 'ENOSYS', ['openTree', 'moveMount', 'mount']],
  ])('mount_setattr of an rbind\'s copy refused with %s; that rbind is attached and remounted', (_why, errno, next) => {
    const { sys, run } = setup();
    sys.addDir('/r/a').addDir('/r/b');
    sys.failOn('mountSetattr', errno, { times: 1 });
    run([
      { destination: '/a', flags: MS_BIND | MS_REC | MS_NOSUID },
      { destination: '/b', flags: MS_BIND | MS_REC | MS_NOSUID },
    ]);
    expect(changes(sys).map((c) => c.op)).toEqual(['openTree', 'mountSetattr', 'moveMount', 'mount', ...next]);
    expect(sys.openFds()).toEqual([]);
  });

  test('open_tree_attr refused with EPERM for a bind: mount_setattr, which would be refused alike, is not tried; the copy is remounted', () => {
    const { sys, run } = setup();
    sys.addDir('/r/a');
    sys.failOn('openTreeAttr', 'EPERM');
    run([{ destination: '/a', flags: MS_BIND | MS_NOSUID }]);
    expect(changes(sys).map((c) => c.op)).toEqual(['openTreeAttr', 'openTree', 'moveMount', 'mount']);
  });

  test('an rbind\'s flags are given to its copy before the attach; propagation follows the attach, one call each through the copy, then recursive attributes', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([
      {
        destination: '/d',
        flags: MS_BIND | MS_REC | MS_RDONLY,
        propagationFlags: [MS_PRIVATE, MS_SLAVE | MS_REC],
        recAttrs: { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID, attrClr: 0n },
      },
    ]);
    expect(changes(sys)).toEqual([
      ...attached(sys, '/r/d', MS_BIND | MS_REC, '/src/dir', MS_BIND | MS_REC | MS_RDONLY),
      { op: 'mount', source: null, target: viaCopy(sys), fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'mount', source: null, target: viaCopy(sys), fstype: null, flags: MS_SLAVE | MS_REC, data: null },
      { op: 'mountSetattr', dirfd: fdOf(sys, '/src/dir'), path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: 0x3n, attrClr: 0n, propagation: 0n },
    ]);
  });

  test('a read-only bind at /dev is read-only from its attach, as runc remounts it at once: a later mount cannot make its mountpoint in the source (finalize remounts it again)', () => {
    const { sys, run } = setup();
    sys.addDir('/r/dev');
    run([
      { destination: '/dev', flags: MS_BIND | MS_RDONLY | MS_NOSUID },
      { destination: '/dev/', flags: MS_BIND | MS_RDONLY },
    ]);
    expect(changes(sys)).toEqual([...attachedWithFlags(sys, '/r/dev', MS_BIND | MS_RDONLY | MS_NOSUID), ...attachedWithFlags(sys, '/r/dev', MS_BIND | MS_RDONLY)]);
  });

  test.each([
    ['an absolute symlink', '/etc'],
    ['a ".." symlink', '../../../../etc'],
  ])('%s in the destination resolves inside the rootfs', (_what, link) => {
    const { sys, run } = setup();
    sys.addDir('/etc');
    sys.addSymlink('/r/link', link);
    run([{ destination: '/link/x' }]);
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'etc', mode: 0o755 },
      { op: 'mkdirat', dirfd: fdOf(sys, '/r/etc'), path: 'x', mode: 0o755 },
      bind(viaFd(sys, '/r/etc/x'), MS_BIND),
    ]);
    expect(sys.node('/etc/x')).toBeUndefined();
  });

  test('a relative ".." destination stays inside the rootfs', () => {
    const { sys, run } = setup();
    run([{ source: '/src/file', destination: '/../../outside' }]);
    expect(changes(sys)).toEqual([fileMade(sys, '/r', 'outside', 0o755), bind(viaFd(sys, '/r/outside'), MS_BIND, '/src/file')]);
  });

  test.each(['/proc/sys', '/proc/self/fd', '/p/sys'])('%s is refused before anything is made', (destination) => {
    const { sys, run } = setup();
    sys.addSymlink('/r/p', '/proc');
    expect(() => run([{ destination }])).toThrow(
      `mounts: plugin bind mounts[0] "${destination}": "${destination.replace('/p/', '/proc/')}" cannot be mounted because it is inside /proc`,
    );
    expect(changes(sys)).toEqual([]);
  });

  test.each(['/proc', '/p'])('%s takes a bind of a procfs, as runc allows it, however the destination reaches /proc: the source is checked with fstatfs(2), then bound', (destination) => {
    const { sys, run } = setup();
    sys.addDir('/hostproc').addDir('/r/proc').addSymlink('/r/p', '/proc');
    sys.mount('proc', '/hostproc', 'proc', 0n, null);
    sys.clearCalls();
    run([{ source: '/hostproc', destination, flags: MS_BIND | MS_REC }]);
    const source = sys.calls.findIndex((c) => c.op === 'open' && c.path === '/hostproc');
    expect(sys.calls.slice(source, source + 3).map((c) => c.op)).toEqual(['open', 'fstatfs', 'close']);
    expect(changes(sys)).toEqual([bind(viaFd(sys, '/r/proc'), MS_BIND | MS_REC, '/hostproc')]);
  });

  test('a bind elsewhere never looks at its source filesystem', () => {
    const { sys, run } = setup();
    run([{ source: '/src/file', destination: '/f' }]);
    expect(sys.callsOf('fstatfs')).toEqual([]);
  });

  test.each(['/proc', '/p'])('%s takes no bind of another filesystem: refused before anything is made', (destination) => {
    const { sys, run } = setup();
    sys.addSymlink('/r/p', '/proc');
    expect(() => run([{ destination }])).toThrow(`mounts: plugin bind mounts[0] "${destination}": "/proc" takes only a proc filesystem, or a bind of one`);
    expect(changes(sys)).toEqual([]);
  });

  test('/proc/meminfo is allowed (lxcfs)', () => {
    const { sys, run } = setup();
    run([{ source: '/src/file', destination: '/proc/meminfo' }]);
    expect(changes(sys)).toEqual([
      { op: 'mkdirat', dirfd: fdOf(sys, '/r'), path: 'proc', mode: 0o755 },
      fileMade(sys, '/r/proc', 'meminfo', 0o755),
      bind(viaFd(sys, '/r/proc/meminfo'), MS_BIND, '/src/file'),
    ]);
  });

  test('a missing source is named and nothing is made', () => {
    const { sys, run } = setup();
    expect(() => run([{ source: '/nope', destination: '/x' }])).toThrow('mounts: plugin bind mounts[0] "/x": bind source "/nope" does not exist');
    expect(changes(sys)).toEqual([]);
  });

  // An existing target needs no stat of the source: the call that looks the source up first names it.
  test.each<[string, bigint, string, SyscallName]>([
    ['made with mount(2)', MS_BIND, '/x', 'mount'],
    ['made as a copy (open_tree: an rbind)', MS_BIND | MS_REC | MS_RDONLY, '/x', 'openTree'],
    ['made as a copy with its flags (open_tree_attr)', MS_BIND | MS_RDONLY, '/x', 'openTreeAttr'],
    ['onto /proc (the source opened to see whether it is a procfs)', MS_BIND, '/proc', 'open'],
  ])('a missing source with an existing target, %s, is named; nothing is mounted', (_how, flags, destination, first) => {
    const { sys, run } = setup();
    sys.addDir(`/r${destination}`);
    expect(() => run([{ source: '/nope', destination, flags }])).toThrow(`mounts: plugin bind mounts[0] "${destination}": bind source "/nope" does not exist`);
    expect(sys.calls.find((c) => ('path' in c && c.path === '/nope') || ('source' in c && c.source === '/nope'))?.op).toBe(first);
    expect(sys.mounts).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test('another stat error of the source is the syscall error', () => {
    const { sys, run } = setup();
    sys.failOn('stat', 'EACCES', { path: '/src/dir' });
    expect(() => run([{ destination: '/x' }])).toThrow('mounts: plugin bind mounts[0] "/x": stat "/src/dir": EACCES');
    expect(changes(sys)).toEqual([]);
  });

  describe('relabel', () => {
    const selinux = (sys: FakeSyscalls) => sys.addSelinuxfs();

    test('Z labels the source tree with the mount label after the mount, before recursive attributes', () => {
      const { sys, run } = setup();
      selinux(sys);
      sys.addDir('/r/d');
      run([{ destination: '/d', relabel: 'Z', recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n } }], { mountLabel: LABEL });
      expect(changes(sys)).toEqual([
        ...attached(sys, '/r/d', MS_BIND),
        { op: 'lsetxattr', path: '/src/dir', name: 'security.selinux', value: LABEL },
        { op: 'lsetxattr', path: '/src/dir/a', name: 'security.selinux', value: LABEL },
        { op: 'mountSetattr', dirfd: fdOf(sys, '/src/dir'), path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n, propagation: 0n },
      ]);
    });

    test('a read-only bind with Z: its copy made read-only, then the label; no remount', () => {
      const { sys, run } = setup();
      selinux(sys);
      sys.addDir('/r/d');
      run([{ destination: '/d', flags: MS_BIND | MS_RDONLY, relabel: 'Z' }], { mountLabel: LABEL });
      expect(changes(sys)).toEqual([
        ...attachedWithFlags(sys, '/r/d', MS_BIND | MS_RDONLY),
        { op: 'lsetxattr', path: '/src/dir', name: 'security.selinux', value: LABEL },
        { op: 'lsetxattr', path: '/src/dir/a', name: 'security.selinux', value: LABEL },
      ]);
    });

    test('z labels with the shared level s0', () => {
      const { sys, run } = setup();
      selinux(sys);
      run([{ source: '/src/file', destination: '/f', relabel: 'z' }], { mountLabel: LABEL });
      expect(sys.callsOf('lsetxattr')).toEqual([
        { op: 'lsetxattr', path: '/src/file', name: 'security.selinux', value: 'system_u:object_r:container_file_t:s0' },
      ]);
    });

    test.each([
      ['without SELinux', false, LABEL],
      ['without a mount label', true, ''],
    ])('is a no-op %s', (_what, enabled, mountLabel) => {
      const { sys, run } = setup();
      if (enabled) selinux(sys);
      sys.addDir('/r/d');
      run([{ destination: '/d', relabel: 'Z' }], { mountLabel });
      expect(changes(sys)).toEqual([bind(viaFd(sys, '/r/d'), MS_BIND)]);
    });

    test('a host system directory is refused before anything is made', () => {
      const { sys, run } = setup();
      selinux(sys);
      sys.addDir('/usr');
      expect(() => run([{ source: '/usr/', destination: '/d', relabel: 'z' }], { mountLabel: LABEL })).toThrow(
        'mounts: plugin bind mounts[0] "/d": SELinux relabeling of "/usr" is not allowed',
      );
      expect(changes(sys)).toEqual([]);
    });

    test('a source below /usr is refused before anything is made, as go-selinux refuses it', () => {
      const { sys, run } = setup();
      selinux(sys);
      sys.addDir('/usr/share/data');
      expect(() => run([{ source: '/usr/share/data', destination: '/d', relabel: 'Z' }], { mountLabel: LABEL })).toThrow(
        'mounts: plugin bind mounts[0] "/d": relabeling content in "/usr" is not allowed ("/usr/share/data")',
      );
      expect(changes(sys)).toEqual([]);
    });

    test('an unknown relabel word is refused', () => {
      const { sys, run } = setup();
      expect(() => run([{ destination: '/d', relabel: 'zZ' }])).toThrow('mounts: plugin bind mounts[0] "/d": relabel "zZ" must be "z" (shared) or "Z" (private)');
      expect(changes(sys)).toEqual([]);
    });
  });

  describe('flags a user namespace locked on the source (runc 1.2)', () => {
    const LOCKED = ST_NOSUID | ST_NODEV | ST_RELATIME;

    /**
     * The source's flags locked: the copy's attributes that would clear them are refused
     * (EPERM, as the remount is), so the copy is made by open_tree(2) and remounted (on
     * Linux 6.15; a bind before it, and an rbind, below); the fake refuses the calls where
     * the kernel would (it keeps no lock of its own).
     */
    function locked(sys: FakeSyscalls, remounts: string | number, times = 1): void {
      sys.addMountFlags('/src', LOCKED);
      sys.failOn('openTreeAttr', 'EPERM');
      sys.failOn('mount', remounts, { times });
    }

    test('a copy whose flags are refused is made without them, and its refused remount made again with the locked flags the bind has kept', () => {
      const { sys, run } = setup();
      locked(sys, 'EPERM');
      run([
        { destination: '/d', flags: MS_BIND | MS_RDONLY },
        { destination: '/e', flags: MS_BIND | MS_RDONLY },
      ]);
      const top = viaCopy(sys);
      expect(sys.calls.filter((c) => ['mount', 'fstatfs', 'openTree', 'openTreeAttr'].includes(c.op)).slice(0, 5)).toEqual([
        copyWithFlags('/src/dir', MS_BIND | MS_RDONLY),
        { op: 'openTree', dirfd: AT_FDCWD, path: '/src/dir', flags: OPEN_TREE_CLONE | O_CLOEXEC },
        remount(top, MS_BIND | MS_RDONLY),
        { op: 'fstatfs', fd: fdOf(sys, '/src/dir') },
        remount(top, MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_RELATIME),
      ]);
      // EPERM is this bind's: the next one tries open_tree_attr again.
      expect(sys.callsOf('openTreeAttr')).toHaveLength(2);
      expect(sys.openFds()).toEqual([]);
    });

    test.each([
      ['an rbind', MS_REC, () => undefined],
      ['a bind before Linux 6.15', 0n, withoutAttrCopies],
    ])('%s: mount_setattr refusing the copy its flags (EPERM), the copy is attached as it is and its refused remount made again with the locked flags', (_what, rec, kernel) => {
      const { sys, run } = setup();
      sys.addMountFlags('/src', LOCKED);
      kernel(sys);
      sys.failOn('mountSetattr', 'EPERM');
      sys.failOn('mount', 'EPERM');
      run([{ destination: '/d', flags: MS_BIND | MS_RDONLY | rec }]);
      const top = viaCopy(sys);
      expect(sys.calls.filter((c) => ['mount', 'fstatfs', 'mountSetattr', 'moveMount'].includes(c.op))).toEqual([
        setOnCopy(sys, MS_BIND | MS_RDONLY | rec),
        { op: 'moveMount', fromDirfd: fdOf(sys, '/src/dir'), fromPath: '', toDirfd: fdOf(sys, '/r/d'), toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
        remount(top, MS_BIND | MS_RDONLY | rec),
        { op: 'fstatfs', fd: fdOf(sys, '/src/dir') },
        remount(top, MS_BIND | MS_RDONLY | rec | MS_NOSUID | MS_NODEV | MS_RELATIME),
      ]);
      expect(sys.openFds()).toEqual([]);
    });

    const LOCKS = 'a mount from a more privileged mount namespace keeps these flags locked in a user namespace';
    test.each<[string, MountOver, string]>([
      ['the config clears a locked flag the bind has (suid)', { destination: '/d', flags: MS_BIND | MS_RDONLY, clearedFlags: MS_NOSUID }, `suid (the source's mount is nosuid): ${LOCKS}`],
      ['the config asks for another atime mode (strictatime)', { destination: '/d', flags: MS_BIND | MS_RDONLY | MS_STRICTATIME }, `strictatime (the source's mount is relatime): ${LOCKS}`],
    ])('the refusal stands when %s, and says what the config would change', (_why, mount, why) => {
      const { sys, run } = setup();
      locked(sys, 'EPERM');
      expect(() => run([mount])).toThrow(`mounts: plugin bind mounts[0] "/d": mount "/r/d": EPERM (${why})`);
      expect(sys.callsOf('mount')).toHaveLength(1);
      expect(sys.openFds()).toEqual([]);
    });

    test('a refusal with no locked flag to add, or other than EPERM, stands without a retry', () => {
      const first = setup();
      first.sys.addMountFlags('/src', ST_RELATIME);
      first.sys.failOn('openTreeAttr', 'EPERM');
      first.sys.failOn('mount', 'EPERM');
      expect(() => first.run([{ destination: '/d', flags: MS_BIND | MS_NOSUID | MS_RELATIME }])).toThrow('mount "/r/d": EPERM');
      expect(first.sys.callsOf('mount')).toHaveLength(1);
      expect(first.sys.callsOf('fstatfs')).toHaveLength(1);
      const second = setup();
      locked(second.sys, 'EINVAL');
      expect(() => second.run([{ destination: '/d', flags: MS_BIND | MS_RDONLY }])).toThrow('mount "/r/d": EINVAL');
      expect(second.sys.callsOf('fstatfs')).toEqual([]);
    });

    test('the retry failing too is the error', () => {
      const { sys, run } = setup();
      locked(sys, 'EPERM', 2);
      expect(() => run([{ destination: '/d', flags: MS_BIND | MS_RDONLY }])).toThrow('mounts: plugin bind mounts[0] "/d": mount "/r/d": EPERM');
      expect(sys.callsOf('mount')).toHaveLength(2);
    });
  });

  describe('a failing call is a PluginError naming mount, destination and syscall', () => {
    test.each<[string, SyscallName, FailOptions, MountOver, string]>([
      ['target directory', 'mkdirat', {}, { destination: '/x' }, 'mkdirat "/r/x": EACCES'],
      ['target file', 'openat', { nth: 2 }, { source: '/src/file', destination: '/x' }, 'openat "/r/x": EACCES'],
      ['bind', 'mount', {}, { destination: '/x' }, 'mount "/src/dir" -> "/r/x": EACCES'],
      ['propagation', 'mount', {}, { destination: '/x', propagationFlags: [MS_PRIVATE] }, 'mount "/r/x": EACCES'],
      ['propagation without open_tree', 'mount', { nth: 2 }, { destination: '/x', propagationFlags: [MS_PRIVATE], source: '/src/nocopy' }, 'mount "/r/x": EACCES'],
      ['remount without open_tree', 'mount', { nth: 2 }, { destination: '/x', flags: MS_BIND | MS_RDONLY, source: '/src/nocopy' }, 'mount "/r/x": EACCES'],
      ['recursive attributes', 'mountSetattr', {}, { destination: '/x', recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n } }, 'mount_setattr "/r/x": EACCES'],
    ])('%s (%s)', (_step, op, opts, mount, message) => {
      const { sys, run } = setup();
      sys.addDir('/src/nocopy');
      sys.failOn('openTreeAttr', 'ENOSYS', { path: '/src/nocopy' });
      sys.failOn('openTree', 'ENOSYS', { path: '/src/nocopy' });
      sys.failOn(op, 'EACCES', opts);
      expect(() => run([mount])).toThrow(`mounts: plugin bind mounts[0] "/x": ${message}`);
      expect(sys.openFds()).toEqual([]);
    });

    test('the remount of an rbind before Linux 5.12 (mount_setattr: ENOSYS)', () => {
      const { sys, run } = setup();
      withoutSetattr(sys);
      sys.failOn('mount', 'EACCES');
      expect(() => run([{ destination: '/x', flags: MS_BIND | MS_REC | MS_RDONLY }])).toThrow('mounts: plugin bind mounts[0] "/x": mount "/r/x": EACCES');
      expect(sys.openFds()).toEqual([]);
    });

    test("the flags of a copy (mount_setattr) failing with another error (EIO) fail the bind, the copy closed and nothing attached", () => {
      const { sys, run } = setup();
      sys.failOn('mountSetattr', 'EIO');
      expect(() => run([{ destination: '/x', flags: MS_BIND | MS_REC | MS_RDONLY }])).toThrow('mounts: plugin bind mounts[0] "/x": mount_setattr "/src/dir": EIO');
      expect(sys.callsOf('moveMount')).toEqual([]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([]);
    });

    test.each([
      ['lsetxattr', 'lsetxattr "/src/dir": EACCES'],
      ['readdir', 'readdir "/src/dir": EACCES'],
    ] as const)('relabel %s', (op, message) => {
      const { sys, run } = setup();
      sys.addSelinuxfs();
      sys.failOn(op, 'EACCES', { path: '/src/dir' });
      expect(() => run([{ destination: '/x', relabel: 'Z' }], { mountLabel: LABEL })).toThrow(`mounts: plugin bind mounts[0] "/x": ${message}`);
    });
  });
});

describe("bind mount handler: a copy held for the mount (MountSpec.tree, the sd_notify socket's directory a relaunch is given)", () => {
  const RO = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY;
  /** setup() with a detached copy of /src/dir held open at descriptor 12, as a relaunch is given it. */
  function withHeld() {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    const tree = sys.openTree(AT_FDCWD, '/src/dir', OPEN_TREE_CLONE | O_CLOEXEC);
    sys.dup3(tree, 12, 0);
    sys.close(tree);
    sys.clearCalls();
    return { sys, go: (flags: bigint) => run([{ destination: '/d', flags, tree: 12 }]) };
  }

  test('attached from its descriptor onto the target, then remounted with the flags through it, then closed: the source never looked up by path, and no copy made here', () => {
    const { sys, go } = withHeld();
    go(RO);
    expect(changes(sys)).toEqual([
      { op: 'moveMount', fromDirfd: 12, fromPath: '', toDirfd: fdOf(sys, '/r/d'), toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
      // MS_BIND ignores the flags (mount(2)): a remount of the attached copy gives them, through its descriptor.
      remount('/proc/thread-self/fd/12', RO),
    ]);
    expect(sys.callsOf('stat')).toEqual([]);
    expect(sys.callsOf('openTree')).toEqual([]);
    expect(sys.callsOf('openTreeAttr')).toEqual([]);
    expect(sys.callsOf('close').map((c) => c.fd)).toContain(12);
    expect(sys.mounts).toEqual([expect.objectContaining({ source: '/src/dir', target: '/r/d' })]);
    expect(sys.openFds()).toEqual([]);
  });

  test('an attach the kernel refuses: the error names the mount, move_mount, its errno and the source; the copy is closed all the same', () => {
    const { sys, go } = withHeld();
    sys.failOn('moveMount', 'EPERM');
    expect(() => go(RO)).toThrow(/^mounts: plugin bind mounts\[0\] "\/d": move_mount "\/src\/dir".*: EPERM$/);
    expect(sys.mounts).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });
});

describe('bind flags and relabel decisions', () => {
  test.each([
    ['/d', MS_RDONLY, MS_BIND | MS_RDONLY],
    ['/d', MS_BIND | MS_REC, MS_BIND | MS_REC],
    ['/dev', MS_BIND | MS_RDONLY | MS_NODEV, MS_BIND | MS_RDONLY | MS_NODEV],
    ['/dev/', MS_RDONLY, MS_BIND | MS_RDONLY],
    ['/dev/shm', MS_BIND | MS_RDONLY, MS_BIND | MS_RDONLY],
  ])('bindFlags(%s, %s) = %s', (destination, flags, expected) => {
    expect(bindFlags(makeMount({ type: 'bind', destination, flags }))).toBe(expected);
  });

  test.each([
    ['', undefined],
    ['z', 'shared'],
    ['Z', 'private'],
  ])('relabelMode(%j) = %j', (word, mode) => {
    expect(relabelMode(word)).toBe(mode);
  });

  test.each(['x', 'zZ', 'Zz', ' z'])('relabelMode(%j) throws', (word) => {
    expect(() => relabelMode(word)).toThrow(`relabel ${JSON.stringify(word)} must be`);
  });

  test.each([
    [LABEL, 'system_u:object_r:container_file_t:s0'],
    ['u:r:t', 'u:r:t:s0'],
    ['u:r:t:s0-s0:c0.c1023', 'u:r:t:s0'],
  ])('sharedLabel(%j) = %j', (label, shared) => {
    expect(sharedLabel(label)).toBe(shared);
    expect(relabelTarget('shared', label)).toBe(shared);
    expect(relabelTarget('private', label)).toBe(label);
  });

  test('sharedLabel refuses a label without user:role:type', () => {
    expect(() => sharedLabel('u:r')).toThrow('SELinux label "u:r" is not user:role:type[:level]');
  });

  test.each([
    ['/', 'SELinux relabeling of "/" is not allowed'],
    ['/etc/', 'SELinux relabeling of "/etc" is not allowed'],
    ['/var/lib', 'SELinux relabeling of "/var/lib" is not allowed'],
    ['/var/lib/app', undefined],
    ['/srv/data', undefined],
    ['/usr/local/data/', 'relabeling content in "/usr" is not allowed ("/usr/local/data")'],
    ['/usrdata', 'relabeling content in "/usr" is not allowed ("/usrdata")'],
    ['/srv/usr', undefined],
  ])('relabelProblem(%j)', (source, problem) => {
    expect(relabelProblem(source)).toBe(problem);
  });
});

describe('locked flags (locked.ts)', () => {
  test.each([
    [0n, MS_STRICTATIME],
    [ST_RELATIME, MS_RELATIME],
    [ST_NOATIME | ST_NODIRATIME, MS_NOATIME | MS_NODIRATIME],
    [ST_NODIRATIME, MS_NODIRATIME | MS_STRICTATIME],
    [ST_RDONLY | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RELATIME, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME],
    [ST_NOSYMFOLLOW | ST_RELATIME, MS_NOSYMFOLLOW | MS_RELATIME],
  ])('mountFlagsOfStatfs(0x%s) = 0x%s', (st, expected) => {
    expect(mountFlagsOfStatfs(st)).toBe(expected);
  });

  test.each<[string, bigint, bigint, bigint, bigint | undefined]>([
    ['nosuid and nodev kept', MS_BIND | MS_RDONLY, 0n, ST_NOSUID | ST_NODEV | ST_RELATIME, MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_RELATIME],
    ['read-only kept when the config says nothing of it', MS_BIND | MS_NOEXEC, 0n, ST_RDONLY | ST_RELATIME, MS_BIND | MS_NOEXEC | MS_RDONLY | MS_RELATIME],
    ['strictatime kept (no atime flag in statfs)', MS_BIND | MS_RDONLY, 0n, ST_NOSUID, MS_BIND | MS_RDONLY | MS_NOSUID | MS_STRICTATIME],
    ['nosymfollow is not lockable', MS_BIND | MS_RDONLY, 0n, ST_NOSYMFOLLOW | ST_RELATIME, MS_BIND | MS_RDONLY | MS_RELATIME],
    ['rw asked of a read-only mount', MS_BIND | MS_NOSUID, MS_RDONLY, ST_RDONLY | ST_RELATIME, undefined],
    ['suid asked of a nosuid mount', MS_BIND | MS_RDONLY, MS_NOSUID, ST_NOSUID | ST_RELATIME, undefined],
    ['a cleared flag the mount does not have', MS_BIND | MS_RDONLY, MS_NOEXEC, ST_NOSUID | ST_RELATIME, MS_BIND | MS_RDONLY | MS_NOSUID | MS_RELATIME],
    ['relatime asked of a noatime mount', MS_BIND | MS_RDONLY | MS_RELATIME, 0n, ST_NOATIME, undefined],
    ['the atime mode the mount has', MS_BIND | MS_RDONLY | MS_NOATIME, 0n, ST_NOATIME | ST_NOSUID, MS_BIND | MS_RDONLY | MS_NOATIME | MS_NOSUID],
    ['nodiratime asked of a mount without it', MS_BIND | MS_NODIRATIME, 0n, ST_RELATIME, undefined],
  ])('%s', (_case, requested, cleared, st, expected) => {
    expect(keepLockedFlags(requested, cleared, st)).toBe(expected);
  });

  test.each<[string, bigint, bigint, bigint, string | undefined]>([
    ['rw and suid asked of a ro,nosuid mount', MS_BIND, MS_RDONLY | MS_NOSUID, ST_RDONLY | ST_NOSUID | ST_RELATIME, "rw (the source's mount is ro), suid (the source's mount is nosuid)"],
    ['dev and exec asked of a nodev,noexec mount', MS_BIND, MS_NODEV | MS_NOEXEC, ST_NODEV | ST_NOEXEC, "dev (the source's mount is nodev), exec (the source's mount is noexec)"],
    ['noatime asked of a relatime mount', MS_BIND | MS_NOATIME, 0n, ST_RELATIME, "noatime (the source's mount is relatime)"],
    ['relatime,nodiratime asked of a strictatime mount', MS_BIND | MS_RELATIME | MS_NODIRATIME, 0n, 0n, "relatime,nodiratime (the source's mount is strictatime)"],
    ['nothing lockable changed: another cause', MS_BIND | MS_RDONLY, MS_NOEXEC, ST_NOSUID | ST_RELATIME, undefined],
    ['norelatime asked of a relatime mount', MS_BIND | MS_RDONLY, MS_RELATIME, ST_RDONLY | ST_RELATIME, "norelatime (the source's mount is relatime)"],
    ['atime and diratime asked of a noatime,nodiratime mount', MS_BIND | MS_NOSUID, MS_NOATIME | MS_NODIRATIME, ST_NOATIME | ST_NODIRATIME | ST_NOSUID, "atime (the source's mount is noatime), diratime (the source's mount is nodiratime)"],
    ['the atime mode asked, told once, not again as a clear', MS_BIND | MS_NOATIME, MS_RELATIME, ST_RELATIME, "noatime (the source's mount is relatime)"],
    ['rw asked of a read-only relatime mount, relatime kept', MS_BIND | MS_NOSUID, MS_RDONLY, ST_RDONLY | ST_RELATIME, "rw (the source's mount is ro)"],
  ])('lockedChange: %s', (_case, requested, cleared, st, expected) => {
    expect(lockedChange(requested, cleared, st)).toBe(expected === undefined ? undefined : `${expected}: a mount from a more privileged mount namespace keeps these flags locked in a user namespace`);
  });

  test('the lockable flags are the MNT_LOCK_* ones: read-only, nodev, nosuid, noexec and atime', () => {
    expect(LOCKABLE_FLAGS).toBe(MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC | MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME);
  });
});

describe('bind mount handler: idmapped binds', () => {
  const UIDS = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const GIDS = [{ containerID: 0, hostID: 200000, size: 1000 }];
  const PATH = O_PATH | O_CLOEXEC;

  test('the full call list: a user namespace of the mappings, a detached copy of the source mapped and attached through the target descriptor, the namespace closed when the run ends', () => {
    const { sys, run } = setup();
    sys.addDir('/r/data');
    run([{ destination: '/data', idmap: { recursive: false, uidMappings: UIDS, gidMappings: GIDS } }]);
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'data', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'userNamespace', uidMappings: UIDS, gidMappings: GIDS },
      { op: 'openTree', dirfd: AT_FDCWD, path: '/src/dir', flags: OPEN_TREE_CLONE | O_CLOEXEC },
      { op: 'mountSetattr', dirfd: 103, path: '', atFlags: AT_EMPTY_PATH, attrSet: MOUNT_ATTR_IDMAP, attrClr: 0n, propagation: 0n, usernsFd: 102 },
      { op: 'moveMount', fromDirfd: 103, fromPath: '', toDirfd: 101, toPath: '', flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH },
      { op: 'close', fd: 103 },
      { op: 'close', fd: 101 },
      // The run's end: the rootfs, then the user namespace kept for other mounts of the same mappings.
      { op: 'close', fd: 100 },
      { op: 'close', fd: 102 },
    ]);
    expect([sys.pathOf(101), sys.pathOf(102), sys.pathOf(103)]).toEqual(['/r/data', expect.stringMatching(/^user:\[\d+\]$/), '/src/dir']);
    expect(sys.mounts).toEqual([{ source: '/src/dir', target: '/r/data', fstype: null, flags: MS_BIND, data: null }]);
  });

  test('one user namespace per set of mappings for the run: binds that share mappings share it', () => {
    const { sys, run } = setup();
    const other = [{ containerID: 0, hostID: 300000, size: 10 }];
    run([
      { destination: '/a', idmap: { recursive: false, uidMappings: UIDS, gidMappings: GIDS } },
      { destination: '/b', idmap: { recursive: true, uidMappings: UIDS, gidMappings: GIDS } },
      { destination: '/c', idmap: { recursive: false, uidMappings: other, gidMappings: GIDS } },
    ]);
    const made = sys.callsOf('userNamespace');
    expect(made.map((c) => c.uidMappings)).toEqual([UIDS, other]);
    const namespaces = sys.callsOf('mountSetattr').map((c) => c.usernsFd);
    expect(namespaces[0]).toBe(namespaces[1]);
    expect(namespaces[2]).not.toBe(namespaces[0]);
    expect(sys.mounts.map((m) => m.target)).toEqual(['/r/a', '/r/b', '/r/c']);
    expect(sys.openFds()).toEqual([]);
  });

  test('a failing later mount still closes the user namespaces kept for the run', () => {
    const { sys, run } = setup();
    sys.failOn('openTree', 'EACCES', { nth: 2 });
    expect(() =>
      run([
        { destination: '/a', idmap: { recursive: false, uidMappings: UIDS, gidMappings: GIDS } },
        { destination: '/b', idmap: { recursive: false, uidMappings: UIDS, gidMappings: GIDS } },
      ]),
    ).toThrow('mounts: plugin bind mounts[1] "/b": open_tree "/src/dir": EACCES');
    expect(sys.callsOf('userNamespace')).toHaveLength(1);
    expect(sys.openFds()).toEqual([]);
  });

  test.each<[string, bigint, boolean, number, number]>([
    ['idmap of a bind', MS_BIND, false, 0, 0],
    ['ridmap of a bind', MS_BIND, true, 0, AT_RECURSIVE],
    ['idmap of an rbind: the whole tree copied, its top mount mapped', MS_BIND | MS_REC, false, AT_RECURSIVE, 0],
    ['ridmap of an rbind: every mount of the copy mapped', MS_BIND | MS_REC, true, AT_RECURSIVE, AT_RECURSIVE],
  ])('%s', (_case, flags, recursive, treeFlags, mapFlags) => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([{ destination: '/d', flags, idmap: { recursive, uidMappings: UIDS, gidMappings: GIDS } }]);
    expect(sys.callsOf('openTree')[0].flags).toBe(OPEN_TREE_CLONE | O_CLOEXEC | treeFlags);
    expect(sys.callsOf('mountSetattr')[0].atFlags).toBe(AT_EMPTY_PATH | mapFlags);
  });

  test('the flags, propagation and recursive attributes come after the attach, as for any bind', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    run([
      {
        destination: '/d',
        flags: MS_BIND | MS_RDONLY | MS_NOSUID,
        propagationFlags: [MS_PRIVATE],
        recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n },
        idmap: { recursive: false, uidMappings: UIDS, gidMappings: GIDS },
      },
    ]);
    expect(changes(sys).map((c) => c.op)).toEqual(['userNamespace', 'openTree', 'mountSetattr', 'moveMount', 'mount', 'mount', 'mountSetattr']);
    // Through the mapped copy's descriptor, which names the mount attached.
    expect(changes(sys).slice(4)).toEqual([
      { op: 'mount', source: null, target: viaCopy(sys), fstype: null, flags: MS_PRIVATE, data: null },
      remount(viaCopy(sys), MS_BIND | MS_RDONLY | MS_NOSUID),
      { op: 'mountSetattr', dirfd: fdOf(sys, '/src/dir'), path: '', atFlags: AT_EMPTY_PATH | AT_RECURSIVE, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
    ]);
    expect(sys.callsOf('fstatMount')).toEqual([]);
  });

  test.each<[string, Partial<RootfsConfig>]>([
    ['with a user namespace in the config', { namespaces: [{ type: 'user' }] }],
    ['without one (a config built in code, unchecked)', {}],
  ])('without mappings of its own, %s: a step error, nothing opened or made', (_case, over) => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    expect(() => run([{ destination: '/d', idmap: { recursive: true } }], over)).toThrow(`mounts: plugin bind mounts[0] "/d": ${NO_MAPPINGS}`);
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test('EINVAL from mount_setattr names the call and says what it most likely means; nothing attached, every descriptor closed', () => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    sys.failOn('mountSetattr', 'EINVAL');
    expect(() => run([{ destination: '/d', idmap: { recursive: false, uidMappings: UIDS, gidMappings: GIDS } }])).toThrow(
      'mounts: plugin bind mounts[0] "/d": mount_setattr "/src/dir": EINVAL (the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it)',
    );
    expect(sys.callsOf('moveMount')).toEqual([]);
    expect(sys.mounts).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each<[SyscallName, string]>([
    ['userNamespace', 'unshare: EPERM'],
    ['openTree', 'open_tree "/src/dir": EPERM'],
    ['moveMount', 'move_mount "/src/dir" -> "/r/d": EPERM'],
  ])('a failing %s stops the mount with its error and leaves no descriptor open', (op, message) => {
    const { sys, run } = setup();
    sys.addDir('/r/d');
    sys.failOn(op, 'EPERM');
    expect(() => run([{ destination: '/d', idmap: { recursive: false, uidMappings: UIDS, gidMappings: GIDS } }])).toThrow(`mounts: plugin bind mounts[0] "/d": ${message}`);
    expect(sys.mounts).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  describe("in a user namespace: the copy mountkit's first process makes (RootfsConfig.idmapSocket)", () => {
    /** A fake whose idmap socket (descriptor 9) holds the first process's copy of /src/dir, tagged for mount `tag`. */
    function withCopy(tag = '0') {
      const { sys, run } = setup();
      sys.addDir('/r/d');
      const [here, there] = sys.socketPair();
      sys.dup3(there, 9, 0);
      sys.close(there);
      const tree = sys.openTree(AT_FDCWD, '/src/dir', OPEN_TREE_CLONE | O_CLOEXEC);
      sys.sendFdMessage(here, tree, tag);
      sys.close(tree);
      sys.close(here);
      sys.clearCalls();
      const over: Partial<RootfsConfig> = { namespaces: [{ type: 'user' }], runtimeChannel: 3, idmapSocket: 9 };
      return { sys, go: (m: Parameters<typeof run>[0][number]) => run([m], over) };
    }

    test('asked for by the mount index on the runtime channel, received, attached and closed; no namespace, copy or mapping made here', () => {
      const { sys, go } = withCopy();
      go({ destination: '/d', flags: MS_BIND | MS_NOSUID, idmap: { recursive: false } });
      const copy = sys.callsOf('moveMount')[0].fromDirfd;
      expect(sys.calls.slice(0, 2)).toEqual([
        { op: 'exchange', fd: 3, line: '{"event":"idmap","mount":0}\n' },
        { op: 'recvFdMessage', socket: 9 },
      ]);
      // The target exists: the copy's kind is not asked.
      expect(sys.callsOf('fstat')).toEqual([]);
      expect(changes(sys).map((c) => c.op)).toEqual(['exchange', 'recvFdMessage', 'moveMount', 'mount']);
      expect(sys.callsOf('moveMount')[0]).toMatchObject({ toDirfd: fdOf(sys, '/r/d'), flags: MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH });
      // The source is never stat'd by path: it may be out of the namespace's root's reach.
      expect(sys.callsOf('stat')).toEqual([]);
      expect(sys.callsOf('close').map((c) => c.fd)).toContain(copy);
      expect(sys.mounts).toEqual([expect.objectContaining({ source: '/src/dir', target: '/r/d' })]);
      expect(sys.openFds()).toEqual([9]);
    });

    test('a missing target is made as the copy\'s kind, which fstat of the copy gives just before', () => {
      const { sys, go } = withCopy();
      go({ destination: '/new', idmap: { recursive: false } });
      const copy = sys.callsOf('moveMount')[0].fromDirfd;
      expect(sys.calls[sys.calls.findIndex((c) => c.op === 'mkdirat') - 1]).toEqual({ op: 'fstat', fd: copy });
      expect(sys.callsOf('stat')).toEqual([]);
      expect(sys.mounts).toEqual([expect.objectContaining({ source: '/src/dir', target: '/r/new' })]);
    });

    test('a refusal from the first process is the mount\'s error; nothing is made', () => {
      const { sys, go } = withCopy();
      sys.exchangeAnswers.push(JSON.stringify({ error: { syscall: 'mount_setattr', code: 'EINVAL', paths: ['/src/dir'], detail: 'the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it' } }));
      expect(() => go({ destination: '/d', idmap: { recursive: false } })).toThrow(
        'mounts: plugin bind mounts[0] "/d": the runtime channel: the idmapped copy: mount_setattr "/src/dir": EINVAL (the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it)',
      );
      expect(sys.callsOf('recvFdMessage')).toEqual([]);
      expect(sys.mounts).toEqual([]);
    });

    test("a copy tagged for another mount is refused and closed", () => {
      const { sys, go } = withCopy('5');
      expect(() => go({ destination: '/d', idmap: { recursive: false } })).toThrow('the idmap socket: the first process sent the copy of another mount ("5") for mount 0');
      expect(sys.callsOf('moveMount')).toEqual([]);
      expect(sys.mounts).toEqual([]);
      expect(sys.openFds()).toEqual([9]);
    });
  });
});
