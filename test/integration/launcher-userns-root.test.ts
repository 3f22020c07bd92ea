/**
 * bin/mountkit run by root for a bundle with a new user namespace (bin/mountkit
 * root_maps): unshare(1) makes it with the pid and mount ones, the launcher writes the
 * config's maps into it from the host and leaves setgroups(2) allowed, and the one Node
 * it starts there becomes the container. Configs the guess does not take, or takes
 * wrongly (core/namespaces.ts launcherRootUserNamespaceHolds: Node answers "again"), run
 * as the Node entry runs them, with its relaunch. A `node` first in PATH notes each Node
 * start: the uid_map it was started in and the launcher's variable.
 */
import { spawn, spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runCountingNodes, type CountedRun } from '../helpers/proc-tree';
import { BIN, LAUNCHER } from '../helpers/cli';
import { LAUNCHER_SHELLS } from '../helpers/launcher-stand-ins';
import { BUSYBOX, busyboxConfig, withBundle, withBundleAsync } from '../conformance/harness';

const maybe = process.getuid?.() === 0 && BUSYBOX ? describe : describe.skip;

/** The unshare(1) a stand-in in PATH runs for what it does not refuse. */
const realUnshare = spawnSync('sh', ['-c', 'command -v unshare'], { encoding: 'utf8' }).stdout.trim();

/** A map's lines as the kernel's uid_map and gid_map show them, blanks squeezed. */
const squeezed = (text: string): string[] => text.split('\n').map((l) => l.trim().replace(/\s+/g, ' '));

const ONE = [{ containerID: 0, hostID: 0, size: 1 }];
const WIDE = [
  { containerID: 0, hostID: 0, size: 1 },
  { containerID: 1, hostID: 100000, size: 65535 },
];

/** A busybox config in new pid, mount, user and ipc namespaces with `maps` for both ids, running `script`. */
function userConfig(script: string, maps: object[] = ONE, over: Record<string, unknown> = {}): Record<string, any> {
  const c = busyboxConfig(['sh', '-c', script], over);
  c.process.user = { uid: 0, gid: 0 };
  c.linux = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }, { type: 'ipc' }], uidMappings: maps, gidMappings: maps };
  return c;
}

const SHOW = 'cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; echo $$';

/** Kubernetes' shape: a range of host ids, without host id 0 (the launcher starts Node through setpriv(1)). */
const RANGE = [{ containerID: 0, hostID: 100000, size: 65536 }];
/** What the container shows of its ids, groups and capability sets, and its maps. */
const CREDS = 'grep -E "^(Uid|Gid|Groups|Cap(Inh|Prm|Eff|Bnd|Amb)):" /proc/self/status; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups';
/** A config of RANGE's maps running `script` as uid 0 with capabilities of every set, one of them ambient. */
function rangeConfig(script: string, gid: object[] = RANGE): Record<string, any> {
  const c = userConfig(script, RANGE);
  c.linux.gidMappings = gid;
  c.process.capabilities = { bounding: ['CAP_CHOWN', 'CAP_KILL', 'CAP_SYS_ADMIN'], effective: ['CAP_CHOWN', 'CAP_KILL'], permitted: ['CAP_CHOWN', 'CAP_KILL'], inheritable: ['CAP_KILL'], ambient: ['CAP_KILL'] };
  return c;
}
/**
 * What CREDS shows in it: uid and gid 0, no supplementary group, CAP_KILL (bit 5) inheritable and
 * ambient, and CAP_CHOWN, CAP_KILL and CAP_SYS_ADMIN (0, 5, 21) permitted and effective: an
 * execve(2) as uid 0 gives it the bounding set (capabilities(7)), under runc too.
 */
const RANGE_CREDS = ['Uid: 0 0 0 0', 'Gid: 0 0 0 0', 'Groups:', 'CapInh: 0000000000000020', 'CapPrm: 0000000000200021', 'CapEff: 0000000000200021', 'CapBnd: 0000000000200021', 'CapAmb: 0000000000000020', '0 100000 65536', '0 100000 65536', 'allow'];

