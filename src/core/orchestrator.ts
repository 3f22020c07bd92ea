import { inject, injectable, injectAll } from 'tsyringe';
import { types } from 'util';
import type { MountExtensions, MountSpec, RootfsConfig } from './config/model';
import { BUILTIN_MOUNT_TYPES, unclaimed, type Fallback } from './claims';
import { ConfigError, PluginError, StepError, thrownMessage } from './errors';
import { releaseContainerRoot, releaseRun } from './mounting';
import { parseMountInfo, type MountTable } from './mountinfo';
import {
  DEFAULT_MOUNT_TYPE,
  LIFECYCLE_STEPS,
  LOGGER,
  MOUNT_HANDLERS,
  ORDERS,
  PHASES,
  SYSCALLS,
  type LifecycleStep,
  type Logger,
  type MountHandler,
  type Phase,
  type RunContext,
} from './plugin';
import type { CommandSpec, Syscalls } from './syscalls/types';

/** Where the pipeline is; given to a StepListener before each step (plan attributes calls with it). */
export interface StepWhere {
  phase: Phase;
  plugin: string;
  mountIndex?: number;
}

export interface RunHooks {
  /** Runs in the before-jail phase, after the mounts and /dev, with the old root still reachable. */
  beforeJail?: (ctx: RunContext) => void;
  /** Told before every step and every mount, and (plugin `orchestrator`) before the run closes what it kept; used to attribute syscalls. */
  onStep?: (where: StepWhere) => void;
  /**
   * Whether a config asking for what no step or handler of the list does is refused
   * before the first step (core/claims.ts); default true. The testkit's runners, which run
   * the plugins under test alone, pass false.
   */
  checkClaims?: boolean;
}

interface OrderedStep {
  step: LifecycleStep;
  log: Logger;
}

/** Sort key: phase, then pre/normal/post; Array.prototype.sort is stable, so ties keep plugins.json order. */
export function sortSteps<T extends LifecycleStep>(steps: readonly T[]): T[] {
  const rank = (s: LifecycleStep) => PHASES.indexOf(s.phase) * ORDERS.length + ORDERS.indexOf(s.order ?? 'normal');
  return [...steps].sort((a, b) => rank(a) - rank(b));
}

@injectable()
export class Orchestrator {
  private readonly byType = new Map<string, MountHandler>();
  private readonly fallback?: MountHandler;
  private readonly steps: OrderedStep[];
  /** Each handler's logger, made once rather than for each mount. */
  private readonly handlerLogs = new Map<MountHandler, Logger>();
  /** Every key the steps list in their `handles`. */
  private readonly handled = new Set<string>();
  /**
   * The config checkConfig has just checked, which the run that follows it with that same
   * object does not have the plugins check again. Taken by that run: another run, or one
   * of a config changed since, is checked anew.
   */
  private checked: RootfsConfig | undefined;

  constructor(
    @inject(SYSCALLS) private readonly sys: Syscalls,
    @inject(LOGGER) private readonly log: Logger,
    @injectAll(MOUNT_HANDLERS, { isOptional: true }) handlers: MountHandler[] = [],
    @injectAll(LIFECYCLE_STEPS, { isOptional: true }) steps: LifecycleStep[] = [],
  ) {
    for (const h of handlers) {
      for (const t of h.types) {
        if (t === DEFAULT_MOUNT_TYPE) this.fallback = h;
        else this.byType.set(t, h);
      }
      this.handlerLogs.set(h, log.child({ plugin: h.name }));
    }
    this.steps = sortSteps(steps).map((step) => ({ step, log: log.child({ plugin: step.name }) }));
    for (const step of steps) for (const key of step.handles ?? []) this.handled.add(key);
  }

  /** The handler for a mount type: the one that claims it, else the default handler. */
  handlerFor(type: string): MountHandler | undefined {
    return this.byType.get(type) ?? this.fallback;
  }

  /** Whether the handler of every unclaimed type mounts it as given (builtin:default's), is trusted with it, or is none (core/claims.ts). */
  private fallbackKind(): Fallback {
    if (this.fallback === undefined) return undefined;
    return this.fallback.generic === true ? 'generic' : 'trusted';
  }

  /** The lifecycle steps in the order they run. */
  orderedSteps(): readonly LifecycleStep[] {
    return this.steps.map((s) => s.step);
  }

