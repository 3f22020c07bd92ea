/**
 * The first process's side of the runtime channel (core/runtime-channel.ts): what `mountkit
 * run` does where it was started, in the runtime's namespaces, for the process it
 * relaunched to prepare the rootfs, as runc's process on the host does for its init.
 *
 * - The commands that process sends (the prestart and createRuntime hooks) are run here,
 *   one at a time, and each is answered with its result or the SyscallError it failed with.
 * - At its "exec" event, sent last before the container's program, the poststart hooks
 *   run, with status "running" and the container's pid (as crun and youki give them; runc
 *   1.1 to 1.5 run them before the program, with "created"). The first that fails stops
 *   the container (SIGKILL) and the others, and the run ends with its error: runtime-spec
 *   1.3 (runtime.md, lifecycle step 9), as runc and crun do.
 * - Once the container has ended (the relaunch exited, having run its program or not),
 *   the poststop hooks run, with status "stopped" and no pid (runc's state). A failing one
 *   is a warning and the others still run (runtime.md: "the remaining hooks and lifecycle
 *   continue"), as crun does; the exit status stays the container's.
 */
import type { Socket } from 'net';
import type { RootfsConfig } from '../core/config/model';
import { SyscallError } from '../core/errors';
import { hookCommand, ociState, runHook, stoppedState } from '../core/hooks';
import { channelMessage } from '../core/runtime-channel';
import type { CommandSpec, Syscalls } from '../core/syscalls/types';

export interface RuntimeSide {
  /** The container has ended: runs the poststop hooks, and returns the poststart hook's failure the run ends with, if one failed. */
  ended(): Error | undefined;
}

export interface RuntimeSideOptions {
  /** The hooks' port: the first process's own. */
  sys: Syscalls;
  config: Pick<RootfsConfig, 'bundle' | 'annotations' | 'hooks'>;
  /** The container's pid as this process sees it, once its program is next; undefined if it is gone. */
  container: () => number | undefined;
  /** Stops the container (SIGKILL), given its pid. */
  kill: (pid: number) => void;
  warn: (message: string) => void;
}

/** Serves the runtime channel `socket` until it closes (the relaunched process's execve(2) or end). */
export function serveRuntimeChannel(socket: Socket, opts: RuntimeSideOptions): RuntimeSide {
  let pending = Buffer.alloc(0);
  let poststartFailure: Error | undefined;
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (let end = pending.indexOf(0x0a); end >= 0; end = pending.indexOf(0x0a)) {
      const line = pending.subarray(0, end).toString('utf8');
      pending = pending.subarray(end + 1);
      const answer = handleLine(line, opts);
      if (answer) socket.write(`${JSON.stringify(answer.reply)}\n`);
      else poststartFailure ??= runPoststart(opts);
    }
  });
  // The relaunched process closes its end at its execve(2), or when it ends.
  socket.on('error', () => undefined);
  return {
    ended: () => {
      runPoststop(opts);
      return poststartFailure;
    },
  };
}

/** A command's answer, or undefined for the exec event. A line that is neither is answered with an error, which the waiting side reports. */
function handleLine(line: string, { sys }: RuntimeSideOptions): { reply: object } | undefined {
  let command: CommandSpec;
  try {
    const message = channelMessage(line);
    if ('event' in message) return undefined;
    command = message.command;
  } catch (err) {
    return { reply: { error: { syscall: 'read', code: 'EPROTO', paths: [], detail: (err as Error).message } } };
  }
  return { reply: commandAnswer(command, sys) };
}

/** The answer to one command (core/runtime-channel.ts). */
function commandAnswer(command: CommandSpec, sys: Syscalls): object {
  try {
    return { result: sys.runCommand(command) };
  } catch (err) {
    if (err instanceof SyscallError) return { error: { syscall: err.syscall, code: err.code, paths: err.paths, detail: err.detail } };
    return { error: { syscall: 'execve', code: 'EIO', paths: [], detail: (err as Error).message } };
  }
}

/** The poststart hooks, in order; the first failure stops the container and is returned. */
function runPoststart({ sys, config, container, kill }: RuntimeSideOptions): Error | undefined {
  const hooks = config.hooks.poststart ?? [];
  const pid = container();
  const state = ociState(new Map(), config, { status: 'running', pid: pid ?? 0 });
  try {
    hooks.forEach((hook, i) => runHook(sys, `poststart[${i}]`, hook, hookCommand(hook, state)));
    return undefined;
  } catch (err) {
    if (pid !== undefined) kill(pid);
    return err as Error;
  }
}

/** The poststop hooks, each one; a failure is a warning. */
function runPoststop({ sys, config, warn }: RuntimeSideOptions): void {
  const state = stoppedState(new Map(), config);
  (config.hooks.poststop ?? []).forEach((hook, i) => {
    try {
      runHook(sys, `poststop[${i}]`, hook, hookCommand(hook, state));
    } catch (err) {
      warn((err as Error).message);
    }
  });
}
