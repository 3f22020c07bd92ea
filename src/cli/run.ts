/**
 * `mountkit run`: the OCI bundle end to end. The first stage loads and checks the config
 * with nothing but the loader; when the container needs a new pid namespace it starts
 * mountkit again, once, under unshare(1) (see core/namespaces.ts), otherwise it goes on
 * in this process: plugins, namespaces, the pipeline, and execve into the container.
 */
import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import { constants } from 'os';
import * as path from 'path';
import type { RootfsConfig } from '../core/config/model';
import { loadBundle } from '../core/config/oci';
import { CLONE_NEWNS, O_CLOEXEC, O_RDONLY } from '../core/constants';
import { ConfigError } from '../core/errors';
import { planLaunch, userNamespaceProblem, type LaunchPlan } from '../core/namespaces';
import type { CliOptions } from './args';

/** Set in the environment of the process mountkit re-executed itself as. */
export const RELAUNCHED_ENV = 'MOUNTKIT_RELAUNCHED';

/** CLONE_FS: setns(2) into a mount namespace needs a filesystem context of the thread's own. */
const CLONE_FS = 0x200;

export function loadRunConfig(opts: CliOptions): RootfsConfig {
  const config = loadBundle(path.resolve(opts.bundle));
  if (config.process.args.length === 0) throw new ConfigError('process.args', undefined, 'must name the program to run');
  return { ...config, noPivot: opts.noPivot };
}

/** Not in a user namespace when uid_map is the identity map of the initial namespace (user_namespaces(7)). */
export function inInitialUserNamespace(uidMap: string): boolean {
  return /^\s*0\s+0\s+4294967295\s*$/.test(uidMap);
}

export function run(opts: CliOptions, argv: readonly string[]): number {
  const config = loadRunConfig(opts);
  const launch = {
    relaunched: process.env[RELAUNCHED_ENV] === '1',
    inUserNamespace: !inInitialUserNamespace(readFileSync('/proc/self/uid_map', 'utf8')),
  };
  const problem = userNamespaceProblem(config.namespaces, launch);
  if (problem) throw new ConfigError('linux.namespaces', 'user', problem);
  const plan = planLaunch(config.namespaces, launch);
  return plan.relaunch.length ? relaunch(plan, argv) : runHere(config, plan, opts);
}

/** Starts mountkit again under the launcher; its exit status (the container's) is ours. */
function relaunch(plan: LaunchPlan, argv: readonly string[]): number {
  const [cmd, ...args] = plan.relaunch;
  const main = path.resolve(__dirname, '..', '..', 'bin', 'mountkit.js');
  const r = spawnSync(cmd, [...args, process.execPath, ...process.execArgv, main, ...argv], {
    stdio: 'inherit',
    env: { ...process.env, [RELAUNCHED_ENV]: '1' },
  });
  if (r.error) throw r.error;
  return exitStatus(r.status, r.signal);
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
function runHere(config: RootfsConfig, plan: LaunchPlan, opts: CliOptions): number {
  const { createKernel, readPluginsFile, DEFAULT_PLUGINS_FILE } = require('../core/kernel') as typeof import('../core/kernel');
  const { createLogger } = require('../core/logger') as typeof import('../core/logger');
  const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
  const logger = createLogger({ level: opts.logLevel, format: opts.logFormat, file: opts.log && path.resolve(opts.log) });
  const pluginsFile = opts.plugins ? path.resolve(opts.plugins) : DEFAULT_PLUGINS_FILE;
  const sys = new LinuxSyscalls();
  const kernel = createKernel({ syscalls: sys, logger, plugins: readPluginsFile(pluginsFile), baseDir: path.dirname(pluginsFile) });

  for (const join of plan.joins) {
    if (join.flag === CLONE_NEWNS) sys.unshare(CLONE_FS);
    const fd = sys.open(join.path, O_RDONLY | O_CLOEXEC, 0);
    sys.setns(fd, join.flag);
    sys.close(fd);
  }
  if (plan.unshareFlags) sys.unshare(plan.unshareFlags);
  logger.debug('namespaces entered', { joins: plan.joins.map((j) => j.type), unshare: plan.unshareFlags });
  kernel.orchestrator.run(config);
  return 0;
}
