/**
 * `run --pid-file` under runc 1.1.5 and mountkit, on one bundle: a container in a new pid
 * namespace that prints its own pid as the host's procfs counts it (NSpid's first field
 * of /hostproc/self/status, a bind of the host's /proc), and a poststart hook that notes
 * whether the pid file is there yet. The file, named relative to the directory each
 * runtime is started in, must hold that pid, in the same form, mode and place, under both.
 */
import { spawnSync } from 'child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, RUNC, makeBundle } from './harness';
import { LAUNCHER } from '../helpers/cli';

const available = Boolean(BUSYBOX && RUNC) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('conformance tests need root, runc and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

interface Outcome {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The pid file's text, its mode, whether .NAME was left, what the poststart hook saw. */
  text?: string;
  mode?: number;
  temp: boolean;
  hook: string;
}

function run(argv: string[], out: string): Outcome {
  const r = spawnSync(argv[0], argv.slice(1), { cwd: out, encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const file = path.join(out, 'ct.pid');
  return {
    status: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    ...(existsSync(file) ? { text: readFileSync(file, 'utf8'), mode: statSync(file).mode & 0o777 } : {}),
    temp: existsSync(path.join(out, '.ct.pid')),
    hook: existsSync(path.join(out, 'hook')) ? readFileSync(path.join(out, 'hook'), 'utf8') : '',
  };
}

maybe('run --pid-file: runc 1.1.5 and mountkit', () => {
  test('the container\'s pid as the host sees it, digits without a newline, 0666 less the umask, .NAME renamed away, absent for the poststart hooks, left after the run', () => {
    const outs = [mkdtempSync(path.join(tmpdir(), 'mountkit-pid-runc-')), mkdtempSync(path.join(tmpdir(), 'mountkit-pid-mk-'))];
    const hook = (out: string) => ({ path: '/bin/sh', args: ['sh', '-c', `test -e ${out}/ct.pid && echo there >${out}/hook || echo absent >${out}/hook`] });
    const config = (out: string) => ({
      ociVersion: '1.0.2',
      process: { terminal: false, args: ['sh', '-c', 'while read k v rest; do [ "$k" = NSpid: ] && echo "$v $rest"; done </hostproc/self/status; true'], env: ['PATH=/bin'], cwd: '/' },
      root: { path: 'rootfs' },
      mounts: [
        { destination: '/proc', type: 'proc', source: 'proc' },
        { destination: '/hostproc', type: 'bind', source: '/proc', options: ['rbind', 'ro'] },
      ],
      hooks: { poststart: [hook(out)] },
      linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] },
    });
    const bundles = outs.map((out) => makeBundle(config(out)));
    const id = `mountkit-conf-pid-${process.pid}`;
    try {
      const runc = run([RUNC!, 'run', '--pid-file', 'ct.pid', '--bundle', bundles[0].dir, id], outs[0]);
      spawnSync(RUNC!, ['delete', '--force', id]);
      const mountkit = run([LAUNCHER, 'run', '--seccomp-cache', 'off', '--pid-file', 'ct.pid', '--bundle', bundles[1].dir, id], outs[1]);
      for (const o of [runc, mountkit]) {
        expect(o.stderr).toBe('');
        expect(o.status).toBe(0);
        // The container printed "HOSTPID 1": the file holds HOSTPID.
        expect(o.stdout).toMatch(/^[1-9][0-9]* 1\n$/);
        expect(o.text).toBe(o.stdout.split(' ')[0]);
      }
      const shape = ({ mode, temp, hook: seen }: Outcome) => ({ mode, temp, hook: seen });
      expect(shape(mountkit)).toEqual(shape(runc));
      expect(shape(runc)).toEqual({ mode: 0o666 & ~0o022, temp: false, hook: 'absent\n' });
    } finally {
      for (const b of bundles) b.cleanup();
      for (const out of outs) rmSync(out, { recursive: true, force: true });
    }
  });
});
