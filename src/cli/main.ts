import { closeSync, readFileSync } from 'fs';
import path = require('path');
import { ConfigError, MountkitError, firstLine, syscallErrorStacks, thrownMessage } from '../core/errors';
import { parseArgs, USAGE, type CliOptions } from './args';
import { takeCallerEnv, type CopyPort } from './caller-env';
import { CONSOLE_RELAY_ENV, relayTarget, serveLauncherConsole } from './console-relay';
import { restoreCaCertsEnv } from './node-env';
import { standardStream, written } from './output';
import { plan } from './plan';
import { cliLogger, cliStderr, loadRunConfig, run } from './run';
import { HOOKS_RELAY_ENV, serveLauncherHooks, type HooksRelayRun } from './hooks-relay';

export function version(): string {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/** The copy's descriptor, read with Node's fs before any port is made. */
const descriptors: CopyPort = { readAll: (fd) => readFileSync(fd), close: closeSync };

/**
 * Runs the CLI and returns its exit status, or a promise of it when `run` waits for a
 * process it started or its output waits to be written (output.ts): the process may end
 * then, whatever a plugin module left open. Errors print one line; the stack only at
 * debug level.
 */
export function main(argv: readonly string[]): number | Promise<number> {
  const status = command(argv);
  return typeof status === 'number' ? written(status) : status.then(written);
}

function command(argv: readonly string[]): number | Promise<number> {
  // The console relay bin/mountkit starts beside a run (console-relay.ts serveLauncherConsole): no command of its own.
  const relay = process.env[CONSOLE_RELAY_ENV];
  if (relay !== undefined) {
    delete process.env[CONSOLE_RELAY_ENV];
    const target = relayTarget(relay);
    if (target) {
      const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
      return serveLauncherConsole(new LinuxSyscalls(), target.pid, target.dir);
    }
  }
  let opts: CliOptions | undefined;
  // The hooks relay bin/mountkit starts beside a run, with the run's arguments
  // (hooks-relay.ts serveLauncherHooks): taken before the caller's environment replaces
  // this one. It never runs the container itself.
  const hooksRelay = process.env[HOOKS_RELAY_ENV];
  delete process.env[HOOKS_RELAY_ENV];
  // The caller's environment, where bin/mountkit's shell copied it (caller-env.ts), before anything reads this one.
  try {
    takeCallerEnv(process.env, process.pid, descriptors);
  } catch (err) {
    // The hooks relay says nothing and listens for no run: the run's Node leaves the run to the Node entry, whose own copy says what failed.
    return hooksRelay === undefined ? reportError(err, false) : 0;
  }
  restoreCaCertsEnv(process.env);
  if (hooksRelay !== undefined) {
    const target = relayTarget(hooksRelay);
    if (!target) return reportError(new ConfigError(HOOKS_RELAY_ENV, hooksRelay, 'must be PID:DIR, as bin/mountkit sets it'), false);
    return hooksRelayStatus(argv, target);
  }
  try {
    opts = parseArgs(argv);
    syscallErrorStacks(opts.logLevel === 'debug');
    if (opts.version) {
      standardStream('stdout').write(`mountkit ${version()}\n`);
      return 0;
    }
    if (opts.help || opts.command === undefined || opts.command === 'help') {
      standardStream('stdout').write(USAGE + '\n');
      return 0;
    }
    if (opts.command === 'run') {
      const status = run(opts, argv);
      if (typeof status === 'number') return status;
      const debug = opts.logLevel === 'debug';
      const options = opts;
      return status.catch((err: unknown) => reportError(err, debug, options));
    }
    if (opts.command === 'plan') return plan(opts);
    const unknown = `unknown command ${JSON.stringify(opts.command)} (see mountkit --help)`;
    if (!(opts.logFormat === 'json' && !opts.log && logError(opts, unknown))) standardStream('stderr').write(`mountkit: ${unknown}\n`);
    return 2;
  } catch (err) {
    return reportError(err, opts?.logLevel === 'debug', opts);
  }
}

/**
 * The hooks relay's run (serveLauncherHooks) for `argv`, the run's arguments: a config it
 * cannot read, or a --pid-file whose directory it cannot open, ends it at once, with 0 and
 * nothing said (the run's Node says what is wrong); the error it ends with otherwise is
 * told as the run's own.
 */
function hooksRelayStatus(argv: readonly string[], target: { pid: number; dir: string }): number | Promise<number> {
  let run: HooksRelayRun;
  try {
    const opts = parseArgs(argv);
    run = { opts, config: loadRunConfig(opts) };
  } catch {
    return 0;
  }
  const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
  const { markCloseOnExec } = require('../core/cloexec') as typeof import('../core/cloexec');
  const { FIRST_INHERITED_FD } = require('../core/relaunch') as typeof import('../core/relaunch');
  const sys = new LinuxSyscalls();
  if (run.opts.pidFile !== undefined) {
    const { starterPidFile } = require('../core/pid-file') as typeof import('../core/pid-file');
    try {
      run.pidFile = starterPidFile(sys, path.resolve(run.opts.pidFile));
    } catch {
      return 0;
    }
  }
  // The hooks get none of the caller's descriptors, as runc's get none of runc's.
  markCloseOnExec(sys, FIRST_INHERITED_FD);
  const debug = run.opts.logLevel === 'debug';
  return serveLauncherHooks(sys, target.pid, target.dir, run, (message) => cliLogger(run.opts).warn(message)).catch((err: unknown) => reportError(err, debug, run.opts));
}

/**
 * The error on one line (its message's first, and how many more); at debug level its
 * whole message, then its stack and every cause's (a plugin's own frames, a module's
 * syntax error with its file and line, are in the cause). With --log, the file gets the same message as an error
 * line, as runc writes its own to its log.
 */
export function reportError(err: unknown, debug: boolean, opts?: CliOptions): number {
  const message = thrownMessage(err);
  const told = debug ? message : oneLine(message);
  const status = err instanceof MountkitError ? err.exitCode : 1;
  // Set before anything is written: a write that fails ends the CLI with this status (bin/mountkit.js).
  process.exitCode = status;
  // With --log-format json and no --log file, stderr is the log, and the error one JSON
  // line of it (its stack traces a field), as runc writes its error through its logger
  // there; beside a file, stderr has the text line.
  if (opts?.logFormat === 'json' && !opts.log && logError(opts, told, debug && err instanceof Error ? { stack: stacks(err).join('\n') } : undefined)) return status;
  const say = errorOutput(opts);
  say(`mountkit: ${told}`);
  // The log has the line without the hint, which is about this command's own output.
  if (opts?.log) logError(opts, debug ? message : firstLine(message.trimStart()));
  if (debug) for (const stack of stacks(err)) say(stack);
  return status;
}

/** The stack traces of an error and of each cause under it, for the debug level. */
function stacks(err: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
    seen.add(e);
    out.push(`${e === err ? '' : 'Caused by: '}${e.stack ?? e.message}`);
  }
  return out;
}

