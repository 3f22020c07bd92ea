import { EventEmitter } from 'events';
import type { Socket } from 'net';
import type { HookSpec, RootfsConfig } from '../../src/core/config/model';
import type { CommandResult, CommandSpec } from '../../src/core/syscalls/types';
import { hookCommand, ociState } from '../../src/core/hooks';
import { SyscallError, errnoNumber } from '../../src/core/errors';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { poststartHooks, poststopHooks, serveRuntimeChannel } from '../../src/core/runtime-hooks';

/** The first process's end of the channel: what the relaunched process sends comes as data, what is answered is kept. */
class FakeChannel extends EventEmitter {
  readonly written: string[] = [];
  destroyed = false;
  write(text: string): boolean {
    this.written.push(text);
    return true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  send(...chunks: string[]): void {
    for (const chunk of chunks) this.emit('data', Buffer.from(chunk));
  }
  answers(): unknown[] {
    return this.written.map((line) => JSON.parse(line) as unknown);
  }
}

const hook = (path: string, over: Partial<HookSpec> = {}): HookSpec => ({ path, args: [], env: [], ...over });
const BUNDLE = '/bundles/web-1';
const ANNOTATIONS = { team: 'a' };

function serve(
  hooks: Partial<RootfsConfig['hooks']>,
  sys = new FakeSyscalls(),
  container: () => number | undefined = () => 4242,
  console?: () => void,
  runAsync?: (cmd: CommandSpec) => Promise<CommandResult>,
  idmap?: (mount: number) => void,
  poststartPid?: () => number | undefined,
) {
  const channel = new FakeChannel();
  const killed: (number | undefined)[] = [];
  const warnings: string[] = [];
  const config = { bundle: BUNDLE, annotations: ANNOTATIONS, hooks: { prestart: [], createRuntime: [], ...hooks } };
  const side = serveRuntimeChannel(channel as unknown as Socket, {
    sys,
    config,
    container,
    ...(poststartPid ? { poststartPid } : {}),
    kill: (pid) => killed.push(pid),
    warn: (m) => warnings.push(m),
    ...(console ? { console } : {}),
    ...(runAsync ? { runAsync } : {}),
    ...(idmap ? { idmap } : {}),
  });
  /** The line the relaunched process sends for `h`, as the hooks plugin builds it, with the host pid it knows. */
  const line = (h: HookSpec, pid = 4242) => `${JSON.stringify(hookCommand(h, ociState(new Map(), config, { status: 'creating', pid })))}\n`;
  return { channel, side, sys, killed, warnings, line };
}

const state = (status: string, pid?: number) => JSON.stringify({ ociVersion: '1.0.2', id: 'web-1', status, ...(pid === undefined ? {} : { pid }), bundle: BUNDLE, annotations: ANNOTATIONS });

describe('the first process on the runtime channel', () => {
  test("the config's prestart and createRuntime hooks, in order, each run through its port and answered with its result, also when a line comes in pieces", () => {
    const sys = new FakeSyscalls();
    sys.commandResult = { status: 0, signal: null, output: 'up\n' };
    const pre = hook('/hooks/pre', { args: ['pre', '-v'], env: ['A=1'], timeout: 5 });
    const net = hook('/hooks/net');
    const { channel, line } = serve({ prestart: [pre], createRuntime: [net] }, sys);
    const first = line(pre);
    channel.send(first.slice(0, 10), first.slice(10) + line(net));
    expect(sys.calls).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/pre', args: ['-v'], env: ['A=1'], dir: BUNDLE, stdin: state('creating', 4242), argv0: 'pre', timeoutMs: 5000 } },
      { op: 'runCommand', cmd: { path: '/hooks/net', args: [], env: [], dir: BUNDLE, stdin: state('creating', 4242) } },
    ]);
    expect(channel.answers()).toEqual([{ result: { status: 0, signal: null, output: 'up\n' } }, { result: { status: 0, signal: null, output: 'up\n' } }]);
  });

