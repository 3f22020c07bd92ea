import 'reflect-metadata';
import { MS_BIND, MS_REC, O_CLOEXEC, O_DIRECTORY, O_PATH, O_RDONLY, O_RDWR } from '../../../src/core/constants';
import { IN_ROOT_RESOLVE } from '../../../src/core/in-root';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { LifecycleStep, MountHandler } from '../../../src/core/plugin';
import { FakeSyscalls, type FailOptions } from '../../../src/core/syscalls/fake';
import type { SyscallName } from '../../../src/core/syscalls/types';
import { CwdStep, ReopenDevNullStep, register } from '../../../src/plugins/after-jail';
import { beforeDotDots } from '../../../src/plugins/after-jail/cwd';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, fdOf } from '../../helpers/fd';

type Config = Parameters<typeof makeConfig>[0];

/** Takes the config's bind mounts without doing anything: the steps here only read them. */
const ignoreBinds: MountHandler = { name: 'ignore-binds', types: ['bind'], mount: () => undefined };

/** The fake stands for the jailed process: its `/` is the container's root. */
function setup() {
  const sys = new FakeSyscalls();
  const run = (steps: LifecycleStep[], over: Config = {}) => new Orchestrator(sys, silentLogger, [ignoreBinds], steps).run(makeConfig(over), { checkClaims: false });
  return { sys, run };
}

describe('reopen-devnull step', () => {
  /**
   * The container's /dev/null (1:3), the host's /dev/null left as a file with the same
   * device number, a terminal (5:0), a block device numbered 1:3 and a log file; stdio
   * fds are pointed at them before the recorded calls start. The fake hands out fds from
   * 100, so the three set-up opens take 100-102 and the step's /dev/null is 103.
   */
  function withStdio(targets: [string, string, string]) {
    const s = setup();
    s.sys.addDevice('/dev/null', 'char', 1, 3).addDevice('/old/null', 'char', 1, 3).addDevice('/dev/tty', 'char', 5, 0);
    s.sys.addDevice('/dev/blk13', 'block', 1, 3).addFile('/log');
    targets.forEach((path, fd) => {
      const tmp = s.sys.open(path, O_RDONLY, 0);
      s.sys.dup3(tmp, fd, 0);
      s.sys.close(tmp);
    });
    s.sys.clearCalls();
    return { ...s, step: new ReopenDevNullStep(s.sys) };
  }
  const open = { op: 'open', path: '/dev/null', flags: O_RDWR, mode: 0 };
  const dup = (fd: number) => ({ op: 'dup3', oldfd: 103, newfd: fd, flags: 0 });
  const close = { op: 'close', fd: 103 };

  test('fds on a /dev/null (matched by device number) are replaced; others are left', () => {
    const { sys, run, step } = withStdio(['/old/null', '/dev/tty', '/dev/null']);
    run([step]);
    expect(sys.effects()).toEqual([open, dup(0), dup(2), close]);
    expect(sys.callsOf('fstat').map((c) => c.fd)).toEqual([103, 0, 1, 2]);
  });

  test('a block device with /dev/null numbers and a regular file are left', () => {
    const { sys, run, step } = withStdio(['/dev/blk13', '/log', '/dev/tty']);
    run([step]);
    expect(sys.effects()).toEqual([open, close]);
  });

  test('nothing is done when a bind mount provides /dev', () => {
    const { sys, run, step } = withStdio(['/dev/null', '/dev/null', '/dev/null']);
    run([step], { mounts: [makeMount({ type: 'bind', source: '/dev', destination: '/dev', flags: MS_BIND | MS_REC })] });
    expect(sys.calls).toEqual([]);
  });

  test('a missing /dev/null is a PluginError', () => {
    const { sys, run } = setup();
    expect(() => run([new ReopenDevNullStep(sys)])).toThrow('after-jail: plugin reopen-devnull: open "/dev/null": ENOENT');
    expect(sys.effects()).toEqual([open]);
  });

  test.each<[string, SyscallName, FailOptions, string, object[]]>([
    ['open of /dev/null', 'open', {}, 'open "/dev/null": EIO', [open]],
    ['fstat of /dev/null', 'fstat', { nth: 1 }, 'fstat: EIO', [open, close]],
    ['fstat of stdout', 'fstat', { nth: 3 }, 'fstat: EIO', [open, dup(0), close]],
    ['dup3 onto stdin', 'dup3', {}, 'dup3: EIO', [open, dup(0), close]],
    ['dup3 onto stderr', 'dup3', { nth: 2 }, 'dup3: EIO', [open, dup(0), dup(2), close]],
    ['close of /dev/null', 'close', {}, 'close: EIO', [open, dup(0), dup(2), close]],
  ])('a failing %s is a PluginError; /dev/null is closed', (_what, op, opts, message, effects) => {
    const { sys, run, step } = withStdio(['/dev/null', '/dev/tty', '/dev/null']);
    sys.failOn(op, 'EIO', opts);
    expect(() => run([step])).toThrow(`after-jail: plugin reopen-devnull: ${message}`);
    expect(sys.effects()).toEqual(effects);
  });
});

