/**
 * The per-mount flags of mount(2) that the new mount API takes as MOUNT_ATTR_* bits of
 * their own (include/uapi/linux/mount.h; attr_flags_to_mnt_flags(), fs/namespace.c).
 * Left out: MS_RDONLY, a mount's and a superblock's flag whose attribute each caller
 * treats apart, and the atime flags, whose attributes are the values of one field,
 * MOUNT_ATTR__ATIME, where MS_NODIRATIME stays a bit of its own.
 */
import { MOUNT_ATTR_NODEV, MOUNT_ATTR_NODIRATIME, MOUNT_ATTR_NOEXEC, MOUNT_ATTR_NOSUID, MOUNT_ATTR_NOSYMFOLLOW, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW } from './constants';

/** Each mount(2) flag and its MOUNT_ATTR_* bit. */
export const MOUNT_FLAG_ATTRS: readonly (readonly [flag: bigint, attr: bigint])[] = [
  [MS_NOSUID, MOUNT_ATTR_NOSUID],
  [MS_NODEV, MOUNT_ATTR_NODEV],
  [MS_NOEXEC, MOUNT_ATTR_NOEXEC],
  [MS_NODIRATIME, MOUNT_ATTR_NODIRATIME],
  [MS_NOSYMFOLLOW, MOUNT_ATTR_NOSYMFOLLOW],
];
