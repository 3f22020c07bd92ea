import { inject, injectable } from 'tsyringe';
import { ConfigError, StepError, SyscallError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import { BPF_MAXINSNS, SOCK_FILTER_SIZE, encodeProgram, enosysStub } from '../../core/seccomp/enosys';
import { seccompProfile } from '../../core/seccomp/profile';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * linux.seccomp in two parts. The filter is built first in the run (this step), while
 * the process still sees the host's filesystem: libseccomp is loaded from it, and the
 * jail hides it. The exec step loads it (loadSeccomp) as late as it can, so that as few
 * of mountkit's own syscalls as possible run under it: last before the container's user
 * and capabilities when there is no no_new_privs (the kernel then takes a filter only
 * from a holder of CAP_SYS_ADMIN), else after the program's lookup, before the
 * startContainer hooks, as runc's init does.
 */

const SHARED_KEY = 'exec.seccomp';

/** The filter built and waiting for the exec step. */
interface BuiltFilter {
  program: Uint8Array;
  flags: number;
  implicitFlags: number;
}

@injectable()
export class SeccompStep implements LifecycleStep {
  readonly name = 'seccomp';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const spec = ctx.config.seccomp;
    if (!spec) return;
    const profile = seccompProfile(spec);
    for (const field of profile.ignored) ctx.log.warn(`${field} ignored`);
    let compiled;
    try {
      compiled = this.sys.seccompCompile(profile.filter);
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      throw new StepError(`linux.seccomp: ${err.message}`, { cause: err });
    }
    // runc tells of these at debug level only: profiles list syscalls of newer kernels.
    if (compiled.unknown.length) ctx.log.debug(`linux.seccomp: syscalls libseccomp does not know left out: ${compiled.unknown.join(', ')}`);
    const stub = encodeProgram(profile.enosysStub ? enosysStub(compiled.lastSyscalls) : []);
    const program = new Uint8Array(stub.length + compiled.program.length);
    program.set(stub);
    program.set(compiled.program, stub.length);
    const length = program.length / SOCK_FILTER_SIZE;
    if (length > BPF_MAXINSNS) throw new ConfigError('linux.seccomp', undefined, `makes a filter of ${length} instructions; the kernel takes at most ${BPF_MAXINSNS} (BPF_MAXINSNS)`);
    const built: BuiltFilter = { program, flags: profile.flags, implicitFlags: profile.implicitFlags };
    ctx.shared.set(SHARED_KEY, built);
  }
}

/**
 * Loads the filter SeccompStep built, if any. A flag the profile did not ask for
 * (SECCOMP_FILTER_FLAG_SPEC_ALLOW, before Linux 4.17) is left out when the kernel refuses
 * the flags (EINVAL).
 */
export function loadSeccomp(sys: Syscalls, ctx: RunContext): void {
  const built = ctx.shared.get(SHARED_KEY) as BuiltFilter | undefined;
  if (!built) return;
  try {
    try {
      sys.seccompLoad(built.program, built.flags);
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EINVAL' || !(built.flags & built.implicitFlags)) throw err;
      sys.seccompLoad(built.program, built.flags & ~built.implicitFlags);
    }
  } catch (err) {
    if (!(err instanceof SyscallError)) throw err;
    throw new StepError(`linux.seccomp: ${err.message}`, { cause: err });
  }
}
