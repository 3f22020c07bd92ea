import 'reflect-metadata';
import { tmpdir } from 'os';
import * as path from 'path';
import { AT_EMPTY_PATH, MS_BIND, MS_SLAVE, O_CLOEXEC, O_DIRECTORY, O_PATH, OPEN_TREE_CLONE } from '../../src/core/constants';
import { RELAUNCH_FIRST_JOIN_FD } from '../../src/core/namespaces';
import { buildPlan } from '../../src/core/plan';
import type { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig } from '../helpers/config';
import { JAIL_STAND_IN_EXTRA } from '../helpers/jail-stand-in';
import { EXEC_ONLY_EXTRA, planHost } from '../helpers/plan-host';
import { relayRemoval } from '../helpers/notify-removal';
import type { IdMapping } from '../../src/core/syscalls/types';

const HOST = '/run/systemd/notify';
/** How the relay holds its two directories open. */
const HELD = O_PATH | O_DIRECTORY | O_CLOEXEC;

/** Node's os.tmpdir(), made absolute, as the relay takes it. */
const TMP = path.resolve(tmpdir());

/** A fake host with the rootfs's /run, user namespaces and, unless `noTmp`, os.tmpdir(). */
function fakeRoot(noTmp = false): FakeSyscalls {
  const sys = planHost().addDir('/bundle/rootfs/run').addFile('/proc/self/ns/user').addFile('/proc/sys/user/max_user_namespaces', '2147483647');
  return noTmp ? sys : sys.addDir(TMP, 0o1777);
}

type Ns = { type: string; path?: string };
const MAPS = { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };
/** A rootless user's maps: the container's root is that user. */
const ownMaps = (id: number) => ({ uidMappings: [{ containerID: 0, hostID: id, size: 1 }], gidMappings: [{ containerID: 0, hostID: id, size: 1 }] });

