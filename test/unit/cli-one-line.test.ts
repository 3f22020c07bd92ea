import { oneLine } from '../../src/cli/main';

describe('oneLine: the error the CLI prints without --log-level debug', () => {
  test.each([
    ['one line', 'mount "x": EPERM', 'mount "x": EPERM'],
    ['a trailing newline', 'mount "x": EPERM\n', 'mount "x": EPERM'],
    ['two lines', 'hook failed: first\nsecond', 'hook failed: first (1 more line at --log-level debug)'],
    ['several, blank ones counted', 'a\n\nb\nc\n\n', 'a (3 more lines at --log-level debug)'],
    ['empty', '', ''],
    ['blank lines first', '\n\nfirst\nsecond', 'first (1 more line at --log-level debug)'],
  ])('%s', (_what, message, shown) => {
    expect(oneLine(message)).toBe(shown);
  });
});
