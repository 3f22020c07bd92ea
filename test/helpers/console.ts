import { spawn, spawnSync } from 'child_process';
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
 * with that socket's path, expects it to end as `ended` (default: status 0, nothing on
 * stderr), and resolves with what the receiver got once the container is gone, having
 * read the terminal to its end (EIO).
 */
export async function throughConsole(
  dir: string,
  start: (socket: string) => { status: number | null; stderr: string },
  ended: { status: number | null; stderr: string } = { status: 0, stderr: '' },
): Promise<ConsoleSeen> {
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
    expect({ status: r.status, stderr: r.stderr }).toEqual(ended);
    expect(await exited).toBe(0);
  } finally {
    receiver.kill();
  }
  const { end, late, ...seen } = JSON.parse(readFileSync(report, 'utf8')) as { message: string; fds: number; output: string; end: string | null; late: string };
  // The output is all there only when reading ended with EIO, and nothing came after it (console-receiver.py).
  if (seen.fds) expect({ end, late, output: seen.output }).toEqual({ end: 'EIO', late: '', output: seen.output });
  return { ...seen, output: seen.output.replace(/\r/g, '').trim().split('\n') };
}

/** The terminal modes test/helpers/pty-session.py reports. */
export interface TerminalModes {
  icanon: boolean;
  echo: boolean;
  isig: boolean;
  icrnl: boolean;
  opost: boolean;
}

export interface PtySession {
  status: number | null;
  /** What the terminal showed, carriage returns included. */
  output: string;
  /** The terminal's modes at each `{ modes: true }` step, and once the command had ended. */
  modes: TerminalModes[];
  after: TerminalModes | null;
  /** The step that did not come to pass in time, if one did not. */
  timeout?: unknown;
}

export type PtyStep = { wait: string } | { send: string } | { modes: true } | { resize: [number, number] };

/** Runs `command` as a user at a terminal of `rows` x `cols` would, following `steps` (test/helpers/pty-session.py). */
export function ptySession(rows: number, cols: number, steps: PtyStep[], command: string[], cwd?: string): PtySession {
  const r = spawnSync('python3', [path.join(__dirname, 'pty-session.py'), String(rows), String(cols), JSON.stringify(steps), '--', ...command], { encoding: 'utf8', cwd, timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pty-session.py: exit ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as PtySession;
}

/**
 * The container's wait for its terminal to have the user's size (33x111): runc sets it
 * once the program runs, and races it; mountkit before the program starts.
 */
export const AWAIT_SIZE = 'i=0; while [ "$(stty size 2>/dev/null)" != "33 111" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; ';

/** A session at a terminal: the container's terminal, its size, typed input, a resize, Ctrl-C. */
export const INTERACTIVE_SCRIPT = [
  'tty; stty size; echo ready; read line; echo "got $line"',
  // The resize reaches the container's terminal from the first process's SIGWINCH handler.
  'i=0; while [ "$(stty size)" != "40 132" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; stty size',
  'trap "echo caught INT; exit 3" INT; echo armed; while :; do sleep 0.05; done',
].join('; ');

export const INTERACTIVE_STEPS: PtyStep[] = [
  { wait: 'ready' },
  { modes: true },
  { send: 'hello\r' },
  { wait: 'got hello' },
  { resize: [40, 132] },
  { wait: '40 132' },
  { wait: 'armed' },
  { send: '\u0003' },
];
