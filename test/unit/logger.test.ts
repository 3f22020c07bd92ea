import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { droppedLogLine, fileTextLine, jsonLine, linesLogger, logTime, silentLogger, textLine } from '../../src/core/logger';
import type { Logger } from '../../src/core/plugin';

const REPO = path.resolve(__dirname, '..', '..');
const TS_REGISTER = path.join(REPO, 'test', 'helpers', 'ts-register.js');

/** Runs `body` in a fresh Node with `createLogger` in scope; returns its stderr and stdout. */
function inNode(body: string, env: NodeJS.ProcessEnv = process.env): { stderr: string; stdout: string } {
  const script = `const { createLogger } = require('./src/core/logger');\n${body}`;
  const r = spawnSync(process.execPath, ['-r', TS_REGISTER, '-e', script], { cwd: REPO, encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return { stderr: r.stderr, stdout: r.stdout };
}

const LOGS = `
const log = createLogger(OPTS).child({ plugin: 'tmpfs' });
log.error('boom', { errno: 'EPERM' });
log.warn('careful', { flags: 10n });
log.info('hello');
log.debug('details');
createLogger(OPTS).warn('no plugin');
log.child({ mount: 2 }).warn('nested', { plugin: 'override' });
`;

describe('linesLogger', () => {
  test('each level calls line with its name, the message and the meta as given; child is the one given', () => {
    const lines: unknown[][] = [];
    const made: Record<string, unknown>[] = [];
    const logger: Logger = linesLogger(
      (level, message, meta) => void lines.push([level, message, meta]),
      (meta) => (made.push(meta), silentLogger),
    );
    logger.error('e', { a: 1 });
    logger.warn('w');
    logger.info('i', {});
    logger.debug('d', { b: 2n });
    expect(logger.child({ plugin: 'p' })).toBe(silentLogger);
    expect(lines).toEqual([
      ['error', 'e', { a: 1 }],
      ['warn', 'w', undefined],
      ['info', 'i', {}],
      ['debug', 'd', { b: 2n }],
    ]);
    expect(made).toEqual([{ plugin: 'p' }]);
  });
});

describe('textLine', () => {
  test.each([
    ['warn', 'm', {}, 'mountkit warn: m'],
    ['error', 'm', { plugin: 'bind' }, 'mountkit error [bind]: m'],
    ['debug', 'm', { plugin: 'bind', ms: 1.5 }, 'mountkit debug [bind]: m {"ms":1.5}'],
    ['warn', 'm', { flags: 0x1000n }, 'mountkit warn: m {"flags":"0x1000"}'],
  ])('%s %j %j', (level, message, meta, line) => {
    expect(textLine(level, message, meta)).toBe(line);
  });
});

const AT = new Date(Date.UTC(2026, 11, 1, 9, 30, 0, 123));

describe('the lines a log file has', () => {
  test.each([
    [new Date(Date.UTC(2026, 11, 1, 9, 30, 0, 123)), '2026-12-01T09:30:00.123Z'],
    [new Date(Date.UTC(2026, 0, 2, 3, 4, 5, 0)), '2026-01-02T03:04:05.000Z'],
  ])('logTime(%s): RFC 3339 with milliseconds, UTC -> %s', (time, text) => {
    expect(logTime(time)).toBe(text);
    expect(new Date(text).getTime()).toBe(time.getTime());
  });

  test.each([
    [{ pid: 4242 }, 'mountkit warn: m', '2026-12-01T09:30:00.123Z pid=4242 mountkit warn: m'],
    [{ pid: 4242, id: 'web-1' }, 'mountkit error [bind]: m {"a":1}', '2026-12-01T09:30:00.123Z pid=4242 id=web-1 mountkit error [bind]: m {"a":1}'],
    [{ pid: 7, id: 'a_b+c,d-e.f' }, 'mountkit info: m', '2026-12-01T09:30:00.123Z pid=7 id=a_b+c,d-e.f mountkit info: m'],
    // An id runc would refuse (the default one of a bundle whose name is none, in the error that says so) is quoted.
    [{ pid: 7, id: 'my bundle' }, 'mountkit error: m', '2026-12-01T09:30:00.123Z pid=7 id="my bundle" mountkit error: m'],
    [{ pid: 7, id: '' }, 'mountkit error: m', '2026-12-01T09:30:00.123Z pid=7 id="" mountkit error: m'],
  ])('a text line of run %j: %j -> %j', (run, line, expected) => {
    expect(fileTextLine(AT, run, line)).toBe(expected);
  });

  test.each([
    [{ pid: 4242 }, 'warn', 'm', {}, { time: '2026-12-01T09:30:00.123Z', level: 'warn', pid: 4242, msg: 'm' }],
    [{ pid: 4242, id: 'web-1' }, 'debug', 'phase mounts end', { plugin: 'bind', ms: 1.5 }, { time: '2026-12-01T09:30:00.123Z', level: 'debug', pid: 4242, id: 'web-1', msg: 'phase mounts end', plugin: 'bind', ms: 1.5 }],
    [{ pid: 1 }, 'info', 'm', { flags: 0x1000n }, { time: '2026-12-01T09:30:00.123Z', level: 'info', pid: 1, msg: 'm', flags: '0x1000' }],
    // A plugin's meta named as a field of the line's own is kept beside it, as logrus keeps a clashing field.
    [{ pid: 9, id: 'c' }, 'info', 'm', { pid: 3, id: 'x', time: 't', level: 'l', msg: 'n', Msg: 'N', TIME: 'T', message: 'kept', other: 1 }, { time: '2026-12-01T09:30:00.123Z', level: 'info', pid: 9, id: 'c', msg: 'm', 'fields.pid': 3, 'fields.id': 'x', 'fields.time': 't', 'fields.level': 'l', 'fields.msg': 'n', 'fields.Msg': 'N', 'fields.TIME': 'T', message: 'kept', other: 1 }],
  ])('a JSON line of run %j, %s %j %j', (run, level, message, meta, expected) => {
    const line = jsonLine(AT, run, level, message, meta);
    expect(JSON.parse(line)).toEqual(expected);
    expect(Object.keys(JSON.parse(line))).toEqual(Object.keys(expected));
    expect(line).not.toContain('\n');
  });
});

/** What LOGS writes at the default level. */
const expected = [
  'mountkit error [tmpfs]: boom {"errno":"EPERM"}',
  'mountkit warn [tmpfs]: careful {"flags":"0xa"}',
  'mountkit warn: no plugin',
  'mountkit warn [override]: nested {"mount":2}',
  '',
].join('\n');

describe('createLogger', () => {

  test('the default writes warnings and errors as text on stderr without loading winston', () => {
    const r = inNode(`${LOGS.replace(/OPTS/g, '{}')}
process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('/node_modules/winston/'))));`);
    expect(r.stderr).toBe(expected);
    expect(r.stdout).toBe('false');
  });

  test('level error drops warnings', () => {
    expect(inNode(LOGS.replace(/OPTS/g, "{ level: 'error' }")).stderr).toBe('mountkit error [tmpfs]: boom {"errno":"EPERM"}\n');
  });

  test('the debug level goes through winston and writes the same lines, plus info and debug', () => {
    const r = inNode(`${LOGS.replace(/OPTS/g, "{ level: 'debug' }")}
process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('/node_modules/winston/'))));`);
    expect(r.stderr).toBe(
      [
        'mountkit error [tmpfs]: boom {"errno":"EPERM"}',
        'mountkit warn [tmpfs]: careful {"flags":"0xa"}',
        'mountkit info [tmpfs]: hello',
        'mountkit debug [tmpfs]: details',
        'mountkit warn: no plugin',
        'mountkit warn [override]: nested {"mount":2}',
        '',
      ].join('\n'),
    );
    expect(r.stdout).toBe('true');
  });
});

describe('createLogger: warnings and errors without winston, each line as winston writes it', () => {
  /** The lines of LOGS at `level` in `format` to a file, the time taken out, and whether winston was loaded. */
  function logged(level: string, format: string): { lines: string[]; winston: boolean } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-log-'));
    try {
      const file = path.join(dir, 'log');
      const r = inNode(`${LOGS.replace(/OPTS/g, `{ level: '${level}', format: '${format}', file: ${JSON.stringify(file)}, run: { pid: 4242, id: 'web-1' } }`)}
process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('/node_modules/winston/'))));`);
      expect(r.stderr).toBe('');
      const untimed = (line: string) => (format === 'json' ? JSON.stringify({ ...JSON.parse(line), time: 'T' }) : line.replace(/^\S+ /, 'T '));
      return { lines: fs.readFileSync(file, 'utf8').trimEnd().split('\n').map(untimed), winston: r.stdout === 'true' };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test.each(['text', 'json'])('a --log file as %s at level warn: the lines winston writes at level debug, but info and debug, and winston never loaded', (format) => {
    const direct = logged('warn', format);
    const byWinston = logged('debug', format);
    expect([direct.winston, byWinston.winston]).toEqual([false, true]);
    expect(byWinston.lines).toHaveLength(6);
    expect(direct.lines).toEqual(byWinston.lines.filter((l) => !/"level":"(info|debug)"| mountkit (info|debug) /.test(l)));
    expect(direct.lines).toHaveLength(4);
  });

  test.each(['text', 'json'])("meta keys named as a line's own fields or winston's (level, message, time, msg), as %s: the same line at level warn and through winston at level debug", (format) => {
    const line = (level: string) =>
      inNode(`createLogger({ level: '${level}', format: '${format}', run: { pid: 7 } }).child({ plugin: 'p', message: 'from child' }).warn('a', { level: 'x', message: 'm', time: 't', msg: 'y' });`)
        .stderr.replace(/^\{"time":"[^"]*",/, '{');
    const direct = line('warn');
    expect(line('debug')).toBe(direct);
    expect(direct).toBe(
      format === 'json'
        ? '{"level":"warn","pid":7,"msg":"a","plugin":"p","message":"m","fields.level":"x","fields.time":"t","fields.msg":"y"}\n'
        : 'mountkit warn [p]: a {"message":"m","level":"x","time":"t","msg":"y"}\n',
    );
  });

  test('JSON on stderr at level error: the error alone, winston never loaded', () => {
    const r = inNode(`${LOGS.replace(/OPTS/g, "{ level: 'error', format: 'json', run: { pid: 7, id: 'c' } }")}
process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes('/node_modules/winston/'))));`);
    expect(r.stdout).toBe('false');
    const lines = r.stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map(({ time: _time, ...rest }) => rest)).toEqual([{ level: 'error', pid: 7, id: 'c', msg: 'boom', plugin: 'tmpfs', errno: 'EPERM' }]);
  });
});

describe('createLogger: the run in each line', () => {
  const FILE_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z) pid=(\d+) id=web-1 (mountkit .*)$/;

  test.each([
    ['warn', "level: 'warn'"],
    ['debug', "level: 'debug'"],
  ])('--log FILE as text (%s): each line the time, the pid and the id, then the line stderr would have; stderr gets nothing', (_level, level) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-log-'));
    try {
      const file = path.join(dir, 'log');
      const r = inNode(LOGS.replace(/OPTS/g, `{ ${level}, file: ${JSON.stringify(file)}, run: { pid: 4242, id: 'web-1' } }`));
      expect(r.stderr).toBe('');
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      const parsed = lines.map((line) => FILE_LINE.exec(line));
      expect(parsed.every(Boolean)).toBe(true);
      expect(parsed.map((m) => m![2])).toEqual(lines.map(() => '4242'));
      for (const m of parsed) expect(new Date(m![1]).toISOString()).toBe(m![1]);
      const tails = parsed.map((m) => m![3]);
      expect([...tails, ''].join('\n')).toBe(level.includes('debug') ? expected.replace('careful {"flags":"0xa"}\n', 'careful {"flags":"0xa"}\nmountkit info [tmpfs]: hello\nmountkit debug [tmpfs]: details\n') : expected);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('JSON on stderr: each line the time, this process\'s pid by default, no id', () => {
    const r = inNode(`${LOGS.replace(/OPTS/g, "{ format: 'json' }")}
process.stdout.write(String(process.pid));`);
    const lines = r.stderr.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.map((l) => l.msg)).toEqual(['boom', 'careful', 'no plugin', 'nested']);
    for (const l of lines) {
      expect(Object.keys(l).slice(0, 4)).toEqual(['time', 'level', 'pid', 'msg']);
      expect(l.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(l.pid).toBe(Number(r.stdout));
    }
    expect(lines[0]).toMatchObject({ level: 'error', plugin: 'tmpfs', errno: 'EPERM' });
  });

  test('the text lines on stderr, at any level, stay as they were: no time, no pid', () => {
    expect(inNode(LOGS.replace(/OPTS/g, "{ run: { pid: 4242, id: 'web-1' } }")).stderr).toBe(expected);
    expect(inNode(LOGS.replace(/OPTS/g, "{ level: 'debug', run: { pid: 4242, id: 'web-1' } }")).stderr).not.toMatch(/pid=|web-1|^\d{4}-/m);
  });
});

describe('stderr as a pipe', () => {
  const O_NONBLOCK = 0o4000;
  const flagsOf2 = "Number.parseInt(/^flags:\\s+(\\d+)$/m.exec(require('fs').readFileSync('/proc/self/fdinfo/2', 'utf8'))[1], 8)";

  test('the default logger writes warnings with write(2): stderr stays blocking, as the relaunch was given it', () => {
    const r = inNode(`${LOGS.replace(/OPTS/g, '{}')}
process.stdout.write(String(${flagsOf2} & ${O_NONBLOCK}));`);
    expect(r.stderr).toBe(expected);
    expect(r.stdout).toBe('0');
  });

  test.each([
    ['debug', "{ level: 'debug' }"],
    ['JSON', "{ format: 'json' }"],
    ['a file', "{ file: '/dev/null', level: 'info' }"],
  ])('winston (%s) is loaded without Node opening stdout or stderr: both stay blocking, and stdout gets nothing', (_what, opts) => {
    const flagsOf = (fd: number) => flagsOf2.replace('fdinfo/2', `fdinfo/${fd}`);
    const r = inNode(`${LOGS.replace(/OPTS/g, opts)}
require('fs').writeSync(2, 'flags ' + (${flagsOf(1)} & ${O_NONBLOCK}) + ' ' + (${flagsOf(2)} & ${O_NONBLOCK}) + '\\n');`);
    expect(r.stderr).toMatch(/^flags 0 0$/m);
    expect(r.stdout).toBe('');
  });

  // @dabh/diagnostics, which winston loads, writes its lines with console.log when DEBUG names winston; Node's console keeps the first stream it reads.
  test('with DEBUG naming winston, loading it leaves the global console working: both streams stay blocking, and console.log writes to stdout after', () => {
    const flagsOf = (fd: number) => flagsOf2.replace('fdinfo/2', `fdinfo/${fd}`);
    const r = inNode(
      `createLogger({ level: 'debug' }).info('logged');
require('fs').writeSync(2, 'flags ' + (${flagsOf(1)} & ${O_NONBLOCK}) + ' ' + (${flagsOf(2)} & ${O_NONBLOCK}) + '\\n');
console.log('console after');`,
      { ...process.env, DEBUG: 'winston:*' },
    );
    expect(r).toEqual({ stdout: 'console after\n', stderr: 'mountkit info: logged\nflags 0 0\n' });
  });

  test('a stream an embedder made for good (not configurable) is left as it is, and the others are put back', () => {
    const r = inNode(`const fs = require('fs');
const own = { isTTY: false, write: (s) => fs.writeSync(2, 'own ' + s) };
Object.defineProperty(process, 'stderr', { value: own, configurable: false });
createLogger({ level: 'debug' }).info('logged');
process.stderr.write('stderr after\\n');
process.stdout.write('stdout after');`);
    expect(r).toEqual({ stdout: 'stdout after', stderr: 'mountkit info: logged\nown stderr after\n' });
  });

  test('a stream process has no property for is not left behind', () => {
    const r = inNode(`delete process.stdout;
createLogger({ level: 'debug' }).info('logged');
require('fs').writeSync(1, String('stdout' in process));`);
    expect(r).toEqual({ stdout: 'false', stderr: 'mountkit info: logged\n' });
  });

  // The child fills the 64 KiB pipe first, and its reader starts only once the child says it is full: a non-blocking write(2) fails EAGAIN until the reader drains it.
  test.each(['warn', 'debug'])('level %s: every line reaches a non-blocking stderr whose pipe is full', (level) => {
    const full = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-log-')), 'full');
    const script = `const fs = require('fs');
const { createLogger } = require('./src/core/logger');
const log = createLogger({ level: '${level}' });
new (require('./src/core/syscalls/linux').LinuxSyscalls)().setNonBlocking(2);
try { for (;;) fs.writeSync(2, '#'.repeat(4095) + '\\n'); } catch (err) { if (err.code !== 'EAGAIN') throw err; }
fs.writeFileSync(${JSON.stringify(full)}, '');
for (let i = 0; i < 2000; i++) log.warn(String(i).padStart(40, '.'));`;
    const reader = 'until [ -e "$0" ]; do sleep 0.05; done; grep "^mountkit"';
    const r = spawnSync('/bin/sh', ['-c', `"$@" 2>&1 >/dev/null | sh -c '${reader}' ${full}`, 'sh', process.execPath, '-r', TS_REGISTER, '-e', script], { cwd: REPO, encoding: 'utf8' });
    fs.rmSync(path.dirname(full), { recursive: true });
    expect(r.stdout.split('\n')).toEqual([...Array.from({ length: 2000 }, (_, i) => `mountkit warn: ${String(i).padStart(40, '.')}`), '']);
  });
});

describe('a log file that cannot be written', () => {
  test.each([
    ['--log', '/dev/full', Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' }), 'mountkit: --log "/dev/full": write: ENOSPC; the rest of the log is dropped'],
    ['log file', '/l\n"x', Object.assign(new Error('EIO: i/o error, write'), { code: 'EIO' }), 'mountkit: log file "/l\\n\\"x": write: EIO; the rest of the log is dropped'],
    ['--log', '/l', new Error('no code'), 'mountkit: --log "/l": write: no code; the rest of the log is dropped'],
  ])('%s %j, %s', (option, file, err, line) => expect(droppedLogLine(option, file, err)).toBe(line));

  test.each(['text', 'json'])('/dev/full as %s: no log call throws, stderr is told once in one line, the later lines dropped', (format) => {
    const r = inNode(`
const log = createLogger({ file: '/dev/full', format: '${format}', level: 'debug', fileOption: '--log' }).child({ plugin: 'exec' });
log.warn('first');
log.error('second');
log.info('third');
log.child({ mount: 1 }).debug('fourth');
process.stdout.write('all logged');`);
    expect(r).toEqual({ stdout: 'all logged', stderr: 'mountkit: --log "/dev/full": write: ENOSPC; the rest of the log is dropped\n' });
  });
});

// A relaunch's --log file, which its starter opened on the host (cli/run.ts, core/relaunch.ts RELAUNCH_LOG_FD).
describe('fileFd: the file given open', () => {
  test.each(['text', 'json'])('as %s: the lines go to the descriptor, and the path, which names a file that cannot be opened, is never opened', (format) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-log-'));
    try {
      const file = path.join(dir, 'log');
      const r = inNode(`
const fd = require('fs').openSync(${JSON.stringify(file)}, 'a');
const log = createLogger({ file: '/nonexistent-dir/log', fileFd: fd, format: '${format}', level: 'debug', run: { pid: 4242, id: 'web-1' } });
log.warn('first');
log.debug('second');`);
      expect(r).toEqual({ stdout: '', stderr: '' });
      const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
      if (format === 'json') expect(lines.map((l) => JSON.parse(l)).map((l) => [l.pid, l.id, l.level, l.msg])).toEqual([[4242, 'web-1', 'warn', 'first'], [4242, 'web-1', 'debug', 'second']]);
      else expect(lines.map((l) => l.replace(/^\S+ /, ''))).toEqual(['pid=4242 id=web-1 mountkit warn: first', 'pid=4242 id=web-1 mountkit debug: second']);
      expect(fs.existsSync('/nonexistent-dir')).toBe(false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('one that cannot be written (/dev/full): stderr is told once, naming the file by its path', () => {
    const r = inNode(`
const log = createLogger({ file: '/var/log/app.log', fileFd: require('fs').openSync('/dev/full', 'a'), fileOption: '--log' });
log.warn('first');
log.error('second');
process.stdout.write('all logged');`);
    expect(r).toEqual({ stdout: 'all logged', stderr: 'mountkit: --log "/var/log/app.log": write: ENOSPC; the rest of the log is dropped\n' });
  });
});

// mountkit run gives its copy of the stderr it was started with (core/streams.ts keepStderr): the console step puts the container's terminal on 2.
describe('stderrFd: another descriptor for stderr', () => {
  /** Runs `body` with `out` a file opened for writing at that path's descriptor; returns the file's content and the child's stderr. */
  function toFile(body: string): { file: string; stderr: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mountkit-log-'));
    try {
      const file = path.join(dir, 'out');
      const r = inNode(`const out = require('fs').openSync(${JSON.stringify(file)}, 'w');\n${body}`);
      return { file: fs.readFileSync(file, 'utf8'), stderr: r.stderr };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test('the default logger writes its lines there, none to 2', () => {
    expect(toFile(LOGS.replace(/OPTS/g, '{ stderrFd: out }'))).toEqual({ file: expected, stderr: '' });
  });

  test('winston (debug) writes its lines there, none to 2', () => {
    const r = toFile(LOGS.replace(/OPTS/g, "{ level: 'debug', stderrFd: out }"));
    expect(r.stderr).toBe('');
    expect(r.file.split('\n')).toEqual(['mountkit error [tmpfs]: boom {"errno":"EPERM"}', 'mountkit warn [tmpfs]: careful {"flags":"0xa"}', 'mountkit info [tmpfs]: hello', 'mountkit debug [tmpfs]: details', 'mountkit warn: no plugin', 'mountkit warn [override]: nested {"mount":2}', '']);
  });

  test('with a file that cannot be written, the line telling so goes there, none to 2', () => {
    const r = toFile(`createLogger({ file: '/dev/full', fileOption: '--log', stderrFd: out }).warn('lost');`);
    expect(r).toEqual({ file: 'mountkit: --log "/dev/full": write: ENOSPC; the rest of the log is dropped\n', stderr: '' });
  });
});
