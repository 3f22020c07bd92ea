import type { MountSpec, RootfsConfig } from '../../src/core/config/model';
import {
  validateConfig,
  validateIdmappedMounts,
  validateRootfs,
  validateRootlessGroups,
  validateSelinuxLabel,
  validateSysctls,
  validateTimeNamespace,
  validateUserNamespace,
  validateRootlessNamespaces,
  validateNoPivot,
  validateContainerId,
  validateUtsNames,
  validateUserIds,
} from '../../src/core/config/validate';
import { MS_PRIVATE, MS_REC, MS_SHARED, MS_SLAVE } from '../../src/core/constants';
import { ConfigError } from '../../src/core/errors';
import { NO_MAPPINGS } from '../../src/core/idmap';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig, makeMount } from '../helpers/config';

/** A host with a rootfs, a few /proc/sys entries and its own namespace files. */
function host(): FakeSyscalls {
  return new FakeSyscalls()
    .addDir('/bundle/rootfs')
    .addFile('/bundle/rootfs-file')
    .addFile('/proc/sys/net/ipv4/ip_forward', '0\n')
    .addFile('/proc/sys/net/ipv4/conf/eth0.100/forwarding', '0\n')
    .addFile('/proc/sys/kernel/shmmax', '1\n')
    .addFile('/proc/sys/kernel/hostname', 'host\n')
    .addFile('/proc/sys/kernel/domainname', '(none)\n')
    .addFile('/proc/sys/kernel/panic', '0\n')
    .addFile('/proc/sys/fs/mqueue/msg_max', '10\n')
    .addFile('/proc/sys/user/max_user_namespaces', '96363\n')
    .addFile('/proc/sys/user/max_inotify_watches', '8192\n')
    .addFile('/proc/self/ns/net')
    .addFile('/proc/self/ns/ipc')
    .addFile('/proc/self/ns/uts')
    .addFile('/proc/42/ns/net')
    .addFile('/proc/42/ns/user')
    .addSymlink('/run/netns/host', '/proc/self/ns/net')
    .addSymlink('/run/ipcns/host', '/proc/self/ns/ipc')
    .addSymlink('/run/utsns/host', '/proc/self/ns/uts')
    .addSymlink('/run/netns/other', '/proc/42/ns/net');
}

const ALL = [{ type: 'mount' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }] as RootfsConfig['namespaces'];

function config(sysctls: Record<string, string>, over: Partial<RootfsConfig> = {}): RootfsConfig {
  return makeConfig({ namespaces: ALL, sysctls, ...over });
}

function errorOf(fn: () => void): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe('validateSysctls: accepted', () => {
  test.each<[string, Record<string, string>, Partial<RootfsConfig>]>([
    ['net key with a new network namespace', { 'net.ipv4.ip_forward': '1' }, {}],
    ['net key in path form, dots inside a name', { 'net/ipv4/conf/eth0.100/forwarding': '1' }, {}],
    ['net key in dotted form, slash for the dot', { 'net.ipv4.conf.eth0/100.forwarding': '1' }, {}],
    // As runc 1.1.5 takes them: every "." and "/" a separator, empty names skipped.
    ['net key with mixed separators, a slash first', { 'net/ipv4.ip_forward': '1' }, {}],
    ['net key with mixed separators, a dot first', { 'net.ipv4/ip_forward': '1' }, {}],
    ['net key with an empty name and a trailing dot', { 'net..ipv4.ip_forward.': '1' }, {}],
    ['mqueue key with an empty name', { 'fs.mqueue..msg_max': '20' }, {}],
    ['ipc key in path form', { 'kernel/shmmax': '65536' }, {}],
    ['net key with another joined network namespace', { 'net.ipv4.ip_forward': '1' }, { namespaces: [{ type: 'network', path: '/run/netns/other' }] }],
    ['net key with a missing namespace path (left to setns)', { 'net.ipv4.ip_forward': '1' }, { namespaces: [{ type: 'network', path: '/run/netns/gone' }] }],
    // Its interfaces are not the host's (a CNI plugin's eth0): the write, in the container, tells.
    ['net key of an interface only a joined network namespace has', { 'net.ipv4.conf.cni0.forwarding': '1' }, { namespaces: [{ type: 'network', path: '/run/netns/other' }] }],
    ['ipc key with an ipc namespace', { 'kernel.shmmax': '65536' }, {}],
    ['mqueue key with an ipc namespace', { 'fs.mqueue.msg_max': '20' }, {}],
    ['domainname with a uts namespace', { 'kernel.domainname': 'example' }, {}],
    // As runc 1.4 takes them: the field is set first, the sysctl after; crun takes only equal ones.
    ['domainname beside a different domainname field', { 'kernel.domainname': 'a' }, { domainname: 'b' }],
    ['domainname in path form beside an equal domainname field', { 'kernel/domainname': 'lan' }, { domainname: 'lan' }],
    ['no sysctls at all, no namespaces', {}, { namespaces: [] }],
    // Per user namespace (kernel/ucount.c), as runc 1.4 and later take them.
    ['user key with a new user namespace', { 'user.max_user_namespaces': '3' }, { namespaces: [...ALL, { type: 'user' }] }],
    ['user key in path form, with a user namespace alone', { 'user/max_inotify_watches': '1024' }, { namespaces: [{ type: 'user' }] }],
  ])('%s', (_name, sysctls, over) => {
    const sys = host();
    expect(() => validateSysctls(config(sysctls, over), sys)).not.toThrow();
    expect(sys.effects()).toEqual([]);
  });
});

