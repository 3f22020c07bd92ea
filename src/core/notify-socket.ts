/**
 * sd_notify(3) for `mountkit run` under a service manager (a systemd unit of
 * `Type=notify`), as `runc run` serves it: where the caller's environment names a
 * socket (NOTIFY_SOCKET), the run binds one of its own in a new directory, inside one
 * only the relaunch may search (notifyParentAccess), and the relaunch binds that
 * directory read-only into the container at /run/notify (where root starts a relaunch
 * into a user namespace, it attaches a copy of it the first process made:
 * NotifyRelay.open), where the program finds it in its own NOTIFY_SOCKET. The run's
 * first process, outside the container, reads the datagrams the program sends there
 * and, at the first READY= line, tells the caller's socket that line and then MAINPID
 * with its own pid (the process the service manager started and waits for). What the
 * program sends after it is read and dropped until the container ends.
 */
import { tmpdir } from 'os';
import path = require('path');
import type { RootfsConfig } from './config/model';
import { withOciMount } from './config/oci';
import { AT_EMPTY_PATH, AT_REMOVEDIR, O_CLOEXEC, O_DIRECTORY, O_PATH, OPEN_TREE_CLONE, XATTR_NAME_POSIX_ACL_ACCESS } from './constants';
import { SyscallError } from './errors';
import { hostIdOf } from './idmap';
import { aclWithUser } from './posix-acl';
import type { LaunchPlan } from './namespaces';
import type { IdMapping, Syscalls } from './syscalls/types';

/** The caller's socket (sd_notify(3)): a path, or `@` and a name in the abstract namespace. */
export const NOTIFY_SOCKET_ENV = 'NOTIFY_SOCKET';

/** Set in a relaunch's environment: the directory of the run's own socket, which it binds into the container (withNotifySocket). */
export const NOTIFY_DIR_ENV = 'MOUNTKIT_NOTIFY_DIR';

/** Set to 1 in a relaunch's environment where it is given the copy of that directory to attach (core/relaunch.ts notifyTreeSlot). */
export const NOTIFY_TREE_ENV = 'MOUNTKIT_NOTIFY_TREE';

/** Where the container sees the run's socket directory, and the socket's name in it, as runc has them. */
export const NOTIFY_DIR_IN_CONTAINER = '/run/notify';
export const NOTIFY_SOCKET_NAME = 'notify.sock';

/**
 * How often the run's socket is looked at: the port's recvmsg(2) does not wait
 * (MSG_DONTWAIT), and the first process's event loop serves the runtime's hooks and
 * passes signals on meanwhile.
 */
export const NOTIFY_POLL_MS = 20;

/**
 * How often the socket is emptied once READY= has been passed on: what the program sends
 * later (STATUS=, WATCHDOG=1) is dropped. A socket left full would make the program's
 * sendto(2) wait once net.unix.max_dgram_qlen datagrams are queued (the kernel's default
 * is 10; systemd raises it to 512), and one closed would refuse it (ECONNREFUSED).
 */
export const NOTIFY_DRAIN_MS = 100;

/** The most datagrams one look takes: a program that keeps sending cannot hold the event loop, which passes signals on and runs the hooks. */
export const NOTIFY_POLL_MAX = 64;

/** The directory in the run's own (the bind's source), which holds the socket. */
export const NOTIFY_DIR_NAME = 'notify';

/** What NotifyRelay needs of the port. */
export type NotifyPort = Pick<Syscalls, 'mkdir' | 'open' | 'openTree' | 'chmod' | 'chown' | 'lsetxattr' | 'unlinkat' | 'rmdir' | 'bindUnixDatagram' | 'recvFdMessage' | 'sendUnixDatagram' | 'close'>;

