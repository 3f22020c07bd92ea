import { SyscallError } from '../../src/core/errors';
import { RLIMITS } from '../../src/core/rlimits';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { NODE_TASKS, OVERFLOW_UID_SYSCTL, cgroupDirs, checkRelaunchTasks, comountedPidsCgroup, overflowUidOf, parseLimits, pidsCgroups, relaunchTasks, sparedByKernel, spawnError, statusTasks, systemTasks, type NprocView } from '../../src/core/task-limits';
import { parseMountInfo } from '../../src/core/mountinfo';

/** /proc/PID/limits as fs/proc/base.c writes it, with RLIMIT_NPROC and RLIMIT_NOFILE as given (soft, hard). */
function limitsText(nproc: [string, string], nofile: [string, string]): string {
  const row = (name: string, [soft, hard]: [string, string], unit: string) => `${name.padEnd(26)}${soft.padEnd(21)}${hard.padEnd(21)}${unit.padEnd(10)}\n`;
  return [
    `${'Limit'.padEnd(26)}${'Soft Limit'.padEnd(21)}${'Hard Limit'.padEnd(21)}${'Units'.padEnd(10)}\n`,
    row('Max cpu time', ['unlimited', 'unlimited'], 'seconds'),
    row('Max stack size', ['8388608', 'unlimited'], 'bytes'),
    row('Max processes', nproc, 'processes'),
    row('Max open files', nofile, 'files'),
    row('Max locked memory', ['8388608', '8388608'], 'bytes'),
  ].join('');
}

/** /proc/PID/status with the lines read here, as fs/proc/array.c writes them (real, effective, saved, fs uid). */
function statusText(uid: number, threads: number): string {
  return `Name:\tnode\nState:\tS (sleeping)\nTgid:\t7\nUid:\t${uid}\t${uid}\t${uid}\t${uid}\nGid:\t${uid}\t${uid}\t${uid}\t${uid}\nThreads:\t${threads}\n`;
}

/** A fake whose /proc has this process's limits, /proc/loadavg counting `total` tasks, and processes of the given uids and thread counts (pids from 10). */
function procWith(nproc: string, total: number, processes: [number, number][], nofile = '1024'): FakeSyscalls {
  const sys = new FakeSyscalls().addFile('/proc/self/limits', limitsText([nproc, nproc], [nofile, nofile])).addFile('/proc/loadavg', `0.05 0.10 0.15 2/${total} 4242\n`);
  processes.forEach(([uid, threads], i) => sys.addFile(`/proc/${10 + i}/status`, statusText(uid, threads)));
  return sys.clearCalls();
}

