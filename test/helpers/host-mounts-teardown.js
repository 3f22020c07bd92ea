// Fails the suite when any test changed the host's mount namespace, or the owner, mode or
// number of a host device node a container is given.
const { readFileSync } = require('fs');
const { hostDevices, changedDevices } = require('./host-devices');

module.exports = async function hostMountsTeardown() {
  const changed = changedDevices(globalThis.__MOUNTKIT_HOST_DEVICES__, hostDevices());
  const before = globalThis.__MOUNTKIT_HOST_MOUNTINFO__;
  const after = readFileSync('/proc/self/mountinfo', 'utf8');
  if (before !== after) {
    const a = new Set(before.split('\n'));
    const b = new Set(after.split('\n'));
    const gone = [...a].filter((l) => !b.has(l)).map((l) => `- ${l}`);
    const added = [...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`);
    throw new Error(`the host mount table changed during the tests:\n${[...gone, ...added].join('\n')}`);
  }
  if (changed.length) throw new Error(`host device nodes changed during the tests:\n${changed.join('\n')}`);
};
