/**
 * The network plugin for real: in a child with its own network namespace (unshare --net),
 * the loopback step brings `lo` up, which the kernel makes down; a sysfs mounted in the
 * child's mount namespace shows that namespace's interfaces (sysfs(5)).
 */
import { runInMountNamespace } from '../../helpers/in-namespace';
import { runAsRoot } from '../../helpers/real-run';

function loopbackFlags(namespaces: string): { before: string; after: string } | { error: string } {
  const r = runInMountNamespace(
    `
require('reflect-metadata');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { silentLogger } = require('./src/core/logger');
const { Orchestrator } = require('./src/core/orchestrator');
const { LoopbackStep } = require('./src/plugins/network');
const { makeConfig } = require('./test/helpers/config');
const sys = new LinuxSyscalls();
const sysfs = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-sysfs-'));
sys.mount('sysfs', sysfs, 'sysfs', 0, null);
const flags = () => fs.readFileSync(path.join(sysfs, 'class/net/lo/flags'), 'utf8').trim();
const before = flags();
try {
  new Orchestrator(sys, silentLogger, [], [new LoopbackStep(sys)]).run(makeConfig({ namespaces: ${namespaces} }), { checkClaims: false });
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.message }));
  process.exit(0);
}
process.stdout.write(JSON.stringify({ before, after: flags() }));
sys.umount2(sysfs, 0);
fs.rmdirSync(sysfs);
`,
    process.env,
    ['--net'],
  );
  expect([r.status, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout);
}

runAsRoot("network plugin: the loopback interface of the container's network namespace", () => {
  test('a new network namespace: lo goes from down (IFF_LOOPBACK, 0x8) to up (IFF_UP added, 0x9)', () => {
    expect(loopbackFlags(`[{ type: 'mount' }, { type: 'network' }]`)).toEqual({ before: '0x8', after: '0x9' });
  });

  test('a network namespace joined by path is left as it is', () => {
    expect(loopbackFlags(`[{ type: 'mount' }, { type: 'network', path: '/proc/self/ns/net' }]`)).toEqual({ before: '0x8', after: '0x8' });
  });
});
