import { openSync, writeSync } from 'fs';
import type { Writable } from 'stream';
import type * as Winston from 'winston';
import type { Logger } from './plugin';

export type LogFormat = 'text' | 'json';
export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LoggerOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Append to this file instead of writing to stderr. */
  file?: string;
  /**
   * A descriptor of `file` already open for appending, written to in place of opening
   * `file`, which then only names it (the line telling of a failed write): a relaunch's
   * log, which its starter opened on the host (cli/run.ts). The logger never closes it.
   */
  fileFd?: number;
  /** What the line telling of a failed write to `file` calls it (the CLI's `--log`; default `log file`). */
  fileOption?: string;
  /**
   * The descriptor written to as stderr, default 2: the lines, or with `file` the one
   * telling of a failed write. `mountkit run` gives its copy of the stderr it was started
   * with (core/streams.ts keepStderr), as the run may put another file on 2 (the console
   * step puts the container's terminal there). The logger never closes it.
   */
  stderrFd?: number;
  /**
   * What each line tells of the run it comes from, where a reader may meet lines of
   * other runs: a JSON line anywhere, a text line in `file`. Default: this process's pid
   * (process.pid), no id.
   */
  run?: RunFields;
}

/**
 * A run's fields in its log lines, which tell apart the lines of runs that share a log
 * file (as `--log` lets them): `pid` is the process's (a run that starts itself again
 * logs from two), `id` the container's, which both processes of a run share.
 */
export interface RunFields {
  pid: number;
  id?: string;
}

/**
 * A logger writing to stderr (or a file), as text or JSON lines. winston is required
 * only for the info and debug levels: loading it takes about 30 to 40 ms of a run
 * (bench/README.md), and warnings and errors alone, the default, in any format and to
 * stderr or a file (containerd's `--log FILE --log-format json`), are written here,
 * each line as winston's format would give it.
 */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const level = opts.level ?? 'warn';
  const stderr = opts.stderrFd ?? STDERR_FD;
  const run = opts.run ?? { pid: process.pid };
  const file = opts.file;
  const line = lineFormat(opts.format ?? 'text', run, Boolean(file));
  const out = file ? fileWriter(file, opts.fileOption ?? 'log file', stderr, opts.fileFd) : new LineWriter(stderr, () => undefined);
  if (level === 'warn' || level === 'error') return directLogger(level, {}, line, out);
  const logger = withoutStdio(() => {
    const winston = require('winston') as typeof Winston;
    const format = winston.format.printf((info) => line(info.level, info.message, (info as { [META]?: Record<string, unknown> })[META] ?? {}));
    const transport = new winston.transports.Stream({ format, stream: syncStream(out) });
    return winston.createLogger({ level, levels: winston.config.npm.levels, transports: [transport] });
  });
  return winstonLogger(logger, {});
}

/**
 * Where a line's meta rides through winston: a key of its own, which winston neither
 * merges into its info object nor reads, so that meta named as winston's own fields
 * (`level`, `message`) reaches the line as it reaches directLogger's, where winston would
 * drop a `level` and append a `message` to the line's message.
 */
const META = Symbol('mountkit.meta');

function winstonLogger(logger: Winston.Logger, meta: Record<string, unknown>): Logger {
  return linesLogger(
    (level, message, extra) => void logger.log({ level, message, [META]: { ...meta, ...extra } }),
    (more) => winstonLogger(logger, { ...meta, ...more }),
  );
}

/**
 * One line from its level, message and meta: a JSON line (with the time and the run's
 * fields), a log file's text line (the same, then the text line), or the text line alone.
 */
type LineFormat = (level: string, message: unknown, meta: Record<string, unknown>) => string;

function lineFormat(format: LogFormat, run: RunFields, inFile: boolean): LineFormat {
  if (format === 'json') return (level, message, meta) => jsonLine(new Date(), run, level, message, meta);
  if (inFile) return (level, message, meta) => fileTextLine(new Date(), run, textLine(level, message, meta));
  return textLine;
}

/**
 * Makes winston's logger without Node opening process.stdout and process.stderr: the
 * colour check of @colors/colors, which logform loads with its levels (winston loads its
 * parts as they are first used), reads both as it loads. Node then makes a pipe there
 * O_NONBLOCK, and opens a terminal there again and puts the new file over the descriptor
 * (libuv's uv_tty_init), inside the run's mount namespace: the container would get, on
 * stdout and stderr, a file of a devpts mount its jail detached (/proc/self/fd/1 -> /0),
 * not its caller's. Meanwhile both streams read as no terminal, the only thing the check
 * asks of them; mountkit never colours its lines. The global console is swapped too:
 * winston's own debugging lines (@dabh/diagnostics, on when DEBUG names winston) go to
 * console.log, which would bind the console to that stand-in for good (Node's console
 * keeps the first stream it reads), and every later console.log of the process would
 * throw; they are dropped. Each property is put back as it was, or removed where there
 * was none, whatever `make` throws; one that cannot be redefined is not swapped.
 */
