import { linesLogger } from '../core/logger';
import type { Logger } from '../core/plugin';

export interface LogEntry {
  level: 'error' | 'warn' | 'info' | 'debug';
  message: string;
  /** The entry's meta merged over its logger's (a child logger adds `plugin`). */
  meta: Record<string, unknown>;
}

export interface MemoryLogger extends Logger {
  /** Every entry of this logger and its children, in order. */
  readonly entries: LogEntry[];
}

/** A logger that keeps what is logged, to assert on a plugin's messages. */
export function memoryLogger(): MemoryLogger {
  const entries: LogEntry[] = [];
  const make = (base: Record<string, unknown>): MemoryLogger => ({
    entries,
    ...linesLogger(
      (level, message, meta) => void entries.push({ level, message, meta: { ...base, ...meta } }),
      (meta) => make({ ...base, ...meta }),
    ),
  });
  return make({});
}
