import { channelMessage, eventLine } from '../../src/core/runtime-channel';

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
