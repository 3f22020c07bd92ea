/**
 * Whether this process runs inside a user namespace, decided from /proc/self/ns/user (or,
 * where that cannot be read, /proc/self/uid_map) once per run.
 *
 * Shared key (RunContext.shared):
 * - `host.inUserNamespace` (boolean): set on the first call of `inUserNamespace`, read by
 *   every later call in the same run.
 */
import { inInitialUserNamespaceHere } from '../../core/namespaces';
import type { RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

export const IN_USER_NAMESPACE_KEY = 'host.inUserNamespace';

/**
 * True inside a user namespace other than the initial one (inInitialUserNamespaceHere):
 * also one nested with the identity uid_map, where mknod(2) of a device is refused as in
 * any other (capable(CAP_MKNOD) counts in the initial namespace only). Neither the link
 * nor uid_map readable (no procfs mounted, or a kernel without user namespaces): the
 * initial namespace, as runc 1.1 (userns.RunningInUserNS) counts it.
 */
export function inUserNamespace(sys: Pick<Syscalls, 'readlink' | 'readFile'>, ctx: RunContext): boolean {
  const known = ctx.shared.get(IN_USER_NAMESPACE_KEY);
  if (typeof known === 'boolean') return known;
  const inside = !inInitialUserNamespaceHere(sys);
  ctx.shared.set(IN_USER_NAMESPACE_KEY, inside);
  return inside;
}
