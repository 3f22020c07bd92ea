/**
 * LinuxSyscalls.runCommandAsync: commands run for real, promised, as runCommand runs
 * them waiting: the same results, the event loop free meanwhile.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { OUTPUT_KEPT } from '../../src/core/command-output';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';
import type { CommandSpec } from '../../src/core/syscalls/types';

const sys = new LinuxSyscalls();
const sh = (script: string, over: Partial<CommandSpec> = {}): CommandSpec => ({ path: '/bin/sh', args: ['-c', script], env: ['A=1'], dir: '/tmp', ...over });

describe('runCommandAsync', () => {
  test('the status, stdout and stderr in one output in their order, the environment, directory and stdin given, as runCommand gives them; the event loop runs meanwhile', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const cmd = sh('echo out; echo err >&2; echo "$A $(pwd)"; cat; sleep 0.2; exit 3', { stdin: 'state\n' });
      const r = await sys.runCommandAsync(cmd);
      expect(r).toEqual({ status: 3, signal: null, output: 'out\nerr\n1 /tmp\nstate\n' });
      expect(ticks).toBeGreaterThan(5);
      expect(sys.runCommand(cmd)).toEqual(r);
    } finally {
      clearInterval(timer);
    }
  });

  test('argv[0] as given; a timeout is SIGKILL, told as such, in both, even for a command that traps SIGTERM and would end with 0; a command that does not read its stdin is fine', async () => {
    expect((await sys.runCommandAsync({ path: '/bin/sh', argv0: 'hook-name', args: ['-c', 'echo $0'], env: [], dir: '/' })).output).toBe('hook-name\n');
    const slow = sh('trap "exit 0" TERM; echo started; sleep 5 & wait', { timeoutMs: 200 });
    const killed = { status: null, signal: 'SIGKILL', output: 'started\n', timedOut: true };
    expect(await sys.runCommandAsync(slow)).toEqual(killed);
    expect(sys.runCommand(slow)).toEqual(killed);
    expect((await sys.runCommandAsync(sh('exit 0', { stdin: 'x'.repeat(1 << 20) }))).status).toBe(0);
    expect(sys.runCommand(sh('exit 0', { stdin: 'x'.repeat(1 << 20) })).status).toBe(0);
  });

  test('an output past OUTPUT_KEPT is kept as its first and last halves, with the bytes between them counted, in both', async () => {
    // A line, three times what is kept in lines of 9 x, the last line, on stderr.
    const lines = (3 * OUTPUT_KEPT) / 16;
    const cmd = sh(`echo first; yes xxxxxxxxx | head -n ${lines}; echo last >&2; exit 1`);
    const r = await sys.runCommandAsync(cmd);
    expect(sys.runCommand(cmd)).toEqual(r);
    const written = 'first\n'.length + lines * 10 + 'last\n'.length;
    const [head, tail, ...rest] = r.output.split(`\n[${written - OUTPUT_KEPT} bytes left out]\n`);
    expect([r.status, rest, Buffer.byteLength(head), Buffer.byteLength(tail)]).toEqual([1, [], OUTPUT_KEPT / 2, OUTPUT_KEPT / 2]);
    expect(head).toMatch(/^first\n(xxxxxxxxx\n)+x*$/);
    expect(tail).toMatch(/^x*\n(xxxxxxxxx\n)+last\n$/);
  });

  test('the output is one file, not a pipe (README, deliberate differences), which its stdout and stderr write to the end of, as to a pipe: a command that opens it again with O_APPEND (>> /dev/stderr) adds to it; with O_TRUNC (> /dev/stderr) it empties it', async () => {
    const appending = sh('echo "first line"; echo second >> /dev/stderr; echo third >&2');
    const appended = { status: 0, signal: null, output: 'first line\nsecond\nthird\n' };
    expect(await sys.runCommandAsync(appending)).toEqual(appended);
    expect(sys.runCommand(appending)).toEqual(appended);
    // "first line\n" is cut, where a pipe would ignore O_TRUNC; what comes after is all there.
    const truncating = sh('echo "first line"; echo second > /dev/stderr; echo third >&2; exit 3');
    const truncated = { status: 3, signal: null, output: 'second\nthird\n' };
    expect(await sys.runCommandAsync(truncating)).toEqual(truncated);
    expect(sys.runCommand(truncating)).toEqual(truncated);
  });

  test('a timeout beyond what a Node timer holds (2^31-1 ms) is not taken as 1 ms', async () => {
    const cmd = sh('sleep 0.2; echo done', { timeoutMs: 2147484 * 1000 });
    expect(await sys.runCommandAsync(cmd)).toEqual({ status: 0, signal: null, output: 'done\n' });
  });

  test('a command that cannot start leaves no timer behind: the process ends at once, not at the timeout', () => {
    const script = [
      "const { LinuxSyscalls } = require('./src/core/syscalls/linux');",
      "new LinuxSyscalls().runCommandAsync({ path: '/nonexistent/hook', args: [], env: [], dir: '/', timeoutMs: 60000 }).catch((e) => process.stdout.write(e.message));",
    ].join('\n');
    const started = Date.now();
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'helpers', 'ts-register.js'), '-e', script], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
    expect([r.signal, r.stdout]).toEqual([null, 'execve "/nonexistent/hook": ENOENT']);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test('standard input is a file holding stdin, which /dev/stdin opens (a socket would be ENXIO), read from its start, large or empty', async () => {
    const state = `{"id":"${'s'.repeat(300 * 1024)}"}`;
    const cmd = sh('[ -f /dev/stdin ] && echo file; wc -c </dev/stdin; wc -c', { stdin: state });
    const expected = { status: 0, signal: null, output: `file\n${state.length}\n${state.length}\n` };
    expect(await sys.runCommandAsync(cmd)).toEqual(expected);
    expect(sys.runCommand(cmd)).toEqual(expected);
    expect(sys.runCommand(sh('wc -c </dev/stdin'))).toEqual({ status: 0, signal: null, output: '0\n' });
  });

  test('what a command leaves running neither holds the result back nor loses its output file: it goes on writing; a command that closes its output early is fine; one that cannot start is its execve errno', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-commands-'));
    try {
      const mark = path.join(dir, 'alive');
      // The background writer outlives the result: it writes to the output after the command's exit, then leaves a mark.
      const r = await sys.runCommandAsync(sh(`(sleep 0.3; echo late; echo alive >${mark}) & echo left`));
      expect([r.status, r.output]).toEqual([0, 'left\n']);
      for (let i = 0; i < 100 && !existsSync(mark); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(existsSync(mark)).toBe(true);
      expect(await sys.runCommandAsync(sh('echo first; exec >/dev/null 2>&1; sleep 0.1; echo gone'))).toEqual({ status: 0, signal: null, output: 'first\n' });
      await expect(sys.runCommandAsync({ path: '/nonexistent/hook', args: [], env: [], dir: '/' })).rejects.toThrow('execve "/nonexistent/hook": ENOENT');
      // A working directory that is gone (a bundle removed meanwhile) is named, not the program.
      const gone = path.join(dir, 'gone');
      const cwdGone = `chdir "${gone}": ENOENT (the command's working directory)`;
      await expect(sys.runCommandAsync({ ...sh('true'), dir: gone })).rejects.toThrow(cwdGone);
      expect(() => sys.runCommand({ ...sh('true'), dir: gone })).toThrow(cwdGone);
      await expect(sys.runCommandAsync({ ...sh('true'), via: 3 })).rejects.toThrow('execve "/bin/sh": EINVAL');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('runCommand and runCommandAsync of a command given by path: posix_spawn(3), not a fork of this process', () => {
  /** `script` in a fresh Node (no Jest around it), with `sys` a LinuxSyscalls there: its stdout. */
  const inFreshNode = (script: string): string => {
    const prelude = "const { LinuxSyscalls } = require('./src/core/syscalls/linux');\nconst sys = new LinuxSyscalls();\n";
    const r = spawnSync(process.execPath, ['-r', path.join(__dirname, '..', 'helpers', 'ts-register.js'), '-e', prelude + script], { cwd: path.join(__dirname, '..', '..'), encoding: 'utf8', timeout: 30_000, killSignal: 'SIGKILL' });
    expect([r.status, r.signal, r.stderr]).toEqual([0, null, '']);
    return r.stdout;
  };

  test("started without Node's child_process, which one given by name still takes (libuv searches PATH in the command's own environment)", () => {
    const script = [
      "const loaded = () => process.moduleLoadList.includes('NativeModule child_process');",
      "const byPath = sys.runCommand({ path: '/bin/sh', args: ['-c', 'echo $0'], argv0: 'hook', env: [], dir: '/' });",
      'const after = loaded();',
      "const byName = sys.runCommand({ path: 'sh', args: ['-c', 'echo $PATH'], env: ['PATH=/usr/bin:/bin'], dir: '/' });",
      'process.stdout.write(JSON.stringify([byPath.output, after, byName.output, loaded()]));',
    ].join('\n');
    expect(JSON.parse(inFreshNode(script))).toEqual(['hook\n', false, '/usr/bin:/bin\n', true]);
  });

  test("runCommandAsync: started without Node's child_process too, its end looked for at SIGCHLD (a listener while it runs, gone after), one given by name through Node's spawn", () => {
    const script = [
      "const loaded = () => process.moduleLoadList.includes('NativeModule child_process');",
      '(async () => {',
      "  const running = sys.runCommandAsync({ path: '/bin/sh', args: ['-c', 'echo $0; exit 3'], argv0: 'hook', env: [], dir: '/' });",
      "  const listening = process.listenerCount('SIGCHLD');",
      '  const byPath = await running;',
      "  const after = [loaded(), process.listenerCount('SIGCHLD')];",
      "  const byName = await sys.runCommandAsync({ path: 'sh', args: ['-c', 'echo $PATH'], env: ['PATH=/usr/bin:/bin'], dir: '/' });",
      '  process.stdout.write(JSON.stringify([byPath, listening, after, byName.output, loaded()]));',
      '})();',
    ].join('\n');
    expect(JSON.parse(inFreshNode(script))).toEqual([{ status: 3, signal: null, output: 'hook\n' }, 1, [false, 0], '/usr/bin:/bin\n', true]);
  });

  test('runCommandAsync: a child another wait reaped first (a SIGCHLD listener before its own reaping every child) fails with waitid\'s ECHILD, killing nothing (its pid may be another process\'s by then)', () => {
    const script = [
      "const koffi = require('koffi');",
      "const waitpid = koffi.load('libc.so.6').func('int waitpid(int pid, _Out_ int *status, int options)');",
      // WNOHANG (1): every ended child of this process, whoever started it.
      'process.on(\'SIGCHLD\', () => { while (waitpid(-1, [0], 1) > 0); });',
      '(async () => {',
      "  const outcome = await sys.runCommandAsync({ path: '/bin/sh', args: ['-c', 'sleep 0.2'], env: [], dir: '/' }).then(() => 'resolved', (e) => e.message);",
      '  process.stdout.write(JSON.stringify(outcome));',
      '})();',
    ].join('\n');
    expect(JSON.parse(inFreshNode(script))).toMatch(/^waitid "\/proc\/\d+": ECHILD/);
  });

  test("runCommandAsync's child is passed over by the reaper of this process's other children (cli/orphans.ts), which runs at the same SIGCHLD", () => {
    const script = [
      "const { reapOrphans } = require('./src/cli/orphans');",
      '(async () => {',
      '  const warned = [];',
      '  const reaper = reapOrphans(sys, (m) => warned.push(m));',
      "  const r = await sys.runCommandAsync({ path: '/bin/sh', args: ['-c', 'sleep 0.2; exit 3'], env: [], dir: '/' });",
      '  reaper.stop();',
      '  process.stdout.write(JSON.stringify([r, warned]));',
      '})();',
    ].join('\n');
    expect(JSON.parse(inFreshNode(script))).toEqual([{ status: 3, signal: null, output: '' }, []]);
  });

  test("every signal at its default disposition and none blocked, as libuv starts one: those Node ignores (SIGPIPE), catches, or glibc keeps for itself (32 and 33) too; the same through Node's spawnSync", () => {
    const status = 'grep -E "^Sig(Blk|Ign)" /proc/self/status';
    const script = [
      "process.on('SIGUSR2', () => undefined);",
      `const cmd = (path) => ({ path, args: ['-c', ${JSON.stringify(status)}], env: ['PATH=/bin'], dir: '/' });`,
      '(async () => {',
      "  const outputs = [sys.runCommand(cmd('/bin/sh')), sys.runCommand(cmd('sh')), await sys.runCommandAsync(cmd('/bin/sh'))].map((r) => r.output);",
      '  process.stdout.write(JSON.stringify(outputs));',
      '})();',
    ].join('\n');
    const none = 'SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n';
    expect(JSON.parse(inFreshNode(script))).toEqual([none, none, none]);
  });

  test('its result as before: a status, a signal by its name, a timeout, a program or directory that cannot be used', () => {
    expect(sys.runCommand(sh('echo "$A $(pwd)"; cat; exit 4', { stdin: 'in\n' }))).toEqual({ status: 4, signal: null, output: '1 /tmp\nin\n' });
    expect(sys.runCommand(sh('kill -USR1 $$'))).toEqual({ status: null, signal: 'SIGUSR1', output: '' });
    const started = Date.now();
    expect(sys.runCommand(sh('trap "" TERM; sleep 5', { timeoutMs: 100 }))).toEqual({ status: null, signal: 'SIGKILL', output: '', timedOut: true });
    expect(Date.now() - started).toBeLessThan(4000);
    expect(() => sys.runCommand({ path: '/etc/passwd', args: [], env: [], dir: '/' })).toThrow('execve "/etc/passwd": EACCES');
  });

  test("a start refused EPERM (a seccomp filter refusing clone3(2), which glibc's posix_spawn tries first, with it) falls back to Node's fork", () => {
    const script = [
      // SCMP_ACT_ALLOW by default; clone3 SECCOMP_RET_ERRNO with EPERM (1). Loaded on the main thread, which starts commands.
      "const filter = { defaultAction: 0x7fff0000, architectures: [], rules: [{ syscall: 'clone3', action: 0x00050000 | 1, args: [], field: 'test' }], binaryTree: false, names: ['clone3'] };",
      'sys.setNoNewPrivs();',
      'sys.seccompLoad(sys.seccompCompile(filter).program, 0);',
      "const cmd = { path: '/bin/sh', args: ['-c', 'echo ran'], env: [], dir: '/' };",
      '(async () => {',
      "  const outputs = [sys.runCommand(cmd), await sys.runCommandAsync(cmd)].map((r) => r.output);",
      "  process.stdout.write(JSON.stringify([outputs, process.moduleLoadList.includes('NativeModule child_process')]));",
      '})();',
    ].join('\n');
    expect(JSON.parse(inFreshNode(script))).toEqual([['ran\n', 'ran\n'], true]);
  });

  test('a file in no binary format (a script without its #! line) runs with /bin/sh given the file, argv[0] dropped, as execvp(3) runs it for Node: the same in runCommandAsync', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mountkit-noexec-'));
    try {
      const script = path.join(dir, 'script');
      writeFileSync(script, 'echo "$0 $*"\n', { mode: 0o755 });
      const cmd: CommandSpec = { path: script, argv0: 'hook', args: ['a', 'b'], env: [], dir: '/' };
      const ran = { status: 0, signal: null, output: `${script} a b\n` };
      expect(sys.runCommand(cmd)).toEqual(ran);
      expect(await sys.runCommandAsync(cmd)).toEqual(ran);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
