/**
 * OCI runtime-spec config.json (1.0 and later) -> RootfsConfig.
 *
 * Every field mountkit reads is type-checked; a wrong value raises a ConfigError that
 * names it by its JSON path (`mounts[3].destination`, `linux.devices[0].type`).
 * Fields mountkit does not use are ignored. JSON null counts as absent, as it does
 * for runtimes that decode into pointers and slices.
 */
import { resolveIdmapTerms } from './idmap-option';
import { refuseGoTypeErrors } from './go-decode';
import { foldedKey, refuseOtherCase } from './key-case';
import { readIntegerLiterals, refuseMergedDuplicates } from './number-literals';
import fs = require('fs');
import path = require('path');
import { CAPABILITY_SETS, type CapabilityNames } from '../capabilities';
import { MAJOR_MAX, MINOR_MAX, MS_BIND, MS_REMOUNT } from '../constants';
import { RLIMITS, rlimitValue } from '../rlimits';
import { cleanPath } from '../paths';
import { hasLoneSurrogate, wellFormed } from '../names';
import { ConfigError, SyscallError } from '../errors';
import type {
  DeviceSpec,
  DeviceType,
  HookSpec,
  MountIdmap,
  MountSpec,
  NamespaceSpec,
  NamespaceType,
  OffsetClock,
  ProcessSpec,
  RlimitSpec,
  RootfsConfig,
  TimeOffset,
} from './model';
import type { IdMapping } from '../syscalls/types';
import { KIND_WORDS, kindFromMode } from '../syscalls/stat';
import {
  absolutePath,
  absolutePathArray,
  beyondExact,
  checkedStringArray,
  fail,
  isAbsent,
  isInteger,
  isNumber,
  isObject,
  list,
  object,
  parseErrorAt,
  oneOf,
  optionalBoolean,
  optionalObject,
  optionalString,
  optionalUnsigned,
  refuseOverPathMax,
  requiredString,
  stringArray,
  stringEntries,
  uint64,
  unsigned,
  UINT32_MAX,
  wrongType,
  type JsonObject,
} from './json';
import { parseSeccomp } from './seccomp';
import { IOPRIO_CLASSES, IOPRIO_LEVEL_MAX, NICE_MAX, NICE_MIN, PERSONAS, RT_PRIORITY_MAX, SCHED_FLAGS, SCHED_POLICIES, namesOf } from '../process-attrs';
import { PROPAGATION_OPTIONS, parseMountOptions, parsePropagation, type ParsedMountOptions } from './options';


const DEVICE_TYPES: readonly DeviceType[] = ['c', 'b', 'u', 'p'];
const NAMESPACE_TYPES: readonly NamespaceType[] = ['mount', 'pid', 'uts', 'ipc', 'network', 'user', 'cgroup', 'time'];
/** Permission, set-id and sticky bits plus the S_IFMT type bits a device mode may carry. */
const FILE_MODE_MAX = 0o177777;
const PERMISSION_BITS = 0o7777;
/** runc's default mode for a device node without fileMode. */
const DEFAULT_DEVICE_MODE = 0o666;

function parseRoot(v: unknown, bundle: string): { rootfs: string; readonly: boolean } {
  const root = optionalObject(v, 'root');
  const rootPath = requiredString(root?.path, 'root.path');
  if (rootPath === '') fail('root.path', undefined, 'is required');
  return { rootfs: path.resolve(bundle, rootPath), readonly: optionalBoolean(root?.readonly, 'root.readonly') };
}

/**
 * MS_BIND makes mount(2) ignore the filesystem type, so any mount whose options
 * hold bind or rbind is a bind mount whatever its `type` says. So does MS_REMOUNT, which
 * changes the mount at the destination: such an entry needs no `type` (runtime-spec
 * makes it optional; runc passes it on empty), and goes to the default handler.
 */
