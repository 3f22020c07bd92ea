import { spawnSync } from 'child_process';
import { existsSync, readFileSync } from 'fs';
import * as path from 'path';
import { REPO } from '../helpers/cli';

/** The files `npm pack` would put in the package (its `files` list), without running the build. */
function packedFiles(): string[] {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, encoding: 'utf8' });
  expect(r.status).toBe(0);
  return (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path);
}

/** The relative links of a Markdown text (`[text](target)`), without their #anchors. */
function relativeLinks(markdown: string): string[] {
  return [...markdown.matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)].map((m) => m[1]).filter((l) => !/^[a-z]+:/.test(l));
}

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

  test('the Markdown files shipped link only to what the package ships, and the CHANGELOG they cite is shipped', () => {
    const files = packedFiles();
    const broken = files
      .filter((f) => f.endsWith('.md'))
      .flatMap((md) => relativeLinks(readFileSync(path.join(REPO, md), 'utf8')).map((link) => ({ md, link, to: path.normalize(path.join(path.dirname(md), link)) })))
      .filter(({ to }) => !files.some((f) => f === to || f.startsWith(`${to}/`)));
    expect(broken).toEqual([]);
    expect(files).toEqual(expect.arrayContaining(['CHANGELOG.md', 'docs/plugins.md', 'examples/plugins/overlay/README.md']));
  });
});
