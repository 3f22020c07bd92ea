import { inject, injectable } from 'tsyringe';
import { MS_RDONLY } from '../../core/constants';
import { cleanPath } from '../../core/paths';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { remountReadonly } from './remount';

/**
 * A /dev mount asked to be read-only was mounted read-write (device nodes, ptmx and
 * links were made in it since); it becomes read-only now, with its other flags kept.
 * Only the first mount at /dev counts, as in runc's finalizeRootfs.
 */
@injectable()
export class ReadonlyDevStep implements LifecycleStep {
  readonly name = 'readonly-dev';
  readonly phase = 'finalize' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const dev = ctx.config.mounts.find((m) => cleanPath(m.destination) === '/dev');
    if (dev === undefined || (dev.flags & MS_RDONLY) === 0n) return;
    remountReadonly(this.sys, '/dev', dev.flags);
  }
}
