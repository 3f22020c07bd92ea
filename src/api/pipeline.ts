/**
 * The embedding API's entry points: run the pipeline in this process, or plan it.
 */
import { readFileSync, readlinkSync } from 'fs';
import type { NamespaceType, RootfsConfig } from '../core/config/model';
import { checkedModel } from '../core/config/model-check';
import { sysctlNamespace } from '../core/config/sysctl';
import { validateConfig } from '../core/config/validate';
import { ConfigError } from '../core/errors';
import { createKernel, pluginsFromFile, type KernelOptions, type PluginsFile } from '../core/kernel';
import { NAMESPACE_FILES, applyTimeOffsets } from '../core/namespaces';
import type { StepWhere } from '../core/orchestrator';
import { buildEmbeddedPlan, buildPlan, type EmbeddedPlanOptions, type Plan, type PlanOptions } from '../core/plan';
import type { Logger, RunContext } from '../core/plugin';
import { isModelPort } from '../core/syscalls/fake';
import { LinuxSyscalls } from '../core/syscalls/linux';
import type { Syscalls } from '../core/syscalls/types';
import { HandoverStep } from '../plugins/exec/handover';
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
   * The port. Default: the real one, `linuxSyscalls()`. One of your own (a wrapper that
   * counts or logs the calls) is used as is; the checks of this process are checkProcess's.
   */
  syscalls?: Syscalls;
  /**
   * Refuse, before the port is used, a process that shares its mount namespace (or a
   * namespace the config lists) with every process above it, or has run a pipeline
   * already. Default: true on every port but mountkit's models, which perform nothing
   * (an object FakeSyscalls' constructor made: a test's FakeSyscalls, DryRunSyscalls,
   * PlanSyscalls, a subclass), false on those: the real one (none given, one
   * `linuxSyscalls()` made), a Proxy of it or of a model and a wrapper of any other shape,
   * which may reach the kernel, are checked. Give false for a port of your own that
   * performs nothing (a fake that does not extend FakeSyscalls), true for a subclass of
   * FakeSyscalls that reaches the kernel; false on the real port leaves the checks out
   * there too, where the run changes the mounts of whatever namespace the process is in.
   */
  checkProcess?: boolean;
}

/** A run through the API opens no --log file: `log` is the CLI's. */
export type PlanApiOptions = PipelineOptions &
  Omit<PlanOptions, 'plugins' | 'baseDir' | 'extra' | 'logger' | 'log'> & {
    /** What is planned: `run`, what `mountkit run` would do (the default), or `embedded` (EmbeddedPlanApiOptions). */
    mode?: 'run';
  };

/**
 * The plan of what runPipeline would do in a process that is in the config's namespaces
 * already: runPipeline's options (the same object, but for the port), with `beforeJail`
 * and `onStep` called as it calls them.
 */
export type EmbeddedPlanApiOptions = Omit<RunPipelineOptions, 'syscalls' | 'checkProcess'> &
  EmbeddedPlanOptions & {
    mode: 'embedded';
    /**
     * Refuse as runPipeline refuses a port that may reach the kernel in this process: a
     * second run, a mount namespace or a namespace the config lists shared with every
     * process above it. For a plan made in the process that will run; default false, as
     * runPipeline on one of mountkit's models, for a plan made elsewhere (a test).
     */
    checkProcess?: boolean;
  };

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
  if (!sharesWithAll(own, ancestors)) return undefined;
  return `this process shares its mount namespace (${own}) with every process above it: enter a new one first (unshare -m)`;
}

/**
 * The namespaces the pipeline writes the state of, by their files in /proc/PID/ns: the
 * hostname and NIS domain name (uts), sysctls (ipc, network, uts, user: the user.*
 * limits), the loopback interface brought up (network).
 */
export const WRITTEN_NAMESPACES: Readonly<Partial<Record<NamespaceType, string>>> = { uts: 'uts', ipc: 'ipc', network: 'net', user: 'user' };

/** What the run writes in each of WRITTEN_NAMESPACES, for the refusal. */
const WRITTEN_WHAT: Readonly<Partial<Record<NamespaceType, string>>> = { uts: 'hostname and sysctls', ipc: 'sysctls', network: 'sysctls and the loopback interface', user: 'sysctls' };

/**
 * Why the config's namespace of `type` (uts, ipc, network, user, pid, cgroup or time,
 * which linux.namespaces lists) is not one this process entered, or undefined: as for the mount namespace
 * (sharedMountNamespaceProblem), a process that shares it with every ancestor it can see
 * is in the one it was started in, whose hostname, sysctls or interfaces the run would
 * change. So for a new pid namespace, where the proc filesystem the run mounts would
 * list that namespace's processes, the host's; a new cgroup namespace, where the
 * container would see the host's cgroup hierarchy; and a new time namespace, where its
 * clocks would be the host's. runPipeline enters no namespace: listing one says the
 * process is in it.
 */
