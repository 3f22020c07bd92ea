/**
 * The first process's side of the runtime channel (core/runtime-channel.ts): what `mountkit
 * run` does where it was started, in the runtime's namespaces, for the process it
 * relaunched to prepare the rootfs, as runc's process on the host does for its init. An
 * embedder that starts its own process to prepare the rootfs, giving it
 * RootfsConfig.runtimeChannel, serves that channel with serveRuntimeChannel.
 *
 * - The commands that process sends are run here, one at a time, and each is answered
 *   with its result or the SyscallError it failed with. Only the config's own prestart
 *   and createRuntime hooks are run, each once, in their order, and each exactly as this
 *   process builds it from its own config and the container's pid as it sees it.
 *   Anything else is refused (EPERM), so that the relaunched process, which may run as a
 *   user namespace's root over an image's files, cannot have a command or a state of its
 *   choosing run here. A line that is no message ends the channel: its sender cannot be
 *   told apart from one out of step.
 * - At its "exec" event, sent last before the container's program, the poststart hooks
 *   run (through `runAsync` when given, so that this process's event loop goes on
 *   meanwhile), with status "running" and the container's pid (as crun and youki give them; runc
 *   1.1 to 1.5 run them before the program, with "created"), the one it had when the
 *   program has already ended (`poststartPid`). The first that fails stops
 *   the container (SIGKILL) and the others, and the run ends with its error: runtime-spec
 *   1.3 (runtime.md, lifecycle step 9), as runc and crun do. Once they have succeeded,
 *   `started` is given the same pid (the pid file), whose failure ends the run alike.
 * - At its "console" event, sent once the console's master is on the socket passed for it
 *   (a foreground console, core/host-sockets.ts), `console` takes it, and the event is
 *   answered `{}`, or with the error taking it failed with (the relaunched process's run
 *   then fails with it). Without `console`, or a second time, the answer is EPERM.
 * - At its "idmap" event, `idmap` makes the idmapped copy of the config's mount that the
 *   event names and sends it on the idmap socket (core/idmapped-tree.ts,
 *   sendIdmappedCopy), and the event is answered `{}`, or with the error that failed
 *   with. Without `idmap` the answer is EPERM.
 * - Once the container has ended (the relaunch exited, having run its program or not),
 *   the poststop hooks run, with status "stopped" and no pid (runc's state). A failing one
 *   is a warning and the others still run (runtime.md: "the remaining hooks and lifecycle
 *   continue"), as crun does; the exit status stays the container's.
 */
import type { Socket } from 'net';
import { isDeepStrictEqual } from 'util';
import type { HookSpec, RootfsConfig } from './config/model';
import { SyscallError } from './errors';
import { hookCommand, ociState, runHook, runHookAsync, stoppedState } from './hooks';
import { channelMessage, errorReply } from './runtime-channel';
import type { CommandResult, CommandSpec, Syscalls } from './syscalls/types';

export interface RuntimeSide {
  /**
   * The container has ended: once the poststart hooks are done, runs the poststop hooks,
   * and gives the poststart hook's failure the run ends with, if one failed.
   */
  ended(): Promise<Error | undefined>;
}

export interface RuntimeSideOptions {
  /** The hooks' port: the first process's own. */
  sys: Syscalls;
  config: Pick<RootfsConfig, 'bundle' | 'annotations' | 'hooks' | 'id'>;
  /** The container's pid as this process sees it (the relaunched process, until its execve(2)); undefined once it is gone. */
  container: () => number | undefined;
  /**
   * The container's pid for the poststart hooks' state, as this process sees it: the one
   * it had, also once it has ended and been reaped, which a short program may have been
   * by the time the "exec" event is read (`mountkit run` gives the process it found and
   * holds, cli/container-process.ts foundPid). runc and crun give the pid of the process
   * they started, which is not yet reaped then. Absent, `container` gives it.
   */
  poststartPid?: () => number | undefined;
  /** Stops the container (SIGKILL), given its pid as the poststart hooks were given it (`mountkit run` holds the process it found, by a pidfd where it can, and does not need it). */
  kill: (pid: number | undefined) => void;
  warn: (message: string) => void;
  /** Takes the console's master at the "console" event (`mountkit run`'s foreground console); what it throws is the answer. */
  console?: () => void;
  /** Makes and sends the idmapped copy of config.mounts index `mount` at the "idmap" event; what it throws is the answer. */
  idmap?: (mount: number) => void;
  /**
   * Runs a poststart hook without holding this process's event loop (the port's
   * runCommandAsync), so that a console is copied while the hooks run, as runc copies it
   * meanwhile, and signals are passed on (runc holds them until its hooks are done);
   * absent, the port's runCommand runs them, waiting.
   */
  runAsync?: (cmd: CommandSpec) => Promise<CommandResult>;
  /**
   * Once the poststart hooks at the "exec" event have all succeeded, given the pid they
   * were given (`mountkit run --pid-file` writes it then, as runc writes its pid file
   * after them); what it throws stops the container, as a failing hook does.
   */
  started?: (pid: number | undefined) => void;
}

