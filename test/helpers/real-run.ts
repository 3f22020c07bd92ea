import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import type { RootfsConfig } from '../../src/core/config/model';
import { runInMountNamespace } from './in-namespace';
import type { Race } from './racing-syscalls';

/** JSON with bigints kept as {"$big": "0x..."} so configs cross the process boundary. */
export function encode(value: unknown): string {
  return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? { $big: '0x' + v.toString(16) } : v));
}

export interface RealRunRequest {
  /** The config to run; rootfs and bundle should point into a temporary directory. */
  config: RootfsConfig;
  /** Plugin modules: `builtin:NAME` or absolute paths to TypeScript modules. */
  plugins: string[];
  /** Paths (host paths, as seen after the run inside the namespace) to lstat afterwards. */
  stat?: string[];
  /** Files to read afterwards. */
  read?: string[];
  /** Directories to list afterwards. */
  list?: string[];
  /** Symbolic links to read afterwards. */
  links?: string[];
  /** Files to try to write afterwards (to prove a mount read-only); each gives the errno code or "ok"; outside the test's temporary directories, none unless the run jailed the process. */
  write?: string[];
  /** A script body the child runs in its namespace before the run (mounts the run should find there). */
  setup?: string;
  /** Run the orchestrator with this hook script body, given `ctx` (optional). */
  beforeJail?: string;
  /** Use a port whose openat2 answers ENOSYS, as a kernel before 5.6 does: in-root lookups then walk. */
  withoutOpenat2?: boolean;
  /** Use a port whose fsopen answers ENOSYS, as a kernel before 5.2 does: tmpcopyup then mounts its tmpfs on the target. */
  withoutFsopen?: boolean;
  /** Use a port whose open_tree and open_tree_attr answer ENOSYS, as a kernel before 5.2 does: every bind is then made with mount(2). */
  withoutOpenTree?: boolean;
  /** Use a port whose open_tree_attr answers ENOSYS, as a kernel before 6.15 does: a bind's flags are then given to its copy by mount_setattr. */
  withoutOpenTreeAttr?: boolean;
  /** Use a port whose open_tree_attr and mount_setattr answer ENOSYS, as a kernel before 5.12 does: a bind's flags are then given by a remount. */
  withoutMountSetattr?: boolean;
  /** Port methods whose calls the run counts (RealRunResult.calls). */
  countCalls?: string[];
  /** Environment variables the child sets on itself just before the run (the programs the port starts see them). */
  env?: Record<string, string>;
  /** Use a port that swaps this file for a symlink right after it is examined (test/helpers/racing-syscalls.ts). */
  race?: Race;
}

export interface StatResult {
  kind: string;
  perm: number;
  uid: number;
  gid: number;
  rdev: string;
}

export interface RealRunResult {
  /** The error message when the run failed, with its class name. */
  error?: { name: string; message: string; exitCode?: number };
  /** The namespace's /proc/self/mountinfo after the run. */
  mountinfo: string;
  stat: Record<string, StatResult | string>;
  read: Record<string, string>;
  list: Record<string, string[] | string>;
  links: Record<string, string>;
  write: Record<string, string>;
  /** How many times each method of RealRunRequest.countCalls was called. */
  calls: Record<string, number>;
}

/**
 * Runs the given plugins for real on `config` in a child process inside a throwaway
 * mount namespace (unshare -m --propagation private), then reports what the kernel
 * shows there. Nothing mounted reaches the host's namespace.
 */
