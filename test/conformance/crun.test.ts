/**
 * crun 1.8.1 as a second reference: the same bundles as conformance.test.ts runs under
 * runc 1.1.5, under crun and under mountkit. Both must start the program (or both refuse
 * it) and print the same probe output, normalized as harness.ts normalizes runc's, but for
 * the named known differences (README.md, "Differences from crun 1.8.1"), in each of which
 * runc 1.1.5 does what mountkit does. Each named difference must still be there: the
 * outputs differ without it.
 */
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, CRUN, copyBundle, makeBundle, normalize, runCrun, runMountkit, runcSpec } from './harness';

const available = Boolean(CRUN && BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) {
  throw new Error('crun conformance tests need root, crun and busybox-static (installed by .ci/run)');
}
const maybe = available ? describe : describe.skip;

/** cgroup v1 hierarchies under a tmpfs at /sys/fs/cgroup (a legacy or hybrid host), where crun and runc mount a cgroup mount differently. */
const CGROUP_V1 = readFileSync('/proc/self/mountinfo', 'utf8')
  .split('\n')
  .some((line) => line.split(' ')[4] === '/sys/fs/cgroup' && / - tmpfs /.test(line));

/**
 * A known difference between crun 1.8.1 and mountkit (README.md, "Differences from crun
 * 1.8.1"): `setAside` rewrites a section's lines, both runtimes' alike, so that the
 * difference no longer shows and nothing else changes.
 */
interface Difference {
  name: string;
  section: string;
  setAside: (lines: string[]) => string[];
}

/** mountinfo's fields as harness.ts normalizes them: parent, device, root, mountpoint, options, the optional fields, '-', fstype, source, superblock options. */
const fields = (line: string) => line.split(' ');
const mountpointOf = (line: string) => fields(line)[3];

/** `lines` with those for which `pick` holds rewritten by `sort` as a block, each in one of their places. */
function rearranged(lines: string[], pick: (line: string) => boolean, sort: (picked: string[]) => string[]): string[] {
  const picked = sort(lines.filter(pick));
  return lines.map((line) => (pick(line) ? picked.shift()! : line));
}

/** `lines` with the mount options in `drop` left out of the lines for which `pick` holds. */
function withoutOptions(lines: string[], pick: (line: string) => boolean, drop: string[]): string[] {
  return lines.map((line) => {
    if (!pick(line)) return line;
    const f = fields(line);
    f[4] = f[4].split(',').filter((o) => !drop.includes(o)).join(',');
    return f.join(' ');
  });
}

/** crun makes /dev/core, a link to /proc/kcore, whether or not the kernel has /proc/kcore; runc only where it has (setupDevSymlinks). */
const DEV_CORE: Difference = { name: 'crun makes /dev/core without /proc/kcore', section: 'dev', setAside: (lines) => lines.filter((l) => !/ core -> \/proc\/kcore$/.test(l)) };

/** crun mounts a read-only sysfs read-write and makes the mount read-only after (a bind remount): its superblock stays rw. runc passes MS_RDONLY to the mount itself. */
const SYSFS_SUPERBLOCK: Difference = {
  name: 'a read-only sysfs: a read-write superblock under crun',
  section: 'mountinfo',
  setAside: (lines) => lines.map((l) => l.replace(/( - sysfs sysfs) r[ow]$/, '$1 <ro or rw>')),
};

/** A cgroup v1 mount's tmpfs: crun's is named cgroup with size=1024k, runc's is the config's mode=755 tmpfs named tmpfs. */
const CGROUP_TMPFS: Difference = {
  name: "a cgroup v1 mount's tmpfs named cgroup, size=1024k, under crun",
  section: 'mountinfo',
  setAside: (lines) => lines.map((l) => (mountpointOf(l) === '/sys/fs/cgroup' ? l.replace(/ - tmpfs \S+ \S+$/, ' - tmpfs <source> <options>') : l)),
};

