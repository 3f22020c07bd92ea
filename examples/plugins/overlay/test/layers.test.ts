import { ConfigError } from 'mountkit/testing';
import { overlayData, parseOverlayData, resolveLayers } from '../src/layers';
import { parseOptions } from '../src/options';

describe('parseOverlayData', () => {
  test.each([
    ['lowerdir=l,upperdir=u,workdir=w', { lower: ['l'], upper: 'u', work: 'w', other: [] }],
    ['index=off,lowerdir=a:b:c,upperdir=/u,workdir=/w,xino=auto', { lower: ['a', 'b', 'c'], upper: '/u', work: '/w', other: ['index=off', 'xino=auto'] }],
    ['lowerdir=a:b', { lower: ['a', 'b'], other: [] }],
  ])('%s', (data, layers) => expect(parseOverlayData(data)).toEqual(layers));

  test.each([
    ['', 'lowerdir: is required: an overlay mount needs at least one lower layer'],
    ['upperdir=u,workdir=w', 'lowerdir: is required: an overlay mount needs at least one lower layer'],
    ['lowerdir=', 'lowerdir: needs a path'],
    ['lowerdir=a,lowerdir=b,upperdir=u,workdir=w', 'lowerdir "b": is given twice'],
    ['lowerdir=a::b', 'lowerdir "a::b": has an empty layer'],
    ['lowerdir=a,upperdir=u', 'workdir: is required with upperdir: overlayfs keeps its work files there'],
    ['lowerdir=a,workdir=w', 'upperdir: is required with workdir'],
    ['lowerdir=a', 'lowerdir "a": needs two layers or more without upperdir (a read-only overlay)'],
    ['lowerdir=a\\:b,upperdir=u,workdir=w', 'lowerdir "a\\\\:b": contains a character overlayfs reads as a separator or an escape'],
    ['lowerdir=a,upperdir=u:v,workdir=w', 'upperdir "u:v": contains a character overlayfs reads as a separator or an escape'],
  ])('%j is refused: %s', (data, message) => {
    expect(() => parseOverlayData(data)).toThrow(ConfigError);
    expect(() => parseOverlayData(data)).toThrow(message);
  });
});

describe('resolveLayers', () => {
  test('relative paths are from the bundle directory, absolute ones are host paths', () => {
    const layers = parseOverlayData('lowerdir=layers/a:/srv/b:../c,upperdir=./up,workdir=/var/w');
    expect(resolveLayers(layers, '/bundles/one')).toEqual({ lower: ['/bundles/one/layers/a', '/srv/b', '/bundles/c'], upper: '/bundles/one/up', work: '/var/w', other: [] });
  });

  test.each([
    ['upperdir=u,workdir=u', '/b/u'],
    ['upperdir=u,workdir=u/w', '/b/u/w'],
    ['upperdir=w/u,workdir=w', '/b/w'],
  ])('%s: upperdir and workdir must be separate subtrees', (dirs, work) => {
    expect(() => resolveLayers(parseOverlayData(`lowerdir=l,${dirs}`), '/b')).toThrow(`workdir "${work}": must not be upperdir`);
  });

  test('overlayData gives the layers first, then the other options', () => {
    expect(overlayData(resolveLayers(parseOverlayData('xino=off,lowerdir=a:b,upperdir=u,workdir=w'), '/b'))).toBe(
      'lowerdir=/b/a:/b/b,upperdir=/b/u,workdir=/b/w,xino=off',
    );
  });
});

describe('parseOptions', () => {
  test('defaults, and each option', () => {
    expect(parseOptions({})).toEqual({ createMissing: true, dirMode: 0o755 });
    expect(parseOptions({ createMissing: false, dirMode: 0o700 })).toEqual({ createMissing: false, dirMode: 0o700 });
  });

  test.each([
    [{ createMissing: 'yes' }, 'options.createMissing "yes": must be true or false'],
    [{ dirMode: '0755' }, 'options.dirMode "0755": must be a mode from 0 to 4095 (0o7777)'],
    [{ dirMode: 0o10000 }, 'options.dirMode 4096: must be a mode'],
    [{ mode: 1 }, 'options.mode 1: is not an option of the overlay plugin (known: createMissing, dirMode)'],
  ])('%j is refused', (raw, message) => expect(() => parseOptions(raw)).toThrow(message));
});
