'use strict';
/**
 * Runs the command its arguments give as on a kernel without pidfds: a seccomp filter
 * answers ENOSYS to pidfd_open(2) and pidfd_send_signal(2), as Linux before 5.1 and 5.3
 * does, or a runtime's filter that does not list them, for this process and everything
 * it starts (a filter is inherited across fork(2) and execve(2)). Needs CAP_SYS_ADMIN,
 * which loads a filter without no_new_privs (seccomp(2)); uses the built port (dist/).
 * For tests only: it looks at the syscall number alone, not the architecture, which is
 * enough on x86_64 and arm64 (424 and 434 there and in their compat ABIs).
 *
 * Usage: node test/helpers/without-pidfds.js COMMAND [ARG...]
 */
const path = require('path');
const dist = path.join(__dirname, '..', '..', 'dist', 'core');
const { LinuxSyscalls } = require(path.join(dist, 'syscalls', 'linux.js'));
const { BPF_JMP_JEQ_K, BPF_LD_W_ABS, BPF_RET_K, encodeProgram } = require(path.join(dist, 'seccomp', 'enosys.js'));
const { SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO } = require(path.join(dist, 'seccomp', 'names.js'));
const { errnoNumber } = require(path.join(dist, 'errors.js'));

/** pidfd_send_signal and pidfd_open: the same numbers on every architecture (include/uapi/asm-generic/unistd.h). */
const PIDFD_SEND_SIGNAL = 424;
const PIDFD_OPEN = 434;

const [command, ...args] = process.argv.slice(2);
if (!command) {
  process.stderr.write('usage: without-pidfds.js COMMAND [ARG...]\n');
  process.exit(2);
}
// struct seccomp_data starts with nr: load it, and answer ENOSYS for either number.
const program = [
  { code: BPF_LD_W_ABS, jt: 0, jf: 0, k: 0 },
  { code: BPF_JMP_JEQ_K, jt: 2, jf: 0, k: PIDFD_OPEN },
  { code: BPF_JMP_JEQ_K, jt: 1, jf: 0, k: PIDFD_SEND_SIGNAL },
  { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ALLOW },
  { code: BPF_RET_K, jt: 0, jf: 0, k: SECCOMP_RET_ERRNO | errnoNumber('ENOSYS') },
];
const sys = new LinuxSyscalls();
sys.seccompLoad(encodeProgram(program), 0);
const env = Object.entries(process.env).map(([k, v]) => `${k}=${v}`);
sys.execve(command, [command, ...args], env);