describe('validateUtsNames: hostname and domainname are never set in the host\'s own uts namespace', () => {
  const uts = (path?: string) => [{ type: 'uts' as const, ...(path ? { path } : {}) }];
  test.each<[string, Partial<RootfsConfig>, string | undefined]>([
    ['hostname in a new uts namespace', { hostname: 'box', namespaces: uts() }, undefined],
    ['hostname in another uts namespace joined by path', { hostname: 'box', namespaces: [{ type: 'uts', path: '/proc/42/ns/net' }] }, undefined],
    ["no names in mountkit's own", { hostname: '', namespaces: uts('/run/utsns/host') }, undefined],
    ["hostname in mountkit's own, joined by a link to it", { hostname: 'box', namespaces: uts('/run/utsns/host') }, `hostname "box": would rename the host: linux.namespaces joins mountkit's own uts namespace (/run/utsns/host)`],
    ["domainname in mountkit's own", { hostname: '', domainname: 'lan', namespaces: uts('/proc/self/ns/uts') }, `domainname "lan": would rename the host: linux.namespaces joins mountkit's own uts namespace (/proc/self/ns/uts)`],
    ['hostname without a uts namespace (the host\'s)', { hostname: 'box', namespaces: [{ type: 'mount' }] }, 'hostname "box": needs a uts namespace in linux.namespaces'],
    ['domainname without a uts namespace', { hostname: '', domainname: 'lan', namespaces: [{ type: 'mount' }] }, 'domainname "lan": needs a uts namespace in linux.namespaces'],
    ['neither name, no uts namespace', { hostname: '', namespaces: [{ type: 'mount' }] }, undefined],
    ['a hostname of 64 bytes (the most a uts namespace keeps)', { hostname: 'h'.repeat(64), namespaces: uts() }, undefined],
    ['a hostname of 65 bytes', { hostname: 'h'.repeat(65), namespaces: uts() }, `hostname "${'h'.repeat(65)}": is 65 bytes long, more than the 64 a uts namespace keeps (sethostname(2) refuses it: EINVAL)`],
    ['a hostname of 29 characters in 65 bytes of UTF-8', { hostname: '\u00e9'.repeat(22) + '\u20ac'.repeat(7), namespaces: uts() }, `hostname "${'\u00e9'.repeat(22) + '\u20ac'.repeat(7)}": is 65 bytes long, more than the 64 a uts namespace keeps (sethostname(2) refuses it: EINVAL)`],
    ['a domainname of 65 bytes', { hostname: 'box', domainname: 'd'.repeat(65), namespaces: uts() }, `domainname "${'d'.repeat(65)}": is 65 bytes long, more than the 64 a uts namespace keeps (setdomainname(2) refuses it: EINVAL)`],
  ])('%s', (_what, over, message) => {
    const err = errorOf(() => validateUtsNames(makeConfig(over), host()));
    if (message === undefined) expect(err).toBeUndefined();
    else expect(err).toMatchObject({ name: 'ConfigError', message });
  });
});

describe('validateConfig inNamespaces (runPipeline): a namespace joined by path is the process\'s own by then', () => {
  test.each<[string, Partial<RootfsConfig>]>([
    ['a net key in the network namespace joined', { sysctls: { 'net.ipv4.ip_forward': '1' }, namespaces: [{ type: 'mount' }, { type: 'network', path: '/run/netns/host' }] }],
    ['an ipc key in the ipc namespace joined', { sysctls: { 'kernel.shmmax': '1' }, namespaces: [{ type: 'mount' }, { type: 'ipc', path: '/run/ipcns/host' }] }],
    ['a hostname in the uts namespace joined', { hostname: 'box', namespaces: [{ type: 'mount' }, { type: 'uts', path: '/run/utsns/host' }] }],
  ])('%s: refused before the namespaces are entered, taken in them', (_what, over) => {
    const config = makeConfig(over);
    expect(() => validateConfig(config, host())).toThrow(ConfigError);
    expect(() => validateConfig(config, host(), { inNamespaces: true })).not.toThrow();
  });

  test("a user key in a user namespace joined by path is taken, as runc 1.4 and youki take it: that namespace's limits (a pod's)", () => {
    const config = makeConfig({ sysctls: { 'user.max_user_namespaces': '3' }, namespaces: [{ type: 'mount' }, { type: 'user', path: '/proc/42/ns/user' }] });
    expect(() => validateConfig(config, host().addFile('/proc/self/ns/user'), { inNamespaces: true })).not.toThrow();
  });

  test('a key no namespace isolates is still refused', () => {
    expect(() => validateConfig(makeConfig({ sysctls: { 'kernel.panic': '1' } }), host(), { inNamespaces: true })).toThrow('linux.sysctl "kernel.panic": is not isolated by any namespace');
  });
});

describe('validateConfig checks the model first', () => {
  test('a config built in code with a uid of NaN is a ConfigError, not a TypeError later', () => {
    expect(() => validateConfig(makeConfig({ process: { ...makeConfig().process, uid: NaN } }), host())).toThrow('process.user.uid NaN: must be an integer from 0 to 4294967295');
  });

  test('not with modelChecked (a copy checkedModel made, or the loader\'s output): the host checks alone run', () => {
    const config = makeConfig({ process: { ...makeConfig().process, uid: NaN } });
    expect(() => validateConfig(config, host(), { modelChecked: true })).not.toThrow();
    expect(() => validateConfig({ ...config, noPivot: true, rootPropagation: MS_PRIVATE }, host(), { modelChecked: true })).toThrow('linux.rootfsPropagation "private": is not safe without pivot_root');
  });
});

