import { CACHE_FORMAT, cacheKey, decodeRecord, encodeRecord, isRecordName, isTemporaryName, untrusted } from '../../../src/core/seccomp/cache';
import type { SeccompCompiled, SeccompFilter } from '../../../src/core/syscalls/types';

const filter = (): SeccompFilter => ({
  defaultAction: 0x50001,
  architectures: [{ arch: 0x40000003, field: 'linux.seccomp.architectures[0]' }],
  rules: [
    { syscall: 'read', action: 0x7fff0000, args: [], field: 'linux.seccomp.syscalls[0]' },
    { syscall: 'personality', action: 0x7fff0000, args: [{ arg: 0, op: 4, datumA: 8n, datumB: 0n }], field: 'linux.seccomp.syscalls[1]' },
  ],
  binaryTree: false,
  names: ['read', 'personality'],
});

const ID = 'libseccomp 2.5.4 api 6; 6.1.0 #1 SMP x86_64';
const KEY = cacheKey(filter(), ID, '0.1.0');

describe('cacheKey', () => {
  test('hex sha256, the same for the same input', () => {
    expect(KEY).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey(filter(), ID, '0.1.0')).toBe(KEY);
  });

  test('the config fields named in errors change nothing', () => {
    const f = filter();
    f.architectures[0].field = 'elsewhere';
    f.rules[1].field = 'elsewhere';
    expect(cacheKey(f, ID, '0.1.0')).toBe(KEY);
  });

  test.each<[string, (f: SeccompFilter) => void]>([
    ['the default action', (f) => (f.defaultAction = 0x50002)],
    ['an architecture', (f) => (f.architectures[0].arch = 0x4000003e)],
    ['the rules\' order', (f) => f.rules.reverse()],
    ['a rule\'s action', (f) => (f.rules[0].action = 0x7ffc0000)],
    ['a comparison\'s operator', (f) => (f.rules[1].args[0].op = 1)],
    ['a comparison\'s value', (f) => (f.rules[1].args[0].datumA = 9n)],
    ['a comparison\'s second value', (f) => (f.rules[1].args[0].datumB = 1n)],
    ['the layout', (f) => (f.binaryTree = true)],
    ['the names (the ENOSYS stub\'s largest numbers)', (f) => f.names.push('clone3')],
  ])('changes with %s', (_what, edit) => {
    const f = filter();
    edit(f);
    expect(cacheKey(f, ID, '0.1.0')).not.toBe(KEY);
  });

  test('changes with libseccomp, its API level or the kernel, and with mountkit\'s version', () => {
    expect(cacheKey(filter(), ID.replace('2.5.4', '2.5.5'), '0.1.0')).not.toBe(KEY);
    expect(cacheKey(filter(), ID.replace('api 6', 'api 5'), '0.1.0')).not.toBe(KEY);
    expect(cacheKey(filter(), ID.replace('6.1.0', '6.1.1'), '0.1.0')).not.toBe(KEY);
    expect(cacheKey(filter(), ID, '0.2.0')).not.toBe(KEY);
  });
});

const compiled: SeccompCompiled = {
  program: new Uint8Array([0x06, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x20, 0, 0, 0, 4, 0, 0, 0]),
  nativeArch: 0xc000003e,
  unknown: ['newsyscall'],
  lastSyscalls: [{ arch: 0xc000003e, nr: 334 }],
};

