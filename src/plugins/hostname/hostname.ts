import { inject, injectable } from 'tsyringe';
import type { RootfsConfig } from '../../core/config/model';
import { PROC_SYS, sysctlFiles } from '../../core/config/sysctl-key';
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
 *
 * A kernel.domainname sysctl beside `domainname` names the same one domain name of the
 * namespace, and runc 1.4 takes both: it sets the field, then writes the sysctl, whose
 * value the container keeps. Here the sysctl alone gives it: this step and the sysctl
 * step share a phase and an order, so which runs first would be their modules' places in
 * the plugin list, and a list with builtin:hostname after builtin:finalize would leave
 * the field's name instead.
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
    if (domainname && !sysctlSetsDomainname(ctx.config)) this.sys.setdomainname(domainname);
  }
}

const DOMAINNAME_FILE = `${PROC_SYS}/kernel/domainname`;

/** Whether a linux.sysctl key names kernel.domainname (in any of its spellings); a key that names no file is the sysctl step's to refuse. */
function sysctlSetsDomainname(config: RootfsConfig): boolean {
  return Object.keys(config.sysctls).some((key) => {
    try {
      return sysctlFiles(key).includes(DOMAINNAME_FILE);
    } catch {
      return false;
    }
  });
}
