/**
 * Malformed and hostile configs through the real CLI (`node bin/mountkit.js run --bundle
 * DIR` on a busybox bundle): each one ends with exit status 2 (configuration) or 1
 * (runtime), exactly one line on stderr naming the field and value or the syscall, errno
 * and path, no stack trace, and the host as it was: its mount table, every file of the
 * bundle, a sentinel directory outside it and the host's sysctl values.
 */
import { readFileSync } from 'fs';
import * as path from 'path';
import { hostChanges, hostFixtures, ONE_LINE, REAL_RUNS, recordHost, runMountkit } from './host-state';

type Json = Record<string, any>;

const maybe = REAL_RUNS ? describe : describe.skip;

function baseConfig(): Json {
  return {
    ociVersion: '1.0.2',
    process: { terminal: false, args: ['true'], env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs' },
    hostname: 'box',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    ],
    linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }] },
  };
}

interface Case {
  name: string;
  /** Changes the base config; gets the sentinel directory (outside the bundle). */
  edit?: (c: Json, sentinel: string) => void;
  /** config.json as raw text instead of the base config. */
  text?: string;
  args?: string[];
  status: 1 | 2;
  /** The stderr line after "mountkit: ", exactly (string) or matched (RegExp); BUNDLE and SENTINEL are replaced. */
  stderr: string | RegExp;
  /** Host files whose content the run must leave alone (sysctl values). */
  watch?: string[];
}

const mount = (m: Json) => (c: Json) => c.mounts.push(m);

/** One id mapping, for idmapped binds. */
const IDS = [{ containerID: 0, hostID: 1000, size: 10 }];

/**
 * The host's current value of a sysctl: the cases that must be refused ask for it, so
 * that a mountkit that wrongly wrote it would still leave the host as it was (the exit
 * status and message show the failure).
 */
const hostValue = (key: string) => readFileSync(`/proc/sys/${key}`, 'utf8').trim();