function parseMount(v: unknown, field: string, index: number, bundle: string, userMappings: Pick<RootfsConfig, 'uidMappings' | 'gidMappings'>): MountSpec {
  const m = object(v, field);
  // A string without a NUL byte is taken as it is, and a field is named (a string made)
  // only when its reader must say why it refuses it: a config may hold thousands of
  // mounts. The check is written out here: a small function called for each field of
  // each of them is one V8 soon compiles with TurboFan, work of milliseconds for code
  // run once.
  const { destination: d, type: t, source: src } = m;
  const written = typeof d === 'string' && !d.includes('\0') ? d : requiredString(d, `${field}.destination`);
  if (written === '') fail(`${field}.destination`, '', 'must not be empty');
  // `/run/` and `//run/./` both name `/run`: one spelling for every later comparison. A
  // relative one is taken from `/`, as runtime-spec 1.2 says for Linux (config.md,
  // "Mounts"): runc 1.1.5 takes it so, through its root, with a warning that it will stop
  // (specconv's createLibcontainerMount), and crun 1.8.1 takes it too.
  const destination = cleanPath(written);
  refuseOverPathMax(destination, `${field}.destination`);
  const declaredType = typeof t === 'string' && !t.includes('\0') ? t : optionalString(t, `${field}.type`, '');
  const source = typeof src === 'string' && !src.includes('\0') ? src : optionalString(src, `${field}.source`, '');
  const optionsField = `${field}.options`;
  const options = parseMountOptions(checkedStringArray(m.options, optionsField) ?? [], optionsField);
  const isBind = (options.flags & MS_BIND) !== 0n;
  // Without a type mount(2) makes no new mount (ENODEV): the config says so first.
  if (!isBind && declaredType === '' && (options.flags & MS_REMOUNT) === 0n) fail(`${field}.type`, undefined, 'must be set unless the options contain bind, rbind or remount');
  // "bind" is no filesystem type: mount(2) with it alone fails (ENODEV) under runc, and crun
  // refuses it. Only the bind or rbind option makes a bind, whose source is the bundle's.
  if (!isBind && declaredType === 'bind') fail(`${field}.type`, 'bind', 'makes no bind mount without the bind or rbind option');
  // A new bind needs a source. MS_REMOUNT|MS_BIND changes the mount already at the
  // destination, and the kernel reads no source for it (do_reconfigure_mnt): runc takes
  // an empty one as the bundle's directory, which it only stats, and so does bindSource.
  if (isBind && source === '' && (options.flags & MS_REMOUNT) === 0n) fail(`${field}.source`, undefined, 'must be set for a bind mount');
  // Only the bind handler relabels (its source); on another type the request would be lost.
  if (!isBind && options.relabel !== '') fail(optionsField, options.relabel, 'a SELinux relabel applies to bind mounts only');
  const idmap = parseMountIdmap(m, field, options, userMappings);
  const type = isBind ? 'bind' : declaredType;
  const mountSource = isBind ? bindSource(bundle, source) : source;
  if (isBind) refuseOverPathMax(mountSource, `${field}.source`);
  // One literal with every key in MountSpec's order: a literal with spreads (and the
  // object rest it took) adds keys one at a time, most of this function's time in a cold
  // process. A relative destination, recursive attributes or an idmap add keys, in that
  // same order.
  if (written.startsWith('/') && options.recAttrs === undefined && idmap === undefined) {
    return {
      index,
      type,
      source: mountSource,
      destination,
      flags: options.flags,
      clearedFlags: options.clearedFlags,
      propagationFlags: options.propagationFlags,
      data: options.data,
      extensions: options.extensions,
      relabel: options.relabel,
      premountCmds: [],
      postmountCmds: [],
    };
  }
  const spec: MountSpec = { index, type, source: mountSource, destination } as MountSpec;
  if (!written.startsWith('/')) spec.relativeDestination = written;
  spec.flags = options.flags;
  spec.clearedFlags = options.clearedFlags;
  spec.propagationFlags = options.propagationFlags;
  spec.data = options.data;
  spec.extensions = options.extensions;
  spec.relabel = options.relabel;
  if (options.recAttrs !== undefined) spec.recAttrs = options.recAttrs;
  if (idmap !== undefined) spec.idmap = idmap;
  spec.premountCmds = [];
  spec.postmountCmds = [];
  return spec;
}

/**
 * A bind's source as runc 1.1.5 gives it to mount(2) (specconv's createLibcontainerMount):
 * a relative one joined onto the bundle, which cleans it (Go's filepath.Join); an absolute
 * one as written, for the kernel to resolve: `..` after a symlink is the link target's
 * parent, not the link's (path_resolution(7)), and a trailing slash after a file that is
 * not a directory is ENOTDIR.
 */
function bindSource(bundle: string, source: string): string {
  return path.posix.isAbsolute(source) ? source : path.resolve(bundle, source);
}

/**
 * `config` with `mount`, written as config.json writes one, as its last mount, read as
 * the loader reads config.json's: what the CLI adds of its own (core/notify-socket.ts).
 */
export function withOciMount(config: RootfsConfig, mount: JsonObject): RootfsConfig {
  const index = config.mounts.length;
  return { ...config, mounts: [...config.mounts, parseMount(mount, `mounts[${index}]`, index, config.bundle, config)] };
}

/** One uid or gid mapping (config-linux.md, "User namespace mappings"): three uint32. */
function parseIdMapping(v: unknown, field: string): IdMapping {
  const m = object(v, field);
  return {
    containerID: unsigned(m.containerID, `${field}.containerID`, UINT32_MAX),
    hostID: unsigned(m.hostID, `${field}.hostID`, UINT32_MAX),
    size: unsigned(m.size, `${field}.size`, UINT32_MAX),
  };
}

