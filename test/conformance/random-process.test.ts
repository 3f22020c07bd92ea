/**
 * Random process files and lookups run under runc 1.1.5 and under mountkit.
 *
 * /etc/passwd files: the HOME each gives the program when `process.env` has none (or an
 * empty one), for a uid that the file names once, several times or not at all. Lines are
 * drawn from what passwd files hold and what they should not: comments, blank lines, too
 * few or too many fields, uid fields with leading zeros, a sign, spaces or out of range,
 * a home with spaces, and white space (ASCII and other) around a line that ends at its
 * home. Both runtimes must start the program and give it the same HOME, byte for byte.
 *
 * The program's lookup: `process.args[0]` as a bare name, a relative or an absolute path,
 * against PATH lists with absolute, relative, empty, missing and file entries, the
 * program drawn as a script of any mode, a directory, a link or a dangling link in one
 * or two of the directories, run as root or as another user, from `/` or `/opt`. Both
 * runtimes must run the same file or both refuse.
 *
 * Supplementary groups: `process.user` uid, gid and additionalGids (absent, empty,
 * repeated gids, the primary gid among them, 0, gids up to 4294967294 and the invalid
 * 4294967295) against the image's /etc/group drawn from group(5) lines and odd ones
 * (comments, blank lines, member lists, missing, extra and bad fields), or none. Both
 * runtimes must give the program the same uid, gid and groups, as the kernel and id(1)
 * show them, byte for byte, or both refuse.
 *
 * The seed is fixed (MOUNTKIT_TEST_SEED tries others); a failure prints the draw.
 */
import * as fc from 'fast-check';
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, RUNC, busyboxConfig } from './harness';
import { sideBySide, type Comparison } from './side-by-side';

const available = Boolean(RUNC && BUSYBOX) && process.getuid?.() === 0;
const maybe = available ? describe : describe.skip;

const SEED = Number(process.env.MOUNTKIT_TEST_SEED ?? 20261202);
const RUNS = 30;

const UIDS = [0, 5, 1000, 65534];

/**
 * A uid field: the decimal one of a uid (with leading zeros or a plus sign, which both
 * parsers take), one that names no uid under either (a minus sign, out of range), or
 * one that runc 1.1.5 reads as 0 and mountkit as no number (empty, a space before the
 * digits, `-0`), which draws for uid 0 leave out (README.md, "Differences from runc
 * 1.1.5").
 */
const uidField = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...UIDS).map(String) },
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...UIDS), fc.constantFrom('0', '00', '+')).map(([uid, pre]) => `${pre}${uid}`) },
  { weight: 1, arbitrary: fc.constantFrom('-5', '99999999999999999999', '4294967296', '', ' 5', '-0') },
);

/**
 * Whether runc 1.1.5 reads the line's uid as 0 where mountkit reads no number: Go's
 * strconv.Atoi fails (its result ignored, 0 stays) or reads `-0`, or the field is missing.
 * The uid field ends a line of three fields, with what runc does not trim after it.
 */
function zeroToRuncOnly(l: Line): boolean {
  if (l.kind === 'other' && l.text.trim() === '') return false;
  const field = l.kind === 'other' ? l.text.split(':')[2] ?? '' : l.fields === 3 && GO_KEEPS.includes(l.after) ? l.uid + l.after : l.uid;
  const runcZero = !/^[+-]?\d+$/.test(field) || /^-0+$/.test(field);
  return runcZero && !/^\+?\d+$/.test(field);
}

/** A home field, with what may stand around it when the line ends there. */
const home = fc.constantFrom('/home/u', '/', '', 'relative', '/with space', '/caf\u00e9', '/t\u00e1b\u00e9', '/x\u0085y', '/x\u00a0y', '/root/');
/** What may stand at a line's ends: white space to Go's unicode.IsSpace, which runc trims, and three characters it keeps (GO_KEEPS). */
const GO_KEEPS = ['\ufeff', '\u180e', '\u200b'];
const edge = fc.constantFrom('', ' ', '\t', '\r', ' \r', '\u0085', '\u00a0', '\u2028', '\u3000', ...GO_KEEPS);

type Line = { kind: 'entry'; name: string; uid: string; home: string; fields: number; before: string; after: string } | { kind: 'other'; text: string };

const line: fc.Arbitrary<Line> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant<'entry'>('entry'),
      name: fc.constantFrom('u', 'root', 'nobody', '5'),
      uid: uidField,
      home,
      // Fields up to the uid's (3), to the home (6), with a shell (7), or one more (8).
      fields: fc.constantFrom(3, 6, 6, 7, 8),
      before: edge,
      after: edge,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<'other'>('other'), text: fc.constantFrom('', '# a comment:x:5:5::/c:/bin/sh', '+::::::', '   ', 'word') }) },
);

