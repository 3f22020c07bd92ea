/**
 * The runtime-spec's Go types as runc 1.1.5 decodes config.json into them: every field
 * of specs-go's Spec, mountkit's or not, by its JSON name. runc decodes the whole file
 * with Go's encoding/json before anything else, and refuses it for a value of another
 * JSON type than its field's anywhere, in a section mountkit has no use for too
 * (`linux.resources`, `windows`): "json: cannot unmarshal string into Go struct field
 * LinuxMemory.linux.resources.memory.limit of type int64". The loader mirrors that with
 * this table (go-decode.ts).
 *
 * The types are those of the runtime-spec the installed runc is built with: Debian's runc
 * 1.1.5+ds1 takes golang-github-opencontainers-specs 1.0.2.118.g5cfc4c3 (`runc --version`
 * says spec 1.0.2-dev), which has domainname, zos, a mount's uidMappings and gidMappings,
 * linux.resources.cpu.burst and idle, memory.checkBeforeUpdate and intelRdt.enableCMT
 * and enableMBM; upstream runc 1.1.5's vendored copy (1c3f411) has none of them, and
 * ignores them. Fields of later runtime-specs (process.scheduler, linux.timeOffsets...)
 * are no field of runc 1.1.5's, which ignores any value there.
 *
 * Go's rules, as encoding/json applies them (checked with runc run on bundles):
 * - null is taken anywhere: it clears a pointer, slice, map or interface, and leaves any
 *   other value as it was;
 * - a string only into a string, a boolean only into a bool, an object into a struct or
 *   a map (each of its values into the map's type), an array into a slice;
 * - a number into an integer as strconv reads it in base 10 within the type's width:
 *   ParseInt for a signed one, ParseUint (no sign, `-0` too) for an unsigned one; a
 *   fraction or an exponent is refused (`1.0`, `1e2`): number-literals.ts reads those
 *   from the text. int and uint are 64 bits wide on the platforms runc builds for
 *   (amd64, arm64, ppc64le, s390x, riscv64);
 * - interface{} takes anything;
 * - a key names the field of its JSON name, or else the first one it matches in any
 *   case (key-case.ts, foldedKey); a key that names none is ignored.
 */
import { foldedKey } from './key-case';

/** Go's integer types in the runtime-spec; os.FileMode is a uint32. */
export type GoInteger = 'int' | 'int64' | 'uint' | 'uint64' | 'uint32' | 'uint16';

/** A field's Go type: a scalar, `any` (interface{}), a struct, a slice or a map with string keys. */
export type GoType = 'string' | 'bool' | GoInteger | 'any' | GoStruct | GoSlice | GoMap;

type Fields = Readonly<Record<string, GoType>>;

const NO_FIELDS: () => Fields = () => ({});

/**
 * A Go struct, its fields by JSON name in two groups, each made when first read
 * (uncheckedFields, checkedFields): those the loader's readers (oci.ts) check whole,
 * every value of theirs as strictly as Go (checked), and the others (unchecked), which
 * go-decode.ts checks. A load makes only the unchecked fields of the structs its config
 * gives, where it has any. A plain object: one made per struct at start-up.
 */
export interface GoStruct {
  readonly kind: 'struct';
  /** The type's Go name, as runc's error names it. */
  readonly name: string;
  readonly makeUnchecked: () => Fields;
  readonly makeChecked: () => Fields;
  unchecked: Fields | undefined;
  checked: Fields | undefined;
}

/** The fields of `struct` the loader's readers leave, which go-decode.ts checks. */
export function uncheckedFields(struct: GoStruct): Fields {
  return (struct.unchecked ??= struct.makeUnchecked());
}

/** The fields of `struct` the loader's readers check whole (oci.ts). */
export function checkedFields(struct: GoStruct): Fields {
  return (struct.checked ??= struct.makeChecked());
}

export interface GoSlice {
  kind: 'slice';
  item: GoType;
}

export interface GoMap {
  kind: 'map';
  value: GoType;
}

