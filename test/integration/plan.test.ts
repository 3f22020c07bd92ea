import { spawnSync } from 'child_process';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { CLONE_NEWNS, ONLCR } from '../../src/core/constants';
import { PID_NAMESPACE_PARENT } from '../../src/core/namespaces';
import { PHASES } from '../../src/core/plugin';
import { BUSYBOX, makeBundle, runMountkit } from '../conformance/harness';
import { BIN, LAUNCHER, runCli, type CliRun } from '../helpers/cli';
import { kernelHasOpenTreeAttr } from '../helpers/older-kernel';
import { OVERLAY_PLUGINS, buildOverlayExample } from '../helpers/examples';

/**
 * `mountkit plan` as an ordinary user: the CLI runs as nobody (setpriv drops root and every
 * capability) on a bundle nobody can read, and must print the whole plan while changing
 * nothing, on the host or in the bundle.
 */
const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('plan tests need root (to become nobody) and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const AS_NOBODY = ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', '--inh-caps=-all'];

interface JsonCall {
  seq: number;
  phase: string;
  plugin: string;
  mountIndex?: number;
  op: string;
  args: Record<string, unknown>;
  decoded?: Record<string, string>;
  fds?: Record<string, string>;
  result?: number;
  errno?: string;
}

function bundleConfig(over: Record<string, unknown> = {}): Record<string, any> {
  return {
    ociVersion: '1.0.2',
    process: { terminal: false, args: ['sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/work' },
    root: { path: 'rootfs', readonly: true },
    hostname: 'planned',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] },
      { destination: '/mnt', type: 'bind', source: '/etc', options: ['rbind', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }],
      maskedPaths: ['/proc/keys'],
      readonlyPaths: ['/proc/sys'],
    },
    ...over,
  };
}

/** A bundle nobody can read (mkdtemp makes its directory 0700). */
function readableBundle(config: Record<string, unknown>): { dir: string; cleanup: () => void } {
  const b = makeBundle(config);
  chmodSync(b.dir, 0o755);
  return b;
}

/** Every path under `dir` with its type, mode and content: proof that nothing changed. */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (p: string): void => {
    const st = lstatSync(p);
    out.push(`${p} ${st.mode.toString(8)} ${st.isFile() ? readFileSync(p, 'utf8').length : ''}`);
    if (st.isDirectory()) for (const name of readdirSync(p).sort()) walk(path.join(p, name));
  };
  walk(dir);
  return out;
}

function planAsNobody(dir: string, extra: string[] = []) {
  return runCli(['plan', '--bundle', dir, ...extra], { prefix: AS_NOBODY });
}

/**
 * `mountkit plan`, then `mountkit run`, of the bundle `dir`, each in a throwaway mount
 * namespace (unshare -m --propagation private) whose mounts the shell script `setup` made
 * first: the host's mounts, as both find them.
 */
function planAndRunOn(setup: string, dir: string, runArgs: string[] = []): { plan: CliRun; run: CliRun } {
  const inNamespace = (cmd: string[]): CliRun => {
    const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-ec', `${setup}\nexec "$@"`, 'sh', ...cmd], { encoding: 'utf8', timeout: 60_000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  return {
    plan: inNamespace([process.execPath, BIN, 'plan', '--bundle', dir]),
    run: inNamespace([LAUNCHER, 'run', '--bundle', dir, '--seccomp-cache', 'off', ...runArgs]),
  };
}

/** Runs its arguments under a seccomp filter answering each syscall its first argument names (NAME=ERRNO, comma-separated) with that errno. */
const REFUSING = path.join(__dirname, '..', 'helpers', 'refusing-syscalls.js');

/** `config` with a read-only bind of /etc on /a and a nosuid one on /b (mounts[3] and [4] of bundleConfig's). */
function withTwoBinds(config: Record<string, any>): Record<string, any> {
  config.mounts.push({ destination: '/a', type: 'bind', source: '/etc', options: ['bind', 'ro'] }, { destination: '/b', type: 'bind', source: '/etc', options: ['bind', 'nosuid'] });
  return config;
}

/**
 * The calls of the binds mounts[2] (bundleConfig's rbind of /etc on /mnt), [3] and [4] in
 * the plan of `dir` run under `prefix`, each from its copy on, as "call = result" without
 * the arguments.
 */
