/**
 * Random /etc/passwd files run under runc 1.1.5 and under mountkit: the HOME each gives
 * the program when `process.env` has none (or an empty one), for a uid that the file
 * names once, several times or not at all. Lines are drawn from what passwd files hold
 * and what they should not: comments, blank lines, too few or too many fields, uid fields
 * with leading zeros, a sign, spaces or out of range, a home with spaces, bytes that are
 * not UTF-8, and white space (ASCII and other) around a line that ends at its home. Both
 * runtimes must start the program and give it the same HOME, byte for byte. The seed is
 * fixed (MOUNTKIT_TEST_SEED tries others); a failure prints the draw.
 */
import * as fc from 'fast-check';
import { rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import { BUSYBOX, RUNC, busyboxConfig, copyBundle, makeBundle, runMountkit, runRunc } from './harness';

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

maybe('random /etc/passwd files: runc 1.1.5 and mountkit', () => {
  test('give the program the same HOME', () => {
    let ran = 0;
    let started = 0;
    fc.assert(
      fc.property(passwd, ({ lines, finalNewline, uid, envHome }) => {
        fc.pre(uid !== 0 || !lines.some(zeroToRuncOnly));
        ran++;
        const config = busyboxConfig(['sh', '-c', PROGRAM]);
        config.process.user = { uid, gid: 0 };
        config.process.env = ['PATH=/bin', ...envHome];
        const bundle = makeBundle(config);
        const copies: string[] = [];
        try {
          writeFileSync(path.join(bundle.dir, 'rootfs/etc/passwd'), lines.map(text).join('\n') + (finalNewline ? '\n' : ''));
          copies.push(copyBundle(bundle.dir), copyBundle(bundle.dir));
          const runc = runRunc(copies[0]);
          const mk = runMountkit(copies[1]);
          expect({ status: mk.status, stdout: mk.stdout, stderr: mk.stderr }).toEqual({ status: runc.status, stdout: runc.stdout, stderr: '' });
          expect(runc.stderr).toBe('');
          if (runc.status === 0) started++;
        } finally {
          for (const copy of copies) rmSync(copy, { recursive: true, force: true });
          bundle.cleanup();
        }
      }),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );
    expect(started).toBe(ran);
    expect(ran).toBe(RUNS);
  });
});
