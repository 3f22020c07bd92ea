/**
 * bin/mountkit's hooks relay (src/cli/hooks-relay.ts serveLauncherHooks) on the fake
 * port, with a real unix socket in a directory of the test's own: the run's Node is this
 * test, connecting as connectLauncherRelay does. The launcher's SIGTERM is emitted to the
 * relay's listener.
 */
import { existsSync, mkdtempSync, rmSync } from 'fs';
import { connect, type Socket } from 'net';
import { tmpdir } from 'os';
import * as path from 'path';
import type { HookSpec, RootfsConfig } from '../../src/core/config/model';
import { hookCommand, ociState } from '../../src/core/hooks';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { RELAY_SOCKET } from '../../src/cli/console-relay';
import { NOT_STARTED_STATUS, serveLauncherHooks } from '../../src/cli/hooks-relay';
import type { CliOptions } from '../../src/cli/args';
import { PASSED_SIGNALS } from '../../src/cli/forward';
import { PID_FILE_FLAGS, starterPidFile, type StarterPidFile } from '../../src/core/pid-file';

/** The container's pid as the kernel names the connection's other end. */
const PEER = 4242;

/** The fake port, but for peerPid, which answers PEER for the relay's real connection (a descriptor the fake does not have). */
class RelayPort extends FakeSyscalls {
  readonly peersAsked: number[] = [];
  /** The copies the relay made of a connection's descriptor (the console's), and the peer they name. */
  readonly copies = new Set<number>();
  copiesPeer = PEER;
  override peerPid(socket: number): number {
    this.peersAsked.push(socket);
    return this.copies.has(socket) ? this.copiesPeer : PEER;
  }
  override dupCloexec(fd: number, lowest: number): number {
    // A real connection's descriptor, which the fake did not make.
    this.inheritSocket(fd);
    const copy = super.dupCloexec(fd, lowest);
    this.copies.add(copy);
    return copy;
  }
}

const hook = (name: string): HookSpec => ({ path: `/hooks/${name}`, args: [], env: [] });
const BUNDLE = '/bundles/web-1';

let dir: string;
/** The test runner's listeners of each signal the relay listens for, before the test. */
let listeners: Map<NodeJS.Signals, NodeJS.SignalsListener[]>;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'mountkit-hooks-relay-'));
  listeners = new Map(PASSED_SIGNALS.map((sig) => [sig, process.listeners(sig)]));
});
/** The launcher's SIGTERM, to the listeners the relays added (not the test runner's). */
function term(): void {
  for (const l of process.listeners('SIGTERM')) if (!listeners.get('SIGTERM')!.includes(l)) l('SIGTERM');
}
// A relay is a process of its own, which ends with its listeners; here they are taken off
// after each test, or they pile up on the one process the tests share (runInBand).
afterEach(() => {
  for (const [sig, before] of listeners) for (const l of process.listeners(sig)) if (!before.includes(l)) process.off(sig, l);
  rmSync(dir, { recursive: true, force: true });
});