/** The runtime's hooks the relaunched process may send, in the order it sends them (the hooks plugin's OciHooksStep). */
function runtimeHooks(config: RuntimeSideOptions['config']): [string, HookSpec][] {
  const { prestart, createRuntime } = config.hooks;
  return [...prestart.map((h, i): [string, HookSpec] => [`prestart[${i}]`, h]), ...createRuntime.map((h, i): [string, HookSpec] => [`createRuntime[${i}]`, h])];
}

/** Serves the runtime channel `socket` until it closes (the relaunched process's execve(2) or end). */
export function serveRuntimeChannel(socket: Socket, opts: RuntimeSideOptions): RuntimeSide {
  const expected = runtimeHooks(opts.config);
  let next = 0;
  let started = false;
  let consoled = false;
  let poststart: Promise<Error | undefined> = Promise.resolve(undefined);
  const answer = (reply: object): void => {
    socket.write(`${JSON.stringify(reply)}\n`);
  };
  const handle = (line: string): void => {
    let message;
    try {
      message = channelMessage(line);
    } catch (err) {
      opts.warn(`the runtime channel is closed: ${(err as Error).message}`);
      socket.destroy();
      return;
    }
    if ('command' in message) {
      const [name, hook] = expected[next] ?? [];
      const problem = hook ? hookCommandProblem(message.command, hook, opts) : 'the config has no more prestart or createRuntime hooks';
      if (problem) {
        const which = hook ? ` (${name} ${JSON.stringify(hook.path)})` : '';
        answer(errorReply('execve', 'EPERM', [message.command.path], `not the config's next prestart or createRuntime hook${which}: ${problem}`));
        return;
      }
      next++;
      answer(commandAnswer(message.command, opts.sys));
    } else if (message.event === 'exec' && !started) {
      started = true;
      const then = (failure: Error | undefined): Error | undefined => failure ?? runStarted(opts);
      poststart = opts.runAsync ? runPoststartAsync(opts, opts.runAsync).then(then) : Promise.resolve(then(runPoststart(opts)));
    } else if (message.event === 'console') {
      // Asked once: a take that failed has used up the console socket's end here too.
      if (!opts.console || consoled) {
        answer(errorReply('recvmsg', 'EPERM', [], opts.console ? 'the console was asked for already' : 'no console socket was passed'));
        return;
      }
      consoled = true;
      answerCall(() => opts.console!(), 'recvmsg');
    } else if (message.event === 'idmap') {
      const mount = message.mount;
      if (!opts.idmap || mount === undefined) {
        answer(errorReply('open_tree', 'EPERM', [], opts.idmap ? 'the idmap event names no mount' : 'no idmap socket was passed'));
        return;
      }
      answerCall(() => opts.idmap!(mount), 'open_tree');
    }
  };
  /** `{}` once `call` is done, or the error it failed with (a SyscallError as it is, anything else as `syscall`'s EIO). */
  const answerCall = (call: () => void, syscall: string): void => {
    try {
      call();
      answer({ result: {} });
    } catch (err) {
      answer(err instanceof SyscallError ? errorReply(err.syscall, err.code, err.paths, err.detail) : errorReply(syscall, 'EIO', [], (err as Error).message));
    }
  };
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (let end = pending.indexOf(0x0a); end >= 0 && !socket.destroyed; end = pending.indexOf(0x0a)) {
      const line = pending.subarray(0, end).toString('utf8');
      pending = pending.subarray(end + 1);
      handle(line);
    }
  });
  // The relaunched process closes its end at its execve(2), or when it ends.
  socket.on('error', () => undefined);
  return {
    ended: async () => {
      const failure = await poststart;
      runPoststop(opts);
      return failure;
    },
  };
}