  /**
   * Refuses a config that asks for what no step or handler of the list does (core/claims.ts),
   * with the ConfigError run() starts with: for a caller that enters namespaces or changes
   * anything else between loading the plugins and the run (`mountkit run`, runPipeline's
   * time offsets), so that the refusal comes before it.
   */
  checkClaims(config: RootfsConfig): void {
    const refused = unclaimed(config, this.handled, (type) => this.byType.has(type), this.fallbackKind());
    if (refused) throw refused;
  }

  /**
   * Has the plugins check the config, with nothing of the run done yet: the handler of
   * each configured mount, in the config's order (MountHandler.validate), then each step,
   * in the order they run (LifecycleStep.validate). A ConfigError one throws becomes one
   * naming the plugin (and the mount); anything else, a PluginError of the mounts phase or
   * the step's.
   */
  validate(config: RootfsConfig): void {
    for (const m of config.mounts) {
      const handler = this.handlerFor(m.type);
      if (handler?.validate === undefined) continue;
      try {
        synchronous(handler.validate(m, config), 'validate()');
      } catch (err) {
        throw refusal(m, handler, err);
      }
    }
    for (const { step } of this.steps) {
      if (step.validate === undefined) continue;
      try {
        synchronous(step.validate(config), 'validate()');
      } catch (err) {
        if (err instanceof ConfigError) throw new ConfigError(err.field, err.value, `plugin ${step.name}: ${err.reason}`, { cause: err });
        throw wrapped({ phase: step.phase, plugin: step.name }, err);
      }
    }
  }

  /**
   * Everything run() checks before its first step: the list's claims, then the plugins'
   * validate. For a caller that enters namespaces or changes anything else
   * between loading the plugins and the run, so that a refusal comes before it; the next
   * run, of this same config object, does not ask the plugins again.
   */
  checkConfig(config: RootfsConfig): void {
    this.checked = undefined;
    this.checkClaims(config);
    this.validate(config);
    this.checked = config;
  }

  /**
   * Runs every phase synchronously; the first failure stops the run as a PluginError. A
   * config that asks for what no step or handler of the list does is refused first
   * (core/claims.ts), then one a plugin's validate refuses.
   */
  run(config: RootfsConfig, hooks: RunHooks = {}): void {
    const checked = this.checked === config;
    this.checked = undefined;
    if (hooks.checkClaims !== false) this.checkClaims(config);
    if (!checked) this.validate(config);
    let table: MountTable | undefined;
    const shared = new Map<string, unknown>();
    // One context per plugin name for the whole run: the mounts of a handler share theirs.
    // (Not per logger: a silent logger's children are itself, one for every plugin.)
    const contexts = new Map<string, RunContext>();
    const context = (log: Logger, name: string): RunContext => {
      let ctx = contexts.get(name);
      if (ctx === undefined) {
        ctx = {
          config,
          log,
          shared,
          mountTable: () => (table ??= parseMountInfo(this.sys.readFile('/proc/self/mountinfo'))),
          dispatch: (m) => this.mountOne(m, config, name, context),
        };
        contexts.set(name, ctx);
      }
      return ctx;
    };

    // The phase the run is in, for the orchestrator's own closing calls after a failure.
    let current: Phase = PHASES[0];
    try {
      for (const phase of PHASES) {
        current = phase;
        const started = performance.now();
        this.log.debug(`phase ${phase} start`);
        const inPhase = this.steps.filter((s) => s.step.phase === phase);
        for (const order of ORDERS) {
          for (const { step, log } of inPhase.filter((s) => (s.step.order ?? 'normal') === order)) {
            this.guard({ phase, plugin: step.name }, hooks, () => {
              // The jail makes the rootfs `/`: the descriptor kept for the mounts is closed before it.
              if (phase === 'jail') releaseContainerRoot(this.sys, shared);
              synchronous(step.run(context(log, step.name)), 'run()');
            });
          }
          if (order === 'pre' && phase === 'mounts') this.mountAll(config, hooks, context, shared);
          if (order === 'normal' && phase === 'before-jail' && hooks.beforeJail) {
            const cb = hooks.beforeJail;
            // Its ctx.log tags its lines as a step's are tagged (the kernel's child({ plugin })), by the name its errors give it.
            this.guard({ phase, plugin: BEFORE_JAIL_CALLBACK }, hooks, () => synchronous(cb(context(this.log.child({ plugin: BEFORE_JAIL_CALLBACK }), BEFORE_JAIL_CALLBACK)), 'the callback'));
          }
        }
        this.log.debug(`phase ${phase} end`, { ms: +(performance.now() - started).toFixed(3) });
      }
    } catch (err) {
      // The fake port's execve ends a run by throwing; a real one closed what the run kept (close-on-exec).
      if (isExecve(err)) throw err;
      // A run that stopped before the jail may still hold the rootfs open, and any run what it kept (keptForRun).
      // Those closes are the orchestrator's, not the failed step's, to onStep (a plan's attribution) too.
      try {
        releaseRun(this.sys, shared, () => hooks.onStep?.({ phase: current, plugin: 'orchestrator' }));
      } catch {
        // The failure of the run is what is reported, not that of closing a descriptor after it.
      }
      throw err;
    }
    // Only a run without a jail step gets here holding the rootfs; a run without an exec step, what it kept.
    try {
      releaseRun(this.sys, shared, () => hooks.onStep?.({ phase: 'finalize', plugin: 'orchestrator' }));
    } catch (err) {
      throw new PluginError({ phase: 'finalize', plugin: 'orchestrator' }, err);
    }
  }