/** The hierarchies of a cgroup v1 mount: crun mounts them in /proc/self/cgroup's order, runc in the host's mount table's. */
const CGROUP_ORDER: Difference = {
  name: 'cgroup v1 hierarchies in /proc/self/cgroup order under crun',
  section: 'mountinfo',
  setAside: (lines) => rearranged(lines, (l) => mountpointOf(l).startsWith('/sys/fs/cgroup/'), (picked) => [...picked].sort()),
};

/**
 * The masks: crun makes them before the read-only paths, each a read-only bind of the
 * host's /dev/null for a file and a tmpfs of size=0k on a read-write superblock for a
 * directory; runc makes the read-only paths first, binds the container's /dev/null (its
 * mount's own flags) and mounts a read-only tmpfs. `masked`: the config's maskedPaths.
 */
function masks(masked: string[]): Difference[] {
  const isMask = (l: string) => masked.includes(mountpointOf(l));
  return [
    {
      name: 'masks made before the read-only paths under crun',
      section: 'mountinfo',
      setAside: (lines) => [...lines.filter((l) => !isMask(l)), ...lines.filter(isMask)],
    },
    {
      name: "a masked file: the host's /dev/null, read-only, under crun",
      section: 'mountinfo',
      setAside: (lines) => lines.map((l) => (isMask(l) && /(^|\/)null$/.test(fields(l)[2]) ? `${fields(l)[0]} <null> ${mountpointOf(l)}` : l)),
    },
    {
      name: 'a masked directory: a tmpfs of size=0k, read-write superblock, under crun',
      section: 'mountinfo',
      setAside: (lines) => lines.map((l) => (isMask(l) ? l.replace(/ - tmpfs tmpfs (rw,size=0k|ro)(,|$)/, ' - tmpfs tmpfs <superblock>$2') : l)),
    },
  ];
}

/** crun's read-only remount of a read-only path gives MS_RDONLY alone, dropping the mount's nosuid, nodev and noexec; runc keeps them (statfs(2)). */
function readonlyFlags(paths: string[]): Difference {
  return {
    name: "a read-only path loses its mount's nosuid, nodev and noexec under crun",
    section: 'mountinfo',
    setAside: (lines) => withoutOptions(lines, (l) => paths.includes(mountpointOf(l)), ['nosuid', 'nodev', 'noexec']),
  };
}

/** crun gives every mount the rootfs propagation once the root is pivoted (libcrun_do_pivot_root); runc keeps each mount's own and a private root. */
function propagation(paths: string[]): Difference {
  return {
    name: 'every mount gets the rootfs propagation under crun',
    section: 'mountinfo',
    setAside: (lines) =>
      lines.map((l) => {
        if (!paths.includes(mountpointOf(l))) return l;
        const f = fields(l);
        return [...f.slice(0, 5), ...f.slice(f.indexOf('-', 5))].join(' ');
      }),
  };
}

/** In a user namespace crun binds the default devices nosuid and noexec, in the order null, zero, full, tty, random, urandom; runc binds them with no flag, null, random, full, tty, zero, urandom. */
const DEVICE_BINDS: Difference = {
  name: 'default device binds nosuid, noexec, in another order, under crun',
  section: 'mountinfo',
  setAside: (lines) => {
    const isDefault = (l: string) => /^\/dev\/(null|zero|full|tty|random|urandom)$/.test(mountpointOf(l)) && / - devtmpfs /.test(l);
    return rearranged(withoutOptions(lines, isDefault, ['nosuid', 'noexec']), isDefault, (picked) => [...picked].sort());
  },
};

/** What every run of runc spec's mounts shows under crun on this host. */
function common(config: Record<string, any>): Difference[] {
  const hasCgroup = config.mounts.some((m: { type: string }) => m.type === 'cgroup');
  return [
    ...(existsSync('/proc/kcore') ? [] : [DEV_CORE]),
    SYSFS_SUPERBLOCK,
    ...(CGROUP_V1 && hasCgroup ? [CGROUP_TMPFS, CGROUP_ORDER] : []),
    ...masks(config.linux.maskedPaths),
  ];
}

