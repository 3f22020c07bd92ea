/**
 * The recursive copy behind tmpcopyup: the content of a directory, with owners, modes and
 * extended attributes, into another (the new tmpfs), through the syscall port only, and on
 * both sides through descriptors only.
 *
 * It runs before the jail, in the host's root, on a directory of the image that someone
 * else may be able to write (a shared volume bound there). So the source is only ever
 * reached through descriptors: each entry is opened relative to its directory's
 * descriptor without following a symlink (O_PATH|O_NOFOLLOW: a symlink is opened as the
 * link, a device or fifo is not opened at all), examined with fstat, and read through
 * that descriptor; a directory is listed and walked through its own. An entry swapped for
 * a symlink after the listing is copied as that symlink, its text and never what it points
 * to, and a swap after the open changes nothing: the descriptor keeps the file that was
 * examined. An entry gone before it is opened fails the copy (openat ENOENT, naming it),
 * as crun's copy_recursive_fd_to_fd fails on any entry it cannot stat or open.
 *
 * The new tmpfs is written the same way, from the descriptor of its root: each entry is
 * made by name in its directory's descriptor (mkdirat, symlinkat, mknodat; a regular file
 * by openat with O_CREAT|O_EXCL|O_NOFOLLOW, which fails on anything already there, a
 * symlink too, open(2)), and everything after is done through a descriptor of what was
 * made: a directory's opened with O_DIRECTORY|O_NOFOLLOW, a file's the one openat made it
 * with, a symlink's or node's opened O_PATH|O_NOFOLLOW and checked to be of the kind made.
 * No call follows a symlink in the tmpfs, and none names a path below a descriptor. So
 * where other users see the tmpfs while it is filled (mounted on the destination under a
 * shared propagation, copyup.ts), a symlink one of them plants there sends no write
 * outside it: a name taken first fails the copy (EEXIST, naming it).
 *
 * Each entry gets its owner, mode and, for a regular file or directory, its extended
 * attributes (copyXattrs), as crun copies them; not its times, as neither runc nor crun
 * keeps them. A new directory, file or node starts private to root (0700, 0600) and gets
 * its owner and mode once it is filled, a directory once its whole content is copied: no
 * other user can open, or make, rename or remove an entry in, what is not finished.
 */
import posix = require('path/posix');
import {
  AT_EMPTY_PATH,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOFOLLOW,
  O_PATH,
  O_RDONLY,
  O_WRONLY,
  S_IFBLK,
  S_IFCHR,
  S_IFIFO,
  S_IFSOCK,
  XATTR_NAME_POSIX_ACL_ACCESS,
} from '../../core/constants';
import { StepError, SyscallError } from '../../core/errors';
import { fdPath } from '../../core/in-root';
import type { FileKind, FileStat, Syscalls } from '../../core/syscalls/types';
import { modeWithoutAcl } from '../../core/posix-acl';

/** mknod(2) file type bits for the kinds that are neither files, directories nor symlinks. */
const NODE_TYPE: Readonly<Record<Exclude<FileKind, 'dir' | 'file' | 'symlink'>, number>> = {
  char: S_IFCHR,
  block: S_IFBLK,
  fifo: S_IFIFO,
  socket: S_IFSOCK,
};

/** How an entry is opened: never through a final symlink, never the file itself (no device open, no blocking fifo). */
const ENTRY_FLAGS = O_PATH | O_NOFOLLOW | O_CLOEXEC;

/** How a source file is opened again, through its descriptor's magic link, to be read. */
const READ_FLAGS = O_RDONLY | O_CLOEXEC;

/** How a copied file is made: new (EEXIST on anything there, a symlink too), never through a symlink, for writing. */
const CREATE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;

/** How a copied directory is opened once made: a directory, not through a symlink, to make entries in and set its metadata. */
const DIR_FLAGS = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

