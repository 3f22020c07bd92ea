/**
 * Failure at every step. On the fake port: a docker-like config runs through the whole
 * kernel (every built-in plugin, as plugins.json lists them) once to count its effect
 * calls; then, for each position, that one call fails with EIO and the run must end with
 * a PluginError naming the phase and plugin (and the mount, for a mount) that made the
 * call: never another error class, a crash or a hang. For real: a run that fails midway
 * or late leaves the host's mount table and files as they were.
 */
import 'reflect-metadata';
import { mkdirSync } from 'fs';
import * as path from 'path';
import { fromOciSpec } from '../../src/core/config/oci';
import type { RootfsConfig } from '../../src/core/config/model';
import { PluginError, SyscallError } from '../../src/core/errors';
import { createKernel } from '../../src/core/kernel';
import type { StepWhere } from '../../src/core/orchestrator';
import { O_RDWR } from '../../src/core/constants';
import { PHASES, type Logger } from '../../src/core/plugin';
import { ExecveCalled, FakeSyscalls, errorName } from '../../src/core/syscalls/fake';
import { hostChanges, hostFixtures, makeSentinel, ONE_LINE, REAL_RUNS, recordHost, runMountkit } from './host-state';

/** A config.json shaped like the one docker gives runc for `docker run -v /srv/data:/data -w /app --sysctl ... app`. */
function dockerSpec(): Record<string, any> {
  return {
    ociVersion: '1.0.2-dev',
    process: { args: ['/app/server', '--port', '80'], env: ['PATH=/usr/local/bin:/usr/bin:/bin'], cwd: '/app', user: { uid: 1000, gid: 1000 }, apparmorProfile: 'docker-default' },
    root: { path: 'rootfs' },
    hostname: 'c0ffee',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: '/var/lib/docker/containers/c0ffee/resolv.conf', options: ['rbind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: '/var/lib/docker/containers/c0ffee/hostname', options: ['rbind', 'rprivate'] },
      { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'rprivate'] },
      { destination: '/app/cache', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid', 'mode=755'] },
    ],
    hooks: { prestart: [{ path: '/usr/bin/dockerd', args: ['libnetwork-setkey', '-exec-root=/var/run/docker', 'c0ffee'] }] },
    linux: {
      sysctl: { 'net.ipv4.ip_unprivileged_port_start': '0' },
      namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }, { type: 'cgroup' }],
      devices: [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229, fileMode: 0o666 }],
      maskedPaths: ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/sys/firmware'],
      readonlyPaths: ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      // Docker's default profile in short: errno by default, an allow list, one rule with a comparison.
      seccomp: {
        defaultAction: 'SCMP_ACT_ERRNO',
        architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
        syscalls: [
          { names: ['read', 'write', 'close', 'execve', 'getpid', 'clone3'], action: 'SCMP_ACT_ALLOW' },
          { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
        ],
      },
    },
  };
}

const ROOTFS = '/var/lib/docker/overlay2/c0ffee/merged';

/** The host's mount table as the fake shows it: a cgroup2-only host. */
const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '23 22 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:12 - proc proc rw',
  '24 22 0:22 / /sys rw,nosuid,nodev,noexec,relatime shared:2 - sysfs sysfs rw',
  '25 24 0:23 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw',
  '26 22 0:5 / /dev rw,nosuid,relatime shared:5 - devtmpfs udev rw',
  `90 22 0:50 / ${ROOTFS} rw,relatime - overlay overlay rw,lowerdir=/l,upperdir=/u,workdir=/w`,
  '',
].join('\n');

function dockerConfig(): RootfsConfig {
  return { ...fromOciSpec(dockerSpec(), '/var/lib/docker/containers/c0ffee'), rootfs: ROOTFS };
}

/**
 * A fake host holding what the steps read: the process's /proc files, the host's /dev
 * nodes, the bind sources, the rootfs tree, and (since the fake resolves every path from
 * its own `/` also after the jail) the container's view of its files at `/`.
 */
