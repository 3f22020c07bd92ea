import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { sysctlPath } from '../../core/config/sysctl';

/**
 * Writes linux.sysctl through the container's /proc/sys, in the config's order. Every
 * key is checked before the first write, so a bad key changes nothing.
 *
 * Runs before the readonly paths: /proc/sys is one of them in the default OCI spec, and
 * a write through the read-only bind would fail with EROFS (runc also writes sysctls
 * first).
 */
@injectable()
export class SysctlsStep implements LifecycleStep {
  readonly name = 'sysctl';
  readonly phase = 'finalize' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const writes = Object.entries(ctx.config.sysctls).map(([key, value]) => ({ path: sysctlPath(key), value }));
    for (const { path, value } of writes) this.sys.writeFile(path, value);
  }
}
