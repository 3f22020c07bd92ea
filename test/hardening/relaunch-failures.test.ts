/**
 * Failures in the relaunched process (src/core/relaunch.ts), for real: a config with a
 * user namespace, one with runtime hooks and none, and one with an idmapped bind, each
 * made to fail at several stages of the relaunch (a mount the kernel refuses, a bind
 * whose source is gone, a program that does not exist, a plugin of the caller's own
 * throwing after the jail, the relaunched process killed while a createContainer hook
 * runs), and its program killed by SIGKILL once it has started. Each run must end with
 * its status and one-line message, and leave the host as
 * it was: its mount table, the bundle and a sentinel directory, no file in its TMPDIR,
 * no cgroup named by the container, no process of the run's. The poststop hooks run
 * after each failure, once, as runc 1.1.5 runs them (its destroy after a failed start).
 * The caller's stdout pipe is given to the container root's host id by the relaunch into
 * a user namespace, and stays so after it failed; a run refused before that keeps it.
 */
import { spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { LAUNCHER, REPO } from '../helpers/cli';
import { defaultListWith } from '../helpers/plugin-list';
import { hostChanges, hostFixtures, ONE_LINE, REAL_RUNS, recordHost } from './host-state';

const maybe = REAL_RUNS ? describe : describe.skip;

/** The container's root is host id 100000, with 65536 ids. */
const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];
const CONTAINER_ROOT = 100000;

const THROWS_AFTER_JAIL = path.join(REPO, 'test', 'fixtures', 'plugins', 'throws-after-jail.js');
const WARNS = path.join(REPO, 'test', 'fixtures', 'plugins', 'warns.js');

/** The warn lines the plugin WARNS logs, as stderr shows them. */
const warned = (messages: string[]): string => messages.map((m) => `mountkit warn [${WARNS}]: ${m}\n`).join('');

/**
 * Runs argv with its stdout a pipe of this script's and, when a file is named, kills the
 * process whose pid is that file's second word with SIGKILL as soon as it is written
 * (mode "relaunch"), or once that process runs `sleep` (mode "program": the container's
 * program has started), and appends "exited" to the hooks file beside it once the run
 * has ended. Prints the status, what came on stdout and stderr, the pipe's owner
 * afterwards and whether the pipe is still blocking. Read without waiting: a process left behind may
 * still hold a copy of a stream.
 */
const RUNNER = `
import json, os, signal, subprocess, sys, time
kill_file, mode = sys.argv[1], sys.argv[2]
r, w = os.pipe()
p = subprocess.Popen(sys.argv[3:], stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE)
def runs_program(pid):
    try:
        return open("/proc/%d/comm" % pid).read().strip() == "sleep"
    except OSError:
        return False
killed = False
if kill_file:
    deadline = time.time() + 30
    while not killed and time.time() < deadline and p.poll() is None:
        try:
            words = open(kill_file).read().split()
        except FileNotFoundError:
            words = []
        if len(words) == 2 and (mode == "relaunch" or runs_program(int(words[1]))):
            os.kill(int(words[1]), signal.SIGKILL)
            killed = True
        time.sleep(0.02)
p.wait()
if kill_file:
    with open(os.path.join(os.path.dirname(kill_file), "hooks"), "a") as hooks:
        hooks.write("exited\\n")
def drain(fd):
    os.set_blocking(fd, False)
    try:
        return os.read(fd, 65536).decode()
    except BlockingIOError:
        return ""
blocking = os.get_blocking(w)
os.close(w)
print(json.dumps({"status": p.returncode, "stdout": drain(r), "stderr": drain(p.stderr.fileno()), "owner": os.fstat(r).st_uid, "blocking": blocking, "killed": killed}))
`;

interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
  /** The uid owning the run's stdout pipe afterwards. */
  owner: number;
  /** Whether the caller's stdout pipe is still blocking afterwards. */
  blocking: boolean;
  /** Whether the process a createContainer hook told the pid of was killed: the relaunched process, or the container's program it became. */
  killed: boolean;
  /** What the host shows changed (host-state.ts hostChanges), the TMPDIR's entries, cgroups named by the container. */
  changes: string[];
  tmpLeft: string[];
  cgroups: string[];
  /** The runtime hooks run by the first process, a line each: "createRuntime", "poststop"; the sleeping createContainer hook's end; "exited" once the run ended, with `kill`. */
  hooks: string[];
  /** A createContainer hook still running after the run (its pid), if one was started. */
  hookLeft: number | undefined;
}

let serial = 0;

