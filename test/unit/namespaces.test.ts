import { readFileSync } from 'fs';
import * as path from 'path';
import type { NamespaceSpec, NamespaceType, RootfsConfig } from '../../src/core/config/model';
import { CLONE_NEWIPC, CLONE_NEWNET, CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWUTS, CLONE_NEWCGROUP, O_CLOEXEC, O_RDONLY } from '../../src/core/constants';
import { ConfigError } from '../../src/core/errors';
import {
  CLONE_FS,
  CLONE_NEWTIME,
  PID_NAMESPACE_PARENT,
  RELAUNCH_FIRST_JOIN_FD,
  applyTimeOffsets,
  parseTimensOffsets,
  relaunchForks,
  RELAUNCH_USERNS_FD,
  checkUserNamespaceMaps,
  launcherJoins,
  mapsBesidePath,
  namespaceTypes,
  enterNamespaces,
  wrongNamespaceFile,
  hasRuntimeHooks,
  identityUidMap,
  inInitialUserNamespace,
  inInitialUserNamespaceHere,
  launcherGuessHolds,
  launcherRootUserNamespaceHolds,
  launcherUserNamespaceHolds,
  staysWhereStarted,
  planLaunch,
  timeOffsetsText,
  userNamespaceProblem,
} from '../../src/core/namespaces';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { exitStatus } from '../../src/cli/run';
import { INSPECTOR_UNPUBLISHED } from '../../src/cli/node-env';

const ns = (...types: string[]): NamespaceSpec[] =>
  types.map((t) => {
    const [type, path] = t.split('=');
    return (path ? { type, path } : { type }) as NamespaceSpec;
  });
const first = { relaunched: false, inUserNamespace: false };
const hook = { path: '/usr/local/bin/net-setup', args: [], env: [] };

