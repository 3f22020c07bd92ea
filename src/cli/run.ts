/**
 * `mountkit run`: the OCI bundle end to end. The first stage loads and checks the config
 * with nothing but the loader and the host checks (core/config/validate.ts); when the
 * container needs a new pid namespace, or a user namespace to make or join, or has hooks
 * the runtime runs (prestart, createRuntime, poststart, poststop: this first process
 * then runs them, where mountkit was started, core/runtime-hooks.ts), it starts mountkit
 * again, once, under unshare(1) (and nsenter(1) for a user namespace; see
 * core/namespaces.ts), after checking the plugin list as far as its names tell without
 * loading it (core/claims.ts builtinListRefusal), or, where they do not, loading it to
 * have it check the config, otherwise it goes on in this process:
 * plugins and their claims, namespaces, the pipeline, and execve into the container.
 */
import { accessSync, closeSync, constants as fsConstants, fstatSync, readFileSync, readSync, readlinkSync, writeSync } from 'fs';
import { availableParallelism, constants } from 'os';
import path = require('path');
import type { RootfsConfig } from '../core/config/model';
import { bundleConfigText, loadBundle } from '../core/config/oci';
import { validateConfig, validateRootlessNamespaces } from '../core/config/validate';
import { CLONE_NEWPID, O_CLOEXEC, O_RDONLY } from '../core/constants';
import { markCloseOnExec } from '../core/cloexec';
import { builtinListRefusal, decidedByNames } from '../core/claims';
import { ConfigError } from '../core/errors';
import { NODE_BIND_ENV, NODE_PATH_ENV, UNSEALED_WARNING, detachLauncherBind, execSealedNode, kernelCannotSeal, ownFileWritable, sealedCopyOrNone } from '../core/sealed-node';
import { defaultContainerId } from '../core/hooks';
import { logFileError, openLogFile as openLogOnPort } from '../core/log-file';
import {
  checkUserNamespaceMaps,
  enterNamespaces,
  fromJoinedPidNamespace,
  hasRuntimeHooks,
  identityUidMap,
  inInitialUserNamespaceHere,
  LAUNCHER_USERNS_ENV,
  launcherGuessHolds,
  launcherRootUserNamespaceHolds,
  launcherUserNamespaceHolds,
  mapsBesidePath,
  namespaceTypes,
  PARENT_STDERR_FD,
  PID_NAMESPACE_PARENT_ENV,
  planLaunch,
  relaunchForks,
  SECCOMP_CACHE_VOUCHED_ENV,
  startedByMountkit,
  userNamespaceProblem,
  type LaunchContext,
  type LaunchPlan,
} from '../core/namespaces';
import { FIRST_INHERITED_FD, PARENT_DEATH_SIGNAL, RELAUNCH_LOG_FD, RELAUNCH_STARTER_FD, closeIdmap, notifyTreeSlot, prepareRelaunch, relaunchPassedAt, takeRelaunchDescriptors, takeRelaunchLog, type RelaunchDescriptors } from '../core/relaunch';
import { FIRST_PASSED_FD, checkPassedOpen, descriptorCount, listenFdsOf, passedCount, relaunchChannelFd } from '../core/passed-fds';
import { NamespaceNotRestoredError, idmapCopyRequest, sendIdmappedCopy } from '../core/idmapped-tree';
import { pluginsFromFile } from '../core/plugin-list';
import { SCORE_FILE } from '../core/oom-score';
import { PID_FILE_MODE, callerView, openPidFileDir, starterPidFile, writeStarterPidFile, type StarterPidFile } from '../core/pid-file';
import type { Logger } from '../core/plugin';
import type { IdMapping, Syscalls } from '../core/syscalls/types';
import type { CliOptions } from './args';
import { ContainerProcess, statOf } from './container-process';
import { PASSED_SIGNALS, fdLink, forkingShellEnded, holdSignals, ignoreSignal, passSignals, startTimeInStat, type HeldSignals } from './forward';
import { serveRuntimeChannel } from '../core/runtime-hooks';
import { execEventSeen } from '../core/runtime-channel';
import { relaunchEnd } from './relaunch-end';
import { subreaper, type Subreaper } from './orphans';
import { recordSpawned } from '../core/node-children';
import { LAUNCHER_CONSOLE_ENV, connectLauncherRelay, relayConsole, relayTarget, type ConsoleRelay } from './console-relay';
import { idMapToolsInPath } from '../core/programs';
import { nodeStartEnv, nodeStartOptions } from './node-env';
import { configFrame, readConfigFrame } from './config-frame';
import { heldLog } from './held-log';
import { deviceAccessWarning, unappliedResourcesWarning } from './no-cgroup';
import { keepStderr, openStderrBeforeRelaunch, pipeStreamOwners } from '../core/streams';
import { libuvPoolThreads, nodeTasks } from '../core/node-tasks';
import { checkRelaunchTasks, overflowUidOf, spawnError } from '../core/task-limits';
import { foregroundConsole } from '../core/host-sockets';
import { LAUNCHER_HOOKS_ENV } from './hooks-relay';
import { NOTIFY_DIR_ENV, NOTIFY_SOCKET_ENV, NOTIFY_TREE_ENV, NotifyRelay, openRunRelay, withNotifySocket } from '../core/notify-socket';

/**
 * Set in the environment of the process mountkit re-executed itself as: `1` under
 * unshare(1), `nsenter` under nsenter(1) too (LaunchContext.joinedByLauncher).
 */
export const RELAUNCHED_ENV = 'MOUNTKIT_RELAUNCHED';

/**
 * The count of listening descriptors (socket activation) in the environment of a
 * relaunch: LISTEN_PID named the first process, which the relaunch is not.
 */
const LISTEN_FDS_ENV = 'MOUNTKIT_LISTEN_FDS';

/**
 * The listening descriptors this process passes on: a relaunch's starter counted them;
 * Node started by bin/mountkit under unshare(1) has none, since the launcher starts Node
 * the ordinary way when LISTEN_PID is its own pid; otherwise go-systemd's rule for this
 * process (bin/mountkit execs Node, which keeps the launcher's pid).
 */
function listenFdsHere(launch: LaunchContext, env: NodeJS.ProcessEnv, pid: number): number {
  if (launch.relaunched) return descriptorCount(env[LISTEN_FDS_ENV] ?? '') ?? 0;
  if (launch.startedInPidNamespace) return 0;
  return listenFdsOf(env, pid);
}

/** Set to 1 in the environment of a relaunch by a user other than root: RootfsConfig.rootless there, where it is root. */
const ROOTLESS_ENV = 'MOUNTKIT_ROOTLESS';

/** The value of RELAUNCHED_ENV for a relaunch under nsenter(1). */
const RELAUNCHED_WITH_NSENTER = 'nsenter';

/** `listenFds`: the listening descriptors passed (core/passed-fds.ts listenFdsOf, or what the starter of a relaunch counted). */
export function loadRunConfig(opts: CliOptions, text?: string, listenFds = 0): RootfsConfig {
  const config = loadBundle(path.resolve(opts.bundle), text);
  if (config.process.args.length === 0) throw new ConfigError('process.args', undefined, 'must name the program to run');
  return {
    ...config,
    noPivot: opts.noPivot,
    ...(opts.noNewKeyring ? { noNewKeyring: true } : {}),
    ...(listenFds ? { listenFds } : {}),
    ...(opts.preserveFds ? { preserveFds: opts.preserveFds } : {}),
    ...(opts.containerId === undefined ? {} : { id: opts.containerId }),
    ...(opts.consoleSocket === undefined ? {} : { consoleSocket: path.resolve(opts.consoleSocket) }),
  };
}

/**
 * Set by the bin/mountkit shell launcher when it started Node inside new pid and mount
 * namespaces: the descriptor on which this process asks it to start Node again without
 * them, when the config turns out not to want a new pid namespace, and on which the exec
 * step writes the exec event (RootfsConfig.execNotice). Taken only by a Node
 * the launcher started, PID 1 of its new pid namespace, not relaunched:
 * one a user's environment hands any other process is no launcher's.
 */
export const LAUNCHER_FD_ENV = 'MOUNTKIT_LAUNCHER_FD';

/** The descriptor bin/mountkit's job gives Node its second pipe on (its `4>&8`), which the job's shell holds too. */
const LAUNCHER_JOB_FD = 4;

