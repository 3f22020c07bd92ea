import { StepError, SyscallError } from '../../core/errors';
import type { Syscalls } from '../../core/syscalls/types';

/** The PATH a container gets when its env has none (runc's and Docker's default). */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The value of PATH in a `KEY=value` environment, or the default. */
export function envPath(env: readonly string[]): string {
  const entry = [...env].reverse().find((kv) => kv.startsWith('PATH='));
  return entry === undefined ? DEFAULT_PATH : entry.slice('PATH='.length);
}

/** The candidate files for a program name, in search order (execvp(3) rules). */
export function candidates(program: string, pathVar: string): string[] {
  if (program.includes('/')) return [program];
  // An empty PATH element means the current directory (execvp(3)).
  return pathVar.split(':').map((dir) => (dir === '' ? program : `${dir.replace(/\/+$/, '')}/${program}`));
}

/** Resolves the program inside the (jailed) root: the first candidate that is an executable file. */
export function lookPath(sys: Syscalls, program: string, pathVar: string): string {
  for (const candidate of candidates(program, pathVar)) {
    try {
      const st = sys.stat(candidate);
      if (st.kind === 'file' && (st.perm & 0o111) !== 0) return candidate;
    } catch (err) {
      if (!(err instanceof SyscallError)) throw err;
    }
  }
  const where = program.includes('/') ? 'is not an executable file' : `is not found in PATH ${JSON.stringify(pathVar)}`;
  throw new StepError(`process.args[0] ${JSON.stringify(program)} ${where}`);
}
