/**
 * The integer fields of config.json as runc reads them. Go's encoding/json decodes a
 * number into an integer field with strconv (ParseInt or ParseUint, base 10) within the
 * field's width, so runc takes an integer literal only: digits, after a minus sign in a
 * signed field (`-0` too), with no sign in an unsigned one. A fraction or an exponent
 * (`1.0`, `1E2`, `1e-400`) and `-0` in an unsigned field are refused ("cannot unmarshal
 * number 1.0 into Go struct field User.process.user.uid of type uint32"); an integer
 * literal is read exactly, however many digits. JSON.parse reads every number as a
 * double: `1.0` and `1E2` as 1 and 100, 9007199254740993 as 9007199254740992.
 *
 * So the loader reads the integer fields mountkit reads (spec-fields.ts) from the text as
 * well: it refuses the literals runc refuses, and puts an integer beyond the exact
 * doubles into the parsed value as a bigint, as written, which a uint64 field's reader
 * takes and any other field's reader refuses showing it (json.ts). An integer field of
 * runc's that mountkit does not read (go-spec.ts) is read from the text too, for the
 * literals runc refuses and, beyond the exact doubles, for its type's range; its value
 * is left as JSON.parse read it, as mountkit does not use it (go-decode.ts checks the
 * rest). A number anywhere else is left as it is.
 *
 * The same scan finds the other place where the two decoders differ on what the text
 * says: a key given twice with objects or arrays of objects, which Go merges and
 * JSON.parse replaces (refuseMergedDuplicates).
 */
import { fail } from './json';
import { goTypeError } from './go-decode';
import { GO_INTEGER_RANGE, GO_SPEC, goWithin, holdsInteger, isGoInteger, type GoInteger, type GoType } from './go-spec';
import { SPEC_SHAPE, mergedTwice, shapeWithin, type FieldShape } from './spec-fields';

/**
 * A number JSON.parse may read otherwise than runc: with a fraction or an exponent, `-0`,
 * or of 16 digits or more (every integer up to 15 digits is an exact double). A value
 * follows `:`, `,` or `[`; such text inside a string only costs a scan (scanIntegerLiterals).
 */
