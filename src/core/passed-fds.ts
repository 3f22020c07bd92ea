/**
 * The descriptors `mountkit run` passes to the container's process, as runc run passes
 * them (runc 1.1.5 utils_linux.go): first those of socket activation, LISTEN_FDS of them
 * from descriptor 3 (sd_listen_fds(3)) when LISTEN_PID is the pid of the process the user
 * started, then the --preserve-fds ones after them. The container finds them at the same
 * numbers, with LISTEN_FDS=<count> and LISTEN_PID=1 appended to its environment when
 * there are listening ones; every other descriptor stays closed. Until the container's
 * execve(2) they are close-on-exec like all of mountkit's, so no hook and no helper gets
 * them (HandoverStep clears the flag after the startContainer hooks).
 */
import { ConfigError, SyscallError, naming } from './errors';
import { O_CLOEXEC } from './constants';
import type { RootfsConfig } from './config/model';
import type { Syscalls } from './syscalls/types';

/** SD_LISTEN_FDS_START (sd-daemon.h): the first passed descriptor, the one after the standard streams. */
export const FIRST_PASSED_FD = 3;

/** The option that names the descriptors passed after the listening ones. */
const PRESERVE_FDS_OPTION = '--preserve-fds';

type Passed = Pick<RootfsConfig, 'listenFds' | 'preserveFds'>;

/** A count as systemd writes LISTEN_FDS: 0, or decimal digits without a leading zero. */
const COUNT = /^(?:0|[1-9]\d*)$/;

/**
 * A count of passed descriptors (--preserve-fds, LISTEN_FDS) in the one spelling that
 * bin/mountkit reads too: 0, or decimal digits without a sign or a leading zero, a safe
 * integer; anything else is no count. The launcher checks the descriptors before Node
 * opens its own at 3 and up, so a count it read differently would hand Node's to the
 * container.
 */
export function descriptorCount(text: string): number | undefined {
  if (!COUNT.test(text)) return undefined;
  const count = Number(text);
  return Number.isSafeInteger(count) ? count : undefined;
}

/**
 * Set by bin/mountkit when it starts Node for `plan` with a descriptor of the passed range
 * closed: "PID:FD", the pid of the process it starts (the launcher's own, which exec keeps)
 * and the first such descriptor, which Node's own may have taken by the time it reads
 * the caller's (it opens them at the lowest free numbers as it starts).
 */
export const CLOSED_FD_ENV = 'MOUNTKIT_CLOSED_FD';

/**
 * The first passed descriptor the launcher found closed (CLOSED_FD_ENV), when the
 * variable names the process `pid` and a descriptor from FIRST_PASSED_FD up; otherwise
 * undefined (not set, another process's, or no such pair).
 */
export function closedByLauncher(env: NodeJS.ProcessEnv, pid: number): number | undefined {
  const match = /^([1-9][0-9]*):([1-9][0-9]*)$/.exec(env[CLOSED_FD_ENV] ?? '');
  if (!match || match[1] !== String(pid)) return undefined;
  const fd = Number(match[2]);
  return Number.isSafeInteger(fd) && fd >= FIRST_PASSED_FD ? fd : undefined;
}

/**
 * How many listening descriptors the process `pid` passes: LISTEN_FDS when LISTEN_PID
 * is that pid in decimal, as systemd writes both; none when LISTEN_PID is another's or
 * LISTEN_FDS unset. A LISTEN_FDS that is no count (descriptorCount) is a configuration
 * error: go-systemd's activation.Files, which runc run calls, reads both with Go's
 * strconv.Atoi (`+5` and `010` pass 5 and 10), which bin/mountkit does not.
 * LISTEN_FDNAMES only names them within runc: the container is not given it.
 */
export function listenFdsOf(env: NodeJS.ProcessEnv, pid: number): number {
  const text = env.LISTEN_FDS;
  if (env.LISTEN_PID !== String(pid) || text === undefined) return 0;
  const count = descriptorCount(text);
  if (count === undefined) throw new ConfigError('LISTEN_FDS', text, 'must be a count as systemd writes it, 0 or decimal digits without a sign or leading zero (LISTEN_PID names this process)');
  return count;
}

/** How many descriptors from FIRST_PASSED_FD the container gets. */
export function passedCount(config: Passed): number {
  return (config.listenFds ?? 0) + (config.preserveFds ?? 0);
}

