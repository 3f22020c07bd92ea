import { LIBUV_DEFAULT_POOL_THREADS, NODE_OWN_TASKS, V8_DEFAULT_POOL_THREADS, libuvPoolThreads, nodeOptionsWords, nodeTasks, strtoll, v8PoolSizeValue, v8PoolThreads } from '../../src/core/node-tasks';
import { NODE_TASKS } from '../../src/core/task-limits';

describe('strtoll: a decimal number as glibc reads it', () => {
  test.each<[string, bigint]>([
    ['8', 8n],
    ['8x', 8n],
    [' \t+12', 12n],
    ['-1', -1n],
    ['', 0n],
    ['abc', 0n],
    ['x8', 0n],
    ['007', 7n],
    ['9223372036854775807', 9223372036854775807n],
    ['9223372036854775808', 9223372036854775807n],
    ['-9223372036854775809', -9223372036854775808n],
    ['99999999999999999999999', 9223372036854775807n],
  ])('%p', (value, long) => {
    expect(strtoll(value)).toBe(long);
  });
});

describe("nodeOptionsWords: NODE_OPTIONS split as Node splits it", () => {
  test.each<[string, string[] | undefined]>([
    ['', []],
    ['--v8-pool-size=8', ['--v8-pool-size=8']],
    ['  --a   --b ', ['--a', '--b']],
    ['--v8-pool-size 8', ['--v8-pool-size', '8']],
    ['"--v8-pool-size=9"', ['--v8-pool-size=9']],
    ['--title="a b" --c', ['--title=a b', '--c']],
    ['--title "a \\"b\\" \\\\"', ['--title', 'a "b" \\']],
    ['--a\\ b', ['--a\\', 'b']],
    ['--a\t--b', ['--a\t--b']],
    ['""', []],
    ['"" --a', ['--a']],
    ['--a "unclosed', undefined],
    ['"--a\\', undefined],
  ])('%p', (value, words) => {
    expect(nodeOptionsWords(value)).toEqual(words);
  });
});

describe("v8PoolSizeValue: the last --v8-pool-size's value", () => {
  test.each<[string[], string | undefined]>([
    [[], undefined],
    [['--max-old-space-size=100'], undefined],
    [['--v8-pool-size=8'], '8'],
    [['--v8_pool_size=8'], '8'],
    [['--v8-pool_size=8'], '8'],
    [['--v8-pool-size', '8'], '8'],
    [['--v8-pool-size=2', '--v8-pool-size', '5'], '5'],
    [['--v8-pool-size=', '--a'], ''],
    [['--v8-pool-size', '-1'], undefined],
    [['--v8-pool-size', '\\-1'], '-1'],
    [['--v8-pool-size'], undefined],
    [['--title=--v8-pool-size=9'], undefined],
    [['-v8-pool-size=9'], undefined],
    [['--V8-pool-size=9'], undefined],
    [['--v8-pool-sizes=9'], undefined],
  ])('%p', (words, value) => {
    expect(v8PoolSizeValue(words)).toBe(value);
  });
});

describe("v8PoolThreads and nodeTasks: V8's platform workers Node starts, and its tasks, on 2 CPUs and on 8", () => {
  test.each<[string | undefined, string[], number, number]>([
    [undefined, [], V8_DEFAULT_POOL_THREADS, V8_DEFAULT_POOL_THREADS],
    ['--max-old-space-size=100', [], V8_DEFAULT_POOL_THREADS, V8_DEFAULT_POOL_THREADS],
    ['--v8-pool-size=8', [], 8, 8],
    ['--v8-pool-size=1', [], 1, 1],
    ['--v8-pool-size=8x', [], 8, 8],
    ['--v8-pool-size=0', [], 1, 7],
    ['--v8-pool-size=-1', [], 1, 7],
    ['--v8-pool-size=abc', [], 1, 7],
    // atoll's value cut to an int: its low 32 bits, signed.
    ['--v8-pool-size=4294967297', [], 1, 1],
    ['--v8-pool-size=-4294967295', [], 1, 1],
    ['--v8-pool-size=2147483648', [], 1, 7],
    ['--v8-pool-size=99999999999', [], 1215752191, 1215752191],
    ['--v8-pool-size=18446744073709551617', [], 1, 7],
    // The command line is read after NODE_OPTIONS.
    ['--v8-pool-size=8', ['--v8-pool-size=2'], 2, 2],
    [undefined, ['--v8-pool-size', '3'], 3, 3],
    ['--v8-pool-size=8', ['--inspect-port=0'], 8, 8],
    // Node stops at the first word that is no option and no option's value: counted the higher.
    ['foo --v8-pool-size=8', [], 8, 8],
    // Refused by Node, which starts nothing.
    ['--v8-pool-size="8', [], V8_DEFAULT_POOL_THREADS, V8_DEFAULT_POOL_THREADS],
  ])('NODE_OPTIONS %p, command line %p: %p workers on 2 CPUs, %p on 8', (nodeOptions, execArgv, onTwo, onEight) => {
    expect([v8PoolThreads(nodeOptions, execArgv, 2), v8PoolThreads(nodeOptions, execArgv, 8)]).toEqual([onTwo, onEight]);
    expect([nodeTasks(nodeOptions, execArgv, 2), nodeTasks(nodeOptions, execArgv, 8)]).toEqual([NODE_OWN_TASKS + onTwo, NODE_OWN_TASKS + onEight]);
  });

  test('one CPU: at least one worker', () => {
    expect(v8PoolThreads('--v8-pool-size=0', [], 1)).toBe(1);
  });

  test('no option: the NODE_TASKS the limits count by default', () => {
    expect(nodeTasks(undefined, [], 2)).toBe(NODE_TASKS);
  });
});

describe("libuvPoolThreads: libuv's pool for UV_THREADPOOL_SIZE", () => {
  // Each checked against Node 20 (libuv 1.46): the threads /proc/self/task gained once an fs.readFile ran, for UV_THREADPOOL_SIZE so set.
  test.each<[string | undefined, number]>([
    [undefined, LIBUV_DEFAULT_POOL_THREADS],
    ['8', 8],
    ['1', 1],
    ['0', 1],
    ['', 1],
    ['abc', 1],
    ['0x10', 1],
    ['8x', 8],
    ['+8', 8],
    [' \t8', 8],
    ['0008', 8],
    ['-0', 1],
    ['+-5', 1],
    ['--5', 1],
    ['-1', 1024],
    ['2000', 1024],
    ['1024', 1024],
    ['1025', 1024],
    ['4294967297', 1],
    ['-4294967295', 1],
    ['-4294967296', 1],
    ['99999999999', 1024],
    ['9223372036854775807', 1024],
    ['99999999999999999999', 1024],
    ['-99999999999999999999', 1],
  ])('UV_THREADPOOL_SIZE %p: libuv starts %i threads', (value, threads) => {
    expect(libuvPoolThreads(value)).toBe(threads);
  });
});
