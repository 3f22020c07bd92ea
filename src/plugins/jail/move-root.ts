import { MNT_DETACH, MS_MOVE, MS_REC, MS_SLAVE } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import type { MountTable } from '../../core/mountinfo';
import type { Syscalls } from '../../core/syscalls/types';
import { chrootHere } from './chroot';
import { hostPseudoMounts, pseudoMountParents } from './pseudo-mounts';

/**
 * The no-pivot jail (runc 1.1 msMoveRoot): the host's full proc and sysfs mounts are
 * taken away, the rootfs mount is moved onto "/" with MS_MOVE, and the process chroots
 * into it. The current directory must be the rootfs.
 *
 * First "/" and the mounts the pseudo mounts sit on become slaves, each itself, not what
 * is below it (pseudoMountParents): mounting and unmounting propagate to the peers of the
 * parent mount (mount_namespaces(7)). With a shared "/" (linux.rootfsPropagation shared)
 * those peers are in the namespace mountkit started in, the host's, which would lose its
 * /proc and /sys and have its root covered by the container's; runc 1.1.5 does both to
 * it. A slave has no peers and still gets its master's mounts; a private mount stays
 * private.
 */
export function moveRootInto(sys: Syscalls, rootfs: string, table: MountTable): void {
  for (const parent of pseudoMountParents(table, rootfs)) sys.mount(null, parent, null, MS_SLAVE, null);
  for (const mountpoint of hostPseudoMounts(table, rootfs)) hidePseudoMount(sys, mountpoint);
  sys.mount(rootfs, '/', null, MS_MOVE, null);
  chrootHere(sys);
}

/**
 * Lazily unmounts one host proc or sysfs mount, after making it MS_SLAVE|MS_REC so the
 * unmount does not propagate to the host. ENOENT on the first call means a mount above
 * it was already detached, taking it along: nothing left to do. umount2(2) fails with
 * EPERM without CAP_SYS_ADMIN over the namespace and with EINVAL on a mount locked by a
 * less privileged user namespace (mount_namespaces(7)); then an empty tmpfs is mounted
 * over it instead, as runc does.
 */
function hidePseudoMount(sys: Syscalls, mountpoint: string): void {
  try {
    sys.mount(null, mountpoint, null, MS_SLAVE | MS_REC, null);
  } catch (err) {
    if (err instanceof SyscallError && err.code === 'ENOENT') return;
    throw err;
  }
  try {
    sys.umount2(mountpoint, MNT_DETACH);
  } catch (err) {
    if (!(err instanceof SyscallError) || (err.code !== 'EINVAL' && err.code !== 'EPERM')) throw err;
    sys.mount('tmpfs', mountpoint, 'tmpfs', 0n, null);
  }
}
