/**
 * Kernel flag words as their names, for plans and test messages: `MS_BIND|MS_REC`,
 * `O_RDWR|O_CLOEXEC`, `S_IFCHR|0666`. Pure, table-tested. Each table lists the kernel's
 * names for the bits of one argument (the headers named on each table); bits no name
 * covers are kept as one hexadecimal remainder, so nothing is ever dropped.
 */
import {
  AT_EMPTY_PATH,
  AT_FDCWD,
  AT_RECURSIVE,
  AT_REMOVEDIR,
  AT_SYMLINK_NOFOLLOW,
  CLONE_NEWCGROUP,
  CLONE_NEWIPC,
  CLONE_NEWNET,
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  CLONE_NEWUTS,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_SET_FLAG,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  MFD_ALLOW_SEALING,
  MFD_CLOEXEC,
  MFD_EXEC,
  MNT_DETACH,
  MNT_EXPIRE,
  MNT_FORCE,
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_IDMAP,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  MOVE_MOUNT_F_EMPTY_PATH,
  MOVE_MOUNT_T_EMPTY_PATH,
  MS_BIND,
  MS_DIRSYNC,
  MS_I_VERSION,
  MS_LAZYTIME,
  MS_MANDLOCK,
  MS_MOVE,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_POSIXACL,
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_DIRECTORY,
  O_EXCL,
  O_NOCTTY,
  O_NOFOLLOW,
  O_NONBLOCK,
  OPEN_TREE_CLONE,
  O_PATH,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
  RESOLVE_NO_XDEV,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  UMOUNT_NOFOLLOW,
  major,
  minor,
} from '../constants';
import { KEY_OTH_SEARCH, KEY_USR_SEARCH } from '../keyring';
import { CLONE_FS, CLONE_NEWTIME } from '../namespaces';
import {
  SECCOMP_FILTER_FLAG_LOG,
  SECCOMP_FILTER_FLAG_NEW_LISTENER,
  SECCOMP_FILTER_FLAG_SPEC_ALLOW,
  SECCOMP_FILTER_FLAG_TSYNC,
  SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
} from '../seccomp/names';

/**
 * The names of one flag argument. `field` is a multi-bit value inside the word (the
 * access mode of open(2), the file type of a mode) named by its exact value; `bits` are
 * matched in order, each when all of its bits are set, so a mask listed before its single
 * bits wins (MOUNT_ATTR__ATIME before MOUNT_ATTR_NOATIME).
 */
export interface FlagTable {
  readonly field?: { readonly mask: bigint; readonly names: ReadonlyMap<bigint, string> };
  readonly bits: readonly (readonly [name: string, bits: bigint])[];
  /** How the remainder no name covers is written: hexadecimal (default) or octal permission bits. */
  readonly rest?: 'hex' | 'octal';
}

const big = (n: number): bigint => BigInt(n);

/** mount(2) flags, include/uapi/linux/mount.h. */
export const MOUNT_FLAGS: FlagTable = {
  bits: [
    ['MS_RDONLY', MS_RDONLY],
    ['MS_NOSUID', MS_NOSUID],
    ['MS_NODEV', MS_NODEV],
    ['MS_NOEXEC', MS_NOEXEC],
    ['MS_SYNCHRONOUS', MS_SYNCHRONOUS],
    ['MS_REMOUNT', MS_REMOUNT],
    ['MS_MANDLOCK', MS_MANDLOCK],
    ['MS_DIRSYNC', MS_DIRSYNC],
    ['MS_NOSYMFOLLOW', MS_NOSYMFOLLOW],
    ['MS_NOATIME', MS_NOATIME],
    ['MS_NODIRATIME', MS_NODIRATIME],
    ['MS_BIND', MS_BIND],
    ['MS_MOVE', MS_MOVE],
    ['MS_REC', MS_REC],
    ['MS_SILENT', MS_SILENT],
    ['MS_POSIXACL', MS_POSIXACL],
    ['MS_UNBINDABLE', MS_UNBINDABLE],
    ['MS_PRIVATE', MS_PRIVATE],
    ['MS_SLAVE', MS_SLAVE],
    ['MS_SHARED', MS_SHARED],
    ['MS_RELATIME', MS_RELATIME],
    ['MS_I_VERSION', MS_I_VERSION],
    ['MS_STRICTATIME', MS_STRICTATIME],
    ['MS_LAZYTIME', MS_LAZYTIME],
  ],
};

