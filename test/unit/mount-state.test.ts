import {
  MOUNT_ATTR__ATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MS_BIND,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_PRIVATE,
  MS_RDONLY,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_UNBINDABLE,
  ST_NOATIME,
  ST_NODEV,
  ST_NOEXEC,
  ST_NOSUID,
  ST_RDONLY,
  ST_RELATIME,
  ST_VALID,
} from '../../src/core/constants';
import { parseMountInfo } from '../../src/core/mountinfo';
import {
  changedPropagation,
  cloneMount,
  copiedPropagation,
  isReadOnly,
  mountFlagsOf,
  mountInfoState,
  newFilesystemMount,
  propagationFields,
  setattrFlags,
  statfsFlags,
  type MountState,
  type Propagation,
} from '../../src/core/syscalls/mount-state';

const PRIVATE: Propagation = { shared: false, slave: false, unbindable: false };
const SHARED: Propagation = { shared: true, slave: false, unbindable: false };
const SLAVE: Propagation = { shared: false, slave: true, unbindable: false };
const SHARED_SLAVE: Propagation = { shared: true, slave: true, unbindable: false };
const UNBINDABLE: Propagation = { shared: false, slave: false, unbindable: true };
const SLAVE_UNBINDABLE: Propagation = { shared: false, slave: true, unbindable: true };

describe('changedPropagation (change_mnt_propagation, fs/pnode.c)', () => {
  test.each<[string, Propagation, bigint, Propagation]>([
    ['MS_SHARED of a private mount', PRIVATE, MS_SHARED, SHARED],
    ['MS_SHARED of an unbindable mount clears unbindable', UNBINDABLE, MS_SHARED, SHARED],
    ['MS_SHARED of a slave: shared and still a slave', SLAVE, MS_SHARED, SHARED_SLAVE],
    ['MS_SLAVE of a shared mount takes it out of its peer group, to receive from it', SHARED, MS_SLAVE, SLAVE],
    ['MS_SLAVE of a private mount leaves it private', PRIVATE, MS_SLAVE, PRIVATE],
    ['MS_SLAVE of a slave leaves it one', SLAVE, MS_SLAVE, SLAVE],
    ['MS_SLAVE of an unbindable mount leaves it unbindable', UNBINDABLE, MS_SLAVE, UNBINDABLE],
    ['MS_PRIVATE of a shared mount', SHARED, MS_PRIVATE, PRIVATE],
    ['MS_PRIVATE of a slave', SHARED_SLAVE, MS_PRIVATE, PRIVATE],
    ['MS_PRIVATE of an unbindable mount', UNBINDABLE, MS_PRIVATE, PRIVATE],
    ['MS_UNBINDABLE of a shared mount', SHARED, MS_UNBINDABLE, UNBINDABLE],
    ['MS_UNBINDABLE of a slave takes it from its master', SLAVE, MS_UNBINDABLE, UNBINDABLE],
  ])('%s', (_, before, type, after) => {
    expect(changedPropagation(before, type)).toEqual(after);
  });
});

describe('copiedPropagation (copy_mnt_ns, fs/namespace.c; checked on Linux 6.18)', () => {
  test.each<[string, Propagation, boolean, Propagation]>([
    ['a shared mount: a peer', SHARED, false, SHARED],
    ['a slave: a slave of the same master', SLAVE, false, SLAVE],
    ['an unbindable mount: not unbindable', UNBINDABLE, false, PRIVATE],
    ['an unbindable slave: a slave', SLAVE_UNBINDABLE, false, SLAVE],
    ['a shared mount, into a namespace of another user namespace: a slave', SHARED, true, SLAVE],
    ['a shared slave, into a namespace of another user namespace: a slave', SHARED_SLAVE, true, SLAVE],
    ['a private mount, either way: private', PRIVATE, true, PRIVATE],
  ])('%s', (_, before, lessPrivileged, after) => {
    expect(copiedPropagation(before, lessPrivileged)).toEqual(after);
  });
});

