/**
 * What the fake port keeps of each mount (FakeSyscalls): its own flags, the superblock of
 * the filesystem it shows, and its propagation. Pure: the transitions, as the kernel makes
 * them, for the port to apply, and a mount's state as /proc/PID/mountinfo shows it.
 *
 * Two read-only flags refuse a change below a mount (__mnt_is_readonly(), fs/namespace.c):
 * the mount's own (MNT_READONLY), which MS_REMOUNT|MS_BIND and mount_setattr(2) set on
 * that mount alone, and its superblock's (SB_RDONLY), which a remount without MS_BIND
 * sets for every mount of the filesystem, binds included.
 */
import type { MountInfo } from '../mountinfo';
import {
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_RELATIME,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RELATIME,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_UNBINDABLE,
  ST_RDONLY,
  ST_VALID,
} from '../constants';
import { MOUNT_FLAG_ATTRS } from '../mount-attrs';
import { STATFS_TO_MOUNT } from '../statfs-flags';

/** A filesystem instance, which every bind of it shares. */
export interface Superblock {
  readOnly: boolean;
}

/**
 * A mount's propagation as the checks that refuse a call read it: a member of a peer
 * group (IS_MNT_SHARED), or unbindable (IS_MNT_UNBINDABLE); and whether it receives from
 * a master (IS_MNT_SLAVE), which no check reads but mountinfo shows. The model keeps no
 * peer groups: a shared mount is taken to have peers, as each shared mount a run's new
 * namespace starts with has its copy in the namespace it was copied from.
 */
export interface Propagation {
  shared: boolean;
  slave: boolean;
  unbindable: boolean;
}

/**
 * The per-mount flags but read-only, as the mount(2) flags that set them (MNT_NOSUID,
 * MNT_NODEV, MNT_NOEXEC, MNT_NOSYMFOLLOW and the atime ones, MNT_ATIME_MASK): strictatime
 * is the absence of MS_NOATIME and MS_RELATIME.
 */
const OWN_FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW | MS_NOATIME | MS_NODIRATIME;
/** MNT_ATIME_MASK (include/linux/mount.h) as mount(2) flags. */
const ATIME_FLAGS = MS_NOATIME | MS_NODIRATIME | MS_RELATIME;

export interface MountState {
  /** MNT_READONLY: this mount's own flag. */
  readOnly: boolean;
  /** Its other flags (OWN_FLAGS, MS_RELATIME). */
  flags: bigint;
  sb: Superblock;
  propagation: Propagation;
}

const PRIVATE: Readonly<Propagation> = { shared: false, slave: false, unbindable: false };

/**
 * The per-mount flags mount(2) gives a mount from its `flags` (path_mount(),
 * fs/namespace.c): relatime unless MS_NOATIME, none of the two with MS_STRICTATIME; a
 * remount given no atime flag keeps the atime flags the mount had (`remounted`).
 */
export function mountFlagsOf(flags: bigint, remounted?: bigint): bigint {
  let own = ((flags & MS_NOATIME) === 0n ? MS_RELATIME : 0n) | (flags & OWN_FLAGS);
  if ((flags & MS_STRICTATIME) !== 0n) own &= ~(MS_RELATIME | MS_NOATIME);
  const atimeGiven = (flags & (ATIME_FLAGS | MS_STRICTATIME)) !== 0n;
  return remounted === undefined || atimeGiven ? own : (own & ~ATIME_FLAGS) | (remounted & ATIME_FLAGS);
}

/**
 * A new filesystem's mount: mount(2) with MS_RDONLY makes both the superblock and the
 * mount read-only (checked on Linux 6.18); `flags`, the mount's other flags (mountFlagsOf).
 */
export function newFilesystemMount(readOnly: boolean, sbReadOnly = readOnly, flags = 0n): MountState {
  return { readOnly, flags, sb: { readOnly: sbReadOnly }, propagation: { ...PRIVATE } };
}

/**
 * A copy of `source` as a bind or open_tree(2) makes it (clone_mnt(), fs/namespace.c):
 * the same superblock, the mount's own flags, a peer of a shared source and a slave of a
 * slave's master; never unbindable (an unbindable source is refused before).
 */
export function cloneMount(source: MountState): MountState {
  const { shared, slave } = source.propagation;
  return { readOnly: source.readOnly, flags: source.flags, sb: source.sb, propagation: { shared, slave, unbindable: false } };
}

/**
 * The propagation after MS_SHARED, MS_SLAVE, MS_PRIVATE or MS_UNBINDABLE
 * (change_mnt_propagation(), fs/pnode.c): MS_SHARED clears unbindable, and a slave stays
 * one; MS_SLAVE takes a mount out of its peer group, to receive from it (do_make_slave()),
 * and leaves unbindable as it was; MS_PRIVATE clears all; MS_UNBINDABLE takes it out of
 * its peer group and from its master too and makes it unbindable.
 */
export function changedPropagation(p: Propagation, type: bigint): Propagation {
  switch (type) {
    case MS_SHARED:
      return { shared: true, slave: p.slave, unbindable: false };
    case MS_SLAVE:
      return { shared: false, slave: p.shared || p.slave, unbindable: p.unbindable };
    case MS_PRIVATE:
      return { ...PRIVATE };
    case MS_UNBINDABLE:
      return { shared: false, slave: false, unbindable: true };
    default:
      return p;
  }
}

