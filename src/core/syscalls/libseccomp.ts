/**
 * libseccomp (2.5 and later) through koffi, for the real port's seccompCompile: builds a
 * filter and exports its BPF program, which the port then loads with seccomp(2) itself.
 * The library is loaded on first use, from the filesystem the process sees then.
 */
import fs = require('fs');
import os = require('os');
import type * as Koffi from 'koffi';
import { LITTLE_ENDIAN } from '../constants';
import { StepError, SyscallError, errnoNumber } from '../errors';
import { SECCOMP_RET_DATA, SECCOMP_RET_USER_NOTIF } from '../seccomp/names';
import type { SeccompCompiled, SeccompFilter } from './types';

const LIBSECCOMP = 'libseccomp.so.2';

// libseccomp's seccomp.h
const SCMP_ARCH_NATIVE = 0;
/** What the resolve calls return for a name libseccomp does not know. */
const NR_SCMP_ERROR = -1;
const SCMP_FLTATR_CTL_OPTIMIZE = 8;
/** libseccomp's binary-tree layout, an SCMP_FLTATR_CTL_OPTIMIZE level. */
const OPTIMIZE_BINARY_TREE = 2;
/** struct scmp_arg_cmp: unsigned int arg, enum scmp_compare op, uint64_t datum_a, datum_b (8-aligned). */
const ARG_CMP_SIZE = 24;
/** seccomp_arch_add's answer for an architecture already in the filter (the native one). */
const EEXIST = 17;
/** libseccomp's API level at which the library and the kernel support SCMP_ACT_NOTIFY (seccomp_api_get(3)). */
const NOTIFY_API_LEVEL = 5;

type Libseccomp = ReturnType<typeof bind>;
let cached: Libseccomp | undefined;

function bind(koffi: typeof Koffi) {
  let lib: Koffi.LibraryHandle;
  try {
    lib = koffi.load(LIBSECCOMP);
  } catch (err) {
    throw new StepError(`linux.seccomp: ${LIBSECCOMP} cannot be loaded (${(err as Error).message}); a seccomp filter needs libseccomp 2.5 or later`);
  }
  return {
    init: lib.func('void *seccomp_init(uint32_t def_action)'),
    release: lib.func('void seccomp_release(void *ctx)'),
    archNative: lib.func('uint32_t seccomp_arch_native(void)'),
    archAdd: lib.func('int seccomp_arch_add(void *ctx, uint32_t arch_token)'),
    attrSet: lib.func('int seccomp_attr_set(void *ctx, int attr, uint32_t value)'),
    resolve: lib.func('int seccomp_syscall_resolve_name_arch(uint32_t arch_token, const char *name)'),
    ruleAdd: lib.func('int seccomp_rule_add_array(void *ctx, uint32_t action, int syscall, unsigned int arg_cnt, const uint8_t *arg_array)'),
    exportBpf: lib.func('int seccomp_export_bpf(void *ctx, int fd)'),
    apiGet: lib.func('unsigned int seccomp_api_get(void)'),
    version: lib.func('const void *seccomp_version(void)'),
  };
}

/**
 * What, besides the filter, decides the program libseccomp builds here: its version,
 * its API level (what it found the kernel supports, seccomp_api_get(3)), the kernel
 * (uname(2): release, version, machine) and this process's architecture.
 */
export function libseccompIdentity(koffi: typeof Koffi): string {
  const lib = (cached ??= bind(koffi));
  // struct scmp_version { unsigned int major, minor, micro; }
  const [major, minor, micro] = koffi.decode(lib.version(), 'unsigned int', 3) as Uint32Array;
  // The native architecture is the process's ABI (an x86 Node on x86_64 builds x86 filters), not only the machine's.
  return `libseccomp ${major}.${minor}.${micro} api ${lib.apiGet() as number}; ${os.release()} ${os.version()} ${os.machine()}; ${process.arch}`;
}

/** The comparisons as an array of struct scmp_arg_cmp, in this machine's byte order. */
function argArray(args: SeccompFilter['rules'][number]['args']): Buffer | null {
  if (args.length === 0) return null;
  const buf = Buffer.alloc(args.length * ARG_CMP_SIZE);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  args.forEach((a, i) => {
    const at = i * ARG_CMP_SIZE;
    view.setUint32(at, a.arg, LITTLE_ENDIAN);
    view.setUint32(at + 4, a.op, LITTLE_ENDIAN);
    view.setBigUint64(at + 8, a.datumA, LITTLE_ENDIAN);
    view.setBigUint64(at + 16, a.datumB, LITTLE_ENDIAN);
  });
  return buf;
}