function setAside(sections: Record<string, string[]>, differences: Difference[]): Record<string, string[]> {
  const out = { ...sections };
  for (const d of differences) out[d.section] = d.setAside(out[d.section] ?? []);
  return out;
}

/**
 * Runs the bundle under crun and mountkit (each on its own copy, made after `prepare`),
 * with `flags` after run for both. Both must start the program; their outputs, normalized,
 * must be the same once `differences` are set aside, and differ with any one of them
 * left in. Returns crun's sections.
 */
function compare(config: Record<string, any>, differences: Difference[], prepare?: (bundle: string) => void, flags: string[] = []): Record<string, string[]> {
  const bundle = makeBundle(config);
  const copies: string[] = [];
  try {
    prepare?.(bundle.dir);
    copies.push(copyBundle(bundle.dir), copyBundle(bundle.dir));
    const [forCrun, forMountkit] = copies;
    const crun = runCrun(forCrun, undefined, flags);
    const mk = runMountkit(forMountkit, flags);
    expect({ status: crun.status, stderr: crun.stderr }).toEqual({ status: 0, stderr: '' });
    expect({ status: mk.status, stderr: mk.stderr }).toEqual({ status: 0, stderr: '' });
    const a = normalize(crun.stdout.split(forCrun).join('<bundle>'));
    const b = normalize(mk.stdout.split(forMountkit).join('<bundle>'));
    // Both containers printed every section: a comparison of empty outputs proves nothing.
    expect(Object.keys(a).sort()).toEqual(expect.arrayContaining(['caps', 'dev', 'fds', 'limits', 'mountinfo', 'nnp', 'oom', 'pwd', 'session', 'signals', 'umask']));
    expect(a.mountinfo.length).toBeGreaterThan(10);
    expect(setAside(b, differences)).toEqual(setAside(a, differences));
    for (const d of differences) {
      const others = differences.filter((o) => o !== d);
      expect({ difference: d.name, same: JSON.stringify(setAside(b, others)) === JSON.stringify(setAside(a, others)) }).toEqual({ difference: d.name, same: false });
    }
    return a;
  } finally {
    bundle.cleanup();
    for (const c of copies) rmSync(c, { recursive: true, force: true });
  }
}

