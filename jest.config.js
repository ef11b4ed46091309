
/**
 * One Temporal dev server, one time-skipping test server and one Postgres per run (global setup);
 * workflows bundled once. Test files run one at a time: the time-skipping server's clock is global,
 * and the machine has two cores that the servers already use.
 */
const ESM_ONLY = ['@octokit', 'universal-user-agent', 'universal-github-app-jwt', 'before-after-hook', 'jose', 'content-type', 'fast-content-type-parse', 'toad-cache', 'bottleneck'];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  maxWorkers: 1,
  testTimeout: 60_000,
  slowTestThreshold: 20,
};
