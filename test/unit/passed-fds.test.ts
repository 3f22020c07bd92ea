import { O_CLOEXEC } from '../../src/core/constants';
import { ConfigError } from '../../src/core/errors';
import { CLOSED_FD_ENV, activationEnv, checkPassedOpen, closedByLauncher, descriptorCount, handOverPassed, listenFdsOf, passedBy, passedCount, refuseNoticeAmongPassed, relaunchChannelFd } from '../../src/core/passed-fds';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

describe('socket activation, in the one spelling of a count that bin/mountkit reads too', () => {
  test.each([
    ['0', 0],
    ['7', 7],
    ['10', 10],
    ['9007199254740991', 9007199254740991],
    ['+7', undefined],
    ['-3', undefined],
    ['-0', undefined],
    ['007', undefined],
    ['00', undefined],
    ['', undefined],
    [' 7', undefined],
    ['7x', undefined],
    ['0x10', undefined],
    ['1e3', undefined],
    ['\u0667', undefined],
    ['9007199254740992', undefined],
  ])('descriptorCount(%j) = %j', (text, expected) => expect(descriptorCount(text)).toBe(expected));

  test.each([
    [{ LISTEN_PID: '42', LISTEN_FDS: '2' }, 2],
    [{ LISTEN_PID: '42', LISTEN_FDS: '0' }, 0],
    [{ LISTEN_PID: '+42', LISTEN_FDS: '2' }, 0],
    [{ LISTEN_PID: '042', LISTEN_FDS: '2' }, 0],
    [{ LISTEN_PID: '43', LISTEN_FDS: '2' }, 0],
    [{ LISTEN_PID: '43', LISTEN_FDS: '+2' }, 0],
    [{ LISTEN_FDS: '2' }, 0],
    [{ LISTEN_PID: '42' }, 0],
  ])('%j for pid 42: %d', (env, expected) => expect(listenFdsOf(env, 42)).toBe(expected));

  test.each<[string | undefined, number | undefined]>([
    ['42:3', 3],
    ['42:17', 17],
    [undefined, undefined],
    ['43:3', undefined],
    ['042:3', undefined],
    ['42:2', undefined],
    ['42:0', undefined],
    ['42:03', undefined],
    ['42:+3', undefined],
    ['42:', undefined],
    ['42', undefined],
    ['3', undefined],
    [' 42:3', undefined],
    ['42:3\n', undefined],
    ['42:9007199254740992', undefined],
  ])('the first closed descriptor bin/mountkit tells plan, %j for pid 42: %j', (value, expected) => {
    expect(closedByLauncher(value === undefined ? {} : { [CLOSED_FD_ENV]: value }, 42)).toBe(expected);
  });

  test.each(['+5', '010', '00', '-1', 'two', '', '9007199254740992'])('LISTEN_FDS %j with LISTEN_PID naming the process is refused, naming it', (text) => {
    const env = { LISTEN_PID: '42', LISTEN_FDS: text };
    expect(() => listenFdsOf(env, 42)).toThrow(ConfigError);
    expect(() => listenFdsOf(env, 42)).toThrow(`LISTEN_FDS ${JSON.stringify(text)}: must be a count as systemd writes it, 0 or decimal digits without a sign or leading zero (LISTEN_PID names this process)`);
  });

  test('the container gets LISTEN_FDS and LISTEN_PID=1 appended, after its own (which they win over), and no LISTEN_FDNAMES; nothing without listening descriptors', () => {
    expect(activationEnv(['PATH=/bin', 'LISTEN_FDS=9'], 2)).toEqual(['PATH=/bin', 'LISTEN_FDS=9', 'LISTEN_FDS=2', 'LISTEN_PID=1']);
    expect(activationEnv(['PATH=/bin'], 0)).toEqual(['PATH=/bin']);
    expect(activationEnv(['PATH=/bin'], undefined)).toEqual(['PATH=/bin']);
  });

  test('the listening ones come first, the preserved after them; each is named by what passes it', () => {
    const config = { listenFds: 2, preserveFds: 3 };
    expect(passedCount(config)).toBe(5);
    expect(passedCount({})).toBe(0);
    expect([3, 4, 5, 7].map((fd) => passedBy(config, fd))).toEqual(['LISTEN_FDS 2', 'LISTEN_FDS 2', '--preserve-fds 3', '--preserve-fds 3']);
  });
});

