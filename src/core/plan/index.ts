/**
 * `mountkit plan`: the calls a run would make, in order, each with the phase and plugin
 * that makes it, computed by running the real pipeline on a port that performs nothing
 * (./port.ts). It needs no privilege: the port only reads the host.
 *
 * The plan starts where `mountkit run` starts acting, after its checks: the namespaces
 * (a relaunch under unshare(1) for a pid namespace, setns(2) joins, one unshare(2)), then
 * every phase up to the exec step's execve(2). After a relaunch the plan ends with what
 * the first process does then: the poststart hooks, once the container has started, and,
 * once it has ended, what it closes and the poststop hooks. The process cannot enter
 * namespaces it only plans, so everything after them is answered from the host as this
 * process sees it.
 *
 * An embedded plan (buildEmbeddedPlan) is runPipeline's instead: the phases alone, in a
 * process that is in the config's namespaces already.
 */
import { markCloseOnExec } from '../cloexec';
import { validateConfig } from '../config/validate';
import { hasNamespace, type RootfsConfig } from '../config/model';
import { ConfigError, SyscallError } from '../errors';
import { createKernel, type KernelOptions } from '../kernel';
import { silentLogger } from '../logger';
import { NAMESPACE_KINDS, checkUserNamespaceMaps, enterNamespaces, fromJoinedPidNamespace, identityUidMap, planLaunch, relaunchForks, startedByMountkit, userNamespaceProblem, type LaunchContext } from '../namespaces';
import type { StepWhere } from '../orchestrator';
import type { Logger } from '../plugin';
import { ExecveCalled, QUERY_SYSCALLS, type FakeSyscalls, type SyscallRecord } from '../syscalls/fake';
import { descriptorsOf } from './format';
import { idMapToolsInPath } from '../programs';
import { releaseConsole, takeConsole, type ConsoleEnds } from '../console-ends';
import { idmapCopyRequest, sendIdmappedCopy } from '../idmapped-tree';
import { FIRST_INHERITED_FD, PARENT_DEATH_SIGNAL, RELAUNCH_LOG_FD, RELAUNCH_STARTER_FD, becomeSubreaper, closeIdmap, notifyTreeSlot, prepareRelaunch, relaunchPassedAt, takeRelaunchDescriptors, takeRelaunchLog, type RelaunchDescriptors } from '../relaunch';
import { openLogFile } from '../log-file';
import { openPidFileDir, writePidFile } from '../pid-file';
import { FIRST_PASSED_FD, checkPassedOpen, passedCount, relaunchChannelFd } from '../passed-fds';
import { eventLine } from '../runtime-channel';
import { keepStderr } from '../streams';
import { withNotifySocket, openRunRelay, type NotifyRelay } from '../notify-socket';
import { poststartHooks, poststopHooks } from '../runtime-hooks';
import { noteFailures, type FailedCalls } from './failures';
import { PlanSyscalls, type PlanKernelAnswers } from './port';
import type { Plan, PlanCall, PlanPhase, PlanRecord } from './types';
import type { IdMapping } from '../syscalls/types';

/**
 * The port a plan runs the pipeline on: a recording port, whose calls, results and
 * descriptors the plan reads back. `mountkit` exports PlanSyscalls (the host, read only)
 * and DryRunSyscalls; `mountkit/testing` FakeSyscalls, with a filesystem model.
 */
export type PlanPort = FakeSyscalls;

