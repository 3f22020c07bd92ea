/**
 * Kernel constants by their kernel names (include/uapi/linux/mount.h, fcntl.h, sched.h).
 * Mount flags are bigint: bit 31 (MS_STRICTATIME's neighbours) turns JS numbers negative.
 */
import { constants as fsConstants } from 'fs';
import { endianness } from 'os';

/** Whether this machine stores the kernel's structs little-endian (x86_64, arm64): how DataView must write them. */
export const LITTLE_ENDIAN = endianness() === 'LE';

// mount(2) flags, include/uapi/linux/mount.h
export const MS_RDONLY = 0x1n;
export const MS_NOSUID = 0x2n;
export const MS_NODEV = 0x4n;
export const MS_NOEXEC = 0x8n;
export const MS_SYNCHRONOUS = 0x10n;
export const MS_REMOUNT = 0x20n;
export const MS_MANDLOCK = 0x40n;
export const MS_DIRSYNC = 0x80n;
export const MS_NOSYMFOLLOW = 0x100n;
export const MS_NOATIME = 0x400n;
export const MS_NODIRATIME = 0x800n;
export const MS_BIND = 0x1000n;
export const MS_MOVE = 0x2000n;
export const MS_REC = 0x4000n;
export const MS_SILENT = 0x8000n;
export const MS_POSIXACL = 0x10000n;
export const MS_UNBINDABLE = 0x20000n;
export const MS_PRIVATE = 0x40000n;
export const MS_SLAVE = 0x80000n;
export const MS_SHARED = 0x100000n;
export const MS_RELATIME = 0x200000n;
export const MS_I_VERSION = 0x800000n;
export const MS_STRICTATIME = 0x1000000n;
export const MS_LAZYTIME = 0x2000000n;

/** Flags a propagation-only mount(2) call may carry (mount(2): "Changing the propagation type"). */
export const MS_PROPAGATION = MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE;

// umount2(2) flags
export const MNT_FORCE = 1;
export const MNT_DETACH = 2;
export const MNT_EXPIRE = 4;
export const UMOUNT_NOFOLLOW = 8;

// mount_setattr(2) attributes, include/uapi/linux/mount.h
export const MOUNT_ATTR_RDONLY = 0x1n;
export const MOUNT_ATTR_NOSUID = 0x2n;
export const MOUNT_ATTR_NODEV = 0x4n;
export const MOUNT_ATTR_NOEXEC = 0x8n;
export const MOUNT_ATTR__ATIME = 0x70n;
export const MOUNT_ATTR_RELATIME = 0x0n;
export const MOUNT_ATTR_NOATIME = 0x10n;
export const MOUNT_ATTR_STRICTATIME = 0x20n;
export const MOUNT_ATTR_NODIRATIME = 0x80n;
export const MOUNT_ATTR_IDMAP = 0x100000n;
export const MOUNT_ATTR_NOSYMFOLLOW = 0x200000n;

// open_tree(2) and move_mount(2) flags, include/uapi/linux/mount.h; OPEN_TREE_CLOEXEC is O_CLOEXEC
export const OPEN_TREE_CLONE = 1;
export const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
export const MOVE_MOUNT_T_EMPTY_PATH = 0x40;

// fsopen(2), fsconfig(2) and fsmount(2) (Linux 5.2), include/uapi/linux/mount.h
export const FSOPEN_CLOEXEC = 0x1;
export const FSMOUNT_CLOEXEC = 0x1;
/** fsconfig(2) commands (enum fsconfig_command): a key without a value, a key with a string, and the superblock's creation. */
export const FSCONFIG_SET_FLAG = 0;
export const FSCONFIG_SET_STRING = 1;
export const FSCONFIG_CMD_CREATE = 6;

