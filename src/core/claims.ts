/**
 * What a config asks of the run besides its mounts, and which steps carry it out. A
 * mount has its handler by type; a masked path, a sysctl or a read-only root has none,
 * so a plugin list without the built-in that does it would run the container without it
 * and say nothing: a plugins.json leaving out builtin:finalize would give a container
 * without its masks, its read-only paths or its read-only root. Each asked-for thing
 * below is a key that a step lists in its `handles`; before the first step runs, the
 * orchestrator refuses a config that asks for one no step handles, and a mount whose
 * type no handler takes (exit 2, where the run would otherwise stop at that mount or
 * finish without it).
 */
import { type MountSpec, type RootfsConfig, needsDevSetup } from './config/model';
import { MS_RDONLY } from './constants';
import { ConfigError, type MountkitError } from './errors';
import { isDevDestination, readonlyDeferred } from './mounting';
import { BUILTIN_PLUGIN_NAMES, pluginEnabled, unknownBuiltin, type PluginEntry } from './plugin-list';

/** Where a config asks for a claim: the field the refusal names, and its value when a short one says more. */
export interface Asked {
  readonly field: string;
  readonly value?: unknown;
}

export interface Claim {
  /** What a step lists in `LifecycleStep.handles` to carry it out. */
  readonly key: string;
  /** The built-in whose step does it (plugins.json's `builtin:NAME`). */
  readonly builtin: string;
  /** What that step does, for the refusal: "no plugin in the plugin list masks them". */
  readonly does: string;
  /** Where the config asks for it, if it does. */
  asked(config: RootfsConfig): Asked | undefined;
}

const nonEmpty = (field: string, list: readonly unknown[]): Asked | undefined => (list.length > 0 ? { field } : undefined);

/** The first mount that is read-only and made so after the jail (finalize's readonly-mounts step). */
function lateReadonly(mounts: readonly MountSpec[]): Asked | undefined {
  const i = mounts.findIndex((m) => (m.flags & MS_RDONLY) !== 0n && readonlyDeferred(m));
  return i < 0 ? undefined : { field: `mounts[${i}].options`, value: 'ro' };
}

/**
 * Where a config asks for device nodes: its linux.devices, and a filesystem of its own
 * mounted at /dev (runc spec's tmpfs), in which every runtime makes the default devices
 * (runtime-spec config-linux.md, "Default Devices"): without the devices step that /dev is
 * empty, and the run stops only after the jail, where after-jail opens /dev/null. Neither where
 * /dev is bound whole from elsewhere (needsDevSetup), which the step leaves as it is; a /dev
 * the config does not mount is the image's, with whatever nodes it has.
 */
function devicesAsked(c: RootfsConfig): Asked | undefined {
  if (!needsDevSetup(c)) return undefined;
  if (c.devices.length > 0) return { field: 'linux.devices' };
  const i = c.mounts.findIndex((m) => isDevDestination(m.destination));
  return i < 0 ? undefined : { field: `mounts[${i}].destination`, value: c.mounts[i].destination };
}

