/**
 * Building blocks the mount handlers share, all through the syscall port.
 *
 * Mount targets are opened inside the root as O_PATH descriptors (in-root.ts) and
 * mounted through their magic links, /proc/thread-self/fd/N: mount(2) then acts on the
 * file the descriptor holds, and a symlink swapped into the path after the lookup cannot
 * send the mount elsewhere (CVE-2021-30465). Before the jail that /proc is the host's;
 * after it, the container's, which is checked to be a procfs first.
 *
 * Before the jail, the handlers look up their targets from one descriptor of the rootfs
 * kept for the run (containerRoot) rather than opening the rootfs for each lookup.
 */
import type { MountSpec } from './config/model';
import { AT_EMPTY_PATH, AT_RECURSIVE, MS_BIND, MS_RDONLY, MS_REC, MS_REMOUNT } from './constants';
import { StepError, SyscallError } from './errors';
import { createInRoot, fdPath, makeFile, openRootDir, reopenTarget, targetPlace, withInRoot, type Created, type MakeEntry, type Root, type RootDir, type TargetPlace } from './in-root';
import { cleanPath, procDestinationProblem } from './paths';
import type { RunContext } from './plugin';
import type { Syscalls } from './syscalls/types';

/** True when `path` exists (following links); false on ENOENT. */
export function exists(sys: Syscalls, path: string): boolean {
  try {
    sys.stat(path);
    return true;
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return false;
    throw err;
  }
}

export type TargetKind = 'dir' | 'file';

export interface TargetOptions {
  /**
   * What to create when the target is missing: a directory (default) or an empty file; a
   * function is asked only then, before anything is made (a bind's source is stat()ed
   * only for a target it must make).
   */
  kind?: TargetKind | (() => TargetKind);
  /**
   * Mode of the target when it is created, before the umask; default 0755, as runc's. The
   * directories made on the way are 0755 whatever it is, as runc's MkdirAll makes them: a
   * file's mode (a device's 0666) on a directory would leave it without search permission.
   */
  mode?: number;
  /**
   * Asked when the target resolves to /proc itself: whether this mount may cover it (a
   * bind of a procfs, as runc allows), however the destination is written.
   */
  mayBeProc?: () => boolean;
}

/** Where the rootfs kept open for the run is, in RunContext.shared. */
const CONTAINER_ROOT_KEY = 'mounting.containerRoot';

/**
 * The rootfs, kept open (O_PATH, close-on-exec) from the first call until
 * releaseContainerRoot, for the lookups of the mounts and dev phases. It is opened on
 * first use, after prepare-root has bound the rootfs onto itself: a descriptor opened
 * before a mount shows the directory under it. A mount target that is the rootfs itself
 * makes it stale (RootDir.stale), and the next call opens it again. The orchestrator
 * releases it after a configured command (which may have mounted anything anywhere),
 * before each step of the jail phase (the rootfs becomes `/`, and its host path means
 * nothing there) and when a run ends or fails without reaching one.
 */
export function containerRoot(sys: Syscalls, ctx: RunContext): RootDir {
  const kept = ctx.shared.get(CONTAINER_ROOT_KEY) as RootDir | undefined;
  if (kept && !kept.stale) return kept;
  if (kept) releaseContainerRoot(sys, ctx.shared);
  const dir = openRootDir(sys, ctx.config.rootfs);
  ctx.shared.set(CONTAINER_ROOT_KEY, dir);
  return dir;
}

/** Closes the rootfs containerRoot kept, if any; the next call opens it again. */
export function releaseContainerRoot(sys: Syscalls, shared: Map<string, unknown>): void {
  const kept = shared.get(CONTAINER_ROOT_KEY) as RootDir | undefined;
  if (!kept) return;
  shared.delete(CONTAINER_ROOT_KEY);
  sys.close(kept.fd);
}

/** Where the descriptors kept for the whole run are, by what they stand for, in RunContext.shared. */
const KEPT_KEY = 'mounting.kept';

