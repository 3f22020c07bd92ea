import { ContainerProcess, type ProcessTable } from '../../src/cli/container-process';
import { O_CLOEXEC, O_RDONLY } from '../../src/core/constants';
import { SyscallError, errnoNumber } from '../../src/core/errors';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

const SPAWNED = 500;
const SIGKILL = 9;
const SIGTERM = 15;

interface Setup {
  direct?: boolean;
  children?: number[];
  parents?: Record<number, number>;
  reaped?: boolean;
  /** Called on the fake before the ContainerProcess is made (failOn for pidfds refused). */
  before?: (sys: FakeSyscalls, state: { reaped: boolean; started: string | undefined }) => void;
}

/**
 * A ContainerProcess on the fake, with a process table where `children` lists the
 * relaunch's children, `parents` each pid's parent and `state.started` the relaunch's
 * start time; what it reads and kills by pid is logged with how many port calls came
 * before. `gone(fd)` makes the process a pidfd refers to reaped: pidfd_send_signal
 * answers ESRCH.
 */
function setup({ direct = false, children = [42], parents = { 42: SPAWNED }, reaped = false, before }: Setup = {}) {
  const sys = new FakeSyscalls().addFile('/proc/42/ns/mnt').addFile(`/proc/${SPAWNED}/ns/mnt`);
  const log: string[] = [];
  const state: { reaped: boolean; started: string | undefined } = { reaped, started: '7000' };
  const proc: ProcessTable = {
    childrenOf: (pid) => (log.push(`children ${pid}`), pid === SPAWNED ? children : []),
    parentOf: (pid) => (log.push(`parent ${pid}`), parents[pid]),
    startTimeOf: (pid) => (pid === SPAWNED ? state.started : undefined),
    kill: (pid, signal) => (log.push(`kill ${pid} ${signal} after ${sys.calls.length} calls`), true),
  };
  const opened = new Map<number, number>();
  const pidfdOpen = sys.pidfdOpen.bind(sys);
  sys.pidfdOpen = (pid) => {
    const fd = pidfdOpen(pid);
    opened.set(pid, fd);
    return fd;
  };
  const reapedFds = new Set<number>();
  const send = sys.pidfdSendSignal.bind(sys);
  sys.pidfdSendSignal = (pidfd, signal) => {
    send(pidfd, signal);
    if (reapedFds.has(pidfd)) throw new SyscallError('pidfd_send_signal', errnoNumber('ESRCH'), []);
  };
  before?.(sys, state);
  const container = new ContainerProcess(sys, SPAWNED, direct, () => state.reaped, proc);
  const pidfdOf = (pid: number): number | undefined => opened.get(pid);
  return { sys, log, container, state, pidfdOf, gone: (fd: number) => reapedFds.add(fd) };
}