/** In the order of the phases that carry them out, so a list missing several builtins names the earliest. */
export const CLAIMS: readonly Claim[] = [
  { key: 'linux.rootfsPropagation', builtin: 'prepare-root', does: "sets the root's propagation", asked: (c) => (c.rootPropagation !== 0n ? { field: 'linux.rootfsPropagation' } : undefined) },
  { key: 'linux.devices', builtin: 'devices', does: 'makes the device nodes, /dev/null and the other defaults among them', asked: devicesAsked },
  { key: 'hostname', builtin: 'hostname', does: 'sets the hostname', asked: (c) => (c.hostname !== '' ? { field: 'hostname', value: c.hostname } : undefined) },
  { key: 'domainname', builtin: 'hostname', does: 'sets the domain name', asked: (c) => (c.domainname ? { field: 'domainname', value: c.domainname } : undefined) },
  {
    key: 'linux.namespaces.network',
    builtin: 'network',
    does: "brings a new network namespace's loopback up",
    asked: (c) => (c.namespaces.some((ns) => ns.type === 'network' && !ns.path) ? { field: 'linux.namespaces', value: 'network' } : undefined),
  },
  { key: 'hooks.prestart', builtin: 'hooks', does: 'runs them', asked: (c) => nonEmpty('hooks.prestart', c.hooks.prestart) },
  { key: 'hooks.createRuntime', builtin: 'hooks', does: 'runs them', asked: (c) => nonEmpty('hooks.createRuntime', c.hooks.createRuntime) },
  { key: 'hooks.createContainer', builtin: 'hooks', does: 'runs them', asked: (c) => nonEmpty('hooks.createContainer', c.hooks.createContainer ?? []) },
  { key: 'root.path', builtin: 'jail', does: "moves the process into the container's root (pivot_root(2), or chroot(2) with --no-pivot)", asked: (c) => ({ field: 'root.path', value: c.rootfs }) },
  { key: 'mounts.readonly', builtin: 'finalize', does: 'makes read-only tmpfs and /dev mounts read-only after the jail', asked: (c) => lateReadonly(c.mounts) },
  { key: 'root.readonly', builtin: 'finalize', does: 'makes the root read-only', asked: (c) => (c.readonlyRootfs ? { field: 'root.readonly', value: true } : undefined) },
  { key: 'linux.sysctl', builtin: 'finalize', does: 'writes them', asked: (c) => (Object.keys(c.sysctls).length > 0 ? { field: 'linux.sysctl' } : undefined) },
  { key: 'linux.readonlyPaths', builtin: 'finalize', does: 'makes them read-only', asked: (c) => nonEmpty('linux.readonlyPaths', c.readonlyPaths) },
  { key: 'linux.maskedPaths', builtin: 'finalize', does: 'masks them', asked: (c) => nonEmpty('linux.maskedPaths', c.maskedPaths) },
];

/**
 * The mount types a built-in handler takes, and that built-in. builtin:default, which
 * takes every type no handler claims, mounts one of these without what its handler adds:
 * a read-only, nosuid, nodev or noexec bind would be left without the remount that makes
 * it so (MS_BIND ignores those flags, mount(2)), read-write, a tmpfs without its
 * tmpcopyup, a proc or sysfs without the checks of its target.
 */
export const BUILTIN_MOUNT_TYPES: ReadonlyMap<string, string> = new Map([
  ['proc', 'proc'],
  ['sysfs', 'proc'],
  ['mqueue', 'mqueue'],
  ['tmpfs', 'tmpfs'],
  ['bind', 'bind'],
  ['cgroup', 'cgroup'],
  ['cgroup2', 'cgroup'],
]);

/**
 * The handler of the list that takes every type no other claims: one that mounts each
 * type as given (`generic`: builtin:default's, MountHandler.generic), or one of a plugin's
 * own (`trusted`), which is trusted with every type.
 */
export type Fallback = 'generic' | 'trusted' | undefined;

/**
 * The refusal of a config that has a mount whose type no handler of the list claims (a
 * built-in's type that only builtin:default would take counts as unclaimed:
 * BUILTIN_MOUNT_TYPES; any other is taken by the `fallback`), or that asks for something
 * no step of the list handles (`handled`: every key the loaded steps list).
 */
export function unclaimed(config: RootfsConfig, handled: ReadonlySet<string>, claims: (type: string) => boolean, fallback?: Fallback): ConfigError | undefined {
  for (let i = 0; i < config.mounts.length; i++) {
    const type = config.mounts[i].type;
    if (claims(type) || fallback === 'trusted') continue;
    const builtin = BUILTIN_MOUNT_TYPES.get(type);
    if (builtin !== undefined) {
      const without = fallback === 'generic' ? `; builtin:default, which takes any other type, would mount it without what builtin:${builtin} adds` : '';
      return new ConfigError(`mounts[${i}].type`, type, `no plugin in the plugin list handles this mount type (builtin:${builtin} does${without})`);
    }
    if (fallback === undefined) return new ConfigError(`mounts[${i}].type`, type, 'no plugin in the plugin list handles this mount type (builtin:default takes any type)');
  }
  for (const claim of CLAIMS) {
    if (handled.has(claim.key)) continue;
    const asked = claim.asked(config);
    if (asked === undefined) continue;
    return new ConfigError(
      asked.field,
      asked.value,
      `no plugin in the plugin list ${claim.does} (builtin:${claim.builtin} does); add it, or a step of your own listing "${claim.key}" in its handles`,
    );
  }
  return undefined;
}

