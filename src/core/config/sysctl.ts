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
 * - kernel.hostname, kernel.domainname: per uts namespace;
 * - user.*: the limits on namespaces and inotify and fanotify objects per user
 *   (kernel/ucount.c, user_table), registered in each user namespace's own table
 *   (setup_userns_sysctls). /proc/sys/user shows the table of the reading process's user
 *   namespace (set_lookup), writable by whoever has CAP_SYS_RESOURCE there
 *   (set_permissions). A value bounds that namespace and those below it: a count is
 *   checked against every namespace up to the initial one (inc_ucount), so a new one's
 *   limits never raise its parent's, and writing them leaves the parent's as they were.
 * Read from the key's names as sysctl(8) reads them, empty ones kept, as runc's
 * validator reads them (runc 1.4 and later for user.*): "net..ipv4.ip_forward",
 * "fs.mqueue..msg_max" and "user/max_user_namespaces" are namespaced,
 * "kernel..shmmni", "kernel.shmmni.", "fs/mqueue.msg_max" (a name "mqueue.msg_max") and
 * "user" are not. A malformed key is a ConfigError (readSysctlKey).
 */
export function sysctlNamespace(key: string): NamespaceType | undefined {
  const [top, second, ...rest] = readSysctlKey(key).names;
  if (top === 'net') return 'network';
  if (top === 'fs' && second === 'mqueue' && rest.length > 0) return 'ipc';
  if (top === 'kernel' && rest.length === 0 && IPC_KERNEL_NAMES.has(second)) return 'ipc';
  if (top === 'kernel' && rest.length === 0 && UTS_KERNEL_NAMES.has(second)) return 'uts';
  if (top === 'user' && second !== undefined) return 'user';
  return undefined;
}
