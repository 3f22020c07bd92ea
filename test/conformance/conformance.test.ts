/**
 * Conformance: the same bundle under runc and under mountkit; what the container sees
 * (mount table, /dev, open descriptors, umask, cwd, modes) must be the same once what
 * must differ is normalized (harness.ts). Under CI these tests run, never skip.
 */
import { spawn, spawnSync } from 'child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { AWAIT_SIZE, INTERACTIVE_SCRIPT, INTERACTIVE_STEPS, ptySession, throughConsole } from '../helpers/console';
import { LAUNCHER } from '../helpers/cli';
import { idMapToolsInPath } from '../../src/core/programs';
import { BUSYBOX, PROBE, ROOTLESS_ID, RUNC, SUBORDINATE_IDS, busyboxConfig, copyBundle, makeBundle, normalize, removeRootlessInstall, runcSpec, runMountkit, runMountkitRootless, runRunc, runRuncRootless } from './harness';
import { hostMountsSelinuxfs } from '../helpers/host-selinux';

const available = Boolean(RUNC && BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) {
  throw new Error('conformance tests need root, runc and busybox-static (installed by .ci/run)');
}
const maybe = available ? describe : describe.skip;

/** The names libseccomp gives x86_64's syscalls numbered below `limit`. */
function x86_64Syscalls(limit: number): string[] {
  const koffi = require('koffi') as typeof import('koffi');
  const nameOf = koffi.load('libseccomp.so.2').func('const char *seccomp_syscall_resolve_num_arch(uint32_t arch, int num)');
  const AUDIT_ARCH_X86_64 = 0xc000003e;
  return Array.from({ length: limit }, (_, nr) => nameOf(AUDIT_ARCH_X86_64, nr) as string | null).filter((name): name is string => name !== null);
}

/** runc spec's bundle running `true`, with the bundle's `out` bound at /out, where hooks keep what they saw. */
function hooksSpec(): Record<string, any> {
  const config = runcSpec();
  config.process.args = ['true'];
  config.mounts.push({ destination: '/out', type: 'bind', source: 'out', options: ['rbind'] });
  return config;
}

/**
 * A deliberate difference from runc 1.1.5 (README.md, "Differences from runc"): what
 * runc prints in a section, and what mountkit prints instead.
 */
interface Difference {
  section: string;
  runc: string;
  mountkit: string;
}

/**
 * Runs `fn` with two copies of the bundle `config` makes, runc's and mountkit's, made after
 * `prepare` (an `out` directory for hooks' records, say); removes all three after.
 */
function withCopies<T>(config: Record<string, any>, fn: (forRunc: string, forMountkit: string) => T, prepare?: (dir: string) => void): T {
  const bundle = makeBundle(config);
  const copies: string[] = [];
  try {
    prepare?.(bundle.dir);
    copies.push(copyBundle(bundle.dir), copyBundle(bundle.dir));
    return fn(copies[0], copies[1]);
  } finally {
    bundle.cleanup();
    for (const c of copies) rmSync(c, { recursive: true, force: true });
  }
}

/**
 * Runs the bundle under both runtimes (each on its own copy) and compares; `written`
 * reads what a run left in its bundle copy, compared too. Returns runc's side: its
 * sections and what it left.
 */
function compare(
  config: Record<string, any>,
  prepare?: (bundle: string) => void,
  differences: Difference[] = [],
  written?: (bundle: string) => unknown,
): { sections: Record<string, string[]>; written: unknown } {
  return withCopies(config, (forRunc, forMountkit) => {
    const runc = runRunc(forRunc);
    const mk = runMountkit(forMountkit);
    expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
    expect({ status: mk.status, stderr: mk.stderr }).toEqual({ status: 0, stderr: '' });
    const a = normalize(runc.stdout.split(forRunc).join('<bundle>'));
    const b = normalize(mk.stdout.split(forMountkit).join('<bundle>'));
    // Both containers printed every section: a comparison of empty outputs proves nothing.
    expect(Object.keys(a).sort()).toEqual(expect.arrayContaining(['dev', 'fds', 'mountinfo', 'pwd', 'session', 'signals', 'umask']));
    expect(a.mountinfo.length).toBeGreaterThan(10);
    for (const d of differences) {
      expect(a[d.section]).toContain(d.runc);
      a[d.section] = a[d.section].map((line) => (line === d.runc ? d.mountkit : line));
    }
    expect(b).toEqual(a);
    // What the run left in the bundle (hooks' records), the bundle's own path aside.
    const left = (copy: string): unknown => (written ? JSON.parse(JSON.stringify(written(copy)).split(copy).join('<bundle>')) : undefined);
    const runcLeft = left(forRunc);
    expect(left(forMountkit)).toEqual(runcLeft);
    return { sections: a, written: runcLeft };
  }, prepare);
}

/** A config.json made from busyboxConfig(['true']): `edit` changes the config, `text` the JSON text written of it. */
interface ConfigChange {
  edit?: (config: Record<string, any>) => void;
  text?: (json: string) => string;
}

/**
 * Runs each change's config.json under runc and under mountkit, one bundle for all (both
 * runtimes refuse a config before they touch it), and says what each did: `taken` (the
 * program ran), runc's `refused: json: cannot unmarshal` (its decoder's error), mountkit's
 * `refused: FIELD` (exit 2, one line naming FIELD: the text up to its first space or colon).
 */
function decodedByBoth(changes: ConfigChange[]): { runc: string; mountkit: string }[] {
  const bundle = makeBundle(busyboxConfig(['true']));
  try {
    return changes.map((change) => {
      const config = busyboxConfig(['true']);
      change.edit?.(config);
      const json = JSON.stringify(config, null, 2);
      writeFileSync(path.join(bundle.dir, 'config.json'), change.text ? change.text(json) : json);
      const runc = runRunc(bundle.dir);
      const mk = runMountkit(bundle.dir);
      const decoder = /json: cannot unmarshal/.exec(runc.stderr);
      const line = /^mountkit: ([^ :]+)[ :]/.exec(mk.stderr);
      return {
        runc: runc.status === 0 ? 'taken' : decoder ? `refused: ${decoder[0]}` : `failed: ${runc.stderr.trim()}`,
        mountkit: mk.status === 0 ? 'taken' : mk.status === 2 && line && mk.stderr.split('\n').length === 2 ? `refused: ${line[1]}` : `failed: ${mk.stderr.trim()}`,
      };
    });
  } finally {
    bundle.cleanup();
  }
}