/**
 * Whether the names of a plugin list's enabled entries tell all the kernel would refuse
 * in it, and all it would ask of the config (builtinListRefusal): not where it names a
 * module of its own, which may handle anything and may refuse a config in its `validate`;
 * an entry with options, which builtin:cgroup checks as it registers; or a handler
 * built-in listed twice, which the kernel refuses as it registers the second. No
 * built-in has a `validate`: what they check of a config is validateConfig's.
 */
export function decidedByNames(entries: readonly PluginEntry[]): boolean {
  const builtins = enabledBuiltins(entries);
  return builtins !== undefined && namesDecide(builtins);
}

/** A built-in's entry of a plugin list, with its name (`builtin:NAME` gives NAME). */
interface BuiltinEntry {
  entry: PluginEntry;
  name: string;
}

/**
 * The enabled entries of a plugin list, each a built-in, in their order; undefined where
 * one of them names a module of its own or a package, which only loading it tells about.
 * An entry is left out as the kernel leaves it out: `enabled: false` (pluginEnabled).
 */
function enabledBuiltins(entries: readonly PluginEntry[]): BuiltinEntry[] | undefined {
  const builtins: BuiltinEntry[] = [];
  for (const entry of entries) {
    if (!pluginEnabled(entry)) continue;
    if (!entry.module.startsWith('builtin:')) return undefined;
    builtins.push({ entry, name: entry.module.slice('builtin:'.length) });
  }
  return builtins;
}

/** Whether the names of a list's enabled built-ins tell all (decidedByNames): no entry with options, no handler built-in twice. */
function namesDecide(builtins: readonly BuiltinEntry[]): boolean {
  if (builtins.some(({ entry }) => entry.options !== undefined && Object.keys(entry.options).length > 0)) return false;
  const handlers = builtins.map((b) => b.name).filter((name) => HANDLER_BUILTINS.has(name));
  return new Set(handlers).size === handlers.length;
}

/** The built-ins whose handlers claim mount types: each of BUILTIN_MOUNT_TYPES's, and builtin:default. */
const HANDLER_BUILTINS: ReadonlySet<string> = new Set([...BUILTIN_MOUNT_TYPES.values(), 'default']);

/**
 * What the kernel would refuse in a plugin list of built-ins only, told from their names
 * without loading one: `mountkit run`'s first process asks before it relaunches, whose
 * process loads the list only in the namespaces the relaunch made. In the kernel's order:
 * a `builtin:NAME` that names none (StartupError, as loading it fails), then `unclaimed`
 * with what the built-ins listed do: each CLAIMS key its `builtin` handles, each
 * BUILTIN_MOUNT_TYPES type its built-in claims, builtin:default every other type as given
 * (`generic`). Undefined, left to the kernel, where the names do not tell
 * (decidedByNames). `entries` are checked ones (checkPluginEntries).
 */
export function builtinListRefusal(config: RootfsConfig, entries: readonly PluginEntry[]): MountkitError | undefined {
  const builtins = enabledBuiltins(entries);
  if (builtins === undefined) return undefined;
  const unknown = builtins.find(({ name }) => !BUILTIN_PLUGIN_NAMES.includes(name));
  if (unknown !== undefined) return unknownBuiltin(unknown.entry.module);
  if (!namesDecide(builtins)) return undefined;
  const listed = new Set(builtins.map((b) => b.name));
  const handled = new Set(CLAIMS.filter((c) => listed.has(c.builtin)).map((c) => c.key));
  const claims = (type: string): boolean => {
    const builtin = BUILTIN_MOUNT_TYPES.get(type);
    return builtin !== undefined && listed.has(builtin);
  };
  return unclaimed(config, handled, claims, listed.has('default') ? 'generic' : undefined);
}