describe('ContainerProcess with pidfds: the relaunch held from the start, the container from the first look', () => {
  test("made right after spawn(): the relaunch's pidfd opened and checked to take a signal", () => {
    const { sys, pidfdOf } = setup();
    const starter = pidfdOf(SPAWNED);
    expect(sys.calls).toEqual([
      { op: 'pidfdOpen', pid: SPAWNED },
      { op: 'pidfdSendSignal', pidfd: starter, signal: 0 },
    ]);
  });

  test("unshare's child: found while the relaunch is there, its pidfd opened, then checked to be unshare's child still; opened once; the relaunch and it checked alive at each look", () => {
    const { sys, log, container, pidfdOf } = setup();
    const starter = pidfdOf(SPAWNED);
    sys.clearCalls();
    expect([container.pid(), container.pid()]).toEqual([42, 42]);
    const fd = pidfdOf(42);
    expect(sys.calls).toEqual([
      { op: 'pidfdSendSignal', pidfd: starter, signal: 0 },
      { op: 'pidfdOpen', pid: 42 },
      { op: 'pidfdSendSignal', pidfd: fd, signal: 0 },
      { op: 'pidfdSendSignal', pidfd: starter, signal: 0 },
      { op: 'pidfdSendSignal', pidfd: fd, signal: 0 },
    ]);
    expect(log).toEqual([`children ${SPAWNED}`, 'parent 42']);
  });

  test('the relaunch itself when direct: its own pidfd, no children read', () => {
    const { sys, log, container } = setup({ direct: true, children: [] });
    expect(container.pid()).toBe(SPAWNED);
    expect(sys.callsOf('pidfdOpen')).toEqual([{ op: 'pidfdOpen', pid: SPAWNED }]);
    expect(log).toEqual([]);
  });

  test('before unshare has forked it: nothing found, nothing sent', () => {
    const { sys, container } = setup({ children: [] });
    expect([container.pid(), container.signal(SIGTERM), container.inNamespaceOf((fd) => fd)]).toEqual([undefined, false, undefined]);
    expect(sys.callsOf('pidfdOpen')).toHaveLength(1);
  });

  test("a pid that is no longer unshare's child once its pidfd is open (reaped, taken by another process): that pidfd closed, nothing found", () => {
    const { sys, container, pidfdOf } = setup({ parents: { 42: 1 } });
    expect(container.pid()).toBeUndefined();
    expect(sys.callsOf('close')).toEqual([{ op: 'close', fd: pidfdOf(42) }]);
    expect(sys.openFds()).toEqual([pidfdOf(SPAWNED)]);
  });

  test('a pid gone before pidfd_open (ESRCH): nothing found', () => {
    const { sys, container } = setup();
    sys.failOn('pidfdOpen', 'ESRCH');
    expect(container.pid()).toBeUndefined();
    expect(sys.openFds()).toHaveLength(1);
  });

  test("the container's pidfd not to be had (EMFILE): the container reached by pid, checked to be unshare's child at each use; stop kills unshare through its pidfd, then the container by pid", () => {
    const { sys, log, container, pidfdOf } = setup();
    sys.failOn('pidfdOpen', 'EMFILE');
    expect([container.pid(), container.signal(SIGTERM)]).toEqual([42, true]);
    expect(log).toEqual([`children ${SPAWNED}`, `children ${SPAWNED}`, 'parent 42', `children ${SPAWNED}`, 'parent 42', `kill 42 ${SIGTERM} after ${sys.calls.length} calls`]);
    log.length = 0;
    container.stop();
    expect(sys.calls.at(-1)).toEqual({ op: 'pidfdSendSignal', pidfd: pidfdOf(SPAWNED), signal: SIGKILL });
    expect(log).toEqual([`children ${SPAWNED}`, 'parent 42', `kill 42 ${SIGKILL} after ${sys.calls.length} calls`]);
  });

  test('a container reaped since its pidfd was opened: no pid, no signal sent, no namespace to join', () => {
    const { container, pidfdOf, gone } = setup();
    expect(container.pid()).toBe(42);
    gone(pidfdOf(42)!);
    expect([container.pid(), container.signal(SIGTERM), container.inNamespaceOf((fd) => fd)]).toEqual([undefined, false, undefined]);
  });

  test('signal and inNamespaceOf go through the pidfd', () => {
    const { sys, container, pidfdOf } = setup();
    expect(container.signal(SIGTERM)).toBe(true);
    expect(container.inNamespaceOf((fd) => fd)).toBe(pidfdOf(42));
    expect(sys.callsOf('pidfdSendSignal').filter((c) => c.pidfd === pidfdOf(42)).map((c) => c.signal)).toEqual([SIGTERM, 0]);
  });

  test('once this process has reaped the relaunch (its pidfd answers ESRCH, whatever Node has run): nothing is looked for or stopped', () => {
    const { sys, log, container, pidfdOf, gone } = setup();
    gone(pidfdOf(SPAWNED)!);
    sys.clearCalls();
    expect(container.pid()).toBeUndefined();
    container.stop();
    expect(sys.calls.map((c) => c.op)).toEqual(['pidfdSendSignal', 'pidfdSendSignal']);
    expect(log).toEqual([]);
  });

  test("stop with a pid namespace: the container's pidfd opened before unshare is killed (its children get another parent then), SIGKILL to unshare and the container through their pidfds", () => {
    const { sys, log, container, pidfdOf } = setup();
    const starter = pidfdOf(SPAWNED);
    sys.clearCalls();
    container.stop();
    const fd = pidfdOf(42);
    expect(sys.calls).toEqual([
      { op: 'pidfdSendSignal', pidfd: starter, signal: 0 },
      { op: 'pidfdSendSignal', pidfd: starter, signal: 0 },
      { op: 'pidfdOpen', pid: 42 },
      { op: 'pidfdSendSignal', pidfd: starter, signal: SIGKILL },
      { op: 'pidfdSendSignal', pidfd: fd, signal: SIGKILL },
    ]);
    expect(log).toEqual([`children ${SPAWNED}`, 'parent 42']);
  });

  test('stop without one: the process group the container leads, by its id while the relaunch is known not to be reaped, then the container through its pidfd', () => {
    const { sys, log, container } = setup({ direct: true });
    sys.clearCalls();
    container.stop();
    expect(log).toEqual([`kill ${-SPAWNED} ${SIGKILL} after 1 calls`]);
    expect(sys.calls.map((c) => [c.op, (c as { signal?: number }).signal])).toEqual([
      ['pidfdSendSignal', 0],
      ['pidfdSendSignal', 0],
      ['pidfdSendSignal', SIGKILL],
    ]);
  });

  test('stop before unshare has forked: unshare only', () => {
    const { sys, container, pidfdOf } = setup({ children: [] });
    container.stop();
    expect(sys.callsOf('pidfdSendSignal').filter((c) => c.signal === SIGKILL)).toEqual([{ op: 'pidfdSendSignal', pidfd: pidfdOf(SPAWNED), signal: SIGKILL }]);
  });

  test('close: both pidfds closed (one when direct), nothing found or stopped after', () => {
    for (const direct of [false, true]) {
      const { sys, log, container } = setup({ direct });
      expect(container.pid()).toBe(direct ? SPAWNED : 42);
      container.close();
      expect(sys.openFds()).toEqual([]);
      sys.clearCalls();
      log.length = 0;
      container.stop();
      expect([container.pid(), container.signal(SIGTERM), sys.calls, log]).toEqual([undefined, false, [], []]);
    }
  });
});

