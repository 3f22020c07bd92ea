/**
 * Marking a process's descriptors close-on-exec, so that what it executes gets only the
 * ones it is given: close_range(2) with CLOSE_RANGE_CLOEXEC where the kernel takes it,
 * else one fcntl(2) for each descriptor /proc lists.
 */
import { SyscallError } from './errors';
import { THREAD_SELF_FD } from './in-root';
import type { Syscalls } from './syscalls/types';

/**
 * How close_range(2) answers where it cannot mark descriptors close-on-exec: ENOSYS before
 * Linux 5.9, EINVAL for CLOSE_RANGE_CLOEXEC before 5.11, EPERM from a seccomp filter
 * that does not allow it.
 */
const NO_CLOSE_RANGE_CLOEXEC: ReadonlySet<string> = new Set(['ENOSYS', 'EINVAL', 'EPERM']);

const DECIMAL = /^\d+$/;

/**
 * Every descriptor from `first` up closes on execve(2). Without close_range(2), each one
 * THREAD_SELF_FD lists is marked, after `beforeListing` (which may refuse a /proc that is
 * not a procfs); the listing's own descriptor is in it and closed by the time it is
 * marked (EBADF).
 */
export function markCloseOnExec(sys: Syscalls, first: number, beforeListing?: () => void): void {
  try {
    sys.cloexecFrom(first);
    return;
  } catch (err) {
    if (!(err instanceof SyscallError) || !NO_CLOSE_RANGE_CLOEXEC.has(err.code)) throw err;
  }
  beforeListing?.();
  for (const name of sys.readdir(THREAD_SELF_FD)) {
    // proc(5): one entry per open descriptor of the calling thread, named by its number.
    if (!DECIMAL.test(name)) continue;
    const fd = Number(name);
    if (fd < first) continue;
    try {
      sys.setCloexec(fd);
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EBADF') throw err;
    }
  }
}
