/**
 * How the real port loads koffi: the glibc build of the addon in koffi's platform package,
 * found as koffi would find it and of koffi's own version; koffi's entry module only when
 * that cannot be done. Nothing here needs root.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { LinuxSyscalls, koffiAddon } from '../../src/core/syscalls/linux';

// The port must bind libc without koffi's entry module: requiring it fails this file.
jest.mock('koffi', () => {
  throw new Error("koffi's entry module was loaded");
});

const repo = path.join(__dirname, '..', '..');
const portDir = path.join(repo, 'src', 'core', 'syscalls');
const platformPackage = `@koromix/koffi-${process.platform}-${process.arch}`;
const koffiVersion = (JSON.parse(fs.readFileSync(path.join(repo, 'node_modules', 'koffi', 'package.json'), 'utf8')) as { version: string }).version;

describe('koffiAddon', () => {
  let tmp: string;
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-koffi-'));
  });
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

  /** A node_modules with a koffi package.json of `version` and, when asked, the real platform package linked in. */
  function layout(version: string, withPlatformPackage: boolean): string {
    const modules = path.join(tmp, 'node_modules');
    fs.mkdirSync(path.join(modules, 'koffi'), { recursive: true });
    fs.writeFileSync(path.join(modules, 'koffi', 'package.json'), JSON.stringify({ name: 'koffi', version }));
    if (withPlatformPackage) {
      fs.mkdirSync(path.join(modules, '@koromix'));
      fs.symlinkSync(fs.realpathSync(path.join(repo, 'node_modules', platformPackage)), path.join(modules, platformPackage));
    }
    const from = path.join(tmp, 'app');
    fs.mkdirSync(from);
    return from;
  }

  test("loads the platform package's glibc addon, of koffi's version", () => {
    const addon = koffiAddon(portDir) as unknown as { version: unknown; load: unknown };
    expect(addon).toBeDefined();
    expect(addon.version).toBe(koffiVersion);
    expect(typeof addon.load).toBe('function');
  });

  test('gives undefined when the addon is not the version of the koffi found', () => {
    expect(koffiAddon(layout('0.0.1', true))).toBeUndefined();
  });

  test('gives the addon when the layout is an npm one of the same version', () => {
    expect(koffiAddon(layout(koffiVersion, true))).toBeDefined();
  });

  test('gives undefined when koffi has no platform package beside it', () => {
    expect(koffiAddon(layout(koffiVersion, false))).toBeUndefined();
  });

  test("gives undefined where musl's dynamic loader is present (the glibc build may be the wrong one), and looks for nothing else", () => {
    const loader = { x64: '/lib/ld-musl-x86_64.so.1', arm64: '/lib/ld-musl-aarch64.so.1' }[process.arch as 'x64' | 'arm64'];
    // Node's own fs object, which the port's namespace import reads through (the import itself cannot be redefined).
    const nodeFs = jest.requireActual<typeof fs>('fs');
    const existsSync = nodeFs.existsSync;
    const asked: string[] = [];
    const spy = jest.spyOn(nodeFs, 'existsSync').mockImplementation((p) => {
      asked.push(String(p));
      return String(p) === loader || existsSync(p);
    });
    try {
      expect(koffiAddon(portDir)).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
    expect(asked).toEqual([loader]);
  });
});

describe('LinuxSyscalls', () => {
  test("binds libc without koffi's entry module", () => {
    const sys = new LinuxSyscalls();
    const before = sys.umask(0o27);
    expect(sys.umask(before)).toBe(0o27);
  });
});
