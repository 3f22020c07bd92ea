import { SyscallError } from '../../src/core/errors';

/** The SyscallError `fn` throws, for asserting syscall, code and paths together. */
export function caught(fn: () => unknown): SyscallError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SyscallError) return err;
    throw err;
  }
  throw new Error('expected a SyscallError');
}

/** The syscall, errno name and paths of the SyscallError `fn` throws. */
export function errorOf(fn: () => unknown): { syscall: string; code: string; paths: readonly string[] } {
  const { syscall, code, paths } = caught(fn);
  return { syscall, code, paths };
}
