import { O_CLOEXEC, O_PATH } from '../../../src/core/constants';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { DEFAULT_HOME, PASSWD_MAX_BYTES, execEnv, homeOf, passwdHome } from '../../../src/plugins/exec/env';

const PASSWD = ['root:x:0:0:root:/root:/bin/sh', '', '  daemon:x:1:1::/usr/sbin:/usr/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:', 'dup:x:1:1::/second:', 'short:x:7', 'odd:x:notanumber:0::/odd:', 'plus:x:+42:0::/plus:'].join('\n');

/** The fake as the container's root after the jail: its procfs, through which the file is read. */
const container = () => new FakeSyscalls().addDir('/proc/thread-self/fd');

/** The container's /proc is a procfs: the file is read through its descriptor. */
const withProc = () => true;

const warnings: string[] = [];
const warn = (message: string) => void warnings.push(message);
beforeEach(() => void warnings.splice(0));

describe("the program's environment, as runc prepares it", () => {
  test.each([
    [0, '/root'],
    [1, '/usr/sbin'],
    [65534, '/nonexistent'],
    [7, ''],
    [42, '/plus'],
    [1000, undefined],
  ])('passwdHome(uid %i) = %j: the first entry with that uid, its sixth field', (uid, home) => {
    expect(passwdHome(PASSWD, uid)).toBe(home);
  });

  test.each([
    ['spaces, tabs and a carriage return', 'u:x:5:0::/h \t\r', '/h'],
    ['NEL (U+0085), which unicode.IsSpace takes', 'u:x:5:0::/h\u0085', '/h'],
    ['no-break and ideographic spaces', '\u00a0u:x:5:0::/h\u00a0\u3000', '/h'],
    ['line and paragraph separators', 'u:x:5:0::/h\u2028\u2029', '/h'],
    ['a byte order mark (U+FEFF), which is no space to Go: kept', 'u:x:5:0::/h\ufeff', '/h\ufeff'],
    ['a zero-width space (U+200B): kept', 'u:x:5:0::/h\u200b', '/h\u200b'],
    ['the Mongolian vowel separator (U+180E): kept', 'u:x:5:0::/h\u180e', '/h\u180e'],
    ['white space inside the home: kept', 'u:x:5:0::/a b\u00a0c', '/a b\u00a0c'],
    ['a uid field ending the line, with NEL after it', 'u:x:5\u0085', ''],
  ])("passwdHome trims each line's ends as runc's parser does (Go's bytes.TrimSpace): %s", (_name, line, home) => {
    expect(passwdHome(`${line}\n`, 5)).toBe(home);
  });

  test.each<[string[], string[]]>([
    [[], ['HOME=/h']],
    [['PATH=/bin', 'A=1'], ['PATH=/bin', 'A=1', 'HOME=/h']],
    [['HOME=/x', 'PATH=/bin'], ['HOME=/x', 'PATH=/bin']],
    [['HOME=', 'PATH=/bin'], ['PATH=/bin', 'HOME=/h']],
    [['HOME=/x', 'HOME='], ['HOME=/h']],
    [['HOME=', 'HOME=/x'], ['HOME=/x']],
    [['A=1', 'B=2', 'A=3'], ['B=2', 'A=3', 'HOME=/h']],
    [['HOMEDIR=/d'], ['HOMEDIR=/d', 'HOME=/h']],
  ])('execEnv(%j): each name once, its last entry where it last appears; HOME added when no non-empty one is given', (env, expected) => {
    expect(execEnv(env, () => '/h')).toEqual(expected);
  });

  test('the passwd file is read only when HOME is needed', () => {
    const home = jest.fn(() => '/h');
    execEnv(['HOME=/x'], home);
    expect(home).not.toHaveBeenCalled();
  });

  test("homeOf opens the container's /etc/passwd O_PATH, checks it, and reads it through that descriptor; a missing one, or a missing entry, gives /", () => {
    const sys = container().addFile('/etc/passwd', PASSWD);
    expect(homeOf(sys, 0, warn, withProc)).toBe('/root');
    expect(sys.calls).toEqual([
      { op: 'open', path: '/etc/passwd', flags: O_PATH | O_CLOEXEC, mode: 0 },
      { op: 'fstat', fd: 100 },
      { op: 'readFile', path: '/proc/thread-self/fd/100' },
      { op: 'close', fd: 100 },
    ]);
    expect(homeOf(sys, 1000, warn, withProc)).toBe(DEFAULT_HOME);
    expect(homeOf(container(), 0, warn, withProc)).toBe(DEFAULT_HOME);
    expect(homeOf(container().addFile('/etc', 'not a directory'), 0, warn, withProc)).toBe(DEFAULT_HOME);
    expect(sys.openFds()).toEqual([]);
    // A missing file is no surprise: nothing is told.
    expect(warnings).toEqual([]);
  });

  test('only a regular file of a sane size is read: a device (or a FIFO) there is not opened for real, a huge file not read; a link inside the root is followed', () => {
    const device = container().addDevice('/etc/passwd', 'char', 10, 130);
    expect(homeOf(device, 0, warn, withProc)).toBe(DEFAULT_HOME);
    expect(device.callsOf('readFile')).toEqual([]);
    const huge = container().addFile('/etc/passwd', 'x'.repeat(PASSWD_MAX_BYTES + 1));
    expect(homeOf(huge, 0, warn, withProc)).toBe(DEFAULT_HOME);
    expect(huge.callsOf('readFile')).toEqual([]);
    const linked = container().addFile('/usr/lib/passwd', PASSWD).addSymlink('/etc/passwd', '../usr/lib/passwd');
    expect(homeOf(linked, 1, warn, withProc)).toBe('/usr/sbin');
  });

  test("without a procfs at the container's /proc, the file checked is read by its path again (an image's /proc/thread-self/fd/N could be anything)", () => {
    const sys = container().addFile('/etc/passwd', PASSWD);
    expect(homeOf(sys, 0, warn, () => false)).toBe('/root');
    expect(sys.callsOf('readFile')).toEqual([{ op: 'readFile', path: '/etc/passwd' }]);
  });

  test('a file a call refuses gives the default, as under runc; the descriptor is closed', () => {
    const sys = container().addFile('/etc/passwd', PASSWD).failOn('readFile', 'EACCES');
    expect(homeOf(sys, 0, warn, withProc)).toBe(DEFAULT_HOME);
    expect(sys.openFds()).toEqual([]);
    expect(homeOf(container().failOn('open', 'ELOOP'), 0, warn, withProc)).toBe(DEFAULT_HOME);
    expect(warnings).toEqual(['HOME=/: /etc/passwd cannot be read (readFile "/etc/passwd": EACCES)', 'HOME=/: /etc/passwd cannot be read (open "/etc/passwd": ELOOP)']);
  });
});
