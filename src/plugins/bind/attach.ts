/**
 * A plain bind made as a detached copy of its source attached onto the target, for a bind
 * that has steps after its mount (its flags, propagation, a relabel, recursive
 * attributes): open_tree(2) with OPEN_TREE_CLONE copies the source's mount (with the
 * mounts below it for rbind: AT_RECURSIVE), as MS_BIND copies it (both go through
 * __do_loopback(), fs/namespace.c: the same checks, and the copy joins the source's peer
 * group when the source is shared), and move_mount(2) attaches it onto the target's
 * descriptor, where attach_recursive_mnt() makes it what a bind made there by mount(2)
 * would be. The copy's descriptor then names the new mount, so the steps act through it
 * and the mount is not opened again by name and checked (mounting.ts afterAttach against
 * afterMount): five calls fewer for a directory target, three for a file.
 *
 * A bind with flags gets them on its copy before it is attached, so it is never seen
 * without them and needs no remount after: the attributes MS_REMOUNT|MS_BIND would give it
 * (attr.ts). A bind (not rbind) gets them in the call that makes the copy,
 * open_tree_attr(2) (Linux 6.15): with AT_RECURSIVE it would give them to every mount of
 * the copy, where a remount changes the top one. An rbind, or a bind where
 * open_tree_attr(2) is missing (ENOSYS: noted for the run), gets them from mount_setattr(2)
 * (Linux 5.12) on its copy's top mount (no AT_RECURSIVE), as the remount would. The copy
 * is attached as it is and remounted, which keeps a locked flag where the config allows it
 * (BindMountHandler.remount), where mount_setattr(2) is missing too (ENOSYS, before 5.12)
 * or does not know an attribute (EINVAL: MOUNT_ATTR_NOSYMFOLLOW, which the attributes
 * always set or clear, before 5.14; the copy's root leaves no other cause), both noted for
 * the run, and where either call is refused for this bind: EPERM (a flag a user namespace
 * locked on the source that the attributes would clear, or a seccomp filter, at the cost
 * of one refused call per bind), EACCES (open_tree_attr(2): a directory on the source's
 * path not searchable; mount_setattr(2): a security module), EINVAL from
 * open_tree_attr(2) (an unbindable source, which open_tree(2) and then mount(2) answer
 * with their own error). After open_tree_attr(2) refused a bind with EPERM or EACCES,
 * mount_setattr(2) is not tried: a locked flag refuses it alike (a seccomp filter that
 * refuses open_tree_attr(2) alone leaves the bind to the remount).
 *
 * A bind with no step after it stays one mount(2) call. Where open_tree(2) or
 * move_mount(2) is refused (a kernel before Linux 5.2 has neither: ENOSYS; a seccomp
 * filter may refuse them: ENOSYS or EPERM; a security module may allow a bind's mount(2)
 * and not move_mount(2): EACCES) or answers EINVAL (a directory onto a file is EINVAL for
 * move_mount(2) where mount(2) says ENOTDIR; an unbindable source is EINVAL for both),
 * nothing is attached: closing the copy's descriptor unmounts it (dissolve_on_fput()),
 * and the bind is made with mount(2), which succeeds or refuses it with its own error, as
 * runc's does. After a refusal the run makes its other binds with mount(2) at once. Any
 * other error is the bind's.
 */
import type { MountSpec } from '../../core/config/model';
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, MS_REC, O_CLOEXEC, OPEN_TREE_CLONE } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { attachTree } from '../../core/idmapped-tree';
import type { Syscalls } from '../../core/syscalls/types';
import type { MountAttrChange } from './attr';

/** Where a run notes, in RunContext.shared, that open_tree(2) or move_mount(2) is refused to it. */
const REFUSED_KEY = 'bind.copyRefused';

/** Where a run notes that open_tree_attr(2) is missing (ENOSYS). */
const NO_ATTR_KEY = 'bind.copyAttrMissing';

