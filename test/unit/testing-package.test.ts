import { spawnSync } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { REPO } from '../helpers/cli';
import { QUERY_SYSCALLS } from '../../src/core/syscalls/fake';

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
        api: ['loadBundle', 'createKernel', 'runPipeline', 'plan', 'ConfigError', 'MS_BIND', 'injectable', 'mountSpec'].filter((k) => !(k in api)),
        testing: ['FakeSyscalls', 'makeConfig', 'makeMount', 'mountSpec', 'runPlugin', 'expectEffects', 'mountCall', 'loadBundle'].filter((k) => !(k in testing)),
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

/** The ```ts blocks of a Markdown text, in order. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
}

/**
 * An embedder's code naming the types `mountkit` exports for fromOciSpec and plan: a whole
 * config.json (`configJson`, with fields mountkit does not read) and one with nulls
 * satisfy OciSpec, a field of another type and a missing required one do not; plan's
 * `syscalls` is a PlanPort, which PlanSyscalls and DryRunSyscalls are and the testkit's
 * FakeSyscalls is.
 */
const EMBEDDER_TYPES = (configJson: string): string => `
import { DryRunSyscalls, PlanSyscalls, fromOciSpec, plan, type OciSpec, type PlanApiOptions, type PlanPort, type RootfsConfig } from 'mountkit';
import { FakeSyscalls } from 'mountkit/testing';

const whole = ${configJson.trim()} satisfies OciSpec;
fromOciSpec(whole, '/bundle');
fromOciSpec({ root: { path: 'rootfs', readonly: null }, process: null, hostname: null, linux: { seccomp: { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', args: [{ index: 0, value: 18446744073709551615n, op: 'SCMP_CMP_EQ' }] }] } } } satisfies OciSpec, '/bundle');
// @ts-expect-error root.path is required
fromOciSpec({ root: {}, process: { args: ['sh'] } } satisfies OciSpec, '/bundle');
// @ts-expect-error a mount's destination is a string
fromOciSpec({ root: { path: 'rootfs' }, mounts: [{ destination: 5 }] } satisfies OciSpec, '/bundle');
// @ts-expect-error process.args is required
fromOciSpec({ root: { path: 'rootfs' }, process: { cwd: '/' } } satisfies OciSpec, '/bundle');
// @ts-expect-error process.cwd is required
fromOciSpec({ root: { path: 'rootfs' }, process: { args: ['sh'] } } satisfies OciSpec, '/bundle');

function planOn(config: RootfsConfig, port: PlanPort) {
  const opts: PlanApiOptions = { syscalls: port, validate: false };
  return plan(config, opts);
}
export const ports: PlanPort[] = [new PlanSyscalls(), new DryRunSyscalls(), new FakeSyscalls()];
export { planOn };
`;

/**
 * What an embedder and a plugin author compile against the built types (dist/*.d.ts),
 * from a project of their own with mountkit in its node_modules, strict and without
 * skipLibCheck: the README's plugin test and embedding examples, and docs/plugins.md's
 * step-by-step plugin, derived mount and wrapped built-in, under the module settings a
 * CommonJS project uses.
 */
test("docs/plugins.md lists the read-only calls plan leaves out: QUERY_SYSCALLS, each once", () => {
  const docs = readFileSync(path.join(REPO, 'docs', 'plugins.md'), 'utf8');
  const list = /the read-only calls, `QUERY_SYSCALLS`[^:]*: ([^.]*)\./.exec(docs)![1];
  const named = [...list.matchAll(/`(\w+)`/g)].map((m) => m[1]);
  expect([...named].sort()).toEqual([...QUERY_SYSCALLS].sort());
});

