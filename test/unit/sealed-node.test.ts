import {
  AT_EACCESS,
  AT_EMPTY_PATH,
  AT_FDCWD,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  MNT_DETACH,
  MOUNT_ATTR_RDONLY,
  MS_BIND,
  MS_NODEV,
  MS_NOSUID,
  MS_RDONLY,
  MS_REMOUNT,
  O_CLOEXEC,
  O_PATH,
  O_RDONLY,
  OPEN_TREE_CLONE,
  W_OK,
} from '../../src/core/constants';
import { StepError } from '../../src/core/errors';
import { NODE_PATH_ENV, detachLauncherBind, execSealedNode, kernelCannotSeal, memfdCopy, ownFileWritable, resealedExec, sealedCopy, sealedCopyOrNone, type NodeStart } from '../../src/core/sealed-node';
import { ExecveCalled, FakeSyscalls } from '../../src/core/syscalls/fake';

const START: NodeStart = {
  execPath: '/usr/bin/node',
  execArgv: ['--inspect-publish-uid=stderr'],
  args: ['/opt/mountkit/bin/mountkit.js', 'run', '--bundle', 'b'],
  env: { PATH: '/usr/bin', MOUNTKIT_LAUNCHER_FD: '3', UNSET: undefined },
};

/** A fake whose Node runs from /usr/bin/node (its /proc/self/exe, holding `bytes`), on a read-only mount when `readOnly`. */
function nodeAt(readOnly = false, bytes = ''): FakeSyscalls {
  const sys = new FakeSyscalls().addDir('/usr/bin').addProcfs();
  if (readOnly) sys.mount('tmpfs', '/usr/bin', 'tmpfs', MS_RDONLY, null);
  sys.addFile('/usr/bin/node', bytes, 0o755).addMagicLink('/proc/1/exe', '/usr/bin/node');
  return sys.clearCalls();
}

/** The seals memfdCopy adds. */
const SEALS = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

