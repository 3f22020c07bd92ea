import { CALLER_ENV_ENV, COPY_MARK, callerEnvFd, parseCallerEnv, takeCallerEnv, type CopyPort } from '../../src/cli/caller-env';
import { SyscallError, StepError } from '../../src/core/errors';

/** A port that records its calls and reads `copy` (or fails with `readCode`, `closeCode`). */
function fakePort(copy: Buffer | string, failures: { readCode?: string; closeCode?: string } = {}) {
  const calls: [string, number][] = [];
  const fail = (code: string): never => {
    throw Object.assign(new Error(`${code}: failed`), { code });
  };
  const port: CopyPort = {
    readAll: (fd) => {
      calls.push(['readAll', fd]);
      if (failures.readCode) fail(failures.readCode);
      return Buffer.isBuffer(copy) ? copy : Buffer.from(copy, 'utf8');
    },
    close: (fd) => {
      calls.push(['close', fd]);
      if (failures.closeCode) fail(failures.closeCode);
    },
  };
  return { port, calls };
}

const whole = (...entries: string[]): string => `${COPY_MARK}${entries.map((e) => `${e}\0`).join('')}${COPY_MARK}`;

describe('callerEnvFd', () => {
  test.each([
    ['this pid', '42:9', 9],
    ['another digit', '42:5', 5],
    ['another pid', '41:9', undefined],
    ['absent', undefined, undefined],
    ['no descriptor', '42', undefined],
    ['two digits', '42:10', undefined],
    ['a leading zero', '042:9', undefined],
    ['empty', '', undefined],
  ])('%s', (_name, value, expected) => {
    expect(callerEnvFd(value === undefined ? {} : { [CALLER_ENV_ENV]: value }, 42)).toBe(expected);
  });
});

describe('parseCallerEnv', () => {
  test.each([
    ['names that are no shell names, IFS, OPTIND, PPID, a newline', whole('a-b=1', 'IFS=x', 'OPTIND=7', 'PPID=5', 'nl=two\nlines'), [['a-b', '1'], ['IFS', 'x'], ['OPTIND', '7'], ['PPID', '5'], ['nl', 'two\nlines']]],
    ['the first of a name, as Node takes it', whole('A=1', 'A=2'), [['A', '1']]],
    ['none without = or a name, as Node takes them', whole('lone', '=x', '', 'B='), [['B', '']]],
    ['= in a value', whole('X=a=b'), [['X', 'a=b']]],
    ['an empty environment', whole(), []],
    ['non-ASCII', whole('caf\u00e9=\u65e5'), [['caf\u00e9', '\u65e5']]],
  ])('%s', (_name, copy, expected) => {
    expect(parseCallerEnv(Buffer.from(copy), 9)).toEqual(expected);
  });

  test.each([
    ['nothing', ''],
    ['the here-document line alone (cat failed)', COPY_MARK],
    ['cut short inside an entry', `${COPY_MARK}A=1\0B=`],
    ['no closing line', `${COPY_MARK}A=1\0`],
    ['an entry not ended by NUL before the line', `${COPY_MARK}A=1${COPY_MARK}`],
    ['no opening line', `A=1\0${COPY_MARK}`],
  ])('incomplete: %s', (_name, copy) => {
    expect(() => parseCallerEnv(Buffer.from(copy), 9)).toThrow(new StepError(`the caller's environment, copied by bin/mountkit on descriptor 9, is incomplete (${Buffer.byteLength(copy)} bytes): cat /proc/PID/environ failed`));
  });
});

describe('takeCallerEnv', () => {
  test('reads the descriptor, closes it, and makes the environment the caller\'s', () => {
    const { port, calls } = fakePort(whole('a-b=1', 'IFS=x', 'PATH=/bin', 'nl=two\nlines'));
    const env: NodeJS.ProcessEnv = { [CALLER_ENV_ENV]: '42:9', IFS: ' \t\n', PWD: '/tmp', mountkit_given: ' line', PATH: '/bin' };
    takeCallerEnv(env, 42, port);
    expect(calls).toEqual([
      ['readAll', 9],
      ['close', 9],
    ]);
    expect(env).toEqual({ 'a-b': '1', IFS: 'x', PATH: '/bin', nl: 'two\nlines' });
    expect(Object.keys(env)).toEqual(['a-b', 'IFS', 'PATH', 'nl']);
  });

  test("the caller's own MOUNTKIT_CALLER_ENV is kept", () => {
    const { port } = fakePort(whole(`${CALLER_ENV_ENV}=theirs`));
    const env: NodeJS.ProcessEnv = { [CALLER_ENV_ENV]: '42:9' };
    takeCallerEnv(env, 42, port);
    expect(env).toEqual({ [CALLER_ENV_ENV]: 'theirs' });
  });

  test.each([
    ['absent', {}],
    ['for another process', { [CALLER_ENV_ENV]: '41:9', A: '1' }],
  ])('nothing is read when the variable is %s', (_name, given) => {
    const { port, calls } = fakePort(whole('B=2'));
    const env: NodeJS.ProcessEnv = { ...given };
    takeCallerEnv(env, 42, port);
    expect(calls).toEqual([]);
    expect(env).toEqual(given);
  });

  test('a read that fails is a SyscallError naming the descriptor; it is closed and the environment left as it was', () => {
    const { port, calls } = fakePort('', { readCode: 'EBADF' });
    const env: NodeJS.ProcessEnv = { [CALLER_ENV_ENV]: '42:9', A: '1' };
    let thrown: unknown;
    try {
      takeCallerEnv(env, 42, port);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SyscallError);
    expect((thrown as Error).message).toBe(`read "/proc/self/fd/9": EBADF (the caller's environment, copied by bin/mountkit)`);
    expect(calls).toEqual([
      ['readAll', 9],
      ['close', 9],
    ]);
    expect(env).toEqual({ [CALLER_ENV_ENV]: '42:9', A: '1' });
  });

  test('an incomplete copy fails after the descriptor is closed, the environment left as it was', () => {
    const { port, calls } = fakePort(COPY_MARK);
    const env: NodeJS.ProcessEnv = { [CALLER_ENV_ENV]: '42:9', A: '1' };
    expect(() => takeCallerEnv(env, 42, port)).toThrow(StepError);
    expect(calls).toEqual([
      ['readAll', 9],
      ['close', 9],
    ]);
    expect(env).toEqual({ [CALLER_ENV_ENV]: '42:9', A: '1' });
  });

  test('a close that fails changes nothing', () => {
    const { port, calls } = fakePort(whole('B=2'), { closeCode: 'EBADF' });
    const env: NodeJS.ProcessEnv = { [CALLER_ENV_ENV]: '42:9' };
    takeCallerEnv(env, 42, port);
    expect(calls).toEqual([
      ['readAll', 9],
      ['close', 9],
    ]);
    expect(env).toEqual({ B: '2' });
  });
});
