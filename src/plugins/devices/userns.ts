/**
 * Whether this process runs inside a user namespace, decided from /proc/self/uid_map once
 * per run.
 *
 * Shared key (RunContext.shared):
 * - `host.inUserNamespace` (boolean): set on the first call of `inUserNamespace`, read by
 *   every later call in the same run.
 */
import { SyscallError } from '../../core/errors';
import type { RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

export const IN_USER_NAMESPACE_KEY = 'host.inUserNamespace';

/**
 * user_namespaces(7): the initial user namespace maps the whole 32-bit id range onto
 * itself, so its uid_map is the single line "0 0 4294967295". Any other content (a
 * partial map, or none yet in a fresh namespace) means a nested user namespace.
 */
export function uidMapIsInitial(uidMap: string): boolean {
  const lines = uidMap.split('\n').filter((l) => l.trim() !== '');
  return lines.length === 1 && lines[0].trim().split(/\s+/).join(' ') === '0 0 4294967295';
}

/**
 * True inside a user namespace. A uid_map that cannot be read (a kernel without user
 * namespaces has none, or no procfs is mounted) counts as the initial namespace, as runc
 * 1.1 (userns.RunningInUserNS) counts it.
 */
export function inUserNamespace(sys: Pick<Syscalls, 'readFile'>, ctx: RunContext): boolean {
  const known = ctx.shared.get(IN_USER_NAMESPACE_KEY);
  if (typeof known === 'boolean') return known;
  let inside = false;
  try {
    inside = !uidMapIsInitial(sys.readFile('/proc/self/uid_map'));
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
  }
  ctx.shared.set(IN_USER_NAMESPACE_KEY, inside);
  return inside;
}