/**
 * A descriptor kept open for the rest of the run under `key`: opened by `open` on first
 * use, the same one after (a user namespace of given mappings, made once for every
 * idmapped mount that names them). The orchestrator closes them all when the run ends,
 * or fails (releaseRun).
 */
export function keptForRun(shared: Map<string, unknown>, key: string, open: () => number): number {
  let kept = shared.get(KEPT_KEY) as Map<string, number> | undefined;
  if (!kept) shared.set(KEPT_KEY, (kept = new Map()));
  let fd = kept.get(key);
  if (fd === undefined) kept.set(key, (fd = open()));
  return fd;
}

/** The descriptor kept under `key`, if one is kept. */
export function keptFd(shared: ReadonlyMap<string, unknown>, key: string): number | undefined {
  return (shared.get(KEPT_KEY) as Map<string, number> | undefined)?.get(key);
}

/** Closes the descriptor kept under `key` before the run ends, if one is kept. */
export function closeKept(sys: Syscalls, shared: Map<string, unknown>, key: string): void {
  const kept = shared.get(KEPT_KEY) as Map<string, number> | undefined;
  const fd = kept?.get(key);
  if (fd === undefined) return;
  kept!.delete(key);
  sys.close(fd);
}

/**
 * Closes the rootfs containerRoot kept and every descriptor keptForRun kept, each once; the
 * first failure is thrown after all are tried. `before` is called first when there is any
 * to close.
 */
export function releaseRun(sys: Syscalls, shared: Map<string, unknown>, before?: () => void): void {
  const kept = shared.get(KEPT_KEY) as Map<string, number> | undefined;
  shared.delete(KEPT_KEY);
  if (before && (shared.has(CONTAINER_ROOT_KEY) || (kept?.size ?? 0) > 0)) before();
  let failure: unknown;
  for (const close of [() => releaseContainerRoot(sys, shared), ...[...(kept?.values() ?? [])].map((fd) => () => sys.close(fd))]) {
    try {
      close();
    } catch (err) {
      failure ??= err;
    }
  }
  if (failure !== undefined) throw failure;
}

/**
 * A mount target open as a descriptor (createInRoot), as afterMount takes it: where its
 * lookup led (`inside`, when learned) and the check that lookup made of it (`vet`).
 */
export interface MountTarget extends Created {
  vet?: (inside: string) => void;
}

/**
 * Opens the mount target `destination` inside `root`, creating it (and its parents) when
 * missing, and runs `fn` with its descriptor, closed afterwards. A target that resolves
 * to /proc or below it (other than the allowed files, and /proc itself when `mayBeProc`
 * says so) is refused before anything is created. `fn` makes the
 * mount and then calls afterMount with the target it was given.
 */
export function withMountTarget<T>(sys: Syscalls, root: Root, destination: string, opts: TargetOptions, fn: (t: MountTarget) => T): T {
  const mode = opts.mode ?? 0o755;
  const vet = (inside: string) => (inside === '/proc' && opts.mayBeProc?.() ? undefined : refuseUnderProc(inside));
  const given = opts.kind;
  let kind = typeof given === 'function' ? undefined : given;
  const beforeMake = typeof given === 'function' ? () => void (kind = given()) : undefined;
  const make: MakeEntry = (dirFd, name) => (kind === 'file' ? makeFile(sys, mode)(dirFd, name) : sys.mkdirat(dirFd, name, mode));
  const target = createInRoot(sys, root, destination, { make, vet, beforeMake });
  try {
    return fn({ ...target, vet });
  } finally {
    sys.close(target.fd);
  }
}

/** Refuses a destination inside /proc (procDestinationProblem), as a StepError. */
export function refuseUnderProc(inside: string): void {
  const problem = procDestinationProblem(inside);
  if (problem) throw new StepError(problem);
}

export interface MountAt {
  source: string | null;
  /** The target as mount(2) takes it: fdPath() of a target's descriptor, or a path. */
  target: string;
  fstype: string | null;
  flags: bigint;
  data: string | null;
}

