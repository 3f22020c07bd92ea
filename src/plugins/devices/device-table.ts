/**
 * The device nodes a container gets: the defaults every runtime provides plus the
 * config's linux.devices, and how each maps onto mknod(2)'s mode and the stat(2) kind.
 */
import type { DeviceSpec, DeviceType } from '../../core/config/model';
import { S_IFBLK, S_IFCHR, S_IFIFO } from '../../core/constants';
import { cleanPath } from '../../core/paths';
import type { FileKind } from '../../core/syscalls/types';

function charDevice(path: string, major: number, minor: number): DeviceSpec {
  return { type: 'c', path, major, minor, fileMode: 0o666, uid: 0, gid: 0 };
}

/**
 * The nodes runc 1.1 creates in every container (the entries of specconv.AllowedDevices
 * that have a path), in its order; major:minor from the kernel's
 * Documentation/admin-guide/devices.txt (1 = memory devices, 5:0 = the controlling tty).
 */
export const DEFAULT_DEVICES: readonly DeviceSpec[] = [
  charDevice('/dev/null', 1, 3),
  charDevice('/dev/random', 1, 8),
  charDevice('/dev/full', 1, 7),
  charDevice('/dev/tty', 5, 0),
  charDevice('/dev/zero', 1, 5),
  charDevice('/dev/urandom', 1, 9),
];

/** Made a link to pts/ptmx by the ptmx step (devpts(5)), whatever linux.devices names there, as runc makes it. */
const PTMX = '/dev/ptmx';

/**
 * The defaults the config does not name, then the config's devices in their order: a
 * config device with a default's path replaces that default (runc 1.1 specconv). One at
 * /dev/ptmx is left to the ptmx step, as runc leaves it.
 */
export function devicesToCreate(configured: readonly DeviceSpec[]): DeviceSpec[] {
  const own = configured.filter((d) => cleanPath(d.path) !== PTMX);
  const named = new Set(own.map((d) => cleanPath(d.path)));
  return [...DEFAULT_DEVICES.filter((d) => !named.has(d.path)), ...own];
}

const NODE_TYPE: Readonly<Record<DeviceType, { fileType: number; kind: FileKind }>> = {
  c: { fileType: S_IFCHR, kind: 'char' },
  // OCI "u" is an unbuffered character device; the kernel knows no other kind for it.
  u: { fileType: S_IFCHR, kind: 'char' },
  b: { fileType: S_IFBLK, kind: 'block' },
  p: { fileType: S_IFIFO, kind: 'fifo' },
};

/** mknod(2)'s mode: the file type bits for the device type with the permission bits. */
export function nodeMode(d: DeviceSpec): number {
  return (NODE_TYPE[d.type].fileType | (d.fileMode & 0o7777)) >>> 0;
}

/** What stat(2) reports for the node. */
export function nodeKind(type: DeviceType): FileKind {
  return NODE_TYPE[type].kind;
}

/** A FIFO has no device number: mknod(2) ignores dev unless the node is S_IFCHR or S_IFBLK. */
export function hasDeviceNumber(type: DeviceType): boolean {
  return type !== 'p';
}
