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
});
