import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { MS_RDONLY, MS_REMOUNT } from '../../core/constants';
import { fdPath } from '../../core/in-root';
import { afterMount, containerRoot, isDevDestination, mountOn, withMountTarget } from '../../core/mounting';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import { formatMountLabel, selinuxEnabled } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';
import { mountWithCopyUp } from './copyup';
import { hasModeOption } from './options';

/**
 * tmpfs mounts. A tmpfs over an existing directory keeps that directory's mode (its root
 * would otherwise be 1777, tmpfs(5)) unless the data names a `mode=`; with tmpcopyup it
 * also starts with the directory's content.
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
    const keepPerm = withMountTarget(this.sys, root, m.destination, {}, (t) => {
      const existingPerm = t.made ? undefined : this.sys.fstat(t.fd).perm;
      const keep = existingPerm !== undefined && !hasModeOption(m.data) ? existingPerm : undefined;
      const flags = this.readonlyLater(m, keep) ? m.flags & ~MS_RDONLY : m.flags;
      const data = formatMountLabel(m.data, label);
      if (copyUp) mountWithCopyUp(this.sys, m, t.fd, { source: m.source, fstype: m.type, flags, data }, ctx.log);
      else mountOn(this.sys, m, { source: m.source, target: fdPath(t.fd), fstype: m.type, flags, data });
      return keep;
    });
    const readonlyLater = this.readonlyLater(m, keepPerm);
    // tmpcopyup gave the staging mount its propagation before moving it.
    const rest = copyUp ? { ...m, propagationFlags: [] } : m;
    afterMount(
      this.sys,
      root,
      rest,
      keepPerm !== undefined || readonlyLater
        ? (top) => {
            if (keepPerm !== undefined) this.sys.chmod(top, keepPerm);
            // A remount changes the flags of the existing superblock and mount and keeps
            // every tmpfs option the data does not name (mount(2), tmpfs(5)).
            if (readonlyLater) this.sys.mount(null, top, null, m.flags | MS_REMOUNT, null);
          }
        : undefined,
    );
  }

  /**
   * The mode and the copied content are written after the mount, which a read-only tmpfs
   * refuses with EROFS: it is mounted writable and remounted read-only at the end, as
   * runc does. /dev is left alone: mountOn never mounts it read-only, and it stays
   * writable until the device nodes are made.
   */
  private readonlyLater(m: MountSpec, keepPerm: number | undefined): boolean {
    return (m.flags & MS_RDONLY) !== 0n && (keepPerm !== undefined || m.extensions.tmpcopyup) && !isDevDestination(m.destination);
  }
}
