/**
 * The files below /proc/sys a linux.sysctl key names. Pure.
 *
 * A key has two readings, the same for every key that separates with one kind of
 * separator only:
 * - runc's: every "." and every "/" separates, and empty names are skipped (runc 1.1.5
 *   writes /proc/sys joined with the key, each dot made a slash, the path cleaned:
 *   "net/ipv4.ip_forward", "net..ipv4.ip_forward" and "net.ipv4.ip_forward." all name
 *   /proc/sys/net/ipv4/ip_forward). It has no way to name a file with a dot in its name.
 * - sysctl(8)'s (procps, sysctl.d(5)): when the first separator is "/", the key is a
 *   path and a dot belongs to a name ("net/ipv4/conf/eth0.100/forwarding"); when it is
 *   ".", dots separate and a slash stands for a dot in a name
 *   ("net.ipv4.conf.eth0/100.forwarding"). Both name the forwarding file of the VLAN
 *   interface eth0.100, which runc's reading misses (net/ipv4/conf/eth0/100/...).
 *
 * The file written is runc's when the container's /proc/sys has it, else sysctl(8)'s.
 * The two never both name a file: a network interface's directory (conf/IF, neigh/IF)
 * holds no directories, and the names in /proc/sys with a dot are interfaces' names
 * (Linux 6.18: `find /proc/sys -name '*.*'` finds none in a network namespace without
 * such interfaces).
 *
 * The namespace of a key is read from sysctl(8)'s names, empty ones kept, as runc's
 * validator reads it from the key in that form (sysctl.ts): both files are then in that
 * same namespace, since runc's names only split sysctl(8)'s further.
 */
import { PATH_MAX } from '../constants';
import { ConfigError } from '../errors';

export const PROC_SYS = '/proc/sys';

export interface SysctlKey {
  /** The names as sysctl(8) reads the key, empty and "." ones kept: what its namespace is read from. */
  names: readonly string[];
  /** The files the key may name, absolute, tried in this order: runc's reading, then sysctl(8)'s when that differs. */
  files: readonly string[];
}

/** `key` with its dots made slashes and its slashes dots. */
function swapSeparators(key: string): string {
  return key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
}

function refuse(key: string, reason: string): never {
  throw new ConfigError('linux.sysctl', key, reason);
}

/**
 * Reads `key` (see above). A key that could lead outside /proc/sys is a ConfigError
 * naming linux.sysctl and the key: an empty one, one that starts with "/" (absolute) or
 * "." (runc refuses both kinds: no namespace's name starts so), one with a ".."
 * component in sysctl(8)'s reading or between its slashes, one with a NUL byte; so is
 * one whose file in runc's reading has a path of PATH_MAX bytes or more (open(2) fails
 * with ENAMETOOLONG, as runc's does).
 */
export function readSysctlKey(key: string): SysctlKey {
  if (key === '') refuse(key, `is empty: it must name a file below ${PROC_SYS}`);
  if (key.includes('\0')) refuse(key, 'contains a NUL byte');
  if (key[0] === '/' || key[0] === '.') refuse(key, `must name a file below ${PROC_SYS}: it starts with "${key[0]}", not a name`);
  const first = key.search(/[./]/);
  const names = (first >= 0 && key[first] === '.' ? swapSeparators(key) : key).split('/');
  if (names.includes('..') || key.split('/').includes('..')) refuse(key, `must name a file below ${PROC_SYS}: no ".." component`);
  const runc = [PROC_SYS, ...key.split(/[./]/).filter((n) => n !== '')].join('/');
  const bytes = Buffer.byteLength(runc);
  if (bytes >= PATH_MAX) refuse(key, `names a path of ${bytes} bytes: with its NUL over PATH_MAX (${PATH_MAX})`);
  const sysctl8 = [PROC_SYS, ...names.filter((n) => n !== '' && n !== '.')].join('/');
  return { names, files: sysctl8 === runc || Buffer.byteLength(sysctl8) >= PATH_MAX ? [runc] : [runc, sysctl8] };
}

/** The files `key` may name, in the order they are tried (readSysctlKey). */
export function sysctlFiles(key: string): readonly string[] {
  return readSysctlKey(key).files;
}
