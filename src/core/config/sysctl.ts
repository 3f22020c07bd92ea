/**
 * Sysctl keys (linux.sysctl): the namespace that gives a container its own copy of the
 * value a key names (the files themselves: sysctl-key.ts). Pure.
 */
import type { NamespaceType } from './model';
import { readSysctlKey } from './sysctl-key';

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
 * Read from the key's names as sysctl(8) reads them, empty ones kept, as runc's
 * validator reads them: "net..ipv4.ip_forward" and "fs.mqueue..msg_max" are
 * namespaced, "kernel..shmmni", "kernel.shmmni." and "fs/mqueue.msg_max" (a name
 * "mqueue.msg_max") are not. A malformed key is a ConfigError (readSysctlKey).
 */
export function sysctlNamespace(key: string): NamespaceType | undefined {
  const [top, second, ...rest] = readSysctlKey(key).names;
  if (top === 'net') return 'network';
  if (top === 'fs' && second === 'mqueue' && rest.length > 0) return 'ipc';
  if (top === 'kernel' && rest.length === 0 && IPC_KERNEL_NAMES.has(second)) return 'ipc';
  if (top === 'kernel' && rest.length === 0 && UTS_KERNEL_NAMES.has(second)) return 'uts';
  return undefined;
}
