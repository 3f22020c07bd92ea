import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { SyscallError } from '../../core/errors';
import { fdPath } from '../../core/in-root';
import { afterMount, containerRoot, mountOn, withMountTarget, type MountAt } from '../../core/mounting';
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
    const root = containerRoot(this.sys, ctx);
    const label = selinuxEnabled(this.sys, ctx) ? ctx.config.mountLabel : '';
    withMountTarget(this.sys, root, m.destination, {}, (t) => {
      const at: MountAt = { source: m.source, target: fdPath(t.fd), fstype: m.type, flags: m.flags, data: m.data };
      const labelled = !!label && this.mountLabelled(m, at, label, ctx);
      if (!labelled) mountOn(this.sys, m, at);
      // The label goes on the new mount's root directory; lsetxattr(2) does not follow a
      // final link, so it is given the directory itself through its magic link's target.
      afterMount(this.sys, root, m, t, label && !labelled ? (top) => setFileLabel(this.sys, this.sys.readlink(top), label) : undefined);
    });
  }

  /**
   * The mount alone, with context= in its data; false when it fails, which leaves nothing
   * mounted, so that only this call's failure leads to the unlabelled retry, never a
   * second mqueue stacked on a first.
   */
  private mountLabelled(m: MountSpec, at: MountAt, label: string, ctx: RunContext): boolean {
    try {
      mountOn(this.sys, m, { ...at, data: formatMountLabel(m.data, label) });
      return true;
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      ctx.log.debug('mqueue mount with context= refused, mounting without it', { error: err.message });
      return false;
    }
  }
}