/**
 * The idmapped bind a mount asks for: the idmap or ridmap option, or its own mappings
 * (which alone ask for idmap, as in runc), or crun's idmap=uids=...;gids=..., whose
 * mappings are taken as the mount's own (config/idmap-option.ts). Checked with the rest
 * of the config (validate.ts, validateIdmappedMounts).
 */
function parseMountIdmap(m: JsonObject, field: string, options: ParsedMountOptions, userMappings: Pick<RootfsConfig, 'uidMappings' | 'gidMappings'>): MountIdmap | undefined {
  let uid = isAbsent(m.uidMappings) ? undefined : list(m.uidMappings, `${field}.uidMappings`, parseIdMapping);
  let gid = isAbsent(m.gidMappings) ? undefined : list(m.gidMappings, `${field}.gidMappings`, parseIdMapping);
  const option = options.idmap?.option;
  if (option) {
    // crun takes the OCI mappings then and drops the option's; which one was meant is not known.
    if (uid || gid) fail(`${field}.options`, option.word, `gives mappings, and so does ${field}.${uid ? 'uid' : 'gid'}Mappings: give them once`);
    uid = resolveIdmapTerms(option.uid, userMappings.uidMappings, 'uid', option.word, `${field}.options`);
    gid = resolveIdmapTerms(option.gid, userMappings.gidMappings, 'gid', option.word, `${field}.options`);
  }
  if (!options.idmap && !uid && !gid) return undefined;
  return {
    recursive: options.idmap?.recursive ?? false,
    ...(uid ? { uidMappings: uid } : {}),
    ...(gid ? { gidMappings: gid } : {}),
  };
}

function devicePath(v: unknown, field: string): string {
  const p = cleanPath(absolutePath(v, field));
  if (!p.startsWith('/dev/')) fail(field, p, 'must be under /dev');
  return p;
}

function deviceNumber(v: unknown, field: string, type: DeviceType, max: number): number {
  if (type !== 'p' && isAbsent(v)) fail(field, undefined, `is required for a ${type} device`);
  return optionalUnsigned(v, field, max, 0);
}

/** A node's mode keeps its permission bits; the type comes from `type` (runc drops S_IFMT too). */
function deviceMode(v: unknown, field: string): number {
  return optionalUnsigned(v, field, FILE_MODE_MAX, DEFAULT_DEVICE_MODE) & PERMISSION_BITS;
}

function parseDevice(v: unknown, field: string): DeviceSpec {
  const d = object(v, field);
  const type = oneOf(d.type, `${field}.type`, DEVICE_TYPES);
  return {
    type,
    path: devicePath(d.path, `${field}.path`),
    major: deviceNumber(d.major, `${field}.major`, type, MAJOR_MAX),
    minor: deviceNumber(d.minor, `${field}.minor`, type, MINOR_MAX),
    fileMode: deviceMode(d.fileMode, `${field}.fileMode`),
    uid: optionalUnsigned(d.uid, `${field}.uid`, UINT32_MAX, 0),
    gid: optionalUnsigned(d.gid, `${field}.gid`, UINT32_MAX, 0),
  };
}

/** Empty or absent: 0n, which the prepare-root step reads as its default (MS_SLAVE|MS_REC). */
function parseRootPropagation(v: unknown): bigint {
  const field = 'linux.rootfsPropagation';
  const word = optionalString(v, field, '');
  if (word === '') return 0n;
  return parsePropagation(word) ?? fail(field, word, `must be one of ${[...PROPAGATION_OPTIONS.keys()].join(', ')}`);
}

function parseNamespace(v: unknown, field: string): NamespaceSpec {
  const ns = object(v, field);
  const type = oneOf(ns.type, `${field}.type`, NAMESPACE_TYPES);
  const nsPath = optionalString(ns.path, `${field}.path`, '');
  if (nsPath === '') return { type };
  if (!path.posix.isAbsolute(nsPath)) fail(`${field}.path`, nsPath, 'must be an absolute path');
  return { type, path: nsPath };
}

function parseNamespaces(v: unknown): NamespaceSpec[] {
  const namespaces = list(v, 'linux.namespaces', parseNamespace);
  namespaces.forEach((ns, i) => {
    if (namespaces.findIndex((other) => other.type === ns.type) !== i) {
      fail(`linux.namespaces[${i}].type`, ns.type, 'is listed more than once');
    }
  });
  return namespaces;
}

const OFFSET_CLOCKS: readonly OffsetClock[] = ['monotonic', 'boottime'];
/** Nanoseconds in a second: a time offset's nanosecs stays below it (time_namespaces(7)). */
const NSEC_PER_SEC = 1_000_000_000;

