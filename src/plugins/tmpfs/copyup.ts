/**
 * tmpcopyup: the new tmpfs is filled with the target directory's content before it
 * appears at the target. It is made where nothing else sees it, the content is copied
 * into it (read through the target's descriptor and descriptors opened from it, never by
 * path: see copy.ts), and it is put onto the target's descriptor in one step, so the
 * container never sees a half-filled tmpfs. Its propagation flags are set before that
 * step, as mount(2) calls on a tmpfs mounted at the target would set them.
 *
 * Where the kernel has the new mount API, the tmpfs is a detached mount: fsopen(2),
 * fsconfig(2) and fsmount(2) make it in no directory at all, the copy writes into it
 * through its descriptor's magic link, and move_mount(2) attaches it. Nothing of it is on
 * the host's filesystem at any time: a run killed while copying leaves nothing, since the
 * last descriptor of a mount never attached unmounts it when it is closed, as the
 * kernel closes it when the process dies (dissolve_on_fput(), fs/namespace.c).
 *
 * What decides: fsopen(2) is there from Linux 5.2, ENOSYS before, and a seccomp filter
 * may refuse it (ENOSYS, or EPERM as most runtimes' profiles answer a call they do not
 * list; EPERM is also the answer to a caller without CAP_SYS_ADMIN, which mount(2) then
 * refuses as well). fsconfig(2), fsmount(2) and move_mount(2) came with it; a filter that
 * refuses one of them with ENOSYS or EPERM counts the same, and so does a mount_setattr(2)
 * (Linux 5.12, needed for propagation flags) answering ENOSYS, and an fsmount(2) of a
 * kernel before 5.14 refusing MOUNT_ATTR_NOSYMFOLLOW (EINVAL, where mount(2) takes
 * MS_NOSYMFOLLOW from 5.10), and an fsconfig(2) answering EINVAL to a value holding a
 * comma (tmpfs's legacy context before Linux 5.4). So do mount arguments the new API cannot give as mount(2)
 * gives them (new-mount.ts). Every such refusal comes before anything is attached, and
 * closing the descriptors undoes what was made; the tmpfs is then staged in /tmp instead.
 *
 * Staged, the tmpfs is mounted on a staging directory the run makes in the host's /tmp
 * directory, bound onto itself, and that bind is made private before the tmpfs is mounted
 * on it, as runc's prepareTmp does: whatever propagation `/` was given (a shared
 * rootfsPropagation keeps /tmp in the host's peer group), a mount on a private mount
 * propagates nowhere (mount_namespaces(7)), so the host never sees the staging tmpfs; and
 * MS_MOVE refuses to move a mount whose parent is shared (EINVAL, mount(2)), which the
 * private bind also avoids. The bind and the directory are removed again whether the copy
 * succeeds or fails; a run killed in between leaves the empty directory in /tmp (the mounts
 * go with its mount namespace). Where /tmp's mount is a peer of the host's (a shared
 * rootfsPropagation), the bind itself, made before it is private, propagates to the host
 * (a bind under a shared mount gets a copy at each peer, mount_namespaces(7)): a run killed
 * in between leaves that bind on the directory too. A run that gets to the end removes it
 * with the directory: rmdir(2) of a directory that is a mountpoint only in other mount
 * namespaces succeeds and detaches those mounts (Linux 3.18).
 */
import type { MountSpec } from '../../core/config/model';
import {
  AT_EMPTY_PATH,
  AT_RECURSIVE,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  GRND_NONBLOCK,
  MNT_DETACH,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_BIND,
  MS_MOVE,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
} from '../../core/constants';
import { StepError, SyscallError, thrownMessage } from '../../core/errors';
import { fdPath } from '../../core/in-root';
import { applyPropagation, mountOn, readonlyDeferred, type MountAt } from '../../core/mounting';
import type { Logger } from '../../core/plugin';
import { detachedMountName } from '../../core/syscalls/fs-context';
import type { Syscalls } from '../../core/syscalls/types';
import { copyTree } from './copy';
import { isSelinuxParam, newTmpfsMount, type NewMount } from './new-mount';

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
 * Makes the tmpfs described by `at` where nothing else sees it, copies the content of the
 * directory open as `destFd` into it and puts it onto that directory: a detached mount,
 * or one on a staging directory where the new mount API is refused. On failure nothing
 * half-copied stays mounted, and the error names the step that failed.
 */
export function mountWithCopyUp(sys: Syscalls, m: MountSpec, destFd: number, at: Omit<MountAt, 'target'>, log: Logger): void {
  // As mountOn: a tmpfs is made read-write, and read-only after the jail.
  const flags = readonlyDeferred(m) ? at.flags & ~MS_RDONLY : at.flags;
  const made = at.fstype === 'tmpfs' ? newTmpfsMount(at.source, flags, at.data ?? '') : { unsupported: `the type ${JSON.stringify(at.fstype)}` };
  if ('unsupported' in made) log.debug('tmpcopyup: staged in /tmp: the new mount API does not make this mount as mount(2) does', { reason: made.unsupported });
  else if (mountDetached(sys, m, destFd, made, log)) return;
  mountStaged(sys, m, destFd, at, log);
}

