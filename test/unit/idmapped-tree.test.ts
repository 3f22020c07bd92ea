/** The idmapped copies of bind sources (core/idmapped-tree.ts): the first process's request and copy, on the fake. */
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, CLONE_NEWNS, MOUNT_ATTR_IDMAP, MS_BIND, MS_REC, O_CLOEXEC, O_DIRECTORY, O_PATH, O_RDONLY, OPEN_TREE_CLONE } from '../../src/core/constants';
import { CLONE_FS } from '../../src/core/namespaces';
import { idmapCopyRequest, sendIdmappedCopy } from '../../src/core/idmapped-tree';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { makeConfig, makeMount } from '../helpers/config';

const OWN = [{ containerID: 0, hostID: 101000, size: 1 }];
const config = makeConfig({
  mounts: [
    makeMount({ index: 0, type: 'tmpfs', destination: '/tmp' }),
    makeMount({ index: 1, type: 'bind', source: '/srv/a', destination: '/a', flags: MS_BIND, idmap: { recursive: false } }),
    makeMount({ index: 2, type: 'bind', source: '/srv/b', destination: '/b', flags: MS_BIND | MS_REC, idmap: { recursive: true, uidMappings: OWN, gidMappings: OWN } }),
  ],
});

describe('idmapCopyRequest', () => {
  test("an idmapped bind of the config: its source, how it is copied and mapped, and the mount's own mappings if it has them", () => {
    expect(idmapCopyRequest(config, 1)).toEqual({ mount: 1, source: '/srv/a', rbind: false, recursive: false });
    expect(idmapCopyRequest(config, 2)).toEqual({ mount: 2, source: '/srv/b', rbind: true, recursive: true, mappings: { uid: OWN, gid: OWN } });
  });

  test.each([
    ['a mount that is no idmapped bind', 0, 'open_tree: EPERM (mounts[0] is no idmapped bind of the config)'],
    ['a mount the config does not have', 9, 'open_tree: EPERM (mounts[9] is no idmapped bind of the config)'],
  ])('refused: %s', (_case, index, message) => {
    expect(() => idmapCopyRequest(config, index)).toThrow(message);
  });
});

describe('sendIdmappedCopy', () => {
  /** A fake with the sources, the relaunched process 77's mount namespace, the container's user namespace open, and an idmap socket. */
  function fake() {
    const sys = new FakeSyscalls().addDir('/srv/a').addDir('/srv/b').addFile('/proc/77/ns/mnt').addFile('/proc/thread-self/ns/mnt').addFile('/proc/77/ns/user');
    const userns = sys.open('/proc/77/ns/user', O_RDONLY | O_CLOEXEC, 0);
    const [here, there] = sys.socketPair();
    return { sys: sys.clearCalls(), userns, here, there };
  }

  test("on the host: the source, the namespaces and this directory opened; then in the relaunched process's mount namespace (this thread's filesystem context its own first) the copy made and mapped with the container's user namespace; back, checked to be the source, sent tagged with its mount", () => {
    const { sys, userns, here, there } = fake();
    sendIdmappedCopy(sys, idmapCopyRequest(config, 1), 77, userns, here);
    const tree = sys.callsOf('mountSetattr')[0].dirfd;
    const [source, target, own, cwd] = sys.callsOf('open').map((_c, i) => i);
    expect([source, target, own, cwd]).toEqual([0, 1, 2, 3]);
    expect(sys.calls.map((c) => c.op)).toEqual(['open', 'fstat', 'open', 'open', 'open', 'unshare', 'setns', 'openTree', 'mountSetattr', 'setns', 'fchdir', 'fstat', 'sendFdMessage', 'close', 'close', 'close', 'close', 'close']);
    expect(sys.callsOf('open').map((c) => [c.path, c.flags])).toEqual([
      ['/srv/a', O_PATH | O_CLOEXEC],
      ['/proc/77/ns/mnt', O_RDONLY | O_CLOEXEC],
      ['/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC],
      ['.', O_PATH | O_DIRECTORY | O_CLOEXEC],
    ]);
    expect(sys.callsOf('unshare')).toEqual([{ op: 'unshare', flags: CLONE_FS }]);
    expect(sys.callsOf('setns').map((c) => c.nstype)).toEqual([CLONE_NEWNS, CLONE_NEWNS]);
    expect(sys.callsOf('openTree')[0]).toMatchObject({ dirfd: AT_FDCWD, path: '/srv/a', flags: OPEN_TREE_CLONE | O_CLOEXEC });
    expect(sys.callsOf('mountSetattr')[0]).toMatchObject({ atFlags: AT_EMPTY_PATH, attrSet: MOUNT_ATTR_IDMAP, usernsFd: userns });
    expect(sys.callsOf('sendFdMessage')).toEqual([{ op: 'sendFdMessage', socket: here, fd: tree, data: '1' }]);
    // Only the caller's descriptors are left: the container's user namespace and the socketpair.
    expect(sys.openFds()).toEqual([userns, here, there]);
    expect(sys.recvFdMessage(there)).toMatchObject({ data: '1' });
  });

  test("through the mount's own mappings: a user namespace made for them, on the host, and closed; rbind and ridmap recursive", () => {
    const { sys, userns, here, there } = fake();
    sendIdmappedCopy(sys, idmapCopyRequest(config, 2), 77, userns, here);
    const made = sys.callsOf('mountSetattr')[0].usernsFd;
    expect(sys.calls.slice(0, 3).map((c) => c.op)).toEqual(['open', 'fstat', 'userNamespace']);
    expect(made).not.toBe(userns);
    expect(sys.callsOf('openTree')[0].flags).toBe(OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
    expect(sys.callsOf('mountSetattr')[0].atFlags).toBe(AT_EMPTY_PATH | AT_RECURSIVE);
    expect(sys.openFds()).toEqual([userns, here, there]);
  });

  test('a mapping that fails names the source; the thread is back in its namespace and directory, nothing is sent, every descriptor it opened is closed', () => {
    const { sys, userns, here, there } = fake();
    sys.failOn('mountSetattr', 'EINVAL');
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1), 77, userns, here)).toThrow('mount_setattr "/srv/a": EINVAL (the filesystem may not support idmapped mounts on this kernel)');
    expect(sys.calls.slice(-6).map((c) => c.op)).toEqual(['setns', 'fchdir', 'close', 'close', 'close', 'close']);
    expect(sys.callsOf('sendFdMessage')).toEqual([]);
    expect(sys.openFds()).toEqual([userns, here, there]);
  });

  test("a copy that is not the source the host sees (another file mounted over its path in the container's namespace) is refused, as EXDEV", () => {
    const { sys, userns, here } = fake();
    sys.addDir('/srv/other');
    // The fake resolves the copy's path afresh: what the host saw at /srv/a is gone by then.
    const open = sys.open.bind(sys);
    let first = true;
    sys.open = (path, flags, mode) => {
      const fd = open(path, flags, mode);
      if (first && path === '/srv/a') {
        first = false;
        sys.rmdir('/srv/a');
        sys.addDir('/srv/a');
      }
      return fd;
    };
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1), 77, userns, here)).toThrow(
      "open_tree \"/srv/a\": EXDEV (not the source the host sees: another file is mounted over its path in the container's mount namespace)",
    );
    expect(sys.callsOf('sendFdMessage')).toEqual([]);
  });
});
