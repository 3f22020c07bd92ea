/**
 * Random configs run under runc 1.1.5 and under mountkit on the same bundle. Mount lists:
 * tmpfs mounts, directory binds and rbinds, file binds, each with a random set of the
 * flag, atime, recursive-attribute and propagation words runc takes, some nested in an
 * earlier mount of the list (or in a later one, which then covers them), under a
 * read-only or writable root and any root propagation. maskedPaths and readonlyPaths
 * lists: files, directories, missing names and symlinks of /proc, /sys, the image, a bind
 * and a tmpfs, a path in both lists. linux.devices lists (character devices and FIFOs,
 * modes, owners, in directories /dev lacks, over default devices, with or without a /dev
 * tmpfs) beside tmpcopyup tmpfs mounts over the image's directories or a new one. proc,
 * sysfs, mqueue and devpts mounts with random flag and atime words (proc also with
 * hidepid, subset and gid, devpts with newinstance, ptmxmode, mode and gid), at their
 * usual destinations or others, in any order, with or without network and IPC namespaces
 * of the container's own. The mount lists again, with `--no-pivot` given to both.
 * process fields: cwd, uid, gid, additionalGids, umask, environment. overlay mounts: lower
 * layers of the image, of the bundle and of the host, with an upper layer on a tmpfs, in
 * the image or none, flag, atime and propagation words, nested in an earlier tmpfs or
 * bind. cgroup mounts at /sys/fs/cgroup or elsewhere, with flag and atime words, with or
 * without a cgroup namespace and a sysfs before or after them. A user namespace (root
 * to root, or a range whose first id owns the rootfs or not) with mount lists, a bind of
 * a mount whose flags the namespace locks, proc, sysfs, mqueue and devpts mounts, with
 * or without network and IPC namespaces. Both runtimes must start the program or both
 * refuse; when they start it, the container must see the same mount table, modes, owners and
 * writes. The seed is fixed, so every run tries the same configs (MOUNTKIT_TEST_SEED
 * tries others); a failure prints the config's draw (fast-check's counterexample),
 * unshrunk.
 */
import * as fc from 'fast-check';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { LAUNCHER } from '../helpers/cli';
import { BUSYBOX, PROBE, RUNC, busyboxConfig, normalize } from './harness';
import { sideBySide, type Comparison, type Runners } from './side-by-side';

const available = Boolean(RUNC && BUSYBOX) && process.getuid?.() === 0;
const maybe = available ? describe : describe.skip;

const SEED = Number(process.env.MOUNTKIT_TEST_SEED ?? 20261201);
const RUNS = 24;

const FLAGS = ['ro', 'rw', 'nosuid', 'nodev', 'noexec', 'suid', 'dev', 'exec', 'nodiratime'];
const ATIMES = ['noatime', 'relatime', 'strictatime', 'norelatime'];
const PROPAGATIONS = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared', 'unbindable', 'runbindable'];
// At most one word of each group: conflicting recursive words end with the last one under
// mountkit, as under runc 1.2, where runc 1.1.5 lets a set win over a clear or ORs two
// atime values (README.md, "Differences from runc 1.1.5").
const RECURSIVE_GROUPS = [['rro', 'rrw'], ['rnosuid'], ['rnodev'], ['rnoexec'], ['rnoatime', 'rrelatime', 'rstrictatime'], ['rnodiratime']];
const RECURSIVE = RECURSIVE_GROUPS.flat();
const MODES = ['mode=755', 'mode=700', 'mode=1777', 'mode=0555'];
const SIZES = ['size=1m', 'size=64k', 'size=10%'];

type Kind = 'tmpfs' | 'bind' | 'rbind' | 'file';

interface Drawn {
  kind: Kind;
  /** An earlier or later entry of the list to nest in (modulo the list's length), or none. */
  parent: number | null;
  words: string[];
}

const drawn: fc.Arbitrary<Drawn> = fc.record({
  kind: fc.constantFrom<Kind>('tmpfs', 'bind', 'rbind', 'file'),
  parent: fc.option(fc.nat(5), { freq: 2 }),
  words: fc.tuple(
    fc.subarray(FLAGS, { maxLength: 3 }),
    fc.option(fc.constantFrom(...ATIMES)),
    fc.option(fc.constantFrom(...PROPAGATIONS), { freq: 2 }),
    fc.tuple(...RECURSIVE_GROUPS.map((group) => fc.option(fc.constantFrom(...group), { freq: 4 }))).map((picked) => picked.filter((w): w is string => w !== null)),
    fc.option(fc.constantFrom(...MODES)),
    fc.option(fc.constantFrom(...SIZES)),
  ).map(([flags, atime, propagation, recursive, mode, size]) => [...flags, ...(atime ? [atime] : []), ...(propagation ? [propagation] : []), ...recursive, ...(mode ? [mode] : []), ...(size ? [size] : [])]),
});

const ROOTFS_PROPAGATIONS = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'];

/** A mount list under a read-only or writable root, with a root propagation of `propagations` or none. */
function mountSetup(propagations: readonly string[]) {
  return fc.record({
    mounts: fc.array(drawn, { minLength: 1, maxLength: 6 }),
    readonlyRoot: fc.boolean(),
    rootfsPropagation: fc.option(fc.constantFrom(...propagations)),
  });
}

const setup = mountSetup(ROOTFS_PROPAGATIONS);

