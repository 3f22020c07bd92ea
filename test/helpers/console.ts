import { spawn } from 'child_process';
import { mkdirSync, readFileSync } from 'fs';
import * as path from 'path';

export interface ConsoleSeen {
  /** The text of the message the runtime sent with the master. */
  message: string;
  /** How many descriptors came with it. */
  fds: number;
  /** What the container wrote to its terminal, line by line, without carriage returns. */
  output: string[];
}

/**
 * Starts test/helpers/console-receiver.py on a socket in `dir` (made here), runs `start`
 * with that socket's path, expects it to succeed, and resolves with what the receiver
 * got once the container is gone.
 */
export async function throughConsole(dir: string, start: (socket: string) => { status: number | null; stderr: string }): Promise<ConsoleSeen> {
  mkdirSync(dir, { recursive: true });
  const socket = path.join(dir, 'console.sock');
  const report = path.join(dir, 'report.json');
  const receiver = spawn('python3', [path.join(__dirname, 'console-receiver.py'), socket, report], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => receiver.on('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      receiver.stdout.once('data', () => resolve());
      receiver.once('error', reject);
    });
    const r = start(socket);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
    expect(await exited).toBe(0);
  } finally {
    receiver.kill();
  }
  const seen = JSON.parse(readFileSync(report, 'utf8')) as { message: string; fds: number; output: string };
  return { ...seen, output: seen.output.replace(/\r/g, '').trim().split('\n') };
}
