/**
 * The container's program is started by mountkit's Node with execve(2), and during that
 * call the program's /proc/self/exe is still Node's file: a program whose interpreter is
 * /proc/self/exe (`#!/proc/self/exe`) runs that very file as the container's process,
 * whose root may then open it for writing (through /proc/PID/exe or a descriptor kept
 * from it) once no process runs it (ETXTBSY only while one does, and not at all on
 * Linux 6.11 and 6.12), and so replace the host's node: the class of CVE-2019-5736.
 *
 * So the Node that execs the program runs from a read-only view of its own file where
 * the file could be written to (faccessat(2) W_OK as the process's effective ids, before
 * it takes the container's): a detached copy of the mount holding it, made by open_tree(2)
 * with OPEN_TREE_CLONE and marked MOUNT_ATTR_RDONLY by mount_setattr(2), as crun
 * re-executes itself from such a copy. The copy belongs to no mount namespace (an
 * anonymous one, freed with its last descriptor): nothing propagates from it to the host,
 * and no process can make it read-write again (a remount and mount_setattr(2) need a
 * mount of the caller's namespace). Opening its file for writing fails with EROFS. Node
 * re-executes itself from it through /proc/thread-self/fd/N, which execve(2) resolves
 * before it closes the close-on-exec descriptor (an ELF file needs no path afterwards).
 * A kernel without open_tree(2) or mount_setattr(2) (before 5.12) gets runc's kind of
 * copy instead: the file's bytes in a memfd sealed against writes (memfdCopy).
 *
 * The re-executed Node's process.execPath is what /proc/self/exe reads as there (`/`, the
 * copy's root being the file): it is given the path it was started from in
 * NODE_PATH_ENV, which the CLI takes back before anything else reads it. bin/mountkit
 * sets it too where it starts Node from a read-only bind of node's file made in a
 * throwaway mount namespace (seal_node), which such a Node then finds read-only here, or
 * made in the container's own mount namespace, which the Node takes off that namespace
 * (NODE_BIND_ENV, detachLauncherBind) before anything else.
 */
import {
  AT_EACCESS,
  AT_EMPTY_PATH,
  AT_FDCWD,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  MNT_DETACH,
  MOUNT_ATTR_RDONLY,
  O_CLOEXEC,
  O_PATH,
  O_RDONLY,
  OPEN_TREE_CLONE,
  W_OK,
} from './constants';
import { StepError, SyscallError, naming } from './errors';
import { fdPath } from './in-root';
import type { Syscalls } from './syscalls/types';

/** The environment variable the re-executed Node finds its process.execPath in. */
export const NODE_PATH_ENV = 'MOUNTKIT_NODE_PATH';

/** The file the running Node was executed from, as the kernel holds it (proc(5)). */
export const OWN_EXE = '/proc/self/exe';

/**
 * The environment variable in which bin/mountkit names node's file where it bound that
 * file read-only onto itself in the container's own mount namespace (its in-place seal),
 * for the Node it starts to take the bind off again (detachLauncherBind).
 */
export const NODE_BIND_ENV = 'MOUNTKIT_NODE_BIND';

/**
 * Takes bin/mountkit's bind of node's file at `path` off this mount namespace
 * (umount2(2) MNT_DETACH) where Node runs from it: a mount of the container's namespace
 * that the run's mount table and the container would show, and that a bind of node's
 * directory into the rootfs would carry along. The detached mount stays this process's
 * file, held by its execution, and no namespace holds it: nobody can remount it. Only the
 * mount Node runs from is taken off (statx(2) STATX_MNT_ID of `path` and of OWN_EXE,
 * the mount's root at `path`); where the launcher's mount(8) made none, another mount
 * there, or the file itself, is left as it is. True when it took the bind off.
 */
export function detachLauncherBind(sys: Syscalls, path: string): boolean {
  return naming(STEP, () => {
    const at = sys.open(path, O_PATH | O_CLOEXEC, 0);
    let runsFrom: boolean;
    try {
      const own = sys.open(OWN_EXE, O_PATH | O_CLOEXEC, 0);
      try {
        const bind = sys.fstatMount(at);
        runsFrom = bind.mountRoot !== false && bind.mntId === sys.fstatMount(own).mntId;
      } finally {
        sys.close(own);
      }
    } finally {
      sys.close(at);
    }
    if (runsFrom) sys.umount2(path, MNT_DETACH);
    return runsFrom;
  });
}

