/**
 * Parsing of /proc/self/mountinfo (proc(5)): one line per mount,
 *   id parent major:minor root mountpoint options optional... - fstype source superoptions
 * Paths escape space, tab, newline and backslash as \040 \011 \012 \134.
 */

export interface MountInfo {
  id: number;
  parent: number;
  majorMinor: string;
  root: string;
  mountpoint: string;
  options: string;
  /** Optional fields such as "shared:1" or "master:2". */
  optional: string[];
  fstype: string;
  source: string;
  superOptions: string;
}

export type MountTable = readonly MountInfo[];

export function unescapeMountPath(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export function parseMountInfo(text: string): MountTable {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    if (sep < 0 || f.length < sep + 3) throw new Error(`malformed mountinfo line: ${line}`);
    out.push({
      id: Number(f[0]),
      parent: Number(f[1]),
      majorMinor: f[2],
      root: unescapeMountPath(f[3]),
      mountpoint: unescapeMountPath(f[4]),
      options: f[5],
      optional: f.slice(6, sep),
      fstype: f[sep + 1],
      source: unescapeMountPath(f[sep + 2]),
      superOptions: f[sep + 3] ?? '',
    });
  }
  return out;
}

/** The mount that holds `path`: the longest mountpoint that is `path` or one of its parents. */
export function parentMountOf(table: MountTable, path: string): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of table) {
    const mp = m.mountpoint;
    const covers = mp === '/' || path === mp || path.startsWith(mp + '/');
    // Later lines stack on earlier ones at the same mountpoint, so ">=" keeps the top one.
    if (covers && (!best || mp.length >= best.mountpoint.length)) best = m;
  }
  return best;
}

export function isShared(m: MountInfo): boolean {
  return m.optional.some((o) => o.startsWith('shared:'));
}

/** A mountinfo line (unescaped as it is) with its optional fields, between the options and the "-", replaced by `fields`. */
export function withOptionalFields(line: string, fields: readonly string[]): string {
  const f = line.split(' ');
  const sep = f.indexOf('-', 6);
  if (sep < 0) throw new Error(`malformed mountinfo line: ${line}`);
  return [...f.slice(0, 6), ...fields, ...f.slice(sep)].join(' ');
}

/**
 * The mounts of `table` at one mountpoint in the order they were stacked, the one each
 * other is mounted on before it (a mount stacked on another has it as its parent).
 */
export function stackOrder(mounts: readonly MountInfo[]): MountInfo[] {
  const out: MountInfo[] = [];
  const rest = [...mounts];
  while (rest.length) {
    const i = rest.findIndex((m) => !rest.some((o) => o !== m && o.id === m.parent));
    out.push(...rest.splice(i < 0 ? 0 : i, 1));
  }
  return out;
}
