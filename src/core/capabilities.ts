/**
 * Pure logic of process capabilities (capabilities(7)): the kernel's names and numbers,
 * and the sets a config's process.capabilities lists as masks.
 */

/** Capability numbers by name, include/uapi/linux/capability.h (Linux 5.9: CAP_LAST_CAP is CAP_CHECKPOINT_RESTORE). */
export const CAPABILITIES: ReadonlyMap<string, number> = new Map(
  [
    'CAP_CHOWN',
    'CAP_DAC_OVERRIDE',
    'CAP_DAC_READ_SEARCH',
    'CAP_FOWNER',
    'CAP_FSETID',
    'CAP_KILL',
    'CAP_SETGID',
    'CAP_SETUID',
    'CAP_SETPCAP',
    'CAP_LINUX_IMMUTABLE',
    'CAP_NET_BIND_SERVICE',
    'CAP_NET_BROADCAST',
    'CAP_NET_ADMIN',
    'CAP_NET_RAW',
    'CAP_IPC_LOCK',
    'CAP_IPC_OWNER',
    'CAP_SYS_MODULE',
    'CAP_SYS_RAWIO',
    'CAP_SYS_CHROOT',
    'CAP_SYS_PTRACE',
    'CAP_SYS_PACCT',
    'CAP_SYS_ADMIN',
    'CAP_SYS_BOOT',
    'CAP_SYS_NICE',
    'CAP_SYS_RESOURCE',
    'CAP_SYS_TIME',
    'CAP_SYS_TTY_CONFIG',
    'CAP_MKNOD',
    'CAP_LEASE',
    'CAP_AUDIT_WRITE',
    'CAP_AUDIT_CONTROL',
    'CAP_SETFCAP',
    'CAP_MAC_OVERRIDE',
    'CAP_MAC_ADMIN',
    'CAP_SYSLOG',
    'CAP_WAKE_ALARM',
    'CAP_BLOCK_SUSPEND',
    'CAP_AUDIT_READ',
    'CAP_PERFMON',
    'CAP_BPF',
    'CAP_CHECKPOINT_RESTORE',
  ].map((name, number) => [name, number]),
);

const NAMES: readonly string[] = [...CAPABILITIES.keys()];

/** The name of capability `cap`, or CAP_<number> for one this table does not know. */
export function capabilityName(cap: number): string {
  return NAMES[cap] ?? `CAP_${cap}`;
}

/** The capability sets of process.capabilities, by their OCI names. */
export const CAPABILITY_SETS = ['bounding', 'effective', 'inheritable', 'permitted', 'ambient'] as const;
export type CapabilitySet = (typeof CAPABILITY_SETS)[number];

/** A config's capability lists, by name as written. */
export type CapabilityNames = Record<CapabilitySet, string[]>;

/** The lists as numbers a kernel supports, and the names that are not (unknown, or past `lastCap`). */
export interface ResolvedCapabilities {
  sets: Record<CapabilitySet, number[]>;
  unavailable: string[];
}

/**
 * The lists' numbers, keeping only capabilities up to `lastCap` (the kernel's last,
 * /proc/sys/kernel/cap_last_cap): a capability the kernel does not have can be in no set
 * (capset(2) refuses it, EPERM or EINVAL). The others are reported, each once, as runc
 * warns of "unknown or unavailable capabilities" and leaves them out.
 */
export function resolveCapabilities(names: CapabilityNames, lastCap: number): ResolvedCapabilities {
  const unavailable = new Set<string>();
  const numbers = (list: readonly string[]): number[] => {
    const out: number[] = [];
    for (const name of list) {
      const cap = CAPABILITIES.get(name);
      if (cap === undefined || cap > lastCap) unavailable.add(name);
      else if (!out.includes(cap)) out.push(cap);
    }
    return out;
  };
  const sets = Object.fromEntries(CAPABILITY_SETS.map((set) => [set, numbers(names[set])])) as Record<CapabilitySet, number[]>;
  return { sets, unavailable: [...unavailable].sort() };
}

/** A set as the bit mask capset(2) and /proc/PID/status use: bit N for capability N. */
export function capabilityMask(caps: readonly number[]): bigint {
  let mask = 0n;
  for (const cap of caps) mask |= 1n << BigInt(cap);
  return mask;
}

/** The highest capability number there can be: the sets are 64-bit masks (capset(2) takes two 32-bit words). */
const CAP_BITS = 64;

/**
 * The kernel's last capability, found with `exists` (prctl(2) PR_CAPBSET_READ, which
 * fails with EINVAL past it) by binary search: the numbers a kernel has are contiguous
 * from 0 (/proc/sys/kernel/cap_last_cap says the same, but after the jail that file is
 * the container's to forge). Capability 0 always exists.
 */
export function lastCapability(exists: (cap: number) => boolean): number {
  let known = 0;
  let past = CAP_BITS;
  while (past - known > 1) {
    const mid = (known + past) >> 1;
    if (exists(mid)) known = mid;
    else past = mid;
  }
  return known;
}
