import {
  AT_FLAGS,
  CLONE_FLAGS,
  DUP3_FLAGS,
  MODE_FLAGS,
  MOUNT_ATTR_FLAGS,
  MOUNT_FLAGS,
  OPEN_FLAGS,
  RESOLVE_FLAGS,
  UMOUNT_FLAGS,
  formatDev,
  formatDirfd,
  formatFlags,
  type FlagTable,
} from '../../src/core/plan/flags';
import { makedev } from '../../src/core/constants';

describe('formatFlags', () => {
  test.each<[string, FlagTable, bigint | number, string]>([
    ['no flag', MOUNT_FLAGS, 0n, '0'],
    ['one flag', MOUNT_FLAGS, 0x1000n, 'MS_BIND'],
    ['bits in ascending order', MOUNT_FLAGS, 0x5000n, 'MS_BIND|MS_REC'],
    ['propagation', MOUNT_FLAGS, 0x84000n, 'MS_REC|MS_SLAVE'],
    ['a remount', MOUNT_FLAGS, 0x5027n, 'MS_RDONLY|MS_NOSUID|MS_NODEV|MS_REMOUNT|MS_BIND|MS_REC'],
    ['unnamed bits stay, as one hex remainder', MOUNT_FLAGS, 0x1000n | 0x40000000n | 0x400000n, 'MS_BIND|0x40400000'],
    ['only unnamed bits', MOUNT_FLAGS, 0x80000000n, '0x80000000'],
    ['umount2', UMOUNT_FLAGS, 2, 'MNT_DETACH'],
    ['umount2, two flags', UMOUNT_FLAGS, 10, 'MNT_DETACH|UMOUNT_NOFOLLOW'],
    ['the atime mask before its values', MOUNT_ATTR_FLAGS, 0x70n, 'MOUNT_ATTR__ATIME'],
    ['one atime value', MOUNT_ATTR_FLAGS, 0x13n, 'MOUNT_ATTR_RDONLY|MOUNT_ATTR_NOSUID|MOUNT_ATTR_NOATIME'],
    ['open: read-only is the access mode 0', OPEN_FLAGS, 0, 'O_RDONLY'],
    ['open: access mode and flags', OPEN_FLAGS, 0o2000002, 'O_RDWR|O_CLOEXEC'],
    ['open: O_PATH lookups', OPEN_FLAGS, 0o12400000, 'O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_PATH'],
    ['open: creation', OPEN_FLAGS, 0o301 | 0o2000000, 'O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC'],
    ['open: the invalid access mode 3 is left as a remainder', OPEN_FLAGS, 3, '0x3'],
    ['dup3 without flags', DUP3_FLAGS, 0, '0'],
    ['dup3 O_CLOEXEC', DUP3_FLAGS, 0o2000000, 'O_CLOEXEC'],
    ['*at flags', AT_FLAGS, 0x9000, 'AT_EMPTY_PATH|AT_RECURSIVE'],
    ['unlinkat of a directory', AT_FLAGS, 0x200, 'AT_REMOVEDIR'],
    ['openat2 resolve', RESOLVE_FLAGS, 0x12n, 'RESOLVE_NO_MAGICLINKS|RESOLVE_IN_ROOT'],
    ['unshare', CLONE_FLAGS, 0x0c020000, 'CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC'],
    ['CLONE_NEWNET has bit 30; numbers with bit 31 read as unsigned', CLONE_FLAGS, 0x40000000 | 0x80000000, 'CLONE_NEWNET|0x80000000'],
    ['CLONE_FS and CLONE_NEWTIME', CLONE_FLAGS, 0x280, 'CLONE_NEWTIME|CLONE_FS'],
    ['a directory mode', MODE_FLAGS, 0o755, '0755'],
    ['a mode with set-id and sticky bits', MODE_FLAGS, 0o4755, '04755'],
    ['a umask', MODE_FLAGS, 0o022, '0022'],
    ['no permission bits', MODE_FLAGS, 0, '0000'],
    ['a device node mode: type by name', MODE_FLAGS, 0o20666, 'S_IFCHR|0666'],
    ['a fifo', MODE_FLAGS, 0o10644, 'S_IFIFO|0644'],
  ])('%s', (_what, table, value, expected) => {
    expect(formatFlags(value, table)).toBe(expected);
  });
});

describe('formatDev and formatDirfd', () => {
  test.each([
    [makedev(1, 3), '1:3'],
    [makedev(5, 2), '5:2'],
    [makedev(259, 300000), '259:300000'],
    [0n, '0:0'],
  ])('%s -> %s', (dev, expected) => expect(formatDev(dev)).toBe(expected));

  test.each([
    [-100, 'AT_FDCWD'],
    [3, '3'],
    [105, '105'],
  ])('%s -> %s', (fd, expected) => expect(formatDirfd(fd)).toBe(expected));
});