/** umount2(2) flags, include/linux/fs.h. */
export const UMOUNT_FLAGS: FlagTable = {
  bits: [
    ['MNT_FORCE', big(MNT_FORCE)],
    ['MNT_DETACH', big(MNT_DETACH)],
    ['MNT_EXPIRE', big(MNT_EXPIRE)],
    ['UMOUNT_NOFOLLOW', big(UMOUNT_NOFOLLOW)],
  ],
};

/** mount_setattr(2) attributes, include/uapi/linux/mount.h; MOUNT_ATTR_RELATIME is 0, the absence of the others. */
export const MOUNT_ATTR_FLAGS: FlagTable = {
  bits: [
    ['MOUNT_ATTR_RDONLY', MOUNT_ATTR_RDONLY],
    ['MOUNT_ATTR_NOSUID', MOUNT_ATTR_NOSUID],
    ['MOUNT_ATTR_NODEV', MOUNT_ATTR_NODEV],
    ['MOUNT_ATTR_NOEXEC', MOUNT_ATTR_NOEXEC],
    ['MOUNT_ATTR__ATIME', MOUNT_ATTR__ATIME],
    ['MOUNT_ATTR_NOATIME', MOUNT_ATTR_NOATIME],
    ['MOUNT_ATTR_STRICTATIME', MOUNT_ATTR_STRICTATIME],
    ['MOUNT_ATTR_NODIRATIME', MOUNT_ATTR_NODIRATIME],
    ['MOUNT_ATTR_IDMAP', MOUNT_ATTR_IDMAP],
    ['MOUNT_ATTR_NOSYMFOLLOW', MOUNT_ATTR_NOSYMFOLLOW],
  ],
};

/** The key permission bits mountkit adds to the session keyring it joins, include/uapi/linux/keyctl.h. */
export const KEY_PERM_FLAGS: FlagTable = {
  bits: [
    ['KEY_USR_SEARCH', BigInt(KEY_USR_SEARCH)],
    ['KEY_OTH_SEARCH', BigInt(KEY_OTH_SEARCH)],
  ],
};

/** open(2) flags, include/uapi/asm-generic/fcntl.h; the low two bits are the access mode. */
export const OPEN_FLAGS: FlagTable = {
  field: {
    mask: 3n,
    names: new Map([
      [big(O_RDONLY), 'O_RDONLY'],
      [big(O_WRONLY), 'O_WRONLY'],
      [big(O_RDWR), 'O_RDWR'],
    ]),
  },
  bits: [
    ['O_CREAT', big(O_CREAT)],
    ['O_EXCL', big(O_EXCL)],
    ['O_NOCTTY', big(O_NOCTTY)],
    ['O_TRUNC', big(O_TRUNC)],
    ['O_APPEND', big(O_APPEND)],
    ['O_NONBLOCK', big(O_NONBLOCK)],
    ['O_DIRECTORY', big(O_DIRECTORY)],
    ['O_NOFOLLOW', big(O_NOFOLLOW)],
    ['O_CLOEXEC', big(O_CLOEXEC)],
    ['O_PATH', big(O_PATH)],
    // __O_SYNC | O_DSYNC (asm-generic/fcntl.h): the pid file's (core/pid-file.ts).
    ['O_SYNC', 0o4010000n],
  ],
};

/** dup3(2) takes O_CLOEXEC only. */
export const DUP3_FLAGS: FlagTable = { bits: [['O_CLOEXEC', big(O_CLOEXEC)]] };