describe('validateSysctls: refused, naming linux.sysctl and the key', () => {
  test.each<[string, Record<string, string>, Partial<RootfsConfig>, string]>([
    ['a global kernel key', { 'kernel.panic': '1' }, {}, 'linux.sysctl "kernel.panic": is not isolated by any namespace: writing it would change the host'],
    ['a global key in path form', { 'vm/swappiness': '1' }, {}, 'linux.sysctl "vm/swappiness": is not isolated by any namespace'],
    ['a key leaving /proc/sys', { 'net/../../../etc/passwd': 'x' }, {}, 'linux.sysctl "net/../../../etc/passwd": must name a file below /proc/sys'],
    ['an absolute key', { '/proc/sys/net/ipv4/ip_forward': '1' }, {}, 'linux.sysctl "/proc/sys/net/ipv4/ip_forward": must name a file below /proc/sys'],
    ['a net key without a network namespace', { 'net.ipv4.ip_forward': '1' }, { namespaces: [{ type: 'mount' }] }, 'linux.sysctl "net.ipv4.ip_forward": is isolated by the network namespace, which linux.namespaces does not list'],
    ['an ipc key without an ipc namespace', { 'kernel.shmmax': '1' }, { namespaces: [{ type: 'mount' }, { type: 'network' }] }, 'linux.sysctl "kernel.shmmax": is isolated by the ipc namespace, which linux.namespaces does not list'],
    ['an mqueue key without an ipc namespace', { 'fs.mqueue.msg_max': '1' }, { namespaces: [{ type: 'uts' }] }, 'linux.sysctl "fs.mqueue.msg_max": is isolated by the ipc namespace, which'],
    ['hostname without a uts namespace', { 'kernel.hostname': 'box' }, { namespaces: [{ type: 'ipc' }] }, 'linux.sysctl "kernel.hostname": is isolated by the uts namespace, which'],
    ['a user key without a user namespace (the host\'s limits)', { 'user.max_user_namespaces': '0' }, {}, 'linux.sysctl "user.max_user_namespaces": is isolated by the user namespace, which linux.namespaces does not list'],
    ['a user key the kernel does not have', { 'user.max_nothing': '1' }, { namespaces: [{ type: 'user' }] }, 'linux.sysctl "user.max_nothing": does not exist: no "/proc/sys/user/max_nothing"'],
    ['the user directory', { 'user.': '1' }, { namespaces: [{ type: 'user' }] }, 'linux.sysctl "user.": "/proc/sys/user" is a dir, not a sysctl file'],
    ['"user" alone', { user: '1' }, { namespaces: [{ type: 'user' }] }, 'linux.sysctl "user": is not isolated by any namespace'],
    [
      "a net key in mountkit's own network namespace, joined by path",
      { 'net.ipv4.ip_forward': '1' },
      { namespaces: [{ type: 'network', path: '/run/netns/host' }] },
      `linux.sysctl "net.ipv4.ip_forward": is isolated by the network namespace, but linux.namespaces joins mountkit's own (/run/netns/host)`,
    ],
    ["an ipc key in mountkit's own ipc namespace", { 'kernel.shmmax': '1' }, { namespaces: [{ type: 'ipc', path: '/run/ipcns/host' }] }, `is isolated by the ipc namespace, but linux.namespaces joins mountkit's own`],
    ["domainname in mountkit's own uts namespace", { 'kernel.domainname': 'x' }, { namespaces: [{ type: 'uts', path: '/proc/self/ns/uts' }] }, `is isolated by the uts namespace, but linux.namespaces joins mountkit's own`],
    ['hostname beside the hostname field', { 'kernel.hostname': 'a' }, { hostname: 'b' }, 'linux.sysctl "kernel.hostname": conflicts with the hostname field'],
    ['hostname without the hostname field (runc refuses it too)', { 'kernel.hostname': 'box' }, {}, 'linux.sysctl "kernel.hostname": conflicts with the hostname field, which sets it'],
    ['a net key the kernel does not have', { 'net.ipv4.no_such_key': '1' }, {}, 'linux.sysctl "net.ipv4.no_such_key": does not exist: no "/proc/sys/net/ipv4/no_such_key"'],
    ['a net key below a file', { 'net.ipv4.ip_forward.x': '1' }, {}, 'linux.sysctl "net.ipv4.ip_forward.x": does not exist'],
    [
      'a mixed key neither of whose readings the kernel has',
      { 'net/ipv4.no_such': '1' },
      {},
      'linux.sysctl "net/ipv4.no_such": does not exist: no "/proc/sys/net/ipv4/no_such" nor "/proc/sys/net/ipv4.no_such"',
    ],
    // runc's validator refuses these as no namespace's: the empty name is kept where the namespace is read.
    ['an ipc key with an empty name', { 'kernel..shmmax': '1' }, {}, 'linux.sysctl "kernel..shmmax": is not isolated by any namespace'],
    ['an mqueue key with a slash for a dot', { 'fs/mqueue.msg_max': '1' }, {}, 'linux.sysctl "fs/mqueue.msg_max": is not isolated by any namespace'],
    ['a key with ".." between dots (sysctl(8) reads "//" there as "..")', { 'net.ipv4.//.ip_forward': '1' }, {}, 'linux.sysctl "net.ipv4.//.ip_forward": must name a file below /proc/sys: no ".." component'],
    ['a net directory', { 'net.ipv4': '1' }, {}, 'linux.sysctl "net.ipv4": "/proc/sys/net/ipv4" is a dir, not a sysctl file'],
    ['an mqueue key the kernel does not have', { 'fs.mqueue.nope': '1' }, {}, 'linux.sysctl "fs.mqueue.nope": does not exist'],
    ['the first bad key of several', { 'net.ipv4.ip_forward': '1', 'kernel.panic': '1', 'vm.x': '1' }, {}, 'linux.sysctl "kernel.panic": '],
  ])('%s', (_name, sysctls, over, message) => {
    const sys = host();
    const err = errorOf(() => validateSysctls(config(sysctls, over), sys));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).field).toBe('linux.sysctl');
    expect((err as ConfigError).exitCode).toBe(2);
    expect((err as Error).message).toContain(message);
    expect(sys.effects()).toEqual([]);
  });

  test("a user key in mountkit's own user namespace, joined by path (whose setns(2) would be EINVAL), nothing done; another process's is taken", () => {
    const sys = host().addFile('/proc/self/ns/user');
    const joining = (path: string) => config({ 'user.max_user_namespaces': '0' }, { namespaces: [{ type: 'mount' }, { type: 'user', path }] });
    const err = errorOf(() => validateSysctls(joining('/proc/self/ns/user'), sys));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`linux.sysctl "user.max_user_namespaces": is isolated by the user namespace, but linux.namespaces joins mountkit's own (/proc/self/ns/user)`);
    expect(() => validateSysctls(joining('/proc/42/ns/user'), sys)).not.toThrow();
    expect(sys.effects()).toEqual([]);
  });

  test('a stat failure other than a missing file is passed on as it is', () => {
    const sys = host().failOn('stat', 'EACCES', { path: '/proc/sys/net/ipv4/ip_forward' });
    expect(() => validateSysctls(config({ 'net.ipv4.ip_forward': '1' }), sys)).toThrow('stat "/proc/sys/net/ipv4/ip_forward": EACCES');
  });
});

