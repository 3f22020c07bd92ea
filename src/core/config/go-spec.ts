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
 *
 * A type is written as Go writes it (`string`, `int64`, `[]LinuxIDMapping`,
 * `map[string]string`, a struct's name; `any` for interface{}), and each struct is a
 * line of STRUCTS: the loader looks a key up in its line's text, so that a load makes no
 * object per struct or field (config.json is read at every start, where a table of
 * objects would be made first: a few hundred microseconds for this one, cold).
 */
import { foldedKey } from './key-case';

/** Go's integer types in the runtime-spec; os.FileMode is a uint32. */
export type GoInteger = 'int' | 'int64' | 'uint' | 'uint64' | 'uint32' | 'uint16';

/** A Go type as Go writes it: a scalar, `any`, `[]T`, `map[string]T`, or the name of a struct of STRUCTS. */
export type GoType = string;

/** The values each integer type holds (strconv's bit sizes: int and uint are 64 bits). */
export const GO_INTEGER_RANGE: Readonly<Record<GoInteger, readonly [bigint, bigint]>> = {
  int: [-9223372036854775808n, 9223372036854775807n],
  int64: [-9223372036854775808n, 9223372036854775807n],
  uint: [0n, 18446744073709551615n],
  uint64: [0n, 18446744073709551615n],
  uint32: [0n, 4294967295n],
  uint16: [0n, 65535n],
};

export function isGoInteger(type: GoType | undefined): type is GoInteger {
  return type !== undefined && Object.hasOwn(GO_INTEGER_RANGE, type);
}

/** Whether `type` is a struct's name: no scalar, slice or map. */
export function isGoStruct(type: GoType): boolean {
  return type !== 'string' && type !== 'bool' && type !== 'any' && !type.startsWith('[]') && !type.startsWith('map[') && !isGoInteger(type);
}

/**
 * specs-go's structs, one a line as Go declares them: `Name: FIELDS | CHECKED`, each
 * field its JSON name and Go type; CHECKED are the fields the loader's readers (oci.ts)
 * check whole, every value of theirs as strictly as Go (in a struct mountkit reads, in
 * part or whole), FIELDS the others, which go-decode.ts checks. os.FileMode is written
 * uint32, interface{} any. LinuxWeightDevice and LinuxThrottleDevice embed
 * LinuxBlockIODevice, whose major and minor Go decodes as their own fields.
 */
const STRUCTS = `
Spec: ociVersion string, process Process, linux Linux, solaris Solaris, windows Windows, vm VM, zos ZOS | root Root, hostname string, domainname string, mounts []Mount, hooks Hooks, annotations map[string]string
Process: user User, commandLine string | terminal bool, consoleSize Box, args []string, env []string, cwd string, capabilities LinuxCapabilities, rlimits []POSIXRlimit, noNewPrivileges bool, apparmorProfile string, oomScoreAdj int, selinuxLabel string
Box: height uint, width uint
User: username string | uid uint32, gid uint32, umask uint32, additionalGids []uint32
LinuxCapabilities: bounding []string, effective []string, inheritable []string, permitted []string, ambient []string
POSIXRlimit: type string, hard uint64, soft uint64
Root: path string, readonly bool
Mount: destination string, type string, source string, options []string, uidMappings []LinuxIDMapping, gidMappings []LinuxIDMapping
Hook: path string, args []string, env []string, timeout int
Hooks: prestart []Hook, createRuntime []Hook, createContainer []Hook, startContainer []Hook, poststart []Hook, poststop []Hook
Linux: resources LinuxResources, cgroupsPath string, intelRdt LinuxIntelRdt | uidMappings []LinuxIDMapping, gidMappings []LinuxIDMapping, sysctl map[string]string, namespaces []LinuxNamespace, devices []LinuxDevice, seccomp LinuxSeccomp, rootfsPropagation string, maskedPaths []string, readonlyPaths []string, mountLabel string, personality LinuxPersonality
LinuxNamespace: type string, path string
LinuxIDMapping: containerID uint32, hostID uint32, size uint32
LinuxResources: devices []LinuxDeviceCgroup, memory LinuxMemory, cpu LinuxCPU, pids LinuxPids, blockIO LinuxBlockIO, hugepageLimits []LinuxHugepageLimit, network LinuxNetwork, rdma map[string]LinuxRdma, unified map[string]string
LinuxDeviceCgroup: allow bool, type string, major int64, minor int64, access string
LinuxMemory: limit int64, reservation int64, swap int64, kernel int64, kernelTCP int64, swappiness uint64, disableOOMKiller bool, useHierarchy bool, checkBeforeUpdate bool
LinuxCPU: shares uint64, quota int64, burst uint64, period uint64, realtimeRuntime int64, realtimePeriod uint64, cpus string, mems string, idle int64
LinuxPids: limit int64
LinuxBlockIO: weight uint16, leafWeight uint16, weightDevice []LinuxWeightDevice, throttleReadBpsDevice []LinuxThrottleDevice, throttleWriteBpsDevice []LinuxThrottleDevice, throttleReadIOPSDevice []LinuxThrottleDevice, throttleWriteIOPSDevice []LinuxThrottleDevice
LinuxWeightDevice: major int64, minor int64, weight uint16, leafWeight uint16
LinuxThrottleDevice: major int64, minor int64, rate uint64
LinuxHugepageLimit: pageSize string, limit uint64
LinuxNetwork: classID uint32, priorities []LinuxInterfacePriority
LinuxInterfacePriority: name string, priority uint32
LinuxRdma: hcaHandles uint32, hcaObjects uint32
LinuxDevice: path string, type string, major int64, minor int64, fileMode uint32, uid uint32, gid uint32
LinuxSeccomp: defaultAction string, defaultErrnoRet uint, architectures []string, flags []string, listenerPath string, listenerMetadata string, syscalls []LinuxSyscall
LinuxSyscall: names []string, action string, errnoRet uint, args []LinuxSeccompArg
LinuxSeccompArg: index uint, value uint64, valueTwo uint64, op string
LinuxIntelRdt: closID string, l3CacheSchema string, memBwSchema string, enableCMT bool, enableMBM bool
LinuxPersonality: domain string, flags []string
Solaris: milestone string, limitpriv string, maxShmMemory string, anet []SolarisAnet, cappedCPU SolarisCappedCPU, cappedMemory SolarisCappedMemory
SolarisAnet: linkname string, lowerLink string, allowedAddress string, configureAllowedAddress string, defrouter string, linkProtection string, macAddress string
SolarisCappedCPU: ncpus string
SolarisCappedMemory: physical string, swap string
Windows: layerFolders []string, devices []WindowsDevice, resources WindowsResources, credentialSpec any, servicing bool, ignoreFlushesDuringBoot bool, hyperv WindowsHyperV, network WindowsNetwork
WindowsDevice: id string, idType string
WindowsResources: memory WindowsMemoryResources, cpu WindowsCPUResources, storage WindowsStorageResources
WindowsMemoryResources: limit uint64
WindowsCPUResources: count uint64, shares uint16, maximum uint16
WindowsStorageResources: iops uint64, bps uint64, sandboxSize uint64
WindowsHyperV: utilityVMPath string
WindowsNetwork: endpointList []string, allowUnqualifiedDNSQuery bool, DNSSearchList []string, networkSharedContainerName string, networkNamespace string
VM: hypervisor VMHypervisor, kernel VMKernel, image VMImage
VMHypervisor: path string, parameters []string
VMKernel: path string, parameters []string, initrd string
VMImage: path string, format string
ZOS: devices []ZOSDevice
ZOSDevice: path string, type string, major int64, minor int64, fileMode uint32, uid uint32, gid uint32
`;

/** Spec: config.json itself. */
export const GO_SPEC: GoType = 'Spec';

/** A struct's two groups of fields, each as `, name Type, name Type, ` (structFields). */
export interface GoFields {
  unchecked: string;
  checked: string;
}

const FIELDS = new Map<string, GoFields>();

/** The fields of the struct named `name`, as its line of STRUCTS gives them. */
export function structFields(name: string): GoFields {
  let fields = FIELDS.get(name);
  if (fields === undefined) {
    const start = STRUCTS.indexOf(`\n${name}: `) + name.length + 3;
    const line = STRUCTS.slice(start, STRUCTS.indexOf('\n', start));
    const bar = line.indexOf(' | ');
    fields = bar < 0 ? { unchecked: `, ${line}, `, checked: ', ' } : { unchecked: `, ${line.slice(0, bar)}, `, checked: `, ${line.slice(bar + 3)}, ` };
    FIELDS.set(name, fields);
  }
  return fields;
}

/** Each group of fields in lower case, for a key matched in any case. */
const LOWERED = new Map<string, string>();

/**
 * The type of the field `key` names in `group` (a GoFields group): its JSON name, or
 * else, unless `exact`, one in another case (Go's fallback: foldedKey); undefined when
 * none. A key with a space names no field: a field's name has none.
 */
export function fieldType(group: string, key: string, exact = false): GoType | undefined {
  if (key.includes(' ')) return undefined;
  let at = group.indexOf(`, ${key} `);
  let length = key.length;
  if (at < 0 && !exact) {
    let lowered = LOWERED.get(group);
    if (lowered === undefined) LOWERED.set(group, (lowered = group.toLowerCase()));
    const folded = foldedKey(key);
    // Lowering the group keeps its length (ASCII), and a key can match only where each of its characters folds to one.
    at = lowered.indexOf(`, ${folded} `);
    length = folded.length;
  }
  if (at < 0) return undefined;
  const type = at + length + 3;
  return group.slice(type, group.indexOf(',', type));
}

/**
 * The type of what `key` (a name, or an index) holds in a value of `type`, where the
 * loader's readers do not check it (a struct's unchecked fields, and all within them);
 * undefined elsewhere, and where Go decodes nothing (a key of no field, within a scalar).
 */
export function goWithin(type: GoType | undefined, key: string | number): GoType | undefined {
  if (type === undefined || !isGoStruct(type)) {
    if (type?.startsWith('[]')) return typeof key === 'number' ? type.slice(2) : undefined;
    if (type?.startsWith('map[string]')) return typeof key === 'string' ? type.slice(11) : undefined;
    return undefined;
  }
  return typeof key === 'string' ? fieldType(structFields(type).unchecked, key) : undefined;
}

const HOLDS_INTEGER = new Map<string, boolean>();

/** Whether a value of `type` is or holds an integer field that the loader's readers do not check. */
export function holdsInteger(type: GoType | undefined): boolean {
  if (type === undefined) return false;
  if (type.startsWith('[]')) return holdsInteger(type.slice(2));
  if (type.startsWith('map[string]')) return holdsInteger(type.slice(11));
  if (!isGoStruct(type)) return isGoInteger(type);
  let holds = HOLDS_INTEGER.get(type);
  if (holds === undefined) {
    const { unchecked } = structFields(type);
    holds = unchecked.split(', ').some((field) => field !== '' && holdsInteger(field.slice(field.indexOf(' ') + 1)));
    HOLDS_INTEGER.set(type, holds);
  }
  return holds;
}

/** Go's name of a type, as its errors write it. */
export function goTypeName(type: GoType): string {
  return type === 'any' ? 'interface {}' : type;
}

/** What a value of `type` is, in words (`an integer from 0 to 65535`). */
export function goTypeWords(type: GoType): string {
  if (isGoInteger(type)) {
    const [min, max] = GO_INTEGER_RANGE[type];
    return `an integer from ${min} to ${max}`;
  }
  if (type === 'bool') return 'a boolean';
  if (type === 'string') return 'a string';
  if (type === 'any') return 'anything';
  return type.startsWith('[]') ? 'an array' : 'an object';
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
  if (type === 'string') return typeof value === 'string' ? undefined : 'type';
  if (type === 'bool') return typeof value === 'boolean' ? undefined : 'type';
  if (isGoInteger(type)) {
    const [min, max] = GO_INTEGER_RANGE[type];
    if (typeof value === 'bigint') return value < min || value > max ? 'range' : undefined;
    if (typeof value !== 'number') return 'type';
    if (!Number.isInteger(value)) return 'integer';
    return value < Number(min) || value > Number(max) ? 'range' : undefined;
  }
  if (typeof value !== 'object') return 'type';
  return Array.isArray(value) === type.startsWith('[]') ? undefined : 'type';
}
