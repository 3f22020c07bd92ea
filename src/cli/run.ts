/**
 * `mountkit run`: the OCI bundle end to end. The first stage loads and checks the config
 * with nothing but the loader and the host checks (core/config/validate.ts); when the
 * container needs a new pid namespace, or a user namespace to make or join, it starts
 * mountkit again, once, under unshare(1) (and nsenter(1) for a user namespace; see
 * core/namespaces.ts), otherwise it goes on in this process: plugins, namespaces, the
 * pipeline, and execve into the container.
 */
import { closeSync, fstatSync, readFileSync, readSync, writeSync } from 'fs';
import { constants } from 'os';
import * as path from 'path';
import type { RootfsConfig } from '../core/config/model';
import { bundleConfigText, loadBundle } from '../core/config/oci';
import { validateConfig } from '../core/config/validate';
import { CLONE_NEWPID, O_CLOEXEC, O_RDONLY } from '../core/constants';
import { ConfigError, naming } from '../core/errors';
import {
  checkUserNamespaceMaps,
  enterNamespaces,
  inInitialUserNamespace,
  launcherGuessHolds,
  planLaunch,
  RELAUNCH_USERNS_FD,
  startedByMountkit,
  userNamespaceProblem,
  type LaunchContext,
  type LaunchPlan,
} from '../core/namespaces';
import { hostSocketPaths, type HostSocketRole } from '../core/host-sockets';
import { presetOomScore } from '../core/oom-score';
import type { Logger } from '../core/plugin';
import type { Syscalls } from '../core/syscalls/types';
import type { CliOptions } from './args';
import { PASSED_SIGNALS, passSignals } from './forward';
import { nodeStartEnv } from './node-env';
import { starterIgnoredSignals } from './signals';

/**
 * Set in the environment of the process mountkit re-executed itself as: `1` under
 * unshare(1), `nsenter` under nsenter(1) too (LaunchContext.joinedByLauncher).
 */
export const RELAUNCHED_ENV = 'MOUNTKIT_RELAUNCHED';

/** The value of RELAUNCHED_ENV for a relaunch under nsenter(1). */
const RELAUNCHED_WITH_NSENTER = 'nsenter';

export function loadRunConfig(opts: CliOptions, text?: string): RootfsConfig {
  const config = loadBundle(path.resolve(opts.bundle), text);
  if (config.process.args.length === 0) throw new ConfigError('process.args', undefined, 'must name the program to run');
  return { ...config, noPivot: opts.noPivot, ...(opts.consoleSocket === undefined ? {} : { consoleSocket: path.resolve(opts.consoleSocket) }) };
}

export { inInitialUserNamespace };

/**
 * Set by the bin/mountkit shell launcher when it started Node inside new pid and mount
 * namespaces: the descriptor on which this process asks it to start Node again without
 * them, when the config turns out not to want a new pid namespace.
 */
export const LAUNCHER_FD_ENV = 'MOUNTKIT_LAUNCHER_FD';

/** Where this process stands: relaunched by mountkit or not, in a user namespace or not. */
export function currentLaunchContext(): LaunchContext {
  const relaunched = process.env[RELAUNCHED_ENV];
  return {
    relaunched: relaunched === '1' || relaunched === RELAUNCHED_WITH_NSENTER,
    inUserNamespace: !inInitialUserNamespace(readFileSync('/proc/self/uid_map', 'utf8')),
    startedInPidNamespace: process.env[LAUNCHER_FD_ENV] !== undefined,
    joinedByLauncher: relaunched === RELAUNCHED_WITH_NSENTER,
    euid: process.geteuid?.(),
  };
}

/** The logger the CLI's options ask for. */
function cliLogger(opts: CliOptions): Logger {
  const { createLogger } = require('../core/logger') as typeof import('../core/logger');
  return createLogger({ level: opts.logLevel, format: opts.logFormat, file: opts.log && path.resolve(opts.log) });
}