/** Where a run notes that mount_setattr(2) is missing (ENOSYS) or does not know the attributes (EINVAL). */
const NO_SETATTR_KEY = 'bind.copySetattrMissing';

/** The errors that leave a bind to mount(2) (see the top of this file); the first three are refusals, and mark the run. */
const REFUSALS: ReadonlySet<string> = new Set(['ENOSYS', 'EPERM', 'EACCES']);
const TO_MOUNT: ReadonlySet<string> = new Set([...REFUSALS, 'EINVAL']);

/** A copy attached: its descriptor, and whether it was given the bind's flags before the attach (by open_tree_attr(2) or mount_setattr(2)). */
export interface AttachedCopy {
  tree: number;
  flagsSet: boolean;
}

/**
 * The copy of `m.source` attached onto the target open as `targetFd`, its descriptor the
 * caller's to close; made with `attrs` (the bind's flags) where the kernel takes them on
 * the copy (see the top of this file). Undefined, with nothing attached, when open_tree(2)
 * or move_mount(2) answers an error that leaves the bind to mount(2).
 */
export function attachCopy(sys: Syscalls, m: MountSpec, targetFd: number, shared: Map<string, unknown>, attrs?: MountAttrChange): AttachedCopy | undefined {
  if (shared.has(REFUSED_KEY)) return undefined;
  const recursive = (m.flags & MS_REC) !== 0n;
  const flags = OPEN_TREE_CLONE | O_CLOEXEC | (recursive ? AT_RECURSIVE : 0);
  let tree: number | undefined;
  try {
    tree = attrs !== undefined && !recursive ? copyWithAttrs(sys, m.source, flags, attrs, shared) : undefined;
    let flagsSet = tree !== undefined;
    if (tree === undefined) {
      tree = sys.openTree(AT_FDCWD, m.source, flags);
      // Not after open_tree_attr(2) refused this bind: only after it was missing.
      if (attrs !== undefined && (recursive || shared.has(NO_ATTR_KEY))) flagsSet = setOnCopy(sys, tree, attrs, shared);
    }
    attachTree(sys, tree, m.source, targetFd);
    return { tree, flagsSet };
  } catch (err) {
    if (tree !== undefined) sys.close(tree);
    if (!(err instanceof SyscallError) || !TO_MOUNT.has(err.code)) throw err;
    if (REFUSALS.has(err.code)) shared.set(REFUSED_KEY, true);
    return undefined;
  }
}

/** The copy made by open_tree_attr(2) with `attrs`; undefined where the call is missing or refused for this bind (see the top of this file). */
function copyWithAttrs(sys: Syscalls, source: string, flags: number, attrs: MountAttrChange, shared: Map<string, unknown>): number | undefined {
  if (shared.has(NO_ATTR_KEY)) return undefined;
  try {
    return sys.openTreeAttr(AT_FDCWD, source, flags, attrs.attrSet, attrs.attrClr, 0n);
  } catch (err) {
    if (!(err instanceof SyscallError) || !TO_MOUNT.has(err.code)) throw err;
    if (err.code === 'ENOSYS') shared.set(NO_ATTR_KEY, true);
    return undefined;
  }
}

/**
 * Whether mount_setattr(2) gave the detached copy `tree` `attrs`, on its top mount only
 * (no AT_RECURSIVE); false where the call is missing or refused for this bind (see the top
 * of this file), the copy unchanged.
 */
function setOnCopy(sys: Syscalls, tree: number, attrs: MountAttrChange, shared: Map<string, unknown>): boolean {
  if (shared.has(NO_SETATTR_KEY)) return false;
  try {
    sys.mountSetattr(tree, '', AT_EMPTY_PATH, attrs.attrSet, attrs.attrClr, 0n);
    return true;
  } catch (err) {
    if (!(err instanceof SyscallError) || !TO_MOUNT.has(err.code)) throw err;
    if (err.code === 'ENOSYS' || err.code === 'EINVAL') shared.set(NO_SETATTR_KEY, true);
    return false;
  }
}
