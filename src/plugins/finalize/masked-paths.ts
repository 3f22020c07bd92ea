import { inject, injectable } from 'tsyringe';
import { MS_BIND, MS_RDONLY } from '../../core/constants';
import { fdPath, openInRoot, openInRootIfExists } from '../../core/in-root';
import { hasContainerProc } from '../../core/procfs';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import { formatMountLabel, selinuxEnabledAfterJail } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';
import { openDevNull } from './dev-null';
import { bindWithoutProc, readonlyTmpfsWithoutProc } from './without-proc';

/**
 * linux.maskedPaths: hides what the kernel shows at those paths (/proc/kcore,
 * /sys/firmware...). A file gets /dev/null bound over it, a directory an empty read-only
 * tmpfs; a path that does not exist is skipped. Every path named is masked, as runc 1.1.5
 * masks each: a mount covers one place (a mount and a name in it), not an inode, so a
 * hard link to a masked file, or a directory bound at two places, is hidden only where
 * it is masked itself. A path named again is masked again, on the mask it got first (a
 * lookup of it now ends there).
 *
 * Each path is opened inside the container's root as written (links and `..` followed,
 * never out of it) and mounted on through its descriptor; directory or not is decided by
 * fstat(2) on that descriptor (runc 1.1 tried the bind and fell back to tmpfs on ENOTDIR; runc's fixes for
 * CVE-2025-31133 look first, as here). /dev/null is opened once, before the first file is
 * masked, checked on its descriptor to be the null device, and bound from that
 * descriptor, so the node checked is the node bound. All directories share one tmpfs, as
 * in runc 1.5: the first is mounted, the others are binds of it, which stay read-only (a
 * bind copies the per-mount flags, and the superblock itself is read-only); one
 * superblock per container instead of one per directory. On a host that runs SELinux
 * the tmpfs gets linux.mountLabel as its `context=`, as runc 1.1.5 gives it
 * (label.FormatMountLabel("", mountLabel)): the binds of it share its superblock, and
 * with it the label. Without SELinux no label is passed (tmpfs would refuse `context=`,
 * EINVAL); whether the host runs it is the answer asked before the jail
 * (core/selinux.ts), as `/sys` is the container's here. Where the container has no
 * procfs at /proc, the same mounts are made through the new mount API (without-proc.ts).
 */
@injectable()
export class MaskedPathsStep implements LifecycleStep {
  readonly name = 'masked-paths';
  readonly handles = ['linux.maskedPaths'];
  readonly phase = 'finalize' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const paths = ctx.config.maskedPaths;
    if (paths.length === 0) return;
    const label = ctx.config.mountLabel;
    const context = label && selinuxEnabledAfterJail(ctx, `linux.mountLabel ${JSON.stringify(label)} for linux.maskedPaths`) ? label : undefined;
    const viaProc = hasContainerProc(this.sys, ctx, 'linux.maskedPaths mounted by descriptor through the new mount API');
    let devNull: number | undefined;
    let sharedTmpfs: number | undefined;
    try {
      for (const path of paths) {
        const fd = openInRootIfExists(this.sys, '/', path);
        if (fd === undefined) continue;
        try {
          if (this.sys.fstat(fd).kind !== 'dir') {
            devNull ??= openDevNull(this.sys);
            if (viaProc) this.sys.mount(fdPath(devNull), fdPath(fd), null, MS_BIND, null);
            else bindWithoutProc(this.sys, devNull, fd, path);
          } else if (sharedTmpfs === undefined) {
            if (viaProc) {
              this.sys.mount('tmpfs', fdPath(fd), 'tmpfs', MS_RDONLY, context === undefined ? null : formatMountLabel('', context));
              // The descriptor shows the directory under the new tmpfs; the binds need the tmpfs.
              sharedTmpfs = openInRoot(this.sys, '/', path);
            } else {
              sharedTmpfs = readonlyTmpfsWithoutProc(this.sys, fd, path, context);
            }
          } else if (viaProc) {
            this.sys.mount(fdPath(sharedTmpfs), fdPath(fd), null, MS_BIND, null);
          } else {
            bindWithoutProc(this.sys, sharedTmpfs, fd, path);
          }
        } finally {
          this.sys.close(fd);
        }
      }
    } finally {
      if (devNull !== undefined) this.sys.close(devNull);
      if (sharedTmpfs !== undefined) this.sys.close(sharedTmpfs);
    }
  }
}
