/**
 * runc's --pid-file: the container process's pid, as the process that started mountkit
 * sees it, in decimal without a newline, written to `.NAME` beside the file (made anew:
 * O_EXCL, O_SYNC) and renamed onto it, so that a reader finds either no file, the one an
 * earlier run left, or the whole pid (runc 1.1 utils_linux.go createPidFile). The path is
 * made absolute against the working directory mountkit was started in, and its directory
 * opened (O_PATH) before any namespace is entered (openPidFileDir): the write reaches it
 * through that descriptor from wherever the writer stands by then (a jail, another mount
 * namespace). Who writes: the process at the other end of the runtime channel, when told
 * the program is next (core/runtime-hooks.ts), or, where the process mountkit prepares
 * becomes the container's, the exec step (plugins/exec/handover.ts).
 */
import path = require('path');
import { O_CLOEXEC, O_CREAT, O_DIRECTORY, O_EXCL, O_PATH, O_WRONLY } from './constants';
import { ConfigError, SyscallError, naming } from './errors';
import type { Syscalls } from './syscalls/types';

/** O_SYNC: __O_SYNC | O_DSYNC (asm-generic/fcntl.h, x86_64 and arm64 alike), as runc opens the file. */
const O_SYNC = 0o4010000;

/** The temporary file's flags: made anew, each write on the disk before write(2) returns, close-on-exec. */
export const PID_FILE_FLAGS = O_WRONLY | O_CREAT | O_EXCL | O_SYNC | O_CLOEXEC;

/** The mode it is made with, before the umask, as runc makes it. */
export const PID_FILE_MODE = 0o666;

/** Where the pid goes, and how the writer reaches it. */
export interface PidFileSpec {
  /** The file as the option names it, made absolute: what errors name. */
  path: string;
  /** Its directory, open as O_PATH by the process that started the run (openPidFileDir). */
  dirFd: number;
  /** The pid written: the container's in the pid namespace mountkit was started in. */
  pid: number;
  /** The mode set on the file (fchmod(2)) after it is made: 0666 less the umask mountkit was started with, where the writer's umask is the container's by then. */
  mode?: number;
}

/** The temporary file's name beside `file`: its name after a dot. */
export function pidFileTemp(file: string): string {
  return `.${path.basename(file)}`;
}

/**
 * The directory of `file` (absolute) opened O_PATH|O_DIRECTORY, close-on-exec: one that
 * cannot be opened is a configuration error naming the option, the file and the errno.
 */
export function openPidFileDir(sys: Pick<Syscalls, 'open'>, file: string): number {
  const dir = path.dirname(file);
  try {
    return sys.open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
  } catch (err) {
    if (err instanceof SyscallError) throw new ConfigError('--pid-file', file, `its directory cannot be opened (${err.message})`);
    throw err;
  }
}

/**
 * Writes `spec.pid` to the temporary file and renames it onto the pid file, through the
 * directory descriptor. A failure names the option and the file, with the call and errno;
 * a temporary file it made is removed then, unlike runc, which leaves it (and so refuses
 * the next run its O_EXCL open: EEXIST).
 */
export function writePidFile(sys: Pick<Syscalls, 'openat' | 'fchmod' | 'write' | 'close' | 'renameat' | 'unlinkat'>, spec: PidFileSpec): void {
  const temp = pidFileTemp(spec.path);
  naming(`--pid-file ${JSON.stringify(spec.path)}`, () => {
    const fd = sys.openat(spec.dirFd, temp, PID_FILE_FLAGS, PID_FILE_MODE);
    try {
      try {
        if (spec.mode !== undefined) sys.fchmod(fd, spec.mode);
        sys.write(fd, String(spec.pid));
      } finally {
        sys.close(fd);
      }
      sys.renameat(spec.dirFd, temp, spec.dirFd, path.basename(spec.path));
    } catch (err) {
      try {
        sys.unlinkat(spec.dirFd, temp, 0);
      } catch {
        // Its failure is the first one's: the file made is left, as runc leaves it.
      }
      throw err;
    }
  });
}

/**
 * The pid file a starter writes once the poststart hooks have run (the Node entry's first
 * process, bin/mountkit's hooks relay): the file, made absolute, and its directory, open.
 */
export type StarterPidFile = Pick<PidFileSpec, 'path' | 'dirFd'>;

/** The --pid-file `file` (absolute), its directory opened now (openPidFileDir). */
export function starterPidFile(sys: Pick<Syscalls, 'open'>, file: string): StarterPidFile {
  return { path: file, dirFd: openPidFileDir(sys, file) };
}

/**
 * Writes the pid file once the poststart hooks have run at the "exec" event, with the pid
 * they were given, the writer's umask applying, as runc's does.
 */
export function writeStarterPidFile(sys: Parameters<typeof writePidFile>[0], file: StarterPidFile, pid: number | undefined): void {
  if (pid === undefined) throw new Error(`--pid-file ${JSON.stringify(file.path)}: the container's process was not found`);
  writePidFile(sys, { ...file, pid });
}

/**
 * Removes the pid file written for a container whose program did not start (a step after
 * the write failed, or execve(2)): undefined when done or not there, else what refused it
 * (the container's identity may no longer write in the directory), for a warning.
 */
export function removePidFile(sys: Pick<Syscalls, 'unlinkat'>, spec: PidFileSpec): string | undefined {
  try {
    sys.unlinkat(spec.dirFd, path.basename(spec.path), 0);
    return undefined;
  } catch (err) {
    if (err instanceof SyscallError && err.code === 'ENOENT') return undefined;
    return `--pid-file ${JSON.stringify(spec.path)} left naming pid ${spec.pid}: ${(err as Error).message}`;
  }
}

/**
 * A process's pid in the pid namespace of the procfs its /proc/PID/status (`status`) was
 * read from, and its umask: NSpid's first field (Linux 4.1; PID 1 of a pid namespace
 * bin/mountkit made has there its pid in the caller's first, 1 last) and Umask (Linux 4.7).
 */
export function callerView(status: string): { pid: number; umask: number } {
  const nspid = /^NSpid:\s*(\d+)/m.exec(status);
  const umask = /^Umask:\s*([0-7]+)/m.exec(status);
  if (!nspid || !umask) throw new Error('--pid-file: /proc/self/status names no NSpid or Umask (Linux 4.7 has both)');
  return { pid: Number(nspid[1]), umask: parseInt(umask[1], 8) };
}