export interface PlanOptions {
  /** The port to plan on; default a PlanSyscalls over the host. Tests pass a FakeSyscalls with a model. */
  syscalls?: PlanPort;
  logger?: Logger;
  /** Plugin list; defaults to the package's plugins.json. */
  plugins?: KernelOptions['plugins'];
  /** Directory relative module paths in `plugins` are resolved from. */
  baseDir?: string;
  /** Plugin modules added after the list, as createKernel takes them. */
  extra?: KernelOptions['extra'];
  /** Where the run would start; default: not relaunched, in a user namespace or not as this process is. */
  launch?: LaunchContext;
  /**
   * The first descriptor from 3 up the caller of this process had closed, whose number
   * this process's own may hold since (bin/mountkit tells it, core/passed-fds.ts
   * closedByLauncher): on its own port, none is held as passed from it on. Default: each
   * one this process has open is the caller's.
   */
  closedFd?: number;
  /**
   * The run's --log file, an absolute path: the process that starts the run opens it, and
   * a relaunch's passes it on RELAUNCH_LOG_FD, which the relaunched process takes
   * (cli/run.ts, core/log-file.ts). Default: none.
   */
  log?: string;
  /**
   * The run's --pid-file, an absolute path, and the mode its caller's umask gives it: its
   * directory is opened where the --log file is; the first process of a relaunch writes
   * it after the poststart hooks, else the exec step before the container's identity
   * (core/pid-file.ts). Default: none.
   */
  pidFile?: { path: string; mode: number };
  /**
   * How the first process reads the maps of a user namespace mountkit does not make
   * (/proc/PID/uid_map and gid_map for one joined by a /proc/PID/ns/user path, /proc/self's
   * for the one it runs in), as run reads them to check them (core/namespaces.ts
   * checkUserNamespaceMaps): maps beside the path that differ are refused, a ConfigError,
   * before any call. The uid maps read of one joined by path stand for joinedUidMaps.
   * Default: not read, not checked.
   */
  readUserNamespaceMaps?: (file: string) => string;
  /**
   * With config.notifySocket and a user namespace joined by path: its uid maps, as the
   * run's first process reads them (readUserNamespaceMaps, which gives them when given),
   * which tell the host uid the relaunch binds the run's socket's directory as where the
   * kernel makes no copy of it (core/notify-socket.ts openRunRelay). Default: not known,
   * as for a path other than /proc/PID/ns/user.
   */
  joinedUidMaps?: readonly IdMapping[];
  /** Also list the calls that only read (stat, lstat, fstat, readlink, readdir, readFile); default false. */
  queries?: boolean;
  /** For the plan's own port (none given in `syscalls`): what the mount API's newer calls answer, in place of asking this kernel (PlanKernelAnswers). */
  kernel?: PlanKernelAnswers;
  /** Check the config against the host first, as `mountkit run` does; default true. */
  validate?: boolean;
  /** Its own types and ranges are checked already (ValidateOptions.modelChecked); default false. */
  modelChecked?: boolean;
}

interface Mark {
  /** Index in sys.calls where the step starts. */
  at: number;
  phase: PlanPhase;
  plugin: string;
  mountIndex?: number;
}

const LAUNCHER = 'launcher';
/** Who writes linux.timeOffsets in an embedded plan: runPipeline itself, before its first step (core/namespaces.ts applyTimeOffsets). */
const TIME_OFFSETS = 'time-offsets';
/** The first process's runtime side (core/runtime-hooks.ts), which runs the poststart and poststop hooks. */
const RUNTIME_HOOKS = 'runtime-hooks';
/** Who writes the pid file in a relaunch: the first process (cli/run.ts). */
const PID_FILE = 'pid-file';
/** The first process's idmapped copies for a relaunch into a user namespace (core/idmapped-tree.ts). */
const IDMAP_COPY = 'idmap-copy';
/** The first process taking and putting back a foreground console (core/console-ends.ts). */
const CONSOLE_RELAY = 'console-relay';
/** The first process's sd_notify(3) socket for the container (core/notify-socket.ts). */
const NOTIFY_RELAY = 'notify-socket';

/**
 * The rejection handler of a planned poststart hook's promise, which only the record of
 * the call matters for. Made once here: a function made in buildPlan would hold its scope,
 * the port and its model with it, until the handler's reaction runs at the next microtask
 * checkpoint, which a caller planning in a loop does not reach between plans.
 */
const ignoreHookFailure = (): undefined => undefined;

/**
 * The plan's own port. The container's pid, which hooks read in their state, is 1 in a
 * new pid namespace; otherwise it is the pid of the mountkit process that runs it, which
 * a plan cannot know: its own stands for it.
 */
function planPort(config: RootfsConfig, closedFd: number | undefined, kernel: PlanKernelAnswers | undefined): PlanSyscalls {
  const sys = new PlanSyscalls(undefined, kernel);
  // The process that becomes the container is PID 1 of a new pid namespace it is started in.
  sys.pid = config.namespaces.some((ns) => ns.type === 'pid' && !ns.path) ? 1 : process.pid;
  // The descriptors passed to the container are the caller's: those of them this process has open, below one the caller had closed.
  const count = passedCount(config);
  return sys.inheritOpen(FIRST_PASSED_FD, closedFd === undefined ? count : Math.min(count, closedFd - FIRST_PASSED_FD));
}

