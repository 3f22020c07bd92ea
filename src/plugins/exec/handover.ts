import { inject, injectable } from 'tsyringe';
import type { PersonalitySpec, RlimitSpec } from '../../core/config/model';
import { IOPRIO_WHO_PROCESS, ioprioValue, personaValue, schedAttr } from './attributes';
import { validateRootlessGroups } from '../../core/config/validate';
import { ConfigError, MountkitError, naming, SyscallError } from '../../core/errors';
import { markCloseOnExec } from '../../core/cloexec';
import { CONSOLE_KEY } from './console';
import { hasContainerProc, requireContainerProc } from '../../core/procfs';
import { blockStreams, giveStreams } from '../../core/streams';
import { SYSCALLS, type LifecycleStep, type RunContext } from '../../core/plugin';
import type { Syscalls } from '../../core/syscalls/types';
import { hookCommand, ociState, runHook } from '../../core/hooks';
import { eventLine } from '../../core/runtime-channel';
import { activationEnv, handOverPassed, refuseNoticeAmongPassed } from '../../core/passed-fds';
import { removePidFile, writePidFile } from '../../core/pid-file';
import { CapabilityChange } from './capabilities';
import { execEnv, homeOf } from './env';
import { envPath, execFound, lookPath } from './lookpath';
import { applyAppArmorProfile, setSelinuxExecLabel } from './lsm';
import { SETGROUPS_ALLOWED_KEY } from './setgroups';
import { hasSeccompFilter, loadSeccomp } from './seccomp';

/**
 * The last step: becomes the container's process. After the jail and finalize, it checks
 * the capabilities asked for (./capabilities.ts), enters the cwd (where root may not, once
 * the user has changed), raises the hard resource
 * limits asked for, gives a non-root user its standard streams, makes every standard
 * stream blocking, writes the pid file (RootfsConfig.pidFile, core/pid-file.ts; removed
 * again when a later step or execve fails), takes the user's identity and
 * capabilities (and no_new_privs when asked), marks every descriptor above stderr
 * close-on-exec (close_range(2) CLOSE_RANGE_CLOEXEC) so none of mountkit's reaches the
 * container, finds the program, runs the OCI
 * startContainer hooks, gives the container the descriptors passed to it
 * (core/passed-fds.ts: RootfsConfig.listenFds and preserveFds), sets the resource
 * limits, tells the runtime channel and RootfsConfig.execNotice the program is next (its
 * exec event), and execve(2)s `process.args` with `process.env` as runc prepares it (LISTEN_FDS and
 * LISTEN_PID appended for listening descriptors, each variable once, HOME from the
 * container's /etc/passwd when it has none: ./env.ts). execve never returns on success. The seccomp
 * filter is loaded before the identity without no_new_privs, after the lookup with it
 * (./seccomp.ts), with the signals readied for execve before it; the LSM labels are set
 * for the execve first (./lsm.ts).
 */

/** The first descriptor the container does not get: 0, 1 and 2 are its standard streams. */
const FIRST_PRIVATE_FD = 3;


@injectable()
export class HandoverStep implements LifecycleStep {
  readonly name = 'exec';
  readonly phase = 'finalize' as const;
  readonly order = 'post' as const;

  constructor(@inject(SYSCALLS) private readonly sys: Syscalls) {}