/**
 * mount(2) of a configured mount. A tmpfs and any mount at `/dev` are never mounted
 * read-only here (readonlyDeferred): the finalize step remounts them read-only when asked
 * (a bind is read-only before that, its copy made read-only or remounted, as runc's
 * is).
 */
export function mountOn(sys: Syscalls, m: MountSpec, at: MountAt): void {
  const flags = readonlyDeferred(m) ? at.flags & ~MS_RDONLY : at.flags;
  sys.mount(at.source, at.target, at.fstype, flags, at.data || null);
}

/**
 * Whether a mount's `ro` waits for the finalize phase, as runc's does: a tmpfs (mounts
 * nested in it need their mountpoints made, tmpcopyup writes into it) and a mount at /dev
 * (device nodes, ptmx and links are made in it). They are mounted read-write and made
 * read-only after the jail by a bind remount, which changes the mount's flags and leaves
 * the superblock read-write (mount(2), "Remounting an existing mount"). A bind at /dev is
 * read-only from its attach or its own remount already (bind/handler.ts bindFlags:
 * nothing is made in a /dev bound whole), and remounted again then, as under runc.
 */
export function readonlyDeferred(m: MountSpec): boolean {
  return m.type === 'tmpfs' || isDevDestination(m.destination);
}

/** Whether a destination is /dev, however it is written ("/dev/", "//dev", "/x/../dev"). */
export function isDevDestination(destination: string): boolean {
  // Any spelling of /dev holds the name itself; most destinations are cleared without cleaning them.
  return destination.includes('dev') && cleanPath(destination) === '/dev';
}

/**
 * mountOn followed by the propagation flags, for a target given as a path (a trusted one:
 * nothing checks what the path reaches after the mount, see afterMount).
 */
export function mountPropagate(sys: Syscalls, m: MountSpec, at: MountAt): void {
  mountOn(sys, m, at);
  applyPropagation(sys, m, at.target);
}

/**
 * Whether a mount has steps after it (afterMount): its propagation flags, recursive
 * attributes, or a handler's own (`between`, when given).
 */
export function hasStepsAfter(m: MountSpec, between: unknown): boolean {
  return m.propagationFlags.length > 0 || Boolean(m.recAttrs) || between !== undefined;
}

/**
 * What a handler does to the mount it has just made on `target` (still open) at
 * `m.destination`: the propagation flags, then `between` (remounts, labels; given the
 * mount as a magic link and as the descriptor behind it), then the recursive attributes.
 * Nothing is looked up when there is nothing to do.
 *
 * A descriptor opened before a mount keeps showing the directory under it (mount(2)
 * through it answers EINVAL to a remount or propagation change), so the new mount is
 * opened again (reopenMounted) and every step acts on that descriptor, which is checked
 * to be the mount just made: a lookup of the destination by name would reach whatever a
 * racing rename or symlink put at the place meanwhile (CVE-2025-52881, runc's
 * reopenAfterMount), and the remount meant for it would land there.
 */
export function afterMount(sys: Syscalls, root: Root, m: MountSpec, target: MountTarget, between?: (top: string, fd: number) => void): void {
  if (!hasStepsAfter(m, between)) return;
  // A remount (MS_REMOUNT) made no new mount: it changed the one whose root the target is,
  // which the target's own descriptor reaches (mount(2) answers EINVAL to a remount of
  // anything but a mount's root), so nothing is opened again.
  const reopened = (m.flags & MS_REMOUNT) !== 0n ? undefined : reopenMounted(sys, root, m.destination, target);
  const fd = reopened ?? target.fd;
  try {
    const top = fdPath(fd);
    applyPropagation(sys, m, top);
    between?.(top, fd);
    applyRecursiveAttrs(sys, m, fd);
  } finally {
    if (reopened !== undefined) sys.close(reopened);
  }
}

