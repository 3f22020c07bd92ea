/**
 * `mountkit plan`: prints the calls `mountkit run` would make for the bundle, in order,
 * each with its phase and plugin, as text (one line per call) or JSON (core/plan). It
 * runs the real plugins on a port that performs nothing, so it needs no privilege and
 * changes nothing. A step that would fail ends the plan: the calls up to it are printed,
 * the error goes to stderr, and the exit status is the one `run` would have. A plugin
 * list run refuses before any namespace (core/claims.ts builtinListRefusal) prints no plan.
 * With --embedded, the calls runPipeline would make instead (api/pipeline.ts), in a
 * process already in the bundle's namespaces: the --log file is then only the plan's own
 * log, and a refused plugin list is thrown before any call, as runPipeline throws it.
 */
import { readFileSync } from 'fs';
import path = require('path');
import { PID_FILE_MODE, callerView } from '../core/pid-file';
import type { CliOptions } from './args';
import { CLOSED_FD_ENV, closedByLauncher, listenFdsOf } from '../core/passed-fds';
import { builtinListRefusal } from '../core/claims';
import { thrownMessage } from '../core/errors';
import { NOTIFY_SOCKET_ENV } from '../core/notify-socket';
import { cliLogger, loadRunConfig } from './run';
import { standardStream } from './output';

export function plan(opts: CliOptions): number {
  const { buildPlan } = require('../core/plan') as typeof import('../core/plan');
  const { pluginsFromFile } = require('../core/kernel') as typeof import('../core/kernel');
  // Socket activation as run would count it in this process (core/passed-fds.ts).
  const loaded = loadRunConfig(opts, undefined, listenFdsOf(process.env, process.pid));
  // The caller's sd_notify(3) socket, which run's first process would serve (core/notify-socket.ts); runPipeline serves none.
  const notifySocket = opts.embedded ? undefined : process.env[NOTIFY_SOCKET_ENV] || undefined;
  const config = notifySocket === undefined ? loaded : { ...loaded, notifySocket };
  // A descriptor the caller had closed, which bin/mountkit found before Node took numbers of its own: the plan ends there, as the run does.
  const closedFd = closedByLauncher(process.env, process.pid);
  delete process.env[CLOSED_FD_ENV];
  const logger = cliLogger(opts);
  // The --log file the run would open and pass on, which this process's logger has open already.
  const log = opts.log ? path.resolve(opts.log) : undefined;
  // The --pid-file the run would write, with the mode the caller's umask gives it.
  const pidFile = opts.pidFile === undefined ? undefined : { path: path.resolve(opts.pidFile), mode: PID_FILE_MODE & ~callerView(readFileSync('/proc/self/status', 'utf8')).umask };
  if (opts.embedded) {
    const result = (require('../api/pipeline') as typeof import('../api/pipeline')).plan(config, { mode: 'embedded', logger, queries: opts.queries, ...(opts.plugins === undefined ? {} : { plugins: opts.plugins }) });
    return printed(result, opts.format);
  }
  const list = pluginsFromFile(opts.plugins);
  // The maps of a user namespace mountkit does not make, which run's first process reads and checks (and its relay takes).
  const result = buildPlan(config, { logger, modelChecked: true, closedFd, queries: opts.queries, readUserNamespaceMaps: (file) => readFileSync(file, 'utf8'), ...(log === undefined ? {} : { log }), ...(pidFile === undefined ? {} : { pidFile }), ...list });
  // The plan ends at the claims' refusal before the namespaces are entered, after a
  // relaunch's calls (the relaunched process checks them); run refuses a list of built-ins
  // before any of those (cli/run.ts), and so does the plan, unprinted.
  const refused = result.error === undefined ? undefined : builtinListRefusal(config, list.plugins.plugins);
  if (refused && refused.message === thrownMessage(result.error)) throw refused;
  return printed(result, opts.format);
}

/** Prints `result` in `format`; 0, or its error thrown. */
function printed(result: import('../core/plan').Plan, format: CliOptions['format']): number {
  const { formatPlanText, planToJson } = require('../core/plan') as typeof import('../core/plan');
  standardStream('stdout').write(format === 'json' ? JSON.stringify(planToJson(result), null, 2) + '\n' : formatPlanText(result));
  if (result.error === undefined) return 0;
  throw result.error;
}
