import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { fdPath } from '../../core/in-root';
import { afterMount, containerRoot, mountOn, withMountTarget } from '../../core/mounting';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import { formatMountLabel, mountLabel } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';
import { mountWithCopyUp } from './copyup';
import { hasModeOption, withInheritedMode } from './options';

/**
 * tmpfs mounts. A tmpfs over an existing directory starts with that directory's mode
 * (its root would otherwise be 1777, tmpfs(5)) unless the data names a `mode=` of its
 * own; with tmpcopyup it also starts with the directory's content. A read-only tmpfs is
 * mounted read-write (mountOn) and made read-only after the jail (finalize,
 * readonly-mounts), as runc does: mounts nested in it need their mountpoints made, and
 * tmpcopyup writes the copied content into it.
 */
@injectable()
export class TmpfsMountHandler implements MountHandler {
  readonly name = 'tmpfs';
  readonly types = ['tmpfs'];
  readonly extensions = ['tmpcopyup'] as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    const root = containerRoot(this.sys, ctx);
    const copyUp = m.extensions.tmpcopyup;
    const label = mountLabel(this.sys, ctx);
    withMountTarget(this.sys, root, m.destination, {}, (t) => {
      // The directory's mode is read only when the data names none (withInheritedMode). A
      // target that is no directory gets none: its mount fails (ENOTDIR; with tmpcopyup,
      // the copy's readdir first), and the error shows the config's data alone.
      const data = formatMountLabel(t.made || hasModeOption(m.data) ? m.data : this.inheritedMode(t.fd, m.data), label);
      const at = { source: m.source, fstype: m.type, flags: m.flags, data };
      if (copyUp) mountWithCopyUp(this.sys, m, root, t, at, ctx.log);
      else mountOn(this.sys, m, { ...at, target: fdPath(t.fd) });
      // tmpcopyup has given the tmpfs its propagation flags (copyup.ts).
      afterMount(this.sys, root, copyUp ? { ...m, propagationFlags: [] } : m, t);
    });
  }

  private inheritedMode(fd: number, data: string): string {
    const st = this.sys.fstat(fd);
    return st.kind === 'dir' ? withInheritedMode(st.perm, data) : data;
  }
}
