// The host's device nodes a run in a user namespace binds into the container (the
// default device table, src/plugins/devices): a chown or chmod that went through such a
// bind would change the host's own node, which the mount table does not show.
const { statSync } = require('fs');

const HOST_DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty'];

/** Each node's owner, file type and mode, inode and device number as one line, or the error that stat gave. */
function hostDevices() {
  return HOST_DEVICES.map((p) => {
    try {
      const s = statSync(p);
      return `${p} ${s.uid}:${s.gid} ${s.mode.toString(8)} ${s.ino} ${s.rdev}`;
    } catch (err) {
      return `${p} ${err.code}`;
    }
  });
}

/** The lines of `after` that differ from `before`'s, each as `before -> after`. */
function changedDevices(before, after) {
  return after.flatMap((line, i) => (line === before[i] ? [] : [`${before[i]} -> ${line}`]));
}

module.exports = { hostDevices, changedDevices };
