/**
 * The bundles the bench runs: `runc spec`'s default config with a busybox rootfs
 * (examples/busybox/make-rootfs.sh) running /bin/true, and variants of it.
 */
import { spawnSync } from 'child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';

export const REPO = path.resolve(__dirname, '..');

interface OciMount {
  destination: string;
  type: string;
  source: string;
  options?: string[];
}

interface IdMap {
  containerID: number;
  hostID: number;
  size: number;
}

/** The part of `runc spec`'s config.json the variants change. */
export interface OciSpec {
  process: { terminal: boolean; args: string[]; oomScoreAdj?: number };
  mounts: OciMount[];
  linux: { namespaces: { type: string }[]; seccomp?: unknown; uidMappings?: IdMap[]; gidMappings?: IdMap[] };
  hooks?: { createRuntime?: { path: string }[] };
}

export type SpecEdit = (spec: OciSpec, bundle: string) => void;

function check(what: string, r: ReturnType<typeof spawnSync>): void {
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${what} failed (status ${r.status}): ${String(r.stderr).trim()}`);
}

/** Builds the busybox rootfs once; bundles copy it. */
export function makeRootfs(dir: string): string {
  const rootfs = path.join(dir, 'rootfs-template');
  check('make-rootfs.sh', spawnSync('sh', [path.join(REPO, 'examples', 'busybox', 'make-rootfs.sh'), rootfs], { encoding: 'utf8' }));
  return rootfs;
}

/** A bundle at `dir`: `runc spec` (with `specArgs`), the process made `/bin/true` without a terminal, then `edit`. */
export function makeBundle(dir: string, template: string, edit?: SpecEdit, specArgs: readonly string[] = []): string {
  mkdirSync(dir, { recursive: true });
  check('runc spec', spawnSync('runc', ['spec', ...specArgs], { cwd: dir, encoding: 'utf8' }));
  cpSync(template, path.join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
  const file = path.join(dir, 'config.json');
  const spec = JSON.parse(readFileSync(file, 'utf8')) as OciSpec;
  spec.process.terminal = false;
  spec.process.args = ['/bin/true'];
  edit?.(spec, dir);
  writeFileSync(file, JSON.stringify(spec, null, 2));
  return dir;
}

/** No pid namespace: mountkit then runs in one Node process instead of relaunching itself. */
export const withoutPidNamespace: SpecEdit = (spec) => {
  spec.linux.namespaces = spec.linux.namespaces.filter((ns) => ns.type !== 'pid');
};

/**
 * A new user namespace mapping root to root, the maps `runc spec --rootless` gives root,
 * and its devpts without gid=5 (unmapped there): mountkit's launcher makes it in its
 * unshare(1) call and writes its maps from the host (one Node process; before the
 * thirty-seventh session the Node entry made it and started itself again, two), runc
 * makes it in its init.
 */
export const withUserNamespace: SpecEdit = (spec) => {
  const devpts = spec.mounts.find((m) => m.type === 'devpts');
  if (devpts) devpts.options = devpts.options?.filter((o) => o !== 'gid=5');
  spec.linux.namespaces.push({ type: 'user' });
  spec.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
  spec.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
};

/** The first host id of the subordinate range withSubordinateUserNamespace maps root's ids onto. */
export const SUBORDINATE_BASE = 100000;

/**
 * A new user namespace whose 65536 ids start at host id SUBORDINATE_BASE, as a
 * Kubernetes pod without host users gets (its root is not the host's): the rootfs stays
 * the host root's, which the namespace shows as the overflow uid, readable and
 * executable by others. mountkit's launcher makes that namespace in its unshare(1) call
 * (--keep-caps), writes its maps from the host and starts Node there through setpriv(1)
 * as its uid 0 (one Node process; before the thirty-eighth session the Node entry made
 * it and started itself again, two); runc makes it in its init.
 */
export const withSubordinateUserNamespace: SpecEdit = (spec) => {
  spec.linux.namespaces.push({ type: 'user' });
  spec.linux.uidMappings = [{ containerID: 0, hostID: SUBORDINATE_BASE, size: 65536 }];
  spec.linux.gidMappings = [{ containerID: 0, hostID: SUBORDINATE_BASE, size: 65536 }];
};

/**
 * withSubordinateUserNamespace with a process.oomScoreAdj of 500, above the bench's own
 * score, as Kubernetes writes one into every container's config (a Burstable pod's lies
 * between 2 and 999): the Node the launcher starts raises its own score to it. Before the
 * fortieth session any score sent such a run to the Node entry (two Node processes).
 */
export const withSubordinateUserNamespaceAndScore: SpecEdit = (spec, bundle) => {
  withSubordinateUserNamespace(spec, bundle);
  spec.process.oomScoreAdj = 500;
};

/** The user the rootless rows run as: nobody, as Debian numbers it. */
export const ROOTLESS_ID = 65534;

/**
 * `runc spec --rootless`'s bundle (a user namespace, no network namespace, /sys bound
 * from the host, devpts without gid=5) for ROOTLESS_ID, who owns it: its maps give that
 * user alone the namespace's root, which such a user may write itself (no newuidmap(1)).
 * mountkit's launcher makes that namespace in its unshare(1) call (--map-root-user), so
 * one Node process runs, as for the default bundle run by root.
 */
export function makeRootlessBundle(dir: string, template: string): string {
  const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
  makeBundle(dir, template, (spec) => {
    spec.linux.uidMappings = own;
    spec.linux.gidMappings = own;
  }, ['--rootless']);
  check('chown', spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir], { encoding: 'utf8' }));
  return dir;
}

/**
 * A createRuntime hook that does nothing (/bin/true): the runtime's hooks run where
 * mountkit was started, by the relay bin/mountkit starts beside the Node that prepares
 * the container (the Node entry starts itself again for them, and its first process runs
 * the hook); runc's runs it from its parent.
 */
export const withRuntimeHook: SpecEdit = (spec) => {
  spec.hooks = { createRuntime: [{ path: '/bin/true' }] };
};

/** withUserNamespace's namespace and maps, and withRuntimeHook's hook. */
export const withUserNamespaceAndRuntimeHook: SpecEdit = (spec, bundle) => {
  withUserNamespace(spec, bundle);
  withRuntimeHook(spec, bundle);
};

/**
 * The package's plugins.json with a module of its own added before builtin:exec: a
 * handler of a type no bundle uses, so that it mounts nothing. A list whose names do not
 * decide it (src/core/claims.ts `decidedByNames`) is loaded by a relaunch's first process
 * too, to ask the plugins' validate before the relaunch: the kernel is built in both
 * processes. Written to `dir`; returns the list's path.
 */
export function withOwnModule(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const module = path.join(dir, 'own-handler.js');
  writeFileSync(module, "exports.register = (api) => api.handler({ name: 'bench-own', types: ['bench-own'], mount() {} });\n");
  const list = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: { module: string }[] };
  list.plugins.splice(list.plugins.length - 1, 0, { module });
  const file = path.join(dir, 'plugins.json');
  writeFileSync(file, JSON.stringify(list));
  return file;
}

/**
 * process.terminal, as `runc spec` writes it: a foreground console, which runc and
 * mountkit copy to the terminal they run at (mountkit from a relay bin/mountkit starts
 * beside the Node process that prepares the container; until the forty-second session,
 * from the Node entry's first process: two Node processes in a row).
 */
export const withTerminal: SpecEdit = (spec) => {
  spec.process.terminal = true;
};

/** `n` more tmpfs mounts, at /bench/t0 ... */
export function extraTmpfs(n: number): SpecEdit {
  return (spec) => {
    for (let i = 0; i < n; i++) {
      spec.mounts.push({ destination: `/bench/t${i}`, type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'size=64k'] });
    }
  };
}

/** `n` more bind mounts of one host directory of the bundle, at /bench/b0 ... */
export function extraBinds(n: number): SpecEdit {
  return (spec, bundle) => {
    const source = path.join(bundle, 'bind-source');
    mkdirSync(source, { recursive: true });
    for (let i = 0; i < n; i++) {
      spec.mounts.push({ destination: `/bench/b${i}`, type: 'bind', source, options: ['bind', 'nosuid'] });
    }
  };
}

/**
 * A seccomp profile of Docker's default's size and shape: errno by default, an allow list
 * of the `names` given (Docker's lists about 350), three architectures, and two rules with
 * an argument comparison. No flags: runc 1.1 refuses any.
 */
export function withSeccomp(names: readonly string[]): SpecEdit {
  return (spec) => {
    spec.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      flags: [],
      syscalls: [
        { names: names.filter((n) => n !== 'personality'), action: 'SCMP_ACT_ALLOW' },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
      ],
    };
  };
}
