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
 */
import fs = require('fs');
import { posix } from 'path';
import { RANDOM_UUID_FILE } from '../constants';
import { SyscallError } from '../errors';
import { parseMountInfo } from '../mountinfo';
import { decodeName, encodeName } from '../names';
import { FakeSyscalls, type FakeNode } from './fake';
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

/** The mountpoints of this process's mount namespace, which the run's new one starts with a copy of; none when unreadable. */
function hostMountpoints(): Set<string> {
  try {
    return new Set(parseMountInfo(decodeName(fs.readFileSync('/proc/self/mountinfo'))).map((m) => m.mountpoint));
  } catch {
    return new Set();
  }
}

function hostLstat(path: string): fs.BigIntStats | undefined {
  try {
    return fs.lstatSync(encodeName(path), { bigint: true });
  } catch {
    return undefined;
  }
}

export class DryRunSyscalls extends FakeSyscalls {
  /** Host directories whose entries are not loaded into the model yet. */
  private readonly unlisted = new WeakMap<FakeNode, string>();
  /** st_size of host nodes whose content no recorded call has replaced. */
  private readonly hostSize = new WeakMap<FakeNode, number>();
  /** The host's mountpoints: their nodes are the roots of mounts. */
  private readonly hostMounts = hostMountpoints();

  constructor() {
    super();
    let st: fs.BigIntStats;
    try {
      st = fs.lstatSync('/', { bigint: true });
    } catch (err) {
      throw hostError('lstat', '/', err);
    }
    this.root = this.load('/', st);
  }

  protected override entries(dir: FakeNode): Map<string, FakeNode> {
    const hostPath = this.unlisted.get(dir);
    const entries = super.entries(dir);
    if (hostPath === undefined) return entries;
    this.unlisted.delete(dir);
    let names: string[] = [];
    try {
      names = fs.readdirSync(encodeName(hostPath), { encoding: 'buffer' }).map(decodeName);
    } catch {
      return entries;
    }
    for (const name of names) {
      const path = posix.join(hostPath, name);
      const st = hostLstat(path);
      if (st) entries.set(name, this.load(path, st));
    }
    return entries;
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

  /** A model node mirroring the host node at `hostPath`. */
  protected load(hostPath: string, st: fs.BigIntStats): FakeNode {
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
    if (kind === 'dir') this.unlisted.set(node, hostPath);
    // A namespace's link is modelled as the nsfs file it opens; readlink(2) of it still gives its text.
    if (kind === 'symlink' || NAMESPACE_LINK.test(hostPath)) node.target = this.hostLink(hostPath);
    if (MAGIC_LINK.test(hostPath)) node.magic = true;
    if (this.hostMounts.has(hostPath)) this.mountRoots.add(node);
    if (kind === 'file') {
      if (hostPath === RANDOM_UUID_FILE) this.standInUuids(node);
      else this.readLazily(node, hostPath);
    }
    return node;
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