/**
 * How many descriptors (0 up) a relaunch not started from a read-only copy of Node's file
 * was given: what it keeps when it re-executes itself from one (core/sealed-node.ts).
 */
const RELAUNCH_FDS_ENV = 'MOUNTKIT_RELAUNCH_FDS';

/** Whether a first process runs the container itself (planLaunch makes no relaunch); a config planLaunch refuses is left to the checks before its call in `run`, which say why. */
function runsHere(config: RootfsConfig, launch: LaunchContext): boolean {
  try {
    return planLaunch(config.namespaces, launch, config).relaunch.length === 0;
  } catch {
    return false;
  }
}

/** The numbers from `first` up to `end`, not included. */
function range(first: number, end: number): number[] {
  return Array.from({ length: Math.max(0, end - first) }, (_, i) => first + i);
}

/** /proc/self/uid_map; undefined without one (a kernel without user namespaces), whose ids are all the host's, as runc and `plan` count it. */
function uidMapText(): string | undefined {
  try {
    return readFileSync('/proc/self/uid_map', 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return undefined;
  }
}

/**
 * Whether the --seccomp-cache directory, as this process resolves it, is the one the
 * process that made its user namespace vouched for (SECCOMP_CACHE_VOUCHED_ENV, taken out of
 * the environment here), `byMaker`: a relaunch's starter, or bin/mountkit where it made
 * the namespace (LAUNCHER_USERNS_ENV, Node started as PID 1 of its pid namespace).
 */
function cacheVouched(opts: CliOptions, launch: LaunchContext, byMaker: boolean): boolean {
  const vouched = process.env[SECCOMP_CACHE_VOUCHED_ENV];
  delete process.env[SECCOMP_CACHE_VOUCHED_ENV];
  return byMaker && launch.inUserNamespace && vouched !== undefined && opts.seccompCache !== 'off' && vouched === path.resolve(opts.seccompCache);
}

/**
 * The --seccomp-cache directory a relaunch into a user namespace is told this process
 * found trusted (seccomp-cache.ts trustedCacheDirectory: made if missing), for a config
 * with a profile; undefined otherwise.
 */
function cacheToVouchFor(opts: CliOptions, plan: LaunchPlan, config: RootfsConfig): string | undefined {
  if (opts.seccompCache === 'off' || !config.seccomp || (plan.userMappings === undefined && plan.userNamespacePath === undefined)) return undefined;
  const { trustedCacheDirectory } = require('../core/syscalls/seccomp-cache') as typeof import('../core/syscalls/seccomp-cache');
  const dir = path.resolve(opts.seccompCache);
  return trustedCacheDirectory(dir) ? dir : undefined;
}

/** Where this process stands: relaunched by mountkit or not, in a user namespace or not (`uidMap`, uidMapText's). */
export function currentLaunchContext(uidMap = uidMapText()): LaunchContext {
  const relaunched = process.env[RELAUNCHED_ENV];
  return {
    relaunched: relaunched === '1' || relaunched === RELAUNCHED_WITH_NSENTER,
    inUserNamespace: !identityUidMap(uidMap),
    startedInPidNamespace: process.env[LAUNCHER_FD_ENV] !== undefined && process.pid === 1 && relaunched === undefined,
    joinedByLauncher: relaunched === RELAUNCHED_WITH_NSENTER,
    euid: process.geteuid?.(),
    egid: process.getegid?.(),
    // Only a user other than root needs them, and only before the relaunch.
    ...(relaunched === undefined && process.geteuid?.() !== 0 ? { idMapTools: idMapToolsInPath(process.env.PATH) } : {}),
  };
}

/**
 * This process's pid as the procfs at /proc counts it (/proc/self, proc(5)), else its own
 * (getpid(2)). Until the jail that procfs is the host's, so that a process in a new pid
 * namespace, PID 1 there in every run that has one, logs the pid the host sees; the CLI
 * makes its logger before the jail.
 */
function procPid(): number {
  try {
    const pid = Number(readlinkSync('/proc/self'));
    return Number.isInteger(pid) && pid > 0 ? pid : process.pid;
  } catch {
    return process.pid;
  }
}

/** The CLI's logger for each set of options: one per run, so that --log's file is opened once. */
const loggers = new WeakMap<CliOptions, Logger>();

/**
 * The --log file's descriptor, by the options naming it, where `run` holds it open: in the
 * first process of a relaunch, which opened it (openLogFile), and in the relaunch, which
 * took it from its starter (takeRelaunchLog).
 */
const logFds = new WeakMap<CliOptions, number>();

/** The options of a relaunch's `run`, whose --log file is the one its starter passed (logFds), never opened by path. */
const logFromStarter = new WeakSet<CliOptions>();

/** The copy `run` keeps of the stderr it was started with (keepStderr), by its options. */
const keptStderr = new WeakMap<CliOptions, number>();

/**
 * Where the CLI writes its messages for `opts` when `run` has kept a copy of its stderr:
 * that copy, which stays the stderr mountkit was started with whatever the run puts on
 * descriptor 2 (the container's terminal). Undefined before, and for other commands.
 */
export function cliStderr(opts: CliOptions): number | undefined {
  return keptStderr.get(opts);
}

/** A --log file Node could not open: logFileError with Node's errno name, else what was thrown. */
function logOpenError(file: string, err: unknown): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  return code === undefined ? err : logFileError(file, code);
}

/**
 * The logger the CLI's options ask for, the same one each time for the same options; a
 * --log file that cannot be opened is a configuration error naming it. A file `run` holds
 * open (logFds) is written to as it is; a relaunch, which has it from its starter only,
 * never opens it by path.
 */
export function cliLogger(opts: CliOptions): Logger {
  const made = loggers.get(opts);
  if (made) return made;
  const file = opts.log ? path.resolve(opts.log) : undefined;
  const fileFd = opts.log ? logFds.get(opts) : undefined;
  if (file !== undefined && fileFd === undefined && logFromStarter.has(opts)) throw new Error(`--log ${JSON.stringify(file)}: not taken from the process that started mountkit`);
  const { createLogger } = require('../core/logger') as typeof import('../core/logger');
  // Only lines in a file or as JSON tell of the run: the default logger needs no fields.
  const run = file || opts.logFormat === 'json' ? { pid: procPid(), id: opts.containerId ?? defaultContainerId({ bundle: path.resolve(opts.bundle) }) } : undefined;
  try {
    const logger = createLogger({ level: opts.logLevel, format: opts.logFormat, file, fileFd, fileOption: '--log', stderrFd: keptStderr.get(opts), run });
    loggers.set(opts, logger);
    return logger;
  } catch (err) {
    if (file === undefined) throw err;
    throw logOpenError(file, err);
  }
}

/**
 * The --log file `opts` names, opened for appending through the port (core/log-file.ts),
 * with this process's rights: in the first process of a relaunch, on the host, as runc
 * opens its log before it starts its init, given to the relaunch (RELAUNCH_LOG_FD);
 * without a relaunch, before the namespaces are entered. Written to by this process's
 * logger (logFds).
 */
function openLogFile(sys: Syscalls, opts: CliOptions, file: string): number {
  const fd = openLogOnPort(sys, file);
  logFds.set(opts, fd);
  return fd;
}

/**
 * The run's exit status; a promise when mountkit started itself again and waits for
 * that process (the container's status), passing signals on meanwhile.
 */
