import { inject, injectable } from 'tsyringe';
import { SyscallError } from '../../core/errors';
import { containerRoot, exists } from '../../core/mounting';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { needsDevSetup } from '../../core/config/model';
import { withParentInRoot } from '../../core/in-root';

/** Entry in /dev -> link target: the descriptors of whichever process opens them (proc(5)). */
export const DEV_SYMLINKS: readonly (readonly [string, string])[] = [
  ['fd', '/proc/self/fd'],
  ['stdin', '/proc/self/fd/0'],
  ['stdout', '/proc/self/fd/1'],
  ['stderr', '/proc/self/fd/2'],
];

/** /dev/core, only when the kernel has /proc/kcore (CONFIG_PROC_KCORE). */
export const KCORE_SYMLINK = ['core', '/proc/kcore'] as const;

/**
 * The conventional /dev symlinks, each made by name in /dev looked up inside the rootfs.
 * An existing entry of the same name is kept (symlinkat(2) answers EEXIST): the image or
 * a bind mount provided it.
 */
@injectable()
export class DevSymlinksStep implements LifecycleStep {
  readonly name = 'dev-symlinks';
  readonly phase = 'dev' as const;
  readonly order = 'post' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (!needsDevSetup(ctx.config)) return;
    // The host's /proc answers for the container's: both come from the same kernel.
    const links = exists(this.sys, '/proc/kcore') ? [...DEV_SYMLINKS, KCORE_SYMLINK] : DEV_SYMLINKS;
    for (const [name, target] of links) {
      try {
        withParentInRoot(this.sys, containerRoot(this.sys, ctx), `/dev/${name}`, (dev, entry) => this.sys.symlinkat(target, dev, entry));
      } catch (err) {
        if (!(err instanceof SyscallError) || err.code !== 'EEXIST') throw err;
      }
    }
  }
}
