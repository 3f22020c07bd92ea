import 'reflect-metadata';
import { O_CLOEXEC, O_DIRECTORY, O_PATH } from '../../src/core/constants';
import { buildPlan } from '../../src/core/plan';
import { PID_FILE_FLAGS } from '../../src/core/pid-file';
import { makeConfig } from '../helpers/config';
import { JAIL_STAND_IN_EXTRA } from '../helpers/jail-stand-in';
import { EXEC_ONLY_EXTRA, planHost } from '../helpers/plan-host';

/** The pid file's directory, /run/c, besides the plan's host: the exec step alone makes calls (the pid file's are its own or the first process's). */
function fakeRoot() {
  return planHost().addDir('/run/c');
}

function plan(namespaces: { type: string }[], pidFile?: { path: string; mode: number }) {
  const config = makeConfig({ namespaces: namespaces as never, process: { args: ['sh'], env: ['PATH=/bin'], cwd: '/', uid: 0, gid: 0, terminal: false } });
  const sys = fakeRoot();
  const result = buildPlan(config, { syscalls: sys, plugins: { plugins: [] }, extra: [JAIL_STAND_IN_EXTRA, EXEC_ONLY_EXTRA], launch: { relaunched: false, inUserNamespace: false }, ...(pidFile ? { pidFile } : {}) });
  return { result, sys, calls: result.calls.map((c) => [c.phase, c.plugin, c.record] as const) };
}

const OPEN_DIR = { op: 'open', path: '/run/c', flags: O_PATH | O_DIRECTORY | O_CLOEXEC, mode: 0 };

describe('mountkit plan --pid-file', () => {
  test('without a relaunch: the directory opened before the namespaces, the file written by the exec step before the identity, execve last', () => {
    const { result, sys, calls } = plan([{ type: 'mount' }], { path: '/run/c/ct.pid', mode: 0o644 });
    expect(result.error).toBeUndefined();
    const at = (op: string) => calls.findIndex(([, , r]) => r.op === op);
    expect(calls[at('open')]).toEqual(['namespaces', 'launcher', OPEN_DIR]);
    expect(at('open')).toBeLessThan(at('unshare'));
    const dir = 101;
    const file = calls.slice(at('openat'), at('renameat') + 1).map(([phase, plugin, r]) => [phase, plugin, r]);
    expect(file).toEqual([
      ['finalize', 'exec', { op: 'openat', dirfd: dir, path: '.ct.pid', flags: PID_FILE_FLAGS, mode: 0o666 }],
      ['finalize', 'exec', { op: 'fchmod', fd: expect.any(Number), mode: 0o644 }],
      ['finalize', 'exec', { op: 'write', fd: expect.any(Number), data: String(sys.pid) }],
      ['finalize', 'exec', { op: 'close', fd: expect.any(Number) }],
      ['finalize', 'exec', { op: 'renameat', oldDirfd: dir, oldPath: '.ct.pid', newDirfd: dir, newPath: 'ct.pid' }],
    ]);
    expect(at('renameat')).toBeLessThan(at('setgid'));
    expect(calls[calls.length - 1][2].op).toBe('execve');
    expect(sys.readFile('/run/c/ct.pid')).toBe(String(sys.pid));
  });

  test('with a relaunch (a new pid namespace): the first process writes it after the exec event, under phase poststart, plugin pid-file', () => {
    const { result, calls } = plan([{ type: 'pid' }, { type: 'mount' }], { path: '/run/c/ct.pid', mode: 0o644 });
    expect(result.error).toBeUndefined();
    const exec = calls.findIndex(([, , r]) => r.op === 'execve');
    const written = calls.filter(([, plugin]) => plugin === 'pid-file');
    expect(written.map(([phase, , r]) => [phase, r.op])).toEqual([
      ['poststart', 'openat'],
      ['poststart', 'write'],
      ['poststart', 'close'],
      ['poststart', 'renameat'],
    ]);
    expect(calls.indexOf(written[0])).toBeGreaterThan(exec);
    expect(calls.some(([, , r]) => r.op === 'write' && (r as { data: string }).data === '{"event":"exec"}\n')).toBe(true);
  });

  test('a directory that is not there: the plan stops at its open, with the configuration error run gives', () => {
    const { result, calls } = plan([{ type: 'mount' }], { path: '/nope/ct.pid', mode: 0o644 });
    expect((result.error as Error).message).toBe('--pid-file "/nope/ct.pid": its directory cannot be opened (open "/nope": ENOENT)');
    expect(calls[calls.length - 1][2]).toEqual({ ...OPEN_DIR, path: '/nope' });
  });

  test('without --pid-file: none of these calls', () => {
    const { calls } = plan([{ type: 'mount' }]);
    expect(calls.filter(([, , r]) => ['renameat', 'fchmod'].includes(r.op) || (r.op === 'open' && (r as { path: string }).path === '/run/c'))).toEqual([]);
  });
});