export function run(opts: CliOptions, argv: readonly string[]): number | Promise<number> {
  // Node opens its inspector on SIGUSR1 unless a listener takes it. Held by bin/mountkit
  // or the relaunch until the container has started; here, before it, it is dropped.
  process.on('SIGUSR1', ignoreSignal);
  // A Node re-executed from a read-only copy of its file is told the path it was started
  // from (core/sealed-node.ts); the environment as it was started is what it passes on.
  const startedFrom = process.env[NODE_PATH_ENV];
  delete process.env[NODE_PATH_ENV];
  if (startedFrom !== undefined) process.execPath = startedFrom;
  // bin/mountkit's bind of node's file in this mount namespace, which Node runs from (its in-place seal).
  const launcherBind = process.env[NODE_BIND_ENV];
  delete process.env[NODE_BIND_ENV];
  const startEnv = { ...process.env };
  // The relaunched process runs the config its starter read and checked: config.json may
  // have changed since, or be out of its reach (a user namespace's root may not read it).
  // Read once: the launcher's user namespace is checked against it below.
  const uidMap = uidMapText();
  const launch = currentLaunchContext(uidMap);
  // The launcher made the user namespace too: for a rootless run ("1"), which is rootless,
  // as the relaunch would be told, or for root's ("root", bin/mountkit root_maps).
  const launcherMade = process.env[LAUNCHER_USERNS_ENV];
  const launcherUserns = (launcherMade === '1' || launcherMade === 'root') && launch.startedInPidNamespace === true && launch.inUserNamespace;
  delete process.env[LAUNCHER_USERNS_ENV];
  const relayTo = process.env[LAUNCHER_CONSOLE_ENV];
  delete process.env[LAUNCHER_CONSOLE_ENV];
  const hooksRelayTo = process.env[LAUNCHER_HOOKS_ENV];
  delete process.env[LAUNCHER_HOOKS_ENV];
  const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
  const sys = new LinuxSyscalls({
    seccompCache: opts.seccompCache === 'off' ? undefined : opts.seccompCache,
    ...(cacheVouched(opts, launch, launch.relaunched || launcherUserns) ? { seccompCacheVouched: true } : {}),
  });
  // Off the namespace before anything reads its mount table (prepare-root) or re-executes.
  if (launcherBind !== undefined) detachLauncherBind(sys, launcherBind);
  // The process that execs the container's program runs from a read-only copy of Node's
  // file where the container's root could write it (core/sealed-node.ts): bin/mountkit's
  // Node (which bin/mountkit, as root, mostly starts from a read-only bind already:
  // seal_node) and a relaunch re-execute themselves from one before anything else is done; a
  // first process starts its relaunch from one, or re-executes itself once it knows it
  // runs the container itself (below). Each keeps what it was started with.
  let unsealed = false;
  const reseal = (keep: number[]): void => {
    try {
      execSealedNode(sys, { execPath: process.execPath, execArgv: nodeStartOptions(process.execArgv), args: process.argv.slice(1), env: nodeStartEnv(startEnv) }, keep);
    } catch (err) {
      if (!kernelCannotSeal(err)) throw err;
      unsealed = true;
    }
  };
  // Without it (started otherwise than by mountkit's first process), the relaunch's own numbers, 3 to 9.
  const relaunchFds = Number(process.env[RELAUNCH_FDS_ENV] ?? PARENT_STDERR_FD + 1);
  delete process.env[RELAUNCH_FDS_ENV];
  const firstProcess = !launch.relaunched && launch.startedInPidNamespace !== true;
  // bin/mountkit's descriptors (its pipe on MOUNTKIT_LAUNCHER_FD, its job's on
  // LAUNCHER_JOB_FD, the shell's placeholder on PARENT_STDERR_FD), or every one the
  // relaunch was given up to RELAUNCH_FDS_ENV.
  if (!firstProcess && ownFileWritable(sys)) reseal(launch.relaunched ? range(FIRST_INHERITED_FD, relaunchFds) : [Number(process.env[LAUNCHER_FD_ENV]), LAUNCHER_JOB_FD, PARENT_STDERR_FD]);
  // A first process's: its relaunch is started from a copy, or it re-executes itself.
  let nodeWritable = firstProcess && ownFileWritable(sys);
  if (launch.relaunched) greetStarter();
  // PID 1 of a pid namespace mountkit made: the shell that forked it there
  // (PID_NAMESPACE_PARENT) ends when the run is given up (under bin/mountkit, a SIGKILL
  // to the launcher's process group, the shell's too; the Node entry's relaunch leads a
  // session of its own, which that does not reach, and its starter's watch kills it while
  // the rootfs is prepared), and takes it along, the container too while its credentials
  // are unchanged. Set first thing: the shell may end while Node starts (not yet like
  // unshare --kill-child, whose child has it from its fork).
  const pidOne = process.pid === 1 && (launch.relaunched || launch.startedInPidNamespace === true);
  if (pidOne) sys.setParentDeathSignal(PARENT_DEATH_SIGNAL);
  // The descriptors passed to the container are checked while they are the caller's,
  // then marked with the rest: the container's execve gets them back (handOverPassed).
  const listenFds = listenFdsHere(launch, process.env, process.pid);
  if (!launch.relaunched) checkPassedOpen(sys, { listenFds, preserveFds: opts.preserveFds });
  // What this process starts (hooks, commands, the relaunch) gets only the descriptors it
  // is given: those mountkit was started with stay its own, as runc's hooks get none of runc's.
  // /proc is still the one mountkit was started with, for a kernel without close_range(2).
  markCloseOnExec(sys, FIRST_INHERITED_FD);
  // mountkit's messages go to a close-on-exec copy of stderr, which the console step's
  // dup3(2) onto 2 leaves alone. Taken before the logger, while every number a descriptor
  // passed to the container takes is held: the caller's from 3 up (checked open above),
  // or in a relaunch every one up to the runtime channel's last (its starter filled them).
  keptStderr.set(opts, keepStderr(sys, FIRST_INHERITED_FD));
  const forkedBy = process.env[PID_NAMESPACE_PARENT_ENV];
  delete process.env[PID_NAMESPACE_PARENT_ENV];
  const launcherRoot = launcherUserns && launcherMade === 'root';
  // A relaunch takes its --log file from its starter while every number up to the runtime
  // channel is still held (its starter filled them, relaunch()): the descriptors passed to
  // the container are dup3(2)ed onto 3 and up before its execve, and a log left among them
  // would take its later lines (a failed execve's error) into a file of the caller's.
  if (launch.relaunched && opts.log) {
    logFromStarter.add(opts);
    logFds.set(opts, takeRelaunchLog(sys, FIRST_INHERITED_FD));
    cliLogger(opts);
  }
  // In root's namespace of the launcher's making (bin/mountkit root_maps), a config.json
  // this process may not read (its owner not mapped there, as the host's root is not
  // where Node was started through setpriv(1): no capability over it) is left to the Node
  // entry, which reads it on the host and gives its text to the relaunch.
  if (launcherRoot && process.env[LAUNCHER_FD_ENV] !== undefined && readRefused(path.join(path.resolve(opts.bundle), 'config.json'))) {
    writeSync(Number(process.env[LAUNCHER_FD_ENV]), 'again\n');
    return 0;
  }
  const text = launch.relaunched ? configFromStarter() : bundleConfigText(opts.bundle);
  // Rootless: run by a user other than root, as the relaunch is told (it is root in its namespace).
  const rootless = launch.relaunched ? process.env[ROOTLESS_ENV] === '1' : launcherUserns ? !launcherRoot : (process.geteuid?.() ?? 0) !== 0;
  // The caller's sd_notify(3) socket, which a first process serves (core/notify-socket.ts);
  // a relaunch binds the directory of its starter's socket into the container.
  const notifySocket = firstProcess ? process.env[NOTIFY_SOCKET_ENV] || undefined : undefined;
  const notifyDir = launch.relaunched ? process.env[NOTIFY_DIR_ENV] : undefined;
  // Given the directory's copy to attach (core/relaunch.ts notifyTreeSlot) where its starter made one.
  const notifyTree = notifyDir !== undefined && launch.joinedByLauncher === true && process.env[NOTIFY_TREE_ENV] === '1';
  delete process.env[NOTIFY_DIR_ENV];
  delete process.env[NOTIFY_TREE_ENV];
  const read = loadRunConfig(opts, text, listenFds);
  const loaded = { ...(notifyDir === undefined ? read : withNotifySocket(read, notifyDir, notifyTree ? notifyTreeSlot(read) : undefined)), ...(rootless ? { rootless } : {}), ...(notifySocket === undefined ? {} : { notifySocket }) };
  // A relaunch holds them after its own descriptors (core/relaunch.ts).
  const config = launch.relaunched && passedCount(loaded) ? { ...loaded, passedFdsAt: relaunchPassedAt(loaded, launch.joinedByLauncher === true, notifyTree) } : loaded;
  // A first process that runs the container itself re-executes itself now, before it has
  // said anything, keeping the descriptors passed to the container.
  if (nodeWritable && runsHere(config, launch)) {
    reseal(range(FIRST_PASSED_FD, FIRST_PASSED_FD + passedCount(config)));
    nodeWritable = false;
  }
  if (unsealed) cliLogger(opts).warn(UNSEALED_WARNING);
  const launcherFd = process.env[LAUNCHER_FD_ENV];
  const ownMaps = () => ({
    uid: uidMap ?? '',
    gid: readFileSync('/proc/self/gid_map', 'utf8'),
    ...(config.process.oomScoreAdj === undefined ? {} : { oomScore: Number(readFileSync(SCORE_FILE, 'utf8')) }),
  });
  const userNamespaceHolds = (): boolean =>
    launcherRoot
      ? launcherRootUserNamespaceHolds(config, {
          ...ownMaps(),
          setgroups: readFileSync('/proc/self/setgroups', 'utf8'),
          euid: process.geteuid?.() ?? 0,
          egid: process.getegid?.() ?? 0,
          pipeOwners: pipeStreamOwners(sys),
          overflowUid: overflowUidOf((file) => readFileSync(file, 'utf8')),
          hostFiles: opts.log !== undefined || opts.pidFile !== undefined,
        })
      : launcherUserNamespaceHolds(config, ownMaps());
  // A foreground console, which bin/mountkit's relay beside this process copies
  // (console-relay.ts serveLauncherConsole): connected here, while the relay's socket is in
  // reach, and passed to the console step as a first process's socket is. A relay that
  // does not listen leaves the run to the Node entry.
  // With the runtime's hooks, the hooks relay copies it (hooks-relay.ts), on a first connection.
  const hooksRelay = relayTarget(hooksRelayTo);
  const relay = relayTarget(relayTo) ?? (hasRuntimeHooks(config) ? hooksRelay : undefined);
  if (launcherFd !== undefined && launch.startedInPidNamespace && relay !== undefined && foregroundConsole(config)) {
    const socket = connectLauncherRelay(sys, relay, process.geteuid?.() ?? 0, launch.inUserNamespace ? overflowUidOf((file) => readFileSync(file, 'utf8')) : undefined);
    if (socket === undefined) {
      writeSync(Number(launcherFd), 'again\n');
      return 0;
    }
    config.hostSockets = { ...config.hostSockets, console: socket };
  }
  // The runtime's hooks, which bin/mountkit's hooks relay beside this process runs
  // (hooks-relay.ts serveLauncherHooks) on a connection that becomes the run's runtime
  // channel, as a relaunch is given one. Connected once nothing can send the run back to
  // the Node entry (a connection taken runs the poststop hooks): the guess is checked as
  // with it.
  const byHooksRelay = launcherFd !== undefined && launch.startedInPidNamespace === true && hooksRelay !== undefined && hasRuntimeHooks(config);
  const launchConfig = byHooksRelay ? { ...config, runtimeChannel: Number(launcherFd) } : config;
  if (launcherFd !== undefined && launch.startedInPidNamespace && (!launcherGuessHolds(config.namespaces, launch, launchConfig) || (launcherUserns && !userNamespaceHolds()))) {
    // Nothing has been done yet: the launcher starts Node again, outside these namespaces.
    writeSync(Number(launcherFd), 'again\n');
    return 0;
  }
  // What its starter passed: the runtime channel, and the sockets it opened and connected (core/relaunch.ts).
  const relaunched = launch.relaunched ? takeRelaunchDescriptors(sys, config, launch.joinedByLauncher === true, pidOne) : {};
  // The signal is never sent for a parent that ended before it was last set (a kill while
  // Node started): this process then stops here, before its first mount, with the status
  // the signal would have given it.
  // /proc is still the one mountkit was started with, as the shell's was.
  if (pidOne && forkingShellEnded(forkedBy, statOf('self'))) return 128 + PARENT_DEATH_SIGNAL;
  if (launch.relaunched) {
    // The process that started this one passes signals on once the container has started
    // (forward.ts). This one leads a session of its own, or is PID 1 in one (relaunch),
    // which what is sent to its starter's process group does not reach; one sent to its
    // own group meanwhile (by a hook it runs) must not end it either, where it is not
    // PID 1 of a pid namespace. execve resets the handlers.
    for (const sig of PASSED_SIGNALS) process.on(sig, ignoreSignal);
  }
  // Checked against the host as mountkit found it, before any namespace is entered; the
  // relaunched process already sits in the new namespaces, and its parent checked.
  if (!launch.relaunched) {
    // The loader checked the model's types and ranges as it read config.json (loadRunConfig).
    validateConfig(config, sys, { modelChecked: true });
    validateRootlessNamespaces(config);
  }
  const problem = userNamespaceProblem(config.namespaces, launch, config);
  if (problem) throw new ConfigError('linux.namespaces', 'user', problem);
  // The maps of a user namespace joined by a /proc/PID/ns/user path, read there, which the sd_notify(3) relay takes too.
  const joinedUids = checkUserNamespaceMaps(config, launch, (file) => readFileSync(file, 'utf8'));
  if (byHooksRelay) {
    // Refused before the relay is connected, as the Node entry refuses them before it runs
    // a hook: a --log file is opened here (runHere writes to it), a --pid-file's directory
    // only looked at (the relay writes the file, having opened it for itself).
    if (opts.log) openLogFile(sys, opts, path.resolve(opts.log));
    if (opts.pidFile !== undefined) sys.close(openPidFileDir(sys, path.resolve(opts.pidFile)));
    const socket = connectLauncherRelay(sys, hooksRelay, process.geteuid?.() ?? 0, launch.inUserNamespace ? overflowUidOf((file) => readFileSync(file, 'utf8')) : undefined);
    // A relay that does not listen: the Node entry runs it all, nothing done yet.
    if (socket === undefined) {
      writeSync(Number(launcherFd), 'again\n');
      return 0;
    }
    config.runtimeChannel = socket;
  }
  const plan = planLaunch(config.namespaces, launch, config);
  // The runtime's hooks go to the starter, where mountkit was started, through descriptor 3 (core/runtime-hooks.ts).
  // bin/mountkit reads its pipe once the job has ended: the exec event there tells it that
  // a signal which ended this process ended the container's program (bin/mountkit's end).
  const notice = launcherFd !== undefined && launch.startedInPidNamespace ? { execNotice: Number(launcherFd) } : {};
  if (!plan.relaunch.length) return runHere({ ...config, newSession: startedByMountkit(launch, plan), ...relaunched, ...notice }, plan, opts, sys);
  // The relaunched process loads the plugin list, in the namespaces the relaunch makes:
  // what its names tell is refused here first, without loading it (builtinListRefusal).
  const list = pluginsFromFile(opts.plugins);
  const refused = builtinListRefusal(config, list.plugins.plugins);
  if (refused) throw refused;
  // Opened here, on the host, and passed on: the relaunch may not open it (core/relaunch.ts RELAUNCH_LOG_FD).
  const log = opts.log ? openLogFile(sys, opts, path.resolve(opts.log)) : undefined;
  // Its directory opened here too, where the pid file is written once the relaunch tells the program is next.
  const pidFile = opts.pidFile === undefined ? undefined : starterPidFile(sys, path.resolve(opts.pidFile));
  let logger: Logger | undefined;
  const warn = (message: string): void => {
    (logger ??= cliLogger(opts)).warn(message);
  };
  const info = opts.logLevel === 'info' || opts.logLevel === 'debug' ? (message: string, meta: Record<string, unknown>) => void (logger ??= cliLogger(opts)).info(message, meta) : undefined;
  // A list its names do not decide (a module of its own) is loaded here as well, so that
  // it refuses the config (its claims, each plugin's validate) before the relaunch makes a
  // user namespace or gives the caller's streams to its root; the relaunch asks again.
  if (!decidedByNames(list.plugins.plugins)) checkWithPlugins(config, list, sys, (logger ??= cliLogger(opts)));
  // A Node that cannot start its threads waits for them forever: a relaunch that would meet RLIMIT_NPROC is refused first (core/task-limits.ts).
  checkRelaunchTasks(
    sys,
    {
      forks: relaunchForks(plan),
      userNamespace: plan.userMappings !== undefined || plan.userNamespacePath !== undefined,
      // The relaunch's Node gets this one's options and environment (relaunchFrom).
      nodeTasks: nodeTasks(process.env.NODE_OPTIONS, process.execArgv, availableParallelism()),
      ...(foregroundConsole(config) ? { consolePool: libuvPoolThreads(process.env.UV_THREADPOOL_SIZE) } : {}),
    },
    { uid: process.getuid?.() ?? 0, inUserNamespace: launch.inUserNamespace },
  );
  // Before anything is started for the relaunch: what it leaves running if it is killed comes to this process (cli/orphans.ts).
  const reaper = subreaper(sys, warn);
  // Taken from before anything is started for the relaunch until they can be passed on to the container (forward.ts).
  const held = holdSignals();
  let passed: RelaunchDescriptors;
  let notify: NotifyRelay | undefined;
  try {
    // The run's own sd_notify(3) socket, in a new directory under TMPDIR, which a user
    // other than root may make too; first, so that a failure leaves nothing else made.
    if (config.notifySocket !== undefined) notify = openNotifyRelay(sys, plan, config.notifySocket, warn, joinedUids);
  } catch (err) {
    held.release();
    throw err;
  }
  try {
    // Made, opened and connected here, from the host, before a pid namespace is joined (so
    // the user namespace's helper is not made there), for a relaunch into a user namespace.
    passed = prepareRelaunch(sys, plan, config);
  } catch (err) {
    held.release();
    notify?.close();
    throw err;
  }
  try {
    const vouchedCache = cacheToVouchFor(opts, plan, config);
    return relaunchFrom({ plan, argv, text, passed: passed.passed, console: passed.console, idmap: passed.idmap, log, pidFile, vouchedCache, sys, config, warn, ...(info ? { info } : {}), held, reaper, sealNode: nodeWritable, ...(notify ? { notify } : {}) }, sys);
  } catch (err) {
    held.release();
    notify?.close();
    throw err;
  } finally {
    // The relaunch has its own copies, or failed to start; it runs already, so what fails here is only told.
    for (const failure of passed.release()) warn(failure);
  }
}