/**
 * Plans the run of `config`. Config and plugin errors are thrown as a run would throw
 * them; a failing step ends the plan instead, which then holds the calls up to and
 * including the failing one and the error (a PluginError naming phase and plugin).
 */
export function buildPlan(given: RootfsConfig, opts: PlanOptions = {}): Plan {
  // The port as the pipeline uses it, noting the calls that fail and their errno (failures.ts).
  const failed: FailedCalls = new WeakMap();
  const sys = noteFailures(opts.syscalls ?? planPort(given, opts.closedFd, opts.kernel), failed);
  const euid = process.geteuid?.();
  const launch: LaunchContext = opts.launch ?? { relaunched: false, inUserNamespace: inUserNamespace(sys), euid, egid: process.getegid?.(), ...(euid !== 0 ? { idMapTools: idMapToolsInPath(process.env.PATH) } : {}) };
  // As run sets it, planned by a user other than root: that user's rootless run, where the
  // config has a user namespace. Without one, which that user's run refuses
  // (validateRootlessNamespaces), root's run is planned.
  const rootless = launch.euid !== undefined && launch.euid !== 0 && hasNamespace(given, 'user');
  const config: RootfsConfig = given.rootless === undefined && rootless ? { ...given, rootless: true } : given;
  if (opts.validate !== false) validateConfig(config, sys, { modelChecked: opts.modelChecked });
  const problem = userNamespaceProblem(config.namespaces, launch, config);
  if (problem) throw new ConfigError('linux.namespaces', 'user', problem);
  const read = opts.readUserNamespaceMaps;
  const joinedUids = read === undefined ? opts.joinedUidMaps : checkUserNamespaceMaps(config, launch, read);
  const outer = planLaunch(config.namespaces, launch, config);
  // A relaunched mountkit plans again from inside the launcher's namespaces, a user namespace among them.
  const enteredUser = outer.relaunch.length > 0 && config.namespaces.some((ns) => ns.type === 'user');
  const innerLaunch: LaunchContext = { ...launch, relaunched: true, inUserNamespace: launch.inUserNamespace || enteredUser, joinedByLauncher: outer.relaunch[0] === 'nsenter' };
  const inner = outer.relaunch.length ? planLaunch(config.namespaces, innerLaunch, config) : outer;
  const kernel = createKernel({ syscalls: sys, logger: opts.logger ?? silentLogger, plugins: opts.plugins, baseDir: opts.baseDir, extra: opts.extra });

  // With a relaunch: the calls made before it (a pid namespace joined by path), the relaunch
  // (not reached when one of them fails), the relaunched process's calls.
  let relaunchAt = Infinity;
  const marks: Mark[] = [{ at: sys.calls.length, phase: 'namespaces', plugin: LAUNCHER }];
  const onStep = (where: StepWhere): void => {
    marks.push({ at: sys.calls.length, ...where });
  };
  let complete = false;
  let error: unknown;
  /** The --pid-file's directory, opened by the process that starts the run. */
  let pidDir: number | undefined;
  let relaunched: Pick<RootfsConfig, 'hostSockets' | 'runtimeChannel' | 'idmapSocket' | 'passedFdsAt'> = {};
  /**
   * What the first process keeps of a relaunch: the console's socket and, once taken, its
   * ends; the idmap socket and user namespace, and the container's pidfd the copies join
   * its namespace through (cli/container-process.ts), which the plan's own pid stands for.
   */
  let firstProcess: { console?: number; consoleEnds?: ConsoleEnds; idmap?: RelaunchDescriptors['idmap']; pidfd?: number } = {};
  /** The run's own sd_notify(3) socket, where config.notifySocket names the caller's: made before the relaunch, removed once it has ended. */
  let notify: NotifyRelay | undefined;
  /**
   * The config as the relaunched process loads it (cli/run.ts): with the relay's socket
   * directory bound at /run/notify, from the copy it is given at notifyTreeSlot where the
   * first process made one.
   */
  let loaded: RootfsConfig = config;
  /** The config the pipeline runs: with the relay's mount, which the plan's calls are attributed to as the others. */
  let planned: RootfsConfig = config;
  try {
    // As run checks the descriptors passed to the container and marks them all first
    // thing: what mountkit was started with is its own until the container's execve.
    if (!launch.relaunched) checkPassedOpen(sys, config);
    markCloseOnExec(sys, FIRST_INHERITED_FD);
    // The copy of stderr run's messages go to (core/streams.ts keepStderr), in every process.
    keepStderr(sys, FIRST_INHERITED_FD);
    // The --log file, opened by the process that starts the run (core/log-file.ts): before
    // a relaunch, on the host, to be passed on; without one, before the namespaces.
    const log = opts.log === undefined ? undefined : openLogFile(sys, opts.log);
    pidDir = opts.pidFile === undefined ? undefined : openPidFileDir(sys, opts.pidFile.path);
    if (outer.relaunch.length) {
      // As run does them: what a relaunch into a user namespace is given (core/relaunch.ts),
      // then the pid namespace joined by path, the relaunch, this thread back in its own pid
      // namespace, and this process's copies closed.
      // The first process becomes a child subreaper first, as run does (core/relaunch.ts becomeSubreaper).
      becomeSubreaper(sys, (message) => (opts.logger ?? silentLogger).warn(message));
      // The run's own socket, before anything else is made for the relaunch, under a random name as a run's.
      if (config.notifySocket !== undefined) {
        marks.push({ at: sys.calls.length, phase: 'namespaces', plugin: NOTIFY_RELAY });
        notify = openRunRelay(sys, outer, config.notifySocket, (message) => (opts.logger ?? silentLogger).warn(message), launch.euid ?? 0, joinedUids);
        marks.push({ at: sys.calls.length, phase: 'namespaces', plugin: LAUNCHER });
      }
      const passed = prepareRelaunch(sys, outer, config);
      fromJoinedPidNamespace(sys, outer, () => (relaunchAt = sys.calls.length));
      // unshare(1) makes the mount namespace the relaunched process prepares the rootfs in: a copy of this one's mounts.
      if (sys instanceof PlanSyscalls && outer.relaunch.includes(NAMESPACE_KINDS.mount.unshareOption)) sys.relaunchedInNewMountNamespace(enteredUser);
      // The runtime channel is the socket spawn gives it on RELAUNCH_STARTER_FD.
      sys.inheritSocket(RELAUNCH_STARTER_FD);
      for (const [there, here] of passed.passed) sys.inheritDescriptor(there, here);
      if (log !== undefined) sys.inheritDescriptor(RELAUNCH_LOG_FD, log);
      // The copy of the sd_notify socket's directory a relaunch into a user namespace attaches, as run gives it.
      const notifyTree = outer.relaunch[0] === 'nsenter' ? notify?.tree : undefined;
      if (notifyTree !== undefined) sys.inheritDescriptor(notifyTreeSlot(config), notifyTree);
      if (notify !== undefined) loaded = withNotifySocket(config, notify.dir, notifyTree === undefined ? undefined : notifyTreeSlot(config));
      const passedAt = relaunchPassedAt(config, outer.relaunch[0] === 'nsenter', notifyTree !== undefined);
      for (let i = 0; i < passedCount(config); i++) sys.inheritDescriptor(passedAt + i, FIRST_PASSED_FD + i);
      if (passedCount(config)) relaunched = { passedFdsAt: passedAt };
      passed.release();
      notify?.releaseTree();
      // The relaunched process, PID 1 of a pid namespace the relaunch makes, gives itself its
      // parent-death signal first, and again after a rootless setgid(0), as run's does
      // (cli/run.ts). It takes what it was passed as run's does: it sends the runtime's
      // hooks to this process, where mountkit was started, and takes the sockets passed
      // instead of connecting.
      const pidOne = relaunchForks(outer);
      if (pidOne) sys.setParentDeathSignal(PARENT_DEATH_SIGNAL);
      markCloseOnExec(sys, FIRST_INHERITED_FD);
      keepStderr(sys, FIRST_INHERITED_FD);
      // Its copy of the --log file, above the numbers the passed descriptors take (core/relaunch.ts).
      if (log !== undefined) takeRelaunchLog(sys, FIRST_INHERITED_FD);
      relaunched = { ...relaunched, ...takeRelaunchDescriptors(sys, loaded, innerLaunch.joinedByLauncher === true, pidOne) };
      // The first process makes each idmapped copy when the relaunched process asks for it,
      // from inside that process's mount namespace (core/idmapped-tree.ts), which a plan
      // cannot enter: its calls, as the host answers them, under the mount they are for.
      // It takes a foreground console's ends when told the master is there
      // (core/console-ends.ts), before it answers. Both under the step that asked.
      const { idmap, console: consoleSocket } = passed;
      firstProcess = { idmap, console: consoleSocket };
      if (sys instanceof PlanSyscalls) {
        sys.onEvent = (event, mount) => {
          const at = marks[marks.length - 1];
          const asFirstProcess = (plugin: string, fn: () => void): void => {
            marks.push({ ...at, at: sys.calls.length, plugin });
            try {
              fn();
            } finally {
              marks.push({ ...at, at: sys.calls.length });
            }
          };
          if (event === 'idmap' && idmap !== undefined && mount !== undefined) {
            asFirstProcess(IDMAP_COPY, () => {
              // The container's pidfd, shown where it is first used (a run opens it when it starts
              // the relaunch, or first looks for the child it forks, and checks it with signal 0).
              firstProcess.pidfd ??= sys.pidfdOpen(process.pid);
              sendIdmappedCopy(sys, idmapCopyRequest(config, mount), firstProcess.pidfd, idmap.userns, idmap.socket);
            });
          } else if (event === 'console' && firstProcess.console !== undefined) {
            // Handed to the relay, which closes it: closed at the end only if never taken.
            const socket = firstProcess.console;
            firstProcess.console = undefined;
            asFirstProcess(CONSOLE_RELAY, () => (firstProcess.consoleEnds = takeConsole(sys, socket)));
          }
        };
      }
    }
    const started = startedByMountkit(launch, outer);
    // The process that becomes the container writes the pid file with the plan port's stand-in for its pid.
    const pidFile = pidDir === undefined ? {} : outer.relaunch.length ? { pidFileByStarter: true } : { pidFile: { path: opts.pidFile!.path, dirFd: pidDir, pid: sys.pid, mode: opts.pidFile!.mode } };
    // The relaunched process binds the run's socket's directory at /run/notify and names the socket in the program's environment (the caller's is not in its own).
    const { notifySocket: _served, ...relaunchedConfig } = loaded;
    planned = relaunchedConfig;
    const runConfig = { ...relaunchedConfig, newSession: config.newSession ?? started, ...relaunched, ...pidFile };
    // Refused before the namespaces are entered, as run refuses it (cli/run.ts runHere): the config the run gets, checked once.
    kernel.orchestrator.checkConfig(runConfig);
    enterNamespaces(sys, inner, config.timeOffsets);
    // The Node entry's relaunch that becomes the container leads the session it was started in (cli/run.ts).
    if (started && sys instanceof PlanSyscalls) sys.startedByMountkit(outer.relaunch.length > 0 && !relaunchForks(outer));
    kernel.orchestrator.run(runConfig, { onStep });
    complete = true;
  } catch (err) {
    if (err instanceof ExecveCalled) complete = true;
    else error = err;
  }
  if (relaunchAt !== Infinity) {
    // The first process runs the poststart hooks once the relaunch has sent the exec
    // event, the last thing before its execve (without holding its event loop), and the
    // poststop hooks once the relaunch has ended, whether the container's program ran or
    // not. They are listed as the other hooks are, not run: each answers exit status 0.
    // The container's pid in their state is the plan port's stand-in for it (1 in a new
    // pid namespace, else this process's), as a plan cannot know it; it is not read from
    // /proc here, which after the jail is the container's in the plan's model.
    const exec = eventLine('exec');
    // On the channel's number, or the one it moves to when descriptors are passed (handOverPassed).
    const moved = relaunched.passedFdsAt === undefined ? undefined : relaunchChannelFd(relaunched.passedFdsAt, passedCount(config));
    const execEvent = sys.calls.some((c) => c.op === 'write' && (c.fd === relaunched.runtimeChannel || c.fd === moved) && c.data === exec);
    if (execEvent && config.hooks.poststart?.length) {
      marks.push({ at: sys.calls.length, phase: 'poststart', plugin: RUNTIME_HOOKS });
      for (const { cmd } of poststartHooks(config, sys.pid)) void sys.runCommandAsync(cmd).catch(ignoreHookFailure);
    }
    // Then the pid file, by the first process (cli/run.ts), with the same stand-in.
    if (execEvent && pidDir !== undefined && opts.pidFile) {
      marks.push({ at: sys.calls.length, phase: 'poststart', plugin: PID_FILE });
      try {
        writePidFile(sys, { path: opts.pidFile.path, dirFd: pidDir, pid: sys.pid });
      } catch (err) {
        error ??= err;
      }
    }
    // Once the relaunch has ended, first: the run's sd_notify(3) socket closed and removed
    // (what the program sent is read from it then too, as all along: reads that depend on
    // the program, which are not planned). The paths are the host's (PlanSyscalls.onHost).
    if (notify !== undefined) {
      marks.push({ at: sys.calls.length, phase: 'poststop', plugin: NOTIFY_RELAY });
      const relay = notify;
      if (sys instanceof PlanSyscalls) sys.onHost(() => relay.close());
      else relay.close();
    }
    // Then, before those hooks: the console's master closed (in a run, by the stream that
    // copied it) and the user's terminal put back, or the console's socket closed when the
    // console never came; the idmap socket, the user namespace kept for the copies and the
    // container's pidfd closed. Only where the first process's side of them is planned
    // (PlanSyscalls.onEvent).
    const { console: consoleSocket, consoleEnds, idmap, pidfd } = sys instanceof PlanSyscalls ? firstProcess : {};
    if (consoleEnds !== undefined || consoleSocket !== undefined) {
      marks.push({ at: sys.calls.length, phase: 'poststop', plugin: CONSOLE_RELAY });
      if (consoleEnds) {
        sys.close(consoleEnds.master);
        try {
          releaseConsole(sys, consoleEnds);
        } catch {
          // As in a run: a terminal gone has nothing to put back.
        }
      } else if (consoleSocket !== undefined) {
        sys.close(consoleSocket);
      }
    }
    if (idmap !== undefined) {
      marks.push({ at: sys.calls.length, phase: 'poststop', plugin: IDMAP_COPY });
      closeIdmap(sys, idmap);
      if (pidfd !== undefined) sys.close(pidfd);
    }
    if (config.hooks.poststop?.length) {
      marks.push({ at: sys.calls.length, phase: 'poststop', plugin: RUNTIME_HOOKS });
      for (const { cmd } of poststopHooks(config)) sys.runCommand(cmd);
    }
  } else if (notify !== undefined) {
    // Not relaunched (a step before it failed): removed as the run removes it then.
    marks.push({ at: sys.calls.length, phase: 'namespaces', plugin: NOTIFY_RELAY });
    notify.close();
  }

  const attributed: Omit<PlanCall, 'seq'>[] = [];
  let relaunchPending = outer.relaunch.length > 0;
  const relaunchHere = (at: number): void => {
    if (!relaunchPending || at < relaunchAt) return;
    attributed.push({ phase: 'namespaces', plugin: LAUNCHER, record: { op: 'relaunch', argv: outer.relaunch } });
    relaunchPending = false;
  };
  attribute(planned, sys, marks, failed, opts.queries === true, attributed, relaunchHere);
  relaunchHere(sys.calls.length);
  const calls = attributed.map((c, seq) => ({ seq, ...c }));
  return { mode: 'run', bundle: config.bundle, rootfs: config.rootfs, complete, ...(error === undefined ? {} : { error }), calls };
}

