import posix = require('path/posix');
import { StepError, SyscallError } from '../../core/errors';
import { KIND_WORDS } from '../../core/syscalls/stat';
import type { FileStat, Syscalls } from '../../core/syscalls/types';

/**
 * The value of PATH in a `KEY=value` environment (the last one), or '' when it has none:
 * a program named without a `/` is then not found, as under runc, whose init searches the
 * container's environment only.
 */
export function envPath(env: readonly string[]): string {
  const entry = [...env].reverse().find((kv) => kv.startsWith('PATH='));
  return entry === undefined ? '' : entry.slice('PATH='.length);
}

/**
 * The candidate files for a program name, in search order: a name with a `/` as it is;
 * else each PATH entry joined with the name and cleaned as text, as Go's exec.LookPath
 * (runc's) joins them with filepath.Join: `.` and `..` components and repeated slashes
 * go before the kernel sees the path (`/nope/../bin` finds `/bin/echo` when `/nope` is
 * missing, and a script found through `/bin/.` gets `/bin/s` as its interpreter's
 * argument, not `/bin/./s`). An empty entry stands for the working directory (execvp(3));
 * no PATH, none.
 */
export function candidates(program: string, pathVar: string): string[] {
  if (program.includes('/')) return [program];
  if (pathVar === '') return [];
  return pathVar.split(':').map((dir) => goJoin(dir === '' ? '.' : dir, program));
}

/** filepath.Join of a directory and a name, cleaned (filepath.Clean): no trailing slash but the root's, which posix.join keeps for an empty name. */
function goJoin(dir: string, name: string): string {
  const joined = posix.join(dir, name);
  return joined.length > 1 ? joined.replace(/\/+$/, '') : joined;
}

/**
 * Why a file stat(2) gave is no program to run, or undefined when it is one: a regular file
 * with an execute bit. Go's exec.LookPath (runc's) refuses only a directory, and takes a
 * device or FIFO with an execute bit, which execve(2) then refuses (EACCES): mountkit says
 * so before.
 */
export function notExecutable(st: FileStat): string | undefined {
  if (st.kind !== 'file') return `it is ${KIND_WORDS[st.kind]}`;
  return (st.perm & 0o111) === 0 ? `its mode ${st.perm.toString(8).padStart(4, '0')} has no execute bit` : undefined;
}

/**
 * Resolves the program inside the (jailed) root: the first candidate that is an executable
 * file. One found through a relative PATH entry (empty, or not starting with `/`) is
 * refused, as runc's Go lookup refuses it (exec.ErrDot): which file runs would depend on
 * the working directory. A program named by its path that is none says why: the errno
 * stat(2) gave, its kind or its mode.
 */
export function lookPath(sys: Syscalls, program: string, pathVar: string): string {
  let why = '';
  for (const candidate of candidates(program, pathVar)) {
    try {
      why = notExecutable(sys.stat(candidate)) ?? '';
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
      why = `stat: ${err.code}`;
    }
    if (why !== '') continue;
    if (!program.includes('/') && !candidate.startsWith('/')) {
      throw new StepError(`process.args[0] ${JSON.stringify(program)} is found relative to the working directory (${JSON.stringify(candidate)}, through PATH ${JSON.stringify(pathVar)}), which runc refuses to run`);
    }
    return candidate;
  }
  const where = program.includes('/') ? `is not an executable file: ${why}` : pathVar === '' ? 'is not found: process.env has no PATH, or an empty one' : `is not found in PATH ${JSON.stringify(pathVar)}`;
  throw new StepError(`process.args[0] ${JSON.stringify(program)} ${where}`);
}

/**
 * execve(2) of a program lookPath found. Its ENOENT then names no missing file of ours: the
 * kernel says ENOENT too when the interpreter the file asks for is missing (binfmt_script's
 * `#!` line, binfmt_elf's PT_INTERP loader, such as /lib64/ld-linux-x86-64.so.2), which
 * is the usual cause in an image built for another libc or without one.
 */
export function execFound(sys: Syscalls, program: string, argv: string[], envp: string[]): never {
  try {
    return sys.execve(program, argv, envp);
  } catch (err) {
    if (err instanceof SyscallError && err.code === 'ENOENT') {
      throw new SyscallError('execve', err.errno, err.paths, "the file is there: the interpreter it names, its #! line's or an ELF program's loader, is not");
    }
    throw err;
  }
}
