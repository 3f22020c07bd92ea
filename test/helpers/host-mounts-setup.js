// Records the host's mount table before the suite; host-mounts-teardown.js compares.
const { readFileSync } = require('fs');

module.exports = async function hostMountsSetup() {
  globalThis.__MOUNTKIT_HOST_MOUNTINFO__ = readFileSync('/proc/self/mountinfo', 'utf8');
};
