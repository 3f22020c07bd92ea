import 'reflect-metadata';
import { MS_BIND, MS_REC, O_RDONLY, O_RDWR } from '../../../src/core/constants';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import type { LifecycleStep, MountHandler } from '../../../src/core/plugin';
import { FakeSyscalls, type FailOptions } from '../../../src/core/syscalls/fake';
import type { SyscallName } from '../../../src/core/syscalls/types';
import { CwdStep, ReopenDevNullStep, register } from '../../../src/plugins/after-jail';
import { makeConfig, makeMount } from '../../helpers/config';

type Config = Parameters<typeof makeConfig>[0];

/** Takes the config's bind mounts without doing anything: the steps here only read them. */
const ignoreBinds: MountHandler = { name: 'ignore-binds', types: ['bind'], mount: () => undefined };

/** The fake stands for the jailed process: its `/` is the container's root. */
function setup() {
  const sys = new FakeSyscalls();
  const run = (steps: LifecycleStep[], over: Config = {}) => new Orchestrator(sys, silentLogger, [ignoreBinds], steps).run(makeConfig(over));
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
  const mkdir = (path: string) => ({ op: 'mkdir', path, mode: 0o755 });

  test('creates the missing directories of process.cwd, 0755', () => {
    const { sys, run } = setup();
    sys.addDir('/work');
    run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd: '/work/deep/dir' } });
    expect(sys.effects()).toEqual([mkdir('/work/deep'), mkdir('/work/deep/dir')]);
    expect(sys.node('/work/deep/dir')).toMatchObject({ kind: 'dir', perm: 0o755 });
  });

  test('an existing cwd is left as it is', () => {
    const { sys, run } = setup();
    sys.addDir('/home/user', 0o700);
    run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd: '/home/user' } });
    expect(sys.effects()).toEqual([]);
  });

  test('an empty cwd does nothing', () => {
    const { sys, run } = setup();
    run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd: '' } });
    expect(sys.calls).toEqual([]);
  });

  test('".." cannot climb above the (jailed) root', () => {
    const { sys, run } = setup();
    run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd: '../../../x/./y' } });
    expect(sys.effects()).toEqual([mkdir('/x'), mkdir('/x/y')]);
  });

  test('a symlink on the way is followed', () => {
    const { sys, run } = setup();
    sys.addDir('/real').addSymlink('/link', '/real');
    run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd: '/link/sub' } });
    expect(sys.effects()).toEqual([mkdir('/link/sub')]);
    expect(sys.node('/real/sub')?.kind).toBe('dir');
  });

  test.each([
    ['the cwd is a file', '/work/file', 'mkdir "/work/file": ENOTDIR'],
    ['a parent is a file', '/work/file/sub', 'mkdir "/work/file": ENOTDIR'],
  ])('%s: a PluginError, nothing made', (_what, cwd, message) => {
    const { sys, run } = setup();
    sys.addFile('/work/file');
    expect(() => run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd } })).toThrow(`after-jail: plugin cwd: ${message}`);
    expect(sys.effects()).toEqual([]);
  });

  test('a failing mkdir is a PluginError', () => {
    const { sys, run } = setup();
    sys.failOn('mkdir', 'EROFS');
    expect(() => run([new CwdStep(sys)], { process: { ...makeConfig().process, cwd: '/a/b' } })).toThrow('after-jail: plugin cwd: mkdir "/a": EROFS');
    expect(sys.effects()).toEqual([mkdir('/a')]);
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
