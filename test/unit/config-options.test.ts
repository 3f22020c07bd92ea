import {
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NODIRATIME,
  MOUNT_ATTR_NOATIME,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_NOSYMFOLLOW,
  MOUNT_ATTR_RDONLY,
  MOUNT_ATTR_STRICTATIME,
  MOUNT_ATTR__ATIME,
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
  MS_PRIVATE,
  MS_RDONLY,
  MS_REC,
  MS_RELATIME,
  MS_REMOUNT,
  MS_SHARED,
  MS_SILENT,
  MS_SLAVE,
  MS_STRICTATIME,
  MS_SYNCHRONOUS,
  MS_UNBINDABLE,
} from '../../src/core/constants';
import {
  EXTENSION_OPTIONS,
  MOUNT_FLAG_OPTIONS,
  PROPAGATION_OPTIONS,
  RECURSIVE_ATTR_OPTIONS,
  RELABEL_OPTIONS,
  parseMountOptions,
  parsePropagation,
} from '../../src/core/config/options';
import { ConfigError } from '../../src/core/errors';

/** What parseMountOptions returns for no options at all. */
const EMPTY = {
  flags: 0n,
  clearedFlags: 0n,
  propagationFlags: [],
  data: '',
  extensions: { tmpcopyup: false },
  relabel: '',
};

// Expected values written out by hand from mount(2) and include/uapi/linux/mount.h.
const SET_WORDS: [string, bigint][] = [
  ['bind', 0x1000n],
  ['rbind', 0x1000n | 0x4000n],
  ['ro', 0x1n],
  ['nosuid', 0x2n],
  ['nodev', 0x4n],
  ['noexec', 0x8n],
  ['sync', 0x10n],
  ['dirsync', 0x80n],
  ['mand', 0x40n],
  ['noatime', 0x400n],
  ['nodiratime', 0x800n],
  ['relatime', 0x200000n],
  ['strictatime', 0x1000000n],
  ['lazytime', 0x2000000n],
  ['iversion', 0x800000n],
  ['silent', 0x8000n],
  ['remount', 0x20n],
  ['nosymfollow', 0x100n],
  // runc's table has it; a tmpfs took "acl" as data before, which the kernel refuses (EINVAL).
  ['acl', 0x10000n],
];

/** [clearing word, flag it clears, the word that sets that flag] */
const CLEAR_WORDS: [string, bigint, string][] = [
  ['rw', MS_RDONLY, 'ro'],
  ['suid', MS_NOSUID, 'nosuid'],
  ['dev', MS_NODEV, 'nodev'],
  ['exec', MS_NOEXEC, 'noexec'],
  ['async', MS_SYNCHRONOUS, 'sync'],
  ['atime', MS_NOATIME, 'noatime'],
  ['diratime', MS_NODIRATIME, 'nodiratime'],
  ['norelatime', MS_RELATIME, 'relatime'],
  ['nostrictatime', MS_STRICTATIME, 'strictatime'],
  ['nolazytime', MS_LAZYTIME, 'lazytime'],
  ['noiversion', MS_I_VERSION, 'iversion'],
  ['loud', MS_SILENT, 'silent'],
  ['nomand', MS_MANDLOCK, 'mand'],
  ['symfollow', MS_NOSYMFOLLOW, 'nosymfollow'],
  ['noacl', MS_POSIXACL, 'acl'],
];

const PROPAGATION_WORDS: [string, bigint][] = [
  ['private', 0x40000n],
  ['rprivate', 0x40000n | 0x4000n],
  ['slave', 0x80000n],
  ['rslave', 0x80000n | 0x4000n],
  ['shared', 0x100000n],
  ['rshared', 0x100000n | 0x4000n],
  ['unbindable', 0x20000n],
  ['runbindable', 0x20000n | 0x4000n],
];

