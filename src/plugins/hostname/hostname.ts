import { inject, injectable } from 'tsyringe';
import { hasNamespace } from '../../core/config/model';
import { ConfigError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Sets the container's hostname (OCI `hostname`) in its own UTS namespace; without one,
 * sethostname(2) would rename the host, so the config is refused instead, as runc does.
 */
@injectable()
export class HostnameStep implements LifecycleStep {
  readonly name = 'hostname';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { hostname } = ctx.config;
    if (!hostname) return;
    if (!hasNamespace(ctx.config, 'uts')) throw new ConfigError('hostname', hostname, 'needs a uts namespace in linux.namespaces');
    this.sys.sethostname(hostname);
  }
}
