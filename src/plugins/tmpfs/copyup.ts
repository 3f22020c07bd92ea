/**
 * tmpcopyup: the new tmpfs is filled with the target directory's content before it
 * appears at the target. It is mounted on a staging directory first, the content is
 * copied into it (read through the target's descriptor and descriptors opened from it,
 * never by path: see copy.ts), and MS_MOVE puts it onto the
 * target's descriptor in one step, so the container never sees a half-filled tmpfs.
 *
 * The staging directory is made in the host's /tmp directory and bound onto itself, and
 * that bind is made private before the tmpfs is mounted on it, as runc's prepareTmp does:
 * whatever propagation `/` was given (a shared rootfsPropagation keeps /tmp in the host's
 * peer group), a mount on a private mount propagates nowhere (mount_namespaces(7)), so the
 * host never sees the staging tmpfs; and MS_MOVE refuses to move a mount whose parent is
 * shared (EINVAL, mount(2)), which the private bind also avoids. The bind and the
 * directory are removed again whether the copy succeeds or fails.
 */
import type { MountSpec } from '../../core/config/model';
import { GRND_NONBLOCK, MNT_DETACH, MS_BIND, MS_MOVE, MS_PRIVATE } from '../../core/constants';
import { StepError, SyscallError, thrownMessage } from '../../core/errors';
import { fdPath } from '../../core/in-root';
import { applyPropagation, mountOn, type MountAt } from '../../core/mounting';
import type { Logger } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { copyTree } from './copy';

const STAGING_PREFIX = '/tmp/.mountkit-tmpcopyup-';

/** Names tried, each with a new random part, before giving up. */
const MAX_STAGING_ATTEMPTS = 100;

/** The staging directory for mounts[index], named with `random`: `-<index>-<random>`. */
export function stagingPath(index: number, random: string): string {
  return `${STAGING_PREFIX}${index}-${random}`;
}

/** Random bytes in a staging name: 16, as many as a UUID holds, written as 32 hex digits. */
const RANDOM_BYTES = 16;

/** Bytes as lowercase hex digits, two for each. */
export function hexOf(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/**
 * The random part of a staging name: 16 bytes of getrandom(2) as hex digits. getrandom
 * is there on every kernel from 3.17 on, whatever the kernel was built with, where
 * kernel.random.uuid is not: that sysctl file needs CONFIG_PROC_SYSCTL. getrandom waits
 * only until the kernel's random pool is first initialized after boot; Node's start has
 * waited for that already (OpenSSL seeds its generator with a getrandom that waits), so
 * GRND_NONBLOCK changes nothing here but that the call can never wait.
 *
 * A getrandom that fails (ENOSYS on a kernel before 3.17 or under a seccomp filter that
 * refuses it, EAGAIN) fails the mount, naming it, with no other source tried: Node cannot
 * start where getrandom is refused (its check of OpenSSL's generator at start aborts), so
 * a run never meets that answer from the real port.
 */
export function randomPart(sys: Syscalls): string {
  return hexOf(sys.getrandom(RANDOM_BYTES, GRND_NONBLOCK));
}

/**
 * Mounts the tmpfs described by `at` on a private staging directory, copies the content
 * of the directory open as `destFd` into it and moves it onto that directory. On failure
 * the staging mount is detached, so nothing half-copied stays mounted, and the error
 * names the step that failed.
 */
export function mountWithCopyUp(sys: Syscalls, m: MountSpec, destFd: number, at: Omit<MountAt, 'target'>, log: Logger): void {
  const staging = makeStagingDir(sys, m.index);
  log.debug('tmpcopyup staging directory', { staging });
  const dest = fdPath(destFd);
  let bound = false;
  let mounted = false;
  try {
    step('making the staging directory a private mount', () => {
      sys.mount(staging, staging, null, MS_BIND, null);
      bound = true;
      sys.mount(null, staging, null, MS_PRIVATE, null);
    });
    step('mounting on the staging directory', () => {
      mountOn(sys, m, { ...at, target: staging });
      mounted = true;
      applyPropagation(sys, m, staging);
    });
    step(`copying ${JSON.stringify(m.destination)}`, () => copyTree(sys, destFd, staging, m.destination));
    step(`moving the tmpfs onto ${JSON.stringify(m.destination)}`, () => {
      sys.mount(staging, dest, null, MS_MOVE, null);
      mounted = false;
    });
  } finally {
    if (mounted) detach(sys, staging, log);
    if (bound) detach(sys, staging, log);
    removeStagingDir(sys, staging, log);
  }
}

function failed(what: string, err: unknown): StepError {
  return new StepError(`tmpcopyup: ${what} failed: ${thrownMessage(err)}`, { cause: err });
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
 * keeps other host users out before the tmpfs covers it. Each name has a random part
 * (randomPart), as runc's MkdirTemp gives its staging directory one: no other host user can make it
 * beforehand, no other run uses it at the same time, and the empty directory a run killed
 * while copying leaves stops no later run.
 */
function makeStagingDir(sys: Syscalls, index: number): string {
  for (let attempt = 0; ; attempt++) {
    try {
      const path = stagingPath(index, randomPart(sys));
      sys.mkdir(path, 0o700);
      return path;
    } catch (err) {
      if (!isErrno(err, 'EEXIST') || attempt + 1 >= MAX_STAGING_ATTEMPTS) throw failed('creating a staging directory', err);
    }
  }
}

/** MNT_DETACH takes the mount on top out of the namespace at once even if something still uses it (umount2(2)). */
function detach(sys: Syscalls, staging: string, log: Logger): void {
  try {
    sys.umount2(staging, MNT_DETACH);
  } catch (err) {
    log.warn('tmpcopyup: detaching a staging mount failed', { staging, error: String(err) });
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
