import 'reflect-metadata';
import { mountSpec, type RootfsConfig } from '../../../src/core/config/model';
import { validateConsole } from '../../../src/core/config/validate';
import { MS_BIND, O_CLOEXEC, O_CREAT, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_PATH, O_RDWR } from '../../../src/core/constants';
import { containerProcChecked } from '../../helpers/fd';
import { ConfigError } from '../../../src/core/errors';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { ConsoleSocketStep, ConsoleStep, SessionStep } from '../../../src/plugins/exec';
import { makeConfig } from '../../helpers/config';

const SOCKET = '/run/shim/console.sock';

/** The session and console steps on the fake: a devpts with its ptmx at /dev/pts and a procfs at /proc, as after the jail. */
function setup(over: Partial<RootfsConfig['process']> = {}, config: Partial<RootfsConfig> = {}) {
  const sys = new FakeSyscalls().addDevpts('/dev/pts').addProcfs();
  const base = makeConfig();
  const cfg = makeConfig({ consoleSocket: SOCKET, process: { ...base.process, terminal: true, ...over }, ...config });
  // A bind mount of the config is taken and not made: only the console steps' calls are looked at.
  const bind = { name: 'bind', types: ['bind'], mount: () => undefined };
  const run = () => new Orchestrator(sys, silentLogger, [bind], [new SessionStep(sys), new ConsoleSocketStep(sys), new ConsoleStep(sys)]).run(cfg, { checkClaims: false });
  return { sys, run, config: cfg };
}

