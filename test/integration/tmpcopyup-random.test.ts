/**
 * The port's getrandom(2), which every kernel from 3.17 on has, unlike
 * /proc/sys/kernel/random/uuid, which a kernel built without CONFIG_PROC_SYSCTL does not;
 * and tmpcopyup, which once named a staging directory in /tmp with it, needing neither
 * now. Needs root for the real runs.
 */
import { spawnSync } from 'child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'fs';
import * as path from 'path';
import { GRND_NONBLOCK, RANDOM_UUID_FILE } from '../../src/core/constants';
import { SyscallError } from '../../src/core/errors';
import { LinuxSyscalls } from '../../src/core/syscalls/linux';
import { makeConfig, makeMount } from '../helpers/config';
import { REPO } from '../helpers/cli';
import { mountsAt, realRun, runAsRoot, tempRootfs } from '../helpers/real-run';

const TMPFS_PLUGIN = path.resolve(__dirname, '../../src/plugins/tmpfs');
/** Runs its arguments under a seccomp filter answering getrandom(2) with the errno its first argument names. */
const WITHOUT_GETRANDOM = path.join(__dirname, '..', 'helpers', 'without-getrandom.js');

/** What mountkit's runs left in the host's /tmp (tmpcopyup once staged its tmpfs there; it must leave nothing). */
function leftInTmp(): string[] {
  return readdirSync('/tmp').filter((name) => name.startsWith('.mountkit-'));
}

describe('LinuxSyscalls.getrandom', () => {
  test('gives the bytes asked for, others at each call; a flag the kernel does not know is EINVAL, named', () => {
    const sys = new LinuxSyscalls();
    const a = sys.getrandom(16, GRND_NONBLOCK);
    const b = sys.getrandom(16, GRND_NONBLOCK);
    expect(a).toBeInstanceOf(Uint8Array);
    expect(a).toHaveLength(16);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(sys.getrandom(0, 0)).toHaveLength(0);
    // More than one read of 256 bytes may give: the port reads until all are there.
    expect(sys.getrandom(100_000, 0)).toHaveLength(100_000);
    let err: unknown;
    try {
      sys.getrandom(16, 0x8);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SyscallError);
    expect((err as SyscallError).message).toBe('getrandom: EINVAL');
  });

  // Why a plugin need try no other source when getrandom fails: a Node whose getrandom is
  // refused does not start, so the real port never meets that answer in a run. Should a
  // later Node start there, this fails and the choice is to be made again.
  test.each(['ENOSYS', 'EPERM'])('Node does not start where getrandom answers %s (a seccomp filter); a program that needs no getrandom does', (errno) => {
    const under = (argv: string[]) => spawnSync(process.execPath, [WITHOUT_GETRANDOM, errno, ...argv], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    const node = under([process.execPath, '-e', 'process.stdout.write("started")']);
    expect(node.stdout).toBe('');
    expect(node.status).not.toBe(0);
    expect(under(['/bin/sh', '-c', 'echo started'])).toMatchObject({ status: 0, stdout: 'started\n' });
  });
});

runAsRoot('tmpcopyup without kernel.random.uuid', () => {
  let t: ReturnType<typeof tempRootfs>;
  beforeEach(() => {
    t = tempRootfs();
  });
  afterEach(() => t.cleanup());

  // fsopen answering ENOSYS, as before Linux 5.2: the tmpfs is mounted on the target and filled there, with no name to make.
  test('a real tmpcopyup on the target copies as ever where /proc/sys/kernel/random is empty, as on a kernel without CONFIG_PROC_SYSCTL, and leaves nothing in /tmp', () => {
    const at = (p: string) => path.join(t.rootfs, p);
    mkdirSync(at('data'));
    writeFileSync(at('data/f'), 'hello');
    const before = leftInTmp();
    const r = realRun({
      config: makeConfig({ rootfs: t.rootfs, mounts: [makeMount({ index: 0, type: 'tmpfs', destination: '/data', data: 'size=1m', extensions: { tmpcopyup: true } })] }),
      plugins: [TMPFS_PLUGIN],
      // In the child's own mount namespace only: an empty tmpfs hides the sysctl directory.
      setup: `const { LinuxSyscalls } = require('./src/core/syscalls/linux'); new LinuxSyscalls().mount('tmpfs', '/proc/sys/kernel/random', 'tmpfs', 0n, 'size=4k');`,
      read: [at('data/f'), RANDOM_UUID_FILE],
      list: [at('data')],
      withoutFsopen: true,
    });
    expect(r.error).toBeUndefined();
    expect(r.read).toEqual({ [at('data/f')]: 'hello', [RANDOM_UUID_FILE]: 'ENOENT' });
    expect(r.list).toEqual({ [at('data')]: ['f'] });
    expect(mountsAt(r.mountinfo, at('data'))).toEqual([expect.objectContaining({ fstype: 'tmpfs' })]);
    expect(r.mountinfo).not.toContain('.mountkit-');
    expect(leftInTmp()).toEqual(before);
  });
});
