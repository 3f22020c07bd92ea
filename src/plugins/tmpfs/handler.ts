import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { MS_RDONLY, MS_REMOUNT } from '../../core/constants';
import { fdPath } from '../../core/in-root';
import { afterMount, containerRoot, isDevDestination, mountOn, withMountTarget } from '../../core/mounting';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import { formatMountLabel, selinuxEnabled } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';
import { mountWithCopyUp } from './copyup';
import { withInheritedMode } from './options';

/**
 * tmpfs mounts. A tmpfs over an existing directory starts with that directory's mode
 * (its root would otherwise be 1777, tmpfs(5)) unless the data names a `mode=` of its
 * own; with tmpcopyup it also starts with the directory's content.
 */
@injectable()
export class TmpfsMountHandler implements MountHandler {
  readonly name = 'tmpfs';
  readonly types = ['tmpfs'];

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    const root = containerRoot(this.sys, ctx);
    const copyUp = m.extensions.tmpcopyup;
    const label = ctx.config.mountLabel && selinuxEnabled(this.sys, ctx) ? ctx.config.mountLabel : '';
    const readonlyLater = this.readonlyLater(m);
    withMountTarget(this.sys, root, m.destination, {}, (t) => {
      const flags = readonlyLater ? m.flags & ~MS_RDONLY : m.flags;
      const data = formatMountLabel(t.made ? m.data : withInheritedMode(this.sys.fstat(t.fd).perm, m.data), label);
      if (copyUp) mountWithCopyUp(this.sys, m, t.fd, { source: m.source, fstype: m.type, flags, data }, ctx.log);
      else mountOn(this.sys, m, { source: m.source, target: fdPath(t.fd), fstype: m.type, flags, data });
    });
    // tmpcopyup gave the staging mount its propagation before moving it.
    const rest = copyUp ? { ...m, propagationFlags: [] } : m;
    afterMount(
      this.sys,
      root,
      rest,
      // A remount changes the flags of the existing superblock and mount and keeps every
      // tmpfs option the data does not name (mount(2), tmpfs(5)).
      readonlyLater ? (top) => this.sys.mount(null, top, null, m.flags | MS_REMOUNT, null) : undefined,
    );
  }

  /**
   * The copied content is written after the mount, which a read-only tmpfs refuses with
   * EROFS: it is mounted writable and remounted read-only at the end, as runc does. /dev
   * is left alone: mountOn never mounts it read-only, and it stays writable until the
   * device nodes are made.
   */
  private readonlyLater(m: MountSpec): boolean {
    return (m.flags & MS_RDONLY) !== 0n && m.extensions.tmpcopyup && !isDevDestination(m.destination);
  }
}
