/**
 * Random OCI hooks run under runc 1.1.5 and under mountkit.
 *
 * A config draws, of each kind (prestart, createRuntime, createContainer, startContainer,
 * poststart, poststop), zero to three hooks, each /bin/busybox run as `sh` under an
 * argv[0] of its own (a prefix with spaces, quotes, non-ASCII before `sh`, which busybox
 * takes as its applet), with drawn arguments (empty, spaces, quotes, backslashes, `$`,
 * newlines, non-ASCII), an `env` (none, empty, duplicated keys, a `NAME` without `=`, an
 * empty string), and a `timeout` (none, or one no hook reaches); at most one hook fails
 * (exit 7) at a drawn place. The program runs as root or as another user, from a drawn
 * cwd. Each runtime is started in a drawn environment (the caller's: lowercase names the
 * launcher uses itself, `_`, names the shell sets, names that are no shell names; values
 * with quotes, backslashes, `$`, newlines).
 *
 * Every hook records, in a directory bound into the container at the same path: that it
 * ran (in the order of all), its argv and environment (from /proc, as the kernel gave
 * them), its cwd, the state it read on its standard input and its uids and gids. Both
 * runtimes must start the program or both refuse, write to stderr in the same cases, and
 * leave the same records, byte for byte, once the differences README.md names
 * ("Differences from runc 1.1.5") are rewritten by the rules below, each named after its
 * item there.
 *
 * The seed is fixed (MOUNTKIT_TEST_SEED tries others); a failure prints the draw.
 */
import * as fc from 'fast-check';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { LAUNCHER } from '../helpers/cli';
import { BUSYBOX, RUNC, busyboxConfig, runMountkit, runRunc, withBundle, type Outcome } from './harness';
import { sideBySide } from './side-by-side';

const available = Boolean(RUNC && BUSYBOX) && process.getuid?.() === 0;
const maybe = available ? describe : describe.skip;

/**
 * The launcher's shell: the interpreter its `#!` line names (`/bin/sh`), its links followed
 * (Debian's `/bin/sh` -> `dash`). The refusal of an `OPTIND` that is no number is dash's
 * (README.md, "Differences from runc 1.1.5"); under another shell it is not expected.
 */
const LAUNCHER_SHELL = realpathSync(readFileSync(LAUNCHER, 'utf8').split('\n')[0].replace(/^#!\s*/, '').split(/\s+/)[0]);
const launcherShellIsDash = path.basename(LAUNCHER_SHELL) === 'dash';

const SEED = Number(process.env.MOUNTKIT_TEST_SEED ?? 20261202);
const RUNS = 24;

const KINDS = ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop'] as const;
type Kind = (typeof KINDS)[number];
/** The hooks whose state carries the container's pid as the host sees it. */
const HOST_PID_KINDS: readonly Kind[] = ['prestart', 'createRuntime', 'poststart'];

/** Strings for arguments and values: empty, white space, quotes, backslashes, `$`, newlines, non-ASCII, and printable ASCII drawn. */
const text = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('', ' ', 'a b', "it's", '"q"', 'back\\slash', '$HOME', '${x}', '`id`', 'two\nlines', 'caf\u00e9', '\u65e5\u672c', '=', '-c', '*') },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);

/** What stands before `sh` in a hook's argv[0]: busybox runs the applet its last component names. */
const argv0Prefix = fc.constantFrom('', '/bin/', './', '/we ird/', `/q'u"o/`, '/caf\u00e9/', 'x y/', '/$x/');

/** A hook's `env` entry: NAME=VALUE of a few names (so often repeated), a NAME without `=`, or an empty string. */
const hookEnvEntry = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom('A', 'B', 'PATH', 'HOME', 'bundle', '_'), text).map(([name, value]) => `${name}=${value}`) },
  { weight: 1, arbitrary: fc.constantFrom('A', 'B', 'lone') },
  { weight: 1, arbitrary: fc.constant('') },
);

interface DrawnHook {
  prefix: string;
  args: string[];
  env: string[] | null;
  timeout: number | null;
}

