/**
 * The container a relaunch started, as the first process reaches it: the relaunch
 * `spawned` itself (unshare without --fork, or nsenter), or unshare --fork's child, PID 1
 * of a new pid namespace. A pid names a process only until its parent reaps it: this
 * process reaps `spawned` (libuv, from its event loop, which may reap it before Node has
 * run its exit callback), unshare(1) reaps the container. So both are held by pidfds
 * (pidfd_open(2)): `spawned`'s opened as this object is made, right after spawn()
 * returned, before the event loop has run again; the container's the first time it is
 * looked for, checked after opening to be `spawned`'s child still. Signals (SIGKILL, the
 * ones passed on) and an idmapped copy's setns(2) go through them, never to a process
 * that took a pid once its holder was reaped. Where pidfds are refused (pidfd_open(2)
 * came in Linux 5.3; a seccomp filter may refuse it), both are found and signalled by pid
 * as they are read from /proc, with that check made before each use.
 */
import { readFileSync } from 'fs';
import { constants } from 'os';
import { O_CLOEXEC, O_RDONLY } from '../core/constants';
import type { Syscalls } from '../core/syscalls/types';
import { childrenOf, parentInStat } from './forward';

/** Where pids are read (a process's children, its parent: /proc) and signalled by pid. */
export interface ProcessTable {
  childrenOf(pid: number): number[];
  parentOf(pid: number): number | undefined;
  /** kill(2) of `signal` to `pid` (a process group: -pgid); false when it was not sent. */
  kill(pid: number, signal: number): boolean;
}

/** The parent of `pid` (its /proc/PID/stat), undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    return parentInStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function kill(pid: number, signal: number): boolean {
  try {
    process.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

const PROC: ProcessTable = { childrenOf, parentOf, kill };

const { SIGKILL } = constants.signals;

export class ContainerProcess {
  /** `spawned`'s pidfd; undefined where pidfds are refused. */
  private readonly starter: number | undefined;
  /** The container's pidfd from the first time it is found (the starter's own when direct). */
  private fd: number | undefined;
  private found: number | undefined;
  private closed = false;

  /**
   * `reaped` tells whether Node has run `spawned`'s exit: where pidfds are refused, whether
   * its pid, its process group's and the container's may be other processes' by now.
   */
  constructor(
    private readonly sys: Pick<Syscalls, 'pidfdOpen' | 'pidfdSendSignal' | 'open' | 'close'>,
    private readonly spawned: number,
    private readonly direct: boolean,
    private readonly reaped: () => boolean,
    private readonly proc: ProcessTable = PROC,
  ) {
    this.starter = this.pidfdOf(spawned);
    if (this.starter !== undefined && direct) {
      this.fd = this.starter;
      this.found = spawned;
    }
  }

  /** Its pid as this process sees it while it is there (a zombie too); undefined before unshare has forked it and once it is gone. */
  pid(): number | undefined {
    if (this.starter === undefined) return this.byPid();
    return this.open() && this.send(this.fd!, 0) ? this.found : undefined;
  }

  /** kill(2) or pidfd_send_signal(2) of `signal` to it; false when it was not sent (no container yet, or any more). */
  signal(signal: number): boolean {
    if (this.starter !== undefined) return this.open() && this.send(this.fd!, signal);
    const pid = this.byPid();
    return pid !== undefined && this.proc.kill(pid, signal);
  }

  /**
   * `fn` given a descriptor setns(2) takes for the container's namespaces: its pidfd, or,
   * where pidfds are refused, its /proc/PID/ns/mnt opened for the call; undefined when
   * there is no container.
   */
  inNamespaceOf<T>(fn: (fd: number | undefined) => T): T {
    if (this.starter !== undefined) return fn(this.pid() === undefined ? undefined : this.fd);
    const pid = this.byPid();
    if (pid === undefined) return fn(undefined);
    const ns = this.sys.open(`/proc/${pid}/ns/mnt`, O_RDONLY | O_CLOEXEC, 0);
    try {
      return fn(ns);
    } finally {
      this.sys.close(ns);
    }
  }

  /**
   * SIGKILL to the container. When `direct` it leads a process group of its own (the
   * session step's setsid, or its console's), which its children share unless they left
   * it: the group goes first, while `spawned`, whose pid is the group's id, is known not
   * to be reaped (this process reaps it only from its event loop). Without a pid
   * namespace to end with it, the rest is out of reach (runc kills what is left in the
   * container's cgroup). Else it is PID 1 of its pid namespace, whose end ends every
   * process in it; unshare goes first, as it would report the container's SIGKILL with a
   * message of its own (util-linux 2.38), and the container is found before that:
   * unshare's children get another parent as it exits.
   */
  stop(): void {
    if (!this.starterHere()) return;
    if (this.direct) {
      this.proc.kill(-this.spawned, SIGKILL);
      this.signal(SIGKILL);
      return;
    }
    if (this.starter === undefined) {
      const pid = this.byPid();
      this.proc.kill(this.spawned, SIGKILL);
      if (pid !== undefined) this.proc.kill(pid, SIGKILL);
      return;
    }
    this.open();
    this.send(this.starter, SIGKILL);
    if (this.fd !== undefined) this.send(this.fd, SIGKILL);
  }

  /** Closes the pidfds; nothing is found or signalled after. */
  close(): void {
    this.closed = true;
    for (const fd of new Set([this.starter, this.fd])) if (fd !== undefined) this.sys.close(fd);
  }

  /** Whether `spawned` is still there, not reaped by this process (a zombie is). */
  private starterHere(): boolean {
    if (this.closed) return false;
    return this.starter === undefined ? !this.reaped() : this.send(this.starter, 0);
  }

  /**
   * Opens the container's pidfd the first time it is there. Its pid is `spawned`'s child
   * when read, and is checked to be so after the pidfd is open: had the container been
   * reaped and its pid taken between the two, the new process would not be unshare's
   * child (unshare --fork forks once), so a pidfd that passes refers to the container.
   */
  private open(): boolean {
    if (this.closed) return false;
    if (this.fd !== undefined) return true;
    if (!this.starterHere()) return false;
    const pid = this.proc.childrenOf(this.spawned)[0];
    const fd = pid === undefined ? undefined : this.pidfdOf(pid);
    if (fd === undefined) return false;
    if (this.proc.parentOf(pid!) !== this.spawned) {
      this.sys.close(fd);
      return false;
    }
    this.fd = fd;
    this.found = pid!;
    return true;
  }

  /** Where pidfds are refused: the container's pid while `spawned` is not reaped and, with --fork, while it is `spawned`'s child. */
  private byPid(): number | undefined {
    if (!this.starterHere()) return undefined;
    if (this.direct) return this.spawned;
    const pid = this.proc.childrenOf(this.spawned)[0];
    return pid !== undefined && this.proc.parentOf(pid) === this.spawned ? pid : undefined;
  }

  /** A pidfd of `pid` that takes a signal, or undefined: it is gone (ESRCH), or pidfds are refused here (ENOSYS, or EPERM from a seccomp filter). */
  private pidfdOf(pid: number): number | undefined {
    let fd: number;
    try {
      fd = this.sys.pidfdOpen(pid);
    } catch {
      return undefined;
    }
    if (this.send(fd, 0)) return fd;
    this.sys.close(fd);
    return undefined;
  }

  /** pidfd_send_signal(2); false when not sent: the process has been reaped (ESRCH), or the call is refused. */
  private send(fd: number, signal: number): boolean {
    try {
      this.sys.pidfdSendSignal(fd, signal);
      return true;
    } catch {
      return false;
    }
  }
}
