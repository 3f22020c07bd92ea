/**
 * tmpcopyup: the new tmpfs is filled with the target directory's content. The content is
 * read through the target's descriptor, opened before anything is mounted on it, and
 * descriptors opened from it, and written through the new tmpfs's root descriptor and
 * descriptors opened from it, never by path (copy.ts).
 *
 * Where the kernel has the new mount API, the tmpfs is a detached mount: fsopen(2),
 * fsconfig(2) and fsmount(2) make it in no directory at all, the copy writes into it
 * through its descriptor, and move_mount(2) attaches it onto the target's descriptor in
 * one step, so the container never sees a half-filled tmpfs. Its propagation flags are
 * set after that step, with mount(2) through its descriptor, as on every other mount:
 * move_mount(2) below a shared mount makes the tree it attaches shared
 * (attach_recursive_mnt(), fs/namespace.c), so a private flag given to the detached mount
 * would not last there, and the container's mount would stay in the host's peer group
 * against its config. Nothing
 * of it is on the host's filesystem at any time: a run killed while copying leaves
 * nothing, since the last descriptor of a mount never attached unmounts it when it is
 * closed, as the kernel closes it when the process dies (dissolve_on_fput(),
 * fs/namespace.c).
 *
 * What decides: fsopen(2) is there from Linux 5.2, ENOSYS before, and a seccomp filter
 * may refuse it (ENOSYS, or EPERM as most runtimes' profiles answer a call they do not
 * list; EPERM is also the answer to a caller without CAP_SYS_ADMIN, which mount(2) then
 * refuses as well). fsconfig(2), fsmount(2) and move_mount(2) came with it; a filter that
 * refuses one of them with ENOSYS or EPERM counts the same, and so does an fsmount(2) of a
 * kernel before 5.14 refusing MOUNT_ATTR_NOSYMFOLLOW (EINVAL, where mount(2) takes
 * MS_NOSYMFOLLOW from 5.10), and an fsconfig(2) answering EINVAL to a value holding a
 * comma (tmpfs's legacy context before Linux 5.4). So do mount arguments the new API
 * cannot give as mount(2) gives them (new-mount.ts). Every such refusal comes before
 * anything is attached, and closing the descriptors undoes what was made.
 *
 * The tmpfs is then mounted with mount(2) on the target itself, as crun mounts it, and
 * filled there: the target's descriptor, opened before the mount, keeps showing the
 * directory under it (its magic link leads to that directory, not to the mount on it), and
 * the new mount is opened again and checked to be the one made (reopenMounted), its
 * propagation flags set, then the copy made into it. Nothing is made outside the rootfs.
 * A copy that fails unmounts the tmpfs (MNT_DETACH, through its descriptor), so nothing
 * half-copied stays; a run killed while it copies leaves it to its mount namespace, which
 * goes with the run.
 *
 * What others see meanwhile: in the run's own mount namespace, nothing runs yet but the
 * run. Where the target's mount has peers (a shared rootfsPropagation keeps the rootfs in
 * the host's peer group), the tmpfs propagates to each peer as it is mounted (a mount
 * under a shared mount gets a copy at each peer, mount_namespaces(7)), and a process
 * there sees it being filled: the entries made so far, each directory root's with mode
 * 0700 until its content is copied, then with its owner and mode; files with their bytes
 * before their owner and mode; the tmpfs's root with the target's mode from the start.
 * What it may do there is what those modes allow it. Whatever it makes or plants (a
 * symlink out of the tmpfs, an entry at a name still to be copied) is never followed by
 * the copy, which fails with the name (EEXIST) rather than write anywhere but into the
 * tmpfs. A failed copy's unmount propagates to the peers as the mount did; a run killed
 * while copying leaves the peers' copies, as it leaves them of every mount it made.
 */
import type { MountSpec } from '../../core/config/model';
import {
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MNT_DETACH,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_RDONLY,
} from '../../core/constants';
import { StepError, SyscallError, thrownMessage } from '../../core/errors';
import { fdPath, type Root } from '../../core/in-root';
import { applyPropagation, mountOn, readonlyDeferred, reopenMounted, type MountAt, type MountTarget } from '../../core/mounting';
import type { Logger } from '../../core/plugin';
import { detachedMountName } from '../../core/syscalls/fs-context';
import type { Syscalls } from '../../core/syscalls/types';
import { copyTree } from './copy';
import { isSelinuxParam, newTmpfsMount, type NewMount } from './new-mount';

/** How the debug line of a tmpfs mounted on its target (the new mount API not used) starts. */
const ON_TARGET = 'tmpcopyup: mounted on the destination and copied there';

/**
 * Mounts the tmpfs described by `at` on the directory `target` (open, inside `root`) with
 * that directory's content copied into it: a detached mount filled and then attached, or,
 * where the new mount API is refused, one mounted on the directory and filled there. On
 * failure nothing half-copied stays mounted, and the error names the step that failed.
 */
