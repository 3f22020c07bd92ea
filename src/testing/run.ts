/**
 * Runs plugins the way a real run does (the kernel loads them, the orchestrator runs the
 * phases) on a recording fake port, and returns what they called.
 */
import type { RootfsConfig, MountSpec } from '../core/config/model';
import { createKernel, type PluginModule } from '../core/kernel';
import type { RunHooks } from '../core/orchestrator';
import type { LifecycleStep, Logger, MountHandler } from '../core/plugin';
import { ExecveCalled, FakeSyscalls, type SyscallRecord } from '../core/syscalls/fake';
import { notingFailures } from './calls';
import { makeConfig } from './config';

/** A class the kernel builds, injecting SYSCALLS, LOGGER and PLUGIN_OPTIONS into its constructor. */
export type Constructor<T> = new (...args: any[]) => T;

/** A plugin module under test, as a plugins.json entry would load it. */
export interface TestPlugin {
  /** The name errors and logs give it; default "plugin-under-test". */
  module?: string;
  plugin: PluginModule;
  /** What `api.options` and PLUGIN_OPTIONS hold. */
  options?: Record<string, unknown>;
}

export interface RunPluginOptions {
  /** Plugin modules, registered in order after the built-ins: a module (anything with `register`) or a TestPlugin. */
  plugins?: readonly (PluginModule | TestPlugin)[];
  /** Built-in plugins registered first, by name (`['proc', 'default']`). */
  builtins?: readonly string[];
  /** Mount handlers added directly: instances, or classes the kernel builds. */
  handlers?: readonly (MountHandler | Constructor<MountHandler>)[];
  /** Lifecycle steps added directly: instances, or classes the kernel builds. */
  steps?: readonly (LifecycleStep | Constructor<LifecycleStep>)[];
  /** PLUGIN_OPTIONS for the classes in `handlers` and `steps` (refused without one: none given, or instances only); for `runHandler`, the options of what it runs (refused with an instance). */
  options?: Record<string, unknown>;
  /** Default: makeConfig(). */
  config?: RootfsConfig;
  /** The fake to run on; pass one to build a filesystem model first, or to read its calls after a failure. Default: a new fake holding the config's rootfs directory (`/bundle/rootfs`), nothing else. */
  sys?: FakeSyscalls;
  logger?: Logger;
  beforeJail?: RunHooks['beforeJail'];
}

export interface PluginRun {
  sys: FakeSyscalls;
  /** Every call, in order. */
  calls: SyscallRecord[];
  /** The calls that change state, in order. */
  effects: SyscallRecord[];
  /** The exec step's execve, when the run got there (the fake's execve throws it). */
  execve?: ExecveCalled;
}

function asTestPlugin(p: PluginModule | TestPlugin): TestPlugin {
  return 'plugin' in p ? p : { plugin: p };
}

/**
 * Runs every phase of `config` with the given plugins on a fake port; what the config asks
 * that none of them does is left undone (the orchestrator's `checkClaims`), as the plugins
 * under test are run alone; their `validate` is asked, as in a run. A failing step
 * throws, as in a real run, a PluginError naming phase, plugin and mount with the
 * original error as `cause`; the fake keeps the calls made up to it.
 */
export function runPlugin(opts: RunPluginOptions = {}): PluginRun {
  // Options with no class to inject them into would reach no plugin, and the test would run with the plugin's defaults unawares.
  // PLUGIN_OPTIONS is injected into a constructor the kernel calls: an instance was built before, and takes none.
  if (opts.options !== undefined) {
    const direct = [...(opts.handlers ?? []), ...(opts.steps ?? [])];
    if (direct.length === 0) {
      throw new Error('runPlugin: options are the PLUGIN_OPTIONS of the classes in handlers and steps, and none is given: give a plugin module its options as { plugin, options }');
    }
    if (!direct.some((d) => typeof d === 'function')) {
      throw new Error('runPlugin: options are the PLUGIN_OPTIONS of the classes in handlers and steps, and those given are all instances, which the kernel does not build: give a class, or make the instance with its options');
    }
  }
  const config = opts.config ?? makeConfig();
  // A run opens the rootfs first (every mount target, the jail): a fake without it would fail there, before the plugin under test ran.
  const sys = opts.sys ?? new FakeSyscalls().addDir(config.rootfs);
  const direct: PluginModule = {
    register: (api) => {
      for (const h of opts.handlers ?? []) api.handler(h);
      for (const s of opts.steps ?? []) api.step(s);
    },
  };
  const extra = (opts.plugins ?? []).map(asTestPlugin).map((p) => ({ module: p.module ?? 'plugin-under-test', plugin: p.plugin, options: p.options }));
  extra.push({ module: 'handlers-and-steps', plugin: direct, options: opts.options });
  const kernel = createKernel({
    syscalls: notingFailures(sys),
    logger: opts.logger,
    plugins: { plugins: (opts.builtins ?? []).map((name) => ({ module: `builtin:${name}` })) },
    extra,
  });
  let execve: ExecveCalled | undefined;
  try {
    kernel.orchestrator.run(config, { beforeJail: opts.beforeJail, checkClaims: false });
  } catch (err) {
    if (!(err instanceof ExecveCalled)) throw err;
    execve = err;
  }
  return { sys, calls: [...sys.calls], effects: sys.effects(), ...(execve ? { execve } : {}) };
}

/**
 * Runs `mounts` (as config.mounts) through runPlugin with one handler. An instance or a
 * class is registered alone, so no lifecycle step runs and the calls are the handler's.
 * A plugin module (or a TestPlugin) is registered whole: every handler and every step
 * its `register` adds, and those steps run too. `opts.options` are the options of what
 * is under test: the class's PLUGIN_OPTIONS, or the module's (refused when a TestPlugin
 * gives its own too, and with an instance, which takes none). `opts.builtins` still adds built-ins.
 */
export function runHandler(
  handler: MountHandler | Constructor<MountHandler> | PluginModule | TestPlugin,
  mounts: MountSpec | readonly MountSpec[],
  opts: Omit<RunPluginOptions, 'handlers' | 'steps' | 'plugins'> = {},
): PluginRun {
  const config = { ...(opts.config ?? makeConfig()), mounts: Array.isArray(mounts) ? [...mounts] : [mounts as MountSpec] };
  const isModule = typeof handler === 'object' && ('register' in handler || 'plugin' in handler);
  if (!isModule && typeof handler !== 'function' && opts.options !== undefined) {
    throw new Error('runHandler: options are given with a handler instance, which the kernel does not build, so they would reach nothing: give its class or its plugin module, or make the instance with its options');
  }
  if (!isModule) return runPlugin({ ...opts, config, handlers: [handler as MountHandler | Constructor<MountHandler>] });
  const { options, ...rest } = opts;
  const plugin = asTestPlugin(handler as PluginModule | TestPlugin);
  if (options !== undefined && plugin.options !== undefined) {
    throw new Error("runHandler: the plugin's options are given twice, as { plugin, options } and as opts.options: give them once");
  }
  return runPlugin({ ...rest, config, plugins: [options === undefined ? plugin : { ...plugin, options }] });
}