/**
 * The mode of the run's own directory, and the owner to give it, from the first
 * process's euid and the host uid the relaunch binds the socket's directory as (its
 * root's host id in a user namespace it makes or joins by a path whose maps it read;
 * undefined for one joined by another path, whose maps are not known here). 0700, so
 * that no other user of the host may send to the socket (a false READY=): for a relaunch
 * of this process's own uid as it is, for another made its owner by root (chown(2) needs
 * CAP_CHOWN); for another of a user other than root, 0700 and an access ACL entry
 * letting that uid search it (searchableBy). Otherwise 0711: any user may pass through
 * it, and one who learns the directory's name (the container's mountinfo shows it) may
 * send.
 */
export function notifyParentAccess(euid: number, relaunchUid: number | undefined): NotifyParentAccess {
  if (relaunchUid === euid) return { mode: 0o700 };
  if (relaunchUid !== undefined && euid === 0) return { mode: 0o700, owner: relaunchUid };
  if (relaunchUid !== undefined) return { mode: 0o700, searcher: relaunchUid };
  return { mode: 0o711 };
}

/** The run's directory's mode, the owner it is given, and the one other host uid an ACL lets search it (notifyParentAccess). */
export interface NotifyParentAccess {
  mode: number;
  owner?: number;
  searcher?: number;
}

/**
 * The run's own relay (NotifyRelay.open), made by the first process before anything else
 * for the relaunch (cli/run.ts, and so planned by core/plan): in a new directory under
 * Node's os.tmpdir() (TMPDIR, TMP, TEMP or /tmp), made absolute, as the relaunch takes a
 * relative bind source from the bundle, named `mountkit-notify-` and 12 random hex
 * digits. Root (`euid` 0) starting a relaunch into a user namespace, made or joined, has
 * a copy of the socket's directory made for it to attach, and the run's directory stays
 * root's, 0700. Otherwise only the relaunch may search that directory where it can be
 * made so (notifyParentAccess): the relaunch binds the socket's directory as its root's
 * host uid in a user namespace this process makes, or joins by a path whose uid maps this
 * process read (`joined`: core/namespaces.ts checkUserNamespaceMaps), and as `euid`, this
 * process's, where it enters none.
 */
export function openRunRelay(sys: NotifyPort, plan: Pick<LaunchPlan, 'userMappings' | 'userNamespacePath'>, host: string, warn: (message: string) => void, euid: number, joined?: readonly IdMapping[]): NotifyRelay {
  const user = plan.userNamespacePath !== undefined || plan.userMappings !== undefined;
  const maps = plan.userNamespacePath !== undefined ? joined : plan.userMappings?.uid;
  const relaunchUid = user ? maps && hostIdOf(maps, 0) : euid;
  // Required here: a run without NOTIFY_SOCKET never loads crypto.
  const name = `mountkit-notify-${(require('crypto') as typeof import('crypto')).randomBytes(6).toString('hex')}`;
  return NotifyRelay.open(sys, path.resolve(tmpdir(), name), host, warn, notifyParentAccess(euid, relaunchUid), user && euid === 0);
}

/**
 * The line of `datagram` to pass on: its first that begins with READY= (sd_notify(3) puts
 * one variable on each line), or undefined.
 */
export function readyLine(datagram: string): string | undefined {
  return datagram.split('\n').find((line) => line.startsWith('READY='));
}

/**
 * `config` with the run's socket directory `dir` bound at /run/notify as its last
 * mount, with the options runc gives it (bind, nosuid, noexec, nodev, ro), from the
 * copy of it held open at `tree` where there is one (MountSpec.tree; then slave too),
 * and NOTIFY_SOCKET naming the socket there appended to the program's environment,
 * which wins over one process.env has (the exec step keeps a name's last entry,
 * plugins/exec/env.ts).
 */