function dockerHost(): FakeSyscalls {
  const sys = new FakeSyscalls()
    .addFile('/proc/self/mountinfo', MOUNTINFO)
    .addFile('/proc/self/cgroup', '0::/system.slice/docker-c0ffee.scope\n')
    .addFile('/proc/self/uid_map', '         0          0 4294967295\n')
    .addFile('/proc/self/setgroups', 'allow\n')
    .addFile('/proc/sys/net/ipv4/ip_unprivileged_port_start', '1024\n')
    .addFile('/proc/kcore')
    .addFile('/proc/keys')
    .addDir('/proc/acpi')
    .addDir('/proc/bus')
    .addDir('/proc/fs')
    .addDir('/proc/irq')
    .addFile('/proc/sysrq-trigger')
    .addDir('/sys/firmware')
    .addDir('/sys/fs/cgroup')
    .addDevice('/dev/null', 'char', 1, 3)
    .addDevice('/dev/fuse', 'char', 10, 229)
    .addFile('/var/lib/docker/containers/c0ffee/resolv.conf', 'nameserver 10.0.0.1\n')
    .addFile('/var/lib/docker/containers/c0ffee/hostname', 'c0ffee\n')
    .addDir('/srv/data')
    .addFile('/usr/bin/dockerd', '', 0o755)
    .addFile('/app/server', '', 0o755)
    .addFile('/app/cache/seed', 'x')
    .addDir('/tmp', 0o1777);
  for (const dir of ['proc', 'sys', 'dev', 'etc', 'tmp', 'usr/bin', 'app/cache']) sys.addDir(`${ROOTFS}/${dir}`);
  sys.addFile(`${ROOTFS}/app/server`, '', 0o755).addFile(`${ROOTFS}/app/cache/seed`, 'x').addSymlink(`${ROOTFS}/bin`, 'usr/bin');
  // After the jail the fake still resolves from its `/`: the container's procfs is the one there.
  // The container's procfs: thread-self (a symlink the kernel makes) leads to this process's thread, 1/task/1 (the fake's getpid).
  sys.addDir('/proc/1/task/1/fd').addSymlink('/proc/thread-self', '1/task/1').addFile('/proc/1/attr/exec').mount('proc', '/proc', 'proc', 0n, null);
  // stdin is the host's /dev/null, stdout and stderr a log file, as under a daemon.
  sys.addFile('/var/log/c0ffee.log');
  (['/dev/null', '/var/log/c0ffee.log', '/var/log/c0ffee.log'] as const).forEach((file, fd) => {
    const opened = sys.open(file, O_RDWR, 0);
    sys.dup3(opened, fd, 0);
    sys.close(opened);
  });
  return sys.clearCalls();
}

interface Outcome {
  error: unknown;
  /** Where the pipeline was at the last step or mount it announced. */
  where: StepWhere | undefined;
  effects: number;
  /** What the plugins logged as warnings. */
  warnings: string[];
}

function runOnce(sys: FakeSyscalls): Outcome {
  const warnings: string[] = [];
  const logger: Logger = {
    error: () => undefined,
    warn: (message, meta) => warnings.push(`${message} ${JSON.stringify(meta)}`),
    info: () => undefined,
    debug: () => undefined,
    child: () => logger,
  };
  const { orchestrator } = createKernel({ syscalls: sys, logger });
  let where: StepWhere | undefined;
  let error: unknown;
  try {
    // The orchestrator's own announcement, before it closes what a failed run kept, is not where the failure was made.
    orchestrator.run(dockerConfig(), { onStep: (w) => void (w.plugin === 'orchestrator' || (where = w)) });
  } catch (err) {
    error = err;
  }
  return { error, where, effects: sys.effects().length, warnings };
}

/** What a step may still do after a failure, in its finally blocks. */
const CLEANUP_OPS: ReadonlySet<string> = new Set(['close', 'umask', 'umount2', 'rmdir']);

function syscallCause(err: unknown): SyscallError | undefined {
  for (let e = err; e instanceof Error; e = (e as Error & { cause?: unknown }).cause) {
    if (e instanceof SyscallError) return e;
  }
  return undefined;
}

