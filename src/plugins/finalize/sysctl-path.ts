/**
 * From a sysctl key to its file under /proc/sys.
 */
import { ConfigError } from '../../core/errors';

export const PROC_SYS = '/proc/sys';

/**
 * The /proc/sys file of a sysctl key, read as sysctl.d(5) reads keys: when the first
 * separator is "/", the key is already a path and its dots are part of names
 * ("net/ipv4/conf/eth0.100/forwarding"); otherwise dots separate and slashes stand for
 * dots in names ("net.ipv4.conf.eth0/100.forwarding" is the same file).
 *
 * A key that would not name a file below /proc/sys (absolute, empty, "." or ".."
 * components, a NUL byte) is a ConfigError naming linux.sysctl and the key.
 */
export function sysctlPath(key: string): string {
  const sep = key.search(/[./]/);
  const path = sep >= 0 && key[sep] === '/' ? key : key.replace(/[./]/g, (c) => (c === '.' ? '/' : '.'));
  if (key.includes('\0')) throw new ConfigError('linux.sysctl', key, 'contains a NUL byte');
  if (path.split('/').some((c) => c === '' || c === '.' || c === '..')) {
    throw new ConfigError('linux.sysctl', key, `must name a file below ${PROC_SYS}: no empty, "." or ".." components`);
  }
  return `${PROC_SYS}/${path}`;
}