const hook: fc.Arbitrary<DrawnHook> = fc.record({
  prefix: argv0Prefix,
  args: fc.array(text, { maxLength: 3 }),
  env: fc.option(fc.array(hookEnvEntry, { maxLength: 4 }), { freq: 2 }),
  timeout: fc.option(fc.constantFrom(60, 600, 86400), { freq: 2 }),
});

/**
 * Names of the caller's variables: ordinary ones, lowercase ones the launcher uses itself
 * (`bundle`, `line`, `dir`, ...), `_`, names a POSIX shell sets (IFS, OPTIND, PPID, PWD),
 * names of the launcher's own (`mountkit_...`) and names that are no shell names. OPTIND
 * is given a number: dash, Debian's `/bin/sh` and so the launcher's shell there, refuses
 * to start with another (see the fixed test below).
 */
const CALLER_NAMES = ['bundle', 'line', 'dir', '_', 'arg', 'self', 'main', 'pid', 'status', 'value', 'A', 'lower_case', 'TERM', 'HOME', 'LANG', 'X1'];
const SHELL_NAMES = ['IFS', 'OPTIND', 'PPID', 'PWD'];
const RESERVED_NAMES = ['mountkit_given', 'mountkit_was_line'];
const NON_NAMES = ['1a', 'a-b', 'a.b', 'caf\u00e9'];

const callerEnv = fc.array(
  fc.tuple(
    fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...CALLER_NAMES) }, { weight: 2, arbitrary: fc.constantFrom(...SHELL_NAMES) }, { weight: 1, arbitrary: fc.constantFrom(...RESERVED_NAMES, ...NON_NAMES) }),
    text,
  ).map(([name, value]): [string, string] => [name, name === 'OPTIND' ? String(value.length) : value]),
  { maxLength: 6 },
);

const draws = fc.record({
  hooks: fc.record(Object.fromEntries(KINDS.map((kind) => [kind, fc.array(hook, { maxLength: 3 })])) as Record<Kind, fc.Arbitrary<DrawnHook[]>>),
  // Which hook fails: its kind, which then has at least two hooks (`spare` added), and the
  // first or the second of them, so that often one of its kind comes after it.
  fail: fc.option(fc.record({ kind: fc.constantFrom(...KINDS), index: fc.nat(1) }), { freq: 2 }),
  spare: fc.array(hook, { minLength: 2, maxLength: 2 }),
  caller: callerEnv,
  // The caller's PWD: none, its cwd, or a path that is not its cwd.
  pwd: fc.constantFrom<'none' | 'cwd' | 'other'>('none', 'none', 'cwd', 'other'),
  uid: fc.constantFrom(0, 1000),
  cwd: fc.constantFrom('/', '/tmp', '/bin'),
  processEnv: fc.array(fc.constantFrom('A=1', 'A=2', 'HOME=/h', 'x=y z', 'line=l'), { maxLength: 3 }),
  annotations: fc.constantFrom<Record<string, string> | null>(null, {}, { a: 'b' }, { 'org.x': 'caf\u00e9 "q"', e: '' }),
});

/** What one hook recorded. */
interface HookRecord {
  argv: string[];
  env: string[];
  cwd: string;
  state: Record<string, unknown>;
  ids: string;
}

/** What a run left: the hooks that ran, in order, their records, and whether the runtime wrote to stderr. */
interface Left {
  runtime: 'runc' | 'mountkit';
  wroteToStderr: boolean;
  order: string[];
  records: Record<string, HookRecord>;
}

