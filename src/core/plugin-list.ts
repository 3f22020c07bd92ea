/**
 * The plugin list as plugins.json holds it, read and checked without loading a plugin:
 * the kernel (core/kernel.ts) loads what it names, and `mountkit run`'s first process
 * checks it before a relaunch (core/claims.ts builtinListRefusal), which neither loads
 * tsyringe nor a plugin module.
 */
import { readFileSync } from 'fs';
import path = require('path');
import { parseErrorAt, wrongType } from './config/json';
import { ConfigError, StartupError } from './errors';

export interface PluginEntry {
  /** `builtin:NAME`, a path relative to the plugins file, or an installed package name. */
  module: string;
  enabled?: boolean;
  options?: Record<string, unknown>;
}

/** Whether an entry of a plugin list is loaded: any but one with `enabled: false`. */
export function pluginEnabled(entry: PluginEntry): boolean {
  return entry.enabled !== false;
}

export interface PluginsFile {
  plugins: PluginEntry[];
}

/** The package's own plugins.json (one level above src/ and dist/). */
export const DEFAULT_PLUGINS_FILE = path.resolve(__dirname, '..', '..', 'plugins.json');

/** The plugin list in `file` (default: the package's plugins.json) and the directory its relative modules resolve from. */
export function pluginsFromFile(file: string = DEFAULT_PLUGINS_FILE): { plugins: PluginsFile; baseDir: string } {
  const resolved = path.resolve(file);
  return { plugins: readPluginsFile(resolved), baseDir: path.dirname(resolved) };
}

/** The keys a plugins.json entry may have. */
const PLUGIN_ENTRY_KEYS = ['module', 'enabled', 'options'];

/**
 * The plugin list in `file`, checked. Errors name it as config.json's do, for `--plugins`
 * and an embedder's `plugins` alike: `plugins.json "FILE": cannot be read (ENOENT)`.
 */
export function readPluginsFile(file: string): PluginsFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError('plugins.json', file, `cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError('plugins.json', file, `is not valid JSON${parseErrorAt(text, (err as Error).message)}`);
  }
  return { plugins: checkPluginEntries((parsed as PluginsFile | null)?.plugins, `${file}: plugins`) };
}

/**
 * A plugin list's entries, as a plugins.json file holds them or an embedder gives them in
 * code, checked: each an object of the keys PLUGIN_ENTRY_KEYS only, `module` a non-empty
 * string, `enabled` a boolean, `options` an object. `field` names the list in errors.
 */
export function checkPluginEntries(plugins: unknown, field: string): PluginEntry[] {
  if (!Array.isArray(plugins)) wrongType(field, plugins, 'an array');
  plugins.forEach((p, i) => {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) wrongType(`${field}[${i}]`, p, 'an object');
    // A misspelt key ("enable", "option") would otherwise be ignored, and the entry run as if it were absent.
    for (const key of Object.keys(p)) {
      if (!PLUGIN_ENTRY_KEYS.includes(key)) throw new ConfigError(`${field}[${i}].${key}`, undefined, `is not a key of a plugin entry (${PLUGIN_ENTRY_KEYS.join(', ')})`);
    }
    if (typeof p.module !== 'string' || !p.module) throw new ConfigError(`${field}[${i}].module`, p.module, 'must be a non-empty string');
    if (p.enabled !== undefined && typeof p.enabled !== 'boolean') throw new ConfigError(`${field}[${i}].enabled`, p.enabled, 'must be a boolean');
    if (p.options !== undefined && !isOptions(p.options)) throw new ConfigError(`${field}[${i}].options`, p.options, 'must be an object');
  });
  return plugins as PluginEntry[];
}

export function isOptions(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The names plugins.json takes as `builtin:NAME`, in the order of BUILTIN_PLUGINS
 * (src/plugins/index.ts), which loads them all: here for a check that loads none.
 */
export const BUILTIN_PLUGIN_NAMES: readonly string[] = ['proc', 'mqueue', 'tmpfs', 'bind', 'cgroup', 'default', 'hostname', 'network', 'prepare-root', 'devices', 'hooks', 'jail', 'after-jail', 'finalize', 'exec'];

/** The refusal of `builtin:NAME` where NAME is none of BUILTIN_PLUGIN_NAMES (`spec` as the list gives it). */
export function unknownBuiltin(spec: string): StartupError {
  return new StartupError(spec, `no built-in plugin of that name (known: ${BUILTIN_PLUGIN_NAMES.join(', ')})`);
}