/** [word, attrSet, attrClr]; every atime-enum word carries the whole MOUNT_ATTR__ATIME (0x70) in attrClr, but rnorelatime, which changes nothing. */
const RECURSIVE_WORDS: [string, bigint, bigint][] = [
  ['rro', 0x1n, 0n],
  ['rrw', 0n, 0x1n],
  ['rnosuid', 0x2n, 0n],
  ['rsuid', 0n, 0x2n],
  ['rnodev', 0x4n, 0n],
  ['rdev', 0n, 0x4n],
  ['rnoexec', 0x8n, 0n],
  ['rexec', 0n, 0x8n],
  ['rnodiratime', 0x80n, 0n],
  ['rdiratime', 0n, 0x80n],
  ['rrelatime', 0n, 0x70n],
  // MOUNT_ATTR_RELATIME is 0: nothing to clear, no mount_setattr (runc 1.2's table).
  ['rnorelatime', 0n, 0n],
  ['rnoatime', 0x10n, 0x70n],
  ['ratime', 0n, 0x70n],
  ['rstrictatime', 0x20n, 0x70n],
  ['rnostrictatime', 0n, 0x70n],
  ['rnosymfollow', 0x200000n, 0n],
  ['rsymfollow', 0n, 0x200000n],
];

describe('parseMountOptions: flag words', () => {
  test('no options give nothing', () => {
    const parsed = parseMountOptions([]);
    expect(parsed).toEqual(EMPTY);
    expect(parsed).not.toHaveProperty('recAttrs');
  });

  test.each(SET_WORDS)('%s sets flag %s', (word, flag) => {
    expect(parseMountOptions([word])).toEqual({ ...EMPTY, flags: flag });
  });

  test.each(CLEAR_WORDS)('%s clears and records flag %s', (word, flag) => {
    expect(parseMountOptions([word])).toEqual({ ...EMPTY, clearedFlags: flag });
  });

  test.each(CLEAR_WORDS)('%s after its setter removes the flag (%s, %s)', (word, flag, setter) => {
    expect(parseMountOptions([setter, word])).toEqual({ ...EMPTY, clearedFlags: flag });
  });

  test.each(CLEAR_WORDS)('the setter after %s sets the flag and forgets the clear (%s, %s)', (word, flag, setter) => {
    expect(parseMountOptions([word, setter])).toEqual({ ...EMPTY, flags: flag });
  });

  test('defaults is a known word with no flag and no data', () => {
    expect(parseMountOptions(['defaults'])).toEqual(EMPTY);
    expect(parseMountOptions(['ro', 'defaults'])).toEqual({ ...EMPTY, flags: MS_RDONLY });
  });

  test('clearing one flag leaves the others', () => {
    expect(parseMountOptions(['ro', 'nosuid', 'nodev', 'suid'])).toEqual({
      ...EMPTY,
      flags: MS_RDONLY | MS_NODEV,
      clearedFlags: MS_NOSUID,
    });
  });

  test('rw clears an rbind read-only bind but keeps the bind', () => {
    expect(parseMountOptions(['rbind', 'ro', 'rw'])).toEqual({
      ...EMPTY,
      flags: MS_BIND | MS_REC,
      clearedFlags: MS_RDONLY,
    });
  });

  test('a bind remount combination', () => {
    expect(parseMountOptions(['bind', 'remount', 'ro', 'nosuid', 'nodev', 'noexec'])).toEqual({
      ...EMPTY,
      flags: MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
    });
  });

  test('sync, dirsync, mand and lazytime combine', () => {
    expect(parseMountOptions(['sync', 'dirsync', 'mand', 'lazytime', 'iversion', 'silent']).flags).toBe(
      MS_SYNCHRONOUS | MS_DIRSYNC | MS_MANDLOCK | MS_LAZYTIME | MS_I_VERSION | MS_SILENT,
    );
  });

  test('the atime words are plain bits: relatime and strictatime can both be set', () => {
    expect(parseMountOptions(['noatime', 'nodiratime', 'relatime', 'strictatime']).flags).toBe(
      MS_NOATIME | MS_NODIRATIME | MS_RELATIME | MS_STRICTATIME,
    );
  });
});

