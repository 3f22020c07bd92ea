import { posix } from 'path';
import { O_CLOEXEC, O_NOCTTY, O_RDONLY, O_RDWR } from '../../src/core/constants';
import { StepError } from '../../src/core/errors';
import { keepStderr, openStderrBeforeRelaunch, pipeStreamOwners } from '../../src/core/streams';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

/** A fake whose stderr is a file on a filesystem of type `fstype` (none: the root's). */
function withStderr(fstype?: string): FakeSyscalls {
  const sys = new FakeSyscalls().addFile('/streams/err');
  if (fstype) sys.mount(fstype, posix.dirname('/streams/err'), fstype, 0n, null);
  sys.dup3(sys.open('/streams/err', O_RDONLY, 0), 2, 0);
  sys.clearCalls();
  return sys;
}

describe("run's first process and Node's process.stderr, before the relaunch", () => {
  test.each(['pipefs', 'sockfs'])('stderr on %s: made, then made blocking', (fstype) => {
    const sys = withStderr(fstype);
    const opened: string[] = [];
    openStderrBeforeRelaunch(sys, () => opened.push(`made after ${sys.calls.length} calls`));
    expect(opened).toEqual(['made after 1 calls']);
    expect(sys.calls).toEqual([
      { op: 'fstatfs', fd: 2 },
      { op: 'setBlocking', fd: 2 },
    ]);
  });

  test.each([
    ['a terminal', 'devpts'],
    ['a file', undefined],
  ])('stderr %s: left to Node', (_what, fstype) => {
    const sys = withStderr(fstype);
    const open = jest.fn();
    openStderrBeforeRelaunch(sys, open);
    expect(open).not.toHaveBeenCalled();
    expect(sys.calls).toEqual([{ op: 'fstatfs', fd: 2 }]);
  });

  test('a closed stderr stays closed; another failure of fstatfs is thrown', () => {
    const sys = new FakeSyscalls();
    sys.close(2);
    sys.clearCalls();
    const open = jest.fn();
    openStderrBeforeRelaunch(sys, open);
    expect(open).not.toHaveBeenCalled();
    expect(sys.calls).toEqual([{ op: 'fstatfs', fd: 2 }]);
    const failing = withStderr('pipefs').failOn('fstatfs', 'EIO');
    expect(() => openStderrBeforeRelaunch(failing, open)).toThrow('fstatfs');
    expect(open).not.toHaveBeenCalled();
  });
});

describe("mountkit's copy of stderr (keepStderr)", () => {
  test('one fcntl(2) F_DUPFD_CLOEXEC of descriptor 2: a copy of the file stderr is, which the console\'s dup3 onto 0, 1 and 2 leaves as it was', () => {
    const sys = new FakeSyscalls().addFile('/streams/err').addDevpts('/dev/pts');
    const err = sys.open('/streams/err', O_RDONLY, 0);
    sys.dup3(err, 2, 0);
    sys.close(err);
    sys.clearCalls();
    const copy = keepStderr(sys, 3);
    expect(sys.calls).toEqual([{ op: 'dupCloexec', fd: 2, lowest: 3 }]);
    // The fake's first descriptor: below it the model does not know what the process holds.
    expect(copy).toBe(100);
    // As the console step puts the container's terminal on the standard streams (plugins/exec/console.ts).
    const peer = sys.open('/dev/pts/ptmx', O_RDWR | O_NOCTTY | O_CLOEXEC, 0);
    for (const fd of [0, 1, 2]) sys.dup3(peer, fd, 0);
    sys.close(peer);
    expect([sys.pathOf(2), sys.pathOf(copy)]).toEqual(['/dev/pts/ptmx', '/streams/err']);
    expect(sys.openFds()).toEqual([0, 1, 2, copy]);
  });

  test('the copy takes the first free number at or above `lowest`', () => {
    const sys = withStderr().inheritFile(150).inheritFile(151);
    expect(keepStderr(sys, 150)).toBe(152);
    expect(keepStderr(sys, 150)).toBe(153);
  });

  test('a failure is a StepError naming the copy, the call and the errno: EMFILE (no free descriptor), EBADF (stderr closed)', () => {
    const full = withStderr().failOn('dupCloexec', 'EMFILE', { times: 2 });
    expect(() => keepStderr(full, 3)).toThrow(StepError);
    expect(() => keepStderr(full, 3)).toThrow('a copy of stderr for mountkit\'s messages: fcntl "F_DUPFD_CLOEXEC": EMFILE');
    const closed = new FakeSyscalls();
    closed.close(2);
    expect(() => keepStderr(closed, 3)).toThrow('a copy of stderr for mountkit\'s messages: fcntl "F_DUPFD_CLOEXEC": EBADF');
    expect(closed.openFds()).toEqual([]);
  });
});

describe('the owners of the standard streams that are pipes (pipeStreamOwners), which a relaunch would give to the container user', () => {
  /** stdin a pipe of uid 0, stdout a pipe of uid 1000, stderr a file of uid 7 (or closed). */
  function streams(stderr: boolean): FakeSyscalls {
    const sys = new FakeSyscalls().addFile('/pipes/in').addFile('/pipes/out').addFile('/files/err');
    sys.mount('pipefs', '/pipes', 'pipefs', 0n, null);
    sys.chown('/pipes/out', 1000, 1000);
    sys.chown('/files/err', 7, 7);
    ['/pipes/in', '/pipes/out', '/files/err'].forEach((file, fd) => sys.dup3(sys.open(file, O_RDONLY, 0), fd, 0));
    if (!stderr) sys.close(2);
    sys.clearCalls();
    return sys;
  }

  /** fstat(2) of each of 0, 1 and 2, and fstatfs(2) of each open one. */
  const looks = (open: number[]) => [0, 1, 2].flatMap((fd) => [{ op: 'fstat', fd }, ...(open.includes(fd) ? [{ op: 'fstatfs', fd }] : [])]);

  test.each([
    ['each stream: fstat(2) for its owner, then fstatfs(2) for a pipe (pipefs); a file is left out', true, looks([0, 1, 2])],
    ['a closed stream (EBADF) is left out', false, looks([0, 1])],
  ])('%s', (_name, stderr, calls) => {
    const sys = streams(stderr);
    expect(pipeStreamOwners(sys)).toEqual([0, 1000]);
    expect(sys.calls).toEqual(calls);
  });

  test('a failure other than EBADF is thrown', () => {
    expect(() => pipeStreamOwners(streams(true).failOn('fstatfs', 'EIO'))).toThrow('fstatfs');
  });
});
