/**
 * The port `mountkit plan` runs the pipeline on: the dry-run port (records every call,
 * performs nothing, answers from the host's filesystem) taught just enough of what the
 * calls would do for the later steps to ask the right questions, still without touching
 * anything:
 *
 * - A mount puts a new directory tree at its target in the model, hiding what was there,
 *   as mount(2) does: a bind mount shows its source's tree (views of the same model
 *   nodes, so a write through either path shows on both; a mount made inside the bind's
 *   tree is the bind's alone, as the kernel attaches it to the bind's mount and not to its
 *   source's), proc and sysfs show a fresh view of the host's /proc and /sys (the same
 *   kernel answers inside the container), without the host's mounts below them, anything else
 *   (tmpfs, mqueue, overlay, ...) an empty directory, a devpts one with its ptmx. Remounts, propagation
 *   changes, moves and unmounts leave the model as it is, but for each mount's state
 *   (syscalls/mount-state.ts): its own flags, its superblock's read-only flag and its
 *   propagation, which go with the mount's tree; a change below a read-only mount is
 *   EROFS (FakeSyscalls.refuseReadOnlyWrites). The host's mounts start with the states
 *   their mountinfo lines show (DryRunSyscalls). A bind shows only its source's
 *   filesystem: where a mount is below the source, the bind shows what that mount covers
 *   (underMount), or with MS_REC a copy of the mount with a state of its own (placeCopies),
 *   but for an unbindable one, which is not copied. A mount on the process's root goes on top of it,
 *   where only ".." from the root reaches it (graft).
 * - chroot(2) and pivot_root(2) make the new root the model's `/`, so the steps after the
 *   jail (cwd, /dev/null, masks, sysctls, the program's lookup) resolve their container
 *   paths inside the rootfs. A "." argument is the current directory, which the port
 *   follows through chdir(2) and through fchdir(2) of descriptors from open(2).
 * - fstat(2) and fstatfs(2) of the standard descriptors 0, 1 and 2, which the process
 *   inherits rather than opens, answer from the host's; so do the capability reads
 *   (the kernel's last capability, this process's bounding set) and whether there is a
 *   controlling terminal to give up.
 * - The descriptors passed to the container (--preserve-fds, socket activation) are
 *   those of this process's that are open, as a run finds the caller's (inheritOpen).
 * - fsopen(2) answers ENOSYS where this kernel has none (before Linux 5.2), and ENOSYS or
 *   EPERM where a seccomp filter refuses it to a process with CAP_SYS_ADMIN, asked at
 *   the first call: tmpcopyup is planned mounted on its destination and filled there,
 *   where the run makes it so.
 * - open_tree_attr(2) answers ENOSYS where this kernel has none (before Linux 6.15), and
 *   ENOSYS or EPERM where a seccomp filter refuses it, asked at the first call: a bind's
 *   copy is planned made by open_tree(2), given its flags by mount_setattr(2) (ENOSYS) or
 *   remounted (EPERM), where the run makes it so.
 * - mount_setattr(2) answers ENOSYS where this kernel has none (before Linux 5.12), and
 *   ENOSYS, EINVAL or (to a process with CAP_SYS_ADMIN) EPERM where a seccomp filter
 *   refuses it, asked at the first call: a bind's copy is planned remounted after its
 *   attach, where the run remounts it. A plan with CAP_SYS_ADMIN on 5.12 or 5.13 also
 *   has it answer EINVAL to a call that sets or clears MOUNT_ATTR_NOSYMFOLLOW, which
 *   those kernels do not know; one without the capability cannot ask (the kernel's own
 *   EPERM comes first) and plans the copy given its flags.
 * - open_tree(2) answers ENOSYS where this kernel has none (before Linux 5.2), and ENOSYS
 *   or EPERM where a seccomp filter refuses it, asked at the first call: binds are planned
 *   made by mount(2), where the run makes them so.
 *
 * For the plan's readers it also keeps what each open call returned and the path every
 * descriptor was opened at, since later calls name files by descriptor only
 * (mount(2) on /proc/thread-self/fd/N, the *at calls).
 */
import fs = require('fs');
import { posix } from 'path';
import { FSOPEN_CLOEXEC, MOUNT_ATTR_NOSYMFOLLOW, MOUNT_ATTR_RDONLY, MS_BIND, MS_MOVE, makedev } from '../constants';
import { SyscallError } from '../errors';
import { encodeName } from '../names';
import { channelMessage } from '../runtime-channel';
import { DryRunSyscalls } from '../syscalls/dryrun';
import { STARTER_SESSION, type FakeNode, type SyscallRecord } from '../syscalls/fake';
import { toFileStat } from '../syscalls/stat';
import { LinuxSyscalls } from '../syscalls/linux';
import type { FileStat, FsStat, IdMapping, SeccompCompiled, SeccompFilter, SyscallName } from '../syscalls/types';

/** Filesystems whose content is the kernel's view, the same inside and outside: the host's mount of each. */
const KERNEL_VIEWS: Readonly<Record<string, string>> = { proc: '/proc', sysfs: '/sys' };

const STDIO_FDS: ReadonlySet<number> = new Set([0, 1, 2]);

/** Whether this process has a controlling terminal: the plan runs where the run would, started the same way. */
function hasControllingTerminal(): boolean {
  try {
    fs.closeSync(fs.openSync('/dev/tty', fs.constants.O_RDWR | fs.constants.O_NOCTTY));
    return true;
  } catch {
    return false;
  }
}

/** Whether this process leads its process group and its session: /proc/self/stat's pgrp and session (proc(5)), after the parenthesized name. */
function hostSession(): { groupLeader: boolean; sessionLeader: boolean } {
  try {
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /s, '').split(' ');
    return { groupLeader: Number(fields[2]) === process.pid, sessionLeader: Number(fields[3]) === process.pid };
  } catch {
    return { groupLeader: false, sessionLeader: false };
  }
}

