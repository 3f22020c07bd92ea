import type { LinuxSyscallsOptions } from '../core/syscalls/linux-options';
import type { Syscalls } from '../core/syscalls/types';

/**
 * The real syscall port (libc through koffi), loaded on first use so that planning,
 * testing and config work never load the native module. `opts`: the signals the
 * program starts ignoring, and the directory where built seccomp programs are kept
 * (`seccompCache`; none unless given).
 */
export function linuxSyscalls(opts: LinuxSyscallsOptions = {}): Syscalls {
  const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
  return new LinuxSyscalls(opts);
}
