/**
 * The built-in plugins, named in plugins.json as `builtin:NAME`. Imported statically so
 * that a run loads them in one pass; a third-party plugin is a path or package instead.
 */
import type { PluginModule } from '../core/kernel';
import * as afterJail from './after-jail';
import * as bind from './bind';
import * as cgroup from './cgroup';
import * as defaultHandler from './default';
import * as devices from './devices';
import * as exec from './exec';
import * as finalize from './finalize';
import * as hooks from './hooks';
import * as hostname from './hostname';
import * as jail from './jail';
import * as mqueue from './mqueue';
import * as network from './network';
import * as prepareRoot from './prepare-root';
import * as proc from './proc';
import * as tmpfs from './tmpfs';

/**
 * Each built-in by its name, typed as its module: a plugin that wraps one reaches its
 * classes (`BUILTIN_PLUGINS.tmpfs.TmpfsMountHandler`) and `register` without a cast.
 */
export const BUILTIN_PLUGINS = {
  proc,
  mqueue,
  tmpfs,
  bind,
  cgroup,
  default: defaultHandler,
  hostname,
  network,
  'prepare-root': prepareRoot,
  devices,
  hooks,
  jail,
  'after-jail': afterJail,
  finalize,
  exec,
} as const satisfies Readonly<Record<string, PluginModule>>;

/** The names plugins.json takes as `builtin:NAME`. */
export type BuiltinPluginName = keyof typeof BUILTIN_PLUGINS;

/** The built-in named `name`, if there is one. */
export function builtinPlugin(name: string): PluginModule | undefined {
  return Object.hasOwn(BUILTIN_PLUGINS, name) ? BUILTIN_PLUGINS[name as BuiltinPluginName] : undefined;
}