/**
 * How errors name an entry: its name below its directory's, the path made only when an
 * error needs it. A tree thousands of levels deep would otherwise keep a path per level,
 * each longer than the last (the square of the depth in characters, megabytes at 3000
 * levels), and make two more per entry.
 */
interface Named {
  /** The directory's; none for a top one, whose name is its whole path. */
  readonly above?: Named;
  readonly name: string;
}

/** The path `named` stands for: its names from the top one down, joined. */
function shownOf(named: Named): string {
  const names: string[] = [];
  for (let at: Named | undefined = named; at; at = at.above) names.push(at.name);
  return posix.join(...names.reverse());
}

/** A directory of the copy: its descriptor, and how errors name it. */
interface Place {
  fd: number;
  shown: Named;
}

/**
 * A directory being copied: its source open as `from` (named `shown` in errors), its copy
 * as `to`, the names listed in it and how many of them are done; `finish`, for all but the
 * top one, gives the copy its owner, mode and attributes and closes both descriptors.
 */
interface Level {
  from: number;
  to: Place;
  shown: Named;
  names: string[];
  next: number;
  finish?: { fd: number; st: FileStat };
}

/**
 * Copies every entry of the directory open as `fromFd` into the existing directory open
 * as `toFd`, recursively. `shown` is how errors name the source directory (its path in
 * the container): the port's openat names only the entry and fstat nothing. `toShown` is
 * how errors name the directory copied into (the kernel names a detached mount's root "/").
 *
 * The directories being copied are a stack of their own, deepest last, not calls: an
 * image's tree may be as deep as its filesystem lets it be (thousands of levels, each
 * name made relative to its parent's descriptor, past PATH_MAX), deeper than the
 * JavaScript stack goes. Each level holds its two descriptors until its content is
 * copied; one that fails closes every level's, deepest first.
 */
export function copyTree(sys: Syscalls, fromFd: number, toFd: number, shown: string, toShown: string): void {
  const levels: Level[] = [listed(sys, fromFd, { fd: toFd, shown: { name: toShown } }, { name: shown })];
  try {
    while (levels.length > 0) {
      const level = levels[levels.length - 1];
      if (level.next === level.names.length) {
        levels.pop();
        if (level.finish) finishDir(sys, level);
        continue;
      }
      const name = level.names[level.next++];
      const deeper = copyEntry(sys, level.from, name, level.to, { above: level.shown, name });
      if (deeper) levels.push(deeper);
    }
  } catch (err) {
    for (const level of levels.reverse()) {
      if (!level.finish) continue;
      sys.close(level.to.fd);
      sys.close(level.finish.fd);
    }
    throw err;
  }
}

/** The level of the directory open as `from`, its copy `to`: its names, listed through the descriptor's magic link (the open directory itself, not a path that could be swapped). */
function listed(sys: Syscalls, from: number, to: Place, shown: Named, finish?: Level['finish']): Level {
  return { from, to, shown, names: sys.readdir(fdPath(from)), next: 0, ...(finish ? { finish } : {}) };
}

/** Copies the entry `name` of `dirfd` into `to`; a directory is made, and its level returned for its content, which comes first. */
function copyEntry(sys: Syscalls, dirfd: number, name: string, to: Place, shown: Named): Level | undefined {
  const fd = onEntry(shown, () => sys.openat(dirfd, name, ENTRY_FLAGS, 0));
  let kept = false;
  try {
    const st = onEntry(shown, () => sys.fstat(fd));
    const dest: Named = { above: to.shown, name };
    if (st.kind === 'dir') {
      const level = startDir(sys, fd, st, to, name, dest, shown);
      kept = true;
      return level;
    }
    if (st.kind === 'file') copyFile(sys, fd, st, to, name, dest, shown);
    else copyOther(sys, fd, st, to, name, dest);
    return undefined;
  } finally {
    if (!kept) sys.close(fd);
  }
}