  private mountAll(config: RootfsConfig, hooks: RunHooks, context: (log: Logger, name: string) => RunContext, shared: Map<string, unknown>): void {
    const mounts = config.mounts;
    for (let i = 0; i < mounts.length; i++) {
      const m = mounts[i];
      const handler = this.handlerFor(m.type);
      if (!handler) {
        throw new PluginError(mountWhere(m, 'orchestrator'), new StepError(noHandler(m.type)));
      }
      const ctx = context(this.handlerLogs.get(handler) ?? this.log, handler.name);
      if (m.relativeDestination !== undefined) this.log.warn(relativeDestinationWarning(m));
      const ignored = ignoredExtension(m, handler);
      if (ignored !== undefined) this.log.warn(ignored);
      // A mount's commands are a step of their own only where it has some.
      if (m.premountCmds.length > 0) this.guard(() => mountWhere(m, 'premount-command'), hooks, () => this.runCommands(m.premountCmds, shared));
      this.guard(() => mountWhere(m, handler.name), hooks, () => synchronous(handler.mount(m, ctx), 'mount()'));
      if (m.postmountCmds.length > 0) this.guard(() => mountWhere(m, 'postmount-command'), hooks, () => this.runCommands(m.postmountCmds, shared));
    }
  }

  /**
   * A mount a plugin hands on (RunContext.dispatch): the handler of its type mounts it with
   * its own logger, and its failure names that handler and the mount's destination (the
   * PluginError around it names the configured mount and the plugin that handed it on). An
   * extension its handler does not do is a warning, as for a configured mount; its
   * handler's validate checks it first.
   */
  private mountOne(m: MountSpec, config: RootfsConfig, via: string, context: (log: Logger, name: string) => RunContext): void {
    const handler = this.handlerFor(m.type);
    if (!handler) throw new StepError(noHandler(m.type));
    const ignored = ignoredExtension(m, handler);
    if (ignored !== undefined) this.log.warn(ignored);
    const mount = () => {
      if (handler.validate !== undefined) synchronous(handler.validate(m, config), 'validate()');
      synchronous(handler.mount(m, context(this.handlerLogs.get(handler) ?? this.log, handler.name)), 'mount()');
    };
    if (handler.name === via) return mount();
    try {
      mount();
    } catch (err) {
      if (err instanceof PluginError || isExecve(err)) throw err;
      throw new StepError(`handed to plugin ${handler.name} ${JSON.stringify(m.destination)}: ${thrownMessage(err)}`, { cause: err });
    }
  }

  /** Runs a mount's commands; what they may have mounted is seen by the next lookup, made from the rootfs opened again. */
  private runCommands(cmds: readonly CommandSpec[], shared: Map<string, unknown>): void {
    for (const cmd of cmds) {
      releaseContainerRoot(this.sys, shared);
      const r = this.sys.runCommand(cmd);
      if (r.status !== 0) {
        const how = r.signal ? `killed by ${r.signal}` : `exit status ${r.status}`;
        throw new StepError(`command ${JSON.stringify([cmd.path, ...cmd.args])} failed (${how}): ${r.output.trim()}`);
      }
    }
  }