  run(ctx: RunContext): void {
    const { args, env, cwd, uid, gid, capabilities, apparmorProfile, selinuxLabel, scheduler, ioPriority, additionalGids = [], rlimits = [], noNewPrivileges = false } = ctx.config.process;
    const { personality } = ctx.config;
    if (args.length === 0) throw new ConfigError('process.args', undefined, 'must name the program to run');
    refuseNoticeAmongPassed(ctx.config);
    // Without process.capabilities (a config built in code) the process keeps mountkit's;
    // the OCI loader gives such a config.json empty sets. First: a set capset(2) would
    // refuse stops the run before anything this step changes (the streams given to the
    // container's uid among them).
    const caps = capabilities && CapabilityChange.of(this.sys, capabilities, ctx.log);
    const cwdAsUser = this.enterCwd(cwd);
    // As runc's init: the AppArmor profile first, the SELinux label just before the seccomp filter.
    if (apparmorProfile) applyAppArmorProfile(this.sys, ctx, apparmorProfile);
    this.raiseHardLimits(rlimits);
    // The container's user gets its standard streams when they are pipes or sockets (core/streams.ts).
    if (uid !== 0) giveStreams(this.sys, uid, { console: ctx.shared.get(CONSOLE_KEY) === true });
    // Before any seccomp filter, which may refuse fcntl(2); after the logger, which may have made them non-blocking (core/streams.ts).
    blockStreams(this.sys);
    // As runc 1.2's init, before the capabilities go (real-time scheduling and the real-time I/O class need CAP_SYS_NICE or CAP_SYS_ADMIN).
    if (scheduler) naming('process.scheduler', () => this.sys.schedSetattr(schedAttr(scheduler), 0));
    if (ioPriority) naming('process.ioPriority', () => this.sys.ioprioSet(IOPRIO_WHO_PROCESS, 0, ioprioValue(ioPriority)));
    if (personality) this.setPersonality(personality, ctx);
    // Read while the process is still root, whoever may read the file, and before any seccomp filter.
    const environment = execEnv(activationEnv(env, ctx.config.listenFds), () => homeOf(this.sys, uid, (message) => ctx.log.warn(message), () => hasContainerProc(this.sys, ctx, '/etc/passwd read by its path for HOME')));
    if (selinuxLabel) setSelinuxExecLabel(this.sys, ctx, selinuxLabel);
    const filtered = hasSeccompFilter(ctx);
    // The pid file (--pid-file), last before the seccomp filter and the container's
    // identity: after them this process may not write in its directory.
    const { pidFile } = ctx.config;
    if (pidFile) writePidFile(this.sys, pidFile);
    try {
      // Before the process takes the container's capabilities and identity: from then on
      // another process of the same user with no more capabilities (another container's
      // root) could open its /proc/PID files (exe, the host's node binary; fd, the host's
      // files) and ptrace it (ptrace_may_access), as runc's init keeps itself undumpable.
      // A setuid(2) away from root makes a process undumpable too (commit_creds), dropping
      // capabilities does not; execve(2) decides it again for the container's program.
      this.sys.setDumpable(false);
      if (filtered && !noNewPrivileges) this.loadFilter(ctx);
      caps?.beforeUser();
      this.setUser(uid, gid, additionalGids, ctx);
      if (cwdAsUser) this.sys.chdir(cwd);
      caps?.afterUser(ctx.log);
      // As runc's init: after the identity, before the hooks, which then gain nothing either.
      if (noNewPrivileges) this.sys.setNoNewPrivs();
      this.closeOnExec(ctx);
      const program = lookPath(this.sys, args[0], envPath(env));
      // Before a seccomp filter loaded with no_new_privs, which may refuse write(2).
      ctx.log.info('starting the program', { path: program });
      if (filtered && noNewPrivileges) this.loadFilter(ctx);
      this.startContainerHooks(ctx, environment);
      // After the hooks, which get none of them; before the limits, as RLIMIT_NOFILE bounds dup3(2)'s target.
      const channel = handOverPassed(this.sys, ctx.config);
      this.setLimits(rlimits);
      this.announceExec(channel, ctx.config.execNotice);
      execFound(this.sys, program, args, environment);
    } catch (err) {
      // A step failed (what a fake port's execve throws, its program started, is no
      // MountkitError): the pid file names no container's process.
      const left = pidFile && err instanceof MountkitError && removePidFile(this.sys, pidFile);
      if (left) ctx.log.warn(left);
      throw err;
    }
  }

  /**
   * process.cwd, entered as runc's init enters it: first while still root, and where root
   * is refused (EACCES, or EPERM) again once the user has changed, before the capabilities
   * are set (runc's finalizeNamespace). True when it is left for then. Root of a user
   * namespace may not search a directory of the user's whose group the namespace does not
   * map (a capability holds over a file only when the namespace maps its owner and group,
   * user_namespaces(7)), nor may root squashed by NFS: the user may.
   */
  private enterCwd(cwd: string): boolean {
    try {
      this.sys.chdir(cwd);
      return false;
    } catch (err) {
      if (err instanceof SyscallError && (err.code === 'EACCES' || err.code === 'EPERM')) return true;
      throw err;
    }
  }

  /**
   * The seccomp filter (./seccomp.ts), after the signals are readied for execve(2)
   * (Syscalls.prepareExec), which runc needs no call for: its Go runtime catches every
   * signal, and execve resets a caught one. The resource limits stay last: Node runs under
   * them until execve, and a low RLIMIT_AS or RLIMIT_NOFILE would end it (runc's parent
   * sets them before its init loads a filter; a profile must allow prlimit64 here).
   */
  private loadFilter(ctx: RunContext): void {
    this.sys.prepareExec();
    loadSeccomp(this.sys, ctx);
  }

  /**
   * With a runtime channel, tells the process at its other end that the program is next,
   * in one write(2): that process runs the poststart hooks then, in the runtime's
   * namespaces (core/runtime-channel.ts), as runc's parent runs them once it has released
   * its init to execve(2), writes the pid file after them (RootfsConfig.pidFileByStarter),
   * as runc does, and knows that a kill of this process from here on is the container's
   * end, not a failed start. Then the same line on RootfsConfig.execNotice, for a starter
   * that needs to know the last only.
   */
  private announceExec(channel: number | undefined, notice: number | undefined): void {
    if (channel !== undefined) naming('the runtime channel', () => this.sys.write(channel, eventLine('exec')));
    if (notice !== undefined) naming(`execNotice ${notice}`, () => this.sys.write(notice, eventLine('exec')));
  }

