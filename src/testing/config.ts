/**
 * Config builders for tests: a minimal valid RootfsConfig and MountSpec, with every field
 * a test does not care about filled in. Paths are model paths of the fake port (the
 * bundle at /bundle, its rootfs at /bundle/rootfs); override what a test needs.
 */
import { mountSpec, type MountSpec, type RootfsConfig } from '../core/config/model';

/** A minimal valid RootfsConfig: a mount namespace, no mounts, `/bin/true` as the process. */
export function makeConfig(over: Partial<RootfsConfig> = {}): RootfsConfig {
  return {
    bundle: '/bundle',
    rootfs: '/bundle/rootfs',
    readonlyRootfs: false,
    mounts: [],
    devices: [],
    rootPropagation: 0n,
    noPivot: false,
    namespaces: [{ type: 'mount' }],
    maskedPaths: [],
    readonlyPaths: [],
    sysctls: {},
    mountLabel: '',
    process: { args: ['/bin/true'], env: [], cwd: '/', uid: 0, gid: 0, terminal: false },
    hooks: { prestart: [], createRuntime: [] },
    hostname: '',
    ...over,
  };
}

/** A mount as the OCI loader would produce it; `index` defaults to 0, `source` to the type. */
export function makeMount(over: Partial<MountSpec> & Pick<MountSpec, 'type' | 'destination'>): MountSpec {
  return mountSpec(over);
}
