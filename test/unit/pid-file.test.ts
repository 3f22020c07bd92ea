import 'reflect-metadata';
import { parseArgs } from '../../src/cli/args';
import { O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_PATH, O_WRONLY } from '../../src/core/constants';
import { ConfigError } from '../../src/core/errors';
import { Orchestrator } from '../../src/core/orchestrator';
import { PID_FILE_FLAGS, callerView, openPidFileDir, removePidFile, writePidFile, type PidFileSpec } from '../../src/core/pid-file';
import { serveRuntimeChannel } from '../../src/core/runtime-hooks';
import { ExecveCalled, FakeSyscalls } from '../../src/core/syscalls/fake';
import { HandoverStep } from '../../src/plugins/exec';
import { memoryLogger } from '../../src/testing/logger';
import { makeConfig } from '../helpers/config';
import { EventEmitter } from 'events';

/** O_SYNC as runc opens its pid file: __O_SYNC | O_DSYNC (asm-generic/fcntl.h). */
const O_SYNC = 0o4010000;

/** A fake with /run/c, open as `dir`. */
function withDir(): { sys: FakeSyscalls; dir: number } {
  const sys = new FakeSyscalls().addDir('/run/c');
  const dir = openPidFileDir(sys, '/run/c/ct.pid');
  sys.clearCalls();
  return { sys, dir };
}