interface Listed {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

/**
 * The config's mounts: entry i at /m<i>, or under the destination of the directory mount
 * it nests in; a tmpfs keeps its mode and size words, a bind drops them (runc passes them
 * to a bind as data, which a bind ignores), recursive words go to binds only (runc 1.1.5
 * refuses them elsewhere). Nothing nests in a later tmpfs, whose destination would then
 * exist when it is mounted: runc 1.1.5 chmods such a tmpfs to the directory's mode even
 * when its options give one, and mountkit passes the directory's mode as `mode=` when
 * they give none, as runc 1.1.8 does (README.md, "Differences from runc 1.1.5").
 */
function listed(mounts: readonly Drawn[]): Listed[] {
  const destinations: string[] = [];
  return mounts.map((m, i) => {
    const parentIndex = m.parent === null ? null : m.parent % mounts.length;
    const parent = parentIndex !== null && parentIndex !== i && mounts[parentIndex].kind !== 'file' && (parentIndex < i || mounts[parentIndex].kind !== 'tmpfs') ? parentIndex : null;
    const under = parent === null ? '' : parent < i ? destinations[parent] : `/m${parent}`;
    const destination = `${under}/m${i}`;
    destinations.push(destination);
    const words = m.words.filter((w) => (m.kind === 'tmpfs' ? !RECURSIVE.includes(w) : !w.startsWith('mode=') && !w.startsWith('size=')));
    if (m.kind === 'tmpfs') return { destination, type: 'tmpfs', source: 'tmpfs', options: words };
    const bind = m.kind === 'rbind' ? 'rbind' : 'bind';
    return { destination, type: 'bind', source: m.kind === 'file' ? `src/f${i}` : `src/d${i}`, options: [bind, ...words] };
  });
}

/**
 * What the container prints beyond the probe, in sections `${section}` and `writes`: each
 * path's mode, owner and type, or that it is missing (under a mount that covers it); and,
 * for each of `writable`, whether it can be written (a file made in it, for a directory).
 */
function statsAndWrites(section: string, all: readonly string[], writable: readonly string[]): string {
  return [
    `echo "== ${section}"; for p in ${all.join(' ')}; do stat -c "%n %a %u %g %F" "$p" 2>/dev/null || echo "$p missing"; done`,
    `echo "== writes"; for p in ${writable.join(' ')}; do if [ -d "$p" ]; then t="$p/.w"; else t="$p"; fi; if (echo x >>"$t") 2>/dev/null; then echo "$p writable"; else echo "$p not"; fi; done`,
  ].join('; ');
}

/** statsAndWrites of each mount's destination, all of them tried for writes. */
function inspect(mounts: readonly Listed[]): string {
  const dests = mounts.map((m) => m.destination);
  return statsAndWrites('destinations', dests, dests);
}

type Sections = Record<string, string[]>;

/**
 * A draw made into a run of sideBySide: the config, what `prepare` adds to its bundle,
 * checks of runc's sections (`checked`), a normalization of a documented difference applied
 * to both (`both`), and the runners (default: runc and mountkit as they are).
 */
type Args = [config: Record<string, any>, prepare: (bundle: string) => void, checked: (out: Sections) => void, both?: (out: Sections) => Sections, runners?: Runners];

/**
 * The comparison of these properties: both runtimes start the program or both refuse (two
 * refusals pass unread); when they start it, the same probe sections, normalized as the
 * conformance tests do, then by `both`; `checked` first, on runc's.
 */
function probed(checked: (out: Sections) => void, both: (out: Sections) => Sections = (out) => out, runners?: Runners): Comparison<Sections> {
  return { view: (stdout) => both(normalize(stdout)), checked, refusals: 'pass', runners };
}

/**
 * Paths a masked or read-only list may name: files, directories and missing names of
 * /proc and /sys, of the image, of a bind and of a tmpfs, symlinks of the image. `write`:
 * whether the probe tries to write there (never in /proc or /sys).
 */
const PATHS: { path: string; write: boolean }[] = [
  { path: '/proc/kcore', write: false },
  { path: '/proc/keys', write: false },
  { path: '/proc/acpi', write: false },
  { path: '/proc/scsi', write: false },
  { path: '/proc/sys', write: false },
  { path: '/proc/sys/kernel', write: false },
  { path: '/proc/sysrq-trigger', write: false },
  { path: '/proc/bus', write: false },
  { path: '/proc/nope', write: false },
  { path: '/sys/firmware', write: false },
  { path: '/sys/kernel', write: false },
  { path: '/sys/fs/nope', write: false },
  { path: '/etc/passwd', write: true },
  { path: '/etc', write: true },
  { path: '/tmp', write: true },
  { path: '/nope', write: true },
  { path: '/data', write: true },
  { path: '/data/file', write: true },
  { path: '/data/nope', write: true },
  { path: '/scratch', write: true },
  { path: '/scratch/nope', write: true },
  { path: '/link', write: true },
  { path: '/dangling', write: true },
];

/** Device numbers a `linux.devices` entry may give: null, zero, full, urandom, tty, tun (c), a FIFO (p). */
const DEVICES = [
  { type: 'c', major: 1, minor: 3 },
  { type: 'c', major: 1, minor: 5 },
  { type: 'c', major: 1, minor: 7 },
  { type: 'c', major: 1, minor: 9 },
  { type: 'c', major: 5, minor: 0 },
  { type: 'c', major: 10, minor: 200 },
  { type: 'p', major: 0, minor: 0 },
];

/**
 * Where a device may go: under /dev (mountkit refuses a path elsewhere, where runc makes
 * the node: README.md, "Differences from runc 1.1.5"), in a directory /dev lacks or over a
 * default device. Not at /dev/null, /dev/random, /dev/urandom or /dev/full: runc then
 * leaves that device out of the cgroup rules it allows by default, and its own reopening
 * of /dev/null fails (EPERM) or the device is denied to the container; mountkit makes no
 * cgroup.
 */
const DEVICE_PATHS = ['/dev/a', '/dev/sub/b', '/dev/zero', '/dev/net/tun', '/dev/pts/q', '/dev/shm/s', '/dev/tty'];

const devicesAndCopies = fc.record({
  devices: fc.array(
    fc.record({
      device: fc.constantFrom(...DEVICES),
      path: fc.constantFrom(...DEVICE_PATHS),
      fileMode: fc.option(fc.constantFrom(0o666, 0o600, 0o620, 0o4755)),
      uid: fc.option(fc.constantFrom(0, 1000)),
      gid: fc.option(fc.constantFrom(0, 5)),
    }),
    { maxLength: 4 },
  ),
  devTmpfs: fc.boolean(),
  copyUp: fc.subarray(['/etc', '/bin', '/tmp', '/new'], { maxLength: 2 }),
  readonlyRoot: fc.boolean(),
});

/** Each file's mode, owner, type, size and device numbers: for the devices' paths, and everything in each tmpcopyup directory. */
function inspectFiles(devicePaths: readonly string[], copied: readonly string[]): string {
  const stat = 'stat -c "%n %a %u %g %F %s %t:%T"';
  return [
    `echo "== devices"; for p in ${[...devicePaths, '/dev/sub', '/dev/net'].join(' ')}; do ${stat} "$p" 2>/dev/null || echo "$p missing"; done`,
    `echo "== copied"; for d in ${[...copied, '/'].join(' ')}; do find "$d" -xdev -maxdepth 1 | sort | while read -r f; do ${stat} "$f"; done; done`,
  ].join('; ');
}

/**
 * A tmpfs over an existing directory (tmpcopyup's over /etc, /bin and /tmp) shows the
 * directory's mode as `mode=` under mountkit, which passes it in the mount's data as runc
 * 1.1.8 does; runc 1.1.5 chmods the tmpfs's root instead (README.md, "Differences from
 * runc 1.1.5"). The root's mode, compared in the files, is the same either way.
 */
function withoutTmpfsModes(out: Record<string, string[]>): Record<string, string[]> {
  return { ...out, mountinfo: out.mountinfo.map((line) => (/ - tmpfs /.test(line) ? line.replace(/,mode=\d+/, '') : line)) };
}

const pathLists = fc.record({
  masked: fc.shuffledSubarray(PATHS, { maxLength: 5 }),
  readonly: fc.shuffledSubarray(PATHS, { maxLength: 5 }),
  readonlyRoot: fc.boolean(),
  sysfsReadonly: fc.boolean(),
});

/** statsAndWrites of each path named, those with `write` tried for writes. */
function inspectPaths(paths: readonly { path: string; write: boolean }[]): string {
  return statsAndWrites('paths', paths.map((p) => p.path), paths.filter((p) => p.write).map((p) => p.path));
}

/**
 * One property of sideBySide: `RUNS` draws of `arb` (fewer: `runs`), each made into a
 * run by `args` and compared as `probed` says, with the fixed seed, the first failure ending it.
 * Most draws must start: a comparison of refusals alone would say little.
 */
function sideBySideProperty<T>(arb: fc.Arbitrary<T>, args: (draw: T) => Args, runs = RUNS): void {
  let started = 0;
  fc.assert(
    fc.property(arb, (draw) => {
      const [config, prepare, checked, both, runners] = args(draw);
      if (sideBySide(config, prepare, probed(checked, both, runners))) started++;
    }),
    { seed: SEED, numRuns: runs, endOnFailure: true },
  );
  expect(started).toBeGreaterThan(runs / 2);
}

/** The run (Args) for a draw of `setup`: its mounts listed, each destination inspected. */
function mountListArgs({ mounts, readonlyRoot, rootfsPropagation }: { mounts: Drawn[]; readonlyRoot: boolean; rootfsPropagation: string | null }): Args {
  const list = listed(mounts);
  const config = busyboxConfig(['sh', '-c', `${PROBE}; ${inspect(list)}`]);
  config.root.readonly = readonlyRoot;
  if (rootfsPropagation !== null) config.linux.rootfsPropagation = rootfsPropagation;
  config.mounts.push(...list);
  const prepare = (dir: string): void => {
    list.forEach((m, i) => {
      if (m.source === `src/f${i}`) {
        mkdirSync(path.join(dir, 'src'), { recursive: true });
        writeFileSync(path.join(dir, m.source), 'file\n');
      } else if (m.type === 'bind') {
        mkdirSync(path.join(dir, m.source), { recursive: true });
      }
    });
  };
  return [config, prepare, (out) => expect(out.destinations).toHaveLength(list.length)];
}

maybe('random mount lists: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts', () => {
    sideBySideProperty(setup, mountListArgs);
  }, 600_000);
});