/**
 * The run's own sd_notify(3) socket (core/notify-socket.ts openRunRelay), closed and
 * removed too if this process exits before the container ends (a step that ends it with
 * process.exit); a SIGKILL leaves it.
 */
function openNotifyRelay(sys: Syscalls, plan: LaunchPlan, host: string, warn: (message: string) => void, joined: IdMapping[] | undefined): NotifyRelay {
  const relay = openRunRelay(sys, plan, host, warn, process.geteuid?.() ?? 0, joined);
  process.once('exit', () => relay.close());
  return relay;
}

/** What a relaunch is given: the plan, the CLI's arguments, config.json as read, and this process's descriptor for each of the relaunch's (prepareRelaunch). */
interface Relaunch {
  plan: LaunchPlan;
  argv: readonly string[];
  text: string;
  passed: ReadonlyMap<number, number>;
  /** This process's end of the foreground console's socket (core/relaunch.ts), on which the console's master comes: console-relay.ts copies it. */
  console?: number;
  /** This process's end of the idmap socket and the container's user namespace (core/relaunch.ts), with which it makes the relaunch's idmapped copies (core/idmapped-tree.ts). */
  idmap?: RelaunchDescriptors['idmap'];
  /** The --log file, opened by this process, which the relaunch gets on RELAUNCH_LOG_FD. */
  log?: number;
  /** The --pid-file and its directory, opened by this process (core/pid-file.ts), written here once the relaunch tells the program is next. */
  pidFile?: StarterPidFile;
  /** The --seccomp-cache directory this process found trusted, which the relaunch is told of (cacheToVouchFor). */
  vouchedCache?: string;
  /** The port the runtime's hooks are run through, the config they come from, and where their warnings go (core/runtime-hooks.ts). */
  sys: Syscalls;
  config: RootfsConfig;
  warn: (message: string) => void;
  /** Where the container's end goes at --log-level info and debug; none at the others, which load no winston for it. */
  info?: (message: string, meta: Record<string, unknown>) => void;
  /** The signals that came since the relaunch was decided, passed on once it runs (forward.ts holdSignals). */
  held: HeldSignals;
  /** What stops the relaunch if this process ends before the container's program has started (watchStarter); relaunchFrom gives it. */
  watch?: StarterWatch;
  /** Whether the relaunch starts from a read-only copy of Node's file, which the container's root could write (core/sealed-node.ts). */
  sealNode?: boolean;
  /** This process as a child subreaper (cli/orphans.ts subreaper), which reaps and waits for what the relaunch leaves running; none when the kernel refused it. */
  reaper?: Subreaper;
  /** The run's own sd_notify(3) socket (core/notify-socket.ts), whose directory the relaunch binds into the container, read here once it runs. */
  notify?: NotifyRelay;
}

