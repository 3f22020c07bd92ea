/**
 * The read-only remount the finalize steps share (tmpfs and /dev mounts, readonly paths,
 * the rootfs).
 */
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_NOSYMFOLLOW, MS_RDONLY, MS_REMOUNT } from '../../core/constants';
import { mountFlagsOfStatfs } from '../../core/statfs-flags';
import { StepError, SyscallError } from '../../core/errors';
import type { Syscalls } from '../../core/syscalls/types';

/** Attempts on a busy mount before giving up (runc's remountReadonly makes five). */
export const REMOUNT_ATTEMPTS = 5;
/** Pause between two attempts, in milliseconds (runc's value). */
export const REMOUNT_RETRY_MS = 100;

/**
 * Makes the mount on top of `target` read-only, keeping the per-mount `flags` given;
 * `shown` names it in the error of a mount that stays busy (the path a descriptor stands
 * for), which names the call and errno as a failing mount's error does.
 *
 * MS_REMOUNT|MS_BIND changes only the flags of that one mount, never the superblock's
 * (mount(2), "Remounting an existing mount"); it is also the form a user namespace may
 * use, as long as it keeps the flags locked by a more privileged namespace (nosuid,
 * nodev, noexec, atime: mount_namespaces(7)). The kernel ignores MS_REC on a remount.
 *
 * The kernel refuses to make a mount read-only with EBUSY while a file on it is open
 * for writing (mnt_make_readonly() in fs/namespace.c); such a writer is usually about to
 * go away, so EBUSY is retried, with a pause between attempts.
 */
export function remountReadonly(sys: Syscalls, target: string, flags: bigint = 0n, shown: string = target): void {
  const all = flags | MS_REMOUNT | MS_BIND | MS_RDONLY;
  for (let attempt = 1; ; attempt++) {
    try {
      sys.mount(null, target, null, all, null);
      return;
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EBUSY') throw err;
      if (attempt === REMOUNT_ATTEMPTS) {
        throw new StepError(`mount ${JSON.stringify(shown)} read-only: EBUSY after ${REMOUNT_ATTEMPTS} attempts`, { cause: err });
      }
      sys.sleep(REMOUNT_RETRY_MS);
    }
  }
}

/**
 * The nosuid, nodev, noexec and nosymfollow flags of a mount, from its statfs(2)
 * f_flags, as mount(2) flags. A bind remount sets the mount's nosuid, nodev, noexec,
 * nosymfollow and read-only flags to those given (set_mount_attributes() keeps only the
 * flags outside MNT_USER_SETTABLE_MASK; its atime flags are kept when none is given), so
 * a read-only path remounted without them would lose them: runc (1.1 and later) reads
 * nosuid, nodev and noexec with statfs(2) and passes them on; mountkit, which takes the
 * `nosymfollow` option (runc 1.2 and later do), passes that one on too, or a read-only
 * path under a nosymfollow volume would follow symlinks again.
 */
export function securityFlagsOf(stFlags: bigint): bigint {
  return mountFlagsOfStatfs(stFlags) & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW);
}
