import { O_CLOEXEC, O_RDONLY } from '../../src/core/constants';
import { containerRoot, isDevDestination, keptForRun, releaseRun, withMountTarget } from '../../src/core/mounting';
import type { RunContext } from '../../src/core/plugin';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig } from '../helpers/config';

describe('isDevDestination', () => {
  test.each([
    ['/dev', true],
    ['/dev/', true],
    ['//dev', true],
    ['/./dev/.', true],
    ['/x/../dev', true],
    ['/../dev', true],
    ['dev', true],
    ['/dev/shm', false],
    ['/devices', false],
    ['/x/dev', false],
    ['/dev/..', false],
    ['/', false],
    ['/tmp', false],
  ])('%j -> %s', (destination, expected) => {
    expect(isDevDestination(destination)).toBe(expected);
  });
});

describe('keptForRun and releaseRun', () => {
  function setup() {
    const sys = new FakeSyscalls().addDir('/r').addFile('/ns/a').addFile('/ns/b');
    const shared = new Map<string, unknown>();
    const open = (path: string) => () => sys.open(path, O_RDONLY | O_CLOEXEC, 0);
    return { sys, shared, open };
  }

  test('a key is opened once for the run; releaseRun closes the rootfs and every kept descriptor, once', () => {
    const { sys, shared, open } = setup();
    containerRoot(sys, { config: makeConfig({ rootfs: '/r' }), shared } as unknown as RunContext);
    const a = keptForRun(shared, 'a', open('/ns/a'));
    expect(keptForRun(shared, 'a', open('/ns/b'))).toBe(a);
    const b = keptForRun(shared, 'b', open('/ns/b'));
    releaseRun(sys, shared);
    releaseRun(sys, shared);
    expect(sys.callsOf('open').map((c) => c.path)).toEqual(['/r', '/ns/a', '/ns/b']);
    expect(sys.callsOf('close').map((c) => c.fd)).toEqual([100, a, b]);
    expect(sys.openFds()).toEqual([]);
  });

  test('a failing close is thrown after every other descriptor is closed', () => {
    const { sys, shared, open } = setup();
    const a = keptForRun(shared, 'a', open('/ns/a'));
    const b = keptForRun(shared, 'b', open('/ns/b'));
    sys.failOn('close', 'EIO');
    expect(() => releaseRun(sys, shared)).toThrow('close: EIO');
    expect(sys.callsOf('close').map((c) => c.fd)).toEqual([a, b]);
  });
});

describe('withMountTarget: the kind of a missing target', () => {
  test.each<[string, 'dir' | 'file' | undefined, string]>([
    ['a directory by default', undefined, 'dir'],
    ['a directory', 'dir', 'dir'],
    ['an empty file', 'file', 'file'],
  ])('given as a value: %s', (_what, kind, made) => {
    const sys = new FakeSyscalls().addDir('/r');
    withMountTarget(sys, '/r', '/t', { kind }, () => undefined);
    expect(sys.node('/r/t')).toMatchObject({ kind: made });
  });

  test('given as a function: asked once, before anything is made, only for a missing target', () => {
    const sys = new FakeSyscalls().addDir('/r/there');
    const asked: number[] = [];
    const kind = () => (asked.push(sys.callsOf('mkdirat').length), 'file' as const);
    withMountTarget(sys, '/r', '/there', { kind }, () => undefined);
    expect(asked).toEqual([]);
    withMountTarget(sys, '/r', '/a/file', { kind }, () => undefined);
    expect(asked).toEqual([0]);
    expect(sys.node('/r/a')).toMatchObject({ kind: 'dir' });
    expect(sys.node('/r/a/file')).toMatchObject({ kind: 'file' });
    expect(sys.openFds()).toEqual([]);
  });
});
