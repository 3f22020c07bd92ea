/** Unit tests run everywhere; integration tests need root and unshare(1). */
module.exports = {
  testEnvironment: 'node',
  // A test's time limit guards against a hang, not a slow machine: jest's default of 5 s
  // failed asynchronous runs of the launcher on a loaded 2-core machine. Speed is the
  // benchmarks' to measure (bench/), never a test's.
  testTimeout: 60_000,
  roots: ['<rootDir>/test', '<rootDir>/examples'],
  testMatch: ['**/*.test.ts'],
  // Example plugins import the package by name, as a third-party plugin does; tests run them on the sources.
  moduleNameMapper: { '^mountkit$': '<rootDir>/src/index.ts', '^mountkit/testing$': '<rootDir>/src/testing/index.ts' },
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: { warnOnly: false } }] },
  globalSetup: '<rootDir>/test/helpers/host-mounts-setup.js',
  globalTeardown: '<rootDir>/test/helpers/host-mounts-teardown.js',
  setupFilesAfterEnv: ['<rootDir>/test/helpers/host-devices-each.js'],
};
