/**
 * What the process `mountkit run` relaunched leaves running when it is killed before the
 * container's program starts (a createContainer hook it runs, and whatever that started):
 * without a pid namespace, whose end ends them all, they go on in the container's mount
 * namespace and keep it. The first process is a child subreaper (prctl(2)
 * PR_SET_CHILD_SUBREAPER, core/relaunch.ts becomeSubreaper), so the kernel makes them its
 * children when their parent ends, and it waits for them before the poststop hooks and
 * its exit, as runc 1.1.5 waits until they close the descriptors of its init they hold.
 *
 * They are told from this process's other children by their session: the relaunch leads
 * one of its own from its start (setsid(2) before its execve, cli/run.ts relaunch), whose
 * id is its pid, which every process it starts keeps unless it calls setsid(2) itself;
 * the children Node started here lead their own sessions (the watch) or are in this
 * process's. Each is reaped by its pid (waitid(2) P_PID): a child is reaped only by its
 * parent, so none of them is reaped by libuv, which waits for the pids it started, one
 * by one (a waitpid(2) of -1, or waitid(2) P_ALL, would take the status of one of those
 * too). Its pid stays its own until this process reaps it, found in /proc. A process
 * made this one's child while it waits is found at the next look.
 */
import { readFileSync } from 'fs';
import { SyscallError } from '../core/errors';
import type { Syscalls } from '../core/syscalls/types';
import { childrenOf, sessionInStat } from './forward';

/** Where this process's children and their sessions are read (/proc). */
export interface ChildTable {
  /** This process's children (pids), as /proc shows them now. */
  children(): number[];
  /** The session id a child is in (/proc/PID/stat field 6), undefined once it is gone. */
  sessionOf(pid: number): number | undefined;
}

function statText(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
}

const PROC_CHILDREN: ChildTable = {
  children: () => childrenOf(process.pid),
  sessionOf: (pid) => {
    const stat = statText(pid);
    return stat === undefined ? undefined : sessionInStat(stat);
  },
};

/**
 * Waits for every child of this process in the session `session` (the relaunch's: its
 * pid) but `spawned` (the relaunch itself, which Node reaps) and reaps it, looking again
 * after each, until none is left. Returns the pids reaped. A child gone meanwhile (ECHILD:
 * reaped already, which only this process may do) is passed over; any other failure is
 * thrown.
 */
export function waitForOrphans(sys: Pick<Syscalls, 'reapChild'>, session: number, spawned: number, table: ChildTable = PROC_CHILDREN): number[] {
  const reaped: number[] = [];
  // Those waitid(2) found no child of this process: /proc listed them as it was a moment before.
  const gone = new Set<number>();
  for (;;) {
    const orphan = table.children().find((pid) => pid !== spawned && !gone.has(pid) && table.sessionOf(pid) === session);
    if (orphan === undefined) return reaped;
    try {
      sys.reapChild(orphan);
      reaped.push(orphan);
    } catch (err) {
      if (!(err instanceof SyscallError && err.code === 'ECHILD')) throw err;
      gone.add(orphan);
    }
  }
}
