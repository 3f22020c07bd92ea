/**
 * The environment mountkit's caller gave, for the runtime's hooks without an `env` of their
 * own (prestart, createRuntime, poststart, poststop), which runc 1.1.5 runs in its own.
 *
 * bin/mountkit runs in a POSIX shell, which passes on an environment of its own making:
 * it exports PWD, sets IFS, OPTIND and PPID, and drops the variables whose names are no
 * shell names (`a-b`). The strings the caller's execve(2) gave stay in the shell's memory,
 * which /proc/PID/environ reads (proc(5): the area between env_start and env_end, which
 * the shell never writes), and in a forked copy of it; once the shell has exec'd Node,
 * that file of its pid reads Node's. So where the runtime's hooks may run, the launcher has
 * a forked copy of itself give its /proc/PID/environ to cat(1), which writes it into a
 * pipe on a descriptor Node inherits, and names that descriptor in MOUNTKIT_CALLER_ENV as
 * `PID:FD`, with the shell's pid, which becomes Node's (as LISTEN_PID names the process
 * its descriptors are for: a value an environment hands another process is no launcher's).
 *
 * The pipe holds the line the launcher's here-document put there (COPY_MARK), the
 * environment's NUL-terminated strings, and the same line once cat has succeeded. The
 * CLI takes it first thing, and this process's environment becomes the caller's, as Node
 * reads one (the first entry of a name, none without a `=` or a name): whatever mountkit
 * starts afterwards, hooks and the relaunch, gets what it gets through the Node entry.
 */
import { SyscallError, StepError, errnoNumber } from '../core/errors';

export const CALLER_ENV_ENV = 'MOUNTKIT_CALLER_ENV';

/** The line written before and after the copy (the launcher's here-document, then its `echo`). */
export const COPY_MARK = 'mountkit\n';

/** Where the copy is read: its descriptor read to its end of file, then closed. */
export interface CopyPort {
  /** read(2) until the end of file; throws as Node's fs does (an error with `code`). */
  readAll(fd: number): Buffer;
  close(fd: number): void;
}

/** The descriptor MOUNTKIT_CALLER_ENV names for the process `pid`, or undefined when it names another process or is absent. */
export function callerEnvFd(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const m = /^([1-9][0-9]*):([0-9])$/.exec(env[CALLER_ENV_ENV] ?? '');
  return m && Number(m[1]) === pid ? Number(m[2]) : undefined;
}

/**
 * The environment's entries in `copy` (COPY_MARK, NUL-terminated strings, COPY_MARK), as
 * NAME and value, the first entry of each name only, as Node takes them; throws when
 * the copy is not whole (cat failed, or ended early).
 */
export function parseCallerEnv(copy: Buffer, fd: number): [string, string][] {
  const mark = Buffer.from(COPY_MARK);
  const body = copy.subarray(mark.length, copy.length - mark.length);
  const whole =
    copy.length >= 2 * mark.length &&
    copy.subarray(0, mark.length).equals(mark) &&
    copy.subarray(copy.length - mark.length).equals(mark) &&
    (body.length === 0 || body[body.length - 1] === 0);
  if (!whole) throw new StepError(`the caller's environment, copied by bin/mountkit on descriptor ${fd}, is incomplete (${copy.length} bytes): cat /proc/PID/environ failed`);
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  for (const entry of body.toString('utf8').split('\0').slice(0, -1)) {
    const eq = entry.indexOf('=');
    if (eq <= 0) continue;
    const name = entry.slice(0, eq);
    if (seen.has(name)) continue;
    seen.add(name);
    entries.push([name, entry.slice(eq + 1)]);
  }
  return entries;
}

/**
 * When MOUNTKIT_CALLER_ENV names a descriptor for the process `pid`: reads the copy there,
 * closes it, and makes `env` (in place) the caller's environment. A copy that cannot be
 * read, or is not whole, fails (the hooks would otherwise run in the shell's environment),
 * and `env` is left as it was.
 */
export function takeCallerEnv(env: NodeJS.ProcessEnv, pid: number, port: CopyPort): void {
  const fd = callerEnvFd(env, pid);
  if (fd === undefined) return;
  let copy: Buffer;
  try {
    copy = port.readAll(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw err;
    throw new SyscallError('read', errnoNumber(code), [`/proc/self/fd/${fd}`], "the caller's environment, copied by bin/mountkit");
  } finally {
    closeQuietly(port, fd);
  }
  const entries = parseCallerEnv(copy, fd);
  for (const name of Object.keys(env)) delete env[name];
  for (const [name, value] of entries) env[name] = value;
}

/** close(2), whose failure (EBADF: nothing was open there) changes nothing here. */
function closeQuietly(port: CopyPort, fd: number): void {
  try {
    port.close(fd);
  } catch {
    // Nothing was open to close.
  }
}
