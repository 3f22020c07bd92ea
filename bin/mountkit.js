#!/usr/bin/env node
'use strict';
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
