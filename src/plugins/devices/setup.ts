/**
 * Whether the /dev steps run, and where the container's /dev is on the host.
 */
import type { RootfsConfig } from '../../core/config/model';
import { cleanPath, secureJoin } from '../../core/paths';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * False when a bind mount targets /dev: the caller brought a complete /dev (often the
 * host's), and nodes, ptmx and links created in it would land in that source directory.
 * runc makes the same decision (needsSetupDev).
 */
export function needsDevSetup(config: RootfsConfig): boolean {
  return !config.mounts.some((m) => m.type === 'bind' && cleanPath(m.destination) === '/dev');
}

/**
 * The container's /dev as a host path, resolved inside the rootfs at the time of the call:
 * a /dev that an earlier mount turned into a symlink still resolves below the rootfs.
 * Entries are then joined onto it, so unlink and symlink act on the entry itself, never on
 * what an existing link there points to.
 */
export function devDirectory(sys: Pick<Syscalls, 'lstat' | 'readlink'>, rootfs: string): string {
  return secureJoin(sys, rootfs, '/dev');
}
