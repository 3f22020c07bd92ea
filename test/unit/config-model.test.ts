import { needsDevSetup } from '../../src/core/config/model';
import { MS_BIND, MS_REC } from '../../src/core/constants';
import { makeConfig, makeMount } from '../helpers/config';

describe('needsDevSetup', () => {
  test.each([
    ['no mounts', [], true],
    ['a bind mount of /dev', [makeMount({ type: 'bind', source: '/dev', destination: '/dev', flags: MS_BIND | MS_REC })], false],
    ['a bind mount of an unclean /dev', [makeMount({ type: 'bind', source: '/dev', destination: '//dev/./', flags: MS_BIND })], false],
    ['a tmpfs on /dev', [makeMount({ type: 'tmpfs', destination: '/dev' })], true],
    ['a bind mount below /dev', [makeMount({ type: 'bind', source: '/dev/shm', destination: '/dev/shm', flags: MS_BIND })], true],
    ['a bind mount of /devices', [makeMount({ type: 'bind', source: '/x', destination: '/devices', flags: MS_BIND })], true],
  ])('%s: %s', (_what, mounts, expected) => {
    expect(needsDevSetup(makeConfig({ mounts }))).toBe(expected);
  });
});

