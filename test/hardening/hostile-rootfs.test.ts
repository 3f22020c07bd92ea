/**
 * Rootfs trees built to escape, run end to end with `mountkit run` (black box): symlinks
 * at path components of mount destinations, device paths (a /dev that is a link out),
 * /proc and /sys, masked and read-only paths and the cwd; `..` in destinations; magic
 * links; a cwd naming a descriptor (CVE-2024-21626). Links lead to a sentinel directory
 * outside the bundle. Checked on the host after each run: the sentinel and the bundle
 * outside its rootfs are unchanged (nothing created, written or re-owned), the host's
 * mount table is unchanged, and every mount the run made (read by a createContainer hook
 * inside mountkit's namespace, before the jail) lies inside the rootfs.
 */
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { spawn } from 'child_process';
import * as path from 'path';
import { hostChanges, hostFixtures, hostMountinfo, makeSentinel, ONE_LINE, REAL_RUNS, recordHost, runMountkit } from './host-state';

type Json = Record<string, any>;

const maybe = REAL_RUNS ? describe : describe.skip;

/** A relative link text that climbs from anywhere in the rootfs to the host's `/`, then to `abs`. */
function climb(abs: string): string {
  return '../'.repeat(24) + abs.replace(/^\//, '');
}

/** Mountpoints of a mountinfo text (octal escapes of the kernel undone). */
function mountpoints(mountinfo: string): string[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[4].replace(/\\([0-7]{3})/g, (_m, o) => String.fromCharCode(parseInt(o, 8))));
}

interface Ctx {
  rootfs: string;
  bundle: string;
  sentinel: string;
}

interface HostileCase {
  name: string;
  /** Plants links and files in the rootfs (and sources in the bundle). */
  plant: (c: Ctx) => void;
  /** Changes the base config. */
  edit?: (config: Json, c: Ctx) => void;
  /**
   * What the run must end with: 'ok' (status 0), a refusal whose one-line message
   * matches, or 'either' where running and refusing are both safe answers.
   */
  outcome: 'ok' | 'either' | RegExp;
  /** The container's stdout, when it ran. */
  stdout?: string | RegExp;
}

function baseConfig(): Json {
  return {
    ociVersion: '1.0.2',
    process: { terminal: false, args: ['true'], env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
    ],
    linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }] },
  };
}

/** Drops the /dev tmpfs, so that the rootfs's own /dev (and what is planted in it) is used. */
function rootfsDev(config: Json): void {
  config.mounts = config.mounts.filter((m: Json) => m.destination !== '/dev');
}

const link = (target: string, at: string) => {
  rmSync(at, { recursive: true, force: true });
  symlinkSync(target, at);
};

/**
 * Starts a process that swaps the directory `at` with a link to `out` and back, as fast as
 * it can, with renameat2(2) RENAME_EXCHANGE (atomic: `at` is always one or the other),
 * through koffi as mountkit calls libc. Returns the function that kills it and waits
 * until the kernel has ended it, before anything removes the tree it works in.
 */
function swapper(at: string, out: string): () => void {
  const swap = `${at}-swap`;
  mkdirSync(at, { recursive: true });
  symlinkSync(out, swap);
  const child = spawn(
    process.execPath,
    [
      '-e',
      `const [koffiPath, a, b] = process.argv.slice(1);
       const libc = require(koffiPath).load('libc.so.6');
       const renameat2 = libc.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)');
       // AT_FDCWD -100, RENAME_EXCHANGE (1 << 1), include/uapi/linux/fcntl.h
       for (;;) renameat2(-100, a, -100, b, 2);`,
      require.resolve('koffi'),
      at,
      swap,
    ],
    { stdio: 'ignore' },
  );
  return () => {
    child.kill('SIGKILL');
    for (;;) {
      let state: string;
      try {
        state = readFileSync(`/proc/${child.pid}/stat`, 'utf8').replace(/^.*\) /, '')[0];
      } catch {
        return;
      }
      if (state === 'Z' || state === 'X') return;
    }
  };
}