const CONFIG_ERRORS: Case[] = [
  { name: 'invalid JSON', text: '{"root": {"path": "rootfs"},}', status: 2, stderr: 'config.json "BUNDLE/config.json": is not valid JSON at line 1, column 29: unexpected "}"' },
  { name: 'invalid JSON over lines (a Python True)', text: '{\n "root": {"path": "rootfs"},\n "x": True\n}', status: 2, stderr: 'config.json "BUNDLE/config.json": is not valid JSON at line 3, column 7: unexpected "T"' },
  { name: 'a byte order mark', text: '\ufeff{"root": {"path": "rootfs"}}', status: 2, stderr: 'config.json "BUNDLE/config.json": starts with a byte order mark (U+FEFF), which JSON does not take: save it as UTF-8 without one' },
  { name: 'an empty file', text: '', status: 2, stderr: 'config.json "BUNDLE/config.json": is empty' },
  { name: 'only whitespace', text: ' \n\t\n', status: 2, stderr: 'config.json "BUNDLE/config.json": is empty' },
  { name: 'a JSON array', text: '[]', status: 2, stderr: 'config.json []: must be a JSON object, not an array' },
  {
    name: 'a value nested deeper than Go\'s decoder takes (10000) where a number goes',
    text: `{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["sh"], "scheduler": {"policy": "SCHED_OTHER", "nice": ${'['.repeat(20000)}${']'.repeat(20000)}}}}`,
    status: 2,
    stderr: `process.scheduler.nice${'[0]'.repeat(9)}...: nests arrays and objects more than 10000 deep, which runc's Go decoder refuses too`,
  },
  { name: 'a number too large for a double (1e309)', text: '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["sh"], "user": {"uid": 1e309, "gid": 0}}}', status: 2, stderr: "process.user.uid: 1e309 is not an integer literal: runc's Go decoder takes an integer field's number as digits only, with no fraction or exponent" },
  { name: 'JSON null', text: 'null', status: 2, stderr: 'config.json null: must be a JSON object, not null' },
  { name: 'mounts not an array', edit: (c) => (c.mounts = { destination: '/x' }), status: 2, stderr: 'mounts {"destination":"/x"}: must be an array, not an object' },
  { name: 'a numeric destination', edit: mount({ destination: 42, type: 'tmpfs', source: 'tmpfs' }), status: 2, stderr: 'mounts[2].destination 42: must be a string, not a number' },
  {
    name: 'an empty destination (a relative one is taken from /)',
    edit: mount({ destination: '', type: 'tmpfs', source: 'tmpfs' }),
    status: 2,
    stderr: 'mounts[2].destination "": must not be empty',
  },
  {
    name: 'a destination with a NUL byte',
    edit: mount({ destination: '/tmp\u0000/../../etc', type: 'tmpfs', source: 'tmpfs' }),
    status: 2,
    stderr: 'mounts[2].destination "/tmp\\u0000/../../etc": must not contain a NUL byte',
  },
  {
    name: 'options that are not all strings',
    edit: mount({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 7] }),
    status: 2,
    stderr: 'mounts[2].options[1] 7: must be a string, not a number',
  },
  { name: 'a mount without a type', edit: mount({ destination: '/tmp', source: 'tmpfs' }), status: 2, stderr: 'mounts[2].type: must be set unless the options contain bind, rbind or remount' },
  { name: 'a bind without a source', edit: mount({ destination: '/mnt', options: ['rbind'] }), status: 2, stderr: 'mounts[2].source: must be set for a bind mount' },
  {
    name: 'z and Z on one bind',
    edit: (c, sentinel) => c.mounts.push({ destination: '/mnt', source: sentinel, options: ['rbind', 'z', 'Z'] }),
    status: 2,
    stderr: 'mounts[2].options "Z": conflicts with "z": a mount takes one SELinux relabel, z (shared) or Z (private)',
  },
  {
    name: 'an unknown device type',
    edit: (c) => (c.linux.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 3 }]),
    status: 2,
    stderr: 'linux.devices[0].type "x": must be one of c, b, u, p',
  },
  {
    name: 'a device path outside /dev',
    edit: (c) => (c.linux.devices = [{ type: 'c', path: '/etc/evil', major: 1, minor: 3 }]),
    status: 2,
    stderr: 'linux.devices[0].path "/etc/evil": must be under /dev',
  },
  {
    name: 'a device path that only starts with the letters of /dev',
    edit: (c) => (c.linux.devices = [{ type: 'c', path: '/devx', major: 1, minor: 3 }]),
    status: 2,
    stderr: 'linux.devices[0].path "/devx": must be under /dev',
  },
  {
    name: 'a device path leaving /dev with ..',
    edit: (c) => (c.linux.devices = [{ type: 'b', path: '/dev/../../bin/sh', major: 8, minor: 0 }]),
    status: 2,
    stderr: 'linux.devices[0].path "/bin/sh": must be under /dev',
  },
  {
    name: 'a device major beyond 12 bits',
    edit: (c) => (c.linux.devices = [{ type: 'c', path: '/dev/big', major: 4096, minor: 0 }]),
    status: 2,
    stderr: 'linux.devices[0].major 4096: must be at most 4095',
  },
  {
    name: 'a sysctl key the kernel does not have',
    edit: (c) => (c.linux.sysctl = { 'net.ipv4.no_such_key': '1' }),
    status: 2,
    stderr: 'linux.sysctl "net.ipv4.no_such_key": does not exist: no "/proc/sys/net/ipv4/no_such_key"',
  },
  {
    name: 'a sysctl no namespace isolates',
    edit: (c) => (c.linux.sysctl = { 'kernel.panic': hostValue('kernel/panic') }),
    status: 2,
    stderr: 'linux.sysctl "kernel.panic": is not isolated by any namespace: writing it would change the host',
    watch: ['/proc/sys/kernel/panic'],
  },
  {
    name: 'a sysctl key leaving /proc/sys',
    edit: (c, sentinel) => (c.linux.sysctl = { [`net/../../..${sentinel}/file`]: 'pwned' }),
    status: 2,
    stderr: /^linux\.sysctl "net\/\.\.\/\.\.\/\.\.SENTINEL\/file": must name a file below \/proc\/sys: no "\.\." component$/,
  },
  {
    name: 'an absolute sysctl key',
    edit: (c, sentinel) => (c.linux.sysctl = { [`${sentinel}/file`]: 'pwned' }),
    status: 2,
    stderr: /^linux\.sysctl "SENTINEL\/file": must name a file below \/proc\/sys: it starts with "\/", not a name$/,
  },
  {
    name: 'an ipc sysctl without an ipc namespace',
    edit: (c) => {
      c.linux.namespaces = [{ type: 'mount' }];
      c.hostname = '';
      c.linux.sysctl = { 'kernel.shmmni': hostValue('kernel/shmmni') };
    },
    status: 2,
    stderr: 'linux.sysctl "kernel.shmmni": is isolated by the ipc namespace, which linux.namespaces does not list',
    watch: ['/proc/sys/kernel/shmmni'],
  },
  {
    // Without a user namespace, the limits of the host's (kernel/ucount.c).
    name: 'a user.* sysctl without a user namespace',
    edit: (c) => (c.linux.sysctl = { 'user.max_user_namespaces': hostValue('user/max_user_namespaces') }),
    status: 2,
    stderr: 'linux.sysctl "user.max_user_namespaces": is isolated by the user namespace, which linux.namespaces does not list',
    watch: ['/proc/sys/user/max_user_namespaces'],
  },
  {
    // Its setns(2) would be EINVAL (the caller's own user namespace): refused before the relaunch, with or without a key of it.
    name: "a user.* sysctl in mountkit's own user namespace",
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/user' });
      c.linux.sysctl = { 'user.max_user_namespaces': hostValue('user/max_user_namespaces') };
    },
    status: 2,
    stderr: `linux.namespaces "/proc/self/ns/user": is mountkit's own user namespace, which setns(2) cannot join (EINVAL): leave the user namespace out to stay in it`,
    watch: ['/proc/sys/user/max_user_namespaces'],
  },
  {
    name: "mountkit's own user namespace joined by path (nsenter's EINVAL before)",
    edit: (c) => void c.linux.namespaces.push({ type: 'user', path: '/proc/self/ns/user' }),
    status: 2,
    stderr: `linux.namespaces "/proc/self/ns/user": is mountkit's own user namespace, which setns(2) cannot join (EINVAL): leave the user namespace out to stay in it`,
  },
  {
    name: "a net sysctl in mountkit's own network namespace",
    edit: (c) => {
      c.linux.namespaces[3] = { type: 'network', path: '/proc/self/ns/net' };
      c.linux.sysctl = { 'net.ipv4.ip_forward': hostValue('net/ipv4/ip_forward') };
    },
    status: 2,
    stderr: "linux.sysctl \"net.ipv4.ip_forward\": is isolated by the network namespace, but linux.namespaces joins mountkit's own (/proc/self/ns/net)",
    watch: ['/proc/sys/net/ipv4/ip_forward'],
  },
  {
    // The host's own name: a mountkit that wrongly set it would leave the host as it was.
    name: "a hostname in mountkit's own uts namespace",
    edit: (c) => {
      c.linux.namespaces = c.linux.namespaces.map((n: { type: string }) => (n.type === 'uts' ? { type: 'uts', path: '/proc/self/ns/uts' } : n));
      c.hostname = hostValue('kernel/hostname');
    },
    status: 2,
    stderr: `hostname ${JSON.stringify(hostValue('kernel/hostname'))}: would rename the host: linux.namespaces joins mountkit's own uts namespace (/proc/self/ns/uts)`,
    watch: ['/proc/sys/kernel/hostname'],
  },
  {
    name: 'a field in another case (runc: a read-only root)',
    edit: (c) => (c.root.Readonly = true),
    status: 2,
    stderr: 'root.Readonly: is not a field mountkit reads: a runtime that reads config.json with Go\'s encoding/json (runc) takes it as "readonly", matching keys in any case; write "readonly"',
  },
  { name: 'a sysctl value that is a number', edit: (c) => (c.linux.sysctl = { 'net.ipv4.ip_forward': 1 }), status: 2, stderr: 'linux.sysctl["net.ipv4.ip_forward"] 1: must be a string, not a number' },
  {
    name: 'an unknown rootfs propagation word',
    edit: (c) => (c.linux.rootfsPropagation = 'sideways'),
    status: 2,
    stderr: 'linux.rootfsPropagation "sideways": must be one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable',
  },
  { name: 'a missing rootfs', edit: (c) => (c.root.path = 'no-such-rootfs'), status: 2, stderr: 'root.path "BUNDLE/no-such-rootfs": does not exist' },
  { name: 'a rootfs that is a file', edit: (c) => (c.root.path = 'config.json'), status: 2, stderr: 'root.path "BUNDLE/config.json": is a file, not a directory' },
  { name: 'no root at all', edit: (c) => delete c.root, status: 2, stderr: 'root.path: is required' },
  { name: 'uid (uid_t)-1', edit: (c) => (c.process.user = { uid: 4294967295, gid: 0 }), status: 2, stderr: 'process.user.uid 4294967295: is (uid_t)-1, which names no user: setuid(2) refuses it (EINVAL)' },
  {
    name: 'a rootfs named longer than NAME_MAX (255 bytes)',
    edit: (c) => (c.root.path = 'r'.repeat(256)),
    status: 2,
    stderr: `root.path "BUNDLE/${'r'.repeat(256)}": holds a name longer than its filesystem takes (NAME_MAX, 255 bytes, on most), which no lookup takes: stat: ENAMETOOLONG`,
  },
  { name: 'empty args', edit: (c) => (c.process.args = []), status: 2, stderr: 'process.args: must not be empty' },
  { name: 'no args', edit: (c) => delete c.process.args, status: 2, stderr: 'process.args: is required' },
  {
    name: 'a hostname without a uts namespace',
    edit: (c) => (c.linux.namespaces = [{ type: 'mount' }]),
    status: 2,
    stderr: 'hostname "box": needs a uts namespace in linux.namespaces',
  },
  {
    name: 'a hostname longer than a uts namespace keeps (runc fails at sethostname, after the mounts)',
    edit: (c) => (c.hostname = 'h'.repeat(65)),
    status: 2,
    stderr: `hostname "${'h'.repeat(65)}": is 65 bytes long, more than the 64 a uts namespace keeps (sethostname(2) refuses it: EINVAL)`,
  },
  {
    name: 'an unknown namespace type',
    edit: (c) => c.linux.namespaces.push({ type: 'everything' }),
    status: 2,
    stderr: 'linux.namespaces[4].type "everything": must be one of mount, pid, uts, ipc, network, user, cgroup, time',
  },
  { name: 'a namespace listed twice', edit: (c) => c.linux.namespaces.push({ type: 'uts' }), status: 2, stderr: 'linux.namespaces[4].type "uts": is listed more than once' },
  {
    name: 'a new user namespace without maps',
    edit: (c) => c.linux.namespaces.push({ type: 'user' }),
    status: 2,
    stderr: 'linux.namespaces "user": a new user namespace needs linux.uidMappings and linux.gidMappings, the maps mountkit writes for it (or a path to join one)',
  },
  {
    name: 'a user namespace without a mount namespace, where the jail would be chroot(2), which root of the user namespace can leave',
    edit: (c) => {
      c.linux.namespaces = [...c.linux.namespaces.filter((ns: { type: string }) => ns.type !== 'mount'), { type: 'user' }];
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
    status: 2,
    stderr: 'linux.namespaces "user": needs a mount namespace (type "mount") beside it: without one the jail is chroot(2), which root of the user namespace (CAP_SYS_CHROOT) can leave for the files outside the rootfs',
  },
  {
    name: 'user namespace maps without a user namespace',
    edit: (c) => (c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }]),
    status: 2,
    stderr: 'linux.uidMappings: are for a user namespace, and linux.namespaces has none',
  },
  {
    name: "a user namespace whose maps leave the container's root out",
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 1, hostID: 100001, size: 65535 }];
      c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
    status: 2,
    stderr: "linux.uidMappings: map no containerID 0: the container's root must be mapped",
  },
  {
    name: 'a user namespace with a uid map and no gid map',
    edit: (c) => {
      c.linux.namespaces.push({ type: 'user' });
      c.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    },
    status: 2,
    stderr: 'linux.gidMappings: are required with linux.uidMappings',
  },
  { name: 'a relative cwd', edit: (c) => (c.process.cwd = 'tmp'), status: 2, stderr: 'process.cwd "tmp": must be an absolute path' },
  { name: 'a negative uid', edit: (c) => (c.process.user = { uid: -1, gid: 0 }), status: 2, stderr: 'process.user.uid -1: must be a non-negative integer' },
  { name: 'a relative masked path', edit: (c) => (c.linux.maskedPaths = ['/proc/kcore', 'proc/keys']), status: 2, stderr: 'linux.maskedPaths[1] "proc/keys": must be an absolute path' },
  {
    name: 'a hook with a relative path',
    edit: (c) => (c.hooks = { prestart: [{ path: 'bin/true' }] }),
    status: 2,
    stderr: 'hooks.prestart[0].path "bin/true": must be an absolute path',
  },
  { name: 'a hook timeout of zero', edit: (c) => (c.hooks = { prestart: [{ path: '/bin/true', timeout: 0 }] }), status: 2, stderr: 'hooks.prestart[0].timeout 0: must be greater than zero' },
  { name: 'an unknown log level', args: ['--log-level', 'loud'], status: 2, stderr: '--log-level "loud": must be one of error, warn, info, debug' },
  {
    name: 'an idmapped tmpfs',
    edit: mount({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['idmap'], uidMappings: IDS, gidMappings: IDS }),
    status: 2,
    stderr: 'mounts[2].type "tmpfs": an idmapped mount (idmap, ridmap, uidMappings, gidMappings) must be a bind mount',
  },
  {
    name: 'uidMappings without gidMappings',
    edit: mount({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind'], uidMappings: IDS }),
    status: 2,
    stderr: 'mounts[2].gidMappings: is required with mounts[2].uidMappings',
  },
  {
    name: 'overlapping host ranges in a mount\'s gidMappings',
    edit: mount({ destination: '/mnt', type: 'bind', source: '/tmp', options: ['rbind'], uidMappings: IDS, gidMappings: [...IDS, { containerID: 10, hostID: 1005, size: 1 }] }),
    status: 2,
    stderr: "mounts[2].gidMappings[1]: its hostID range overlaps mounts[2].gidMappings[0]'s",
  },
  {
    name: 'a seccomp architecture by another name',
    edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', architectures: ['x86_64'] }),
    status: 2,
    stderr: /^linux\.seccomp\.architectures\[0\] "x86_64": is not a seccomp architecture; known: SCMP_ARCH_X86, /,
  },
  {
    name: 'a seccomp comparison of a seventh argument',
    edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 6, value: 9, op: 'SCMP_CMP_EQ' }] }] }),
    status: 2,
    stderr: 'linux.seccomp.syscalls[0].args[0].index 6: must be from 0 to 5: a syscall has 6 arguments',
  },
  {
    name: 'SCMP_ACT_NOTIFY without listenerPath',
    edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mount'], action: 'SCMP_ACT_NOTIFY' }] }),
    status: 2,
    stderr: 'linux.seccomp.listenerPath: is required with SCMP_ACT_NOTIFY: the listener is sent there',
  },
  {
    name: 'a seccomp errnoRet beyond 16 bits, which runc cuts to another errno',
    edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 65537 }] }),
    status: 2,
    stderr: 'linux.seccomp.syscalls[0].errnoRet 65537: must be at most 65535, the 16 bits of SECCOMP_RET_DATA: runc 1.1.5 keeps only the low 16 bits of a larger value, which is another errno (65536 is 0, a syscall answered 0 without running)',
  },
  // Fields mountkit does not use, which runc's Go decoder refuses.
  {
    name: 'a cgroup memory limit as a string',
    edit: (c) => (c.linux.resources = { memory: { limit: '1G' } }),
    status: 2,
    stderr: "linux.resources.memory.limit \"1G\": must be an integer from -9223372036854775808 to 9223372036854775807 (Go int64), not a string: runc's Go decoder refuses config.json for it, though mountkit does not use the field",
  },
  {
    name: 'a cgroups path as a number, its key in another case',
    edit: (c) => (c.linux.CgroupsPath = 5),
    status: 2,
    stderr: "linux.CgroupsPath 5: must be a string (Go string), not a number: runc's Go decoder refuses config.json for it, though mountkit does not use the field",
  },
  {
    name: 'an int64 written beyond its range',
    text: '{"ociVersion": "1.0.2", "root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["true"]}, "linux": {"resources": {"pids": {"limit": 9223372036854775808}}}}',
    status: 2,
    stderr: "linux.resources.pids.limit 9223372036854775808: must be an integer from -9223372036854775808 to 9223372036854775807 (Go int64): runc's Go decoder refuses config.json for it, though mountkit does not use the field",
  },
];