describe('the console (--console-socket)', () => {
  test('phases: the socket connected first in the run, while its path is the host\'s; the console made right after the jail', () => {
    const sys = new FakeSyscalls();
    expect([new ConsoleSocketStep(sys).phase, new ConsoleSocketStep(sys).order]).toEqual(['prepare-root', 'pre']);
    expect([new ConsoleStep(sys).phase, new ConsoleStep(sys).order]).toEqual(['after-jail', 'pre']);
  });

  test('a new pseudo-terminal of the container\'s devpts: checked, unlocked, sized, its peer bound over /dev/console and made stdio and the controlling terminal; the master sent to the socket', () => {
    const { sys, run } = setup({ consoleSize: { height: 30, width: 100 } });
    run();
    const socket = 100;
    expect(sys.calls).toEqual([
      { op: 'setsid' },
      { op: 'connectUnix', path: SOCKET },
      // The container's /proc, which the reopen and the bind go through.
      ...containerProcChecked(101, 102),
      // ptmx opened O_PATH, checked, then opened for real through that descriptor.
      { op: 'open', path: '/dev/pts/ptmx', flags: O_PATH | O_NOFOLLOW | O_CLOEXEC, mode: 0 },
      { op: 'fstat', fd: 103 },
      { op: 'fstatfs', fd: 103 },
      { op: 'open', path: '/proc/thread-self/fd/103', flags: O_RDWR | O_NOCTTY | O_CLOEXEC, mode: 0 },
      { op: 'close', fd: 103 },
      { op: 'ptyUnlock', fd: 104 },
      { op: 'ptyPeer', fd: 104, flags: O_RDWR | O_NOCTTY | O_CLOEXEC },
      // The peer opened again as open(2) opens it (O_CLOEXEC out of its file's flags, O_LARGEFILE in), as runc opens /dev/pts/N.
      { op: 'open', path: '/proc/thread-self/fd/105', flags: O_RDWR | O_NOCTTY | O_CLOEXEC, mode: 0 },
      { op: 'close', fd: 105 },
      { op: 'setWindowSize', fd: 104, rows: 30, cols: 100 },
      // Looked for without opening it for real (O_PATH), then made, as it is missing.
      { op: 'open', path: '/dev/console', flags: O_PATH | O_NOFOLLOW | O_CLOEXEC, mode: 0 },
      { op: 'open', path: '/dev/console', flags: O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode: 0o666 },
      { op: 'mount', source: '/proc/thread-self/fd/106', target: '/proc/thread-self/fd/107', fstype: null, flags: MS_BIND, data: null },
      { op: 'close', fd: 107 },
      { op: 'sendFdMessage', socket, fd: 104, data: '/dev/ptmx' },
      { op: 'dup3', oldfd: 106, newfd: 0, flags: 0 },
      { op: 'dup3', oldfd: 106, newfd: 1, flags: 0 },
      { op: 'dup3', oldfd: 106, newfd: 2, flags: 0 },
      { op: 'setControllingTerminal', fd: 0 },
      { op: 'close', fd: 106 },
      { op: 'close', fd: 104 },
      { op: 'close', fd: socket },
      // The container's /proc, kept for the run, closed at its end (a run with an execve keeps it to the execve, close-on-exec).
      { op: 'close', fd: 101 },
    ]);
    expect(sys.sentMessages).toEqual([{ socket, path: '/dev/pts/ptmx', data: '/dev/ptmx' }]);
    expect(sys.ptys.get(104)).toEqual({ unlocked: true, peer: 105, rows: 30, cols: 100 });
    expect(sys.session).toEqual({ sid: 1, groupLeader: true, terminal: true });
  });

  test('what the image has at /dev/console is opened O_PATH only (a FIFO would block an open, a device would act on it) and bound over; a symbolic link there is refused', () => {
    const { sys, run } = setup();
    sys.addDevice('/dev/console', 'char', 10, 130);
    run();
    const target = sys.calls.findIndex((c) => c.op === 'open' && c.path === '/dev/console');
    expect(sys.calls.slice(target, target + 4)).toEqual([
      { op: 'open', path: '/dev/console', flags: O_PATH | O_NOFOLLOW | O_CLOEXEC, mode: 0 },
      { op: 'fstat', fd: 107 },
      { op: 'mount', source: '/proc/thread-self/fd/106', target: '/proc/thread-self/fd/107', fstype: null, flags: MS_BIND, data: null },
      { op: 'close', fd: 107 },
    ]);
    expect(sys.calls.filter((c) => c.op === 'open' && c.path === '/dev/console')).toHaveLength(1);

    const linked = setup();
    linked.sys.addFile('/etc/shadow').addSymlink('/dev/console', '/etc/shadow');
    expect(linked.run).toThrow('after-jail: plugin console: /dev/console is a symbolic link; the console is bound over a file there, never through a link');
    expect(linked.sys.callsOf('mount')).toEqual([]);
    expect(linked.sys.openFds()).toEqual([]);
  });

  test('no size, or a zero in it, sets none; a /dev bound from the host gets no /dev/console', () => {
    const { sys, run } = setup({ consoleSize: { height: 0, width: 80 } }, { mounts: [] });
    run();
    expect(sys.callsOf('setWindowSize')).toEqual([]);
    const bound = setup({}, { mounts: [mountSpec({ type: 'bind', destination: '/dev', source: '/dev', flags: MS_BIND })] });
    bound.run();
    expect(bound.sys.calls.filter((c) => c.op === 'mount' || (c.op === 'open' && c.path === '/dev/console'))).toEqual([]);
  });

  test('without a console socket: nothing; a terminal container keeps the terminal it was started on', () => {
    const { sys, run } = setup({}, { consoleSocket: undefined });
    run();
    expect(sys.calls).toEqual([]);
  });

  test('a console socket for a container without process.terminal is a config error, in the CLI\'s check and in the step', () => {
    const { sys, run, config } = setup({ terminal: false });
    expect(() => validateConsole(config)).toThrow(new ConfigError('--console-socket', SOCKET, 'is for a container with process.terminal: true'));
    expect(sys.calls).toEqual([]);
    expect(run).toThrow('prepare-root: plugin console: --console-socket "/run/shim/console.sock": is for a container with process.terminal: true');
  });

  test('what is at /dev/pts/ptmx must be its devpts\'s own ptmx: the host\'s /dev/ptmx through a node of the image is refused, and closed', () => {
    const sys = new FakeSyscalls().addDir('/dev/pts').addDevice('/dev/pts/ptmx', 'char', 5, 2).addProcfs();
    const config = makeConfig({ consoleSocket: SOCKET, process: { ...makeConfig().process, terminal: true } });
    const run = () => new Orchestrator(sys, silentLogger, [], [new SessionStep(sys), new ConsoleSocketStep(sys), new ConsoleStep(sys)]).run(config, { checkClaims: false });
    expect(run).toThrow(/^after-jail: plugin console: console: \/dev\/pts\/ptmx is not the ptmx of a devpts \(f_type 0x[0-9a-f]+, inode \d+\): a console needs a devpts mounted at \/dev\/pts$/);
    // Opened O_PATH only: the node the image made was never opened for real.
    expect(sys.calls.filter((c) => c.op === 'open').map((c) => c.op === 'open' && c.flags & O_PATH)).toEqual([O_PATH, O_PATH]);
    expect(sys.calls.slice(-3)).toEqual([{ op: 'close', fd: 103 }, { op: 'close', fd: 100 }, { op: 'close', fd: 101 }]);
  });

  test('failures name what they were for: the socket, the session, the controlling terminal', () => {
    const unreachable = setup();
    unreachable.sys.failOn('connectUnix', 'ENOENT');
    expect(unreachable.run).toThrow('prepare-root: plugin console: --console-socket: connect "/run/shim/console.sock": ENOENT');
    const leader = setup();
    leader.sys.session = { ...leader.sys.session, groupLeader: true };
    expect(leader.run).toThrow(
      'prepare-root: plugin session: console: setsid: EPERM: this process leads its process group (a command an interactive shell started) and cannot lead the session a console needs; give the container a pid namespace, or start mountkit with setsid(1)',
    );
    // Already the leader of its session (started by setsid(1), without a terminal): it is what a console needs.
    const sessionLeader = setup();
    sessionLeader.sys.session = { sid: 1, groupLeader: true, terminal: false };
    sessionLeader.run();
    expect(sessionLeader.sys.session.terminal).toBe(true);
    // A session leader with a terminal (script -c, ssh -t) cannot take the console as its terminal: stopped before anything is sent.
    const withTerminal = setup();
    withTerminal.sys.addDevice('/dev/tty', 'char', 5, 0);
    withTerminal.sys.session = { sid: 1, groupLeader: true, terminal: true };
    expect(withTerminal.run).toThrow(
      'prepare-root: plugin session: console: this process leads a session that has a controlling terminal (started as the first program of a terminal: script -c, ssh -t), which a console cannot replace; give the container a pid namespace',
    );
    expect(withTerminal.sys.callsOf('connectUnix')).toEqual([]);
    const refused = setup();
    refused.sys.failOn('sendFdMessage', 'EPIPE');
    expect(refused.run).toThrow('after-jail: plugin console: --console-socket "/run/shim/console.sock": sendmsg: EPIPE');
    // The socket, the master and the peer are closed all the same.
    expect(refused.sys.calls.slice(-3).map((c) => c.op)).toEqual(['close', 'close', 'close']);
    // The peer's reopen through its descriptor: the peer and the master are closed, nothing is sent.
    const reopen = setup();
    reopen.sys.failOn('open', 'EACCES', { path: '/dev/pts/0' });
    expect(reopen.run).toThrow('after-jail: plugin console: console /dev/pts/ptmx: open "/dev/pts/0": EACCES');
    expect(reopen.sys.callsOf('sendFdMessage')).toEqual([]);
    expect(reopen.sys.openFds()).toEqual([]);
    const noTty = setup();
    noTty.sys.failOn('setControllingTerminal', 'EPERM');
    expect(noTty.run).toThrow('after-jail: plugin console: console: ioctl "TIOCSCTTY": EPERM');
  });
});

