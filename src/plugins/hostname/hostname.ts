import { inject, injectable } from 'tsyringe';
import { hasNamespace } from '../../core/config/model';
import { ConfigError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Sets the container's hostname and NIS domain name (OCI `hostname`, and `domainname`
 * as runc 1.2 and crun set it) in its own UTS namespace; without one, sethostname(2) and
 * setdomainname(2) would rename the host, so the config is refused instead, as runc
 * does.
 */
@injectable()
export class HostnameStep implements LifecycleStep {
  readonly name = 'hostname';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { hostname, domainname } = ctx.config;
    for (const [field, name] of Object.entries({ hostname, domainname })) {
      if (name && !hasNamespace(ctx.config, 'uts')) throw new ConfigError(field, name, 'needs a uts namespace in linux.namespaces');
    }
    if (hostname) this.sys.sethostname(hostname);
    if (domainname) this.sys.setdomainname(domainname);
  }
}
