import { readFileSync } from 'fs';
import * as path from 'path';
import { relaunchEnd } from '../../src/cli/relaunch-end';
import { fileTextLine, jsonLine, logTime, textLine } from '../../src/core/logger';
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
  expect(script).toContain(`  error_line "${error.replace(/SIGKILL$/, 'SIG$(kill -l $((status - 128)))')}"\n`);
});

/** The launcher's printf(1) format for a log line of `format`, with each %s given its argument in turn. */
function printed(format: 'json' | 'text', args: string[]): string {
  const pattern = format === 'json' ? /^ {4}printf '(\{"time"[^']*)' / : /^ {4}printf '(%s pid=[^']*)' /;
  const printf = pattern.exec(script.split('\n').find((line) => pattern.test(line)) ?? '')?.[1];
  expect(printf).toBeDefined();
  const rest = [...args];
  return printf!.replace(/%s/g, () => rest.shift()!).replace(/\\n$/, '\n');
}

test("the launcher's error line in a log (error_line) is the logger's: a JSON line's keys in jsonLine's order, a text line as fileTextLine gives it", () => {
  const time = new Date(Date.UTC(2026, 11, 7, 23, 0, 0, 123));
  const run = { pid: 4242, id: 'web-1' };
  const message = "unable to start the container's process: the process preparing the rootfs was killed by SIGSYS";
  // log_line's arguments: the time, the pid, the id's field as the shell makes it, the message (as json_string quotes it for JSON).
  expect(printed('json', [logTime(time), '4242', ',"id":"web-1"', JSON.stringify(message)])).toBe(`${jsonLine(time, run, 'error', message, {})}\n`);
  expect(printed('text', [logTime(time), '4242', ' id=web-1', message])).toBe(`${fileTextLine(time, run, textLine('error', message, {}))}\n`);
});
