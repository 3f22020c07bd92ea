import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
} from '../../src/core/constants';
import type { RootfsConfig } from '../../src/core/config/model';
import { MAX_NESTING, refuseOtherCase } from '../../src/core/config/key-case';
import { SPEC_SHAPE, shapeWithin, type FieldShape } from '../../src/core/config/spec-fields';
import * as oci from '../../src/core/config/oci';
import { checkedModel } from '../../src/core/config/model-check';
import { ConfigError, SyscallError } from '../../src/core/errors';

const { CONFIG_MAX_BYTES } = oci;

/**
 * The loader, with every config it makes in these tests checked to be one checkedModel
 * takes as it is: `mountkit run` and `plan` do not check the loader's output again
 * (ValidateOptions.modelChecked).
 */
function checkedByModel<A extends unknown[]>(load: (...args: A) => RootfsConfig): (...args: A) => RootfsConfig {
  return (...args) => {
    const cfg = load(...args);
    expect(checkedModel(cfg)).toEqual(cfg);
    return cfg;
  };
}
const fromOciSpec = checkedByModel(oci.fromOciSpec);
const loadBundle = checkedByModel(oci.loadBundle);

type Json = Record<string, any>;

/** The config.json `runc spec` writes (runc 1.1), trimmed of what mountkit never reads. */
function runcDefaultSpec(): Json {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: true,
      user: { uid: 0, gid: 0 },
      args: ['sh'],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: { bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'] },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
      maskedPaths: [
        '/proc/acpi',
        '/proc/asound',
        '/proc/kcore',
        '/proc/keys',
        '/proc/latency_stats',
        '/proc/timer_list',
        '/proc/timer_stats',
        '/proc/sched_debug',
        '/sys/firmware',
        '/proc/scsi',
      ],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

const plain = { clearedFlags: 0n, propagationFlags: [], extensions: { tmpcopyup: false }, relabel: '', premountCmds: [], postmountCmds: [] };

const RUNC_DEFAULT: RootfsConfig = {
  bundle: '/bundles/b1',
  rootfs: '/bundles/b1/rootfs',
  readonlyRootfs: true,
  mounts: [
    { ...plain, index: 0, type: 'proc', source: 'proc', destination: '/proc', flags: 0n, data: '' },
    { ...plain, index: 1, type: 'tmpfs', source: 'tmpfs', destination: '/dev', flags: MS_NOSUID | MS_STRICTATIME, data: 'mode=755,size=65536k' },
    {
      ...plain,
      index: 2,
      type: 'devpts',
      source: 'devpts',
      destination: '/dev/pts',
      flags: MS_NOSUID | MS_NOEXEC,
      data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
    },
    {
      ...plain,
      index: 3,
      type: 'tmpfs',
      source: 'shm',
      destination: '/dev/shm',
      flags: MS_NOSUID | MS_NOEXEC | MS_NODEV,
      data: 'mode=1777,size=65536k',
    },
    { ...plain, index: 4, type: 'mqueue', source: 'mqueue', destination: '/dev/mqueue', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV, data: '' },
    { ...plain, index: 5, type: 'sysfs', source: 'sysfs', destination: '/sys', flags: MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY, data: '' },
    {
      ...plain,
      index: 6,
      type: 'cgroup',
      source: 'cgroup',
      destination: '/sys/fs/cgroup',
      flags: MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY,
      data: '',
    },
  ],
  devices: [],
  rootPropagation: 0n,
  noPivot: false,
  namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }],
  maskedPaths: [
    '/proc/acpi',
    '/proc/asound',
    '/proc/kcore',
    '/proc/keys',
    '/proc/latency_stats',
    '/proc/timer_list',
    '/proc/timer_stats',
    '/proc/sched_debug',
    '/sys/firmware',
    '/proc/scsi',
  ],
  readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
  sysctls: {},
  mountLabel: '',
  process: {
    args: ['sh'],
    env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
    cwd: '/',
    uid: 0,
    gid: 0,
    noNewPrivileges: true,
    capabilities: { bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'], effective: [], inheritable: [], permitted: [], ambient: [] },
    rlimits: [{ type: 'RLIMIT_NOFILE', resource: 7, soft: 1024n, hard: 1024n }],
    terminal: true,
  },
  hooks: { prestart: [], createRuntime: [], createContainer: [], startContainer: [], poststart: [], poststop: [] },
  hostname: 'runc',
};

function convert(edit: (spec: Json) => void = () => undefined): RootfsConfig {
  const spec = runcDefaultSpec();
  edit(spec);
  return fromOciSpec(spec, '/bundles/b1');
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

function expectConfigError(fn: () => unknown, message: string): void {
  const err = caught(fn);
  expect(err).toBeInstanceOf(ConfigError);
  expect((err as ConfigError).message).toBe(message);
  expect((err as ConfigError).exitCode).toBe(2);
}

describe('fromOciSpec: keys runc would match in another case (Go reads JSON keys in any case)', () => {
  const other = (field: string, meant: string) =>
    `${field}: is not a field mountkit reads: a runtime that reads config.json with Go's encoding/json (runc) takes it as ${JSON.stringify(meant)}, matching keys in any case; write ${JSON.stringify(meant)}`;

  test.each<[string, (s: Json) => void, string]>([
    ['root.Readonly (runc: a read-only root)', (s) => (s.root.Readonly = true), other('root.Readonly', 'readonly')],
    ['linux.Seccomp (runc: a filter)', (s) => (s.linux.Seccomp = { defaultAction: 'SCMP_ACT_ERRNO' }), other('linux.Seccomp', 'seccomp')],
    ['process.user.UID', (s) => (s.process.user.UID = 5), other('process.user.UID', 'uid')],
    ['mounts[1].Options', (s) => (s.mounts[1].Options = ['ro']), other('mounts[1].Options', 'options')],
    ['beside the exact key, as well', (s) => (s.root.ReadOnly = false), other('root.ReadOnly', 'readonly')],
    ['with a long s, which Go folds to s (hoſtname)', (s) => (s['ho\u017ftname'] = 'longs'), other('ho\u017ftname', 'hostname')],
    ['with a Kelvin sign, which Go folds to k (linux.maſkedPaths beside)', (s) => (s.linux['\u212aeyring'] = 1, s.linux['ma\u017fkedPaths'] = []), other('linux.ma\u017fkedPaths', 'maskedPaths')],
    ['the time offsets\' values are fields', (s) => (s.linux.timeOffsets = { monotonic: { Secs: 1 } }), other('linux.timeOffsets.monotonic.Secs', 'secs')],
    // Checked with runc 1.1.5: process.User {"Uid": 1000} runs the program as uid 1000.
    ['process.User, and a field of it', (s) => (delete s.process.user, (s.process.User = { Uid: 1000 })), other('process.User', 'user')],
    ['a field of a list\'s items (process.rlimits[0].Hard)', (s) => (s.process.rlimits[0].Hard = 5), other('process.rlimits[0].Hard', 'hard')],
    ['a hook\'s Path', (s) => (s.hooks = { prestart: [{ Path: '/bin/true' }] }), other('hooks.prestart[0].Path', 'path')],
    ['a seccomp rule\'s Args', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', Args: [] }] }), other('linux.seccomp.syscalls[0].Args', 'args')],
    ['a mount\'s UidMappings', (s) => (s.mounts[0].UidMappings = []), other('mounts[0].UidMappings', 'uidMappings')],
  ])('%s is refused, naming it and the field runc would take it as', (_what, edit, message) => {
    expectConfigError(() => convert(edit), message);
  });

  // Each checked with runc 1.1.5 on a real bundle: the container ran as if the key were absent.
  test.each<[string, (s: Json) => void]>([
    ['process.Path (a field of root, hooks, namespaces, devices; not of process)', (s) => (s.process.Path = '/x')],
    ['root.Uid (a field of process.user)', (s) => (s.root.Uid = 5)],
    ['process.user.Type', (s) => (s.process.user.Type = 'x')],
    ['mounts[0].Size (a field of an id mapping)', (s) => (s.mounts[0].Size = 1)],
    ['linux.Options (a field of a mount)', (s) => (s.linux.Options = ['ro'])],
    ['Args at the top (a field of process)', (s) => (s.Args = ['x'])],
    ['an object mountkit does not read (vendor.Path, vendor.Readonly)', (s) => (s.vendor = { Path: 1, Readonly: true })],
    ['linux.Resources, and keys inside it: a field of linux mountkit does not read (runc takes it as resources)', (s) => (s.linux.Resources = { Memory: { Limit: 1 } })],
    ['ociVersion in another case (mountkit does not read it)', (s) => (s.OCIVersion = '1.0.0')],
  ])('a key that is no field of its object in any case is ignored, as runc ignores it: %s', (_what, edit) => {
    expect(convert(edit)).toEqual(RUNC_DEFAULT);
  });

  test.each<[string, (s: Json) => void, string[] | undefined]>([
    ["runc spec's rule denying every device (no device cgroup: README)", () => undefined, undefined],
    ['a memory limit and a pids limit', (s) => Object.assign(s.linux.resources, { memory: { limit: 1e8 }, pids: { limit: 5 } }), ['linux.resources.memory', 'linux.resources.pids']],
    ['objects and lists that set nothing, and null', (s) => Object.assign(s.linux.resources, { memory: {}, hugepageLimits: [], cpu: null }), undefined],
    ['a cgroups path', (s) => (s.linux.cgroupsPath = '/machine/c1'), ['linux.cgroupsPath']],
    ['an empty cgroups path', (s) => (s.linux.cgroupsPath = ''), undefined],
    ['a field in another case, as Go takes it (linux.resources.Memory)', (s) => (s.linux.resources.Memory = { Limit: 1 }), ['linux.resources.Memory']],
    ['linux.Resources alone, in another case', (s) => { delete s.linux.resources; s.linux.Resources = { Pids: { Limit: 1 } }; }, ['linux.Resources.Pids']],
  ])('linux.resources that set a limit are listed for run\'s warning, as the config names them: %s', (_what, edit, unapplied) => {
    expect(convert(edit).unappliedResources).toEqual(unapplied);
  });

  test('keys of maps (annotations, sysctls) are names, taken as written; a key matching no field in any case is ignored, as runc ignores it', () => {
    const cfg = convert((s) => {
      s.annotations = { A: '1', a: '2' };
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'NET.IPV4.IP_FORWARD': '0' };
      s.linux.resources = { devices: [], memory: { limit: 1 }, rdma: { Path: { hcaHandles: 1 } }, unified: { Type: 'x' } };
      s.linux.netDevices = { Path: { name: 'eth1' } };
      s.root.unknownThing = 1;
    });
    expect(cfg.annotations).toEqual({ A: '1', a: '2' });
    expect(cfg.sysctls).toEqual({ 'net.ipv4.ip_forward': '1', 'NET.IPV4.IP_FORWARD': '0' });
  });

  test('SPEC_SHAPE holds every field of a spec that has every field mountkit reads, each where it is, and such a spec is taken', () => {
    const spec = runcDefaultSpec();
    spec.ociVersion = '1.2.0';
    spec.domainname = 'lan';
    spec.annotations = { k: 'v' };
    Object.assign(spec.process, {
      consoleSize: { height: 24, width: 80 },
      apparmorProfile: 'p',
      oomScoreAdj: 1,
      selinuxLabel: 'l',
      scheduler: { policy: 'SCHED_DEADLINE', nice: 0, priority: 0, flags: [], runtime: 1, deadline: 2, period: 3 },
      ioPriority: { class: 'IOPRIO_CLASS_BE', priority: 1 },
    });
    Object.assign(spec.process.user, { umask: 18, additionalGids: [5] });
    spec.mounts.push({ destination: '/i', type: 'bind', source: '/s', options: ['bind'], uidMappings: [{ containerID: 0, hostID: 1000, size: 1 }], gidMappings: [{ containerID: 0, hostID: 1000, size: 1 }] });
    spec.hooks = { prestart: [{ path: '/h', args: ['h'], env: ['A=1'], timeout: 1 }], createRuntime: [], createContainer: [], startContainer: [], poststart: [], poststop: [] };
    Object.assign(spec.linux, {
      namespaces: [...spec.linux.namespaces, { type: 'user' }, { type: 'time' }],
      uidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      gidMappings: [{ containerID: 0, hostID: 100000, size: 65536 }],
      devices: [{ type: 'c', path: '/dev/x', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }],
      rootfsPropagation: 'rslave',
      sysctl: { 'net.ipv4.ip_forward': '1' },
      mountLabel: 'm',
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 1,
        architectures: ['SCMP_ARCH_X86_64'],
        flags: [],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'x',
        syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, args: [{ index: 0, value: 1, valueTwo: 0, op: 'SCMP_CMP_EQ' }] }],
      },
      timeOffsets: { monotonic: { secs: 1, nanosecs: 0 }, boottime: { secs: 1, nanosecs: 0 } },
      personality: { domain: 'LINUX', flags: [] },
    });
    // Not read by mountkit (cgroups are not its part).
    delete spec.linux.resources;
    delete spec.linux.cgroupsPath;
    delete spec.ociVersion;
    expect(() => fromOciSpec(spec, '/bundles/b1')).not.toThrow();
    // Every key of an object the shape calls a struct is one of its fields; every array or object has a shape.
    const fields: string[] = [];
    const unknown: string[] = [];
    const numbersNotIntegers: string[] = [];
    const todo: [unknown, FieldShape | undefined, string][] = [[spec, SPEC_SHAPE, '']];
    while (todo.length > 0) {
      const [v, shape, at] = todo.pop()!;
      if (typeof v === 'number' && shape !== 'int' && shape !== 'uint') numbersNotIntegers.push(at);
      if (typeof v !== 'object' || v === null) continue;
      if (shape === undefined) unknown.push(at);
      if (Array.isArray(v)) v.forEach((item, i) => todo.push([item, shapeWithin(shape, i), `${at}[${i}]`]));
      else {
        for (const [k, item] of Object.entries(v)) {
          if (typeof shape === 'object' && shape.kind === 'struct') fields.push(`${at}.${k}`);
          todo.push([item, shapeWithin(shape, k), `${at}.${k}`]);
        }
      }
    }
    expect(unknown).toEqual([]);
    expect(numbersNotIntegers).toEqual([]);
    expect(fields.length).toBeGreaterThan(100);
  });
});

