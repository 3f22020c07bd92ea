/**
 * The container a relaunch started, as the first process reaches it: the relaunch
 * `spawned` itself (unshare without a new pid namespace, or nsenter), or the child
 * `spawned` forks as PID 1 of a new pid namespace (the shell unshare(1) runs,
 * PID_NAMESPACE_PARENT in core/namespaces.ts). A pid names a process only until its
 * parent reaps it: this process reaps `spawned` (libuv, from its event loop, which may
 * reap it before Node has run its exit callback), `spawned` reaps the container. So both are held by pidfds
 * (pidfd_open(2)): `spawned`'s opened as this object is made, right after spawn()
 * returned, before the event loop has run again; the container's the first time it is
 * looked for, checked after opening to be `spawned`'s child still. Signals (SIGKILL, the
 * ones passed on) and an idmapped copy's setns(2) go through them, never to a process
 * that took a pid once its holder was reaped.
 *
 * Where pidfds are refused (pidfd_open(2) came in Linux 5.3; a seccomp filter may refuse
 * it, or pidfd_send_signal(2)), `spawned` is known by its pid and its start time (read
 * as this object is made) and the container by its pid, checked before each use to be
 * `spawned`'s child while `spawned` has that start time; so is the container where its
 * own pidfd cannot be opened (no descriptor left). A window is left there between a check
 * and the kill(2) after it.
 */
import { readFileSync } from 'fs';
import { constants } from 'os';
import { O_CLOEXEC, O_RDONLY } from '../core/constants';
import { SyscallError } from '../core/errors';
import type { Syscalls } from '../core/syscalls/types';
import { childrenOf, parentInStat, startTimeInStat } from './forward';

/** Where pids are read (a process's children, its parent and start time: /proc) and signalled by pid. */
export interface ProcessTable {
  childrenOf(pid: number): number[];
  parentOf(pid: number): number | undefined;
  /** Field 22 of /proc/PID/stat (forward.ts startTimeInStat); undefined once it is gone. */
  startTimeOf(pid: number): string | undefined;
  /** kill(2) of `signal` to `pid` (a process group: -pgid); false when it was not sent. */
  kill(pid: number, signal: number): boolean;
}

/** /proc/PID/stat (`self`: this process's), or undefined when it cannot be read (the process is gone). */
export function statOf(pid: number | 'self'): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
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

const PROC: ProcessTable = {
  childrenOf,
  parentOf: (pid) => {
    const stat = statOf(pid);
    return stat === undefined ? undefined : parentInStat(stat);
  },
  startTimeOf: (pid) => {
    const stat = statOf(pid);
    return stat === undefined ? undefined : startTimeInStat(stat);
  },
  kill,
};

const { SIGKILL } = constants.signals;

/** How the container is reached: its pidfd, or its pid where that cannot be had. */
type Target = { fd: number } | { pid: number };

export class ContainerProcess {
  /** `spawned`'s pidfd; undefined where pidfds are refused. */
  private readonly starter: number | undefined;
  /** `spawned`'s start time, where pidfds are refused. */
  private readonly started: string | undefined;
  /** The container's pidfd from the first time it is found (the starter's own when direct). */
  private fd: number | undefined;
  /** The container's pid from the first time it is found, by its pidfd or by pid. */
  private found: number | undefined;
  /** Whether the container is reached by pid: pidfds are refused, or its own could not be opened. */
  private byPid: boolean;
  private closed = false;

  /** `reaped` tells whether Node has run `spawned`'s exit callback. */
  constructor(
    private readonly sys: Pick<Syscalls, 'pidfdOpen' | 'pidfdSendSignal' | 'open' | 'close'>,
    private readonly spawned: number,
    private readonly direct: boolean,
    private readonly reaped: () => boolean,
    private readonly proc: ProcessTable = PROC,
  ) {
    this.starter = this.pidfdOf(spawned);
    this.byPid = this.starter === undefined;
    this.started = this.byPid ? proc.startTimeOf(spawned) : undefined;
    if (this.starter !== undefined && direct) {
      this.fd = this.starter;
      this.found = spawned;
    }
  }

  /**
   * The pid it had when this process found it, kept once it has ended and been reaped:
   * `spawned` when direct, else the child found at the first look that found one (pid(),
   * signal(), inNamespaceOf(), stop(), or this call), which is the container's since
   * `spawned` forks once; undefined while none was found. The poststart hooks' state
   * gives it: a short program may have ended, and been reaped, by the time this process
   * reads the "exec" event (core/runtime-hooks.ts).
   */
  foundPid(): number | undefined {
    if (this.direct) return this.spawned;
    if (this.found === undefined) this.target();
    return this.found;
  }