export function withNotifySocket(config: RootfsConfig, dir: string, tree?: number): RootfsConfig {
  // A copy of a shared mount is a peer of it (clone_mnt(), fs/namespace.c): made in the
  // first process's mount namespace, it would carry what the container mounts on it
  // back there. MS_SLAVE, set once it is attached, lets nothing out, as a bind made in
  // the container's namespace (a copy of slaves there) lets nothing out.
  const options = ['bind', 'nosuid', 'noexec', 'nodev', 'ro', ...(tree === undefined ? [] : ['slave'])];
  const mounted = withOciMount(config, { destination: NOTIFY_DIR_IN_CONTAINER, source: dir, options });
  const env = [...config.process.env, `${NOTIFY_SOCKET_ENV}=${NOTIFY_DIR_IN_CONTAINER}/${NOTIFY_SOCKET_NAME}`];
  const mounts = tree === undefined ? mounted.mounts : [...mounted.mounts.slice(0, -1), { ...mounted.mounts[mounted.mounts.length - 1], tree }];
  return { ...mounted, mounts, process: { ...mounted.process, env } };
}

/**
 * The run's own socket and its directory, made by the first process before the relaunch
 * starts (open), read once the relaunch runs (start) until the container ends, then
 * closed and removed (end).
 */
export class NotifyRelay {
  private socket: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** The MAINPID told with READY=, from start on. */
  private mainPid: number | undefined;
  /** Whether READY= has been passed on: what comes after it is dropped. */
  private told = false;

  private constructor(
    private readonly sys: NotifyPort,
    /** What open made, removed by close. */
    private readonly made: Made,
    /** The socket's directory, which the relaunch binds into the container. */
    readonly dir: string,
    socket: number,
    /** The caller's NOTIFY_SOCKET. */
    private readonly host: string,
    private readonly warn: (message: string) => void,
  ) {
    this.socket = socket;
  }

  /**
   * Makes `parent` (`access`: notifyParentAccess), the directory in it
   * (NOTIFY_DIR_NAME) and the socket there (NOTIFY_SOCKET_NAME). mkdir(2) and bind(2)
   * take the umask from the modes they are given, so each mode is set after them: the
   * socket's directory 0755 and the socket 0777, so that any user of the container may
   * send through the bind (connect(2) and sendto(2) to a unix socket's file need write
   * permission on it, unix(7)), whatever the caller's umask. `parent` stays this
   * process's, 0700, until all is made: its mode and owner are set last, so that its
   * owner-to-be, who may then rename what it holds, cannot swap a name for a symlink
   * while the socket is bound and its mode set by path. Both directories are held open
   * (O_PATH) from their mkdir(2) on, for their removal (close). With `copy`, a detached
   * copy of the socket's directory is made before `parent`'s mode is set (detachedCopy):
   * where the kernel makes it, `parent` stays 0700, this process's, whatever `access`
   * says, as the relaunch attaches the copy and looks up no path (tree). What is made is
   * removed again when a step fails.
   */
  static open(sys: NotifyPort, parent: string, host: string, warn: (message: string) => void, access: NotifyParentAccess, copy = false): NotifyRelay {
    sys.mkdir(parent, 0o700);
    const dir = path.join(parent, NOTIFY_DIR_NAME);
    const file = path.join(dir, NOTIFY_SOCKET_NAME);
    const made: Made = { parent, dir: false, socket: false };
    let socket: number | undefined;
    try {
      made.parentFd = sys.open(parent, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      sys.mkdir(dir, 0o755);
      made.dir = true;
      const dirFd = sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
      made.dirFd = dirFd;
      sys.chmod(dir, 0o755);
      socket = sys.bindUnixDatagram(file);
      made.socket = true;
      sys.chmod(file, 0o777);
      if (copy) made.tree = detachedCopy(sys, dirFd);
      const { mode, owner, searcher }: NotifyParentAccess = made.tree === undefined ? access : { mode: 0o700 };
      sys.chmod(parent, mode);
      if (owner !== undefined) sys.chown(parent, owner, -1);
      if (searcher !== undefined) searchableBy(sys, parent, mode, searcher);
      return new NotifyRelay(sys, made, dir, socket, host, warn);
    } catch (err) {
      // What cannot be closed or removed is left: the error told is the one of the step that failed.
      if (socket !== undefined) attempt(() => sys.close(socket!), () => undefined);
      removeMade(sys, made, () => undefined);
      throw err;
    }
  }

  /** The detached copy of the socket's directory (open's `copy`) this process holds, which the relaunch is given to attach; undefined where none was made, or once released. */
  get tree(): number | undefined {
    return this.made.tree;
  }

  /** Closes this process's descriptor of the copy, once the relaunch holds its own (or will not start); close does it otherwise. A close that fails is warned about. */
  releaseTree(): void {
    const tree = this.made.tree;
    if (tree === undefined) return;
    this.made.tree = undefined;
    attempt(() => this.sys.close(tree), (err) => this.warn(`${NOTIFY_SOCKET_ENV}: the copy of the run's socket's directory: ${err.message}`));
  }

  /** Reads the socket every NOTIFY_POLL_MS from now on, on a timer that does not hold the event loop; `mainPid` is the MAINPID told with READY=. */
  start(mainPid: number): void {
    if (this.socket === undefined || this.timer !== undefined) return;
    this.mainPid = mainPid;
    this.every(NOTIFY_POLL_MS);
  }

  private every(ms: number): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = setInterval(() => this.poll(), ms);
    this.timer.unref();
  }

