import { BRKINT, CS8, CSIZE, ECHO, ECHONL, ICANON, ICRNL, IEXTEN, IGNBRK, IGNCR, INLCR, ISIG, ISTRIP, IXON, ONLCR, OPOST, PARENB, PARMRK, VMIN, VTIME } from '../../src/core/constants';
import { DEFAULT_TERMIOS } from '../../src/core/syscalls/fake';
import type { Termios } from '../../src/core/syscalls/types';
import { rawMode, withoutOnlcr } from '../../src/core/termios';

const ALL_INPUT = IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON;
const ALL_LOCAL = ECHO | ECHONL | ICANON | ISIG | IEXTEN;

describe('rawMode: the host terminal while a foreground console is copied', () => {
  test.each<[string, keyof Termios, number, number]>([
    ['a new terminal: no CR to NL on input, no flow control', 'iflag', DEFAULT_TERMIOS.iflag, 0],
    ['every input translation is cleared, other bits kept', 'iflag', ALL_INPUT | 0o20000, 0o20000],
    ['output processing stays on, with ONLCR, as runc leaves it', 'oflag', OPOST | ONLCR, OPOST | ONLCR],
    ['no echo, no line editing, no signals from keys, no extended input', 'lflag', DEFAULT_TERMIOS.lflag, DEFAULT_TERMIOS.lflag & ~ALL_LOCAL],
    ['8-bit characters without parity', 'cflag', PARENB | 0o20 | 0o200, CS8 | 0o200],
    ['8-bit characters from a 7-bit setting', 'cflag', (0o40 & CSIZE) | 0o2000, CS8 | 0o2000],
  ])('%s (%s)', (_what, field, before, after) => {
    expect(rawMode({ ...DEFAULT_TERMIOS, [field]: before })[field]).toBe(after);
  });

  test('read returns at each byte (VMIN 1, VTIME 0); the other control characters and the line discipline are kept; the argument is not changed', () => {
    const before: Termios = { ...DEFAULT_TERMIOS, line: 2, cc: DEFAULT_TERMIOS.cc.map((c, i) => (i === VTIME ? 5 : i === VMIN ? 0 : c)) };
    const copy = JSON.stringify(before);
    const raw = rawMode(before);
    expect(raw.cc).toEqual(DEFAULT_TERMIOS.cc.map((c, i) => (i === VTIME ? 0 : i === VMIN ? 1 : c)));
    expect(raw.line).toBe(2);
    expect(JSON.stringify(before)).toBe(copy);
  });
});

describe("withoutOnlcr: the container's terminal of a foreground console", () => {
  test.each([
    [OPOST | ONLCR, OPOST],
    [OPOST, OPOST],
    [ONLCR | 0o10, 0o10],
  ])('oflag %o -> %o, the rest as it was', (before, after) => {
    const t = withoutOnlcr({ ...DEFAULT_TERMIOS, oflag: before });
    expect(t).toEqual({ ...DEFAULT_TERMIOS, oflag: after });
  });
});
