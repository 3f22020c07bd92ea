/**
 * The hostname plugin for real: in a child with its own uts namespace (unshare --uts),
 * the step sets the names the kernel then reports; the host's stay as they were.
 */
import { readFileSync, writeFileSync } from 'fs';
import * as path from 'path';
import { busyboxConfig, makeBundle, runMountkit, runRunc, type Outcome } from '../../conformance/harness';
import { runInMountNamespace } from '../../helpers/in-namespace';
import { runAsRoot } from '../../helpers/real-run';

function names(over: string) {
  return runInMountNamespace(
    `
require('reflect-metadata');
const fs = require('fs');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { silentLogger } = require('./src/core/logger');
const { Orchestrator } = require('./src/core/orchestrator');
const { HostnameStep } = require('./src/plugins/hostname');
const { makeConfig } = require('./test/helpers/config');
const sys = new LinuxSyscalls();
try {
  new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(makeConfig(${over}), { checkClaims: false });
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.message }));
  process.exit(0);
}
const read = (k) => fs.readFileSync('/proc/sys/kernel/' + k, 'utf8').trim();
process.stdout.write(JSON.stringify({ hostname: read('hostname'), domainname: read('domainname') }));
`,
    process.env,
    ['--uts'],
  );
}

runAsRoot('hostname plugin: the uts namespace\'s names', () => {
  const host = () => ({ hostname: readFileSync('/proc/sys/kernel/hostname', 'utf8'), domainname: readFileSync('/proc/sys/kernel/domainname', 'utf8') });
  let before: ReturnType<typeof host>;
  beforeEach(() => (before = host()));
  afterEach(() => expect(host()).toEqual(before));

  test('hostname and domainname as the kernel then reports them', () => {
    const r = names(`{ hostname: 'box', domainname: 'example.org', namespaces: [{ type: 'uts' }, { type: 'mount' }] }`);
    expect([r.status, r.stderr]).toEqual([0, '']);
    expect(JSON.parse(r.stdout)).toEqual({ hostname: 'box', domainname: 'example.org' });
  });

  test('a domainname longer than the kernel takes (64 bytes): setdomainname EINVAL, naming it', () => {
    const long = 'd'.repeat(65);
    const r = names(`{ hostname: '', domainname: '${long}', namespaces: [{ type: 'uts' }, { type: 'mount' }] }`);
    expect(JSON.parse(r.stdout)).toEqual({ error: `finalize: plugin hostname: setdomainname "${long}": EINVAL` });
  });
});

runAsRoot('hostname plugin: when the names are set, as runc 1.1.5 sets them', () => {
  test("a createContainer hook, in the container's uts namespace before the jail, sees the name it came with (the host's); the container its own", () => {
    const seen = (run: (bundle: string) => Outcome) => {
      const b = makeBundle({});
      try {
        const config = busyboxConfig(['hostname'], { hostname: 'box' });
        config.hooks = { createContainer: [{ path: '/bin/sh', args: ['sh', '-c', `cat /proc/sys/kernel/hostname > ${path.join(b.dir, 'seen')}`] }] };
        writeFileSync(path.join(b.dir, 'config.json'), JSON.stringify(config));
        const r = run(b.dir);
        return [r.status, r.stdout, r.stderr, readFileSync(path.join(b.dir, 'seen'), 'utf8')];
      } finally {
        b.cleanup();
      }
    };
    const mountkit = seen(runMountkit);
    expect(mountkit).toEqual([0, 'box\n', '', readFileSync('/proc/sys/kernel/hostname', 'utf8')]);
    expect(seen(runRunc)).toEqual(mountkit);
  });
});
