/**
 * SELinux labels for mounts, as far as the rootfs code needs them. On a host without
 * SELinux (as go-selinux's GetEnabled decides it: selinuxEnabled) mount labels are left
 * out: runc 1.1.5 passes them as `context=` all the same, which the kernel refuses there
 * (EINVAL), so runc fails where mountkit runs (README, differences from runc).
 * process.selinuxLabel is refused there, as runc refuses it.
 */
import { O_CLOEXEC, O_PATH, SELINUX_MAGIC, ST_RDONLY } from './constants';
import type { RootfsConfig } from './config/model';
import { StepError, SyscallError } from './errors';
import type { RunContext } from './plugin';
import type { Syscalls } from './syscalls/types';

/** Where selinuxfs is mounted on a host that runs SELinux: the first place asked. */
export const SELINUXFS = '/sys/fs/selinux';
/** The filesystem types the kernel has (proc(5)); selinuxfs is registered only when SELinux runs. */
export const PROC_FILESYSTEMS = '/proc/filesystems';
/** This thread's SELinux label (proc(5), /proc/pid/attr/current). */
export const CURRENT_LABEL = '/proc/thread-self/attr/current';
/** The label of a process while no policy is loaded: SELinux is not enforcing anything yet. */
const KERNEL_LABEL = 'kernel';
/** Why process.selinuxLabel is refused on a host without SELinux. */
export const NO_SELINUX = 'is set, but SELinux is disabled or not supported on this host';
const XATTR_NAME = 'security.selinux';

/** The host's answer in RunContext.shared, once asked. */
export const SELINUX_ENABLED_KEY = 'selinux.enabled';

/**
 * Whether `path` is a selinuxfs mounted read-write, as statfs(2) reports it: f_type
 * SELINUX_MAGIC and no ST_RDONLY in f_flags. A read-only one (podman mounts the host's so
 * in a nested container) is no SELinux to label with. Any errno (ENOENT, EACCES...) is
 * no selinuxfs there, as go-selinux's probe takes it.
 */
export function isWritableSelinuxfs(sys: Pick<Syscalls, 'open' | 'fstatfs' | 'close'>, path: string): boolean {
  let fd: number;
  try {
    fd = sys.open(path, O_PATH | O_CLOEXEC, 0);
  } catch (err) {
    if (err instanceof SyscallError) return false;
    throw err;
  }
  try {
    const { type, flags } = sys.fstatfs(fd);
    return type === SELINUX_MAGIC && (flags & ST_RDONLY) === 0n;
  } catch (err) {
    if (err instanceof SyscallError) return false;
    throw err;
  } finally {
    sys.close(fd);
  }
}

/** What selinuxfs probes ask of the port: statfs(2) by a descriptor, and file reads. */
export type SelinuxProbes = Pick<Syscalls, 'open' | 'fstatfs' | 'close' | 'readFile'>;

/**
 * Where a read-write selinuxfs is mounted as far as no mount table tells: SELINUXFS when
 * it is one; null for none, the kernel having no selinuxfs (PROC_FILESYSTEMS, which an
 * unreadable one is taken to say); undefined when only the mount table can tell (the
 * kernel has selinuxfs, and SELINUXFS is not a read-write one).
 */
function selinuxfsWithoutMounts(sys: SelinuxProbes): string | null | undefined {
  if (isWritableSelinuxfs(sys, SELINUXFS)) return SELINUXFS;
  let filesystems: string;
  try {
    filesystems = sys.readFile(PROC_FILESYSTEMS);
  } catch (err) {
    if (err instanceof SyscallError) return null;
    throw err;
  }
  return filesystems.includes('\tselinuxfs\n') ? undefined : null;
}

/**
 * Where a read-write selinuxfs is mounted, or undefined: SELINUXFS first; else, when the
 * kernel has selinuxfs at all, each selinuxfs of the mount table in its order. The table
 * is the run's own (RunContext.mountTable: /proc/self/mountinfo is read once per run),
 * asked only on a host whose kernel runs SELinux without a read-write selinuxfs at
 * SELINUXFS.
 */
function findSelinuxfs(sys: Syscalls, ctx: RunContext): string | undefined {
  const known = selinuxfsWithoutMounts(sys);
  if (known !== undefined) return known ?? undefined;
  for (const m of ctx.mountTable()) {
    if (m.fstype === 'selinuxfs' && isWritableSelinuxfs(sys, m.mountpoint)) return m.mountpoint;
  }
  return undefined;
}

/**
 * This thread's SELinux label, its trailing NUL taken off; "" where it cannot be read
 * (go-selinux ignores the error, and then takes SELinux as enabled).
 */