/** CAP_SYS_ADMIN (linux/capability.h), as a bit of /proc/self/status's CapEff. */
const CAP_SYS_ADMIN_BIT = 1n << 21n;

/** Whether this process has CAP_SYS_ADMIN in its effective set (/proc/self/status's CapEff); false where unreadable. */
function hasSysAdmin(): boolean {
  try {
    const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    return eff !== undefined && (BigInt(`0x${eff}`) & CAP_SYS_ADMIN_BIT) !== 0n;
  } catch {
    return false;
  }
}

/** The errno name `call` fails with on this host, or undefined where it succeeds (or throws without an errno). */
function probe(call: (sys: LinuxSyscalls) => void): string | undefined {
  try {
    call(new LinuxSyscalls());
    return undefined;
  } catch (err) {
    return err instanceof SyscallError ? err.code : undefined;
  }
}

/**
 * What fsopen(2) answers the run here, or undefined where it makes a context: asked with a
 * flag no kernel knows, which one with fsopen refuses before it makes anything (EINVAL),
 * after EPERM for a caller without CAP_SYS_ADMIN (fs/fsopen.c). ENOSYS is a kernel
 * without it (before Linux 5.2), or a seccomp filter answering so. EPERM to a process
 * with CAP_SYS_ADMIN is a seccomp filter's (or a security module refusing it the
 * capability), which a run started here meets too; to one without it, the kernel's own
 * answer to an unprivileged plan, which tells nothing of a run that has it.
 */
function hostFsopenRefusal(): 'ENOSYS' | 'EPERM' | undefined {
  const code = probe((sys) => sys.close(sys.fsopen('tmpfs', ~FSOPEN_CLOEXEC >>> 0)));
  if (code === 'ENOSYS') return code;
  return code === 'EPERM' && hasSysAdmin() ? code : undefined;
}

/**
 * What open_tree_attr(2) answers the run here, or undefined where it makes copies: asked
 * of an empty path without AT_EMPTY_PATH or OPEN_TREE_CLONE, which a kernel with it
 * refuses with ENOENT from the lookup, before any capability check (fs/namespace.c).
 * ENOSYS is a kernel without it (before Linux 6.15), or a seccomp filter answering so
 * (the run notes it and makes its later binds' copies by open_tree(2)); EPERM, a seccomp
 * filter's (each bind, not rbind, with flags then tries it once).
 */
function hostOpenTreeAttrRefusal(): 'ENOSYS' | 'EPERM' | undefined {
  const code = probe((sys) => sys.close(sys.openTreeAttr(-1, '', 0, 0n, 0n, 0n)));
  return code === 'ENOSYS' || code === 'EPERM' ? code : undefined;
}

/** What mount_setattr(2) answers a call setting `attr` on an empty path without AT_EMPTY_PATH. */
function mountSetattrProbe(attr: bigint): string | undefined {
  return probe((sys) => sys.mountSetattr(-1, '', 0, attr, 0n, 0n));
}

/**
 * What mount_setattr(2) answers the run here, or undefined where it changes mounts: asked
 * to set MOUNT_ATTR_NOSYMFOLLOW on an empty path without AT_EMPTY_PATH, which a kernel
 * from 5.14 refuses with ENOENT from the lookup (fs/namespace.c). ENOSYS is a kernel
 * without it (before Linux 5.12), or a seccomp filter answering so. The kernel asks for
 * CAP_SYS_ADMIN first (may_mount()): EPERM to a process with it is a seccomp filter's, to
 * one without it the kernel's own answer to an unprivileged plan, which tells nothing of
 * a run that has it (nor, on 5.12 and 5.13, of what comes after). EINVAL, to a process
 * with it, is a kernel that does not know MOUNT_ATTR_NOSYMFOLLOW (5.12 and 5.13, which
 * check the attributes before the path, and take MOUNT_ATTR_RDONLY: 'NOSYMFOLLOW'), or a
 * seccomp filter answering every call so (MOUNT_ATTR_RDONLY refused too: 'EINVAL').
 */
function hostMountSetattrRefusal(): 'ENOSYS' | 'EINVAL' | 'NOSYMFOLLOW' | 'EPERM' | undefined {
  const code = mountSetattrProbe(MOUNT_ATTR_NOSYMFOLLOW);
  if (code === 'ENOSYS') return code;
  if (code === 'EINVAL') return mountSetattrProbe(MOUNT_ATTR_RDONLY) === 'EINVAL' ? 'EINVAL' : 'NOSYMFOLLOW';
  return code === 'EPERM' && hasSysAdmin() ? 'EPERM' : undefined;
}

/**
 * What open_tree(2) answers the run here, or undefined where it opens trees: asked of an
 * empty path without AT_EMPTY_PATH or OPEN_TREE_CLONE, which a kernel with it refuses with
 * ENOENT from the lookup, before any capability check (fs/namespace.c). ENOSYS is a kernel
 * without it (before Linux 5.2) or a seccomp filter answering so; EPERM, a filter's.
 */
function hostOpenTreeRefusal(): 'ENOSYS' | 'EPERM' | undefined {
  const code = probe((sys) => sys.close(sys.openTree(-1, '', 0)));
  return code === 'ENOSYS' || code === 'EPERM' ? code : undefined;
}

