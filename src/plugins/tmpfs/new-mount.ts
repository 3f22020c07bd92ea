/**
 * Pure: the calls of the new mount API (fsopen(2), fsconfig(2), fsmount(2)) that make the
 * tmpfs a mount(2) of (source, flags, data) would make, superblock and mount alike; or
 * why they cannot, when mount(2) does something with the arguments that these calls do
 * not (tmpcopyup then mounts the tmpfs on its target with mount(2), copyup.ts).
 *
 * What mount(2) does with them (path_mount() and do_new_mount(), fs/namespace.c):
 * - `source` becomes the context's "source" parameter, first.
 * - Of the flags, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_NODIRATIME, MS_NOSYMFOLLOW and the
 *   atime flags are the mount's (MNT_*), which fsmount(2) takes as MOUNT_ATTR_* bits:
 *   MS_STRICTATIME clears relatime and noatime, MS_NOATIME is noatime, anything else
 *   relatime, the default. MS_SYNCHRONOUS, MS_DIRSYNC and MS_LAZYTIME are the
 *   superblock's (SB_*), which the context takes as the flag parameters "sync", "dirsync"
 *   and "lazytime" (vfs_parse_sb_flag(), fs/fs_context.c). MS_SILENT only quiets the
 *   kernel's messages about the new superblock, which a context made by fsopen(2) keeps
 *   in its own log rather than printing them (logfc()). Any other flag (MS_RDONLY,
 *   which tmpfs mounts never carry here; MS_MANDLOCK, MS_POSIXACL, MS_I_VERSION,
 *   MS_REMOUNT, MS_BIND...) is not made here.
 * - The data is cut into parameters as tmpfs cuts it (shmem_parse_options(), mm/shmem.c),
 *   after the security module took its own out of it (security_sb_eat_lsm_opts()):
 *   SELinux's context=, fscontext=, defcontext=, rootcontext= and seclabel, found with
 *   commas inside double quotes kept together and given without their quotes
 *   (selinux_sb_eat_lsm_opts(), security/selinux/hooks.c: a context such as
 *   `s0:c1,c2` is written quoted); then the rest, cut at each comma not followed by a
 *   digit (an mpol= node list holds commas), each `key=value` or a `key` alone, empty
 *   ones skipped. fsconfig(2) takes those the same way (vfs_parse_fs_param()), SELinux's
 *   through its fs_context_parse_param hook, which strips no quotes.
 * - mount(2) reads at most one page of data (copy_mount_options(), 4096 bytes at the
 *   least) and cuts it at its last byte; fsconfig(2) takes keys and string values of at
 *   most 255 bytes (strndup_user(..., 256), fs/fsopen.c). Data longer than 4095 bytes, or
 *   a key or value past 255, is not made here.
 *
 * Propagation flags are no argument of mount(2)'s new mount: they are set on the mount
 * made, by calls of their own (copyup.ts).
 */
import {
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MS_DIRSYNC,
  MS_LAZYTIME,
  MS_NOATIME,
  MS_RELATIME,
  MS_SILENT,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
} from '../../core/constants';
import { MOUNT_FLAG_ATTRS } from '../../core/mount-attrs';

/** One fsconfig(2) parameter: FSCONFIG_SET_STRING of `key` and `value`, or FSCONFIG_SET_FLAG of `key` when `value` is null. */
export interface FsParam {
  key: string;
  value: string | null;
}

/** The new mount API's version of a mount(2): the context's parameters in order, and fsmount(2)'s attributes. */
export interface NewMount {
  params: FsParam[];
  attrs: bigint;
}

/** mount(2) flags that are the superblock's, and the flag parameter a context takes for each. */
const SUPERBLOCK_FLAGS: readonly (readonly [bigint, string])[] = [
  [MS_SYNCHRONOUS, 'sync'],
  [MS_DIRSYNC, 'dirsync'],
  [MS_LAZYTIME, 'lazytime'],
];

/** Every flag made here: those of the two tables, the atime flags, and MS_SILENT, which changes nothing here. */
const MADE = [...MOUNT_FLAG_ATTRS.map(([f]) => f), ...SUPERBLOCK_FLAGS.map(([f]) => f), MS_NOATIME, MS_RELATIME, MS_STRICTATIME, MS_SILENT].reduce((a, f) => a | f, 0n);

