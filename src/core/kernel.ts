/**
 * The composition root: the one place that builds the tsyringe container, loads the
 * plugin modules named in plugins.json and wires their handlers and steps.
 */
import 'reflect-metadata';
import { realpathSync } from 'fs';
import { createRequire } from 'module';
import path = require('path');
import { types } from 'util';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import type { constructor } from 'tsyringe/dist/typings/types';
import { builtinPlugin } from '../plugins';
import { CLAIMS } from './claims';
import { ConfigError, StartupError, firstLine, thrownMessage } from './errors';
import { silentLogger } from './logger';
import { Orchestrator } from './orchestrator';
import { DEFAULT_PLUGINS_FILE, checkPluginEntries, isOptions, pluginEnabled, readPluginsFile, unknownBuiltin, type PluginsFile } from './plugin-list';
import {
  DEFAULT_MOUNT_TYPE,
  LIFECYCLE_STEPS,
  ORDERS,
  PHASES,
  LOGGER,
  MOUNT_HANDLERS,
  PLUGIN_OPTIONS,
  SYSCALLS,
  type LifecycleStep,
  type Logger,
  type MountHandler,
} from './plugin';
import type { Syscalls } from './syscalls/types';

export { DEFAULT_PLUGINS_FILE, checkPluginEntries, pluginsFromFile, readPluginsFile } from './plugin-list';
export type { PluginEntry, PluginsFile } from './plugin-list';

/** What a plugin module's `register` function receives. */
export interface PluginApi {
  /** The module as written in plugins.json. */
  readonly module: string;
  readonly options: Readonly<Record<string, unknown>>;
  readonly log: Logger;
  /** This module's child container: SYSCALLS, LOGGER and PLUGIN_OPTIONS resolve to its own. */
  readonly container: DependencyContainer;
  /** Adds a mount-type handler: a class (built by the container) or an instance. */
  handler(h: constructor<MountHandler> | MountHandler): void;
  /** Adds a lifecycle step: a class (built by the container) or an instance. */
  step(s: constructor<LifecycleStep> | LifecycleStep): void;
}

export type RegisterPlugin = (api: PluginApi) => void;

export interface PluginModule {
  register: RegisterPlugin;
}

export interface KernelOptions {
  syscalls: Syscalls;
  logger?: Logger;
  /** Plugin list; defaults to the package's plugins.json. */
  plugins?: PluginsFile;
  /** Directory relative module paths are resolved from (the plugins file's directory). */
  baseDir?: string;
  /** Modules registered after the list, for embedders (a module name for errors, and the module). */
  extra?: { module: string; plugin: PluginModule; options?: Record<string, unknown> }[];
}

export interface Kernel {
  readonly container: DependencyContainer;
  readonly orchestrator: Orchestrator;
}

/**
 * The list of a plugins file given as an object: `{ plugins: [...] }`. A bare array, the
 * entries without their object, is refused by name rather than read as no list.
 */
function pluginList(file: unknown): unknown {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new ConfigError('plugins', file, 'must be a plugins file as an object, { plugins: [...] }');
  return (file as Partial<PluginsFile>).plugins;
}

