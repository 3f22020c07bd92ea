import { O_CLOEXEC, O_DIRECTORY, O_NOFOLLOW, O_PATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS } from '../../src/core/constants';
import { SyscallError, errnoNumber } from '../../src/core/errors';
import {
  IN_ROOT_NO_SYMLINKS,
  IN_ROOT_RESOLVE,
  createInRoot,
  fdPath,
  inRootResolver,
  lexicalPath,
  namesAreExact,
  makeFile,
  openInRoot,
  openInRootIfExists,
  openRootDir,
  pathParts,
  resolveInRoot,
  withParentInRoot,
} from '../../src/core/in-root';
import { FakeSyscalls } from '../../src/core/syscalls/fake';

const PATH = O_PATH | O_CLOEXEC;

/** A rootfs at /r with links of every kind, and a host /etc that nothing may reach. */
function tree(): FakeSyscalls {
  const sys = new FakeSyscalls();
  sys.addFile('/r/etc/passwd', 'inside');
  sys.addDir('/r/usr/lib');
  sys.addSymlink('/r/abs', '/etc');
  sys.addSymlink('/r/up', '../../../../etc');
  sys.addSymlink('/r/rel', 'usr/lib');
  sys.addSymlink('/r/chain', 'abs');
  sys.addSymlink('/r/dangling', '/nowhere/at/all');
  sys.addSymlink('/r/usr/lib/back', '../../etc');
  // An absolute link below the first component: the lookup starts again at the root, not at the host's /.
  sys.addSymlink('/r/usr/lib/hostetc', '/etc');
  sys.addSymlink('/r/loop1', 'loop2');
  sys.addSymlink('/r/loop2', 'loop1');
  sys.addSymlink('/r/magic', '/proc/self/fd/3');
  sys.addFile('/etc/passwd', 'host');
  return sys;
}

/** The two lookups: openat2 RESOLVE_IN_ROOT, and the walk a kernel without openat2 (ENOSYS) gets. */
const MODES = [
  ['openat2', (sys: FakeSyscalls) => sys],
  ['walk', (sys: FakeSyscalls) => sys.failOn('openat2', 'ENOSYS')],
] as const;

/** Every descriptor the fake handed out is closed again, but `keep`. */
function expectAllClosed(sys: FakeSyscalls, ...keep: number[]): void {
  expect(sys.openFds()).toEqual(keep);
}

