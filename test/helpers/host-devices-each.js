// Fails the test after which a host device node (host-devices.js) is no longer as it was:
// the failure names that test, where host-mounts-teardown.js can only say that the whole
// run changed one. Its state is the node's as before the test, so a later test fails only
// for a change of its own.
const { hostDevices, changedDevices } = require('./host-devices');

let before;

beforeAll(() => {
  before = hostDevices();
});

afterEach(() => {
  const after = hostDevices();
  const changed = changedDevices(before, after);
  before = after;
  if (changed.length) throw new Error(`host device nodes changed during this test:\n${changed.join('\n')}`);
});
