import { constants as fsConstants } from 'fs';
import * as k from '../../src/core/constants';

describe('open(2) flags are those of the platform Node runs on', () => {
  test.each(['O_RDONLY', 'O_WRONLY', 'O_RDWR', 'O_CREAT', 'O_EXCL', 'O_NOCTTY', 'O_TRUNC', 'O_APPEND', 'O_NONBLOCK', 'O_DIRECTORY', 'O_NOFOLLOW'] as const)('%s', (name) => {
    expect(k[name]).toBe(fsConstants[name]);
  });

  test('arm64 has its own O_DIRECTORY and O_NOFOLLOW; x86_64 the generic ones', () => {
    const expected = { x64: [0o200000, 0o400000], arm64: [0o40000, 0o100000] } as Record<string, [number, number]>;
    const values = expected[process.arch];
    if (values) expect([k.O_DIRECTORY, k.O_NOFOLLOW]).toEqual(values);
    expect(k.O_DIRECTORY & k.O_NOFOLLOW).toBe(0);
  });
});
