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

/**
 * `status`, once every stream written to has handed what it holds to the kernel: a write
 * to a full pipe waits in the stream (writableLength), and process.exit() would drop it.
 * A stream that fails closes, with nothing more to wait for; its error, where nothing
 * else listens, is bin/mountkit.js's to report. At once, as a number, when nothing waits.
 */
export function written(status: number): number | Promise<number> {
  const waiting = [...used].map((name) => process[name]).filter((stream) => stream.writableLength > 0);
  if (waiting.length === 0) return status;
  return Promise.all(
    waiting.map(
      (stream) =>
        new Promise<void>((resolve) => {
          stream.once('drain', resolve);
          stream.once('close', resolve);
        }),
    ),
  ).then(() => status);
}
