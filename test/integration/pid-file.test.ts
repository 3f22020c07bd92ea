/**
 * `mountkit run --pid-file` for real, on each launch path: bin/mountkit's Node as PID 1 of
 * a new pid namespace, the Node entry's relaunch for one, the Node entry and bin/mountkit
 * without one (the process started becomes the container's), a relaunch for poststart
 * hooks, bin/mountkit's hooks relay beside its Node, a relaunch into a user namespace and
 * one for a foreground console. The file must hold, as the caller sees it, the pid
 * of the process that runs the container's program: found on the host by its
 * /proc/PID/cmdline (the program's own arguments) and, in a new pid namespace, NSpid
 * ending in 1.
 */
import { spawn, spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, withBundleAsync, withBundle } from '../conformance/harness';
import { BIN, LAUNCHER } from '../helpers/cli';
import { ptySession } from '../helpers/console';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('run tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;
jest.setTimeout(60_000);

/** The container's program: a shell whose last argument names it on the host, waiting long enough to be looked at. */
const PROBE = 'pid-file-probe';
const ARGS = ['sh', '-c', 'sleep 3; true', PROBE];

function config(over: Record<string, unknown> = {}, namespaces: object[] = [{ type: 'pid' }, { type: 'mount' }]): Record<string, any> {
  return {
    ociVersion: '1.0.2',
    process: { terminal: false, args: ARGS, env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs' },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces },
    ...over,
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Seen {
  status: number | null;
  stderr: string;
  /** The file's text when it first appeared. */
  text?: string;
  /** /proc/PID/cmdline of that pid once it runs the program (NUL as space), and its NSpid. */
  cmdline?: string;
  nspid?: string;
  mode?: number;
}

/** Runs `argv` with its cwd in `cwdDir`, waits for `file`, and looks at the pid it names while the container runs. */
async function runWatching(argv: string[], file: string, cwdDir: string): Promise<Seen> {
  const child = spawn(argv[0], argv.slice(1), { cwd: cwdDir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const ended = new Promise<number | null>((resolve) => child.on('close', (status) => resolve(status)));
  let done = false;
  void ended.then(() => (done = true));
  const seen: Seen = { status: null, stderr: '' };
  for (let i = 0; i < 1000 && !done && seen.text === undefined; i++) {
    if (existsSync(file)) {
      seen.text = readFileSync(file, 'utf8');
      seen.mode = statSync(file).mode & 0o777;
    } else await sleep(10);
  }
  // The program starts just after the file is written where the container's process writes it: looked for until it runs.
  for (let i = 0; i < 300 && seen.text !== undefined && !done; i++) {
    try {
      const cmdline = readFileSync(`/proc/${seen.text}/cmdline`, 'utf8').split('\0').join(' ').trim();
      const status = readFileSync(`/proc/${seen.text}/status`, 'utf8');
      seen.nspid = /^NSpid:\s*(.*)$/m.exec(status)?.[1].trim().split(/\s+/).join(' ');
      seen.cmdline = cmdline;
      if (cmdline.endsWith(PROBE)) break;
    } catch {
      break;
    }
    await sleep(10);
  }
  seen.status = await ended;
  seen.stderr = stderr;
  return seen;
}

const ENTRIES = {
  'bin/mountkit': [LAUNCHER],
  'the Node entry': [process.execPath, BIN],
} as const;

maybe('mountkit run --pid-file', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(path.join(tmpdir(), 'mountkit-pid-file-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  test.each([
    ['bin/mountkit', 'a new pid namespace (its Node is PID 1 there, no relaunch)', config(), true],
    ['the Node entry', 'a new pid namespace (its relaunch forks the container)', config(), true],
    ['the Node entry', 'no pid namespace (it becomes the container itself)', config({}, [{ type: 'mount' }]), false],
    ['bin/mountkit', 'no pid namespace (its Node becomes the container)', config({}, [{ type: 'mount' }]), false],
    ['bin/mountkit', 'a poststart hook (a relaunch), no pid namespace', config({ hooks: { poststart: [{ path: '/bin/true' }] } }, [{ type: 'mount' }]), false],
    ['bin/mountkit', 'a poststart hook and a new pid namespace (the hooks relay beside its Node writes it)', config({ hooks: { poststart: [{ path: '/bin/true' }] } }), true],
    ['bin/mountkit', 'a user namespace (a relaunch) and a new pid namespace', config({ linux: { namespaces: [{ type: 'user' }, { type: 'pid' }, { type: 'mount' }], uidMappings: [{ containerID: 0, hostID: 0, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 0, size: 65536 }] } }), true],
  ] as const)('%s, %s: a relative path from the cwd holds the pid the caller sees of the container\'s process, without a newline', async (entry, _what, c, pidNamespace) => {
    await withBundleAsync(c, async (dir) => {
      const seen = await runWatching([...ENTRIES[entry], 'run', '--seccomp-cache', 'off', '--bundle', dir, '--pid-file', 'ct.pid'], path.join(out, 'ct.pid'), out);
      expect(seen.stderr).toBe('');
      expect(seen.status).toBe(0);
      expect(seen.text).toMatch(/^[1-9][0-9]*$/);
      expect(seen.cmdline).toBe(ARGS.join(' '));
      const nspid = seen.nspid!.split(' ');
      expect(nspid[0]).toBe(seen.text);
      expect(nspid.length > 1 && nspid[nspid.length - 1] === '1').toBe(pidNamespace);
      // As runc's: 0666 less the umask (jest's, 022), left once the container has ended, no .NAME beside it.
      expect(seen.mode).toBe(0o644);
      expect(readFileSync(path.join(out, 'ct.pid'), 'utf8')).toBe(seen.text);
      expect(existsSync(path.join(out, '.ct.pid'))).toBe(false);
    });
  });

  test.each(Object.keys(ENTRIES) as (keyof typeof ENTRIES)[])('%s: a poststart hook finds no pid file yet, as under runc (written after the hooks)', (entry) => {
    const hook = { path: '/bin/sh', args: ['sh', '-c', `test -e ${out}/ct.pid && echo there >${out}/hook || echo absent >${out}/hook`] };
    withBundle(config({ process: { terminal: false, args: ['true'], env: ['PATH=/bin'], cwd: '/' }, hooks: { poststart: [hook] } }), (dir) => {
      const r = spawnSync(ENTRIES[entry][0], [...ENTRIES[entry].slice(1), 'run', '--seccomp-cache', 'off', '--bundle', dir, '--pid-file', path.join(out, 'ct.pid')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(readFileSync(path.join(out, 'hook'), 'utf8')).toBe('absent\n');
      expect(readFileSync(path.join(out, 'ct.pid'), 'utf8')).toMatch(/^[1-9][0-9]*$/);
    });
  });

  test.each([
    ['bin/mountkit', config()],
    ['the Node entry', config({}, [{ type: 'mount' }])],
    ['bin/mountkit', config({ hooks: { poststart: [{ path: '/bin/true' }] } })],
  ] as const)('%s: a directory that is not there fails before the container starts, one line naming the option, path and errno, status 2', (entry, c) => {
    withBundle({ ...c, process: { ...c.process, args: ['sh', '-c', `echo ran >${out}/ran`] } }, (dir) => {
      const r = spawnSync(ENTRIES[entry][0], [...ENTRIES[entry].slice(1), 'run', '--seccomp-cache', 'off', '--bundle', dir, '--pid-file', '/nope/x.pid'], { encoding: 'utf8', timeout: 60_000 });
      expect(r.stderr).toBe('mountkit: --pid-file "/nope/x.pid": its directory cannot be opened (open "/nope": ENOENT)\n');
      expect(r.status).toBe(2);
      expect(existsSync(path.join(out, 'ran'))).toBe(false);
    });
  });

  test.each([
    ['bin/mountkit', [{ type: 'pid' }, { type: 'mount' }]],
    ['the Node entry', [{ type: 'mount' }]],
  ] as const)('%s, a foreground console (a relaunch): the file holds the pid the host\'s procfs gives the container\'s process', (entry, namespaces) => {
    // The container reads its own status through a bind of the host's /proc: NSpid's first field is its pid there.
    const script = 'while read k v rest; do [ "$k" = NSpid: ] && echo "host $v"; done </hostproc/self/status; echo done';
    const c = config({ process: { terminal: true, args: ['sh', '-c', script], env: ['PATH=/bin'], cwd: '/' }, mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] }, { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] }, { destination: '/hostproc', type: 'bind', source: '/proc', options: ['rbind', 'ro'] }] }, [...namespaces]);
    withBundle(c, (dir) => {
      const r = ptySession(24, 80, [{ wait: 'done' }], [...ENTRIES[entry], 'run', '--seccomp-cache', 'off', '--bundle', dir, '--pid-file', 'ct.pid'], out);
      expect(r.timeout).toBeUndefined();
      expect(r.status).toBe(0);
      const text = readFileSync(path.join(out, 'ct.pid'), 'utf8');
      expect(text).toMatch(/^[1-9][0-9]*$/);
      expect(r.output).toBe(`host ${text}\r\ndone\r\n`);
    });
  });

  test('a program that is not found leaves no pid file (the Node entry, which becomes the container)', () => {
    withBundle(config({ process: { terminal: false, args: ['/nothere'], env: ['PATH=/bin'], cwd: '/' } }, [{ type: 'mount' }]), (dir) => {
      const r = spawnSync(process.execPath, [BIN, 'run', '--seccomp-cache', 'off', '--bundle', dir, '--pid-file', path.join(out, 'ct.pid')], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/process\.args\[0\] "\/nothere"/);
      expect(existsSync(path.join(out, 'ct.pid'))).toBe(false);
      expect(existsSync(path.join(out, '.ct.pid'))).toBe(false);
    });
  });
});

maybe('mountkit plan --pid-file', () => {
  // The directory's descriptor, opened before the jail, stays on the host's mount in the
  // plan's model, which the read-only root's remount does not reach (it did: EROFS).
  test.each([
    ['a relaunch (the Node entry, a new pid namespace)', [process.execPath, BIN], [{ type: 'pid' }, { type: 'mount' }]],
    ['no relaunch (a mount namespace only)', [process.execPath, BIN], [{ type: 'mount' }]],
  ])('%s, with a read-only root: the file written through its directory, after the jail', (_what, entry, namespaces) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-pid-plan-'));
    try {
      const file = path.join(dir, 'ct.pid');
      const r = withBundle(config({ root: { path: 'rootfs', readonly: true } }, namespaces), (bundle) =>
        spawnSync(entry[0], [...entry.slice(1), 'plan', '--bundle', bundle, '--pid-file', file], { encoding: 'utf8', timeout: 60_000 }),
      );
      expect([r.status, r.stderr]).toEqual([0, '']);
      const renamed = r.stdout.split('\n').filter((line) => line.includes('renameat('));
      expect(renamed).toHaveLength(1);
      expect(renamed[0]).toMatch(/renameat\(\d+, "\.ct\.pid", \d+, "ct\.pid"\)$/);
      expect(existsSync(file)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("no relaunch: the file's mode is 0666 less the umask of plan's caller, as run's caller's gives it", () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-pid-plan-'));
    try {
      const file = path.join(dir, 'ct.pid');
      const r = withBundle(config({}, [{ type: 'mount' }]), (bundle) =>
        spawnSync('/bin/sh', ['-c', 'umask 027; exec "$@"', 'sh', process.execPath, BIN, 'plan', '--bundle', bundle, '--pid-file', file], { encoding: 'utf8', timeout: 60_000 }),
      );
      expect([r.status, r.stderr]).toEqual([0, '']);
      expect(r.stdout.split('\n').filter((line) => line.includes('fchmod(')).map((line) => /fchmod\(\d+, (\d+)\)/.exec(line)?.[1])).toEqual(['0640']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

