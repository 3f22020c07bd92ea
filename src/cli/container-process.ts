/**
 * The container a relaunch started, as the first process reaches it: the relaunch
 * `spawned` itself (unshare without --fork, or nsenter), or unshare --fork's child, PID 1
 * of a new pid namespace. It is held by a pidfd (pidfd_open(2)) from the first time it is
 * looked for: signals and an idmapped copy's setns(2) reach that process, never one that
 * takes its pid once it has been reaped. A pid names a process only until its parent
 * reaps it; this process reaps `spawned` (Node does, from its event loop), but unshare(1)
 * reaps the container.
 */
import { readFileSync } from 'fs';
import { constants } from 'os';
import { SyscallError } from '../core/errors';
import type { Syscalls } from '../core/syscalls/types';
import { childrenOf, parentInStat } from './forward';

/** Where the container's pid is read (its starter's children, a process's parent: /proc), and SIGKILL by pid. */
export interface ProcessTable {
  childrenOf(pid: number): number[];
  parentOf(pid: number): number | undefined;
  /** SIGKILL to `pid` (a process group: -pgid), which may have ended already. */
  kill(pid: number): void;
}

/** The parent of `pid` (its /proc/PID/stat), undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    return parentInStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Gone already: nothing to stop.
  }
}

const PROC: ProcessTable = { childrenOf, parentOf, kill: killQuietly };

export class ContainerProcess {
  private fd: number | undefined;
  private found: number | undefined;
  private closed = false;

  /**
   * `reaped` tells whether Node has reaped `spawned`: from then on its pid, its process
   * group's and the container's may be other processes'.
   */
  constructor(
    private readonly sys: Pick<Syscalls, 'pidfdOpen' | 'pidfdSendSignal' | 'close'>,
    private readonly spawned: number,
    private readonly direct: boolean,
    private readonly reaped: () => boolean,
    private readonly proc: ProcessTable = PROC,
  ) {}

  /** Its pid as this process sees it while it is there (a zombie too); undefined before unshare has forked it and once it is gone. */
  pid(): number | undefined {
    return this.pidfd() === undefined ? undefined : this.found;
  }

  /** Its pidfd while it is there, as pid(); the descriptor stays this object's (close()). */
  pidfd(): number | undefined {
    return this.signal(0) ? this.fd : undefined;
  }

  /** pidfd_send_signal(2) of `signal` (0 only checks); false when there is no container (yet or any more). */
  signal(signal: number): boolean {
    if (!this.open()) return false;
    try {
      this.sys.pidfdSendSignal(this.fd!, signal);
      return true;
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ESRCH') return false;
      throw err;
    }
  }

  /**
   * SIGKILL to the container. When `direct` it leads a process group of its own (the
   * session step's setsid, or its console's), which its children share unless they left
   * it: the group goes too. Without a pid namespace to end with it, the rest is out of
   * reach (runc kills what is left in the container's cgroup). Else it is PID 1 of its
   * pid namespace, whose end ends every process in it; unshare goes first, as it would
   * report the container's SIGKILL with a message of its own (util-linux 2.38), and the
   * container is opened before that: unshare's children get another parent as it exits.
   */
  stop(): void {
    if (this.closed || this.reaped()) return;
    if (this.direct) {
      this.proc.kill(-this.spawned);
    } else {
      this.open();
      this.proc.kill(this.spawned);
    }
    this.signal(constants.signals.SIGKILL);
  }

  /** Closes the pidfd; nothing is found after. */
  close(): void {
    this.closed = true;
    if (this.fd !== undefined) this.sys.close(this.fd);
    this.fd = undefined;
  }

  /**
   * Opens the pidfd the first time the container is there. Its pid is unshare's child
   * when read, and is checked to be so after the pidfd is open: had the container been
   * reaped and its pid taken between the two, the new process would not be unshare's
   * child (unshare forks once), so a pidfd that passes refers to the container.
   */
  private open(): boolean {
    if (this.fd !== undefined) return true;
    // Not reaped: this process reaps `spawned` only from its event loop, after this call.
    if (this.closed || this.reaped()) return false;
    const pid = this.direct ? this.spawned : this.proc.childrenOf(this.spawned)[0];
    if (pid === undefined) return false;
    let fd: number;
    try {
      fd = this.sys.pidfdOpen(pid);
    } catch (err) {
      if (err instanceof SyscallError && err.code === 'ESRCH') return false;
      throw err;
    }
    if (!this.direct && this.proc.parentOf(pid) !== this.spawned) {
      this.sys.close(fd);
      return false;
    }
    this.fd = fd;
    this.found = pid;
    return true;
  }
}

