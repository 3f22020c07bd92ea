/**
 * What an OCI hook receives: the container state on stdin (runtime-spec runtime.md,
 * "State"), and the command built from its config entry. Shared by the hooks plugin
 * (prestart, createRuntime, createContainer), the exec plugin (startContainer, and the
 * state in what the seccomp agent receives) and `mountkit run`'s first process
 * (poststart, poststop: src/core/runtime-hooks.ts).
 *
 * Shared keys (RunContext.shared), set by the embedder or an earlier plugin:
 * - `container.id` (string): the container's id; default RootfsConfig.id (`mountkit run
 *   ID`), else the bundle directory's name.
 * - `container.pid` (number): the container process's pid as the runtime namespace sees
 *   it; default 0, since a mountkit run alone knows no runtime pid.
 * The hooks run at the other end of a runtime channel (RootfsConfig.runtimeChannel:
 * prestart, createRuntime, poststart, poststop) take neither: that end builds their
 * state from the config and the pid it sees, and runs nothing else.
 */
import posix = require('path/posix');
import type { HookSpec, RootfsConfig } from './config/model';
import { StepError, SyscallError, naming } from './errors';
import type { CommandResult, CommandSpec, Syscalls } from './syscalls/types';

export const CONTAINER_ID_KEY = 'container.id';
export const CONTAINER_PID_KEY = 'container.pid';

/** The runtime-spec version the state document follows. */
export const OCI_VERSION = '1.0.2';

export interface OciState {
  ociVersion: string;
  id: string;
  /** creating: the hooks of the create operation; created: startContainer, run by the start operation; running: poststart. */
  status: 'creating' | 'created' | 'running';
  pid: number;
  bundle: string;
  /** The config's annotations; absent when it has none, as runc leaves them out. */
  annotations?: Record<string, string>;
}

function sharedValue<T>(shared: ReadonlyMap<string, unknown>, key: string, type: 'string' | 'number'): T | undefined {
  const value = shared.get(key);
  if (value === undefined) return undefined;
  if (typeof value !== type) throw new StepError(`shared "${key}" must be a ${type}, got ${typeof value}`);
  return value as T;
}

/**
 * Why `id` cannot be a container's id, or undefined: runc 1.1.5 takes an id of ASCII
 * letters, digits and the characters `_ + , - .` (its pattern `^[\w+-\.]+$`, whose
 * `+-\.` is the range from + to ., comma included), other than `.` and `..`, which it
 * refuses as paths that clean to another (libcontainer/factory_linux.go, validateID),
 * and not an empty one ("container id cannot be empty").
 */
export function containerIdProblem(id: string): string | undefined {
  if (id === '') return 'must not be empty';
  if (!/^[A-Za-z0-9_+,.-]+$/.test(id)) return 'may hold only ASCII letters, digits and _ + , - . (as runc takes an id)';
  if (id === '.' || id === '..') return 'must not be . or .. (as runc takes an id)';
  return undefined;
}

/**
 * The id the container was given: the shared `container.id`, else RootfsConfig.id
 * (`mountkit run ID`, which validateConfig checks); undefined when neither is set. A
 * shared one an embedder or a plugin set is checked as runc checks an id
 * (containerIdProblem) before anything is given it.
 */
export function givenContainerId(shared: ReadonlyMap<string, unknown>, config: Pick<RootfsConfig, 'id'>): string | undefined {
  const id = sharedValue<string>(shared, CONTAINER_ID_KEY, 'string');
  if (id === undefined) return config.id;
  const problem = containerIdProblem(id);
  if (problem) throw new StepError(`shared "${CONTAINER_ID_KEY}" ${JSON.stringify(id)}: ${problem}`);
  return id;
}

/** The id a container given none has: its bundle directory's name (validateConfig checks it as a given one). */
export function defaultContainerId(config: Pick<RootfsConfig, 'bundle'>): string {
  return posix.basename(config.bundle);
}

/** The container's id: the one it was given (givenContainerId), else the bundle directory's name (defaultContainerId). */
export function containerId(shared: ReadonlyMap<string, unknown>, config: Pick<RootfsConfig, 'bundle' | 'id'>): string {
  return givenContainerId(shared, config) ?? defaultContainerId(config);
}

/**
 * The state a hook reads. `own`, for the hooks that run inside the container
 * (createContainer, startContainer), is the status and this process's pid (getpid(2)),
 * the container's as its own pid namespace counts it, which is what runc gives them (its
 * init's getpid()).
 */
export function ociState(
  shared: ReadonlyMap<string, unknown>,
  config: Pick<RootfsConfig, 'bundle' | 'annotations' | 'id'>,
  own?: { status: OciState['status']; pid: number },
): OciState {
  const { bundle, annotations } = config;
  return {
    ociVersion: OCI_VERSION,
    id: containerId(shared, config),
    status: own?.status ?? 'creating',
    pid: own?.pid ?? sharedValue<number>(shared, CONTAINER_PID_KEY, 'number') ?? 0,
    bundle,
    ...(annotations && Object.keys(annotations).length > 0 ? { annotations } : {}),
  };
}

