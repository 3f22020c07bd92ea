import type { Syscalls } from '../core/syscalls/types';

/**
 * The real syscall port (libc through koffi), loaded on first use so that planning,
 * testing and config work never load the native module.
 */
export function linuxSyscalls(): Syscalls {
  const { LinuxSyscalls } = require('../core/syscalls/linux') as typeof import('../core/syscalls/linux');
  return new LinuxSyscalls();
}