describe('validateRootfs', () => {
  test('an existing directory passes', () => {
    expect(() => validateRootfs(makeConfig(), host())).not.toThrow();
  });

  test.each([
    ['/bundle/missing', 'root.path "/bundle/missing": does not exist'],
    ['/bundle/rootfs-file', 'root.path "/bundle/rootfs-file": is a file, not a directory'],
    ['/bundle/rootfs-file/below', 'root.path "/bundle/rootfs-file/below": does not exist'],
    ['/bundle/rootfs-link', 'root.path "/bundle/rootfs-link": is a symbolic link (give the path it leads to)'],
    ['/linked/rootfs', 'root.path "/linked/rootfs": passes through /linked, which is a symbolic link (give the path it leads to)'],
  ])('%s is refused', (rootfs, message) => {
    const on = () => host().addSymlink('/bundle/rootfs-link', 'rootfs').addSymlink('/linked', '/bundle');
    expect(() => validateRootfs(makeConfig({ rootfs }), on())).toThrow(new ConfigError('root.path', rootfs, message.split(': ').pop()!));
    expect(() => validateRootfs(makeConfig({ rootfs }), on())).toThrow(message);
  });

  const TOO_LONG = 'holds a name longer than its filesystem takes (NAME_MAX, 255 bytes, on most), which no lookup takes: stat: ENAMETOOLONG';
  test.each<[string, string, string]>([
    ['a name of 256 bytes', `/bundle/${'r'.repeat(256)}`, TOO_LONG],
    ['a name of 86 three-byte characters (258 bytes)', `/bundle/${'\u20ac'.repeat(86)}`, TOO_LONG],
    ['a path of 4096 bytes, looked up by no one', `/bundle/${'r/'.repeat(2044)}`, 'is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)'],
    ['a loop of symbolic links on the way', '/loop/rootfs', 'passes through more than 40 symbolic links, or a loop of them: stat: ELOOP'],
  ])('%s: a config error naming root.path, with the errno its lookup got', (_name, rootfs, reason) => {
    let thrown: unknown;
    try {
      validateRootfs(makeConfig({ rootfs }), host().addSymlink('/loop', '/loop'));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect(thrown).toMatchObject({ field: 'root.path', value: rootfs });
    expect((thrown as Error).message.endsWith(`: ${reason}`)).toBe(true);
  });

  test('a name of 255 bytes is looked up: missing, it does not exist', () => {
    const rootfs = `/bundle/${'r'.repeat(255)}`;
    expect(() => validateRootfs(makeConfig({ rootfs }), host())).toThrow(new ConfigError('root.path', rootfs, 'does not exist'));
  });
});

describe('validateUserIds', () => {
  const user = (over: Partial<RootfsConfig['process']>) => makeConfig({ process: { ...makeConfig().process, ...over } });
  const many = (n: number) => Array.from({ length: n }, (_g, i) => i + 1);

  test.each<[string, Partial<RootfsConfig['process']>, string | undefined]>([
    ['uid and gid 4294967294', { uid: 4294967294, gid: 4294967294 }, undefined],
    ['uid (uid_t)-1', { uid: 4294967295 }, 'process.user.uid 4294967295: is (uid_t)-1, which names no user: setuid(2) refuses it (EINVAL)'],
    ['gid (gid_t)-1', { gid: 4294967295 }, 'process.user.gid 4294967295: is (gid_t)-1, which names no group: setgid(2) refuses it (EINVAL)'],
    ['an additional gid (gid_t)-1', { additionalGids: [5, 4294967295] }, 'process.user.additionalGids[1] 4294967295: is (gid_t)-1, which names no group: setgroups(2) refuses it (EINVAL)'],
    ['NGROUPS_MAX groups', { additionalGids: many(65536) }, undefined],
    ['NGROUPS_MAX groups, one of them twice', { additionalGids: [...many(65536), 1] }, undefined],
    ['one group more than NGROUPS_MAX', { additionalGids: many(65537) }, 'process.user.additionalGids: holds 65537 groups, more than setgroups(2) takes (NGROUPS_MAX, 65536: EINVAL)'],
  ])('%s', (_name, over, message) => {
    if (message === undefined) expect(() => validateUserIds(user(over))).not.toThrow();
    else expect(() => validateUserIds(user(over))).toThrow(message);
  });

  test('validateConfig checks them', () => {
    expect(() => validateConfig(user({ gid: 4294967295 }), host())).toThrow(new ConfigError('process.user.gid', 4294967295, 'is (gid_t)-1, which names no group: setgid(2) refuses it (EINVAL)'));
  });
});

describe('validateConfig', () => {
  test('checks the rootfs, then the sysctls, and changes nothing', () => {
    const sys = host();
    expect(() => validateConfig(config({ 'kernel.panic': '1' }, { rootfs: '/nowhere' }), sys)).toThrow('root.path "/nowhere": does not exist');
    expect(() => validateConfig(config({ 'kernel.panic': '1' }), sys)).toThrow('linux.sysctl "kernel.panic"');
    expect(() => validateConfig(config({ 'net.ipv4.ip_forward': '1', 'kernel.shmmax': '9' }), sys)).not.toThrow();
    expect(sys.effects()).toEqual([]);
  });
});

describe('validateIdmappedMounts', () => {
  const UIDS = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const bindWith = (idmap: MountSpec['idmap'], over: Partial<MountSpec> = {}) => makeMount({ index: 3, type: 'bind', source: '/srv', destination: '/d', idmap, ...over });
  const check = (mount: MountSpec, over: Partial<RootfsConfig> = {}) => () => validateIdmappedMounts(makeConfig({ mounts: [mount], ...over }));

  test.each<[string, MountSpec, Partial<RootfsConfig>]>([
    ['mappings of its own', bindWith({ recursive: false, uidMappings: UIDS, gidMappings: UIDS }), {}],
    ['no idmap on a tmpfs', makeMount({ type: 'tmpfs', destination: '/t' }), {}],
    ["idmap without mappings, in a container with a user namespace: the container's maps it", bindWith({ recursive: false }), { namespaces: [{ type: 'user' }], uidMappings: UIDS, gidMappings: UIDS }],
    ["ridmap without mappings, with a user namespace joined by path: that one maps it", bindWith({ recursive: true }), { namespaces: [{ type: 'mount' }, { type: 'user', path: '/proc/1/ns/user' }] }],
    ['mappings of its own, in a container with a user namespace', bindWith({ recursive: true, uidMappings: UIDS, gidMappings: UIDS }), { namespaces: [{ type: 'user' }], uidMappings: UIDS, gidMappings: UIDS }],
  ])('accepted: %s', (_case, mount, over) => {
    expect(check(mount, over)).not.toThrow();
  });

  test.each<[string, MountSpec, Partial<RootfsConfig>, string]>([
    ['not a bind', makeMount({ index: 3, type: 'tmpfs', destination: '/t', idmap: { recursive: false, uidMappings: UIDS, gidMappings: UIDS } }), {}, 'mounts[3].type "tmpfs": an idmapped mount (idmap, ridmap, uidMappings, gidMappings) must be a bind mount'],
    ['uid mappings alone', bindWith({ recursive: false, uidMappings: UIDS }), {}, 'mounts[3].gidMappings: is required with mounts[3].uidMappings'],
    ['gid mappings alone', bindWith({ recursive: false, gidMappings: UIDS }), {}, 'mounts[3].uidMappings: is required with mounts[3].gidMappings'],
    ['an empty map', bindWith({ recursive: false, uidMappings: UIDS, gidMappings: [] }), {}, 'mounts[3].gidMappings: needs at least one mapping'],
    ['a bad range', bindWith({ recursive: false, uidMappings: [{ containerID: 0, hostID: 0, size: 0 }], gidMappings: UIDS }), {}, 'mounts[3].uidMappings[0].size: must be at least 1'],
    ['ridmap without mappings', bindWith({ recursive: true }), {}, `mounts[3].options "ridmap": ${NO_MAPPINGS}`],
    [
      'in a rootless container, with a user namespace or without, as runc refuses it',
      bindWith({ recursive: false, uidMappings: UIDS, gidMappings: UIDS }),
      { rootless: true },
      'mounts[3] "/d": an idmapped mount in a rootless container: mount_setattr(2) idmaps a host filesystem only for a caller with CAP_SYS_ADMIN in the initial user namespace, and runc refuses them too',
    ],
    ['a map of a page or more', bindWith({ recursive: false, uidMappings: UIDS, gidMappings: Array.from({ length: 340 }, (_, i) => ({ containerID: 4e9 + i, hostID: 4e9 + i, size: 1 })) }), {}, 'mounts[3].gidMappings: takes 8160 bytes as a map; the kernel takes at most 4095 in one write'],
  ])('refused: %s', (_case, mount, over, message) => {
    expect(check(mount, over)).toThrow(ConfigError);
    expect(check(mount, over)).toThrow(message);
  });

  test('validateConfig makes the check', () => {
    expect(() => validateConfig(makeConfig({ mounts: [bindWith({ recursive: false })] }), host())).toThrow('mounts[3].options "idmap"');
  });
});

describe('validateSelinuxLabel', () => {
  const labelled = () => makeConfig({ rootfs: '/bundle/rootfs', process: { ...makeConfig().process, selinuxLabel: 'system_u:system_r:container_t:s0' } });

  test('a label on a host without SELinux (no selinuxfs) is refused, as runc refuses it; validateConfig makes the check', () => {
    expect(() => validateSelinuxLabel(labelled(), host())).toThrow(new ConfigError('process.selinuxLabel', 'system_u:system_r:container_t:s0', 'is set, but SELinux is disabled or not supported on this host'));
    expect(() => validateConfig(labelled(), host())).toThrow('process.selinuxLabel "system_u:system_r:container_t:s0": is set, but SELinux is disabled or not supported on this host');
  });

  test('with SELinux, or without a label, it passes', () => {
    expect(() => validateSelinuxLabel(labelled(), host().addSelinuxfs().addFile('/proc/thread-self/attr/current', 'system_u:system_r:unconfined_t:s0\0'))).not.toThrow();
    expect(() => validateSelinuxLabel(makeConfig(), host())).not.toThrow();
  });

  test('told as go-selinux tells it, without the mount table: an enforce file on another filesystem, or the kernel label, is no SELinux', () => {
    const refused = 'process.selinuxLabel "system_u:system_r:container_t:s0": is set, but SELinux is disabled or not supported on this host';
    expect(() => validateSelinuxLabel(labelled(), host().addFile('/sys/fs/selinux/enforce', '1'))).toThrow(refused);
    expect(() => validateSelinuxLabel(labelled(), host().addSelinuxfs().addFile('/proc/thread-self/attr/current', 'kernel\0'))).toThrow(refused);
  });

  test('a read-only selinuxfs on a kernel that has selinuxfs: only the mount table tells, so the run decides (selinux-state), asking nothing of it here', () => {
    const sys = host().addSelinuxfs('/sys/fs/selinux', true).addFile('/proc/filesystems', 'nodev\tproc\nnodev\tselinuxfs\n');
    expect(() => validateSelinuxLabel(labelled(), sys)).not.toThrow();
    expect(sys.calls.filter((c) => c.op === 'readFile').map((c) => (c as { path: string }).path)).toEqual(['/proc/filesystems']);
  });
});

describe('validateTimeNamespace', () => {
  const withTime = (time: RootfsConfig['namespaces'][number] | undefined, timeOffsets?: RootfsConfig['timeOffsets']) =>
    makeConfig({ rootfs: '/bundle/rootfs', namespaces: [{ type: 'mount' }, ...(time ? [time] : [])], ...(timeOffsets ? { timeOffsets } : {}) });
  const kernel = () => host().addFile('/proc/self/timens_offsets', 'monotonic 0 0\nboottime 0 0\n');
  const offsets = { boottime: { secs: 60, nanosecs: 0 } };

  test.each<[string, RootfsConfig, FakeSyscalls, string]>([
    ['a time namespace on a kernel without them', withTime({ type: 'time' }), host(), 'linux.namespaces "time": needs time namespaces in the kernel (no /proc/self/timens_offsets)'],
    ['offsets without a time namespace', withTime(undefined, offsets), kernel(), 'linux.timeOffsets: needs a new time namespace in linux.namespaces'],
    ['offsets for one joined by path', withTime({ type: 'time', path: '/proc/7/ns/time' }, offsets), kernel(), 'linux.timeOffsets: are for a new time namespace, not one joined by path (/proc/7/ns/time)'],
  ])('%s is refused, as runc 1.2 refuses it; validateConfig makes the check', (_what, config, on, message) => {
    expect(() => validateTimeNamespace(config, on, '6.18.0')).toThrow(message);
    expect(() => validateConfig(config, on)).toThrow(message);
  });

  test('a new one on a kernel before 6.2, where execve(2) does not enter it, is refused; one joined by path is not', () => {
    expect(() => validateTimeNamespace(withTime({ type: 'time' }), kernel(), '6.1.0-21-amd64')).toThrow(
      'linux.namespaces "time": a new one needs Linux 6.2 or later, where execve(2) enters it; this kernel is 6.1.0-21-amd64',
    );
    expect(() => validateTimeNamespace(withTime({ type: 'time' }), kernel(), '5.10.0')).toThrow('needs Linux 6.2 or later');
    expect(() => validateTimeNamespace(withTime({ type: 'time' }), kernel(), '6.2.0')).not.toThrow();
    expect(() => validateTimeNamespace(withTime({ type: 'time', path: '/proc/7/ns/time' }), kernel(), '5.10.0')).not.toThrow();
  });

  test('inNamespaces (runPipeline), a new one on a kernel before 6.2 is taken: the process is in it already (unshare --time --fork)', () => {
    expect(() => validateTimeNamespace(withTime({ type: 'time' }), kernel(), '6.1.0-21-amd64', { inNamespaces: true })).not.toThrow();
    expect(() => validateTimeNamespace(withTime({ type: 'time' }), host(), '6.1.0-21-amd64', { inNamespaces: true })).toThrow('needs time namespaces in the kernel');
  });

  test('a new one, with or without offsets, or one joined by path without: accepted', () => {
    expect(() => validateTimeNamespace(withTime({ type: 'time' }, offsets), kernel(), '6.18.0')).not.toThrow();
    expect(() => validateTimeNamespace(withTime({ type: 'time' }), kernel(), '6.18.0')).not.toThrow();
    expect(() => validateTimeNamespace(withTime({ type: 'time', path: '/proc/7/ns/time' }), kernel())).not.toThrow();
    expect(() => validateTimeNamespace(withTime(undefined), host())).not.toThrow();
  });
});

describe('validateUserNamespace', () => {
  const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const withUserNs = () => host().addFile('/proc/self/ns/user');
  const check = (over: Partial<RootfsConfig>, sys = withUserNs()) => () => validateUserNamespace(makeConfig(over), sys);

  test.each<[string, Partial<RootfsConfig>]>([
    ['a new one with both maps', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS }],
    ['a new one without maps (where mountkit runs inside one already; userNamespaceProblem decides)', { namespaces: [{ type: 'mount' }, { type: 'user' }] }],
    ['one joined by path, with maps compared once there', { namespaces: [{ type: 'mount' }, { type: 'user', path: '/proc/1/ns/user' }], uidMappings: MAPS, gidMappings: MAPS }],
    ['root among several ranges', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 1, hostID: 1, size: 5 }, { containerID: 0, hostID: 9, size: 1 }], gidMappings: MAPS }],
    ['the process ids mapped, the last of a range included', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS, process: { ...makeConfig().process, uid: 65535, gid: 1000, additionalGids: [5] } }],
    ['no user namespace and no maps', { namespaces: [{ type: 'mount' }] }],
  ])('accepted: %s', (_case, over) => {
    expect(check(over)).not.toThrow();
  });

  test("mountkit's own, joined by path: refused before anything is done (setns(2) would answer EINVAL); not where the process is in its namespaces already", () => {
    const own = { namespaces: [{ type: 'mount' as const }, { type: 'user' as const, path: '/proc/self/ns/user' }] };
    const sys = withUserNs();
    expect(() => validateUserNamespace(makeConfig(own), sys)).toThrow(
      `linux.namespaces "/proc/self/ns/user": is mountkit's own user namespace, which setns(2) cannot join (EINVAL): leave the user namespace out to stay in it`,
    );
    expect(() => validateUserNamespace(makeConfig(own), sys, { inNamespaces: true })).not.toThrow();
    expect(sys.effects()).toEqual([]);
  });

  test.each<[string, Partial<RootfsConfig>, string]>([
    ['maps without a user namespace', { namespaces: [{ type: 'mount' }], uidMappings: MAPS }, 'linux.uidMappings: are for a user namespace, and linux.namespaces has none'],
    ['a gid map without a user namespace', { namespaces: [{ type: 'mount' }], gidMappings: MAPS }, 'linux.gidMappings: are for a user namespace, and linux.namespaces has none'],
    ['a uid map alone', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS }, 'linux.gidMappings: are required with linux.uidMappings'],
    ['a gid map alone', { namespaces: [{ type: 'mount' }, { type: 'user' }], gidMappings: MAPS }, 'linux.uidMappings: are required with linux.gidMappings'],
    ['an empty map', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [], gidMappings: MAPS }, 'linux.uidMappings: needs at least one mapping'],
    [
      'overlapping ranges',
      { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: [...MAPS, { containerID: 5, hostID: 1, size: 1 }] },
      "linux.gidMappings[1]: its containerID range overlaps linux.gidMappings[0]'s",
    ],
    ['root unmapped', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: [{ containerID: 1, hostID: 100000, size: 10 }], gidMappings: MAPS }, "linux.uidMappings: map no containerID 0: the container's root must be mapped"],
    ['root unmapped in the gid map', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: [{ containerID: 1000, hostID: 1000, size: 1 }] }, "linux.gidMappings: map no containerID 0: the container's root must be mapped"],
    ['the process uid unmapped', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS, process: { ...makeConfig().process, uid: 70000 } }, 'process.user.uid 70000: is not mapped by linux.uidMappings'],
    ['the process gid unmapped', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: [{ containerID: 0, hostID: 100000, size: 1 }], process: { ...makeConfig().process, gid: 5 } }, 'process.user.gid 5: is not mapped by linux.gidMappings'],
    ['an additional gid unmapped', { namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS, process: { ...makeConfig().process, additionalGids: [5, 65536] } }, 'process.user.additionalGids[1] 65536: is not mapped by linux.gidMappings'],
  ])('refused: %s', (_case, over, message) => {
    expect(check(over)).toThrow(ConfigError);
    expect(check(over)).toThrow(message);
  });

  test('a kernel without user namespaces refuses one, as runc checks /proc/self/ns/user', () => {
    expect(check({ namespaces: [{ type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS }, host())).toThrow('linux.namespaces "user": needs user namespaces in the kernel (no /proc/self/ns/user)');
  });

  test('validateConfig makes this check', () => {
    expect(() => validateConfig(makeConfig({ namespaces: [{ type: 'mount' }], uidMappings: MAPS }), withUserNs())).toThrow('linux.uidMappings: are for a user namespace');
  });
  test.each<[string, Partial<RootfsConfig>]>([
    ['a new one', { namespaces: [{ type: 'user' }] }],
    ['one joined by path', { namespaces: [{ type: 'user', path: '/proc/1/ns/user' }], uidMappings: MAPS, gidMappings: MAPS }],
  ])('refused without a mount namespace, where the jail would be chroot(2), which root of the user namespace can leave: %s; with --no-pivot (MS_MOVE of the rootfs onto /, then chroot) accepted', (_case, over) => {
    expect(check(over)).toThrow(
      'linux.namespaces "user": needs a mount namespace (type "mount") beside it: without one the jail is chroot(2), which root of the user namespace (CAP_SYS_CHROOT) can leave for the files outside the rootfs',
    );
    expect(check({ ...over, noPivot: true })).not.toThrow();
  });

});