/** The line's text: its fields joined, cut at `fields`, with `before` and `after` around it. */
function text(l: Line): string {
  if (l.kind === 'other') return l.text;
  const fields = [l.name, 'x', l.uid, '0', 'gecos', l.home, '/bin/sh', 'extra'].slice(0, l.fields);
  return `${l.before}${fields.join(':')}${l.after}`;
}

/** A file of drawn lines, with a last newline or not; the uid to run as; what `process.env` says of HOME. */
const passwd = fc.record({
  lines: fc.array(line, { minLength: 1, maxLength: 6 }),
  finalNewline: fc.boolean(),
  uid: fc.constantFrom(...UIDS),
  envHome: fc.constantFrom<string[]>([], ['HOME='], ['HOME=', 'A=1']),
});

/** HOME's bytes as the program got it (od(1), one hex pair per byte), or `unset`. */
const PROGRAM = 'if [ "${HOME+set}" = set ]; then printf %s "$HOME" | od -An -tx1 | tr -s " \\n" " "; echo; else echo unset; fi; env | grep -c "^HOME="';

/**
 * The comparison of these properties: both runtimes start the program (or, with
 * `refusals`, both may refuse) and print the same, byte for byte.
 */
function sameOutput(refusals: boolean): Comparison<string> {
  return { view: (stdout) => stdout, refusals: refusals ? 'compare' : 'fail' };
}

/**
 * Entries a PATH may list before /opt/a, whose program they may shadow: directories
 * holding drawn programs (/opt/b in three spellings, /opt/locked, which the other user
 * may not search), /bin, a missing one, a file, and relative ones (empty, `.`, `a`).
 */
const PATH_ENTRIES = ['/opt/b', '/opt/b', '/opt/b/', '/opt/./b', '/opt/locked', '/bin', '/missing', '/opt/file', '', '.', 'a'];
const PLACES = ['/opt/b', '/opt/b', '/opt/b', '/opt/b', '/opt/locked', '/opt/a', '/bin'];
type Kind = 'script' | 'dir' | 'link' | 'dangling';

const lookups = fc.record({
  path: fc.option(fc.record({ before: fc.array(fc.constantFrom(...PATH_ENTRIES), { maxLength: 3 }), last: fc.constantFrom(true, true, true, false) }), { freq: 10 }),
  programs: fc.array(
    fc.record({
      place: fc.constantFrom(...PLACES),
      kind: fc.constantFrom<Kind>('script', 'script', 'script', 'dir', 'link', 'dangling'),
      mode: fc.constantFrom(0o755, 0o700, 0o644, 0o644, 0o100, 0o001, 0),
    }),
    { minLength: 1, maxLength: 2 },
  ),
  name: fc.constantFrom('prog', 'prog', 'prog', 'prog', 'prog', 'prog', './prog', 'b/prog', '/opt/b/prog', 'sh'),
  cwd: fc.constantFrom('/', '/opt'),
  uid: fc.constantFrom(0, 1000),
});

/**
 * Gids a process.user may give: root's, small ones, the last of Go's int32 (runc 1.1.5's
 * limit for a gid /etc/group does not name), two above it, and 4294967295, (gid_t)-1,
 * which no process can take: setgid(2) and setgroups(2) refuse it (EINVAL) as the
 * kernel's invalid gid, and runc 1.1.5 refuses it before trying unless /etc/group names it.
 */
const GIDS = [0, 5, 100, 1000, 65534, 2147483647, 2147483648, 4294967294];
const INVALID_GID = 4294967295;

/** The largest gid runc 1.1.5 takes when /etc/group does not name it (ErrRange, "uids and gids must be in range 0-2147483647"). */
const RUNC_MAX_UNNAMED = 2147483647;

/** Whether runc 1.1.5 takes `gid` only when /etc/group names it; INVALID_GID, which both refuse either way, aside. */
const takenWhenNamed = (gid: number): boolean => gid > RUNC_MAX_UNNAMED && gid !== INVALID_GID;

/**
 * A gid field of a group line: a drawn gid in decimal, with a leading zero or plus sign
 * (which Go's strconv.Atoi takes), or a field that is no number (runc reads 0), negative,
 * the invalid gid, or out of range.
 */
const gidField = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...GIDS).map(String) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...GIDS), fc.constantFrom('0', '+')).map(([gid, pre]) => `${pre}${gid}`) },
  { weight: 1, arbitrary: fc.constantFrom('', 'notnum', '-5', ' 5', '4294967295', '4294967296', '99999999999999999999') },
);

/** What may stand at a group line's ends: ASCII white space, which runc's parser trims (bytes.TrimSpace). */
const groupEdge = fc.constantFrom('', '', ' ', '\t', '\r');

type GroupLine = { kind: 'entry'; name: string; gid: string; members: string; fields: number; before: string; after: string } | { kind: 'other'; text: string };

