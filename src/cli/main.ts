import { readFileSync } from 'fs';
import * as path from 'path';
import { MountkitError, firstLine, syscallErrorStacks } from '../core/errors';
import { parseArgs, USAGE, type CliOptions } from './args';
import { restoreCaCertsEnv } from './node-env';
import { plan } from './plan';
import { run } from './run';

export function version(): string {
  const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

/**
 * Runs the CLI and returns its exit status, or a promise of it when `run` waits for a
 * process it started. Errors print one line; the stack only at debug level.
 */
export function main(argv: readonly string[]): number | Promise<number> {
  let opts: CliOptions | undefined;
  restoreCaCertsEnv(process.env);
  try {
    opts = parseArgs(argv);
    syscallErrorStacks(opts.logLevel === 'debug');
    if (opts.version) {
      process.stdout.write(`mountkit ${version()}\n`);
      return 0;
    }
    if (opts.help || opts.command === undefined || opts.command === 'help') {
      process.stdout.write(USAGE + '\n');
      return 0;
    }
    if (opts.command === 'run') {
      const status = run(opts, argv);
      if (typeof status === 'number') return status;
      const debug = opts.logLevel === 'debug';
      return status.catch((err: unknown) => reportError(err, debug));
    }
    if (opts.command === 'plan') return plan(opts);
    process.stderr.write(`mountkit: unknown command "${opts.command}" (see mountkit --help)\n`);
    return 2;
  } catch (err) {
    return reportError(err, opts?.logLevel === 'debug');
  }
}

/**
 * The error on one line (its message's first); at debug level its whole message, then its
 * stack and every cause's (a plugin's own frames, a module's syntax error with its file
 * and line, are in the cause).
 */
export function reportError(err: unknown, debug: boolean): number {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`mountkit: ${debug ? message : firstLine(message)}\n`);
  if (debug) {
    const seen = new Set<unknown>();
    for (let e: unknown = err; e instanceof Error && !seen.has(e); e = e.cause) {
      seen.add(e);
      process.stderr.write(`${e === err ? '' : 'Caused by: '}${e.stack ?? e.message}\n`);
    }
  }
  return err instanceof MountkitError ? err.exitCode : 1;
}