describe("ContainerProcess.foundPid: the container's pid as first found, kept once it has ended (the poststart hooks' state)", () => {
  test('direct: the relaunch spawned, with no call and nothing read, also once this process has reaped it, before any look where pidfds are refused', () => {
    const { sys, log, container, pidfdOf, gone } = setup({ direct: true, children: [] });
    gone(pidfdOf(SPAWNED)!);
    sys.clearCalls();
    expect(container.foundPid()).toBe(SPAWNED);
    expect([sys.calls, log]).toEqual([[], []]);
    expect(container.pid()).toBeUndefined();
    const byPid = setup({ direct: true, children: [], before: (fake) => fake.failOn('pidfdOpen', 'ENOSYS', { times: Infinity }) });
    byPid.state.reaped = true;
    byPid.sys.clearCalls();
    expect([byPid.container.foundPid(), byPid.container.pid(), byPid.sys.calls, byPid.log]).toEqual([SPAWNED, undefined, [], []]);
  });

  test("unshare's child: found at the first call as pid() finds it (its pidfd opened, then checked to be unshare's child), then kept with no call once it has been reaped", () => {
    const { sys, log, container, pidfdOf, gone } = setup();
    const starter = pidfdOf(SPAWNED);
    sys.clearCalls();
    expect(container.foundPid()).toBe(42);
    expect(sys.calls).toEqual([
      { op: 'pidfdSendSignal', pidfd: starter, signal: 0 },
      { op: 'pidfdOpen', pid: 42 },
    ]);
    expect(log).toEqual([`children ${SPAWNED}`, 'parent 42']);
    gone(pidfdOf(42)!);
    gone(starter!);
    sys.clearCalls();
    log.length = 0;
    expect(container.foundPid()).toBe(42);
    expect([sys.calls, log]).toEqual([[], []]);
    expect(container.pid()).toBeUndefined();
  });

  test('found by an earlier look (a signal passed on): that pid, with no call', () => {
    const { sys, container } = setup();
    expect(container.signal(SIGTERM)).toBe(true);
    sys.clearCalls();
    expect(container.foundPid()).toBe(42);
    expect(sys.calls).toEqual([]);
  });

  test('none found yet (not forked yet, gone before pidfd_open, no longer unshare\'s child, or the relaunch reaped): undefined, and looked for again at the next call', () => {
    const children: number[] = [];
    const early = setup({ children });
    expect(early.container.foundPid()).toBeUndefined();
    children.push(42);
    expect(early.container.foundPid()).toBe(42);
    const raced = setup();
    raced.sys.failOn('pidfdOpen', 'ESRCH');
    expect(raced.container.foundPid()).toBeUndefined();
    const moved = setup({ parents: { 42: 1 } });
    expect(moved.container.foundPid()).toBeUndefined();
    expect(moved.sys.openFds()).toEqual([moved.pidfdOf(SPAWNED)]);
    const reaped = setup();
    reaped.gone(reaped.pidfdOf(SPAWNED)!);
    expect(reaped.container.foundPid()).toBeUndefined();
    expect(reaped.log).toEqual([]);
  });

  test('where pidfds are refused: the child found by pid at the first look, kept once unshare has no child and Node has reaped unshare', () => {
    const children = [42];
    const { sys, log, container, state } = setup({ children, before: (fake) => fake.failOn('pidfdOpen', 'ENOSYS', { times: Infinity }) });
    expect(container.foundPid()).toBe(42);
    expect(log).toEqual([`children ${SPAWNED}`, 'parent 42']);
    children.length = 0;
    state.reaped = true;
    log.length = 0;
    sys.clearCalls();
    expect([container.foundPid(), container.pid(), sys.calls, log]).toEqual([42, undefined, [], []]);
  });

  test('where its own pidfd cannot be had (EMFILE): found by pid, and kept', () => {
    const children = [42];
    const { sys, container } = setup({ children });
    sys.failOn('pidfdOpen', 'EMFILE');
    expect(container.foundPid()).toBe(42);
    children.length = 0;
    expect([container.foundPid(), container.pid()]).toEqual([42, undefined]);
  });
});

