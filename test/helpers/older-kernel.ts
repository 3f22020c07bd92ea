import { SyscallError, errnoNumber } from '../../src/core/errors';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';

/**
 * Calls a kernel may lack, each answered with ENOSYS where it does: openat2(2) before
 * 5.6 (every in-root lookup then walks the path component by component), fsopen(2) and
 * open_tree(2) before 5.2 (tmpcopyup then mounts its tmpfs on the target; a bind with
 * steps after its mount is made with mount(2) and opened again to be checked; a kernel
 * without open_tree(2) has no open_tree_attr(2) either), open_tree_attr(2) before 6.15
 * (a bind's flags are then given to its copy by mount_setattr(2)), mount_setattr(2)
 * before 5.12 (a bind's flags are then given by a remount after its copy is attached; a
 * kernel without it has no open_tree_attr(2) either).
 */
export type MissingCall = 'openat2' | 'fsopen' | 'openTree' | 'openTreeAttr' | 'mountSetattr';

/** A class of the real port; TypeScript takes a mixin's base only with a constructor of `any[]`. */
type PortClass = new (...args: any[]) => LinuxSyscalls;

/**
 * `Base` (the real port, or a class of it such as a test's racing port) as on a kernel
 * without the calls `missing`. Children load it by path
 * (`require('./test/helpers/older-kernel')`).
 */
export function withoutCalls<B extends PortClass>(Base: B, missing: readonly MissingCall[]): B {
  const lacks = new Set(missing);
  return class extends Base {
    override openat2(dirfd: number, path: string, flags: number, mode: number, resolve: bigint): number {
      if (lacks.has('openat2')) throw new SyscallError('openat2', errnoNumber('ENOSYS'), [path]);
      return super.openat2(dirfd, path, flags, mode, resolve);
    }

    override fsopen(fstype: string, flags: number): number {
      if (lacks.has('fsopen')) throw new SyscallError('fsopen', errnoNumber('ENOSYS'), [fstype]);
      return super.fsopen(fstype, flags);
    }

    override openTree(dirfd: number, path: string, flags: number): number {
      if (lacks.has('openTree')) throw new SyscallError('open_tree', errnoNumber('ENOSYS'), [path]);
      return super.openTree(dirfd, path, flags);
    }

    override openTreeAttr(dirfd: number, path: string, flags: number, attrSet: bigint, attrClr: bigint, propagation: bigint): number {
      if (lacks.has('openTree') || lacks.has('openTreeAttr') || lacks.has('mountSetattr')) throw new SyscallError('open_tree_attr', errnoNumber('ENOSYS'), [path]);
      return super.openTreeAttr(dirfd, path, flags, attrSet, attrClr, propagation);
    }

    override mountSetattr(dirfd: number, path: string, atFlags: number, attrSet: bigint, attrClr: bigint, propagation: bigint, usernsFd?: number): void {
      if (lacks.has('mountSetattr')) throw new SyscallError('mount_setattr', errnoNumber('ENOSYS'), [path]);
      super.mountSetattr(dirfd, path, atFlags, attrSet, attrClr, propagation, usernsFd);
    }
  };
}

/** The real port on a kernel before 5.6: openat2(2) answers ENOSYS. */
export class WithoutOpenat2 extends withoutCalls(LinuxSyscalls, ['openat2']) {}

/**
 * Whether this machine's kernel has open_tree_attr(2) (Linux 6.15): asked of an empty
 * path without AT_EMPTY_PATH, it answers ENOENT from the path's lookup where it exists
 * and ENOSYS where it does not; nothing is looked up or opened. Rows that count the
 * calls of a bind's copy expect it only where it is there.
 */
export function kernelHasOpenTreeAttr(): boolean {
  try {
    new LinuxSyscalls().openTreeAttr(-1, '', 0, 0n, 0n, 0n);
  } catch (err) {
    return !(err instanceof SyscallError && err.code === 'ENOSYS');
  }
  throw new Error('open_tree_attr(2) of an empty path answered a descriptor');
}
