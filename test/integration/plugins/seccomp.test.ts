/**
 * linux.seccomp for real: the exec plugin builds the filter with the machine's libseccomp
 * and loads it with seccomp(2) in a child that then hands over or makes syscalls; what
 * the kernel answers (errnos, ENOSYS from the stub, /proc/self/status) is checked.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'fs';
import { tmpdir } from 'os';
import * as path from 'path';
import { runInMountNamespace } from '../../helpers/in-namespace';
import { runAsRoot } from '../../helpers/real-run';
import { startSeccompAgent, type SeccompAgent } from '../../helpers/seccomp-agent';

/** The exec plugin's two steps on the real port with `seccomp` (a SeccompSpec as JavaScript source), handing over to `sh -c script`. */
function handover(seccomp: string, script: string, noNewPrivileges = false) {
  return runInMountNamespace(`
require('reflect-metadata');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { silentLogger } = require('./src/core/logger');
const { Orchestrator } = require('./src/core/orchestrator');
const { HandoverStep, SeccompStep } = require('./src/plugins/exec');
const { makeConfig } = require('./test/helpers/config');
const sys = new LinuxSyscalls();
const config = makeConfig({
  process: { args: ['sh', '-c', ${JSON.stringify(script)}], env: ['PATH=/bin:/usr/bin'], cwd: '/', uid: 0, gid: 0, terminal: false, noNewPrivileges: ${noNewPrivileges} },
  seccomp: ${seccomp},
});
new Orchestrator(sys, silentLogger, [], [new SeccompStep(sys), new HandoverStep(sys)]).run(config, { checkClaims: false });
`);
}

/**
 * A child that builds (SeccompStep) and loads (loadSeccomp) a filter allowing every
 * x86_64 syscall numbered below 400 but getppid (the profile's largest is then 399), and
 * reports what the kernel answers. The stub's x32 branch is left to the unit tests: x32
 * is off in most kernels.
 */
function probeSyscalls(defaultAction: string, architectures = ['SCMP_ARCH_X86_64']) {
  return runInMountNamespace(`
require('reflect-metadata');
const koffi = require('koffi');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const { errnoName } = require('./src/core/errors');
const { silentLogger } = require('./src/core/logger');
const { SeccompStep } = require('./src/plugins/exec');
const { loadSeccomp } = require('./src/plugins/exec/seccomp');
const { makeConfig } = require('./test/helpers/config');
const nameOf = koffi.load('libseccomp.so.2').func('const char *seccomp_syscall_resolve_num_arch(uint32_t arch, int num)');
const names = [];
for (let nr = 0; nr < 400; nr++) {
  const name = nameOf(0, nr);
  if (name && name !== 'getppid') names.push(name);
}
const sys = new LinuxSyscalls();
const ctx = { config: makeConfig({ seccomp: { defaultAction: ${JSON.stringify(defaultAction)}, architectures: ${JSON.stringify(architectures)}, syscalls: [{ names, action: 'SCMP_ACT_ALLOW', args: [] }] } }), log: silentLogger, shared: new Map() };
new SeccompStep(sys).run(ctx);
sys.setNoNewPrivs();
loadSeccomp(sys, ctx);
const syscall = koffi.load('libc.so.6').func('long syscall(long number, ...)');
const answer = (nr) => (syscall(nr, 'long', 0, 'long', 0) < 0 ? errnoName(koffi.errno()) : 'ok');
const status = require('fs').readFileSync('/proc/self/status', 'utf8').split('\\n').filter((l) => l.startsWith('Seccomp'));
process.stdout.write(JSON.stringify({ getpid: answer(39), getppid: answer(110), clone3: answer(435), status }));
`);
}

