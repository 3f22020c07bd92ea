import { readSysctlKey, sysctlFiles } from '../../src/core/config/sysctl-key';
import { ConfigError } from '../../src/core/errors';

describe('sysctlFiles: runc\'s reading first (every "." and "/" separates, empty names skipped), then sysctl(8)\'s where it differs', () => {
  test.each<[string, string[]]>([
    // One kind of separator: both readings agree.
    ['net.ipv4.ip_forward', ['/proc/sys/net/ipv4/ip_forward']],
    ['net/ipv4/ip_forward', ['/proc/sys/net/ipv4/ip_forward']],
    ['kernel.hostname', ['/proc/sys/kernel/hostname']],
    ['kernel/hostname', ['/proc/sys/kernel/hostname']],
    ['fs.mqueue.msg_max', ['/proc/sys/fs/mqueue/msg_max']],
    ['dev', ['/proc/sys/dev']],
    // Empty names and trailing separators: runc 1.1.5 cleans them away, so does the kernel's lookup in between.
    ['net..ipv4.ip_forward', ['/proc/sys/net/ipv4/ip_forward']],
    ['net//ipv4//ip_forward', ['/proc/sys/net/ipv4/ip_forward']],
    ['net.ipv4.ip_forward.', ['/proc/sys/net/ipv4/ip_forward']],
    ['net/ipv4/ip_forward/', ['/proc/sys/net/ipv4/ip_forward']],
    ['fs.mqueue..msg_max', ['/proc/sys/fs/mqueue/msg_max']],
    // "." names: the same directory in either reading.
    ['net/./ipv4/ip_forward', ['/proc/sys/net/ipv4/ip_forward']],
    ['net.ipv4./.ip_forward', ['/proc/sys/net/ipv4/ip_forward']],
    // Mixed separators: runc's file, then sysctl(8)'s (a dot in a name after a first "/", a slash for a dot after a first ".").
    ['net/ipv4.ip_forward', ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4.ip_forward']],
    ['net.ipv4/ip_forward', ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4.ip_forward']],
    ['kernel/shm.max', ['/proc/sys/kernel/shm/max', '/proc/sys/kernel/shm.max']],
    // A VLAN interface's name: runc's reading misses it, sysctl(8)'s names it in either form.
    ['net/ipv4/conf/eth0.100/forwarding', ['/proc/sys/net/ipv4/conf/eth0/100/forwarding', '/proc/sys/net/ipv4/conf/eth0.100/forwarding']],
    ['net.ipv4.conf.eth0/100.forwarding', ['/proc/sys/net/ipv4/conf/eth0/100/forwarding', '/proc/sys/net/ipv4/conf/eth0.100/forwarding']],
    ['net.ipv6.neigh.br0/7.retrans_time_ms', ['/proc/sys/net/ipv6/neigh/br0/7/retrans_time_ms', '/proc/sys/net/ipv6/neigh/br0.7/retrans_time_ms']],
    // Fully dotted, a name's dot is a separator to both: no reading names eth0.100.
    ['net.ipv4.conf.eth0.100.forwarding', ['/proc/sys/net/ipv4/conf/eth0/100/forwarding']],
  ])('%j', (key, files) => {
    expect(sysctlFiles(key)).toEqual(files);
  });

  test('sysctl(8)\'s reading is left out when its path would be over PATH_MAX (runc\'s is not: its names are never longer)', () => {
    const key = `net/a${'.'.repeat(4100)}b`;
    expect(sysctlFiles(key)).toEqual(['/proc/sys/net/a/b']);
  });

  test('a path of 4095 bytes is taken, one of 4096 (over PATH_MAX with its NUL, ENAMETOOLONG for runc\'s open) is refused', () => {
    const name = (bytes: number) => `net/${'a'.repeat(bytes - '/proc/sys/net/'.length)}`;
    expect(sysctlFiles(name(4095))[0]).toHaveLength(4095);
    expect(() => sysctlFiles(name(4096))).toThrow(/^linux\.sysctl "net\/a+": names a path of 4096 bytes: with its NUL over PATH_MAX \(4096\)$/);
    // Bytes of UTF-8, as open(2) counts them: /proc/sys/net/ and 2041 two-byte characters are 4096.
    const wide = `net/${'é'.repeat(2041)}`;
    expect(() => sysctlFiles(wide)).toThrow(/names a path of 4096 bytes/);
    // Empty names do not count, as runc's cleaned path does not hold them.
    expect(sysctlFiles(`net${'/'.repeat(5000)}ipv4/ip_forward`)).toEqual(['/proc/sys/net/ipv4/ip_forward']);
  });

  test.each<[string, string]>([
    ['', 'is empty: it must name a file below /proc/sys'],
    ['/net/ipv4/ip_forward', 'must name a file below /proc/sys: it starts with "/", not a name'],
    ['/proc/sys/net/ipv4/ip_forward', 'must name a file below /proc/sys: it starts with "/", not a name'],
    ['.net.ipv4.ip_forward', 'must name a file below /proc/sys: it starts with ".", not a name'],
    ['.', 'must name a file below /proc/sys: it starts with ".", not a name'],
    ['..', 'must name a file below /proc/sys: it starts with ".", not a name'],
    ['../etc/passwd', 'must name a file below /proc/sys: it starts with ".", not a name'],
    ['net/../../etc/passwd', 'must name a file below /proc/sys: no ".." component'],
    ['kernel/../../etc/passwd', 'must name a file below /proc/sys: no ".." component'],
    ['net/..', 'must name a file below /proc/sys: no ".." component'],
    ['net/../ipv4/ip_forward', 'must name a file below /proc/sys: no ".." component'],
    // sysctl(8)'s reading of a dot-first key: "//" between dots is "..".
    ['net.ipv4.//.ip_forward', 'must name a file below /proc/sys: no ".." component'],
    // Between slashes in a dot-first key: no reading climbs, but the key reads as if it did.
    ['net.x/../../etc/passwd', 'must name a file below /proc/sys: no ".." component'],
    ['kernel.host\0name', 'contains a NUL byte'],
  ])('%j is refused: %s', (key, reason) => {
    let error: unknown;
    try {
      sysctlFiles(key);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ field: 'linux.sysctl', value: key, message: `linux.sysctl ${JSON.stringify(key)}: ${reason}` });
  });

  test('no key that is read leads outside /proc/sys, whatever its separators and dots', () => {
    const pieces = ['net', 'ipv4', '.', '..', '...', '/', '//', 'a.b', '', 'kernel'];
    let keys = [''];
    for (let depth = 0; depth < 4; depth++) keys = keys.flatMap((k) => pieces.map((p) => k + p));
    let read = 0;
    const outside: string[] = [];
    for (const key of keys) {
      let files: readonly string[];
      try {
        files = sysctlFiles(key);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        continue;
      }
      read++;
      for (const file of files) {
        const names = file.split('/').slice(3);
        if (!file.startsWith('/proc/sys/') || names.some((n) => n === '' || n === '.' || n === '..')) outside.push(`${key} -> ${file}`);
      }
    }
    expect(outside).toEqual([]);
    expect(read).toBeGreaterThan(1000);
  });
});

describe('readSysctlKey: names as sysctl(8) reads them, empty ones kept', () => {
  test.each<[string, string[]]>([
    ['net.ipv4.ip_forward', ['net', 'ipv4', 'ip_forward']],
    ['net/ipv4.ip_forward', ['net', 'ipv4.ip_forward']],
    ['net.ipv4/ip_forward', ['net', 'ipv4.ip_forward']],
    ['kernel..shmmni', ['kernel', '', 'shmmni']],
    ['kernel.shmmni.', ['kernel', 'shmmni', '']],
    ['net/ipv4/conf/eth0.100/forwarding', ['net', 'ipv4', 'conf', 'eth0.100', 'forwarding']],
    ['net.ipv4.conf.eth0/100.forwarding', ['net', 'ipv4', 'conf', 'eth0.100', 'forwarding']],
    ['net', ['net']],
  ])('%j', (key, names) => {
    expect(readSysctlKey(key).names).toEqual(names);
  });
});