describe('checkPassedOpen', () => {
  test('fstat(2) of each passed descriptor, in order', () => {
    const sys = new FakeSyscalls().inheritFile(3).inheritFile(4).inheritFile(5);
    checkPassedOpen(sys, { listenFds: 1, preserveFds: 2 });
    expect(sys.calls).toEqual([
      { op: 'fstat', fd: 3 },
      { op: 'fstat', fd: 4 },
      { op: 'fstat', fd: 5 },
    ]);
  });

  test.each([
    [{ preserveFds: 2 }, '--preserve-fds 2: descriptor 4 is not open'],
    [{ listenFds: 2, preserveFds: 1 }, 'LISTEN_FDS 2: descriptor 4 is not open'],
    [{ listenFds: 1, preserveFds: 3 }, '--preserve-fds 3: descriptor 4 is not open'],
  ])('%j with descriptor 4 closed: a configuration error naming the option, its value and the descriptor', (config, message) => {
    const sys = new FakeSyscalls().inheritFile(3).inheritFile(5).inheritFile(6);
    const err = (() => {
      try {
        checkPassedOpen(sys, config);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as Error).message).toBe(message);
  });

  test('nothing passed, nothing checked', () => {
    const sys = new FakeSyscalls();
    checkPassedOpen(sys, {});
    expect(sys.calls).toEqual([]);
  });
});

describe('handOverPassed', () => {
  test('where they are already: close-on-exec cleared on each, in order; the channel stays', () => {
    const sys = new FakeSyscalls().inheritFile(3).inheritFile(4).inheritFile(5);
    expect(handOverPassed(sys, { listenFds: 1, preserveFds: 2 })).toBeUndefined();
    expect(sys.calls).toEqual([
      { op: 'clearCloexec', fd: 3 },
      { op: 'clearCloexec', fd: 4 },
      { op: 'clearCloexec', fd: 5 },
    ]);
  });

  test('in a relaunch: the runtime channel copied after them first, then each dup3(2)ed down without O_CLOEXEC, ascending', () => {
    const sys = new FakeSyscalls().inheritSocket(3).inheritFile(10).inheritFile(11);
    expect(handOverPassed(sys, { preserveFds: 2, passedFdsAt: 10, runtimeChannel: 3 })).toBe(relaunchChannelFd(10, 2));
    expect(sys.calls).toEqual([
      { op: 'dup3', oldfd: 3, newfd: 12, flags: O_CLOEXEC },
      { op: 'dup3', oldfd: 10, newfd: 3, flags: 0 },
      { op: 'dup3', oldfd: 11, newfd: 4, flags: 0 },
    ]);
  });

  test('more than the relaunch holds below them: a target past the first source is one already copied', () => {
    const sys = new FakeSyscalls().inheritSocket(3);
    for (let fd = 10; fd < 22; fd++) sys.inheritFile(fd);
    handOverPassed(sys, { preserveFds: 12, passedFdsAt: 10, runtimeChannel: 3 });
    const moves = sys.callsOf('dup3').slice(1);
    for (const [i, move] of moves.entries()) {
      expect(move).toEqual({ op: 'dup3', oldfd: 10 + i, newfd: 3 + i, flags: 0 });
      // No source is overwritten before it is copied.
      expect(moves.slice(0, i).some((m) => m.newfd === move.oldfd)).toBe(false);
    }
  });

  test('a refusal names the option and the descriptor', () => {
    const sys = new FakeSyscalls().inheritFile(3);
    sys.failOn('clearCloexec', 'EPERM');
    expect(() => handOverPassed(sys, { preserveFds: 1 })).toThrow('--preserve-fds 1, descriptor 3: fcntl');
  });

  test('nothing passed: no call', () => {
    const sys = new FakeSyscalls();
    expect(handOverPassed(sys, { runtimeChannel: 3 })).toBe(3);
    expect(sys.calls).toEqual([]);
  });
});

describe('execNotice and the numbers the passed descriptors take', () => {
  test.each([
    ['no notice', { preserveFds: 2 }, undefined],
    ['the notice on 3, nothing passed', { execNotice: 3 }, undefined],
    ['the notice on 3, one preserved', { execNotice: 3, preserveFds: 1 }, 'execNotice 3: is among the descriptors passed to the container (3 to 3)'],
    ['the notice on 5, one listening and two preserved', { execNotice: 5, listenFds: 1, preserveFds: 2 }, 'execNotice 5: is among the descriptors passed to the container (3 to 5)'],
    ['the notice on 6, after them', { execNotice: 6, listenFds: 1, preserveFds: 2 }, undefined],
    ['the notice on 2, below them', { execNotice: 2, preserveFds: 2 }, undefined],
  ])('%s', (_what, config, refused) => {
    const check = () => refuseNoticeAmongPassed(config);
    if (refused === undefined) expect(check).not.toThrow();
    else expect(check).toThrow(new ConfigError('execNotice', config.execNotice, refused.slice(refused.indexOf(': ') + 2)));
  });
});
