/**
 * What the fake port keeps of each mount (FakeSyscalls): its own read-only flag, the
 * superblock of the filesystem it shows, and its propagation. Pure: the transitions, as
 * the kernel makes them, for the port to apply.
 *
 * Two read-only flags refuse a change below a mount (__mnt_is_readonly(), fs/namespace.c):
 * the mount's own (MNT_READONLY), which MS_REMOUNT|MS_BIND and mount_setattr(2) set on
 * that mount alone, and its superblock's (SB_RDONLY), which a remount without MS_BIND
 * sets for every mount of the filesystem, binds included.
 */
import { MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from '../constants';

/** A filesystem instance, which every bind of it shares. */
export interface Superblock {
  readOnly: boolean;
}

/**
 * A mount's propagation as the checks that refuse a call read it: a member of a peer
 * group (IS_MNT_SHARED), or unbindable (IS_MNT_UNBINDABLE). Whether a mount receives
 * from a master (a slave) changes no answer the fake gives, and is not kept.
 */
export interface Propagation {
  shared: boolean;
  unbindable: boolean;
}

export interface MountState {
  /** MNT_READONLY: this mount's own flag. */
  readOnly: boolean;
  sb: Superblock;
  propagation: Propagation;
}

/** A new filesystem's mount: mount(2) with MS_RDONLY makes both the superblock and the mount read-only (checked on Linux 6.18). */
export function newFilesystemMount(readOnly: boolean, sbReadOnly = readOnly): MountState {
  return { readOnly, sb: { readOnly: sbReadOnly }, propagation: { shared: false, unbindable: false } };
}

/**
 * A copy of `source` as a bind or open_tree(2) makes it (clone_mnt(), fs/namespace.c):
 * the same superblock, the mount's own flags, and a peer of a shared source; never
 * unbindable (an unbindable source is refused before).
 */
export function cloneMount(source: MountState): MountState {
  return { readOnly: source.readOnly, sb: source.sb, propagation: { shared: source.propagation.shared, unbindable: false } };
}

/**
 * The propagation after MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE
 * (change_mnt_propagation(), fs/pnode.c): MS_SHARED clears unbindable; MS_SLAVE takes a
 * mount out of its peer group and leaves unbindable as it was; MS_PRIVATE clears both;
 * MS_UNBINDABLE takes it out of its peer group too and makes it unbindable.
 */
export function changedPropagation(p: Propagation, type: bigint): Propagation {
  switch (type) {
    case MS_SHARED:
      return { shared: true, unbindable: false };
    case MS_SLAVE:
      return { shared: false, unbindable: p.unbindable };
    case MS_PRIVATE:
      return { shared: false, unbindable: false };
    case MS_UNBINDABLE:
      return { shared: false, unbindable: true };
    default:
      return p;
  }
}

/** Whether a change below a mount is refused with EROFS: its own flag or its superblock's. */
export function isReadOnly(state: MountState): boolean {
  return state.readOnly || state.sb.readOnly;
}