const RUNTIME_ERRORS: Case[] = [
  {
    name: 'an effective capability that is not permitted',
    edit: (c) => (c.process.capabilities = { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: [], inheritable: [], ambient: [] }),
    status: 1,
    stderr: 'finalize: plugin exec: process.capabilities.effective: CAP_KILL not in process.capabilities.permitted, and capset(2) refuses an effective capability that is not permitted (EPERM)',
  },
  {
    name: 'a namespace file of another type (runc: setns EINVAL too)',
    edit: (c) => (c.linux.namespaces[3] = { type: 'network', path: '/proc/self/ns/uts' }),
    status: 1,
    stderr: 'linux.namespaces "network": setns "/proc/self/ns/uts": EINVAL (namespace type uts, not network)',
  },
  {
    name: 'a namespace path that is no namespace file',
    edit: (c, sentinel) => (c.linux.namespaces[3] = { type: 'network', path: path.join(sentinel, 'file') }),
    status: 1,
    stderr: 'linux.namespaces "network": setns "SENTINEL/file": EINVAL (not a namespace file)',
  },
  {
    name: 'a missing bind source',
    edit: mount({ destination: '/mnt', type: 'bind', source: '/no-such-source', options: ['rbind'] }),
    status: 1,
    stderr: 'mounts: plugin bind mounts[2] "/mnt": bind source "/no-such-source" does not exist',
  },
  {
    name: 'a tmpfs over a /proc path',
    edit: mount({ destination: '/proc/sys/kernel', type: 'tmpfs', source: 'tmpfs' }),
    status: 1,
    stderr: 'mounts: plugin tmpfs mounts[2] "/proc/sys/kernel": "/proc/sys/kernel" cannot be mounted because it is inside /proc',
  },
  {
    name: 'a proc over /proc/sys/net, which writes to /proc/sys/net/... would reach (as runc 1.2 refuses it)',
    edit: mount({ destination: '/proc/sys/net', type: 'proc', source: 'proc' }),
    status: 1,
    stderr: 'mounts: plugin proc mounts[2] "/proc/sys/net": "/proc/sys/net" cannot be mounted because it is inside /proc',
  },
  {
    name: 'a sysfs over /proc',
    edit: mount({ destination: '/proc', type: 'sysfs', source: 'sysfs' }),
    status: 1,
    stderr: 'mounts: plugin proc mounts[2] "/proc": "/proc" takes only a proc filesystem, or a bind of one',
  },
  {
    name: 'a bind over /proc/kcore spelled with ..',
    edit: (c, sentinel) => c.mounts.push({ destination: '/tmp/../proc/kcore', source: path.join(sentinel, 'file'), options: ['bind'] }),
    status: 1,
    stderr: 'mounts: plugin bind mounts[2] "/proc/kcore": "/proc/kcore" cannot be mounted because it is inside /proc',
  },
  {
    name: 'an unknown filesystem type (the kernel: ENODEV)',
    edit: mount({ destination: '/tmp', type: 'nosuchfs', source: 'none' }),
    status: 1,
    stderr: 'mounts: plugin default mounts[2] "/tmp": mount "none" -> "BUNDLE/rootfs/tmp": ENODEV (type "nosuchfs")',
  },
  {
    name: 'an unknown option word, handed to tmpfs as data (EINVAL)',
    edit: mount({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['rsideways'] }),
    status: 1,
    stderr: 'mounts: plugin tmpfs mounts[2] "/tmp": mount "tmpfs" -> "BUNDLE/rootfs/tmp": EINVAL (data "mode=0755,rsideways")',
  },
  {
    name: 'a tmpfs onto a file (ENOTDIR): the data shown is the config\'s, no mode taken from the file',
    edit: mount({ destination: '/bin/busybox', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] }),
    status: 1,
    stderr: 'mounts: plugin tmpfs mounts[2] "/bin/busybox": mount "tmpfs" -> "BUNDLE/rootfs/bin/busybox": ENOTDIR (data "size=1m")',
  },
  {
    name: 'a file bound onto a directory (ENOTDIR)',
    edit: (c, sentinel) => c.mounts.push({ destination: '/tmp', source: path.join(sentinel, 'file'), options: ['bind'] }),
    status: 1,
    stderr: 'mounts: plugin bind mounts[2] "/tmp": mount "SENTINEL/file" -> "BUNDLE/rootfs/tmp": ENOTDIR',
  },
  {
    name: 'an idmapped bind of a filesystem that cannot be idmapped (procfs: EINVAL)',
    edit: mount({ destination: '/tmp', type: 'bind', source: '/proc/sys/kernel', options: ['bind', 'idmap'], uidMappings: IDS, gidMappings: IDS }),
    status: 1,
    stderr: 'mounts: plugin bind mounts[2] "/tmp": mount_setattr "/proc/sys/kernel": EINVAL (the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it)',
  },
  {
    name: 'a namespace path that does not exist',
    edit: (c) => (c.linux.namespaces[1] = { type: 'uts', path: '/no/such/ns' }),
    status: 1,
    stderr: 'linux.namespaces "uts": open "/no/such/ns": ENOENT',
  },
  {
    name: 'a device below a device node (ENOTDIR)',
    edit: (c) => (c.linux.devices = [{ type: 'c', path: '/dev/null/x', major: 1, minor: 3 }]),
    status: 1,
    stderr: /^dev: plugin device-nodes: openat2? "BUNDLE\/rootfs\/dev\/null": ENOTDIR \(looking up "x" in it\)$/,
  },
  { name: 'a cwd below a file', edit: (c) => (c.process.cwd = '/bin/busybox/dir'), status: 1, stderr: /^after-jail: plugin cwd: openat2? "\/bin\/busybox": ENOTDIR \(looking up "dir" in it\)$/ },
  { name: 'a program not in PATH', edit: (c) => (c.process.args = ['no-such-program']), status: 1, stderr: 'finalize: plugin exec: process.args[0] "no-such-program" is not found in PATH "/bin"' },
  { name: 'a program that is not executable', edit: (c) => (c.process.args = ['/etc/passwd']), status: 1, stderr: 'finalize: plugin exec: process.args[0] "/etc/passwd" is not an executable file: its mode 0644 has no execute bit' },
  { name: 'a program that is not there', edit: (c) => (c.process.args = ['/bin/nope']), status: 1, stderr: 'finalize: plugin exec: process.args[0] "/bin/nope" is not an executable file: stat: ENOENT' },
  { name: 'a program that is a directory', edit: (c) => (c.process.args = ['/bin']), status: 1, stderr: 'finalize: plugin exec: process.args[0] "/bin" is not an executable file: it is a directory' },
  {
    name: 'a failing mount in a new pid namespace (mountkit relaunched)',
    edit: (c) => {
      c.linux.namespaces.push({ type: 'pid' });
      c.mounts.push({ destination: '/tmp', type: 'nosuchfs', source: 'none' });
    },
    status: 1,
    stderr: 'mounts: plugin default mounts[2] "/tmp": mount "none" -> "BUNDLE/rootfs/tmp": ENODEV (type "nosuchfs")',
  },
];