/** A refusal of the new mount API (see the top of this file): the tmpfs is staged instead. */
class Refused extends Error {
  constructor(readonly syscallError: SyscallError) {
    super(syscallError.message);
  }
}

/**
 * The detached version of mountWithCopyUp: false, with nothing left made, when the new
 * mount API is refused before the tmpfs is attached.
 */
function mountDetached(sys: Syscalls, m: MountSpec, destFd: number, made: NewMount, log: Logger): boolean {
  const name = detachedMountName(m.type);
  const dest = JSON.stringify(m.destination);
  let context: number | undefined;
  let mount: number | undefined;
  try {
    context = attempt('opening a tmpfs context', () => sys.fsopen(m.type, FSOPEN_CLOEXEC));
    const fd = context;
    for (const p of made.params) {
      // Before Linux 5.4 tmpfs took its parameters through the legacy context, whose
      // legacy_parse_param() answers EINVAL to a value holding a comma (an mpol= node
      // list), which mount(2) takes: staged then, where mount(2) judges the value.
      // SELinux's options never reach it: its own hook takes them first.
      const legacyComma = p.value !== null && p.value.includes(',') && !isSelinuxParam(p);
      attempt('configuring the tmpfs', () => sys.fsconfig(fd, p.value === null ? FSCONFIG_SET_FLAG : FSCONFIG_SET_STRING, p.key, p.value, 0), (e) => legacyComma && e.code === 'EINVAL');
    }
    attempt('configuring the tmpfs', () => sys.fsconfig(fd, FSCONFIG_CMD_CREATE, null, null, 0));
    mount = attempt('mounting the tmpfs', () => sys.fsmount(fd, FSMOUNT_CLOEXEC, made.attrs), (e) => e.code === 'EINVAL' && (made.attrs & MOUNT_ATTR_NOSYMFOLLOW) !== 0n);
    release(sys, context, log);
    context = undefined;
    const root = mount;
    // mount_setattr(2) (Linux 5.12) sets the propagation of a detached mount: it takes the
    // root of an anonymous mount namespace (mount_setattr(2), do_mount_setattr()).
    attempt(`setting the propagation of the tmpfs for ${dest}`, () => {
      for (const flag of m.propagationFlags) sys.mountSetattr(root, '', AT_EMPTY_PATH | ((flag & MS_REC) !== 0n ? AT_RECURSIVE : 0), 0n, 0n, flag & ~MS_REC);
    }, undefined, name);
    step(`copying ${dest} into the tmpfs`, () => copyTree(sys, destFd, fdPath(root), m.destination, name));
    attempt(`moving the tmpfs onto ${dest}`, () => sys.moveMount(root, '', destFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), undefined, name);
    return true;
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    log.debug('tmpcopyup: staged in /tmp: the new mount API is refused', { error: err.message });
    return false;
  } finally {
    if (mount !== undefined) release(sys, mount, log);
    if (context !== undefined) release(sys, context, log);
  }
}

/**
 * Runs `call`, a step of the detached tmpfs: a SyscallError that is a refusal of the new
 * mount API (ENOSYS, EPERM, or what `refusal` says is one) is thrown as Refused, any
 * other error as the step's. EPERM after fsopen(2) has answered (which checks
 * CAP_SYS_ADMIN) is a filter's, as most profiles answer a call they do not list; where it
 * is the kernel's after all, the staged path's mount(2) meets it too and says so. The first path of a SyscallError is the detached mount's, named
 * `mountName` when given (the kernel's name for it, "/", says nothing).
 */
function attempt<T>(what: string, call: () => T, refusal?: (e: SyscallError) => boolean, mountName?: string): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'ENOSYS' || err.code === 'EPERM' || refusal?.(err))) throw new Refused(err);
    if (err instanceof SyscallError && mountName !== undefined && err.paths.length > 0) {
      throw failed(what, new SyscallError(err.syscall, err.errno, [mountName, ...err.paths.slice(1)], err.detail));
    }
    throw failed(what, err);
  }
}

/** Closes a descriptor of the detached tmpfs or its context; a failure is logged, never thrown over the run's own. */
function release(sys: Syscalls, fd: number, log: Logger): void {
  try {
    sys.close(fd);
  } catch (err) {
    log.warn('tmpcopyup: close of a descriptor of the tmpfs failed', { fd, error: String(err) });
  }
}

/**
 * Mounts the tmpfs described by `at` on a private staging directory, copies the content
 * of the directory open as `destFd` into it and moves it onto that directory. On failure
 * the staging mount is detached, so nothing half-copied stays mounted, and the error
 * names the step that failed.
 */
function mountStaged(sys: Syscalls, m: MountSpec, destFd: number, at: Omit<MountAt, 'target'>, log: Logger): void {
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
