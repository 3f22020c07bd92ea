/**
 * The port `mountkit plan` uses: it records every call like FakeSyscalls and performs
 * nothing. Its model is an overlay on the host filesystem: a path no recorded call has
 * created or changed answers from the real filesystem, read with fs.*Sync calls only
 * (never a write), so a plan sees the host's /proc, /sys and rootfs as well as its own
 * earlier mkdir.
 *
 * Host metadata (kind, mode, owner, symlink target, entries) is read when a lookup first
 * passes a directory; file content is read on every readFile until a recorded write
 * replaces it. A host directory that cannot be listed looks empty, and a /proc magic
 * link whose target is not a path (/proc/self/fd/0 -> "pipe:[...]") does not resolve,
 * but for a namespace's (/proc/PID/ns/pid -> "pid:[4026531836]"), which stands for the
 * file it opens, as setns(2) joins by path take it. The magic links of /proc/PID are
 * marked as such, for openat2's RESOLVE_NO_MAGICLINKS.
 *
 * The host's mounts are the model's from the start, read from this process's
 * /proc/self/mountinfo once, when the port is made: each node at a mountpoint is the root
 * of the mounts stacked there, with the state each line shows (mount-state.ts
 * mountInfoState: its own flags, its superblock's read-only flag, shared by the mounts of
 * one filesystem, and its propagation), so that a change below a read-only one is EROFS
 * as in a run, and an MS_REC propagation change or copy reaches those below
 * (startingMountsBelow). Reads of this process's mountinfo answer that text, with each
 * mount's propagation as the model now holds it (mountinfoText). A fresh view of the
 * host's /proc or /sys (load's `view`, for a proc or sysfs mounted anew) holds no mount:
 * its mountpoints are directories of that filesystem, which the plan cannot read under
 * the host's mounts; an empty one stands for each (standIn).
 */
import fs = require('fs');
import { posix } from 'path';
import { RANDOM_UUID_FILE } from '../constants';
import { SyscallError } from '../errors';
import { isWithin } from '../paths';
import { parseMountInfo, stackOrder, withOptionalFields, type MountInfo } from '../mountinfo';
import { decodeName, encodeName } from '../names';
import { FakeSyscalls, type FakeNode, type StartingMount } from './fake';
import { copiedPropagation, mountInfoState, propagationFields, type MountState, type Propagation, type Superblock } from './mount-state';
import { kindFromMode } from './stat';

/** A Node fs error as the SyscallError the real port would raise. */
function hostError(syscall: string, path: string, err: unknown): unknown {
  const errno = (err as NodeJS.ErrnoException).errno;
  return typeof errno === 'number' ? new SyscallError(syscall, Math.abs(errno), [path]) : err;
}

/** /proc/PID/ns/NAME and /proc/PID/task/TID/ns/NAME (proc(5)): links to nsfs files. */
const NAMESPACE_LINK = /^\/proc\/[^/]+\/(?:task\/[^/]+\/)?ns\/[^/]+$/;

/**
 * The magic links of a process's and a thread's /proc directory (proc(5)): root, cwd,
 * exe, fd/N, map_files/RANGE and ns/NAME. openat2's RESOLVE_NO_MAGICLINKS refuses them
 * (ELOOP), /proc/self and /proc/thread-self being ordinary symlinks.
 */
const MAGIC_LINK = /^\/proc\/\d+\/(?:task\/\d+\/)?(?:root|cwd|exe|(?:fd|map_files|ns)\/[^/]+)$/;

/** This process's mountinfo file and its threads' (proc(5)), which answer the mounts the model holds. */
const OWN_MOUNTINFO = new RegExp(`^/proc/${process.pid}/(?:task/\\d+/)?mountinfo$`);

/** A mount of this process's namespace: its mountinfo line and what it says, its state in the model and its propagation as read. */
interface HostMount {
  line: string;
  info: MountInfo;
  state: MountState;
  read: Propagation;
  /** The peer groups mountinfoText numbered for it, in the order it asked. */
  groups: number[];
}

