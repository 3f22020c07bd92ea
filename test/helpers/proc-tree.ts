import { spawn } from 'child_process';
import { statSync } from 'fs';
import { childrenOf } from '../../src/cli/forward';

/**
 * The pids of `pid`'s descendants, parents before their children, whichever of its
 * threads forked them (runc's Go threads do), as src/cli/forward.ts childrenOf lists a
 * process's children, at every level.
 */
export function descendantsOf(pid: number): number[] {
  return childrenOf(pid).flatMap((kid) => [kid, ...descendantsOf(kid)]);
}

/**
 * Whether `pid` runs this Node's executable: its /proc/PID/exe is that file, from where it
 * lies or from a read-only copy of its mount (src/core/sealed-node.ts: the same device and
 * inode, where the link reads as the copy's root).
 */
export function runsNode(pid: number): boolean {
  const node = statSync(process.execPath);
  try {
    const exe = statSync(`/proc/${pid}/exe`);
    return exe.dev === node.dev && exe.ino === node.ino;
  } catch {
    return false;
  }
}

/** How many of `pid` and its descendants run this Node's executable (runsNode). */
export function nodeProcessesIn(pid: number): number {
  return [pid, ...descendantsOf(pid)].filter(runsNode).length;
}

/** A run of runCountingNodes: its status and output, and the Node processes counted once its marker came (-1 if it never did). */
export interface CountedRun {
  status: number | null;
  stdout: string;
  stderr: string;
  nodes: number;
}

/**
 * `argv` spawned with pipes for its standard streams (Node's: socketpairs): once its
 * standard output holds `marker`, the Node processes among it and its descendants are
 * counted (nodeProcessesIn) and "go" is written to its standard input as a line, which
 * is then closed. Resolves at its close.
 */
export function runCountingNodes(argv: readonly string[], env: NodeJS.ProcessEnv, marker: string): Promise<CountedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0], argv.slice(1), { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let nodes = -1;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d;
      if (nodes !== -1 || !stdout.includes(marker)) return;
      nodes = nodeProcessesIn(child.pid!);
      child.stdin.end('go\n');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr, nodes }));
  });
}
