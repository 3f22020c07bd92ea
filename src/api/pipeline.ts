/**
 * The embedding API's entry points: run the pipeline in this process, or plan it.
 */
import { readFileSync, readlinkSync } from 'fs';
import type { RootfsConfig } from '../core/config/model';
import { ConfigError } from '../core/errors';
import { createKernel, pluginsFromFile, type KernelOptions, type PluginsFile } from '../core/kernel';
import type { StepWhere } from '../core/orchestrator';
import { buildPlan, type Plan, type PlanOptions } from '../core/plan';
import type { Logger, RunContext } from '../core/plugin';
import type { Syscalls } from '../core/syscalls/types';
import { linuxSyscalls } from './linux';

export interface PipelineOptions {
  /**
   * The plugin list: a plugins.json path (its relative modules resolve from its
   * directory) or the list itself (they resolve from `baseDir`). Default: the package's
   * plugins.json, every built-in, exec last.
   */
  plugins?: string | PluginsFile;
  /** Where the relative modules of a `plugins` list given as an object resolve from. */
  baseDir?: string;
  /** Plugin modules registered after the list: an embedder's own, given as objects. */
  extra?: KernelOptions['extra'];
  /** Default: a logger that drops everything. */
  logger?: Logger;
}

export interface RunPipelineOptions extends PipelineOptions {
  /** Runs in the before-jail phase, after the mounts and /dev, while the host's root is still reachable. */
  beforeJail?: (ctx: RunContext) => void;
  /** Told before every step and every mount. */
  onStep?: (where: StepWhere) => void;
  /**
   * The port. Default: the real one (LinuxSyscalls), after a check that this process has a
   * mount namespace of its own (sharedMountNamespaceProblem); a port given here is used as is.
   */
  syscalls?: Syscalls;
}

export type PlanApiOptions = PipelineOptions & Omit<PlanOptions, 'plugins' | 'baseDir' | 'extra' | 'logger'>;

function pluginSetup(opts: PipelineOptions): Pick<KernelOptions, 'plugins' | 'baseDir' | 'extra' | 'logger'> {
  const list = typeof opts.plugins === 'string' ? pluginsFromFile(opts.plugins) : { plugins: opts.plugins, baseDir: opts.baseDir };
  return { ...list, extra: opts.extra, logger: opts.logger };
}

/**
 * Why running the pipeline here would change the mounts of the namespace it was started
 * in, or undefined. `own` is this process's /proc/self/ns/mnt link, `ancestors` those of
 * its parent, grandparent and so on up to PID 1 (undefined where unreadable). A process
 * in a mount namespace of its own has some ancestor outside it (the shell that ran
 * `unshare -m`, or its own parent when it unshared itself); one that shares the namespace
 * of every ancestor it can see would prepare the rootfs in the namespace it came from.
 * With nothing readable the check cannot tell and lets the run go.
 */
export function sharedMountNamespaceProblem(own: string | undefined, ancestors: readonly (string | undefined)[]): string | undefined {
  const known = ancestors.filter((a): a is string => a !== undefined);
  if (own === undefined || known.length === 0 || known.some((a) => a !== own)) return undefined;
  return `this process shares its mount namespace (${own}) with every process above it: enter a new one first (unshare -m), or pass the syscall port explicitly`;
}

function nsLink(pid: number | 'self'): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/mnt`);
  } catch {
    return undefined;
  }
}

/** The parent of `pid` from /proc/PID/stat (the field after the command name, which may hold spaces and parentheses). */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
  } catch {
    return undefined;
  }
}

/** The mount namespace links of this process's ancestors, parent first, up to PID 1. */
function ancestorNamespaces(): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  for (let pid = parentOf(process.pid); pid !== undefined; pid = pid === 1 ? undefined : parentOf(pid)) out.push(nsLink(pid));
  return out;
}

/**
 * Runs every phase in this process, synchronously, for a process that is already in the
 * container's namespaces (at least a mount namespace of its own): prepare-root, the
 * mounts, /dev, the before-jail callback, the jail, after-jail and finalize. With the
 * default plugin list the exec step ends it by replacing the process (execve); leave
 * `builtin:exec` out to keep the process, jailed in the rootfs.
 *
 * Plugins are loaded first, before anything is mounted. Errors: ConfigError and
 * StartupError before any call, PluginError (phase, plugin, mount; the cause inside) for
 * a failing step.
 */
export function runPipeline(config: RootfsConfig, opts: RunPipelineOptions = {}): void {
  let sys = opts.syscalls;
  if (!sys) {
    const problem = sharedMountNamespaceProblem(nsLink('self'), ancestorNamespaces());
    if (problem) throw new ConfigError('runPipeline', undefined, problem);
    sys = linuxSyscalls();
  }
  const kernel = createKernel({ syscalls: sys, ...pluginSetup(opts) });
  kernel.orchestrator.run(config, { beforeJail: opts.beforeJail, onStep: opts.onStep });
}

/**
 * The calls a run of `config` would make, in order, each with its phase and plugin, from
 * the real plugins on a port that performs nothing (see `mountkit plan`). Needs no
 * privilege. A step that would fail ends the plan, with the error in `plan.error`.
 */
export function plan(config: RootfsConfig, opts: PlanApiOptions = {}): Plan {
  const { syscalls, launch, queries, validate } = opts;
  return buildPlan(config, { syscalls, launch, queries, validate, ...pluginSetup(opts) });
}
