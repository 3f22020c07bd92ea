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
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { nodeProcessesIn } from '../helpers/proc-tree';
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

maybe('bin/mountkit run by root with a new user namespace', () => {
  let bin: string;
  let log: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(() => {
    bin = mkdtempSync(path.join(tmpdir(), 'mountkit-userns-root-'));
    log = path.join(bin, 'started');
    writeFileSync(log, '');
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

  test.each(LAUNCHER_SHELLS)(
    'under %s: the one Node the launcher starts, uid 0 of a user namespace with the config\'s maps and setgroups allowed, becomes the container, PID 1 (no Node waits for it); its status is the run\'s',
    async (_sh, shell) => {
      const c = userConfig(`id -u; id -g; ${SHOW}; read line; echo "$line"; exit 3`);
      const r = await withBundleAsync(
        c,
        (dir) =>
          new Promise<{ status: number | null; stdout: string; stderr: string; nodes: number }>((resolve, reject) => {
            const child = spawn(shell[0], [...shell.slice(1), LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
            let stdout = '';
            let stderr = '';
            let nodes = -1;
            child.stdout.on('data', (d: Buffer) => {
              stdout += d;
              if (nodes !== -1 || !stdout.includes('allow\n1\n')) return;
              nodes = nodeProcessesIn(child.pid!);
              child.stdin.end('go\n');
            });
            child.stderr.on('data', (d: Buffer) => (stderr += d));
            child.on('error', reject);
            child.on('close', (status) => resolve({ status, stdout, stderr, nodes }));
          }),
      );
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

  const strace = spawnSync('sh', ['-c', 'command -v strace'], { encoding: 'utf8' }).stdout.trim();
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

  test.each([['process.oomScoreAdj', (c: Record<string, any>) => (c.process.oomScoreAdj = 0)]])('%s: left to the Node entry, which relaunches itself into the namespace, as the launcher would start it', (_name, set) => {
    const c = userConfig(SHOW, WIDE);
    set(c);
    const [launcher, seen, byEntry] = withBundle(c, (dir) => {
      const r = run(dir);
      return [r, started(), entry(dir)] as const;
    });
    expect([launcher.status, launcher.stdout, launcher.stderr]).toEqual([byEntry.status, byEntry.stdout, byEntry.stderr]);
    expect([launcher.status, squeezed(launcher.stdout), launcher.stderr]).toEqual([0, ['0 0 1', '1 100000 65535', '0 0 1', '1 100000 65535', 'allow', '1', ''], '']);
    // The Node entry alone, on the host; the relaunch is nsenter's (its PATH's node is Node's own).
    expect(seen).toBe('0 0 4294967295 userns=\n');
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
