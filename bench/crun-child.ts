/**
 * Runs inside a mount namespace of its own that takes the host's mounts and sends none
 * back (`unshare -m --propagation slave`, started by bench/main.ts's section 6), where
 * crun 1.8 can start a container: on a hybrid host whose cgroup2 hierarchy at
 * /sys/fs/cgroup/unified has controllers crun refuses every run ("cgroups in hybrid mode
 * not supported"), so that hierarchy is unmounted here first, as
 * test/conformance/harness.ts does for the same reason; crun then uses the cgroup v1
 * hierarchies, as runc does. crun, runc and mountkit are timed from here, interleaved,
 * each bundle in turn, so that all three start from the same mount table. Prints one JSON
 * object on stdout.
 *
 * argv[2]: JSON { hostNamespace, bundles: [[name, dir], ...], reps }
 */
import { readFileSync, readlinkSync } from 'fs';
import { LinuxSyscalls } from '../src/core/syscalls/linux';
import { interleave, summarize, type Summary } from './measure';
import { crunRun, mountkitRun, runcRun, sweepCrun, sweepRunc } from './runners';

interface Request {
  /** The harness's /proc/self/ns/mnt link: this process must be somewhere else before it unmounts. */
  hostNamespace: string;
  bundles: [string, string][];
  reps: number;
}

/** What the child prints: per bundle name, each runtime's times. */
export type CrunResult = Record<string, { crun: Summary; runc: Summary; mountkit: Summary }>;

const UNIFIED = '/sys/fs/cgroup/unified';

const req = JSON.parse(process.argv[2]) as Request;
if (readlinkSync('/proc/self/ns/mnt') === req.hostNamespace) {
  process.stderr.write('crun-child: not in a mount namespace of its own; refusing to unmount\n');
  process.exit(2);
}
let controllers = '';
try {
  controllers = readFileSync(`${UNIFIED}/cgroup.controllers`, 'utf8').trim();
} catch {
  // No cgroup2 hierarchy there: a cgroup v1 or v2 host, where crun runs as it is.
}
// Nothing in this new namespace has a file of that hierarchy open or as its cwd, so umount2(2) without MNT_DETACH finds it not busy.
if (controllers !== '') new LinuxSyscalls().umount2(UNIFIED, 0);
try {
  const out: CrunResult = {};
  for (const [name, dir] of req.bundles) {
    const times = interleave(
      [
        { name: 'crun', run: () => crunRun(dir) },
        { name: 'runc', run: () => runcRun(dir) },
        { name: 'mountkit', run: () => mountkitRun(dir) },
      ],
      req.reps,
    );
    out[name] = { crun: summarize(times.get('crun')!), runc: summarize(times.get('runc')!), mountkit: summarize(times.get('mountkit')!) };
  }
  process.stdout.write(JSON.stringify(out));
} finally {
  sweepCrun();
  sweepRunc();
}
