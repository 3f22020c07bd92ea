import { ConfigError, StepError, SyscallError, naming } from '../../core/errors';
import { exists, requireContainerProc } from '../../core/mounting';
import type { RunContext } from '../../core/plugin';
import { NO_SELINUX, selinuxEnabled } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * The LSM labels of the container's program, each set for this process's next execve(2)
 * through its procfs attributes (proc(5), /proc/pid/attr), as runc's init sets them, and
 * each a failure of the run where the host cannot give it: a container asked to be
 * confined is not started less confined.
 */

/** AppArmor's own attribute directory (Linux 5.8 and later); before it, the shared one. */
const APPARMOR_EXEC = '/proc/self/attr/apparmor/exec';
const LEGACY_EXEC = '/proc/self/attr/exec';
/** SELinux's exec attribute is per thread: the one that execs is this one. */
const SELINUX_EXEC = '/proc/thread-self/attr/exec';

/**
 * process.apparmorProfile: "exec PROFILE" written to the exec attribute, which AppArmor
 * applies at the next execve (aa_change_onexec(2)). Without AppArmor the kernel refuses
 * the write (EINVAL), as it refuses runc's. The attribute is the container's /proc after
 * the jail, so that must be a procfs.
 */
export function applyAppArmorProfile(sys: Syscalls, ctx: RunContext, profile: string): void {
  requireContainerProc(sys, ctx, 'process.apparmorProfile');
  const attr = exists(sys, APPARMOR_EXEC) ? APPARMOR_EXEC : LEGACY_EXEC;
  try {
    sys.writeFile(attr, `exec ${profile}`);
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new StepError(`process.apparmorProfile ${JSON.stringify(profile)}: ${err.message}${err.code === 'EINVAL' ? ' (is AppArmor enabled, and the profile loaded?)' : ''}`, { cause: err });
  }
}

/**
 * process.selinuxLabel: the label written to this thread's exec attribute, which SELinux
 * gives the program at execve. A host without SELinux cannot give it: a config error, as
 * runc's validator makes it (config/validate.ts refuses it before anything is mounted).
 */
export function setSelinuxExecLabel(sys: Syscalls, ctx: RunContext, label: string): void {
  if (!selinuxEnabled(sys, ctx)) throw new ConfigError('process.selinuxLabel', label, NO_SELINUX);
  requireContainerProc(sys, ctx, 'process.selinuxLabel');
  naming(`process.selinuxLabel ${JSON.stringify(label)}`, () => sys.writeFile(SELINUX_EXEC, label));
}