maybe('random masked and read-only paths: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts, files and writes', () => {
    sideBySideProperty(pathLists, ({ masked, readonly, readonlyRoot, sysfsReadonly }) => {
      const config = busyboxConfig(['sh', '-c', `${PROBE}; ${inspectPaths([...masked, ...readonly])}`]);
      config.root.readonly = readonlyRoot;
      config.mounts.push(
        { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', ...(sysfsReadonly ? ['ro'] : [])] },
        { destination: '/data', type: 'bind', source: 'data', options: ['rbind'] },
        { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] },
      );
      config.linux.namespaces.push({ type: 'network' });
      config.linux.maskedPaths = masked.map((p) => p.path);
      config.linux.readonlyPaths = readonly.map((p) => p.path);
      const prepare = (dir: string): void => {
        mkdirSync(path.join(dir, 'data'));
        writeFileSync(path.join(dir, 'data', 'file'), 'data\n');
        symlinkSync('/etc/passwd', path.join(dir, 'rootfs', 'link'));
        symlinkSync('/nonexistent', path.join(dir, 'rootfs', 'dangling'));
      };
      return [config, prepare, (out) => expect(out.paths).toHaveLength(masked.length + readonly.length)];
    });
  }, 600_000);
});

maybe('random devices and tmpcopyup: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts, device nodes and copied files', () => {
    sideBySideProperty(devicesAndCopies, ({ devices, devTmpfs, copyUp, readonlyRoot }) => {
      const paths = [...new Set(devices.map((d) => d.path))];
      const config = busyboxConfig(['sh', '-c', `${PROBE}; ${inspectFiles(paths, copyUp)}`]);
      config.root.readonly = readonlyRoot;
      if (!devTmpfs) config.mounts = config.mounts.filter((m: Listed) => m.destination !== '/dev');
      config.linux.devices = devices.map((d) => ({
        path: d.path,
        ...d.device,
        ...(d.fileMode === null ? {} : { fileMode: d.fileMode }),
        ...(d.uid === null ? {} : { uid: d.uid }),
        ...(d.gid === null ? {} : { gid: d.gid }),
      }));
      for (const dir of copyUp) config.mounts.push({ destination: dir, type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid'] });
      const prepare = (dir: string): void => {
        writeFileSync(path.join(dir, 'rootfs', 'etc', 'motd'), 'motd\n');
        chmodSync(path.join(dir, 'rootfs', 'etc', 'motd'), 0o640);
        mkdirSync(path.join(dir, 'rootfs', 'etc', 'sub'), 0o700);
        symlinkSync('motd', path.join(dir, 'rootfs', 'etc', 'link'));
      };
      return [config, prepare, (out) => expect(out.devices.length).toBeGreaterThanOrEqual(2), withoutTmpfsModes];
    });
  }, 600_000);
});