function thrown(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

const ROOTLESS = { uid: 1000, inUserNamespace: false };
const ROOT = { uid: 0, inUserNamespace: false };
/** A relaunch forking PID 1 of a new pid namespace into a new user namespace (a rootless container's), and one without a pid namespace. */
const FORKING = { forks: true, userNamespace: true };
const DIRECT = { forks: false, userNamespace: true };

describe('reading the limits and the tasks', () => {
  test.each<[string, string, ReturnType<typeof parseLimits>]>([
    ['both limited: the soft values', limitsText(['12', '40'], ['64', '4096']), { nproc: 12, nofile: 64 }],
    ['unlimited: none', limitsText(['unlimited', 'unlimited'], ['1024', 'unlimited']), { nofile: 1024 }],
    ['not the text of a limits file: none', 'Max processes\n', {}],
  ])('/proc/PID/limits, %s', (_what, text, limits) => {
    expect(parseLimits(text)).toEqual(limits);
  });

  test.each<[string, number | undefined]>([
    ['0.05 0.10 0.15 2/345 4242\n', 345],
    ['0.05 0.10 0.15\n', undefined],
  ])('/proc/loadavg %j: every task in the system', (text, total) => {
    expect(systemTasks(text)).toBe(total);
  });

  test.each<[string, string, number]>([
    ["the uid's process: its threads", statusText(1000, 7), 7],
    ["another uid's: none", statusText(0, 7), 0],
    ['a real uid other than the effective one counts by the real one', 'Uid:\t1000\t0\t0\t0\nThreads:\t3\n', 3],
    ['without a Threads line: one', 'Uid:\t1000\t1000\t1000\t1000\n', 1],
  ])('/proc/PID/status, %s', (_what, text, tasks) => {
    expect(statusTasks(text, 1000)).toBe(tasks);
  });

  test('a relaunch: the watch, then Node, forked by a shell as PID 1 of a new pid namespace or not; Node with the tasks its options start', () => {
    expect([relaunchTasks(true), relaunchTasks(false), relaunchTasks(true, 11), relaunchTasks(false, 4)]).toEqual([
      { inside: NODE_TASKS + 1, all: NODE_TASKS + 2 },
      { inside: NODE_TASKS, all: NODE_TASKS + 1 },
      { inside: 12, all: 13 },
      { inside: 4, all: 5 },
    ]);
  });
});

describe('checkRelaunchTasks: a relaunch that would meet RLIMIT_NPROC is refused before anything starts', () => {
  test('room by /proc/loadavg alone (every task of the system and the relaunch\'s within the limit): no process is listed', () => {
    const sys = procWith('100', 91, [[1000, 7]]);
    checkRelaunchTasks(sys, FORKING, ROOTLESS);
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/loadavg' },
      { op: 'readFile', path: '/proc/self/cgroup' },
    ]);
  });

  test("not by /proc/loadavg: the uid's tasks are counted, each process's status read; room for the relaunch's", () => {
    const sys = procWith('16', 300, [
      [1000, 7],
      [0, 40],
    ]);
    checkRelaunchTasks(sys, FORKING, ROOTLESS);
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/loadavg' },
      { op: 'readdir', path: '/proc' },
      { op: 'readFile', path: '/proc/10/status' },
      { op: 'readFile', path: '/proc/11/status' },
      { op: 'readFile', path: '/proc/self/cgroup' },
    ]);
  });

  test('no room: fork(2) EAGAIN named with the limit, the count and what the relaunch takes (one task fewer without a new pid namespace); nothing started', () => {
    const sys = procWith('15', 300, [
      [1000, 7],
      [0, 40],
    ]);
    const err = thrown(() => checkRelaunchTasks(sys, FORKING, ROOTLESS));
    expect(err).toBeInstanceOf(SyscallError);
    expect([(err as SyscallError).message, (err as SyscallError).exitCode]).toEqual([
      "fork: EAGAIN (RLIMIT_NPROC 15: 7 processes and threads of uid 1000, and starting mountkit again in the container's namespaces takes 9 more)",
      1,
    ]);
    expect(sys.effects()).toEqual([]);
    expect(() => checkRelaunchTasks(sys, DIRECT, ROOTLESS)).not.toThrow();
    expect(() => checkRelaunchTasks(procWith('14', 300, [[1000, 7]]), DIRECT, ROOTLESS)).toThrow(
      "fork: EAGAIN (RLIMIT_NPROC 14: 7 processes and threads of uid 1000, and starting mountkit again in the container's namespaces takes 8 more)",
    );
  });

  test("a Node whose options give V8's pool 8 workers (nodeTasks 11): the relaunch takes 4 more than with the default", () => {
    const withPool = { ...FORKING, nodeTasks: 11 };
    expect(() => checkRelaunchTasks(procWith('20', 300, [[1000, 7]]), withPool, ROOTLESS)).not.toThrow();
    const sys = procWith('19', 300, [[1000, 7]]);
    expect(() => checkRelaunchTasks(sys, withPool, ROOTLESS)).toThrow(
      "fork: EAGAIN (RLIMIT_NPROC 19: 7 processes and threads of uid 1000, and starting mountkit again in the container's namespaces takes 13 more)",
    );
    expect(sys.effects()).toEqual([]);
  });

  test("a first process that copies a foreground console counts libuv's pool, which it starts once the relaunch runs (a thread it cannot start aborts it)", () => {
    const procs: [number, number][] = [[1000, 7]];
    expect(() => checkRelaunchTasks(procWith('19', 300, procs), { ...FORKING, consolePool: 4 }, ROOTLESS)).toThrow(
      "fork: EAGAIN (RLIMIT_NPROC 19: 7 processes and threads of uid 1000, and starting mountkit again in the container's namespaces, and copying its console here, takes 13 more)",
    );
    expect(() => checkRelaunchTasks(procWith('19', 300, procs), FORKING, ROOTLESS)).not.toThrow();
    expect(() => checkRelaunchTasks(procWith('20', 300, procs), { ...FORKING, consolePool: 4 }, ROOTLESS)).not.toThrow();
    expect(() => checkRelaunchTasks(procWith('23', 300, procs), { ...FORKING, consolePool: 8 }, ROOTLESS)).toThrow('copying its console here, takes 17 more');
    expect(() => checkRelaunchTasks(procWith('24', 300, procs), { ...FORKING, consolePool: 8 }, ROOTLESS)).not.toThrow();
  });

  test('a process gone between the listing and its status is not counted', () => {
    const sys = procWith('15', 300, [
      [1000, 7],
      [1000, 1],
    ]).failOn('readFile', 'ENOENT', { path: '/proc/11/status' });
    expect(() => checkRelaunchTasks(sys, FORKING, ROOTLESS)).toThrow('7 processes and threads of uid 1000');
  });

  test('nothing to tell by (no RLIMIT_NPROC, /proc/self/limits or /proc unreadable): the relaunch goes ahead', () => {
    const unlimited = procWith('unlimited', 300, [[1000, 7]]);
    checkRelaunchTasks(unlimited, FORKING, ROOTLESS);
    expect(unlimited.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/self/cgroup' },
    ]);
    expect(() => checkRelaunchTasks(procWith('8', 300, [[1000, 7]]).failOn('readFile', 'EACCES', { path: '/proc/self/limits' }), FORKING, ROOTLESS)).not.toThrow();
    expect(() => checkRelaunchTasks(procWith('8', 300, [[1000, 7]]).failOn('readdir', 'EACCES', { path: '/proc' }), FORKING, ROOTLESS)).not.toThrow();
  });

  test('root in the initial user namespace: RLIMIT_NPROC not read without a user namespace (the kernel does not hold it to the limit); with one, the tasks there, counted from none, against the limit', () => {
    const plain = procWith('4', 300, [[0, 200]]);
    checkRelaunchTasks(plain, { forks: true, userNamespace: false }, ROOT);
    expect(plain.calls).toEqual([{ op: 'readFile', path: '/proc/self/cgroup' }]);
    const roomy = procWith('8', 300, [[0, 200]]);
    checkRelaunchTasks(roomy, FORKING, ROOT);
    expect(roomy.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/self/cgroup' },
    ]);
    expect(() => checkRelaunchTasks(procWith('7', 300, [[0, 200]]), FORKING, ROOT)).toThrow(
      "fork: EAGAIN (RLIMIT_NPROC 7: starting mountkit again in the container's user namespace takes 8 processes and threads there)",
    );
  });

  const ROOT_STATUS = 'Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n';
  const IDENTITY = '         0          0 4294967295\n';
  const INITIAL = 'user:[4026531837]';
  const NESTED = 'user:[4026532179]';
  test.each<[string, NprocView, boolean]>([
    ['root', { status: ROOT_STATUS, uidMap: IDENTITY }, true],
    ['root of a user namespace mapped onto root (INIT_USER)', { status: ROOT_STATUS, uidMap: '         0          0          1\n' }, true],
    ["root of a rootless container's user namespace, whatever its capabilities there", { status: ROOT_STATUS, uidMap: '         0       1000          1\n' }, false],
    ['a user with CAP_SYS_ADMIN', { status: 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\n', uidMap: IDENTITY }, true],
    ['a user with CAP_SYS_RESOURCE', { status: 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000001000000\n', uidMap: IDENTITY }, true],
    ['a user with other capabilities', { status: 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000000800\n', uidMap: IDENTITY }, false],
    ['a user whose effective uid is root: the real one counts', { status: 'Uid:\t1000\t0\t0\t0\nCapEff:\t0000000000000000\n', uidMap: '' }, false],
    ['root, a kernel without user namespaces (no uid_map)', { status: 'Uid:\t0\t0\t0\t0\nCapEff:\t0000000000000000\n' }, true],
    ['a user with CAP_SYS_ADMIN, a kernel without user namespaces (no uid_map, no link)', { status: 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\n' }, true],
    ['a user with CAP_SYS_ADMIN in a fresh namespace, no maps written yet, its link unread', { status: 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\n', uidMap: '' }, false],
    // With the user namespace's link and the owner of a root-owned sysctl:
    ['root, in the initial user namespace, kuid 0 shown as 0', { status: ROOT_STATUS, uidMap: IDENTITY, userNs: INITIAL, rootUid: 0 }, true],
    ['root of a namespace made by root with `0 0 1`: kuid 0 shown as 0', { status: ROOT_STATUS, uidMap: '         0          0          1\n', userNs: NESTED, rootUid: 0 }, true],
    ["root of a namespace nested in a rootless container's, `0 0 1` there too: kuid 0 unmapped, shown as the overflow uid", { status: ROOT_STATUS, uidMap: '         0          0          1\n', userNs: NESTED, rootUid: 65534 }, false],
    ['a user with CAP_SYS_ADMIN in a nested namespace with the identity map: not the initial namespace', { status: 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\n', uidMap: IDENTITY, userNs: NESTED, rootUid: 0 }, false],
    ['a user with CAP_SYS_ADMIN in the initial namespace', { status: 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\n', uidMap: IDENTITY, userNs: INITIAL, rootUid: 0 }, true],
    ['uid 65534 mapped in a namespace that does not map kuid 0: the overflow uid tells nothing, uid_map does', { status: 'Uid:\t65534\t65534\t65534\t65534\nCapEff:\t0000000000000000\n', uidMap: '         0       1000          1\n         1     100000      65536\n', userNs: NESTED, rootUid: 65534 }, false],
    ['a changed overflow uid (kernel.overflowuid) is the one that tells nothing', { status: 'Uid:\t0\t0\t0\t0\nCapEff:\t0000000000000000\n', uidMap: '         0          0          1\n', userNs: NESTED, rootUid: 0, overflowUid: 0 }, true],
    ['an unmapped uid (no uid_map lines written yet) is not kuid 0, though it shows as kuid 0 does', { status: 'Uid:\t65534\t65534\t65534\t65534\nCapEff:\t000001ffffffffff\n', uidMap: '', userNs: NESTED, rootUid: 65534 }, false],
  ])('whom the kernel spares from RLIMIT_NPROC: %s (%#)', (_who, view, spared) => {
    expect(sparedByKernel(view)).toBe(spared);
  });

  /** /proc/self's status, uid_map and user namespace link, and the sysctls stat(2) and read for kuid 0, owned by `rootUid` as shown here. */
  function withIdentity(sys: FakeSyscalls, status: string, uidMap: string, userNs: string, rootUid = 0): FakeSyscalls {
    sys.addFile('/proc/self/status', status).addFile('/proc/self/uid_map', uidMap).addSymlink('/proc/self/ns/user', userNs);
    sys.addFile('/proc/sys/kernel/ostype', 'Linux\n').addFile('/proc/sys/kernel/overflowuid', '65534\n').chown('/proc/sys/kernel/ostype', rootUid, rootUid);
    return sys.clearCalls();
  }

  test('a user the kernel spares (CAP_SYS_ADMIN) is not refused for its count; checked once one is found, and not for a relaunch into a user namespace', () => {
    const capable = () => withIdentity(procWith('15', 300, [[1000, 7]]), 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\n', '         0          0 4294967295\n', 'user:[4026531837]');
    const sys = capable();
    checkRelaunchTasks(sys, { forks: true, userNamespace: false }, ROOTLESS);
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/loadavg' },
      { op: 'readdir', path: '/proc' },
      { op: 'readFile', path: '/proc/10/status' },
      { op: 'readFile', path: '/proc/self/status' },
      { op: 'readFile', path: '/proc/self/uid_map' },
      { op: 'readlink', path: '/proc/self/ns/user' },
      { op: 'stat', path: '/proc/sys/kernel/ostype' },
      { op: 'readFile', path: '/proc/sys/kernel/overflowuid' },
      { op: 'readFile', path: '/proc/self/cgroup' },
    ]);
    expect(() => checkRelaunchTasks(capable(), FORKING, ROOTLESS)).toThrow('RLIMIT_NPROC 15: 7 processes and threads of uid 1000');
  });

  test('held as the kernel holds them, whatever uid_map reads: CAP_SYS_ADMIN in a nested user namespace with the identity map (its link not the initial one\'s), and root of one nested in a rootless container\'s, mapped `0 0 1` (kuid 0 shown as the overflow uid)', () => {
    const nested = withIdentity(procWith('15', 300, [[1000, 7]]), 'Uid:\t1000\t1000\t1000\t1000\nCapEff:\t0000000000200000\n', '         0          0 4294967295\n', 'user:[4026532179]');
    expect(() => checkRelaunchTasks(nested, { forks: true, userNamespace: false }, { uid: 1000, inUserNamespace: false })).toThrow('fork: EAGAIN (RLIMIT_NPROC 15: 7 processes and threads of uid 1000');
    const rootless = withIdentity(procWith('15', 300, [[0, 7]]), 'Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n', '         0          0          1\n', 'user:[4026532179]', 65534);
    expect(() => checkRelaunchTasks(rootless, { forks: true, userNamespace: false }, { uid: 0, inUserNamespace: true })).toThrow('fork: EAGAIN (RLIMIT_NPROC 15: 7 processes and threads of uid 0');
    // Made by root with `0 0 1`: kuid 0 is shown as 0, root's own uid there, and spared.
    const byRoot = withIdentity(procWith('15', 300, [[0, 7]]), 'Uid:\t0\t0\t0\t0\nCapEff:\t000001ffffffffff\n', '         0          0          1\n', 'user:[4026532179]');
    expect(() => checkRelaunchTasks(byRoot, { forks: true, userNamespace: false }, { uid: 0, inUserNamespace: true })).not.toThrow();
  });

  test("root inside a user namespace already (`unshare -Ur mountkit run`) is held to it: its uid's tasks counted", () => {
    expect(() => checkRelaunchTasks(procWith('12', 300, [[0, 7]]), { forks: true, userNamespace: false }, { uid: 0, inUserNamespace: true })).toThrow('RLIMIT_NPROC 12: 7 processes and threads of uid 0');
  });
});

/** A host whose cgroup v1 hierarchies are cpu and pids together, and memory (cgroup v2 at unified). */
const COMOUNTED_MOUNTINFO = [
  '24 1 0:22 / /sys rw,nosuid,nodev,noexec - sysfs sysfs rw',
  '25 24 0:23 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:4 - tmpfs tmpfs ro,mode=755',
  '26 25 0:24 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec shared:5 - cgroup2 cgroup2 rw,nsdelegate',
  '27 25 0:25 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec shared:6 - cgroup cgroup rw,memory',
  '28 25 0:26 / /sys/fs/cgroup/cpu,pids rw,nosuid,nodev,noexec shared:7 - cgroup cgroup rw,cpu,pids',
  '',
].join('\n');

describe('pids cgroups: pids.max of the cgroup and of each one above it', () => {
  // The last two columns: how often where cgroup v2 is mounted is asked, and the mount table (COMOUNTED_MOUNTINFO).
  test.each<[string, string, string, ReturnType<typeof pidsCgroups>, number, number]>([
    ['cgroup v2', '0::/user.slice/user-1000.slice/session-2.scope\n', '/sys/fs/cgroup', [{ mount: '/sys/fs/cgroup', path: '/user.slice/user-1000.slice/session-2.scope' }], 1, 0],
    ['a hybrid host: v1 controllers, pids among them (not cgroup v2\'s then)', '9:name=systemd:/\n8:pids:/a/b\n4:memory:/m\n1:cpu,cpuacct:/\n0::/\n', '/sys/fs/cgroup/unified', [{ mount: '/sys/fs/cgroup/pids', path: '/a/b' }], 0, 0],
    ['a hybrid host whose v1 hierarchies lack pids: cgroup v2 where it is mounted', '4:memory:/m\n0::/u\n', '/sys/fs/cgroup/unified', [{ mount: '/sys/fs/cgroup/unified', path: '/u' }], 1, 0],
    ['pids with other controllers in one v1 hierarchy: where the mount table shows it', '9:name=systemd:/\n4:cpu,pids:/x\n3:memory:/\n0::/\n', '/sys/fs/cgroup/unified', [{ mount: '/sys/fs/cgroup/cpu,pids', path: '/x' }], 0, 1],
    ['"name=pids", a hierarchy without the controller: cgroup v2', '5:name=pids:/x\n0::/v\n', '/sys/fs/cgroup', [{ mount: '/sys/fs/cgroup', path: '/v' }], 1, 0],
  ])('/proc/self/cgroup, %s (where cgroup v2 is mounted asked only for its line, the mount table only for a shared hierarchy)', (_what, text, mount, cgroups, asked, tableAsked) => {
    const cgroup2Mount = jest.fn(() => mount);
    const mountTable = jest.fn(() => parseMountInfo(COMOUNTED_MOUNTINFO));
    expect(pidsCgroups(text, cgroup2Mount, mountTable)).toEqual(cgroups);
    expect([cgroup2Mount.mock.calls.length, mountTable.mock.calls.length]).toEqual([asked, tableAsked]);
  });

  test('pids shares a hierarchy no mount shows: none, cgroup v2 not read (it has no pids controller then)', () => {
    const cgroup2Mount = jest.fn(() => '/sys/fs/cgroup');
    expect(pidsCgroups('4:cpu,pids:/x\n0::/v\n', cgroup2Mount, () => parseMountInfo('27 25 0:25 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n'))).toEqual([]);
    expect(pidsCgroups('4:cpu,pids:/x\n0::/v\n', cgroup2Mount)).toEqual([]);
    expect(cgroup2Mount).not.toHaveBeenCalled();
  });

  test.each<[string, string, string, ReturnType<typeof comountedPidsCgroup>]>([
    ['the hierarchy\'s root mounted', '30 25 0:40 / /sys/fs/cgroup/cpu,pids rw - cgroup cgroup rw,cpu,pids', '/a/b', { mount: '/sys/fs/cgroup/cpu,pids', path: '/a/b' }],
    ['pids last of the super options, other options before', '30 25 0:40 / /mnt/cg rw,nosuid shared:9 - cgroup none rw,xattr,cpu,pids,clone_children', '/a', { mount: '/mnt/cg', path: '/a' }],
    ['a directory of the hierarchy mounted (a container\'s): the path below it', '30 25 0:40 /docker/c1 /sys/fs/cgroup/cpu,pids ro - cgroup cgroup rw,cpu,pids', '/docker/c1/app', { mount: '/sys/fs/cgroup/cpu,pids', path: '/app' }],
    ['the cgroup the mounted directory itself', '30 25 0:40 /docker/c1 /sys/fs/cgroup/cpu,pids ro - cgroup cgroup rw,cpu,pids', '/docker/c1', { mount: '/sys/fs/cgroup/cpu,pids', path: '/' }],
    ['a cgroup outside the mounted directory', '30 25 0:40 /docker/c1 /sys/fs/cgroup/cpu,pids ro - cgroup cgroup rw,cpu,pids', '/docker/c10', undefined],
    ['a root above the cgroup namespace', '30 25 0:40 /.. /sys/fs/cgroup/cpu,pids ro - cgroup cgroup rw,cpu,pids', '/x', undefined],
    ['a second mount that holds it, after one that does not', '30 25 0:40 /other /a rw - cgroup cgroup rw,cpu,pids\n31 25 0:40 / /b rw - cgroup cgroup rw,cpu,pids', '/x', { mount: '/b', path: '/x' }],
    ['"name=pids" names no controller', '30 25 0:40 / /n rw - cgroup cgroup rw,name=pids', '/x', undefined],
    ['cgroup2, whose super options name none', '30 25 0:40 / /u rw - cgroup2 cgroup2 rw,pids', '/x', undefined],
    ['a filesystem of another type named pids', '30 25 0:40 / /t rw - tmpfs pids rw,pids', '/x', undefined],
  ])('the mount of a shared hierarchy: %s', (_what, mountinfo, path, cgroup) => {
    expect(comountedPidsCgroup(parseMountInfo(`${mountinfo}\n`), path)).toEqual(cgroup);
  });

  test.each<[string, string, string[]]>([
    ['/a/b', '/sys/fs/cgroup', ['/sys/fs/cgroup/a/b', '/sys/fs/cgroup/a', '/sys/fs/cgroup']],
    ['/', '/sys/fs/cgroup/pids', ['/sys/fs/cgroup/pids']],
    ['/a/', '/sys/fs/cgroup', ['/sys/fs/cgroup/a', '/sys/fs/cgroup']],
  ])('the cgroup %s under %s, then each above it', (path, mount, dirs) => {
    expect(cgroupDirs({ mount, path })).toEqual(dirs);
  });

  /**
   * procWith, in the cgroup v2 /a/b, whose parent /a holds `current` tasks of at most `max`; /a/b has no limit of its own.
   * cgroup v2 at /sys/fs/cgroup (its root's cgroup.controllers there), or at `mount`, a hybrid host's.
   */
  function inCgroup(sys: FakeSyscalls, max: string, current: number, mount = '/sys/fs/cgroup'): FakeSyscalls {
    if (mount === '/sys/fs/cgroup') sys.addFile('/sys/fs/cgroup/cgroup.controllers', 'pids\n');
    else sys.addFile(`${mount}/cgroup.controllers`, 'pids\n');
    return sys
      .addFile('/proc/self/cgroup', '0::/a/b\n')
      .addFile(`${mount}/a/b/pids.max`, 'max\n')
      .addFile(`${mount}/a/b/pids.current`, '7\n')
      .addFile(`${mount}/a/pids.max`, `${max}\n`)
      .addFile(`${mount}/a/pids.current`, `${current}\n`)
      .clearCalls();
  }

  test('a relaunch that would take a cgroup above past its pids.max: fork(2) EAGAIN naming that file, its count and what the relaunch takes; root is held to it too', () => {
    const sys = inCgroup(procWith('unlimited', 300, []), '20', 12);
    const err = thrown(() => checkRelaunchTasks(sys, FORKING, ROOT));
    expect(err).toBeInstanceOf(SyscallError);
    expect([(err as SyscallError).message, (err as SyscallError).exitCode]).toEqual([
      "fork: EAGAIN (/sys/fs/cgroup/a/pids.max 20: pids.current 12, and starting mountkit again in the container's namespaces takes 9 more)",
      1,
    ]);
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/self/cgroup' },
      { op: 'stat', path: '/sys/fs/cgroup/cgroup.controllers' },
      { op: 'readFile', path: '/sys/fs/cgroup/a/b/pids.max' },
      { op: 'readFile', path: '/sys/fs/cgroup/a/pids.max' },
      { op: 'readFile', path: '/sys/fs/cgroup/a/pids.current' },
    ]);
    expect(sys.effects()).toEqual([]);
    expect(() => checkRelaunchTasks(inCgroup(procWith('unlimited', 300, []), '21', 12), FORKING, ROOT)).not.toThrow();
    expect(() => checkRelaunchTasks(inCgroup(procWith('unlimited', 300, []), '20', 12), DIRECT, ROOTLESS)).not.toThrow();
  });

  test('a hybrid host, whose /sys/fs/cgroup is no cgroup v2 root (no cgroup.controllers): its cgroup v2 at /sys/fs/cgroup/unified', () => {
    const sys = inCgroup(procWith('unlimited', 300, []), '20', 12, '/sys/fs/cgroup/unified');
    expect(() => checkRelaunchTasks(sys, FORKING, ROOT)).toThrow(
      "fork: EAGAIN (/sys/fs/cgroup/unified/a/pids.max 20: pids.current 12, and starting mountkit again in the container's namespaces takes 9 more)",
    );
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/self/cgroup' },
      { op: 'stat', path: '/sys/fs/cgroup/cgroup.controllers' },
      { op: 'readFile', path: '/sys/fs/cgroup/unified/a/b/pids.max' },
      { op: 'readFile', path: '/sys/fs/cgroup/unified/a/pids.max' },
      { op: 'readFile', path: '/sys/fs/cgroup/unified/a/pids.current' },
    ]);
  });

  test('pids sharing a cgroup v1 hierarchy with cpu: its mount read from /proc/self/mountinfo, then its pids.max files; a mount table that cannot be read tells nothing', () => {
    const comounted = (sys: FakeSyscalls) =>
      sys
        .addFile('/proc/self/cgroup', '9:name=systemd:/a/b\n4:cpu,pids:/a/b\n3:memory:/a/b\n0::/a/b\n')
        .addFile('/proc/self/mountinfo', COMOUNTED_MOUNTINFO)
        .addFile('/sys/fs/cgroup/cpu,pids/a/b/pids.max', 'max\n')
        .addFile('/sys/fs/cgroup/cpu,pids/a/pids.max', '20\n')
        .addFile('/sys/fs/cgroup/cpu,pids/a/pids.current', '12\n')
        .clearCalls();
    const sys = comounted(procWith('unlimited', 300, []));
    expect(() => checkRelaunchTasks(sys, FORKING, ROOT)).toThrow(
      "fork: EAGAIN (/sys/fs/cgroup/cpu,pids/a/pids.max 20: pids.current 12, and starting mountkit again in the container's namespaces takes 9 more)",
    );
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/self/cgroup' },
      { op: 'readFile', path: '/proc/self/mountinfo' },
      { op: 'readFile', path: '/sys/fs/cgroup/cpu,pids/a/b/pids.max' },
      { op: 'readFile', path: '/sys/fs/cgroup/cpu,pids/a/pids.max' },
      { op: 'readFile', path: '/sys/fs/cgroup/cpu,pids/a/pids.current' },
    ]);
    const unread = comounted(procWith('unlimited', 300, [])).failOn('readFile', 'EACCES', { path: '/proc/self/mountinfo' });
    expect(() => checkRelaunchTasks(unread, FORKING, ROOT)).not.toThrow();
    expect(unread.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readFile', path: '/proc/self/cgroup' },
      { op: 'readFile', path: '/proc/self/mountinfo' },
    ]);
  });

  test('the root cgroup (no pids.max), and a cgroup whose files cannot be read, are passed over', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/cgroup', '0::/\n').addFile('/sys/fs/cgroup/cgroup.controllers', '').clearCalls();
    checkRelaunchTasks(sys, { forks: true, userNamespace: false }, ROOT);
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/cgroup' },
      { op: 'stat', path: '/sys/fs/cgroup/cgroup.controllers' },
      { op: 'readFile', path: '/sys/fs/cgroup/pids.max' },
    ]);
    const unreadable = inCgroup(procWith('unlimited', 300, []), '20', 12).failOn('readFile', 'EACCES', { path: '/sys/fs/cgroup/a/pids.current' });
    expect(() => checkRelaunchTasks(unreadable, FORKING, ROOT)).not.toThrow();
  });

  test('a start that failed with EAGAIN, RLIMIT_NPROC not met: named with the cgroup whose pids.max it met', () => {
    const sys = inCgroup(procWith('unlimited', 300, [], '20'), '12', 12);
    for (let fd = 0; fd <= 10; fd++) sys.addFile(`/proc/self/fd/${fd}`);
    expect(spawnError(sys, 'unshare', undefined, 1000).message).toBe('fork "unshare": EAGAIN (/sys/fs/cgroup/a/pids.max 12: pids.current 12, and starting a process takes 1 more)');
  });
});

describe("spawnError: a start Node's spawn could not make, named with the limit it met", () => {
  /** /proc/self/fd listing `open` descriptors below the limit and the listing's own. */
  function withOpen(sys: FakeSyscalls, open: number): FakeSyscalls {
    for (let fd = 0; fd <= open; fd++) sys.addFile(`/proc/self/fd/${fd}`);
    return sys.clearCalls();
  }

  test('its errno not known yet (the helper, whose error event comes later): EMFILE when fewer than four descriptors are free below RLIMIT_NOFILE', () => {
    const sys = withOpen(procWith('unlimited', 300, [], '20'), 17);
    const err = spawnError(sys, 'unshare', undefined, 1000);
    expect([err.message, err.exitCode]).toEqual(['spawn "unshare": EMFILE (RLIMIT_NOFILE 20: 17 descriptors are open)', 1]);
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'readdir', path: '/proc/self/fd' },
    ]);
  });

  test('no descriptor left to read /proc/self/limits: EMFILE, the limit from getrlimit(2)', () => {
    const sys = procWith('unlimited', 300, [], '20');
    sys.setrlimit(RLIMITS.get('RLIMIT_NOFILE')!, 20n, 20n);
    sys.clearCalls().failOn('readFile', 'EMFILE', { path: '/proc/self/limits' });
    expect(spawnError(sys, 'unshare', undefined, 1000).message).toBe('spawn "unshare": EMFILE (RLIMIT_NOFILE 20: every descriptor is open)');
    expect(sys.calls).toEqual([
      { op: 'readFile', path: '/proc/self/limits' },
      { op: 'getrlimit', resource: RLIMITS.get('RLIMIT_NOFILE') },
    ]);
  });

  test('descriptors to spare: EAGAIN of fork(2), with RLIMIT_NPROC when it is met, else the other limits it may be', () => {
    expect(spawnError(withOpen(procWith('7', 300, [[1000, 7]], '20'), 10), 'unshare', undefined, 1000).message).toBe(
      'fork "unshare": EAGAIN (RLIMIT_NPROC 7: 7 processes and threads of uid 1000, and starting a process takes 1 more)',
    );
    expect(spawnError(withOpen(procWith('unlimited', 300, [], '20'), 10), 'unshare', undefined, 1000).message).toBe(
      'fork "unshare": EAGAIN (no room for another task: RLIMIT_NPROC, a pids cgroup or kernel.threads-max)',
    );
  });

  test.each<[string, string]>([
    ['EAGAIN', 'fork "/bin/sh": EAGAIN (RLIMIT_NPROC 7: 7 processes and threads of uid 1000, and starting a process takes 1 more)'],
    ['EMFILE', 'spawn "/bin/sh": EMFILE (RLIMIT_NOFILE 20: 10 descriptors are open)'],
    ['ENOENT', 'execve "/bin/sh": ENOENT'],
  ])('its errno known (the relaunch, from the error event), %s: the call it comes from', (code, message) => {
    expect(spawnError(withOpen(procWith('7', 300, [[1000, 7]], '20'), 10), '/bin/sh', code, 1000).message).toBe(message);
  });
});

describe('overflowUidOf', () => {
  const unreadable = (): string => {
    throw new Error('EACCES');
  };
  test.each<[string, (file: string) => string, number]>([
    ['the sysctl as read, its newline trimmed', (file) => (file === OVERFLOW_UID_SYSCTL ? '65000\n' : ''), 65000],
    ['the default where it cannot be read', unreadable, 65534],
    ['the default where it holds no number', () => 'nobody\n', 65534],
    ['the default for an empty file', () => '', 65534],
  ])('%s', (_what, read, uid) => expect(overflowUidOf(read)).toBe(uid));
});
