import { sysctlNamespace } from '../../src/core/config/sysctl';
import { ConfigError } from '../../src/core/errors';

describe('sysctlNamespace', () => {
  test.each([
    ['net.ipv4.ip_forward', 'network'],
    ['net/ipv4/conf/eth0.100/forwarding', 'network'],
    ['net.ipv4.conf.eth0/100.forwarding', 'network'],
    ['net.core.somaxconn', 'network'],
    ['kernel.msgmax', 'ipc'],
    ['kernel.msgmnb', 'ipc'],
    ['kernel.msgmni', 'ipc'],
    ['kernel.sem', 'ipc'],
    ['kernel.shmall', 'ipc'],
    ['kernel.shmmax', 'ipc'],
    ['kernel/shmmni', 'ipc'],
    ['kernel.shm_rmid_forced', 'ipc'],
    ['fs.mqueue.msg_max', 'ipc'],
    ['fs/mqueue/queues_max', 'ipc'],
    ['kernel.hostname', 'uts'],
    ['kernel.domainname', 'uts'],
    // As runc's validator has them: mixed separators and empty names after net., fs.mqueue.
    ['net/ipv4.ip_forward', 'network'],
    ['net.ipv4/ip_forward', 'network'],
    ['net..ipv4.ip_forward', 'network'],
    ['net.ipv4.ip_forward.', 'network'],
    ['fs.mqueue..msg_max', 'ipc'],
    ['kernel/shmmni', 'ipc'],
    // The limits per user namespace (kernel/ucount.c), as runc 1.4 and later read "user.".
    ['user.max_user_namespaces', 'user'],
    ['user/max_mnt_namespaces', 'user'],
    ['user.max_inotify_watches', 'user'],
    ['user.max_fanotify_marks', 'user'],
    ['user..max_user_namespaces', 'user'],
  ])('%s is isolated by the %s namespace', (key, type) => {
    expect(sysctlNamespace(key)).toBe(type);
  });

  test.each([
    'kernel.panic',
    'kernel.ostype',
    'kernel.osrelease',
    'kernel.core_pattern',
    'kernel.msgmax.x',
    'kernel',
    'kernel.shm',
    'vm.swappiness',
    'fs.mqueue',
    'fs.file-max',
    'netfilter.x',
    'dev.tty.ldisc_autoload',
    'user',
    'User.max_user_namespaces',
    'Net.ipv4.ip_forward',
    // runc's validator refuses these too: the names as sysctl(8) reads them, the empty ones kept.
    'kernel..shmmni',
    'kernel.shmmni.',
    'kernel/shmmni/',
    'kernel.domainname.',
    'fs..mqueue.msg_max',
    'fs/mqueue.msg_max',
    'fs.mqueue/msg_max',
  ])('%s is global', (key) => {
    expect(sysctlNamespace(key)).toBeUndefined();
  });

  test('a key leaving /proc/sys is a ConfigError, not a classification', () => {
    expect(() => sysctlNamespace('net/../kernel/panic')).toThrow(ConfigError);
    expect(() => sysctlNamespace('net/../kernel/panic')).toThrow('linux.sysctl "net/../kernel/panic": must name a file below /proc/sys: no ".." component');
    expect(() => sysctlNamespace('/net/ipv4/ip_forward')).toThrow('linux.sysctl "/net/ipv4/ip_forward": must name a file below /proc/sys: it starts with "/", not a name');
  });
});
