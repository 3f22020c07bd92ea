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
 * read-only tmpfs and /dev mounts, sysctls, readonly paths, masked paths, read-only
 * rootfs, umask 0022: sysctls before readonly paths, since /proc/sys is usually one of them, and readonly
 * paths before masks, which is runc 1.1's order and so the order of their lines in the
 * container's mount table.
 * Steps sharing an order keep the order they are registered in (the orchestrator's sort
 * is stable), so the registration order below is part of the sequence:
 *   pre:    readonly-mounts, sysctl
 *   normal: readonly-paths, masked-paths
 *   post:   readonly-rootfs, umask
 */
export const register: RegisterPlugin = (api) => {
  api.step(ReadonlyMountsStep);
  api.step(SysctlsStep);
  api.step(ReadonlyPathsStep);
  api.step(MaskedPathsStep);
  api.step(ReadonlyRootfsStep);
  api.step(UmaskStep);
};
