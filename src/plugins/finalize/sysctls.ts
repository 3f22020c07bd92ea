import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { sysctlPath } from '../../core/config/sysctl';
import { O_WRONLY } from '../../core/constants';
import { writeProcFiles } from '../../core/procfs';

/**
 * Writes linux.sysctl through the container's /proc/sys, in the config's order. Every
 * key is checked before the first write, so a bad key changes nothing; so is every file,
 * opened first through the container's verified procfs (core/procfs.ts), never through a
 * symlink or a mount inside /proc (CVE-2025-52881: an image without a procfs mounted
 * would otherwise lead the write to any file). A sysctl of the network, IPC or UTS
 * namespace is the one of this process's namespaces, whatever procfs shows it.
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
    const writes = Object.entries(ctx.config.sysctls).map(([key, data]) => ({ path: sysctlPath(key), data, what: `linux.sysctl ${JSON.stringify(key)}` }));
    if (writes.length > 0) writeProcFiles(this.sys, ctx, writes, O_WRONLY);
  }
}
