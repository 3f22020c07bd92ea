/**
 * HOME for the container's process when `process.env` has none, as runc's init sets it:
 * the home directory of the first entry of the container's /etc/passwd (passwd(5)) with
 * the process's uid, or `/` when there is no such entry or no such file.
 */
import { SyscallError, naming } from '../../core/errors';
import type { FileStat, Syscalls } from '../../core/syscalls/types';

/** The passwd file, as the container sees it after the jail. */
export const PASSWD = '/etc/passwd';

/** The home of a user that has no passwd entry (runc's default exec user). */
export const DEFAULT_HOME = '/';

/**
 * A passwd file is read whole; one larger than this is not read, and the default is
 * used. Real ones are a few kilobytes.
 */
export const PASSWD_MAX_BYTES = 4 * 1024 * 1024;

const UID_FIELD = /^\+?\d+$/;

/** Whether `env` gives HOME a value: its first HOME entry is not empty, as getenv(3) reads it. */
export function hasHome(env: readonly string[]): boolean {
  const entry = env.find((e) => e.startsWith('HOME='));
  return entry !== undefined && entry.length > 'HOME='.length;
}

/** `env` with HOME set to `home`: an empty HOME entry takes the value where it stands, otherwise it is added last. */
export function withHome(env: readonly string[], home: string): string[] {
  const at = env.findIndex((e) => e.startsWith('HOME='));
  return at === -1 ? [...env, `HOME=${home}`] : env.map((e, i) => (i === at ? `HOME=${home}` : e));
}

/** The home field (the sixth) of the first passwd line whose uid field (the third) is `uid`; undefined without one. */
export function passwdHome(passwd: string, uid: number): string | undefined {
  for (const raw of passwd.split('\n')) {
    const fields = raw.trim().split(':');
    if (fields.length > 2 && UID_FIELD.test(fields[2]) && Number(fields[2]) === uid) return fields[5] ?? '';
  }
  return undefined;
}

/**
 * The home of `uid` from the container's /etc/passwd, read after the jail, where every
 * link in its path stays inside the container's root. Only a regular file is read: a
 * FIFO there would block the read, a device could act on it. A missing one gives the
 * default; any other failure to look at it is an error naming the file.
 */
export function homeOf(sys: Syscalls, uid: number): string {
  const st = naming(`HOME from ${PASSWD}`, () => statIfPresent(sys, PASSWD));
  if (st === undefined || st.kind !== 'file' || st.size > PASSWD_MAX_BYTES) return DEFAULT_HOME;
  return passwdHome(naming(`HOME from ${PASSWD}`, () => sys.readFile(PASSWD)), uid) ?? DEFAULT_HOME;
}

/** stat(2) of `path`, or undefined when it or a directory on the way is missing. */
function statIfPresent(sys: Syscalls, path: string): FileStat | undefined {
  try {
    return sys.stat(path);
  } catch (err) {
    if (err instanceof SyscallError && (err.code === 'ENOENT' || err.code === 'ENOTDIR')) return undefined;
    throw err;
  }
}