describe('refuseOtherCase: which key it names among several, and what it counts', () => {
  const other = (field: string) => new RegExp(`^${field.replace(/[[\].]/g, '\\$&')}: is not a field mountkit reads`);
  /** Mounts that are flat (nothing nested but leaf lists) and one that nests an object list, a process with a list of objects, two lists of linux. */
  function spec(): Json {
    return {
      root: { path: 'rootfs' },
      process: { cwd: '/', args: ['sh'], rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1, soft: 1 }] },
      mounts: [
        { destination: '/a', type: 'tmpfs' },
        { destination: '/b', type: 'none', source: '/s', options: ['rbind'], uidMappings: [{ containerID: 0, hostID: 1, size: 1 }] },
        { destination: '/c', type: 'tmpfs', options: ['ro'] },
      ],
      linux: { namespaces: [{ type: 'mount' }], seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_ERRNO' }] } },
    };
  }

  // The walk is depth first, an object's keys before what they hold, the last value first:
  // which one is named was so before flat objects were walked where they are met.
  test.each<[string, (s: Json) => void, string]>([
    ['two flat mounts: the last', (s) => ((s.mounts[0].Type = 'x'), (s.mounts[2].Options = [])), 'mounts[2].Options'],
    ['a flat mount, then one that nests: the nested key', (s) => ((s.mounts[0].Type = 'x'), (s.mounts[1].uidMappings[0].HostID = 1)), 'mounts[1].uidMappings[0].HostID'],
    ['a nested key, then a flat mount: the flat mount', (s) => ((s.mounts[1].uidMappings[0].HostID = 1), (s.mounts[2].Source = 'x')), 'mounts[2].Source'],
    ['a key of process and one within its earlier value: process\'s own', (s) => ((s.process.rlimits[0].Hard = 1), (s.process.User = {})), 'process.User'],
    ['a namespace and a seccomp rule: the later list', (s) => ((s.linux.namespaces[0].Type = 'x'), (s.linux.seccomp.syscalls[0].Names = [])), 'linux.seccomp.syscalls[0].Names'],
    ['a mount and a namespace: linux comes later', (s) => ((s.mounts[2].Type = 'x'), (s.linux.namespaces[0].Path = 'x')), 'linux.namespaces[0].Path'],
    [
      'a key of the spec and one of root, a flat object and its last: the spec\'s own',
      (s) => {
        const root = { ...s.root, Readonly: true };
        delete s.root;
        Object.assign(s, { root, Hostname: 'x' });
      },
      'Hostname',
    ],
  ])('%s', (_what, edit, field) => {
    const s = spec();
    edit(s);
    expect(() => refuseOtherCase(s)).toThrow(other(field));
  });

  test.each<[string, unknown]>([
    ['the spec above', spec()],
    ['runc\'s default spec', runcDefaultSpec()],
    ['empty lists and objects, lists of lists, objects in lists of strings', { mounts: [], linux: {}, process: { args: [[], ['a', []], [{}]], env: [] }, annotations: { a: [[['x']]] }, x: [{ y: [{}] }] }],
    ['leaf lists at the deepest nesting allowed', { root: [[[[['a']]]]] }],
  ])('it counts every array and object of %s, as the text has a { or [ for each', (_what, value) => {
    expect(refuseOtherCase(value)).toBe((JSON.stringify(value).match(/[[{]/g) ?? []).length);
  });

  test.each<[string, unknown]>([
    ['a leaf list', ['a']],
    ['an object of strings', { a: 'b' }],
  ])('%s one level too deep is refused as any array or object there is', (_what, leaf) => {
    let deep: unknown = leaf;
    for (let i = 0; i < MAX_NESTING; i++) deep = [deep];
    expect(() => refuseOtherCase(deep)).toThrow(`nests arrays and objects more than ${MAX_NESTING} deep`);
    let within: unknown = leaf;
    for (let i = 0; i < MAX_NESTING - 1; i++) within = [within];
    expect(refuseOtherCase(within)).toBe(MAX_NESTING);
  });

  test('a leaf list one level too deep within objects is refused as any array there is', () => {
    let deep: unknown = ['a'];
    for (let i = 0; i < MAX_NESTING; i++) deep = { [i % 2 ? 'x' : 'y']: deep };
    expect(() => refuseOtherCase(deep)).toThrow(`nests arrays and objects more than ${MAX_NESTING} deep`);
    let within: unknown = ['a'];
    for (let i = 0; i < MAX_NESTING - 1; i++) within = { [i % 2 ? 'x' : 'y']: within };
    expect(refuseOtherCase(within)).toBe(MAX_NESTING);
  });
});

describe('fromOciSpec: conversion', () => {
  test('the runc default spec', () => {
    expect(convert()).toEqual(RUNC_DEFAULT);
  });

  test('no mount of the default spec gets recursive attributes', () => {
    expect(convert().mounts.filter((m) => 'recAttrs' in m)).toEqual([]);
  });

  test('devices, sysctls, propagation, label, hooks and namespace paths', () => {
    const cfg = convert((s) => {
      s.linux.devices = [
        { type: 'c', path: '/dev/fuse', major: 10, minor: 229 },
        { type: 'b', path: '/dev/loop0/', major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
        { type: 'u', path: '/dev/./net/tun', major: 10, minor: 200, fileMode: 0o020666 },
        { type: 'p', path: '/dev/fifo' },
      ];
      s.linux.sysctl = { 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1' };
      s.linux.rootfsPropagation = 'rshared';
      s.linux.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2';
      s.linux.namespaces = [{ type: 'mount' }, { type: 'network', path: '/proc/1234/ns/net' }, { type: 'user', path: '' }];
      s.hooks = {
        prestart: [{ path: '/usr/bin/netns-hook', args: ['netns-hook', 'up'], env: ['A=1'], timeout: 5 }],
        createRuntime: [{ path: '/bin/true' }],
        createContainer: [{ path: '/in/ns', args: ['in-ns'] }],
        startContainer: [{ path: '/bin/start', env: ['S=1'] }],
        poststart: [{ path: '/bin/after' }],
        poststop: [{ path: '/bin/gone', timeout: 2, env: [] }],
      };
      s.process.user = { uid: 1000, gid: 1000, additionalGids: [5], umask: 18 };
      s.process.cwd = '/home/user';
      s.process.terminal = false;
    });
    expect(cfg.devices).toEqual([
      { type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      { type: 'b', path: '/dev/loop0', major: 7, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
      { type: 'u', path: '/dev/net/tun', major: 10, minor: 200, fileMode: 0o666, uid: 0, gid: 0 },
      { type: 'p', path: '/dev/fifo', major: 0, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
    expect(cfg.sysctls).toEqual({ 'net.ipv4.ip_forward': '1', 'kernel.shm_rmid_forced': '1' });
    expect(cfg.rootPropagation).toBe(MS_SHARED | MS_REC);
    expect(cfg.mountLabel).toBe('system_u:object_r:container_file_t:s0:c1,c2');
    expect(cfg.namespaces).toEqual([{ type: 'mount' }, { type: 'network', path: '/proc/1234/ns/net' }, { type: 'user' }]);
    expect(cfg.hooks).toEqual({
      prestart: [{ path: '/usr/bin/netns-hook', args: ['netns-hook', 'up'], env: ['A=1'], timeout: 5 }],
      createRuntime: [{ path: '/bin/true', args: [] }],
      createContainer: [{ path: '/in/ns', args: ['in-ns'] }],
      startContainer: [{ path: '/bin/start', args: [], env: ['S=1'] }],
      poststart: [{ path: '/bin/after', args: [] }],
      poststop: [{ path: '/bin/gone', args: [], env: [], timeout: 2 }],
    });
    // No env is not an empty one: the hook gets a default (core/hooks.ts, hookCommand).
    expect(cfg.hooks.createRuntime[0]).not.toHaveProperty('env');
    expect(cfg.hooks.createRuntime[0]).not.toHaveProperty('timeout');
    expect(cfg.process).toEqual({ ...RUNC_DEFAULT.process, uid: 1000, gid: 1000, additionalGids: [5], umask: 0o022, cwd: '/home/user', terminal: false });
  });

  test.each<[string, bigint]>([
    ['private', MS_PRIVATE],
    ['rprivate', MS_PRIVATE | MS_REC],
    ['slave', MS_SLAVE],
    ['rslave', MS_SLAVE | MS_REC],
    ['',  0n],
  ])('rootfsPropagation %j -> %s', (word, flags) => {
    expect(convert((s) => (s.linux.rootfsPropagation = word)).rootPropagation).toBe(flags);
  });

  test('a minimal spec gets every default', () => {
    expect(fromOciSpec({ root: { path: '/srv/rootfs/' } }, '/bundles/b1')).toEqual({
      bundle: '/bundles/b1',
      rootfs: '/srv/rootfs',
      readonlyRootfs: false,
      mounts: [],
      devices: [],
      rootPropagation: 0n,
      noPivot: false,
      namespaces: [],
      maskedPaths: [],
      readonlyPaths: [],
      sysctls: {},
      mountLabel: '',
      process: { args: [], env: [], cwd: '/', uid: 0, gid: 0, terminal: false },
      hooks: { prestart: [], createRuntime: [], createContainer: [], startContainer: [], poststart: [], poststop: [] },
      hostname: '',
    });
  });

  test('null counts as absent', () => {
    const cfg = fromOciSpec(
      { root: { path: 'rootfs', readonly: null }, mounts: null, linux: { devices: null, sysctl: null }, hooks: null, hostname: null },
      '/b',
    );
    expect(cfg).toMatchObject({ readonlyRootfs: false, mounts: [], devices: [], sysctls: {}, hostname: '' });
  });

  test('the bundle dir is made absolute and clean', () => {
    const cfg = fromOciSpec({ root: { path: '../other/rootfs' } }, '/bundles//b1/');
    expect(cfg.bundle).toBe('/bundles/b1');
    expect(cfg.rootfs).toBe('/bundles/other/rootfs');
  });

  test('process.cwd is required, as the runtime-spec has it and runc refuses a config without it', () => {
    expect(() => convert((s) => delete s.process.cwd)).toThrow('process.cwd: is required');
  });

  test('unknown fields are ignored', () => {
    const cfg = convert((s) => {
      s.linux.intelRdt = { closID: 'x' };
      s.root.extra = 42;
    });
    expect(cfg).toEqual(RUNC_DEFAULT);
  });

  test('linux.timeOffsets: monotonic and boottime, each { secs, nanosecs } (absent ones 0); absent, none', () => {
    const cfg = convert((s) => (s.linux.timeOffsets = { monotonic: { secs: -86400, nanosecs: 5 }, boottime: { secs: 1 } }));
    expect(cfg.timeOffsets).toEqual({ monotonic: { secs: -86400, nanosecs: 5 }, boottime: { secs: 1, nanosecs: 0 } });
    expect(convert(() => undefined).timeOffsets).toBeUndefined();
  });

  test.each<[unknown, string]>([
    [{ realtime: { secs: 1 } }, 'linux.timeOffsets "realtime": is not a clock a time namespace offsets; known: monotonic, boottime'],
    [{ monotonic: 5 }, 'linux.timeOffsets.monotonic'],
    [{ monotonic: { secs: 1.5 } }, 'linux.timeOffsets.monotonic.secs 1.5: must be an integer of at most 2^53 - 1 either way'],
    [{ boottime: { secs: 1, nanosecs: 1000000000 } }, 'linux.timeOffsets.boottime.nanosecs'],
  ])('linux.timeOffsets %j is refused', (offsets, message) => {
    expect(() => convert((s) => (s.linux.timeOffsets = offsets))).toThrow(message);
  });

  test('process.scheduler as written, what is left out 0 or none', () => {
    const cfg = convert((s) => (s.process.scheduler = { policy: 'SCHED_DEADLINE', runtime: 1000, deadline: 2000, period: 3000, flags: ['SCHED_FLAG_DL_OVERRUN'] }));
    expect(cfg.process.scheduler).toEqual({ policy: 'SCHED_DEADLINE', nice: 0, priority: 0, flags: ['SCHED_FLAG_DL_OVERRUN'], runtime: 1000n, deadline: 2000n, period: 3000n });
  });

  test.each<[Record<string, unknown>, string]>([
    [{}, 'process.scheduler.policy: is required'],
    [{ policy: 'SCHED_NORMAL' }, 'process.scheduler.policy "SCHED_NORMAL": must be one of SCHED_OTHER, SCHED_FIFO, SCHED_RR, SCHED_BATCH, SCHED_ISO, SCHED_IDLE, SCHED_DEADLINE'],
    [{ policy: 'SCHED_OTHER', nice: 20 }, 'process.scheduler.nice 20: must be an integer from -20 to 19'],
    [{ policy: 'SCHED_BATCH', nice: 1.5 }, 'process.scheduler.nice 1.5: must be an integer from -20 to 19'],
    [{ policy: 'SCHED_OTHER', priority: 5 }, 'process.scheduler.priority 5: is for SCHED_FIFO and SCHED_RR only'],
    [{ policy: 'SCHED_RR', priority: 100 }, 'process.scheduler.priority'],
    [{ policy: 'SCHED_FIFO', priority: 1, runtime: 10 }, 'process.scheduler "SCHED_FIFO": runtime, deadline and period are for SCHED_DEADLINE only'],
    [{ policy: 'SCHED_RR' }, 'process.scheduler.priority 0: must be from 1 to 99 for SCHED_RR'],
    [{ policy: 'SCHED_FIFO', priority: 5, nice: -21 }, 'process.scheduler.nice -21: must be an integer from -20 to 19'],
    [{ policy: 'SCHED_OTHER', flags: ['SCHED_FLAG_NONE'] }, 'process.scheduler.flags[0] "SCHED_FLAG_NONE": must be one of SCHED_FLAG_RESET_ON_FORK'],
  ])('process.scheduler %j is refused, as runc 1.2 refuses it', (scheduler, message) => {
    expect(() => convert((s) => (s.process.scheduler = scheduler))).toThrow(message);
  });

  test('process.ioPriority and linux.personality as written (a priority left out is 0, flags none)', () => {
    const cfg = convert((s) => {
      s.process.ioPriority = { class: 'IOPRIO_CLASS_IDLE' };
      s.linux.personality = { domain: 'LINUX32' };
    });
    expect([cfg.process.ioPriority, cfg.personality]).toEqual([{ class: 'IOPRIO_CLASS_IDLE', priority: 0 }, { domain: 'LINUX32', flags: [] }]);
  });

  test.each<[(s: Record<string, any>) => void, string]>([
    [(s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_NONE', priority: 1 }), 'process.ioPriority.class "IOPRIO_CLASS_NONE": must be one of IOPRIO_CLASS_RT, IOPRIO_CLASS_BE, IOPRIO_CLASS_IDLE'],
    [(s) => (s.process.ioPriority = { class: 'IOPRIO_CLASS_BE', priority: 8 }), 'process.ioPriority.priority'],
    [(s) => (s.linux.personality = { domain: 'LINUX64' }), 'linux.personality.domain "LINUX64": must be one of LINUX, LINUX32'],
    [(s) => (s.linux.personality = { domain: 'LINUX', flags: 'x' }), 'linux.personality.flags'],
  ])('%# is refused', (edit, message) => {
    expect(() => convert(edit)).toThrow(message);
  });

  test('domainname as written; absent or empty, none', () => {
    expect(convert((s) => (s.domainname = 'example.org')).domainname).toBe('example.org');
    expect(convert((s) => (s.domainname = ''))).toEqual(RUNC_DEFAULT);
    expect(() => convert((s) => (s.domainname = 7))).toThrow('domainname 7: must be a string, not a number');
  });

  test('annotations as written, for the container state; none or an empty map leaves the field out', () => {
    const cfg = convert((s) => (s.annotations = JSON.parse('{"org.example/owner":"team-a","__proto__":"a plain key","empty-value":""}')));
    expect(Object.entries(cfg.annotations ?? {})).toEqual([['org.example/owner', 'team-a'], ['__proto__', 'a plain key'], ['empty-value', '']]);
    expect(convert((s) => (s.annotations = {}))).toEqual(RUNC_DEFAULT);
    expect(convert((s) => (s.annotations = null))).toEqual(RUNC_DEFAULT);
  });

  test.each<[unknown, string]>([
    [['a'], 'annotations ["a"]: must be an object of strings, not an array'],
    ['a=b', 'annotations "a=b": must be an object of strings, not a string'],
    [{ a: 1 }, 'annotations["a"] 1: must be a string, not a number'],
    [{ '': 'x' }, 'annotations "": keys must not be empty'],
  ])('annotations %j are refused', (annotations, message) => {
    expect(() => convert((s) => (s.annotations = annotations))).toThrow(message);
  });

  test('process.apparmorProfile and selinuxLabel as written; an empty one is none', () => {
    const cfg = convert((s) => {
      s.process.apparmorProfile = 'docker-default';
      s.process.selinuxLabel = '';
    });
    expect(cfg.process.apparmorProfile).toBe('docker-default');
    expect(cfg.process).not.toHaveProperty('selinuxLabel');
    expect(convert().process).not.toHaveProperty('apparmorProfile');
    expect(convert((s) => (s.process.selinuxLabel = 'system_u:system_r:container_t:s0')).process.selinuxLabel).toBe('system_u:system_r:container_t:s0');
  });

  test('linux.seccomp as written, with defaults for what it leaves out; uint64 values as bigints, UINT64_MAX included', () => {
    const cfg = convert((s) => {
      s.linux.seccomp = {
        defaultAction: 'SCMP_ACT_ERRNO',
        defaultErrnoRet: 38,
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
        flags: ['SECCOMP_FILTER_FLAG_LOG'],
        listenerPath: '/run/agent.sock',
        listenerMetadata: 'm',
        syscalls: [
          { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', errnoRet: 1, args: [{ index: 0, value: 18446744073709551615, op: 'SCMP_CMP_EQ' }, { index: 1, value: 255, valueTwo: 8, op: 'SCMP_CMP_MASKED_EQ' }] },
        ],
      };
    });
    expect(cfg.seccomp).toEqual({
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: 38,
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],
      flags: ['SECCOMP_FILTER_FLAG_LOG'],
      listenerPath: '/run/agent.sock',
      listenerMetadata: 'm',
      syscalls: [
        { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [] },
        {
          names: ['personality'],
          action: 'SCMP_ACT_ALLOW',
          errnoRet: 1,
          args: [
            { index: 0, value: 0xffffffffffffffffn, valueTwo: 0n, op: 'SCMP_CMP_EQ' },
            { index: 1, value: 255n, valueTwo: 8n, op: 'SCMP_CMP_MASKED_EQ' },
          ],
        },
      ],
    });
    // flags absent stays absent (the default, SPEC_ALLOW); an empty list is no flags.
    expect(convert((s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW' })).seccomp).toEqual({ defaultAction: 'SCMP_ACT_ALLOW', architectures: [], syscalls: [] });
    expect(convert((s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', flags: [] })).seccomp?.flags).toEqual([]);
  });

  test('linux.seccomp without a default action and rules (as runc reads it) or absent: no filter', () => {
    expect(convert((s) => (s.linux.seccomp = {})).seccomp).toBeUndefined();
    expect(convert((s) => (s.linux.seccomp = { defaultAction: '', syscalls: null })).seccomp).toBeUndefined();
    expect(convert()).not.toHaveProperty('seccomp');
  });

  test('a __proto__ sysctl key stays an ordinary key', () => {
    const spec = JSON.parse('{"root":{"path":"r"},"linux":{"sysctl":{"__proto__":"x","a":"b"}}}');
    const cfg = fromOciSpec(spec, '/b');
    expect(Object.keys(cfg.sysctls)).toEqual(['__proto__', 'a']);
    expect(Object.getPrototypeOf(cfg.sysctls)).toBe(Object.prototype);
  });
});

describe('fromOciSpec: mounts', () => {
  function mountOf(m: Json) {
    return convert((s) => (s.mounts = [m])).mounts[0];
  }

  test.each([
    ['none', ['rbind', 'ro']],
    ['tmpfs', ['bind']],
    ['bind', ['rbind']],
    [undefined, ['bind', 'nosuid']],
    ['', ['rbind']],
  ])('type %j with options %j is a bind mount', (type, options) => {
    expect(mountOf({ type, source: '/srv/data', destination: '/data', options }).type).toBe('bind');
  });

  test('a bind source goes to the kernel as runc gives it: an absolute one as written (its `..` after a link and trailing slash are the kernel\'s), a relative one joined onto the bundle and cleaned', () => {
    const given = ['/srv/lnk/../data-top', '/srv/file1/', '//srv/./data', 'vol/../data/', './data//x/'];
    expect(given.map((source) => mountOf({ type: 'bind', source, destination: '/data', options: ['rbind'] }).source)).toEqual([
      '/srv/lnk/../data-top',
      '/srv/file1/',
      '//srv/./data',
      '/bundles/b1/data',
      '/bundles/b1/data/x',
    ]);
  });

  test('a remount needs no type (runtime-spec makes it optional): the default handler takes it, type ""', () => {
    expect(mountOf({ destination: '/dev/shm', options: ['remount', 'ro'] })).toMatchObject({ type: '', source: '', destination: '/dev/shm', flags: MS_REMOUNT | MS_RDONLY });
  });

  test("a bind remount needs no source (the kernel reads none): an empty or absent one is the bundle's directory, as runc takes it; a new bind without one is refused", () => {
    const flags = MS_BIND | MS_REMOUNT | MS_RDONLY;
    expect(mountOf({ destination: '/data', options: ['bind', 'remount', 'ro'] })).toMatchObject({ type: 'bind', source: '/bundles/b1', destination: '/data', flags });
    expect(mountOf({ destination: '/data', type: 'none', source: '', options: ['remount', 'rbind', 'ro'] })).toMatchObject({ type: 'bind', source: '/bundles/b1', flags: flags | MS_REC });
    expectConfigError(() => mountOf({ destination: '/data', options: ['bind', 'ro'] }), 'mounts[0].source: must be set for a bind mount');
  });

  test('a bind mount keeps its flags, propagation and recursive attributes', () => {
    expect(mountOf({ type: 'none', source: '/srv/data', destination: '/data/', options: ['rbind', 'ro', 'rprivate', 'rro'] })).toEqual({
      ...plain,
      index: 0,
      type: 'bind',
      source: '/srv/data',
      destination: '/data',
      flags: MS_BIND | MS_REC | MS_RDONLY,
      propagationFlags: [MS_PRIVATE | MS_REC],
      recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n },
      data: '',
    });
  });

  test.each([
    ['data', '/bundles/b1/data'],
    ['./volumes/../data/', '/bundles/b1/data'],
    ['../shared', '/bundles/shared'],
    ['/srv/data', '/srv/data'],
  ])('bind source %j -> %j', (source, expected) => {
    expect(mountOf({ source, destination: '/data', options: ['bind'] }).source).toBe(expected);
  });

  test.each([
    ['mnt/rel', '/mnt/rel'],
    ['./mnt//rel/', '/mnt/rel'],
    ['../../etc', '/etc'],
    ['dev/shm', '/dev/shm'],
  ])('a relative destination %j is taken from / (runtime-spec 1.2, as runc and crun take it): %j, the written one kept for the warning', (destination, expected) => {
    expect(mountOf({ type: 'tmpfs', source: 'tmpfs', destination })).toMatchObject({ destination: expected, relativeDestination: destination });
  });

  test('an absolute destination records no relative one', () => {
    expect(mountOf({ type: 'tmpfs', source: 'tmpfs', destination: '/mnt//rel/' })).not.toHaveProperty('relativeDestination');
  });

  test.each<[Json, string]>([
    [{ type: 'tmpfs', source: 'tmpfs', destination: '' }, 'mounts[0].destination "": must not be empty'],
    [{ type: 'tmpfs', source: 'tmpfs', destination: 'mnt\u0000/rel' }, 'mounts[0].destination "mnt\\u0000/rel": must not contain a NUL byte'],
    [{ type: 'tmpfs', source: 'tmpfs' }, 'mounts[0].destination: is required'],
  ])('destination of %j is refused', (m, message) => {
    expectConfigError(() => mountOf(m), message);
  });

  test('a relative source of a non-bind mount is a name, left as is', () => {
    expect(mountOf({ type: 'tmpfs', source: 'shm', destination: '/dev/shm' }).source).toBe('shm');
  });

  test('a missing source of a non-bind mount is empty', () => {
    expect(mountOf({ type: 'tmpfs', destination: '/tmp' }).source).toBe('');
  });

  test.each([
    ['/dev/shm/', '/dev/shm'],
    ['//tmp/./x/../y', '/tmp/y'],
    ['/a//b///', '/a/b'],
    ['/', '/'],
    ['/../../etc', '/etc'],
  ])('destination %j -> %j', (destination, expected) => {
    expect(mountOf({ type: 'tmpfs', source: 'tmpfs', destination }).destination).toBe(expected);
  });

  test('tmpcopyup and data reach the mount', () => {
    expect(mountOf({ type: 'tmpfs', source: 'tmpfs', destination: '/etc', options: ['tmpcopyup', 'mode=755'] })).toMatchObject({
      extensions: { tmpcopyup: true },
      data: 'mode=755',
    });
  });

  test('indexes follow the config order', () => {
    expect(convert().mounts.map((m) => m.index)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  test.each<[string[], string, string]>([
    [['rbind', 'z'], 'z', ''],
    [['rbind', 'Z', 'ro'], 'Z', ''],
    [['bind', 'z', 'z'], 'z', ''],
    [['rbind', 'context="x"'], '', 'context="x"'],
    [['rbind'], '', ''],
  ])('bind options %j -> relabel %j, data %j', (options, relabel, data) => {
    expect(mountOf({ source: '/srv/data', destination: '/data', options })).toMatchObject({ type: 'bind', relabel, data });
  });
});

/** Every key of `value`, nested ones by their path, in the order Object.keys gives them: what JSON.stringify and a plan would write in. */
function keyOrder(value: unknown, at = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((k) => [`${at}${k}`, ...keyOrder((value as Record<string, unknown>)[k], `${at}${k}.`)]);
}

describe('fromOciSpec: a mount exactly, its keys in order', () => {
  const HEAD = ['index', 'type', 'source', 'destination'];
  const FLAGS = ['flags', 'clearedFlags', 'propagationFlags', 'data', 'extensions', 'extensions.tmpcopyup', 'relabel'];
  const TAIL = ['premountCmds', 'postmountCmds'];
  const MAP = [{ containerID: 0, hostID: 1000, size: 10 }];
  const mapKeys = (at: string) => [at, `${at}.0`, `${at}.0.containerID`, `${at}.0.hostID`, `${at}.0.size`];
  test.each<[string, Json, object, string[]]>([
    [
      'a tmpfs',
      { destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=64k'] },
      { index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/mnt/t', flags: MS_NOSUID, clearedFlags: 0n, propagationFlags: [], data: 'size=64k', extensions: { tmpcopyup: false }, relabel: '', premountCmds: [], postmountCmds: [] },
      [...HEAD, ...FLAGS, ...TAIL],
    ],
    [
      'no options, no source',
      { destination: '/proc', type: 'proc' },
      { index: 0, type: 'proc', source: '', destination: '/proc', flags: 0n, clearedFlags: 0n, propagationFlags: [], data: '', extensions: { tmpcopyup: false }, relabel: '', premountCmds: [], postmountCmds: [] },
      [...HEAD, ...FLAGS, ...TAIL],
    ],
    [
      'a relative destination: the written one after the destination',
      { destination: 'mnt//t/', type: 'tmpfs', source: 'tmpfs', options: ['rw'] },
      { index: 0, type: 'tmpfs', source: 'tmpfs', destination: '/mnt/t', relativeDestination: 'mnt//t/', flags: 0n, clearedFlags: MS_RDONLY, propagationFlags: [], data: '', extensions: { tmpcopyup: false }, relabel: '', premountCmds: [], postmountCmds: [] },
      [...HEAD, 'relativeDestination', ...FLAGS, ...TAIL],
    ],
    [
      'recursive attributes: after the relabel',
      { destination: '/data', type: 'none', source: 'vol', options: ['rbind', 'rro', 'z', 'rslave'] },
      {
        index: 0, type: 'bind', source: '/bundles/b1/vol', destination: '/data', flags: MS_BIND | MS_REC, clearedFlags: 0n, propagationFlags: [MS_SLAVE | MS_REC], data: '',
        extensions: { tmpcopyup: false }, relabel: 'z', recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n }, premountCmds: [], postmountCmds: [],
      },
      [...HEAD, 'flags', 'clearedFlags', 'propagationFlags', 'propagationFlags.0', 'data', 'extensions', 'extensions.tmpcopyup', 'relabel', 'recAttrs', 'recAttrs.attrSet', 'recAttrs.attrClr', ...TAIL],
    ],
    [
      'an idmapped bind with everything: relativeDestination, recAttrs, then idmap',
      { destination: 'data', source: '/srv', options: ['rbind', 'ridmap', 'rro'], uidMappings: MAP, gidMappings: MAP },
      {
        index: 0, type: 'bind', source: '/srv', destination: '/data', relativeDestination: 'data', flags: MS_BIND | MS_REC, clearedFlags: 0n, propagationFlags: [], data: '',
        extensions: { tmpcopyup: false }, relabel: '', recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n }, idmap: { recursive: true, uidMappings: MAP, gidMappings: MAP }, premountCmds: [], postmountCmds: [],
      },
      [...HEAD, 'relativeDestination', ...FLAGS, 'recAttrs', 'recAttrs.attrSet', 'recAttrs.attrClr', 'idmap', 'idmap.recursive', ...mapKeys('idmap.uidMappings'), ...mapKeys('idmap.gidMappings'), ...TAIL],
    ],
    [
      'an idmapped bind by its gid mappings alone',
      { destination: '/data', source: '/srv', options: ['bind'], gidMappings: MAP },
      {
        index: 0, type: 'bind', source: '/srv', destination: '/data', flags: MS_BIND, clearedFlags: 0n, propagationFlags: [], data: '',
        extensions: { tmpcopyup: false }, relabel: '', idmap: { recursive: false, gidMappings: MAP }, premountCmds: [], postmountCmds: [],
      },
      [...HEAD, ...FLAGS, 'idmap', 'idmap.recursive', ...mapKeys('idmap.gidMappings'), ...TAIL],
    ],
  ])('%s', (_what, mount, expected, keys) => {
    const m = convert((s) => (s.mounts = [mount])).mounts[0];
    expect(m).toStrictEqual(expected);
    expect(keyOrder(m)).toEqual(keys);
  });

  test.each<[string, Json, string]>([
    ['a number as source', { destination: '/x', type: 'tmpfs', source: 5 }, 'mounts[0].source 5: must be a string, not a number'],
    ['a null type and no bind: no type', { destination: '/x', type: null, source: 'tmpfs' }, 'mounts[0].type: must be set unless the options contain bind, rbind or remount'],
    ['an array as destination', { destination: ['/x'], type: 'tmpfs' }, 'mounts[0].destination ["/x"]: must be a string, not an array'],
    ['a hole in the options (a spec built in code): a word left out', { destination: '/x', type: 'tmpfs', options: ['ro', , 'x'] }, 'mounts[0].options[1]: is required'],
    ['a word with a NUL before a number: the number is the fault named', { destination: '/x', type: 'tmpfs', options: ['a\0', 5] }, 'mounts[0].options[1] 5: must be a string, not a number'],
    ['two words with a NUL: the first named', { destination: '/x', type: 'tmpfs', options: ['ro', 'a\0', 'b\0'] }, 'mounts[0].options[1] "a\\u0000": must not contain a NUL byte'],
  ])('%s is refused, naming the field', (_what, mount, message) => {
    expectConfigError(() => convert((s) => (s.mounts = [mount])), message);
  });

  test.each([
    ['destination', 'mounts[0].destination "/pr\\u0000oc": must not contain a NUL byte'],
    ['type', 'mounts[0].type "/pr\\u0000oc": must not contain a NUL byte'],
    ['source', 'mounts[0].source "/pr\\u0000oc": must not contain a NUL byte'],
  ])('the loader itself refuses a NUL in a mount\'s %s (mountkit run does not check its output again)', (key, message) => {
    const spec = runcDefaultSpec();
    spec.mounts = [{ destination: '/x', type: 'tmpfs', source: 'tmpfs', [key]: '/pr\0oc' }];
    expectConfigError(() => oci.fromOciSpec(spec, '/bundles/b1'), message);
  });

  test('a null source and null options are absent: no source, no options', () => {
    expect(convert((s) => (s.mounts = [{ destination: '/x', type: 'tmpfs', source: null, options: null }])).mounts[0]).toStrictEqual({
      index: 0, type: 'tmpfs', source: '', destination: '/x', flags: 0n, clearedFlags: 0n, propagationFlags: [], data: '', extensions: { tmpcopyup: false }, relabel: '', premountCmds: [], postmountCmds: [],
    });
  });

  test('each mount has arrays and objects of its own, none shared with another or with config.json', () => {
    const spec = runcDefaultSpec();
    const [a, b] = fromOciSpec({ ...spec, mounts: [spec.mounts[1], spec.mounts[1]] }, '/bundles/b1').mounts;
    for (const key of ['propagationFlags', 'extensions', 'premountCmds', 'postmountCmds'] as const) expect(a[key]).not.toBe(b[key]);
    a.propagationFlags.push(MS_SHARED);
    expect(b.propagationFlags).toEqual([]);
    expect(spec.mounts[1].options).toEqual(['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
  });
});

describe('fromOciSpec: validation', () => {
  const ERRNO_BITS = "must be at most 65535, the 16 bits of SECCOMP_RET_DATA: runc 1.1.5 keeps only the low 16 bits of a larger value, which is another errno (65536 is 0, a syscall answered 0 without running)";

  test.each<[string, (s: Json) => void, string]>([
    ['empty destination', (s) => (s.mounts[3].destination = ''), 'mounts[3].destination "": must not be empty'],
    ['missing destination', (s) => delete s.mounts[1].destination, 'mounts[1].destination: is required'],
    ['numeric destination', (s) => (s.mounts[1].destination = 7), 'mounts[1].destination 7: must be a string, not a number'],
    ['options not an array', (s) => (s.mounts[2].options = 'nosuid,noexec'), 'mounts[2].options "nosuid,noexec": must be an array of strings, not a string'],
    ['options with a number', (s) => (s.mounts[2].options = ['nosuid', 5]), 'mounts[2].options[1] 5: must be a string, not a number'],
    ['mounts not an array', (s) => (s.mounts = { destination: '/x' }), 'mounts {"destination":"/x"}: must be an array, not an object'],
    ['mount not an object', (s) => (s.mounts[1] = '/dev'), 'mounts[1] "/dev": must be an object, not a string'],
    ['missing type', (s) => delete s.mounts[0].type, 'mounts[0].type: must be set unless the options contain bind, rbind or remount'],
    ['empty type', (s) => (s.mounts[0].type = ''), 'mounts[0].type: must be set unless the options contain bind, rbind or remount'],
    ['no type, and options that make no remount', (s) => (s.mounts[0] = { destination: '/dev/shm', options: ['ro'] }), 'mounts[0].type: must be set unless the options contain bind, rbind or remount'],
    ['type not a string', (s) => (s.mounts[0].type = ['proc']), 'mounts[0].type ["proc"]: must be a string, not an array'],
    [
      'type bind without a bind option',
      (s) => (s.mounts = [{ destination: '/data', type: 'bind', source: 'data', options: ['nosuid'] }]),
      'mounts[0].type "bind": makes no bind mount without the bind or rbind option',
    ],
    [
      'bind without source',
      (s) => (s.mounts = [{ destination: '/data', options: ['rbind'] }]),
      'mounts[0].source: must be set for a bind mount',
    ],
    ['z and Z together', (s) => (s.mounts = [{ source: '/srv', destination: '/srv', options: ['rbind', 'z', 'Z'] }]), 'mounts[0].options "Z": conflicts with "z": a mount takes one SELinux relabel, z (shared) or Z (private)'],
    ['relabel of a tmpfs', (s) => (s.mounts[1].options = ['nosuid', 'Z']), 'mounts[1].options "Z": a SELinux relabel applies to bind mounts only'],
    ['NUL in destination', (s) => (s.mounts[0].destination = '/pr\0oc'), 'mounts[0].destination "/pr\\u0000oc": must not contain a NUL byte'],
    ['NUL in source', (s) => (s.mounts[0].source = 'pr\0oc'), 'mounts[0].source "pr\\u0000oc": must not contain a NUL byte'],
    ['NUL in type', (s) => (s.mounts[0].type = 'proc\0'), 'mounts[0].type "proc\\u0000": must not contain a NUL byte'],
    ['NUL in an option', (s) => (s.mounts[1].options[2] = 'mode=7\x0055'), 'mounts[1].options[2] "mode=7\\u000055": must not contain a NUL byte'],
    ['missing root', (s) => delete s.root, 'root.path: is required'],
    ['root without path', (s) => (s.root = { readonly: true }), 'root.path: is required'],
    ['empty root path', (s) => (s.root.path = ''), 'root.path: is required'],
    ['root not an object', (s) => (s.root = 'rootfs'), 'root "rootfs": must be an object, not a string'],
    ['NUL in root path', (s) => (s.root.path = 'root\0fs'), 'root.path "root\\u0000fs": must not contain a NUL byte'],
    ['readonly not a boolean', (s) => (s.root.readonly = 'yes'), 'root.readonly "yes": must be a boolean, not a string'],
    ['linux not an object', (s) => (s.linux = []), 'linux []: must be an object, not an array'],
    [
      'unknown device type',
      (s) => (s.linux.devices = [{ type: 'x', path: '/dev/x', major: 1, minor: 1 }]),
      'linux.devices[0].type "x": must be one of c, b, u, p',
    ],
    ['missing device type', (s) => (s.linux.devices = [{ path: '/dev/x' }]), 'linux.devices[0].type: is required'],
    [
      'device outside /dev',
      (s) => (s.linux.devices = [{ type: 'c', path: '/tmp/null', major: 1, minor: 3 }]),
      'linux.devices[0].path "/tmp/null": must be under /dev',
    ],
    [
      'device escaping /dev',
      (s) => (s.linux.devices = [{ type: 'c', path: '/dev/../etc/passwd', major: 1, minor: 3 }]),
      'linux.devices[0].path "/etc/passwd": must be under /dev',
    ],
    [
      'device at /dev itself',
      (s) => (s.linux.devices = [{ type: 'c', path: '/dev/', major: 1, minor: 3 }]),
      'linux.devices[0].path "/dev": must be under /dev',
    ],
    [
      'relative device path',
      (s) => (s.linux.devices = [{ type: 'c', path: 'dev/null', major: 1, minor: 3 }]),
      'linux.devices[0].path "dev/null": must be an absolute path',
    ],
    [
      'char device without major',
      (s) => (s.linux.devices = [{ type: 'p', path: '/dev/p' }, { type: 'c', path: '/dev/x', minor: 1 }]),
      'linux.devices[1].major: is required for a c device',
    ],
    [
      'block device without minor',
      (s) => (s.linux.devices = [{ type: 'b', path: '/dev/x', major: 8 }]),
      'linux.devices[0].minor: is required for a b device',
    ],
    [
      'negative minor',
      (s) => (s.linux.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: -1 }]),
      'linux.devices[0].minor -1: must be a non-negative integer',
    ],
    [
      'major beyond 12 bits',
      (s) => (s.linux.devices = [{ type: 'c', path: '/dev/x', major: 4096, minor: 0 }]),
      'linux.devices[0].major 4096: must be at most 4095',
    ],
    [
      'fileMode as a string',
      (s) => (s.linux.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3, fileMode: '0666' }]),
      'linux.devices[0].fileMode "0666": must be a number, not a string',
    ],
    [
      'device uid not an integer',
      (s) => (s.linux.devices = [{ type: 'c', path: '/dev/x', major: 1, minor: 3, uid: 1.5 }]),
      'linux.devices[0].uid 1.5: must be a non-negative integer',
    ],
    ['devices not an array', (s) => (s.linux.devices = {}), 'linux.devices {}: must be an array, not an object'],
    [
      'unknown rootfsPropagation',
      (s) => (s.linux.rootfsPropagation = 'rro'),
      'linux.rootfsPropagation "rro": must be one of private, rprivate, slave, rslave, shared, rshared, unbindable, runbindable',
    ],
    ['rootfsPropagation not a string', (s) => (s.linux.rootfsPropagation = 1), 'linux.rootfsPropagation 1: must be a string, not a number'],
    [
      'unknown namespace',
      (s) => (s.linux.namespaces[1].type = 'net'),
      'linux.namespaces[1].type "net": must be one of mount, pid, uts, ipc, network, user, cgroup, time',
    ],
    ['duplicate namespace', (s) => s.linux.namespaces.push({ type: 'pid' }), 'linux.namespaces[6].type "pid": is listed more than once'],
    [
      'relative namespace path',
      (s) => (s.linux.namespaces[1].path = 'proc/1/ns/net'),
      'linux.namespaces[1].path "proc/1/ns/net": must be an absolute path',
    ],
    ['relative masked path', (s) => (s.linux.maskedPaths[2] = 'proc/kcore'), 'linux.maskedPaths[2] "proc/kcore": must be an absolute path'],
    ['readonlyPaths not an array', (s) => (s.linux.readonlyPaths = '/proc/sys'), 'linux.readonlyPaths "/proc/sys": must be an array, not a string'],
    ['NUL in a readonly path', (s) => (s.linux.readonlyPaths[0] = '/proc/\0bus'), 'linux.readonlyPaths[0] "/proc/\\u0000bus": must not contain a NUL byte'],
    ['sysctl as an array', (s) => (s.linux.sysctl = ['a=b']), 'linux.sysctl ["a=b"]: must be an object of strings, not an array'],
    ['sysctl value not a string', (s) => (s.linux.sysctl = { 'net.ipv4.ip_forward': 1 }), 'linux.sysctl["net.ipv4.ip_forward"] 1: must be a string, not a number'],
    ['NUL in a sysctl value', (s) => (s.linux.sysctl = { 'kernel.x': '1\0' }), 'linux.sysctl["kernel.x"] "1\\u0000": must not contain a NUL byte'],
    ['NUL in a sysctl key', (s) => (s.linux.sysctl = { 'kernel.\0x': '1' }), 'linux.sysctl "kernel.\\u0000x": keys must not contain a NUL byte'],
    ['mountLabel not a string', (s) => (s.linux.mountLabel = true), 'linux.mountLabel true: must be a string, not a boolean'],
    ['missing args', (s) => delete s.process.args, 'process.args: is required'],
    ['empty args', (s) => (s.process.args = []), 'process.args: must not be empty'],
    ['args as a string', (s) => (s.process.args = 'sh'), 'process.args "sh": must be an array of strings, not a string'],
    ['NUL in an arg', (s) => (s.process.args = ['sh', '-c\0']), 'process.args[1] "-c\\u0000": must not contain a NUL byte'],
    ['NUL in env', (s) => (s.process.env[1] = 'TERM=\0'), 'process.env[1] "TERM=\\u0000": must not contain a NUL byte'],
    ['an env entry without =', (s) => (s.process.env = ['PATH=/bin', 'TERM']), 'process.env[1] "TERM": must be NAME=VALUE, with a name'],
    ['an env entry without a name', (s) => (s.process.env = ['=x']), 'process.env[0] "=x": must be NAME=VALUE, with a name'],
    ['relative cwd', (s) => (s.process.cwd = 'tmp'), 'process.cwd "tmp": must be an absolute path'],
    ['empty cwd', (s) => (s.process.cwd = ''), 'process.cwd "": must be an absolute path'],
    [
      'a cwd of PATH_MAX bytes (hundreds of ..)',
      (s) => (s.process.cwd = `/${'a/../'.repeat(819)}`),
      `process.cwd ${JSON.stringify(`/${'a/../'.repeat(819)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a masked path of 4096 bytes',
      (s) => (s.linux.maskedPaths = [`/${'m'.repeat(4095)}`]),
      `linux.maskedPaths[0] ${JSON.stringify(`/${'m'.repeat(4095)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a mount destination of 4096 bytes',
      (s) => (s.mounts[0].destination = `/${'d'.repeat(4095)}`),
      `mounts[0].destination ${JSON.stringify(`/${'d'.repeat(4095)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a relative mount destination of 4096 bytes once taken from /, shown as taken',
      (s) => (s.mounts[0].destination = 'd'.repeat(4095)),
      `mounts[0].destination ${JSON.stringify(`/${'d'.repeat(4095)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a mount destination of 1366 three-byte characters (4099 bytes)',
      (s) => (s.mounts[0].destination = `/${'\u20ac'.repeat(1366)}`),
      `mounts[0].destination ${JSON.stringify(`/${'\u20ac'.repeat(1366)}`)}: is 4099 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a relative bind source of 4102 bytes once taken from the bundle, shown as taken',
      (s) => (s.mounts = [{ source: 's'.repeat(4090), destination: '/data', options: ['rbind'] }]),
      `mounts[0].source ${JSON.stringify(`/bundles/b1/${'s'.repeat(4090)}`)}: is 4102 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    [
      'a bind source of 4096 bytes',
      (s) => (s.mounts = [{ source: `/${'s'.repeat(4095)}`, destination: '/data', options: ['rbind'] }]),
      `mounts[0].source ${JSON.stringify(`/${'s'.repeat(4095)}`)}: is 4096 bytes long: a path must be shorter than PATH_MAX (4096 bytes with its NUL)`,
    ],
    ['negative uid', (s) => (s.process.user.uid = -1), 'process.user.uid -1: must be a non-negative integer'],
    ['gid beyond 32 bits', (s) => (s.process.user.gid = 2 ** 32), 'process.user.gid 4294967296: must be at most 4294967295'],
    ['uid as a string', (s) => (s.process.user.uid = '0'), 'process.user.uid "0": must be a number, not a string'],
    ['terminal not a boolean', (s) => (s.process.terminal = 1), 'process.terminal 1: must be a boolean, not a number'],
    ['process not an object', (s) => (s.process = ['sh']), 'process ["sh"]: must be an object, not an array'],
    ['hook without path', (s) => (s.hooks = { prestart: [{ args: ['x'] }] }), 'hooks.prestart[0].path: is required'],
    ['relative hook path', (s) => (s.hooks = { createRuntime: [{ path: 'hook' }] }), 'hooks.createRuntime[0].path "hook": must be an absolute path'],
    ['zero hook timeout', (s) => (s.hooks = { prestart: [{ path: '/h', timeout: 0 }] }), 'hooks.prestart[0].timeout 0: must be greater than zero'],
    ['hook args not strings', (s) => (s.hooks = { prestart: [{ path: '/h', args: [1] }] }), 'hooks.prestart[0].args[0] 1: must be a string, not a number'],
    ['NUL in hostname', (s) => (s.hostname = 'ru\0nc'), 'hostname "ru\\u0000nc": must not contain a NUL byte'],
    ['hostname not a string', (s) => (s.hostname = 5), 'hostname 5: must be a string, not a number'],
    ['an AppArmor profile that is not a string', (s) => (s.process.apparmorProfile = 1), 'process.apparmorProfile 1: must be a string, not a number'],
    ['seccomp not an object', (s) => (s.linux.seccomp = 'default'), 'linux.seccomp "default": must be an object, not a string'],
    ['seccomp rules without a default action', (s) => (s.linux.seccomp = { syscalls: [{ names: ['read'], action: 'SCMP_ACT_ALLOW' }] }), 'linux.seccomp.defaultAction: is required with syscalls'],
    ['seccomp rule without names', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ action: 'SCMP_ACT_KILL' }] }), 'linux.seccomp.syscalls[0].names: is required'],
    ['seccomp rule without an action', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'] }] }), 'linux.seccomp.syscalls[0].action: is required'],
    ['seccomp names not strings', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: [1], action: 'SCMP_ACT_KILL' }] }), 'linux.seccomp.syscalls[0].names[0] 1: must be a string, not a number'],
    ['seccomp value JSON cannot carry exactly', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 0, value: 2 ** 60, op: 'SCMP_CMP_EQ' }] }] }), 'linux.seccomp.syscalls[0].args[0].value: is read as 1152921504606846976 (a JSON number is read as a double, exact up to 9007199254740991): must be at most 9007199254740991, or 18446744073709551615'],
    ['seccomp negative index', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: -1, value: 0, op: 'SCMP_CMP_EQ' }] }] }), 'linux.seccomp.syscalls[0].args[0].index -1: must be a non-negative integer'],
    ['seccomp errnoRet a string', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 'EPERM' }), 'linux.seccomp.defaultErrnoRet "EPERM": must be a number, not a string'],
    // A Go uint in runc, which applies its low 16 bits (checked with runc run: 65537 is EPERM, 65536 a mkdir answered 0 that made nothing).
    ['seccomp errnoRet beyond 16 bits', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 65536 }] }), `linux.seccomp.syscalls[0].errnoRet 65536: ${ERRNO_BITS}`],
    ['seccomp defaultErrnoRet beyond 32 bits', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 2 ** 32 + 1 }), `linux.seccomp.defaultErrnoRet 4294967297: ${ERRNO_BITS}`],
    // Any index above 5 is refused, as runc refuses it when it adds the rule: not only those below 2^32.
    ['seccomp index 6', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 6, value: 0, op: 'SCMP_CMP_EQ' }] }] }), 'linux.seccomp.syscalls[0].args[0].index 6: must be from 0 to 5: a syscall has 6 arguments'],
    ['seccomp index beyond 32 bits', (s) => (s.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['read'], action: 'SCMP_ACT_KILL', args: [{ index: 2 ** 40, value: 0, op: 'SCMP_CMP_EQ' }] }] }), 'linux.seccomp.syscalls[0].args[0].index 1099511627776: must be from 0 to 5: a syscall has 6 arguments'],
    // runc decodes every field of a profile it then drops for having no rule: a value of another type is refused there too.
    ['seccomp flags not strings, in a profile without rules', (s) => (s.linux.seccomp = { flags: 5 }), 'linux.seccomp.flags 5: must be an array of strings, not a number'],
    ['seccomp listenerPath a number, in a profile without rules', (s) => (s.linux.seccomp = { listenerPath: 1 }), 'linux.seccomp.listenerPath 1: must be a string, not a number'],
    ['seccomp architectures an object, in a profile without rules', (s) => (s.linux.seccomp = { architectures: {} }), 'linux.seccomp.architectures {}: must be an array of strings, not an object'],
    ['seccomp defaultErrnoRet a string, in a profile without rules', (s) => (s.linux.seccomp = { defaultErrnoRet: '1' }), 'linux.seccomp.defaultErrnoRet "1": must be a number, not a string'],
  ])('%s', (_name, edit, message) => {
    expectConfigError(() => convert(edit), message);
  });

  // The loader alone, without checkedModel after it, which has a check of its own: `run`
  // and `plan` take the loader's config without checking it again (modelChecked).
  test.each(['/dev/', '/devx', '/devices/x', '/'])('a device path %j is refused by the loader itself, before any model check', (devPath) => {
    const spec = runcDefaultSpec();
    spec.linux.devices = [{ type: 'c', path: devPath, major: 1, minor: 3 }];
    const err = caught(() => oci.fromOciSpec(spec, '/bundles/b1'));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).message).toMatch(/^linux\.devices\[0\]\.path "[^"]+": must be under \/dev$/);
  });

  test.each([
    [[], 'config.json []: must be a JSON object, not an array'],
    [null, 'config.json null: must be a JSON object, not null'],
    ['{}', 'config.json "{}": must be a JSON object, not a string'],
    [42, 'config.json 42: must be a JSON object, not a number'],
  ])('a spec that is %j is rejected', (spec, message) => {
    expectConfigError(() => fromOciSpec(spec, '/b'), message);
  });

  test('the error names the field and keeps it apart from the reason', () => {
    const err = caught(() => convert((s) => (s.mounts[3].destination = ''))) as ConfigError;
    expect(err.field).toBe('mounts[3].destination');
    expect(err.value).toBe('');
    expect(err.reason).toBe('must not be empty');
    expect(err.name).toBe('ConfigError');
  });
});

