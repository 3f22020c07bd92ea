import { inject, injectable } from 'tsyringe';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { HookSpec } from '../../core/config/model';
import type { CommandSpec, Syscalls } from '../../core/syscalls/types';
import { CONTAINER_PID_KEY, hookCommand, hostPid, ociState, runHook } from '../../core/hooks';
import { activationEnv } from '../../core/passed-fds';

/**
 * The OCI hooks that run after the mounts and before the jail: `prestart` (deprecated),
 * then `createRuntime`, then `createContainer`, each list in its order (runtime-spec
 * config.md: all three are called during create, after the runtime environment is set up
 * and before pivot_root or its equivalent, in that order; "hooks MUST be called in the
 * listed order"). runc runs them in that order too. The first failing hook stops the run.
 *
 * The spec wants the first two run in the runtime namespace, and runc runs them from its
 * parent process, in the bundle. The process preparing the rootfs has left those
 * namespaces (network, pid, uts, ipc, mount, user) by then, so `mountkit run` sends them
 * to the process that started it, which stays where mountkit was started
 * (RootfsConfig.runtimeChannel, CommandSpec.via): that process runs them there, in the
 * bundle, as runc runs them. Without a channel (an embedder's run) they run from this
 * process and inherit its namespaces; with a user namespace among them they run as its
 * root, which a warning says. createContainer hooks run in the container namespace, which
 * is where this process is, in the rootfs, with this process's pid and status "creating"
 * in their state, as runc's init runs them.
 *
 * Two steps, so that what runc does between them in its init can be placed there as
 * data: the runtime's hooks first in the phase (`pre`), the container's after (`normal`).
 * The exec plugin writes process.oomScoreAdj between them when the runtime's hooks run
 * here (`pre`, after this plugin in plugins.json): runc's parent, which runs prestart and
 * createRuntime hooks, keeps its own score, while its init, which runs createContainer
 * hooks, has the container's.
 *
 * startContainer hooks run as part of the handover, as the container's user (the exec
 * step). poststart and poststop hooks run at the other end of the runtime channel, as
 * runc's runtime process runs them after the container starts and after it ends
 * (src/core/runtime-hooks.ts; the exec step tells it when the program is next). Without
 * a channel they are never run, since this process becomes the container's: a config
 * that has them then gets one warning.
 */
@injectable()
export class OciHooksStep implements LifecycleStep {
  readonly name = 'hooks';
  readonly handles = ['hooks.prestart', 'hooks.createRuntime'];
  readonly phase = 'before-jail' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { prestart, createRuntime, poststart = [], poststop = [] } = ctx.config.hooks;
    const via = ctx.config.runtimeChannel;
    const notRun = via !== undefined ? [] : [...(poststart.length ? ['poststart'] : []), ...(poststop.length ? ['poststop'] : [])];
    if (notRun.length) ctx.log.warn(`hooks.${notRun.join(' and hooks.')} not run: without a runtime channel, mountkit's process becomes the container's, and nothing of it is left to run them`);
    if (prestart.length === 0 && createRuntime.length === 0) return;
    if (via === undefined && ctx.config.namespaces.some((ns) => ns.type === 'user')) {
      ctx.log.warn("hooks.prestart and hooks.createRuntime run in the container's user namespace, as its root, not as the host's root as under runc");
    }
    // runc's host side gives these hooks the container's pid as the host sees it; the
    // process preparing the rootfs becomes the container. Run at the other end of a
    // runtime channel, they get the state that end builds itself, from the config alone.
    const shared = via === undefined ? ctx.shared : new Map<string, unknown>();
    const state = ociState(shared, ctx.config, shared.has(CONTAINER_PID_KEY) ? undefined : { status: 'creating', pid: hostPid(this.sys) });
    const command = (hook: HookSpec): CommandSpec => ({ ...hookCommand(hook, state), ...(via === undefined ? {} : { via }) });
    prestart.forEach((hook, i) => runHook(this.sys, `prestart[${i}]`, hook, command(hook)));
    createRuntime.forEach((hook, i) => runHook(this.sys, `createRuntime[${i}]`, hook, command(hook)));
  }
}

/**
 * The createContainer hooks, after the runtime's (OciHooksStep): a step named apart from
 * it, so that plans, errors and an embedder's onStep tell the two apart.
 */
@injectable()
export class CreateContainerHooksStep implements LifecycleStep {
  readonly name = 'create-container-hooks';
  readonly handles = ['hooks.createContainer'];
  readonly phase = 'before-jail' as const;
  readonly order = 'normal' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { rootfs, hooks } = ctx.config;
    const { createContainer = [] } = hooks;
    if (createContainer.length === 0) return;
    const own = ociState(ctx.shared, ctx.config, { status: 'creating', pid: this.sys.getpid() });
    // Without an env of their own, the environment runc's init has taken by then: the
    // container's process.env with what socket activation appends to it (LISTEN_FDS and
    // LISTEN_PID=1), and no HOME yet (runc adds it as it takes the container's user).
    const environment = activationEnv(ctx.config.process.env, ctx.config.listenFds);
    createContainer.forEach((hook, i) => runHook(this.sys, `createContainer[${i}]`, hook, hookCommand(hook, own, rootfs, environment)));
  }
}
