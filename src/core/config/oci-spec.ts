/**
 * The type of the OCI runtime-spec config.json as fromOciSpec reads it, for a spec built
 * in code (`fromOciSpec(spec satisfies OciSpec, bundleDir)`): the objects and fields of
 * SPEC_SHAPE (spec-fields.ts), each typed as the loader checks it. A type only: the loader
 * checks the value it is given whatever its type, as it checks config.json.
 *
 * Loose where runc is: every object takes fields mountkit does not read (runc's Go decoder
 * ignores the keys its types do not name, and the loader checks those it names against
 * them), an optional field may be null (Go's decoder leaves the field as if absent), and
 * a uint64 may be a bigint as the loader gives one beyond 2^53 - 1. Names the kernel or
 * the loader checks (a namespace type, a capability, an rlimit type, a seccomp action)
 * are strings here. Required: the fields the loader refuses a spec without.
 */

/** The fields of `T`, each optional and nullable, and any other key. */
type Fields<T> = { [K in keyof T]?: T[K] | null } & { [key: string]: unknown };

/** A uint64: a number, or a bigint beyond Number.MAX_SAFE_INTEGER (18446744073709551615 at most). */
export type OciUint64 = number | bigint;

/** LinuxIDMapping: linux.uidMappings and gidMappings, and a mount's own. */
export type OciIdMapping = { containerID: number; hostID: number; size: number } & { [key: string]: unknown };

export type OciHook = { path: string } & Fields<{ args: string[]; env: string[]; timeout: number }>;

export type OciHooks = Fields<Record<'prestart' | 'createRuntime' | 'createContainer' | 'startContainer' | 'poststart' | 'poststop', OciHook[]>>;

export type OciMount = { destination: string } & Fields<{ type: string; source: string; options: string[]; uidMappings: OciIdMapping[]; gidMappings: OciIdMapping[] }>;

export type OciProcess = { args: string[]; cwd: string } & Fields<{
  terminal: boolean;
  consoleSize: { height: number; width: number } & { [key: string]: unknown };
  env: string[];
  user: Fields<{ uid: number; gid: number; umask: number; additionalGids: number[] }>;
  capabilities: Fields<Record<'bounding' | 'effective' | 'inheritable' | 'permitted' | 'ambient', string[]>>;
  rlimits: ({ type: string; hard: OciUint64; soft: OciUint64 } & { [key: string]: unknown })[];
  noNewPrivileges: boolean;
  apparmorProfile: string;
  selinuxLabel: string;
  oomScoreAdj: number;
  scheduler: { policy: string } & Fields<{ nice: number; priority: number; flags: string[]; runtime: OciUint64; deadline: OciUint64; period: OciUint64 }>;
  ioPriority: { class: string } & Fields<{ priority: number }>;
}>;

export type OciSeccompArg = { index: OciUint64; value: OciUint64; op: string } & Fields<{ valueTwo: OciUint64 }>;

export type OciSeccompSyscall = { names: string[]; action: string } & Fields<{ errnoRet: OciUint64; args: OciSeccompArg[] }>;

export type OciSeccomp = Fields<{
  defaultAction: string;
  defaultErrnoRet: OciUint64;
  architectures: string[];
  flags: string[];
  listenerPath: string;
  listenerMetadata: string;
  syscalls: OciSeccompSyscall[];
}>;

export type OciNamespace = { type: string } & Fields<{ path: string }>;

export type OciDevice = { path: string; type: string } & Fields<{ major: number; minor: number; fileMode: number; uid: number; gid: number }>;

export type OciLinux = Fields<{
  uidMappings: OciIdMapping[];
  gidMappings: OciIdMapping[];
  sysctl: Record<string, string>;
  namespaces: OciNamespace[];
  devices: OciDevice[];
  seccomp: OciSeccomp;
  rootfsPropagation: string;
  maskedPaths: string[];
  readonlyPaths: string[];
  mountLabel: string;
  personality: { domain: string } & Fields<{ flags: string[] }>;
  timeOffsets: Fields<Record<'monotonic' | 'boottime', Fields<{ secs: number; nanosecs: number }>>>;
}>;

/** config.json: what fromOciSpec reads of it. */
export type OciSpec = { root: { path: string } & Fields<{ readonly: boolean }> } & Fields<{
  process: OciProcess;
  hostname: string;
  domainname: string;
  mounts: OciMount[];
  hooks: OciHooks;
  annotations: Record<string, string>;
  linux: OciLinux;
}>;
