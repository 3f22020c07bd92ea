import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, runMountkit } from '../conformance/harness';
import { LAUNCHER, REPO } from '../helpers/cli';

/**
 * docs/plugins.md's guide, "From an empty folder to a tested plugin", step 7 as its reader
 * does it: the module of steps 3 to 5 built with step 2's tsconfig.json against the built
 * mountkit (node_modules/mountkit, as an install of the checkout gives it), a plugins.json
 * of the package's list with step 7's entry before builtin:default, examples/busybox's
 * config.json with step 7's mount and process.args. Each piece is read from the guide, so
 * the test follows its text: the plan shows the plugin's calls and the run prints what the
 * guide shows.
 */
const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('the guide test needs root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const DOCS = readFileSync(path.join(REPO, 'docs', 'plugins.md'), 'utf8');
const GUIDE = DOCS.slice(DOCS.indexOf('## From an empty folder'), DOCS.indexOf('## The worked example'));

/** The first capture of `re` in the guide; the test fails naming it when the guide no longer has it. */
function fromGuide(re: RegExp): string {
  const m = re.exec(GUIDE);
  if (!m) throw new Error(`docs/plugins.md's guide no longer matches ${re}`);
  return m[1];
}

maybe("docs/plugins.md's guide, step 7: build, plan, run", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-plugin-scratch-'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(REPO, path.join(dir, 'node_modules', 'mountkit'));
    mkdirSync(path.join(dir, 'src'));
    const code = [...GUIDE.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    ['scratch.ts', 'motd.ts', 'index.ts'].forEach((file, i) => writeFileSync(path.join(dir, 'src', file), code[i]));
    writeFileSync(path.join(dir, 'tsconfig.json'), fromGuide(/\*\*2\. The build\*\*[\s\S]*?```json\n([\s\S]*?)```/));
    const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir], { cwd: dir, encoding: 'utf8' });
    expect(tsc.stdout + tsc.stderr).toBe('');

    const list = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: { module: string }[] };
    const entry = JSON.parse(fromGuide(/add\s+`(\{ "module": "\.\/dist\/index\.js"[^`]*\})`\s+before\s+`builtin:default`/));
    list.plugins.splice(list.plugins.findIndex((e) => e.module === 'builtin:default'), 0, entry);
    writeFileSync(path.join(dir, 'plugins.json'), JSON.stringify(list, null, 2));

    const make = spawnSync('sh', [path.join(REPO, 'examples', 'busybox', 'make-rootfs.sh'), path.join(dir, 'bundle', 'rootfs')], { encoding: 'utf8' });
    expect(make.status).toBe(0);
    const config = JSON.parse(readFileSync(path.join(REPO, 'examples', 'busybox', 'config.json'), 'utf8'));
    config.mounts.push(JSON.parse(fromGuide(/add\s+`(\{ "destination": "\/scratch"[^`]*\})`/)));
    config.process.args = JSON.parse(fromGuide(/make `process\.args` show it:\s*`(\[[^`]*\])`/));
    writeFileSync(path.join(dir, 'bundle', 'config.json'), JSON.stringify(config, null, 2));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("the plan, filtered by the guide's pattern, shows the scratch mount's calls and the motd write", () => {
    const pattern = new RegExp(fromGuide(/mountkit plan --bundle bundle --plugins plugins\.json \| grep -E '([^']+)'/));
    const r = spawnSync(LAUNCHER, ['plan', '--bundle', 'bundle', '--plugins', 'plugins.json'], { cwd: dir, encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const lines = r.stdout.split('\n').filter((l) => pattern.test(l));
    expect(lines.filter((l) => / mount\(/.test(l))).toEqual([
      expect.stringMatching(/ scratch mounts\[\d+\] "\/scratch" +mount\("scratch", "\/proc\/thread-self\/fd\/\d+", "tmpfs", MS_NOSUID\|MS_NODEV, "size=8m,mode=1777"\)  # \d+ = .*\/bundle\/rootfs\/scratch$/),
    ]);
    expect(lines.filter((l) => / motd /.test(l))).toEqual([expect.stringMatching(/ after-jail +motd +writeFile\("\/etc\/motd", "hello\\n", 0644\)$/)]);
  });

  test('the run prints the lines the guide shows', () => {
    const shown = fromGuide(/The run prints[^`]*```\n([\s\S]*?)```/).trimEnd().split('\n');
    // The guide's "..." stands for the mount's ids and device at the start of the mountinfo line.
    const expected = shown.map((line) => (line.startsWith('... ') ? expect.stringMatching(new RegExp(`^\\d+ \\d+ \\d+:\\d+ ${line.slice(4).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)) : line));
    const r = runMountkit(path.join(dir, 'bundle'), ['--plugins', path.join(dir, 'plugins.json')]);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.trimEnd().split('\n')).toEqual(expected);
  });
});