const CASES: HostileCase[] = [
  {
    name: 'a directory on the way to a mount target is an absolute link out',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'mnt')),
    edit: (config) => config.mounts.push({ destination: '/mnt/new/deep', type: 'tmpfs', source: 'tmpfs' }),
    outcome: 'ok',
  },
  {
    name: 'a directory on the way is a relative link climbing out with ..',
    plant: (c) => link(climb(c.sentinel), path.join(c.rootfs, 'tmp', 'up')),
    edit: (config) => config.mounts.push({ destination: '/tmp/up/new', type: 'tmpfs', source: 'tmpfs' }),
    outcome: 'ok',
  },
  {
    name: 'the last component of a mount target is a link to an existing host directory',
    plant: (c) => link(path.join(c.sentinel, 'sub'), path.join(c.rootfs, 'target')),
    edit: (config) => config.mounts.push({ destination: '/target', type: 'tmpfs', source: 'tmpfs' }),
    outcome: 'ok',
    stdout: '',
  },
  {
    name: 'a chain of links (relative, absolute, climbing) leads out',
    plant: (c) => {
      link('b', path.join(c.rootfs, 'a'));
      link('/c', path.join(c.rootfs, 'b'));
      link(climb(c.sentinel), path.join(c.rootfs, 'c'));
    },
    edit: (config) => config.mounts.push({ destination: '/a/chained', type: 'tmpfs', source: 'tmpfs' }),
    outcome: 'ok',
  },
  {
    name: 'a dangling link names a missing host directory for a bind target',
    plant: (c) => {
      mkdirSync(path.join(c.bundle, 'src'));
      link(path.join(c.sentinel, 'made', 'deeper'), path.join(c.rootfs, 'dangle'));
    },
    edit: (config) => config.mounts.push({ destination: '/dangle', type: 'bind', source: 'src', options: ['rbind'] }),
    outcome: 'ok',
  },
  {
    name: "a file bind's parent directory is a link out (the empty target file must not land on the host)",
    plant: (c) => {
      writeFileSync(path.join(c.bundle, 'hosts'), '127.0.0.1 box\n');
      link(c.sentinel, path.join(c.rootfs, 'etc'));
    },
    edit: (config) => config.mounts.push({ destination: '/etc/hosts', type: 'bind', source: 'hosts', options: ['bind'] }),
    outcome: 'ok',
  },
  {
    name: 'a file bind onto a link to a host file',
    plant: (c) => {
      writeFileSync(path.join(c.bundle, 'resolv.conf'), 'nameserver 10.0.0.1\n');
      link(path.join(c.sentinel, 'file'), path.join(c.rootfs, 'etc', 'resolv.conf'));
    },
    edit: (config) => {
      config.mounts.push({ destination: '/etc/resolv.conf', type: 'bind', source: 'resolv.conf', options: ['bind'] });
      config.process.args = ['cat', '/etc/resolv.conf'];
    },
    outcome: 'ok',
    stdout: 'nameserver 10.0.0.1\n',
  },
  {
    name: '`..` in a destination climbs no higher than the rootfs',
    plant: () => undefined,
    edit: (config, c) => config.mounts.push({ destination: `/../../../../..${c.sentinel}/dotdot`, type: 'tmpfs', source: 'tmpfs' }),
    outcome: 'ok',
  },
  {
    // The container's /proc is mounted by then: /proc/self/root there is a magic link to
    // mountkit's root, the host's `/`. Refusing it (openat2 RESOLVE_NO_MAGICLINKS: ELOOP)
    // and reading its text "/" as an ordinary link (back to the rootfs) are both safe.
    name: 'a link to a magic link (/proc/self/root) on the way to a target',
    plant: (c) => link('/proc/self/root', path.join(c.rootfs, 'magic')),
    edit: (config, c) => config.mounts.push({ destination: `/magic${c.sentinel}/via-magic`, type: 'tmpfs', source: 'tmpfs' }),
    outcome: 'either',
  },
  {
    name: '/dev is a link out and no tmpfs covers it: device nodes and /dev links',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'dev')),
    edit: (config) => {
      rootfsDev(config);
      config.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }];
    },
    outcome: 'ok',
  },
  {
    // runc 1.1.5 makes the ptmx, fd and std* links through the link, on the host.
    name: '/dev is an absolute link out under the /dev tmpfs: the tmpfs, devices and /dev links at its target in the rootfs',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'dev')),
    edit: (config, c) => {
      config.linux.devices = [{ type: 'c', path: '/dev/fuse', major: 10, minor: 229 }];
      config.process.args = ['sh', '-c', `cd ${c.sentinel} && ls -A | tr "\\n" " " && grep -c " ${c.sentinel} " /proc/self/mountinfo`];
    },
    outcome: 'ok',
    stdout: 'fd full fuse null ptmx random stderr stdin stdout tty urandom zero 1\n',
  },
  {
    name: 'a directory inside /dev is a link out (a device below it)',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'dev', 'net')),
    edit: (config) => {
      rootfsDev(config);
      config.linux.devices = [{ type: 'c', path: '/dev/net/tun', major: 10, minor: 200 }];
    },
    outcome: 'ok',
  },
  {
    // runc follows the link inside the root and makes the node where it leads; refusing is safe too.
    name: 'a device path is already a link to a host file (never followed onto the host, chowned or written)',
    plant: (c) => link(path.join(c.sentinel, 'file'), path.join(c.rootfs, 'dev', 'null')),
    edit: (config) => {
      rootfsDev(config);
      config.process.args = ['sh', '-c', '[ -c /dev/null ] && echo char'];
    },
    outcome: 'either',
    stdout: 'char\n',
  },
  {
    name: '/dev/mqueue is a link out (mqueue mount)',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'dev', 'mqueue')),
    edit: (config) => {
      rootfsDev(config);
      config.mounts.push({ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue' });
    },
    outcome: 'ok',
  },
  {
    // runc 1.1.5 makes the hierarchies' directories at the link's target on the host, then fails.
    name: 'a cgroup mount with a cgroup namespace at an absolute link out',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'cg')),
    edit: (config) => {
      config.mounts.push({ destination: '/cg', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'ro'] });
      config.linux.namespaces.push({ type: 'cgroup' });
    },
    outcome: 'ok',
  },
  {
    name: '/proc is a link out (CVE-2019-19921): refused',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'proc')),
    outcome: /^mounts: plugin proc mounts\[0\] "\/proc": "\/proc" must be a real directory, not a symlink$/,
  },
  {
    name: '/sys is a link out: refused',
    plant: (c) => link(path.join(c.sentinel, 'sub'), path.join(c.rootfs, 'sys')),
    edit: (config) => config.mounts.push({ destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] }),
    outcome: /^mounts: plugin proc mounts\[2\] "\/sys": "\/sys" must be a real directory, not a symlink$/,
  },
  {
    // runc 1.1.5 checks a proc or sysfs destination by its path on the host, through such a link.
    name: 'a parent of a proc destination is an absolute link out',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'host')),
    edit: (config) => {
      config.mounts.push({ destination: '/host/proc', type: 'proc', source: 'proc' });
      // In the container the link leads to the same name inside the rootfs, where the proc is.
      config.process.args = ['stat', '-f', '-c', '%T', '/host/proc'];
    },
    outcome: 'ok',
    stdout: 'proc\n',
  },
  {
    name: 'a parent of a sysfs destination is a relative link climbing out',
    plant: (c) => link(climb(path.join(c.sentinel, 'sub')), path.join(c.rootfs, 'up')),
    edit: (config) => {
      config.mounts.push({ destination: '/up/sys', type: 'sysfs', source: 'sysfs', options: ['ro'] });
      config.process.args = ['stat', '-f', '-c', '%T', '/up/sys'];
    },
    outcome: 'ok',
    stdout: 'sysfs\n',
  },
  {
    name: 'a masked path is a link to a host file',
    plant: (c) => link(path.join(c.sentinel, 'file'), path.join(c.rootfs, 'etc', 'secret')),
    edit: (config) => (config.linux.maskedPaths = ['/etc/secret', '/proc/kcore']),
    outcome: 'ok',
  },
  {
    name: 'a read-only path is a link out',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'ro')),
    edit: (config) => (config.linux.readonlyPaths = ['/ro', '/proc/sys']),
    outcome: 'ok',
  },
  {
    // After the jail the link resolves in the container, where its target is missing:
    // runc's MkdirAll fails on the dangling link (EEXIST), and so may mountkit.
    name: 'the cwd goes through a link out; the container writes there',
    plant: (c) => link(path.join(c.sentinel, 'sub'), path.join(c.rootfs, 'work')),
    edit: (config) => {
      config.process.cwd = '/work/new';
      config.process.args = ['sh', '-c', 'echo pwned > inner; echo pwned > made; pwd'];
    },
    outcome: 'either',
    // The shell's $PWD, or where the link led inside the container.
    stdout: /^(\/work\/new|\/tmp\/mountkit-sentinel-[^/]+\/sub\/new)\n$/,
  },
  {
    name: 'the cwd goes through a link to an existing host directory that the rootfs also has',
    plant: (c) => {
      mkdirSync(path.join(c.rootfs, c.sentinel, 'sub'), { recursive: true });
      link(path.join(c.sentinel, 'sub'), path.join(c.rootfs, 'work'));
    },
    edit: (config) => {
      config.process.cwd = '/work';
      config.process.args = ['sh', '-c', 'echo pwned > inner; echo pwned > made; pwd -P'];
    },
    outcome: 'ok',
    stdout: /^\/tmp\/mountkit-sentinel-[^/]+\/sub\n$/,
  },
  {
    name: 'the cwd climbs with ..',
    plant: () => undefined,
    edit: (config, c) => {
      config.process.cwd = `/../../../..${c.sentinel}`;
      config.process.args = ['sh', '-c', 'echo pwned > file; touch new'];
    },
    outcome: 'ok',
  },
  {
    name: 'tmpcopyup onto a link out copies nothing of the host',
    plant: (c) => link(c.sentinel, path.join(c.rootfs, 'leak')),
    edit: (config) => {
      config.mounts.push({ destination: '/leak', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
      config.process.args = ['ls', '-A', '/leak'];
    },
    outcome: 'ok',
    stdout: '',
  },
];

maybe('hostile rootfs trees', () => {
  const host = hostFixtures();

  /**
   * Runs `config` on a fresh bundle after `plant`; a createContainer hook records the
   * mount table of mountkit's namespace just before the jail.
   */
  function runHostile(plant: (c: Ctx) => (() => void) | void, edit: (config: Json, c: Ctx) => void, extraArgs: string[] = []) {
    const bundle = host.bundles.make({});
    const c: Ctx = { rootfs: path.join(bundle.dir, 'rootfs'), bundle: bundle.dir, sentinel: host.sentinel.dir };
    const seen = path.join(bundle.dir, 'seen');
    mkdirSync(seen);
    let stop: (() => void) | void = undefined;
    try {
      stop = plant(c);
      const config = baseConfig();
      edit(config, c);
      config.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `cat /proc/self/mountinfo > ${seen}/mountinfo`] }] };
      writeFileSync(path.join(bundle.dir, 'config.json'), JSON.stringify(config));
      const dirs = [host.sentinel.dir, bundle.dir];
      const skip = [c.rootfs, seen];
      const hostBefore = hostMountinfo();
      const before = recordHost(dirs, skip);
      const r = runMountkit(bundle.dir, extraArgs);
      stop?.();
      stop = undefined;
      const changes = hostChanges(before, dirs, skip);
      let inside: string[] = [];
      try {
        const hostPoints = new Set(mountpoints(hostBefore));
        inside = mountpoints(readFileSync(path.join(seen, 'mountinfo'), 'utf8')).filter((p) => !hostPoints.has(p));
      } catch {
        inside = [];
      }
      const outside = inside.filter((p) => p !== c.rootfs && !p.startsWith(c.rootfs + '/'));
      return { ...r, changes, mounts: inside, outside, rootfs: c.rootfs };
    } finally {
      stop?.();
      bundle.cleanup();
    }
  }

  test('control: the hook sees the run mounting inside the rootfs', () => {
    const r = runHostile(
      () => undefined,
      (config) => config.mounts.push({ destination: '/mnt', type: 'tmpfs', source: 'tmpfs' }),
    );
    expect(r).toMatchObject({ status: 0, stderr: '', changes: [], outside: [] });
    expect(r.mounts).toEqual(expect.arrayContaining([r.rootfs, `${r.rootfs}/proc`, `${r.rootfs}/dev`, `${r.rootfs}/mnt`]));
  });

  test('control: a run that writes through a link out shows in the checks', () => {
    // A bind of the sentinel itself is the one sanctioned way out; the container writes through it.
    const r = runHostile(
      () => undefined,
      (config, c) => {
        config.mounts.push({ destination: '/mnt', type: 'bind', source: c.sentinel, options: ['rbind'] });
        config.process.args = ['sh', '-c', 'echo changed > /mnt/file'];
      },
    );
    expect(r.status).toBe(0);
    expect(r.changes).toEqual([expect.stringMatching(/sentinel-[^/]+\/file: file /)]);
    writeFileSync(path.join(host.sentinel.dir, 'file'), 'sentinel\n');
    host.sentinel.cleanup();
    host.sentinel = makeSentinel();
  });

  test.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, hc) => {
    const r = runHostile(hc.plant, hc.edit ?? (() => undefined));
    expect(r.changes).toEqual([]);
    expect(r.outside).toEqual([]);
    if (hc.outcome === 'ok' || (hc.outcome === 'either' && r.status === 0)) {
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      if (hc.stdout !== undefined) expect(r.stdout).toEqual(hc.stdout instanceof RegExp ? expect.stringMatching(hc.stdout) : hc.stdout);
    } else {
      expect(r.stderr).toMatch(ONE_LINE);
      if (hc.outcome instanceof RegExp) expect(r.stderr.slice('mountkit: '.length, -1)).toMatch(hc.outcome);
      expect(r.status).toBe(1);
    }
  });

  /**
   * CVE-2021-30465: a process on the host swaps a directory on the way to mount targets
   * with a link out while mountkit resolves, creates and mounts them. Whatever the
   * interleaving, nothing may be created or mounted outside the rootfs. (Path-based
   * resolution, mountkit before descriptors, fails this within a few runs: directories
   * made in the sentinel, mounts outside the rootfs.)
   */
  test('a directory swapped with a link out while the run mounts below it', () => {
    const results: { status: number | null; stderr: string; changes: string[]; outside: string[] }[] = [];
    for (let i = 0; i < 15; i++) {
      const r = runHostile(
        (c) => swapper(path.join(c.rootfs, 'mnt'), host.sentinel.dir),
        (config) => {
          for (const d of ['/mnt/a/b', '/mnt/c']) config.mounts.push({ destination: d, type: 'tmpfs', source: 'tmpfs' });
          config.mounts.push({ destination: '/mnt/d', type: 'bind', source: '/bin', options: ['rbind', 'ro'] });
        },
      );
      results.push({ status: r.status, stderr: r.stderr, changes: r.changes, outside: r.outside });
    }
    expect(results.filter((r) => r.changes.length > 0 || r.outside.length > 0)).toEqual([]);
    for (const r of results) {
      expect([0, 1]).toContain(r.status);
      if (r.status === 1) expect(r.stderr).toMatch(ONE_LINE);
    }
  });

  /**
   * CVE-2024-21626: a cwd of /proc/self/fd/N reaches whatever directory mountkit holds open
   * as N; after the jail that directory may be on the host. Each run either is refused,
   * or the container's cwd is inside its root (getcwd(2) would start with
   * "(unreachable)" otherwise). With --log FILE and a hook, mountkit holds more descriptors.
   */
  describe.each([
    ['plain', [] as string[]],
    ['with --log FILE and a hook', ['--log', '/dev/null', '--log-level', 'debug']],
  ])('a cwd of /proc/self/fd/N (%s)', (_name, args) => {
    test.each(Array.from({ length: 14 }, (_, i) => i + 3))('N = %i', (n) => {
      const r = runHostile(
        () => undefined,
        (config) => {
          config.process.cwd = `/proc/self/fd/${n}`;
          config.process.args = ['sh', '-c', 'pwd; echo pwned > escaped'];
        },
        args,
      );
      expect(r.changes).toEqual([]);
      expect(r.outside).toEqual([]);
      if (r.status === 0) {
        expect(r.stdout).not.toMatch(/unreachable/);
        expect(r.stdout).toMatch(/^\/.*\n$/);
      } else {
        expect(r.status).toBe(1);
        expect(r.stderr.split('\n').filter((l) => l.startsWith('mountkit: '))).toHaveLength(1);
      }
    });
  });
});

