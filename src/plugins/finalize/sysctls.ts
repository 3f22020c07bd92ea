import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { sysctlFiles } from '../../core/config/sysctl-key';
import { O_WRONLY } from '../../core/constants';
import { StepError, SyscallError } from '../../core/errors';
import { isMissingProcFile, openProcFile, writeAllOpened, type OpenedProcWrite } from '../../core/procfs';

/**
 * Writes linux.sysctl through the container's /proc/sys, in the config's order. Every
 * key is checked before the first write, so a bad key changes nothing; so is every file,
 * opened first through the container's verified procfs (core/procfs.ts), never through a
 * symlink or a mount inside /proc (CVE-2025-52881: an image without a procfs mounted
 * would otherwise lead the write to any file). A sysctl of the network, IPC or UTS
 * namespace is the one of this process's namespaces, whatever procfs shows it.
 *
 * A key's file is the first of its files (sysctlFiles: runc's reading, then sysctl(8)'s)
 * that this procfs has: "net/ipv4.ip_forward" is net/ipv4/ip_forward, as runc writes it,
 * and "net/ipv4/conf/eth0.100/forwarding" the VLAN interface's file, which runc misses.
 *
 * Runs before the readonly paths: /proc/sys is one of them in the default OCI spec, and
 * a write through the read-only bind would fail with EROFS (runc also writes sysctls
 * first).
 */
@injectable()
export class SysctlsStep implements LifecycleStep {
  readonly name = 'sysctl';
  readonly handles = ['linux.sysctl'];
  readonly phase = 'finalize' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const keys = Object.entries(ctx.config.sysctls).map(([key, data]) => ({ files: sysctlFiles(key), data, what: `linux.sysctl ${JSON.stringify(key)}` }));
    writeAllOpened(this.sys, keys.map((key) => () => this.open(ctx, key.files, key.data, key.what)));
  }

  /** The first of `files` the container's procfs has, opened for writing; when it has none, one line naming each. */
  private open(ctx: RunContext, files: readonly string[], data: string, what: string): OpenedProcWrite {
    const missing: string[] = [];
    let last: unknown;
    for (const path of files) {
      try {
        return { fd: openProcFile(this.sys, ctx, path, O_WRONLY, what), write: { path, data, what } };
      } catch (err) {
        const code = noSuchFile(err);
        if (code === undefined || files.length === 1) throw err;
        missing.push(`${JSON.stringify(path)}: ${code}`);
        last = err;
      }
    }
    throw new StepError(`${what}: open ${missing.join(', nor ')}`, { cause: last });
  }
}

/** The error code when openProcFile's `err` says the procfs has no such file: ENOENT, or ENOTDIR for a file on the way. */
function noSuchFile(err: unknown): string | undefined {
  if (isMissingProcFile(err)) return 'ENOENT';
  const cause = err instanceof StepError ? err.cause : undefined;
  return cause instanceof SyscallError && cause.code === 'ENOTDIR' ? 'ENOTDIR' : undefined;
}
