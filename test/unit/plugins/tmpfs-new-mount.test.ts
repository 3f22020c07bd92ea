import {
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RELATIME,
  MOUNT_ATTR_STRICTATIME,
  MS_BIND,
  MS_DIRSYNC,
  MS_I_VERSION,
  MS_LAZYTIME,
  MS_MANDLOCK,
  MS_NOATIME,
  MS_NODEV,
  MS_NODIRATIME,
  MS_NOEXEC,
  MS_NOSUID,
  MS_NOSYMFOLLOW,
  MS_POSIXACL,
  MS_RDONLY,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SILENT,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
} from '../../../src/core/constants';
import { dataParams, isSelinuxParam, mountAttrs, newTmpfsMount } from '../../../src/plugins/tmpfs/new-mount';

const p = (key: string, value: string | null = null) => ({ key, value });

describe("dataParams: a tmpfs's data cut as mount(2) cuts it, SELinux's options first", () => {
  test.each([
    ['', []],
    ['size=1m', [p('size', '1m')]],
    ['mode=0750,size=1m,noswap', [p('mode', '0750'), p('size', '1m'), p('noswap')]],
    [',,size=1m,', [p('size', '1m')]],
    ['a=b=c', [p('a', 'b=c')]],
    ['uid=1000,gid=1000,nr_inodes=10k,huge=within_size', [p('uid', '1000'), p('gid', '1000'), p('nr_inodes', '10k'), p('huge', 'within_size')]],
    // A comma before a digit stays in the option: an mpol= node list.
    ['mpol=bind:0,2,size=1m', [p('mpol', 'bind:0,2'), p('size', '1m')]],
    ['size=1m,2k', [p('size', '1m,2k')]],
    // SELinux's, quoted where its value holds commas, without the quotes, and before the others.
    ['context="system_u:object_r:container_file_t:s0:c1,c2",size=1m', [p('context', 'system_u:object_r:container_file_t:s0:c1,c2'), p('size', '1m')]],
    ['size=1m,rootcontext="a:b:c:s0:c1,c2",mode=700', [p('rootcontext', 'a:b:c:s0:c1,c2'), p('size', '1m'), p('mode', '700')]],
    ['fscontext=a:b:c:s0,defcontext="d:e:f:s0"', [p('fscontext', 'a:b:c:s0'), p('defcontext', 'd:e:f:s0')]],
    ['seclabel,size=1m', [p('seclabel'), p('size', '1m')]],
    // Not SELinux's as written: left to tmpfs, as the kernel leaves them.
    ['seclabel=x', [p('seclabel', 'x')]],
    ['context', [p('context')]],
    ['contexts=x', [p('contexts', 'x')]],
    ['foo="a,b"', [p('foo', '"a'), p('b"')]],
  ])('%j', (data, params) => {
    expect(dataParams(data)).toEqual(params);
  });
});

describe("isSelinuxParam: SELinux's options as its hook takes them", () => {
  test.each<[string, string | null, boolean]>([
    ['context', 'a:b:c:s0:c1,c2', true],
    ['rootcontext', 'a', true],
    ['seclabel', null, true],
    ['seclabel', 'x', false],
    ['context', null, false],
    ['mpol', 'bind:0,2', false],
    ['size', '1m', false],
  ])('%s=%s: %s', (key, value, selinux) => {
    expect(isSelinuxParam(p(key, value))).toBe(selinux);
  });
});

describe("mountAttrs: the mount's flags of mount(2) as fsmount(2)'s attributes", () => {
  test.each([
    [0n, MOUNT_ATTR_RELATIME],
    [MS_RELATIME, MOUNT_ATTR_RELATIME],
    [MS_NOSUID | MS_NODEV | MS_NOEXEC, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC],
    [MS_NOATIME, MOUNT_ATTR_NOATIME],
    [MS_STRICTATIME, MOUNT_ATTR_STRICTATIME],
    // path_mount(): MS_STRICTATIME clears noatime too.
    [MS_NOATIME | MS_STRICTATIME, MOUNT_ATTR_STRICTATIME],
    [MS_RELATIME | MS_NOATIME, MOUNT_ATTR_NOATIME],
    [MS_NODIRATIME, MOUNT_ATTR_NODIRATIME],
    [MS_NOSYMFOLLOW | MS_NOSUID, MOUNT_ATTR_NOSYMFOLLOW | MOUNT_ATTR_NOSUID],
  ])('0x%s', (flags, attrs) => {
    expect(mountAttrs(flags)).toBe(attrs);
  });
});

describe('newTmpfsMount', () => {
  test('the source first, the superblock flags as flag parameters, then the data; MS_SILENT changes nothing', () => {
    expect(newTmpfsMount('tmpfs', MS_NOSUID | MS_SYNCHRONOUS | MS_DIRSYNC | MS_LAZYTIME | MS_SILENT | MS_STRICTATIME, 'mode=0755,async')).toEqual({
      params: [p('source', 'tmpfs'), p('sync'), p('dirsync'), p('lazytime'), p('mode', '0755'), p('async')],
      attrs: MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME,
    });
    expect(newTmpfsMount(null, 0n, '')).toEqual({ params: [], attrs: MOUNT_ATTR_RELATIME });
    expect(newTmpfsMount('', 0n, '')).toEqual({ params: [p('source', '')], attrs: MOUNT_ATTR_RELATIME });
  });

  test.each([
    [MS_RDONLY, 'mount flags 0x1'],
    [MS_MANDLOCK | MS_NOSUID, 'mount flags 0x40'],
    [MS_POSIXACL, 'mount flags 0x10000'],
    [MS_I_VERSION, 'mount flags 0x800000'],
    [MS_REMOUNT, 'mount flags 0x20'],
    [MS_BIND, 'mount flags 0x1000'],
  ])('a flag the new API does not give as mount(2) does (0x%s) is none', (flags, why) => {
    expect(newTmpfsMount('tmpfs', flags, '')).toEqual({ unsupported: why });
  });

  test('data past the 4095 bytes mount(2) reads, or a key or value past the 255 bytes fsconfig(2) takes, is none', () => {
    const options = (bytes: number) => `size=1m${',nr_inodes=1'.repeat((bytes - 7) / 12)}`;
    expect(options(4087).length).toBe(4087);
    expect(newTmpfsMount('tmpfs', 0n, `${options(4087)},mode=70`)).toHaveProperty('params');
    expect(newTmpfsMount('tmpfs', 0n, `${options(4087)},mode=700`)).toEqual({ unsupported: 'data of 4096 bytes, past the 4095 mount(2) reads' });
    expect(newTmpfsMount('tmpfs', 0n, `size=${'1'.repeat(255)}`)).toHaveProperty('params');
    expect(newTmpfsMount('tmpfs', 0n, `size=${'1'.repeat(256)}`)).toEqual({ unsupported: 'the parameter "size" past the 255 bytes fsconfig(2) takes' });
    expect(newTmpfsMount('x'.repeat(256), 0n, '')).toEqual({ unsupported: 'the parameter "source" past the 255 bytes fsconfig(2) takes' });
    expect(newTmpfsMount('tmpfs', 0n, `${'k'.repeat(256)}=1`)).toHaveProperty('unsupported');
  });
});
