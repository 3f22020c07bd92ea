import { hasNamespace, type RootfsConfig } from '../../core/config/model';

/** How the process is confined to the rootfs. */
export type JailStrategy = 'pivot' | 'move-root' | 'chroot';

/**
 * noPivot asks for MS_MOVE+chroot whatever the namespaces; otherwise pivot_root(2), which
 * needs a mount namespace of the container's own (it rearranges the whole namespace's
 * tree); without one, only a chroot(2) is left. This is runc's order of checks.
 */
export function chooseJail(config: RootfsConfig): JailStrategy {
  if (config.noPivot) return 'move-root';
  if (hasNamespace(config, 'mount')) return 'pivot';
  return 'chroot';
}
