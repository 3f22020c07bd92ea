import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, busyboxConfig, makeBundle, runMountkit } from '../conformance/harness';
import { OVERLAY_PLUGINS as PLUGINS, buildOverlayExample } from '../helpers/examples';

/**
 * The example third-party plugin (examples/plugins/overlay) end to end: built with its
 * own tsconfig as its author would, loaded only through its plugins.json, run by the CLI.
 */
const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('overlay tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

/** busyboxConfig's, in new pid and mount namespaces only, with an overlay mount at /data of `overlayOptions`. */
function config(args: string[], overlayOptions: string[]): Record<string, unknown> {
  const c = busyboxConfig(args, { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } });
  c.mounts.push({ destination: '/data', type: 'overlay', source: 'overlay', options: ['nodev', ...overlayOptions] });
  return c;
}

maybe('overlay example plugin', () => {
  beforeAll(buildOverlayExample);

  test('a write inside the container lands in the upper dir; the lower dir is unchanged', () => {
    const script = 'cat /data/a; echo new > /data/b; echo changed > /data/a; rm /data/gone; ls /data; grep " /data " /proc/self/mountinfo | cut -d" " -f9';
    const b = makeBundle(config(['sh', '-c', script], ['lowerdir=layers/lower', 'upperdir=layers/upper', 'workdir=layers/work']));
    try {
      const lower = path.join(b.dir, 'layers', 'lower');
      mkdirSync(lower, { recursive: true });
      writeFileSync(path.join(lower, 'a'), 'lower\n');
      writeFileSync(path.join(lower, 'gone'), 'deleted in the container\n');

      const r = runMountkit(b.dir, ['--plugins', PLUGINS]);
      expect(r).toEqual({ status: 0, stdout: 'lower\na\nb\noverlay\n', stderr: '' });

      const upper = path.join(b.dir, 'layers', 'upper');
      expect(readFileSync(path.join(upper, 'a'), 'utf8')).toBe('changed\n');
      expect(readFileSync(path.join(upper, 'b'), 'utf8')).toBe('new\n');
      // overlayfs records a deletion as a whiteout: a 0:0 character device in the upper dir.
      expect(readdirSync(upper).sort()).toEqual(['a', 'b', 'gone']);
      const whiteout = lstatSync(path.join(upper, 'gone'));
      expect([whiteout.isCharacterDevice(), whiteout.rdev]).toEqual([true, 0]);
      expect(readdirSync(lower).sort()).toEqual(['a', 'gone']);
      expect(readFileSync(path.join(lower, 'a'), 'utf8')).toBe('lower\n');
      expect(readFileSync(path.join(lower, 'gone'), 'utf8')).toBe('deleted in the container\n');
      expect(existsSync(path.join(b.dir, 'layers', 'work'))).toBe(true);
    } finally {
      b.cleanup();
    }
  });

  test('a missing lower dir is a configuration error: exit 2, one line, nothing created', () => {
    const b = makeBundle(config(['true'], ['lowerdir=layers/missing', 'upperdir=layers/upper', 'workdir=layers/work']));
    try {
      const r = runMountkit(b.dir, ['--plugins', PLUGINS]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`mountkit: mounts: plugin overlay mounts[2] "/data": lowerdir "${b.dir}/layers/missing": does not exist\n`);
      expect(existsSync(path.join(b.dir, 'layers'))).toBe(false);
    } finally {
      b.cleanup();
    }
  });

  test("layer options the plugin's validate refuses: exit 2 before anything is done, so the tmpfs listed before it makes no mount point in the rootfs; a layer missing on the host is found only when its mount comes, after that tmpfs's", () => {
    const withTmpfsBefore = (overlayOptions: string[]) => {
      const c = config(['true'], overlayOptions);
      const mounts = c.mounts as object[];
      mounts.splice(mounts.length - 1, 0, { destination: '/made-by-run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid'] });
      return c;
    };
    const b = makeBundle(withTmpfsBefore(['lowerdir=layers/lower', 'upperdir=layers/upper']));
    try {
      mkdirSync(path.join(b.dir, 'layers', 'lower'), { recursive: true });
      const r = runMountkit(b.dir, ['--plugins', PLUGINS]);
      expect(r).toEqual({ status: 2, stdout: '', stderr: 'mountkit: mounts[3] "/data": plugin overlay: workdir: is required with upperdir: overlayfs keeps its work files there\n' });
      expect(existsSync(path.join(b.dir, 'rootfs', 'made-by-run'))).toBe(false);
      expect(readdirSync(path.join(b.dir, 'layers'))).toEqual(['lower']);
    } finally {
      b.cleanup();
    }
    const late = makeBundle(withTmpfsBefore(['lowerdir=layers/missing', 'upperdir=layers/upper', 'workdir=layers/work']));
    try {
      const r = runMountkit(late.dir, ['--plugins', PLUGINS]);
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`mountkit: mounts: plugin overlay mounts[3] "/data": lowerdir "${late.dir}/layers/missing": does not exist\n`);
      expect(existsSync(path.join(late.dir, 'rootfs', 'made-by-run'))).toBe(true);
    } finally {
      late.cleanup();
    }
  });

  test('without the plugin in the list, "overlay" falls to the default handler, which passes relative layers on to the kernel', () => {
    const b = makeBundle(config(['true'], ['lowerdir=layers/lower', 'upperdir=layers/upper', 'workdir=layers/work']));
    try {
      mkdirSync(path.join(b.dir, 'layers', 'lower'), { recursive: true });
      const r = runMountkit(b.dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/^mountkit: mounts: plugin default mounts\[2\] "\/data": mount "overlay" -> .*: E[A-Z]+ \(data "lowerdir=layers\/lower,upperdir=layers\/upper,workdir=layers\/work"\)\n$/);
      expect(existsSync(path.join(b.dir, 'layers', 'upper'))).toBe(false);
    } finally {
      b.cleanup();
    }
  });
});
