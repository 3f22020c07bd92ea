import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { makeConfig, makeMount } from '../../helpers/config';
import { realRun, runAsRoot, tempDir } from '../../helpers/real-run';

const HOOKS = path.resolve(__dirname, '../../../src/plugins/hooks');
const DEFAULT = path.resolve(__dirname, '../../../src/plugins/default');
const BUSYBOX = '/bin/busybox';
const withBusybox = existsSync(BUSYBOX) ? test : test.skip;

runAsRoot('hooks plugin, real commands', () => {
  let t: ReturnType<typeof tempDir>;
  let bundle: string;
  let rootfs: string;
  beforeEach(() => {
    t = tempDir();
    bundle = path.join(t.dir, 'web-1');
    rootfs = path.join(bundle, 'rootfs');
    mkdirSync(rootfs, { recursive: true });
  });
  afterEach(() => t.cleanup());

  function script(name: string, body: string): string {
    const file = path.join(t.dir, name);
    writeFileSync(file, `#!/bin/sh\n${body}`, { mode: 0o755 });
    return file;
  }

  withBusybox('prestart then createRuntime, with state on stdin, argv0, env, in the new mount namespace', () => {
    const stateFile = path.join(t.dir, 'state.json');
    const log = path.join(t.dir, 'log');
    const pre = script('pre.sh', 'cat > "$1"\necho "$PPID" > "$1.parent"\necho "prestart $MARK" >> "$2"\ngrep -c " $3 " /proc/self/mountinfo >> "$2"\n');
    const config = makeConfig({
      bundle,
      rootfs,
      mounts: [makeMount({ index: 0, type: 'tmpfs', destination: '/mnt' })],
      hooks: {
        // argv0 "sh" makes busybox run its shell; with argv0 /bin/busybox it would take "-c" for an applet and fail.
        // Every hook here reads its stdin: one that exits first makes the state write fail with EPIPE.
        createRuntime: [{ path: BUSYBOX, args: ['sh', '-c', 'read -r state; echo "createRuntime $GREETING" >> "$0"', log], env: ['GREETING=hi'] }],
        prestart: [{ path: pre, args: [pre, stateFile, log, path.join(rootfs, 'mnt')], env: ['PATH=/usr/bin:/bin', 'MARK=m1'], timeout: 10 }],
      },
    });
    const r = realRun({ config, plugins: [DEFAULT, HOOKS] });
    expect(r.error).toBeUndefined();
    // The pid is the process that runs the pipeline (and would become the container): the hook's parent.
    const parent = Number(readFileSync(`${stateFile}.parent`, 'utf8'));
    expect(parent).toBeGreaterThan(1);
    expect(JSON.parse(readFileSync(stateFile, 'utf8'))).toEqual({ ociVersion: '1.0.2', id: 'web-1', status: 'creating', pid: parent, bundle });
    // The tmpfs on <rootfs>/mnt exists only in the run's namespace: the hook saw it there.
    expect(readFileSync(log, 'utf8')).toBe('prestart m1\n1\ncreateRuntime hi\n');
  });

  test('a failing hook is a PluginError with its path and output; the next hook does not run', () => {
    const marker = path.join(t.dir, 'ran');
    const bad = script('bad.sh', 'read -r state\necho "no network" >&2\nexit 3\n');
    const next = script('next.sh', `read -r state\n: > ${marker}\n`);
    const config = makeConfig({
      bundle,
      rootfs,
      hooks: { prestart: [], createRuntime: [{ path: bad, args: [], env: [] }, { path: next, args: [], env: [] }] },
    });
    const r = realRun({ config, plugins: [HOOKS] });
    expect(r.error).toMatchObject({
      name: 'PluginError',
      message: `before-jail: plugin hooks: hook createRuntime[0] "${bad}" failed (exit status 3): no network`,
    });
    expect(existsSync(marker)).toBe(false);
  });
});
