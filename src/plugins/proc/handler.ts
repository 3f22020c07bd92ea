import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { StepError } from '../../core/errors';
import { O_NOFOLLOW } from '../../core/constants';
import { createInRoot, fdPath, resolveInRoot } from '../../core/in-root';
import { afterMount, containerRoot, mountOn, refuseUnderProc } from '../../core/mounting';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { realDirectoryProblem } from './target';

/**
 * proc and sysfs: the target must be a real directory inside the rootfs, since a
 * symlink planted there (by the image or an earlier mount) would carry the kernel's view
 * of the host to wherever it points (CVE-2019-19921). The parents are looked up inside the
 * rootfs, links followed; the last component is opened without following a link, checked
 * on its descriptor, and mounted through it. A missing target is created.
 *
 * Nothing of these types goes inside /proc, and only a proc at /proc itself, as runc 1.2
 * checks them too: a proc mounted over /proc/sys/net would be read-write under the
 * read-only /proc/sys and outside every masked path, and each write to
 * /proc/sys/net/... (a sysctl, a mask) would reach that procfs's own files instead
 * (/proc/sys/net/sys/kernel/core_pattern, the host's); a proc over /proc/thread-self/fd
 * would turn every descriptor's magic link into a process's directory.
 *
 * No SELinux mount label: the policy labels proc and sysfs itself (genfscon), and runc
 * mounts them without context= as well.
 */
@injectable()
export class ProcMountHandler implements MountHandler {
  readonly name = 'proc';
  readonly types = ['proc', 'sysfs'];

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    const root = containerRoot(this.sys, ctx);
    const vet = (inside: string) => (inside === '/proc' && m.type === 'proc' ? undefined : refuseUnderProc(inside));
    const target = createInRoot(this.sys, root, m.destination, { nofollow: true, vet });
    try {
      const kind = target.made ? 'dir' : this.sys.fstat(target.fd).kind;
      // The message names where the lookup led, which is looked up again only then.
      const problem = kind === 'dir' ? undefined : realDirectoryProblem(resolveInRoot(this.sys, root, m.destination, O_NOFOLLOW), kind);
      if (problem) throw new StepError(problem);
      mountOn(this.sys, m, { source: m.source, target: fdPath(target.fd), fstype: m.type, flags: m.flags, data: m.data });
      afterMount(this.sys, root, m, { ...target, vet });
    } finally {
      this.sys.close(target.fd);
    }
  }
}
