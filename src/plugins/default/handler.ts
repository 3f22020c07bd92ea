import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { StepError } from '../../core/errors';
import { applyRecursiveAttrs, mkdirAll, mountPropagate } from '../../core/mounting';
import { procDestinationProblem, secureJoin } from '../../core/paths';
import { DEFAULT_MOUNT_TYPE, SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Any mount type no other plugin claims (devpts, overlay, a FUSE type...): the target is
 * resolved inside the rootfs at mount time, since an earlier mount may have replaced a
 * path component with a symlink that leads out.
 */
@injectable()
export class DefaultMountHandler implements MountHandler {
  readonly name = 'default';
  readonly types = [DEFAULT_MOUNT_TYPE];

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    const rootfs = ctx.config.rootfs;
    const dest = secureJoin(this.sys, rootfs, m.destination);
    const problem = procDestinationProblem(rootfs, dest);
    if (problem) throw new StepError(problem);
    mkdirAll(this.sys, dest, 0o755);
    mountPropagate(this.sys, m, { source: m.source, target: dest, fstype: m.type, flags: m.flags, data: m.data });
    applyRecursiveAttrs(this.sys, m, dest);
  }
}
