/**
 * Path logic inside a container root. Pure apart from the lstat/readlink queries made
 * through the syscall port.
 */
import * as posix from 'path/posix';
import { SyscallError, errnoNumber } from './errors';
import type { Syscalls } from './syscalls/types';

/** Lexically cleaned absolute path: no `.`, `..`, doubled or trailing slashes. */
export function cleanPath(p: string): string {
  const n = posix.normalize('/' + p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

/** Whether `p` is `root` or lies below it (both cleaned, absolute). */
export function isWithin(root: string, p: string): boolean {
  return root === '/' || p === root || p.startsWith(root + '/');
}

/** The path as the container sees it, from a host path inside the rootfs. */
export function containerPath(rootfs: string, hostPath: string): string {
  return rootfs === '/' ? hostPath : cleanPath(hostPath.slice(rootfs.length));
}

/** Linux's limit on symlinks followed in one lookup (path_resolution(7) says 40). */
const MAXSYMLINKS = 40;

/**
 * Joins `unsafe` onto `root` following symlinks as if `root` were `/`: an absolute link
 * restarts at `root`, `..` stops at `root`, so the result never leaves it. Components
 * that do not exist are joined lexically. This is what securejoin does for runc; the
 * hardening issue adds descriptor-based resolution on top of it.
 */
export function secureJoin(sys: Pick<Syscalls, 'lstat' | 'readlink'>, root: string, unsafe: string): string {
  const rootClean = cleanPath(root);
  let pending = unsafe.split('/').filter((c) => c !== '' && c !== '.');
  const resolved: string[] = [];
  let links = 0;
  while (pending.length) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = posix.join(rootClean, ...resolved, part);
    let isLink = false;
    try {
      isLink = sys.lstat(candidate).kind === 'symlink';
    } catch (err) {
      if (!(err instanceof SyscallError) || (err.code !== 'ENOENT' && err.code !== 'ENOTDIR')) throw err;
    }
    if (!isLink) {
      resolved.push(part);
      continue;
    }
    if (++links > MAXSYMLINKS) throw new SyscallError('readlink', errnoNumber('ELOOP'), [candidate]);
    const target = sys.readlink(candidate);
    if (target.startsWith('/')) resolved.length = 0;
    pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
  }
  return resolved.length ? posix.join(rootClean, ...resolved) : rootClean;
}

/**
 * Paths under /proc that may be mount targets: files that FUSE tools such as lxcfs emulate
 * so that top and free show the container's numbers (oci-mounts.md).
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
  '/proc/sys/kernel/ns_last_pid',
  '/proc/sys/crypto/fips_enabled',
] as const;

/**
 * Why `dest` (a resolved host path inside `rootfs`) may not be a mount target, or
 * undefined when it may: nothing may be mounted on or under the container's /proc
 * except the allowed files, since procfs mounts there could hide or fake kernel state.
 */
export function procDestinationProblem(rootfs: string, dest: string): string | undefined {
  const inside = containerPath(rootfs, dest);
  if (!isWithin('/proc', inside)) return undefined;
  if ((PROC_MOUNT_ALLOWED as readonly string[]).includes(inside)) return undefined;
  return `${JSON.stringify(inside)} cannot be mounted because it is inside /proc`;
}