/** Flag and atime words a proc, sysfs, mqueue or devpts mount may take. */
const PSEUDO_FLAGS = ['nosuid', 'nodev', 'noexec', 'ro', 'rw'];
const PSEUDO_ATIMES = ['relatime', 'noatime'];

const pseudoWords = fc
  .tuple(fc.shuffledSubarray(PSEUDO_FLAGS, { maxLength: 3 }), fc.option(fc.constantFrom(...PSEUDO_ATIMES)))
  .map(([flags, atime]) => [...flags, ...(atime ? [atime] : [])]);

/**
 * Not a sysfs at /proc, which mountkit refuses and runc 1.1.5 mounts (README.md,
 * "Differences from runc 1.1.5"); no proc under /dev, where `ls -ln /dev` would show its
 * root's link count, which counts every process of the host (proc_root_getattr).
 */
const pseudoMounts = fc.record({
  /** /proc replaces the default proc's words; elsewhere, a second proc beside it. */
  proc: fc.record({
    at: fc.constantFrom('/proc', '/altproc', '/mnt/proc'),
    words: fc.tuple(pseudoWords, fc.subarray(['hidepid=2', 'hidepid=invisible', 'subset=pid', 'gid=5'], { maxLength: 2 })).map(([words, data]) => [...words, ...data]),
  }),
  /** A sort key for each mount of the config, the default /proc and /dev among them (ties keep the config's order). */
  order: fc.array(fc.nat(10), { minLength: 6, maxLength: 6 }),
  sysfs: fc.option(fc.record({ at: fc.constantFrom('/sys', '/altsys', '/dev/sys'), words: pseudoWords }), { freq: 5 }),
  network: fc.boolean(),
  mqueue: fc.option(fc.record({ at: fc.constantFrom('/dev/mqueue', '/mq', '/dev/shm'), words: pseudoWords }), { freq: 5 }),
  ipc: fc.boolean(),
  devpts: fc.option(
    fc.record({
      at: fc.constantFrom('/dev/pts', '/pts'),
      words: pseudoWords,
      data: fc
        .tuple(
          fc.boolean(),
          fc.option(fc.constantFrom<string>('ptmxmode=0666', 'ptmxmode=0000', 'ptmxmode=0620')),
          fc.option(fc.constantFrom<string>('mode=0620', 'mode=600')),
          fc.option(fc.constantFrom<string>('gid=5', 'gid=0', 'gid=1000')),
        )
        .map(([newinstance, ...rest]) => [...(newinstance ? ['newinstance'] : []), ...rest.filter((w): w is string => w !== null)]),
    }),
    { freq: 5 },
  ),
  readonlyRoot: fc.boolean(),
});

/**
 * What the container prints beyond the probe of each pseudo mount, by type: every
 * destination's mode, owner and type; whether its own comm can be written through each
 * proc; the network interfaces each sysfs shows; the mode and owner of a queue made in
 * each mqueue (only in an IPC namespace of the container's own: in the host's, the queue
 * would outlive the run); the ptmx of each devpts.
 */
function inspectPseudo(at: { proc: string[]; sysfs: string[]; mqueue: string[]; devpts: string[] }, ipc: boolean): string {
  const stat = 'stat -c "%n %a %u %g %F %t:%T"';
  const all = [...at.proc, ...at.sysfs, ...at.mqueue, ...at.devpts];
  return [
    `echo "== destinations"; for p in ${all.join(' ')}; do ${stat} "$p" 2>/dev/null || echo "$p missing"; done`,
    `echo "== proc"; for p in ${at.proc.join(' ')}; do if (echo probe >"$p/self/comm") 2>/dev/null; then echo "$p writable"; else echo "$p not"; fi; done`,
    `echo "== sysfs"; for p in ${at.sysfs.join(' ')}; do echo "$p:" $(ls "$p/class/net" 2>&1 | sort); done`,
    `echo "== mqueue"; for p in ${ipc ? at.mqueue.join(' ') : ''}; do if touch "$p/q" 2>/dev/null; then ${stat} "$p/q"; else echo "$p/q not made"; fi; done`,
    `echo "== devpts"; for p in ${at.devpts.join(' ')}; do ${stat} "$p/ptmx" 2>/dev/null || echo "$p/ptmx missing"; done`,
  ].join('; ');
}

