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
 *
 * While the run goes on, what the kernel gives this subreaper and has ended (a process a
 * hook put in the background, its parent ended before it) is reaped as it ends
 * (reapOrphans): at each SIGCHLD, which a child's end sends its parent, a reparented one's
 * too, every child of this process but those a wait of their own reaps (those Node's
 * child_process started, a poststart hook runCommandAsync waits for:
 * core/node-children.ts) is reaped if it has ended, without waiting, by its pid as above.
 */
import { readFileSync } from 'fs';
import { SyscallError } from '../core/errors';
import { awaitedElsewhere } from '../core/node-children';
import { becomeSubreaper, orWarn, stopSubreaping } from '../core/relaunch';
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

/** This process's children (/proc) and whether a wait of its own reaps each one (core/node-children.ts). */
export interface OwnChildren {
  children(): number[];
  awaitedElsewhere(pid: number): boolean;
}

const OWN_CHILDREN: OwnChildren = { children: () => childrenOf(process.pid), awaitedElsewhere };

/**
 * Reaps every child of this process that has ended, but those a wait of their own reaps
 * (libuv, runCommandAsync: core/node-children.ts), each by its pid without waiting
 * (Syscalls.reapIfEnded). Returns the pids reaped. A child gone meanwhile (ECHILD) is
 * passed over; any other failure is thrown.
 */
export function reapEnded(sys: Pick<Syscalls, 'reapIfEnded'>, own: OwnChildren = OWN_CHILDREN): number[] {
  const reaped: number[] = [];
  for (const pid of own.children()) {
    if (own.awaitedElsewhere(pid)) continue;
    try {
      if (sys.reapIfEnded(pid)) reaped.push(pid);
    } catch (err) {
      if (!(err instanceof SyscallError && err.code === 'ECHILD')) throw err;
    }
  }
  return reaped;
}

/** Where SIGCHLD comes (process). */
export interface ChildSignals {
  on(event: 'SIGCHLD', listener: () => void): unknown;
  off(event: 'SIGCHLD', listener: () => void): unknown;
}

/** The reaper reapOrphans starts. */
export interface OrphanReaper {
  /** Reaps what has ended by now (reapEnded). */
  sweep(): void;
  /** A last sweep, and SIGCHLD is listened to no more. */
  stop(): void;
}

/**
 * Reaps, at each SIGCHLD and at each sweep, what the kernel made this subreaper's child
 * and has ended (reapEnded): a process a hook put in the background, whose parent ended
 * before it (the prestart and createRuntime hooks this process runs, the createContainer
 * ones the relaunch runs), which would otherwise stay a zombie until mountkit ends, Node
 * reaping only the children it started. The first failure other than ECHILD is told to
 * `warn`, and reaping stops there. The listener does not keep Node running (Node unrefs
 * its signal handles); stop() removes it.
 */
export function reapOrphans(sys: Pick<Syscalls, 'reapIfEnded'>, warn: (message: string) => void, own: OwnChildren = OWN_CHILDREN, signals: ChildSignals = process): OrphanReaper {
  let listening = true;
  const stopListening = (): void => {
    listening = false;
    signals.off('SIGCHLD', sweep);
  };
  const sweep = (): void => {
    if (listening && !orWarn(warn, () => void reapEnded(sys, own), ' (WNOHANG): what this process is given as a subreaper stays a zombie until mountkit ends')) stopListening();
  };
  signals.on('SIGCHLD', sweep);
  return {
    sweep,
    stop: () => {
      sweep();
      stopListening();
    },
  };
}

/**
 * What the first process of a relaunch holds as a child subreaper (subreaper), from
 * before anything is started for the relaunch to the run's end.
 */
export interface Subreaper {
  /** Once the relaunch has started: what the kernel gives this process is reaped as it ends (reapOrphans), to stop(). */
  start(): void;
  /**
   * At the relaunch's exec event: this process is a subreaper no more (core/relaunch.ts
   * stopSubreaping), and what it was given and has ended is reaped (a sweep).
   */
  programStarted(): void;
  /** The relaunch `spawned`, killed before its program started: waitForOrphans of its session (its pid); a wait the kernel refuses is told, and the run goes on. */
  waitForOrphansOf(spawned: number): void;
  /** At the run's end: a last sweep, and SIGCHLD is listened to no more. */
  stop(): void;
}

/**
 * Makes the first process of a relaunch a child subreaper (core/relaunch.ts
 * becomeSubreaper) and returns what it does as one. Undefined when the kernel refuses it:
 * `warn` is told, and nothing is reaped or waited for.
 */
export function subreaper(
  sys: Pick<Syscalls, 'setChildSubreaper' | 'unsetChildSubreaper' | 'reapIfEnded' | 'reapChild'>,
  warn: (message: string) => void,
  own: OwnChildren = OWN_CHILDREN,
  table: ChildTable = PROC_CHILDREN,
  signals: ChildSignals = process,
): Subreaper | undefined {
  if (!becomeSubreaper(sys, warn)) return undefined;
  let reaping: OrphanReaper | undefined;
  return {
    start: () => {
      reaping = reapOrphans(sys, warn, own, signals);
    },
    programStarted: () => {
      stopSubreaping(sys, warn);
      reaping?.sweep();
    },
    waitForOrphansOf: (spawned) => void orWarn(warn, () => waitForOrphans(sys, spawned, spawned, table)),
    stop: () => reaping?.stop(),
  };
}
