import { SyscallError, errnoNumber } from '../../src/core/errors';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';

/**
 * The real port as on a kernel before 5.6: openat2(2) answers ENOSYS, so every in-root
 * lookup through it walks the path component by component. Children load it by path
 * (`require('./test/helpers/without-openat2')`).
 */
export class WithoutOpenat2 extends LinuxSyscalls {
  override openat2(_dirfd: number, path: string): number {
    throw new SyscallError('openat2', errnoNumber('ENOSYS'), [path]);
  }
}
