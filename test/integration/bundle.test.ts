/**
 * The CLI bundle as the built CLI uses it (dist/cli.bundle.js from `npm run build`): taken
 * with its code cache, sharing module instances with a plugin loaded from outside it, and
 * where npm installs it as a dependency. Needs no privilege: `plan` loads the plugins and
 * makes no call.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import { createRequire } from 'module';
import * as os from 'os';
import * as path from 'path';
import { REPO, runCli } from '../helpers/cli';
import { installPacked } from '../helpers/packed-install';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-bundle-cli-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const env = (mode: '0' | '1') => ({ ...process.env, MOUNTKIT_BUNDLE: mode });

test('the built CLI starts from the bundle with a code cache V8 takes', () => {
  const r = runCli(['--version'], { env: env('1') });
  expect(r.stderr).toBe('');
  expect(r.stdout).toMatch(/^mountkit \d+\.\d+\.\d+\n$/);
  expect(r.status).toBe(0);
});

describe('a plugin loaded from outside the bundle gets the CLI its own module instances', () => {
  /**
   * The plugin requires the package's public entry by its file and throws its StartupError
   * class from register(): the kernel passes a StartupError through and wraps anything
   * else ("register failed: ..."), so the message shows whether the two classes are one.
   */
  const plugin = path.join(tmp, 'identity-plugin.js');
  fs.writeFileSync(
    plugin,
    `const { StartupError } = require(${JSON.stringify(path.join(REPO, 'dist', 'index.js'))});\n` +
      `exports.register = () => { throw new StartupError('identity-plugin', 'refuses on purpose'); };\n`,
  );
  const list = path.join(tmp, 'plugins.json');
  const builtins = (JSON.parse(fs.readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: unknown[] }).plugins;
  fs.writeFileSync(list, JSON.stringify({ plugins: [...builtins, { module: plugin }] }));

  test.each(['1', '0'] as const)('MOUNTKIT_BUNDLE=%s', (mode) => {
    const r = runCli(['plan', '--bundle', path.join(REPO, 'examples', 'default'), '--plugins', list], { env: env(mode) });
    expect(r.stderr).toBe('mountkit: plugin module "identity-plugin": refuses on purpose\n');
    expect(r.status).toBe(2);
  });
});

describe("installed from its tarball as a dependency, its own dependencies hoisted beside it (npm's layout)", () => {
  const project = path.join(tmp, 'project');

  beforeAll(() => {
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'project', version: '1.0.0', private: true }));
    // Offline, its dependencies copied from the checkout: the run asks no registry.
    installPacked(project, tmp);
  }, 60_000);

  // installPacked put the dependencies at the top of node_modules before the install, so
  // their place there is the helper's; npm's part is to take them for mountkit rather than
  // nest a copy of its own inside it (as it does for a version mountkit's package.json
  // does not accept), and Node's to resolve mountkit's require to that top copy.
  test("npm nests no dependency inside mountkit, whose require('tsyringe') resolves to the project's copy", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(project, 'package-lock.json'), 'utf8')) as { packages: Record<string, unknown> };
    expect(Object.keys(lock.packages).filter((at) => at.startsWith('node_modules/mountkit/node_modules/'))).toEqual([]);
    expect(fs.existsSync(path.join(project, 'node_modules/mountkit/node_modules'))).toBe(false);
    const fromMountkit = createRequire(path.join(project, 'node_modules/mountkit/package.json')).resolve('tsyringe');
    expect(path.relative(project, fromMountkit).split(path.sep).slice(0, 2)).toEqual(['node_modules', 'tsyringe']);
  });

  test.each([[['--version']], [['plan', '--bundle', path.join(REPO, 'examples', 'default')]]])('its bin runs %j from the bundle (MOUNTKIT_BUNDLE=1)', (args) => {
    const r = spawnSync(path.join(project, 'node_modules/.bin/mountkit'), args, { cwd: project, env: env('1'), encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout).not.toBe('');
    expect(r.status).toBe(0);
  });
});
