/**
 * The handover step for real, in a child process that it turns into the container's
 * program: only 0, 1 and 2 may reach that program, with close_range(2) and on a kernel
 * or seccomp filter without it (descriptors marked one by one from /proc/thread-self/fd).
 */
import { runInMountNamespace } from '../../helpers/in-namespace';
import { runAsRoot } from '../../helpers/real-run';

/** A child that leaves descriptors open without O_CLOEXEC, then hands over to a shell listing its own. */
function handover(closeRange: 'kernel' | 'ENOSYS' | 'EPERM'): { status: number | null; stdout: string; stderr: string } {
  return runInMountNamespace(`
require('reflect-metadata');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { SyscallError, errnoNumber } = require('./src/core/errors');
const { HandoverStep } = require('./src/plugins/exec');
const closeRange = ${JSON.stringify(closeRange)};
class Port extends LinuxSyscalls {
  cloexecFrom(first) {
    if (closeRange !== 'kernel') throw new SyscallError('close_range', errnoNumber(closeRange), []);
    super.cloexecFrom(first);
  }
}
const sys = new Port();
// O_RDONLY alone: these stay open across execve unless the step marks them.
const extra = [sys.open('/dev/null', 0, 0), sys.open('/', 0, 0), sys.open('/dev/null', 0, 0)];
if (extra.some((fd) => fd < 3)) throw new Error('descriptors below 3 were free: ' + extra);
const process_ = { args: ['sh', '-c', 'echo $(ls /proc/self/fd)'], env: ['PATH=/bin:/usr/bin'], cwd: '/', uid: 0, gid: 0, terminal: false };
const log = { error() {}, warn() {}, info() {}, debug() {}, child() { return log; } };
new HandoverStep(sys).run({ config: { process: process_, hooks: { prestart: [], createRuntime: [] } }, shared: new Map(), log });
`);
}

runAsRoot('exec plugin (handover) against the kernel', () => {
  test.each(['kernel', 'ENOSYS', 'EPERM'] as const)('close_range %s: the program gets only 0, 1 and 2', (closeRange) => {
    const r = handover(closeRange);
    // ls holds one descriptor of its own (the directory it lists) besides 0, 1 and 2.
    expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: '0 1 2 3\n', stderr: '' });
  });
});