/**
 * The mounts of this process's mount namespace, which the run's new one starts with a
 * copy of, in mountinfo's order, each with its state (mountInfoState), the mounts of one
 * filesystem (major:minor) sharing a superblock; none when unreadable. `given`: the text
 * to take instead of reading it.
 */
function hostMounts(given?: string): HostMount[] {
  let text: string;
  try {
    text = given ?? decodeName(fs.readFileSync('/proc/self/mountinfo'));
  } catch {
    return [];
  }
  const lines = text.split('\n').filter(Boolean);
  const superblocks = new Map<string, Superblock>();
  return parseMountInfo(text).map((info, i) => {
    const state = mountInfoState(info, superblocks.get(info.majorMinor));
    superblocks.set(info.majorMinor, state.sb);
    return { line: lines[i], info, state, read: { ...state.propagation }, groups: [] };
  });
}

function hostLstat(path: string): fs.BigIntStats | undefined {
  try {
    return fs.lstatSync(encodeName(path), { bigint: true });
  } catch {
    return undefined;
  }
}

export class DryRunSyscalls extends FakeSyscalls {
  /** Host directories whose entries are not loaded into the model yet, and whether they are in a fresh view (load). */
  private readonly unlisted = new WeakMap<FakeNode, { path: string; view: boolean }>();
  /** st_size of host nodes whose content no recorded call has replaced. */
  private readonly hostSize = new WeakMap<FakeNode, number>();
  /** The host's mounts, read once. */
  private readonly hostMounts: HostMount[];
  /** The host's mounts at each mountpoint, the one each other is stacked on first. */
  private readonly hostStacks: Map<string, HostMount[]>;
  /** Each host mount by its state. */
  private readonly byState: Map<MountState, HostMount>;
  /** The host mounts on each, by its mount id. */
  private readonly hostChildren: Map<number, HostMount[]>;
  /** The highest peer group mountinfo numbered: mountinfoText numbers new ones after it. */
  private lastGroup: number;
  /** The nodes at host mountpoints, roots of the host's mounts. */
  private readonly hostRoots = new WeakSet<FakeNode>();

