#!/usr/bin/env node
'use strict';
// A write to stdout or stderr that fails (a reader gone: EPIPE, as `plan | head` makes
// it; a full device: ENOSPC) ends the CLI with the status it has, or 1 for a failed
// write of its output, instead of an uncaught error's stack trace. Node ignores
// SIGPIPE, so a closed pipe is an error here rather than the end of the process.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') {
    try {
      require('fs').writeSync(2, `mountkit: writing to stdout: ${err.code ?? err.message}\n`);
    } catch {
      // stderr is gone too: the status says it.
    }
  }
  process.exit(err.code === 'EPIPE' ? (process.exitCode ?? 0) : 1);
});
process.stderr.on('error', () => process.exit(process.exitCode ?? 1));
// The CLI, loaded from the one-file bundle `npm run build` writes when it can be used
// (dist/bundle/load.js says when); MOUNTKIT_BUNDLE=0 loads dist/cli/main.js file by file.
let main;
try {
  main = require('../dist/bundle/load').cliMain(require('path').resolve(__dirname, '..'));
} catch (err) {
  process.stderr.write(`mountkit: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
const status = main(process.argv.slice(2));
if (typeof status === 'number') process.exitCode = status;
else status.then((s) => (process.exitCode = s));