describe('loadBundle', () => {
  let dir: string;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-oci-'));
  });

  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(text: string): void {
    fs.writeFileSync(path.join(dir, 'config.json'), text);
  }

  test.each([
    // A Go uint (64 bits) in runc: refused beyond 65535 with the value as written, and beyond 2^64 - 1 as runc's decoder refuses it.
    ['"errnoRet": 18446744073709551615', 'linux.seccomp.syscalls[0].errnoRet 18446744073709551615: must be at most 65535, the 16 bits of SECCOMP_RET_DATA: runc 1.1.5 keeps only the low 16 bits of a larger value, which is another errno (65536 is 0, a syscall answered 0 without running)'],
    ['"errnoRet": 18446744073709551616', 'linux.seccomp.syscalls[0].errnoRet 18446744073709551616: must be at most 18446744073709551615'],
    ['"args": [{"index": 18446744073709551615, "value": 0, "op": "SCMP_CMP_EQ"}]', 'linux.seccomp.syscalls[0].args[0].index 18446744073709551615: must be from 0 to 5: a syscall has 6 arguments'],
    ['"args": [{"index": 9007199254740993, "value": 0, "op": "SCMP_CMP_EQ"}]', 'linux.seccomp.syscalls[0].args[0].index 9007199254740993: must be from 0 to 5: a syscall has 6 arguments'],
  ])('a seccomp rule with %s is refused naming the value as written', (rule, message) => {
    writeConfig(`{"root": {"path": "rootfs"}, "linux": {"seccomp": {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", ${rule}}]}}}`);
    expectConfigError(() => loadBundle(dir), message);
  });

  test('reads config.json and anchors relative paths at the bundle', () => {
    const spec = runcDefaultSpec();
    spec.mounts.push({ type: 'none', source: 'volumes/data', destination: '/data', options: ['rbind'] });
    writeConfig(JSON.stringify(spec, null, '\t'));
    const cfg = loadBundle(dir);
    expect(cfg.bundle).toBe(dir);
    expect(cfg.rootfs).toBe(path.join(dir, 'rootfs'));
    expect(cfg.mounts[7]).toMatchObject({ type: 'bind', source: path.join(dir, 'volumes/data'), destination: '/data' });
    expect(cfg.mounts.slice(0, 7)).toEqual(RUNC_DEFAULT.mounts);
  });

  test('a lone surrogate escaped in config.json (in a value or a key) is U+FFFD, as Go\'s encoding/json reads it; a pair stays', () => {
    writeConfig(
      '{"root": {"path": "rootfs"}, "mounts": [{"destination": "/a\\ud800b", "type": "tmpfs", "source": "t\\udcff"}, {"destination": "/\\ud83d\\udca9", "type": "tmpfs"}],' +
        ' "process": {"cwd": "/", "args": ["x\\udcfe"], "env": ["HOME=/h\\udcffome"]}, "annotations": {"k\\udc80": "v"}}',
    );
    const cfg = loadBundle(dir);
    expect(cfg.mounts.map((m) => [m.destination, m.source])).toEqual([
      ['/a\ufffdb', 't\ufffd'],
      ['/\ud83d\udca9', ''],
    ]);
    expect(cfg.process?.args).toEqual(['x\ufffd']);
    expect(cfg.process?.env).toEqual(['HOME=/h\ufffdome']);
    expect(cfg.annotations).toEqual({ 'k\ufffd': 'v' });
  });

  test.each(['\\uD800', '\\uDFFF', '\\udBfF', '\\uDc80'])('the escape %s, the text\'s only lone surrogate, in a value or a key, is U+FFFD', (escape) => {
    writeConfig(`{"root": {"path": "rootfs"}, "hostname": "h${escape}", "process": {"cwd": "/", "args": ["sh"]}}`);
    expect(loadBundle(dir).hostname).toBe('h\ufffd');
    writeConfig(`{"root": {"path": "rootfs"}, "process": {"cwd": "/", "args": ["sh"]}, "annotations": {"k${escape}": "v"}}`);
    expect(loadBundle(dir).annotations).toEqual({ 'k\ufffd': 'v' });
  });

  test("config.json's text given to loadBundle as a string holding a lone surrogate itself, not escaped (an embedder's), has it as U+FFFD too", () => {
    const text = '{"root": {"path": "rootfs"}, "hostname": "h\ud800", "process": {"cwd": "/", "args": ["sh"]}, "annotations": {"k\udc80": "v"}}';
    const cfg = loadBundle(dir, text);
    expect(cfg.hostname).toBe('h\ufffd');
    expect(cfg.annotations).toEqual({ 'k\ufffd': 'v' });
  });

  test.each<[string, string, string]>([
    ['a lone high surrogate last', 'h\ud800', 'h\ufffd'],
    ['a lone low surrogate first', '\udc80h', '\ufffdh'],
    ['a pair the wrong way round: two lone ones', '\udc80\ud800', '\ufffd\ufffd'],
    ['a pair, and a lone one after it', '\ud83d\udca9\ud83d', '\ud83d\udca9\ufffd'],
    ['a pair alone: kept', 'x\ud83d\udca9', 'x\ud83d\udca9'],
    ['text outside Latin-1 and no surrogate: kept', 'h\u0100\u4e2d', 'h\u0100\u4e2d'],
  ])('config.json\'s text given to loadBundle with %s in a value, not escaped: as Go reads it', (_what, hostname, expected) => {
    expect(loadBundle(dir, `{"root": {"path": "rootfs"}, "hostname": "${hostname}", "process": {"cwd": "/", "args": ["sh"]}}`).hostname).toBe(expected);
  });

  test('a spec nested deeper than Go\'s decoder takes (10000) is refused, naming where, as is a cyclic spec built in code', () => {
    let deep: unknown = [];
    for (let i = 0; i < 20000; i++) deep = [deep];
    expectConfigError(
      () => convert((s) => (s.process.scheduler = { policy: 'SCHED_OTHER', nice: deep })),
      `process.scheduler.nice${'[0]'.repeat(9)}...: nests arrays and objects more than 10000 deep, which runc's Go decoder refuses too`,
    );
    const cyclic: Json = { path: 'rootfs' };
    cyclic.self = cyclic;
    expectConfigError(() => convert((s) => (s.root = cyclic)), `root${'.self'.repeat(11)}...: nests arrays and objects more than 10000 deep, which runc's Go decoder refuses too`);
  });

  test('a "__proto__" key of config.json stays a key (JSON.parse makes it one) when the spec is copied for a lone surrogate: never a prototype fields are read through', () => {
    const spec = JSON.parse(JSON.stringify(runcDefaultSpec()).replace('"root":{', '"root":{"__proto__":{"readonly":true},'));
    spec.process.env.push('Z=\ud800');
    delete spec.root.readonly;
    expect(fromOciSpec(spec, '/bundles/b1').readonlyRootfs).toBe(false);
  });

  test('a spec built in code with a lone surrogate is read from a copy (the caller\'s left as it is), and neither walk overflows on deep nesting', () => {
    let deep: unknown = [];
    for (let i = 0; i < 5000; i++) deep = [deep];
    const spec = { root: { path: 'rootfs' }, hostname: 'h\ud800', annotations: { deep: 'x' }, process: { cwd: '/', args: ['sh'], scheduler: { policy: 'SCHED_OTHER', nice: deep } } };
    expectConfigError(() => fromOciSpec(spec, dir), `process.scheduler.nice ${'['.repeat(77)}...: must be an integer from -20 to 19`);
    expect(spec.hostname).toBe('h\ud800');
    delete (spec.process as { scheduler?: unknown }).scheduler;
    expect(fromOciSpec(spec, dir).hostname).toBe('h\ufffd');
    expect(spec.hostname).toBe('h\ud800');
  });

  test('a relative bundle dir is resolved against the working directory', () => {
    writeConfig(JSON.stringify({ root: { path: 'rootfs' } }));
    const cfg = loadBundle(path.relative(process.cwd(), dir));
    expect(cfg.bundle).toBe(dir);
    expect(cfg.rootfs).toBe(path.join(dir, 'rootfs'));
  });

  test.each([
    // [text of a limit, accepted as]
    ['18446744073709551615', 0xffffffffffffffffn],
    ['4096', 4096n],
  ])('a limit written %s reads as %s', (text, value) => {
    writeConfig(`{"root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": ${text}}]}}`);
    expect(loadBundle(dir).process.rlimits?.[0].hard).toBe(value);
  });

  test.each([
    // [text of a limit, read as]: an integer literal exactly, as runc 1.1.5 sets it (seen in the container's /proc/self/limits)
    ['18446744073709551614', 18446744073709551614n],
    ['18446744073709550600', 18446744073709550600n],
    ['18446744073709549568', 18446744073709549568n],
    ['9007199254740993', 9007199254740993n],
  ])('a limit written %s, near 2^64 or beyond 2^53, is read exactly, where JSON.parse rounds it', (text, value) => {
    writeConfig(`{"root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": ${text}}]}}`);
    expect(loadBundle(dir).process.rlimits?.[0].hard).toBe(value);
  });

  test.each([
    // [text of a limit, the error]: runc 1.1.5 refuses each ("cannot unmarshal number ... of type uint64")
    ['18446744073709551616', 'process.rlimits[0].hard 18446744073709551616: must be at most 18446744073709551615'],
    ['18446744073709551615.0', 'process.rlimits[0].hard: 18446744073709551615.0 is not an integer literal'],
    ['1.8446744073709552e19', 'process.rlimits[0].hard: 1.8446744073709552e19 is not an integer literal'],
    ['1.8446744073709551E+19', 'process.rlimits[0].hard: 1.8446744073709551E+19 is not an integer literal'],
    ['0.18446744073709551615e20', 'process.rlimits[0].hard: 0.18446744073709551615e20 is not an integer literal'],
    ['1.8e19', 'process.rlimits[0].hard: 1.8e19 is not an integer literal'],
    ['1e3', 'process.rlimits[0].hard: 1e3 is not an integer literal'],
  ])('a limit written %s is refused, as written; in a string it is text', (n, message) => {
    writeConfig(`{"root": {"path": "rootfs"}, "process": {"args": ["sh"], "cwd": "/", "rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": ${n}}]}}`);
    expect(() => loadBundle(dir)).toThrow(message);
    writeConfig(`{"root": {"path": "rootfs"}, "process": {"args": ["sh", "${n}", ": ${n}", "\\\\"], "cwd": "/", "rlimits": [{"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615}]}}`);
    expect(loadBundle(dir).process.args).toEqual(['sh', n, `: ${n}`, '\\']);
  });

  test('a relative seccomp listenerPath is the bundle\'s', () => {
    writeConfig(JSON.stringify({ root: { path: 'rootfs' }, linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', listenerPath: 'agent.sock', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_NOTIFY' }] } } }));
    expect(loadBundle(dir).seccomp?.listenerPath).toBe(path.join(dir, 'agent.sock'));
  });

  test('a bundle reached through a symbolic link is taken by the path it leads to, as runc takes it', () => {
    writeConfig(JSON.stringify({ root: { path: 'rootfs' } }));
    const link = `${dir}-link`;
    fs.symlinkSync(dir, link);
    try {
      const cfg = loadBundle(link);
      expect(cfg.bundle).toBe(dir);
      expect(cfg.rootfs).toBe(path.join(dir, 'rootfs'));
    } finally {
      fs.unlinkSync(link);
    }
  });

  test('a missing config.json', () => {
    expectConfigError(() => loadBundle(dir), `config.json ${JSON.stringify(path.join(dir, 'config.json'))}: cannot be read (ENOENT)`);
  });

  test('no descriptor left to open it with (RLIMIT_NOFILE): the call and its errno, exit 1, no config error', () => {
    const emfile = Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE', errno: -24, syscall: 'open' });
    // The module itself: the namespace import above has getters only.
    const open = jest.spyOn(require('fs') as typeof fs, 'openSync').mockImplementation(() => {
      throw emfile;
    });
    try {
      let thrown: unknown;
      try {
        loadBundle(dir);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(SyscallError);
      expect([(thrown as SyscallError).message, (thrown as SyscallError).exitCode]).toEqual([`open ${JSON.stringify(path.join(dir, 'config.json'))}: EMFILE`, 1]);
    } finally {
      open.mockRestore();
    }
  });

  test('a bundle dir that does not exist', () => {
    const missing = path.join(dir, 'nope');
    expectConfigError(() => loadBundle(missing), `config.json ${JSON.stringify(path.join(missing, 'config.json'))}: cannot be read (ENOENT)`);
  });

  test.each<[string, (file: string) => void, string]>([
    ['a link to /dev/zero', (file) => fs.symlinkSync('/dev/zero', file), 'is a character device, not a regular file or a FIFO'],
    ['a directory', (file) => fs.mkdirSync(file), 'is a directory, not a regular file or a FIFO'],
    ['larger than CONFIG_MAX_BYTES (sparse)', (file) => fs.truncateSync((fs.writeFileSync(file, '{}'), file), CONFIG_MAX_BYTES + 1), `is ${CONFIG_MAX_BYTES + 1} bytes or more, more than the ${CONFIG_MAX_BYTES} mountkit reads`],
  ])('a config.json that is %s is refused before anything is read', (_what, make, reason) => {
    const file = path.join(dir, 'config.json');
    make(file);
    expectConfigError(() => loadBundle(dir), `config.json ${JSON.stringify(file)}: ${reason}`);
  });

  test.each(['', '  \n\t'])('an empty config.json (%j)', (text) => {
    writeConfig(text);
    expectConfigError(() => loadBundle(dir), `config.json ${JSON.stringify(path.join(dir, 'config.json'))}: is empty`);
  });

  test.each([
    ['{"root": {"path": "rootfs"},}', ' at line 1, column 29: unexpected "}"'],
    ['{\n  "root": {\n    "path" "rootfs"\n  }\n}', ' at line 3, column 12: unexpected "\\""'],
    ['{"root"', ' at line 1, column 8: the text ends there'],
    ['rootfs', ' at line 1, column 1: unexpected "r"'],
    ['{\n  "terminal": True,\n  "x": 1\n}', ' at line 2, column 15: unexpected "T"'],
  ])('invalid JSON %j names where it stops being JSON, as a line and column, and what is there, on one line', (text, where) => {
    writeConfig(text);
    expectConfigError(() => loadBundle(dir), `config.json ${JSON.stringify(path.join(dir, 'config.json'))}: is not valid JSON${where}`);
  });

  test('a byte order mark is refused, saying so (JSON.parse would name an invisible character)', () => {
    writeConfig('\ufeff{"ociVersion": "1.0.2"}');
    expectConfigError(() => loadBundle(dir), `config.json ${JSON.stringify(path.join(dir, 'config.json'))}: starts with a byte order mark (U+FEFF), which JSON does not take: save it as UTF-8 without one`);
  });

  test('validation errors surface unchanged', () => {
    writeConfig(JSON.stringify({ root: { path: 'rootfs' }, mounts: [{ type: 'proc', destination: '' }] }));
    expectConfigError(() => loadBundle(dir), 'mounts[0].destination "": must not be empty');
  });
});