describe('planLaunch', () => {
  test.each([
    [
      'runc spec default: relaunch under unshare(1) for the pid namespace',
      ns('pid', 'network', 'ipc', 'uts', 'mount'),
      { relaunch: ['unshare', '--pid', '--net', '--ipc', '--uts', '--mount', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT], unshareFlags: 0, joins: [] },
    ],
    [
      'no pid namespace: everything in-process',
      ns('mount', 'uts', 'ipc', 'network', 'cgroup'),
      { relaunch: [], unshareFlags: CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWCGROUP, joins: [] },
    ],
    ['no mount namespace listed: one is made anyway', ns('uts'), { relaunch: [], unshareFlags: CLONE_NEWUTS | CLONE_NEWNS, joins: [] }],
    [
      'joins by path happen in-process',
      ns('mount', 'network=/proc/1/ns/net'),
      { relaunch: [], unshareFlags: CLONE_NEWNS, joins: [{ type: 'network', path: '/proc/1/ns/net', flag: CLONE_NEWNET }] },
    ],
    [
      'a pid namespace by path is joined here, before a relaunch under unshare(1) without a fork',
      ns('pid=/proc/9/ns/pid', 'mount', 'ipc=/proc/9/ns/ipc'),
      {
        relaunch: ['unshare', '--mount', '--propagation', 'unchanged', '--'],
        unshareFlags: 0,
        joins: [{ type: 'pid', path: '/proc/9/ns/pid', flag: CLONE_NEWPID }],
      },
    ],
    [
      'a user namespace already entered is not made again',
      ns('user', 'mount'),
      { relaunch: [], unshareFlags: CLONE_NEWNS, joins: [] },
    ],
  ])('%s', (_name, namespaces, expected) => {
    expect(planLaunch(namespaces, { ...first, inUserNamespace: true })).toEqual(expected);
  });

  test('started by the shell launcher inside new pid and mount namespaces: the rest in-process', () => {
    expect(planLaunch(ns('pid', 'network', 'ipc', 'uts', 'mount', 'cgroup=/proc/3/ns/cgroup'), { ...first, startedInPidNamespace: true })).toEqual({
      relaunch: [],
      unshareFlags: CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS,
      joins: [{ type: 'cgroup', path: '/proc/3/ns/cgroup', flag: CLONE_NEWCGROUP }],
    });
  });

  test.each([
    [ns('pid', 'mount'), true],
    [ns('mount'), false],
    [ns('pid=/proc/9/ns/pid', 'mount'), false],
  ])('launcherGuessHolds(%j) = %s', (namespaces, expected) => expect(launcherGuessHolds(namespaces)).toBe(expected));

  describe("launcherUserNamespaceHolds: the user namespace the shell launcher made for a rootless run (its uid_map and gid_map) is the one the config asks for", () => {
    const own = [{ containerID: 0, hostID: 1000, size: 1 }];
    const maps = { uid: '         0       1000          1\n', gid: '         0       1000          1\n' };
    const config = (extra: Record<string, unknown> = {}) => ({ namespaces: ns('pid', 'mount', 'user'), uidMappings: own, gidMappings: own, ...extra });
    test.each([
      ['the same maps', config(), maps],
      // The exec plugin's step raises this process's score to it: no capability needed (a relaunch writes nothing from the host either).
      ['a process.oomScoreAdj above this process\'s own score', config({ process: { oomScoreAdj: 500 } }), { ...maps, oomScore: 100 }],
      ['a process.oomScoreAdj equal to it', config({ process: { oomScoreAdj: -100 } }), { ...maps, oomScore: -100 }],
    ])('%s: it holds', (_name, c, found) => expect(launcherUserNamespaceHolds(c, found)).toBe(true));
    test.each([
      ['another hostID in the uid map', config({ uidMappings: [{ containerID: 0, hostID: 1001, size: 1 }] })],
      ['another gid map', config({ gidMappings: [{ containerID: 0, hostID: 100, size: 1 }] })],
      ['two entries', config({ uidMappings: [...own, { containerID: 1, hostID: 100000, size: 65536 }] })],
      ['no gidMappings', config({ gidMappings: undefined })],
      ['no user namespace', config({ namespaces: ns('pid', 'mount') })],
      ['a user namespace given by path', config({ namespaces: ns('pid', 'mount', 'user=/proc/7/ns/user') })],
      ['another namespace given by path', config({ namespaces: ns('pid', 'mount', 'user', 'network=/proc/7/ns/net') })],
    ])('%s: it does not (the launcher starts Node again)', (_name, c) => expect(launcherUserNamespaceHolds(c, maps)).toBe(false));
    test.each([
      // Written from the host by a relaunch's first process (oom-score.ts presetOomScore): lowering needs CAP_SYS_RESOURCE in the initial user namespace.
      ['a process.oomScoreAdj below this process\'s own score', { ...maps, oomScore: 100 }],
      ['a process.oomScoreAdj, this process\'s score not read', maps],
    ])('%s: it does not (the launcher starts Node again)', (_name, found) => expect(launcherUserNamespaceHolds(config({ process: { oomScoreAdj: 99 } }), found)).toBe(false));
  });

  describe("launcherRootUserNamespaceHolds: the user namespace the shell launcher made for root (maps written from the host, setgroups allowed) is the one a relaunch would make, with nothing left for the host", () => {
    const wide = [
      { containerID: 0, hostID: 0, size: 1 },
      { containerID: 1, hostID: 100000, size: 65535 },
    ];
    const text = '         0          0          1\n         1     100000      65535\n';
    const own = { uid: text, gid: text, setgroups: 'allow\n', euid: 0, egid: 0, pipeOwners: [0, 0], overflowUid: 65534, hostFiles: false };
    // Kubernetes' shape: no host id 0 in it, Node started through setpriv(1).
    const range = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const rangeText = '         0     100000      65536\n';
    const ranged = { ...own, uid: rangeText, gid: rangeText, pipeOwners: [] };
    const config = (extra: Record<string, unknown> = {}, process: Record<string, unknown> = {}) => ({
      namespaces: ns('pid', 'mount', 'user'),
      uidMappings: wide,
      gidMappings: wide,
      ...extra,
      process: { uid: 0, ...process },
    });
    test.each([
      ['the same maps, uid 0 there, pipes of the container user', config(), own],
      ['a container user the maps leave out: a relaunch gives it nothing', config({}, { uid: 70000 }), { ...own, pipeOwners: [65534] }],
      ['no pipe among the streams', config({}, { uid: 1 }), { ...own, pipeOwners: [] }],
      ['pipes of the container user (uid 1, host 100000)', config({}, { uid: 1 }), { ...own, pipeOwners: [1, 1] }],
      ['a --log or --pid-file, where the namespace\'s uid 0 is the host\'s', config(), { ...own, hostFiles: true }],
      ['a range of host ids without 0, no stream a pipe', config({ uidMappings: range, gidMappings: range }), ranged],
      ['a process.oomScoreAdj not below this process\'s own score', config({}, { oomScoreAdj: 0 }), { ...own, oomScore: 0 }],
      ['a range of host ids without 0, a process.oomScoreAdj above this process\'s own score', config({ uidMappings: range, gidMappings: range }, { oomScoreAdj: 1000 }), { ...ranged, oomScore: -5 }],
    ])('%s: it holds', (_name, c, found) => expect(launcherRootUserNamespaceHolds(c, found)).toBe(true));
    test.each([
      ['other maps', config({ uidMappings: [wide[0]] }), own],
      ['a process.oomScoreAdj below this process\'s own score', config({}, { oomScoreAdj: -1 }), { ...own, oomScore: 0 }],
      ['setgroups denied (unshare --map-root-user\'s)', config(), { ...own, setgroups: 'deny\n' }],
      ['this process unmapped (a map the kernel refused)', config(), { ...own, euid: 65534 }],
      ['its gid unmapped', config(), { ...own, egid: 65534 }],
      ['a console socket, connected from the host', config({ consoleSocket: '/run/console.sock' }), own],
      ['an idmapped mount', config({ mounts: [{ idmap: {} }] }), own],
      ['a pipe of another user than the container user\'s', config({}, { uid: 1 }), { ...own, pipeOwners: [1, 0] }],
      ['a pipe shown as the overflow uid, the container user\'s', config({}, { uid: 65534 }), { ...own, pipeOwners: [65534] }],
      ['a range of host ids without 0, a pipe of the host\'s root (shown as the overflow uid)', config({ uidMappings: range, gidMappings: range }), { ...ranged, pipeOwners: [65534] }],
      ['a range of host ids without 0, a --log or --pid-file (opened on the host by a relaunch\'s first process)', config({ uidMappings: range, gidMappings: range }), { ...ranged, hostFiles: true }],
    ])('%s: it does not (the launcher starts Node again)', (_name, c, found) => expect(launcherRootUserNamespaceHolds(c, found)).toBe(false));
  });

  test("the launcher's guess does not hold with runtime hooks: the Node entry runs them where it was started", () => {
    expect(launcherGuessHolds(ns('pid', 'mount'), first, { hooks: { prestart: [], createRuntime: [hook] } })).toBe(false);
    expect(launcherGuessHolds(ns('pid', 'mount'), first, { hooks: { prestart: [], createRuntime: [] } })).toBe(true);
  });

  test.each([
    [{}, false],
    [{ hooks: { prestart: [], createRuntime: [] } }, false],
    [{ hooks: { prestart: [hook], createRuntime: [] } }, true],
    [{ hooks: { prestart: [], createRuntime: [hook, hook] } }, true],
    [{ hooks: { prestart: [], createRuntime: [], poststart: [hook] } }, true],
    [{ hooks: { prestart: [], createRuntime: [], poststop: [hook] } }, true],
    [{ hooks: { prestart: [], createRuntime: [], createContainer: [hook], startContainer: [hook] } }, false],
  ])('hasRuntimeHooks(%j) = %s', (config, expected) => expect(hasRuntimeHooks(config)).toBe(expected));

  test.each([
    [{}, false],
    [{ process: { terminal: false } }, false],
    [{ process: { terminal: true } }, true],
    [{ process: { terminal: true }, consoleSocket: '/run/c.sock' }, false],
    [{ process: { terminal: false }, hooks: { prestart: [hook], createRuntime: [] } }, true],
    // bin/mountkit's hooks relay serves the channel: the run's Node prepares the container where it is.
    [{ hooks: { prestart: [], createRuntime: [], poststop: [hook] }, runtimeChannel: 7 }, false],
    [{ process: { terminal: true }, hooks: { prestart: [hook], createRuntime: [] }, runtimeChannel: 7 }, true],
    [{ process: { terminal: true }, hostSockets: { console: 8 } }, false],
    // The caller's sd_notify(3) socket, which the first process serves (core/notify-socket.ts).
    [{ notifySocket: '/run/systemd/notify' }, true],
    [{ notifySocket: '@notify', hooks: { prestart: [], createRuntime: [], poststop: [hook] }, runtimeChannel: 7 }, true],
  ])('staysWhereStarted(%j) = %s: runtime hooks without a runtime channel passed, a foreground console (process.terminal without --console-socket or a console socket passed), or a NOTIFY_SOCKET to serve', (config, expected) => {
    expect(staysWhereStarted(config)).toBe(expected);
    // The shell launcher's guess never holds then: it leaves such a config to the Node entry.
    if (expected) expect(launcherGuessHolds(ns('pid', 'mount'), first, config)).toBe(false);
  });

  test('a foreground console makes a relaunch without a pid namespace too; the relaunched process makes none', () => {
    const config = { process: { terminal: true } };
    expect(planLaunch(ns('mount'), first, config).relaunch).toEqual(['unshare', '--mount', '--propagation', 'unchanged', '--']);
    expect(planLaunch(ns('mount'), { ...first, relaunched: true }, config).relaunch).toEqual([]);
    expect(planLaunch(ns('mount'), first, { ...config, consoleSocket: '/run/c.sock' }).relaunch).toEqual([]);
  });

  test.each([
    [
      'no pid namespace: a relaunch without a fork, the joins left to it',
      ns('mount', 'uts', 'network=/proc/1/ns/net'),
      { relaunch: ['unshare', '--mount', '--uts', '--propagation', 'unchanged', '--'], unshareFlags: 0, joins: [] },
    ],
    [
      'no namespace listed: a relaunch into a mount namespace of its own',
      ns(),
      { relaunch: ['unshare', '--mount', '--propagation', 'unchanged', '--'], unshareFlags: 0, joins: [] },
    ],
    [
      'a pid namespace: the relaunch it needs anyway',
      ns('pid', 'mount'),
      { relaunch: ['unshare', '--pid', '--mount', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT], unshareFlags: 0, joins: [] },
    ],
  ])('with runtime hooks there is always a relaunch, whose starter runs them where mountkit was started: %s', (_name, namespaces, expected) => {
    const hooks = { prestart: [hook], createRuntime: [] };
    expect(planLaunch(namespaces, first, { hooks })).toEqual(expected);
    const relaunched = planLaunch(namespaces, { ...first, relaunched: true }, { hooks });
    expect(relaunched.relaunch).toEqual([]);
  });

  test.each([
    ['a new pid namespace', ns('pid', 'mount'), {}, true],
    ['a new pid namespace, with a user namespace (nsenter first)', ns('pid', 'mount', 'user=/proc/7/ns/user'), {}, true],
    ['a pid namespace joined by path: the relaunch is the container', ns('pid=/proc/1/ns/pid', 'mount'), {}, false],
    ['no pid namespace, runtime hooks', ns('mount'), { hooks: { prestart: [hook], createRuntime: [] } }, false],
  ])('relaunchForks: %s', (_what, namespaces, config, forks) => {
    const plan = planLaunch(namespaces, first, config);
    expect(plan.relaunch.length).toBeGreaterThan(0);
    expect(relaunchForks(plan)).toBe(forks);
    // The shell that forks the container is the last thing before mountkit's own command.
    if (forks) expect(plan.relaunch.slice(-PID_NAMESPACE_PARENT.length)).toEqual(PID_NAMESPACE_PARENT);
    else expect(plan.relaunch).not.toContain('/bin/sh');
  });

  test("bin/mountkit runs the same shell under unshare as the Node entry's relaunch, which also writes the exit status on descriptor 3 for the launcher (the launcher cannot import it)", () => {
    const launcher = readFileSync(path.join(__dirname, '..', '..', 'bin', 'mountkit'), 'utf8');
    const [sh, c, script, name] = PID_NAMESPACE_PARENT;
    const end = 'exit $mountkit_status';
    expect(script.endsWith(`; ${end}`)).toBe(true);
    // The seal of node's file made in place (seal_in_place) runs in the forked subshell, before its exec.
    const fork = '(MOUNTKIT_NAMESPACE_PARENT=$mountkit_parent exec "$@"';
    expect(script).toContain(fork);
    const withStatus = `${script.slice(0, -end.length)}echo "status $mountkit_status" >&3; exit $mountkit_status`.replace(fork, `('"$mountkit_inplace"'${fork.slice(1)}`);
    // The launcher's Node path, taken before it gave the caller's variables back (a caller's `main` among them), after
    // the wait for root's maps (empty but for root_maps), through setpriv(1) where root's maps need it, and through the
    // seal of node's file (seal_node), in place or in a throwaway namespace, where it is made.
    const inPlace = '${mountkit_inplace:+"$mountkit_mounter" "$mountkit_file" "$$"}';
    const seal = '${mountkit_seal:+"$mountkit_unshare" --mount --propagation private -- /bin/sh -c "$mountkit_seal" sh "$mountkit_enterer" "$mountkit_mounter" "$mountkit_file"}';
    expect(launcher).toContain(
      `-- ${sh} ${c} "$mountkit_wait"'${withStatus}' ${name} \${mountkit_setpriv:+"$mountkit_setpriv" --reuid=0 --regid=0 --clear-groups --inh-caps=-all} ${inPlace} ${seal} node ${INSPECTOR_UNPUBLISHED} "$mountkit_main" "$@"`,
    );
  });

  test("bin/mountkit's shell, told the maps were not written, drops setpriv(1)'s words, as many as the launcher gives", () => {
    const launcher = readFileSync(path.join(__dirname, '..', '..', 'bin', 'mountkit'), 'utf8');
    const words = /\$\{mountkit_setpriv:\+([^}]*)\} \$\{mountkit_inplace:\+[^}]*\} \$\{mountkit_seal:\+[^}]*\} node --inspect-publish-uid=stderr "\$mountkit_main"/.exec(launcher)![1].split(' ');
    expect(words[0]).toBe('"$mountkit_setpriv"');
    expect(launcher).toContain(`[ "$mountkit_go" = mapped ] || shift ${words.length}; `);
  });

  test('the relaunched process only joins what the launcher did not', () => {
    expect(planLaunch(ns('pid', 'mount', 'ipc=/proc/2/ns/ipc'), { relaunched: true, inUserNamespace: false })).toEqual({
      relaunch: [],
      unshareFlags: 0,
      joins: [{ type: 'ipc', path: '/proc/2/ns/ipc', flag: CLONE_NEWIPC }],
    });
  });
});