/**
 * The pipeline as runPipeline runs it (api/pipeline.ts): every check that asks the host
 * through the port, the plugins loaded, `beforeTimeOffsets` told before it reads and
 * writes linux.timeOffsets, every phase, told to `onStep` before each step.
 */
export type PipelineRun = (sys: PlanPort, onStep: (where: StepWhere) => void, beforeTimeOffsets: () => void) => void;

export interface EmbeddedPlanOptions {
  /** The port to plan on; default a PlanSyscalls over the host. */
  syscalls?: PlanPort;
  /** Also list the calls that only read; default false. */
  queries?: boolean;
  /** For the plan's own port: what the mount API's newer calls answer, in place of asking this kernel (PlanKernelAnswers). */
  kernel?: PlanKernelAnswers;
}

/**
 * Plans `run` (runPipeline's sequence) on the plan's port, for a process that is in the
 * config's namespaces already (an embedder's): no launcher, no relaunch, no namespace
 * entered (linux.timeOffsets, which runPipeline reads and writes before its first step,
 * under `namespaces`, plugin `time-offsets`), the session as the process has it (config.newSession as given, not as `mountkit
 * run` sets it). What `run` throws before the first step (the config, the plugins, the
 * list's claims, a plugin's validate) is thrown, as runPipeline throws it; a step that would fail ends the
 * plan, as in buildPlan.
 */
