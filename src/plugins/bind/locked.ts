/**
 * Pure decisions about the mount flags a user namespace locks.
 *
 * A mount copied into a mount namespace owned by a less privileged user namespace keeps
 * its read-only, nodev, nosuid, noexec and atime flags locked (MNT_LOCK_*,
 * mount_namespaces(7)): a remount that would clear one of them is EPERM
 * (can_change_locked_flags, fs/namespace.c). A bind of such a mount, remounted with the
 * config's flags, must then keep them, as runc 1.2 does.
 */
import { MS_NOATIME, MS_NODEV, MS_NODIRATIME, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_RELATIME, MS_STRICTATIME } from '../../core/constants';
import { mountFlagsOfStatfs } from '../../core/statfs-flags';

/** The atime modes (MNT_NOATIME, MNT_RELATIME, or neither: strictatime) and nodiratime. */
const ATIME_FLAGS = MS_NOATIME | MS_RELATIME | MS_STRICTATIME | MS_NODIRATIME;

/** The flags a user namespace locks: MNT_LOCK_READONLY, _NODEV, _NOSUID, _NOEXEC and _ATIME. */
export const LOCKABLE_FLAGS = MS_RDONLY | MS_NODEV | MS_NOSUID | MS_NOEXEC | ATIME_FLAGS;

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

/** The lockable flags by the words that set and clear them (mount(8)). */
const LOCKABLE_WORDS: readonly [bigint, string, string][] = [
  [MS_RDONLY, 'ro', 'rw'],
  [MS_NOSUID, 'nosuid', 'suid'],
  [MS_NODEV, 'nodev', 'dev'],
  [MS_NOEXEC, 'noexec', 'exec'],
];

/** The atime flags by the words that set and clear them: a locked atime mode may not change either way (MNT_LOCK_ATIME). */
const ATIME_WORDS: readonly [bigint, string, string][] = [
  [MS_NOATIME, 'noatime', 'atime'],
  [MS_RELATIME, 'relatime', 'norelatime'],
  [MS_NODIRATIME, 'nodiratime', 'diratime'],
];

/** An atime mode and nodiratime as mount words: strictatime for neither MS_NOATIME nor MS_RELATIME. */
function atimeWords(flags: bigint): string {
  const mode = (flags & MS_NOATIME) !== 0n ? 'noatime' : (flags & MS_RELATIME) !== 0n ? 'relatime' : 'strictatime';
  return (flags & MS_NODIRATIME) !== 0n ? `${mode},nodiratime` : mode;
}

/**
 * Why a remount keepLockedFlags gave up on was refused, in the config's words: the
 * lockable flags it would take off the mount (`stFlags`, its statfs f_flags), the atime
 * mode it asks for where the mount has another, or else the atime flags it clears. Undefined when it asks for no such
 * change (the refusal has another cause).
 */
export function lockedChange(requested: bigint, cleared: bigint, stFlags: bigint): string | undefined {
  const has = mountFlagsOfStatfs(stFlags);
  const clearing = (words: readonly [bigint, string, string][]): string[] => words.filter(([flag]) => (has & cleared & flag) !== 0n).map(([, set, clear]) => `${clear} (the source's mount is ${set})`);
  const changes = clearing(LOCKABLE_WORDS);
  if ((requested & ATIME_FLAGS) !== 0n && (requested & ATIME_FLAGS) !== (has & ATIME_FLAGS)) {
    changes.push(`${atimeWords(requested)} (the source's mount is ${atimeWords(has)})`);
  } else {
    changes.push(...clearing(ATIME_WORDS));
  }
  if (changes.length === 0) return undefined;
  return `${changes.join(', ')}: a mount from a more privileged mount namespace keeps these flags locked in a user namespace`;
}
