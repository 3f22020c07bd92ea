/**
 * The runtime channel (RootfsConfig.runtimeChannel): a socket from the process preparing
 * the rootfs to the process that started it, which stays where mountkit was started, in
 * the runtime's namespaces, and runs there what the runtime-spec wants run there. One
 * JSON object a line, of two kinds:
 * - a command (CommandSpec without `via`), which the other end runs and answers with one
 *   line, `{ "result": CommandResult }` or `{ "error": { syscall, code, paths, detail } }`
 *   (LinuxSyscalls.runCommand sends it for a CommandSpec with `via`);
 * - an event, which has no answer: `{ "event": "exec" }`, sent last before execve(2) of
 *   the container's program on every run with a channel, one write(2): the other end runs
 *   the poststart hooks then, as runc runs them once its init is released to execve, and
 *   tells by it that the program started (`mountkit run` ends with an error where the
 *   process preparing the rootfs was killed before it, as runc does). `{ "event":
 *   "console" }` is sent once the console's master is on the console socket the other end
 *   passed (RootfsConfig.hostSockets.console without consoleSocket); the other end
 *   receives it without waiting, sets it up and answers as a command is answered, with
 *   `{ "result": {} }` or `{ "error": ... }`, so that the program starts on a console
 *   already set up. `{ "event": "idmap", "mount": N }` asks for the idmapped copy of
 *   config.mounts index N, which the other end makes from inside this process's mount
 *   namespace and sends on the idmap socket (RootfsConfig.idmapSocket) before it answers
 *   as a command is answered.
 */
import { SyscallError, errnoNumber } from './errors';
import type { CommandSpec } from './syscalls/types';

/** The events the process preparing the rootfs sends. */
export type ChannelEvent = 'exec' | 'console' | 'idmap';

/** One line from the process preparing the rootfs: a command to run and answer, or an event (one this side does not know is passed over) with the mount it is about, if any. */
export type ChannelMessage = { command: CommandSpec } | { event: ChannelEvent | string; mount?: number };

/** What the other end answers: a command's result, or `{}` for the console event; or the SyscallError it failed with there. */
export interface ChannelAnswer<T> {
  result?: T;
  error?: { syscall: string; code: string; paths: string[]; detail?: string };
}

/** The result an answer line carries, or the SyscallError it names, thrown. */
export function answerResult<T>(line: string): T | undefined {
  const answer = JSON.parse(line) as ChannelAnswer<T>;
  if (answer.error) throw new SyscallError(answer.error.syscall, errnoNumber(answer.error.code), answer.error.paths, answer.error.detail);
  return answer.result;
}

/** An answer naming the call that failed there, its errno's name and paths: what answerResult throws at the other end. */
export function errorReply(syscall: string, code: string, paths: readonly string[], detail?: string): ChannelAnswer<never> {
  return { error: { syscall, code, paths: [...paths], ...(detail === undefined ? {} : { detail }) } };
}

/** An event's line, with the index of the mount it is about (idmap). */
export function eventLine(event: ChannelEvent, mount?: number): string {
  return `${JSON.stringify(mount === undefined ? { event } : { event, mount })}\n`;
}

/** What a line (without its newline) is: an event (a string `event`), a command (a string `path`), or an Error. */
export function channelMessage(line: string): ChannelMessage {
  const value = JSON.parse(line) as unknown;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`not a message of the runtime channel: ${line}`);
  const { event, path, mount } = value as { event?: unknown; path?: unknown; mount?: unknown };
  if (typeof event === 'string') return Number.isInteger(mount) ? { event, mount: mount as number } : { event };
  if (typeof path === 'string') return { command: value as CommandSpec };
  throw new Error(`not a message of the runtime channel: ${line}`);
}

/**
 * Watches the lines `socket` carries from the process preparing the rootfs (beside the
 * side that serves them, core/runtime-hooks.ts) for the exec event: whether it has come.
 * A line that is no message is passed over. `onSeen` runs once, when it comes.
 */
export function execEventSeen(socket: { on(event: 'data', listener: (chunk: Buffer) => void): unknown }, onSeen?: () => void): () => boolean {
  let seen = false;
  let pending = '';
  socket.on('data', (chunk: Buffer) => {
    if (seen) return;
    pending += chunk.toString('utf8');
    let end: number;
    while (!seen && (end = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      try {
        const message = channelMessage(line);
        seen = 'event' in message && message.event === 'exec';
      } catch {
        // Not a message: serveRuntimeChannel closes the channel.
      }
    }
    if (seen) onSeen?.();
  });
  return () => seen;
}