describe.each(MODES)('in-root lookup (%s)', (mode, prepare) => {
  const setup = () => prepare(tree());

  test.each([
    ['/etc', '/etc'],
    ['etc/x', '/etc/x'],
    ['/../../etc/passwd', '/etc/passwd'],
    ['/abs/passwd', '/etc/passwd'],
    ['/up/passwd', '/etc/passwd'],
    ['/rel/x', '/usr/lib/x'],
    ['/chain/y', '/etc/y'],
    ['/dangling/z', '/nowhere/at/all/z'],
    ['/usr/lib/back/shadow', '/etc/shadow'],
    ['/usr/lib/hostetc/shadow', '/etc/shadow'],
    ['/rel/hostetc', '/etc'],
    ['/missing/../etc', '/etc'],
    ['/missing/../chain', '/etc'],
    ['/rel/../etc', '/usr/etc'],
    ['/magic', '/proc/self/fd/3'],
    ['/', '/'],
    ['', '/'],
    ['..', '/'],
  ])('resolveInRoot(%j) = %j, nothing made', (unsafe, expected) => {
    const sys = setup();
    expect(resolveInRoot(sys, '/r', unsafe)).toBe(expected);
    expect(sys.effects().filter((c) => c.op !== 'open' && c.op !== 'openat' && c.op !== 'openat2' && c.op !== 'close')).toEqual([]);
    expectAllClosed(sys);
  });

  test.each([
    ['/up/passwd', '/r/etc/passwd'],
    ['/chain/passwd', '/r/etc/passwd'],
    ['/usr/lib/back/passwd', '/r/etc/passwd'],
    ['/usr/lib/hostetc/passwd', '/r/etc/passwd'],
    ['/rel/hostetc/passwd', '/r/etc/passwd'],
    ['../../..', '/r'],
  ])('openInRoot(%j) opens %j', (unsafe, hostPath) => {
    const sys = setup();
    const fd = openInRoot(sys, '/r', unsafe);
    expect(sys.pathOf(fd)).toBe(hostPath);
    expect(sys.fstat(fd).ino).toBe(sys.stat(hostPath).ino);
    expectAllClosed(sys, fd);
  });

  test('O_NOFOLLOW opens a link in the last component itself; links before it are followed', () => {
    const sys = setup();
    expect(sys.fstat(openInRoot(sys, '/r', '/abs', O_NOFOLLOW)).kind).toBe('symlink');
    expect(sys.pathOf(openInRoot(sys, '/r', '/chain/passwd', O_NOFOLLOW))).toBe('/r/etc/passwd');
  });

  test('O_DIRECTORY refuses anything else with ENOTDIR, naming the path', () => {
    const sys = setup();
    expect(() => openInRoot(sys, '/r', '/abs/passwd', O_DIRECTORY)).toThrow('openat "/r/abs/passwd": ENOTDIR');
    expectAllClosed(sys);
  });

  test('something missing is ENOENT naming the path asked for; a dangling link too', () => {
    const sys = setup();
    expect(() => openInRoot(sys, '/r', '/etc/x')).toThrow('openat "/r/etc/x": ENOENT');
    expect(() => openInRoot(sys, '/r', '/dangling')).toThrow('openat "/r/dangling": ENOENT');
    expectAllClosed(sys);
  });

  test('a path through a file is ENOTDIR', () => {
    const sys = setup();
    expect(() => openInRoot(sys, '/r', '/etc/passwd/x')).toThrow(/^openat2? "\/r\/etc\/passwd\/x": ENOTDIR$/);
    expectAllClosed(sys);
  });

  test('a failing fstat on the way closes every descriptor the lookup opened, the failing one too', () => {
    const sys = setup().failOn('fstat', 'EIO');
    expect(() => openInRoot(sys, '/r', '/usr/lib/x')).toThrow(mode === 'walk' ? 'fstat "/r/usr/lib/x": EIO' : 'openat "/r/usr/lib/x": ENOENT');
    expectAllClosed(sys);
  });

  test('a symlink loop is ELOOP (openat2 says what its ELOOP may mean: it also refuses a magic link)', () => {
    const sys = setup();
    const message =
      mode === 'walk'
        ? 'openat "/r/loop1/x": ELOOP'
        : 'openat2 "/r/loop1/x": ELOOP (a magic link of /proc on the way, which a lookup inside the rootfs does not follow, or more than 40 symlinks)';
    expect(() => openInRoot(sys, '/r', '/loop1/x')).toThrow(new Error(message));
    expectAllClosed(sys);
  });
});


test('every in-root lookup asks for RESOLVE_NO_MAGICLINKS itself: RESOLVE_IN_ROOT disables magic links today, which openat2(2) says may change', () => {
  expect(IN_ROOT_RESOLVE & RESOLVE_IN_ROOT).toBe(RESOLVE_IN_ROOT);
  expect(IN_ROOT_RESOLVE & RESOLVE_NO_MAGICLINKS).toBe(RESOLVE_NO_MAGICLINKS);
});