describe('fromOciSpec: process.user', () => {
  const userOf = (user: Json) => convert((s) => (s.process.user = user)).process;

  test('additionalGids and umask are kept; the umask as umask(2) takes it, its permission bits', () => {
    expect(userOf({ uid: 1, gid: 2, additionalGids: [], umask: 0o1077 })).toMatchObject({ uid: 1, gid: 2, additionalGids: [], umask: 0o077 });
  });

  test('a group given twice is kept as given (the handover gives it once)', () => {
    expect(userOf({ uid: 1, gid: 2, additionalGids: [50, 2000, 50, 7, 2000] })).toMatchObject({ additionalGids: [50, 2000, 50, 7, 2000] });
  });

  test('left out, they are absent: no supplementary groups, umask 0022 (the umask step)', () => {
    const p = userOf({ uid: 1, gid: 2 });
    expect(p).not.toHaveProperty('additionalGids');
    expect(p).not.toHaveProperty('umask');
  });

  test('process.capabilities: each set a list of names; a set left out is empty, and so is every set without capabilities (runc 1.0-1.2)', () => {
    const caps = (v: unknown) => convert((s) => (s.process.capabilities = v)).process.capabilities;
    expect(caps({ effective: ['CAP_KILL'], ambient: ['CAP_NOPE'] })).toEqual({ bounding: [], effective: ['CAP_KILL'], inheritable: [], permitted: [], ambient: ['CAP_NOPE'] });
    expect(caps(undefined)).toEqual({ bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] });
    expectConfigError(() => caps({ bounding: 'CAP_KILL' }), 'process.capabilities.bounding "CAP_KILL": must be an array of strings, not a string');
    expectConfigError(() => caps([]), 'process.capabilities []: must be an object, not an array');
  });

  test('process.rlimits: each type by its number, limits as 64-bit values (RLIM_INFINITY as written reads as 2^64)', () => {
    const rlimits = (v: unknown) => convert((s) => (s.process.rlimits = v)).process.rlimits;
    expect(rlimits([{ type: 'RLIMIT_CORE', soft: 0, hard: 18446744073709551615 }, { type: 'RLIMIT_NPROC', soft: 10, hard: 20 }])).toEqual([
      { type: 'RLIMIT_CORE', resource: 4, soft: 0n, hard: 0xffffffffffffffffn },
      { type: 'RLIMIT_NPROC', resource: 6, soft: 10n, hard: 20n },
    ]);
    expect(convert((s) => delete s.process.rlimits).process).not.toHaveProperty('rlimits');
  });

  test.each<[unknown, string]>([
    [[{ type: 'RLIMIT_NOPE', soft: 1, hard: 1 }], 'process.rlimits[0].type "RLIMIT_NOPE": must be one of RLIMIT_CPU, '],
    [[{ type: 'RLIMIT_NOFILE', soft: 2048, hard: 1024 }], 'process.rlimits[0].soft 2048: must be at most hard (1024)'],
    [[{ type: 'RLIMIT_NOFILE', soft: -1, hard: 1024 }], 'process.rlimits[0].soft -1: must be a non-negative integer'],
    [[{ type: 'RLIMIT_NOFILE', soft: 1, hard: '2' }], 'process.rlimits[0].hard "2": must be a number, not a string'],
    [[{ type: 'RLIMIT_NOFILE', soft: 1, hard: 9223372036854775807 }], 'process.rlimits[0].hard: is read as 9223372036854775808 (a JSON number is read as a double, exact up to 9007199254740991): must be at most 9007199254740991, or 18446744073709551615 for no limit'],
    [[{ type: 'RLIMIT_NOFILE', soft: 1, hard: 2 }, { type: 'RLIMIT_NOFILE', soft: 1, hard: 2 }], 'process.rlimits[1].type "RLIMIT_NOFILE": is listed more than once'],
  ])('process.rlimits %j is refused, naming the field', (v, message) => {
    const err = caught(() => convert((s) => (s.process.rlimits = v)));
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message.startsWith(message)).toBe(true);
  });

  test.each<[unknown, string | number]>([
    [-1000, -1000],
    [1000, 1000],
    [0, 0],
    [1001, 'process.oomScoreAdj 1001: must be an integer from -1000 to 1000'],
    [1.5, 'process.oomScoreAdj 1.5: must be an integer from -1000 to 1000'],
    ['5', 'process.oomScoreAdj "5": must be a number, not a string'],
  ])('process.oomScoreAdj %j', (v, expected) => {
    const conv = () => convert((s) => (s.process.oomScoreAdj = v)).process.oomScoreAdj;
    if (typeof expected === 'number') expect(conv()).toBe(expected);
    else expectConfigError(conv, expected);
  });

  test('process.noNewPrivileges is kept when given, absent otherwise', () => {
    expect(convert((s) => (s.process.noNewPrivileges = false)).process.noNewPrivileges).toBe(false);
    expect(convert((s) => delete s.process.noNewPrivileges).process).not.toHaveProperty('noNewPrivileges');
    expectConfigError(() => convert((s) => (s.process.noNewPrivileges = 'yes')), 'process.noNewPrivileges "yes": must be a boolean, not a string');
  });

  test.each<[Json, string]>([
    [{ additionalGids: 5 }, 'process.user.additionalGids 5: must be an array, not a number'],
    [{ additionalGids: [1, -2] }, 'process.user.additionalGids[1] -2: must be a non-negative integer'],
    [{ umask: '022' }, 'process.user.umask "022": must be a number, not a string'],
  ])('%j is refused, naming the field', (user, message) => {
    expectConfigError(() => userOf(user), message);
  });
});

