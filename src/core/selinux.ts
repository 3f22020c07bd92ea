/**
 * SELinux labels for mounts, as far as the rootfs code needs them. On a host without
 * SELinux (no selinuxfs at /sys/fs/selinux) mount labels are left out: runc 1.1.5 passes
 * them as `context=` all the same, which the kernel refuses there (EINVAL), so runc fails
 * where mountkit runs (README, differences from runc). process.selinuxLabel is refused
 * there, as runc refuses it.
 */
import type { RootfsConfig } from './config/model';
import { StepError } from './errors';
import { exists } from './mounting';
import type { RunContext } from './plugin';
import type { Syscalls } from './syscalls/types';

/** A file selinuxfs has whenever SELinux runs: its presence is SELinux being enabled. */
export const SELINUXFS_ENFORCE = '/sys/fs/selinux/enforce';
/** Why process.selinuxLabel is refused on a host without SELinux. */
export const NO_SELINUX = 'is set, but SELinux is disabled or not supported on this host';
const XATTR_NAME = 'security.selinux';

/** The host's answer in RunContext.shared, once asked. */
export const SELINUX_ENABLED_KEY = 'selinux.enabled';

/**
 * Whether the host runs SELinux; asked once per run and kept in ctx.shared. Only a step
 * before the jail may ask it by path: after the jail `/sys` is the container's, where a
 * fresh sysfs (or none) has no selinuxfs whatever the host runs. The prepare-root
 * plugin's selinux-state step asks it first in a run whose config has a label, as runc's
 * init asks go-selinux's GetEnabled before it prepares the rootfs; a step after the
 * jail reads that answer with selinuxEnabledAfterJail.
 */
export function selinuxEnabled(sys: Syscalls, ctx: RunContext): boolean {
  let enabled = ctx.shared.get(SELINUX_ENABLED_KEY) as boolean | undefined;
  if (enabled === undefined) {
    enabled = exists(sys, SELINUXFS_ENFORCE);
    ctx.shared.set(SELINUX_ENABLED_KEY, enabled);
  }
  return enabled;
}

/**
 * The answer selinuxEnabled gave before the jail, for a step after it (`what` names what
 * needs it, in the error). Never asked again there: the container's `/sys` would answer.
 * A run that did not ask it before the jail (a plugin list without prepare-root's
 * selinux-state step) fails rather than label by the container's word.
 */
export function selinuxEnabledAfterJail(ctx: RunContext, what: string): boolean {
  const enabled = ctx.shared.get(SELINUX_ENABLED_KEY) as boolean | undefined;
  if (enabled === undefined) throw new StepError(`${what}: whether the host runs SELinux was not asked before the jail (the prepare-root plugin's selinux-state step asks it)`);
  return enabled;
}

/** Whether the config gives a label: a run that does asks selinuxEnabled before the jail. */
export function hasSelinuxLabel(config: Pick<RootfsConfig, 'mountLabel' | 'process'>): boolean {
  return !!config.mountLabel || !!config.process.selinuxLabel;
}

/** Mount data with the label as a `context=` option (mount(8), "context=context"). */
export function formatMountLabel(data: string, label: string): string {
  if (!label) return data;
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}

/** Labels one file without following a final symlink. */
export function setFileLabel(sys: Syscalls, path: string, label: string): void {
  sys.lsetxattr(path, XATTR_NAME, label);
}

/** Labels a tree (for a bind source asked to be relabelled with z or Z). */
export function relabelTree(sys: Syscalls, path: string, label: string): void {
  setFileLabel(sys, path, label);
  if (sys.lstat(path).kind !== 'dir') return;
  for (const name of sys.readdir(path)) relabelTree(sys, `${path}/${name}`, label);
}