  test('a hook that fails to start is answered with its SyscallError', () => {
    const sys = new FakeSyscalls().failOn('runCommand', 'ENOENT');
    const { channel, line } = serve({ createRuntime: [hook('/hooks/net')] }, sys);
    channel.send(line(hook('/hooks/net')));
    expect(channel.answers()).toEqual([{ error: { syscall: 'runCommand', code: 'ENOENT', paths: ['/hooks/net'] } }]);
  });

  const ownState = state('creating', 4242);
  test.each([
    ['a command the config does not have', { path: '/bin/sh', args: ['-c', 'id'], env: [], dir: BUNDLE, stdin: ownState }, 'its command differs'],
    ['the hook with other arguments', { path: '/hooks/net', args: ['down'], env: [], dir: BUNDLE, stdin: ownState }, 'its command differs'],
    ['the hook in another directory', { path: '/hooks/net', args: [], env: [], dir: '/', stdin: ownState }, 'its command differs'],
    ['the hook with another status', { path: '/hooks/net', args: [], env: [], dir: BUNDLE, stdin: state('running', 4242) }, `its state differs from ${ownState}`],
    ['the hook with another pid (the host\'s init)', { path: '/hooks/net', args: [], env: [], dir: BUNDLE, stdin: state('creating', 1) }, `its state differs from ${ownState}`],
  ])('%s is refused (EPERM), run nowhere, and the next hook is still the one expected', (_name, command, problem) => {
    const { channel, sys, line } = serve({ createRuntime: [hook('/hooks/net')] });
    channel.send(`${JSON.stringify(command)}\n`, line(hook('/hooks/net')), line(hook('/hooks/net')));
    expect(channel.answers()).toEqual([
      { error: { syscall: 'execve', code: 'EPERM', paths: [command.path], detail: `not the config's next prestart or createRuntime hook (createRuntime[0] "/hooks/net"): ${problem}` } },
      { result: { status: 0, signal: null, output: '' } },
      { error: { syscall: 'execve', code: 'EPERM', paths: ['/hooks/net'], detail: "not the config's next prestart or createRuntime hook: the config has no more prestart or createRuntime hooks" } },
    ]);
    expect(sys.calls.map((c) => c.op)).toEqual(['runCommand']);
  });

  test('a hook is refused once the container is gone', () => {
    const { channel, sys, line } = serve({ createRuntime: [hook('/hooks/net')] }, new FakeSyscalls(), () => undefined);
    channel.send(line(hook('/hooks/net')));
    expect(channel.answers()).toEqual([
      { error: { syscall: 'execve', code: 'EPERM', paths: ['/hooks/net'], detail: 'not the config\'s next prestart or createRuntime hook (createRuntime[0] "/hooks/net"): the container is gone' } },
    ]);
    expect(sys.calls).toEqual([]);
  });

  test('an event this side does not know is passed over; a line that is no message ends the channel, with a warning, and nothing after it is read', () => {
    const { channel, sys, warnings, line } = serve({ createRuntime: [hook('/hooks/net')] });
    channel.send('{"event":"paused"}\n', `[]\n${line(hook('/hooks/net'))}`);
    expect([channel.written, channel.destroyed, sys.calls]).toEqual([[], true, []]);
    expect(warnings).toEqual(['the runtime channel is closed: not a message of the runtime channel: []']);
  });

