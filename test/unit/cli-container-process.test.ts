import { ContainerProcess, type ProcessTable } from '../../src/cli/container-process';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

const SPAWNED = 500;
const SIGKILL = 9;

/** A process table where `children` lists the relaunch's children and `parents` each pid's parent; kills are logged among the port's calls. */
function setup({ direct = false, children = [42], parents = { 42: SPAWNED } as Record<number, number>, reaped = false } = {}) {
  const sys = new FakeSyscalls();
  const log: string[] = [];
  const proc: ProcessTable = {
    childrenOf: (pid) => (pid === SPAWNED ? children : []),
    parentOf: (pid) => parents[pid],
    kill: (pid) => log.push(`kill ${pid} after ${sys.calls.length} calls`),
  };
  const state = { reaped };
  const container = new ContainerProcess(sys, SPAWNED, direct, () => state.reaped, proc);
  return { sys, log, container, state };
}

describe('ContainerProcess: the container held by a pidfd', () => {
  test("unshare's child: its pidfd opened once and checked to be alive at each look; its pid", () => {
    const { sys, container } = setup();
    expect([container.pid(), container.pid()]).toEqual([42, 42]);
    const pidfd = sys.openFds()[0];
    expect(sys.calls).toEqual([
      { op: 'pidfdOpen', pid: 42 },
      { op: 'pidfdSendSignal', pidfd, signal: 0 },
      { op: 'pidfdSendSignal', pidfd, signal: 0 },
    ]);
    expect(container.pidfd()).toBe(pidfd);
  });

  test('the relaunch itself when direct: no children read', () => {
    const { sys, container } = setup({ direct: true, children: [] });
    expect(container.pid()).toBe(SPAWNED);
    expect(sys.callsOf('pidfdOpen')).toEqual([{ op: 'pidfdOpen', pid: SPAWNED }]);
  });

  test('before unshare has forked it: nothing, and nothing opened', () => {
    const { sys, container } = setup({ children: [] });
    expect([container.pid(), container.pidfd(), container.signal(SIGKILL)]).toEqual([undefined, undefined, false]);
    expect(sys.calls).toEqual([]);
  });

  test("a pid that is no longer unshare's child once its pidfd is open (reaped, taken by another process): that pidfd closed, nothing found", () => {
    const { sys, container } = setup({ parents: { 42: 1 } });
    expect(container.pid()).toBeUndefined();
    const pidfd = sys.callsOf('close')[0]?.fd;
    expect(sys.calls).toEqual([{ op: 'pidfdOpen', pid: 42 }, { op: 'close', fd: pidfd }]);
    expect(sys.openFds()).toEqual([]);
  });

  test('a pid gone before pidfd_open (ESRCH): nothing found', () => {
    const { sys, container } = setup();
    sys.failOn('pidfdOpen', 'ESRCH');
    expect(container.pid()).toBeUndefined();
    expect(sys.openFds()).toEqual([]);
  });

  test('a container that has ended and been reaped since its pidfd was opened: no pid, a signal not sent', () => {
    const { sys, container } = setup();
    expect(container.pid()).toBe(42);
    sys.failOn('pidfdSendSignal', 'ESRCH', { times: Infinity });
    expect([container.pid(), container.pidfd(), container.signal(SIGKILL)]).toEqual([undefined, undefined, false]);
    expect(sys.callsOf('pidfdOpen')).toHaveLength(1);
  });

  test('once Node has reaped the relaunch, nothing is looked at', () => {
    const { sys, container } = setup({ reaped: true });
    expect(container.pid()).toBeUndefined();
    container.stop();
    expect(sys.calls).toEqual([]);
  });

  test("stop with a pid namespace: the container's pidfd opened before unshare is killed (its children get another parent then), then SIGKILL through it", () => {
    const { sys, log, container } = setup();
    container.stop();
    const pidfd = sys.callsOf('pidfdSendSignal')[0]?.pidfd;
    expect(sys.calls).toEqual([
      { op: 'pidfdOpen', pid: 42 },
      { op: 'pidfdSendSignal', pidfd, signal: SIGKILL },
    ]);
    expect(log).toEqual([`kill ${SPAWNED} after 1 calls`]);
  });

  test('stop without one: the process group the container leads, then the container through its pidfd', () => {
    const { sys, log, container } = setup({ direct: true });
    container.stop();
    expect(log).toEqual([`kill ${-SPAWNED} after 0 calls`]);
    expect(sys.calls.map((c) => c.op)).toEqual(['pidfdOpen', 'pidfdSendSignal']);
    expect(sys.callsOf('pidfdSendSignal')[0].signal).toBe(SIGKILL);
  });

  test('stop before unshare has forked: unshare only', () => {
    const { sys, log, container } = setup({ children: [] });
    container.stop();
    expect([log, sys.calls]).toEqual([[`kill ${SPAWNED} after 0 calls`], []]);
  });

  test('close: the pidfd closed, nothing found or stopped after', () => {
    const { sys, log, container } = setup();
    expect(container.pid()).toBe(42);
    container.close();
    expect(sys.openFds()).toEqual([]);
    sys.clearCalls();
    container.stop();
    expect([container.pid(), sys.calls, log]).toEqual([undefined, [], []]);
  });

  test('a pidfd_open failure other than ESRCH is thrown, naming the process', () => {
    const { sys, container } = setup();
    sys.failOn('pidfdOpen', 'EMFILE');
    expect(() => container.pid()).toThrow('pidfd_open "/proc/42": EMFILE');
  });
});