describe('records', () => {
  test('a record decodes to what was encoded', () => {
    const back = decodeRecord(encodeRecord(KEY, compiled), KEY);
    expect(back).toEqual(compiled);
  });

  const record = (edit: Record<string, unknown>) => JSON.stringify({ ...JSON.parse(encodeRecord(KEY, compiled)), ...edit });
  test.each<[string, string]>([
    ['', 'not JSON'],
    [encodeRecord(KEY, compiled).slice(0, 40), 'not JSON'],
    ['null', 'not a record'],
    ['[1]', `format undefined, not ${CACHE_FORMAT}`],
    [record({ format: 'mountkit-seccomp/0' }), `format "mountkit-seccomp/0", not ${CACHE_FORMAT}`],
    [encodeRecord('0'.repeat(64), compiled), 'another key'],
    [record({ program: 7 }), 'no program'],
    [record({ program: 'not base64!' }), 'no program'],
    [record({ program: '' }), 'a program of 0 bytes'],
    [record({ program: Buffer.alloc(12).toString('base64') }), 'a program of 12 bytes'],
    [record({ program: Buffer.alloc(4097 * 8).toString('base64') }), 'a program of 32776 bytes'],
    [record({ nativeArch: -1 }), 'no native architecture'],
    [record({ nativeArch: '62' }), 'no native architecture'],
    [record({ unknown: [1] }), 'no list of unknown names'],
    [record({ lastSyscalls: [{ arch: 1 }] }), 'no largest numbers'],
    [record({ lastSyscalls: [null] }), 'no largest numbers'],
  ])('%s is not used: %s', (text, why) => {
    expect(decodeRecord(text, KEY)).toBe(why);
  });

  test('a program of BPF_MAXINSNS instructions is one', () => {
    const big = { ...compiled, program: new Uint8Array(4096 * 8) };
    expect(decodeRecord(encodeRecord(KEY, big), KEY)).toEqual(big);
  });

  test.each([
    [`${KEY}.json`, true],
    [KEY, false],
    [`.${KEY}.123`, false],
    [`${KEY.slice(1)}.json`, false],
    [`${KEY.toUpperCase()}.json`, false],
    ['notes.json', false],
  ])('%s is a record\'s name: %s', (name, is) => expect(isRecordName(name)).toBe(is));

  test.each([
    [`.${KEY}.0123456789abcdef`, true],
    [`.${KEY}.4711`, true],
    [`${KEY}.json`, false],
    [`.${KEY}.`, false],
    [`.${KEY}.json`, false],
    [`.${KEY.slice(1)}.0123456789abcdef`, false],
    [`.${KEY.toUpperCase()}.0123456789abcdef`, false],
    ['.notes.0123', false],
  ])("%s is a record's name before its rename: %s", (name, is) => expect(isTemporaryName(name)).toBe(is));
});

describe('untrusted', () => {
  const dir = (uid: number, perm: number) => ({ kind: 'dir' as const, uid, perm });
  test.each<[string, ReturnType<typeof dir> | { kind: 'file' | 'symlink'; uid: number; perm: number }, 'dir' | 'cache-dir' | 'file', string | undefined]>([
    ['/run', dir(0, 0o755), 'dir', undefined],
    ['/run/mountkit', dir(0, 0o700), 'cache-dir', undefined],
    ['/home/u/cache', dir(1000, 0o700), 'cache-dir', undefined],
    ['/tmp', dir(0, 0o1777), 'dir', undefined],
    ['/tmp', dir(0, 0o1777), 'cache-dir', '/tmp is writable by others'],
    ['/srv/shared', dir(0, 0o777), 'dir', '/srv/shared is writable by others'],
    ['/srv/team', dir(0, 0o770), 'dir', '/srv/team is writable by its group'],
    ['/home/other', dir(1001, 0o755), 'dir', '/home/other is owned by uid 1001'],
    ['/run/link', { kind: 'symlink', uid: 0, perm: 0o777 }, 'dir', '/run/link is a symlink, not a directory'],
    ['/run/mountkit/seccomp/k.json', { kind: 'file', uid: 0, perm: 0o600 }, 'file', undefined],
    ['/run/mountkit/seccomp/k.json', { kind: 'file', uid: 0, perm: 0o622 }, 'file', '/run/mountkit/seccomp/k.json is writable by others'],
    ['/run/mountkit/seccomp/k.json', dir(0, 0o700), 'file', '/run/mountkit/seccomp/k.json is a directory, not a regular file'],
  ])('%s %j as %s: %s', (path, st, want, why) => {
    expect(untrusted(path, st, 1000, want)).toBe(why);
  });

  // In a directory vouched for from outside the user namespace: a record of an owner the namespace does not map (shown as the overflow uid).
  test.each<[{ kind: 'file'; uid: number; perm: number }, string | undefined]>([
    [{ kind: 'file', uid: 65534, perm: 0o600 }, undefined],
    [{ kind: 'file', uid: 65534, perm: 0o644 }, undefined],
    [{ kind: 'file', uid: 0, perm: 0o600 }, undefined],
    [{ kind: 'file', uid: 65534, perm: 0o602 }, '/run/mountkit/seccomp/k.json is writable by others'],
    [{ kind: 'file', uid: 65534, perm: 0o620 }, '/run/mountkit/seccomp/k.json is writable by its group'],
    [{ kind: 'file', uid: 5, perm: 0o600 }, '/run/mountkit/seccomp/k.json is owned by uid 5'],
  ])('a record %j, the overflow uid 65534 taken as an owner: %s', (st, why) => {
    expect(untrusted('/run/mountkit/seccomp/k.json', st, 0, 'file', 65534)).toBe(why);
  });
});