/**
 * What the calls PlanSyscalls asks the host about at their first use answer the run,
 * given in place of asking (PlanSyscalls' constructor): a call left out works, as on
 * Linux 6.15 and later without a seccomp filter; ENOSYS is a kernel without it (open_tree
 * and fsopen before 5.2, mount_setattr before 5.12, open_tree_attr before 6.15) or a
 * filter answering so; EPERM and EINVAL a filter's; NOSYMFOLLOW, Linux 5.12 and 5.13,
 * whose mount_setattr(2) and fsmount(2) refuse MOUNT_ATTR_NOSYMFOLLOW (EINVAL; both take
 * it from 5.14). The fsmount(2) of a kernel before 5.12, which refuses it too, is not
 * told apart from a filter's ENOSYS to mount_setattr(2): a plan shows its tmpfs made with
 * the attribute.
 */
export interface PlanKernelAnswers {
  openTree?: 'ENOSYS' | 'EPERM';
  openTreeAttr?: 'ENOSYS' | 'EPERM';
  mountSetattr?: 'ENOSYS' | 'EINVAL' | 'NOSYMFOLLOW' | 'EPERM';
  fsopen?: 'ENOSYS' | 'EPERM';
}

/** The answers each call of PlanKernelAnswers may be given. */
const KERNEL_ANSWERS: Readonly<Record<keyof PlanKernelAnswers, readonly string[]>> = {
  openTree: ['ENOSYS', 'EPERM'],
  openTreeAttr: ['ENOSYS', 'EPERM'],
  mountSetattr: ['ENOSYS', 'EINVAL', 'NOSYMFOLLOW', 'EPERM'],
  fsopen: ['ENOSYS', 'EPERM'],
};

/** The host's last capability and bounding set, for the capability steps' answers; the model's defaults when unreadable. */
function hostCapabilities(): { last: number; bounding: bigint } | undefined {
  try {
    const last = Number(fs.readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim());
    const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    return Number.isInteger(last) && bnd !== undefined ? { last, bounding: BigInt(`0x${bnd}`) } : undefined;
  } catch {
    return undefined;
  }
}

export class PlanSyscalls extends DryRunSyscalls {
  private cwd: FakeNode | undefined;
  /** Directories open as descriptors, for fchdir(2). */
  private readonly fdDirs = new Map<number, FakeNode>();
  /** The path each descriptor was opened at, kept after it is closed (the fake never reuses a number). */
  private readonly openedAt = new Map<number, string>();
  private readonly returned = new WeakMap<SyscallRecord, number>();
  /** What each call asked of this host at its first call answered (hostAnswer). */
  private readonly hostAnswers = new Map<SyscallName, string | undefined>();
  /** What the constructor was told the calls answer, in place of asking this host. */
  private readonly kernel: PlanKernelAnswers | undefined;
  /** Whether the run's process leads its session, as this one does (hostSession), unless mountkit starts it. */
  private leadsSession = false;
  /**
   * Called at the relaunched process's "console" and "idmap" events (with the mount an
   * idmap event names), once the event is recorded: buildPlan makes the first process's
   * side there (core/plan/index.ts).
   */
  onEvent?: (event: string, mount?: number) => void;
  /** Directory nodes that are a bind's views of its source's (bindView). */
  private readonly views = new WeakSet<FakeNode>();
  /** The roots of the copies an MS_REC bind made of the mounts below its source (copyRoot). */
  private readonly copies = new WeakSet<FakeNode>();
  /** What stands for the directory under each host mount a bind shows instead of the mount (underMount). */
  private readonly underHost = new WeakMap<FakeNode, FakeNode>();
  /** The roots of the new filesystems mounted: below one, nodes are no source's. */
  private readonly fresh = new WeakSet<FakeNode>();
  /** What each tree grafted below / hides at its place, shown again when it is unmounted or moved away. */
  private readonly covered = new WeakMap<FakeNode, FakeNode>();
  /** The trees mounted on the process's root: each on top of the root, or of the one mounted before it. */
  private readonly overRoot = new WeakMap<FakeNode, FakeNode>();

  /**
   * `mountinfo`: this process's mountinfo text, for a test to give (DryRunSyscalls).
   * `kernel`: what the mount API's newer calls answer, in place of asking this host at
   * their first call (taken then, as an answer asked would be: a test's own failOn
   * made before it comes first): a plan as on another kernel, or a test's that does not
   * depend on this one's mount API. An answer no such call gives is refused (TypeError).
   */
  constructor(mountinfo?: string, kernel?: PlanKernelAnswers) {
    super(mountinfo);
    for (const [op, answer] of Object.entries(kernel ?? {}) as [keyof PlanKernelAnswers, string | undefined][]) {
      const allowed = KERNEL_ANSWERS[op];
      if (allowed === undefined) throw new TypeError(`PlanKernelAnswers: no call ${JSON.stringify(op)} (${Object.keys(KERNEL_ANSWERS).join(', ')})`);
      if (answer !== undefined && !allowed.includes(answer)) throw new TypeError(`PlanKernelAnswers.${op}: ${JSON.stringify(answer)} is none of ${allowed.join(', ')}`);
    }
    this.kernel = kernel;
    // Its mounts show their own trees: a change below a read-only one is refused, as in a run.
    this.refuseReadOnlyWrites = true;
    const session = hostSession();
    this.leadsSession = session.sessionLeader;
    this.session = { ...this.session, groupLeader: session.groupLeader, terminal: hasControllingTerminal() };
    // The capability steps ask the kernel, not a file: the host's answers, as the run's would be.
    const host = hostCapabilities();
    if (!host) return;
    this.lastCap = host.last;
    this.bounding.clear();
    for (let cap = 0; cap <= host.last; cap++) if ((host.bounding >> BigInt(cap)) & 1n) this.bounding.add(cap);
  }

  /**
   * The filter the machine's libseccomp builds, as the run would load it (building one
   * changes nothing): the plan shows its real length, and a profile libseccomp refuses
   * fails the plan as it would fail the run.
   */
  override seccompCompile(filter: SeccompFilter): SeccompCompiled {
    super.seccompCompile(filter);
    return new LinuxSyscalls().seccompCompile(filter);
  }