function withoutStdio<T>(make: () => T): T {
  const swapped: [object, string, PropertyDescriptor | undefined][] = [];
  try {
    for (const [on, name, value] of STAND_INS) {
      const descriptor = Object.getOwnPropertyDescriptor(on, name);
      // One an embedder made for good (not configurable) is its own, left as it is.
      if (descriptor && !descriptor.configurable) continue;
      swapped.push([on, name, descriptor]);
      Object.defineProperty(on, name, { configurable: true, enumerable: descriptor?.enumerable ?? false, get: () => value });
    }
    return make();
  } finally {
    for (const [on, name, descriptor] of swapped.reverse()) {
      if (descriptor) Object.defineProperty(on, name, descriptor);
      else delete (on as Record<string, unknown>)[name];
    }
  }
}

/** What process.stdout and process.stderr are while winston loads. */
const NO_TERMINAL = { isTTY: false };

/** What the global console is while winston loads: each of its methods does nothing. */
const NO_CONSOLE: unknown = new Proxy({}, { get: () => () => undefined });

/** The properties withoutStdio swaps while winston loads, and what each reads as meanwhile. */
const STAND_INS: readonly (readonly [object, string, unknown])[] = [
  [process, 'stdout', NO_TERMINAL],
  [process, 'stderr', NO_TERMINAL],
  [globalThis, 'console', NO_CONSOLE],
];

/** One text line: `mountkit LEVEL [PLUGIN]: MESSAGE {OTHER META AS JSON}`. */
export function textLine(level: string, message: unknown, meta: Record<string, unknown>): string {
  const { plugin, ...rest } = meta;
  const where = plugin ? ` [${String(plugin)}]` : '';
  const tail = Object.keys(rest).length ? ' ' + JSON.stringify(rest, bigintSafe) : '';
  return `mountkit ${level}${where}: ${String(message)}${tail}`;
}

/**
 * A line's time as RFC 3339 gives it, with its fraction of a second (time-secfrac:
 * milliseconds, UTC): `2026-12-01T09:30:00.123Z`. Go's time.Time reads it from JSON as
 * it reads a logrus line's `time` (runc 1.1.5 writes whole seconds there).
 */
export function logTime(time: Date): string {
  return time.toISOString();
}

/** An id as a text line shows it: as it is when it is one runc takes (no space or quote in it), else quoted as JSON. */
function idToken(id: string): string {
  return /^[A-Za-z0-9_+,.-]+$/.test(id) ? id : JSON.stringify(id);
}

/**
 * A text line as the log file has it: the time, the run's fields as `key=value`, then the
 * line stderr would have: `2026-12-01T09:30:00.123Z pid=4242 id=web-1 mountkit warn [tmpfs]: ...`.
 */
export function fileTextLine(time: Date, run: RunFields, line: string): string {
  const id = run.id === undefined ? '' : ` id=${idToken(run.id)}`;
  return `${logTime(time)} pid=${run.pid}${id} ${line}`;
}

/**
 * The names a JSON line gives its own fields: logrus's `time`, `level` and `msg`, the keys
 * runc's JSON log has and containerd reads back (the `msg` of the last line at level
 * `error` is the error it reports), then the run's `pid` and `id`. A meta key that is one
 * of them in any case is kept as `fields.NAME`, as logrus keeps a field that clashes: Go's
 * encoding/json matches keys case-blind, so a later `Msg` would replace the message.
 */
const JSON_OWN_KEYS: ReadonlySet<string> = new Set(['time', 'level', 'pid', 'id', 'msg']);

/**
 * A JSON line: `{"time","level","pid","id","msg",...meta}` (`id` when the run has one),
 * bigints in the meta as hex strings.
 */
export function jsonLine(time: Date, run: RunFields, level: string, message: unknown, meta: Record<string, unknown>): string {
  const line: Record<string, unknown> = { time: logTime(time), level, pid: run.pid, ...(run.id === undefined ? {} : { id: run.id }), msg: message };
  for (const [key, value] of Object.entries(meta)) line[JSON_OWN_KEYS.has(key.toLowerCase()) ? `fields.${key}` : key] = value;
  return JSON.stringify(line, bigintSafe);
}

