/**
 * The names a seccomp profile (OCI linux.seccomp) uses and the kernel's and libseccomp's
 * values for them.
 */

// A filter's return value (include/uapi/linux/seccomp.h): the action in the high 16 bits
// (SECCOMP_RET_ACTION_FULL), its data in the low 16 (SECCOMP_RET_DATA), an errno for
// SECCOMP_RET_ERRNO and a message for the tracer for SECCOMP_RET_TRACE. libseccomp's
// SCMP_ACT_* values are these.
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;
export const SECCOMP_RET_DATA = 0xffff;

/** The profile's action names. SCMP_ACT_KILL is libseccomp's old name of SCMP_ACT_KILL_THREAD. */
export const ACTIONS: ReadonlyMap<string, number> = new Map([
  ['SCMP_ACT_KILL', SECCOMP_RET_KILL_THREAD],
  ['SCMP_ACT_KILL_THREAD', SECCOMP_RET_KILL_THREAD],
  ['SCMP_ACT_KILL_PROCESS', SECCOMP_RET_KILL_PROCESS],
  ['SCMP_ACT_TRAP', SECCOMP_RET_TRAP],
  ['SCMP_ACT_ERRNO', SECCOMP_RET_ERRNO],
  ['SCMP_ACT_TRACE', SECCOMP_RET_TRACE],
  ['SCMP_ACT_LOG', SECCOMP_RET_LOG],
  ['SCMP_ACT_ALLOW', SECCOMP_RET_ALLOW],
  ['SCMP_ACT_NOTIFY', SECCOMP_RET_USER_NOTIF],
]);

/** The actions whose data is the errnoRet (SECCOMP_RET_DATA). */
export const ERRNO_ACTIONS: ReadonlySet<number> = new Set([SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE]);

// AUDIT_ARCH_* (include/uapi/linux/audit.h): the ELF machine (EM_*) with
// __AUDIT_ARCH_64BIT (0x80000000) and __AUDIT_ARCH_LE (0x40000000); a filter reads it in
// seccomp_data.arch, and libseccomp's architecture tokens are these values.
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_ARM = 0x40000028;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
export const AUDIT_ARCH_S390 = 0x00000016;
export const AUDIT_ARCH_S390X = 0x80000016;
/**
 * libseccomp's token for x32, which is no AUDIT_ARCH: the kernel shows an x32 syscall to a
 * filter as AUDIT_ARCH_X86_64 with __X32_SYSCALL_BIT set in its number
 * (arch/x86/include/uapi/asm/unistd.h), and libseccomp gives x32 numbers with that bit.
 */
export const SCMP_ARCH_X32 = 0x4000003e;
export const X32_SYSCALL_BIT = 0x40000000;

/** The profile's architecture names, as runc and crun take them. */
export const ARCHITECTURES: ReadonlyMap<string, number> = new Map([
  ['SCMP_ARCH_X86', AUDIT_ARCH_I386],
  ['SCMP_ARCH_X86_64', AUDIT_ARCH_X86_64],
  ['SCMP_ARCH_X32', SCMP_ARCH_X32],
  ['SCMP_ARCH_ARM', AUDIT_ARCH_ARM],
  ['SCMP_ARCH_AARCH64', AUDIT_ARCH_AARCH64],
  ['SCMP_ARCH_MIPS', 0x00000008],
  ['SCMP_ARCH_MIPS64', 0x80000008],
  ['SCMP_ARCH_MIPS64N32', 0xa0000008],
  ['SCMP_ARCH_MIPSEL', 0x40000008],
  ['SCMP_ARCH_MIPSEL64', 0xc0000008],
  ['SCMP_ARCH_MIPSEL64N32', 0xe0000008],
  ['SCMP_ARCH_PPC', 0x00000014],
  ['SCMP_ARCH_PPC64', 0x80000015],
  ['SCMP_ARCH_PPC64LE', 0xc0000015],
  ['SCMP_ARCH_S390', AUDIT_ARCH_S390],
  ['SCMP_ARCH_S390X', AUDIT_ARCH_S390X],
  ['SCMP_ARCH_RISCV64', 0xc00000f3],
  ['SCMP_ARCH_LOONGARCH64', 0xc0000102],
]);

/** enum scmp_compare (libseccomp's seccomp.h). */
export const OPERATORS: ReadonlyMap<string, number> = new Map([
  ['SCMP_CMP_NE', 1],
  ['SCMP_CMP_LT', 2],
  ['SCMP_CMP_LE', 3],
  ['SCMP_CMP_EQ', 4],
  ['SCMP_CMP_GE', 5],
  ['SCMP_CMP_GT', 6],
  ['SCMP_CMP_MASKED_EQ', 7],
]);

// seccomp(2) SECCOMP_SET_MODE_FILTER flags (include/uapi/linux/seccomp.h).
export const SECCOMP_FILTER_FLAG_TSYNC = 1 << 0;
export const SECCOMP_FILTER_FLAG_LOG = 1 << 1;
export const SECCOMP_FILTER_FLAG_SPEC_ALLOW = 1 << 2;
export const SECCOMP_FILTER_FLAG_NEW_LISTENER = 1 << 3;
export const SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV = 1 << 5;

/** The profile's flag names. */
export const FLAGS: ReadonlyMap<string, number> = new Map([
  ['SECCOMP_FILTER_FLAG_TSYNC', SECCOMP_FILTER_FLAG_TSYNC],
  ['SECCOMP_FILTER_FLAG_LOG', SECCOMP_FILTER_FLAG_LOG],
  ['SECCOMP_FILTER_FLAG_SPEC_ALLOW', SECCOMP_FILTER_FLAG_SPEC_ALLOW],
  ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV],
]);

/** A syscall has six arguments at most (struct seccomp_data's args[6]). */
export const SYSCALL_ARGS = 6;
