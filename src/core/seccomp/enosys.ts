/**
 * The ENOSYS stub: classic BPF put before libseccomp's program so that a syscall newer
 * than every one a profile names answers ENOSYS, which libc takes as "not in this kernel"
 * and falls back from (clone3 to clone, faccessat2 to faccessat), instead of the
 * profile's default action (EPERM, a kill). runc puts the same judgement before its
 * filters; crun does not.
 *
 * For each architecture with a largest number, a syscall of that architecture numbered
 * above it returns SECCOMP_RET_ERRNO|ENOSYS; anything else goes on to libseccomp's
 * program. On x86_64, x32 syscalls (AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT in the
 * number) are judged by the x32 number, or not at all without one; on s390 and s390x,
 * syscall 0 (the old multiplexer) answers ENOSYS too.
 *
 * The program reads struct seccomp_data (include/uapi/linux/seccomp.h): nr at offset 0,
 * arch at offset 4.
 */
import { LITTLE_ENDIAN } from '../constants';
import { errnoNumber } from '../errors';
import { AUDIT_ARCH_S390, AUDIT_ARCH_S390X, AUDIT_ARCH_X86_64, SCMP_ARCH_X32, SECCOMP_RET_ERRNO, X32_SYSCALL_BIT } from './names';

// Classic BPF opcodes (include/uapi/linux/bpf_common.h, filter.h).
export const BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS: A = 32-bit word at offset k
export const BPF_JMP_JA = 0x05; // BPF_JMP | BPF_JA: pc += k
export const BPF_JMP_JEQ_K = 0x15; // pc += (A == k) ? jt : jf
export const BPF_JMP_JGT_K = 0x25; // pc += (A > k) ? jt : jf
export const BPF_JMP_JSET_K = 0x45; // pc += (A & k) ? jt : jf
export const BPF_RET_K = 0x06; // return k
/** struct sock_filter: u16 code, u8 jt, u8 jf, u32 k. */
export const SOCK_FILTER_SIZE = 8;
/** The kernel's longest filter program (BPF_MAXINSNS, include/uapi/linux/bpf_common.h). */
export const BPF_MAXINSNS = 4096;

const SECCOMP_DATA_NR = 0;
const SECCOMP_DATA_ARCH = 4;
const RET_ENOSYS = (SECCOMP_RET_ERRNO | errnoNumber('ENOSYS')) >>> 0;

export interface Instruction {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

const ld = (offset: number): Instruction => ({ code: BPF_LD_W_ABS, jt: 0, jf: 0, k: offset });
const ret = (k: number): Instruction => ({ code: BPF_RET_K, jt: 0, jf: 0, k });
const jump = (code: number, k: number, jt: number, jf: number): Instruction => ({ code, jt, jf, k: k >>> 0 });
/** Stands for a jump to the program after the stub; resolved once the stub's length is known. */
const TO_FILTER: Instruction = { code: BPF_JMP_JA, jt: 0, jf: 0, k: -1 };

/** ENOSYS for numbers above `nr`: the next instruction is taken when the number is not above it. */
function above(nr: number): Instruction[] {
  return [jump(BPF_JMP_JGT_K, nr, 0, 1), ret(RET_ENOSYS)];
}

/** The body of one AUDIT_ARCH's section, the number loaded; each path ends in a jump to the filter. */
function section(arch: number, last: ReadonlyMap<number, number>): Instruction[] {
  const body: Instruction[] = [ld(SECCOMP_DATA_NR)];
  if (arch === AUDIT_ARCH_S390 || arch === AUDIT_ARCH_S390X) body.push(jump(BPF_JMP_JEQ_K, 0, 0, 1), ret(RET_ENOSYS));
  if (arch !== AUDIT_ARCH_X86_64) return [...body, ...above(last.get(arch)!), TO_FILTER];
  const native = last.has(AUDIT_ARCH_X86_64) ? [...above(last.get(AUDIT_ARCH_X86_64)!), TO_FILTER] : [TO_FILTER];
  const x32 = last.has(SCMP_ARCH_X32) ? [...above(last.get(SCMP_ARCH_X32)!), TO_FILTER] : [];
  // An x32 number skips the native checks: to the x32 ones, or to the native part's last jump without any.
  const skip = x32.length ? native.length : native.length - 1;
  return [...body, jump(BPF_JMP_JSET_K, X32_SYSCALL_BIT, skip, 0), ...native, ...x32];
}

/**
 * The stub for these largest numbers (by libseccomp architecture token; x32 shares
 * AUDIT_ARCH_X86_64's section), sections in the order given. Empty without any.
 */
export function enosysStub(lastSyscalls: readonly { arch: number; nr: number }[]): Instruction[] {
  if (lastSyscalls.length === 0) return [];
  const last = new Map(lastSyscalls.map((l) => [l.arch, l.nr]));
  const auditArchs = [...new Set(lastSyscalls.map((l) => (l.arch === SCMP_ARCH_X32 ? AUDIT_ARCH_X86_64 : l.arch)))];
  const program: Instruction[] = [ld(SECCOMP_DATA_ARCH)];
  for (const arch of auditArchs) {
    const body = section(arch, last);
    // Another architecture skips the section: on to the next one, or to the filter after the last.
    program.push(jump(BPF_JMP_JEQ_K, arch, 0, body.length), ...body);
  }
  return program.map((insn, pc) => (insn === TO_FILTER ? { ...insn, k: program.length - pc - 1 } : insn));
}

/** Instructions as struct sock_filter bytes, in this machine's byte order. */
export function encodeProgram(program: readonly Instruction[]): Uint8Array {
  const bytes = new Uint8Array(program.length * SOCK_FILTER_SIZE);
  const view = new DataView(bytes.buffer);
  program.forEach((insn, i) => {
    const at = i * SOCK_FILTER_SIZE;
    view.setUint16(at, insn.code, LITTLE_ENDIAN);
    view.setUint8(at + 2, insn.jt);
    view.setUint8(at + 3, insn.jf);
    view.setUint32(at + 4, insn.k, LITTLE_ENDIAN);
  });
  return bytes;
}

/** struct sock_filter bytes in this machine's byte order as instructions. */
export function decodeProgram(bytes: Uint8Array): Instruction[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const program: Instruction[] = [];
  for (let at = 0; at + SOCK_FILTER_SIZE <= bytes.byteLength; at += SOCK_FILTER_SIZE) {
    program.push({ code: view.getUint16(at, LITTLE_ENDIAN), jt: view.getUint8(at + 2), jf: view.getUint8(at + 3), k: view.getUint32(at + 4, LITTLE_ENDIAN) });
  }
  return program;
}
