/**
 * Where the container's /dev is on the host.
 */
import { secureJoin } from '../../core/paths';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * The container's /dev as a host path, resolved inside the rootfs at the time of the call:
 * a /dev that an earlier mount turned into a symlink still resolves below the rootfs.
 * Entries are then joined onto it, so unlink and symlink act on the entry itself, never on
 * what an existing link there points to.
 */
export function devDirectory(sys: Pick<Syscalls, 'lstat' | 'readlink'>, rootfs: string): string {
  return secureJoin(sys, rootfs, '/dev');
}
