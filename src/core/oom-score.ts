/**
 * process.oomScoreAdj from the host (the exec plugin's OomScoreAdjStep writes it in the
 * run itself).
 */
import { naming } from './errors';
import type { Syscalls } from './syscalls/types';

/** This process's OOM score adjustment (proc(5)), which fork(2) and execve(2) keep. */
export const SCORE_FILE = '/proc/self/oom_score_adj';

/**
 * Before mountkit starts itself again in a user namespace, for a container's score below
 * this process's own: it is written into this process's own, from the host, so that
 * fork(2) gives the relaunch that score and, when this write had CAP_SYS_RESOURCE in the
 * initial user namespace, that score as the lowest it may go back to without it
 * (oom_score_adj_min, fs/proc/base.c). The namespace's root has no such capability, so a
 * score below its oom_score_adj_min would be refused there (EACCES), where runc's parent
 * writes its init's before it enters any namespace. The exec plugin's step then writes
 * that score, which is now the relaunch's own. The runtime's hooks run in this process,
 * after the returned function has written its own score back once the relaunch has
 * started, as runc's parent runs them with its own. A higher score needs nothing: the
 * relaunch may raise its own. Returns what writes this process's own score back.
 */
export function presetOomScore(sys: Pick<Syscalls, 'readFile' | 'writeFile'>, adj: number): () => void {
  return naming(`process.oomScoreAdj ${adj}`, () => {
    const own = sys.readFile(SCORE_FILE).trim();
    if (adj >= Number(own)) return () => undefined;
    sys.writeFile(SCORE_FILE, String(adj));
    return () => naming(`process.oomScoreAdj ${adj}`, () => sys.writeFile(SCORE_FILE, own));
  });
}