maybe('random proc, sysfs, mqueue and devpts mounts: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts, modes and owners', () => {
    sideBySideProperty(pseudoMounts, ({ proc, order, sysfs, network, mqueue, ipc, devpts, readonlyRoot }) => {
      const at = { proc: [proc.at], sysfs: sysfs ? [sysfs.at] : [], mqueue: mqueue ? [mqueue.at] : [], devpts: devpts ? [devpts.at] : [] };
      const config = busyboxConfig(['sh', '-c', `${PROBE}; ${inspectPseudo(at, ipc)}`]);
      config.root.readonly = readonlyRoot;
      if (proc.at === '/proc') config.mounts[0].options = proc.words;
      else config.mounts.push({ destination: proc.at, type: 'proc', source: 'proc', options: proc.words });
      if (sysfs) config.mounts.push({ destination: sysfs.at, type: 'sysfs', source: 'sysfs', options: sysfs.words });
      if (mqueue) config.mounts.push({ destination: mqueue.at, type: 'mqueue', source: 'mqueue', options: mqueue.words });
      if (devpts) config.mounts.push({ destination: devpts.at, type: 'devpts', source: 'devpts', options: [...devpts.words, ...devpts.data] });
      if (network) config.linux.namespaces.push({ type: 'network' });
      if (!ipc) config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc');
      const keyed: { key: number; index: number; mount: Listed }[] = config.mounts.map((mount: Listed, index: number) => ({ key: order[index], index, mount }));
      config.mounts = keyed.sort((a, b) => a.key - b.key || a.index - b.index).map((k) => k.mount);
      return [config, () => undefined, (out) => expect(out.destinations).toHaveLength(Object.values(at).flat().length)];
    });
  }, 600_000);
});

let noPivotRuns = 0;

/**
 * `runc run --no-pivot` and `mountkit run --no-pivot`, each started by unshare(1) in a
 * mount namespace of its own whose mounts are all private: with a shared root
 * (`linux.rootfsPropagation` `shared`) runc 1.1.5 detaches the proc and sysfs mounts and
 * moves the rootfs over `/` in the namespace it was started in too (README.md,
 * "Differences from runc 1.1.5"), which must not be the host's.
 */
const noPivot: Runners = {
  runc: (bundle) => {
    const id = `mountkit-conf-no-pivot-${process.pid}-${noPivotRuns++}`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', RUNC!, 'run', '--no-pivot', '--bundle', bundle, id], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    spawnSync(RUNC!, ['delete', '--force', id], { encoding: 'utf8' });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  },
  mountkit: (bundle) => {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', LAUNCHER, 'run', '--bundle', bundle, '--seccomp-cache', 'off', '--no-pivot'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  },
};

maybe('random mount lists with --no-pivot: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts', () => {
    // No private or rprivate root propagation: both refuse it with --no-pivot, as runc 1.1.5's
    // config validation does (unsafe without pivot_root), and fewer draws would start. 16
    // draws, not RUNS: each is slower, with unshare(1) in front of each runtime.
    const noPivotSetup = mountSetup(ROOTFS_PROPAGATIONS.filter((p) => !p.endsWith('private')));
    sideBySideProperty(noPivotSetup, (draw) => {
      const [config, prepare, checked] = mountListArgs(draw);
      return [config, prepare, checked, undefined, noPivot];
    }, 16);
  }, 600_000);
});

/**
 * process fields: the cwd (the image's, a tmpfs, missing directories, a file, a symlink to
 * a directory), the user's uid, gid, additionalGids and umask, the environment (repeated
 * names, empty values, a value holding `=`, HOME given or not), under a read-only or
 * writable root, with or without --no-pivot. Not a cwd that is a symlink whose target is
 * missing: mountkit makes the target, runc 1.1.5 fails (`mkdir /l: file exists`, README.md,
 * "Differences from runc 1.1.5").
 */
const processFields = fc.record({
  cwd: fc.constantFrom('/', '/w', '/new/dir', '/etc/passwd', '/link', '/home/u'),
  uid: fc.constantFrom(0, 1000, 65534),
  gid: fc.constantFrom(0, 100, 1000),
  additionalGids: fc.option(fc.shuffledSubarray([5, 100, 1000, 0], { maxLength: 3 })),
  umask: fc.option(fc.constantFrom(0, 0o22, 0o77, 0o27, 0o2)),
  env: fc.shuffledSubarray(['A=1', 'A=2', 'B=', 'PATH=/usr/bin:/bin', 'HOME=/root', 'C=x=y', 'HOME=/h'], { maxLength: 5 }),
  readonlyRoot: fc.boolean(),
  noPivot: fc.boolean(),
});

/**
 * What the container prints beyond the probe: its ids, its environment sorted (a name
 * given twice stands where it last stands under mountkit, where it first stands under
 * runc 1.1.5: README.md, "Differences from runc 1.1.5"), the cwd's and the made
 * directories' modes and owners, and the mode and owner of a file made in /w, a tmpfs of
 * mode 1777 at a new directory (over an existing one, runc 1.1.5 would chmod it to the
 * directory's mode: a documented difference too).
 */
const INSPECT_PROCESS = [
  'echo "== id"; id',
  'echo "== env"; env | sort',
  'echo "== cwd"; stat -c "%n %a %u %g %F" "$PWD" /new /new/dir /home /home/u 2>&1',
  'echo "== made"; if (echo x >/w/made) 2>/dev/null; then stat -c "%a %u %g" /w/made; else echo not; fi',
].join('; ');

maybe('random process fields: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and give it the same ids, environment, cwd and umask', () => {
    sideBySideProperty(processFields, ({ cwd, uid, gid, additionalGids, umask, env, readonlyRoot, noPivot: withoutPivot }) => {
      const config = busyboxConfig(['sh', '-c', `${PROBE}; ${INSPECT_PROCESS}`]);
      config.root.readonly = readonlyRoot;
      config.process.cwd = cwd;
      config.process.user = { uid, gid, ...(additionalGids ? { additionalGids } : {}), ...(umask === null ? {} : { umask }) };
      config.process.env = ['PATH=/bin', ...env];
      config.mounts.push({ destination: '/w', type: 'tmpfs', source: 'tmpfs', options: ['mode=1777'] });
      const prepare = (dir: string): void => symlinkSync('/etc', path.join(dir, 'rootfs', 'link'));
      return [config, prepare, (out) => expect(out.id).toHaveLength(1), undefined, withoutPivot ? noPivot : undefined];
    });
  }, 600_000);
});

let afterRuns = 0;

