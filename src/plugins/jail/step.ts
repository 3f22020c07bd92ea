import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { chrootHere } from './chroot';
import { moveRootInto } from './move-root';
import { pivotInto } from './pivot';
import { chooseJail } from './strategy';

/**
 * Confines the process to the rootfs: chdir into it, then pivot_root, MS_MOVE+chroot or
 * chroot as the config decides (./strategy.ts). Afterwards `/` is the rootfs and every
 * path is a container path.
 */
@injectable()
export class JailStep implements LifecycleStep {
  readonly name = 'jail';
  readonly phase = 'jail' as const;
  readonly order = 'normal' as const;
  readonly handles = ['root.path'];

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const rootfs = ctx.config.rootfs;
    const strategy = chooseJail(ctx.config);
    ctx.log.debug('jailing the process', { strategy, rootfs });
    this.sys.chdir(rootfs);
    switch (strategy) {
      case 'pivot':
        pivotInto(this.sys, rootfs);
        break;
      case 'move-root':
        moveRootInto(this.sys, rootfs, ctx.mountTable());
        break;
      case 'chroot':
        chrootHere(this.sys);
        break;
    }
  }
}