export function realRun(req: RealRunRequest): RealRunResult {
  const script = `
const fs = require('fs');
require('reflect-metadata');
const { createKernel } = require('./src/core/kernel');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { withoutCalls } = require('./test/helpers/older-kernel');
const { RacingSyscalls } = require('./test/helpers/racing-syscalls');
const { decodeName, encodeName } = require('./src/core/names');
const req = JSON.parse(process.env.MOUNTKIT_REQ, (k, v) => (v && typeof v === 'object' && '$big' in v ? BigInt(v.$big) : v));
const out = { mountinfo: '', stat: {}, read: {}, list: {}, links: {}, write: {}, calls: {} };
const hostRoot = fs.statSync('/');
try {
  Object.assign(process.env, req.env);
  if (req.setup) new Function('require', req.setup)(require);
  const missing = [req.withoutOpenat2 && 'openat2', req.withoutFsopen && 'fsopen', req.withoutOpenTree && 'openTree', req.withoutOpenTreeAttr && 'openTreeAttr', req.withoutMountSetattr && 'mountSetattr'].filter(Boolean);
  // A racing port takes its race; the real one's options stay its defaults (undefined).
  const syscalls = new (withoutCalls(req.race ? RacingSyscalls : LinuxSyscalls, missing))(req.race);
  for (const op of req.countCalls || []) {
    const call = syscalls[op].bind(syscalls);
    out.calls[op] = 0;
    syscalls[op] = (...args) => (out.calls[op]++, call(...args));
  }
  const kernel = createKernel({ syscalls, plugins: { plugins: req.plugins.map((module) => ({ module })) } });
  const beforeJail = req.beforeJail ? new Function('ctx', req.beforeJail) : undefined;
  // The plugins under test alone, as the testkit's runners run them: what the config asks of others is left undone.
  kernel.orchestrator.run(req.config, { beforeJail, checkClaims: false });
} catch (e) {
  out.error = { name: e.name, message: e.message, exitCode: e.exitCode };
}
// Names as the port reads them (decodeName): one that is not valid UTF-8 keeps its bytes.
out.mountinfo = decodeName(fs.readFileSync('/proc/self/mountinfo'));
const code = (e) => e.code || String(e);
for (const p of req.stat || []) {
  try { const s = fs.lstatSync(encodeName(p)); out.stat[p] = { kind: kindOf(s), perm: s.mode & 0o7777, uid: s.uid, gid: s.gid, rdev: (Math.floor(s.rdev / 256) & 0xfff) + ':' + ((s.rdev & 0xff) | ((s.rdev >> 12) & 0xfff00)) }; } catch (e) { out.stat[p] = code(e); }
}
for (const p of req.read || []) { try { out.read[p] = fs.readFileSync(encodeName(p), 'utf8'); } catch (e) { out.read[p] = code(e); } }
for (const p of req.links || []) { try { out.links[p] = decodeName(fs.readlinkSync(encodeName(p), { encoding: 'buffer' })); } catch (e) { out.links[p] = code(e); } }
for (const p of req.list || []) { try { out.list[p] = fs.readdirSync(encodeName(p), { encoding: 'buffer' }).map(decodeName).sort(); } catch (e) { out.list[p] = code(e); } }
// A run that failed, or a pipeline without a jail, leaves this process in the host's root: a container path written then would be the host's, so only the test's own temporary directories are tried there.
const root = fs.statSync('/');
const jailed = root.dev !== hostRoot.dev || root.ino !== hostRoot.ino;
for (const p of req.write || []) {
  if (!jailed && !p.startsWith(req.tempDirs)) { out.write[p] = out.error ? 'not tried: the run failed' : 'not tried: not jailed'; continue; }
  try { fs.writeFileSync(p, 'x'); out.write[p] = 'ok'; } catch (e) { out.write[p] = code(e); }
}
function kindOf(s) { return s.isSymbolicLink() ? 'symlink' : s.isDirectory() ? 'dir' : s.isFile() ? 'file' : s.isCharacterDevice() ? 'char' : s.isBlockDevice() ? 'block' : s.isFIFO() ? 'fifo' : 'socket'; }
process.stdout.write(JSON.stringify(out));
`;
  const r = runInMountNamespace(script, { ...process.env, MOUNTKIT_REQ: encode({ ...req, tempDirs: path.join(tmpdir(), TEMP_PREFIX) }) });
  if (r.status !== 0) throw new Error(`child failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
  return JSON.parse(r.stdout) as RealRunResult;
}

/** Suites that need root: skipped for an ordinary user, never under CI. */
export const runAsRoot = process.getuid?.() === 0 || process.env.CI === 'true' ? describe : describe.skip;

/** A temporary directory with an empty `rootfs` directory in it, removed by `cleanup`. */
export function tempRootfs(prefix?: string): { dir: string; rootfs: string; cleanup: () => void } {
  const t = tempDir(prefix);
  const rootfs = path.join(t.dir, 'rootfs');
  mkdirSync(rootfs);
  return { ...t, rootfs };
}

/** A temporary directory for a test's bundle and rootfs, removed by the returned function. */
/** The name every temporary directory of tempDir starts with, unless given another. */
const TEMP_PREFIX = 'mountkit-it-';

export function tempDir(prefix = TEMP_PREFIX): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The mountinfo lines whose mountpoint is `mountpoint` (the last one is on top). */
export function mountsAt(mountinfo: string, mountpoint: string): { fstype: string; options: string; superOptions: string; optional: string; source: string; root: string }[] {
  return mountinfo
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const f = line.split(' ');
      const sep = f.indexOf('-', 6);
      return {
        mountpoint: f[4].replace(/\\040/g, ' '),
        root: f[3],
        options: f[5],
        optional: f.slice(6, sep).join(' '),
        fstype: f[sep + 1],
        source: f[sep + 2],
        superOptions: f[sep + 3],
      };
    })
    .filter((m) => m.mountpoint === mountpoint);
}
