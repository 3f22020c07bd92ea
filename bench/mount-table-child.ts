/**
 * Runs inside a throwaway mount namespace (`unshare -m --propagation private`, started
 * by bench/main.ts): grows the mount table with tmpfs mounts under a tmpfs of its own,
 * then times mountkit and runc from inside, and prints one JSON object on stdout. The
 * namespace, and every mount in it, goes away when this process exits.
 *
 * argv[2]: JSON { hostNamespace, base, mounts, bundle, reps, traceFile, replay }
 */
import { readFileSync, readlinkSync } from 'fs';
import * as path from 'path';
import { MS_NODEV, MS_NOEXEC, MS_NOSUID } from '../src/core/constants';
import { LinuxSyscalls } from '../src/core/syscalls/linux';
import { interleave, median, summarize, type Summary } from './measure';
import { mountinfoReads, mountkitRun, pipelineWindow, replayRun, runcRun, sweepRunc, tracedRun, type ReplayTiming } from './runners';

interface Request {
  /** The harness's /proc/self/ns/mnt link: this process must be somewhere else before it mounts. */
  hostNamespace: string;
  base: string;
  mounts: number;
  bundle: string;
  reps: number;
  traceFile: string;
  /** The C replay of the default bundle's list, timed alongside. */
  replay: { binary: string; listFile: string; launcher: string[]; outFile: string };
}

/** What the child prints. */
export interface TableResult {
  /** Lines of /proc/self/mountinfo in the namespace the runs start from. */
  entries: number;
  mountkit: Summary;
  runc: Summary;
  /** The C replay's whole run (unshare, replay, /bin/true). */
  replay: Summary;
  /** mountkit's first syscall to execve, one traced run. */
  pipelineMs: number;
  replayPipelineMs: number;
  mountinfoReads: number;
}

const req = JSON.parse(process.argv[2]) as Request;
if (readlinkSync('/proc/self/ns/mnt') === req.hostNamespace) {
  process.stderr.write('mount-table-child: not in a mount namespace of its own; refusing to mount\n');
  process.exit(2);
}
const sys = new LinuxSyscalls();
const flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
sys.mount('tmpfs', req.base, 'tmpfs', flags, 'size=16m');
for (let i = 0; i < req.mounts; i++) {
  const dir = path.join(req.base, `m${i}`);
  sys.mkdir(dir, 0o755);
  sys.mount('tmpfs', dir, 'tmpfs', flags, 'size=4k');
}
const entries = readFileSync('/proc/self/mountinfo', 'utf8').trim().split('\n').length;
try {
  const replays: ReplayTiming[] = [];
  const { binary, listFile, launcher, outFile } = req.replay;
  const times = interleave(
    [
      { name: 'mountkit', run: () => mountkitRun(req.bundle) },
      { name: 'runc', run: () => runcRun(req.bundle) },
      {
        name: 'replay',
        run: () => {
          const r = replayRun(binary, listFile, outFile, launcher);
          replays.push(r);
          return r.ms;
        },
      },
    ],
    req.reps,
  );
  const traced = tracedRun(req.bundle, req.traceFile, { args: true });
  const out: TableResult = {
    entries,
    mountkit: summarize(times.get('mountkit')!),
    runc: summarize(times.get('runc')!),
    replay: summarize(times.get('replay')!),
    replayPipelineMs: median(replays.map((r) => r.windowMs)),
    pipelineMs: pipelineWindow(traced).windowMs,
    mountinfoReads: mountinfoReads(traced),
  };
  process.stdout.write(JSON.stringify(out));
} finally {
  sweepRunc();
}
