import { O_WRONLY } from '../../core/constants';
import { ConfigError } from '../../core/errors';
import type { RunContext } from '../../core/plugin';
import { isMissingProcFile, openProcFile, writeProcFd, writeProcFiles } from '../../core/procfs';
import { NO_SELINUX, selinuxEnabledAfterJail } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * The LSM labels of the container's program, each set for this process's next execve(2)
 * through its procfs attributes (proc(5), /proc/pid/attr), as runc's init sets them, and
 * each a failure of the run where the host cannot give it: a container asked to be
 * confined is not started less confined. Each attribute is opened through the container's
 * verified procfs (core/procfs.ts): a symlink or a mount in the container's /proc would
 * otherwise take the label elsewhere, and the program would start unconfined.
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
  const what = `process.apparmorProfile ${JSON.stringify(profile)}`;
  let path = APPARMOR_EXEC;
  let fd: number;
  try {
    fd = openProcFile(sys, ctx, path, O_WRONLY, what);
  } catch (err) {
    if (!isMissingProcFile(err)) throw err;
    path = LEGACY_EXEC;
    fd = openProcFile(sys, ctx, path, O_WRONLY, what);
  }
  try {
    writeProcFd(sys, fd, { path, data: `exec ${profile}`, what }, (code) => (code === 'EINVAL' ? ' (is AppArmor enabled, and the profile loaded?)' : ''));
  } finally {
    sys.close(fd);
  }
}

/**
 * process.selinuxLabel: the label written to this thread's exec attribute, which SELinux
 * gives the program at execve. A host without SELinux cannot give it: a config error, as
 * runc's validator makes it (config/validate.ts refuses it before anything is mounted).
 * Whether the host runs SELinux is the answer asked before the jail (core/selinux.ts):
 * `/sys` is the container's by now.
 */
export function setSelinuxExecLabel(sys: Syscalls, ctx: RunContext, label: string): void {
  const what = `process.selinuxLabel ${JSON.stringify(label)}`;
  if (!selinuxEnabledAfterJail(ctx, what)) throw new ConfigError('process.selinuxLabel', label, NO_SELINUX);
  writeProcFiles(sys, ctx, [{ path: SELINUX_EXEC, data: label, what }], O_WRONLY);
}
