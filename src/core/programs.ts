/**
 * Finding a program in PATH: in each directory in order, the first file by that name that
 * can be executed. Only absolute directories count, as Go's exec.LookPath (runc's) takes
 * them since Go 1.19: an empty or relative entry would find a program in the current
 * directory, such as a bundle's. No PATH finds nothing. A name with a slash is taken as
 * it is.
 */
import { accessSync, constants as fsConstants, statSync } from 'fs';
import posix = require('path/posix');

/** `name`'s path in `pathVar` (a PATH value), or undefined; `executable` tells a file that may be run. */
export function programInPath(name: string, pathVar: string | undefined, executable: (file: string) => boolean): string | undefined {
  if (name.includes('/')) return executable(name) ? name : undefined;
  for (const dir of (pathVar ?? '').split(':')) {
    if (!dir.startsWith('/')) continue;
    const file = posix.join(dir, name);
    if (executable(file)) return file;
  }
  return undefined;
}

/** The uidmap tools a user other than root maps more than its own ids with, as runc looks them up: newuidmap(1) and newgidmap(1). */
export const ID_MAP_TOOLS = { uid: 'newuidmap', gid: 'newgidmap' } as const;

/** Whether `file` is a file this process may execute (access(2) X_OK, and not a directory). */
export function executableFile(file: string): boolean {
  try {
    accessSync(file, fsConstants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

/** Which uidmap tools are in `pathVar`: LaunchContext.idMapTools. */
export function idMapToolsInPath(pathVar: string | undefined): { uid: boolean; gid: boolean } {
  return { uid: programInPath(ID_MAP_TOOLS.uid, pathVar, executableFile) !== undefined, gid: programInPath(ID_MAP_TOOLS.gid, pathVar, executableFile) !== undefined };
}

/**
 * A command's environment as a list of NAME=VALUE (CommandSpec.env) made the object Node's
 * spawn takes; an entry without "=" is the name with an empty value, and an empty entry is
 * none, as Go's os/exec drops it (runc's hooks): as a name it would give the command `=`.
 */
export function envRecord(list: readonly string[]): Record<string, string> {
  return Object.fromEntries(
    list.filter((kv) => kv !== '').map((kv) => {
      const eq = kv.indexOf('=');
      return eq < 0 ? [kv, ''] : [kv.slice(0, eq), kv.slice(eq + 1)];
    }),
  );
}
