/**
 * Node's streams of the standard output and error (process.stdout, process.stderr) as the
 * CLI writes to them, and its status once what they hold is written. Node makes each the
 * first time it is read and makes a pipe behind it non-blocking (libuv), so only a stream
 * the CLI has written to is looked at again.
 */

type StreamName = 'stdout' | 'stderr';

const used = new Set<StreamName>();

/** process.stdout or process.stderr, for the CLI to write to. */
export function standardStream(name: StreamName): NodeJS.WriteStream {
  used.add(name);
  return process[name];
}

/** What written writes to learn that the writes before it are done: nothing. */
const NOTHING = Buffer.alloc(0);

/**
 * `status`, once every stream written to has handed what it holds to the kernel: a write
 * to a full pipe waits in the stream (writableLength), and process.exit() would drop it.
 * The callback of a write of nothing tells when: a stream does its writes in their order,
 * and calls each one's back once it is done or has failed. 'drain' would not: Node emits
 * it only after a write that filled the stream's buffer (highWaterMark, 16 KiB), not after
 * a shorter one waiting for its reader. Meanwhile `status` is the process's exit code
 * (process.exitCode): a write that fails ends the CLI with it (bin/mountkit.js). A stream
 * that has failed (destroyed) is waited on no more. At once, as a number, when nothing
 * waits.
 */
export function written(status: number): number | Promise<number> {
  const waiting = [...used].map((name) => process[name]).filter((stream) => stream.writableLength > 0 && !stream.destroyed);
  if (waiting.length === 0) return status;
  process.exitCode = status;
  return Promise.all(waiting.map((stream) => new Promise<void>((resolve) => void stream.write(NOTHING, () => resolve())))).then(() => status);
}
