import { cleanPath, containerPath, isWithin, procDestinationProblem } from '../../src/core/paths';

describe('cleanPath', () => {
  test.each([
    ['/', '/'],
    ['', '/'],
    ['proc', '/proc'],
    ['/a/b/', '/a/b'],
    ['//a//b', '/a/b'],
    ['/a/./b/../c', '/a/c'],
    ['/../../etc', '/etc'],
  ])('%j -> %j', (input, expected) => expect(cleanPath(input)).toBe(expected));
});

describe('isWithin / containerPath', () => {
  test.each([
    ['/r', '/r', true],
    ['/r', '/r/a', true],
    ['/r', '/rx', false],
    ['/r', '/', false],
    ['/', '/anything', true],
  ])('isWithin(%j, %j) = %j', (root, p, expected) => expect(isWithin(root, p)).toBe(expected));

  test.each([
    ['/r', '/r', '/'],
    ['/r', '/r/proc/cpuinfo', '/proc/cpuinfo'],
    ['/', '/etc', '/etc'],
  ])('containerPath(%j, %j) = %j', (root, p, expected) => expect(containerPath(root, p)).toBe(expected));

  test.each([
    ['/r', '/etc'],
    ['/r', '/rx/a'],
    ['/r/s', '/r'],
  ])('containerPath(%j, %j) refuses a path outside the root', (root, p) => {
    expect(() => containerPath(root, p)).toThrow(`${JSON.stringify(p)} is outside the root ${JSON.stringify(root)}`);
  });
});

describe('procDestinationProblem', () => {
  test.each([
    ['/proc', 'refused'],
    ['/proc/sys', 'refused'],
    ['/proc/self/fd', 'refused'],
    ['/proc/cpuinfo', 'allowed'],
    ['/proc/meminfo', 'allowed'],
    ['/proc/sys/kernel/ns_last_pid', 'allowed'],
    ['/proc/sys/crypto/fips_enabled', 'allowed'],
    ['/proc/loadavg', 'allowed'],
    ['/proc/cpuinfo/x', 'refused'],
    ['/procx', 'allowed'],
    ['/sys', 'allowed'],
  ])('%s is %s', (dest, verdict) => {
    expect(procDestinationProblem(dest) === undefined ? 'allowed' : 'refused').toBe(verdict);
  });

  test('the message names the path', () => {
    expect(procDestinationProblem('/proc/sys')).toBe('"/proc/sys" cannot be mounted because it is inside /proc');
  });
});
