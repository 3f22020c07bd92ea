/**
 * Runs inside a mount namespace of its own where crun 1.8 can start a container (runners.ts
 * crunWrapped, as bench/main.ts's section 6 starts it: the host's mounts received, none sent
 * back, the cgroup2 hierarchy of a hybrid host unmounted, which crun refuses to run beside;
 * crun then uses the cgroup v1 hierarchies, as runc does). crun, runc and mountkit are
 * timed from here, interleaved, each bundle in turn, so that all three start from the same
 * mount table. Prints one JSON object on stdout.
 *
 * argv[2]: JSON { hostNamespace, bundles: [[name, dir], ...], reps }
 */
import { readlinkSync } from 'fs';
import { interleave, summarize, type Summary } from './measure';
import { crunRun, mountkitRun, runcRun, sweepCrun, sweepRunc } from './runners';

interface Request {
  /** The harness's /proc/self/ns/mnt link: this process must be somewhere else, where the hierarchy is unmounted. */
  hostNamespace: string;
  bundles: [string, string][];
  reps: number;
}

/** What the child prints: per bundle name, each runtime's times. */
export type CrunResult = Record<string, { crun: Summary; runc: Summary; mountkit: Summary }>;

const req = JSON.parse(process.argv[2]) as Request;
if (readlinkSync('/proc/self/ns/mnt') === req.hostNamespace) {
  process.stderr.write('crun-child: not in a mount namespace of its own (start it through crunWrapped)\n');
  process.exit(2);
}
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
