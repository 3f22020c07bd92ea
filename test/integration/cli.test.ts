import { readFileSync } from 'fs';
import * as path from 'path';
import { REPO, runCli } from '../helpers/cli';

describe('mountkit CLI', () => {
  test('--help lists the commands and exits 0', () => {
    const r = runCli(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: mountkit \[options\] COMMAND/);
    expect(r.stderr).toBe('');
  });

  test('--version prints the package version', () => {
    const { version } = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'));
    expect(runCli(['--version'])).toEqual({ status: 0, stdout: `mountkit ${version}\n`, stderr: '' });
  });

  test('a bad option is one line on stderr and exit status 2', () => {
    const r = runCli(['--log-level', 'loud', 'run']);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe('mountkit: --log-level "loud": must be one of error, warn, info, debug\n');
  });
});
