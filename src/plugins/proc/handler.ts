import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { StepError } from '../../core/errors';
import { applyRecursiveAttrs, mkdirAll, mountPropagate } from '../../core/mounting';
import { containerPath } from '../../core/paths';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { kindAt, procTargetPath, realDirectoryProblem } from './target';

/**
 * proc and sysfs: the target must be a real directory inside the rootfs, since a
 * symlink planted there (by the image or an earlier mount) would carry the kernel's view
 * of the host to wherever it points (CVE-2019-19921). A missing target is created.
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
    const rootfs = ctx.config.rootfs;
    const target = procTargetPath(this.sys, rootfs, m.destination);
    const kind = kindAt(this.sys, target);
    const problem = kind && realDirectoryProblem(containerPath(rootfs, target), kind);
    if (problem) throw new StepError(problem);
    if (kind === undefined) mkdirAll(this.sys, target, 0o755);
    mountPropagate(this.sys, m, { source: m.source, target, fstype: m.type, flags: m.flags, data: m.data });
    applyRecursiveAttrs(this.sys, m, target);
  }
}
