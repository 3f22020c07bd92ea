import { inject, injectable } from 'tsyringe';
import { O_CLOEXEC, O_DIRECTORY, O_PATH } from '../../core/constants';
import { StepError } from '../../core/errors';
import { createInRoot } from '../../core/in-root';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';

/**
 * Creates process.cwd (0755, missing parents too) inside the new root, so the container
 * process can start in it, and checks that the directory chdir(2) will reach is that one.
 *
 * After the jail `/` is the rootfs: the cwd is looked up from `/` with links kept inside
 * it and magic links refused (in-root.ts). The exec step then changes into it by path,
 * which the kernel resolves with magic links too: a cwd such as /proc/self/fd/N would
 * reach whatever directory descriptor N holds, one of the host's if one had leaked
 * (CVE-2024-21626). So the path is also opened as chdir(2) would open it, and both
 * descriptors must be the same directory (st_dev and st_ino).
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
    // The kernel walks "/a/../b" through /a, which must then exist too: the directory before
    // each ".." is made first, as runc's MkdirAll makes it (the lookup below goes up by name).
    for (const before of beforeDotDots(cwd)) this.sys.close(createInRoot(this.sys, '/', before).fd);
    const inRoot = createInRoot(this.sys, '/', cwd);
    try {
      const st = this.sys.fstat(inRoot.fd);
      if (st.kind !== 'dir') throw new StepError(`process.cwd ${JSON.stringify(cwd)} is a ${st.kind}, not a directory`);
      const direct = this.sys.open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      let reached;
      try {
        reached = this.sys.fstat(direct);
      } finally {
        this.sys.close(direct);
      }
      if (reached.dev !== st.dev || reached.ino !== st.ino) {
        throw new StepError(`process.cwd ${JSON.stringify(cwd)} leads outside the container's root: chdir(2) would not reach the directory it names inside it`);
      }
    } finally {
      this.sys.close(inRoot.fd);
    }
  }
}

/** The paths a ".." component of `path` goes up from, in order ("/a/../b/c/.." gives "/a", "/a/../b/c"). */
export function beforeDotDots(path: string): string[] {
  const parts = path.split('/');
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) {
    if (parts[i] !== '..') continue;
    const before = parts.slice(0, i).join('/');
    if (parts.slice(1, i).some((p) => p !== '' && p !== '.' && p !== '..')) out.push(before);
  }
  return out;
}
