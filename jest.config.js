/**
 * Real servers back most suites, so tests run one file per worker and get generous timeouts.
 * The cluster engine's chaos scenarios (test/chaos-cluster) start a whole cluster each and run for
 * minutes: they are their own run, `npm run test:chaos:cluster`, not part of `npm test`.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/chaos-cluster/'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  setupFilesAfterEnv: ['<rootDir>/test/support/setup.ts'],
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/support/sequencer.js',
  testTimeout: 60_000,
  verbose: true,
};
