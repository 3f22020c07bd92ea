import { spawnSync } from 'child_process';
import { readFileSync } from 'fs';
import * as path from 'path';
import { makeBundle } from '../conformance/harness';
import { EMBEDDING_SPEC, describeEmbedding } from '../helpers/embedding';
import { REPO } from '../helpers/cli';
import { runInMountNamespace } from '../helpers/in-namespace';

/**
 * The embedding API for real: a process that is already in a mount namespace of its own
 * (unshare -m) runs the pipeline in itself through `mountkit`'s runPipeline.
 */
const spec = EMBEDDING_SPEC;

describeEmbedding('runPipeline', () => {
  test('in a process with its own mount namespace: every phase, the callback before the jail, then jailed in the rootfs', () => {
    const b = makeBundle(spec);
    try {
      const script = `
const fs = require('fs');
const mk = require('./src/index');
const list = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
const config = mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE);
const seen = [];
mk.runPipeline(config, {
  plugins: { plugins: list },
  beforeJail: (ctx) => seen.push('callback: ' + fs.readdirSync(ctx.config.rootfs + '/dev').includes('null')),
  onStep: (where) => { if (where.phase === 'jail') seen.push('jail: ' + where.plugin); },
});
const tmp = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').find((l) => l.split(' ')[4] === '/tmp');
process.stdout.write(JSON.stringify({ seen, root: fs.readdirSync('/').sort(), tmp: tmp && tmp.split(' - ')[1].split(' ')[0] }));
`;
      const r = runInMountNamespace(script, { ...process.env, SPEC: JSON.stringify(spec), BUNDLE: b.dir });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({
        seen: ['callback: true', 'jail: jail'],
        root: ['bin', 'dev', 'etc', 'proc', 'sys', 'tmp'],
        tmp: 'tmpfs',
      });
    } finally {
      b.cleanup();
    }
  });

  test('in the mount namespace it was started in, it refuses before loading a plugin or making a call', () => {
    // An empty plugin list: even if the check were gone, nothing would be mounted.
    const script = `
const mk = require('./src/index');
try {
  mk.runPipeline(mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE), { plugins: { plugins: [] } });
  process.stdout.write('ran');
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message);
}`;
    const b = makeBundle(spec);
    try {
      const r = spawnSync(process.execPath, ['-r', path.join(REPO, 'test', 'helpers', 'ts-register.js'), '-e', script], {
        cwd: REPO,
        env: { ...process.env, SPEC: JSON.stringify(spec), BUNDLE: b.dir },
        encoding: 'utf8',
      });
      expect(r.stdout).toMatch(/^ConfigError: runPipeline: this process shares its mount namespace \(mnt:\[\d+\]\) with every process above it: enter a new one first/);
    } finally {
      b.cleanup();
    }
  });

  test('a config built in code with a uid of NaN is refused before anything is mounted, where setuid(2) would get 0', () => {
    const script = `
const fs = require('fs');
const mk = require('./src/index');
const config = mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE);
config.process.uid = Number(process.env.UNSET_UID);
const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
try {
  mk.runPipeline(config);
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message + '; mounts unchanged: ' + (fs.readFileSync('/proc/self/mountinfo', 'utf8') === before));
}`;
    // The container's program says which user it runs as, if it runs.
    const idSpec = { ...spec, process: { ...spec.process, args: ['id', '-u'] } };
    const b = makeBundle(idSpec);
    try {
      const r = runInMountNamespace(script, { ...process.env, SPEC: JSON.stringify(idSpec), BUNDLE: b.dir });
      expect(r.stdout).toBe('ConfigError: process.user.uid NaN: must be an integer from 0 to 4294967295; mounts unchanged: true');
    } finally {
      b.cleanup();
    }
  });

  test("a mount destination built in code is cleaned as config.json's: the plan, the warning and the mount all name the path mounted", () => {
    const script = `
const fs = require('fs');
const mk = require('./src/index');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
const config = mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE);
config.mounts.push(mk.mountSpec({ type: 'tmpfs', destination: 'mnt//rel/' }));
const planned = [...new Set(mk.plan(config, { plugins: { plugins } }).calls.filter((c) => c.mountIndex === 3).map((c) => c.destination))];
const warnings = [];
const logger = { error() {}, info() {}, debug() {}, warn(m) { warnings.push(m); }, child() { return logger; } };
mk.runPipeline(config, { plugins: { plugins }, logger });
const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').filter((l) => l.includes(' - tmpfs ')).map((l) => l.split(' ')[4]);
process.stdout.write(JSON.stringify({ planned, warnings, mounted, given: config.mounts[3].destination }));
`;
    const b = makeBundle(spec);
    try {
      const r = runInMountNamespace(script, { ...process.env, SPEC: JSON.stringify(spec), BUNDLE: b.dir });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({
        planned: ['/mnt/rel'],
        warnings: ['mounts[3].destination "mnt//rel/" is relative: taken from / as "/mnt/rel" (runtime-spec 1.2), which runc calls deprecated'],
        mounted: ['/dev', '/tmp', '/mnt/rel'],
        given: 'mnt//rel/',
      });
    } finally {
      b.cleanup();
    }
  });

  test('a uts namespace the config lists but the process shares with every process above it is refused: its hostname would be changed', () => {
    const script = `
const mk = require('./src/index');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
try {
  mk.runPipeline(mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE), { plugins: { plugins } });
  process.stdout.write('ran\\n');
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message + '\\n');
}`;
    const utsSpec = { ...spec, hostname: 'renamed', linux: { namespaces: [{ type: 'mount' }, { type: 'uts' }] } };
    const b = makeBundle(utsSpec);
    try {
      // A throwaway pid and uts namespace stands for the host: in it, the shell is PID 1 and
      // the script's only ancestor, and shares the script's uts namespace, as a host shell
      // shares the host's with a script started under \`unshare -m\` alone.
      const shell = 'hostname throwaway; unshare -m --propagation private "$NODE" -r "$REGISTER" -e "$SCRIPT"; echo "hostname: $(hostname)"';
      const r = spawnSync('unshare', ['--pid', '--fork', '--uts', '--mount', '--propagation', 'private', '--mount-proc', 'sh', '-c', shell], {
        cwd: REPO,
        env: { ...process.env, SPEC: JSON.stringify(utsSpec), BUNDLE: b.dir, NODE: process.execPath, REGISTER: path.join(REPO, 'test', 'helpers', 'ts-register.js'), SCRIPT: script },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^ConfigError: linux\.namespaces\[1\] "uts": this process shares its uts namespace \(uts:\[\d+\]\) with every process above it, where the run would change the hostname and sysctls: /);
      expect(r.stdout.trim().split('\n').at(-1)).toBe('hostname: throwaway');
    } finally {
      b.cleanup();
    }
  });

  test("a user namespace the config lists but the process shares with every process above it is refused where its user.* sysctls would be written: the limits of the host's", () => {
    const script = `
const fs = require('fs');
const mk = require('./src/index');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
for (const sysctl of [JSON.parse(process.env.SYSCTL), {}]) {
  try {
    mk.runPipeline(mk.fromOciSpec({ ...JSON.parse(process.env.SPEC), linux: { namespaces: [{ type: 'mount' }, { type: 'user' }], sysctl } }, process.env.BUNDLE), { plugins: { plugins } });
    process.stdout.write('ran\\n');
  } catch (e) {
    process.stdout.write(e.name + ': ' + e.message + '\\n');
  }
}`;
    // The host's own value, so that nothing changes even were the check gone.
    const file = '/proc/sys/user/max_user_namespaces';
    const before = readFileSync(file, 'utf8');
    const b = makeBundle(spec);
    try {
      // In a throwaway pid and mount namespace the shell, in the host's user namespace, is
      // PID 1 and the script's only ancestor: the script shares that user namespace with it.
      const shell = 'unshare -m --propagation private "$NODE" -r "$REGISTER" -e "$SCRIPT"';
      const r = spawnSync('unshare', ['--pid', '--fork', '--mount', '--propagation', 'private', '--mount-proc', 'sh', '-c', shell], {
        cwd: REPO,
        env: { ...process.env, SPEC: JSON.stringify(spec), SYSCTL: JSON.stringify({ 'user.max_user_namespaces': before.trim() }), BUNDLE: b.dir, NODE: process.execPath, REGISTER: path.join(REPO, 'test', 'helpers', 'ts-register.js'), SCRIPT: script },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^ConfigError: linux\.namespaces\[1\] "user": this process shares its user namespace \(user:\[\d+\]\) with every process above it, where the run would change the sysctls: /);
      // Nothing written there: the run goes on, as before user.* sysctls were taken.
      expect(lines[1]).toBe('ran');
      expect(readFileSync(file, 'utf8')).toBe(before);
    } finally {
      b.cleanup();
    }
  });

  test("a namespace the config joins by path that the process shares with every process above it (a pod's) runs where nothing is written there, and is refused where the hostname would be", () => {
    const script = `
const mk = require('./src/index');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
const spec = { ...JSON.parse(process.env.SPEC), hostname: process.env.NAME };
try {
  mk.runPipeline(mk.fromOciSpec(spec, process.env.BUNDLE), { plugins: { plugins } });
  process.stdout.write('ran\\n');
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message + '\\n');
}`;
    // The pod: new pid, network, uts and mount namespaces whose shell is PID 1, the
    // script's only ancestor. The config joins the pod's network and uts namespaces by
    // path, as a container that shares the pod's network does; the script is in them.
    const podSpec = { ...spec, linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/proc/1/ns/net' }, { type: 'uts', path: '/proc/1/ns/uts' }] } };
    const b = makeBundle(podSpec);
    try {
      // One process per run (runPipeline refuses a second): without a hostname, then with one.
      const shell = 'hostname pod; for NAME in "" renamed; do NAME=$NAME unshare -m --propagation private "$NODE" -r "$REGISTER" -e "$SCRIPT"; done; echo "hostname: $(hostname)"';
      const r = spawnSync('unshare', ['--pid', '--fork', '--net', '--uts', '--mount', '--propagation', 'private', '--mount-proc', 'sh', '-c', shell], {
        cwd: REPO,
        env: { ...process.env, SPEC: JSON.stringify(podSpec), BUNDLE: b.dir, NODE: process.execPath, REGISTER: path.join(REPO, 'test', 'helpers', 'ts-register.js'), SCRIPT: script },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]).toBe('ran');
      expect(lines[1]).toMatch(/^ConfigError: linux\.namespaces\[2\] "uts": joins by path \(\/proc\/1\/ns\/uts\) the uts namespace this process shares with every process above it \(uts:\[\d+\]\), where the run would change the hostname: /);
      expect(lines[2]).toBe('hostname: pod');
    } finally {
      b.cleanup();
    }
  });

  test('a second run in the same process is refused before it reads anything: the first left the process in its container; one refused before its first step does not count', () => {
    const script = `
const fs = require('fs');
const mk = require('./src/index');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
const config = mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE);
try {
  mk.runPipeline(config, { plugins: { plugins: plugins.filter((p) => p.module !== 'builtin:jail') } });
} catch (e) {
  process.stdout.write(e.message.split(':')[0] + ' refused, before its first step; ');
}
mk.runPipeline(config, { plugins: { plugins } });
process.chdir('/');
const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
try {
  mk.runPipeline(config, { plugins: { plugins } });
  process.stdout.write('ran twice');
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message + '; mounts unchanged: ' + (fs.readFileSync('/proc/self/mountinfo', 'utf8') === before));
}`;
    const b = makeBundle(spec);
    try {
      const r = runInMountNamespace(script, { ...process.env, SPEC: JSON.stringify(spec), BUNDLE: b.dir });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(
        'root.path "' + path.join(b.dir, 'rootfs') + '" refused, before its first step; ' +
          "ConfigError: runPipeline: this process has run a pipeline already, which left it in that run's mounts and root: run each pipeline in a process of its own; mounts unchanged: true",
      );
    } finally {
      b.cleanup();
    }
  });

  test("the checks of the process are made on every port but mountkit's models, the real one given or wrapped in any shape, and with checkProcess on a model too; the refusal names no way around them", () => {
    // An empty plugin list: a run the checks let through is refused by the list's claims
    // (no plugin handles the config's mounts) before its first step, so nothing is
    // mounted even where a check is missing.
    const script = `
const mk = require('./src/index');
const { FakeSyscalls } = require('./src/testing');
class Delegating {
  constructor(inner) {
    for (const key of Object.getOwnPropertyNames(Object.getPrototypeOf(inner))) if (key !== 'constructor') this[key] = (...args) => inner[key](...args);
  }
}
const proxied = (port) => new Proxy(port, { get: (target, key) => Reflect.get(target, key) });
const ports = {
  none: () => ({}),
  linuxSyscalls: () => ({ syscalls: mk.linuxSyscalls() }),
  proxy: () => ({ syscalls: proxied(mk.linuxSyscalls()) }),
  delegating: () => ({ syscalls: new Delegating(mk.linuxSyscalls()) }),
  'delegating, checkProcess': () => ({ syscalls: new Delegating(mk.linuxSyscalls()), checkProcess: true }),
  'linuxSyscalls, checkProcess false': () => ({ syscalls: mk.linuxSyscalls(), checkProcess: false }),
  'fake, checkProcess': () => ({ syscalls: new FakeSyscalls().addDir(process.env.BUNDLE + '/rootfs'), checkProcess: true }),
  fake: () => ({ syscalls: new FakeSyscalls().addDir(process.env.BUNDLE + '/rootfs') }),
  'delegating fake': () => ({ syscalls: new Delegating(new FakeSyscalls().addDir(process.env.BUNDLE + '/rootfs')) }),
  'delegating fake, checkProcess false': () => ({ syscalls: new Delegating(new FakeSyscalls().addDir(process.env.BUNDLE + '/rootfs')), checkProcess: false }),
  // instanceof takes it for a fake; what it does with the calls is its handler's.
  'proxy of a fake': () => ({ syscalls: proxied(new FakeSyscalls().addDir(process.env.BUNDLE + '/rootfs')) }),
  "object of the fake's prototype": () => ({ syscalls: Object.assign(Object.create(FakeSyscalls.prototype), new Delegating(mk.linuxSyscalls())) }),
};
const config = mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE);
for (const [name, opts] of Object.entries(ports)) {
  try {
    mk.runPipeline(config, { plugins: { plugins: [] }, ...opts() });
    process.stdout.write(name + ': ran\\n');
  } catch (e) {
    process.stdout.write(name + ': ' + e.message.replace(/\\(mnt:\\[\\d+\\]\\)/, '(mnt)').replace(process.env.BUNDLE, 'BUNDLE') + '\\n');
  }
}`;
    const b = makeBundle(spec);
    try {
      // A throwaway pid and mount namespace stands for the host: the shell is its PID 1 and
      // the script's only ancestor, in the script's mount namespace.
      const shell = '"$NODE" -r "$REGISTER" -e "$SCRIPT"';
      const r = spawnSync('unshare', ['--pid', '--fork', '--mount', '--propagation', 'private', '--mount-proc', 'sh', '-c', shell], {
        cwd: REPO,
        env: { ...process.env, SPEC: JSON.stringify(spec), BUNDLE: b.dir, NODE: process.execPath, REGISTER: path.join(REPO, 'test', 'helpers', 'ts-register.js'), SCRIPT: script },
        encoding: 'utf8',
        timeout: 60_000,
      });
      expect(r.stderr).toBe('');
      const shared = 'runPipeline: this process shares its mount namespace (mnt) with every process above it: enter a new one first (unshare -m)';
      const unchecked = 'mounts[0].type "proc": no plugin in the plugin list handles this mount type (builtin:proc does)';
      expect(r.stdout.trim().split('\n')).toEqual([
        `none: ${shared}`,
        `linuxSyscalls: ${shared}`,
        `proxy: ${shared}`,
        `delegating: ${shared}`,
        `delegating, checkProcess: ${shared}`,
        `linuxSyscalls, checkProcess false: ${unchecked}`,
        `fake, checkProcess: ${shared}`,
        `fake: ${unchecked}`,
        `delegating fake: ${shared}`,
        `delegating fake, checkProcess false: ${unchecked}`,
        `proxy of a fake: ${shared}`,
        `object of the fake's prototype: ${shared}`,
      ]);
    } finally {
      b.cleanup();
    }
  });

  test("a new pid namespace the config lists is refused in the pid namespace the process was started in, whose processes the container's /proc would list; in one of its own it runs", () => {
    const script = `
const fs = require('fs');
const mk = require('./src/index');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
try {
  mk.runPipeline(mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE), { plugins: { plugins } });
  process.chdir('/');
  process.stdout.write('ran; processes in /proc: ' + fs.readdirSync('/proc').filter((n) => /^[0-9]+$/.test(n)).join(' '));
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message + '; mounts unchanged: ' + (fs.readFileSync('/proc/self/mountinfo', 'utf8') === before));
}`;
    const pidSpec = { ...spec, linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }] } };
    const b = makeBundle(pidSpec);
    try {
      const env = { ...process.env, SPEC: JSON.stringify(pidSpec), BUNDLE: b.dir };
      const shared = runInMountNamespace(script, env);
      expect(shared.stderr).toBe('');
      expect(shared.stdout).toMatch(
        /^ConfigError: linux\.namespaces\[0\] "pid": this process shares its pid namespace \(pid:\[\d+\]\) with every process above it, where the container's \/proc would list every process of it: start this process in a new one \(unshare --pid --fork\), or leave it out; mounts unchanged: true$/,
      );
      const own = runInMountNamespace(script, env, ['--pid', '--fork']);
      expect(own.stderr).toBe('');
      expect(own.stdout).toBe('ran; processes in /proc: 1');
    } finally {
      b.cleanup();
    }
  });

  test.each<[string, string, string]>([
    ['cgroup', '--cgroup', "where the container's cgroup mount and /proc/self/cgroup would show its whole hierarchy: enter a new one first \\(unshare --cgroup\\), or leave it out"],
    ['time', '--time', "where the container's CLOCK_MONOTONIC and CLOCK_BOOTTIME would be its clocks: start this process in a new one \\(unshare --time\\), or unshare\\(CLONE_NEWTIME\\) before the exec step, or leave it out"],
  ])("a new %s namespace the config lists is refused in the one the process was started in, the host's; in one of its own it runs", (type, option, why) => {
    const script = `
const fs = require('fs');
const mk = require('./src/index');
const plugins = mk.readPluginsFile(mk.DEFAULT_PLUGINS_FILE).plugins.filter((p) => p.module !== 'builtin:exec');
const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
if (process.env.UNSHARE_TIME) mk.linuxSyscalls().unshare(mk.CLONE_NEWTIME);
try {
  mk.runPipeline(mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE), { plugins: { plugins } });
  process.stdout.write('ran');
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message + '; mounts unchanged: ' + (fs.readFileSync('/proc/self/mountinfo', 'utf8') === before));
}`;
    const nsSpec = { ...spec, linux: { namespaces: [{ type: 'mount' }, { type }] } };
    const b = makeBundle(nsSpec);
    try {
      const env = { ...process.env, SPEC: JSON.stringify(nsSpec), BUNDLE: b.dir };
      const shared = runInMountNamespace(script, env);
      expect(shared.stderr).toBe('');
      expect(shared.stdout).toMatch(
        new RegExp(`^ConfigError: linux\\.namespaces\\[1\\] "${type}": this process shares its ${type} namespace \\(${type}:\\[\\d+\\]\\) with every process above it, ${why}; mounts unchanged: true$`),
      );
      const own = runInMountNamespace(script, env, [option]);
      expect(own.stderr).toBe('');
      expect(own.stdout).toBe('ran');
      if (type === 'time') {
        // unshare(CLONE_NEWTIME) in the process itself: the exec step would enter the new namespace.
        const unshared = runInMountNamespace(script, { ...env, UNSHARE_TIME: '1' });
        expect(unshared.stderr).toBe('');
        expect(unshared.stdout).toBe('ran');
      }
    } finally {
      b.cleanup();
    }
  });

  test('linux.timeOffsets are written to the time namespace this process unshared, which the container enters with them; one made with them is taken, one entered with others refused', () => {
    const script = `
const fs = require('fs');
const mk = require('./src/index');
if (process.env.UNSHARE_TIME) mk.linuxSyscalls().unshare(mk.CLONE_NEWTIME);
const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
try {
  mk.runPipeline(mk.fromOciSpec(JSON.parse(process.env.SPEC), process.env.BUNDLE));
} catch (e) {
  process.stdout.write(e.name + ': ' + e.message + '; mounts unchanged: ' + (fs.readFileSync('/proc/self/mountinfo', 'utf8') === before));
}`;
    const year = 365 * 86400;
    // The container's program says what the kernel shows it: its namespace's offsets, and its CLOCK_BOOTTIME in seconds (/proc/uptime).
    const timeSpec = {
      ...spec,
      process: { ...spec.process, args: ['sh', '-c', 'cat /proc/self/timens_offsets; cut -d. -f1 /proc/uptime'] },
      linux: { namespaces: [{ type: 'mount' }, { type: 'time' }], timeOffsets: { monotonic: { secs: 86400, nanosecs: 0 }, boottime: { secs: year, nanosecs: 0 } } },
    };
    const uptime = () => Math.floor(Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]));
    const b = makeBundle(timeSpec);
    try {
      const env = { ...process.env, SPEC: JSON.stringify(timeSpec), BUNDLE: b.dir };
      const ran = (r: { stdout: string; stderr: string }, from: number, to: number) => {
        expect(r.stderr).toBe('');
        const lines = r.stdout.trim().split('\n');
        expect(lines.slice(0, 2).map((l) => l.trim().split(/\s+/).join(' '))).toEqual(['monotonic 86400 0', `boottime ${year} 0`]);
        const boottime = Number(lines[2]);
        expect(boottime).toBeGreaterThanOrEqual(from + year);
        expect(boottime).toBeLessThanOrEqual(to + year);
      };
      // unshare(CLONE_NEWTIME) in the process: nothing has entered the namespace, the offsets are written.
      let from = uptime();
      ran(runInMountNamespace(script, { ...env, UNSHARE_TIME: '1' }), from, uptime());
      // Started in one made with them (unshare --time --monotonic --boottime): nothing to write.
      from = uptime();
      ran(runInMountNamespace(script, env, ['--time', '--monotonic', '86400', '--boottime', String(year)]), from, uptime());
      // Started in one made without them: the process has entered it, and the kernel keeps its offsets (EACCES).
      const entered = runInMountNamespace(script, env, ['--time']);
      expect(entered.stderr).toBe('');
      expect(entered.stdout).toMatch(
        /^ConfigError: linux\.timeOffsets: the time namespace this process's next execve enters has had a process in it, which fixed its offsets \(monotonic 0 0, boottime 0 0; write "\/proc\/self\/timens_offsets": EACCES\): give them where it is made \(unshare --time --monotonic=SECS --boottime=SECS\), .*; mounts unchanged: true$/,
      );
    } finally {
      b.cleanup();
    }
  });
});
