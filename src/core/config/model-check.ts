/**
 * A RootfsConfig built in code, checked as the OCI loader (./oci.ts) checks config.json:
 * every field the pipeline reads has the type and range the loader would have given it.
 * Nothing else stands between such a config and the port: a uid of NaN or 2^32 reaches
 * setuid(2) as 0 (koffi converts a uint32 argument modulo 2^32), a missing field fails
 * a plugin with a TypeError after the first mounts, an empty destination mounts over the
 * whole rootfs.
 *
 * checkedModel reads each field the model defines once and returns a copy made of what
 * it read: a getter, a Proxy or a later change of the caller's object cannot give the
 * run a value other than the one checked, and the run never changes the caller's
 * object. Keys the model does not define (an embedder's own, for its plugins) are kept
 * as they were read, not copied deeper. Every refusal is a ConfigError naming the field
 * by its config.json path where it has one (`process.user.uid`, `mounts[2].destination`),
 * by its model name otherwise (`listenFds`, `mounts[0].flags`).
 */
import type { PidFileSpec } from '../pid-file';
import path = require('path');
import { CAPABILITY_SETS } from '../capabilities';
import { MAJOR_MAX, MINOR_MAX, MS_BIND, MS_REMOUNT } from '../constants';
import { ConfigError, thrownMessage } from '../errors';
import { cleanPath } from '../paths';
import { IOPRIO_CLASSES, IOPRIO_LEVEL_MAX, NICE_MAX, NICE_MIN, PERSONAS, RT_PRIORITY_MAX, SCHED_FLAGS, SCHED_POLICIES, namesOf } from '../process-attrs';
import { RLIMITS } from '../rlimits';
import type { CapabilityNames } from '../capabilities';
import type { CommandSpec, IdMapping } from '../syscalls/types';
import type {
  DeviceSpec,
  HookSpec,
  IoPriority,
  MountExtensions,
  MountIdmap,
  MountSpec,
  NamespaceSpec,
  PersonalitySpec,
  ProcessSpec,
  RecursiveAttrs,
  RlimitSpec,
  RootfsConfig,
  SchedulerSpec,
  SeccompArgSpec,
  SeccompSpec,
  SeccompSyscallSpec,
  TimeOffset,
} from './model';
import { UINT32_MAX, refuseOverPathMax } from './json';
import { PROPAGATION_OPTIONS } from './options';

/** Reads a value at `field` and returns what the copy holds (undefined: the key is left out). */
type Reader = (v: unknown, field: string) => unknown;

/** A reader for every field of the model's type `T`, optional ones included: a field added to the model and not checked here does not compile. */
type Fields<T> = { [K in keyof Required<T>]: Reader };

/** The largest descriptor number, an int. */
const FD_MAX = 0x7fffffff;
const UINT64_MAX = 0xffffffffffffffffn;
const NSEC_PER_SEC = 1_000_000_000;
/** CommandSpec.timeoutMs: setTimeout's largest delay, 2^31 - 1 ms. */
const TIMEOUT_MS_MAX = 0x7fffffff;

function fail(field: string, value: unknown, reason: string): never {
  throw new ConfigError(field, value, reason);
}

/** `v[key]`, read once; a getter or Proxy that throws is named by the field. */
function read(v: object, key: string, field: string): unknown {
  try {
    return (v as Record<string, unknown>)[key];
  } catch (err) {
    return fail(field, undefined, `cannot be read: ${thrownMessage(err)}`);
  }
}

/** The own enumerable keys of `v`; a Proxy whose ownKeys throws is named by the field. */
function ownKeys(v: object, field: string): string[] {
  try {
    return Object.keys(v);
  } catch (err) {
    return fail(field || 'config', undefined, `cannot be read: ${thrownMessage(err)}`);
  }
}

