import { inject, injectable } from 'tsyringe';
import { hasNamespace, type DeviceSpec } from '../../core/config/model';
import { AT_EMPTY_PATH, MS_BIND, O_CLOEXEC, O_NOFOLLOW, O_PATH, RESOLVE_NO_XDEV, major, makedev, minor } from '../../core/constants';
import { StepError, SyscallError } from '../../core/errors';
import { createInRoot, fdPath, withParentInRoot, type Created, type Root } from '../../core/in-root';
import { containerRoot, withMountTarget } from '../../core/mounting';
import { cleanPath, isWithin } from '../../core/paths';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { FileKind, FileStat, Syscalls } from '../../core/syscalls/types';
import { devicesToCreate, hasDeviceNumber, nodeKind, nodeMode } from './device-table';
import { needsDevSetup } from '../../core/config/model';
import { inUserNamespace } from './userns';

/**
 * Creates the device nodes: the defaults every runtime provides and the config's
 * linux.devices. Each node is made with mknodat(2) in its directory looked up inside the
 * rootfs, then opened and checked with fstat(2); inside a
 * user namespace, or where mknod(2) answers EPERM, the host's node is bind-mounted onto an
 * empty file instead (mknod(2) of a char or block device needs CAP_MKNOD, which
 * vfs_mknod checks against the initial user namespace).
 */
@injectable()
export class DeviceNodesStep implements LifecycleStep {
  readonly name = 'device-nodes';
  readonly handles = ['linux.devices'];
  readonly phase = 'dev' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const config = ctx.config;
    if (!needsDevSetup(config)) return;
    const bind = hasNamespace(config, 'user') || inUserNamespace(this.sys, ctx);
    // umask(2) would strip bits from the modes mknod(2) and the empty bind targets get;
    // with 0 the nodes have exactly the configured permissions.
    const previous = this.sys.umask(0);
    // Of two devices at one path, the node of the first stays, as under runc, whose
    // mknod(2) of the second finds it (EEXIST); a bind, though, is made for each.
    const made = new Set<string>();
    try {
      for (const device of devicesToCreate(config.devices)) this.create(containerRoot(this.sys, ctx), device, bind, made);
    } finally {
      this.sys.umask(previous);
    }
  }

  private create(root: Root, d: DeviceSpec, bind: boolean, made: Set<string>): void {
    // The config loader refuses paths outside /dev; a config built in code is not loaded.
    const at = cleanPath(d.path);
    if (!isWithin('/dev', at) || at === '/dev') {
      throw new StepError(`device path ${JSON.stringify(d.path)} is not under /dev`);
    }
    if (bind) {
      this.bindHostNode(root, d);
      return;
    }
    if (made.has(at)) return;
    made.add(at);
    let node: Created;
    try {
      node = createInRoot(this.sys, root, d.path, { make: (dirFd, name) => this.sys.mknodat(dirFd, name, nodeMode(d), makedev(d.major, d.minor)) });
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EPERM') throw err;
      this.bindHostNode(root, d);
      return;
    }
    try {
      // The owner is set on the node the descriptor holds, never through a link.
      if (node.made) this.sys.fchownat(node.fd, '', d.uid, d.gid, AT_EMPTY_PATH);
      this.verify(root, d, node);
    } finally {
      this.sys.close(node.fd);
    }
  }

  /**
   * An empty file with the host's node of the same path bind-mounted on it through the
   * file's descriptor. The host's /dev is still the process's /dev here, before the jail.
   * MS_BIND makes mount(2) ignore the type, which runc passes as "bind".
   */
  private bindHostNode(root: Root, d: DeviceSpec): void {
    withMountTarget(this.sys, root, d.path, { kind: 'file', mode: 0o666 }, (t) => this.sys.mount(d.path, fdPath(t.fd), 'bind', MS_BIND, null));
  }

  /**
   * The node open as `node.fd` must be of the device's kind and, for char and block
   * devices, carry its major:minor; the descriptor holds the entry itself, where a link
   * would have been followed inside the rootfs. An entry that was there already and is a
   * mountpoint was mounted there by the config (a bind of /dev/urandom at /dev/random):
   * it is kept, as runc keeps whatever is at a device's path. An entry of the image's own
   * that is not the device is refused, a link that leads to another filesystem included.
   */
  private verify(root: Root, d: DeviceSpec, node: Created): void {
    const st = this.sys.fstat(node.fd);
    const kind = nodeKind(d.type);
    const numbered = hasDeviceNumber(d.type);
    if (st.kind === kind && (!numbered || st.rdev === makedev(d.major, d.minor))) return;
    if (!node.made && this.mountpoint(root, d.path)) return;
    const expected = describe(kind, numbered ? makedev(d.major, d.minor) : undefined);
    throw new StepError(`device ${JSON.stringify(d.path)} ${node.made ? 'was created as' : 'already exists as'} ${describeStat(st)}, expected ${expected}`);
  }

  /**
   * Whether the entry at `path` is itself a mountpoint: looked up from its directory with
   * RESOLVE_NO_XDEV, which answers EXDEV for a lookup that would cross onto a mount, its
   * last component's included (openat2(2)), and O_NOFOLLOW, so that a link there is the
   * link itself. Without openat2 (ENOSYS before Linux 5.6, EPERM from a seccomp filter),
   * the entry, opened O_PATH|O_NOFOLLOW, is a mountpoint when its filesystem is not its
   * directory's (st_dev): a link there is on the directory's own, and a bind of a file
   * of the same filesystem is not told.
   */
  private mountpoint(root: Root, path: string): boolean {
    return withParentInRoot(this.sys, root, path, (dir, name) => {
      try {
        this.sys.close(this.sys.openat2(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0, RESOLVE_NO_XDEV));
        return false;
      } catch (err) {
        if (!(err instanceof SyscallError) || (err.code !== 'EXDEV' && err.code !== 'ENOSYS' && err.code !== 'EPERM')) throw err;
        if (err.code === 'EXDEV') return true;
      }
      const entry = this.sys.openat(dir, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
      try {
        return this.sys.fstat(entry).dev !== this.sys.fstat(dir).dev;
      } finally {
        this.sys.close(entry);
      }
    });
  }
}

function describe(kind: FileKind, rdev: bigint | undefined): string {
  return rdev === undefined ? kind : `${kind} ${major(rdev)}:${minor(rdev)}`;
}

function describeStat(st: FileStat): string {
  return describe(st.kind, st.kind === 'char' || st.kind === 'block' ? st.rdev : undefined);
}