describe('a root kept open (RootDir)', () => {
  test('every lookup starts from its descriptor, which stays open; its name is read once, by the first lookup through a link', () => {
    const sys = tree();
    const root = openRootDir(sys, '/r');
    const seen: string[] = [];
    const vet = (inside: string) => void seen.push(inside);
    const a = createInRoot(sys, root, '/etc', { vet });
    const b = createInRoot(sys, root, '/rel', { vet });
    const c = createInRoot(sys, root, '/chain', { vet });
    const d = openInRoot(sys, root, '/rel');
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'etc', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openat2', dirfd: 100, path: 'rel', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openat2', dirfd: 100, path: 'rel', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'readlink', path: fdPath(100) },
      { op: 'readlink', path: fdPath(102) },
      { op: 'openat2', dirfd: 100, path: 'chain', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openat2', dirfd: 100, path: 'chain', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'readlink', path: fdPath(103) },
      { op: 'openat2', dirfd: 100, path: 'rel', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
    ]);
    expect(seen).toEqual(['/etc', '/usr/lib', '/etc']);
    expect([a, b, c].map((t) => sys.pathOf(t.fd))).toEqual(['/r/etc', '/r/usr/lib', '/r/etc']);
    expect(sys.pathOf(d)).toBe('/r/usr/lib');
    expect(root.stale).toBeUndefined();
    expectAllClosed(sys, 100, a.fd, b.fd, c.fd, d);
  });

  test.each(['/', '/toroot', '/usr/..', '/abs/..'])('createInRoot of %s leads to the root itself: the root is stale, later lookups open its path', (path) => {
    const sys = tree();
    sys.addSymlink('/r/toroot', '/');
    const root = openRootDir(sys, '/r');
    const t = createInRoot(sys, root, path);
    expect(sys.pathOf(t.fd)).toBe('/r');
    expect(root.stale).toBe(true);
    const before = sys.calls.length;
    sys.close(openInRoot(sys, root, '/etc'));
    expect(sys.calls.slice(before).map((c) => c.op)).toEqual(['open', 'openat2', 'close', 'close']);
    expect(sys.callsOf('open').map((c) => c.path)).toEqual(['/r', '/r']);
  });

  test.each([
    ['/toroot', { nofollow: true }],
    ['/usr/new', {}],
  ])('createInRoot of %s %j cannot lead to the root (a name not followed, something made): no name read, not stale', (path, opts) => {
    const sys = tree();
    sys.addSymlink('/r/toroot', '/');
    const root = openRootDir(sys, '/r');
    createInRoot(sys, root, path, opts);
    expect(root.stale).toBeUndefined();
    expect(sys.callsOf('readlink')).toEqual([]);
  });
});