maybe('bad configs through mountkit run', () => {
  const host = hostFixtures();

  /** Runs one case; returns the CLI outcome and what changed on the host. */
  function runCase(c: Case) {
    const config = baseConfig();
    c.edit?.(config, host.sentinel.dir);
    const bundle = host.bundles.make(c.text ?? config);
    try {
      const watched = (c.watch ?? []).map((f) => readFileSync(f, 'utf8'));
      const dirs = [bundle.dir, host.sentinel.dir];
      const before = recordHost(dirs);
      const outcome = runMountkit(bundle.dir, c.args ?? []);
      const changes = hostChanges(before, dirs);
      (c.watch ?? []).forEach((f, i) => {
        const now = readFileSync(f, 'utf8');
        if (now !== watched[i]) changes.push(`${f}: ${JSON.stringify(watched[i])} => ${JSON.stringify(now)}`);
      });
      const stderr = outcome.stderr.split(bundle.dir).join('BUNDLE').split(host.sentinel.dir).join('SENTINEL');
      return { ...outcome, stderr, changes };
    } finally {
      bundle.cleanup();
    }
  }

  test('there are at least 25 of them', () => {
    expect(CONFIG_ERRORS.length + RUNTIME_ERRORS.length).toBeGreaterThanOrEqual(25);
  });

  test('the base config itself runs, and leaves the host as it was', () => {
    const r = runCase({ name: 'base', status: 2, stderr: '' });
    expect(r).toMatchObject({ status: 0, stdout: '', stderr: '', changes: [] });
  });

  test.each([...CONFIG_ERRORS, ...RUNTIME_ERRORS].map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r = runCase(c);
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    const line = r.stderr.slice('mountkit: '.length, -1);
    if (typeof c.stderr === 'string') expect(line).toBe(c.stderr);
    else expect(line).toMatch(c.stderr);
    expect(r.status).toBe(c.status);
    expect(r.stdout).toBe('');
    expect(r.changes).toEqual([]);
  });

  test('--log-level debug adds the stack trace after the line', () => {
    const c = RUNTIME_ERRORS.find((x) => x.name.startsWith('an unknown filesystem type'))!;
    const r = runCase({ ...c, args: ['--log-level', 'debug'] });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`mountkit: ${c.stderr}\n`);
    expect(r.stderr).toMatch(/^PluginError: mounts: plugin default mounts\[2\] "\/tmp": /m);
    // A frame of the orchestrator: its file (orchestrator.js), or its class where the CLI runs from dist/cli.bundle.js.
    expect(r.stderr).toMatch(/^\s+at .*orchestrator/im);
    expect(r.changes).toEqual([]);
  });
});