function relay(hooks: Partial<RootfsConfig['hooks']>, sys = new RelayPort(), pidFile?: StarterPidFile, terminal = false) {
  const config = { bundle: BUNDLE, hooks: { prestart: [], createRuntime: [], ...hooks }, process: { terminal } } as unknown as RootfsConfig;
  const warnings: string[] = [];
  const socketDir = path.join(dir, 'relay');
  const ended = serveLauncherHooks(sys, process.ppid, socketDir, { opts: {} as CliOptions, config, ...(pidFile ? { pidFile } : {}) }, (m) => warnings.push(m));
  const settled = ended.then(
    (status) => ({ status }),
    (err: Error) => ({ error: err.message }),
  );
  /** The run's Node: connects, retrying while the relay starts to listen. */
  const connected = async (): Promise<Socket> => {
    for (let i = 0; i < 200; i++) {
      const socket = await new Promise<Socket | undefined>((resolve) => {
        const s = connect(path.join(socketDir, RELAY_SOCKET));
        s.once('connect', () => resolve(s));
        s.once('error', () => resolve(undefined));
      });
      if (socket) return socket;
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('the relay never listened');
  };
  const line = (h: HookSpec, pid = PEER) => `${JSON.stringify(hookCommand(h, ociState(new Map(), config, { status: 'creating', pid })))}\n`;
  return { sys, settled, warnings, connected, line, socketDir };
}

/** The relay's port with /run/c, the --pid-file /run/c/ct.pid's directory opened on it as the relay opens it. */
function withPidDir(): { sys: RelayPort; pidFile: StarterPidFile } {
  const sys = new RelayPort();
  sys.addDir('/run/c');
  const pidFile = starterPidFile(sys, '/run/c/ct.pid');
  sys.clearCalls();
  return { sys, pidFile };
}

/** The lines the relay answers until `count` have come. */
function answers(socket: Socket, count: number): Promise<unknown[]> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (d: Buffer) => {
      text += d.toString();
      const lines = text.split('\n').filter(Boolean);
      if (lines.length >= count) resolve(lines.map((l) => JSON.parse(l) as unknown));
    });
  });
}

const closed = (socket: Socket) => new Promise<void>((resolve) => socket.end(() => socket.once('close', () => resolve())));

