import type { Phase } from '../plugin';
import type { SyscallRecord } from '../syscalls/fake';

/**
 * The pipeline's phases plus `namespaces`, which comes before them (core/namespaces.ts),
 * and what the first process does once the container has started and once it has ended
 * (its hooks, core/runtime-hooks.ts; at the end, first, what it closes), which come after
 * them.
 */
export type PlanPhase = Phase | 'namespaces' | 'poststart' | 'poststop';

/**
 * mountkit starting itself again under unshare(1), for a pid namespace (made new, or
 * joined by path before) or a user namespace, which nsenter(1) enters first.
 */
export interface RelaunchRecord {
  op: 'relaunch';
  /** The launcher command mountkit runs itself under, up to and including its `--`. */
  argv: string[];
}

export type PlanRecord = SyscallRecord | RelaunchRecord;

/** One call of a plan with the phase and plugin that make it. */
export interface PlanCall {
  /** Position in the plan, from 0. */
  seq: number;
  phase: PlanPhase;
  /** The plugin step or handler (its `name`), or the work of the orchestrator or the first process: launcher, time-offsets (an embedded plan's), premount-command, postmount-command, before-jail-callback, runtime-hooks, pid-file, idmap-copy, console-relay, notify-socket. */
  plugin: string;
  /** The mount being handled (config.mounts index) in the mounts phase. */
  mountIndex?: number;
  /** Its destination in the container. */
  destination?: string;
  record: PlanRecord;
  /** The descriptor an open call returned (plans made on a PlanSyscalls). */
  result?: number;
  /**
   * The errno name the call failed with ("ENOENT"), whether the code that made it went on
   * (a lookup answering ENOENT before the mkdirat that makes the directory) or the run
   * stops there; absent for a call that succeeded.
   */
  errno?: string;
  /** Where the descriptors the call names lead: the path each was opened at (plans made on a PlanSyscalls). */
  fds?: Record<number, string>;
}

/**
 * What a plan is of: `run`, what `mountkit run` would do, its launcher and namespaces
 * included (buildPlan); `embedded`, what runPipeline would do in a process that is in its
 * namespaces already (buildEmbeddedPlan, `plan(config, { mode: 'embedded' })`).
 */
export type PlanMode = 'run' | 'embedded';

export interface Plan {
  /** Absent in a Plan made by hand: `run`. */
  mode?: PlanMode;
  bundle: string;
  rootfs: string;
  /** True when the run would get to its end: the exec step's execve, or the last phase without one. */
  complete: boolean;
  /** The error the run would stop with (a PluginError naming phase and plugin), when it would stop. */
  error?: unknown;
  calls: PlanCall[];
}
