'use strict';
/**
 * Runs the command its arguments give as on a kernel without pidfds: a seccomp filter
 * answers ENOSYS to pidfd_open(2) and pidfd_send_signal(2), as Linux before 5.1 and 5.3
 * does, or a runtime's filter that does not list them, for this process and everything
 * it starts (refusing-syscalls.js).
 *
 * Usage: node test/helpers/without-pidfds.js COMMAND [ARG...]
 */
const { execRefusing } = require('./refusing-syscalls');

/** pidfd_send_signal and pidfd_open: the same numbers on every architecture (include/uapi/asm-generic/unistd.h). */
execRefusing(
  [
    [434, 'ENOSYS'],
    [424, 'ENOSYS'],
  ],
  process.argv.slice(2),
);
