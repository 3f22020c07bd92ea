import { SyscallError, errnoNumber } from '../../src/core/errors';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';

/**
 * The real port as on a kernel before 5.2: open_tree(2) answers ENOSYS, so a bind with
 * steps after its mount is made with mount(2) and opened again to be checked. Children load
 * it by path (`require('./test/helpers/without-open-tree')`).
 */
export class WithoutOpenTree extends LinuxSyscalls {
  override openTree(_dirfd: number, path: string): number {
    throw new SyscallError('open_tree', errnoNumber('ENOSYS'), [path]);
  }
}