export function buildEmbeddedPlan(config: RootfsConfig, opts: EmbeddedPlanOptions, run: PipelineRun): Plan {
  const failed: FailedCalls = new WeakMap();
  const sys = noteFailures(opts.syscalls ?? planPort(config, undefined, opts.kernel), failed);
  // The calls before the time offsets are the checks' reads, left out as buildPlan leaves out validateConfig's.
  const marks: Mark[] = [];
  let stepped = false;
  let complete = false;
  let error: unknown;
  try {
    run(
      sys,
      (where) => {
        stepped = true;
        marks.push({ at: sys.calls.length, ...where });
      },
      () => void marks.push({ at: sys.calls.length, phase: 'namespaces', plugin: TIME_OFFSETS }),
    );
    complete = true;
  } catch (err) {
    if (err instanceof ExecveCalled) complete = true;
    else if (!stepped) throw err;
    else error = err;
  }
  const attributed: Omit<PlanCall, 'seq'>[] = [];
  attribute(config, sys, marks, failed, opts.queries === true, attributed);
  const calls = attributed.map((c, seq) => ({ seq, ...c }));
  return { mode: 'embedded', bundle: config.bundle, rootfs: config.rootfs, complete, ...(error === undefined ? {} : { error }), calls };
}

/**
 * Adds to `out` the calls from each mark to the next, each with the phase, plugin and
 * mount of its mark, its errno when it failed and, on a PlanSyscalls, what it returned and
 * where its descriptors lead; the calls that only read only with `queries`. `before(at)`
 * is told before the call at `at` is looked at, and may add an entry of its own first.
 */