const groupLine: fc.Arbitrary<GroupLine> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant<'entry'>('entry'),
      name: fc.constantFrom('root', 'wheel', 'users', 'staff', 'nogroup', '', '5', '1000'),
      gid: gidField,
      members: fc.constantFrom('', '', 'root', 'u,root', 'u,,x', ' u '),
      // The name alone (1), up to the gid (3), with members (4, as group(5) has it), or one field more (5).
      fields: fc.constantFrom(1, 3, 4, 4, 4, 5),
      before: groupEdge,
      after: groupEdge,
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant<'other'>('other'), text: fc.constantFrom('', '   ', '# a comment:x:5:', '#5:x:7:', '+:::', 'word', ':x:5:') }) },
);

/** The line's text: its fields joined, cut at `fields`, with `before` and `after` around it. */
function groupText(l: GroupLine): string {
  if (l.kind === 'other') return l.text;
  return `${l.before}${[l.name, 'x', l.gid, l.members, 'extra'].slice(0, l.fields).join(':')}${l.after}`;
}

/** A group line as runc 1.1.5 reads it: trimmed, skipped when empty or a comment; its gid by Go's strconv.Atoi (0 for what is no number, as runc ignores the error). */
function runcGroup(text: string): { name: string; gid: bigint } | undefined {
  const line = text.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const [name, , gid = ''] = line.split(':');
  return { name, gid: /^[+-]?\d+$/.test(gid) ? BigInt(gid) : 0n };
}

/**
 * process.user: a uid; a gid; additionalGids absent, empty, or up to six drawn from the
 * gids (so often repeated), the primary gid among them or not, rarely INVALID_GID; and the
 * image's /etc/group: none, or lines drawn as above, with a last newline or not.
 */
const groupDraws = fc.record({
  uid: fc.constantFrom(0, 1000, 65534),
  gid: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...GIDS) }, { weight: 1, arbitrary: fc.constant(INVALID_GID) }),
  additional: fc.option(
    fc.array(fc.oneof({ weight: 8, arbitrary: fc.constantFrom<number | 'primary'>(...GIDS) }, { weight: 3, arbitrary: fc.constant<'primary'>('primary') }, { weight: 1, arbitrary: fc.constant(INVALID_GID) }), { maxLength: 6 }),
    { freq: 8 },
  ),
  lines: fc.option(fc.array(groupLine, { maxLength: 6 }), { freq: 8 }),
  finalNewline: fc.boolean(),
});

/**
 * Whether runc 1.1.5 would give an additional gid another number: it looks each one up in
 * /etc/group by gid and by group NAME, so that a line naming a group `5` whose gid is 7
 * turns 5 into 7, where mountkit gives 5, as runc 1.3 and later do (README.md,
 * "Differences from runc 1.1.5"). Draws with such a line are left out.
 */
function renamedByRunc(lines: readonly string[], additionalGids: readonly number[]): boolean {
  return lines.some((text) => {
    const g = runcGroup(text);
    return g !== undefined && additionalGids.some((gid) => g.name === String(gid) && g.gid !== BigInt(gid));
  });
}

/**
 * `lines` (none: no /etc/group) with a line of its own for each gid of `gids` that runc
 * 1.1.5 takes only when named (takenWhenNamed) and no line names by gid: runc 1.1.5
 * refuses such a gid, mountkit takes it (README.md, "Differences from runc 1.1.5").
 */
function namingLargeGids(lines: readonly string[] | null, gids: readonly number[]): string[] | null {
  const named = new Set((lines ?? []).map(runcGroup).flatMap((g) => (g ? [g.gid] : [])));
  const large = [...new Set(gids)].filter((gid) => takenWhenNamed(gid) && !named.has(BigInt(gid)));
  return lines === null && large.length === 0 ? null : [...(lines ?? []), ...large.map((gid, i) => `big${i}:x:${gid}:`)];
}

/**
 * `gids` with each one runc 1.1.5 takes only when named (takenWhenNamed) given once, where
 * it first stands: runc 1.1.5 refuses such a gid given twice even when /etc/group names it
 * (its second lookup finds the group taken already and falls back to the range check),
 * where mountkit gives it once (README.md, "Differences from runc 1.1.5").
 */
function largeGidsOnce(gids: readonly number[]): number[] {
  return gids.filter((gid, i) => !takenWhenNamed(gid) || gids.indexOf(gid) === i);
}

/**
 * What the program prints of its groups: the kernel's view (/proc/self/status's Uid:,
 * Gid: and Groups: lines) and id(1)'s, which names them from /etc/group. Compared byte
 * for byte, unsorted: the kernel sorts the list setgroups(2) is given (groups_sort,
 * kernel/groups.c, so that a lookup can bisect it) and keeps its duplicates, so the order
 * a runtime gives its gids in (runc 1.1.5's comes from a Go map) shows in neither
 * Groups: nor getgroups(2), which id reads; a duplicate given does show, twice. id's
 * complaints of lines it cannot read (busybox: `bad record`) are compared with the rest.
 */
