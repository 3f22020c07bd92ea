/**
 * Descriptors passed to the container for real (core/passed-fds.ts): --preserve-fds and
 * socket activation, through bin/mountkit and the Node entry, with and without a pid
 * namespace, through a relaunch into a user namespace, compared with runc run.
 */
import { spawnSync } from 'child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, lstatSync, renameSync, rmSync, statSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, RUNC, withBundle } from '../conformance/harness';
import { BIN, LAUNCHER } from '../helpers/cli';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('run tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

/** The container reads descriptors 3, 4 and 5 (each file holds its number's name) and prints the socket activation variables it got. */
const READS = 'for fd in 3 4 5; do (cat <&$fd) 2>/dev/null || echo "$fd closed"; done; env | grep ^LISTEN_ | sort';

function config(args: string[], over: Record<string, unknown> = {}): Record<string, any> {
  return {
    ociVersion: '1.0.2',
    process: { terminal: false, args, env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs' },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
    ...over,
  };
}

const ENTRIES = [
  ['bin/mountkit', [LAUNCHER]],
  ['the Node entry', [process.execPath, BIN]],
] as const;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `argv` through `sh -c` with descriptors 3, 4 and 5 open to files in the bundle
 * (three, four, five), but those `closed` names; `env` is set by that shell before it
 * execs, so that LISTEN_PID=$$ names the process the command runs as.
 */
function withDescriptors(dir: string, argv: readonly string[], env = '', closed: number[] = []): Run {
  const names: Record<number, string> = { 3: 'three', 4: 'four', 5: 'five' };
  for (const fd of [3, 4, 5]) writeFileSync(path.join(dir, names[fd]), `${names[fd]}\n`);
  const opens = [3, 4, 5].filter((fd) => !closed.includes(fd)).map((fd) => `${fd}<"${path.join(dir, names[fd])}"`).join(' ');
  const closes = closed.map((fd) => `${fd}<&-`).join(' ');
  const r = spawnSync('sh', ['-c', `exec 3<&- 4<&- 5<&- ${opens} ${closes}; ${env} exec "$@"`, 'sh', ...argv], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

maybe('descriptors passed to the container', () => {
  describe.each(ENTRIES)('%s', (_name, entry) => {
    test.each([
      ['a new pid namespace', config(['sh', '-c', READS])],
      ['no pid namespace', config(['sh', '-c', READS], { linux: { namespaces: [{ type: 'mount' }] } })],
    ])('--preserve-fds 2 with %s: descriptors 3 and 4 reach the container, 5 does not, and no LISTEN_ variable', (_what, c) => {
      const r = withBundle(c, (dir) => withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '2']));
      expect(r).toEqual({ status: 0, stdout: 'three\nfour\n5 closed\n', stderr: '' });
    });

    test('socket activation (LISTEN_PID the pid of the process started) with --preserve-fds 1: the listening descriptor first, the preserved after it, LISTEN_FDS=1 and LISTEN_PID=1 in the environment', () => {
      const r = withBundle(config(['sh', '-c', READS]), (dir) => withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '1'], 'LISTEN_PID=$$ LISTEN_FDS=1'));
      expect(r).toEqual({ status: 0, stdout: 'three\nfour\n5 closed\nLISTEN_FDS=1\nLISTEN_PID=1\n', stderr: '' });
    });

    test.each([
      ['another process', 'LISTEN_PID=$(($$ + 1)) LISTEN_FDS=2'],
      ['1, which the container is in its pid namespace (and Node under the launcher)', 'LISTEN_PID=1 LISTEN_FDS=2'],
      ['this one with a sign (`+$$`), which is not how systemd writes it', 'LISTEN_PID=+$$ LISTEN_FDS=2'],
      ['this one with a leading zero (`0$$`)', 'LISTEN_PID=0$$ LISTEN_FDS=2'],
    ])('LISTEN_PID naming %s: nothing is passed', (_what, env) => {
      const r = withBundle(config(['sh', '-c', READS]), (dir) => withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off'], env));
      expect(r).toEqual({ status: 0, stdout: '3 closed\n4 closed\n5 closed\n', stderr: '' });
    });

    test("LISTEN_PID naming another process with --preserve-fds 1: its LISTEN_FDS count nothing, so descriptor 4, closed, is not asked for", () => {
      const r = withBundle(config(['sh', '-c', READS]), (dir) => withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '1'], 'LISTEN_PID=$(($$ + 1)) LISTEN_FDS=2', [4]));
      expect(r).toEqual({ status: 0, stdout: 'three\n4 closed\n5 closed\n', stderr: '' });
    });

    test('no hook gets them (prestart, poststart and poststop where mountkit runs, createContainer and startContainer in the container), only the container; the exec event reaches poststart after they are moved', () => {
      const c = config(['sh', '-c', READS]);
      const probe = (file: string) => ({ path: '/bin/sh', args: ['sh', '-c', `for fd in 3 4; do (cat <&$fd) 2>/dev/null || echo "$fd closed"; done >${file}`] });
      const r = withBundle(c, (dir) => {
        c.hooks = {
          prestart: [probe(path.join(dir, 'prestart.out'))],
          createContainer: [probe(path.join(dir, 'rootfs', 'create.out'))],
          startContainer: [probe('/start.out')],
          poststart: [probe(path.join(dir, 'poststart.out'))],
          poststop: [probe(path.join(dir, 'poststop.out'))],
        };
        writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
        const run = withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '2']);
        return { run, hooks: ['prestart.out', 'rootfs/create.out', 'rootfs/start.out', 'poststart.out', 'poststop.out'].map((f) => readFileSync(path.join(dir, f), 'utf8')) };
      });
      expect(r.run).toEqual({ status: 0, stdout: 'three\nfour\n5 closed\n', stderr: '' });
      expect(r.hooks).toEqual(Array(5).fill('3 closed\n4 closed\n'));
    });

    test('many (3 to 30, past the low ones Node 20 marks close-on-exec as it starts): the last reaches the container, and neither a prestart hook nor a startContainer one', () => {
      // Read through /proc: dash redirects one digit only.
      const probe = (file: string) => ({ path: '/bin/sh', args: ['sh', '-c', `cat /proc/self/fd/30 >${file} 2>/dev/null || echo closed >${file}`] });
      const c = config(['cat', '/proc/self/fd/30']);
      const r = withBundle(c, (dir) => {
        c.hooks = { prestart: [probe(path.join(dir, 'prestart.out'))], startContainer: [probe('/start.out')] };
        writeFileSync(path.join(dir, 'config.json'), JSON.stringify(c));
        writeFileSync(path.join(dir, 'thirty'), 'thirty\n');
        // bash: dash redirects one digit only.
        const script = `for fd in $(seq 3 30); do eval "exec $fd<\\"$0\\""; done; exec "$@"`;
        const run = spawnSync('bash', ['-c', script, path.join(dir, 'thirty'), ...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '28'], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
        return { run: { status: run.status, stdout: run.stdout, stderr: run.stderr }, hooks: ['prestart.out', 'rootfs/start.out'].map((f) => readFileSync(path.join(dir, f), 'utf8')) };
      });
      expect(r.run).toEqual({ status: 0, stdout: 'thirty\n', stderr: '' });
      expect(r.hooks).toEqual(['closed\n', 'closed\n']);
    });

    test('a new user namespace (a relaunch under nsenter, which holds them after its own): they reach the container', () => {
      const c = config(['sh', '-c', READS], {
        linux: {
          namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }],
          uidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
          gidMappings: [{ containerID: 0, hostID: 200000, size: 65536 }],
        },
      });
      const r = withBundle(c, (dir) => {
        // Searchable by the namespace's root, a host id other than 0, as copyBundle makes it.
        chmodSync(dir, 0o711);
        chownTree(path.join(dir, 'rootfs'), 200000);
        return withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '1'], 'LISTEN_PID=$$ LISTEN_FDS=1');
      });
      expect(r).toEqual({ status: 0, stdout: 'three\nfour\n5 closed\nLISTEN_FDS=1\nLISTEN_PID=1\n', stderr: '' });
    });

    test.each([
      [['--preserve-fds', 'two'], '--preserve-fds "two": must be a count, 0 or decimal digits without a sign or leading zero'],
      [['--preserve-fds=-1'], '--preserve-fds "-1": must be a count, 0 or decimal digits without a sign or leading zero'],
      // 16 digits beyond the exact doubles: bin/mountkit leaves them to Node, which reads them as they are written.
      [['--preserve-fds', '9999999999999999'], '--preserve-fds "9999999999999999": is more descriptors than a process can have open'],
    ])('%j: exit 2, one line', (args, message) => {
      const r = withBundle(config(['true']), (dir) => withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', ...args]));
      expect(r).toEqual({ status: 2, stdout: '', stderr: `mountkit: ${message}\n` });
    });

    test.each([
      ['--preserve-fds 010 (runc reads 8)', ['--preserve-fds', '010'], '', '--preserve-fds "010": must be a count, 0 or decimal digits without a sign or leading zero'],
      ['--preserve-fds=+2', ['--preserve-fds=+2'], '', '--preserve-fds "+2": must be a count, 0 or decimal digits without a sign or leading zero'],
      ['LISTEN_FDS=+5 (runc reads 5)', [], 'LISTEN_PID=$$ LISTEN_FDS=+5', 'LISTEN_FDS "+5": must be a count as systemd writes it, 0 or decimal digits without a sign or leading zero (LISTEN_PID names this process)'],
      ['LISTEN_FDS=010 (runc reads 10)', [], 'LISTEN_PID=$$ LISTEN_FDS=010', 'LISTEN_FDS "010": must be a count as systemd writes it, 0 or decimal digits without a sign or leading zero (LISTEN_PID names this process)'],
      ['LISTEN_FDS=two (runc passes none)', [], 'LISTEN_PID=$$ LISTEN_FDS=two', 'LISTEN_FDS "two": must be a count as systemd writes it, 0 or decimal digits without a sign or leading zero (LISTEN_PID names this process)'],
    ])('a count spelled otherwise than bin/mountkit reads it, %s, with nothing open at 3 and up: exit 2, one line naming it, nothing run (Node\'s own descriptors were passed)', (_what, args, env, message) => {
      const r = withBundle(config(['sh', '-c', 'echo ran']), (dir) => withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', ...args], env, [3, 4, 5]));
      expect(r).toEqual({ status: 2, stdout: '', stderr: `mountkit: ${message}\n` });
    });

    test('an execve that fails after they were given their numbers (a relaunch moved them over its own): one line on stderr and in the --log file, exit 1, nothing written to the passed file', () => {
      const c = config(['/bad.sh']);
      const r = withBundle(c, (dir) => {
        writeFileSync(path.join(dir, 'rootfs', 'bad.sh'), '#!/nonexistent\n');
        chmodSync(path.join(dir, 'rootfs', 'bad.sh'), 0o755);
        const log = path.join(dir, 'log');
        // Eight, 3 to 10: past the numbers the relaunch holds its own on (the pid namespace's shell's 9 among them).
        const file = path.join(dir, 'passed');
        writeFileSync(file, 'passed\n');
        const opens = [3, 4, 5, 6, 7, 8, 9, 10].map((fd) => `${fd}>>"${file}"`).join(' ');
        const argv = [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--log', log, '--preserve-fds', '8'];
        // bash: dash redirects one-digit descriptors only.
        const out = spawnSync('bash', ['-c', `exec ${opens}; exec "$@"`, 'bash', ...argv], { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
        return { status: out.status, stdout: out.stdout, stderr: out.stderr, log: readFileSync(log, 'utf8'), passed: readFileSync(file, 'utf8') };
      });
      expect([r.status, r.stdout]).toEqual([1, '']);
      expect(r.stderr).toMatch(/^mountkit: [^\n]*execve "\/bad\.sh": ENOENT \(the file is there: the interpreter it names, [^\n]*\)\n$/);
      expect(r.log).toMatch(/execve \\?"\/bad\.sh\\?": ENOENT/);
      expect(r.passed).toBe('passed\n');
    });

    test('a count past the descriptors open: exit 2, one line naming the option and the first closed one, nothing run', () => {
      const r = withBundle(config(['sh', '-c', 'echo ran']), (dir) => withDescriptors(dir, [...entry, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '200']));
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^mountkit: --preserve-fds 200: descriptor \d+ is not open\n$/);
    });
  });

  test('bin/mountkit: a closed descriptor inside the range (where Node would open its own) is refused, naming it; LISTEN_FDS too', () => {
    withBundle(config(['sh', '-c', 'echo ran']), (dir) => {
      const run = ['run', '--bundle', dir, '--seccomp-cache', 'off'];
      // 3 to 9 open, 10 closed: where dash keeps the launcher's own script, which is not the caller's.
      const file = path.join(dir, 'config.json');
      const opens = [3, 4, 5, 6, 7, 8, 9].map((fd) => `${fd}<"${file}"`).join(' ');
      const past = spawnSync('bash', ['-c', `exec ${opens} 10<&-; exec "$@"`, 'bash', LAUNCHER, ...run, '--preserve-fds', '8'], { encoding: 'utf8', timeout: 60_000 });
      expect([past.status, past.stdout, past.stderr]).toEqual([2, '', 'mountkit: --preserve-fds 8: descriptor 10 is not open\n']);
      expect(withDescriptors(dir, [LAUNCHER, ...run, '--preserve-fds', '2'], '', [4])).toEqual({ status: 2, stdout: '', stderr: 'mountkit: --preserve-fds 2: descriptor 4 is not open\n' });
      expect(withDescriptors(dir, [LAUNCHER, ...run], 'LISTEN_PID=$$ LISTEN_FDS=2', [4])).toEqual({ status: 2, stdout: '', stderr: 'mountkit: LISTEN_FDS 2: descriptor 4 is not open\n' });
    });
  });

  test('bin/mountkit: that refusal under --log-format json is one JSON line on stderr, and with --log FILE the log\'s line is appended to the file; no id given, the bundle directory\'s name is the id, escaped as JSON where it must be', () => {
    withBundle(config(['sh', '-c', 'echo ran']), (dir) => {
      const name = 'we"i\\rd';
      const bundle = path.join(dir, name);
      mkdirSync(bundle);
      renameSync(path.join(dir, 'config.json'), path.join(bundle, 'config.json'));
      const run = ['run', '--bundle', bundle, '--seccomp-cache', 'off', '--preserve-fds', '2'];
      const message = '--preserve-fds 2: descriptor 4 is not open';
      const json = withDescriptors(dir, [LAUNCHER, '--log-format', 'json', ...run], '', [4]);
      expect([json.status, json.stdout]).toEqual([2, '']);
      expect(json.stderr).toMatch(/^[^\n]*\n$/);
      expect(JSON.parse(json.stderr)).toEqual({ time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/), level: 'error', pid: expect.any(Number), id: name, msg: message });
      const log = path.join(dir, 'run.log');
      writeFileSync(log, 'before\n');
      expect(withDescriptors(dir, [LAUNCHER, `--log=${log}`, ...run], '', [4])).toEqual({ status: 2, stdout: '', stderr: `mountkit: ${message}\n` });
      expect(readFileSync(log, 'utf8')).toMatch(/^before\n\S+Z pid=\d+ id="we\\"i\\\\rd" mountkit error: --preserve-fds 2: descriptor 4 is not open\n$/);
      // A log the launcher makes: the mode Node makes one with (0640 less the umask), a path relative to the working directory as Node resolves it.
      expect(withDescriptors(dir, [LAUNCHER, '--log', 'made.log', '--log-format', 'json', ...run], `cd "${dir}" && umask 022 &&`, [4])).toEqual({ status: 2, stdout: '', stderr: `mountkit: ${message}\n` });
      expect(JSON.parse(readFileSync(path.join(dir, 'made.log'), 'utf8'))).toMatchObject({ level: 'error', id: name, msg: message });
      expect(statSync(path.join(dir, 'made.log')).mode & 0o777).toBe(0o640);
      // Options Node refuses (a --log of blanks, a format it does not know) write no file.
      expect(withDescriptors(dir, [LAUNCHER, '--log', ' ', '--log-format', 'JSON', ...run], `cd "${dir}" &&`, [4])).toEqual({ status: 2, stdout: '', stderr: `mountkit: ${message}\n` });
      expect(existsSync(path.join(dir, ' '))).toBe(false);
    });
  });

  test.each([
    ['--preserve-fds 100000', ['--preserve-fds', '100000'], '', '--preserve-fds 100000'],
    ['LISTEN_FDS=1000', [], 'LISTEN_PID=$$ LISTEN_FDS=1000', 'LISTEN_FDS 1000'],
  ])('bin/mountkit: a count of more than three digits, %s, with nothing open at 3 and up, is refused naming descriptor 3, the first missing (Node\'s own were taken for the caller\'s)', (_what, args, env, by) => {
    const r = withBundle(config(['sh', '-c', 'echo ran']), (dir) => withDescriptors(dir, [LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off', ...args], env, [3, 4, 5]));
    expect(r).toEqual({ status: 2, stdout: '', stderr: `mountkit: ${by}: descriptor 3 is not open\n` });
  });

  test('bin/mountkit: LISTEN_PID=+$$ without a pid namespace names no process (Node read it as its own and passed its own descriptors)', () => {
    const c = config(['sh', '-c', 'for fd in 3 4 5 6 7 8 9; do [ -e /proc/self/fd/$fd ] && echo "$fd open"; done; env | grep ^LISTEN_; true'], { linux: { namespaces: [{ type: 'mount' }] } });
    const r = withBundle(c, (dir) => withDescriptors(dir, [LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], 'LISTEN_PID=+$$ LISTEN_FDS=2', [3, 4, 5]));
    expect(r).toEqual({ status: 0, stdout: '', stderr: '' });
  });

  (RUNC ? test : test.skip)('as runc 1.1.5 run passes them: --preserve-fds 2, and socket activation with --preserve-fds 1', () => {
    withBundle(config(['sh', '-c', READS]), (dir) => {
      const id = `mountkit-pfd-${process.pid}`;
      const runc = (args: string[], env = '') => {
        const r = withDescriptors(dir, [RUNC!, 'run', '--bundle', dir, ...args, id], env);
        spawnSync(RUNC!, ['delete', '--force', id]);
        return r;
      };
      const mountkit = (args: string[], env = '') => withDescriptors(dir, [LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off', ...args], env);
      for (const [args, env] of [[['--preserve-fds', '2'], ''], [['--preserve-fds', '1'], 'LISTEN_PID=$$ LISTEN_FDS=1']] as const) {
        const theirs = runc([...args], env);
        expect(theirs.status).toBe(0);
        expect(mountkit([...args], env)).toEqual(theirs);
      }
    });
  });

  (RUNC ? test : test.skip)("as under runc 1.1.5, socket activation's LISTEN_FDS and LISTEN_PID=1 are in the environment of the createContainer and startContainer hooks without an env of their own (its init's)", () => {
    // Each hook writes its LISTEN_ variables where it runs: the rootfs (createContainer's cwd), the container's / (startContainer's).
    const record = (file: string) => ({ path: '/bin/sh', args: ['sh', '-c', `env | grep ^LISTEN_ | sort > ${file}`] });
    const c = config(['true']);
    c.hooks = { createContainer: [record('create.env')], startContainer: [record('/start.env')] };
    withBundle(c, (dir) => {
      const seen = (r: Run) => ({ ...r, hooks: ['create.env', 'start.env'].map((f) => readFileSync(path.join(dir, 'rootfs', f), 'utf8')) });
      const id = `mountkit-pfd-hooks-${process.pid}`;
      const runc = seen(withDescriptors(dir, [RUNC!, 'run', '--bundle', dir, '--preserve-fds', '1', id], 'LISTEN_PID=$$ LISTEN_FDS=1'));
      spawnSync(RUNC!, ['delete', '--force', id]);
      expect(runc).toEqual({ status: 0, stdout: '', stderr: '', hooks: Array(2).fill('LISTEN_FDS=1\nLISTEN_PID=1\n') });
      for (const f of ['create.env', 'start.env']) rmSync(path.join(dir, 'rootfs', f));
      expect(seen(withDescriptors(dir, [LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off', '--preserve-fds', '1'], 'LISTEN_PID=$$ LISTEN_FDS=1'))).toEqual(runc);
    });
  });
});

/** Gives every file of `dir` to `id` (uid and gid), links themselves, as a user namespace's root owns a rootfs. */
function chownTree(dir: string, id: number): void {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) chownTree(p, id);
    if (!st.isSymbolicLink()) chownSync(p, id, id);
  }
  chownSync(dir, id, id);
}
