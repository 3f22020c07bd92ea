import { groupObjPerm, modeWithoutAcl } from '../../../src/plugins/tmpfs/posix-acl';

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
