/**
 * Which signals the container starts ignoring. execve(2) keeps an ignored disposition and
 * resets a caught one (signal(7)), so a container started by a program that ignores
 * SIGHUP (nohup) ignores it too, as under runc. When mountkit is started by another
 * process of its own, that process's dispositions are the ones to pass on: bin/mountkit
 * runs Node as an asynchronous command, which the shell starts with SIGINT and SIGQUIT
 * ignored, and Node's spawn of the relaunch resets every signal to its default. Such a
 * starter names itself in MOUNTKIT_STARTER_PID; the container's set is what it ignores
 * (the SigIgn mask of /proc/PID/status, bit N-1 for signal N), but SIGPIPE and SIGXFSZ,
 * which Node ignores in every Node process and a container starts with at their default.
 */
import { readFileSync } from 'fs';
import { ConfigError } from '../core/errors';

export const STARTER_PID_ENV = 'MOUNTKIT_STARTER_PID';

// SIGPIPE and SIGXFSZ (asm-generic/signal.h), which Node sets to SIG_IGN at start-up.
const NODE_IGNORED = new Set([13, 25]);

/** The signals a /proc/PID/status text says are ignored, SIGPIPE and SIGXFSZ left out; undefined without a SigIgn line. */
export function ignoredSignals(status: string): number[] | undefined {
  const m = /^SigIgn:\s*([0-9a-f]{1,16})$/m.exec(status);
  if (!m) return undefined;
  const mask = BigInt(`0x${m[1]}`);
  const out: number[] = [];
  for (let signum = 1; signum <= 64; signum++) {
    if ((mask >> BigInt(signum - 1)) & 1n && !NODE_IGNORED.has(signum)) out.push(signum);
  }
  return out;
}

/** The container's ignored signals as the starter named in env has them, or undefined when none is named. */
export function starterIgnoredSignals(env: NodeJS.ProcessEnv): number[] | undefined {
  const pid = env[STARTER_PID_ENV];
  if (pid === undefined) return undefined;
  if (!/^[1-9][0-9]*$/.test(pid)) throw new ConfigError(STARTER_PID_ENV, pid, 'must be a process id');
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch (err) {
    throw new ConfigError(STARTER_PID_ENV, pid, `/proc/${pid}/status cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const ignored = ignoredSignals(status);
  if (!ignored) throw new ConfigError(STARTER_PID_ENV, pid, `/proc/${pid}/status has no SigIgn line`);
  return ignored;
}
