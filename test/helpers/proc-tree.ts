import { readlinkSync, realpathSync } from 'fs';
import { childrenOf } from '../../src/cli/forward';

/**
 * The pids of `pid`'s descendants, parents before their children, whichever of its
 * threads forked them (runc's Go threads do), as src/cli/forward.ts childrenOf lists a
 * process's children, at every level.
 */
export function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((kid) => [kid, ...descendantsOf(kid)]);
}

/** How many of `pid` and its descendants run this Node's executable (their /proc/PID/exe). */
export function nodeProcessesIn(pid: number): number {
  const node = realpathSync(process.execPath);
  return [pid, ...descendantsOf(pid)].filter((each) => {
    try {
      return readlinkSync(`/proc/${each}/exe`) === node;
    } catch {
      return false;
    }
  }).length;
}
