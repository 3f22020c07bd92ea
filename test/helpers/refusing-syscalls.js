'use strict';
/**
 * Runs a command as on a kernel, or under a runtime's seccomp filter, that refuses some
 * syscalls: a filter answers each listed number with its errno, for this process and
 * everything it starts (a filter is inherited across fork(2) and execve(2)). Needs
 * CAP_SYS_ADMIN, which loads a filter without no_new_privs (seccomp(2)); uses the built
 * port (dist/). For tests only: it looks at the syscall number alone, not the
 * architecture, which is enough for the syscalls added since Linux 5.x, numbered alike on
 * x86_64 and arm64 (include/uapi/asm-generic/unistd.h).
 */
const path = require('path');
const dist = path.join(__dirname, '..', '..', 'dist', 'core');
const { LinuxSyscalls } = require(path.join(dist, 'syscalls', 'linux.js'));
const { BPF_JMP_JEQ_K, BPF_LD_W_ABS, BPF_RET_K, encodeProgram } = require(path.join(dist, 'seccomp', 'enosys.js'));
const { SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO } = require(path.join(dist, 'seccomp', 'names.js'));
const { errnoNumber } = require(path.join(dist, 'errors.js'));

/**
 * The syscalls a command line names, by their kernel names: the mount API's, which a
 * kernel before the version given lacks (ENOSYS) and a runtime's profile may refuse.
 */
const NUMBERS = {
  open_tree: 428, // Linux 5.2
  fsopen: 430, // Linux 5.2
  mount_setattr: 442, // Linux 5.12
  open_tree_attr: 467, // Linux 6.15
};

/** Loads the filter answering each `[number, errno name]` of `refused`, then executes `argv`. */
function execRefusing(refused, argv) {
  const [command, ...args] = argv;
  if (!command) {
    process.stderr.write('usage: COMMAND [ARG...]\n');
    process.exit(2);
  }
  // struct seccomp_data starts with nr: load it.
  const program = [{ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 }];
  // The answers follow the N tests and the allow: each test jumps N ahead to its own.
  for (const [nr] of refused) program.push({ code: BPF_JMP_JEQ_K, jt: refused.length, jf: 0, k: nr });
  program.push({ code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW });
  for (const [, errno] of refused) program.push({ code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ERRNO | errnoNumber(errno) });
  const sys = new LinuxSyscalls();
  sys.seccompLoad(encodeProgram(program), 0);
  const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
  sys.execve(command, [command, ...args], env);
}

/**
 * As a command: `node test/helpers/refusing-syscalls.js NAME=ERRNO[,NAME=ERRNO...] COMMAND
 * [ARG...]` runs COMMAND with each named syscall answered with its errno (ENOSYS, as a
 * kernel without it answers; EPERM, as most runtimes' profiles refuse a call they do not
 * list; EINVAL, as Linux 5.12 and 5.13 refuse mount_setattr(2) MOUNT_ATTR_NOSYMFOLLOW).
 * COMMAND is executed without a PATH lookup.
 */
function main(argv) {
  const [list = '', ...command] = argv;
  if (command.length === 0) {
    process.stderr.write('usage: node test/helpers/refusing-syscalls.js NAME=ERRNO[,NAME=ERRNO...] COMMAND [ARG...]\n');
    process.exit(2);
  }
  const refused = list.split(',').map((item) => {
    const [name, errno] = item.split('=');
    if (!Object.hasOwn(NUMBERS, name) || !errno) {
      process.stderr.write(`refusing-syscalls: "${item}" is not NAME=ERRNO with NAME one of ${Object.keys(NUMBERS).join(', ')}\n`);
      process.exit(2);
    }
    return [NUMBERS[name], errno];
  });
  execRefusing(refused, command);
}

if (require.main === module) main(process.argv.slice(2));

module.exports = { execRefusing };