describe('the documented code compiles against the published types', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-types-'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(REPO, path.join(dir, 'node_modules', 'mountkit'));
    mkdirSync(path.join(dir, 'src'));
    mkdirSync(path.join(dir, 'test'));
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const embedding = tsBlocks(readme.slice(readme.indexOf('## Embedding'), readme.indexOf('## Layout')));
    expect(embedding).toHaveLength(7);
    // runPipeline's /proc/self/exe: the embedder's Node re-executed from a read-only copy of its file.
    writeFileSync(path.join(dir, 'src', 'embed-seal.ts'), embedding[0]);
    // The example reads its spec from the bundle itself.
    writeFileSync(path.join(dir, 'src', 'embed.ts'), embedding[1]);
    // The runtime's side: a worker per container, started under unshare(1).
    writeFileSync(path.join(dir, 'src', 'embed-runtime.ts'), embedding[2]);
    // The errors' example: a PluginError's phase and its SyscallError's code, the exit status.
    writeFileSync(path.join(dir, 'src', 'embed-errors.ts'), embedding[3]);
    // A port of the embedder's own, a Proxy of the real one counting the calls.
    writeFileSync(path.join(dir, 'src', 'embed-port.ts'), embedding[4]);
    // An embedded run's plan.
    writeFileSync(path.join(dir, 'src', 'embed-plan.ts'), embedding[5]);
    // A spec built in code, typed by OciSpec.
    writeFileSync(path.join(dir, 'src', 'embed-spec.ts'), embedding[6]);
    // What the published types say of a spec and a plan's port, beyond the README's examples.
    writeFileSync(path.join(dir, 'src', 'embed-types.ts'), EMBEDDER_TYPES(readFileSync(path.join(REPO, 'examples', 'default', 'config.json'), 'utf8')));
    const docs = readFileSync(path.join(REPO, 'docs', 'plugins.md'), 'utf8');
    const guide = tsBlocks(docs.slice(docs.indexOf('## From an empty folder')));
    const files = ['src/scratch.ts', 'src/motd.ts', 'src/index.ts', 'test/scratch.test.ts', 'test/motd.test.ts', 'test/run.test.ts'];
    expect(guide.slice(0, files.length).map((b) => b.split('\n')[0])).toEqual([
      'import {',
      expect.stringContaining("from 'mountkit'"),
      "import type { RegisterPlugin } from 'mountkit';",
      expect.stringContaining("from 'mountkit/testing'"),
      expect.stringContaining("from 'mountkit/testing'"),
      "import { spawnSync } from 'child_process';",
    ]);
    files.forEach((file, i) => writeFileSync(path.join(dir, file), guide[i]));
    // The testkit table's two ways of giving runHandler the guide's module its options, run against each other.
    const same = /`(runHandler\(scratch, mount, \{ options: \{[^`]*\} \}\))` is `(runHandler\(\{ plugin: scratch, options: [^`]*\}, mount\))`/.exec(docs);
    expect(same).not.toBeNull();
    writeFileSync(
      path.join(dir, 'test', 'handler-options.test.ts'),
      [
        "import { makeMount, runHandler } from 'mountkit/testing';",
        "import * as scratch from '../src';",
        "const mount = makeMount({ type: 'scratch', destination: '/scratch' });",
        `test('options beside the module go to the module', () => { expect(${same![1]}.sys.mounts).toEqual(${same![2]}.sys.mounts); expect(${same![1]}.sys.mounts[0].data).not.toBe(runHandler(scratch, mount).sys.mounts[0].data); });`,
      ].join('\n'),
    );
    // The README's plugin test, on the guide's module in place of the overlay example's.
    const plugins = tsBlocks(readme.slice(readme.indexOf('## Plugins'), readme.indexOf('## Embedding')));
    expect(plugins).toHaveLength(1);
    writeFileSync(path.join(dir, 'test', 'readme-plugin.test.ts'), plugins[0]);
    // A handler handing a derived mount on (mountSpec), and one wrapping the built-in tmpfs handler.
    const reference = tsBlocks(docs.slice(0, docs.indexOf('## Errors')));
    const derived = reference.filter((b) => b.includes('ctx.dispatch(mountSpec('));
    const wrapped = reference.filter((b) => b.includes('BUILTIN_PLUGINS.tmpfs'));
    expect([derived.length, wrapped.length]).toEqual([1, 1]);
    writeFileSync(path.join(dir, 'src', 'derived.ts'), derived[0]);
    writeFileSync(path.join(dir, 'src', 'wrapped.ts'), wrapped[0]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("the guide's tests pass, run as its step 6 runs them (Jest with ts-jest, the jest.config.js of step 2), and the testkit table's runHandler options on its module", () => {
    const guideTests = ['test/scratch.test.ts', 'test/motd.test.ts', 'test/handler-options.test.ts'];
    const config = {
      rootDir: dir,
      testEnvironment: 'node',
      testMatch: guideTests.map((t) => `<rootDir>/${t}`),
      transform: { '^.+\\.ts$': [require.resolve('ts-jest'), { tsconfig: { strict: true, experimentalDecorators: true, types: ['jest', 'node'], typeRoots: [path.join(REPO, 'node_modules', '@types')] } }] },
    };
    writeFileSync(path.join(dir, 'jest.config.js'), `module.exports = ${JSON.stringify(config)};\n`);
    const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--ci', '--json'], { cwd: dir, encoding: 'utf8' });
    const report = JSON.parse(r.stdout) as { numPassedTests: number; numFailedTests: number; testResults: { name: string; message: string }[] };
    expect(report.testResults.filter((t) => t.message !== '').map((t) => `${path.relative(dir, t.name)}: ${t.message}`)).toEqual([]);
    expect([report.numPassedTests, report.numFailedTests]).toEqual([7, 0]);
    expect(r.status).toBe(0);
  }, 120_000);

  test.each([
    ['commonjs', 'node'],
    ['node16', 'node16'],
  ])('"module": "%s", "moduleResolution": "%s"', (module, moduleResolution) => {
    const tsconfig = {
      compilerOptions: { target: 'ES2022', module, moduleResolution, strict: true, experimentalDecorators: true, noEmit: true, types: ['node', 'jest'], typeRoots: [path.join(REPO, 'node_modules', '@types')] },
      include: ['src', 'test'],
    };
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
    const r = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

