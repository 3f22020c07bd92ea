/**
 * What the hardening suites check on the host around a `mountkit run`: the mount table of
 * the host's namespace and every file below some directories (the bundle, sentinels
 * outside it), compared before and after.
 */
import { createHash } from 'crypto';
import { cpSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync, type Stats } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, makeBundle, runMountkit, type Outcome } from '../conformance/harness';

export { BUSYBOX, makeBundle, runMountkit, type Outcome };

/** Root and busybox-static are needed; under CI they must be there (.ci/run installs them). */
export const REAL_RUNS = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !REAL_RUNS) throw new Error('hardening tests need root and busybox-static (installed by .ci/run)');

function kindOf(s: Stats): string {
  if (s.isSymbolicLink()) return 'symlink';
  if (s.isDirectory()) return 'dir';
  if (s.isFile()) return 'file';
  if (s.isCharacterDevice()) return 'char';
  if (s.isBlockDevice()) return 'block';
  return s.isFIFO() ? 'fifo' : 'socket';
}

/**
 * Every entry below `root` (not following links), with what would show a change: kind,
 * mode, owner, size, mtime and ctime (a file created and removed again still changes its
 * directory's), a link's target and a regular file's content hash.
 */
export function snapshotTree(root: string, skip: (p: string) => boolean = () => false): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (p: string): void => {
    if (skip(p)) return;
    let s: Stats;
    try {
      s = lstatSync(p);
    } catch (err) {
      out.set(p, `missing (${(err as NodeJS.ErrnoException).code})`);
      return;
    }
    const kind = kindOf(s);
    let extra = '';
    if (kind === 'symlink') extra = `-> ${readlinkSync(p)}`;
    if (kind === 'file') extra = createHash('sha1').update(readFileSync(p)).digest('hex');
    if (kind === 'char' || kind === 'block') extra = `rdev ${s.rdev}`;
    out.set(p, `${kind} ${(s.mode & 0o7777).toString(8)} ${s.uid}:${s.gid} ${s.size} m${s.mtimeMs} c${s.ctimeMs} ${extra}`);
    if (kind === 'dir') for (const name of readdirSync(p).sort()) visit(path.join(p, name));
  };
  visit(root);
  return out;
}

/** Lines naming every difference between two snapshots ([] when equal). */
export function diffSnapshots(before: Map<string, string>, after: Map<string, string>): string[] {
  const lines: string[] = [];
  for (const [p, was] of before) {
    const now = after.get(p);
    if (now === undefined) lines.push(`- ${p} (${was})`);
    else if (now !== was) lines.push(`~ ${p}: ${was} => ${now}`);
  }
  for (const [p, now] of after) if (!before.has(p)) lines.push(`+ ${p} (${now})`);
  return lines;
}

export function hostMountinfo(): string {
  return readFileSync('/proc/self/mountinfo', 'utf8');
}

/** The host state a run must leave alone: the mount table and the trees below `dirs`. */
export interface HostState {
  mountinfo: string;
  trees: Map<string, string>[];
}

/** Paths below these directories are left out of the snapshots (a rootfs a run may change). */
export function recordHost(dirs: readonly string[], skip: readonly string[] = []): HostState {
  return { mountinfo: hostMountinfo(), trees: dirs.map((d) => snapshotTree(d, skipping(skip))) };
}

/** The differences between the recorded state and now: [] when the host is unchanged. */
export function hostChanges(before: HostState, dirs: readonly string[], skip: readonly string[] = []): string[] {
  const lines: string[] = [];
  const now = hostMountinfo();
  if (now !== before.mountinfo) lines.push('the host mount table changed');
  dirs.forEach((d, i) => lines.push(...diffSnapshots(before.trees[i], snapshotTree(d, skipping(skip)))));
  return lines;
}

function skipping(dirs: readonly string[]): (p: string) => boolean {
  return (p) => dirs.some((d) => p === d || p.startsWith(d + '/'));
}

/**
 * A directory outside every bundle with a few files in it: what an escaping container
 * would reach. Its snapshot is compared around each run.
 */
export function makeSentinel(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-sentinel-'));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'file'), 'sentinel\n');
  writeFileSync(path.join(dir, 'sub', 'inner'), 'inner\n');
  symlinkSync('file', path.join(dir, 'link'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Bundle {
  dir: string;
  cleanup: () => void;
}

/**
 * Makes bundles quickly: one busybox rootfs is built (examples/busybox/make-rootfs.sh),
 * and each bundle is a copy of it with its own config.json (raw text when a string).
 */
export function bundleMaker(): { make: (config: object | string) => Bundle; cleanup: () => void } {
  const template = makeBundle({});
  return {
    make(config) {
      const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-hard-'));
      cpSync(path.join(template.dir, 'rootfs'), path.join(dir, 'rootfs'), { recursive: true, verbatimSymlinks: true });
      writeFileSync(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config, null, 2));
      return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
    cleanup: template.cleanup,
  };
}

/** One line on stderr, "mountkit: ..." with no stack trace. */
/**
 * A sentinel directory and a bundle maker for a describe block: made in beforeAll,
 * removed in afterAll. Read the fields inside tests, after beforeAll has run.
 */
export function hostFixtures(): { sentinel: ReturnType<typeof makeSentinel>; bundles: ReturnType<typeof bundleMaker> } {
  const fixtures = {} as ReturnType<typeof hostFixtures>;
  beforeAll(() => {
    fixtures.sentinel = makeSentinel();
    fixtures.bundles = bundleMaker();
  });
  afterAll(() => {
    fixtures.sentinel?.cleanup();
    fixtures.bundles?.cleanup();
  });
  return fixtures;
}

export const ONE_LINE = /^mountkit: [^\n]+\n$/;