/** libseccomp answers a negative errno. */
function checked(name: string, ret: number, path: string, detail?: string): void {
  if (ret < 0) throw new SyscallError(name, -ret, [path], detail);
}

/**
 * Builds `filter` and writes its program into `scratchFd` (an empty memfd the caller
 * owns), then reads it back. Rules of names libseccomp does not know on the native
 * architecture are left out and listed, as runc leaves them out.
 */
export function compileSeccomp(koffi: typeof Koffi, filter: SeccompFilter, scratchFd: number): SeccompCompiled {
  const lib = (cached ??= bind(koffi));
  if (filter.rules.some((r) => (r.action & ~SECCOMP_RET_DATA) >>> 0 === SECCOMP_RET_USER_NOTIF)) {
    const level = lib.apiGet() as number;
    if (level < NOTIFY_API_LEVEL) throw new StepError(`linux.seccomp: SCMP_ACT_NOTIFY needs libseccomp's API level ${NOTIFY_API_LEVEL} (libseccomp 2.5 on Linux 5.0 or later); this one has ${level}`);
  }
  const ctx = lib.init(filter.defaultAction) as unknown;
  if (ctx === null) throw new SyscallError('seccomp_init', errnoNumber('EINVAL'), [`0x${filter.defaultAction.toString(16)}`], 'linux.seccomp.defaultAction');
  const unknown = new Set<string>();
  try {
    // Older libseccomp has no binary tree; the filter works without it, only slower.
    if (filter.binaryTree) lib.attrSet(ctx, SCMP_FLTATR_CTL_OPTIMIZE, OPTIMIZE_BINARY_TREE);
    for (const { arch, field } of filter.architectures) {
      const ret = lib.archAdd(ctx, arch) as number;
      if (ret !== -EEXIST) checked('seccomp_arch_add', ret, `0x${arch.toString(16)}`, field);
    }
    for (const rule of filter.rules) {
      const nr = lib.resolve(SCMP_ARCH_NATIVE, rule.syscall) as number;
      if (nr === NR_SCMP_ERROR) {
        unknown.add(rule.syscall);
        continue;
      }
      checked('seccomp_rule_add', lib.ruleAdd(ctx, rule.action, nr, rule.args.length, argArray(rule.args)) as number, rule.syscall, rule.field);
    }
    checked('seccomp_export_bpf', lib.exportBpf(ctx, scratchFd) as number, 'linux.seccomp');
  } finally {
    lib.release(ctx);
  }
  const size = fs.fstatSync(scratchFd).size;
  const program = Buffer.alloc(size);
  let at = 0;
  for (let n = 1; at < size && n > 0; at += n) n = fs.readSync(scratchFd, program, at, size - at, at);
  if (at < size) throw new SyscallError('read', errnoNumber('EIO'), ['linux.seccomp'], `${at} of the program's ${size} bytes`);
  const nativeArch = lib.archNative() as number;
  const arches = [...new Set(filter.architectures.map((a) => a.arch))];
  return { program, nativeArch, unknown: [...unknown], lastSyscalls: lastSyscalls(lib, arches, filter.names) };
}

/**
 * For each architecture, the largest number above 0 one of `names` has there (libseccomp
 * gives x32's with __X32_SYSCALL_BIT). Only for the profile's architectures, as runc
 * judges them: the native one, which libseccomp's filter always holds, gets no ENOSYS
 * stub unless the profile lists it, and a syscall newer than the profile then meets the
 * default action.
 */
function lastSyscalls(lib: Libseccomp, arches: readonly number[], names: readonly string[]): { arch: number; nr: number }[] {
  const unique = [...new Set(names)];
  const last: { arch: number; nr: number }[] = [];
  for (const arch of arches) {
    let nr = 0;
    for (const name of unique) nr = Math.max(nr, lib.resolve(arch, name) as number);
    if (nr > 0) last.push({ arch, nr });
  }
  return last;
}
