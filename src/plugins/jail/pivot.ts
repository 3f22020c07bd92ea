import { MNT_DETACH, MS_REC, MS_SLAVE, O_DIRECTORY, O_RDONLY } from '../../core/constants';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * pivot_root(2) into `rootfs` without a put_old directory in the image.
 *
 * pivot_root(2): new_root and put_old may be the same directory; the old root is then
 * mounted on top of new_root. So the process fchdir()s into the rootfs, pivots ".", ".",
 * fchdir()s to the old root through the descriptor taken before (the kernel does not
 * promise what the cwd is after the call), and lazily unmounts it: umount2(2)
 * MNT_DETACH takes it away although the process still stands in it.
 *
 * Before the unmount, the old root becomes MS_SLAVE|MS_REC so the unmount cannot
 * propagate to the host's peers; runc prefers slave to private because a private copy
 * would keep references to host mounts while the host may be tearing them down.
 *
 * Both descriptors are closed on every path; the new root's first.
 */
export function pivotInto(sys: Syscalls, rootfs: string): void {
  const oldRoot = sys.open('/', O_DIRECTORY | O_RDONLY, 0);
  try {
    const newRoot = sys.open(rootfs, O_DIRECTORY | O_RDONLY, 0);
    try {
      sys.fchdir(newRoot);
      sys.pivotRoot('.', '.');
      sys.fchdir(oldRoot);
      sys.mount(null, '.', null, MS_SLAVE | MS_REC, null);
      sys.umount2('.', MNT_DETACH);
      sys.chdir('/');
    } finally {
      sys.close(newRoot);
    }
  } finally {
    sys.close(oldRoot);
  }
}
