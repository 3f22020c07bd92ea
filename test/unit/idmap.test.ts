import { MAX_ID_MAPPINGS, hostIdOf, idMapText, idMappingsProblem, mapsContainerId, parseIdMapText, sameMappings, mappingToolArgs, mapsOnlyOwnId } from '../../src/core/idmap';
import type { IdMapping } from '../../src/core/syscalls/types';

const map = (containerID: number, hostID: number, size: number): IdMapping => ({ containerID, hostID, size });
const LAST = 2 ** 32 - 2;

describe('idMappingsProblem: what the kernel refuses in a uid_map or gid_map', () => {
  test.each<[string, IdMapping[]]>([
    ['one range', [map(0, 100000, 65536)]],
    ['ranges side by side on both sides', [map(0, 1000, 10), map(10, 1010, 10)]],
    ['a range ending at the last id', [map(LAST, LAST, 1)]],
    ['the most lines the kernel takes', Array.from({ length: MAX_ID_MAPPINGS }, (_, i) => map(i, i, 1))],
    // 170 lines of 24 bytes and one of 15.
    ['a text of 4095 bytes', [...Array.from({ length: 170 }, (_, i) => map(4e9 + i, 4e9 + i, 1)), map(100000, 10000, 1)]],
  ])('accepted: %s', (_case, mappings) => {
    expect(idMappingsProblem('m', mappings)).toBeUndefined();
  });

  test.each<[string, IdMapping[], string, string]>([
    ['no line', [], 'm', 'needs at least one mapping'],
    ['one line too many', Array.from({ length: MAX_ID_MAPPINGS + 1 }, (_, i) => map(i, i, 1)), 'm', "has 341 mappings, more than the kernel's 340"],
    ['an empty range', [map(0, 0, 0)], 'm[0].size', 'must be at least 1'],
    ['a container range past the last id', [map(LAST, 0, 2)], 'm[0]', 'containerID 4294967294 + size 2 goes past the last id, 4294967294'],
    ['a host range past the last id', [map(0, LAST + 1, 1)], 'm[0]', 'hostID 4294967295 + size 1 goes past the last id, 4294967294'],
    ['container ranges overlapping', [map(0, 1000, 10), map(9, 2000, 1)], 'm[1]', "its containerID range overlaps m[0]'s"],
    ['host ranges overlapping', [map(0, 1000, 10), map(20, 995, 10)], 'm[1]', "its hostID range overlaps m[0]'s"],
    ['a text of more than 4095 bytes, the least a page holds', Array.from({ length: 300 }, (_, i) => map(4e9 + i, 4e9 + i, 1)), 'm', 'takes 7200 bytes as a map; the kernel takes at most 4095 in one write'],
    ['a text of 4096 bytes, a page, one more than the kernel takes', [...Array.from({ length: 170 }, (_, i) => map(4e9 + i, 4e9 + i, 1)), map(100000, 100000, 1)], 'm', 'takes 4096 bytes as a map; the kernel takes at most 4095 in one write'],
    ['a range whose last id is where an earlier one starts', [map(14, 100, 1), map(10, 0, 5)], 'm[1]', "its containerID range overlaps m[0]'s"],
    ['a later pair overlapping', [map(0, 0, 1), map(5, 5, 5), map(100, 9, 1)], 'm[2]', "its hostID range overlaps m[1]'s"],
  ])('refused: %s', (_case, mappings, field, reason) => {
    expect(idMappingsProblem('m', mappings)).toEqual({ field, reason });
  });
});

describe('idMapText', () => {
  test('one "containerID hostID size" line per mapping, in order', () => {
    expect(idMapText([map(0, 100000, 65536), map(65536, 5, 1)])).toBe('0 100000 65536\n65536 5 1\n');
  });
});

describe('mapsContainerId', () => {
  test.each<[IdMapping[], number, boolean]>([
    [[map(0, 100000, 65536)], 0, true],
    [[map(0, 100000, 65536)], 65535, true],
    [[map(0, 100000, 65536)], 65536, false],
    [[map(1, 1, 5), map(0, 9, 1)], 0, true],
    [[map(1, 1, 5)], 0, false],
    [[map(LAST, 0, 1)], LAST, true],
  ])('%j maps %s: %s', (mappings, id, expected) => expect(mapsContainerId(mappings, id)).toBe(expected));
});

describe('parseIdMapText', () => {
  test('the kernel\'s padded columns, one mapping per line; blank lines left out', () => {
    expect(parseIdMapText('         0     100000      65536\n     65536          5          1\n')).toEqual([map(0, 100000, 65536), map(65536, 5, 1)]);
    expect(parseIdMapText('')).toEqual([]);
    expect(parseIdMapText(idMapText([map(0, 0, 1)]))).toEqual([map(0, 0, 1)]);
  });
});

describe('sameMappings', () => {
  test.each<[IdMapping[], IdMapping[], boolean]>([
    [[map(0, 1, 2)], [map(0, 1, 2)], true],
    [[map(0, 1, 2), map(5, 9, 1)], [map(5, 9, 1), map(0, 1, 2)], true],
    [[map(0, 1, 2)], [map(0, 1, 3)], false],
    [[map(0, 1, 2)], [map(0, 1, 2), map(5, 9, 1)], false],
    [[], [], true],
  ])('%j and %j: %s', (a, b, expected) => expect(sameMappings(a, b)).toBe(expected));
});

describe('mapsOnlyOwnId: what a user other than root may write itself', () => {
  test.each<[IdMapping[], number | undefined, boolean]>([
    [[{ containerID: 0, hostID: 1000, size: 1 }], 1000, true],
    [[{ containerID: 0, hostID: 1000, size: 1 }], 1001, false],
    [[{ containerID: 0, hostID: 1000, size: 2 }], 1000, false],
    [[{ containerID: 1, hostID: 1000, size: 1 }], 1000, false],
    [[{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 10 }], 1000, false],
    [[], 1000, false],
    [[{ containerID: 0, hostID: 1000, size: 1 }], undefined, false],
  ])('%j for %s: %s', (maps, id, expected) => expect(mapsOnlyOwnId(maps, id)).toBe(expected));
});

describe('mappingToolArgs: newuidmap(1) and newgidmap(1) arguments', () => {
  test.each<[number, IdMapping[], string[]]>([
    [4242, [{ containerID: 0, hostID: 1000, size: 1 }], ['4242', '0', '1000', '1']],
    [7, [{ containerID: 0, hostID: 1000, size: 1 }, { containerID: 1, hostID: 100000, size: 65536 }], ['7', '0', '1000', '1', '1', '100000', '65536']],
    [7, [], ['7']],
  ])('pid %i, %j', (pid, maps, args) => expect(mappingToolArgs(pid, maps)).toEqual(args));
});

describe('hostIdOf', () => {
  const maps = [
    { containerID: 0, hostID: 100000, size: 1000 },
    { containerID: 1000, hostID: 5000, size: 1 },
  ];
  test.each([
    [0, 100000],
    [999, 100999],
    [1000, 5000],
    [1001, undefined],
  ])('container id %i is host id %p', (id, host) => {
    expect(hostIdOf(maps, id)).toBe(host);
  });
});
