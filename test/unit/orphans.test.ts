import { EventEmitter } from 'events';
import { reapEnded, reapOrphans, subreaper, waitForOrphans, type ChildTable, type OwnChildren } from '../../src/cli/orphans';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

/**
 * A process table: each child of this process with its session; reaping one (the fake
 * port's reapChild) takes it away and makes its own children (`leaves`) this process's,
 * as the kernel gives a subreaper the children of a process that ends.
 */
function table(children: Record<number, { session: number; leaves?: Record<number, number> }>): ChildTable & { reap(pid: number): void } {
  const kids = new Map(Object.entries(children).map(([pid, c]) => [Number(pid), c]));
  return {
    children: () => [...kids.keys()],
    sessionOf: (pid) => kids.get(pid)?.session,
    reap(pid) {
      const gone = kids.get(pid);
      kids.delete(pid);
      for (const [kid, session] of Object.entries(gone?.leaves ?? {})) kids.set(Number(kid), { session });
    },
  };
}

/** A fake port whose reapChild reaps in `t` (after recording the call, and only when it does not fail). */
function portFor(t: ReturnType<typeof table>): FakeSyscalls {
  const sys = new FakeSyscalls();
  const reapChild = sys.reapChild.bind(sys);
  sys.reapChild = (pid: number) => {
    reapChild(pid);
    t.reap(pid);
  };
  return sys;
}

describe("waitForOrphans: what the relaunch left, this subreaper's children in its session", () => {
  test("each child in the relaunch's session is reaped by its pid, one at a time, and what it leaves after it; the relaunch itself and other sessions' children are left to Node", () => {
    // 500 the relaunch (session 500, reaped by Node), 501 a createContainer hook it left, whose sleep (502) comes to this process when it ends;
    // 600 the starter's watch (its own session), 700 a poststart hook in this process's session (100).
    const t = table({ 500: { session: 500 }, 600: { session: 600 }, 501: { session: 500, leaves: { 502: 500 } }, 700: { session: 100 } });
    const sys = portFor(t);
    expect(waitForOrphans(sys, 500, 500, t)).toEqual([501, 502]);
    expect(sys.calls).toEqual([
      { op: 'reapChild', pid: 501 },
      { op: 'reapChild', pid: 502 },
    ]);
    expect(t.children()).toEqual([500, 600, 700]);
  });

  test('none left: no call', () => {
    const t = table({ 600: { session: 600 } });
    const sys = portFor(t);
    expect(waitForOrphans(sys, 500, 500, t)).toEqual([]);
    expect(sys.calls).toEqual([]);
  });

  test('a child waitid(2) finds no child of this process (ECHILD) is passed over, once; any other failure is thrown, naming waitid and the process', () => {
    const t = table({ 501: { session: 500 }, 503: { session: 500 } });
    const sys = portFor(t);
    sys.failOn('reapChild', 'ECHILD', { path: '/proc/501' });
    expect(waitForOrphans(sys, 500, 500, t)).toEqual([503]);
    expect(sys.calls).toEqual([
      { op: 'reapChild', pid: 501 },
      { op: 'reapChild', pid: 503 },
    ]);
    const other = table({ 501: { session: 500 } });
    const failing = portFor(other);
    failing.failOn('reapChild', 'EINVAL');
    expect(() => waitForOrphans(failing, 500, 500, other)).toThrow('waitid "/proc/501": EINVAL');
  });
});

