/**
 * What a command's result keeps of its output (CommandResult.output): all of it up to
 * OUTPUT_KEPT bytes; past that, its first and last OUTPUT_KEPT / 2 bytes, with the number
 * of bytes between them that were left out. A hook's output ends up in one line of a
 * failure, and the runtime's hooks' results cross the runtime channel as one JSON line:
 * read whole, the output of a hook that wrote more than a V8 string may hold (about
 * 512 MiB) failed the whole run ("Cannot create a string longer than ..."), where runc
 * runs on. The tail is kept too: a failing program's last lines usually say why.
 */

/** The most a result keeps of a command's output, in bytes: half from its start, half from its end. */
export const OUTPUT_KEPT = 64 * 1024;

/**
 * The text of a command's output of `size` bytes, read with `read(offset, length)`
 * (pread(2): the bytes there, fewer when the file is shorter by then): whole when it
 * fits OUTPUT_KEPT; otherwise its head and tail around a line naming the bytes left
 * out. Neither part ends or starts inside a UTF-8 character: the bytes of one cut in two
 * count as left out.
 */
export function keptOutput(size: number, read: (offset: number, length: number) => Buffer): string {
  if (size <= OUTPUT_KEPT) return read(0, size).toString('utf8');
  const half = OUTPUT_KEPT / 2;
  const head = read(0, half);
  const tail = read(size - half, half);
  const headEnd = wholeCharactersEnd(head);
  const tailStart = wholeCharactersStart(tail);
  const leftOut = size - headEnd - (tail.length - tailStart);
  return `${head.subarray(0, headEnd).toString('utf8')}\n[${leftOut} bytes left out]\n${tail.subarray(tailStart).toString('utf8')}`;
}

/** Whether `byte` continues a UTF-8 sequence (10xxxxxx) rather than starting one. */
function continuation(byte: number): boolean {
  return (byte & 0xc0) === 0x80;
}

/** How many bytes the UTF-8 sequence starting with `lead` has: 1 for ASCII or a stray byte. */
function sequenceLength(lead: number): number {
  if (lead >= 0xf0 && lead <= 0xf7) return 4;
  if (lead >= 0xe0) return lead <= 0xef ? 3 : 1;
  if (lead >= 0xc0) return 2;
  return 1;
}

/** Where `bytes` stops holding whole characters: before a sequence its end cuts short. */
function wholeCharactersEnd(bytes: Buffer): number {
  // A sequence is at most 4 bytes: its lead is among the last 4.
  for (let i = bytes.length - 1; i >= 0 && i >= bytes.length - 4; i--) {
    if (continuation(bytes[i])) continue;
    return i + sequenceLength(bytes[i]) > bytes.length ? i : bytes.length;
  }
  return bytes.length;
}

/** Where the first whole character of `bytes` starts: after the continuation bytes of one its start cut (at most 3). */
function wholeCharactersStart(bytes: Buffer): number {
  let i = 0;
  while (i < 3 && i < bytes.length && continuation(bytes[i])) i++;
  return i;
}
