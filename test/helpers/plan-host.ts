import type { PluginModule } from '../../src/core/kernel';
import { FakeSyscalls } from '../../src/core/syscalls/fake';
import { HandoverStep } from '../../src/plugins/exec';

/**
 * The exec step alone, as an `extra` entry of buildPlan: in a plan of a relaunch, the
 * calls besides the launcher's and the first process's are its own and those of the
 * plugins a test lists.
 */
export const EXEC_ONLY_EXTRA: { module: string; plugin: PluginModule } = { module: 'exec-only', plugin: { register: (api) => api.step(HandoverStep) } };

/**
 * A fake host for such a plan: the rootfs /bundle/rootfs with bin/sh (the program), the
 * host's /bin/sh (the relaunch's shell) and an empty /proc/self/mountinfo.
 */
export function planHost(): FakeSyscalls {
  return new FakeSyscalls().addDir('/bundle/rootfs/bin').addFile('/bundle/rootfs/bin/sh', '', 0o755).addFile('/bin/sh', '', 0o755).addDir('/proc/self').addFile('/proc/self/mountinfo', '');
}
