// Fails the suite when any test changed the host's mount namespace.
const { readFileSync } = require('fs');

module.exports = async function hostMountsTeardown() {
  const before = globalThis.__MOUNTKIT_HOST_MOUNTINFO__;
  const after = readFileSync('/proc/self/mountinfo', 'utf8');
  if (before === after) return;
  const a = new Set(before.split('\n'));
  const b = new Set(after.split('\n'));
  const gone = [...a].filter((l) => !b.has(l)).map((l) => `- ${l}`);
  const added = [...b].filter((l) => !a.has(l)).map((l) => `+ ${l}`);
  throw new Error(`the host mount table changed during the tests:\n${[...gone, ...added].join('\n')}`);
};
