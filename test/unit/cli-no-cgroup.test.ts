import { deviceAccessWarning, unappliedResourcesWarning } from '../../src/cli/no-cgroup';
import type { NamespaceSpec } from '../../src/core/config/model';
import { makeConfig } from '../helpers/config';

const WARNING =
  "process.capabilities.bounding: CAP_MKNOD without a user namespace lets the container make and open any device node, the host's disks among them: " +
  "mountkit applies no device cgroup (linux.resources), where runc's allows only /dev/null, zero, full, random, urandom, tty, console, ptmx, pts/* and net/tun";

describe('deviceAccessWarning', () => {
  const sets = (bounding: string[]) => ({ bounding, effective: [], inheritable: [], permitted: bounding, ambient: [] });

  test.each<[string, string[] | undefined, NamespaceSpec[], string | undefined]>([
    ["CAP_MKNOD in the bounding set (Docker's default set), no user namespace", ['CAP_CHOWN', 'CAP_MKNOD'], [{ type: 'mount' }], WARNING],
    ['CAP_MKNOD in the bounding set, a new user namespace: mknod(2) of a device is refused there', ['CAP_MKNOD'], [{ type: 'mount' }, { type: 'user' }], undefined],
    ['CAP_MKNOD in the bounding set, a user namespace joined by path', ['CAP_MKNOD'], [{ type: 'mount' }, { type: 'user', path: '/proc/7/ns/user' }], undefined],
    ["runc spec's set, without CAP_MKNOD", ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'], [{ type: 'mount' }], undefined],
    ['a name of another case is no capability', ['cap_mknod'], [{ type: 'mount' }], undefined],
    ['no process.capabilities (a config built in code)', undefined, [{ type: 'mount' }], undefined],
  ])('%s', (_what, bounding, namespaces, expected) => {
    const config = makeConfig({ namespaces });
    const process = { ...config.process, capabilities: bounding && sets(bounding) };
    expect(deviceAccessWarning({ namespaces, process }, () => true)).toBe(expected);
  });

  test("mountkit started in a user namespace of its own (unshare --user): mknod(2) of a device is refused there too; the namespace is asked only where the config leaves it to", () => {
    const config = makeConfig({ namespaces: [{ type: 'mount' }] });
    const process = { ...config.process, capabilities: sets(['CAP_MKNOD']) };
    expect(deviceAccessWarning({ namespaces: config.namespaces, process }, () => false)).toBeUndefined();
    const asked = jest.fn(() => true);
    expect(deviceAccessWarning({ namespaces: [{ type: 'mount' }, { type: 'user' }], process }, asked)).toBeUndefined();
    expect(deviceAccessWarning({ namespaces: config.namespaces, process: config.process }, asked)).toBeUndefined();
    expect(asked).not.toHaveBeenCalled();
  });
});

describe('unappliedResourcesWarning', () => {
  test.each<[string[] | undefined, string | undefined]>([
    [undefined, undefined],
    [[], undefined],
    [
      ['linux.resources.memory', 'linux.resources.pids', 'linux.cgroupsPath'],
      'linux.resources.memory, linux.resources.pids, linux.cgroupsPath: not applied: mountkit makes no cgroup, so the container runs in the one mountkit was started in, without these limits (a runtime that embeds mountkit applies them)',
    ],
  ])('%j', (unappliedResources, expected) => expect(unappliedResourcesWarning({ unappliedResources })).toBe(expected));
});
