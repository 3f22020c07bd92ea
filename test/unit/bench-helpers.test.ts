/** The pure parts of the bench harness (bench/): list conversion, statistics, profile categories. */
import { interleave, median, quantile, slope } from '../../bench/measure';
import { category } from '../../bench/profile';
import { differingCalls, pipelineWindow, splitSegments, type SplitMarks } from '../../bench/runners';
import type { SyscallName } from '../../src/core/syscalls/types';
import { compareLists, firstDifference, listFromPlan, listFromTrace, relaunchedCalls, toPortList, toReplayLines, type ListedCall, type PortCall, type SyscallList, type TraceCall } from '../../bench/syscall-list';
import type { PlanJson } from '../../src/core/plan';

const traced = (calls: ListedCall[]): SyscallList => ({ format: 'mountkit-syscalls/1', source: 'trace', outcomes: true, calls });

describe('toReplayLines', () => {
  test.each<[string, ListedCall, string]>([
    ['null and hex bigint', { op: 'mount', source: null, target: '/r/proc', fstype: 'proc', flags: '0xe', data: null }, 'mount\tok\t-\t"/r/proc\t"proc\t0xe\t-'],
    ['escapes', { op: 'writeFile', path: '/a\tb', data: 'x\ny\\z' }, 'writeFile\tok\t"/a\\tb\t"x\\ny\\\\z'],
    ['optional argument present', { op: 'writeFile', path: '/f', data: '1', mode: 0o644 }, 'writeFile\tok\t"/f\t"1\t420'],
    ['lists as length then items', { op: 'execve', path: '/bin/true', argv: ['true'], envp: [] }, 'execve\tok\t"/bin/true\t1\t"true\t0'],
    ['number lists', { op: 'setgroups', gids: [1, 2] }, 'setgroups\tok\t2\t1\t2'],
    ['a descriptor result', { op: 'open', path: '/r', flags: 0, mode: 0, ret: 18 }, 'open\tok:18\t"/r\t0\t0'],
    ['a result that is not a descriptor', { op: 'umask', mask: 0, ret: 18 }, 'umask\tok\t0'],
    ['a failure', { op: 'stat', path: '/nope', errno: 'ENOENT' }, 'stat\terr:2\t"/nope'],
    ['negative dirfd', { op: 'mkdirat', dirfd: -100, path: 'd', mode: 493 }, 'mkdirat\tok\t-100\t"d\t493'],
  ])('%s', (_name, call, line) => {
    expect(toReplayLines(traced([call]))).toBe(line + '\n');
  });

  test('arguments are written in the port order, whatever the record order', () => {
    expect(toReplayLines(traced([{ op: 'symlinkat', linkPath: 'l', dirfd: 3, target: 't' }]))).toBe('symlinkat\tok\t"t\t3\t"l\n');
  });

  test('without outcomes only descriptor results are checked', () => {
    const list: SyscallList = { ...traced([{ op: 'mkdir', path: '/d', mode: 493 }, { op: 'open', path: '/r', flags: 0, mode: 0, ret: 100 }]), outcomes: false };
    expect(toReplayLines(list)).toBe('mkdir\t?\t"/d\t493\nopen\tok:100\t"/r\t0\t0\n');
  });

  test('commands are refused', () => {
    const cmd = { path: '/hook', args: [], env: [], dir: '/' };
    expect(() => toReplayLines(traced([{ op: 'runCommand', cmd }]))).toThrow(/does not run commands/);
  });

  test("an idmapped bind's calls are refused: the replay makes no user namespace helper", () => {
    expect(() => toReplayLines(traced([{ op: 'userNamespace', uidMappings: [], gidMappings: [] }]))).toThrow('the replay does not make user namespaces (userNamespace)');
  });

  test("a bind's copy is replayed: open_tree's descriptor checked, move_mount's two descriptors as written", () => {
    const list = traced([
      { op: 'openTree', dirfd: -100, path: '/s', flags: 0x80001, ret: 7 },
      { op: 'moveMount', fromDirfd: 7, fromPath: '', toDirfd: 6, toPath: '', flags: 0x44 },
    ]);
    expect(toReplayLines(list)).toBe('openTree\tok:7\t-100\t"/s\t524289\nmoveMount\tok\t7\t"\t6\t"\t68\n');
  });
});

