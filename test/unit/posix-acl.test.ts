import { ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER, ACL_UNDEFINED_ID, ACL_USER, ACL_USER_OBJ } from '../../src/core/constants';
import { aclWithUser, groupObjPerm, modeWithoutAcl } from '../../src/core/posix-acl';

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

/** A posix_acl_xattr value (linux/posix_acl_xattr.h): `version`, then each (e_tag, e_perm, e_id), little-endian. */
function acl(entries: [number, number, number][], version = 2): Uint8Array {
  const b = Buffer.alloc(4 + entries.length * 8);
  b.writeUInt32LE(version, 0);
  entries.forEach(([tag, perm, id], i) => {
    b.writeUInt16LE(tag, 4 + i * 8);
    b.writeUInt16LE(perm, 6 + i * 8);
    b.writeUInt32LE(id, 8 + i * 8);
  });
  return b;
}

const UNDEFINED = 0xffffffff;
/** user::rwx user:1234:rwx group::r-x mask::rwx other::--- (ACL_USER_OBJ, ACL_USER, ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER). */
const NAMED_USER = acl([[0x01, 7, UNDEFINED], [0x02, 7, 1234], [0x04, 5, UNDEFINED], [0x10, 7, UNDEFINED], [0x20, 0, UNDEFINED]]);

describe('groupObjPerm', () => {
  test.each([
    ['a named user and a mask', NAMED_USER, 5],
    ['a named group, no group permission', acl([[0x01, 6, UNDEFINED], [0x04, 0, UNDEFINED], [0x08, 6, 99], [0x10, 6, UNDEFINED], [0x20, 4, UNDEFINED]]), 0],
    ['the minimal ACL (no mask)', acl([[0x01, 6, UNDEFINED], [0x04, 4, UNDEFINED], [0x20, 4, UNDEFINED]]), 4],
    ['entries in any order', acl([[0x20, 0, UNDEFINED], [0x04, 3, UNDEFINED], [0x01, 7, UNDEFINED]]), 3],
    ['a value inside a larger buffer', new Uint8Array(Buffer.concat([Buffer.from([9, 9, 9]), NAMED_USER])).subarray(3), 5],
  ])('%s: its ACL_GROUP_OBJ permissions', (_name, value, expected) => {
    expect(groupObjPerm(value)).toBe(expected);
  });

  test.each([
    ['empty', new Uint8Array(0)],
    ['a header cut short', Uint8Array.from([2, 0, 0])],
    ['a ragged entry', new Uint8Array(Buffer.concat([NAMED_USER, Buffer.from([0x04, 0])]))],
    ['version 1', acl([[0x04, 5, UNDEFINED]], 1)],
    ['version 2 big-endian', acl([[0x04, 5, UNDEFINED]], 0x02000000)],
    ['no ACL_GROUP_OBJ', acl([[0x01, 7, UNDEFINED], [0x20, 0, UNDEFINED]])],
    ['two ACL_GROUP_OBJ', acl([[0x04, 5, UNDEFINED], [0x04, 7, UNDEFINED]])],
    ['an unknown tag', acl([[0x04, 5, UNDEFINED], [0x40, 7, UNDEFINED]])],
    ['a permission bit past rwx', acl([[0x04, 0o10 | 5, UNDEFINED]])],
    ['a header alone', acl([])],
  ])('%s: not an ACL (undefined)', (_name, value) => {
    expect(groupObjPerm(value)).toBeUndefined();
  });
});

describe('modeWithoutAcl', () => {
  test.each([
    ['group bits from the mask become ACL_GROUP_OBJ', 0o770, NAMED_USER, 0o750],
    ['ACL_GROUP_OBJ wider than the mask: within the mask (acl(5) access check)', 0o710, NAMED_USER, 0o710],
    ['a mask r-- and ACL_GROUP_OBJ r-x: r--', 0o740, NAMED_USER, 0o740],
    ['setuid, setgid, sticky, owner and other kept', 0o7775, NAMED_USER, 0o7755],
    ['a group narrower than the mode is narrowed', 0o755, acl([[0x01, 7, UNDEFINED], [0x04, 0, UNDEFINED], [0x10, 5, UNDEFINED], [0x20, 5, UNDEFINED]]), 0o705],
    ['equal group bits: the same mode', 0o2750, NAMED_USER, 0o2750],
    ['not an ACL: no group bits', 0o4775, Uint8Array.from([1, 2, 3]), 0o4705],
    ['no ACL_GROUP_OBJ: no group bits', 0o2770, acl([[0x01, 7, UNDEFINED], [0x20, 0, UNDEFINED]]), 0o2700],
  ])('%s', (_name, perm, value, expected) => {
    expect(modeWithoutAcl(perm, value)).toBe(expected);
  });
});