  /** linux.personality's domain; its flags are ignored with a warning, as runc ignores them. */
  private setPersonality(personality: PersonalitySpec, ctx: RunContext): void {
    if (personality.flags.length) ctx.log.warn(`linux.personality.flags ${JSON.stringify(personality.flags)} ignored, as runc ignores them`);
    naming('linux.personality', () => this.sys.personality(personaValue(personality)));
  }

  /**
   * process.rlimits in two passes, as the limits bind this process too (a low
   * RLIMIT_NOFILE or RLIMIT_AS would fail its own last steps: Node holds a dozen
   * descriptors, and a hook's spawn opens pipes). First, while CAP_SYS_RESOURCE is still
   * held, a hard limit the config raises is raised, the soft one kept; last, just before
   * execve(2), each is set exactly, which needs no privilege then: lowering never does,
   * and a soft limit may go up to the hard one. runc's startContainer hooks run with the
   * limits set; mountkit's run before, with its own.
   */
  private raiseHardLimits(rlimits: readonly RlimitSpec[]): void {
    rlimits.forEach((r, i) =>
      this.limitStep(r, i, () => {
        const now = this.sys.getrlimit(r.resource);
        if (r.hard > now.hard) this.sys.setrlimit(r.resource, now.soft, r.hard);
      }),
    );
  }

  private setLimits(rlimits: readonly RlimitSpec[]): void {
    rlimits.forEach((r, i) => this.limitStep(r, i, () => this.sys.setrlimit(r.resource, r.soft, r.hard)));
  }

  /** A limit's call, whose refusal names the limit. */
  private limitStep(r: RlimitSpec, i: number, call: () => void): void {
    naming(`process.rlimits[${i}] ${r.type} (soft ${r.soft}, hard ${r.hard})`, call);
  }

  /**
   * The OCI startContainer hooks, each in its order, where runc's init runs them: last
   * before the program, with the container's identity and with every descriptor of
   * mountkit's marked close-on-exec (runtime-spec config.md: part of the start operation;
   * the path resolves in the container namespace). In the container's cwd, with the
   * program's environment (`environment`, HOME included) when the hook names none, as
   * runc's init runs them with its own, status "created" and this process's pid in the
   * state. The program is looked up first, as runc looks it up before them.
   */
  private startContainerHooks(ctx: RunContext, environment: readonly string[]): void {
    const hooks = ctx.config.hooks.startContainer ?? [];
    if (hooks.length === 0) return;
    const state = ociState(ctx.shared, ctx.config, { status: 'created', pid: this.sys.getpid() });
    hooks.forEach((hook, i) => runHook(this.sys, `startContainer[${i}]`, hook, hookCommand(hook, state, ctx.config.process.cwd, environment)));
  }

  /**
   * Every descriptor from FIRST_PRIVATE_FD up closes on execve (core/cloexec.ts). Without
   * close_range(2) the listing is the container's /proc/thread-self/fd after the jail, so
   * it must be on a procfs (requireContainerProc): an image's own directory could list
   * nothing, and descriptors would reach the container.
   */
  private closeOnExec(ctx: RunContext): void {
    markCloseOnExec(this.sys, FIRST_PRIVATE_FD, () => requireContainerProc(this.sys, ctx, `marking descriptors close-on-exec without close_range(2)`));
  }

  /**
   * setgroups(2) comes first, while still privileged, with the config's supplementary
   * groups (none unless process.user.additionalGids names some), each once where first
   * given, as runc passes them (setgroups(2) keeps a repeated one: `id` lists it twice). In a user namespace
   * whose /proc/self/setgroups says "deny" (what unshare -r writes) it is refused, so it
   * is skipped, as runc skips it there; groups asked for are then not given, which a
   * warning says. The file is read before the jail (./setgroups.ts), from the host's
   * procfs: after it, the container's /proc could say anything. In a rootless container
   * (RootfsConfig.rootless) it is never called: the container keeps its user's
   * supplementary groups, as runc keeps them, and asks for no others
   * (validateRootlessGroups).
   */
  private setUser(uid: number, gid: number, groups: readonly number[], ctx: RunContext): void {
    const once = [...new Set(groups)];
    if (ctx.config.rootless) validateRootlessGroups(ctx.config);
    else if (this.groupsMaySet(ctx)) this.sys.setgroups(once);
    else if (once.length > 0) ctx.log.warn(`process.user.additionalGids ${JSON.stringify(once)} not given: setgroups(2) is denied in this user namespace (/proc/self/setgroups)`);
    this.sys.setgid(gid);
    this.sys.setuid(uid);
  }

  /**
   * What SetgroupsPolicyStep read before the jail; without it (a run of this step alone)
   * setgroups(2) is called, and refused (EPERM) where it is denied: the container never
   * keeps groups it was not given.
   */
  private groupsMaySet(ctx: RunContext): boolean {
    return ctx.shared.get(SETGROUPS_ALLOWED_KEY) !== false;
  }
}
