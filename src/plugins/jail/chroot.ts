import type { Syscalls } from '../../core/syscalls/types';

/**
 * chroot(2) to the current directory, then chdir("/"): chroot changes the root only, and a
 * cwd left outside the new root would let ".." walk out of it.
 */
export function chrootHere(sys: Syscalls): void {
  sys.chroot('.');
  sys.chdir('/');
}
