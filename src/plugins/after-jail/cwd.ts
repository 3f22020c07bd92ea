import { inject, injectable } from 'tsyringe';
import { mkdirAll } from '../../core/mounting';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Creates process.cwd (0755, missing parents too) so the container process can start in
 * it. After the jail `/` is the rootfs, so the path (cleaned lexically, `..` stopping at
 * `/`) and any symlink on the way resolve inside the container. mkdirAll stats every
 * component and fails with ENOTDIR on one that is not a directory, which is the check
 * that the cwd is a directory.
 */
@injectable()
export class CwdStep implements LifecycleStep {
  readonly name = 'cwd';
  readonly phase = 'after-jail' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const cwd = ctx.config.process.cwd;
    if (cwd === '') return;
    mkdirAll(this.sys, cwd, 0o755);
  }
}