maybe('crun 1.8.1 and mountkit see the same container, but for the known differences', () => {
  test('runc spec default', () => {
    const config = runcSpec();
    const sections = compare(config, common(config));
    expect(sections.session).toEqual(['pgrp 1 session 1 tty 0']);
  });

  test('--no-pivot: the rootfs moved onto / and chrooted into (crun run --no-pivot)', () => {
    const config = runcSpec();
    compare(config, common(config), undefined, ['--no-pivot']);
  });

  test('docker-like: hosts, resolv.conf and hostname binds (rprivate, one ro), sysctls, hostname and domainname', () => {
    const config = runcSpec(['echo "== files"; cat /etc/hostname /etc/hosts /etc/resolv.conf /proc/sys/kernel/domainname /proc/sys/kernel/hostname /proc/sys/net/ipv4/ip_forward']);
    config.mounts.push(
      { destination: '/etc/hosts', type: 'bind', source: 'hosts', options: ['rbind', 'rprivate'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: 'resolv.conf', options: ['rbind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: 'hostname', options: ['rbind', 'rprivate', 'ro'] },
    );
    config.linux.sysctl = { 'kernel.domainname': 'conformance.test', 'net.ipv4.ip_forward': '1' };
    const sections = compare(config, common(config), (dir) => {
      writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost\n');
      writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
      writeFileSync(path.join(dir, 'hostname'), 'runc\n');
    });
    expect(sections.files).toEqual(['runc', '127.0.0.1 localhost', 'nameserver 127.0.0.1', 'conformance.test', 'runc', '1']);
  });

  test('tmpfs mounts with modes, sizes, atime and a read-only one over a read-only root, and a deep cwd in one', () => {
    const config = runcSpec(['echo "== modes"; stat -c "%a %u %g %n" /tmp /run /work/a/b/c /mnt/x']);
    config.process.cwd = '/work/a/b/c';
    config.mounts.push(
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=1m'] },
      { destination: '/work', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'noexec'] },
      { destination: '/mnt/x', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'noatime', 'size=2m', 'mode=700'] },
    );
    const sections = compare(config, common(config));
    expect(sections.pwd).toEqual(['/work/a/b/c']);
  });

  test('binds with ro, rw, nosuid, nodev, noexec and propagation options: crun gives each the root\'s propagation', () => {
    const opts = [['rbind', 'ro'], ['bind', 'rw', 'nosuid'], ['rbind', 'nodev', 'noexec'], ['rbind', 'rshared'], ['rbind', 'rslave'], ['bind', 'private'], ['rbind', 'runbindable'], ['rbind', 'ro', 'rprivate', 'nosuid']];
    const config = runcSpec([`echo "== writes"; for i in ${opts.map((_o, i) => i).join(' ')}; do if touch /b$i/x 2>/dev/null; then echo "$i rw"; else echo "$i ro"; fi; done`]);
    opts.forEach((options, i) => config.mounts.push({ destination: `/b${i}`, type: 'bind', source: `src/${i}`, options }));
    const sections = compare(config, [...common(config), propagation(['/b3', '/b6'])], (dir) => opts.forEach((_o, i) => mkdirSync(path.join(dir, 'src', String(i)), { recursive: true })));
    expect(sections.writes).toEqual(['0 ro', '1 rw', '2 rw', '3 rw', '4 rw', '5 rw', '6 rw', '7 ro']);
  });

  test('linux.rootfsPropagation shared: the root is shared under crun, a private bind under runc and mountkit', () => {
    const config = runcSpec();
    config.linux.rootfsPropagation = 'shared';
    compare(config, [...common(config), propagation(['/'])]);
  });

  test('an overlay of two lower directories', () => {
    const config = runcSpec(['echo "== files"; ls /mnt; cat /mnt/file']);
    config.mounts.push({ destination: '/mnt', type: 'overlay', source: 'overlay', options: ['lowerdir=LOWER'] });
    const sections = compare(config, common(config), (dir) => {
      mkdirSync(path.join(dir, 'l1'));
      mkdirSync(path.join(dir, 'l2'));
      writeFileSync(path.join(dir, 'l1', 'file'), 'from l1\n');
      writeFileSync(path.join(dir, 'l2', 'other'), 'from l2\n');
      // copyBundle keeps the paths: each copy's overlay is of the original bundle's layers, which outlive both runs.
      const json = path.join(dir, 'config.json');
      writeFileSync(json, readFileSync(json, 'utf8').replace('LOWER', `${path.join(dir, 'l1')}:${path.join(dir, 'l2')}`));
    });
    expect(sections.files).toEqual(['file', 'other', 'from l1']);
  });

  test('tmpcopyup and a tmpfs nested in it', () => {
    const config = runcSpec(['echo "== files"; ls -lnR /opt | sed -E "s/ [A-Z][a-z]{2} +[0-9]+ +[0-9:]+ / /"; cat /opt/data/file']);
    config.mounts.push(
      { destination: '/opt', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] },
      { destination: '/opt/inner', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    );
    const sections = compare(config, common(config), (dir) => {
      mkdirSync(path.join(dir, 'rootfs', 'opt', 'data'), { recursive: true });
      writeFileSync(path.join(dir, 'rootfs', 'opt', 'data', 'file'), 'copied up\n', { mode: 0o640 });
    });
    expect(sections.files.at(-1)).toBe('copied up');
  });

  test('masked files (a hard link of one too) and a masked volume; read-only paths on mounts with nosuid, nodev and noexec', () => {
    const config = runcSpec(['echo "== masked"; cat /etc/secret /etc/also; ls -A /vol/a']);
    config.mounts.push({ destination: '/vol/a', type: 'bind', source: 'volume', options: ['rbind'] }, { destination: '/mnt/b', type: 'bind', source: 'src', options: ['rbind', 'noexec'] });
    config.linux.maskedPaths.push('/etc/secret', '/etc/also', '/vol/a');
    config.linux.readonlyPaths.push('/dev/shm', '/mnt/b');
    const sections = compare(config, [...common(config), readonlyFlags(['/dev/shm', '/mnt/b'])], (dir) => {
      writeFileSync(path.join(dir, 'rootfs/etc/secret'), 'not for the container\n');
      linkSync(path.join(dir, 'rootfs/etc/secret'), path.join(dir, 'rootfs/etc/also'));
      mkdirSync(path.join(dir, 'volume'));
      mkdirSync(path.join(dir, 'src'));
      writeFileSync(path.join(dir, 'volume/inside'), 'not for the container\n');
    });
    // Nothing: the files read empty, the volume lists nothing.
    expect(sections.masked).toEqual([]);
  });

  test('linux.devices: character devices, one in a subdirectory, and a FIFO', () => {
    const config = runcSpec();
    config.linux.devices = [
      { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 1000, gid: 5 },
      { path: '/dev/sub/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/myfifo', type: 'p', fileMode: 0o600, uid: 0, gid: 0 },
    ];
    const sections = compare(config, common(config));
    expect(sections.dev.some((l) => /^crw--w---- 1 1000 5 1, +3 .*mynull$/.test(l))).toBe(true);
  });

  test('a non-root process with groups and a umask, an OOM score, rlimits, capabilities with an ambient one, a hostname', () => {
    const config = runcSpec(['echo "== user"; id -u; id -G; hostname']);
    config.hostname = 'box.example';
    config.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 27], umask: 0o027 };
    config.process.oomScoreAdj = 123;
    config.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
      { type: 'RLIMIT_NPROC', soft: 300, hard: 400 },
    ];
    config.process.capabilities = {
      bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE', 'CAP_CHOWN'],
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    };
    const sections = compare(config, common(config));
    expect([sections.user, sections.umask, sections.oom, sections.caps.filter((l) => l.startsWith('CapAmb'))]).toEqual([['1000', '1000 5 27', 'box.example'], ['0027'], ['123'], ['CapAmb:\t0000000000000400']]);
  });

  test("a user namespace with a range of ids: the default devices bound from the host, /dev/mqueue the namespace root's under both", () => {
    const config = runcSpec(['echo "== ids"; id; cat /proc/self/uid_map /proc/self/gid_map; stat -c "%u:%g %n" /dev /dev/pts /dev/shm /dev/mqueue']);
    config.linux.namespaces.push({ type: 'user' });
    config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const sections = compare(config, [...common(config), DEVICE_BINDS]);
    expect(sections.ids.at(-1)).toBe('0:0 /dev/mqueue');
  });

  test('a read-write root without a /dev mount: the masks bind the image\'s /dev/null under mountkit', () => {
    const config = runcSpec();
    config.root.readonly = false;
    config.mounts = config.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/dev'));
    compare(config, common(config));
  });

  test('a mount of a filesystem type the kernel lacks: both refuse to start the program', () => {
    const config = runcSpec();
    config.mounts.push({ destination: '/mnt', type: 'mountkitnosuchfs', source: 'none' });
    const bundle = makeBundle(config);
    const copies = [copyBundle(bundle.dir), copyBundle(bundle.dir)];
    try {
      const crun = runCrun(copies[0]);
      const mk = runMountkit(copies[1]);
      expect([crun.status, crun.stdout, mk.status, mk.stdout]).toEqual([1, '', 1, '']);
      // mount(2) fails with ENODEV under both, each naming the mount.
      expect(crun.stderr).toBe('mount `none` to `mnt`: No such device\n');
      expect(mk.stderr).toMatch(/^mountkit: mounts: .* "\/mnt": mount "none" -> .*: ENODEV \(type "mountkitnosuchfs"\)\n$/);
    } finally {
      bundle.cleanup();
      for (const c of copies) rmSync(c, { recursive: true, force: true });
    }
  });
});
