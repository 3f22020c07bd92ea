import { inject, injectable } from 'tsyringe';
import { requireUtsNamespace } from '../../core/config/validate';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Sets the container's hostname and NIS domain name (OCI `hostname`, and `domainname`
 * as runc 1.2 and crun set it) in its own UTS namespace, where runc's init sets them:
 * after the jail, before the sysctls. createContainer hooks, which run in that namespace
 * before the jail, see the name it had from its parent, as under runc. Without a uts namespace,
 * sethostname(2) and setdomainname(2) would rename the host: config validation refuses
 * that config, and so does this step for a config it did not see.
 */
@injectable()
export class HostnameStep implements LifecycleStep {
  readonly name = 'hostname';
  readonly handles = ['hostname', 'domainname'];
  readonly phase = 'finalize' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    requireUtsNamespace(ctx.config);
    const { hostname, domainname } = ctx.config;
    if (hostname) this.sys.sethostname(hostname);
    if (domainname) this.sys.setdomainname(domainname);
  }
}
