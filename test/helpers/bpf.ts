/**
 * A classic BPF interpreter for seccomp programs, for tests: runs a program on one
 * syscall (struct seccomp_data: nr, arch, args) the way the kernel's seccomp filter does,
 * with the instructions the ENOSYS stub and the fake's programs use.
 */
import { BPF_JMP_JA, BPF_JMP_JEQ_K, BPF_JMP_JGT_K, BPF_JMP_JSET_K, BPF_LD_W_ABS, BPF_RET_K, type Instruction } from '../../src/core/seccomp/enosys';

const BPF_JMP_JGE_K = 0x35;

export interface SeccompData {
  nr: number;
  arch: number;
}

/** What the program returns for `data`; throws on an instruction it does not know or a run off its end. */
export function runFilter(program: readonly Instruction[], data: SeccompData): number {
  let a = 0;
  for (let pc = 0; pc < program.length; pc++) {
    const { code, jt, jf, k } = program[pc];
    switch (code) {
      case BPF_LD_W_ABS:
        if (k === 0) a = data.nr >>> 0;
        else if (k === 4) a = data.arch >>> 0;
        else throw new Error(`load of offset ${k}`);
        break;
      case BPF_JMP_JA:
        pc += k;
        break;
      case BPF_JMP_JEQ_K:
        pc += a === k ? jt : jf;
        break;
      case BPF_JMP_JGT_K:
        pc += a > k ? jt : jf;
        break;
      case BPF_JMP_JGE_K:
        pc += a >= k ? jt : jf;
        break;
      case BPF_JMP_JSET_K:
        pc += (a & k) !== 0 ? jt : jf;
        break;
      case BPF_RET_K:
        return k >>> 0;
      default:
        throw new Error(`instruction 0x${code.toString(16)} at ${pc}`);
    }
  }
  throw new Error('the program ran off its end');
}
