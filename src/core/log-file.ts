/**
 * The --log file, opened by the process that starts mountkit's run (cli/run.ts), through
 * the port, so that `mountkit plan` shows the call as the run makes it (core/plan): in a
 * relaunch's first process, on the host, before anything is started, which passes it on
 * RELAUNCH_LOG_FD (core/relaunch.ts takeRelaunchLog takes it there); without a relaunch,
 * before the namespaces are entered.
 */
import { O_APPEND, O_CLOEXEC, O_CREAT, O_WRONLY } from './constants';
import { ConfigError, SyscallError } from './errors';
import type { Syscalls } from './syscalls/types';

/** For appending, made when missing, close-on-exec: what Node's openSync(file, 'a') asks (libuv adds O_CLOEXEC). */
export const LOG_FILE_FLAGS = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC;

/** The mode a --log file is made with, before the umask: the owner writes, its group reads. */
export const LOG_FILE_MODE = 0o640;

/** A --log file that cannot be opened (the errno's name `code`): a configuration error naming it. */
export function logFileError(file: string, code: string): ConfigError {
  return new ConfigError('--log', file, `cannot be opened (${code})`);
}

/** Opens the --log file `file` (an absolute path); one that cannot be opened is logFileError. */
export function openLogFile(sys: Syscalls, file: string): number {
  try {
    return sys.open(file, LOG_FILE_FLAGS, LOG_FILE_MODE);
  } catch (err) {
    if (err instanceof SyscallError) throw logFileError(file, err.code);
    throw err;
  }
}