/**
 * The run's exit status; a promise when mountkit started itself again and waits for
 * that process (the container's status), passing signals on meanwhile.
 */
export function run(opts: CliOptions, argv: readonly string[]): number | Promise<number> {
  // Node opens its inspector on SIGUSR1 unless a listener takes it. Held by bin/mountkit
  // or the relaunch until the container has started; here, before it, it is dropped.
  process.on('SIGUSR1', ignoreSignal);
  // The relaunched process runs the config its starter read and checked: config.json may
  // have changed since, or be out of its reach (a user namespace's root may not read it).
  const launch = currentLaunchContext();
  const text = launch.relaunched ? configFromStarter() : bundleConfigText(opts.bundle);
  const config = loadRunConfig(opts, text);
  // A new user namespace's descriptor: nsenter(1) has entered it, and hooks must not get it.
  if (launch.joinedByLauncher && config.namespaces.some((ns) => ns.type === 'user' && !ns.path)) closeSync(RELAUNCH_USERNS_FD);
  const launcherFd = process.env[LAUNCHER_FD_ENV];
  if (launcherFd !== undefined && !launcherGuessHolds(config.namespaces, launch)) {
    // Nothing has been done yet: the launcher starts Node again, outside these namespaces.
    writeSync(Number(launcherFd), 'again\n');
    return 0;
  }
  const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
  const sys = new LinuxSyscalls({
    ignoredOnExec: starterIgnoredSignals(process.env),
    seccompCache: opts.seccompCache === 'off' ? undefined : opts.seccompCache,
  });
  // Sockets its starter connected for a process it put in a user namespace (host-sockets.ts).
  const hostSockets = launch.joinedByLauncher ? takeHostSockets(config, sys) : undefined;
  if (launch.relaunched) {
    // The process that started this one passes signals on once the container has started
    // (forward.ts); one sent to the whole process group meanwhile must not end this one,
    // which in a pid namespace joined by path is not its PID 1. execve resets the handlers.
    for (const sig of PASSED_SIGNALS) process.on(sig, ignoreSignal);
  }
  // Checked against the host as mountkit found it, before any namespace is entered; the
  // relaunched process already sits in the new namespaces, and its parent checked.
  if (!launch.relaunched) validateConfig(config, sys);
  const problem = userNamespaceProblem(config.namespaces, launch, config);
  if (problem) throw new ConfigError('linux.namespaces', 'user', problem);
  const mapsWarning = checkUserNamespaceMaps(config, launch, (file) => readFileSync(file, 'utf8'));
  const plan = planLaunch(config.namespaces, launch, config);
  if (!plan.relaunch.length) return runHere({ ...config, newSession: startedByMountkit(launch, plan), ...(hostSockets ? { hostSockets } : {}) }, plan, opts, sys, mapsWarning);
  if (mapsWarning) cliLogger(opts).warn(mapsWarning);
  // A new user namespace is made here, maps written, and entered by the relaunch through
  // its descriptor; made before a pid namespace is joined, so its helper is not made there.
  const maps = plan.userMappings;
  const userns = maps && naming("the container's user namespace", () => sys.userNamespace(maps.uid, maps.gid));
  const sockets: number[] = [];
  let ownOomScore: (() => void) | undefined;
  try {
    // Connected and written here, from the host, for a relaunch into a user namespace
    // (host-sockets.ts, presetOomScore).
    if (plan.relaunch[0] === 'nsenter') {
      for (const [role, socket] of hostSocketPaths(config)) sockets.push(naming(SOCKET_FIELDS[role], () => sys.connectUnix(socket)));
      const adj = config.process.oomScoreAdj;
      if (adj !== undefined) ownOomScore = presetOomScore(sys, adj);
    }
    return relaunchFrom({ plan, argv, text, userns, sockets }, sys);
  } finally {
    // The relaunch has its own copies, or failed to start.
    for (const fd of [...(userns === undefined ? [] : [userns]), ...sockets]) sys.close(fd);
    ownOomScore?.();
  }
}

