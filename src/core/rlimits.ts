/**
 * Pure logic of process resource limits (getrlimit(2)): the kernel's names and numbers
 * (include/uapi/asm-generic/resource.h, which x86_64 and arm64 use), and the values a
 * config gives as the 64-bit numbers prlimit(2) takes.
 */

/** Resource numbers by name. */
export const RLIMITS: ReadonlyMap<string, number> = new Map(
  [
    'RLIMIT_CPU',
    'RLIMIT_FSIZE',
    'RLIMIT_DATA',
    'RLIMIT_STACK',
    'RLIMIT_CORE',
    'RLIMIT_RSS',
    'RLIMIT_NPROC',
    'RLIMIT_NOFILE',
    'RLIMIT_MEMLOCK',
    'RLIMIT_AS',
    'RLIMIT_LOCKS',
    'RLIMIT_SIGPENDING',
    'RLIMIT_MSGQUEUE',
    'RLIMIT_NICE',
    'RLIMIT_RTPRIO',
    'RLIMIT_RTTIME',
  ].map((name, resource) => [name, resource]),
);

/** RLIM_INFINITY: no limit, (rlim_t)-1. */
export const RLIM_INFINITY = 0xffffffffffffffffn;

/**
 * A config's limit as the kernel's 64-bit value, or undefined for one JSON cannot carry
 * exactly. JSON numbers are doubles: RLIM_INFINITY as written, 18446744073709551615,
 * reads as 2^64, and stands for RLIM_INFINITY; any other value above 2^53 - 1 has lost
 * its last digits on the way and is refused rather than rounded.
 */
export function rlimitValue(n: number): bigint | undefined {
  if (n === 2 ** 64) return RLIM_INFINITY;
  return Number.isSafeInteger(n) && n >= 0 ? BigInt(n) : undefined;
}
