/**
 * OCI hooks run by `mountkit run` for real, beside runc 1.1.5 where the two agree: how
 * much of a failing hook's output its message keeps, and what a hook file must be.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { OUTPUT_KEPT } from '../../src/core/command-output';
import { BUSYBOX, RUNC, busyboxConfig as config, withBundle, runMountkit, runRunc } from '../conformance/harness';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('hook runs need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

maybe('hooks under mountkit run', () => {
  test.each(['prestart', 'createContainer', 'startContainer'])(
    "a failing %s hook's output past OUTPUT_KEPT: the run's one line keeps its start and its end, and counts the bytes between (the prestart hook's result crosses the runtime channel)",
    (kind) => {
      const lines = (3 * OUTPUT_KEPT) / 16;
      const c = config(['true']);
      c.hooks = { [kind]: [{ path: '/bin/sh', args: ['sh', '-c', `echo first; yes xxxxxxxxx | head -n ${lines}; echo last >&2; exit 3`] }] };
      const r = withBundle(c, (dir) => runMountkit(dir));
      const written = 'first\n'.length + lines * 10 + 'last\n'.length;
      expect([r.status, r.stdout]).toEqual([1, '']);
      expect(r.stderr.split('\n')).toEqual([expect.stringMatching(/^mountkit: .* failed \(exit status 3\): "first\\nxxxxxxxxx\\n.*\\n\[(\d+) bytes left out\]\\n.*xxxxxxxxx\\nlast"$/), '']);
      expect(/\[(\d+) bytes left out\]/.exec(r.stderr)?.[1]).toBe(String(written - OUTPUT_KEPT));
    },
  );
});

maybe('a startContainer hook beside the process that starts the program', () => {
  // runc 1.1.5's init is undumpable only where it joins a namespace by path (nsexec.c).
  test("that process is undumpable until its execve: the hook (the container's capabilities, no CAP_SYS_PTRACE) cannot read /proc/1/environ, where runc's init, dumpable here, lets it", () => {
    const c = config(['cat', '/dev/hook-saw']);
    c.hooks = { startContainer: [{ path: '/bin/sh', args: ['sh', '-c', 'if cat /proc/1/environ >/dev/null 2>&1; then echo read; else echo refused; fi > /dev/hook-saw'] }] };
    expect(withBundle(c, (dir) => runMountkit(dir))).toEqual({ status: 0, stdout: 'refused\n', stderr: '' });
    if (RUNC) expect(withBundle(c, (dir) => runRunc(dir))).toEqual({ status: 0, stdout: 'read\n', stderr: '' });
  });
});

maybe('the first process of a run relaunched for the runtime\'s hooks, without a pid namespace', () => {
  /**
   * The container (the process spawned, as no pid namespace is forked) is a child of
   * mountkit's first process: it orphans a sleep, waits for its end, and prints the state
   * of that process's other children. A child subreaper until the program starts, the first
   * process is one no more once the exec event came: the orphan goes to the host's init,
   * which reaps it, and no zombie is left there, which Node would never reap. While the
   * orphan runs, its parent is not the first process (which, were it a subreaper still,
   * would also reap it at its end: the zombie check alone would not tell).
   */
  test('what the container orphans goes to init, not to mountkit as a zombie', () => {
    const c = config(['sh', '-c', 'p=$(awk \'/^PPid:/{print $2}\' /proc/$$/status); o=$( (sleep 1 >/dev/null 2>&1 & echo $!) ); sleep 0.3; [ "$(awk \'/^PPid:/{print $2}\' /proc/$o/status)" = "$p" ] && echo "the orphan is the first process\'s"; sleep 1.7; for k in $(cat /proc/$p/task/*/children); do [ "$k" = $$ ] || awk \'/^State:/{print $2}\' /proc/$k/status; done; echo checked']);
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    c.hooks = { createRuntime: [{ path: '/bin/true' }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 0, stdout: 'checked\n', stderr: '' });
  });

  /**
   * A hook puts a sleep in the background and ends: the sleep's parent gone, the kernel
   * gives it to mountkit's first process, a child subreaper until the exec event (from
   * the createRuntime hook, which that process runs; from the createContainer hook, which
   * the relaunch, its child, runs). The sleep ends while the container runs; the
   * container, the first process's child, then prints the state of that process's other
   * children: none is a zombie, the first process having reaped it (cli/orphans.ts
   * reapOrphans), which Node would not.
   */
  test.each(['createRuntime', 'createContainer'])("what a %s hook leaves in the background is reaped by mountkit's first process when it ends", (kind) => {
    const c = config(['sh', '-c', 'p=$(awk \'/^PPid:/{print $2}\' /proc/$$/status); sleep 1.5; for k in $(cat /proc/$p/task/*/children); do [ "$k" = $$ ] || awk \'/^State:/{print $2}\' /proc/$k/status; done; echo checked']);
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    c.hooks = { createRuntime: [{ path: '/bin/true' }], [kind]: [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 0.3 </dev/null >/dev/null 2>&1 &'] }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    expect(r).toEqual({ status: 0, stdout: 'checked\n', stderr: '' });
  });

  /**
   * A run that fails on its own before its program (a missing program, here) after a
   * createContainer hook put a process in the background: the relaunch has waited for its
   * hooks itself, and what they started is theirs, not waited for (only a relaunch killed
   * before its program has its orphans waited for: test/hardening/relaunch-failures.test.ts). The hook
   * returns once its sleep runs the static busybox: the relaunch's pivot_root(2) right
   * after the hook moves the root of every process of the namespace, the background one
   * too, so a dynamically linked sleep, or a sleep not yet found in PATH, could fail there
   * (exit 127) and be reaped (cli/orphans.ts reapOrphans) before the check.
   */
  test("a failed start does not wait for what a createContainer hook left running", () => {
    const record = path.join(mkdtempSync(path.join(tmpdir(), 'mountkit-bg-')), 'pid');
    const c = config(['/nonexistent']);
    c.linux.namespaces = c.linux.namespaces.filter((n: { type: string }) => n.type !== 'pid');
    c.hooks = { createRuntime: [{ path: '/bin/true' }], createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `${BUSYBOX} sleep 30 </dev/null >/dev/null 2>&1 & p=$!; i=0; until read -r c </proc/$p/comm && [ "$c" = busybox ] || [ $i -ge 2000 ]; do i=$((i + 1)); done; echo $p > ${record}`] }] };
    const r = withBundle(c, (dir) => runMountkit(dir));
    const left = Number(readFileSync(record, 'utf8'));
    try {
      expect([r.status, r.stderr]).toEqual([1, expect.stringMatching(/^mountkit: .*nonexistent.*\n$/)]);
      expect(existsSync(`/proc/${left}`)).toBe(true);
    } finally {
      try {
        process.kill(left, 'SIGKILL');
      } catch {
        // Gone already (ESRCH), which the expectation above tells.
      }
      rmSync(path.dirname(record), { recursive: true, force: true });
    }
  });
});