  /**
   * The run's process is one mountkit starts (under unshare(1), see startedByMountkit): a
   * child in this process's session and group, leading neither, whatever this one leads;
   * or, `ownSession`, the Node entry's relaunch that becomes the container itself, which
   * cli/run.ts starts in a session of its own (setsid(2) as it is spawned): it leads that
   * session and its process group, without a controlling terminal.
   */
  startedByMountkit(ownSession = false): void {
    this.leadsSession = ownSession;
    this.session = ownSession ? { ...this.session, groupLeader: true, terminal: false } : { ...this.session, sid: STARTER_SESSION, groupLeader: false };
  }

  /** A process that leads its session answers its own pid, whatever pid the plan gives it (set after this port is made). */
  override getsid(): number {
    const sid = super.getsid();
    return this.leadsSession ? this.pid : sid;
  }

  /** The descriptor an open, openat, openat2, openTree, openTreeAttr, memfdCreate, fsopen, fsmount, userNamespace, pidfdOpen, ptyPeer or dupCloexec call returned. */
  resultOf(call: SyscallRecord): number | undefined {
    return this.returned.get(call);
  }

  /** The path a descriptor this port handed out was opened at (dup3 and dupCloexec copies included). */
  openedPath(fd: number): string | undefined {
    return this.openedAt.get(fd);
  }

  override mount(source: string | null, target: string, fstype: string | null, flags: bigint, data: string | null): void {
    if ((flags & (MS_MOVE | MS_BIND)) === MS_MOVE) {
      this.move(source, target, fstype, flags, data);
      return;
    }
    const before = this.mounts.length;
    const under = this.node(target, true);
    super.mount(source, target, fstype, flags, data);
    // The fake adds entries for new mounts and binds only (not remount, propagation, move):
    // the mount made first, then the mounts an MS_REC bind takes along, which show through
    // the bind's view of its source.
    if (this.mounts.length === before) return;
    const at = this.mounts[before].target;
    const bind = (flags & MS_BIND) !== 0n;
    const tree = bind ? this.node(source ?? '', true) : this.newFilesystem(fstype);
    if (tree) this.placeMount(at, tree, bind, under);
    if (tree && !bind) this.fresh.add(tree);
    this.placeCopies(before + 1);
  }

  /**
   * None: the mounts an MS_REC bind takes along are attached in the bind's view of its
   * source once that is grafted (placeCopies).
   */
  protected override submountRoot(_target: string): FakeNode | undefined {
    return undefined;
  }

  /**
   * The relaunch under unshare(1) made the mount namespace (core/namespaces.ts): the
   * mounts the model holds become its copies, as unshare(2) of CLONE_NEWNS makes them;
   * `lessPrivileged`, owned by a user namespace the relaunch entered or made.
   */
  relaunchedInNewMountNamespace(lessPrivileged: boolean): void {
    this.copyMountNamespace(lessPrivileged);
  }

  /**
   * The copies a recursive bind (or an attached recursive open_tree copy) made, the mounts
   * made from the `first` entry on, each on its root in the bind's view, with its state.
   */
  private placeCopies(first: number): void {
    for (const entry of this.mounts.slice(first)) {
      const state = this.entryState(entry);
      const root = state && this.copyRoot(entry.target);
      if (!root || !state) continue;
      this.pushMountState(root, state, false);
      this.mountRoots.add(root);
    }
  }

  /**
   * The root of a copy at the resolved `target` inside a bind's view: a view of the mount
   * it copies, put in its parent's view; or the one put there for a copy before it, which
   * this copy was stacked on. None outside a view (a tree bound onto itself).
   */
  private copyRoot(target: string): FakeNode | undefined {
    const dir = this.ownDir(posix.dirname(target));
    const entries = dir?.kind === 'dir' ? this.entries(dir) : undefined;
    if (!(entries instanceof BindEntries)) return undefined;
    const name = posix.basename(target);
    const placed = entries.ownEntry(name);
    if (placed && this.copies.has(placed)) return placed;
    const source = entries.sourceEntry(name);
    if (!source) return undefined;
    // A file's copy is the file under a name of its own, a root with a state of its own.
    const root = source.kind === 'dir' ? this.bindView(source) : new Proxy(source, {});
    this.copies.add(root);
    entries.pin(name, root);
    return root;
  }

  /**
   * What a bind of a source shows where `node`, the root of a mount below the source, is:
   * what that mount covers in the source's filesystem. Below a mount the plan made, what
   * it hid there; below a host mount, which the plan cannot see under, an empty stand-in
   * (DryRunSyscalls.standIn); a tree bound onto itself covers itself.
   */
  private underMount(node: FakeNode): FakeNode {
    let under = node;
    for (let hidden = this.covered.get(under); hidden !== undefined; hidden = this.covered.get(under)) under = hidden;
    if (!this.isHostMountRoot(under)) return under;
    let standIn = this.underHost.get(under);
    if (!standIn) this.underHost.set(under, (standIn = this.standIn(under)));
    return standIn;
  }

  /** What a bind's view shows of its source's entry `node`: a view of it, or of what it covers when it is a mount's root (underMount). */
  private shownInView(node: FakeNode): FakeNode {
    const shown = this.isMountRoot(node) ? this.underMount(node) : node;
    return shown.kind === 'dir' ? this.bindView(shown) : shown;
  }

  /**
   * graft() for a mount the fake just made at `at` over `under`: the mount's state, which
   * the fake put on the node it mounted on, goes with the tree, which is the mount's root
   * here, and what the tree covers keeps its own.
   */
  private placeMount(at: string, tree: FakeNode, bind: boolean, under: FakeNode | undefined): void {
    const state = under && this.popMountState(under);
    const placed = this.graft(at, tree, bind);
    // The mounts on the placed root are those put there only: a tree grafted here is no mount the model held from the start.
    if (state) this.pushMountState(placed, state, false);
  }

