/** Unit tests run everywhere; integration tests need root and unshare(1). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  globalSetup: '<rootDir>/test/helpers/host-mounts-setup.js',
  globalTeardown: '<rootDir>/test/helpers/host-mounts-teardown.js',
};
