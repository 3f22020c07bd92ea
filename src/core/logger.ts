import { openSync, writeSync } from 'fs';
import { Writable } from 'stream';
import * as winston from 'winston';
import type { Logger } from './plugin';

export type LogFormat = 'text' | 'json';
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Append to this file instead of writing to stderr. */
  file?: string;
}

/** A winston logger writing to stderr (or a file), as text or JSON lines. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const text = winston.format.printf((info) => {
    const { level, message, timestamp: _t, ...meta } = info;
    const where = meta.plugin ? ` [${String(meta.plugin)}]` : '';
    delete meta.plugin;
    const rest = Object.keys(meta).length ? ' ' + JSON.stringify(meta, bigintSafe) : '';
    return `mountkit ${level}${where}: ${String(message)}${rest}`;
  });
  const format = opts.format === 'json' ? winston.format.combine(winston.format.timestamp(), jsonLine()) : text;
  const transport = opts.file
    ? new winston.transports.Stream({ format, stream: new SyncFileStream(opts.file) })
    : new winston.transports.Console({ format, stderrLevels: [...LOG_LEVELS] });
  return winston.createLogger({ level: opts.level ?? 'warn', levels: winston.config.npm.levels, transports: [transport] });
}

/**
 * Appends each line with write(2) as it is logged. winston's File transport opens and
 * writes through the libuv thread pool, which stays in the old mount namespace and loses
 * whatever is pending when the process execve(2)s; this opens the file once, up front.
 */
class SyncFileStream extends Writable {
  private readonly fd: number;
  constructor(file: string) {
    super({ objectMode: true });
    this.fd = openSync(file, 'a', 0o640);
  }
  override _write(info: Record<string | symbol, unknown>, _enc: string, done: (err?: Error) => void): void {
    writeSync(this.fd, String(info[Symbol.for('message')]) + '\n');
    done();
  }
}

function jsonLine() {
  return winston.format.printf((info) => JSON.stringify(info, bigintSafe));
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}

/** A logger that drops everything: the default for unit tests and embedders who pass none. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};
