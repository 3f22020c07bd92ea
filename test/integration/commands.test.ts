/**
 * runCommandAsync (src/cli/commands.ts): commands run for real from the first process,
 * promised, as the port's runCommand runs them waiting.
 */
import { runCommandAsync } from '../../src/cli/commands';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';

const sys = new LinuxSyscalls();
const sh = (script: string, over: Partial<Parameters<typeof runCommandAsync>[1]> = {}) => runCommandAsync(sys, { path: '/bin/sh', args: ['-c', script], env: ['A=1'], dir: '/tmp', ...over });

describe('runCommandAsync', () => {
  test('the status, stdout and stderr in one output in their order, the environment, directory and stdin given; the event loop runs meanwhile', async () => {
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const r = await sh('echo out; echo err >&2; echo "$A $(pwd)"; cat; sleep 0.2; exit 3', { stdin: 'state\n' });
      expect(r).toEqual({ status: 3, signal: null, output: 'out\nerr\n1 /tmp\nstate\n' });
      expect(ticks).toBeGreaterThan(5);
    } finally {
      clearInterval(timer);
    }
  });

  test('argv[0] as given; a timeout kills the command (SIGTERM, as runCommand); a command that does not read its stdin is fine', async () => {
    expect((await runCommandAsync(sys, { path: '/bin/sh', argv0: 'hook-name', args: ['-c', 'echo $0'], env: [], dir: '/' })).output).toBe('hook-name\n');
    expect(await sh('sleep 5', { timeoutMs: 100 })).toEqual({ status: null, signal: 'SIGTERM', output: '' });
    expect((await sh('exit 0', { stdin: 'x'.repeat(1 << 20) })).status).toBe(0);
  });

  test('what a command left running with its output does not hold the result back; a command that cannot start is its execve errno', async () => {
    // The sleep keeps the output socket open for 30 s, past the test's timeout: the result comes at the command's exit.
    const r = await sh('sleep 30 & echo "left $!"');
    const left = Number(/^left (\d+)$/.exec(r.output.trim())?.[1]);
    try {
      expect([r.status, r.output]).toEqual([0, `left ${left}\n`]);
    } finally {
      if (left > 0) process.kill(left, 'SIGKILL');
    }
    await expect(runCommandAsync(sys, { path: '/nonexistent/hook', args: [], env: [], dir: '/' })).rejects.toThrow('execve "/nonexistent/hook": ENOENT');
  });
});
