import 'reflect-metadata';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import * as path from 'path';
import { posix } from 'path';
import type { HookSpec, SeccompSpec } from '../../../src/core/config/model';
import { memoryLogger, type MemoryLogger } from '../../../src/testing/logger';
import { AT_EMPTY_PATH, O_CLOEXEC, O_PATH, O_RDONLY, O_WRONLY } from '../../../src/core/constants';
import { PROC_FILE_RESOLVE, PROC_ROOT_FLAGS } from '../../../src/core/procfs';
import { StepError } from '../../../src/core/errors';
import { ExecveCalled, FakeSyscalls } from '../../../src/core/syscalls/fake';
import { candidates, envPath, HandoverStep, lookPath, OomScoreAdjStep, OomScoreAfterHooksStep, SeccompStep, SetgroupsPolicyStep } from '../../../src/plugins/exec';
import { decodeProgram } from '../../../src/core/seccomp/enosys';
import type { RunContext } from '../../../src/core/plugin';
import { CONSOLE_KEY } from '../../../src/plugins/exec/console';
import { SelinuxStateStep } from '../../../src/plugins/prepare-root';
import { AUDIT_ARCH_X86_64 } from '../../../src/core/seccomp/names';
import { runFilter } from '../../helpers/bpf';
import { makeConfig } from '../../helpers/config';
import { containerProcChecked, viaFd } from '../../helpers/fd';

/** The warnings a memoryLogger kept, in order. */
const warningsOf = (log: MemoryLogger): string[] => log.entries.filter((e) => e.level === 'warn').map((e) => e.message);