export function mountWithCopyUp(sys: Syscalls, m: MountSpec, root: Root, target: MountTarget, at: Omit<MountAt, 'target'>, log: Logger): void {
  // As mountOn: a tmpfs is made read-write, and read-only after the jail.
  const flags = readonlyDeferred(m) ? at.flags & ~MS_RDONLY : at.flags;
  const made = at.fstype === 'tmpfs' ? newTmpfsMount(at.source, flags, at.data ?? '') : { unsupported: `the type ${JSON.stringify(at.fstype)}` };
  if ('unsupported' in made) log.debug(`${ON_TARGET}: the new mount API does not make this mount as mount(2) does`, { reason: made.unsupported });
  else if (mountDetached(sys, m, target.fd, made, log)) return;
  mountOnTarget(sys, m, root, target, at, log);
}

/** A refusal of the new mount API (see the top of this file): the tmpfs is mounted on its target instead. */
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
      // list), which mount(2) takes: mounted on the target then, where mount(2) judges it.
      // SELinux's options never reach it: its own hook takes them first.
      const legacyComma = p.value !== null && p.value.includes(',') && !isSelinuxParam(p);
      attempt('configuring the tmpfs', () => sys.fsconfig(fd, p.value === null ? FSCONFIG_SET_FLAG : FSCONFIG_SET_STRING, p.key, p.value, 0), (e) => legacyComma && e.code === 'EINVAL');
    }
    attempt('configuring the tmpfs', () => sys.fsconfig(fd, FSCONFIG_CMD_CREATE, null, null, 0));
    mount = attempt('mounting the tmpfs', () => sys.fsmount(fd, FSMOUNT_CLOEXEC, made.attrs), (e) => e.code === 'EINVAL' && (made.attrs & MOUNT_ATTR_NOSYMFOLLOW) !== 0n);
    release(sys, context, log);
    context = undefined;
    const root = mount;
    step(`copying ${dest} into the tmpfs`, () => copyTree(sys, destFd, root, m.destination, name));
    attempt(`moving the tmpfs onto ${dest}`, () => sys.moveMount(root, '', destFd, '', MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH), undefined, name);
    // Attached now, the descriptor names the mount on the target: its propagation is set
    // there, where it lasts (one set before would not, see the top of this file).
    try {
      step(`setting the propagation of the tmpfs on ${dest}`, () => applyPropagation(sys, m, fdPath(root)));
    } catch (err) {
      detach(sys, root, log);
      throw err;
    }
    return true;
  } catch (err) {
    if (!(err instanceof Refused)) throw err;
    log.debug(`${ON_TARGET}: the new mount API is refused`, { error: err.message });
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
 * is the kernel's after all, mount(2) on the target meets it too and says so. The first
 * path of a SyscallError is the detached mount's, named `mountName` when given (the
 * kernel's name for it, "/", says nothing).
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
 * The tmpfs described by `at` mounted on the directory open as `target.fd`, opened again
 * (reopenMounted: the mount just made, not what a rename put at the destination since),
 * given its propagation flags and filled with the content of the directory under it,
 * which `target.fd` still shows. A failure after the mount unmounts it through its
 * descriptor. One in reopening it leaves it mounted, empty, where the mount put it (the
 * descriptor that would name it is what failed); the run stops there, and its mount
 * namespace goes with it.
 */
function mountOnTarget(sys: Syscalls, m: MountSpec, root: Root, target: MountTarget, at: Omit<MountAt, 'target'>, log: Logger): void {
  const dest = JSON.stringify(m.destination);
  step(`mounting the tmpfs on ${dest}`, () => mountOn(sys, m, { ...at, target: fdPath(target.fd) }));
  let top: number | undefined;
  try {
    top = reopenMounted(sys, root, m.destination, target);
    const fd = top;
    step(`setting the propagation of the tmpfs on ${dest}`, () => applyPropagation(sys, m, fdPath(fd)));
    step(`copying ${dest} into the tmpfs`, () => copyTree(sys, target.fd, fd, m.destination, m.destination));
  } catch (err) {
    if (top !== undefined) detach(sys, top, log);
    throw err;
  } finally {
    if (top !== undefined) release(sys, top, log);
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

/**
 * umount2(2) of the tmpfs open as `fd`, through its magic link, which leads to the mount's
 * root; MNT_DETACH takes it out of the namespace at once even while something still uses
 * it. A failure is logged, never thrown over the run's own.
 */
function detach(sys: Syscalls, fd: number, log: Logger): void {
  try {
    sys.umount2(fdPath(fd), MNT_DETACH);
  } catch (err) {
    log.warn('tmpcopyup: unmounting the half-copied tmpfs failed', { error: String(err) });
  }
}
