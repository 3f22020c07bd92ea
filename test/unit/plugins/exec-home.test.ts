import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { DEFAULT_HOME, PASSWD_MAX_BYTES, hasHome, homeOf, passwdHome, withHome } from '../../../src/plugins/exec/home';

const PASSWD = ['root:x:0:0:root:/root:/bin/sh', '', '  daemon:x:1:1::/usr/sbin:/usr/sbin/nologin', 'nobody:x:65534:65534:nobody:/nonexistent:', 'dup:x:1:1::/second:', 'short:x:7', 'odd:x:notanumber:0::/odd:', 'plus:x:+42:0::/plus:'].join('\n');

describe('HOME, as runc sets it', () => {
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
    [[], false],
    [['PATH=/bin'], false],
    [['HOME='], false],
    [['HOME=/h'], true],
    [['HOME=', 'HOME=/h'], false],
    [['HOMEDIR=/h'], false],
  ])('hasHome(%j) = %s', (env, has) => {
    expect(hasHome(env)).toBe(has);
  });

  test('withHome adds HOME last, or gives an empty one its value where it stands', () => {
    expect(withHome(['PATH=/bin'], '/root')).toEqual(['PATH=/bin', 'HOME=/root']);
    expect(withHome(['HOME=', 'PATH=/bin'], '/')).toEqual(['HOME=/', 'PATH=/bin']);
  });

  test("homeOf reads the container's /etc/passwd after a stat; a missing one, or a missing entry, gives /", () => {
    const sys = new FakeSyscalls().addFile('/etc/passwd', PASSWD);
    expect(homeOf(sys, 0)).toBe('/root');
    expect(sys.calls).toEqual([
      { op: 'stat', path: '/etc/passwd' },
      { op: 'readFile', path: '/etc/passwd' },
    ]);
    expect(homeOf(sys, 1000)).toBe(DEFAULT_HOME);
    expect(homeOf(new FakeSyscalls(), 0)).toBe(DEFAULT_HOME);
    expect(homeOf(new FakeSyscalls().addFile('/etc', 'not a directory'), 0)).toBe(DEFAULT_HOME);
  });

  test('only a regular file of a sane size is read: a device (or a FIFO) there is not opened, a huge file not read', () => {
    const device = new FakeSyscalls().addDevice('/etc/passwd', 'char', 10, 130);
    expect(homeOf(device, 0)).toBe(DEFAULT_HOME);
    expect(device.callsOf('readFile')).toEqual([]);
    const huge = new FakeSyscalls().addFile('/etc/passwd', 'x'.repeat(PASSWD_MAX_BYTES + 1));
    expect(homeOf(huge, 0)).toBe(DEFAULT_HOME);
    expect(huge.callsOf('readFile')).toEqual([]);
    const linked = new FakeSyscalls().addFile('/usr/lib/passwd', PASSWD).addSymlink('/etc/passwd', '../usr/lib/passwd');
    expect(homeOf(linked, 1)).toBe('/usr/sbin');
  });

  test('any other failure names the file', () => {
    const sys = new FakeSyscalls().addFile('/etc/passwd', PASSWD).failOn('readFile', 'EACCES');
    expect(() => homeOf(sys, 0)).toThrow('HOME from /etc/passwd: readFile "/etc/passwd": EACCES');
    const stat = new FakeSyscalls().failOn('stat', 'EIO');
    expect(() => homeOf(stat, 0)).toThrow('HOME from /etc/passwd: stat "/etc/passwd": EIO');
  });
});