describe('envPath / candidates', () => {
  test.each([
    [[], ''],
    [['PATH=/bin'], '/bin'],
    [['PATH=/a', 'TERM=x', 'PATH=/b'], '/b'],
    [['XPATH=/x'], ''],
  ])('envPath(%j) = %j', (env, expected) => expect(envPath(env)).toBe(expected));

  test.each([
    ['sh', '/bin:/usr/bin/', ['/bin/sh', '/usr/bin/sh']],
    ['./run', '/bin', ['./run']],
    ['/bin/true', '/x', ['/bin/true']],
    ['sh', ':/bin', ['sh', '/bin/sh']],
    ['sh', '', []],
    ['./run', '', ['./run']],
    // Each entry joined and cleaned as text, as Go's filepath.Join (runc's exec.LookPath): the kernel never sees `..`, `.` or `//` there.
    ['echo', '/nope/../bin:/bin/.://usr//bin//:/', ['/bin/echo', '/bin/echo', '/usr/bin/echo', '/echo']],
    ['sh', '.:bin/..:../x', ['sh', 'sh', '../x/sh']],
    ['', '/bin/', ['/bin']],
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

  test("a PATH entry is cleaned as text before it is looked up, as runc's Go lookup cleans it: /nope/../bin finds /bin/echo though /nope is missing", () => {
    const here = new FakeSyscalls().addFile('/bin/echo', '', 0o755);
    expect(lookPath(here, 'echo', '/nope/../bin')).toBe('/bin/echo');
    expect(here.calls).toEqual([{ op: 'stat', path: '/bin/echo' }]);
    here.clearCalls();
    expect(() => lookPath(here, 'echo', '/bin/../nope:/bin/./..')).toThrow('process.args[0] "echo" is not found in PATH "/bin/../nope:/bin/./.."');
    expect(here.calls).toEqual([
      { op: 'stat', path: '/nope/echo' },
      { op: 'stat', path: '/echo' },
    ]);
  });

  test.each([
    ['a file without an execute bit', '/bin/notexec', 'its mode 0644 has no execute bit'],
    ['a directory', '/bin', 'it is a directory'],
    ['a missing file', '/bin/nope', 'stat: ENOENT'],
    ['a missing directory on the way', '/nope/sh', 'stat: ENOENT'],
    ['a device with execute bits', '/dev/x', 'it is a character device'],
    ['a dangling link', '/bin/dangling', 'stat: ENOENT'],
  ])('a program named by its path that is no executable file (%s) says why: the errno, its kind or its mode', (_what, program, why) => {
    const here = new FakeSyscalls().addFile('/bin/notexec', '', 0o644).addDevice('/dev/x', 'char', 1, 3, 0o777).addSymlink('/bin/dangling', '/nowhere');
    expect(() => lookPath(here, program, '/bin')).toThrow(new StepError(`process.args[0] ${JSON.stringify(program)} is not an executable file: ${why}`));
    expect(here.calls).toEqual([{ op: 'stat', path: program }]);
  });

  test('no PATH in process.env: a name is not found, as under runc; a path still is', () => {
    expect(() => lookPath(sys, 'sh', '')).toThrow('process.args[0] "sh" is not found: process.env has no PATH, or an empty one');
    expect(lookPath(sys, '/usr/bin/sh', '')).toBe('/usr/bin/sh');
  });

  test.each([
    ['an empty entry', ':/usr/bin', 'sh'],
    ['a relative entry', 'usr/bin:/usr/bin', 'usr/bin/sh'],
  ])('a program found through %s of PATH is refused, as runc refuses it (Go exec.ErrDot)', (_what, pathVar, found) => {
    const here = new FakeSyscalls().addFile('/usr/bin/sh', '', 0o755).addFile('/sh', '', 0o755);
    expect(() => lookPath(here, 'sh', pathVar)).toThrow(
      `process.args[0] "sh" is found relative to the working directory (${JSON.stringify(found)}, through PATH ${JSON.stringify(pathVar)}), which runc refuses to run`,
    );
    // A relative entry that finds nothing is passed over.
    expect(lookPath(here, 'sh', `nowhere:${pathVar.split(':').pop()}`)).toBe('/usr/bin/sh');
  });
});

/** The handover's fcntl(2)s taking O_NONBLOCK off the standard streams. */
const STREAMS_BLOCKING = [0, 1, 2].map((fd) => ({ op: 'setBlocking', fd }));

describe('handover step', () => {
  function setup() {
    const sys = new FakeSyscalls();
    sys.addFile('/bin/sh', '', 0o755).addDir('/work');
    // HOME given: the passwd lookup without it has a test of its own.
    const config = makeConfig({ process: { args: ['sh', '-c', 'true'], env: ['PATH=/bin', 'A=1', 'HOME=/home/u'], cwd: '/work', uid: 1000, gid: 100, terminal: false } });
    // The host's SELinux answer is asked before the jail (prepare-root's selinux-state), for a config with a label only.
    const run = Object.assign(() => new Orchestrator(sys, silentLogger, [], [new SelinuxStateStep(sys), new HandoverStep(sys)]).run(config, { checkClaims: false }), { config });
    return { sys, run };
  }

  /** What setup()'s handover changes up to its hooks: the cwd, the user, close-on-exec above stderr. */
  const BEFORE_HOOKS = [
    { op: 'chdir', path: '/work' },
    ...STREAMS_BLOCKING,
    { op: 'setDumpable', dumpable: false },
    { op: 'setgroups', gids: [] },
    { op: 'setgid', gid: 100 },
    { op: 'setuid', uid: 1000 },
    { op: 'cloexecFrom', first: 3 },
  ];
  const EXECVE = { op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin', 'A=1', 'HOME=/home/u'] };

  test('cwd, user, close-on-exec above stderr, then execve', () => {
    const { sys, run } = setup();
    expect(run).toThrow(ExecveCalled);
    expect(sys.effects()).toEqual([...BEFORE_HOOKS, EXECVE]);
  });

  test("at info level the program's path is logged once it is found, as the program is next; a program not found logs none", () => {
    const run = (args: string[]) => {
      const log = memoryLogger();
      const sys = new FakeSyscalls().addFile('/bin/sh', '', 0o755);
      const config = makeConfig({ process: { args, env: ['PATH=/usr/bin:/bin'], cwd: '/', uid: 0, gid: 0, terminal: false } });
      try {
        new Orchestrator(sys, log, [], [new HandoverStep(sys)]).run(config, { checkClaims: false });
      } catch {
        // ExecveCalled, or the program not found.
      }
      return log.entries.filter((e) => e.level === 'info').map((e) => [e.message, e.meta]);
    };
    expect(run(['sh'])).toEqual([['starting the program', { plugin: 'exec', path: '/bin/sh' }]]);
    expect(run(['nope'])).toEqual([]);
  });

  test('the process is made undumpable before its capabilities and identity change; a refusal stops the run before them', () => {
    const { sys, run } = setup();
    sys.failOn('setDumpable', 'EINVAL');
    expect(run).toThrow('finalize: plugin exec: prctl: EINVAL');
    expect(sys.effects().map((c) => c.op)).toEqual(['chdir', 'setBlocking', 'setBlocking', 'setBlocking', 'setDumpable']);
  });

  test.each(['EACCES', 'EPERM'])("a cwd root is refused (%s) is entered again once the user has changed, before the capabilities, as runc's init enters it", (errno) => {
    const { sys, run } = setup();
    run.config.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: [], ambient: [] };
    sys.lastCap = 5;
    sys.failOn('chdir', errno);
    expect(run).toThrow(ExecveCalled);
    expect(sys.effects()).toEqual([
      { op: 'chdir', path: '/work' },
      ...STREAMS_BLOCKING,
      { op: 'setDumpable', dumpable: false },
      ...[0, 1, 2, 3, 4].map((cap) => ({ op: 'capbsetDrop', cap })),
      { op: 'setKeepCaps', keep: true },
      { op: 'setgroups', gids: [] },
      { op: 'setgid', gid: 100 },
      { op: 'setuid', uid: 1000 },
      { op: 'chdir', path: '/work' },
      { op: 'setKeepCaps', keep: false },
      { op: 'capset', effective: 1n << 5n, permitted: 1n << 5n, inheritable: 0n },
      { op: 'ambientClearAll' },
      { op: 'cloexecFrom', first: 3 },
      EXECVE,
    ]);
  });

  test('a cwd the user is refused too stops the run after the user change; any other refusal of the first chdir stops it at once', () => {
    const refused = setup();
    refused.sys.failOn('chdir', 'EACCES', { times: 2 });
    expect(refused.run).toThrow('finalize: plugin exec: chdir "/work": EACCES');
    expect(refused.sys.effects()).toEqual([...BEFORE_HOOKS.slice(0, -1), { op: 'chdir', path: '/work' }]);
    const missing = setup();
    missing.sys.failOn('chdir', 'ENOENT');
    expect(missing.run).toThrow('finalize: plugin exec: chdir "/work": ENOENT');
    expect(missing.sys.effects()).toEqual([{ op: 'chdir', path: '/work' }]);
  });

  test("execve's ENOENT for the program lookPath found names its interpreter (#! line or ELF loader) as missing; another errno is as the kernel gave it", () => {
    const { sys, run } = setup();
    sys.failOn('execve', 'ENOENT');
    expect(run).toThrow('finalize: plugin exec: execve "/bin/sh": ENOENT (the file is there: the interpreter it names, its #! line\'s or an ELF program\'s loader, is not)');
    expect(sys.effects()).toEqual([...BEFORE_HOOKS, EXECVE]);
    const other = setup();
    other.sys.failOn('execve', 'EACCES');
    expect(other.run).toThrow(/plugin exec: execve "\/bin\/sh": EACCES$/);
  });

  /** The container's /proc/thread-self/fd listing these names: its procfs's, unless told otherwise (then a directory of the image). */
  function withFdListing(sys: FakeSyscalls, names: string[], procfs = true): void {
    if (procfs) sys.addProcfs();
    for (const name of names) sys.addFile(`${procfs ? '/proc/1/task/1/fd' : '/proc/thread-self/fd'}/${name}`);
    sys.clearCalls();
  }

  test.each(['ENOSYS', 'EINVAL', 'EPERM'])('close_range answering %s: each descriptor the procfs lists from 3 up is marked, a closed one skipped', (errno) => {
    const { sys, run } = setup();
    withFdListing(sys, ['0', '1', '2', '3', '7', '12']);
    sys.failOn('cloexecFrom', errno).failOn('setCloexec', 'EBADF', { nth: 2 });
    expect(run).toThrow(ExecveCalled);
    expect(sys.calls.filter((c) => !['readFile', 'chdir', 'setBlocking', 'fstat', 'setDumpable', 'setgroups', 'setgid', 'setuid', 'stat'].includes(c.op))).toEqual([
      { op: 'cloexecFrom', first: 3 },
      ...containerProcChecked(100, 101).filter((c) => c.op !== 'fstat'),
      // The fake lists names in sort order; the second one marked, 3, is already closed.
      { op: 'readdir', path: '/proc/thread-self/fd' },
      { op: 'setCloexec', fd: 12 },
      { op: 'setCloexec', fd: 3 },
      { op: 'setCloexec', fd: 7 },
      { op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin', 'A=1', 'HOME=/home/u'] },
    ]);
  });

  test("without HOME in process.env, the user's home from the container's /etc/passwd is added, read before the user changes; duplicates go", () => {
    const { sys, run } = setup();
    // The container's procfs, which the file is read through.
    sys.addProcfs().addFile('/etc/passwd', 'root:x:0:0::/root:/bin/sh\nu:x:1000:100::/home/u1000:/bin/sh\n');
    run.config.process.env = ['A=0', 'PATH=/bin', 'A=1'];
    expect(run).toThrow(ExecveCalled);
    const at = (op: string) => sys.calls.findIndex((c) => c.op === op);
    expect(sys.callsOf('readFile')[0]).toEqual({ op: 'readFile', path: viaFd(sys, '/etc/passwd') });
    expect(at('readFile')).toBeLessThan(at('setuid'));
    expect(sys.callsOf('execve')[0].envp).toEqual(['PATH=/bin', 'A=1', 'HOME=/home/u1000']);
  });

  test('only decimal names are descriptors: anything else the directory holds is no number to mark', () => {
    const { sys, run } = setup();
    withFdListing(sys, ['4', '5x', ' 6', '0x7', '-1']);
    sys.failOn('cloexecFrom', 'ENOSYS');
    expect(run).toThrow(ExecveCalled);
    expect(sys.callsOf('setCloexec')).toEqual([{ op: 'setCloexec', fd: 4 }]);
  });

  test('without close_range, a /proc/thread-self/fd not on a procfs is refused before anything is marked or run', () => {
    const { sys, run } = setup();
    withFdListing(sys, ['0', '1', '2'], false);
    sys.failOn('cloexecFrom', 'ENOSYS');
    expect(run).toThrow(
      'finalize: plugin exec: marking descriptors close-on-exec without close_range(2) needs the container\'s procfs: "/proc/thread-self/fd" is not a procfs file ("/proc" is not a procfs: f_type 0xef53)',
    );
    expect(sys.callsOf('readdir')).toEqual([]);
    expect(sys.callsOf('execve')).toEqual([]);
  });

  test('close_range failing otherwise, or marking a descriptor failing otherwise than EBADF, is a PluginError', () => {
    const first = setup();
    first.sys.failOn('cloexecFrom', 'EBADF');
    expect(first.run).toThrow(/^finalize: plugin exec: close_range: EBADF$/);
    const second = setup();
    withFdListing(second.sys, ['5']);
    second.sys.failOn('cloexecFrom', 'ENOSYS').failOn('setCloexec', 'EPERM');
    expect(second.run).toThrow(/^finalize: plugin exec: fcntl\b.*: EPERM$/);
    expect(second.sys.callsOf('execve')).toEqual([]);
  });

  /** Puts a file of the fake on descriptor `fd`, as the stream the process inherited: on a filesystem of type `fstype` when given, owned by `uid`. */
  function stream(sys: FakeSyscalls, fd: number, path: string, uid: number, fstype?: string): void {
    sys.addFile(path);
    if (fstype) sys.mount(fstype, posix.dirname(path), fstype, 0n, null);
    sys.chown(path, uid, 0);
    sys.dup3(sys.open(path, O_RDONLY, 0), fd, 0);
    sys.clearCalls();
  }

  test("a non-root user gets its pipe and socket streams, not a host terminal's or file's, nor one it owns; only the owner changes", () => {
    const { sys, run } = setup();
    stream(sys, 0, '/pipes/in', 0, 'pipefs');
    stream(sys, 1, '/sockets/out', 0, 'sockfs');
    stream(sys, 2, '/var/log/err', 0);
    expect(run).toThrow(ExecveCalled);
    expect(sys.calls.slice(1, 14)).toEqual([
      { op: 'fstat', fd: 0 },
      { op: 'fstatfs', fd: 0 },
      { op: 'fchownat', dirfd: 0, path: '', uid: 1000, gid: -1, flags: AT_EMPTY_PATH },
      { op: 'fstat', fd: 1 },
      { op: 'fstatfs', fd: 1 },
      { op: 'fchownat', dirfd: 1, path: '', uid: 1000, gid: -1, flags: AT_EMPTY_PATH },
      { op: 'fstat', fd: 2 },
      { op: 'fstatfs', fd: 2 },
      ...STREAMS_BLOCKING,
      { op: 'setDumpable', dumpable: false },
      // No /proc file is read after the jail: setgroups' policy is SetgroupsPolicyStep's, read before it.
      { op: 'setgroups', gids: [] },
    ]);
    expect([sys.node('/pipes/in')?.uid, sys.node('/sockets/out')?.uid, sys.node('/var/log/err')?.uid]).toEqual([1000, 1000, 0]);
  });

  test('a devpts terminal is given only when it is the container\'s console (the console step says so): a host terminal keeps its owner', () => {
    for (const console of [false, true]) {
      const sys = new FakeSyscalls().addFile('/bin/sh', '', 0o755);
      stream(sys, 0, '/dev/pts/0', 0, 'devpts');
      const config = makeConfig({ process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 1000, gid: 100, terminal: true } });
      const said = { name: 'console', phase: 'after-jail' as const, run: (ctx: RunContext) => void (console && ctx.shared.set(CONSOLE_KEY, true)) };
      expect(() => new Orchestrator(sys, silentLogger, [], [said, new HandoverStep(sys)]).run(config, { checkClaims: false })).toThrow(ExecveCalled);
      expect([console, sys.node('/dev/pts/0')?.uid]).toEqual([console, console ? 1000 : 0]);
    }
  });

  test('a stream already the user\'s, a closed one, and a refused chown (EPERM, EROFS) are left alone; another failure stops the run', () => {
    const { sys, run } = setup();
    stream(sys, 0, '/pipes/in', 1000, 'pipefs');
    stream(sys, 1, '/pipes/out', 0, 'pipefs');
    sys.failOn('fchownat', 'EPERM');
    expect(run).toThrow(ExecveCalled);
    expect(sys.callsOf('fstat').map((c) => c.fd)).toEqual([0, 1, 2]);
    expect(sys.callsOf('fchownat')).toHaveLength(1);
    const other = setup();
    stream(other.sys, 1, '/pipes/out', 0, 'pipefs');
    other.sys.failOn('fchownat', 'EIO');
    expect(other.run).toThrow('finalize: plugin exec: fchownat "/pipes/out": EIO');
  });

  test('a root process gives no stream away; its streams are made blocking all the same', () => {
    const sys = new FakeSyscalls();
    sys.addFile('/bin/sh', '', 0o755);
    stream(sys, 1, '/pipes/out', 1000, 'pipefs');
    const config = makeConfig({ process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, terminal: false } });
    expect(() => new Orchestrator(sys, silentLogger, [], [new HandoverStep(sys)]).run(config, { checkClaims: false })).toThrow(ExecveCalled);
    expect(sys.callsOf('fstat')).toEqual([]);
    expect(sys.callsOf('setBlocking')).toEqual(STREAMS_BLOCKING);
  });

  test('every standard stream is made blocking, after the streams are given and before the identity; a closed one stays closed; another failure stops the run', () => {
    const { sys, run } = setup();
    stream(sys, 1, '/pipes/out', 0, 'pipefs');
    stream(sys, 2, '/pipes/err', 0, 'pipefs');
    sys.setNonBlocking(1);
    sys.setNonBlocking(2);
    sys.close(0);
    sys.clearCalls();
    expect(run).toThrow(ExecveCalled);
    expect(sys.calls.slice(0, 15)).toEqual([
      { op: 'chdir', path: '/work' },
      { op: 'fstat', fd: 0 },
      { op: 'fstat', fd: 1 },
      { op: 'fstatfs', fd: 1 },
      { op: 'fchownat', dirfd: 1, path: '', uid: 1000, gid: -1, flags: AT_EMPTY_PATH },
      { op: 'fstat', fd: 2 },
      { op: 'fstatfs', fd: 2 },
      { op: 'fchownat', dirfd: 2, path: '', uid: 1000, gid: -1, flags: AT_EMPTY_PATH },
      ...STREAMS_BLOCKING,
      { op: 'setDumpable', dumpable: false },
      { op: 'setgroups', gids: [] },
      { op: 'setgid', gid: 100 },
      { op: 'setuid', uid: 1000 },
    ]);
    expect([...sys.nonBlocking]).toEqual([]);
    const other = setup();
    stream(other.sys, 2, '/pipes/err', 0, 'pipefs');
    other.sys.failOn('setBlocking', 'EIO', { nth: 3 });
    expect(other.run).toThrow('finalize: plugin exec: fcntl "/pipes/err": EIO');
    expect(other.sys.callsOf('setgid')).toEqual([]);
  });

  test('process.user.additionalGids become the supplementary groups', () => {
    const { sys, run } = setup();
    sys.addFile('/proc/self/setgroups', 'allow\n');
    run.config.process.additionalGids = [5, 27];
    expect(run).toThrow(ExecveCalled);
    expect(sys.callsOf('setgroups')).toEqual([{ op: 'setgroups', gids: [5, 27] }]);
  });

  test('a group given twice, as a config built in code may give it, is given once where it was first given (as runc)', () => {
    const { sys, run } = setup();
    sys.addFile('/proc/self/setgroups', 'allow\n');
    run.config.process.additionalGids = [50, 2000, 50, 7, 2000];
    expect(run).toThrow(ExecveCalled);
    expect(sys.callsOf('setgroups')).toEqual([{ op: 'setgroups', gids: [50, 2000, 7] }]);
  });

  test('additionalGids where the user namespace denies setgroups: not given, as runc skips them there, and a warning names them', () => {
    const log = memoryLogger();
    const sys = new FakeSyscalls();
    sys.addFile('/bin/sh', '', 0o755).addFile('/proc/self/setgroups', 'deny\n');
    const config = makeConfig({ process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 1000, gid: 100, additionalGids: [5], terminal: false } });
    expect(() => new Orchestrator(sys, log, [], [new SetgroupsPolicyStep(sys), new HandoverStep(sys)]).run(config, { checkClaims: false })).toThrow(ExecveCalled);
    expect(sys.callsOf('setgroups')).toEqual([]);
    expect(sys.callsOf('setuid')).toEqual([{ op: 'setuid', uid: 1000 }]);
    expect(warningsOf(log)).toEqual(['process.user.additionalGids [5] not given: setgroups(2) is denied in this user namespace (/proc/self/setgroups)']);
  });

  test('rootless (run by a user other than root): setgroups(2) is never called, so the user\'s own supplementary groups stay, as under runc; additionalGids are refused', () => {
    const { sys, run } = setup();
    sys.addFile('/proc/self/setgroups', 'allow\n');
    run.config.rootless = true;
    expect(run).toThrow(ExecveCalled);
    expect([sys.callsOf('setgroups'), sys.callsOf('setgid').length, sys.callsOf('setuid').length]).toEqual([[], 1, 1]);
    const refused = setup();
    refused.run.config.rootless = true;
    refused.run.config.process.additionalGids = [5];
    expect(refused.run).toThrow('finalize: plugin exec: process.user.additionalGids "[5]": cannot be given in a rootless container (mountkit runs as a user other than root, whose own supplementary groups it keeps), as runc refuses them');
    expect(refused.sys.callsOf('setuid')).toEqual([]);
  });

  test('process.noNewPrivileges: no_new_privs right after the identity, before descriptors are marked and hooks run; its failure stops the run', () => {
    const { sys, run } = setup();
    run.config.process.noNewPrivileges = true;
    expect(run).toThrow(ExecveCalled);
    expect(sys.effects().map((c) => c.op)).toEqual(['chdir', 'setBlocking', 'setBlocking', 'setBlocking', 'setDumpable', 'setgroups', 'setgid', 'setuid', 'setNoNewPrivs', 'cloexecFrom', 'execve']);
    const failing = setup();
    failing.run.config.process.noNewPrivileges = true;
    failing.sys.failOn('setNoNewPrivs', 'EINVAL');
    expect(failing.run).toThrow('finalize: plugin exec: prctl: EINVAL');
    expect(failing.sys.callsOf('execve')).toEqual([]);
  });

  test('process.rlimits: a hard limit raised first, while CAP_SYS_RESOURCE is held; each set exactly last, after the hooks, before execve; a refusal names it', () => {
    const { sys, run } = setup();
    sys.limits.set(7, { soft: 20000n, hard: 20000n });
    run.config.process.rlimits = [
      { type: 'RLIMIT_NOFILE', resource: 7, soft: 1024n, hard: 1024n },
      { type: 'RLIMIT_CORE', resource: 4, soft: 0n, hard: 0xffffffffffffffffn },
    ];
    run.config.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
    run.config.hooks = { prestart: [], createRuntime: [], startContainer: [{ path: '/bin/s', args: [], env: [] }] };
    sys.lastCap = 0;
    expect(run).toThrow(ExecveCalled);
    const ops = sys.calls.filter((c) => ['getrlimit', 'setrlimit', 'capbsetDrop', 'stat', 'runCommand', 'execve'].includes(c.op));
    expect(ops).toEqual([
      // Only CORE's hard limit goes up (from the 4096 the fake starts with); NOFILE's goes down, later.
      { op: 'getrlimit', resource: 7 },
      { op: 'getrlimit', resource: 4 },
      { op: 'setrlimit', resource: 4, soft: 1024n, hard: 0xffffffffffffffffn },
      { op: 'capbsetDrop', cap: 0 },
      { op: 'stat', path: '/bin/sh' },
      expect.objectContaining({ op: 'runCommand' }),
      { op: 'setrlimit', resource: 7, soft: 1024n, hard: 1024n },
      { op: 'setrlimit', resource: 4, soft: 0n, hard: 0xffffffffffffffffn },
      expect.objectContaining({ op: 'execve' }),
    ]);
    const refused = setup();
    refused.run.config.process.rlimits = [{ type: 'RLIMIT_NOFILE', resource: 7, soft: 1n << 40n, hard: 1n << 40n }];
    refused.sys.failOn('setrlimit', 'EPERM');
    expect(refused.run).toThrow('finalize: plugin exec: process.rlimits[0] RLIMIT_NOFILE (soft 1099511627776, hard 1099511627776): prlimit: EPERM');
    expect(refused.sys.callsOf('setuid')).toEqual([]);
  });

  describe('LSM labels', () => {
    /** The handover's fake with the container's /proc a procfs (thread-self leading to this process's thread 1/task/1), and these files in it. */
    function lsmSetup(files: string[], thread = '1/task/1') {
      const { sys, run } = setup();
      for (const file of files) sys.addFile(file);
      sys.addDir('/proc/1/task/1/fd').addSymlink('/proc/thread-self', thread).addSymlink('/proc/self', '1').mount('proc', '/proc', 'proc', 0n, null);
      sys.clearCalls();
      return { sys, run };
    }

    /** Opening the container's /proc (descriptor 100), verifying it is a procfs's root, and reading which thread this is there. */
    const ROOT_AND_THREAD = [
      { op: 'open', path: '/proc', flags: PROC_ROOT_FLAGS, mode: 0 },
      { op: 'fstatfs', fd: 100 },
      { op: 'fstat', fd: 100 },
      { op: 'readlinkat', dirfd: 100, path: 'thread-self' },
    ];
    const openBelow = (path: string) => ({ op: 'openat2', dirfd: 100, path, flags: O_WRONLY | O_CLOEXEC, mode: 0, resolve: PROC_FILE_RESOLVE });

    test('process.apparmorProfile: "exec PROFILE" to AppArmor\'s own exec attribute, or the shared one before Linux 5.8, first after the cwd, through the verified procfs', () => {
      const own = lsmSetup(['/proc/1/attr/apparmor/exec', '/proc/1/attr/exec']);
      own.run.config.process.apparmorProfile = 'docker-default';
      expect(own.run).toThrow(ExecveCalled);
      expect(own.sys.calls.slice(0, 8)).toEqual([
        { op: 'chdir', path: '/work' },
        ...ROOT_AND_THREAD,
        openBelow('1/attr/apparmor/exec'),
        { op: 'write', fd: 101, data: 'exec docker-default' },
        { op: 'close', fd: 101 },
      ]);
      expect(own.sys.node('/proc/1/attr/apparmor/exec')?.content).toBe('exec docker-default');
      const legacy = lsmSetup(['/proc/1/attr/exec']);
      legacy.run.config.process.apparmorProfile = 'docker-default';
      expect(legacy.run).toThrow(ExecveCalled);
      expect(legacy.sys.calls.slice(5, 9)).toEqual([openBelow('1/attr/apparmor/exec'), openBelow('1/attr/exec'), { op: 'write', fd: 101, data: 'exec docker-default' }, { op: 'close', fd: 101 }]);
      expect(legacy.sys.node('/proc/1/attr/exec')?.content).toBe('exec docker-default');
    });

    test('a refused profile (EINVAL: no AppArmor, or no such profile) stops the run before the program, with a hint', () => {
      const { sys, run } = lsmSetup(['/proc/1/attr/exec']);
      run.config.process.apparmorProfile = 'docker-default';
      sys.failOn('write', 'EINVAL');
      expect(run).toThrow('finalize: plugin exec: process.apparmorProfile "docker-default": write "/proc/self/attr/exec": EINVAL (is AppArmor enabled, and the profile loaded?)');
      expect(sys.callsOf('execve')).toEqual([]);
    });

    test('process.selinuxLabel: written to this thread\'s exec attribute before the identity changes; refused on a host without SELinux', () => {
      const { sys, run } = lsmSetup(['/proc/1/task/1/attr/exec']);
      sys.addSelinuxfs();
      run.config.process.selinuxLabel = 'system_u:system_r:container_t:s0:c1,c2';
      expect(run).toThrow(ExecveCalled);
      // The host asked first (selinux-state, descriptor 100: the fake never gives a number twice), then the container's /proc.
      expect(sys.calls.slice(0, 4)).toEqual([
        { op: 'open', path: '/sys/fs/selinux', flags: O_PATH | O_CLOEXEC, mode: 0 },
        { op: 'fstatfs', fd: 100 },
        { op: 'close', fd: 100 },
        { op: 'readFile', path: '/proc/thread-self/attr/current' },
      ]);
      const from = sys.calls.findIndex((c) => c.op === 'open' && c.path === '/proc');
      expect(sys.calls.slice(from, from + 9)).toEqual([
        { op: 'open', path: '/proc', flags: PROC_ROOT_FLAGS, mode: 0 },
        { op: 'fstatfs', fd: 101 },
        { op: 'fstat', fd: 101 },
        { op: 'readlinkat', dirfd: 101, path: 'thread-self' },
        { ...openBelow('1/task/1/attr/exec'), dirfd: 101 },
        { op: 'write', fd: 102, data: 'system_u:system_r:container_t:s0:c1,c2' },
        { op: 'close', fd: 102 },
        { op: 'setDumpable', dumpable: false },
        { op: 'setgroups', gids: [] },
      ]);
      expect(sys.node('/proc/1/task/1/attr/exec')?.content).toBe('system_u:system_r:container_t:s0:c1,c2');
      const without = lsmSetup(['/proc/1/task/1/attr/exec']);
      without.run.config.process.selinuxLabel = 'system_u:system_r:container_t:s0';
      expect(without.run).toThrow('prepare-root: plugin selinux-state: process.selinuxLabel "system_u:system_r:container_t:s0": is set, but SELinux is disabled or not supported on this host');
      expect(without.sys.callsOf('write')).toEqual([]);
    });

    test('a label is never written where the container\'s /proc is no procfs, or through a symlink or a mount in it, or to another process\'s attributes', () => {
      const refusal = (found: string) => `finalize: plugin exec: process.apparmorProfile "docker-default": "/proc/self/attr/apparmor/exec" is not a procfs file (${found})`;
      const image = setup();
      image.sys.addFile('/elsewhere/exec').addSymlink('/proc/self', '/elsewhere/..').addFile('/proc/thread-self/fd/0');
      image.sys.clearCalls();
      image.run.config.process.apparmorProfile = 'docker-default';
      expect(image.run).toThrow(refusal('"/proc" is not a procfs: f_type 0xef53'));
      expect([image.sys.callsOf('write'), image.sys.callsOf('execve')]).toEqual([[], []]);
      const linked = lsmSetup(['/elsewhere/apparmor/exec']);
      linked.sys.addSymlink('/proc/1/attr', '/elsewhere');
      linked.run.config.process.apparmorProfile = 'docker-default';
      expect(linked.run).toThrow(refusal('a symlink on the way'));
      expect(linked.sys.node('/elsewhere/apparmor/exec')?.content).toBe('');
      const covered = lsmSetup(['/proc/1/attr/apparmor/exec']);
      covered.sys.mount('tmpfs', '/proc/1/attr', 'tmpfs', 0n, null);
      covered.run.config.process.apparmorProfile = 'docker-default';
      expect(covered.run).toThrow(refusal('a mount crossed on the way'));
      const thread = lsmSetup(['/proc/7/attr/apparmor/exec'], '7/task/8');
      thread.run.config.process.apparmorProfile = 'docker-default';
      expect(thread.run).toThrow(refusal('"/proc/thread-self" leads to "7/task/8", not a process\'s leading thread (PID/task/PID)'));
      expect(thread.sys.callsOf('write')).toEqual([]);
    });

    test('without a /proc at all the AppArmor label is refused naming its own attribute, /proc opened once (the older attribute is tried only for a file the procfs lacks)', () => {
      const none = setup();
      none.run.config.process.apparmorProfile = 'docker-default';
      expect(none.sys.node('/proc')).toBeUndefined();
      expect(none.run).toThrow('finalize: plugin exec: process.apparmorProfile "docker-default": "/proc/self/attr/apparmor/exec" is not a procfs file ("/proc" is missing)');
      expect(none.sys.calls.filter((c) => c.op === 'open' && c.path === '/proc')).toHaveLength(1);
    });

    test("a procfs of another pid namespace than the container's (a bind of the host's /proc) numbers this process its own way: the label goes to the process its thread-self names", () => {
      const host = lsmSetup(['/proc/7/attr/apparmor/exec'], '7/task/7');
      host.run.config.process.apparmorProfile = 'docker-default';
      expect(host.run).toThrow(ExecveCalled);
      expect(host.sys.node('/proc/7/attr/apparmor/exec')?.content).toBe('exec docker-default');
    });
  });

  describe('process.capabilities', () => {
    const KILL = 5;
    const NET_BIND = 10;
    const caps = { bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'], effective: ['CAP_KILL'], permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'], inheritable: ['CAP_NET_BIND_SERVICE'], ambient: ['CAP_NET_BIND_SERVICE'] };

    test("as runc's init: the bounding set dropped to the config's and keep-caps on before the user changes; keep-caps off, capset, the ambient set after it", () => {
      const { sys, run } = setup();
      sys.lastCap = 12;
      run.config.process.capabilities = caps;
      expect(run).toThrow(ExecveCalled);
      const dropped = Array.from({ length: 13 }, (_, cap) => cap).filter((cap) => cap !== KILL && cap !== NET_BIND);
      expect(sys.effects()).toEqual([
        { op: 'chdir', path: '/work' },
        ...STREAMS_BLOCKING,
        { op: 'setDumpable', dumpable: false },
        ...dropped.map((cap) => ({ op: 'capbsetDrop', cap })),
        { op: 'setKeepCaps', keep: true },
        { op: 'setgroups', gids: [] },
        { op: 'setgid', gid: 100 },
        { op: 'setuid', uid: 1000 },
        { op: 'setKeepCaps', keep: false },
        { op: 'capset', effective: 1n << 5n, permitted: (1n << 5n) | (1n << 10n), inheritable: 1n << 10n },
        { op: 'ambientClearAll' },
        { op: 'ambientRaise', cap: NET_BIND },
        { op: 'cloexecFrom', first: 3 },
        { op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin', 'A=1', 'HOME=/home/u'] },
      ]);
      expect([...sys.bounding].filter((cap) => cap <= sys.lastCap).sort((a, b) => a - b)).toEqual([KILL, NET_BIND]);
      // The kernel's last capability was asked of PR_CAPBSET_READ, never of /proc/sys/kernel/cap_last_cap.
      expect(sys.callsOf('capbsetRead').length).toBeGreaterThan(0);
      expect(sys.callsOf('readFile').map((c) => c.path)).not.toContain('/proc/sys/kernel/cap_last_cap');
    });

    test('every set empty (a config.json without capabilities): the bounding set emptied, nothing raised', () => {
      const { sys, run } = setup();
      sys.lastCap = 3;
      run.config.process.capabilities = { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] };
      expect(run).toThrow(ExecveCalled);
      expect(sys.callsOf('capbsetDrop').map((c) => c.cap)).toEqual([0, 1, 2, 3]);
      expect(sys.callsOf('capset')).toEqual([{ op: 'capset', effective: 0n, permitted: 0n, inheritable: 0n }]);
      expect(sys.callsOf('ambientRaise')).toEqual([]);
    });

    test('a config built in code without capabilities leaves them alone', () => {
      const { sys, run } = setup();
      expect(run).toThrow(ExecveCalled);
      expect(sys.calls.filter((c) => c.op.startsWith('cap') || c.op.includes('Caps') || c.op.startsWith('ambient'))).toEqual([]);
    });

    test('names the kernel lacks are warned of and left out; an ambient capability that cannot be raised is left out with a debug line; a failing capset stops the run', () => {
      const log = memoryLogger();
      const sys = new FakeSyscalls();
      sys.addFile('/bin/sh', '', 0o755);
      sys.lastCap = 37;
      sys.failOn('ambientRaise', 'EPERM');
      const process = { args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, terminal: false, capabilities: { ...caps, bounding: ['CAP_KILL', 'CAP_BPF', 'CAP_NOPE', '', 'CAP_X\nmountkit: forged'] } };
      expect(() => new Orchestrator(sys, log, [], [new HandoverStep(sys)]).run(makeConfig({ process }), { checkClaims: false })).toThrow(ExecveCalled);
      expect(log.entries.filter((e) => !e.message.startsWith('phase ')).map((e) => [e.level, e.message])).toEqual([
        // Quoted: an empty name shows, and a newline in one stays inside the line.
        ['warn', 'process.capabilities: ignoring unknown or unavailable "", "CAP_BPF", "CAP_NOPE", "CAP_X\\nmountkit: forged"'],
        ['debug', 'process.capabilities.ambient: CAP_NET_BIND_SERVICE not raised: prctl: EPERM'],
        ['info', 'starting the program'],
      ]);
      const failing = setup();
      failing.run.config.process.capabilities = caps;
      failing.sys.failOn('capset', 'EPERM');
      expect(failing.run).toThrow('finalize: plugin exec: capset: EPERM');
      expect(failing.sys.callsOf('execve')).toEqual([]);
    });

    test('an effective capability the permitted set lacks (capset(2) would answer EPERM) stops the run naming both fields, before the step changes anything (the streams given to the container\'s uid, the limits, the bounding set, the ids, the capability sets)', () => {
      const { sys, run } = setup();
      sys.lastCap = 12;
      run.config.process.capabilities = { ...caps, effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'], permitted: ['CAP_KILL'] };
      expect(run).toThrow(
        'finalize: plugin exec: process.capabilities.effective: CAP_NET_BIND_SERVICE, CAP_CHOWN not in process.capabilities.permitted, and capset(2) refuses an effective capability that is not permitted (EPERM)',
      );
      expect(sys.effects()).toEqual([]);
    });

    test('without CAP_SETPCAP (EPERM to every drop), one already gone from the bounding set is passed over; one still in it stops the run, naming it', () => {
      const { sys, run } = setup();
      sys.lastCap = 6;
      sys.bounding.delete(0);
      sys.bounding.delete(1);
      sys.failOn('capbsetDrop', 'EPERM', { times: 2 });
      run.config.process.capabilities = caps;
      expect(run).toThrow(ExecveCalled);
      expect(sys.calls.filter((c) => c.op === 'capbsetDrop' || c.op === 'capbsetRead').slice(-8)).toEqual([
        { op: 'capbsetDrop', cap: 0 },
        { op: 'capbsetRead', cap: 0 },
        { op: 'capbsetDrop', cap: 1 },
        { op: 'capbsetRead', cap: 1 },
        { op: 'capbsetDrop', cap: 2 },
        { op: 'capbsetDrop', cap: 3 },
        { op: 'capbsetDrop', cap: 4 },
        { op: 'capbsetDrop', cap: 6 },
      ]);
      const refused = setup();
      refused.run.config.process.capabilities = caps;
      refused.sys.failOn('capbsetDrop', 'EPERM');
      expect(refused.run).toThrow(
        'finalize: plugin exec: process.capabilities.bounding: CAP_CHOWN cannot be dropped from the bounding set without CAP_SETPCAP, which mountkit lacks (prctl: EPERM)',
      );
      expect(refused.sys.callsOf('setuid')).toEqual([]);
    });

    test('a kernel without ambient capabilities (EINVAL to the clear) raises none and goes on', () => {
      const { sys, run } = setup();
      run.config.process.capabilities = caps;
      sys.failOn('ambientClearAll', 'EINVAL');
      expect(run).toThrow(ExecveCalled);
      expect(sys.callsOf('ambientRaise')).toEqual([]);
    });
  });

  describe('startContainer hooks', () => {
    const hook = (path: string, over: Partial<HookSpec> = {}): HookSpec => ({ path, args: [], ...over });

    test("without HOME in process.env, a hook that names no environment gets the program's, HOME from /etc/passwd included", () => {
      const { sys, run } = setup();
      sys.addFile('/etc/passwd', 'u:x:1000:100::/home/u:/bin/sh\n');
      run.config.process.env = ['PATH=/bin'];
      run.config.hooks = { prestart: [], createRuntime: [], startContainer: [hook('/bin/s1')] };
      expect(run).toThrow(ExecveCalled);
      const [hookRun] = sys.callsOf('runCommand');
      expect(hookRun.cmd.env).toEqual(['PATH=/bin', 'HOME=/home/u']);
      expect(sys.callsOf('execve')[0].envp).toEqual(['PATH=/bin', 'HOME=/home/u']);
    });

    test('a hook with an empty env gets none, as under runc (only one without env gets the program\'s)', () => {
      const { sys, run } = setup();
      run.config.hooks = { prestart: [], createRuntime: [], startContainer: [hook('/bin/s1', { env: [] })] };
      expect(run).toThrow(ExecveCalled);
      expect(sys.callsOf('runCommand')[0].cmd.env).toEqual([]);
    });

    test('they run last before execve: as the container user, with descriptors marked close-on-exec and the program found; in its cwd, with its environment when they name none', () => {
      const { sys, run } = setup();
      sys.pid = 1;
      run.config.hooks = { prestart: [], createRuntime: [], startContainer: [hook('/bin/s1'), hook('/bin/s2', { args: ['s2', '-v'], env: ['OWN=1'], timeout: 2 })] };
      expect(run).toThrow(ExecveCalled);
      const state = JSON.stringify({ ociVersion: '1.0.2', id: path.basename(run.config.bundle), status: 'created', pid: 1, bundle: run.config.bundle });
      expect(sys.effects().slice(-5)).toEqual([
        { op: 'setuid', uid: 1000 },
        { op: 'cloexecFrom', first: 3 },
        { op: 'runCommand', cmd: { path: '/bin/s1', args: [], env: ['PATH=/bin', 'A=1', 'HOME=/home/u'], dir: '/work', stdin: state } },
        { op: 'runCommand', cmd: { path: '/bin/s2', args: ['-v'], env: ['OWN=1'], dir: '/work', stdin: state, argv0: 's2', timeoutMs: 2000 } },
        { op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin', 'A=1', 'HOME=/home/u'] },
      ]);
      // The program is looked up before the hooks run (a missing one fails first, as in runc).
      const lookup = sys.calls.findIndex((c) => c.op === 'stat' && c.path === '/bin/sh');
      expect(lookup).toBeLessThan(sys.calls.findIndex((c) => c.op === 'runCommand'));
    });

    test('passed descriptors (listening, then preserved) are given back after the hooks, before the limits: close-on-exec cleared where they are; LISTEN_FDS and LISTEN_PID=1 appended to the environment', () => {
      const { sys, run } = setup();
      for (const fd of [3, 4, 5]) sys.inheritFile(fd);
      Object.assign(run.config, { listenFds: 1, preserveFds: 2 });
      run.config.process.rlimits = [{ type: 'RLIMIT_NOFILE', resource: 7, soft: 64n, hard: 64n }];
      run.config.hooks = { prestart: [], createRuntime: [], startContainer: [hook('/bin/s1')] };
      expect(run).toThrow(ExecveCalled);
      const envp = ['PATH=/bin', 'A=1', 'HOME=/home/u', 'LISTEN_FDS=1', 'LISTEN_PID=1'];
      expect(sys.effects().filter((c) => c.op !== 'setrlimit' || c.soft === 64n).slice(-7)).toEqual([
        { op: 'cloexecFrom', first: 3 },
        { op: 'runCommand', cmd: expect.objectContaining({ path: '/bin/s1', env: envp }) },
        { op: 'clearCloexec', fd: 3 },
        { op: 'clearCloexec', fd: 4 },
        { op: 'clearCloexec', fd: 5 },
        { op: 'setrlimit', resource: 7, soft: 64n, hard: 64n },
        { ...EXECVE, envp },
      ]);
    });

    test('in a relaunch, which holds them after its own: the runtime channel moved after them, each dup3(2)ed to its number, and the exec event sent on the channel where it is now', () => {
      const { sys, run } = setup();
      sys.inheritSocket(3).inheritFile(10).inheritFile(11);
      Object.assign(run.config, { preserveFds: 2, passedFdsAt: 10, runtimeChannel: 3 });
      run.config.hooks = { prestart: [], createRuntime: [], startContainer: [hook('/bin/s1')], poststart: [hook('/bin/announce')] };
      expect(run).toThrow(ExecveCalled);
      expect(sys.effects()).toEqual([
        ...BEFORE_HOOKS,
        { op: 'runCommand', cmd: expect.objectContaining({ path: '/bin/s1' }) },
        { op: 'dup3', oldfd: 3, newfd: 12, flags: O_CLOEXEC },
        { op: 'dup3', oldfd: 10, newfd: 3, flags: 0 },
        { op: 'dup3', oldfd: 11, newfd: 4, flags: 0 },
        { op: 'write', fd: 12, data: '{"event":"exec"}\n' },
        EXECVE,
      ]);
    });

    test('a passed descriptor that cannot be given back fails the run before execve, naming it', () => {
      const { sys, run } = setup();
      sys.inheritFile(3);
      sys.failOn('clearCloexec', 'EPERM');
      run.config.preserveFds = 1;
      expect(run).toThrow('finalize: plugin exec: --preserve-fds 1, descriptor 3: fcntl "file:[inherited 3]": EPERM');
      expect(sys.callsOf('execve')).toEqual([]);
    });

    test('with a runtime channel, the exec event goes down the channel last before execve, in one write, poststart hooks or none; not without a channel', () => {
      const poststart = [hook('/bin/announce')];
      for (const hooks of [{ prestart: [], createRuntime: [], startContainer: [hook('/bin/s1')], poststart }, { prestart: [], createRuntime: [], startContainer: [hook('/bin/s1')], poststop: poststart }]) {
        const { sys, run } = setup();
        run.config.hooks = hooks;
        run.config.runtimeChannel = 3;
        expect(run).toThrow(ExecveCalled);
        expect(sys.effects()).toEqual([
          ...BEFORE_HOOKS,
          { op: 'runCommand', cmd: expect.objectContaining({ path: '/bin/s1' }) },
          { op: 'write', fd: 3, data: '{"event":"exec"}\n' },
          EXECVE,
        ]);
      }
      const other = setup();
      Object.assign(other.run.config, { runtimeChannel: undefined, hooks: { prestart: [], createRuntime: [], poststart } });
      expect(other.run).toThrow(ExecveCalled);
      expect(other.sys.callsOf('write')).toEqual([]);
    });

    test('a channel that cannot take the event stops the run before execve, naming it', () => {
      const { sys, run } = setup();
      run.config.runtimeChannel = 3;
      sys.failOn('write', 'EPIPE');
      expect(run).toThrow('finalize: plugin exec: the runtime channel: write: EPIPE');
      expect(sys.callsOf('execve')).toEqual([]);
    });

    test('with execNotice (bin/mountkit\'s pipe), the exec event goes there too, after the runtime channel\'s, last before execve; one it cannot take stops the run before execve, naming it', () => {
      const both = setup();
      Object.assign(both.run.config, { runtimeChannel: 3, execNotice: 4 });
      both.run.config.hooks = { prestart: [], createRuntime: [], startContainer: [hook('/bin/s1')] };
      expect(both.run).toThrow(ExecveCalled);
      expect(both.sys.effects()).toEqual([
        ...BEFORE_HOOKS,
        { op: 'runCommand', cmd: expect.objectContaining({ path: '/bin/s1' }) },
        { op: 'write', fd: 3, data: '{"event":"exec"}\n' },
        { op: 'write', fd: 4, data: '{"event":"exec"}\n' },
        EXECVE,
      ]);
      const alone = setup();
      alone.run.config.execNotice = 3;
      expect(alone.run).toThrow(ExecveCalled);
      expect(alone.sys.effects().slice(-2)).toEqual([{ op: 'write', fd: 3, data: '{"event":"exec"}\n' }, EXECVE]);
      const refused = setup();
      refused.run.config.execNotice = 3;
      refused.sys.failOn('write', 'EPERM');
      expect(refused.run).toThrow('finalize: plugin exec: execNotice 3: write: EPERM');
      expect(refused.sys.callsOf('execve')).toEqual([]);
    });

    test('an execNotice among the numbers the passed descriptors take is refused before the step changes anything, naming it', () => {
      const { sys, run } = setup();
      sys.inheritFile(3).inheritFile(4);
      Object.assign(run.config, { preserveFds: 2, execNotice: 4 });
      expect(run).toThrow('finalize: plugin exec: execNotice 4: is among the descriptors passed to the container (3 to 4)');
      expect(sys.effects()).toEqual([]);
      const after = setup();
      after.sys.inheritFile(3).inheritFile(4);
      Object.assign(after.run.config, { preserveFds: 1, execNotice: 4 });
      expect(after.run).toThrow(ExecveCalled);
      expect(after.sys.effects().slice(-3)).toEqual([{ op: 'clearCloexec', fd: 3 }, { op: 'write', fd: 4, data: '{"event":"exec"}\n' }, EXECVE]);
    });

    test('a failing hook stops the run before execve, naming it', () => {
      const { sys, run } = setup();
      sys.commandResult = { status: 1, signal: null, output: 'not ready\n' };
      run.config.hooks = { prestart: [], createRuntime: [], startContainer: [hook('/bin/check')] };
      expect(run).toThrow('finalize: plugin exec: hook startContainer[0] "/bin/check" failed (exit status 1): not ready');
      expect(sys.callsOf('execve')).toEqual([]);
    });
  });

  describe('setgroups policy', () => {
    /** The handover with SetgroupsPolicyStep before the jail, and a jail step that makes /proc/self/setgroups say `after` (the container's /proc). */
    function policySetup(before: string | undefined, after: string | undefined) {
      const { sys, run } = setup();
      if (before !== undefined) sys.addFile('/proc/self/setgroups', before);
      const jail = { name: 'jail', phase: 'jail' as const, run: () => (after === undefined ? sys.unlink('/proc/self/setgroups') : sys.addFile('/proc/self/setgroups', after)) };
      const steps = [new SetgroupsPolicyStep(sys), jail, new HandoverStep(sys)];
      return { sys, run: () => new Orchestrator(sys, silentLogger, [], steps).run(run.config, { checkClaims: false }), config: run.config };
    }

    test('read before the jail from the host\'s procfs, never after it: the container\'s /proc saying "deny" keeps no groups', () => {
      const { sys, run } = policySetup('allow\n', 'deny\n');
      expect(run).toThrow(ExecveCalled);
      expect(sys.calls.filter((c) => c.op === 'readFile' || c.op === 'setgroups')).toEqual([
        { op: 'readFile', path: '/proc/self/setgroups' },
        { op: 'setgroups', gids: [] },
      ]);
      expect(sys.calls.indexOf(sys.callsOf('readFile')[0])).toBeLessThan(sys.calls.indexOf(sys.callsOf('chdir')[0]));
    });

    test('skipped where the user namespace denies it (read before the jail), whatever the container\'s /proc says', () => {
      const { sys, run } = policySetup('deny\n', 'allow\n');
      expect(run).toThrow(ExecveCalled);
      expect(sys.callsOf('setgroups')).toEqual([]);
      expect(sys.callsOf('readFile')).toEqual([{ op: 'readFile', path: '/proc/self/setgroups' }]);
    });

    test('no /proc/self/setgroups before the jail (no procfs, Linux before 3.19): setgroups is called; other read failures stop the run', () => {
      const { sys, run } = policySetup(undefined, 'deny\n');
      expect(run).toThrow(ExecveCalled);
      expect(sys.callsOf('setgroups')).toEqual([{ op: 'setgroups', gids: [] }]);
      const failing = policySetup('allow\n', 'allow\n');
      failing.sys.failOn('readFile', 'EACCES');
      expect(failing.run).toThrow('before-jail: plugin setgroups-policy: readFile "/proc/self/setgroups": EACCES');
    });

    test('rootless: not read (setgroups is never called); the handover alone calls setgroups, refused where denied rather than skipped', () => {
      const rootless = policySetup('deny\n', 'deny\n');
      rootless.config.rootless = true;
      expect(rootless.run).toThrow(ExecveCalled);
      expect([rootless.sys.callsOf('readFile'), rootless.sys.callsOf('setgroups')]).toEqual([[], []]);
      const { sys, run } = setup();
      sys.addFile('/proc/self/setgroups', 'deny\n');
      expect(run).toThrow(ExecveCalled);
      expect([sys.callsOf('readFile'), sys.callsOf('setgroups')]).toEqual([[], [{ op: 'setgroups', gids: [] }]]);
    });
  });

  // chdir's EPERM is tried again as the user (its test above): EPERM twice fails.
  test.each(['chdir', 'setgid', 'setuid', 'execve'] as const)('a failing %s is a PluginError', (op) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EPERM', { times: 2 });
    expect(run).toThrow(new RegExp(`^finalize: plugin exec: ${op}\\b.*: EPERM$`));
  });

  test('empty args is a config error', () => {
    const sys = new FakeSyscalls();
    const config = makeConfig({ process: { args: [], env: [], cwd: '/', uid: 0, gid: 0, terminal: false } });
    expect(() => new Orchestrator(sys, silentLogger, [], [new HandoverStep(sys)]).run(config, { checkClaims: false })).toThrow(
      'finalize: plugin exec: process.args: must name the program to run',
    );
  });
});

