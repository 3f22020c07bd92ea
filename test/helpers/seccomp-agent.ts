import { spawn } from 'child_process';
import * as path from 'path';

export interface SeccompAgent {
  /** Resolves with the agent's exit status, once it has answered its one notification and written its report. */
  exited: Promise<number | null>;
  /** Ends the agent if it is still running. */
  kill(): void;
}

/**
 * Starts test/helpers/seccomp-agent.py listening on `socket` (a container's
 * linux.seccomp.listenerPath), answering the first notification with `errno` and writing
 * what it got to `report`; resolves once it listens.
 */
export async function startSeccompAgent(socket: string, report: string, errno: number): Promise<SeccompAgent> {
  const agent = spawn('python3', [path.join(__dirname, 'seccomp-agent.py'), socket, report, String(errno)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => agent.on('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      agent.stdout.once('data', () => resolve());
      agent.once('error', reject);
    });
  } catch (err) {
    agent.kill();
    throw err;
  }
  return { exited, kill: () => agent.kill() };
}