describe('the pid file, as runc 1.1 writes it (utils_linux.go createPidFile)', () => {
  test('its directory opened O_PATH, close-on-exec, before anything else', () => {
    const sys = new FakeSyscalls().addDir('/run/c');
    const fd = openPidFileDir(sys, '/run/c/ct.pid');
    expect(sys.calls).toEqual([{ op: 'open', path: '/run/c', flags: O_PATH | O_DIRECTORY | O_CLOEXEC, mode: 0 }]);
    expect(typeof fd).toBe('number');
  });

  test('a directory that is not there is a configuration error naming the option, the file and the errno', () => {
    const sys = new FakeSyscalls();
    let thrown: unknown;
    try {
      openPidFileDir(sys, '/nope/x');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toBe('--pid-file "/nope/x": its directory cannot be opened (open "/nope": ENOENT)');
  });

  test('the pid in decimal without a newline, in .NAME made anew (O_EXCL, O_SYNC, 0666), then renamed onto NAME', () => {
    const { sys, dir } = withDir();
    expect(PID_FILE_FLAGS).toBe(O_WRONLY | O_CREAT | O_EXCL | O_SYNC | O_CLOEXEC);
    writePidFile(sys, { path: '/run/c/ct.pid', dirFd: dir, pid: 4242 });
    const fd = sys.callsOf('openat')[0] && 101;
    expect(sys.calls).toEqual([
      { op: 'openat', dirfd: dir, path: '.ct.pid', flags: PID_FILE_FLAGS, mode: 0o666 },
      { op: 'write', fd, data: '4242' },
      { op: 'close', fd },
      { op: 'renameat', oldDirfd: dir, oldPath: '.ct.pid', newDirfd: dir, newPath: 'ct.pid' },
    ]);
    expect(sys.readFile('/run/c/ct.pid')).toBe('4242');
    expect(() => sys.stat('/run/c/.ct.pid')).toThrow('ENOENT');
  });

  test('a mode given is set on the file it made (the umask mountkit was started with, where the writer has the container\'s)', () => {
    const { sys, dir } = withDir();
    writePidFile(sys, { path: '/run/c/ct.pid', dirFd: dir, pid: 7, mode: 0o600 });
    expect(sys.calls.map((c) => c.op)).toEqual(['openat', 'fchmod', 'write', 'close', 'renameat']);
    expect(sys.callsOf('fchmod')[0].mode).toBe(0o600);
  });

  test('an earlier pid file is replaced', () => {
    const { sys, dir } = withDir();
    sys.addFile('/run/c/ct.pid', '1');
    writePidFile(sys, { path: '/run/c/ct.pid', dirFd: dir, pid: 99 });
    expect(sys.readFile('/run/c/ct.pid')).toBe('99');
  });

  test('a .NAME already there (another run writing): EEXIST, named with the option and file, nothing removed', () => {
    const { sys, dir } = withDir();
    sys.addFile('/run/c/.ct.pid', 'other');
    expect(() => writePidFile(sys, { path: '/run/c/ct.pid', dirFd: dir, pid: 5 })).toThrow('--pid-file "/run/c/ct.pid": openat ".ct.pid": EEXIST');
    expect(sys.calls.map((c) => c.op)).toEqual(['openat']);
    expect(sys.readFile('/run/c/.ct.pid')).toBe('other');
  });

  test('a rename that fails removes the .NAME it made, and names the call', () => {
    const { sys, dir } = withDir();
    sys.failOn('renameat', 'EXDEV');
    expect(() => writePidFile(sys, { path: '/run/c/ct.pid', dirFd: dir, pid: 5 })).toThrow('--pid-file "/run/c/ct.pid": renameat ".ct.pid" -> "ct.pid": EXDEV');
    expect(sys.calls.map((c) => c.op)).toEqual(['openat', 'write', 'close', 'renameat', 'unlinkat']);
    expect(() => sys.stat('/run/c/.ct.pid')).toThrow('ENOENT');
  });

  test('removePidFile: done, not there, or refused (told, for a warning)', () => {
    const { sys, dir } = withDir();
    const spec: PidFileSpec = { path: '/run/c/ct.pid', dirFd: dir, pid: 5 };
    sys.addFile('/run/c/ct.pid', '5');
    expect(removePidFile(sys, spec)).toBeUndefined();
    expect(removePidFile(sys, spec)).toBeUndefined();
    sys.addFile('/run/c/ct.pid', '5');
    sys.failOn('unlinkat', 'EACCES');
    expect(removePidFile(sys, spec)).toBe('--pid-file "/run/c/ct.pid" left naming pid 5: unlinkat "ct.pid": EACCES');
  });

  test.each([
    ['Name:\tnode\nUmask:\t0022\nPid:\t1\nNSpid:\t31337\t1\n', { pid: 31337, umask: 0o022 }],
    ['Umask:\t0077\nNSpid:\t812\n', { pid: 812, umask: 0o077 }],
  ])('callerView: NSpid\'s first field, the caller\'s pid namespace\'s, and Umask', (status, expected) => {
    expect(callerView(status)).toEqual(expected);
  });

  test('--pid-file: a value; empty is none, as runc reads it; blank is refused', () => {
    expect(parseArgs(['run', '--pid-file', 'x.pid']).pidFile).toBe('x.pid');
    expect(parseArgs(['run', '--pid-file=/r/x']).pidFile).toBe('/r/x');
    expect(parseArgs(['run', '--pid-file', '']).pidFile).toBeUndefined();
    expect(() => parseArgs(['run', '--pid-file', ' '])).toThrow('--pid-file " ": must name a file, or be empty for none');
    expect(() => parseArgs(['run', '--pid-file'])).toThrow('--pid-file: needs a value');
  });
});

describe('the exec step, where the process prepared becomes the container\'s', () => {
  function setup(uid = 1000) {
    const sys = new FakeSyscalls();
    sys.addFile('/bin/sh', '', 0o755).addDir('/work').addDir('/run/c');
    const dirFd = openPidFileDir(sys, '/run/c/ct.pid');
    sys.clearCalls();
    const config = makeConfig({ process: { args: ['sh', '-c', 'true'], env: ['PATH=/bin', 'HOME=/'], cwd: '/work', uid, gid: 100, terminal: false } });
    config.pidFile = { path: '/run/c/ct.pid', dirFd, pid: 4321, mode: 0o644 };
    const log = memoryLogger();
    const run = () => new Orchestrator(sys, log, [], [new HandoverStep(sys)]).run(config, { checkClaims: false });
    return { sys, run, log, dirFd, config };
  }

  test('writes it last before the container\'s identity (setgroups, setgid, setuid), its program execve(2)d after', () => {
    const { sys, run, dirFd } = setup();
    expect(run).toThrow(ExecveCalled);
    const ops = sys.effects().map((c) => c.op);
    expect(ops.slice(ops.indexOf('openat'), ops.indexOf('setuid') + 1)).toEqual(['openat', 'fchmod', 'write', 'close', 'renameat', 'setDumpable', 'setgroups', 'setgid', 'setuid']);
    expect(ops[ops.length - 1]).toBe('execve');
    expect(sys.callsOf('renameat')).toEqual([{ op: 'renameat', oldDirfd: dirFd, oldPath: '.ct.pid', newDirfd: dirFd, newPath: 'ct.pid' }]);
    expect(sys.readFile('/run/c/ct.pid')).toBe('4321');
  });

  test('a program that then does not start (execve fails) leaves no pid file', () => {
    const { sys, run, dirFd } = setup();
    sys.failOn('execve', 'EACCES');
    expect(run).toThrow(/plugin exec: execve "\/bin\/sh": EACCES$/);
    const effects = sys.effects();
    expect(effects.slice(-2)).toEqual([
      { op: 'execve', path: '/bin/sh', argv: ['sh', '-c', 'true'], envp: ['PATH=/bin', 'HOME=/'] },
      { op: 'unlinkat', dirfd: dirFd, path: 'ct.pid', flags: 0 },
    ]);
    expect(() => sys.stat('/run/c/ct.pid')).toThrow('ENOENT');
  });

  test('a removal the container\'s identity is refused is a warning; the run fails with the step\'s error', () => {
    const { sys, run, log } = setup();
    sys.failOn('execve', 'ENOEXEC').failOn('unlinkat', 'EACCES');
    expect(run).toThrow(/execve "\/bin\/sh": ENOEXEC$/);
    expect(log.entries.filter((e) => e.level === 'warn').map((e) => e.message)).toEqual(['--pid-file "/run/c/ct.pid" left naming pid 4321: unlinkat "ct.pid": EACCES']);
  });

  test('a pid file that cannot be written fails the step before the identity changes', () => {
    const { sys, run } = setup();
    sys.failOn('openat', 'EACCES');
    expect(run).toThrow('finalize: plugin exec: --pid-file "/run/c/ct.pid": openat ".ct.pid": EACCES');
    expect(sys.callsOf('setuid')).toEqual([]);
  });

  test('a starter that writes it is told the program is next, poststart hooks or not', () => {
    const { sys, run, config } = setup();
    delete config.pidFile;
    config.pidFileByStarter = true;
    config.runtimeChannel = sys.open('/run/c', O_PATH, 0);
    expect(run).toThrow(ExecveCalled);
    expect(sys.callsOf('write')).toEqual([{ op: 'write', fd: config.runtimeChannel, data: '{"event":"exec"}\n' }]);
    expect(sys.callsOf('renameat')).toEqual([]);
  });
});

describe('the first process of a relaunch: after the poststart hooks, at the "exec" event', () => {
  /** A socket stand-in: what serveRuntimeChannel writes and reads. */
  function channel(): EventEmitter & { write: (s: string) => boolean; destroy: () => void; destroyed: boolean } {
    return Object.assign(new EventEmitter(), { write: () => true, destroy: () => undefined, destroyed: false });
  }

  test('started() is given the poststart hooks\' pid, after them; its failure stops the container and ends the run', async () => {
    const sys = new FakeSyscalls();
    const order: string[] = [];
    const killed: (number | undefined)[] = [];
    const socket = channel();
    const side = serveRuntimeChannel(socket as never, {
      sys,
      config: { bundle: '/b', annotations: {}, id: 'c', hooks: { prestart: [], createRuntime: [], poststart: [{ path: '/bin/true', args: ['true'] }] } },
      container: () => 77,
      kill: (pid) => killed.push(pid),
      warn: () => undefined,
      runAsync: async (cmd) => {
        order.push(`hook ${cmd.path}`);
        return { status: 0, signal: null, output: '' };
      },
      started: (pid) => {
        order.push(`started ${pid}`);
        throw new Error('--pid-file "/r/x": openat ".x": EACCES');
      },
    });
    socket.emit('data', Buffer.from('{"event":"exec"}\n'));
    const failure = await side.ended();
    expect(order).toEqual(['hook /bin/true', 'started 77']);
    expect(failure?.message).toBe('--pid-file "/r/x": openat ".x": EACCES');
    expect(killed).toEqual([77]);
  });

  test('a failing poststart hook: no pid file', async () => {
    const sys = new FakeSyscalls();
    const started: (number | undefined)[] = [];
    const socket = channel();
    const side = serveRuntimeChannel(socket as never, {
      sys,
      config: { bundle: '/b', annotations: {}, id: 'c', hooks: { prestart: [], createRuntime: [], poststart: [{ path: '/bin/false', args: ['false'] }] } },
      container: () => 77,
      kill: () => undefined,
      warn: () => undefined,
      runAsync: async () => ({ status: 1, signal: null, output: '' }),
      started: (pid) => void started.push(pid),
    });
    socket.emit('data', Buffer.from('{"event":"exec"}\n'));
    expect(await side.ended()).toBeDefined();
    expect(started).toEqual([]);
  });
});
