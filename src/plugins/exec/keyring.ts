import { inject, injectable } from 'tsyringe';
import { hasNamespace } from '../../core/config/model';
import { SyscallError, naming } from '../../core/errors';
import { givenContainerId } from '../../core/hooks';
import { KEY_OTH_SEARCH, KEY_USR_SEARCH, sessionKeyringName } from '../../core/keyring';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/** SELinux labels a new key with the creating thread's keycreate attribute (proc(5)); execve(2) clears it. */
const SELINUX_KEYCREATE = '/proc/thread-self/attr/keycreate';

/**
 * The container's own session keyring (core/keyring.ts), joined at the start of the run
 * as runc's init joins it, before the user changes, so that containers started from one
 * session (a service's, a login's) do not share its keys. With an id given (`mountkit run
 * ID`, RootfsConfig.id, or an embedder's `container.id`) it is named after it, as runc
 * names it: a process joining that name later (or another run given the same id) shares
 * it. Without one, a new anonymous keyring: the default id, the bundle directory's name,
 * is no one's choice, and two bundles of one name would share their keys. The keyring's
 * owner may search it (others too in a user namespace), as runc opens it to processes
 * joining the container later. With process.selinuxLabel the keyring gets that label, as under runc.
 * RootfsConfig.noNewKeyring (`--no-new-keyring`, runc's option) keeps the starter's. A
 * kernel without keys (ENOSYS) keeps it too, as runc goes on there; any other refusal
 * (a seccomp filter mountkit was started under that refuses keyctl) stops the run.
 */
@injectable()
export class SessionKeyringStep implements LifecycleStep {
  readonly name = 'session-keyring';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (ctx.config.noNewKeyring) return;
    const label = ctx.config.process.selinuxLabel;
    if (label) naming(`process.selinuxLabel ${JSON.stringify(label)}`, () => this.sys.writeFile(SELINUX_KEYCREATE, label));
    const id = givenContainerId(ctx.shared, ctx.config);
    const name = id === undefined ? null : sessionKeyringName(id);
    try {
      this.sys.joinSessionKeyring(name, hasNamespace(ctx.config, 'user') ? KEY_OTH_SEARCH : KEY_USR_SEARCH);
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'ENOSYS') throw err;
      ctx.log.debug(`${err.message}: this kernel has no keys, the container keeps the session keyring mountkit was started with`);
    }
  }
}
