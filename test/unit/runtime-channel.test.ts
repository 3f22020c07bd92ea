import { channelMessage, eventLine, execEventSeen } from '../../src/core/runtime-channel';

describe('the runtime channel', () => {
  test('an event is one JSON line', () => {
    expect(eventLine('exec')).toBe('{"event":"exec"}\n');
    expect(channelMessage(eventLine('exec').trimEnd())).toEqual({ event: 'exec' });
    expect(eventLine('idmap', 3)).toBe('{"event":"idmap","mount":3}\n');
  });

  test.each([
    ['a command', '{"path":"/h","args":[],"env":[],"dir":"/b"}', { command: { path: '/h', args: [], env: [], dir: '/b' } }],
    ['the exec event', '{"event":"exec"}', { event: 'exec' }],
    ['an event this side does not know', '{"event":"paused"}', { event: 'paused' }],
    ['the idmap event, with the mount it names', '{"event":"idmap","mount":7}', { event: 'idmap', mount: 7 }],
    ['a mount that is no index is left out', '{"event":"idmap","mount":"7"}', { event: 'idmap' }],
  ])('%s', (_name, line, expected) => expect(channelMessage(line)).toEqual(expected));

  test.each([
    ['not an object', '[1]', 'not a message of the runtime channel: [1]'],
    ['null', 'null', 'not a message of the runtime channel: null'],
    ['neither an event nor a command', '{"event":1,"path":2}', 'not a message of the runtime channel: {"event":1,"path":2}'],
    ['not JSON', 'exec', /JSON/],
  ])('%s is refused', (_name, line, message) => expect(() => channelMessage(line)).toThrow(message));
});

describe('execEventSeen: whether the exec event came on the channel', () => {
  /** A socket standing in for the channel: `send` gives its 'data' listeners a chunk. */
  function channel(): { on(event: 'data', listener: (chunk: Buffer) => void): void; send(text: string): void } {
    const listeners: ((chunk: Buffer) => void)[] = [];
    return { on: (_event, listener) => void listeners.push(listener), send: (text) => listeners.forEach((l) => l(Buffer.from(text))) };
  }

  test('not before the event, though commands and other events came; then yes, the line split across chunks', () => {
    const socket = channel();
    const seen = execEventSeen(socket);
    socket.send('{"path":"/h","args":[],"env":[],"dir":"/b"}\n{"event":"console"}\n');
    expect(seen()).toBe(false);
    socket.send('{"event":"ex');
    expect(seen()).toBe(false);
    socket.send('ec"}\n');
    expect(seen()).toBe(true);
  });

  test('onSeen runs once, when the event comes, not for other lines or later ones', () => {
    const socket = channel();
    let calls = 0;
    const seen = execEventSeen(socket, () => calls++);
    socket.send('{"event":"console"}\n{"event":"ex');
    expect(calls).toBe(0);
    socket.send('ec"}\n');
    expect([seen(), calls]).toEqual([true, 1]);
    socket.send(eventLine('exec'));
    expect(calls).toBe(1);
  });

  test('a line that is no message is passed over', () => {
    const socket = channel();
    const seen = execEventSeen(socket);
    socket.send('exec\n[1]\n');
    expect(seen()).toBe(false);
    socket.send(eventLine('exec'));
    expect(seen()).toBe(true);
  });
});
