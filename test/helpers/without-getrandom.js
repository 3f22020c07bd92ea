'use strict';
/**
 * Runs the command its arguments give as on a kernel before 3.17, which has no
 * getrandom(2): a seccomp filter answers it with the errno the first argument names
 * (ENOSYS, as such a kernel does; EPERM, as most runtimes' profiles refuse a call they
 * do not list), for this process and everything it starts (refusing-syscalls.js).
 *
 * Usage: node test/helpers/without-getrandom.js ERRNO COMMAND [ARG...]
 */
const { execRefusing } = require('./refusing-syscalls');

/** getrandom's number: x86_64's own table (arch/x86/entry/syscalls/syscall_64.tbl), the generic one on arm64 (include/uapi/asm-generic/unistd.h). */
const GETRANDOM = { x64: 318, arm64: 278 }[process.arch];
if (GETRANDOM === undefined) {
  process.stderr.write(`without-getrandom: no getrandom number for ${process.arch}\n`);
  process.exit(2);
}

const [errno, ...argv] = process.argv.slice(2);
execRefusing([[GETRANDOM, errno]], argv);
