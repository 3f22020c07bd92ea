/**
 * Pure path logic for container roots: lexical cleaning, containment, and which
 * destinations may be mounted on. Lookups inside a root are in-root.ts.
 */
import posix = require('path/posix');

/**
 * What lexical cleaning changes in an absolute path: a slash followed by another, by `.`
 * or `..` as a whole component, or ending the path.
 */
const UNCLEAN = /\/(?:\.{1,2})?(?:\/|$)/;

/** Lexically cleaned absolute path: no `.`, `..`, doubled or trailing slashes. */
export function cleanPath(p: string): string {
  const abs = p.startsWith('/') ? p : '/' + p;
  // A path that is clean already (most are) is returned as it is: normalize walks it a
  // character at a time, several microseconds a path while the process is cold.
  if (abs === '/' || !UNCLEAN.test(abs)) return abs;
  const n = posix.normalize(abs);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Whether `p` is `root` or lies below it (both cleaned, absolute). */
export function isWithin(root: string, p: string): boolean {
  return root === '/' || p === root || p.startsWith(root + '/');
}

/**
 * The path as the container sees it, from a host path inside the rootfs. A host path
 * outside it (a lookup that escaped the root, which must never happen) is an error, not a
 * path the container could see.
 */
export function containerPath(rootfs: string, hostPath: string): string {
  if (!isWithin(rootfs, hostPath)) throw new Error(`${JSON.stringify(hostPath)} is outside the root ${JSON.stringify(rootfs)}`);
  return rootfs === '/' ? hostPath : cleanPath(hostPath.slice(rootfs.length));
}

/** Linux's limit on symlinks followed in one lookup (path_resolution(7) says 40). */
export const MAXSYMLINKS = 40;

/**
 * Paths under /proc that may be mount targets: files that FUSE tools such as lxcfs emulate
 * so that top and free show the container's numbers (oci-mounts.md). runc 1.1.5's list,
 * and /proc/sys/crypto/fips_enabled from runc 1.2's.
 */
export const PROC_MOUNT_ALLOWED = [
  '/proc/cpuinfo',
  '/proc/diskstats',
  '/proc/meminfo',
  '/proc/stat',
  '/proc/swaps',
  '/proc/uptime',
  '/proc/loadavg',
  '/proc/slabinfo',
  '/proc/net/dev',
  '/proc/sys/kernel/ns_last_pid',
  '/proc/sys/crypto/fips_enabled',
] as const;

/**
 * Why `inside` (a destination as resolved inside the root, every link followed) may not
 * be a mount target, or undefined when it may: nothing may be mounted on or under the
 * container's /proc except the allowed files, since mounts there could hide or fake
 * kernel state. /proc itself takes a procfs (the proc handler's, or a bind of one, which
 * the bind handler checks and then mounts without this check).
 */
export function procDestinationProblem(inside: string): string | undefined {
  if (inside === '/proc') return '"/proc" takes only a proc filesystem, or a bind of one';
  if (!isWithin('/proc', inside)) return undefined;
  if ((PROC_MOUNT_ALLOWED as readonly string[]).includes(inside)) return undefined;
  return `${JSON.stringify(inside)} cannot be mounted because it is inside /proc`;
}