/** linux.timeOffsets { monotonic?, boottime? }: { secs, nanosecs } each. */
function parseTimeOffsets(v: unknown): Partial<RootfsConfig> {
  const offsets = optionalObject(v, 'linux.timeOffsets');
  if (!offsets) return {};
  const parsed: Partial<Record<OffsetClock, TimeOffset>> = {};
  for (const [clock, value] of Object.entries(offsets)) {
    const field = `linux.timeOffsets.${clock}`;
    if (!(OFFSET_CLOCKS as readonly string[]).includes(clock)) fail('linux.timeOffsets', clock, `is not a clock a time namespace offsets; known: ${OFFSET_CLOCKS.join(', ')}`);
    const o = object(value, field);
    const secs = o.secs ?? 0;
    if (!Number.isSafeInteger(secs)) fail(`${field}.secs`, secs, 'must be an integer of at most 2^53 - 1 either way');
    parsed[clock as OffsetClock] = { secs: secs as number, nanosecs: optionalUnsigned(o.nanosecs, `${field}.nanosecs`, NSEC_PER_SEC - 1, 0) };
  }
  return { timeOffsets: parsed };
}

function parseSysctls(v: unknown): Record<string, string> {
  const entries = stringEntries(v, 'linux.sysctl');
  for (const [key] of entries) if (key.includes('\0')) fail('linux.sysctl', key, 'keys must not contain a NUL byte');
  return Object.fromEntries(entries);
}

function parseDomainname(v: unknown): Partial<RootfsConfig> {
  const domainname = optionalString(v, 'domainname', '');
  return domainname ? { domainname } : {};
}

/**
 * The fields of linux.resources that set something (a value that is no empty object or
 * array), and linux.cgroupsPath when given: mountkit makes no cgroup, and `run` warns of
 * them. Their types are Go's to check (go-decode.ts). linux.resources.devices is left
 * out: `runc spec` writes a rule denying every device, which every such bundle has, and
 * README says what no device cgroup means.
 */
function parseUnappliedResources(linux: JsonObject | undefined): Partial<RootfsConfig> {
  if (!linux) return {};
  // Go's decoder takes a key in any case for these fields of runc's, as it does everywhere.
  const named = (o: JsonObject, field: string) => Object.keys(o).find((key) => foldedKey(key) === field.toLowerCase());
  const resourcesKey = named(linux, 'resources');
  const resources = resourcesKey !== undefined && isObject(linux[resourcesKey]) ? linux[resourcesKey] : {};
  const sets = (v: unknown) => (Array.isArray(v) ? v.length > 0 : isObject(v) ? Object.keys(v).length > 0 : !isAbsent(v));
  const fields = Object.keys(resources)
    .filter((key) => foldedKey(key) !== 'devices' && sets(resources[key]))
    .map((key) => `linux.${resourcesKey}.${key}`);
  const pathKey = named(linux, 'cgroupsPath');
  if (pathKey !== undefined && typeof linux[pathKey] === 'string' && linux[pathKey] !== '') fields.push(`linux.${pathKey}`);
  return fields.length > 0 ? { unappliedResources: fields } : {};
}

/** runtime-spec config.md, "Annotations": keys are non-empty strings, values strings. */
function parseAnnotations(v: unknown): Partial<RootfsConfig> {
  const entries = stringEntries(v, 'annotations');
  if (entries.some(([key]) => key === '')) fail('annotations', '', 'keys must not be empty');
  return entries.length > 0 ? { annotations: Object.fromEntries(entries) } : {};
}

function defaultProcess(): ProcessSpec {
  return { args: [], env: [], cwd: '/', uid: 0, gid: 0, terminal: false };
}

function parseArgs(v: unknown): string[] {
  const args = stringArray(v, 'process.args') ?? fail('process.args', undefined, 'is required');
  if (args.length === 0) fail('process.args', undefined, 'must not be empty');
  return args;
}

/**
 * process.capabilities: each set a list of names (CAP_CHOWN...), a missing one empty.
 * Names are checked against the kernel at run time. Left out, every set is empty, as
 * runc 1.0 to 1.2 give such a process none; runc 1.3 leaves it runc's own, every
 * capability (a config built in code without them keeps mountkit's, ProcessSpec).
 */
function parseCapabilities(v: unknown): CapabilityNames {
  const caps = optionalObject(v, 'process.capabilities') ?? {};
  return Object.fromEntries(CAPABILITY_SETS.map((set) => [set, stringArray(caps[set], `process.capabilities.${set}`) ?? []])) as CapabilityNames;
}

/** process.oomScoreAdj: an integer from OOM_SCORE_ADJ_MIN to OOM_SCORE_ADJ_MAX (include/uapi/linux/oom.h); the kernel refuses others (EINVAL). */
function oomScoreAdj(v: unknown): number {
  const field = 'process.oomScoreAdj';
  if (!isNumber(v)) wrongType(field, v, 'a number');
  if (!isInteger(v) || v < -1000 || v > 1000) fail(field, v, 'must be an integer from -1000 to 1000');
  return Number(v);
}

