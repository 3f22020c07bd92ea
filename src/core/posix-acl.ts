/**
 * POSIX access ACLs as the kernel gives and takes them in the `system.posix_acl_access`
 * extended attribute (struct posix_acl_xattr_header and posix_acl_xattr_entry,
 * include/uapi/linux/posix_acl_xattr.h): a little-endian u32 a_version,
 * POSIX_ACL_XATTR_VERSION, then one little-endian {u16 e_tag, u16 e_perm, u32 e_id} per
 * entry, tags and permissions of include/uapi/linux/posix_acl.h; the kernel takes them in
 * the order of their tags and, for named entries, of their ids (posix_acl_valid(),
 * fs/posix_acl.c). Setting one needs the file's owner (or CAP_FOWNER) and a filesystem
 * mounted with ACLs (else EOPNOTSUPP); the kernel sets the file's group class bits to
 * the mask's (posix_acl_update_mode()). A file with an ACL that has an ACL_MASK entry
 * keeps the mask in the group class bits of its mode, not the owning group's permissions
 * (acl(5)), which its ACL_GROUP_OBJ entry gives within that mask. The owner and other
 * bits are always the ACL_USER_OBJ and ACL_OTHER entries'.
 */
import { ACL_GROUP, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER, ACL_UNDEFINED_ID, ACL_USER, ACL_USER_OBJ, POSIX_ACL_XATTR_VERSION } from './constants';

const HEADER_SIZE = 4;
const ENTRY_SIZE = 8;
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

/**
 * The access ACL of a file of `mode` (its owner, group and other bits) with one named
 * user entry more: host uid `uid` given `perm` (r 4, w 2, x 1). The mask, which limits
 * named entries and the group's, is the group's bits and `perm`: nothing else gains.
 */
export function aclWithUser(mode: number, uid: number, perm: number): Uint8Array {
  const group = (mode >> 3) & ACL_PERMS;
  const entries: [number, number, number][] = [
    [ACL_USER_OBJ, (mode >> 6) & ACL_PERMS, ACL_UNDEFINED_ID],
    [ACL_USER, perm & ACL_PERMS, uid],
    [ACL_GROUP_OBJ, group, ACL_UNDEFINED_ID],
    [ACL_MASK, group | (perm & ACL_PERMS), ACL_UNDEFINED_ID],
    [ACL_OTHER, mode & ACL_PERMS, ACL_UNDEFINED_ID],
  ];
  const out = Buffer.alloc(HEADER_SIZE + ENTRY_SIZE * entries.length);
  out.writeUInt32LE(POSIX_ACL_XATTR_VERSION, 0);
  entries.forEach(([tag, bits, id], i) => {
    const at = HEADER_SIZE + ENTRY_SIZE * i;
    out.writeUInt16LE(tag, at);
    out.writeUInt16LE(bits, at + 2);
    out.writeUInt32LE(id >>> 0, at + 4);
  });
  return new Uint8Array(out);
}
