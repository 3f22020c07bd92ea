/**
 * `mountkit run` starts itself again for a user namespace or the runtime's hooks, and the
 * process it starts loads the plugin list. A list of modules of the caller's own is loaded
 * by the first process too, before that relaunch: a plugin refusing the config (its
 * `validate`), or a module that cannot be loaded, is refused before a user namespace is
 * made and before the caller's pipes are given to that namespace's root.
 */
import { spawnSync } from 'child_process';
import { chmodSync, readFileSync, readlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, busyboxConfig, withBundle } from '../conformance/harness';
import { BIN, LAUNCHER, REPO } from '../helpers/cli';
import { defaultListWith } from '../helpers/plugin-list';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('run tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const RECORDER = path.join(REPO, 'test', 'fixtures', 'plugins', 'validate-recorder.js');
const THROWS_ON_LOAD = path.join(REPO, 'test', 'fixtures', 'plugins', 'throws-on-load.js');
const HOST_USER_NAMESPACE = readlinkSync('/proc/self/ns/user');

/** Root of the container's user namespace is host id 100000. */
const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];
const USER_NAMESPACE = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS };

/**
 * Runs argv with its stdout a pipe this script made and reads the pipe's owner once it
 * has ended: the relaunch into a user namespace gives the caller's pipes to its root.
 */
const PIPE_OWNER = `
import json, os, subprocess, sys
r, w = os.pipe()
p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=w, stderr=subprocess.PIPE)
os.close(w)
out = os.read(r, 65536)
print(json.dumps({"status": p.returncode, "stdout": out.decode(), "stderr": p.stderr.decode(), "owner": os.fstat(r).st_uid}))
`;

interface Outcome {
  status: number;
  stdout: string;
  stderr: string;
  /** The uid owning the run's stdout pipe afterwards. */
  owner: number;
  /** Where the recorder's validate was asked, a line each: "first" or "relaunch", and whether in the host's user namespace. */
  asked: string[];
}

function run(entry: string[], config: Record<string, unknown>, own: 'recorder' | 'throws-on-load'): Outcome {
  return withBundle(config, (dir) => {
    // Searchable by the container's root, host id 100000, which the relaunch runs as.
    chmodSync(dir, 0o711);
    const record = path.join(dir, 'asked');
    writeFileSync(record, '');
    chmodSync(record, 0o666);
    const plugins = defaultListWith(dir, own === 'recorder' ? { module: RECORDER, options: { record } } : { module: THROWS_ON_LOAD });
    const r = spawnSync('python3', ['-c', PIPE_OWNER, ...entry, 'run', '--bundle', dir, '--plugins', plugins, '--seccomp-cache', 'off'], { encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0) throw new Error(`the pipe helper failed: ${r.stderr}`);
    const asked = readFileSync(record, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [where, ns] = line.split(' ');
        return `${where} ${ns === HOST_USER_NAMESPACE ? "in the host's user namespace" : 'in another user namespace'}`;
      });
    return { ...(JSON.parse(r.stdout) as Omit<Outcome, 'asked'>), asked };
  });
}

const ENTRIES: [string, string[]][] = [
  ['bin/mountkit', [LAUNCHER]],
  ['the Node entry', [process.execPath, BIN]],
];

const REFUSAL = 'mountkit: annotations["test/refuse"] "yes": plugin validate-recorder: is refused by the test plugin\n';

maybe('a plugin list of modules of its own, checked before the relaunch', () => {
  test.each(ENTRIES)('%s, a user namespace: a plugin refusing the config refuses it before the namespace is made; the caller keeps its pipe', (_what, entry) => {
    const r = run(entry, busyboxConfig(['sh', '-c', 'echo ran'], { linux: USER_NAMESPACE, annotations: { 'test/refuse': 'yes' } }), 'recorder');
    expect(r).toEqual({ status: 2, stdout: '', stderr: REFUSAL, owner: 0, asked: ["first in the host's user namespace"] });
  });

  test.each(ENTRIES)('%s, a user namespace: a config the plugin takes is asked of it before the relaunch and again in it; the pipe is then the container root\'s', (_what, entry) => {
    const r = run(entry, busyboxConfig(['sh', '-c', 'echo ran'], { linux: USER_NAMESPACE }), 'recorder');
    expect(r).toEqual({ status: 0, stdout: 'ran\n', stderr: '', owner: 100000, asked: ["first in the host's user namespace", 'relaunch in another user namespace'] });
  });

  test.each(ENTRIES)('%s, a runtime hook: refused before the relaunch, no hook runs', (_what, entry) => {
    const marker = path.join('/tmp', `mountkit-relaunch-validate-${process.pid}`);
    const hooks = { createRuntime: [{ path: '/bin/sh', args: ['sh', '-c', `echo ran > ${marker}`] }] };
    try {
      const r = run(entry, busyboxConfig(['sh', '-c', 'echo ran'], { hooks, annotations: { 'test/refuse': 'yes' } }), 'recorder');
      expect(r).toEqual({ status: 2, stdout: '', stderr: REFUSAL, owner: 0, asked: ["first in the host's user namespace"] });
      expect(() => readFileSync(marker)).toThrow(/ENOENT/);
    } finally {
      spawnSync('rm', ['-f', marker]);
    }
  });

  test.each(ENTRIES)('%s, a user namespace: a module that cannot be loaded is refused before the namespace is made', (_what, entry) => {
    const r = run(entry, busyboxConfig(['sh', '-c', 'echo ran'], { linux: USER_NAMESPACE }), 'throws-on-load');
    expect(r).toEqual({ status: 2, stdout: '', stderr: `mountkit: plugin module "${THROWS_ON_LOAD}": failed to load: boom at load\n`, owner: 0, asked: [] });
  });
});
