import { EventEmitter } from 'events';
import type { Socket } from 'net';
import type { HookSpec, RootfsConfig } from '../../src/core/config/model';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import type { CommandSpec } from '../../src/core/syscalls/types';
import { serveRuntimeChannel } from '../../src/cli/runtime-hooks';

/** The first process's end of the channel: what the relaunched process sends comes as data, what is answered is kept. */
class FakeChannel extends EventEmitter {
  readonly written: string[] = [];
  write(text: string): boolean {
    this.written.push(text);
    return true;
  }
  send(...chunks: string[]): void {
    for (const chunk of chunks) this.emit('data', Buffer.from(chunk));
  }
  answers(): unknown[] {
    return this.written.map((line) => JSON.parse(line) as unknown);
  }
}

const hook = (path: string): HookSpec => ({ path, args: [], env: [] });

function serve(hooks: Partial<RootfsConfig['hooks']>, sys = new FakeSyscalls()) {
  const channel = new FakeChannel();
  const killed: number[] = [];
  const warnings: string[] = [];
  const config = { bundle: '/bundles/web-1', annotations: { team: 'a' }, hooks: { prestart: [], createRuntime: [], ...hooks } };
  const side = serveRuntimeChannel(channel as unknown as Socket, { sys, config, container: () => 4242, kill: (pid) => killed.push(pid), warn: (m) => warnings.push(m) });
  return { channel, side, sys, killed, warnings };
}

const command: CommandSpec = { path: '/hooks/net', args: ['up'], env: ['A=1'], dir: '/bundles/web-1', stdin: '{}' };

describe('the first process on the runtime channel', () => {
  test('each command line is run through its port and answered with its result, one line each, also when a line comes in pieces', () => {
    const sys = new FakeSyscalls();
    sys.commandResult = { status: 0, signal: null, output: 'up\n' };
    const { channel } = serve({}, sys);
    const line = JSON.stringify(command);
    channel.send(line.slice(0, 10), `${line.slice(10)}\n${line}\n`);
    expect(sys.callsOf('runCommand')).toEqual([
      { op: 'runCommand', cmd: command },
      { op: 'runCommand', cmd: command },
    ]);
    expect(channel.answers()).toEqual([{ result: { status: 0, signal: null, output: 'up\n' } }, { result: { status: 0, signal: null, output: 'up\n' } }]);
  });

  test('a command that fails is answered with its SyscallError; a line that is no message with EPROTO', () => {
    const sys = new FakeSyscalls().failOn('runCommand', 'ENOENT');
    const { channel } = serve({}, sys);
    channel.send(`${JSON.stringify(command)}\n`, '[]\n');
    expect(channel.answers()).toEqual([
      { error: { syscall: 'runCommand', code: 'ENOENT', paths: ['/hooks/net'] } },
      { error: { syscall: 'read', code: 'EPROTO', paths: [], detail: 'not a message of the runtime channel: []' } },
    ]);
  });

  test('the exec event runs the poststart hooks in order, status "running" with the container\'s pid, and is not answered', () => {
    const { channel, sys, side, killed } = serve({ poststart: [hook('/hooks/a'), hook('/hooks/b')] });
    channel.send('{"event":"exec"}\n');
    const state = JSON.stringify({ ociVersion: '1.0.2', id: 'web-1', status: 'running', pid: 4242, bundle: '/bundles/web-1', annotations: { team: 'a' } });
    expect(sys.callsOf('runCommand').map((c) => [c.cmd.path, c.cmd.stdin, c.cmd.dir])).toEqual([
      ['/hooks/a', state, '/bundles/web-1'],
      ['/hooks/b', state, '/bundles/web-1'],
    ]);
    expect(channel.written).toEqual([]);
    expect([side.ended(), killed]).toEqual([undefined, []]);
  });

  test('a failing poststart hook stops the container and the later hooks, and is the run\'s error; the poststop hooks still run', () => {
    const sys = new FakeSyscalls();
    sys.commandResult = (cmd) => ({ status: cmd.path === '/hooks/a' ? 3 : 0, signal: null, output: cmd.path === '/hooks/a' ? 'no route\n' : '' });
    const { channel, side, killed } = serve({ poststart: [hook('/hooks/a'), hook('/hooks/b')], poststop: [hook('/hooks/clean')] }, sys);
    channel.send('{"event":"exec"}\n');
    expect(killed).toEqual([4242]);
    expect(side.ended()?.message).toBe('hook poststart[0] "/hooks/a" failed (exit status 3): no route');
    expect(sys.callsOf('runCommand').map((c) => c.cmd.path)).toEqual(['/hooks/a', '/hooks/clean']);
  });

  test('once the container has ended: every poststop hook, status "stopped" and no pid; a failing one is a warning', () => {
    const sys = new FakeSyscalls();
    sys.commandResult = (cmd) => ({ status: cmd.path === '/hooks/a' ? 1 : 0, signal: null, output: '' });
    const { side, warnings } = serve({ poststop: [hook('/hooks/a'), hook('/hooks/b')] }, sys);
    expect(side.ended()).toBeUndefined();
    const state = JSON.stringify({ ociVersion: '1.0.2', id: 'web-1', status: 'stopped', bundle: '/bundles/web-1', annotations: { team: 'a' } });
    expect(sys.callsOf('runCommand').map((c) => [c.cmd.path, c.cmd.stdin])).toEqual([
      ['/hooks/a', state],
      ['/hooks/b', state],
    ]);
    expect(warnings).toEqual(['hook poststop[0] "/hooks/a" failed (exit status 1)']);
  });
});
