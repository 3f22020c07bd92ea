import { readFileSync } from 'fs';
import * as path from 'path';
import { relaunchEnd } from '../../src/cli/relaunch-end';
import { eventLine } from '../../src/core/runtime-channel';

/**
 * bin/mountkit tells a Node killed before the container's program started by the exec
 * event its Node writes on the launcher's pipe (RootfsConfig.execNotice), and ends such a
 * run with the line the Node entry gives (cli/relaunch-end.ts). The shell cannot import
 * either: its copies are checked against them here.
 */
const script = readFileSync(path.join(__dirname, '..', '..', 'bin', 'mountkit'), 'utf8');

test("the launcher's read loop takes the exec event's line as the exec step writes it", () => {
  expect(script).toContain(`    '${eventLine('exec').trimEnd()}') started=1 ;;\n`);
});

test("the launcher's error for a Node a signal ended before the program started is the Node entry's, the signal named by kill -l", () => {
  const end = relaunchEnd({ status: 128 + 9, signal: null }, true, false);
  expect(end).toEqual({ error: expect.stringMatching(/ SIGKILL$/) });
  const { error } = end as { error: string };
  expect(script).toContain(`  echo "mountkit: ${error.replace(/SIGKILL$/, 'SIG$(kill -l $((status - 128)))')}" >&2\n`);
});
