import { MS_PRIVATE, MS_SHARED, MS_SLAVE, MS_UNBINDABLE } from '../../src/core/constants';
import { changedPropagation, cloneMount, isReadOnly, newFilesystemMount, type Propagation } from '../../src/core/syscalls/mount-state';

const PRIVATE: Propagation = { shared: false, unbindable: false };
const SHARED: Propagation = { shared: true, unbindable: false };
const UNBINDABLE: Propagation = { shared: false, unbindable: true };

describe('changedPropagation (change_mnt_propagation, fs/pnode.c)', () => {
  test.each<[string, Propagation, bigint, Propagation]>([
    ['MS_SHARED of a private mount', PRIVATE, MS_SHARED, SHARED],
    ['MS_SHARED of an unbindable mount clears unbindable', UNBINDABLE, MS_SHARED, SHARED],
    ['MS_SLAVE of a shared mount takes it out of its peer group', SHARED, MS_SLAVE, PRIVATE],
    ['MS_SLAVE of an unbindable mount leaves it unbindable', UNBINDABLE, MS_SLAVE, UNBINDABLE],
    ['MS_PRIVATE of a shared mount', SHARED, MS_PRIVATE, PRIVATE],
    ['MS_PRIVATE of an unbindable mount', UNBINDABLE, MS_PRIVATE, PRIVATE],
    ['MS_UNBINDABLE of a shared mount', SHARED, MS_UNBINDABLE, UNBINDABLE],
  ])('%s', (_, before, type, after) => {
    expect(changedPropagation(before, type)).toEqual(after);
  });
});

describe('mount states', () => {
  test('a new filesystem mounted read-only is read-only by its superblock and its own flag', () => {
    expect(newFilesystemMount(true)).toEqual({ readOnly: true, sb: { readOnly: true }, propagation: PRIVATE });
    expect(newFilesystemMount(false, true)).toEqual({ readOnly: false, sb: { readOnly: true }, propagation: PRIVATE });
  });

  test('a copy shares the superblock, has the own flag and is a peer of a shared source, never unbindable', () => {
    const source = { readOnly: true, sb: { readOnly: false }, propagation: { shared: true, unbindable: false } };
    const copy = cloneMount(source);
    expect(copy).toEqual(source);
    expect(copy.sb).toBe(source.sb);
    expect(copy.propagation).not.toBe(source.propagation);
    expect(cloneMount({ ...source, propagation: UNBINDABLE }).propagation).toEqual(PRIVATE);
  });

  test.each<[boolean, boolean, boolean]>([
    [false, false, false],
    [true, false, true],
    [false, true, true],
    [true, true, true],
  ])('own flag %s, superblock %s: read-only %s', (own, sb, readOnly) => {
    expect(isReadOnly({ readOnly: own, sb: { readOnly: sb }, propagation: PRIVATE })).toBe(readOnly);
  });
});
