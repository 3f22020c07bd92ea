import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { REPO, runCli } from '../helpers/cli';

describe('mountkit CLI', () => {
  test('--help lists the commands and exits 0', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: mountkit \[options\] COMMAND/);
    expect(r.stderr).toBe('');
  });

  test('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(runCli(['--version'])).toEqual({ status: 0, stdout: `mountkit ${version}\n`, stderr: '' });
  });

  describe('a plugin that fails to load', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'mountkit-cli-'));
      writeFileSync(path.join(dir, 'plugins.json'), JSON.stringify({ plugins: [{ module: './needs-missing-dep.js' }] }));
      copyFileSync(path.join(REPO, 'test', 'fixtures', 'plugins', 'needs-missing-dep.js'), path.join(dir, 'needs-missing-dep.js'));
    });
    afterAll(() => rmSync(dir, { recursive: true }));
    const plan = (...extra: string[]) => runCli(['plan', '--bundle', path.join(REPO, 'examples', 'default'), '--plugins', path.join(dir, 'plugins.json'), ...extra]);

    test("is one line, though Node's message goes on with its require stack; exit status 2", () => {
      const r = plan();
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(`mountkit: plugin module "./needs-missing-dep.js": failed to load: Cannot find module 'mountkit-fixture-no-such-dependency'\n`);
    });

    test('at debug level: the whole message, the stack, and the cause with the module that failed', () => {
      const r = plan('--log-level', 'debug');
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^mountkit: plugin module "\.\/needs-missing-dep\.js": failed to load: Cannot find module 'mountkit-fixture-no-such-dependency'\n/);
      expect(r.stderr).toContain('\nStartupError: plugin module');
      expect(r.stderr).toContain('\nCaused by: Error: Cannot find module');
      expect(r.stderr).toContain(path.join(dir, 'needs-missing-dep.js'));
    });
  });

  test('a bad option is one line on stderr and exit status 2', () => {
    const r = runCli(['--log-level', 'loud', 'run']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('mountkit: --log-level "loud": must be one of error, warn, info, debug\n');
  });
});
