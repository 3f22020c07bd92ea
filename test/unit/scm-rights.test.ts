import { SCM_RIGHTS_SPACE, scmRightsControl } from '../../src/core/syscalls/scm-rights';

describe('the SCM_RIGHTS control message', () => {
  test.each([
    [true, 7, '140000000000000001000000010000000700000000000000'],
    [false, 7, '000000000000001400000001000000010000000700000000'],
    [true, -1, '14000000000000000100000001000000ffffffff00000000'],
  ])('little-endian %s, descriptor %i: cmsg_len 20, SOL_SOCKET, SCM_RIGHTS, the int, padding', (little, fd, hex) => {
    const control = scmRightsControl(fd, little);
    expect(control.length).toBe(SCM_RIGHTS_SPACE);
    expect(control.toString('hex')).toBe(hex);
  });
});
