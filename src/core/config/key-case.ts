/**
 * runc reads config.json with Go's encoding/json, which matches a JSON key to a field in
 * any case when no key matches it exactly ("Readonly" sets root.readonly). mountkit
 * reads keys exactly, so such a key would be ignored without a word: a read-only root
 * left writable, a seccomp profile not loaded. A key that is no field name but matches
 * one in another case is refused instead, naming both.
 */
import { ConfigError } from '../errors';

/** The keys of config.json's objects that mountkit reads (runtime-spec config.md, config-linux.md), as the spec writes them. */
export const FIELD_NAMES: ReadonlySet<string> = new Set([
  // The top level, root, process and its parts.
  ...['ociVersion', 'root', 'path', 'readonly', 'process', 'terminal', 'consoleSize', 'height', 'width', 'user', 'uid', 'gid', 'umask', 'additionalGids'],
  ...['args', 'env', 'cwd', 'capabilities', 'bounding', 'effective', 'inheritable', 'permitted', 'ambient', 'rlimits', 'type', 'hard', 'soft'],
  ...['noNewPrivileges', 'apparmorProfile', 'oomScoreAdj', 'selinuxLabel', 'scheduler', 'policy', 'nice', 'priority', 'flags', 'runtime', 'deadline', 'period'],
  ...['ioPriority', 'class', 'hostname', 'domainname', 'annotations'],
  // Mounts and hooks.
  ...['mounts', 'destination', 'source', 'options', 'uidMappings', 'gidMappings', 'containerID', 'hostID', 'size'],
  ...['hooks', 'prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop', 'timeout'],
  // linux.
  ...['linux', 'namespaces', 'devices', 'major', 'minor', 'fileMode', 'rootfsPropagation', 'maskedPaths', 'readonlyPaths', 'sysctl', 'mountLabel'],
  ...['seccomp', 'defaultAction', 'defaultErrnoRet', 'architectures', 'listenerPath', 'listenerMetadata', 'syscalls', 'names', 'action', 'errnoRet'],
  ...['index', 'value', 'valueTwo', 'op', 'timeOffsets', 'monotonic', 'boottime', 'secs', 'nanosecs', 'personality', 'domain'],
]);

/**
 * A key as Go's encoding/json compares it with a field name (bytes.EqualFold, Unicode
 * simple case folding): in lower case, and the two letters outside ASCII that fold to an
 * ASCII one, U+017F LATIN SMALL LETTER LONG S to "s" (U+212A KELVIN SIGN is "k" in lower
 * case already).
 */
export function foldedKey(key: string): string {
  return key.toLowerCase().replace(/\u017f/g, 's');
}

/** Field names by their folded key. */
const BY_FOLD = new Map([...FIELD_NAMES].map((name) => [foldedKey(name), name]));

/**
 * Fields that are Go maps in the runtime-spec (annotations, linux.sysctl, linux.timeOffsets,
 * linux.netDevices, linux.resources.unified and rdma): their keys are names, which Go
 * never folds, taken as written; their values are checked.
 */
const NAME_MAPS: ReadonlySet<string> = new Set(['annotations', 'sysctl', 'timeOffsets', 'netDevices', 'unified', 'rdma']);

/** Go's encoding/json refuses JSON nested deeper than this (maxNestingDepth, "exceeded max depth"). */
export const MAX_NESTING = 10000;

/** A place in the walk: its value, the key or index it was reached by and its parent's place (its JSON path, built only for an error). */
interface Place {
  value: unknown;
  key: string | number;
  parent: Place | undefined;
  depth: number;
  keysAreNames: boolean;
}

/** The most components of a JSON path an error shows. */
const SHOWN_COMPONENTS = 12;

/** The JSON path of a place (`linux.seccomp.syscalls[0].names`), its first SHOWN_COMPONENTS components then `...`. */
function pathOf(place: Place | undefined): string {
  const parts: string[] = [];
  for (let p = place; p?.parent !== undefined; p = p.parent) parts.push(typeof p.key === 'number' ? `[${p.key}]` : `.${p.key}`);
  parts.reverse();
  const shown = parts.length > SHOWN_COMPONENTS ? [...parts.slice(0, SHOWN_COMPONENTS), '...'] : parts;
  return shown.join('').replace(/^\./, '');
}

/**
 * Refuses the first key of `spec`'s objects that is no field name but one in another case
 * (see above), naming it by its JSON path, and a spec nested deeper than MAX_NESTING, as
 * runc's decoder refuses it (a cycle in a spec built in code ends there too). The keys of
 * the maps (NAME_MAPS) are names, never refused. The walk keeps a stack of its own, and
 * builds a path only for its error.
 */
export function refuseOtherCase(spec: unknown): void {
  const todo: Place[] = [{ value: spec, key: '', parent: undefined, depth: 0, keysAreNames: false }];
  while (todo.length > 0) {
    const place = todo.pop()!;
    const { value, depth } = place;
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_NESTING) throw new ConfigError(pathOf(place.parent) || 'config.json', undefined, `nests arrays and objects more than ${MAX_NESTING} deep, which runc's Go decoder refuses too`);
    if (Array.isArray(value)) {
      value.forEach((item, i) => todo.push({ value: item, key: i, parent: place, depth: depth + 1, keysAreNames: false }));
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const meant = place.keysAreNames || FIELD_NAMES.has(key) ? undefined : BY_FOLD.get(foldedKey(key));
      if (meant !== undefined) {
        const at = pathOf({ value: item, key, parent: place, depth, keysAreNames: false });
        throw new ConfigError(at, undefined, `is not a field mountkit reads: a runtime that reads config.json with Go's encoding/json (runc) takes it as ${JSON.stringify(meant)}, matching keys in any case; write ${JSON.stringify(meant)}`);
      }
      todo.push({ value: item, key, parent: place, depth: depth + 1, keysAreNames: NAME_MAPS.has(key) && !place.keysAreNames });
    }
  }
}
