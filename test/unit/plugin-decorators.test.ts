import 'reflect-metadata';
import {
  MOUNT_HANDLERS,
  PLUGIN_OPTIONS,
  SYSCALLS,
  delay,
  inject,
  injectAll,
  injectAllWithTransform,
  injectWithTransform,
  injectable,
  type MountHandler,
  type MountSpec,
  type PluginModule,
  type RunContext,
  type Syscalls,
} from 'mountkit';
import * as testing from 'mountkit/testing';
import { FakeSyscalls, makeMount, runHandler } from 'mountkit/testing';

/** The token a plugin registers its layers under, several times: @injectAll takes them all. */
const LAYERS = Symbol('layers');

/** A transformer (tsyringe calls `transform` with what the token resolves to): the size option. */
@injectable()
class SizeOf {
  transform(options: { size?: unknown }): string {
    return String(options.size);
  }
}

/** A transformer of every registration of a token: the layers joined. */
@injectable()
class Joined {
  transform(layers: string[], separator: string): string {
    return layers.join(separator);
  }
}

@injectable()
class LayersHandler implements MountHandler {
  readonly name = 'layers';
  readonly types = ['layers'];
  constructor(
    @inject(SYSCALLS) private readonly sys: Syscalls,
    @injectAll(LAYERS) private readonly layers: string[],
    @injectWithTransform(PLUGIN_OPTIONS, SizeOf) private readonly size: string,
    @injectAllWithTransform(LAYERS, Joined, ':') private readonly lowerdir: string,
    // Declared below this class: delay() resolves it when the handler is built (typed by
    // an interface, which emitDecoratorMetadata does not name as a class not yet declared).
    @inject(delay(() => Namer)) private readonly namer: Naming,
  ) {}
  mount(m: MountSpec, ctx: RunContext): void {
    this.sys.mount('overlay', ctx.config.rootfs + m.destination, 'overlay', 0n, `lowerdir=${this.lowerdir},size=${this.size},${this.namer.name(this.layers)}`);
  }
}

interface Naming {
  name(layers: readonly string[]): string;
}

@injectable()
class Namer implements Naming {
  name(layers: readonly string[]): string {
    return `layers=${layers.length}`;
  }
}

const plugin: PluginModule = {
  register(api) {
    api.container.register(LAYERS, { useValue: '/l/a' });
    api.container.register(LAYERS, { useValue: '/l/b' });
    api.handler(LayersHandler);
  },
};

describe("tsyringe's decorators and delay, through mountkit's exports", () => {
  test('mountkit and mountkit/testing export delay, inject, injectAll, injectAllWithTransform, injectWithTransform and injectable, the functions of the copy of tsyringe the kernel uses', () => {
    const tsyringe = jest.requireActual<Record<string, unknown>>('tsyringe');
    for (const name of ['delay', 'inject', 'injectAll', 'injectAllWithTransform', 'injectWithTransform', 'injectable']) {
      expect([name, (testing as Record<string, unknown>)[name]]).toEqual([name, tsyringe[name]]);
    }
    expect(MOUNT_HANDLERS).toBe(testing.MOUNT_HANDLERS);
  });

  test('a plugin class using them registers, and the kernel builds it with every registration, the transformed options and values, and the class delay() names', () => {
    const run = runHandler({ plugin, options: { size: '8m' } }, makeMount({ type: 'layers', destination: '/data', source: 'overlay' }), {
      sys: new FakeSyscalls().addDir('/bundle/rootfs/data'),
    });
    expect(run.effects).toEqual([{ op: 'mount', source: 'overlay', target: '/bundle/rootfs/data', fstype: 'overlay', flags: 0n, data: 'lowerdir=/l/a:/l/b,size=8m,layers=2' }]);
  });
});
