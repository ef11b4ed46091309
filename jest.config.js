/**
 * One Temporal dev server, one time-skipping test server and one Postgres per run (global setup);
 * workflows bundled once. Test files run one at a time: the time-skipping server's clock is global,
 * and the machine has two cores that the servers already use.
 */
const fs = require('node:fs');
const path = require('node:path');

/**
 * Packages that ship ESM only (Node's `require(esm)` is not available inside Jest's module
 * system): found by scanning node_modules once, so a new dependency needs no config change.
 */
function esmOnlyPackages(root = path.join(__dirname, 'node_modules')) {
  const names = new Set();
  const visit = (dir, scope) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (!scope && entry.name.startsWith('@')) {
        visit(full, entry.name);
        continue;
      }
      const manifest = path.join(full, 'package.json');
      if (fs.existsSync(manifest)) {
        const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8'));
        const exportsRequire = pkg.exports && JSON.stringify(pkg.exports).includes('"require"');
        const mjsMain = typeof pkg.main === 'string' && pkg.main.endsWith('.mjs');
        if (
          (pkg.type === 'module' && !exportsRequire) ||
          mjsMain ||
          (pkg.exports && !exportsRequire && JSON.stringify(pkg.exports).includes('.mjs'))
        ) {
          names.add(scope ? `${scope}/${entry.name}` : entry.name);
        }
      }
      const nested = path.join(full, 'node_modules');
      if (fs.existsSync(nested)) visit(nested);
    }
  };
  visit(root);
  return [...names].map((name) => name.replace(/[.+]/g, '\\$&'));
}
/** Every node_modules folder Node resolves this project's packages from (the project's own first, then its parents'). */
const ESM_ONLY = [...new Set(module.paths.filter((dir) => fs.existsSync(dir)).flatMap((dir) => esmOnlyPackages(dir)))];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  // The workspace package from its sources, as tsconfig `paths` and the workflow bundler resolve it.
  moduleNameMapper: {
    '^@trackproject/integrations-client$': '<rootDir>/packages/client/src/index.ts',
    '^@trackproject/integrations-client/(.*)$': '<rootDir>/packages/client/src/$1',
  },
  globalSetup: '<rootDir>/test/support/globalSetup.ts',
  globalTeardown: '<rootDir>/test/support/globalTeardown.ts',
  setupFiles: ['<rootDir>/test/support/env.ts'],
  maxWorkers: 1,
  testTimeout: 60_000,
  slowTestThreshold: 20,
  reporters: ['default', '<rootDir>/test/support/trustReporter.js'],
};
