/**
 * /proc/PID/cgroup (cgroups(7)), one line per hierarchy the process belongs to:
 * `hierarchy-ID:controller-list:cgroup-path`; cgroup v2's is `0::PATH`.
 */
import { StepError } from './errors';

/** One line of /proc/PID/cgroup. */
export interface ProcCgroupEntry {
  id: number;
  /** Controllers bound to the hierarchy, named ones as `name=systemd`; empty for cgroup v2. */
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const first = line.indexOf(':');
      const second = line.indexOf(':', first + 1);
      if (first < 0 || second < 0) throw new StepError(`malformed /proc/self/cgroup line: ${JSON.stringify(line)}`);
      const list = line.slice(first + 1, second);
      return { id: Number(line.slice(0, first)), controllers: list === '' ? [] : list.split(','), path: line.slice(second + 1) };
    });
}
