import { fdsNamedBy, showNamedFds } from '../../src/core/syscalls/named-fds';

/** Descriptors 5 and 6 open at /l/five and /l/six; any other not open. */
const held = (fd: number) => ({ 5: '/l/five', 6: '/l/six' })[fd];

describe('showNamedFds: the descriptors a call names, shown as paths', () => {
  test.each([
    // Descriptor arguments; AT_FDCWD and one not open stay numbers.
    [{ op: 'mkdirat', dirfd: 5, path: 'x', mode: 0o755 }, { op: 'mkdirat', dirfd: '/l/five', path: 'x', mode: 0o755 }],
    [{ op: 'mkdirat', dirfd: -100, path: 'x', mode: 0o755 }, { op: 'mkdirat', dirfd: -100, path: 'x', mode: 0o755 }],
    [{ op: 'close', fd: 7 }, { op: 'close', fd: 7 }],
    // A path argument that starts with a magic link, the rest joined on.
    [{ op: 'stat', path: '/proc/self/fd/5/a/b' }, { op: 'stat', path: '/l/five/a/b' }],
    [{ op: 'stat', path: '/proc/thread-self/fd/6' }, { op: 'stat', path: '/l/six' }],
    // A symlink's target is its text.
    [{ op: 'symlinkat', target: '/proc/self/fd/5', dirfd: 6, linkPath: 'l' }, { op: 'symlinkat', target: '/proc/self/fd/5', dirfd: '/l/six', linkPath: 'l' }],
    // Mount data: each layer of overlayfs's lists, and an option's value; not a link that goes on (fd/55, fd/5x), one not open.
    [
      { op: 'mount', source: 'overlay', target: '/proc/thread-self/fd/6', fstype: 'overlay', flags: 0n, data: 'lowerdir=/proc/self/fd/5:/proc/thread-self/fd/6/sub::/proc/self/fd/9,upperdir=/proc/self/fd/55,workdir=/proc/self/fd/5x' },
      { op: 'mount', source: 'overlay', target: '/l/six', fstype: 'overlay', flags: 0n, data: 'lowerdir=/l/five:/l/six/sub::/proc/self/fd/9,upperdir=/proc/self/fd/55,workdir=/proc/self/fd/5x' },
    ],
    [{ op: 'mount', source: null, target: '/m', fstype: 'x', flags: 0n, data: '/proc/self/fd/6/' }, { op: 'mount', source: null, target: '/m', fstype: 'x', flags: 0n, data: '/l/six' }],
    [{ op: 'mount', source: null, target: '/m', fstype: 'x', flags: 0n, data: 'a/proc/self/fd/6,b=x/proc/self/fd/5' }, { op: 'mount', source: null, target: '/m', fstype: 'x', flags: 0n, data: 'a/proc/self/fd/6,b=x/proc/self/fd/5' }],
    [{ op: 'fsconfig', fd: 6, cmd: 1, key: 'lowerdir', value: '/proc/self/fd/5', aux: 0 }, { op: 'fsconfig', fd: '/l/six', cmd: 1, key: 'lowerdir', value: '/l/five', aux: 0 }],
    // A file's content is not options.
    [{ op: 'writeFile', path: '/f', data: '/proc/self/fd/5' }, { op: 'writeFile', path: '/f', data: '/proc/self/fd/5' }],
    // A command's via; its path, dir and args are the command's to look up.
    [
      { op: 'runCommand', cmd: { path: '/proc/self/fd/5', args: ['/proc/self/fd/6'], dir: '/proc/self/fd/5', via: 6 } },
      { op: 'runCommand', cmd: { path: '/proc/self/fd/5', args: ['/proc/self/fd/6'], dir: '/proc/self/fd/5', via: '/l/six' } },
    ],
    [{ op: 'runCommand', cmd: { path: '/h', args: [], dir: '/' } }, { op: 'runCommand', cmd: { path: '/h', args: [], dir: '/' } }],
  ])('%j', (rec, shown) => {
    expect(showNamedFds(rec, held)).toEqual(shown);
  });
});

describe('fdsNamedBy', () => {
  test.each([
    [{ op: 'mount', source: '/proc/self/fd/3', target: '/proc/thread-self/fd/4', fstype: 'overlay', flags: 0n, data: 'lowerdir=/proc/self/fd/5:/proc/self/fd/6' }, [4, 5, 6, 3]],
    [{ op: 'symlinkat', target: '/proc/self/fd/0', dirfd: 7, linkPath: 'stdin' }, [7, 0]],
    [{ op: 'runCommand', cmd: { path: '/h', args: [], dir: '/', via: 3 } }, [3]],
    [{ op: 'writeFile', path: '/f', data: 'lowerdir=/proc/self/fd/5' }, []],
  ])('%j', (rec, fds) => {
    expect(fdsNamedBy(rec).sort()).toEqual([...fds].sort());
  });
});