  test('the exec event runs the poststart hooks once, in order, status "running" with the container\'s pid, unanswered', async () => {
    const { channel, sys, side, killed } = serve({ poststart: [hook('/hooks/a'), hook('/hooks/b')] });
    channel.send('{"event":"exec"}\n', '{"event":"exec"}\n');
    expect(sys.calls).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/a', args: [], env: [], dir: BUNDLE, stdin: state('running', 4242) } },
      { op: 'runCommand', cmd: { path: '/hooks/b', args: [], env: [], dir: BUNDLE, stdin: state('running', 4242) } },
    ]);
    expect(channel.written).toEqual([]);
    expect([await side.ended(), killed]).toEqual([undefined, []]);
  });

  test("a failing poststart hook stops the container and the later hooks, and is the run's error; the poststop hooks still run", async () => {
    const sys = new FakeSyscalls();
    sys.commandResult = (cmd) => ({ status: cmd.path === '/hooks/a' ? 3 : 0, signal: null, output: cmd.path === '/hooks/a' ? 'no route\n' : '' });
    const { channel, side, killed } = serve({ poststart: [hook('/hooks/a'), hook('/hooks/b')], poststop: [hook('/hooks/clean')] }, sys);
    channel.send('{"event":"exec"}\n');
    expect(killed).toEqual([4242]);
    expect((await side.ended())?.message).toBe('hook poststart[0] "/hooks/a" failed (exit status 3): no route');
    expect(sys.calls).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/a', args: [], env: [], dir: BUNDLE, stdin: state('running', 4242) } },
      { op: 'runCommand', cmd: { path: '/hooks/clean', args: [], env: [], dir: BUNDLE, stdin: state('stopped') } },
    ]);
  });

  test('the console event takes the console once and is answered; a second one, or one without a taker, is refused (EPERM)', async () => {
    let taken = 0;
    const { channel, side, killed } = serve({}, new FakeSyscalls(), () => 4242, () => taken++);
    channel.send('{"event":"console"}\n', '{"event":"console"}\n');
    expect([taken, killed, await side.ended()]).toEqual([1, [], undefined]);
    expect(channel.answers()).toEqual([
      { result: {} },
      { error: { syscall: 'recvmsg', code: 'EPERM', paths: [], detail: 'the console was asked for already' } },
    ]);
    // A take that failed is answered with its error, and a second ask is refused as after one that was done.
    const failing = serve({}, new FakeSyscalls(), () => 4242, () => {
      taken++;
      throw new SyscallError('recvmsg', errnoNumber('EBADF'), []);
    });
    failing.channel.send('{"event":"console"}\n', '{"event":"console"}\n');
    expect([taken, failing.channel.answers()]).toEqual([
      2,
      [
        { error: { syscall: 'recvmsg', code: 'EBADF', paths: [] } },
        { error: { syscall: 'recvmsg', code: 'EPERM', paths: [], detail: 'the console was asked for already' } },
      ],
    ]);
    const none = serve({});
    none.channel.send('{"event":"console"}\n');
    expect([none.channel.answers(), none.channel.destroyed]).toEqual([[{ error: { syscall: 'recvmsg', code: 'EPERM', paths: [], detail: 'no console socket was passed' } }], false]);
  });

  test('the idmap event has the copy of the mount it names made and is answered; its failure is the answer; without a maker, or a mount, EPERM', async () => {
    const asked: number[] = [];
    const { channel, killed } = serve({}, new FakeSyscalls(), () => 4242, undefined, undefined, (mount) => {
      asked.push(mount);
      if (mount === 9) throw new SyscallError('mount_setattr', errnoNumber('EINVAL'), ['/srv/data'], 'the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it');
    });
    channel.send('{"event":"idmap","mount":7}\n', '{"event":"idmap","mount":9}\n', '{"event":"idmap"}\n');
    expect(asked).toEqual([7, 9]);
    expect(channel.answers()).toEqual([
      { result: {} },
      { error: { syscall: 'mount_setattr', code: 'EINVAL', paths: ['/srv/data'], detail: 'the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it' } },
      { error: { syscall: 'open_tree', code: 'EPERM', paths: [], detail: 'the idmap event names no mount' } },
    ]);
    expect(killed).toEqual([]);
    const none = serve({});
    none.channel.send('{"event":"idmap","mount":7}\n');
    expect(none.channel.answers()).toEqual([{ error: { syscall: 'open_tree', code: 'EPERM', paths: [], detail: 'no idmap socket was passed' } }]);
  });

  test('a console that cannot be taken is answered with the error, for the relaunched process to fail with; the container is not stopped here', async () => {
    const sys = new FakeSyscalls();
    const refused = serve({}, sys, () => 4242, () => {
      throw new SyscallError('ioctl', errnoNumber('EIO'), ['TCSETS']);
    });
    refused.channel.send('{"event":"console"}\n');
    expect([refused.channel.answers(), refused.killed, await refused.side.ended()]).toEqual([[{ error: { syscall: 'ioctl', code: 'EIO', paths: ['TCSETS'] } }], [], undefined]);
    const other = serve({}, sys, () => 4242, () => {
      throw new Error('console: no master');
    });
    other.channel.send('{"event":"console"}\n');
    expect(other.channel.answers()).toEqual([{ error: { syscall: 'recvmsg', code: 'EIO', paths: [], detail: 'console: no master' } }]);
  });

  test('with a runner that does not wait, the poststart hooks run through it one after another while the event loop goes on; the poststop hooks wait for them; a failure stops the container and the later hooks', async () => {
    const sys = new FakeSyscalls();
    const ran: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const runAsync = async (cmd: CommandSpec): Promise<CommandResult> => {
      ran.push(cmd.path);
      if (cmd.path === '/hooks/a') await gate;
      return { status: cmd.path === '/hooks/b' ? 1 : 0, signal: null, output: '' };
    };
    const { channel, side, killed } = serve({ poststart: [hook('/hooks/a'), hook('/hooks/b'), hook('/hooks/c')], poststop: [hook('/hooks/clean')] }, sys, () => 4242, undefined, runAsync);
    channel.send('{"event":"exec"}\n');
    // The first hook runs and has not ended: the message handler has returned.
    expect(ran).toEqual(['/hooks/a']);
    const ended = side.ended();
    await new Promise((resolve) => setImmediate(resolve));
    expect(sys.calls).toEqual([]);
    release();
    expect((await ended)?.message).toBe('hook poststart[1] "/hooks/b" failed (exit status 1)');
    expect([ran, killed]).toEqual([['/hooks/a', '/hooks/b'], [4242]]);
    expect(sys.calls).toEqual([{ op: 'runCommand', cmd: { path: '/hooks/clean', args: [], env: [], dir: BUNDLE, stdin: state('stopped') } }]);
  });

  test('a container gone by the exec event (a short program, already reaped): the state has the pid poststartPid kept for it, asked once, container not asked; a failure stops it with that pid', () => {
    const sys = new FakeSyscalls();
    sys.commandResult = (cmd) => ({ status: cmd.path === '/hooks/b' ? 1 : 0, signal: null, output: '' });
    const asked: string[] = [];
    const gone = () => (asked.push('container'), undefined);
    const kept = () => (asked.push('poststartPid'), 4242);
    const { channel, killed } = serve({ poststart: [hook('/hooks/a'), hook('/hooks/b'), hook('/hooks/c')] }, sys, gone, undefined, undefined, undefined, kept);
    channel.send('{"event":"exec"}\n');
    expect(sys.calls).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/a', args: [], env: [], dir: BUNDLE, stdin: state('running', 4242) } },
      { op: 'runCommand', cmd: { path: '/hooks/b', args: [], env: [], dir: BUNDLE, stdin: state('running', 4242) } },
    ]);
    expect([asked, killed]).toEqual([['poststartPid'], [4242]]);
  });

  test('poststartPid through a runner that does not wait: its pid in each state, and the kill', async () => {
    const sys = new FakeSyscalls();
    const ran: CommandSpec[] = [];
    const runAsync = async (cmd: CommandSpec): Promise<CommandResult> => (ran.push(cmd), { status: cmd.path === '/hooks/b' ? 1 : 0, signal: null, output: '' });
    const { channel, side, killed } = serve({ poststart: [hook('/hooks/a'), hook('/hooks/b')] }, sys, () => undefined, undefined, runAsync, undefined, () => 4242);
    channel.send('{"event":"exec"}\n');
    expect((await side.ended())?.message).toBe('hook poststart[1] "/hooks/b" failed (exit status 1)');
    expect([ran.map((cmd) => cmd.stdin), killed]).toEqual([[state('running', 4242), state('running', 4242)], [4242]]);
  });

  test('without poststartPid (an embedder that gives only container), container gives the pid: 0 in the state when it gives none, and the kill is given none', () => {
    const sys = new FakeSyscalls();
    sys.commandResult = { status: 1, signal: null, output: '' };
    const { channel, killed } = serve({ poststart: [hook('/hooks/a')] }, sys, () => undefined);
    channel.send('{"event":"exec"}\n');
    expect(sys.calls).toEqual([{ op: 'runCommand', cmd: { path: '/hooks/a', args: [], env: [], dir: BUNDLE, stdin: state('running', 0) } }]);
    expect(killed).toEqual([undefined]);
  });

  test('once the container has ended: every poststop hook, status "stopped" and no pid; a failing one is a warning', async () => {
    const sys = new FakeSyscalls();
    sys.commandResult = (cmd) => ({ status: cmd.path === '/hooks/a' ? 1 : 0, signal: null, output: '' });
    const { side, warnings } = serve({ poststop: [hook('/hooks/a'), hook('/hooks/b')] }, sys);
    expect(await side.ended()).toBeUndefined();
    expect(sys.calls).toEqual([
      { op: 'runCommand', cmd: { path: '/hooks/a', args: [], env: [], dir: BUNDLE, stdin: state('stopped') } },
      { op: 'runCommand', cmd: { path: '/hooks/b', args: [], env: [], dir: BUNDLE, stdin: state('stopped') } },
    ]);
    expect(warnings).toEqual(['hook poststop[0] "/hooks/a" failed (exit status 1)']);
  });
});