describe('a new time namespace and its offsets', () => {
  test('left out of the relaunch under unshare(1), whose child would be in it already; made by the relaunched process, as by any other', () => {
    expect(planLaunch(ns('pid', 'mount', 'time'), first).relaunch).toEqual(['unshare', '--pid', '--mount', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT]);
    expect(planLaunch(ns('pid', 'mount', 'time'), { ...first, relaunched: true }).unshareFlags).toBe(CLONE_NEWTIME);
    expect(planLaunch(ns('pid', 'mount', 'time'), { ...first, startedInPidNamespace: true }).unshareFlags).toBe(CLONE_NEWTIME);
    expect(planLaunch(ns('mount', 'time'), first).unshareFlags).toBe(CLONE_NEWNS | CLONE_NEWTIME);
    expect(planLaunch(ns('pid', 'mount'), { ...first, relaunched: true }).unshareFlags).toBe(0);
  });

  test.each<[RootfsConfig['timeOffsets'], string]>([
    [undefined, ''],
    [{}, ''],
    [{ monotonic: { secs: 86400, nanosecs: 0 } }, 'monotonic 86400 0\n'],
    [{ monotonic: { secs: -5, nanosecs: 1 }, boottime: { secs: 172800, nanosecs: 999999999 } }, 'monotonic -5 1\nboottime 172800 999999999\n'],
  ])('timeOffsetsText(%j)', (offsets, text) => expect(timeOffsetsText(offsets)).toBe(text));

  test('written to /proc/self/timens_offsets right after the unshare, before any process enters the namespace; not without a new one', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/timens_offsets', 'monotonic 0 0\nboottime 0 0\n');
    const offsets = { boottime: { secs: 7, nanosecs: 0 } };
    enterNamespaces(sys, planLaunch(ns('mount', 'time'), first), offsets);
    expect(sys.calls).toEqual([
      { op: 'unshare', flags: CLONE_NEWNS | CLONE_NEWTIME },
      { op: 'writeFile', path: '/proc/self/timens_offsets', data: 'boottime 7 0\n' },
    ]);
    const joined = new FakeSyscalls().addFile('/proc/self/timens_offsets', '');
    enterNamespaces(joined, planLaunch(ns('mount'), first), offsets);
    expect(joined.callsOf('writeFile')).toEqual([]);
  });

  test('the namespaces given by path are all opened, then joined with setns(2) in config order (after CLONE_FS for a mount namespace), then closed', () => {
    const sys = new FakeSyscalls().addFile('/proc/7/ns/mnt').addFile('/proc/8/ns/uts');
    enterNamespaces(sys, planLaunch(ns('mount=/proc/7/ns/mnt', 'uts=/proc/8/ns/uts', 'ipc'), first));
    const [mnt, uts] = sys.callsOf('setns').map((c) => c.fd);
    expect(uts).not.toBe(mnt);
    expect(sys.calls).toEqual([
      // Both opened from where mountkit stands: once in the mount namespace joined, a
      // path would be looked up from its root.
      { op: 'open', path: '/proc/7/ns/mnt', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
      { op: 'open', path: '/proc/8/ns/uts', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
      { op: 'unshare', flags: CLONE_FS },
      { op: 'setns', fd: mnt, nstype: CLONE_NEWNS },
      { op: 'setns', fd: uts, nstype: CLONE_NEWUTS },
      { op: 'close', fd: mnt },
      { op: 'close', fd: uts },
      // The joined mount namespace is copied, never changed.
      { op: 'unshare', flags: CLONE_NEWNS | CLONE_NEWIPC },
    ]);
  });

  test.each([
    ['started by the shell launcher in new pid and mount namespaces', 'pid', { ...first, startedInPidNamespace: true }, 0],
    ['relaunched under unshare(1)', 'pid', { ...first, relaunched: true }, 0],
    ['without a pid namespace', 'uts', first, CLONE_NEWNS],
  ])('a mount namespace given by path is copied after the join, wherever it is joined: %s', (_where, other, ctx, made) => {
    const withJoin = planLaunch(ns(other, 'mount=/proc/7/ns/mnt', 'ipc'), ctx);
    expect(withJoin.relaunch).toEqual([]);
    expect(withJoin.joins).toEqual([{ type: 'mount', path: '/proc/7/ns/mnt', flag: CLONE_NEWNS }]);
    expect(withJoin.unshareFlags & CLONE_NEWNS).toBe(CLONE_NEWNS);
    // Without the join, the mount namespace the launcher or unshare(1) made is the container's.
    expect(planLaunch(ns(other, 'mount', 'ipc'), ctx).unshareFlags & CLONE_NEWNS).toBe(made);
  });

  test('a refused setns(2) names the namespace and its path, and every descriptor is closed', () => {
    const sys = new FakeSyscalls().addFile('/proc/7/ns/net').addFile('/proc/7/ns/ipc').failOn('setns', 'EPERM');
    expect(() => enterNamespaces(sys, planLaunch(ns('uts=/proc/7/ns/net', 'ipc=/proc/7/ns/ipc'), first))).toThrow(/^linux\.namespaces "uts": setns "\/proc\/7\/ns\/net": EPERM$/);
    expect(sys.calls.map((c) => c.op)).toEqual(['open', 'open', 'setns', 'close', 'close']);
    expect(sys.openFds()).toEqual([]);
  });

  test("setns(2)'s EINVAL says what the descriptor's link in /proc/self/fd shows the file to be (wrongNamespaceFile)", () => {
    const sys = new FakeSyscalls().addFile('/run/netns/file').failOn('setns', 'EINVAL');
    expect(() => enterNamespaces(sys, planLaunch(ns('network=/run/netns/file'), first))).toThrow(/^linux\.namespaces "network": setns "\/run\/netns\/file": EINVAL \(not a namespace file\)$/);
    const [fd] = sys.callsOf('setns').map((c) => c.fd);
    expect(sys.calls.filter((c) => c.op !== 'open')).toEqual([
      { op: 'setns', fd, nstype: CLONE_NEWNET },
      { op: 'readlink', path: `/proc/self/fd/${fd}` },
      { op: 'close', fd },
    ]);
    // A link that cannot be read leaves the error as setns(2) gave it.
    const unread = new FakeSyscalls().addFile('/run/netns/file').failOn('setns', 'EINVAL').failOn('readlink', 'ENOENT');
    expect(() => enterNamespaces(unread, planLaunch(ns('network=/run/netns/file'), first))).toThrow(/^linux\.namespaces "network": setns "\/run\/netns\/file": EINVAL$/);
  });

  test.each<[string, NamespaceType, string | undefined]>([
    ['net:[4026531840]', 'network', undefined],
    ['mnt:[4026531841]', 'mount', undefined],
    ['pid:[4026531836]', 'pid', undefined],
    ['uts:[4026531838]', 'network', 'namespace type uts, not network'],
    ['mnt:[4026531841]', 'ipc', 'namespace type mount, not ipc'],
    ['time:[4026531834]', 'cgroup', 'namespace type time, not cgroup'],
    ['/run/netns/file', 'network', 'not a namespace file'],
    ['pipe:[12345]', 'network', 'not a namespace file'],
    ['anon_inode:[pidfd]', 'pid', 'not a namespace file'],
  ])('wrongNamespaceFile(%j, %j)', (link, type, detail) => expect(wrongNamespaceFile(link, type)).toBe(detail));

  test('a path that cannot be opened names the namespace too, nothing is joined, and what was opened is closed', () => {
    const sys = new FakeSyscalls().addFile('/proc/7/ns/uts');
    expect(() => enterNamespaces(sys, planLaunch(ns('uts=/proc/7/ns/uts', 'network=/nope'), first))).toThrow(/^linux\.namespaces "network": open "\/nope": ENOENT$/);
    expect(sys.calls).toEqual([
      { op: 'open', path: '/proc/7/ns/uts', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
      { op: 'open', path: '/nope', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
      { op: 'close', fd: expect.any(Number) },
    ]);
    expect(sys.openFds()).toEqual([]);
  });

  test.each<[string, string, [string, string][]]>([
    ['as the kernel pads it', 'monotonic          5         0\nboottime   -172800 999999999\n', [['monotonic', '5 0'], ['boottime', '-172800 999999999']]],
    ['unpadded, without the last newline', 'monotonic 0 0\nboottime 0 0', [['monotonic', '0 0'], ['boottime', '0 0']]],
    ['empty', '', []],
  ])('parseTimensOffsets: %s', (_what, text, held) => expect([...parseTimensOffsets(text)]).toEqual(held));

  describe('applyTimeOffsets (runPipeline): the offsets of the namespace the next execve enters', () => {
    const fresh = 'monotonic          0         0\nboottime           0         0\n';
    const offsets = { monotonic: { secs: 86400, nanosecs: 5 } };

    test('read, then written where they differ: only the clocks listed', () => {
      const sys = new FakeSyscalls().addFile('/proc/self/timens_offsets', fresh);
      applyTimeOffsets(sys, offsets);
      expect(sys.calls).toEqual([
        { op: 'readFile', path: '/proc/self/timens_offsets' },
        { op: 'writeFile', path: '/proc/self/timens_offsets', data: 'monotonic 86400 5\n' },
      ]);
    });

    test('not written where the namespace has them already (unshare --time --monotonic=SECS), the clocks not listed left as they are', () => {
      const sys = new FakeSyscalls().addFile('/proc/self/timens_offsets', 'monotonic      86400         5\nboottime          60         0\n');
      applyTimeOffsets(sys, offsets);
      expect(sys.calls).toEqual([{ op: 'readFile', path: '/proc/self/timens_offsets' }]);
    });

    test('written where one listed clock differs, though another listed one matches', () => {
      const sys = new FakeSyscalls().addFile('/proc/self/timens_offsets', 'monotonic      86400         5\nboottime           0         0\n');
      applyTimeOffsets(sys, { ...offsets, boottime: { secs: 7, nanosecs: 0 } });
      expect(sys.callsOf('writeFile')).toEqual([{ op: 'writeFile', path: '/proc/self/timens_offsets', data: 'monotonic 86400 5\nboottime 7 0\n' }]);
    });

    test('nothing read or written without offsets', () => {
      const sys = new FakeSyscalls();
      applyTimeOffsets(sys, undefined);
      applyTimeOffsets(sys, {});
      expect(sys.calls).toEqual([]);
    });

    test('EACCES, a namespace a process has entered, is a ConfigError saying where to give them', () => {
      const sys = new FakeSyscalls().addFile('/proc/self/timens_offsets', fresh).failOn('writeFile', 'EACCES', { times: Infinity });
      const apply = () => applyTimeOffsets(sys, offsets);
      expect(apply).toThrow(ConfigError);
      expect(apply).toThrow(
        "linux.timeOffsets: the time namespace this process's next execve enters has had a process in it, which fixed its offsets (monotonic 0 0, boottime 0 0; " +
          'writeFile "/proc/self/timens_offsets": EACCES): give them where it is made (unshare --time --monotonic=SECS --boottime=SECS), or write them to /proc/self/timens_offsets after unshare(CLONE_NEWTIME) and before any process enters it, or leave them out',
      );
    });

    test.each([
      ['a refused write (EPERM)', (sys: FakeSyscalls) => sys.addFile('/proc/self/timens_offsets', fresh).failOn('writeFile', 'EPERM'), 'linux.timeOffsets: writeFile "/proc/self/timens_offsets": EPERM'],
      ['no timens_offsets (ENOENT)', (sys: FakeSyscalls) => sys, 'linux.timeOffsets: readFile "/proc/self/timens_offsets": ENOENT'],
    ])('%s names linux.timeOffsets', (_what, setUp, message) => {
      const sys = setUp(new FakeSyscalls());
      expect(() => applyTimeOffsets(sys, offsets)).toThrow(message);
    });
  });

  test('a refused write names linux.timeOffsets', () => {
    const sys = new FakeSyscalls().addFile('/proc/self/timens_offsets', '').failOn('writeFile', 'EACCES');
    expect(() => enterNamespaces(sys, planLaunch(ns('mount', 'time'), first), { monotonic: { secs: 1, nanosecs: 0 } })).toThrow(
      'linux.timeOffsets: writeFile "/proc/self/timens_offsets": EACCES',
    );
  });
});

const maps = { uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }] };

describe('userNamespaceProblem', () => {
  test.each([
    [ns('user'), false, {}, 'a new user namespace needs linux.uidMappings and linux.gidMappings'],
    [ns('user'), false, { uidMappings: maps.uidMappings }, 'a new user namespace needs linux.uidMappings and linux.gidMappings'],
    [ns('user'), false, maps, undefined],
    [ns('user'), true, {}, undefined],
    [ns('user=/proc/1/ns/user'), false, {}, undefined],
    [ns('mount'), false, {}, undefined],
  ])('%j inside a user namespace: %s, with %j', (namespaces, inside, mappings, expected) => {
    const problem = userNamespaceProblem(namespaces, { relaunched: false, inUserNamespace: inside }, mappings);
    if (expected === undefined) expect(problem).toBeUndefined();
    else expect(problem).toContain(expected);
  });

  test('run by a user other than root (a rootless container) without newuidmap(1) and newgidmap(1), the maps can only make that user the root, one id each; with them, any (the tools check /etc/subuid)', () => {
    const own = (id: number) => [{ containerID: 0, hostID: id, size: 1 }];
    const user = { ...first, euid: 1000, egid: 1001 };
    expect(userNamespaceProblem(ns('user'), user, { uidMappings: own(1000), gidMappings: own(1001) })).toBeUndefined();
    const refused = (tools: string) =>
      `mountkit runs as uid 1000 gid 1001, which may map only themselves: linux.uidMappings [{"containerID":0,"hostID":1000,"size":1}] and linux.gidMappings [{"containerID":0,"hostID":1001,"size":1}]; more ids need ${tools} in PATH (the uidmap package), which ${tools.includes(' and ') ? 'are' : 'is'} not there`;
    expect(userNamespaceProblem(ns('user'), user, maps)).toBe(refused('newuidmap(1) and newgidmap(1)'));
    expect(userNamespaceProblem(ns('user'), user, { uidMappings: own(1000), gidMappings: own(1000) })).toBe(refused('newgidmap(1)'));
    const uidRange = { uidMappings: [...own(1000), { containerID: 1, hostID: 100000, size: 10 }], gidMappings: own(1001) };
    expect(userNamespaceProblem(ns('user'), user, uidRange)).toBe(refused('newuidmap(1)'));
    // Each tool is needed only for the map that maps more than the user's own id.
    expect(userNamespaceProblem(ns('user'), { ...user, idMapTools: { uid: true, gid: false } }, uidRange)).toBeUndefined();
    expect(userNamespaceProblem(ns('user'), { ...user, idMapTools: { uid: false, gid: true } }, uidRange)).toBe(refused('newuidmap(1)'));
    expect(userNamespaceProblem(ns('user'), { ...first, euid: 0, egid: 0 }, maps)).toBeUndefined();
    expect(userNamespaceProblem(ns('user=/proc/7/ns/user'), user)).toBeUndefined();
    const withTools = { ...user, idMapTools: { uid: true, gid: true } };
    expect(userNamespaceProblem(ns('user'), withTools, maps)).toBeUndefined();
    expect(userNamespaceProblem(ns('user'), withTools, { uidMappings: [...own(1000), { containerID: 1, hostID: 100000, size: 10 }], gidMappings: own(1001) })).toBeUndefined();
    expect(userNamespaceProblem(ns('user'), withTools, {})).toContain('needs linux.uidMappings');
  });

  test('none in the relaunched process, which the relaunch put in the namespace', () => {
    expect(userNamespaceProblem(ns('user'), { relaunched: true, inUserNamespace: false })).toBeUndefined();
  });
});

describe('a user namespace made or joined by the relaunch', () => {
  const becomeRoot = ['--preserve-credentials', '--setuid=0', '--setgid=0'];
  const enterNew = ['nsenter', `--user=/proc/self/fd/${RELAUNCH_USERNS_FD}`, ...becomeRoot, '--'];

  test('a new one with a pid namespace: nsenter(1) into the one made with the maps, then unshare(1) with a fork', () => {
    expect(planLaunch(ns('pid', 'ipc', 'uts', 'mount', 'user'), first, maps)).toEqual({
      relaunch: [...enterNew, 'unshare', '--pid', '--ipc', '--uts', '--mount', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT],
      unshareFlags: 0,
      joins: [],
      launcherJoins: [],
      userMappings: { uid: maps.uidMappings, gid: maps.gidMappings },
    });
  });

  test('run by a user other than root: nsenter is given no setgid, which would drop the user\'s supplementary groups where setgroups is allowed', () => {
    const own = [{ containerID: 0, hostID: 1000, size: 1 }];
    const plan = planLaunch(ns('pid', 'mount', 'user'), { ...first, euid: 1000, egid: 1000 }, { uidMappings: own, gidMappings: own });
    expect(plan.relaunch.slice(0, 5)).toEqual(['nsenter', `--user=/proc/self/fd/${RELAUNCH_USERNS_FD}`, '--preserve-credentials', '--setuid=0', '--']);
  });

  test('a new one without a pid namespace still needs the relaunch, without a fork: it becomes the container', () => {
    expect(planLaunch(ns('user', 'mount', 'network'), first, maps)).toEqual({
      relaunch: [...enterNew, 'unshare', '--mount', '--net', '--propagation', 'unchanged', '--'],
      unshareFlags: 0,
      joins: [],
      launcherJoins: [],
      userMappings: { uid: maps.uidMappings, gid: maps.gidMappings },
    });
  });

  test('one joined by path is opened by the first process and entered by nsenter(1) through its descriptor, with no maps to write; from inside another user namespace too', () => {
    const expected = {
      relaunch: [...enterNew, 'unshare', '--pid', '--mount', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT],
      unshareFlags: 0,
      joins: [],
      launcherJoins: [],
      userNamespacePath: '/proc/7/ns/user',
    };
    expect(planLaunch(ns('pid', 'mount', 'user=/proc/7/ns/user'), first, maps)).toEqual(expected);
    expect(planLaunch(ns('pid', 'mount', 'user=/proc/7/ns/user'), { ...first, inUserNamespace: true })).toEqual(expected);
  });

  test('namespaces given by path are joined by nsenter(1) before it enters the user namespace, as runc joins them before it makes one', () => {
    const plan = planLaunch(ns('pid', 'network=/var/run/netns/cni', 'ipc=/proc/3/ns/ipc', 'mount', 'user'), first, maps);
    expect(plan.relaunch).toEqual([
      'nsenter',
      `--net=/proc/self/fd/${RELAUNCH_FIRST_JOIN_FD}`,
      `--ipc=/proc/self/fd/${RELAUNCH_FIRST_JOIN_FD + 1}`,
      `--user=/proc/self/fd/${RELAUNCH_USERNS_FD}`,
      ...becomeRoot,
      '--',
      'unshare',
      '--pid',
      '--mount',
      '--propagation',
      'unchanged',
      '--',
      ...PID_NAMESPACE_PARENT,
    ]);
    expect(plan.joins).toEqual([]);
    // The first process opens them, in that order (launcherJoins).
    expect(plan.launcherJoins).toEqual([
      { type: 'network', path: '/var/run/netns/cni', flag: CLONE_NEWNET },
      { type: 'ipc', path: '/proc/3/ns/ipc', flag: CLONE_NEWIPC },
    ]);
    expect(launcherJoins(ns('pid=/proc/1/ns/pid', 'network=/var/run/netns/cni', 'ipc=/proc/3/ns/ipc', 'mount', 'user=/proc/4/ns/user'))).toEqual(plan.launcherJoins);
    // The relaunched process joins none of them again.
    expect(planLaunch(ns('pid', 'network=/var/run/netns/cni', 'mount', 'user'), { relaunched: true, inUserNamespace: true, joinedByLauncher: true }, maps).joins).toEqual([]);
  });

  test('a mount namespace given by path cannot go with one: nsenter would join it first, and mountkit start again in its tree', () => {
    expect(userNamespaceProblem(ns('pid', 'mount=/proc/3/ns/mnt', 'user'), first, maps)).toBe(
      'a user namespace mountkit makes cannot go with a mount namespace given by path (/proc/3/ns/mnt): mountkit would start again in that namespace\'s tree',
    );
    expect(userNamespaceProblem(ns('mount=/proc/3/ns/mnt', 'user=/proc/4/ns/user'), first)).toContain('a user namespace mountkit joins cannot go with a mount namespace given by path');
    // Inside a user namespace already, the mount namespace is joined in-process, as before.
    expect(userNamespaceProblem(ns('mount=/proc/3/ns/mnt', 'user'), { ...first, inUserNamespace: true })).toBeUndefined();
  });

  test('a pid namespace joined by path is joined before the relaunch, as without a user namespace', () => {
    const plan = planLaunch(ns('pid=/proc/9/ns/pid', 'user', 'mount'), first, maps);
    expect(plan.relaunch).toEqual([...enterNew, 'unshare', '--mount', '--propagation', 'unchanged', '--']);
    expect(plan.joins).toEqual([{ type: 'pid', path: '/proc/9/ns/pid', flag: CLONE_NEWPID }]);
  });

  test('the relaunched process neither makes nor joins the user namespace again', () => {
    expect(planLaunch(ns('pid', 'user', 'mount', 'uts'), { relaunched: true, inUserNamespace: true }, maps)).toEqual({ relaunch: [], unshareFlags: 0, joins: [] });
    expect(planLaunch(ns('mount', 'user=/proc/7/ns/user'), { relaunched: true, inUserNamespace: true })).toEqual({ relaunch: [], unshareFlags: 0, joins: [] });
  });

  test('inside a user namespace already, a new one is not made: the one entered stands for it', () => {
    expect(planLaunch(ns('pid', 'user', 'mount'), { ...first, inUserNamespace: true, startedInPidNamespace: true }, maps)).toEqual({ relaunch: [], unshareFlags: 0, joins: [] });
  });

  test.each([
    [ns('pid', 'user', 'mount'), first, false],
    [ns('pid', 'user', 'mount'), { ...first, inUserNamespace: true }, true],
    [ns('pid', 'user=/proc/7/ns/user', 'mount'), { ...first, inUserNamespace: true }, false],
    [ns('pid', 'mount'), first, true],
  ])('launcherGuessHolds(%j, %j) = %s: the shell launcher leaves a user namespace to the Node entry', (namespaces, ctx, expected) => {
    expect(launcherGuessHolds(namespaces, ctx)).toBe(expected);
  });
});

describe('checkUserNamespaceMaps', () => {
  /** A reader of map files: `maps` by file name, or ENOENT. */
  const files = (maps: Record<string, string>) =>
    jest.fn((file: string) => {
      if (file in maps) return maps[file];
      throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    });
  const inside = { relaunched: false, inUserNamespace: true };
  const nsentered = { relaunched: true, inUserNamespace: true, joinedByLauncher: true };
  const config = (namespaces: NamespaceSpec[], m: Partial<typeof maps> = maps) => ({ namespaces, ...m });
  const self = (uid: string, gid = uid) => files({ '/proc/self/uid_map': uid, '/proc/self/gid_map': gid });

  test('the maps of the namespace mountkit runs in, in any order and blank-padded as the kernel pads them: nothing to say', () => {
    const two = { uidMappings: [{ containerID: 1, hostID: 1, size: 9 }, { containerID: 0, hostID: 0, size: 1 }], gidMappings: [{ containerID: 0, hostID: 0, size: 10 }] };
    expect(checkUserNamespaceMaps(config(ns('user'), two), inside, self('         0          0          1\n         1          1          9\n', '0 0 10\n'))).toBeUndefined();
  });

  test('other maps than the namespace mountkit runs in has are refused, naming the field and what it has', () => {
    const check = () => checkUserNamespaceMaps(config(ns('user')), inside, self('         0          0          1\n'));
    expect(check).toThrow(ConfigError);
    expect(check).toThrow('linux.uidMappings: differ from the maps of the user namespace mountkit runs in: "0 0 1"');
    const gidOnly = () => checkUserNamespaceMaps(config(ns('user')), inside, self('0 100000 65536\n', '0 0 1\n'));
    expect(gidOnly).toThrow('linux.gidMappings: differ from the maps of the user namespace mountkit runs in: "0 0 1"');
  });

  test('/proc/PID/ns/user is checked from the first process, in /proc/PID; matching maps beside a path get a warning, as from runc', () => {
    const joined = ns('user=/proc/7/ns/user');
    const read = files({ '/proc/7/uid_map': '0 100000 65536\n', '/proc/7/gid_map': '0 100000 65536\n' });
    // The uid maps read there are given back (the sd_notify(3) relay takes its root's host uid from them).
    expect(checkUserNamespaceMaps(config(joined), first, read)).toEqual([{ containerID: 0, hostID: 100000, size: 65536 }]);
    expect(read.mock.calls.map(([f]) => f)).toEqual(['/proc/7/uid_map', '/proc/7/gid_map']);
    expect(mapsBesidePath(config(joined))).toBe('linux.uidMappings and gidMappings are the maps of the user namespace joined (/proc/7/ns/user); only the path is needed');
    expect(mapsBesidePath(config(joined, {}))).toBeUndefined();
    expect(mapsBesidePath(config(ns('user')))).toBeUndefined();
    expect(() => checkUserNamespaceMaps(config(joined, {}), first, read)).not.toThrow();
    const other = files({ '/proc/7/uid_map': '0 0 1\n', '/proc/7/gid_map': '0 0 1\n' });
    expect(() => checkUserNamespaceMaps(config(joined), first, other)).toThrow('linux.uidMappings: differ from the maps of the user namespace joined (/proc/7/ns/user): "0 0 1"');
    // The relaunched process does not check it again.
    expect(checkUserNamespaceMaps(config(joined), nsentered, other)).toBeUndefined();
  });

  test("a joined namespace must map the container's root, as runc 1.2 requires, with maps given or not", () => {
    const joined = ns('user=/proc/7/ns/user');
    const read = files({ '/proc/7/uid_map': '1000 1000 1\n', '/proc/7/gid_map': '0 0 1\n' });
    expect(() => checkUserNamespaceMaps(config(joined, {}), first, read)).toThrow(
      'linux.namespaces "/proc/7/ns/user": maps no containerID 0 in /proc/7/uid_map ("1000 1000 1"): the container\'s root must be mapped',
    );
  });

  test('maps that cannot be read (the process gone) are a config error naming the file', () => {
    expect(() => checkUserNamespaceMaps(config(ns('user=/proc/7/ns/user'), {}), first, files({}))).toThrow(
      'linux.namespaces "/proc/7/ns/user": the maps of the user namespace joined (/proc/7/ns/user) cannot be read (/proc/7/uid_map: ENOENT)',
    );
  });

  test('another path is checked in the process nsenter(1) put in it, from /proc/self', () => {
    const joined = ns('user=/run/netns-user');
    expect(checkUserNamespaceMaps(config(joined), first, files({}))).toBeUndefined();
    expect(() => checkUserNamespaceMaps(config(joined), nsentered, self('0 0 1\n'))).toThrow('differ from the maps of the user namespace joined (/run/netns-user)');
  });

  test('nothing is read where the namespace is made by mountkit, or where none is asked for', () => {
    const read = files({});
    expect(checkUserNamespaceMaps(config(ns('user')), first, read)).toBeUndefined();
    expect(checkUserNamespaceMaps(config(ns('user')), nsentered, read)).toBeUndefined();
    expect(checkUserNamespaceMaps(config(ns('mount')), inside, read)).toBeUndefined();
    expect(read).not.toHaveBeenCalled();
  });
});

describe('the user namespace: whether its ids are all mapped onto themselves (uid_map, what a launch asks), and whether it is the initial one (its link)', () => {
  const INITIAL = 'user:[4026531837]';
  const NESTED = 'user:[4026532179]';
  const IDENTITY = '         0          0 4294967295\n';
  test.each<[string, boolean, string | undefined]>([
    ['the identity map', true, IDENTITY],
    ['the identity map unpadded', true, '0 0 4294967295'],
    ["a rootless container's", false, '         0       1000          1\n'],
    ["one nested in a rootless container's, `0 0 1`", false, '         0          0          1\n'],
    ['one map', false, '         0     100000      65536\n'],
    ['the whole range and more lines', false, '0 0 4294967295\n5 5 1\n'],
    ['one id short of the whole range', false, '0 0 4294967294\n'],
    ['a fresh namespace, no maps written yet', false, ''],
    ['no uid_map (a kernel without user namespaces)', true, undefined],
  ])('identityUidMap: %s -> %s', (_what, identity, uidMap) => {
    expect(identityUidMap(uidMap)).toBe(identity);
  });

  test.each<[string, boolean, string | undefined, string | undefined]>([
    ['the initial namespace', true, INITIAL, IDENTITY],
    ['a namespace nested in the initial one with the identity map: uid_map alone would take it for the initial one', false, NESTED, IDENTITY],
    ["a namespace nested in a rootless container's, `0 0 1` (the parent's root, a host user)", false, NESTED, '         0          0          1\n'],
    ["a rootless container's", false, NESTED, '         0       1000          1\n'],
    ['no link (no procfs): the identity uid_map', true, undefined, IDENTITY],
    ['no link: a partial map', false, undefined, '         0       1000          1\n'],
    ['no link: a fresh namespace, no maps written yet', false, undefined, ''],
    ['neither (a kernel without user namespaces): the only namespace', true, undefined, undefined],
  ])('inInitialUserNamespace: %s -> %s', (_what, initial, link, uidMap) => {
    const read = jest.fn(() => uidMap);
    expect(inInitialUserNamespace(link, read)).toBe(initial);
    // uid_map is asked only without the link.
    expect(read).toHaveBeenCalledTimes(link === undefined ? 1 : 0);
  });

  test('through the port: the link alone where it can be read, uid_map only where it cannot; an unreadable uid_map counts as the initial namespace; an error that is no SyscallError is thrown', () => {
    const linked = new FakeSyscalls().addSymlink('/proc/self/ns/user', NESTED).addFile('/proc/self/uid_map', IDENTITY).clearCalls();
    expect(inInitialUserNamespaceHere(linked)).toBe(false);
    expect(linked.calls).toEqual([{ op: 'readlink', path: '/proc/self/ns/user' }]);
    const unlinked = new FakeSyscalls().addFile('/proc/self/uid_map', '         0       1000          1\n').clearCalls();
    expect(inInitialUserNamespaceHere(unlinked)).toBe(false);
    expect(unlinked.calls).toEqual([
      { op: 'readlink', path: '/proc/self/ns/user' },
      { op: 'readFile', path: '/proc/self/uid_map' },
    ]);
    const unreadable = new FakeSyscalls().addFile('/proc/self/uid_map', '         0       1000          1\n').failOn('readFile', 'EACCES', { path: '/proc/self/uid_map' });
    expect(inInitialUserNamespaceHere(unreadable)).toBe(true);
    expect(inInitialUserNamespaceHere(new FakeSyscalls().addSymlink('/proc/self/ns/user', INITIAL).addFile('/proc/self/uid_map', ''))).toBe(true);
    const thrown = {
      readlink: (): string => {
        throw new TypeError('no port');
      },
      readFile: () => '',
    };
    expect(() => inInitialUserNamespaceHere(thrown)).toThrow(TypeError);
  });
});

describe('namespaceTypes: the types an unshare(2) flag set makes, for the debug line', () => {
  test.each([
    [0, []],
    [CLONE_NEWNS, ['mount']],
    [CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET, ['mount', 'pid', 'uts', 'ipc', 'network']],
    [CLONE_NEWCGROUP | CLONE_NEWTIME, ['cgroup', 'time']],
    // CLONE_FS makes no namespace.
    [CLONE_FS | CLONE_NEWUTS, ['uts']],
  ] as const)('%s: %j', (flags, types) => {
    expect(namespaceTypes(flags)).toEqual(types);
  });
});

describe('exitStatus', () => {
  test.each([
    [0, null, 0],
    [7, null, 7],
    [null, 'SIGTERM', 143],
    [null, 'SIGKILL', 137],
  ] as const)('(%j, %j) -> %j', (status, signal, expected) => expect(exitStatus(status, signal)).toBe(expected));
});
