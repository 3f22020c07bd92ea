import { EventEmitter } from 'events';
import { awaitedElsewhere, recordAwaited, recordSpawned } from '../../src/core/node-children';

/** A ChildProcess as recordSpawned reads it: its pid (undefined when it did not start) and its 'exit'. */
function child(pid: number | undefined): EventEmitter & { pid: number | undefined } {
  return Object.assign(new EventEmitter(), { pid });
}

describe("recordSpawned: the children Node's child_process started that libuv has not reaped", () => {
  test("recorded from the call until its 'exit', which libuv runs once it has reaped it", () => {
    const c = child(4001);
    expect(awaitedElsewhere(4001)).toBe(false);
    recordSpawned(c);
    expect(awaitedElsewhere(4001)).toBe(true);
    expect(awaitedElsewhere(4002)).toBe(false);
    c.emit('exit', 0, null);
    expect(awaitedElsewhere(4001)).toBe(false);
    expect(c.listenerCount('exit')).toBe(0);
  });

  test('one that did not start (no pid) is not recorded, and gets no listener', () => {
    const c = child(undefined);
    recordSpawned(c);
    expect(c.listenerCount('exit')).toBe(0);
  });
});

describe('recordAwaited: a child runCommandAsync reaps itself', () => {
  test('recorded from the call until the function it returns is called', () => {
    const forget = recordAwaited(4101);
    expect([awaitedElsewhere(4101), awaitedElsewhere(4102)]).toEqual([true, false]);
    forget();
    expect(awaitedElsewhere(4101)).toBe(false);
  });
});
