/**
 * How the ports name the calls on a filesystem context (fsopen(2), fsconfig(2),
 * fsmount(2)) in their errors. Pure.
 */
import { FSCONFIG_CMD_CREATE, FSCONFIG_SET_FLAG, FSCONFIG_SET_STRING } from '../constants';

/** fsconfig(2)'s commands by name (enum fsconfig_command, include/uapi/linux/mount.h), those mountkit gives. */
const COMMANDS: ReadonlyMap<number, string> = new Map([
  [FSCONFIG_SET_FLAG, 'FSCONFIG_SET_FLAG'],
  [FSCONFIG_SET_STRING, 'FSCONFIG_SET_STRING'],
  [FSCONFIG_CMD_CREATE, 'FSCONFIG_CMD_CREATE'],
]);

/**
 * What an error of fsconfig(2) names: the parameter as mount(2)'s data would write it
 * (`size=1m`, `noswap`) when there is a key, else the command (`FSCONFIG_CMD_CREATE`).
 */
export function fsconfigShown(cmd: number, key: string | null, value: string | null): string {
  if (key !== null) return value === null ? key : `${key}=${value}`;
  return COMMANDS.get(cmd) ?? `fsconfig command ${cmd}`;
}

/**
 * How errors and plans name the root of a mount fsmount(2) made of an `fstype`, and the
 * files below it by path: readlink(2) of its descriptor's magic link answers "/", the
 * root of the mount namespace it alone is in, which would read as the host's root.
 */
export function detachedMountName(fstype: string): string {
  return `fsmount:[${fstype}]`;
}

/**
 * A context's log as one line: each read(2) of the context's descriptor gives one message,
 * its level's letter and a space first ("e tmpfs: Bad value for 'size'\n": e error, w
 * warning, i information; fs/fsopen.c), which the kernel keeps there rather than printing
 * it. Undefined when there was none.
 */
export function contextLogLine(messages: readonly string[]): string | undefined {
  const lines = messages.map((m) => m.replace(/^[a-z] /, '').trim()).filter((m) => m !== '');
  return lines.length === 0 ? undefined : lines.join('; ');
}
