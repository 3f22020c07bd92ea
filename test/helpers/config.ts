import type { MountSpec, RootfsConfig } from '../../src/core/config/model';

/** A minimal valid RootfsConfig for unit tests; override what a test needs. */
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

/** A mount as the OCI loader would produce it; `index` defaults to 0. */
export function makeMount(over: Partial<MountSpec> & Pick<MountSpec, 'type' | 'destination'>): MountSpec {
  return {
    index: 0,
    source: over.type,
    flags: 0n,
    clearedFlags: 0n,
    propagationFlags: [],
    data: '',
    extensions: { tmpcopyup: false },
    relabel: '',
    premountCmds: [],
    postmountCmds: [],
    ...over,
  };
}