/**
 * Runners that start each runtime through unshare(1) in a mount namespace of its own whose
 * mounts are all private, after `setup` (a shell script; `$1` is the bundle's copy) made
 * mounts there that the bundle cannot hold itself: an overlay's upper layer on a tmpfs, a
 * bind source whose mount has flags the container's user namespace then locks. A
 * `setup` that fails ends the test (exit 125), which would otherwise pass as two refusals.
 */
function startedAfter(setup: string): Runners {
  const wrap = (bundle: string, argv: string[]) => {
    const script = `${setup} || exit 125; shift; exec "$@"`;
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script, 'sh', bundle, ...argv], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.status === 125) throw new Error(`runner setup failed: ${r.stderr.trim()}`);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    runc: (bundle) => {
      const id = `mountkit-conf-after-${process.pid}-${afterRuns++}`;
      try {
        return wrap(bundle, [RUNC!, 'run', '--bundle', bundle, id]);
      } finally {
        spawnSync(RUNC!, ['delete', '--force', id], { encoding: 'utf8' });
      }
    },
    mountkit: (bundle) => wrap(bundle, [LAUNCHER, 'run', '--bundle', bundle, '--seccomp-cache', 'off']),
  };
}

/** Lower layers: directories of the image (relative to the rootfs, as runc takes them), one of the bundle beside it, one of the host by an absolute path. */
const LOWERS = ['lower/a', 'lower/b', '../lower', '<host>'];

/**
 * overlay mounts: one to three lower layers, an upper and work directory on a tmpfs (one
 * the runner mounts at the bundle's `layers`), in the image, or none; flag, atime and
 * propagation words; at /ov or nested in an earlier tmpfs or bind of the list; under a
 * read-only or writable root.
 */
const overlays = fc.record({
  lowers: fc.shuffledSubarray(LOWERS, { minLength: 1, maxLength: 3 }),
  upper: fc.option(fc.constantFrom('tmpfs', 'image'), { freq: 4 }),
  parent: fc.option(fc.constantFrom<Kind>('tmpfs', 'bind', 'rbind')),
  words: fc
    .tuple(fc.subarray(FLAGS, { maxLength: 3 }), fc.option(fc.constantFrom(...ATIMES)), fc.option(fc.constantFrom(...PROPAGATIONS), { freq: 2 }))
    .map(([flags, atime, propagation]) => [...flags, ...(atime ? [atime] : []), ...(propagation ? [propagation] : [])]),
  readonlyRoot: fc.boolean(),
});

let hostLower: string | undefined;

/** The host directory a `<host>` lower layer names, made once (removed in afterAll): a file of its own and one the others have too. */
function hostLowerDir(): string {
  if (!hostLower) {
    hostLower = mkdtempSync(path.join(tmpdir(), 'mountkit-conf-lower-'));
    chmodSync(hostLower, 0o755);
    writeFileSync(path.join(hostLower, 'h'), 'host\n');
    writeFileSync(path.join(hostLower, 'f'), 'host f\n');
  }
  return hostLower;
}

/**
 * What the container prints beyond the probe of an overlay at `at`: the modes and owners
 * of its root and files (from one layer or several), their contents, whether each can be
 * written (a copy-up when there is an upper layer), and the contents after the writes.
 */
function inspectOverlay(at: string): string {
  const files = ['f', 'g', 'h', 'l'].map((f) => `${at}/${f}`);
  return [
    statsAndWrites('overlay', [at, ...files], [at, `${at}/f`, `${at}/h`]),
    `echo "== reads"; for p in ${files.join(' ')}; do echo "$p: $(cat "$p" 2>&1)"; done`,
  ].join('; ');
}

maybe('random overlay mounts: runc 1.1.5 and mountkit', () => {
  afterAll(() => {
    if (hostLower) rmSync(hostLower, { recursive: true, force: true });
  });

  test('start the program or refuse alike, and show the container the same mounts, modes and reads and writes through the overlay', () => {
    sideBySideProperty(overlays, ({ lowers, upper, parent, words, readonlyRoot }) => {
      const at = parent === null ? '/ov' : '/p/ov';
      const config = busyboxConfig(['sh', '-c', `${PROBE}; ${inspectOverlay(at)}`]);
      config.root.readonly = readonlyRoot;
      if (parent === 'tmpfs') config.mounts.push({ destination: '/p', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      else if (parent !== null) config.mounts.push({ destination: '/p', type: 'bind', source: 'src', options: [parent] });
      const layers = upper === 'tmpfs' ? ['upperdir=../layers/upper', 'workdir=../layers/work'] : upper === 'image' ? ['upperdir=layers/upper', 'workdir=layers/work'] : [];
      const lowerdir = lowers.map((l) => (l === '<host>' ? hostLowerDir() : l)).join(':');
      config.mounts.push({ destination: at, type: 'overlay', source: 'overlay', options: [...words, `lowerdir=${lowerdir}`, ...layers] });
      const prepare = (dir: string): void => {
        const rootfs = path.join(dir, 'rootfs');
        for (const [layer, files] of [['rootfs/lower/a', { f: 'a f\n', g: 'a g\n' }], ['rootfs/lower/b', { f: 'b f\n', l: 'b l\n' }], ['lower', { g: 'bundle g\n' }]] as const) {
          mkdirSync(path.join(dir, layer), { recursive: true });
          for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, layer, name), text);
        }
        chmodSync(path.join(rootfs, 'lower', 'a', 'f'), 0o640);
        chmodSync(path.join(rootfs, 'lower', 'b'), 0o750);
        mkdirSync(path.join(rootfs, 'layers', 'upper'), { recursive: true });
        mkdirSync(path.join(rootfs, 'layers', 'work'));
        mkdirSync(path.join(dir, 'src'));
        mkdirSync(path.join(dir, 'layers'));
      };
      const runners = startedAfter(upper === 'tmpfs' ? 'mount -t tmpfs -o size=1m tmpfs "$1/layers" && mkdir "$1/layers/upper" "$1/layers/work"' : 'true');
      return [config, prepare, (out) => expect(out.overlay).toHaveLength(5), undefined, runners];
    });
  }, 600_000);
});