export function sharedNamespaceProblem(type: NamespaceType, own: string | undefined, ancestors: readonly (string | undefined)[]): string | undefined {
  if (!sharesWithAll(own, ancestors)) return undefined;
  // A process's own pid namespace is fixed when it is forked (pid_namespaces(7)): a new one's
  // first process comes from a parent that made it (unshare --pid --fork).
  if (type === 'pid') return `this process shares its pid namespace (${own}) with every process above it, where the container's /proc would list every process of it: start this process in a new one (unshare --pid --fork), or leave it out`;
  // A cgroup filesystem mounted in a cgroup namespace is rooted at that namespace's root
  // cgroup, and /proc/PID/cgroup gives paths from it (cgroup_namespaces(7)).
  if (type === 'cgroup') return `this process shares its cgroup namespace (${own}) with every process above it, where the container's cgroup mount and /proc/self/cgroup would show its whole hierarchy: enter a new one first (unshare --cgroup), or leave it out`;
  // unshare(CLONE_NEWTIME) leaves the caller where it is: its children and its next
  // execve(2) enter the new namespace (time_namespaces(7)), so `own` is then the link of
  // /proc/self/ns/time_for_children.
  if (type === 'time') return `this process shares its time namespace (${own}) with every process above it, where the container's CLOCK_MONOTONIC and CLOCK_BOOTTIME would be its clocks: start this process in a new one (unshare --time), or unshare(CLONE_NEWTIME) before the exec step, or leave it out`;
  return `this process shares its ${type} namespace (${own}) with every process above it, where the run would change the ${WRITTEN_WHAT[type] ?? 'state'}: enter the container's first (unshare, or setns(2) to the path given), or leave it out`;
}

/**
 * What the run writes in the config's namespace of `type` when linux.namespaces joins it
 * by path, in words, or undefined for nothing: the sysctls that namespace isolates
 * (sysctlNamespace) and, in a uts one, the hostname and NIS domain name. The loopback
 * interface is brought up only in a network namespace made new (plugins/network/loopback.ts).
 * A user namespace made new is changed by its sysctls alone, so this says for it too
 * whether the run writes there.
 */
export function writtenInJoined(config: Pick<RootfsConfig, 'sysctls' | 'hostname' | 'domainname'>, type: NamespaceType): string | undefined {
  const written: string[] = [];
  if (type === 'uts' && config.hostname) written.push('hostname');
  if (type === 'uts' && config.domainname) written.push('domain name');
  if (Object.keys(config.sysctls).some((key) => sysctlNamespace(key) === type)) written.push('sysctls');
  return written.length === 0 ? undefined : written.join(' and ');
}

/**
 * Why the run may not write `written` (writtenInJoined) in the namespace of `type` that
 * linux.namespaces joins by `path`, or undefined: this process shares its namespace of
 * that type with every ancestor it can see (sharedNamespaceProblem), so the path names
 * the one the process was started in (the host's, or a pod's its processes share), as
 * runc refuses sysctls for its own network namespace joined by path. Joining it without
 * writing there is no problem: runc and `mountkit run` join it too.
 */
export function sharedJoinedNamespaceProblem(type: NamespaceType, path: string, written: string | undefined, own: string | undefined, ancestors: readonly (string | undefined)[]): string | undefined {
  if (written === undefined || !sharesWithAll(own, ancestors)) return undefined;
  return `joins by path (${path}) the ${type} namespace this process shares with every process above it (${own}), where the run would change the ${written}: leave them out, or enter another first`;
}

/**
 * The new namespaces the run only needs this process to be in, by the file in
 * /proc/self/ns that says which one it (and the container) will be in: pid for its
 * /proc, cgroup for its cgroup mount and /proc/PID/cgroup, time for its clocks, whose
 * namespace after the exec step is the one for children.
 */
const OWN_NAMESPACE_FILES: Readonly<Partial<Record<NamespaceType, string>>> = { pid: 'pid', cgroup: 'cgroup', time: 'time_for_children' };

/** Whether `own` is known and every readable ancestor's link is the same (none readable: cannot tell). */
function sharesWithAll(own: string | undefined, ancestors: readonly (string | undefined)[]): boolean {
  const known = ancestors.filter((a): a is string => a !== undefined);
  return own !== undefined && known.length > 0 && known.every((a) => a === own);
}

