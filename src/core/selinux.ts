/**
 * SELinux labels for mounts, as far as the rootfs code needs them. On a host without
 * SELinux (no selinuxfs at /sys/fs/selinux) labels are ignored, as runc ignores them.
 */
import { exists } from './mounting';
import type { RunContext } from './plugin';
import type { Syscalls } from './syscalls/types';

/** A file selinuxfs has whenever SELinux runs: its presence is SELinux being enabled. */
export const SELINUXFS_ENFORCE = '/sys/fs/selinux/enforce';
/** Why process.selinuxLabel is refused on a host without SELinux. */
export const NO_SELINUX = 'is set, but SELinux is disabled or not supported on this host';
const XATTR_NAME = 'security.selinux';

/** Whether the host runs SELinux; asked once per run and kept in ctx.shared. */
export function selinuxEnabled(sys: Syscalls, ctx: RunContext): boolean {
  const key = 'selinux.enabled';
  let enabled = ctx.shared.get(key) as boolean | undefined;
  if (enabled === undefined) {
    enabled = exists(sys, SELINUXFS_ENFORCE);
    ctx.shared.set(key, enabled);
  }
  return enabled;
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
