import 'reflect-metadata';
import { AT_EMPTY_PATH, AT_RECURSIVE, MOUNT_ATTR_NOSUID, MS_NODEV, MS_NOEXEC, MS_NOSUID, MS_PRIVATE, MS_REC, MS_SHARED } from '../../../src/core/constants';
import { silentLogger } from '../../../src/core/logger';
import { Orchestrator } from '../../../src/core/orchestrator';
import { FakeSyscalls } from '../../../src/core/syscalls/fake';
import { MqueueMountHandler } from '../../../src/plugins/mqueue';
import { makeConfig, makeMount } from '../../helpers/config';
import { changes, fdOf, viaFd } from '../../helpers/fd';

const FLAGS = MS_NOSUID | MS_NODEV | MS_NOEXEC;
const LABEL = 'system_u:object_r:container_file_t:s0:c1,c2';
const T = '/r/dev/mqueue';

function setup(opts: { selinux?: boolean; mountLabel?: string } = {}) {
  const sys = new FakeSyscalls();
  sys.addDir('/r/dev');
  if (opts.selinux) sys.addSelinuxfs();
  const run = (over: Partial<Parameters<typeof makeMount>[0]> = {}) =>
    new Orchestrator(sys, silentLogger, [new MqueueMountHandler(sys)], []).run(
      makeConfig({
        rootfs: '/r',
        mountLabel: opts.mountLabel ?? '',
        mounts: [makeMount({ type: 'mqueue', source: 'mqueue', destination: '/dev/mqueue', flags: FLAGS, ...over })],
      }),
      { checkClaims: false },
    );
  return { sys, run };
}

const mountCall = (sys: FakeSyscalls, data: string | null) => ({ op: 'mount', source: 'mqueue', target: viaFd(sys, T), fstype: 'mqueue', flags: FLAGS, data });
const propagationCall = (sys: FakeSyscalls, flags: bigint) => ({ op: 'mount', source: null, target: viaFd(sys, T), fstype: null, flags, data: null });
const mkdirCall = (sys: FakeSyscalls) => ({ op: 'mkdirat', dirfd: fdOf(sys, '/r/dev'), path: 'mqueue', mode: 0o755 });
const setattrCall = (sys: FakeSyscalls) => ({
  op: 'mountSetattr',
  dirfd: fdOf(sys, T),
  path: '',
  atFlags: AT_EMPTY_PATH | AT_RECURSIVE,
  attrSet: MOUNT_ATTR_NOSUID,
  attrClr: 0n,
  propagation: 0n,
});

describe('mqueue mount handler without SELinux', () => {
  test('creates the target and mounts once, a config label notwithstanding', () => {
    const { sys, run } = setup({ mountLabel: LABEL });
    run();
    expect(changes(sys)).toEqual([mkdirCall(sys), mountCall(sys, null)]);
  });

  test('propagation flags follow, one call each, in order, then recursive attributes', () => {
    const { sys, run } = setup();
    sys.addDir(T);
    run({ propagationFlags: [MS_PRIVATE, MS_SHARED | MS_REC], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } });
    expect(changes(sys)).toEqual([
      mountCall(sys, null),
      propagationCall(sys, MS_PRIVATE),
      propagationCall(sys, MS_SHARED | MS_REC),
      setattrCall(sys),
    ]);
  });

  test('a symlinked destination resolves inside the rootfs', () => {
    const { sys, run } = setup();
    sys.addSymlink(T, '/../../../run/mq');
    run();
    expect(sys.mounts.map((m) => m.target)).toEqual(['/r/run/mq']);
    expect(sys.node('/run/mq')).toBeUndefined();
  });

  test('a failing mount is not retried', () => {
    const { sys, run } = setup({ mountLabel: LABEL });
    sys.failOn('mount', 'EINVAL');
    expect(() => run()).toThrow(`mounts: plugin mqueue mounts[0] "/dev/mqueue": mount "mqueue" -> "${T}": EINVAL`);
    expect(sys.callsOf('mount')).toHaveLength(1);
  });

  test.each([
    ['mkdirat', 'mkdirat', {}, `mkdirat "${T}": EACCES`],
    ['propagation call', 'mount', { nth: 2 }, `mount "${T}": EACCES`],
    ['mountSetattr', 'mountSetattr', {}, `mount_setattr "${T}": EACCES`],
  ] as const)('a failing %s is a PluginError naming mount, destination and syscall', (_what, op, opts, message) => {
    const { sys, run } = setup();
    sys.failOn(op, 'EACCES', opts);
    expect(() => run({ propagationFlags: [MS_PRIVATE], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } })).toThrow(
      `mounts: plugin mqueue mounts[0] "/dev/mqueue": ${message}`,
    );
  });
});

describe('mqueue mount handler with SELinux', () => {
  test('mounted without the label, then its root labelled, as runc 1.1.5 labels it', () => {
    const { sys, run } = setup({ selinux: true, mountLabel: LABEL });
    run({ data: 'x=1', propagationFlags: [MS_PRIVATE], recAttrs: { attrSet: MOUNT_ATTR_NOSUID, attrClr: 0n } });
    expect(changes(sys)).toEqual([
      mkdirCall(sys),
      mountCall(sys, 'x=1'),
      propagationCall(sys, MS_PRIVATE),
      { op: 'lsetxattr', path: T, name: 'security.selinux', value: LABEL },
      setattrCall(sys),
    ]);
    expect(sys.callsOf('open').filter((c) => c.path === '/sys/fs/selinux')).toHaveLength(1);
    expect(sys.openFds()).toEqual([]);
  });

  test('without a mount label nothing is labelled, and SELinux not asked', () => {
    const { sys, run } = setup({ selinux: true });
    run();
    expect(changes(sys)).toEqual([mkdirCall(sys), mountCall(sys, null)]);
    expect(sys.callsOf('open').filter((c) => c.path === '/sys/fs/selinux')).toEqual([]);
  });

  test('a failing mount is not retried, and nothing is labelled', () => {
    const { sys, run } = setup({ selinux: true, mountLabel: LABEL });
    sys.failOn('mount', 'EPERM');
    expect(() => run()).toThrow(`mounts: plugin mqueue mounts[0] "/dev/mqueue": mount "mqueue" -> "${T}": EPERM`);
    expect(sys.callsOf('mount').map((c) => c.data)).toEqual([null]);
    expect(sys.callsOf('lsetxattr')).toEqual([]);
  });

  test('a failing lsetxattr is a PluginError naming it', () => {
    const { sys, run } = setup({ selinux: true, mountLabel: LABEL });
    sys.failOn('lsetxattr', 'EOPNOTSUPP');
    expect(() => run()).toThrow(`mounts: plugin mqueue mounts[0] "/dev/mqueue": lsetxattr "${T}": EOPNOTSUPP`);
  });
});