describe('cwd step', () => {
  const mkdirat = (sys: FakeSyscalls, dir: string, name: string) => ({ op: 'mkdirat', dirfd: fdOf(sys, dir), path: name, mode: 0o755 });
  const cwdRun = (sys: FakeSyscalls, run: ReturnType<typeof setup>['run'], cwd: string) =>
    run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd } });

  test('creates the missing directories of process.cwd inside the root, 0755', () => {
    const { sys, run } = setup();
    sys.addDir('/work');
    cwdRun(sys, run, '/work/deep/dir');
    expect(changes(sys)).toEqual([mkdirat(sys, '/work', 'deep'), mkdirat(sys, '/work/deep', 'dir')]);
    expect(sys.node('/work/deep/dir')).toMatchObject({ kind: 'dir', perm: 0o755 });
    expect(sys.openFds()).toEqual([]);
  });

  test('a cwd through a missing directory and "..": that directory is made too, as the kernel walks through it (runc MkdirAll)', () => {
    const { sys, run } = setup();
    cwdRun(sys, run, '/new/../new2');
    expect(changes(sys)).toEqual([mkdirat(sys, '/', 'new'), mkdirat(sys, '/', 'new2')]);
    expect(sys.node('/new')).toMatchObject({ kind: 'dir' });
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['/a/../b', ['/a']],
    ['/a/b/../../c', ['/a/b', '/a/b/..']],
    ['/../x', []],
    ['/./../x', []],
    ['/a/b', []],
    ['/a/..', ['/a']],
  ])('beforeDotDots(%j) = %j', (path, expected) => expect(beforeDotDots(path)).toEqual(expected));

  test('an existing cwd is left as it is; the directory chdir(2) reaches is compared with the one looked up in the root', () => {
    const { sys, run } = setup();
    sys.addDir('/home/user', 0o700);
    cwdRun(sys, run, '/home/user');
    const PATH = O_PATH | O_CLOEXEC;
    expect(sys.calls).toEqual([
      { op: 'open', path: '/', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'home/user', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'close', fd: 100 },
      { op: 'fstat', fd: 101 },
      { op: 'open', path: '/home/user', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'fstat', fd: 102 },
      { op: 'close', fd: 102 },
      { op: 'close', fd: 101 },
    ]);
  });

  test('an empty cwd does nothing', () => {
    const { sys, run } = setup();
    cwdRun(sys, run, '');
    expect(sys.calls).toEqual([]);
  });

  test('".." cannot climb above the (jailed) root', () => {
    const { sys, run } = setup();
    cwdRun(sys, run, '../../../x/./y');
    expect(changes(sys)).toEqual([mkdirat(sys, '/', 'x'), mkdirat(sys, '/x', 'y')]);
  });

  test('a symlink on the way is followed inside the root', () => {
    const { sys, run } = setup();
    sys.addDir('/real').addSymlink('/link', '/../real');
    cwdRun(sys, run, '/link/sub');
    expect(changes(sys)).toEqual([mkdirat(sys, '/real', 'sub')]);
    expect(sys.node('/real/sub')?.kind).toBe('dir');
  });

  test('a cwd that chdir(2) would find elsewhere (a magic link to a leaked descriptor) is refused', () => {
    /** A kernel whose plain lookup of the cwd lands on another directory, as /proc/self/fd/N of a host directory does. */
    class Leaky extends FakeSyscalls {
      override open(path: string, flags: number, mode: number): number {
        return super.open(path === '/work' ? '/elsewhere' : path, flags, mode);
      }
    }
    const sys = new Leaky();
    sys.addDir('/work').addDir('/elsewhere');
    const run = (steps: LifecycleStep[], over: Config = {}) => new Orchestrator(sys, silentLogger, [ignoreBinds], steps).run(makeConfig(over), { checkClaims: false });
    expect(() => cwdRun(sys, run, '/work')).toThrow(
      `after-jail: plugin cwd: process.cwd "/work" leads outside the container's root: chdir(2) would not reach the directory it names inside it`,
    );
    expect(sys.openFds()).toEqual([]);
  });

  test.each([
    ['the cwd is a file', '/work/file', 'process.cwd "/work/file" is a file, not a directory'],
    ['a parent is a file', '/work/file/sub', 'openat2 "/work/file": ENOTDIR (looking up "sub" in it)'],
  ])('%s: a PluginError, nothing made', (_what, cwd, message) => {
    const { sys, run } = setup();
    sys.addFile('/work/file');
    expect(() => cwdRun(sys, run, cwd)).toThrow(`after-jail: plugin cwd: ${message}`);
    expect(changes(sys)).toEqual([]);
    expect(sys.openFds()).toEqual([]);
  });

  test('a failing mkdirat is a PluginError naming the directory it could not make', () => {
    const { sys, run } = setup();
    sys.failOn('mkdirat', 'EROFS');
    expect(() => cwdRun(sys, run, '/a/b')).toThrow('after-jail: plugin cwd: mkdirat "/a": EROFS');
    expect(changes(sys)).toEqual([mkdirat(sys, '/', 'a')]);
    expect(sys.openFds()).toEqual([]);
  });
});

test('register adds /dev/null reopening, then the cwd, both after the jail', () => {
  const steps: unknown[] = [];
  register({ step: (s: unknown) => steps.push(s) } as unknown as Parameters<typeof register>[0]);
  expect(steps).toEqual([ReopenDevNullStep, CwdStep]);
  const sys = new FakeSyscalls();
  expect([new ReopenDevNullStep(sys), new CwdStep(sys)]).toMatchObject([
    { name: 'reopen-devnull', phase: 'after-jail', order: 'normal' },
    { name: 'cwd', phase: 'after-jail', order: 'normal' },
  ]);
});