describe('where a lookup led: the path itself when no symlink was on the way', () => {
  /** createInRoot with a vet that records what it is shown. */
  const vetted = (sys: FakeSyscalls, unsafe: string, opts: { nofollow?: boolean } = {}) => {
    const seen: string[] = [];
    const t = createInRoot(sys, '/r', unsafe, { ...opts, vet: (inside) => void seen.push(inside) });
    return { t, seen };
  };

  test.each([
    ['/etc', '/etc'],
    ['etc/passwd', '/etc/passwd'],
    ['/usr/lib/../../etc/./passwd', '/etc/passwd'],
    ['/../../usr//lib/', '/usr/lib'],
    ['/usr/..', '/'],
    ['', '/'],
  ])('%j: one openat2 with RESOLVE_NO_SYMLINKS, shown as %j, no readlink; the same as readlink shows', (unsafe, inside) => {
    const sys = tree();
    const { t, seen } = vetted(sys, unsafe);
    expect(seen).toEqual([inside]);
    expect(sys.callsOf('openat2')).toEqual([{ op: 'openat2', dirfd: 100, path: expect.any(String), flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS }]);
    expect(sys.callsOf('readlink')).toEqual([]);
    expect(sys.pathOf(t.fd)).toBe(inside === '/' ? '/r' : `/r${inside}`);
    // A lookup made to go the other way (ELOOP on the first try) reads the same place with readlink.
    const other = tree().failOn('openat2', 'ELOOP', { nth: 1 });
    expect(vetted(other, unsafe).seen).toEqual([inside]);
    expect(other.callsOf('readlink')).toHaveLength(2);
  });

  test('a symlink on the way: ELOOP, then the lookup as without the flag, and readlink of the root and the target', () => {
    const sys = tree();
    const { t, seen } = vetted(sys, '/up/passwd');
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'up/passwd', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openat2', dirfd: 100, path: 'up/passwd', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'readlink', path: fdPath(100) },
      { op: 'readlink', path: fdPath(101) },
      { op: 'close', fd: 100 },
    ]);
    expect(seen).toEqual(['/etc/passwd']);
    expect(sys.pathOf(t.fd)).toBe('/r/etc/passwd');
  });

  test('a path through a link into /proc is still vetted where it leads, and refused there', () => {
    const sys = tree();
    sys.addDir('/r/proc/sys');
    sys.addSymlink('/r/p', '/proc');
    const refuse = (inside: string) => {
      if (inside.startsWith('/proc')) throw new Error(`refused ${inside}`);
    };
    expect(() => createInRoot(sys, '/r', '/p/sys/x/y', { vet: refuse })).toThrow('refused /proc/sys/x/y');
    expect(() => createInRoot(sys, '/r', '/usr/../proc/sys', { vet: refuse })).toThrow('refused /proc/sys');
    expect(sys.callsOf('mkdirat')).toEqual([]);
    expectAllClosed(sys);
  });

  test.each([['/PROC/sys'], ['/Proc'], ['/usr/../pRoC/x'], ['/caf\u00e9'], ['/pro\u200bc/sys']])(
    '%j: a name a case-folding directory may take for another is looked up without the shortcut, and shown as readlink shows it',
    (unsafe) => {
      const sys = tree();
      vetted(sys, unsafe);
      expect(sys.callsOf('openat2').map((c) => c.resolve)).toEqual([IN_ROOT_RESOLVE]);
      expect(sys.callsOf('readlink')).toHaveLength(2);
    },
  );

  test.each([
    [['proc', 'sys'], true],
    [['etc', 'passwd'], true],
    [['a b', '-x_y.z', '..'], true],
    [['PROC'], false],
    [['usr', 'Proc'], false],
    [['processes'], true],
    [['caf\u00e9'], false],
    [['pro\u200bc'], false],
  ])('namesAreExact(%j) = %j', (parts, exact) => expect(namesAreExact(parts)).toBe(exact));

  test('with nofollow a link in the last component is opened itself, and shown at its own path', () => {
    const sys = tree();
    const { t, seen } = vetted(sys, '/usr/lib/back', { nofollow: true });
    expect(sys.fstat(t.fd).kind).toBe('symlink');
    expect(seen).toEqual(['/usr/lib/back']);
    expect(sys.callsOf('openat2').map((c) => c.resolve)).toEqual([IN_ROOT_NO_SYMLINKS]);
  });

  test('the last component missing (ENOENT): its parent is opened the same way, and it is made there, with no walk', () => {
    const sys = tree();
    const { t, seen } = vetted(sys, '/usr/lib/../new');
    expect(seen).toEqual(['/usr/new']);
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'usr/lib/../new', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'openat2', dirfd: 100, path: 'usr/lib/..', flags: PATH, mode: 0, resolve: IN_ROOT_NO_SYMLINKS },
      { op: 'mkdirat', dirfd: 101, path: 'new', mode: 0o755 },
      { op: 'openat', dirfd: 101, path: 'new', flags: PATH | O_NOFOLLOW, mode: 0 },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
    expect(sys.pathOf(t.fd)).toBe('/r/usr/new');
  });

  test('more than the last component missing: the parent is missing too, and the path is walked', () => {
    const sys = tree();
    const { seen } = vetted(sys, '/usr/new/dir');
    expect(seen).toEqual(['/usr/new/dir']);
    expect(sys.callsOf('openat2').map((c) => [c.path, c.resolve])).toEqual([
      ['usr/new/dir', IN_ROOT_NO_SYMLINKS],
      ['usr/new', IN_ROOT_NO_SYMLINKS],
    ]);
    // The walk: usr opened, new missing; then new and dir made and opened.
    expect(sys.callsOf('openat').map((c) => c.path)).toEqual(['usr', 'new', 'new', 'dir']);
    expect(sys.callsOf('mkdirat').map((c) => c.path)).toEqual(['new', 'dir']);
  });

  test('a dangling link in the last component is created through, inside the root, as the walk does', () => {
    const sys = tree();
    const { t, seen } = vetted(sys, '/dangling');
    expect(seen).toEqual(['/nowhere/at/all']);
    expect(sys.pathOf(t.fd)).toBe('/r/nowhere/at/all');
    // ELOOP, not ENOENT, for the link: the lookup is made again without the flag, then walked.
    expect(sys.callsOf('openat2').map((c) => c.resolve)).toEqual([IN_ROOT_NO_SYMLINKS, IN_ROOT_RESOLVE]);
    expect(sys.node('/nowhere')).toBeUndefined();
  });

  test('a missing parent under a link is walked', () => {
    const sys = tree();
    const { seen } = vetted(sys, '/rel/new');
    expect(seen).toEqual(['/usr/lib/new']);
    expect(sys.callsOf('openat2').map((c) => c.resolve)).toEqual([IN_ROOT_NO_SYMLINKS, IN_ROOT_RESOLVE]);
    expect(sys.callsOf('mkdirat').map((c) => c.path)).toEqual(['new']);
  });

  test('openInRoot of something missing: the ENOENT of openat2 is the answer, nothing is walked', () => {
    const sys = tree();
    expect(openInRootIfExists(sys, '/r', '/usr/lib/x/y')).toBeUndefined();
    expect(sys.calls.map((c) => c.op)).toEqual(['open', 'openat2', 'close']);
    expect(() => openInRoot(sys, '/r', '/usr/x')).toThrow('openat "/r/usr/x": ENOENT');
  });

  test('EAGAIN is retried with the same flags; another failure is thrown', () => {
    const sys = tree().failOn('openat2', 'EAGAIN', { times: 2 });
    expect(vetted(sys, '/etc').seen).toEqual(['/etc']);
    expect(sys.callsOf('openat2').map((c) => c.resolve)).toEqual([IN_ROOT_NO_SYMLINKS, IN_ROOT_NO_SYMLINKS, IN_ROOT_NO_SYMLINKS]);
    const failing = tree().failOn('openat2', 'EACCES');
    expect(() => vetted(failing, '/etc')).toThrow('openat2 "/r/etc": EACCES');
    expect(failing.callsOf('openat2')).toHaveLength(1);
    expectAllClosed(failing);
  });

  test('resolveInRoot takes the same way', () => {
    const sys = tree();
    expect(resolveInRoot(sys, '/r', '/usr/lib/../lib')).toBe('/usr/lib');
    expect(sys.callsOf('readlink')).toEqual([]);
    expect(resolveInRoot(sys, '/r', '/usr/lib/back')).toBe('/etc');
    expect(sys.callsOf('readlink')).toHaveLength(2);
  });

  test.each([
    [[], '/'],
    [['a', 'b'], '/a/b'],
    [['..', 'a', '..', '..', 'b'], '/b'],
    [['a', 'b', '..', 'c'], '/a/c'],
  ])('lexicalPath(%j) = %j', (parts, path) => {
    expect(lexicalPath(parts)).toBe(path);
  });
});