/** The directory open as `fd` (examined as `st`) as `name` in `to`: made private to root, opened and listed; finishDir ends it. */
function startDir(sys: Syscalls, fd: number, st: FileStat, to: Place, name: string, dest: Named, shown: Named): Level {
  const made = onDest(dest, () => {
    sys.mkdirat(to.fd, name, 0o700);
    return sys.openat(to.fd, name, DIR_FLAGS, 0);
  });
  try {
    return listed(sys, fd, { fd: made, shown: dest }, shown, { fd, st });
  } catch (err) {
    sys.close(made);
    throw err;
  }
}

/** A copied directory whose content is all there: its owner, mode and attributes, then both descriptors closed. */
function finishDir(sys: Syscalls, level: Level): void {
  const { to, shown } = level;
  const { fd, st } = level.finish!;
  try {
    setOwnerAndMode(sys, to.fd, st, to.shown);
    // A directory's after its content: an entry made in a directory with a default ACL
    // (system.posix_acl_default) gets it as its own access ACL (acl(5)), which chmod(2)
    // only masks, so a copied entry whose source has none would gain its named entries.
    copyXattrs(sys, fd, to.fd, to.shown, shown, st.perm);
  } finally {
    sys.close(to.fd);
    sys.close(fd);
  }
}

/** The regular file open as `fd` (examined as `st`) as `name` in `to`: its bytes, then its owner, mode and attributes. */
function copyFile(sys: Syscalls, fd: number, st: FileStat, to: Place, name: string, dest: Named, shown: Named): void {
  // Through the magic link: the regular file fstat saw, opened again for reading.
  const from = onEntry(shown, () => sys.open(fdPath(fd), READ_FLAGS, 0));
  try {
    const made = onDest(dest, () => sys.openat(to.fd, name, CREATE_FLAGS, 0o600));
    try {
      onDest(dest, () => sys.copyFileRange(from, made));
      setOwnerAndMode(sys, made, st, dest);
      copyXattrs(sys, fd, made, dest, shown, st.perm);
    } finally {
      sys.close(made);
    }
  } finally {
    sys.close(from);
  }
}

/**
 * The symlink, device, fifo or socket examined as `st` (open as `fd`, O_PATH) as `name` in
 * `to`: made, then opened O_PATH|O_NOFOLLOW and checked to be of its kind, as a name in a
 * directory others may write is not known to stay what was made, and given its owner and,
 * but for a symlink, its mode.
 */
function copyOther(sys: Syscalls, fd: number, st: FileStat, to: Place, name: string, dest: Named): void {
  // The link open as `fd` (an empty path): its text, never followed.
  const text = st.kind === 'symlink' ? sys.readlinkat(fd, '') : '';
  const made = onDest(dest, () => {
    if (st.kind === 'symlink') sys.symlinkat(text, to.fd, name);
    else sys.mknodat(to.fd, name, NODE_TYPE[st.kind as keyof typeof NODE_TYPE] | 0o600, st.rdev);
    return sys.openat(to.fd, name, ENTRY_FLAGS, 0);
  });
  try {
    const kind = onDest(dest, () => sys.fstat(made)).kind;
    if (kind !== st.kind) throw new StepError(`${JSON.stringify(shownOf(dest))} was replaced after it was made: it is a ${kind}, not the ${st.kind} made`);
    setOwnerAndMode(sys, made, st, dest);
  } finally {
    sys.close(made);
  }
}

/**
 * The owner, then the mode, of the copy open as `fd`: chown(2) clears S_ISUID and S_ISGID
 * of an executable file, for root too since Linux 2.2.13, so the mode comes after the
 * owner. A symlink has no mode of its own. A node is open O_PATH, which fchmod(2) does not
 * take (EBADF): its mode is set through the descriptor's magic link, which chmod(2)
 * follows to the node open there.
 */
function setOwnerAndMode(sys: Syscalls, fd: number, st: FileStat, dest: Named): void {
  onDest(dest, () => {
    sys.fchownat(fd, '', st.uid, st.gid, AT_EMPTY_PATH);
    if (st.kind === 'dir' || st.kind === 'file') sys.fchmod(fd, st.perm);
    else if (st.kind !== 'symlink') sys.chmod(fdPath(fd), st.perm);
  });
}

