/**
 * POSIX access ACLs as the kernel takes them in the `system.posix_acl_access` extended
 * attribute (struct posix_acl_xattr_header and posix_acl_xattr_entry,
 * include/uapi/linux/posix_acl_xattr.h): a little-endian u32 version, then one
 * little-endian {u16 tag, u16 perm, u32 id} per entry, in the order of their tags and, for
 * named entries, of their ids (posix_acl_valid(), fs/posix_acl.c). Setting it needs the
 * file's owner (or CAP_FOWNER) and a filesystem mounted with ACLs (else EOPNOTSUPP); the
 * kernel sets the file's group bits to the mask's (posix_acl_update_mode()).
 */

/** The attribute's name (include/uapi/linux/xattr.h XATTR_NAME_POSIX_ACL_ACCESS). */
export const XATTR_NAME_POSIX_ACL_ACCESS = 'system.posix_acl_access';

/** The only version the kernel takes. */
export const POSIX_ACL_XATTR_VERSION = 0x0002;

/** Entry tags (include/uapi/linux/posix_acl.h). */
export const ACL_USER_OBJ = 0x01;
export const ACL_USER = 0x02;
export const ACL_GROUP_OBJ = 0x04;
export const ACL_MASK = 0x10;
export const ACL_OTHER = 0x20;

/** The id of an entry that names nobody (the owner's, the group's, the mask, other). */
export const ACL_UNDEFINED_ID = 0xffffffff;

/**
 * The access ACL of a file of `mode` (its owner, group and other bits) with one named
 * user entry more: host uid `uid` given `perm` (r 4, w 2, x 1). The mask, which limits
 * named entries and the group's, is the group's bits and `perm`: nothing else gains.
 */
export function aclWithUser(mode: number, uid: number, perm: number): Uint8Array {
  const group = (mode >> 3) & 7;
  const entries: [number, number, number][] = [
    [ACL_USER_OBJ, (mode >> 6) & 7, ACL_UNDEFINED_ID],
    [ACL_USER, perm & 7, uid],
    [ACL_GROUP_OBJ, group, ACL_UNDEFINED_ID],
    [ACL_MASK, group | (perm & 7), ACL_UNDEFINED_ID],
    [ACL_OTHER, mode & 7, ACL_UNDEFINED_ID],
  ];
  const out = Buffer.alloc(4 + 8 * entries.length);
  out.writeUInt32LE(POSIX_ACL_XATTR_VERSION, 0);
  entries.forEach(([tag, perm, id], i) => {
    out.writeUInt16LE(tag, 4 + 8 * i);
    out.writeUInt16LE(perm, 6 + 8 * i);
    out.writeUInt32LE(id >>> 0, 8 + 8 * i);
  });
  return new Uint8Array(out);
}
