import { ConfigError } from '../../src/core/errors';

describe('ConfigError shows the value on one line, whatever it is', () => {
  const deep: unknown[] = [];
  let inner = deep;
  for (let i = 0; i < 20000; i++) {
    const next: unknown[] = [];
    inner.push(next);
    inner = next;
  }
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  const long = `/${'a'.repeat(99999)}`;

  test.each<[string, unknown, string]>([
    ['a string, quoted', '/a b', 'f "/a b": r'],
    ['a number', 5, 'f 5: r'],
    ['Infinity (1e309 in JSON), which JSON.stringify writes as null', Infinity, 'f Infinity: r'],
    ['-Infinity', -Infinity, 'f -Infinity: r'],
    ['a bigint', 12n, 'f 12: r'],
    ['an array nested deeper than the stack', deep, 'f an array: r'],
    ['a cyclic object', cyclic, 'f an object: r'],
    ['an object, cut to a glimpse', { k: 'v'.repeat(200) }, `f ${JSON.stringify({ k: 'v'.repeat(200) }).slice(0, 77)}...: r`],
    ['a string longer than any path, cut, saying how long', long, `f ${JSON.stringify(long).slice(0, 4197)}... (100000 characters): r`],
    ['a string of PATH_MAX, whole', `/${'p'.repeat(4095)}`, `f ${JSON.stringify(`/${'p'.repeat(4095)}`)}: r`],
  ])('%s', (_what, value, message) => {
    expect(new ConfigError('f', value, 'r').message).toBe(message);
  });
});