describe('failure at every effect call, on the fake port', () => {
  const baseline = runOnce(dockerHost());

  test('the docker-like config runs to execve through every phase', () => {
    expect(baseline.error).toBeInstanceOf(ExecveCalled);
    expect(baseline.error).toMatchObject({ path: '/app/server', argv: ['/app/server', '--port', '80'] });
    expect(baseline.where).toMatchObject({ phase: 'finalize', plugin: 'exec' });
    // Enough calls that every phase is exercised.
    expect(baseline.effects).toBeGreaterThan(60);
  });

  test('the run announces every phase and every mount', () => {
    const seen: StepWhere[] = [];
    expect(() => createKernel({ syscalls: dockerHost() }).orchestrator.run(dockerConfig(), { onStep: (w) => seen.push(w) })).toThrow(ExecveCalled);
    expect(new Set(seen.map((w) => w.phase))).toEqual(new Set(PHASES));
    expect(new Set(seen.map((w) => w.mountIndex).filter((i) => i !== undefined))).toEqual(new Set(dockerConfig().mounts.map((m) => m.index)));
  });

  const positions = Array.from({ length: baseline.effects }, (_, i) => i);

  test.each(positions)('effect call %i fails with EIO: a PluginError where it was made', (i) => {
    const sys = dockerHost().failAt(i, 'EIO');
    const { error, where, warnings } = runOnce(sys);
    const failed = sys.effects()[i];
    expect(failed).toBeDefined();
    if (error instanceof ExecveCalled) {
      // Only a cleanup call may fail without failing the run (a close of a descriptor of
      // tmpcopyup's tmpfs), or the look at /etc/passwd for HOME (runc's default then,
      // `/`), and then a warning names it.
      expect(CLEANUP_OPS.has(failed.op) || (failed.op === 'open' && failed.path === '/etc/passwd')).toBe(true);
      expect(warnings).toContainEqual(expect.stringContaining(`${failed.op} `));
      expect(warnings).toContainEqual(expect.stringContaining('EIO'));
      return;
    }
    expect(error).toBeInstanceOf(PluginError);
    const e = error as PluginError;
    expect(PHASES).toContain(e.phase);
    expect({ phase: e.phase, plugin: e.plugin, mountIndex: e.mountIndex }).toEqual({
      phase: where!.phase,
      plugin: where!.plugin,
      mountIndex: where!.mountIndex,
    });
    if (e.phase === 'mounts') expect(e.mountIndex).toEqual(expect.any(Number));
    expect(syscallCause(e)).toMatchObject({ syscall: errorName(failed.op), code: 'EIO' });
    expect(e.message).toContain('EIO');
    expect(e.exitCode).toBe(1);
    // After the failure only cleanup runs (descriptors closed, umask restored, a half-copied tmpfs unmounted).
    expect(sys.effects().slice(i + 1).filter((c) => !CLEANUP_OPS.has(c.op))).toEqual([]);
  });
});

const maybe = REAL_RUNS ? describe : describe.skip;

maybe('a real run failing midway leaves nothing on the host', () => {
  const host = hostFixtures();

  /** Mounts of every kind, a writable bind of the sentinel among them, then `last`. */
  function config(last: Record<string, unknown>[], over: Record<string, unknown> = {}): Record<string, any> {
    return {
      ociVersion: '1.0.2',
      process: { args: ['sh', '-c', `echo pwned > /data/file; touch /data/new`], env: ['PATH=/bin'], cwd: '/work' },
      root: { path: 'rootfs' },
      hostname: 'box',
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
        { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['newinstance', 'ptmxmode=0666'] },
        { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' },
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] },
        { destination: '/data', type: 'bind', source: host.sentinel.dir, options: ['rbind'] },
        { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] },
        ...last,
      ],
      linux: {
        namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }],
        maskedPaths: ['/proc/kcore'],
        readonlyPaths: ['/proc/sys'],
      },
      ...over,
    };
  }

  function runAndCheck(c: Record<string, unknown>) {
    const bundle = host.bundles.make(c);
    // The mount targets and the cwd exist, so that a run has no reason to make anything.
    for (const dir of ['data', 'work', 'mnt']) mkdirSync(path.join(bundle.dir, 'rootfs', dir));
    try {
      const dirs = [bundle.dir, host.sentinel.dir];
      const before = recordHost(dirs);
      const r = runMountkit(bundle.dir);
      return { ...r, stderr: r.stderr.split(bundle.dir).join('BUNDLE'), changes: hostChanges(before, dirs) };
    } finally {
      bundle.cleanup();
    }
  }

  test('the last mount failing with ENODEV', () => {
    const r = runAndCheck(config([{ destination: '/mnt', type: 'nosuchfs', source: 'none' }]));
    expect(r.stderr).toMatch(ONE_LINE);
    expect(r.stderr).toBe('mountkit: mounts: plugin default mounts[7] "/mnt": mount "none" -> "BUNDLE/rootfs/mnt": ENODEV (type "nosuchfs")\n');
    expect(r.status).toBe(1);
    expect(r.changes).toEqual([]);
  });

  test('a failure after the jail (the program is missing) with everything mounted', () => {
    const r = runAndCheck(config([], { process: { args: ['no-such-program'], env: ['PATH=/bin'], cwd: '/' } }));
    expect(r.stderr).toBe('mountkit: finalize: plugin exec: process.args[0] "no-such-program" is not found in PATH "/bin"\n');
    expect(r.status).toBe(1);
    expect(r.changes).toEqual([]);
  });

  test('control: the same run succeeding writes through the bind, which the checks see', () => {
    const r = runAndCheck(config([]));
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.changes).toEqual(
      expect.arrayContaining([expect.stringMatching(/sentinel-[^/]+\/file: file /), expect.stringMatching(/^\+ .*sentinel-[^/]+\/new /)]),
    );
    host.sentinel.cleanup();
    host.sentinel = makeSentinel();
  });
});
