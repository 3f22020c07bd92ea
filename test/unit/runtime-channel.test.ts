import { channelMessage, eventLine } from '../../src/core/runtime-channel';

describe('the runtime channel', () => {
  test('an event is one JSON line', () => {
    expect(eventLine('exec')).toBe('{"event":"exec"}\n');
    expect(channelMessage(eventLine('exec').trimEnd())).toEqual({ event: 'exec' });
  });

  test.each([
    ['a command', '{"path":"/h","args":[],"env":[],"dir":"/b"}', { command: { path: '/h', args: [], env: [], dir: '/b' } }],
    ['the exec event', '{"event":"exec"}', { event: 'exec' }],
  ])('%s', (_name, line, expected) => expect(channelMessage(line)).toEqual(expected));

  test.each([
    ['an unknown event', '{"event":"start"}', 'unknown event on the runtime channel: "start"'],
    ['not an object', '[1]', 'not a message of the runtime channel: [1]'],
    ['null', 'null', 'not a message of the runtime channel: null'],
    ['not JSON', 'exec', /JSON/],
  ])('%s is refused', (_name, line, message) => expect(() => channelMessage(line)).toThrow(message));
});
