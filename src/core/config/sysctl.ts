/**
 * Sysctl keys (linux.sysctl): the file under /proc/sys a key names, and the namespace
 * that gives a container its own copy of the value. Pure.
 */
import { ConfigError } from '../errors';
import type { NamespaceType } from './model';

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

/**
 * kernel.* entries that belong to the IPC namespace: System V message queue, semaphore
 * and shared memory limits (ipc/ipc_sysctl.c, registered per ipc namespace since 5.17;
 * runc's validator allows the same list).
 */
const IPC_KERNEL_NAMES: ReadonlySet<string> = new Set([
  'msgmax',
  'msgmnb',
  'msgmni',
  'sem',
  'shmall',
  'shmmax',
  'shmmni',
  'shm_rmid_forced',
]);

/**
 * kernel.* entries that belong to the UTS namespace and may be written
 * (kernel/utsname_sysctl.c; ostype, osrelease and version there are read-only).
 */
const UTS_KERNEL_NAMES: ReadonlySet<string> = new Set(['hostname', 'domainname']);

/**
 * The namespace whose own copy of the value `key` names, or undefined when the value is
 * global to the machine, so that writing it from a container would change the host:
 * - net.*: every entry below /proc/sys/net is per network namespace (net/sysctl_net.c);
 * - fs.mqueue.*: POSIX message queue limits, per ipc namespace (ipc/mq_sysctl.c);
 * - the System V IPC limits above: per ipc namespace;
 * - kernel.hostname, kernel.domainname: per uts namespace.
 * A malformed key is a ConfigError (see sysctlPath).
 */
export function sysctlNamespace(key: string): NamespaceType | undefined {
  const names = sysctlPath(key).slice(PROC_SYS.length + 1).split('/');
  const [top, second] = names;
  if (top === 'net') return 'network';
  if (top === 'fs' && second === 'mqueue' && names.length > 2) return 'ipc';
  if (top === 'kernel' && names.length === 2 && IPC_KERNEL_NAMES.has(second)) return 'ipc';
  if (top === 'kernel' && names.length === 2 && UTS_KERNEL_NAMES.has(second)) return 'uts';
  return undefined;
}
