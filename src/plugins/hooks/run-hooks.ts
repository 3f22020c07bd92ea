import { inject, injectable } from 'tsyringe';
import type { HookSpec } from '../../core/config/model';
import { StepError, SyscallError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { hookCommand, hookFailure, ociState, type OciState } from './state';

/**
 * The OCI hooks that run after the mounts and before the jail: `prestart` (deprecated),
 * then `createRuntime`, each list in its order (runtime-spec config.md: both are called
 * during create, after the runtime environment is set up and before pivot_root or its
 * equivalent; "the prestart hooks MUST be called before the createRuntime hooks"; "hooks
 * MUST be called in the listed order"). runc 1.1 runs them in that order too.
 *
 * The spec wants both run in the runtime namespace, and runc runs them from its parent
 * process. mountkit runs them from the process preparing the rootfs: the hook inherits
 * the container's new mount namespace, where the host's tree is still the root until the
 * jail, so the hook's path resolves as on the host unless a container mount covers it.
 * The first failing hook stops the run.
 */
@injectable()
export class OciHooksStep implements LifecycleStep {
  readonly name = 'hooks';
  readonly phase = 'before-jail' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { prestart, createRuntime } = ctx.config.hooks;
    if (prestart.length === 0 && createRuntime.length === 0) return;
    const state = ociState(ctx.shared, ctx.config.bundle);
    prestart.forEach((hook, i) => this.runHook(`prestart[${i}]`, hook, state));
    createRuntime.forEach((hook, i) => this.runHook(`createRuntime[${i}]`, hook, state));
  }

  private runHook(which: string, hook: HookSpec, state: OciState): void {
    const name = `hook ${which} ${JSON.stringify(hook.path)}`;
    let failure: string | undefined;
    try {
      failure = hookFailure(hook, this.sys.runCommand(hookCommand(hook, state)));
    } catch (err) {
      if (err instanceof SyscallError) throw new StepError(`${name}: ${err.message}`, { cause: err });
      throw err;
    }
    if (failure) throw new StepError(`${name} ${failure}`);
  }
}
