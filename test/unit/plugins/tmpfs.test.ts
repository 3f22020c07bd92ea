import 'reflect-metadata';
import {
  MNT_DETACH,
  MOUNT_ATTR_NOSUID,
  MS_MOVE,
  MS_NODEV,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_REMOUNT,
  MS_SHARED,
  S_IFCHR,
  makedev,
} from '../../../src/core/constants';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { Logger } from '../../../src/core/plugin';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { TmpfsMountHandler } from '../../../src/plugins/tmpfs';
import { stagingPath } from '../../../src/plugins/tmpfs/copyup';
import { hasModeOption } from '../../../src/plugins/tmpfs/options';
import { makeConfig, makeMount } from '../../helpers/config';

const STAGING = '/tmp/.mountkit-tmpcopyup-0';

/** A logger that keeps the warnings, for the cleanup paths that only warn. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const log: Logger & { warnings: string[] } = {
    warnings,
    error: () => undefined,
    warn: (message) => warnings.push(message),
    info: () => undefined,
    debug: () => undefined,
    child: () => log,
  };
  return log;
}

function setup(over: { mountLabel?: string; log?: Logger } = {}) {
  const sys = new FakeSyscalls();
  sys.addDir('/r').addDir('/tmp', 0o1777);
  const { log = silentLogger, ...config } = over;
  const run = (...mounts: Parameters<typeof makeMount>[0][]) =>
    new Orchestrator(sys, log, [new TmpfsMountHandler(sys)], []).run(
      makeConfig({ rootfs: '/r', ...config, mounts: mounts.map((m, index) => makeMount({ index, ...m })) }),
    );
  return { sys, run };
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

describe('stagingPath', () => {
  test.each([
    [0, 0, '/tmp/.mountkit-tmpcopyup-0'],
    [7, 0, '/tmp/.mountkit-tmpcopyup-7'],
    [7, 1, '/tmp/.mountkit-tmpcopyup-7-1'],
    [7, 12, '/tmp/.mountkit-tmpcopyup-7-12'],
  ])('mounts[%d], attempt %d -> %s', (index, attempt, expected) => {
    expect(stagingPath(index, attempt)).toBe(expected);
  });
});

describe('tmpfs mount handler', () => {
  test('a missing target is created with its parents, then tmpfs is mounted with flags and data', () => {
    const { sys, run } = setup();
    run({ type: 'tmpfs', destination: '/a/b', flags: MS_NOSUID | MS_NODEV, data: 'size=65536k' });
    expect(sys.effects()).toEqual([
      { op: 'mkdir', path: '/r/a', mode: 0o755 },
      { op: 'mkdir', path: '/r/a/b', mode: 0o755 },
      tmpfsMount('/r/a/b', MS_NOSUID | MS_NODEV, 'size=65536k'),
    ]);
  });

  test.each([
    ['1777', 0o1777],
    ['0700', 0o700],
    ['2750', 0o2750],
  ])('an existing directory keeps its mode %s: chmod after the mount', (_octal, perm) => {
    const { sys, run } = setup();
    sys.addDir('/r/x', perm);
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m' });
    expect(sys.effects()).toEqual([tmpfsMount('/r/x', 0n, 'size=1m'), { op: 'chmod', path: '/r/x', mode: perm }]);
  });

  test('a mode= in the data wins over the existing directory: no chmod', () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o700);
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m,mode=755' });
    expect(sys.effects()).toEqual([tmpfsMount('/r/x', 0n, 'size=1m,mode=755')]);
  });

  test('propagation flags follow the mount one call each, then the mode, then recursive attributes', () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o750);
    run({
      type: 'tmpfs',
      destination: '/x',
      propagationFlags: [MS_PRIVATE, MS_SHARED | MS_REC],
      recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n },
    });
    expect(sys.effects()).toEqual([
      tmpfsMount('/r/x'),
      { op: 'mount', source: null, target: '/r/x', fstype: null, flags: MS_PRIVATE, data: null },
      { op: 'mount', source: null, target: '/r/x', fstype: null, flags: MS_SHARED | MS_REC, data: null },
      { op: 'chmod', path: '/r/x', mode: 0o750 },
      { op: 'mountSetattr', dirfd: -100, path: '/r/x', atFlags: 0x8000, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
    ]);
  });

  test('read-only over an existing directory: mounted writable, chmod, then remounted read-only', () => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o750);
    run({ type: 'tmpfs', destination: '/x', flags: MS_RDONLY | MS_NOSUID, data: 'size=1m' });
    expect(sys.effects()).toEqual([
      tmpfsMount('/r/x', MS_NOSUID, 'size=1m'),
      { op: 'chmod', path: '/r/x', mode: 0o750 },
      { op: 'mount', source: null, target: '/r/x', fstype: null, flags: MS_RDONLY | MS_NOSUID | MS_REMOUNT, data: null },
    ]);
  });

  test('read-only with nothing to write afterwards is mounted read-only at once', () => {
    const { sys, run } = setup();
    run({ type: 'tmpfs', destination: '/x', flags: MS_RDONLY });
    expect(sys.effects()).toEqual([{ op: 'mkdir', path: '/r/x', mode: 0o755 }, tmpfsMount('/r/x', MS_RDONLY)]);
    const { sys: sys2, run: run2 } = setup();
    sys2.addDir('/r/y', 0o700);
    run2({ type: 'tmpfs', destination: '/y', flags: MS_RDONLY, data: 'mode=700' });
    expect(sys2.effects()).toEqual([tmpfsMount('/r/y', MS_RDONLY, 'mode=700')]);
  });

  test('a read-only /dev is never remounted read-only here: the device nodes come later', () => {
    const { sys, run } = setup();
    sys.addDir('/r/dev', 0o755);
    run({ type: 'tmpfs', destination: '/dev', flags: MS_RDONLY | MS_NOSUID });
    expect(sys.effects()).toEqual([tmpfsMount('/r/dev', MS_NOSUID), { op: 'chmod', path: '/r/dev', mode: 0o755 }]);
  });

  test('with SELinux on and a mount label, the data carries context=', () => {
    const { sys, run } = setup({ mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' });
    sys.addFile('/sys/fs/selinux/enforce', '1');
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m' });
    expect(sys.callsOf('mount')).toEqual([
      tmpfsMount('/r/x', 0n, 'size=1m,context="system_u:object_r:container_file_t:s0:c1,c2"'),
    ]);
  });

  test('without SELinux the mount label is ignored', () => {
    const { sys, run } = setup({ mountLabel: 'system_u:object_r:container_file_t:s0' });
    run({ type: 'tmpfs', destination: '/x', data: 'size=1m' });
    expect(sys.callsOf('mount')).toEqual([tmpfsMount('/r/x', 0n, 'size=1m')]);
  });

  test('a symlinked destination resolves inside the rootfs', () => {
    const { sys, run } = setup();
    sys.addDir('/r/etc');
    sys.addSymlink('/r/escape', '/../../etc');
    run({ type: 'tmpfs', destination: '/escape/x' });
    expect(sys.callsOf('mount').map((c) => c.target)).toEqual(['/r/etc/x']);
  });

  test.each(['/proc', '/proc/sys'])('%s is refused before anything is made', (destination) => {
    const { sys, run } = setup();
    expect(() => run({ type: 'tmpfs', destination })).toThrow(
      `mounts: plugin tmpfs mounts[0] "${destination}": "${destination}" cannot be mounted because it is inside /proc`,
    );
    expect(sys.effects()).toEqual([]);
  });

  test.each([
    ['mkdir', 'mkdir "/r/x": EACCES'],
    ['mount', 'mount "tmpfs" -> "/r/x": EACCES'],
  ] as const)('a failing %s on a missing target is a PluginError naming mount, destination and syscall', (op, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES');
    expect(() => run({ type: 'tmpfs', destination: '/x' })).toThrow(`mounts: plugin tmpfs mounts[0] "/x": ${message}`);
  });

  test.each([
    ['chmod', 1, 'chmod "/r/x": EPERM'],
    ['remount', 2, 'mount "/r/x": EPERM'],
  ] as const)('on an existing read-only target a failing %s is a PluginError', (what, nth, message) => {
    const { sys, run } = setup();
    sys.addDir('/r/x', 0o700);
    sys.failOn(what === 'chmod' ? 'chmod' : 'mount', 'EPERM', { nth });
    expect(() => run({ type: 'tmpfs', destination: '/x', flags: MS_RDONLY })).toThrow(`mounts: plugin tmpfs mounts[0] "/x": ${message}`);
  });

  describe('tmpcopyup', () => {
    const copyUp = { type: 'tmpfs', destination: '/x', data: 'size=1m', extensions: { tmpcopyup: true } };

    test('mounts on a staging directory, copies the tree, moves it onto the target, removes the staging directory, keeps the mode', () => {
      const { sys, run } = setup();
      addLowerTree(sys);
      run(copyUp);
      expect(sys.effects()).toEqual([
        { op: 'mkdir', path: STAGING, mode: 0o700 },
        tmpfsMount(STAGING, 0n, 'size=1m'),
        { op: 'copyFile', source: '/r/x/a', dest: `${STAGING}/a` },
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
        { op: 'copyFile', source: '/r/x/sub/b', dest: `${STAGING}/sub/b` },
        { op: 'lchown', path: `${STAGING}/sub/b`, uid: 0, gid: 0 },
        { op: 'chmod', path: `${STAGING}/sub/b`, mode: 0o4755 },
        { op: 'mount', source: STAGING, target: '/r/x', fstype: null, flags: MS_MOVE, data: null },
        { op: 'rmdir', path: STAGING },
        { op: 'chmod', path: '/r/x', mode: 0o750 },
      ]);
      expect(sys.mounts.map((m) => [m.target, m.fstype])).toEqual([['/r/x', 'tmpfs']]);
      // The fake's mounts never change what paths resolve to, so the copies stay visible at the staging path.
      expect(sys.node(`${STAGING}/a`)).toMatchObject({ kind: 'file', content: 'alpha', perm: 0o640, uid: 1234 });
      expect(sys.node(`${STAGING}/l`)).toMatchObject({ kind: 'symlink', target: 'a' });
      expect(sys.node(`${STAGING}/sub/b`)).toMatchObject({ kind: 'file', content: 'beta', perm: 0o4755 });
    });

    test('propagation is set on the staging mount, which MS_MOVE carries to the target; recursive attributes come last', () => {
      const { sys, run } = setup();
      run({ ...copyUp, propagationFlags: [MS_SHARED], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } });
      expect(sys.effects()).toEqual([
        { op: 'mkdir', path: '/r/x', mode: 0o755 },
        { op: 'mkdir', path: STAGING, mode: 0o700 },
        tmpfsMount(STAGING, 0n, 'size=1m'),
        { op: 'mount', source: null, target: STAGING, fstype: null, flags: MS_SHARED, data: null },
        { op: 'mount', source: STAGING, target: '/r/x', fstype: null, flags: MS_MOVE, data: null },
        { op: 'rmdir', path: STAGING },
        { op: 'mountSetattr', dirfd: -100, path: '/r/x', atFlags: 0x8000, attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n, propagation: 0n },
      ]);
    });

    test('read-only: copied into a writable tmpfs, remounted read-only after the move and the chmod', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o755);
      run({ ...copyUp, flags: MS_RDONLY });
      expect(sys.effects()).toEqual([
        { op: 'mkdir', path: STAGING, mode: 0o700 },
        tmpfsMount(STAGING, 0n, 'size=1m'),
        { op: 'mount', source: STAGING, target: '/r/x', fstype: null, flags: MS_MOVE, data: null },
        { op: 'rmdir', path: STAGING },
        { op: 'chmod', path: '/r/x', mode: 0o755 },
        { op: 'mount', source: null, target: '/r/x', fstype: null, flags: MS_RDONLY | MS_REMOUNT, data: null },
      ]);
    });

    test('a taken staging name (a directory or a planted symlink) is skipped for -<index>-1, -2...', () => {
      const { sys, run } = setup();
      sys.addDir('/tmp/.mountkit-tmpcopyup-1');
      sys.addSymlink('/tmp/.mountkit-tmpcopyup-1-1', '/etc');
      run({ type: 'tmpfs', destination: '/y' }, { ...copyUp, index: 1 });
      expect(sys.callsOf('mkdir').map((c) => c.path)).toEqual([
        '/r/y',
        '/r/x',
        '/tmp/.mountkit-tmpcopyup-1',
        '/tmp/.mountkit-tmpcopyup-1-1',
        '/tmp/.mountkit-tmpcopyup-1-2',
      ]);
      expect(sys.callsOf('rmdir')).toEqual([{ op: 'rmdir', path: '/tmp/.mountkit-tmpcopyup-1-2' }]);
      expect(sys.node('/tmp/.mountkit-tmpcopyup-1')?.kind).toBe('dir');
    });

    test('creating the staging directory fails with anything but EEXIST: nothing to clean up', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x');
      sys.failOn('mkdir', 'EACCES', { path: STAGING });
      expect(() => run(copyUp)).toThrow(
        `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: creating a staging directory failed: mkdir "${STAGING}": EACCES`,
      );
      expect(sys.effects()).toEqual([{ op: 'mkdir', path: STAGING, mode: 0o700 }]);
    });

    test('the staging mount fails: the detach finds nothing there (EINVAL, not worth a warning), the directory is removed', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      sys.addDir('/r/x');
      sys.failOn('mount', 'EINVAL').failOn('umount2', 'EINVAL');
      expect(() => run(copyUp)).toThrow(
        `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: mounting on the staging directory failed: mount "tmpfs" -> "${STAGING}": EINVAL`,
      );
      expect(log.warnings).toEqual([]);
      expect(sys.effects()).toEqual([
        { op: 'mkdir', path: STAGING, mode: 0o700 },
        tmpfsMount(STAGING, 0n, 'size=1m'),
        { op: 'umount2', target: STAGING, flags: MNT_DETACH },
        { op: 'rmdir', path: STAGING },
      ]);
    });

    test.each([
      ['copyFile', `${STAGING}/a`, `copyFile "/r/x/a" -> "${STAGING}/a": ENOSPC`],
      ['lchown', `${STAGING}/a`, `lchown "${STAGING}/a": ENOSPC`],
      ['chmod', `${STAGING}/a`, `chmod "${STAGING}/a": ENOSPC`],
      ['symlink', `${STAGING}/l`, `symlink "a" -> "${STAGING}/l": ENOSPC`],
      ['mknod', `${STAGING}/null`, `mknod "${STAGING}/null": ENOSPC`],
      ['mkdir', `${STAGING}/sub`, `mkdir "${STAGING}/sub": ENOSPC`],
      ['copyFile', `${STAGING}/sub/b`, `copyFile "/r/x/sub/b" -> "${STAGING}/sub/b": ENOSPC`],
    ] as const)('a failing copy step (%s %s) detaches the staging mount, removes the directory, names the copy', (op, path, inner) => {
      const { sys, run } = setup();
      addLowerTree(sys);
      sys.failOn(op, 'ENOSPC', { path });
      let thrown: unknown;
      try {
        run(copyUp);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toMatchObject({
        name: 'PluginError',
        message: `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: copying "/x" failed: ${inner}`,
        cause: { name: 'StepError', cause: { name: 'SyscallError', syscall: op, code: 'ENOSPC' } },
      });
      const effects = sys.effects();
      expect(effects.slice(-3)).toEqual([
        expect.objectContaining({ op }),
        { op: 'umount2', target: STAGING, flags: MNT_DETACH },
        { op: 'rmdir', path: STAGING },
      ]);
      expect(effects.filter((c) => c.op === 'mount' && c.flags === MS_MOVE)).toEqual([]);
      expect(sys.mounts).toEqual([]);
    });

    test('a failing move detaches the staging mount and removes the directory; no chmod follows', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750);
      sys.failOn('mount', 'EINVAL', { nth: 2 });
      expect(() => run(copyUp)).toThrow(
        `mounts: plugin tmpfs mounts[0] "/x": tmpcopyup: moving the tmpfs onto "/x" failed: mount "${STAGING}" -> "/r/x": EINVAL`,
      );
      expect(sys.effects()).toEqual([
        { op: 'mkdir', path: STAGING, mode: 0o700 },
        tmpfsMount(STAGING, 0n, 'size=1m'),
        { op: 'mount', source: STAGING, target: '/r/x', fstype: null, flags: MS_MOVE, data: null },
        { op: 'umount2', target: STAGING, flags: MNT_DETACH },
        { op: 'rmdir', path: STAGING },
      ]);
      expect(sys.mounts).toEqual([]);
    });

    test('the chmod after the move fails: a PluginError, the staging directory already removed', () => {
      const { sys, run } = setup();
      sys.addDir('/r/x', 0o750);
      sys.failOn('chmod', 'EPERM', { path: '/r/x' });
      expect(() => run(copyUp)).toThrow('mounts: plugin tmpfs mounts[0] "/x": chmod "/r/x": EPERM');
      expect(sys.effects().slice(-2)).toEqual([
        { op: 'rmdir', path: STAGING },
        { op: 'chmod', path: '/r/x', mode: 0o750 },
      ]);
    });

    test('a failing detach is logged and the original error is what fails the run', () => {
      const log = recordingLogger();
      const { sys, run } = setup({ log });
      addLowerTree(sys);
      sys.failOn('copyFile', 'EIO').failOn('umount2', 'EBUSY');
      expect(() => run(copyUp)).toThrow(`tmpcopyup: copying "/x" failed: copyFile "/r/x/a" -> "${STAGING}/a": EIO`);
      expect(sys.effects().slice(-2)).toEqual([
        { op: 'umount2', target: STAGING, flags: MNT_DETACH },
        { op: 'rmdir', path: STAGING },
      ]);
      expect(log.warnings).toEqual(['tmpcopyup: detaching the staging mount failed']);
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