/**
 * process.env with what runc appends for listening descriptors: LISTEN_FDS=<count> and
 * LISTEN_PID=1, the container's process being PID 1 of its own pid namespace (runc
 * writes 1 without one too). Appended, so they win over the config's own (the
 * environment keeps a name's last value, ../plugins/exec/env.ts, as runc's does).
 */
export function activationEnv(env: readonly string[], listenFds: number | undefined): string[] {
  return listenFds ? [...env, `LISTEN_FDS=${listenFds}`, 'LISTEN_PID=1'] : [...env];
}

/** The option (or variable) and count that passed descriptor `fd`. */
function passedByField(config: Passed, fd: number): [string, number] {
  const listen = config.listenFds ?? 0;
  return fd < FIRST_PASSED_FD + listen ? ['LISTEN_FDS', listen] : [PRESERVE_FDS_OPTION, config.preserveFds ?? 0];
}

/** The option and value that name descriptor `fd` of the passed range in errors. */
export function passedBy(config: Passed, fd: number): string {
  return passedByField(config, fd).join(' ');
}

/**
 * In the process mountkit's caller started, before anything else: each passed descriptor
 * is open (fstat(2)), else a configuration error naming the option and the descriptor,
 * as runc refuses a preserved one it cannot stat ("unable to stat preserved-fd").
 */
export function checkPassedOpen(sys: Syscalls, config: Passed): void {
  const count = passedCount(config);
  for (let fd = FIRST_PASSED_FD; fd < FIRST_PASSED_FD + count; fd++) {
    try {
      sys.fstat(fd);
    } catch (err) {
      if (!(err instanceof SyscallError) || err.code !== 'EBADF') throw err;
      const [field, value] = passedByField(config, fd);
      throw new ConfigError(field, value, `descriptor ${fd} is not open`);
    }
  }
}

/**
 * Last before the container's execve(2), after the startContainer hooks: the passed
 * descriptors are given their numbers, FIRST_PASSED_FD on, without FD_CLOEXEC, as runc
 * gives its init its ExtraFiles. Where they already are (`passedFdsAt` absent), the flag
 * is cleared; a relaunch has them at passedFdsAt and dup3(2)s each down, ascending (a
 * target is never a source not yet copied). The runtime channel, which sits in that
 * range, is first copied to the number after the sources (relaunchChannelFd), where it
 * stays until execve closes it: the starter holds signals until it is gone
 * (cli/forward.ts). Returns the channel's number from here on.
 */
export function handOverPassed(sys: Syscalls, config: Passed & Pick<RootfsConfig, 'passedFdsAt' | 'runtimeChannel'>): number | undefined {
  const count = passedCount(config);
  let channel = config.runtimeChannel;
  if (count === 0) return channel;
  const from = config.passedFdsAt ?? FIRST_PASSED_FD;
  for (let i = 0; i < count; i++) {
    const fd = FIRST_PASSED_FD + i;
    naming(`${passedBy(config, fd)}, descriptor ${fd}`, () => {
      if (from === FIRST_PASSED_FD) {
        sys.clearCloexec(fd);
        return;
      }
      if (channel === fd) {
        const moved = relaunchChannelFd(from, count);
        sys.dup3(channel, moved, O_CLOEXEC);
        channel = moved;
      }
      sys.dup3(from + i, fd, 0);
    });
  }
  return channel;
}

/**
 * RootfsConfig.execNotice among the numbers handOverPassed gives the passed descriptors
 * before the exec event is written there: the line would go to one of the container's
 * descriptors. The exec step refuses it before it changes anything.
 */
export function refuseNoticeAmongPassed(config: Passed & Pick<RootfsConfig, 'execNotice'>): void {
  const { execNotice } = config;
  const count = passedCount(config);
  if (execNotice !== undefined && execNotice >= FIRST_PASSED_FD && execNotice < FIRST_PASSED_FD + count) {
    throw new ConfigError('execNotice', execNotice, `is among the descriptors passed to the container (${FIRST_PASSED_FD} to ${FIRST_PASSED_FD + count - 1})`);
  }
}

/** Where a relaunch that has its passed descriptors from `at` keeps the runtime channel once it gives them their numbers: the number after them. */
export function relaunchChannelFd(at: number, count: number): number {
  return at + count;
}
