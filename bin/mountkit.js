#!/usr/bin/env node
'use strict';
// A write to stdout or stderr that fails (a reader gone: EPIPE, as `plan | head` makes
// it; a full device: ENOSPC) reaches here as an uncaught error, the streams having no
// listener (one to --log's file is told of and dropped by the logger, core/logger.ts). It ends the CLI with the status it has (1 when its own
// output could not be written) instead of a stack trace. Node ignores SIGPIPE, so a closed pipe is an error
// rather than the end of the process. The streams themselves are not touched here:
// making one sets O_NONBLOCK on a pipe behind it (libuv), which the container would
// inherit through execve.
process.on('uncaughtException', (err) => {
  if (err && err.syscall === 'write' && typeof err.code === 'string') {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    // stderr is what failed when this cannot be written: the status the CLI had says the rest.
    if (!writeStderr(`mountkit: writing output: ${err.code}\n`)) process.exit(process.exitCode ?? 1);
    process.exit(process.exitCode || 1);
  }
  writeStderr(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
// `text` written whole to descriptor 2 with write(2), false where that fails. A stderr that
// Node has made non-blocking (a pipe it wrote to) refuses a write while it is full
// (EAGAIN): that is waited on, as a blocking write(2) waits for the reader.
function writeStderr(text) {
  const { writeSync } = require('fs');
  const data = Buffer.from(text);
  const pause = new Int32Array(new SharedArrayBuffer(4));
  try {
    for (let done = 0; done < data.length; ) {
      try {
        done += writeSync(2, data, done);
      } catch (err) {
        if (err.code !== 'EAGAIN') throw err;
        Atomics.wait(pause, 0, 0, 1);
      }
    }
    return true;
  } catch {
    return false;
  }
}
// The CLI, loaded from the one-file bundle `npm run build` writes when it can be used
// (dist/bundle/load.js says when); MOUNTKIT_BUNDLE=0 loads dist/cli/main.js file by file.
let main;
try {
  main = require('../dist/bundle/load').cliMain(require('path').resolve(__dirname, '..'));
} catch (err) {
  process.stderr.write(`mountkit: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
// Ended once the status is known, its output written (src/cli/output.ts): a timer or a
// socket a plugin module left open would otherwise keep Node, and so mountkit, running.
const end = (s) => {
  process.exitCode = s;
  setImmediate(() => process.exit(s));
};
const status = main(process.argv.slice(2));
if (typeof status === 'number') end(status);
else status.then(end);
