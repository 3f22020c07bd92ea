import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { DryRunSyscalls } from '../../src/core/syscalls/dryrun';
import { ExecveCalled } from '../../src/core/syscalls/fake';
import { SyscallError } from '../../src/core/errors';
import {
  AT_FDCWD,
  MS_BIND,
  MS_NOSUID,
  O_CREAT,
  O_DIRECTORY,
  O_PATH,
  O_RDONLY,
  O_WRONLY,
  PROC_SUPER_MAGIC,
  RESOLVE_NO_MAGICLINKS,
  S_IFCHR,
  TMPFS_MAGIC,
  makedev,
} from '../../src/core/constants';

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof SyscallError) return err.code;
    throw err;
  }
  throw new Error('expected a SyscallError');
}

/** Every path under `dir` with its type and mode, to prove the host did not change. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = fs.lstatSync(p);
    out.push(`${p} ${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.isFile() ? fs.readFileSync(p, 'utf8') : ''}`);
    if (st.isDirectory()) for (const name of fs.readdirSync(p).sort()) walk(path.join(p, name));
  };
  walk(dir);
  return out;
}

describe('DryRunSyscalls', () => {
  let tmp: string;

  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-dryrun-'));
    fs.mkdirSync(path.join(tmp, 'dir'));
    fs.writeFileSync(path.join(tmp, 'dir', 'file'), 'host content');
    fs.symlinkSync('dir/file', path.join(tmp, 'link'));
  });

  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('answers reads from the real host', () => {
    const sys = new DryRunSyscalls();
    expect(sys.stat('/').kind).toBe('dir');
    expect(sys.readFile('/proc/self/mounts').length).toBeGreaterThan(0);
    expect(sys.readFile('/proc/self/mountinfo')).toBe(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(sys.lstat('/proc/self').kind).toBe('symlink');
    expect(sys.readlink('/proc/self')).toBe(String(process.pid));
    expect(sys.stat('/proc/self').kind).toBe('dir');
    expect(sys.readdir('/proc')).toEqual(expect.arrayContaining(['self', 'mounts']));
    expect(sys.readFile(path.join(tmp, 'link'))).toBe('host content');
    expect(sys.readdir(tmp)).toEqual(['dir', 'link']);
  });

  it('reports the host stat: kind, mode, owner, device, inode and size', () => {
    const sys = new DryRunSyscalls();
    const file = path.join(tmp, 'dir', 'file');
    fs.chmodSync(file, 0o640);
    const host = fs.statSync(file, { bigint: true });
    expect(sys.stat(path.join(tmp, 'link'))).toEqual({
      kind: 'file',
      perm: 0o640,
      uid: Number(host.uid),
      gid: Number(host.gid),
      rdev: 0n,
      dev: host.dev,
      ino: host.ino,
      size: 12,
    });
    expect(sys.stat('/dev/null')).toMatchObject({ kind: 'char', rdev: makedev(1, 3) });
    expect(sys.fstat(sys.open(file, O_RDONLY, 0)).ino).toBe(host.ino);
  });

  it('records every call, queries included', () => {
    const sys = new DryRunSyscalls();
    sys.stat('/');
    sys.mkdir(path.join(tmp, 'new'), 0o755);
    expect(sys.calls).toEqual([
      { op: 'stat', path: '/' },
      { op: 'mkdir', path: path.join(tmp, 'new'), mode: 0o755 },
    ]);
    expect(sys.effects()).toEqual([{ op: 'mkdir', path: path.join(tmp, 'new'), mode: 0o755 }]);
  });

  it('writes nothing on the host and sees its own changes in later reads', () => {
    const before = snapshot(tmp);
    const mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    const sys = new DryRunSyscalls();
    const created = path.join(tmp, 'created');
    const file = path.join(tmp, 'dir', 'file');

    sys.mkdir(created, 0o700);
    sys.mkdir(path.join(created, 'sub'), 0o755);
    sys.writeFile(path.join(created, 'f'), 'plan');
    sys.mknod(path.join(created, 'null'), S_IFCHR | 0o666, makedev(1, 3));
    sys.symlink('/proc/self/fd', path.join(created, 'fd'));
    sys.writeFile(file, 'replaced');
    sys.chmod(file, 0o600);
    sys.unlink(path.join(tmp, 'link'));
    sys.close(sys.open(path.join(tmp, 'opened'), O_WRONLY | O_CREAT, 0o644));
    sys.mount('tmpfs', created, 'tmpfs', MS_NOSUID, 'size=1m');
    sys.mount(path.join(tmp, 'dir'), created, null, MS_BIND, null);

    expect(fs.existsSync(created)).toBe(false);
    expect(snapshot(tmp)).toEqual(before);
    expect(fs.readFileSync('/proc/self/mountinfo', 'utf8')).toBe(mountinfo);

    expect(sys.stat(created)).toMatchObject({ kind: 'dir', perm: 0o700 });
    expect(sys.readdir(created)).toEqual(['f', 'fd', 'null', 'sub']);
    expect(sys.readFile(path.join(created, 'f'))).toBe('plan');
    expect(sys.stat(path.join(created, 'null'))).toMatchObject({ kind: 'char', rdev: makedev(1, 3) });
    expect(sys.readlink(path.join(created, 'fd'))).toBe('/proc/self/fd');
    expect(sys.readFile(file)).toBe('replaced');
    expect(sys.stat(file)).toMatchObject({ perm: 0o600, size: 8 });
    expect(codeOf(() => sys.lstat(path.join(tmp, 'link')))).toBe('ENOENT');
    expect(sys.readdir(tmp)).toEqual(['created', 'dir', 'opened']);
    expect(sys.mounts.map((m) => m.target)).toEqual([created, created]);
  });

  it('answers with the errors the host would give', () => {
    const sys = new DryRunSyscalls();
    expect(codeOf(() => sys.stat(path.join(tmp, 'missing')))).toBe('ENOENT');
    expect(codeOf(() => sys.mkdir(path.join(tmp, 'dir'), 0o755))).toBe('EEXIST');
    expect(codeOf(() => sys.mkdir(path.join(tmp, 'missing', 'x'), 0o755))).toBe('ENOENT');
    expect(codeOf(() => sys.readFile(tmp))).toBe('EISDIR');
    expect(codeOf(() => sys.readlink(tmp))).toBe('EINVAL');
    expect(codeOf(() => sys.open(path.join(tmp, 'dir', 'file'), O_DIRECTORY, 0))).toBe('ENOTDIR');
    expect(codeOf(() => sys.mount('proc', path.join(tmp, 'missing'), 'proc', 0n, null))).toBe('ENOENT');
    expect(fs.readdirSync(tmp).sort()).toEqual(['dir', 'link']);
  });

  it("the host's /proc/PID magic links are magic links: openat2 through one with RESOLVE_NO_MAGICLINKS is ELOOP, as the kernel answers; /proc/self is an ordinary symlink", () => {
    const sys = new DryRunSyscalls();
    for (const link of ['root/etc', 'cwd', 'exe', 'fd/0', 'ns/mnt', `task/${process.pid}/root/etc`]) {
      expect([link, codeOf(() => sys.openat2(AT_FDCWD, `/proc/self/${link}`, O_PATH, 0, RESOLVE_NO_MAGICLINKS))]).toEqual([link, 'ELOOP']);
    }
    expect(sys.pathOf(sys.openat2(AT_FDCWD, '/proc/self/root/etc', O_PATH, 0, 0n))).toBe('/etc');
    expect(sys.pathOf(sys.openat2(AT_FDCWD, '/proc/self/status', O_RDONLY, 0, RESOLVE_NO_MAGICLINKS))).toBe(`/proc/${process.pid}/status`);
  });

  it("a namespace's /proc/PID/ns link, modelled as the nsfs file it opens, still answers readlink with the kernel's text, as the run reads it", () => {
    const sys = new DryRunSyscalls();
    for (const ns of ['user', 'mnt', 'pid']) expect(sys.readlink(`/proc/self/ns/${ns}`)).toBe(fs.readlinkSync(`/proc/self/ns/${ns}`));
    expect(sys.stat('/proc/self/ns/user').kind).toBe(fs.statSync('/proc/self/ns/user').isFile() ? 'file' : 'dir');
    expect(codeOf(() => sys.readlink('/proc/self/status'))).toBe('EINVAL');
  });

  it('reads host file content when asked, converting Node errors to SyscallError', () => {
    const sys = new DryRunSyscalls();
    const file = path.join(tmp, 'dir', 'file');
    expect(sys.stat(file).kind).toBe('file');
    fs.writeFileSync(file, 'changed on the host');
    expect(sys.readFile(file)).toBe('changed on the host');
    fs.unlinkSync(file);
    let thrown: unknown;
    try {
      sys.readFile(file);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SyscallError);
    expect(thrown).toMatchObject({ syscall: 'readFile', code: 'ENOENT', paths: [file] });
  });

  it('execve records and throws ExecveCalled', () => {
    const sys = new DryRunSyscalls();
    expect(() => sys.execve('/bin/sh', ['sh'], [])).toThrow(ExecveCalled);
    expect(sys.effects()).toEqual([{ op: 'execve', path: '/bin/sh', argv: ['sh'], envp: [] }]);
  });

  it('runCommand records and runs nothing', () => {
    const sys = new DryRunSyscalls();
    const marker = path.join(tmp, 'ran');
    const result = sys.runCommand({ path: '/bin/touch', args: ['touch', marker], env: [], dir: '/' });
    expect(result).toEqual({ status: 0, signal: null, output: '' });
    expect(fs.existsSync(marker)).toBe(false);
  });
});

describe('DryRunSyscalls fstatfs', () => {
  test('where the plan mounted nothing, the host filesystem answers; a planned mount answers over it', () => {
    const sys = new DryRunSyscalls();
    const proc = sys.open('/proc/self', O_RDONLY | O_DIRECTORY, 0);
    expect(sys.fstatfs(proc).type).toBe(PROC_SUPER_MAGIC);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-dry-'));
    try {
      sys.mount('tmpfs', tmp, 'tmpfs', 0n, null);
      expect(sys.fstatfs(sys.open(tmp, O_RDONLY | O_DIRECTORY, 0)).type).toBe(TMPFS_MAGIC);
    } finally {
      fs.rmdirSync(tmp);
    }
  });
});

describe('DryRunSyscalls kernel.random.uuid', () => {
  const UUID = '/proc/sys/kernel/random/uuid';
  const maybe = fs.existsSync(UUID) ? test : test.skip;

  maybe("gives stand-ins, not the host's random UUIDs (a new one at each read): 1, 2... in the last digits, the same in every plan, each a UUID as the kernel writes it", () => {
    const reads = (sys: DryRunSyscalls) => [sys.readFile(UUID), sys.readFile(UUID), sys.readFile(UUID)];
    const stand = ['00000000-0000-4000-8000-000000000001\n', '00000000-0000-4000-8000-000000000002\n', '00000000-0000-4000-8000-000000000003\n'];
    expect(reads(new DryRunSyscalls())).toEqual(stand);
    expect(reads(new DryRunSyscalls())).toEqual(stand);
    // The same file by another path.
    const sys = new DryRunSyscalls();
    expect(sys.readFile('/proc/self/../sys/kernel/random/uuid')).toBe(stand[0]);
    expect(sys.calls).toEqual([{ op: 'readFile', path: '/proc/self/../sys/kernel/random/uuid' }]);
  });
});
