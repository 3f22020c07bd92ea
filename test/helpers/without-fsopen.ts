import { SyscallError, errnoNumber } from '../../src/core/errors';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';

/**
 * The real port as on a kernel before 5.2: fsopen(2) answers ENOSYS, so tmpcopyup stages
 * its tmpfs in /tmp. Children load it by path (`require('./test/helpers/without-fsopen')`).
 */
export class WithoutFsopen extends LinuxSyscalls {
  override fsopen(fstype: string): number {
    throw new SyscallError('fsopen', errnoNumber('ENOSYS'), [fstype]);
  }
}
