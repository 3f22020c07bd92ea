import { inject, injectable } from 'tsyringe';
import { AT_REMOVEDIR } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { needsDevSetup } from '../../core/config/model';
import { withParentInRoot } from '../../core/in-root';
import { containerRoot } from '../../core/mounting';

/**
 * /dev/ptmx becomes a symlink to pts/ptmx, the multiplexer node of the devpts mounted on
 * /dev/pts, so ptys come from the container's own devpts instance. The link is what
 * Documentation/filesystems/devpts.rst recommends; before Linux 4.7 a char 5:2 node there
 * opened the initial devpts instance, the host's.
 */
@injectable()
export class PtmxStep implements LifecycleStep {
  readonly name = 'ptmx';
  readonly phase = 'dev' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (!needsDevSetup(ctx.config)) return;
    // The entry itself is removed and made in /dev, looked up inside the rootfs; a link
    // there is never followed.
    withParentInRoot(this.sys, containerRoot(this.sys, ctx), '/dev/ptmx', (dev, name) => {
      this.remove(dev, name);
      this.sys.symlinkat('pts/ptmx', dev, name);
    });
  }

  /**
   * Whatever the image has there goes, as runc's os.Remove takes it: a file or link with
   * unlinkat(2), an empty directory with AT_REMOVEDIR once unlinkat answers EISDIR. A
   * directory that is not empty stays, and its ENOTEMPTY stops the step.
   */
  private remove(dev: number, name: string): void {
    try {
      this.sys.unlinkat(dev, name, 0);
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      if (err.code === 'ENOENT') return;
      if (err.code !== 'EISDIR') throw err;
      this.sys.unlinkat(dev, name, AT_REMOVEDIR);
    }
  }
}
