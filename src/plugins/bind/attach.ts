/**
 * A plain bind made as a detached copy of its source attached onto the target, for a bind
 * that has steps after its mount (a remount for its flags, propagation, a relabel,
 * recursive attributes): open_tree(2) with OPEN_TREE_CLONE copies the source's mount (with
 * the mounts below it for rbind: AT_RECURSIVE), as MS_BIND copies it (both go through
 * __do_loopback(), fs/namespace.c: the same checks, and the copy joins the source's peer
 * group when the source is shared), and move_mount(2) attaches it onto the target's
 * descriptor, where attach_recursive_mnt() makes it what a bind made there by mount(2)
 * would be. The copy's descriptor then names the new mount, so the steps act through it
 * and the mount is not opened again by name and checked (mounting.ts afterAttach against
 * afterMount): five calls fewer for a directory target, three for a file.
 *
 * A bind with no step after it stays one mount(2) call. Where either call is refused (a
 * kernel before Linux 5.2 has neither: ENOSYS; a seccomp filter may refuse them: ENOSYS
 * or EPERM; a security module may allow a bind's mount(2) and not move_mount(2): EACCES)
 * or answers EINVAL (a directory onto a file is EINVAL for move_mount(2) where mount(2)
 * says ENOTDIR; an unbindable source is EINVAL for both), nothing is attached: closing the
 * copy's descriptor unmounts it (dissolve_on_fput()), and the bind is made with mount(2),
 * which succeeds or refuses it with its own error, as runc's does. After a refusal the
 * run makes its other binds with mount(2) at once. Any other error is the bind's.
 */
import type { MountSpec } from '../../core/config/model';
import { AT_FDCWD, AT_RECURSIVE, MS_REC, O_CLOEXEC, OPEN_TREE_CLONE } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { attachTree } from '../../core/idmapped-tree';
import type { Syscalls } from '../../core/syscalls/types';

/** Where a run notes, in RunContext.shared, that open_tree(2) or move_mount(2) is refused to it. */
const REFUSED_KEY = 'bind.copyRefused';

/** The errors that leave a bind to mount(2) (see the top of this file); the first three are refusals, and mark the run. */
const REFUSALS: ReadonlySet<string> = new Set(['ENOSYS', 'EPERM', 'EACCES']);
const TO_MOUNT: ReadonlySet<string> = new Set([...REFUSALS, 'EINVAL']);

/**
 * The copy of `m.source` attached onto the target open as `targetFd`, its descriptor the
 * caller's to close; undefined, with nothing attached, when open_tree(2) or move_mount(2)
 * answers an error that leaves the bind to mount(2).
 */
export function attachCopy(sys: Syscalls, m: MountSpec, targetFd: number, shared: Map<string, unknown>): number | undefined {
  if (shared.has(REFUSED_KEY)) return undefined;
  let tree: number | undefined;
  try {
    tree = sys.openTree(AT_FDCWD, m.source, OPEN_TREE_CLONE | O_CLOEXEC | ((m.flags & MS_REC) !== 0n ? AT_RECURSIVE : 0));
    attachTree(sys, tree, m.source, targetFd);
    return tree;
  } catch (err) {
    if (tree !== undefined) sys.close(tree);
    if (!(err instanceof SyscallError) || !TO_MOUNT.has(err.code)) throw err;
    if (REFUSALS.has(err.code)) shared.set(REFUSED_KEY, true);
    return undefined;
  }
}
