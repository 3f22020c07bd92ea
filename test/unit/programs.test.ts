import { envRecord, programInPath } from '../../src/core/programs';

describe('programInPath: a program found as execvp(3) finds it', () => {
  const files = new Set(['/usr/bin/newuidmap', '/bin/newuidmap', './tool', '/opt/x/tool']);
  const executable = (file: string) => files.has(file);
  test.each<[string | undefined, string, string | undefined]>([
    ['/usr/local/bin:/usr/bin:/bin', 'newuidmap', '/usr/bin/newuidmap'],
    ['/bin:/usr/bin', 'newuidmap', '/bin/newuidmap'],
    ['/usr/local/bin', 'newuidmap', undefined],
    [undefined, 'newuidmap', undefined],
    // An empty or relative entry is the current directory, or under it: skipped, as Go's LookPath skips it.
    ['', 'tool', undefined],
    ['/usr/bin::/opt/x', 'tool', '/opt/x/tool'],
    ['.:bin:/opt/x', 'tool', '/opt/x/tool'],
    ['/usr/bin', '/opt/x/tool', '/opt/x/tool'],
    ['/opt/x', '/usr/local/tool', undefined],
  ])('PATH %j, %s -> %s', (pathVar, name, expected) => expect(programInPath(name, pathVar, executable)).toBe(expected));
});

describe('envRecord', () => {
  test.each<[string[], Record<string, string>]>([
    [['A=1', 'B=x=y'], { A: '1', B: 'x=y' }],
    [['EMPTY=', 'BARE'], { EMPTY: '', BARE: '' }],
    [[], {}],
    // An empty entry is none (Go's os/exec drops it); an empty name with a value is kept.
    [['', 'A=1', ''], { A: '1' }],
    [['=x'], { '': 'x' }],
  ])('%j', (list, env) => expect(envRecord(list)).toEqual(env));
});