  /**
   * Runs one step, told to onStep first; a failure becomes a PluginError saying where.
   * `where` is a value or, for the steps of each mount, made only when it is needed.
   */
  private guard(where: Where | (() => Where), hooks: RunHooks, fn: () => void): void {
    const at = typeof where === 'function' ? where : () => where;
    if (hooks.onStep) hooks.onStep(at());
    try {
      fn();
    } catch (err) {
      throw wrapped(at(), err);
    }
  }
}

type Where = StepWhere & { destination?: string };

/**
 * A configured mount its handler's validate refused: a ConfigError as one naming the mount,
 * its destination and the plugin (exit 2, as every refusal of the config before the run);
 * anything else as a failure of the plugin in the mounts phase.
 */
function refusal(m: MountSpec, handler: MountHandler, err: unknown): unknown {
  if (err instanceof ConfigError) return new ConfigError(`mounts[${m.index}]`, m.destination, `plugin ${handler.name}: ${err.message}`, { cause: err });
  return wrapped(mountWhere(m, handler.name), err);
}

/**
 * A mount no handler takes, with the built-in that would: only where the claims were not
 * checked before the run (the testkit's runners load no built-in unless listed) or for a
 * mount a plugin hands on (RunContext.dispatch), which the claims cannot see.
 */
function noHandler(type: string): string {
  const builtin = BUILTIN_MOUNT_TYPES.get(type) ?? 'default';
  return `no handler for mount type ${JSON.stringify(type)}: no plugin loaded claims it (builtin:${builtin} ${builtin === 'default' ? 'takes any type' : 'does'})`;
}

/** The name errors give RunHooks.beforeJail. */
const BEFORE_JAIL_CALLBACK = 'before-jail-callback';

/**
 * Refuses what a step, handler or callback returned when it is a promise (a thenable): its
 * work would go on after the call, out of the run's order, and Node's asynchronous file
 * calls run on libuv's threads, which stay in the mount namespace the process started in
 * (unshare(2) and setns(2) move the calling thread only). Its rejection is
 * taken here, so that it does not end the process after the run's own error.
 */
export function synchronous(result: unknown, what: string): void {
  if ((typeof result !== 'object' && typeof result !== 'function') || result === null) return;
  if (typeof (result as { then?: unknown }).then !== 'function') return;
  // Another thenable's then is its own code, which is not run here.
  if (types.isPromise(result)) result.then(undefined, () => undefined);
  throw new StepError(`${what} returned a promise: a plugin's work must be done before it returns (synchronously)`);
}

/**
 * The warning for a relative mount destination, taken from `/` (config/oci.ts): runc 1.1.5
 * and 1.2 warn too, calling it deprecated, so a config is better off without one.
 */
export function relativeDestinationWarning(m: Pick<MountSpec, 'index' | 'destination' | 'relativeDestination'>): string {
  return `mounts[${m.index}].destination ${JSON.stringify(m.relativeDestination)} is relative: taken from / as ${JSON.stringify(m.destination)} (runtime-spec 1.2), which runc calls deprecated`;
}

/**
 * The warning for a mount extension the config's options ask for (tmpcopyup) that the
 * handler of its type does not list in its `extensions`: the mount is made without it, as
 * runc makes a bind or any type but tmpfs with tmpcopyup (crun refuses them).
 */
export function ignoredExtension(m: Pick<MountSpec, 'index' | 'type' | 'extensions'>, handler: Pick<MountHandler, 'name' | 'extensions'>): string | undefined {
  for (const [name, asked] of Object.entries(m.extensions) as [keyof MountExtensions, boolean][]) {
    if (asked && !(handler.extensions ?? []).includes(name)) {
      return `mounts[${m.index}].options ${JSON.stringify(name)}: ignored: plugin ${handler.name}, which mounts type ${JSON.stringify(m.type)}, does not do it (builtin:tmpfs does, for a tmpfs)`;
    }
  }
  return undefined;
}

function mountWhere(m: MountSpec, plugin: string): StepWhere & { destination: string } {
  return { phase: 'mounts', plugin, mountIndex: m.index, destination: m.destination };
}

/** A step's failure as a PluginError naming where it happened; one already wrapped, or the fake's execve, as it is. */
function wrapped(where: Where, err: unknown): unknown {
  if (err instanceof PluginError || isExecve(err)) return err;
  return new PluginError(where, err);
}

/** The fake port's execve ends the pipeline by throwing; it is not a failure of the step. */
function isExecve(err: unknown): boolean {
  return err instanceof Error && err.name === 'ExecveCalled';
}
