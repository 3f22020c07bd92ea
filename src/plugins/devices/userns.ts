/**
 * Whether this process runs inside a user namespace, decided from /proc/self/uid_map once
 * per run.
 *
 * Shared key (RunContext.shared):
 * - `host.inUserNamespace` (boolean): set on the first call of `inUserNamespace`, read by
 *   every later call in the same run.
 */
import { SyscallError } from '../../core/errors';
import { inInitialUserNamespace } from '../../core/namespaces';
import type { RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

export const IN_USER_NAMESPACE_KEY = 'host.inUserNamespace';

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
    inside = !inInitialUserNamespace(sys.readFile('/proc/self/uid_map'));
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
  }
  ctx.shared.set(IN_USER_NAMESPACE_KEY, inside);
  return inside;
}
