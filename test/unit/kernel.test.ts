import 'reflect-metadata';
import * as path from 'path';
import { inject, injectable } from 'tsyringe';
import { StartupError } from '../../src/core/errors';
import { createKernel, type PluginModule } from '../../src/core/kernel';
import { PLUGIN_OPTIONS, SYSCALLS, type LifecycleStep, type MountHandler, type RunContext } from '../../src/core/plugin';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import type { MountSpec } from '../../src/core/config/model';
import type { Syscalls } from '../../src/core/syscalls/types';
import { makeConfig, makeMount } from '../helpers/config';

const fixtures = path.join(__dirname, '..', 'fixtures', 'plugins');

@injectable()
class MarkerHandler implements MountHandler {
  readonly name = 'marker';
  readonly types = ['marker'];
  constructor(
    @inject(SYSCALLS) private readonly sys: Syscalls,
    @inject(PLUGIN_OPTIONS) private readonly options: { mode: number },
  ) {}
  mount(m: MountSpec, ctx: RunContext): void {
    this.sys.mkdir(ctx.config.rootfs + m.destination, this.options.mode);
  }
}

const markerPlugin: PluginModule = { register: (api) => api.handler(MarkerHandler) };

describe('kernel wiring', () => {
  test('modules from the list and from code are injected and dispatched; options and the port reach them', () => {
    const sys = new FakeSyscalls();
    sys.addDir('/r');
    const stepPlugin: PluginModule = {
      register: (api) => {
        const step: LifecycleStep = { name: 'touch', phase: 'finalize', run: () => sys.writeFile('/r/done', String(api.options.word)) };
        api.step(step);
      },
    };
    const kernel = createKernel({
      syscalls: sys,
      plugins: { plugins: [{ module: './echo-plugin.js', options: { colour: 'blue' } }, { module: './no-register.js', enabled: false }] },
      baseDir: fixtures,
      extra: [
        { module: 'marker', plugin: markerPlugin, options: { mode: 0o700 } },
        { module: 'touch', plugin: stepPlugin, options: { word: 'yes' } },
      ],
    });
    const mounts = [makeMount({ index: 0, type: 'marker', destination: '/m' }), makeMount({ index: 1, type: 'echo', destination: '/e' })];
    const config = makeConfig({ rootfs: '/r', mounts });
    let shared: Map<string, unknown> | undefined;
    kernel.orchestrator.run(config, { beforeJail: (ctx) => void (shared = ctx.shared) });
    expect(sys.effects()).toEqual([
      { op: 'mkdir', path: '/r/m', mode: 0o700 },
      { op: 'writeFile', path: '/r/done', data: 'yes', mode: undefined },
    ]);
    expect(shared?.get('echo')).toEqual({ destination: '/e', options: { colour: 'blue' } });
  });
});

describe('startup errors name the module', () => {
  const kernelWith = (module: string) => () =>
    createKernel({ syscalls: new FakeSyscalls(), plugins: { plugins: [{ module }] }, baseDir: fixtures });

  test.each([
    ['./missing.js', /^plugin module "\.\/missing\.js": cannot be found from /],
    ['no-such-package-anywhere', /^plugin module "no-such-package-anywhere": cannot be found from /],
    ['./no-register.js', /^plugin module "\.\/no-register\.js": does not export a register\(api\) function$/],
    ['./throws-on-load.js', /^plugin module "\.\/throws-on-load\.js": failed to load: boom at load$/],
    ['builtin:nope', /^plugin module "builtin:nope": no built-in plugin of that name/],
  ])('%s', (module, message) => {
    expect(kernelWith(module)).toThrow(StartupError);
    expect(kernelWith(module)).toThrow(message);
  });

  test('two handlers claiming one mount type', () => {
    const run = () =>
      createKernel({
        syscalls: new FakeSyscalls(),
        extra: [
          { module: 'first', plugin: markerPlugin },
          { module: 'second', plugin: markerPlugin },
        ],
        plugins: { plugins: [] },
      });
    expect(run).toThrow('plugin module "second": mount type "marker" is already claimed by "first"');
  });

  test('a register function that throws', () => {
    const run = () =>
      createKernel({
        syscalls: new FakeSyscalls(),
        plugins: { plugins: [] },
        extra: [{ module: 'bad', plugin: { register: () => { throw new Error('nope'); } } }],
      });
    expect(run).toThrow('plugin module "bad": register failed: nope');
  });
});