describe("reapEnded: this subreaper's ended children, but Node's own, without waiting", () => {
  /** Children 501 (ended), 502 (running), 600 (Node's, ended: libuv's to reap), 503 (ended). */
  const own = (spawned: number[] = [600]): OwnChildren => ({ children: () => [501, 600, 502, 503], awaitedElsewhere: (pid) => spawned.includes(pid) });

  test.each<[string, number[], number[], number[]]>([
    ["those ended are reaped, one waitid(2) WNOHANG each; Node's own is never waited for", [501, 503, 600], [600], [501, 503]],
    ['none ended: each is looked at, none reaped', [], [600], []],
    ['nothing of Node: every child is looked at', [600], [], [600]],
  ])('%s', (_, ended, spawned, reaped) => {
    const sys = new FakeSyscalls();
    for (const pid of ended) sys.endedChildren.add(pid);
    expect(reapEnded(sys, own(spawned))).toEqual(reaped);
    expect(sys.calls).toEqual([501, 600, 502, 503].filter((pid) => !spawned.includes(pid)).map((pid) => ({ op: 'reapIfEnded', pid })));
  });

  test('a child gone meanwhile (ECHILD) is passed over; any other failure is thrown, naming waitid and the process', () => {
    const sys = new FakeSyscalls().failOn('reapIfEnded', 'ECHILD', { path: '/proc/501' });
    sys.endedChildren.add(503);
    expect(reapEnded(sys, own())).toEqual([503]);
    expect(sys.calls).toEqual([
      { op: 'reapIfEnded', pid: 501 },
      { op: 'reapIfEnded', pid: 502 },
      { op: 'reapIfEnded', pid: 503 },
    ]);
    const failing = new FakeSyscalls().failOn('reapIfEnded', 'EPERM', { path: '/proc/502' });
    expect(() => reapEnded(failing, own())).toThrow('waitid "/proc/502": EPERM');
  });
});

describe('reapOrphans: at each SIGCHLD, at each sweep, and once at the stop', () => {
  /** A port whose children end as `ends` says, and the children reaped go away. */
  function setup(ends: number[][]) {
    const sys = new FakeSyscalls();
    const kids = new Set([501, 600, 502]);
    const reapIfEnded = sys.reapIfEnded.bind(sys);
    sys.reapIfEnded = (pid: number) => {
      const reaped = reapIfEnded(pid);
      if (reaped) kids.delete(pid);
      return reaped;
    };
    const end = (): void => {
      for (const pid of ends.shift() ?? []) sys.endedChildren.add(pid);
    };
    const signals = new EventEmitter();
    const warned: string[] = [];
    const reaper = reapOrphans(sys, (m) => warned.push(m), { children: () => [...kids], awaitedElsewhere: (pid) => pid === 600 }, signals);
    return { sys, signals, warned, reaper, end };
  }

  test("a SIGCHLD reaps what has ended; the sweep at the exec event and the stop look again; the stop leaves no listener", () => {
    const { sys, signals, warned, reaper, end } = setup([[501], [502]]);
    expect(signals.listenerCount('SIGCHLD')).toBe(1);
    expect(sys.calls).toEqual([]);
    end();
    signals.emit('SIGCHLD');
    expect(sys.calls).toEqual([
      { op: 'reapIfEnded', pid: 501 },
      { op: 'reapIfEnded', pid: 502 },
    ]);
    reaper.sweep();
    end();
    reaper.stop();
    expect(sys.calls.slice(2)).toEqual([
      { op: 'reapIfEnded', pid: 502 },
      { op: 'reapIfEnded', pid: 502 },
    ]);
    expect(signals.listenerCount('SIGCHLD')).toBe(0);
    signals.emit('SIGCHLD');
    reaper.sweep();
    expect(sys.calls).toHaveLength(4);
    expect(warned).toEqual([]);
  });

  test('a failure other than ECHILD is one warning, and reaping stops there: no listener, no later call', () => {
    const { sys, signals, warned, reaper } = setup([]);
    sys.failOn('reapIfEnded', 'EPERM');
    signals.emit('SIGCHLD');
    expect(sys.calls).toEqual([{ op: 'reapIfEnded', pid: 501 }]);
    expect(warned).toEqual(['waitid "/proc/501": EPERM (WNOHANG): what this process is given as a subreaper stays a zombie until mountkit ends']);
    expect(signals.listenerCount('SIGCHLD')).toBe(0);
    reaper.sweep();
    reaper.stop();
    expect(sys.calls).toHaveLength(1);
  });
});

