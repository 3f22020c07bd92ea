import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { MS_RDONLY, MS_REMOUNT } from '../../core/constants';
import { SyscallError, StepError } from '../../core/errors';
import { applyRecursiveAttrs, mkdirAll, mountPropagate, type MountAt } from '../../core/mounting';
import { cleanPath, procDestinationProblem, secureJoin } from '../../core/paths';
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
    const rootfs = ctx.config.rootfs;
    const dest = secureJoin(this.sys, rootfs, m.destination);
    const problem = procDestinationProblem(rootfs, dest);
    if (problem) throw new StepError(problem);
    const existingPerm = this.permIfExists(dest);
    if (existingPerm === undefined) mkdirAll(this.sys, dest, 0o755);

    const keepPerm = existingPerm !== undefined && !hasModeOption(m.data) ? existingPerm : undefined;
    const copyUp = m.extensions.tmpcopyup;
    // The mode and the copied content are written after the mount, which a read-only tmpfs
    // refuses with EROFS: it is mounted writable and remounted read-only at the end, as
    // runc does. /dev is left alone: mountPropagate never mounts it read-only, and it stays
    // writable until the device nodes are made.
    const readonlyLater =
      (m.flags & MS_RDONLY) !== 0n && (keepPerm !== undefined || copyUp) && cleanPath(m.destination) !== '/dev';
    const label = ctx.config.mountLabel && selinuxEnabled(this.sys, ctx) ? ctx.config.mountLabel : '';
    const at: Omit<MountAt, 'target'> = {
      source: m.source,
      fstype: m.type,
      flags: readonlyLater ? m.flags & ~MS_RDONLY : m.flags,
      data: formatMountLabel(m.data, label),
    };

    if (copyUp) mountWithCopyUp(this.sys, m, dest, at, ctx.log);
    else mountPropagate(this.sys, m, { ...at, target: dest });
    if (keepPerm !== undefined) this.sys.chmod(dest, keepPerm);
    // A remount changes the flags of the existing superblock and mount and keeps every
    // tmpfs option the data does not name (mount(2), tmpfs(5)).
    if (readonlyLater) this.sys.mount(null, dest, null, m.flags | MS_REMOUNT, null);
    applyRecursiveAttrs(this.sys, m, dest);
  }

  /** The permission bits of the existing target (symlinks followed), undefined if missing. */
  private permIfExists(path: string): number | undefined {
    try {
      return this.sys.stat(path).perm;
    } catch (err) {
      if (err instanceof SyscallError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
      throw err;
    }
  }
}