runAsRoot('seccomp: the exec plugin against the kernel', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'mountkit-seccomp-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('a rule with an argument comparison: mkdir with any mode but 0700 gets EACCES, 0700 passes; the process runs under one filter', () => {
    const seccomp = `{
      defaultAction: 'SCMP_ACT_ALLOW',
      architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
      syscalls: [
        { names: ['mkdir'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 1, value: 0o700n, valueTwo: 0n, op: 'SCMP_CMP_NE' }] },
        // mkdirat(2) takes the mode third.
        { names: ['mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13, args: [{ index: 2, value: 0o700n, valueTwo: 0n, op: 'SCMP_CMP_NE' }] },
      ],
    }`;
    const script = `grep -E '^Seccomp' /proc/self/status; mkdir ${dir}/denied 2>/dev/null || echo denied; mkdir -m 700 ${dir}/allowed && echo allowed`;
    for (const nnp of [false, true]) {
      const r = handover(seccomp, script, nnp);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ status: 0, stdout: 'Seccomp:\t2\nSeccomp_filters:\t1\ndenied\nallowed\n', stderr: '' });
      expect(statSync(path.join(dir, 'allowed')).mode & 0o777).toBe(0o700);
      rmSync(path.join(dir, 'allowed'), { recursive: true });
    }
  });

  test('SCMP_ACT_KILL_PROCESS: the process is killed by SIGSYS at the denied call', () => {
    const r = handover(`{ defaultAction: 'SCMP_ACT_ALLOW', architectures: [], syscalls: [{ names: ['uname'], action: 'SCMP_ACT_KILL_PROCESS', args: [] }] }`, 'uname; echo "uname: $?"; exec uname');
    // The shell's child dies of SIGSYS (31, status 128 + 31), then the shell itself, which exec'd it.
    expect({ status: r.status, signal: r.signal, stdout: r.stdout }).toEqual({ status: null, signal: 'SIGSYS', stdout: 'uname: 159\n' });
  });

  // A Node process and a Python agent started for one test: more than jest's 5 s on a loaded 2-core machine (it timed out twice).
  test('SCMP_ACT_NOTIFY: the agent at listenerPath gets the listener and the process state from outside the filter, and its answer is what the container sees', async () => {
    const socket = path.join(dir, 'agent.sock');
    const report = path.join(dir, 'report.json');
    const EXDEV = 18;
    let agent: SeccompAgent | undefined;
    try {
      agent = await startSeccompAgent(socket, report, EXDEV);
      // sendmsg refused: the listener goes from a thread outside the filter, as from runc's parent process.
      const seccomp = `{ defaultAction: 'SCMP_ACT_ALLOW', architectures: [], listenerPath: ${JSON.stringify(socket)}, listenerMetadata: 'probe', syscalls: [
        { names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_NOTIFY', args: [] },
        { names: ['sendmsg'], action: 'SCMP_ACT_ERRNO', args: [] },
      ] }`;
      const r = handover(seccomp, `mkdir ${dir}/by-agent; echo "mkdir $?"; ls /proc/self/fd`);
      expect({ status: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({
        status: 0,
        // ls holds one descriptor of its own (the directory it lists): neither the listener nor the socket reached the container.
        stdout: 'mkdir 1\n0\n1\n2\n3\n',
        stderr: `mkdir: cannot create directory '${dir}/by-agent': Invalid cross-device link\n`,
      });
      expect(await agent.exited).toBe(0);
    } finally {
      agent?.kill();
    }
    const seen = JSON.parse(readFileSync(report, 'utf8'));
    expect(seen).toMatchObject({ fds: 1, listener: 'anon_inode:seccomp notify', state: { ociVersion: '1.1.0', fds: ['seccompFd'], metadata: 'probe', state: { status: 'creating' } } });
    expect(seen.state.pid).toBe(seen.state.state.pid);
    expect(seen.state.pid).toBeGreaterThan(1);
    // The notification is busybox's mkdir(2) or mkdirat(2): x86_64's 83 and 258, arm64's 34.
    expect(process.arch === 'x64' ? [83, 258] : [34]).toContain(seen.nr);
  }, 30_000);

  test('the listener\'s sender thread ends when the run closes its socket before the send (a run that failed)', () => {
    const socket = path.join(dir, 'agent.sock');
    const r = runInMountNamespace(`
const net = require('net');
const fs = require('fs');
const { LinuxSyscalls } = require('./src/core/syscalls/linux');
const tasks = () => fs.readdirSync('/proc/self/task').length;
net.createServer(() => undefined).listen(${JSON.stringify(socket)}, () => {
  const sys = new LinuxSyscalls();
  const before = tasks();
  const fd = sys.connectUnix(${JSON.stringify(socket)});
  sys.startFdSender(fd, '{}');
  const during = tasks();
  sys.close(fd);
  const deadline = Date.now() + 5000;
  const check = () => {
    const after = tasks();
    if (after === before || Date.now() > deadline) {
      process.stdout.write(JSON.stringify({ started: during - before, ended: before - after === 0 }));
      process.exit(0);
    }
    setTimeout(check, 10);
  };
  check();
});
`);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(JSON.parse(r.stdout)).toEqual({ started: 1, ended: true });
  });

  (process.arch === 'x64' ? test : test.skip)('the ENOSYS stub: an unlisted syscall older than the largest listed gets the default action, a newer one ENOSYS; with a default action that allows, or on an architecture the profile does not list, no stub', () => {
    const errno = probeSyscalls('SCMP_ACT_ERRNO');
    expect(errno.stderr).toBe('');
    const out = JSON.parse(errno.stdout);
    expect(out).toEqual({ getpid: 'ok', getppid: 'EPERM', clone3: 'ENOSYS', status: ['Seccomp:\t2', 'Seccomp_filters:\t1'] });
    // An architecture the profile does not list gets no stub, the native one included, as under runc.
    expect(JSON.parse(probeSyscalls('SCMP_ACT_ERRNO', []).stdout)).toMatchObject({ getppid: 'EPERM', clone3: 'EPERM' });
    // clone3 without arguments (a NULL struct) answers EFAULT or EINVAL when the filter lets it through.
    const allow = JSON.parse(probeSyscalls('SCMP_ACT_ALLOW').stdout);
    expect(allow.getppid).toBe('ok');
    expect(['EFAULT', 'EINVAL']).toContain(allow.clone3);
  });
});