describe('fromOciSpec: idmapped bind mounts', () => {
  function mountOf(m: Json) {
    return convert((s) => (s.mounts = [{ source: '/srv/data', destination: '/data', options: ['bind'], ...m }])).mounts[0];
  }
  const UIDS = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const GIDS = [{ containerID: 0, hostID: 100000, size: 65536 }, { containerID: 65536, hostID: 5, size: 1 }];

  test('mappings with ridmap: a recursive idmapped bind with both maps, the option not in the data', () => {
    const m = mountOf({ options: ['rbind', 'ridmap'], uidMappings: UIDS, gidMappings: GIDS });
    expect(m.idmap).toEqual({ recursive: true, uidMappings: UIDS, gidMappings: GIDS });
    expect(m.data).toBe('');
  });

  test('mappings alone ask for a non-recursive idmapped bind, as in runc', () => {
    expect(mountOf({ uidMappings: UIDS, gidMappings: GIDS }).idmap).toEqual({ recursive: false, uidMappings: UIDS, gidMappings: GIDS });
  });

  test('the option alone: no mappings of its own', () => {
    expect(mountOf({ options: ['bind', 'idmap'] }).idmap).toEqual({ recursive: false });
  });

  test("crun's idmap=uids=...;gids=...: the mount's own mappings, a relative (@) one moved by linux's range holding it", () => {
    const m = convert((s) => {
      s.linux = { ...(s.linux as object), uidMappings: UIDS, gidMappings: GIDS };
      s.mounts = [{ source: '/srv/data', destination: '/data', options: ['rbind', 'idmap=uids=0-1000-10#@10-10-5;gids=@0-65536-1'] }];
    }).mounts[0];
    expect(m.idmap).toEqual({
      recursive: false,
      uidMappings: [{ containerID: 0, hostID: 1000, size: 10 }, { containerID: 10, hostID: 100010, size: 5 }],
      gidMappings: [{ containerID: 0, hostID: 5, size: 1 }],
    });
    expect(m.data).toBe('');
  });

  test.each<[Json, string]>([
    [{ options: ['bind', 'idmap=uids=@0-0-1;gids=0-0-1'] }, 'mounts[0].options "idmap=uids=@0-0-1;gids=0-0-1": a relative mapping (@) needs linux.uidMappings'],
    [{ options: ['bind', 'idmap=uids=0-0-1;gids=0-0-1'], uidMappings: UIDS, gidMappings: GIDS }, 'mounts[0].options "idmap=uids=0-0-1;gids=0-0-1": gives mappings, and so does mounts[0].uidMappings: give them once'],
  ])("crun's idmap=VALUE refused: %j", (m, message) => {
    expectConfigError(() => mountOf(m), message);
  });

  test('a mount with neither has no idmap', () => {
    expect(mountOf({}).idmap).toBeUndefined();
    expect(mountOf({ uidMappings: null, gidMappings: null }).idmap).toBeUndefined();
  });

  test.each<[Json, string]>([
    [{ uidMappings: {} }, 'mounts[0].uidMappings {}: must be an array, not an object'],
    [{ uidMappings: [5] }, 'mounts[0].uidMappings[0] 5: must be an object, not a number'],
    [{ gidMappings: [{ containerID: -1, hostID: 0, size: 1 }] }, 'mounts[0].gidMappings[0].containerID -1: must be a non-negative integer'],
    [{ uidMappings: [{ containerID: 0, hostID: 2 ** 32, size: 1 }] }, 'mounts[0].uidMappings[0].hostID 4294967296: must be at most 4294967295'],
    [{ uidMappings: [{ containerID: 0, hostID: 0 }] }, 'mounts[0].uidMappings[0].size: is required'],
  ])('%j is refused, naming the field', (m, message) => {
    expectConfigError(() => mountOf(m), message);
  });
});

describe('fromOciSpec: linux.uidMappings and linux.gidMappings', () => {
  const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];

  test('kept when given, each on its own; absent otherwise (the runc spec default has none)', () => {
    const both = convert((s) => Object.assign(s.linux, { uidMappings: MAPS, gidMappings: MAPS }));
    expect([both.uidMappings, both.gidMappings]).toEqual([MAPS, MAPS]);
    const uidOnly = convert((s) => Object.assign(s.linux, { uidMappings: MAPS }));
    expect(uidOnly.uidMappings).toEqual(MAPS);
    expect(uidOnly).not.toHaveProperty('gidMappings');
    expect(convert()).not.toHaveProperty('uidMappings');
  });

  test.each<[Json, string]>([
    [{ uidMappings: {} }, 'linux.uidMappings {}: must be an array, not an object'],
    [{ gidMappings: [{ containerID: 0, hostID: -1, size: 1 }] }, 'linux.gidMappings[0].hostID -1: must be a non-negative integer'],
    [{ uidMappings: [{ containerID: 0, hostID: 0 }] }, 'linux.uidMappings[0].size: is required'],
  ])('%j is refused, naming the field', (linux, message) => {
    expectConfigError(() => convert((s) => Object.assign(s.linux, linux)), message);
  });
});