  /**
   * MS_MOVE takes the tree on top at the source's place to the target's, hiding what is
   * there, and what it hid shows again where it was (a tmpfs filled on a directory of its
   * own and moved onto its destination leaves that directory as it was made). A move onto /
   * is the jail's, which leaves every tree where it was grafted (moveMountRoots).
   */
  private move(source: string | null, target: string, fstype: string | null, flags: bigint, data: string | null): void {
    const was = new Map(this.mounts.map((m) => [m, m.target]));
    super.mount(source, target, fstype, flags, data);
    // The fake moves the mount on top at the source first, then those made on it since.
    const top = this.mounts.find((m) => was.get(m) !== m.target);
    if (!top || top.target === '/') return;
    const from = was.get(top)!;
    const tree = this.uncover(from);
    if (tree) this.graft(top.target, tree);
  }

  /**
   * umount2 of a tree grafted below / shows again what it hid (with MNT_DETACH the mounts
   * on it go with it, as they are grafted inside it). A relative target (the jail's ".")
   * is left to the model's root, which stays a mount's.
   */
  override umount2(target: string, flags: number): void {
    super.umount2(target, flags);
    if (posix.isAbsolute(target) && posix.normalize(target) === target) this.uncover(target);
  }

  /**
   * Takes the tree grafted at the resolved path `at` out of its place, putting back what it
   * hid there; the tree, if one was there. A copy an MS_REC bind made, once no mount is
   * left on it, leaves its place to what the bind shows there without it.
   */
  private uncover(at: string): FakeNode | undefined {
    const parent = at === '/' ? undefined : this.ownDir(posix.dirname(at));
    if (parent?.kind !== 'dir') return undefined;
    const name = posix.basename(at);
    const entries = this.entries(parent);
    const tree = entries.get(name);
    if (tree && this.copies.has(tree) && !this.isMountRoot(tree) && entries instanceof BindEntries) {
      entries.unpin(name);
      return tree;
    }
    const hidden = tree && this.covered.get(tree);
    if (!tree || !hidden) return undefined;
    this.covered.delete(tree);
    this.putEntry(parent, name, hidden);
    return tree;
  }

  override exchange(fd: number, line: string): string {
    const answer = super.exchange(fd, line);
    const message = channelMessage(line.replace(/\n$/, ''));
    if ('event' in message && message.event !== 'exec') this.onEvent?.(message.event, message.mount);
    return answer;
  }

  /** A descriptor received is one handed out here too: its path kept for the plan's readers. */
  override recvFdMessage(socket: number): { data: string; fd?: number } {
    const message = super.recvFdMessage(socket);
    if (message.fd !== undefined) this.opened(message.fd);
    return message;
  }

  /**
   * What `op` answers on this host (`ask`), asked at its first call only: ENOSYS, EPERM or
   * EINVAL refuses it then and at every later call, as it will refuse the run.
   */
  private hostAnswer(op: keyof PlanKernelAnswers, ask: () => string | undefined): string | undefined {
    if (!this.hostAnswers.has(op)) {
      const answer = this.kernel ? this.kernel[op] : ask();
      this.hostAnswers.set(op, answer);
      if (answer === 'ENOSYS' || answer === 'EPERM' || answer === 'EINVAL') this.failOn(op, answer, { times: Infinity });
    }
    return this.hostAnswers.get(op);
  }

  /**
   * A kernel without open_tree(2), or a seccomp filter refusing it, answers the run so (a
   * bind is then made by mount(2)): asked of this host at the first call.
   */
  override openTree(dirfd: number, path: string, flags: number): number {
    this.hostAnswer('openTree', hostOpenTreeRefusal);
    return this.opened(super.openTree(dirfd, path, flags));
  }

  /**
   * A kernel without mount_setattr(2), or a seccomp filter refusing it, answers the run so;
   * Linux 5.12 and 5.13 refuse each call that sets or clears MOUNT_ATTR_NOSYMFOLLOW
   * (EINVAL), as they refuse a bind's copy its flags: asked of this host at the first call
   * (hostMountSetattrRefusal).
   */
  override mountSetattr(dirfd: number, path: string, atFlags: number, attrSet: bigint, attrClr: bigint, propagation: bigint, usernsFd?: number): void {
    if (this.hostAnswer('mountSetattr', hostMountSetattrRefusal) === 'NOSYMFOLLOW' && ((attrSet | attrClr) & MOUNT_ATTR_NOSYMFOLLOW) !== 0n) this.failOn('mountSetattr', 'EINVAL');
    super.mountSetattr(dirfd, path, atFlags, attrSet, attrClr, propagation, usernsFd);
  }

  /**
   * A kernel without open_tree_attr(2), or a seccomp filter refusing it, answers the run so
   * (a bind's copy is then made by open_tree(2)): asked of this host at the first call.
   */
  override openTreeAttr(dirfd: number, path: string, flags: number, attrSet: bigint, attrClr: bigint, propagation: bigint): number {
    this.hostAnswer('openTreeAttr', hostOpenTreeAttrRefusal);
    return this.opened(super.openTreeAttr(dirfd, path, flags, attrSet, attrClr, propagation));
  }

  override memfdCreate(name: string, flags: number): number {
    return this.opened(super.memfdCreate(name, flags));
  }

  /**
   * A kernel without fsopen(2), or a seccomp filter refusing it, answers the run so
   * (tmpcopyup then mounts its tmpfs on the target): asked of this host at the first call.
   */
  override fsopen(fstype: string, flags: number): number {
    this.hostAnswer('fsopen', hostFsopenRefusal);
    return this.opened(super.fsopen(fstype, flags));
  }