function plan(namespaces: Ns[], extra: { notifySocket?: string; userns?: boolean; program?: string; noTmp?: boolean; prepare?: (sys: FakeSyscalls) => void; euid?: number; joinedUidMaps?: IdMapping[]; maps?: Record<string, string>; preserveFds?: number } = {}) {
  const config = makeConfig({
    ...(extra.preserveFds ? { preserveFds: extra.preserveFds } : {}),
    namespaces: namespaces as never,
    process: { args: [extra.program ?? 'sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, terminal: false },
    ...(extra.userns ? (extra.euid ? ownMaps(extra.euid) : MAPS) : {}),
    ...(extra.notifySocket === undefined ? {} : { notifySocket: extra.notifySocket }),
  });
  const sys = fakeRoot(extra.noTmp);
  extra.prepare?.(sys);
  const bound = jest.spyOn(sys, 'bindUnixDatagram');
  const opened = jest.spyOn(sys, 'open');
  const copied = jest.spyOn(sys, 'openTree');
  const result = buildPlan(config, { syscalls: sys, plugins: { plugins: [{ module: 'builtin:bind' }] }, extra: [JAIL_STAND_IN_EXTRA, EXEC_ONLY_EXTRA], launch: { relaunched: false, inUserNamespace: false, euid: extra.euid ?? 0, egid: extra.euid ?? 0 }, ...(extra.joinedUidMaps ? { joinedUidMaps: extra.joinedUidMaps } : {}), ...(extra.maps ? { readUserNamespaceMaps: mapsReader(extra.maps) } : {}) });
  // The descriptor of the run's socket, as the port returned it, and those of the two directories the relay holds.
  const socketFd = bound.mock.results[0]?.value as number | undefined;
  const held = opened.mock.calls.flatMap(([file, flags], i) => (flags === HELD && /\/mountkit-notify-/.test(file) ? [opened.mock.results[i].value as number] : []));
  // The copy of the socket's directory, made through its held descriptor.
  const at = copied.mock.calls.findIndex(([dirfd]) => dirfd === held[1]);
  const tree = at < 0 || copied.mock.results[at].type !== 'return' ? undefined : (copied.mock.results[at].value as number);
  return { result, sys, socketFd, held, tree, calls: result.calls.map((c) => [c.phase, c.plugin, c.record] as const) };
}

/** The relay's removal of its socket and directories once the socket is closed (relayRemoval), as the plan lists it in `phase`. */
const removal = (phase: string, parent: string, held: number[], tree?: number) => relayRemoval(parent, held, tree).map((record) => [phase, 'notify-socket', record]);

/** A reader of the host's map files, as cli/plan.ts reads them: `maps` by file name, else ENOENT. */
function mapsReader(maps: Record<string, string>): (file: string) => string {
  return (file) => {
    if (file in maps) return maps[file];
    throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
  };
}

/** The namespace's file as a bind of a file of an nsfs mount, as the kernel's /proc/PID/ns links lead to one. */
function nsfsAt(joined: string): (sys: FakeSyscalls) => void {
  return (sys) => {
    sys.addFile('/nsfs/ns').addFile(joined).mount('nsfs', '/nsfs', 'nsfs', 0n, null);
    sys.mount('/nsfs/ns', joined, null, MS_BIND, null);
  };
}

describe('mountkit plan with NOTIFY_SOCKET (core/notify-socket.ts)', () => {
  /** The run's directory, from the relay's first call. */
  function parentOf(calls: ReturnType<typeof plan>['calls']): string {
    const first = calls.find(([, plugin]) => plugin === 'notify-socket');
    return (first?.[2] as { path: string }).path;
  }

  test("the first process makes the run's socket before the relaunch, the relaunched process binds its directory at /run/notify and names it in the program's environment, the first process removes it once the relaunch has ended", () => {
    const { result, sys, calls, socketFd: fd, held } = plan([{ type: 'mount' }], { notifySocket: HOST });
    expect(result.error).toBeUndefined();
    const parent = parentOf(calls);
    expect(path.dirname(parent)).toBe(TMP);
    expect(path.basename(parent)).toMatch(/^mountkit-notify-[0-9a-f]{12}$/);
    const dir = `${parent}/notify`;
    const socket = `${dir}/notify.sock`;
    const relay = calls.filter(([, plugin]) => plugin === 'notify-socket');
    expect(fd).toEqual(expect.any(Number));
    expect(held).toHaveLength(2);
    for (const n of [fd, ...held]) expect(sys.openFds()).not.toContain(n);
    expect(relay).toEqual([
      ['namespaces', 'notify-socket', { op: 'mkdir', path: parent, mode: 0o700 }],
      ['namespaces', 'notify-socket', { op: 'open', path: parent, flags: HELD, mode: 0 }],
      ['namespaces', 'notify-socket', { op: 'mkdir', path: dir, mode: 0o755 }],
      ['namespaces', 'notify-socket', { op: 'open', path: dir, flags: HELD, mode: 0 }],
      ['namespaces', 'notify-socket', { op: 'chmod', path: dir, mode: 0o755 }],
      ['namespaces', 'notify-socket', { op: 'bindUnixDatagram', path: socket }],
      ['namespaces', 'notify-socket', { op: 'chmod', path: socket, mode: 0o777 }],
      ['namespaces', 'notify-socket', { op: 'chmod', path: parent, mode: 0o700 }],
      ['poststop', 'notify-socket', { op: 'close', fd }],
      ...removal('poststop', parent, held),
    ]);
    // A mount namespace alone takes a relaunch too: the first process stays outside to read the socket.
    const relaunch = calls.findIndex(([, , r]) => r.op === 'relaunch');
    expect(calls.indexOf(relay[7])).toBe(relaunch - 1);
    const mounts = result.calls.filter((c) => c.plugin === 'bind');
    expect(new Set(mounts.map((c) => c.destination))).toEqual(new Set(['/run/notify']));
    expect(mounts.map((c) => c.record)).toContainEqual(expect.objectContaining({ path: dir }));
    const execve = calls.find(([, , r]) => r.op === 'execve')![2] as { envp: string[] };
    expect(execve.envp).toEqual(['PATH=/bin', 'NOTIFY_SOCKET=/run/notify/notify.sock', 'HOME=/']);
    expect(calls.indexOf(relay[8])).toBeGreaterThan(calls.findIndex(([, , r]) => r.op === 'execve'));
    expect(sys.node(parent)).toBeUndefined();
  });

  test.each([
    ['making one', [{ type: 'mount' }, { type: 'user' }], { userns: true }],
    ['joining one by path', [{ type: 'mount' }, { type: 'user', path: '/proc/7/ns/user' }], { prepare: nsfsAt('/proc/7/ns/user') }],
  ])("root %s: the socket's directory copied (open_tree(2)) before the run's directory's mode is set, which stays root's, 0700; the relaunch given the copy after its namespaces' descriptors attaches it at /run/notify; the first process closes its own copy once the relaunch has started", (_what, namespaces, extra) => {
    const { result, calls, held, tree, socketFd } = plan(namespaces, { notifySocket: HOST, ...extra });
    expect(result.error).toBeUndefined();
    const parent = parentOf(calls);
    expect(calls.filter(([, plugin]) => plugin === 'notify-socket').slice(5, 9).map(([, , r]) => r)).toEqual([
      { op: 'bindUnixDatagram', path: `${parent}/notify/notify.sock` },
      { op: 'chmod', path: `${parent}/notify/notify.sock`, mode: 0o777 },
      { op: 'openTree', dirfd: held[1], path: '', flags: OPEN_TREE_CLONE | AT_EMPTY_PATH | O_CLOEXEC },
      { op: 'chmod', path: parent, mode: 0o700 },
    ]);
    expect(calls.some(([, , r]) => r.op === 'chown')).toBe(false);
    // The relaunched process checks it (a directory) and marks it close-on-exec, then the bind handler attaches it, then closes it.
    const slot = RELAUNCH_FIRST_JOIN_FD;
    const relaunched = calls.slice(calls.findIndex(([, , r]) => r.op === 'relaunch'));
    expect(relaunched.filter(([, , r]) => 'fd' in r && r.fd === slot).map(([, , r]) => r.op)).toEqual(['setCloexec', 'close']);
    const at = relaunched.findIndex(([, , r]) => r.op === 'moveMount' && r.fromDirfd === slot);
    expect(relaunched[at]?.[1]).toBe('bind');
    // Made a slave through its descriptor first thing once attached: a peer of the host's mount would carry the container's mounts there.
    expect(relaunched[at + 1]).toEqual(['mounts', 'bind', { op: 'mount', source: null, target: `/proc/thread-self/fd/${slot}`, fstype: null, flags: MS_SLAVE, data: null }]);
    expect(relaunched.some(([, , r]) => Object.values(r).includes(`${parent}/notify`))).toBe(false);
    // The first process's own copy closed once the relaunch has started, before the relaunched process's steps.
    const closedAt = calls.findIndex(([, , r]) => r.op === 'close' && r.fd === tree);
    expect(closedAt).toBeGreaterThan(calls.findIndex(([, , r]) => r.op === 'relaunch'));
    expect(closedAt).toBeLessThan(calls.findIndex(([, plugin]) => plugin === 'bind'));
    expect(calls.slice(-6)).toEqual([['poststop', 'notify-socket', { op: 'close', fd: socketFd }], ...removal('poststop', parent, held)]);
  });

  test.each([
    ['the copy given on 10, the passed descriptor after it on 11', undefined, 11],
    ['no copy (open_tree: ENOSYS), the passed descriptor on 10', 'ENOSYS', 10],
  ])('root making a user namespace, a descriptor passed to the container (--preserve-fds 1): %s, as the relaunched process takes it to 3 before its execve', (_what, refused, from) => {
    const prepare = (sys: FakeSyscalls): void => {
      sys.inheritFile(3);
      if (refused) sys.failOn('openTree', refused);
    };
    const { result, calls } = plan([{ type: 'mount' }, { type: 'user' }], { notifySocket: HOST, userns: true, preserveFds: 1, prepare });
    expect(result.error).toBeUndefined();
    const relaunched = calls.slice(calls.findIndex(([, , r]) => r.op === 'relaunch'));
    expect(relaunched.filter(([, , r]) => r.op === 'dup3' && r.newfd === 3).map(([, , r]) => r)).toEqual([{ op: 'dup3', oldfd: from, newfd: 3, flags: 0 }]);
  });

  test("root making a user namespace where the kernel makes no copy (open_tree: ENOSYS, before Linux 5.2): the run's directory is given to the container root's host uid once everything in it is made, and the relaunch binds it by path", () => {
    const { result, calls, tree } = plan([{ type: 'mount' }, { type: 'user' }], { notifySocket: HOST, userns: true, prepare: (sys) => sys.failOn('openTree', 'ENOSYS') });
    expect(result.error).toBeUndefined();
    expect(tree).toBeUndefined();
    const parent = parentOf(calls);
    expect(calls.filter(([, plugin]) => plugin === 'notify-socket').slice(6, 10).map(([, , r]) => r)).toEqual([
      { op: 'chmod', path: `${parent}/notify/notify.sock`, mode: 0o777 },
      { op: 'openTree', dirfd: expect.any(Number), path: '', flags: OPEN_TREE_CLONE | AT_EMPTY_PATH | O_CLOEXEC },
      { op: 'chmod', path: parent, mode: 0o700 },
      { op: 'chown', path: parent, uid: 100000, gid: -1 },
    ]);
    // The bind handler's copy (or mount(2)) of the directory, looked up by its path.
    const named = (r: object): boolean => Object.values(r).includes(`${parent}/notify`);
    expect(calls.filter(([, plugin, r]) => plugin === 'bind' && named(r)).map(([, , r]) => r.op)).toEqual(['openTreeAttr']);
    expect(calls.some(([, , r]) => r.op === 'moveMount' && r.fromDirfd === RELAUNCH_FIRST_JOIN_FD)).toBe(false);
  });

  test.each([
    ['its uid maps as run reads them (PlanOptions.joinedUidMaps), taking 0 to host uid 200000: the directory is given to that uid, 0700', [{ containerID: 0, hostID: 200000, size: 65536 }], 0o700, [{ op: 'chown', path: 'PARENT', uid: 200000, gid: -1 }]],
    ['no maps (a path other than /proc/PID/ns/user): 0711, no chown', undefined, 0o711, []],
  ])('root joining a user namespace by path where the kernel makes no copy (open_tree: EPERM), %s', (_what, joinedUidMaps, mode, chowns) => {
    const joined = '/proc/7/ns/user';
    const refused = (sys: FakeSyscalls): void => {
      nsfsAt(joined)(sys);
      sys.failOn('openTree', 'EPERM');
    };
    const { result, calls } = plan([{ type: 'mount' }, { type: 'user', path: joined }], { notifySocket: HOST, prepare: refused, ...(joinedUidMaps ? { joinedUidMaps } : {}) });
    expect(result.error).toBeUndefined();
    const parent = parentOf(calls);
    const relay = calls.filter(([, plugin]) => plugin === 'notify-socket').map(([, , r]) => r);
    expect(relay[8]).toEqual({ op: 'chmod', path: parent, mode });
    expect(relay.filter((r) => r.op === 'chown')).toEqual(chowns.map((c) => ({ ...c, path: parent })));
  });

  test("root joining a user namespace by path, its maps read as run reads them (PlanOptions.readUserNamespaceMaps): where the kernel makes no copy, the directory is given to its root's host uid; maps beside the path that differ are refused before any call, as run refuses them", () => {
    const joined = '/proc/7/ns/user';
    const maps = { '/proc/7/uid_map': '0 200000 65536\n', '/proc/7/gid_map': '0 200000 65536\n' };
    const refused = (sys: FakeSyscalls): void => {
      nsfsAt(joined)(sys);
      sys.failOn('openTree', 'EPERM');
    };
    const { result, calls } = plan([{ type: 'mount' }, { type: 'user', path: joined }], { notifySocket: HOST, prepare: refused, maps });
    expect(result.error).toBeUndefined();
    expect(calls.filter(([, , r]) => r.op === 'chown').map(([, , r]) => r)).toEqual([{ op: 'chown', path: parentOf(calls), uid: 200000, gid: -1 }]);
    const config = makeConfig({ namespaces: [{ type: 'mount' }, { type: 'user', path: joined }], ...MAPS });
    const sys = fakeRoot();
    nsfsAt(joined)(sys);
    sys.clearCalls();
    expect(() => buildPlan(config, { syscalls: sys, launch: { relaunched: false, inUserNamespace: false, euid: 0, egid: 0 }, readUserNamespaceMaps: mapsReader(maps) })).toThrow('linux.uidMappings: differ from the maps of the user namespace joined (/proc/7/ns/user): "0 200000 65536"');
    expect(sys.calls.filter((c) => !['stat', 'lstat', 'readFile', 'readlink', 'fstat', 'statfs', 'fstatfs', 'access'].includes(c.op))).toEqual([]);
  });

  test('a step of the relaunched process that fails: the plan stops there, and the socket is removed all the same, as the relaunch ends', () => {
    const { result, sys, calls, socketFd, held } = plan([{ type: 'mount' }], { notifySocket: HOST, program: '/nope' });
    expect(result.error).toBeDefined();
    expect(calls.some(([, , r]) => r.op === 'execve')).toBe(false);
    const parent = parentOf(calls);
    expect(calls.slice(-6)).toEqual([['poststop', 'notify-socket', { op: 'close', fd: socketFd }], ...removal('poststop', parent, held)]);
    expect(result.calls.slice(-6).filter((c) => c.errno !== undefined)).toEqual([]);
    expect(sys.node(parent)).toBeUndefined();
  });

  test('a step before the relaunch that fails (the user namespace cannot be made): the socket removed right after it, under the relay', () => {
    const { result, calls, socketFd, held, tree } = plan([{ type: 'mount' }, { type: 'user' }], { notifySocket: HOST, userns: true, prepare: (sys) => sys.failOn('userNamespace', 'ENOSPC') });
    expect((result.error as Error).message).toMatch(/ENOSPC/);
    expect(calls.some(([, , r]) => r.op === 'relaunch')).toBe(false);
    const parent = parentOf(calls);
    expect(tree).toEqual(expect.any(Number));
    expect(calls.slice(-8)).toEqual([
      ['namespaces', 'launcher', expect.objectContaining({ op: 'userNamespace' })],
      ['namespaces', 'notify-socket', { op: 'close', fd: socketFd }],
      ...removal('namespaces', parent, held, tree),
    ]);
  });

  test("a rootless plan (euid 4242, the container's root that user): the run's directory stays the user's, 0700, no chown, whoever plans it", () => {
    const { result, calls } = plan([{ type: 'mount' }, { type: 'user' }], { notifySocket: HOST, userns: true, euid: 4242 });
    expect(result.error).toBeUndefined();
    const relay = calls.filter(([, plugin]) => plugin === 'notify-socket').map(([, , r]) => r);
    expect(relay.slice(6, 8)).toEqual([
      { op: 'chmod', path: `${parentOf(calls)}/notify/notify.sock`, mode: 0o777 },
      { op: 'chmod', path: parentOf(calls), mode: 0o700 },
    ]);
    expect(relay.some((r) => r.op === 'chown')).toBe(false);
  });

  test('a TMPDIR that is not there: the plan stops at the first mkdir with the error run gives, before the relaunch', () => {
    const { result, calls } = plan([{ type: 'mount' }], { notifySocket: HOST, noTmp: true });
    expect((result.error as Error).message).toBe(`mkdir "${parentOf(calls)}": ENOENT`);
    expect(result.calls[result.calls.length - 1]).toMatchObject({ phase: 'namespaces', plugin: 'notify-socket', record: { op: 'mkdir' }, errno: 'ENOENT' });
    expect(calls.some(([, , r]) => r.op === 'relaunch')).toBe(false);
  });

  test('without a caller\'s socket: no relay, and a mount namespace alone is entered without a relaunch', () => {
    const { result, calls } = plan([{ type: 'mount' }]);
    expect(result.error).toBeUndefined();
    expect(calls.filter(([, plugin]) => plugin === 'notify-socket')).toEqual([]);
    expect(calls.some(([, , r]) => r.op === 'relaunch')).toBe(false);
    expect((calls.find(([, , r]) => r.op === 'execve')![2] as { envp: string[] }).envp).toEqual(['PATH=/bin', 'HOME=/']);
  });
});
