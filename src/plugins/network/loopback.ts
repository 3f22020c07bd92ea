import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/** The loopback interface, the one interface a new network namespace has (network_namespaces(7)). */
export const LOOPBACK = 'lo';

/**
 * Brings the loopback interface up in a network namespace made for the container
 * (`linux.namespaces` entry `network` without a path), as runc (its "loopback" network)
 * and crun do: the kernel makes it down, so without this nothing in the container could
 * reach 127.0.0.1 or ::1. A namespace joined by path is someone else's (a CNI plugin's,
 * a pod's sandbox) and is left as it is.
 */
@injectable()
export class LoopbackStep implements LifecycleStep {
  readonly name = 'loopback';
  readonly handles = ['linux.namespaces.network'];
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (ctx.config.namespaces.some((ns) => ns.type === 'network' && !ns.path)) this.sys.setInterfaceUp(LOOPBACK);
  }
}