  /** Its pid as this process sees it while it is there (a zombie too); undefined before it has been forked and once it is gone. */
  pid(): number | undefined {
    const target = this.target();
    if (target === undefined) return undefined;
    if ('pid' in target) return target.pid;
    return this.send(target.fd, 0) ? this.found : undefined;
  }

  /** pidfd_send_signal(2) or kill(2) of `signal` to it; false when it was not sent (no container yet, or any more). */
  signal(signal: number): boolean {
    const target = this.target();
    return target !== undefined && this.deliver(target, signal);
  }

  /**
   * `fn` given a descriptor setns(2) takes for the container's namespaces: its pidfd, or,
   * where it is reached by pid, its /proc/PID/ns/mnt opened for the call (and the pid
   * checked again after opening); undefined when there is no container.
   */
  inNamespaceOf<T>(fn: (fd: number | undefined) => T): T {
    const target = this.target();
    if (target === undefined) return fn(undefined);
    if ('fd' in target) return fn(this.send(target.fd, 0) ? target.fd : undefined);
    const ns = this.sys.open(`/proc/${target.pid}/ns/mnt`, O_RDONLY | O_CLOEXEC, 0);
    try {
      return fn(this.starterHere() && this.pidTarget()?.pid === target.pid ? ns : undefined);
    } finally {
      this.sys.close(ns);
    }
  }

  /**
   * SIGKILL to the container. When `direct` it leads a process group of its own (the
   * session it was started in, cli/run.ts relaunch), which its children (a hook while the
   * rootfs is prepared) share unless they left it: the group goes first, by its id, which
   * is `spawned`'s pid, while `spawned` is there. Without a pid namespace to end with it, the rest is out of reach (runc kills
   * what is left in the container's cgroup). Else it is PID 1 of its pid namespace, whose
   * end ends every process in it; `spawned`, its parent, goes first, and the container is
   * found before that (a process's children get another parent as it exits) and killed
   * after: the parent-death signal mountkit gives itself does not reach a container whose
   * user changed (the kernel clears PR_SET_PDEATHSIG when a process's credentials
   * change).
   */
  stop(): void {
    if (!this.starterHere()) return;
    if (this.direct) {
      this.proc.kill(-this.spawned, SIGKILL);
      this.signal(SIGKILL);
      return;
    }
    const target = this.target();
    if (this.starter !== undefined) this.send(this.starter, SIGKILL);
    else this.proc.kill(this.spawned, SIGKILL);
    if (target !== undefined) this.deliver(target, SIGKILL);
  }

  /** Closes the pidfds; nothing is found or signalled after. */
  close(): void {
    this.closed = true;
    for (const fd of new Set([this.starter, this.fd])) if (fd !== undefined) this.sys.close(fd);
  }

  /** Whether `spawned` is still there, not reaped by this process (a zombie is). */
  private starterHere(): boolean {
    if (this.closed) return false;
    if (this.starter !== undefined) return this.send(this.starter, 0);
    // A start time not read as this object was made (no /proc to read) leaves Node's word alone.
    return !this.reaped() && (this.started === undefined || this.proc.startTimeOf(this.spawned) === this.started);
  }

  /**
   * The container, while `spawned` is there: its pidfd, opened the first time it is there,
   * else its pid. Its pid is `spawned`'s child when read, and is checked to be so after the
   * pidfd is open: had the container been reaped and its pid taken between the two, the
   * new process would not be `spawned`'s child (it forks once), so a pidfd that passes
   * refers to the container.
   */
  private target(): Target | undefined {
    if (!this.starterHere()) return undefined;
    if (this.fd !== undefined) return { fd: this.fd };
    if (this.byPid) return this.pidFound();
    const pid = this.proc.childrenOf(this.spawned)[0];
    if (pid === undefined) return undefined;
    let fd: number;
    try {
      fd = this.sys.pidfdOpen(pid);
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ESRCH') return undefined;
      this.byPid = true;
      return this.pidFound();
    }
    if (this.proc.parentOf(pid) !== this.spawned) {
      this.sys.close(fd);
      return undefined;
    }
    this.fd = fd;
    this.found = pid;
    return { fd };
  }

  /** pidTarget, its pid kept as the one found the first time there is one. */
  private pidFound(): { pid: number } | undefined {
    const target = this.pidTarget();
    if (target !== undefined) this.found ??= target.pid;
    return target;
  }

  /** The container's pid, when reached by pid: `spawned` itself, or its child, checked to be so (the caller has checked `spawned`). */
  private pidTarget(): { pid: number } | undefined {
    if (this.direct) return { pid: this.spawned };
    const pid = this.proc.childrenOf(this.spawned)[0];
    return pid !== undefined && this.proc.parentOf(pid) === this.spawned ? { pid } : undefined;
  }

  private deliver(target: Target, signal: number): boolean {
    return 'fd' in target ? this.send(target.fd, signal) : this.proc.kill(target.pid, signal);
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
