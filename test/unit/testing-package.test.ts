import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { REPO } from '../helpers/cli';

/**
 * The package's entry points as a consumer gets them: `mountkit` and `mountkit/testing`
 * through package.json `exports`, from the build in dist/ (made by `npm ci`'s prepare
 * script, as the CLI tests use it). A script inside the package reaches them by Node's
 * package self-reference, which goes through the same `exports`.
 */
describe('package entry points', () => {
  const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));

  test.each([
    ['.', 'dist/index.js', 'dist/index.d.ts'],
    ['./testing', 'dist/testing/index.js', 'dist/testing/index.d.ts'],
  ])('exports %s: code and types exist', (entry, js, dts) => {
    expect(pkg.exports[entry]).toEqual({ types: `./${dts}`, default: `./${js}` });
    expect(existsSync(path.join(REPO, js))).toBe(true);
    expect(existsSync(path.join(REPO, dts))).toBe(true);
  });

  test('require("mountkit") and require("mountkit/testing") load the build, sharing one set of classes', () => {
    const script = `
      const api = require('mountkit');
      const testing = require('mountkit/testing');
      const out = {
        api: ['loadBundle', 'createKernel', 'runPipeline', 'plan', 'ConfigError', 'MS_BIND', 'injectable'].filter((k) => !(k in api)),
        testing: ['FakeSyscalls', 'makeConfig', 'runPlugin', 'expectEffects', 'mountCall', 'loadBundle'].filter((k) => !(k in testing)),
        same: testing.ConfigError === api.ConfigError && testing.createKernel === api.createKernel,
        file: require.resolve('mountkit/testing'),
        deep: (() => { try { require.resolve('mountkit/dist/core/kernel'); return 'reachable'; } catch (e) { return e.code; } })(),
      };
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync(process.execPath, ['-e', script], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual({
      api: [],
      testing: [],
      same: true,
      file: path.join(REPO, 'dist', 'testing', 'index.js'),
      deep: 'ERR_PACKAGE_PATH_NOT_EXPORTED',
    });
  });
});
