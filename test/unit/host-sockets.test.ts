import { connectHostSocket, foregroundConsole, hostSocketPaths } from '../../src/core/host-sockets';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import type { RootfsConfig } from '../../src/core/config/model';

const notify = (listenerPath?: string): RootfsConfig['seccomp'] => ({
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: [],
  ...(listenerPath ? { listenerPath } : {}),
  syscalls: [{ names: ['mkdir'], action: listenerPath ? 'SCMP_ACT_NOTIFY' : 'SCMP_ACT_ERRNO', args: [] }],
});

describe('hostSocketPaths', () => {
  test.each<[string, Pick<RootfsConfig, 'consoleSocket' | 'seccomp'>, [string, string][]]>([
    ['none', {}, []],
    ['a console', { consoleSocket: '/run/c.sock' }, [['console', '/run/c.sock']]],
    ['an agent', { seccomp: notify('/run/agent.sock') }, [['seccompAgent', '/run/agent.sock']]],
    ['both, the console first', { consoleSocket: '/run/c.sock', seccomp: notify('/run/agent.sock') }, [['console', '/run/c.sock'], ['seccompAgent', '/run/agent.sock']]],
    ['a profile without SCMP_ACT_NOTIFY has no agent', { seccomp: notify() }, []],
  ])('%s', (_case, config, expected) => expect(hostSocketPaths(config)).toEqual(expected));
});

describe('connectHostSocket', () => {
  test('a descriptor passed for the role is taken, with no connect(2)', () => {
    const sys = new FakeSyscalls();
    expect(connectHostSocket(sys, { hostSockets: { console: 6 } }, 'console', '/run/c.sock')).toBe(6);
    expect(sys.calls).toEqual([]);
  });

  test('otherwise the path is connected, and a refusal is the port\'s', () => {
    const sys = new FakeSyscalls();
    const fd = connectHostSocket(sys, { hostSockets: { console: 6 } }, 'seccompAgent', '/run/agent.sock');
    expect(sys.calls).toEqual([{ op: 'connectUnix', path: '/run/agent.sock' }]);
    expect(fd).toBeGreaterThan(2);
    const refusing = new FakeSyscalls().failOn('connectUnix', 'EACCES');
    expect(() => connectHostSocket(refusing, {}, 'console', '/run/c.sock')).toThrow('EACCES');
  });
});

describe('foregroundConsole: the console this process copies where mountkit was started', () => {
  test.each<[string, Parameters<typeof foregroundConsole>[0], boolean]>([
    ['process.terminal alone', { process: { terminal: true } }, true],
    ['no terminal', { process: { terminal: false } }, false],
    ['--console-socket', { process: { terminal: true }, consoleSocket: '/run/c.sock' }, false],
    // The relaunched process, and the one bin/mountkit starts beside its relay: the console goes to the socket's other end.
    ['a console socket passed', { process: { terminal: true }, hostSockets: { console: 6 } }, false],
    ['a seccomp agent passed alone', { process: { terminal: true }, hostSockets: {} }, true],
  ])('%s', (_case, config, expected) => expect(foregroundConsole(config)).toBe(expected));
});