/** A limit, RLIM_INFINITY (18446744073709551615) for none: a uint64 as config.json writes it (uint64), or a number as a spec built in code gives it (rlimitValue). */
function rlimitNumber(v: unknown, field: string): bigint {
  if (typeof v === 'bigint') return uint64(v, field);
  if (typeof v !== 'number') wrongType(field, v, 'a number');
  if (!Number.isInteger(v) || v < 0) fail(field, v, 'must be a non-negative integer');
  return rlimitValue(v) ?? fail(field, undefined, `${beyondExact(v)}: must be at most ${Number.MAX_SAFE_INTEGER}, or 18446744073709551615 for no limit`);
}

/** process.rlimits: known types, each once, soft at most hard (setrlimit(2) refuses it, EINVAL). */
function parseRlimits(v: unknown): RlimitSpec[] {
  const rlimits = list(v, 'process.rlimits', (r, field): RlimitSpec => {
    const o = object(r, field);
    const type = oneOf(o.type, `${field}.type`, [...RLIMITS.keys()]);
    const hard = rlimitNumber(o.hard, `${field}.hard`);
    const soft = rlimitNumber(o.soft, `${field}.soft`);
    if (soft > hard) fail(`${field}.soft`, o.soft, `must be at most hard (${String(o.hard)})`);
    return { type, resource: RLIMITS.get(type)!, soft, hard };
  });
  rlimits.forEach((r, i) => {
    if (rlimits.findIndex((other) => other.type === r.type) !== i) fail(`process.rlimits[${i}].type`, r.type, 'is listed more than once');
  });
  return rlimits;
}

/** process.ioPriority { class, priority }: the level 0 to 7 (IOPRIO_NR_LEVELS, include/uapi/linux/ioprio.h). */
function ioPriority(v: unknown): Partial<ProcessSpec> {
  const p = optionalObject(v, 'process.ioPriority');
  if (!p) return {};
  const cls = oneOf(p.class, 'process.ioPriority.class', namesOf(IOPRIO_CLASSES));
  return { ioPriority: { class: cls, priority: optionalUnsigned(p.priority, 'process.ioPriority.priority', IOPRIO_LEVEL_MAX, 0) } };
}

/**
 * process.scheduler, checked as runc checks it and as sched_setattr(2) would answer: a
 * policy is required; nice from -20 to 19 (runc checks it for SCHED_OTHER and
 * SCHED_BATCH only, which use it); a priority for SCHED_FIFO and SCHED_RR only, and from
 * 1 to 99 there (runc leaves 0 to the kernel's EINVAL); runtime, deadline and period
 * for SCHED_DEADLINE only.
 */
function scheduler(v: unknown): Partial<ProcessSpec> {
  const s = optionalObject(v, 'process.scheduler');
  if (!s) return {};
  const field = 'process.scheduler';
  if (isAbsent(s.policy)) fail(`${field}.policy`, undefined, 'is required');
  const policy = oneOf(s.policy, `${field}.policy`, namesOf(SCHED_POLICIES));
  const nice = isAbsent(s.nice) ? 0 : s.nice;
  if (!Number.isInteger(nice) || (nice as number) < NICE_MIN || (nice as number) > NICE_MAX) fail(`${field}.nice`, nice, `must be an integer from ${NICE_MIN} to ${NICE_MAX}`);
  const priority = optionalUnsigned(s.priority, `${field}.priority`, RT_PRIORITY_MAX, 0);
  const realTime = policy === 'SCHED_FIFO' || policy === 'SCHED_RR';
  if (priority !== 0 && !realTime) fail(`${field}.priority`, priority, 'is for SCHED_FIFO and SCHED_RR only');
  if (priority === 0 && realTime) fail(`${field}.priority`, priority, `must be from 1 to ${RT_PRIORITY_MAX} for ${policy}`);
  const flags = list(s.flags, `${field}.flags`, (f, at) => oneOf(f, at, namesOf(SCHED_FLAGS)));
  const deadline = (name: 'runtime' | 'deadline' | 'period'): bigint => (isAbsent(s[name]) ? 0n : uint64(s[name], `${field}.${name}`));
  const [runtime, dl, period] = [deadline('runtime'), deadline('deadline'), deadline('period')];
  if (policy !== 'SCHED_DEADLINE' && (runtime || dl || period)) fail(field, policy, 'runtime, deadline and period are for SCHED_DEADLINE only');
  return { scheduler: { policy, nice: nice as number, priority, flags, runtime, deadline: dl, period } };
}

/** linux.personality { domain, flags }. */
function parsePersonality(v: unknown): Partial<RootfsConfig> {
  const p = optionalObject(v, 'linux.personality');
  if (!p) return {};
  const domain = oneOf(p.domain, 'linux.personality.domain', namesOf(PERSONAS));
  return { personality: { domain, flags: stringArray(p.flags, 'linux.personality.flags') ?? [] } };
}