/** The hook `name` (KIND-INDEX) as a busybox shell command recording what it was given under `dir`; `fails`: it then exits 7. */
function hookScript(dir: string, name: string, fails: boolean): string {
  const b = '/bin/busybox';
  // The shell opens its own /proc files (a child's /proc/self would be the child's), and
  // through /proc/self: runc runs createContainer hooks before pivot_root, under the
  // host's /proc, where the shell's own pid ($$, the container's pid namespace's) names
  // another process or none.
  return [
    'set -e',
    `r=${dir}/${name}`,
    'exec 3</proc/self/cmdline 4</proc/self/environ 5</proc/self/status',
    `echo ${name} >>${dir}/order`,
    `${b} cat <&3 >"$r.argv"`,
    `${b} cat <&4 >"$r.env"`,
    `${b} readlink /proc/self/cwd >"$r.cwd"`,
    `${b} cat >"$r.state"`,
    `${b} grep -E '^(Uid|Gid):' <&5 >"$r.ids"`,
    ...(fails ? ['exit 7'] : []),
  ].join('; ');
}

/** Each hook's name, KIND-INDEX, in KINDS order. */
function hookNames(hooks: Record<Kind, DrawnHook[]>): string[] {
  return KINDS.flatMap((kind) => hooks[kind].map((_, i) => `${kind}-${i}`));
}

const kindOf = (name: string): Kind => name.slice(0, name.lastIndexOf('-')) as Kind;

/** The records a run left in `dir`, removed after. */
function readLeft(dir: string, runtime: Left['runtime'], stderr: string): Left {
  const order = readFileSync(path.join(dir, 'order'), 'utf8').split('\n').filter(Boolean);
  const records: Record<string, HookRecord> = {};
  const read = (name: string, ext: string): string => {
    const file = path.join(dir, `${name}.${ext}`);
    return existsSync(file) ? readFileSync(file, 'utf8') : `<no ${ext}>`;
  };
  for (const name of order) {
    const state = read(name, 'state');
    records[name] = {
      argv: read(name, 'argv').split('\0').slice(0, -1),
      env: read(name, 'env').split('\0').slice(0, -1).sort(),
      cwd: read(name, 'cwd'),
      state: state.startsWith('{') ? JSON.parse(state) : { unread: state },
      ids: read(name, 'ids'),
    };
  }
  return { runtime, wroteToStderr: stderr !== '', order, records };
}

const nameOf = (entry: string): string => (entry.includes('=') ? entry.slice(0, entry.indexOf('=')) : entry);

/**
 * Rule "a hook's env entry without `=`": mountkit gives `NAME` as `NAME=` (its last
 * entry of the name wins), runc 1.1.5 passes `NAME` as it is, next to the last `NAME=...`.
 * runc's environment as mountkit gives it.
 */
function bareEntriesRule(env: string[], given: readonly string[]): string[] {
  const lastBare = new Set<string>();
  for (const entry of given) {
    if (entry === '') continue;
    if (entry.includes('=')) lastBare.delete(nameOf(entry));
    else lastBare.add(entry);
  }
  const kept = env.filter((entry) => entry.includes('=') && !lastBare.has(nameOf(entry)));
  return [...kept, ...[...lastBare].map((name) => `${name}=`)].sort();
}