describe('seccomp', () => {
  const ENOSYS = 0x00050000 | 38;
  const EPERM = 0x00050000 | 1;
  const SPEC_ALLOW = 4;
  const profile = (fields: Partial<SeccompSpec> = {}): SeccompSpec => ({
    defaultAction: 'SCMP_ACT_ERRNO',
    architectures: ['SCMP_ARCH_X86_64'],
    syscalls: [{ names: ['read', 'clone3', 'nosuch'], action: 'SCMP_ACT_ALLOW', args: [] }],
    ...fields,
  });

  function setup(seccomp: SeccompSpec | null = profile(), log = memoryLogger()) {
    const sys = new FakeSyscalls();
    sys.addFile('/bin/sh', '', 0o755);
    sys.lastCap = 1;
    const config = makeConfig({
      process: { args: ['sh'], env: ['PATH=/bin', 'HOME=/'], cwd: '/', uid: 1000, gid: 100, terminal: false, capabilities: { bounding: [], effective: [], permitted: [], inheritable: [], ambient: [] } },
      ...(seccomp ? { seccomp } : {}),
    });
    const run = Object.assign(() => new Orchestrator(sys, log, [], [new SeccompStep(sys), new HandoverStep(sys)]).run(config, { checkClaims: false }), { config });
    return { sys, run, log };
  }

  test('built first in the run (prepare-root, pre), while the host\'s libseccomp can be loaded; without no_new_privs loaded before the capabilities and the user change', () => {
    const { sys, run } = setup();
    expect([new SeccompStep(sys).phase, new SeccompStep(sys).order]).toEqual(['prepare-root', 'pre']);
    expect(run).toThrow(ExecveCalled);
    expect(sys.calls[0]).toEqual({
      op: 'seccompCompile',
      filter: {
        defaultAction: EPERM,
        architectures: [{ arch: AUDIT_ARCH_X86_64, field: 'linux.seccomp.architectures[0]' }],
        rules: ['read', 'clone3', 'nosuch'].map((syscall) => ({ syscall, action: 0x7fff0000, args: [], field: 'linux.seccomp.syscalls[0]' })),
        binaryTree: false,
        names: ['read', 'clone3', 'nosuch'],
      },
    });
    // The process readied for execve(2) before the filter: execve makes no call of its own under it.
    expect(sys.effects().map((c) => c.op)).toEqual(['chdir', 'setBlocking', 'setBlocking', 'setBlocking', 'setDumpable', 'prepareExec', 'seccompLoad', 'capbsetDrop', 'capbsetDrop', 'setKeepCaps', 'setgroups', 'setgid', 'setuid', 'setKeepCaps', 'capset', 'ambientClearAll', 'cloexecFrom', 'execve']);
    const [load] = sys.callsOf('seccompLoad');
    expect(load.flags).toBe(SPEC_ALLOW);
    // The ENOSYS stub, then libseccomp's program (the fake's: the default action): above clone3 (435, the largest the profile names) ENOSYS.
    const program = decodeProgram(load.program);
    expect(runFilter(program, { arch: AUDIT_ARCH_X86_64, nr: 436 })).toBe(ENOSYS);
    expect(runFilter(program, { arch: AUDIT_ARCH_X86_64, nr: 435 })).toBe(EPERM);
    expect(runFilter(program, { arch: AUDIT_ARCH_X86_64, nr: 2 })).toBe(EPERM);
  });

  test('no ENOSYS stub for an architecture the profile does not list, the native one included, as runc judges them: a newer syscall meets the default action', () => {
    const { sys, run } = setup(profile({ architectures: [] }));
    expect(run).toThrow(ExecveCalled);
    const program = decodeProgram(sys.callsOf('seccompLoad')[0].program);
    expect(program).toEqual([{ code: 0x06, jt: 0, jf: 0, k: EPERM }]);
    expect(runFilter(program, { arch: AUDIT_ARCH_X86_64, nr: 436 })).toBe(EPERM);
  });

  test('with no_new_privs: loaded as late as runc loads it, after the lookup of the program and the signals readied for execve, before the startContainer hooks and the last limits (Node runs under them)', () => {
    const { sys, run } = setup();
    run.config.process.noNewPrivileges = true;
    run.config.process.rlimits = [{ type: 'RLIMIT_NOFILE', resource: 7, soft: 64n, hard: 64n }];
    run.config.hooks = { prestart: [], createRuntime: [], startContainer: [{ path: '/bin/hook', args: [], env: [] }] };
    expect(run).toThrow(ExecveCalled);
    const ops = sys.calls.map((c) => c.op).filter((op) => ['setuid', 'setNoNewPrivs', 'cloexecFrom', 'stat', 'seccompLoad', 'prepareExec', 'runCommand', 'setrlimit', 'execve'].includes(op));
    expect(ops).toEqual(['setuid', 'setNoNewPrivs', 'cloexecFrom', 'stat', 'prepareExec', 'seccompLoad', 'runCommand', 'setrlimit', 'execve']);
    // Without a filter execve readies the process itself.
    const plain = setup(null);
    plain.run.config.process.noNewPrivileges = true;
    plain.run.config.process.rlimits = run.config.process.rlimits;
    plain.run.config.hooks = run.config.hooks;
    expect(plain.run).toThrow(ExecveCalled);
    expect(plain.sys.calls.map((c) => c.op).filter((op) => ['runCommand', 'setrlimit', 'prepareExec', 'execve'].includes(op))).toEqual(['runCommand', 'setrlimit', 'execve']);
  });

  test('a default action that lets syscalls run gets no ENOSYS stub: libseccomp\'s program alone', () => {
    const { sys, run } = setup(profile({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', args: [] }] }));
    expect(run).toThrow(ExecveCalled);
    expect(decodeProgram(sys.callsOf('seccompLoad')[0].program)).toEqual([{ code: 0x06, jt: 0, jf: 0, k: 0x7fff0000 }]);
  });

  test('names libseccomp does not know are left out with a debug line, as runc does; fields without effect get a warning', () => {
    const { run, log } = setup(profile({ defaultAction: 'SCMP_ACT_KILL', defaultErrnoRet: 1 }));
    expect(run).toThrow(ExecveCalled);
    expect(log.entries.filter((e) => e.level !== 'info' && !e.message.startsWith('phase ')).map((e) => `${e.level}: ${e.message}`)).toEqual([
      'warn: linux.seccomp.defaultErrnoRet (SCMP_ACT_KILL returns no errno) ignored',
      'debug: linux.seccomp: syscalls libseccomp does not know left out: nosuch',
    ]);
  });

  test('a kernel refusing the flags (EINVAL): loaded again without SPEC_ALLOW when the profile did not ask for it; an error naming linux.seccomp when it did', () => {
    const implicit = setup();
    implicit.sys.failOn('seccompLoad', 'EINVAL', { times: 1 });
    expect(implicit.run).toThrow(ExecveCalled);
    expect(implicit.sys.callsOf('seccompLoad').map((c) => c.flags)).toEqual([SPEC_ALLOW, 0]);
    const asked = setup(profile({ flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW'] }));
    asked.sys.failOn('seccompLoad', 'EINVAL');
    expect(asked.run).toThrow('finalize: plugin exec: linux.seccomp: seccomp: EINVAL');
    expect(asked.sys.callsOf('seccompLoad')).toHaveLength(1);
    expect(asked.sys.callsOf('execve')).toEqual([]);
  });

  test('the kernel\'s EACCES (no no_new_privs, no CAP_SYS_ADMIN) stops the run before the user changes', () => {
    const { sys, run } = setup();
    sys.capset(0n, 0n, 0n);
    sys.clearCalls();
    expect(run).toThrow('finalize: plugin exec: linux.seccomp: seccomp: EACCES');
    expect(sys.callsOf('setuid')).toEqual([]);
  });

  test('a profile error stops the run at the first step, before any mount; a failure of libseccomp names the rule', () => {
    const bad = setup(profile({ syscalls: [{ names: ['read'], action: 'SCMP_ACT_NONE', args: [] }] }));
    expect(bad.run).toThrow('prepare-root: plugin seccomp: linux.seccomp.syscalls[0].action "SCMP_ACT_NONE": is not a seccomp action');
    expect(bad.sys.calls).toEqual([]);
    const refused = setup();
    refused.sys.failOn('seccompCompile', 'EINVAL');
    expect(refused.run).toThrow('prepare-root: plugin seccomp: linux.seccomp: seccomp_export_bpf: EINVAL');
  });

  test('what a port tells of its cache is logged at debug level; a port without one tells nothing', () => {
    const plain = setup();
    expect(plain.run).toThrow(ExecveCalled);
    expect(plain.log.entries.filter((e) => e.message.includes('cache'))).toEqual([]);
    const cached = setup();
    const compile = cached.sys.seccompCompile.bind(cached.sys);
    cached.sys.seccompCompile = (filter) => ({ ...compile(filter), cache: 'from the cache: /run/mountkit/seccomp/k.json' });
    expect(cached.run).toThrow(ExecveCalled);
    expect(cached.log.entries.filter((e) => e.message.includes('cache'))).toEqual([
      { level: 'debug', message: 'linux.seccomp: from the cache: /run/mountkit/seccomp/k.json', meta: { plugin: 'seccomp' } },
    ]);
  });

  test('a filter longer than the kernel takes (BPF_MAXINSNS) is a config error', () => {
    const { sys, run } = setup();
    const compile = sys.seccompCompile.bind(sys);
    sys.seccompCompile = (filter) => ({ ...compile(filter), program: new Uint8Array(4096 * 8) });
    expect(run).toThrow(/^prepare-root: plugin seccomp: linux\.seccomp: makes a filter of 4103 instructions; the kernel takes at most 4096 \(BPF_MAXINSNS\)$/);
  });

  describe('SCMP_ACT_NOTIFY: the listener to the agent at listenerPath', () => {
    const notify = () =>
      profile({ defaultAction: 'SCMP_ACT_ALLOW', listenerPath: '/run/agent.sock', listenerMetadata: 'tenant=a', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY', args: [] }] });

    test('connected in prepare-root, while the path is the host\'s, with the sender thread started there, before the filter; after the load the thread sends the listener with the process state, and neither descriptor stays', () => {
      const { sys, run } = setup(notify());
      sys.addSymlink('/proc/self', '4242');
      expect(run).toThrow(ExecveCalled);
      expect(sys.calls.slice(0, 4).map((c) => c.op)).toEqual(['seccompCompile', 'connectUnix', 'readlink', 'startFdSender']);
      expect(sys.callsOf('connectUnix')).toEqual([{ op: 'connectUnix', path: '/run/agent.sock' }]);
      const [load] = sys.callsOf('seccompLoad');
      expect(load.flags).toBe(8 | SPEC_ALLOW);
      const after = sys.effects().slice(sys.effects().findIndex((c) => c.op === 'seccompLoad') + 1, sys.effects().findIndex((c) => c.op === 'capbsetDrop'));
      const [started] = sys.callsOf('startFdSender');
      const [sent] = sys.callsOf('sendFd');
      expect(sys.fdSenders.get(sent.sender)).toEqual({ socket: started.socket, data: started.data, sent: sent.fd });
      expect(after).toEqual([sent, { op: 'close', fd: sent.fd }, { op: 'close', fd: started.socket }]);
      expect(JSON.parse(started.data)).toEqual({
        ociVersion: '1.1.0',
        fds: ['seccompFd'],
        pid: 4242,
        metadata: 'tenant=a',
        state: { ociVersion: '1.1.0', id: path.basename(run.config.bundle), status: 'creating', pid: 4242, bundle: run.config.bundle },
      });
    });

    test('the process state carries the config\'s annotations, as runc sends them', () => {
      const { sys, run } = setup(notify());
      run.config.annotations = { 'org.example/owner': 'team-a' };
      expect(run).toThrow(ExecveCalled);
      expect(JSON.parse(sys.callsOf('startFdSender')[0].data).state.annotations).toEqual({ 'org.example/owner': 'team-a' });
    });

    test('an agent that cannot be reached, or a sender that cannot start, stops the run before any mount, naming listenerPath; a failed send stops it before execve', () => {
      const unreachable = setup(notify());
      unreachable.sys.failOn('connectUnix', 'ECONNREFUSED');
      expect(unreachable.run).toThrow('prepare-root: plugin seccomp: linux.seccomp.listenerPath: connect "/run/agent.sock": ECONNREFUSED');
      const unstarted = setup(notify());
      unstarted.sys.startFdSender = () => {
        throw new StepError('linux.seccomp: the thread that sends the listener to /proc/self/fd/100 could not load koffi: gone');
      };
      expect(unstarted.run).toThrow('prepare-root: plugin seccomp: linux.seccomp: the thread that sends the listener to /proc/self/fd/100 could not load koffi: gone');
      const gone = setup(notify());
      gone.sys.failOn('sendFd', 'EPIPE');
      expect(gone.run).toThrow('finalize: plugin exec: linux.seccomp: sendmsg: EPIPE');
      expect(gone.sys.callsOf('execve')).toEqual([]);
      // Both descriptors closed, each once: the listener and the socket after the failed send.
      const [started] = gone.sys.callsOf('startFdSender');
      const [sent] = gone.sys.callsOf('sendFd');
      expect(gone.sys.callsOf('close').filter((c) => c.fd === sent.fd || c.fd === started.socket)).toEqual([
        { op: 'close', fd: sent.fd },
        { op: 'close', fd: started.socket },
      ]);
    });

    test('a run that fails between the connection and the load closes the socket (the orchestrator\'s release of what the run kept)', () => {
      const { sys, run } = setup(notify());
      sys.failOn('chdir', 'ENOENT');
      expect(run).toThrow('finalize: plugin exec: chdir "/": ENOENT');
      // The socket, the fake's first descriptor.
      expect(sys.callsOf('close')).toEqual([{ op: 'close', fd: 100 }]);
      expect(sys.callsOf('seccompLoad')).toEqual([]);
    });
  });

  test('without linux.seccomp: no call', () => {
    const { sys, run } = setup(null);
    expect(run).toThrow(ExecveCalled);
    expect(sys.calls.filter((c) => c.op.startsWith('seccomp'))).toEqual([]);
  });
});

describe('oom-score-adj steps', () => {
  const steps = (sys: FakeSyscalls) => [new OomScoreAdjStep(sys), new OomScoreAfterHooksStep(sys)];
  const scored = (adj: number, hooks: Partial<HookSpec>[] = []) =>
    makeConfig({ process: { ...makeConfig().process, oomScoreAdj: adj }, hooks: { prestart: hooks.map((h) => ({ path: '/h', args: [], env: [], ...h })), createRuntime: [] } });

  test('written first in the run (prepare-root, pre), while /proc is the host\'s, once when there are no runtime hooks; nothing without it', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/oom_score_adj', '0\n');
    expect([new OomScoreAdjStep(sys).phase, new OomScoreAdjStep(sys).order, new OomScoreAfterHooksStep(sys).phase]).toEqual(['prepare-root', 'pre', 'before-jail']);
    new Orchestrator(sys, silentLogger, [], steps(sys)).run(scored(-17), { checkClaims: false });
    expect(sys.effects()).toEqual([{ op: 'writeFile', path: '/proc/self/oom_score_adj', data: '-17' }]);
    const none = new FakeSyscalls();
    new Orchestrator(none, silentLogger, [], steps(none)).run(makeConfig(), { checkClaims: false });
    expect(none.calls).toEqual([]);
  });

  test('with prestart or createRuntime hooks: written (the kernel\'s check), mountkit\'s own written back for them, the container\'s again before the jail', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/oom_score_adj', '0\n');
    new Orchestrator(sys, silentLogger, [], steps(sys)).run(scored(300, [{}]), { checkClaims: false });
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/oom_score_adj' },
      { op: 'writeFile', path: '/proc/self/oom_score_adj', data: '300' },
      { op: 'writeFile', path: '/proc/self/oom_score_adj', data: '0' },
      { op: 'writeFile', path: '/proc/self/oom_score_adj', data: '300' },
    ]);
  });

  test("with a runtime channel the runtime's hooks run at its other end, with that process's score: written once", () => {
    const sys = new FakeSyscalls().addFile('/proc/self/oom_score_adj', '0\n');
    new Orchestrator(sys, silentLogger, [], steps(sys)).run({ ...scored(300, [{}]), runtimeChannel: 3 }, { checkClaims: false });
    expect(sys.calls).toEqual([{ op: 'writeFile', path: '/proc/self/oom_score_adj', data: '300' }]);
  });

  test('a refused write (lowering it without CAP_SYS_RESOURCE) stops the run first, before any mount or hook, naming the file', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/oom_score_adj', '0\n').failOn('writeFile', 'EACCES');
    expect(() => new Orchestrator(sys, silentLogger, [], steps(sys)).run(scored(-500, [{}]), { checkClaims: false })).toThrow(
      'prepare-root: plugin oom-score-adj: process.oomScoreAdj -500: writeFile "/proc/self/oom_score_adj": EACCES',
    );
  });
});