const SUSPECT = /[:,[][ \t\n\r]*(?:-0|-?\d+[.eE]|-?\d{16})/g;

/**
 * Reads the integer fields of `spec`, which JSON.parse made of `text`, from the text
 * (see above): a ConfigError for a literal runc refuses, an integer beyond the exact
 * doubles made a bigint in `spec`. Only a text with a number that could be either
 * (SUSPECT) is scanned, and only up to the last of them.
 */
export function readIntegerLiterals(text: string, spec: unknown): void {
  let end = 0;
  SUSPECT.lastIndex = 0;
  while (SUSPECT.test(text)) end = SUSPECT.lastIndex;
  if (end > 0) scanIntegerLiterals(text, spec, end);
}

/** An array or object being read: the runtime-spec's shape of it, its value in `spec`, and the index or key of the value being read in it. */
interface Frame {
  array: boolean;
  shape: FieldShape | undefined;
  /** Its Go type in runc's runtime-spec (go-spec.ts); undefined where Go decodes nothing. */
  go: GoType | undefined;
  /** Its value in JSON.parse's result: that of the last of duplicate keys; undefined where the text's is another. */
  node: unknown;
  at: string | number;
  /** An object's keys seen so far whose values are arrays or objects Go's decoder merges (mergedTwice). */
  merged?: Set<string>;
}

/** The longest literal an error shows whole. */
const SHOWN_LITERAL = 40;

/** What lies between JSON tokens that the scan passes over: whitespace, and the colon after a key. */
const BETWEEN = /[ \t\n\r:]*/y;

/** The rest of a number token after its first character. */
const NUMBER_REST = /[\d.eE+-]*/y;

/**
 * The most repetitions a pattern below takes at one place. Each one may take a place on
 * the regular expression engine's backtracking stack, which a text of millions of them
 * would overflow (RangeError): beyond it the pattern matches less, or not at all, and the
 * scan reads the rest a token at a time.
 */
const RUN = 1000;

const SPACE = '[ \\t\\n\\r]*';
/** A string: runs of characters between escapes, each taken at once (the engine keeps no place per character of a class repeated). */
const STRING = `"[^"\\\\]*(?:\\\\.[^"\\\\]*){0,${RUN}}"`;
/** A value that holds no number: a string, a literal, or an array of strings. */
const NO_NUMBER = `(?:${STRING}|true|false|null|\\[${SPACE}(?:${STRING}${SPACE}(?:,${SPACE}${STRING}${SPACE}){0,${RUN}})?\\])`;

/** Members of an object whose values hold no number, each with its comma or before the closing brace: passed over at once. */
const PLAIN_MEMBERS = new RegExp(`(?:${SPACE}${STRING}${SPACE}:${SPACE}${NO_NUMBER}${SPACE}(?:,|(?=\\}))){0,${RUN}}`, 'y');

/** Items of an array that hold no number, each with its comma or before the closing bracket. */
const PLAIN_ITEMS = new RegExp(`(?:${SPACE}${NO_NUMBER}${SPACE}(?:,|(?=\\]))){0,${RUN}}`, 'y');

/** What an array or object without one inside holds: runs of characters between strings. */
const FLAT_BODY = `[^"[\\]{}]*(?:${STRING}[^"[\\]{}]*){0,${RUN}}`;

/** An array or object with no array or object inside: passed over at once where mountkit reads no integer in it. */
const FLAT = new RegExp(`\\[${FLAT_BODY}\\]|\\{${FLAT_BODY}\\}`, 'y');

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;
const QUOTE = 0x22;
const MINUS = 0x2d;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const LETTER_F = 0x66;

/** Where `re` (sticky) matched at `at` ends. */
function after(re: RegExp, text: string, at: number): number {
  re.lastIndex = at;
  return re.test(text) ? re.lastIndex : at;
}

/**
 * readIntegerLiterals without its quick test: one pass over `text`, valid JSON, up to
 * `end` (its length by default), with a stack of its own. What holds no integer field
 * is passed over by a regular expression a run at a time: the members and items whose
 * values hold no number, and an array or object of no integer field without nesting.
 * Every occurrence of a duplicate key is checked, as Go decodes each; a bigint is put
 * where the value JSON.parse kept is the same double, so that the last occurrence's
 * literal is the one kept. A key given twice with arrays or objects Go merges is refused
 * (refuseMergedDuplicates).
 */
export function scanIntegerLiterals(text: string, spec: unknown, end = text.length): void {
  const frames: Frame[] = [];
  let keyNext = false;
  let i = 0;
  for (;;) {
    i = after(BETWEEN, text, i);
    if (i >= end) return;
    const c = text.charCodeAt(i);
    const top = frames[frames.length - 1];
    if (c === QUOTE) {
      const close = stringEnd(text, i);
      if (keyNext) {
        const raw = text.slice(i + 1, close - 1);
        top.at = raw.includes('\\') ? (JSON.parse(text.slice(i, close)) as string) : raw;
        keyNext = false;
      }
      i = close;
    } else if (c === COMMA) {
      if (top.array) top.at = (top.at as number) + 1;
      else keyNext = true;
      i = passPlain(text, i + 1, top);
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const shape = top === undefined ? SPEC_SHAPE : shapeWithin(top.shape, top.at);
      const go = top === undefined ? GO_SPEC : goWithin(top.go, top.at);
      const flatEnd = typeof shape === 'object' || holdsInteger(go) ? i : after(FLAT, text, i);
      if (flatEnd > i) {
        i = flatEnd;
        continue;
      }
      if (top !== undefined && !top.array && mergedTwice(shape)) {
        const key = top.at as string;
        if (top.merged?.has(key)) {
          fail(pathOf(frames), undefined, `is given twice, each time ${c === OPEN_BRACE ? 'an object' : 'an array'}: runc's Go decoder merges the second into the first (what only the first gives is kept), where JSON.parse keeps the second alone; give it once`);
        }
        (top.merged ??= new Set()).add(key);
      }
      const node = top === undefined ? spec : shape === undefined ? undefined : valueAt(top.node, top.at);
      const frame: Frame = { array: c === OPEN_BRACKET, shape, go, node, at: 0 };
      frames.push(frame);
      keyNext = c === OPEN_BRACE;
      i = passPlain(text, i + 1, frame);
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      frames.pop();
      keyNext = false;
      i++;
    } else if (c === MINUS || (c >= DIGIT_0 && c <= DIGIT_9)) {
      const numberEnd = after(NUMBER_REST, text, i + 1);
      const shape = top === undefined ? undefined : shapeWithin(top.shape, top.at);
      if (shape === 'int' || shape === 'uint') readInteger(text.slice(i, numberEnd), shape, frames);
      else {
        const go = top === undefined ? undefined : goWithin(top.go, top.at);
        if (isGoInteger(go)) readGoInteger(text.slice(i, numberEnd), go, frames);
      }
      i = numberEnd;
    } else {
      // true, false or null.
      i += c === LETTER_F ? 5 : 4;
    }
  }
}

/**
 * Refuses a key given twice in one object of config.json where both values are arrays or
 * objects of a field mountkit reads (mergedTwice): runc's Go decoder merges the second
 * into the first, JSON.parse keeps only the second, so a first `"root": {"readonly":
 * true}` or `"linux": {"seccomp": ...}` would be dropped where runc applies it.
 * `containers` is how many arrays and objects JSON.parse made of `text` (refuseOtherCase
 * counts them): when the text has as many `{` and `[`, none was dropped and none is
 * written inside a string, and the text is not scanned. Otherwise it is, whole
 * (scanIntegerLiterals), which finds such a key.
 */
export function refuseMergedDuplicates(text: string, spec: unknown, containers: number): void {
  if (occurrences(text, '{') + occurrences(text, '[') !== containers) scanIntegerLiterals(text, spec);
}

function occurrences(text: string, char: string): number {
  let count = 0;
  for (let at = text.indexOf(char); at !== -1; at = text.indexOf(char, at + 1)) count++;
  return count;
}

/**
 * Passes over what follows `at` in `frame` and holds no number: an object's members
 * (PLAIN_MEMBERS), or an array's items where they are no integers and hold none (where
 * they may, each counts for the path of the next).
 */
function passPlain(text: string, at: number, frame: Frame): number {
  if (!frame.array) return after(PLAIN_MEMBERS, text, at);
  const item = shapeWithin(frame.shape, 0);
  return (item === undefined || item === 'plain') && !holdsInteger(goWithin(frame.go, 0)) ? after(PLAIN_ITEMS, text, at) : at;
}

/** One number of an integer field, at the innermost frame's place. */
function readInteger(literal: string, shape: 'int' | 'uint', frames: Frame[]): void {
  refuseSpelling(literal, shape, frames);
  const value = Number(literal);
  // Go reads -0 in a signed field as 0, JSON.parse as -0; a safe integer is exact.
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) return;
  const top = frames[frames.length - 1];
  const kept = valueAt(top.node, top.at);
  if ((typeof kept === 'number' || typeof kept === 'bigint') && Number(kept) === value) (top.node as Record<string | number, unknown>)[top.at] = Object.is(value, -0) ? 0 : BigInt(literal);
}