function isThenable(v: unknown): boolean {
  return ((typeof v === 'object' && v !== null) || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';
}

/** The keys an `extra` module may have (KernelOptions.extra). */
const EXTRA_KEYS = ['module', 'plugin', 'options'];

/**
 * The `extra` modules an embedder gives in code, checked as plugins.json entries are: a
 * misspelt `option` would otherwise drop the options, a string as `plugin` fail only as
 * "register is not a function".
 */
function checkExtra(extra: unknown): NonNullable<KernelOptions['extra']> {
  if (extra === undefined) return [];
  if (!Array.isArray(extra)) throw new ConfigError('extra', extra, 'must be an array of { module, plugin, options? }');
  extra.forEach((e, i) => {
    const field = `extra[${i}]`;
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new ConfigError(field, e, 'must be an object: { module, plugin, options? }');
    for (const key of Object.keys(e)) {
      if (!EXTRA_KEYS.includes(key)) throw new ConfigError(`${field}.${key}`, undefined, `is not a key of an extra module (${EXTRA_KEYS.join(', ')})`);
    }
    if (typeof e.module !== 'string' || !e.module) throw new ConfigError(`${field}.module`, e.module, 'must be a non-empty string');
    if (typeof e.plugin?.register !== 'function') throw new StartupError(e.module, 'has no register(api) function: `plugin` must be the module, an object with one');
    if (e.options !== undefined && !isOptions(e.options)) throw new ConfigError(`${field}.options`, e.options, 'must be an object');
  });
  return extra;
}

export function createKernel(opts: KernelOptions): Kernel {
  const log = opts.logger ?? silentLogger;
  const container = rootContainer.createChildContainer();
  container.registerInstance(SYSCALLS, opts.syscalls);
  container.registerInstance(LOGGER, log);

  const entries = opts.plugins === undefined ? readPluginsFile(DEFAULT_PLUGINS_FILE).plugins : checkPluginEntries(pluginList(opts.plugins), 'plugins.plugins');
  const extras = checkExtra(opts.extra);
  const baseDir = opts.baseDir ?? path.dirname(DEFAULT_PLUGINS_FILE);
  const modules = entries
    .filter(pluginEnabled)
    .map((p) => ({ module: p.module, plugin: loadPluginModule(p.module, baseDir), options: p.options ?? {} }));
  for (const extra of extras) modules.push({ ...extra, options: extra.options ?? {} });

  const claimed = new Map<string, string>();
  for (const { module, plugin, options } of modules) {
    const child = container.createChildContainer();
    const pluginLog = log.child({ plugin: module });
    child.registerInstance(LOGGER, pluginLog);
    child.registerInstance(PLUGIN_OPTIONS, options);
    const build = <T>(x: constructor<T> | T): T => {
      if (typeof x !== 'function') return x;
      const problem = untokenedParameter(x, child);
      if (problem) throw new StartupError(module, problem);
      try {
        return child.resolve(x as constructor<T>);
      } catch (err) {
        throw injectedFailure(err, x);
      }
    };
    let closed = false;
    const api: PluginApi = {
      module,
      options,
      log: pluginLog,
      container: child,
      handler: (h) => {
        if (closed) throw new StartupError(module, 'added a mount handler after register returned: the run was set up without it');
        const handler = build(h);
        const problem = handlerProblem(handler);
        if (problem) throw new StartupError(module, problem);
        for (const type of handler.types) {
          const owner = claimed.get(type);
          if (owner !== undefined) {
            const what = type === DEFAULT_MOUNT_TYPE ? 'the default handler' : `mount type "${type}"`;
            // A module listed twice meets itself (one that registers steps only may be, each entry with its options).
            throw new StartupError(module, owner === module ? `${what} is claimed twice by this module: is it listed twice?` : `${what} is already claimed by "${owner}"`);
          }
          claimed.set(type, module);
        }
        container.registerInstance(MOUNT_HANDLERS, handler);
      },
      step: (s) => {
        if (closed) throw new StartupError(module, 'added a lifecycle step after register returned: the run was set up without it');
        const step = build(s);
        const problem = stepProblem(step);
        if (problem) throw new StartupError(module, problem);
        container.registerInstance(LIFECYCLE_STEPS, step);
      },
    };
    try {
      const registered: unknown = plugin.register(api);
      // What an async register adds after its first await would come after the kernel
      // was built: a handler missing from the run, its mounts the default handler's.
      if (isThenable(registered)) {
        if (types.isPromise(registered)) registered.then(undefined, () => undefined);
        throw new StartupError(module, 'register returned a promise: a plugin adds its handlers and steps before register returns (synchronously)');
      }
    } catch (err) {
      if (err instanceof StartupError) throw err;
      const message = thrownMessage(err);
      const hint = otherCopy(pluginFiles.get(plugin)) ?? undecoratedClass(message);
      throw new StartupError(module, `register failed: ${message}${hint ? `; ${hint}` : ''}`, { cause: err });
    } finally {
      closed = true;
    }
  }
  return { container, orchestrator: container.resolve(Orchestrator) };
}

/**
 * A name errors, logs and plans show on one line: no whitespace or control characters (a
 * newline in a plugin's name would cut the one-line error before the syscall it names).
 */
const PLAIN_NAME = /^[^\s\p{Cc}]+$/u;

/**
 * What is wrong with a handler a plugin registers, checked as it registers it: a plain
 * JavaScript plugin gets no help from the types, and a handler without a name or types
 * would be registered and never used, or named "undefined" in its errors.
 */
export function handlerProblem(h: Partial<MountHandler>): string | undefined {
  if (typeof h.name !== 'string' || h.name === '') return 'a mount handler needs a name (a non-empty string)';
  if (!PLAIN_NAME.test(h.name)) return `mount handler ${JSON.stringify(h.name)}: a name must not hold whitespace or control characters`;
  if (!Array.isArray(h.types) || h.types.length === 0 || !h.types.every((t) => typeof t === 'string' && t !== '')) {
    return `mount handler "${h.name}": types must be a non-empty list of mount types`;
  }
  const odd = h.types.find((t) => !PLAIN_NAME.test(t));
  if (odd !== undefined) return `mount handler "${h.name}": mount type ${JSON.stringify(odd)} holds whitespace or control characters`;
  if (typeof h.mount !== 'function') return `mount handler "${h.name}": mount must be a function`;
  return undefined;
}

/** What is wrong with a lifecycle step, checked as it is registered: a step with an unknown phase or order would never run. */
export function stepProblem(s: Partial<LifecycleStep>): string | undefined {
  if (typeof s.name !== 'string' || s.name === '') return 'a lifecycle step needs a name (a non-empty string)';
  if (!PLAIN_NAME.test(s.name)) return `step ${JSON.stringify(s.name)}: a name must not hold whitespace or control characters`;
  if (!(PHASES as readonly unknown[]).includes(s.phase)) return `step "${s.name}": phase ${JSON.stringify(s.phase)} is not one of ${PHASES.join(', ')}`;
  if (s.order !== undefined && !(ORDERS as readonly unknown[]).includes(s.order)) return `step "${s.name}": order ${JSON.stringify(s.order)} is not one of ${ORDERS.join(', ')}`;
  if (typeof s.run !== 'function') return `step "${s.name}": run must be a function`;
  if (s.handles !== undefined) {
    if (!Array.isArray(s.handles)) return `step "${s.name}": handles must be a list of what the step carries out (${CLAIM_KEYS.join(', ')})`;
    const unknown = s.handles.find((key) => !CLAIM_KEYS.includes(key));
    if (unknown !== undefined) return `step "${s.name}": handles ${JSON.stringify(unknown)} is not one of ${CLAIM_KEYS.join(', ')}`;
  }
  return undefined;
}

/** What a step may list in `handles`: core/claims.ts's keys. */
const CLAIM_KEYS: readonly unknown[] = CLAIMS.map((c) => c.key);

/** Loads `builtin:NAME`, a relative or absolute path (from baseDir), or a package name. */
export function loadPluginModule(spec: string, baseDir: string): PluginModule {
  let mod: unknown;
  let resolvedFile: string | undefined;
  if (spec.startsWith('builtin:')) {
    mod = builtinPlugin(spec.slice('builtin:'.length));
    if (!mod) throw unknownBuiltin(spec);
  } else {
    const isPath = spec.startsWith('.') || path.isAbsolute(spec);
    let resolved: string;
    try {
      resolved = require.resolve(isPath ? path.resolve(baseDir, spec) : spec, { paths: [baseDir] });
    } catch (err) {
      throw new StartupError(spec, `cannot be found from ${baseDir}${isPath ? '' : asPathHint(spec, baseDir)}`, { cause: err });
    }
    resolvedFile = resolved;
    try {
      mod = require(resolved);
    } catch (err) {
      // Node's own message may go on for lines (a missing module lists its require stack); the whole of it is the cause's, shown at debug level.
      const message = firstLine(typeof (err as Error)?.message === 'string' ? (err as Error).message : String(err));
      throw new StartupError(spec, `failed to load: ${message}${TYPESCRIPT_SOURCE.test(resolved) ? TYPESCRIPT_HINT : ''}`, { cause: err });
    }
  }
  const plugin = registering(mod);
  if (!plugin) throw new StartupError(spec, 'does not export a register(api) function (as `register`, or as the `register` of its default export)');
  if (resolvedFile !== undefined) pluginFiles.set(plugin, resolvedFile);
  return plugin;
}

/**
 * What a name that is no installed package would be as a path: a plugin's own build
 * written `dist/index.js`, which Node looks up as the package `dist`. Said only when the
 * file is there.
 */
function asPathHint(spec: string, baseDir: string): string {
  try {
    require.resolve(path.resolve(baseDir, spec));
  } catch {
    return '';
  }
  return ` as a package (a name without "./" is looked up in node_modules); the file ${path.resolve(baseDir, spec)} is "./${spec}"`;
}

/** A TypeScript source file: Node 20's require cannot load one, and Node 22's type stripping takes no decorators. */
const TYPESCRIPT_SOURCE = /\.[cm]?tsx?$/;
const TYPESCRIPT_HINT = ' (a TypeScript source: compile the plugin, `tsc`, and list the JavaScript it writes, such as "./dist/index.js")';

/**
 * The module itself when it exports `register`, else its default export when that has
 * one: an ES module's `export default { register }` (required through Node's require of
 * ES modules) and TypeScript's compiled `export default` both put it there.
 */
function registering(mod: unknown): PluginModule | undefined {
  for (const m of [mod, (mod as { default?: unknown } | null)?.default]) {
    if (typeof (m as Partial<PluginModule> | null | undefined)?.register === 'function') return m as PluginModule;
  }
  return undefined;
}

/** tsyringe's words around what a class it builds for a constructor's parameter threw (formatErrorCtor, error-helpers.js): the rest, each line indented 4 spaces. */
const INJECT_FAILED = /^Cannot inject the dependency (?:"[^"]*" )?at position #(\d+) of "[^"]*" constructor\. Reason:\n/;

/**
 * What a class the kernel built threw in the constructor of a class it injects: tsyringe
 * keeps that error's message only, under a line of its own per class on the way ("Cannot
 * inject the dependency ... Reason:"), which a one-line error would cut off. The message
 * as thrown, after the path to the class whose constructor threw (`class "Handler" ->
 * "Options": options.mode "x": ...`, or `, constructor parameter N (name)` where the token
 * is no class: an unregistered one), the tsyringe error as its cause. Anything else as it is.
 */
function injectedFailure(err: unknown, cls: Function): unknown {
  let message = err instanceof Error && typeof err.message === 'string' ? err.message : undefined;
  if (message === undefined || !INJECT_FAILED.test(message)) return err;
  const route = [`"${cls.name}"`];
  let at: Function | undefined = cls;
  let parameter = '';
  for (let m = INJECT_FAILED.exec(message); m; m = INJECT_FAILED.exec(message)) {
    const i = Number(m[1]);
    message = message.slice(m[0].length).replace(/^ {4}/gm, '');
    const next: Function | undefined = at && constructedClasses(typeInfo.get(at)?.[i])[0];
    if (next) route.push(`"${next.name}"`);
    else if (at) {
      const name = parameterName(at, i);
      parameter = `, constructor parameter ${i + 1}${name === undefined ? '' : ` (${name})`}`;
    }
    at = next;
  }
  return new Error(`class ${route.join(' -> ')}${parameter}: ${message}`, { cause: err });
}

/**
 * tsyringe's message for a class it has no constructor information of: with one copy of
 * mountkit, the class was not decorated with @injectable(), whose decorator records the
 * parameters' tokens, or it was and none of its parameters has @inject(TOKEN) (without
 * emitDecoratorMetadata, as docs/plugins.md builds plugins, it then records none). A
 * class with constructor parameters and no tokens is refused. untokenedParameter names
 * the parameter first for a class the kernel builds; this is for one a class injects.
 */
export function undecoratedClass(message: string): string | undefined {
  const m = /(?:^|: )TypeInfo not known for "([^"]*)"/.exec(message);
  return m ? `is the class "${m[1]}" decorated with @injectable(), and each of its constructor's parameters with @inject(TOKEN) (a handler, a step, and every class they inject)?` : undefined;
}