describe("the container's id (mountkit run ID, RootfsConfig.id)", () => {
  const config = { bundle: BUNDLE, id: 'db-7', hooks: { prestart: [], createRuntime: [hook('/hooks/net')], poststart: [hook('/hooks/up')], poststop: [hook('/hooks/down')] } };
  const withId = (status: string, pid?: number) => JSON.stringify({ ociVersion: '1.0.2', id: 'db-7', status, ...(pid === undefined ? {} : { pid }), bundle: BUNDLE });

  test('is the poststart and poststop hooks\' state id, not the bundle name', () => {
    expect(poststartHooks(config, 4242).map((h) => h.cmd.stdin)).toEqual([withId('running', 4242)]);
    expect(poststopHooks(config).map((h) => h.cmd.stdin)).toEqual([withId('stopped')]);
  });

  test('a createRuntime hook sent with it is run; one sent with the bundle name is refused (EPERM)', () => {
    const sys = new FakeSyscalls();
    const channel = new FakeChannel();
    serveRuntimeChannel(channel as unknown as Socket, { sys, config, container: () => 4242, kill: () => undefined, warn: () => undefined });
    const sent = (id: string | undefined) => `${JSON.stringify(hookCommand(hook('/hooks/net'), ociState(new Map(), { bundle: BUNDLE, id }, { status: 'creating', pid: 4242 })))}\n`;
    channel.send(sent(undefined), sent('db-7'));
    expect(channel.answers()).toEqual([
      { error: { syscall: 'execve', code: 'EPERM', paths: ['/hooks/net'], detail: `not the config's next prestart or createRuntime hook (createRuntime[0] "/hooks/net"): its state differs from ${withId('creating', 4242)}` } },
      { result: { status: 0, signal: null, output: '' } },
    ]);
    expect(sys.calls).toEqual([{ op: 'runCommand', cmd: { path: '/hooks/net', args: [], env: [], dir: BUNDLE, stdin: withId('creating', 4242) } }]);
  });
});
