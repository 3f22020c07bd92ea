/**
 * The runtime's hooks without `env` (prestart, createRuntime, poststart, poststop) get the
 * environment mountkit's caller gave, as runc 1.1.5 passes its own on: through the shell
 * launcher (bin/mountkit, dash) as through the Node entry, though the shell exports PWD,
 * sets IFS, OPTIND and PPID and drops names that are no shell names
 * (src/cli/caller-env.ts). Each hook records the environment the kernel gave it (its
 * shell's /proc/self/environ, opened by that shell).
 */
import { spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { BUSYBOX, busyboxConfig, withBundle } from '../conformance/harness';
import { BIN, LAUNCHER } from '../helpers/cli';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
const maybe = available ? describe : describe.skip;

const KINDS = ['prestart', 'createRuntime', 'poststart', 'poststop'] as const;

/** The caller's environment: names that are no shell names, the shell's own (no PWD), the launcher's, a newline, non-ASCII. */
const CALLER: NodeJS.ProcessEnv = {
  PATH: process.env.PATH,
  'a-b': '1',
  '1a': '2',
  'caf\u00e9': '3',
  IFS: 'x',
  OPTIND: '7',
  PPID: '5',
  nl: 'two\nlines',
  bundle: 'b',
  line: 'l',
  mountkit_given: 'g',
  mountkit_was_line: 'w',
  MOUNTKIT_CALLER_ENV: 'theirs',
};

const entries = (env: NodeJS.ProcessEnv): string[] =>
  Object.entries(env)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${v}`)
    .sort();

/** A config whose runtime hooks record their environment in `dir`, as KIND.env. */
function recordingConfig(dir: string): Record<string, any> {
  const config = busyboxConfig(['true']);
  config.hooks = Object.fromEntries(
    KINDS.map((kind) => [kind, [{ path: BUSYBOX!, args: ['sh', '-c', `exec 4</proc/self/environ; ${BUSYBOX} cat <&4 >${dir}/${kind}.env; true`] }]]),
  );
  return config;
}

function run(cmd: string[], bundle: string, env: NodeJS.ProcessEnv, extra: string[] = [], stdio: ('ignore' | 'pipe')[] = ['ignore', 'pipe', 'pipe']) {
  const r = spawnSync(cmd[0], [...cmd.slice(1), 'run', '--bundle', bundle, '--seccomp-cache', 'off', ...extra, `h1-env-${process.pid}`], { encoding: 'utf8', timeout: 60_000, stdio, env });
  return { status: r.status, stderr: r.stderr };
}

maybe("the runtime's hooks get the caller's environment", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'mountkit-caller-env-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const recorded = (rec: string): Record<string, string[]> =>
    Object.fromEntries(KINDS.map((kind) => [kind, readFileSync(path.join(rec, `${kind}.env`), 'utf8').split('\0').slice(0, -1).sort()]));
  const fresh = (): string => {
    rmSync(path.join(dir, 'rec'), { recursive: true, force: true });
    mkdirSync(path.join(dir, 'rec'));
    return path.join(dir, 'rec');
  };
  const expected = (): Record<string, string[]> => Object.fromEntries(KINDS.map((kind) => [kind, entries(CALLER)]));

  test.each([
    ['the launcher', [LAUNCHER]],
    ['the Node entry', [process.execPath, BIN]],
  ])('through %s, as the caller gave it', (_name, cmd) => {
    const rec = fresh();
    withBundle(recordingConfig(rec), (bundle) => {
      expect(run(cmd, bundle, CALLER)).toEqual({ status: 0, stderr: '' });
      expect(recorded(rec)).toEqual(expected());
    });
  });

  test('through the launcher with --preserve-fds, descriptor 9 not among them', () => {
    const rec = fresh();
    withBundle(recordingConfig(rec), (bundle) => {
      expect(run([LAUNCHER], bundle, CALLER, ['--preserve-fds', '1'], ['ignore', 'pipe', 'pipe', 'pipe'])).toEqual({ status: 0, stderr: '' });
      expect(recorded(rec)).toEqual(expected());
    });
  });

  test('through the launcher, hooks whose keys are written with escapes (Node says "again" from the new pid namespace)', () => {
    const rec = fresh();
    withBundle(recordingConfig(rec), (bundle) => {
      const file = path.join(bundle, 'config.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace(/"(prestart|createRuntime|poststart|poststop)"/g, (_m, key: string) => `"${key[0]}\\u${key.charCodeAt(1).toString(16).padStart(4, '0')}${key.slice(2)}"`));
      expect(readFileSync(file, 'utf8')).not.toMatch(/"prestart"/);
      expect(run([LAUNCHER], bundle, CALLER)).toEqual({ status: 0, stderr: '' });
      expect(recorded(rec)).toEqual(expected());
    });
  });

  describe('with a cat(1) in PATH that fails', () => {
    let bin: string;
    beforeAll(() => {
      bin = mkdtempSync(path.join(tmpdir(), 'mountkit-caller-env-bin-'));
      for (const tool of ['grep', 'unshare']) {
        const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
        symlinkSync(found, path.join(bin, tool));
      }
      symlinkSync(process.execPath, path.join(bin, 'node'));
      writeFileSync(path.join(bin, 'cat'), '#!/bin/sh\nexit 1\n');
      chmodSync(path.join(bin, 'cat'), 0o755);
    });
    afterAll(() => rmSync(bin, { recursive: true, force: true }));

    test('a config with runtime hooks is refused in one line, none of them run', () => {
      const rec = fresh();
      withBundle(recordingConfig(rec), (bundle) => {
        expect(run([LAUNCHER], bundle, { ...CALLER, PATH: bin })).toEqual({
          status: 1,
          stderr: "mountkit: the caller's environment, copied by bin/mountkit on descriptor 9, is incomplete (9 bytes): cat /proc/PID/environ failed\n",
        });
      });
      expect(spawnSync('ls', [rec], { encoding: 'utf8' }).stdout).toBe('');
    });

    test('a config without them (runc spec\'s kind: a new pid namespace) makes no copy', () => {
      withBundle(busyboxConfig(['true']), (bundle) => {
        expect(run([LAUNCHER], bundle, { ...CALLER, PATH: bin })).toEqual({ status: 0, stderr: '' });
      });
    });
  });
});