/** process.consoleSize { height, width }, in rows and columns (struct winsize's unsigned shorts). */
function consoleSize(v: unknown): Partial<ProcessSpec> {
  const size = optionalObject(v, 'process.consoleSize');
  if (!size) return {};
  return { consoleSize: { height: unsigned(size.height, 'process.consoleSize.height', 0xffff), width: unsigned(size.width, 'process.consoleSize.width', 0xffff) } };
}

/** An LSM label of the process; an empty one is none, as runc reads it. */
function lsmLabel(key: 'apparmorProfile' | 'selinuxLabel', v: unknown): Partial<ProcessSpec> {
  const label = optionalString(v, `process.${key}`, '');
  return label ? { [key]: label } : {};
}

function parseProcess(v: unknown): ProcessSpec {
  const p = optionalObject(v, 'process');
  if (!p) return defaultProcess();
  const args = parseArgs(p.args);
  const env = stringArray(p.env, 'process.env') ?? [];
  // NAME=VALUE with a name (the runtime-spec's form): runc's init refuses any other entry.
  const badEnv = env.findIndex((e) => e.indexOf('=') <= 0);
  if (badEnv !== -1) fail(`process.env[${badEnv}]`, env[badEnv], 'must be NAME=VALUE, with a name');
  // Required, as the runtime-spec has it and runc refuses a config without it.
  const cwd = absolutePath(p.cwd, 'process.cwd');
  const user = optionalObject(p.user, 'process.user');
  return {
    args,
    env,
    cwd,
    uid: optionalUnsigned(user?.uid, 'process.user.uid', UINT32_MAX, 0),
    gid: optionalUnsigned(user?.gid, 'process.user.gid', UINT32_MAX, 0),
    ...(isAbsent(user?.additionalGids) ? {} : { additionalGids: list(user?.additionalGids, 'process.user.additionalGids', (g, field) => unsigned(g, field, UINT32_MAX)) }),
    // umask(2) keeps the permission bits of its argument (mask & 0777), so any uint32 is taken, as runc takes it.
    ...(isAbsent(user?.umask) ? {} : { umask: unsigned(user?.umask, 'process.user.umask', UINT32_MAX) & 0o777 }),
    ...(isAbsent(p.noNewPrivileges) ? {} : { noNewPrivileges: optionalBoolean(p.noNewPrivileges, 'process.noNewPrivileges') }),
    capabilities: parseCapabilities(p.capabilities),
    ...(isAbsent(p.rlimits) ? {} : { rlimits: parseRlimits(p.rlimits) }),
    ...(isAbsent(p.oomScoreAdj) ? {} : { oomScoreAdj: oomScoreAdj(p.oomScoreAdj) }),
    ...lsmLabel('apparmorProfile', p.apparmorProfile),
    ...lsmLabel('selinuxLabel', p.selinuxLabel),
    ...consoleSize(p.consoleSize),
    ...ioPriority(p.ioPriority),
    ...scheduler(p.scheduler),
    terminal: optionalBoolean(p.terminal, 'process.terminal'),
  };
}

function parseHook(v: unknown, field: string): HookSpec {
  const h = object(v, field);
  const env = stringArray(h.env, `${field}.env`);
  const hook: HookSpec = {
    path: absolutePath(h.path, `${field}.path`),
    args: stringArray(h.args, `${field}.args`) ?? [],
    ...(env === undefined ? {} : { env }),
  };
  if (isAbsent(h.timeout)) return hook;
  const timeout = unsigned(h.timeout, `${field}.timeout`, Number.MAX_SAFE_INTEGER);
  if (timeout === 0) fail(`${field}.timeout`, timeout, 'must be greater than zero');
  return { ...hook, timeout };
}

function parseHooks(v: unknown): RootfsConfig['hooks'] {
  const hooks = optionalObject(v, 'hooks');
  return {
    prestart: list(hooks?.prestart, 'hooks.prestart', parseHook),
    createRuntime: list(hooks?.createRuntime, 'hooks.createRuntime', parseHook),
    createContainer: list(hooks?.createContainer, 'hooks.createContainer', parseHook),
    startContainer: list(hooks?.startContainer, 'hooks.startContainer', parseHook),
    poststart: list(hooks?.poststart, 'hooks.poststart', parseHook),
    poststop: list(hooks?.poststop, 'hooks.poststop', parseHook),
  };
}

/**
 * Converts a parsed config.json. `bundleDir` anchors a relative root.path, relative
 * bind sources and a relative seccomp listenerPath. noPivot is not part of config.json:
 * it is false here and set by the CLI.
 */
export function fromOciSpec(parsed: unknown, bundleDir: string): RootfsConfig {
  return fromParsed(parsed, bundleDir);
}

