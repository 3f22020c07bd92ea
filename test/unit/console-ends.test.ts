import { closeConsole, copyWindowSize, releaseConsole, takeConsole } from '../../src/core/console-ends';
import { O_CLOEXEC, O_NOCTTY, O_RDWR } from '../../src/core/constants';
import { DEFAULT_TERMIOS, FakeSyscalls } from '../../src/core/syscalls/fake';
import { rawMode, withoutOnlcr } from '../../src/core/termios';

/**
 * The first process of `mountkit run` with a foreground console, on the fake: its end of
 * the socketpair (100), on whose other end (101) the relaunch sent the master (at 103).
 * `terminal`: the standard streams that are the host's terminal (a devpts peer), and its size.
 */
function firstProcess(terminal: number[] = [], size = { rows: 50, cols: 160 }) {
  const sys = new FakeSyscalls().addDevpts('/dev/pts').addFile('/dev/pts/7');
  const [here, there] = sys.socketPair();
  const host = sys.open('/dev/pts/7', O_RDWR, 0);
  for (const fd of terminal) {
    sys.dup3(host, fd, 0);
    sys.setWindowSize(fd, size.rows, size.cols);
  }
  const master = sys.open('/dev/pts/ptmx', O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
  sys.sendFdMessage(there, master, '/dev/ptmx');
  return { sys: sys.clearCalls(), socket: here };
}

describe('takeConsole: the foreground console, taken by the first process', () => {
  test('under a terminal: the master received and the socket closed; ONLCR off; the first standard stream that is a terminal (stderr first) sized onto it and set raw; the master non-blocking', () => {
    const { sys, socket } = firstProcess([2, 1, 0]);
    const ends = takeConsole(sys, socket);
    const master = 104;
    expect(ends).toEqual({ master, host: { fd: 2, saved: DEFAULT_TERMIOS, opened: false } });
    expect(sys.calls).toEqual([
      { op: 'recvFdMessage', socket },
      { op: 'close', fd: socket },
      { op: 'getTermios', fd: master },
      { op: 'setTermios', fd: master, termios: withoutOnlcr(DEFAULT_TERMIOS) },
      { op: 'getTermios', fd: 2 },
      // In its foreground: its modes can be changed without SIGTTOU.
      { op: 'getForegroundGroup', fd: 2 },
      { op: 'getpgrp' },
      { op: 'getWindowSize', fd: 2 },
      { op: 'setWindowSize', fd: master, rows: 50, cols: 160 },
      { op: 'setTermios', fd: 2, termios: rawMode(DEFAULT_TERMIOS) },
      { op: 'setNonBlocking', fd: master },
    ]);
    sys.clearCalls();
    releaseConsole(sys, ends);
    expect(sys.calls).toEqual([{ op: 'setTermios', fd: 2, termios: DEFAULT_TERMIOS }]);
    // Once only.
    releaseConsole(sys, ends);
    expect(sys.calls).toHaveLength(1);
  });

  test('stdin only a terminal: stderr and stdout are looked at first; a size of 0x0 (script(1) without one) leaves the console its own', () => {
    const { sys, socket } = firstProcess([0], { rows: 0, cols: 0 });
    const ends = takeConsole(sys, socket);
    expect(ends.host?.fd).toBe(0);
    expect(sys.calls.filter((c) => c.op === 'getTermios' || c.op.endsWith('WindowSize')).map((c) => [c.op, 'fd' in c ? c.fd : undefined])).toEqual([
      ['getTermios', 104],
      ['getTermios', 2],
      ['getTermios', 1],
      ['getTermios', 0],
      ['getWindowSize', 0],
    ]);
  });

  test('no standard stream a terminal: the controlling terminal (/dev/tty) is opened, and closed when released; without one (ENOENT here, ENXIO on Linux), or in its background, there is no host terminal, and the console is copied all the same', () => {
    const withTty = firstProcess();
    withTty.sys.addFile('/dev/tty');
    const tty = takeConsole(withTty.sys, withTty.socket);
    expect(tty.host).toEqual({ fd: 105, saved: DEFAULT_TERMIOS, opened: true });
    expect(withTty.sys.calls.filter((c) => c.op === 'open')).toEqual([{ op: 'open', path: '/dev/tty', flags: O_RDWR | O_NOCTTY | O_CLOEXEC, mode: 0 }]);
    withTty.sys.clearCalls();
    releaseConsole(withTty.sys, tty);
    expect(withTty.sys.calls).toEqual([{ op: 'setTermios', fd: 105, termios: DEFAULT_TERMIOS }, { op: 'close', fd: 105 }]);
    const without = firstProcess();
    const ends = takeConsole(without.sys, without.socket);
    expect(ends).toEqual({ master: 104 });
    expect(without.sys.calls.map((c) => c.op)).toEqual(['recvFdMessage', 'close', 'getTermios', 'setTermios', 'getTermios', 'getTermios', 'getTermios', 'open', 'setNonBlocking']);
    // In the background of that terminal (a job of a shell): none, and /dev/tty is closed again.
    const background = firstProcess([0]);
    background.sys.foregroundGroup = 77;
    expect(takeConsole(background.sys, background.socket).host).toBeUndefined();
    expect(background.sys.callsOf('setTermios').map((c) => c.fd)).toEqual([104]);
    const backgroundTty = firstProcess();
    backgroundTty.sys.addFile('/dev/tty');
    backgroundTty.sys.foregroundGroup = 77;
    expect(takeConsole(backgroundTty.sys, backgroundTty.socket).host).toBeUndefined();
    expect(backgroundTty.sys.calls.filter((c) => c.op === 'open' || c.op === 'close').map((c) => c.op)).toEqual(['close', 'open', 'close']);
    copyWindowSize(without.sys, ends);
    releaseConsole(without.sys, ends);
    expect(without.sys.calls.slice(9)).toEqual([]);
  });

  test('closeConsole: the master is closed even when the terminal cannot be put back', () => {
    const { sys, socket } = firstProcess([2]);
    const ends = takeConsole(sys, socket);
    sys.clearCalls().failOn('setTermios', 'EIO');
    expect(() => closeConsole(sys, ends)).toThrow('ioctl "/dev/pts/7": EIO');
    expect(sys.calls).toEqual([
      { op: 'setTermios', fd: 2, termios: DEFAULT_TERMIOS },
      { op: 'close', fd: 104 },
    ]);
  });

  test('failures: nothing sent (EAGAIN) still closes the socket; a message without a descriptor is named; a failure after the raw mode puts the terminal back and closes the master', () => {
    const sys = new FakeSyscalls();
    const [here] = sys.socketPair();
    sys.clearCalls();
    expect(() => takeConsole(sys, here)).toThrow(/^recvmsg "socket:\[pair 0 end 0\]": EAGAIN$/);
    expect(sys.calls).toEqual([{ op: 'recvFdMessage', socket: here }, { op: 'close', fd: here }]);
    const { sys: failing, socket } = firstProcess([2]);
    failing.failOn('setNonBlocking', 'EBADF');
    expect(() => takeConsole(failing, socket)).toThrow('fcntl "/dev/pts/ptmx": EBADF');
    expect(failing.calls.slice(-3)).toEqual([
      { op: 'setNonBlocking', fd: 104 },
      { op: 'setTermios', fd: 2, termios: DEFAULT_TERMIOS },
      { op: 'close', fd: 104 },
    ]);
  });
});