/**
 * What tsyringe keeps of each class its @injectable() decorated: one entry per constructor
 * parameter, from design:paramtypes (emitted with emitDecoratorMetadata only) with the
 * @inject tokens over them (getParamInfo, reflection-helpers.js). A parameter with neither
 * is a hole, and construct() passes undefined there (dependency-container.js). Not among
 * tsyringe's exports: its module, as tsyringe's index loads it. A tsyringe laid out
 * otherwise leaves the check out (an empty map) rather than mountkit unable to load.
 */
const typeInfo = tsyringeTypeInfo();

function tsyringeTypeInfo(): ReadonlyMap<unknown, readonly unknown[]> {
  try {
    const { typeInfo: map } = require('tsyringe/dist/cjs/dependency-container') as { typeInfo?: unknown };
    if (map instanceof Map) return map;
  } catch {
    // Another layout of tsyringe's files: no check, as before it had one.
  }
  return new Map();
}

/** The class of what tsyringe's delay(() => Class) returns (lazy-helpers.js, not exported either); its `wrap` gives the class. */
const DelayedConstructor = tsyringeDelayedConstructor();

function tsyringeDelayedConstructor(): Function | undefined {
  try {
    const { DelayedConstructor: cls } = require('tsyringe/dist/cjs/lazy-helpers') as { DelayedConstructor?: unknown };
    if (typeof cls === 'function') return cls;
  } catch {
    // Another layout: a delayed class token is not followed.
  }
  return undefined;
}