/**
 * The relaunch, from the pid namespace the plan joins by path when it joins one
 * (core/namespaces.ts), watched from this one (watchStarter).
 */
function relaunchFrom(launch: Relaunch, sys: Syscalls): Promise<number> {
  // Node makes process.stderr when it first destroys a socket, which would make a piped stderr non-blocking under the running container.
  openStderrBeforeRelaunch(sys, () => void process.stderr);
  const watch = watchStarter();
  try {
    return fromJoinedPidNamespace(sys, launch.plan, () => relaunch({ ...launch, watch }));
  } catch (err) {
    watch.release();
    throw err;
  }
}

/**
 * The idmapped copy of the config's mount `index` for the relaunched process, whose mount
 * namespace is joined through `ns` (its pidfd, or that namespace's file), sent on the
 * idmap socket (core/idmapped-tree.ts). A main thread that could not come back to its
 * own mount namespace stops the container (`stop`) and this process: everything it
 * would do next (hooks, the console) would be resolved in the container's.
 */
function idmapCopy(sys: Syscalls, config: RootfsConfig, index: number, ns: number | undefined, idmap: NonNullable<RelaunchDescriptors['idmap']>, stop: () => void): void {
  try {
    sendIdmappedCopy(sys, idmapCopyRequest(config, index), ns, idmap.userns, idmap.socket);
  } catch (err) {
    if (!(err instanceof NamespaceNotRestoredError)) throw err;
    stop();
    process.stderr.write(`mountkit: ${err.message}\n`);
    process.exit(1);
  }
}


/** The relaunched process's descriptor with config.json's text (relaunch). */
const CONFIG_FD = 5;

/**
 * In the relaunched process, first thing: one line on CONFIG_FD, which its starter may
 * wait for to find this process before it ends config.json (passConfig). Sent before the
 * port and the rest are loaded (some milliseconds), so that the starter looks meanwhile
 * and the read of config.json seldom waits for it. Nothing is sent on a descriptor that
 * is not a socket (configFromStarter refuses it) or to a starter that has ended (EPIPE:
 * the read finds nothing).
 */
function greetStarter(): void {
  let socket = false;
  try {
    socket = fstatSync(CONFIG_FD).isSocket();
  } catch {
    // Not open: configFromStarter refuses it.
  }
  if (!socket) return;
  try {
    writeSync(CONFIG_FD, '\n');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  }
}

/**
 * In the relaunched process: config.json's text as its starter read it, from CONFIG_FD to
 * its end, which is closed then; framed with its length (config-frame.ts), so that a
 * starter that ended while it wrote (a SIGKILL) is told as such, not as a config.json
 * that is not valid JSON. The starter's watch kills this process then too, but may come
 * after the message. A starter that ended with this process's line unread (greetStarter)
 * resets the socket: ECONNRESET is its end too (unix(7) stream sockets).
 */
