import type { RegisterPlugin } from '../../core/kernel';
import { MaskedPathsStep } from './masked-paths';
import { ReadonlyMountsStep } from './readonly-mounts';
import { ReadonlyPathsStep } from './readonly-paths';
import { ReadonlyRootfsStep } from './readonly-rootfs';
import { SysctlsStep } from './sysctls';
import { UmaskStep } from './umask';

export { MaskedPathsStep, ReadonlyMountsStep, ReadonlyPathsStep, ReadonlyRootfsStep, SysctlsStep, UmaskStep };

/**
 * The finalize phase, after the jail, so every path is a container path. The sequence is
 * runc 1.1's: read-only tmpfs and /dev mounts, read-only rootfs, sysctls, readonly paths,
 * masked paths, umask 0022. The rootfs is read-only before the masks bind /dev/null (a
 * bind of a file on it is then read-only too); sysctls come before readonly paths, since
 * /proc/sys is usually one of them; readonly paths before masks, which is also the order
 * of their lines in the container's mount table.
 * Steps sharing an order keep the order they are registered in (the orchestrator's sort
 * is stable), so the registration order below is part of the sequence:
 *   pre:    readonly-mounts, readonly-rootfs, sysctl
 *   normal: readonly-paths, masked-paths
 *   post:   umask
 */
export const register: RegisterPlugin = (api) => {
  api.step(ReadonlyMountsStep);
  api.step(ReadonlyRootfsStep);
  api.step(SysctlsStep);
  api.step(ReadonlyPathsStep);
  api.step(MaskedPathsStep);
  api.step(UmaskStep);
};