/** `left` with the named differences rewritten, runc's side to what mountkit gives. */
function rewritten(left: Left, hooks: Record<Kind, DrawnHook[]>, failing: string | undefined, hooksOf: (name: string) => DrawnHook): Omit<Left, 'runtime'> {
  const { runtime, wroteToStderr } = left;
  let order = [...left.order];
  const records: Record<string, HookRecord> = {};
  const failingKind = failing === undefined ? undefined : kindOf(failing);
  const hostPids = new Set<unknown>();
  for (const name of order) {
    const rec = { ...left.records[name], state: { ...left.records[name].state } };
    const kind = kindOf(name);
    const given = hooksOf(name);
    if (runtime === 'runc') {
      // Rule "hooks' state: ociVersion": runc 1.1.5 gives its spec's version, 1.0.2-dev.
      if (rec.state.ociVersion === '1.0.2-dev') rec.state.ociVersion = '1.0.2';
      // Rule "poststart hooks run once the program is next": runc 1.1.5 gives them status created.
      if (kind === 'poststart' && rec.state.status === 'created') rec.state.status = 'running';
      if (given.env !== null) rec.env = bareEntriesRule(rec.env, given.env);
    }
    // The container's pid as the host sees it differs from run to run: the same positive pid for all of one run's.
    if (HOST_PID_KINDS.includes(kind)) {
      expect(rec.state.pid).toEqual(expect.any(Number));
      hostPids.add(rec.state.pid);
      rec.state.pid = '<host pid>';
    }
    records[name] = rec;
  }
  expect(hostPids.size).toBeLessThanOrEqual(1);
  const drop = (which: (name: string) => boolean): void => {
    for (const name of order.filter(which)) delete records[name];
    order = order.filter((name) => !which(name));
  };
  if (runtime === 'runc') {
    // Rule "poststart hooks run once the program is next": runc 1.1.5 runs them before the
    // startContainer hooks, and so also when one of those then fails, where mountkit runs none.
    if (failingKind === 'startContainer') drop((name) => kindOf(name) === 'poststart');
    const poststart = order.filter((name) => kindOf(name) === 'poststart');
    const lastStart = order.map(kindOf).lastIndexOf('startContainer');
    if (poststart.length > 0 && lastStart >= 0) {
      const rest = order.filter((name) => kindOf(name) !== 'poststart');
      const at = rest.map(kindOf).lastIndexOf('startContainer') + 1;
      order = [...rest.slice(0, at), ...poststart, ...rest.slice(at)];
    }
  } else {
    // The same rule the other way: a failing poststart hook stops runc before its
    // startContainer hooks, which mountkit has run by then.
    if (failingKind === 'poststart') drop((name) => kindOf(name) === 'startContainer');
    // Rule "a failing poststop hook is a warning": mountkit runs the later ones, runc 1.1.5 none.
    if (failingKind === 'poststop') {
      const later = (name: string) => kindOf(name) === 'poststop' && Number(name.split('-').pop()) > Number(failing!.split('-').pop());
      expect(order.filter(later)).toEqual(hooks.poststop.map((_, i) => `poststop-${i}`).filter(later));
      drop(later);
    }
  }
  return { wroteToStderr, order, records };
}

