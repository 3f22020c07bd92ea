/**
 * A command run to its end from `mountkit run`'s first process without holding its event
 * loop: what the port's runCommand does (core/syscalls/linux.ts), but promised, so that
 * the foreground console is copied and signals are passed on while a poststart hook runs
 * (core/runtime-hooks.ts). The same environment, directory, argv[0], standard input and
 * timeout (SIGTERM, as spawnSync sends it there). stdout and stderr are one socket, so
 * that their output keeps its order, as runCommand's single memfd keeps it; it is read as
 * it comes, and what is left once the command has exited is read then, without waiting
 * for what the command started and left holding it.
 */
import { readSync } from 'fs';
import { SyscallError, errnoNumber } from '../core/errors';
import { envRecord } from '../core/programs';
import type { CommandResult, CommandSpec, Syscalls } from '../core/syscalls/types';

export function runCommandAsync(sys: Pick<Syscalls, 'socketPair' | 'close'>, cmd: CommandSpec): Promise<CommandResult> {
  const { spawn } = require('child_process') as typeof import('child_process');
  const { Socket } = require('net') as typeof import('net');
  const env = envRecord(cmd.env);
  const [here, there] = sys.socketPair();
  let child: import('child_process').ChildProcess;
  try {
    child = spawn(cmd.path, cmd.args, { env, cwd: cmd.dir || undefined, argv0: cmd.argv0, stdio: ['pipe', there, there], timeout: cmd.timeoutMs });
  } catch (err) {
    sys.close(here);
    return Promise.reject(startFailure(cmd, err as NodeJS.ErrnoException));
  } finally {
    // The command has its own copy.
    sys.close(there);
  }
  // Reading makes `here` non-blocking (libuv), which the last read below needs.
  const output = new Socket({ fd: here, readable: true, writable: false });
  const chunks: Buffer[] = [];
  output.on('data', (chunk: Buffer) => chunks.push(chunk));
  output.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    child.on('error', (err: NodeJS.ErrnoException) => {
      // Not started (no exit follows); a later error (a failed kill) changes nothing.
      if (child.pid !== undefined) return;
      output.destroy();
      reject(startFailure(cmd, err));
    });
    // A command that exits without reading its stdin leaves EPIPE here; its status is what counts.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(cmd.stdin ?? '');
    child.on('exit', (status, signal) => {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        let n: number;
        try {
          n = readSync(here, buf, 0, buf.length, null);
        } catch {
          break;
        }
        if (n <= 0) break;
        chunks.push(Buffer.from(buf.subarray(0, n)));
      }
      output.destroy();
      resolve({ status, signal, output: Buffer.concat(chunks).toString('utf8') });
    });
  });
}

/** A command that did not start, as the port names it: execve and its errno. */
function startFailure(cmd: CommandSpec, err: NodeJS.ErrnoException): Error {
  const code = err.code !== undefined && /^E[A-Z0-9]+$/.test(err.code) ? err.code : undefined;
  return code ? new SyscallError('execve', errnoNumber(code), [cmd.path]) : err;
}
