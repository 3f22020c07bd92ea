import { inject, injectable } from 'tsyringe';
import type { MountSpec } from '../../core/config/model';
import { MS_BIND, MS_REMOUNT, O_CLOEXEC, O_PATH, PROC_SUPER_MAGIC } from '../../core/constants';
import { StepError, SyscallError } from '../../core/errors';
import { attachTree } from '../../core/idmapped-tree';
import { fdPath } from '../../core/in-root';
import { afterAttach, afterMount, bindNeedsRemount, containerRoot, hasStepsAfter, mountOn, remountBind, withMountTarget, type TargetKind } from '../../core/mounting';
import { SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import { relabelTree, selinuxEnabled } from '../../core/selinux';
import type { Syscalls } from '../../core/syscalls/types';
import { attachCopy, type AttachedCopy } from './attach';
import { remountAttrs } from './attr';
import { mountIdmapped, requestIdmapped } from './idmap';
import { keepLockedFlags, lockedChange } from './locked';
import { relabelMode, relabelProblem, relabelTarget } from './relabel';

/**
 * The flags of both bind calls. MS_BIND always: a mount built in code with type "bind"
 * may lack it, and without it mount(2) would look for a filesystem named "bind"
 * (ENODEV). A read-only bind is read-only from its attach (a copy made read-only) or
 * its remount on, at /dev too (runc remounts a bind with its own flags; the finalize
 * step makes /dev read-only again): nothing of mountkit's is made in a /dev bound whole
 * (needsDevSetup), and a later mount under it must not make its mountpoint in the
 * source, which may be the host's.
 */
export function bindFlags(m: MountSpec): bigint {
  return m.flags | MS_BIND;
}

/**
 * Bind mounts (type "bind"; the config loader gives that type to every mount whose options
 * hold bind or rbind). Follows runc 1.1: the source must exist, the target is looked up
 * inside the rootfs at mount time, made to match the source's kind when missing, and
 * mounted through its descriptor, or a copy of the source attached to it: one held for
 * it (MountSpec.tree), an idmapped one (idmap.ts, as runc 1.2 does), or a plain one when
 * steps follow the mount (attach.ts:
 * they act on it through its descriptor); flags the first call ignores are given to a
 * plain bind's copy before it is attached (attach.ts: open_tree_attr(2), Linux 6.15, or
 * mount_setattr(2), 5.12), or else by a remount of the bind (keeping the flags a user
 * namespace locked on it, as runc 1.2 does), the source is relabelled on request, and
 * recursive attributes come last.
 */
@injectable()
export class BindMountHandler implements MountHandler {
  readonly name = 'bind';
  readonly types = ['bind'];

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  mount(m: MountSpec, ctx: RunContext): void {
    // A word no table knows is filesystem data (config/options.ts), which mount(2) does not
    // read for MS_BIND or MS_REMOUNT|MS_BIND: a misspelt flag ("rdonly") would leave the
    // bind writable without a word, as under runc.
    if (m.data !== '') ctx.log.warn(`mounts[${m.index}].options ${JSON.stringify(m.data)}: ignored: no option of a bind, whose mount(2) reads no filesystem data`);
    const label = this.relabelLabel(m, ctx);
    const { idmapSocket, runtimeChannel } = ctx.config;
    // A copy held for it (MountSpec.tree); in a user namespace, mountkit's first process makes the idmapped copy (idmap.ts).
    const copy = m.tree ?? (m.idmap && idmapSocket !== undefined && runtimeChannel !== undefined ? requestIdmapped(this.sys, m, runtimeChannel, idmapSocket) : undefined);
    try {
      // The source's kind, asked only for a missing target: stat(2) follows links, as
      // mount(2) does; the copy's is its source's (the path may be out of this process's reach).
      const kind = (): TargetKind => ((copy === undefined ? this.sys.stat(m.source) : this.sys.fstat(copy)).kind === 'dir' ? 'dir' : 'file');
      this.sourceNamed(m.source, () => this.mountFrom(m, ctx, label, kind, copy));
    } finally {
      if (copy !== undefined) this.sys.close(copy);
    }
  }

  /**
   * The bind of `m.source`, or the attach of a copy of it (the idmapped `copy` given), then
   * its flags, propagation, label and attributes. `kind` is asked only for a missing
   * target, made to match the source.
   */
  private mountFrom(m: MountSpec, ctx: RunContext, label: string | undefined, kind: () => TargetKind, copy: number | undefined): void {
    const root = containerRoot(this.sys, ctx);
    const flags = bindFlags(m);
    // Looked up now, not when the config was read: an earlier mount may have put a symlink
    // on the way; the lookup keeps every link (absolute or "..") inside the rootfs. A
    // missing target is made to match the source's kind (the source stat()ed then, before
    // anything is made); one of the wrong kind is left for mount(2) to refuse with ENOTDIR.
    // A bind of a procfs may cover /proc, as runc allows it (checkProcMount); anything else may not (procDestinationProblem).
    const mayBeProc = () => this.onProcfs(m.source, copy);
    const remount = bindNeedsRemount(flags);
    // MS_BIND ignores ro, nosuid, nodev, noexec and the atime flags on the first call
    // (mount(2), "Creating a bind mount"); MS_REMOUNT|MS_BIND applies them to this mount
    // only, unless its copy was given them before the attach (attach.ts). runc 1.1 passes
    // the source and "bind" there too, but for MS_REMOUNT|MS_BIND the kernel reads only the
    // target and the flags (do_reconfigure_mnt, fs/namespace.c).
    const between = (remountAfter: boolean) =>
      remountAfter || label
        ? (top: string, fd: number) => {
            if (remountAfter) this.remount(top, fd, flags, m.clearedFlags);
            if (label) relabelTree(this.sys, m.source, label);
          }
        : undefined;
    withMountTarget(this.sys, root, m.destination, { kind, mayBeProc }, (t) => {
      const made = this.attached(m, t.fd, ctx.shared, copy, between(remount), remount ? flags : undefined);
      if (made !== undefined) {
        try {
          afterAttach(this.sys, root, m, t, made.tree, { between: between(remount && !made.flagsSet), placed: made.flagsSet });
        } finally {
          if (made.tree !== copy) this.sys.close(made.tree);
        }
        return;
      }
      // runc passes the type "bind"; with MS_BIND the kernel ignores fstype and data.
      mountOn(this.sys, m, { source: m.source, target: fdPath(t.fd), fstype: 'bind', flags, data: m.data });
      // Where a copy could not be attached, the steps act on the new bind opened again and checked to be it (afterMount), never on what a path swapped in since leads to.
      afterMount(this.sys, root, m, t, between(remount));
    });
  }

  /**
   * The copy of the source attached onto the target open as `targetFd`, whose descriptor
   * the steps after the mount act through (afterAttach): the idmapped `copy` mountkit's
   * first process sent, an idmapped one made here (idmap.ts), or, when steps follow the
   * mount (hasStepsAfter: `between`, propagation or recursive attributes), a plain one
   * (attach.ts), made with the bind's `flags` where they need a remount and the kernel
   * takes them on the copy.
   * Undefined when the bind is to be made with mount(2). The caller closes what is not `copy`.
   */
  private attached(m: MountSpec, targetFd: number, shared: Map<string, unknown>, copy: number | undefined, between: unknown, flags: bigint | undefined): AttachedCopy | undefined {
    if (copy !== undefined) {
      attachTree(this.sys, copy, m.source, targetFd);
      return { tree: copy, flagsSet: false };
    }
    if (m.idmap) return { tree: mountIdmapped(this.sys, m, m.idmap, targetFd, shared), flagsSet: false };
    // A remount of an existing bind (MS_REMOUNT among its flags) makes no new mount to copy.
    if ((m.flags & MS_REMOUNT) !== 0n) return undefined;
    return hasStepsAfter(m, between) ? attachCopy(this.sys, m, targetFd, shared, flags === undefined ? undefined : remountAttrs(flags)) : undefined;
  }

  /**
   * MS_REMOUNT|MS_BIND of the new bind (`top`, open as `fd`) with `flags`. Inside a user
   * namespace the bind may carry flags the kernel locked on its source (locked.ts): the
   * remount that would clear them is EPERM, and is made again with them kept (fstatfs(2)
   * of the bind gives them) unless that would not be what the config asked for.
   */
  private remount(top: string, fd: number, flags: bigint, cleared: bigint): void {
    try {
      remountBind(this.sys, top, flags);
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EPERM') throw err;
      const st = this.sys.fstatfs(fd).flags;
      const kept = keepLockedFlags(flags, cleared, st);
      if (kept === undefined) {
        const why = lockedChange(flags, cleared, st);
        throw why === undefined ? err : new SyscallError(err.syscall, err.errno, err.paths, why);
      }
      if (kept === flags) throw err;
      remountBind(this.sys, top, kept);
    }
  }

  /** Whether the source (its idmapped `copy` when there is one) is on a procfs: fstatfs(2) of a descriptor of it. */
  private onProcfs(source: string, copy: number | undefined): boolean {
    if (copy !== undefined) return this.sys.fstatfs(copy).type === PROC_SUPER_MAGIC;
    const fd = this.sys.open(source, O_PATH | O_CLOEXEC, 0);
    try {
      return this.sys.fstatfs(fd).type === PROC_SUPER_MAGIC;
    } finally {
      this.sys.close(fd);
    }
  }

  /**
   * `fn`, where a missing source is the run's refusal naming it: the source is first
   * looked up by whichever call needs it (open(2) where the target is /proc, stat(2) where
   * the target is missing, open_tree(2), open_tree_attr(2) or mount(2) of the bind), each
   * ENOENT for it.
   */
  private sourceNamed<T>(source: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw sourceMissing(source, err) ?? err;
    }
  }

  /**
   * The label to give the source after the mount, or undefined for none: without SELinux
   * or without a mount label there is nothing to write (go-selinux does the same). Decided
   * before anything is made, so a refused relabel leaves nothing mounted.
   */
  private relabelLabel(m: MountSpec, ctx: RunContext): string | undefined {
    const mode = relabelMode(m.relabel);
    const label = ctx.config.mountLabel;
    if (!mode || !label || !selinuxEnabled(this.sys, ctx)) return undefined;
    const problem = relabelProblem(m.source);
    if (problem) throw new StepError(problem);
    return relabelTarget(mode, label);
  }
}

/** The calls that look the bind's source up by its path (BindMountHandler.sourceNamed). */
const SOURCE_LOOKUPS: ReadonlySet<string> = new Set(['open', 'stat', 'open_tree', 'open_tree_attr', 'mount']);

/** The refusal of a bind whose source does not exist, where `err` is the ENOENT of a lookup of it (SOURCE_LOOKUPS); else undefined. */
function sourceMissing(source: string, err: unknown): StepError | undefined {
  if (!(err instanceof SyscallError) || err.code !== 'ENOENT' || !SOURCE_LOOKUPS.has(err.syscall) || err.paths[0] !== source) return undefined;
  return new StepError(`bind source ${JSON.stringify(source)} does not exist`, { cause: err });
}
