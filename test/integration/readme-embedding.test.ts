import { spawnSync } from 'child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import * as ts from 'typescript';
import { makeBundle } from '../conformance/harness';
import { REPO } from '../helpers/cli';
import { EMBEDDING_SPEC, describeEmbedding } from '../helpers/embedding';

/**
 * README.md's "Embedding" examples run as an embedder runs them: each ```ts block
 * compiled to CommonJS, in a project of its own with the package (the build in dist/) in
 * its node_modules, its paths (`/srv/bundles/job-42`, `/etc/my-runtime/plugins.json`,
 * `worker.js`) made real ones. Every real run is in a namespace made for it, by
 * unshare(1) here or by the runtime's example itself; the mounts of this process's
 * namespace are compared before and after.
 */
function embeddingBlocks(): Record<'spec' | 'runtime' | 'worker' | 'port' | 'plan' | 'ociSpec', string> {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Embedding'), readme.indexOf('## Layout'));
  const blocks = [...section.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  const one = (what: string, test: (b: string) => boolean) => {
    const found = blocks.filter(test);
    if (found.length !== 1) throw new Error(`README's Embedding section has ${found.length} examples of ${what}`);
    return found[0];
  };
  return {
    spec: one('runPipeline on a spec', (b) => b.includes('fromOciSpec(spec,') && b.includes('runPipeline(')),
    runtime: one("the runtime's side", (b) => b.includes("spawnSync('unshare'")),
    worker: one('the errors', (b) => b.includes('instanceof PluginError')),
    port: one('a port of your own', (b) => b.includes('new Proxy(')),
    plan: one('an embedded plan', (b) => b.includes("mode: 'embedded'")),
    ociSpec: one('a spec built in code', (b) => b.includes('satisfies OciSpec')),
  };
}

const mountinfo = () => readFileSync('/proc/self/mountinfo', 'utf8');

describeEmbedding("README's Embedding examples, run", () => {
  const blocks = embeddingBlocks();
  let dir: string;
  let bundle: { dir: string; cleanup: () => void };
  const pluginsFile = () => path.join(dir, 'plugins.json');

  /** The block compiled into `name`.js in the project, its example paths made real. */
  const write = (name: string, block: string, before = ''): string => {
    const source = block
      .replaceAll('/srv/bundles/job-42', bundle.dir)
      .replaceAll('/etc/my-runtime/plugins.json', pluginsFile())
      .replaceAll("'worker.js'", JSON.stringify(path.join(dir, 'worker.js')));
    const js = ts.transpileModule(before + source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } }).outputText;
    const file = path.join(dir, `${name}.js`);
    writeFileSync(file, js);
    return file;
  };
  /** Runs `script` with node, under `under` (an unshare(1) command line) if given. */
  const node = (script: string, args: string[] = [], under: string[] = []) => {
    const argv = [...under, process.execPath, script, ...args];
    const r = spawnSync(argv[0], argv.slice(1), { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    if (r.error) throw r.error;
    return r;
  };
  const writeSpec = (spec: object) => writeFileSync(path.join(bundle.dir, 'config.json'), JSON.stringify(spec));
  const withoutExec = () => ({ plugins: (JSON.parse(readFileSync(path.join(REPO, 'plugins.json'), 'utf8')) as { plugins: { module: string }[] }).plugins.filter((p) => p.module !== 'builtin:exec') });

  let before: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-readme-'));
    mkdirSync(path.join(dir, 'node_modules'));
    symlinkSync(REPO, path.join(dir, 'node_modules', 'mountkit'));
    bundle = makeBundle(EMBEDDING_SPEC);
    before = mountinfo();
  });
  afterEach(() => expect(mountinfo()).toBe(before));
  afterAll(() => {
    bundle.cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  test("the first: with runc spec's namespaces, in those its comment names, runPipeline leaves the process jailed in the rootfs", () => {
    const namespaces = ['pid', 'network', 'ipc', 'uts', 'mount'].map((type) => ({ type }));
    writeSpec({ ...EMBEDDING_SPEC, linux: { ...EMBEDDING_SPEC.linux, namespaces } });
    try {
      const file = write('spec', blocks.spec);
      writeFileSync(file, `${readFileSync(file, 'utf8')}\nprocess.stdout.write(JSON.stringify({ root: require('fs').readdirSync('/').sort(), cwd: process.cwd() }));\n`);
      const unshare = /`(unshare -m -p -f -u -i -n)`/.exec(blocks.spec)![1].split(' ');
      const r = node(file, [], [...unshare, '--propagation', 'private']);
      expect([r.status, r.stderr]).toEqual([0, 'mountkit info [before-jail-callback]: mounted, not yet jailed\n']);
      expect(JSON.parse(r.stdout)).toEqual({ root: ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp'], cwd: '/' });
    } finally {
      writeSpec(EMBEDDING_SPEC);
    }
  });

  describe("the runtime's side starts the errors example as its worker", () => {
    beforeAll(() => {
      write('worker', blocks.worker);
      write('runtime', blocks.runtime);
    });
    afterEach(() => {
      writeSpec(EMBEDDING_SPEC);
      rmSync(pluginsFile(), { force: true });
    });

    test('with every built-in: the container program replaces the worker, PID 1 of the pid namespace the spec lists, with the uts, ipc and network namespaces it lists, which runPipeline would refuse to share', () => {
      const namespaces = ['pid', 'mount', 'uts', 'ipc', 'network'].map((type) => ({ type }));
      const args = ['sh', '-c', 'echo "hello from $$ in $(pwd) on $(hostname)"; cat /proc/net/dev | grep -c :'];
      writeSpec({ ...EMBEDDING_SPEC, hostname: 'job-42', linux: { ...EMBEDDING_SPEC.linux, namespaces }, process: { ...EMBEDDING_SPEC.process, args } });
      writeFileSync(pluginsFile(), readFileSync(path.join(REPO, 'plugins.json')));
      const r = node(path.join(dir, 'runtime.js'));
      // A new network namespace has its loopback interface alone.
      expect([r.status, r.stdout, r.stderr]).toEqual([0, 'hello from 1 in / on job-42\n1\n', '']);
    });

    test('a spec that lists no pid namespace: the worker is no PID 1, as the container shares the runtime\'s', () => {
      writeSpec({ ...EMBEDDING_SPEC, process: { ...EMBEDDING_SPEC.process, args: ['sh', '-c', 'test $$ -ne 1 && echo "not PID 1"'] } });
      writeFileSync(pluginsFile(), readFileSync(path.join(REPO, 'plugins.json')));
      const r = node(path.join(dir, 'runtime.js'));
      expect([r.status, r.stdout, r.stderr]).toEqual([0, 'not PID 1\n', '']);
    });

    test("a mount the kernel refuses: the worker tells the step and the errno and exits 1, which the runtime reports", () => {
      writeSpec({ ...EMBEDDING_SPEC, mounts: [...EMBEDDING_SPEC.mounts, { destination: '/x', type: 'nosuchfs', source: 'none' }] });
      writeFileSync(pluginsFile(), JSON.stringify(withoutExec()));
      const r = node(path.join(dir, 'runtime.js'));
      expect([r.status, r.stdout]).toEqual([0, '']);
      expect(r.stderr).toBe(
        ['mounts default: mount ENODEV', `mounts: plugin default mounts[3] "/x": mount "none" -> "${bundle.dir}/rootfs/x": ENODEV (type "nosuchfs")`, 'job-42: failed (1)', ''].join('\n'),
      );
    });

    test("a read-only bind of a source that is not there: the step names the mount (a StepError), and the worker still finds the syscall and its errno behind it", () => {
      writeSpec({ ...EMBEDDING_SPEC, mounts: [...EMBEDDING_SPEC.mounts, { destination: '/x', type: 'bind', source: '/nonexistent-source', options: ['bind', 'ro'] }] });
      writeFileSync(pluginsFile(), JSON.stringify(withoutExec()));
      const r = node(path.join(dir, 'runtime.js'));
      expect([r.status, r.stdout]).toEqual([0, '']);
      // The call that looked the source up first: open_tree_attr(2) (a read-only bind's copy made with its flags), or open_tree(2) before Linux 6.15.
      const [first, ...rest] = r.stderr.split('\n');
      expect(first).toMatch(/^mounts bind: open_tree(_attr)? ENOENT$/);
      expect(rest).toEqual(['mounts: plugin bind mounts[3] "/x": bind source "/nonexistent-source" does not exist', 'job-42: failed (1)', '']);
    });

    test('a plugins file that cannot be read: a ConfigError naming it, exit status 2, before the first step', () => {
      const r = node(path.join(dir, 'runtime.js'));
      expect([r.status, r.stdout]).toEqual([0, '']);
      expect(r.stderr).toBe([`plugins.json ${JSON.stringify(pluginsFile())}: cannot be read (ENOENT)`, 'job-42: refused: its config or the plugin list', ''].join('\n'));
    });
  });

  describe('a port of your own: a Proxy of the real port', () => {
    beforeAll(() => write('port', blocks.port));

    test('counts the calls of a run in a mount namespace of its own', () => {
      const r = node(path.join(dir, 'port.js'), [], ['unshare', '-m', '--propagation', 'private']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.stdout).toMatch(/\bmount: \d+,/);
      expect(r.stdout).toMatch(/\bpivotRoot: 1,/);
    });

    test('is still the real port: in the mount namespace it was started in, the run is refused and nothing is mounted there', () => {
      // A throwaway pid and mount namespace stands for the host: the shell is its PID 1 and
      // the script's only ancestor, in the same mount namespace, as a host shell is with a
      // script it starts without unshare -m.
      const shell = '"$NODE" port.js; echo "status $?"; grep -c " $BUNDLE" /proc/self/mountinfo';
      const r = spawnSync('unshare', ['--pid', '--fork', '--mount', '--propagation', 'private', '--mount-proc', 'sh', '-c', shell], {
        cwd: dir,
        env: { ...process.env, NODE: process.execPath, BUNDLE: bundle.dir },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toMatch(/^ConfigError: runPipeline: this process shares its mount namespace \(mnt:\[\d+\]\) with every process above it: enter a new one first \(unshare -m\)$/m);
      expect(r.stdout).toBe('status 1\n0\n');
    });
  });

  test('the embedded plan, and the spec built in code, run anywhere: a plan performs nothing', () => {
    const p = node(write('plan', blocks.plan));
    expect([p.status, p.stderr]).toEqual([0, '']);
    expect(p.stdout).toContain('pivotRoot(".", ".")');
    expect(p.stdout).not.toContain('execve');
    const s = node(write('oci-spec', blocks.ociSpec));
    expect([s.status, s.stdout, s.stderr]).toEqual([0, '', '']);
  });
});
