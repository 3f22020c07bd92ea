/**
 * How many tasks a Node process starts with, and how big the thread pools it starts are,
 * as Node and libuv read their settings: the counts core/task-limits.ts checks against
 * RLIMIT_NPROC and pids.max. bin/mountkit counts the same in shell (v8_pool_tasks,
 * pool_threads).
 */

/** The tasks of a started Node besides V8's platform workers: its main thread, the platform's delayed-task thread and the inspector's thread for SIGUSR1. */
export const NODE_OWN_TASKS = 3;

/** V8's platform workers where --v8-pool-size is not given (Node's PerProcessOptions default). */
export const V8_DEFAULT_POOL_THREADS = 4;

const LONG_MAX = (1n << 63n) - 1n;
const LONG_MIN = -LONG_MAX - 1n;

/**
 * A decimal number as glibc's strtoll(3) in base 10 reads it, which atoll(3) and atoi(3)
 * are on a 64-bit Linux (a long is 64 bits): leading white space, a sign, then digits up
 * to the first other character; none read as 0; beyond a long, the nearest long.
 */
export function strtoll(value: string): bigint {
  const [, sign = '', digits = ''] = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(value) ?? [];
  const long = digits === '' ? 0n : BigInt(digits) * (sign === '-' ? -1n : 1n);
  if (long > LONG_MAX) return LONG_MAX;
  if (long < LONG_MIN) return LONG_MIN;
  return long;
}

/**
 * The words Node makes of NODE_OPTIONS (src/node_options.cc ParseNodeOptionsEnvVar): split
 * at spaces outside double quotes, the quotes dropped, a backslash inside them taking the
 * next character as it is; undefined where Node refuses the value (a quote left open, a
 * backslash at its end), and starts nothing.
 */
export function nodeOptionsWords(value: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    let c = value[i];
    if (c === '\\' && quoted) {
      if (i + 1 === value.length) return undefined;
      c = value[++i];
    } else if (c === ' ' && !quoted) {
      if (word !== undefined) words.push(word);
      word = undefined;
      continue;
    } else if (c === '"') {
      quoted = !quoted;
      continue;
    }
    word = (word ?? '') + c;
  }
  if (quoted) return undefined;
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * The value of the last --v8-pool-size among Node's option words (underscores allowed for
 * the dashes after the first two, as Node takes them), given after "=" or as the next
 * word (which may not start with "-"; "\-" stands for "-"), or undefined where none is.
 * Node stops at the first word that is no option and no option's value, which takes its
 * table of options to tell: one after such a word is counted here too, the count then
 * the higher (a refusal rather than a Node that waits for a worker).
 */
export function v8PoolSizeValue(words: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (!word.startsWith('--')) continue;
    const equals = word.indexOf('=');
    if ((equals < 0 ? word : word.slice(0, equals)).replace(/_/g, '-') !== '--v8-pool-size') continue;
    if (equals >= 0) {
      value = word.slice(equals + 1);
    } else if (i + 1 < words.length && !words[i + 1].startsWith('-')) {
      value = words[++i].replace(/^\\-/, '-');
    }
  }
  return value;
}

/**
 * V8's platform workers a Node started with `nodeOptions` (NODE_OPTIONS) and `execArgv`
 * (its options on the command line, read after NODE_OPTIONS: the last one wins) starts,
 * on a machine of `parallelism` CPUs for it (os.availableParallelism). Node reads the
 * value with atoll(3) and cuts it to an int (src/node.cc InitializeOncePerProcess); one
 * below 1 makes the CPUs less one, at least one (src/node_platform.cc
 * GetActualThreadPoolSize): "8x" starts 8, "0", "abc" and "-1" one less than the CPUs,
 * "4294967297" one.
 */
export function v8PoolThreads(nodeOptions: string | undefined, execArgv: readonly string[], parallelism: number): number {
  const fromEnv = nodeOptions === undefined ? undefined : v8PoolSizeValue(nodeOptionsWords(nodeOptions) ?? []);
  const value = v8PoolSizeValue(execArgv) ?? fromEnv;
  if (value === undefined) return V8_DEFAULT_POOL_THREADS;
  const threads = Number(BigInt.asIntN(32, strtoll(value)));
  return threads >= 1 ? threads : Math.max(parallelism - 1, 1);
}

/** The tasks a Node started with `nodeOptions` and `execArgv` has as it starts (v8PoolThreads). */
export function nodeTasks(nodeOptions: string | undefined, execArgv: readonly string[], parallelism: number): number {
  return NODE_OWN_TASKS + v8PoolThreads(nodeOptions, execArgv, parallelism);
}

/** The threads of libuv's pool where UV_THREADPOOL_SIZE is unset, and the most it starts. */
export const LIBUV_DEFAULT_POOL_THREADS = 4;
const LIBUV_MAX_POOL_THREADS = 1024;

/**
 * The threads of libuv's pool, which Node starts all at once the first time it needs one
 * (a process that copies a foreground console does: its standard input read when that is
 * a file): for the value of UV_THREADPOOL_SIZE in its environment, as libuv reads it
 * (src/threadpool.c init_threads): glibc's atoi(3) of it, taken as an unsigned int, 0
 * made 1 and anything over LIBUV_MAX_POOL_THREADS made that, so that "abc" and "" start
 * 1 thread, "8x" 8 and "-1" 1024. atoi is strtol(3) in base 10 (strtoll) cut to an int. A
 * thread it cannot start aborts it (SIGABRT).
 */
export function libuvPoolThreads(value: string | undefined): number {
  if (value === undefined) return LIBUV_DEFAULT_POOL_THREADS;
  // The int's 32 bits, read as unsigned: the same bits as the long's low 32.
  const threads = Number(BigInt.asUintN(32, strtoll(value)));
  if (threads === 0) return 1;
  return Math.min(threads, LIBUV_MAX_POOL_THREADS);
}