/** What names the step in its errors. */
const STEP = 'running Node from a read-only copy of its file, which the container may not write (CVE-2019-5736)';

/** What a Node is started with, and where from: the parts of the re-execution's execve(2). */
export interface NodeStart {
  /** The path Node was started from (process.execPath). */
  execPath: string;
  /** Node's own options (process.execArgv). */
  execArgv: readonly string[];
  /** The script and its arguments (process.argv from its second). */
  args: readonly string[];
  /** The environment (process.env). */
  env: Readonly<Record<string, string | undefined>>;
}

/** The argument and environment lists of the re-execution: the same Node, options, script and arguments, and NODE_PATH_ENV added. */
export function resealedExec(start: NodeStart): { argv: string[]; envp: string[] } {
  const env: Record<string, string | undefined> = { ...start.env, [NODE_PATH_ENV]: start.execPath };
  const envp = Object.entries(env).flatMap(([key, value]) => (value === undefined ? [] : [`${key}=${value}`]));
  return { argv: [start.execPath, ...start.execArgv, ...start.args], envp };
}

/**
 * Whether the container's root could write the file this Node runs from, were it to run
 * that file: faccessat(2) of OWN_EXE for W_OK as this process's effective ids (AT_EACCESS),
 * which are those of the root the container starts as. False where the kernel refuses it
 * (EROFS: a read-only mount, as the copy made here is; EACCES or EPERM: a root of a user
 * namespace that does not map the file's owner), and for the memfd copy made on a kernel
 * without mount_setattr(2), which faccessat(2) finds writable but which has F_SEAL_WRITE
 * (fcntl(2) F_GET_SEALS: every write(2) to it fails with EPERM; EINVAL, no seals, for a
 * file of a filesystem other than tmpfs). Any other answer is thrown, named.
 */
export function ownFileWritable(sys: Syscalls): boolean {
  return naming(STEP, () => {
    try {
      sys.faccessat(AT_FDCWD, OWN_EXE, W_OK, AT_EACCESS);
    } catch (err) {
      if (err instanceof SyscallError && NOT_WRITABLE.has(err.code)) return false;
      throw err;
    }
    return (ownSeals(sys) & F_SEAL_WRITE) === 0;
  });
}

/**
 * The seals of the file OWN_EXE opens (fcntl(2) F_GET_SEALS); 0 for a file that takes
 * none (EINVAL), and for one this process may write but not read (EACCES: a mode such as
 * 0300 for its owner, or an LSM's refusal), which no memfd is: memfd_create(2) makes its
 * file 0777.
 */
function ownSeals(sys: Syscalls): number {
  try {
    return sys.getSeals(OWN_EXE);
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'EINVAL' || err.code === 'EACCES')) return 0;
    throw err;
  }
}

/** The errnos faccessat(2) refuses a write with. */
const NOT_WRITABLE: ReadonlySet<string> = new Set(['EROFS', 'EACCES', 'EPERM']);

/**
 * A read-only, detached copy of the mount holding this Node's file, as a close-on-exec
 * descriptor whose /proc path executes that file: open_tree(2) of OWN_EXE with
 * OPEN_TREE_CLONE, then mount_setattr(2) MOUNT_ATTR_RDONLY on it. On a kernel without
 * either (ENOSYS: open_tree before Linux 5.2, mount_setattr before 5.12) the file's bytes
 * in a sealed memfd instead (memfdCopy). Throws the call that failed (open_tree: EPERM
 * without CAP_SYS_ADMIN over this mount namespace; the memfd's calls), nothing left open.
 */
export function sealedCopy(sys: Syscalls): number {
  let copy: number;
  try {
    copy = sys.openTree(AT_FDCWD, OWN_EXE, OPEN_TREE_CLONE | O_CLOEXEC);
  } catch (err) {
    if (noSuchCall(err)) return memfdCopy(sys);
    throw err;
  }
  try {
    sys.mountSetattr(copy, '', AT_EMPTY_PATH, MOUNT_ATTR_RDONLY, 0n, 0n);
  } catch (err) {
    sys.close(copy);
    if (noSuchCall(err)) return memfdCopy(sys);
    throw err;
  }
  return copy;
}

/** The seals of memfdCopy: no write, no change of size, and no seal taken off or added. */
const COPY_SEALS = F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;

