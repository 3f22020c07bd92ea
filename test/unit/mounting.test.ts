import { isDevDestination } from '../../src/core/mounting';

describe('isDevDestination', () => {
  test.each([
    ['/dev', true],
    ['/dev/', true],
    ['//dev', true],
    ['/./dev/.', true],
    ['/x/../dev', true],
    ['/../dev', true],
    ['dev', true],
    ['/dev/shm', false],
    ['/devices', false],
    ['/x/dev', false],
    ['/dev/..', false],
    ['/', false],
    ['/tmp', false],
  ])('%j -> %s', (destination, expected) => {
    expect(isDevDestination(destination)).toBe(expected);
  });
});