/**
 * cgroup mounts: at /sys/fs/cgroup or elsewhere, with flag and atime words, with or
 * without a cgroup namespace of the container's own, with or without a sysfs at /sys
 * before or after it, with or without a network namespace, under a read-only or writable
 * root.
 */
const cgroupMounts = fc.record({
  at: fc.constantFrom('/sys/fs/cgroup', '/cg', '/dev/cgroup', '/sys/fs/cgroup/sub'),
  words: pseudoWords,
  cgroupns: fc.boolean(),
  sysfs: fc.option(fc.record({ words: pseudoWords, first: fc.boolean() }), { freq: 3 }),
  network: fc.boolean(),
  readonlyRoot: fc.boolean(),
});

/**
 * What the container prints beyond the probe of a cgroup mount at `at`: the mode, owner
 * and type of its root and of each hierarchy in it, and whether a file can be made in its
 * root (the tmpfs runc and mountkit put there on a cgroup v1 host; nothing is written in a
 * hierarchy, where a directory would be a cgroup of the host's).
 */
function inspectCgroup(at: string): string {
  return [`echo "== cgroup"; for p in ${at} ${at}/*; do stat -c "%n %a %u %g %F" "$p" 2>/dev/null || echo "$p missing"; done`, statsAndWrites('root', [at], [at])].join('; ');
}

/**
 * The hierarchies' modes taken out: each is the directory of the runtime's own cgroup,
 * one runc made per container (0755) and, under mountkit, which makes none, the cgroup
 * it was started in, the hierarchy's root (0555) on this host (README.md, "Differences
 * from runc 1.1.5": the cgroup mounts show mountkit's own cgroup).
 */
function withoutHierarchyModes(out: Record<string, string[]>): Record<string, string[]> {
  return { ...out, cgroup: out.cgroup.map((line, i) => (i === 0 ? line : line.replace(/^(\S+) \d+ /, '$1 * '))) };
}

/**
 * The mode of the tmpfs a cgroup mount puts at /sys/fs/cgroup over a sysfs's directory
 * (0555) taken out, and with it whether the container, without CAP_DAC_OVERRIDE, can
 * write there: mountkit mounts that tmpfs with runc's own `mode=755` and leaves it so,
 * runc 1.1.5 chmods it to the directory's 0555 (README.md, "Differences from runc
 * 1.1.5": a tmpfs over an existing directory).
 */
function withoutSysfsTmpfsMode(out: Record<string, string[]>): Record<string, string[]> {
  const root = (line: string) => line.replace(/^\/sys\/fs\/cgroup \d+ /, '/sys/fs/cgroup * ');
  return { ...out, cgroup: out.cgroup.map(root), root: out.root.map(root), writes: [] };
}

maybe('random cgroup mounts: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts and modes (cgroup roots normalized)', () => {
    sideBySideProperty(cgroupMounts, ({ at, words, cgroupns, sysfs, network, readonlyRoot }) => {
      const config = busyboxConfig(['sh', '-c', `${PROBE}; ${inspectCgroup(at)}`]);
      config.root.readonly = readonlyRoot;
      const sysfsMount = sysfs && { destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysfs.words };
      if (sysfsMount && sysfs.first) config.mounts.push(sysfsMount);
      config.mounts.push({ destination: at, type: 'cgroup', source: 'cgroup', options: words });
      if (sysfsMount && !sysfs.first) config.mounts.push(sysfsMount);
      if (cgroupns) config.linux.namespaces.push({ type: 'cgroup' });
      if (network) config.linux.namespaces.push({ type: 'network' });
      const overSysfs = sysfs?.first === true && at === '/sys/fs/cgroup';
      return [config, () => undefined, (out) => expect(out.cgroup.length).toBeGreaterThanOrEqual(1), overSysfs ? (out) => withoutSysfsTmpfsMode(withoutHierarchyModes(out)) : withoutHierarchyModes];
    });
  }, 600_000);
});

/** The maps of a user namespace: root to root alone, or a range of 65536 ids from 100000 (the range the conformance tests give). */
const MAPS = {
  root: [{ containerID: 0, hostID: 0, size: 1 }],
  range: [{ containerID: 0, hostID: 100000, size: 65536 }],
};

/** Flags the runner's mount at the bundle's `locked` may have, which a user namespace then locks on every copy of it. */
const LOCKABLE = ['nosuid', 'nodev', 'noexec', 'ro'];

/**
 * Atime words other than relatime, which the copies of the host's mounts a user namespace
 * gets keep locked (relatime): a bind remount or mount_setattr(2) to another atime mode,
 * and a proc or sysfs mount with one (no proc or sysfs as visible as the host's then),
 * fail with EPERM under both runtimes. Drawn, they made most draws refuse alike; left out.
 */
const ATIME_CHANGES = ['noatime', 'strictatime', 'nodiratime', 'rnoatime', 'rstrictatime', 'rnodiratime'];

const keepsAtime = (words: readonly string[]): string[] => words.filter((w) => !ATIME_CHANGES.includes(w));

/**
 * A user namespace (either of MAPS; with the range, the rootfs owned by the host's root or
 * by the range's first id) with random mount lists as `setup` draws them, a bind of a
 * mount whose flags the namespace locks, proc, sysfs, mqueue and devpts mounts with
 * random words at their usual destinations, with or without network and IPC namespaces
 * of the container's own, under a read-only or writable root.
 */