/** seccomp(2) SECCOMP_SET_MODE_FILTER flags, include/uapi/linux/seccomp.h. */
export const SECCOMP_FILTER_FLAGS: FlagTable = {
  bits: [
    ['SECCOMP_FILTER_FLAG_TSYNC', big(SECCOMP_FILTER_FLAG_TSYNC)],
    ['SECCOMP_FILTER_FLAG_LOG', big(SECCOMP_FILTER_FLAG_LOG)],
    ['SECCOMP_FILTER_FLAG_SPEC_ALLOW', big(SECCOMP_FILTER_FLAG_SPEC_ALLOW)],
    ['SECCOMP_FILTER_FLAG_NEW_LISTENER', big(SECCOMP_FILTER_FLAG_NEW_LISTENER)],
    ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV', big(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV)],
  ],
};

/** *at(2) flags, include/uapi/linux/fcntl.h. */
export const AT_FLAGS: FlagTable = {
  bits: [
    ['AT_SYMLINK_NOFOLLOW', big(AT_SYMLINK_NOFOLLOW)],
    ['AT_REMOVEDIR', big(AT_REMOVEDIR)],
    ['AT_EMPTY_PATH', big(AT_EMPTY_PATH)],
    ['AT_RECURSIVE', big(AT_RECURSIVE)],
  ],
};

/** open_tree(2) flags, include/uapi/linux/mount.h (OPEN_TREE_CLOEXEC is O_CLOEXEC) and the AT_* lookup flags it takes. */
export const OPEN_TREE_FLAGS: FlagTable = {
  bits: [
    ['OPEN_TREE_CLONE', big(OPEN_TREE_CLONE)],
    ['OPEN_TREE_CLOEXEC', big(O_CLOEXEC)],
    ['AT_SYMLINK_NOFOLLOW', big(AT_SYMLINK_NOFOLLOW)],
    ['AT_EMPTY_PATH', big(AT_EMPTY_PATH)],
    ['AT_RECURSIVE', big(AT_RECURSIVE)],
  ],
};

/** move_mount(2) flags, include/uapi/linux/mount.h. */
export const MOVE_MOUNT_FLAGS: FlagTable = {
  bits: [
    ['MOVE_MOUNT_F_EMPTY_PATH', big(MOVE_MOUNT_F_EMPTY_PATH)],
    ['MOVE_MOUNT_T_EMPTY_PATH', big(MOVE_MOUNT_T_EMPTY_PATH)],
  ],
};

/** fsopen(2) flags, include/uapi/linux/mount.h. */
export const FSOPEN_FLAGS: FlagTable = {
  bits: [['FSOPEN_CLOEXEC', big(FSOPEN_CLOEXEC)]],
};

/** memfd_create(2) flags, include/uapi/linux/memfd.h. */
export const MFD_FLAGS: FlagTable = {
  bits: [
    ['MFD_CLOEXEC', big(MFD_CLOEXEC)],
    ['MFD_ALLOW_SEALING', big(MFD_ALLOW_SEALING)],
    ['MFD_EXEC', big(MFD_EXEC)],
  ],
};

/** fcntl(2) F_ADD_SEALS seals, include/uapi/linux/fcntl.h. */
export const SEAL_FLAGS: FlagTable = {
  bits: [
    ['F_SEAL_SEAL', big(F_SEAL_SEAL)],
    ['F_SEAL_SHRINK', big(F_SEAL_SHRINK)],
    ['F_SEAL_GROW', big(F_SEAL_GROW)],
    ['F_SEAL_WRITE', big(F_SEAL_WRITE)],
  ],
};

/** fsmount(2) flags, include/uapi/linux/mount.h. */
export const FSMOUNT_FLAGS: FlagTable = {
  bits: [['FSMOUNT_CLOEXEC', big(FSMOUNT_CLOEXEC)]],
};