function isPlainData(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Sets `key` as an own data property, so that a key "__proto__" stays a key; any other key
 * is assigned, which V8 does without the defineProperty call that cost more than the rest
 * of the check on a config of 1000 mounts.
 */
function define(out: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  else out[key] = value;
}

/**
 * An object with the model's `fields`, each read once through its reader; its other own
 * keys are kept as read. A field a reader returns undefined for is left out.
 */
function shape<T>(fields: Fields<T>, names: Partial<Record<keyof T, string>> = {}): Reader {
  const keys = Object.keys(fields) as (keyof T & string)[];
  const readers = keys.map((key) => fields[key]);
  const shown = keys.map((key) => names[key] ?? key);
  // The model's own fields: "constructor", a key of Object.prototype, is an embedder's, and kept.
  const defined = new Set<string>(keys);
  // Indexed loops: a for-of with destructuring iterates each pair too, which V8's
  // interpreter, where a run reads the config once, does slowly.
  return (v, field) => {
    if (!isPlainData(v)) refuseType(v, field, 'an object');
    const out: Record<string, unknown> = {};
    const own = ownKeys(v, field);
    for (let i = 0; i < own.length; i++) if (!defined.has(own[i])) define(out, own[i], read(v, own[i], `${field}.${own[i]}`));
    const prefix = field ? `${field}.` : '';
    for (let i = 0; i < keys.length; i++) {
      const at = prefix + shown[i];
      const value = readers[i](read(v, keys[i], at), at);
      if (value !== undefined) define(out, keys[i], value);
    }
    return out;
  };
}

/** The top level: its fields' names have no prefix. */
function topShape<T>(fields: Fields<T>, names: Partial<Record<keyof T, string>>): (v: unknown) => unknown {
  const inner = shape<T>(fields, names);
  return (v) => {
    if (!isPlainData(v)) refuseType(v, 'config', 'a RootfsConfig object');
    return inner(v, '');
  };
}

function optional(reader: Reader): Reader {
  return (v, field) => (v === undefined ? undefined : reader(v, field));
}

/** An array of what `item` reads, every index given (a hole is refused). */
function arrayOf(item: Reader): Reader {
  return (v, field) => {
    if (!Array.isArray(v)) refuseType(v, field, 'an array');
    const out: unknown[] = [];
    const length = read(v, 'length', field) as number;
    for (let i = 0; i < length; i++) {
      const at = `${field}[${i}]`;
      if (!(i in v)) fail(at, undefined, 'is missing: an array must have no holes');
      out.push(item(read(v, String(i), at), at));
    }
    return out;
  };
}

/** A string without NUL bytes: the kernel reads C strings, so a NUL would silently cut it. */
const string: Reader = (v, field) => {
  if (typeof v !== 'string') refuseType(v, field, 'a string');
  if (v.includes('\0')) fail(field, v, 'must not contain a NUL byte');
  return v;
};

const nonEmptyString: Reader = (v, field) => {
  const s = string(v, field) as string;
  if (s === '') fail(field, s, 'must not be empty');
  return s;
};

const absolutePath: Reader = (v, field) => {
  const p = string(v, field) as string;
  if (!path.posix.isAbsolute(p)) fail(field, p, 'must be an absolute path');
  refuseOverPathMax(p, field);
  return p;
};

const boolean: Reader = (v, field) => {
  if (typeof v !== 'boolean') refuseType(v, field, 'a boolean');
  return v;
};

/** An integer from `min` to `max` as a number: NaN, a fraction or a bigint is refused, not converted. */
function integer(min: number, max: number): Reader {
  return (v, field) => {
    if (typeof v !== 'number') refuseType(v, field, 'a number');
    if (!Number.isInteger(v) || v < min || v > max) fail(field, v, `must be an integer from ${min} to ${max}`);
    return v;
  };
}

const uint32 = integer(0, UINT32_MAX);
const fd = integer(0, FD_MAX);

/** A bigint from 0 to 2^64 - 1: flags and 64-bit values are bigints in the model. */
const uint64: Reader = (v, field) => {
  if (typeof v !== 'bigint') refuseType(v, field, 'a bigint');
  if (v < 0n || v > UINT64_MAX) fail(field, v, 'must be from 0n to 2n ** 64n - 1n');
  return v;
};

function oneOf(allowed: readonly unknown[]): Reader {
  return (v, field) => {
    if (v === undefined) fail(field, undefined, 'is required');
    if (!allowed.includes(v)) fail(field, v, `must be one of ${allowed.map(show).join(', ')}`);
    return v;
  };
}

/** An object of strings (sysctls, annotations), its keys free of NUL bytes. */
const stringRecord: Reader = (v, field) => {
  if (!isPlainData(v)) refuseType(v, field, 'an object of strings');
  const out: Record<string, unknown> = {};
  for (const key of ownKeys(v, field)) {
    const at = `${field}[${JSON.stringify(key)}]`;
    if (key.includes('\0')) fail(field, key, 'keys must not contain a NUL byte');
    define(out, key, string(read(v, key, at), at));
  }
  return out;
};

function show(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v);
}

