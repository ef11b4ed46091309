/**
 * The layers, enforced (`npm run lint`): the self-contained client package (packages/client: workflow
 * messages, search attributes, payload codec) under everything, then lib/, then db/, then activities/; workflows/
 * see activities and lib as types only; api/ never loads a vendor connector or SDK; production
 * code never loads development tooling, emulators, scripts or tests. Paths are relative to the
 * folder cruised (the repository root, or a test's scratch tree).
 */
const PRODUCTION = '^(lib|db|activities|workflows|api|workers|packages)/';
const VENDOR_SDKS = [
  '@octokit',
  '@microsoft',
  '@azure',
  'jira\\.js',
  '@slack',
  'googleapis',
  '@googleapis',
  '@aps_sdk',
  '@procore',
  '@sap-cloud-sdk',
  'openid-client',
  '@node-saml',
];

/** @type {import('dependency-cruiser').IForbiddenRuleType[]} */
const forbidden = [
  {
    name: 'lib-is-the-ground-floor',
    comment: 'lib/ imports nothing of ours above it.',
    severity: 'error',
    from: { path: '^lib/' },
    to: { path: '^(db|activities|workflows|api|workers|emulators|dev|scripts|test)/' },
  },
  {
    name: 'db-imports-only-lib',
    comment: 'db/ imports lib/, packages and Node built-ins only.',
    severity: 'error',
    from: { path: '^db/' },
    to: { pathNot: '^(db|lib)/|(^|/)node_modules/', dependencyTypesNot: ['core'] },
  },
  {
    name: 'activities-import-only-db-and-lib',
    comment: 'activities/ imports db/, lib/, the client package, packages and Node built-ins only.',
    severity: 'error',
    from: { path: '^activities/' },
    to: { pathNot: '^(activities|db|lib|packages/client/src)/|(^|/)node_modules/', dependencyTypesNot: ['core'] },
  },
  {
    name: 'workflows-import-types-only',
    comment:
      'Workflow code is deterministic and bundled for the sandbox: outside workflows/ it loads only ' +
      '@temporalio/workflow, @temporalio/common, lib/scopes.ts (the T1 rule: pure, import-free) and the ' +
      "client package's workflow-safe definitions and search attributes; activities and the rest of lib " +
      'are imported as types.',
    severity: 'error',
    from: { path: '^workflows/' },
    to: {
      pathNot: [
        '^workflows/',
        '^lib/scopes[.]ts$',
        '^packages/client/src/(definitions|searchAttributes|priority)[.]ts$',
        '(^|/)node_modules/@temporalio/(workflow|common)/',
      ],
      dependencyTypesNot: ['type-only'],
    },
  },
  {
    name: 'workflows-see-activities-and-lib-only',
    comment: 'Even as types, workflows/ knows activities/, lib/ and the client package only.',
    severity: 'error',
    from: { path: '^workflows/' },
    to: {
      pathNot: '^(workflows|activities|lib|packages/client/src)/|(^|/)node_modules/',
      dependencyTypesNot: ['core'],
    },
  },
  {
    name: 'client-package-is-self-contained',
    comment:
      'packages/client is published to backend services: it imports its own modules, packages and Node ' +
      'built-ins only, never a path of the service.',
    severity: 'error',
    from: { path: '^packages/client/' },
    to: { pathNot: '^packages/client/|(^|/)node_modules/', dependencyTypesNot: ['core'] },
  },
  {
    name: 'examples-use-the-client-package',
    comment: 'The example backend service reaches the service through the client package only, as a real one would.',
    severity: 'error',
    from: { path: '^examples/' },
    to: { pathNot: '^(examples|packages/client/src)/|(^|/)node_modules/', dependencyTypesNot: ['core'] },
  },
  {
    name: 'api-no-vendor-connectors',
    comment:
      'api/ never loads a vendor connector, client or error mapping (they load the vendor SDKs and run in the ' +
      "worker), nor a vendor folder's index, which re-exports them.",
    severity: 'error',
    from: { path: '^api/' },
    to: { path: '^activities/vendors/[^/]+/(index|connector|client|errors)(\\.ts$|/)' },
  },
  {
    name: 'api-no-vendor-sdk',
    comment: 'api/ never loads a vendor SDK.',
    severity: 'error',
    from: { path: '^api/' },
    to: { path: `(^|/)node_modules/(${VENDOR_SDKS.join('|')})(/|$)` },
  },
  {
    name: 'production-no-development-code',
    comment: 'Production code never loads emulators, development tooling, scripts or tests.',
    severity: 'error',
    from: { path: PRODUCTION },
    to: { path: '^(emulators|dev|scripts|test)/' },
  },
  {
    name: 'scripts-no-tests',
    comment: 'scripts/ share helpers through dev/, not test/.',
    severity: 'error',
    from: { path: '^scripts/' },
    to: { path: '^test/' },
  },
  {
    name: 'production-no-cycles',
    comment: 'No circular dependencies in production code.',
    severity: 'error',
    from: { path: PRODUCTION },
    to: { circular: true },
  },
];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden,
  options: {
    doNotFollow: { path: '(^|/)node_modules/' },
    // node_modules may be a symlink (a shared install): keep its paths as `node_modules/…`.
    preserveSymlinks: true,
    exclude: { path: '^(\\.tools|\\.data|coverage|bench-results|reports|test/fixtures)/' },
    // Keeps `import type` in the graph (marked `type-only`) so the workflow rule can tell types from values.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