/**
 * A class the kernel is to build whose constructor has a parameter tsyringe knows no token
 * for, named in one line: a plugin built without emitDecoratorMetadata (as docs/plugins.md
 * builds them) and a parameter without @inject(TOKEN) would be given undefined, the
 * plugin failing only when it uses it, or, with no @inject at all, the class refused with
 * "TypeInfo not known". Function.length counts the parameters before the first with a
 * default value or a rest one, which need none. A class @injectable() did not decorate
 * (or another copy's did) is left to tsyringe's own error.
 *
 * The classes a constructor's tokens name are checked the same way, and theirs in turn
 * (tsyringe builds a class token the container has no registration for by constructing
 * it), each class once, so a cycle of class tokens ends; the error names the path from
 * the class the plugin registered ("Handler" -> "Helper"). A class token `container` has
 * a registration for is the plugin's own provider's and is not followed. A map lookup per
 * class.
 */
function untokenedParameter(cls: Function, container?: DependencyContainer): string | undefined {
  const seen = new Set<Function>([cls]);
  const queue: Function[][] = [[cls]];
  while (queue.length > 0) {
    const route = queue.shift()!;
    const at = route[route.length - 1];
    const params = typeInfo.get(at);
    if (params === undefined) continue;
    for (let i = 0; i < at.length; i++) {
      if (i in params) continue;
      const name = parameterName(at, i);
      return (
        `class ${route.map((c) => `"${c.name}"`).join(' -> ')}: constructor parameter ${i + 1}${name === undefined ? '' : ` (${name})`} has no @inject(TOKEN), so it would be given undefined: ` +
        'add @inject(SYSCALLS), @inject(LOGGER), @inject(PLUGIN_OPTIONS) or the token of what it needs'
      );
    }
    for (const param of params) {
      for (const next of constructedClasses(param)) {
        if (seen.has(next) || container?.isRegistered(next as constructor<unknown>, true)) continue;
        seen.add(next);
        queue.push([...route, next]);
      }
    }
  }
  return undefined;
}

