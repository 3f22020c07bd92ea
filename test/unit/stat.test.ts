import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK, makedev } from '../../src/core/constants';
import { STATX_SIZE, fromStatx } from '../../src/core/syscalls/stat';

/** A struct statx as the kernel fills it (include/uapi/linux/stat.h), little endian. */
function statx(fields: {
  mode: number;
  uid?: number;
  gid?: number;
  ino?: bigint;
  size?: bigint;
  rdev?: [number, number];
  dev?: [number, number];
}): Buffer {
  const buf = Buffer.alloc(STATX_SIZE, 0xaa);
  buf.writeUInt32LE(0x7ff, 0x00); // stx_mask: STATX_BASIC_STATS
  buf.writeUInt32LE(fields.uid ?? 0, 0x14);
  buf.writeUInt32LE(fields.gid ?? 0, 0x18);
  buf.writeUInt16LE(fields.mode, 0x1c);
  buf.writeBigUInt64LE(fields.ino ?? 1n, 0x20);
  buf.writeBigUInt64LE(fields.size ?? 0n, 0x28);
  buf.writeUInt32LE(fields.rdev?.[0] ?? 0, 0x80);
  buf.writeUInt32LE(fields.rdev?.[1] ?? 0, 0x84);
  buf.writeUInt32LE(fields.dev?.[0] ?? 0, 0x88);
  buf.writeUInt32LE(fields.dev?.[1] ?? 0, 0x8c);
  return buf;
}

describe('fromStatx', () => {
  test('a struct statx of 256 bytes, as statx(2) writes it on every architecture', () => {
    expect(STATX_SIZE).toBe(256);
  });

  test.each([
    [S_IFREG, 'file'],
    [S_IFDIR, 'dir'],
    [S_IFLNK, 'symlink'],
    [S_IFCHR, 'char'],
    [S_IFBLK, 'block'],
    [S_IFIFO, 'fifo'],
    [S_IFSOCK, 'socket'],
  ])('file type bits 0o%o are a %s', (type, kind) => {
    expect(fromStatx(statx({ mode: type | 0o644 })).kind).toBe(kind);
  });

  test('every field at its offset: permissions with the set-id and sticky bits, owner, inode, size and both devices', () => {
    const st = fromStatx(
      statx({ mode: S_IFREG | 0o6755, uid: 1000, gid: 0xfffffffe, ino: 0xfedcba9876543210n, size: 2n ** 40n + 5n, dev: [259, 3] }),
    );
    expect(st).toEqual({
      kind: 'file',
      perm: 0o6755,
      uid: 1000,
      gid: 0xfffffffe,
      rdev: 0n,
      // The same dev_t as Node's stat calls give (glibc's makedev of the statx major and minor).
      dev: makedev(259, 3),
      // All 64 bits: an inode number past 2^53 stays exact.
      ino: 0xfedcba9876543210n,
      size: 2 ** 40 + 5,
    });
  });

  test('a device node has its device number, with majors and minors past 8 bits as glibc lays them out', () => {
    expect(fromStatx(statx({ mode: S_IFCHR | 0o666, rdev: [1, 3] })).rdev).toBe(makedev(1, 3));
    expect(fromStatx(statx({ mode: S_IFBLK | 0o660, rdev: [4097, 300] })).rdev).toBe(makedev(4097, 300));
  });
});
