/**
 * Passing signals on from the Node entry to the container it started again under
 * unshare(1) for a pid namespace, as bin/mountkit does from the shell and runc run does:
 * every signal a process can catch but those runc keeps too (CHLD, WINCH, URG), the
 * faults Node cannot take in JavaScript (ILL, ABRT, BUS, FPE, SEGV) and PROF, which V8's
 * CPU profiler samples with (a listener would take it from the profiler: --cpu-prof, the
 * inspector); the real-time ones are beyond Node's process.on, and bin/mountkit passes
 * them on. The container is the child of the process spawned (which forks it as PID 1
 * of a new pid namespace, core/namespaces.ts PID_NAMESPACE_PARENT), or that process
 * itself (in a pid namespace joined before). Until its program starts it
 * is mountkit preparing the rootfs, holding the descriptor 3 it was started with, which
 * mountkit marks close-on-exec: a signal waits until that is gone (runc also holds
 * signals until its process has started), and then for up to half a second until the
 * program catches or ignores it, since PID 1 drops a signal it has no handler for. In
 * the order they came.
 */
import { closeSync, openSync, readFileSync, readdirSync, readlinkSync } from 'fs';
import { constants } from 'os';
import { RELAUNCH_STARTER_FD } from '../core/relaunch';
import type { ContainerProcess } from './container-process';

export const PASSED_SIGNALS: readonly NodeJS.Signals[] = [
  'SIGHUP',
  'SIGINT',
  'SIGQUIT',
  'SIGTERM',
  'SIGUSR1',
  'SIGUSR2',
  'SIGALRM',
  'SIGTRAP',
  'SIGPIPE',
  'SIGCONT',
  'SIGTSTP',
  'SIGTTIN',
  'SIGTTOU',
  'SIGSTKFLT',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGVTALRM',
  'SIGIO',
  'SIGPWR',
  'SIGSYS',
];

/** Whether a signal mask as /proc/PID/status shows one (SigIgn, SigCgt: hex, bit N-1 for signal N) has signal `signum`. */
export function maskHas(mask: string, signum: number): boolean {
  return ((BigInt(`0x${mask}`) >> BigInt(signum - 1)) & 1n) === 1n;
}

/** Whether a /proc/PID/status text shows the signal caught or ignored (SigCgt, SigIgn: bit N-1 for signal N). */
export function handlesSignal(status: string, signum: number): boolean {
  for (const m of status.matchAll(/^Sig(?:Cgt|Ign):\s*([0-9a-f]{1,16})$/gm)) {
    if (maskHas(m[1], signum)) return true;
  }
  return false;
}

/**
 * The parent pid a /proc/PID/stat text gives: field 4, the second after the command name
 * in parentheses (which may hold spaces and parentheses itself).
 */
export function parentInStat(stat: string): number | undefined {
  const ppid = Number(statFields(stat)[1]);
  return Number.isInteger(ppid) ? ppid : undefined;
}

/** The session id a /proc/PID/stat text gives: field 6, the fourth after the command name. */
export function sessionInStat(stat: string): number | undefined {
  const sid = Number(statFields(stat)[3]);
  return Number.isInteger(sid) ? sid : undefined;
}

/**
 * Whether the shell that forked PID 1 into its pid namespace (PID_NAMESPACE_PARENT in
 * core/namespaces.ts) has ended, given the pid it passed (its own, as /proc shows it) and
 * PID 1's own /proc/self/stat: another parent there is the reaper the kernel gave it
 * instead. Nothing passed (an empty value: /proc did not show the shell) or nothing read
 * is not taken as an end.
 */
export function forkingShellEnded(passed: string | undefined, ownStat: string | undefined): boolean {
  if (passed === undefined || !/^[1-9][0-9]*$/.test(passed) || ownStat === undefined) return false;
  const ppid = parentInStat(ownStat);
  return ppid !== undefined && ppid !== Number(passed);
}

/**
 * When the process started, in clock ticks after boot, as a /proc/PID/stat text gives it:
 * field 22 (proc(5)). With its pid it names one process: a pid taken again is a later start.
 */
export function startTimeInStat(stat: string): string | undefined {
  const start = statFields(stat)[19];
  return start !== undefined && /^[0-9]+$/.test(start) ? start : undefined;
}

/** The fields of a /proc/PID/stat text from field 3 (the state) on, after the command name in parentheses. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).trimEnd().split(' ');
}

/**
 * The children of process `pid` (this one's, `process.pid`), none when it is gone: the
 * pids every thread's /proc/PID/task/TID/children lists. A child's parent is the thread
 * that forked it, and an orphan goes to a thread of its subreaper that is not exiting,
 * listed under that thread. A kernel without CONFIG_PROC_CHILDREN has no such file: then
 * every process's stat is read for its parent (field 4, the parent's process id).
 */
export function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids = new Set<number>();
  let listed = false;
  for (const tid of tasks) {
    try {
      for (const kid of readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').split(' ').filter(Boolean)) kids.add(Number(kid));
      listed = true;
    } catch {
      // A thread gone since the listing, or no children file.
    }
  }
  if (listed) return [...kids];
  for (const name of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    if (parentInStat(stat) === pid) kids.add(Number(name));
  }
  return [...kids];
}

