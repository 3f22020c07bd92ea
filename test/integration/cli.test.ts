import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { spawnSync } from 'child_process';
import { BIN, LAUNCHER, REPO, runCli } from '../helpers/cli';
import { QUERY_SYSCALLS } from '../../src/core/syscalls/fake';
import type { SyscallName } from '../../src/core/syscalls/types';
import { writePluginBesideOwnCopy } from '../helpers/plugin-copy';

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

  describe("a plugin's own files named as a package or as its TypeScript source", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'mountkit-cli-own-'));
      mkdirSync(path.join(dir, 'dist'));
      mkdirSync(path.join(dir, 'src'));
      writeFileSync(path.join(dir, 'dist', 'index.js'), 'exports.register = () => undefined;\n');
      writeFileSync(path.join(dir, 'src', 'index.ts'), "import { injectable } from 'mountkit';\n\n@injectable()\nexport class Handler {}\n");
    });
    afterAll(() => rmSync(dir, { recursive: true }));
    const plan = (module: string) => {
      writeFileSync(path.join(dir, 'plugins.json'), JSON.stringify({ plugins: [{ module }] }));
      return runCli(['plan', '--bundle', path.join(REPO, 'examples', 'default'), '--plugins', path.join(dir, 'plugins.json')]);
    };

    test('a build written without "./" is looked up in node_modules: the error gives the path to write', () => {
      const r = plan('dist/index.js');
      expect(r.status).toBe(2);
      expect(r.stderr).toBe(
        `mountkit: plugin module "dist/index.js": cannot be found from ${dir} as a package (a name without "./" is looked up in node_modules); the file ${path.join(dir, 'dist', 'index.js')} is "./dist/index.js"\n`,
      );
      // No hint for a name that is no file there either.
      expect(plan('dist/other.js').stderr).toBe(`mountkit: plugin module "dist/other.js": cannot be found from ${dir}\n`);
    });

    test('a TypeScript source is named as one, with what to list instead', () => {
      const r = plan('./src/index.ts');
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^mountkit: plugin module "\.\/src\/index\.ts": failed to load: [^\n]+ \(a TypeScript source: compile the plugin, `tsc`, and list the JavaScript it writes, such as "\.\/dist\/index\.js"\)\n$/);
    });
  });

  describe('a plugin list without built-ins the config needs', () => {
    let dir: string;
    const bundle = path.join(REPO, 'examples', 'default');
    const list = (leaveOut: string[]) => {
      const { plugins } = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: { module: string }[] };
      const file = path.join(dir, `without-${leaveOut.join('-')}.json`);
      writeFileSync(file, JSON.stringify({ plugins: plugins.filter((p) => !leaveOut.includes(p.module.replace('builtin:', ''))) }));
      return file;
    };
    beforeAll(() => void (dir = mkdtempSync(path.join(tmpdir(), 'mountkit-claims-'))));
    afterAll(() => rmSync(dir, { recursive: true }));

    test.each([
      [['finalize'], 'root.readonly true: no plugin in the plugin list makes the root read-only (builtin:finalize does); add it, or a step of your own listing "root.readonly" in its handles'],
      [['devices'], 'mounts[2].destination "/dev": no plugin in the plugin list makes the device nodes, /dev/null and the other defaults among them (builtin:devices does); add it, or a step of your own listing "linux.devices" in its handles'],
      [['hostname'], 'hostname "mountkit-example": no plugin in the plugin list sets the hostname (builtin:hostname does); add it, or a step of your own listing "hostname" in its handles'],
      [['network'], 'linux.namespaces "network": no plugin in the plugin list brings a new network namespace\'s loopback up (builtin:network does); add it, or a step of your own listing "linux.namespaces.network" in its handles'],
      [['bind'], 'mounts[1].type "bind": no plugin in the plugin list handles this mount type (builtin:bind does; builtin:default, which takes any other type, would mount it without what builtin:bind adds)'],
      [['default'], 'mounts[3].type "devpts": no plugin in the plugin list handles this mount type (builtin:default takes any type)'],
      [
        ['jail'],
        `root.path ${JSON.stringify(path.join(bundle, 'rootfs'))}: no plugin in the plugin list moves the process into the container's root (pivot_root(2), or chroot(2) with --no-pivot) (builtin:jail does); add it, or a step of your own listing "root.path" in its handles`,
      ],
    ])('without %j: run and plan of examples/default are refused, one line, exit 2, by the first process, before the relaunch', (leaveOut, line) => {
      const plugins = list(leaveOut);
      // examples/default has a new pid namespace, for which the Node entry starts itself again
      // under unshare(1): the --log file's error line tells which process refused, by its pid.
      const log = path.join(dir, `without-${leaveOut.join('-')}.log`);
      const run = spawnSync(process.execPath, [BIN, 'run', '--bundle', bundle, '--plugins', plugins, '--seccomp-cache', 'off', '--log', log, '--log-format', 'json'], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
      expect([run.status, run.stdout, run.stderr]).toEqual([2, '', `mountkit: ${line}\n`]);
      const logged = readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { level: string; pid: number; msg: string });
      expect(logged.map((l) => [l.level, l.pid, l.msg])).toEqual([['error', run.pid, line]]);
      // The plan prints no call: run makes no namespace, and starts no relaunch.
      const plan = runCli(['plan', '--bundle', bundle, '--plugins', plugins, '--format', 'json']);
      expect([plan.status, plan.stdout, plan.stderr]).toEqual([2, '', `mountkit: ${line}\n`]);
    });

    test('without a relaunch (no pid namespace), the claims are refused after the plugins are loaded, before the namespaces are entered', () => {
      const config = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8'));
      const own = mkdtempSync(path.join(dir, 'bundle-'));
      writeFileSync(path.join(own, 'config.json'), JSON.stringify({ ...config, root: { ...config.root, path: path.join(bundle, 'rootfs') }, linux: { ...config.linux, namespaces: [{ type: 'mount' }, { type: 'uts' }] } }));
      const line = `root.path ${JSON.stringify(path.join(bundle, 'rootfs'))}: no plugin in the plugin list moves the process into the container's root (pivot_root(2), or chroot(2) with --no-pivot) (builtin:jail does); add it, or a step of your own listing "root.path" in its handles`;
      const run = runCli(['--log-level', 'debug', 'run', '--bundle', own, '--plugins', list(['jail']), '--seccomp-cache', 'off']);
      // No "namespaces entered" line before it, and nothing else the run logs.
      expect([run.status, run.stdout, run.stderr.split('\n').filter((l) => !l.startsWith(' ') && !l.startsWith('Caused by') && l !== '')[0]]).toEqual([2, '', `mountkit: ${line}`]);
      expect(run.stderr).not.toContain('namespaces entered');
      // With a plugin of its own, whose steps only loading it tells: the same place.
      writeFileSync(path.join(dir, 'own-step.js'), "exports.register = (api) => api.step({ name: 'own', phase: 'finalize', run: () => {} });\n");
      const withOwn = path.join(dir, 'with-own.json');
      writeFileSync(withOwn, JSON.stringify({ plugins: [...JSON.parse(readFileSync(list(['jail']), 'utf8')).plugins, { module: './own-step.js' }] }));
      const own2 = runCli(['--log-level', 'debug', 'run', '--bundle', own, '--plugins', withOwn, '--seccomp-cache', 'off']);
      expect([own2.status, own2.stdout]).toEqual([2, '']);
      expect(own2.stderr).toContain(`mountkit: ${line}\n`);
      expect(own2.stderr).not.toContain('namespaces entered');
    });

    test('the package\'s list plans examples/default', () => {
      expect(runCli(['plan', '--bundle', bundle, '--plugins', list([])]).status).toBe(0);
    });

    test('plan --embedded throws what runPipeline throws before its first step: no plan, one line, exit 2', () => {
      const line = `root.path ${JSON.stringify(path.join(bundle, 'rootfs'))}: no plugin in the plugin list moves the process into the container's root`;
      const plan = runCli(['plan', '--embedded', '--bundle', bundle, '--plugins', list(['jail']), '--format', 'json']);
      expect([plan.status, plan.stdout]).toEqual([2, '']);
      expect(plan.stderr).toMatch(new RegExp(`^mountkit: ${line.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*\n$`));
    });
  });

  test('plan --embedded: the calls runPipeline would make, from prepare-root to the execve, with no launcher; mode "embedded" in the JSON', () => {
    const bundle = path.join(REPO, 'examples', 'default');
    const json = runCli(['plan', '--embedded', '--bundle', bundle, '--format', 'json']);
    expect([json.status, json.stderr]).toEqual([0, '']);
    const plan = JSON.parse(json.stdout) as { version: number; mode: string; complete: boolean; calls: { phase: string; plugin: string; op: string }[] };
    expect(plan).toMatchObject({ version: 2, mode: 'embedded', complete: true });
    expect(plan.calls[0]).toMatchObject({ phase: 'prepare-root' });
    expect(plan.calls.filter((c) => c.phase === 'namespaces' || c.plugin === 'launcher')).toEqual([]);
    expect(plan.calls.at(-1)).toMatchObject({ phase: 'finalize', plugin: 'exec', op: 'execve' });
    // The run's plan of the same bundle: the launcher first, mode "run".
    const ofRun = JSON.parse(runCli(['plan', '--bundle', bundle, '--format', 'json']).stdout) as typeof plan;
    expect([ofRun.mode, ofRun.calls[0]]).toMatchObject(['run', { phase: 'namespaces', plugin: 'launcher' }]);
    // The text: the same calls, one line each.
    const text = runCli(['plan', '--embedded', '--bundle', bundle]);
    expect([text.status, text.stdout.trimEnd().split('\n').length]).toEqual([0, plan.calls.length]);
  });

  test('run --embedded is refused before anything is done: exit 2, one line', () => {
    const r = runCli(['run', '--embedded', '--bundle', path.join(REPO, 'examples', 'default')]);
    expect(r).toEqual({ status: 2, stdout: '', stderr: 'mountkit: --embedded: applies to plan only (run always starts the container itself; an embedding calls runPipeline)\n' });
  });

  test.each([
    ['the Node entry', [process.execPath, BIN]],
    ['the shell launcher', [LAUNCHER]],
  ])("run --format json (%s) is refused before anything is done, as plan's alone: exit 2, one line", (_entry, argv) => {
    const r = spawnSync(argv[0], [...argv.slice(1), 'run', '--format', 'json', '--bundle', path.join(REPO, 'examples', 'default')], { encoding: 'utf8', timeout: 60_000 });
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 2, stdout: '', stderr: "mountkit: --format: applies to plan only (run's output is the container's)\n" });
  });

  test('an ES module plugin (export default { register }) is loaded where Node can require ES modules', () => {
    if (spawnSync(process.execPath, ['-p', 'process.features.require_module'], { encoding: 'utf8' }).stdout.trim() !== 'true') return;
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-esm-'));
    try {
      copyFileSync(path.join(REPO, 'test', 'fixtures', 'plugins', 'es-module.mjs'), path.join(dir, 'es-module.mjs'));
      const { plugins } = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8'));
      writeFileSync(path.join(dir, 'plugins.json'), JSON.stringify({ plugins: [...plugins, { module: './es-module.mjs' }] }));
      const r = runCli(['plan', '--bundle', path.join(REPO, 'examples', 'default'), '--plugins', path.join(dir, 'plugins.json'), '--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = JSON.parse(r.stdout).calls.filter((c: { plugin: string }) => c.plugin === 'es-module');
      expect(calls).toEqual([expect.objectContaining({ op: 'writeFile', args: { path: '/tmp/es-module-was-here', data: 'yes' } })]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([
    ['the one-file bundle', {}],
    ['file by file', { MOUNTKIT_BUNDLE: '0' }],
  ])("a plugin beside its own copy of mountkit that fails to register is told so (%s): Node's self-reference must not find the command's copy", (_how, env) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-copy-'));
    try {
      const copy = writePluginBesideOwnCopy(dir);
      writeFileSync(path.join(dir, 'plugins.json'), JSON.stringify({ plugins: [{ module: './plugin.js' }] }));
      const r = runCli(['plan', '--bundle', path.join(REPO, 'examples', 'default'), '--plugins', path.join(dir, 'plugins.json')], { env: { ...process.env, ...env } });
      expect([r.status, r.stdout, r.stderr]).toEqual([
        2,
        '',
        `mountkit: plugin module "./plugin.js": register failed: TypeInfo not known for "Thing"; mountkit as the plugin's directory finds it is ${copy}, this command's is ${REPO}: a plugin and the command must share one copy of mountkit\n`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe("a user plugin whose class's 2nd constructor parameter has no @inject (built without emitDecoratorMetadata)", () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(path.join(tmpdir(), 'mountkit-untokened-'));
      // Installed beside the command's own copy, as `npm install` of a checkout links it.
      mkdirSync(path.join(dir, 'node_modules'));
      symlinkSync(REPO, path.join(dir, 'node_modules', 'mountkit'));
      writeFileSync(
        path.join(dir, 'plugin.js'),
        [
          "const { SYSCALLS, inject, injectable } = require('mountkit');",
          'class ScratchHandler {',
          "  constructor(sys, options) { this.sys = sys; this.options = options; this.name = 'scratch'; this.types = ['scratch']; }",
          '  mount() { this.sys.mkdir(`/scratch-${this.options.size}`, 0o755); }',
          '}',
          'inject(SYSCALLS)(ScratchHandler, undefined, 0);',
          'injectable()(ScratchHandler);',
          'exports.register = (api) => api.handler(ScratchHandler);',
        ].join('\n'),
      );
      const { plugins } = JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8'));
      writeFileSync(path.join(dir, 'plugins.json'), JSON.stringify({ plugins: [{ module: './plugin.js', options: { size: '8m' } }, ...plugins] }));
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));
    const refused = 'mountkit: plugin module "./plugin.js": class "ScratchHandler": constructor parameter 2 (options) has no @inject(TOKEN), so it would be given undefined: add @inject(SYSCALLS), @inject(LOGGER), @inject(PLUGIN_OPTIONS) or the token of what it needs\n';

    test.each([
      ['the one-file bundle', {}],
      ['file by file', { MOUNTKIT_BUNDLE: '0' }],
    ])('plan stops as the plugin registers: one line naming the module, the class and the parameter, exit status 2 (%s)', (_how, env) => {
      const r = runCli(['plan', '--bundle', path.join(REPO, 'examples', 'default'), '--plugins', path.join(dir, 'plugins.json')], { env: { ...process.env, ...env } });
      expect([r.status, r.stdout, r.stderr]).toEqual([2, '', refused]);
    });

    test('run stops there too, before anything is mounted', () => {
      const r = spawnSync(LAUNCHER, ['run', '--bundle', path.join(REPO, 'examples', 'default'), '--plugins', path.join(dir, 'plugins.json')], { encoding: 'utf8', timeout: 60_000 });
      expect([r.status, r.stdout, r.stderr]).toEqual([2, '', refused]);
    });
  });

  test('a bad option is one line on stderr and exit status 2', () => {
    const r = runCli(['--log-level', 'loud', 'run']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('mountkit: --log-level "loud": must be one of error, warn, info, debug\n');
  });

  test('a container id runc would refuse is a configuration error naming it: exit 2, one line, from the shell launcher too', () => {
    const bundle = path.join(REPO, 'examples', 'default');
    expect(runCli(['plan', '--bundle', bundle, 'a/b'])).toEqual({ status: 2, stdout: '', stderr: 'mountkit: container id "a/b": may hold only ASCII letters, digits and _ + , - . (as runc takes an id)\n' });
    const r = spawnSync(path.join(REPO, 'bin', 'mountkit'), ['run', '..', '--bundle', bundle], { encoding: 'utf8' });
    expect([r.status, r.stdout, r.stderr]).toEqual([2, '', 'mountkit: container id "..": must not be . or .. (as runc takes an id)\n']);
  });

  test("without an id, the default, the bundle directory's name, must be one runc takes too: exit 2, one line naming it, from the shell launcher too; an id given instead runs", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-cli-id-'));
    const bundle = path.join(dir, 'my bundle');
    try {
      const cp = spawnSync('cp', ['-a', path.join(REPO, 'examples', 'default'), bundle], { encoding: 'utf8' });
      expect(cp.stderr).toBe('');
      const refused = `mountkit: container id "my bundle": may hold only ASCII letters, digits and _ + , - . (as runc takes an id); it is the bundle directory's name, the id when none is given (mountkit run ID)\n`;
      expect(runCli(['plan', '--bundle', bundle])).toEqual({ status: 2, stdout: '', stderr: refused });
      const r = spawnSync(path.join(REPO, 'bin', 'mountkit'), ['run', '--bundle', bundle], { encoding: 'utf8' });
      expect([r.status, r.stdout, r.stderr]).toEqual([2, '', refused]);
      const given = runCli(['plan', '--bundle', bundle, 'my-bundle']);
      expect([given.status, given.stderr]).toEqual([0, '']);
      expect(given.stdout).toContain('execve(');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("plan --queries lists the calls that only read too (the run's one read of mountinfo among them); without it none is listed", () => {
    const bundle = path.join(REPO, 'examples', 'default');
    const ops = (r: { stdout: string }) => r.stdout.split('\n').flatMap((line) => /^\s*\d+\s+\S+\s+.*?\s(\w+)\(/.exec(line)?.[1] ?? []);
    const isQuery = (op: string) => QUERY_SYSCALLS.has(op as SyscallName);
    const plain = runCli(['plan', '--bundle', bundle]);
    const withQueries = runCli(['plan', '--queries', '--bundle', bundle]);
    expect([plain.status, plain.stderr, withQueries.status, withQueries.stderr]).toEqual([0, '', 0, '']);
    expect(ops(plain).filter(isQuery)).toEqual([]);
    expect(['stat', 'fstat', 'readlink', 'readFile'].filter((op) => !ops(withQueries).includes(op))).toEqual([]);
    expect(withQueries.stdout.split('\n').filter((line) => line.includes('readFile("/proc/self/mountinfo")'))).toHaveLength(1);
    // The other calls are the plain plan's, in its order.
    expect(ops(withQueries).filter((op) => !isQuery(op))).toEqual(ops(plain));
  });

  test.each([
    ['the Node entry', [process.execPath, BIN]],
    ['bin/mountkit', [path.join(REPO, 'bin', 'mountkit')]],
  ])("runc's commands that mountkit has not (%s): the command is named unknown, not the id after it: exit 2, one line", (_entry, argv) => {
    for (const args of [['create', 'c0ffee'], ['exec', 'c0ffee', 'sh'], ['delete', '--force', 'c0ffee']]) {
      const r = spawnSync(argv[0], [...argv.slice(1), ...args], { encoding: 'utf8' });
      expect([r.status, r.stdout, r.stderr]).toEqual([2, '', `mountkit: unknown command "${args[0]}" (see mountkit --help)\n`]);
    }
  });

  test.each([
    ['at the default level', [], ['time', 'level', 'pid', 'id', 'msg']],
    ['at the debug level: the stack traces are a field of the line, every line JSON', ['--log-level', 'debug'], ['time', 'level', 'pid', 'id', 'msg', 'stack']],
  ])('--log-format json without --log (%s): the error that ends the run is a JSON line on stderr, as runc writes its error through its logger', (_level, extra, keys) => {
    const r = runCli(['run', '--bundle', '/nonexistent-bundle', '--log-format', 'json', ...extra, 'c0ffee']);
    expect([r.status, r.stdout]).toEqual([2, '']);
    const lines = r.stderr.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const last = lines[lines.length - 1];
    expect(Object.keys(last)).toEqual(keys);
    expect(last).toMatchObject({ level: 'error', id: 'c0ffee', msg: 'config.json "/nonexistent-bundle/config.json": cannot be read (ENOENT)' });
    if (keys.includes('stack')) expect(last.stack).toMatch(/^ConfigError: config\.json .*\n {4}at /);
  });

  test('--log-format json without --log: an unknown command is a JSON line on stderr too', () => {
    const r = runCli(['--log-format', 'json', 'frob', 'c0ffee']);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(JSON.parse(r.stderr)).toMatchObject({ level: 'error', msg: 'unknown command "frob" (see mountkit --help)' });
  });

  test('a --log file that cannot be opened is a configuration error naming it: exit 2, one line', () => {
    const r = runCli(['plan', '--bundle', path.join(REPO, 'examples', 'default'), '--log', '/nonexistent-dir/log']);
    expect([r.status, r.stderr]).toEqual([2, 'mountkit: --log "/nonexistent-dir/log": cannot be opened (ENOENT)\n']);
  });

  test.each([
    ['the Node entry', [process.execPath, BIN]],
    ['bin/mountkit', [path.join(REPO, 'bin', 'mountkit')]],
  ])('--seccomp-cache "" or " " (%s), which named the current directory or one named " " in it: exit 2, one line, nothing written there', (_entry, argv) => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'mountkit-cache-cwd-'));
    try {
      for (const [option, shown] of [[['--seccomp-cache', ''], '""'], [['--seccomp-cache='], '""'], [['--seccomp-cache', ' '], '" "'], [['--seccomp-cache=  '], '"  "']] as const) {
        const r = spawnSync(argv[0], [...argv.slice(1), 'run', ...option, '--bundle', path.join(cwd, 'no-bundle')], { cwd, encoding: 'utf8' });
        expect([r.status, r.stdout, r.stderr]).toEqual([2, '', `mountkit: --seccomp-cache ${shown}: must name a directory, or be off\n`]);
      }
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  test.each([
    ['the Node entry', [process.execPath, BIN]],
    ['bin/mountkit', [path.join(REPO, 'bin', 'mountkit')]],
  ])('--log, --plugins or --console-socket of whitespace alone (%s), which named a file " " in the current directory: exit 2, one line, nothing written there', (_entry, argv) => {
    const cwd = mkdtempSync(path.join(tmpdir(), 'mountkit-blank-cwd-'));
    try {
      const cases = [
        [['--log', ' '], '--log " ": must name a file, or be empty for stderr'],
        [['--log=\t'], '--log "\\t": must name a file, or be empty for stderr'],
        [['--plugins', ' '], '--plugins " ": must name a plugin list file'],
        [['--console-socket', '  '], '--console-socket "  ": must name a unix socket, or be empty for none'],
      ] as const;
      for (const [option, line] of cases) {
        const r = spawnSync(argv[0], [...argv.slice(1), 'run', ...option, '--bundle', path.join(cwd, 'no-bundle')], { cwd, encoding: 'utf8' });
        expect([r.status, r.stdout, r.stderr]).toEqual([2, '', `mountkit: ${line}\n`]);
      }
      expect(readdirSync(cwd)).toEqual([]);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  /** The CLI under sh with its stdout or stderr redirected as `redirect` says, and the status sh saw. */
  const redirected = (args: string, redirect: string) =>
    spawnSync('sh', ['-c', `{ "$0" "$1" ${args}; echo "status $?" >&3; } ${redirect}`, process.execPath, BIN], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });

  test.each([
    ['plan into a pipe its reader closes (EPIPE): quiet, the status it had', `plan --bundle ${path.join(REPO, 'examples', 'default')}`, '| true', '', 0],
    ['--version into a full device (ENOSPC): one line, exit 1', '--version', '>/dev/full', 'mountkit: writing output: ENOSPC\n', 1],
    ['a config error with stderr on a full device: its own status, 2', 'run --bundle /nonexistent-bundle', '2>/dev/full', '', 2],
  ])('a failed write: %s, no stack trace', (_what, args, redirect, stderr, status) => {
    const r = redirected(args, redirect);
    expect([r.stderr, r.output[3]]).toEqual([stderr, `status ${status}\n`]);
  });
});
