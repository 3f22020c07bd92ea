import { inject, injectable } from 'tsyringe';
import { ConfigError, SyscallError } from '../../core/errors';
import { THREAD_SELF_FD } from '../../core/in-root';
import { requireContainerProc } from '../../core/mounting';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { envPath, lookPath } from './lookpath';

/**
 * The last step: becomes the container's process. After the jail and finalize, it enters
 * the cwd, takes the user's identity, marks every descriptor above stderr close-on-exec
 * (close_range(2) CLOSE_RANGE_CLOEXEC) so none of mountkit's reaches the container, and
 * execve(2)s `process.args` with `process.env`. execve never returns on success.
 */

/** The first descriptor the container does not get: 0, 1 and 2 are its standard streams. */
const FIRST_PRIVATE_FD = 3;

/**
 * How close_range(2) answers where it cannot mark descriptors close-on-exec: ENOSYS before
 * Linux 5.9, EINVAL for CLOSE_RANGE_CLOEXEC before 5.11, EPERM from a seccomp filter
 * that does not allow it.
 */
const NO_CLOSE_RANGE_CLOEXEC: ReadonlySet<string> = new Set(['ENOSYS', 'EINVAL', 'EPERM']);

const DECIMAL = /^\d+$/;
@injectable()
export class HandoverStep implements LifecycleStep {
  readonly name = 'exec';
  readonly phase = 'finalize' as const;
  readonly order = 'post' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { args, env, cwd, uid, gid } = ctx.config.process;
    if (args.length === 0) throw new ConfigError('process.args', undefined, 'must name the program to run');
    this.sys.chdir(cwd);
    this.setUser(uid, gid);
    this.closeOnExec(ctx);
    this.sys.execve(lookPath(this.sys, args[0], envPath(env)), args, env);
  }

  /**
   * Every descriptor from FIRST_PRIVATE_FD up closes on execve: close_range(2) where it
   * can, else each one /proc/thread-self/fd lists, one fcntl(2) each. That directory is
   * the container's after the jail, so it must be on a procfs (requireContainerProc): an
   * image's own directory could list nothing, and descriptors would reach the container.
   * The listing's own descriptor is in it and closed by the time it is marked (EBADF).
   */
  private closeOnExec(ctx: RunContext): void {
    try {
      this.sys.cloexecFrom(FIRST_PRIVATE_FD);
      return;
    } catch (err) {
      if (!(err instanceof SyscallError) || !NO_CLOSE_RANGE_CLOEXEC.has(err.code)) throw err;
    }
    requireContainerProc(this.sys, ctx, `marking descriptors close-on-exec without close_range(2)`);
    for (const name of this.sys.readdir(THREAD_SELF_FD)) {
      // proc(5): the directory holds one entry per open descriptor, named by its number.
      if (!DECIMAL.test(name)) continue;
      const fd = Number(name);
      if (fd < FIRST_PRIVATE_FD) continue;
      try {
        this.sys.setCloexec(fd);
      } catch (err) {
        if (!(err instanceof SyscallError) || err.code !== 'EBADF') throw err;
      }
    }
  }

  /**
   * setgroups(2) comes first, while still privileged; in a user namespace whose
   * /proc/self/setgroups says "deny" (what unshare -r writes) it is refused, so it is skipped.
   */
  private setUser(uid: number, gid: number): void {
    if (this.setgroupsAllowed()) this.sys.setgroups([]);
    this.sys.setgid(gid);
    this.sys.setuid(uid);
  }

  private setgroupsAllowed(): boolean {
    try {
      return this.sys.readFile('/proc/self/setgroups').trim() !== 'deny';
    } catch (err) {
      if (err instanceof SyscallError) return true;
      throw err;
    }
  }
}
