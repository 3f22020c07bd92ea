import 'reflect-metadata';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { ExecveCalled, FakeSyscalls } from '../../../src/core/syscalls/fake';
import { candidates, envPath, HandoverStep, lookPath } from '../../../src/plugins/exec';
import { makeConfig } from '../../helpers/config';

describe('envPath / candidates', () => {
  test.each([
    [[], '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
    [['PATH=/bin'], '/bin'],
    [['PATH=/a', 'TERM=x', 'PATH=/b'], '/b'],
    [['XPATH=/x'], '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
  ])('envPath(%j) = %j', (env, expected) => expect(envPath(env)).toBe(expected));

  test.each([
    ['sh', '/bin:/usr/bin/', ['/bin/sh', '/usr/bin/sh']],
    ['./run', '/bin', ['./run']],
    ['/bin/true', '/x', ['/bin/true']],
    ['sh', ':/bin', ['sh', '/bin/sh']],
  ])('candidates(%j, %j)', (program, pathVar, expected) => expect(candidates(program, pathVar)).toEqual(expected));
});

describe('lookPath', () => {
  const sys = new FakeSyscalls();
  sys.addFile('/bin/notexec', '', 0o644);
  sys.addFile('/usr/bin/sh', '', 0o755);
  sys.addSymlink('/bin/sh', '/usr/bin/sh');
  sys.addDir('/usr/bin/dir');

  test.each([
    ['sh', '/bin:/usr/bin', '/bin/sh'],
    ['notexec', '/bin:/usr/bin', undefined],
    ['dir', '/usr/bin', undefined],
    ['/usr/bin/sh', '', '/usr/bin/sh'],
  ])('%j in %j', (program, pathVar, expected) => {
    if (expected) expect(lookPath(sys, program, pathVar)).toBe(expected);
    else expect(() => lookPath(sys, program, pathVar)).toThrow(`process.args[0] "${program}" is not found in PATH "${pathVar}"`);
  });

  test('an absolute program that is not executable', () => {
    expect(() => lookPath(sys, '/bin/notexec', '/bin')).toThrow('process.args[0] "/bin/notexec" is not an executable file');
  });
});

describe('handover step', () => {
  function setup() {
    const sys = new FakeSyscalls();
    sys.addFile('/bin/sh', '', 0o755);
    const config = makeConfig({ process: { args: ['sh', '-c', 'true'], env: ['PATH=/bin', 'A=1'], cwd: '/work', uid: 1000, gid: 100, terminal: false } });
    const run = () => new Orchestrator(sys, silentLogger, [], [new HandoverStep(sys)]).run(config);
    return { sys, run };
  }

  test('cwd, user, close-on-exec above stderr, then execve', () => {
    const { sys, run } = setup();
    expect(run).toThrow(ExecveCalled);
    expect(sys.effects()).toEqual([
      { op: 'chdir', path: '/work' },
      { op: 'setgroups', gids: [] },
      { op: 'setgid', gid: 100 },
      { op: 'setuid', uid: 1000 },
      { op: 'cloexecFrom', first: 3 },
      { op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin', 'A=1'] },
    ]);
  });

  test.each(['ENOSYS', 'EINVAL', 'EPERM'])('close_range answering %s: each descriptor /proc/self/fd lists from 3 up is marked, a closed one skipped', (errno) => {
    const { sys, run } = setup();
    for (const fd of ['0', '1', '2', '3', '7', '12']) sys.addFile(`/proc/self/fd/${fd}`);
    sys.failOn('cloexecFrom', errno).failOn('setCloexec', 'EBADF', { nth: 2 });
    expect(run).toThrow(ExecveCalled);
    expect(sys.calls.filter((c) => ['cloexecFrom', 'readdir', 'setCloexec', 'execve'].includes(c.op))).toEqual([
      { op: 'cloexecFrom', first: 3 },
      // The fake lists names in sort order; the second one marked, 3, is already closed.
      { op: 'readdir', path: '/proc/self/fd' },
      { op: 'setCloexec', fd: 12 },
      { op: 'setCloexec', fd: 3 },
      { op: 'setCloexec', fd: 7 },
      { op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin', 'A=1'] },
    ]);
  });

  test('close_range failing otherwise, or marking a descriptor failing otherwise than EBADF, is a PluginError', () => {
    const first = setup();
    first.sys.failOn('cloexecFrom', 'EBADF');
    expect(first.run).toThrow(/^finalize: plugin exec: close_range: EBADF$/);
    const second = setup();
    second.sys.addFile('/proc/self/fd/5');
    second.sys.failOn('cloexecFrom', 'ENOSYS').failOn('setCloexec', 'EPERM');
    expect(second.run).toThrow(/^finalize: plugin exec: fcntl\b.*: EPERM$/);
    expect(second.sys.callsOf('execve')).toEqual([]);
  });

  test('setgroups is skipped where the user namespace denies it', () => {
    const { sys, run } = setup();
    sys.addFile('/proc/self/setgroups', 'deny\n');
    expect(run).toThrow(ExecveCalled);
    expect(sys.callsOf('setgroups')).toEqual([]);
  });

  test.each(['chdir', 'setgid', 'setuid', 'execve'] as const)('a failing %s is a PluginError', (op) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EPERM');
    expect(run).toThrow(new RegExp(`^finalize: plugin exec: ${op}\\b.*: EPERM$`));
  });

  test('empty args is a config error', () => {
    const sys = new FakeSyscalls();
    const config = makeConfig({ process: { args: [], env: [], cwd: '/', uid: 0, gid: 0, terminal: false } });
    expect(() => new Orchestrator(sys, silentLogger, [], [new HandoverStep(sys)]).run(config)).toThrow(
      'finalize: plugin exec: process.args: must name the program to run',
    );
  });
});