describe('in-root lookup: how the kernel is asked', () => {
  test('with openat2: one RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS call from a descriptor of the root', () => {
    const sys = tree();
    const fd = openInRoot(sys, '/r', '/up/passwd');
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'up/passwd', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'close', fd: 100 },
    ]);
    expect(fd).toBe(101);
    expect(inRootResolver(sys)).toBe('openat2');
  });

  test('without openat2: ENOSYS once, then every lookup walks; links are read from their own descriptor', () => {
    const sys = tree().failOn('openat2', 'ENOSYS');
    openInRoot(sys, '/r', '/etc');
    expect(inRootResolver(sys)).toBe('walk');
    sys.clearCalls();
    const fd = openInRoot(sys, '/r', '/abs/passwd');
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat', dirfd: 102, path: 'abs', flags: PATH | O_NOFOLLOW, mode: 0 },
      { op: 'fstat', fd: 103 },
      { op: 'readlinkat', dirfd: 103, path: '' },
      { op: 'close', fd: 103 },
      { op: 'openat', dirfd: 102, path: 'etc', flags: PATH | O_NOFOLLOW, mode: 0 },
      { op: 'fstat', fd: 104 },
      { op: 'openat', dirfd: 104, path: 'passwd', flags: PATH | O_NOFOLLOW, mode: 0 },
      { op: 'fstat', fd: 105 },
      { op: 'close', fd: 104 },
      { op: 'close', fd: 102 },
    ]);
    expect(sys.pathOf(fd)).toBe('/r/etc/passwd');
  });

  test('openat2 refused by a seccomp filter (EPERM, also for the root itself): the port walks from then on', () => {
    const sys = tree().failOn('openat2', 'EPERM', { times: Infinity });
    const fd = openInRoot(sys, '/r', '/abs/passwd');
    expect(sys.calls.slice(0, 3)).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'abs/passwd', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'openat2', dirfd: 100, path: '.', flags: PATH, mode: 0, resolve: 0n },
    ]);
    expect(sys.callsOf('openat').length).toBeGreaterThan(0);
    expect(sys.pathOf(fd)).toBe('/r/etc/passwd');
    expect(inRootResolver(sys)).toBe('walk');
  });

  test("EPERM for a lookup while openat2 opens the root's own directory is the lookup's answer", () => {
    const sys = tree().failOn('openat2', 'EPERM');
    expect(() => openInRoot(sys, '/r', '/etc')).toThrow('openat2 "/r/etc": EPERM');
    expect(sys.calls).toEqual([
      { op: 'open', path: '/r', flags: PATH | O_DIRECTORY, mode: 0 },
      { op: 'openat2', dirfd: 100, path: 'etc', flags: PATH, mode: 0, resolve: IN_ROOT_RESOLVE },
      { op: 'openat2', dirfd: 100, path: '.', flags: PATH, mode: 0, resolve: 0n },
      { op: 'close', fd: 101 },
      { op: 'close', fd: 100 },
    ]);
    expect(inRootResolver(sys)).toBe('openat2');
  });

  test('EAGAIN (a rename raced a ".." step) is retried', () => {
    const sys = tree().failOn('openat2', 'EAGAIN', { times: 2 });
    expect(sys.pathOf(openInRoot(sys, '/r', '/up/passwd'))).toBe('/r/etc/passwd');
    expect(sys.callsOf('openat2')).toHaveLength(3);
  });

  test('another openat2 failure is not walked around', () => {
    const sys = tree().failOn('openat2', 'ELOOP');
    expect(() => openInRoot(sys, '/r', '/magic')).toThrow('openat2 "/r/magic": ELOOP');
    expect(sys.callsOf('openat')).toEqual([]);
    expect(inRootResolver(sys)).toBe('openat2');
  });

  test.each([
    ['//a/./b/../c/', ['a', 'b', '..', 'c']],
    ['', []],
    ['/', []],
    ['.', []],
    ['/./.', []],
    ['a', ['a']],
    ['/a/', ['a']],
    ['a/.', ['a']],
    ['..', ['..']],
    ['/.../.x/x./..y', ['...', '.x', 'x.', '..y']],
  ])('pathParts(%j) keeps ".." and drops empty and "." components: %j', (path, parts) => {
    expect(pathParts(path)).toEqual(parts);
  });
});

