import { spawnSync } from 'child_process';
import * as path from 'path';
import { droppedLogLine, textLine } from '../../src/core/logger';

const REPO = path.resolve(__dirname, '..', '..');
const TS_REGISTER = path.join(REPO, 'test', 'helpers', 'ts-register.js');

/** Runs `body` in a fresh Node with `createLogger` in scope; returns its stderr and stdout. */
function inNode(body: string): { stderr: string; stdout: string } {
  const script = `const { createLogger } = require('./src/core/logger');\n${body}`;
  const r = spawnSync(process.execPath, ['-r', TS_REGISTER, '-e', script], { cwd: REPO, encoding: 'utf8' });
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

describe('createLogger', () => {
  const expected = [
    'mountkit error [tmpfs]: boom {"errno":"EPERM"}',
    'mountkit warn [tmpfs]: careful {"flags":"0xa"}',
    'mountkit warn: no plugin',
    'mountkit warn [override]: nested {"mount":2}',
    '',
  ].join('\n');

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