/** What /proc/PID/fd/FD links to ("socket:[INODE]" for a socket), or undefined when it cannot be read. */
export function fdLink(pid: number, fd: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`);
  } catch {
    return undefined;
  }
}

/**
 * Returns once an execve(2) that `pid` is in has given it the new program's signal
 * handlers. execve closes the close-on-exec descriptors before it resets the old
 * program's handlers, both under the process's exec_update_lock; opening
 * /proc/PID/auxv takes that lock (mm_access), so the open returns only after the reset:
 * without it, a signal sent when the descriptor is gone would find mountkit's listener
 * (SigCgt) and be dropped once the handler is reset, PID 1 ignoring a signal it does not
 * handle. A process gone or out of reach is left to statusOf.
 */
function execDone(pid: number): void {
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/auxv`, 'r');
  } catch {
    return;
  }
  closeSync(fd);
}

function statusOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
}

// Unreferenced: the child process keeps Node running while there is anything to pass on.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** How long and how often a held signal is looked at again. */
const POLL_MS = 10;
const HANDLER_TRIES = 50;

/** Whether passing on has stopped: `spawned` was reaped, and its pid may be another process's. */
type Stopped = () => boolean;

/**
 * The container's pid once it is there (the process spawned forks it), or undefined once
 * passing on has stopped: however long the relaunch's unshare(1) or nsenter(1) takes to
 * start it (a loaded machine), a signal that came meanwhile waits for it.
 */
async function containerOf(container: ContainerProcess, stopped: Stopped): Promise<number | undefined> {
  while (!stopped()) {
    const pid = container.pid();
    if (pid !== undefined) return pid;
    await sleep(POLL_MS);
  }
  return undefined;
}

/**
 * Waits as the file's comment says, reading the container's /proc by its pid, and sends
 * `signal` through its pidfd (container-process.ts): a pid taken meanwhile by another
 * process is only read.
 */
async function deliver(container: ContainerProcess, held: string | undefined, channelFds: readonly number[], signal: NodeJS.Signals, stopped: Stopped): Promise<void> {
  const target = await containerOf(container, stopped);
  if (target === undefined) return;
  while (!stopped() && held !== undefined && channelFds.some((fd) => fdLink(target, fd) === held)) await sleep(POLL_MS);
  execDone(target);
  const signum = constants.signals[signal];
  for (let i = 0; i < HANDLER_TRIES && !stopped(); i++) {
    const status = statusOf(target);
    if (status === undefined || handlesSignal(status, signum)) break;
    await sleep(POLL_MS);
  }
  if (!stopped()) container.signal(signum);
}

/**
 * Node ignores these from its start (src/node.cc, PlatformInit), so that a write to a
 * pipe with no reader fails with EPIPE, and one past RLIMIT_FSIZE with EFBIG; their
 * default action ends the process (signal(7)). A listener that does nothing keeps that
 * (the write fails once the handler has run).
 */
const IGNORED_BY_NODE: readonly NodeJS.Signals[] = ['SIGPIPE', 'SIGXFSZ'];

/** A signal listener that does nothing: the signal is taken, and has no effect. */
export function ignoreSignal(): void {}

/** The signals passed on that came while holdSignals held them. */
export interface HeldSignals {
  /** Stops holding them: each one that came, in the order they came; from then on a signal meets its other listeners, or its default action (SIGPIPE and SIGXFSZ, which Node ignores, stay without effect). */
  release(): NodeJS.Signals[];
}

/**
 * Takes the signals passed on from the moment the relaunch is decided, before anything is
 * started for it, until passSignals can pass them on: without a listener, SIGTERM, SIGINT
 * or SIGHUP would end this process with their default action while it makes the user
 * namespace or starts the relaunch, leaving a relaunch without its starter (no config,
 * no hooks, no signals passed on). runc's own handler takes them from before it creates
 * the container.
 */
export function holdSignals(): HeldSignals {
  const held: NodeJS.Signals[] = [];
  const listeners = PASSED_SIGNALS.map((sig) => {
    const listener = () => {
      held.push(sig);
    };
    process.on(sig, listener);
    return [sig, listener] as const;
  });
  return {
    release: () => {
      for (const [sig, listener] of listeners) {
        // Its last listener gone, libuv gives a signal the default action, not the SIG_IGN Node started with.
        if (IGNORED_BY_NODE.includes(sig) && process.listenerCount(sig) === 1) process.on(sig, ignoreSignal);
        process.off(sig, listener);
      }
      return held.splice(0);
    },
  };
}

/**
 * Passes the signals this process gets on to the container, which the relaunch `spawned`
 * is or started, which holds the channel `spawned` was started with on descriptor 3 (on
 * one of `channelFds`) until its program starts; those `before` held come first, in
 * their order. The returned function stops it.
 */
export function passSignals(container: ContainerProcess, spawned: number, channelFds: readonly number[] = [RELAUNCH_STARTER_FD], before?: HeldSignals): () => void {
  // What `spawned` was started with on descriptor 3, taken while it still holds it.
  const held = fdLink(spawned, 3);
  const queue: NodeJS.Signals[] = [];
  let pumping = false;
  let stop = false;
  const stopped = () => stop;
  const pump = async () => {
    pumping = true;
    try {
      for (let sig = queue.shift(); sig && !stop; sig = queue.shift()) await deliver(container, held, channelFds, sig, stopped);
    } finally {
      pumping = false;
    }
  };
  const listeners = PASSED_SIGNALS.map((sig) => {
    const listener = () => {
      queue.push(sig);
      if (!pumping) void pump();
    };
    process.on(sig, listener);
    return [sig, listener] as const;
  });
  // Released once these listeners are on: no signal meets its default action in between.
  const early = before?.release() ?? [];
  if (early.length) {
    queue.push(...early);
    void pump();
  }
  return () => {
    stop = true;
    queue.length = 0;
    for (const [sig, listener] of listeners) process.off(sig, listener);
  };
}