/**
 * The extended attributes of the regular file or directory open as `fd` (the kinds crun
 * copies them for), each set on its copy open as `made` once that has its owner and mode
 * (and, a directory, its content):
 * chown(2) removes a file's security.capability (its file capabilities, capabilities(7)),
 * so one set before would be lost. They are read through the descriptor's magic link,
 * which getxattr(2) follows to the file open there. The source lists none where its
 * filesystem keeps none (EOPNOTSUPP).
 *
 * runc copies no attribute, so one that cannot be copied is left out (the copy is then
 * what runc makes) rather than failing a run runc completes:
 * - one the tmpfs refuses: EOPNOTSUPP for a namespace it does not keep (user.* before
 *   Linux 6.6), EINVAL for a value it does not take (both as crun leaves them); EPERM for
 *   one this process may not set (security.capability without CAP_SETFCAP,
 *   capabilities(7); security.ima and security.evm without CAP_SYS_ADMIN in the initial
 *   user namespace, security/integrity/); EACCES for one an LSM's policy refuses
 *   (SELinux's relabelto for security.selinux);
 * - one the source no longer has (ENODATA: removed since the listing);
 * - a security.capability whose root user is not root here or in a namespace above
 *   (EOVERFLOW, getxattr(2) in a user namespace): the kernel gives such file
 *   capabilities no effect in this namespace (security/commoncap.c).
 *
 * An access ACL left out leaves the copy the source's mode `perm`, whose group class bits
 * are, under an ACL with a mask, that mask (acl(5)): wider than the owning group's own
 * permissions, its ACL_GROUP_OBJ entry within the mask. The copy's group bits become
 * those (modeWithoutAcl), none where the value is no ACL the kernel would take.
 */
function copyXattrs(sys: Syscalls, fd: number, made: number, dest: Named, shown: Named, perm: number): void {
  const from = fdPath(fd);
  let names: string[];
  try {
    names = onEntry(shown, () => sys.listxattr(from));
  } catch (err) {
    if (hasCode(err, 'EOPNOTSUPP')) return;
    throw err;
  }
  for (const name of names) {
    let value: Uint8Array;
    try {
      value = onEntry(shown, () => sys.getxattr(from, name));
    } catch (err) {
      if (hasCode(err, 'ENODATA') || hasCode(err, 'EOVERFLOW')) continue;
      throw err;
    }
    try {
      onDest(dest, () => sys.fsetxattr(made, name, value));
    } catch (err) {
      if (!SET_REFUSALS.some((code) => hasCode(err, code))) throw err;
      if (name === XATTR_NAME_POSIX_ACL_ACCESS) onDest(dest, () => sys.fchmod(made, modeWithoutAcl(perm, value)));
    }
  }
}

/** The fsetxattr(2) failures that leave one attribute out of the copy (copyXattrs). */
const SET_REFUSALS = ['EOPNOTSUPP', 'EINVAL', 'EPERM', 'EACCES'] as const;

function hasCode(err: unknown, code: string): boolean {
  return err instanceof SyscallError && err.code === code;
}

/**
 * Runs `call`, calls that make or change one copy, their SyscallError naming the copy as
 * `dest`, last (copy_file_range after the source, symlinkat after the link's text), or
 * alone (a call on a descriptor).
 */
function onDest<T>(dest: Named, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof SyscallError) throw new SyscallError(err.syscall, err.errno, [...err.paths.slice(0, -1), shownOf(dest)], err.detail);
    throw err;
  }
}

/** Runs `call`, a syscall on the entry `shown`, its SyscallError naming that entry. */
function onEntry<T>(shown: Named, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof SyscallError) throw new SyscallError(err.syscall, err.errno, [shownOf(shown)], err.detail);
    throw err;
  }
}
