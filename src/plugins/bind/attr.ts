/**
 * A bind's flags as the mount attributes of its detached copy, so that open_tree_attr(2)
 * or mount_setattr(2) gives the copy what MS_REMOUNT|MS_BIND would give the attached bind.
 *
 * MS_REMOUNT|MS_BIND sets the mount's own flags to exactly those given (path_mount() and
 * do_reconfigure_mnt(), fs/namespace.c): read-only, nosuid, nodev, noexec and
 * nosymfollow each set when given and cleared when not; the atime mode is the mount's own
 * unless an atime flag is given (MS_NOATIME, MS_NODIRATIME, MS_RELATIME, MS_STRICTATIME),
 * and then MS_STRICTATIME wins over MS_NOATIME, relatime is the default, and nodiratime
 * is set or cleared with it. Other flags (MS_SYNCHRONOUS, MS_LAZYTIME, MS_SILENT) are the
 * superblock's or the call's, which neither call changes for a bind.
 *
 * mount_setattr(2)'s atime mode is a value, not a bit: it is set only with the whole
 * MOUNT_ATTR__ATIME field cleared (build_mount_kattr()).
 */
import {
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MS_NOATIME,
  MS_NODIRATIME,
  MS_RDONLY,
  MS_RELATIME,
  MS_STRICTATIME,
} from '../../core/constants';
import { MOUNT_FLAG_ATTRS } from '../../core/mount-attrs';

/** The flags each set or cleared by a remount, and the attribute of each: all but the atime ones. */
const SET_OR_CLEARED: readonly (readonly [bigint, bigint])[] = [[MS_RDONLY, MOUNT_ATTR_RDONLY], ...MOUNT_FLAG_ATTRS.filter(([flag]) => flag !== MS_NODIRATIME)];

/** The flags whose presence makes a remount set the atime mode rather than keep it. */
const ATIME_GIVEN = MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME;

/** attr_set and attr_clr of struct mount_attr. */
export interface MountAttrChange {
  attrSet: bigint;
  attrClr: bigint;
}

/** The attributes that give a bind's copy the mount flags MS_REMOUNT|MS_BIND with `flags` would give it. */
export function remountAttrs(flags: bigint): MountAttrChange {
  let attrSet = 0n;
  let attrClr = 0n;
  for (const [flag, attr] of SET_OR_CLEARED) {
    if ((flags & flag) !== 0n) attrSet |= attr;
    else attrClr |= attr;
  }
  if ((flags & ATIME_GIVEN) === 0n) return { attrSet, attrClr };
  attrClr |= MOUNT_ATTR__ATIME;
  attrSet |= (flags & MS_STRICTATIME) !== 0n ? MOUNT_ATTR_STRICTATIME : (flags & MS_NOATIME) !== 0n ? MOUNT_ATTR_NOATIME : MOUNT_ATTR_RELATIME;
  if ((flags & MS_NODIRATIME) !== 0n) attrSet |= MOUNT_ATTR_NODIRATIME;
  else attrClr |= MOUNT_ATTR_NODIRATIME;
  return { attrSet, attrClr };
}