  /** Once the container has ended: what it sent since the last look is read (a READY= sent just before its end is passed on), then the relay closes. */
  end(): void {
    this.poll();
    this.close();
  }

  /**
   * Takes every datagram waiting. At the first READY= line (readyLine) the caller's
   * socket is sent that line and then `MAINPID=<mainPid>`, each as a datagram of its own
   * ending in a newline; from then on the socket is only emptied, every NOTIFY_DRAIN_MS.
   * A descriptor a datagram passed (FDSTORE=1) is closed, not stored. A send the caller's
   * socket refuses is warned about, once; the run goes on. Nothing is read before start,
   * and at most NOTIFY_POLL_MAX datagrams at one look.
   */
  poll(): void {
    const mainPid = this.mainPid;
    for (let taken = 0; this.socket !== undefined && mainPid !== undefined && taken < NOTIFY_POLL_MAX; taken++) {
      let message: { data: string; fd?: number };
      try {
        message = this.sys.recvFdMessage(this.socket);
      } catch (err) {
        if ((err as { code?: string }).code === 'EAGAIN') return;
        this.warn(`${NOTIFY_SOCKET_ENV}: the run's socket: ${(err as Error).message}`);
        this.close();
        return;
      }
      if (message.fd !== undefined) this.sys.close(message.fd);
      const line = this.told ? undefined : readyLine(message.data);
      if (line === undefined) continue;
      this.told = true;
      try {
        this.sys.sendUnixDatagram(this.host, `${line}\n`);
        this.sys.sendUnixDatagram(this.host, `MAINPID=${mainPid}\n`);
      } catch (err) {
        this.warn(`${NOTIFY_SOCKET_ENV}: ${(err as Error).message}`);
      }
      if (this.timer !== undefined) this.every(NOTIFY_DRAIN_MS);
    }
  }

