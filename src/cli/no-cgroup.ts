/**
 * What `mountkit run` leaves out that runc applies: cgroups. The limits of linux.resources
 * (and linux.cgroupsPath) are not applied: the container runs in the cgroup mountkit was
 * started in. Nor is the device cgroup runc 1.1.5 puts every container in, with or without
 * linux.resources in the config: it lets the container make any device node (mknod, `m`)
 * but read and write only /dev/null, /dev/zero, /dev/full, /dev/random, /dev/urandom,
 * /dev/tty, /dev/console, /dev/ptmx, /dev/pts/* and /dev/net/tun (specconv's
 * AllowedDevices, after the config's linux.resources.devices). In the initial user
 * namespace, a container whose bounding set has CAP_MKNOD can make a node of any device and
 * open it; mknod(2) of a device needs CAP_MKNOD there (a whiteout, 0:0, excepted), so in
 * any other user namespace it is refused. A node the image already has is opened in any
 * user namespace where the file's mode lets the process (a filesystem mounted in the
 * initial one, as the rootfs is, honours device nodes): only nodev or a device cgroup
 * stops that.
 */
import type { RootfsConfig } from '../core/config/model';

/** The warning `mountkit run` gives for the linux.resources limits it does not apply (RootfsConfig.unappliedResources), or undefined. */
export function unappliedResourcesWarning(config: Pick<RootfsConfig, 'unappliedResources'>): string | undefined {
  const fields = config.unappliedResources ?? [];
  if (fields.length === 0) return undefined;
  return `${fields.join(', ')}: not applied: mountkit makes no cgroup, so the container runs in the one mountkit was started in, without these limits (a runtime that embeds mountkit applies them)`;
}

/**
 * The warning `mountkit run` gives for a container that can make and open any device node,
 * or undefined: one whose bounding set has CAP_MKNOD, in the initial user namespace (the
 * config lists no user namespace, and mountkit was not started in another one, which
 * `inInitialUserNamespace` tells, asked only then).
 */
export function deviceAccessWarning(config: Pick<RootfsConfig, 'namespaces' | 'process'>, inInitialUserNamespace: () => boolean): string | undefined {
  if (config.namespaces.some((ns) => ns.type === 'user')) return undefined;
  if (!config.process.capabilities?.bounding.includes('CAP_MKNOD')) return undefined;
  if (!inInitialUserNamespace()) return undefined;
  return (
    'process.capabilities.bounding: CAP_MKNOD without a user namespace lets the container make and open any device node, ' +
    "the host's disks among them: mountkit applies no device cgroup (linux.resources), where runc's allows only " +
    '/dev/null, zero, full, random, urandom, tty, console, ptmx, pts/* and net/tun'
  );
}
