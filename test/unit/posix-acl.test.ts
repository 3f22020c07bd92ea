import { ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER, ACL_UNDEFINED_ID, ACL_USER, ACL_USER_OBJ, aclWithUser } from '../../src/core/posix-acl';

/** The entries of a system.posix_acl_access value, after its version. */
function entries(value: Uint8Array): { version: number; entries: [number, number, number][] } {
  const b = Buffer.from(value);
  const out: [number, number, number][] = [];
  for (let at = 4; at < b.length; at += 8) out.push([b.readUInt16LE(at), b.readUInt16LE(at + 2), b.readUInt32LE(at + 4)]);
  return { version: b.readUInt32LE(0), entries: out };
}

describe('aclWithUser: an access ACL with one named user entry (struct posix_acl_xattr_entry)', () => {
  test.each([
    ['0700, uid 100000 may search', 0o700, 100000, 1, [7, 1, 0, 1, 0]],
    ['0750, uid 5 may read and search: the mask is the group bits and those', 0o750, 5, 5, [7, 5, 5, 5, 0]],
    ['0640, uid 0 may write: the group keeps read, the mask takes both', 0o640, 0, 2, [6, 2, 4, 6, 0]],
    ['0701, uid 4294967294', 0o701, 4294967294, 1, [7, 1, 0, 1, 1]],
  ])('%s', (_what, mode, uid, perm, perms) => {
    const value = aclWithUser(mode, uid, perm);
    expect(value.length).toBe(4 + 5 * 8);
    expect(entries(value)).toEqual({
      version: 2,
      entries: [
        [ACL_USER_OBJ, perms[0], ACL_UNDEFINED_ID],
        [ACL_USER, perms[1], uid],
        [ACL_GROUP_OBJ, perms[2], ACL_UNDEFINED_ID],
        [ACL_MASK, perms[3], ACL_UNDEFINED_ID],
        [ACL_OTHER, perms[4], ACL_UNDEFINED_ID],
      ],
    });
  });

  test('the bytes, little-endian, as the kernel reads them: 0700 with uid 100000 given x', () => {
    expect(Buffer.from(aclWithUser(0o700, 100000, 1)).toString('hex')).toBe(
      ['02000000', '01000700ffffffff', '02000100a0860100', '04000000ffffffff', '10000100ffffffff', '20000000ffffffff'].join(''),
    );
  });
});
