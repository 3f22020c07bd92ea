import {
  ConfigError,
  PLUGIN_OPTIONS,
  SYSCALLS,
  SyscallError,
  afterMount,
  createInRoot,
  fdPath,
  formatMountLabel,
  inject,
  injectable,
  mountLabel,
  mountOn,
  withMountTarget,
  type MountHandler,
  type MountSpec,
  type RootfsConfig,
  type RunContext,
  type Syscalls,
} from 'mountkit';
import { overlayData, parseOverlayData, resolveLayers } from './layers';
import { parseOptions, type OverlayOptions } from './options';

/**
 * Mounts overlayfs (type "overlay"): the lower layers must be existing directories, the
 * upper and work directories are created when missing, and the mount goes on the target
 * inside the rootfs, looked up and created there by mountkit's own helpers, as the
 * built-in handlers do it, with the container's SELinux label (linux.mountLabel) as
 * `context=` on a host that runs SELinux, as runc gives it to an overlay. Every effect
 * goes through the syscall port.
 */
@injectable()
export class OverlayMountHandler implements MountHandler {
  readonly name = 'overlay';
  readonly types = ['overlay'];
  private readonly options: OverlayOptions;

  constructor(
    @inject(SYSCALLS) private readonly sys: Syscalls,
    @inject(PLUGIN_OPTIONS) options: Record<string, unknown>,
  ) {
    this.options = parseOptions(options);
  }

  /**
   * The layer options, checked from the config alone (no lowerdir, an empty layer, upperdir
   * without workdir...): the orchestrator asks before the run, so such a mount is refused
   * before any mount of the list is made or any directory created.
   */
  validate(m: MountSpec, config: RootfsConfig): void {
    resolveLayers(parseOverlayData(m.data), config.bundle);
  }

  mount(m: MountSpec, ctx: RunContext): void {
    const layers = resolveLayers(parseOverlayData(m.data), ctx.config.bundle);
    for (const dir of layers.lower) this.requireDir('lowerdir', dir);
    if (layers.upper !== undefined && layers.work !== undefined) {
      this.ensureDir('upperdir', layers.upper, ctx);
      this.ensureDir('workdir', layers.work, ctx);
    }
    const rootfs = ctx.config.rootfs;
    const data = formatMountLabel(overlayData(layers), mountLabel(this.sys, ctx));
    withMountTarget(this.sys, rootfs, m.destination, {}, (target) => {
      mountOn(this.sys, m, { source: m.source || 'overlay', target: fdPath(target.fd), fstype: 'overlay', flags: m.flags, data });
      afterMount(this.sys, rootfs, m, target);
    });
  }

  /** A layer that must already be a directory. */
  private requireDir(key: string, dir: string): void {
    let kind: string;
    try {
      kind = this.sys.stat(dir).kind;
    } catch (err) {
      if (err instanceof SyscallError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) throw new ConfigError(key, dir, 'does not exist');
      throw err;
    }
    if (kind !== 'dir') throw new ConfigError(key, dir, `is a ${kind}, not a directory`);
  }

  /** upperdir or workdir: created with its missing parents unless the options say not to. */
  private ensureDir(key: string, dir: string, ctx: RunContext): void {
    if (!this.options.createMissing) {
      this.requireDir(key, dir);
      return;
    }
    // A host path: looked up from "/" like any other, created where missing.
    const created = createInRoot(this.sys, '/', dir, { dirMode: this.options.dirMode });
    this.sys.close(created.fd);
    if (created.made) ctx.log.info(`created ${key}`, { path: dir });
    else this.requireDir(key, dir);
  }
}