const STDERR_FD = 2;

/**
 * Lines of `line`'s format to `out` for `level` and the levels above it, as winston's
 * logger writes them. Written with write(2), not through process.stderr: Node would make
 * a pipe or socket there non-blocking for every process sharing it (core/streams.ts). A
 * write that fails (EPIPE: nobody reads stderr any more; ENOSPC in a file) drops the
 * later lines.
 */
function directLogger(level: LogLevel, meta: Record<string, unknown>, line: LineFormat, out: LineWriter): Logger {
  return linesLogger(
    (lineLevel, message, extra) => {
      if (LOG_LEVELS.indexOf(lineLevel) <= LOG_LEVELS.indexOf(level)) out.line(line(lineLevel, message, { ...meta, ...extra }));
    },
    (more) => directLogger(level, { ...meta, ...more }, line, out),
  );
}

/**
 * Whole lines to a descriptor with write(2), each as it is logged. One that fails neither
 * fails nor changes what is being logged about: `failed` is called once with the error,
 * and the later lines are dropped. A descriptor left non-blocking by whoever shares it
 * (EAGAIN while its reader lags) is waited on, as a blocking write(2) would wait.
 */
class LineWriter {
  private dropped = false;

  constructor(
    private readonly fd: number,
    private readonly failed: (err: unknown) => void,
  ) {}

  line(text: string): void {
    if (this.dropped) return;
    const data = Buffer.from(text + '\n');
    try {
      for (let done = 0; done < data.length; ) {
        try {
          done += writeSync(this.fd, data, done);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
          Atomics.wait(PAUSE, 0, 0, 1);
        }
      }
    } catch (err) {
      this.dropped = true;
      this.failed(err);
    }
  }
}

/**
 * Writes each line it is given, and a newline, to `fd` as the logger writes its own
 * (LineWriter): whole, waiting where the descriptor is non-blocking; after a write that
 * fails, the later lines are dropped.
 */
export function lineWriter(fd: number): (line: string) => void {
  const out = new LineWriter(fd, () => undefined);
  return (line) => out.line(line);
}

/** What Atomics.wait sleeps on between two tries of a write(2) that would have blocked. */
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** A winston stream of `out`'s lines. */
function syncStream(out: LineWriter): Writable {
  // Required here, with winston: a logger of warnings and errors alone never loads Node's stream modules.
  const { Writable } = require('stream') as typeof import('stream');
  return new Writable({
    objectMode: true,
    write(info: Record<string | symbol, unknown>, _enc: string, done: (err?: Error) => void) {
      out.line(String(info[Symbol.for('message')]));
      done();
    },
  });
}

/**
 * Appends each line with write(2) as it is logged. winston's File transport opens and
 * writes through the libuv thread pool, which stays in the old mount namespace and loses
 * whatever is pending when the process execve(2)s; this opens the file once, up front,
 * unless it is given open (`given`). A write that fails (ENOSPC, EIO): stderr (`stderr`)
 * is told once (droppedLogLine), and the later lines are dropped.
 */
function fileWriter(file: string, option: string, stderr: number, given?: number): LineWriter {
  const fd = given ?? openSync(file, 'a', 0o640);
  return new LineWriter(fd, (err) => new LineWriter(stderr, () => undefined).line(droppedLogLine(option, file, err)));
}

/** The one line on stderr when a write to the log file fails: `mountkit: --log "/dev/full": write: ENOSPC; the rest of the log is dropped`. */
export function droppedLogLine(option: string, file: string, err: unknown): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
  return `mountkit: ${option} ${JSON.stringify(file)}: write: ${why}; the rest of the log is dropped`;
}

function bigintSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `0x${value.toString(16)}` : value;
}

/**
 * A logger each of whose levels calls `line` with its name, the message and the meta as
 * given (undefined where none is), and whose children are `child`'s.
 */
export function linesLogger(line: (level: LogLevel, message: string, meta?: Record<string, unknown>) => void, child: (meta: Record<string, unknown>) => Logger): Logger {
  return {
    error: (message, meta) => line('error', message, meta),
    warn: (message, meta) => line('warn', message, meta),
    info: (message, meta) => line('info', message, meta),
    debug: (message, meta) => line('debug', message, meta),
    child,
  };
}

/** A logger that drops everything: the default for unit tests and embedders who pass none. */
export const silentLogger: Logger = linesLogger(
  () => undefined,
  () => silentLogger,
);