/**
 * The classes tsyringe constructs for one entry of a class's parameter list: the entry
 * itself when it is a class, the class a delay(() => Class) gives, and the token and the
 * transform class of @injectAll, @injectWithTransform and @injectAllWithTransform's
 * descriptors (resolveParams, dependency-container.js).
 */
function constructedClasses(param: unknown): Function[] {
  if (typeof param === 'function') return [param];
  if (typeof param !== 'object' || param === null) return [];
  if (DelayedConstructor !== undefined && param instanceof DelayedConstructor) {
    const wrap = (param as { wrap?: unknown }).wrap;
    const cls: unknown = typeof wrap === 'function' ? wrap() : undefined;
    return typeof cls === 'function' ? [cls] : [];
  }
  const d = param as { token?: unknown; transform?: unknown };
  return [...('token' in d ? constructedClasses(d.token) : []), ...(typeof d.transform === 'function' ? [d.transform] : [])];
}

/** A constructor's parameter `i` by the name its source gives it, when its parameters are plain names (no defaults, destructuring or comments). */
function parameterName(cls: Function, i: number): string | undefined {
  const list = /(?<![.\w$])constructor\s*\(([^()]*)\)/.exec(Function.prototype.toString.call(cls))?.[1];
  const names = list?.split(',').map((p) => p.trim());
  return names?.every((n) => /^[\p{L}_$][\p{L}\p{N}_$]*$/u.test(n)) ? names[i] : undefined;
}

/** The file each loaded plugin module came from, for otherCopy. */
const pluginFiles = new WeakMap<PluginModule, string>();

/** This package's directory (one level above src/ and dist/). */
const PACKAGE_DIR = path.resolve(__dirname, '..', '..');

/**
 * When a plugin's register fails: says so if the plugin would load another copy of
 * mountkit than this one. tsyringe keeps what its decorators record in its own module, so
 * classes decorated through another copy cannot be built by this one's container (and
 * another copy's error classes are not this one's).
 */
function otherCopy(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  let theirs: string;
  try {
    // Resolved from the plugin's file, as its own import of mountkit is. require.resolve
    // with `paths` would not do: Node tries the caller's package first (a package may
    // import itself by its name through its "exports"), and the caller is this copy.
    theirs = path.dirname(createRequire(file).resolve('mountkit/package.json'));
  } catch {
    return undefined;
  }
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  if (real(theirs) === real(PACKAGE_DIR)) return undefined;
  return `mountkit as the plugin's directory finds it is ${theirs}, this command's is ${PACKAGE_DIR}: a plugin and the command must share one copy of mountkit`;
}