function nsLink(pid: number | 'self', file: string): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/${file}`);
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

/** This process's ancestors, parent first, up to PID 1. */
function ancestors(): number[] {
  const out: number[] = [];
  for (let pid = parentOf(process.pid); pid !== undefined; pid = pid === 1 ? undefined : parentOf(pid)) out.push(pid);
  return out;
}

/**
 * The first namespace this process would run the pipeline in while sharing it with
 * every process above it: the mount namespace always, each of pid, uts, ipc, network,
 * cgroup and time the config lists as made new (WRITTEN_NAMESPACES, and
 * OWN_NAMESPACE_FILES), a user namespace made new where the run
 * writes its user.* sysctls (those of the one it was started in would change the limits
 * of every process there, the host's in the initial one), and each of them it joins by
 * path where the run writes something (sharedJoinedNamespaceProblem).
 */
function sharedNamespacesProblem(config: RootfsConfig): ConfigError | undefined {
  const above = ancestors();
  const links = (file: string) => above.map((pid) => nsLink(pid, file));
  const mount = sharedMountNamespaceProblem(nsLink('self', 'mnt'), links('mnt'));
  if (mount) return new ConfigError('runPipeline', undefined, mount);
  for (const [i, ns] of config.namespaces.entries()) {
    const ownFile = ns.path ? undefined : OWN_NAMESPACE_FILES[ns.type];
    if (ownFile !== undefined) {
      const problem = sharedNamespaceProblem(ns.type, nsLink('self', ownFile), links(NAMESPACE_FILES[ns.type]));
      if (problem) return new ConfigError(`linux.namespaces[${i}]`, ns.type, problem);
      continue;
    }
    const file = WRITTEN_NAMESPACES[ns.type];
    if (file === undefined || (ns.type === 'user' && !ns.path && writtenInJoined(config, 'user') === undefined)) continue;
    const own = nsLink('self', file);
    const problem = ns.path ? sharedJoinedNamespaceProblem(ns.type, ns.path, writtenInJoined(config, ns.type), own, links(file)) : sharedNamespaceProblem(ns.type, own, links(file));
    if (problem) return new ConfigError(`linux.namespaces[${i}]`, ns.type, problem);
  }
  return undefined;
}

/**
 * Whether runPipeline has started a run's first step in this process, on the real port or with the checks of its process. The run changes
 * what belongs to the process, not to the config: its mount namespace's mounts, its root
 * and working directory (pivot_root(2), chroot(2) and chdir(2) act on the calling process),
 * its umask and the standard streams it reopens on the container's /dev/null. A second run
 * would start inside the first container, reading its rootfs path there.
 */
let ranInThisProcess = false;

const SECOND_RUN =
  "this process has run a pipeline already, which left it in that run's mounts and root: run each pipeline in a process of its own";

/**
 * Runs every phase in this process, synchronously, for a process that is already in the
 * container's namespaces (at least a mount namespace of its own): prepare-root, the
 * mounts, /dev, the before-jail callback, the jail, after-jail and finalize. With the
 * default plugin list the exec step ends it by replacing the process (execve); leave
 * `builtin:exec` out to keep the process, jailed in the rootfs.
 *
 * The config is checked first, as `mountkit run` checks it (validateConfig, its model's
 * types included), and the run reads the copy that was checked (checkedModel): the
 * caller's object is neither read again nor changed. On any port but mountkit's models (checkProcess),
 * this process must not share its mount namespace, nor the pid, uts, ipc, network, cgroup and time
 * namespaces the config lists as new (for time, the one its next execve enters) (the user namespace where the run writes its user.* sysctls), with every
 * process above it; one the config joins by path only where the run writes there (its
 * sysctls, the hostname); nor have started a run before (one run per process: the
 * first leaves it in the container's mounts and root; one refused before its first step
 * does not count). Plugins are loaded next, before
 * anything is mounted, and the list's claims and its plugins' checks of the config
 * (their validate) made. linux.timeOffsets are then written
 * through the port to /proc/self/timens_offsets, the offsets of the new time namespace the
 * container's execve enters (applyTimeOffsets): where this process made it with
 * unshare(CLONE_NEWTIME) and no process has entered it yet; one it has already with those
 * offsets needs no write (`unshare --time --monotonic=SECS`), and one a process entered
 * with others is refused (ConfigError), as the kernel fixes them then. Errors: ConfigError and StartupError before any call that changes anything
 * (the checks only read the host through the port), PluginError (phase, plugin, mount;
 * the cause inside) for a failing step.
 */
export function runPipeline(given: RootfsConfig, opts: RunPipelineOptions = {}): void {
  const config = checkedModel(given);
  // Read once: the port checked is the port run.
  const port = opts.syscalls;
  // instanceof sees through a Proxy (its prototype is its target's), a wrapper that counts the calls.
  const real = port === undefined || port instanceof LinuxSyscalls;
  // A port that is none of mountkit's models may reach the kernel, whatever its shape (an
  // object forwarding each call to the real port, a Proxy of a model): checked unless told otherwise.
  const checked = opts.checkProcess ?? !isModelPort(port);
  if (checked) {
    const problem = thisProcessProblem(config);
    if (problem) throw problem;
  }
  const sys = port ?? linuxSyscalls();
  const marks = real || checked;
  // Told before the first step, after the list's claims and the plugins' checks: a run refused
  // before it changed anything leaves the process free for another.
  const onStep = (where: StepWhere): void => {
    if (marks) ranInThisProcess = true;
    opts.onStep?.(where);
  };
  pipelineRun(config, sys, opts, onStep);
}

/** Why runPipeline may not run `config` in this process on a port that may reach the kernel, or undefined: a run before, or a namespace not entered (sharedNamespacesProblem). */
function thisProcessProblem(config: RootfsConfig): ConfigError | undefined {
  if (ranInThisProcess) return new ConfigError('runPipeline', undefined, SECOND_RUN);
  return sharedNamespacesProblem(config);
}

/**
 * runPipeline's run once the port is chosen, an embedded plan's too: the config checked
 * against the host through the port, the plugins loaded, the list's claims and the plugins' checks made,
 * linux.timeOffsets written, every phase, `onStep` told before each step.
 */
function pipelineRun(config: RootfsConfig, sys: Syscalls, opts: RunPipelineOptions, onStep: (where: StepWhere) => void, beforeTimeOffsets?: () => void): void {
  validateConfig(config, sys, { inNamespaces: true, modelChecked: true });
  const kernel = createKernel({ syscalls: sys, ...pluginSetup(opts) });
  // The offsets are written last before the first step, once nothing can refuse the run
  // (a write refused leaves the process free for another run).
  kernel.orchestrator.checkConfig(config);
  // The exec step runs process.args last, after every mount: a config built in code
  // without a program (fromOciSpec of a spec without `process`) is refused now, as
  // `mountkit run` refuses it before anything is done.
  if (config.process.args.length === 0 && kernel.orchestrator.orderedSteps().some((step) => step instanceof HandoverStep)) {
    throw new ConfigError('process.args', undefined, 'must name the program to run: the plugin list has builtin:exec, which runs it last (leave it out to keep the process)');
  }
  beforeTimeOffsets?.();
  applyTimeOffsets(sys, config.timeOffsets);
  kernel.orchestrator.run(config, { beforeJail: opts.beforeJail, onStep });
}

/**
 * The calls a run of `config` would make, in order, each with its phase and plugin, from
 * the real plugins on a port that performs nothing (see `mountkit plan`). Needs no
 * privilege. A step that would fail ends the plan, with the error in `plan.error`. The
 * config is checked first, as runPipeline checks it (unless `validate: false`), and
 * the copy checked is planned.
 *
 * With `mode: 'embedded'`, the calls runPipeline would make with the same options, in
 * order: its own run on the plan's port (pipelineRun), without the launcher's calls, with
 * linux.timeOffsets' read and write of /proc/self/timens_offsets (phase `namespaces`,
 * plugin `time-offsets`), with `beforeJail` run; what it throws before its first step (the
 * config, the plugin list, the offsets refused, `checkProcess`'s refusals) is thrown.
 */
export function plan(config: RootfsConfig, opts: PlanApiOptions | EmbeddedPlanApiOptions = {}): Plan {
  if (opts.mode === 'embedded') {
    const checked = checkedModel(config);
    if (opts.checkProcess) {
      const problem = thisProcessProblem(checked);
      if (problem) throw problem;
    }
    return buildEmbeddedPlan(checked, { syscalls: opts.syscalls, queries: opts.queries, kernel: opts.kernel }, (sys, onStep, beforeTimeOffsets) =>
      pipelineRun(
        checked,
        sys,
        opts,
        (where) => {
          onStep(where);
          opts.onStep?.(where);
        },
        beforeTimeOffsets,
      ),
    );
  }
  const { syscalls, launch, queries, validate, closedFd, kernel } = opts;
  return buildPlan(validate === false ? config : checkedModel(config), { syscalls, launch, queries, validate, closedFd, kernel, modelChecked: true, ...pluginSetup(opts) });
}
