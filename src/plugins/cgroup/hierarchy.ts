/**
 * The host's cgroup facts, as pure functions of the mount table and /proc/self/cgroup:
 * which version to mount, which v1 hierarchies exist, and where this process's own
 * cgroup lies in each.
 */
import posix = require('path/posix');
import { StepError } from '../../core/errors';
import { parentMountOf, type MountInfo, type MountTable } from '../../core/mountinfo';
import type { ProcCgroupEntry } from '../../core/proc-cgroup';
import { cleanPath } from '../../core/paths';

export { parseProcCgroup, type ProcCgroupEntry } from '../../core/proc-cgroup';

/** Where the host mounts its cgroup filesystems (a cgroup2 here means a unified host). */
export const CGROUP_ROOT = '/sys/fs/cgroup';

/** Prefix of a named v1 hierarchy that has no controller, such as name=systemd (cgroups(7)). */
export const NAMED_PREFIX = 'name=';

/**
 * A v1 hierarchy to show in the container: its first mount in the table and the
 * process's cgroup in it.
 */
export interface V1Hierarchy {
  mountpoint: string;
  /** The directory of the hierarchy the mount shows (mountinfo's root field). */
  root: string;
  /** The controllers this mount is the first to provide, as the mount's options name them. */
  controllers: string[];
  /** The process's cgroup in this hierarchy, from /proc/self/cgroup. */
  cgroupPath: string;
}

/**
 * The v1 hierarchies, in mount-table order, as runc's cgroups.GetCgroupMounts(false)
 * finds them: among `cgroup` mounts (cgroup2 excluded), each controller the process
 * belongs to is taken from the first mount whose options name it; a mount left with
 * none of them (a second mount of a hierarchy) is skipped.
 */
export function v1Hierarchies(table: MountTable, cgroups: readonly ProcCgroupEntry[]): V1Hierarchy[] {
  const pathOf = new Map<string, string>();
  for (const entry of cgroups) for (const c of entry.controllers) pathOf.set(c, entry.path);
  const taken = new Set<string>();
  const out: V1Hierarchy[] = [];
  for (const m of table) {
    if (m.fstype !== 'cgroup') continue;
    const controllers = m.superOptions.split(',').filter((opt) => pathOf.has(opt) && !taken.has(opt));
    if (controllers.length === 0) continue;
    for (const c of controllers) taken.add(c);
    out.push({ mountpoint: m.mountpoint, root: m.root, controllers, cgroupPath: pathOf.get(controllers[0])! });
  }
  return out;
}

/**
 * The host path of the process's own cgroup directory under a mount that shows
 * `root` of its hierarchy at `mountpoint`.
 */
export function ownCgroupDir(mountpoint: string, root: string, cgroupPath: string): string {
  // Inside a cgroup namespace, a hierarchy root above the namespace's own shows as "/.."
  // (cgroup_namespaces(7)): where the process's cgroup lies below it is unknown.
  if (root.split('/').includes('..')) {
    throw new StepError(`the hierarchy mounted at ${JSON.stringify(mountpoint)} shows ${JSON.stringify(root)}, outside this process's cgroup namespace`);
  }
  const r = cleanPath(root);
  const p = cleanPath(cgroupPath);
  if (r !== '/' && p !== r && !p.startsWith(r + '/')) {
    throw new StepError(`own cgroup ${JSON.stringify(p)} is outside the root ${JSON.stringify(r)} of the hierarchy mounted at ${JSON.stringify(mountpoint)}`);
  }
  return cleanPath(posix.join(mountpoint, p.slice(r === '/' ? 0 : r.length)));
}

/** The name the container sees a hierarchy under: the host mountpoint's last component (cpu,cpuacct). */
export function hierarchyName(h: V1Hierarchy): string {
  return posix.basename(h.mountpoint);
}

/**
 * The links runc adds for co-mounted controllers: a hierarchy shown as `cpu,cpuacct`
 * also answers to `cpu` and `cpuacct`. Pairs of [link name, link target].
 */
export function comountLinks(names: readonly string[]): [string, string][] {
  return names.filter((n) => n.includes(',')).flatMap((n) => n.split(',').map((part): [string, string] => [part, n]));
}

/**
 * The filesystem data that mounts a v1 hierarchy anew: its controllers, a named one as
 * `name=systemd`; the source is the hierarchy's name for a named one, "cgroup" otherwise,
 * which is how runc 1.1 mounts it in a cgroup namespace.
 */
export function v1MountArgs(h: V1Hierarchy): { source: string; data: string } {
  const named = h.controllers.find((c) => c.startsWith(NAMED_PREFIX));
  return { source: named ? named.slice(NAMED_PREFIX.length) : 'cgroup', data: h.controllers.join(',') };
}

/** A unified host: the filesystem at /sys/fs/cgroup is cgroup2 (what runc learns with statfs). */
export function isUnifiedHost(table: MountTable): boolean {
  return parentMountOf(table, CGROUP_ROOT)?.fstype === 'cgroup2';
}

/** The process's own cgroup v2 directory on the host: the first cgroup2 mount plus the `0::` path. */
export function ownCgroup2Dir(table: MountTable, cgroups: readonly ProcCgroupEntry[]): string {
  const entry = cgroups.find((e) => e.id === 0 && e.controllers.length === 0);
  if (!entry) throw new StepError('/proc/self/cgroup has no cgroup v2 entry ("0::/path")');
  const mount: MountInfo | undefined = table.find((m) => m.fstype === 'cgroup2');
  if (!mount) throw new StepError('no cgroup2 filesystem in /proc/self/mountinfo');
  return ownCgroupDir(mount.mountpoint, mount.root, entry.path);
}