/**
 * A mount's propagation in a new mount namespace's copy of it (copy_mnt_ns(),
 * fs/namespace.c; mount_namespaces(7)): a shared mount is a peer of the one it copies, or,
 * in a namespace owned by another user namespace (`lessPrivileged`), its slave; an
 * unbindable mount's copy is not unbindable (checked on Linux 6.18).
 */
export function copiedPropagation(p: Propagation, lessPrivileged: boolean): Propagation {
  return lessPrivileged ? { shared: false, slave: p.shared || p.slave, unbindable: false } : { shared: p.shared, slave: p.slave, unbindable: false };
}

/**
 * The per-mount flags but read-only that mount_setattr(2) sets and clears, as mount(2)
 * flags (build_mount_kattr(), fs/namespace.c): the atime mode only where `attrClr` holds
 * MOUNT_ATTR__ATIME, which clears both MS_RELATIME and MS_NOATIME and sets the one
 * `attrSet` names (none for strictatime).
 */
export function setattrFlags(attrSet: bigint, attrClr: bigint): { set: bigint; clear: bigint } {
  const flagsOf = (attrs: bigint) => MOUNT_FLAG_ATTRS.reduce((f, [flag, attr]) => ((attrs & attr) !== 0n ? f | flag : f), 0n);
  const [set, clear] = [flagsOf(attrSet), flagsOf(attrClr)];
  if ((attrClr & MOUNT_ATTR__ATIME) === 0n) return { set, clear };
  const atime = attrSet & MOUNT_ATTR__ATIME;
  const mode = atime === MOUNT_ATTR_NOATIME ? MS_NOATIME : atime === MOUNT_ATTR_RELATIME ? MS_RELATIME : 0n;
  return { set: set | mode, clear: clear | MS_RELATIME | MS_NOATIME };
}

/** Whether a change below a mount is refused with EROFS: its own flag or its superblock's. */
export function isReadOnly(state: MountState): boolean {
  return state.readOnly || state.sb.readOnly;
}

/** statfs(2) f_flags of a file on the mount: ST_VALID, its flags, and ST_RDONLY for its own read-only flag or its superblock's. */
export function statfsFlags(state: MountState): bigint {
  let st = ST_VALID | (isReadOnly(state) ? ST_RDONLY : 0n);
  for (const [bit, ms] of STATFS_TO_MOUNT) if ((state.flags & ms) !== 0n) st |= bit;
  return st;
}

/** mountinfo's per-mount options (proc(5), show_mnt_opts(), fs/proc_namespace.c) and the flag each shows. */
const MOUNTINFO_OPTIONS: Readonly<Record<string, bigint>> = {
  nosuid: MS_NOSUID,
  nodev: MS_NODEV,
  noexec: MS_NOEXEC,
  noatime: MS_NOATIME,
  nodiratime: MS_NODIRATIME,
  relatime: MS_RELATIME,
  nosymfollow: MS_NOSYMFOLLOW,
};

/**
 * The state of a mount the process's namespace holds, from its mountinfo line: its own
 * options ("ro" or "rw" first, then its flags), its superblock's (the "ro" or "rw" of
 * the super options) and its optional fields ("shared:N", "master:N", "unbindable").
 * `sb` is the superblock of the same filesystem's other mounts, when one was seen.
 */
export function mountInfoState(m: MountInfo, sb: Superblock = { readOnly: m.superOptions.split(',')[0] === 'ro' }): MountState {
  const options = m.options.split(',');
  let flags = 0n;
  for (const o of options) flags |= MOUNTINFO_OPTIONS[o] ?? 0n;
  const has = (tag: string) => m.optional.some((o) => o === tag || o.startsWith(`${tag}:`));
  return { readOnly: options[0] === 'ro', flags, sb, propagation: { shared: has('shared'), slave: has('master'), unbindable: has('unbindable') } };
}

/**
 * mountinfo's optional fields for a mount whose propagation was `was` when they were
 * `fields` and is `now`: the same fields when nothing changed; else "shared:N" with its
 * peer group, kept while it stayed shared, or new (`newGroup`: MS_SLAVE took it out of
 * its old one), "master:N" with the group it receives from (its own old one when MS_SLAVE
 * made it a slave), and "unbindable" (show_mountinfo(), fs/proc_namespace.c).
 */
export function propagationFields(fields: readonly string[], was: Propagation, now: Propagation, newGroup: () => number): string[] {
  if (was.shared === now.shared && was.slave === now.slave && was.unbindable === now.unbindable) return [...fields];
  const field = (tag: string) => fields.find((f) => f.startsWith(`${tag}:`));
  const out: string[] = [];
  const group = field('shared');
  if (now.shared) out.push(was.shared && group && now.slave === was.slave ? group : `shared:${newGroup()}`);
  if (now.slave) {
    const master = was.slave ? field('master') : group && `master:${group.slice('shared:'.length)}`;
    out.push(master ?? `master:${newGroup()}`);
    const from = field('propagate_from');
    if (was.slave && from) out.push(from);
  }
  if (now.unbindable) out.push('unbindable');
  return out;
}
