/**
 * The class of CVE-2019-5736: a container whose program is `#!/proc/self/exe` runs the
 * file of the Node that executed it, and its root may open that file for writing once no
 * process runs it. mountkit's Node that executes the program runs from a read-only,
 * detached copy of its file (core/sealed-node.ts), under bin/mountkit and the Node entry,
 * with or without a pid namespace: the program finds its /proc/self/exe on a read-only
 * mount (faccessat W_OK: EROFS), and one that keeps a descriptor of it until every Node
 * running it has ended is refused its write-open (EROFS) where, from Node's own file, it
 * is given one. Nothing is ever written: an append-open writes nothing. bin/mountkit, as
 * root, starts its Node from a read-only bind of node's file instead (launcher-seal.test.ts),
 * which needs no mount_setattr(2). On a kernel without mount_setattr(2) a Node that would
 * copy its file copies its bytes into a sealed memfd instead; without memfd_create(2)
 * too it goes on, warned; a refusal of another kind ends the run.
 */
import { spawn, spawnSync } from 'child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, ROOTLESS_ID, busyboxConfig, hostUsrLinks, removeRootlessInstall, rootlessLauncher, withBundle, withBundleAsync, withHostUsr } from '../conformance/harness';
import { BIN, LAUNCHER } from '../helpers/cli';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('run tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

/** Runs its arguments under a seccomp filter answering each syscall its first argument names (NAME=ERRNO, comma-separated) with that errno. */
const REFUSING = path.join(__dirname, '..', 'helpers', 'refusing-syscalls.js');
const REFUSE_SEAL_CALLS = path.join(__dirname, '..', 'helpers', 'refuse-seal-calls.js');

/**
 * The program: Node again (its interpreter is /proc/self/exe), saying whether the
 * container's root may write that file, or `memfd` where it is a copy in memory (whose
 * link reads /memfd:NAME (deleted)), which the access check finds writable.
 */
const PROBE = `#!/proc/self/exe
const fs = require('fs');
let verdict = 'writable';
try {
  fs.accessSync('/proc/self/exe', fs.constants.W_OK);
} catch (err) {
  verdict = err.code;
}
if (fs.readlinkSync('/proc/self/exe').startsWith('/memfd:')) verdict = 'memfd';
console.log(verdict);
`;

/**
 * The program as an attack: Node again, it opens /proc/self/exe read-only and hands the
 * descriptor (3) to a shell of its own session, which waits until this Node and its
 * parent (when that runs the same file) have ended, then append-opens the descriptor's
 * file through /proc (writing nothing) and says what it got. It says "holding" once the
 * shell runs.
 */
const ATTACK = attack('if ( : >>/proc/self/fd/3 ) 2>/dev/null; then echo opened for writing; else ( : >>/proc/self/fd/3 ) 2>&1; fi');

/** The attack that writes one byte once it has the file open (the program /attack-write), run only against a copy of node. */
const WRITE_ATTACK = attack('if ( echo x >>/proc/self/fd/3 ) 2>/dev/null; then echo written; else ( echo x >>/proc/self/fd/3 ) 2>&1; fi');

/** The attack program whose shell runs `act` once it may. */
function attack(act: string): string {
  return `#!/proc/self/exe
const fs = require('fs');
const { spawn } = require('child_process');
const exe = fs.openSync('/proc/self/exe', 'r');
const wait = 'while [ -e /proc/$1 ] || [ /proc/$2/exe -ef /proc/self/fd/3 ]; do sleep 0.05; done';
const act = ${JSON.stringify(act)};
spawn('/bin/sh', ['-c', wait + '; ' + act, 'sh', String(process.pid), String(process.ppid)], { stdio: ['ignore', 'inherit', 'inherit', exe], detached: true }).unref();
console.log('holding');
`;
}

/** A busybox bundle running `program` (/probe, /attack or /attack-write), with the host's /usr read-only for Node's libraries, and `namespaces`. */
function nodeConfig(program: string, namespaces: object[], over: Record<string, unknown> = {}): Record<string, any> {
  return withHostUsr(busyboxConfig([program], { linux: { namespaces }, ...over }));
}

/** Puts the programs and the links to /usr's libraries (a merged /usr's) into the bundle's rootfs. */
function addPrograms(dir: string): void {
  const rootfs = path.join(dir, 'rootfs');
  hostUsrLinks(rootfs);
  writeFileSync(path.join(rootfs, 'probe'), PROBE, { mode: 0o755 });
  writeFileSync(path.join(rootfs, 'attack'), ATTACK, { mode: 0o755 });
  writeFileSync(path.join(rootfs, 'attack-write'), WRITE_ATTACK, { mode: 0o755 });
  chmodSync(dir, 0o711);
}

/** `command` run with the bundle made of `config` (and `env`), its status and output; killed after 20 s. */
function runBundle(config: object, command: (dir: string) => string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; stdout: string; stderr: string } {
  return withBundle(config, (dir) => {
    addPrograms(dir);
    const [file, ...args] = command(dir);
    const r = spawnSync(file, args, { env, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  });
}

const PID = [{ type: 'pid' }, { type: 'mount' }];
const NO_PID = [{ type: 'mount' }];
const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];

maybe("the Node that executes the container's program runs from a read-only copy of its file", () => {
  afterAll(removeRootlessInstall);

  test.each([
    ["bin/mountkit, a pid namespace (its Node, PID 1 there, started from node's file bound read-only in a throwaway namespace)", LAUNCHER, PID, {}, 'EROFS'],
    ["bin/mountkit, no pid namespace (its own process, which becomes Node, started from node's file bound read-only in a throwaway namespace)", LAUNCHER, NO_PID, {}, 'EROFS'],
    ["the Node entry, a pid namespace (the relaunch started from the first process's copy)", BIN, PID, {}, 'EROFS'],
    ['the Node entry, no pid namespace (its process re-executed once it has read the config)', BIN, NO_PID, {}, 'EROFS'],
    ["the Node entry, a user namespace whose root is host id 100000 (no write permission, the copy's read-only too)", BIN, [...PID, { type: 'user' }], { uidMappings: MAPS, gidMappings: MAPS }, 'EACCES'],
    ["bin/mountkit, a user namespace whose root is host id 100000 (its Node started through setpriv, unsealed: no write permission, nothing to seal)", LAUNCHER, [...PID, { type: 'user' }], { uidMappings: MAPS, gidMappings: MAPS }, 'EACCES'],
  ])('%s: the program (#!/proc/self/exe) may not write its /proc/self/exe', (_what, entry, namespaces, linux, verdict) => {
    const config = nodeConfig('/probe', namespaces);
    Object.assign(config.linux, linux);
    const r = runBundle(config, (dir) => (entry === BIN ? [process.execPath, BIN, 'run', '--bundle', dir] : [LAUNCHER, 'run', '--bundle', dir]));
    expect(r).toEqual({ status: 0, stdout: `${verdict}\n`, stderr: '' });
  });

  /**
   * The attack `program` run by the Node entry without a pid namespace, from a copy of
   * node that no other process runs (a running file refuses a write-open with ETXTBSY,
   * this test's own Node among them), so that the program's shell outlives it; `wrap`, a
   * helper that starts the rest (a seccomp filter's). The first process is killed once the
   * shell runs: the Node that runs the same file until the run ends. What the program and
   * its shell said.
   */
  async function attacked(program: string, wrap: string[] = []): Promise<string> {
    const own = mkdtempSync(path.join(tmpdir(), 'mountkit-node-'));
    try {
      const node = path.join(own, 'node');
      copyFileSync(process.execPath, node);
      chmodSync(node, 0o755);
      return await withBundleAsync(nodeConfig(program, NO_PID), (dir) => {
        addPrograms(dir);
        return new Promise<string>((resolve, reject) => {
          const argv = [...wrap, node, BIN, 'run', '--bundle', dir];
          const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
          let text = '';
          const stop = setTimeout(() => child.kill('SIGKILL'), 20_000);
          child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
            text += chunk;
            if (text === 'holding\n') child.kill('SIGKILL');
          });
          child.on('error', reject);
          child.stdout.on('close', () => {
            clearTimeout(stop);
            resolve(text);
          });
        });
      });
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  }

  test('an attack: a descriptor of /proc/self/exe kept until no process runs that file is refused its write-open (EROFS)', async () => {
    expect(await attacked('/attack')).toMatch(/^holding\nsh: .*can't create \/proc\/self\/fd\/3: Read-only file system\n$/);
  });

  // A memfd opens for writing; its F_SEAL_WRITE refuses the write itself.
  test('the same attack on a kernel without mount_setattr(2) (ENOSYS), writing a byte: the sealed memfd refuses it (EPERM)', async () => {
    expect(await attacked('/attack-write', [process.execPath, REFUSING, 'mount_setattr=ENOSYS'])).toBe('holding\nsh: write error: Operation not permitted\n');
  });

  test.each([
    ['bin/mountkit (its Node re-executed in the user namespace it made)', 'launcher'],
    ["the Node entry (the first process may not make the copy, EPERM: the relaunch re-executes itself, keeping what it was given)", 'entry'],
  ])("rootless, with a node the user owns (as nvm installs it), which the container's root, that user, could write: %s", (_what, entry) => {
    const own = mkdtempSync(path.join(tmpdir(), 'mountkit-node-'));
    try {
      chmodSync(own, 0o755);
      const node = path.join(own, 'node');
      copyFileSync(process.execPath, node);
      spawnSync('chown', [`${ROOTLESS_ID}:${ROOTLESS_ID}`, node]);
      const launcher = rootlessLauncher();
      const maps = [{ containerID: 0, hostID: ROOTLESS_ID, size: 1 }];
      const config = nodeConfig('/probe', [...PID, { type: 'user' }]);
      Object.assign(config.linux, { uidMappings: maps, gidMappings: maps });
      const asUser = ['setpriv', `--reuid=${ROOTLESS_ID}`, `--regid=${ROOTLESS_ID}`, '--clear-groups', 'env', `PATH=${own}:${process.env.PATH ?? '/usr/bin:/bin'}`];
      const r = runBundle(config, (dir) => {
        spawnSync('chown', ['-R', `${ROOTLESS_ID}:${ROOTLESS_ID}`, dir]);
        return entry === 'launcher' ? [...asUser, launcher, 'run', '--bundle', dir] : [...asUser, node, path.join(path.dirname(launcher), 'mountkit.js'), 'run', '--bundle', dir];
      });
      expect(r).toEqual({ status: 0, stdout: 'EROFS\n', stderr: '' });
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  });

  /**
   * The probe's bundle run by `entry` under a seccomp filter answering what `refused`
   * names (NAME=ERRNO; with REFUSE_SEAL_CALLS as `helper`, an errno for mount_setattr(2)
   * and memfd_create(2)), with a mount(8) first in PATH that fails (bin/mountkit's seal
   * then does not bind node's file, and its Node re-executes itself).
   */
  function refusingRun(refused: string, entry: string, namespaces: object[] = PID, helper = REFUSING): { status: number | null; stdout: string; stderr: string } {
    const own = mkdtempSync(path.join(tmpdir(), 'mountkit-mount-'));
    try {
      writeFileSync(path.join(own, 'mount'), '#!/bin/sh\nexit 32\n', { mode: 0o755 });
      const env = { ...process.env, PATH: `${own}:${process.env.PATH}` };
      return runBundle(nodeConfig('/probe', namespaces), (dir) => [process.execPath, helper, refused, ...(entry === BIN ? [process.execPath, BIN] : [LAUNCHER]), 'run', '--bundle', dir], env);
    } finally {
      rmSync(own, { recursive: true, force: true });
    }
  }

  // The seal binds with mount(2) (util-linux mount(8)), so Node needs no copy of its own.
  test.each([
    ['a pid namespace', PID],
    ['no pid namespace', NO_PID],
  ])('bin/mountkit on a kernel without mount_setattr(2) (ENOSYS), %s: its Node, started from the read-only bind, is not re-executed, and nothing is warned', (_what, namespaces) => {
    const r = runBundle(nodeConfig('/probe', namespaces), (dir) => [process.execPath, REFUSING, 'mount_setattr=ENOSYS', LAUNCHER, 'run', '--bundle', dir]);
    expect(r).toEqual({ status: 0, stdout: 'EROFS\n', stderr: '' });
  });

  // Sealed by the launcher in the user namespace it makes: its Node needs no copy, and ENOSYS is not seen.
  test('bin/mountkit, a user namespace it makes with maps taking host ids 0 to 65535, on a kernel without mount_setattr(2) (ENOSYS): EROFS, nothing warned', () => {
    const maps = [{ containerID: 0, hostID: 0, size: 65536 }];
    const config = nodeConfig('/probe', [...PID, { type: 'user' }]);
    Object.assign(config.linux, { uidMappings: maps, gidMappings: maps });
    const r = runBundle(config, (dir) => [process.execPath, REFUSING, 'mount_setattr=ENOSYS', LAUNCHER, 'run', '--bundle', dir]);
    expect(r).toEqual({ status: 0, stdout: 'EROFS\n', stderr: '' });
  });

  test.each([
    ['bin/mountkit whose seal could not bind (a mount(8) that fails): its Node re-executes itself', LAUNCHER, PID],
    ['bin/mountkit without a pid namespace whose seal could not bind: its Node re-executes itself', LAUNCHER, NO_PID],
    ['the Node entry, a pid namespace: its relaunch is started from the copy', BIN, PID],
    ['the Node entry, no pid namespace: its process re-executes itself once it has read the config', BIN, NO_PID],
  ])('a kernel without mount_setattr(2) (ENOSYS), %s: from a sealed copy of node in memory (memfd), nothing warned', (_what, entry, namespaces) => {
    expect(refusingRun('mount_setattr=ENOSYS', entry, namespaces)).toEqual({ status: 0, stdout: 'memfd\n', stderr: '' });
  });

  test.each([
    ['bin/mountkit whose seal could not bind (a mount(8) that fails): its Node', LAUNCHER, NO_PID],
    ['the Node entry, no pid namespace', BIN, NO_PID],
  ])('a kernel without mount_setattr(2) or memfd_create(2) (ENOSYS for both), %s: the run goes on from Node\'s own file, warned', (_what, entry, namespaces) => {
    expect(refusingRun('ENOSYS', entry, namespaces, REFUSE_SEAL_CALLS)).toEqual({
      status: 0,
      stdout: 'writable\n',
      stderr: expect.stringMatching(/^mountkit warn: this kernel has neither open_tree\(2\) and mount_setattr\(2\) \(Linux 5\.12\) nor memfd_create\(2\) \(3\.17\): .*CVE-2019-5736.*\n$/),
    });
  });

  test.each([
    ['bin/mountkit whose seal could not bind (a mount(8) that fails)', LAUNCHER],
    ['the Node entry', BIN],
  ])('%s: mount_setattr(2) refused otherwise (EPERM): the run ends with the one-line error, the program not started', (_what, entry) => {
    const r = refusingRun('mount_setattr=EPERM', entry);
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^mountkit: running Node from a read-only copy of its file, which the container may not write \(CVE-2019-5736\): mount_setattr .*: EPERM\n$/);
  });
});
