/**
 * The /proc files mountkit writes or reads after the jail (linux.sysctl, the LSM exec
 * labels, the setgroups policy) for real through bin/mountkit, with the hunt's hostile
 * images (CVE-2025-52881 class): no procfs mounted at /proc, and the image's /proc holding
 * symlinks to a host directory bound into the container, or a planted file. The host's
 * file stays as it was, and the run fails with one line naming the file and what it found;
 * the setgroups policy is the user namespace's, whatever the image's /proc says.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, makeBundle } from '../conformance/harness';
import { LAUNCHER } from '../helpers/cli';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('these tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

/** A config without a procfs at /proc; the host directory `shared` bound at /data. */
function config(shared: string, over: Record<string, unknown> = {}, proc: Record<string, unknown> = {}): Record<string, any> {
  const { linux = {}, process = {}, ...rest } = over as { linux?: object; process?: object };
  return {
    ociVersion: '1.0.2',
    process: { terminal: false, args: ['/bin/true'], env: ['PATH=/bin', 'HOME=/'], cwd: '/', ...process },
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/data', type: 'bind', source: shared, options: ['rbind'] },
      ...(Object.keys(proc).length ? [proc] : []),
    ],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'ipc' }, { type: 'network' }], ...linux },
    ...rest,
  };
}

/** Runs bin/mountkit on a bundle of `c` whose rootfs `plant` changes, with the host directory `shared` (holding `target`). */
function hostileRun(c: (shared: string) => Record<string, any>, plant: (rootfs: string) => void, prefix: string[] = []) {
  const shared = mkdtempSync(path.join(tmpdir(), 'mountkit-procfs-S-'));
  writeFileSync(path.join(shared, 'target'), 'host\n');
  const b = makeBundle(c(shared));
  try {
    plant(path.join(b.dir, 'rootfs'));
    const [cmd, ...args] = [...prefix, LAUNCHER, 'run', '--bundle', b.dir];
    const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, target: readFileSync(path.join(shared, 'target'), 'utf8') };
  } finally {
    b.cleanup();
    rmSync(shared, { recursive: true, force: true });
  }
}

/** `rel` inside `rootfs` made a symlink to `to`, its directories made. */
function link(rootfs: string, rel: string, to: string): void {
  mkdirSync(path.dirname(path.join(rootfs, rel)), { recursive: true });
  symlinkSync(to, path.join(rootfs, rel));
}

/** The run's stderr is one line, ending with `tail`. */
function oneLineEndingWith(stderr: string, tail: string | RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  if (typeof tail === 'string') expect(lines[0].endsWith(tail)).toBe(true);
  else expect(lines[0]).toMatch(tail);
}

maybe('procfs writes after the jail, through hostile images', () => {
  test('linux.sysctl: an image without a procfs whose /proc/sys/net/ipv4/ip_forward links to a bound host file: refused, the host file untouched', () => {
    const r = hostileRun(
      (shared) => config(shared, { linux: { sysctl: { 'net.ipv4.ip_forward': '1' } } }),
      (rootfs) => link(rootfs, 'proc/sys/net/ipv4/ip_forward', '/data/target'),
    );
    expect(r.target).toBe('host\n');
    expect(r.status).toBe(1);
    oneLineEndingWith(r.stderr, /linux\.sysctl "net\.ipv4\.ip_forward": "\/proc\/sys\/net\/ipv4\/ip_forward" is not a procfs file \("\/proc" is not a procfs: f_type 0x[0-9a-f]+\)$/);
  });

  test('linux.sysctl with a procfs mounted: written (in the container\'s network namespace)', () => {
    const r = hostileRun(
      (shared) => config(shared, { linux: { sysctl: { 'net.ipv4.ip_forward': '1' } }, process: { args: ['/bin/sh', '-c', 'cat /proc/sys/net/ipv4/ip_forward'] } }, { destination: '/proc', type: 'proc', source: 'proc' }),
      () => undefined,
    );
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '1\n', '']);
  });

  test('process.apparmorProfile: an image without a procfs whose exec attributes link to a bound host file: refused, the host file untouched', () => {
    const r = hostileRun(
      (shared) => config(shared, { process: { apparmorProfile: 'unconfined' } }),
      (rootfs) => {
        link(rootfs, 'proc/self/attr/apparmor/exec', '/data/target');
        link(rootfs, 'proc/self/attr/exec', '/data/target');
      },
    );
    expect(r.target).toBe('host\n');
    expect(r.status).toBe(1);
    oneLineEndingWith(r.stderr, /process\.apparmorProfile "unconfined": "\/proc\/self\/attr\/apparmor\/exec" is not a procfs file \("\/proc" is not a procfs: f_type 0x[0-9a-f]+\)$/);
  });

  test('setgroups: an image without a procfs whose /proc/self/setgroups says "deny" keeps none of the starter\'s supplementary groups', () => {
    const r = hostileRun(
      (shared) => config(shared, { process: { user: { uid: 1000, gid: 1000 }, args: ['/bin/id', '-G'] } }),
      (rootfs) => {
        mkdirSync(path.join(rootfs, 'proc', 'self'), { recursive: true });
        writeFileSync(path.join(rootfs, 'proc', 'self', 'setgroups'), 'deny\n');
      },
      ['setpriv', '--groups', '0,4,27'],
    );
    expect([r.status, r.stdout, r.stderr]).toEqual([0, '1000\n', '']);
  });
});