/**
 * The mount just made on the file open as `target` (the mount target, looked up at
 * `destination` before the mount), opened again, as an O_PATH descriptor for the caller
 * to close. In order:
 *
 * 1. statx(2) of the target: its kind and the mount it lies on (fstatMount);
 * 2. the kernel's name of the target now (readlink of its magic link), which must be
 *    inside the root, pass the target's own check (`vet`, the /proc one) and be the place
 *    its lookup led to (`inside`): a target renamed before the mount took the mount with
 *    it, away from the destination;
 * 3. that place opened again, with no symlink followed (reopenTarget: a directory by its
 *    name in its own parent, `..` of its descriptor; a file from the root), crossing into
 *    the mounts on it;
 * 4. the kernel's name of what was opened, which must be the target's (runc's check);
 * 5. statx(2) of it: the root of a mount (where the kernel tells) other than the one the
 *    target lies on, i.e. the mount on top of the target.
 *
 * Anything else refuses the run with one line naming the destination. What remains
 * (README, "Mount targets"): step 3 finds the entry by name, and a process of another
 * mount namespace (where the target is no mountpoint, so that it may rename it) that
 * renames the target away and the mountpoint of another mount of this run into its name
 * between steps 2 and 3 passes steps 4 and 5 with that other mount; so may a rename of a
 * directory on the way to a file target, from any namespace. The mount reached is then one
 * of this run's own, on a directory that process can write in.
 */
export function reopenMounted(sys: Syscalls, root: Root, destination: string, target: MountTarget): number {
  const before = sys.fstatMount(target.fd);
  const place = placeMounted(sys, root, destination, target);
  let fd: number;
  try {
    fd = reopenTarget(sys, root, target.fd, before.kind === 'dir', place, destination);
  } catch (err) {
    // ENOENT: nothing there by the target's name; ELOOP: a symlink there, or on the way.
    if (err instanceof SyscallError && (err.code === 'ENOENT' || err.code === 'ELOOP')) throw replaced(destination, `${err.code} opening ${JSON.stringify(place.inside)} again`);
    throw err;
  }
  try {
    const path = sys.readlink(fdPath(fd));
    if (path !== place.path) throw replaced(destination, `${JSON.stringify(place.inside)} opened again is ${JSON.stringify(path)}`);
    const now = sys.fstatMount(fd);
    if (now.mntId === before.mntId || now.mountRoot === false) throw replaced(destination, `${JSON.stringify(place.inside)} is not the root of the new mount`);
    return fd;
  } catch (err) {
    sys.close(fd);
    throw err;
  }
}

/**
 * Where the target open as `target` is now, after a mount on it (step 2 of
 * reopenMounted): inside the root, passing its own check (`vet`) and where its lookup led
 * (`inside`), or the run is refused with one line naming the destination.
 */
function placeMounted(sys: Syscalls, root: Root, destination: string, target: MountTarget): TargetPlace & { inside: string } {
  const place = targetPlace(sys, root, target.fd, destination);
  if (place.inside === undefined) throw replaced(destination, `it is now ${JSON.stringify(place.path)}, outside the root`);
  target.vet?.(place.inside);
  if (target.inside !== undefined && place.inside !== target.inside) throw replaced(destination, `it is now at ${JSON.stringify(place.inside)}, not ${JSON.stringify(target.inside)}`);
  return { path: place.path, inside: place.inside };
}

/** What afterAttach does besides the mount's own steps. */
export interface AfterAttach {
  /** Run between the propagation and the recursive attributes, as afterMount's `between`. */
  between?: (top: string, fd: number) => void;
  /**
   * Check the target's place even where no step follows: a copy given its flags before the
   * attach (open_tree_attr(2), mount_setattr(2)), checked as it would be before the remount
   * that gives a bind its flags otherwise.
   */
  placed?: boolean;
}