/** What a value of the wrong type is, for the message. */
function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Refuses a missing value as required, any other of the wrong type showing it and naming what it is (value first, as a Reader takes it; json.ts's wrongType takes the field first). */
function refuseType(v: unknown, field: string, want: string): never {
  return v === undefined ? fail(field, undefined, 'is required') : fail(field, v, `must be ${want}, not ${kindOf(v)}`);
}

/** A reader, then a check of what it read. */
function and(reader: Reader, check: (v: never, field: string) => void): Reader {
  return (v, field) => {
    const out = reader(v, field);
    check(out as never, field);
    return out;
  };
}

const stringArray = arrayOf(string);

/** process.env: NAME=VALUE with a name, as runc's init requires. */
const envEntry = and(string, (e: string, field) => {
  if (e.indexOf('=') <= 0) fail(field, e, 'must be NAME=VALUE, with a name');
});

const idMapping = shape<IdMapping>({ containerID: uint32, hostID: uint32, size: uint32 });
const idMappings = arrayOf(idMapping);

const commandSpec = shape<CommandSpec>({
  path: nonEmptyString,
  args: stringArray,
  env: optional(stringArray),
  dir: string,
  argv0: optional(string),
  stdin: optional(string),
  timeoutMs: optional(integer(1, TIMEOUT_MS_MAX)),
  via: optional(fd),
});

const mountSpec = and(
  shape<MountSpec>({
    // Set from the position below, as the loader sets it.
    index: () => undefined,
    type: string,
    source: string,
    // Resolved inside the rootfs: an empty one is the rootfs itself, which the loader refuses.
    destination: nonEmptyString,
    relativeDestination: optional(string),
    flags: uint64,
    clearedFlags: uint64,
    propagationFlags: arrayOf(uint64),
    recAttrs: optional(shape<RecursiveAttrs>({ attrSet: uint64, attrClr: uint64 })),
    data: string,
    extensions: shape<MountExtensions>({ tmpcopyup: boolean }),
    relabel: oneOf(['', 'z', 'Z']),
    idmap: optional(shape<MountIdmap>({ recursive: boolean, uidMappings: optional(idMappings), gidMappings: optional(idMappings) })),
    tree: optional(fd),
    premountCmds: arrayOf(commandSpec),
    postmountCmds: arrayOf(commandSpec),
  }),
  (m: { type: string; flags: bigint; source: string; destination: string; relativeDestination?: string; tree?: number; idmap?: MountIdmap }, field) => {
    // mount(2) without a type makes no new mount (ENODEV): only a bind or a remount may have none.
    if (m.type === '' && (m.flags & (MS_BIND | MS_REMOUNT)) === 0n) fail(`${field}.type`, undefined, 'must be set unless the flags hold MS_BIND or MS_REMOUNT');
    // The bind handler attaches a held copy as it was made: it neither maps nor remounts one first.
    if (m.tree !== undefined && m.type !== 'bind') fail(`${field}.tree`, m.tree, 'a held copy is attached by the bind handler alone (type "bind")');
    if (m.tree !== undefined && (m.idmap !== undefined || (m.flags & MS_REMOUNT) !== 0n)) fail(`${field}.tree`, m.tree, 'a held copy is attached as it is: not with idmap or MS_REMOUNT');
    const bind = m.type === 'bind' || (m.flags & MS_BIND) !== 0n;
    if (bind && !path.posix.isAbsolute(m.source)) fail(`${field}.source`, m.source, "a bind's source must be an absolute path (the loader resolves a relative one against the bundle directory)");
    // As the loader refuses them: paths no lookup takes.
    if (bind) refuseOverPathMax(m.source, `${field}.source`);
    // Counted as the loader counts it: a relative one taken from `/`.
    loaderDestination(m);
    refuseOverPathMax(m.destination, `${field}.destination`);
  },
);

/**
 * The copy's destination as the loader gives config.json's (oci.ts, parseMount): cleaned
 * (`/mnt//t/` is `/mnt/t`), a relative one taken from `/` (`../../etc` is `/etc`) and
 * kept as written in relativeDestination, which the run warns about. Plans, logs and
 * errors then show the path that is mounted, and every later comparison (`/dev`, `/proc`,
 * a mount over another) sees one spelling. An absolute destination leaves a
 * relativeDestination as given: the loader's own output is checked again unchanged.
 */
function loaderDestination(m: { destination: string; relativeDestination?: string }): void {
  const written = m.destination;
  m.destination = cleanPath(written);
  if (!written.startsWith('/')) m.relativeDestination = written;
}

/**
 * The mounts, each numbered by its position (MountSpec.index), which errors, warnings and
 * plans name it by: makeMount leaves every index 0, where the second mount's failure
 * was named mounts[0] and a plan showed it with the first one's destination.
 */
function positioned(reader: Reader): Reader {
  return (v, field) => {
    const mounts = reader(v, field) as Record<string, unknown>[];
    mounts.forEach((m, i) => define(m, 'index', i));
    return mounts;
  };
}

/** Cleaned, as the loader gives config.json's (`/dev/./fuse` is `/dev/fuse`), and under /dev. */
const devicePath: Reader = (v, field) => {
  const p = cleanPath(absolutePath(v, field) as string);
  if (!p.startsWith('/dev/')) fail(field, p, 'must be under /dev');
  return p;
};

const deviceSpec = shape<DeviceSpec>({
  type: oneOf(['c', 'b', 'u', 'p']),
  path: devicePath,
  major: integer(0, MAJOR_MAX),
  minor: integer(0, MINOR_MAX),
  fileMode: integer(0, 0o7777),
  uid: uint32,
  gid: uint32,
});

/** 0n (the default, rslave) or a propagation as parsePropagation gives it. */
const rootPropagation: Reader = (v, field) => {
  if (typeof v !== 'bigint') refuseType(v, field, 'a bigint');
  if (v !== 0n && ![...PROPAGATION_OPTIONS.values()].includes(v)) {
    fail(field, v, `must be 0n (the default) or the flags parsePropagation gives for one of ${[...PROPAGATION_OPTIONS.keys()].join(', ')}`);
  }
  return v;
};

const NAMESPACE_TYPES = ['mount', 'pid', 'uts', 'ipc', 'network', 'user', 'cgroup', 'time'];

const namespaces = and(arrayOf(shape<NamespaceSpec>({ type: oneOf(NAMESPACE_TYPES), path: optional(absolutePath) })), (list: { type: string }[], field) => {
  list.forEach((ns, i) => {
    if (list.findIndex((other) => other.type === ns.type) !== i) fail(`${field}[${i}].type`, ns.type, 'is listed more than once');
  });
});

const hookSpec = shape<HookSpec>({ path: absolutePath, args: stringArray, env: optional(stringArray), timeout: optional(integer(1, Number.MAX_SAFE_INTEGER)) });
const hooks = arrayOf(hookSpec);

const rlimit = and(shape<RlimitSpec>({ type: oneOf([...RLIMITS.keys()]), resource: integer(0, UINT32_MAX), soft: uint64, hard: uint64 }), (r: { type: string; resource: number; soft: bigint; hard: bigint }, field) => {
  if (r.resource !== RLIMITS.get(r.type)) fail(`${field}.resource`, r.resource, `must be ${RLIMITS.get(r.type)}, the number of ${r.type}`);
  if (r.soft > r.hard) fail(`${field}.soft`, r.soft, `must be at most hard (${r.hard})`);
});

const rlimits = and(arrayOf(rlimit), (list: { type: string }[], field) => {
  list.forEach((r, i) => {
    if (list.findIndex((other) => other.type === r.type) !== i) fail(`${field}[${i}].type`, r.type, 'is listed more than once');
  });
});

const capabilities = shape<CapabilityNames>(Object.fromEntries(CAPABILITY_SETS.map((set) => [set, stringArray])) as Fields<CapabilityNames>);

const scheduler = shape<SchedulerSpec>({
  policy: oneOf(namesOf(SCHED_POLICIES)),
  nice: integer(NICE_MIN, NICE_MAX),
  priority: integer(0, RT_PRIORITY_MAX),
  flags: arrayOf(oneOf(namesOf(SCHED_FLAGS))),
  runtime: uint64,
  deadline: uint64,
  period: uint64,
});

const processSpec = shape<ProcessSpec>(
  {
    args: stringArray,
    env: arrayOf(envEntry),
    cwd: absolutePath,
    uid: uint32,
    gid: uint32,
    additionalGids: optional(arrayOf(uint32)),
    // umask(2) keeps only the permission bits: the loader keeps those of what config.json gives.
    umask: optional(integer(0, 0o777)),
    noNewPrivileges: optional(boolean),
    capabilities: optional(capabilities),
    rlimits: optional(rlimits),
    oomScoreAdj: optional(integer(-1000, 1000)),
    apparmorProfile: optional(string),
    selinuxLabel: optional(string),
    terminal: boolean,
    scheduler: optional(scheduler),
    ioPriority: optional(shape<IoPriority>({ class: oneOf(namesOf(IOPRIO_CLASSES)), priority: integer(0, IOPRIO_LEVEL_MAX) })),
    consoleSize: optional(shape<NonNullable<ProcessSpec['consoleSize']>>({ height: integer(0, 0xffff), width: integer(0, 0xffff) })),
  },
  { uid: 'user.uid', gid: 'user.gid', additionalGids: 'user.additionalGids', umask: 'user.umask' },
);

const seccomp = shape<SeccompSpec>({
  defaultAction: string,
  defaultErrnoRet: optional(uint32),
  architectures: stringArray,
  flags: optional(stringArray),
  listenerPath: optional(string),
  listenerMetadata: optional(string),
  syscalls: arrayOf(
    shape<SeccompSyscallSpec>({
      names: stringArray,
      action: string,
      errnoRet: optional(uint32),
      args: arrayOf(shape<SeccompArgSpec>({ index: uint32, value: uint64, valueTwo: uint64, op: string })),
    }),
  ),
});

const OFFSET_CLOCKS = ['monotonic', 'boottime'];
const timeOffset = shape<TimeOffset>({ secs: integer(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), nanosecs: integer(0, NSEC_PER_SEC - 1) });
const timeOffsets = and(shape<NonNullable<RootfsConfig['timeOffsets']>>({ monotonic: optional(timeOffset), boottime: optional(timeOffset) }), (offsets: object, field) => {
  const other = Object.keys(offsets).find((clock) => !OFFSET_CLOCKS.includes(clock));
  if (other !== undefined) fail(field, other, `is not a clock a time namespace offsets; known: ${OFFSET_CLOCKS.join(', ')}`);
});

const annotations = and(stringRecord, (a: object, field) => {
  if (Object.keys(a).includes('')) fail(field, '', 'keys must not be empty');
});

const rootfsConfig = topShape<RootfsConfig>(
  {
    bundle: absolutePath,
    id: optional(string),
    rootfs: absolutePath,
    readonlyRootfs: boolean,
    mounts: positioned(arrayOf(mountSpec)),
    devices: arrayOf(deviceSpec),
    rootPropagation,
    noPivot: boolean,
    noNewKeyring: optional(boolean),
    listenFds: optional(fd),
    preserveFds: optional(fd),
    passedFdsAt: optional(fd),
    namespaces,
    maskedPaths: arrayOf(absolutePath),
    readonlyPaths: arrayOf(absolutePath),
    sysctls: stringRecord,
    mountLabel: string,
    process: processSpec,
    hooks: shape<RootfsConfig['hooks']>({
      prestart: hooks,
      createRuntime: hooks,
      createContainer: optional(hooks),
      startContainer: optional(hooks),
      poststart: optional(hooks),
      poststop: optional(hooks),
    }),
    hostname: string,
    domainname: optional(string),
    seccomp: optional(seccomp),
    newSession: optional(boolean),
    rootless: optional(boolean),
    consoleSocket: optional(nonEmptyString),
    notifySocket: optional(nonEmptyString),
    hostSockets: optional(shape<NonNullable<RootfsConfig['hostSockets']>>({ console: optional(fd), seccompAgent: optional(fd) })),
    runtimeChannel: optional(fd),
    execNotice: optional(fd),
    pidFile: optional(shape<PidFileSpec>({ path: absolutePath, dirFd: fd, pid: integer(1, 2 ** 22), mode: optional(integer(0, 0o7777)) })),
    pidFileByStarter: optional(boolean),
    idmapSocket: optional(fd),
    personality: optional(shape<PersonalitySpec>({ domain: oneOf(namesOf(PERSONAS)), flags: stringArray })),
    timeOffsets: optional(timeOffsets),
    annotations: optional(annotations),
    unappliedResources: optional(stringArray),
    uidMappings: optional(idMappings),
    gidMappings: optional(idMappings),
  },
  {
    rootfs: 'root.path',
    readonlyRootfs: 'root.readonly',
    devices: 'linux.devices',
    rootPropagation: 'linux.rootfsPropagation',
    namespaces: 'linux.namespaces',
    maskedPaths: 'linux.maskedPaths',
    readonlyPaths: 'linux.readonlyPaths',
    sysctls: 'linux.sysctl',
    mountLabel: 'linux.mountLabel',
    seccomp: 'linux.seccomp',
    personality: 'linux.personality',
    timeOffsets: 'linux.timeOffsets',
    uidMappings: 'linux.uidMappings',
    gidMappings: 'linux.gidMappings',
  },
);

/**
 * `given` checked as a RootfsConfig, as a copy of what was read (see the top of this
 * file); a ConfigError naming the first field that is wrong. The caller's object is
 * never changed.
 */
export function checkedModel(given: unknown): RootfsConfig {
  return rootfsConfig(given) as RootfsConfig;
}
