/**
 * mountkit ends once its exit status is known, with its output written, whatever a plugin
 * module left open (a timer here): after a run that started itself again, after a run
 * that failed, after `plan`. Its output to a pipe that is full at the end is written
 * whole first, a short line too (Node emits no 'drain' after one), and its status stays
 * where the pipe's reader leaves meanwhile.
 */
import { spawnSync } from 'child_process';
import { chmodSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, busyboxConfig, withBundle } from '../conformance/harness';
import { BIN, LAUNCHER, REPO } from '../helpers/cli';
import { defaultListWith } from '../helpers/plugin-list';

const available = Boolean(BUSYBOX) && process.getuid?.() === 0;
if (process.env.CI === 'true' && !available) throw new Error('run tests need root and busybox-static (installed by .ci/run)');
const maybe = available ? describe : describe.skip;

const LEAVES_TIMER = path.join(REPO, 'test', 'fixtures', 'plugins', 'leaves-timer.js');
const THROWS_LATER = path.join(REPO, 'test', 'fixtures', 'plugins', 'throws-later.js');
const MAPS = [{ containerID: 0, hostID: 100000, size: 65536 }];
/** Root of the container's user namespace is host id 100000: `run` starts itself again. */
const USER_NAMESPACE = { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'user' }], uidMappings: MAPS, gidMappings: MAPS };

/** `sh -c script` with the bundle directory as $1, the plugin list with `module` as $2; a run that does not end within 20 s is killed (status null). */
function shell(script: string, config: Record<string, unknown>, module = LEAVES_TIMER): { status: number | null; stdout: string; stderr: string } {
  return withBundle(config, (dir) => {
    chmodSync(dir, 0o711);
    const r = spawnSync('sh', ['-c', script, 'sh', dir, defaultListWith(dir, { module })], { encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  });
}

const ENTRIES: [string, string][] = [
  ['bin/mountkit', LAUNCHER],
  ['the Node entry', `${process.execPath} ${BIN}`],
];

maybe('mountkit ends once its status is known, whatever a plugin module left open', () => {
  test.each(ENTRIES)('%s: a run that starts itself again (a user namespace) ends with its container', (_what, entry) => {
    const r = shell(`${entry} run --bundle "$1" --plugins "$2" --seccomp-cache off`, busyboxConfig(['sh', '-c', 'echo ran'], { linux: USER_NAMESPACE }));
    expect(r).toEqual({ status: 0, stdout: 'ran\n', stderr: '' });
  });

  test.each(ENTRIES)('%s: a run whose program is missing ends with its error', (_what, entry) => {
    const r = shell(`${entry} run --bundle "$1" --plugins "$2" --seccomp-cache off`, busyboxConfig(['/no-such-program']));
    expect([r.status, r.stdout, r.stderr.split('\n').length]).toEqual([1, '', 2]);
    expect(r.stderr).toMatch(/^mountkit: .*no-such-program/);
  });

  test('plan ends, its output written whole to a pipe that is full until after its status is known', () => {
    // Forty tmpfs mounts make the plan larger than a pipe holds.
    const config = busyboxConfig(['true']);
    for (let i = 0; i < 40; i++) config.mounts.push({ destination: `/mnt/${i}`, type: 'tmpfs', source: 'tmpfs' });
    const whole = shell(`${LAUNCHER} plan --bundle "$1" --plugins "$2" --format json --queries > "$1/plan.json" && wc -c < "$1/plan.json"`, config);
    const size = Number(whole.stdout.trim());
    // More than a pipe holds (64 KiB): the last writes wait in Node's stream for the reader.
    expect([whole.status, size > 65536]).toEqual([0, true]);
    const piped = shell(`${LAUNCHER} plan --bundle "$1" --plugins "$2" --format json --queries | (sleep 1; wc -c)`, config);
    expect([piped.status, Number(piped.stdout.trim()), piped.stderr]).toEqual([0, size, '']);
  });

  // A pipe holds 64 KiB: `head` fills it, and mountkit's line then waits in Node's stream
  // for the reader, a line shorter than the stream's buffer (16 KiB), after which Node
  // emits no 'drain'. $1/status gets mountkit's status.
  const FULL_STDERR = (command: string) => `{ head -c 65536 /dev/zero; ${command} > /dev/null; echo $? > "$1/status"; } 2>&1 | (sleep 1; tail -c 300 | tr -d '\\000'); cat "$1/status"`;

  test('a plan refused after its plugins load ends with its status, its error written whole to a stderr pipe that is full until after', () => {
    // Without builtin:default, the list claims no mount of an unknown type.
    const config = busyboxConfig(['true']);
    config.mounts.push({ destination: '/mnt/x', type: 'nosuchfs', source: 'none' });
    const r = shell(FULL_STDERR(`sed 's/{"module":"builtin:default"},//' "$2" > "$1/list.json"; ${LAUNCHER} plan --bundle "$1" --plugins "$1/list.json"`), config);
    expect([r.status, r.stdout.split('\n').slice(-3)]).toEqual([0, ['mountkit: mounts[2].type "nosuchfs": no plugin in the plugin list handles this mount type (builtin:default takes any type)', '2', '']]);
  });

  test('an unknown command ends with status 2, its error written whole to a stderr pipe that is full until after', () => {
    const r = shell(FULL_STDERR(`${LAUNCHER} nosuchcommand`), busyboxConfig(['true']));
    expect([r.status, r.stdout.split('\n').slice(-3)]).toEqual([0, ['mountkit: unknown command "nosuchcommand" (see mountkit --help)', '2', '']]);
  });

  test('a plugin module throwing from a callback of its own ends with status 1, its stack written whole to a non-blocking stderr pipe that is full until after', () => {
    const r = shell(`{ head -c 65536 /dev/zero; ${LAUNCHER} plan --bundle "$1" --plugins "$2" > /dev/null; echo $? > "$1/status"; } 2>&1 | (sleep 1; tr -d '\\000'); cat "$1/status"`, busyboxConfig(['true']), THROWS_LATER);
    expect([r.status, r.stdout.split('\n').slice(-2)]).toEqual([0, ['1', '']]);
    expect(r.stdout).toMatch(/^Error: thrown later by a plugin module\n {4}at .*throws-later\.js/m);
  });

  test('an unknown command ends with status 2 where the reader of its stderr, full, leaves without reading', () => {
    const r = shell(`{ head -c 65536 /dev/zero; ${LAUNCHER} nosuchcommand > /dev/null; echo $? > "$1/status"; } 2>&1 | sleep 1; cat "$1/status"`, busyboxConfig(['true']));
    expect([r.status, r.stdout]).toEqual([0, '2\n']);
  });
});