/** SELinux's mount options (selinux_sb_eat_lsm_opts()): seclabel alone, the others with a value. */
const SELINUX_OPTIONS: ReadonlyMap<string, boolean> = new Map([
  ['context', true],
  ['fscontext', true],
  ['defcontext', true],
  ['rootcontext', true],
  ['seclabel', false],
]);

/** The most data mount(2) reads: one page, 4096 bytes where pages are smallest, the last one cut. */
const MOUNT_DATA_MAX = 4095;

/** The longest key or string value fsconfig(2) copies. */
const FSCONFIG_STRING_MAX = 255;

/** The new mount API's version of mount(2) of a tmpfs with these arguments, or why there is none. */
export function newTmpfsMount(source: string | null, flags: bigint, data: string): NewMount | { unsupported: string } {
  const left = flags & ~MADE;
  if (left !== 0n) return { unsupported: `mount flags 0x${left.toString(16)}` };
  if (Buffer.byteLength(data) > MOUNT_DATA_MAX) return { unsupported: `data of ${Buffer.byteLength(data)} bytes, past the ${MOUNT_DATA_MAX} mount(2) reads` };
  const params = [
    ...(source === null ? [] : [{ key: 'source', value: source }]),
    ...SUPERBLOCK_FLAGS.filter(([flag]) => (flags & flag) !== 0n).map(([, key]) => ({ key, value: null })),
    ...dataParams(data),
  ];
  const long = params.find((p) => [p.key, p.value].some((s) => s !== null && Buffer.byteLength(s) > FSCONFIG_STRING_MAX));
  if (long) return { unsupported: `the parameter ${JSON.stringify(long.key)} past the ${FSCONFIG_STRING_MAX} bytes fsconfig(2) takes` };
  return { params, attrs: mountAttrs(flags) };
}

/** fsmount(2)'s attributes for the mount's flags of mount(2), its atime as path_mount() makes it. */
export function mountAttrs(flags: bigint): bigint {
  let attrs = (flags & MS_STRICTATIME) !== 0n ? MOUNT_ATTR_STRICTATIME : (flags & MS_NOATIME) !== 0n ? MOUNT_ATTR_NOATIME : MOUNT_ATTR_RELATIME;
  for (const [flag, attr] of MOUNT_FLAG_ATTRS) if ((flags & flag) !== 0n) attrs |= attr;
  return attrs;
}

/** Whether `p` is one of SELinux's options, which its own parse hook takes before any filesystem's (security_fs_context_parse_param()). */
export function isSelinuxParam(p: FsParam): boolean {
  const takesValue = SELINUX_OPTIONS.get(p.key);
  return takesValue !== undefined && takesValue === (p.value !== null);
}

/** A tmpfs's data as fsconfig(2) parameters, cut as mount(2) cuts it (see the top of this file). */
export function dataParams(data: string): FsParam[] {
  const lsm: FsParam[] = [];
  const rest: string[] = [];
  for (const option of quotedSplit(data)) {
    const param = selinuxParam(option);
    if (param) lsm.push(param);
    else rest.push(option);
  }
  return [...lsm, ...tmpfsSplit(rest.join(',')).map(keyValue)];
}

/** `data` cut at each comma outside double quotes (opt_len(), security/selinux/hooks.c). */
function quotedSplit(data: string): string[] {
  const options: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i <= data.length; i++) {
    if (i === data.length || (data[i] === ',' && !quoted)) {
      options.push(data.slice(start, i));
      start = i + 1;
    } else if (data[i] === '"') quoted = !quoted;
  }
  return options;
}

/** The option as SELinux takes it (match_opt_prefix()): its name, and its value with every double quote taken out; undefined for any other. */
function selinuxParam(option: string): FsParam | undefined {
  const eq = option.indexOf('=');
  const name = eq === -1 ? option : option.slice(0, eq);
  const takesValue = SELINUX_OPTIONS.get(name);
  if (takesValue === undefined || takesValue !== (eq !== -1)) return undefined;
  return { key: name, value: eq === -1 ? null : option.slice(eq + 1).replace(/"/g, '') };
}

/** `data` cut at each comma not followed by a digit, empty options left out (shmem_parse_options()). */
function tmpfsSplit(data: string): string[] {
  return data.split(/,(?![0-9])/).filter((o) => o !== '');
}

/** `key=value` at its first `=`, or a `key` alone. */
function keyValue(option: string): FsParam {
  const eq = option.indexOf('=');
  return eq === -1 ? { key: option, value: null } : { key: option.slice(0, eq), value: option.slice(eq + 1) };
}
