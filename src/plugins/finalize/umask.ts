import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/** The container process's umask when process.user.umask names none: 0022, whatever the runtime's was (runc's default). */
export const CONTAINER_UMASK = 0o022;

@injectable()
export class UmaskStep implements LifecycleStep {
  readonly name = 'umask';
  readonly phase = 'finalize' as const;
  readonly order = 'post' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    this.sys.umask(ctx.config.process.umask ?? CONTAINER_UMASK);
  }
}