/** The state poststop hooks read: status "stopped" and no pid, as runc gives it (its process has ended; runtime-spec: pid is required only while it runs). */
export type StoppedState = Omit<OciState, 'status' | 'pid'> & { status: 'stopped' };

/** The state of a container that has ended (StoppedState). */
export function stoppedState(shared: ReadonlyMap<string, unknown>, config: Pick<RootfsConfig, 'bundle' | 'annotations' | 'id'>): StoppedState {
  const { pid: _pid, ...rest } = ociState(shared, config);
  return { ...rest, status: 'stopped' };
}

/**
 * This process's pid as the host sees it: the target of /proc/self in a procfs of the
 * host's pid namespace, which is the one mounted until the jail (proc(5)); getpid(2)
 * where there is none. The process that prepares the rootfs becomes the container, so
 * this is the container's pid as runc's host side gives it.
 */
export function hostPid(sys: Pick<Syscalls, 'readlink' | 'getpid'>): number {
  try {
    return Number(sys.readlink('/proc/self'));
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    return sys.getpid();
  }
}

/**
 * The command for one hook. runtime-spec: `args` has the same semantics as execv's argv,
 * so args[0] is argv[0] and may differ from `path`; `env` is the whole environment (`[]`
 * none), or `defaultEnv` when the hook has no `env`, and without that the environment of
 * the process that runs it, as runc's runtime hooks get runc's (Go's exec with no Env);
 * runc gives createContainer hooks the container's process.env (its init's, with socket
 * activation's variables), startContainer hooks the program's. `timeout` is in seconds.
 * The working directory is `dir`: the bundle by default, as runc's runtime hooks inherit
 * runc's, which is the bundle.
 */
export function hookCommand(hook: HookSpec, state: OciState | StoppedState, dir = state.bundle, defaultEnv?: readonly string[]): CommandSpec {
  const env = hook.env ?? defaultEnv;
  const cmd: CommandSpec = { path: hook.path, args: hook.args.slice(1), ...(env === undefined ? {} : { env: [...env] }), dir, stdin: JSON.stringify(state) };
  if (hook.args.length > 0) cmd.argv0 = hook.args[0];
  if (hook.timeout !== undefined) cmd.timeoutMs = hook.timeout * 1000;
  return cmd;
}

/**
 * Why a finished hook failed, or undefined when it exited with status 0 before its
 * timeout. One still running at its timeout was killed (SIGKILL), and fails, as runc
 * fails it.
 */
export function hookFailure(hook: HookSpec, result: CommandResult): string | undefined {
  if (result.status === 0 && result.signal === null && !result.timedOut) return undefined;
  const how = result.timedOut
    ? `ran past its timeout of ${hook.timeout}s, killed by SIGKILL`
    : result.signal
      ? `killed by ${result.signal}`
      : `exit status ${result.status}`;
  const output = result.output.trim();
  return `failed (${how})${output ? `: ${shownOutput(output)}` : ''}`;
}

/** Control characters (C0, DEL, C1): a newline would end the error's one line, the others act on a terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * A hook's output as an error shows it: as it is, or JSON-quoted with every control
 * character escaped (a newline as \n, DEL and C1 as \u007f...) when it holds one, so
 * that the error stays one line and a hook (a startContainer hook is the image's
 * program) cannot add lines of its own to mountkit's or act on the user's terminal.
 */
export function shownOutput(output: string): string {
  if (!output.match(CONTROL)) return output;
  return JSON.stringify(output).replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Runs one hook to its end; a failure stops the run, naming the hook (`which`: its list
 * and index) and its output.
 */
export function runHook(sys: Syscalls, which: string, hook: HookSpec, cmd: CommandSpec): void {
  const name = hookName(which, hook);
  const failure = naming(name, () => hookFailure(hook, sys.runCommand(cmd)));
  if (failure) throw new StepError(`${name} ${failure}`);
}

/** runHook with a runner that does not hold the event loop (CommandSpec run to its end, its result promised). */
export async function runHookAsync(run: (cmd: CommandSpec) => Promise<CommandResult>, which: string, hook: HookSpec, cmd: CommandSpec): Promise<void> {
  const name = hookName(which, hook);
  let result: CommandResult;
  try {
    result = await run(cmd);
  } catch (err) {
    if (err instanceof SyscallError) throw new StepError(`${name}: ${err.message}`, { cause: err });
    throw err;
  }
  const failure = hookFailure(hook, result);
  if (failure) throw new StepError(`${name} ${failure}`);
}

function hookName(which: string, hook: HookSpec): string {
  return `hook ${which} ${JSON.stringify(hook.path)}`;
}