/** A JSON escape of a UTF-16 surrogate, U+D800 to U+DFFF (or an escaped backslash and such text after it: a walk then finds none). */
const SURROGATE_ESCAPE = /\\u[dD][89abcdefABCDEF]/;

/**
 * Whether `text` holds no lone surrogate (hasLoneSurrogate, negated): String.prototype.
 * isWellFormed (ES2024, in Node 20), answered at once for a string of one-byte
 * characters, as V8 holds an ASCII config.json, where a regular expression reads it all
 * (0.1 ms for a config of 1000 mounts in a cold process).
 */
function isWellFormed(text: string): boolean {
  return (text as string & { isWellFormed(): boolean }).isWellFormed();
}

/** fromOciSpec of what JSON.parse made of config.json's `text`, when there is one. */
function fromParsed(parsed: unknown, bundleDir: string, text?: string): RootfsConfig {
  // First: a key of another case than a field's, or nesting runc refuses (key-case.ts).
  const containers = refuseOtherCase(parsed);
  // An object the text gives twice, which runc merges and JSON.parse kept the last of (number-literals.ts).
  if (text !== undefined) refuseMergedDuplicates(text, parsed, containers);
  // JSON text read from a file holds a lone surrogate only as an escape, \uD800 to \uDFFF:
  // UTF-8 that is not well formed decodes to U+FFFD. A text given to loadBundle may hold one itself.
  const spec = text !== undefined && !SURROGATE_ESCAPE.test(text) && isWellFormed(text) ? parsed : wellFormedJson(parsed);
  if (!isObject(spec)) wrongType('config.json', spec, 'a JSON object');
  const config = convertSpec(spec, bundleDir);
  // Then what runc's Go decoder refuses in what the readers leave: fields mountkit does not use (go-decode.ts).
  refuseGoTypeErrors(spec);
  return config;
}

function convertSpec(spec: JsonObject, bundleDir: string): RootfsConfig {
  const bundle = path.resolve(bundleDir);
  const root = parseRoot(spec.root, bundle);
  const linux = optionalObject(spec.linux, 'linux');
  const seccomp = parseSeccomp(linux?.seccomp, bundle);
  // Before the mounts: a relative idmap= mapping of crun's counts from them.
  const userMappings = parseUserNamespaceMappings(linux);
  return {
    bundle,
    rootfs: root.rootfs,
    readonlyRootfs: root.readonly,
    mounts: list(spec.mounts, 'mounts', (m, field, i) => parseMount(m, field, i, bundle, userMappings)),
    devices: list(linux?.devices, 'linux.devices', parseDevice),
    rootPropagation: parseRootPropagation(linux?.rootfsPropagation),
    noPivot: false,
    namespaces: parseNamespaces(linux?.namespaces),
    maskedPaths: absolutePathArray(linux?.maskedPaths, 'linux.maskedPaths'),
    readonlyPaths: absolutePathArray(linux?.readonlyPaths, 'linux.readonlyPaths'),
    sysctls: parseSysctls(linux?.sysctl),
    mountLabel: optionalString(linux?.mountLabel, 'linux.mountLabel', ''),
    process: parseProcess(spec.process),
    hooks: parseHooks(spec.hooks),
    hostname: optionalString(spec.hostname, 'hostname', ''),
    ...parseDomainname(spec.domainname),
    ...(seccomp ? { seccomp } : {}),
    ...parseAnnotations(spec.annotations),
    ...parseUnappliedResources(linux),
    ...parseTimeOffsets(linux?.timeOffsets),
    ...parsePersonality(linux?.personality),
    ...userMappings,
  };
}

/**
 * `value` with a lone surrogate in any string or key (JSON text may escape one, `"\\ud800"`)
 * made U+FFFD, as Go's encoding/json reads runc's config.json. Only names decoded from the
 * kernel then carry the lone surrogates U+DC80-U+DCFF, which stand for bytes (core/names.ts).
 * The value itself when it has none (no copy); otherwise a copy, the caller's left as it
 * is. Both walks keep a stack of their own: no nesting overflows the call stack.
 */
function wellFormedJson(value: unknown): unknown {
  if (!holdsLoneSurrogate(value)) return value;
  const fixed = (v: unknown): unknown => (typeof v === 'string' ? wellFormed(v) : Array.isArray(v) ? [...v] : isObject(v) ? { ...v } : v);
  const top = fixed(value);
  const todo = [top];
  while (todo.length > 0) {
    const node = todo.pop();
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) todo.push((node[i] = fixed(node[i])));
    } else if (isObject(node)) {
      const entries = Object.entries(node);
      for (const [key] of entries) delete node[key];
      // Defined, not assigned: a "__proto__" key stays a key, as JSON.parse made it, not the object's prototype.
      for (const [key, v] of entries) {
        const item = fixed(v);
        Object.defineProperty(node, wellFormed(key), { value: item, enumerable: true, writable: true, configurable: true });
        todo.push(item);
      }
    }
  }
  return top;
}