/**
 * Why `command` is not `hook`'s as the hooks plugin builds it (hookCommand) from this
 * process's config and the container's pid as this process sees it, or undefined.
 */
function hookCommandProblem(command: CommandSpec, hook: HookSpec, { config, container }: RuntimeSideOptions): string | undefined {
  const pid = container();
  if (pid === undefined) return 'the container is gone';
  const { stdin, ...rest } = hookCommand(hook, ociState(new Map(), config, { status: 'creating', pid }));
  const { stdin: sent, ...given } = command;
  if (!isDeepStrictEqual(given, rest)) return 'its command differs';
  return sent === stdin ? undefined : `its state differs from ${stdin}`;
}

/** The answer to one command (core/runtime-channel.ts). */
function commandAnswer(command: CommandSpec, sys: Syscalls): object {
  try {
    return { result: sys.runCommand(command) };
  } catch (err) {
    if (err instanceof SyscallError) return errorReply(err.syscall, err.code, err.paths, err.detail);
    return errorReply('execve', 'EIO', [command.path], (err as Error).message);
  }
}

/** A hook as this process runs it: its name in the config, and its command with the state it is given. */
export interface StarterHook {
  name: string;
  hook: HookSpec;
  cmd: CommandSpec;
}

/** The poststart hooks, in order, with status "running" and the container's pid (0 when there is none). */
export function poststartHooks(config: RuntimeSideOptions['config'], pid: number | undefined): StarterHook[] {
  const state = ociState(new Map(), config, { status: 'running', pid: pid ?? 0 });
  return (config.hooks.poststart ?? []).map((hook, i) => ({ name: `poststart[${i}]`, hook, cmd: hookCommand(hook, state) }));
}

/** The poststop hooks, in order, with status "stopped" and no pid. */
export function poststopHooks(config: RuntimeSideOptions['config']): StarterHook[] {
  const state = stoppedState(new Map(), config);
  return (config.hooks.poststop ?? []).map((hook, i) => ({ name: `poststop[${i}]`, hook, cmd: hookCommand(hook, state) }));
}

/** The container's pid for the poststart hooks (RuntimeSideOptions.poststartPid). */
function poststartPid({ container, poststartPid: given }: RuntimeSideOptions): number | undefined {
  return (given ?? container)();
}

/** The poststart hooks, in order; the first failure stops the container and is returned. */
function runPoststart(opts: RuntimeSideOptions): Error | undefined {
  const { sys, config, kill } = opts;
  const pid = poststartPid(opts);
  try {
    for (const { name, hook, cmd } of poststartHooks(config, pid)) runHook(sys, name, hook, cmd);
    return undefined;
  } catch (err) {
    kill(pid);
    return err as Error;
  }
}

/** runPoststart, each hook run by `run` without holding the event loop. */
async function runPoststartAsync(opts: RuntimeSideOptions, run: (cmd: CommandSpec) => Promise<CommandResult>): Promise<Error | undefined> {
  const { config, kill } = opts;
  const pid = poststartPid(opts);
  try {
    for (const { name, hook, cmd } of poststartHooks(config, pid)) await runHookAsync(run, name, hook, cmd);
    return undefined;
  } catch (err) {
    kill(pid);
    return err as Error;
  }
}

/** `started`, after the poststart hooks; what it throws stops the container and is returned. */
function runStarted(opts: RuntimeSideOptions): Error | undefined {
  if (!opts.started) return undefined;
  const pid = poststartPid(opts);
  try {
    opts.started(pid);
    return undefined;
  } catch (err) {
    opts.kill(pid);
    return err as Error;
  }
}

/** The poststop hooks, each one; a failure is a warning. */
function runPoststop({ sys, config, warn }: RuntimeSideOptions): void {
  for (const { name, hook, cmd } of poststopHooks(config)) {
    try {
      runHook(sys, name, hook, cmd);
    } catch (err) {
      warn((err as Error).message);
    }
  }
}
