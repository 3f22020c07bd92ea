/**
 * The hostname plugin for real: in a child with its own uts namespace (unshare --uts),
 * the step sets the names the kernel then reports; the host's stay as they were.
 */
import { readFileSync } from 'fs';
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
  new Orchestrator(sys, silentLogger, [], [new HostnameStep(sys)]).run(makeConfig(${over}));
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
    expect(JSON.parse(r.stdout)).toEqual({ error: `prepare-root: plugin hostname: setdomainname "${long}": EINVAL` });
  });
});
