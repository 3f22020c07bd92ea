/**
 * Where a recorded call of the port names a descriptor of the calling process, and the
 * same call with each such descriptor shown as a path: FakeSyscalls notes where they were
 * open as the call is made (pathAtCall), the testkit's resolvedCalls shows them.
 */
import { posix } from 'path';
import { parseFdPath } from '../in-root';

/** The arguments that hold a descriptor the call acts on or from (or AT_FDCWD). */
export const DESCRIPTOR_ARG_NAMES = ['fd', 'dirfd', 'oldfd', 'newfd', 'fromDirfd', 'toDirfd', 'usernsFd', 'socket', 'pidfd', 'fdIn', 'fdOut'] as const;
/** An argument that holds a descriptor the call acts on or from (or AT_FDCWD). */
export type DescriptorArg = (typeof DESCRIPTOR_ARG_NAMES)[number];
/** The arguments that hold a descriptor; `sender` (startFdSender's thread) and `lowest` are numbers of another kind. */
export const DESCRIPTOR_ARGS: ReadonlySet<string> = new Set(DESCRIPTOR_ARG_NAMES);

/** The arguments that are paths the kernel looks up, where a descriptor's magic link may lead (a symlink's `target` is its text, not one). */
const PATH_ARGS: ReadonlySet<string> = new Set(['path', 'source', 'target', 'newRoot', 'putOld', 'linkPath', 'fromPath', 'toPath', 'dest']);

/**
 * The string arguments that are a filesystem's options, whose values may be paths the
 * filesystem looks up when it is mounted: mount(2)'s data, an fsconfig(2) string's value
 * (overlayfs's `lowerdir=/proc/self/fd/5:/proc/self/fd/6`, resolved in the mounting
 * process, so through its descriptors).
 */
const OPTION_ARGS: Readonly<Record<string, string>> = { mount: 'data', fsconfig: 'value' };

/** The object arguments whose members name descriptors: a command's `via`, the socket it is run through. */
const OBJECT_DESCRIPTOR_ARGS: Readonly<Record<string, ReadonlySet<string>>> = { cmd: new Set(['via']) };

/**
 * A magic link in an option string: at its start or after `=`, `:` or `,`, its path up to
 * the next `:` or `,` (the separators of mount options and of overlayfs's layer lists).
 */
const OPTION_FD_LINK = /(?<=^|[=:,])\/proc\/(?:self|thread-self)\/fd\/(\d+)(\/[^,:]*)?(?=$|[,:])/g;

/** A magic link's descriptor's path with the rest of the link's path joined on. */
function joined(held: string, rest: string): string {
  return rest === '' ? held : posix.join(held, rest);
}

/** `value` with each magic link in it shown as the path `held` gives its descriptor, where it gives one. */
function showOptionLinks(value: string, held: (fd: number) => string | undefined): string {
  return value.replace(OPTION_FD_LINK, (link: string, fd: string, rest: string | undefined) => {
    const path = held(Number(fd));
    return path === undefined ? link : joined(path, (rest ?? '').replace(/^\/+/, ''));
  });
}

/**
 * The call `rec` with each descriptor it names shown as the path `held` gives it (left a
 * number, or the magic link as written, where `held` gives none): a descriptor argument
 * (DESCRIPTOR_ARGS); a path argument that starts with a /proc/self/fd/N or
 * /proc/thread-self/fd/N magic link, that path with the rest joined on; such links in a
 * filesystem's options (OPTION_ARGS); a command's `via`. A symlink's target is its text.
 */
export function showNamedFds<T extends object>(rec: T & { op: string }, held: (fd: number) => string | undefined): T {
  const isLinkText = rec.op === 'symlink' || rec.op === 'symlinkat';
  const entries = Object.entries(rec).map(([key, value]: [string, unknown]) => {
    if (typeof value === 'number' && DESCRIPTOR_ARGS.has(key)) return [key, held(value) ?? value];
    if (typeof value === 'string' && OPTION_ARGS[rec.op] === key) return [key, showOptionLinks(value, held)];
    const members = OBJECT_DESCRIPTOR_ARGS[key];
    if (members && typeof value === 'object' && value !== null) {
      return [key, Object.fromEntries(Object.entries(value).map(([k, v]: [string, unknown]) => [k, typeof v === 'number' && members.has(k) ? (held(v) ?? v) : v]))];
    }
    const link = typeof value === 'string' && PATH_ARGS.has(key) && !(isLinkText && key === 'target') ? parseFdPath(value) : undefined;
    const path = link && held(link.fd);
    if (link && path !== undefined) return [key, joined(path, link.rest)];
    return [key, value];
  });
  return Object.fromEntries(entries) as T;
}

/**
 * The descriptors `rec` names, in the order of its arguments: those showNamedFds shows,
 * and the magic link any other string argument starts with (a symlink's target text,
 * which the plan annotates).
 */
export function fdsNamedBy(rec: object & { op: string }): number[] {
  const fds = new Set<number>();
  const note = (fd: number): undefined => {
    fds.add(fd);
    return undefined;
  };
  for (const [key, value] of Object.entries(rec)) {
    if (key === 'op') continue;
    showNamedFds({ op: rec.op, [key]: value }, note);
    const link = typeof value === 'string' ? parseFdPath(value) : undefined;
    if (link) fds.add(link.fd);
  }
  return [...fds];
}
