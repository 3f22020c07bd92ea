import {
  BPF_JMP_JA,
  BPF_JMP_JEQ_K,
  BPF_JMP_JGT_K,
  BPF_JMP_JSET_K,
  BPF_LD_W_ABS,
  BPF_RET_K,
  decodeProgram,
  encodeProgram,
  enosysStub,
  type Instruction,
} from '../../../src/core/seccomp/enosys';
import { AUDIT_ARCH_AARCH64, AUDIT_ARCH_I386, AUDIT_ARCH_S390X, AUDIT_ARCH_X86_64, SCMP_ARCH_X32, X32_SYSCALL_BIT } from '../../../src/core/seccomp/names';
import { runFilter } from '../../helpers/bpf';

/** What the program after the stub (libseccomp's) would return: any value the stub never returns. */
const FILTER = 0x7fff1234;
const ENOSYS = 0x00050000 | 38;

function judge(last: { arch: number; nr: number }[], arch: number, nr: number): string {
  const program = [...enosysStub(last), { code: BPF_RET_K, jt: 0, jf: 0, k: FILTER }];
  const ret = runFilter(program, { arch, nr });
  return ret === FILTER ? 'filter' : ret === ENOSYS ? 'ENOSYS' : `0x${ret.toString(16)}`;
}

describe('the ENOSYS stub', () => {
  test('no largest number: no stub', () => {
    expect(enosysStub([])).toEqual([]);
  });

  test('x86_64 alone, as instructions: arch, its section (x32 numbers straight to the filter), the number above the largest returning ENOSYS', () => {
    const ins = (code: number, k: number, jt = 0, jf = 0): Instruction => ({ code, jt, jf, k });
    expect(enosysStub([{ arch: AUDIT_ARCH_X86_64, nr: 334 }])).toEqual([
      ins(BPF_LD_W_ABS, 4),
      ins(BPF_JMP_JEQ_K, AUDIT_ARCH_X86_64, 0, 5),
      ins(BPF_LD_W_ABS, 0),
      ins(BPF_JMP_JSET_K, X32_SYSCALL_BIT, 2, 0),
      ins(BPF_JMP_JGT_K, 334, 0, 1),
      ins(BPF_RET_K, ENOSYS),
      // To the instruction after the stub: the filter's first.
      ins(BPF_JMP_JA, 0),
    ]);
  });

  test.each([
    // [what, largest numbers, arch, nr, outcome]
    ['x86_64 at the largest number', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }], AUDIT_ARCH_X86_64, 334, 'filter'],
    ['x86_64 above it', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }], AUDIT_ARCH_X86_64, 335, 'ENOSYS'],
    ['x86_64 far below', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }], AUDIT_ARCH_X86_64, 0, 'filter'],
    ['an x32 number without an x32 largest', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }], AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 999, 'filter'],
    ['an architecture without a section', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }], AUDIT_ARCH_AARCH64, 999, 'filter'],
    ['x32 at its largest', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }, { arch: SCMP_ARCH_X32, nr: X32_SYSCALL_BIT + 300 }], AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 300, 'filter'],
    ['x32 above its largest', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }, { arch: SCMP_ARCH_X32, nr: X32_SYSCALL_BIT + 300 }], AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 301, 'ENOSYS'],
    ['x86_64 judged by its own largest beside x32', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }, { arch: SCMP_ARCH_X32, nr: X32_SYSCALL_BIT + 300 }], AUDIT_ARCH_X86_64, 335, 'ENOSYS'],
    ['x32 alone: x86_64 numbers pass', [{ arch: SCMP_ARCH_X32, nr: X32_SYSCALL_BIT + 300 }], AUDIT_ARCH_X86_64, 999, 'filter'],
    ['x32 alone: above its largest', [{ arch: SCMP_ARCH_X32, nr: X32_SYSCALL_BIT + 300 }], AUDIT_ARCH_X86_64, X32_SYSCALL_BIT + 301, 'ENOSYS'],
    ['i386 beside x86_64, above its own', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }, { arch: AUDIT_ARCH_I386, nr: 400 }], AUDIT_ARCH_I386, 401, 'ENOSYS'],
    ['i386 beside x86_64, below its own but above x86_64s', [{ arch: AUDIT_ARCH_X86_64, nr: 334 }, { arch: AUDIT_ARCH_I386, nr: 400 }], AUDIT_ARCH_I386, 350, 'filter'],
    ['x86_64 after an i386 section', [{ arch: AUDIT_ARCH_I386, nr: 400 }, { arch: AUDIT_ARCH_X86_64, nr: 334 }], AUDIT_ARCH_X86_64, 335, 'ENOSYS'],
    ['s390x: syscall 0, the multiplexer', [{ arch: AUDIT_ARCH_S390X, nr: 400 }], AUDIT_ARCH_S390X, 0, 'ENOSYS'],
    ['s390x: below its largest', [{ arch: AUDIT_ARCH_S390X, nr: 400 }], AUDIT_ARCH_S390X, 1, 'filter'],
    ['s390x: above it', [{ arch: AUDIT_ARCH_S390X, nr: 400 }], AUDIT_ARCH_S390X, 401, 'ENOSYS'],
  ])('%s', (_what, last, arch, nr, outcome) => {
    expect(judge(last, arch, nr)).toBe(outcome);
  });
});

describe('struct sock_filter encoding', () => {
  test('8 bytes per instruction in this machine\'s byte order, and back', () => {
    const program: Instruction[] = [
      { code: BPF_JMP_JEQ_K, jt: 1, jf: 2, k: AUDIT_ARCH_X86_64 },
      { code: BPF_RET_K, jt: 0, jf: 0, k: 0x80000000 },
    ];
    const bytes = encodeProgram(program);
    expect(bytes.length).toBe(16);
    // x86_64 and arm64 are little-endian: code 0x0015, jt, jf, k 0xc000003e.
    expect([...bytes.slice(0, 8)]).toEqual([0x15, 0, 1, 2, 0x3e, 0, 0, 0xc0]);
    expect(decodeProgram(bytes)).toEqual(program);
  });
});