/** Directories below /sys/fs/cgroup (three levels) whose name holds `id`. */
function cgroupsNamed(id: string): string[] {
  const r = spawnSync('find', ['/sys/fs/cgroup', '-maxdepth', '3', '-type', 'd', '-name', `*${id}*`], { encoding: 'utf8' });
  return r.stdout.split('\n').filter(Boolean);
}

function alive(pid: number): boolean {
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

maybe('a relaunched run failing leaves the host as it was', () => {
  const host = hostFixtures();

  /**
   * A work directory for each run, outside the bundle: searchable by the container's root,
   * with the file the hooks write to, the plugin list and the run's TMPDIR.
   */
  function workDir(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-relaunch-failures-'));
    chmodSync(dir, 0o711);
    mkdirSync(path.join(dir, 'tmp'));
    chmodSync(path.join(dir, 'tmp'), 0o1777);
    for (const file of ['hooks', 'kill']) {
      writeFileSync(path.join(dir, file), '');
      chmodSync(path.join(dir, file), 0o666);
    }
    mkdirSync(path.join(dir, 'src'));
    writeFileSync(path.join(dir, 'src', 'file'), 'idmapped\n');
    return dir;
  }

  type Kind = 'user namespace' | 'hooks' | 'idmapped bind';

  /**
   * The config of `kind`: /proc, a /dev tmpfs and a read-only bind of the sentinel, the
   * idmapped kind an idmapped bind of the work directory's src after them, then `last`.
   * The hooks kind has no user namespace and no pid namespace: a createRuntime and a
   * poststop hook make it relaunch. `sleeps`: a createContainer hook that writes its pid
   * and its parent's (the relaunched process's) to the kill file, sleeps for a second and
   * writes "createContainer ended" to the hooks file; `tells`: one that only writes them.
   */
  function config(kind: Kind, work: string, last: Record<string, unknown>[] = [], over: { args?: string[]; sleeps?: boolean; tells?: boolean } = {}): Record<string, unknown> {
    const userNamespace = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS };
    const hooks: Record<string, unknown[]> = {};
    if (kind === 'hooks') {
      hooks.createRuntime = [{ path: '/bin/sh', args: ['sh', '-c', `echo createRuntime >> ${work}/hooks`] }];
      hooks.poststop = [{ path: '/bin/sh', args: ['sh', '-c', `echo poststop >> ${work}/hooks`] }];
    }
    // The procfs at /proc is the host's until the jail: the pids it reads are the host's.
    if (over.tells) hooks.createContainer = [{ path: '/bin/sh', args: ['sh', '-c', `read -r pid comm state ppid rest </proc/self/stat; echo $pid $ppid > ${work}/kill`] }];
    if (over.sleeps) hooks.createContainer = [{ path: '/bin/sh', args: ['sh', '-c', `read -r pid comm state ppid rest </proc/self/stat; echo $pid $ppid > ${work}/kill; sleep 1; echo createContainer ended >> ${work}/hooks`] }];
    return {
      ociVersion: '1.0.2',
      process: { args: over.args ?? ['sh', '-c', 'echo ran'], env: ['PATH=/bin'], cwd: '/' },
      root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
        { destination: '/data', type: 'bind', source: host.sentinel.dir, options: ['rbind', 'ro'] },
        ...(kind === 'idmapped bind' ? [{ destination: '/idm', type: 'bind', source: path.join(work, 'src'), options: ['rbind', 'idmap'] }] : []),
        ...last,
      ],
      ...(Object.keys(hooks).length ? { hooks } : {}),
      linux: kind === 'hooks' ? { namespaces: [{ type: 'mount' }, { type: 'ipc' }, { type: 'uts' }] } : userNamespace,
    };
  }

  /** Runs `mountkit run` of a bundle with `make(work)`'s config through the launcher and records what it left. */
  function runCase(make: (work: string) => Record<string, unknown>, opts: { plugins?: (work: string) => string; extra?: string[]; kill?: 'relaunch' | 'program' } = {}): Outcome {
    const work = workDir();
    const bundle = host.bundles.make(make(work));
    // Searchable by the container's root, host id 100000; the mount targets exist, so that the run makes nothing in the rootfs.
    chmodSync(bundle.dir, 0o711);
    for (const dir of ['data', 'idm', 'mnt']) mkdirSync(path.join(bundle.dir, 'rootfs', dir));
    const id = `mountkit-relaunch-failures-${process.pid}-${serial++}`;
    let hookLeft: number | undefined;
    try {
      const dirs = [bundle.dir, host.sentinel.dir];
      const before = recordHost(dirs);
      const plugins = opts.plugins ? ['--plugins', opts.plugins(work)] : [];
      const argv = [LAUNCHER, 'run', '--bundle', bundle.dir, '--seccomp-cache', 'off', ...plugins, ...(opts.extra ?? []), id];
      const r = spawnSync('python3', ['-c', RUNNER, opts.kill ? path.join(work, 'kill') : '', opts.kill ?? '', ...argv], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, TMPDIR: path.join(work, 'tmp') },
      });
      if (r.status !== 0) throw new Error(`the runner failed: ${r.stderr}`);
      const words = readFileSync(path.join(work, 'kill'), 'utf8').split(/\s+/).filter(Boolean);
      if (words.length === 2 && alive(Number(words[0]))) hookLeft = Number(words[0]);
      const ran = JSON.parse(r.stdout) as Pick<Outcome, 'status' | 'stdout' | 'stderr' | 'owner' | 'blocking' | 'killed'>;
      return {
        ...ran,
        stderr: ran.stderr.split(bundle.dir).join('BUNDLE').split(work).join('WORK'),
        changes: hostChanges(before, dirs),
        tmpLeft: readdirSync(path.join(work, 'tmp')),
        cgroups: cgroupsNamed(id),
        hooks: readFileSync(path.join(work, 'hooks'), 'utf8').split('\n').filter(Boolean),
        hookLeft,
      };
    } finally {
      if (hookLeft !== undefined) process.kill(hookLeft, 'SIGKILL');
      bundle.cleanup();
      rmSync(work, { recursive: true, force: true });
    }
  }

  /** What every failing run must leave as it was. */
  const NOTHING_LEFT = { changes: [], tmpLeft: [], cgroups: [], hookLeft: undefined };

  const KINDS: [Kind, number][] = [
    // The relaunch into the user namespace gave the caller's pipe to the container's root.
    ['user namespace', CONTAINER_ROOT],
    ['hooks', 0],
    ['idmapped bind', CONTAINER_ROOT],
  ];

  /** The poststop hooks of the hooks kind, after the createRuntime hook when the run got that far. */
  const hooksRun = (kind: Kind, createRuntime: boolean): string[] => (kind === 'hooks' ? [...(createRuntime ? ['createRuntime'] : []), 'poststop'] : []);

  describe.each(KINDS)('a config with %s', (kind, owner) => {
    test('control: the run succeeds, its hooks run', () => {
      const r = runCase((work) => config(kind, work));
      expect(r).toMatchObject({ status: 0, stdout: 'ran\n', stderr: '', owner, blocking: true, hooks: hooksRun(kind, true), ...NOTHING_LEFT });
    });

    test('a tmpfs option the kernel refuses, mounted in the relaunch: status 1, the mount named; poststop hooks run', () => {
      const r = runCase((work) => config(kind, work, [{ destination: '/mnt', type: 'tmpfs', source: 'tmpfs', options: ['nosuchoption=1'] }]));
      const index = kind === 'idmapped bind' ? 4 : 3;
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.stderr).toMatch(new RegExp(`^mountkit: mounts: plugin tmpfs mounts\\[${index}\\] "/mnt": mount "tmpfs" -> "BUNDLE/rootfs/mnt": EINVAL \\(data "[^"]*nosuchoption=1"\\)\\n$`));
      expect(r).toMatchObject({ status: 1, stdout: '', owner, blocking: true, hooks: hooksRun(kind, false), ...NOTHING_LEFT });
    });

    test('a bind whose source is gone: status 1, the source named', () => {
      const r = runCase((work) => config(kind, work, [{ destination: '/mnt', type: 'bind', source: path.join(work, 'gone'), options: ['rbind'] }]));
      const index = kind === 'idmapped bind' ? 4 : 3;
      expect(r.stderr).toBe(`mountkit: mounts: plugin bind mounts[${index}] "/mnt": bind source "WORK/gone" does not exist\n`);
      expect(r).toMatchObject({ status: 1, stdout: '', owner, blocking: true, hooks: hooksRun(kind, false), ...NOTHING_LEFT });
    });

    test('a program that does not exist, after the jail: status 1, the program named', () => {
      const r = runCase((work) => config(kind, work, [], { args: ['no-such-program'] }));
      expect(r.stderr).toBe('mountkit: finalize: plugin exec: process.args[0] "no-such-program" is not found in PATH "/bin"\n');
      expect(r).toMatchObject({ status: 1, stdout: '', owner, blocking: true, hooks: hooksRun(kind, true), ...NOTHING_LEFT });
    });

    test("a plugin of the caller's own throwing after the jail: status 1, the phase and plugin named", () => {
      const r = runCase((work) => config(kind, work), { plugins: (work) => defaultListWith(work, { module: THROWS_AFTER_JAIL }) });
      expect(r.stderr).toBe('mountkit: after-jail: plugin throws-after-jail: thrown by the test plugin\n');
      expect(r).toMatchObject({ status: 1, stdout: '', owner, blocking: true, hooks: hooksRun(kind, true), ...NOTHING_LEFT });
    });

    // As runc 1.1.5 ("unable to start container process"): status 1 and one line, the
    // poststop hooks run. With a pid namespace the hook ends with its PID 1; without one
    // it becomes the first process's child (a child subreaper), which waits for it before
    // the poststop hooks and its exit, as runc waits until the hook closes its init's
    // descriptors.
    test('the relaunched process killed (SIGKILL) while a createContainer hook runs: status 1, one line; the hook waited for, then the poststop hooks', () => {
      const r = runCase((work) => config(kind, work, [], { sleeps: true }), { kill: 'relaunch' });
      const hooks = kind === 'hooks' ? ['createRuntime', 'createContainer ended', 'poststop', 'exited'] : ['exited'];
      expect(r).toMatchObject({ killed: true, status: 1, stdout: '', owner, blocking: true, hooks, ...NOTHING_LEFT });
      expect(r.stderr).toBe("mountkit: unable to start the container's process: the process preparing the rootfs was killed by SIGKILL\n");
    });

    // Once the program has started, a SIGKILL is the container's end (an OOM kill, kill -9): 137, no message, as runc.
    test('the container killed by SIGKILL once its program started: 137, no message; poststop hooks run', () => {
      const r = runCase((work) => config(kind, work, [], { args: ['sleep', '30'], tells: true }), { kill: 'program' });
      expect(r).toMatchObject({ killed: true, status: 137, stdout: '', stderr: '', owner, blocking: true, hooks: [...hooksRun(kind, true), 'exited'], ...NOTHING_LEFT });
    });
  });

  // A list of the caller's own is loaded and asked in the first process too (aedcc68),
  // then again in the relaunch: what its plugins log is told once, by the relaunch.
  test("a plugin of the caller's own logging as it registers and as it is asked: each line once", () => {
    const r = runCase((work) => config('user namespace', work), { plugins: (work) => defaultListWith(work, { module: WARNS }) });
    expect(r).toMatchObject({ status: 0, stdout: 'ran\n', stderr: warned(['registered', 'validate asked']), owner: CONTAINER_ROOT, ...NOTHING_LEFT });
  });

  // Refused in the first process before the relaunch into the user namespace gives the
  // caller's pipes to the container's root: they stay the caller's.
  describe('refused before the pipes are given', () => {
    test('a --log file that cannot be opened: status 2, the file named', () => {
      const r = runCase((work) => config('user namespace', work), { extra: ['--log', '/nonexistent-mountkit-dir/run.log'] });
      expect(r).toMatchObject({ status: 2, stdout: '', owner: 0, blocking: true, ...NOTHING_LEFT });
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.stderr).toContain('"/nonexistent-mountkit-dir/run.log"');
    });

    test('a plugin list naming a built-in there is not: status 2, the entry named', () => {
      const r = runCase((work) => config('user namespace', work), { plugins: (work) => defaultListWith(work, { module: 'builtin:no-such-builtin' }) });
      expect(r).toMatchObject({ status: 2, stdout: '', owner: 0, blocking: true, ...NOTHING_LEFT });
      expect(r.stderr).toMatch(ONE_LINE);
      expect(r.stderr).toContain('builtin:no-such-builtin');
    });

    test("a plugin of the caller's own refusing the config: status 2, what it logged before the refusal told once", () => {
      const refused = (work: string): Record<string, unknown> => ({ ...config('user namespace', work), annotations: { 'test/refuse': 'yes' } });
      const r = runCase(refused, { plugins: (work) => defaultListWith(work, { module: WARNS }) });
      expect(r).toMatchObject({ status: 2, stdout: '', owner: 0, blocking: true, ...NOTHING_LEFT });
      expect(r.stderr).toBe(`${warned(['registered', 'validate asked'])}mountkit: annotations["test/refuse"] "yes": plugin warns: is refused by the test plugin\n`);
    });

    test("a plugin of the caller's own that cannot be loaded (its module's top-level code throws): status 2", () => {
      const r = runCase((work) => config('user namespace', work), { plugins: (work) => defaultListWith(work, { module: path.join(REPO, 'test', 'fixtures', 'plugins', 'throws-on-load.js') }) });
      expect(r).toMatchObject({ status: 2, stdout: '', owner: 0, blocking: true, ...NOTHING_LEFT });
      expect(r.stderr).toMatch(ONE_LINE);
    });
  });
});
