'use strict';
/**
 * Runs the command its arguments give as under a seccomp filter that refuses
 * close_range(2) (436 on every architecture) with EPERM, as an older runtime's default
 * profile does (refusing-syscalls.js).
 *
 * Usage: node test/helpers/without-close-range.js COMMAND [ARG...]
 */
const { execRefusing } = require('./refusing-syscalls');

execRefusing([[436, 'EPERM']], process.argv.slice(2));
