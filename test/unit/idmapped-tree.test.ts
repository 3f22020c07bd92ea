/** The idmapped copies of bind sources (core/idmapped-tree.ts): the first process's request and copy, on the fake. */
import { AT_EMPTY_PATH, AT_FDCWD, AT_RECURSIVE, MOUNT_ATTR_IDMAP, MS_BIND, MS_REC, O_CLOEXEC, O_RDONLY, OPEN_TREE_CLONE } from '../../src/core/constants';
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
  test("an idmapped bind of the config: its source, how it is copied and mapped, and the relaunched process's user namespace, or the mount's own mappings", () => {
    expect(idmapCopyRequest(config, 1, 77)).toEqual({ mount: 1, source: '/srv/a', rbind: false, recursive: false, userns: '/proc/77/ns/user' });
    expect(idmapCopyRequest(config, 2, 77)).toEqual({ mount: 2, source: '/srv/b', rbind: true, recursive: true, mappings: { uid: OWN, gid: OWN }, userns: '/proc/77/ns/user' });
  });

  test.each([
    ['a mount that is no idmapped bind', 0, 77, 'open_tree: EPERM (mounts[0] is no idmapped bind of the config)'],
    ['a mount the config does not have', 9, 77, 'open_tree: EPERM (mounts[9] is no idmapped bind of the config)'],
    ['a relaunched process that is gone', 1, undefined, 'open_tree: ESRCH (the relaunched process is gone)'],
  ])('refused: %s', (_case, index, pid, message) => {
    expect(() => idmapCopyRequest(config, index, pid)).toThrow(message);
  });
});

describe('sendIdmappedCopy', () => {
  function fake() {
    const sys = new FakeSyscalls().addDir('/srv/a').addDir('/srv/b').addFile('/proc/77/ns/user');
    const [here, there] = sys.socketPair();
    return { sys: sys.clearCalls(), here, there };
  }

  test("through the relaunched process's user namespace: opened, the copy made, mapped, sent tagged with the mount, both closed", () => {
    const { sys, here, there } = fake();
    sendIdmappedCopy(sys, idmapCopyRequest(config, 1, 77), here);
    const [userns, tree] = [sys.callsOf('mountSetattr')[0].usernsFd, sys.callsOf('mountSetattr')[0].dirfd];
    expect(sys.calls).toEqual([
      { op: 'open', path: '/proc/77/ns/user', flags: O_RDONLY | O_CLOEXEC, mode: 0 },
      { op: 'openTree', dirfd: AT_FDCWD, path: '/srv/a', flags: OPEN_TREE_CLONE | O_CLOEXEC },
      { op: 'mountSetattr', dirfd: tree, path: '', atFlags: AT_EMPTY_PATH, attrSet: MOUNT_ATTR_IDMAP, attrClr: 0n, propagation: 0n, usernsFd: userns },
      { op: 'sendFdMessage', socket: here, fd: tree, data: '1' },
      { op: 'close', fd: tree },
      { op: 'close', fd: userns },
    ]);
    expect(sys.recvFdMessage(there)).toMatchObject({ data: '1' });
  });

  test("through the mount's own mappings: a user namespace made for them; rbind and ridmap recursive", () => {
    const { sys, here } = fake();
    sendIdmappedCopy(sys, idmapCopyRequest(config, 2, 77), here);
    expect(sys.calls.map((c) => c.op)).toEqual(['userNamespace', 'openTree', 'mountSetattr', 'sendFdMessage', 'close', 'close']);
    expect(sys.callsOf('openTree')[0].flags).toBe(OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE);
    expect(sys.callsOf('mountSetattr')[0].atFlags).toBe(AT_EMPTY_PATH | AT_RECURSIVE);
  });

  test('a mapping that fails names the source; nothing is sent and every descriptor is closed', () => {
    const { sys, here, there } = fake();
    sys.failOn('mountSetattr', 'EINVAL');
    expect(() => sendIdmappedCopy(sys, idmapCopyRequest(config, 1, 77), here)).toThrow('mount_setattr "/srv/a": EINVAL (the filesystem may not support idmapped mounts on this kernel)');
    expect(sys.callsOf('sendFdMessage')).toEqual([]);
    expect(sys.openFds()).toEqual([here, there].sort((a, b) => a - b));
  });
});