function currentLabel(sys: Pick<Syscalls, 'readFile'>): string {
  try {
    return sys.readFile(CURRENT_LABEL).replace(/\0$/, '');
  } catch (err) {
    if (err instanceof SyscallError) return '';
    throw err;
  }
}

/**
 * Whether the host runs SELinux, as go-selinux's GetEnabled decides it for runc: a
 * read-write selinuxfs is mounted (findSelinuxfs) and this thread's label is not
 * "kernel" (no policy loaded). Asked once per run and kept in ctx.shared. No probe's
 * errno fails the run: each is an answer, as go-selinux takes it. Only a step before the
 * jail may ask it: after the jail `/sys` and `/proc` are the container's. The
 * prepare-root plugin's selinux-state step asks it once the rootfs is prepared, before
 * any mount, in a run whose config has a label, as runc's init asks GetEnabled at its
 * first labelled mount; a step after the jail reads that answer with
 * selinuxEnabledAfterJail.
 */
export function selinuxEnabled(sys: Syscalls, ctx: RunContext): boolean {
  let enabled = ctx.shared.get(SELINUX_ENABLED_KEY) as boolean | undefined;
  if (enabled === undefined) {
    const selinuxfs = findSelinuxfs(sys, ctx);
    enabled = selinuxfs !== undefined && currentLabel(sys) !== KERNEL_LABEL;
    ctx.log.debug('whether the host runs SELinux', { selinuxfs: selinuxfs ?? null, enabled });
    ctx.shared.set(SELINUX_ENABLED_KEY, enabled);
  }
  return enabled;
}

/**
 * selinuxEnabled's answer where no mount table may be read (a check before the run, which
 * reads the run's own later): undefined when only the table can tell, on a kernel that
 * has selinuxfs without a read-write one at SELINUXFS (podman's read-only one in a nested
 * container, or one mounted elsewhere). Asks nothing of the run, keeps nothing.
 */
export function selinuxEnabledWithoutMounts(sys: SelinuxProbes): boolean | undefined {
  const selinuxfs = selinuxfsWithoutMounts(sys);
  if (selinuxfs === undefined) return undefined;
  return selinuxfs !== null && currentLabel(sys) !== KERNEL_LABEL;
}

/**
 * The answer selinuxEnabled gave before the jail, for a step after it (`what` names what
 * needs it, in the error). Never asked again there: the container's `/sys` would answer.
 * A run that did not ask it before the jail (a plugin list without prepare-root's
 * selinux-state step) fails rather than label by the container's word.
 */
export function selinuxEnabledAfterJail(ctx: RunContext, what: string): boolean {
  const enabled = ctx.shared.get(SELINUX_ENABLED_KEY) as boolean | undefined;
  if (enabled === undefined) throw new StepError(`${what}: whether the host runs SELinux was not asked before the jail (the prepare-root plugin's selinux-state step asks it)`);
  return enabled;
}

/** Whether the config gives a label: a run that does asks selinuxEnabled before the jail. */
export function hasSelinuxLabel(config: Pick<RootfsConfig, 'mountLabel' | 'process'>): boolean {
  return !!config.mountLabel || !!config.process.selinuxLabel;
}

/**
 * The label a handler gives the filesystem it mounts: linux.mountLabel on a host that
 * runs SELinux (selinuxEnabled), else "". Given as `context=` in the mount's data
 * (formatMountLabel), as runc 1.1.5 gives it to a tmpfs and to every type it has no case
 * of its own for (devpts, overlay, a FUSE type...); or, for a filesystem whose mount takes
 * no such option (mqueue), set on its root once mounted (setFileLabel). Asked before the
 * jail only, as selinuxEnabled is.
 */
export function mountLabel(sys: Syscalls, ctx: RunContext): string {
  const label = ctx.config.mountLabel;
  return label && selinuxEnabled(sys, ctx) ? label : '';
}

/** Mount data with the label as a `context=` option (mount(8), "context=context"). */
export function formatMountLabel(data: string, label: string): string {
  if (!label) return data;
  const context = `context="${label}"`;
  return data ? `${data},${context}` : context;
}

/** Labels one file without following a final symlink. */
export function setFileLabel(sys: Syscalls, path: string, label: string): void {
  sys.lsetxattr(path, XATTR_NAME, label);
}

/** Labels a tree (for a bind source asked to be relabelled with z or Z). */
export function relabelTree(sys: Syscalls, path: string, label: string): void {
  setFileLabel(sys, path, label);
  if (sys.lstat(path).kind !== 'dir') return;
  for (const name of sys.readdir(path)) relabelTree(sys, `${path}/${name}`, label);
}
