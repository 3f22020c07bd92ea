/**
 * The plugin API: mount-type handlers, lifecycle steps, and the context they run in.
 * Plugins get the syscall port by constructor injection (token SYSCALLS) and touch the
 * OS through it only.
 */
import type { MountExtensions, MountSpec, RootfsConfig } from './config/model';
import type { MountTable } from './mountinfo';

/** The phases, in the order runc's prepareRootfs/finalizeRootfs runs them. */
export const PHASES = ['prepare-root', 'mounts', 'dev', 'before-jail', 'jail', 'after-jail', 'finalize'] as const;
export type Phase = (typeof PHASES)[number];

/** Position inside a phase: pre steps run first, post steps last; the mount loop runs after pre. */
export const ORDERS = ['pre', 'normal', 'post'] as const;
export type Order = (typeof ORDERS)[number];

export interface Logger {
  error(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  info(message: string, meta?: Record<string, unknown>): unknown;
  debug(message: string, meta?: Record<string, unknown>): unknown;
  child(meta: Record<string, unknown>): Logger;
}

/** State shared by all plugins during one run. */
export interface RunContext {
  readonly config: RootfsConfig;
  /** The logger of the plugin being run. */
  readonly log: Logger;
  /** The host's mount table, read from /proc/self/mountinfo on first use, once per run. */
  mountTable(): MountTable;
  /** Mounts a derived mount (cgroup's tmpfs and binds) through the handler for its type. */
  dispatch(mount: MountSpec): void;
  /** Free-form state plugins share within one run (e.g. whether /dev is set up). */
  readonly shared: Map<string, unknown>;
}

export interface MountHandler {
  /** Name used in logs and errors ("tmpfs"). */
  readonly name: string;
  /** Mount types this handler claims; DEFAULT_MOUNT_TYPE for the fallback handler. */
  readonly types: readonly string[];
  /**
   * True for a handler that mounts whatever type it is given with mount(2) as the config
   * has it and adds nothing of a type's own (builtin:default): the claims check does not
   * let it take a built-in handler's type (core/claims.ts, BUILTIN_MOUNT_TYPES). A
   * catch-all handler without it is trusted with every type.
   */
  readonly generic?: boolean;
  /**
   * The mount extensions of the config's options it carries out (`['tmpcopyup']`, the
   * tmpfs handler's); a mount asking for one its handler does not list runs without it,
   * with a warning (runc ignores tmpcopyup on any type but tmpfs too).
   */
  readonly extensions?: readonly (keyof MountExtensions)[];
  /**
   * Checks a mount of its types from the config alone, before the run does anything: the
   * orchestrator asks it for every configured mount the handler takes once the plugins are
   * loaded, before the namespaces are entered and the first step runs, and for a mount a
   * plugin hands on (RunContext.dispatch) just before its mount(). A ConfigError it throws
   * refuses the run as a config error naming the mount (exit 2), with nothing made in the
   * rootfs yet. It runs before the namespaces are entered, in the mount namespace the
   * process that prepares the rootfs started in (a relaunch's, as the root of the
   * container's user namespace), so it makes no call of the port.
   */
  validate?(mount: MountSpec, config: RootfsConfig): void;
  mount(mount: MountSpec, ctx: RunContext): void;
}

export interface LifecycleStep {
  readonly name: string;
  readonly phase: Phase;
  readonly order?: Order;
  /**
   * What of the config this step carries out, as core/claims.ts names it
   * ("linux.maskedPaths", "hostname", ...): a run whose config asks for one of those
   * things is refused before its first step unless a step of the list handles it.
   */
  readonly handles?: readonly string[];
  /**
   * Checks the config before the run does anything, as MountHandler.validate checks a
   * mount: asked once per run, after the handlers' checks, in the order the steps run. A
   * ConfigError it throws refuses the run as a config error (exit 2) naming the plugin. It
   * runs where MountHandler.validate runs, so it makes no call of the port.
   */
  validate?(config: RootfsConfig): void;
  run(ctx: RunContext): void;
}

/** The type a handler claims to take every mount type no other handler claims. */
export const DEFAULT_MOUNT_TYPE = '*';

/** Injection tokens. */
export const SYSCALLS = Symbol.for('mountkit.Syscalls');
export const LOGGER = Symbol.for('mountkit.Logger');
export const PLUGIN_OPTIONS = Symbol.for('mountkit.PluginOptions');
export const MOUNT_HANDLERS = Symbol.for('mountkit.MountHandlers');
export const LIFECYCLE_STEPS = Symbol.for('mountkit.LifecycleSteps');
export const RUN_HOOKS = Symbol.for('mountkit.RunHooks');