  /** Linux 5.12 and 5.13 (before 5.14) refuse MOUNT_ATTR_NOSYMFOLLOW here as in mount_setattr(2): EINVAL (hostMountSetattrRefusal's NOSYMFOLLOW). */
  override fsmount(fd: number, flags: number, attrFlags: bigint): number {
    if ((attrFlags & MOUNT_ATTR_NOSYMFOLLOW) !== 0n && this.hostAnswer('mountSetattr', hostMountSetattrRefusal) === 'NOSYMFOLLOW') this.failOn('fsmount', 'EINVAL');
    return this.opened(super.fsmount(fd, flags, attrFlags));
  }

  /**
   * A detached tree attached shows its source's tree at the target, as a bind does; a new
   * mount fsmount made shows its own root, with what was made in it through its descriptor.
   */
  override moveMount(fromDirfd: number, fromPath: string, toDirfd: number, toPath: string, flags: number): void {
    const before = this.mounts.length;
    const under = this.nodeAt(toDirfd, toPath);
    super.moveMount(fromDirfd, fromPath, toDirfd, toPath, flags);
    if (this.mounts.length === before) return;
    const entry = this.mounts[before];
    const fresh = this.newMountRoots.get(entry);
    if (fresh) {
      this.placeMount(entry.target, fresh, false, under);
      this.fresh.add(fresh);
      return;
    }
    const tree = this.node(entry.source ?? '', true);
    if (tree) this.placeMount(entry.target, tree, true, under);
    // The copy's descriptor names the mount attached: calls through it reach the tree grafted there.
    this.holdAttached(fromDirfd);
  }

  /** The node `path` names from descriptor `dirfd` (the descriptor's own with an empty path), symlinks followed; not recorded. */
  private nodeAt(dirfd: number, path: string): FakeNode | undefined {
    const base = this.openedAt.get(dirfd);
    if (path === '') return base === undefined ? undefined : this.node(base, true);
    return this.node(path.startsWith('/') || base === undefined ? path : posix.join(base, path), true);
  }

  /**
   * The roots after a move: their roots stay roots, and the paths moved onto become roots
   * too. A move onto / (the jail's) leaves every tree where it was grafted, which its
   * chroot or pivot_root then reaches at its new path; any other move takes its tree
   * along (move).
   */
  protected override moveMountRoots(_before: readonly string[], after: readonly string[], _states: readonly unknown[]): void {
    for (const path of after) {
      const node = this.node(path, true);
      if (node) this.mountRoots.add(node);
    }
  }

  override userNamespace(uidMappings: readonly IdMapping[], gidMappings: readonly IdMapping[]): number {
    return this.opened(super.userNamespace(uidMappings, gidMappings));
  }

  override pidfdOpen(pid: number): number {
    return this.opened(super.pidfdOpen(pid));
  }

  override ptyPeer(fd: number, flags: number): number {
    return this.opened(super.ptyPeer(fd, flags));
  }

  override chdir(path: string): void {
    super.chdir(path);
    this.cwd = this.dirAt(path) ?? this.cwd;
  }

  override fchdir(fd: number): void {
    super.fchdir(fd);
    this.cwd = this.fdDirs.get(fd) ?? this.cwd;
  }

  override open(path: string, flags: number, mode: number): number {
    return this.opened(super.open(path, flags, mode));
  }

  override openat(dirfd: number, path: string, flags: number, mode: number): number {
    return this.opened(super.openat(dirfd, path, flags, mode));
  }

  override openat2(dirfd: number, path: string, flags: number, mode: number, resolve: bigint): number {
    return this.opened(super.openat2(dirfd, path, flags, mode, resolve));
  }

  override dup3(oldfd: number, newfd: number, flags: number): void {
    super.dup3(oldfd, newfd, flags);
    const path = this.openedAt.get(oldfd);
    if (path !== undefined) this.openedAt.set(newfd, path);
  }

  override dupCloexec(fd: number, lowest: number): number {
    const copy = super.dupCloexec(fd, lowest);
    this.returned.set(this.calls[this.calls.length - 1], copy);
    const path = this.openedAt.get(fd);
    if (path !== undefined) this.openedAt.set(copy, path);
    return copy;
  }

  override close(fd: number): void {
    super.close(fd);
    this.fdDirs.delete(fd);
  }

  override pivotRoot(newRoot: string, putOld: string): void {
    super.pivotRoot(newRoot, putOld);
    this.moveRoot(newRoot);
  }

  override chroot(path: string): void {
    super.chroot(path);
    this.moveRoot(path);
  }

  /** The host's root as the model loaded it, once `/` has moved (moveRoot). */
  private hostRoot: FakeNode | undefined;

  /**
   * `fn`'s calls as the run's first process makes them after the relaunch: it stays
   * outside the container, where a path resolves from the host's root, not from the
   * container's that the model's `/` is once the relaunched process has jailed itself.
   */
  onHost<T>(fn: () => T): T {
    const root = this.root;
    this.root = this.hostRoot ?? root;
    try {
      return fn();
    } finally {
      this.root = root;
    }
  }

  /** `/` becomes the directory at `path`; the model's own filesystem stays the host's. */
  private moveRoot(path: string): void {
    this.hostRoot ??= this.root;
    this.root = this.dirAt(path) ?? this.root;
  }

  /**
   * What a descriptor with no mount root on its chain is on (one opened before the jail,
   * a pid file's directory): the host's root mount, not the container's, which the root
   * is after pivot_root or chroot, read-only with `root.readonly`.
   */
  protected override modelRoot(): FakeNode {
    return this.hostRoot ?? this.root;
  }

  override fstat(fd: number): FileStat {
    return inheritedOr(fd, () => super.fstat(fd), hostFstat);
  }

