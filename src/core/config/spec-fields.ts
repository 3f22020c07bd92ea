/**
 * The objects of config.json whose fields mountkit reads, shaped as the runtime-spec's Go
 * types declare them (specs-go/config.go, runtime-spec 1.2): each struct with its fields
 * by their JSON names, each integer field signed or unsigned. runc decodes config.json
 * into those types with Go's encoding/json, and the types decide two things the loader
 * mirrors: which keys name a field of an object (key-case.ts) and how an integer field's
 * number must be written (number-literals.ts). A field mountkit does not read is left
 * out, and so is all it holds, as mountkit ignores it.
 */

/**
 * What a field holds:
 * - `int`: a Go signed integer (int, int32, int64);
 * - `uint`: a Go unsigned integer (uint, uint32, uint64, os.FileMode);
 * - `plain`: a string, a boolean or a list of strings, which hold no keys and no integers;
 * - a struct, whose keys are its fields;
 * - a list of one shape;
 * - a map (a Go map with string keys): any keys, each value of one shape.
 */
export type FieldShape = 'int' | 'uint' | 'plain' | StructShape | ListShape | MapShape;

export interface StructShape {
  kind: 'struct';
  fields: ReadonlyMap<string, FieldShape>;
}

export interface ListShape {
  kind: 'list';
  item: FieldShape;
}

export interface MapShape {
  kind: 'map';
  value: FieldShape;
}

/** A struct of the `plain` fields named, and the others with their shapes. */
function struct(plain: readonly string[], shaped: Record<string, FieldShape> = {}): StructShape {
  return { kind: 'struct', fields: new Map<string, FieldShape>([...plain.map((name): [string, FieldShape] => [name, 'plain']), ...Object.entries(shaped)]) };
}

function list(item: FieldShape): ListShape {
  return { kind: 'list', item };
}

function map(value: FieldShape): MapShape {
  return { kind: 'map', value };
}

/** LinuxIDMapping: linux.uidMappings, linux.gidMappings and a mount's own. */
const ID_MAPPINGS = list(struct([], { containerID: 'uint', hostID: 'uint', size: 'uint' }));

/** Hook, in each list of Hooks. */
const HOOKS = list(struct(['path', 'args', 'env'], { timeout: 'int' }));

const PROCESS = struct(['terminal', 'args', 'env', 'cwd', 'noNewPrivileges', 'apparmorProfile', 'selinuxLabel'], {
  consoleSize: struct([], { height: 'uint', width: 'uint' }),
  user: struct([], { uid: 'uint', gid: 'uint', umask: 'uint', additionalGids: list('uint') }),
  capabilities: struct(['bounding', 'effective', 'inheritable', 'permitted', 'ambient']),
  rlimits: list(struct(['type'], { hard: 'uint', soft: 'uint' })),
  oomScoreAdj: 'int',
  scheduler: struct(['policy', 'flags'], { nice: 'int', priority: 'int', runtime: 'uint', deadline: 'uint', period: 'uint' }),
  ioPriority: struct(['class'], { priority: 'int' }),
});

const SECCOMP = struct(['defaultAction', 'architectures', 'flags', 'listenerPath', 'listenerMetadata'], {
  defaultErrnoRet: 'uint',
  syscalls: list(
    struct(['names', 'action'], {
      errnoRet: 'uint',
      args: list(struct(['op'], { index: 'uint', value: 'uint', valueTwo: 'uint' })),
    }),
  ),
});

const LINUX = struct(['rootfsPropagation', 'maskedPaths', 'readonlyPaths', 'mountLabel'], {
  uidMappings: ID_MAPPINGS,
  gidMappings: ID_MAPPINGS,
  sysctl: map('plain'),
  namespaces: list(struct(['type', 'path'])),
  devices: list(struct(['path', 'type'], { major: 'int', minor: 'int', fileMode: 'uint', uid: 'uint', gid: 'uint' })),
  seccomp: SECCOMP,
  personality: struct(['domain', 'flags']),
  timeOffsets: map(struct([], { secs: 'int', nanosecs: 'uint' })),
});

/** Spec: config.json itself. */
export const SPEC_SHAPE: StructShape = struct(['hostname', 'domainname'], {
  process: PROCESS,
  root: struct(['path', 'readonly']),
  mounts: list(struct(['destination', 'type', 'source', 'options'], { uidMappings: ID_MAPPINGS, gidMappings: ID_MAPPINGS })),
  hooks: struct([], Object.fromEntries(['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'].map((kind) => [kind, HOOKS]))),
  annotations: map('plain'),
  linux: LINUX,
});

/** The shape of what `key` (a name, or an index) holds in a value of `shape`; undefined where mountkit reads nothing. */
export function shapeWithin(shape: FieldShape | undefined, key: string | number): FieldShape | undefined {
  if (shape === undefined || typeof shape === 'string') return undefined;
  if (shape.kind === 'list') return typeof key === 'number' ? shape.item : undefined;
  if (typeof key === 'number') return undefined;
  return shape.kind === 'map' ? shape.value : shape.fields.get(key);
}

/**
 * Whether Go's encoding/json merges a second value of `shape` into the first where a key
 * is given twice: it decodes the second into what the first made, so a struct keeps the
 * fields only the first gave, a map the keys only the first had, and a slice of them its
 * items field by field. A string, a number or a list of them is replaced whole, as
 * JSON.parse keeps the last.
 */
export function mergedTwice(shape: FieldShape | undefined): boolean {
  return typeof shape === 'object' && (shape.kind !== 'list' || typeof shape.item === 'object');
}
