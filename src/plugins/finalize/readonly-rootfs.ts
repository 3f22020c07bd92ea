import { inject, injectable } from 'tsyringe';
import { O_CLOEXEC, O_DIRECTORY, O_PATH } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { remountReadonly, securityFlagsOf } from './remount';

/**
 * root.readonly: the mount at `/` (the container's root after the jail) becomes
 * read-only; mounts below it keep their own flags.
 *
 * As runc 1.1's setReadonly: MS_BIND|MS_REMOUNT|MS_RDONLY without MS_REC (1.0-rc9 passed
 * MS_REC, which the kernel ignores on a remount). A mount whose nosuid, nodev or noexec
 * a more privileged user namespace locked refuses a remount that would clear them (EPERM,
 * mount_namespaces(7)): the remount is then made once more with those (and nosymfollow)
 * that fstatfs(2) reports for `/` kept, as runc retries with statfs(2)'s flags.
 *
 * It comes before the sysctls and the read-only and masked paths, as in runc's init: a
 * bind the masks make of a file on the root (/dev/null of an image without a /dev mount)
 * is then read-only from the start, as a bind copies the flags of the mount it is made
 * from.
 */
@injectable()
export class ReadonlyRootfsStep implements LifecycleStep {
  readonly name = 'readonly-rootfs';
  readonly handles = ['root.readonly'];
  readonly phase = 'finalize' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    if (!ctx.config.readonlyRootfs) return;
    try {
      remountReadonly(this.sys, '/');
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EPERM') throw err;
      const root = this.sys.open('/', O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      let kept: bigint;
      try {
        kept = securityFlagsOf(this.sys.fstatfs(root).flags);
      } finally {
        this.sys.close(root);
      }
      remountReadonly(this.sys, '/', kept);
    }
  }
}
