/**
 * The session keyring step for real, in a child process: the keyring it joins is the one
 * /proc/keys then lists under the container's name, with the search bit added; the
 * child's keyrings end with it.
 */
import { runInMountNamespace } from '../../helpers/in-namespace';
import { runAsRoot } from '../../helpers/real-run';

function joined(id: string, namespaces: string): { before: string[]; after: string[] } | { error: string } {
  const r = runInMountNamespace(
    `
require('reflect-metadata');
const fs = require('fs');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { silentLogger } = require('./src/core/logger');
const { Orchestrator } = require('./src/core/orchestrator');
const { SessionKeyringStep } = require('./src/plugins/exec');
const { makeConfig } = require('./test/helpers/config');
const sys = new LinuxSyscalls();
// /proc/keys: serial flags usage timeout perm uid gid type description (keyrings(7)).
const named = () => fs.readFileSync('/proc/keys', 'utf8').split('\\n').map((l) => l.trim().split(/\\s+/)).filter((f) => f[8] === '_ses.${id}:').map((f) => f.slice(4).join(' '));
const before = named();
try {
  new Orchestrator(sys, silentLogger, [], [new SessionKeyringStep(sys)]).run(makeConfig({ id: '${id}', namespaces: ${namespaces} }), { checkClaims: false });
} catch (e) {
  process.stdout.write(JSON.stringify({ error: e.message }));
  process.exit(0);
}
process.stdout.write(JSON.stringify({ before, after: named() }));
`,
  );
  expect([r.status, r.stderr]).toEqual([0, '']);
  return JSON.parse(r.stdout);
}

runAsRoot("session keyring step: the container's own session keyring", () => {
  test('joined under the container id, its owner searching it (KEY_USR_SEARCH added to a new keyring\'s 3f130000)', () => {
    const id = `mk-keys-${process.pid}`;
    expect(joined(id, `[{ type: 'mount' }]`)).toEqual({ before: [], after: [`3f1b0000 0 0 keyring _ses.${id}: empty`] });
  });

  test('with a user namespace in the config: anyone searching it (KEY_OTH_SEARCH)', () => {
    const id = `mk-keys-user-${process.pid}`;
    expect(joined(id, `[{ type: 'mount' }, { type: 'user' }]`)).toEqual({ before: [], after: [`3f130008 0 0 keyring _ses.${id}: empty`] });
  });
});