describe('toPortList', () => {
  test.each<[string, ListedCall, PortCall]>([
    ['port order, null and hex bigint kept as written', { op: 'mount', data: null, source: null, target: '/r/proc', fstype: 'proc', flags: '0xe' }, ['mount', [null, '/r/proc', 'proc', '0xe', null], [], null, null]],
    ['descriptor arguments by position', { op: 'symlinkat', linkPath: 'l', dirfd: 3, target: 't' }, ['symlinkat', ['t', 3, 'l'], [1], null, null]],
    ['a descriptor result', { op: 'openat2', dirfd: 5, path: 'dev', flags: 0, mode: 0, resolve: '0x16', ret: 20 }, ['openat2', [5, 'dev', 0, 0, '0x16'], [0], 20, null]],
    ["open_tree's descriptor result", { op: 'openTree', dirfd: -100, path: '/s', flags: 1, ret: 7 }, ['openTree', [-100, '/s', 1], [0], 7, null]],
    ["move_mount's two descriptor arguments", { op: 'moveMount', fromDirfd: 7, fromPath: '', toDirfd: 6, toPath: '', flags: 0x44 }, ['moveMount', [7, '', 6, '', 0x44], [0, 2], null, null]],
    ['a result that is not a descriptor', { op: 'umask', mask: 0, ret: 18 }, ['umask', [0], [], null, null]],
    ['a failure', { op: 'stat', path: '/nope', errno: 'ENOENT' }, ['stat', ['/nope'], [], null, 'ENOENT']],
    ['an optional argument left out', { op: 'writeFile', path: '/f', data: '1' }, ['writeFile', ['/f', '1'], [], null, null]],
    ['lists kept whole', { op: 'execve', path: '/bin/true', argv: ['true'], envp: [] }, ['execve', ['/bin/true', ['true'], []], [], null, null]],
  ])('%s', (_name, call, port) => {
    expect(JSON.parse(toPortList(traced([call])))).toEqual([port]);
  });

  test('a plan, whose outcomes are unknown, is refused', () => {
    expect(() => toPortList({ ...traced([]), outcomes: false })).toThrow('the port replay needs a list with outcomes (a recorded run)');
  });

  test('the calls replay.c does not make are refused too', () => {
    expect(() => toPortList(traced([{ op: 'runCommand', cmd: { path: '/hook', args: [], env: [], dir: '/' } }]))).toThrow(/does not run commands/);
  });
});

describe('lists from a trace and from a plan', () => {
  test('a trace call gets its arguments by name, its descriptor and its error code; the exec event written on the runtime channel is left out', () => {
    const list = listFromTrace({
      pid: 1,
      loadedMs: 1,
      execMs: 2,
      calls: [
        ['open', '0x1', '0x2', ['/r', 0, 0], 18],
        ['writeFile', '0x3', '0x4', ['/f', 'x'], null],
        ['stat', '0x5', '0x6', ['/nope'], null, 'ENOENT'],
        ['write', '0x7', '0x8', [3, '{"event":"exec"}\n'], null],
        ['write', '0x9', '0xa', [9, 'x'], null],
      ],
    });
    expect(list.calls).toEqual([
      { op: 'open', path: '/r', flags: 0, mode: 0, ret: 18 },
      { op: 'writeFile', path: '/f', data: 'x' },
      { op: 'stat', path: '/nope', errno: 'ENOENT' },
      { op: 'write', fd: 9, data: 'x' },
    ]);
    expect(list.outcomes).toBe(true);
  });

  test("a trace with a user namespace: the call keeps its mappings and descriptor; a name that is not a port method (an older preload kept the port's private writeIdMap) is refused by name", () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const trace = { pid: 7, loadedMs: 1, execMs: 2, calls: [['userNamespace', '0x1', '0x2', [maps, maps], 23]] as TraceCall[] };
    expect(listFromTrace(trace).calls).toEqual([{ op: 'userNamespace', uidMappings: maps, gidMappings: maps, ret: 23 }]);
    trace.calls.push(['writeIdMap' as SyscallName, '0x3', '0x4', ['/proc/9', 'uid', maps, true], null]);
    expect(() => listFromTrace(trace)).toThrow('trace of pid 7: "writeIdMap" is not a port method');
  });

  test('a plan drops its relaunch record and the exec event on the runtime channel, and flattens its arguments', () => {
    const plan: PlanJson = {
      version: 1,
      bundle: '/b',
      rootfs: '/b/rootfs',
      complete: true,
      calls: [
        { seq: 0, phase: 'namespaces', plugin: 'launcher', op: 'relaunch', args: { argv: ['unshare', '--'] } },
        { seq: 1, phase: 'mounts', plugin: 'proc', op: 'open', args: { path: '/b/rootfs', flags: 0, mode: 0 }, result: 100 },
        { seq: 2, phase: 'mounts', plugin: 'proc', op: 'close', args: { fd: 100 } },
        { seq: 3, phase: 'exec', plugin: 'exec', op: 'write', args: { fd: 3, data: '{"event":"exec"}\n' } },
      ],
    };
    expect(listFromPlan(plan)).toEqual({
      format: 'mountkit-syscalls/1',
      source: 'plan',
      outcomes: false,
      calls: [
        { op: 'open', path: '/b/rootfs', flags: 0, mode: 0, ret: 100 },
        { op: 'close', fd: 100 },
      ],
    });
  });
});

