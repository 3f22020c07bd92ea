import { readFileSync, readdirSync, readlinkSync, realpathSync } from 'fs';

/**
 * The pids of `pid`'s descendants, parents before their children, whichever of its
 * threads forked them (runc's Go threads do): /proc/PID/task/TID/children lists a
 * thread's children (CONFIG_PROC_CHILDREN).
 */
export function descendantsOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const kids = tasks.flatMap((task) => {
    try {
      return readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
    } catch {
      return [];
    }
  });
  return kids.flatMap((kid) => [kid, ...descendantsOf(kid)]);
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