const userNamespaces = fc.record({
  maps: fc.constantFrom<keyof typeof MAPS>('root', 'range'),
  // Mostly owned: in a rootfs of the host's root, the namespace's root can make no destination, and both refuse (EACCES).
  ownRootfs: fc.constantFrom(true, true, true, false),
  mounts: fc.array(drawn.map((m) => ({ ...m, words: keepsAtime(m.words) })), { maxLength: 4 }),
  locked: fc.option(fc.record({ flags: fc.subarray(LOCKABLE, { minLength: 1 }), words: fc.tuple(fc.subarray(FLAGS, { maxLength: 3 }), fc.option(fc.constantFrom('relatime', 'norelatime'), { freq: 3 })).map(([flags, atime]) => keepsAtime([...flags, ...(atime ? [atime] : [])])) }), { freq: 2 }),
  proc: fc.option(pseudoWords.map(keepsAtime), { freq: 2 }),
  sysfs: fc.option(pseudoWords.map(keepsAtime), { freq: 2 }),
  mqueue: fc.option(pseudoWords, { freq: 2 }),
  devpts: fc.option(fc.tuple(pseudoWords, fc.subarray(['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'])).map(([words, data]) => [...words, ...data]), { freq: 2 }),
  network: fc.boolean(),
  ipc: fc.boolean(),
  readonlyRoot: fc.boolean(),
});

/** The word that clears each lockable flag (mount(8)). */
const CLEARING: Record<string, string> = { ro: 'rw', nosuid: 'suid', nodev: 'dev', noexec: 'exec' };

/**
 * The locked bind's words: with a word that sets a flag (which makes both runtimes remount
 * the bind), the locked flags too, and no word clearing one of them. Without the locked
 * flags runc 1.1.5's remount clears one and fails (EPERM) where mountkit keeps it, as runc
 * 1.2 does; with a word clearing one (`rw` of a read-only mount), mountkit refuses, as
 * runc 1.2 does, where Debian's runc 1.1.5 tries the remount again with MS_RDONLY added
 * and starts with the bind read-only (README.md, "Differences from runc 1.1.5": inside a
 * user namespace, the remount of a bind). Without such a word, neither remounts.
 */
function lockedWords(flags: readonly string[], words: readonly string[]): string[] {
  const sets = words.some((w) => ['ro', 'nosuid', 'nodev', 'noexec', 'nodiratime', 'relatime', 'noatime'].includes(w));
  const cleared = new Set(flags.map((f) => CLEARING[f]));
  return sets ? [...new Set([...flags, ...words.filter((w) => !cleared.has(w))])] : [...words];
}

/**
 * The group of an IPC namespace's mqueue root taken out of `/dev` and the destinations:
 * under runc the unmapped 65534, its init not yet the namespace's root group when it
 * makes the namespace; under mountkit 0 (README.md, "Differences from runc 1.1.5": in a
 * new user namespace whose maps do not map the host's root, `/dev/mqueue`).
 */
function withoutMqueueGroup(out: Record<string, string[]>): Record<string, string[]> {
  return {
    ...out,
    dev: out.dev.map((line) => (/ mqueue$/.test(line) ? line.replace(/^(\S+ \d+ 0) 65534 /, '$1 0 ') : line)),
    destinations: out.destinations.map((line) => line.replace(/^\/dev\/mqueue (\d+ 0) 65534 /, '/dev/mqueue $1 0 ')),
  };
}

maybe('random mounts in a user namespace: runc 1.1.5 and mountkit', () => {
  test('start the program or refuse alike, and show the container the same mounts, modes, owners and writes', () => {
    sideBySideProperty(userNamespaces, ({ maps, ownRootfs, mounts, locked, proc, sysfs, mqueue, devpts, network, ipc, readonlyRoot }) => {
      const list = listed(mounts);
      if (locked) list.push({ destination: '/locked', type: 'bind', source: 'locked', options: ['bind', ...lockedWords(locked.flags, locked.words)] });
      const pseudo: Listed[] = [
        ...(sysfs ? [{ destination: '/sys', type: 'sysfs', source: 'sysfs', options: sysfs }] : []),
        ...(mqueue ? [{ destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: mqueue }] : []),
        // Not gid=5 where the maps leave it out: both fail with EINVAL.
        ...(devpts ? [{ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: maps === 'root' ? devpts.filter((w) => w !== 'gid=5') : devpts }] : []),
      ];
      const dests = list.map((m) => m.destination);
      const all = ['/', '/proc', '/dev', ...dests, ...pseudo.map((m) => m.destination)];
      const config = busyboxConfig(['sh', '-c', `${PROBE}; echo "== ids"; id; ${statsAndWrites('destinations', all, ['/', '/dev', ...dests])}`]);
      config.root.readonly = readonlyRoot;
      if (proc) config.mounts[0].options = proc;
      config.mounts.push(...list, ...pseudo);
      config.linux.namespaces.push({ type: 'user' });
      // A sysfs needs a network namespace the user namespace owns: without one, both fail with EPERM.
      if (network || sysfs) config.linux.namespaces.push({ type: 'network' });
      // An mqueue needs an IPC namespace the user namespace owns: without one, both fail with EPERM.
      if (!ipc && !mqueue) config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'ipc');
      config.linux.uidMappings = MAPS[maps];
      config.linux.gidMappings = MAPS[maps];
      const owner = maps === 'range' && ownRootfs ? '100000:100000' : null;
      const prepare = (dir: string): void => {
        mountListArgs({ mounts, readonlyRoot, rootfsPropagation: null })[1](dir);
        mkdirSync(path.join(dir, 'locked'));
        if (owner) {
          const r = spawnSync('chown', ['-R', owner, path.join(dir, 'rootfs'), ...list.filter((m) => m.source.startsWith('src/')).map((m) => path.join(dir, m.source))], { encoding: 'utf8' });
          if (r.status !== 0) throw new Error(`chown failed: ${r.stderr}`);
        }
      };
      const lockedMount = locked ? `mount -t tmpfs -o size=64k tmpfs "$1/locked" && echo locked >"$1/locked/file" && mount -o remount,bind,${locked.flags.join(',')} "$1/locked"` : 'true';
      return [config, prepare, (out) => expect(out.destinations).toHaveLength(all.length), maps === 'range' ? withoutMqueueGroup : undefined, startedAfter(lockedMount)];
    });
  }, 600_000);
});