/** Whether a string or key anywhere in `value` holds a lone surrogate. */
function holdsLoneSurrogate(value: unknown): boolean {
  const todo = [value];
  while (todo.length > 0) {
    const v = todo.pop();
    if (typeof v === 'string' && hasLoneSurrogate(v)) return true;
    const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : [];
    if (isObject(v) && Object.keys(v).some(hasLoneSurrogate)) return true;
    for (const item of items) todo.push(item);
  }
  return false;
}

/** linux.uidMappings and linux.gidMappings, each kept when given (checked in validate.ts, validateUserNamespace). */
function parseUserNamespaceMappings(linux: JsonObject | undefined): Pick<RootfsConfig, 'uidMappings' | 'gidMappings'> {
  const uid = isAbsent(linux?.uidMappings) ? undefined : list(linux?.uidMappings, 'linux.uidMappings', parseIdMapping);
  const gid = isAbsent(linux?.gidMappings) ? undefined : list(linux?.gidMappings, 'linux.gidMappings', parseIdMapping);
  return { ...(uid ? { uidMappings: uid } : {}), ...(gid ? { gidMappings: gid } : {}) };
}

/** The largest config.json read: a config of thousands of mounts is a few megabytes. */
export const CONFIG_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The text of config.json: a regular file of at most CONFIG_MAX_BYTES, or a FIFO (a
 * shell's process substitution), waited for and read as runc reads it, up to as much.
 * Anything else is refused on its descriptor (fstat(2)) before a read: a device (a link
 * to /dev/zero) would be read without end.
 */
function readConfigText(file: string): string {
  const unreadable = (err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    // No descriptor left (RLIMIT_NOFILE, or the system's table) is no fault of the config: the call and its errno, exit 1.
    if ((e.code === 'EMFILE' || e.code === 'ENFILE') && typeof e.errno === 'number') throw new SyscallError(e.syscall ?? 'open', Math.abs(e.errno), [file]);
    return fail('config.json', file, `cannot be read (${e.code ?? String(err)})`);
  };
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    return unreadable(err);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile() && !st.isFIFO()) fail('config.json', file, `is ${fileKind(st)}, not a regular file or a FIFO`);
    const tooLarge = (size: number) => fail('config.json', file, `is ${size} bytes or more, more than the ${CONFIG_MAX_BYTES} mountkit reads`);
    if (st.size > CONFIG_MAX_BYTES) tooLarge(st.size);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(64 * 1024);
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      total += n;
      if (total > CONFIG_MAX_BYTES) tooLarge(total);
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return unreadable(err);
  } finally {
    fs.closeSync(fd);
  }
}

/** A file's kind (kindFromMode, st_mode's type) in words. */
function fileKind(st: fs.Stats): string {
  const kind = kindFromMode(st.mode);
  return kind === undefined ? 'a file of no known kind' : KIND_WORDS[kind];
}

function parseConfigText(text: string, file: string): unknown {
  if (text.trim() === '') fail('config.json', file, 'is empty');
  // RFC 8259 lets a parser refuse it; JSON.parse and runc's Go do.
  if (text.charCodeAt(0) === 0xfeff) fail('config.json', file, 'starts with a byte order mark (U+FEFF), which JSON does not take: save it as UTF-8 without one');
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (err) {
    return fail('config.json', file, `is not valid JSON${parseErrorAt(text, (err as Error).message)}`);
  }
  readIntegerLiterals(text, spec);
  return spec;
}

/**
 * The bundle directory without symbolic links on its way: a relative root.path is
 * anchored there, and root.path may then pass through no link (validateRootfs). runc
 * anchors it in its working directory after changing into the bundle, which is that path
 * too unless $PWD names the same directory through a link (Go's os.Getwd), and then
 * refuses the root. A directory that cannot be resolved is taken as given; reading
 * config.json names it.
 */
function physicalDir(dir: string): string {
  try {
    return fs.realpathSync.native(dir);
  } catch {
    return path.resolve(dir);
  }
}

/** The text of `<bundleDir>/config.json`; a ConfigError naming it when it cannot be read. */
export function bundleConfigText(bundleDir: string): string {
  return readConfigText(path.join(path.resolve(bundleDir), 'config.json'));
}

/**
 * Reads and converts `<bundleDir>/config.json` (synchronously: see README.md, "Namespaces:
 * how a multi-threaded Node enters them"),
 * or its `text` read before (bundleConfigText).
 */
export function loadBundle(bundleDir: string, text?: string): RootfsConfig {
  const bundle = physicalDir(bundleDir);
  const file = path.join(bundle, 'config.json');
  const configText = text ?? readConfigText(file);
  return fromParsed(parseConfigText(configText, file), bundle, configText);
}
