import * as posix from 'path/posix';
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
    ['/.hidden/..x/x.', '/.hidden/..x/x.'],
    ['/a/.', '/a'],
    ['/a/..', '/'],
    ['.', '/'],
  ])('%j -> %j', (input, expected) => expect(cleanPath(input)).toBe(expected));

  test('gives what posix.normalize gives, without the trailing slash, for every path of up to 7 of "/", ".", "a"', () => {
    const viaNormalize = (p: string) => {
      const n = posix.normalize('/' + p);
      return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
    };
    let paths = [''];
    let checked = 0;
    for (let len = 0; len <= 7; len++) {
      for (const p of paths) {
        expect([p, cleanPath(p)]).toEqual([p, viaNormalize(p)]);
        checked++;
      }
      paths = paths.flatMap((p) => ['/', '.', 'a'].map((c) => p + c));
    }
    expect(checked).toBe((3 ** 8 - 1) / 2);
  });
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
    // lxcfs's, on runc 1.1.5's list too.
    ['/proc/net/dev', 'allowed'],
    ['/proc/net', 'refused'],
    ['/proc/cpuinfo/x', 'refused'],
    ['/procx', 'allowed'],
    ['/sys', 'allowed'],
  ])('%s is %s', (dest, verdict) => {
    expect(procDestinationProblem(dest) === undefined ? 'allowed' : 'refused').toBe(verdict);
  });

  test('the message names the path', () => {
    expect(procDestinationProblem('/proc/sys')).toBe('"/proc/sys" cannot be mounted because it is inside /proc');
    expect(procDestinationProblem('/proc')).toBe('"/proc" takes only a proc filesystem, or a bind of one');
  });
});