/** The fields that name each socket in errors. */
const SOCKET_FIELDS: Record<HostSocketRole, string> = { console: '--console-socket', seccompAgent: 'linux.seccomp.listenerPath' };

/** The first descriptor a relaunch into a user namespace gets the host's sockets on, in hostSocketPaths' order. */
const FIRST_HOST_SOCKET_FD = 6;

/** In a process relaunched into a user namespace: the sockets its starter connected, each checked and marked close-on-exec (hooks must not get them). */
function takeHostSockets(config: RootfsConfig, sys: Syscalls): RootfsConfig['hostSockets'] {
  const taken: NonNullable<RootfsConfig['hostSockets']> = {};
  hostSocketPaths(config).forEach(([role, socket], i) => {
    const fd = FIRST_HOST_SOCKET_FD + i;
    if (!isSocket(fd)) throw new ConfigError(SOCKET_FIELDS[role], socket, `was not passed on descriptor ${fd} by the process that started mountkit`);
    sys.setCloexec(fd);
    taken[role] = fd;
  });
  return taken;
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

/** What a relaunch is given: the plan, the CLI's arguments, config.json as read, a new user namespace's descriptor, the host's sockets. */
interface Relaunch {
  plan: LaunchPlan;
  argv: readonly string[];
  text: string;
  userns: number | undefined;
  sockets: number[];
}

/** The relaunch, from the pid namespace the plan joins by path when it joins one. */
function relaunchFrom(launch: Relaunch, sys: Syscalls): Promise<number> {
  const { plan } = launch;
  if (!plan.joins.length) return relaunch(launch);
  // A pid namespace joined by path: setns(2) makes this thread's children in it
  // (pid_namespaces(7)), the relaunch among them. While it does, the kernel refuses to
  // start a thread (clone(2): EINVAL), which libuv does on its pool's first use, so the
  // thread goes back to its own pid namespace right after the spawn.
  const own = sys.open('/proc/thread-self/ns/pid', O_RDONLY | O_CLOEXEC, 0);
  try {
    enterNamespaces(sys, plan);
    return relaunch(launch);
  } finally {
    sys.setns(own, CLONE_NEWPID);
    sys.close(own);
  }
}

function ignoreSignal(): void {}

/** The relaunched process's descriptor with config.json's text (relaunch). */
const CONFIG_FD = 5;

/** In the relaunched process: config.json's text as its starter read it, from CONFIG_FD to its end, which is closed then. */
function configFromStarter(): string {
  if (!isSocket(CONFIG_FD)) throw new Error(`${RELAUNCHED_ENV} is set, which only mountkit's own relaunch sets: descriptor ${CONFIG_FD} is not the config it passes`);
  const chunks: Buffer[] = [];
  const buf = Buffer.alloc(64 * 1024);
  try {
    for (let n; (n = readSync(CONFIG_FD, buf, 0, buf.length, null)) > 0; ) chunks.push(Buffer.from(buf.subarray(0, n)));
  } finally {
    closeSync(CONFIG_FD);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The relaunch starts with the signals passed on ignored: one sent to the whole process
 * group (a terminal's hangup or Ctrl-\, timeout(1)) would end unshare --fork, whose end
 * kills the container. The relaunched Node resets the standard signals it inherited
 * ignored when it starts; unshare restores a signal that ended the container before
 * ending itself with it.
 */
const IGNORING_PASSED_SIGNALS = `trap '' ${PASSED_SIGNALS.map((sig) => sig.slice(3)).join(' ')}
command -v "$1" >/dev/null || { echo "mountkit: $1 (util-linux) is not found in PATH" >&2; exit 1; }
exec "$@"`;

/**
 * Starts mountkit again under the launcher and passes signals on to the container
 * (forward.ts); its exit status (the container's) is ours. Its descriptor 3, a socket
 * nothing reads, tells when the container's program has started: mountkit holds it
 * until its execve(2) closes it. A new user namespace's descriptor `userns` is its
 * RELAUNCH_USERNS_FD, which mountkit closes first; config.json's text comes on CONFIG_FD,
 * written here, read to its end there (configFromStarter); the host's `sockets` come from
 * FIRST_HOST_SOCKET_FD on (takeHostSockets).
 */
function relaunch({ plan, argv, text, userns, sockets }: Relaunch): Promise<number> {
  const [cmd, ...args] = plan.relaunch;
  const main = path.resolve(__dirname, '..', '..', 'bin', 'mountkit.js');
  // Required here: child_process loads Node's net and stream modules (about 7 ms), which a run that needs no relaunch never uses.
  const { spawn } = require('child_process') as typeof import('child_process');
  // fork(2) into a pid namespace whose init has exited fails with ENOMEM (pid_namespaces(7)).
  const pidJoin = plan.joins.find((j) => j.flag === CLONE_NEWPID);
  const failure = (err: NodeJS.ErrnoException): Error =>
    err.code === 'ENOMEM' && pidJoin ? new ConfigError('linux.namespaces', pidJoin.path, 'the pid namespace has no init process left (fork: ENOMEM)') : err;
  const stdio: ('inherit' | 'pipe' | 'ignore' | number)[] = ['inherit', 'inherit', 'inherit', 'pipe', 'ignore', 'pipe'];
  if (userns !== undefined) stdio[RELAUNCH_USERNS_FD] = userns;
  sockets.forEach((fd, i) => (stdio[FIRST_HOST_SOCKET_FD + i] = fd));
  return new Promise((resolve, reject) => {
    let child: import('child_process').ChildProcess;
    try {
      child = spawn('/bin/sh', ['-c', IGNORING_PASSED_SIGNALS, 'sh', cmd, ...args, process.execPath, ...process.execArgv, main, ...argv], {
        stdio,
        env: { ...nodeStartEnv(process.env), [RELAUNCHED_ENV]: cmd === 'nsenter' ? RELAUNCHED_WITH_NSENTER : '1' },
      });
    } catch (err) {
      // A fork(2) that fails is thrown, not emitted.
      reject(failure(err as NodeJS.ErrnoException));
      return;
    }
    child.on('error', (err: NodeJS.ErrnoException) => reject(failure(err)));
    if (child.pid === undefined) return;
    const config = (child.stdio as unknown as import('stream').Writable[])[CONFIG_FD];
    // A relaunch that ends before reading it all closes its end; what is left is dropped.
    config.on('error', () => undefined);
    config.end(text);
    // Without --fork, unshare becomes mountkit and then the container itself.
    const stop = passSignals(child.pid, !plan.relaunch.includes('--fork'));
    child.on('exit', (status, signal) => {
      stop();
      child.stdio[3]?.destroy();
      resolve(exitStatus(status, signal));
    });
  });
}

/** A child's status as ours; one killed by a signal gives 128+N, as a shell reports it. */
export function exitStatus(status: number | null, signal: NodeJS.Signals | null): number {
  return status ?? 128 + (signal ? constants.signals[signal] : 0);
}

/**
 * Loads the plugins (requires are done before any namespace change: after the jail no
 * module file is reachable), enters the namespaces on the main thread and runs the
 * pipeline. The exec plugin replaces the process; without it, the run ends here.
 */
function runHere(config: RootfsConfig, plan: LaunchPlan, opts: CliOptions, sys: Syscalls, warning?: string): number {
  const { createKernel, pluginsFromFile } = require('../core/kernel') as typeof import('../core/kernel');
  const logger = cliLogger(opts);
  if (warning) logger.warn(warning);
  const kernel = createKernel({ syscalls: sys, logger, ...pluginsFromFile(opts.plugins) });

  enterNamespaces(sys, plan, config.timeOffsets);
  logger.debug('namespaces entered', { joins: plan.joins.map((j) => j.type), unshare: plan.unshareFlags });
  kernel.orchestrator.run(config);
  return 0;
}