describe('validateRootlessNamespaces', () => {
  test("a run by a user other than root needs a user namespace, as runc's rootless containers do; one by root, none", () => {
    const namespaces = [{ type: 'pid' as const }, { type: 'mount' as const }];
    expect(() => validateRootlessNamespaces({ rootless: true, namespaces })).toThrow(
      new ConfigError('linux.namespaces', undefined, 'a container run by a user other than root needs a user namespace (type "user"), as runc requires'),
    );
    expect(() => validateRootlessNamespaces({ rootless: true, namespaces: [...namespaces, { type: 'user' }] })).not.toThrow();
    expect(() => validateRootlessNamespaces({ rootless: false, namespaces })).not.toThrow();
    expect(() => validateRootlessNamespaces({ namespaces })).not.toThrow();
  });
});

describe('validateRootlessGroups', () => {
  test('a rootless container keeps its user\'s groups and takes no additional ones, as runc refuses them; run as root, any', () => {
    const config = (rootless: boolean, additionalGids?: number[]) => ({ rootless, process: { ...makeConfig().process, ...(additionalGids ? { additionalGids } : {}) } });
    expect(() => validateRootlessGroups(config(true))).not.toThrow();
    expect(() => validateRootlessGroups(config(true, []))).not.toThrow();
    expect(() => validateRootlessGroups(config(false, [5]))).not.toThrow();
    expect(() => validateRootlessGroups(config(true, [5, 27]))).toThrow(
      new ConfigError('process.user.additionalGids', '[5,27]', 'cannot be given in a rootless container (mountkit runs as a user other than root, whose own supplementary groups it keeps), as runc refuses them'),
    );
  });
});

