/**
 * stat(2) results as the port's FileStat: from Node's BigIntStats for the dry-run overlay
 * and the plan port, which read the host through Node's synchronous fs calls, and from a
 * struct statx for the real port, which makes statx(2) itself.
 */
import type { BigIntStats } from 'fs';
import { makedev, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../constants';
import type { FileKind, FileStat, MountStat } from './types';

const KIND_BY_TYPE = new Map<number, FileKind>([
  [S_IFREG, 'file'],
  [S_IFDIR, 'dir'],
  [S_IFLNK, 'symlink'],
  [S_IFCHR, 'char'],
  [S_IFBLK, 'block'],
  [S_IFIFO, 'fifo'],
  [S_IFSOCK, 'socket'],
]);

/** Each file kind in words, for messages: "is a directory". */
export const KIND_WORDS: Readonly<Record<FileKind, string>> = { file: 'a regular file', dir: 'a directory', symlink: 'a symlink', fifo: 'a FIFO', char: 'a character device', block: 'a block device', socket: 'a socket' };

/** The file kind of the S_IFMT bits of a mode, undefined for none. */
export function kindFromMode(mode: number): FileKind | undefined {
  return KIND_BY_TYPE.get(mode & S_IFMT);
}

export function toFileStat(st: BigIntStats): FileStat {
  const mode = Number(st.mode);
  return {
    kind: kindFromMode(mode) ?? 'file',
    perm: mode & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    rdev: st.rdev,
    dev: st.dev,
    ino: st.ino,
    size: Number(st.size),
  };
}

/** Size of struct statx (include/uapi/linux/stat.h): the same on every architecture. */
export const STATX_SIZE = 0x100;

/**
 * Offsets of the struct statx fields a FileStat takes (include/uapi/linux/stat.h): little
 * endian on x86_64 and arm64, the architectures the real port runs on.
 */
const STX_MASK = 0x00;
const STX_ATTRIBUTES = 0x08;
const STX_UID = 0x14;
const STX_GID = 0x18;
const STX_MODE = 0x1c;
const STX_INO = 0x20;
const STX_SIZE = 0x28;
const STX_RDEV_MAJOR = 0x80;
const STX_RDEV_MINOR = 0x84;
const STX_DEV_MAJOR = 0x88;
const STX_DEV_MINOR = 0x8c;
const STX_ATTRIBUTES_MASK = 0x38;
const STX_MNT_ID = 0x90;

/** statx(2) mask bits and attribute (include/uapi/linux/stat.h): the file type, the mount id (Linux 5.8), a mount's root (5.8). */
export const STATX_TYPE = 0x1;
export const STATX_MNT_ID = 0x1000;
export const STATX_ATTR_MOUNT_ROOT = 0x2000n;

/** The filesystem device fromStatx made last: a run stats the files of a few filesystems, many on each in a row. */
let lastDev = { major: 0, minor: 0, dev: 0n };

/** makedev(major, minor), kept from the call before when it is the same device. */
function filesystemDev(major: number, minor: number): bigint {
  if (major !== lastDev.major || minor !== lastDev.minor) lastDev = { major, minor, dev: makedev(major, minor) };
  return lastDev.dev;
}

/**
 * A struct statx as the port's FileStat. Device numbers are glibc's dev_t of the major and
 * minor statx(2) gives separately, as Node's stat calls report them (libuv makes them
 * with makedev(3)); a file that is no device has rdev 0 (statx(2)).
 */
export function fromStatx(buf: Buffer): FileStat {
  const mode = buf.readUInt16LE(STX_MODE);
  const rdevMajor = buf.readUInt32LE(STX_RDEV_MAJOR);
  const rdevMinor = buf.readUInt32LE(STX_RDEV_MINOR);
  return {
    kind: kindFromMode(mode) ?? 'file',
    perm: mode & 0o7777,
    uid: buf.readUInt32LE(STX_UID),
    gid: buf.readUInt32LE(STX_GID),
    rdev: rdevMajor === 0 && rdevMinor === 0 ? 0n : makedev(rdevMajor, rdevMinor),
    dev: filesystemDev(buf.readUInt32LE(STX_DEV_MAJOR), buf.readUInt32LE(STX_DEV_MINOR)),
    ino: buf.readBigUInt64LE(STX_INO),
    // A u64 read as two halves: exact up to 2^53 bytes, as Number(st.size) is.
    size: buf.readUInt32LE(STX_SIZE) + buf.readUInt32LE(STX_SIZE + 4) * 0x1_0000_0000,
  };
}

/**
 * A struct statx asked for STATX_TYPE|STATX_MNT_ID as a MountStat; `fallbackMntId` gives
 * the mount id where the kernel did not fill stx_mnt_id (stx_mask without STATX_MNT_ID,
 * before 5.8). Whether the file is a mount's root is known where stx_attributes_mask has
 * STATX_ATTR_MOUNT_ROOT.
 */
export function mountStatFromStatx(buf: Buffer, fallbackMntId: () => bigint): MountStat {
  const kind = kindFromMode(buf.readUInt16LE(STX_MODE)) ?? 'file';
  const mntId = (buf.readUInt32LE(STX_MASK) & STATX_MNT_ID) !== 0 ? buf.readBigUInt64LE(STX_MNT_ID) : fallbackMntId();
  const known = (buf.readBigUInt64LE(STX_ATTRIBUTES_MASK) & STATX_ATTR_MOUNT_ROOT) !== 0n;
  return { kind, mntId, mountRoot: known ? (buf.readBigUInt64LE(STX_ATTRIBUTES) & STATX_ATTR_MOUNT_ROOT) !== 0n : undefined };
}