describe("subreaper: the first process of a relaunch, from before it starts to the run's end", () => {
  /**
   * A port over `t` whose children end as `end()` says: reapIfEnded reaps one that has
   * ended, reapChild any; the one reaped goes away. 600 is the relaunch, which Node started.
   */
  function setup(t: ReturnType<typeof table>, fail?: 'setChildSubreaper') {
    const sys = portFor(t);
    if (fail) sys.failOn(fail, 'EINVAL');
    const reapIfEnded = sys.reapIfEnded.bind(sys);
    sys.reapIfEnded = (pid: number) => {
      const reaped = reapIfEnded(pid);
      if (reaped) t.reap(pid);
      return reaped;
    };
    const signals = new EventEmitter();
    const warned: string[] = [];
    const reaper = subreaper(sys, (m) => warned.push(m), { children: t.children, awaitedElsewhere: (pid) => pid === 600 }, t, signals);
    return { sys, signals, warned, reaper };
  }

  test('a subreaper first; reaping from the start; at the exec event a subreaper no more, then a sweep; a last sweep at the end', () => {
    const t = table({ 600: { session: 600 }, 501: { session: 600 }, 502: { session: 1 }, 503: { session: 1 } });
    const { sys, signals, warned, reaper } = setup(t);
    expect(sys.calls).toEqual([{ op: 'setChildSubreaper' }]);
    expect(signals.listenerCount('SIGCHLD')).toBe(0);
    reaper!.start();
    expect(signals.listenerCount('SIGCHLD')).toBe(1);
    sys.endedChildren.add(501);
    signals.emit('SIGCHLD');
    sys.endedChildren.add(502);
    reaper!.programStarted();
    sys.endedChildren.add(503);
    reaper!.stop();
    expect(sys.calls).toEqual([
      { op: 'setChildSubreaper' },
      // A SIGCHLD: each child but the relaunch (Node's), 501 reaped.
      { op: 'reapIfEnded', pid: 501 },
      { op: 'reapIfEnded', pid: 502 },
      { op: 'reapIfEnded', pid: 503 },
      // The exec event: a subreaper no more, then the sweep (502).
      { op: 'unsetChildSubreaper' },
      { op: 'reapIfEnded', pid: 502 },
      { op: 'reapIfEnded', pid: 503 },
      // The run's end: the last sweep (503).
      { op: 'reapIfEnded', pid: 503 },
    ]);
    expect(signals.listenerCount('SIGCHLD')).toBe(0);
    expect(warned).toEqual([]);
  });

  test('killed before its program started: what the relaunch left in its session is waited for, then the last sweep; it stays a subreaper', () => {
    const t = table({ 600: { session: 600 }, 501: { session: 600 }, 502: { session: 1 } });
    const { sys, warned, reaper } = setup(t);
    reaper!.start();
    reaper!.waitForOrphansOf(600);
    reaper!.stop();
    expect(sys.calls).toEqual([{ op: 'setChildSubreaper' }, { op: 'reapChild', pid: 501 }, { op: 'reapIfEnded', pid: 502 }]);
    expect(warned).toEqual([]);
  });

  test('a wait the kernel refuses is one warning, and the run goes on', () => {
    const t = table({ 600: { session: 600 }, 501: { session: 600 } });
    const { sys, warned, reaper } = setup(t);
    sys.failOn('reapChild', 'EPERM');
    reaper!.waitForOrphansOf(600);
    expect(sys.calls).toEqual([{ op: 'setChildSubreaper' }, { op: 'reapChild', pid: 501 }]);
    expect(warned).toEqual(['waitid "/proc/501": EPERM']);
  });

  test('refused (a kernel before 3.4, a seccomp filter): one warning, no reaper, and nothing is reaped or waited for', () => {
    const t = table({ 600: { session: 600 }, 501: { session: 600 } });
    const { sys, signals, warned, reaper } = setup(t, 'setChildSubreaper');
    expect(reaper).toBeUndefined();
    expect(sys.calls).toEqual([{ op: 'setChildSubreaper' }]);
    expect(signals.listenerCount('SIGCHLD')).toBe(0);
    expect(warned).toEqual(['prctl: EINVAL (PR_SET_CHILD_SUBREAPER): what the process preparing the rootfs leaves running if it is killed is not waited for']);
  });
});