function configFromStarter(): string {
  let socket = false;
  try {
    socket = fstatSync(CONFIG_FD).isSocket();
  } catch {
    // Not open: refused below.
  }
  const notPassed = `${RELAUNCHED_ENV} is set, which only mountkit's own relaunch sets: descriptor ${CONFIG_FD} is not the config it passes`;
  if (!socket) throw new Error(notPassed);
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  try {
    for (let n; (n = readConfigChunk(buf)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
  } finally {
    closeSync(CONFIG_FD);
  }
  const data = Buffer.concat(chunks);
  const ended = `the mountkit process that started this one ended before it passed`;
  // The starter sends a config it has read and checked, never an empty one: it ended before sending.
  if (data.length === 0) throw new Error(`${ended} config.json (descriptor ${CONFIG_FD} was closed empty)`);
  const frame = readConfigFrame(data);
  if ('invalid' in frame) throw new Error(notPassed);
  if ('short' in frame) throw new Error(`${ended} all of config.json (descriptor ${CONFIG_FD} was closed after ${frame.got}${frame.of === undefined ? '' : ` of ${frame.of}`} bytes)`);
  return frame.text;
}

/** One read(2) of CONFIG_FD into `buf`: the bytes read, 0 at its end, which a reset (ECONNRESET) is too. */
function readConfigChunk(buf: Buffer): number {
  try {
    return readSync(CONFIG_FD, buf, 0, buf.length, null);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET') return 0;
    throw err;
  }
}

/** Whether access(2) refuses this process a read of `file` (EACCES); any other error is the read's to tell. */
function readRefused(file: string): boolean {
  try {
    accessSync(file, fsConstants.R_OK);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EACCES';
  }
}

/** A shell's command that ignores the signals passed on, by number (dash names no STKFLT). */
const TRAP_PASSED_SIGNALS = `trap '' ${PASSED_SIGNALS.map((sig) => constants.signals[sig]).join(' ')}`;

/**
 * The relaunch starts with the signals passed on ignored, in a session of its own
 * (relaunch) that what is sent to its starter's process group does not reach: one sent
 * to its own group (by a hook or command the relaunched Node runs there) would end the
 * shell that waits for the container in a new pid namespace (PID_NAMESPACE_PARENT),
 * whose end kills it. The relaunched Node resets the standard signals it inherited
 * ignored when it starts, and the port's execve every signal for the container.
 */
const IGNORING_PASSED_SIGNALS = `${TRAP_PASSED_SIGNALS}
command -v "$1" >/dev/null || { echo "mountkit: $1 (util-linux) is not found in PATH" >&2; exit 1; }
exec "$@"`;

/**
 * The starter's watch (watchStarter): a shell outside every namespace of the relaunch,
 * ignoring the signals passed on as the relaunch does, that reads two lines from this
 * process. The first names the relaunch: the process spawned (its pid and its start time,
 * field 22 of /proc/PID/stat), whether it forks the container as PID 1 of a new pid
 * namespace (PID_NAMESPACE_PARENT: 1, else 0), the runtime channel ("socket:[INODE]", as
 * /proc/PID/fd shows it) and the numbers the relaunch holds it on until the container's
 * execve(2). The second, empty, stands the watch down. Its standard input ending before
 * the second is this process's end (a SIGKILL, which no listener sees), and the watch
 * then kills the relaunch, as runc's init never starts the container's program once
 * `runc run` has ended, unless:
 * - the process spawned is gone: its pid, with another start time, is another process's;
 * - the container (the process spawned, or its child when it forks one: /proc/PID/task/
 *   PID/children, or each process's parent in /proc/PID/stat on a kernel without
 *   CONFIG_PROC_CHILDREN) holds the channel on none of those numbers, as readlink(1)
 *   reads them: its program has started, which outlives `runc run` too. A link it cannot
 *   read (no readlink(1) in PATH) is taken so, and nothing is killed.
 * The container is stopped (SIGSTOP) between a look that finds it holding the channel
 * and the one that decides: an execve(2) that came in between would otherwise have its
 * program killed as it starts. A stopped process runs no instruction, so the second look
 * is what it is when killed; one that has started meanwhile is continued (SIGCONT),
 * which, at its default action and not blocked, the kernel discards as it continues it
 * (signal(7)): only a program that started after the first look and set a SIGCONT
 * handler before the stop sees it, though one already blocked in epoll_wait(2),
 * sigtimedwait(2), semop(2) or a read with a timeout sees that call fail with EINTR, as
 * Linux makes some calls end across a stop and continue even without a handler
 * (signal(7)). The first look keeps a program that started long before (a
 * watch stays armed for the container's life when the shell that forks it holds the
 * channel) from being stopped at all. SIGSTOP, SIGKILL and the continuing SIGCONT reach
 * PID 1 of a pid namespace from a process outside it (pid_namespaces(7)); the container
 * goes first, and its end ends every process in the namespace, the hooks mountkit runs
 * there too; the shell that forked it after.
 */
export const STARTER_WATCH = `${TRAP_PASSED_SIGNALS}
read -r pid start forks channel fds || exit 0
read -r line && exit 0
stat=
read -r stat 2>/dev/null <"/proc/$pid/stat"
set -- \${stat##*) }
[ -n "$stat" ] && [ "\${20-}" = "$start" ] || exit 0
kids=$pid
if [ "$forks" != 0 ]; then
  kids=
  if [ -r "/proc/$pid/task/$pid/children" ]; then
    read -r kids 2>/dev/null <"/proc/$pid/task/$pid/children"
  else
    for file in /proc/[0-9]*/stat; do
      read -r stat 2>/dev/null <"$file" || continue
      set -- \${stat##*) }
      [ "$2" != "$pid" ] || { kid=\${file#/proc/}; kids="$kids \${kid%/stat}"; }
    done
  fi
fi
held() {
  for kid in $kids; do
    for fd in $fds; do
      [ "$(readlink "/proc/$kid/fd/$fd" 2>/dev/null)" = "$channel" ] && continue 2
    done
    return 1
  done
  return 0
}
held || exit 0
[ -z "$kids" ] || kill -s STOP $kids 2>/dev/null
held || { kill -s CONT $kids 2>/dev/null; exit 0; }
[ "$forks" = 0 ] || kill -s KILL $kids 2>/dev/null
kill -s KILL "$pid" 2>/dev/null`;

/** The starter's watch, as this process drives it (STARTER_WATCH). */
export interface StarterWatch {
  /**
   * Names the relaunch `pid`, spawned and not yet given config.json: whether it `forks`
   * the container, and the numbers the container holds the runtime channel on (its
   * descriptor 3 as spawned) until its execve.
   */
  arm(pid: number, forks: boolean, channelFds: readonly number[]): void;
  /** Stands the watch down: the container's program has started, or the relaunch has ended or never started. Once; later calls do nothing. */
  release(): void;
}

/**
 * Starts the starter's watch (STARTER_WATCH), before the relaunch and from this pid
 * namespace, in which it kills by the pids spawn gives. The relaunch is armed before it
 * is given config.json, without which it stops by itself: a relaunch that could outlive
 * this process is watched. The watch holds nothing of this process's (no descriptor, no
 * status): unreferenced, it never keeps Node running, and the lines it was given stay
 * readable after this process has ended. Not started (a fork that fails, or no /bin/sh,
 * which the relaunch's own spawn then reports), it does nothing.
 */
export function watchStarter(): StarterWatch {
  const { spawn } = require('child_process') as typeof import('child_process');
  let input: import('net').Socket | undefined;
  try {
    const env = process.env.PATH === undefined ? {} : { PATH: process.env.PATH };
    // In a session of its own, as the relaunch is: a SIGKILL sent to this process's group (timeout -s KILL) ends this process, not the watch.
    const child = spawn('/bin/sh', ['-c', STARTER_WATCH, 'sh'], { stdio: ['pipe', 'ignore', 'ignore'], env, detached: true });
    recordSpawned(child);
    child.on('error', () => undefined);
    child.unref();
    input = child.stdin as import('net').Socket;
    input.on('error', () => undefined);
    input.unref();
  } catch {
    input = undefined;
  }
  let armed = false;
  return {
    arm: (pid, forks, channelFds) => {
      if (!input || armed) return;
      armed = true;
      const stat = statOf(pid);
      const start = stat === undefined ? undefined : startTimeInStat(stat);
      input.write(`${pid} ${start ?? '-'} ${forks ? 1 : 0} ${fdLink(pid, RELAUNCH_STARTER_FD) ?? '-'} ${channelFds.join(' ')}\n`);
    },
    release: () => {
      if (!input) return;
      if (armed) input.end('\n');
      else input.end();
      input = undefined;
    },
  };
}

/**
 * Starts mountkit again under the launcher and passes signals on to the container
 * (forward.ts); its exit status (the container's) is ours, unless a poststart hook
 * failed. Its descriptor 3, a socket, is the runtime channel: the runtime's hooks run
 * here (core/runtime-hooks.ts), the poststop ones once the relaunch has ended and the
 * channel is drained; mountkit holds it until its execve(2) closes it, which also tells
 * forward.ts the container's program has started. config.json's text comes on
 * CONFIG_FD, written here (passConfig), read to its end there (configFromStarter); what
 * prepareRelaunch made, opened and connected comes on the numbers it gives
 * (takeRelaunchDescriptors takes them there), the --log file on RELAUNCH_LOG_FD
 * (takeRelaunchLog).
 */
function relaunch({ plan, argv, text, passed, console, idmap, log, pidFile, vouchedCache, sys, config: rootfs, warn, info, held, watch, reaper, sealNode, notify }: Relaunch): Promise<number> {
  const [cmd, ...args] = plan.relaunch;
  const main = path.resolve(__dirname, '..', '..', 'bin', 'mountkit.js');
  // Required here: child_process loads Node's net and stream modules (about 7 ms), which a run that needs no relaunch never uses.
  const { spawn } = require('child_process') as typeof import('child_process');
  // fork(2) into a pid namespace whose init has exited fails with ENOMEM (pid_namespaces(7)).
  const pidJoin = plan.joins.find((j) => j.flag === CLONE_NEWPID);
  // Any other start that failed is named with the limit it met (core/task-limits.ts).
  const failure = (err: NodeJS.ErrnoException): Error => {
    if (err.code === 'ENOMEM' && pidJoin) return new ConfigError('linux.namespaces', pidJoin.path, 'the pid namespace has no init process left (fork: ENOMEM)');
    return typeof err.code === 'string' && err.syscall?.startsWith('spawn') ? spawnError(sys, '/bin/sh', err.code, process.getuid?.()) : err;
  };
  const stdio: ('inherit' | 'pipe' | 'ignore' | number)[] = ['inherit', 'inherit', 'inherit', 'pipe', 'ignore', 'pipe'];
  for (const [there, here] of passed) stdio[there] = here;
  if (log !== undefined) stdio[RELAUNCH_LOG_FD] = log;
  // The descriptors passed to the container, after the relaunch's own (relaunchPassedAt).
  const count = passedCount(rootfs);
  // The copy of the sd_notify socket's directory, which a relaunch into a user namespace attaches (core/notify-socket.ts).
  const notifyTree = cmd === 'nsenter' ? notify?.tree : undefined;
  if (notifyTree !== undefined) stdio[notifyTreeSlot(rootfs)] = notifyTree;
  const passedAt = relaunchPassedAt(rootfs, cmd === 'nsenter', notifyTree !== undefined);
  for (let i = 0; i < count; i++) stdio[passedAt + i] = FIRST_PASSED_FD + i;
  // With descriptors passed, every number up to the one the runtime channel moves to
  // (relaunchChannelFd) is taken when the relaunch starts, the free ones by /dev/null:
  // what its Node opens itself (epoll, its signal pipe, eventfds, a --log file) takes the
  // lowest free numbers, which then lie above them, so that handOverPassed's dup3(2)s
  // replace only the relaunch's own descriptors and these, and a failure after them
  // (execve's) is still reported as any other.
  const placeholder = count ? sys.open('/dev/null', O_RDONLY | O_CLOEXEC, 0) : undefined;
  if (placeholder !== undefined) {
    for (let fd = FIRST_INHERITED_FD; fd <= relaunchChannelFd(passedAt, count); fd++) if (stdio[fd] === undefined || stdio[fd] === 'ignore') stdio[fd] = placeholder;
  }
  // No holes (Node skips them, which would move the numbers after them); libuv leaves an
  // 'ignore' number as this process has it, and this process's own are close-on-exec.
  for (let fd = 0; fd < stdio.length; fd++) stdio[fd] ??= 'ignore';
  // Node's file, where the container's root could write it, as a read-only copy
  // (core/sealed-node.ts), which the relaunch is executed from: above every other
  // descriptor and above PARENT_STDERR_FD, which PID_NAMESPACE_PARENT's shell takes. One
  // this process cannot make (a user other than root may not: EPERM) is left to the
  // relaunch, which makes it in its own namespaces or says why it cannot.
  const sealed = sealNode ? sealedCopyOrNone(sys) : undefined;
  while (sealed !== undefined && stdio.length <= PARENT_STDERR_FD) stdio.push('ignore');
  const node = sealed === undefined ? process.execPath : `/proc/self/fd/${stdio.length}`;
  if (sealed !== undefined) stdio.push(sealed);
  // Whether the relaunch is rootless is this process's to say, whatever its own environment holds.
  const env: NodeJS.ProcessEnv = { ...nodeStartEnv(process.env), [RELAUNCHED_ENV]: cmd === 'nsenter' ? RELAUNCHED_WITH_NSENTER : '1' };
  delete env[ROOTLESS_ENV];
  if (rootfs.rootless) env[ROOTLESS_ENV] = '1';
  delete env[LISTEN_FDS_ENV];
  if (rootfs.listenFds) env[LISTEN_FDS_ENV] = String(rootfs.listenFds);
  if (vouchedCache !== undefined) env[SECCOMP_CACHE_VOUCHED_ENV] = vouchedCache;
  if (sealed !== undefined) env[NODE_PATH_ENV] = process.execPath;
  else env[RELAUNCH_FDS_ENV] = String(stdio.length);
  // The caller's socket is served here; the relaunch binds this process's into the container.
  delete env[NOTIFY_SOCKET_ENV];
  if (notify !== undefined) env[NOTIFY_DIR_ENV] = notify.dir;
  if (notifyTree !== undefined) env[NOTIFY_TREE_ENV] = '1';
  // This process's end of the console's socket: handed to the relay at the console event, which closes it.
  let consoleSocket = console;
  // What prepareRelaunch and the pid file opened here, closed once: when the relaunch did
  // not start, or once the run's hooks are done (the pid file is written after the
  // poststart hooks, which a short program may outlast).
  let opened = true;
  const releaseOpened = (): void => {
    if (!opened) return;
    opened = false;
    if (consoleSocket !== undefined) sys.close(consoleSocket);
    consoleSocket = undefined;
    closeIdmap(sys, idmap);
    if (pidFile !== undefined) sys.close(pidFile.dirFd);
  };
  return new Promise((resolve, reject) => {
    let child: import('child_process').ChildProcess;
    try {
      // In a session of its own from its start (`detached`: setsid(2) in the child before
      // its execve), as runc's init calls setsid in its C stage, before it prepares
      // anything: what is sent to this process's group (a terminal's Ctrl-C or hangup,
      // timeout(1)) never reaches it, and comes to the container passed on (forward.ts).
      // Ignoring or blocking the signals for it across execve(2) would not do: its Node
      // resets the ignored ones to their default and unblocks every one but SIGUSR1 as it
      // starts, before any script runs (PlatformInit), and a SIGINT or SIGHUP would end it
      // then. The container's session step finds it leading its session and process group
      // already, without a terminal (setsid: EPERM; /dev/tty: ENXIO), what setsid would
      // have made; a container it forks as PID 1 of a new pid namespace makes its own.
      child = spawn('/bin/sh', ['-c', IGNORING_PASSED_SIGNALS, 'sh', cmd, ...args, node, ...nodeStartOptions(process.execArgv), main, ...argv], { stdio, env, detached: true });
    } catch (err) {
      if (placeholder !== undefined) sys.close(placeholder);
      if (sealed !== undefined) sys.close(sealed);
      // A fork(2) that fails is thrown, not emitted.
      releaseOpened();
      held.release();
      watch?.release();
      notify?.close();
      reject(failure(err as NodeJS.ErrnoException));
      return;
    }
    // Before the event loop runs again: the orphans' reaper passes it over (core/node-children.ts).
    recordSpawned(child);
    if (placeholder !== undefined) sys.close(placeholder);
    if (sealed !== undefined) sys.close(sealed);
    // The relaunch holds its own descriptor of the copy it attaches.
    notify?.releaseTree();
    child.on('error', (err: NodeJS.ErrnoException) => reject(failure(err)));
    if (child.pid === undefined) {
      // Not started: no console comes.
      releaseOpened();
      held.release();
      watch?.release();
      notify?.close();
      return;
    }
    // MAINPID is this process's, which the service manager started, as runc run tells its own.
    notify?.start(process.pid);
    // Without a new pid namespace, unshare becomes mountkit and then the container itself.
    const spawned = child.pid;
    const direct = !relaunchForks(plan);
    // What the kernel gives this subreaper (a hook's background process) is reaped as it ends, to the run's end (orphans.ts).
    reaper?.start();
    // The relaunch holds the channel on RELAUNCH_STARTER_FD, and last on the number it moves it to when descriptors are passed (handOverPassed).
    const channelFds = count ? [RELAUNCH_STARTER_FD, relaunchChannelFd(passedAt, count)] : [RELAUNCH_STARTER_FD];
    watch?.arm(spawned, !direct, channelFds);
    let relay: ConsoleRelay | undefined;
    const takeConsole = (): void => {
      const socket = consoleSocket!;
      consoleSocket = undefined;
      relay = relayConsole(sys, socket);
    };
    const container = new ContainerProcess(sys, spawned, direct, () => child.exitCode !== null || child.signalCode !== null);
    // The poststart hooks' pid and the pid file's; the exec event comes on every run, these only with them.
    const needsPid = (rootfs.hooks.poststart ?? []).length > 0 || pidFile !== undefined;
    // Found before its program can start, where it is not the process spawned.
    const find = !direct && needsPid ? () => void container.foundPid() : undefined;
    passConfig((child.stdio as unknown as import('net').Socket[])[CONFIG_FD], text, find);
    const channel = (child.stdio as unknown as import('net').Socket[])[RELAUNCH_STARTER_FD];
    // Sent last before the container's execve(2): a kill of the relaunch before it is a
    // failed start. From then on nothing is waited for here (orphans.ts), and this process
    // is a subreaper no more; what it was given and has ended is reaped then.
    const started = execEventSeen(channel, () => reaper?.programStarted());
    // Its end here: every copy of the relaunch's end is closed, the relaunch's at the
    // container's execve or its own end, and the watch has nothing left to do (the shell
    // that forks a container in a new pid namespace holds a copy until its own end).
    channel.on('end', () => watch?.release());
    const runtime = serveRuntimeChannel(channel, {
      sys,
      config: rootfs,
      container: () => container.pid(),
      poststartPid: () => (needsPid ? container.foundPid() : undefined),
      // What poststartPid() found (cli/container-process.ts) is the process they were given.
      kill: () => container.stop(),
      warn,
      ...(console === undefined ? {} : { console: takeConsole }),
      // Asked by the relaunched process before its execve: the container is the process asking.
      ...(idmap === undefined ? {} : { idmap: (mount: number) => container.inNamespaceOf((fd) => idmapCopy(sys, rootfs, mount, fd, idmap, () => container.stop())) }),
      runAsync: (cmd) => sys.runCommandAsync(cmd),
      ...(pidFile === undefined ? {} : { started: (pid: number | undefined) => writeStarterPidFile(sys, pidFile, pid) }),
    });
    const stop = passSignals(container, spawned, channelFds, held);
    // Once the container has ended, the signals passed on are ignored to the end, poststop
    // hooks and all, as runc's own handler keeps them from ending it while it destroys the
    // container. Added before passing on stops: a signal without a listener has its
    // default action again.
    child.on('exit', () => {
      for (const sig of PASSED_SIGNALS) process.on(sig, ignoreSignal);
      stop();
      watch?.release();
      notify?.end();
    });
    // After the exit, once the runtime channel and the config's socket have closed: the
    // relaunch closed them, and unshare(1), which holds copies, has ended too.
    child.on('close', (status, signal) => {
      // The console's last output is copied and the host's terminal put back before the poststop hooks.
      relay?.end();
      container.close();
      const end = relaunchEnd({ status, signal }, !direct, started());
      // The run's status: the program's, or 128+N for the signal N that ended it.
      if (!('error' in end) && started()) info?.('the container ended', { status: end.status });
      // Killed before the program started: what it left running (a createContainer hook,
      // its children), made this process's children by the kernel, is waited for before
      // the poststop hooks, while it may still hold the container's mount namespace. A
      // relaunch that ended on its own (a failed step, a missing program) has waited for
      // its hooks itself; what they started in the background is theirs.
      if ('error' in end) reaper?.waitForOrphansOf(spawned);
      const ended = runtime.ended();
      void ended
        .finally(() => {
          reaper?.stop();
          releaseOpened();
        })
        .catch(() => undefined);
      ended.then((failure) => {
        if (failure) return reject(failure);
        if ('error' in end) reject(new Error(end.error));
        else resolve(end.status);
      }, reject);
    });
  });
}

/**
 * Gives the relaunch config.json's text on `socket` (CONFIG_FD), after its length
 * (config-frame.ts), which it reads to its end (configFromStarter) after writing one line
 * there first thing (greetStarter). The end comes at once, or, given `find`, once that
 * line has come and `find` has run: the
 * relaunch cannot go past the read before, so `find` runs while it is there, the one sure
 * moment for a container whose program ends as soon as it starts, before this process
 * reads the "exec" event, and is reaped at once by its parent (PID_NAMESPACE_PARENT).
 * What the line says is not read, only when it comes: the container is found in /proc,
 * as the child of the process spawned (cli/container-process.ts), as at any other look.
 * The line is read either way: one left unread would hold back the socket's end, and so
 * the run's ('close').
 */
function passConfig(socket: import('net').Socket, text: string, find?: () => void): void {
  // A relaunch that ends before reading it all closes its end; what is left is dropped.
  socket.on('error', () => undefined);
  const frame = configFrame(text);
  if (!find) {
    socket.on('data', () => undefined);
    socket.end(frame);
    return;
  }
  socket.write(frame);
  socket.once('data', () => {
    find();
    socket.on('data', () => undefined);
    socket.end();
  });
}

/**
 * What the process that prepares the rootfs is told of --pid-file: where a runtime
 * channel was passed (a relaunch's, always, or bin/mountkit's hooks relay's), that the
 * process at its other end writes it (RootfsConfig.pidFileByStarter); otherwise it becomes the container's
 * process and writes it itself, with its own pid as the caller sees it and the mode the
 * caller's umask gives (callerView), its directory opened now, before any namespace.
 */
function pidFileHere(sys: Syscalls, opts: CliOptions, channel: number | undefined): Pick<RootfsConfig, 'pidFile' | 'pidFileByStarter'> {
  if (opts.pidFile === undefined) return {};
  if (channel !== undefined) return { pidFileByStarter: true };
  const file = path.resolve(opts.pidFile);
  const { pid, umask } = callerView(readFileSync('/proc/self/status', 'utf8'));
  return { pidFile: { path: file, dirFd: openPidFileDir(sys, file), pid, mode: PID_FILE_MODE & ~umask } };
}

export { exitStatus } from './relaunch-end';

/**
 * Loads the plugin list and has it check `config` (Orchestrator.checkConfig: the claims,
 * then each plugin's validate), as the run that loads it will; the kernel is dropped.
 * What the plugins log meanwhile is told only where the check fails (held-log.ts): the
 * relaunch logs it again.
 */
function checkWithPlugins(config: RootfsConfig, list: ReturnType<typeof pluginsFromFile>, sys: Syscalls, logger: Logger): void {
  const { createKernel } = require('../core/kernel') as typeof import('../core/kernel');
  const held = heldLog(logger);
  try {
    createKernel({ syscalls: sys, logger: held.logger, ...list }).orchestrator.checkConfig(config);
  } catch (err) {
    held.flush();
    throw err;
  }
}

/**
 * Loads the plugins (requires are done before any namespace change: after the jail no
 * module file is reachable), checks the list's claims and has the plugins check the config (validate),
 * enters the namespaces on the main thread and runs the pipeline. The exec plugin replaces
 * the process; without it, the run ends here.
 */
function runHere(given: RootfsConfig, plan: LaunchPlan, opts: CliOptions, sys: Syscalls): number {
  const { createKernel } = require('../core/kernel') as typeof import('../core/kernel');
  // Opened here unless its starter passed it (a relaunch's): plan shows the open where the run makes it.
  if (opts.log && !logFds.has(opts)) openLogFile(sys, opts, path.resolve(opts.log));
  const logger = cliLogger(opts);
  // After the --log file, as the plan shows them.
  const config = { ...given, ...pidFileHere(sys, opts, given.runtimeChannel) };
  const maps = mapsBesidePath(config);
  if (maps) logger.warn(maps);
  for (const warning of [unappliedResourcesWarning(config), deviceAccessWarning(config, () => inInitialUserNamespaceHere(sys))]) if (warning) logger.warn(warning);
  const kernel = createKernel({ syscalls: sys, logger, ...pluginsFromFile(opts.plugins) });
  // Refused before the namespaces are entered, as the orchestrator would refuse it before its first step.
  kernel.orchestrator.checkConfig(config);

  enterNamespaces(sys, plan, config.timeOffsets);
  logger.debug('namespaces entered', { joins: plan.joins.map((j) => j.type), unshare: namespaceTypes(plan.unshareFlags) });
  kernel.orchestrator.run(config);
  return 0;
}
