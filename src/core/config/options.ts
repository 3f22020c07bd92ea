/**
 * OCI mount option words -> mount(2) flags, propagation changes, mount_setattr(2)
 * attributes, extensions and filesystem data. Pure and table-driven: every word
 * the runtime understands is a row in one of the tables below; any other word is
 * filesystem data handed to the kernel as the `data` argument of mount(2).
 */
import { parseIdmapOption, type IdmapOptionMappings } from './idmap-option';
import {
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MOUNT_ATTR__ATIME,
  MS_BIND,
  MS_DIRSYNC,
  MS_I_VERSION,
  MS_LAZYTIME,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_POSIXACL,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from '../constants';
import { ConfigError } from '../errors';
import type { MountExtensions, RecursiveAttrs } from './model';

/** A word that sets a mount(2) flag, or (clear) removes it and remembers that it did. */
export interface FlagOption {
  flag: bigint;
  clear: boolean;
}

/** A word that sets or clears a mount_setattr(2) attribute on the whole tree (AT_RECURSIVE). */
export interface RecursiveAttrOption {
  attr: bigint;
  clear: boolean;
  /** The attribute is a value of the MOUNT_ATTR__ATIME enum, not a bit of its own. */
  atime: boolean;
}

export interface ParsedMountOptions {
  flags: bigint;
  clearedFlags: bigint;
  propagationFlags: bigint[];
  recAttrs?: RecursiveAttrs;
  data: string;
  extensions: MountExtensions;
  /** SELinux relabel of a bind source: "z", "Z", or "" for none. */
  relabel: string;
  /**
   * idmap, ridmap or crun's idmap=VALUE, the last given: whether the mapping reaches the
   * whole tree, and the mappings idmap=VALUE gives (`word` as written, for errors).
   */
  idmap?: { recursive: boolean; option?: IdmapOptionMappings & { word: string } };
}

const set = (flag: bigint): FlagOption => ({ flag, clear: false });
const clear = (flag: bigint): FlagOption => ({ flag, clear: true });

/**
 * Words mapped onto mount(2) `mountflags` (mount(2), mount(8) FILESYSTEM-INDEPENDENT
 * MOUNT OPTIONS). The clearing words exist so a bind remount can drop a flag the
 * source mount carries; they are recorded in `clearedFlags`.
 */
export const MOUNT_FLAG_OPTIONS: ReadonlyMap<string, FlagOption> = new Map([
  // mount(8) "defaults" = rw,suid,dev,exec,auto,nouser,async: the kernel's defaults, no flag.
  ['defaults', set(0n)],
  // MS_BIND makes the source visible at the target; MS_REC takes its submounts too.
  ['bind', set(MS_BIND)],
  ['rbind', set(MS_BIND | MS_REC)],
  ['ro', set(MS_RDONLY)],
  ['rw', clear(MS_RDONLY)],
  ['nosuid', set(MS_NOSUID)],
  ['suid', clear(MS_NOSUID)],
  ['nodev', set(MS_NODEV)],
  ['dev', clear(MS_NODEV)],
  ['noexec', set(MS_NOEXEC)],
  ['exec', clear(MS_NOEXEC)],
  ['sync', set(MS_SYNCHRONOUS)],
  ['async', clear(MS_SYNCHRONOUS)],
  ['dirsync', set(MS_DIRSYNC)],
  ['mand', set(MS_MANDLOCK)],
  ['nomand', clear(MS_MANDLOCK)],
  ['noatime', set(MS_NOATIME)],
  ['atime', clear(MS_NOATIME)],
  ['nodiratime', set(MS_NODIRATIME)],
  ['diratime', clear(MS_NODIRATIME)],
  ['relatime', set(MS_RELATIME)],
  ['norelatime', clear(MS_RELATIME)],
  ['strictatime', set(MS_STRICTATIME)],
  ['nostrictatime', clear(MS_STRICTATIME)],
  ['lazytime', set(MS_LAZYTIME)],
  ['nolazytime', clear(MS_LAZYTIME)],
  ['iversion', set(MS_I_VERSION)],
  ['noiversion', clear(MS_I_VERSION)],
  ['silent', set(MS_SILENT)],
  ['loud', clear(MS_SILENT)],
  ['remount', set(MS_REMOUNT)],
  // MS_POSIXACL: a superblock flag, POSIX ACLs on the new filesystem (runc's table has both words).
  ['acl', set(MS_POSIXACL)],
  ['noacl', clear(MS_POSIXACL)],
  // MS_NOSYMFOLLOW: do not follow symlinks when resolving paths on this mount (Linux 5.10).
  ['nosymfollow', set(MS_NOSYMFOLLOW)],
  ['symfollow', clear(MS_NOSYMFOLLOW)],
]);

/**
 * Propagation types. mount(2) changes the propagation of an existing mount only in a
 * call whose flags hold exactly one of MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE
 * (plus MS_REC for the whole subtree), so each word becomes its own call, in order.
 */
export const PROPAGATION_OPTIONS: ReadonlyMap<string, bigint> = new Map([
  ['private', MS_PRIVATE],
  ['rprivate', MS_PRIVATE | MS_REC],
  ['slave', MS_SLAVE],
  ['rslave', MS_SLAVE | MS_REC],
  ['shared', MS_SHARED],
  ['rshared', MS_SHARED | MS_REC],
  ['unbindable', MS_UNBINDABLE],
  ['runbindable', MS_UNBINDABLE | MS_REC],
]);

const rset = (attr: bigint, atime = false): RecursiveAttrOption => ({ attr, clear: false, atime });
const rclear = (attr: bigint, atime = false): RecursiveAttrOption => ({ attr, clear: true, atime });

/**
 * Recursive attributes, applied with mount_setattr(2) and AT_RECURSIVE (Linux 5.12;
 * MOUNT_ATTR_NOSYMFOLLOW since 5.14). Unlike mount(2) with MS_REMOUNT|MS_BIND, they
 * reach every submount of the tree.
 */
export const RECURSIVE_ATTR_OPTIONS: ReadonlyMap<string, RecursiveAttrOption> = new Map([
  ['rro', rset(MOUNT_ATTR_RDONLY)],
  ['rrw', rclear(MOUNT_ATTR_RDONLY)],
  ['rnosuid', rset(MOUNT_ATTR_NOSUID)],
  ['rsuid', rclear(MOUNT_ATTR_NOSUID)],
  ['rnodev', rset(MOUNT_ATTR_NODEV)],
  ['rdev', rclear(MOUNT_ATTR_NODEV)],
  ['rnoexec', rset(MOUNT_ATTR_NOEXEC)],
  ['rexec', rclear(MOUNT_ATTR_NOEXEC)],
  // MOUNT_ATTR_NODIRATIME is a bit of its own, outside the MOUNT_ATTR__ATIME enum.
  ['rnodiratime', rset(MOUNT_ATTR_NODIRATIME)],
  ['rdiratime', rclear(MOUNT_ATTR_NODIRATIME)],
  ['rrelatime', rset(MOUNT_ATTR_RELATIME, true)],
  // MOUNT_ATTR_RELATIME is the enum's 0: clearing it clears no bit, so the word changes
  // nothing, as in runc 1.2's table; runc 1.1.5 and crun 1.8.1 leave the atime alone too.
  // As an atime word it would clear the whole enum and leave relatime on every mount of
  // the tree, the opposite of what it asks.
  ['rnorelatime', rclear(MOUNT_ATTR_RELATIME)],
  ['rnoatime', rset(MOUNT_ATTR_NOATIME, true)],
  ['ratime', rclear(MOUNT_ATTR_NOATIME, true)],
  ['rstrictatime', rset(MOUNT_ATTR_STRICTATIME, true)],
  ['rnostrictatime', rclear(MOUNT_ATTR_STRICTATIME, true)],
  ['rnosymfollow', rset(MOUNT_ATTR_NOSYMFOLLOW)],
  ['rsymfollow', rclear(MOUNT_ATTR_NOSYMFOLLOW)],
]);

/** Runtime extensions that are not kernel options. */
export const EXTENSION_OPTIONS: ReadonlyMap<string, keyof MountExtensions> = new Map([
  // Copy the target directory's content into the freshly mounted tmpfs (runc EXT_COPYUP).
  ['tmpcopyup', 'tmpcopyup'],
]);

/**
 * SELinux relabel requests, as container engines write them on volumes: `z` labels the
 * bind source so that every container may share it, `Z` so that only this one may. They
 * are requests to the runtime (the bind handler writes the label), never mount(2) data,
 * which the kernel would refuse as an unknown option.
 */
export const RELABEL_OPTIONS: ReadonlySet<string> = new Set(['z', 'Z']);

/**
 * Idmapped bind requests (OCI runtime-spec 1.2; runc 1.2, crun): requests to the
 * runtime, never mount(2) data. The value says whether the mapping is made recursively
 * (mount_setattr(2) with AT_RECURSIVE), reaching every mount of an rbind's tree.
 */
export const IDMAP_OPTIONS: ReadonlyMap<string, boolean> = new Map([
  ['idmap', false],
  ['ridmap', true],
]);

/** crun's idmap with mappings of its own (config/idmap-option.ts); empty, the plain word. */
const IDMAP_WITH_MAPPINGS = 'idmap=';

/** The propagation flags of a word (also used for linux.rootfsPropagation), or undefined. */
export function parsePropagation(word: string): bigint | undefined {
  return PROPAGATION_OPTIONS.get(word);
}

/**
 * The atime attributes are values of the MOUNT_ATTR__ATIME enum: mount_setattr(2)
 * accepts an atime value in attr_set only with the whole MOUNT_ATTR__ATIME mask in
 * attr_clr, and rejects a partial mask (EINVAL). Setting one replaces the previous
 * value; clearing the current one leaves no value, which the kernel reads as
 * MOUNT_ATTR_RELATIME (0), its default, as mount(2) does for "atime"/"norelatime".
 */
function applyAtimeAttr(s: RecursiveAttrs, o: RecursiveAttrOption): void {
  if (!o.clear || (s.attrSet & MOUNT_ATTR__ATIME) === o.attr) s.attrSet &= ~MOUNT_ATTR__ATIME;
  if (!o.clear) s.attrSet |= o.attr;
  s.attrClr |= MOUNT_ATTR__ATIME;
}

function applyRecursiveAttr(s: RecursiveAttrs, o: RecursiveAttrOption): void {
  if (o.atime) applyAtimeAttr(s, o);
  else if (o.clear) {
    s.attrClr |= o.attr;
    s.attrSet &= ~o.attr;
  } else {
    s.attrSet |= o.attr;
    s.attrClr &= ~o.attr;
  }
}

/** One relabel per mount: `z` and `Z` together ask for two different labels. */
function checkRelabel(relabel: string, word: string, field: string): void {
  if (relabel !== '' && relabel !== word) {
    throw new ConfigError(field, word, `conflicts with "${relabel}": a mount takes one SELinux relabel, z (shared) or Z (private)`);
  }
}

/**
 * Parses the `options` of one OCI mount, in order; later words override earlier ones.
 * `field` names the options in a ConfigError (`z` with `Z` is the only refusal).
 *
 * The state lives in local variables and the result is made once, with its keys in this
 * order: a config may hold thousands of mounts, parsed while the process is cold, where
 * each object made and each property written costs. The recursive attributes, rare, get
 * an object of their own when a word asks for one.
 */
export function parseMountOptions(options: readonly string[], field = 'options'): ParsedMountOptions {
  let flags = 0n;
  let clearedFlags = 0n;
  const propagationFlags: bigint[] = [];
  let attrs: RecursiveAttrs | undefined;
  // The data words so far joined with commas; undefined before the first (an empty word is data too).
  let data: string | undefined;
  const extensions: MountExtensions = { tmpcopyup: false };
  let relabel = '';
  let idmapRecursive: boolean | undefined;
  let idmapOption: (IdmapOptionMappings & { word: string }) | undefined;
  for (let i = 0; i < options.length; i++) {
    const word = options[i];
    const flag = MOUNT_FLAG_OPTIONS.get(word);
    if (flag) {
      // A later word wins: setting a flag forgets an earlier clear of it, and the reverse
      // (only when some flag was cleared: each bigint operation makes a bigint).
      if (flag.clear) {
        flags &= ~flag.flag;
        clearedFlags |= flag.flag;
      } else {
        flags |= flag.flag;
        if (clearedFlags !== 0n) clearedFlags &= ~flag.flag;
      }
      continue;
    }
    const propagation = PROPAGATION_OPTIONS.get(word);
    if (propagation !== undefined) {
      propagationFlags.push(propagation);
      continue;
    }
    const attr = RECURSIVE_ATTR_OPTIONS.get(word);
    if (attr) {
      applyRecursiveAttr((attrs ??= { attrSet: 0n, attrClr: 0n }), attr);
      continue;
    }
    const extension = EXTENSION_OPTIONS.get(word);
    if (extension) {
      extensions[extension] = true;
      continue;
    }
    if (RELABEL_OPTIONS.has(word)) {
      checkRelabel(relabel, word, field);
      relabel = word;
      continue;
    }
    const recursive = IDMAP_OPTIONS.get(word);
    if (recursive !== undefined) {
      idmapRecursive = recursive;
      idmapOption = undefined;
      continue;
    }
    if (word.startsWith(IDMAP_WITH_MAPPINGS)) {
      const value = word.slice(IDMAP_WITH_MAPPINGS.length);
      idmapRecursive = false;
      idmapOption = value === '' ? undefined : { word, ...parseIdmapOption(value, word, field) };
      continue;
    }
    data = data === undefined ? word : `${data},${word}`;
  }
  const parsed: ParsedMountOptions = { flags, clearedFlags, propagationFlags, data: data ?? '', extensions, relabel };
  if (attrs !== undefined && (attrs.attrSet !== 0n || attrs.attrClr !== 0n)) parsed.recAttrs = attrs;
  if (idmapRecursive !== undefined) parsed.idmap = idmapOption ? { recursive: idmapRecursive, option: idmapOption } : { recursive: idmapRecursive };
  return parsed;
}
