/**
 * The container's /dev/null, checked before it is bind-mounted over masked files.
 */
import { major, makedev, minor } from '../../core/constants';
import { StepError } from '../../core/errors';
import { openInRoot } from '../../core/in-root';
import type { FileStat, Syscalls } from '../../core/syscalls/types';

export const DEV_NULL = '/dev/null';

/** The null device is character device 1:3 (Documentation/admin-guide/devices.txt). */
export function isNullDevice(st: Pick<FileStat, 'kind' | 'rdev'>): boolean {
  return st.kind === 'char' && st.rdev === makedev(1, 3);
}

/**
 * Opens /dev/null inside the container's root as an O_PATH descriptor (the caller's to
 * close) and refuses it unless fstat(2) on that descriptor shows the null device. Binding
 * whatever sits there over masked files would expose it instead of hiding them: a link to
 * a writable /proc file turns every mask into a write gadget (CVE-2025-31133). The bind is
 * made from this descriptor, so the node checked is the node bound.
 */
export function openDevNull(sys: Syscalls): number {
  const fd = openInRoot(sys, '/', DEV_NULL);
  let st: FileStat;
  try {
    st = sys.fstat(fd);
  } catch (err) {
    sys.close(fd);
    throw err;
  }
  if (isNullDevice(st)) return fd;
  sys.close(fd);
  const found = st.kind === 'char' || st.kind === 'block' ? `${st.kind} device ${major(st.rdev)}:${minor(st.rdev)}` : `a ${st.kind}`;
  throw new StepError(`${DEV_NULL} is ${found}, not the null device (char 1:3); refusing to mask paths with it`);
}