describe("the console sent to mountkit run's first process (a socket passed for it, no --console-socket)", () => {
  /** The relaunched process's fake: the starter's socketpair end on 6, the runtime channel on 3. */
  function passed(config: Partial<RootfsConfig> = {}) {
    const s = setup({}, { consoleSocket: undefined, hostSockets: { console: 6 }, runtimeChannel: 3, ...config });
    const [, end] = s.sys.socketPair();
    s.sys.inheritDescriptor(6, end).clearCalls();
    return s;
  }

  test('the passed socket is taken, not connected; once the master is sent, the first process is told on the runtime channel and its answer awaited', () => {
    const { sys, run } = passed();
    run();
    expect(sys.callsOf('connectUnix')).toEqual([]);
    const tail = sys.calls.slice(sys.calls.findIndex((c) => c.op === 'sendFdMessage'));
    expect(tail).toEqual([
      { op: 'sendFdMessage', socket: 6, fd: 105, data: '/dev/ptmx' },
      { op: 'exchange', fd: 3, line: '{"event":"console"}\n' },
      { op: 'dup3', oldfd: 107, newfd: 0, flags: 0 },
      { op: 'dup3', oldfd: 107, newfd: 1, flags: 0 },
      { op: 'dup3', oldfd: 107, newfd: 2, flags: 0 },
      { op: 'setControllingTerminal', fd: 0 },
      { op: 'close', fd: 107 },
      { op: 'close', fd: 105 },
      { op: 'close', fd: 6 },
      // The container's /proc, checked before the console (101 and 100 are the starter's socketpair), closed at the run's end.
      { op: 'close', fd: 102 },
    ]);
    // The session step made this process lead a session for it.
    expect(sys.calls[0]).toEqual({ op: 'setsid' });
    expect(sys.session.terminal).toBe(true);
  });

  test('with --console-socket too, nothing is written on the channel', () => {
    const both = passed({ consoleSocket: SOCKET });
    both.run();
    expect(both.sys.callsOf('exchange')).toEqual([]);
  });

  test("without a runtime channel (bin/mountkit's relay), the console event goes on the console's socket after the master, and its answer is awaited there; a refusal or no answer fails the step, naming the socket", () => {
    const relayed = passed({ runtimeChannel: undefined });
    relayed.run();
    const tail = relayed.sys.calls.slice(relayed.sys.calls.findIndex((c) => c.op === 'sendFdMessage'));
    expect(tail.slice(0, 3)).toEqual([
      { op: 'sendFdMessage', socket: 6, fd: 105, data: '/dev/ptmx' },
      { op: 'exchange', fd: 6, line: '{"event":"console"}\n' },
      { op: 'dup3', oldfd: 107, newfd: 0, flags: 0 },
    ]);
    const refused = passed({ runtimeChannel: undefined });
    refused.sys.exchangeAnswers.push('{"error":{"syscall":"ioctl","code":"EIO","paths":["TCSETS"]}}');
    expect(refused.run).toThrow("after-jail: plugin console: the console's socket: the console: ioctl \"TCSETS\": EIO");
    expect(refused.sys.callsOf('dup3')).toEqual([]);
    expect(refused.sys.calls.slice(-4)).toEqual([{ op: 'close', fd: 107 }, { op: 'close', fd: 105 }, { op: 'close', fd: 6 }, { op: 'close', fd: 102 }]);
    const gone = passed({ runtimeChannel: undefined });
    gone.sys.failOn('exchange', 'EPIPE');
    expect(gone.run).toThrow('after-jail: plugin console: the console\'s socket: the console: read "socket:[pair 0 end 1]": EPIPE');
  });

  test("a passed console socket for a container without process.terminal is refused, naming it; the first process's refusal, or no answer, fails the step, naming the channel", () => {
    const { run, config } = passed({ process: { ...makeConfig().process, terminal: false } });
    expect(() => validateConsole(config)).toThrow(new ConfigError('hostSockets.console', '6', 'is for a container with process.terminal: true'));
    expect(run).toThrow('prepare-root: plugin console: hostSockets.console "6": is for a container with process.terminal: true');
    const refused = passed();
    refused.sys.exchangeAnswers.push('{"error":{"syscall":"ioctl","code":"EIO","paths":["TCSETS"]}}');
    expect(refused.run).toThrow('after-jail: plugin console: the runtime channel: the console: ioctl "TCSETS": EIO');
    expect(refused.sys.calls.slice(-4)).toEqual([{ op: 'close', fd: 107 }, { op: 'close', fd: 105 }, { op: 'close', fd: 6 }, { op: 'close', fd: 102 }]);
    const gone = passed();
    gone.sys.failOn('exchange', 'EPIPE');
    expect(gone.run).toThrow('after-jail: plugin console: the runtime channel: the console: read: EPIPE');
  });
});
