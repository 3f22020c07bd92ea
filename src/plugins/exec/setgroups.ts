import { inject, injectable } from 'tsyringe';
import { SyscallError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/** This process's user namespace's setgroups policy (user_namespaces(7)). */
const SETGROUPS_FILE = '/proc/self/setgroups';

/** Whether setgroups(2) is allowed in this process's user namespace, in RunContext.shared, set before the jail. */
export const SETGROUPS_ALLOWED_KEY = 'exec.setgroups-allowed';

/**
 * Reads whether setgroups(2) is allowed in this process's user namespace, for the exec
 * step's setgroups, before the jail: /proc is then still the host's procfs, which the
 * image cannot touch. After the jail it would be the container's /proc, which an image
 * without a procfs mounted decides (a file saying "deny" there kept root's
 * supplementary groups). The policy is the user namespace's, fixed once its gid_map is
 * written (user_namespaces(7)), which is before mountkit runs in it: a multithreaded
 * process can neither create nor join one, so the namespace is the one mountkit was
 * started (or started itself again) in. Not read for a rootless container, which never
 * calls setgroups.
 */
@injectable()
export class SetgroupsPolicyStep implements LifecycleStep {
  readonly name = 'setgroups-policy';
  readonly phase = 'before-jail' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (ctx.config.rootless) return;
    ctx.shared.set(SETGROUPS_ALLOWED_KEY, setgroupsAllowed(this.sys));
  }
}

/** /proc/self/setgroups is missing without a procfs or before Linux 3.19, where setgroups(2) is never denied; any other failure to read it is an error. */
export function setgroupsAllowed(sys: Syscalls): boolean {
  try {
    return sys.readFile(SETGROUPS_FILE).trim() !== 'deny';
  } catch (err) {
    if (err instanceof SyscallError && err.code === 'ENOENT') return true;
    throw err;
  }
}