describe('parseMountOptions: propagation words', () => {
  test.each(PROPAGATION_WORDS)('%s is the propagation change %s', (word, flag) => {
    expect(parseMountOptions([word])).toEqual({ ...EMPTY, propagationFlags: [flag] });
  });

  test('propagation words keep their order, duplicates included', () => {
    expect(parseMountOptions(['rslave', 'shared', 'private', 'private']).propagationFlags).toEqual([
      MS_SLAVE | MS_REC,
      MS_SHARED,
      MS_PRIVATE,
      MS_PRIVATE,
    ]);
  });

  test('propagation words do not touch the mount flags', () => {
    expect(parseMountOptions(['rbind', 'rprivate', 'ro', 'runbindable'])).toEqual({
      ...EMPTY,
      flags: MS_BIND | MS_REC | MS_RDONLY,
      propagationFlags: [MS_PRIVATE | MS_REC, MS_UNBINDABLE | MS_REC],
    });
  });
});

describe('parsePropagation', () => {
  test.each(PROPAGATION_WORDS)('%s -> %s', (word, flag) => {
    expect(parsePropagation(word)).toBe(flag);
  });

  test.each(['', 'RPRIVATE', 'rro', 'bind', 'defaults', 'private,rslave', 'constructor', '__proto__'])(
    '%j is not a propagation',
    (word) => {
      expect(parsePropagation(word)).toBeUndefined();
    },
  );
});

describe('parseMountOptions: recursive attributes', () => {
  test.each(RECURSIVE_WORDS)('%s -> attrSet %s attrClr %s', (word, attrSet, attrClr) => {
    // Neither: no recAttrs, so no mount_setattr(2) at all.
    expect(parseMountOptions([word])).toStrictEqual(attrSet === 0n && attrClr === 0n ? EMPTY : { ...EMPTY, recAttrs: { attrSet, attrClr } });
  });

  test.each<[string[], bigint, bigint]>([
    [['rro', 'rrw'], 0n, MOUNT_ATTR_RDONLY],
    [['rro', 'rnorelatime'], MOUNT_ATTR_RDONLY, 0n],
    [['rrelatime', 'rnorelatime'], 0n, MOUNT_ATTR__ATIME],
    [['rstrictatime', 'rnorelatime'], MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME],
    [['rrw', 'rro'], MOUNT_ATTR_RDONLY, 0n],
    [['rro', 'rnosuid', 'rnodev', 'rnoexec'], 0xfn, 0n],
    [['rnosuid', 'rsuid', 'rnodev'], MOUNT_ATTR_NODEV, MOUNT_ATTR_NOSUID],
    // One atime value at a time: a later one replaces the earlier (the kernel rejects two).
    [['rnoatime', 'rstrictatime'], MOUNT_ATTR_STRICTATIME, MOUNT_ATTR__ATIME],
    [['rstrictatime', 'rrelatime'], 0n, MOUNT_ATTR__ATIME],
    // Clearing the current value drops it; clearing another value keeps the current one.
    [['rnoatime', 'ratime'], 0n, MOUNT_ATTR__ATIME],
    [['rnoatime', 'rnostrictatime'], MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME],
    [['rnoatime', 'rnorelatime'], MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME],
    [['rstrictatime', 'rnostrictatime'], 0n, MOUNT_ATTR__ATIME],
    // nodiratime is a bit of its own beside the atime value.
    [['rnoatime', 'rnodiratime'], MOUNT_ATTR_NOATIME | MOUNT_ATTR_NODIRATIME, MOUNT_ATTR__ATIME],
    [['rdiratime', 'rnoatime'], MOUNT_ATTR_NOATIME, MOUNT_ATTR__ATIME | MOUNT_ATTR_NODIRATIME],
    [['rnosymfollow', 'rro', 'rsymfollow'], MOUNT_ATTR_RDONLY, MOUNT_ATTR_NOSYMFOLLOW],
  ])('%j -> attrSet %s attrClr %s', (words, attrSet, attrClr) => {
    expect(parseMountOptions(words).recAttrs).toEqual({ attrSet, attrClr });
  });

  test('recursive attributes are independent of the mount flags', () => {
    expect(parseMountOptions(['rbind', 'rro', 'rw', 'rnoexec'])).toEqual({
      ...EMPTY,
      flags: MS_BIND | MS_REC,
      clearedFlags: MS_RDONLY,
      recAttrs: { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOEXEC, attrClr: 0n },
    });
  });

  test('the attribute bits are mount_setattr(2) bits, not MS_* bits', () => {
    expect(parseMountOptions(['rnosymfollow']).recAttrs?.attrSet).toBe(MOUNT_ATTR_NOSYMFOLLOW);
    expect(MOUNT_ATTR_NOSYMFOLLOW).not.toBe(MS_NOSYMFOLLOW);
    expect(parseMountOptions(['rnodev', 'rnosuid']).recAttrs?.attrSet).toBe(MOUNT_ATTR_NODEV | MOUNT_ATTR_NOSUID);
  });
});

