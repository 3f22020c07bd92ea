import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { remountReadonly } from './remount';

/**
 * root.readonly: the mount at `/` (the container's root after the jail) becomes
 * read-only; mounts below it keep their own flags.
 *
 * As runc 1.1's setReadonly: MS_BIND|MS_REMOUNT|MS_RDONLY without MS_REC (1.0-rc9 passed
 * MS_REC, which the kernel ignores on a remount). When that fails, runc retries once
 * with the flags statfs(2) reports for `/` added, which keeps the flags a user
 * namespace may not clear; mountkit's port has no statfs, so that retry is not made.
 */
@injectable()
export class ReadonlyRootfsStep implements LifecycleStep {
  readonly name = 'readonly-rootfs';
  readonly phase = 'finalize' as const;
  readonly order = 'post' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (ctx.config.readonlyRootfs) remountReadonly(this.sys, '/');
  }
}
