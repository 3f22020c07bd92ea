/**
 * Runs one OCI bundle under runc and under mountkit and normalizes what the container
 * printed, so that the two can be compared line for line.
 */
import { spawnSync } from 'child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { crunWrapped } from '../../bench/runners';
import { BIN, LAUNCHER, REPO } from '../helpers/cli';

export const RUNC = ['/usr/sbin/runc', '/usr/bin/runc'].find((p) => existsSync(p));
export const CRUN = ['/usr/bin/crun', '/usr/local/bin/crun'].find((p) => existsSync(p));
export const BUSYBOX = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));

/** What every conformance container prints, section by section. */
export const PROBE = [
  'echo "== mountinfo"; cat /proc/self/mountinfo',
  'echo "== dev"; ls -ln /dev',
  'echo "== fds"; ls /proc/self/fd',
  'echo "== umask"; umask',
  'echo "== pwd"; pwd',
  // Blocked and ignored signals, which execve(2) passes on (a grep child of the shell: what the container's processes start with).
  'echo "== signals"; grep -E "^Sig(Blk|Ign)" /proc/self/status',
  // process.noNewPrivileges: runc spec's default sets it.
  'echo "== nnp"; grep "^NoNewPrivs" /proc/self/status',
  // process.capabilities, as the container's processes start with them.
  'echo "== caps"; grep "^Cap" /proc/self/status',
  // process.rlimits: runc spec's default sets RLIMIT_NOFILE; the others are inherited.
  'echo "== limits"; cat /proc/self/limits',
  'echo "== oom"; cat /proc/self/oom_score_adj',
  // The shell's own process group, session and controlling terminal (proc(5), /proc/pid/stat fields 5 to 7): runc's init calls setsid.
  'echo "== session"; read -r pid comm state ppid pgrp sid tty rest </proc/self/stat; echo "pgrp $pgrp session $sid tty $tty"',
].join('; ');

export interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A bundle directory with a busybox rootfs, made from examples/busybox/make-rootfs.sh. */
export function makeBundle(config: object): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-conf-'));
  const r = spawnSync('sh', [path.join(REPO, 'examples', 'busybox', 'make-rootfs.sh'), path.join(dir, 'rootfs')], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make-rootfs.sh failed: ${r.stderr}`);
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config, null, 2));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Runs `fn` with a bundle of `config` made by makeBundle, removed afterwards. */
export function withBundle<T>(config: object, fn: (dir: string) => T): T {
  const b = makeBundle(config);
  try {
    return fn(b.dir);
  } finally {
    b.cleanup();
  }
}

/** withBundle for an asynchronous `fn`: the bundle is removed once its promise settles. */
export async function withBundleAsync<T>(config: object, fn: (dir: string) => Promise<T>): Promise<T> {
  const b = makeBundle(config);
  try {
    return await fn(b.dir);
  } finally {
    b.cleanup();
  }
}

/**
 * A pristine copy of the bundle, so each runtime starts from the same tree. Searchable by
 * all (0711, not mkdtemp's 0700): the root of a container's user namespace, a host id
 * other than 0, reaches the rootfs through it under either runtime.
 */
export function copyBundle(dir: string): string {
  const copy = mkdtempSync(path.join(tmpdir(), 'mountkit-conf-'));
  // cp(1), not fs.cpSync: Node reads directory entries as UTF-8 and cannot copy a name that is not.
  const r = spawnSync('cp', ['-a', '--', `${dir}/.`, `${copy}/`], { encoding: 'utf8' });
  if (r.status !== 0) {
    rmSync(copy, { recursive: true, force: true });
    throw new Error(`cp -a ${dir} failed: ${r.stderr}`);
  }
  chmodSync(copy, 0o711);
  return copy;
}

let serial = 0;

/** A user other than root for rootless runs: nobody, as Debian numbers it. */
export const ROOTLESS_ID = 65534;

/** A supplementary group of ROOTLESS_ID's in runs with subordinate ids (spawnRootless): Debian's users. */
export const SUPPLEMENTARY_GID = 100;

/** The subordinate ids ROOTLESS_ID is given in /etc/subuid and /etc/subgid by spawnRootless: 100000 and up, 65536 of them. */
export const SUBORDINATE_IDS = { first: 100000, count: 65536 };

/**
 * Runs `argv` as the user ROOTLESS_ID, with its group alone (setpriv(1), util-linux).
 * `subIds`: where that user has SUBORDINATE_IDS (withSubordinateIds); the host's /etc is
 * left as it is.
 */
function spawnRootless(argv: string[], subIds = false): Outcome {
  // With subordinate ids, also a supplementary group (users, 100): a rootless container keeps it.
  const groups = subIds ? `--groups=${SUPPLEMENTARY_GID}` : '--clear-groups';
  const setpriv = ['setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, groups, ...argv];
  if (!subIds) {
    const r = spawnSync(setpriv[0], setpriv.slice(1), { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }
  const layers = mkdtempSync(path.join(tmpdir(), 'mountkit-subids-'));
  try {
    const [file, ...args] = withSubordinateIds(layers, setpriv);
    const r = spawnSync(file, args, { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  } finally {
    rmSync(layers, { recursive: true, force: true });
  }
}

/**
 * `argv` run in a mount namespace of its own whose /etc is the host's under an overlay
 * that adds /etc/subuid and /etc/subgid giving ROOTLESS_ID SUBORDINATE_IDS, which
 * newuidmap(1) and newgidmap(1) read there; the overlay's layers in `layers` (a
 * directory the caller makes and removes), on a tmpfs of their own: an upper directory
 * cannot be on an overlayfs (a /tmp in a container). Exit 125 where it cannot be made.
 */
export function withSubordinateIds(layers: string, argv: readonly string[]): string[] {
  const line = `${ROOTLESS_ID}:${SUBORDINATE_IDS.first}:${SUBORDINATE_IDS.count}`;
  const script = `mount -t tmpfs tmpfs "$1" && mkdir "$1/upper" "$1/work" && mount -t overlay overlay -o "lowerdir=/etc,upperdir=$1/upper,workdir=$1/work" /etc && echo ${line} >/etc/subuid && echo ${line} >/etc/subgid || exit 125; shift; exec "$@"`;
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', layers, ...argv];
}

let rootlessInstall: string | undefined;

/**
 * A mountkit that ROOTLESS_ID can run: this checkout when that user can read it, else a
 * copy of what a run loads (bin, dist, node_modules, package.json, plugins.json) in a
 * temporary directory, made once and readable by all (a checkout under /root is not).
 */
export function rootlessLauncher(): string {
  if (spawnRootless(['test', '-x', process.execPath]).status !== 0) throw new Error(`rootless tests need Node where uid ${ROOTLESS_ID} can run it; ${process.execPath} is not`);
  const files = [path.join(REPO, 'bin', 'mountkit'), path.join(REPO, 'plugins.json'), path.join(REPO, 'dist', 'cli.bundle.js'), path.join(REPO, 'node_modules', 'koffi', 'package.json')];
  if (spawnRootless(['sh', '-c', 'for f; do [ -r "$f" ] || exit 1; done', 'sh', ...files]).status === 0) return LAUNCHER;
  if (!rootlessInstall) {
    rootlessInstall = mkdtempSync(path.join(tmpdir(), 'mountkit-rootless-install-'));
    for (const entry of ['bin', 'dist', 'node_modules', 'package.json', 'plugins.json']) {
      cpSync(path.join(REPO, entry), path.join(rootlessInstall, entry), { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    }
    // Modes are copied too: a checkout made under umask 077 would stay out of reach.
    spawnSync('chmod', ['-R', 'a+rX', rootlessInstall]);
  }
  return path.join(rootlessInstall, 'bin', 'mountkit');
}

/** Removes the copy rootlessLauncher made, if it made one (a test file's afterAll). */
export function removeRootlessInstall(): void {
  if (rootlessInstall) rmSync(rootlessInstall, { recursive: true, force: true });
  rootlessInstall = undefined;
}

/** `runc run` as ROOTLESS_ID, its state under `root` (which that user owns); `subIds`: with SUBORDINATE_IDS (spawnRootless). */
export function runRuncRootless(bundle: string, root: string, subIds = false): Outcome {
  const id = `mountkit-conf-${process.pid}-${serial++}`;
  const r = spawnRootless([RUNC!, '--root', root, 'run', '--bundle', bundle, id], subIds);
  spawnRootless([RUNC!, '--root', root, 'delete', '--force', id]);
  return r;
}

/**
 * `mountkit run` as ROOTLESS_ID, through the shell launcher or the Node entry beside it (`entry`);
 * `subIds`: with SUBORDINATE_IDS (spawnRootless); `pathVar`: its PATH.
 */
export function runMountkitRootless(bundle: string, subIds = false, pathVar?: string, entry: 'launcher' | 'node' = 'launcher'): Outcome {
  const env = pathVar === undefined ? [] : ['env', `PATH=${pathVar}`];
  const command = entry === 'launcher' ? [rootlessLauncher()] : [process.execPath, path.join(path.dirname(rootlessLauncher()), 'mountkit.js')];
  return spawnRootless([...env, ...command, 'run', '--bundle', bundle, '--seccomp-cache', 'off'], subIds);
}

/** `runc run` of the bundle as the container `id` (default: one of the suite's own), in the environment `env` (default: this process's). */
export function runRunc(bundle: string, id = `mountkit-conf-${process.pid}-${serial++}`, env?: NodeJS.ProcessEnv): Outcome {
  const r = spawnSync(RUNC!, ['run', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
  spawnSync(RUNC!, ['delete', '--force', id], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs `argv` in a mount namespace of its own that receives the host's mounts and sends
 * none back (a slave of them, as runc's and mountkit's namespaces are of the host's), where
 * crun 1.8.1 can start a container: on a hybrid host whose cgroup2 hierarchy at
 * /sys/fs/cgroup/unified has controllers crun refuses every run ("cgroups in hybrid mode not
 * supported", src/libcrun/cgroup.c), so that hierarchy is unmounted there first. crun then
 * uses the cgroup v1 hierarchies alone, as it does in hybrid mode anyway. Its standard
 * input is an empty pipe, never the host's /dev/null: crun fchowns each of its standard
 * streams that is no terminal to the container's root (maybe_chown_std_streams,
 * src/libcrun/container.c), the host's /dev/null included, 100000:100000 in a user namespace.
 */
function spawnForCrun(argv: string[]): Outcome {
  const r = spawnSync(...crunWrapped(argv), { encoding: 'utf8', timeout: 60_000, input: '', stdio: ['pipe', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `crun run` of the bundle in the foreground as the container `id` (default: one of the suite's own), `flags` after run; then `crun delete --force`, which removes the cgroups crun made. */
export function runCrun(bundle: string, id = `mountkit-conf-${process.pid}-${serial++}`, flags: string[] = []): Outcome {
  const r = spawnForCrun([CRUN!, 'run', ...flags, '--bundle', bundle, id]);
  spawnForCrun([CRUN!, 'delete', '--force', id]);
  return r;
}

/**
 * `mountkit run` as users start it (the shell launcher), or through the Node entry, in the
 * environment `env` (default: this process's). The seccomp cache is off unless `extra`
 * names one: the suite leaves nothing in the host's /run (the cache's own tests give it a
 * directory).
 */
export function runMountkit(bundle: string, extra: string[] = [], entry: 'launcher' | 'node' = 'launcher', env?: NodeJS.ProcessEnv): Outcome {
  const [cmd, ...pre] = entry === 'launcher' ? [LAUNCHER] : [process.execPath, BIN];
  const cache = extra.some((arg) => arg.startsWith('--seccomp-cache')) ? [] : ['--seccomp-cache', 'off'];
  const r = spawnSync(cmd, [...pre, 'run', '--bundle', bundle, ...cache, ...extra], {
    encoding: 'utf8',
    timeout: 60_000,
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(env ? { env } : {}),
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `runc spec` 1.1.5's default config, with the probe as the process. */
export function runcSpec(extra: string[] = []): Record<string, any> {
  return {
    ociVersion: '1.0.2-dev',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: ['sh', '-c', [PROBE, ...extra].join('; ')],
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm'],
      cwd: '/',
      capabilities: {
        bounding: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        effective: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        permitted: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
        ambient: ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      },
      rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    hostname: 'runc',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }],
      maskedPaths: ['/proc/acpi', '/proc/asound', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/sys/firmware', '/proc/scsi'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
    },
  };
}

/** A config.json of the busybox rootfs running `args`: /proc, a tmpfs /dev, new pid, mount, uts and ipc namespaces; `over` replaces top-level fields. */
/**
 * A busybox bundle's config with the host's /usr bound read-only (rbind) as its last
 * mount, for a program of the host's (node, python3); hostUsrLinks puts what it needs
 * into the rootfs.
 */
export function withHostUsr(config: Record<string, any>): Record<string, any> {
  config.mounts.push({ destination: '/usr', type: 'bind', source: '/usr', options: ['rbind', 'ro'] });
  return config;
}

/** The mountpoint /usr in `rootfs`, and the links a merged /usr's libraries are found by: /lib and /lib64. */
export function hostUsrLinks(rootfs: string): void {
  mkdirSync(path.join(rootfs, 'usr'), { recursive: true });
  symlinkSync('usr/lib', path.join(rootfs, 'lib'));
  symlinkSync('usr/lib64', path.join(rootfs, 'lib64'));
}

export function busyboxConfig(args: string[], over: Record<string, unknown> = {}): Record<string, any> {
  return {
    ociVersion: '1.0.2',
    process: { terminal: false, args, env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }] },
    ...over,
  };
}

/** Splits the probe output into its sections. */
export function sections(stdout: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  let current = '';
  for (const line of stdout.split('\n')) {
    const m = /^== (\w+)$/.exec(line);
    if (m) current = out[m[1]] ? current : m[1];
    if (m) out[current] = [];
    else if (current && line !== '') out[current].push(line);
  }
  return out;
}

/**
 * A mountinfo table with what must differ between two runs taken out: mount ids become
 * the parent's mountpoint, anonymous device numbers (0:N) and peer group numbers are
 * dropped, and the root of a cgroup mount (runc makes a cgroup per container, mountkit
 * leaves cgroups to its caller) becomes <cgroup>.
 */
export function normalizeMountinfo(lines: readonly string[]): string[] {
  const byId = new Map<string, string>();
  for (const line of lines) {
    const f = line.split(' ');
    byId.set(f[0], f[4]);
  }
  return lines.map((line) => {
    const f = line.split(' ');
    const sep = f.indexOf('-', 6);
    const [, parent, dev, root, mountpoint, options] = f;
    const optional = f.slice(6, sep).map((o) => o.replace(/:\d+$/, ''));
    const [fstype, source, superOptions] = f.slice(sep + 1);
    const device = dev.startsWith('0:') ? '0:*' : dev;
    const rootShown = fstype === 'cgroup' || fstype === 'cgroup2' ? '<cgroup>' : root;
    return [byId.get(parent) ?? '<outside>', device, rootShown, mountpoint, options, ...optional, '-', fstype, source, superOptions].join(' ');
  });
}

/** `ls -ln` lines without the date and time columns. */
export function normalizeLs(lines: readonly string[]): string[] {
  return lines
    .filter((l) => !l.startsWith('total '))
    .map((l) => l.replace(/\s+[A-Z][a-z]{2}\s+\d+\s+(\d\d:\d\d|\d{4})\s+/, ' ').replace(/\s+/g, ' '));
}

export function normalize(stdout: string): Record<string, string[]> {
  const s = sections(stdout);
  return {
    ...s,
    mountinfo: normalizeMountinfo(s.mountinfo ?? []),
    dev: normalizeLs(s.dev ?? []),
  };
}