describe.each(MODES)('createInRoot (%s)', (mode, prepare) => {
  const setup = () => prepare(tree());

  test('makes the missing directories where the lookup leads, through a dangling link, never outside', () => {
    const sys = setup();
    const made = createInRoot(sys, '/r', '/dangling/z');
    expect(made.made).toBe(true);
    expect(sys.pathOf(made.fd)).toBe('/r/nowhere/at/all/z');
    expect(sys.effects().filter((c) => c.op === 'mkdirat')).toEqual([
      { op: 'mkdirat', dirfd: expect.any(Number), path: 'nowhere', mode: 0o755 },
      { op: 'mkdirat', dirfd: expect.any(Number), path: 'at', mode: 0o755 },
      { op: 'mkdirat', dirfd: expect.any(Number), path: 'all', mode: 0o755 },
      { op: 'mkdirat', dirfd: expect.any(Number), path: 'z', mode: 0o755 },
    ]);
    expect(sys.node('/nowhere')).toBeUndefined();
    expectAllClosed(sys, made.fd);
  });

  test('an existing target is opened, not made', () => {
    const sys = setup();
    const t = createInRoot(sys, '/r', '/up');
    expect(t).toEqual({ fd: expect.any(Number), made: false });
    expect(sys.pathOf(t.fd)).toBe('/r/etc');
    expect(sys.callsOf('mkdirat')).toEqual([]);
  });

  test('make creates the last component: an empty file with O_CREAT|O_EXCL|O_NOFOLLOW', () => {
    const sys = setup();
    const t = createInRoot(sys, '/r', '/abs/hosts', { make: makeFile(sys, 0o644) });
    expect(sys.node('/r/etc/hosts')).toMatchObject({ kind: 'file', perm: 0o644 & ~0o022 });
    expect(sys.pathOf(t.fd)).toBe('/r/etc/hosts');
    expect(sys.node('/etc/hosts')).toBeUndefined();
  });

  test('vet sees the path inside the root before anything is made, and can stop it', () => {
    const sys = setup();
    const seen: string[] = [];
    expect(() =>
      createInRoot(sys, '/r', '/up/new/dir', {
        vet: (inside) => {
          seen.push(inside);
          throw new Error('no');
        },
      }),
    ).toThrow('no');
    expect(seen).toEqual(['/etc/new/dir']);
    expect(sys.callsOf('mkdirat')).toEqual([]);
    expectAllClosed(sys);
  });

  test('beforeMake is called once, after vet and before anything is made, only when something is missing', () => {
    const sys = setup();
    const order: string[] = [];
    const opts = { vet: () => void order.push('vet'), beforeMake: () => void order.push(`beforeMake after ${sys.callsOf('mkdirat').length} mkdirat`) };
    sys.close(createInRoot(sys, '/r', '/up', opts).fd);
    expect(order).toEqual(['vet']);
    sys.close(createInRoot(sys, '/r', '/up/new/dir', opts).fd);
    expect(order).toEqual(['vet', 'vet', 'beforeMake after 0 mkdirat']);
    expect(sys.callsOf('mkdirat').map((c) => c.path)).toEqual(['new', 'dir']);
  });

  test.each([
    ['vet', '/up'],
    ['beforeMake', '/up/new'],
  ])('a SyscallError of the caller\'s %s stops the creation with the caller\'s own naming, not the path asked for', (hook, unsafe) => {
    const sys = setup();
    const err = new SyscallError('stat', errnoNumber('EACCES'), ['/elsewhere']);
    const throwing = () => {
      throw err;
    };
    expect(() => createInRoot(sys, '/r', unsafe, { [hook]: throwing })).toThrow(err);
    expect(sys.callsOf('mkdirat')).toEqual([]);
    expectAllClosed(sys);
  });

  test('nofollow leaves a link in the last component for the caller to see', () => {
    const sys = setup();
    const t = createInRoot(sys, '/r', '/dangling', { nofollow: true });
    expect(t.made).toBe(false);
    expect(sys.fstat(t.fd).kind).toBe('symlink');
  });

  test.each([
    [1, '/r/a'],
    [2, '/r/a/b'],
    [3, '/r/a/b/c'],
  ])('mkdirat failing at directory %i of 3 names that directory, not the whole path, as runc names the one its MkdirAll stopped at', (nth, named) => {
    const sys = setup().failOn('mkdirat', 'EROFS', { nth });
    expect(() => createInRoot(sys, '/r', '/a/b/c')).toThrow(new SyscallError('mkdirat', errnoNumber('EROFS'), [named]));
    expect(sys.callsOf('mkdirat').map((c) => c.path)).toEqual(['a', 'b', 'c'].slice(0, nth));
    expectAllClosed(sys);
  });

  test('mkdirat failing after the lookup learned where it led (vet): the directory named from that, nothing more asked', () => {
    const sys = setup().failOn('mkdirat', 'EACCES', { nth: 2 });
    expect(() => createInRoot(sys, '/r', '/usr/lib/new/dir/x', { vet: () => undefined })).toThrow('mkdirat "/r/usr/lib/new/dir": EACCES');
    const ops = sys.calls.map((c) => c.op);
    expect(ops.slice(ops.lastIndexOf('mkdirat'))).toEqual(['mkdirat', 'close', 'close']);
    expectAllClosed(sys);
  });

  test('mkdirat failing through a link: the directory named where the link led', () => {
    const sys = setup().failOn('mkdirat', 'EROFS');
    expect(() => createInRoot(sys, '/r', '/dangling/z')).toThrow('mkdirat "/r/nowhere": EROFS');
    expectAllClosed(sys);
  });

  test.each([
    ['a file', '/etc/passwd/x/y', '/r/etc/passwd', 'x'],
    ['a file reached through a link', '/abs/passwd/x/y', '/r/etc/passwd', 'x'],
    ['a file reached by ..', '/usr/lib/../../etc/passwd/z', '/r/etc/passwd', 'z'],
  ])('%s on the way: ENOTDIR names that file and the name looked up in it, and nothing is made', (_what, unsafe, named, name) => {
    const sys = setup();
    const syscall = mode === 'walk' ? 'openat' : 'openat2';
    expect(() => createInRoot(sys, '/r', unsafe)).toThrow(`${syscall} "${named}": ENOTDIR (looking up "${name}" in it)`);
    expect(sys.callsOf('mkdirat')).toEqual([]);
    expectAllClosed(sys);
  });
});

