import { parseIdmapOption, resolveIdmapTerms } from '../../src/core/config/idmap-option';

const F = 'mounts[3].options';

describe("crun's idmap=uids=...;gids=... mount option", () => {
  test.each([
    ['uids=0-1000-10;gids=0-2000-10', { uid: [{ fsId: 0, hostId: 1000, size: 10, relative: false }], gid: [{ fsId: 0, hostId: 2000, size: 10, relative: false }] }],
    [';gids=0-2000-10;;uids=0-1000-10;', { uid: [{ fsId: 0, hostId: 1000, size: 10, relative: false }], gid: [{ fsId: 0, hostId: 2000, size: 10, relative: false }] }],
    [
      'uids=0-1000-10#10-5000-1;gids=@0-0-65536',
      {
        uid: [
          { fsId: 0, hostId: 1000, size: 10, relative: false },
          { fsId: 10, hostId: 5000, size: 1, relative: false },
        ],
        gid: [{ fsId: 0, hostId: 0, size: 65536, relative: true }],
      },
    ],
    ['uids=4294967295-4294967295-1;gids=0-0-1', { uid: [{ fsId: 4294967295, hostId: 4294967295, size: 1, relative: false }], gid: [{ fsId: 0, hostId: 0, size: 1, relative: false }] }],
  ])('%s', (value, expected) => expect(parseIdmapOption(value, `idmap=${value}`, F)).toEqual(expected));

  test.each([
    ['uids=0-1000-10', 'needs both uids= and gids= (the gids would be left unmapped)'],
    ['gids=0-1000-10', 'needs both uids= and gids= (the uids would be left unmapped)'],
    ['uids=0-1-1;gids=0-1-1;uids=0-2-1', 'gives uids= twice'],
    ['users=0-1-1;gids=0-1-1', '"users=0-1-1": the value takes uids=... and gids=..., separated by ;'],
    ['uids=0-1;gids=0-1-1', '"0-1" is no mapping: FS-HOST-SIZE, three decimal numbers, @ first for one relative to the container\'s user namespace'],
    ['uids=0-1-1#;gids=0-1-1', '"" is no mapping: FS-HOST-SIZE, three decimal numbers, @ first for one relative to the container\'s user namespace'],
    ['uids=-1-1-1;gids=0-1-1', '"-1-1-1" is no mapping: FS-HOST-SIZE, three decimal numbers, @ first for one relative to the container\'s user namespace'],
    ['uids=0-4294967296-1;gids=0-1-1', '"0-4294967296-1": 4294967296 is beyond 32 bits'],
    ['uids=0-1-0;gids=0-1-1', '"0-1-0": a mapping of no ids'],
  ])('%s is refused: %s', (value, message) => {
    expect(() => parseIdmapOption(value, `idmap=${value}`, F)).toThrow(`${F} "idmap=${value}": ${message}`);
  });
});

describe('relative triplets (@) against the container user namespace (crun 1.13 and later)', () => {
  const container = [
    { containerID: 0, hostID: 100000, size: 1000 },
    { containerID: 1000, hostID: 300000, size: 64536 },
  ];
  test.each([
    ['absolute, as written', { fsId: 0, hostId: 1000, size: 10, relative: false }, { containerID: 0, hostID: 1000, size: 10 }],
    ["HOST in the first range: the host's id for it", { fsId: 0, hostId: 0, size: 1000, relative: true }, { containerID: 0, hostID: 100000, size: 1000 }],
    ['HOST in the second range, whatever FS is', { fsId: 1500, hostId: 5, size: 10, relative: true }, { containerID: 1500, hostID: 100005, size: 10 }],
    ["Podman's rootless: FS outside every range, HOST the container's root", { fsId: 70000, hostId: 1000, size: 1, relative: true }, { containerID: 70000, hostID: 300000, size: 1 }],
  ])('%s', (_name, t, mapping) => expect(resolveIdmapTerms([t], container, 'uid', 'idmap=x', F)).toEqual([mapping]));

  test.each([
    ['no linux.gidMappings', undefined, 'a relative mapping (@) needs linux.gidMappings'],
    ['no range holding the id', [{ containerID: 0, hostID: 100000, size: 10 }], "no range of linux.gidMappings holds the container's gid 100"],
  ])('%s: refused', (_name, ranges, message) => {
    expect(() => resolveIdmapTerms([{ fsId: 10, hostId: 100, size: 1, relative: true }], ranges, 'gid', 'idmap=x', F)).toThrow(`${F} "idmap=x": ${message}`);
  });
});
