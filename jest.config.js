/** Unit tests run everywhere; integration tests need root and unshare(1). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  // Example plugins import the package by name, as a third-party plugin does; tests run them on the sources.
  moduleNameMapper: { '^mountkit$': '<rootDir>/src/index.ts', '^mountkit/testing$': '<rootDir>/src/testing/index.ts' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  globalSetup: '<rootDir>/test/helpers/host-mounts-setup.js',
  globalTeardown: '<rootDir>/test/helpers/host-mounts-teardown.js',
};
