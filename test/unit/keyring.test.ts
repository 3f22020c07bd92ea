import { KEY_OTH_SEARCH, KEY_USR_SEARCH, keyPermissions, sessionKeyringName } from '../../src/core/keyring';

describe('the session keyring (keyrings(7))', () => {
  test("named as runc names it, so that a process joining it by name gets the container's", () => {
    expect(sessionKeyringName('web-1')).toBe('_ses.web-1');
  });

  test('the search bits, as include/uapi/linux/keyctl.h has them', () => {
    expect([KEY_USR_SEARCH, KEY_OTH_SEARCH]).toEqual([0x80000, 0x8]);
  });

  test.each([
    ['keyring;0;0;3f130000;_ses.web-1', 0x3f130000],
    ['keyring;1000;1000;3f1b0000;_ses.a;b', 0x3f1b0000],
    ['keyring;0;0;0;_ses', 0],
    ['keyring;0;0;ffffffff;x', 0xffffffff],
    ['keyring;0;0', undefined],
    ['keyring;0;0;perm;x', undefined],
    ['keyring;0;0;123456789;x', undefined],
    ['', undefined],
  ])('the permissions in KEYCTL_DESCRIBE %j', (text, perm) => expect(keyPermissions(text)).toBe(perm));
});
