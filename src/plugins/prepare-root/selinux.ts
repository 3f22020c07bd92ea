import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import { ConfigError } from '../../core/errors';
import { NO_SELINUX, hasSelinuxLabel, selinuxEnabled } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Asks whether the host runs SELinux (core/selinux.ts) in a run whose config gives a
 * label (linux.mountLabel, process.selinuxLabel): once the rootfs is prepared, before
 * its mounts, as runc's init asks go-selinux's GetEnabled at its first labelled mount;
 * `/sys` and `/proc` are then still the host's. After the prepare-root step, which has
 * read the run's mount table (after its propagation change, which the table must show):
 * where selinuxfs is looked for among the mounts, that read is the one used. The steps
 * after the jail (the masks' tmpfs, the process label) read this answer; asked there,
 * the container's `/sys` would give it. A config without a label asks nothing. A
 * process.selinuxLabel on a host without SELinux is refused here, before any mount or
 * hook, as runc's validator refuses it by GetEnabled's answer (the config check before
 * the run refuses it already where no mount table is needed to tell: config/validate.ts).
 */
@injectable()
export class SelinuxStateStep implements LifecycleStep {
  readonly name = 'selinux-state';
  readonly phase = 'prepare-root' as const;
  readonly order = 'post' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (!hasSelinuxLabel(ctx.config) || selinuxEnabled(this.sys, ctx)) return;
    const label = ctx.config.process.selinuxLabel;
    if (label) throw new ConfigError('process.selinuxLabel', label, NO_SELINUX);
  }
}
