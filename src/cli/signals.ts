/**
 * Which signals the container starts ignoring. execve(2) keeps an ignored disposition and
 * resets a caught one (signal(7)), so a program started by nohup keeps SIGHUP ignored.
 * Node cannot pass that on by itself: it resets each standard signal (1-31) it inherited
 * ignored to SIG_DFL when it starts (src/node.cc, PlatformInit), and bin/mountkit runs Node under unshare(1) as
 * an asynchronous command, which the shell starts with SIGINT and SIGQUIT ignored. So
 * bin/mountkit reads its own SigIgn mask from /proc/self/status (bit N-1 for signal N)
 * and hands it to Node in MOUNTKIT_STARTER_SIGIGN; the container ignores those signals,
 * but SIGPIPE and SIGXFSZ, which a container starts with at their defaults, as runc's.
 */
import { ConfigError } from '../core/errors';

export const STARTER_SIGIGN_ENV = 'MOUNTKIT_STARTER_SIGIGN';

// SIGPIPE and SIGXFSZ (asm-generic/signal.h).
const DEFAULT_ON_EXEC = new Set([13, 25]);

/** Whether a signal mask as /proc/PID/status shows one (SigIgn, SigCgt: hex, bit N-1 for signal N) has signal `signum`. */
export function maskHas(mask: string, signum: number): boolean {
  return ((BigInt(`0x${mask}`) >> BigInt(signum - 1)) & 1n) === 1n;
}

/** The signals a SigIgn mask ignores, SIGPIPE and SIGXFSZ left out. */
export function ignoredSignals(mask: string): number[] {
  const out: number[] = [];
  for (let signum = 1; signum <= 64; signum++) {
    if (maskHas(mask, signum) && !DEFAULT_ON_EXEC.has(signum)) out.push(signum);
  }
  return out;
}

/** The container's ignored signals as the starter named in env has them, or undefined when it gives none. */
export function starterIgnoredSignals(env: NodeJS.ProcessEnv): number[] | undefined {
  const mask = env[STARTER_SIGIGN_ENV];
  if (mask === undefined) return undefined;
  if (!/^[0-9a-f]{1,16}$/.test(mask)) throw new ConfigError(STARTER_SIGIGN_ENV, mask, 'must be a signal mask of 1 to 16 hex digits, as SigIgn in /proc/PID/status');
  return ignoredSignals(mask);
}