describe('ContainerProcess where pidfds are refused: by pid, as read from /proc, checked before each use', () => {
  const refused = (op: 'pidfdOpen' | 'pidfdSendSignal', code: string) => (sys: FakeSyscalls) => sys.failOn(op, code, { times: Infinity });

  test.each([
    ['pidfd_open answering ENOSYS (before Linux 5.3)', refused('pidfdOpen', 'ENOSYS')],
    ['pidfd_open refused by a seccomp filter (EPERM)', refused('pidfdOpen', 'EPERM')],
    ['pidfd_send_signal refused by a seccomp filter (ENOSYS): the pidfd closed', refused('pidfdSendSignal', 'ENOSYS')],
  ])('%s: found as unshare\'s child at each look, signalled by pid', (_name, before) => {
    const { sys, log, container } = setup({ before });
    expect(sys.openFds()).toEqual([]);
    expect([container.pid(), container.signal(SIGTERM)]).toEqual([42, true]);
    expect(log).toEqual([`children ${SPAWNED}`, 'parent 42', `children ${SPAWNED}`, 'parent 42', `kill 42 ${SIGTERM} after ${sys.calls.length} calls`]);
  });

  test('a child that is not unshare\'s when its parent is read, or a relaunch Node has reaped: nothing', () => {
    const moved = setup({ before: refused('pidfdOpen', 'ENOSYS'), parents: { 42: 1 } });
    expect([moved.container.pid(), moved.container.signal(SIGTERM)]).toEqual([undefined, false]);
    const reaped = setup({ before: refused('pidfdOpen', 'ENOSYS') });
    reaped.state.reaped = true;
    expect([reaped.container.pid(), reaped.container.inNamespaceOf((fd) => fd)]).toEqual([undefined, undefined]);
    expect(reaped.log).toEqual([]);
  });

  test('a relaunch with another start time than when it was started (reaped, its pid taken again): nothing found, nothing stopped', () => {
    const { log, container, state } = setup({ before: refused('pidfdOpen', 'ENOSYS') });
    state.started = '7001';
    expect([container.pid(), container.signal(SIGTERM)]).toEqual([undefined, false]);
    container.stop();
    expect(log).toEqual([]);
  });

  test('a start time that could not be read when it was made: Node\'s word whether the relaunch is reaped', () => {
    const { container, state } = setup({
      before: (sys, before) => {
        refused('pidfdOpen', 'ENOSYS')(sys);
        before.started = undefined;
      },
    });
    expect(container.pid()).toBe(42);
    state.reaped = true;
    expect(container.pid()).toBeUndefined();
  });

  test('inNamespaceOf when direct: the relaunch\'s own namespace', () => {
    const { sys, container } = setup({ direct: true, before: refused('pidfdOpen', 'ENOSYS') });
    expect(container.inNamespaceOf((fd) => fd && sys.pathOf(fd))).toBe(`/proc/${SPAWNED}/ns/mnt`);
  });

  test('inNamespaceOf: a container that is no longer unshare\'s child once its namespace is open gives none, and it is closed', () => {
    const parents: Record<number, number> = { 42: SPAWNED };
    const { sys, container } = setup({ parents, before: refused('pidfdOpen', 'ENOSYS') });
    const open = sys.open.bind(sys);
    sys.open = (path, flags, mode) => {
      const fd = open(path, flags, mode);
      parents[42] = 1;
      return fd;
    };
    expect(container.inNamespaceOf((fd) => fd)).toBeUndefined();
    expect(sys.openFds()).toEqual([]);
  });

  test('inNamespaceOf: the container\'s /proc/PID/ns/mnt opened for the call, closed after', () => {
    const { sys, container } = setup({ before: refused('pidfdOpen', 'ENOSYS') });
    const seen = container.inNamespaceOf((fd) => fd && sys.pathOf(fd));
    expect(seen).toBe('/proc/42/ns/mnt');
    expect(sys.callsOf('open')).toEqual([{ op: 'open', path: '/proc/42/ns/mnt', flags: O_RDONLY | O_CLOEXEC, mode: 0 }]);
    expect(sys.openFds()).toEqual([]);
  });

  test('stop with a pid namespace: the container found before unshare is killed, then killed by pid', () => {
    const { log, container } = setup({ before: refused('pidfdOpen', 'ENOSYS') });
    container.stop();
    expect(log).toEqual([`children ${SPAWNED}`, 'parent 42', expect.stringMatching(`^kill ${SPAWNED} ${SIGKILL} `), expect.stringMatching(`^kill 42 ${SIGKILL} `)]);
  });

  test('stop without one: the process group, then the relaunch', () => {
    const { log, container } = setup({ direct: true, before: refused('pidfdOpen', 'ENOSYS') });
    container.stop();
    expect(log).toEqual([expect.stringMatching(`^kill ${-SPAWNED} ${SIGKILL} `), expect.stringMatching(`^kill ${SPAWNED} ${SIGKILL} `)]);
  });
});
