/**
 * Finding a program as execvp(3) does: in each directory of PATH in order, the first
 * file by that name that can be executed. An empty entry is the current directory, as
 * POSIX has it; a name with a slash is taken as it is.
 */
import { accessSync, constants as fsConstants, statSync } from 'fs';
import * as posix from 'path/posix';

/** `name`'s path in `pathVar` (a PATH value), or undefined; `executable` tells a file that may be run. */
export function programInPath(name: string, pathVar: string | undefined, executable: (file: string) => boolean): string | undefined {
  if (name.includes('/')) return executable(name) ? name : undefined;
  for (const dir of (pathVar ?? '').split(':')) {
    const file = dir ? posix.join(dir, name) : `./${name}`;
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

/** Whether both uidmap tools are in `pathVar`: LaunchContext.idMapTools. */
export function idMapToolsInPath(pathVar: string | undefined): boolean {
  return [ID_MAP_TOOLS.uid, ID_MAP_TOOLS.gid].every((tool) => programInPath(tool, pathVar, executableFile) !== undefined);
}