maybe('random hooks: runc 1.1.5 and mountkit', () => {
  let dir: string;
  let serial = 0;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-hooks-'));
    chmodSync(dir, 0o711);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('the same hooks run, in the same order, with the same argv, environment, cwd, state and ids, or both refuse', () => {
    let started = 0;
    let failed = 0;
    const cwd = realpathSync(process.cwd());
    fc.assert(
      fc.property(draws, (draw) => {
        const rec = path.join(dir, 'rec');
        const hooks = { ...draw.hooks };
        if (draw.fail) hooks[draw.fail.kind] = [...hooks[draw.fail.kind], ...draw.spare].slice(0, Math.max(2, hooks[draw.fail.kind].length));
        const names = hookNames(hooks);
        const failing = draw.fail ? `${draw.fail.kind}-${draw.fail.index}` : undefined;
        if (failing) failed++;
        const hooksOf = (name: string): DrawnHook => hooks[kindOf(name)][Number(name.split('-').pop())];
        const config = busyboxConfig(['true']);
        config.process.user = { uid: draw.uid, gid: draw.uid };
        config.process.cwd = draw.cwd;
        config.process.env = ['PATH=/bin', ...draw.processEnv];
        config.mounts.push({ destination: dir, type: 'bind', source: dir, options: ['rbind'] });
        if (draw.annotations) config.annotations = draw.annotations;
        config.hooks = Object.fromEntries(
          KINDS.filter((kind) => hooks[kind].length > 0).map((kind) => [
            kind,
            hooks[kind].map((h, i) => ({
              path: '/bin/busybox',
              args: [`${h.prefix}sh`, '-c', hookScript(rec, `${kind}-${i}`, failing === `${kind}-${i}`), ...h.args],
              ...(h.env === null ? {} : { env: h.env }),
              ...(h.timeout === null ? {} : { timeout: h.timeout }),
            })),
          ]),
        );
        const env: NodeJS.ProcessEnv = { PATH: process.env.PATH };
        for (const [name, value] of draw.caller) env[name] = value;
        if (draw.pwd !== 'none') env.PWD = draw.pwd === 'cwd' ? cwd : '/';
        const id = `mountkit-hooks-${process.pid}-${serial++}`;
        const run = (runtime: Left['runtime'], start: () => Outcome): Outcome => {
          rmSync(rec, { recursive: true, force: true });
          mkdirSync(rec);
          chmodSync(rec, 0o777);
          writeFileSync(path.join(rec, 'order'), '', { mode: 0o666 });
          chmodSync(path.join(rec, 'order'), 0o666);
          const r = start();
          // What the runtime wrote to stderr is compared as whether it wrote, its words aside.
          return { status: r.status, stdout: JSON.stringify(readLeft(rec, runtime, r.stderr)), stderr: r.status === 0 ? '' : r.stderr };
        };
        const runners = {
          runc: (bundle: string) => run('runc', () => runRunc(bundle, id, env)),
          mountkit: (bundle: string) => run('mountkit', () => runMountkit(bundle, [id], 'launcher', env)),
        };
        const view = (stdout: string) => rewritten(JSON.parse(stdout) as Left, hooks, failing, hooksOf);
        // runc started the program: every hook drawn ran, but those a failing one stopped.
        const checked = (v: ReturnType<typeof view>) => {
          if (failing === undefined) expect([...v.order].sort()).toEqual([...names].sort());
        };
        if (sideBySide(config, () => undefined, { view, checked, refusals: 'compare', runners })) started++;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(started).toBeGreaterThan(RUNS / 3);
    expect(failed).toBeGreaterThan(RUNS / 10);
  });

  test("the launcher's shell: the caller's IFS, OPTIND, PPID, no PWD, names that are no shell names and the launcher's own reach the runtime's hooks as given", () => {
    const rec = path.join(dir, 'rec');
    const config = busyboxConfig(['true']);
    config.hooks = { prestart: [{ path: '/bin/busybox', args: ['sh', '-c', hookScript(rec, 'prestart-0', false)] }] };
    const caller = { PATH: process.env.PATH, IFS: 'x', OPTIND: '9', PPID: '7', 'a-b': '1', '1a': '2', 'caf\u00e9': '3', bundle: 'b', _: 'u', line: 'two\nlines', mountkit_given: 'g', mountkit_was_line: 'w' };
    const envOf = (start: () => Outcome): string[] => {
      rmSync(rec, { recursive: true, force: true });
      mkdirSync(rec);
      writeFileSync(path.join(rec, 'order'), '');
      expect(start()).toMatchObject({ status: 0, stderr: '' });
      return readLeft(rec, 'runc', '').records['prestart-0'].env;
    };
    const given = Object.entries(caller).map(([name, value]) => `${name}=${value}`).sort();
    withBundle(config, (bundle) => {
      const id = `mountkit-hooks-${process.pid}-${serial++}`;
      expect(envOf(() => runRunc(bundle, id, caller))).toEqual(given);
      expect(envOf(() => runMountkit(bundle, [id], 'launcher', caller))).toEqual(given);
    });
  });

  // Rule "the launcher's shell": dash refuses to start, before the launcher's first line.
  // Another shell is not known to refuse, and what it does is not expected here.
  const dashOnly = launcherShellIsDash ? test : test.skip;
  const refusal = "the launcher's shell, dash, refuses to start on an OPTIND that is no number";
  dashOnly(launcherShellIsDash ? refusal : `${refusal} (not tried: the launcher's shell is ${LAUNCHER_SHELL})`, () => {
    const config = busyboxConfig(['true']);
    withBundle(config, (bundle) => {
      const id = `mountkit-hooks-${process.pid}-${serial++}`;
      for (const optind of ['x', '', '-3']) {
        const refused = runMountkit(bundle, [id], 'launcher', { PATH: process.env.PATH, OPTIND: optind });
        expect(refused).toMatchObject({ status: 2, stderr: expect.stringContaining(`Illegal number: ${optind}`) });
      }
    });
  });
});