function attribute(config: RootfsConfig, sys: PlanPort, marks: readonly Mark[], failed: FailedCalls, queries: boolean, out: Omit<PlanCall, 'seq'>[], before?: (at: number) => void): void {
  marks.forEach((mark, i) => {
    const end = i + 1 < marks.length ? marks[i + 1].at : sys.calls.length;
    const destination = mark.mountIndex === undefined ? undefined : config.mounts.find((m) => m.index === mark.mountIndex)?.destination;
    for (let at = mark.at; at < end; at++) {
      const record = sys.calls[at];
      before?.(at);
      if (!queries && QUERY_SYSCALLS.has(record.op)) continue;
      const call: Omit<PlanCall, 'seq'> = { phase: mark.phase, plugin: mark.plugin, record: record as PlanRecord };
      if (mark.mountIndex !== undefined) call.mountIndex = mark.mountIndex;
      if (destination !== undefined) call.destination = destination;
      const errno = failed.get(record);
      if (errno !== undefined) call.errno = errno;
      if (sys instanceof PlanSyscalls) annotate(call, sys);
      out.push(call);
    }
  });
}

/** Whether the planning process is in a user namespace that does not map every id onto itself, as run tells it (identityUidMap); an unreadable uid_map counts as the identity, as runc counts it. */
function inUserNamespace(sys: FakeSyscalls): boolean {
  try {
    return !identityUidMap(sys.readFile('/proc/self/uid_map'));
  } catch (err) {
    if (err instanceof SyscallError) return false;
    throw err;
  }
}

