import { signalName } from '../../src/core/signal-name';

describe('signalName: a signal by its number, as os.constants.signals names it', () => {
  test.each<[number, string | undefined]>([
    [9, 'SIGKILL'],
    [15, 'SIGTERM'],
    [10, 'SIGUSR1'],
    [17, 'SIGCHLD'],
    // A number with two names gets the first, which signal(7) lists as the signal (SIGIOT and SIGPOLL are its synonyms).
    [6, 'SIGABRT'],
    [29, 'SIGIO'],
    // The real-time signals have no name there; nor has a number no signal has.
    [34, undefined],
    [0, undefined],
    [65, undefined],
  ])('%i: %p', (signum, name) => {
    expect(signalName(signum)).toBe(name);
  });
});