/** memfdCopy's calls, its memfd `copy` and the descriptor `own` of Node's file. */
function memfdCalls(copy: number, own: number): object[] {
  return [
    { op: 'memfdCreate', name: 'node', flags: MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC },
    { op: 'open', path: '/proc/self/exe', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
    { op: 'copyFileRange', fdIn: own, fdOut: copy },
    { op: 'close', fd: own },
    { op: 'addSeals', fd: copy, seals: SEALS },
  ];
}

/** execSealedNode's execve, or the error it threw. */
function sealing(sys: FakeSyscalls, keep: number[] = []): ExecveCalled | Error {
  try {
    execSealedNode(sys, START, keep);
  } catch (err) {
    return err as Error;
  }
  throw new Error('execSealedNode returned');
}

describe('resealedExec', () => {
  test.each([
    ['options, script and arguments after the path Node was started from', START, ['/usr/bin/node', '--inspect-publish-uid=stderr', '/opt/mountkit/bin/mountkit.js', 'run', '--bundle', 'b']],
    ['no options', { ...START, execArgv: [] }, ['/usr/bin/node', '/opt/mountkit/bin/mountkit.js', 'run', '--bundle', 'b']],
  ])('argv: %s', (_what, start, argv) => {
    expect(resealedExec(start).argv).toEqual(argv);
  });

  test.each([
    ['the environment as given, an unset variable left out, the path Node was started from added', START.env, ['PATH=/usr/bin', 'MOUNTKIT_LAUNCHER_FD=3', `${NODE_PATH_ENV}=/usr/bin/node`]],
    ['a path given already is replaced', { [NODE_PATH_ENV]: '/old', A: '' }, [`${NODE_PATH_ENV}=/usr/bin/node`, 'A=']],
  ])('envp: %s', (_what, env, envp) => {
    expect(resealedExec({ ...START, env }).envp).toEqual(envp);
  });
});

describe('execSealedNode', () => {
  test('clones the mount of /proc/self/exe detached and close-on-exec, makes the copy read-only, clears close-on-exec from each descriptor to keep that is open, and executes its file through the descriptor', () => {
    const sys = nodeAt();
    const kept = sys.open('/usr/bin/node', O_RDONLY | O_CLOEXEC, 0);
    sys.clearCalls();
    const err = sealing(sys, [kept, 77]);
    expect(err).toBeInstanceOf(ExecveCalled);
    const fd = sys.callsOf('mountSetattr')[0].dirfd;
    const { argv, envp } = resealedExec(START);
    expect(sys.calls).toEqual([
      { op: 'openTree', dirfd: AT_FDCWD, path: '/proc/self/exe', flags: OPEN_TREE_CLONE | O_CLOEXEC },
      { op: 'mountSetattr', dirfd: fd, path: '', atFlags: AT_EMPTY_PATH, attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n, propagation: 0n },
      { op: 'clearCloexec', fd: kept },
      { op: 'clearCloexec', fd: 77 },
      { op: 'execve', path: `/proc/thread-self/fd/${fd}`, argv, envp },
    ]);
    expect(sys.pathOf(fd)).toBe('/usr/bin/node');
  });

  test.each([
    ['mount_setattr refused otherwise than ENOSYS', 'mountSetattr' as const, 'EPERM', /^running Node from a read-only copy of its file, which the container may not write \(CVE-2019-5736\): mount_setattr .*: EPERM$/, false],
    ['the execve refused', 'execve' as const, 'EACCES', /^running Node from a read-only copy .*: execve .*: EACCES$/, false],
    ['an fcntl refused otherwise than EBADF', 'clearCloexec' as const, 'EINVAL', /^running Node from a read-only copy .*: fcntl.*: EINVAL$/, false],
  ])('%s: the copy is closed and the step named', (_what, op, errno, message, cannot) => {
    const sys = nodeAt().failOn(op, errno);
    const err = sealing(sys, [0]);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(message);
    expect(kernelCannotSeal(err)).toBe(cannot);
    const fd = sys.callsOf('mountSetattr')[0].dirfd;
    expect(sys.calls.at(-1)).toEqual({ op: 'close', fd });
  });

  test.each([
    ['mount_setattr (a kernel before 5.12)', 'mountSetattr' as const, ['openTree', 'mountSetattr', 'close']],
    ['open_tree (a kernel before 5.2)', 'openTree' as const, ['openTree']],
  ])('%s answering ENOSYS: the clone closed, Node is executed from a sealed memfd holding its bytes instead', (_what, op, before) => {
    const sys = nodeAt(false, 'ELF bytes').failOn(op, 'ENOSYS');
    const err = sealing(sys, [0]);
    expect(err).toBeInstanceOf(ExecveCalled);
    const copy = sys.callsOf('memfdCreate').length === 1 ? sys.callsOf('addSeals')[0].fd : -1;
    const own = sys.callsOf('copyFileRange')[0].fdIn;
    const { argv, envp } = resealedExec(START);
    expect(sys.calls.map((c) => c.op).slice(0, before.length)).toEqual(before);
    expect(sys.calls.slice(before.length)).toEqual([...memfdCalls(copy, own), { op: 'clearCloexec', fd: 0 }, { op: 'execve', path: `/proc/thread-self/fd/${copy}`, argv, envp }]);
    expect([sys.pathOf(copy), sys.readFile(`/proc/thread-self/fd/${copy}`)]).toEqual(['/memfd:node (deleted)', 'ELF bytes']);
  });

  test('memfd_create answering ENOSYS too (a kernel before 3.17): the step named, the kernel said to have no way to seal', () => {
    const sys = nodeAt().failOn('mountSetattr', 'ENOSYS').failOn('memfdCreate', 'ENOSYS');
    const err = sealing(sys);
    expect(err).toBeInstanceOf(StepError);
    expect(err.message).toMatch(/^running Node from a read-only copy of its file, which the container may not write \(CVE-2019-5736\): memfd_create "node": ENOSYS$/);
    expect(kernelCannotSeal(err)).toBe(true);
    expect(sys.calls.map((c) => c.op)).toEqual(['openTree', 'mountSetattr', 'close', 'memfdCreate']);
  });

  test('open_tree refused (EPERM without CAP_SYS_ADMIN): nothing was opened, nothing else is called', () => {
    const sys = nodeAt().failOn('openTree', 'EPERM');
    const err = sealing(sys);
    expect([err instanceof StepError, kernelCannotSeal(err)]).toEqual([true, false]);
    expect(sys.calls.map((c) => c.op)).toEqual(['openTree']);
  });
});

describe('sealedCopy and sealedCopyOrNone', () => {
  test('the descriptor of the read-only copy, open', () => {
    const sys = nodeAt();
    const fd = sealedCopy(sys);
    expect(sys.calls.map((c) => c.op)).toEqual(['openTree', 'mountSetattr']);
    expect(sys.pathOf(fd)).toBe('/usr/bin/node');
    expect(sys.openFds()).toContain(fd);
  });

  test('a refusal: sealedCopy throws the call, sealedCopyOrNone gives none; the copy is closed either way', () => {
    const sys = nodeAt().failOn('mountSetattr', 'EPERM', { times: 2 });
    expect(() => sealedCopy(sys)).toThrow(/^mount_setattr .*: EPERM$/);
    expect(sealedCopyOrNone(sys)).toBeUndefined();
    expect(sys.calls.map((c) => c.op)).toEqual(['openTree', 'mountSetattr', 'close', 'openTree', 'mountSetattr', 'close']);
  });
});

describe('memfdCopy', () => {
  test('a sealed memfd holding the bytes of Node\'s file, open; Node\'s file closed', () => {
    const sys = nodeAt(false, 'ELF bytes');
    const copy = memfdCopy(sys);
    expect(sys.calls).toEqual(memfdCalls(copy, sys.callsOf('copyFileRange')[0].fdIn));
    expect(sys.readFile(`/proc/thread-self/fd/${copy}`)).toBe('ELF bytes');
    expect(sys.getSeals(`/proc/thread-self/fd/${copy}`)).toBe(SEALS);
    expect(sys.openFds()).toEqual([copy]);
  });

  test('a kernel before 6.3, which refuses MFD_EXEC (EINVAL): asked again without it', () => {
    const sys = nodeAt(false, 'ELF bytes').failOn('memfdCreate', 'EINVAL');
    const copy = memfdCopy(sys);
    expect(sys.callsOf('memfdCreate')).toEqual([
      { op: 'memfdCreate', name: 'node', flags: MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC },
      { op: 'memfdCreate', name: 'node', flags: MFD_CLOEXEC | MFD_ALLOW_SEALING },
    ]);
    expect([sys.readFile(`/proc/thread-self/fd/${copy}`), sys.getSeals(`/proc/thread-self/fd/${copy}`)]).toEqual(['ELF bytes', SEALS]);
  });

  test('MFD_EXEC refused otherwise (EACCES: vm.memfd_noexec 2): thrown, not asked again', () => {
    const sys = nodeAt().failOn('memfdCreate', 'EACCES');
    expect(() => memfdCopy(sys)).toThrow(/^memfd_create "node": EACCES$/);
    expect(sys.calls.map((c) => c.op)).toEqual(['memfdCreate']);
  });

  test.each([
    ['the copy refused', 'copyFileRange' as const, 'EIO', /^copy_file_range .*: EIO$/, ['memfdCreate', 'open', 'copyFileRange', 'close', 'close']],
    ['the seals refused', 'addSeals' as const, 'EBUSY', /^fcntl "\/memfd:node \(deleted\)": EBUSY$/, ['memfdCreate', 'open', 'copyFileRange', 'close', 'addSeals', 'close']],
    ['Node\'s file not opened', 'open' as const, 'EACCES', /^open .*: EACCES$/, ['memfdCreate', 'open', 'close']],
  ])('%s: the call thrown, nothing left open', (_what, op, errno, message, ops) => {
    const sys = nodeAt().failOn(op, errno);
    expect(() => memfdCopy(sys)).toThrow(message);
    expect(sys.calls.map((c) => c.op)).toEqual(ops);
    expect(sys.openFds()).toEqual([]);
  });
});

describe('ownFileWritable', () => {
  test('Node on a read-write mount: faccessat says so, and its file has no seals (EINVAL)', () => {
    const sys = nodeAt();
    expect(ownFileWritable(sys)).toBe(true);
    expect(sys.calls).toEqual([
      { op: 'faccessat', dirfd: AT_FDCWD, path: '/proc/self/exe', mode: W_OK, flags: AT_EACCESS },
      { op: 'getSeals', path: '/proc/self/exe' },
    ]);
  });

  test('Node on a read-only mount (EROFS): nothing more asked', () => {
    const sys = nodeAt(true);
    expect(ownFileWritable(sys)).toBe(false);
    expect(sys.calls).toEqual([{ op: 'faccessat', dirfd: AT_FDCWD, path: '/proc/self/exe', mode: W_OK, flags: AT_EACCESS }]);
  });

  test.each([
    ['a memfd copy with F_SEAL_WRITE (memfdCopy): not writable', SEALS, false],
    ['a memfd without F_SEAL_WRITE: writable', F_SEAL_SHRINK | F_SEAL_GROW, true],
  ])('Node run from %s', (_what, seals, writable) => {
    const sys = nodeAt();
    const fd = sys.memfdCreate('node', MFD_CLOEXEC | MFD_ALLOW_SEALING);
    sys.addSeals(fd, seals);
    sys.addMagicLink('/proc/1/exe', `/proc/thread-self/fd/${fd}`);
    sys.clearCalls();
    expect(ownFileWritable(sys)).toBe(writable);
    expect(sys.calls.map((c) => c.op)).toEqual(['faccessat', 'getSeals']);
  });

  test.each([
    ['writable but not readable (EACCES on its open)', 'EACCES', true],
    ['refused another way (EIO): thrown, the step named', 'EIO', /^running Node from a read-only copy .*: fcntl "\/proc\/self\/exe": EIO$/],
  ])('Node\'s file %s', (_what, errno, outcome) => {
    const sys = nodeAt().failOn('getSeals', errno);
    if (outcome === true) expect(ownFileWritable(sys)).toBe(true);
    else expect(() => ownFileWritable(sys)).toThrow(outcome as RegExp);
    expect(sys.calls.map((c) => c.op)).toEqual(['faccessat', 'getSeals']);
  });

  test.each([
    ['EACCES (a user namespace that does not map its owner)', 'EACCES', false],
    ['EPERM', 'EPERM', false],
  ])('refused with %s: not writable', (_what, errno, writable) => {
    expect(ownFileWritable(nodeAt().failOn('faccessat', errno))).toBe(writable);
  });

  test('any other answer is thrown, the step named', () => {
    expect(() => ownFileWritable(nodeAt().failOn('faccessat', 'ENOENT'))).toThrow(/^running Node from a read-only copy of its file, which the container may not write \(CVE-2019-5736\): faccessat "?\/proc\/self\/exe"?: ENOENT$/);
  });
});

describe("detachLauncherBind: bin/mountkit's in-place bind of node's file taken off the namespace Node runs in", () => {
  /** nodeAt's Node, with node's file bound read-only onto itself as the launcher binds it. */
  const bound = (): FakeSyscalls => {
    const sys = nodeAt();
    sys.mount('/usr/bin/node', '/usr/bin/node', null, MS_BIND, null);
    sys.mount(null, '/usr/bin/node', null, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, null);
    return sys.clearCalls();
  };

  test('the bind Node runs from: its path and /proc/self/exe opened, their mounts compared, both closed, then umount2 MNT_DETACH', () => {
    const sys = bound();
    expect(detachLauncherBind(sys, '/usr/bin/node')).toBe(true);
    // The fake's first two descriptors (it numbers them from 100).
    const [at, own] = [100, 101];
    expect(sys.calls).toEqual([
      { op: 'open', path: '/usr/bin/node', flags: O_PATH | O_CLOEXEC, mode: 0 },
      { op: 'open', path: '/proc/self/exe', flags: O_PATH | O_CLOEXEC, mode: 0 },
      { op: 'fstatMount', fd: at },
      { op: 'fstatMount', fd: own },
      { op: 'close', fd: own },
      { op: 'close', fd: at },
      { op: 'umount2', target: '/usr/bin/node', flags: MNT_DETACH },
    ]);
    expect(sys.mounts.map((m) => m.target)).not.toContain('/usr/bin/node');
  });

  test("no mount at the path (the launcher's mount(8) made none): its file is no mount's root, nothing taken off, nothing left open", () => {
    const sys = nodeAt();
    expect(detachLauncherBind(sys, '/usr/bin/node')).toBe(false);
    expect(sys.calls.map((c) => c.op)).toEqual(['open', 'open', 'fstatMount', 'close', 'close']);
  });

  test('a mount at the path that Node does not run from (a bind of another file there): left as it is', () => {
    const sys = nodeAt().addFile('/opt/other', '', 0o755);
    sys.mount('/opt/other', '/usr/bin/node', null, MS_BIND, null);
    sys.clearCalls();
    sys.addMagicLink('/proc/1/exe', '/opt/other');
    expect(detachLauncherBind(sys, '/usr/bin/node')).toBe(false);
    expect(sys.callsOf('umount2')).toEqual([]);
  });

  test('a path that cannot be opened: the step fails with the open, nothing taken off', () => {
    const sys = bound();
    expect(() => detachLauncherBind(sys, '/usr/local/bin/node')).toThrow(/CVE-2019-5736\): open "\/usr\/local\/bin\/node": ENOENT$/);
    expect(sys.callsOf('umount2')).toEqual([]);
  });
});
