/**
 * A file's mode without its access ACL, for a copy the ACL could not be set on.
 *
 * A file with an ACL that has an ACL_MASK entry keeps the mask in the group class bits of
 * its mode, not the owning group's permissions (acl(5)), which its ACL_GROUP_OBJ entry
 * gives within that mask. The owner and other bits are always the ACL_USER_OBJ and
 * ACL_OTHER entries'.
 *
 * The value is the extended attribute system.posix_acl_access as getxattr(2) gives it
 * (linux/posix_acl_xattr.h): a little-endian u32 a_version, POSIX_ACL_XATTR_VERSION, then
 * 8-byte entries {u16 e_tag, u16 e_perm, u32 e_id}, tags and permissions of
 * linux/posix_acl.h.
 */

/** The attribute of a file's access ACL (linux/posix_acl_xattr.h). */
export const POSIX_ACL_XATTR_ACCESS = 'system.posix_acl_access';

const POSIX_ACL_XATTR_VERSION = 0x0002;
const HEADER_SIZE = 4;
const ENTRY_SIZE = 8;

/** e_tag values (linux/posix_acl.h). */
const ACL_USER_OBJ = 0x01;
const ACL_USER = 0x02;
const ACL_GROUP_OBJ = 0x04;
const ACL_GROUP = 0x08;
const ACL_MASK = 0x10;
const ACL_OTHER = 0x20;
const TAGS: readonly number[] = [ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_GROUP, ACL_MASK, ACL_OTHER];

/** e_perm bits: ACL_READ, ACL_WRITE, ACL_EXECUTE (linux/posix_acl.h). */
const ACL_PERMS = 0o7;

/** The group class bits of a mode (S_IRWXG). */
const S_IRWXG = 0o070;

/**
 * The permissions of the ACL_GROUP_OBJ entry of a posix_acl_xattr value, or undefined
 * when the value is not one the kernel would take: a short or ragged value, another
 * version, an unknown tag or permission bit, or not exactly one ACL_GROUP_OBJ
 * (posix_acl_from_xattr and posix_acl_valid refuse those with EINVAL).
 */
export function groupObjPerm(value: Uint8Array): number | undefined {
  if (value.length < HEADER_SIZE || (value.length - HEADER_SIZE) % ENTRY_SIZE !== 0) return undefined;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  if (view.getUint32(0, true) !== POSIX_ACL_XATTR_VERSION) return undefined;
  let found: number | undefined;
  for (let at = HEADER_SIZE; at < value.length; at += ENTRY_SIZE) {
    const tag = view.getUint16(at, true);
    const perm = view.getUint16(at + 2, true);
    if (!TAGS.includes(tag) || (perm & ~ACL_PERMS) !== 0) return undefined;
    if (tag === ACL_GROUP_OBJ) {
      if (found !== undefined) return undefined;
      found = perm;
    }
  }
  return found;
}

/**
 * `perm` (a mode's permission bits, with setuid, setgid and sticky) as the copy of a file
 * whose access ACL `value` it cannot have: the group class bits those the owning group
 * has, the rest as they are. Under a mask, the owning group is granted what both its
 * ACL_GROUP_OBJ entry and the mask grant (acl(5), the access check), and the mask is the
 * group class bits; without one, those bits are the ACL_GROUP_OBJ entry. So the bits kept
 * are the group class bits within ACL_GROUP_OBJ, never more than either. A value that is
 * no ACL (groupObjPerm) leaves no group bits: it does not tell whether those bits are a
 * mask wider than the owning group's permissions.
 */
export function modeWithoutAcl(perm: number, value: Uint8Array): number {
  const group = groupObjPerm(value) ?? 0;
  return (perm & ~S_IRWXG) | (perm & S_IRWXG & (group << 3));
}
