/**
 * File names as JS strings, without losing a byte. The kernel's names (paths, link
 * targets, directory entries, mountinfo fields) are bytes with no encoding: any byte but
 * NUL ('/' too in a path), valid UTF-8 or not (path_resolution(7)). A JS string decoded as
 * UTF-8 turns each invalid byte into U+FFFD, which is written back as EF BF BD: another
 * name. Python's "surrogateescape" (PEP 383) keeps them: valid UTF-8 decodes as usual, and
 * each byte 0x80-0xFF that is not part of a valid sequence becomes the lone surrogate
 * U+DC80+(byte-0x80), which no valid UTF-8 decodes to (UTF-8 holds no surrogates, RFC 3629
 * section 3) and which encodeName turns back into that byte.
 */
import { isUtf8 } from 'buffer';

/** The first of the lone surrogates that stand for a byte: U+DC80 is 0x80. */
const ESCAPE_BASE = 0xdc00;

/** A lone surrogate U+DC80-U+DCFF: a byte decodeName kept. With `u`, a surrogate pair is one code point and does not match. */
const ESCAPED_BYTES = /([\udc80-\udcff]+)/u;

/** Any lone surrogate, which UTF-8 cannot encode (JSON text may write one as an escape). */
const LONE_SURROGATE = /\p{Cs}/gu;

/**
 * The length of the valid UTF-8 sequence at `at`, or 0 when the byte there starts none:
 * shortest form only, no surrogates (U+D800-U+DFFF), nothing past U+10FFFF (RFC 3629
 * section 4, the well-formed byte sequences).
 */
function sequenceAt(bytes: Uint8Array, at: number): number {
  const b0 = bytes[at];
  if (b0 < 0x80) return 1;
  if (b0 >= 0xc2 && b0 <= 0xdf) return within(bytes, at + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const second = b0 === 0xe0 ? within(bytes, at + 1, 0xa0) : b0 === 0xed ? within(bytes, at + 1, 0x80, 0x9f) : within(bytes, at + 1);
    return second && within(bytes, at + 2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const second = b0 === 0xf0 ? within(bytes, at + 1, 0x90) : b0 === 0xf4 ? within(bytes, at + 1, 0x80, 0x8f) : within(bytes, at + 1);
    return second && within(bytes, at + 2) && within(bytes, at + 3) ? 4 : 0;
  }
  return 0;
}

/** Whether the byte at `i` exists and lies in lo..hi (a continuation byte, 0x80-0xBF, unless narrower). */
function within(bytes: Uint8Array, i: number, lo = 0x80, hi = 0xbf): boolean {
  return i < bytes.length && bytes[i] >= lo && bytes[i] <= hi;
}

/**
 * A name's bytes as a string: valid UTF-8 decoded as usual, and each byte that is not
 * part of a valid sequence as the lone surrogate U+DC80+(byte-0x80). encodeName gives
 * back exactly these bytes.
 */
export function decodeName(bytes: Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = buf.toString('utf8');
  // Node's decoder gives U+FFFD for each invalid sequence: a text without one had none.
  if (!text.includes('\ufffd') || isUtf8(buf)) return text;
  return escapedText(buf);
}

/** decodeName of bytes that are not all valid UTF-8: each valid run as Node decodes it, each other byte escaped. */
function escapedText(buf: Buffer): string {
  let text = '';
  let run = 0;
  for (let at = 0; at < buf.length; ) {
    const n = sequenceAt(buf, at);
    if (n > 0) {
      at += n;
      continue;
    }
    text += buf.toString('utf8', run, at) + String.fromCharCode(ESCAPE_BASE + buf[at]);
    run = ++at;
  }
  return text + buf.toString('utf8', run);
}

/**
 * The bytes of a name decodeName gave, or of any other string as UTF-8. A string with no
 * lone surrogate U+DC80-U+DCFF (every name that was valid UTF-8) is returned as it is, for
 * the caller to pass as a string; another as its bytes, each of those surrogates the one
 * byte it stands for. Another lone surrogate is EF BF BD (U+FFFD), as Node and V8 encode it.
 */
export function encodeName(name: string): string | Buffer {
  if (!ESCAPED_BYTES.test(name)) return name;
  return Buffer.concat(name.split(ESCAPED_BYTES).map((part, i) => (i % 2 === 0 ? Buffer.from(part, 'utf8') : Buffer.from([...part].map((c) => c.charCodeAt(0) - ESCAPE_BASE)))));
}

/** encodeName's bytes as a Buffer, for a caller that writes them (a file's text, a message). */
export function nameBytes(name: string): Buffer {
  const encoded = encodeName(name);
  return typeof encoded === 'string' ? Buffer.from(encoded, 'utf8') : encoded;
}

/** Whether `text` holds a lone surrogate (wellFormed would change it). */
export function hasLoneSurrogate(text: string): boolean {
  return /\p{Cs}/u.test(text);
}

/**
 * `text` with every lone surrogate as U+FFFD, as Go's encoding/json reads a JSON string
 * (runc's config.json): only names decoded from the kernel then carry U+DC80-U+DCFF.
 * String.prototype.toWellFormed (ES2024, Node 20) does the same.
 */
export function wellFormed(text: string): string {
  return text.replace(LONE_SURROGATE, '\ufffd');
}