/**
 * afterMount for a mount that move_mount(2) attached onto `target` from the descriptor
 * `mount` (a detached copy made by open_tree(2) OPEN_TREE_CLONE). Once attached, that
 * descriptor names the new mount where it is: its magic link leads to the mount's root,
 * and mount(2) or mount_setattr(2) through it acts on that mount whatever has been put at
 * its place or on top of it since (the file keeps the mount it was opened on), so the
 * steps act on it and nothing is opened again. Only the target's place is checked, as
 * reopenMounted's step 2 checks it: a target renamed before the attach took the mount with
 * it, away from the destination (with `placed`, also where no step follows).
 */
export function afterAttach(sys: Syscalls, root: Root, m: MountSpec, target: MountTarget, mount: number, { between, placed = false }: AfterAttach = {}): void {
  if (!hasStepsAfter(m, between)) {
    if (placed) placeMounted(sys, root, m.destination, target);
    return;
  }
  placeMounted(sys, root, m.destination, target);
  const top = fdPath(mount);
  applyPropagation(sys, m, top);
  between?.(top, mount);
  applyRecursiveAttrs(sys, m, mount);
}

/**
 * afterMount for a mount another handler made at `m.destination` earlier, whose target is
 * closed (cgroup v1's tmpfs, given its attributes after the hierarchies below it): the
 * destination is looked up again, and what it leads to must be the root of a mount
 * (fstatMount) lying where the destination's lookup led before that mount (`inside`,
 * resolveInRoot's answer then), so that a link put on the way since leads nowhere else.
 */
export function afterEarlierMount(sys: Syscalls, root: Root, m: MountSpec, inside: string, between?: (top: string, fd: number) => void): void {
  if (!hasStepsAfter(m, between)) return;
  withInRoot(sys, root, m.destination, (fd) => {
    const place = targetPlace(sys, root, fd, m.destination);
    if (place.inside !== inside) throw replaced(m.destination, `it leads to ${JSON.stringify(place.inside ?? place.path)}, not ${JSON.stringify(inside)}`);
    if (sys.fstatMount(fd).mountRoot === false) throw replaced(m.destination, `${JSON.stringify(inside)} is not the root of a mount`);
    const top = fdPath(fd);
    applyPropagation(sys, m, top);
    between?.(top, fd);
    applyRecursiveAttrs(sys, m, fd);
  });
}

/** The refusal of a mount whose target something else replaced between the mount and its after-mount steps. */
function replaced(destination: string, why: string): StepError {
  return new StepError(`mount destination ${JSON.stringify(destination)} was replaced while it was mounted on: ${why}`);
}

/** The mount's propagation flags on an existing mount, one mount(2) call each, in order (mount(2), "Changing the propagation type"). */
export function applyPropagation(sys: Syscalls, m: MountSpec, target: string): void {
  const flags = m.propagationFlags;
  for (let i = 0; i < flags.length; i++) sys.mount(null, target, null, flags[i], null);
}

/**
 * The recursive attributes (rro, rnosuid, ...) with mount_setattr(2) AT_RECURSIVE on the
 * mount open as `fd` (AT_EMPTY_PATH), which changes it and every mount below it; the last
 * thing a handler does.
 */
export function applyRecursiveAttrs(sys: Syscalls, m: MountSpec, fd: number): void {
  if (m.recAttrs) sys.mountSetattr(fd, '', AT_EMPTY_PATH | AT_RECURSIVE, m.recAttrs.attrSet, m.recAttrs.attrClr, 0n);
}

/**
 * MS_BIND ignores every other flag on the first call (mount(2)), so a bind carrying ro,
 * nosuid, nodev, noexec or atime flags needs a remount with MS_REMOUNT|MS_BIND.
 */
export function bindNeedsRemount(flags: bigint): boolean {
  return (flags & ~(MS_REC | MS_REMOUNT | MS_BIND)) !== 0n;
}

export function remountBind(sys: Syscalls, target: string, flags: bigint): void {
  sys.mount(null, target, null, flags | MS_REMOUNT | MS_BIND, null);
}
