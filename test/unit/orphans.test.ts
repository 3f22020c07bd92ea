import { waitForOrphans, type ChildTable } from '../../src/cli/orphans';
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