/**
 * A copy of this Node's file in memory, as runc copies its own binary on kernels without
 * the new mount API: memfd_create(2) with MFD_ALLOW_SEALING, close-on-exec, and
 * MFD_EXEC (Linux 6.3, where a seccomp profile answered the mount calls with ENOSYS:
 * without it the kernel warns, and with vm.memfd_noexec 1 makes the file one execve(2)
 * refuses; an older kernel refuses the flag, EINVAL, and is asked again without it;
 * vm.memfd_noexec 2 refuses it with EACCES, which is thrown); the bytes of
 * OWN_EXE copied in (copy_file_range(2), or read and write); then F_SEAL_WRITE,
 * F_SEAL_SHRINK, F_SEAL_GROW and F_SEAL_SEAL (fcntl(2) F_ADD_SEALS), after which no
 * process can change it (write(2) and a writable shared mapping fail with EPERM) or lift
 * the seals. No mount namespace or privilege is needed; it costs a copy of node's file
 * (about 100 MB) in memory for as long as a Node runs from it. Its descriptor, or the
 * call that failed thrown, nothing left open.
 */
export function memfdCopy(sys: Syscalls): number {
  const copy = executableMemfd(sys);
  try {
    const own = sys.open(OWN_EXE, O_RDONLY | O_CLOEXEC, 0);
    try {
      sys.copyFileRange(own, copy);
    } finally {
      sys.close(own);
    }
    sys.addSeals(copy, COPY_SEALS);
  } catch (err) {
    sys.close(copy);
    throw err;
  }
  return copy;
}

/** memfd_create(2) of memfdCopy's file: with MFD_EXEC, or without it where the kernel does not know it (EINVAL, before 6.3). */
function executableMemfd(sys: Syscalls): number {
  try {
    return sys.memfdCreate('node', MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
  } catch (err) {
    if (!(err instanceof SyscallError) || err.code !== 'EINVAL') throw err;
    return sys.memfdCreate('node', MFD_CLOEXEC | MFD_ALLOW_SEALING);
  }
}

/** Whether `err` is a syscall this kernel does not have (ENOSYS). */
function noSuchCall(err: unknown): boolean {
  return err instanceof SyscallError && err.code === 'ENOSYS';
}

/**
 * Re-executes this Node from sealedCopy: execve(2) of the copy's file through its
 * descriptor, with the same options, script, arguments and environment, and
 * NODE_PATH_ENV. Node marks every descriptor it was started with close-on-exec as it
 * starts (libuv's uv_disable_stdio_inheritance, all of them from 0 up): each of `keep`
 * that is open is cleared of FD_CLOEXEC first (fcntl(2) F_SETFD), so that the new Node
 * has it as this one was given it (the port's execve clears it on the standard streams
 * itself). Returns only by throwing, naming the call that failed, the descriptor closed.
 */
export function execSealedNode(sys: Syscalls, start: NodeStart, keep: readonly number[]): never {
  const { argv, envp } = resealedExec(start);
  return naming(STEP, () => {
    const copy = sealedCopy(sys);
    try {
      for (const fd of keep) {
        try {
          sys.clearCloexec(fd);
        } catch (err) {
          // One not open: nothing to keep.
          if (!(err instanceof SyscallError) || err.code !== 'EBADF') throw err;
        }
      }
      return sys.execve(fdPath(copy), argv, envp);
    } catch (err) {
      // An fcntl or the execve(2) that failed; nothing else returns here.
      if (err instanceof SyscallError) sys.close(copy);
      throw err;
    }
  });
}

/**
 * Whether `err`, from execSealedNode or sealedCopy, says the kernel has no call to make
 * either copy with: ENOSYS, which sealedCopy passes on only from memfd_create(2) (before
 * Linux 3.17) once open_tree(2) or mount_setattr(2) gave it too. The run then goes on
 * from Node's own file, with UNSEALED_WARNING.
 */
export function kernelCannotSeal(err: unknown): boolean {
  const cause = err instanceof StepError ? err.cause : err;
  return noSuchCall(cause);
}

/** The warning of a run whose Node could not be sealed (kernelCannotSeal). */
export const UNSEALED_WARNING =
  "this kernel has neither open_tree(2) and mount_setattr(2) (Linux 5.12) nor memfd_create(2) (3.17): the container's program is executed by a Node whose file the container's root may write (CVE-2019-5736); run only images you trust";

/** sealedCopy, or undefined where a call it makes fails (whoever runs from Node's file next makes one, or says why it cannot). */
export function sealedCopyOrNone(sys: Syscalls): number | undefined {
  try {
    return sealedCopy(sys);
  } catch (err) {
    if (err instanceof SyscallError) return undefined;
    throw err;
  }
}
