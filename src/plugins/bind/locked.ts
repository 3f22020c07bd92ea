/**
 * Pure decisions about the mount flags a user namespace locks.
 *
 * A mount copied into a mount namespace owned by a less privileged user namespace keeps
 * its read-only, nodev, nosuid, noexec and atime flags locked (MNT_LOCK_*,
 * mount_namespaces(7)): a remount that would clear one of them is EPERM
 * (can_change_locked_flags, fs/namespace.c). A bind of such a mount, remounted with the
 * config's flags, must then keep them, as runc 1.2 does.
 */
import {
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_RDONLY,
  MS_RELATIME,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  ST_MANDLOCK,
  ST_NOATIME,
  ST_NODEV,
  ST_NODIRATIME,
  ST_NOEXEC,
  ST_NOSUID,
  ST_NOSYMFOLLOW,
  ST_RDONLY,
  ST_RELATIME,
  ST_SYNCHRONOUS,
} from '../../core/constants';

/** Each statfs(2) f_flags bit and the mount(2) flag it reports (calculate_f_flags, fs/statfs.c). */
const STATFS_TO_MOUNT: readonly (readonly [bigint, bigint])[] = [
  [ST_RDONLY, MS_RDONLY],
  [ST_NOSUID, MS_NOSUID],
  [ST_NODEV, MS_NODEV],
  [ST_NOEXEC, MS_NOEXEC],
  [ST_SYNCHRONOUS, MS_SYNCHRONOUS],
  [ST_MANDLOCK, MS_MANDLOCK],
  [ST_NOATIME, MS_NOATIME],
  [ST_NODIRATIME, MS_NODIRATIME],
  [ST_RELATIME, MS_RELATIME],
  [ST_NOSYMFOLLOW, MS_NOSYMFOLLOW],
];

/** The atime modes, one of which a mount has (MNT_NOATIME, MNT_RELATIME, or neither: strictatime). */
const ATIME_MODES = MS_NOATIME | MS_RELATIME | MS_STRICTATIME;
const ATIME_FLAGS = ATIME_MODES | MS_NODIRATIME;

/** The flags a user namespace locks: MNT_LOCK_READONLY, _NODEV, _NOSUID, _NOEXEC and _ATIME. */
export const LOCKABLE_FLAGS = MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC | ATIME_FLAGS;

/**
 * A mount's flags as mount(2) flags, from statfs(2) f_flags. Strictatime is stored as the
 * absence of noatime and relatime, so it is added when neither is there.
 */
export function mountFlagsOfStatfs(stFlags: bigint): bigint {
  let flags = 0n;
  for (const [st, ms] of STATFS_TO_MOUNT) if ((stFlags & st) !== 0n) flags |= ms;
  return (flags & ATIME_MODES) === 0n ? flags | MS_STRICTATIME : flags;
}

/**
 * The flags to remount a bind with after the kernel refused `requested` (EPERM): the
 * requested ones plus the lockable flags the mount has (`stFlags`, its statfs f_flags).
 * Undefined when that would not be what the config asked for, and the refusal stands: it
 * asked to clear a flag the mount has (`cleared`), or for an atime mode the mount does
 * not have (an inherited noatime would silently win over a requested relatime, and a
 * requested strictatime would override both).
 */
export function keepLockedFlags(requested: bigint, cleared: bigint, stFlags: bigint): bigint | undefined {
  const has = mountFlagsOfStatfs(stFlags);
  if ((has & cleared & LOCKABLE_FLAGS) !== 0n) return undefined;
  if ((requested & ATIME_FLAGS) !== 0n && (requested & ATIME_FLAGS) !== (has & ATIME_FLAGS)) return undefined;
  return requested | (has & LOCKABLE_FLAGS);
}
