import { spawnSync } from 'child_process';
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX } from '../conformance/harness';
import { REPO } from '../helpers/cli';
import { installPacked, must } from '../helpers/packed-install';

/**
 * docs/plugins.md's guide, "From an empty folder to a tested plugin", step 7 as its reader
 * does it, against mountkit as step 1 installs it: the checkout packed and the .tgz
 * installed into the plugin's folder, offline (installPacked). The module of steps 3 to 5
 * is built with step 2's tsconfig.json against the installed package's types; plugins.json is the installed package's list with step 7's
 * entry before builtin:default; the bundle is made by step 7's commands from the installed
 * package's examples/busybox, with step 7's mount and process.args; plan and run are the
 * installed package's command (node_modules/.bin/mountkit, what `npx mountkit` runs). Each
 * piece is read from the guide, so the test follows its text: the plan shows the plugin's
 * calls and the run prints what the guide shows.
 */
const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('the guide test needs root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const DOCS = readFileSync(path.join(REPO, 'docs', 'plugins.md'), 'utf8');
const GUIDE = DOCS.slice(DOCS.indexOf('## From an empty folder'), DOCS.indexOf('## The worked example'));
const STEP_7 = GUIDE.slice(GUIDE.indexOf('**7. Build, plan, run.**'));

/** The first capture of `re` in `text` (the guide by default); the test fails naming it when the guide no longer has it. */
function fromGuide(re: RegExp, text = GUIDE): string {
  const m = re.exec(text);
  if (!m) throw new Error(`docs/plugins.md's guide no longer matches ${re}`);
  return m[1];
}

maybe("docs/plugins.md's guide, step 7: build, plan, run, with mountkit installed from its tarball", () => {
  let tmp: string;
  let dir: string;
  let mountkit: string;
  beforeAll(() => {
    tmp = mkdtempSync(path.join(tmpdir(), 'mountkit-plugin-guide-'));
    // The plan's paths hold the folder's name: the guide's, which its grep pattern is written around.
    dir = path.join(tmp, 'mountkit-plugin-scratch');
    mkdirSync(path.join(dir, 'src'), { recursive: true });
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'mountkit-plugin-scratch', version: '1.0.0', private: true }));
    installPacked(dir, tmp, ['--save-dev', '--save-exact']);
    mountkit = path.join(dir, 'node_modules', '.bin', 'mountkit');
    expect(lstatSync(path.join(dir, 'node_modules', 'mountkit')).isSymbolicLink()).toBe(false);

    const code = [...GUIDE.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    ['scratch.ts', 'motd.ts', 'index.ts'].forEach((file, i) => writeFileSync(path.join(dir, 'src', file), code[i]));
    writeFileSync(path.join(dir, 'tsconfig.json'), fromGuide(/\*\*2\. The build\*\*[\s\S]*?```json\n([\s\S]*?)```/));
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');

    const shipped = fromGuide(/copy mountkit's own list \(`([^`]+)`\)/, STEP_7);
    const list = JSON.parse(readFileSync(path.join(dir, shipped), 'utf8')) as { plugins: { module: string }[] };
    const entry = JSON.parse(fromGuide(/add\s+`(\{ "module": "\.\/dist\/index\.js"[^`]*\})`\s+before\s+`builtin:default`/, STEP_7));
    list.plugins.splice(list.plugins.findIndex((e) => e.module === 'builtin:default'), 0, entry);
    writeFileSync(path.join(dir, 'plugins.json'), JSON.stringify(list, null, 2));

    must('sh', ['-ec', fromGuide(/```sh\n([\s\S]*?)```/, STEP_7)], { cwd: dir, env: { ...process.env, BUSYBOX } });
    const config = JSON.parse(readFileSync(path.join(dir, 'bundle', 'config.json'), 'utf8'));
    config.mounts.push(JSON.parse(fromGuide(/add\s+`(\{ "destination": "\/scratch"[^`]*\})`/, STEP_7)));
    config.process.args = JSON.parse(fromGuide(/make `process\.args` show it:\s*`(\[[^`]*\])`/, STEP_7));
    writeFileSync(path.join(dir, 'bundle', 'config.json'), JSON.stringify(config, null, 2));
  }, 120_000);
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  test("the plan, filtered by the guide's pattern, shows the scratch mount's calls and the motd write", () => {
    const pattern = new RegExp(fromGuide(/mountkit plan --bundle bundle --plugins plugins\.json \| grep -E '([^']+)'/, STEP_7));
    const r = spawnSync(mountkit, ['plan', '--bundle', 'bundle', '--plugins', 'plugins.json'], { cwd: dir, encoding: 'utf8', input: '', timeout: 60_000 });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const lines = r.stdout.split('\n').filter((l) => pattern.test(l));
    expect(lines.filter((l) => / mount\(/.test(l))).toEqual([
      expect.stringMatching(/ scratch mounts\[\d+\] "\/scratch" +mount\("scratch", "\/proc\/thread-self\/fd\/\d+", "tmpfs", MS_NOSUID\|MS_NODEV, "size=8m,mode=1777"\)  # \d+ = .*\/mountkit-plugin-scratch\/bundle\/rootfs\/scratch$/),
    ]);
    expect(lines.filter((l) => / motd /.test(l))).toEqual([expect.stringMatching(/ after-jail +motd +writeFile\("\/etc\/motd", "hello\\n", 0644\)$/)]);
  });

  test('the run prints the lines the guide shows', () => {
    const shown = fromGuide(/The run prints[^`]*```\n([\s\S]*?)```/, STEP_7).trimEnd().split('\n');
    // The guide's "..." stands for the mount's ids and device at the start of the mountinfo line.
    const expected = shown.map((line) => (line.startsWith('... ') ? expect.stringMatching(new RegExp(`^\\d+ \\d+ \\d+:\\d+ ${line.slice(4).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)) : line));
    // The guide's command; the seccomp cache off, as everywhere in the suite, which leaves nothing in the host's /run.
    // Standard input is an empty pipe, not the host's /dev/null.
    const r = spawnSync(mountkit, ['run', '--bundle', 'bundle', '--plugins', 'plugins.json', '--seccomp-cache', 'off'], { cwd: dir, encoding: 'utf8', input: '', timeout: 60_000 });
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.trimEnd().split('\n')).toEqual(expected);
  });

  test("the guide's integration test of the plugin passes in its folder, run by Jest as root: it is not skipped", () => {
    const runTest = [...GUIDE.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]).filter((code) => code.includes("'node_modules/.bin/mountkit'"));
    expect(runTest).toHaveLength(1);
    mkdirSync(path.join(dir, 'test'), { recursive: true });
    writeFileSync(path.join(dir, 'test', 'run.test.ts'), runTest[0]);
    const config = {
      rootDir: dir,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/run.test.ts'],
      transform: { '^.+\\.ts$': [require.resolve('ts-jest'), { tsconfig: { strict: true, types: ['jest', 'node'], typeRoots: [path.join(REPO, 'node_modules', '@types')] } }] },
    };
    writeFileSync(path.join(dir, 'jest.config.js'), `module.exports = ${JSON.stringify(config)};\n`);
    const r = spawnSync(process.execPath, [require.resolve('jest/bin/jest'), '--ci', '--json'], { cwd: dir, encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(r.stdout) as { numPassedTests: number; numFailedTests: number; numPendingTests: number; testResults: { message: string }[] };
    expect(report.testResults.map((t) => t.message).filter((m) => m !== '')).toEqual([]);
    expect([report.numPassedTests, report.numFailedTests, report.numPendingTests]).toEqual([1, 0, 0]);
  }, 120_000);
});