describe('parseMountOptions: extensions and data', () => {
  test('tmpcopyup is an extension, not data', () => {
    expect(parseMountOptions(['tmpcopyup'])).toEqual({ ...EMPTY, extensions: { tmpcopyup: true } });
  });

  test('tmpcopyup with tmpfs data', () => {
    expect(parseMountOptions(['nosuid', 'tmpcopyup', 'mode=755'])).toEqual({
      ...EMPTY,
      flags: MS_NOSUID,
      data: 'mode=755',
      extensions: { tmpcopyup: true },
    });
  });

  test('unknown words are data joined with commas, in order', () => {
    expect(parseMountOptions(['mode=755', 'size=65536k'])).toEqual({ ...EMPTY, data: 'mode=755,size=65536k' });
  });

  test('data words between flag words keep their order', () => {
    expect(parseMountOptions(['nosuid', 'newinstance', 'noexec', 'ptmxmode=0666', 'mode=0620', 'gid=5'])).toEqual({
      ...EMPTY,
      flags: MS_NOSUID | MS_NOEXEC,
      data: 'newinstance,ptmxmode=0666,mode=0620,gid=5',
    });
  });

  test.each(['RO', 'Bind', 'ACL', 'zZ', 'lowerdir=/a:/b', 'constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    '%j is data',
    (word) => {
      expect(parseMountOptions([word])).toEqual({ ...EMPTY, data: word });
    },
  );

  test('a runc default /dev mount', () => {
    expect(parseMountOptions(['nosuid', 'strictatime', 'mode=755', 'size=65536k'])).toEqual({
      ...EMPTY,
      flags: MS_NOSUID | MS_STRICTATIME,
      data: 'mode=755,size=65536k',
    });
  });

  test('a read-only recursive bind with everything', () => {
    expect(
      parseMountOptions(['rbind', 'ro', 'nosuid', 'rslave', 'rro', 'rnoatime', 'tmpcopyup', 'context="x"', 'async']),
    ).toEqual({
      flags: MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID,
      clearedFlags: MS_SYNCHRONOUS,
      propagationFlags: [MS_SLAVE | MS_REC],
      recAttrs: { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME, attrClr: MOUNT_ATTR__ATIME },
      data: 'context="x"',
      extensions: { tmpcopyup: true },
      relabel: '',
    });
  });

  test('every call returns fresh objects and leaves its input alone', () => {
    const words = ['tmpcopyup', 'private'];
    const first = parseMountOptions(words);
    first.extensions.tmpcopyup = false;
    first.propagationFlags.push(MS_SHARED);
    expect(parseMountOptions(words)).toEqual({ ...EMPTY, propagationFlags: [MS_PRIVATE], extensions: { tmpcopyup: true } });
    expect(words).toEqual(['tmpcopyup', 'private']);
  });
});

describe('option tables', () => {
  const known = new Set([
    'defaults',
    ...SET_WORDS.map(([w]) => w),
    ...CLEAR_WORDS.map(([w]) => w),
    ...PROPAGATION_WORDS.map(([w]) => w),
    ...RECURSIVE_WORDS.map(([w]) => w),
    'tmpcopyup',
  ]);

  test('every word in the exported tables has a row in the hand-written tables above', () => {
    const exported = [
      ...MOUNT_FLAG_OPTIONS.keys(),
      ...PROPAGATION_OPTIONS.keys(),
      ...RECURSIVE_ATTR_OPTIONS.keys(),
      ...EXTENSION_OPTIONS.keys(),
    ];
    expect(exported.filter((w) => !known.has(w))).toEqual([]);
    expect(exported.length).toBe(known.size);
  });

  test('no word is in two tables', () => {
    const tables = [MOUNT_FLAG_OPTIONS, PROPAGATION_OPTIONS, RECURSIVE_ATTR_OPTIONS, EXTENSION_OPTIONS];
    const all = tables.flatMap((t) => [...t.keys()]);
    expect(new Set(all).size).toBe(all.length);
  });

  test('mount flag words never carry propagation bits', () => {
    const propagation = MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE;
    for (const { flag } of MOUNT_FLAG_OPTIONS.values()) expect(flag & propagation).toBe(0n);
  });
});

describe('parseMountOptions: SELinux relabel', () => {
  test('the relabel words are z and Z, nothing else', () => {
    expect([...RELABEL_OPTIONS].sort()).toEqual(['Z', 'z']);
  });

  test.each<[string[], string, string]>([
    [['z'], 'z', ''],
    [['Z'], 'Z', ''],
    [['rbind', 'z', 'ro'], 'z', ''],
    [['Z', 'mode=755', 'Z'], 'Z', 'mode=755'],
    [['z', 'z'], 'z', ''],
    [['context="x"'], '', 'context="x"'],
    [['Z ', ' z'], '', 'Z , z'],
  ])('%j -> relabel %j, data %j', (words, relabel, data) => {
    const parsed = parseMountOptions(words);
    expect(parsed.relabel).toBe(relabel);
    expect(parsed.data).toBe(data);
  });

  test.each([
    [['z', 'Z'], 'mounts[2].options "Z": conflicts with "z"'],
    [['Z', 'rbind', 'z'], 'mounts[2].options "z": conflicts with "Z"'],
  ])('%j is a ConfigError naming the field', (words, message) => {
    expect(() => parseMountOptions(words, 'mounts[2].options')).toThrow(ConfigError);
    expect(() => parseMountOptions(words, 'mounts[2].options')).toThrow(message);
  });
});

describe('parseMountOptions: idmapped binds', () => {
  test.each<[string[], boolean]>([
    [['idmap'], false],
    [['ridmap'], true],
    [['rbind', 'idmap', 'ro'], false],
    [['idmap', 'ridmap'], true],
    [['ridmap', 'idmap'], false],
  ])('%j asks for an idmapped bind, recursive: %s, and is never data', (words, recursive) => {
    const parsed = parseMountOptions(words);
    expect(parsed.idmap).toEqual({ recursive });
    expect(parsed.data).toBe('');
  });

  test.each(['IDMAP', 'xidmap', 'ridmap=uids=0-1-10;gids=0-1-10'])('%j is data, not an idmap request', (word) => {
    expect(parseMountOptions([word])).toEqual({ ...EMPTY, data: word });
  });

  const WORD = 'idmap=uids=0-1000-10;gids=@0-0-10';
  const OPTION = { word: WORD, uid: [{ fsId: 0, hostId: 1000, size: 10, relative: false }], gid: [{ fsId: 0, hostId: 0, size: 10, relative: true }] };
  test.each<[string[], object]>([
    [[WORD], { recursive: false, option: OPTION }],
    [['rbind', WORD, 'ro'], { recursive: false, option: OPTION }],
    [['ridmap', WORD], { recursive: false, option: OPTION }],
    [[WORD, 'idmap'], { recursive: false }],
    [[WORD, 'ridmap'], { recursive: true }],
    [['idmap='], { recursive: false }],
  ])("crun's idmap=VALUE: %j asks for an idmapped bind with the mappings it gives (the last idmap word wins), never data", (words, idmap) => {
    const parsed = parseMountOptions(words, 'mounts[2].options');
    expect(parsed.idmap).toEqual(idmap);
    expect(parsed.data).toBe('');
  });

  test('a bad idmap=VALUE is a config error naming the word', () => {
    expect(() => parseMountOptions(['rbind', 'idmap=uids=0-1-10'], 'mounts[2].options')).toThrow(
      'mounts[2].options "idmap=uids=0-1-10": needs both uids= and gids= (the gids would be left unmapped)',
    );
  });
});

/** Every key of `value`, nested ones by their path, in the order Object.keys gives them: what JSON.stringify and a plan would write in. */
function keyOrder(value: unknown, at = ''): string[] {
  if (typeof value !== 'object' || value === null) return [];
  return Object.keys(value).flatMap((k) => [`${at}${k}`, ...keyOrder((value as Record<string, unknown>)[k], `${at}${k}.`)]);
}

describe('parseMountOptions: the exact result, its keys in order', () => {
  const UID = [{ fsId: 0, hostId: 1000, size: 10, relative: false }];
  test.each<[string, string[], object]>([
    ['no words', [], EMPTY],
    ['one empty word: data that is empty', [''], EMPTY],
    ['two empty words: one comma of data', ['', ''], { ...EMPTY, data: ',' }],
    ['an empty word first', ['', 'size=1k'], { ...EMPTY, data: ',size=1k' }],
    ['an empty word last', ['size=1k', ''], { ...EMPTY, data: 'size=1k,' }],
    ['a comma as a word', [',', 'mode=1'], { ...EMPTY, data: ',,mode=1' }],
    ['data around flags, defaults between', ['a=1', 'nosuid', 'defaults', 'b', 'ro'], { ...EMPTY, flags: MS_NOSUID | MS_RDONLY, data: 'a=1,b' }],
    ['a clear then its set: no clear left', ['rw', 'ro'], { ...EMPTY, flags: MS_RDONLY }],
    ['a set then its clear', ['ro', 'rw'], { ...EMPTY, clearedFlags: MS_RDONLY }],
    ['a clear kept by the set of another flag', ['rw', 'nosuid', 'dev', 'nodev'], { ...EMPTY, flags: MS_NOSUID | MS_NODEV, clearedFlags: MS_RDONLY }],
    ['recursive attributes after the relabel', ['rro', 'rbind', 'z', 'rnoatime'], { ...EMPTY, flags: MS_BIND | MS_REC, relabel: 'z', recAttrs: { attrSet: MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOATIME, attrClr: MOUNT_ATTR__ATIME } }],
    ['a recursive attribute set then cleared: an attrClr alone', ['rro', 'rrw'], { ...EMPTY, recAttrs: { attrSet: 0n, attrClr: MOUNT_ATTR_RDONLY } }],
    ['rnorelatime alone changes nothing: no recAttrs', ['rnorelatime'], EMPTY],
    ['idmap last of all', ['ridmap', 'rro', 'shared', 'tmpcopyup'], { ...EMPTY, propagationFlags: [MS_SHARED], extensions: { tmpcopyup: true }, recAttrs: { attrSet: MOUNT_ATTR_RDONLY, attrClr: 0n }, idmap: { recursive: true } }],
    [
      "crun's idmap=VALUE: the word, then its mappings",
      ['rbind', 'idmap=uids=0-1000-10;gids=0-1000-10'],
      { ...EMPTY, flags: MS_BIND | MS_REC, idmap: { recursive: false, option: { word: 'idmap=uids=0-1000-10;gids=0-1000-10', uid: UID, gid: UID } } },
    ],
  ])('%s: %j', (_what, words, expected) => {
    const parsed = parseMountOptions(words, 'mounts[0].options');
    expect(parsed).toStrictEqual(expected);
    expect(keyOrder(parsed)).toEqual(keyOrder(expected));
  });

  test('the keys come in the order of ParsedMountOptions, recAttrs and idmap after the others', () => {
    expect(keyOrder(parseMountOptions(['rro', 'idmap']))).toEqual(['flags', 'clearedFlags', 'propagationFlags', 'data', 'extensions', 'extensions.tmpcopyup', 'relabel', 'recAttrs', 'recAttrs.attrSet', 'recAttrs.attrClr', 'idmap', 'idmap.recursive']);
  });
});