  /**
   * The descriptors from `first` on that this process holds, up to `count` of them and
   * none past the first closed one, each held in the model as a file it inherited (no
   * call recorded). A run looks at the descriptors passed to the container with fstat(2),
   * from 3 up, and stops at the first closed one (core/passed-fds.ts checkPassedOpen), as
   * runc run stops at the first it cannot stat: the plan, run where the run would be and
   * started the same way (bin/mountkit checks the caller's for plan as for run, before
   * Node opens its own), looks at the same ones, however large the count, and never
   * holds more of them than the process has open.
   */
  inheritOpen(first: number, count: number): this {
    for (let fd = first; fd < first + count && hostFstat(fd) !== undefined; fd++) this.inheritFile(fd);
    return this;
  }

  override fstatfs(fd: number): FsStat {
    return inheritedOr(fd, () => super.fstatfs(fd), hostFstatfs);
  }

  /** Notes what the open call just recorded returned, and where the descriptor leads. */
  private opened(fd: number): number {
    this.returned.set(this.calls[this.calls.length - 1], fd);
    const path = this.pathOf(fd);
    if (path !== undefined) {
      this.openedAt.set(fd, path);
      const dir = this.dirAt(path);
      if (dir) this.fdDirs.set(fd, dir);
    }
    return fd;
  }

  /** The directory node `path` names ("." is the current directory), if it is one. */
  private dirAt(path: string): FakeNode | undefined {
    const node = path === '.' ? this.cwd : this.node(path, true);
    return node?.kind === 'dir' ? node : undefined;
  }

  /**
   * A procfs mounted for the container numbers its process as the plan does (getpid: the
   * container's pid in its own pid namespace), not as the host's mirrored here numbers
   * this one: its self and thread-self links lead there, so that the plan shows the paths
   * core/procfs.ts would write, as the container's procfs would name them.
   */
  private ownSelfLinks(root: FakeNode): void {
    const entries = this.entries(root);
    const self = entries.get('self');
    const thread = entries.get('thread-self');
    if (self?.kind === 'symlink') self.target = `${this.pid}`;
    if (thread?.kind === 'symlink') thread.target = `${this.pid}/task/${this.pid}`;
  }

  /** What a new mount of `fstype` shows at its root. */
  private newFilesystem(fstype: string | null): FakeNode {
    const hostPath = fstype === null ? undefined : KERNEL_VIEWS[fstype];
    if (hostPath !== undefined) {
      try {
        const root = this.load(hostPath, fs.lstatSync(encodeName(hostPath), { bigint: true }), true);
        if (fstype === 'proc') this.ownSelfLinks(root);
        return root;
      } catch {
        // Without the host's view the mount shows empty, as a missing directory reads here.
      }
    }
    const root = this.newNode('dir', 0o755);
    if (fstype === 'devpts') {
      // A devpts holds its ptmx from the start: character device 5:2, inode 2 (fs/devpts/inode.c).
      const ptmx = this.newNode('char', 0o666);
      ptmx.rdev = makedev(5, 2);
      ptmx.ino = 2n;
      this.entries(root).set('ptmx', ptmx);
    }
    return root;
  }

  /**
   * Puts `tree` at the resolved absolute path `at`, hiding what was there. A bind's tree
   * (`shared`) is its source's: the target gets a view of it (bindView), unless it is the
   * source itself (the rootfs bound onto itself), where a mount inside changes both paths
   * alike and the descriptors kept of it must go on reaching what is mounted.
   *
   * A tree mounted on the process's root (a masked or read-only "/" after the jail) goes
   * on top of what is there and leaves the model's root as it is: a walk starting at
   * the root starts on the root's own mount (path_init(), fs/namei.c) and enters a mount
   * only as it steps into a directory, never at its start, so "/" and "/bin" go on
   * reaching the rootfs; only ".." from the root enters it (mountedOn).
   */
  private graft(at: string, tree: FakeNode, shared = false): FakeNode {
    const placed = shared && tree.kind === 'dir' && tree !== this.node(at, true) ? this.bindView(tree) : tree;
    this.mountRoots.add(placed);
    if (at === '/') {
      // A new mount goes on top of those already there (lock_mount(), fs/namespace.c).
      const top = this.mountedOn(this.root) ?? this.root;
      if (top !== placed) this.overRoot.set(top, placed);
      return placed;
    }
    const parent = this.ownDir(posix.dirname(at));
    if (parent?.kind !== 'dir') return placed;
    const hidden = this.entries(parent).get(posix.basename(at));
    if (hidden && hidden !== placed) this.covered.set(placed, hidden);
    this.putEntry(parent, posix.basename(at), placed);
    return placed;
  }

  /**
   * What ".." that lands on `dir` enters: when `dir` is the process's root (or a tree
   * mounted on it), the last tree mounted there, as the kernel's ".." steps into the
   * mounts on the directory it reaches, at the root too (follow_dotdot(), then
   * step_into(), fs/namei.c). Below the root, a walk meets the trees grafted in their
   * directories as it steps in.
   */
  protected override mountedOn(dir: FakeNode): FakeNode | undefined {
    let top = this.overRoot.get(dir);
    for (let next = top && this.overRoot.get(top); next !== undefined; next = this.overRoot.get(next)) top = next;
    return top;
  }

  /** `node` as the entry `name` of `dir`: a bind view's own (BindEntries.pin), else set. */
  private putEntry(dir: FakeNode, name: string, node: FakeNode): void {
    const entries = this.entries(dir);
    if (entries instanceof BindEntries) entries.pin(name, node);
    else entries.set(name, node);
  }