describe("bin/mountkit's hooks relay", () => {
  test("runs the config's runtime hooks with the connecting process as the container (SO_PEERCRED); poststart at the exec event; poststop at the launcher's SIGTERM once the channel has ended; its directory is gone once connected", async () => {
    const r = relay({ prestart: [hook('pre')], createRuntime: [hook('cr')], poststart: [hook('ps')], poststop: [hook('pst')] });
    const socket = await r.connected();
    const got = answers(socket, 2);
    socket.write(r.line(hook('pre')) + r.line(hook('cr')));
    expect(await got).toEqual([{ result: { status: 0, signal: null, output: '' } }, { result: { status: 0, signal: null, output: '' } }]);
    expect(existsSync(r.socketDir)).toBe(false);
    socket.write('{"event":"exec"}\n');
    await closed(socket);
    term();
    expect(await r.settled).toEqual({ status: 0 });
    expect(r.sys.peersAsked).toHaveLength(1);
    const ops = r.sys.calls.filter((c) => ['setParentDeathSignal', 'pidfdOpen', 'runCommand', 'runCommandAsync'].includes(c.op));
    const run = (c: (typeof ops)[number]) => {
      if (c.op !== 'runCommand' && c.op !== 'runCommandAsync') return [c.op];
      const state = JSON.parse(c.cmd.stdin ?? '{}') as { status: string; pid?: number };
      return [c.op, c.cmd.path, state.status, state.pid];
    };
    expect(ops.map(run)).toEqual([
      ['setParentDeathSignal'],
      ['pidfdOpen'],
      ['runCommand', '/hooks/pre', 'creating', PEER],
      ['runCommand', '/hooks/cr', 'creating', PEER],
      ['runCommandAsync', '/hooks/ps', 'running', PEER],
      ['runCommand', '/hooks/pst', 'stopped', undefined],
    ]);
  });

  test('a SIGTERM that is the parent-death signal (the launcher killed: this process has another parent now) ends the relay at once: no poststop hook runs, as a killed runc runs none', async () => {
    const r = relay({ poststop: [hook('pst')] });
    const socket = await r.connected();
    const launcher = process.ppid;
    Object.defineProperty(process, 'ppid', { value: 1, writable: true, enumerable: true, configurable: true });
    try {
      term();
      expect(await r.settled).toEqual({ status: NOT_STARTED_STATUS });
    } finally {
      Object.defineProperty(process, 'ppid', { value: launcher, writable: true, enumerable: true, configurable: true });
    }
    expect(r.sys.calls.filter((c) => c.op.startsWith('runCommand'))).toEqual([]);
    await closed(socket);
  });

  test('a SIGTERM that comes before the channel has ended waits for its end: the exec event read last is served first (poststart, then poststop)', async () => {
    const r = relay({ poststart: [hook('ps')], poststop: [hook('pst')] });
    const socket = await r.connected();
    socket.write('{"event":"exec"}\n');
    term();
    let done = false;
    void r.settled.then(() => (done = true));
    await new Promise((res) => setTimeout(res, 50));
    expect(done).toBe(false);
    await closed(socket);
    expect(await r.settled).toEqual({ status: 0 });
    expect(r.sys.calls.filter((c) => c.op.startsWith('runCommand')).map((c) => c.op)).toEqual(['runCommandAsync', 'runCommand']);
  });

  test('a command that is not the next hook with that pid is refused (EPERM), and nothing is run', async () => {
    const r = relay({ createRuntime: [hook('cr')] });
    const socket = await r.connected();
    const got = answers(socket, 1);
    socket.write(r.line(hook('cr'), PEER + 1));
    expect(await got).toEqual([{ error: expect.objectContaining({ syscall: 'execve', code: 'EPERM', paths: ['/hooks/cr'] }) }]);
    await closed(socket);
    term();
    expect(await r.settled).toEqual({ status: NOT_STARTED_STATUS });
    expect(r.sys.calls.filter((c) => c.op === 'runCommand')).toEqual([]);
  });

  test("a failing poststart hook stops the container (SIGKILL to its pidfd) and is the relay's error; the poststop hooks still run", async () => {
    const sys = new RelayPort();
    sys.commandResult = (cmd) => ({ status: cmd.path === '/hooks/ps' ? 3 : 0, signal: null, output: '' });
    const r = relay({ poststart: [hook('ps')], poststop: [hook('pst')] }, sys);
    const socket = await r.connected();
    socket.write('{"event":"exec"}\n');
    await closed(socket);
    term();
    expect(await r.settled).toEqual({ error: expect.stringMatching(/^hook poststart\[0\] "\/hooks\/ps" failed \(exit status 3\)/) });
    expect(sys.calls.filter((c) => ['pidfdSendSignal', 'runCommand'].includes(c.op)).map((c) => c.op)).toEqual(['pidfdSendSignal', 'runCommand']);
    expect(sys.calls.find((c) => c.op === 'pidfdSendSignal')).toMatchObject({ signal: 9 });
  });

  test('--pid-file: written through its directory once the poststart hooks have run, with the pid they were given (the peer\'s)', async () => {
    const { sys, pidFile } = withPidDir();
    const r = relay({ poststart: [hook('ps')], poststop: [hook('pst')] }, sys, pidFile);
    const socket = await r.connected();
    socket.write('{"event":"exec"}\n');
    await closed(socket);
    term();
    expect(await r.settled).toEqual({ status: 0 });
    const ops = sys.calls.filter((c) => c.op.startsWith('runCommand') || ['openat', 'write', 'close', 'renameat'].includes(c.op));
    expect(ops.map((c) => (c.op === 'write' ? [c.op, c.data] : [c.op]))).toEqual([['runCommandAsync'], ['openat'], ['write', String(PEER)], ['close'], ['renameat'], ['runCommand']]);
    expect(sys.callsOf('openat')).toEqual([{ op: 'openat', dirfd: pidFile.dirFd, path: '.ct.pid', flags: PID_FILE_FLAGS, mode: 0o666 }]);
    expect(sys.callsOf('renameat')).toEqual([{ op: 'renameat', oldDirfd: pidFile.dirFd, oldPath: '.ct.pid', newDirfd: pidFile.dirFd, newPath: 'ct.pid' }]);
  });

  test("--pid-file that cannot be written: the container is stopped (SIGKILL to its pidfd) and the write's error is the relay's; the poststop hooks still run", async () => {
    const { sys, pidFile } = withPidDir();
    sys.failOn('openat', 'EACCES');
    const r = relay({ poststop: [hook('pst')] }, sys, pidFile);
    const socket = await r.connected();
    socket.write('{"event":"exec"}\n');
    await closed(socket);
    term();
    expect(await r.settled).toEqual({ error: '--pid-file "/run/c/ct.pid": openat ".ct.pid": EACCES' });
    expect(sys.calls.filter((c) => ['openat', 'pidfdSendSignal', 'runCommand'].includes(c.op)).map((c) => c.op)).toEqual(['openat', 'pidfdSendSignal', 'runCommand']);
    expect(sys.callsOf('renameat')).toEqual([]);
  });

  test("with a foreground console: the first connection is kept for the console's master (a copy of its descriptor, closed at the end), the second served as the runtime channel", async () => {
    const sys = new RelayPort();
    const r = relay({ createRuntime: [hook('cr')], poststop: [hook('pst')] }, sys, undefined, true);
    const consoleConn = await r.connected();
    consoleConn.write(r.line(hook('cr')));
    const channel = await r.connected();
    const got = answers(channel, 1);
    channel.write(r.line(hook('cr')));
    expect(await got).toEqual([{ result: { status: 0, signal: null, output: '' } }]);
    channel.write('{"event":"exec"}\n');
    await closed(channel);
    term();
    expect(await r.settled).toEqual({ status: 0 });
    const [copy] = [...sys.copies];
    expect(sys.peersAsked).toEqual([expect.any(Number), copy]);
    expect(sys.calls.filter((c) => ['dupCloexec', 'runCommand', 'close'].includes(c.op)).map((c) => (c.op === 'runCommand' ? [c.op, c.cmd.path] : [c.op]))).toEqual([['dupCloexec'], ['runCommand', '/hooks/cr'], ['close'], ['runCommand', '/hooks/pst']]);
    expect(sys.callsOf('close')).toEqual([{ op: 'close', fd: copy }]);
    consoleConn.destroy();
  });

  test('with a foreground console from another process than the channel\'s (SO_PEERCRED): the channel is refused, nothing run', async () => {
    const sys = new RelayPort();
    sys.copiesPeer = PEER + 1;
    const r = relay({ createRuntime: [hook('cr')], poststop: [hook('pst')] }, sys, undefined, true);
    const consoleConn = await r.connected();
    const channel = await r.connected();
    const ended = new Promise<void>((resolve) => channel.on('close', () => resolve()));
    channel.on('error', () => undefined);
    channel.write(r.line(hook('cr')));
    await ended;
    expect(await r.settled).toEqual({ status: 0 });
    expect(sys.calls.filter((c) => c.op.startsWith('runCommand'))).toEqual([]);
    consoleConn.destroy();
  });

  test('a SIGTERM before any connection (the run failed first, or went to the Node entry): 0, no hook run, the directory removed', async () => {
    const r = relay({ poststop: [hook('pst')] });
    for (let i = 0; i < 200 && !existsSync(r.socketDir); i++) await new Promise((res) => setTimeout(res, 5));
    expect(existsSync(r.socketDir)).toBe(true);
    term();
    expect(await r.settled).toEqual({ status: 0 });
    expect(existsSync(r.socketDir)).toBe(false);
    expect(r.sys.calls.filter((c) => c.op.startsWith('runCommand'))).toEqual([]);
  });

  test('a directory that exists already (another one of that name) is not used: 0 at once, nothing listening', async () => {
    const r = relay({ poststop: [hook('pst')] }, new RelayPort());
    // The relay made it; a second relay for the same directory finds it taken.
    for (let i = 0; i < 200 && !existsSync(r.socketDir); i++) await new Promise((res) => setTimeout(res, 5));
    const second = serveLauncherHooks(new RelayPort(), process.ppid, r.socketDir, { opts: {} as CliOptions, config: { bundle: BUNDLE, hooks: { prestart: [], createRuntime: [] } } as unknown as RootfsConfig }, () => undefined);
    expect(await second).toBe(0);
    term();
    expect(await r.settled).toEqual({ status: 0 });
  });
});