maybe('bin/mountkit run by root with a new user namespace', () => {
  let bin: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    bin = mkdtempSync(path.join(tmpdir(), 'mountkit-userns-root-'));
    log = path.join(bin, 'started');
    writeFileSync(log, '');
    // The root of RANGE's namespace, host id 100000, runs the stand-in and writes its line.
    chmodSync(bin, 0o755);
    chmodSync(log, 0o666);
    writeFileSync(
      path.join(bin, 'node'),
      `#!/bin/sh\nread -r a b c </proc/self/uid_map\necho "$a $b $c userns=\${MOUNTKIT_LAUNCHER_USERNS-}" >>'${log}'\nexec '${process.execPath}' "$@"\n`,
    );
    chmodSync(path.join(bin, 'node'), 0o755);
    env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  });

  afterEach(() => rmSync(bin, { recursive: true, force: true }));

  const run = (dir: string, shell: string[] = [], extra: NodeJS.ProcessEnv = {}) =>
    spawnSync(shell[0] ?? LAUNCHER, [...shell.slice(1), ...(shell.length ? [LAUNCHER] : []), 'run', '--bundle', dir, '--seccomp-cache', 'off'], {
      encoding: 'utf8',
      timeout: 60_000,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...env, ...extra },
    });
  const entry = (dir: string) =>
    spawnSync(process.execPath, [BIN, 'run', '--bundle', dir, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  /** `argv` with its standard output a pipe (Node's own stdio pipes are socketpairs), to cat(1); the status is the run's (pipefail). */
  const piped = (argv: string[]) =>
    spawnSync('bash', ['-o', 'pipefail', '-c', '"$@" | cat', 'bash', ...argv, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env });
  const started = () => readFileSync(log, 'utf8');

  /**
   * The launcher run under `shell`: once the container has written `marker`, the Node
   * processes among the launcher and its descendants are counted, and the container is
   * given a line (runCountingNodes).
   */
  const runWaiting = (shell: readonly string[], dir: string, marker: string): Promise<CountedRun> => runCountingNodes([...shell, LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], env, marker);

  test.each(LAUNCHER_SHELLS)(
    'under %s: the one Node the launcher starts, uid 0 of a user namespace with the config\'s maps and setgroups allowed, becomes the container, PID 1 (no Node waits for it); its status is the run\'s',
    async (_sh, shell) => {
      const c = userConfig(`id -u; id -g; ${SHOW}; read line; echo "$line"; exit 3`);
      const r = await withBundleAsync(c, (dir) => runWaiting(shell, dir, 'allow\n1\n'));
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 3, stderr: '' });
      expect(squeezed(r.stdout)).toEqual(['0', '0', '0 0 1', '0 0 1', 'allow', '1', 'go', '']);
      expect(r.nodes).toBe(0);
      expect(started()).toBe('0 0 1 userns=root\n');
    },
  );

  test("unshare(2) of the user namespace refused where the launcher does not look (an unshare(1) that fails with --user, as under a seccomp filter or the nesting limit): unshare's own line alone, exit 1; no Node started", () => {
    writeFileSync(
      path.join(bin, 'unshare'),
      `#!/bin/sh\nfor a; do [ "$a" = --user ] && { echo "unshare: unshare failed: No space left on device" >&2; exit 1; }; done\nexec '${realUnshare}' "$@"\n`,
      { mode: 0o755 },
    );
    const r = withBundle(userConfig('true'), (dir) => run(dir));
    expect([r.status, r.stdout, r.stderr]).toEqual([1, '', 'unshare: unshare failed: No space left on device\n']);
    expect(started()).toBe('');
  });

  // The kernel takes one write(2) of a map: a map written a line per write (bash's builtin printf) would be its first line alone, and Node would answer "again".
  test.each(LAUNCHER_SHELLS)('under %s: maps of more than one range, standard output a pipe of root\'s (the container\'s root\'s already): the container has them, from the one Node the launcher started', (_sh, shell) => {
    const r = withBundle(userConfig(`${SHOW}; stat -c %u /proc/self/fd/1`, WIDE), (dir) => piped([...shell, LAUNCHER, 'run', '--bundle', dir]));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(squeezed(r.stdout)).toEqual(['0 0 1', '1 100000 65535', '0 0 1', '1 100000 65535', 'allow', '1', '0', '']);
    expect(started()).toBe('0 0 1 userns=root\n');
  });

  // .ci/run installs strace: under CI=true these never skip (a missing one fails them), as the suite's other tools.
  const strace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).stdout.trim() || (process.env.CI === 'true' ? 'strace' : '');
  (strace ? test.each(LAUNCHER_SHELLS) : test.skip.each(LAUNCHER_SHELLS))('under %s: each map of more than one range goes to the kernel in one write(2), as strace shows it', (_sh, shell) => {
    const trace = path.join(bin, 'trace');
    const r = withBundle(userConfig('true', WIDE), (dir) => piped([strace, '-f', '-y', '-e', 'trace=write', '-o', trace, ...shell, LAUNCHER, 'run', '--bundle', dir]));
    expect([r.status, r.stderr]).toEqual([0, '']);
    const writes = readFileSync(trace, 'utf8')
      .split('\n')
      .filter((l) => /write\(\d+<\/proc\/\d+\/[ug]id_map>/.test(l))
      .map((l) => l.replace(/^\d+ +write\(\d+<\/proc\/\d+\//, ''));
    expect(writes).toEqual(['uid_map>, "0 0 1\\n1 100000 65535\\n", 21) = 21', 'gid_map>, "0 0 1\\n1 100000 65535\\n", 21) = 21']);
    expect(started()).toBe('0 0 1 userns=root\n');
  });

  // A bundle the root of RANGE's namespace (host id 100000) can reach, as the container's root must under runc.
  const reachable = (dir: string) => chmodSync(dir, 0o711);

  test.each(LAUNCHER_SHELLS)(
    'under %s: maps of a range of host ids without 0 (Kubernetes\' user namespaces): the one Node the launcher starts through setpriv(1), uid 0 there, becomes the container, which has uid 0, no group, and the config\'s capabilities, ambient ones too',
    async (_sh, shell) => {
      const c = rangeConfig(`${CREDS}; echo waiting; read line; echo "$line"`);
      const r = await withBundleAsync(c, (dir) => {
        reachable(dir);
        return runWaiting(shell, dir, 'waiting\n');
      });
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
      expect(squeezed(r.stdout)).toEqual([...RANGE_CREDS, 'waiting', 'go', '']);
      expect(r.nodes).toBe(0);
      expect(started()).toBe('0 100000 65536 userns=root\n');
    },
  );

  /** A run of a range of host ids by the launcher, whose status and output equal the Node entry's (the container's ids, groups, capabilities and maps), its Node started as `seenWanted` logs. */
  function againstEntry(seenWanted: string): void {
    const [launcher, seen, byEntry] = withBundle(rangeConfig(CREDS), (dir) => {
      reachable(dir);
      const r = run(dir);
      return [r, started(), entry(dir)] as const;
    });
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect([launcher.status, squeezed(launcher.stdout), launcher.stderr]).toEqual([0, [...RANGE_CREDS, ''], '']);
    expect(seen).toBe(seenWanted);
  }

  test("maps of a range of host ids without 0: the container's ids, groups, capabilities and maps are those the Node entry gives it, with its relaunch", () => {
    againstEntry('0 100000 65536 userns=root\n');
  });

  const realSetpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
  test.each([
    // util-linux before 2.38: no --keep-caps. The stand-in names no option.
    ['an unshare(1) without --keep-caps', 'unshare', realUnshare, ''],
    ['a setpriv(1) that is not util-linux\'s', 'setpriv', realSetpriv, ''],
    // Each file is held to its own option: the other's name in its text does not stand for it.
    ['an unshare(1) whose text names --inh-caps but not --keep-caps', 'unshare', realUnshare, '# --inh-caps\n'],
    ['a setpriv(1) whose text names --keep-caps but not --inh-caps', 'setpriv', realSetpriv, '# --keep-caps\n'],
  ])('maps of a range of host ids without 0, %s in PATH: the run is the Node entry\'s, with its relaunch', (_name, tool, real, text) => {
    writeFileSync(path.join(bin, tool), `#!/bin/sh\n${text}exec '${real}' "$@"\n`, { mode: 0o755 });
    againstEntry('0 0 4294967295 userns=\n');
  });

  describe('the seccomp cache, whose directories the namespace shows as the overflow uid\'s', () => {
    /** A profile that refuses acct(2) alone: its program is built once, and then read from the cache. */
    const PROFILE = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['acct'], action: 'SCMP_ACT_ERRNO' }] };
    const filtered = (c: Record<string, any>) => ((c.linux.seccomp = PROFILE), c);
    /** What `argv` run with `cache` says of it (its debug lines on linux.seccomp), its status and how its Nodes started. */
    const told = (argv: string[], dir: string, cache: string, extra: NodeJS.ProcessEnv = {}) => {
      writeFileSync(log, '');
      const r = spawnSync(argv[0], [...argv.slice(1), 'run', '--bundle', dir, '--seccomp-cache', cache, '--log-level', 'debug'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env: { ...env, ...extra } });
      const lines = r.stderr.split('\n').filter((l) => l.includes('linux.seccomp:')).map((l) => l.replace(/^.*linux\.seccomp: /, '').replaceAll(/[0-9a-f]{64}/g, 'KEY'));
      return { status: r.status, lines, started: started() };
    };
    /** The cache at `cache` filled by a run of the same profile outside any user namespace, then `argv`'s run of RANGE's maps (told). */
    const afterFill = (argv: string[], cache: string, extra: NodeJS.ProcessEnv = {}) =>
      withBundle(filtered(busyboxConfig(['true'], { linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } })), (fill) => {
        told([LAUNCHER], fill, cache);
        return withBundle(filtered(rangeConfig('true')), (dir) => {
          reachable(dir);
          return told(argv, dir, cache, extra);
        });
      });

    test('the launcher, which makes the namespace, checks the path from the host (stat(1)) and says so: its one Node reads the record the host\'s root wrote', () => {
      const cache = path.join(bin, 'cache');
      expect(afterFill([LAUNCHER], cache)).toEqual({ status: 0, lines: [`from the cache: ${cache}/KEY.json`], started: '0 100000 65536 userns=root\n' });
    });

    test("the Node entry's relaunch: its first process checks the path on the host and says so", () => {
      const cache = path.join(bin, 'cache');
      expect(afterFill([process.execPath, BIN], cache)).toEqual({ status: 0, lines: [`from the cache: ${cache}/KEY.json`], started: '' });
    });

    test.each([
      ['a directory above it writable by others', (shared: string) => {
        mkdirSync(shared);
        chmodSync(shared, 0o777);
      }],
      ['a symlink on its path', (shared: string) => {
        const real = path.join(bin, 'real');
        mkdirSync(real, { mode: 0o755 });
        symlinkSync(real, shared);
      }],
    ])('%s: the launcher does not vouch for it, nor the Node entry, whatever the caller\'s environment says: the cache is not used there', (_name, makeShared) => {
      const cache = path.join(bin, 'shared', 'cache');
      makeShared(path.dirname(cache));
      const caller = { MOUNTKIT_SECCOMP_CACHE_VOUCHED: cache };
      const notUsed = ['cache not used: / is owned by uid 65534'];
      expect(afterFill([LAUNCHER], cache, caller)).toEqual({ status: 0, lines: notUsed, started: '0 100000 65536 userns=root\n' });
      expect(afterFill([process.execPath, BIN], cache, caller)).toEqual({ status: 0, lines: notUsed, started: '' });
    });

    test('a cache not made yet: the launcher vouches for none (the Node entry makes it on the host); the runs outside user namespaces fill it', () => {
      const cache = path.join(bin, 'cache');
      writeFileSync(log, '');
      const result = withBundle(filtered(rangeConfig('true')), (dir) => {
        reachable(dir);
        return told([LAUNCHER], dir, cache);
      });
      expect(result).toEqual({ status: 0, lines: ['cache not used: / is owned by uid 65534'], started: '0 100000 65536 userns=root\n' });
    });
  });

  test.each([
    ['--pid-file', (dir: string) => ['--pid-file', path.join(dir, 'pid')], '0 0 4294967295 userns=\n'],
    ['--log', (dir: string) => [`--log=${path.join(dir, 'log')}`], '0 0 4294967295 userns=\n'],
    // Readable by the host's root alone: the Node the launcher started cannot read it, and answers "again".
    ['a config.json of mode 0600', (dir: string) => (chmodSync(path.join(dir, 'config.json'), 0o600), []), '0 100000 65536 userns=root\n0 0 4294967295 userns=\n'],
  ])('maps of a range of host ids without 0, %s, which the host\'s root alone may open: the run is the Node entry\'s', (_name, args, expected) => {
    const [launcher, seen, byEntry] = withBundle(rangeConfig(CREDS), (dir) => {
      reachable(dir);
      const given = args(dir);
      const r = spawnSync(LAUNCHER, ['run', '--bundle', dir, '--seccomp-cache', 'off', ...given], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env });
      return [r, started(), spawnSync(process.execPath, [BIN, 'run', '--bundle', dir, '--seccomp-cache', 'off', ...given], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] })] as const;
    });
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect([launcher.status, squeezed(launcher.stdout), launcher.stderr]).toEqual([0, [...RANGE_CREDS, ''], '']);
    expect(seen).toBe(expected);
  });

  test.each([
    ['--bundle= (the working directory)', ['--bundle=']],
    ["-b '' (the working directory)", ['-b', '']],
    ["--pid-file '', --log= and --console-socket= (none given)", ['--bundle', '.', '--pid-file', '', '--log=', '--console-socket=']],
    ['--console-socket=S and then --console-socket= (the last counts: none given)', ['--console-socket=/nowhere.sock', '--console-socket=']],
    ["--log=F and then --log '' (the last counts: none given)", ['--log=/nowhere/log', '--log', '']],
    ['--pid-file F and then --pid-file= (the last counts: none given)', ['--pid-file', '/nowhere/pid', '--pid-file=']],
  ])('maps of a range of host ids without 0, %s: the launcher reads an empty value as the Node entry and runc do, and starts the one Node itself', (_name, given) => {
    const [r, seen] = withBundle(rangeConfig(CREDS), (dir) => {
      reachable(dir);
      return [spawnSync(LAUNCHER, ['run', '--seccomp-cache', 'off', ...given], { cwd: dir, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env }), started()] as const;
    });
    expect([r.status, squeezed(r.stdout), r.stderr]).toEqual([0, [...RANGE_CREDS, ''], '']);
    expect(seen).toBe('0 100000 65536 userns=root\n');
  });

  test.each([
    ['-b=DIR', (dir: string) => [`-b=${dir}`]],
    ['-bundle DIR (one dash before a long name)', (dir: string) => ['-bundle', dir]],
    ['--b=DIR (two before a short one)', (dir: string) => [`--b=${dir}`]],
    // After `--` only the id may come, which the launcher does not read: this row is the Node entry's parse, in the launcher's run.
    ['-- before a container id that starts with a dash', (dir: string) => ['--bundle', dir, '--', '-c1']],
  ])('maps of a range of host ids without 0, %s, from another directory: the launcher reads the options as the Node entry and runc (Go\'s flag package) do, and starts the one Node itself', (_name, given) => {
    const [r, seen] = withBundle(rangeConfig(CREDS), (dir) => {
      reachable(dir);
      return [spawnSync(LAUNCHER, ['run', '--seccomp-cache=off', ...given(dir)], { cwd: '/', encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env }), started()] as const;
    });
    expect([r.status, squeezed(r.stdout), r.stderr]).toEqual([0, [...RANGE_CREDS, ''], '']);
    expect(seen).toBe('0 100000 65536 userns=root\n');
  });

  test("maps of a range of host ids without 0, standard output a pipe of the host's root (a relaunch gives it to the container's root): the run is the Node entry's at once, with no Node started in the launcher's namespace", () => {
    const [launcher, seen, byEntry] = withBundle(rangeConfig(`${CREDS}; stat -c %u /proc/self/fd/1`), (dir) => {
      reachable(dir);
      const r = piped([LAUNCHER, 'run', '--bundle', dir]);
      return [r, started(), piped([process.execPath, BIN, 'run', '--bundle', dir])] as const;
    });
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect([launcher.status, squeezed(launcher.stdout), launcher.stderr]).toEqual([0, [...RANGE_CREDS, '0', ''], '']);
    expect(seen).toBe('0 0 4294967295 userns=\n');
  });

  test.each([
    // The kernel refuses a map whose host ranges overlap (EINVAL), which the Node entry refuses as a config error.
    ['a gid map the kernel refuses (host ranges that overlap)', [{ containerID: 0, hostID: 200000, size: 10 }, { containerID: 10, hostID: 200005, size: 10 }], ''],
    // A printf(1) that fails on gid_map stands for a refusal of a map the Node entry takes.
    ['a gid map whose write fails', [{ containerID: 0, hostID: 100000, size: 10 }, { containerID: 10, hostID: 100010, size: 65526 }], '#!/bin/sh\ncase $(readlink /proc/$$/fd/1) in */gid_map) exit 1 ;; esac\nexec /usr/bin/printf "$@"\n'],
  ])('maps of a range of host ids without 0, %s (the uid map written): Node, started without setpriv(1), answers "again", and the run is the Node entry\'s', (_name, gid, printf) => {
    if (printf) writeFileSync(path.join(bin, 'printf'), printf, { mode: 0o755 });
    const [launcher, seen, byEntry] = withBundle(rangeConfig(CREDS, gid), (dir) => {
      reachable(dir);
      const r = run(dir);
      return [r, started(), entry(dir)] as const;
    });
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect(seen).toBe('0 100000 65536 userns=root\n0 0 4294967295 userns=\n');
  });

  test.each([
    ['the launcher, before it has written them', [LAUNCHER], '0 100000 65536 userns=root\n'],
    // Its relaunch's unshare(1) starts the container late: the signal waits for it (cli/forward.ts containerOf).
    ['the Node entry, while its relaunch starts', [process.execPath, BIN], ''],
  ])('maps of a range of host ids without 0, SIGTERM sent to %s: passed on to the container once its program runs, and the run ends with its status', async (_name, argv, seen) => {
    // unshare(1) a second and a half late (it passes --keep-caps on, as its text says), forking
    // nothing meanwhile (a child would be taken for the container): bash's read timing out on a FIFO it holds open.
    const fifo = path.join(bin, 'never');
    spawnSync('mkfifo', ['-m', '666', fifo]);
    writeFileSync(path.join(bin, 'unshare'), `#!/bin/bash\n# --keep-caps\nread -r -t 1.5 <>'${fifo}'\nexec '${realUnshare}' "$@"\n`, { mode: 0o755 });
    // Bounded, so that a signal lost ends the run all the same.
    const c = rangeConfig('trap "echo TERM; exit 7" TERM; echo started; i=0; while [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done; echo timeout');
    const r = await withBundleAsync(
      c,
      (dir) =>
        new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
          reachable(dir);
          const child = spawn(argv[0], [...argv.slice(1), 'run', '--bundle', dir, '--seccomp-cache', 'off'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          setTimeout(() => {
            expect(stdout).toBe('');
            child.kill('SIGTERM');
          }, 300);
          child.stdout.on('data', (d: Buffer) => (stdout += d));
          child.stderr.on('data', (d: Buffer) => (stderr += d));
          child.on('error', reject);
          child.on('close', (status) => resolve({ status, stdout, stderr }));
        }),
    );
    expect([r.status, r.stdout, r.stderr]).toEqual([7, 'started\nTERM\n', '']);
    expect(started()).toBe(seen);
  });

  test.each([
    ['maps taking 0 to 0', () => userConfig(SHOW, WIDE)],
    ['maps of a range of host ids without 0', () => rangeConfig(CREDS)],
  ])('%s, user.max_user_namespaces reading 0: the launcher makes no user namespace and starts the Node entry on the host', (_name, config) => {
    // A file bound over the sysctl in a mount namespace of its own, where the launcher runs.
    // The run itself could not be made there (the kernel refuses a new proc mount in a user
    // namespace where something is mounted over the host's /proc: mount_too_revealing), so
    // the `node` first in PATH notes its start and ends: the launcher's choice is the test.
    const zero = path.join(bin, 'zero');
    writeFileSync(zero, '0\n');
    writeFileSync(path.join(bin, 'node'), `#!/bin/sh\nread -r a b c </proc/self/uid_map\necho "$a $b $c userns=\${MOUNTKIT_LAUNCHER_USERNS-}" >>'${log}'\n`, { mode: 0o755 });
    const launcher = withBundle(config(), (dir) =>
      spawnSync(realUnshare, ['--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$1" /proc/sys/user/max_user_namespaces && shift && exec "$@"', 'sh', zero, LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], {
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      }),
    );
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([0, '', '']);
    expect(started()).toBe('0 0 4294967295 userns=\n');
  });

  /**
   * `argv` run with its own OOM score raised to SCORE (from the test's own, 0 here: raising needs no
   * capability), as the caller's: the launcher, under `env`, or the Node entry.
   */
  const SCORE = 100;
  const scored = (argv: string[], by: NodeJS.ProcessEnv) =>
    spawnSync('sh', ['-c', `echo ${SCORE} >/proc/self/oom_score_adj && exec "$@"`, 'sh', ...argv, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'], env: by });
  /** A config with `score` as its process.oomScoreAdj, run by the launcher and by the Node entry, each as scored runs it. */
  const scoredRuns = (c: Record<string, any>, score: number, shell: readonly string[] = []) => {
    c.process.oomScoreAdj = score;
    return withBundle(c, (dir) => {
      reachable(dir);
      const r = scored([...shell, LAUNCHER, 'run', '--bundle', dir], env);
      return [r, started(), scored([process.execPath, BIN, 'run', '--bundle', dir], process.env)] as const;
    });
  };
  const SCORE_SHOWN = 'cat /proc/self/oom_score_adj';

  test.each([
    ...LAUNCHER_SHELLS.map(([name, shell]) => [`under ${name}, maps taking 0 to 0`, shell, () => userConfig(`${SCORE_SHOWN}; ${SHOW}`, WIDE), ['500', '0 0 1', '1 100000 65535', '0 0 1', '1 100000 65535', 'allow', '1', ''], '0 0 1 userns=root\n'] as const),
    ['maps of a range of host ids without 0', [], () => rangeConfig(`${SCORE_SHOWN}; ${CREDS}`), ['500', ...RANGE_CREDS, ''], '0 100000 65536 userns=root\n'] as const,
  ])("%s, a process.oomScoreAdj above the caller's own score: the one Node the launcher starts raises its own to it (no capability needed) and becomes the container, as the Node entry's relaunch does", (_name, shell, config, expected, seen) => {
    const [launcher, starts, byEntry] = scoredRuns(config(), 500, shell);
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect([launcher.status, squeezed(launcher.stdout), launcher.stderr]).toEqual([0, expected, '']);
    expect(starts).toBe(seen);
  });

  test.each([
    ['maps taking 0 to 0', () => userConfig(`${SCORE_SHOWN}; ${SHOW}`, WIDE)],
    ['maps of a range of host ids without 0', () => rangeConfig(`${SCORE_SHOWN}; ${CREDS}`)],
  ])("%s, a process.oomScoreAdj below the caller's own score: left to the Node entry at once, whose first process writes it from the host (lowering needs CAP_SYS_RESOURCE in the initial user namespace, which this machine's root lacks): the run is the entry's", (_name, config) => {
    const [launcher, starts, byEntry] = scoredRuns(config(), SCORE - 1);
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    // The Node entry alone, on the host; the relaunch is nsenter's (its PATH's node is Node's own).
    expect(starts).toBe('0 0 4294967295 userns=\n');
  });

  test("a process.oomScoreAdj above the launcher's own score but below the score Node starts with (raised by the node first in PATH): Node answers \"again\", and the run is the Node entry's", () => {
    writeFileSync(
      path.join(bin, 'node'),
      `#!/bin/sh\necho 200 >/proc/self/oom_score_adj\nread -r a b c </proc/self/uid_map\necho "$a $b $c userns=\${MOUNTKIT_LAUNCHER_USERNS-}" >>'${log}'\nexec '${process.execPath}' "$@"\n`,
      { mode: 0o755 },
    );
    const [launcher, starts, byEntry] = scoredRuns(userConfig(`${SCORE_SHOWN}; ${SHOW}`, WIDE), 150);
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect([launcher.status, squeezed(launcher.stdout)[0], launcher.stderr]).toEqual([0, '150', '']);
    // The Node entry the launcher then starts, at 200 too, lowers its first process's own to 150 from the host (not below its oom_score_adj_min: no capability needed).
    expect(starts).toBe('0 0 1 userns=root\n0 0 4294967295 userns=\n');
  });

  test.each([
    // An entry with a line break before each colon: grep(1) matches within a line, and sees the first entry alone.
    ['maps the guess takes but Node parses wider', (c: Record<string, any>) => JSON.stringify(c, null, 1).replace(/"MAPS"/g, '[{"containerID": 0, "hostID": 0, "size": 1}, {"containerID"\n: 1, "hostID"\n: 100000, "size"\n: 1000}]'), ['0 0 1', '1 100000 1000', '0 0 1', '1 100000 1000', 'allow', '1', '']],
    // process.user.uid 1 is host 100000: a relaunch gives it the standard streams (pipes of root's), which the namespace cannot.
    ['a container user whose streams a relaunch gives it', (c: Record<string, any>) => JSON.stringify({ ...c, process: { ...c.process, user: { uid: 1, gid: 1 } } }).replace(/"MAPS"/g, JSON.stringify(WIDE)), ['0 0 1', '1 100000 65535', '0 0 1', '1 100000 65535', 'allow', '1', '']],
  ])('%s: the Node started in the launcher\'s namespace answers "again", and the run is the Node entry\'s', (_name, text, expected) => {
    const c = userConfig(SHOW);
    c.linux.uidMappings = 'MAPS';
    c.linux.gidMappings = 'MAPS';
    const [launcher, seen, byEntry] = withBundle(c, (dir) => {
      writeFileSync(path.join(dir, 'config.json'), text(c));
      const r = piped([LAUNCHER, 'run', '--bundle', dir]);
      return [r, started(), piped([process.execPath, BIN, 'run', '--bundle', dir])] as const;
    });
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect([launcher.status, squeezed(launcher.stdout), launcher.stderr]).toEqual([0, expected, '']);
    expect(seen).toBe('0 0 1 userns=root\n0 0 4294967295 userns=\n');
  });
});
