/**
 * Pure logic of id mappings (user_namespaces(7), "User and group ID mappings"), as an
 * idmapped mount's user namespace takes them: the checks the kernel makes when uid_map or
 * gid_map is written, made on the config instead, and the text written.
 */
import type { IdMapping } from './syscalls/types';

/**
 * Why an idmapped mount needs mappings of its own: without a user namespace of the
 * container's there are none to borrow; with one, mountkit's first process makes the
 * copy with that namespace (core/idmapped-tree.ts, sendIdmappedCopy).
 */
export const NO_MAPPINGS = 'an idmapped mount needs uidMappings and gidMappings of its own, unless the container has a user namespace that mountkit makes or joins from the host, whose maps it uses then';

/** The most lines a uid_map or gid_map takes since Linux 4.15 (user_namespaces(7)). */
export const MAX_ID_MAPPINGS = 340;

/** A map is written in one write(2) of less than a page (map_write); 4096 is the smallest page. */
const MAX_MAP_BYTES = 4095;

/** Ids are 32-bit and (uid_t)-1 is no id: a range ends at 2^32 - 1 at most. */
const ID_LIMIT = 2 ** 32 - 1;

/** A problem with a map: the field (the list, or one of its entries) and what is wrong. */
export interface IdMappingsProblem {
  field: string;
  reason: string;
}

/**
 * What is wrong with one map's lines, or undefined. The kernel refuses (EINVAL) an empty
 * map, more than MAX_ID_MAPPINGS lines, a zero-length range, a range that wraps past the
 * last id, two ranges that overlap on either side, and a text of a page or more
 * (map_write, kernel/user_namespace.c).
 * `field` names the list in the message.
 */
export function idMappingsProblem(field: string, mappings: readonly IdMapping[]): IdMappingsProblem | undefined {
  if (mappings.length === 0) return { field, reason: 'needs at least one mapping' };
  if (mappings.length > MAX_ID_MAPPINGS) return { field, reason: `has ${mappings.length} mappings, more than the kernel's ${MAX_ID_MAPPINGS}` };
  for (let i = 0; i < mappings.length; i++) {
    const m = mappings[i];
    const at = `${field}[${i}]`;
    if (m.size === 0) return { field: `${at}.size`, reason: 'must be at least 1' };
    if (m.containerID + m.size > ID_LIMIT) return { field: at, reason: `containerID ${m.containerID} + size ${m.size} goes past the last id, ${ID_LIMIT - 1}` };
    if (m.hostID + m.size > ID_LIMIT) return { field: at, reason: `hostID ${m.hostID} + size ${m.size} goes past the last id, ${ID_LIMIT - 1}` };
    for (let j = 0; j < i; j++) {
      const o = mappings[j];
      if (overlaps(m.containerID, o.containerID, m.size, o.size)) return { field: at, reason: `its containerID range overlaps ${field}[${j}]'s` };
      if (overlaps(m.hostID, o.hostID, m.size, o.size)) return { field: at, reason: `its hostID range overlaps ${field}[${j}]'s` };
    }
  }
  const bytes = Buffer.byteLength(idMapText(mappings));
  if (bytes > MAX_MAP_BYTES) return { field, reason: `takes ${bytes} bytes as a map; the kernel takes at most ${MAX_MAP_BYTES} in one write` };
  return undefined;
}

function overlaps(a: number, b: number, aSize: number, bSize: number): boolean {
  return a < b + bSize && b < a + aSize;
}

/** The text of a uid_map or gid_map: one "containerID hostID size" line per mapping. */
export function idMapText(mappings: readonly IdMapping[]): string {
  return mappings.map((m) => `${m.containerID} ${m.hostID} ${m.size}\n`).join('');
}

/** Whether `id` is in one of the maps' container ranges. */
export function mapsContainerId(mappings: readonly IdMapping[], id: number): boolean {
  return hostIdOf(mappings, id) !== undefined;
}

/** The id outside the namespace that container id `id` is, by the maps; undefined when no mapping holds it. */
export function hostIdOf(mappings: readonly IdMapping[], id: number): number | undefined {
  const m = mappings.find((m) => id >= m.containerID && id - m.containerID < m.size);
  return m && m.hostID + (id - m.containerID);
}

/** The mappings of a /proc/PID/uid_map or gid_map text: "ID-inside ID-outside length" per line, blank-padded (user_namespaces(7)). */
export function parseIdMapText(text: string): IdMapping[] {
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields.length === 3)
    .map(([containerID, hostID, size]) => ({ containerID: Number(containerID), hostID: Number(hostID), size: Number(size) }));
}

/** Whether two maps map the same ranges, in whatever order their lines come. */
export function sameMappings(a: readonly IdMapping[], b: readonly IdMapping[]): boolean {
  const key = (list: readonly IdMapping[]) => idMapText([...list].sort((x, y) => x.containerID - y.containerID));
  return key(a) === key(b);
}

/**
 * Whether the maps make `id` the namespace's root and map nothing else: all a process
 * without CAP_SETUID (CAP_SETGID) in the parent namespace may write itself
 * (user_namespaces(7)), and what `runc spec --rootless` writes.
 */
export function mapsOnlyOwnId(mappings: readonly IdMapping[], id: number | undefined): boolean {
  return mappings.length === 1 && mappings[0].containerID === 0 && mappings[0].hostID === id && mappings[0].size === 1;
}

/**
 * The arguments of newuidmap(1) or newgidmap(1) (shadow's uidmap tools, setuid root) for
 * the process `pid` as this process's pid namespace numbers it: then each mapping as
 * "ID-inside ID-outside length". The tool checks each range against /etc/subuid or
 * /etc/subgid for the user that runs it.
 */
export function mappingToolArgs(pid: number, mappings: readonly IdMapping[]): string[] {
  return [String(pid), ...mappings.flatMap((m) => [String(m.containerID), String(m.hostID), String(m.size)])];
}