/** The values each integer type holds (strconv's bit sizes: int and uint are 64 bits). */
export const GO_INTEGER_RANGE: Readonly<Record<GoInteger, readonly [bigint, bigint]>> = {
  int: [-(2n ** 63n), 2n ** 63n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint: [0n, 2n ** 64n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  uint16: [0n, 2n ** 16n - 1n],
};

export function isGoInteger(type: GoType | undefined): type is GoInteger {
  return typeof type === 'string' && Object.hasOwn(GO_INTEGER_RANGE, type);
}

/** A struct of the `unchecked` fields and, for one mountkit reads, the `checked` ones (GoStruct). */
function struct(name: string, makeUnchecked: () => Fields, makeChecked = NO_FIELDS): GoStruct {
  return { kind: 'struct', name, makeUnchecked, makeChecked, unchecked: undefined, checked: undefined };
}

function slice(item: GoType): GoSlice {
  return { kind: 'slice', item };
}

function map(value: GoType): GoMap {
  return { kind: 'map', value };
}

const STRINGS = slice('string');

const ID_MAPPINGS = slice(struct('LinuxIDMapping', () => ({ containerID: 'uint32', hostID: 'uint32', size: 'uint32' })));

const HOOKS = slice(struct('Hook', () => ({ path: 'string', args: STRINGS, env: STRINGS, timeout: 'int' })));

const USER = struct(
  'User',
  () => ({ username: 'string' }),
  () => ({ uid: 'uint32', gid: 'uint32', umask: 'uint32', additionalGids: slice('uint32') }),
);

const PROCESS = struct(
  'Process',
  () => ({ user: USER, commandLine: 'string' }),
  () => ({
    terminal: 'bool',
    consoleSize: struct('Box', () => ({ height: 'uint', width: 'uint' })),
    args: STRINGS,
    env: STRINGS,
    cwd: 'string',
    capabilities: struct('LinuxCapabilities', () => ({ bounding: STRINGS, effective: STRINGS, inheritable: STRINGS, permitted: STRINGS, ambient: STRINGS })),
    rlimits: slice(struct('POSIXRlimit', () => ({ type: 'string', hard: 'uint64', soft: 'uint64' }))),
    noNewPrivileges: 'bool',
    apparmorProfile: 'string',
    oomScoreAdj: 'int',
    selinuxLabel: 'string',
  }),
);

/** LinuxBlockIODevice's major and minor, which LinuxWeightDevice and LinuxThrottleDevice embed: Go decodes them as their own fields. */
const BLOCK_IO_DEVICE = { major: 'int64', minor: 'int64' } as const;

const RESOURCES = struct('LinuxResources', () => {
  const throttleDevices = slice(struct('LinuxThrottleDevice', () => ({ ...BLOCK_IO_DEVICE, rate: 'uint64' })));
  return {
    devices: slice(struct('LinuxDeviceCgroup', () => ({ allow: 'bool', type: 'string', major: 'int64', minor: 'int64', access: 'string' }))),
    memory: struct('LinuxMemory', () => ({
      limit: 'int64',
      reservation: 'int64',
      swap: 'int64',
      kernel: 'int64',
      kernelTCP: 'int64',
      swappiness: 'uint64',
      disableOOMKiller: 'bool',
      useHierarchy: 'bool',
      checkBeforeUpdate: 'bool',
    })),
    cpu: struct('LinuxCPU', () => ({
      shares: 'uint64',
      quota: 'int64',
      burst: 'uint64',
      period: 'uint64',
      realtimeRuntime: 'int64',
      realtimePeriod: 'uint64',
      cpus: 'string',
      mems: 'string',
      idle: 'int64',
    })),
    pids: struct('LinuxPids', () => ({ limit: 'int64' })),
    blockIO: struct('LinuxBlockIO', () => ({
      weight: 'uint16',
      leafWeight: 'uint16',
      weightDevice: slice(struct('LinuxWeightDevice', () => ({ ...BLOCK_IO_DEVICE, weight: 'uint16', leafWeight: 'uint16' }))),
      throttleReadBpsDevice: throttleDevices,
      throttleWriteBpsDevice: throttleDevices,
      throttleReadIOPSDevice: throttleDevices,
      throttleWriteIOPSDevice: throttleDevices,
    })),
    hugepageLimits: slice(struct('LinuxHugepageLimit', () => ({ pageSize: 'string', limit: 'uint64' }))),
    network: struct('LinuxNetwork', () => ({ classID: 'uint32', priorities: slice(struct('LinuxInterfacePriority', () => ({ name: 'string', priority: 'uint32' }))) })),
    rdma: map(struct('LinuxRdma', () => ({ hcaHandles: 'uint32', hcaObjects: 'uint32' }))),
    unified: map('string'),
  };
});

const SECCOMP = struct('LinuxSeccomp', () => ({
  defaultAction: 'string',
  defaultErrnoRet: 'uint',
  architectures: STRINGS,
  flags: STRINGS,
  listenerPath: 'string',
  listenerMetadata: 'string',
  syscalls: slice(
    struct('LinuxSyscall', () => ({
      names: STRINGS,
      action: 'string',
      errnoRet: 'uint',
      args: slice(struct('LinuxSeccompArg', () => ({ index: 'uint', value: 'uint64', valueTwo: 'uint64', op: 'string' }))),
    })),
  ),
}));

const LINUX = struct(
  'Linux',
  () => ({
    resources: RESOURCES,
    cgroupsPath: 'string',
    intelRdt: struct('LinuxIntelRdt', () => ({ closID: 'string', l3CacheSchema: 'string', memBwSchema: 'string', enableCMT: 'bool', enableMBM: 'bool' })),
  }),
  () => ({
    uidMappings: ID_MAPPINGS,
    gidMappings: ID_MAPPINGS,
    sysctl: map('string'),
    namespaces: slice(struct('LinuxNamespace', () => ({ type: 'string', path: 'string' }))),
    devices: slice(struct('LinuxDevice', () => ({ path: 'string', type: 'string', major: 'int64', minor: 'int64', fileMode: 'uint32', uid: 'uint32', gid: 'uint32' }))),
    seccomp: SECCOMP,
    rootfsPropagation: 'string',
    maskedPaths: STRINGS,
    readonlyPaths: STRINGS,
    mountLabel: 'string',
    personality: struct('LinuxPersonality', () => ({ domain: 'string', flags: STRINGS })),
  }),
);

const SOLARIS = struct('Solaris', () => ({
  milestone: 'string',
  limitpriv: 'string',
  maxShmMemory: 'string',
  anet: slice(
    struct('SolarisAnet', () => ({
      linkname: 'string',
      lowerLink: 'string',
      allowedAddress: 'string',
      configureAllowedAddress: 'string',
      defrouter: 'string',
      linkProtection: 'string',
      macAddress: 'string',
    })),
  ),
  cappedCPU: struct('SolarisCappedCPU', () => ({ ncpus: 'string' })),
  cappedMemory: struct('SolarisCappedMemory', () => ({ physical: 'string', swap: 'string' })),
}));

const WINDOWS = struct('Windows', () => ({
  layerFolders: STRINGS,
  devices: slice(struct('WindowsDevice', () => ({ id: 'string', idType: 'string' }))),
  resources: struct('WindowsResources', () => ({
    memory: struct('WindowsMemoryResources', () => ({ limit: 'uint64' })),
    cpu: struct('WindowsCPUResources', () => ({ count: 'uint64', shares: 'uint16', maximum: 'uint16' })),
    storage: struct('WindowsStorageResources', () => ({ iops: 'uint64', bps: 'uint64', sandboxSize: 'uint64' })),
  })),
  credentialSpec: 'any',
  servicing: 'bool',
  ignoreFlushesDuringBoot: 'bool',
  hyperv: struct('WindowsHyperV', () => ({ utilityVMPath: 'string' })),
  network: struct('WindowsNetwork', () => ({
    endpointList: STRINGS,
    allowUnqualifiedDNSQuery: 'bool',
    DNSSearchList: STRINGS,
    networkSharedContainerName: 'string',
    networkNamespace: 'string',
  })),
}));

const VM = struct('VM', () => ({
  hypervisor: struct('VMHypervisor', () => ({ path: 'string', parameters: STRINGS })),
  kernel: struct('VMKernel', () => ({ path: 'string', parameters: STRINGS, initrd: 'string' })),
  image: struct('VMImage', () => ({ path: 'string', format: 'string' })),
}));

const ZOS = struct('ZOS', () => ({
  devices: slice(struct('ZOSDevice', () => ({ path: 'string', type: 'string', major: 'int64', minor: 'int64', fileMode: 'uint32', uid: 'uint32', gid: 'uint32' }))),
}));

/** Spec: config.json itself. */
export const GO_SPEC: GoStruct = struct(
  'Spec',
  () => ({ ociVersion: 'string', process: PROCESS, linux: LINUX, solaris: SOLARIS, windows: WINDOWS, vm: VM, zos: ZOS }),
  () => ({
    root: struct('Root', () => ({ path: 'string', readonly: 'bool' })),
    hostname: 'string',
    domainname: 'string',
    mounts: slice(struct('Mount', () => ({ destination: 'string', type: 'string', source: 'string', options: STRINGS, uidMappings: ID_MAPPINGS, gidMappings: ID_MAPPINGS }))),
    hooks: struct('Hooks', () => ({ prestart: HOOKS, createRuntime: HOOKS, createContainer: HOOKS, startContainer: HOOKS, poststart: HOOKS, poststop: HOOKS })),
    annotations: map('string'),
  }),
);

/** Each group of fields by their folded names, made when a key first matches none exactly. */
const FOLDED = new WeakMap<Fields, ReadonlyMap<string, GoType>>();

/**
 * The field `key` names among `fields`: its JSON name, or else one in another case (Go's
 * fallback, key-case.ts's foldedKey); undefined when none.
 */
export function fieldNamed(fields: Fields, key: string): GoType | undefined {
  if (Object.hasOwn(fields, key)) return fields[key];
  let folded = FOLDED.get(fields);
  if (folded === undefined) {
    folded = new Map(Object.keys(fields).map((name) => [foldedKey(name), fields[name]]));
    FOLDED.set(fields, folded);
  }
  return folded.get(foldedKey(key));
}

/**
 * The type of what `key` (a name, or an index) holds in a value of `type`, where the
 * loader's readers do not check it (a struct's unchecked fields, and all within them);
 * undefined elsewhere, and where Go decodes nothing (a key of no field, within a scalar).
 */
export function goWithin(type: GoType | undefined, key: string | number): GoType | undefined {
  if (type === undefined || typeof type === 'string') return undefined;
  if (type.kind === 'slice') return typeof key === 'number' ? type.item : undefined;
  if (typeof key === 'number') return undefined;
  return type.kind === 'map' ? type.value : fieldNamed(uncheckedFields(type), key);
}

/** Whether a value of `type` is or holds an integer field that the loader's readers do not check. */
export function holdsInteger(type: GoType | undefined): boolean {
  if (type === undefined || typeof type === 'string') return isGoInteger(type);
  if (type.kind === 'slice') return holdsInteger(type.item);
  if (type.kind === 'map') return holdsInteger(type.value);
  let holds = HOLDS_INTEGER.get(type);
  if (holds === undefined) {
    holds = Object.values(uncheckedFields(type)).some(holdsInteger);
    HOLDS_INTEGER.set(type, holds);
  }
  return holds;
}

const HOLDS_INTEGER = new WeakMap<GoStruct, boolean>();

/** Go's name of a type, as its errors write it (`[]LinuxIDMapping`, `map[string]string`). */
export function goTypeName(type: GoType): string {
  if (typeof type === 'string') return type === 'any' ? 'interface {}' : type;
  if (type.kind === 'struct') return type.name;
  return type.kind === 'slice' ? `[]${goTypeName(type.item)}` : `map[string]${goTypeName(type.value)}`;
}

/** What a value of `type` is, in words (`an integer from 0 to 65535`). */
export function goTypeWords(type: GoType): string {
  if (isGoInteger(type)) {
    const [min, max] = GO_INTEGER_RANGE[type];
    return `an integer from ${min} to ${max}`;
  }
  if (typeof type === 'string') return type === 'bool' ? 'a boolean' : type === 'string' ? 'a string' : 'anything';
  return type.kind === 'slice' ? 'an array' : 'an object';
}

/** The JSON type of a parsed value, in words; a value no JSON text gives (a function, in a spec built in code) as its JavaScript type. */
export function jsonTypeWords(value: unknown): string {
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number' || typeof value === 'bigint') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * Why Go's decoder refuses `value` (as JSON.parse made it, or a bigint for an integer
 * beyond the exact doubles) for a field of `type`, or undefined when it takes it. Only
 * the value itself is looked at, not what an array or object holds. A number is judged
 * by its value: the spellings Go refuses (`1.0`, `-0` for an unsigned type) are
 * number-literals.ts's, and a double beyond 2^53 stands for the integers it rounds, of
 * which the text's was checked there.
 */
export function goMismatch(value: unknown, type: GoType): 'type' | 'integer' | 'range' | undefined {
  if (value === null || value === undefined || type === 'any') return undefined;
  if (typeof type !== 'string') {
    if (typeof value !== 'object') return 'type';
    return Array.isArray(value) === (type.kind === 'slice') ? undefined : 'type';
  }
  if (type === 'string') return typeof value === 'string' ? undefined : 'type';
  if (type === 'bool') return typeof value === 'boolean' ? undefined : 'type';
  const [min, max] = GO_INTEGER_RANGE[type];
  if (typeof value === 'bigint') return value < min || value > max ? 'range' : undefined;
  if (typeof value !== 'number') return 'type';
  if (!Number.isInteger(value)) return 'integer';
  return value < Number(min) || value > Number(max) ? 'range' : undefined;
}
