// Records the host's mount table and device nodes before the suite; host-mounts-teardown.js compares.
// Also takes the caller's NOTIFY_SOCKET (a suite started by a systemd unit of Type=notify)
// out of the environment every test and what it starts inherit: `mountkit run` and
// `mountkit plan` would serve it (src/core/notify-socket.ts) where a test does not set it.
const { readFileSync } = require('fs');
const { hostDevices } = require('./host-devices');

module.exports = async function hostMountsSetup() {
  delete process.env.NOTIFY_SOCKET;
  globalThis.__MOUNTKIT_HOST_MOUNTINFO__ = readFileSync('/proc/self/mountinfo', 'utf8');
  globalThis.__MOUNTKIT_HOST_DEVICES__ = hostDevices();
};