/**
 * Writes the lines of an error: to process.stderr, or where `run` kept a copy of its
 * stderr (cliStderr) to that copy, with write(2): descriptor 2 may be the container's
 * terminal by then, and Node's stream for it would be made there. A write to the copy
 * that fails drops the later lines, as the logger's does.
 */
function errorOutput(opts: CliOptions | undefined): (line: string) => void {
  const kept = opts && cliStderr(opts);
  if (kept === undefined) return (line) => standardStream('stderr').write(`${line}\n`);
  const { lineWriter } = require('../core/logger') as typeof import('../core/logger');
  return lineWriter(kept);
}

/** A message's first line, saying how many more the debug level shows (a plugin's message, a hook's output). */
export function oneLine(message: string): string {
  const whole = message.trim();
  const first = firstLine(whole);
  if (first === whole) return first;
  const more = whole.slice(first.length + 1).split('\n').length;
  return `${first} (${more} more ${more === 1 ? 'line' : 'lines'} at --log-level debug)`;
}

/**
 * Through the run's own logger, which opened the file before the run's first mount (its
 * path may name a file of the container's by now), or one opened now, when the run has
 * made none: runHere makes its logger first. A file that cannot be opened leaves the
 * error on stderr alone (false: not logged); one that cannot be written to is told of on
 * stderr once, in one line, by the logger (core/logger.ts), and the status stays.
 */
function logError(opts: CliOptions, message: string, meta?: Record<string, unknown>): boolean {
  try {
    cliLogger(opts).error(message, meta);
    return true;
  } catch {
    return false;
  }
}