  /**
   * The directory node at the resolved path `dir`, walked from the model's root. Inside a
   * bind's tree (below a view, above no new filesystem) each source directory on the way
   * is given a view of its own, put in its parent's view, so that what is grafted there
   * is the bind's alone.
   */
  private ownDir(dir: string): FakeNode | undefined {
    let node = this.root;
    let inBind = this.views.has(node);
    for (const name of dir.split('/').filter(Boolean)) {
      if (node.kind !== 'dir') return this.node(dir, true);
      const entries = this.entries(node);
      let child = entries.get(name);
      if (!child || child.kind !== 'dir') return this.node(dir, true);
      if (this.views.has(child)) {
        inBind = true;
        // Kept as the view's own, with what is put in it, whatever the source's entry becomes.
        if (entries instanceof BindEntries) entries.pin(name, child);
      } else if (this.fresh.has(child)) inBind = false;
      else if (inBind) {
        child = this.bindView(child);
        this.putEntry(node, name, child);
      }
      node = child;
    }
    return node;
  }

  /**
   * A bind's view of the source directory `dir`: its fields are `dir`'s (a change through
   * either shows on both), and so are its entries, but for those set on the view while
   * they were its own (a mount's root, a view of a directory below), which the source
   * does not see.
   */
  private bindView(dir: FakeNode): FakeNode {
    const entries = new BindEntries(this.entries(dir), (node) => this.shownInView(node));
    const view = new Proxy(dir, {
      get: (target, key, receiver) => (key === 'children' ? entries : Reflect.get(target, key, receiver)),
      set: (target, key, value, receiver) => (key === 'children' ? false : Reflect.set(target, key, value, receiver)),
    });
    this.views.add(view);
    return view;
  }
}

/**
 * A bind view's entries: its source's, through which every change passes, but for the
 * names the view holds of its own (pin: a mount's root, a view of a directory below),
 * which the source does not see. A source's entry shows as `shown` makes it (a view of a
 * directory, what a mount's root covers), the same node while the entry stays.
 */
class BindEntries extends Map<string, FakeNode> {
  private readonly own = new Map<string, FakeNode>();
  /** What each source's entry showed as, for the entry it was made of. */
  private readonly made = new Map<string, { of: FakeNode; shown: FakeNode }>();

  constructor(
    private readonly source: Map<string, FakeNode>,
    private readonly shown: (node: FakeNode) => FakeNode,
  ) {
    super();
  }

  override get(name: string): FakeNode | undefined {
    const own = this.own.get(name);
    if (own !== undefined) return own;
    const entry = this.source.get(name);
    if (entry === undefined) return undefined;
    const made = this.made.get(name);
    if (made?.of === entry) return made.shown;
    const shown = this.shown(entry);
    this.made.set(name, { of: entry, shown });
    return shown;
  }

  /** The view's own entry `name`, if it holds one. */
  ownEntry(name: string): FakeNode | undefined {
    return this.own.get(name);
  }

  /** The source's entry `name`, as the source holds it. */
  sourceEntry(name: string): FakeNode | undefined {
    return this.source.get(name);
  }

  /** The view's own entry `name` is gone: the source's shows again. */
  unpin(name: string): void {
    this.own.delete(name);
  }

  override has(name: string): boolean {
    return this.own.has(name) || this.source.has(name);
  }

  /** The view's own entry `name`, hiding the source's. */
  pin(name: string, node: FakeNode): void {
    this.own.set(name, node);
  }

  /** A change through the view: to the view's own entry when it has one, else to the source's. */
  override set(name: string, node: FakeNode): this {
    if (this.own.has(name)) this.own.set(name, node);
    else this.source.set(name, node);
    return this;
  }

  override delete(name: string): boolean {
    this.made.delete(name);
    return this.own.delete(name) || this.source.delete(name);
  }

  override get size(): number {
    return [...this.keys()].length;
  }

  override *keys(): MapIterator<string> {
    for (const name of this.source.keys()) yield name;
    for (const name of this.own.keys()) if (!this.source.has(name)) yield name;
  }

  override *entries(): MapIterator<[string, FakeNode]> {
    for (const name of this.keys()) yield [name, this.get(name)!];
  }

  override *values(): MapIterator<FakeNode> {
    for (const name of this.keys()) yield this.get(name)!;
  }

  override [Symbol.iterator](): MapIterator<[string, FakeNode]> {
    return this.entries();
  }

  override forEach(fn: (value: FakeNode, key: string, map: Map<string, FakeNode>) => void, thisArg?: unknown): void {
    for (const [name, node] of this.entries()) fn.call(thisArg, node, name, this);
  }

  override clear(): void {
    this.own.clear();
    this.made.clear();
    this.source.clear();
  }
}

/**
 * The model's answer about `fd`, or for a standard descriptor the model never opened
 * (EBADF there), the host's: the process inherits 0, 1 and 2.
 */
function inheritedOr<T>(fd: number, model: () => T, host: (fd: number) => T | undefined): T {
  try {
    return model();
  } catch (err) {
    if (!(err instanceof SyscallError) || err.code !== 'EBADF' || !STDIO_FDS.has(fd)) throw err;
    const answer = host(fd);
    if (answer === undefined) throw err;
    return answer;
  }
}

/**
 * The host's statfs(2) of an inherited descriptor, through its /proc link (which statfs
 * follows to the open file: a pipe's pipefs), undefined when it is not open. The mount
 * flags are not read: the plan's steps ask only the type of a standard stream.
 */
function hostFstatfs(fd: number): FsStat | undefined {
  try {
    return { type: Number(fs.statfsSync(`/proc/self/fd/${fd}`).type), flags: 0n };
  } catch {
    return undefined;
  }
}

/** The host's fstat(2) of an inherited descriptor, undefined when it is not open. */
function hostFstat(fd: number): FileStat | undefined {
  let st: fs.BigIntStats;
  try {
    st = fs.fstatSync(fd, { bigint: true });
  } catch {
    return undefined;
  }
  return toFileStat(st);
}
