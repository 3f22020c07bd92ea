import { cleanPath, containerPath, isWithin, procDestinationProblem, secureJoin } from '../../src/core/paths';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

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
});

describe('secureJoin', () => {
  function tree(): FakeSyscalls {
    const sys = new FakeSyscalls();
    sys.addDir('/r/etc');
    sys.addDir('/r/usr/lib');
    sys.addSymlink('/r/abs', '/etc');
    sys.addSymlink('/r/up', '../../../../etc');
    sys.addSymlink('/r/rel', 'usr/lib');
    sys.addSymlink('/r/chain', 'abs');
    sys.addSymlink('/r/dangling', '/nowhere/at/all');
    sys.addSymlink('/r/usr/lib/back', '../../etc');
    sys.addSymlink('/r/loop1', 'loop2');
    sys.addSymlink('/r/loop2', 'loop1');
    sys.addDir('/etc');
    return sys;
  }

  test.each([
    ['/etc', '/r/etc'],
    ['etc/x', '/r/etc/x'],
    ['/../../etc/passwd', '/r/etc/passwd'],
    ['/abs/passwd', '/r/etc/passwd'],
    ['/up/passwd', '/r/etc/passwd'],
    ['/rel/x', '/r/usr/lib/x'],
    ['/chain/y', '/r/etc/y'],
    ['/dangling/z', '/r/nowhere/at/all/z'],
    ['/usr/lib/back/shadow', '/r/etc/shadow'],
    ['/missing/../etc', '/r/etc'],
    ['/', '/r'],
    ['', '/r'],
  ])('%j resolves to %j', (unsafe, expected) => expect(secureJoin(tree(), '/r', unsafe)).toBe(expected));

  test('a symlink loop is ELOOP naming the link', () => {
    expect(() => secureJoin(tree(), '/r', '/loop1/x')).toThrow(/^readlink "\/r\/loop[12]": ELOOP$/);
  });

  test('other lstat failures propagate', () => {
    const sys = tree();
    sys.failOn('lstat', 'EACCES', { path: '/r/etc' });
    expect(() => secureJoin(sys, '/r', '/etc/x')).toThrow('lstat "/r/etc": EACCES');
  });
});

describe('procDestinationProblem', () => {
  test.each([
    ['/r/proc', 'refused'],
    ['/r/proc/sys', 'refused'],
    ['/r/proc/self/fd', 'refused'],
    ['/r/proc/cpuinfo', 'allowed'],
    ['/r/proc/meminfo', 'allowed'],
    ['/r/proc/sys/kernel/ns_last_pid', 'allowed'],
    ['/r/proc/sys/crypto/fips_enabled', 'allowed'],
    ['/r/proc/loadavg', 'allowed'],
    ['/r/proc/cpuinfo/x', 'refused'],
    ['/r/procx', 'allowed'],
    ['/r/sys', 'allowed'],
  ])('%s is %s', (dest, verdict) => {
    expect(procDestinationProblem('/r', dest) === undefined ? 'allowed' : 'refused').toBe(verdict);
  });

  test('the message names the container path', () => {
    expect(procDestinationProblem('/r', '/r/proc/sys')).toBe('"/proc/sys" cannot be mounted because it is inside /proc');
  });
});