/**
 * The descriptor an open call returned, and where the descriptors a call names were open
 * when it was made (a number given again later, by dup3(2) onto it, leads elsewhere then):
 * for the numbers the plan's own calls opened, not those the process inherited, whose
 * model stands in for what the plan cannot see.
 */
function annotate(call: Omit<PlanCall, 'seq'>, sys: PlanSyscalls): void {
  const record = call.record as SyscallRecord;
  const result = sys.resultOf(record);
  if (result !== undefined) call.result = result;
  const fds = descriptorsOf(record)
    .map((fd) => [fd, sys.openedPath(fd) === undefined ? undefined : sys.pathAtCall(fd, record)] as const)
    .filter((e): e is readonly [number, string] => e[1] !== undefined);
  if (fds.length) call.fds = Object.fromEntries(fds);
}

export { PlanSyscalls, type PlanKernelAnswers } from './port';
export type { Plan, PlanCall, PlanMode, PlanPhase, PlanRecord, RelaunchRecord } from './types';
export { PLAN_SCHEMA_VERSION, decodeArgs, descriptorsOf, formatCall, formatPlanText, jsonSafe, planCallToJson, planToJson } from './format';
export type { PlanCallJson, PlanJson } from './format';
export { formatDev, formatDirfd, formatFlags } from './flags';
export * as flagTables from './flags';
