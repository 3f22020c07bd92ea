/**
 * `mountkit run` with process.terminal and no --console-socket: the foreground console,
 * copied by the first process between the container's new pseudo-terminal and the
 * user's terminal (src/cli/console-relay.ts), run for real.
 */
import { spawn, spawnSync } from 'child_process';
import { chmodSync, closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, withBundle, withBundleAsync } from '../conformance/harness';
import { BIN, LAUNCHER } from '../helpers/cli';
import { INTERACTIVE_SCRIPT, INTERACTIVE_STEPS, ptySession } from '../helpers/console';
import { launcherRun } from '../helpers/launcher-roles';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('console tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const DEVPTS = { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] };

function terminalConfig(script: string, namespaces: object[] = [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }]): Record<string, any> {
  return {
    ociVersion: '1.0.2',
    process: { terminal: true, args: ['sh', '-c', script], env: ['PATH=/bin'], cwd: '/' },
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      DEVPTS,
    ],
    linux: { namespaces },
  };
}

maybe('the foreground console', () => {
  test.each([
    ['bin/mountkit, a pid namespace', [LAUNCHER], undefined],
    ['the Node entry, no pid namespace', [process.execPath, BIN], [{ type: 'mount' }]],
  ])(
    "%s: the container's own terminal, sized as the user's; typing, resizing and Ctrl-C reach it; the user's terminal is raw meanwhile and as it was after",
    (_what, entry, namespaces) => {
      const r = withBundle(terminalConfig(INTERACTIVE_SCRIPT, namespaces), (dir) => ptySession(33, 111, INTERACTIVE_STEPS, [...entry, 'run', '--seccomp-cache', 'off', '--bundle', dir]));
      expect(r.timeout).toBeUndefined();
      // A new terminal of the container's devpts; the typed line is echoed by its line discipline; ^C by ECHOCTL.
      expect(r.output).toBe('/dev/pts/0\r\n33 111\r\nready\r\nhello\r\ngot hello\r\n40 132\r\narmed\r\n^Ccaught INT\r\n');
      expect(r.status).toBe(3);
      expect(r.modes).toEqual([{ icanon: false, echo: false, isig: false, icrnl: false, opost: true }]);
      // Node resets its standard streams' terminal at exit as well: the tests below check mountkit's own reset.
      expect(r.after).toEqual({ icanon: true, echo: true, isig: true, icrnl: true, opost: true });
    },
    60_000,
  );

  test.each([
    ['after the container ended', 'exit 4', 4, ''],
    ['after a run that failed once the console was taken (a startContainer hook)', 'echo never', 1, 'mountkit: finalize: plugin exec: hook startContainer[0] "/bin/false" failed (exit status 1)'],
  ])("the user's terminal is put back %s, before mountkit exits (Node would reset it then): a poststop hook reads it", (_what, script, status, error) => {
    const out = mkdtempSync(path.join(tmpdir(), 'mountkit-console-modes-'));
    try {
      const c = terminalConfig(script);
      c.hooks = {
        poststop: [{ path: '/bin/sh', args: ['sh', '-c', `stty -a </dev/tty >${out}/modes`] }],
        ...(status === 1 ? { startContainer: [{ path: '/bin/false' }] } : {}),
      };
      const r = withBundle(c, (dir) => ptySession(33, 111, [{ wait: 'never-shown' }], [LAUNCHER, 'run', '--seccomp-cache', 'off', '--bundle', dir]));
      expect([r.status, r.output]).toEqual([status, expect.stringContaining(error)]);
      const words = readFileSync(path.join(out, 'modes'), 'utf8').split(/[\s;]+/);
      expect(['icanon', 'echo', 'isig', '-icanon', '-echo', '-isig'].filter((w) => words.includes(w))).toEqual(['icanon', 'echo', 'isig']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 30_000);

  test.each([
    ['no user namespace', undefined, '0'],
    ['a user namespace of root\'s maps taking 0 to 0', [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], '0 0 65536'],
  ])("bin/mountkit, %s: a foreground console copied by a relay it starts beside the one Node process that prepares the container (no relaunch); the relay's directory is gone after", (_what, namespaces, map) => {
    const c = terminalConfig('tty; echo done; set -- $(cat /proc/self/uid_map); echo "$2 ${3:-}"', namespaces);
    if (namespaces) Object.assign(c.linux, { uidMappings: [{ containerID: 0, hostID: 0, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 0, size: 65536 }] });
    const r = launcherRun(c);
    expect([r.status, r.stderr, r.stdout]).toEqual([0, '', `/dev/pts/0\ndone\n${map === '0' ? '0 4294967295' : map.slice(2)}\n`]);
    expect(r.starts).toEqual(['relay', 'under unshare']);
    expect(r.left).toEqual([]);
  });

  test('a relay that cannot make its directory (TMPDIR unwritable) leaves the run to the Node entry at once, which copies the console', () => {
    const r = launcherRun(terminalConfig('echo done'), { TMPDIR: '/proc' });
    expect([r.status, r.stderr, r.stdout]).toEqual([0, '', 'done\n']);
    // The relay, the Node under unshare(1) that answered "again", the Node entry and its relaunch.
    expect(r.starts).toEqual(['other', 'other', 'relay', 'under unshare']);
  });

  test.each([
    ['before it connects to the relay (process.args no array)', 'badargs', 2, /^mountkit: process\.args "echo never": must be an array of strings, not a string$/],
    ['once connected, before the console (a mount of a type the kernel lacks)', 'badtype', 1, /^mountkit: mounts: plugin default mounts\[3\] "\/x": mount .*: ENODEV/],
  ])('a run that fails %s: the relay ends without a console, its directory removed, and mountkit exits with the run\'s status', (_when, broken, status, error) => {
    const config = terminalConfig('echo never');
    if (broken === 'badtype') config.mounts.push({ destination: '/x', type: 'nosuchfs', source: 'none' });
    else config.process.args = 'echo never';
    const r = launcherRun(config);
    expect(r.status).toBe(status);
    expect(r.stderr.split('\n')).toEqual([expect.stringMatching(error), '']);
    expect(r.stdout).toBe('');
    // No Node entry after it; the relay, ended at once, may not have got as far as the preload.
    expect(r.starts.filter((role) => role !== 'relay')).toEqual(['under unshare']);
    expect(r.left).toEqual([]);
  });

  test.each([
    ['bin/mountkit, a pid namespace', [LAUNCHER], undefined],
    ['the Node entry, no pid namespace', [process.execPath, BIN], [{ type: 'mount' }]],
    ['the Node entry, a user namespace (a relaunch under nsenter)', [process.execPath, BIN], [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }]],
  ])(
    "%s: what mountkit writes after the console step (a warning, the error that ends the run) goes to its own stderr, not to the console it copies to stdout; the descriptors passed keep their numbers",
    (_what, entry, namespaces) => {
      const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-console-stderr-'));
      const passed = ['three', 'four'].map((text) => {
        writeFileSync(path.join(dir, text), `${text}\n`);
        return openSync(path.join(dir, text), 'r');
      });
      try {
        const warning = 'mountkit warn [exec]: linux.personality.flags ["X"] ignored, as runc ignores them\n';
        const run = (args: string[]) => {
          const c = terminalConfig('', namespaces);
          c.process.args = args;
          // A warning the exec step logs after the console step, as runc ignores the flags with one.
          c.linux.personality = { domain: 'LINUX', flags: ['X'] };
          if (namespaces?.some((ns) => ns.type === 'user')) {
            const range = [{ containerID: 0, hostID: 100000, size: 65536 }];
            Object.assign(c.linux, { uidMappings: range, gidMappings: range });
            // gid 5 is not mapped in a user namespace; the devpts's own default then.
            c.mounts[2].options = DEVPTS.options.filter((o) => o !== 'gid=5');
          }
          return withBundle(c, (bundle) => {
            // The namespace's root reaches the rootfs through the bundle.
            chmodSync(bundle, 0o711);
            // A program no binary format takes: execve(2) fails with ENOEXEC, after the descriptors passed have their numbers.
            writeFileSync(path.join(bundle, 'rootfs', 'garbage'), 'garbage\n', { mode: 0o755 });
            return spawnSync('setsid', ['-w', ...entry, 'run', '--seccomp-cache', 'off', '--preserve-fds', '2', '--bundle', bundle], { encoding: 'utf8', input: '', stdio: ['pipe', 'pipe', 'pipe', ...passed] });
          });
        };
        const r = run(['sh', '-c', 'cat /proc/self/fd/3 /proc/self/fd/4; ls /proc/self/fd']);
        expect([r.status, r.stderr]).toEqual([0, warning]);
        // Descriptors 3 and 4 are the files passed; 5 is ls's own directory: mountkit's copy of its stderr is not the container's.
        expect(r.stdout).toBe('three\nfour\n0  1  2  3  4  5\n');
        // A program that is not there: the run's error, after the console step, as well.
        const missing = run(['nothere']);
        expect([missing.status, missing.stdout, missing.stderr]).toEqual([1, '', `${warning}mountkit: finalize: plugin exec: process.args[0] "nothere" is not found in PATH "/bin"\n`]);
        // The last one, once the descriptors passed have their numbers: the copy lies on none of them.
        const failed = run(['/garbage']);
        expect([failed.status, failed.stdout, failed.stderr]).toEqual([1, '', `${warning}mountkit: finalize: plugin exec: execve "/garbage": ENOEXEC\n`]);
      } finally {
        for (const fd of passed) closeSync(fd);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    30_000,
  );

  test('without a terminal (pipes), the console is made and copied all the same: no CR added, input reaches it, every line of a long output before the exit status', () => {
    const script = 'tty; stty -a | grep -o -- "-onlcr"; read line; echo "got $line"; seq 1 3000; exit 5';
    const c = terminalConfig(script);
    // A size: busybox's stty reports an error for a terminal of 0x0.
    (c.process as Record<string, unknown>).consoleSize = { height: 24, width: 80 };
    // setsid(1): no controlling terminal either, whatever the tests were started on.
    const r = withBundle(c, (dir) => spawnSync('setsid', ['-w', LAUNCHER, 'run', '--seccomp-cache', 'off', '--bundle', dir], { input: 'typed\n', encoding: 'utf8' }));
    expect([r.status, r.stderr]).toEqual([5, '']);
    // The typed line is echoed by the container's terminal when it arrives, before or after the first lines.
    const lines = r.stdout.split('\n');
    expect(lines.filter((l) => l !== 'typed')).toEqual(['/dev/pts/0', '-onlcr', 'got typed', ...Array.from({ length: 3000 }, (_, i) => String(i + 1)), '']);
    expect(lines.filter((l) => l === 'typed')).toHaveLength(1);
  });

  test("the container's standard streams are its terminal as open(2) opens a file, O_RDWR|O_LARGEFILE (as runc opens /dev/pts/N), not TIOCGPTPEER's O_CLOEXEC without O_LARGEFILE", () => {
    const c = terminalConfig('grep -h "^flags" /proc/self/fdinfo/0 /proc/self/fdinfo/1 /proc/self/fdinfo/2');
    const r = withBundle(c, (dir) => spawnSync('setsid', ['-w', LAUNCHER, 'run', '--seccomp-cache', 'off', '--bundle', dir], { input: '', encoding: 'utf8' }));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout).toBe('flags:\t0100002\n'.repeat(3));
  });

  test('the console is copied while a poststart hook runs: a hook waiting for what the container does after much output sees it', () => {
    // More output than a terminal holds unread (about 64 KB), then a mark the hook waits for, 5 s at most.
    const c = terminalConfig('seq 1 40000; : >/tmp/done; echo marked');
    const wait = 'b=$(sed -n "s/.*\\"bundle\\":\\"\\([^\\"]*\\)\\".*/\\1/p"); i=0; while [ ! -e "$b/rootfs/tmp/done" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; [ -e "$b/rootfs/tmp/done" ]';
    c.hooks = { poststart: [{ path: '/bin/sh', args: ['sh', '-c', wait] }] };
    const r = withBundle(c, (dir) => spawnSync('setsid', ['-w', LAUNCHER, 'run', '--seccomp-cache', 'off', '--bundle', dir], { encoding: 'utf8', input: '', maxBuffer: 1 << 24 }));
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(r.stdout.split('\n')).toEqual([...Array.from({ length: 40000 }, (_, i) => String(i + 1)), 'marked', '']);
  }, 30_000);

  test('without a pid namespace, a process the container left holding its terminal does not keep mountkit copying', async () => {
    // The subshell ignores the hangup the container's end sends its process group before the container ends.
    const script = '(trap "" HUP; : >/tmp/armed; exec sleep 30) & while [ ! -e /tmp/armed ]; do sleep 0.01; done; echo "left $!"';
    const r = await withBundleAsync(terminalConfig(script, [{ type: 'mount' }]), async (dir) => {
      const child = spawn(LAUNCHER, ['run', '--seccomp-cache', 'off', '--bundle', dir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const status = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      return { status, out, err };
    });
    const left = Number(/^left (\d+)$/m.exec(r.out)?.[1]);
    try {
      expect([r.status, r.err]).toEqual([0, '']);
      // Still there, holding the container's terminal.
      expect(readFileSync(`/proc/${left}/cmdline`, 'utf8')).toBe('sleep\u000030\u0000');
    } finally {
      if (left > 0) process.kill(left, 'SIGKILL');
    }
  }, 30_000);

  test('a container without a devpts for its terminal: exit 1, one line naming the syscall and the path; its program never runs', () => {
    const c = terminalConfig('echo never');
    (c.mounts as object[]).pop();
    const r = withBundle(c, (dir) => spawnSync('setsid', ['-w', LAUNCHER, 'run', '--seccomp-cache', 'off', '--bundle', dir], { encoding: 'utf8', input: '' }));
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe('mountkit: after-jail: plugin console: console /dev/pts/ptmx: open "/dev/pts/ptmx": ENOENT\n');
  });
});
