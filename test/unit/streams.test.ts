import { posix } from 'path';
import { O_RDONLY } from '../../src/core/constants';
import { openStderrBeforeRelaunch } from '../../src/core/streams';
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
