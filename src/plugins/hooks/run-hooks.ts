import { inject, injectable } from 'tsyringe';
import type { HookSpec } from '../../core/config/model';
import { StepError, SyscallError } from '../../core/errors';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { CommandSpec, Syscalls } from '../../core/syscalls/types';
import { hookCommand, hookFailure, ociState } from './state';

/**
 * Runs one hook to its end; the first failure stops the run, naming the hook (`which`:
 * its list and index) and its output.
 */
function runHook(sys: Syscalls, which: string, hook: HookSpec, cmd: CommandSpec): void {
  const name = `hook ${which} ${JSON.stringify(hook.path)}`;
  let failure: string | undefined;
  try {
    failure = hookFailure(hook, sys.runCommand(cmd));
  } catch (err) {
    if (err instanceof SyscallError) throw new StepError(`${name}: ${err.message}`, { cause: err });
    throw err;
  }
  if (failure) throw new StepError(`${name} ${failure}`);
}

/**
 * The OCI hooks that run after the mounts and before the jail: `prestart` (deprecated),
 * then `createRuntime`, then `createContainer`, each list in its order (runtime-spec
 * config.md: all three are called during create, after the runtime environment is set up
 * and before pivot_root or its equivalent, in that order; "hooks MUST be called in the
 * listed order"). runc runs them in that order too.
 *
 * The spec wants the first two run in the runtime namespace, and runc runs them from its
 * parent process, in the bundle. mountkit runs them from the process preparing the
 * rootfs: the hook inherits the container's new mount namespace, where the host's tree is
 * still the root until the jail, so the hook's path resolves as on the host unless a
 * container mount covers it. createContainer hooks run in the container namespace, which
 * is where this process is, in the rootfs, with this process's pid and status "creating"
 * in their state, as runc's init runs them.
 *
 * poststart and poststop hooks are never run: runc's runtime process runs them after the
 * container starts and after it ends, and mountkit's process becomes the container's. A
 * config that has them gets one warning.
 */
@injectable()
export class OciHooksStep implements LifecycleStep {
  readonly name = 'hooks';
  readonly phase = 'before-jail' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { bundle, rootfs, hooks } = ctx.config;
    const { prestart, createRuntime, createContainer = [], poststart = [], poststop = [] } = hooks;
    const notRun = [...(poststart.length ? ['poststart'] : []), ...(poststop.length ? ['poststop'] : [])];
    if (notRun.length) ctx.log.warn(`hooks.${notRun.join(' and hooks.')} not run: mountkit's process becomes the container's, and nothing of it is left to run them`);
    if (prestart.length === 0 && createRuntime.length === 0 && createContainer.length === 0) return;
    const state = ociState(ctx.shared, bundle);
    prestart.forEach((hook, i) => runHook(this.sys, `prestart[${i}]`, hook, hookCommand(hook, state)));
    createRuntime.forEach((hook, i) => runHook(this.sys, `createRuntime[${i}]`, hook, hookCommand(hook, state)));
    if (createContainer.length === 0) return;
    const own = ociState(ctx.shared, bundle, { status: 'creating', pid: process.pid });
    createContainer.forEach((hook, i) => runHook(this.sys, `createContainer[${i}]`, hook, hookCommand(hook, own, rootfs)));
  }
}

/**
 * The OCI `startContainer` hooks: run in the container after the jail and finalize, just
 * before its program is executed (a step of the last slot, which plugins.json places after
 * the finalize plugin's umask and before the exec step), each in its order (runtime-spec config.md: part of the start operation,
 * before the user-specified program; its path resolves in the container namespace). As
 * runc's init runs them: in the container's working directory, with its environment when
 * the hook names none, and status "created" and this process's pid in the state. runc
 * runs them after taking the container's user; here they run with mountkit's identity,
 * which the exec step gives up after them.
 */
@injectable()
export class StartContainerHooksStep implements LifecycleStep {
  readonly name = 'start-container-hooks';
  readonly phase = 'finalize' as const;
  readonly order = 'post' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const hooks = ctx.config.hooks.startContainer ?? [];
    if (hooks.length === 0) return;
    const { cwd, env } = ctx.config.process;
    const state = ociState(ctx.shared, ctx.config.bundle, { status: 'created', pid: process.pid });
    hooks.forEach((hook, i) => runHook(this.sys, `startContainer[${i}]`, hook, hookCommand(hook, state, cwd, env)));
  }
}
