// Records the host's mount table and device nodes before the suite; host-mounts-teardown.js compares.
const { readFileSync } = require('fs');
const { hostDevices } = require('./host-devices');

module.exports = async function hostMountsSetup() {
  globalThis.__MOUNTKIT_HOST_MOUNTINFO__ = readFileSync('/proc/self/mountinfo', 'utf8');
  globalThis.__MOUNTKIT_HOST_DEVICES__ = hostDevices();
};
