import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { fdPath } from '../../core/in-root';
import { afterMount, containerRoot, mountOn, withMountTarget } from '../../core/mounting';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import { mountLabel, setFileLabel } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * mqueue (POSIX message queues, mq_overview(7)), mounted with the data as given. On a host
 * that runs SELinux its root directory then gets linux.mountLabel, as runc 1.1.5 labels
 * it (label.SetFileLabel after a mount without the label): no `context=`, so the queues
 * the container makes are labelled by the policy, not all given the mount label.
 */
@injectable()
export class MqueueMountHandler implements MountHandler {
  readonly name = 'mqueue';
  readonly types = ['mqueue'];

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    const root = containerRoot(this.sys, ctx);
    const label = mountLabel(this.sys, ctx);
    withMountTarget(this.sys, root, m.destination, {}, (t) => {
      mountOn(this.sys, m, { source: m.source, target: fdPath(t.fd), fstype: m.type, flags: m.flags, data: m.data });
      // The label goes on the new mount's root directory; lsetxattr(2) does not follow a
      // final link, so it is given the directory itself through its magic link's target.
      afterMount(this.sys, root, m, t, label ? (top) => setFileLabel(this.sys, this.sys.readlink(top), label) : undefined);
    });
  }
}