describe('createInRoot: the component an openat2 lookup stopped at', () => {
  test('ENOTDIR is walked once, after the one openat2, to the file on the way, which is named with its kernel name', () => {
    const sys = tree().clearCalls();
    expect(() => createInRoot(sys, '/r', '/etc/passwd/x')).toThrow('openat2 "/r/etc/passwd": ENOTDIR (looking up "x" in it)');
    expect(sys.calls.map((c) => [c.op, 'path' in c ? c.path : 'fd' in c ? c.fd : undefined])).toEqual([
      ['open', '/r'],
      ['openat2', 'etc/passwd/x'],
      ['openat', 'etc'],
      ['fstat', 101],
      ['openat', 'passwd'],
      ['fstat', 102],
      ['openat', 'x'],
      ['readlink', '/proc/thread-self/fd/100'],
      ['readlink', '/proc/thread-self/fd/102'],
      ['close', 101],
      ['close', 102],
      ['close', 100],
    ]);
    expectAllClosed(sys);
  });

  test('EACCES names the directory the name could not be looked up in', () => {
    const sys = tree().failOn('openat2', 'EACCES').failOn('openat', 'EACCES', { nth: 2 }).clearCalls();
    expect(() => createInRoot(sys, '/r', '/usr/lib/x')).toThrow('openat2 "/r/usr": EACCES (looking up "lib" in it)');
    expectAllClosed(sys);
  });

  test('a walk that finds nothing in the way (the tree changed meanwhile) leaves the first failure, naming the whole path', () => {
    const sys = tree().failOn('openat2', 'ENOTDIR');
    expect(() => createInRoot(sys, '/r', '/usr/lib/x')).toThrow(new SyscallError('openat2', errnoNumber('ENOTDIR'), ['/r/usr/lib/x']));
    expect(sys.callsOf('mkdirat')).toEqual([]);
    expectAllClosed(sys);
  });

  test('another errno, or another one from the walk, is left as it is', () => {
    const eloop = tree().failOn('openat2', 'EXDEV');
    expect(() => createInRoot(eloop, '/r', '/usr/lib/x')).toThrow(new SyscallError('openat2', errnoNumber('EXDEV'), ['/r/usr/lib/x']));
    expect(eloop.callsOf('openat')).toEqual([]);
    const other = tree().failOn('openat2', 'EACCES').failOn('openat', 'EIO', { nth: 2 });
    expect(() => createInRoot(other, '/r', '/usr/lib/x')).toThrow(new SyscallError('openat2', errnoNumber('EACCES'), ['/r/usr/lib/x']));
    expectAllClosed(other);
  });
});