  /** `mountinfo`: this process's mountinfo text, for a test to give; by default read from /proc/self/mountinfo. */
  constructor(mountinfo?: string) {
    super();
    this.hostMounts = hostMounts(mountinfo);
    this.hostStacks = stacksOf(this.hostMounts);
    this.byState = new Map(this.hostMounts.map((m) => [m.state, m]));
    this.hostChildren = childrenOf(this.hostMounts);
    this.lastGroup = Math.max(0, ...this.hostMounts.flatMap((m) => m.info.optional.map((f) => Number(/^(?:shared|master|propagate_from):(\d+)$/.exec(f)?.[1] ?? 0))));
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync('/', { bigint: true });
    } catch (err) {
      throw hostError('lstat', '/', err);
    }
    this.root = this.load('/', st);
  }

  /** None: the plan port (core/plan/port.ts) puts each new filesystem's tree in place itself. */
  protected override newFilesystemRoot(): FakeNode | undefined {
    return undefined;
  }

  protected override entries(dir: FakeNode): Map<string, FakeNode> {
    const unlisted = this.unlisted.get(dir);
    const entries = super.entries(dir);
    if (unlisted === undefined) return entries;
    this.unlisted.delete(dir);
    const { path: hostPath, view } = unlisted;
    let names: string[] = [];
    try {
      names = fs.readdirSync(encodeName(hostPath), { encoding: 'buffer' }).map(decodeName);
    } catch {
      return entries;
    }
    for (const name of names) {
      const path = posix.join(hostPath, name);
      const st = hostLstat(path);
      if (!st) continue;
      // A fresh view shows the directory under a host mount, not the mount.
      const kind = kindFromMode(Number(st.mode)) === 'dir' ? 'dir' : 'file';
      entries.set(name, view && this.hostStacks.has(path) ? this.standIn({ kind, perm: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid) }) : this.load(path, st, view));
    }
    return entries;
  }

  /**
   * What is under a host mount, which the plan cannot read: an empty directory (or file)
   * with the metadata of the mount's root (`root`), as a mountpoint usually is one.
   */
  protected standIn(root: Pick<FakeNode, 'kind' | 'perm' | 'uid' | 'gid'>): FakeNode {
    const node = this.newNode(root.kind === 'dir' ? 'dir' : 'file', root.perm);
    node.uid = root.uid;
    node.gid = root.gid;
    return node;
  }

  /** Whether `node` is the root of one of the host's mounts, as the model started with it. */
  protected isHostMountRoot(node: FakeNode): boolean {
    return this.hostRoots.has(node);
  }

  /**
   * The host's mounts on the host mount `on` (its state) below the resolved `path`, or on
   * them, each followed by those on it (copy_tree()'s order, fs/namespace.c): none when
   * `on` is no host mount.
   */
  protected override startingMountsBelow(on: MountState, path: string): StartingMount[] {
    const top = this.byState.get(on);
    const out: StartingMount[] = [];
    const below = (m: HostMount): void => {
      for (const child of this.hostChildren.get(m.info.id) ?? []) {
        const target = child.info.mountpoint;
        if (target !== path && isWithin(path, target)) out.push({ target, entry: { source: child.info.source, fstype: child.info.fstype, flags: 0n, data: null }, state: child.state });
        below(child);
      }
    };
    if (top) below(top);
    return out;
  }

  /** The host's mounts, as a new mount namespace copies them (copiedPropagation). */
  protected override copyMountNamespace(lessPrivileged: boolean): void {
    super.copyMountNamespace(lessPrivileged);
    for (const m of this.hostMounts) m.state.propagation = copiedPropagation(m.state.propagation, lessPrivileged);
  }

  /**
   * The mountinfo text as read, each line's optional fields showing the propagation the
   * model holds of its mount (propagationFields): what the run reads after its own
   * propagation changes.
   */
  private mountinfoText(): string {
    const lines = this.hostMounts.map((m) => {
      const fields = propagationFields(m.info.optional, m.read, m.state.propagation, this.groupsOf(m));
      const same = fields.length === m.info.optional.length && fields.every((f, i) => f === m.info.optional[i]);
      return same ? m.line : withOptionalFields(m.line, fields);
    });
    return lines.length ? `${lines.join('\n')}\n` : '';
  }

  /** The peer groups numbered for `m`: the same ones at every read. */
  private groupsOf(m: HostMount): () => number {
    let asked = 0;
    return () => (m.groups[asked++] ??= ++this.lastGroup);
  }

  /** Where the plan mounted nothing, the host's filesystem type (statfs(2) follows links, as the model's lookups do). */
  protected override baseFsType(path: string): number {
    try {
      return Number(fs.statfsSync(encodeName(path)).type);
    } catch {
      return super.baseFsType(path);
    }
  }

  protected override sizeOf(node: FakeNode): number {
    return this.hostSize.get(node) ?? super.sizeOf(node);
  }

  /**
   * A model node mirroring the host node at `hostPath`: in the host's tree, with the
   * host's mounts at their mountpoints; or, `view`, in a fresh mount's view of a host
   * filesystem (PlanSyscalls: a new proc or sysfs), which holds none of them.
   */
  protected load(hostPath: string, st: fs.BigIntStats, view = false): FakeNode {
    if (st.isSymbolicLink() && NAMESPACE_LINK.test(hostPath)) {
      try {
        st = fs.statSync(encodeName(hostPath), { bigint: true });
      } catch {
        // Not ours to open (another user's process): left a link that does not resolve.
      }
    }
    const kind = kindFromMode(Number(st.mode)) ?? 'file';
    const node = this.newNode(kind, Number(st.mode));
    node.uid = Number(st.uid);
    node.gid = Number(st.gid);
    node.dev = st.dev;
    node.ino = st.ino;
    if (kind === 'char' || kind === 'block') node.rdev = st.rdev;
    this.hostSize.set(node, Number(st.size));
    if (kind === 'dir') this.unlisted.set(node, { path: hostPath, view });
    // A namespace's link is modelled as the nsfs file it opens; readlink(2) of it still gives its text.
    if (kind === 'symlink' || NAMESPACE_LINK.test(hostPath)) node.target = this.hostLink(hostPath);
    if (MAGIC_LINK.test(hostPath)) node.magic = true;
    const stack = view ? undefined : this.hostStacks.get(hostPath);
    if (stack) {
      for (const m of stack) this.pushMountState(node, m.state, false);
      this.mountRoots.add(node);
      this.hostRoots.add(node);
    }
    if (kind === 'file') {
      if (hostPath === RANDOM_UUID_FILE) this.standInUuids(node);
      else if (!view && OWN_MOUNTINFO.test(hostPath)) this.answerMountinfo(node);
      else this.readLazily(node, hostPath);
    }
    return node;
  }

  /** This process's mountinfo answers the mounts the model holds (mountinfoText), until something assigns it. */
  private answerMountinfo(node: FakeNode): void {
    let own: string | undefined;
    Object.defineProperty(node, 'content', {
      enumerable: true,
      get: (): string => own ?? this.mountinfoText(),
      set: (data: string): void => {
        own = data;
        this.hostSize.delete(node);
      },
    });
  }

  /** Reads of RANDOM_UUID_FILE so far. */
  private uuidReads = 0;

  /**
   * RANDOM_UUID_FILE gives a new random UUID at each read, which a plan cannot know (the
   * run reads its own): the plan's stand-in is a UUID of zeros but for the version and
   * variant digits and a count of the reads, the same in every plan of the same config.
   */
  private standInUuids(node: FakeNode): void {
    let own: string | undefined;
    Object.defineProperty(node, 'content', {
      enumerable: true,
      get: (): string => own ?? `00000000-0000-4000-8000-${(++this.uuidReads).toString(16).padStart(12, '0')}\n`,
      set: (data: string): void => {
        own = data;
      },
    });
  }

  private hostLink(hostPath: string): string {
    try {
      return decodeName(fs.readlinkSync(encodeName(hostPath), { encoding: 'buffer' }));
    } catch {
      return '';
    }
  }

  /** The node's content is the host file's, read on each use, until something assigns it. */
  private readLazily(node: FakeNode, hostPath: string): void {
    let own: string | undefined;
    Object.defineProperty(node, 'content', {
      enumerable: true,
      get: (): string => {
        if (own !== undefined) return own;
        try {
          return decodeName(fs.readFileSync(encodeName(hostPath)));
        } catch (err) {
          throw hostError('readFile', hostPath, err);
        }
      },
      set: (data: string): void => {
        own = data;
        this.hostSize.delete(node);
      },
    });
  }
}

/** The host's mounts by mountpoint, each stack in the order it was made (stackOrder). */
function stacksOf(mounts: readonly HostMount[]): Map<string, HostMount[]> {
  const byInfo = new Map(mounts.map((m) => [m.info, m]));
  const at = new Map<string, MountInfo[]>();
  for (const m of mounts) at.set(m.info.mountpoint, [...(at.get(m.info.mountpoint) ?? []), m.info]);
  return new Map([...at].map(([mountpoint, infos]) => [mountpoint, stackOrder(infos).map((i) => byInfo.get(i)!)]));
}

/** The host's mounts on each mount, by its id, in mountinfo's order. */
function childrenOf(mounts: readonly HostMount[]): Map<number, HostMount[]> {
  const out = new Map<number, HostMount[]>();
  for (const m of mounts) if (m.info.parent !== m.info.id) out.set(m.info.parent, [...(out.get(m.info.parent) ?? []), m]);
  return out;
}
