'use strict';
/**
 * Runs the command its arguments give as on a kernel with no way to seal Node's file:
 * no mount_setattr(2) (before 5.12) and no memfd_create(2) (before 3.17), both answered
 * with the errno the first argument names, for this process and everything it starts
 * (refusing-syscalls.js).
 *
 * Usage: node test/helpers/refuse-seal-calls.js ERRNO COMMAND [ARG...]
 */
const { execRefusing } = require('./refusing-syscalls');

/** mount_setattr's number, the same on x86_64 and arm64 (include/uapi/asm-generic/unistd.h; syscall_64.tbl). */
const MOUNT_SETATTR = 442;
/** memfd_create's, which differ: arch/x86/entry/syscalls/syscall_64.tbl and asm-generic/unistd.h. */
const MEMFD_CREATE = { x64: 319, arm64: 279 }[process.arch];

const [errno, ...argv] = process.argv.slice(2);
execRefusing([[MOUNT_SETATTR, errno], [MEMFD_CREATE, errno]], argv);
