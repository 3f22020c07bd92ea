import { inject, injectable } from 'tsyringe';
import { O_RDWR } from '../../core/constants';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { needsDevSetup } from '../../core/config/model';

/** The standard descriptors: stdin, stdout, stderr. */
const STDIO_FDS = [0, 1, 2] as const;

/**
 * Standard descriptors that are the host's /dev/null are replaced by the container's
 * /dev/null, so that the container process holds no file of the host's /dev. A
 * descriptor is /dev/null when it is a character device with the same device number
 * (1:3 on Linux, devices.txt); dup3(2) closes the old one and puts /dev/null in its place.
 *
 * Runs only when mountkit built /dev: with a bind-mounted /dev, /dev/null is the host's.
 */
@injectable()
export class ReopenDevNullStep implements LifecycleStep {
  readonly name = 'reopen-devnull';
  readonly phase = 'after-jail' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (!needsDevSetup(ctx.config)) return;
    const devNull = this.sys.open('/dev/null', O_RDWR, 0);
    try {
      const rdev = this.sys.fstat(devNull).rdev;
      for (const fd of STDIO_FDS) {
        const st = this.sys.fstat(fd);
        if (st.kind === 'char' && st.rdev === rdev) {
          ctx.log.debug('reopening /dev/null', { fd });
          this.sys.dup3(devNull, fd, 0);
        }
      }
    } finally {
      this.sys.close(devNull);
    }
  }
}