maybe('runc 1.1.5 and mountkit see the same container', () => {
  afterAll(removeRootlessInstall);

  test('runc spec default', () => {
    const { sections } = compare(runcSpec());
    // The container leads a session of its own without a terminal, as runc's init makes it.
    expect(sections.session).toEqual(['pgrp 1 session 1 tty 0']);
  });

  test("a new network namespace: its loopback interface is up (runc's loopback network), so 127.0.0.1 answers", () => {
    // The client starts once the listener listens (/proc/net/tcp or tcp6, busybox's choice: local
    // port 8080, state 0A, TCP_LISTEN; for up to about 10 s on a busy machine), tries for about
    // 3 s, then the listener is ended: with lo down nothing ever reaches it. busybox nc shuts
    // its sending half down when its standard input ends, and a client that sees that end
    // before its own input has come exits 0 having sent nothing (3 runs in 250 on a loaded
    // machine); so the listener reads a FIFO it holds open for writing too, which never ends,
    // instead of the /dev/null a background job gets.
    const listening = 'i=0; until grep -qs ":1F90 [0-9A-F]*:0000 0A " /proc/net/tcp /proc/net/tcp6; do i=$((i+1)); [ $i -ge 200 ] && break; sleep 0.05; done';
    const client = 'i=0; until echo hi | busybox nc -w 1 127.0.0.1 8080 2>/dev/null; do i=$((i+1)); [ $i -ge 30 ] && break; sleep 0.1; done';
    const reach = `busybox mkfifo /tmp/in; busybox nc -l -p 8080 3<>/tmp/in <&3 >/tmp/got & l=$!; ${listening}; ${client}; sleep 0.2; kill $l 2>/dev/null; wait; cat /tmp/got`;
    const config = runcSpec([`echo "== network"; cat /sys/class/net/lo/flags; ${reach}`]);
    config.mounts.push({ destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['mode=755'] });
    const { sections } = compare(config);
    expect(sections.network).toEqual(['0x9', 'hi']);
  });

  test('docker-like: hosts, resolv.conf and hostname binds, docker masks, a sysctl', () => {
    const config = runcSpec(['echo "== files"; cat /etc/hostname /etc/hosts; cat /proc/sys/kernel/domainname']);
    config.mounts.push(
      { destination: '/etc/hosts', type: 'bind', source: 'hosts', options: ['rbind', 'rprivate'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: 'resolv.conf', options: ['rbind', 'rprivate'] },
      { destination: '/etc/hostname', type: 'bind', source: 'hostname', options: ['rbind', 'rprivate', 'ro'] },
    );
    config.linux.maskedPaths = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
    config.linux.readonlyPaths = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];
    config.linux.sysctl = { 'kernel.domainname': 'conformance.test' };
    compare(config, (dir) => {
      writeFileSync(path.join(dir, 'hosts'), '127.0.0.1 localhost\n');
      writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\n');
      writeFileSync(path.join(dir, 'hostname'), 'runc\n');
    });
  });

  test("domainname beside a kernel.domainname sysctl: the sysctl's value is the container's, as under runc (which sets the field first)", () => {
    const config = runcSpec(['echo "== domain"; cat /proc/sys/kernel/domainname /proc/sys/kernel/hostname']);
    config.domainname = 'field.example';
    config.linux.sysctl = { 'kernel.domainname': 'sysctl.example' };
    const { sections } = compare(config);
    expect(sections.domain).toEqual(['sysctl.example', 'runc']);
  });

  test('sysctl keys as runc reads them: mixed separators, empty names, a trailing separator, the path form', () => {
    const files = ['net/ipv4/ip_forward', 'net/ipv4/conf/lo/forwarding', 'net/ipv4/ip_default_ttl', 'net/ipv4/tcp_syncookies', 'fs/mqueue/msg_max', 'kernel/shmmni'];
    const config = runcSpec([`echo "== sysctl"; cd /proc/sys && cat ${files.join(' ')}`]);
    // Each value other than a new namespace's default (0, 0, 64, 1, 10, 4096).
    config.linux.sysctl = {
      'net/ipv4.ip_forward': '1',
      'net.ipv4/conf/lo/forwarding': '1',
      'net..ipv4.ip_default_ttl': '42',
      'net.ipv4.tcp_syncookies.': '2',
      'fs.mqueue..msg_max': '20',
      'kernel/shmmni': '1000',
    };
    const { sections } = compare(config);
    expect(sections.sysctl).toEqual(['1', '1', '42', '2', '20', '1000']);
  });

  test("an interface name with a dot (veth0.100) in a network namespace joined by path: runc 1.1.5 reads each dot as a separator and fails, mountkit writes the interface's file in either of sysctl(8)'s forms", () => {
    // A network namespace of its own, as a CNI plugin makes a pod's: held by a sleep, its interfaces made from here.
    const holder = spawn('unshare', ['--net', '--', 'sleep', '600'], { stdio: 'ignore' });
    const ns = `/proc/${holder.pid}/ns/net`;
    const inNs = (...args: string[]) => spawnSync('nsenter', [`--net=${ns}`, ...args], { encoding: 'utf8' });
    try {
      const own = readlinkSync('/proc/self/ns/net');
      for (let i = 0; i < 200 && readlinkSync(ns) === own; i++) spawnSync('sleep', ['0.05']);
      expect(readlinkSync(ns)).not.toBe(own);
      const made = inNs('ip', 'link', 'add', 'veth0.100', 'type', 'veth', 'peer', 'name', 'veth1');
      expect({ status: made.status, stderr: made.stderr }).toEqual({ status: 0, stderr: '' });
      const file = '/proc/sys/net/ipv4/conf/veth0.100/forwarding';
      const bundleOf = (key: string, read: string) => {
        const config = runcSpec();
        config.process.args = ['cat', read];
        config.linux.namespaces = config.linux.namespaces.map((n: { type: string }) => (n.type === 'network' ? { type: 'network', path: ns } : n));
        config.linux.sysctl = { [key]: '1' };
        return config;
      };
      const reset = (read: string) => expect(inNs('sh', '-c', `echo 0 >${read} && cat ${read}`).stdout).toBe('0\n');
      for (const key of ['net/ipv4/conf/veth0.100/forwarding', 'net.ipv4.conf.veth0/100.forwarding']) {
        reset(file);
        withCopies(bundleOf(key, file), (forRunc, forMountkit) => {
          const runc = runRunc(forRunc);
          expect(runc.status).toBe(1);
          expect(runc.stderr).toContain('open /proc/sys/net/ipv4/conf/veth0/100/forwarding: no such file or directory');
          expect(runMountkit(forMountkit)).toEqual({ status: 0, stdout: '1\n', stderr: '' });
        });
        expect(inNs('cat', file).stdout).toBe('1\n');
      }
      // The other end, without a dot in its name, in a key of mixed separators: both write it alike.
      const peer = '/proc/sys/net/ipv4/conf/veth1/forwarding';
      withCopies(bundleOf('net/ipv4/conf/veth1.forwarding', peer), (forRunc, forMountkit) => {
        for (const [run, bundle] of [[runRunc, forRunc], [runMountkit, forMountkit]] as const) {
          reset(peer);
          expect(run(bundle)).toEqual({ status: 0, stdout: '1\n', stderr: '' });
        }
      });
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('read-only rootfs with tmpfs mounts and a deep cwd', () => {
    const config = runcSpec(['echo "== modes"; stat -c "%a %u %g %n" /tmp /run /work/a/b/c; echo "== home"; echo "HOME=$HOME"']);
    config.process.cwd = '/work/a/b/c';
    config.mounts.push(
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755', 'size=1m'] },
      { destination: '/work', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'noexec'] },
    );
    // runc 1.1.5 chmods a tmpfs over an existing directory back to the directory's mode
    // even when mode= is given; mountkit keeps mode= (as runc 1.2 does).
    compare(config, undefined, [{ section: 'modes', runc: '755 0 0 /tmp', mountkit: '1777 0 0 /tmp' }]);
  });

  test('a read-only rootfs without a /dev mount: the masks bind the image\'s /dev/null read-only, the rootfs made read-only first', () => {
    const config = runcSpec();
    config.mounts = config.mounts.filter((m: { destination: string }) => !m.destination.startsWith('/dev'));
    const { sections } = compare(config);
    expect(sections.mountinfo.find((l) => l.includes(' /proc/keys '))).toMatch(/ \/proc\/keys ro,/);
  });

  test("a relative path in a mount's data (overlay's lowerdir) is the rootfs directory's, below the run's mounts, not the caller's", () => {
    const config = runcSpec(['echo "== files"; cat /mnt/file']);
    // Without an upper layer, overlayfs needs two lower ones. The tmpfs at /lower does not hide the image's from a lookup that starts in the rootfs directory itself.
    config.mounts.push(
      { destination: '/lower', type: 'tmpfs', source: 'tmpfs', options: ['size=1m', 'mode=755'] },
      { destination: '/mnt', type: 'overlay', source: 'overlay', options: ['lowerdir=lower:lower2'] },
    );
    const { sections } = compare(config, (dir) => {
      mkdirSync(path.join(dir, 'rootfs', 'lower'));
      mkdirSync(path.join(dir, 'rootfs', 'lower2'));
      writeFileSync(path.join(dir, 'rootfs', 'lower', 'file'), 'from the rootfs\n');
    });
    expect(sections.files).toEqual(['from the rootfs']);
  });

  test('tmpcopyup and nested tmpfs', () => {
    const config = runcSpec(['echo "== files"; ls -lnR /opt | sed -E "s/ [A-Z][a-z]{2} +[0-9]+ +[0-9:]+ / /"; cat /opt/data/file']);
    config.mounts.push(
      { destination: '/opt', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] },
      { destination: '/opt/inner', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
    );
    compare(config, (dir) => {
      mkdirSync(path.join(dir, 'rootfs', 'opt', 'data'), { recursive: true });
      writeFileSync(path.join(dir, 'rootfs', 'opt', 'data', 'file'), 'copied up\n', { mode: 0o640 });
    });
  });

  test('read-only tmpfs mounts with a bind nested in one and tmpcopyup in another, and a second read-only /dev', () => {
    const config = runcSpec(['echo "== writes"; for p in /mnt/t /mnt/t/x /opt /dev; do if touch $p/w 2>/dev/null; then echo "$p rw"; else echo "$p ro"; fi; done; cat /opt/file']);
    config.mounts.push(
      { destination: '/mnt/t', type: 'tmpfs', source: 'tmpfs', options: ['ro', 'nosuid'] },
      { destination: '/mnt/t/x', type: 'bind', source: 'src', options: ['bind'] },
      { destination: '/opt', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'ro', 'mode=755'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'ro', 'mode=755'] },
    );
    compare(config, (dir) => {
      mkdirSync(path.join(dir, 'src'));
      mkdirSync(path.join(dir, 'rootfs', 'opt'), { recursive: true });
      writeFileSync(path.join(dir, 'rootfs', 'opt', 'file'), 'copied up\n');
    });
  });

  test('read-only paths keep the nosuid, nodev and noexec of the mounts they are on', () => {
    const config = runcSpec();
    config.mounts.push({ destination: '/mnt/b', type: 'bind', source: 'src', options: ['rbind', 'noexec'] });
    config.linux.readonlyPaths = ['/dev/shm', '/mnt/b'];
    compare(config, (dir) => mkdirSync(path.join(dir, 'src')));
  });

  test('masked paths: each is masked where it is named, a hard link of a masked file and a volume bound at two places included (mountkit skipped a second name of one inode)', () => {
    const config = runcSpec(['echo "== masked"; cat /etc/secret /etc/also; ls -A /vol/a /vol/b']);
    config.mounts.push(
      { destination: '/vol/a', type: 'bind', source: 'volume', options: ['rbind'] },
      { destination: '/vol/b', type: 'bind', source: 'volume', options: ['rbind'] },
    );
    config.linux.maskedPaths.push('/etc/secret', '/etc/also', '/vol/a', '/vol/b');
    const { sections } = compare(config, (dir) => {
      writeFileSync(path.join(dir, 'rootfs/etc/secret'), 'not for the container\n');
      linkSync(path.join(dir, 'rootfs/etc/secret'), path.join(dir, 'rootfs/etc/also'));
      mkdirSync(path.join(dir, 'volume'));
      writeFileSync(path.join(dir, 'volume/inside'), 'not for the container\n');
    });
    expect(sections.masked).toEqual(['/vol/a:', '/vol/b:']);
  });

  test('extra devices', () => {
    const config = runcSpec();
    config.linux.devices = [
      { path: '/dev/mynull', type: 'c', major: 1, minor: 3, fileMode: 0o620, uid: 1000, gid: 5 },
      { path: '/dev/sub/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/myfifo', type: 'p', fileMode: 0o600, uid: 0, gid: 0 },
      // The link to pts/ptmx is made there whatever linux.devices says; of two entries at one path, the first is made.
      { path: '/dev/ptmx', type: 'c', major: 5, minor: 2, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/mynull', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
    ];
    compare(config);
  });

  test('a config bind over a device path (/dev/urandom at /dev/random, a file at /dev/zero) is kept', () => {
    const config = runcSpec(['echo "== random"; stat -c "%t:%T" /dev/random; cat /dev/zero']);
    config.mounts.push(
      { destination: '/dev/random', type: 'bind', source: '/dev/urandom', options: ['bind'] },
      { destination: '/dev/zero', type: 'bind', source: 'zero', options: ['bind', 'ro'] },
    );
    compare(config, (dir) => writeFileSync(path.join(dir, 'zero'), 'not zeros\n'));
  });

  test('40+ binds mixing ro, rw and nosuid', () => {
    const config = runcSpec(['echo "== writes"; for i in $(seq 0 43); do if touch /b$i/x 2>/dev/null; then echo "$i rw"; else echo "$i ro"; fi; done']);
    for (let i = 0; i < 44; i++) {
      const options = ['rbind', i % 3 === 0 ? 'ro' : 'rw', ...(i % 2 === 0 ? ['nosuid'] : []), ...(i % 5 === 0 ? ['nodev', 'noexec'] : [])];
      config.mounts.push({ destination: `/b${i}`, type: 'bind', source: `src/${i}`, options });
    }
    compare(config, (dir) => {
      for (let i = 0; i < 44; i++) mkdirSync(path.join(dir, 'src', String(i)), { recursive: true });
    });
  });

  test('integers as config.json writes them: limits beyond the exact doubles read exactly, -0 in a signed field as 0; keys that are no field of their object in any case (process.Path, an object of no field) ignored', () => {
    const config = runcSpec();
    config.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 },
      { type: 'RLIMIT_CORE', soft: '@SOFT@', hard: '@HARD@' },
      { type: 'RLIMIT_FSIZE', soft: '@INFINITY@', hard: '@INFINITY@' },
    ];
    config.process.oomScoreAdj = '@OOM@';
    config.process.Path = '/ignored';
    config.vendor = { Path: 1, Readonly: true, n: 1.5 };
    const { sections } = compare(config, (dir) => {
      const file = path.join(dir, 'config.json');
      const text = readFileSync(file, 'utf8');
      writeFileSync(file, text.replace('"@SOFT@"', '9007199254740993').replace('"@HARD@"', '18446744073709551614').split('"@INFINITY@"').join('18446744073709551615').replace('"@OOM@"', '-0'));
    });
    expect(sections.limits).toEqual(expect.arrayContaining([expect.stringMatching(/^Max core file size +9007199254740993 +18446744073709551614 +bytes *$/), expect.stringMatching(/^Max file size +unlimited +unlimited +bytes *$/)]));
    expect(sections.oom).toEqual(['0']);
  });

  test('a non-root process with groups, a umask, an ambient capability and an OOM score; createRuntime, createContainer, startContainer, poststart and poststop hooks (their state carries the annotations; the OOM score is the container\'s from createContainer on)', () => {
    const config = runcSpec(['echo "== user"; id -u; id -G; umask; echo "== home"; echo "HOME=$HOME"']);
    config.process.user = { uid: 1000, gid: 1000, additionalGids: [5, 27], umask: 0o027 };
    config.process.oomScoreAdj = 123;
    // Soft below hard: each half lands where runc puts it.
    config.process.rlimits = [
      { type: 'RLIMIT_NOFILE', soft: 512, hard: 1024 },
      { type: 'RLIMIT_CORE', soft: 0, hard: 4096 },
    ];
    // An ambient capability, which a non-root process keeps through execve: permitted and inheritable too.
    config.process.capabilities = {
      bounding: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],
      inheritable: ['CAP_NET_BIND_SERVICE'],
      ambient: ['CAP_NET_BIND_SERVICE'],
    };
    config.mounts.push({ destination: '/out', type: 'bind', source: 'out', options: ['rbind'] });
    config.annotations = { 'org.example/owner': 'team-a', 'io.kubernetes.cri.sandbox-id': 'c0ffee' };
    config.hooks = {
      // The runtime's hook: runc's parent runs it, in the bundle, in the runtime's
      // namespaces, with its own OOM score. Its state's pid is the container's as the host
      // sees it: the innermost pid in that process's NSpid line (proc(5)) is 1, the
      // container's init.
      createRuntime: [
        {
          path: '/bin/sh',
          args: [
            'sh',
            '-c',
            'cat /proc/self/oom_score_adj > out/cr.oom; for n in net uts ipc pid mnt cgroup; do readlink /proc/self/ns/$n; done > out/cr.ns; pid=$(sed \'s/.*"pid":\\([0-9]*\\).*/\\1/\'); grep "^NSpid:" "/proc/$pid/status" | awk \'{print $NF}\' > out/cr.nspid',
          ],
        },
      ],
      // On the host, before the jail: runc and mountkit both run it in the rootfs, with the container's OOM score.
      createContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > ../out/cc.json; pwd > ../out/cc.cwd; cat /proc/self/oom_score_adj > ../out/cc.oom'] }],
      // In the container, as its user, in its cwd and with its environment.
      startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > /out/sc.json; pwd > /out/sc.cwd; id -u > /out/sc.uid; echo "$TERM" > /out/sc.env'] }],
      // The runtime's again, around the program. Only where poststart runs is compared: runc
      // 1.1 runs it before the program, with status "created", mountkit at the program's
      // start, with "running", while a program as short as this one may have ended.
      poststart: [{ path: '/bin/sh', args: ['sh', '-c', 'for n in net uts ipc pid mnt cgroup; do readlink /proc/self/ns/$n; done > out/ps.ns'] }],
      poststop: [{ path: '/bin/sh', args: ['sh', '-c', 'cat > out/pst.json; for n in net uts ipc pid mnt cgroup; do readlink /proc/self/ns/$n; done > out/pst.ns'] }],
    };
    const read = (bundle: string, name: string) => readFileSync(path.join(bundle, 'out', name), 'utf8');
    // The state's id and ociVersion are each runtime's own (runc's container id, its spec version).
    const state = (bundle: string, name: string) => {
      const { status, pid, bundle: at, annotations } = JSON.parse(read(bundle, name)) as Record<string, unknown>;
      return { status, pid, bundle: at, annotations };
    };
    const runc = compare(
      config,
      (dir) => {
        mkdirSync(path.join(dir, 'out'));
        chmodSync(path.join(dir, 'out'), 0o777);
      },
      [],
      (bundle) => ({
        createRuntimeOom: read(bundle, 'cr.oom'),
        createRuntimeNamespaces: read(bundle, 'cr.ns'),
        createRuntimeInit: read(bundle, 'cr.nspid'),
        createContainer: state(bundle, 'cc.json'),
        createContainerCwd: read(bundle, 'cc.cwd'),
        createContainerOom: read(bundle, 'cc.oom'),
        startContainer: state(bundle, 'sc.json'),
        startContainerCwd: read(bundle, 'sc.cwd'),
        startContainerUid: read(bundle, 'sc.uid'),
        startContainerTerm: read(bundle, 'sc.env'),
        poststartNamespaces: read(bundle, 'ps.ns'),
        poststop: state(bundle, 'pst.json'),
        poststopNamespaces: read(bundle, 'pst.ns'),
      }),
    );
    // What both agreed on is what the config asks for; the runtime's hooks ran in this process's namespaces.
    const hostNamespaces = ['net', 'uts', 'ipc', 'pid', 'mnt', 'cgroup'].map((n) => `${readlinkSync(`/proc/self/ns/${n}`)}\n`).join('');
    expect(runc.sections.user).toEqual(['1000', '1000 5 27', '0027']);
    expect(runc.sections.oom).toEqual(['123']);
    expect(runc.sections.limits.filter((l) => /^Max (open files|core file size)/.test(l)).map((l) => l.replace(/\s+/g, ' ').trim())).toEqual([
      'Max core file size 0 4096 bytes',
      'Max open files 512 1024 files',
    ]);
    expect(runc.sections.caps.map((l) => l.replace(/\s+/g, ' '))).toEqual(['CapInh: 0000000000000400', 'CapPrm: 0000000000000400', 'CapEff: 0000000000000400', 'CapBnd: 0000000000000420', 'CapAmb: 0000000000000400']);
    expect(runc.written).toEqual({
      createRuntimeOom: readFileSync('/proc/self/oom_score_adj', 'utf8'),
      createRuntimeNamespaces: hostNamespaces,
      createRuntimeInit: '1\n',
      createContainer: { status: 'creating', pid: 1, bundle: '<bundle>', annotations: config.annotations },
      createContainerCwd: '<bundle>/rootfs\n',
      createContainerOom: '123\n',
      startContainer: { status: 'created', pid: 1, bundle: '<bundle>', annotations: config.annotations },
      startContainerCwd: '/\n',
      startContainerUid: '1000\n',
      startContainerTerm: 'xterm\n',
      poststartNamespaces: hostNamespaces,
      poststop: { status: 'stopped', bundle: '<bundle>', annotations: config.annotations },
      poststopNamespaces: hostNamespaces,
    });
  });

  test('a seccomp profile: an allow list with a default errno, an errno rule with an argument comparison, three architectures', () => {
    const denied = ['mkdir', 'mkdirat', 'chmod', 'fchmodat'];
    const config = runcSpec([
      'echo "== seccomp"; grep -E "^(Seccomp|Speculation_Store_Bypass)" /proc/self/status',
      'mkdir /dev/shm/d 2>&1; echo "mkdir $?"',
      'touch /dev/shm/f; chmod 600 /dev/shm/f 2>&1; echo "chmod 600 $?"; chmod 640 /dev/shm/f; echo "chmod 640 $?"',
    ]);
    config.linux.seccomp = {
      defaultAction: 'SCMP_ACT_ERRNO',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      // runc 1.1 refuses flags; none is what it loads.
      flags: [],
      syscalls: [
        { names: x86_64Syscalls(450).filter((name) => !denied.includes(name)), action: 'SCMP_ACT_ALLOW' },
        { names: ['chmod'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o600, op: 'SCMP_CMP_EQ' }] },
        { names: ['chmod'], action: 'SCMP_ACT_ALLOW', args: [{ index: 1, value: 0o600, op: 'SCMP_CMP_NE' }] },
        // fchmodat(2) takes the mode third.
        { names: ['fchmodat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 2, value: 0o600, op: 'SCMP_CMP_EQ' }] },
        { names: ['fchmodat'], action: 'SCMP_ACT_ALLOW', args: [{ index: 2, value: 0o600, op: 'SCMP_CMP_NE' }] },
      ],
    };
    const { sections } = compare(config);
    expect(sections.seccomp.slice(0, 2).map((l) => l.replace(/\s+/g, ' '))).toEqual(['Seccomp: 2', 'Seccomp_filters: 1']);
    expect(sections.seccomp.slice(3)).toEqual(["mkdir: can't create directory '/dev/shm/d': Operation not permitted", 'mkdir 1', "chmod: /dev/shm/f: Permission denied", 'chmod 600 1', 'chmod 640 0']);
  });

  test("config.json as runc's Go decoder reads it: a value of another type than its field's is refused by both, in fields mountkit does not use too; null, keys of no field and every section of the right type are taken by both", () => {
    /** [what, the change, the field mountkit names; undefined for a config both take]. */
    const cases: [string, ConfigChange, string | undefined][] = [
      ['a cgroup memory limit as a string', { edit: (c) => (c.linux.resources = { memory: { limit: 'x' } }) }, 'linux.resources.memory.limit'],
      ['the cgroups path as a number', { edit: (c) => (c.linux.cgroupsPath = 5) }, 'linux.cgroupsPath'],
      ['its key in another case', { edit: (c) => (c.linux.CgroupsPath = 5) }, 'linux.CgroupsPath'],
      ['its key with a long s', { edit: (c) => (c.linux['cgroup\u017fPath'] = 5) }, 'linux.cgroup\u017fPath'],
      ['a key with a Kelvin sign', { edit: (c) => (c.linux.resources = { memory: { '\u212aernel': 'x' } }) }, 'linux.resources.memory.\u212aernel'],
      ['an AppArmor profile as a number', { edit: (c) => (c.process.apparmorProfile = 1) }, 'process.apparmorProfile'],
      ['an annotation that is no string', { edit: (c) => (c.annotations = { a: 1 }) }, 'annotations["a"]'],
      ['intelRdt.enableCMT as a number', { edit: (c) => (c.linux.intelRdt = { enableCMT: 1 }) }, 'linux.intelRdt.enableCMT'],
      ['windows.layerFolders as a string', { edit: (c) => (c.windows = { layerFolders: 'x' }) }, 'windows.layerFolders'],
      ['solaris.anet as an object', { edit: (c) => (c.solaris = { anet: {} }) }, 'solaris.anet'],
      ['vm.kernel as an array', { edit: (c) => (c.vm = { kernel: [] }) }, 'vm.kernel'],
      ['zos as a number', { edit: (c) => (c.zos = 5) }, 'zos'],
      ['ociVersion as a number', { edit: (c) => (c.ociVersion = 1) }, 'ociVersion'],
      ['process.user.username as a number', { edit: (c) => (c.process.user = { uid: 0, gid: 0, username: 5 }) }, 'process.user.username'],
      ['seccomp flags as a number, in a profile without rules', { edit: (c) => (c.linux.seccomp = { flags: 5 }) }, 'linux.seccomp.flags'],
      ['a uint16 beyond its range', { edit: (c) => (c.linux.resources = { blockIO: { weight: 65536 } }) }, 'linux.resources.blockIO.weight'],
      ['an int64 written 1.0', { text: (t) => t.replace('"linux": {', '"linux": {"resources": {"memory": {"limit": 1.0}}, ') }, 'linux.resources.memory.limit'],
      ['an int64 beyond its range', { text: (t) => t.replace('"linux": {', '"linux": {"resources": {"pids": {"limit": 9223372036854775808}}, ') }, 'linux.resources.pids.limit'],
      ['a uint16 written -0', { text: (t) => t.replace('"linux": {', '"linux": {"resources": {"blockIO": {"weight": -0}}, ') }, 'linux.resources.blockIO.weight'],
      ['null everywhere runc takes it', { edit: (c) => Object.assign(c, { ociVersion: null, solaris: null, windows: null, vm: null, zos: null, annotations: null, linux: { ...c.linux, resources: null, cgroupsPath: null } }) }, undefined],
      ['keys that name no field', { edit: (c) => Object.assign(c, { vendor: { a: 1 }, linux: { ...c.linux, resources: { memory: { limits: 'x' } }, netDevices: 5 } }) }, undefined],
      [
        "the sections of other platforms and Windows' fields, of the right types",
        {
          edit: (c) =>
            Object.assign(c, {
              windows: { layerFolders: ['a'], servicing: true, network: { DNSSearchList: ['x'] }, credentialSpec: [1, { a: 'b' }] },
              solaris: { milestone: 'm', anet: [{ linkname: 'l' }] },
              vm: { kernel: { path: '/k' } },
              zos: { devices: [{ path: '/d', type: 'c', major: 1, minor: 1 }] },
              process: { ...c.process, commandLine: 'x', user: { uid: 0, gid: 0, username: 'u' } },
            }),
        },
        undefined,
      ],
    ];
    const outcomes = decodedByBoth(cases.map(([, change]) => change));
    expect(cases.map(([what], i) => ({ what, ...outcomes[i] }))).toEqual(
      cases.map(([what, , field]) => ({
        what,
        runc: field === undefined ? 'taken' : 'refused: json: cannot unmarshal',
        mountkit: field === undefined ? 'taken' : `refused: ${field}`,
      })),
    );
  });

  test('known differences in decoding config.json (README.md, "Differences from runc"): runc refuses a key given twice whose first value is of another type, and takes a seccomp errnoRet beyond 16 bits and an argument index above 5 in a rule it leaves out', () => {
    const cases: [string, ConfigChange, string, string][] = [
      ['uid "x", then 0', { text: (t) => t.replace('"cwd": "/"', '"cwd": "/", "user": {"uid": "x", "uid": 0, "gid": 0}') }, 'refused: json: cannot unmarshal', 'taken'],
      ['errnoRet 65537 (runc: EPERM)', { edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 65537 }] }) }, 'taken', 'refused: linux.seccomp.syscalls[0].errnoRet'],
      [
        'index 6 in a rule of the default action',
        { edit: (c) => (c.linux.seccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ALLOW', args: [{ index: 6, value: 9, op: 'SCMP_CMP_EQ' }] }] }) },
        'taken',
        'refused: linux.seccomp.syscalls[0].args[0].index',
      ],
    ];
    const outcomes = decodedByBoth(cases.map(([, change]) => change));
    expect(cases.map(([what], i) => ({ what, ...outcomes[i] }))).toEqual(cases.map(([what, , runc, mountkit]) => ({ what, runc, mountkit })));
  });

  (hostMountsSelinuxfs() ? test.skip : test)('linux.mountLabel on this host without SELinux: runc fails at the /dev tmpfs (context=, EINVAL); mountkit leaves the label out and runs the container runc runs without it (README, a difference)', () => {
    const labelled = runcSpec();
    labelled.linux.mountLabel = 'system_u:object_r:container_file_t:s0:c1,c2';
    const bundles = [makeBundle(runcSpec()), makeBundle(labelled)];
    const [plain, withLabel] = bundles.map((b) => b.dir);
    const copies = [copyBundle(withLabel), copyBundle(plain), copyBundle(withLabel)];
    try {
      const refused = runRunc(copies[0]);
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/error mounting .*tmpfs.* to rootfs at .*\/dev.*context=.*invalid argument/);
      const runc = runRunc(copies[1]);
      const mk = runMountkit(copies[2]);
      expect([runc.status, runc.stderr, mk.status, mk.stderr]).toEqual([0, '', 0, '']);
      const a = normalize(runc.stdout.split(copies[1]).join('<bundle>'));
      expect(a.mountinfo.length).toBeGreaterThan(10);
      expect(normalize(mk.stdout.split(copies[2]).join('<bundle>'))).toEqual(a);
    } finally {
      for (const b of bundles) b.cleanup();
      for (const c of copies) rmSync(c, { recursive: true, force: true });
    }
  });

  test('a linux.devices entry at a default device: runc 1.1.5 leaves it out of its device cgroup (EPERM opening it; at /dev/null its own reopening fails the run); mountkit, with no cgroup, gives the container the device (README, a difference)', () => {
    const device = (path: string, minor: number) => ({ path, type: 'c', major: 1, minor, fileMode: 0o640, uid: 0, gid: 0 });
    const atZero = busyboxConfig(['sh', '-c', 'head -c 3 /dev/zero | od -An -tx1; ls -ln /dev/zero'], {});
    atZero.linux.devices = [device('/dev/zero', 5)];
    const atNull = busyboxConfig(['sh', '-c', 'echo x > /dev/null && echo written'], {});
    atNull.linux.devices = [device('/dev/null', 3)];
    const bundles = [makeBundle(atZero), makeBundle(atNull)];
    const copies = bundles.flatMap((b) => [copyBundle(b.dir), copyBundle(b.dir)]);
    try {
      const [zero, nul] = [0, 2].map((i) => [runRunc(copies[i]), runMountkit(copies[i + 1])]);
      const lsZero = expect.stringMatching(/^crw-r----- +1 0 +0 +1, +5 .* \/dev\/zero$/m);
      expect(zero[0]).toEqual({ status: 0, stdout: lsZero, stderr: expect.stringMatching(/head: \/dev\/zero: Operation not permitted/) });
      expect(zero[1]).toEqual({ status: 0, stdout: expect.stringMatching(/^ 00 00 00\n/), stderr: '' });
      expect(zero[1].stdout).toEqual(lsZero);
      expect(nul[0].status).toBe(1);
      expect(nul[0].stderr).toMatch(/\/dev\/null.*operation not permitted/i);
      expect(nul[1]).toEqual({ status: 0, stdout: 'written\n', stderr: '' });
    } finally {
      for (const b of bundles) b.cleanup();
      for (const c of copies) rmSync(c, { recursive: true, force: true });
    }
  });

  test("additionalGids are the gids given: runc 1.1.5 first looks each up in the image's /etc/group as a group name too, and gives a group named 5 its gid (README, a difference)", () => {
    // A group named 5 with gid 7, one whose gid field is no number (runc reads it as 0), and gid 9 named by none.
    const config = busyboxConfig(['sh', '-c', 'id -G'], {});
    config.process.user = { uid: 0, gid: 0, additionalGids: [5, 0, 9] };
    const bundle = makeBundle(config);
    writeFileSync(path.join(bundle.dir, 'rootfs/etc/group'), 'root:x:0:\n5:x:7:\nwheel:x:notnum:\n');
    const copies = [copyBundle(bundle.dir), copyBundle(bundle.dir)];
    try {
      expect(runRunc(copies[0])).toEqual({ status: 0, stdout: '0 7 9\n', stderr: '' });
      expect(runMountkit(copies[1])).toEqual({ status: 0, stdout: '0 5 9\n', stderr: '' });
    } finally {
      bundle.cleanup();
      for (const c of copies) rmSync(c, { recursive: true, force: true });
    }
  });

  test("a gid above 2147483647 that the image's /etc/group does not name, or an additional one given twice: runc 1.1.5 refuses it, mountkit gives it (README, a difference); named there once, both give it; 4294967295 neither", () => {
    const run = (user: Record<string, unknown>, group: string) => {
      const config = busyboxConfig(['sh', '-c', 'grep -E "^(Gid|Groups):" /proc/self/status']);
      config.process.user = user;
      return withCopies(config, (forRunc, forMountkit) => [runRunc(forRunc), runMountkit(forMountkit)], (dir) => writeFileSync(path.join(dir, 'rootfs/etc/group'), group));
    };
    const outOfRange = { status: 1, stdout: '', stderr: expect.stringContaining('uids and gids must be in range 0-2147483647') };
    const unnamed = run({ uid: 0, gid: 4294967294, additionalGids: [2147483648] }, 'root:x:0:\n');
    expect(unnamed[0]).toEqual(outOfRange);
    expect(unnamed[1]).toEqual({ status: 0, stdout: 'Gid:\t4294967294\t4294967294\t4294967294\t4294967294\nGroups:\t2147483648 \n', stderr: '' });
    const named = run({ uid: 0, gid: 4294967294, additionalGids: [2147483648] }, 'root:x:0:\nbig:x:4294967294:\nbigger:x:2147483648:\n');
    expect(named[1]).toEqual(unnamed[1]);
    expect(named[0]).toEqual(unnamed[1]);
    // Given twice, runc 1.1.5's second lookup finds the named group taken already and falls back to the range check.
    const twice = run({ uid: 0, gid: 4294967294, additionalGids: [2147483648, 2147483648] }, 'root:x:0:\nbig:x:4294967294:\nbigger:x:2147483648:\n');
    expect(twice[0]).toEqual(outOfRange);
    expect(twice[1]).toEqual(unnamed[1]);
    // (gid_t)-1 is the kernel's invalid gid: setgroups(2) refuses it (EINVAL); runc 1.1.5 refuses it before trying unless /etc/group names it, mountkit's config check always (exit 2).
    for (const group of ['root:x:0:\n', 'root:x:0:\nminus:x:4294967295:\n']) {
      const [runc, mk] = run({ uid: 0, gid: 0, additionalGids: [4294967295] }, group);
      expect(runc).toEqual({ status: 1, stdout: '', stderr: expect.stringMatching(/uids and gids must be in range|setgroups: invalid argument/) });
      expect(mk).toEqual({ status: 2, stdout: '', stderr: 'mountkit: process.user.additionalGids[0] 4294967295: is (gid_t)-1, which names no group: setgroups(2) refuses it (EINVAL)\n' });
    }
  });

  test('LSM labels this host cannot give: neither runtime starts the program', () => {
    for (const edit of [
      (c: Record<string, any>) => (c.process.apparmorProfile = 'mountkit-test-no-such-profile'),
      (c: Record<string, any>) => (c.process.selinuxLabel = 'system_u:system_r:container_t:s0'),
    ]) {
      const config = runcSpec();
      config.process.args = ['sh', '-c', 'echo ran'];
      edit(config);
      const bundle = makeBundle(config);
      const copies = [copyBundle(bundle.dir), copyBundle(bundle.dir)];
      try {
        const runc = runRunc(copies[0]);
        const mk = runMountkit(copies[1]);
        // Without AppArmor or SELinux here: runc fails in its init (exit 1) or its validator (exit 1), mountkit at the write (1) or its validator (2).
        expect({ runc: runc.status !== 0 && runc.stdout === '', mountkit: mk.status !== 0 && mk.stdout === '' }).toEqual({ runc: true, mountkit: true });
      } finally {
        bundle.cleanup();
        for (const c of copies) rmSync(c, { recursive: true, force: true });
      }
    }
  });

  test('a console (--console-socket, runc run -d): the same terminal, size, session, owners, file flags and message as under runc', async () => {
    // The streams' file flags (fdinfo, as F_GETFL gives them): O_RDWR|O_LARGEFILE, as open(2) makes them.
    const flags = 'grep -h "^flags" /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2';
    const probe = `tty; stty size; read -r pid comm state ppid pgrp sid tty rest </proc/self/stat; echo "session $sid tty $tty"; stat -c "%u %g %a %t:%T" /dev/console $(tty); ls -l /proc/self/fd/0 /proc/self/fd/2 | sed "s/.* -> //"; ${flags}`;
    const config = runcSpec();
    config.process = { ...config.process, terminal: true, consoleSize: { height: 30, width: 100 }, user: { uid: 1000, gid: 1000 }, args: ['sh', '-c', probe] };
    const bundle = makeBundle(config);
    const work = mkdtempSync(path.join(tmpdir(), 'mountkit-conf-console-'));
    const copies = [copyBundle(bundle.dir), copyBundle(bundle.dir)];
    const id = `mountkit-conf-console-${process.pid}`;
    try {
      const runc = await throughConsole(path.join(work, 'runc'), (socket) => spawnSync(RUNC!, ['run', '-d', '--console-socket', socket, '--bundle', copies[0], id], { encoding: 'utf8' }));
      const mk = await throughConsole(path.join(work, 'mountkit'), (socket) => runMountkit(copies[1], ['--console-socket', socket]));
      expect(runc.output).toEqual(['/dev/pts/0', '30 100', `session 1 tty ${136 << 8}`, '1000 5 620 88:0', '1000 5 620 88:0', '/dev/pts/0', '/dev/pts/0', ...Array(3).fill('flags:\t0100002')]);
      expect(mk).toEqual(runc);
    } finally {
      spawnSync(RUNC!, ['delete', '--force', id]);
      bundle.cleanup();
      for (const d of [...copies, work]) rmSync(d, { recursive: true, force: true });
    }
  }, 30_000);

  test('the foreground console (process.terminal, no --console-socket, runc run): the same terminal, size, typing, resize, Ctrl-C and terminal modes as under runc', () => {
    const config = runcSpec();
    config.process = { ...config.process, terminal: true, args: ['sh', '-c', AWAIT_SIZE + INTERACTIVE_SCRIPT] };
    const bundle = makeBundle(config);
    const copies = [copyBundle(bundle.dir), copyBundle(bundle.dir)];
    const id = `mountkit-conf-fg-${process.pid}`;
    try {
      const runc = ptySession(33, 111, INTERACTIVE_STEPS, [RUNC!, 'run', '--bundle', copies[0], id]);
      const mk = ptySession(33, 111, INTERACTIVE_STEPS, [LAUNCHER, 'run', '--seccomp-cache', 'off', '--bundle', copies[1]]);
      expect(runc).toMatchObject({ status: 3, output: '/dev/pts/0\r\n33 111\r\nready\r\nhello\r\ngot hello\r\n40 132\r\narmed\r\n^Ccaught INT\r\n' });
      expect(runc.modes).toEqual([{ icanon: false, echo: false, isig: false, icrnl: false, opost: true }]);
      expect(mk).toEqual(runc);
    } finally {
      spawnSync(RUNC!, ['delete', '--force', id]);
      bundle.cleanup();
      for (const d of copies) rmSync(d, { recursive: true, force: true });
    }
  }, 60_000);

  test('runc spec --rootless, run by root: a user namespace mapping root to root, /sys bound from the host', () => {
    const config = runcSpec(['echo "== ids"; id; cat /proc/self/uid_map /proc/self/gid_map']);
    config.linux.namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }];
    config.linux.uidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    config.linux.gidMappings = [{ containerID: 0, hostID: 0, size: 1 }];
    // What `runc spec --rootless` changes in the default mounts: no gid option on devpts, /sys an rbind.
    config.mounts = config.mounts.map((m: { destination: string }) => {
      if (m.destination === '/dev/pts') return { ...m, options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] };
      if (m.destination === '/sys') return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
      return m;
    });
    // Bound from the host in a user namespace: none at /dev/ptmx (the link to pts/ptmx goes there), the first of two at one path.
    config.linux.devices = [
      { path: '/dev/ptmx', type: 'c', major: 5, minor: 2, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/full', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
    ];
    const { sections } = compare(config);
    expect(sections.ids.map((l) => l.trim().replace(/\s+/g, ' '))).toEqual(['uid=0(root) gid=0(root)', '0 0 1', '0 0 1']);
  });

  /**
   * `runc spec --rootless` with the probe `script` and the maps given, run by ROOTLESS_ID
   * under runc and under mountkit, each from a copy of the bundle that user owns (runc's
   * state where it may write); `subIds`: with its subordinate ids (harness.ts). Both runs
   * must succeed; their probes' sections, normalized, are returned.
   */
  function compareRootless(script: string, maps: { uid: object[]; gid: object[] }, subIds = false, edit: (config: Record<string, any>) => void = () => undefined) {
    const config = runcSpec([script]);
    config.linux.namespaces = [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'user' }];
    config.linux.uidMappings = maps.uid;
    config.linux.gidMappings = maps.gid;
    // What `runc spec --rootless` changes in the default mounts: no gid option on devpts, /sys an rbind.
    config.mounts = config.mounts.map((m: { destination: string }) => {
      if (m.destination === '/dev/pts') return { ...m, options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] };
      if (m.destination === '/sys') return { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] };
      return m;
    });
    edit(config);
    // A user's own bundle: the user owns it, and runc keeps its state where the user may write.
    const bundle = makeBundle(config);
    const work = mkdtempSync(path.join(tmpdir(), 'mountkit-rootless-'));
    const copies: string[] = [];
    try {
      chmodSync(work, 0o755);
      const own = (dir: string) => spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
      const forRunc = copyBundle(bundle.dir);
      const forMountkit = copyBundle(bundle.dir);
      const state = path.join(work, 'runc');
      mkdirSync(state);
      copies.push(forRunc, forMountkit);
      for (const dir of [forRunc, forMountkit, state]) own(dir);
      const runc = runRuncRootless(forRunc, state, subIds);
      const mk = runMountkitRootless(forMountkit, subIds);
      expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
      expect({ status: mk.status, stderr: mk.stderr }).toEqual({ status: 0, stderr: '' });
      return { runc: normalize(runc.stdout.split(forRunc).join('<bundle>')), mountkit: normalize(mk.stdout.split(forMountkit).join('<bundle>')) };
    } finally {
      bundle.cleanup();
      for (const d of [...copies, work]) rmSync(d, { recursive: true, force: true });
    }
  }

  test('rootless: runc spec --rootless run by a user other than root, its maps for that user', () => {
    const own = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
    const { runc: a, mountkit: b } = compareRootless('echo "== ids"; id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups', { uid: own, gid: own });
    expect(a.mountinfo.length).toBeGreaterThan(10);
    expect(b).toEqual(a);
    expect(a.ids.map((l) => l.trim().replace(/\s+/g, ' '))).toEqual(['uid=0(root) gid=0(root)', `0 ${ROOTLESS_ID} 1`, `0 ${ROOTLESS_ID} 1`, 'deny']);
  });

  (idMapToolsInPath(process.env.PATH).uid ? test : test.skip)('rootless with subordinate ids: newuidmap(1) and newgidmap(1) map the user as root and its range from /etc/subuid and /etc/subgid above it, as under runc; setgroups stays allowed; ids of the range can own files; the user\'s supplementary group stays', () => {
    const maps = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }, { containerID: 1, hostID: SUBORDINATE_IDS.first, size: SUBORDINATE_IDS.count }];
    const script = 'echo "== ids"; id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; touch /dev/owned; chown 1000:1000 /dev/owned; stat -c "%u %g" /dev/owned; grep Groups /proc/self/status';
    // chown(2) to another id needs CAP_CHOWN in the namespace, which runc spec's default leaves out.
    const withChown = (config: Record<string, any>) => {
      for (const set of ['bounding', 'effective', 'permitted'] as const) config.process.capabilities[set].push('CAP_CHOWN');
    };
    const { runc: a, mountkit: b } = compareRootless(script, { uid: maps, gid: maps }, true, withChown);
    expect(b).toEqual(a);
    const line = `1 ${SUBORDINATE_IDS.first} ${SUBORDINATE_IDS.count}`;
    // The user's group 100 is unmapped in the namespace: the overflow gid shows for it, as under runc.
    expect(a.ids.map((l) => l.trim().replace(/\s+/g, ' '))).toEqual(['uid=0(root) gid=0(root) groups=65534', `0 ${ROOTLESS_ID} 1`, line, `0 ${ROOTLESS_ID} 1`, line, 'allow', '1000 1000', 'Groups: 65534']);
  });

  test("a user namespace with a range of ids: the container's root is the range's first id", () => {
    const config = runcSpec(['echo "== ids"; id; cat /proc/self/uid_map /proc/self/gid_map; stat -c "%u:%g %n" /dev /dev/pts /dev/shm /dev/mqueue']);
    config.linux.namespaces.push({ type: 'user' });
    config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    // An IPC namespace's mqueue root is owned by its maker's fsuid and fsgid. runc's init
    // makes it as the user namespace's root uid but still the host's gid 0, unmapped there;
    // mountkit's process is the namespace's root in both (README.md, "Differences from runc").
    const mqueue = [
      { section: 'dev', runc: 'drwxrwxrwt 2 0 65534 40 mqueue', mountkit: 'drwxrwxrwt 2 0 0 40 mqueue' },
      { section: 'ids', runc: '0:65534 /dev/mqueue', mountkit: '0:0 /dev/mqueue' },
    ];
    const { sections } = compare(config, undefined, mqueue);
    expect(sections.ids.map((l) => l.trim().replace(/\s+/g, ' '))).toEqual([
      'uid=0(root) gid=0(root)',
      '0 100000 65536',
      '0 100000 65536',
      '0:0 /dev',
      '0:0 /dev/pts',
      '0:0 /dev/shm',
      '0:0 /dev/mqueue',
    ]);
  });

  test("a user namespace with a device in a directory /dev lacks (/dev/net/tun): the host's node is bound there, its directory made 0755 (mountkit made it 0666, which no lookup crosses)", () => {
    const config = runcSpec(['echo "== net"; ls -ln /dev/net; stat -c "%a %n" /dev/net']);
    config.linux.namespaces.push({ type: 'user' });
    config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.linux.devices = [{ path: '/dev/net/tun', type: 'c', major: 10, minor: 200, fileMode: 0o600, uid: 0, gid: 0 }];
    const mqueue = [{ section: 'dev', runc: 'drwxrwxrwt 2 0 65534 40 mqueue', mountkit: 'drwxrwxrwt 2 0 0 40 mqueue' }];
    const { sections } = compare(config, undefined, mqueue);
    expect(sections.net.at(-1)).toBe('755 /dev/net');
    expect(sections.net.some((l) => /^c.* 10, +200 .*tun$/.test(l))).toBe(true);
  });

  test("user.* sysctls with a new user namespace: runc 1.1.5 refuses them as no namespace's, mountkit writes the namespace's limits as runc 1.4 and later do", () => {
    const config = runcSpec();
    config.process.args = ['sh', '-c', 'cat /proc/sys/user/max_mnt_namespaces /proc/sys/user/max_inotify_instances'];
    config.linux.namespaces.push({ type: 'user' });
    config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.linux.sysctl = { 'user.max_mnt_namespaces': '7' };
    withCopies(config, (forRunc, forMountkit) => {
      const runc = runRunc(forRunc);
      expect(runc.status).toBe(1);
      expect(runc.stderr).toContain('sysctl \\"user.max_mnt_namespaces\\" is not in a separate kernel namespace');
      // A new user namespace starts with every limit at INT_MAX (kernel/user_namespace.c).
      expect(runMountkit(forMountkit)).toEqual({ status: 0, stdout: '7\n2147483647\n', stderr: '' });
    });
  });

  test("the container id given after run is the id of every hook's state, as under runc (createRuntime, createContainer, startContainer, poststart, poststop)", () => {
    // runc wants an id no container of its has; commas are allowed by both.
    const id = `given-id,${process.pid}`;
    const config = hooksSpec();
    const keep = (name: string, at = 'out') => [{ path: '/bin/sh', args: ['sh', '-c', `cat > ${at}/${name}.json`] }];
    config.hooks = {
      createRuntime: keep('cr'),
      createContainer: keep('cc', '../out'),
      startContainer: keep('sc', '/out'),
      poststart: keep('ps'),
      poststop: keep('pst'),
    };
    withCopies(
      config,
      (forRunc, forMountkit) => {
        const ids = (dir: string) => Object.fromEntries(['cr', 'cc', 'sc', 'ps', 'pst'].map((name) => [name, (JSON.parse(readFileSync(path.join(dir, 'out', `${name}.json`), 'utf8')) as { id: string }).id]));
        const runc = runRunc(forRunc, id);
        expect([runc.status, runc.stderr]).toEqual([0, '']);
        const mk = runMountkit(forMountkit, [id]);
        expect([mk.status, mk.stderr]).toEqual([0, '']);
        expect(ids(forRunc)).toEqual({ cr: id, cc: id, sc: id, ps: id, pst: id });
        expect(ids(forMountkit)).toEqual(ids(forRunc));
      },
      (dir) => mkdirSync(path.join(dir, 'out')),
    );
  });

  test("hooks without an env get runc's defaults: the runtime's own environment for the runtime's hooks, the container's process.env for createContainer, the program's for startContainer; an empty env is none", () => {
    const config = hooksSpec();
    // dash gives itself a PATH when it has none.
    const keep = (name: string, at = 'out', env?: string[]) => ({ path: '/bin/sh', args: ['sh', '-c', `echo "term=\${TERM-unset} home=\${HOME-unset} path=\${PATH-unset}" > ${at}/${name}`], ...(env ? { env } : {}) });
    config.hooks = {
      prestart: [keep('pre')],
      createRuntime: [keep('cr'), keep('cr-empty', 'out', [])],
      createContainer: [keep('cc', '../out')],
      startContainer: [keep('sc', '/out'), keep('sc-empty', '/out', [])],
      poststart: [keep('ps')],
      poststop: [keep('pst')],
    };
    withCopies(
      config,
      (forRunc, forMountkit) => {
        const seen = (dir: string) => Object.fromEntries(['pre', 'cr', 'cr-empty', 'cc', 'sc', 'sc-empty', 'ps', 'pst'].map((name) => [name, readFileSync(path.join(dir, 'out', name), 'utf8').trim()]));
        const id = `hook-env-${process.pid}`;
        const runc = runRunc(forRunc, id);
        expect([runc.status, runc.stderr]).toEqual([0, '']);
        const mk = runMountkit(forMountkit, [id]);
        expect([mk.status, mk.stderr]).toEqual([0, '']);
        // The caller's environment (this test's, which both runtimes were started with).
        const caller = `term=${process.env.TERM ?? 'unset'} home=${process.env.HOME ?? 'unset'} path=${process.env.PATH}`;
        expect(seen(forRunc)).toMatchObject({ pre: caller, cr: caller, ps: caller, pst: caller, cc: expect.stringMatching(/^term=xterm home=unset path=\/usr\/local\/sbin:/), 'cr-empty': expect.stringMatching(/^term=unset home=unset /) });
        expect(seen(forMountkit)).toEqual(seen(forRunc));
      },
      (dir) => mkdirSync(path.join(dir, 'out')),
    );
  });

  test("a descriptor mountkit's caller left open reaches none of the hooks, as none of runc's reaches its hooks", () => {
    const config = hooksSpec();
    // ls holds one descriptor of its own for /proc/self/fd (3).
    const keep = (name: string, at = 'out') => ({ path: '/bin/sh', args: ['sh', '-c', `ls /proc/self/fd | tr '\\n' ' ' > ${at}/${name}`] });
    config.hooks = { prestart: [keep('pre')], createRuntime: [keep('cr')], createContainer: [keep('cc', '../out')], poststart: [keep('ps')], poststop: [keep('pst')] };
    withCopies(
      config,
      (forRunc, forMountkit) => {
        const id = `hook-fds-${process.pid}`;
        // bash: dash redirects one-digit descriptors only.
        const withFd200 = (argv: string[]) => spawnSync('bash', ['-c', 'exec 200</dev/null; exec "$@"', 'bash', ...argv], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
        const runc = withFd200([RUNC!, 'run', '--bundle', forRunc, id]);
        spawnSync(RUNC!, ['delete', '--force', id]);
        expect([runc.status, runc.stderr]).toEqual([0, '']);
        const mk = withFd200([LAUNCHER, 'run', '--bundle', forMountkit, '--seccomp-cache', 'off', id]);
        expect([mk.status, mk.stderr]).toEqual([0, '']);
        const seen = (dir: string, names: string[]) => Object.fromEntries(names.map((name) => [name, readFileSync(path.join(dir, 'out', name), 'utf8').trim()]));
        const runtimeHooks = ['pre', 'cr', 'ps', 'pst'];
        expect(seen(forRunc, runtimeHooks)).toEqual(Object.fromEntries(runtimeHooks.map((name) => [name, '0 1 2 3'])));
        expect(seen(forMountkit, runtimeHooks)).toEqual(seen(forRunc, runtimeHooks));
        // runc's createContainer hooks hold three descriptors of runc's own (its init's); mountkit's none.
        expect(seen(forMountkit, ['cc'])).toEqual({ cc: '0 1 2 3' });
      },
      (dir) => mkdirSync(path.join(dir, 'out')),
    );
  });

  test.each([
    ['its own session keyring, named after the container id, which its owner may search', []],
    ['with --no-new-keyring, the session keyring of its starter', ['--no-new-keyring']],
  ])('the container joins %s, as under runc', (_what, flags) => {
    const id = `keys-${process.pid}`;
    const config = runcSpec();
    // /proc/keys lists the keys a process may view, its own session keyring among them (runc spec masks it).
    config.linux.maskedPaths = config.linux.maskedPaths.filter((p: string) => p !== '/proc/keys');
    config.process.args = ['sh', '-c', `awk '$9 == "_ses.${id}:" { print $5, $6, $7, $8, $9 }' /proc/keys`];
    withCopies(
      config,
      (forRunc, forMountkit) => {
        const runc = spawnSync(RUNC!, ['run', ...flags, '--bundle', forRunc, id], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
        spawnSync(RUNC!, ['delete', '--force', id]);
        const mk = runMountkit(forMountkit, [...flags, id]);
        // A new keyring (possessor all; its owner view, read, link and, added, search: KEY_USR_SEARCH, 0x80000), owned by root.
        expect([runc.status, runc.stdout, runc.stderr]).toEqual([0, flags.length ? '' : `3f1b0000 0 0 keyring _ses.${id}:\n`, '']);
        expect(mk).toEqual({ status: runc.status, stdout: runc.stdout, stderr: '' });
      },
    );
  });

  test('--no-pivot: the rootfs moved onto / and chrooted into, the host proc and sysfs taken away first, with a read-only root, masks and read-only paths (runc run --no-pivot)', () => {
    const id = `no-pivot-${process.pid}`;
    withCopies(runcSpec(), (forRunc, forMountkit) => {
      const runc = spawnSync(RUNC!, ['run', '--no-pivot', '--bundle', forRunc, id], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      spawnSync(RUNC!, ['delete', '--force', id]);
      const mk = runMountkit(forMountkit, ['--no-pivot']);
      expect({ status: runc.status, stderr: runc.stderr }).toEqual({ status: 0, stderr: '' });
      expect({ status: mk.status, stderr: mk.stderr }).toEqual({ status: 0, stderr: '' });
      const a = normalize(runc.stdout.split(forRunc).join('<bundle>'));
      expect(a.mountinfo.length).toBeGreaterThan(10);
      expect(normalize(mk.stdout.split(forMountkit).join('<bundle>'))).toEqual(a);
    });
  });

  test('rnorelatime on an rbind of a noatime tmpfs with a strictatime submount changes nothing, as under runc (mountkit made both relatime)', () => {
    const config = runcSpec();
    config.mounts.push(
      { destination: '/tree', type: 'tmpfs', source: 'tmpfs', options: ['noatime', 'size=1m'] },
      { destination: '/tree/sub', type: 'tmpfs', source: 'tmpfs', options: ['strictatime', 'size=1m'] },
      { destination: '/copy', type: 'bind', source: 'rootfs/tree', options: ['rbind', 'rnorelatime'] },
    );
    const { sections } = compare(config);
    // mountinfo's fields: the mountpoint is the 4th as normalized, its options the 5th; strictatime shows as neither relatime nor noatime.
    const atime = (at: string) => sections.mountinfo.filter((line) => line.split(' ')[3] === at).map((line) => line.split(' ')[4].split(',').filter((o) => /atime$/.test(o)));
    expect([atime('/tree'), atime('/copy'), atime('/tree/sub'), atime('/copy/sub')]).toEqual([[['noatime']], [['noatime']], [[]], [[]]]);
  });

  test('a relative mount destination is taken from / (runtime-spec 1.2), with a warning, as under runc', () => {
    const config = runcSpec();
    config.mounts.push({ destination: 'mnt/rel', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] });
    withCopies(
      config,
      (forRunc, forMountkit) => {
        const runc = runRunc(forRunc);
        const mk = runMountkit(forMountkit);
        expect(runc.status).toBe(0);
        expect(runc.stderr).toContain('mount destination mnt/rel is not absolute');
        expect([mk.status, mk.stderr]).toEqual([0, `mountkit warn: mounts[${config.mounts.length - 1}].destination "mnt/rel" is relative: taken from / as "/mnt/rel" (runtime-spec 1.2), which runc calls deprecated\n`]);
        const a = normalize(runc.stdout.split(forRunc).join('<bundle>'));
        const b = normalize(mk.stdout.split(forMountkit).join('<bundle>'));
        expect(a.mountinfo.filter((line) => line.split(' ')[3] === '/mnt/rel')).toEqual(['/ 0:* / /mnt/rel rw,relatime - tmpfs tmpfs rw,size=1024k']);
        expect(b).toEqual(a);
      },
    );
  });

  test.each<[string, number, string, string[]]>([
    ['stdin', 0, '<&-', ['stdout 0', 'stderr 0', 'stdin 0']],
    ['stdout', 1, '>&-', ['stdout 141', 'stderr 0', 'stdin 0']],
    ['stderr', 2, '2>&-', ['stdout 0', 'stderr 141', 'stdin 0']],
  ])('%s closed when the runtime starts: the container\'s /dev/null under mountkit, where runc run gives a pipe whose other end it has closed (a write dies of SIGPIPE, a read ends) (README.md, "Differences from runc")', (_name, fd, close, runcStatuses) => {
    const config = runcSpec();
    // What each of 0, 1 and 2 is (the container's /dev/null: the same inode), then the status of a write to stdout, to stderr and of a read of stdin.
    config.process.args = [
      'sh',
      '-c',
      'exec 9>/out/seen; n=$(stat -c %d:%i /dev/null); for f in 0 1 2; do if [ "$(stat -L -c %d:%i /proc/$$/fd/$f)" = "$n" ]; then echo "$f /dev/null" >&9; else echo "$f $(stat -L -c %F /proc/$$/fd/$f)" >&9; fi; done; (echo out); echo "stdout $?" >&9; (echo err >&2); echo "stderr $?" >&9; (cat >/dev/null); echo "stdin $?" >&9',
    ];
    config.mounts.push({ destination: '/out', type: 'bind', source: 'out', options: ['rbind'] });
    withCopies(
      config,
      (forRunc, forMountkit) => {
        const id = `closed-${fd}-${process.pid}`;
        const closed = (argv: string[]) => spawnSync('sh', ['-c', `exec "$@" ${close}`, 'sh', ...argv], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
        const runc = closed([RUNC!, 'run', '--bundle', forRunc, id]);
        spawnSync(RUNC!, ['delete', '--force', id]);
        const mk = closed([LAUNCHER, 'run', '--bundle', forMountkit, '--seccomp-cache', 'off', id]);
        const seen = (dir: string) => readFileSync(path.join(dir, 'out', 'seen'), 'utf8').trim().split('\n');
        const statuses = (dir: string) => seen(dir).slice(3);
        expect([runc.status, mk.status]).toEqual([0, 0]);
        // runc run copies the container's pipes onto its own streams; with nowhere to copy one, it closes the pipe.
        expect(seen(forRunc)[fd]).toBe(`${fd} fifo`);
        expect(statuses(forRunc)).toEqual(runcStatuses);
        // mountkit (Node opening /dev/null on it as it starts) gives the container's own /dev/null: writes are taken, a read ends.
        expect(seen(forMountkit)[fd]).toBe(`${fd} /dev/null`);
        expect(statuses(forMountkit)).toEqual(['stdout 0', 'stderr 0', 'stdin 0']);
      },
      (dir) => mkdirSync(path.join(dir, 'out')),
    );
  });

  test('tmpcopyup on a bind is ignored, as under runc, with a warning naming the mount (the bind shows its source, nothing is copied)', () => {
    const config = runcSpec(['echo "== data"; ls /data']);
    config.mounts.push({ destination: '/data', type: 'bind', source: 'rootfs/etc', options: ['rbind', 'tmpcopyup'] });
    withCopies(config, (forRunc, forMountkit) => {
      const runc = runRunc(forRunc);
      const mk = runMountkit(forMountkit);
      expect([runc.status, runc.stderr]).toEqual([0, '']);
      expect([mk.status, mk.stderr]).toEqual([
        0,
        `mountkit warn: mounts[${config.mounts.length - 1}].options "tmpcopyup": ignored: plugin bind, which mounts type "bind", does not do it (builtin:tmpfs does, for a tmpfs)\n`,
      ]);
      const a = normalize(runc.stdout.split(forRunc).join('<bundle>'));
      const b = normalize(mk.stdout.split(forMountkit).join('<bundle>'));
      expect(a.data).toContain('passwd');
      expect(b).toEqual(a);
    });
  });

  test('names that are not valid UTF-8 keep their bytes: tmpcopyup of such entries and link targets, a file bind, a directory rbind, a tmpfs and the cwd through a link to such a name, HOME from /etc/passwd; a lone surrogate in config.json is U+FFFD', () => {
    // Each name as its bytes (od -c), which a UTF-8 decoding of the output would blur.
    const config = runcSpec([
      'echo "== names"; printf "%s\\n" /opt/* /l2/* | od -An -c; readlink /opt/lnk | od -An -c; cat /l2/hosts /l2/d/in-dir; pwd | od -An -c; printf %s "$HOME" | od -An -c; cut -d" " -f5 /proc/self/mountinfo | od -An -c',
    ]);
    config.root.readonly = false;
    config.process.cwd = '/l2/new';
    config.mounts.push(
      { destination: '/opt', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'mode=755'] },
      { destination: '/l2/hosts', type: 'bind', source: 'hosts', options: ['bind', 'ro'] },
      { destination: '/l2/x', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/l2/d', type: 'bind', source: 'data', options: ['rbind', 'ro'] },
      { destination: '/a\ud800b', type: 'bind', source: 'hosts', options: ['bind', 'ro'] },
    );
    const latin1 = (dir: string, name: string) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(name, 'latin1')]);
    const { sections } = compare(config, (dir) => {
      const rootfs = path.join(dir, 'rootfs');
      mkdirSync(path.join(rootfs, 'opt'));
      writeFileSync(latin1(`${rootfs}/opt`, 'f\xff'), 'copied up\n');
      symlinkSync(Buffer.from('t\xfe', 'latin1'), `${rootfs}/opt/lnk`);
      mkdirSync(latin1(rootfs, '\xfe'));
      writeFileSync(latin1(rootfs, '\xfe/hosts'), 'image hosts\n');
      symlinkSync(Buffer.from('\xfe', 'latin1'), `${rootfs}/l2`);
      writeFileSync(path.join(rootfs, 'etc', 'passwd'), Buffer.from('root:x:0:0:root:/h\xffome:/bin/sh\n', 'latin1'));
      writeFileSync(path.join(dir, 'hosts'), 'bound hosts\n');
      mkdirSync(latin1(rootfs, '\xfe/d'));
      mkdirSync(path.join(dir, 'data'));
      writeFileSync(path.join(dir, 'data', 'in-dir'), 'bound dir\n');
    });
    const names = sections.names.join(' ').replace(/\s+/g, ' ');
    expect(names).toContain('/ o p t / f 377');
    expect(names).toContain('t 376');
    expect(names).toContain('bound hosts bound dir');
    expect(names).toContain('/ 376 / d');
    expect(names).toContain('/ 376 / n e w');
    expect(names).toContain('/ h 377 o m e');
    expect(names).toContain('/ 376 / x');
    expect(names).toContain('/ a 357 277 275 b');
  });

  test('bind remounts without a source (runtime-spec makes it optional) change the binds at their destinations, a directory and a file, as under runc', () => {
    const config = runcSpec();
    config.mounts.push(
      { destination: '/data', type: 'bind', source: 'data', options: ['rbind'] },
      { destination: '/data', options: ['bind', 'remount', 'ro', 'nosuid', 'noexec'] },
      { destination: '/etc/hosts', type: 'bind', source: 'hosts', options: ['bind'] },
      { destination: '/etc/hosts', type: 'none', source: '', options: ['remount', 'bind', 'ro', 'nodev'] },
    );
    const { sections } = compare(config, (dir) => {
      mkdirSync(path.join(dir, 'data'));
      writeFileSync(path.join(dir, 'hosts'), 'bound hosts\n');
    });
    const at = (mountpoint: string) => sections.mountinfo.filter((line) => line.split(' ')[3] === mountpoint).map((line) => line.split(' ')[4]);
    expect([at('/data'), at('/etc/hosts')]).toEqual([['ro,nosuid,noexec,relatime'], ['ro,nodev,relatime']]);
  });

  test('an rbind of a tree with submounts', () => {
    const config = runcSpec();
    config.mounts.push(
      { destination: '/tree/sub', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/tree/sub/deeper', type: 'tmpfs', source: 'tmpfs', options: ['size=1m'] },
      { destination: '/copy', type: 'bind', source: 'rootfs/tree', options: ['rbind'] },
      { destination: '/flat', type: 'bind', source: 'rootfs/tree', options: ['bind'] },
    );
    compare(config);
  });

  test("a program named without a slash is found through PATH entries cleaned as text, as runc's Go lookup joins them (a missing /nope/.. passed over, /bin/. as /bin), and a script gets that cleaned path as $0", () => {
    const config = runcSpec();
    config.process.args = ['probe-path'];
    config.process.env = ['PATH=/nope/../sbin:/nope/../bin/.', 'TERM=xterm'];
    const { sections } = compare(config, (dir) => {
      const script = path.join(dir, 'rootfs', 'bin', 'probe-path');
      writeFileSync(script, `#!/bin/sh\necho "== program"; echo "$0"; ${PROBE}\n`);
      chmodSync(script, 0o755);
    });
    expect(sections.program).toEqual(['/bin/probe-path']);
  });

  test("capability names the kernel lacks, an empty one and one with a newline among them, are left out with one warning, as under runc: mountkit quotes each name, so the newline stays inside its line", () => {
    const config = runcSpec();
    config.process.capabilities.bounding.push('', 'CAP_X\nmountkit: forged');
    config.process.capabilities.effective.push('CAP_NOPE');
    withCopies(config, (forRunc, forMountkit) => {
      const runc = runRunc(forRunc);
      const mk = runMountkit(forMountkit);
      expect(runc.status).toBe(0);
      // runc's list is in no set order (a Go map's); it escapes the newline in its logfmt line.
      expect(runc.stderr).toMatch(/ignoring unknown or unavailable capabilities: \[[^\]]*CAP_NOPE[^\]]*\]/);
      expect(runc.stderr).toContain('CAP_X\\nmountkit: forged');
      expect(runc.stderr.trim().split('\n')).toHaveLength(1);
      expect([mk.status, mk.stderr]).toEqual([0, 'mountkit warn [exec]: process.capabilities: ignoring unknown or unavailable "", "CAP_NOPE", "CAP_X\\nmountkit: forged"\n']);
      expect(normalize(mk.stdout.split(forMountkit).join('<bundle>'))).toEqual(normalize(runc.stdout.split(forRunc).join('<bundle>')));
    });
  });

  test("a cwd the container's root may not search but its user may (the user's directory, 0700, of a group the user namespace does not map) is entered once the user has changed, as runc's init enters it", () => {
    const config = runcSpec(['echo "== ids"; id; stat -c "%a %u:%g" .']);
    config.linux.namespaces.push({ type: 'user' });
    config.linux.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
    config.process.user = { uid: 1000, gid: 1000 };
    config.process.cwd = '/home/user';
    // As in the user namespace test above: the mqueue root's group (README.md, "Differences from runc").
    const mqueue = [{ section: 'dev', runc: 'drwxrwxrwt 2 0 65534 40 mqueue', mountkit: 'drwxrwxrwt 2 0 0 40 mqueue' }];
    const { sections } = compare(
      config,
      (dir) => {
        const home = path.join(dir, 'rootfs', 'home', 'user');
        mkdirSync(home, { recursive: true });
        // Owned by the container's uid 1000; its group, the host's 0, is unmapped: root of the namespace lacks CAP_DAC_OVERRIDE over it (user_namespaces(7)).
        chownSync(home, 101000, 0);
        chmodSync(home, 0o700);
      },
      mqueue,
    );
    expect([sections.pwd, sections.ids.map((l) => l.trim())]).toEqual([['/home/user'], ['uid=1000 gid=1000', '700 1000:65534']]);
  });
});