describe('relaunchedCalls: the calls of a plan a traced run records', () => {
  const call = (seq: number, op: string, args: Record<string, unknown> = {}) => ({ seq, phase: 'namespaces', plugin: 'launcher', op, args });
  const planOf = (calls: PlanJson['calls']): PlanJson => ({ version: 1, bundle: '/b', rootfs: '/b/rootfs', complete: true, calls });
  test.each<[string, PlanJson['calls'], string[]]>([
    ['the first process\'s calls and the relaunch record left out', [call(0, 'cloexecFrom', { first: 3 }), call(1, 'dupCloexec', { fd: 2, lowest: 3 }), call(2, 'relaunch'), call(3, 'setParentDeathSignal', { signal: 9 }), call(4, 'chdir', { path: '/' })], ['setParentDeathSignal', 'chdir']],
    ['no relaunch: every call', [call(0, 'cloexecFrom', { first: 3 }), call(1, 'chdir', { path: '/' })], ['cloexecFrom', 'chdir']],
    ['a relaunch first', [call(0, 'relaunch'), call(1, 'chdir', { path: '/' })], ['chdir']],
  ])('%s', (_what, calls, ops) => {
    const plan = planOf(calls);
    expect(relaunchedCalls(plan, listFromPlan(plan)).map((c) => c.op)).toEqual(ops);
  });
});

describe('comparing lists', () => {
  const run: ListedCall[] = [
    { op: 'open', path: '/r', flags: 0, mode: 0, ret: 18 },
    { op: 'mount', source: 'proc', target: '/proc/thread-self/fd/18', fstype: 'proc', flags: '0x0', data: null },
    { op: 'dup3', oldfd: 18, newfd: 1, flags: 0 },
    { op: 'close', fd: 18 },
  ];
  const plan: ListedCall[] = [
    { op: 'open', path: '/r', flags: 0, mode: 0, ret: 100 },
    { op: 'mount', source: 'proc', target: '/proc/thread-self/fd/100', fstype: 'proc', flags: '0x0', data: null },
    { op: 'close', fd: 100 },
  ];

  test('descriptor numbers and outcomes do not count', () => {
    expect(firstDifference(run.slice(0, 2), plan.slice(0, 2))).toBeUndefined();
  });

  test('the first call that differs, and what both share', () => {
    expect(firstDifference(run, plan)).toBe(2);
    expect(compareLists(run, plan)).toEqual({ common: 3, onlyA: 1, onlyB: 0 });
  });

  test('a path differs', () => {
    expect(firstDifference([{ op: 'mkdir', path: '/a', mode: 1 }], [{ op: 'mkdir', path: '/b', mode: 1 }])).toBe(0);
  });
});

describe('statistics', () => {
  test.each([
    [[3, 1, 2], 0.5, 2],
    [[1, 2, 3, 4], 0.5, 2.5],
    [[1, 2, 3, 4, 5], 0.25, 2],
    [[10], 0.75, 10],
  ])('quantile(%j, %d) = %d', (values, q, expected) => {
    expect(quantile(values, q)).toBe(expected);
  });

  test('median of nothing is NaN', () => {
    expect(median([])).toBeNaN();
  });

  test('slope is the least-squares cost of one more unit', () => {
    expect(slope([{ x: 0, y: 10 }, { x: 10, y: 30 }, { x: 100, y: 210 }])).toBeCloseTo(2);
  });

  test('interleave rotates the order each round and drops the warm-up rounds', () => {
    const order: string[] = [];
    const contender = (name: string) => ({ name, run: () => (order.push(name), order.length) });
    const times = interleave([contender('a'), contender('b'), contender('c')], 3, 1);
    expect(order.join('')).toBe('cab' + 'abc' + 'bca' + 'cab');
    expect(times.get('a')).toEqual([4, 9, 11]);
  });
});

