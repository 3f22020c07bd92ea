'use strict';
/**
 * Runs the command its arguments give as on a kernel before 5.2, which has no fsopen(2):
 * a seccomp filter answers it with the errno the first argument names (ENOSYS, as such a
 * kernel does; EPERM, as most runtimes' profiles refuse a call they do not list), for
 * this process and everything it starts (refusing-syscalls.js). tmpcopyup then mounts
 * its tmpfs on the target and copies into it there, and `mountkit plan` shows it so.
 *
 * Usage: node test/helpers/refuse-fsopen.js ERRNO COMMAND [ARG...]
 */
const { execRefusing } = require('./refusing-syscalls');

/** fsopen's number, the same on x86_64 and arm64 (include/uapi/asm-generic/unistd.h; syscall_64.tbl). */
const FSOPEN = 430;

const [errno, ...argv] = process.argv.slice(2);
execRefusing([[FSOPEN, errno]], argv);