// memfd_create(2) flags, include/uapi/linux/memfd.h
export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
/** Linux 6.3: the memfd may be executed (EINVAL before; without it, vm.memfd_noexec 1 makes the file not executable). */
export const MFD_EXEC = 0x10;
/** fcntl(2) seals of a memfd, include/uapi/linux/fcntl.h: no more seals, no shrinking, no growing, no writing, no new writes or writable mappings (Linux 5.1; those mapped keep writing). */
export const F_SEAL_SEAL = 0x1;
export const F_SEAL_SHRINK = 0x2;
export const F_SEAL_GROW = 0x4;
export const F_SEAL_WRITE = 0x8;
export const F_SEAL_FUTURE_WRITE = 0x10;
/** Linux 6.3: the file's exec bits can no longer change. */
export const F_SEAL_EXEC = 0x20;
/** Every seal F_ADD_SEALS takes (mm/memfd.c, as of Linux 6.3); another bit is EINVAL. */
export const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

// fcntl.h: asm-generic values, which x86_64 and arm64 share but where noted
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
export const AT_REMOVEDIR = 0x200;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
/** faccessat(2): check as the effective ids, not the real ones. */
export const AT_EACCESS = 0x200;
/** faccessat(2) modes, unistd.h. */
export const W_OK = 2;
export const AT_RECURSIVE = 0x8000;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
/** The access mode bits of open(2)'s flags: O_RDONLY, O_WRONLY or O_RDWR. */
export const O_ACCMODE = 3;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
// O_DIRECTORY and O_NOFOLLOW are not the same on every architecture: asm-generic has
// 0200000 and 0400000 (x86_64), arm and arm64 have 040000 and 0100000 (their
// asm/fcntl.h), where the generic bits mean O_LARGEFILE and O_DIRECT. Node's own
// constants are those of the platform it was built for.
export const O_DIRECTORY = fsConstants.O_DIRECTORY;
export const O_NOFOLLOW = fsConstants.O_NOFOLLOW;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
/** The longest path the kernel takes, its terminating NUL counted (include/uapi/linux/limits.h). */
export const PATH_MAX = 4096;
/**
 * The longest name of one path component (include/uapi/linux/limits.h): what ext4, xfs,
 * btrfs and tmpfs take (f_namelen); a lookup of a longer one fails with ENAMETOOLONG.
 */
export const NAME_MAX = 255;
/** __O_TMPFILE (asm-generic, x86_64 and arm64 alike); O_TMPFILE is it with O_DIRECTORY. */
export const __O_TMPFILE = 0o20000000;

// Terminal modes, include/uapi/asm-generic/termbits-common.h and termbits.h (x86_64, arm64): c_iflag
export const IGNBRK = 0o1;
export const BRKINT = 0o2;
export const PARMRK = 0o10;
export const ISTRIP = 0o40;
export const INLCR = 0o100;
export const IGNCR = 0o200;
export const ICRNL = 0o400;
export const IXON = 0o2000;
// c_oflag
export const OPOST = 0o1;
export const ONLCR = 0o4;
// c_cflag
export const CSIZE = 0o60;
export const CS8 = 0o60;
export const PARENB = 0o400;
// c_lflag
export const ISIG = 0o1;
export const ICANON = 0o2;
export const ECHO = 0o10;
export const ECHONL = 0o100;
export const IEXTEN = 0o100000;
// c_cc indexes
export const VTIME = 5;
export const VMIN = 6;

// openat2(2) resolve flags, include/uapi/linux/openat2.h
export const RESOLVE_NO_XDEV = 0x01n;
export const RESOLVE_NO_MAGICLINKS = 0x02n;
export const RESOLVE_NO_SYMLINKS = 0x04n;
export const RESOLVE_BENEATH = 0x08n;
export const RESOLVE_IN_ROOT = 0x10n;
export const RESOLVE_CACHED = 0x20n;

// fstatfs(2) f_type values, include/uapi/linux/magic.h
export const PROC_SUPER_MAGIC = 0x9fa0;
export const SYSFS_MAGIC = 0x62656572;
export const TMPFS_MAGIC = 0x01021994;
export const DEVPTS_SUPER_MAGIC = 0x1cd1;
export const MQUEUE_MAGIC = 0x19800202;
export const CGROUP_SUPER_MAGIC = 0x27e0eb;
export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const EXT4_SUPER_MAGIC = 0xef53;
export const PIPEFS_MAGIC = 0x50495045;
export const SOCKFS_MAGIC = 0x534f434b;
/** The filesystem of namespace files, /proc/PID/ns/* and their bind mounts. */
export const NSFS_MAGIC = 0x6e736673;
/** selinuxfs, the SELinux policy API, /sys/fs/selinux on a host that runs SELinux. */
export const SELINUX_MAGIC = 0xf97cff8c;

