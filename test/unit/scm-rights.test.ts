import { SCM_RIGHTS_SPACE, scmRightsControl, scmRightsFd } from '../../src/core/syscalls/scm-rights';

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

describe('scmRightsFd: the descriptor a received message passed', () => {
  test.each([
    ['as sent, little-endian', scmRightsControl(9, true), true, 9],
    ['as sent, big-endian', scmRightsControl(12, false), false, 12],
    ['no control message (zeroed)', Buffer.alloc(SCM_RIGHTS_SPACE), true, undefined],
    ['too short', Buffer.alloc(8), true, undefined],
    ['another type (SCM_CREDENTIALS, 2)', Buffer.from('140000000000000001000000020000000700000000000000', 'hex'), true, undefined],
    ['another level', Buffer.from('140000000000000000000000010000000700000000000000', 'hex'), true, undefined],
  ])('%s', (_what, control, little, fd) => expect(scmRightsFd(control, little)).toBe(fd));
});
