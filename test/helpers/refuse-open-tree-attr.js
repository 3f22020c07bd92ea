'use strict';
/**
 * Runs the command its arguments give as on a kernel before 6.15, which has no
 * open_tree_attr(2): a seccomp filter answers it with the errno the first argument names
 * (ENOSYS, as such a kernel does; EPERM, as most runtimes' profiles refuse a call they do
 * not list), for this process and everything it starts (refusing-syscalls.js). A bind's
 * copy is then made by open_tree(2) and given its flags by mount_setattr(2) (ENOSYS) or
 * remounted (EPERM), and `mountkit plan` shows it so.
 *
 * Usage: node test/helpers/refuse-open-tree-attr.js ERRNO COMMAND [ARG...]
 */
const { execRefusing } = require('./refusing-syscalls');

/** open_tree_attr's number, the same on x86_64 and arm64 (include/uapi/asm-generic/unistd.h; syscall_64.tbl). */
const OPEN_TREE_ATTR = 467;

const [errno, ...argv] = process.argv.slice(2);
execRefusing([[OPEN_TREE_ATTR, errno]], argv);
