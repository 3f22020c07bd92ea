import {
  ConfigError,
  FakeSyscalls,
  MS_NODEV,
  MS_NOSUID,
  MS_RDONLY,
  MS_SHARED,
  PluginError,
  call,
  expectEffects,
  makeConfig,
  makeMount,
  memoryLogger,
  mountCall,
  resolvedCalls,
  runHandler,
  runPlugin,
  type MountSpec,
} from 'mountkit/testing';
import * as overlay from '../src';

/** The bundle in the fake's model: /bundle with its rootfs and one lower layer. */
function bundle(): FakeSyscalls {
  return new FakeSyscalls().addDir('/bundle/rootfs').addDir('/bundle/layers/lower').addFile('/bundle/layers/lower/a', 'lower');
}

function overlayMount(over: Partial<MountSpec> = {}): MountSpec {
  return makeMount({ type: 'overlay', destination: '/data', data: 'lowerdir=layers/lower,upperdir=layers/upper,workdir=layers/work', ...over });
}

const layers = 'lowerdir=/bundle/layers/lower,upperdir=/bundle/layers/upper,workdir=/bundle/layers/work';

describe('overlay mount handler', () => {
  test('mounts overlay on the target inside the rootfs with the layers resolved from the bundle', () => {
    const run = runHandler(overlay, overlayMount({ flags: MS_NOSUID | MS_NODEV }), { sys: bundle() });
    expect(run.sys.mounts).toEqual([{ source: 'overlay', target: '/bundle/rootfs/data', fstype: 'overlay', flags: MS_NOSUID | MS_NODEV, data: layers }]);
    // The one mount(2), made through the target's descriptor, with that descriptor shown as the path it was open at.
    expectEffects(resolvedCalls(run).filter((c) => c.op === 'mount'), [mountCall('overlay', '/bundle/rootfs/data', 'overlay', MS_NOSUID | MS_NODEV, layers)]);
  });

  test('creates a missing upperdir, workdir and target, and logs what it created', () => {
    const logger = memoryLogger();
    const run = runHandler(overlay, overlayMount({ data: 'lowerdir=layers/lower,upperdir=state/upper,workdir=state/work' }), { sys: bundle(), logger });
    for (const dir of ['/bundle/state/upper', '/bundle/state/work', '/bundle/rootfs/data']) expect(run.sys.node(dir)?.kind).toBe('dir');
    // Each directory made in the one it belongs in: the missing parent once, then the layers, then the target in the rootfs.
    expectEffects(resolvedCalls(run).filter((c) => c.op === 'mkdirat'), [
      call('mkdirat', { dirfd: '/bundle', path: 'state', mode: 0o755 }),
      call('mkdirat', { dirfd: '/bundle/state', path: 'upper', mode: 0o755 }),
      call('mkdirat', { dirfd: '/bundle/state', path: 'work', mode: 0o755 }),
      call('mkdirat', { dirfd: '/bundle/rootfs', path: 'data', mode: 0o755 }),
    ]);
    expect(logger.entries.filter((e) => e.level === 'info').map((e) => [e.message, e.meta.path])).toEqual([
      ['created upperdir', '/bundle/state/upper'],
      ['created workdir', '/bundle/state/work'],
    ]);
  });

  test('existing upper and work directories are used as they are', () => {
    const sys = bundle().addDir('/bundle/layers/upper', 0o700).addDir('/bundle/layers/work', 0o700);
    const run = runHandler(overlay, overlayMount(), { sys });
    expect(run.effects.filter((c) => c.op === 'mkdirat').map((c) => (c as { path: string }).path)).toEqual(['data']);
    expect(run.sys.node('/bundle/layers/upper')?.perm).toBe(0o700);
  });

  test('absolute layers are host paths; a read-only overlay has two lower layers and no upper', () => {
    const sys = bundle().addDir('/srv/base');
    const run = runHandler(overlay, overlayMount({ data: 'lowerdir=layers/lower:/srv/base,index=off', flags: MS_RDONLY }), { sys });
    expect(run.sys.mounts.map((m) => m.data)).toEqual(['lowerdir=/bundle/layers/lower:/srv/base,index=off']);
    expect(run.effects.filter((c) => c.op === 'mkdirat').map((c) => (c as { path: string }).path)).toEqual(['data']);
  });

  test('two lower layers and nothing else: a read-only overlay (as README.md shows it)', () => {
    const sys = new FakeSyscalls().addDir('/bundle/rootfs').addDir('/bundle/lower1').addDir('/bundle/lower2');
    runHandler(overlay, makeMount({ type: 'overlay', destination: '/data', data: 'lowerdir=lower1:lower2' }), { sys });
    expect(sys.mounts).toEqual([
      { source: 'overlay', target: '/bundle/rootfs/data', fstype: 'overlay', flags: 0n, data: 'lowerdir=/bundle/lower1:/bundle/lower2' },
    ]);
  });

  test.each([
    ['a host that runs SELinux: the label goes into the data as context=, as runc gives it to an overlay', true, `${layers},context="system_u:object_r:container_file_t:s0:c1,c2"`],
    ['a host without SELinux: the data as resolved', false, layers],
  ])('linux.mountLabel on %s', (_what, selinux, data) => {
    const sys = bundle();
    if (selinux) sys.addSelinuxfs();
    const config = makeConfig({ mountLabel: 'system_u:object_r:container_file_t:s0:c1,c2' });
    const run = runHandler(overlay, overlayMount(), { sys, config });
    expect(run.sys.mounts.filter((m) => m.fstype === 'overlay').map((m) => m.data)).toEqual([data]);
  });

  test('propagation flags follow the mount, as for every built-in type', () => {
    const run = runHandler(overlay, overlayMount({ propagationFlags: [MS_SHARED] }), { sys: bundle() });
    expect(run.effects.filter((c) => c.op === 'mount').map((c) => (c as { flags: bigint }).flags)).toEqual([0n, MS_SHARED]);
  });

  test.each([
    ['a missing lower layer', 'lowerdir=layers/nope,upperdir=u,workdir=w', 'lowerdir "/bundle/layers/nope": does not exist'],
    ['a lower layer that is a file', 'lowerdir=layers/lower/a,upperdir=u,workdir=w', 'lowerdir "/bundle/layers/lower/a": is a file, not a directory'],
  ])('%s is a configuration error (exit 2) and nothing is made or mounted', (_what, data, message) => {
    const sys = bundle();
    let caught: unknown;
    try {
      runHandler(overlay, overlayMount({ data, index: 4 }), { sys });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(PluginError);
    expect((caught as PluginError).message).toBe(`mounts: plugin overlay mounts[4] "/data": ${message}`);
    expect((caught as PluginError).cause).toBeInstanceOf(ConfigError);
    expect((caught as PluginError).exitCode).toBe(2);
    expect(sys.effects().filter((c) => c.op === 'mkdirat' || c.op === 'mount')).toEqual([]);
  });

  test.each([
    ['no lower layer', 'upperdir=u,workdir=w', 'lowerdir: is required: an overlay mount needs at least one lower layer'],
    ['upperdir without workdir', 'lowerdir=layers/lower,upperdir=u', 'workdir: is required with upperdir: overlayfs keeps its work files there'],
    ['a layer given twice', 'lowerdir=a,lowerdir=b', 'lowerdir "b": is given twice'],
  ])('%s is refused by validate before the run: a ConfigError naming the mount, and no call at all, not even for the good mount before it', (_what, data, message) => {
    const sys = bundle();
    let caught: unknown;
    try {
      runHandler(overlay, [overlayMount({ index: 3, destination: '/good' }), overlayMount({ data, index: 4 })], { sys });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect(caught).toMatchObject({ exitCode: 2, message: `mounts[4] "/data": plugin overlay: ${message}` });
    expect(sys.calls).toEqual([]);
  });

  test('with createMissing false a missing upperdir is a configuration error', () => {
    const sys = bundle();
    expect(() => runHandler({ plugin: overlay, options: { createMissing: false } }, overlayMount(), { sys })).toThrow(
      'mounts: plugin overlay mounts[0] "/data": upperdir "/bundle/layers/upper": does not exist',
    );
  });

  test('a wrong option stops start-up, naming the plugin module', () => {
    expect(() => runPlugin({ plugins: [{ module: './dist/index.js', plugin: overlay, options: { createMissing: 1 } }] })).toThrow(
      'plugin module "./dist/index.js": register failed: options.createMissing 1: must be true or false',
    );
  });

  test('the target resolves inside the rootfs, whatever symlink the image holds', () => {
    const sys = bundle().addSymlink('/bundle/rootfs/data', '/../../etc');
    const run = runHandler(overlay, overlayMount(), { sys });
    expect(run.sys.mounts.map((m) => m.target)).toEqual(['/bundle/rootfs/etc']);
  });

  test('an overlay in a config: it claims type "overlay" only', () => {
    const config = makeConfig({ mounts: [overlayMount(), makeMount({ type: 'tmpfs', destination: '/tmp', index: 1 })] });
    expect(() => runPlugin({ plugins: [overlay], config, sys: bundle() })).toThrow('mounts: plugin orchestrator mounts[1] "/tmp": no handler for mount type "tmpfs"');
  });
});
