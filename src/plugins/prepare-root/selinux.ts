import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import { hasSelinuxLabel, selinuxEnabled } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Asks whether the host runs SELinux (core/selinux.ts) at the start of a run whose config
 * gives a label (linux.mountLabel, process.selinuxLabel), as runc's init asks go-selinux
 * before it prepares the rootfs: `/sys` is then still the host's. The steps after the
 * jail (the masks' tmpfs, the process label) read this answer; asked there, the
 * container's `/sys` would give it. A config without a label asks nothing.
 */
@injectable()
export class SelinuxStateStep implements LifecycleStep {
  readonly name = 'selinux-state';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (hasSelinuxLabel(ctx.config)) selinuxEnabled(this.sys, ctx);
  }
}
