/**
 * A security.capability value, the bytes `setcap cap_net_raw+ep` writes: VFS_CAP_REVISION_2
 * with VFS_CAP_FLAGS_EFFECTIVE, CAP_NET_RAW (13) permitted, no inheritable
 * (linux/capability.h, struct vfs_cap_data, little-endian). The tmpcopyup tests copy it.
 */
export const NET_RAW_FILE_CAPS: readonly number[] = [1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

/**
 * A system.posix_acl_access or system.posix_acl_default value (linux/posix_acl_xattr.h:
 * version 2, then each entry's tag, perm and id, little-endian): user::rwx, user:1234:rwx,
 * group::r-x, mask::rwx, other::---. The tmpcopyup tests copy it.
 */
export const USER_1234_ACL: readonly number[] = (() => {
  const entries: [number, number, number][] = [[0x01, 7, 0xffffffff], [0x02, 7, 1234], [0x04, 5, 0xffffffff], [0x10, 7, 0xffffffff], [0x20, 0, 0xffffffff]];
  const b = Buffer.alloc(4 + entries.length * 8);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => {
    b.writeUInt16LE(tag, 4 + i * 8);
    b.writeUInt16LE(perm, 6 + i * 8);
    b.writeUInt32LE(id, 8 + i * 8);
  });
  return [...b];
})();