/** fsconfig(2) commands (enum fsconfig_command, include/uapi/linux/mount.h): one value, not bits; those mountkit gives. */
export const FSCONFIG_COMMANDS: FlagTable = {
  field: {
    mask: 0xffffffffn,
    names: new Map([
      [big(FSCONFIG_SET_FLAG), 'FSCONFIG_SET_FLAG'],
      [big(FSCONFIG_SET_STRING), 'FSCONFIG_SET_STRING'],
      [big(FSCONFIG_CMD_CREATE), 'FSCONFIG_CMD_CREATE'],
    ]),
  },
  bits: [],
};

/** openat2(2) resolve flags, include/uapi/linux/openat2.h. */
export const RESOLVE_FLAGS: FlagTable = {
  bits: [
    ['RESOLVE_NO_XDEV', RESOLVE_NO_XDEV],
    ['RESOLVE_NO_MAGICLINKS', RESOLVE_NO_MAGICLINKS],
    ['RESOLVE_NO_SYMLINKS', RESOLVE_NO_SYMLINKS],
    ['RESOLVE_BENEATH', RESOLVE_BENEATH],
    ['RESOLVE_IN_ROOT', RESOLVE_IN_ROOT],
  ],
};

/** unshare(2) and setns(2) flags, include/uapi/linux/sched.h. */
export const CLONE_FLAGS: FlagTable = {
  bits: [
    ['CLONE_NEWTIME', big(CLONE_NEWTIME)],
    ['CLONE_FS', big(CLONE_FS)],
    ['CLONE_NEWNS', big(CLONE_NEWNS)],
    ['CLONE_NEWCGROUP', big(CLONE_NEWCGROUP)],
    ['CLONE_NEWUTS', big(CLONE_NEWUTS)],
    ['CLONE_NEWIPC', big(CLONE_NEWIPC)],
    ['CLONE_NEWUSER', big(CLONE_NEWUSER)],
    ['CLONE_NEWPID', big(CLONE_NEWPID)],
    ['CLONE_NEWNET', big(CLONE_NEWNET)],
  ],
};

/** A mode: the file type (include/uapi/linux/stat.h) by name, the permission bits in octal. */
export const MODE_FLAGS: FlagTable = {
  field: {
    mask: big(S_IFMT),
    names: new Map([
      [big(S_IFSOCK), 'S_IFSOCK'],
      [big(S_IFLNK), 'S_IFLNK'],
      [big(S_IFREG), 'S_IFREG'],
      [big(S_IFBLK), 'S_IFBLK'],
      [big(S_IFDIR), 'S_IFDIR'],
      [big(S_IFCHR), 'S_IFCHR'],
      [big(S_IFIFO), 'S_IFIFO'],
    ]),
  },
  bits: [],
  rest: 'octal',
};

/** `value` as `NAME|NAME|0x...`; 0 as "0" (or the field's name for 0, "O_RDONLY"). */
export function formatFlags(value: bigint | number, table: FlagTable): string {
  // Flag words are unsigned: a number with bit 31 set reads as negative in JavaScript.
  let left = typeof value === 'bigint' ? value : BigInt(value >>> 0);
  const names: string[] = [];
  if (table.field) {
    const name = table.field.names.get(left & table.field.mask);
    if (name !== undefined) {
      names.push(name);
      left &= ~table.field.mask;
    }
  }
  for (const [name, bits] of table.bits) {
    if (bits !== 0n && (left & bits) === bits) {
      names.push(name);
      left &= ~bits;
    }
  }
  if (table.rest === 'octal') names.push('0' + left.toString(8).padStart(3, '0'));
  else if (left !== 0n || names.length === 0) names.push(left === 0n ? '0' : '0x' + left.toString(16));
  return names.join('|');
}

/** A device number as `major:minor` (glibc's 64-bit dev_t layout). */
export function formatDev(dev: bigint): string {
  return `${major(dev)}:${minor(dev)}`;
}

/** A directory descriptor: AT_FDCWD by name, others as the number. */
export function formatDirfd(fd: number): string {
  return fd === AT_FDCWD ? 'AT_FDCWD' : String(fd);
}