describe('mountFlagsOf (path_mount, fs/namespace.c)', () => {
  test.each<[string, bigint, bigint | undefined, bigint]>([
    ['a new mount with no flag is relatime', 0n, undefined, MS_RELATIME],
    ['nosuid, nodev, noexec, nosymfollow are kept; read-only is not one of these', MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW, undefined, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOSYMFOLLOW | MS_RELATIME],
    ['MS_NOATIME instead of relatime', MS_NOATIME, undefined, MS_NOATIME],
    ['MS_STRICTATIME: neither', MS_STRICTATIME, undefined, 0n],
    ['MS_NODIRATIME beside relatime', MS_NODIRATIME, undefined, MS_NODIRATIME | MS_RELATIME],
    ['a remount with no atime flag keeps the atime flags', MS_REMOUNT | MS_BIND | MS_RDONLY, MS_NOATIME | MS_NODIRATIME | MS_NOEXEC, MS_NOATIME | MS_NODIRATIME],
    ['a remount with MS_STRICTATIME drops them', MS_REMOUNT | MS_BIND | MS_STRICTATIME | MS_NOSUID, MS_NOATIME | MS_NODIRATIME, MS_NOSUID],
    ['a remount with MS_RELATIME', MS_REMOUNT | MS_RELATIME, MS_NOATIME, MS_RELATIME],
  ])('%s', (_, flags, remounted, own) => {
    expect(mountFlagsOf(flags, remounted)).toBe(own);
  });
});

describe('setattrFlags (build_mount_kattr, fs/namespace.c)', () => {
  test.each<[string, bigint, bigint, { set: bigint; clear: bigint }]>([
    ['nosuid set, nodev cleared; MOUNT_ATTR_RDONLY is not one of these', MOUNT_ATTR_NOSUID | MOUNT_ATTR_RDONLY, MOUNT_ATTR_NODEV, { set: MS_NOSUID, clear: MS_NODEV }],
    ['an atime value without MOUNT_ATTR__ATIME cleared changes no atime flag', MOUNT_ATTR_NOEXEC | MOUNT_ATTR_RELATIME, 0n, { set: MS_NOEXEC, clear: 0n }],
    ['noatime, MOUNT_ATTR__ATIME cleared', MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME, { set: MS_NOATIME, clear: MS_RELATIME | MS_NOATIME }],
    ['relatime, MOUNT_ATTR__ATIME cleared', MOUNT_ATTR_RELATIME, MOUNT_ATTR__ATIME, { set: MS_RELATIME, clear: MS_RELATIME | MS_NOATIME }],
    ['strictatime, MOUNT_ATTR__ATIME cleared', MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME, { set: 0n, clear: MS_RELATIME | MS_NOATIME }],
  ])('%s', (_, attrSet, attrClr, change) => {
    expect(setattrFlags(attrSet, attrClr)).toEqual(change);
  });
});

const state = (over: Partial<MountState> = {}): MountState => ({ readOnly: false, flags: 0n, sb: { readOnly: false }, propagation: { ...PRIVATE }, ...over });

describe('statfsFlags (calculate_f_flags, fs/statfs.c; checked on Linux 6.18)', () => {
  test.each<[string, MountState, bigint]>([
    ['none but ST_VALID', state(), ST_VALID],
    ['the mount read-only', state({ readOnly: true }), ST_VALID | ST_RDONLY],
    ['its superblock read-only', state({ sb: { readOnly: true } }), ST_VALID | ST_RDONLY],
    ['its flags, relatime as ST_RELATIME', state({ flags: MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME }), ST_VALID | ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_RELATIME],
    ['noatime', state({ flags: MS_NOATIME }), ST_VALID | ST_NOATIME],
  ])('%s', (_, s, st) => {
    expect(statfsFlags(s)).toBe(st);
  });
});