  /** Stops reading, closes the socket and removes it and the two directories (once): the container's bind of the directory shows it empty from then on. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    const socket = this.socket;
    if (socket === undefined) return;
    // Never closed twice, even where this close fails: the number may be another file's by the next call.
    this.socket = undefined;
    const failed = (err: Error) => this.warn(`${NOTIFY_SOCKET_ENV}: the run's socket: ${err.message}`);
    attempt(() => this.sys.close(socket), failed);
    removeMade(this.sys, this.made, failed);
  }
}

/** What NotifyRelay.open made: the run's directory (`parent`) and, once open, its descriptor; whether the socket's directory and the socket were made, that directory's descriptor and its detached copy. */
interface Made {
  parent: string;
  parentFd?: number;
  dir: boolean;
  dirFd?: number;
  socket: boolean;
  tree?: number;
}

/**
 * Lets host uid `searcher` search `parent` (of `mode`, this process's) and nobody else
 * more: an access ACL entry giving it x (core/posix-acl.ts), set by path as the owner may.
 * On a filesystem without POSIX ACLs (EOPNOTSUPP: tmpfs built without them, or one
 * mounted noacl), 0711: any user may then pass through.
 */
function searchableBy(sys: Pick<Syscalls, 'lsetxattr' | 'chmod'>, parent: string, mode: number, searcher: number): void {
  try {
    sys.lsetxattr(parent, XATTR_NAME_POSIX_ACL_ACCESS, aclWithUser(mode, searcher, 1));
  } catch (err) {
    if (!(err instanceof SyscallError) || err.code !== 'EOPNOTSUPP') throw err;
    sys.chmod(parent, 0o711);
  }
}

/**
 * A detached copy of the directory open as `dirFd` (open_tree(2) OPEN_TREE_CLONE with
 * AT_EMPTY_PATH: the mount holding it, from that directory down, without its submounts),
 * which a process of another mount namespace may attach with move_mount(2) without any
 * lookup of its path: the relaunch's root in a user namespace, whose host uid may not
 * search the directories on the way (the run's, 0700, or TMPDIR's ancestors). A copy made
 * in the initial user namespace carries no lock: the container may remount it, which
 * changes nothing it may write (a directory of this process's, 0755, holding its socket).
 * Undefined where the kernel refuses the call: before Linux 5.2 (ENOSYS), or a seccomp
 * filter or a process without CAP_SYS_ADMIN over its mount namespace (EPERM); the relaunch
 * then binds the directory by path.
 */
function detachedCopy(sys: Pick<Syscalls, 'openTree'>, dirFd: number): number | undefined {
  try {
    return sys.openTree(dirFd, '', OPEN_TREE_CLONE | AT_EMPTY_PATH | O_CLOEXEC);
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'ENOSYS' || err.code === 'EPERM')) return undefined;
    throw err;
  }
}

/**
 * Removes what `made` holds, the last made first: the socket and the socket's directory
 * with unlinkat(2) in the directory held open that holds each, where a name is looked
 * up once, in that directory wherever it is now (its owner, where `parent` was given to
 * the relaunch's uid, may have renamed `notify` and put a symlink there: unlink(2) of a
 * path through it would remove a file elsewhere, and unlinkat(2) of a symlink with
 * AT_REMOVEDIR fails ENOTDIR); then `parent` with rmdir(2), by its path in the
 * directory it was made in (TMPDIR's, the caller's); then the descriptors, the copy's
 * first. A removal that fails is given to `failed` and the next is tried.
 */
function removeMade(sys: Pick<Syscalls, 'unlinkat' | 'rmdir' | 'close'>, made: Made, failed: (err: Error) => void): void {
  const { parentFd, dirFd } = made;
  const steps: (() => void)[] = [];
  if (made.socket && dirFd !== undefined) steps.push(() => sys.unlinkat(dirFd, NOTIFY_SOCKET_NAME, 0));
  if (made.dir && parentFd !== undefined) steps.push(() => sys.unlinkat(parentFd, NOTIFY_DIR_NAME, AT_REMOVEDIR));
  steps.push(() => sys.rmdir(made.parent));
  for (const fd of [made.tree, dirFd, parentFd]) if (fd !== undefined) steps.push(() => sys.close(fd));
  for (const step of steps) attempt(step, failed);
}

/** Runs `step`; an error it throws is given to `failed`. */
function attempt(step: () => void, failed: (err: Error) => void): void {
  try {
    step();
  } catch (err) {
    failed(err as Error);
  }
}