const GROUPS_PROGRAM = 'grep -E "^(Uid|Gid|Groups):" /proc/self/status; id 2>&1';

maybe('random process files and lookups: runc 1.1.5 and mountkit', () => {
  test('/etc/passwd: give the program the same HOME', () => {
    let ran = 0;
    let started = 0;
    fc.assert(
      fc.property(passwd, ({ lines, finalNewline, uid, envHome }) => {
        fc.pre(uid !== 0 || !lines.some(zeroToRuncOnly));
        ran++;
        const config = busyboxConfig(['sh', '-c', PROGRAM]);
        config.process.user = { uid, gid: 0 };
        config.process.env = ['PATH=/bin', ...envHome];
        const written = (bundle: string) => writeFileSync(path.join(bundle, 'rootfs/etc/passwd'), lines.map(text).join('\n') + (finalNewline ? '\n' : ''));
        if (sideBySide(config, written, sameOutput(false))) started++;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(started).toBe(ran);
    expect(ran).toBe(RUNS);
  });

  test("process.args[0]: run the same file, or both refuse", () => {
    let started = 0;
    fc.assert(
      fc.property(lookups, ({ path: drawnPath, programs, name, cwd, uid }) => {
        const config = busyboxConfig([name]);
        config.process.user = { uid, gid: uid };
        config.process.cwd = cwd;
        const entries = drawnPath === null ? null : [...drawnPath.before, ...(drawnPath.last || drawnPath.before.length === 0 ? ['/opt/a'] : [])];
        config.process.env = entries === null ? [] : [`PATH=${entries.join(':')}`];
        const placed = (bundle: string): void => {
          const rootfs = path.join(bundle, 'rootfs');
          for (const dir of ['opt/a', 'opt/b', 'opt/locked']) mkdirSync(path.join(rootfs, dir), { recursive: true });
          writeFileSync(path.join(rootfs, 'opt/file'), '');
          writeFileSync(path.join(rootfs, 'opt/linked'), '#!/bin/sh\necho "ran /opt/linked as $0"\n', { mode: 0o755 });
          // A program any PATH with /opt/a finds, unless a drawn one takes its place.
          writeFileSync(path.join(rootfs, 'opt/a/prog'), '#!/bin/sh\necho "ran /opt/a as $0"\n', { mode: 0o755 });
          programs.forEach(({ place, kind, mode }, i) => {
            const at = path.join(rootfs, place, 'prog');
            rmSync(at, { recursive: true, force: true });
            // Each script says which one ran, and how it was named.
            if (kind === 'script') writeFileSync(at, `#!/bin/sh\necho "ran ${place} ${i} as $0"\n`);
            if (kind === 'dir') mkdirSync(at);
            if (kind === 'link') symlinkSync('/opt/linked', at);
            if (kind === 'dangling') symlinkSync('/nowhere/prog', at);
            if (kind === 'script' || kind === 'dir') chmodSync(at, mode);
          });
          // A directory the other user may not search.
          chmodSync(path.join(rootfs, 'opt/locked'), 0o700);
        };
        if (sideBySide(config, placed, sameOutput(true))) started++;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(started).toBeGreaterThan(RUNS / 4);
  });

  test('process.user with supplementary groups and /etc/group: give the program the same ids and groups, or both refuse', () => {
    let ran = 0;
    let started = 0;
    fc.assert(
      fc.property(groupDraws, ({ uid, gid, additional, lines, finalNewline }) => {
        const additionalGids = additional && largeGidsOnce(additional.map((g) => (g === 'primary' ? gid : g)));
        const drawn = lines && lines.map(groupText);
        fc.pre(!renamedByRunc(drawn ?? [], additionalGids ?? []));
        ran++;
        const group = namingLargeGids(drawn, [gid, ...(additionalGids ?? [])]);
        const config = busyboxConfig(['sh', '-c', GROUPS_PROGRAM]);
        config.process.user = { uid, gid, ...(additionalGids ? { additionalGids } : {}) };
        const written = (bundle: string): void => {
          const file = path.join(bundle, 'rootfs/etc/group');
          if (group === null) rmSync(file);
          else writeFileSync(file, group.join('\n') + (finalNewline ? '\n' : ''));
        };
        const comparison = { ...sameOutput(true), checked: (out: string) => expect(out).toMatch(/^Uid:.*\nGid:.*\nGroups:.*\n[^]*uid=/) };
        if (sideBySide(config, written, comparison)) started++;
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(ran).toBe(RUNS);
    expect(started).toBeGreaterThan(RUNS / 2);
  });
});