describe('mountInfoState: a mountinfo line', () => {
  const [info] = parseMountInfo('28 27 0:25 / /opt/tools ro,nosuid,nodev,relatime shared:4 master:1 - tmpfs tools rw,size=4k\n');

  test('its own flags and read-only flag, its superblock read-only flag, its propagation', () => {
    expect(mountInfoState(info)).toEqual({ readOnly: true, flags: MS_NOSUID | MS_NODEV | MS_RELATIME, sb: { readOnly: false }, propagation: SHARED_SLAVE });
  });

  test.each<[string, string, Partial<MountState>]>([
    ['a read-only superblock under a read-write mount', '30 27 0:26 / /ro rw,noatime - ext4 /dev/sdb ro,errors=continue', { readOnly: false, flags: MS_NOATIME, sb: { readOnly: true } }],
    ['strictatime (no atime option), noexec, nosymfollow, unbindable', '31 27 0:27 / /u rw,noexec,nosymfollow unbindable - tmpfs tmpfs rw', { flags: MS_NOEXEC | MS_NOSYMFOLLOW, propagation: UNBINDABLE }],
    ['a slave receiving through propagate_from', '32 27 0:28 / /s rw,nodiratime,relatime master:2 propagate_from:1 - tmpfs tmpfs rw', { flags: MS_NODIRATIME | MS_RELATIME, propagation: SLAVE }],
  ])('%s', (_, line, expected) => {
    expect(mountInfoState(parseMountInfo(line)[0])).toMatchObject(expected);
  });

  test('the superblock given: the one of the same filesystem\'s other mounts', () => {
    const sb = { readOnly: true };
    expect(mountInfoState(info, sb).sb).toBe(sb);
  });
});

describe('propagationFields: mountinfo optional fields for the propagation the model holds', () => {
  let next = 9;
  const newGroup = () => ++next;
  beforeEach(() => (next = 9));

  test.each<[string, string[], Propagation, Propagation, string[]]>([
    ['unchanged: as read', ['shared:3', 'master:1', 'propagate_from:2'], SHARED_SLAVE, SHARED_SLAVE, ['shared:3', 'master:1', 'propagate_from:2']],
    ['a shared mount made a slave receives from its old group', ['shared:3'], SHARED, SLAVE, ['master:3']],
    ['a slave made shared keeps its master, in a group of its own', ['master:1'], SLAVE, SHARED_SLAVE, ['shared:10', 'master:1']],
    ['a shared mount made a slave and shared again: a new group, receiving from its old one', ['shared:3'], SHARED, SHARED_SLAVE, ['shared:10', 'master:3']],
    ['a private mount made shared: a new group', [], PRIVATE, SHARED, ['shared:10']],
    ['made private', ['shared:3', 'master:1'], SHARED_SLAVE, PRIVATE, []],
    ['made unbindable', ['master:1'], SLAVE, UNBINDABLE, ['unbindable']],
    ['an unbindable mount copied into a new namespace', ['unbindable'], UNBINDABLE, PRIVATE, []],
  ])('%s', (_, fields, was, now, expected) => {
    expect(propagationFields(fields, was, now, newGroup)).toEqual(expected);
  });
});

describe('mount states', () => {
  test('a new filesystem mounted read-only is read-only by its superblock and its own flag', () => {
    expect(newFilesystemMount(true)).toEqual({ readOnly: true, flags: 0n, sb: { readOnly: true }, propagation: PRIVATE });
    expect(newFilesystemMount(false, true, MS_NOSUID)).toEqual({ readOnly: false, flags: MS_NOSUID, sb: { readOnly: true }, propagation: PRIVATE });
  });

  test('a copy shares the superblock, has the own flags, is a peer of a shared source and a slave of a slave\'s master, never unbindable', () => {
    const source = { readOnly: true, flags: MS_NOSUID, sb: { readOnly: false }, propagation: { shared: true, slave: true, unbindable: false } };
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
    expect(isReadOnly({ readOnly: own, flags: 0n, sb: { readOnly: sb }, propagation: PRIVATE })).toBe(readOnly);
  });
});
