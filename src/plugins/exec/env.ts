/**
 * The environment the container's program gets, as runc's init (1.2 and later) prepares
 * it from `process.env`: each variable once, with its last value, where it last appears; and
 * HOME, when no non-empty one is given, from the container's /etc/passwd (passwd(5)):
 * the home of the first entry with the process's uid, `/` without one, or when the file
 * cannot be read.
 */
import { O_CLOEXEC, O_PATH } from '../../core/constants';
import { SyscallError } from '../../core/errors';
import { fdPath } from '../../core/in-root';
import type { Syscalls } from '../../core/syscalls/types';

/** The passwd file, as the container sees it after the jail. */
export const PASSWD = '/etc/passwd';

/** The home of a user without a passwd entry (runc's default). */
export const DEFAULT_HOME = '/';

/** A passwd file larger than this is not read (the default home is used); real ones are a few kilobytes. */
export const PASSWD_MAX_BYTES = 4 * 1024 * 1024;

const UID_FIELD = /^\+?\d+$/;

/**
 * White space at either end of a passwd line, which runc's parser trims (Go's
 * bytes.TrimSpace: unicode.IsSpace, the White_Space property): U+0085 and U+00A0 with
 * ASCII's, not U+FEFF, which JavaScript's trim() also takes.
 */
const GO_SPACE = '[\\t\\n\\v\\f\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const LINE_EDGES = new RegExp(`^${GO_SPACE}+|${GO_SPACE}+$`, 'g');

/**
 * `env` for execve(2): one entry per name, the last one given, in the order of those last
 * entries; an empty HOME is dropped, and without a non-empty one `HOME=` and `home()` are
 * added last.
 */
export function execEnv(env: readonly string[], home: () => string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let homeSet = false;
  for (let i = env.length - 1; i >= 0; i--) {
    const entry = env[i];
    const eq = entry.indexOf('=');
    const name = eq === -1 ? entry : entry.slice(0, eq);
    if (seen.has(name)) continue;
    seen.add(name);
    if (name === 'HOME') {
      if (eq === entry.length - 1) continue;
      homeSet = true;
    }
    out.push(entry);
  }
  out.reverse();
  if (!homeSet) out.push(`HOME=${home()}`);
  return out;
}

/**
 * The home field (the sixth) of the first passwd line whose uid field (the third) is
 * `uid`; undefined without one. A line whose uid field is not a number matches no uid
 * (runc's parser reads it as 0).
 */
export function passwdHome(passwd: string, uid: number): string | undefined {
  for (const raw of passwd.split('\n')) {
    const fields = raw.replace(LINE_EDGES, '').split(':');
    if (fields.length > 2 && UID_FIELD.test(fields[2]) && Number(fields[2]) === uid) return fields[5] ?? '';
  }
  return undefined;
}

/**
 * The home of `uid` from the container's /etc/passwd, read after the jail, where every
 * link on its way stays inside the container's root. The file is opened O_PATH and
 * checked on that descriptor to be a regular file of a sane size: a FIFO there would
 * block the read, a device could act. It is then read through that descriptor when the
 * container's /proc is a procfs (`viaProc`, so that the file read is the file checked),
 * else by its path again, as runc reads it. As under runc, a file that cannot be read
 * gives the default; unless it is missing, `warn` says so (runc logs it at debug level).
 */
export function homeOf(sys: Syscalls, uid: number, warn: (message: string) => void, viaProc: () => boolean): string {
  // The default for a passwd file a call refused, told unless the file is simply missing; anything else is a fault of mountkit's, passed on.
  const unreadable = (err: unknown): string => {
    if (!(err instanceof SyscallError)) throw err;
    if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') warn(`HOME=${DEFAULT_HOME}: ${PASSWD} cannot be read (${err.message})`);
    return DEFAULT_HOME;
  };
  let fd: number;
  try {
    fd = sys.open(PASSWD, O_PATH | O_CLOEXEC, 0);
  } catch (err) {
    return unreadable(err);
  }
  try {
    const st = sys.fstat(fd);
    if (st.kind !== 'file' || st.size > PASSWD_MAX_BYTES) return DEFAULT_HOME;
    return passwdHome(sys.readFile(viaProc() ? fdPath(fd) : PASSWD), uid) ?? DEFAULT_HOME;
  } catch (err) {
    return unreadable(err);
  } finally {
    sys.close(fd);
  }
}
