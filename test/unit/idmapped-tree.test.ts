/** The idmapped copies of bind sources (core/idmapped-tree.ts): the first process's request and copy, on the fake. */
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, CLONE_NEWNS, MOUNT_ATTR_IDMAP, MS_BIND, MS_REC, O_CLOEXEC, O_DIRECTORY, O_PATH, O_RDONLY, OPEN_TREE_CLONE, ST_NOSUID, ST_RDONLY } from '../../src/core/constants';
import { CLONE_FS } from '../../src/core/namespaces';
import { NamespaceNotRestoredError, idmapCopyRequest, sendIdmappedCopy } from '../../src/core/idmapped-tree';
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
  /** A fake with the sources, the relaunched process 77's pidfd and the container's user namespace open, an idmap socket; `opened` tells what each path was opened as. */
  function fake() {
    const sys = new FakeSyscalls().addDir('/srv/a').addDir('/srv/b').addFile('/proc/thread-self/ns/mnt').addFile('/proc/77/ns/user');
    const pidfd = sys.pidfdOpen(77);
    const userns = sys.open('/proc/77/ns/user', O_RDONLY | O_CLOEXEC, 0);
    const [here, there] = sys.socketPair();
    const opened = new Map<string, number>();
    const open = sys.open.bind(sys);
    sys.open = (path, flags, mode) => {
      const fd = open(path, flags, mode);
      opened.set(path, fd);
      return fd;
    };
    return { sys: sys.clearCalls(), pidfd, userns, here, there, opened };
  }

  test("on the host: the source, this thread's own namespace, root and directory opened; in the relaunched process's mount namespace, joined through its pidfd (this thread's filesystem context its own first), the copy made and mapped with the container's user namespace; back to each; checked to be the source; sent tagged with its mount", () => {
    const { sys, pidfd, userns, here, there, opened } = fake();
    sendIdmappedCopy(sys, idmapCopyRequest(config, 1), pidfd, userns, here);
    const tree = sys.callsOf('mountSetattr')[0].dirfd;
    expect(sys.calls.map((c) => c.op)).toEqual([
      ...['open', 'fstat', 'fstatfs', 'open', 'open', 'open'],
      ...['unshare', 'setns', 'openTree', 'mountSetattr', 'setns', 'fchdir', 'chroot', 'fchdir'],
      ...['fstat', 'fstatfs', 'sendFdMessage', 'close', 'close', 'close', 'close', 'close'],
    ]);
    expect(sys.callsOf('open').map((c) => [c.path, c.flags])).toEqual([
      ['/srv/a', O_PATH | O_CLOEXEC],
      ['/proc/thread-self/ns/mnt', O_RDONLY | O_CLOEXEC],
      ['/', O_PATH | O_DIRECTORY | O_CLOEXEC],
      ['.', O_PATH | O_DIRECTORY | O_CLOEXEC],
    ]);
    expect(sys.callsOf('unshare')).toEqual([{ op: 'unshare', flags: CLONE_FS }]);
    // Into the relaunched process's namespace, then back to this thread's own, its root and its directory.
    expect(sys.callsOf('setns')).toEqual([
      { op: 'setns', fd: pidfd, nstype: CLONE_NEWNS },
      { op: 'setns', fd: opened.get('/proc/thread-self/ns/mnt'), nstype: CLONE_NEWNS },
    ]);
    expect(sys.callsOf('fchdir').map((c) => c.fd)).toEqual([opened.get('/'), opened.get('.')]);
    expect(sys.callsOf('chroot')).toEqual([{ op: 'chroot', path: '.' }]);
    expect(sys.callsOf('openTree')[0]).toMatchObject({ dirfd: AT_FDCWD, path: '/srv/a', flags: OPEN_TREE_CLONE | O_CLOEXEC });
    expect(sys.callsOf('mountSetattr')[0]).toMatchObject({ atFlags: AT_EMPTY_PATH, attrSet: MOUNT_ATTR_IDMAP, usernsFd: userns });
    expect(sys.callsOf('sendFdMessage')).toEqual([{ op: 'sendFdMessage', socket: here, fd: tree, data: '1' }]);
    // Only the caller's descriptors are left: the pidfd, the container's user namespace and the socketpair.
    expect(sys.openFds()).toEqual([pidfd, userns, here, there]);
    expect(sys.recvFdMessage(there)).toMatchObject({ data: '1' });
  });

  test("through the mount's own mappings: a user namespace made for them, on the host, and closed; rbind and ridmap recursive", () => {
    const { sys, pidfd, userns, here, there } = fake();
    sendIdmappedCopy(sys, idmapCopyRequest(config, 2), pidfd, userns, here);
    const made = sys.callsOf('mountSetattr')[0].usernsFd;
    expect(sys.calls.slice(0, 4).map((c) => c.op)).toEqual(['open', 'fstat', 'fstatfs', 'userNamespace']);
    expect(made).not.toBe(userns);
    expect(sys.callsOf('openTree')[0].flags).toBe(OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
    expect(sys.callsOf('mountSetattr')[0].atFlags).toBe(AT_EMPTY_PATH | AT_RECURSIVE);
    expect(sys.openFds()).toEqual([pidfd, userns, here, there]);
  });

  test('a relaunched process that is gone: ESRCH, nothing opened', () => {
    const { sys, userns, here } = fake();
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1), undefined, userns, here)).toThrow('open_tree: ESRCH (the relaunched process is gone)');
    expect(sys.calls).toEqual([]);
  });

  test('a mapping that fails names the source; the thread is back in its namespace, root and directory; nothing is sent; every descriptor it opened is closed', () => {
    const { sys, pidfd, userns, here, there, opened } = fake();
    sys.failOn('mountSetattr', 'EINVAL');
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1), pidfd, userns, here)).toThrow('mount_setattr "/srv/a": EINVAL (the filesystem may not support idmapped mounts on this kernel, or was mounted in the user namespace that would map it)');
    expect(sys.callsOf('setns').at(-1)).toEqual({ op: 'setns', fd: opened.get('/proc/thread-self/ns/mnt'), nstype: CLONE_NEWNS });
    expect(sys.callsOf('fchdir').map((c) => c.fd)).toEqual([opened.get('/'), opened.get('.')]);
    expect(sys.callsOf('sendFdMessage')).toEqual([]);
    expect(sys.openFds()).toEqual([pidfd, userns, here, there]);
  });

  test('a way back that fails is a NamespaceNotRestoredError, for the caller to stop on', () => {
    const { sys, pidfd, userns, here } = fake();
    sys.failOn('setns', 'ENOMEM', { nth: 2 });
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1), pidfd, userns, here)).toThrow(NamespaceNotRestoredError);
    expect(sys.callsOf('sendFdMessage')).toEqual([]);
  });

  test("a copy that is not the source the host sees (another file mounted over its path in the container's namespace) is refused, as EXDEV", () => {
    const { sys, pidfd, userns, here } = fake();
    // The fake resolves the copy's path afresh: what the host saw at /srv/a is gone by then.
    const open = sys.open.bind(sys);
    sys.open = (path, flags, mode) => {
      const fd = open(path, flags, mode);
      if (path === '/srv/a') {
        sys.rmdir('/srv/a');
        sys.addDir('/srv/a');
      }
      return fd;
    };
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1), pidfd, userns, here)).toThrow(
      "open_tree \"/srv/a\": EXDEV (not the source the host sees: another file at its path in the container's mount namespace)",
    );
    expect(sys.callsOf('sendFdMessage')).toEqual([]);
  });

  test('a copy with fewer restrictions than the host mount of the source (a writable alias of a read-only one) is refused, as EXDEV', () => {
    const { sys, pidfd, userns, here } = fake();
    const fstatfs = sys.fstatfs.bind(sys);
    let calls = 0;
    // The host's source read-only and nosuid; the copy made there only nosuid.
    sys.fstatfs = (fd) => ({ ...fstatfs(fd), flags: calls++ === 0 ? ST_RDONLY | ST_NOSUID : ST_NOSUID });
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1), pidfd, userns, here)).toThrow(
      "open_tree \"/srv/a\": EXDEV (not the source the host sees: with fewer restrictions than the host mount at its path in the container's mount namespace)",
    );
    expect(sys.callsOf('sendFdMessage')).toEqual([]);
  });
});
