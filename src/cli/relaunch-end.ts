/**
 * How `mountkit run` ends once the process it relaunched has ended (cli/run.ts relaunch):
 * with the container's status, or with an error where that process was ended by a signal
 * before the container's program started. runc 1.1.5 exits 1 then, saying it was unable
 * to start the container's process, and 128+N once its program has started and signal N
 * ended it (an OOM kill, kill -9), as a shell reports it. The exec event on the runtime
 * channel (core/runtime-channel.ts), sent last before execve(2), tells that the program
 * started.
 */
import { constants } from 'os';
import { signalName } from '../core/signal-name';

/** A child's status as ours; one killed by a signal gives 128+N, as a shell reports it. */
export function exitStatus(status: number | null, signal: NodeJS.Signals | null): number {
  return status ?? 128 + (signal ? constants.signals[signal] : 0);
}

/** The run's exit status, or the one line of the runtime error it ends with (exit 1). */
export type RelaunchEnd = { status: number } | { error: string };

/** The relaunch's end, as Node's 'close' event gives it (its status, or the signal that ended it). */
export interface RelaunchExit {
  status: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * The signal that ended the process preparing the rootfs, if one did. The process spawned
 * is that process itself, or, when it `forks` the container as PID 1 of a new pid
 * namespace, the shell that waits for it and exits with 128+N when signal N ended it
 * (core/namespaces.ts PID_NAMESPACE_PARENT), a status mountkit's own exits (0, 1, 2) never
 * reach.
 */
function endingSignal({ status, signal }: RelaunchExit, forks: boolean): string | undefined {
  if (signal !== null) return signal;
  if (!forks || status === null || status <= 128) return undefined;
  return signalName(status - 128);
}

/**
 * The run's end: the container's status once its program has `started` (the exec event
 * came), or without a signal; a runtime error naming the signal that ended the process
 * preparing the rootfs before the program started.
 */
export function relaunchEnd(exit: RelaunchExit, forks: boolean, started: boolean): RelaunchEnd {
  const signal = started ? undefined : endingSignal(exit, forks);
  if (signal === undefined) return { status: exitStatus(exit.status, exit.signal) };
  return { error: `unable to start the container's process: the process preparing the rootfs was killed by ${signal}` };
}
