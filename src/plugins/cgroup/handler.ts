import posix = require('path/posix');
import { inject, injectable } from 'tsyringe';
import { hasNamespace, mountSpec, type MountSpec } from '../../core/config/model';
import { MS_BIND, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_RDONLY, MS_REC } from '../../core/constants';
import { ConfigError, SyscallError } from '../../core/errors';
import type { MountTable } from '../../core/mountinfo';
import { fdPath, resolveInRoot, withParentInRoot, type Root } from '../../core/in-root';
import { afterEarlierMount, afterMount, containerRoot, refuseUnderProc, remountBind, withMountTarget } from '../../core/mounting';
import { PLUGIN_OPTIONS, SYSCALLS, type MountHandler, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import {
  comountLinks,
  hierarchyName,
  isUnifiedHost,
  ownCgroup2Dir,
  ownCgroupDir,
  parseProcCgroup,
  v1Hierarchies,
  v1MountArgs,
  type ProcCgroupEntry,
  type V1Hierarchy,
} from './hierarchy';

/** Flags of the tmpfs holding the v1 hierarchies and of their mounts in a cgroup namespace (runc's defaultMountFlags). */
const CGROUP_ROOT_FLAGS = MS_NOEXEC | MS_NOSUID | MS_NODEV;

export interface CgroupPluginOptions {
  /**
   * Also remount the v1 tmpfs read-only when the mount is `ro`, as runc did up to
   * 1.0-rc90. runc 1.1 leaves that tmpfs writable (only the hierarchies are read-only),
   * and so does this plugin by default.
   */
  readonlyRoot?: boolean;
}

/**
 * `cgroup` and `cgroup2` mounts. cgroup v2 (type `cgroup2`, or a host whose
 * /sys/fs/cgroup is cgroup2) is one filesystem; cgroup v1 is a tmpfs holding one
 * directory per hierarchy, each the process's own cgroup bound from the host, or, with
 * a cgroup namespace, the hierarchy mounted anew (the namespace makes its root the
 * process's cgroup).
 */
@injectable()
export class CgroupMountHandler implements MountHandler {
  readonly name = 'cgroup';
  readonly types = ['cgroup', 'cgroup2'];
  private readonly readonlyRoot: boolean;

  constructor(
    @inject(SYSCALLS) private readonly sys: Syscalls,
    @inject(PLUGIN_OPTIONS) options: Record<string, unknown> = {},
  ) {
    const { readonlyRoot = false } = options as CgroupPluginOptions;
    if (typeof readonlyRoot !== 'boolean') throw new ConfigError('options.readonlyRoot', readonlyRoot, 'must be a boolean');
    this.readonlyRoot = readonlyRoot;
  }

  mount(m: MountSpec, ctx: RunContext): void {
    // Refused before anything is made; every mount below looks the destination up again.
    const inside = resolveInRoot(this.sys, containerRoot(this.sys, ctx), m.destination);
    refuseUnderProc(inside);
    const table = ctx.mountTable();
    const cgroups = parseProcCgroup(this.sys.readFile('/proc/self/cgroup'));
    if (m.type === 'cgroup2' || isUnifiedHost(table)) this.mountV2(m, ctx, table, cgroups);
    else this.mountV1(m, ctx, v1Hierarchies(table, cgroups), inside);
  }

  /** `inside`: where the destination's lookup led before anything was mounted, where the tmpfs must be found at the end. */
  private mountV1(m: MountSpec, ctx: RunContext, hierarchies: V1Hierarchy[], inside: string): void {
    const root = containerRoot(this.sys, ctx);
    const cgroupns = hasNamespace(ctx.config, 'cgroup');
    // Every bind source is worked out before anything is mounted, so a bad one leaves nothing behind.
    const binds = cgroupns ? [] : hierarchies.map((h) => this.bindOf(m, h));
    ctx.dispatch(derived(m, { type: 'tmpfs', source: 'tmpfs', flags: CGROUP_ROOT_FLAGS, data: 'mode=755', clearedFlags: 0n }));
    if (cgroupns) for (const h of hierarchies) this.mountHierarchy(m, root, h);
    for (const b of binds) ctx.dispatch(b);
    for (const [name, target] of comountLinks(hierarchies.map(hierarchyName))) this.linkIfMissing(root, target, posix.join(m.destination, name));
    // The tmpfs was mounted writable; MS_REMOUNT|MS_BIND changes only its per-mount flags
    // (mount(2)). The tmpfs got the propagation flags when it was mounted.
    const remount = this.readonlyRoot && (m.flags & MS_RDONLY) !== 0n;
    afterEarlierMount(this.sys, root, { ...m, propagationFlags: [] }, inside, remount ? (top) => remountBind(this.sys, top, CGROUP_ROOT_FLAGS | MS_RDONLY) : undefined);
  }

  /** The process's own cgroup of a hierarchy, bound (with everything below it) under the hierarchy's name. */
  private bindOf(m: MountSpec, h: V1Hierarchy): MountSpec {
    return derived(m, {
      type: 'bind',
      source: ownCgroupDir(h.mountpoint, h.root, h.cgroupPath),
      destination: posix.join(m.destination, hierarchyName(h)),
      flags: MS_BIND | MS_REC | m.flags,
    });
  }

  /**
   * In a cgroup namespace, mounting a v1 hierarchy shows it from the namespace's root,
   * the process's own cgroup (cgroup_namespaces(7)).
   */
  private mountHierarchy(m: MountSpec, root: Root, h: V1Hierarchy): void {
    const { source, data } = v1MountArgs(h);
    withMountTarget(this.sys, root, posix.join(m.destination, hierarchyName(h)), {}, (t) =>
      this.sys.mount(source, fdPath(t.fd), 'cgroup', CGROUP_ROOT_FLAGS | (m.flags & MS_RDONLY), data),
    );
  }

  /** symlink(2) fails with EEXIST when the name is taken, which is kept as it is. */
  private linkIfMissing(root: Root, target: string, linkPath: string): void {
    try {
      withParentInRoot(this.sys, root, linkPath, (dirFd, name) => this.sys.symlinkat(target, dirFd, name));
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EEXIST') throw err;
    }
  }

  /**
   * cgroup2 itself; where the kernel refuses it (EPERM in a user namespace without a
   * cgroup namespace, EBUSY), the process's own cgroup v2 directory bound instead.
   */
  private mountV2(m: MountSpec, ctx: RunContext, table: MountTable, cgroups: ProcCgroupEntry[]): void {
    const root = containerRoot(this.sys, ctx);
    const refused = withMountTarget(this.sys, root, m.destination, {}, (t) => {
      try {
        this.sys.mount(m.source, fdPath(t.fd), 'cgroup2', m.flags, m.data || null);
      } catch (err) {
        if (!(err instanceof SyscallError) || (err.code !== 'EPERM' && err.code !== 'EBUSY')) throw err;
        return err;
      }
      afterMount(this.sys, root, m, t);
      return undefined;
    });
    if (refused) {
      const source = ownCgroup2Dir(table, cgroups);
      ctx.log.info('cgroup2 mount refused, binding the own cgroup instead', { errno: refused.code, source, destination: m.destination });
      ctx.dispatch(derived(m, { type: 'bind', source, flags: MS_BIND | m.flags, recAttrs: m.recAttrs }));
    }
  }
}

/**
 * A mount derived from `m`: same index (errors name the configured mount), destination,
 * cleared flags and propagation; no data, relabel, recursive attributes or commands
 * unless given.
 */
function derived(m: MountSpec, over: Partial<MountSpec> & Pick<MountSpec, 'type' | 'source' | 'flags'>): MountSpec {
  return mountSpec({ index: m.index, destination: m.destination, clearedFlags: m.clearedFlags, propagationFlags: m.propagationFlags, ...over });
}
