import { inject, injectable } from 'tsyringe';
import { MS_RDONLY } from '../../core/constants';
import { withInRoot } from '../../core/in-root';
import { readonlyDeferred } from '../../core/mounting';
import { cleanPath } from '../../core/paths';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { remountReadonly, securityFlagsOf } from './remount';

/**
 * The read-only tmpfs mounts and mounts at /dev, which were mounted read-write
 * (readonlyDeferred: mounts were nested in them, device nodes made in /dev; a bind at
 * /dev is read-only already, and remounted again as runc does), become read-only now, in
 * the config's order, as runc's finalizeRootfs makes every one of them read-only. Each is
 * reached by its destination, now a path inside the container's root: the mount on top
 * there is the one remounted, as under runc, by its path: a magic link of a descriptor
 * would go through the container's /proc, which the image makes when the config mounts
 * none. A bind remount sets the mount's nosuid, nodev, noexec and nosymfollow to those it
 * is given (remount.ts), so the config's flags are given with the ones that mount has (fstatfs(2)
 * of it opened in the root): a plugin's handler that added noexec to a tmpfs keeps it,
 * where runc passes the config's alone (and a mount stacked there keeps its own too).
 */
@injectable()
export class ReadonlyMountsStep implements LifecycleStep {
  readonly name = 'readonly-mounts';
  readonly handles = ['mounts.readonly'];
  readonly phase = 'finalize' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    for (const m of ctx.config.mounts) {
      if ((m.flags & MS_RDONLY) === 0n || !readonlyDeferred(m)) continue;
      const destination = cleanPath(m.destination);
      const kept = withInRoot(this.sys, '/', destination, (top) => securityFlagsOf(this.sys.fstatfs(top).flags));
      remountReadonly(this.sys, destination, m.flags | kept);
    }
  }
}