/** Refuses a number of an integer field that Go's strconv does not read as one: with a fraction or an exponent, or `-0` in an unsigned field. */
function refuseSpelling(literal: string, shape: 'int' | 'uint', frames: Frame[]): void {
  if (/[.eE]/.test(literal)) {
    fail(pathOf(frames), undefined, `${shown(literal)} is not an integer literal: runc's Go decoder takes an integer field's number as digits only, with no fraction or exponent`);
  }
  if (shape === 'uint' && literal === '-0') {
    fail(pathOf(frames), undefined, `${literal} is not an unsigned integer literal: runc's Go decoder takes an unsigned field's number as digits only, with no sign`);
  }
}

/**
 * One number of an integer field of runc's that mountkit does not read (go-spec.ts), at
 * the innermost frame's place: a spelling readInteger refuses, and an integer beyond the
 * exact doubles out of its type's range (strconv's ParseInt or ParseUint with the type's
 * bit size), which the parsed value, rounded, cannot show (go-decode.ts checks the
 * others). The parsed value is left as it is: mountkit does not use it.
 */
function readGoInteger(literal: string, type: GoInteger, frames: Frame[]): void {
  const [min, max] = GO_INTEGER_RANGE[type];
  refuseSpelling(literal, min === 0n ? 'uint' : 'int', frames);
  if (Number.isSafeInteger(Number(literal))) return;
  const value = BigInt(literal);
  if (value < min || value > max) throw goTypeError(pathOf(frames), value, type, 'range');
}

/** The value at `at` in an array or object of JSON.parse's; undefined when it has none. */
function valueAt(node: unknown, at: string | number): unknown {
  if (typeof node !== 'object' || node === null || !Object.hasOwn(node, at)) return undefined;
  return (node as Record<string | number, unknown>)[at];
}

/** The offset after the JSON string opening at `at` (the text is valid JSON): a quote after an even number of backslashes ends it. */
function stringEnd(text: string, at: number): number {
  let from = at + 1;
  for (;;) {
    const quote = text.indexOf('"', from);
    let backslashes = 0;
    while (text.charCodeAt(quote - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    from = quote + 1;
  }
}

/** The JSON path of the value being read (`process.rlimits[0].hard`). */
function pathOf(frames: Frame[]): string {
  // A key of a map mountkit does not read is a name, quoted as go-decode.ts quotes it (`linux.resources.unified["io.max"]`).
  const step = (f: Frame, k: number) => (typeof f.at === 'number' ? `[${f.at}]` : f.shape === undefined && f.go?.startsWith('map[') === true ? `[${JSON.stringify(f.at)}]` : k === 0 ? f.at : `.${f.at}`);
  return frames.map(step).join('');
}

function shown(literal: string): string {
  return literal.length <= SHOWN_LITERAL ? literal : `${literal.slice(0, SHOWN_LITERAL - 3)}... (${literal.length} characters)`;
}