describe("differingCalls: the calls a replay says had another outcome", () => {
  test.each<[string, string, string[]]>([
    ['replay.c', 'replay: call 0 faccessat: expected err:30, got success\n', ['call 0 faccessat: expected err:30, got success']],
    ['replay-port.js', 'replay-port: call 0 faccessat: recorded EROFS, got success\n', ['call 0 faccessat: recorded EROFS, got success']],
    ['two, in order', 'replay: call 3 mount: expected ok, got Invalid argument\nreplay: call 9 close: expected ok, got Bad file descriptor\n', ['call 3 mount: expected ok, got Invalid argument', 'call 9 close: expected ok, got Bad file descriptor']],
    ['other lines left out', 'replay-port: the list ended without an execve that worked\nwarning: x\n', []],
    ['nothing', '', []],
  ])('%s', (_name, stderr, calls) => {
    expect(differingCalls(stderr)).toEqual(calls);
  });
});

describe('pipelineWindow: the traced window and its part from the first mount', () => {
  const call = (op: SyscallName, startUs: number, endUs: number): TraceCall => [op, `0x${(startUs * 1000).toString(16)}`, `0x${(endUs * 1000).toString(16)}`];
  const run = (calls: TraceCall[]) => ({ ms: 50, records: [{ pid: 1, loadedMs: 20, execMs: 40, calls }] });

  test('the window starts at the first call, the rest at the first mount; port time leaves out the execve', () => {
    const w = pipelineWindow(run([call('setParentDeathSignal', 0, 3000), call('stat', 5000, 5100), call('unshare', 8000, 8500), call('mount', 9000, 9500), call('mount', 9600, 9700), call('close', 9800, 9900), call('execve', 10000, 10000)]));
    expect(w.windowMs).toBeCloseTo(10);
    expect(w.fromMountMs).toBeCloseTo(1);
    expect(w.inPortMs).toBeCloseTo(3 + 0.1 + 0.5 + 0.5 + 0.1 + 0.1);
    expect(w.firstCallMs).toBeCloseTo(30);
  });

  test('a run without a mount call: the rest is the whole window', () => {
    expect(pipelineWindow(run([call('stat', 0, 100), call('execve', 2000, 2000)])).fromMountMs).toBeCloseTo(2);
  });
});

describe("splitSegments: a launcher run's wall time cut at the preload's marks", () => {
  const marks: SplitMarks = { pid: 1, loadedMs: 20, compile: [24, 30], topLevelMs: 9, topLevelBeforeMountMs: 8, firstCall: [33, 36], mountMs: 50, execMs: 70 };

  test('each segment from its marks, in the order of the run, adding up to the wall time', () => {
    const segments = splitSegments(100, marks);
    expect(segments.map(([, ms]) => ms)).toEqual([30, 20, 4, 6, 8, 3, 9, 20]);
    expect(segments.reduce((sum, [, ms]) => sum + ms, 0)).toBe(100);
  });

  test('a process that never compiled the bundle, called the port or mounted: those segments are 0, the rest still adds up', () => {
    const segments = splitSegments(100, { ...marks, compile: null, firstCall: null, mountMs: null, topLevelBeforeMountMs: 0 });
    expect(segments.map(([, ms]) => ms)).toEqual([30, 20, 0, 0, 0, 0, 50, 0]);
  });
});

describe('profile categories', () => {
  test.each([
    ['', '(garbage collector)', '(garbage collector)'],
    ['file:///w/node_modules/winston/lib/winston.js', 'f', 'npm:winston'],
    ['file:///w/node_modules/@koromix/koffi-linux-x64/index.js', 'f', 'npm:@koromix/koffi-linux-x64'],
    ['node:internal/modules/cjs/loader', 'wrapSafe', 'node:module-loader'],
    ['node:path', 'resolve', 'node:other'],
    ['file:///w/dist/plugins/tmpfs/handler.js', 'mount', 'mountkit:plugins'],
    ['file:///w/dist/core/kernel.js', 'createKernel', 'mountkit:core'],
    ['file:///w/bin/mountkit.js', '', 'mountkit:bin'],
    ['file:///w/bench/preload.js', 'wrap', 'bench-preload'],
    ['', 'mount', 'native'],
  ])('%s %s', (url, fn, expected) => {
    expect(category(url, fn)).toBe(expected);
  });
});
