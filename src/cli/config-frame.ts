/**
 * config.json's text as a relaunch's starter sends it on the relaunch's config descriptor
 * (cli/run.ts CONFIG_FD): its length in bytes, in decimal, a newline, then the text. The
 * descriptor's end alone cannot tell a whole config from part of one: a starter killed
 * (SIGKILL) while it writes closes the socket after part of the text, which then read as
 * a config.json that is not valid JSON. With the length first, a text that ends short is
 * told as the starter's end.
 */

/** What the starter writes: `<bytes>\n<text>`. */
export function configFrame(text: string): Buffer {
  const body = Buffer.from(text, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length}\n`), body]);
}

/** What the relaunch read to the descriptor's end, as configFrame made it. */
export type ConfigFrame =
  /** The whole text. */
  | { text: string }
  /** Less than the starter sent: `got` bytes of the text, of `of` (undefined when the length itself came only in part). */
  | { short: true; got: number; of?: number }
  /** Not what configFrame makes: something other than mountkit's starter wrote it. */
  | { invalid: true };

/** The length line's digits: 0, or decimal digits without a leading zero. */
const LENGTH = /^(?:0|[1-9]\d*)$/;

/** The most digits a length has: Number.MAX_SAFE_INTEGER's 16. */
const MAX_LENGTH_DIGITS = 16;

/** Reads what came (`data`, the descriptor read to its end) as configFrame made it. */
export function readConfigFrame(data: Buffer): ConfigFrame {
  const newline = data.indexOf(0x0a);
  const head = data.subarray(0, newline < 0 ? data.length : newline).toString('latin1');
  if (newline < 0) return (head === '' || LENGTH.test(head)) && head.length <= MAX_LENGTH_DIGITS ? { short: true, got: 0 } : { invalid: true };
  if (!LENGTH.test(head) || head.length > MAX_LENGTH_DIGITS) return { invalid: true };
  const length = Number(head);
  const body = data.subarray(newline + 1);
  if (body.length > length) return { invalid: true };
  if (body.length < length) return { short: true, got: body.length, of: length };
  return { text: body.toString('utf8') };
}
