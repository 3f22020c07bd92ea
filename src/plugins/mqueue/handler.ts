import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { SyscallError } from '../../core/errors';
import { applyPropagation, applyRecursiveAttrs, mkdirAll, mountPropagate, type MountAt } from '../../core/mounting';
import { secureJoin } from '../../core/paths';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import { formatMountLabel, selinuxEnabled, setFileLabel } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * mqueue (POSIX message queues, mq_overview(7)), mounted with the container's SELinux
 * label as context= when SELinux is on. Older kernels refuse context= for mqueue; the
 * filesystem is then mounted without it and its root directory labelled instead.
 */
@injectable()
export class MqueueMountHandler implements MountHandler {
  readonly name = 'mqueue';
  readonly types = ['mqueue'];

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    const target = secureJoin(this.sys, ctx.config.rootfs, m.destination);
    mkdirAll(this.sys, target, 0o755);
    const at: MountAt = { source: m.source, target, fstype: m.type, flags: m.flags, data: m.data };
    const label = selinuxEnabled(this.sys, ctx) ? ctx.config.mountLabel : '';
    if (label && this.mountLabelled(m, at, label, ctx)) {
      applyPropagation(this.sys, m, target);
    } else {
      mountPropagate(this.sys, m, at);
      if (label) setFileLabel(this.sys, target, label);
    }
    applyRecursiveAttrs(this.sys, m, target);
  }

  /**
   * The mount alone, with context= in its data; false when it fails, which leaves nothing
   * mounted. Propagation is kept out of it so that only this call's failure leads to the
   * unlabelled retry, never a second mqueue stacked on a first.
   */
  private mountLabelled(m: MountSpec, at: MountAt, label: string, ctx: RunContext): boolean {
    try {
      mountPropagate(this.sys, { ...m, propagationFlags: [] }, { ...at, data: formatMountLabel(m.data, label) });
      return true;
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      ctx.log.debug('mqueue mount with context= refused, mounting without it', { error: err.message });
      return false;
    }
  }
}
