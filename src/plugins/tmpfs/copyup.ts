/**
 * tmpcopyup: the new tmpfs is filled with the target directory's content before it
 * appears at the target. It is mounted on a staging directory first, the content is
 * copied into it, and MS_MOVE puts it onto the target in one step, so the container never
 * sees a half-filled tmpfs.
 *
 * The staging directory is made in the host's /tmp directory, but the tmpfs on it is
 * mounted only in mountkit's own mount namespace: prepare-root has made `/` there a
 * recursive slave (the default propagation), and a slave receives mount events without
 * sending any (mount_namespaces(7)), so the host never sees that mount. The directory is
 * removed again whether the copy succeeds or fails.
 */
import type { MountSpec } from '../../core/config/model';
import { MNT_DETACH, MS_MOVE } from '../../core/constants';
import { StepError, SyscallError } from '../../core/errors';
import { mountPropagate, type MountAt } from '../../core/mounting';
import type { Logger } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { copyTree } from './copy';

const STAGING_PREFIX = '/tmp/.mountkit-tmpcopyup-';

/** Names tried after the first one is taken, before giving up. */
const MAX_STAGING_ATTEMPTS = 100;

/** The staging directory for mounts[index]: `-<index>`, then `-<index>-1`, `-<index>-2`... */
export function stagingPath(index: number, attempt: number): string {
  return attempt === 0 ? `${STAGING_PREFIX}${index}` : `${STAGING_PREFIX}${index}-${attempt}`;
}

/**
 * Mounts the tmpfs described by `at` on a staging directory, copies `dest`'s content into
 * it and moves it onto `dest`. On failure the staging mount is detached, so nothing
 * half-copied stays mounted, and the error names the step that failed.
 */
export function mountWithCopyUp(sys: Syscalls, m: MountSpec, dest: string, at: Omit<MountAt, 'target'>, log: Logger): void {
  const staging = makeStagingDir(sys, m.index);
  log.debug('tmpcopyup staging directory', { staging });
  try {
    step('mounting on the staging directory', () => mountPropagate(sys, m, { ...at, target: staging }));
    step(`copying ${JSON.stringify(m.destination)}`, () => copyTree(sys, dest, staging));
    step(`moving the tmpfs onto ${JSON.stringify(m.destination)}`, () => sys.mount(staging, dest, null, MS_MOVE, null));
  } catch (err) {
    detach(sys, staging, log);
    throw err;
  } finally {
    removeStagingDir(sys, staging, log);
  }
}

function failed(what: string, err: unknown): StepError {
  const inner = err instanceof Error ? err.message : String(err);
  return new StepError(`tmpcopyup: ${what} failed: ${inner}`, { cause: err });
}

function step(what: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    throw failed(what, err);
  }
}

function isErrno(err: unknown, code: string): boolean {
  return err instanceof SyscallError && err.code === code;
}

/**
 * mkdir(2) never follows a final symlink and fails with EEXIST on anything already
 * there, so a name planted in the world-writable /tmp is skipped, never used. Mode 0700
 * keeps other host users out before the tmpfs covers it.
 */
function makeStagingDir(sys: Syscalls, index: number): string {
  for (let attempt = 0; ; attempt++) {
    const path = stagingPath(index, attempt);
    try {
      sys.mkdir(path, 0o700);
      return path;
    } catch (err) {
      if (!isErrno(err, 'EEXIST') || attempt + 1 >= MAX_STAGING_ATTEMPTS) throw failed('creating a staging directory', err);
    }
  }
}

/**
 * MNT_DETACH takes the mount out of the namespace at once even if something still uses
 * it (umount2(2)). EINVAL means nothing is mounted there: the mount itself had failed.
 */
function detach(sys: Syscalls, staging: string, log: Logger): void {
  try {
    sys.umount2(staging, MNT_DETACH);
  } catch (err) {
    if (!isErrno(err, 'EINVAL')) log.warn('tmpcopyup: detaching the staging mount failed', { staging, error: String(err) });
  }
}

/** A leftover empty directory in /tmp does not fail the container; it is reported. */
function removeStagingDir(sys: Syscalls, staging: string, log: Logger): void {
  try {
    sys.rmdir(staging);
  } catch (err) {
    log.warn('tmpcopyup: removing the staging directory failed', { staging, error: String(err) });
  }
}
