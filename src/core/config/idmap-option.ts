/**
 * crun's mappings in an `idmap=` mount option (crun(1), "idmap mount options"), as
 * Podman writes them for `--mount ...,idmap=uids=...;gids=...`: `uids=` and `gids=`
 * lists, separated by `;`, each of `#`-separated triplets `FS-HOST-SIZE`: SIZE ids
 * from FS of the filesystem shown as the ids from HOST, the same triplet a mount's
 * OCI `uidMappings` entry (containerID, hostID, size) gives. A triplet with `@` before it
 * is relative: HOST is an id of the container's user namespace, turned into the host's
 * through the linux.uidMappings (or gidMappings) range that holds it, as crun 1.13 and
 * later take it (crun before 1.13 looked FS up in those ranges, a bug it fixed).
 */
import { ConfigError } from '../errors';
import type { IdMapping } from '../syscalls/types';
import { UINT32_MAX } from './json';

/** One triplet as written: the filesystem's first id, the first id shown, how many; `relative` with `@`. */
export interface IdmapTerm {
  fsId: number;
  hostId: number;
  size: number;
  relative: boolean;
}

export interface IdmapOptionMappings {
  uid: IdmapTerm[];
  gid: IdmapTerm[];
}

const TRIPLET = /^(@?)([0-9]+)-([0-9]+)-([0-9]+)$/;

/**
 * The mappings of `idmap=VALUE` (VALUE given without `idmap=`); `word` and `field` name the
 * option in a ConfigError. Both lists are needed: a mapping of uids alone leaves the
 * mount's gids unmapped, which the kernel refuses (EINVAL) where crun gets that far.
 */
export function parseIdmapOption(value: string, word: string, field: string): IdmapOptionMappings {
  const out: Partial<IdmapOptionMappings> = {};
  // Empty parts (a trailing or doubled ;) are skipped, as crun's strtok_r skips them.
  for (const part of value.split(';').filter((p) => p !== '')) {
    const key = part.startsWith('uids=') ? 'uid' : part.startsWith('gids=') ? 'gid' : undefined;
    if (key === undefined) throw new ConfigError(field, word, `"${part}": the value takes uids=... and gids=..., separated by ;`);
    if (out[key]) throw new ConfigError(field, word, `gives ${key}s= twice`);
    out[key] = part.slice(5).split('#').map((t) => term(t, word, field));
  }
  if (!out.uid || !out.gid) throw new ConfigError(field, word, `needs both uids= and gids= (the ${out.uid ? 'gid' : 'uid'}s would be left unmapped)`);
  return { uid: out.uid, gid: out.gid };
}

function term(text: string, word: string, field: string): IdmapTerm {
  const m = TRIPLET.exec(text);
  if (!m) throw new ConfigError(field, word, `"${text}" is no mapping: FS-HOST-SIZE, three decimal numbers, @ first for one relative to the container's user namespace`);
  const [fsId, hostId, size] = [m[2], m[3], m[4]].map(Number);
  for (const n of [fsId, hostId, size]) if (n > UINT32_MAX) throw new ConfigError(field, word, `"${text}": ${n} is beyond 32 bits`);
  if (size === 0) throw new ConfigError(field, word, `"${text}": a mapping of no ids`);
  return { fsId, hostId, size, relative: m[1] === '@' };
}

/**
 * The mount's own mappings (MountIdmap's uidMappings or gidMappings) for the triplets: a
 * relative one has its HOST, an id of the container's, turned into the host's through
 * the `container` range (linux.uidMappings or gidMappings) that holds it.
 */
export function resolveIdmapTerms(terms: readonly IdmapTerm[], container: readonly IdMapping[] | undefined, kind: 'uid' | 'gid', word: string, field: string): IdMapping[] {
  return terms.map((t) => {
    if (!t.relative) return { containerID: t.fsId, hostID: t.hostId, size: t.size };
    if (!container?.length) throw new ConfigError(field, word, `a relative mapping (@) needs linux.${kind}Mappings`);
    const range = container.find((r) => t.hostId >= r.containerID && t.hostId < r.containerID + r.size);
    if (!range) throw new ConfigError(field, word, `no range of linux.${kind}Mappings holds the container's ${kind} ${t.hostId}`);
    return { containerID: t.fsId, hostID: t.hostId - range.containerID + range.hostID, size: t.size };
  });
}