function bindCopyCalls(dir: string, prefix: string[]): string[][] {
  const r = runCli(['plan', '--bundle', dir], { prefix });
  expect([r.status, r.stderr]).toEqual([0, '']);
  const of = (n: number) =>
    r.stdout
      .split('\n')
      .filter((l) => l.includes(` bind mounts[${n}] `))
      .map((l) => l.replace(/^.* bind mounts\[\d\] "\/(?:mnt|a|b)" +/, '').replace(/\(.*\)( = \S+(?: E[A-Z]+)?)?(  #.*)?$/, '$1').replace(/ = \d+$/, ' = fd'))
      .filter((l) => /^(openTree|moveMount|mount)/.test(l));
  return [of(2), of(3), of(4)];
}

maybe('mountkit plan', () => {
  test("a tmpcopyup tmpfs: a detached tmpfs configured, mounted, filled through its descriptor and moved onto the destination, as the run makes it where fsopen(2) is there, with no mount(2) of it; the same in every plan", () => {
    const config = bundleConfig();
    config.mounts.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup', 'nosuid', 'size=1m'] });
    const b = readableBundle(config);
    try {
      writeFileSync(path.join(b.dir, 'rootfs/etc/copied'), 'x');
      const r = planAsNobody(b.dir);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trimEnd().split('\n').filter((l) => / tmpfs mounts\[3\] "\/etc" /.test(l)).map((l) => l.replace(/^.* tmpfs mounts\[3\] "\/etc" +/, ''));
      const context = /^fsopen\("tmpfs", FSOPEN_CLOEXEC\) = (\d+)$/.exec(lines.find((l) => l.startsWith('fsopen(')) ?? '')?.[1];
      const mount = /^fsmount\(\d+, FSMOUNT_CLOEXEC, MOUNT_ATTR_NOSUID\) = (\d+)  # \d+ = anon_inode:\[fscontext\]$/.exec(lines.find((l) => l.startsWith('fsmount(')) ?? '')?.[1];
      expect([context, mount]).toEqual([expect.stringMatching(/^\d+$/), expect.stringMatching(/^\d+$/)]);
      expect(lines.filter((l) => l.startsWith('fsconfig('))).toEqual([
        `fsconfig(${context}, FSCONFIG_SET_STRING, "source", "tmpfs", 0)  # ${context} = anon_inode:[fscontext]`,
        `fsconfig(${context}, FSCONFIG_SET_STRING, "mode", "0755", 0)  # ${context} = anon_inode:[fscontext]`,
        `fsconfig(${context}, FSCONFIG_SET_STRING, "size", "1m", 0)  # ${context} = anon_inode:[fscontext]`,
        `fsconfig(${context}, FSCONFIG_CMD_CREATE, NULL, NULL, 0)  # ${context} = anon_inode:[fscontext]`,
      ]);
      const made = new RegExp(`^openat\\(${mount}, "copied", O_WRONLY\\|O_CREAT\\|O_EXCL\\|O_NOFOLLOW\\|O_CLOEXEC, 0600\\) = (\\d+)  # ${mount} = fsmount:\\[tmpfs\\]$`);
      const copy = made.exec(lines.find((l) => made.test(l)) ?? '')?.[1];
      expect(copy).toMatch(/^\d+$/);
      expect(lines.find((l) => new RegExp(`^copyFileRange\\(\\d+, ${copy}\\)  # .*\\b${copy} = fsmount:\\[tmpfs\\]/copied$`).test(l))).toBeDefined();
      const move = lines.find((l) => l.startsWith(`moveMount(${mount}, "", `));
      expect(move).toMatch(/^moveMount\(\d+, "", (\d+), "", MOVE_MOUNT_F_EMPTY_PATH\|MOVE_MOUNT_T_EMPTY_PATH\)  # .*\b\1 = \S*\/rootfs\/etc\b/);
      expect(move).toContain(`${mount} = fsmount:[tmpfs]`);
      expect(lines.filter((l) => /^(mkdir|rmdir|getrandom|mount)\(|MS_MOVE|\/proc\/thread-self\/fd\/\d+\//.test(l))).toEqual([]);
      expect(planAsNobody(b.dir).stdout).toBe(r.stdout);
    } finally {
      b.cleanup();
    }
  });

  test("where fsopen(2) answers ENOSYS, as before Linux 5.2, a tmpcopyup tmpfs is planned mounted on the destination and filled there, as the run makes it, with no warning; nothing in /tmp; the same in every plan", () => {
    const config = bundleConfig();
    config.mounts.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    const b = readableBundle(config);
    try {
      // The filter's helper executes its command without a PATH lookup.
      const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
      const planOnTarget = () => runCli(['plan', '--bundle', b.dir], { prefix: [process.execPath, REFUSING, 'fsopen=ENOSYS', setpriv, ...AS_NOBODY.slice(1)] });
      const r = planOnTarget();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      const calls = lines.filter((l) => / tmpfs mounts\[3\] "\/etc" /.test(l)).map((l) => l.replace(/^.*"\/etc" +/, ''));
      const target = /^mount\("tmpfs", "\/proc\/thread-self\/fd\/(\d+)", "tmpfs", 0, "mode=0755"\)  # \d+ = \S*\/rootfs\/etc$/.exec(calls.find((l) => l.startsWith('mount(')) ?? '')?.[1];
      expect(target).toMatch(/^\d+$/);
      // The tmpfs opened again (its descriptor a number past the target's), the file made in it and filled.
      expect(calls.find((l) => /^openat\(\d+, "passwd", O_WRONLY\|O_CREAT\|O_EXCL\|O_NOFOLLOW\|O_CLOEXEC, 0600\) = \d+  # \d+ = \S*\/rootfs\/etc$/.test(l))).toBeDefined();
      expect(calls.find((l) => l.startsWith('copyFileRange('))).toBeDefined();
      expect(lines.filter((l) => /\.mountkit-|mkdir\(|rmdir\(|getrandom|MS_MOVE/.test(l))).toEqual([]);
      // The fsopen the run tries first, refused: it returned no descriptor, and shows the errno.
      expect(lines.filter((l) => / tmpfs mounts\[3\] "\/etc" +fs(open|config|mount)\(/.test(l)).map((l) => l.replace(/^.*"\/etc" +/, ''))).toEqual(['fsopen("tmpfs", FSOPEN_CLOEXEC) = -1 ENOSYS']);
      expect(planOnTarget().stdout).toBe(r.stdout);
    } finally {
      b.cleanup();
    }
  });

  test("where a seccomp filter answers fsopen(2) with EPERM, as most runtimes' profiles answer a call they do not list: planned mounted on the destination by a plan with CAP_SYS_ADMIN, as the run mounts it; a plan without it cannot tell the filter's EPERM from the kernel's own to it, and plans the detached tmpfs a run with the capability would make where no filter is", () => {
    const config = bundleConfig();
    config.mounts.push({ destination: '/etc', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    const b = readableBundle(config);
    try {
      const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
      const tmpfsCalls = (stdout: string) => stdout.trimEnd().split('\n').filter((l) => / tmpfs mounts\[3\] "\/etc" /.test(l)).map((l) => l.replace(/^.*"\/etc" +/, ''));
      const asRoot = runCli(['plan', '--bundle', b.dir], { prefix: [process.execPath, REFUSING, 'fsopen=EPERM'] });
      expect([asRoot.status, asRoot.stderr]).toEqual([0, '']);
      const root = tmpfsCalls(asRoot.stdout);
      expect(root.filter((l) => /^fs(open|config|mount)\(/.test(l))).toEqual(['fsopen("tmpfs", FSOPEN_CLOEXEC) = -1 EPERM']);
      expect(root.find((l) => /^mount\("tmpfs", "\/proc\/thread-self\/fd\/\d+", "tmpfs", 0, "mode=0755"\)/.test(l))).toBeDefined();
      const asNobody = runCli(['plan', '--bundle', b.dir], { prefix: [process.execPath, REFUSING, 'fsopen=EPERM', setpriv, ...AS_NOBODY.slice(1)] });
      expect([asNobody.status, asNobody.stderr]).toEqual([0, '']);
      const nobody = tmpfsCalls(asNobody.stdout);
      expect(nobody.find((l) => /^fsmount\(/.test(l))).toBeDefined();
      expect(nobody.filter((l) => l.startsWith('mount('))).toEqual([]);
    } finally {
      b.cleanup();
    }
  });

  test("a read-only bind and a nosuid bind: their copies planned made with their flags (open_tree_attr) where this kernel has the call; where it answers ENOSYS (before Linux 6.15), tried once and each copy given its flags by mount_setattr; where a seccomp filter answers EPERM, tried by each bind and each copy remounted, as the run does", () => {
    const b = readableBundle(withTwoBinds(bundleConfig()));
    try {
      const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
      const copyCalls = (prefix: string[]) => bindCopyCalls(b.dir, prefix).slice(1);
      const setOnCopies = [
        ['openTreeAttr = -1 ENOSYS', 'openTree = fd', 'mountSetattr', 'moveMount'],
        ['openTree = fd', 'mountSetattr', 'moveMount'],
      ];
      const asNobody = (errno: string) => [process.execPath, REFUSING, `open_tree_attr=${errno}`, setpriv, ...AS_NOBODY.slice(1)];
      expect(copyCalls(AS_NOBODY)).toEqual(kernelHasOpenTreeAttr() ? [['openTreeAttr = fd', 'moveMount'], ['openTreeAttr = fd', 'moveMount']] : setOnCopies);
      expect(copyCalls(asNobody('ENOSYS'))).toEqual(setOnCopies);
      // EPERM is each bind's (a flag a user namespace locked refuses mount_setattr alike): each copy remounted.
      const remounted = ['openTreeAttr = -1 EPERM', 'openTree = fd', 'moveMount', 'mount'];
      expect(copyCalls(asNobody('EPERM'))).toEqual([remounted, remounted]);
    } finally {
      b.cleanup();
    }
  });

  test("an rbind, a read-only bind and a nosuid bind on older kernels: before Linux 5.12 (mount_setattr(2) ENOSYS) and under a filter answering EINVAL (as 5.12 and 5.13 answer a copy's flags, MOUNT_ATTR_NOSYMFOLLOW unknown) each copy planned attached and remounted, the call tried once; a seccomp filter's EPERM tried by each bind, by a plan with CAP_SYS_ADMIN; before 5.2 (open_tree(2) ENOSYS) each bind planned made by mount(2); as the run does", () => {
    const b = readableBundle(withTwoBinds(bundleConfig()));
    try {
      const setpriv = spawnSync('sh', ['-c', 'command -v setpriv'], { encoding: 'utf8' }).stdout.trim();
      // Planned under a filter refusing `refused`.
      const copyCalls = (refused: string, user = [setpriv, ...AS_NOBODY.slice(1)]) => bindCopyCalls(b.dir, [process.execPath, REFUSING, refused, ...user]);
      // /mnt's rbind never tries open_tree_attr(2); the first bind notes it missing for the second.
      for (const errno of ['ENOSYS', 'EINVAL']) {
        expect(copyCalls(`open_tree_attr=ENOSYS,mount_setattr=${errno}`)).toEqual([
          ['openTree = fd', `mountSetattr = -1 ${errno}`, 'moveMount', 'mount'],
          ['openTreeAttr = -1 ENOSYS', 'openTree = fd', 'moveMount', 'mount'],
          ['openTree = fd', 'moveMount', 'mount'],
        ]);
      }
      // EPERM is each bind's (a locked flag): each tries the call. A plan without CAP_SYS_ADMIN meets the kernel's own EPERM, which tells nothing of the run.
      const refusedEach = ['openTree = fd', 'mountSetattr = -1 EPERM', 'moveMount', 'mount'];
      expect(copyCalls('open_tree_attr=ENOSYS,mount_setattr=EPERM', [])).toEqual([refusedEach, ['openTreeAttr = -1 ENOSYS', ...refusedEach], refusedEach]);
      expect(copyCalls('open_tree_attr=ENOSYS,mount_setattr=EPERM')).toEqual([
        ['openTree = fd', 'mountSetattr', 'moveMount'],
        ['openTreeAttr = -1 ENOSYS', 'openTree = fd', 'mountSetattr', 'moveMount'],
        ['openTree = fd', 'mountSetattr', 'moveMount'],
      ]);
      // The first bind's refused open_tree(2) leaves every bind to mount(2) and a remount.
      expect(copyCalls('open_tree=ENOSYS,open_tree_attr=ENOSYS,mount_setattr=ENOSYS,fsopen=ENOSYS')).toEqual([
        ['openTree = -1 ENOSYS', 'mount', 'mount'],
        ['mount', 'mount'],
        ['mount', 'mount'],
      ]);
    } finally {
      b.cleanup();
    }
  });

  test('a seccomp filter answering mount_setattr(2) with EINVAL refuses every call, not only those 5.12 and 5.13 refuse (MOUNT_ATTR_NOSYMFOLLOW): an rro tmpfs ends the plan where the run ends, with the same line', () => {
    const config = bundleConfig();
    config.mounts.push({ destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['rro'] });
    const b = readableBundle(config);
    try {
      const refusing = [process.execPath, REFUSING, 'mount_setattr=EINVAL'];
      const line = `mountkit: mounts: plugin tmpfs mounts[3] "/t": mount_setattr ${JSON.stringify(path.join(b.dir, 'rootfs/t'))}: EINVAL\n`;
      const plan = runCli(['plan', '--bundle', b.dir], { prefix: refusing });
      expect([plan.status, plan.stderr]).toEqual([1, line]);
      const calls = plan.stdout.split('\n').filter((l) => l.includes('mountSetattr('));
      // The /mnt rbind's copy refused its flags (then remounted), and the rro tmpfs's recursive attributes, which 5.12 would take.
      expect(calls).toEqual([
        expect.stringMatching(/ bind mounts\[2\] "\/mnt" +mountSetattr\(\d+, "", AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, .*MOUNT_ATTR_NOSYMFOLLOW, 0\) = -1 EINVAL  # /),
        expect.stringMatching(/ tmpfs mounts\[3\] "\/t" +mountSetattr\(\d+, "", AT_EMPTY_PATH\|AT_RECURSIVE, MOUNT_ATTR_RDONLY, 0, 0\) = -1 EINVAL  # /),
      ]);
      // bin/mountkit, which seals Node's file with mount(8), not mount_setattr(2).
      const run = spawnSync(refusing[0], [...refusing.slice(1), LAUNCHER, 'run', '--bundle', b.dir], { encoding: 'utf8', timeout: 60_000 });
      expect([run.status, run.stderr]).toEqual([1, line]);
    } finally {
      b.cleanup();
    }
  });

  test('names that are not valid UTF-8 are planned with their bytes (a lone surrogate U+DC80+byte in JSON), as the run passes them', () => {
    const config = bundleConfig();
    config.mounts.push({ destination: '/work', type: 'tmpfs', source: 'tmpfs', options: ['tmpcopyup'] });
    const b = readableBundle(config);
    try {
      const work = Buffer.from(path.join(b.dir, 'rootfs/work/'));
      mkdirSync(work, { recursive: true });
      writeFileSync(Buffer.concat([work, Buffer.from([0x66, 0xff])]), 'x');
      symlinkSync(Buffer.from([0x74, 0xfe]), Buffer.concat([work, Buffer.from('lnk')]));
      const r = planAsNobody(b.dir, ['--format', 'json']);
      expect(r.stderr).toBe('');
      const calls = (JSON.parse(r.stdout) as { calls: { op: string; args: Record<string, unknown>; decoded?: Record<string, string> }[] }).calls;
      expect(calls.filter((c) => c.op === 'openat' && c.decoded?.flags.includes('O_CREAT')).map((c) => c.args.path)).toContain('f\udcff');
      expect(calls.find((c) => c.op === 'symlinkat')?.args.target).toBe('t\udcfe');
    } finally {
      b.cleanup();
    }
  });

  test('as nobody: the whole run, namespaces first, execve last, touching nothing', () => {
    const b = readableBundle(bundleConfig());
    try {
      const before = snapshot(b.dir);
      const mountinfo = readFileSync('/proc/self/mountinfo', 'utf8');
      const r = planAsNobody(b.dir);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const lines = r.stdout.trimEnd().split('\n');
      const relaunch = JSON.stringify(['unshare', '--pid', '--mount', '--uts', '--propagation', 'unchanged', '--', ...PID_NAMESPACE_PARENT]);
      expect(lines[0]).toMatch(/^ *0 {2}namespaces +launcher +cloexecFrom\(3\)$/);
      // The copy of stderr mountkit's messages go to (core/streams.ts keepStderr).
      expect(lines[1]).toMatch(/^ *1 {2}namespaces +launcher +dupCloexec\(2, 3\) = 100\b/);
      // The first process a child subreaper before anything is started for the relaunch (core/relaunch.ts becomeSubreaper).
      expect(lines[2]).toMatch(/^ *2 {2}namespaces +launcher +setChildSubreaper\(\)$/);
      expect(lines[3]).toMatch(/^ *3 {2}namespaces +launcher +relaunch\((.*)\)$/);
      expect(/relaunch\((.*)\)$/.exec(lines[3])?.[1]).toBe(relaunch);
      expect(lines.find((l) => / mounts +proc mounts\[0\] "\/proc" +mount\("proc", "\/proc\/thread-self\/fd\/\d+", "proc", 0, NULL\)  # \d+ = .*\/rootfs\/proc$/.test(l))).toBeDefined();
      expect(lines.find((l) => / jail +jail +pivotRoot\("\.", "\."\)$/.test(l))).toBeDefined();
      // HOME from the busybox rootfs's /etc/passwd: root's.
      expect(lines.at(-1)).toMatch(/ finalize +exec +execve\("\/bin\/sh", \["sh","-c","true"\], \["PATH=\/bin","HOME=\/root"\]\)$/);
      expect(snapshot(b.dir)).toEqual(before);
      expect(readFileSync('/proc/self/mountinfo', 'utf8')).toBe(mountinfo);
    } finally {
      b.cleanup();
    }
  });

  test("as nobody, a config without a user namespace (which nobody's own run refuses, exit 2): root's run planned, call for call", () => {
    const b = readableBundle(bundleConfig());
    try {
      const asRoot = runCli(['plan', '--bundle', b.dir]);
      const asNobody = planAsNobody(b.dir);
      expect([asNobody.status, asNobody.stderr]).toEqual([0, '']);
      expect(asNobody.stdout).toMatch(/ finalize +exec +setgroups\(\[\]\)\n/);
      expect(asNobody.stdout).toBe(asRoot.stdout);
    } finally {
      b.cleanup();
    }
  });

  test("--preserve-fds past the plan port's own first descriptor (100), with a relaunch: each passed one copied down to its number, the plan to the execve", () => {
    const b = makeBundle(bundleConfig());
    try {
      // The caller's 120 descriptors, 3 to 122, open as the run needs them.
      const r = runCli(['plan', '--preserve-fds', '120', '--bundle', b.dir], { prefix: ['bash', '-c', 'for fd in $(seq 3 122); do eval "exec $fd</dev/null"; done; exec "$@"', 'bash'] });
      expect([r.status, r.stderr]).toEqual([0, '']);
      const copies = r.stdout.split('\n').flatMap((l) => / finalize +exec +dup3\((\d+), (\d+), 0\)$/.exec(l)?.slice(1).map(Number) ?? []);
      const targets = copies.filter((_fd, i) => i % 2 === 1);
      expect(targets).toEqual(Array.from({ length: 120 }, (_fd, i) => 3 + i));
      // The relaunched process's copy of stderr lies on none of the numbers the handover copies from or to.
      const kept = [...r.stdout.matchAll(/ namespaces +launcher +dupCloexec\(2, 3\) = (\d+)/g)].map((m) => Number(m[1]));
      expect(kept).toHaveLength(2);
      expect(copies).not.toContain(kept[1]);
      expect(r.stdout.trimEnd().split('\n').at(-1)).toMatch(/ finalize +exec +execve\("\/bin\/sh", /);
    } finally {
      b.cleanup();
    }
  });

  test('--preserve-fds 100000000 past the descriptors open: the plan up to the run\'s refusal, then its line and status, through bin/mountkit and through the Node entry, looking no further than the first closed one', () => {
    const b = makeBundle(bundleConfig());
    try {
      // Nothing open from 3 up but what Node opens itself (started as the Node entry).
      const args = ['--preserve-fds', '100000000', '--bundle', b.dir];
      const launcher = (command: string) => {
        const r = spawnSync('bash', ['-c', 'for fd in $(seq 3 9); do eval "exec $fd<&-"; done; exec "$@"', 'bash', LAUNCHER, command, ...args], { encoding: 'utf8', timeout: 60_000 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
      };
      const node = (command: string) => runCli([command, ...args]);
      // The launcher sees the caller's 3 closed, and tells Node's plan, which has its own there by then.
      expect(launcher('run')).toEqual({ status: 2, stdout: '', stderr: 'mountkit: --preserve-fds 100000000: descriptor 3 is not open\n' });
      expect(launcher('plan')).toEqual({ status: 2, stdout: 'stops here: --preserve-fds 100000000: descriptor 3 is not open\n', stderr: launcher('run').stderr });
      // The Node entry counts Node's own descriptors as the caller's, plan as run; the plan ends where the run would, before any call.
      const ran = node('run');
      expect(ran).toEqual({ status: 2, stdout: '', stderr: expect.stringMatching(/^mountkit: --preserve-fds 100000000: descriptor \d+ is not open\n$/) });
      expect(node('plan')).toEqual({ status: 2, stdout: `stops here: ${ran.stderr.replace(/^mountkit: /, '')}`, stderr: ran.stderr });
    } finally {
      b.cleanup();
    }
  });

  test.each([
    ['/bin/sh', ['/bin/sh']],
    ['bash', ['bash']],
    ...(BUSYBOX ? [['busybox sh', [BUSYBOX, 'sh']]] : []),
  ])('bin/mountkit under %s, `plan --format json --preserve-fds 1` with descriptor 3 closed: the plan as JSON up to the run\'s refusal (complete false, the error), then its line and status', (_name, shell) => {
    const b = makeBundle(bundleConfig());
    try {
      const r = spawnSync('bash', ['-c', 'exec 3<&-; exec "$@"', 'bash', ...shell, LAUNCHER, 'plan', '--format', 'json', '--preserve-fds', '1', '--bundle', b.dir], { encoding: 'utf8', timeout: 60_000 });
      const line = 'mountkit: --preserve-fds 1: descriptor 3 is not open\n';
      expect([r.status, r.stderr]).toEqual([2, line]);
      expect(JSON.parse(r.stdout)).toMatchObject({ complete: false, calls: [], error: { name: 'ConfigError', message: '--preserve-fds 1: descriptor 3 is not open' } });
    } finally {
      b.cleanup();
    }
  });

  test('maskedPaths ["/"]: planned to the execve, as the run goes (the tmpfs on the root is not where a walk from the root goes; ".." from the root is)', () => {
    const config = bundleConfig({ process: { terminal: false, args: ['sh', '-c', 'ls /; echo ..; ls /..'], env: ['PATH=/bin'], cwd: '/' } });
    config.linux.maskedPaths = ['/'];
    const b = makeBundle(config);
    try {
      const r = runCli(['plan', '--bundle', b.dir]);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.find((l) => / finalize +masked-paths +mount\("tmpfs", "\/proc\/thread-self\/fd\/\d+", "tmpfs", MS_RDONLY, NULL\)  # \d+ = \/$/.test(l))).toBeDefined();
      expect(lines.at(-1)).toMatch(/ finalize +exec +execve\("\/bin\/sh", /);
      const ran = runMountkit(b.dir);
      expect([ran.status, ran.stderr]).toEqual([0, '']);
      const [root, above] = ran.stdout.split('..\n');
      expect(root.split('\n')).toEqual(expect.arrayContaining(['bin', 'etc', 'proc']));
      expect(above).toBe('');
    } finally {
      b.cleanup();
    }
  });

  test('a mount destination below a file of the rootfs: the plan ends where the run ends, with one line naming the file and the name looked up in it (ENOTDIR)', () => {
    const config = bundleConfig({
      process: { terminal: false, args: ['sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/' },
      root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/bin/busybox/sub/dir', type: 'tmpfs', source: 'tmpfs' },
      ],
    });
    const b = makeBundle(config);
    try {
      const expected = `mountkit: mounts: plugin tmpfs mounts[1] "/bin/busybox/sub/dir": openat2 "${path.join(b.dir, 'rootfs', 'bin', 'busybox')}": ENOTDIR (looking up "sub" in it)\n`;
      const planned = runCli(['plan', '--bundle', b.dir]);
      expect([planned.status, planned.stderr]).toEqual([1, expected]);
      expect(runMountkit(b.dir)).toEqual({ status: 1, stdout: '', stderr: expected });
    } finally {
      b.cleanup();
    }
  });

  test.each<[string, { cwd?: string; mounts?: Record<string, string>[] }, string]>([
    ['a mount whose destination must be made in it', { mounts: [{ destination: '/tmp', type: 'tmpfs', source: 'tmpfs' }] }, 'mounts: plugin tmpfs mounts[2] "/data/tmp": mkdirat "ROOTFS/data/tmp": EROFS'],
    ['the cwd made in it', { cwd: '/data/work' }, 'after-jail: plugin cwd: mkdirat "/data/work": EROFS'],
    [
      'a mount whose destination needs directories made in it: the first named, not the destination',
      { mounts: [{ destination: '/tmp/deep/er', type: 'tmpfs', source: 'tmpfs' }] },
      'mounts: plugin tmpfs mounts[2] "/data/tmp/deep/er": mkdirat "ROOTFS/data/tmp": EROFS',
    ],
    ['the cwd below a directory made in it: that directory named', { cwd: '/data/work/sub' }, 'after-jail: plugin cwd: mkdirat "/data/work": EROFS'],
  ])('a read-only bind and %s: the plan ends where the run ends, with its line (EROFS)', (_what, over, line) => {
    const source = mkdtempSync(path.join(tmpdir(), 'mountkit-ro-source-'));
    const config = bundleConfig({
      process: { terminal: false, args: ['sh', '-c', 'true'], env: ['PATH=/bin'], cwd: over.cwd ?? '/' },
      root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/data', type: 'bind', source, options: ['rbind', 'ro'] },
        ...(over.mounts ?? []).map((m) => ({ ...m, destination: `/data${m.destination}` })),
      ],
    });
    const b = makeBundle(config);
    try {
      const expected = `mountkit: ${line.replace('ROOTFS', path.join(b.dir, 'rootfs'))}\n`;
      const planned = runCli(['plan', '--bundle', b.dir]);
      expect([planned.status, planned.stderr]).toEqual([1, expected]);
      expect(runMountkit(b.dir)).toEqual({ status: 1, stdout: '', stderr: expected });
      expect(readdirSync(source)).toEqual([]);
    } finally {
      b.cleanup();
      rmSync(source, { recursive: true });
    }
  });

  test.each<[string, string, (source: string) => Record<string, unknown>[], string | undefined]>([
    [
      'an MS_REC bind of a host tree with a tmpfs mounted read-only below it, and a mount to make in that tmpfs: the copy is read-only (EROFS)',
      'mount -t tmpfs -o ro tmpfs "$SOURCE/ro"',
      (source) => [
        { destination: '/data', type: 'bind', source, options: ['rbind'] },
        { destination: '/data/ro/sub', type: 'tmpfs', source: 'tmpfs' },
      ],
      'mounts: plugin tmpfs mounts[3] "/data/ro/sub": mkdirat "ROOTFS/data/ro/sub": EROFS',
    ],
    [
      'a bind without MS_REC of that tree, and of the rootfs with a read-only bind made in it before, each with a mount to make in the place of the read-only one: each bind shows the writable directory under it',
      'mount -t tmpfs -o ro tmpfs "$SOURCE/ro"',
      (source) => [
        { destination: '/ro', type: 'bind', source: `${source}/empty`, options: ['bind', 'ro'] },
        { destination: '/data', type: 'bind', source, options: ['bind'] },
        { destination: '/data/ro/sub', type: 'tmpfs', source: 'tmpfs' },
        { destination: '/self', type: 'bind', source: 'rootfs', options: ['bind'] },
        { destination: '/self/ro/sub', type: 'tmpfs', source: 'tmpfs' },
      ],
      undefined,
    ],
    [
      "an MS_REC bind of a host tree with an unbindable read-only tmpfs below it: its copy in the run's mount namespace is not unbindable, and is copied, read-only (EROFS)",
      'mount -t tmpfs -o ro tmpfs "$SOURCE/ro"; mount --make-unbindable "$SOURCE/ro"',
      (source) => [
        { destination: '/data', type: 'bind', source, options: ['rbind'] },
        { destination: '/data/ro/sub', type: 'tmpfs', source: 'tmpfs' },
      ],
      'mounts: plugin tmpfs mounts[3] "/data/ro/sub": mkdirat "ROOTFS/data/ro/sub": EROFS',
    ],
    [
      'the rootfs on a noexec host mount: the program is not run (EACCES)',
      'mount --bind "$BUNDLE" "$BUNDLE"; mount -o remount,bind,noexec "$BUNDLE"',
      () => [],
      'finalize: plugin exec: execve "/bin/sh": EACCES',
    ],
  ])("the host's mounts as the plan finds them, %s: the plan ends where the run ends", (_what, setup, mounts, line) => {
    const source = mkdtempSync(path.join(tmpdir(), 'mountkit-host-tree-'));
    for (const d of ['ro', 'empty']) mkdirSync(path.join(source, d));
    const config = bundleConfig({
      process: { terminal: false, args: ['sh', '-c', 'true'], env: ['PATH=/bin'], cwd: '/' },
      root: { path: 'rootfs' },
      mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'mode=755'] }, ...mounts(source)],
    });
    const b = makeBundle(config);
    try {
      const { plan, run } = planAndRunOn(`SOURCE=${source} BUNDLE=${b.dir}\n${setup}`, b.dir);
      const expected = line === undefined ? '' : `mountkit: ${line.replace('ROOTFS', path.join(b.dir, 'rootfs'))}\n`;
      expect([plan.status, plan.stderr]).toEqual([line === undefined ? 0 : 1, expected]);
      expect([run.status, run.stderr]).toEqual([plan.status, expected]);
    } finally {
      b.cleanup();
      rmSync(source, { recursive: true });
    }
  });

  test.each<[string, string, Record<string, unknown>, boolean]>([
    ['linux.rootfsPropagation "shared", the host\'s mounts private: the mount holding the rootfs is shared then, made private', '', { rootfsPropagation: 'shared' }, true],
    ['the default rslave, the host\'s mounts shared: a slave then, left as it is', 'mount --make-rshared /', {}, false],
  ])("the rootfs's parent mount, as the plan reads mountinfo after the propagation call, as the run reads it: %s", (_what, setup, linux, privatized) => {
    const config = bundleConfig({ root: { path: 'rootfs' } });
    config.linux = { ...config.linux, ...linux };
    const b = makeBundle(config);
    try {
      const { plan, run } = planAndRunOn(setup, b.dir, ['--log-level', 'debug']);
      expect([plan.status, plan.stderr, run.status]).toEqual([0, '', 0]);
      const calls = plan.stdout.split('\n').filter((l) => / prepare-root +prepare-root +mount\(NULL, /.test(l)).map((l) => l.replace(/^.* prepare-root +/, ''));
      const parent = /making the rootfs parent mount private \{"mountpoint":"([^"]*)"\}/.exec(run.stderr)?.[1];
      expect(parent !== undefined).toBe(privatized);
      expect(calls.slice(1)).toEqual(privatized ? [`mount(NULL, "${parent}", NULL, MS_PRIVATE, NULL)`] : []);
    } finally {
      b.cleanup();
    }
  });

  test('JSON: the documented schema, phases in pipeline order, flags decoded, descriptors named', () => {
    const b = readableBundle(bundleConfig());
    try {
      const r = planAsNobody(b.dir, ['--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const plan = JSON.parse(r.stdout) as { version: number; bundle: string; rootfs: string; complete: boolean; error?: unknown; calls: JsonCall[] };
      expect(plan).toMatchObject({ version: 2, bundle: b.dir, rootfs: path.join(b.dir, 'rootfs'), complete: true });
      expect(plan.error).toBeUndefined();
      expect(plan.calls.map((c) => c.seq)).toEqual(plan.calls.map((_c, i) => i));
      const phases = [...new Set(plan.calls.map((c) => c.phase))];
      expect(phases).toEqual(['namespaces', ...PHASES.filter((p) => p !== 'before-jail')]);
      // The rbind of /etc: a copy of the source (with its submounts), its top mount made read-only (mount_setattr), attached onto the target's descriptor.
      const binds = plan.calls.filter((c) => c.plugin === 'bind' && ['openTree', 'mountSetattr', 'moveMount', 'mount'].includes(c.op));
      expect(binds.map((c) => [c.op, c.mountIndex, c.decoded?.flags ?? c.decoded?.attrSet])).toEqual([
        ['openTree', 2, 'OPEN_TREE_CLONE|OPEN_TREE_CLOEXEC|AT_RECURSIVE'],
        ['mountSetattr', 2, 'MOUNT_ATTR_RDONLY'],
        ['moveMount', 2, 'MOVE_MOUNT_F_EMPTY_PATH|MOVE_MOUNT_T_EMPTY_PATH'],
      ]);
      expect(binds[0].args.path).toBe('/etc');
      expect(binds[1].args).toMatchObject({ atFlags: 0x1000, attrSet: '0x1', attrClr: '0x20000e' });
      // The copy is named by where it was made until it is attached, by its place after.
      expect(Object.values(binds[1].fds ?? {})).toEqual(['/etc']);
      expect(Object.values(binds[2].fds ?? {}).sort()).toEqual([path.join(b.dir, 'rootfs', 'mnt'), '/etc'].sort());
      const closed = plan.calls.find((c) => c.plugin === 'bind' && c.op === 'close' && c.args.fd === binds[0].result);
      expect(Object.values(closed?.fds ?? {})).toEqual([path.join(b.dir, 'rootfs', 'mnt')]);
      expect(plan.calls.find((c) => c.op === 'sethostname')).toMatchObject({ phase: 'finalize', plugin: 'hostname', args: { name: 'planned' } });
      expect(plan.calls.find((c) => c.op === 'mknodat')).toMatchObject({ phase: 'dev', decoded: { mode: 'S_IFCHR|0666', dev: '1:3' } });
      expect(plan.calls.filter((c) => c.phase === 'after-jail' && c.op === 'mkdirat').map((c) => c.args.path)).toEqual(['work']);
      expect(plan.calls.at(-1)).toMatchObject({ phase: 'finalize', plugin: 'exec', op: 'execve', args: { path: '/bin/sh' } });
    } finally {
      b.cleanup();
    }
  });

  test("a user namespace's config, /sys bound from the host and a cgroup mount in it: the plan runs to the execve (a mount in a bind's tree leaves its source alone)", () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const config = bundleConfig({
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/sys', type: 'none', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] },
        { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
      ],
    });
    config.linux = { ...config.linux, namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'user' }], uidMappings: maps, gidMappings: maps };
    const b = readableBundle(config);
    try {
      // As root: a user other than root may map only its own ids.
      const r = runCli(['plan', '--bundle', b.dir]);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const lines = r.stdout.trimEnd().split('\n');
      // On a cgroup v1 host (as here) a tmpfs and a bind of each hierarchy, which used to fail; on a v2 host cgroup2 itself.
      expect(lines.some((l) => / mounts +cgroup mounts\[2\] "\/sys\/fs\/cgroup" +mount\("(tmpfs|cgroup)", /.test(l))).toBe(true);
      expect(lines.at(-1)).toMatch(/ finalize +exec +execve\("\/bin\/sh"/);
    } finally {
      b.cleanup();
    }
  });

  test("an idmapped bind with a user namespace: the bind handler asks, the first process's copy made under the mount (idmap-copy), received and attached", () => {
    const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
    const config = bundleConfig({ mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }, { destination: '/mnt', type: 'bind', source: '/etc', options: ['bind', 'idmap'] }] });
    config.linux = { ...config.linux, namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'user' }], uidMappings: maps, gidMappings: maps };
    const b = readableBundle(config);
    try {
      // As root: a user other than root may map only its own ids.
      const r = runCli(['plan', '--bundle', b.dir, '--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = (JSON.parse(r.stdout) as { calls: JsonCall[] }).calls;
      expect(calls.filter((c) => c.op === 'socketPair').map((c) => [c.phase, c.plugin])).toEqual([['namespaces', 'launcher']]);
      // Without the lookups and the target's making (the bundle's rootfs has no /mnt).
      expect(calls.filter((c) => c.mountIndex === 1 && !['openat2', 'openat', 'mkdirat', 'close', 'open', 'fstat'].includes(c.op)).map((c) => [c.plugin, c.op])).toEqual([
        ['bind', 'exchange'],
        // The relaunched process's pidfd, then into its mount namespace, and back (core/idmapped-tree.ts).
        ['idmap-copy', 'pidfdOpen'],
        ['idmap-copy', 'unshare'],
        ['idmap-copy', 'setns'],
        ['idmap-copy', 'openTree'],
        ['idmap-copy', 'mountSetattr'],
        ['idmap-copy', 'setns'],
        ['idmap-copy', 'fchdir'],
        ['idmap-copy', 'chroot'],
        ['idmap-copy', 'fchdir'],
        ['idmap-copy', 'sendFdMessage'],
        ['bind', 'recvFdMessage'],
        ['bind', 'moveMount'],
      ]);
      expect(calls.find((c) => c.op === 'openTree')?.args).toMatchObject({ path: '/etc' });
      // The namespace joined is the one of the process the pidfd holds.
      const pidfd = calls.find((c) => c.op === 'pidfdOpen');
      expect(pidfd?.result).toEqual(expect.any(Number));
      expect(calls.find((c) => c.plugin === 'idmap-copy' && c.op === 'setns')?.args).toEqual({ fd: pidfd?.result, nstype: CLONE_NEWNS });
      // Once the relaunch has ended: the idmap socket, the user namespace kept for the copies and the pidfd closed.
      const { socket, usernsFd } = { socket: calls.find((c) => c.plugin === 'idmap-copy' && c.op === 'sendFdMessage')!.args.socket, usernsFd: calls.find((c) => c.op === 'mountSetattr' && c.plugin === 'idmap-copy')!.args.usernsFd };
      expect(calls.filter((c) => c.phase === 'poststop').map((c) => [c.plugin, c.op, c.args.fd])).toEqual([
        ['idmap-copy', 'close', socket],
        ['idmap-copy', 'close', usernsFd],
        ['idmap-copy', 'close', pidfd?.result],
      ]);
      expect(calls.filter((c) => c.phase !== 'poststop').at(-1)).toMatchObject({ op: 'execve' });
    } finally {
      b.cleanup();
    }
  });

  test("a foreground console: the first process takes it when told the master is there (the master received, its socket closed, ONLCR off, the user's terminal looked for, the master non-blocking), before it answers; puts it back once the container has ended", () => {
    const config = bundleConfig({ process: { ...bundleConfig().process, terminal: true } });
    config.mounts.push({ destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620'] });
    const b = readableBundle(config);
    try {
      // Without a terminal: stdin, stdout and stderr are pipes, and no /dev/tty is there to open.
      const r = runCli(['plan', '--bundle', b.dir, '--format', 'json'], { prefix: ['setsid'] });
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = (JSON.parse(r.stdout) as { calls: JsonCall[] }).calls;
      const at = calls.findIndex((c) => c.op === 'exchange' && c.args.line === '{"event":"console"}\n');
      const taken = calls.filter((c) => c.plugin === 'console-relay' && c.phase === 'after-jail');
      expect(calls.slice(at + 1, at + 1 + taken.length)).toEqual(taken);
      // The first process's end of the socketpair: the other is passed on 6, its own copy of that closed.
      const socket = taken[0].args.socket;
      expect(calls.filter((c) => c.plugin === 'launcher' && c.op === 'close').map((c) => c.args.fd)).not.toContain(socket);
      const master = taken[0].result;
      expect(taken.map((c) => [c.op, c.args])).toEqual([
        ['recvFdMessage', { socket }],
        ['close', { fd: socket }],
        ['setTermios', { fd: master, termios: expect.any(Object) }],
        ['open', { path: '/dev/tty', flags: expect.any(Number), mode: 0 }],
        ['setNonBlocking', { fd: master }],
      ]);
      expect((taken[2].args.termios as { oflag: number }).oflag & ONLCR).toBe(0);
      expect(calls.filter((c) => c.phase === 'poststop').map((c) => [c.plugin, c.op, c.args])).toEqual([['console-relay', 'close', { fd: master }]]);
      expect(calls.filter((c) => c.phase !== 'poststop').at(-1)).toMatchObject({ op: 'execve' });
    } finally {
      b.cleanup();
    }
  });

  test("a foreground console that never comes (no devpts at /dev/pts: the console step fails first): the first process's socket closed once the relaunch has ended", () => {
    const b = readableBundle(bundleConfig({ process: { ...bundleConfig().process, terminal: true } }));
    try {
      const r = runCli(['plan', '--bundle', b.dir, '--format', 'json'], { prefix: ['setsid'] });
      expect(r.status).toBe(1);
      const calls = (JSON.parse(r.stdout) as { calls: JsonCall[] }).calls;
      expect(calls.filter((c) => c.plugin === 'console-relay').map((c) => [c.phase, c.op])).toEqual([['poststop', 'close']]);
      // The end of the socketpair the first process kept: not the one passed on, which it closed after the relaunch.
      const passedOn = calls.find((c) => c.plugin === 'launcher' && c.op === 'close')!.args.fd;
      expect(calls.at(-1)!.args.fd).toEqual(expect.any(Number));
      expect(calls.at(-1)!.args.fd).not.toBe(passedOn);
    } finally {
      b.cleanup();
    }
  });

  test('poststart and poststop hooks: what the first process runs once the container has started and ended, after the execve', () => {
    const hooks = { poststart: [{ path: '/bin/echo', args: ['echo', 'started'] }], poststop: [{ path: '/bin/echo', args: ['echo', 'stopped'], timeout: 5 }] };
    const b = readableBundle(bundleConfig({ hooks }));
    try {
      const r = planAsNobody(b.dir, ['--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = (JSON.parse(r.stdout) as { calls: JsonCall[] }).calls;
      const execve = calls.findIndex((c) => c.op === 'execve');
      const after = calls.slice(execve + 1).map((c) => {
        const cmd = c.args.cmd as { path: string; args: string[]; dir: string; stdin: string; timeoutMs?: number };
        return [c.phase, c.plugin, c.op, cmd.path, cmd.args, cmd.dir, (JSON.parse(cmd.stdin) as { status: string }).status, cmd.timeoutMs];
      });
      expect(after).toEqual([
        ['poststart', 'runtime-hooks', 'runCommandAsync', '/bin/echo', ['started'], b.dir, 'running', undefined],
        ['poststop', 'runtime-hooks', 'runCommand', '/bin/echo', ['stopped'], b.dir, 'stopped', 5000],
      ]);
      const text = planAsNobody(b.dir).stdout.trimEnd().split('\n');
      expect(text.slice(-2).map((l) => l.replace(/^ *\d+ +/, '').replace(/ +/g, ' '))).toEqual([
        'poststart runtime-hooks runCommandAsync(["echo","started"])',
        'poststop runtime-hooks runCommand(["echo","stopped"])',
      ]);
    } finally {
      b.cleanup();
    }
  });

  test('linux.seccomp: the filter the machine\'s libseccomp builds, as bytes and by length, loaded last before execve', () => {
    const seccomp = { defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', 'write', 'execve'], action: 'SCMP_ACT_ALLOW' }] };
    const base = bundleConfig();
    const b = readableBundle(bundleConfig({ process: { ...base.process, noNewPrivileges: true }, linux: { ...base.linux, seccomp } }));
    try {
      const r = planAsNobody(b.dir, ['--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = (JSON.parse(r.stdout) as { calls: JsonCall[] }).calls;
      const load = calls.filter((c) => c.op === 'seccompLoad');
      expect(load).toHaveLength(1);
      const bytes = (load[0].args.program as string).length / 2;
      // Each instruction is 8 bytes; the ENOSYS stub alone is 7, libseccomp's program more.
      expect(load[0].decoded).toEqual({ program: `${bytes / 8} instructions`, flags: 'SECCOMP_FILTER_FLAG_SPEC_ALLOW' });
      expect(bytes / 8).toBeGreaterThan(10);
      // With no_new_privs: last before execve but the exec event on the runtime channel (the plan lists effects; the program's lookup, a query, comes between).
      expect(calls.slice(calls.findIndex((c) => c.op === 'setNoNewPrivs')).map((c) => c.op)).toEqual(['setNoNewPrivs', 'cloexecFrom', 'prepareExec', 'seccompLoad', 'write', 'execve']);
    } finally {
      b.cleanup();
    }
  });

  test('the container\'s session as the run would make it: setsid after a relaunch even when the plan itself leads its process group; without one, the terminal given up', () => {
    // setsid(1) makes `mountkit plan` lead its session and group, as a command a terminal started first is.
    const relaunched = readableBundle(bundleConfig());
    const inPlace = readableBundle(bundleConfig({ linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }] } }));
    try {
      const session = (dir: string) => runCli(['plan', '--bundle', dir], { prefix: ['setsid', '--wait'] }).stdout.split('\n').filter((l) => / session /.test(l)).map((l) => l.replace(/^\s*\d+\s+/, '').replace(/\s+/g, ' '));
      expect(session(relaunched.dir)).toEqual(['prepare-root session setsid()']);
      // Without a controlling terminal here, /dev/tty answers ENXIO: nothing to give up.
      expect(session(inPlace.dir)).toEqual(['prepare-root session open("/dev/tty", O_RDWR|O_NOCTTY|O_CLOEXEC, 0000) = -1 ENXIO']);
    } finally {
      relaunched.cleanup();
      inPlace.cleanup();
    }
  });

  test('--no-pivot plans MS_MOVE and chroot instead of pivot_root, and the steps after it run in the moved rootfs to the execve', () => {
    const b = readableBundle(bundleConfig());
    try {
      const r = planAsNobody(b.dir, ['--no-pivot', '--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = JSON.parse(r.stdout).calls as JsonCall[];
      expect(calls.filter((c) => c.phase !== 'poststop').at(-1)).toMatchObject({ phase: 'finalize', op: 'execve', args: { path: '/bin/sh' } });
      const jail = calls.filter((c) => c.phase === 'jail');
      expect(jail.map((c) => c.op)).not.toContain('pivotRoot');
      expect(jail.find((c) => c.op === 'mount' && c.decoded?.flags === 'MS_MOVE')).toMatchObject({ args: { source: path.join(b.dir, 'rootfs'), target: '/' } });
      expect(jail.find((c) => c.op === 'chroot')).toMatchObject({ args: { path: '.' } });
    } finally {
      b.cleanup();
    }
  });

  test('namespaces joined by path: their files are opened (/proc/self/ns/* are links to nsfs files), the pid one before the relaunch, after which the thread goes back to its own', () => {
    const namespaces = [{ type: 'pid', path: '/proc/self/ns/pid' }, { type: 'mount' }, { type: 'uts' }, { type: 'network', path: '/proc/self/ns/net' }];
    const b = readableBundle(bundleConfig({ linux: { namespaces } }));
    try {
      const r = planAsNobody(b.dir, ['--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const calls = JSON.parse(r.stdout).calls as JsonCall[];
      expect(calls.slice(0, 16).map((c) => [c.op, c.decoded?.nstype ?? c.args.path ?? c.args.argv ?? ''])).toEqual([
        ['cloexecFrom', ''],
        ['dupCloexec', ''],
        ['setChildSubreaper', ''],
        ['open', '/proc/thread-self/ns/pid'],
        ['open', '/proc/self/ns/pid'],
        ['setns', 'CLONE_NEWPID'],
        ['close', ''],
        ['relaunch', ['unshare', '--mount', '--uts', '--propagation', 'unchanged', '--']],
        ['setns', 'CLONE_NEWPID'],
        ['close', ''],
        ['cloexecFrom', ''],
        ['dupCloexec', ''],
        ['setCloexec', ''],
        ['open', '/proc/self/ns/net'],
        ['setns', 'CLONE_NEWNET'],
        ['close', ''],
      ]);
      expect(calls[calls.length - 1].op).toBe('execve');
    } finally {
      b.cleanup();
    }
  });

  test('a step that would fail ends the plan: the calls up to it, the error on stderr, the exit status run would have', () => {
    const c = bundleConfig();
    c.mounts[2].source = '/nonexistent-source';
    const b = readableBundle(c);
    try {
      const r = planAsNobody(b.dir);
      expect(r.status).toBe(1);
      expect(r.stderr).toBe('mountkit: mounts: plugin bind mounts[2] "/mnt": bind source "/nonexistent-source" does not exist\n');
      const lines = r.stdout.trimEnd().split('\n');
      expect(lines.at(-1)).toBe('stops here: mounts: plugin bind mounts[2] "/mnt": bind source "/nonexistent-source" does not exist');
      expect(lines.some((l) => / mounts +proc mounts\[0\]/.test(l))).toBe(true);
      expect(lines.some((l) => / dev /.test(l))).toBe(false);
      const json = runCli(['plan', '--bundle', b.dir, '--format', 'json'], { prefix: AS_NOBODY });
      expect(JSON.parse(json.stdout)).toMatchObject({ complete: false, error: { name: 'PluginError', phase: 'mounts', plugin: 'bind', mountIndex: 2 } });
    } finally {
      b.cleanup();
    }
  });

  test('a configuration error is exit 2 and prints no plan', () => {
    const b = readableBundle(bundleConfig({ linux: { namespaces: [{ type: 'mount' }], sysctl: { 'net.ipv4.ip_forward': '1' } } }));
    try {
      const r = planAsNobody(b.dir);
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^mountkit: linux\.sysctl "net\.ipv4\.ip_forward": .*\n$/);
    } finally {
      b.cleanup();
    }
  });

  test('a mount whose destination the rootfs lacks: the lookup that fails with ENOENT shows its errno before the mkdirat that makes it, in JSON and in text; the calls that succeed show none', () => {
    const c = bundleConfig();
    c.mounts.push({ destination: '/ram', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'size=1m'] });
    const b = readableBundle(c);
    try {
      const rootfs = path.join(b.dir, 'rootfs');
      const json = planAsNobody(b.dir, ['--format', 'json']);
      expect([json.status, json.stderr]).toEqual([0, '']);
      const calls = (JSON.parse(json.stdout).calls as JsonCall[]).filter((call) => call.mountIndex === 3);
      // The rootfs's descriptor, open since the first mount.
      const root = Number(Object.keys(calls[0].fds ?? {})[0]);
      const [parent, target] = [calls[1].result, calls[3].result];
      expect(calls.map(({ op, args, result, errno, fds }) => ({ op, path: args.path ?? args.target, result, errno, fds }))).toEqual([
        { op: 'openat2', path: 'ram', result: undefined, errno: 'ENOENT', fds: { [root]: rootfs } },
        { op: 'openat2', path: '.', result: parent, errno: undefined, fds: { [root]: rootfs } },
        { op: 'mkdirat', path: 'ram', result: undefined, errno: undefined, fds: { [parent!]: rootfs } },
        { op: 'openat', path: 'ram', result: target, errno: undefined, fds: { [parent!]: rootfs } },
        { op: 'close', path: undefined, result: undefined, errno: undefined, fds: { [parent!]: rootfs } },
        { op: 'mount', path: `/proc/thread-self/fd/${target}`, result: undefined, errno: undefined, fds: { [target!]: `${rootfs}/ram` } },
        { op: 'close', path: undefined, result: undefined, errno: undefined, fds: { [target!]: `${rootfs}/ram` } },
      ]);
      // The key is there only for the call that failed.
      expect(calls.filter((call) => 'errno' in call).map((call) => call.op)).toEqual(['openat2']);
      const text = planAsNobody(b.dir);
      expect([text.status, text.stderr]).toEqual([0, '']);
      const lines = text.stdout.split('\n').filter((l) => l.includes(' tmpfs mounts[3] "/ram" '));
      const resolve = 'RESOLVE_NO_MAGICLINKS|RESOLVE_NO_SYMLINKS|RESOLVE_IN_ROOT';
      expect(lines.map((l) => l.replace(/^.* tmpfs mounts\[3\] "\/ram" +/, ''))).toEqual([
        `openat2(${root}, "ram", O_RDONLY|O_CLOEXEC|O_PATH, 0000, ${resolve}) = -1 ENOENT  # ${root} = ${rootfs}`,
        `openat2(${root}, ".", O_RDONLY|O_CLOEXEC|O_PATH, 0000, ${resolve}) = ${parent}  # ${root} = ${rootfs}`,
        `mkdirat(${parent}, "ram", 0755)  # ${parent} = ${rootfs}`,
        `openat(${parent}, "ram", O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_PATH, 0000) = ${target}  # ${parent} = ${rootfs}`,
        `close(${parent})  # ${parent} = ${rootfs}`,
        `mount("tmpfs", "/proc/thread-self/fd/${target}", "tmpfs", MS_NOSUID, "size=1m")  # ${target} = ${rootfs}/ram`,
        `close(${target})  # ${target} = ${rootfs}/ram`,
      ]);
    } finally {
      b.cleanup();
    }
  });

  test('--plugins: a third-party handler appears under its own name', () => {
    buildOverlayExample();
    const c = bundleConfig();
    c.mounts.push({ destination: '/data', type: 'overlay', source: 'overlay', options: ['lowerdir=layers/lower', 'upperdir=layers/upper', 'workdir=layers/work'] });
    const b = readableBundle(c);
    try {
      mkdirSync(path.join(b.dir, 'layers', 'lower'), { recursive: true });
      const before = snapshot(b.dir);
      const r = planAsNobody(b.dir, ['--plugins', OVERLAY_PLUGINS, '--format', 'json']);
      expect([r.status, r.stderr]).toEqual([0, '']);
      const overlay = (JSON.parse(r.stdout).calls as JsonCall[]).filter((call) => call.plugin === 'overlay');
      expect(overlay.every((call) => call.mountIndex === 3)).toBe(true);
      expect(overlay.filter((call) => call.op === 'mkdirat').map((call) => [Object.values(call.fds ?? {})[0], call.args.path])).toEqual([
        [path.join(b.dir, 'layers'), 'upper'],
        [path.join(b.dir, 'layers'), 'work'],
        [path.join(b.dir, 'rootfs'), 'data'],
      ]);
      expect(overlay.find((call) => call.op === 'mount')?.args).toMatchObject({
        source: 'overlay',
        fstype: 'overlay',
        data: `lowerdir=${b.dir}/layers/lower,upperdir=${b.dir}/layers/upper,workdir=${b.dir}/layers/work`,
      });
      expect(snapshot(b.dir)).toEqual(before);
    } finally {
      b.cleanup();
    }
  });
});