// statfs(2) f_flags, include/linux/statfs.h: the mount's flags as calculate_f_flags()
// (fs/statfs.c) reports them. Most equal their MS_* flag; ST_RELATIME and ST_NOSYMFOLLOW
// do not, and MS_STRICTATIME has none (it is the absence of the other atime flags).
export const ST_RDONLY = 0x1n;
export const ST_NOSUID = 0x2n;
export const ST_NODEV = 0x4n;
export const ST_NOEXEC = 0x8n;
export const ST_SYNCHRONOUS = 0x10n;
/** Set in every f_flags statfs(2) reports (calculate_f_flags()): the flags are valid. */
export const ST_VALID = 0x20n;
export const ST_MANDLOCK = 0x40n;
export const ST_NOATIME = 0x400n;
export const ST_NODIRATIME = 0x800n;
export const ST_RELATIME = 0x1000n;
export const ST_NOSYMFOLLOW = 0x2000n;

// clone(2)/unshare(2)/setns(2) flags, include/uapi/linux/sched.h
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// stat(2) file type bits, include/uapi/linux/stat.h
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

/** makedev(3) for glibc's 64-bit dev_t layout. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major);
  const mi = BigInt(minor);
  return ((ma & 0xfffn) << 8n) | ((ma & ~0xfffn) << 32n) | (mi & 0xffn) | ((mi & ~0xffn) << 12n);
}

export function major(dev: bigint): number {
  return Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
}

export function minor(dev: bigint): number {
  return Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
}

/** A new random UUID at each read (random(4), sysctl kernel.random.uuid); absent from a kernel built without CONFIG_PROC_SYSCTL. */
export const RANDOM_UUID_FILE = '/proc/sys/kernel/random/uuid';

/**
 * getrandom(2) flag (include/uapi/linux/random.h): fail with EAGAIN where the call would
 * wait for the kernel's random pool to be initialized, which it is once per boot.
 */
export const GRND_NONBLOCK = 0x1;

/** The kernel's dev_t holds a 12-bit major and a 20-bit minor (include/linux/kdev_t.h, MINORBITS 20). */
export const MAJOR_MAX = 0xfff;
export const MINOR_MAX = 0xfffff;

/** __NEW_UTS_LEN, include/uapi/linux/utsname.h: the bytes a uts namespace keeps of its hostname and of its NIS domain name; sethostname(2) and setdomainname(2) refuse a longer one (EINVAL). */
export const NEW_UTS_LEN = 64;
/** NGROUPS_MAX, include/uapi/linux/limits.h: the most supplementary groups setgroups(2) takes (EINVAL beyond). */
export const NGROUPS_MAX = 65536;
/** (uid_t)-1 and (gid_t)-1: no id; make_kuid() and make_kgid() map it to INVALID_UID and INVALID_GID, which setuid(2), setgid(2) and setgroups(2) refuse (EINVAL). */
export const NO_ID = 4294967295;

/** The extended attribute holding a file's POSIX access ACL (include/uapi/linux/xattr.h), read and built by core/posix-acl.ts. */
export const XATTR_NAME_POSIX_ACL_ACCESS = 'system.posix_acl_access';

/** The only version of posix_acl_xattr_header the kernel takes (include/uapi/linux/posix_acl_xattr.h). */
export const POSIX_ACL_XATTR_VERSION = 0x0002;

/** Entry tags (include/uapi/linux/posix_acl.h). */
export const ACL_USER_OBJ = 0x01;
export const ACL_USER = 0x02;
export const ACL_GROUP_OBJ = 0x04;
export const ACL_GROUP = 0x08;
export const ACL_MASK = 0x10;
export const ACL_OTHER = 0x20;

/** The id of an entry that names nobody (the owner's, the group's, the mask, other). */
export const ACL_UNDEFINED_ID = 0xffffffff;
