import { inject, injectable } from 'tsyringe';
import { ConfigError, SyscallError, naming } from '../../core/errors';
import { connectHostSocket } from '../../core/host-sockets';
import { closeKept, keptForRun } from '../../core/mounting';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import { BPF_MAXINSNS, SOCK_FILTER_SIZE, encodeProgram, enosysStub } from '../../core/seccomp/enosys';
import { seccompProfile } from '../../core/seccomp/profile';
import type { Syscalls } from '../../core/syscalls/types';
import { CONTAINER_PID_KEY, hostPid, ociState, type OciState } from '../../core/hooks';

/**
 * linux.seccomp in two parts. The filter is built first in the run (this step), while
 * the process still sees the host's filesystem: libseccomp is loaded from it, and the
 * jail hides it. The exec step loads it (loadSeccomp) as late as it can, so that as few
 * of mountkit's own syscalls as possible run under it: last before the container's user
 * and capabilities when there is no no_new_privs (the kernel then takes a filter only
 * from a holder of CAP_SYS_ADMIN), else after the program's lookup, before the
 * startContainer hooks, as runc's init does.
 *
 * With SCMP_ACT_NOTIFY rules the kernel gives a listener (SECCOMP_FILTER_FLAG_NEW_LISTENER),
 * which goes to the agent at listenerPath, as runc sends it: one message on a unix
 * stream socket, the descriptor as SCM_RIGHTS and the runtime-spec's container process
 * state as JSON (fds ["seccompFd"], the pid, listenerMetadata, the state "creating").
 * The socket is connected here, while listenerPath is the host's path, and a thread is
 * started to send it: one started before the filter is loaded is outside it, as runc's
 * parent process is. The container keeps neither descriptor.
 */

const SHARED_KEY = 'exec.seccomp';
/** The agent's socket, among the descriptors kept for the run (closed by the orchestrator if the run fails first). */
const AGENT_SOCKET_KEY = 'exec.seccomp-agent';
/** The runtime-spec version that defines the container process state (listenerPath came in 1.1.0). */
const PROCESS_STATE_VERSION = '1.1.0';

/** The filter built and waiting for the exec step. */
interface BuiltFilter {
  program: Uint8Array;
  flags: number;
  implicitFlags: number;
  /** With SCMP_ACT_NOTIFY rules: the agent's connected socket, and the thread that sends it the listener (startFdSender). */
  agent?: { socket: number; sender: number };
}

/** runtime-spec config-linux.md, "Container Process State": what the seccomp agent receives. */
interface ContainerProcessState {
  ociVersion: string;
  fds: string[];
  pid: number;
  metadata?: string;
  state: OciState;
}

@injectable()
export class SeccompStep implements LifecycleStep {
  readonly name = 'seccomp';
  readonly phase = 'prepare-root' as const;
  readonly order = 'pre' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const spec = ctx.config.seccomp;
    if (!spec) return;
    const profile = seccompProfile(spec);
    for (const field of profile.ignored) ctx.log.warn(`${field} ignored`);
    const compiled = naming('linux.seccomp', () => this.sys.seccompCompile(profile.filter));
    if (compiled.cache) ctx.log.debug(`linux.seccomp: ${compiled.cache}`);
    // runc tells of these at debug level only: profiles list syscalls of newer kernels.
    if (compiled.unknown.length) ctx.log.debug(`linux.seccomp: syscalls libseccomp does not know left out: ${compiled.unknown.join(', ')}`);
    const stub = encodeProgram(profile.enosysStub ? enosysStub(compiled.lastSyscalls) : []);
    const program = new Uint8Array(stub.length + compiled.program.length);
    program.set(stub);
    program.set(compiled.program, stub.length);
    const length = program.length / SOCK_FILTER_SIZE;
    if (length > BPF_MAXINSNS) throw new ConfigError('linux.seccomp', undefined, `makes a filter of ${length} instructions; the kernel takes at most ${BPF_MAXINSNS} (BPF_MAXINSNS)`);
    const built: BuiltFilter = { program, flags: profile.flags, implicitFlags: profile.implicitFlags };
    if (profile.listener) built.agent = this.connectAgent(profile.listener, ctx);
    ctx.shared.set(SHARED_KEY, built);
  }

  /**
   * The agent's socket, and the message it gets. The pid is the container's as the host
   * sees it, as runc sends its init's: this process's (the container's after execve),
   * read from /proc/self, which is still the host's procfs here (getpid(2) without
   * one); an embedder's container.pid when it sets one.
   */
  private connectAgent(listener: { path: string; metadata: string }, ctx: RunContext): BuiltFilter['agent'] {
    const socket = naming('linux.seccomp.listenerPath', () => keptForRun(ctx.shared, AGENT_SOCKET_KEY, () => connectHostSocket(this.sys, ctx.config, 'seccompAgent', listener.path)));
    const pid = (ctx.shared.get(CONTAINER_PID_KEY) as number | undefined) ?? hostPid(this.sys);
    const message: ContainerProcessState = {
      ociVersion: PROCESS_STATE_VERSION,
      fds: ['seccompFd'],
      pid,
      ...(listener.metadata ? { metadata: listener.metadata } : {}),
      state: { ...ociState(ctx.shared, ctx.config, { status: 'creating', pid }), ociVersion: PROCESS_STATE_VERSION },
    };
    return { socket, sender: naming('linux.seccomp.listenerPath', () => this.sys.startFdSender(socket, JSON.stringify(message))) };
  }

}

/** Whether SeccompStep built a filter for loadSeccomp to load. */
export function hasSeccompFilter(ctx: RunContext): boolean {
  return ctx.shared.has(SHARED_KEY);
}

/**
 * Loads the filter SeccompStep built, if any. A flag the profile did not ask for
 * (SECCOMP_FILTER_FLAG_SPEC_ALLOW, before Linux 4.17) is left out when the kernel refuses
 * the flags (EINVAL). The listener goes to the agent from the thread SeccompStep started,
 * outside the filter; this thread then closes its copy and the socket.
 */
export function loadSeccomp(sys: Syscalls, ctx: RunContext): void {
  const built = ctx.shared.get(SHARED_KEY) as BuiltFilter | undefined;
  if (!built) return;
  naming('linux.seccomp', () => {
    const listener = load(sys, built);
    if (!built.agent) return;
    try {
      sys.sendFd(built.agent.sender, listener);
    } finally {
      sys.close(listener);
      closeKept(sys, ctx.shared, AGENT_SOCKET_KEY);
    }
  });
}

function load(sys: Syscalls, built: BuiltFilter): number {
  try {
    return sys.seccompLoad(built.program, built.flags);
  } catch (err) {
    if (!(err instanceof SyscallError) || err.code !== 'EINVAL' || !(built.flags & built.implicitFlags)) throw err;
    return sys.seccompLoad(built.program, built.flags & ~built.implicitFlags);
  }
}