describe('createInRoot against a swap', () => {
  /** A port on which another process turns each directory being made into a link to the host's /etc. */
  class Racing extends FakeSyscalls {
    override mkdirat(dirfd: number, path: string, mode: number): void {
      super.symlinkat('/../../etc', dirfd, path);
      super.mkdirat(dirfd, path, mode);
    }
  }

  test('a link put where a directory is being made is refused, not followed', () => {
    const sys = new Racing();
    sys.addDir('/r');
    sys.addDir('/etc');
    expect(() => createInRoot(sys, '/r', '/a/b')).toThrow(/^openat "\/r\/a": (ENOTDIR|ELOOP)$/);
    expect(sys.node('/etc/b')).toBeUndefined();
    expect(sys.callsOf('openat').at(-1)).toMatchObject({ path: 'a', flags: PATH | O_NOFOLLOW | O_DIRECTORY });
  });
});

describe('withParentInRoot', () => {
  test('gives the parent, looked up in the root, and the last name unresolved', () => {
    const sys = tree();
    const got = withParentInRoot(sys, '/r', '/chain/passwd', (dirFd, name) => [sys.pathOf(dirFd), name]);
    expect(got).toEqual(['/r/etc', 'passwd']);
    expectAllClosed(sys);
  });

  test.each(['/', '/etc/..'])('%j has no last name: EINVAL', (unsafe) => {
    expect(() => withParentInRoot(tree(), '/r', unsafe, () => undefined)).toThrow(SyscallError);
  });
});

test('fdPath is the magic link of the calling thread', () => {
  expect(fdPath(7)).toBe('/proc/thread-self/fd/7');
});
