'use strict';
/**
 * Runs the command its arguments give as on a kernel before 5.12, which has no
 * mount_setattr(2): a seccomp filter answers it with the errno the first argument names
 * (ENOSYS, as such a kernel does; EPERM, as a runtime's profile refuses a call it does not
 * list), for this process and everything it starts (refusing-syscalls.js).
 *
 * Usage: node test/helpers/refuse-mount-setattr.js ERRNO COMMAND [ARG...]
 */
const { execRefusing } = require('./refusing-syscalls');

/** mount_setattr's number, the same on x86_64 and arm64 (include/uapi/asm-generic/unistd.h; syscall_64.tbl). */
const MOUNT_SETATTR = 442;

const [errno, ...argv] = process.argv.slice(2);
execRefusing([[MOUNT_SETATTR, errno]], argv);
