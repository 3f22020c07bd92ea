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

/** Field names by their lower case. */
const BY_FOLD = new Map([...FIELD_NAMES].map((name) => [name.toLowerCase(), name]));

/** Fields whose keys are names of their own (annotations, sysctl keys), taken in any case as written. */
const NAME_MAPS: ReadonlySet<string> = new Set(['annotations', 'sysctl']);

/**
 * Refuses the first key of `spec`'s objects that is no field name but one in another case
 * (see above), naming it by its JSON path. The keys of annotations and linux.sysctl are
 * names, never refused. The walk keeps a stack of its own: no nesting overflows it.
 */
export function refuseOtherCase(spec: unknown): void {
  const todo: [unknown, string][] = [[spec, '']];
  while (todo.length > 0) {
    const [value, field] = todo.pop()!;
    if (Array.isArray(value)) {
      value.forEach((item, i) => todo.push([item, `${field}[${i}]`]));
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    for (const [key, item] of Object.entries(value)) {
      const at = field ? `${field}.${key}` : key;
      const meant = FIELD_NAMES.has(key) ? undefined : BY_FOLD.get(key.toLowerCase());
      if (meant !== undefined) {
        throw new ConfigError(at, undefined, `is not a field mountkit reads: runc would take it as ${JSON.stringify(meant)} (Go matches JSON keys in any case); write ${JSON.stringify(meant)}`);
      }
      if (!NAME_MAPS.has(key)) todo.push([item, at]);
    }
  }
}
