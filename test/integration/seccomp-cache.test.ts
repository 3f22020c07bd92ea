/**
 * The real port's cache of built seccomp programs, in a temporary directory: what it
 * writes, that a later port loads the record instead of building (a record edited by
 * hand is what it gets), and each case where it builds instead. Building a filter needs
 * no privilege and mounts nothing.
 */
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import { spawn, spawnSync } from 'child_process';
import * as path from 'path';
import { CACHE_MAX_RECORDS, encodeRecord } from '../../src/core/seccomp/cache';
import { seccompProfile } from '../../src/core/seccomp/profile';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';
import { compileCached } from '../../src/core/syscalls/seccomp-cache';
import type { SeccompFilter } from '../../src/core/syscalls/types';

const profile = (names: string[]) => ({ defaultAction: 'SCMP_ACT_ERRNO', architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'], syscalls: [{ names, action: 'SCMP_ACT_ALLOW', args: [] }] });
const PROFILE = profile(['read', 'write', 'exit_group']);
const filter = (names = ['read', 'write', 'exit_group']): SeccompFilter => seccompProfile(profile(names)).filter;

const RECORD = /^[0-9a-f]{64}\.json$/;

describe('seccompCompile with a cache directory', () => {
  let base: string;
  let dir: string;
  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'mountkit-seccomp-cache-'));
    dir = path.join(base, 'made', 'cache');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  const compile = (f = filter()) => new LinuxSyscalls({ seccompCache: dir }).seccompCompile(f);
  const records = () => readdirSync(dir).filter((n) => RECORD.test(n));

  test('the first build is written (directories made 0711, the record 0644: read by name from a user namespace that does not map their owner); the next port loads it: the same program, lists and largest numbers', () => {
    const fresh = new LinuxSyscalls().seccompCompile(filter());
    expect(fresh.cache).toBeUndefined();
    const first = compile();
    const [name] = records();
    expect(first.cache).toBe(`no record; stored in the cache: ${dir}/${name}`);
    expect(statSync(path.join(base, 'made')).mode & 0o7777).toBe(0o711);
    expect(statSync(dir).mode & 0o7777).toBe(0o711);
    expect(statSync(path.join(dir, name)).mode & 0o7777).toBe(0o644);
    expect(readdirSync(dir)).toEqual([name]);
    const second = compile();
    expect(second.cache).toBe(`from the cache: ${dir}/${name}`);
    const { cache: _a, ...fromCache } = second;
    const { cache: _b, ...built } = first;
    expect({ ...fromCache, program: Buffer.from(fromCache.program) }).toEqual({ ...built, program: Buffer.from(built.program) });
    expect(Buffer.from(second.program)).toEqual(Buffer.from(fresh.program));
  });

  test('a record is what the port gives: one edited by hand (a valid record) comes back as it is', () => {
    compile();
    const [name] = records();
    const edited = { program: new Uint8Array([6, 0, 0, 0, 0, 0, 0xff, 0x7f]), nativeArch: 0xc000003e, unknown: ['made-up'], lastSyscalls: [{ arch: 0xc000003e, nr: 7 }] };
    writeFileSync(path.join(dir, name), encodeRecord(name.slice(0, -5), edited), { mode: 0o600 });
    const got = compile();
    expect(got.cache).toBe(`from the cache: ${dir}/${name}`);
    expect({ ...got, program: Buffer.from(got.program) }).toEqual({ ...edited, program: Buffer.from(edited.program), cache: got.cache });
  });

  test('another filter is another record', () => {
    compile();
    compile(filter(['read']));
    expect(records()).toHaveLength(2);
  });

  test('a record cut short is built again and replaced', () => {
    compile();
    const [name] = records();
    const file = path.join(dir, name);
    const whole = readFileSync(file, 'utf8');
    writeFileSync(file, whole.slice(0, 30));
    expect(compile().cache).toBe(`not JSON; stored in the cache: ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(whole);
  });

  test('a symlink in a record\'s place is not followed: the record replaces the link, its target is left alone', () => {
    compile();
    const [name] = records();
    const file = path.join(dir, name);
    const target = path.join(base, 'elsewhere');
    writeFileSync(target, 'untouched');
    rmSync(file);
    symlinkSync(target, file);
    expect(compile().cache).toBe(`open "${file}": ELOOP; stored in the cache: ${file}`);
    expect(readFileSync(target, 'utf8')).toBe('untouched');
    expect(statSync(file).isFile()).toBe(true);
  });

  test("a FIFO in a record's place is not waited on: refused as no regular file, and replaced by the record", () => {
    compile();
    const [name] = records();
    const file = path.join(dir, name);
    rmSync(file);
    expect(spawnSync('mkfifo', ['-m', '600', file]).status).toBe(0);
    // In a child with a time limit: an open(2) that waits for a writer would hang this process.
    const script = [
      "const { LinuxSyscalls } = require('./src/core/syscalls/linux');",
      "const { seccompProfile } = require('./src/core/seccomp/profile');",
      `const f = seccompProfile(${JSON.stringify(PROFILE)}).filter;`,
      `process.stdout.write(new LinuxSyscalls({ seccompCache: ${JSON.stringify(dir)} }).seccompCompile(f).cache);`,
    ].join('\n');
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'helpers', 'ts-register.js'), '-e', script], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });
    expect([r.signal, r.stderr]).toEqual([null, '']);
    expect(r.stdout).toBe(`${file} is a fifo, not a regular file; stored in the cache: ${file}`);
    expect(statSync(file).isFile()).toBe(true);
  });

  test('a record writable by others is not used', () => {
    compile();
    const [name] = records();
    chmodSync(path.join(dir, name), 0o606);
    expect(compile().cache).toBe(`${dir}/${name} is writable by others; stored in the cache: ${dir}/${name}`);
    expect(statSync(path.join(dir, name)).mode & 0o7777).toBe(0o644);
  });

  test.each([
    ['the cache directory writable by its group', () => chmodSync(dir, 0o770), () => dir, 'writable by its group'],
    ['a directory above it writable by others, not sticky', () => chmodSync(path.join(base, 'made'), 0o777), () => path.join(base, 'made'), 'writable by others'],
  ])('%s: not used, nothing written', (_what, spoil, where, why) => {
    compile();
    rmSync(path.join(dir, records()[0]));
    spoil();
    expect(compile().cache).toBe(`cache not used: ${where()} is ${why}`);
    expect(records()).toEqual([]);
  });

  describe('vouched for (seccompCacheVouched: checked from outside a user namespace, where the owners are known)', () => {
    const vouched = () => new LinuxSyscalls({ seccompCache: dir, seccompCacheVouched: true }).seccompCompile(filter());
    const overflow = Number(readFileSync('/proc/sys/kernel/overflowuid', 'utf8'));

    test('the directories are not walked again: one this process would refuse (writable by its group) is used', () => {
      compile();
      chmodSync(dir, 0o770);
      expect(compile().cache).toBe(`cache not used: ${dir} is writable by its group`);
      expect(vouched().cache).toBe(`from the cache: ${dir}/${records()[0]}`);
    });

    test('a record owned by the overflow uid (an owner the namespace does not map) is taken; not otherwise, nor one writable by others, nor one of another owner', () => {
      compile();
      const file = path.join(dir, records()[0]);
      chownSync(file, overflow, overflow);
      expect(vouched().cache).toBe(`from the cache: ${file}`);
      expect(compile().cache).toBe(`${file} is owned by uid ${overflow}; stored in the cache: ${file}`);
      chownSync(file, overflow, overflow);
      chmodSync(file, 0o646);
      expect(vouched().cache).toBe(`${file} is writable by others; stored in the cache: ${file}`);
      chownSync(file, 4242, 4242);
      expect(vouched().cache).toBe(`${file} is owned by uid 4242; stored in the cache: ${file}`);
    });
  });

  test('a path through a symlink is not used', () => {
    symlinkSync(base, path.join(base, 'link'));
    dir = path.join(base, 'link', 'cache');
    expect(compile().cache).toBe(`cache not used: ${path.join(base, 'link')} is a symlink, not a directory`);
    expect(existsSync(path.join(base, 'cache'))).toBe(false);
  });

  test(`a directory holding ${CACHE_MAX_RECORDS} records is emptied before the next is written; other files stay`, () => {
    compile();
    for (let i = 0; i < CACHE_MAX_RECORDS - 1; i++) writeFileSync(path.join(dir, `${i.toString(16).padStart(64, '0')}.json`), '{}');
    writeFileSync(path.join(dir, 'notes'), 'kept');
    expect(records()).toHaveLength(CACHE_MAX_RECORDS);
    compile(filter(['read']));
    expect(readdirSync(dir).sort()).toEqual([records()[0], 'notes'].sort());
    expect(compile(filter(['read'])).cache).toMatch(/^from the cache: /);
  });

  test('a cache that cannot be made is told of, and the filter is built all the same', () => {
    dir = '/proc/mountkit-cache';
    const got = compile();
    expect(got.cache).toBe('cache not used: mkdir "/proc/mountkit-cache": ENOENT');
    expect(got.program.length).toBeGreaterThan(0);
  });

  test('a relative directory is the one the caller meant: resolved when the port is made, not checked from / and used from elsewhere', () => {
    const cwd = process.cwd();
    try {
      process.chdir(base);
      const sys = new LinuxSyscalls({ seccompCache: 'rel/cache' });
      process.chdir('/');
      expect(sys.seccompCompile(filter()).cache).toMatch(new RegExp(`^no record; stored in the cache: ${base}/rel/cache/[0-9a-f]{64}\\.json$`));
    } finally {
      process.chdir(cwd);
    }
    expect(existsSync('/rel')).toBe(false);
    expect(compileCached('rel/cache', () => 'k', () => new LinuxSyscalls().seccompCompile(filter())).cache).toBe('cache not used: rel/cache is not an absolute path');
  });

  test('a key that cannot be made (package.json unreadable, libseccomp failing) leaves the cache out, not the run', () => {
    const got = compileCached(dir, () => {
      throw Object.assign(new Error('ENOENT: no such file'), { code: 'ENOENT', syscall: 'open', path: '/x/package.json' });
    }, () => new LinuxSyscalls().seccompCompile(filter()));
    expect(got.cache).toBe('cache not used: open "/x/package.json": ENOENT');
    expect(got.program.length).toBeGreaterThan(0);
    expect(existsSync(dir)).toBe(false);
  });

  test('records are written under a name of the run\'s own and renamed: another run\'s file being written (every run in a pid namespace is pid 1) is left alone', () => {
    compile();
    const [name] = records();
    rmSync(path.join(dir, name));
    const other = path.join(dir, `.${name.slice(0, -5)}.${process.pid}`);
    writeFileSync(other, 'another run, writing', { mode: 0o600 });
    expect(compile().cache).toBe(`no record; stored in the cache: ${dir}/${name}`);
    expect(readFileSync(other, 'utf8')).toBe('another run, writing');
    expect(readdirSync(dir).sort()).toEqual([path.basename(other), name].sort());
  });

  test('a cache directory another run makes between the lstat and the mkdir (EEXIST) is used: each of the runs starting at once on a new directory keeps its record', () => {
    // The module itself, whose property the port's calls read (an import's namespace object cannot be spied on).
    const nodeFs = require('fs') as typeof import('fs');
    const real = nodeFs.mkdirSync;
    // The other run's mkdir comes first; this run's then fails as it does in that race.
    const spy = jest.spyOn(nodeFs, 'mkdirSync').mockImplementationOnce((at, mode) => {
      real(at, mode);
      return real(at, mode);
    });
    try {
      expect(compile().cache).toMatch(new RegExp(`^no record; stored in the cache: ${dir}/[0-9a-f]{64}\\.json$`));
    } finally {
      spy.mockRestore();
    }
    expect(records()).toHaveLength(1);
  });

  test('a run killed while writing its record leaves the file it writes, never a record; later runs read none of it, and it is removed with the records when the directory is emptied', async () => {
    // A run stopped in its rename (as if it hung there) is killed: its file is written whole, under its temporary name.
    const script = [
      "const fs = require('fs');",
      "fs.renameSync = () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);",
      "const { LinuxSyscalls } = require('./src/core/syscalls/linux');",
      "const { seccompProfile } = require('./src/core/seccomp/profile');",
      `new LinuxSyscalls({ seccompCache: ${JSON.stringify(dir)} }).seccompCompile(seccompProfile(${JSON.stringify(PROFILE)}).filter);`,
    ].join('\n');
    const child = spawn(process.execPath, ['-r', path.join(__dirname, '..', 'helpers', 'ts-register.js'), '-e', script], { cwd: path.join(__dirname, '..', '..'), stdio: 'ignore' });
    const ended = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    const left = () => (existsSync(dir) ? readdirSync(dir).filter((n) => n.startsWith('.')) : []);
    for (let i = 0; i < 400 && left().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
    child.kill('SIGKILL');
    expect(await ended).toBe('SIGKILL');
    const [temporary] = left();
    expect(temporary).toMatch(/^\.[0-9a-f]{64}\.[0-9a-f]{16}$/);
    expect(records()).toEqual([]);
    expect(compile().cache).toMatch(/^no record; stored in the cache: /);
    expect(compile().cache).toMatch(/^from the cache: /);
    for (let i = 0; i < CACHE_MAX_RECORDS - 2; i++) writeFileSync(path.join(dir, `${i.toString(16).padStart(64, '0')}.json`), '{}');
    expect(readdirSync(dir)).toHaveLength(CACHE_MAX_RECORDS);
    compile(filter(['read']));
    expect(readdirSync(dir)).toEqual(records());
    expect(records()).toHaveLength(1);
  });

  test.each([
    ['a record', (key: string) => `${key}.json`],
    ["a file being written's", (key: string) => `.${key}.0123456789abcdef`],
  ])("a directory under %s name in a directory to be emptied is told of, and the run goes on: the filter is built, nothing stored (Node's rmSync threw ERR_FS_EISDIR, no errno name: naming it threw, and the run failed)", (_what, name) => {
    const key = 'f'.repeat(64);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    mkdirSync(path.join(dir, name(key)));
    for (let i = 0; i < CACHE_MAX_RECORDS - 1; i++) writeFileSync(path.join(dir, `${i.toString(16).padStart(64, '0')}.json`), '{}');
    const got = compile();
    expect(got.cache).toBe(`no record; not stored: unlink "${dir}/${name(key)}": EISDIR`);
    expect(got.program.length).toBeGreaterThan(0);
    expect(statSync(path.join(dir, name(key))).isDirectory()).toBe(true);
  });

  test('a file another run emptying the directory at the same time unlinked first (ENOENT) is no failure: the record is stored', () => {
    compile();
    for (let i = 0; i < CACHE_MAX_RECORDS - 1; i++) writeFileSync(path.join(dir, `${i.toString(16).padStart(64, '0')}.json`), '{}');
    const nodeFs = require('fs') as typeof import('fs');
    const real = nodeFs.unlinkSync;
    // The other run's unlink comes first; this run's then fails as it does in that race.
    const spy = jest.spyOn(nodeFs, 'unlinkSync').mockImplementationOnce((file) => {
      real(file);
      return real(file);
    });
    try {
      expect(compile(filter(['read'])).cache).toMatch(new RegExp(`^no record; stored in the cache: ${dir}/[0-9a-f]{64}\\.json$`));
    } finally {
      spy.mockRestore();
    }
    expect(records()).toHaveLength(1);
  });

  test("a failure with a code of Node's own, no errno name, is told by its message, and the run goes on (naming it threw)", () => {
    const nodeFs = require('fs') as typeof import('fs');
    const spy = jest.spyOn(nodeFs, 'readdirSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('a failure of Node\'s own'), { code: 'ERR_SOMETHING', syscall: 'scandir', path: dir });
    });
    try {
      const got = compile();
      expect(got.cache).toBe("no record; not stored: a failure of Node's own");
      expect(got.program.length).toBeGreaterThan(0);
    } finally {
      spy.mockRestore();
    }
  });

  test('a file on the path is not a directory', () => {
    writeFileSync(path.join(base, 'made'), 'a file');
    expect(compile().cache).toBe(`cache not used: ${path.join(base, 'made')} is a regular file, not a directory`);
  });
});

describe('seccompCompile: the largest numbers the ENOSYS stub judges by', () => {
  const compiled = (architectures: string[]) =>
    new LinuxSyscalls().seccompCompile(seccompProfile({ defaultAction: 'SCMP_ACT_ERRNO', architectures, syscalls: [{ names: ['read', 'clone3'], action: 'SCMP_ACT_ALLOW', args: [] }] }).filter);

  // libseccomp resolves a name for any architecture, whatever the machine: clone3 is 435 on both x86 ones (arch/x86/entry/syscalls).
  test("only the profile's architectures have them, as runc's stub takes them: none without any, the native one included", () => {
    const x86_64 = 0xc000003e;
    const i386 = 0x40000003;
    expect(compiled([]).lastSyscalls).toEqual([]);
    expect(compiled(['SCMP_ARCH_X86']).lastSyscalls).toEqual([{ arch: i386, nr: 435 }]);
    expect(compiled(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']).lastSyscalls).toEqual([
      { arch: x86_64, nr: 435 },
      { arch: i386, nr: 435 },
    ]);
  });
});
