/**
 * A mount's flags as statfs(2) reports them (f_flags, ST_* bits), read as mount(2)
 * flags (MS_*): what a remount must pass on to keep them.
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
} from './constants';

/** Each statfs(2) f_flags bit and the mount(2) flag it reports (calculate_f_flags, fs/statfs.c). */
export const STATFS_TO_MOUNT: readonly (readonly [bigint, bigint])[] = [
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

/**
 * A mount's flags as mount(2) flags, from statfs(2) f_flags. Strictatime is stored as the
 * absence of noatime and relatime, so it is added when neither is there.
 */
export function mountFlagsOfStatfs(stFlags: bigint): bigint {
  let flags = 0n;
  for (const [st, ms] of STATFS_TO_MOUNT) if ((stFlags & st) !== 0n) flags |= ms;
  return (flags & ATIME_MODES) === 0n ? flags | MS_STRICTATIME : flags;
}