describe('validateNoPivot', () => {
  test.each<[bigint, boolean, string | undefined]>([
    [MS_PRIVATE, true, 'linux.rootfsPropagation "private": is not safe without pivot_root (--no-pivot), as runc refuses it'],
    [MS_PRIVATE | MS_REC, true, 'linux.rootfsPropagation "rprivate": is not safe without pivot_root'],
    [MS_PRIVATE | MS_REC, false, undefined],
    [MS_SLAVE | MS_REC, true, undefined],
    [MS_SHARED, true, undefined],
    [0n, true, undefined],
  ])('propagation %s, noPivot %s', (rootPropagation, noPivot, message) => {
    if (message) expect(() => validateNoPivot({ noPivot, rootPropagation })).toThrow(message);
    else expect(() => validateNoPivot({ noPivot, rootPropagation })).not.toThrow();
  });

  test('validateConfig makes the check', () => {
    expect(() => validateConfig(makeConfig({ rootfs: '/bundle/rootfs', noPivot: true, rootPropagation: MS_PRIVATE }), host())).toThrow('linux.rootfsPropagation "private"');
  });
});

describe('validateContainerId', () => {
  test('an id given must be one runc takes, whatever the bundle is called', () => {
    expect(() => validateContainerId({ bundle: '/b/web-1' })).not.toThrow();
    expect(() => validateContainerId({ bundle: '/b/x', id: 'web-1' })).not.toThrow();
    expect(() => validateContainerId({ bundle: '/b/my bundle', id: 'web-1' })).not.toThrow();
    expect(() => validateContainerId({ bundle: '/b/x', id: '../x' })).toThrow(new ConfigError('id', '../x', 'may hold only ASCII letters, digits and _ + , - . (as runc takes an id)'));
  });

  const DEFAULT = "; it is the bundle directory's name, the id when none is given (mountkit run ID)";
  test.each([
    ['/bundles/web-1', undefined],
    ['/bundles/a_b+c,d-e.f', undefined],
    ['/bundles/web-1/', undefined],
    ['/bundles/my bundle', `container id "my bundle": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)${DEFAULT}`],
    ['/bundles/caf\u00e9', `container id "caf\u00e9": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)${DEFAULT}`],
    ['/bundles/b\udcff', `container id "b\\udcff": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)${DEFAULT}`],
    ['/bundles/a:b', `container id "a:b": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)${DEFAULT}`],
    ['/', `container id "": must not be empty${DEFAULT}`],
    ['/bundles/..', `container id "..": must not be . or .. (as runc takes an id)${DEFAULT}`],
  ])('none given: the default, the name of bundle %j, is checked as a given one', (bundle, message) => {
    if (message === undefined) return expect(() => validateContainerId({ bundle })).not.toThrow();
    expect(() => validateContainerId({ bundle })).toThrow(ConfigError);
    expect(() => validateContainerId({ bundle })).toThrow(message);
  });

  test('validateConfig makes the check, of a given id or the default', () => {
    expect(() => validateConfig(makeConfig({ rootfs: '/bundle/rootfs', id: '..' }), host())).toThrow('id "..": must not be . or ..');
    expect(() => validateConfig(makeConfig({ bundle: '/b/my bundle', rootfs: '/bundle/rootfs' }), host())).toThrow(`container id "my bundle": may hold only`);
  });
});
