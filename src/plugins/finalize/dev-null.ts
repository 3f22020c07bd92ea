/**
 * The check of the container's /dev/null before it is bind-mounted over masked files.
 */
import { major, makedev, minor } from '../../core/constants';
import { StepError } from '../../core/errors';
import type { FileStat, Syscalls } from '../../core/syscalls/types';

export const DEV_NULL = '/dev/null';

/** The null device is character device 1:3 (Documentation/admin-guide/devices.txt). */
export function isNullDevice(st: Pick<FileStat, 'kind' | 'rdev'>): boolean {
  return st.kind === 'char' && st.rdev === makedev(1, 3);
}

/**
 * Refuses a /dev/null that is not the null device. Binding whatever sits there over
 * masked files would expose it instead of hiding them: a link to a writable /proc file
 * turns every mask into a write gadget (CVE-2025-31133). stat follows links, as the bind
 * does, so the node checked is the node bound.
 */
export function verifyDevNull(sys: Syscalls): void {
  const st = sys.stat(DEV_NULL);
  if (isNullDevice(st)) return;
  const found = st.kind === 'char' || st.kind === 'block' ? `${st.kind} device ${major(st.rdev)}:${minor(st.rdev)}` : `a ${st.kind}`;
  throw new StepError(`${DEV_NULL} is ${found}, not the null device (char 1:3); refusing to mask paths with it`);
}
