/**
 * The SELinux relabel a bind mount may ask for with the `z` or `Z` option: the source
 * tree gets the container's mount label so the container may use it. Pure decisions
 * only; the labels are written with relabelTree (core/selinux.ts).
 */
import { StepError } from '../../core/errors';
import { cleanPath } from '../../core/paths';

export type RelabelMode = 'shared' | 'private';

/**
 * `z`: content shared between containers; `Z`: private to this one. Anything else is
 * refused, as go-selinux's label.Validate refuses `z` and `Z` together.
 */
export function relabelMode(relabel: string): RelabelMode | undefined {
  if (relabel === '') return undefined;
  if (relabel === 'z') return 'shared';
  if (relabel === 'Z') return 'private';
  throw new StepError(`relabel ${JSON.stringify(relabel)} must be "z" (shared) or "Z" (private)`);
}

/**
 * The label a shared relabel writes: the MCS level becomes `s0`, which every container's
 * categories dominate, so all containers may use the content (go-selinux label.Relabel).
 * A private relabel keeps the level, and with it the container's own categories.
 */
export function sharedLabel(label: string): string {
  const fields = label.split(':');
  if (fields.length < 3) throw new StepError(`SELinux label ${JSON.stringify(label)} is not user:role:type[:level]`);
  return [...fields.slice(0, 3), 's0'].join(':');
}

/** The label to write on the source for `mode`. */
export function relabelTarget(mode: RelabelMode, mountLabel: string): string {
  return mode === 'shared' ? sharedLabel(mountLabel) : mountLabel;
}

/**
 * Host directories whose relabelling would break the host, refused as go-selinux
 * refuses them (label.Relabel's exclusion list).
 */
export const RELABEL_REFUSED = new Set([
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/etc/passwd',
  '/etc/pki',
  '/etc/shadow',
  '/home',
  '/lib',
  '/lib64',
  '/media',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/tmp',
  '/usr',
  '/var',
  '/var/lib',
  '/var/log',
]);

/**
 * A prefix nothing below which is relabelled, as go-selinux's Chcon refuses it (badPrefix):
 * a string prefix there, so "/usrdata" is refused as "/usr/share" is.
 */
const RELABEL_REFUSED_PREFIX = '/usr';

/** Why `source` may not be relabelled, or undefined when it may. */
export function relabelProblem(source: string): string | undefined {
  const path = cleanPath(source);
  if (RELABEL_REFUSED.has(path)) return `SELinux relabeling of ${JSON.stringify(path)} is not allowed`;
  return path.startsWith(RELABEL_REFUSED_PREFIX) ? `relabeling content in ${JSON.stringify(RELABEL_REFUSED_PREFIX)} is not allowed (${JSON.stringify(path)})` : undefined;
}
