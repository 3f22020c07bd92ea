import { inject, injectable } from 'tsyringe';
import { MS_BIND, MS_RDONLY } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { cleanPath } from '../../core/paths';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { FileKind, Syscalls } from '../../core/syscalls/types';
import { DEV_NULL, verifyDevNull } from './dev-null';

/**
 * linux.maskedPaths: hides what the kernel shows at those paths (/proc/kcore,
 * /sys/firmware...). A file gets /dev/null bound over it, a directory an empty read-only
 * tmpfs; a path that does not exist is skipped, and a path given twice is masked once.
 *
 * Directory or not is decided by stat(2) before mounting, which follows links as mount(2)
 * does (runc 1.1 tries the bind and falls back to tmpfs on ENOTDIR; runc's fixes for
 * CVE-2025-31133 stat the target first, as here). /dev/null is checked once, before the
 * first file is masked. All directories share one tmpfs, as in runc 1.5: the first is
 * mounted, the others are binds of it, which stay read-only (a bind copies the per-mount
 * flags, and the superblock itself is read-only); one superblock per container instead
 * of one per directory.
 */
@injectable()
export class MaskedPathsStep implements LifecycleStep {
  readonly name = 'masked-paths';
  readonly phase = 'finalize' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const done = new Set<string>();
    let devNullChecked = false;
    let sharedTmpfs: string | undefined;
    for (const path of ctx.config.maskedPaths.map(cleanPath)) {
      if (done.has(path)) continue;
      done.add(path);
      const kind = this.kindAt(path);
      if (kind === undefined) continue;
      if (kind !== 'dir') {
        if (!devNullChecked) verifyDevNull(this.sys);
        devNullChecked = true;
        this.sys.mount(DEV_NULL, path, null, MS_BIND, null);
      } else if (sharedTmpfs === undefined) {
        this.sys.mount('tmpfs', path, 'tmpfs', MS_RDONLY, null);
        sharedTmpfs = path;
      } else {
        this.sys.mount(sharedTmpfs, path, null, MS_BIND, null);
      }
    }
  }

  /** The kind of file at `path` (links followed, as mount follows them), undefined if missing. */
  private kindAt(path: string): FileKind | undefined {
    try {
      return this.sys.stat(path).kind;
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
